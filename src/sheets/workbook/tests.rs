use std::io::Read;

use calamine::Data;
use rust_xlsxwriter::{Format, Workbook as XlsxWorkbook};
use serde_json::json;

use super::writer::{LINE_HEIGHT, wrapped_lines};
use super::*;
use crate::domain::questionnaires::{MAX_EVIDENCE_REF_CHARS, Template, YesNo, parse_answer};
use crate::sheets::{Workbook, cell_text, rows_of};

const TEMPLATE: &str = r#"
id = "test-all-kinds"
title = "Every kind of question"
description = "d"
applies_to = "a"

[[sections]]
id = "one"
title = "First section"

[[sections.questions]]
id = "SUB-01"
text = "Do you use sub-processors?"
kind = "yes_no"
expected = "no"
citation = "c"

[[sections.questions]]
id = "SUB-02"
text = "=HYPERLINK(\"http://evil.example\", \"Which ones?\")"
kind = "text"
show_if = { question = "SUB-01", equals = "yes" }

[[sections.questions]]
id = "NA-01"
text = "Are payment pages protected?"
kind = "yes_no"
na_allowed = true
expected = "yes"
citation = "c"

[[sections.questions]]
id = "CH-01"
text = "Which protocol?"
kind = "single_choice"
options = ["SAML 2.0", "OpenID Connect", "Another, unlisted protocol"]
expected = ["SAML 2.0", "OpenID Connect"]
citation = "c"

[[sections]]
id = "two"
title = "Second section"

[[sections.questions]]
id = "MC-01"
text = "Which certifications?"
kind = "multiple_choice"
options = ["SOC 2 Type 2", "ISO/IEC 27001", "FedRAMP"]
na_allowed = true

[[sections.questions]]
id = "NUM-01"
text = "Within how many hours do you notify?"
kind = "number"
min = 0
max = 720
expected = { max = 72 }
citation = "c"

[[sections.questions]]
id = "NUM-02"
text = "How many staff?"
kind = "number"
na_allowed = true
required = false

[[sections.questions]]
id = "DATE-01"
text = "When was the last restore test?"
kind = "date"

[[sections.questions]]
id = "FILE-01"
text = "Upload the report."
kind = "file"
"#;

fn template() -> Template {
    Template::from_toml("test.toml", TEMPLATE).expect("the test template is valid")
}

fn meta(template: &Template) -> WorkbookMeta {
    WorkbookMeta {
        assessment_id: "asm-123".into(),
        template_id: template.id.clone(),
        template_version: template.version().to_owned(),
        vendor_name: "=Evil Vendor".into(),
        due: NaiveDate::from_ymd_opt(2026, 3, 31),
    }
}

fn prior(answer: Value, comment: Option<&str>) -> PriorAnswer {
    PriorAnswer {
        answer: Some(answer),
        comment: comment.map(str::to_owned),
        evidence_ref: None,
    }
}

fn full_prior() -> BTreeMap<String, PriorAnswer> {
    [
        (
            "SUB-01",
            prior(json!("yes"), Some("-two of them, see list")),
        ),
        ("SUB-02", prior(json!("=cmd|'/c calc'!A1"), None)),
        ("NA-01", prior(json!("na"), Some("no payment pages"))),
        ("CH-01", prior(json!("Another, unlisted protocol"), None)),
        ("MC-01", prior(json!(["SOC 2 Type 2", "FedRAMP"]), None)),
        ("NUM-01", prior(json!(48), None)),
        ("NUM-02", prior(json!("na"), None)),
        ("DATE-01", prior(json!("2025-07-01"), None)),
        (
            "FILE-01",
            PriorAnswer {
                answer: Some(json!({"evidence_id": "ev-9"})),
                comment: None,
                evidence_ref: Some("@SOC 2 report, section 4".into()),
            },
        ),
    ]
    .into_iter()
    .map(|(id, answer)| (id.to_owned(), answer))
    .collect()
}

fn export_full() -> (Template, WorkbookMeta, Vec<u8>) {
    let template = template();
    let meta = meta(&template);
    let bytes = export(&meta, &template, &full_prior()).expect("export");
    (template, meta, bytes)
}

