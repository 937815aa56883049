//! Questionnaires as spreadsheets: our own workbook out and in, and reuse of a CSA CAIQ v4, an EDUCAUSE HECVAT or
//! any other layout a vendor already has.

// The generic mapping's six settings are query parameters, each an argument of the upload handler.
#![allow(clippy::too_many_arguments)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::assessments::{Vendor, matches_read, vendor_scope};
use super::me::ApiTags;
use super::{IfMatch, SpreadsheetUpload, XLSX_CONTENT_TYPE, etag};
use crate::auth::{AnyRole, Auth};
use crate::config::Config;
use crate::domain::questionnaire::{self as q, Template};
use crate::error::{ApiError, FieldError, PROBLEM_CONTENT_TYPE, Problem};
use crate::sheets::external::{self, ExternalFormat, Mapping};
use crate::sheets::limits::{self, Limits};
use crate::sheets::workbook::{self, PriorAnswer, WorkbookMeta};
use crate::store::{AnswerEntry, AssessmentRecord, Store};
use crate::templates::Templates;
use crate::workflow::assessments as workflow;

/// One import may not hold a worker longer than this.
pub(super) const IMPORT_TIME_LIMIT: Duration = Duration::from_secs(30);

/// What an upload refused for want of an import slot is told to wait: by then the imports holding the slots have
/// usually finished, or been refused for taking longer than [`IMPORT_TIME_LIMIT`].
const BUSY_RETRY_AFTER: Duration = IMPORT_TIME_LIMIT;

/// The slots for reading uploaded spreadsheets (`max_concurrent_imports`), shared by every upload. An import holds
/// one from the upload check to the end of the parse, in the blocking thread that does the work: a request refused
/// for taking too long does not stop that thread, and its slot frees only when the thread is done.
#[derive(Clone)]
pub struct ImportSlots {
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// A taken import slot; dropping it frees the slot.
pub struct ImportSlot {
    _permit: OwnedSemaphorePermit,
}

impl ImportSlots {
    pub fn new(count: usize, wait: Duration) -> ImportSlots {
        ImportSlots {
            slots: Arc::new(Semaphore::new(count.min(Semaphore::MAX_PERMITS))),
            wait,
        }
    }

    pub fn from_config(config: &Config) -> ImportSlots {
        Self::new(
            config.max_concurrent_imports,
            Duration::from_millis(config.import_wait_ms),
        )
    }

    /// Takes a slot, waiting up to `import_wait_ms` for one to free; refused with 503 `imports_busy` otherwise.
    pub async fn take(&self) -> Result<ImportSlot, ApiError> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(ImportSlot { _permit: permit }),
            Ok(Err(closed)) => Err(ApiError::Internal(anyhow::anyhow!("import slots: {closed}"))),
            Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "imports_busy",
                format!(
                    "the service is already reading as many uploaded spreadsheets as it reads at once; nothing was \
                     stored; send the same file again in {} seconds",
                    BUSY_RETRY_AFTER.as_secs()
                ),
            )
            .with_retry_after(BUSY_RETRY_AFTER.as_secs())),
        }
    }
}

#[derive(ApiResponse)]
pub enum WorkbookImported {
    /// The answers were stored; the `ETag` is the assessment's new version.
    #[oai(status = 200)]
    Ok(Json<WorkbookImport>, #[oai(header = "ETag")] String),
}

/// The error of an operation that reads an uploaded spreadsheet: any [`ApiError`], documented in the OpenAPI
/// document with the usual statuses and also 503 `imports_busy` and its `Retry-After`.
pub struct ImportError(ApiError);

impl From<ApiError> for ImportError {
    fn from(error: ApiError) -> Self {
        ImportError(error)
    }
}

impl From<ImportError> for poem::Error {
    fn from(error: ImportError) -> Self {
        error.0.into()
    }
}

impl ApiResponse for ImportError {
    fn meta() -> MetaResponses {
        let mut meta = ApiError::meta();
        meta.responses.push(MetaResponse {
            description: "Every slot for reading uploaded spreadsheets stayed taken by other uploads while this \
                          one waited (`imports_busy`); nothing was stored. Send the file again after `Retry-After`.",
            status: Some(503),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: PROBLEM_CONTENT_TYPE,
                schema: Problem::schema_ref(),
            }],
            headers: vec![MetaHeader {
                name: "Retry-After".to_string(),
                description: Some("Seconds to wait before sending the file again.".to_string()),
                required: true,
                deprecated: false,
                schema: u64::schema_ref(),
            }],
        });
        meta
    }

    fn register(registry: &mut Registry) {
        ApiError::register(registry);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "kebab-case")]
