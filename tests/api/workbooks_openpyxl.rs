//! Our workbook as openpyxl sees it: it loads without a warning, keeps its sheets, dropdowns, locks, frozen header,
//! print settings and very hidden `_meta`, and a copy filled in and saved by openpyxl imports with what was written.
//! openpyxl is what many vendors' and cities' scripts use to fill questionnaires in bulk.
//!
//! The Python side (`tests/tools/openpyxl_workbook.py`) only reports and edits; the judgements are here. These tests
//! need `python3` with openpyxl; `.ci/run` installs it, and in CI its absence fails them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use procurement_review::domain::questionnaires::{AnswerKind, Question, Template};
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{TestApp, outside_program};
use crate::workbooks::{answer_of, download, question_row, setup, sorted, template, upload};

fn openpyxl_here() -> bool {
    outside_program(
        "python3",
        &["-c", "import openpyxl"],
        "install openpyxl (python3 -m pip install openpyxl)",
    )
}

fn script() -> String {
    format!(
        "{}/tests/tools/openpyxl_workbook.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn python(args: &[&str]) -> Vec<u8> {
    let out = Command::new("python3")
        .arg(script())
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "openpyxl_workbook.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// openpyxl's report of a workbook (see the script for its shape).
fn inspect(bytes: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.xlsx");
    std::fs::write(&path, bytes).unwrap();
    serde_json::from_slice(&python(&["inspect", path_str(&path)])).unwrap()
}

/// Writes `edits` (`{"Questions!D2": "Yes"}`; `{"date": "2024-11-30"}` writes a date) and saves with openpyxl.
fn fill(bytes: &[u8], edits: &Value) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (book, out, job) = (
        dir.path().join("book.xlsx"),
        dir.path().join("filled.xlsx"),
        dir.path().join("edits.json"),
    );
    std::fs::write(&book, bytes).unwrap();
    std::fs::write(&job, edits.to_string()).unwrap();
    python(&["fill", path_str(&book), path_str(&out), path_str(&job)]);
    std::fs::read(out).unwrap()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn sheet<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no sheet {name}: {report}"))
}

/// What a question's dropdown must offer: exactly the answers import accepts.
fn expected_list(q: &Question) -> Option<Vec<String>> {
    let mut items = match q.kind {
        AnswerKind::YesNo => vec!["Yes".to_string(), "No".to_string()],
        AnswerKind::SingleChoice => q.options.clone(),
        _ => return None,
    };
    if q.na_allowed {
        items.push("N/A".to_string());
    }
    Some(items)
}

/// The items a list validation offers, inline (`"Yes,No"`) or by reference (`'_meta'!$D$1:$D$4`).
fn offered(report: &Value, formula: &str) -> Vec<String> {
    if let Some(inline) = formula.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        return inline.split(',').map(str::to_string).collect();
    }
    let (sheet_name, range) = formula.trim_start_matches('=').split_once('!').unwrap();
    let cells = &sheet(report, sheet_name.trim_matches('\''))["cells"];
    let range = range.replace('$', "");
    let (first, last) = range.split_once(':').unwrap();
    let column: String = first
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    let number = |cell: &str| -> usize { cell[column.len()..].parse().unwrap() };
    (number(first)..=number(last))
        .map(|r| {
            cells[format!("{column}{r}")]["value"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Every list validation of the Questions sheet, by the cell it covers.
fn lists_by_cell(report: &Value) -> BTreeMap<String, Vec<String>> {
    let questions = sheet(report, "Questions");
    let mut lists = BTreeMap::new();
    for v in questions["validations"].as_array().unwrap() {
        if v["type"] != "list" {
            continue;
        }
        assert_eq!(v["arrow_hidden"], false, "the dropdown arrow shows: {v}");
        assert_eq!(
            v["show_error"], true,
            "a wrong word is refused as typed: {v}"
        );
        for cell in v["sqref"].as_str().unwrap().split_whitespace() {
            lists.insert(
                cell.to_string(),
                offered(report, v["formula1"].as_str().unwrap()),
            );
        }
    }
    lists
}

/// The checks both tests make on a report: what openpyxl must see in our workbook, before and after it saves it.
fn assert_layout(report: &Value, t: &Template) {
    assert_eq!(report["warnings"], json!([]), "loads without a warning");
    let states: Vec<(&str, &str)> = report["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("Instructions", "visible"),
            ("Questions", "visible"),
            ("_meta", "veryHidden")
        ]
    );
    assert_eq!(report["active"], "Instructions");

    let q = sheet(report, "Questions");
    assert_eq!(q["protected"], true);
    assert_eq!(
        q["protection_password"],
        Value::Null,
        "protection guards slips, it hides nothing"
    );
    assert_eq!(q["freeze_panes"], "A2", "the header row stays in view");
    assert_eq!(q["orientation"], "landscape");
    assert_eq!(q["fit_to_page"], true);
    // The file leaves out fitToWidth when it is 1, the format's default.
    assert_eq!(q["fit_to_width"].as_u64().unwrap_or(1), 1, "one page wide");
    assert_eq!(q["fit_to_height"], 0, "as many pages tall as it takes");
    assert_eq!(
        q["print_title_rows"], "$1:$1",
        "the header prints on every page"
    );
    assert_eq!(q["max_row"], t.questions().count() + 1);
    for letter in ["A", "B", "C", "D", "E", "F"] {
        assert!(
            q["widths"][letter].as_f64().unwrap() >= 10.0,
            "{letter}: {}",
            q["widths"]
        );
    }

    let cells = &q["cells"];
    let lists = lists_by_cell(report);
    for question in t.questions() {
        let row = question_row(t, &question.id);
        assert_eq!(cells[format!("A{row}")]["value"], question.id.as_str());
        for locked in ["A", "B", "C"] {
            assert_eq!(
                cells[format!("{locked}{row}")]["locked"],
                true,
                "{locked}{row}"
            );
        }
        for open in ["D", "E", "F"] {
            assert_eq!(
                cells[format!("{open}{row}")]["locked"],
                false,
                "{open}{row}"
            );
        }
        assert_eq!(
            lists.get(&format!("D{row}")),
            expected_list(question).as_ref(),
            "{}: the dropdown of D{row}",
            question.id
        );
    }
}

both!(
    async fn the_workbook_opens_in_openpyxl_with_its_dropdowns_locks_and_hidden_meta(backend) {
        if !openpyxl_here() {
            return;
        }
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let given = json!({"answers": [
            {"question_id": "WISP-01", "value": "yes", "comment": "=see the policy"},
            {"question_id": "SCOPE-02", "value": 1200},
        ]});
        app.save_answers(&token, &aid, &given)
            .await
            .ok(200);
        let report = inspect(&download(&app, &token, &aid).await);
        assert_layout(&report, &t);

        let cells = &sheet(&report, "Questions")["cells"];
        assert_eq!(cells[format!("D{}", question_row(&t, "WISP-01"))]["value"], "Yes", "prior answers prefilled");
        assert_eq!(cells[format!("E{}", question_row(&t, "WISP-01"))]["value"], "'=see the policy", "neutralised");
        assert_eq!(cells[format!("D{}", question_row(&t, "SCOPE-02"))]["value"], 1200);
        let meta = &sheet(&report, "_meta")["cells"];
        assert_eq!(meta["B1"]["value"], aid.as_str(), "{meta}");
        assert_eq!(meta["B2"]["value"], t.id.as_str());
        app.stop().await;
    }
);

both!(
    async fn a_workbook_filled_in_and_saved_by_openpyxl_imports_with_what_was_written(backend) {
        if !openpyxl_here() {
            return;
        }
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let given = json!({"answers": [{"question_id": "WISP-01", "value": "yes"}]});
        app.save_answers(&token, &aid, &given)
            .await
            .ok(200);
        let exported = download(&app, &token, &aid).await;

        // What a script fills in: a changed yes/no, two options, a number, a real date cell (asked once MON-02 is
        // yes), an N/A, a comment and an evidence reference.
        let at = |col: &str, id: &str| format!("Questions!{col}{}", question_row(&t, id));
        let edits = json!({
            at("D", "WISP-01"): "No",
            at("E", "WISP-01"): "Being rewritten; due in March",
            at("D", "SCOPE-01"): "Social Security numbers; Credit or debit card numbers",
            at("D", "SCOPE-02"): 250,
            at("D", "MON-02"): "Yes",
            at("D", "MON-03"): {"date": "2024-11-30"},
            at("D", "ENC-03"): "N/A",
            at("D", "WISP-03"): "Yes",
            at("F", "WISP-03"): "Security policy, section 2",
        });
        let filled = fill(&exported, &edits);

        // openpyxl kept the layout: a second vendor opening this copy still gets the dropdowns and locks.
        assert_layout(&inspect(&filled), &t);

        let body = upload(&app, &token, &aid, "", filled).await.ok(200).clone();
        assert_eq!(body["format"], "own");
        assert_eq!(sorted(&body["added"]), ["ENC-03", "MON-02", "MON-03", "SCOPE-01", "SCOPE-02", "WISP-03"], "{body}");
        assert_eq!(sorted(&body["changed"]), ["WISP-01"], "{body}");

        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        let answer = |id: &str| answer_of(&detail, id);
        assert_eq!(answer("WISP-01")["answer"], "no");
        assert_eq!(answer("WISP-01")["comment"], "Being rewritten; due in March");
        assert_eq!(sorted(&answer("SCOPE-01")["answer"]), ["Credit or debit card numbers", "Social Security numbers"]);
        assert_eq!(answer("SCOPE-02")["answer"].as_f64(), Some(250.0));
        assert_eq!(answer("MON-03")["answer"], "2024-11-30", "a date cell read as a date");
        assert_eq!(answer("ENC-03")["answer"], "na");
        assert_eq!(answer("WISP-03")["answer"], "yes");
        assert_eq!(answer("WISP-03")["evidence_ref"], "Security policy, section 2");
        for id in ["WISP-01", "SCOPE-01", "MON-03"] {
            assert_eq!(answer(id)["source"], "workbook", "{id}");
        }
        app.stop().await;
    }
);
