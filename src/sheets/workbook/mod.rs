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
//! written from data goes through [`neutralise`], so that nothing a vendor, an analyst or a template wrote can run
//! as a formula in the next person's spreadsheet.

use std::collections::BTreeMap;

use calamine::{Data, Range};
use chrono::NaiveDate;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, ExcelDateTime, Format,
    FormatAlign, FormatBorder, Formula, ProtectionOptions, Workbook as XlsxWorkbook, Worksheet,
    XlsxError,
};
use serde_json::Value;

use super::{
    Workbook, cell_ref, cell_text, column_letters, neutralise, rows_of, split_list, unneutralise,
};
use crate::domain::questionnaire::{
    Answer, AnswerKind, MAX_COMMENT_CHARS, MAX_EVIDENCE_REF_CHARS, MAX_TEXT_ANSWER_CHARS, Question,
    Template, YesNo, note_text, parse_answer,
};
use crate::error::FieldError;

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
    /// The template's content hash ([`Template::version`]) the assessment is answered against.
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

// ---------------------------------------------------------------------------------------------------------------
// Export.

/// Writes the workbook for one assessment: instructions, every question of `template` (conditional ones included,
/// with the condition spelt out), `prior` answers prefilled (by question id; ids the template lacks are skipped),
/// and the hidden `_meta` sheet. The error is rust_xlsxwriter's, which only a bug in this layout would cause.
#[tracing::instrument(level = "debug", skip_all)]
pub fn export(
    meta: &WorkbookMeta,
    template: &Template,
    prior: &BTreeMap<String, PriorAnswer>,
) -> Result<Vec<u8>, String> {
    build(meta, template, prior).map_err(|e| format!("writing the questionnaire workbook: {e}"))
}

struct Formats {
    title: Format,
    header: Format,
    locked: Format,
    open: Format,
    open_date: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0xBFBFBF));
        // A pale fill marks where to type, which matters more than looks once the sheet is protected.
        let open = cell
            .clone()
            .set_unlocked()
            .set_background_color(Color::RGB(0xFFF9E5));
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_background_color(Color::RGB(0xDCE6F1))
                .set_border(FormatBorder::Thin),
            locked: cell.clone(),
            open_date: open.clone().set_num_format("yyyy-mm-dd"),
            open,
        }
    }
}

fn build(
    meta: &WorkbookMeta,
    template: &Template,
    prior: &BTreeMap<String, PriorAnswer>,
) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let mut book = XlsxWorkbook::new();
    let mut meta_sheet = meta_sheet(meta, template)?;
    let questions = questions_sheet(template, prior, &formats, &mut meta_sheet)?;
    book.push_worksheet(instructions_sheet(meta, template, &formats)?);
    book.push_worksheet(questions);
    book.push_worksheet(meta_sheet);
    auto_fit_flags(book.save_to_buffer()?)
}

/// rust_xlsxwriter marks every row given a height as sized by hand (`customHeight="1"`), which tells Excel and
/// LibreOffice never to refit it, so that an answer typed into a long row would be cut off. Excel itself stores a
/// row it fitted to its text as a height without that mark, and so does this: the rows keep the heights
/// [`fit_row_height`] gave them and still grow or shrink with what the vendor types.
fn auto_fit_flags(bytes: Vec<u8>) -> Result<Vec<u8>, XlsxError> {
    use std::io::{Cursor, Read, Write};

    let zip_error = |e: zip::result::ZipError| XlsxError::ParameterError(e.to_string());
    let io_error = |e: std::io::Error| XlsxError::ParameterError(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).map_err(zip_error)?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len())));
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        let name = entry.name().map_err(zip_error)?.into_owned();
        if !(name.starts_with("xl/worksheets/") && name.ends_with(".xml")) {
            out.raw_copy_file(entry).map_err(zip_error)?;
            continue;
        }
        let mut xml = String::new();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(entry.compression())
            .last_modified_time(entry.last_modified().unwrap_or_default());
        entry.read_to_string(&mut xml).map_err(io_error)?;
        out.start_file(name, options).map_err(zip_error)?;
        out.write_all(xml.replace(r#" customHeight="1""#, "").as_bytes())
            .map_err(io_error)?;
    }
    Ok(out.finish().map_err(zip_error)?.into_inner())
}