pub enum UploadFormat {
    /// The workbook this service exported for the assessment.
    Own,
    /// A CSA CAIQ v4 the vendor already filled in.
    CaiqV4,
    /// An EDUCAUSE HECVAT (version 3 Full/Lite or version 4).
    Hecvat,
    /// Any other layout, described by `sheet`, `header_row`, `id_column`, `answer_column`, `comment_column`
    /// and `answer_words`.
    Mapped,
}

#[derive(Debug, Object)]
pub struct ImportConflict {
    pub question_id: String,
    /// `caiq-v4:IAM-14.1=yes`, one per disagreeing source.
    pub sources: Vec<String>,
    pub reason: String,
}

/// What an upload changed.
#[derive(Debug, Object)]
pub struct WorkbookImport {
    pub format: String,
    /// Questions that had no answer and now have one.
    pub added: Vec<String>,
    /// Questions whose answer or comment changed.
    pub changed: Vec<String>,
    /// Questions whose answer the upload left blank (own workbook only).
    pub cleared: Vec<String>,
    pub unchanged: usize,
    /// Derived answers not applied because the vendor had answered the question directly
    /// (send `overwrite=true` to replace them).
    pub kept_direct: Vec<String>,
    /// IDs in the vendor's file that no question of this template maps to.
    pub unmapped: Vec<String>,
    pub conflicts: Vec<ImportConflict>,
    /// Answers in the file to questions that are not asked given the other answers (their condition does not
    /// hold); not stored.
    pub not_asked: Vec<String>,
    /// The original file, kept as evidence.
    pub evidence_id: Uuid,
    /// The assessment's new version (its ETag).
    pub version: i64,
}

#[derive(ApiResponse)]
pub enum WorkbookFile {
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

/// What an uploaded spreadsheet may cost to read: the configured upload size, the default unpacked-size and cell
/// caps. The same for every operation that reads one.
pub(super) fn upload_limits(config: &Config) -> Limits {
    Limits {
        max_bytes: config.max_upload_bytes,
        ..Limits::default()
    }
}

/// Takes an import slot, then runs parsing off the async workers, refused after `time_limit`
/// ([`IMPORT_TIME_LIMIT`]). The slot moves into the blocking work and is freed when the work ends, which may be
/// after the request was refused.
pub(super) async fn parse_off_thread<T: Send + 'static>(
    slots: &ImportSlots,
    time_limit: Duration,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let slot = slots.take().await?;
    let work = move || {
        let result = work();
        drop(slot);
        result
    };
    match tokio::time::timeout(time_limit, super::blocking(work)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_too_slow",
            "the file took too long to read; split it or remove what is not the questionnaire",
        )),
    }
}

fn meta_of(a: &AssessmentRecord, vendor_name: String) -> WorkbookMeta {
    WorkbookMeta {
        assessment_id: a.id.to_string(),
        template_id: a.template_id.clone(),
        template_version: a.template_version.clone(),
        vendor_name,
        due: Some(a.due_date),
    }
}

fn parse_words(text: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut words = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = pair.split_once('=').ok_or_else(|| {
            ApiError::field("answer_words", format!("{pair:?} is not WORD=yes|no|na"))
        })?;
        let to = to.trim().to_ascii_lowercase();
        if !["yes", "no", "na"].contains(&to.as_str()) {
            return Err(ApiError::field(
                "answer_words",
                format!("{pair:?}: map to yes, no or na"),
            ));
        }
        words.insert(from.trim().to_string(), to);
    }
    if words.is_empty() {
        return Err(ApiError::field(
            "answer_words",
            "name how the file's answers map, e.g. Yes=yes,No=no,X=yes",
        ));
    }
    Ok(words)
}

