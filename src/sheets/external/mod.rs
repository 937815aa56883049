//! Questionnaires vendors already have, read into Yes / No / N/A answers by their own IDs, then crosswalked onto a
//! template's questions so that an analyst starts from what the vendor has already said.
//!
//! Every format is versioned: CSA CAIQ v3.0.1, v3.1 and v4, EDUCAUSE HECVAT 3 (Full, Lite, On-Prem) and 4, and
//! the FedRAMP control implementation summary (CIS) worksheet in the NIST SP 800-53 Rev. 5 ID space. The version
//! is told from the workbook itself (sheet names, version text, header text and layout, and for a CAIQ v3 that
//! names no version the question IDs only one of v3.0.1 and v3.1 has), never assumed from what the caller asked:
//! a version read through another version's IDs gives wrong answers, which is worse than none (CAIQ v3.1 kept many
//! of v3.0.1's IDs for other questions). A version this service has no crosswalk for (HECVAT 3 Full and On-Prem,
//! a Lite other than 3.06), or a CAIQ v3 whose version is not settled, is refused by name; a mismatch between the
//! family or version asked and the one found is named. Any other layout is read as the caller maps it
//! ([`Mapping`]), by our own question IDs or by the IDs of a named version.
//!
//! The readers are layout-tolerant, not layout-blind: they find sheets and header rows by their text (spacing,
//! case and line breaks aside) rather than by position, and take as a question any row whose ID cell looks like
//! an ID of the format, so section rows, notes, "End of Standard" and copyright lines fall away by themselves.
//! Hidden sheets, rows and columns are read like visible ones, and formula cells by their cached value.
//!
//! Nothing here copies the formats' questions: only IDs and answers are read.

mod caiq;
mod cis;
mod hecvat;
mod mapped;
mod to_template;

pub use cis::nist_control;
pub use mapped::{check_mapping, parse_answer_words};
pub use to_template::{
    Conflict, CrosswalkResult, Derived, Hint, SourcedAnswer, Through, map_to_template,
};

use std::collections::HashMap;

use calamine::{Data, Range};
use serde::Serialize;

use super::{Workbook, cell_ref, cell_text, rows_of};
use crate::domain::crosswalk;
/// The hand mapping is a plain value of the domain (a saved profile holds one); re-exported where it is read.
pub use crate::domain::crosswalk::Mapping;
use crate::error::FieldError;
use caiq::{detect_caiq, read_caiq_v3, read_caiq_v4};
use cis::{detect_cis, read_cis};
use hecvat::{HecvatVersion, detect_hecvat, read_hecvat};
use mapped::read_mapping;

/// A questionnaire family, as `format=` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Caiq,
    Hecvat,
    Nist,
}

impl Family {
    /// The public name, as in `format=`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Caiq => "caiq",
            Family::Hecvat => "hecvat",
            Family::Nist => "nist-800-53",
        }
    }
}

/// What the caller asked to read: a family, and perhaps one version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub family: Family,
    /// A public version name such as `caiq-v4`; `None` for any version of the family.
    pub version: Option<&'static str>,
}

impl Asked {
    /// As the caller wrote it in `format=`.
    pub fn name(&self) -> &'static str {
        self.version.unwrap_or(self.family.name())
    }
}

/// A layout found in the workbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    #[serde(skip)]
    pub family: Family,
    /// Public version name: `caiq-v4`, `hecvat-3`, `nist-800-53r5`, ...
    pub version: String,
    /// How it was told, in words: the sheet, version text or header that gave it away.
    pub how: String,
}

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Cells or mapping settings at fault, each named.
    Cells(Vec<FieldError>),
    /// No layout of the asked family; names the sheets found, and what was found instead if anything.
    NotFound { asked: String, message: String },
    /// A layout was found, but not the one asked for.
    Mismatch { asked: String, found: Detected },
    /// A version this service knows but has no crosswalk for.
    NoCrosswalk { found: Detected },
}

impl From<Vec<FieldError>> for Failure {
    fn from(errors: Vec<FieldError>) -> Self {
        Failure::Cells(errors)
    }
}

impl From<FieldError> for Failure {
    fn from(error: FieldError) -> Self {
        Failure::Cells(vec![error])
    }
}

/// The three answers the crosswalk carries over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalValue {
    Yes,
    No,
    Na,
}

impl ExternalValue {
    /// Reads `yes`, `no`, `na` or `n/a` in any case.
    fn parse(text: &str) -> Option<ExternalValue> {
        match text.trim().to_ascii_lowercase().as_str() {
            "yes" => Some(ExternalValue::Yes),
            "no" => Some(ExternalValue::No),
            "na" | "n/a" => Some(ExternalValue::Na),
            _ => None,
        }
    }

