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

use std::collections::{BTreeMap, HashMap};

use calamine::{Data, Range};
use serde::{Deserialize, Serialize};

use super::{Workbook, cell_ref, cell_text, rows_of};
use crate::domain::crosswalk::{self, Crosswalk};
use crate::domain::questionnaire::{Answer, AnswerKind, Template, YesNo};
use crate::error::FieldError;

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

/// Where a hand-mapped sheet keeps its IDs and answers, and what its answer words mean. Field names are the query
/// parameters' (and a saved profile's), so that a fault names the setting as the caller wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Sheet name, matched without regard to case.
    pub sheet: String,
    /// 1-based row of the header; answers are read from the rows below it.
    pub header_row: u32,
    /// Column letters, e.g. `A`.
    pub id_column: String,
    /// One column holding answer words. Either this or the mark columns below.
    #[serde(default)]
    pub answer_column: Option<String>,
    /// Columns where a mark (any text, usually `X`) means Yes, No or N/A, as CAIQ v3 and the FedRAMP CIS
    /// worksheet lay their answers out.
    #[serde(default)]
    pub yes_column: Option<String>,
    #[serde(default)]
    pub no_column: Option<String>,
    #[serde(default)]
    pub na_column: Option<String>,
    #[serde(default)]
    pub comment_column: Option<String>,
    /// What each answer word means, as `yes`, `no` or `na`; words are matched without regard to case or
    /// surrounding spaces, e.g. `"Implemented" -> "yes"`, `"Partial" -> "no"`. Empty: Yes, No, NA and N/A. Any
    /// other text in the answer column (a free-text answer) is not a choice: skipped and counted, not an error.
    #[serde(default)]
    pub answer_words: BTreeMap<String, String>,
    /// The format version whose IDs the sheet holds (e.g. `caiq-v4` for a CAIQ re-typed into another layout), so
    /// that its crosswalk is used; without it, the IDs are read as our own question IDs.
    #[serde(default)]
    pub id_space: Option<String>,
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

fn detect_caiq(book: &Workbook) -> Option<Detected> {
    if let Some((name, _)) = book
        .sheets
        .iter()
        .find(|(name, _)| normalise(name).replace(' ', "").starts_with("caiqv4"))
    {
        return Some(Detected {
            family: Family::Caiq,
            version: "caiq-v4".to_owned(),
            how: format!("sheet \"{name}\" (CAIQ v4 layout: Question ID, CSP CAIQ Answer)"),
        });
    }
    let (name, range, _) = caiq_v3_sheet(book)?;
    let named = caiq_v3_versions_named(&format!("{name} {}", leading_text(range, 3)));
    let (version, how) = match named.as_slice() {
        [version] => (
            *version,
            format!(
                "sheet \"{name}\" names version {} (Yes / No / Not Applicable answer columns)",
                version.trim_start_matches("caiq-v")
            ),
        ),
        _ => caiq_v3_version_by_ids(name, range),
    };
    Some(Detected {
        family: Family::Caiq,
        version: version.to_owned(),
        how,
    })
}

/// The CAIQ v3 versions `text` (a sheet's name and first rows) names as the questionnaire's: `3.0.1` or `3.1` after
/// "CAIQ" or "Questionnaire" (with or without a `v` or "version" between). Other version numbers are not the
/// questionnaire's: CAIQ v3.1's own header says "CCM v3.0.1 Compliance Mapping", as it asks about the controls of
/// CCM v3.0.1, and its mapping columns name other standards' versions.
fn caiq_v3_versions_named(text: &str) -> Vec<&'static str> {
    let text = text.to_lowercase().replace(['_', '-'], " ");
    let mut named = Vec::new();
    for (number, version) in [("3.0.1", "caiq-v3.0.1"), ("3.1", "caiq-v3.1")] {
        let is_named = text.match_indices(number).any(|(at, _)| {
            let (before, after) = (&text[..at], &text[at + number.len()..]);
            // Not part of a longer number: 13.1, 3.1.2.
            let digit = |c: char| c.is_ascii_digit();
            let bounded = !before.ends_with(|c: char| digit(c) || c == '.')
                && !after.starts_with(digit)
                && !after
                    .strip_prefix('.')
                    .is_some_and(|rest| rest.starts_with(digit));
            let before = before.trim_end();
            let before = before
                .strip_suffix("version")
                .or_else(|| before.strip_suffix('v'))
                .unwrap_or(before)
                .trim_end();
            bounded && (before.ends_with("caiq") || before.ends_with("questionnaire"))
        });
        if is_named {
            named.push(version);
        }
    }
    named
}

