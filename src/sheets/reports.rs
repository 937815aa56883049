//! Registers as xlsx: typed columns (money as currency, dates as dates), frozen header, autofilter, widths. Every
//! text cell written from user data is neutralised so that no spreadsheet evaluates it.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook as XlsxWorkbook, XlsxError};

use super::neutralise;
use crate::error::ApiError;

/// One cell of a register row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// Integer cents, written as dollars with a currency format.
    Money(i64),
    Date(NaiveDate),
    Time(DateTime<Utc>),
    Number(f64),
    Bool(bool),
    Empty,
}

pub struct Column {
    pub header: &'static str,
    pub width: f64,
}

pub const fn col(header: &'static str, width: f64) -> Column {
    Column { header, width }
}

fn fail(e: XlsxError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing the register: {e}"))
}

/// Excel's calendar runs from 1900 to 9999; a date outside it (a year typed wrong, say) is written as its ISO
/// text instead, so that one odd record never keeps a whole register from being written.
pub(crate) fn excel_date(d: NaiveDate) -> Option<ExcelDateTime> {
    if !(1900..=9999).contains(&d.year()) {
        return None;
    }
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).ok()
}

/// The most rows a register holds below its header: Excel's sheet ends at row 1,048,576, and the row after the
/// last one kept says that more were left out.
pub const MAX_REGISTER_ROWS: u32 = 1_048_574;

/// A register being written a row at a time, in rust_xlsxwriter's constant-memory mode: each row goes to a
/// temporary file as it is written, so a register of 100,000 rows holds no more in memory than one of ten.
pub struct Register {
    book: XlsxWorkbook,
    columns: u16,
    rows: u32,
    /// At most this many rows are written; see [`MAX_REGISTER_ROWS`].
    limit: u32,
    /// Whether a row was offered past the limit: the finished register then says that rows were left out.
    left_out: bool,
    money: Format,
    date: Format,
    time: Format,
}

impl Register {
    pub fn new(sheet_name: &str, columns: &[Column]) -> Result<Register, ApiError> {
        let mut book = XlsxWorkbook::new();
        // Zip level 2, not the default 6: a register is a download made on demand, and level 6 spent about a fifth
        // of the time of a 10,000-row register compressing it. At the city's 100,000 rows level 2 is 10.2 MB
        // against 7.8 MB; level 1 was no faster and 13.8 MB (README, Performance).
        book.set_zip_compression_level(2);
        let header = Format::new()
            .set_bold()
            .set_background_color("#DCE6F1")
            .set_text_wrap();
        let sheet = book.add_worksheet_with_constant_memory().map_err(fail)?;
        sheet.set_name(sheet_name).map_err(fail)?;
        for (c, column) in columns.iter().enumerate() {
            sheet
                .set_column_width(c as u16, column.width)
                .map_err(fail)?;
            sheet
                .write_string_with_format(0, c as u16, column.header, &header)
                .map_err(fail)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(fail)?;
        Ok(Register {
            book,
            columns: columns.len() as u16,
            rows: 0,
            limit: MAX_REGISTER_ROWS,
            left_out: false,
            money: Format::new().set_num_format("$#,##0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
        })
    }

    /// The same register holding at most `limit` rows (tests use a small one).
    pub fn with_limit(mut self, limit: u32) -> Register {
        self.limit = limit.min(MAX_REGISTER_ROWS);
        self
    }

    /// The most rows this register writes; a reader fetches one more to learn whether any are left out.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Rows written so far (the header not counted).
    pub fn len(&self) -> usize {
        self.rows as usize
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Writes the next row; past the limit the row is not written and the finished register says that rows were
    /// left out (never a register that silently stops short).
    pub fn push(&mut self, row: &[Cell]) -> Result<(), ApiError> {
        if self.rows >= self.limit {
            self.left_out = true;
            return Ok(());
        }
        let r = self.rows + 1;
        let sheet = self.book.worksheet_from_index(0).map_err(fail)?;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => {
                    sheet.write_string(r, c, neutralise(t)).map_err(fail)?;
                }
                Cell::Money(cents) => {
                    sheet
                        .write_number_with_format(r, c, *cents as f64 / 100.0, &self.money)
                        .map_err(fail)?;
                }
                Cell::Date(d) => match excel_date(*d) {
                    Some(day) => {
                        sheet
                            .write_datetime_with_format(r, c, day, &self.date)
                            .map_err(fail)?;
                    }
                    None => {
                        sheet.write_string(r, c, d.to_string()).map_err(fail)?;
                    }
                },
                Cell::Time(t) => {
                    let moment = excel_date(t.date_naive()).and_then(|d| {
                        d.and_hms(t.hour() as u16, t.minute() as u8, t.second() as f64)
                            .ok()
                    });
                    match moment {
                        Some(dt) => {
                            sheet
                                .write_datetime_with_format(r, c, dt, &self.time)
                                .map_err(fail)?;
                        }
                        None => {
                            sheet
                                .write_string(r, c, t.format("%Y-%m-%d %H:%M").to_string())
                                .map_err(fail)?;
                        }
                    }
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n).map_err(fail)?;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(r, c, *b).map_err(fail)?;
                }
                Cell::Empty => {}
            }
        }
        self.rows = r;
        Ok(())
    }

