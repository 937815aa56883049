//! The City Technology Plan and a department's budget lines as spreadsheets (xlsx out; xlsx, xls, ods or CSV
//! in), so that the CIO office and departments can keep them where they already work. Amounts are dollars with
//! cents in the sheet and cents in the service. An upload is checked whole: every bad cell is named, and nothing
//! is returned unless every row passes.

use rust_xlsxwriter::{Format, Workbook as XlsxWorkbook, XlsxError};
use uuid::Uuid;

use super::catalog::{normalise_header, read_sheet_rows};
use super::limits::Limits;
use super::{cell_ref, neutralise, split_list};
use crate::domain::budgets::{Centralization, LineFields, PlanItemFields, check_lines};
use crate::domain::text_forms::one_of;
use crate::error::{ApiError, FieldError};

pub const PLAN_SHEET: &str = "Plan";
pub const LINES_SHEET: &str = "Lines";
pub const MAX_ROWS: usize = 5_000;

/// (field, header) in sheet order. `id` is empty for a new item.
pub const PLAN_COLUMNS: [(&str, &str); 10] = [
    ("id", "ID"),
    ("title", "Title"),
    ("description", "Description"),
    ("departments", "Departments"),
    ("centralization", "Centralization"),
    ("priority", "Priority"),
    ("first_fiscal_year", "First fiscal year"),
    ("last_fiscal_year", "Last fiscal year"),
    ("capital_cents", "Capital ($)"),
    ("operating_cents", "Operating ($ a year)"),
];

/// The columns a department fills in; the export adds what was approved and what is committed, for reading.
pub const LINE_COLUMNS: [(&str, &str); 6] = [
    ("id", "ID"),
    ("label", "Label"),
    ("plan_item_id", "Plan item ID"),
    ("capital_cents", "Capital ($)"),
    ("operating_staff_cents", "Operating staff ($ a year)"),
    ("operating_other_cents", "Operating other ($ a year)"),
];

const LINE_READ_ONLY: [&str; 4] = [
    "Approved capital ($)",
    "Approved operating ($ a year)",
    "Remaining capital ($)",
    "Remaining operating ($ a year)",
];

fn fail(e: XlsxError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing the workbook: {e}"))
}

/// A cell as the sheet shows it.
enum Value {
    Text(String),
    Dollars(i64),
    Number(i64),
    Empty,
}