/// The text of one part of the xlsx zip.
fn part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Overwrites cells of the exported workbook by rebuilding it: calamine reads, rust_xlsxwriter writes, so a
/// "vendor edit" is a fresh workbook with the same cells plus the changes.
fn edited(bytes: &[u8], changes: &[(&str, u32, u16, Data)]) -> Vec<u8> {
    let book = Workbook::open(bytes).unwrap();
    let mut out = XlsxWorkbook::new();
    for (name, range) in &book.sheets {
        let sheet = out.add_worksheet();
        sheet.set_name(name).unwrap();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let mut cells: BTreeMap<(u32, u16), Data> = BTreeMap::new();
        for (row, row_cells) in rows_of(range) {
            for (col, cell) in row_cells {
                cells.insert((row, col as u16), cell.clone());
            }
        }
        for (sheet_name, row, col, data) in changes {
            if sheet_name == name {
                cells.insert((*row, *col), data.clone());
            }
        }
        for ((row, col), cell) in cells {
            match cell {
                Data::String(text) => {
                    sheet.write_string(row, col, text).unwrap();
                }
                Data::Float(number) => {
                    sheet.write_number(row, col, number).unwrap();
                }
                Data::Int(number) => {
                    sheet.write_number(row, col, number as f64).unwrap();
                }
                Data::Bool(value) => {
                    sheet.write_boolean(row, col, value).unwrap();
                }
                Data::DateTime(value) => {
                    sheet
                        .write_number_with_format(row, col, value.as_f64(), &date)
                        .unwrap();
                }
                _ => {}
            }
        }
    }
    out.save_to_buffer().unwrap()
}

fn row_of(template: &Template, id: &str) -> u32 {
    template.questions().position(|q| q.id == id).unwrap() as u32 + 1
}

fn text(value: &str) -> Data {
    Data::String(value.to_owned())
}

#[test]
fn a_workbook_exported_with_prior_answers_imports_to_the_same_answers() {
    let (template, meta, bytes) = export_full();
    let imported = import(&bytes, &meta, &template).expect("import");
    let prior = full_prior();
    assert_eq!(imported.answers.len(), prior.len());
    for (id, given) in &prior {
        let question = template.question(id).unwrap();
        let back = &imported.answers[id];
        let expected = parse_answer(question, given.answer.as_ref().unwrap()).unwrap();
        assert_eq!(back.answer.as_ref(), Some(&expected), "{id}");
        assert_eq!(back.comment, given.comment, "{id}");
        assert_eq!(back.evidence_ref, given.evidence_ref, "{id}");
    }
    assert_eq!(imported.answers["SUB-01"].cell, "Questions!D2");
}

#[test]
fn an_empty_workbook_imports_as_nothing_answered() {
    let template = template();
    let meta = meta(&template);
    let bytes = export(&meta, &template, &BTreeMap::new()).unwrap();
    assert_eq!(
        import(&bytes, &meta, &template),
        Ok(ImportedWorkbook::default())
    );
}

#[test]
fn the_export_opens_with_its_sheets_and_the_meta_sheet_very_hidden() {
    let (template, _, bytes) = export_full();
    let book = Workbook::open(&bytes).unwrap();
    let names: Vec<&str> = book.sheets.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, [INSTRUCTIONS_SHEET, QUESTIONS_SHEET, META_SHEET]);
    let workbook_xml = part(&bytes, "xl/workbook.xml");
    assert!(
        workbook_xml.contains(r#"name="_meta" sheetId="3" state="veryHidden""#),
        "{workbook_xml}"
    );
    let (_, meta_range) = book.sheet(META_SHEET).unwrap();
    assert_eq!(
        meta_range.get_value((2, 1)),
        Some(&text(template.version()))
    );
    let (_, questions) = book.sheet(QUESTIONS_SHEET).unwrap();
    assert_eq!(questions.get_value((0, 3)), Some(&text("Answer")));
    assert_eq!(questions.get_value((1, 0)), Some(&text("SUB-01")));
    assert_eq!(questions.get_value((1, 3)), Some(&text("Yes")));
    assert_eq!(
        questions.get_value((row_of(&template, "SUB-02"), 6)),
        Some(&text("Answer only if SUB-01 is Yes"))
    );
    assert_eq!(
        questions.get_value((row_of(&template, "MC-01"), 3)),
        Some(&text("SOC 2 Type 2; FedRAMP"))
    );
}

