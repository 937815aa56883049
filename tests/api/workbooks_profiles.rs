//! Saved import profiles, and the mapped layouts they hold: a SIG-like sheet with free-text answers and answer
//! words holding commas, vendors uploading with `profile=NAME`.

use poem::http::Method;
use procurement_review::auth::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::TestApp;
use crate::workbooks::setup;

/// A questionnaire exported from a third-party tool: IDs (ours), answers in words, some of them free text.
fn sig_like() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Responses").unwrap();
    sheet
        .write_string(0, 0, "Vendor questionnaire (synthetic)")
        .unwrap();
    for (col, header) in ["Ques Num", "Question", "Response", "Comments"]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, col as u16, *header).unwrap();
    }
    let rows = [
        (
            "WISP-01",
            "Yes, with exceptions",
            "The program skips the warehouse.",
        ),
        ("AUTH-02", "Yes", ""),
        ("ENC-03", "Not Applicable", "No laptops."),
        (
            "WISP-03",
            "See our attached security policy, section 2.",
            "",
        ),
        ("PROV-01", "Yes", ""),
        ("PROV-02", "Yes", "Assessed before contract."),
    ];
    for (i, (id, answer, comment)) in rows.iter().enumerate() {
        let row = 2 + i as u32;
        sheet.write_string(row, 0, *id).unwrap();
        sheet.write_string(row, 1, "Made-up question?").unwrap();
        sheet.write_string(row, 2, *answer).unwrap();
        if !comment.is_empty() {
            sheet.write_string(row, 3, *comment).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn profile_body(name: &str) -> Value {
    json!({
        "name": name,
        "mapping": {
            "sheet": "Responses",
            "header_row": 2,
            "id_column": "a",
            "answer_column": "C",
            "comment_column": "D",
            "answer_words": {"Yes": "yes", "No": "no", "Yes, with exceptions": "no", "Not Applicable": "na"}
        }
    })
}

async fn upload(
    app: &TestApp,
    token: &str,
    aid: &str,
    query: &str,
    bytes: Vec<u8>,
) -> crate::helpers::Resp {
    let etag = app
        .etag_of(&format!("/api/v1/assessments/{aid}"), token)
        .await;
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/assessments/{aid}/workbook{query}",
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

both!(
    async fn an_analyst_saves_a_profile_and_a_vendor_uploads_with_it(backend) {
        let app = TestApp::spawn(backend).await;
        let (vendor, aid, _) = setup(&app).await;
        let analyst = app.token(Role::SecurityAnalyst);

        // Vendors may not save one; a mapping's own mistakes are named by their path.
        app.post("/api/v1/import-profiles", &vendor, profile_body("SIG Core 2025")).await.problem(403, "forbidden");
        let mut bad = profile_body("Bad");
        bad["mapping"]["header_row"] = json!(0);
        bad["mapping"]["yes_column"] = json!("B");
        bad["mapping"]["answer_words"]["Maybe"] = json!("sometimes");
        let resp = app.post("/api/v1/import-profiles", &analyst, bad).await;
        resp.problem(422, "validation_failed");
        assert_eq!(
            resp.fields(),
            ["mapping.answer_column", "mapping.answer_words.Maybe", "mapping.header_row"]
        );

        let created = app.post("/api/v1/import-profiles", &analyst, profile_body("SIG Core 2025")).await;
        let profile = created.ok(201).clone();
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(created.header("location"), Some("/api/v1/import-profiles/SIG%20Core%202025"));
        assert_eq!(profile["mapping"]["id_column"], "A", "column letters are kept upper-case");
        app.post("/api/v1/import-profiles", &analyst, profile_body("sig  core 2025"))
            .await
            .problem(409, "duplicate_profile");
        let listed = app.get("/api/v1/import-profiles", &vendor).await.ok(200).clone();
        assert_eq!(listed[0]["name"], "SIG Core 2025", "vendors read them");

        // The vendor uploads by name: free text is skipped and counted, a word with a comma means what the profile
        // says, and PROV-02, asked only after PROV-01, is kept because the same file answers PROV-01.
        let resp = upload(&app, &vendor, &aid, "?profile=sig%20core%202025", sig_like()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "mapped");
        assert!(body["detected_by"].as_str().unwrap().starts_with("profile \"SIG Core 2025\""), "{body}");
        let mut added: Vec<&str> = body["added"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        added.sort();
        assert_eq!(added, ["AUTH-02", "ENC-03", "PROV-01", "PROV-02", "WISP-01"]);
        assert_eq!(body["not_asked"], json!([]));
        assert_eq!(body["not_a_choice"], 1);
        assert_eq!(
            body["not_a_choice_cells"],
            json!([{"cell": "Responses!C6", "text": "See our attached security policy, section 2."}])
        );
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &vendor).await.ok(200).clone();
        let answer = |id: &str| {
            detail["questions"].as_array().unwrap().iter().find(|q| q["id"] == id).unwrap().clone()
        };
        assert_eq!(answer("WISP-01")["answer"], "no");
        assert_eq!(answer("WISP-01")["source"], "mapped:WISP-01");
        assert_eq!(answer("PROV-02")["answer"], "yes");

        // The same file again changes nothing: nothing stored.
        let again = upload(&app, &vendor, &aid, "?profile=SIG%20Core%202025", sig_like()).await;
        assert_eq!(again.ok(200)["stored"], false);

        // A profile with settings beside it, or one that does not exist, is named.
        let resp = upload(&app, &vendor, &aid, "?profile=SIG%20Core%202025&format=caiq&sheet=X", sig_like()).await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["profile", "sheet"]);
        let resp = upload(&app, &vendor, &aid, "?profile=VSA", sig_like()).await;
        resp.problem(422, "validation_failed");
        assert_eq!(
            resp.body["errors"][0]["message"],
            "no import profile is named \"VSA\"; saved profiles are \"SIG Core 2025\""
        );

        // Renamed and deleted with If-Match, audited.
        let path = "/api/v1/import-profiles/sig%20core%202025";
        app.put(path, &analyst, profile_body("SIG Core 2026"), None).await.problem(428, "precondition_required");
        let renamed = app.put(path, &analyst, profile_body("SIG Core 2026"), Some("\"1\"")).await;
        assert_eq!(renamed.ok(200)["version"], 2);
        app.call_if_match(Method::DELETE, "/api/v1/import-profiles/SIG%20Core%202026", &analyst, None, "\"1\"")
            .await
            .problem(412, "stale_etag");
        let deleted = app
            .call_if_match(Method::DELETE, "/api/v1/import-profiles/SIG%20Core%202026", &analyst, None, "\"2\"")
            .await;
        assert_eq!(deleted.status, 204, "{}", deleted.text);
        app.get("/api/v1/import-profiles/SIG%20Core%202026", &vendor).await.problem(404, "not_found");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'import_profile.%'").await,
            3
        );
        app.stop().await;
    }
);

both!(
    async fn parameters_and_formats_are_named_as_the_client_wrote_them(backend) {
        let app = TestApp::spawn(backend).await;
        let (vendor, aid, _) = setup(&app).await;
        let resp = upload(&app, &vendor, &aid, "?format=caiq-v5", sig_like()).await;
        assert_eq!(resp.status, 400, "{}", resp.text);
        assert!(!resp.text.contains("optional_"), "{}", resp.text);
        assert_eq!(resp.fields(), ["format"]);

        let resp = upload(
            &app,
            &vendor,
            &aid,
            "?format=mapped&sheet=Responses&header_row=2&id_column=1A&answer_column=C&answer_words=Yes%3Dyes%2CNo",
            sig_like(),
        )
        .await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["answer_words"]);
        let resp = upload(
            &app,
            &vendor,
            &aid,
            "?format=mapped&sheet=Responses&header_row=2&id_column=1A&answer_column=C",
            sig_like(),
        )
        .await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["id_column"], "named as the query names it, not mapping.id_column");

        // Answer words with a comma, escaped in the query.
        let resp = upload(
            &app,
            &vendor,
            &aid,
            "?format=mapped&sheet=Responses&header_row=2&id_column=A&answer_column=C&answer_words=Yes%5C%2C%20with%20exceptions%3Dno",
            sig_like(),
        )
        .await;
        let body = resp.ok(200).clone();
        assert_eq!(body["added"], json!(["WISP-01"]));
        assert_eq!(body["not_a_choice"], 5, "every other answer is not one of the words given");
        app.stop().await;
    }
);