/// The version of a CAIQ v3 sheet that names none (or both), told by its question IDs: CAIQ v3.1 dropped some of
/// v3.0.1's IDs (`DSI-01.7`) and added others (`STA-05.6`), and kept the rest, some of them asking something else
/// (`HRS-01.1`). Only IDs of one version alone settle it; IDs both share, a mix, or an ID of neither are refused
/// as `caiq-v3`, never guessed.
fn caiq_v3_version_by_ids(name: &str, range: &Range<Data>) -> (&'static str, String) {
    let list = |version: &str| {
        &crosswalk::registry()
            .id_list(version)
            .unwrap_or_else(|| panic!("the {version} list is shipped"))
            .questions
    };
    let (v3_0_1, v3_1) = (list("caiq-v3.0.1"), list("caiq-v3.1"));
    let ids = caiq_ids(range);
    let of = |in_3_0_1: bool, in_3_1: bool| -> Vec<&str> {
        ids.iter()
            .filter(|id| v3_0_1.contains_key(*id) == in_3_0_1 && v3_1.contains_key(*id) == in_3_1)
            .map(String::as_str)
            .collect()
    };
    let (only_3_0_1, only_3_1, neither) = (of(true, false), of(false, true), of(false, false));
    let head = format!("sheet \"{name}\" in the CAIQ v3 layout names no single version");
    let count = ids.len();
    match (only_3_0_1.first(), only_3_1.first()) {
        _ if ids.is_empty() => ("caiq-v3", format!("{head} and holds no question IDs")),
        _ if !neither.is_empty() => (
            "caiq-v3",
            format!(
                "{head}, and it holds question IDs of neither CAIQ v3.0.1 nor v3.1 ({} of {count}, first {})",
                neither.len(),
                neither[0]
            ),
        ),
        (Some(first), None) => (
            "caiq-v3.0.1",
            format!(
                "{head}; its {count} question IDs are all CAIQ v3.0.1's, {} of them v3.0.1's alone ({first})",
                only_3_0_1.len()
            ),
        ),
        (None, Some(first)) => (
            "caiq-v3.1",
            format!(
                "{head}; its {count} question IDs are all CAIQ v3.1's, {} of them v3.1's alone ({first})",
                only_3_1.len()
            ),
        ),
        (Some(old), Some(new)) => (
            "caiq-v3",
            format!("{head}, and its question IDs mix CAIQ v3.0.1's ({old}) and v3.1's ({new})"),
        ),
        (None, None) => (
            "caiq-v3",
            format!(
                "{head}, and all of its {count} question IDs are in both CAIQ v3.0.1 and v3.1, which ask \
                 different things under some of the same IDs; name the version in the sheet name or title \
                 (for example \"CAIQ v3.1\")"
            ),
        ),
    }
}

/// The CAIQ v3 answer layout: a header row with "Question ID" and the questions' column, then (on that row or one
/// of the next two: v3.0.1 has a two-row header, v3.1 a three-row one) the three answer columns "Yes", "No" and
/// "Not Applicable", and a "Notes" column on any of those rows.
struct CaiqV3Columns {
    header_row: u32,
    id: u32,
    yes: u32,
    no: u32,
    na: u32,
    notes: Option<u32>,
}

fn caiq_v3_sheet(book: &Workbook) -> Option<(&str, &Range<Data>, CaiqV3Columns)> {
    book.sheets.iter().find_map(|(name, range)| {
        let rows: Vec<(u32, Vec<(u32, String)>)> = header_rows(range).collect();
        let (index, header) = rows.iter().enumerate().find(|(_, (_, texts))| {
            texts.iter().any(|(_, t)| t == "question id")
                && texts
                    .iter()
                    .any(|(_, t)| t.starts_with("consensus assessment"))
        })?;
        let column = |texts: &[(u32, String)], wanted: &str| {
            texts.iter().find(|(_, t)| t == wanted).map(|(col, _)| *col)
        };
        let id = column(&header.1, "question id")?;
        let answer_index = rows[index..].iter().take(3).position(|(_, texts)| {
            column(texts, "yes").is_some() && column(texts, "not applicable").is_some()
        })?;
        let answer_row = &rows[index + answer_index];
        let notes = rows[index..=index + answer_index]
            .iter()
            .flat_map(|(_, texts)| texts)
            .find(|(_, t)| t.starts_with("notes"))
            .map(|(col, _)| *col);
        Some((
            name.as_str(),
            range,
            CaiqV3Columns {
                header_row: answer_row.0,
                id,
                yes: column(&answer_row.1, "yes")?,
                no: column(&answer_row.1, "no")?,
                na: column(&answer_row.1, "not applicable")?,
                notes,
            },
        ))
    })
}

/// The CAIQ-looking IDs of a sheet's first column that holds any.
fn caiq_ids(range: &Range<Data>) -> Vec<String> {
    rows_of(range)
        .filter_map(|(_, cells)| {
            cells
                .iter()
                .map(|(_, cell)| caiq_id_of(&cell_text(cell)))
                .find(|id| is_caiq_id(id))
        })
        .collect()
}

/// A CAIQ ID as written, spaces removed (the published v3.0.1 writes `AIS- 02.2`).
fn caiq_id_of(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn detect_hecvat(book: &Workbook) -> Option<Detected> {
    if let Some((name, range)) = book.sheets.iter().find(|(name, range)| {
        normalise(name).starts_with("hecvat") && has_block_header(range, HecvatVersion::V3)
    }) {
        return Some(detect_hecvat_3(book, name, range));
    }
    let tabs: Vec<&str> = book
        .sheets
        .iter()
        .filter(|(_, range)| has_block_header(range, HecvatVersion::V4))
        .map(|(name, _)| name.as_str())
        .collect();
    if tabs.is_empty() {
        return None;
    }
    // HECVAT 4 names its version on the start sheet; the layout alone tells 4 from 3 all the same.
    let stated = book
        .sheets
        .iter()
        .filter(|(name, _)| normalise(name).starts_with("start"))
        .find_map(|(_, range)| hecvat_version_text(&leading_text(range, 30), &['4']));
    let list = tabs
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Detected {
        family: Family::Hecvat,
        version: "hecvat-4".to_owned(),
        how: match stated {
            Some(version) => {
                format!("HECVAT {version} named on the start sheet; answers on {list}")
            }
            None => {
                format!("\"Answer | Additional Information\" blocks (HECVAT 4 layout) on {list}")
            }
        },
    })
}