fn instructions_sheet(
    meta: &WorkbookMeta,
    template: &Template,
    formats: &Formats,
) -> Result<Worksheet, XlsxError> {
    let mut sheet = Worksheet::new();
    sheet.set_name(INSTRUCTIONS_SHEET)?;
    sheet.set_column_width(0, INSTRUCTIONS_WIDTH)?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let due = meta.due.map_or_else(
        || "the date given in your invitation".to_owned(),
        |due| due.format("%B %-d, %Y").to_string(),
    );
    let lines: Vec<String> = vec![
        format!("Security questionnaire: {}", template.title),
        format!("For: {}", meta.vendor_name),
        format!("Assessment: {}", meta.assessment_id),
        format!("Please return it by {due}."),
        String::new(),
        "How to fill it in".to_owned(),
        format!(
            "1. Answer on the \"{QUESTIONS_SHEET}\" sheet, one row per question. Type only in the shaded columns: \
             Answer, Comment and Evidence reference. The other cells are locked."
        ),
        "2. Where the Answer cell offers a list, pick from it. \"Allowed answers\" says what each question accepts \
         and \"How to answer\" says which questions are required."
            .to_owned(),
        "3. Yes or No questions: answer Yes only if it is true today for the product or service you are offering \
         the city, not if it is planned. Use Comment to explain a No or a partial answer; an honest No with a plan \
         reads better than a Yes we later find untrue."
            .to_owned(),
        "4. N/A means the question does not apply to your product or service at all (for example, it asks about \
         payment pages and you serve none). It is offered only where a question allows it; say why in Comment."
            .to_owned(),
        format!(
            "5. Questions that allow several options: type each option exactly as listed, separated by \
             \"{}\" (a semicolon and a space), e.g. \"Audio{}Images or video\".",
            CHOICE_SEPARATOR.trim_end(),
            CHOICE_SEPARATOR
        ),
        "6. Numbers: a plain number, without units. Dates: a date such as 2025-07-01.".to_owned(),
        "7. Some questions apply only after a given answer to an earlier one; \"Answer only if\" says when. Leave \
         the others blank."
            .to_owned(),
        "8. Evidence reference: name the document, section or page that supports the answer (e.g. \"SOC 2 report, \
         section 4\"), and upload the document itself in the vendor portal. Where a question asks for a document, \
         upload it in the portal and type the evidence id the portal shows into the Answer cell."
            .to_owned(),
        "9. A blank Answer cell means not answered yet. You may upload a partly filled workbook and finish later."
            .to_owned(),
        String::new(),
        "Please do not".to_owned(),
        "\u{2022} change the ID, Section or Question cells, or the sheet names: answers are matched to questions by ID;"
            .to_owned(),
        "\u{2022} add, delete or reorder rows or sheets;".to_owned(),
        "\u{2022} copy answers in from a workbook for another assessment: each workbook belongs to one assessment and one \
         version of the questions, and any other is refused on upload."
            .to_owned(),
        String::new(),
        "Returning it".to_owned(),
        "Save the file (keep the .xlsx format) and upload it in the vendor portal for this assessment. The upload is \
         checked as a whole: if any cell cannot be read, nothing is saved, and you get a list of the cells to fix, \
         such as Questions!D14."
            .to_owned(),
    ];
    for (row, line) in lines.iter().enumerate() {
        let format = match line.as_str() {
            "" => continue,
            _ if row == 0 => &formats.title,
            "How to fill it in" | "Please do not" | "Returning it" => &formats.header,
            _ => &wrap,
        };
        sheet.write_string_with_format(row as u32, 0, neutralise(line), format)?;
        if row > 0 {
            fit_row_height(
                &mut sheet,
                row as u32,
                wrapped_lines(line, INSTRUCTIONS_WIDTH),
            )?;
        }
    }
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_active(true);
    Ok(sheet)
}

