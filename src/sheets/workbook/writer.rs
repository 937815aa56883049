//! The export: the instructions, the protected and validated questions sheet with any prior answers, and the
//! very hidden `_meta` sheet.

use std::collections::BTreeMap;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, ExcelDateTime, Format,
    FormatAlign, FormatBorder, Formula, ProtectionOptions, Workbook as XlsxWorkbook, Worksheet,
    XlsxError,
};
use serde_json::Value;

use super::{
    ANSWER_COL, CHOICE_SEPARATOR, COMMENT_COL, EVIDENCE_COL, FORMAT_NAME, HEADERS,
    INSTRUCTIONS_SHEET, INSTRUCTIONS_WIDTH, META_ASSESSMENT, META_DUE, META_FORMAT, META_LIST_COL,
    META_SHEET, META_TEMPLATE, META_VENDOR, META_VERSION, NOTES_COL, PriorAnswer, QUESTIONS_SHEET,
    WIDTHS, WorkbookMeta,
};
use crate::domain::questionnaires::{
    Answer, AnswerKind, MAX_TEXT_ANSWER_CHARS, Question, Template, YesNo, parse_answer,
};
use crate::sheets::{column_letters, neutralise};

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
            if let Some(day) = crate::sheets::reports::excel_date(date) {
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
pub(super) const LINE_HEIGHT: f64 = 15.0;
/// The tallest row Excel allows, in points.
const MAX_ROW_HEIGHT: f64 = 409.0;

/// How many lines `text` wraps to in a column `width` characters wide (Excel's width unit, the width of a digit):
/// words are laid out greedily, a word longer than a line is broken, and each line break starts a new line. A
/// character of text is counted as wide as a digit, which overestimates a little in most fonts: a row a little too
/// tall reads better than one that hides the end of a question.
pub(super) fn wrapped_lines(text: &str, width: f64) -> usize {
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
