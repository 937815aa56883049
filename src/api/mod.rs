//! The HTTP API under `/api/v1`: one module per resource. Handlers are thin: parse into domain types, check
//! scope, call the store, shape the response.

pub mod alias_proposals;
pub mod assessments;
pub mod audit;
pub mod budgets;
pub mod catalog;
pub mod contracts;
pub mod council;
pub mod departments;
pub mod document;
pub mod duplicates;
pub mod incidents;
pub mod input;
pub mod invitations;
pub mod me;
pub mod notifications;
pub mod orders;
pub mod policy;
pub mod problems;
pub mod products;
pub mod profiles;
pub mod reports;
pub mod requests;
pub mod safeguards;
pub mod serialized;
pub mod surveillance;
pub mod vendors;
pub mod vocabulary;
pub mod workbooks;

use crate::domain::problems::ProblemCode;
use poem_openapi::Object;

use crate::auth::{Auth, Permission};
use crate::error::ApiError;
use crate::store::Actor;

pub const PREFIX: &str = "/api/v1";

/// Declares the APIs once: the type the OpenAPI service is built on and the value of it.
///
/// The APIs are nested in pairs, `(A, (B, (C, ...)))`: poem-openapi implements `OpenApi` for tuples of at most
/// sixteen, and for a pair of anything that implements it, so the list can grow past sixteen in one place.
macro_rules! apis {
    (@type $last:path) => { $last };
    (@type $first:path, $($rest:path),+) => { ($first, apis!(@type $($rest),+)) };
    (@value $last:path) => { $last };
    (@value $first:path, $($rest:path),+) => { ($first, apis!(@value $($rest),+)) };
    ($($api:path),+ $(,)?) => {
        /// Every API of the service, in the order the documentation lists them.
        pub type Apis = apis!(@type $($api),+);

        /// All operations, for the OpenAPI service.
        pub fn apis() -> Apis {
            apis!(@value $($api),+)
        }
    };
}

apis!(
    me::MeApi,
    departments::DepartmentsApi,
    vendors::VendorsApi,
    products::ProductsApi,
    requests::RequestsApi,
    council::CouncilApi,
    duplicates::DuplicatesApi,
    catalog::CatalogApi,
    vocabulary::VocabularyApi,
    alias_proposals::AliasProposalsApi,
    invitations::InvitationsApi,
    assessments::QuestionnairesApi,
    assessments::AssessmentsApi,
    assessments::EvidenceApi,
    assessments::ReviewsApi,
    assessments::FindingsApi,
    workbooks::Imports,
    reports::ReportsApi,
    policy::PolicyApi,
    audit::AuditApi,
    safeguards::SafeguardsApi,
    contracts::ContractsApi,
    incidents::IncidentsApi,
    orders::OrdersApi,
    notifications::NotificationsApi,
    budgets::BudgetsApi,
    surveillance::SurveillanceApi,
    surveillance::PublicApi,
);

impl<P: Permission> Auth<P> {
    /// The caller as the workflow's planners see it: every role the token carries, and the department.
    pub fn caller(&self) -> crate::workflow::Caller {
        crate::workflow::Caller::new(
            &self.principal.subject,
            self.principal.roles.clone(),
            self.principal.department.clone(),
        )
    }

    /// The audit identity of this caller for the current request.
    pub fn actor(&self) -> Actor {
        Actor {
            subject: self.principal.subject.clone(),
            role: self.role.as_str().to_string(),
            request_id: crate::telemetry::current_request_id(),
            invitation: self.principal.grant.clone(),
        }
    }
}

/// An ETag for an object version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Reads `If-Match`: `"3"` or `W/"3"` (and `*`, meaning any version).
pub fn parse_if_match(value: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = value.map(str::trim) else {
        return Ok(None);
    };
    if raw == "*" {
        return Ok(None);
    }
    let bare = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        ApiError::new(
            poem::http::StatusCode::PRECONDITION_FAILED,
            ProblemCode::StaleEtag,
            format!("If-Match {raw} is not an ETag this service issued"),
        )
    })
}

