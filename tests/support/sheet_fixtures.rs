//! Synthetic CAIQ v3.0.1, v3.1 and v4, HECVAT 3 and 4 and FedRAMP CIS workbooks for tests, unit and HTTP alike.
//!
//! This file is test code, not part of the library: `src/sheets` includes it for its unit tests, and the HTTP
//! tests (`tests/api/main.rs`) and the benches (`benches/sheets.rs`) include it as a module of their own.
//!
//! They reproduce the layouts the readers in `procurement_review::sheets::external` must cope with (sheet names,
//! header rows, merged cells, formulas with cached values, hidden sheets and rows, trailing notes), never the
//! published content: the CAIQ and HECVAT question texts are copyrighted, so every question here is made-up
//! text. Each function takes `(question id, answer, comment)` triples and panics only if rust_xlsxwriter refuses
//! the fixed layout, which a test would show at once.

use rust_xlsxwriter::{Format, FormatAlign, Formula, Workbook, Worksheet, XlsxError};

/// A CAIQ v4.0.3-shaped workbook: an introduction sheet, then sheet `CAIQv4.0.3` with a title on row 1, the header
/// on row 2 (doubled spaces and line breaks inside header cells, as in the download), one row per question in the
/// order given, CCM control columns merged down over the questions of one control, then an "End of Standard" row
/// and copyright lines. Each triple is (question ID like `IAM-14.1`, answer, implementation description).
pub fn caiq_v4(answers: &[(&str, &str, &str)]) -> Vec<u8> {
    build(|book| {
        let intro = book.add_worksheet();
        intro.set_name("Introduction")?;
        intro.write_string(0, 0, "Synthetic CAIQ-shaped workbook for tests.")?;

        let sheet = book.add_worksheet();
        sheet.set_name("CAIQv4.0.3")?;
        let bold = Format::new().set_bold().set_text_wrap();
        let merged = Format::new().set_align(FormatAlign::VerticalCenter);
        sheet.write_string_with_format(
            0,
            0,
            "Consensus Assessments Initiative Questionnaire (synthetic)",
            &bold,
        )?;
        let headers = [
            "Question ID",
            "Question",
            "CSP CAIQ  Answer",
            "SSRM Control\nOwnership",
            "CSP Implementation Description\n(Optional/Recommended)",
            "CSC Responsibilities\n(Optional/Recommended)",
            "CCM Control ID",
            "CCM Control  Specification",
            "CCM Control Title",
            "CCM Domain Title",
        ];
        for (col, header) in headers.iter().enumerate() {
            sheet.write_string_with_format(1, col as u16, *header, &bold)?;
        }
        let mut row = 2u32;
        let mut index = 0;
        while index < answers.len() {
            let control = control_of(answers[index].0);
            let group = answers[index..]
                .iter()
                .take_while(|(id, _, _)| control_of(id) == control)
                .count();
            for (offset, (id, answer, description)) in
                answers[index..index + group].iter().enumerate()
            {
                let r = row + offset as u32;
                sheet.write_string(r, 0, *id)?;
                sheet.write_string(r, 1, format!("Made-up question {id} for tests?"))?;
                sheet.write_string(r, 2, *answer)?;
                sheet.write_string(r, 3, "CSP-owned")?;
                sheet.write_string(r, 4, *description)?;
                sheet.write_string(r, 5, "None.")?;
            }
            let control_cells = [
                control.to_string(),
                format!("Made-up control {control} specification."),
                format!("Control {control}"),
                "Made-up domain".to_string(),
            ];
            for (offset, text) in control_cells.iter().enumerate() {
                let col = 6 + offset as u16;
                if group > 1 {
                    sheet.merge_range(row, col, row + group as u32 - 1, col, text, &merged)?;
                } else {
                    sheet.write_string(row, col, text)?;
                }
            }
            row += group as u32;
            index += group;
        }
        sheet.write_string(row, 0, "End of Standard")?;
        sheet.write_string(
            row + 2,
            0,
            "© Copyright notice of the publisher (synthetic).",
        )?;
        sheet.write_string(row + 3, 0, "Licence terms line (synthetic).")?;
        sheet.set_freeze_panes(2, 0)?;
        Ok(())
    })
}

/// `IAM-14.1` -> `IAM-14`.
fn control_of(id: &str) -> &str {
    id.split_once('.').map_or(id, |(control, _)| control)
}

