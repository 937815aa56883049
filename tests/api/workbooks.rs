use std::collections::BTreeMap;

use procurement_review::auth::Role;
use procurement_review::domain::crosswalk::registry;
use procurement_review::domain::questionnaires::Template;
use procurement_review::sheets::workbook;
use serde_json::{Value, json};

use crate::both;
use crate::fixtures;
use crate::helpers::{Resp, TestApp};

/// A vendor with an open 201 CMR 17.00 assessment and its invitation token.
pub async fn setup(app: &TestApp) -> (String, String, Value) {
    app.post(
        "/api/v1/departments",
        &app.token(Role::Admin),
        json!({"code": "DOIT", "name": "DoIT"}),
    )
    .await
    .ok(201);
    let vendor = app.create_vendor("Sheets Inc").await;
    let buyer = app.buyer_token("DOIT", "bea");
    let (request, _) = app.draft_and_submit(&buyer, json!({"title": "Benefits portal", "vendor_id": vendor["id"], "product_name": "Portal",
                   "capital_cost_cents": 0, "annual_operating_cost_cents": 1_000_000, "term_months": 12,
                   "expected_users": 30, "hosting": "vendor_cloud", "data_classes": ["pi_ma"],
                   "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false})).await;
    let invited = app
        .invite(
            &buyer,
            vendor["id"].as_str().unwrap(),
            json!({"request_id": request, "contact_email": "it@sheets.example"}),
        )
        .await;
    let token = invited.ok(201)["token"].as_str().unwrap().to_string();
    let assessment = assessment_of(app, &token, "ma-201-cmr-17").await;
    (
        token,
        assessment["id"].as_str().unwrap().to_string(),
        assessment,
    )
}

/// The vendor's assessment on `template`, as the assessment list shows it.
pub async fn assessment_of(app: &TestApp, token: &str, template: &str) -> Value {
    let list = app.get("/api/v1/assessments", token).await.ok(200).clone();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["template_id"] == template)
        .unwrap_or_else(|| panic!("no {template} assessment in {list}"))
        .clone()
}

/// Uploads a workbook as a vendor who has just read the assessment (its ETag as `If-Match`).
pub async fn upload(
    app: &TestApp,
    token: &str,
    assessment: &str,
    query: &str,
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
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(bytes)
        .send()
        .await
        .unwrap();
    TestApp::read(resp).await
}

pub async fn download(app: &TestApp, token: &str, assessment: &str) -> Vec<u8> {
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/assessments/{assessment}/workbook",
            app.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    resp.bytes().await.unwrap().to_vec()
}

/// A question's row on the Questions sheet, 1-based as spreadsheets count (`Questions!D{row}`).
pub fn question_row(t: &Template, id: &str) -> usize {
    t.questions().position(|q| q.id == id).unwrap() + 2
}

/// One question of an assessment's detail, with its answer.
pub fn answer_of<'a>(detail: &'a Value, id: &str) -> &'a Value {
    detail["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == id)
        .unwrap_or_else(|| panic!("no question {id}"))
}

/// A JSON list of strings, sorted.
pub fn sorted(list: &Value) -> Vec<String> {
    let mut items: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    items.sort();
    items
}

/// A prior answer to export: question, answer, comment, evidence reference.
type PriorRow<'a> = (&'a str, Option<Value>, Option<&'a str>, Option<&'a str>);

pub fn template(id: &str) -> Template {
    let path = format!("{}/questionnaires/{id}.toml", env!("CARGO_MANIFEST_DIR"));
    Template::from_toml(
        &format!("{id}.toml"),
        &std::fs::read_to_string(path).unwrap(),
    )
    .unwrap()
}

/// What our workbook for the assessment that [`setup`] made carries about it.
fn meta_of(aid: &str, assessment: &Value) -> workbook::WorkbookMeta {
    workbook::WorkbookMeta {
        assessment_id: aid.to_string(),
        template_id: "ma-201-cmr-17".into(),
        template_version: assessment["template_version"].as_str().unwrap().into(),
        vendor_name: "Sheets Inc".into(),
        due: None,
    }
}

fn first_yes_no(t: &Template) -> String {
    t.questions()
        .find(|q| q.kind.as_str() == "yes_no" && q.show_if.is_none())
        .unwrap()
        .id
        .clone()
}