/// Reads the `If-Match` a change of a versioned object must carry: 428 without one, 412 for one this service
/// never issued. `*` is refused too: it would let a client skip the check it exists for.
pub fn require_if_match(value: Option<&str>) -> Result<i64, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Err(ApiError::precondition_required()),
        Some("*") => Err(ApiError::new(
            poem::http::StatusCode::PRECONDITION_FAILED,
            ProblemCode::StaleEtag,
            "If-Match * is not accepted here: send the ETag of the version you read",
        )),
        Some(raw) => Ok(parse_if_match(Some(raw))?.expect("a value other than * names a version")),
    }
}

/// A `Content-Disposition` for a download named `name` (RFC 6266): `filename="..."` alone for a plain ASCII
/// name; otherwise an ASCII fallback (each other character as `_`) and the real name as
/// `filename*=UTF-8''...`, percent-encoded.
pub fn attachment(name: &str) -> String {
    let plain = |c: char| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\';
    if name.chars().all(plain) {
        return format!("attachment; filename=\"{name}\"");
    }
    let fallback: String = name
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        // RFC 8187 attr-char: sent as is; everything else percent-encoded.
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The `If-Match` header of a change to a versioned object, documented as required. A request without it is
/// answered 428 by [`IfMatch::version`] (through [`require_if_match`]), not 400 by the framework: the client is
/// told to read the object's ETag, and nothing changes.
#[derive(Debug, Clone)]
pub struct IfMatch(Option<String>);

impl IfMatch {
    /// The version the caller read: 428 without `If-Match`, 412 for a value this service never issued.
    pub fn version(&self) -> Result<i64, ApiError> {
        require_if_match(self.0.as_deref())
    }
}

impl poem_openapi::types::Type for IfMatch {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> std::borrow::Cow<'static, str> {
        "IfMatch".into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        <String as poem_openapi::types::Type>::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&String> {
        self.0.as_ref()
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.0.iter())
    }
}

impl poem_openapi::types::ParseFromParameter for IfMatch {
    fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
        Ok(IfMatch(Some(value.to_string())))
    }

    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        iter: I,
    ) -> poem_openapi::types::ParseResult<Self> {
        Ok(IfMatch(
            iter.into_iter().next().map(|v| v.as_ref().to_string()),
        ))
    }
}

/// Where a list's `cursor` says the page starts (`decode` reads the list's kind of cursor): refused beside a
/// non-zero `offset`, or when it is not a `next_cursor` this service handed out.
pub fn parse_cursor<T>(
    cursor: Option<&str>,
    page: &crate::domain::PageRequest,
    decode: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    let Some(token) = cursor else {
        return Ok(None);
    };
    if page.offset != 0 {
        return Err(ApiError::field(
            "offset",
            "give either `cursor` or `offset`, not both",
        ));
    }
    decode(token)
        .map(Some)
        .ok_or_else(|| ApiError::field("cursor", "is not a `next_cursor` this service handed out"))
}

