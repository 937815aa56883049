//! The HTTP API under `/api/v1`: one module per resource. Handlers are thin: parse into domain types, check
//! scope, call the store, shape the response.

pub mod assessments;
pub mod audit;
pub mod catalog;
pub mod contracts;
pub mod departments;
pub mod duplicates;
pub mod input;
pub mod invitations;
pub mod me;
pub mod notifications;
pub mod policy;
pub mod reports;
pub mod requests;
pub mod safeguards;
pub mod vendors;
pub mod workbooks;

use poem_openapi::Object;

use crate::auth::{Auth, Permission};
use crate::error::ApiError;
use crate::store::Actor;

pub const PREFIX: &str = "/api/v1";

/// All operations, for the OpenAPI service.
pub fn apis() -> crate::startup::Apis {
    (
        me::MeApi,
        departments::DepartmentsApi,
        vendors::VendorsApi,
        requests::RequestsApi,
        duplicates::DuplicatesApi,
        catalog::CatalogApi,
        invitations::InvitationsApi,
        assessments::AssessmentsApi,
        workbooks::WorkbooksApi,
        reports::ReportsApi,
        policy::PolicyApi,
        audit::AuditApi,
        safeguards::SafeguardsApi,
        contracts::ContractsApi,
        notifications::NotificationsApi,
    )
}

impl<P: Permission> Auth<P> {
    /// The audit identity of this caller for the current request.
    pub fn actor(&self) -> Actor {
        Actor {
            subject: self.principal.subject.clone(),
            role: self.role.as_str().to_string(),
            request_id: crate::telemetry::current_request_id(),
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
            "stale_etag",
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
            "stale_etag",
            "If-Match * is not accepted here: send the ETag of the version you read",
        )),
        Some(raw) => Ok(parse_if_match(Some(raw))?.expect("a value other than * names a version")),
    }
}

/// Page metadata returned with every list.
#[derive(Debug, Clone, Object)]
pub struct PageInfo {
    /// Matches in all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// Offset of the next page, absent on the last one.
    pub next_offset: Option<i64>,
}

impl PageInfo {
    pub fn new(total: i64, page: crate::domain::PageRequest, returned: usize) -> PageInfo {
        let next = page.offset + returned as i64;
        PageInfo {
            total,
            limit: page.limit,
            offset: page.offset,
            next_offset: (next < total && returned > 0).then_some(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