both!(
    async fn the_workbook_round_trips_and_reports_what_changed(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let qid = first_yes_no(&t);
        let put = |value: &str| json!({"answers": [{"question_id": qid, "value": value, "comment": "from the API"}]});
        app.save_answers(&token, &aid, &put("yes"))
            .await
            .ok(200);
        let exported = download(&app, &token, &aid).await;

        // Unchanged: uploading what was downloaded changes nothing, so it stores nothing (no new version, no copy
        // of the file) and says so.
        let before = app.etag_of(&format!("/api/v1/assessments/{aid}"), &token).await;
        let same = upload(&app, &token, &aid, "", exported.clone()).await;
        let body = same.ok(200).clone();
        assert_eq!(body["format"], "own");
        assert_eq!(body["stored"], false, "{body}");
        assert_eq!(body["evidence_id"], Value::Null, "{body}");
        assert!(body["added"].as_array().unwrap().is_empty(), "{body}");
        assert!(body["changed"].as_array().unwrap().is_empty(), "{body}");
        assert_eq!(body["unchanged"], 1);
        assert_eq!(same.header("etag"), Some(before.as_str()), "the version is unchanged");
        assert_eq!(app.etag_of(&format!("/api/v1/assessments/{aid}"), &token).await, before);

        // The answer changes through the API; the workbook brings the exported value back.
        app.save_answers(&token, &aid, &put("no"))
            .await
            .ok(200);
        let restored = upload(&app, &token, &aid, "", exported).await;
        assert_eq!(restored.ok(200)["changed"], json!([qid]));
        assert_eq!(restored.body["stored"], true);
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        let answer = detail["questions"].as_array().unwrap().iter().find(|q| q["id"] == qid.as_str()).unwrap().clone();
        assert_eq!(answer["answer"], "yes");
        assert_eq!(answer["source"], "workbook");
        assert_eq!(detail["evidence"].as_array().unwrap().len(), 1, "the upload that changed something, kept as evidence");
        app.stop().await;
    }
);

both!(
    async fn evidence_references_are_kept_and_notes_without_an_answer_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, assessment) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let put = |body: Value| {
            let app = &app;
            let token = token.clone();
            let aid = aid.clone();
            async move { app.save_answers(&token, &aid, &body).await }
        };

        // Over the API: kept, trimmed, shown.
        put(json!({"answers": [{"question_id": "WISP-01", "value": "yes", "evidence_ref": " WISP, section 2 "}]}))
            .await
            .ok(200);
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        assert_eq!(answer_of(&detail, "WISP-01")["evidence_ref"], "WISP, section 2");
        let version = detail["version"].clone();

        // Notes that would be lost, or too long, are refused and change nothing. A note over its length is
        // refused by the schema, before the answers are read, so it is found in a round of its own.
        let resp = put(json!({"answers": [
            {"question_id": "WISP-01", "value": null, "comment": "we are rewriting it"},
            {"question_id": "WISP-03", "value": "yes", "evidence_ref": "x"},
        ]}))
        .await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["answers[0].comment"], "{}", resp.text);
        let resp = put(json!({"answers": [
            {"question_id": "WISP-03", "value": "yes", "evidence_ref": "x".repeat(1001)},
        ]}))
        .await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["answers[0].evidence_ref"], "{}", resp.text);
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        assert_eq!(detail["version"], version);
        assert_eq!(answer_of(&detail, "WISP-01")["answer"], "yes");

        // The workbook carries the reference out and back; a vendor's new one is stored.
        let exported = download(&app, &token, &aid).await;
        let row = question_row(&t, "WISP-01") - 1;
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(exported.clone())).unwrap();
        let sheet = calamine::Reader::worksheet_range(&mut book, "Questions").unwrap();
        assert_eq!(sheet.get_value((row as u32, 5)).unwrap().to_string(), "WISP, section 2");
        let same = upload(&app, &token, &aid, "", exported).await.ok(200).clone();
        assert_eq!(same["unchanged"], 1, "{same}");

        let meta = workbook::WorkbookMeta {
            assessment_id: aid.clone(),
            template_id: "ma-201-cmr-17".into(),
            template_version: assessment["template_version"].as_str().unwrap().into(),
            vendor_name: "Sheets Inc".into(),
            due: None,
        };
        let prior = |entries: &[PriorRow]| {
            entries
                .iter()
                .map(|(id, answer, comment, evidence)| {
                    (id.to_string(), workbook::PriorAnswer {
                        answer: answer.clone(),
                        comment: comment.map(str::to_string),
                        evidence_ref: evidence.map(str::to_string),
                    })
                })
                .collect::<BTreeMap<_, _>>()
        };
        let changed = workbook::export(&meta, &t, &prior(&[("WISP-01", Some(json!("yes")), None, Some("WISP v3, section 2"))])).unwrap();
        let body = upload(&app, &token, &aid, "", changed).await.ok(200).clone();
        assert_eq!(body["changed"], json!(["WISP-01"]), "a new reference is a change: {body}");
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        assert_eq!(answer_of(&detail, "WISP-01")["evidence_ref"], "WISP v3, section 2");
        let version = detail["version"].clone();

        // A comment beside a blank answer is refused by its cell, and nothing is stored.
        let evidence_before = app.count("SELECT COUNT(*) FROM evidence").await;
        let orphan = workbook::export(&meta, &t, &prior(&[
            ("WISP-01", Some(json!("yes")), None, Some("WISP v3, section 2")),
            ("WISP-03", None, Some("to follow"), None),
        ])).unwrap();
        let resp = upload(&app, &token, &aid, "", orphan).await;
        resp.problem(422, "validation_failed");
        let row = question_row(&t, "WISP-03");
        assert_eq!(resp.fields(), [format!("Questions!E{row}")], "{}", resp.text);
        assert!(resp.text.contains(&format!("the answer (Questions!D{row}) is blank")), "{}", resp.text);
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        assert_eq!(detail["version"], version);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, evidence_before);
        app.stop().await;
    }
);

