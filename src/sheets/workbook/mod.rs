//! Our own questionnaire workbook: what a vendor downloads to answer an assessment offline, and uploads back.
//!
//! Three sheets. "Instructions" says how to fill it in. "Questions" has one row per question of the template: the
//! ID, section and question cells are locked and the sheet protected, so that a vendor cannot reword a question by
//! accident; the answer, comment and evidence cells are unlocked, and each answer cell carries data validation
//! (a dropdown where the answers are a fixed list). "_meta" is very hidden and names the assessment, template and
//! template version, so that a workbook uploaded to the wrong assessment, or filled against an older version of the
//! questions, is refused instead of being read against questions it was not written for.
//!
//! Sheet protection has no password: Excel's protection is a guard against slips, not a security boundary (it is
//! removed in seconds), and [`import`] checks every cell it reads whatever the protection says. Every text cell
//! written from data goes through [`neutralise`](super::neutralise), so that nothing a vendor, an analyst or a
//! template wrote can run as a formula in the next person's spreadsheet.

mod reader;
mod writer;

pub use reader::import;
pub use writer::export;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::questionnaires::Answer;

/// The sheet of instructions, first in the workbook.
pub const INSTRUCTIONS_SHEET: &str = "Instructions";
/// The sheet a vendor answers on.
pub const QUESTIONS_SHEET: &str = "Questions";
/// The very hidden sheet naming the assessment, template and version.
pub const META_SHEET: &str = "_meta";

/// Names this layout in `_meta`, so that a later layout can tell an old workbook from a foreign one.
const FORMAT_NAME: &str = "procurement-review questionnaire workbook 1";

/// How a multiple-choice answer separates the options chosen (line breaks are read too).
pub const CHOICE_SEPARATOR: &str = "; ";

/// Questions sheet columns, in order. The first six are what a vendor works with; the rest explain each question.
const HEADERS: [&str; 11] = [
    "ID",
    "Section",
    "Question",
    "Answer",
    "Comment",
    "Evidence reference",
    "Answer only if",
    "How to answer",
    "Allowed answers",
    "Guidance",
    "Citation",
];
const ID_COL: u16 = 0;
const ANSWER_COL: u16 = 3;
const COMMENT_COL: u16 = 4;
const EVIDENCE_COL: u16 = 5;
/// First of the explanatory columns ("Answer only if" onwards).
const NOTES_COL: u16 = 6;
/// Width of the instructions sheet's one column.
const INSTRUCTIONS_WIDTH: f64 = 110.0;
const WIDTHS: [f64; 11] = [
    11.0, 20.0, 60.0, 24.0, 40.0, 26.0, 26.0, 30.0, 32.0, 50.0, 22.0,
];

/// `_meta` rows: label in column A, value in column B. Import finds them by label, so their order may change.
const META_ASSESSMENT: &str = "assessment_id";
const META_TEMPLATE: &str = "template_id";
const META_VERSION: &str = "template_version";
const META_VENDOR: &str = "vendor_name";
const META_DUE: &str = "due";
const META_FORMAT: &str = "format";
/// First `_meta` column holding a dropdown list too long or too comma-laden to inline in its validation.
const META_LIST_COL: u16 = 3;

/// Whom and what a workbook is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkbookMeta {
    pub assessment_id: String,
    pub template_id: String,
    /// The template's content hash ([`Template::version`](crate::domain::questionnaires::Template::version)) the
    /// assessment is answered against.
    pub template_version: String,
    pub vendor_name: String,
    /// When the answers are due, shown on the instructions sheet.
    pub due: Option<NaiveDate>,
}

/// An answer already given, prefilled into the export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriorAnswer {
    /// The answer's plain JSON, as [`Answer`] serialises it.
    pub answer: Option<Value>,
    pub comment: Option<String>,
    pub evidence_ref: Option<String>,
}

/// What a vendor wrote against one question.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedAnswer {
    /// None where the answer cell is blank: the question is unanswered.
    pub answer: Option<Answer>,
    pub comment: Option<String>,
    pub evidence_ref: Option<String>,
    /// The answer cell, e.g. `Questions!D14`, for messages that point back into the workbook.
    pub cell: String,
}

/// A workbook read back whole. Only questions with something written against them (an answer, a comment or an
/// evidence reference) appear.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedWorkbook {
    /// By question id.
    pub answers: BTreeMap<String, ImportedAnswer>,
}

#[cfg(test)]
mod tests;
