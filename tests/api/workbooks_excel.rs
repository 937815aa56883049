//! Our workbook against what Excel is known to refuse or "repair". There is no Excel here, so this checks the
//! downloaded file, part by part, against Excel's documented limits and the structural slips that make Excel open
//! a file with a repair prompt: malformed XML, a zip Excel cannot read, an over-long sheet name, cell text or
//! inline dropdown list, an active sheet that is hidden, print titles without their sheet.
//!
//! rust_xlsxwriter is tested against files Excel itself wrote, so what this guards is our use of it and the one
//! step that is ours alone: repacking the zip to drop `customHeight` (see `auto_fit_flags` in
//! `src/sheets/workbook/writer.rs`).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use quick_xml::events::Event;
use serde_json::json;
use zip::CompressionMethod;

use crate::both;
use crate::helpers::TestApp;
use crate::workbooks::{download, setup, template};

/// Excel's specifications and limits (Microsoft's "Excel specifications and limits" page).
const MAX_SHEET_NAME: usize = 31;
const MAX_CELL_CHARS: usize = 32_767;
const MAX_ROW_HEIGHT: f64 = 409.0;
const MAX_COLUMN_WIDTH: f64 = 255.0;
/// An inline list (`"Yes,No,N/A"`) is capped at 255 characters, quotes excluded.
const MAX_INLINE_LIST: usize = 255;

/// Each part's name and bytes, after checking the zip itself: every local header agrees with the central
/// directory, no entry uses zip64 or a method other than stored or deflate, and no name repeats.
fn parts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        assert!(seen.insert(name.clone()), "{name} twice");
        assert!(!name.starts_with('/'), "{name}");
        let method = entry.compression();
        assert!(
            matches!(
                method,
                CompressionMethod::Stored | CompressionMethod::Deflated
            ),
            "{name}: method {method:?}"
        );
        // A zip64 extra field (id 0x0001) in a small file makes older Excel refuse it.
        let local = entry.header_start() as usize;
        assert_eq!(&bytes[local..local + 4], b"PK\x03\x04", "{name}");
        let name_len = u16::from_le_bytes([bytes[local + 26], bytes[local + 27]]) as usize;
        let extra_len = u16::from_le_bytes([bytes[local + 28], bytes[local + 29]]) as usize;
        let mut extra = &bytes[local + 30 + name_len..local + 30 + name_len + extra_len];
        while extra.len() >= 4 {
            let id = u16::from_le_bytes([extra[0], extra[1]]);
            let len = u16::from_le_bytes([extra[2], extra[3]]) as usize;
            assert_ne!(id, 0x0001, "{name} carries a zip64 extra field");
            extra = &extra[(4 + len).min(extra.len())..];
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    assert_eq!(
        out.first().map(|(n, _)| n.as_str()),
        Some("[Content_Types].xml")
    );
    out
}

/// One element: its local name and attributes, and the text it holds directly.
#[derive(Debug, Clone)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
}

/// Every element of an XML part, in document order, after a full well-formedness pass (matched end tags,
/// attributes unique and quoted, entities valid).
fn elements(part: &str, xml: &[u8]) -> Vec<Element> {
    let text = std::str::from_utf8(xml).unwrap_or_else(|e| panic!("{part} is not UTF-8: {e}"));
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let mut all: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!(
                "{part} is not well-formed at {}: {e}",
                reader.error_position()
            )
        });
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let mut attrs = BTreeMap::new();
                for attr in tag.attributes().with_checks(true) {
                    let attr = attr.unwrap_or_else(|e| panic!("{part}: {e}"));
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap_or_else(|e| panic!("{part}: {e}"))
                        .into_owned();
                    let key = attr.key.local_name().as_ref().to_string();
                    assert!(
                        attrs.insert(key.clone(), value).is_none(),
                        "{part}: {key} twice"
                    );
                }
                all.push(Element {
                    name: tag.local_name().as_ref().to_string(),
                    attrs,
                    text: String::new(),
                });
                if matches!(event, Event::Start(_)) {
                    open.push(all.len() - 1);
                }
            }
            Event::End(_) => {
                open.pop();
            }
            Event::Text(t) => {
                if let Some(&at) = open.last() {
                    // Entities arrive as their own events (below), so text holds none.
                    all[at].text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(&at) = open.last() {
                    let name = r.xml10_content();
                    let resolved = if let Some(c) = r.resolve_char_ref().unwrap() {
                        c.to_string()
                    } else {
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("{part}: unknown entity &{name};"))
                            .to_string()
                    };
                    all[at].text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "{part}: {} elements left open", open.len());
    all
}

