//! Questionnaires as spreadsheets: our own workbook out and in, and reuse of a CSA CAIQ v4, an EDUCAUSE HECVAT or
//! any other layout a vendor already has.

// The generic mapping's six settings are query parameters, each an argument of the upload handler.
#![allow(clippy::too_many_arguments)]

mod planning;
mod reading;

use planning::{Reading, plan_import};
pub(super) use reading::{IMPORT_TIME_LIMIT, parse_off_thread, upload_limits};
pub use reading::{ImportError, ImportSlot, ImportSlots};

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::assessments::{Vendor, matches_read, vendor_scope};
use super::me::ApiTags;
use super::{IfMatch, SpreadsheetUpload, XLSX_CONTENT_TYPE, etag};
use crate::auth::{AnyRole, Auth};
use crate::config::Config;
use crate::error::{ApiError, FieldError};
use crate::sheets::external::{self, Mapping};
use crate::sheets::limits;
use crate::sheets::workbook::{self, PriorAnswer, WorkbookMeta};
use crate::store::{AnswerEntry, AssessmentRecord, Store};
use crate::templates::Templates;
use crate::workflow::assessments as workflow;

#[derive(ApiResponse)]
pub enum WorkbookImported {
    /// The answers were stored; the `ETag` is the assessment's new version.
    #[oai(status = 200)]
    Ok(Json<WorkbookImport>, #[oai(header = "ETag")] String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "kebab-case")]
pub enum UploadFormat {
    /// The workbook this service exported for the assessment.
    Own,
    /// A CSA CAIQ, version told from the file (v3.0.1, v3.1 or v4).
    Caiq,
    /// A CSA CAIQ v3.0.1; another version is refused, naming it.
    #[oai(rename = "caiq-v3.0.1")]
    CaiqV301,
    /// A CSA CAIQ v3.1; another version is refused, naming it.
    #[oai(rename = "caiq-v3.1")]
    CaiqV31,
    /// A CSA CAIQ v4.0.x; another version is refused, naming it.
    CaiqV4,
    /// An EDUCAUSE HECVAT, version told from the file (version 4 and Lite 3.06 are read; HECVAT 3 Full and On-Prem
    /// and other Lite versions are refused, naming them).
    Hecvat,
    /// An EDUCAUSE HECVAT 3 Full or On-Prem: refused, as there is no reviewed ID list and crosswalk for its IDs.
    #[oai(rename = "hecvat-3")]
    Hecvat3,
    /// An EDUCAUSE HECVAT Lite 3.06 (its own IDs, apart from Full's and HECVAT 4's).
    #[oai(rename = "hecvat-3-lite")]
    Hecvat3Lite,
    /// An EDUCAUSE HECVAT 4.
    #[oai(rename = "hecvat-4")]
    Hecvat4,
    /// A FedRAMP control implementation summary (CIS) worksheet, read in the NIST SP 800-53 Rev. 5 ID space.
    #[oai(rename = "nist-800-53")]
    Nist80053,
    /// The same, naming the revision.
    #[oai(rename = "nist-800-53r5")]
    Nist80053r5,
    /// Any other layout, described by `sheet`, `header_row`, `id_column`, `answer_column` (or `yes_column`,
    /// `no_column`, `na_column`), `comment_column`, `answer_words` and `id_space`.
    Mapped,
}

impl UploadFormat {
    /// As the client writes it in `format=`.
    pub fn public_name(self) -> &'static str {
        match self {
            UploadFormat::Own => "own",
            UploadFormat::Caiq => "caiq",
            UploadFormat::CaiqV301 => "caiq-v3.0.1",
            UploadFormat::CaiqV31 => "caiq-v3.1",
            UploadFormat::CaiqV4 => "caiq-v4",
            UploadFormat::Hecvat => "hecvat",
            UploadFormat::Hecvat3 => "hecvat-3",
            UploadFormat::Hecvat3Lite => "hecvat-3-lite",
            UploadFormat::Hecvat4 => "hecvat-4",
            UploadFormat::Nist80053 => "nist-800-53",
            UploadFormat::Nist80053r5 => "nist-800-53r5",
            UploadFormat::Mapped => "mapped",
        }
    }

    /// The family and version asked, for the formats told from the file.
    fn asked(self) -> Option<external::Asked> {
        use external::{Asked, Family};
        let (family, version) = match self {
            UploadFormat::Own | UploadFormat::Mapped => return None,
            UploadFormat::Caiq => (Family::Caiq, None),
            UploadFormat::CaiqV301 => (Family::Caiq, Some("caiq-v3.0.1")),
            UploadFormat::CaiqV31 => (Family::Caiq, Some("caiq-v3.1")),
            UploadFormat::CaiqV4 => (Family::Caiq, Some("caiq-v4")),
            UploadFormat::Hecvat => (Family::Hecvat, None),
            UploadFormat::Hecvat3 => (Family::Hecvat, Some("hecvat-3")),
            UploadFormat::Hecvat3Lite => (Family::Hecvat, Some("hecvat-3-lite")),
            UploadFormat::Hecvat4 => (Family::Hecvat, Some("hecvat-4")),
            UploadFormat::Nist80053 => (Family::Nist, None),
            UploadFormat::Nist80053r5 => (Family::Nist, Some("nist-800-53r5")),
        };
        Some(Asked { family, version })
    }
}

#[derive(Debug, Object)]
pub struct ImportConflict {
    pub question_id: String,
    /// `caiq-v4:IAM-14.1=yes`, one per disagreeing source.
    pub sources: Vec<String>,
    pub reason: String,
}

/// An answer in the vendor's file to a question related to one of ours (a crosswalk link of strength
/// `related`): shown to the vendor and analyst, never stored as the answer.
#[derive(Debug, Object)]
pub struct ImportHint {
    pub question_id: String,
    /// The external question, e.g. `caiq-v4:IAM-14.1`.
    pub source: String,
    /// `yes`, `no` or `na`, as the vendor answered the external question.
    pub answer: String,
    pub comment: Option<String>,
}

/// An answer cell whose text is not a choice (a free-text answer), skipped.
#[derive(Debug, Object)]
pub struct SkippedCell {
    pub cell: String,
    pub text: String,
}

/// What an upload changed.
#[derive(Debug, Object)]
pub struct WorkbookImport {
    /// What was read: `own`, `mapped`, or the format version found in the file (`caiq-v3.0.1`, `caiq-v3.1`,
    /// `caiq-v4`, `hecvat-3-lite`, `hecvat-4`, `nist-800-53r5`).
    pub format: String,
    /// How the version was told from the file (sheet, version text, layout), or the mapping used.
    pub detected_by: Option<String>,
    /// Whether anything was stored. An upload whose answers change nothing stores no new version and no copy of
    /// the file, and says so here.
    pub stored: bool,
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
    /// Answers to related questions, for the vendor and analyst to weigh; not stored.
    pub hints: Vec<ImportHint>,
    /// Answer cells whose text is not a choice (free text), skipped; how many.
    pub not_a_choice: usize,
    /// The first of those cells, with their text.
    pub not_a_choice_cells: Vec<SkippedCell>,
    /// Answers in the file to questions that are not asked given the other answers (their condition does not
    /// hold, or the question it follows is not answered in the file nor before); not stored.
    pub not_asked: Vec<String>,
    /// The original file, kept as evidence; none when nothing was stored.
    pub evidence_id: Option<Uuid>,
    /// The assessment's version (its ETag) after the upload: unchanged when nothing was stored.
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

fn meta_of(a: &AssessmentRecord, vendor_name: String) -> WorkbookMeta {
    WorkbookMeta {
        assessment_id: a.id.to_string(),
        template_id: a.template_id.clone(),
        template_version: a.template_version.clone(),
        vendor_name,
        due: Some(a.due_date),
    }
}

pub struct WorkbooksApi;

/// The spreadsheet operations and the saved import profiles, as one entry of the API list (a tuple of APIs is
/// itself one, and the list is at the longest tuple the framework takes). A type and a value of one name, as a
/// unit struct is.
pub type Imports = (WorkbooksApi, super::profiles::ProfilesApi);
#[allow(non_upper_case_globals)]
pub const Imports: Imports = (WorkbooksApi, super::profiles::ProfilesApi);

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
    /// The vendor. `format=own` reads the workbook downloaded for this assessment. The other formats carry
    /// answers over from a file the vendor already has: `caiq`, `hecvat` and `nist-800-53` name a family whose
    /// version is told from the file itself (`caiq-v3.0.1`, `caiq-v3.1`, `caiq-v4`, `hecvat-4`, `nist-800-53r5`
    /// for a FedRAMP CIS worksheet); naming a version (`format=caiq-v4`) refuses a file of another version, naming
    /// both; a version without a crosswalk (HECVAT 3 other than Lite 3.06), or a CAIQ v3 whose version neither its
    /// text nor its question IDs settle, is refused by name (422 `unsupported_format_version`) rather than read
    /// through another version's IDs. `mapped` reads any other layout as the query describes it
    /// (`answer_column` with `answer_words`, or `yes_column` / `no_column` / `na_column` for marked layouts;
    /// `id_space` names the format version whose IDs the sheet holds, otherwise they are our question IDs).
    /// Answers are carried over through each version's crosswalk: links of strength `same` become derived answers
    /// marked with their source (`caiq-v4:IAM-14.1`) for the analyst to confirm, never replacing one the vendor
    /// gave directly unless `overwrite=true`; links of strength `related` come back as `hints`, never stored. The
    /// file is checked whole before anything is stored (422 names every problem by sheet and cell, or by the query
    /// parameter); refused by content when it is not a workbook, encrypted, declares XML entities, or too large.
    /// On success the answers are stored as one new version and the original file is kept as evidence; when the
    /// answers change nothing, nothing is stored (`stored: false`, the version unchanged). The service reads only
    /// a few uploads at once; when they stay busy while this one waits, it answers 503 `imports_busy` with
    /// `Retry-After` and stores nothing. `If-Match` (required) names the version of the assessment the vendor read.
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
        /// `own` (default), `caiq`, `caiq-v3.0.1`, `caiq-v3.1`, `caiq-v4`, `hecvat`, `hecvat-3`, `hecvat-3-lite`,
        /// `hecvat-4`, `nist-800-53`, `nist-800-53r5` or `mapped`.
        format: Query<Option<UploadFormat>>,
        /// Let derived answers replace answers the vendor gave directly.
        overwrite: Query<Option<bool>>,
        /// mapped: the sheet's name.
        sheet: Query<Option<String>>,
        /// mapped: the header row (1-based); answers are read below it.
        header_row: Query<Option<u32>>,
        /// mapped: the column letter of the question IDs.
        id_column: Query<Option<String>>,
        /// mapped: the column letter of the answers (words).
        answer_column: Query<Option<String>>,
        /// mapped, marked layouts: the column where a mark (any text, e.g. `X`) means Yes.
        yes_column: Query<Option<String>>,
        /// mapped, marked layouts: the column where a mark means No.
        no_column: Query<Option<String>>,
        /// mapped, marked layouts: the column where a mark means N/A.
        na_column: Query<Option<String>>,
        /// mapped: the column letter of comments.
        comment_column: Query<Option<String>>,
        /// mapped: what the file's answer words mean, e.g. `Implemented=yes,Partial=no` (write a comma or `=`
        /// inside a word as `\,` or `\=`), or a JSON object `{"Yes, with exceptions": "no"}`. Without it, Yes,
        /// No, NA and N/A. Other text is not a choice: counted and skipped.
        answer_words: Query<Option<String>>,
        /// mapped: the format version whose question IDs the sheet holds (e.g. `caiq-v4`); without it, the IDs
        /// are this template's own question IDs.
        id_space: Query<Option<String>>,
        /// A saved import profile's name (see `/import-profiles`): the mapping it holds, instead of the mapped
        /// settings above.
        profile: Query<Option<String>>,
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
        let mut profile_used = None;
        if let Some(name) = profile
            .0
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let mut errors = Vec::new();
            if format.0.is_some_and(|f| f != UploadFormat::Mapped) {
                errors.push(FieldError::new(
                    "profile",
                    format!(
                        "reads a hand-mapped layout; send it without format={} (or with format=mapped)",
                        format.0.map(UploadFormat::public_name).unwrap_or_default()
                    ),
                ));
            }
            for (param, value) in [
                ("sheet", sheet.0.is_some()),
                ("header_row", header_row.0.is_some()),
                ("id_column", id_column.0.is_some()),
                ("answer_column", answer_column.0.is_some()),
                ("yes_column", yes_column.0.is_some()),
                ("no_column", no_column.0.is_some()),
                ("na_column", na_column.0.is_some()),
                ("comment_column", comment_column.0.is_some()),
                ("answer_words", answer_words.0.is_some()),
                ("id_space", id_space.0.is_some()),
            ] {
                if value {
                    errors.push(FieldError::new(
                        param,
                        format!("cannot be combined with profile: the profile \"{name}\" gives the mapping"),
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors).into());
            }
            let Some(saved) = store.get_profile(name).await? else {
                let names: Vec<String> = store
                    .list_profiles()
                    .await?
                    .into_iter()
                    .map(|p| format!("\"{}\"", p.name))
                    .collect();
                return Err(ApiError::validation(vec![FieldError::new(
                    "profile",
                    match names.as_slice() {
                        [] => format!("no import profile is named \"{name}\"; none is saved"),
                        _ => format!(
                            "no import profile is named \"{name}\"; saved profiles are {}",
                            names.join(", ")
                        ),
                    },
                )])
                .into());
            };
            profile_used = Some((saved.name, saved.mapping));
        }
        let format = match &profile_used {
            Some(_) => UploadFormat::Mapped,
            None => format.0.unwrap_or(UploadFormat::Own),
        };
        let reading = match format {
            UploadFormat::Mapped if profile_used.is_some() => {
                Reading::Mapped(profile_used.as_ref().expect("a profile").1.clone())
            }
            UploadFormat::Own => Reading::Own,
            UploadFormat::Mapped => {
                let mut missing = Vec::new();
                for (name, value) in [("sheet", &sheet.0), ("id_column", &id_column.0)] {
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
                let given = |c: &Option<String>| c.as_deref().is_some_and(|c| !c.trim().is_empty());
                if ![&answer_column.0, &yes_column.0, &no_column.0, &na_column.0]
                    .into_iter()
                    .any(given)
                {
                    missing.push(FieldError::new(
                        "answer_column",
                        "is required for format=mapped, unless the answers are marks under yes_column, no_column \
                         or na_column",
                    ));
                }
                let words = external::parse_answer_words(
                    "answer_words",
                    answer_words.0.as_deref().unwrap_or_default(),
                );
                if let Err(errors) = &words {
                    missing.extend(errors.iter().cloned());
                }
                if !missing.is_empty() {
                    return Err(ApiError::validation(missing).into());
                }
                let letters =
                    |c: &Option<String>| c.as_deref().map(|c| c.trim().to_ascii_uppercase());
                Reading::Mapped(Mapping {
                    sheet: sheet.0.clone().unwrap_or_default(),
                    header_row: header_row.0.unwrap_or(1),
                    id_column: letters(&id_column.0).unwrap_or_default(),
                    answer_column: letters(&answer_column.0),
                    yes_column: letters(&yes_column.0),
                    no_column: letters(&no_column.0),
                    na_column: letters(&na_column.0),
                    comment_column: letters(&comment_column.0),
                    answer_words: words.unwrap_or_default(),
                    id_space: id_space.0.clone().filter(|s| !s.trim().is_empty()),
                })
            }
            other => Reading::Detected(other.asked().expect("a format told from the file")),
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
                let plan = plan_import(&bytes, &template, &meta, reading, &stored, overwrite)?;
                Ok((kind, plan))
            })
            .await?
        };
        let mut summary_base = summary_base;
        if let Some((name, _)) = &profile_used {
            summary_base.detected_by = summary_base
                .detected_by
                .map(|how| format!("profile \"{name}\": {how}"));
        }
        let name = match format {
            UploadFormat::Own => "workbook",
            other => other.public_name(),
        };
        let file_name = format!("{name}-upload.{}", extension(kind));
        let content_type = match kind {
            limits::WorkbookKind::Xls => "application/vnd.ms-excel",
            limits::WorkbookKind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            limits::WorkbookKind::Xlsm => "application/vnd.ms-excel.sheet.macroEnabled.12",
            limits::WorkbookKind::Xlsx => XLSX_CONTENT_TYPE,
        };
        finish_import(
            &store,
            &auth,
            &scope,
            &a,
            expected,
            entries,
            summary_base,
            (&file_name, content_type, &bytes),
        )
        .await
    }

    /// Upload Google VSAQ answers
    ///
    /// The vendor. The body is the JSON answer map a VSAQ page saves (question ID -> chosen choice ID); each Yes/No
    /// answer is carried over through the VSAQ crosswalk as a spreadsheet's would be (`same` links become derived
    /// answers marked `vsaq:<id>`, `related` ones hints), other choices are counted as not a choice. Stored as one
    /// new version with the file kept as evidence, or nothing stored when nothing changes. `If-Match` (required)
    /// names the version of the assessment the vendor read.
    #[oai(
        path = "/assessments/:id/vsaq",
        method = "post",
        operation_id = "uploadVsaqAnswers"
    )]
    async fn upload_vsaq(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        slots: Data<&ImportSlots>,
        auth: Auth<Vendor>,
        id: Path<Uuid>,
        /// Let derived answers replace answers the vendor gave directly.
        overwrite: Query<Option<bool>>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        /// The answer map: question ID -> chosen choice ID (or text).
        body: Json<BTreeMap<String, serde_json::Value>>,
    ) -> Result<WorkbookImported, ImportError> {
        let expected = if_match.version()?;
        let scope = vendor_scope(&auth);
        let a = store.get_assessment(&scope, id.0).await?;
        matches_read(&a, expected)?;
        workflow::vendor_may(a.state(), workflow::VendorWork::Answer).map_err(ApiError::from)?;
        let template = templates
            .version(&store, &a.template_id, &a.template_version)
            .await?;
        // Kept as evidence as received in substance: the same map, written back as JSON.
        let bytes = Arc::new(
            serde_json::to_vec_pretty(&body.0)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("VSAQ answers: {e}")))?,
        );
        let stored = store.answers(a.id).await?;
        let overwrite = overwrite.0.unwrap_or(false);
        let (entries, summary) = {
            let bytes = bytes.clone();
            let meta = meta_of(&a, String::new());
            parse_off_thread(&slots, IMPORT_TIME_LIMIT, move || {
                plan_import(&bytes, &template, &meta, Reading::Vsaq, &stored, overwrite)
            })
            .await?
        };
        finish_import(
            &store,
            &auth,
            &scope,
            &a,
            expected,
            entries,
            summary,
            ("vsaq-answers.json", "application/json", &bytes),
        )
        .await
    }
}