/// Page metadata returned with every list.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct PageInfo {
    /// Matches in all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// Offset of the next page, absent on the last one (and when the page was asked for by `cursor`).
    pub next_offset: Option<i64>,
    /// Where the next page starts, for lists that page by keyset (give it as `cursor`); absent on the last
    /// page and on lists that page by offset only.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl PageInfo {
    /// The page's metadata when it was asked for by `cursor` (`by_cursor`) or by offset; `next_cursor` is where
    /// the following page starts, if there is one.
    pub fn keyset(
        total: i64,
        page: crate::domain::PageRequest,
        returned: usize,
        by_cursor: bool,
        next_cursor: Option<String>,
    ) -> PageInfo {
        let mut info = PageInfo::new(total, page, returned);
        info.next_cursor = next_cursor;
        if by_cursor {
            info.next_offset = None;
        }
        info
    }

    pub fn new(total: i64, page: crate::domain::PageRequest, returned: usize) -> PageInfo {
        let next = page.offset + returned as i64;
        PageInfo {
            total,
            limit: page.limit,
            offset: page.offset,
            next_offset: (next < total && returned > 0).then_some(next),
            next_cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text_forms::tests::openapi_agrees;

    #[test]
    fn query_filters_take_the_published_forms_as_stored() {
        openapi_agrees::<notifications::DeliveryStatus>();
        openapi_agrees::<notifications::DeliveryChannel>();
        openapi_agrees::<alias_proposals::AliasProposalStatus>();
    }

    #[test]
    fn a_plain_ascii_name_is_sent_as_is_and_any_other_with_an_rfc_6266_filename_star() {
        assert_eq!(
            attachment("soc2-report.pdf"),
            "attachment; filename=\"soc2-report.pdf\""
        );
        assert_eq!(
            attachment("Prüfbericht 2026.pdf"),
            "attachment; filename=\"Pr_fbericht 2026.pdf\"; \
             filename*=UTF-8''Pr%C3%BCfbericht%202026.pdf"
        );
        assert_eq!(
            attachment("報告.pdf"),
            "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf"
        );
        // Every byte of the header is visible ASCII (no raw UTF-8 in a header value).
        assert!(
            attachment("ünïcødé")
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b))
        );
    }

    #[test]
    fn if_match_accepts_strong_weak_and_star() {
        assert_eq!(parse_if_match(Some("\"3\"")).unwrap(), Some(3));
        assert_eq!(parse_if_match(Some("W/\"4\"")).unwrap(), Some(4));
        assert_eq!(parse_if_match(Some("*")).unwrap(), None);
        assert_eq!(parse_if_match(None).unwrap(), None);
        assert_eq!(
            parse_if_match(Some("abc")).unwrap_err().status().as_u16(),
            412
        );
    }

    #[test]
    fn the_if_match_header_is_documented_as_required_yet_read_when_missing() {
        use poem_openapi::types::{ParseFromParameter, Type};
        const { assert!(<IfMatch as Type>::IS_REQUIRED) };
        let missing = IfMatch::parse_from_parameters(Vec::<&str>::new()).unwrap();
        assert_eq!(missing.version().unwrap_err().status().as_u16(), 428);
        let given = IfMatch::parse_from_parameters(["W/\"5\""]).unwrap();
        assert_eq!(given.version().unwrap(), 5);
    }

    #[test]
    fn a_required_if_match_answers_428_when_missing_and_412_for_a_star() {
        assert_eq!(require_if_match(Some("\"7\"")).unwrap(), 7);
        assert_eq!(require_if_match(None).unwrap_err().status().as_u16(), 428);
        assert_eq!(
            require_if_match(Some(" ")).unwrap_err().status().as_u16(),
            428
        );
        assert_eq!(
            require_if_match(Some("*")).unwrap_err().status().as_u16(),
            412
        );
    }
}

/// A spreadsheet or CSV upload. The content type is only a hint: the bytes decide what the file is.
#[derive(poem_openapi::ApiRequest)]
pub enum SpreadsheetUpload {
    #[oai(content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    Xlsx(poem_openapi::payload::Binary<Vec<u8>>),
    #[oai(content_type = "application/vnd.ms-excel.sheet.macroEnabled.12")]
    Xlsm(poem_openapi::payload::Binary<Vec<u8>>),
    #[oai(content_type = "application/vnd.ms-excel")]
    Xls(poem_openapi::payload::Binary<Vec<u8>>),
    #[oai(content_type = "application/vnd.oasis.opendocument.spreadsheet")]
    Ods(poem_openapi::payload::Binary<Vec<u8>>),
    #[oai(content_type = "text/csv")]
    Csv(poem_openapi::payload::Binary<Vec<u8>>),
    #[oai(content_type = "application/octet-stream")]
    Bytes(poem_openapi::payload::Binary<Vec<u8>>),
}

impl SpreadsheetUpload {
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            SpreadsheetUpload::Xlsx(b)
            | SpreadsheetUpload::Xlsm(b)
            | SpreadsheetUpload::Xls(b)
            | SpreadsheetUpload::Ods(b)
            | SpreadsheetUpload::Csv(b)
            | SpreadsheetUpload::Bytes(b) => b.0,
        }
    }
}

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Runs CPU-bound spreadsheet work off the async workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("spreadsheet work failed: {e}")))?
}