fn meta_sheet(meta: &WorkbookMeta, template: &Template) -> Result<Worksheet, XlsxError> {
    let mut sheet = Worksheet::new();
    sheet.set_name(META_SHEET)?;
    let due = meta
        .due
        .map(|due| due.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let rows = [
        (META_ASSESSMENT, meta.assessment_id.as_str()),
        (META_TEMPLATE, template.id.as_str()),
        (META_VERSION, template.version()),
        (META_VENDOR, meta.vendor_name.as_str()),
        (META_DUE, due.as_str()),
        (META_FORMAT, FORMAT_NAME),
    ];
    for (row, (label, value)) in rows.iter().enumerate() {
        sheet.write_string(row as u32, 0, *label)?;
        sheet.write_string(row as u32, 1, neutralise(value))?;
    }
    // Very hidden: not listed under Unhide in Excel, so the sheet is not edited by someone tidying up.
    sheet.set_very_hidden(true);
    Ok(sheet)
}

fn questions_sheet(
    template: &Template,
    prior: &BTreeMap<String, PriorAnswer>,
    formats: &Formats,
    meta_sheet: &mut Worksheet,
) -> Result<Worksheet, XlsxError> {
    let mut sheet = Worksheet::new();
    sheet.set_name(QUESTIONS_SHEET)?;
    for (col, (header, width)) in HEADERS.iter().zip(WIDTHS).enumerate() {
        sheet.write_string_with_format(0, col as u16, *header, &formats.header)?;
        sheet.set_column_width(col as u16, width)?;
    }
    let mut lists = ListColumns {
        sheet: meta_sheet,
        next_col: META_LIST_COL,
    };
    let mut row = 1u32;
    for section in &template.sections {
        for question in &section.questions {
            // The lines the tallest cell of the row wraps to, so that the row shows every cell whole.
            let mut lines = 1;
            let mut fit = |col: u16, text: &str| {
                lines = lines.max(wrapped_lines(text, WIDTHS[usize::from(col)]));
            };
            let locked = [
                (0, question.id.as_str()),
                (1, section.title.as_str()),
                (2, question.text.as_str()),
            ];
            for (col, text) in locked {
                fit(col, text);
                sheet.write_string_with_format(row, col, neutralise(text), &formats.locked)?;
            }
            let notes = [
                condition_note(question, template),
                how_to_answer(question),
                allowed_answers(question),
                question.help.clone().unwrap_or_default(),
                question.citation.clone().unwrap_or_default(),
            ];
            for (offset, text) in notes.iter().enumerate() {
                fit(NOTES_COL + offset as u16, text);
                sheet.write_string_with_format(
                    row,
                    NOTES_COL + offset as u16,
                    neutralise(text),
                    &formats.locked,
                )?;
            }
            let prior = prior.get(&question.id);
            if let Some(text) = write_prior_answer(
                &mut sheet,
                row,
                question,
                prior.and_then(|p| p.answer.as_ref()),
                formats,
            )? {
                fit(ANSWER_COL, &text);
            }
            for (col, text) in [
                (COMMENT_COL, prior.and_then(|p| p.comment.as_deref())),
                (EVIDENCE_COL, prior.and_then(|p| p.evidence_ref.as_deref())),
            ] {
                match text {
                    Some(text) => {
                        fit(col, text);
                        sheet.write_string_with_format(row, col, neutralise(text), &formats.open)?
                    }
                    None => sheet.write_blank(row, col, &formats.open)?,
                };
            }
            fit_row_height(&mut sheet, row, lines)?;
            sheet.add_data_validation(
                row,
                ANSWER_COL,
                row,
                ANSWER_COL,
                &validation(question, row, &mut lists)?,
            )?;
            row += 1;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    // Printed for a signature or a meeting: landscape, the header on every page, and the columns a vendor works
    // with (ID to Evidence reference) scaled to one page wide. The explanatory columns stay on screen only.
    sheet
        .set_landscape()
        .set_print_fit_to_pages(1, 0)
        .set_repeat_rows(0, 0)?
        .set_print_area(0, 0, row.saturating_sub(1).max(1), EVIDENCE_COL)?;
    sheet.protect_with_options(&ProtectionOptions {
        // Resizing rows and columns to read long questions changes nothing that import reads.
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    });
    Ok(sheet)
}

/// Dropdown lists kept on `_meta`, one column each, for lists Excel cannot hold inline.
struct ListColumns<'a> {
    sheet: &'a mut Worksheet,
    next_col: u16,
}

impl ListColumns<'_> {
    /// Writes `items` to a new column and returns an absolute reference to them.
    fn add(&mut self, items: &[String]) -> Result<Formula, XlsxError> {
        let col = self.next_col;
        self.next_col += 1;
        for (row, item) in items.iter().enumerate() {
            self.sheet.write_string(row as u32, col, neutralise(item))?;
        }
        let letters = column_letters(u32::from(col));
        Ok(Formula::new(format!(
            "='{META_SHEET}'!${letters}$1:${letters}${}",
            items.len()
        )))
    }
}

/// Answers a dropdown offers: exactly what import accepts, as the vendor should write them.
fn list_items(question: &Question) -> Vec<String> {
    let mut items: Vec<String> = match question.kind {
        AnswerKind::YesNo => vec![YesNo::Yes.label().to_owned(), YesNo::No.label().to_owned()],
        _ => question.options.clone(),
    };
    if question.na_allowed {
        items.push(YesNo::Na.label().to_owned());
    }
    items
}

fn validation(
    question: &Question,
    row: u32,
    lists: &mut ListColumns<'_>,
) -> Result<DataValidation, XlsxError> {
    let cell = format!("{}{}", column_letters(u32::from(ANSWER_COL)), row + 1);
    let na = question.na_allowed;
    let validation = match question.kind {
        AnswerKind::YesNo | AnswerKind::SingleChoice => {
            let items = list_items(question);
            // Excel splits an inline list on commas and caps it at 255 characters; anything else goes by reference.
            let inline = items
                .iter()
                .map(|item| item.chars().count() + 1)
                .sum::<usize>()
                <= 255
                && items
                    .iter()
                    .all(|item| !item.contains([',', '"']) && neutralise(item) == *item);
            let validation = if inline {
                DataValidation::new().allow_list_strings(&items)?
            } else {
                DataValidation::new().allow_list_formula(lists.add(&items)?)
            };
            validation
                .set_input_message(if question.kind == AnswerKind::YesNo {
                    "Pick from the list."
                } else {
                    "Pick one option from the list."
                })?
                .set_error_message(format!("Pick one of: {}", shorten(&items.join(", "), 200)))?
        }
        AnswerKind::Number => {
            let (min, max) = (question.min, question.max);
            let validation = if na {
                // A number rule alone would refuse the text N/A.
                let low = min.map_or(String::new(), |min| format!(",{cell}>={min}"));
                let high = max.map_or(String::new(), |max| format!(",{cell}<={max}"));
                DataValidation::new().allow_custom(Formula::new(format!(
                    "=OR({cell}=\"N/A\",AND(ISNUMBER({cell}){low}{high}))"
                )))
            } else {
                let rule = match (min, max) {
                    (Some(min), Some(max)) => DataValidationRule::Between(min, max),
                    (Some(min), None) => DataValidationRule::GreaterThanOrEqualTo(min),
                    (None, Some(max)) => DataValidationRule::LessThanOrEqualTo(max),
                    // Excel needs some bound; this one is beyond any count, duration or amount asked about.
                    (None, None) => DataValidationRule::Between(-1e15, 1e15),
                };
                DataValidation::new().allow_decimal_number(rule)
            };
            validation
                .set_input_message("Enter a number, without units.")?
                .set_error_message(format!("Enter {}.", allowed_answers(question)))?
        }
        AnswerKind::Date => {
            let validation = if na {
                DataValidation::new().allow_custom(Formula::new(format!(
                    "=OR({cell}=\"N/A\",ISNUMBER({cell}))"
                )))
            } else {
                DataValidation::new().allow_date(DataValidationRule::Between(
                    ExcelDateTime::from_ymd(1900, 1, 1)?,
                    ExcelDateTime::from_ymd(9999, 12, 31)?,
                ))
            };
            validation
                .set_input_message("Enter a date, e.g. 2025-07-01.")?
                .set_error_message("Enter a date, e.g. 2025-07-01.")?
        }
        AnswerKind::Text => DataValidation::new()
            .allow_text_length(DataValidationRule::LessThanOrEqualTo(
                MAX_TEXT_ANSWER_CHARS as u32,
            ))
            .set_input_message("Free text.")?
            .set_error_message(format!(
                "At most {MAX_TEXT_ANSWER_CHARS} characters; attach a longer text as a file."
            ))?,
        AnswerKind::MultipleChoice => {
            DataValidation::new()
                .allow_any_value()
                .set_input_message(format!(
                    "Type one or more options from \"Allowed answers\", separated by \"{}\".",
                    CHOICE_SEPARATOR.trim_end()
                ))?
        }
        AnswerKind::File => DataValidation::new().allow_any_value().set_input_message(
            "Upload the document in the vendor portal and type its evidence id here.",
        )?,
    };
    Ok(validation.set_error_style(DataValidationErrorStyle::Stop))
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max_chars.saturating_sub(3)).collect();
        format!("{cut}...")
    }
}