    /// As a person reads it: Yes, No, N/A.
    pub fn label(self) -> &'static str {
        match self {
            ExternalValue::Yes => "Yes",
            ExternalValue::No => "No",
            ExternalValue::Na => "N/A",
        }
    }

    /// As stored and reported: `yes`, `no`, `na`.
    pub fn token(self) -> &'static str {
        match self {
            ExternalValue::Yes => "yes",
            ExternalValue::No => "no",
            ExternalValue::Na => "na",
        }
    }
}

/// One answer read from a vendor's own questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalAnswer {
    /// The question's ID in its own format, e.g. `IAM-14.1`, `HLDA-07` or `AC-2(1)`.
    pub source_id: String,
    pub answer: ExternalValue,
    /// The vendor's explanation: CAIQ's implementation description or notes, HECVAT's additional information,
    /// or the mapping's comment column.
    pub comment: Option<String>,
    /// The answer cell, e.g. `CAIQv4.0.3!C14`.
    pub cell: String,
}

/// An answer cell whose text is not a choice (a free-text answer, or a mark meaning neither Yes, No nor N/A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotAChoice {
    pub cell: String,
    pub text: String,
}

/// What was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The version read (`caiq-v4`, ...) or `mapped`.
    pub version: String,
    /// How the version was told, or the mapping used.
    pub how: String,
    pub answers: Vec<ExternalAnswer>,
    /// Answer cells skipped as not a choice, in sheet order.
    pub not_a_choice: Vec<NotAChoice>,
}

/// Reads every answer of the format asked from `bytes`, after telling its version from the workbook. The whole
/// workbook is checked first: every cell at fault is reported and nothing is returned unless all pass. Blank
/// answers are unanswered, not errors; answers other than Yes / No / N/A where a format mixes in free-text
/// questions (HECVAT's vendor name, product) are skipped as not a choice. An ID answered twice keeps its first
/// answer; a second, different answer is an error naming both cells, as one of them must be wrong and only the
/// vendor knows which.
#[tracing::instrument(level = "debug", skip_all, fields(bytes = bytes.len()))]
pub fn read(bytes: &[u8], asked: &Asked) -> Result<Outcome, Failure> {
    let book = Workbook::open(bytes)?;
    // The asked family first; the others only to name what was sent instead.
    let Some(detected) = detect_family(&book, asked.family) else {
        let message = match detect(&book).into_iter().next() {
            Some(other) => {
                return Err(Failure::Mismatch {
                    asked: asked.name().to_owned(),
                    found: other,
                });
            }
            None => format!(
                "no {} layout found; its sheets are {}",
                family_title(asked.family),
                sheet_list(&book)
            ),
        };
        return Err(Failure::NotFound {
            asked: asked.name().to_owned(),
            message,
        });
    };
    let detected = &detected;
    if let Some(version) = asked.version
        && version != detected.version
    {
        return Err(Failure::Mismatch {
            asked: version.to_owned(),
            found: detected.clone(),
        });
    }
    if crosswalk::registry().crosswalk(&detected.version).is_none() {
        return Err(Failure::NoCrosswalk {
            found: detected.clone(),
        });
    }
    let mut out = Collector::default();
    match detected.version.as_str() {
        "caiq-v4" => read_caiq_v4(&book, &mut out)?,
        "caiq-v3.0.1" | "caiq-v3.1" => read_caiq_v3(&book, &mut out)?,
        "hecvat-4" => read_hecvat(&book, HecvatVersion::V4, &mut out)?,
        "hecvat-3-lite" => read_hecvat(&book, HecvatVersion::V3, &mut out)?,
        "nist-800-53r5" => read_cis(&book, &mut out)?,
        other => unreachable!("{other} has a crosswalk but no reader"),
    }
    let (answers, not_a_choice) = out.finish()?;
    Ok(Outcome {
        version: detected.version.clone(),
        how: detected.how.clone(),
        answers,
        not_a_choice,
    })
}

/// Reads a sheet as `mapping` describes it.
#[tracing::instrument(level = "debug", skip_all, fields(bytes = bytes.len()))]
pub fn read_mapped(bytes: &[u8], mapping: &Mapping) -> Result<Outcome, Failure> {
    let book = Workbook::open(bytes)?;
    let mut out = Collector::default();
    read_mapping(&book, mapping, &mut out)?;
    let (answers, not_a_choice) = out.finish()?;
    Ok(Outcome {
        version: "mapped".to_owned(),
        how: match &mapping.id_space {
            Some(space) => format!("sheet \"{}\" as mapped, IDs of {space}", mapping.sheet),
            None => format!(
                "sheet \"{}\" as mapped, our own question IDs",
                mapping.sheet
            ),
        },
        answers,
        not_a_choice,
    })
}

fn family_title(family: Family) -> &'static str {
    match family {
        Family::Caiq => "CSA CAIQ",
        Family::Hecvat => "EDUCAUSE HECVAT",
        Family::Nist => "FedRAMP control implementation summary (NIST SP 800-53)",
    }
}