both!(
    async fn a_bad_cell_or_a_workbook_for_another_assessment_is_refused_by_cell(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, assessment) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let qid = first_yes_no(&t);
        let meta = meta_of(&aid, &assessment);
        let mut prior = BTreeMap::new();
        prior.insert(qid.clone(), workbook::PriorAnswer { answer: Some(json!("Maybe")), comment: None, evidence_ref: None });
        let bad = workbook::export(&meta, &t, &prior).unwrap();
        let resp = upload(&app, &token, &aid, "", bad).await;
        resp.problem(422, "validation_failed");
        let problem = &resp.body["errors"][0];
        assert!(problem["field"].as_str().unwrap().starts_with("Questions!"), "{problem}");
        assert!(problem["message"].as_str().unwrap().contains("Maybe"), "{problem}");

        let other = workbook::WorkbookMeta { assessment_id: uuid::Uuid::new_v4().to_string(), ..meta };
        let foreign = workbook::export(&other, &t, &BTreeMap::new()).unwrap();
        let resp = upload(&app, &token, &aid, "", foreign).await;
        resp.problem(422, "validation_failed");
        assert!(resp.fields()[0].starts_with("_meta!"), "{}", resp.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_caiq_carries_answers_over_through_the_crosswalk_without_replacing_direct_ones(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let links = registry().crosswalk("caiq-v4").unwrap().for_template("ma-201-cmr-17").unwrap();
        let crosswalked: Vec<(String, String)> = t
            .questions()
            .filter(|q| q.show_if.is_none())
            .flat_map(|q| {
                links.get(&q.id).into_iter().flat_map(|l| l.same.iter().map(|c| (q.id.clone(), c.clone())))
            })
            .collect();
        assert!(crosswalked.len() >= 2, "the template crosswalks to CAIQ");
        let (direct_q, direct_caiq) = crosswalked[0].clone();
        app.save_answers(
            &token,
            &aid,
            &json!({"answers": [{"question_id": direct_q, "value": "no"}]}),
        )
        .await
        .ok(200);
        let mut rows: Vec<(String, &str, &str)> =
            crosswalked.iter().map(|(_, c)| (c.clone(), "Yes", "Implemented across the platform")).collect();
        rows.push(("ZZZ-99.9".into(), "Yes", "not in any crosswalk"));
        rows.dedup_by(|a, b| a.0 == b.0);
        let triples: Vec<(&str, &str, &str)> = rows.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
        let caiq = fixtures::caiq_v4(&triples);

        let resp = upload(&app, &token, &aid, "?format=caiq-v4", caiq.clone()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "caiq-v4");
        assert!(body["kept_direct"].as_array().unwrap().contains(&json!(direct_q)), "{body}");
        assert!(body["unmapped"].as_array().unwrap().contains(&json!("ZZZ-99.9")), "{body}");
        assert!(!body["added"].as_array().unwrap().is_empty(), "{body}");
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        let derived = detail["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["source"].as_str().is_some_and(|s| s.starts_with("caiq-v4:")))
            .expect("a derived answer marked with its source");
        assert_eq!(derived["answer"], "yes");
        let kept = detail["questions"].as_array().unwrap().iter().find(|q| q["id"] == direct_q.as_str()).unwrap().clone();
        assert_eq!(kept["answer"], "no");

        let forced = upload(&app, &token, &aid, "?format=caiq-v4&overwrite=true", caiq).await;
        assert!(forced.ok(200)["changed"].as_array().unwrap().contains(&json!(direct_q)));
        let _ = direct_caiq;
        app.stop().await;
    }
);

both!(
    async fn a_caiq_v3_1_is_read_by_its_own_ids_and_an_unsettled_caiq_v3_is_refused_by_name(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        // IDs CAIQ v3.1 kept from v3.0.1 for other questions (HRS-01.1, GRM-05.1) must not land where v3.0.1's did.
        let v3_1 = fixtures::caiq_v3_1(&[
            ("GRM-05.1", "yes", ""),
            ("HRS-01.1", "yes", ""),
            ("HRS-09.5", "yes", "All staff, every year."),
            ("SEF-02.1", "yes", ""),
            ("STA-05.10", "no", ""),
            ("STA-09.1", "no", ""),
        ]);
        let resp = upload(&app, &token, &aid, "?format=caiq", v3_1.clone()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "caiq-v3.1");
        assert!(
            body["detected_by"].as_str().unwrap().starts_with("sheet \"CAIQ v3.1\" names version 3.1"),
            "{body}"
        );
        assert_eq!(body["added"], json!(["WISP-06"]), "{body}");
        assert_eq!(body["unmapped"], json!(["GRM-05.1", "HRS-01.1"]), "{body}");
        let hints: Vec<(&str, &str, &str)> = body["hints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["question_id"].as_str().unwrap(), h["source"].as_str().unwrap(), h["answer"].as_str().unwrap()))
            .collect();
        assert_eq!(
            hints,
            [
                ("PROV-02", "caiq-v3.1:STA-09.1", "no"),
                ("MON-04", "caiq-v3.1:SEF-02.1", "yes"),
                ("CON-01", "caiq-v3.1:STA-05.10", "no"),
            ]
        );
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        let wisp_06 = detail["questions"].as_array().unwrap().iter().find(|q| q["id"] == "WISP-06").unwrap().clone();
        assert_eq!(
            (&wisp_06["answer"], &wisp_06["source"], &wisp_06["comment"]),
            (&json!("yes"), &json!("caiq-v3.1:HRS-09.5"), &json!("All staff, every year."))
        );

        // Sent as v3.0.1, it is named for what it is.
        let resp = upload(&app, &token, &aid, "?format=caiq-v3.0.1", v3_1).await;
        resp.problem(422, "format_mismatch");
        assert!(
            resp.body["detail"].as_str().unwrap().starts_with("format=caiq-v3.0.1 was asked, but the file is caiq-v3.1"),
            "{}",
            resp.text
        );

        // No version named, and only IDs both versions share: not guessed.
        let unsettled = fixtures::caiq_v3("Questionnaire", &[("AIS-01.1", "yes", ""), ("GRM-06.1", "no", "")]);
        let resp = upload(&app, &token, &aid, "?format=caiq", unsettled).await;
        resp.problem(422, "unsupported_format_version");
        let detail = resp.body["detail"].as_str().unwrap();
        assert!(detail.starts_with("the file is caiq-v3 (sheet \"CAIQ\" in the CAIQ v3 layout names no single version"), "{detail}");
        assert!(detail.contains("all of its 2 question IDs are in both CAIQ v3.0.1 and v3.1"), "{detail}");
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 1, "only the file that was read is kept");
        app.stop().await;
    }
);

both!(
    async fn hecvat_4_is_read_and_hecvat_3_is_refused_by_name(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let links = registry().crosswalk("hecvat-4").unwrap().for_template("ma-201-cmr-17").unwrap();
        let ids: Vec<String> = t
            .questions()
            .filter(|q| q.show_if.is_none())
            .flat_map(|q| links.get(&q.id).into_iter().flat_map(|l| l.same.clone()))
            .collect();
        assert!(!ids.is_empty(), "the template crosswalks to HECVAT 4");
        let triples: Vec<(&str, &str, &str)> = ids.iter().map(|i| (i.as_str(), "Yes", "See our HECVAT notes")).collect();

        let v3 = upload(&app, &token, &aid, "?format=hecvat", fixtures::hecvat_v3(&triples)).await;
        v3.problem(422, "unsupported_format_version");
        let detail = v3.body["detail"].as_str().unwrap();
        assert!(detail.starts_with("the file is hecvat-3 (sheet \"HECVAT - Full\""), "{detail}");
        assert!(detail.contains("no crosswalk for hecvat-3"), "{detail}");
        assert_eq!(v3.fields(), ["format"]);

        let resp = upload(&app, &token, &aid, "?format=hecvat", fixtures::hecvat_v4(&triples)).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "hecvat-4");
        assert!(body["detected_by"].as_str().unwrap().starts_with("HECVAT 4.1.4"), "{body}");
        assert_eq!(body["added"].as_array().unwrap().len(), ids.len(), "{body}");

        // Asking for version 3 and sending 4 is named.
        let resp = upload(&app, &token, &aid, "?format=hecvat-3", fixtures::hecvat_v4(&triples)).await;
        resp.problem(422, "format_mismatch");
        assert!(
            resp.body["detail"].as_str().unwrap().starts_with("format=hecvat-3 was asked, but the file is hecvat-4"),
            "{}",
            resp.text
        );
        app.stop().await;
    }
);

/// Built once per test process: deflating 120 MB takes a while in a debug build.
pub fn zip_bomb() -> &'static Vec<u8> {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        let mut bomb = Vec::new();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bomb));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        zip.start_file("[Content_Types].xml", options).unwrap();
        std::io::Write::write_all(&mut zip, b"<Types/>").unwrap();
        zip.start_file("xl/workbook.xml", options).unwrap();
        std::io::Write::write_all(&mut zip, b"<workbook/>").unwrap();
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..120 {
            std::io::Write::write_all(&mut zip, &spaces).unwrap();
        }
        zip.finish().unwrap();
        bomb
    })
}