/// The Lite 3 version whose question IDs were reviewed (`questionnaires/formats/hecvat-3-lite.toml`).
const HECVAT_LITE_REVIEWED: &str = "3.06";

/// A HECVAT 3 question sheet (`HECVAT - Full`, `- Lite`, `- On-Prem`, with "Vendor Answers" blocks). Lite is told by
/// the sheet's name (or, on a sheet whose name names no edition, by its own `HLxx-nn` IDs), and is read only when the workbook names no other version than
/// the reviewed one and every ID on the sheet is in that version's list: Lite 2.x and its offshoots reuse the same
/// IDs for other questions. Full and On-Prem are known but have no reviewed ID list, so they are refused by name.
fn detect_hecvat_3(book: &Workbook, name: &str, range: &Range<Data>) -> Detected {
    let ids = hecvat_sheet_ids(range);
    let lite_ids = ids.iter().filter(|id| is_hecvat_lite_id(id)).count();
    let sheet_name = normalise(name);
    // The sheet's name says the edition; Lite's own IDs tell it only on a sheet renamed to say none.
    let edition = if sheet_name.contains("lite") {
        "Lite"
    } else if sheet_name.contains("prem") {
        "On-Prem"
    } else if sheet_name.contains("full") || lite_ids == 0 {
        "Full"
    } else {
        "Lite"
    };
    let stated = std::iter::once(range)
        .chain(
            book.sheets
                .iter()
                .filter(|(n, _)| {
                    let n = normalise(n);
                    n.starts_with("start") || n.starts_with("instructions")
                })
                .map(|(_, r)| r),
        )
        .find_map(|r| hecvat_version_text(&leading_text(r, 30), &['2', '3']));
    let named = stated.as_deref().map_or_else(String::new, |v| {
        format!(", version {v} named in the workbook")
    });
    let layout =
        format!("sheet \"{name}\" with \"Vendor Answers\" blocks (HECVAT 3 {edition}{named})");
    if edition != "Lite" {
        return Detected {
            family: Family::Hecvat,
            version: "hecvat-3".to_owned(),
            how: layout,
        };
    }
    let list = crosswalk::registry()
        .id_list("hecvat-3-lite")
        .expect("the HECVAT Lite 3 list is shipped");
    let unknown: Vec<&String> = ids
        .iter()
        .filter(|id| !list.questions.contains_key(*id))
        .collect();
    let (version, how) = match (&stated, unknown.first()) {
        (Some(v), _) if v != HECVAT_LITE_REVIEWED => (
            "hecvat-lite",
            format!("{layout}; only Lite {HECVAT_LITE_REVIEWED}'s question IDs have been reviewed"),
        ),
        (_, Some(first)) => (
            "hecvat-lite",
            format!(
                "{layout}; {} of its {} question IDs (first {first}) are not HECVAT Lite {HECVAT_LITE_REVIEWED}'s, \
                 so it is another Lite version",
                unknown.len(),
                ids.len()
            ),
        ),
        _ => (
            "hecvat-3-lite",
            format!(
                "{layout}; all of its {} question IDs are HECVAT Lite {HECVAT_LITE_REVIEWED}'s",
                ids.len()
            ),
        ),
    };
    Detected {
        family: Family::Hecvat,
        version: version.to_owned(),
        how,
    }
}

/// The question IDs of a HECVAT 3 sheet: on every row under a block header, the first cell left of the answer column
/// that holds an ID.
fn hecvat_sheet_ids(range: &Range<Data>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut answer_col: Option<u32> = None;
    for (_, cells) in rows_of(range) {
        if let Some((answer, _)) = block_header(&cells, HecvatVersion::V3) {
            answer_col = Some(answer);
            continue;
        }
        let Some(answer) = answer_col else {
            continue;
        };
        if let Some(id) = cells
            .iter()
            .filter(|(col, _)| *col < answer)
            .map(|(_, cell)| cell_text(cell))
            .find(|text| is_hecvat_id(text))
        {
            ids.push(id);
        }
    }
    ids
}

/// Lite's own section prefixes: `HLAP`, `HLDA`, ...
fn is_hecvat_lite_id(id: &str) -> bool {
    id.starts_with("HL") && is_hecvat_id(id)
}

/// `4.1.4` from text like "HECVAT Version 4.1.4" (or `3.06` from "HECVAT - Lite | v3.06"), when its first digit is
/// one of `majors`. Only the few words after "HECVAT" are looked at, so that a question's "WCAG 2.1" further on is
/// never taken for a version.
fn hecvat_version_text(text: &str, majors: &[char]) -> Option<String> {
    let lower = text.to_lowercase();
    lower.match_indices("hecvat").find_map(|(at, _)| {
        lower[at..]
            .chars()
            .take(40)
            .collect::<String>()
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find(|word| word.starts_with(majors) && word.contains('.'))
            .map(|word| word.trim_end_matches('.').to_owned())
    })
}

