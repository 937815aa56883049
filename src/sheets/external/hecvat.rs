//! EDUCAUSE HECVAT: 3 (Full, Lite, On-Prem) told from 4, and the reviewed Lite version from the others, and the
//! answers of the block layout both write read.

use calamine::{Data, Range};

use super::{
    Collector, Detected, ExternalAnswer, ExternalValue, Family, leading_text, normalise, optional,
    text_at,
};
use crate::domain::crosswalk;
use crate::error::FieldError;
use crate::sheets::{Workbook, cell_ref, cell_text, rows_of};

pub(super) fn detect_hecvat(book: &Workbook) -> Option<Detected> {
    if let Some((name, range)) = book.sheets.iter().find(|(name, range)| {
        normalise(name).starts_with("hecvat") && has_block_header(range, HecvatVersion::V3)
    }) {
        return Some(detect_hecvat_3(book, name, range));
    }
    let tabs: Vec<&str> = book
        .sheets
        .iter()
        .filter(|(_, range)| has_block_header(range, HecvatVersion::V4))
        .map(|(name, _)| name.as_str())
        .collect();
    if tabs.is_empty() {
        return None;
    }
    // HECVAT 4 names its version on the start sheet; the layout alone tells 4 from 3 all the same.
    let stated = book
        .sheets
        .iter()
        .filter(|(name, _)| normalise(name).starts_with("start"))
        .find_map(|(_, range)| hecvat_version_text(&leading_text(range, 30), &['4']));
    let list = tabs
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Detected {
        family: Family::Hecvat,
        version: "hecvat-4".to_owned(),
        how: match stated {
            Some(version) => {
                format!("HECVAT {version} named on the start sheet; answers on {list}")
            }
            None => {
                format!("\"Answer | Additional Information\" blocks (HECVAT 4 layout) on {list}")
            }
        },
    })
}

/// The Lite 3 version whose question IDs were reviewed (`questionnaires/formats/hecvat-3-lite.toml`).
const HECVAT_LITE_REVIEWED: &str = "3.06";

/// A HECVAT 3 question sheet (`HECVAT - Full`, `- Lite`, `- On-Prem`, with "Vendor Answers" blocks). Lite is told by
/// the sheet's name (or, on a sheet whose name names no edition, by its own `HLxx-nn` IDs), and is read only when the workbook names no other version than
/// the reviewed one and every ID on the sheet is in that version's list: Lite 2.x and its offshoots reuse the same
/// IDs for other questions. Full and On-Prem are known but have no reviewed ID list, so they are refused by name.
fn detect_hecvat_3(book: &Workbook, name: &str, range: &Range<Data>) -> Detected {
    let ids = hecvat_sheet_ids(range);
    let lite_ids = ids.iter().filter(|id| is_hecvat_lite_id(id)).count();
    let sheet_name = normalise(name);
    // The sheet's name says the edition; Lite's own IDs tell it only on a sheet renamed to say none.
    let edition = if sheet_name.contains("lite") {
        "Lite"
    } else if sheet_name.contains("prem") {
        "On-Prem"
    } else if sheet_name.contains("full") || lite_ids == 0 {
        "Full"
    } else {
        "Lite"
    };
    let stated = std::iter::once(range)
        .chain(
            book.sheets
                .iter()
                .filter(|(n, _)| {
                    let n = normalise(n);
                    n.starts_with("start") || n.starts_with("instructions")
                })
                .map(|(_, r)| r),
        )
        .find_map(|r| hecvat_version_text(&leading_text(r, 30), &['2', '3']));
    let named = stated.as_deref().map_or_else(String::new, |v| {
        format!(", version {v} named in the workbook")
    });
    let layout =
        format!("sheet \"{name}\" with \"Vendor Answers\" blocks (HECVAT 3 {edition}{named})");
    if edition != "Lite" {
        return Detected {
            family: Family::Hecvat,
            version: "hecvat-3".to_owned(),
            how: layout,
        };
    }
    let list = crosswalk::registry()
        .id_list("hecvat-3-lite")
        .expect("the HECVAT Lite 3 list is shipped");
    let unknown: Vec<&String> = ids
        .iter()
        .filter(|id| !list.questions.contains_key(*id))
        .collect();
    let (version, how) = match (&stated, unknown.first()) {
        (Some(v), _) if v != HECVAT_LITE_REVIEWED => (
            "hecvat-lite",
            format!("{layout}; only Lite {HECVAT_LITE_REVIEWED}'s question IDs have been reviewed"),
        ),
        (_, Some(first)) => (
            "hecvat-lite",
            format!(
                "{layout}; {} of its {} question IDs (first {first}) are not HECVAT Lite {HECVAT_LITE_REVIEWED}'s, \
                 so it is another Lite version",
                unknown.len(),
                ids.len()
            ),
        ),
        _ => (
            "hecvat-3-lite",
            format!(
                "{layout}; all of its {} question IDs are HECVAT Lite {HECVAT_LITE_REVIEWED}'s",
                ids.len()
            ),
        ),
    };
    Detected {
        family: Family::Hecvat,
        version: version.to_owned(),
        how,
    }
}

