//! The import: the `_meta` sheet checked against the assessment first, then every answer, comment and evidence
//! cell read and checked against its question.

use std::collections::BTreeMap;

use calamine::{Data, Range};

use serde_json::Value;

use super::{
    ANSWER_COL, COMMENT_COL, EVIDENCE_COL, HEADERS, ID_COL, ImportedAnswer, ImportedWorkbook,
    META_ASSESSMENT, META_SHEET, META_TEMPLATE, META_VERSION, QUESTIONS_SHEET, WorkbookMeta,
};
use crate::domain::questionnaires::{
    Answer, AnswerKind, MAX_COMMENT_CHARS, MAX_EVIDENCE_REF_CHARS, Question, Template, note_text,
    parse_answer,
};
use crate::error::FieldError;
use crate::sheets::{Workbook, cell_ref, cell_text, rows_of, split_list, unneutralise};

/// Reads a filled-in workbook back, checking all of it first: every cell at fault is reported, by cell, and
/// nothing is returned unless every cell passes. A blank answer cell is an unanswered question, not an error, and
/// so is a question whose row is missing. A workbook made for another assessment, template or template version is
/// refused on its `_meta` sheet alone: its answers were written against other questions, so judging them cell by
/// cell would only bury that one message.
#[tracing::instrument(level = "debug", skip_all)]
pub fn import(
    bytes: &[u8],
    expected: &WorkbookMeta,
    template: &Template,
) -> Result<ImportedWorkbook, Vec<FieldError>> {
    let book = Workbook::open(bytes).map_err(|error| vec![error])?;
    check_meta(&book, expected, template)?;
    let Some((_, range)) = book.sheet(QUESTIONS_SHEET) else {
        return Err(vec![FieldError::new(
            QUESTIONS_SHEET,
            format!("the workbook has no \"{QUESTIONS_SHEET}\" sheet; was it renamed or deleted?"),
        )]);
    };
    read_questions(range, template)
}

