//! Spreadsheets in and out: bytes <-> domain structs, no I/O of their own. calamine reads, rust_xlsxwriter
//! writes. Callers run these functions off the async workers (`spawn_blocking`): parsing is CPU-bound.

pub mod budgets;
pub mod catalog;
pub mod external;
/// Synthetic workbooks for the unit tests, shared with the HTTP tests and the benches (a test file, not part of
/// the library).
#[cfg(test)]
#[path = "../../tests/support/sheet_fixtures.rs"]
mod fixtures;
pub mod limits;
pub mod reports;
pub mod vsaq;
pub mod workbook;

use std::io::Cursor;

use calamine::{Data, Range, Reader};

use crate::error::{ApiError, FieldError};

/// Makes text safe to put in a cell or CSV field: a spreadsheet would evaluate text starting with `=`, `+`,
/// `-` or `@` (and some also after a tab or carriage return) as a formula, so such text gets a leading
/// apostrophe, which spreadsheets show as text and do not evaluate.
pub fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// The inverse of [`neutralise`] on import: a leading apostrophe we added is not part of the value.
pub fn unneutralise(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => text,
    }
}

/// Column letters for a 0-based index: 0 -> A, 25 -> Z, 26 -> AA.
pub fn column_letters(mut index: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

/// `Sheet!B5` for a 0-based row and column.
pub fn cell_ref(sheet: &str, row: u32, col: u32) -> String {
    let sheet = if sheet.contains([' ', '-', '\'']) {
        format!("'{sheet}'")
    } else {
        sheet.to_string()
    };
    format!("{sheet}!{}{}", column_letters(col), row + 1)
}

/// What an upload is, judged by its bytes, never by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// A zip container: xlsx, xlsm or ods.
    Zip,
    /// An OLE2 compound file: legacy xls.
    Ole2,
    /// UTF-8 text without NUL bytes: CSV.
    Text,
}

pub fn sniff(bytes: &[u8]) -> Option<UploadKind> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(UploadKind::Zip)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some(UploadKind::Ole2)
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some(UploadKind::Text)
    } else {
        None
    }
}

/// A workbook read into memory: each sheet's name and its cells.
pub struct Workbook {
    pub sheets: Vec<(String, Range<Data>)>,
}

impl Workbook {
    pub fn read(bytes: &[u8]) -> Result<Workbook, ApiError> {
        Self::open(bytes).map_err(|e| ApiError::validation(vec![e]))
    }

    /// Reads every sheet, hidden ones included. The error names the file, or the sheet that could not be read,
    /// as a [`FieldError`] for callers that report a list of them.
    pub fn open(bytes: &[u8]) -> Result<Workbook, FieldError> {
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
            FieldError::new(
                "file",
                format!("the file is not a workbook this service can read: {e}"),
            )
        })?;
        let mut sheets = Vec::new();
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).map_err(|e| {
                FieldError::new(name.clone(), format!("the sheet could not be read: {e}"))
            })?;
            sheets.push((name, range));
        }
        for (name, range) in &sheets {
            for (row, cells) in rows_of(range) {
                for (col, cell) in cells {
                    if let Data::String(text) = cell {
                        cell_characters(text).map_err(|message| {
                            FieldError::new(cell_ref(name, row, col), message)
                        })?;
                    }
                }
            }
        }
        Ok(Workbook { sheets })
    }

    pub fn sheet(&self, name: &str) -> Option<&(String, Range<Data>)> {
        self.sheets
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// The text policy of [`crate::domain::text`] for a cell. A cell is held to the rule of prose whatever its
/// column, because a spreadsheet puts line breaks in any cell that wraps; but never a NUL or another control
/// character, which PostgreSQL refuses (a 500) and SQLite would store.
pub fn cell_characters(text: &str) -> Result<(), String> {
    use crate::domain::text::{TextKind, check_characters};
    check_characters(text, TextKind::MultiLine)
}

/// A cell as text, as a person would read it.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => unneutralise(s).trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Rows of a range with their absolute 0-based row numbers, and cells with absolute column numbers.
pub fn rows_of(range: &Range<Data>) -> impl Iterator<Item = (u32, Vec<(u32, &Data)>)> {
    let (row0, col0) = range.start().unwrap_or((0, 0));
    range.rows().enumerate().map(move |(i, row)| {
        (
            row0 + i as u32,
            row.iter()
                .enumerate()
                .map(|(j, c)| (col0 + j as u32, c))
                .collect(),
        )
    })
}

/// Splits a list cell: entries separated by `;` or line breaks.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([';', '\n'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

pub fn problems(errors: Vec<FieldError>) -> ApiError {
    ApiError::validation(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_restored() {
        for evil in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            let safe = neutralise(evil);
            assert!(safe.starts_with('\''), "{evil}");
            assert_eq!(unneutralise(&safe), evil);
        }
        assert_eq!(neutralise("plain"), "plain");
        assert_eq!(unneutralise("'quoted"), "'quoted");
    }

    #[test]
    fn columns_and_cells_are_named_like_a_spreadsheet() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(cell_ref("Questions", 13, 3), "Questions!D14");
        assert_eq!(cell_ref("HECVAT - Full", 0, 0), "'HECVAT - Full'!A1");
    }

    #[test]
    fn uploads_are_judged_by_their_bytes() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(UploadKind::Zip));
        assert_eq!(sniff(b"name,category\n"), Some(UploadKind::Text));
        assert_eq!(
            sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]),
            Some(UploadKind::Ole2)
        );
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0]), None);
    }
}