/// Stores what an import planned, with the file as evidence; or, when its answers change nothing, stores nothing
/// (no new version, no second copy of the file) and says so.
#[allow(clippy::too_many_arguments)]
async fn finish_import(
    store: &Store,
    auth: &Auth<Vendor>,
    scope: &crate::store::VendorScope,
    a: &AssessmentRecord,
    expected: i64,
    entries: Vec<AnswerEntry>,
    summary: WorkbookImport,
    (file_name, content_type, bytes): (&str, &str, &[u8]),
) -> Result<WorkbookImported, ImportError> {
    if summary.added.is_empty() && summary.changed.is_empty() && summary.cleared.is_empty() {
        return Ok(WorkbookImported::Ok(
            Json(WorkbookImport {
                stored: false,
                evidence_id: None,
                version: a.version,
                ..summary
            }),
            etag(a.version),
        ));
    }
    let (updated, evidence) = store
        .import_answers(
            &auth.actor(),
            scope,
            a.id,
            expected,
            entries,
            file_name,
            content_type,
            bytes,
        )
        .await?;
    Ok(WorkbookImported::Ok(
        Json(WorkbookImport {
            stored: true,
            evidence_id: Some(evidence.id),
            version: updated.version,
            ..summary
        }),
        etag(updated.version),
    ))
}

fn extension(kind: limits::WorkbookKind) -> &'static str {
    match kind {
        limits::WorkbookKind::Xlsx => "xlsx",
        limits::WorkbookKind::Xlsm => "xlsm",
        limits::WorkbookKind::Xls => "xls",
        limits::WorkbookKind::Ods => "ods",
    }
}