    fn close(&mut self) -> Result<(), ApiError> {
        let (rows, columns) = (self.rows.max(1), self.columns.saturating_sub(1));
        let sheet = self.book.worksheet_from_index(0).map_err(fail)?;
        sheet.autofilter(0, 0, rows, columns).map_err(fail)?;
        if self.left_out {
            let note = format!(
                "More rows match than a register holds ({}): this one stops here. Narrow it with the filters \
                 and download each part.",
                self.limit
            );
            let bold = Format::new().set_bold();
            sheet
                .write_string_with_format(self.rows + 1, 0, note, &bold)
                .map_err(fail)?;
        }
        Ok(())
    }

    /// The finished workbook.
    pub fn finish(mut self) -> Result<Vec<u8>, ApiError> {
        self.close()?;
        self.book.save_to_buffer().map_err(fail)
    }

    /// The finished workbook in an anonymous temporary file (removed when closed), read from its start: for a
    /// register too large to hold in memory whole.
    pub fn finish_to_file(mut self) -> Result<std::fs::File, ApiError> {
        use std::io::{Seek, SeekFrom};
        self.close()?;
        let io =
            |e: std::io::Error| ApiError::Internal(anyhow::anyhow!("writing the register: {e}"));
        let mut file = tempfile::tempfile().map_err(io)?;
        self.book.save_to_writer(&mut file).map_err(fail)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        Ok(file)
    }
}

/// A whole register from rows already in hand.
pub fn write(
    sheet_name: &str,
    columns: &[Column],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, ApiError> {
    let mut register = Register::new(sheet_name, columns)?;
    for row in rows {
        register.push(row)?;
    }
    register.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheets::Workbook;
    use calamine::Data;

    #[test]
    fn registers_keep_real_types_and_neutralise_text() {
        let rows = vec![vec![
            Cell::Text("=cmd|' /C calc'!A0".into()),
            Cell::Money(1_234_567),
            Cell::Date(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()),
            Cell::Bool(true),
        ]];
        let bytes = write(
            "Requests",
            &[
                col("Title", 30.0),
                col("Value", 14.0),
                col("Start", 12.0),
                col("PI", 6.0),
            ],
            &rows,
        )
        .unwrap();
        let book = Workbook::read(&bytes).unwrap();
        let (_, range) = book.sheet("Requests").unwrap();
        assert_eq!(
            range.get_value((1, 0)),
            Some(&Data::String("'=cmd|' /C calc'!A0".into()))
        );
        assert_eq!(range.get_value((1, 1)), Some(&Data::Float(12345.67)));
        assert!(matches!(range.get_value((1, 2)), Some(Data::DateTime(_))));
        assert_eq!(range.get_value((1, 3)), Some(&Data::Bool(true)));
    }

    #[test]
    fn a_register_past_its_limit_says_that_rows_were_left_out() {
        let columns = [col("Title", 30.0)];
        let read = |register: Register| {
            let bytes = register.finish().unwrap();
            let book = Workbook::read(&bytes).unwrap();
            let (_, range) = book.sheet("Requests").unwrap();
            (1..range.height() as u32)
                .map(|r| range.get_value((r, 0)).unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let mut full = Register::new("Requests", &columns).unwrap().with_limit(2);
        for title in ["a", "b"] {
            full.push(&[Cell::Text(title.into())]).unwrap();
        }
        assert_eq!(
            read(full),
            ["a", "b"],
            "exactly at the limit: nothing left out, no note"
        );
        let mut over = Register::new("Requests", &columns).unwrap().with_limit(2);
        for title in ["a", "b", "c"] {
            over.push(&[Cell::Text(title.into())]).unwrap();
        }
        let rows = read(over);
        assert_eq!(rows[..2], ["a", "b"]);
        assert_eq!(rows.len(), 3);
        assert!(
            rows[2].starts_with("More rows match than a register holds (2)"),
            "{rows:?}"
        );
        assert_eq!(
            Register::new("R", &columns)
                .unwrap()
                .with_limit(u32::MAX)
                .limit(),
            MAX_REGISTER_ROWS
        );
    }

    #[test]
    fn a_date_excel_cannot_hold_is_written_as_its_text() {
        let odd = NaiveDate::from_ymd_opt(1473, 2, 19).unwrap();
        let moment = odd.and_hms_opt(9, 30, 0).unwrap().and_utc();
        let bytes = write(
            "Incidents",
            &[col("Discovered", 12.0), col("Reported", 16.0)],
            &[vec![Cell::Date(odd), Cell::Time(moment)]],
        )
        .unwrap();
        let book = Workbook::read(&bytes).unwrap();
        let (_, range) = book.sheet("Incidents").unwrap();
        assert_eq!(
            range.get_value((1, 0)),
            Some(&Data::String("1473-02-19".into()))
        );
        assert_eq!(
            range.get_value((1, 1)),
            Some(&Data::String("1473-02-19 09:30".into()))
        );
    }
}