fn write_sheet(name: &str, headers: &[&str], rows: &[Vec<Value>]) -> Result<Vec<u8>, ApiError> {
    let mut book = XlsxWorkbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color("#DCE6F1")
        .set_text_wrap();
    let money = Format::new().set_num_format("#,##0.00");
    let wrap = Format::new().set_text_wrap();
    let sheet = book.add_worksheet();
    sheet.set_name(name).map_err(fail)?;
    for (c, title) in headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *title, &header)
            .map_err(fail)?;
        sheet
            .set_column_width(c as u16, if c == 0 { 38.0 } else { 22.0 })
            .map_err(fail)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, value) in row.iter().enumerate() {
            let c = c as u16;
            match value {
                Value::Text(t) => {
                    sheet
                        .write_string_with_format(r, c, neutralise(t), &wrap)
                        .map_err(fail)?;
                }
                Value::Dollars(cents) => {
                    sheet
                        .write_number_with_format(r, c, *cents as f64 / 100.0, &money)
                        .map_err(fail)?;
                }
                Value::Number(n) => {
                    sheet.write_number(r, c, *n as f64).map_err(fail)?;
                }
                Value::Empty => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    sheet
        .autofilter(0, 0, rows.len().max(1) as u32, headers.len() as u16 - 1)
        .map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// A budget line as the export shows it: what the department fills in (`fields`, whose `id` is the line's), then,
/// for reading, what was approved and what the requests on the line draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub fields: LineFields,
    pub approved_capital_cents: Option<i64>,
    pub approved_operating_cents: Option<i64>,
    /// Capital and yearly operating costs of the requests in review or approved on the line.
    pub committed_capital_cents: i64,
    pub committed_operating_cents: i64,
}

/// The plan's items, each with its id, in the layout [`import_plan`] reads back.
pub fn export_plan(items: &[(Uuid, PlanItemFields)]) -> Result<Vec<u8>, ApiError> {
    let headers: Vec<&str> = PLAN_COLUMNS.iter().map(|(_, h)| *h).collect();
    let rows: Vec<Vec<Value>> = items
        .iter()
        .map(|(id, i)| {
            vec![
                Value::Text(id.to_string()),
                Value::Text(i.title.clone()),
                Value::Text(i.description.clone()),
                Value::Text(i.departments.join("; ")),
                Value::Text(i.centralization.as_str().to_string()),
                Value::Number(i64::from(i.priority)),
                Value::Number(i64::from(i.first_fiscal_year)),
                Value::Number(i64::from(i.last_fiscal_year)),
                Value::Dollars(i.capital_cents),
                Value::Dollars(i.operating_cents),
            ]
        })
        .collect();
    write_sheet(PLAN_SHEET, &headers, &rows)
}

/// A budget's lines in the layout [`import_lines`] reads back, with the read-only columns after them.
pub fn export_lines(lines: &[LineRow]) -> Result<Vec<u8>, ApiError> {
    let mut headers: Vec<&str> = LINE_COLUMNS.iter().map(|(_, h)| *h).collect();
    headers.extend(LINE_READ_ONLY);
    let opt = |v: Option<i64>| v.map(Value::Dollars).unwrap_or(Value::Empty);
    let id = |v: Option<Uuid>| {
        v.map(|id| Value::Text(id.to_string()))
            .unwrap_or(Value::Empty)
    };
    let rows: Vec<Vec<Value>> = lines
        .iter()
        .map(|l| {
            vec![
                id(l.fields.id),
                Value::Text(l.fields.label.clone()),
                id(l.fields.plan_item_id),
                Value::Dollars(l.fields.capital_cents),
                Value::Dollars(l.fields.operating_staff_cents),
                Value::Dollars(l.fields.operating_other_cents),
                opt(l.approved_capital_cents),
                opt(l.approved_operating_cents),
                opt(l
                    .approved_capital_cents
                    .map(|a| a - l.committed_capital_cents)),
                opt(l
                    .approved_operating_cents
                    .map(|a| a - l.committed_operating_cents)),
            ]
        })
        .collect();
    write_sheet(LINES_SHEET, &headers, &rows)
}

/// Dollars as a person writes them (`50000`, `50,000.5`, `$1,234.56`) to cents; `None` for anything else.
pub fn parse_dollars(text: &str) -> Option<i64> {
    let plain: String = text
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let (whole, fraction) = match plain.split_once('.') {
        Some((w, f)) => (w, f),
        None => (plain.as_str(), ""),
    };
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || fraction.len() > 2 {
        return None;
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<i64>().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

/// The sheet's header mapped to the known columns; the first (besides `ID`) is required.
struct Sheet {
    name: String,
    header_row: u32,
    columns: Vec<Option<u32>>,
    rows: Vec<(u32, Vec<String>)>,
}

fn read(
    bytes: &[u8],
    limits: &Limits,
    wanted: &str,
    known: &[(&str, &str)],
) -> Result<Sheet, ApiError> {
    let (name, rows) = read_sheet_rows(bytes, limits, wanted)?;
    let mut rows = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let Some((header_row, header)) = rows.next() else {
        return Err(ApiError::field(format!("{name}!A1"), "the sheet is empty"));
    };
    let mut columns: Vec<Option<u32>> = vec![None; known.len()];
    for (col, text) in header.iter().enumerate() {
        let h = normalise_header(text);
        if let Some(i) = known
            .iter()
            .position(|(field, title)| normalise_header(title) == h || *field == h)
        {
            columns[i] = Some(col as u32);
        }
    }
    let missing: Vec<&str> = known
        .iter()
        .zip(&columns)
        .skip(1)
        .filter(|(_, c)| c.is_none())
        .map(|((_, h), _)| *h)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::field(
            cell_ref(&name, header_row, 0),
            format!("the header row lacks {}", missing.join(", ")),
        ));
    }
    let rows: Vec<(u32, Vec<String>)> = rows.collect();
    if rows.len() > MAX_ROWS {
        return Err(ApiError::field(
            cell_ref(&name, header_row, 0),
            format!("at most {MAX_ROWS} rows per upload"),
        ));
    }
    Ok(Sheet {
        name,
        header_row,
        columns,
        rows,
    })
}

impl Sheet {
    fn cell(&self, row: u32, field: &str, known: &[(&str, &str)]) -> String {
        let i = known
            .iter()
            .position(|(f, _)| *f == field.split('[').next().unwrap_or(field))
            .unwrap_or(0);
        cell_ref(&self.name, row, self.columns[i].unwrap_or(0))
    }

    fn get(&self, cells: &[String], i: usize) -> String {
        self.columns[i]
            .and_then(|c| cells.get(c as usize).cloned())
            .unwrap_or_default()
    }
}

fn id_of(errors: &mut Vec<FieldError>, cell: String, text: &str) -> Option<Uuid> {
    if text.is_empty() {
        return None;
    }
    match text.parse::<Uuid>() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(FieldError::new(
                cell,
                format!("{text:?} is not an id (leave it empty for a new row)"),
            ));
            None
        }
    }
}