fn check_meta(
    book: &Workbook,
    expected: &WorkbookMeta,
    template: &Template,
) -> Result<(), Vec<FieldError>> {
    let fresh = "download a fresh workbook for this assessment and copy your answers into it";
    let Some((_, range)) = book.sheet(META_SHEET) else {
        return Err(vec![FieldError::new(
            "file",
            format!(
                "this is not a questionnaire workbook from this service (it has no {META_SHEET} sheet naming its \
                 assessment); {fresh}"
            ),
        )]);
    };
    let mut values: BTreeMap<String, (String, u32)> = BTreeMap::new();
    for (row, cells) in rows_of(range) {
        let text = |col: u32| {
            cells
                .iter()
                .find(|(c, _)| *c == col)
                .map(|(_, cell)| cell_text(cell))
                .unwrap_or_default()
        };
        values.entry(text(0)).or_insert((text(1), row));
    }
    let field = |label: &str, fallback_row: u32| {
        let row = values.get(label).map_or(fallback_row, |(_, row)| *row);
        cell_ref(META_SHEET, row, 1)
    };
    let value = |label: &str| {
        values
            .get(label)
            .map(|(value, _)| value.as_str())
            .unwrap_or_default()
    };

    let mut errors = Vec::new();
    if value(META_ASSESSMENT) != expected.assessment_id {
        errors.push(FieldError::new(
            field(META_ASSESSMENT, 0),
            format!(
                "this workbook is for assessment {}, not assessment {}; upload it to its own assessment, or {fresh}",
                quoted_or_none(value(META_ASSESSMENT)),
                expected.assessment_id
            ),
        ));
    } else if value(META_TEMPLATE) != expected.template_id {
        errors.push(FieldError::new(
            field(META_TEMPLATE, 1),
            format!(
                "this workbook holds the questionnaire {}, but this assessment asks {}; {fresh}",
                quoted_or_none(value(META_TEMPLATE)),
                expected.template_id
            ),
        ));
    } else if value(META_VERSION) != expected.template_version {
        errors.push(FieldError::new(
            field(META_VERSION, 2),
            format!(
                "this workbook was made from version {} of the questionnaire {}, and the assessment is answered \
                 against version {}: the questions have changed since; {fresh}",
                short_version(value(META_VERSION)),
                expected.template_id,
                short_version(&expected.template_version)
            ),
        ));
    }
    // The answers are read against `template`: if it is not the version the assessment names, reading them
    // would judge them against other questions, so refuse rather than guess.
    if errors.is_empty()
        && (template.id != expected.template_id || template.version() != expected.template_version)
    {
        errors.push(FieldError::new(
            field(META_VERSION, 2),
            format!(
                "this assessment is answered against version {} of the questionnaire {}, which is not the one \
                 the service has loaded ({} version {}); ask the city's review team to look into it",
                short_version(&expected.template_version),
                expected.template_id,
                template.id,
                short_version(template.version())
            ),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn quoted_or_none(text: &str) -> String {
    if text.is_empty() {
        "(none named)".to_owned()
    } else {
        format!("\"{text}\"")
    }
}

/// The first 12 hex digits name a version well enough for a person; the full hash is noise in a message.
fn short_version(version: &str) -> String {
    if version.is_empty() {
        "(none named)".to_owned()
    } else {
        version.chars().take(12).collect()
    }
}

fn normalise_header(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn read_questions(
    range: &Range<Data>,
    template: &Template,
) -> Result<ImportedWorkbook, Vec<FieldError>> {
    let mut rows = rows_of(range).peekable();
    let header_row = match rows.peek() {
        Some((row, _)) if *row == 0 => rows.next(),
        _ => None,
    };
    let header: BTreeMap<u32, String> = header_row
        .map(|(_, cells)| {
            cells
                .into_iter()
                .map(|(col, cell)| (col, normalise_header(&cell_text(cell))))
                .collect()
        })
        .unwrap_or_default();
    let mut errors = Vec::new();
    for col in [ID_COL, ANSWER_COL, COMMENT_COL, EVIDENCE_COL] {
        let wanted = HEADERS[usize::from(col)];
        if header.get(&u32::from(col)) != Some(&normalise_header(wanted)) {
            errors.push(FieldError::new(
                cell_ref(QUESTIONS_SHEET, 0, u32::from(col)),
                format!(
                    "the header should read \"{wanted}\"; columns must not be moved, inserted or deleted: {}",
                    "download a fresh workbook and copy your answers into it"
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut answers = BTreeMap::new();
    let mut first_row_of: BTreeMap<String, u32> = BTreeMap::new();
    for (row, cells) in rows {
        let cell = |col: u16| {
            cells
                .iter()
                .find(|(c, _)| *c == u32::from(col))
                .map_or(&Data::Empty, |(_, cell)| *cell)
        };
        let at = |col: u16| cell_ref(QUESTIONS_SHEET, row, u32::from(col));
        let id = cell_text(cell(ID_COL));
        let comment = optional_text(
            cell(COMMENT_COL),
            at(COMMENT_COL),
            MAX_COMMENT_CHARS,
            &mut errors,
        );
        let evidence_ref = optional_text(
            cell(EVIDENCE_COL),
            at(EVIDENCE_COL),
            MAX_EVIDENCE_REF_CHARS,
            &mut errors,
        );
        let answer_cell = cell(ANSWER_COL);
        let written = !is_blank(answer_cell) || comment.is_some() || evidence_ref.is_some();
        if id.is_empty() {
            if written {
                errors.push(FieldError::new(
                    at(ID_COL),
                    "this row has an answer but no question ID; answers are matched to questions by ID, so the \
                     ID cell must not be cleared",
                ));
            }
            continue;
        }
        let Some(question) = template.question(&id) else {
            errors.push(FieldError::new(
                at(ID_COL),
                format!(
                    "\"{id}\" is not a question of this questionnaire; ID cells must not be edited (download a fresh \
                     workbook if unsure)"
                ),
            ));
            continue;
        };
        if let Some(first) = first_row_of.get(&id) {
            errors.push(FieldError::new(
                at(ID_COL),
                format!("{id} appears a second time; its row is {}", first + 1),
            ));
            continue;
        }
        first_row_of.insert(id.clone(), row);
        let answer = match read_answer(question, answer_cell) {
            Ok(answer) => answer,
            Err(message) => {
                errors.push(FieldError::new(at(ANSWER_COL), message));
                None
            }
        };
        // A blank answer clears the question, and a cleared question keeps no notes: rather than lose them, the
        // row is refused.
        if is_blank(answer_cell) {
            for (col, note) in [(COMMENT_COL, &comment), (EVIDENCE_COL, &evidence_ref)] {
                if note.is_some() {
                    errors.push(FieldError::new(
                        at(col),
                        format!(
                            "{} is filled in but the answer ({}) is blank; answer {id} too, or clear this cell",
                            HEADERS[usize::from(col)],
                            at(ANSWER_COL)
                        ),
                    ));
                }
            }
        }
        if written {
            answers.insert(
                id,
                ImportedAnswer {
                    answer,
                    comment,
                    evidence_ref,
                    cell: at(ANSWER_COL),
                },
            );
        }
    }
    if errors.is_empty() {
        Ok(ImportedWorkbook { answers })
    } else {
        Err(errors)
    }
}

fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(text) => unneutralise(text).trim().is_empty(),
        _ => false,
    }
}

fn optional_text(
    cell: &Data,
    field: String,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    note_text(Some(&cell_text(cell)), max).unwrap_or_else(|message| {
        errors.push(FieldError::new(field, message));
        None
    })
}

/// The JSON [`parse_answer`] expects for what a vendor wrote, then parsed by it, so that a workbook and the API
/// accept exactly the same answers with the same messages.
fn read_answer(question: &Question, cell: &Data) -> Result<Option<Answer>, String> {
    if is_blank(cell) {
        return Ok(None);
    }
    let text = cell_text(cell);
    let value = match (question.kind, cell) {
        (_, Data::Error(error)) => {
            return Err(format!(
                "the cell shows the error {error:?}; type the answer as a value"
            ));
        }
        (AnswerKind::YesNo, Data::Bool(answer)) => Value::Bool(*answer),
        (AnswerKind::Number, Data::Int(number)) => Value::from(*number),
        (AnswerKind::Number, Data::Float(number)) => Value::from(*number),
        (AnswerKind::Date, Data::DateTime(date)) => {
            let (year, month, day, ..) = date.to_ymd_hms_milli();
            Value::from(format!("{year:04}-{month:02}-{day:02}"))
        }
        (AnswerKind::Date, Data::DateTimeIso(iso)) => {
            Value::from(iso.chars().take(10).collect::<String>())
        }
        (AnswerKind::Date, Data::Float(_) | Data::Int(_)) => {
            return Err(format!(
                "{text} is not a date; type a date such as 2025-07-01"
            ));
        }
        (AnswerKind::MultipleChoice, _) if !(question.na_allowed && is_na(&text)) => {
            Value::from(split_list(&text))
        }
        _ => Value::from(text),
    };
    parse_answer(question, &value).map(Some)
}

fn is_na(text: &str) -> bool {
    matches!(text.trim().to_ascii_lowercase().as_str(), "na" | "n/a")
}