/// `HLDA-07` -> `HLDA`.
fn section_of(id: &str) -> &str {
    id.split_once('-').map_or(id, |(section, _)| section)
}

/// (question id, answer, comment), as every fixture takes them.
type Triple<'a> = (&'a str, &'a str, &'a str);

/// Triples grouped by HECVAT section prefix, sections in first-seen order.
fn by_section<'a>(answers: &'a [Triple<'a>]) -> Vec<(&'a str, Vec<&'a Triple<'a>>)> {
    let mut sections: Vec<(&str, Vec<&Triple>)> = Vec::new();
    for triple in answers {
        let section = section_of(triple.0);
        match sections.iter_mut().find(|(name, _)| *name == section) {
            Some((_, rows)) => rows.push(triple),
            None => sections.push((section, vec![triple])),
        }
    }
    sections
}

/// A HECVAT v3 Full-shaped workbook: an instructions sheet, then sheet `HECVAT - Full` with a title row, general
/// information rows whose answers are free text (`GNRL-01`, `GNRL-02`), and one block per section prefix, each
/// opened by a header row `<Section> | | Vendor Answers | Additional Information | Guidance`. Each triple is
/// (HECVAT ID like `HLDA-07`, answer, additional information).
pub fn hecvat_v3(answers: &[(&str, &str, &str)]) -> Vec<u8> {
    hecvat_v3_sheet("HECVAT - Full", "HECVAT Full (synthetic)", answers)
}

/// The same layout as [`hecvat_v3`] on a sheet named `HECVAT - Lite`, whose first cell is `title` (where the
/// workbook names its version, e.g. "HECVAT - Lite | Version 3.06"). Lite's IDs (`HLDA-02`, `DOCU-10`) are given
/// in the triples like any other.
pub fn hecvat_lite_3(title: &str, answers: &[(&str, &str, &str)]) -> Vec<u8> {
    hecvat_v3_sheet("HECVAT - Lite", title, answers)
}

/// The HECVAT 3 layout on a sheet named `name` (`HECVAT - On-Prem`, or a sheet renamed to name no edition).
pub fn hecvat_v3_sheet(name: &str, title: &str, answers: &[(&str, &str, &str)]) -> Vec<u8> {
    build(|book| {
        let intro = book.add_worksheet();
        intro.set_name("Instructions")?;
        intro.write_string(0, 0, "Synthetic HECVAT-shaped workbook for tests.")?;

        let sheet = book.add_worksheet();
        sheet.set_name(name)?;
        let bold = Format::new().set_bold();
        sheet.write_string_with_format(0, 0, title, &bold)?;
        write_v3_header(sheet, 2, "General Information", &bold)?;
        sheet.write_string(3, 0, "GNRL-01")?;
        sheet.write_string(3, 1, "Made-up: vendor name")?;
        sheet.write_string(3, 2, "Example Vendor Inc.")?;
        sheet.write_string(4, 0, "GNRL-02")?;
        sheet.write_string(4, 1, "Made-up: product name")?;
        sheet.write_string(4, 2, "Example Product")?;
        let mut row = 6u32;
        for (section, rows) in by_section(answers) {
            write_v3_header(sheet, row, &format!("Section {section}"), &bold)?;
            row += 1;
            for (id, answer, info) in rows {
                sheet.write_string(row, 0, *id)?;
                sheet.write_string(row, 1, format!("Made-up question {id} for tests?"))?;
                if !answer.is_empty() {
                    sheet.write_string(row, 2, *answer)?;
                }
                if !info.is_empty() {
                    sheet.write_string(row, 3, *info)?;
                }
                sheet.write_string(row, 4, "Made-up guidance.")?;
                row += 1;
            }
            row += 1;
        }
        Ok(())
    })
}

fn write_v3_header(
    sheet: &mut Worksheet,
    row: u32,
    title: &str,
    bold: &Format,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(row, 0, title, bold)?;
    sheet.write_string_with_format(row, 2, "Vendor Answers", bold)?;
    sheet.write_string_with_format(row, 3, "Additional Information", bold)?;
    sheet.write_string_with_format(row, 4, "Guidance", bold)?;
    Ok(())
}

/// Tabs of the synthetic HECVAT v4 workbook; sections are dealt to them in turn. The last is hidden.
const V4_TABS: [&str; 3] = ["Organization", "Product", "Infrastructure"];