fn number(errors: &mut Vec<FieldError>, cell: String, text: &str) -> i32 {
    text.parse::<i32>().unwrap_or_else(|_| {
        errors.push(FieldError::new(
            cell,
            format!("{text:?} is not a whole number"),
        ));
        0
    })
}

fn dollars(errors: &mut Vec<FieldError>, cell: String, text: &str) -> i64 {
    parse_dollars(text).unwrap_or_else(|| {
        errors.push(FieldError::new(
            cell,
            format!("{text:?} is not an amount in dollars, e.g. 50000 or 1,234.56"),
        ));
        0
    })
}

/// One plan row: the id it updates (none for a new item), the cell that holds the id, and the item.
pub type PlanRow = (Option<Uuid>, String, PlanItemFields);

/// Reads a plan upload whole.
pub fn import_plan(bytes: &[u8], limits: &Limits) -> Result<Vec<PlanRow>, ApiError> {
    let sheet = read(bytes, limits, PLAN_SHEET, &PLAN_COLUMNS)?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (row, cells) in &sheet.rows {
        let row = *row;
        let at = |field: &str| sheet.cell(row, field, &PLAN_COLUMNS);
        let get = |i: usize| sheet.get(cells, i);
        let before = errors.len();
        let id = id_of(&mut errors, at("id"), &get(0));
        let centralization = Centralization::try_from(get(4).trim()).unwrap_or_else(|_| {
            errors.push(FieldError::new(
                at("centralization"),
                format!("{:?} is not one of {}", get(4), one_of::<Centralization>()),
            ));
            Centralization::Department
        });
        let fields = PlanItemFields {
            title: get(1),
            description: get(2),
            departments: split_list(&get(3)),
            centralization,
            priority: number(&mut errors, at("priority"), &get(5)),
            first_fiscal_year: number(&mut errors, at("first_fiscal_year"), &get(6)),
            last_fiscal_year: number(&mut errors, at("last_fiscal_year"), &get(7)),
            capital_cents: dollars(&mut errors, at("capital_cents"), &get(8)),
            operating_cents: dollars(&mut errors, at("operating_cents"), &get(9)),
        };
        if errors.len() > before {
            continue;
        }
        match fields.check() {
            Ok(fields) => out.push((id, at("id"), fields)),
            Err(faults) => errors.extend(
                faults
                    .into_iter()
                    .map(|f| FieldError::new(at(&f.field), f.message)),
            ),
        }
    }
    let _ = sheet.header_row;
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Reads a budget's lines whole; the read-only columns of the export are ignored.
pub fn import_lines(bytes: &[u8], limits: &Limits) -> Result<Vec<LineFields>, ApiError> {
    let sheet = read(bytes, limits, LINES_SHEET, &LINE_COLUMNS)?;
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for (row, cells) in &sheet.rows {
        let row = *row;
        let at = |field: &str| sheet.cell(row, field, &LINE_COLUMNS);
        let get = |i: usize| sheet.get(cells, i);
        lines.push(LineFields {
            id: id_of(&mut errors, at("id"), &get(0)),
            label: get(1),
            plan_item_id: id_of(&mut errors, at("plan_item_id"), &get(2)),
            capital_cents: dollars(&mut errors, at("capital_cents"), &get(3)),
            operating_staff_cents: dollars(&mut errors, at("operating_staff_cents"), &get(4)),
            operating_other_cents: dollars(&mut errors, at("operating_other_cents"), &get(5)),
        });
        rows.push(row);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    check_lines(lines).map_err(|faults| {
        ApiError::validation(
            faults
                .into_iter()
                .map(|f| {
                    // `lines[3].label` is the cell of that field on the fourth line's row.
                    let cell = f
                        .field
                        .strip_prefix("lines[")
                        .and_then(|rest| rest.split_once("]."))
                        .and_then(|(i, field)| {
                            Some(sheet.cell(
                                *rows.get(i.parse::<usize>().ok()?)?,
                                field,
                                &LINE_COLUMNS,
                            ))
                        })
                        .unwrap_or_else(|| cell_ref(&sheet.name, sheet.header_row, 0));
                    FieldError::new(cell, f.message)
                })
                .collect(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_read_as_people_write_them() {
        assert_eq!(parse_dollars("50000"), Some(5_000_000));
        assert_eq!(parse_dollars("$1,234.5"), Some(123_450));
        assert_eq!(parse_dollars("0.07"), Some(7));
        assert_eq!(parse_dollars("-5"), None);
        assert_eq!(parse_dollars("1.234"), None);
        assert_eq!(parse_dollars("ten"), None);
    }

    #[test]
    fn every_bad_plan_cell_is_named_and_nothing_passes() {
        let csv = "ID,Title,Description,Departments,Centralization,Priority,First fiscal year,Last fiscal year,\
                   Capital ($),Operating ($ a year)\n\
                   ,E-signature,One service,DOIT; BPD,centralize,1,2027,2031,\"200,000\",50000\n\
                   ,,x,DOIT,sometimes,2,2027,2040,1,1\n";
        let problem = import_plan(csv.as_bytes(), &Limits::default())
            .unwrap_err()
            .to_problem();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["csv!E3"]);
        let fixed = csv.replace("sometimes", "shared");
        let problem = import_plan(fixed.as_bytes(), &Limits::default())
            .unwrap_err()
            .to_problem();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["csv!B3", "csv!H3"]);
    }

    #[test]
    fn budget_lines_read_back_from_the_export_format() {
        let csv = "ID,Label,Plan item ID,Capital ($),Operating staff ($ a year),Operating other ($ a year),Approved capital ($)\n\
                   ,Cameras,,\"50,000.00\",20000,40000,123\n,cameras,,1,1,x\n";
        let problem = import_lines(csv.as_bytes(), &Limits::default())
            .unwrap_err()
            .to_problem();
        assert_eq!(problem.errors[0].field, "csv!F3");
        let fixed = csv.replace(",1,1,x", ",1,1,2");
        let problem = import_lines(fixed.as_bytes(), &Limits::default())
            .unwrap_err()
            .to_problem();
        assert_eq!(problem.errors[0].field, "csv!B3");
        let good = fixed.replace(",cameras,", ",Radios,");
        let lines = import_lines(good.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(
            (lines[0].capital_cents, lines[0].operating_cents()),
            (5_000_000, 6_000_000)
        );
    }

    #[test]
    fn the_exports_read_back_as_what_was_written() {
        let item = PlanItemFields {
            title: "E-signature".into(),
            description: "=one service for every department".into(),
            departments: vec!["DOIT".into(), "BPD".into()],
            centralization: Centralization::Shared,
            priority: 3,
            first_fiscal_year: 2027,
            last_fiscal_year: 2031,
            capital_cents: 20_000_012,
            operating_cents: 5_000_000,
        };
        let id = Uuid::new_v4();
        let bytes = export_plan(&[(id, item.clone())]).unwrap();
        let read = import_plan(&bytes, &Limits::default()).unwrap();
        assert_eq!(read, [(Some(id), "Plan!A2".to_string(), item)]);

        let line = LineFields {
            id: Some(Uuid::new_v4()),
            label: "Cameras".into(),
            plan_item_id: Some(id),
            capital_cents: 5_000_000,
            operating_staff_cents: 2_000_050,
            operating_other_cents: 0,
        };
        let row = LineRow {
            fields: line.clone(),
            approved_capital_cents: Some(6_000_000),
            approved_operating_cents: None,
            committed_capital_cents: 1_000_000,
            committed_operating_cents: 0,
        };
        let bytes = export_lines(&[row]).unwrap();
        assert_eq!(import_lines(&bytes, &Limits::default()).unwrap(), [line]);
        let book = crate::sheets::Workbook::read(&bytes).unwrap();
        let (_, cells) = book.sheet(LINES_SHEET).unwrap();
        let remaining: Vec<String> = (6..10)
            .map(|c| crate::sheets::cell_text(cells.get((1, c)).unwrap()))
            .collect();
        assert_eq!(remaining, ["60000", "", "50000", ""]);
    }
}