fn detect_cis(book: &Workbook) -> Option<Detected> {
    let (name, _, _) = cis_sheet(book)?;
    let rev4 = book.sheets.iter().any(|(_, range)| {
        let text = leading_text(range, 40).to_lowercase();
        ["revision 4", "rev 4", "rev. 4", "rev4"]
            .iter()
            .any(|marker| text.contains(marker))
    });
    Some(Detected {
        family: Family::Nist,
        version: "nist-800-53r5".to_owned(),
        how: if rev4 {
            format!(
                "FedRAMP CIS worksheet on sheet \"{name}\" (Control ID, Implementation Status); the workbook \
                 names SP 800-53 Revision 4, whose controls crosswalked here keep their number and meaning in \
                 Rev. 5"
            )
        } else {
            format!("FedRAMP CIS worksheet on sheet \"{name}\" (Control ID, Implementation Status)")
        },
    })
}

/// The CIS worksheet's columns: Control ID, and the implementation status columns (marked with an X).
struct CisColumns {
    header_row: u32,
    id: u32,
    implemented: u32,
    partial: Option<u32>,
    planned: Option<u32>,
    alternative: Option<u32>,
    na: Option<u32>,
}

fn cis_sheet(book: &Workbook) -> Option<(&str, &Range<Data>, CisColumns)> {
    book.sheets.iter().find_map(|(name, range)| {
        let rows: Vec<(u32, Vec<(u32, String)>)> = header_rows(range).collect();
        let (index, header) = rows.iter().enumerate().find(|(_, (_, texts))| {
            texts.iter().any(|(_, t)| t == "control id")
                && texts
                    .iter()
                    .any(|(_, t)| t.starts_with("implementation status"))
        })?;
        let id = header.1.iter().find(|(_, t)| t == "control id")?.0;
        let (status_row, texts) = rows[index..]
            .iter()
            .take(3)
            .find(|(_, texts)| texts.iter().any(|(_, t)| t == "implemented"))?;
        let column = |wanted: &str| texts.iter().find(|(_, t)| t == wanted).map(|(c, _)| *c);
        Some((
            name.as_str(),
            range,
            CisColumns {
                header_row: *status_row,
                id,
                implemented: column("implemented")?,
                partial: column("partially implemented"),
                planned: column("planned"),
                alternative: column("alternative implementation"),
                na: column("n/a").or_else(|| column("not applicable")),
            },
        ))
    })
}

// ---------------------------------------------------------------------------------------------------------------
// CAIQ.

/// `A&A-02.1`, `IAM-14.1`: three capitals (or `A&A`), a dash, two digits, a dot, one or two digits.
fn is_caiq_id(id: &str) -> bool {
    let Some((domain, rest)) = id.split_once('-') else {
        return false;
    };
    let Some((control, question)) = rest.split_once('.') else {
        return false;
    };
    domain.len() == 3
        && domain.chars().all(|c| c.is_ascii_uppercase() || c == '&')
        && control.len() == 2
        && control.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&question.len())
        && question.chars().all(|c| c.is_ascii_digit())
}

fn read_caiq_v4(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
    let Some((sheet, range)) = book
        .sheets
        .iter()
        .find(|(name, _)| normalise(name).replace(' ', "").starts_with("caiqv4"))
    else {
        unreachable!("detected by its sheet");
    };
    let Some((header_row, header)) = find_header(range, |text| text == "question id") else {
        return Err(vec![FieldError::new(
            cell_ref(sheet, 0, 0),
            format!(
                "no \"Question ID\" header in the first {HEADER_SEARCH_ROWS} rows of this sheet"
            ),
        )]);
    };
    let column = |prefix: &str| {
        header
            .iter()
            .find(|(_, text)| text.starts_with(prefix))
            .map(|(col, _)| *col)
    };
    let (Some(id_col), Some(answer_col)) = (column("question id"), column("csp caiq answer"))
    else {
        return Err(vec![FieldError::new(
            cell_ref(sheet, header_row, 0),
            "the header row has no \"CSP CAIQ Answer\" column".to_owned(),
        )]);
    };
    let description_col = column("csp implementation description");
    for (row, cells) in rows_of(range).filter(|(row, _)| *row > header_row) {
        let id = text_at(&cells, id_col);
        if !is_caiq_id(&id) {
            continue;
        }
        let cell = cell_ref(sheet, row, answer_col);
        let text = text_at(&cells, answer_col);
        if text.is_empty() {
            continue;
        }
        match ExternalValue::parse(&text) {
            Some(answer) => out.add(ExternalAnswer {
                source_id: id,
                answer,
                comment: description_col.and_then(|col| optional(text_at(&cells, col))),
                cell,
            }),
            None => out.error(cell, format!("\"{text}\" is not one of Yes, No, NA")),
        }
    }
    Ok(())
}

