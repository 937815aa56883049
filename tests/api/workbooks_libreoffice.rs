//! Our workbook as LibreOffice sees it: it opens, converts to xlsx, ods and PDF, keeps its dropdowns, locks,
//! frozen header and hidden `_meta` sheet when LibreOffice saves it again, and a copy filled in and saved by
//! LibreOffice imports with the answers typed. Also checks that the committed xls and ods fixtures
//! (`tests/fixtures/`) are LibreOffice conversions of the synthetic CAIQ and HECVAT workbooks.
//!
//! These tests need LibreOffice's `soffice` on PATH. `.ci/run` installs it (Debian's `libreoffice-calc`), and in CI
//! a missing `soffice` fails them; elsewhere they skip themselves with a note.
//!
//! Two ways in. `soffice --convert-to` opens a file without a view, so it also drops every view setting (frozen
//! panes among them) of any file, LibreOffice's own included: it shows whether a file opens and converts. What a
//! person gets from opening the workbook, typing and saving is done by a small Basic macro in a throwaway
//! LibreOffice profile: it opens the file with a view, types into cells as a person would (`setFormula`, so that
//! `2024-11-30` becomes a date), and saves.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use calamine::Data;
use procurement_review::domain::questionnaires::Template;
use procurement_review::sheets::{Workbook, workbook};
use serde_json::json;

use crate::both;
use crate::fixtures;
use crate::helpers::TestApp;
use crate::workbooks::{answer_of, download, question_row, setup, sorted, template, upload};
use crate::workbooks_formats::{CAIQ_ROWS, HECVAT_ROWS};

/// Whether LibreOffice runs here (see [`crate::helpers::outside_program`]).
pub fn libreoffice_here() -> bool {
    crate::helpers::outside_program(
        "soffice",
        &["--version"],
        "install LibreOffice Calc (Debian: apt-get install --no-install-recommends libreoffice-calc)",
    )
}

/// The Basic macro: reads a job file (source, destination, filter name, then `Sheet!Cell=typed text` lines), opens
/// the source with a view, types each edit, saves, closes. On any error it writes `<job>.error` and closes the
/// document, so that soffice exits instead of waiting on an error dialog.
const MACRO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub Resave(job As String)
  On Error GoTo Failed
  Dim doc As Object
  n = FreeFile
  Open job For Input As #n
  Line Input #n, src
  Line Input #n, dst
  Line Input #n, filter
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot;
  load(0).Value = False
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), &quot;_blank&quot;, 0, load())
  Do While Not EOF(n)
    Line Input #n, edit
    If edit &lt;&gt; &quot;&quot; Then
      eq = InStr(edit, &quot;=&quot;)
      target = Left(edit, eq - 1)
      bang = InStr(target, &quot;!&quot;)
      sheet = doc.Sheets.getByName(Left(target, bang - 1))
      sheet.getCellRangeByName(Mid(target, bang + 1)).setFormula(Mid(edit, eq + 1))
    End If
  Loop
  Close #n
  Dim store(0) As New com.sun.star.beans.PropertyValue
  store(0).Name = &quot;FilterName&quot;
  store(0).Value = filter
  doc.storeToURL(ConvertToURL(dst), store())
  doc.close(True)
  Exit Sub
Failed:
  m = FreeFile
  Open job &amp; &quot;.error&quot; For Output As #m
  Print #m, &quot;line &quot; &amp; Erl &amp; &quot;: &quot; &amp; Error$
  Close #m
  On Error Resume Next
  doc.close(True)
End Sub
</script:module>
"#;

