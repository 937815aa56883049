//! A vendor's CAIQ v4 or HECVAT uploaded as xls or ods as well as xlsx, our workbook saved as xlsm, and files
//! named .xlsx that are something else.
//!
//! The xls and ods files under `tests/fixtures/` are LibreOffice conversions of the synthetic workbooks that
//! `tests/support/sheet_fixtures.rs` makes from the rows below (see `tests/fixtures/README.md`); each format must
//! carry over the same answers as the xlsx it was made from.

use std::io::{Read, Write};

use serde_json::{Value, json};

use crate::both;
use crate::fixtures;
use crate::helpers::{Resp, TestApp};
use crate::workbooks::{assessment_of, download, setup, sorted};

/// A CAIQ v4 against the 201 CMR 17.00 questionnaire's crosswalk: answers that carry over (an N/A where the
/// question allows it), answers to related questions (one with `&` in its ID, an N/A, two that disagree), and IDs
/// no question maps to (one sharing a merged control cell with a mapped one).
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
/// (`APPL-12a`), a blank answer, and one that carries over to a question asked only after another (PROV-02, after
/// PROV-01). In the version 4 layout the PPPR block's second row is hidden, and CHNG, DOCU and HLDA sit on the
/// hidden tab.
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
            assert_eq!(strings(&body["added"]), ["AUTH-02", "ENC-03", "WISP-01"], "{extension}: {body}");
            assert_eq!(body["changed"], json!([]), "{extension}");
            assert_eq!(body["kept_direct"], json!([]), "{extension}");
            assert_eq!(strings(&body["unmapped"]), ["CCC-01.1", "DSP-07.1", "IAM-02.2"], "{extension}");
            assert_eq!(body["not_asked"], json!([]), "{extension}");
            assert_eq!(body["conflicts"], json!([]), "{extension}: related answers never conflict");
            let hints: Vec<(String, String, String)> = body["hints"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    let text = |k: &str| h[k].as_str().unwrap().to_string();
                    (text("question_id"), text("source"), text("answer"))
                })
                .collect();
            let hint = |q: &str, s: &str, a: &str| (q.to_string(), s.to_string(), a.to_string());
            assert_eq!(
                hints,
                [
                    hint("WISP-03", "caiq-v4:GRC-06.1", "no"),
                    hint("PROV-02", "caiq-v4:STA-14.1", "yes"),
                    hint("PROV-06", "caiq-v4:A&A-02.1", "yes"),
                    hint("ENC-01", "caiq-v4:CEK-03.1", "na"),
                    hint("SYS-04", "caiq-v4:TVM-02.1", "yes"),
                    hint("SYS-04", "caiq-v4:UEM-09.1", "no"),
                ],
                "{extension}"
            );

            assert_eq!(
                stored(&app, &token, &aid).await,
                [
                    answer("WISP-01", "yes", Some("The board approves the program each year."), "caiq-v4:GRC-05.1"),
                    answer("AUTH-02", "yes", None, "caiq-v4:IAM-02.1"),
                    answer("ENC-03", "na", Some("No laptop holds city data."), "caiq-v4:UEM-08.1"),
                ],
                "{extension}: in questionnaire order; related answers are not stored"
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
    async fn a_hecvat_4_as_xlsx_xls_or_ods_carries_over_the_same_answers_and_a_hecvat_3_is_refused(backend) {
        for (extension, bytes) in [
            ("xlsx", fixtures::hecvat_v3(HECVAT_ROWS)),
            ("xls", fixture("hecvat-3.xls")),
            ("ods", fixture("hecvat-3.ods")),
        ] {
            let app = TestApp::spawn(backend).await;
            let (token, aid, _) = setup(&app).await;
            let resp = upload_as(&app, &token, &aid, "?format=hecvat", content_type(extension), bytes).await;
            resp.problem(422, "unsupported_format_version");
            assert!(resp.body["detail"].as_str().unwrap().contains("(HECVAT 3 Full)"), "{}", resp.text);
            assert!(stored(&app, &token, &aid).await.is_empty());
            assert!(evidence(&app, &token, &aid).await.is_empty());
            app.stop().await;
        }
        let cases = [
            ("xlsx", fixtures::hecvat_v4(HECVAT_ROWS)),
            ("xls", fixture("hecvat-4.xls")),
            ("ods", fixture("hecvat-4.ods")),
        ];
        for (extension, bytes) in cases {
            let case = format!("HECVAT 4 as {extension}");
            let app = TestApp::spawn(backend).await;
            let (token, aid, _) = setup(&app).await;
            let resp = upload_as(&app, &token, &aid, "?format=hecvat", content_type(extension), bytes).await;
            let body = resp.ok(200).clone();
            assert_eq!(body["format"], "hecvat-4", "{case}");
            assert_eq!(strings(&body["added"]), ["ENC-01"], "{case}: {body}");
            assert_eq!(sorted(&body["unmapped"]), ["APPL-12a", "HLDA-07"], "{case}");
            assert_eq!(strings(&body["not_asked"]), ["PROV-02"], "{case}: THRD-01 maps to a question asked only after PROV-01 is Yes");
            assert_eq!(body["conflicts"], json!([]), "{case}");
            assert_eq!(
                hinted(&body),
                [
                    "AUTH-02<-hecvat-4:AAAI-03=yes",
                    "MON-04<-hecvat-4:HFIH-01=na",
                    "PROV-06<-hecvat-4:DOCU-03=yes",
                    "SYS-03<-hecvat-4:CHNG-07=no",
                    "SYS-03<-hecvat-4:PPPR-01=yes",
                    "WISP-01<-hecvat-4:PPPR-08=yes",
                    "WISP-03<-hecvat-4:COMP-04=no",
                ],
                "{case}"
            );
            assert_eq!(
                stored(&app, &token, &aid).await,
                [answer("ENC-01", "yes", Some("TLS 1.2 or later in transit."), "hecvat-4:DATA-02")],
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

/// A HECVAT Lite 3.06 whose IDs HECVAT 4 uses for other questions: HLDA-02 (in transit) beside HLDA-03 (at rest),
/// DOCU-02 (a completed CAIQ; HECVAT 4's disaster recovery plan), COMP-04 (development teams; HECVAT 4's security
/// office), COMP-06 (card data held; no PCI attestation in Lite).
const HECVAT_LITE_ROWS: &[(&str, &str, &str)] = &[
    ("COMP-03", "No", ""),
    ("COMP-04", "Yes", ""),
    ("COMP-06", "Yes", ""),
    ("DOCU-01", "Yes", ""),
    ("DOCU-02", "Yes", "CAIQ v4 attached."),
    ("DOCU-10", "No", ""),
    ("HLAA-01", "Yes", "SAML 2.0."),
    ("HLDA-02", "Yes", "Yes, TLS is required."),
    ("HLDA-03", "No", ""),
    ("HLNT-02", "Yes", ""),
    ("HLTP-01", "Yes", ""),
    ("HLTP-02", "Yes", ""),
];

fn hinted(body: &Value) -> Vec<String> {
    let mut hinted: Vec<String> = body["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}<-{}={}",
                h["question_id"].as_str().unwrap(),
                h["source"].as_str().unwrap(),
                h["answer"].as_str().unwrap()
            )
        })
        .collect();
    hinted.sort();
    hinted
}

both!(
    async fn a_hecvat_lite_3_is_read_by_its_own_ids_and_its_traps_land_right(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, ma, _) = setup(&app).await;
        let city = assessment_of(&app, &token, "city-baseline").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let xlsx = content_type("xlsx");
        let bytes = || fixtures::hecvat_lite_3("HECVAT - Lite | Version 3.06", HECVAT_LITE_ROWS);

        // Asked for HECVAT 4, a Lite 3 is refused naming both; nothing is stored.
        let resp = upload_as(&app, &token, &city, "?format=hecvat-4", xlsx, bytes()).await;
        resp.problem(422, "format_mismatch");
        let detail = resp.body["detail"].as_str().unwrap();
        assert!(detail.contains("hecvat-4") && detail.contains("hecvat-3-lite"), "{detail}");
        assert!(stored(&app, &token, &city).await.is_empty());

        let resp = upload_as(&app, &token, &city, "?format=hecvat-3-lite", xlsx, bytes()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "hecvat-3-lite");
        assert!(body["detected_by"].as_str().unwrap().contains("(HECVAT 3 Lite, version 3.06 named in the workbook)"), "{body}");
        assert_eq!(sorted(&body["added"]), ["ENC-02", "IAM-01", "SUB-01", "SUB-05"], "{body}");
        assert_eq!(sorted(&body["unmapped"]), ["COMP-03", "COMP-04", "COMP-06", "DOCU-02", "HLNT-02"]);
        assert_eq!(body["not_asked"], json!([]), "SUB-05 follows SUB-01, which the same file answers");
        assert_eq!(
            hinted(&body),
            [
                "ASR-01<-hecvat-3-lite:DOCU-01=yes",
                "BCK-06<-hecvat-3-lite:DOCU-10=no",
                "ENC-01<-hecvat-3-lite:HLDA-02=yes",
            ]
        );
        // The answer key: in transit is never at rest (ENC-02 is HLDA-03's No, ENC-01 only a hint), and Lite's
        // DOCU-02 never answers the disaster recovery plan.
        assert_eq!(
            stored(&app, &token, &city).await,
            [
                answer("IAM-01", "yes", Some("SAML 2.0."), "hecvat-3-lite:HLAA-01"),
                answer("ENC-02", "no", None, "hecvat-3-lite:HLDA-03"),
                answer("SUB-01", "yes", None, "hecvat-3-lite:HLTP-01"),
                answer("SUB-05", "yes", None, "hecvat-3-lite:HLTP-02"),
            ]
        );

        let resp = upload_as(&app, &token, &ma, "?format=hecvat", xlsx, bytes()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "hecvat-3-lite");
        assert_eq!(sorted(&body["added"]), ["ENC-01", "PROV-01", "PROV-02", "SYS-02"], "{body}");
        assert_eq!(
            hinted(&body),
            [
                "PROV-06<-hecvat-3-lite:DOCU-01=yes",
                "WISP-03<-hecvat-3-lite:COMP-03=no",
            ],
            "COMP-03 is Lite's security office; COMP-04 (development teams) gives no hint"
        );
        assert_eq!(
            stored(&app, &token, &ma).await,
            [
                answer("PROV-01", "yes", None, "hecvat-3-lite:HLTP-01"),
                answer("PROV-02", "yes", None, "hecvat-3-lite:HLTP-02"),
                answer("ENC-01", "yes", Some("Yes, TLS is required."), "hecvat-3-lite:HLDA-02"),
                answer("SYS-02", "yes", None, "hecvat-3-lite:HLNT-02"),
            ]
        );

        // A Lite naming another version reuses the HL IDs for other questions: refused by name, nothing stored.
        let resp = upload_as(
            &app,
            &token,
            &city,
            "?format=hecvat",
            xlsx,
            fixtures::hecvat_lite_3("HECVAT - Lite | Version 2.11", HECVAT_LITE_ROWS),
        )
        .await;
        resp.problem(422, "unsupported_format_version");
        let detail = resp.body["detail"].as_str().unwrap();
        assert!(detail.contains("the file is hecvat-lite") && detail.contains("2.11"), "{detail}");
        assert_eq!(stored(&app, &token, &city).await.len(), 4, "the earlier answers stand, nothing added");
        app.stop().await;
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
        assert_eq!(body["stored"], false, "nothing to store: no version, no copy of the file");
        assert!(stored(&app, &token, &aid).await.is_empty());
        assert!(evidence(&app, &token, &aid).await.is_empty());

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
        let version = body["version"].as_i64().expect("the version");

        // Words a mapping does not describe are not choices: skipped and counted, each cell listed, not errors
        // (SIG and VSA exports hold free-text answers). The N/A column (F) holds X marks, which "Implemented"
        // does not describe.
        let not_applicable = answered_ids(&bytes, "CIS Worksheet", 3, 5, &["X"]);
        assert_eq!(not_applicable.len(), 31);
        let query = mapped(&[
            ("sheet", "CIS Worksheet"),
            ("header_row", "3"),
            ("id_column", "A"),
            ("answer_column", "F"),
            ("answer_words", "Implemented=na"),
        ]);
        let resp = upload_as(&app, &token, &aid, &query, content_type("xlsx"), bytes.clone()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["not_a_choice"], 31);
        assert_eq!(body["not_a_choice_cells"][0], json!({"cell": "'CIS Worksheet'!F18", "text": "X"}));
        assert_eq!(body["stored"], false);
        assert!(evidence(&app, &token, &aid).await.is_empty(), "nothing stored, nothing kept");
        let after = app
            .get(&format!("/api/v1/assessments/{aid}"), &token)
            .await
            .ok(200)
            .clone();
        assert_eq!(after["assessment"]["version"].as_i64(), Some(version), "nor the version changed");

        // The same marks read as marks: an X under Implemented is a Yes, under Partially Implemented a No.
        let query = mapped(&[
            ("sheet", "CIS Worksheet"),
            ("header_row", "3"),
            ("id_column", "A"),
            ("yes_column", "B"),
            ("no_column", "C"),
        ]);
        let resp = upload_as(&app, &token, &aid, &query, content_type("xlsx"), bytes.clone()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["unmapped"].as_array().unwrap().len(), 589);

        // And the worksheet as what it is: a FedRAMP CIS in the NIST SP 800-53 Rev. 5 ID space.
        let resp = upload_as(&app, &token, &aid, "?format=nist-800-53", content_type("xlsx"), bytes).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "nist-800-53r5");
        assert_eq!(
            strings(&body["added"]),
            ["ACC-01", "ACC-02", "AUTH-01", "ENC-01", "ENC-03", "SYS-01", "SYS-03", "SYS-04", "WISP-06", "WISP-11"],
            "{body}"
        );
        assert_eq!(strings(&body["not_asked"]), ["PROV-03"], "asked only after PROV-01");
        app.stop().await;
    }
);
