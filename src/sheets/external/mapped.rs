//! A sheet in any other layout, read as the caller maps it ([`Mapping`]): the mapping's own checks, answer words,
//! and the reading.

use std::collections::BTreeMap;

use super::{
    Collector, ExternalAnswer, ExternalValue, Mapping, marked, normalise, optional, sheet_list,
    text_at,
};
use crate::domain::crosswalk;
use crate::error::FieldError;
use crate::sheets::{Workbook, cell_ref, rows_of};

/// `A` -> 0, `AB` -> 27; None for anything but one to three letters.
pub(super) fn column_index(letters: &str) -> Option<u32> {
    let letters = letters.trim();
    if letters.is_empty() || letters.len() > 3 || !letters.chars().all(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    let number = letters.bytes().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    Some(number - 1)
}

/// Parses answer words written `Implemented=yes,Partial=no` (a `\` escapes a `,`, `=` or `\` inside a word) or
/// as a JSON object `{"Yes, with exceptions": "no"}`. Faults name `field`.
pub fn parse_answer_words(
    field: &str,
    text: &str,
) -> Result<BTreeMap<String, String>, Vec<FieldError>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(BTreeMap::new());
    }
    if text.starts_with('{') {
        return serde_json::from_str::<BTreeMap<String, String>>(text).map_err(|e| {
            vec![FieldError::new(
                field,
                format!("not a JSON object of word to yes, no or na: {e}"),
            )]
        });
    }
    let mut words = BTreeMap::new();
    let mut errors = Vec::new();
    let mut pairs: Vec<(String, Option<String>)> = vec![(String::new(), None)];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let (word, meaning) = pairs.last_mut().expect("one pair at least");
        let c = match c {
            '\\' => match chars.next() {
                Some(escaped) => escaped,
                None => {
                    errors.push(FieldError::new(field, "ends with a lone \\"));
                    continue;
                }
            },
            ',' => {
                pairs.push((String::new(), None));
                continue;
            }
            '=' if meaning.is_none() => {
                *meaning = Some(String::new());
                continue;
            }
            c => c,
        };
        match meaning {
            Some(meaning) => meaning.push(c),
            None => word.push(c),
        }
    }
    for (word, meaning) in pairs {
        let word = word.trim().to_owned();
        match meaning {
            Some(meaning) if !word.is_empty() => {
                words.insert(word, meaning.trim().to_owned());
            }
            _ => errors.push(FieldError::new(
                field,
                format!(
                    "\"{word}\" is not word=meaning (write a comma or = inside a word as \\, or \\=, or send a \
                     JSON object)"
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(words)
    } else {
        Err(errors)
    }
}

/// Every fault of a mapping's own settings, each named by its setting (as the query parameter or the saved
/// profile's field is named): columns that are not column letters, both or neither of an answer column and mark
/// columns, a header row of 0, a meaning other than yes, no or na, an ID space without a crosswalk.
pub fn check_mapping(mapping: &Mapping) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut column = |field: &str, letters: Option<&str>| {
        if let Some(letters) = letters
            && column_index(letters).is_none()
        {
            errors.push(FieldError::new(
                field,
                format!("\"{letters}\" is not a column like A or AB"),
            ));
        }
    };
    column("id_column", Some(&mapping.id_column));
    column("answer_column", mapping.answer_column.as_deref());
    column("yes_column", mapping.yes_column.as_deref());
    column("no_column", mapping.no_column.as_deref());
    column("na_column", mapping.na_column.as_deref());
    column("comment_column", mapping.comment_column.as_deref());
    let marked_layout =
        mapping.yes_column.is_some() || mapping.no_column.is_some() || mapping.na_column.is_some();
    match (mapping.answer_column.is_some(), marked_layout) {
        (true, true) => errors.push(FieldError::new(
            "answer_column",
            "give either answer_column (answer words) or yes_column / no_column / na_column (marks), not both",
        )),
        (false, false) => errors.push(FieldError::new(
            "answer_column",
            "is required, unless the answers are marks under yes_column / no_column / na_column",
        )),
        _ => {}
    }
    if mapping.header_row == 0 {
        errors.push(FieldError::new(
            "header_row",
            "rows are counted from 1, as a spreadsheet shows them",
        ));
    }
    if mapping.sheet.trim().is_empty() {
        errors.push(FieldError::new("sheet", "names the sheet to read"));
    }
    if let Some(space) = &mapping.id_space
        && crosswalk::registry().crosswalk(space).is_none()
    {
        errors.push(FieldError::new(
            "id_space",
            format!(
                "\"{space}\" is not a format version with a crosswalk; those are {}",
                crosswalk::registry()
                    .readable_versions()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    for (word, meaning) in &mapping.answer_words {
        if ExternalValue::parse(meaning).is_none() {
            errors.push(FieldError::new(
                format!("answer_words.{word}"),
                format!("\"{meaning}\" is not yes, no or na"),
            ));
        }
    }
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    errors
}

pub(super) fn read_mapping(
    book: &Workbook,
    mapping: &Mapping,
    out: &mut Collector,
) -> Result<(), Vec<FieldError>> {
    let mut errors = check_mapping(mapping);
    let sheet = book.sheet(&mapping.sheet);
    if sheet.is_none() && !mapping.sheet.trim().is_empty() {
        errors.push(FieldError::new(
            "sheet",
            format!(
                "the workbook has no sheet \"{}\"; its sheets are {}",
                mapping.sheet,
                sheet_list(book)
            ),
        ));
    }
    let Some((sheet, range)) = sheet.filter(|_| errors.is_empty()) else {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        return Err(errors);
    };
    let column = |letters: &Option<String>| letters.as_deref().and_then(column_index);
    let id_col = column_index(&mapping.id_column).expect("checked");
    let answer_col = column(&mapping.answer_column);
    let comment_col = column(&mapping.comment_column);
    let marks: Vec<(u32, ExternalValue)> = [
        (column(&mapping.yes_column), ExternalValue::Yes),
        (column(&mapping.no_column), ExternalValue::No),
        (column(&mapping.na_column), ExternalValue::Na),
    ]
    .into_iter()
    .filter_map(|(col, value)| Some((col?, value)))
    .collect();
    let words: BTreeMap<String, ExternalValue> = mapping
        .answer_words
        .iter()
        .filter_map(|(word, meaning)| Some((normalise(word), ExternalValue::parse(meaning)?)))
        .collect();
    for (row, cells) in rows_of(range).filter(|(row, _)| *row >= mapping.header_row) {
        let id = text_at(&cells, id_col);
        if id.is_empty() {
            continue;
        }
        let comment = comment_col.and_then(|col| optional(text_at(&cells, col)));
        if let Some(answer_col) = answer_col {
            let text = text_at(&cells, answer_col);
            if text.is_empty() {
                continue;
            }
            let cell = cell_ref(sheet, row, answer_col);
            let answer = if words.is_empty() {
                ExternalValue::parse(&text)
            } else {
                words.get(&normalise(&text)).copied()
            };
            match answer {
                Some(answer) => out.add(ExternalAnswer {
                    source_id: id,
                    answer,
                    comment,
                    cell,
                }),
                None => out.skip(cell, text),
            }
        } else if let Some(answer) = marked(sheet, row, &cells, &marks, out) {
            let col = marks.iter().find(|(_, v)| *v == answer).unwrap().0;
            out.add(ExternalAnswer {
                source_id: id,
                answer,
                comment,
                cell: cell_ref(sheet, row, col),
            });
        }
    }
    Ok(())
}