/// The question IDs of a HECVAT 3 sheet: on every row under a block header, the first cell left of the answer column
/// that holds an ID.
fn hecvat_sheet_ids(range: &Range<Data>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut answer_col: Option<u32> = None;
    for (_, cells) in rows_of(range) {
        if let Some((answer, _)) = block_header(&cells, HecvatVersion::V3) {
            answer_col = Some(answer);
            continue;
        }
        let Some(answer) = answer_col else {
            continue;
        };
        if let Some(id) = cells
            .iter()
            .filter(|(col, _)| *col < answer)
            .map(|(_, cell)| cell_text(cell))
            .find(|text| is_hecvat_id(text))
        {
            ids.push(id);
        }
    }
    ids
}

/// Lite's own section prefixes: `HLAP`, `HLDA`, ...
fn is_hecvat_lite_id(id: &str) -> bool {
    id.starts_with("HL") && is_hecvat_id(id)
}

/// `4.1.4` from text like "HECVAT Version 4.1.4" (or `3.06` from "HECVAT - Lite | v3.06"), when its first digit is
/// one of `majors`. Only the few words after "HECVAT" are looked at, so that a question's "WCAG 2.1" further on is
/// never taken for a version.
pub(super) fn hecvat_version_text(text: &str, majors: &[char]) -> Option<String> {
    let lower = text.to_lowercase();
    lower.match_indices("hecvat").find_map(|(at, _)| {
        lower[at..]
            .chars()
            .take(40)
            .collect::<String>()
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find(|word| word.starts_with(majors) && word.contains('.'))
            .map(|word| word.trim_end_matches('.').to_owned())
    })
}

/// `HLDA-07`, `APPL-12a`: four capitals, a dash, two digits, an optional lower-case letter.
pub(super) fn is_hecvat_id(id: &str) -> bool {
    let Some((section, number)) = id.split_once('-') else {
        return false;
    };
    let digits = number.trim_end_matches(|c: char| c.is_ascii_lowercase());
    section.len() == 4
        && section.chars().all(|c| c.is_ascii_uppercase())
        && digits.len() == 2
        && digits.chars().all(|c| c.is_ascii_digit())
        && number.len() - digits.len() <= 1
}

/// The HECVAT generations, told apart by their answer headers: v3 heads its answer column "Vendor Answers" on a
/// sheet named `HECVAT - Full` / `- Lite` / `- On-Prem`; v4 heads it "Answer", on every tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HecvatVersion {
    V3,
    V4,
}

impl HecvatVersion {
    fn answer_header(self) -> &'static str {
        match self {
            HecvatVersion::V3 => "vendor answers",
            HecvatVersion::V4 => "answer",
        }
    }
}

/// A block header: the answer column and the additional-information column right of it.
fn block_header(cells: &[(u32, &Data)], version: HecvatVersion) -> Option<(u32, u32)> {
    let texts: Vec<(u32, String)> = cells
        .iter()
        .map(|(col, cell)| (*col, normalise(&cell_text(cell))))
        .filter(|(_, text)| !text.is_empty())
        .collect();
    texts.windows(2).find_map(|pair| {
        let [(answer_col, answer), (info_col, info)] = pair else {
            return None;
        };
        (answer == version.answer_header() && info.starts_with("additional information"))
            .then_some((*answer_col, *info_col))
    })
}

fn has_block_header(range: &Range<Data>, version: HecvatVersion) -> bool {
    rows_of(range).any(|(_, cells)| block_header(&cells, version).is_some())
}

pub(super) fn read_hecvat(
    book: &Workbook,
    version: HecvatVersion,
    out: &mut Collector,
) -> Result<(), Vec<FieldError>> {
    // v3's other sheets (summary, analyst report) repeat IDs with scores, not answers, so only its question
    // sheets are read; v4 spreads its questions over many tabs, each with the same block headers (its
    // "Questions" sheet lists every question with its preferred answer and has no such header, so is not read).
    let sheets = book.sheets.iter().filter(|(name, range)| {
        (version == HecvatVersion::V4 || normalise(name).starts_with("hecvat"))
            && has_block_header(range, version)
    });
    for (sheet, range) in sheets {
        let mut block: Option<(u32, u32)> = None;
        for (row, cells) in rows_of(range) {
            if let Some(header) = block_header(&cells, version) {
                block = Some(header);
                continue;
            }
            let Some((answer_col, info_col)) = block else {
                continue;
            };
            let Some(id) = cells
                .iter()
                .filter(|(col, _)| *col < answer_col)
                .map(|(_, cell)| cell_text(cell))
                .find(|text| is_hecvat_id(text))
            else {
                continue;
            };
            let text = text_at(&cells, answer_col);
            if text.is_empty() {
                continue;
            }
            let cell = cell_ref(sheet, row, answer_col);
            match ExternalValue::parse(&text) {
                Some(answer) => out.add(ExternalAnswer {
                    source_id: id,
                    answer,
                    comment: optional(text_at(&cells, info_col)),
                    cell,
                }),
                // HECVAT mixes free-text questions (names, descriptions, the hosting choice) with Yes/No ones.
                None => out.skip(cell, text),
            }
        }
    }
    Ok(())
}