pub struct WorkbooksApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl WorkbooksApi {
    /// Download the assessment as a workbook
    ///
    /// An xlsx with instructions, the questions (locked) with dropdowns of the allowed answers, comment and
    /// evidence columns, the answers so far prefilled, and a hidden sheet naming the assessment and template
    /// version so that an upload to the wrong assessment is refused. As for reading the assessment.
    #[oai(
        path = "/assessments/:id/workbook",
        method = "get",
        operation_id = "downloadWorkbook"
    )]
    async fn download(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<WorkbookFile, ApiError> {
        let a = store.get_assessment(&vendor_scope(&auth), id.0).await?;
        let template = templates
            .version(&store, &a.template_id, &a.template_version)
            .await?;
        let vendor_name = store
            .get_vendor(a.vendor_id)
            .await?
            .map(|v| v.legal_name)
            .unwrap_or_default();
        let prior: BTreeMap<String, PriorAnswer> = store
            .answers(a.id)
            .await?
            .into_iter()
            .map(|s| {
                (
                    s.question_id,
                    PriorAnswer {
                        answer: Some(s.value.0),
                        comment: s.comment,
                        evidence_ref: s.evidence_ref,
                    },
                )
            })
            .collect();
        let meta = meta_of(&a, vendor_name);
        let bytes = super::blocking(move || {
            workbook::export(&meta, &template, &prior)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))
        })
        .await?;
        let name = format!("{}-{}.xlsx", a.template_id, &a.id.to_string()[..8]);
        Ok(WorkbookFile::Ok(
            Binary(bytes),
            format!("attachment; filename=\"{name}\""),
        ))
    }

    /// Upload a filled workbook
    ///
    /// The vendor. `format=own` reads the workbook downloaded for this assessment; `caiq-v4`, `hecvat` and
    /// `mapped` carry answers over from a file the vendor already has, through each question's crosswalk, marked
    /// with their source (`caiq-v4:IAM-14.1`) for the analyst to confirm; a derived answer never replaces one
    /// the vendor gave directly unless `overwrite=true`. The file is checked whole before anything is stored
    /// (422 names every problem by sheet and cell); refused by content when it is not a workbook, encrypted, or
    /// too large unpacked. On success the answers are stored as one new version and the original file is kept
    /// as evidence. The service reads only a few uploads at once; when they stay busy while this one waits, it
    /// answers 503 `imports_busy` with `Retry-After` and stores nothing. `If-Match` (required) names the
    /// version of the assessment the vendor read.
    #[oai(
        path = "/assessments/:id/workbook",
        method = "post",
        operation_id = "uploadWorkbook"
    )]
    async fn upload(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        config: Data<&Arc<Config>>,
        slots: Data<&ImportSlots>,
        auth: Auth<Vendor>,
        id: Path<Uuid>,
        /// `own` (default), `caiq-v4`, `hecvat` or `mapped`.
        format: Query<Option<UploadFormat>>,
        /// Let derived answers replace answers the vendor gave directly.
        overwrite: Query<Option<bool>>,
        /// mapped: the sheet's name.
        sheet: Query<Option<String>>,
        /// mapped: the header row (1-based).
        header_row: Query<Option<u32>>,
        /// mapped: the column letter of the question IDs.
        id_column: Query<Option<String>>,
        /// mapped: the column letter of the answers.
        answer_column: Query<Option<String>>,
        /// mapped: the column letter of comments.
        comment_column: Query<Option<String>>,
        /// mapped: how the file's answer words map to ours, e.g. `Implemented=yes,Partial=no,X=yes`.
        answer_words: Query<Option<String>>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: SpreadsheetUpload,
    ) -> Result<WorkbookImported, ImportError> {
        let expected = if_match.version()?;
        let scope = vendor_scope(&auth);
        let a = store.get_assessment(&scope, id.0).await?;
        matches_read(&a, expected)?;
        // A state that takes no answers is named before the file is read (the store checks again under lock).
        workflow::vendor_may(a.state(), workflow::VendorWork::Answer).map_err(ApiError::from)?;
        let template = templates
            .version(&store, &a.template_id, &a.template_version)
            .await?;
        let format = format.0.unwrap_or(UploadFormat::Own);
        let external_format = match format {
            UploadFormat::Own => None,
            UploadFormat::CaiqV4 => Some(ExternalFormat::CaiqV4),
            UploadFormat::Hecvat => Some(ExternalFormat::Hecvat),
            UploadFormat::Mapped => {
                let mut missing = Vec::new();
                for (name, value) in [
                    ("sheet", &sheet.0),
                    ("id_column", &id_column.0),
                    ("answer_column", &answer_column.0),
                ] {
                    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                        missing.push(FieldError::new(name, "is required for format=mapped"));
                    }
                }
                if header_row.0.is_none() {
                    missing.push(FieldError::new(
                        "header_row",
                        "is required for format=mapped",
                    ));
                }
                if !missing.is_empty() {
                    return Err(ApiError::validation(missing).into());
                }
                Some(ExternalFormat::Mapped(Mapping {
                    sheet: sheet.0.clone().unwrap_or_default(),
                    header_row: header_row.0.unwrap_or(1),
                    id_column: id_column.0.clone().unwrap_or_default().to_ascii_uppercase(),
                    answer_column: answer_column
                        .0
                        .clone()
                        .unwrap_or_default()
                        .to_ascii_uppercase(),
                    comment_column: comment_column.0.clone().map(|c| c.to_ascii_uppercase()),
                    answer_words: parse_words(answer_words.0.as_deref().unwrap_or_default())?,
                }))
            }
        };
        let bytes = Arc::new(body.into_bytes());
        let limits = upload_limits(&config);
        let stored = store.answers(a.id).await?;
        let overwrite = overwrite.0.unwrap_or(false);
        // The check and the parse in one blocking job, under one import slot.
        let (kind, (entries, summary_base)) = {
            let bytes = bytes.clone();
            let template = template.clone();
            let meta = meta_of(&a, String::new());
            parse_off_thread(&slots, IMPORT_TIME_LIMIT, move || {
                let kind = limits::check(&bytes, &limits).map_err(ApiError::from)?;
                let plan = plan_import(
                    &bytes,
                    &template,
                    &meta,
                    external_format,
                    &stored,
                    overwrite,
                )?;
                Ok((kind, plan))
            })
            .await?
        };
        let file_name = format!("{}-upload.{}", format_name(format), extension(kind));
        let content_type = match kind {
            limits::WorkbookKind::Xls => "application/vnd.ms-excel",
            limits::WorkbookKind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            limits::WorkbookKind::Xlsm => "application/vnd.ms-excel.sheet.macroEnabled.12",
            limits::WorkbookKind::Xlsx => XLSX_CONTENT_TYPE,
        };
        let (updated, evidence) = store
            .import_answers(
                &auth.actor(),
                &scope,
                a.id,
                expected,
                entries,
                &file_name,
                content_type,
                &bytes,
            )
            .await?;
        Ok(WorkbookImported::Ok(
            Json(WorkbookImport {
                evidence_id: evidence.id,
                version: updated.version,
                ..summary_base
            }),
            etag(updated.version),
        ))
    }
}