#[test]
fn the_questions_sheet_is_protected_with_only_the_answer_columns_unlocked_and_validated() {
    let (template, _, bytes) = export_full();
    let sheet = part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(sheet.contains("<sheetProtection"), "protected");
    assert!(sheet.contains(r#"<pane ySplit="1""#), "header frozen");
    let styles = part(&bytes, "xl/styles.xml");
    assert!(styles.contains(r#"locked="0""#), "some cells unlocked");
    let validations = sheet.matches("<dataValidation ").count();
    assert_eq!(
        validations,
        template.questions().count(),
        "one per answer cell"
    );
    assert!(
        sheet.contains(r#"<formula1>"Yes,No"</formula1>"#),
        "yes/no dropdown"
    );
    assert!(
        sheet.contains(r#"<formula1>"Yes,No,N/A"</formula1>"#),
        "N/A only where allowed"
    );
    assert_eq!(sheet.matches(r#""Yes,No,N/A""#).count(), 1);
    // An option with a comma cannot sit in an inline list; it is listed on _meta instead.
    assert!(
        sheet.contains("<formula1>'_meta'!$D$1:$D$3</formula1>"),
        "{sheet}"
    );
    assert!(
        sheet.contains(r#"type="decimal""#)
            && sheet.contains("<formula1>0</formula1><formula2>720</formula2>"),
        "number range"
    );
    assert!(
        sheet.contains(r#"<formula1>OR(D8="N/A",AND(ISNUMBER(D8)))</formula1>"#),
        "number or N/A"
    );
    assert!(sheet.contains(r#"type="date""#), "date");
    let book = Workbook::open(&bytes).unwrap();
    let (_, meta) = book.sheet(META_SHEET).unwrap();
    assert_eq!(
        meta.get_value((2, 3)),
        Some(&text("Another, unlisted protocol"))
    );
}

#[test]
fn formula_like_text_is_neutralised_in_every_sheet() {
    let (template, meta, bytes) = export_full();
    let book = Workbook::open(&bytes).unwrap();
    let (_, questions) = book.sheet(QUESTIONS_SHEET).unwrap();
    let row = row_of(&template, "SUB-02");
    assert_eq!(
        questions.get_value((row, 2)),
        Some(&text(
            "'=HYPERLINK(\"http://evil.example\", \"Which ones?\")"
        ))
    );
    assert_eq!(
        questions.get_value((row, 3)),
        Some(&text("'=cmd|'/c calc'!A1"))
    );
    assert_eq!(
        questions.get_value((1, 4)),
        Some(&text("'-two of them, see list"))
    );
    let (_, instructions) = book.sheet(INSTRUCTIONS_SHEET).unwrap();
    assert!(
        instructions
            .used_cells()
            .all(|(_, _, cell)| !cell_text(cell).starts_with('=')
                && !matches!(cell, Data::String(s) if s.starts_with('='))),
    );
    for name in [
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
        "xl/worksheets/sheet3.xml",
    ] {
        assert!(
            !part(&bytes, name).contains("<f>"),
            "{name} holds a formula"
        );
    }
    // And the values survive the round trip unevaluated.
    let imported = import(&bytes, &meta, &template).unwrap();
    assert_eq!(
        imported.answers["SUB-02"].answer,
        Some(Answer::Text("=cmd|'/c calc'!A1".into()))
    );
}

#[test]
fn every_bad_cell_is_reported_by_cell_and_nothing_is_returned() {
    let (template, meta, bytes) = export_full();
    let bytes = edited(
        &bytes,
        &[
            (
                QUESTIONS_SHEET,
                row_of(&template, "SUB-01"),
                3,
                text("Maybe"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "NA-01"),
                3,
                text("Perhaps"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "CH-01"),
                3,
                text("Kerberos"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "MC-01"),
                3,
                text("SOC 2 Type 2; PCI"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "NUM-01"),
                3,
                Data::Float(1000.0),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "DATE-01"),
                3,
                text("last spring"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "FILE-01"),
                0,
                text("FILE-99"),
            ),
        ],
    );
    let errors = import(&bytes, &meta, &template).expect_err("refused");
    let found: Vec<(String, String)> = errors.into_iter().map(|e| (e.field, e.message)).collect();
    let cell = |id: &str, col: &str| format!("Questions!{col}{}", row_of(&template, id) + 1);
    assert_eq!(
        found,
        vec![
            (cell("SUB-01", "D"), "\"Maybe\" is not one of Yes, No".to_owned()),
            (cell("NA-01", "D"), "\"Perhaps\" is not one of Yes, No, N/A".to_owned()),
            (
                cell("CH-01", "D"),
                "\"Kerberos\" is not one of SAML 2.0, OpenID Connect, Another, unlisted protocol".to_owned()
            ),
            (
                cell("MC-01", "D"),
                "\"PCI\" is not one of SOC 2 Type 2, ISO/IEC 27001, FedRAMP".to_owned()
            ),
            (cell("NUM-01", "D"), "1000 is above the maximum 720".to_owned()),
            (
                cell("DATE-01", "D"),
                "\"last spring\" is not a date in the form YYYY-MM-DD".to_owned()
            ),
            (
                cell("FILE-01", "A"),
                "\"FILE-99\" is not a question of this questionnaire; ID cells must not be edited (download a \
                 fresh workbook if unsure)"
                    .to_owned()
            ),
        ]
    );
}

#[test]
fn blank_answers_are_unanswered_and_typed_values_are_read_as_vendors_type_them() {
    let (template, meta, _) = export_full();
    let bytes = export(&meta, &template, &BTreeMap::new()).unwrap();
    let bytes = edited(
        &bytes,
        &[
            (
                QUESTIONS_SHEET,
                row_of(&template, "SUB-01"),
                3,
                Data::Bool(true),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "NA-01"),
                3,
                text(" n/a "),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "CH-01"),
                3,
                text("openid connect"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "MC-01"),
                3,
                text("FedRAMP\nsoc 2 type 2"),
            ),
            (QUESTIONS_SHEET, row_of(&template, "NUM-01"), 3, text("24")),
            (
                QUESTIONS_SHEET,
                row_of(&template, "NUM-01"),
                5,
                text("Retention schedule, page 3"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "DATE-01"),
                3,
                Data::DateTime(calamine::ExcelDateTime::new(
                    45839.0,
                    calamine::ExcelDateTimeType::DateTime,
                    false,
                )),
            ),
        ],
    );
    let imported = import(&bytes, &meta, &template).expect("import");
    let answer = |id: &str| imported.answers[id].answer.clone();
    assert_eq!(answer("SUB-01"), Some(Answer::YesNo(YesNo::Yes)));
    assert_eq!(answer("NA-01"), Some(Answer::YesNo(YesNo::Na)));
    assert_eq!(
        answer("CH-01"),
        Some(Answer::Choice("OpenID Connect".into()))
    );
    assert_eq!(
        answer("MC-01"),
        Some(Answer::Choices(vec![
            "FedRAMP".into(),
            "SOC 2 Type 2".into()
        ]))
    );
    assert_eq!(answer("NUM-01"), Some(Answer::Number(24.0)));
    assert_eq!(
        imported.answers["NUM-01"].evidence_ref.as_deref(),
        Some("Retention schedule, page 3")
    );
    assert_eq!(
        answer("DATE-01"),
        Some(Answer::Date(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()))
    );
    assert!(
        !imported.answers.contains_key("SUB-02"),
        "blank rows are left out"
    );
}

#[test]
fn a_comment_or_evidence_reference_without_an_answer_is_refused_by_cell() {
    let (template, meta, _) = export_full();
    let bytes = export(&meta, &template, &BTreeMap::new()).unwrap();
    let long = "x".repeat(MAX_EVIDENCE_REF_CHARS + 1);
    let bytes = edited(
        &bytes,
        &[
            (
                QUESTIONS_SHEET,
                row_of(&template, "NUM-02"),
                4,
                text("only a comment"),
            ),
            (
                QUESTIONS_SHEET,
                row_of(&template, "DATE-01"),
                5,
                text("SOC 2, section 4"),
            ),
            (QUESTIONS_SHEET, row_of(&template, "NUM-01"), 3, text("24")),
            (QUESTIONS_SHEET, row_of(&template, "NUM-01"), 5, text(&long)),
        ],
    );
    let errors = import(&bytes, &meta, &template).expect_err("refused");
    let found: Vec<(String, String)> = errors.into_iter().map(|e| (e.field, e.message)).collect();
    let cell = |id: &str, col: &str| format!("Questions!{col}{}", row_of(&template, id) + 1);
    assert_eq!(
        found,
        vec![
            (
                cell("NUM-01", "F"),
                "is 1001 characters; the most is 1000, so upload a longer text as a document"
                    .to_owned()
            ),
            (
                cell("NUM-02", "E"),
                format!(
                    "Comment is filled in but the answer ({}) is blank; answer NUM-02 too, or clear this cell",
                    cell("NUM-02", "D")
                )
            ),
            (
                cell("DATE-01", "F"),
                format!(
                    "Evidence reference is filled in but the answer ({}) is blank; answer DATE-01 too, or clear \
                     this cell",
                    cell("DATE-01", "D")
                )
            ),
        ]
    );
}

#[test]
fn a_workbook_for_another_assessment_is_refused_naming_both() {
    let (template, meta, bytes) = export_full();
    let other = WorkbookMeta {
        assessment_id: "asm-999".into(),
        ..meta
    };
    let errors = import(&bytes, &other, &template).expect_err("refused");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "_meta!B1");
    assert!(
        errors[0]
            .message
            .starts_with("this workbook is for assessment \"asm-123\", not assessment asm-999")
    );
}

#[test]
fn a_workbook_from_an_older_template_version_is_refused_naming_both_versions() {
    let (old_template, old_meta, bytes) = export_full();
    let new_template = Template::from_toml(
        "test.toml",
        &TEMPLATE.replace("How many staff?", "How many people?"),
    )
    .unwrap();
    let current = WorkbookMeta {
        template_version: new_template.version().to_owned(),
        ..old_meta.clone()
    };
    let errors = import(&bytes, &current, &new_template).expect_err("refused");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "_meta!B3");
    let message = &errors[0].message;
    assert!(message.contains(&old_template.version()[..12]), "{message}");
    assert!(message.contains(&new_template.version()[..12]), "{message}");

    // The workbook matches the assessment, but the caller holds another version of the questions.
    let errors = import(&bytes, &old_meta, &new_template).expect_err("refused");
    assert_eq!(errors[0].field, "_meta!B3");
    assert!(
        errors[0]
            .message
            .contains("not the one the service has loaded"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_workbook_without_meta_or_without_its_columns_is_refused() {
    let template = template();
    let meta = meta(&template);
    let mut book = XlsxWorkbook::new();
    book.add_worksheet().set_name(QUESTIONS_SHEET).unwrap();
    let errors = import(&book.save_to_buffer().unwrap(), &meta, &template).unwrap_err();
    assert_eq!(errors[0].field, "file");
    assert!(
        errors[0]
            .message
            .contains("not a questionnaire workbook from this service")
    );

    let bytes = export(&meta, &template, &BTreeMap::new()).unwrap();
    let moved = edited(&bytes, &[(QUESTIONS_SHEET, 0, 3, text("Comment"))]);
    let errors = import(&moved, &meta, &template).unwrap_err();
    assert_eq!(errors[0].field, "Questions!D1");

    let errors = import(b"not a workbook", &meta, &template).unwrap_err();
    assert_eq!(errors[0].field, "file");
}

#[test]
fn a_repeated_id_and_an_answer_without_an_id_are_reported() {
    let (template, meta, bytes) = export_full();
    let last = template.questions().count() as u32;
    let bytes = edited(
        &bytes,
        &[
            (QUESTIONS_SHEET, last + 1, 0, text("SUB-01")),
            (QUESTIONS_SHEET, last + 1, 3, text("No")),
            (QUESTIONS_SHEET, last + 2, 3, text("Yes")),
        ],
    );
    let errors = import(&bytes, &meta, &template).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            format!("Questions!A{}", last + 2),
            format!("Questions!A{}", last + 3)
        ]
    );
    assert!(
        errors[0].message.contains("its row is 2"),
        "{}",
        errors[0].message
    );
}

#[test]
fn wrapped_lines_are_counted_word_by_word() {
    assert_eq!(wrapped_lines("", 10.0), 1);
    assert_eq!(wrapped_lines("short text", 12.0), 1);
    // Eleven characters do not fit the ten a width of 11 leaves after padding.
    assert_eq!(wrapped_lines("abcde fghij", 11.0), 2);
    assert_eq!(wrapped_lines("one\ntwo\n\nfour", 40.0), 4);
    assert_eq!(
        wrapped_lines(&"x".repeat(25), 11.0),
        3,
        "a long word is broken"
    );
}

/// The `<row>` tag of a 1-based row in a worksheet part.
fn row_tag(sheet: &str, row: u32) -> &str {
    let start = sheet
        .find(&format!(r#"<row r="{row}""#))
        .unwrap_or_else(|| panic!("row {row} is written"));
    let end = start + sheet[start..].find('>').unwrap();
    &sheet[start..=end]
}

fn height(tag: &str) -> f64 {
    tag.split(r#" ht=""#).nth(1).map_or(15.0, |rest| {
        rest[..rest.find('"').unwrap()].parse().unwrap()
    })
}

#[test]
fn rows_are_tall_enough_for_their_wrapped_text_and_left_to_refit() {
    let long = "Do you keep, review at least once a year and test against a realistic scenario a written plan for \
                restoring every system that holds the city's data, naming who does what, in which order, within \
                which times, and how the city is told?";
    let template = Template::from_toml(
        "rows.toml",
        &format!(
            "id = \"rows\"\ntitle = \"Rows\"\ndescription = \"d\"\napplies_to = \"a\"\n\n[[sections]]\nid = \"s\"\n\
             title = \"S\"\n\n[[sections.questions]]\nid = \"Q-01\"\ntext = \"Short?\"\nkind = \"text\"\n\n\
             [[sections.questions]]\nid = \"Q-02\"\ntext = \"{long}\"\nkind = \"text\"\n"
        ),
    )
    .unwrap();
    let meta = meta(&template);
    let comment = "A comment of several lines:\nfirst\nsecond\nthird\nfourth\nfifth\nsixth";
    let prior = [(
        "Q-01".to_owned(),
        prior(json!("yes, in part"), Some(comment)),
    )]
    .into();
    let bytes = export(&meta, &template, &prior).unwrap();
    let sheet = part(&bytes, "xl/worksheets/sheet2.xml");
    // Column C is 60 wide: the long question takes four lines of 15 points.
    assert_eq!(wrapped_lines(long, 60.0), 4);
    assert!(height(row_tag(&sheet, 3)) >= 60.0, "{}", row_tag(&sheet, 3));
    // Seven lines of comment make Q-01's row the taller.
    assert_eq!(height(row_tag(&sheet, 2)), 7.0 * LINE_HEIGHT);
    assert_eq!(
        height(row_tag(&sheet, 1)),
        15.0,
        "the header row keeps the default height"
    );
    // Heights as Excel stores rows it fitted itself: not marked as set by hand, so that they refit on edit.
    assert!(!sheet.contains("customHeight"), "{sheet}");
    let instructions = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(
        height(row_tag(&instructions, 7)) >= 30.0,
        "the first long instruction wraps"
    );
    assert!(!instructions.contains("customHeight"));
    // The rewritten workbook still reads back whole.
    let imported = import(&bytes, &meta, &template).unwrap();
    assert_eq!(imported.answers["Q-01"].comment.as_deref(), Some(comment));
}

#[test]
fn the_instructions_show_no_escaping_apostrophes() {
    let template = template();
    let meta = WorkbookMeta {
        vendor_name: "Plain Vendor".into(),
        ..meta(&template)
    };
    let bytes = export(&meta, &template, &BTreeMap::new()).unwrap();
    let book = Workbook::open(&bytes).unwrap();
    let (_, instructions) = book.sheet(INSTRUCTIONS_SHEET).unwrap();
    for (_, _, cell) in instructions.used_cells() {
        let Data::String(text) = cell else { continue };
        assert!(
            !text.starts_with('\''),
            "a reader would see the apostrophe: {text}"
        );
    }
}

#[test]
fn every_shipped_template_exports_and_reads_back_empty() {
    for template in crate::domain::questionnaires::shipped().unwrap() {
        let meta = WorkbookMeta {
            assessment_id: "a".into(),
            template_id: template.id.clone(),
            template_version: template.version().to_owned(),
            vendor_name: "v".into(),
            due: None,
        };
        let bytes = export(&meta, &template, &BTreeMap::new()).unwrap();
        assert_eq!(
            import(&bytes, &meta, &template),
            Ok(ImportedWorkbook::default()),
            "{}",
            template.id
        );
    }
}
