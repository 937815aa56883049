//! A vendor's CAIQ v4 or HECVAT uploaded as xls or ods as well as xlsx, our workbook saved as xlsm, and files
//! named .xlsx that are something else.
//!
//! The xls and ods files under `tests/fixtures/` are LibreOffice conversions of the synthetic workbooks that
//! `sheets::fixtures` makes from the rows below (see `tests/fixtures/README.md`); each format must carry over the
//! same answers as the xlsx it was made from.

use std::io::{Read, Write};

use procurement_review::sheets::fixtures;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};
use crate::workbooks::{download, setup, sorted};

/// A CAIQ v4 against the 201 CMR 17.00 questionnaire's crosswalk: answers that map (one with `&` in its ID),
/// an N/A where the question allows it and one where it does not, two CAIQ questions that disagree about one of
/// ours, one that maps to a question not asked (its condition does not hold), and IDs no question maps to (one
/// sharing a merged control cell with a mapped one).
pub const CAIQ_ROWS: &[(&str, &str, &str)] = &[
    ("A&A-02.1", "Yes", "Independent audit, once a year."),
    ("CCC-01.1", "Yes", ""),
    ("CEK-03.1", "NA", ""),
    ("DSP-07.1", "No", ""),
    (
        "GRC-05.1",
        "Yes",
        "The board approves the program each year.",
    ),
    ("GRC-06.1", "No", ""),
    ("IAM-02.1", "Yes", ""),
    ("IAM-02.2", "Yes", ""),
    ("STA-14.1", "Yes", ""),
    ("TVM-02.1", "Yes", "Scanned every week."),
    ("UEM-08.1", "NA", "No laptop holds city data."),
    ("UEM-09.1", "No", ""),
];

/// A HECVAT against the same crosswalk, with the same kinds of rows as [`CAIQ_ROWS`], an ID with a letter
/// (`APPL-12a`) and a blank answer. In the version 4 layout the PPPR block's second row is hidden, and CHNG, DOCU
/// and HLDA sit on the hidden tab.
pub const HECVAT_ROWS: &[(&str, &str, &str)] = &[
    ("AAAI-03", "Yes", "Single sign-on with a second factor."),
    ("APPL-12a", "No", ""),
    ("CHNG-07", "No", ""),
    ("COMP-04", "No", ""),
    ("DATA-02", "Yes", "TLS 1.2 or later in transit."),
    ("DOCU-03", "Yes", ""),
    ("HFIH-01", "N/A", ""),
    ("HIPA-12", "", ""),
    ("HLDA-07", "Yes", ""),
    ("PPPR-01", "Yes", ""),
    ("PPPR-08", "Yes", "Program approved by our board."),
    ("THRD-01", "Yes", ""),
];

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const CONTENT_TYPES: [(&str, &str); 4] = [
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    ("xls", "application/vnd.ms-excel"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
];

fn content_type(extension: &str) -> &'static str {
    CONTENT_TYPES
        .iter()
        .find(|(e, _)| *e == extension)
        .unwrap()
        .1
}

/// Uploads as a browser would: with the content type its name suggests.
async fn upload_as(
    app: &TestApp,
    token: &str,
    assessment: &str,
    query: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Resp {
    let etag = app
        .etag_of(&format!("/api/v1/assessments/{assessment}"), token)
        .await;
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/assessments/{assessment}/workbook{query}",
            app.base
        ))
        .bearer_auth(token)
        .header("If-Match", etag)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    TestApp::read(resp).await
}

fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The report's conflicts as (question, sorted sources, reason).
fn conflicts(body: &Value) -> Vec<(String, Vec<String>, String)> {
    body["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["question_id"].as_str().unwrap().to_string(),
                sorted(&c["sources"]),
                c["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The answered questions of an assessment: (id, answer, comment, source).
async fn stored(app: &TestApp, token: &str, aid: &str) -> Vec<(String, Value, Value, String)> {
    let detail = app
        .get(&format!("/api/v1/assessments/{aid}"), token)
        .await
        .ok(200)
        .clone();
    detail["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| !q["answer"].is_null())
        .map(|q| {
            (
                q["id"].as_str().unwrap().to_string(),
                q["answer"].clone(),
                q["comment"].clone(),
                q["source"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn evidence(app: &TestApp, token: &str, aid: &str) -> Vec<(String, String)> {
    let detail = app
        .get(&format!("/api/v1/assessments/{aid}"), token)
        .await
        .ok(200)
        .clone();
    detail["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file_name"].as_str().unwrap().to_string(),
                e["content_type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn answer(
    id: &str,
    value: &str,
    comment: Option<&str>,
    source: &str,
) -> (String, Value, Value, String) {
    (
        id.to_string(),
        json!(value),
        comment.map_or(Value::Null, |c| json!(c)),
        source.to_string(),
    )
}

both!(
    async fn a_caiq_as_xlsx_xls_or_ods_carries_over_the_same_answers(backend) {
        let cases = [
            ("xlsx", fixtures::caiq_v4(CAIQ_ROWS)),
            ("xls", fixture("caiq-v4.xls")),
            ("ods", fixture("caiq-v4.ods")),
        ];
        for (extension, bytes) in cases {
            let app = TestApp::spawn(backend).await;
            let (token, aid, _) = setup(&app).await;
            let resp = upload_as(&app, &token, &aid, "?format=caiq-v4", content_type(extension), bytes).await;
            let body = resp.ok(200).clone();
            assert_eq!(body["format"], "caiq-v4", "{extension}");
            assert_eq!(strings(&body["added"]), ["AUTH-02", "ENC-03", "PROV-06", "WISP-01", "WISP-03"], "{extension}: {body}");
            assert_eq!(body["changed"], json!([]), "{extension}");
            assert_eq!(body["kept_direct"], json!([]), "{extension}");
            assert_eq!(strings(&body["unmapped"]), ["CCC-01.1", "DSP-07.1", "IAM-02.2"], "{extension}");
            assert_eq!(strings(&body["not_asked"]), ["PROV-02"], "{extension}: STA-14.1 maps to a question asked only after PROV-01 is Yes");
            let found = conflicts(&body);
            assert_eq!(found.len(), 2, "{extension}: {body}");
            assert_eq!((found[0].0.as_str(), found[0].1.clone()), ("ENC-01", vec!["caiq-v4:CEK-03.1=na".to_string()]));
            assert!(found[0].2.contains("does not allow"), "{}", found[0].2);
            assert_eq!(
                (found[1].0.as_str(), found[1].1.clone()),
                ("SYS-04", vec!["caiq-v4:TVM-02.1=yes".to_string(), "caiq-v4:UEM-09.1=no".to_string()])
            );
            assert!(found[1].2.contains("disagree"), "{}", found[1].2);

            assert_eq!(
                stored(&app, &token, &aid).await,
                [
                    answer("WISP-01", "yes", Some("The board approves the program each year."), "caiq-v4:GRC-05.1"),
                    answer("WISP-03", "no", None, "caiq-v4:GRC-06.1"),
                    answer("PROV-06", "yes", Some("Independent audit, once a year."), "caiq-v4:A&A-02.1"),
                    answer("AUTH-02", "yes", None, "caiq-v4:IAM-02.1"),
                    answer("ENC-03", "na", Some("No laptop holds city data."), "caiq-v4:UEM-08.1"),
                ],
                "{extension}: in questionnaire order"
            );
            assert_eq!(
                evidence(&app, &token, &aid).await,
                [(format!("caiq-v4-upload.{extension}"), content_type(extension).to_string())],
                "the file is kept as evidence, named by what it is"
            );
            app.stop().await;
        }
    }
);

both!(
    async fn a_hecvat_3_or_4_as_xlsx_xls_or_ods_carries_over_the_same_answers(backend) {
        let cases = [
            ("3", "xlsx", fixtures::hecvat_v3(HECVAT_ROWS)),
            ("3", "xls", fixture("hecvat-3.xls")),
            ("3", "ods", fixture("hecvat-3.ods")),
            ("4", "xlsx", fixtures::hecvat_v4(HECVAT_ROWS)),
            ("4", "xls", fixture("hecvat-4.xls")),
            ("4", "ods", fixture("hecvat-4.ods")),
        ];
        for (version, extension, bytes) in cases {
            let case = format!("HECVAT {version} as {extension}");
            let app = TestApp::spawn(backend).await;
            let (token, aid, _) = setup(&app).await;
            let resp = upload_as(&app, &token, &aid, "?format=hecvat", content_type(extension), bytes).await;
            let body = resp.ok(200).clone();
            assert_eq!(body["format"], "hecvat", "{case}");
            assert_eq!(strings(&body["added"]), ["AUTH-02", "ENC-01", "PROV-06", "WISP-01", "WISP-03"], "{case}: {body}");
            assert_eq!(sorted(&body["unmapped"]), ["APPL-12a", "HLDA-07"], "{case}");
            assert_eq!(strings(&body["not_asked"]), ["PROV-02"], "{case}");
            let found = conflicts(&body);
            assert_eq!(found.len(), 2, "{case}: {body}");
            assert_eq!((found[0].0.as_str(), found[0].1.clone()), ("MON-04", vec!["hecvat:HFIH-01=na".to_string()]), "{case}");
            assert_eq!(
                (found[1].0.as_str(), found[1].1.clone()),
                ("SYS-03", vec!["hecvat:CHNG-07=no".to_string(), "hecvat:PPPR-01=yes".to_string()]),
                "{case}"
            );
            assert_eq!(
                stored(&app, &token, &aid).await,
                [
                    answer("WISP-01", "yes", Some("Program approved by our board."), "hecvat:PPPR-08"),
                    answer("WISP-03", "no", None, "hecvat:COMP-04"),
                    answer("PROV-06", "yes", None, "hecvat:DOCU-03"),
                    answer("AUTH-02", "yes", Some("Single sign-on with a second factor."), "hecvat:AAAI-03"),
                    answer("ENC-01", "yes", Some("TLS 1.2 or later in transit."), "hecvat:DATA-02"),
                ],
                "{case}"
            );
            assert_eq!(
                evidence(&app, &token, &aid).await,
                [(format!("hecvat-upload.{extension}"), content_type(extension).to_string())],
                "{case}"
            );
            app.stop().await;
        }
    }
);

/// Our workbook as Excel saves it "macro-enabled": the main part's content type says so and a VBA project part
/// sits beside it (a stub here: nothing in this service reads or runs it).
fn as_xlsm(xlsx: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let text = match name.as_str() {
            "[Content_Types].xml" => text
                .replace(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                .replace(
                    "<Default Extension=\"xml\"",
                    "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/><Default Extension=\"xml\"",
                ),
            "xl/_rels/workbook.xml.rels" => text.replace(
                "</Relationships>",
                "<Relationship Id=\"rIdVba\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" \
                 Target=\"vbaProject.bin\"/></Relationships>",
            ),
            _ => text,
        };
        out.start_file(name, options).unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    out.start_file("xl/vbaProject.bin", options).unwrap();
    let mut vba = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    vba.resize(1024, 0);
    out.write_all(&vba).unwrap();
    out.finish().unwrap().into_inner()
}

both!(
    async fn our_workbook_saved_as_xlsm_is_read_for_its_values(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let put = |value: &str| json!({"answers": [{"question_id": "WISP-01", "value": value}]});
        app.save_answers(&token, &aid, &put("yes")).await.ok(200);
        let xlsm = as_xlsm(&download(&app, &token, &aid).await);
        app.save_answers(&token, &aid, &put("no")).await.ok(200);

        let resp = upload_as(&app, &token, &aid, "", content_type("xlsm"), xlsm).await;
        let body = resp.ok(200).clone();
        assert_eq!(strings(&body["changed"]), ["WISP-01"], "{body}");
        assert_eq!(stored(&app, &token, &aid).await, [answer("WISP-01", "yes", None, "workbook")]);
        assert_eq!(
            evidence(&app, &token, &aid).await,
            [("workbook-upload.xlsm".to_string(), content_type("xlsm").to_string())]
        );
        app.stop().await;
    }
);

both!(
    async fn a_file_named_xlsx_that_is_something_else_is_refused_by_its_content(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let mut docx = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        docx.start_file("[Content_Types].xml", options).unwrap();
        docx.write_all(b"<Types/>").unwrap();
        docx.start_file("word/document.xml", options).unwrap();
        docx.write_all(b"<w:document/>").unwrap();
        let docx = docx.finish().unwrap().into_inner();
        let cases: [(&str, Vec<u8>, &str); 3] = [
            ("a Word document", docx, "Word document"),
            ("a PDF", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec(), "PDF document"),
            ("a CSV export", b"Question ID,Answer\nIAM-02.1,Yes\n".to_vec(), "plain text"),
        ];
        for (what, bytes, named) in cases {
            for query in ["", "?format=caiq-v4"] {
                let resp = upload_as(&app, &token, &aid, query, content_type("xlsx"), bytes.clone()).await;
                let problem = resp.problem(415, "unsupported_file");
                let detail = problem["detail"].as_str().unwrap();
                assert!(detail.contains(named), "{what}{query}: {detail}");
                assert!(detail.contains("xlsx, xlsm, xls or ods"), "says what to send instead: {detail}");
            }
        }
        assert!(stored(&app, &token, &aid).await.is_empty());
        assert!(evidence(&app, &token, &aid).await.is_empty());
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------------------------------
// The generic mapping, on a real file: cloud.gov's FedRAMP Control Implementation Summary worksheet.

fn cis_worksheet() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/cloud.gov-CIS-Worksheet.xlsx"
    );
    std::fs::read(path).unwrap_or_else(|error| {
        panic!(
            "{path} cannot be read ({error}); the real fixtures live in shared/fixtures/real/ beside the checkout \
             (see its README)"
        )
    })
}

/// `?format=mapped&...`, encoded.
fn mapped(params: &[(&str, &str)]) -> String {
    let url =
        reqwest::Url::parse_with_params("http://x/", [("format", "mapped")].iter().chain(params))
            .unwrap();
    format!("?{}", url.query().unwrap())
}

/// The IDs in column A of `sheet`, below 1-based `header_row`, whose column `answer` (0-based) holds one of
/// `words`: what a mapping of that column should report, read here straight from the cells.
fn answered_ids(
    bytes: &[u8],
    sheet: &str,
    header_row: u32,
    answer: usize,
    words: &[&str],
) -> Vec<String> {
    let book = procurement_review::sheets::Workbook::open(bytes).unwrap();
    let (_, range) = book.sheet(sheet).unwrap();
    let (row0, _) = range.start().unwrap();
    range
        .rows()
        .enumerate()
        .filter(|(i, _)| row0 + *i as u32 >= header_row)
        .filter_map(|(_, row)| {
            let id = procurement_review::sheets::cell_text(row.first()?);
            let said = procurement_review::sheets::cell_text(row.get(answer)?);
            (!id.is_empty() && words.iter().any(|w| w.eq_ignore_ascii_case(&said))).then_some(id)
        })
        .collect()
}

both!(
    async fn the_real_fedramp_cis_worksheet_maps_by_hand_and_reports_every_control_it_cannot_place(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let bytes = cis_worksheet();

        // Without its settings the mapped format names each one missing.
        let resp = upload_as(&app, &token, &aid, "?format=mapped", content_type("xlsx"), bytes.clone()).await;
        resp.problem(422, "validation_failed");
        let mut fields = resp.fields();
        fields.sort();
        assert_eq!(fields, ["answer_column", "header_row", "id_column", "sheet"]);

        // "CIS Worksheet": an X under Implemented (column B) is a Yes. Its IDs are NIST SP 800-53 controls such as
        // "AC-02 (a)", which no question of the 201 CMR 17.00 questionnaire crosswalks to: every one comes back
        // as unmapped for the analyst, none is dropped, and nothing is stored as an answer.
        let implemented = answered_ids(&bytes, "CIS Worksheet", 3, 1, &["X"]);
        assert_eq!(implemented.len(), 588);
        assert_eq!(implemented[0], "AC-01 (a)");
        let query = mapped(&[
            ("sheet", "CIS Worksheet"),
            ("header_row", "3"),
            ("id_column", "A"),
            ("answer_column", "B"),
            ("answer_words", "X=yes"),
        ]);
        let resp = upload_as(&app, &token, &aid, &query, content_type("xlsx"), bytes.clone()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "mapped");
        assert_eq!(strings(&body["unmapped"]), implemented);
        for empty in ["added", "changed", "kept_direct", "conflicts", "not_asked"] {
            assert_eq!(body[empty], json!([]), "{empty}");
        }
        assert_eq!(body["unchanged"], 0);
        assert!(stored(&app, &token, &aid).await.is_empty());
        assert_eq!(evidence(&app, &token, &aid).await, [("mapped-upload.xlsx".to_string(), content_type("xlsx").to_string())]);

        // "PaaS CRM": Yes / Partial / No with an explanation beside each, mapped with its comment column.
        let crm = answered_ids(&bytes, "PaaS CRM", 3, 1, &["Yes", "Partial", "No"]);
        assert_eq!(crm.len(), 616);
        let query = mapped(&[
            ("sheet", "paas crm"),
            ("header_row", "3"),
            ("id_column", "a"),
            ("answer_column", "B"),
            ("comment_column", "C"),
            ("answer_words", "Yes=yes,Partial=no,No=no"),
        ]);
        let resp = upload_as(&app, &token, &aid, &query, content_type("xlsx"), bytes.clone()).await;
        let body = resp.ok(200).clone();
        assert_eq!(strings(&body["unmapped"]), crm);
        assert_eq!(body["added"], json!([]));
        assert!(stored(&app, &token, &aid).await.is_empty());
        let version = body["version"].as_i64().expect("the new version");

        // A mapping that leaves the file's words unexplained is refused whole, naming every cell: the N/A column
        // (F) holds X marks, which "Implemented" does not describe.
        let not_applicable = answered_ids(&bytes, "CIS Worksheet", 3, 5, &["X"]);
        assert_eq!(not_applicable.len(), 31);
        let query = mapped(&[
            ("sheet", "CIS Worksheet"),
            ("header_row", "3"),
            ("id_column", "A"),
            ("answer_column", "F"),
            ("answer_words", "Implemented=na"),
        ]);
        let resp = upload_as(&app, &token, &aid, &query, content_type("xlsx"), bytes).await;
        resp.problem(422, "validation_failed");
        let fields = resp.fields();
        assert_eq!(fields.len(), not_applicable.len());
        assert!(fields.iter().all(|f| f.starts_with("'CIS Worksheet'!F")), "{fields:?}");
        assert_eq!(resp.body["errors"][0]["message"], "\"X\" is not one of the mapped answers: Implemented");
        assert_eq!(evidence(&app, &token, &aid).await.len(), 2, "the refused upload kept nothing");
        let after = app
            .get(&format!("/api/v1/assessments/{aid}"), &token)
            .await
            .ok(200)
            .clone();
        assert_eq!(after["assessment"]["version"].as_i64(), Some(version), "nor changed the version");
        app.stop().await;
    }
);