/// "Answer only if SUB-01 is Yes", for a question shown only after given answers to an earlier one.
fn condition_note(question: &Question, template: &Template) -> String {
    let Some(condition) = &question.show_if else {
        return String::new();
    };
    let referenced = template.question(&condition.question);
    let values: Vec<String> = condition
        .any_of
        .iter()
        .map(|value| match (value.as_str(), referenced.map(|q| q.kind)) {
            ("na", _) => YesNo::Na.label().to_owned(),
            ("yes", Some(AnswerKind::YesNo)) => YesNo::Yes.label().to_owned(),
            ("no", Some(AnswerKind::YesNo)) => YesNo::No.label().to_owned(),
            (option, _) => format!("\"{option}\""),
        })
        .collect();
    let verb = match referenced.map(|q| q.kind) {
        Some(AnswerKind::MultipleChoice) => "includes",
        _ => "is",
    };
    format!(
        "Answer only if {} {verb} {}",
        condition.question,
        values.join(" or ")
    )
}

fn how_to_answer(question: &Question) -> String {
    let how = match question.kind {
        AnswerKind::YesNo => "Pick Yes or No from the list",
        AnswerKind::SingleChoice => "Pick one option from the list",
        AnswerKind::MultipleChoice => "Type every option that applies, separated by \"; \"",
        AnswerKind::Text => "Free text",
        AnswerKind::Number => "A number, without units",
        AnswerKind::Date => "A date, e.g. 2025-07-01",
        AnswerKind::File => "Upload the document in the vendor portal; type its evidence id here",
    };
    let need = if question.required {
        "required"
    } else {
        "optional"
    };
    format!("{how} ({need})")
}

