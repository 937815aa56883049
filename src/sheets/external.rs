//! Questionnaires vendors already have: CSA CAIQ v4, EDUCAUSE HECVAT (v3 Full/Lite/On-Prem and v4) and any other
//! sheet the caller maps by hand, read into Yes / No / N/A answers by their own IDs, then crosswalked onto a
//! template's questions so that an analyst starts from what the vendor has already said.
//!
//! The readers are layout-tolerant, not layout-blind: they find the sheet and header row by their text (spacing,
//! case and line breaks aside) rather than by position, and take as a question any row whose ID cell looks like
//! an ID of the format, so section rows, notes, "End of Standard" and copyright lines fall away by themselves.
//! Hidden sheets, rows and columns are read like visible ones, and formula cells by their cached value.
//!
//! Nothing here copies the formats' questions: only IDs and answers are read.

use std::collections::BTreeMap;

use calamine::{Data, Range};
use serde::{Deserialize, Serialize};

use super::{Workbook, cell_ref, cell_text, rows_of};
use crate::domain::questionnaire::{Answer, AnswerKind, Template, YesNo};
use crate::error::FieldError;

/// Which layout to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalFormat {
    /// CSA CAIQ v4.0.x, one sheet named like `CAIQv4.0.3`.
    CaiqV4,
    /// EDUCAUSE HECVAT; v3 or v4 is told from the workbook itself.
    Hecvat,
    /// Any other sheet, as the caller describes it.
    Mapped(Mapping),
}

impl ExternalFormat {
    /// The name [`map_to_template`] puts before each source ID: `caiq-v4`, `hecvat` or `mapped`.
    pub fn source(&self) -> &'static str {
        match self {
            ExternalFormat::CaiqV4 => "caiq-v4",
            ExternalFormat::Hecvat => "hecvat",
            ExternalFormat::Mapped(_) => "mapped",
        }
    }
}

/// Where a hand-mapped sheet keeps its IDs and answers, and what its answer words mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Sheet name, matched without regard to case.
    pub sheet: String,
    /// 1-based row of the header; answers are read from the rows below it.
    pub header_row: u32,
    /// Column letters, e.g. `A`.
    pub id_column: String,
    pub answer_column: String,
    pub comment_column: Option<String>,
    /// What each answer word means, as `yes`, `no` or `na`; words are matched without regard to case or
    /// surrounding spaces, e.g. `"Implemented" -> "yes"`, `"Partial" -> "no"`, `"X" -> "yes"`. A blank answer
    /// cell is unanswered; any other word is an error naming its cell.
    pub answer_words: BTreeMap<String, String>,
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
}

/// One answer read from a vendor's own questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalAnswer {
    /// The question's ID in its own format, e.g. `IAM-14.1`, `HLDA-07` or `AC-02 (a)`.
    pub source_id: String,
    pub answer: ExternalValue,
    /// The vendor's explanation: CAIQ's implementation description, HECVAT's additional information, or the
    /// mapping's comment column.
    pub comment: Option<String>,
    /// The answer cell, e.g. `CAIQv4.0.3!C14`.
    pub cell: String,
}

/// Reads every answer of `format` from `bytes`. The whole workbook is checked first: every cell at fault is
/// reported and nothing is returned unless all pass. Blank answers are unanswered, not errors; so are HECVAT
/// answers other than Yes / No / N/A, since HECVAT mixes free-text questions (vendor name, product) in with the
/// Yes/No ones. An ID answered twice keeps its first answer; a second, different answer is an error naming both
/// cells, as one of them must be wrong and only the vendor knows which.
pub fn read(bytes: &[u8], format: &ExternalFormat) -> Result<Vec<ExternalAnswer>, Vec<FieldError>> {
    let book = Workbook::open(bytes).map_err(|error| vec![error])?;
    let mut collector = Collector::default();
    match format {
        ExternalFormat::CaiqV4 => read_caiq(&book, &mut collector)?,
        ExternalFormat::Hecvat => read_hecvat(&book, &mut collector)?,
        ExternalFormat::Mapped(mapping) => read_mapped(&book, mapping, &mut collector)?,
    }
    collector.finish()
}