/// A HECVAT v4-shaped workbook: a start sheet, then three tabs (`Organization`, `Product` and a hidden
/// `Infrastructure`) that the section prefixes are dealt to in turn. Each block opens with a header row
/// ` <Section> | (merged) | Answer | Additional Information | Guidance | Weight` whose title starts with a space;
/// question cells are formulas with cached values; the second question row of every block is hidden; and the first
/// triple's ID is repeated, with the same answer, at the end of the last tab (as v4 repeats questions across tabs).
/// Each triple is (HECVAT ID, answer, additional information).
pub fn hecvat_v4(answers: &[(&str, &str, &str)]) -> Vec<u8> {
    build(|book| {
        let start = book.add_worksheet();
        start.set_name("START HERE")?;
        start.write_string(0, 0, "Synthetic HECVAT 4-shaped workbook for tests.")?;
        start.write_string(1, 0, "HECVAT Version 4.1.4")?;
        let sections = by_section(answers);
        let bold = Format::new().set_bold();
        // The real workbook lists every question, with its preferred answer, on a "Questions" sheet: IDs beside
        // Yes/No words that are not the vendor's answers.
        let questions = book.add_worksheet();
        questions.set_name("Questions")?;
        questions.write_string(1, 0, "ID")?;
        questions.write_string(1, 1, "Question")?;
        questions.write_string(1, 2, "Compliant Response")?;
        for (index, (id, _, _)) in answers.iter().enumerate() {
            let row = 2 + index as u32;
            questions.write_string(row, 0, *id)?;
            questions.write_string(row, 1, format!("Made-up question {id} for tests?"))?;
            questions.write_string(row, 2, "Yes")?;
        }
        questions.set_hidden(true);
        for (tab_index, tab) in V4_TABS.iter().enumerate() {
            let sheet = book.add_worksheet();
            sheet.set_name(*tab)?;
            sheet.write_string_with_format(0, 0, format!("{tab} (synthetic)"), &bold)?;
            let mut row = 2u32;
            for (section, rows) in sections.iter().skip(tab_index).step_by(V4_TABS.len()) {
                sheet.merge_range(row, 0, row, 1, &format!(" Section {section}"), &bold)?;
                for (offset, title) in ["Answer", "Additional Information", "Guidance", "Weight"]
                    .iter()
                    .enumerate()
                {
                    sheet.write_string_with_format(row, 2 + offset as u16, *title, &bold)?;
                }
                row += 1;
                for (position, (id, answer, info)) in rows.iter().enumerate() {
                    write_v4_question(sheet, row, id, answer, info)?;
                    if position == 1 {
                        sheet.set_row_hidden(row)?;
                    }
                    row += 1;
                }
                row += 1;
            }
            if tab_index == V4_TABS.len() - 1 {
                if let Some((id, answer, info)) = answers.first() {
                    sheet.merge_range(row, 0, row, 1, " Repeated questions", &bold)?;
                    sheet.write_string_with_format(row, 2, "Answer", &bold)?;
                    sheet.write_string_with_format(row, 3, "Additional Information", &bold)?;
                    write_v4_question(sheet, row + 1, id, answer, info)?;
                }
                sheet.set_hidden(true);
            }
        }
        Ok(())
    })
}

fn write_v4_question(
    sheet: &mut Worksheet,
    row: u32,
    id: &str,
    answer: &str,
    info: &str,
) -> Result<(), XlsxError> {
    sheet.write_string(row, 0, id)?;
    let text = format!("Made-up question {id} for tests?");
    sheet.write_formula(
        row,
        1,
        Formula::new(format!("=\"{text}\"")).set_result(&text),
    )?;
    if !answer.is_empty() {
        sheet.write_string(row, 2, answer)?;
    }
    if !info.is_empty() {
        sheet.write_string(row, 3, info)?;
    }
    sheet.write_string(row, 4, "Made-up guidance.")?;
    sheet.write_number(row, 5, 10)?;
    Ok(())
}

