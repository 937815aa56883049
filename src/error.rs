//! One error type for the whole HTTP surface, answered as `application/problem+json` (RFC 9457).
//!
//! When to use what:
//! - A handler returns `Result<_, ApiError>`. Expected outcomes that are part of an operation's contract
//!   (201 Created, 304, ...) are variants of that operation's response enum instead.
//! - `ApiError::validation` for input that parsed but is wrong: it names every field at fault (422).
//! - `ApiError::not_found` for an object that does not exist *or lies outside the caller's scope*: a vendor must
//!   not learn that another vendor's objects exist.
//! - Storage and other internal failures become `ApiError::Internal`: the cause is logged with the request id and
//!   the client sees a bland message.
//! - Errors that poem and poem-openapi raise themselves (bad JSON, bad path value, unknown route, wrong method,
//!   oversized body, missing auth) are converted by [`problem_from_poem_error`] in the outermost middleware, so
//!   that every error a client sees has the same shape.
//! - Input that does not fit the published schema (unknown field, wrong JSON type, a value that does not parse,
//!   control characters) never reaches a handler: the gate in [`crate::api::input`] answers it, 422 naming the
//!   field by its JSON path, or 400 `bad_parameter` naming a parameter the framework could not read.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object, types::Type};
use serde::Serialize;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

pub use crate::domain::invalid::{FieldError, Invalid};
pub use crate::domain::problems::ProblemCode;

/// 415 for what is not a workbook, 413 for what is too large to read, 422 otherwise (an encrypted workbook):
/// each code's own status.
impl From<crate::sheets::limits::Refusal> for ApiError {
    fn from(r: crate::sheets::limits::Refusal) -> Self {
        ApiError::new(status_of(r.code), r.code, r.message)
    }
}

/// The domain's refusal of an input is a 422 naming each field.
impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::validation(invalid.0)
    }
}