/// Checks one exported workbook against Excel's limits and returns the number of rows on the Questions sheet.
fn check_as_excel_would(bytes: &[u8]) -> usize {
    let parts = parts(bytes);
    let mut xml: BTreeMap<String, Vec<Element>> = BTreeMap::new();
    for (name, data) in &parts {
        if name.ends_with(".xml") || name.ends_with(".rels") {
            xml.insert(name.clone(), elements(name, data));
        }
    }

    // Sheets: names Excel accepts, a visible active tab, `_meta` very hidden.
    let workbook = &xml["xl/workbook.xml"];
    let sheets: Vec<&Element> = workbook.iter().filter(|e| e.name == "sheet").collect();
    let names: Vec<&str> = sheets.iter().map(|s| s.attrs["name"].as_str()).collect();
    assert_eq!(names, ["Instructions", "Questions", "_meta"]);
    for name in &names {
        assert!(name.chars().count() <= MAX_SHEET_NAME, "{name}");
        assert!(
            !name.contains(['[', ']', ':', '*', '?', '/', '\\']),
            "{name}"
        );
        assert!(!name.starts_with('\'') && !name.ends_with('\''), "{name}");
    }
    let state = |i: usize| {
        sheets[i]
            .attrs
            .get("state")
            .map_or("visible", String::as_str)
    };
    assert_eq!(state(2), "veryHidden");
    let active: usize = workbook
        .iter()
        .find(|e| e.name == "workbookView")
        .and_then(|v| v.attrs.get("activeTab"))
        .map_or(0, |t| t.parse().unwrap());
    assert_eq!(
        state(active),
        "visible",
        "Excel will not open on a hidden tab"
    );

    // Print titles and areas: Excel wants each defined name tied to its sheet.
    for name in workbook.iter().filter(|e| e.name == "definedName") {
        let sheet: usize = name.attrs["localSheetId"].parse().unwrap();
        assert!(sheet < sheets.len(), "{name:?}");
        assert!(
            name.text.starts_with(&format!("{}!", names[sheet])),
            "{name:?} names its own sheet"
        );
    }
    let defined: Vec<&str> = workbook
        .iter()
        .filter(|e| e.name == "definedName")
        .map(|e| e.attrs["name"].as_str())
        .collect();
    assert!(defined.contains(&"_xlnm.Print_Titles"), "{defined:?}");
    assert!(defined.contains(&"_xlnm.Print_Area"), "{defined:?}");

    // Shared strings within Excel's cell limit, and their counts as declared.
    let strings = &xml["xl/sharedStrings.xml"];
    let sst = strings.iter().find(|e| e.name == "sst").unwrap();
    let items = strings.iter().filter(|e| e.name == "si").count();
    assert_eq!(sst.attrs["uniqueCount"].parse::<usize>().unwrap(), items);
    for t in strings.iter().filter(|e| e.name == "t") {
        assert!(t.text.chars().count() <= MAX_CELL_CHARS);
    }

    // Each worksheet: rows in order and within height, widths within range, validations Excel accepts.
    let mut question_rows = 0;
    for (index, _) in sheets.iter().enumerate() {
        let part = format!("xl/worksheets/sheet{}.xml", index + 1);
        let sheet = &xml[&part];
        let mut last_row = 0u32;
        for row in sheet.iter().filter(|e| e.name == "row") {
            let r: u32 = row.attrs["r"].parse().unwrap();
            assert!(r > last_row, "{part}: row {r} after {last_row}");
            last_row = r;
            if let Some(height) = row.attrs.get("ht") {
                let height: f64 = height.parse().unwrap();
                assert!(
                    height > 0.0 && height <= MAX_ROW_HEIGHT,
                    "{part} row {r}: {height}"
                );
            }
            assert!(
                !row.attrs.contains_key("customHeight"),
                "{part} row {r} left to refit"
            );
        }
        for col in sheet.iter().filter(|e| e.name == "col") {
            let width: f64 = col.attrs["width"].parse().unwrap();
            assert!(width > 0.0 && width <= MAX_COLUMN_WIDTH, "{part}: {col:?}");
        }
        for (i, validation) in sheet
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name == "dataValidation")
        {
            // A validation without a type only shows an input message and carries no formula.
            let Some(kind) = validation.attrs.get("type") else {
                continue;
            };
            let formula = &sheet[i + 1];
            assert_eq!(formula.name, "formula1", "{part}: {validation:?}");
            if kind == "list" && formula.text.starts_with('"') {
                let inner = formula.text.trim_matches('"');
                assert!(
                    inner.chars().count() <= MAX_INLINE_LIST,
                    "{part}: inline list of {} characters",
                    inner.chars().count()
                );
            }
        }
        if names[index] == "Questions" {
            question_rows = last_row as usize;
            let count = sheet
                .iter()
                .find(|e| e.name == "dataValidations")
                .map(|e| e.attrs["count"].parse::<usize>().unwrap());
            assert_eq!(
                count,
                Some(sheet.iter().filter(|e| e.name == "dataValidation").count())
            );
            assert!(sheet.iter().any(|e| e.name == "sheetProtection"));
            let setup = sheet.iter().find(|e| e.name == "pageSetup").unwrap();
            assert_eq!(setup.attrs["orientation"], "landscape");
        }
    }

    // Every relationship points at a part the zip holds.
    let held: std::collections::BTreeSet<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    for (rels, elements) in xml.iter().filter(|(n, _)| n.ends_with(".rels")) {
        let base = rels
            .strip_suffix(".rels")
            .unwrap()
            .replace("_rels/", "")
            .rsplit_once('/')
            .map_or(String::new(), |(dir, _)| format!("{dir}/"));
        for rel in elements.iter().filter(|e| e.name == "Relationship") {
            if rel.attrs.get("TargetMode").map(String::as_str) == Some("External") {
                continue;
            }
            let target = &rel.attrs["Target"];
            let path = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_string(),
                None => format!("{base}{target}"),
            };
            assert!(held.contains(path.as_str()), "{rels}: {path} is missing");
        }
    }
    question_rows
}