fn allowed_answers(question: &Question) -> String {
    let na = if question.na_allowed { ", or N/A" } else { "" };
    match question.kind {
        AnswerKind::YesNo | AnswerKind::SingleChoice => list_items(question).join(CHOICE_SEPARATOR),
        AnswerKind::MultipleChoice => format!("{}{na}", question.options.join(CHOICE_SEPARATOR)),
        AnswerKind::Number => {
            let range = match (question.min, question.max) {
                (Some(min), Some(max)) => format!("a number from {min} to {max}"),
                (Some(min), None) => format!("a number of at least {min}"),
                (None, Some(max)) => format!("a number of at most {max}"),
                (None, None) => "a number".to_owned(),
            };
            format!("{range}{na}")
        }
        AnswerKind::Date => format!("a date{na}"),
        AnswerKind::Text => format!("text of up to {MAX_TEXT_ANSWER_CHARS} characters{na}"),
        AnswerKind::File => format!("an evidence id from the vendor portal{na}"),
    }
}

/// Writes a stored answer the way a vendor would have typed it, and returns it when written as text (a number or
/// a date is one short line). A stored answer that no longer fits its question is written as its raw text rather
/// than dropped, so that the vendor sees it and import reports it.
fn write_prior_answer(
    sheet: &mut Worksheet,
    row: u32,
    question: &Question,
    prior: Option<&Value>,
    formats: &Formats,
) -> Result<Option<String>, XlsxError> {
    let Some(value) = prior else {
        // A blank date cell still carries the date format, so that a typed date reads back as a date.
        let format = match question.kind {
            AnswerKind::Date => &formats.open_date,
            _ => &formats.open,
        };
        sheet.write_blank(row, ANSWER_COL, format)?;
        return Ok(None);
    };
    let text = match parse_answer(question, value) {
        Ok(Answer::Number(number)) => {
            sheet.write_number_with_format(row, ANSWER_COL, number, &formats.open)?;
            return Ok(None);
        }
        Ok(Answer::Date(date)) => {
            if let Some(day) = super::registers::excel_date(date) {
                sheet.write_datetime_with_format(row, ANSWER_COL, &day, &formats.open_date)?;
                return Ok(None);
            }
            date.to_string()
        }
        Ok(answer) => answer_text(&answer),
        Err(_) => match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        },
    };
    sheet.write_string_with_format(row, ANSWER_COL, neutralise(&text), &formats.open)?;
    Ok(Some(text))
}