/// An RFC 9457 problem document. `code` is stable and machine-readable; `title` and `detail` are for people.
#[derive(Debug, Clone, Serialize, Object)]
#[oai(rename = "Problem")]
pub struct Problem {
    /// A URI naming the kind of problem (`tag:procurement-review,2026:problem/<code>`).
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `stale_etag`.
    pub code: ProblemCode,
    /// The request id (also sent as `X-Request-Id`), to quote when reporting a problem.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// For validation problems: every field or cell at fault.
    #[oai(skip_serializing_if_is_empty, default)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For state conflicts: the transitions or values that would have been allowed.
    #[oai(skip_serializing_if_is_empty, default)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Problem {
        status: StatusCode,
        code: ProblemCode,
        detail: String,
        errors: Vec<FieldError>,
        allowed: Vec<String>,
        /// Seconds after which the same request may succeed, sent as `Retry-After` (503 when busy).
        retry_after_seconds: Option<u64>,
    },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        debug_assert!(
            code == ProblemCode::RequestFailed || status_of(code) == status,
            "{code} is answered with {}, not {status}",
            status_of(code)
        );
        ApiError::Problem {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            allowed: Vec::new(),
            retry_after_seconds: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        ApiError::Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: ProblemCode::ValidationFailed,
            detail,
            errors,
            allowed: Vec::new(),
            retry_after_seconds: None,
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    /// 400 for a query or path parameter the framework could not read as its type (not a UUID, not a
    /// number): the request is malformed rather than invalid, but still names the parameter.
    pub fn bad_parameter(name: impl Into<String>, message: impl Into<String>) -> Self {
        let (name, message) = (name.into(), message.into());
        ApiError::Problem {
            status: StatusCode::BAD_REQUEST,
            code: ProblemCode::BadParameter,
            detail: format!("{name}: {message}"),
            errors: vec![FieldError::new(name, message)],
            allowed: Vec::new(),
            retry_after_seconds: None,
        }
    }

    /// 400 for a request that cannot be acted on as sent (not a field's fault: a sign-in callback that matches no
    /// attempt, say).
    pub fn bad_request(code: ProblemCode, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ProblemCode::NotFound,
            format!("{what} not found"),
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ProblemCode::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ProblemCode::Forbidden, detail)
    }

    pub fn conflict(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn stale(current_etag: &str) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            ProblemCode::StaleEtag,
            format!("the object has changed since it was read; its current ETag is {current_etag}"),
        )
    }

    /// 409 for a write that a database constraint refused: a duplicate key, or a concurrent change that got
    /// there first. This is the store's only conflict; a rule that refuses a command belongs to a planner in
    /// `crate::workflow`, which answers with a [`crate::workflow::Refusal`].
    pub fn constraint(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 428: a change of a versioned object came without `If-Match`.
    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            ProblemCode::PreconditionRequired,
            "send If-Match with the ETag of the version you read (GET the object for its ETag)",
        )
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Problem { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> ProblemCode {
        match self {
            ApiError::Problem { code, .. } => *code,
            ApiError::Internal(_) => ProblemCode::InternalError,
        }
    }

    /// The problem document a client sees. Internal causes never leave the process.
    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let (detail, errors, allowed) = match self {
            ApiError::Problem {
                detail,
                errors,
                allowed,
                ..
            } => (Some(detail.clone()), errors.clone(), allowed.clone()),
            ApiError::Internal(_) => (
                Some("the service failed to handle this request; it has been logged".to_string()),
                Vec::new(),
                Vec::new(),
            ),
        };
        Problem {
            type_: format!(
                "tag:procurement-review,2026:problem/{}",
                self.code().as_str()
            ),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            code: self.code(),
            request_id: crate::telemetry::current_request_id(),
            errors,
            allowed,
        }
    }

    pub fn with_allowed(mut self, values: Vec<String>) -> Self {
        if let ApiError::Problem { allowed, .. } = &mut self {
            *allowed = values;
        }
        self
    }

    /// Tells the client, in a `Retry-After` header, how many seconds to wait before sending the request again.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        if let ApiError::Problem {
            retry_after_seconds,
            ..
        } = &mut self
        {
            *retry_after_seconds = Some(seconds);
        }
        self
    }

    /// The problem document as a response, with its `Retry-After` when it has one; internal causes are logged.
    fn response(&self) -> Response {
        let retry_after = match self {
            ApiError::Problem {
                retry_after_seconds,
                ..
            } => *retry_after_seconds,
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                None
            }
        };
        let mut response = problem_response(&self.to_problem());
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(poem::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<crate::workflow::Refusal> for ApiError {
    fn from(refusal: crate::workflow::Refusal) -> Self {
        use crate::workflow::Refusal;
        match refusal {
            Refusal::Conflict {
                code,
                detail,
                allowed,
            } => ApiError::conflict(code, detail).with_allowed(allowed),
            Refusal::Forbidden { code, detail } => {
                ApiError::new(StatusCode::FORBIDDEN, code, detail)
            }
            Refusal::Invalid(faults) => ApiError::validation(
                faults
                    .into_iter()
                    .map(|f| FieldError::new(f.field, f.message))
                    .collect(),
            ),
            Refusal::NotFound(what) => ApiError::not_found(what),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::Internal(anyhow::Error::new(err))
    }
}

/// The status a problem with `code` is answered with. Each code has one, so that a client can rely on it and the
/// spec can list a response's codes under its status; `request_failed`, the framework's catch-all for a status
/// it raised without saying why, is listed under 400.
pub fn status_of(code: ProblemCode) -> StatusCode {
    match code {
        ProblemCode::BadBody
        | ProblemCode::BadParameter
        | ProblemCode::BadRequest
        | ProblemCode::OidcState => StatusCode::BAD_REQUEST,
        ProblemCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ProblemCode::Forbidden | ProblemCode::SeparationOfDuties => StatusCode::FORBIDDEN,
        ProblemCode::NotFound | ProblemCode::NoRoute => StatusCode::NOT_FOUND,
        ProblemCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ProblemCode::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
        ProblemCode::AlreadyConfirmed
        | ProblemCode::AlreadyDecided
        | ProblemCode::AlreadyDismissed
        | ProblemCode::AlreadyReviewed
        | ProblemCode::AlreadyRevoked
        | ProblemCode::AppealTooLate
        | ProblemCode::AppealUsed
        | ProblemCode::AssessmentCancelled
        | ProblemCode::AssessmentNotAccepted
        | ProblemCode::AssessmentNotEditable
        | ProblemCode::AssessmentNotSubmitted
        | ProblemCode::BudgetExists
        | ProblemCode::BudgetNotDraft
        | ProblemCode::BudgetNotSubmitted
        | ProblemCode::BudgetUnderReview
        | ProblemCode::ChangedDuringEdit
        | ProblemCode::ChangedDuringSubmission
        | ProblemCode::ConcurrentPublish
        | ProblemCode::ConfirmationNotRequired
        | ProblemCode::ContractCancelled
        | ProblemCode::ContractDecommissioned
        | ProblemCode::ContractNotStarted
        | ProblemCode::ContractStarted
        | ProblemCode::CouncilDocumentsMissing
        | ProblemCode::CouncilStepSettled
        | ProblemCode::DeliveryNotDead
        | ProblemCode::DuplicateContract
        | ProblemCode::DuplicateDepartment
        | ProblemCode::DuplicateProfile
        | ProblemCode::DuplicateService
        | ProblemCode::DuplicateVendor
        | ProblemCode::EvidenceOnHold
        | ProblemCode::EvidencePreserved
        | ProblemCode::ExceptionExists
        | ProblemCode::IncidentClosed
        | ProblemCode::IncidentState
        | ProblemCode::LineApproved
        | ProblemCode::LineInUse
        | ProblemCode::NoCouncilStep
        | ProblemCode::NoDecidedVersion
        | ProblemCode::NoDuplicateReview
        | ProblemCode::NoOpenException
        | ProblemCode::NoSafeguardsStep
        | ProblemCode::NotInReview
        | ProblemCode::NotRouted
        | ProblemCode::NoticesOutstanding
        | ProblemCode::OrderClosed
        | ProblemCode::OrderState
        | ProblemCode::OrderStatusBeforeAppealUnknown
        | ProblemCode::ProductExists
        | ProblemCode::ReportExists
        | ProblemCode::RequestClosed
        | ProblemCode::ReviewRequired
        | ProblemCode::StepNotInRoute
        | ProblemCode::TemplateNotLoaded
        | ProblemCode::TransitionNotAllowed => StatusCode::CONFLICT,
        ProblemCode::StaleEtag => StatusCode::PRECONDITION_FAILED,
        ProblemCode::BodyTooLarge
        | ProblemCode::FileTooLarge
        | ProblemCode::TooLargeUncompressed
        | ProblemCode::TooManyCells
        | ProblemCode::TooManyEntries => StatusCode::PAYLOAD_TOO_LARGE,
        ProblemCode::UnsupportedFile
        | ProblemCode::ContentTypeMismatch
        | ProblemCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ProblemCode::ValidationFailed
        | ProblemCode::EncryptedWorkbook
        | ProblemCode::XmlEntities
        | ProblemCode::FormatMismatch
        | ProblemCode::FormatNotFound
        | ProblemCode::UnsupportedFormatVersion
        | ProblemCode::ImportTooSlow => StatusCode::UNPROCESSABLE_ENTITY,
        ProblemCode::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
        ProblemCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        ProblemCode::ImportsBusy | ProblemCode::NotReady => StatusCode::SERVICE_UNAVAILABLE,
        ProblemCode::RequestFailed => StatusCode::BAD_REQUEST,
    }
}

pub fn problem_response(problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type(PROBLEM_CONTENT_TYPE)
        .body(body)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.response()
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        ApiError::status(self)
    }

    fn as_response(&self) -> Response {
        self.response()
    }
}

/// What each error status means, as the document says it.
pub(crate) const DOCUMENTED: &[(u16, &str)] = &[
    (400, "The request is malformed (bad JSON, bad parameter)."),
    (
        401,
        "The bearer token is missing, invalid, expired or revoked.",
    ),
    (403, "The caller's role may not perform this operation."),
    (
        404,
        "No such object, or it lies outside the caller's scope.",
    ),
    (
        409,
        "The object's state does not allow this; `allowed` lists what would be.",
    ),
    (
        408,
        "The request body did not arrive in full within the configured time; the connection is closed.",
    ),
    (412, "`If-Match` names an ETag that is no longer current."),
    (
        428,
        "`If-Match` is required: send the ETag of the version you read, so that a concurrent change is not lost.",
    ),
    (
        413,
        "The request body is larger than the configured limit, or an uploaded workbook would unpack to more \
         bytes or cells than the service reads.",
    ),
    (
        415,
        "The body's content type is not one this operation reads, or an upload's bytes are not a kind it accepts \
         (judged by content, not by name).",
    ),
    (
        422,
        "The input is invalid; `errors` names every field or cell at fault.",
    ),
    (
        500,
        "The service failed; quote `request_id` when reporting it.",
    ),
];

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(*status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_CONTENT_TYPE,
                        schema: Problem::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// Converts any error poem or poem-openapi raised into our problem document, naming the parameter or field
/// where the framework tells us which one it was.
pub fn problem_from_poem_error(err: poem::Error) -> ApiError {
    use poem_openapi::error as oai;

    if let Some(api) = err.downcast_ref::<ApiError>() {
        return match api {
            ApiError::Problem {
                status,
                code,
                detail,
                errors,
                allowed,
                retry_after_seconds,
            } => ApiError::Problem {
                status: *status,
                code: *code,
                detail: detail.clone(),
                errors: errors.clone(),
                allowed: allowed.clone(),
                retry_after_seconds: *retry_after_seconds,
            },
            ApiError::Internal(e) => ApiError::Internal(anyhow::anyhow!("{e:#}")),
        };
    }
    if let Some(e) = err.downcast_ref::<oai::ParseParamError>() {
        return ApiError::bad_parameter(e.name, e.reason.clone());
    }
    if let Some(e) = err.downcast_ref::<oai::ParsePathError>() {
        return ApiError::bad_parameter(e.name, e.reason.clone());
    }
    if let Some(e) = err.downcast_ref::<oai::ParseRequestPayloadError>() {
        let field = payload_error_field(&e.reason);
        return ApiError::Problem {
            status: StatusCode::BAD_REQUEST,
            code: ProblemCode::BadBody,
            detail: format!("the request body could not be read: {}", e.reason),
            errors: vec![FieldError::new(field, e.reason.clone())],
            allowed: Vec::new(),
            retry_after_seconds: None,
        };
    }
    if let Some(e) = err.downcast_ref::<oai::ParseMultipartError>() {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::BadBody,
            format!("the multipart body could not be read: {}", e.reason),
        );
    }
    if let Some(e) = err.downcast_ref::<oai::ContentTypeError>() {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::UnsupportedMediaType,
            e.to_string(),
        );
    }
    if err.is::<oai::AuthorizationError>() {
        return ApiError::unauthorized("a bearer token is required");
    }
    if err.is::<poem::error::NotFoundError>() || err.status() == StatusCode::NOT_FOUND {
        return ApiError::new(StatusCode::NOT_FOUND, ProblemCode::NoRoute, "no such route");
    }
    if err.is::<poem::error::MethodNotAllowedError>()
        || err.status() == StatusCode::METHOD_NOT_ALLOWED
    {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ProblemCode::MethodNotAllowed,
            "this route does not accept that method",
        );
    }
    let status = err.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            ProblemCode::BodyTooLarge,
            "the request body is larger than the limit",
        );
    }
    if status.is_server_error() {
        return ApiError::Internal(anyhow::anyhow!("{err}"));
    }
    let code = match status {
        StatusCode::BAD_REQUEST => ProblemCode::BadRequest,
        StatusCode::UNAUTHORIZED => ProblemCode::Unauthorized,
        StatusCode::FORBIDDEN => ProblemCode::Forbidden,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemCode::UnsupportedMediaType,
        _ => ProblemCode::RequestFailed,
    };
    ApiError::new(status, code, err.to_string())
}