/// CAIQ v3.x: one row per question, the answer an X (or any text) in one of the Yes, No and Not Applicable
/// columns.
fn read_caiq_v3(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
    let (sheet, range, columns) = caiq_v3_sheet(book).expect("detected by its header");
    for (row, cells) in rows_of(range).filter(|(row, _)| *row > columns.header_row) {
        let id = caiq_id_of(&text_at(&cells, columns.id));
        if !is_caiq_id(&id) {
            continue;
        }
        let marks = [
            (columns.yes, ExternalValue::Yes),
            (columns.no, ExternalValue::No),
            (columns.na, ExternalValue::Na),
        ];
        if let Some(answer) = marked(sheet, row, &cells, &marks, out) {
            out.add(ExternalAnswer {
                source_id: id,
                answer,
                comment: columns.notes.and_then(|col| optional(text_at(&cells, col))),
                cell: cell_ref(
                    sheet,
                    row,
                    marks.iter().find(|(_, v)| *v == answer).unwrap().0,
                ),
            });
        }
    }
    Ok(())
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
// HECVAT.

/// `HLDA-07`, `APPL-12a`: four capitals, a dash, two digits, an optional lower-case letter.
fn is_hecvat_id(id: &str) -> bool {
    let Some((section, number)) = id.split_once('-') else {
        return false;
    };
    let digits = number.trim_end_matches(|c: char| c.is_ascii_lowercase());
    section.len() == 4
        && section.chars().all(|c| c.is_ascii_uppercase())
        && digits.len() == 2
        && digits.chars().all(|c| c.is_ascii_digit())
        && number.len() - digits.len() <= 1
}

/// The HECVAT generations, told apart by their answer headers: v3 heads its answer column "Vendor Answers" on a
/// sheet named `HECVAT - Full` / `- Lite` / `- On-Prem`; v4 heads it "Answer", on every tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HecvatVersion {
    V3,
    V4,
}

impl HecvatVersion {
    fn answer_header(self) -> &'static str {
        match self {
            HecvatVersion::V3 => "vendor answers",
            HecvatVersion::V4 => "answer",
        }
    }
}

/// A block header: the answer column and the additional-information column right of it.
fn block_header(cells: &[(u32, &Data)], version: HecvatVersion) -> Option<(u32, u32)> {
    let texts: Vec<(u32, String)> = cells
        .iter()
        .map(|(col, cell)| (*col, normalise(&cell_text(cell))))
        .filter(|(_, text)| !text.is_empty())
        .collect();
    texts.windows(2).find_map(|pair| {
        let [(answer_col, answer), (info_col, info)] = pair else {
            return None;
        };
        (answer == version.answer_header() && info.starts_with("additional information"))
            .then_some((*answer_col, *info_col))
    })
}

fn has_block_header(range: &Range<Data>, version: HecvatVersion) -> bool {
    rows_of(range).any(|(_, cells)| block_header(&cells, version).is_some())
}