both!(
    async fn google_vsaq_answers_carry_over_through_their_crosswalk(backend) {
        let app = TestApp::spawn(backend).await;
        let (vendor, aid, _) = setup(&app).await;
        let answers = json!({
            "secprog": "secprog_yes",
            "secprog_team": "secprog_team_yes",
            "secprog_peopleops_leaver": "secprog_peopleops_leaver_no",
            "clients_laptops_hd_encrypted": "clients_laptops_hd_encrypted_yes",
            "dc_outage": "dc_outage_partly",
            "application_name": "Benefits portal"
        });
        let send = |body: Vec<u8>| {
            let app = &app;
            let vendor = vendor.clone();
            let aid = aid.clone();
            async move {
                let etag = app.etag_of(&format!("/api/v1/assessments/{aid}"), &vendor).await;
                let resp = app
                    .client
                    .post(format!("{}/api/v1/assessments/{aid}/vsaq", app.base))
                    .bearer_auth(&vendor)
                    .header("If-Match", etag)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                TestApp::read(resp).await
            }
        };
        let resp = send(answers.to_string().into_bytes()).await;
        let body = resp.ok(200).clone();
        assert_eq!(body["format"], "vsaq");
        let mut added: Vec<&str> = body["added"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        added.sort();
        assert_eq!(added, ["ENC-03", "WISP-03", "WISP-11"]);
        assert_eq!(body["hints"][0]["source"], "vsaq:secprog");
        assert_eq!(body["not_a_choice"], 1);
        let detail = app.get(&format!("/api/v1/assessments/{aid}"), &vendor).await.ok(200).clone();
        let evidence = detail["evidence"].as_array().unwrap();
        assert_eq!(evidence[0]["file_name"], "vsaq-answers.json");

        let resp = send(b"[1]".to_vec()).await;
        assert!(resp.status == 400 || resp.status == 422, "{}", resp.text);
        app.stop().await;
    }
);