/// Answers in sheet order, with repeats resolved and every error kept.
#[derive(Default)]
struct Collector {
    answers: Vec<ExternalAnswer>,
    by_id: BTreeMap<String, usize>,
    errors: Vec<FieldError>,
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

    fn finish(self) -> Result<Vec<ExternalAnswer>, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(self.answers)
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

// ---------------------------------------------------------------------------------------------------------------
// CAIQ v4.

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

/// Rows searched for a header: the published CAIQ has it on row 2, edited copies a few rows lower.
const HEADER_SEARCH_ROWS: u32 = 10;

fn read_caiq(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
    let Some((sheet, range)) = book
        .sheets
        .iter()
        .find(|(name, _)| normalise(name).replace(' ', "").starts_with("caiqv4"))
    else {
        return Err(vec![FieldError::new(
            "file",
            format!(
                "no sheet named like \"CAIQv4.0.3\", so this is not a CAIQ v4 workbook; its sheets are {}",
                sheet_list(book)
            ),
        )]);
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

/// The first row among the first [`HEADER_SEARCH_ROWS`] with a cell that `is_key` accepts, with its normalised
/// header texts by column.
fn find_header(
    range: &Range<Data>,
    is_key: impl Fn(&str) -> bool,
) -> Option<(u32, Vec<(u32, String)>)> {
    rows_of(range)
        .take_while(|(row, _)| *row < HEADER_SEARCH_ROWS)
        .map(|(row, cells)| {
            let texts: Vec<(u32, String)> = cells
                .into_iter()
                .map(|(col, cell)| (col, normalise(&cell_text(cell))))
                .collect();
            (row, texts)
        })
        .find(|(_, texts)| texts.iter().any(|(_, text)| is_key(text)))
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

fn read_hecvat(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
    let v3: Vec<&(String, Range<Data>)> = book
        .sheets
        .iter()
        .filter(|(name, range)| {
            normalise(name).starts_with("hecvat") && has_block_header(range, HecvatVersion::V3)
        })
        .collect();
    // v3's other sheets (summary, analyst report) repeat IDs with scores, not answers, so only its question
    // sheets are read; v4 spreads its questions over many tabs, each with the same block headers.
    let (version, sheets) = if v3.is_empty() {
        let v4: Vec<&(String, Range<Data>)> = book
            .sheets
            .iter()
            .filter(|(_, range)| has_block_header(range, HecvatVersion::V4))
            .collect();
        (HecvatVersion::V4, v4)
    } else {
        (HecvatVersion::V3, v3)
    };
    if sheets.is_empty() {
        return Err(vec![FieldError::new(
            "file",
            format!(
                "no HECVAT layout found: neither a sheet named like \"HECVAT - Full\" with a \"Vendor Answers\" \
                 column (HECVAT 3) nor tabs with \"Answer | Additional Information\" header rows (HECVAT 4); its \
                 sheets are {}",
                sheet_list(book)
            ),
        )]);
    }
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
            let Some(answer) = ExternalValue::parse(&text_at(&cells, answer_col)) else {
                continue;
            };
            out.add(ExternalAnswer {
                source_id: id,
                answer,
                comment: optional(text_at(&cells, info_col)),
                cell: cell_ref(sheet, row, answer_col),
            });
        }
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

fn read_mapped(
    book: &Workbook,
    mapping: &Mapping,
    out: &mut Collector,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut column = |field: &str, letters: &str| {
        column_index(letters).or_else(|| {
            errors.push(FieldError::new(
                format!("mapping.{field}"),
                format!("\"{letters}\" is not a column like A or AB"),
            ));
            None
        })
    };
    let id_col = column("id_column", &mapping.id_column);
    let answer_col = column("answer_column", &mapping.answer_column);
    let comment_col = match &mapping.comment_column {
        Some(letters) => column("comment_column", letters),
        None => None,
    };
    if mapping.header_row == 0 {
        errors.push(FieldError::new(
            "mapping.header_row",
            "rows are counted from 1, as a spreadsheet shows them",
        ));
    }
    let mut words: BTreeMap<String, ExternalValue> = BTreeMap::new();
    for (word, meaning) in &mapping.answer_words {
        match ExternalValue::parse(meaning) {
            Some(value) => {
                words.insert(normalise(word), value);
            }
            None => errors.push(FieldError::new(
                format!("mapping.answer_words.{word}"),
                format!("\"{meaning}\" is not yes, no or na"),
            )),
        }
    }
    let sheet = book.sheet(&mapping.sheet);
    if sheet.is_none() {
        errors.push(FieldError::new(
            "mapping.sheet",
            format!(
                "the workbook has no sheet \"{}\"; its sheets are {}",
                mapping.sheet,
                sheet_list(book)
            ),
        ));
    }
    let (Some((sheet, range)), Some(id_col), Some(answer_col), true) =
        (sheet, id_col, answer_col, errors.is_empty())
    else {
        return Err(errors);
    };
    let known = mapping
        .answer_words
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    for (row, cells) in rows_of(range).filter(|(row, _)| *row >= mapping.header_row) {
        let id = text_at(&cells, id_col);
        let text = text_at(&cells, answer_col);
        if id.is_empty() || text.is_empty() {
            continue;
        }
        let cell = cell_ref(sheet, row, answer_col);
        match words.get(&normalise(&text)) {
            Some(answer) => out.add(ExternalAnswer {
                source_id: id,
                answer: *answer,
                comment: comment_col.and_then(|col| optional(text_at(&cells, col))),
                cell,
            }),
            None => out.error(
                cell,
                format!("\"{text}\" is not one of the mapped answers: {known}"),
            ),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Crosswalk.

/// An answer to one of our questions, carried over from the vendor's own questionnaire for an analyst to confirm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derived {
    pub answer: Answer,
    /// Where it came from, e.g. `caiq-v4:IAM-14.1`; several when several external questions agree.
    pub sources: Vec<String>,
    /// The vendor's explanations, each after its source when there are several.
    pub comment: Option<String>,
}

/// One external answer behind a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcedAnswer {
    /// e.g. `hecvat:HLDA-07`.
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
    /// External IDs (answered) that no question of the template crosswalks to, in the order read.
    pub unmapped: Vec<String>,
    /// Questions left unfilled, in template order.
    pub conflicts: Vec<Conflict>,
}

/// Carries external answers over to `template`'s yes/no questions through their crosswalks. `source` says which
/// list a question's crosswalk is read from, and prefixes each source ID: `caiq-v4` reads `crosswalk.caiq_v4`,
/// `hecvat` reads `crosswalk.hecvat`, and anything else (e.g. `mapped`) matches an external ID against the
/// question's own id and both lists, since a hand-mapped sheet may be a re-typed CAIQ, HECVAT or our own workbook.
///
/// A question is filled only when every external answer that reaches it agrees. Two that disagree leave it
/// unfilled, as a conflict. N/A is carried over only where the question allows it; where it does not, the
/// question is also left unfilled, as a conflict saying so, rather than guessed to be Yes or No: the vendor
/// thought it did not apply, and only the analyst can judge whether that is a No.
pub fn map_to_template(
    template: &Template,
    answers: &[ExternalAnswer],
    source: &str,
) -> CrosswalkResult {
    let mut result = CrosswalkResult::default();
    let mut reached = vec![false; answers.len()];
    for question in template.questions().filter(|q| q.kind == AnswerKind::YesNo) {
        let crosswalk = &question.crosswalk;
        let ids: Vec<&str> = match source {
            "caiq-v4" => crosswalk.caiq_v4.iter().map(String::as_str).collect(),
            "hecvat" => crosswalk.hecvat.iter().map(String::as_str).collect(),
            _ => std::iter::once(question.id.as_str())
                .chain(crosswalk.caiq_v4.iter().map(String::as_str))
                .chain(crosswalk.hecvat.iter().map(String::as_str))
                .collect(),
        };
        let matching: Vec<(usize, &ExternalAnswer)> = answers
            .iter()
            .enumerate()
            .filter(|(_, answer)| ids.contains(&answer.source_id.trim()))
            .collect();
        if matching.is_empty() {
            continue;
        }
        for (index, _) in &matching {
            reached[*index] = true;
        }
        let sourced: Vec<SourcedAnswer> = matching
            .iter()
            .map(|(_, answer)| SourcedAnswer {
                source: format!("{source}:{}", answer.source_id),
                answer: answer.answer,
            })
            .collect();
        let first = matching[0].1.answer;
        let reason = if matching.iter().any(|(_, answer)| answer.answer != first) {
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
        let comments: Vec<(String, &str)> = matching
            .iter()
            .zip(&sourced)
            .filter_map(|((_, answer), sourced)| {
                answer
                    .comment
                    .as_deref()
                    .map(|comment| (sourced.source.clone(), comment))
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
    for (answer, reached) in answers.iter().zip(reached) {
        if !reached && !result.unmapped.contains(&answer.source_id) {
            result.unmapped.push(answer.source_id.clone());
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;
    use crate::domain::questionnaire::load_dir;

    fn shipped(id: &str) -> Template {
        load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/questionnaires"))
            .expect("shipped templates load")
            .into_iter()
            .find(|template| template.id == id)
            .expect("template is shipped")
    }

    fn answer(id: &str, value: ExternalValue) -> ExternalAnswer {
        ExternalAnswer {
            source_id: id.to_owned(),
            answer: value,
            comment: None,
            cell: "x!A1".to_owned(),
        }
    }

    fn ids_and_values(answers: &[ExternalAnswer]) -> Vec<(&str, ExternalValue)> {
        answers
            .iter()
            .map(|a| (a.source_id.as_str(), a.answer))
            .collect()
    }

    use ExternalValue::{Na, No, Yes};

    #[test]
    fn a_caiq_is_read_past_its_title_merged_cells_and_trailing_lines() {
        let bytes = fixtures::caiq_v4(&[
            ("A&A-02.1", "Yes", "Yearly independent audit."),
            ("BCR-08.1", "yes", ""),
            ("BCR-08.2", "No", "Restores are not tested."),
            ("BCR-08.3", "NA", ""),
            ("IAM-14.1", "Yes", "MFA for every user through SSO."),
            ("LOG-08.1", "", ""),
        ]);
        let answers = read(&bytes, &ExternalFormat::CaiqV4).expect("read");
        assert_eq!(
            ids_and_values(&answers),
            [
                ("A&A-02.1", Yes),
                ("BCR-08.1", Yes),
                ("BCR-08.2", No),
                ("BCR-08.3", Na),
                ("IAM-14.1", Yes)
            ]
        );
        assert_eq!(answers[0].cell, "CAIQv4.0.3!C3");
        assert_eq!(
            answers[0].comment.as_deref(),
            Some("Yearly independent audit.")
        );
        assert_eq!(answers[1].comment, None);
    }

    #[test]
    fn a_caiq_answer_outside_yes_no_na_is_reported_by_cell() {
        let bytes = fixtures::caiq_v4(&[("IAM-14.1", "Partially", ""), ("LOG-08.1", "Maybe", "")]);
        let errors = read(&bytes, &ExternalFormat::CaiqV4).expect_err("refused");
        assert_eq!(
            errors,
            [
                FieldError::new("CAIQv4.0.3!C3", "\"Partially\" is not one of Yes, No, NA"),
                FieldError::new("CAIQv4.0.3!C4", "\"Maybe\" is not one of Yes, No, NA"),
            ]
        );
    }

    #[test]
    fn a_workbook_without_a_caiq_sheet_is_refused_naming_its_sheets() {
        let bytes = fixtures::hecvat_v3(&[("HLDA-07", "Yes", "")]);
        let errors = read(&bytes, &ExternalFormat::CaiqV4).unwrap_err();
        assert_eq!(errors[0].field, "file");
        assert!(
            errors[0].message.contains("\"HECVAT - Full\""),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_hecvat_3_is_read_from_its_question_sheet_skipping_free_text_answers() {
        let bytes = fixtures::hecvat_v3(&[
            ("DOCU-03", "Yes", "Report attached."),
            ("DOCU-07", "No", ""),
            ("HFIH-01", "N/A", ""),
            ("HFIH-02", "", ""),
            ("THRD-01", "Yes", ""),
        ]);
        let answers = read(&bytes, &ExternalFormat::Hecvat).expect("read");
        assert_eq!(
            ids_and_values(&answers),
            [
                ("DOCU-03", Yes),
                ("DOCU-07", No),
                ("HFIH-01", Na),
                ("THRD-01", Yes)
            ]
        );
        assert_eq!(answers[0].cell, "'HECVAT - Full'!C8");
        assert_eq!(answers[0].comment.as_deref(), Some("Report attached."));
    }

    #[test]
    fn a_hecvat_4_is_read_across_tabs_hidden_ones_and_formula_cells_included() {
        let bytes = fixtures::hecvat_v4(&[
            ("DOCU-03", "Yes", "Report attached."),
            ("DOCU-07", "No", ""),
            ("AAAI-01", "Yes", ""),
            ("AAAI-09", "Yes", ""),
            ("DCTR-14", "N/A", ""),
        ]);
        let answers = read(&bytes, &ExternalFormat::Hecvat).expect("read");
        assert_eq!(
            ids_and_values(&answers),
            [
                ("DOCU-03", Yes),
                ("DOCU-07", No),
                ("AAAI-01", Yes),
                ("AAAI-09", Yes),
                ("DCTR-14", Na)
            ]
        );
        // DOCU-07 and AAAI-09 sit on hidden rows, DCTR-14 on the hidden tab, and DOCU-03 is repeated there too.
        assert_eq!(answers[4].cell, "Infrastructure!C4");
        let book = Workbook::open(&bytes).unwrap();
        let (_, organization) = book.sheet("Organization").unwrap();
        assert_eq!(
            organization.get_value((3, 1)),
            Some(&Data::String("Made-up question DOCU-03 for tests?".into())),
            "the question cell is read by its cached formula result"
        );
    }

    #[test]
    fn a_hecvat_id_answered_differently_on_two_tabs_is_reported_naming_both_cells() {
        let bytes = fixtures::hecvat_v4(&[
            ("HLDA-07", "Yes", ""),
            ("DOCU-01", "Yes", ""),
            ("HLDA-07", "No", ""),
        ]);
        let errors = read(&bytes, &ExternalFormat::Hecvat).expect_err("refused");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "Organization!C5");
        assert_eq!(
            errors[0].message,
            "HLDA-07 is answered No here but Yes at Organization!C4; the two answers must agree"
        );
    }

    #[test]
    fn a_workbook_that_is_no_hecvat_is_refused() {
        let bytes = fixtures::caiq_v4(&[("IAM-14.1", "Yes", "")]);
        let errors = read(&bytes, &ExternalFormat::Hecvat).unwrap_err();
        assert_eq!(errors[0].field, "file");
        assert!(
            errors[0].message.starts_with("no HECVAT layout found"),
            "{}",
            errors[0].message
        );
    }

    fn cis_mapping(answer_column: &str, word: &str, meaning: &str) -> Mapping {
        Mapping {
            sheet: "cis worksheet".into(),
            header_row: 3,
            id_column: "A".into(),
            answer_column: answer_column.into(),
            comment_column: None,
            answer_words: [(word.to_owned(), meaning.to_owned())]
                .into_iter()
                .collect(),
        }
    }

    fn cis_worksheet() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/real/cloud.gov-CIS-Worksheet.xlsx"
        );
        std::fs::read(path).unwrap_or_else(|error| {
            panic!(
                "{path} cannot be read ({error}); the real fixtures live in shared/fixtures/real/ beside the \
                 checkout (see its README)"
            )
        })
    }

    #[test]
    fn the_real_cis_worksheet_is_read_through_a_mapping_of_its_x_marks() {
        let bytes = cis_worksheet();
        let implemented = read(
            &bytes,
            &ExternalFormat::Mapped(cis_mapping("B", "x", "yes")),
        )
        .expect("read");
        assert_eq!(implemented.len(), 588);
        assert_eq!(implemented[0].source_id, "AC-01 (a)");
        assert_eq!(implemented[0].cell, "'CIS Worksheet'!B4");
        assert!(implemented.iter().all(|a| a.answer == Yes));
        let not_applicable =
            read(&bytes, &ExternalFormat::Mapped(cis_mapping("F", "X", "na"))).expect("read");
        assert!(
            not_applicable
                .iter()
                .any(|a| a.source_id == "AC-02 (02)" && a.answer == Na)
        );

        // None of these IDs is in our crosswalks, so all are reported as unmapped, none filled.
        let crosswalk = map_to_template(&shipped("city-baseline"), &implemented, "mapped");
        assert!(crosswalk.filled.is_empty());
        assert_eq!(crosswalk.unmapped.len(), 588);
    }

    #[test]
    fn a_mapping_reports_unknown_words_by_cell_and_its_own_mistakes_by_field() {
        let bytes = cis_worksheet();
        // Column B holds "X"; mapping only "Implemented" leaves every X unknown.
        let errors = read(
            &bytes,
            &ExternalFormat::Mapped(cis_mapping("B", "Implemented", "yes")),
        )
        .expect_err("refused");
        assert_eq!(errors.len(), 588);
        assert_eq!(
            errors[0],
            FieldError::new(
                "'CIS Worksheet'!B4",
                "\"X\" is not one of the mapped answers: Implemented"
            )
        );

        let mut wrong = cis_mapping("1B", "X", "sometimes");
        wrong.sheet = "Nope".into();
        let errors = read(&bytes, &ExternalFormat::Mapped(wrong)).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "mapping.answer_column",
                "mapping.answer_words.X",
                "mapping.sheet"
            ]
        );
        assert!(
            errors[2].message.contains("\"CIS Worksheet\""),
            "{}",
            errors[2].message
        );
    }

    #[test]
    fn the_caiq_fixture_crosswalks_onto_the_baseline() {
        let bytes = fixtures::caiq_v4(&[
            ("A&A-02.1", "Yes", "Yearly audit."),
            ("IAM-14.1", "Yes", "MFA via SSO."),
            ("LOG-08.1", "No", ""),
            ("BCR-08.1", "NA", ""),
            ("CCC-01.1", "Yes", ""),
        ]);
        let answers = read(&bytes, &ExternalFormat::CaiqV4).unwrap();
        let result = map_to_template(
            &shipped("city-baseline"),
            &answers,
            ExternalFormat::CaiqV4.source(),
        );
        let filled: Vec<(&str, &Answer)> = result
            .filled
            .iter()
            .map(|(id, d)| (id.as_str(), &d.answer))
            .collect();
        assert_eq!(
            filled,
            [
                ("ASR-01", &Answer::YesNo(YesNo::Yes)),
                ("IAM-03", &Answer::YesNo(YesNo::Yes)),
                ("LOG-01", &Answer::YesNo(YesNo::No)),
            ]
        );
        assert_eq!(result.filled["IAM-03"].sources, ["caiq-v4:IAM-14.1"]);
        assert_eq!(
            result.filled["IAM-03"].comment.as_deref(),
            Some("MFA via SSO.")
        );
        assert_eq!(result.unmapped, ["CCC-01.1"]);
        let conflict = &result.conflicts[0];
        assert_eq!(conflict.question_id, "BCK-01");
        assert!(
            conflict.reason.contains("does not allow"),
            "{}",
            conflict.reason
        );
    }

    #[test]
    fn the_hecvat_fixtures_crosswalk_onto_the_baseline() {
        let rows = [
            ("AAAI-01", "Yes", ""),
            ("DCTR-14", "No", ""),
            ("HFIH-01", "Yes", "24/7 team."),
        ];
        for bytes in [fixtures::hecvat_v3(&rows), fixtures::hecvat_v4(&rows)] {
            let answers = read(&bytes, &ExternalFormat::Hecvat).unwrap();
            let result = map_to_template(&shipped("city-baseline"), &answers, "hecvat");
            let filled: Vec<&str> = result.filled.keys().map(String::as_str).collect();
            assert_eq!(filled, ["IAM-01", "IAM-04", "INC-01"]);
            assert_eq!(result.filled["IAM-04"].answer, Answer::YesNo(YesNo::No));
            assert_eq!(result.filled["INC-01"].sources, ["hecvat:HFIH-01"]);
            assert!(result.conflicts.is_empty() && result.unmapped.is_empty());
        }
    }

    #[test]
    fn disagreeing_sources_leave_the_question_unfilled_and_agreeing_ones_fill_it_together() {
        let template = shipped("ma-201-cmr-17");
        // A question crosswalked to two CAIQ IDs, whose answers may agree or not.
        let question = template
            .questions()
            .find(|q| q.crosswalk.caiq_v4.len() == 2)
            .expect("a question with two CAIQ IDs");
        let [first, second] = [
            &question.crosswalk.caiq_v4[0],
            &question.crosswalk.caiq_v4[1],
        ];

        let disagree = [answer(first, Yes), answer(second, No)];
        let result = map_to_template(&template, &disagree, "caiq-v4");
        assert!(!result.filled.contains_key(&question.id));
        assert_eq!(result.conflicts.len(), 1);
        assert_eq!(
            result.conflicts[0].sources_and_answers,
            [
                SourcedAnswer {
                    source: format!("caiq-v4:{first}"),
                    answer: Yes
                },
                SourcedAnswer {
                    source: format!("caiq-v4:{second}"),
                    answer: No
                },
            ]
        );

        let mut agree = [answer(first, Yes), answer(second, Yes)];
        agree[0].comment = Some("one".into());
        agree[1].comment = Some("two".into());
        let result = map_to_template(&template, &agree, "caiq-v4");
        let derived = &result.filled[&question.id];
        assert_eq!(
            derived.sources,
            [format!("caiq-v4:{first}"), format!("caiq-v4:{second}")]
        );
        assert_eq!(
            derived.comment.as_deref(),
            Some(format!("caiq-v4:{first}: one\ncaiq-v4:{second}: two").as_str())
        );
    }

    #[test]
    fn na_is_carried_over_only_where_the_question_allows_it() {
        let template = shipped("ma-201-cmr-17");
        let allowed = template.question("ENC-03").unwrap();
        assert!(allowed.na_allowed);
        let result = map_to_template(&template, &[answer("UEM-08.1", Na)], "caiq-v4");
        assert_eq!(result.filled["ENC-03"].answer, Answer::YesNo(YesNo::Na));
    }

    #[test]
    fn a_mapped_source_matches_our_own_ids_and_both_crosswalks() {
        let template = shipped("city-baseline");
        let answers = [
            answer("IAM-05", Yes),
            answer("IAM-14.1", No),
            answer("DCTR-14", Yes),
            answer("LOG-02", Yes),
        ];
        let result = map_to_template(&template, &answers, "mapped");
        let filled: Vec<&str> = result.filled.keys().map(String::as_str).collect();
        assert_eq!(filled, ["IAM-03", "IAM-04", "IAM-05"]);
        assert_eq!(result.filled["IAM-05"].sources, ["mapped:IAM-05"]);
        // LOG-02 is a number question: a Yes cannot answer it.
        assert_eq!(result.unmapped, ["LOG-02"]);
    }

    #[test]
    fn ids_are_recognised_in_both_formats() {
        for id in ["A&A-02.1", "IAM-14.1", "BCR-08.12"] {
            assert!(is_caiq_id(id), "{id}");
        }
        for id in ["End of Standard", "IAM14.1", "IAM-1.1", "iam-14.1", "©"] {
            assert!(!is_caiq_id(id), "{id}");
        }
        for id in ["HLDA-07", "APPL-12a"] {
            assert!(is_hecvat_id(id), "{id}");
        }
        for id in ["HLD-07", "HLDA-7", "HLDA-07ab", "GNRL"] {
            assert!(!is_hecvat_id(id), "{id}");
        }
        assert_eq!(column_index("A"), Some(0));
        assert_eq!(column_index("ab"), Some(27));
        assert_eq!(column_index("1B"), None);
    }
}