/// Answers in sheet order, with repeats resolved and every error kept.
#[derive(Default)]
struct Collector {
    answers: Vec<ExternalAnswer>,
    by_id: HashMap<String, usize>,
    errors: Vec<FieldError>,
    not_a_choice: Vec<NotAChoice>,
}

impl Collector {
    fn add(&mut self, answer: ExternalAnswer) {
        match self.by_id.get(&answer.source_id) {
            Some(&first) => {
                let first = &self.answers[first];
                if first.answer != answer.answer {
                    self.errors.push(FieldError::new(
                        answer.cell.clone(),
                        format!(
                            "{} is answered {} here but {} at {}; the two answers must agree",
                            answer.source_id,
                            answer.answer.label(),
                            first.answer.label(),
                            first.cell
                        ),
                    ));
                }
            }
            None => {
                self.by_id
                    .insert(answer.source_id.clone(), self.answers.len());
                self.answers.push(answer);
            }
        }
    }

    fn error(&mut self, field: String, message: String) {
        self.errors.push(FieldError::new(field, message));
    }

    fn skip(&mut self, cell: String, text: String) {
        self.not_a_choice.push(NotAChoice { cell, text });
    }

    fn finish(self) -> Result<(Vec<ExternalAnswer>, Vec<NotAChoice>), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok((self.answers, self.not_a_choice))
        } else {
            Err(self.errors)
        }
    }
}

/// Header text as compared: runs of spaces and line breaks as one space, lower case.
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The text of the cell at absolute column `col` of a row from [`rows_of`].
fn text_at(cells: &[(u32, &Data)], col: u32) -> String {
    cells
        .iter()
        .find(|(c, _)| *c == col)
        .map(|(_, cell)| cell_text(cell))
        .unwrap_or_default()
}

fn optional(text: String) -> Option<String> {
    if text.is_empty() { None } else { Some(text) }
}

fn sheet_list(book: &Workbook) -> String {
    book.sheets
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows searched for a header: published files have it within the first few rows, edited copies a few lower.
const HEADER_SEARCH_ROWS: u32 = 10;

/// The first row among the first [`HEADER_SEARCH_ROWS`] with a cell that `is_key` accepts, with its normalised
/// header texts by column.
fn find_header(
    range: &Range<Data>,
    is_key: impl Fn(&str) -> bool,
) -> Option<(u32, Vec<(u32, String)>)> {
    header_rows(range).find(|(_, texts)| texts.iter().any(|(_, text)| is_key(text)))
}

/// The first [`HEADER_SEARCH_ROWS`] rows as normalised texts by column.
fn header_rows(range: &Range<Data>) -> impl Iterator<Item = (u32, Vec<(u32, String)>)> + '_ {
    let (first_row, _) = range.start().unwrap_or((0, 0));
    rows_of(range)
        .take_while(move |(row, _)| *row < first_row + HEADER_SEARCH_ROWS)
        .map(|(row, cells)| {
            let texts: Vec<(u32, String)> = cells
                .into_iter()
                .map(|(col, cell)| (col, normalise(&cell_text(cell))))
                .filter(|(_, text)| !text.is_empty())
                .collect();
            (row, texts)
        })
}

/// The texts of the first rows of a sheet, joined, for version markers.
fn leading_text(range: &Range<Data>, rows: usize) -> String {
    rows_of(range)
        .take(rows)
        .flat_map(|(_, cells)| cells.into_iter().map(|(_, cell)| cell_text(cell)))
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The one answer marked among `marks` (column, meaning) on a row; an error naming the cells when several are.
fn marked(
    sheet: &str,
    row: u32,
    cells: &[(u32, &Data)],
    marks: &[(u32, ExternalValue)],
    out: &mut Collector,
) -> Option<ExternalValue> {
    let set: Vec<&(u32, ExternalValue)> = marks
        .iter()
        .filter(|(col, _)| !text_at(cells, *col).is_empty())
        .collect();
    match set.as_slice() {
        [] => None,
        [(_, answer)] => Some(*answer),
        several => {
            out.error(
                cell_ref(sheet, row, several[0].0),
                format!(
                    "marked as {} at once ({}); mark one",
                    several
                        .iter()
                        .map(|(_, v)| v.label())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    several
                        .iter()
                        .map(|(col, _)| cell_ref(sheet, row, *col))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Detection.

/// Every layout found in `book`, at most one per family, in family order.
pub fn detect(book: &Workbook) -> Vec<Detected> {
    [Family::Caiq, Family::Hecvat, Family::Nist]
        .into_iter()
        .filter_map(|family| detect_family(book, family))
        .collect()
}

/// The layout of `family` found in `book`, if any.
pub fn detect_family(book: &Workbook, family: Family) -> Option<Detected> {
    match family {
        Family::Caiq => detect_caiq(book),
        Family::Hecvat => detect_hecvat(book),
        Family::Nist => detect_cis(book),
    }
}

#[cfg(test)]
mod tests;