fn read_hecvat(
    book: &Workbook,
    version: HecvatVersion,
    out: &mut Collector,
) -> Result<(), Vec<FieldError>> {
    // v3's other sheets (summary, analyst report) repeat IDs with scores, not answers, so only its question
    // sheets are read; v4 spreads its questions over many tabs, each with the same block headers (its
    // "Questions" sheet lists every question with its preferred answer and has no such header, so is not read).
    let sheets = book.sheets.iter().filter(|(name, range)| {
        (version == HecvatVersion::V4 || normalise(name).starts_with("hecvat"))
            && has_block_header(range, version)
    });
    for (sheet, range) in sheets {
        let mut block: Option<(u32, u32)> = None;
        for (row, cells) in rows_of(range) {
            if let Some(header) = block_header(&cells, version) {
                block = Some(header);
                continue;
            }
            let Some((answer_col, info_col)) = block else {
                continue;
            };
            let Some(id) = cells
                .iter()
                .filter(|(col, _)| *col < answer_col)
                .map(|(_, cell)| cell_text(cell))
                .find(|text| is_hecvat_id(text))
            else {
                continue;
            };
            let text = text_at(&cells, answer_col);
            if text.is_empty() {
                continue;
            }
            let cell = cell_ref(sheet, row, answer_col);
            match ExternalValue::parse(&text) {
                Some(answer) => out.add(ExternalAnswer {
                    source_id: id,
                    answer,
                    comment: optional(text_at(&cells, info_col)),
                    cell,
                }),
                // HECVAT mixes free-text questions (names, descriptions, the hosting choice) with Yes/No ones.
                None => out.skip(cell, text),
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// FedRAMP CIS worksheet (NIST SP 800-53).

/// FedRAMP's `AC-02 (07) (a)` as NIST's control or enhancement, `AC-2(7)`, with the statement part (`a`) dropped;
/// `None` for anything that is not such an ID.
pub fn nist_control(text: &str) -> Option<String> {
    let text = text.trim();
    let (family, rest) = text.split_once('-')?;
    if family.len() != 2 || !family.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let number_len = rest.chars().take_while(char::is_ascii_digit).count();
    if number_len == 0 || number_len > 2 {
        return None;
    }
    let number: u32 = rest[..number_len].parse().ok()?;
    let mut id = format!("{family}-{number}");
    let mut tail = rest[number_len..].trim_start();
    while let Some(open) = tail.strip_prefix('(') {
        let (inner, after) = open.split_once(')')?;
        let inner = inner.trim();
        if inner.chars().all(|c| c.is_ascii_digit()) && !inner.is_empty() {
            let enhancement: u32 = inner.parse().ok()?;
            id.push_str(&format!("({enhancement})"));
        } else if !inner.chars().all(|c| c.is_ascii_lowercase()) || inner.is_empty() {
            return None;
        }
        tail = after.trim_start();
    }
    tail.is_empty().then_some(id)
}

/// A control's answer from the status marks of its rows (one per statement part): No when any part is partly
/// implemented or planned; otherwise N/A when every part is N/A, Yes when the rest are implemented. A control
/// with a part implemented another way ("alternative implementation") and none partly done is not a choice: an
/// analyst must judge the alternative.
fn read_cis(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
    #[derive(Default)]
    struct Control {
        first_cell: String,
        yes: bool,
        no: bool,
        na: bool,
        alternative: bool,
    }
    let (sheet, range, columns) = cis_sheet(book).expect("detected by its header");
    let mut controls: Vec<(String, Control)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (row, cells) in rows_of(range).filter(|(row, _)| *row > columns.header_row) {
        let Some(control) = nist_control(&text_at(&cells, columns.id)) else {
            continue;
        };
        let mark = |col: Option<u32>| col.is_some_and(|col| !text_at(&cells, col).is_empty());
        let (implemented, partial, planned, alternative, na) = (
            mark(Some(columns.implemented)),
            mark(columns.partial),
            mark(columns.planned),
            mark(columns.alternative),
            mark(columns.na),
        );
        if !(implemented || partial || planned || alternative || na) {
            continue;
        }
        let at = *index.entry(control.clone()).or_insert_with(|| {
            controls.push((
                control,
                Control {
                    first_cell: cell_ref(sheet, row, columns.implemented),
                    ..Control::default()
                },
            ));
            controls.len() - 1
        });
        let state = &mut controls[at].1;
        state.no |= partial || planned;
        state.yes |= implemented;
        state.alternative |= alternative && !implemented;
        state.na |= na && !implemented;
    }
    for (control, state) in controls {
        let answer = if state.no {
            ExternalValue::No
        } else if state.alternative {
            out.skip(
                state.first_cell,
                format!("{control}: alternative implementation"),
            );
            continue;
        } else if state.yes {
            ExternalValue::Yes
        } else {
            ExternalValue::Na
        };
        out.add(ExternalAnswer {
            source_id: control,
            answer,
            comment: None,
            cell: state.first_cell,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Mapped.

/// `A` -> 0, `AB` -> 27; None for anything but one to three letters.
fn column_index(letters: &str) -> Option<u32> {
    let letters = letters.trim();
    if letters.is_empty() || letters.len() > 3 || !letters.chars().all(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    let number = letters.bytes().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    Some(number - 1)
}

/// Parses answer words written `Implemented=yes,Partial=no` (a `\` escapes a `,`, `=` or `\` inside a word) or
/// as a JSON object `{"Yes, with exceptions": "no"}`. Faults name `field`.
pub fn parse_answer_words(
    field: &str,
    text: &str,
) -> Result<BTreeMap<String, String>, Vec<FieldError>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(BTreeMap::new());
    }
    if text.starts_with('{') {
        return serde_json::from_str::<BTreeMap<String, String>>(text).map_err(|e| {
            vec![FieldError::new(
                field,
                format!("not a JSON object of word to yes, no or na: {e}"),
            )]
        });
    }
    let mut words = BTreeMap::new();
    let mut errors = Vec::new();
    let mut pairs: Vec<(String, Option<String>)> = vec![(String::new(), None)];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let (word, meaning) = pairs.last_mut().expect("one pair at least");
        let c = match c {
            '\\' => match chars.next() {
                Some(escaped) => escaped,
                None => {
                    errors.push(FieldError::new(field, "ends with a lone \\"));
                    continue;
                }
            },
            ',' => {
                pairs.push((String::new(), None));
                continue;
            }
            '=' if meaning.is_none() => {
                *meaning = Some(String::new());
                continue;
            }
            c => c,
        };
        match meaning {
            Some(meaning) => meaning.push(c),
            None => word.push(c),
        }
    }
    for (word, meaning) in pairs {
        let word = word.trim().to_owned();
        match meaning {
            Some(meaning) if !word.is_empty() => {
                words.insert(word, meaning.trim().to_owned());
            }
            _ => errors.push(FieldError::new(
                field,
                format!(
                    "\"{word}\" is not word=meaning (write a comma or = inside a word as \\, or \\=, or send a \
                     JSON object)"
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(words)
    } else {
        Err(errors)
    }
}

/// Every fault of a mapping's own settings, each named by its setting (as the query parameter or the saved
/// profile's field is named): columns that are not column letters, both or neither of an answer column and mark
/// columns, a header row of 0, a meaning other than yes, no or na, an ID space without a crosswalk.
pub fn check_mapping(mapping: &Mapping) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut column = |field: &str, letters: Option<&str>| {
        if let Some(letters) = letters
            && column_index(letters).is_none()
        {
            errors.push(FieldError::new(
                field,
                format!("\"{letters}\" is not a column like A or AB"),
            ));
        }
    };
    column("id_column", Some(&mapping.id_column));
    column("answer_column", mapping.answer_column.as_deref());
    column("yes_column", mapping.yes_column.as_deref());
    column("no_column", mapping.no_column.as_deref());
    column("na_column", mapping.na_column.as_deref());
    column("comment_column", mapping.comment_column.as_deref());
    let marked_layout =
        mapping.yes_column.is_some() || mapping.no_column.is_some() || mapping.na_column.is_some();
    match (mapping.answer_column.is_some(), marked_layout) {
        (true, true) => errors.push(FieldError::new(
            "answer_column",
            "give either answer_column (answer words) or yes_column / no_column / na_column (marks), not both",
        )),
        (false, false) => errors.push(FieldError::new(
            "answer_column",
            "is required, unless the answers are marks under yes_column / no_column / na_column",
        )),
        _ => {}
    }
    if mapping.header_row == 0 {
        errors.push(FieldError::new(
            "header_row",
            "rows are counted from 1, as a spreadsheet shows them",
        ));
    }
    if mapping.sheet.trim().is_empty() {
        errors.push(FieldError::new("sheet", "names the sheet to read"));
    }
    if let Some(space) = &mapping.id_space
        && crosswalk::registry().crosswalk(space).is_none()
    {
        errors.push(FieldError::new(
            "id_space",
            format!(
                "\"{space}\" is not a format version with a crosswalk; those are {}",
                crosswalk::registry()
                    .readable_versions()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    for (word, meaning) in &mapping.answer_words {
        if ExternalValue::parse(meaning).is_none() {
            errors.push(FieldError::new(
                format!("answer_words.{word}"),
                format!("\"{meaning}\" is not yes, no or na"),
            ));
        }
    }
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    errors
}

fn read_mapping(
    book: &Workbook,
    mapping: &Mapping,
    out: &mut Collector,
) -> Result<(), Vec<FieldError>> {
    let mut errors = check_mapping(mapping);
    let sheet = book.sheet(&mapping.sheet);
    if sheet.is_none() && !mapping.sheet.trim().is_empty() {
        errors.push(FieldError::new(
            "sheet",
            format!(
                "the workbook has no sheet \"{}\"; its sheets are {}",
                mapping.sheet,
                sheet_list(book)
            ),
        ));
    }
    let Some((sheet, range)) = sheet.filter(|_| errors.is_empty()) else {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        return Err(errors);
    };
    let column = |letters: &Option<String>| letters.as_deref().and_then(column_index);
    let id_col = column_index(&mapping.id_column).expect("checked");
    let answer_col = column(&mapping.answer_column);
    let comment_col = column(&mapping.comment_column);
    let marks: Vec<(u32, ExternalValue)> = [
        (column(&mapping.yes_column), ExternalValue::Yes),
        (column(&mapping.no_column), ExternalValue::No),
        (column(&mapping.na_column), ExternalValue::Na),
    ]
    .into_iter()
    .filter_map(|(col, value)| Some((col?, value)))
    .collect();
    let words: BTreeMap<String, ExternalValue> = mapping
        .answer_words
        .iter()
        .filter_map(|(word, meaning)| Some((normalise(word), ExternalValue::parse(meaning)?)))
        .collect();
    for (row, cells) in rows_of(range).filter(|(row, _)| *row >= mapping.header_row) {
        let id = text_at(&cells, id_col);
        if id.is_empty() {
            continue;
        }
        let comment = comment_col.and_then(|col| optional(text_at(&cells, col)));
        if let Some(answer_col) = answer_col {
            let text = text_at(&cells, answer_col);
            if text.is_empty() {
                continue;
            }
            let cell = cell_ref(sheet, row, answer_col);
            let answer = if words.is_empty() {
                ExternalValue::parse(&text)
            } else {
                words.get(&normalise(&text)).copied()
            };
            match answer {
                Some(answer) => out.add(ExternalAnswer {
                    source_id: id,
                    answer,
                    comment,
                    cell,
                }),
                None => out.skip(cell, text),
            }
        } else if let Some(answer) = marked(sheet, row, &cells, &marks, out) {
            let col = marks.iter().find(|(_, v)| *v == answer).unwrap().0;
            out.add(ExternalAnswer {
                source_id: id,
                answer,
                comment,
                cell: cell_ref(sheet, row, col),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Crosswalk.

/// Which IDs the answers are in, and so how they reach our questions.
#[derive(Debug, Clone, Copy)]
pub enum Through<'a> {
    /// A format version's IDs, through its crosswalk; `version` prefixes each source (`caiq-v4:IAM-14.1`).
    Crosswalk {
        version: &'a str,
        crosswalk: &'a Crosswalk,
    },
    /// Our own question IDs (a hand-mapped sheet without `id_space`); sources are `mapped:<id>`.
    OwnIds,
}

impl<'a> Through<'a> {
    /// Through the shipped crosswalk of `version`, if there is one.
    pub fn version(version: &'a str) -> Option<Through<'a>> {
        crosswalk::registry()
            .crosswalk(version)
            .map(|crosswalk| Through::Crosswalk { version, crosswalk })
    }

    fn prefix(&self) -> &'a str {
        match self {
            Through::Crosswalk { version, .. } => version,
            Through::OwnIds => "mapped",
        }
    }
}

/// An answer to one of our questions, carried over from the vendor's own questionnaire for an analyst to confirm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derived {
    pub answer: Answer,
    /// Where it came from, e.g. `caiq-v4:IAM-14.1`; several when several external questions agree.
    pub sources: Vec<String>,
    /// The vendor's explanations, each after its source when there are several.
    pub comment: Option<String>,
}

/// An external answer to a question related to one of ours: shown, never stored as the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    pub question_id: String,
    /// e.g. `caiq-v4:IAM-14.1`.
    pub source: String,
    pub answer: ExternalValue,
    pub comment: Option<String>,
}

/// One external answer behind a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcedAnswer {
    /// e.g. `hecvat-4:HLDA-07`.
    pub source: String,
    pub answer: ExternalValue,
}

/// One of our questions the external answers cannot fill on their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub question_id: String,
    pub sources_and_answers: Vec<SourcedAnswer>,
    /// Why it was left unfilled, in words for the analyst.
    pub reason: String,
}

/// What the crosswalk did with a set of external answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CrosswalkResult {
    /// By our question id.
    pub filled: BTreeMap<String, Derived>,
    /// Related answers, in template order.
    pub hints: Vec<Hint>,
    /// External IDs (answered) that no question of the template links to, in the order read.
    pub unmapped: Vec<String>,
    /// Questions left unfilled, in template order.
    pub conflicts: Vec<Conflict>,
}

/// Carries external answers over to `template`'s yes/no questions. Through a crosswalk, a question is filled
/// from its `same` links only; its `related` links give hints. Through our own IDs, an ID names the question it
/// fills.
///
/// A question is filled only when every external answer that reaches it agrees. Two that disagree leave it
/// unfilled, as a conflict. N/A is carried over only where the question allows it; where it does not, the
/// question is also left unfilled, as a conflict saying so, rather than guessed to be Yes or No: the vendor
/// thought it did not apply, and only the analyst can judge whether that is a No.
pub fn map_to_template(
    template: &Template,
    answers: &[ExternalAnswer],
    through: Through<'_>,
) -> CrosswalkResult {
    let mut result = CrosswalkResult::default();
    let by_id: HashMap<&str, usize> = answers
        .iter()
        .enumerate()
        .map(|(index, answer)| (answer.source_id.trim(), index))
        .collect();
    let mut reached = vec![false; answers.len()];
    let prefix = through.prefix();
    let links = match through {
        Through::Crosswalk { crosswalk, .. } => crosswalk.for_template(&template.id),
        Through::OwnIds => None,
    };
    for question in template.questions().filter(|q| q.kind == AnswerKind::YesNo) {
        let (same, related): (Vec<&str>, Vec<&str>) = match through {
            Through::OwnIds => (vec![question.id.as_str()], Vec::new()),
            Through::Crosswalk { .. } => match links.and_then(|l| l.get(&question.id)) {
                Some(links) => (
                    links.same.iter().map(String::as_str).collect(),
                    links.related.iter().map(String::as_str).collect(),
                ),
                None => continue,
            },
        };
        for id in related {
            if let Some(&index) = by_id.get(id) {
                reached[index] = true;
                let answer = &answers[index];
                result.hints.push(Hint {
                    question_id: question.id.clone(),
                    source: format!("{prefix}:{}", answer.source_id),
                    answer: answer.answer,
                    comment: answer.comment.clone(),
                });
            }
        }
        let matching: Vec<&ExternalAnswer> = same
            .iter()
            .filter_map(|id| by_id.get(id))
            .map(|&index| {
                reached[index] = true;
                &answers[index]
            })
            .collect();
        if matching.is_empty() {
            continue;
        }
        let sourced: Vec<SourcedAnswer> = matching
            .iter()
            .map(|answer| SourcedAnswer {
                source: format!("{prefix}:{}", answer.source_id),
                answer: answer.answer,
            })
            .collect();
        let first = matching[0].answer;
        let reason = if matching.iter().any(|answer| answer.answer != first) {
            Some("the vendor's answers to these questions disagree".to_owned())
        } else if first == ExternalValue::Na && !question.na_allowed {
            Some(
                "answered N/A, which this question does not allow; decide whether it is a Yes or a No".to_owned(),
            )
        } else {
            None
        };
        if let Some(reason) = reason {
            result.conflicts.push(Conflict {
                question_id: question.id.clone(),
                sources_and_answers: sourced,
                reason,
            });
            continue;
        }
        let answer = Answer::YesNo(match first {
            ExternalValue::Yes => YesNo::Yes,
            ExternalValue::No => YesNo::No,
            ExternalValue::Na => YesNo::Na,
        });
        let comments: Vec<(&str, &str)> = matching
            .iter()
            .zip(&sourced)
            .filter_map(|(answer, sourced)| {
                answer
                    .comment
                    .as_deref()
                    .map(|comment| (sourced.source.as_str(), comment))
            })
            .collect();
        let comment = match comments.as_slice() {
            [] => None,
            [(_, only)] => Some((*only).to_owned()),
            several => Some(
                several
                    .iter()
                    .map(|(source, comment)| format!("{source}: {comment}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        };
        result.filled.insert(
            question.id.clone(),
            Derived {
                answer,
                sources: sourced.into_iter().map(|s| s.source).collect(),
                comment,
            },
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (answer, reached) in answers.iter().zip(reached) {
        if !reached && seen.insert(answer.source_id.as_str()) {
            result.unmapped.push(answer.source_id.clone());
        }
    }
    result
}

#[cfg(test)]
mod tests;