/// LibreOffice with a user profile of its own, so that tests running at once do not share one.
pub struct Soffice {
    profile: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl Soffice {
    pub fn new() -> Soffice {
        let soffice = Soffice {
            profile: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
        };
        // The first start lays out the profile (and would overwrite a macro put there before it).
        soffice.run(&["--terminate_after_init"]);
        let module = soffice
            .profile
            .path()
            .join("user/basic/Standard/Module1.xba");
        assert!(
            module.exists(),
            "LibreOffice laid out no profile at {module:?}"
        );
        std::fs::write(module, MACRO).unwrap();
        soffice
    }

    /// Runs soffice headless on this profile, stopped after two minutes.
    fn run(&self, args: &[&str]) -> String {
        let profile = format!(
            "-env:UserInstallation=file://{}",
            self.profile.path().display()
        );
        let mut child = Command::new("soffice")
            .arg(profile)
            .arg("--headless")
            .arg("--norestore")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("soffice cannot be started: {e}"));
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(120) {
                // soffice is a script that starts soffice.bin: stop the whole group this test started.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                panic!("soffice {args:?} did not finish in two minutes");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "soffice {args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        // The only line LibreOffice prints on this machine, about Java, which Calc does not need.
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.contains("javaldx"))
            .collect();
        assert!(
            complaints.is_empty(),
            "soffice {args:?} complained: {stderr}"
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn input(&self, bytes: &[u8], extension: &str) -> PathBuf {
        let path = self
            .work
            .path()
            .join(format!("in-{}.{extension}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// `soffice --convert-to <to>`, e.g. `xls:MS Excel 97` or `pdf`; the output's extension is `to` up to the
    /// colon.
    pub fn convert(&self, bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        let input = self.input(bytes, from);
        let out = self
            .work
            .path()
            .join(uuid::Uuid::new_v4().simple().to_string());
        let said = self.run(&[
            "--convert-to",
            to,
            "--outdir",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        let extension = to.split(':').next().unwrap();
        let stem = input.file_stem().unwrap().to_str().unwrap();
        let output = out.join(format!("{stem}.{extension}"));
        std::fs::read(&output)
            .unwrap_or_else(|e| panic!("no {output:?} ({e}); soffice said {said}"))
    }

    /// Opens the workbook with a view, types `edits` (`("Questions!D4", "No")`), saves it with `filter` (e.g.
    /// `Calc MS Excel 2007 XML`, `calc8`) as `.extension`.
    pub fn type_and_save(
        &self,
        bytes: &[u8],
        from: &str,
        edits: &[(String, String)],
        filter: &str,
        extension: &str,
    ) -> Vec<u8> {
        let input = self.input(bytes, from);
        let output = input.with_extension(format!("saved.{extension}"));
        let job = input.with_extension("job");
        let mut text = format!("{}\n{}\n{filter}\n", input.display(), output.display());
        for (cell, typed) in edits {
            assert!(
                !typed.contains('\n') && typed.is_ascii(),
                "one ASCII line per edit"
            );
            text.push_str(&format!("{cell}={typed}\n"));
        }
        std::fs::write(&job, text).unwrap();
        self.run(&[&format!(
            "macro:///Standard.Module1.Resave(\"{}\")",
            job.display()
        )]);
        let error = job.with_extension("job.error");
        assert!(
            !error.exists(),
            "the macro failed: {}",
            std::fs::read_to_string(&error).unwrap_or_default()
        );
        std::fs::read(&output).unwrap_or_else(|e| panic!("LibreOffice saved no {output:?} ({e})"))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the parts of an xlsx: enough XML for the tags checked here (no nesting of a tag in itself).

fn part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("no {name} in the workbook: {e}"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

struct Tag {
    attrs: BTreeMap<String, String>,
    inner: String,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<name ...>` element of `xml`, with its attributes and the text up to its end tag.
fn tags(xml: &str, name: &str) -> Vec<Tag> {
    let mut found = Vec::new();
    let mut rest = xml;
    let open = format!("<{name}");
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        if !after.starts_with([' ', '>', '/']) {
            rest = after;
            continue;
        }
        let end = after.find('>').unwrap();
        let head = &after[..end];
        let (head, empty) = match head.strip_suffix('/') {
            Some(head) => (head, true),
            None => (head, false),
        };
        let mut attrs = BTreeMap::new();
        let mut text = head.trim();
        while let Some(eq) = text.find("=\"") {
            let key = text[..eq].trim().to_string();
            let value_end = text[eq + 2..].find('"').unwrap();
            attrs.insert(key, unescape(&text[eq + 2..eq + 2 + value_end]));
            text = text[eq + 2 + value_end + 1..].trim_start();
        }
        let body = &after[end + 1..];
        let inner = if empty {
            String::new()
        } else {
            let close = format!("</{name}>");
            body.find(&close)
                .map_or(String::new(), |i| body[..i].to_string())
        };
        found.push(Tag { attrs, inner });
        rest = body;
    }
    found
}

/// The worksheet part of the sheet named `sheet`, found through the workbook's relationships as a reader would.
fn sheet_xml(bytes: &[u8], sheet: &str) -> String {
    let workbook = part(bytes, "xl/workbook.xml");
    let id = tags(&workbook, "sheet")
        .into_iter()
        .find(|t| t.attr("name") == Some(sheet))
        .unwrap_or_else(|| panic!("no sheet {sheet}"))
        .attrs["r:id"]
        .clone();
    let rels = part(bytes, "xl/_rels/workbook.xml.rels");
    let target = tags(&rels, "Relationship")
        .into_iter()
        .find(|t| t.attr("Id") == Some(id.as_str()))
        .unwrap()
        .attrs["Target"]
        .clone();
    let path = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("xl/{target}"),
    };
    part(bytes, &path)
}

fn sheet_states(bytes: &[u8]) -> Vec<(String, String)> {
    tags(&part(bytes, "xl/workbook.xml"), "sheet")
        .into_iter()
        .map(|t| {
            (
                t.attrs["name"].clone(),
                t.attr("state").unwrap_or("visible").to_string(),
            )
        })
        .collect()
}

fn truthy(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true"))
}

/// What a cell's data validation allows, written the same way whoever wrote it: the defaults spelt out, and
/// `'_meta'!` and `_meta!` alike.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    kind: String,
    operator: String,
    formula1: String,
    formula2: Option<String>,
    blank_allowed: bool,
    stops_bad_input: bool,
    dropdown_shown: bool,
}

fn validations(sheet: &str) -> BTreeMap<String, Rule> {
    let formula = |inner: &str, name: &str| {
        tags(inner, name)
            .first()
            .map(|t| unescape(&t.inner).replace("'_meta'!", "_meta!"))
    };
    let mut rules = BTreeMap::new();
    for tag in tags(sheet, "dataValidation") {
        let kind = tag.attr("type").unwrap_or("none").to_string();
        // formula2 means something only for a range; LibreOffice writes a 0 for every other rule.
        let ranged = tag.attr("operator").unwrap_or("between").contains("etween")
            && !matches!(kind.as_str(), "list" | "custom" | "none");
        let rule = Rule {
            operator: tag.attr("operator").unwrap_or("between").to_string(),
            // An "any value" rule has no formula; LibreOffice writes a 0.
            formula1: if kind == "none" {
                String::new()
            } else {
                formula(&tag.inner, "formula1").unwrap_or_default()
            },
            formula2: if ranged {
                formula(&tag.inner, "formula2")
            } else {
                None
            },
            blank_allowed: truthy(tag.attr("allowBlank")),
            stops_bad_input: tag.attr("errorStyle").unwrap_or("stop") == "stop"
                && truthy(tag.attr("showErrorMessage")),
            // In OOXML showDropDown="1" hides the in-cell arrow.
            dropdown_shown: !truthy(tag.attr("showDropDown")),
            kind,
        };
        for cell in tag.attrs["sqref"].split_whitespace() {
            assert!(!cell.contains(':'), "one answer cell per rule: {cell}");
            rules.insert(cell.to_string(), rule.clone());
        }
    }
    rules
}

/// Whether each cell (`D2`) of a sheet is locked, from its style's protection (locked unless it says not).
fn locks(bytes: &[u8], sheet: &str) -> BTreeMap<String, bool> {
    let styles = part(bytes, "xl/styles.xml");
    let cell_xfs = tags(&styles, "cellXfs").remove(0).inner;
    let locked: Vec<bool> = tags(&cell_xfs, "xf")
        .iter()
        .map(|xf| {
            let protection = tags(&format!("<xf>{}</xf>", xf.inner), "protection");
            !protection
                .first()
                .is_some_and(|p| matches!(p.attr("locked"), Some("0" | "false")))
        })
        .collect();
    tags(sheet, "c")
        .into_iter()
        .map(|c| {
            let style: usize = c.attr("s").unwrap_or("0").parse().unwrap();
            (c.attrs["r"].clone(), locked[style])
        })
        .collect()
}

/// Row heights in points by 1-based row, where the sheet gives one.
fn row_heights(sheet: &str) -> BTreeMap<u32, f64> {
    tags(sheet, "row")
        .into_iter()
        .filter_map(|r| Some((r.attrs["r"].parse().ok()?, r.attr("ht")?.parse().ok()?)))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Our workbook.

/// Every kind of question, an N/A where allowed, an option with a comma (listed on `_meta`), a condition, and a
/// question long enough to wrap over several lines.
const ALL_KINDS: &str = r#"
id = "lo-all-kinds"
title = "Every kind of question, for LibreOffice"
description = "d"
applies_to = "a"

[[sections]]
id = "one"
title = "Plain answers"

[[sections.questions]]
id = "YN-01"
text = "Do you keep an inventory of every system that stores the city's records, reviewed by a named owner at least twice a year and whenever a system is added, retired or moved to another hosting provider?"
kind = "yes_no"
expected = "yes"
citation = "c"

[[sections.questions]]
id = "YN-02"
text = "Do you list the people who may reach the records?"
kind = "yes_no"
show_if = { question = "YN-01", equals = "yes" }

[[sections.questions]]
id = "NA-01"
text = "Are card payments kept off your servers?"
kind = "yes_no"
na_allowed = true

[[sections.questions]]
id = "CH-01"
text = "How do staff sign in?"
kind = "single_choice"
options = ["SAML 2.0", "OpenID Connect", "Something else, described in the comment"]

[[sections]]
id = "two"
title = "Other answers"

[[sections.questions]]
id = "MC-01"
text = "Which reports can you share?"
kind = "multiple_choice"
options = ["SOC 2 Type 2", "ISO/IEC 27001", "Penetration test summary"]
na_allowed = true

[[sections.questions]]
id = "NUM-01"
text = "Within how many hours do you report a breach?"
kind = "number"
min = 0
max = 720

[[sections.questions]]
id = "NUM-02"
text = "How many staff can reach the records?"
kind = "number"
na_allowed = true

[[sections.questions]]
id = "DATE-01"
text = "When did you last restore from backup?"
kind = "date"

[[sections.questions]]
id = "TXT-01"
text = "Who is your security contact?"
kind = "text"

[[sections.questions]]
id = "FILE-01"
text = "Upload your incident response plan."
kind = "file"
"#;

fn all_kinds() -> (Template, workbook::WorkbookMeta, Vec<u8>) {
    let template = Template::from_toml("lo-all-kinds.toml", ALL_KINDS).unwrap();
    let meta = workbook::WorkbookMeta {
        assessment_id: "lo-assessment".into(),
        template_id: template.id.clone(),
        template_version: template.version().to_string(),
        vendor_name: "LibreOffice Vendor".into(),
        due: None,
    };
    let prior: BTreeMap<String, workbook::PriorAnswer> = [
        (
            "YN-01",
            json!("yes"),
            Some("Reviewed in March and September"),
        ),
        ("NA-01", json!("na"), Some("=no card payments at all")),
        (
            "CH-01",
            json!("Something else, described in the comment"),
            None,
        ),
        (
            "MC-01",
            json!(["SOC 2 Type 2", "Penetration test summary"]),
            None,
        ),
        ("NUM-01", json!(48), None),
        ("NUM-02", json!("na"), None),
        ("DATE-01", json!("2025-02-28"), None),
        ("TXT-01", json!("security@vendor.example"), None),
    ]
    .into_iter()
    .map(|(id, answer, comment)| {
        (
            id.to_string(),
            workbook::PriorAnswer {
                answer: Some(answer),
                comment: comment.map(str::to_string),
                evidence_ref: None,
            },
        )
    })
    .collect();
    let bytes = workbook::export(&meta, &template, &prior).unwrap();
    (template, meta, bytes)
}

#[test]
fn our_workbook_opens_and_converts_to_xlsx_ods_and_pdf() {
    if !libreoffice_here() {
        return;
    }
    let (template, meta, bytes) = all_kinds();
    let expected = workbook::import(&bytes, &meta, &template).unwrap();
    assert_eq!(expected.answers.len(), 8);
    let soffice = Soffice::new();

    let xlsx = soffice.convert(&bytes, "xlsx", "xlsx:Calc MS Excel 2007 XML");
    assert_eq!(workbook::import(&xlsx, &meta, &template).unwrap(), expected);

    let ods = soffice.convert(&bytes, "xlsx", "ods");
    let content = part(&ods, "content.xml");
    let tables = tags(&content, "table:table");
    let names: Vec<&str> = tables.iter().filter_map(|t| t.attr("table:name")).collect();
    assert_eq!(names, ["Instructions", "Questions", "_meta"]);
    assert_eq!(
        tables[1].attr("table:protected"),
        Some("true"),
        "Questions stays protected"
    );
    let hidden_style = tables[2].attr("table:style-name").unwrap();
    let style = tags(&content, "style:style")
        .into_iter()
        .find(|s| s.attr("style:name") == Some(hidden_style))
        .unwrap();
    assert!(
        style.inner.contains(r#"table:display="false""#),
        "_meta stays hidden"
    );
    let lists = tags(&content, "table:content-validation")
        .into_iter()
        .filter(|v| {
            v.attr("table:condition")
                .is_some_and(|c| c.contains("cell-content-is-in-list"))
        })
        .count();
    assert!(lists >= 4, "the dropdowns are kept: {lists}");
    assert_eq!(
        workbook::import(&ods, &meta, &template)
            .unwrap()
            .answers
            .keys()
            .collect::<Vec<_>>(),
        expected.answers.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        workbook::import(&ods, &meta, &template).unwrap().answers["NUM-01"].answer,
        expected.answers["NUM-01"].answer
    );

    let pdf = soffice.convert(&bytes, "xlsx", "pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let pages = String::from_utf8_lossy(&pdf).matches("/Type/Page/").count()
        + String::from_utf8_lossy(&pdf)
            .matches("/Type /Page\n")
            .count();
    assert!(
        pages >= 2,
        "instructions and questions print: {pages} pages"
    );
}

#[test]
fn our_workbook_keeps_its_dropdowns_locks_frozen_header_and_hidden_meta_when_libreoffice_saves_it()
{
    if !libreoffice_here() {
        return;
    }
    let (template, meta, bytes) = all_kinds();
    let soffice = Soffice::new();
    let saved = soffice.type_and_save(&bytes, "xlsx", &[], "Calc MS Excel 2007 XML", "xlsx");
    let questions = template.questions().count() as u32;

    // Sheets: the same, `_meta` still out of sight.
    let states = sheet_states(&saved);
    assert_eq!(
        states[0],
        ("Instructions".to_string(), "visible".to_string())
    );
    assert_eq!(states[1], ("Questions".to_string(), "visible".to_string()));
    assert_eq!(states[2].0, "_meta");
    // LibreOffice has no "very hidden" state: it saves `_meta` as hidden, which a person can unhide from the
    // Sheet menu. Import checks `_meta` against the assessment either way.
    assert_eq!(sheet_states(&bytes)[2].1, "veryHidden");
    assert_eq!(states[2].1, "hidden", "{states:?}");

    let before = sheet_xml(&bytes, "Questions");
    let after = sheet_xml(&saved, "Questions");

    // Protection.
    let protection = tags(&after, "sheetProtection");
    assert_eq!(
        protection.len(),
        1,
        "the questions sheet is still protected"
    );
    assert!(
        truthy(protection[0].attr("sheet")),
        "{:?}",
        protection[0].attrs
    );
    assert!(
        !truthy(protection[0].attr("password")),
        "no password was added"
    );

    // Frozen header.
    let pane = tags(&after, "pane");
    assert_eq!(pane.len(), 1, "a frozen pane: {after}");
    assert_eq!(pane[0].attr("ySplit"), Some("1"));
    assert_eq!(pane[0].attr("state"), Some("frozen"));

    // Every answer cell keeps the same rule, dropdowns and their `_meta` list included.
    let rules_before = validations(&before);
    let rules_after = validations(&after);
    assert_eq!(rules_before.len(), questions as usize);
    for row in 2..=questions + 1 {
        let cell = format!("D{row}");
        assert_eq!(rules_after.get(&cell), rules_before.get(&cell), "{cell}");
    }
    let lists: Vec<&str> = rules_after
        .values()
        .filter(|r| r.kind == "list")
        .map(|r| r.formula1.as_str())
        .collect();
    assert!(
        lists.contains(&"\"Yes,No\"") && lists.contains(&"\"Yes,No,N/A\""),
        "{lists:?}"
    );
    assert!(lists.contains(&"_meta!$D$1:$D$3"), "{lists:?}");
    assert!(rules_after.values().all(|r| r.stops_bad_input));

    // Only the answer, comment and evidence cells are open.
    let locks = locks(&saved, &after);
    for row in 2..=questions + 1 {
        for col in ["A", "B", "C", "G", "H", "I"] {
            assert_eq!(
                locks.get(&format!("{col}{row}")),
                Some(&true),
                "{col}{row} locked"
            );
        }
        for col in ["D", "E", "F"] {
            assert_eq!(
                locks.get(&format!("{col}{row}")),
                Some(&false),
                "{col}{row} open"
            );
        }
    }

    // The rows stay tall enough for their wrapped text (the first question wraps over several lines).
    let heights_before = row_heights(&before);
    let heights_after = row_heights(&after);
    assert!(heights_before[&2] >= 45.0, "{heights_before:?}");
    for (row, height) in &heights_before {
        let kept = heights_after.get(row).copied().unwrap_or(15.0);
        assert!(
            (kept - height).abs() < 1.0,
            "row {row}: {height} became {kept}"
        );
    }

    // And it reads back to the same answers.
    assert_eq!(
        workbook::import(&saved, &meta, &template).unwrap(),
        workbook::import(&bytes, &meta, &template).unwrap()
    );
}

/// The Answer cell of a question, e.g. `Questions!D4`.
fn answer_cell(t: &Template, id: &str) -> String {
    format!("Questions!D{}", question_row(t, id))
}

fn comment_cell(t: &Template, id: &str) -> String {
    answer_cell(t, id).replace("!D", "!E")
}

both!(
    if libreoffice_here();
    async fn a_workbook_filled_in_and_saved_by_libreoffice_imports_with_the_answers_typed(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let given = json!({"answers": [
            {"question_id": "SCOPE-01", "value": ["Social Security numbers"]},
            {"question_id": "SCOPE-02", "value": 1200},
            {"question_id": "WISP-01", "value": "yes", "comment": "=see the policy"},
            {"question_id": "MON-02", "value": "yes"},
            {"question_id": "MON-03", "value": "2025-03-14"},
        ]});
        app.save_answers(&token, &aid, &given)
            .await
            .ok(200);
        let exported = download(&app, &token, &aid).await;

        // What a vendor types in LibreOffice: a changed and a new yes/no, an N/A, a date, a number, two options,
        // and a comment.
        let typed: Vec<(String, String)> = [
            (answer_cell(&t, "SCOPE-01"), "Social Security numbers; Credit or debit card numbers"),
            (answer_cell(&t, "SCOPE-02"), "250"),
            (answer_cell(&t, "WISP-01"), "No"),
            (answer_cell(&t, "WISP-03"), "Yes"),
            (comment_cell(&t, "WISP-03"), "Named in the policy, section 2"),
            (answer_cell(&t, "MON-03"), "2024-11-30"),
            (answer_cell(&t, "ENC-03"), "N/A"),
        ]
        .into_iter()
        .map(|(cell, text)| (cell, text.to_string()))
        .collect();
        let soffice = Soffice::new();
        let xlsx = soffice.type_and_save(&exported, "xlsx", &typed, "Calc MS Excel 2007 XML", "xlsx");
        let resp = upload(&app, &token, &aid, "", xlsx).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "own");
        assert_eq!(sorted(&body["added"]), ["ENC-03", "WISP-03"], "{body}");
        assert_eq!(sorted(&body["changed"]), ["MON-03", "SCOPE-01", "SCOPE-02", "WISP-01"], "{body}");
        assert_eq!(body["cleared"], json!([]));
        assert_eq!(body["unchanged"], 1, "MON-02 as it was: {body}");

        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        let mut options: Vec<String> = answer_of(&detail, "SCOPE-01")["answer"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        options.sort();
        assert_eq!(options, ["Credit or debit card numbers", "Social Security numbers"]);
        assert_eq!(answer_of(&detail, "SCOPE-02")["answer"].as_f64(), Some(250.0));
        assert_eq!(answer_of(&detail, "WISP-01")["answer"], "no");
        assert_eq!(answer_of(&detail, "WISP-01")["comment"], "=see the policy", "the comment kept, unescaped");
        assert_eq!(answer_of(&detail, "WISP-03")["answer"], "yes");
        assert_eq!(answer_of(&detail, "WISP-03")["comment"], "Named in the policy, section 2");
        assert_eq!(answer_of(&detail, "MON-03")["answer"], "2024-11-30", "typed as a date, read as one");
        assert_eq!(answer_of(&detail, "ENC-03")["answer"], "na");
        for id in ["SCOPE-01", "WISP-03", "ENC-03"] {
            assert_eq!(answer_of(&detail, id)["source"], "workbook", "{id}");
        }

        // The same typing saved in LibreOffice's own format reads back to the same answers.
        let ods = soffice.type_and_save(&exported, "xlsx", &typed, "calc8", "ods");
        let resp = upload(&app, &token, &aid, "", ods).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["added"], json!([]), "{body}");
        assert_eq!(body["changed"], json!([]), "{body}");
        assert_eq!(body["unchanged"], 7, "{body}");
        assert_eq!(body["stored"], false, "the same answers: nothing stored, no second copy kept");
        let evidence = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200)["evidence"].clone();
        let types: Vec<&str> = evidence.as_array().unwrap().iter().map(|e| e["content_type"].as_str().unwrap()).collect();
        assert!(!types.contains(&"application/vnd.oasis.opendocument.spreadsheet"), "{types:?}");
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------------------------------
// The committed xls and ods fixtures.

/// `tests/fixtures/<name>`.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Every non-blank cell of every sheet, as text, by sheet name.
fn cells(bytes: &[u8]) -> BTreeMap<String, Vec<(u32, u32, String)>> {
    Workbook::open(bytes)
        .unwrap()
        .sheets
        .iter()
        .map(|(name, range)| {
            let (row0, col0) = range.start().unwrap_or((0, 0));
            let cells = range
                .used_cells()
                .filter(|(_, _, cell)| !matches!(cell, Data::Empty))
                .map(|(r, c, cell)| {
                    (
                        row0 + r as u32,
                        col0 + c as u32,
                        procurement_review::sheets::cell_text(cell),
                    )
                })
                .collect();
            (name.clone(), cells)
        })
        .collect()
}

/// The synthetic workbooks the committed fixtures are made from, by file stem.
fn fixture_sources() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("caiq-v4", fixtures::caiq_v4(CAIQ_ROWS)),
        ("hecvat-3", fixtures::hecvat_v3(HECVAT_ROWS)),
        ("hecvat-4", fixtures::hecvat_v4(HECVAT_ROWS)),
    ]
}

/// With `WRITE_FIXTURES=1` this writes `tests/fixtures/*.xls` and `*.ods` afresh; otherwise it checks that the
/// committed ones hold, cell for cell, what LibreOffice makes of today's synthetic workbooks.
#[test]
fn the_committed_xls_and_ods_fixtures_are_libreoffice_conversions_of_the_synthetic_workbooks() {
    if !libreoffice_here() {
        return;
    }
    let soffice = Soffice::new();
    let write = std::env::var("WRITE_FIXTURES").is_ok_and(|v| v == "1");
    for (stem, xlsx) in fixture_sources() {
        for (extension, filter) in [("xls", "xls:MS Excel 97"), ("ods", "ods:calc8")] {
            let fresh = soffice.convert(&xlsx, "xlsx", filter);
            let path = fixture_path(&format!("{stem}.{extension}"));
            if write {
                std::fs::write(&path, &fresh).unwrap();
                continue;
            }
            let committed = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{path:?} ({e}); make it with WRITE_FIXTURES=1"));
            assert_eq!(cells(&committed), cells(&fresh), "{path:?}");
            // LibreOffice writes a formula's cached text result to xls as the number 0 (it computes nothing when
            // converting), so the HECVAT 4 question cells, which are formulas, read as 0 there. Readers use the
            // IDs, answers and notes, which are plain values and must match.
            let formulas = if extension == "xls" {
                formula_cells(&xlsx)
            } else {
                Vec::new()
            };
            let values = |bytes: &[u8]| {
                let mut all = cells(bytes);
                for (sheet, row, col) in &formulas {
                    if let Some(cells) = all.get_mut(sheet) {
                        cells.retain(|(r, c, _)| (r, c) != (row, col));
                    }
                }
                all
            };
            assert_eq!(
                values(&committed),
                values(&xlsx),
                "{path:?} holds what the xlsx holds"
            );
        }
    }
}

/// Where a workbook holds formulas: (sheet, row, column).
fn formula_cells(bytes: &[u8]) -> Vec<(String, u32, u32)> {
    use calamine::Reader;

    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let mut found = Vec::new();
    for sheet in book.sheet_names() {
        let range = book.worksheet_formula(&sheet).unwrap();
        let (row0, col0) = range.start().unwrap_or((0, 0));
        for (r, c, formula) in range.used_cells() {
            if !formula.is_empty() {
                found.push((sheet.clone(), row0 + r as u32, col0 + c as u32));
            }
        }
    }
    found
}
