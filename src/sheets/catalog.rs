//! The catalogue as a spreadsheet (xlsx) or CSV, so that a CIO office can maintain it where it already works.
//! One row per service; list cells (capabilities, aliases) separate entries with `;` or line breaks.

use crate::domain::problems::ProblemCode;
use rust_xlsxwriter::{Format, Workbook as XlsxWorkbook};

use super::limits::{self, Limits};
use super::{UploadKind, Workbook, cell_ref, cell_text, neutralise, rows_of, sniff, split_list};
use crate::domain::catalog::{CatalogService, CatalogServiceInput, ServiceFields};
use crate::error::{ApiError, FieldError};

pub const SHEET: &str = "Services";
pub const MAX_ROWS: usize = 20_000;

/// (field, header) in sheet order.
pub const COLUMNS: [(&str, &str); 8] = [
    ("name", "Name"),
    ("category", "Category"),
    ("description", "Description"),
    ("capabilities", "Capabilities"),
    ("aliases", "Aliases"),
    ("owning_team", "Owning team"),
    ("status", "Status"),
    ("access", "Access"),
];

fn row_values(s: &CatalogService) -> [String; 8] {
    [
        s.name.clone(),
        s.category.clone(),
        s.description.clone(),
        s.capabilities.join("; "),
        s.aliases.join("; "),
        s.owning_team.clone(),
        s.status.as_str().to_string(),
        s.access.clone(),
    ]
}

pub fn export_xlsx(services: &[CatalogService]) -> Result<Vec<u8>, ApiError> {
    let mut book = XlsxWorkbook::new();
    let header = Format::new().set_bold().set_background_color("#DCE6F1");
    let wrap = Format::new().set_text_wrap();
    let sheet = book.add_worksheet();
    let fail = |e: rust_xlsxwriter::XlsxError| {
        ApiError::Internal(anyhow::anyhow!("writing the workbook: {e}"))
    };
    sheet.set_name(SHEET).map_err(fail)?;
    for (col, (_, title)) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *title, &header)
            .map_err(fail)?;
        let width = match col {
            2 => 60.0,
            3 | 4 => 40.0,
            _ => 22.0,
        };
        sheet.set_column_width(col as u16, width).map_err(fail)?;
    }
    for (i, service) in services.iter().enumerate() {
        for (col, value) in row_values(service).iter().enumerate() {
            sheet
                .write_string_with_format(i as u32 + 1, col as u16, neutralise(value), &wrap)
                .map_err(fail)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    sheet
        .autofilter(0, 0, services.len() as u32, COLUMNS.len() as u16 - 1)
        .map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

pub fn export_csv(services: &[CatalogService]) -> Result<Vec<u8>, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}"));
    out.write_record(COLUMNS.iter().map(|(_, h)| *h))
        .map_err(fail)?;
    for s in services {
        out.write_record(row_values(s).iter().map(|v| neutralise(v)))
            .map_err(fail)?;
    }
    out.into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}")))
}

pub(crate) fn normalise_header(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sheet's name and its non-empty rows of text cells, with absolute 0-based row numbers.
type TextRows = (String, Vec<(u32, Vec<String>)>);

/// Reads rows of text cells, from a workbook or CSV.
fn read_rows(bytes: &[u8], limits: &Limits) -> Result<TextRows, ApiError> {
    read_sheet_rows(bytes, limits, SHEET)
}

/// Reads rows of text cells of the sheet named `wanted` (or the first sheet), or of CSV text.
pub(crate) fn read_sheet_rows(
    bytes: &[u8],
    limits: &Limits,
    wanted: &str,
) -> Result<TextRows, ApiError> {
    match sniff(bytes) {
        Some(UploadKind::Zip | UploadKind::Ole2) => {
            // The same checks as a questionnaire upload: kind by content, encryption, and the cost of reading.
            limits::check(bytes, limits)?;
            let book = Workbook::read(bytes)?;
            let (name, range) = book
                .sheet(wanted)
                .or_else(|| book.sheets.first())
                .ok_or_else(|| ApiError::field("file", "the workbook has no sheets"))?;
            let rows = rows_of(range)
                .map(|(r, cells)| {
                    let mut texts = Vec::new();
                    for (c, cell) in cells {
                        let c = c as usize;
                        if texts.len() <= c {
                            texts.resize(c + 1, String::new());
                        }
                        texts[c] = cell_text(cell);
                    }
                    (r, texts)
                })
                .collect();
            Ok((name.clone(), rows))
        }
        Some(UploadKind::Text) => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(bytes);
            let mut rows = Vec::new();
            for (i, record) in reader.records().enumerate() {
                let record = record.map_err(|e| {
                    ApiError::field(format!("csv!A{}", i + 1), format!("not CSV: {e}"))
                })?;
                for (col, value) in record.iter().enumerate() {
                    super::cell_characters(value).map_err(|message| {
                        ApiError::field(cell_ref("csv", i as u32, col as u32), message)
                    })?;
                }
                rows.push((
                    i as u32,
                    record
                        .iter()
                        .map(|v| super::unneutralise(v).trim().to_string())
                        .collect(),
                ));
            }
            Ok(("csv".to_string(), rows))
        }
        None => Err(super::limits::Refusal {
            code: ProblemCode::UnsupportedFile,
            message: "send an xlsx, xlsm, xls or ods workbook, or CSV text".into(),
        }
        .into()),
    }
}

