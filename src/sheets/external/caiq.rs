//! CSA CAIQ: v4, v3.0.1 and v3.1 told apart (by sheet, version text or question IDs), and their answers read.

use calamine::{Data, Range};

use super::{
    Collector, Detected, ExternalAnswer, ExternalValue, Family, HEADER_SEARCH_ROWS, find_header,
    header_rows, leading_text, marked, normalise, optional, text_at,
};
use crate::domain::crosswalk;
use crate::error::FieldError;
use crate::sheets::{Workbook, cell_ref, cell_text, rows_of};

pub(super) fn detect_caiq(book: &Workbook) -> Option<Detected> {
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

/// `A&A-02.1`, `IAM-14.1`: three capitals (or `A&A`), a dash, two digits, a dot, one or two digits.
pub(super) fn is_caiq_id(id: &str) -> bool {
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

pub(super) fn read_caiq_v4(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
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
pub(super) fn read_caiq_v3(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
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
