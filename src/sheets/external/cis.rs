//! The FedRAMP control implementation summary (CIS) worksheet: found by its header, its control IDs read as NIST
//! SP 800-53 controls, and each control's implementation status marks read into one answer.

use std::collections::HashMap;

use calamine::{Data, Range};

use super::{
    Collector, Detected, ExternalAnswer, ExternalValue, Family, header_rows, leading_text, text_at,
};
use crate::error::FieldError;
use crate::sheets::{Workbook, cell_ref, rows_of};

pub(super) fn detect_cis(book: &Workbook) -> Option<Detected> {
    let (name, _, _) = cis_sheet(book)?;
    let rev4 = book.sheets.iter().any(|(_, range)| {
        let text = leading_text(range, 40).to_lowercase();
        ["revision 4", "rev 4", "rev. 4", "rev4"]
            .iter()
            .any(|marker| text.contains(marker))
    });
    Some(Detected {
        family: Family::Nist,
        version: "nist-800-53r5".to_owned(),
        how: if rev4 {
            format!(
                "FedRAMP CIS worksheet on sheet \"{name}\" (Control ID, Implementation Status); the workbook \
                 names SP 800-53 Revision 4, whose controls crosswalked here keep their number and meaning in \
                 Rev. 5"
            )
        } else {
            format!("FedRAMP CIS worksheet on sheet \"{name}\" (Control ID, Implementation Status)")
        },
    })
}

/// The CIS worksheet's columns: Control ID, and the implementation status columns (marked with an X).
struct CisColumns {
    header_row: u32,
    id: u32,
    implemented: u32,
    partial: Option<u32>,
    planned: Option<u32>,
    alternative: Option<u32>,
    na: Option<u32>,
}

fn cis_sheet(book: &Workbook) -> Option<(&str, &Range<Data>, CisColumns)> {
    book.sheets.iter().find_map(|(name, range)| {
        let rows: Vec<(u32, Vec<(u32, String)>)> = header_rows(range).collect();
        let (index, header) = rows.iter().enumerate().find(|(_, (_, texts))| {
            texts.iter().any(|(_, t)| t == "control id")
                && texts
                    .iter()
                    .any(|(_, t)| t.starts_with("implementation status"))
        })?;
        let id = header.1.iter().find(|(_, t)| t == "control id")?.0;
        let (status_row, texts) = rows[index..]
            .iter()
            .take(3)
            .find(|(_, texts)| texts.iter().any(|(_, t)| t == "implemented"))?;
        let column = |wanted: &str| texts.iter().find(|(_, t)| t == wanted).map(|(c, _)| *c);
        Some((
            name.as_str(),
            range,
            CisColumns {
                header_row: *status_row,
                id,
                implemented: column("implemented")?,
                partial: column("partially implemented"),
                planned: column("planned"),
                alternative: column("alternative implementation"),
                na: column("n/a").or_else(|| column("not applicable")),
            },
        ))
    })
}

/// FedRAMP's `AC-02 (07) (a)` as NIST's control or enhancement, `AC-2(7)`, with the statement part (`a`) dropped;
/// `None` for anything that is not such an ID.
pub fn nist_control(text: &str) -> Option<String> {
    let text = text.trim();
    let (family, rest) = text.split_once('-')?;
    if family.len() != 2 || !family.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let number_len = rest.chars().take_while(char::is_ascii_digit).count();
    if number_len == 0 || number_len > 2 {
        return None;
    }
    let number: u32 = rest[..number_len].parse().ok()?;
    let mut id = format!("{family}-{number}");
    let mut tail = rest[number_len..].trim_start();
    while let Some(open) = tail.strip_prefix('(') {
        let (inner, after) = open.split_once(')')?;
        let inner = inner.trim();
        if inner.chars().all(|c| c.is_ascii_digit()) && !inner.is_empty() {
            let enhancement: u32 = inner.parse().ok()?;
            id.push_str(&format!("({enhancement})"));
        } else if !inner.chars().all(|c| c.is_ascii_lowercase()) || inner.is_empty() {
            return None;
        }
        tail = after.trim_start();
    }
    tail.is_empty().then_some(id)
}

/// A control's answer from the status marks of its rows (one per statement part): No when any part is partly
/// implemented or planned; otherwise N/A when every part is N/A, Yes when the rest are implemented. A control
/// with a part implemented another way ("alternative implementation") and none partly done is not a choice: an
/// analyst must judge the alternative.
pub(super) fn read_cis(book: &Workbook, out: &mut Collector) -> Result<(), Vec<FieldError>> {
    #[derive(Default)]
    struct Control {
        first_cell: String,
        yes: bool,
        no: bool,
        na: bool,
        alternative: bool,
    }
    let (sheet, range, columns) = cis_sheet(book).expect("detected by its header");
    let mut controls: Vec<(String, Control)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (row, cells) in rows_of(range).filter(|(row, _)| *row > columns.header_row) {
        let Some(control) = nist_control(&text_at(&cells, columns.id)) else {
            continue;
        };
        let mark = |col: Option<u32>| col.is_some_and(|col| !text_at(&cells, col).is_empty());
        let (implemented, partial, planned, alternative, na) = (
            mark(Some(columns.implemented)),
            mark(columns.partial),
            mark(columns.planned),
            mark(columns.alternative),
            mark(columns.na),
        );
        if !(implemented || partial || planned || alternative || na) {
            continue;
        }
        let at = *index.entry(control.clone()).or_insert_with(|| {
            controls.push((
                control,
                Control {
                    first_cell: cell_ref(sheet, row, columns.implemented),
                    ..Control::default()
                },
            ));
            controls.len() - 1
        });
        let state = &mut controls[at].1;
        state.no |= partial || planned;
        state.yes |= implemented;
        state.alternative |= alternative && !implemented;
        state.na |= na && !implemented;
    }
    for (control, state) in controls {
        let answer = if state.no {
            ExternalValue::No
        } else if state.alternative {
            out.skip(
                state.first_cell,
                format!("{control}: alternative implementation"),
            );
            continue;
        } else if state.yes {
            ExternalValue::Yes
        } else {
            ExternalValue::Na
        };
        out.add(ExternalAnswer {
            source_id: control,
            answer,
            comment: None,
            cell: state.first_cell,
        });
    }
    Ok(())
}