/// Parses a whole upload. Every problem is reported with its cell; nothing is returned unless all rows pass.
pub fn import(bytes: &[u8], limits: &Limits) -> Result<Vec<ServiceFields>, ApiError> {
    let (sheet, rows) = read_rows(bytes, limits)?;
    let mut rows = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let Some((header_row, header)) = rows.next() else {
        return Err(ApiError::field(format!("{sheet}!A1"), "the sheet is empty"));
    };
    let mut columns: Vec<Option<u32>> = vec![None; COLUMNS.len()];
    for (col, text) in header.iter().enumerate() {
        let h = normalise_header(text);
        if let Some(i) = COLUMNS
            .iter()
            .position(|(field, title)| normalise_header(title) == h || *field == h)
        {
            columns[i] = Some(col as u32);
        }
    }
    if columns[0].is_none() {
        return Err(ApiError::field(
            cell_ref(&sheet, header_row, 0),
            "the header row needs a Name column (and may have Category, Description, Capabilities, Aliases, \
             Owning team, Status, Access)",
        ));
    }
    let mut errors: Vec<FieldError> = Vec::new();
    let mut out = Vec::new();
    let mut seen: Vec<(String, u32)> = Vec::new();
    for (count, (row, cells)) in rows.enumerate() {
        if count >= MAX_ROWS {
            errors.push(FieldError::new(
                cell_ref(&sheet, row, 0),
                format!("at most {MAX_ROWS} services per upload"),
            ));
            break;
        }
        let get = |i: usize| -> Option<String> {
            columns[i].map(|c| cells.get(c as usize).cloned().unwrap_or_default())
        };
        let optional = |i: usize| get(i).filter(|v| !v.is_empty());
        let input = CatalogServiceInput {
            name: get(0),
            category: optional(1),
            description: optional(2),
            capabilities: get(3).map(|v| split_list(&v)),
            aliases: get(4).map(|v| split_list(&v)),
            owning_team: optional(5),
            status: optional(6),
            access: optional(7),
        };
        let name_field = |field: &str| {
            let i = COLUMNS.iter().position(|(f, _)| *f == field).unwrap_or(0);
            cell_ref(&sheet, row, columns[i].unwrap_or(0))
        };
        match ServiceFields::parse(input, None, &|f| {
            name_field(f.split('[').next().unwrap_or(f))
        }) {
            Ok(fields) => {
                let key = fields.name.to_lowercase();
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                    errors.push(FieldError::new(
                        name_field("name"),
                        format!("{:?} already appears on row {}", fields.name, first + 1),
                    ));
                } else {
                    seen.push((key, row));
                    out.push(fields);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    fn service(name: &str, alias: &str) -> CatalogService {
        CatalogService {
            id: Uuid::new_v4(),
            name: name.into(),
            category: "e-signature".into(),
            description: "Sign documents".into(),
            capabilities: vec!["electronic signatures".into(), "document signing".into()],
            aliases: vec![alias.into()],
            owning_team: "DoIT".into(),
            status: crate::domain::catalog::ServiceStatus::Active,
            access: "https://it.city.example/esign".into(),
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn xlsx_and_csv_exports_read_back_to_the_same_entries() {
        let services = vec![
            service("Enterprise e-signature", "DocuSign"),
            service("Formula risk", "=cmd|'/c calc'!A1"),
        ];
        for bytes in [
            export_xlsx(&services).unwrap(),
            export_csv(&services).unwrap(),
        ] {
            let back = import(&bytes, &Limits::default()).unwrap();
            assert_eq!(back.len(), 2);
            assert_eq!(back[0].aliases, vec!["DocuSign".to_string()]);
            assert_eq!(back[0].capabilities, services[0].capabilities);
            assert_eq!(
                back[1].aliases,
                vec!["=cmd|'/c calc'!A1".to_string()],
                "the value survives, unevaluated"
            );
        }
    }

    #[test]
    fn exports_neutralise_formulas() {
        let csv = String::from_utf8(export_csv(&[service("x", "=1+1")]).unwrap()).unwrap();
        assert!(csv.contains("'=1+1"), "{csv}");
        let xlsx = export_xlsx(&[service("x", "@SUM(A1)")]).unwrap();
        let book = Workbook::read(&xlsx).unwrap();
        let (_, range) = book.sheet(SHEET).unwrap();
        assert_eq!(
            range.get_value((1, 4)),
            Some(&calamine::Data::String("'@SUM(A1)".into()))
        );
    }

    #[test]
    fn every_bad_cell_is_named_and_nothing_passes() {
        let csv = "Name,Status,Aliases,Owning team,Access\nGood,active,A,DoIT,Ask DoIT\n,active,B,DoIT,Ask DoIT\nBad status,sometimes,C,DoIT,Ask DoIT\nGood,retired,D,,\n";
        let problem = import(csv.as_bytes(), &Limits::default())
            .unwrap_err()
            .to_problem();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["csv!A3", "csv!B4", "csv!A5"]);
        assert!(problem.errors[2].message.contains("row 2"));
    }

    #[test]
    fn a_file_without_a_name_column_or_of_another_kind_is_refused() {
        let e = import(b"Title,Category\nx,y\n", &Limits::default())
            .unwrap_err()
            .to_problem();
        assert_eq!(e.errors[0].field, "csv!A1");
        let e = import(&[0x89, b'P', b'N', b'G', 0, 1], &Limits::default()).unwrap_err();
        assert_eq!(e.status().as_u16(), 415);
    }
}