/// A CAIQ v3.0.1-shaped workbook: sheet `CAIQ` with a title naming the version on row 1, a two-row header
/// (row 2: Control Domain, Control ID, Question ID, Control Specification, Consensus Assessment Questions, a
/// "Consensus Assessment Answers" title merged over three columns, Notes; row 3: Yes, No, Not Applicable under
/// it), a domain row, then one row per question whose answer is an `X` in one of the three columns. Each triple is
/// (question ID, `yes` / `no` / `na` or anything else to mark nothing, notes); an ID may be written with a space,
/// as the published `AIS- 02.2` is. `title` replaces the title (to leave out or change the version).
pub fn caiq_v3(title: &str, answers: &[(&str, &str, &str)]) -> Vec<u8> {
    build(|book| {
        let sheet = book.add_worksheet();
        sheet.set_name("CAIQ")?;
        let bold = Format::new().set_bold().set_text_wrap();
        sheet.write_string_with_format(0, 2, title, &bold)?;
        for (col, header) in [
            "Control Domain",
            "Control ID",
            "Question ID",
            "Control Specification",
            "Consensus Assessment Questions",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string_with_format(1, col as u16, *header, &bold)?;
        }
        sheet.merge_range(1, 5, 1, 7, "Consensus Assessment Answers", &bold)?;
        sheet.write_string_with_format(1, 8, "Notes", &bold)?;
        for (offset, mark) in ["Yes", "No", "Not Applicable"].iter().enumerate() {
            sheet.write_string_with_format(2, 5 + offset as u16, *mark, &bold)?;
        }
        sheet.write_string(3, 0, "Made-up domain\nMade-up control")?;
        for (index, (id, answer, notes)) in answers.iter().enumerate() {
            let row = 4 + index as u32;
            sheet.write_string(row, 1, control_of(&id.replace(' ', "")))?;
            sheet.write_string(row, 2, *id)?;
            sheet.write_string(row, 3, "Made-up specification.")?;
            sheet.write_string(row, 4, format!("Made-up question {id} for tests?"))?;
            let column = match answer.to_ascii_lowercase().as_str() {
                "yes" => Some(5),
                "no" => Some(6),
                "na" => Some(7),
                _ => None,
            };
            if let Some(column) = column {
                sheet.write_string(row, column, "X")?;
            }
            if !notes.is_empty() {
                sheet.write_string(row, 8, *notes)?;
            }
        }
        Ok(())
    })
}

/// A CAIQ v3.1-shaped workbook, as CSA published it (`CAIQ_v3.1_Final.xlsx`): sheet `CAIQ v3.1` (the only place
/// the version is named), a title row without a version, then a three-row merged header. Row 2: Control Domain,
/// Control ID, Question ID, Control Specification, Consensus Assessment Questions (A-E), "Consensus Assessment
/// Answers" merged over W-Y, Notes (Z), and "CCM v3.0.1 Compliance Mapping" merged over the mapping columns from
/// AB, as v3.1 asks about CCM v3.0.1's controls; row 3: the mapped standards' names (with their own versions);
/// row 4: Yes, No, Not Applicable under W-Y and the sub-columns of the composite mappings. Columns F-V, which the
/// readers do not use, stay empty. Rows are sparse as in the download: only a control's first question carries
/// the domain, control ID, specification and mappings. Each triple is (question ID, `yes` / `no` / `na` or
/// anything else to mark nothing, notes); the answer is an `X` in W, X or Y.
pub fn caiq_v3_1(answers: &[(&str, &str, &str)]) -> Vec<u8> {
    build(|book| {
        let sheet = book.add_worksheet();
        sheet.set_name("CAIQ v3.1")?;
        let bold = Format::new().set_bold().set_text_wrap();
        sheet.write_string_with_format(
            0,
            0,
            "Consensus Assessments Initiative Questionnaire (synthetic)",
            &bold,
        )?;
        for (col, header) in [
            "Control Domain",
            "Control ID",
            "Question ID",
            "Control Specification",
            "Consensus Assessment Questions",
        ]
        .iter()
        .enumerate()
        {
            sheet.merge_range(1, col as u16, 3, col as u16, header, &bold)?;
        }
        sheet.merge_range(1, 22, 2, 24, "Consensus Assessment Answers", &bold)?;
        sheet.merge_range(1, 25, 3, 25, "Notes", &bold)?;
        sheet.merge_range(1, 27, 1, 40, "CCM v3.0.1 Compliance Mapping", &bold)?;
        for (col, standard) in [
            (27, "AICPA\nTSC 2009"),
            (29, "AICPA\nTSC 2014"),
            (36, "COBIT 5.0"),
            (37, "COPPA"),
        ] {
            sheet.merge_range(2, col, 3, col, standard, &bold)?;
        }
        sheet.merge_range(
            2,
            38,
            2,
            40,
            "CSA Enterprise Architecture (formerly the Trusted Cloud Initiative)",
            &bold,
        )?;
        for (offset, sub) in ["Domain > Container > Capability", "Public", "Private"]
            .iter()
            .enumerate()
        {
            sheet.write_string_with_format(3, 38 + offset as u16, *sub, &bold)?;
        }
        for (offset, mark) in ["Yes", "No", "Not Applicable"].iter().enumerate() {
            sheet.write_string_with_format(3, 22 + offset as u16, *mark, &bold)?;
        }
        let mut previous = "";
        for (index, (id, answer, notes)) in answers.iter().enumerate() {
            let row = 4 + index as u32;
            let control = control_of(id);
            if control != previous {
                sheet.write_string(row, 0, "Made-up domain\nMade-up control")?;
                sheet.write_string(row, 1, control)?;
                sheet.write_string(row, 3, "Made-up specification.")?;
                sheet.write_string(row, 27, "S1.1.0")?;
                sheet.write_string(row, 36, "APO01.01")?;
                sheet.write_string(row, 38, "Made-up > architecture > path")?;
                sheet.write_string(row, 39, "shared")?;
                sheet.write_string(row, 40, "x")?;
                previous = control;
            }
            sheet.write_string(row, 2, *id)?;
            sheet.write_string(row, 4, format!("Made-up question {id} for tests?"))?;
            let column = match answer.to_ascii_lowercase().as_str() {
                "yes" => Some(22),
                "no" => Some(23),
                "na" => Some(24),
                _ => None,
            };
            if let Some(column) = column {
                sheet.write_string(row, column, "X")?;
            }
            if !notes.is_empty() {
                sheet.write_string(row, 25, *notes)?;
            }
        }
        Ok(())
    })
}