/// poem-openapi reports body problems as text; recover the field name where it says one.
fn payload_error_field(reason: &str) -> String {
    for marker in ["field `", "property `", "field \"", "property \""] {
        if let Some(start) = reason.find(marker) {
            let rest = &reason[start + marker.len()..];
            if let Some(end) = rest.find(['`', '"']) {
                return rest[..end].to_string();
            }
        }
    }
    "body".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_errors_name_the_field_when_the_framework_does() {
        assert_eq!(
            payload_error_field("missing field `legal_name` at line 1"),
            "legal_name"
        );
        assert_eq!(
            payload_error_field("expected value at line 1 column 2"),
            "body"
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let problem = ApiError::Internal(anyhow::anyhow!("password=hunter2")).to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.unwrap().contains("hunter2"));
    }

    #[test]
    fn a_retry_after_is_sent_as_a_header_and_survives_the_framework() {
        let busy = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::ImportsBusy,
            "busy",
        )
        .with_retry_after(30);
        // Handlers' errors reach the client through poem and `problem_from_poem_error`.
        let response = problem_from_poem_error(poem::Error::from(busy)).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "30");
        assert_eq!(response.headers()["content-type"], PROBLEM_CONTENT_TYPE);
        let plain = ApiError::not_found("vendor").into_response();
        assert!(plain.headers().get("retry-after").is_none());
    }

    #[test]
    fn a_single_field_error_is_summarised_in_detail() {
        let problem = ApiError::field("website", "must start with https://").to_problem();
        assert_eq!(problem.code, "validation_failed");
        assert_eq!(
            problem.detail.as_deref(),
            Some("website: must start with https://")
        );
    }
}
