//! An upload read and weighed against the stored answers: what to store, and the report of what changed, what
//! was kept, skipped or not asked.

use crate::domain::problems::ProblemCode;
use std::collections::BTreeMap;

use poem::http::StatusCode;

use super::{ImportConflict, ImportHint, SkippedCell, WorkbookImport};
use crate::domain::questionnaires::{self as q, Template};
use crate::error::{ApiError, FieldError};
use crate::sheets::external::{self, Mapping};
use crate::sheets::workbook::{self, WorkbookMeta};
use crate::store::AnswerEntry;

/// How many skipped cells an import report lists; the count says how many there were.
const SKIPPED_LISTED: usize = 50;

/// A reading failure as the client sees it: cells and settings by name, the format by its public name.
fn read_failure(failure: external::Failure) -> ApiError {
    use external::Failure;
    let unprocessable = |code: ProblemCode, message: String| ApiError::Problem {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        detail: message.clone(),
        errors: vec![FieldError::new("format", message)],
        allowed: Vec::new(),
        retry_after_seconds: None,
    };
    let readable = || {
        crate::domain::crosswalk::registry()
            .readable_versions()
            .collect::<Vec<_>>()
            .join(", ")
    };
    match failure {
        Failure::Cells(errors) => ApiError::validation(errors),
        Failure::NotFound { asked, message } => unprocessable(
            ProblemCode::FormatNotFound,
            format!("format={asked} was asked, but {message}"),
        ),
        Failure::Mismatch { asked, found } => unprocessable(
            ProblemCode::FormatMismatch,
            format!(
                "format={asked} was asked, but the file is {} ({}); send format={} to read it",
                found.version, found.how, found.version
            ),
        ),
        Failure::NoCrosswalk { found } => unprocessable(
            ProblemCode::UnsupportedFormatVersion,
            format!(
                "the file is {} ({}); this service has no crosswalk for {}, so it reads no answers from it rather \
                 than read them through another version's question IDs. Versions read: {}; any other layout can \
                 be read with format=mapped",
                found.version,
                found.how,
                found.version,
                readable()
            ),
        ),
    }
}

/// How an upload is read.
pub(super) enum Reading {
    /// Our own workbook.
    Own,
    /// A known format, its version told from the file.
    Detected(external::Asked),
    /// A sheet as the caller maps it.
    Mapped(Mapping),
    /// A Google VSAQ answer map.
    Vsaq,
}

/// Reads the upload and works out, against the stored answers, what to store and what to report.
pub(super) fn plan_import(
    bytes: &[u8],
    template: &Template,
    meta: &WorkbookMeta,
    reading: Reading,
    stored: &[crate::store::AnswerRecord],
    overwrite: bool,
) -> Result<(Vec<AnswerEntry>, WorkbookImport), ApiError> {
    let existing = |qid: &str| stored.iter().find(|s| s.question_id == qid);
    let mut entries = Vec::new();
    let mut summary = WorkbookImport {
        format: String::new(),
        detected_by: None,
        stored: false,
        added: vec![],
        changed: vec![],
        cleared: vec![],
        unchanged: 0,
        kept_direct: vec![],
        unmapped: vec![],
        conflicts: vec![],
        hints: vec![],
        not_a_choice: 0,
        not_a_choice_cells: vec![],
        not_asked: vec![],
        evidence_id: None,
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
    let outcome = match reading {
        Reading::Own => {
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
            None
        }
        Reading::Detected(asked) => Some(external::read(bytes, &asked).map_err(read_failure)?),
        Reading::Vsaq => Some(crate::sheets::vsaq::read(bytes).map_err(read_failure)?),
        Reading::Mapped(mapping) => {
            let outcome = external::read_mapped(bytes, &mapping).map_err(read_failure)?;
            Some((outcome, mapping.id_space)).map(|(mut outcome, space)| {
                if let Some(space) = space {
                    // The IDs are that version's; the crosswalk is found by this name below.
                    outcome.version = format!("mapped:{space}");
                }
                outcome
            })
        }
    };
    if let Some(outcome) = outcome {
        let (through, format) = match outcome.version.strip_prefix("mapped:") {
            Some(space) => (external::Through::version(space), "mapped".to_owned()),
            None if outcome.version == "mapped" => {
                (Some(external::Through::OwnIds), outcome.version.clone())
            }
            None => (
                external::Through::version(&outcome.version),
                outcome.version.clone(),
            ),
        };
        let through = through.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("no crosswalk for {}", outcome.version))
        })?;
        summary.format = format;
        summary.detected_by = Some(outcome.how.clone());
        summary.not_a_choice = outcome.not_a_choice.len();
        summary.not_a_choice_cells = outcome
            .not_a_choice
            .iter()
            .take(SKIPPED_LISTED)
            .map(|skipped| SkippedCell {
                cell: skipped.cell.clone(),
                text: skipped.text.clone(),
            })
            .collect();
        let mapped = external::map_to_template(template, &outcome.answers, through);
        summary.unmapped = mapped.unmapped;
        summary.hints = mapped
            .hints
            .into_iter()
            .map(|hint| ImportHint {
                question_id: hint.question_id,
                source: hint.source,
                answer: hint.answer.token().to_owned(),
                comment: hint.comment,
            })
            .collect();
        summary.conflicts = mapped
            .conflicts
            .into_iter()
            .map(|c| ImportConflict {
                question_id: c.question_id,
                sources: c
                    .sources_and_answers
                    .iter()
                    .map(|s| format!("{}={}", s.source, s.answer.token()))
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
