//! Evidence: a vendor's upload to an assessment and its download, and the check of an uploaded document (also
//! used by the council's and the incidents' uploads).

use crate::domain::problems::ProblemCode;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::{EvidenceView, Vendor, vendor_scope};
use crate::api::me::ApiTags;
use crate::api::{IfMatch, etag};
use crate::auth::{AnyRole, Auth};
use crate::error::ApiError;
use crate::store::Store;

#[derive(ApiResponse)]
pub enum EvidenceCreated {
    /// The file was stored; the `ETag` is the assessment's new version.
    #[oai(status = 201)]
    Created(Json<EvidenceView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum EvidenceDownload {
    #[oai(status = 200, content_type = "application/octet-stream")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "X-Content-Type")] String,
    ),
}

/// Evidence file kinds accepted, judged by their first bytes.
fn evidence_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("application/zip")
    } else if !bytes.is_empty() && std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some("text/plain")
    } else {
        None
    }
}

/// The declared type must agree with the bytes: a PDF declared as an image is refused.
fn declared_agrees(declared: &str, sniffed: &str) -> bool {
    let declared = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match sniffed {
        "application/zip" => {
            declared == "application/zip"
                || declared.starts_with("application/vnd.openxmlformats-officedocument")
                || declared == "application/octet-stream"
        }
        "text/plain" => declared.starts_with("text/") || declared == "application/octet-stream",
        other => declared == other || declared == "application/octet-stream",
    }
}

fn safe_file_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 200
        && !name.contains(['/', '\\', '\0', '"'])
        && !name.starts_with('.')
        && name.chars().all(|c| !c.is_control());
    if ok {
        Ok(name.to_string())
    } else {
        Err(ApiError::field(
            "filename",
            "must be a plain file name (no path), 1 to 200 characters",
        ))
    }
}

/// Checks an uploaded document: a plain file name, bytes of a kind we keep (`what` names the document in the
/// refusal), and a declared type that agrees with them. Returns the name and the type the bytes show.
pub(crate) fn checked_document(
    file_name: &str,
    declared: &str,
    bytes: &[u8],
    what: &str,
) -> Result<(String, &'static str), ApiError> {
    let file_name = safe_file_name(file_name)?;
    let sniffed = evidence_kind(bytes).ok_or_else(|| {
        ApiError::new(
            poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::UnsupportedFile,
            format!("{what} must be a PDF, PNG, JPEG, office document or text file"),
        )
    })?;
    if !declared_agrees(declared, sniffed) {
        return Err(ApiError::new(
            poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::ContentTypeMismatch,
            format!("the file is {sniffed}, not {declared}"),
        ));
    }
    Ok((file_name, sniffed))
}

pub struct EvidenceApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl EvidenceApi {
    /// Upload evidence
    ///
    /// The vendor, while the assessment is open or returned: a PDF, PNG, JPEG, office document or text file,
    /// judged by its bytes (the declared type must agree), up to the upload limit. Stored with its SHA-256.
    /// Answer a file question with `{"evidence_id": "<id>"}`. `If-Match` (required) names the version of the
    /// assessment read; the answer's `ETag` is its next version.
    #[oai(
        path = "/assessments/:id/evidence",
        method = "post",
        operation_id = "uploadEvidence"
    )]
    async fn upload(
        &self,
        store: Data<&Store>,
        auth: Auth<Vendor>,
        id: Path<Uuid>,
        /// The file's name, as the vendor knows it.
        filename: Query<String>,
        /// The question the file supports, if one.
        question_id: Query<Option<String>>,
        #[oai(name = "Content-Type")] content_type: Header<String>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Binary<Vec<u8>>,
    ) -> Result<EvidenceCreated, ApiError> {
        let expected = if_match.version()?;
        let (file_name, sniffed) =
            checked_document(&filename.0, &content_type.0, &body.0, "evidence")?;
        let (assessment, stored) = store
            .store_evidence(
                &auth.actor(),
                &vendor_scope(&auth),
                id.0,
                expected,
                question_id.0.as_deref(),
                &file_name,
                sniffed,
                &body.0,
            )
            .await?;
        Ok(EvidenceCreated::Created(
            Json(stored.into()),
            etag(assessment.version),
        ))
    }

    /// Download evidence
    #[oai(
        path = "/assessments/:id/evidence/:evidence_id",
        method = "get",
        operation_id = "downloadEvidence"
    )]
    async fn download(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
        evidence_id: Path<Uuid>,
    ) -> Result<EvidenceDownload, ApiError> {
        store.get_assessment(&vendor_scope(&auth), id.0).await?;
        let (meta, data) = store
            .evidence_file(id.0, evidence_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("evidence"))?;
        Ok(EvidenceDownload::Ok(
            Binary(data),
            crate::api::attachment(&meta.file_name),
            meta.content_type,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_judged_by_its_bytes_and_the_declared_type_must_agree() {
        assert_eq!(evidence_kind(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(evidence_kind(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(evidence_kind(&[0, 1, 2, 0xff]), None);
        assert!(declared_agrees("application/pdf", "application/pdf"));
        assert!(!declared_agrees("image/png", "application/pdf"));
        assert!(declared_agrees("text/plain; charset=utf-8", "text/plain"));
    }

    #[test]
    fn file_names_carry_no_path() {
        assert!(safe_file_name("soc2-report.pdf").is_ok());
        assert!(safe_file_name("../etc/passwd").is_err());
        assert!(safe_file_name("a\\b.pdf").is_err());
        assert!(safe_file_name(".hidden").is_err());
    }
}