fn format_name(f: UploadFormat) -> &'static str {
    match f {
        UploadFormat::Own => "workbook",
        UploadFormat::CaiqV4 => "caiq-v4",
        UploadFormat::Hecvat => "hecvat",
        UploadFormat::Mapped => "mapped",
    }
}

fn extension(kind: limits::WorkbookKind) -> &'static str {
    match kind {
        limits::WorkbookKind::Xlsx => "xlsx",
        limits::WorkbookKind::Xlsm => "xlsm",
        limits::WorkbookKind::Xls => "xls",
        limits::WorkbookKind::Ods => "ods",
    }
}

/// Reads the upload and works out, against the stored answers, what to store and what to report.
fn plan_import(
    bytes: &[u8],
    template: &Template,
    meta: &WorkbookMeta,
    external_format: Option<ExternalFormat>,
    stored: &[crate::store::AnswerRecord],
    overwrite: bool,
) -> Result<(Vec<AnswerEntry>, WorkbookImport), ApiError> {
    let existing = |qid: &str| stored.iter().find(|s| s.question_id == qid);
    let mut entries = Vec::new();
    let mut summary = WorkbookImport {
        format: String::new(),
        added: vec![],
        changed: vec![],
        cleared: vec![],
        unchanged: 0,
        kept_direct: vec![],
        unmapped: vec![],
        conflicts: vec![],
        not_asked: vec![],
        evidence_id: Uuid::nil(),
        version: 0,
    };
    let note =
        |entry: &AnswerEntry, summary: &mut WorkbookImport| match existing(&entry.question_id) {
            None => summary.added.push(entry.question_id.clone()),
            Some(old)
                if Some(&old.value.0) == entry.value.as_ref()
                    && old.comment == entry.comment
                    && old.evidence_ref == entry.evidence_ref =>
            {
                summary.unchanged += 1
            }
            Some(_) => summary.changed.push(entry.question_id.clone()),
        };
    match external_format {
        None => {
            summary.format = "own".into();
            let imported = workbook::import(bytes, meta, template).map_err(ApiError::validation)?;
            for (qid, answer) in imported.answers {
                match answer.answer {
                    Some(a) => {
                        let entry = AnswerEntry {
                            question_id: qid,
                            value: Some(a.to_json()),
                            comment: answer.comment,
                            evidence_ref: answer.evidence_ref,
                            source: "workbook".to_string(),
                        };
                        note(&entry, &mut summary);
                        entries.push(entry);
                    }
                    None => {
                        if existing(&qid).is_some() {
                            summary.cleared.push(qid.clone());
                            entries.push(AnswerEntry::cleared(qid, "workbook"));
                        }
                    }
                }
            }
        }
        Some(format) => {
            let source = format.source();
            summary.format = source.to_string();
            let answers = external::read(bytes, &format).map_err(ApiError::validation)?;
            let mapped = external::map_to_template(template, &answers, source);
            summary.unmapped = mapped.unmapped;
            summary.conflicts = mapped
                .conflicts
                .into_iter()
                .map(|c| ImportConflict {
                    question_id: c.question_id,
                    sources: c
                        .sources_and_answers
                        .iter()
                        .map(|s| {
                            format!(
                                "{}={}",
                                s.source,
                                serde_json::to_value(s.answer)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_string))
                                    .unwrap_or_default()
                            )
                        })
                        .collect(),
                    reason: c.reason,
                })
                .collect();
            for (qid, derived) in mapped.filled {
                let direct = existing(&qid).is_some_and(|s| !s.source.contains(':'));
                if direct && !overwrite {
                    summary.kept_direct.push(qid);
                    continue;
                }
                // The file gives no evidence reference; one the vendor gave before stays with the question.
                let evidence_ref = existing(&qid).and_then(|s| s.evidence_ref.clone());
                let entry = AnswerEntry {
                    question_id: qid,
                    value: Some(derived.answer.to_json()),
                    comment: derived.comment,
                    evidence_ref,
                    source: derived.sources.join(", "),
                };
                note(&entry, &mut summary);
                entries.push(entry);
            }
        }
    }
    // Answers carried over still have to be answers the template accepts where they are asked.
    let mut merged: BTreeMap<String, q::Answer> = stored
        .iter()
        .filter_map(|s| {
            Some((
                s.question_id.clone(),
                q::parse_answer(template.question(&s.question_id)?, &s.value.0).ok()?,
            ))
        })
        .collect();
    for AnswerEntry {
        question_id: qid,
        value,
        ..
    } in &entries
    {
        match value {
            Some(v) => {
                if let Some(a) = template
                    .question(qid)
                    .and_then(|q| q::parse_answer(q, v).ok())
                {
                    merged.insert(qid.clone(), a);
                }
            }
            None => {
                merged.remove(qid);
            }
        }
    }
    let (kept, not_asked): (Vec<AnswerEntry>, Vec<AnswerEntry>) =
        entries.into_iter().partition(|entry| {
            entry.value.is_none()
                || template
                    .question(&entry.question_id)
                    .is_some_and(|q| q::is_applicable(template, q, &merged))
        });
    summary.not_asked = not_asked.into_iter().map(|e| e.question_id).collect();
    for qid in &summary.not_asked {
        summary.added.retain(|a| a != qid);
        summary.changed.retain(|c| c != qid);
    }
    Ok((kept, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_parse_refused_for_time_keeps_its_slot_until_its_work_really_ends() {
        let slots = ImportSlots::new(1, Duration::ZERO);
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        // A zero time limit refuses the request while the work waits for `finish`.
        let refused = parse_off_thread(&slots, Duration::ZERO, move || {
            finished.recv().ok();
            Ok(())
        })
        .await
        .expect_err("refused for time");
        assert_eq!(refused.code(), "import_too_slow");

        assert_eq!(slots.slots.available_permits(), 0);
        let busy = slots
            .take()
            .await
            .err()
            .expect("no slot while the work runs");
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.code(), "imports_busy");

        finish.send(()).unwrap();
        // Completes once the blocking work has ended and dropped the slot.
        let _slot = slots.slots.clone().acquire_owned().await.unwrap();
    }
}