both!(
    async fn unsafe_uploads_are_refused_and_store_nothing(backend) {
        let app = TestApp::spawn_with(backend, |c| c.max_upload_bytes = 10_000_000).await;
        let (token, aid, _) = setup(&app).await;
        let png = upload(&app, &token, &aid, "", b"\x89PNG\r\n\x1a\n0000".to_vec()).await;
        png.problem(415, "unsupported_file");

        // A zip bomb: a small archive that unpacks past the 100 MB limit.
        let bomb = zip_bomb().clone();
        assert!(bomb.len() < 2_000_000, "the bomb itself is small: {}", bomb.len());
        let resp = upload(&app, &token, &aid, "", bomb).await;
        resp.problem(413, "too_large_uncompressed");

        // 10 MB + 1: refused on its declared length, before a byte of the body is read (a client still sending
        // would see the connection close, so only the head is sent here).
        let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
        let head = format!(
            "POST /api/v1/assessments/{aid}/workbook HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\
             Content-Length: 10000001\r\nConnection: close\r\n\r\n"
        );
        tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes()).await.unwrap();
        let mut answer = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("body_too_large"), "{answer}");
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, 0);
        app.stop().await;
    }
);

both!(
    async fn an_upload_while_every_import_slot_is_taken_is_refused_as_busy_and_stores_nothing(backend) {
        let app = TestApp::spawn_with(backend, |c| {
            c.max_concurrent_imports = 1;
            c.import_wait_ms = 100;
        })
        .await;
        let (token, aid, assessment) = setup(&app).await;
        let t = template("ma-201-cmr-17");
        let qid = first_yes_no(&t);
        let meta = meta_of(&aid, &assessment);
        let mut prior = BTreeMap::new();
        prior.insert(qid.clone(), workbook::PriorAnswer { answer: Some(json!("yes")), comment: None, evidence_ref: None });
        let filled = workbook::export(&meta, &t, &prior).unwrap();
        let before = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();

        // The test holds the only slot, as a long import would.
        let held = app.import_slots.take().await.expect("the only slot is free");
        let busy = upload(&app, &token, &aid, "", filled.clone()).await;
        busy.problem(503, "imports_busy");
        assert_eq!(busy.header("retry-after"), Some("30"), "{:?}", busy.headers);
        let detail = busy.body["detail"].as_str().unwrap();
        assert!(detail.contains("nothing was stored") && detail.contains("send the same file again"), "{detail}");
        let after = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        assert_eq!(after, before);
        assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 0);

        // Once the slot is free, the same file is read and stored.
        drop(held);
        let done = upload(&app, &token, &aid, "", filled).await;
        let body = done.ok(200).clone();
        assert_eq!(body["added"], json!([qid]), "{body}");
        assert_eq!(body["version"], before["assessment"]["version"].as_i64().unwrap() + 1, "{body}");
        let answered = app.get(&format!("/api/v1/assessments/{aid}"), &token).await.ok(200).clone();
        let question = answered["questions"].as_array().unwrap().iter().find(|q| q["id"] == qid.as_str()).unwrap();
        assert_eq!(question["answer"], "yes");
        app.stop().await;
    }
);