both!(
    async fn the_downloaded_workbook_keeps_within_what_excel_accepts(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        // Prior answers at their longest and most awkward: a text answer and a comment at their limits,
        // formula-like text, characters XML must escape.
        let longest = "x".repeat(procurement_review::domain::questionnaires::MAX_TEXT_ANSWER_CHARS);
        let given = json!({"answers": [
            {"question_id": "WISP-04", "value": longest, "comment": "y".repeat(10_000)},
            {"question_id": "MON-02", "value": "no", "comment": "=HYPERLINK(\"http://x\") & <b>\u{1F512}</b>"},
        ]});
        app.save_answers(&token, &aid, &given)
            .await
            .ok(200);
        let bytes = download(&app, &token, &aid).await;
        let rows = check_as_excel_would(&bytes);
        assert_eq!(rows, t.questions().count() + 1, "a header and a row per question");
        app.stop().await;
    }
);

/// Every shipped template, with its longest texts and lists, stays within Excel's limits.
#[test]
fn every_shipped_template_exports_within_what_excel_accepts() {
    use procurement_review::sheets::workbook;

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let t = template(stem);
        let meta = workbook::WorkbookMeta {
            assessment_id: "excel-check".into(),
            template_id: t.id.clone(),
            template_version: t.version().to_string(),
            vendor_name: "Excel Check Vendor".into(),
            due: None,
        };
        let bytes = workbook::export(&meta, &t, &BTreeMap::new()).unwrap();
        assert_eq!(
            check_as_excel_would(&bytes),
            t.questions().count() + 1,
            "{stem}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "{checked} templates");
}