/// Points one line of the body font (Calibri 11) takes, in Excel and in LibreOffice.
const LINE_HEIGHT: f64 = 15.0;
/// The tallest row Excel allows, in points.
const MAX_ROW_HEIGHT: f64 = 409.0;

/// How many lines `text` wraps to in a column `width` characters wide (Excel's width unit, the width of a digit):
/// words are laid out greedily, a word longer than a line is broken, and each line break starts a new line. A
/// character of text is counted as wide as a digit, which overestimates a little in most fonts: a row a little too
/// tall reads better than one that hides the end of a question.
fn wrapped_lines(text: &str, width: f64) -> usize {
    // The cell's padding takes about one character.
    let capacity = (width.floor() as usize).saturating_sub(1).max(1);
    text.split('\n')
        .map(|paragraph| {
            let mut lines = 1;
            let mut used = 0;
            for word in paragraph.split_whitespace() {
                let length = word.chars().count();
                used = if used == 0 {
                    length
                } else if used + 1 + length <= capacity {
                    used + 1 + length
                } else {
                    lines += 1;
                    length
                };
                while used > capacity {
                    lines += 1;
                    used -= capacity;
                }
            }
            lines
        })
        .sum::<usize>()
        .max(1)
}

/// Makes a row tall enough for `lines` lines of wrapped text. LibreOffice does not fit rows to wrapped text when it
/// opens an xlsx (it trusts the heights stored in the file), so without this every long question shows as one
/// cut-off line there; Excel fits rows itself, and [`auto_fit_flags`] lets it go on doing so when a vendor types.
fn fit_row_height(sheet: &mut Worksheet, row: u32, lines: usize) -> Result<(), XlsxError> {
    if lines > 1 {
        sheet.set_row_height(row, (lines as f64 * LINE_HEIGHT).min(MAX_ROW_HEIGHT))?;
    }
    Ok(())
}

/// An answer as the vendor writes it in the Answer cell.
fn answer_text(answer: &Answer) -> String {
    match answer {
        Answer::YesNo(answer) => answer.label().to_owned(),
        Answer::Choice(text) | Answer::Text(text) => text.clone(),
        Answer::Choices(options) => options.join(CHOICE_SEPARATOR),
        Answer::Number(number) => number.to_string(),
        Answer::Date(date) => date.format("%Y-%m-%d").to_string(),
        Answer::File { evidence_id } => evidence_id.clone(),
        Answer::Na => YesNo::Na.label().to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Import.

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

#[cfg(test)]
mod tests;