both!(
    async fn registers_are_typed_scoped_and_neutralised(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        for code in ["DOIT", "PARKS"] {
            app.post("/api/v1/departments", &admin, json!({"code": code, "name": code})).await.ok(201);
        }
        let vendor = app.create_vendor("Register Co").await;
        for (code, title) in [("DOIT", "=HYPERLINK(\"http://evil.example\")"), ("PARKS", "Tree inventory")] {
            app.post(
                "/api/v1/requests",
                &app.buyer_token(code, "b"),
                json!({"title": title, "vendor_id": vendor["id"], "product_name": "X", "capital_cost_cents": 123_456,
                       "annual_operating_cost_cents": 0, "term_months": 12, "expected_users": 1,
                       "hosting": "on_premises", "data_classes": ["public"], "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false}),
            )
            .await
            .ok(201);
        }
        let fetch = |token: String| {
            let client = app.client.clone();
            let url = format!("{}/api/v1/reports/requests.xlsx", app.base);
            async move { client.get(url).bearer_auth(token).send().await.unwrap() }
        };
        let resp = fetch(app.buyer_token("DOIT", "b")).await;
        assert_eq!(resp.status(), 200);
        let bytes = resp.bytes().await.unwrap().to_vec();
        let book = procurement_review::sheets::Workbook::read(&bytes).unwrap();
        let (_, range) = book.sheet("Requests").unwrap();
        assert_eq!(range.height(), 2, "the buyer sees their department's request only");
        assert_eq!(
            range.get_value((1, 0)),
            Some(&calamine::Data::String("'=HYPERLINK(\"http://evil.example\")".into()))
        );
        assert_eq!(range.get_value((1, 6)), Some(&calamine::Data::Float(1234.56)), "money as a number");
        assert!(matches!(range.get_value((1, 13)), Some(calamine::Data::DateTime(_))), "dates as dates");

        assert_eq!(range.get_value((1, 2)), Some(&calamine::Data::String("Register Co".into())), "the vendor's name");
        assert_eq!(range.get_value((1, 4)), Some(&calamine::Data::String("draft".into())));

        // Everyone's, newest first (the list's order); a filter narrows the register as it does the list, and a
        // buyer asking another department's gets the header alone.
        let all = fetch(app.token(Role::Auditor)).await.bytes().await.unwrap().to_vec();
        let book = procurement_review::sheets::Workbook::read(&all).unwrap();
        let (_, range) = book.sheet("Requests").unwrap();
        assert_eq!(range.height(), 3);
        assert_eq!(range.get_value((1, 0)), Some(&calamine::Data::String("Tree inventory".into())));
        let listed = app.get("/api/v1/requests", &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(listed["items"][0]["fields"]["title"], "Tree inventory", "the list's order: {listed}");
        let filtered = |query: &'static str, token: String| {
            let client = app.client.clone();
            let url = format!("{}/api/v1/reports/requests.xlsx?{query}", app.base);
            async move {
                let resp = client.get(url).bearer_auth(token).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                let bytes = resp.bytes().await.unwrap().to_vec();
                let book = procurement_review::sheets::Workbook::read(&bytes).unwrap();
                let (_, range) = book.sheet("Requests").unwrap();
                (1..range.height())
                    .map(|r| range.get_value((r as u32, 1)).unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(filtered("department=parks", app.token(Role::Auditor)).await, ["PARKS"]);
        assert_eq!(filtered("q=tree", app.token(Role::Auditor)).await, ["PARKS"]);
        assert_eq!(filtered("status=submitted", app.token(Role::Auditor)).await, Vec::<String>::new());
        assert_eq!(filtered("department=PARKS", app.buyer_token("DOIT", "b")).await, Vec::<String>::new());
        for path in ["vendors.xlsx", "findings.xlsx", "catalog.xlsx"] {
            let resp = app.client.get(format!("{}/api/v1/reports/{path}", app.base)).bearer_auth(&admin).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
        }
        let vendor_token = app.vendor_token(uuid::Uuid::new_v4());
        let resp = app.client.get(format!("{}/api/v1/reports/requests.xlsx", app.base)).bearer_auth(vendor_token).send().await.unwrap();
        assert_eq!(resp.status(), 403);
        app.stop().await;
    }
);