/// A FedRAMP CIS worksheet-shaped workbook: an instructions sheet naming `revision` (e.g. "Revision 4"), then
/// sheet `CIS Worksheet` with a title, a two-row header (row 2: Control ID, "Implementation Status" merged over
/// five columns, "Control Origination"; row 3: Implemented, Partially Implemented, Planned, Alternative
/// Implementation, N/A), then one row per control or statement part (`AC-02 (a)`) with an `X` under each status
/// named in the second element of its pair (`B`..`F`, several letters for several marks).
pub fn cis_worksheet(revision: &str, rows: &[(&str, &str)]) -> Vec<u8> {
    build(|book| {
        let intro = book.add_worksheet();
        intro.set_name("Instructions")?;
        intro.write_string(0, 0, "Synthetic control implementation summary for tests.")?;
        intro.write_string(1, 0, format!("Template made for SP 800-53 {revision}."))?;
        let sheet = book.add_worksheet();
        sheet.set_name("CIS Worksheet")?;
        let bold = Format::new().set_bold().set_text_wrap();
        sheet.write_string_with_format(
            0,
            0,
            "Control Implementation Summary (synthetic)",
            &bold,
        )?;
        sheet.write_string_with_format(1, 0, "Control ID", &bold)?;
        sheet.merge_range(1, 1, 1, 5, "Implementation Status", &bold)?;
        sheet.write_string_with_format(1, 6, "Control Origination", &bold)?;
        for (offset, status) in [
            "Implemented",
            "Partially Implemented",
            "Planned",
            "Alternative Implementation",
            "N/A",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string_with_format(2, 1 + offset as u16, *status, &bold)?;
        }
        for (index, (id, marks)) in rows.iter().enumerate() {
            let row = 3 + index as u32;
            sheet.write_string(row, 0, *id)?;
            for mark in marks.chars() {
                let column = (mark as u8 - b'A') as u16;
                sheet.write_string(row, column, "X")?;
            }
            sheet.write_string(row, 7, "X")?;
        }
        Ok(())
    })
}

fn build(fill: impl FnOnce(&mut Workbook) -> Result<(), XlsxError>) -> Vec<u8> {
    let mut book = Workbook::new();
    fill(&mut book).expect("the fixture layout is valid");
    book.save_to_buffer().expect("the fixture workbook saves")
}
