use procurement_review::auth::Role;
use serde_json::{Value, json};

use crate::both;
use crate::catalog::{add_service, esign};
use crate::helpers::TestApp;

/// A small on-premises purchase of public data: nothing routes it but the duplicate check.
fn request(vendor: &Value, title: &str, product: &str, capabilities: &[&str]) -> Value {
    json!({
        "title": title, "description": "", "vendor_id": vendor["id"], "product_name": product,
        "category": "", "capabilities": capabilities, "capital_cost_cents": 0,
        "annual_operating_cost_cents": 500_000, "term_months": 12, "expected_users": 20,
        "hosting": "on_premises", "data_classes": ["public"], "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false
    })
}

async fn submitted(app: &TestApp, buyer: &str, body: Value) -> (String, Value) {
    app.draft_and_submit(buyer, body).await
}

fn step<'a>(route: &'a Value, kind: &str) -> Option<&'a Value> {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
}

both!(
    async fn a_product_name_that_is_a_catalogue_alias_puts_the_request_before_the_cio(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let service = add_service(&app, esign()).await;
        let vendor = app.create_vendor("DocuSign, Inc.").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, body) = submitted(&app, &buyer, request(&vendor, "DocuSign licences for permits", "DocuSign", &[])).await;
        assert_eq!(body["status"], "awaiting_decision");
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        let review = step(&route, "cio_duplicate_review").expect("a duplicate review step");
        let ground = &review["grounds"][0];
        assert_eq!(ground["citation"], "EO 2025 Art. 3");
        assert!(ground["reason"].as_str().unwrap().contains("Enterprise e-signature"), "{ground}");

        let report = app.get(&format!("/api/v1/requests/{id}/duplicates"), &app.token(Role::Cio)).await;
        let top = &report.ok(200)["candidates"][0];
        assert_eq!(top["kind"], "service");
        assert_eq!(top["id"], service["id"]);
        assert_eq!(top["class"], "likely_duplicate");
        assert!(top["score"].as_f64().unwrap() > 0.5);
        assert_eq!(top["evidence"]["alias_hit"], "DocuSign");
        assert_eq!(report.body["recorded"][0]["id"], service["id"]);

        // Denied as a duplicate, naming the service: the answer tells the buyer what to use instead.
        let cio = app.token(Role::Cio);
        let unnamed = app.transition(&format!("/api/v1/requests/{id}/decisions"), &cio, Some(&json!({"step": "cio_duplicate_review", "outcome": "deny", "reason_code": "duplicate_of_central_service",
                       "rationale": "The city already runs e-signature"})))
            .await;
        assert_eq!(unnamed.problem(422, "validation_failed")["errors"][0]["field"], "service_id");
        let denied = app.transition(&format!("/api/v1/requests/{id}/decisions"), &cio, Some(&json!({"step": "cio_duplicate_review", "outcome": "deny", "reason_code": "duplicate_of_central_service",
                       "rationale": "The city already runs e-signature", "service_id": service["id"]})))
            .await;
        let result = denied.ok(201);
        assert_eq!(result["request"]["status"], "denied");
        assert_eq!(result["decision"]["use_instead"]["name"], "Enterprise e-signature");
        assert!(result["decision"]["use_instead"]["access"].as_str().unwrap().contains("service desk"));
        let listed = app.get(&format!("/api/v1/requests/{id}/decisions"), &buyer).await;
        assert_eq!(listed.ok(200)["items"][0]["use_instead"]["service_id"], service["id"]);
        app.stop().await;
    }
);

both!(
    async fn a_paraphrased_request_matches_and_the_cio_can_dismiss_the_match(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        add_service(&app, esign()).await;
        let vendor = app.create_vendor("Inkwell Software").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, body) = submitted(
            &app,
            &buyer,
            request(&vendor, "Digital document signing for HR onboarding", "Inkwell Sign", &["electronic signature"]),
        )
        .await;
        assert_eq!(body["status"], "awaiting_decision");
        let report = app.get(&format!("/api/v1/requests/{id}/duplicates"), &buyer).await;
        let top = report.ok(200)["recorded"][0].clone();
        assert_eq!(top["class"], "likely_duplicate");

        let cio = app.token(Role::Cio);
        let no_reason = app.transition(&format!("/api/v1/requests/{id}/duplicates/dismissals"), &cio, Some(&json!({"candidate_kind": top["kind"], "candidate_id": top["id"], "reason": " "})))
            .await;
        assert_eq!(no_reason.problem(422, "validation_failed")["errors"][0]["field"], "reason");
        app.transition(&format!("/api/v1/requests/{id}/duplicates/dismissals"), &buyer, Some(&json!({"candidate_kind": top["kind"], "candidate_id": top["id"], "reason": "x"})))
        .await
        .problem(403, "forbidden");
        let dismissed = app.transition(&format!("/api/v1/requests/{id}/duplicates/dismissals"), &cio, Some(&json!({"candidate_kind": top["kind"], "candidate_id": top["id"],
                       "reason": "HR needs offline signing in the field, which the central service lacks"})))
            .await;
        assert_eq!(dismissed.ok(200)["status"], "approved", "nothing else was pending");
        let report = app.get(&format!("/api/v1/requests/{id}/duplicates"), &cio).await;
        assert!(report.ok(200)["recorded"][0]["dismissed"]["reason"].as_str().unwrap().contains("offline"));
        let trail = app.get(&format!("/api/v1/audit?object_id={id}&action=request.duplicate_dismissed"), &app.token(Role::Auditor)).await;
        assert_eq!(trail.ok(200)["page"]["total"], 1);
        app.stop().await;
    }
);

both!(
    async fn a_buyer_asks_for_an_exception_and_the_cio_grants_it(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        add_service(&app, esign()).await;
        let vendor = app.create_vendor("DocuSign, Inc.").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, _) = submitted(&app, &buyer, request(&vendor, "DocuSign for grants", "DocuSign", &[])).await;
        let asked = app.transition(&format!("/api/v1/requests/{id}/duplicates/exception"), &buyer, Some(&json!({"justification": "Our federal grantor requires its own signing audit trail"})))
            .await;
        assert_eq!(asked.ok(201)["status"], "requested");
        let twice = app.transition(&format!("/api/v1/requests/{id}/duplicates/exception"), &buyer, Some(&json!({"justification": "again"}))).await;
        twice.problem(409, "exception_exists");
        let other_dept = app.buyer_token("BPD", "x");
        app.transition(&format!("/api/v1/requests/{id}/duplicates/exception"), &other_dept, Some(&json!({"justification": "x"})))
            .await
            .problem(404, "not_found");

        let granted = app.transition(&format!("/api/v1/requests/{id}/duplicates/exception/decision"), &app.token(Role::Cio), Some(&json!({"grant": true, "reason": "Grant terms require it; revisit at renewal"})))
            .await;
        let body = granted.ok(200);
        assert_eq!(body["exception"]["status"], "granted");
        assert_eq!(body["request"]["status"], "approved");
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        assert_eq!(step(&route, "cio_duplicate_review").unwrap()["state"], "waived");
        let trail = app.get(&format!("/api/v1/audit?object_id={id}"), &app.token(Role::Auditor)).await;
        let actions: Vec<String> = trail.ok(200)["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_string()).collect();
        assert!(actions.contains(&"request.exception_requested".to_string()), "{actions:?}");
        assert!(actions.contains(&"request.exception_granted".to_string()), "{actions:?}");
        app.stop().await;
    }
);

both!(
    async fn another_departments_approved_purchase_is_a_candidate_and_generic_words_are_not(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("PARKS").await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Esri").await;
        let parks = app.buyer_token("PARKS", "pat");
        let (first, body) = submitted(&app, &parks, request(&vendor, "ArcGIS Online seats for tree inventory", "ArcGIS Online", &["web maps"])).await;
        assert_eq!(body["status"], "approved");
        let doit = app.buyer_token("DOIT", "bea");
        let draft = app
            .post("/api/v1/requests", &doit, request(&vendor, "ArcGIS Online licences for street maps", "ArcGIS Online", &["web maps"]))
            .await;
        let id = draft.ok(201)["id"].as_str().unwrap().to_string();
        let report = app.get(&format!("/api/v1/requests/{id}/duplicates"), &doit).await;
        let top = &report.ok(200)["candidates"][0];
        assert_eq!(top["kind"], "purchase");
        assert_eq!(top["id"], first.as_str());
        assert_eq!(top["evidence"]["same_vendor"], true);

        let other_vendor = app.create_vendor("Acme Cloud Co").await;
        let generic = app
            .post(
                "/api/v1/requests",
                &doit,
                request(&other_vendor, "Cloud platform management software solution", "Platform", &["management"]),
            )
            .await;
        let gid = generic.ok(201)["id"].as_str().unwrap().to_string();
        let report = app.get(&format!("/api/v1/requests/{gid}/duplicates"), &doit).await;
        let likely = report.ok(200)["candidates"].as_array().unwrap().iter().filter(|c| c["class"] == "likely_duplicate").count();
        assert_eq!(likely, 0, "{}", report.text);
        app.stop().await;
    }
);

both!(
    async fn the_index_built_at_start_holds_every_approved_purchase_whatever_its_page(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("PARKS").await;
        let vendor = app.create_vendor("Esri").await;
        let parks = app.buyer_token("PARKS", "pat");
        let mut approved = Vec::new();
        for n in 0..5 {
            let (id, body) = submitted(&app, &parks, request(&vendor, &format!("Licences batch {n}"), &format!("Product {n}"), &[])).await;
            assert_eq!(body["status"], "approved");
            approved.push(id);
        }
        // A draft is not a purchase the city made: it stays out of the index.
        app.post("/api/v1/requests", &parks, request(&vendor, "Draft only", "Product X", &[])).await.ok(201);
        let whole = procurement_review::detection::Detector::load(&app.store).await.unwrap().sizes();
        assert_eq!(whole.1, approved.len(), "the default page");
        // Pages of 1, 2 (the last one short) and 5 (the last one full, then an empty page): the same index.
        for page in [1, 2, 5] {
            let index = procurement_review::detection::Detector::load_paged(&app.store, page).await.unwrap();
            assert_eq!(index.sizes(), whole, "pages of {page}");
        }
        app.stop().await;
    }
);

fn service(name: &str, capabilities: &[&str], aliases: &[&str]) -> Value {
    json!({
        "name": name, "category": "Collaboration", "description": "",
        "capabilities": capabilities, "aliases": aliases,
        "owning_team": "DoIT", "access": "https://it.city.example/services"
    })
}

both!(
    async fn every_likely_duplicate_is_named_and_the_step_says_which_remain_after_a_dismissal(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let docusign = add_service(&app, esign()).await;
        let adobe = add_service(&app, service("Finance e-signature (Adobe Sign)", &["electronic signatures"], &["Adobe Sign"])).await;
        let gis = add_service(&app, service("Citywide GIS", &["web maps"], &["ArcGIS"])).await;
        let vendor = app.create_vendor("Inkwell Software").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, body) = submitted(
            &app,
            &buyer,
            request(&vendor, "Electronic signature tool for permits", "Inkwell Sign", &["electronic signatures"]),
        )
        .await;
        assert_eq!(body["status"], "awaiting_decision");
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        let reason = step(&route, "cio_duplicate_review").unwrap()["grounds"][0]["reason"].as_str().unwrap().to_string();
        assert!(reason.contains("Enterprise e-signature") && reason.contains("Finance e-signature (Adobe Sign)"), "{reason}");

        let cio = app.token(Role::Cio);
        let dismissed = app
            .transition(&format!("/api/v1/requests/{id}/duplicates/dismissals"), &cio, Some(&json!({"candidate_kind": "service", "candidate_id": adobe["id"], "reason": "Finance only"})))
            .await;
        assert_eq!(dismissed.ok(200)["status"], "awaiting_decision", "one likely duplicate still stands");
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        let review = step(&route, "cio_duplicate_review").unwrap();
        assert_eq!(review["state"], "pending");
        let note = review["note"].as_str().unwrap();
        assert!(note.contains("Finance e-signature (Adobe Sign) dismissed"), "{note}");
        assert!(note.contains("still standing: Enterprise e-signature"), "{note}");

        // Denying as a duplicate of a service the check never put forward needs an explicit confirmation.
        let deny = |service: &Value, confirm: Option<bool>| {
            let mut body = json!({"step": "cio_duplicate_review", "outcome": "deny", "reason_code": "duplicate_of_central_service",
                                  "rationale": "The city already runs this", "service_id": service["id"]});
            if let Some(confirm) = confirm {
                body["confirm_not_candidate"] = json!(confirm);
            }
            body
        };
        let path = format!("/api/v1/requests/{id}/decisions");
        let unconfirmed = app.transition(&path, &cio, Some(&deny(&gis, None))).await;
        let problem = unconfirmed.problem(422, "validation_failed").clone();
        assert_eq!(problem["errors"][0]["field"], "confirm_not_candidate");
        let report = app.get(&format!("/api/v1/requests/{id}"), &buyer).await;
        assert_eq!(report.ok(200)["status"], "awaiting_decision", "nothing changed");
        app.transition(&path, &cio, Some(&deny(&gis, Some(false)))).await.problem(422, "validation_failed");
        let confirmed = app.transition(&path, &cio, Some(&deny(&gis, Some(true)))).await;
        let result = confirmed.ok(201);
        assert_eq!(result["decision"]["use_instead"]["name"], "Citywide GIS");
        assert_eq!(result["decision"]["use_instead"]["owning_team"], "DoIT");
        let _ = docusign;
        app.stop().await;
    }
);

both!(
    async fn a_product_written_apart_or_abbreviated_is_recognised(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let desk = add_service(&app, service("IT service desk", &["help desk tickets"], &["ServiceNow"])).await;
        let m365 = add_service(&app, service("Microsoft 365", &["team chat", "email"], &["Microsoft Teams", "Outlook"])).await;
        let vendor = app.create_vendor("Reseller").await;
        let buyer = app.buyer_token("DOIT", "bea");
        for (title, product, expected) in [
            ("Service Now licences for the library", "Service Now", &desk),
            ("MS Teams phone licences", "MS Teams", &m365),
        ] {
            let draft = app.post("/api/v1/requests", &buyer, request(&vendor, title, product, &[])).await;
            let id = draft.ok(201)["id"].as_str().unwrap().to_string();
            let report = app.get(&format!("/api/v1/requests/{id}/duplicates"), &buyer).await;
            let top = &report.ok(200)["candidates"][0];
            assert_eq!(top["id"], expected["id"], "{title}: {}", report.text);
            assert_eq!(top["class"], "likely_duplicate", "{title}");
        }
        app.stop().await;
    }
);

both!(
    async fn the_cio_office_adds_vocabulary_and_the_check_uses_it_at_once(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let service = add_service(&app, service("Water quality program tracker", &["hydrant flushing schedules"], &[])).await;
        let vendor = app.create_vendor("Flowline").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let draft = app.post("/api/v1/requests", &buyer, request(&vendor, "UDF sequencing app", "Flowline UDF", &[])).await;
        let id = draft.ok(201)["id"].as_str().unwrap().to_string();
        let report = format!("/api/v1/requests/{id}/duplicates");
        let before = app.get(&report, &buyer).await;
        assert!(before.ok(200)["candidates"].as_array().unwrap().iter().all(|c| c["id"] != service["id"]), "{}", before.text);

        let path = "/api/v1/duplicates/vocabulary";
        let cio = app.token(Role::Cio);
        let entry = json!({"concept": "hydrant_flushing", "label": "hydrant flushing",
                           "phrases": ["hydrant flushing", "unidirectional flushing", "udf", "udf sequencing"]});
        app.post(path, &buyer, entry.clone()).await.problem(403, "forbidden");
        let unlabelled = app.post(path, &cio, json!({"concept": "hydrant_flushing", "phrases": ["udf"]})).await;
        assert_eq!(unlabelled.problem(422, "validation_failed")["errors"][0]["field"], "label");
        let both_kinds = app.post(path, &cio, json!({"concept": "esign", "phrases": ["x"], "abbreviation": "ds", "expansion": "docusign"})).await;
        assert_eq!(both_kinds.problem(422, "validation_failed")["errors"][0]["field"], "abbreviation");
        assert_eq!(app.count("SELECT COUNT(*) FROM duplicate_vocabulary").await, 0, "nothing stored on refusal");

        let created = app.post(path, &cio, entry).await.ok(201).clone();
        assert!(!created["created_by"].as_str().unwrap().is_empty());
        let after = app.get(&report, &buyer).await;
        let found = after.ok(200)["candidates"].as_array().unwrap().iter().find(|c| c["id"] == service["id"]).cloned();
        let found = found.unwrap_or_else(|| panic!("the new concept links the request to the service: {}", after.text));
        assert!(found["evidence"]["matched_terms"].as_array().unwrap().iter().any(|t| t == "hydrant flushing"), "{found}");

        let listed = app.get(path, &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(listed["entries"][0]["concept"], "hydrant_flushing");
        assert!(listed["concepts"].as_array().unwrap().iter().any(|c| c["id"] == "hydrant_flushing"));
        assert!(listed["concepts"].as_array().unwrap().iter().any(|c| c["id"] == "esign"), "the shipped lexicon is listed too");

        let abbreviation = app.post(path, &cio, json!({"abbreviation": "wq", "expansion": "water quality"})).await;
        abbreviation.ok(201);

        let entry_path = format!("{path}/{}", created["id"].as_str().unwrap());
        let delete = |token: String| {
            let app = &app;
            let entry_path = entry_path.clone();
            async move { app.call(reqwest::Method::DELETE, &entry_path, Some(&token), None, &[]).await }
        };
        delete(buyer.clone()).await.problem(403, "forbidden");
        assert_eq!(delete(cio.clone()).await.status.as_u16(), 204);
        delete(cio.clone()).await.problem(404, "not_found");
        let gone = app.get(&report, &buyer).await;
        assert!(gone.ok(200)["candidates"].as_array().unwrap().iter().all(|c| c["id"] != service["id"]), "{}", gone.text);
        let trail = app.get("/api/v1/audit?object_type=duplicate_vocabulary", &app.token(Role::Auditor)).await;
        let actions: Vec<&str> = trail.ok(200)["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "duplicate_vocabulary.added").count(), 2, "{actions:?}");
        assert!(actions.contains(&"duplicate_vocabulary.removed"), "{actions:?}");
        app.stop().await;
    }
);

both!(
    async fn a_possible_overlap_above_the_notice_level_puts_a_notice_on_the_route_before_and_after_submitting(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        add_service(&app, json!({
            "name": "Zoom video conferencing and webinars", "category": "Collaboration",
            "description": "Citywide Zoom for Government licences for video meetings, large webinars and hybrid public meetings, with cloud recording, live captions and streaming.",
            "capabilities": ["video conferencing", "webinars", "hybrid public meetings", "meeting recording and live captions", "live streaming"],
            "aliases": ["Zoom", "Zoom for Government"], "owning_team": "DoIT Collaboration", "access": "https://it.city.example/zoom"
        }))
        .await;
        let vendor = app.create_vendor("ON24").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let mut body = request(&vendor, "Webinar software for citizenship information sessions", "ON24",
                               &["webinars", "language interpretation channels", "registration"]);
        body["description"] = json!("Run large online information sessions with Q&A, interpretation channels and registration.");
        let draft = app.post("/api/v1/requests", &buyer, body).await;
        let id = draft.ok(201)["id"].as_str().unwrap().to_string();
        let report = app.get(&format!("/api/v1/requests/{id}/duplicates"), &buyer).await.ok(200).clone();
        let top = report["candidates"][0].clone();
        assert_eq!(top["class"], "possible_overlap", "{report}");
        let score = top["score"].as_f64().unwrap();
        assert!(score >= 0.45, "above the default notice level: {score}");

        // The buyer sees it before submitting.
        let preview = app.get(&format!("/api/v1/requests/{id}/preview"), &buyer).await.ok(200).clone();
        let notices = preview["notices"].as_array().unwrap().clone();
        assert_eq!(notices.len(), 1, "{preview}");
        let notice = notices[0].as_str().unwrap();
        assert!(notice.starts_with("the city already runs Zoom video conferencing and webinars"), "{notice}");
        assert!(notice.contains("ask its owning team for access"), "{notice}");
        assert!(step(&preview, "cio_duplicate_review").is_none(), "a notice blocks nothing");

        // Submitted, the route carries the same notice and nothing waits on it.
        let (submitted_id, after) = submitted_again(&app, &buyer, &id).await;
        assert_eq!(after["status"], "approved");
        let route = app.get(&format!("/api/v1/requests/{submitted_id}/route"), &app.token(Role::Cio)).await.ok(200).clone();
        assert_eq!(route["notices"], json!(notices));

        // The CIO office, which owns the catalogue, is told although nothing waits for it; the buyers are not.
        let flagged = flagged_for(&app, &app.token(Role::Cio), &id).await;
        assert_eq!(flagged.len(), 1, "{flagged:?}");
        assert!(flagged[0].starts_with("Request \"Webinar software"), "{}", flagged[0]);
        assert!(flagged[0].ends_with(&format!("may duplicate what the city already runs: {notice}")), "{}", flagged[0]);
        assert!(flagged_for(&app, &buyer, &id).await.is_empty());
        app.stop().await;
    }
);

/// The messages of the `duplicate_flagged` notifications about request `id` that `token` reads.
async fn flagged_for(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let notes = app
        .get("/api/v1/notifications?limit=200", token)
        .await
        .ok(200)
        .clone();
    notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "duplicate_flagged" && n["subject_id"] == id)
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect()
}

async fn submitted_again(app: &TestApp, buyer: &str, id: &str) -> (String, Value) {
    let resp = app
        .transition(&format!("/api/v1/requests/{id}/submit"), buyer, None)
        .await;
    (id.to_string(), resp.ok(200).clone())
}

both!(
    async fn a_cio_dismissal_carries_over_to_the_same_department_and_product(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PARKS").await;
        let adobe = add_service(&app, service("Finance e-signature (Adobe Sign)", &["electronic signatures"], &["Adobe Sign"])).await;
        let vendor = app.create_vendor("Adobe Inc.").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let cio = app.token(Role::Cio);
        let (first, body) = submitted(&app, &buyer, request(&vendor, "Adobe Sign for permits", "Adobe Sign", &[])).await;
        assert_eq!(body["status"], "awaiting_decision");
        let dismissed = app
            .transition(&format!("/api/v1/requests/{first}/duplicates/dismissals"), &cio,
                        Some(&json!({"candidate_kind": "service", "candidate_id": adobe["id"], "reason": "Finance's own tenant only"})))
            .await;
        assert_eq!(dismissed.ok(200)["status"], "approved");

        // A later request of the department for the same product, written glued: reported, marked dismissed with
        // the earlier dismissal cited, in the draft's dry run, the check and the route; no step, no notice.
        let draft = app.post("/api/v1/requests", &buyer, request(&vendor, "Adobe Sign for licences", "AdobeSign", &[])).await;
        let second = draft.ok(201)["id"].as_str().unwrap().to_string();
        let preview = app.get(&format!("/api/v1/requests/{second}/preview"), &buyer).await.ok(200).clone();
        assert_eq!(preview["status"], "approved", "{preview}");
        assert!(preview["notices"].as_array().unwrap().is_empty(), "{preview}");
        let cited = preview["dismissed_earlier"][0].as_str().unwrap().to_string();
        assert!(cited.starts_with("Finance e-signature (Adobe Sign) (central service, match score"), "{cited}");
        assert!(cited.contains("dismissed by user-cio on ") && cited.contains(&format!("for request {first}")), "{cited}");
        assert!(cited.ends_with("(same department and product): Finance's own tenant only"), "{cited}");
        let top = &preview["duplicates"][0];
        assert_eq!(top["id"], adobe["id"]);
        assert_eq!(top["dismissed"]["carried_over"], true);
        assert_eq!(top["dismissed"]["request_id"], first.as_str());
        assert_eq!(top["dismissed"]["dismissed_by"], "user-cio");

        let submitted_second = app.transition(&format!("/api/v1/requests/{second}/submit"), &buyer, None).await;
        assert_eq!(submitted_second.ok(200)["status"], "approved", "no duplicate review: {}", submitted_second.text);
        let route = app.get(&format!("/api/v1/requests/{second}/route"), &buyer).await.ok(200).clone();
        assert!(step(&route, "cio_duplicate_review").is_none(), "{route}");
        assert!(route["notices"].as_array().unwrap().is_empty());
        assert_eq!(route["dismissed_earlier"][0], cited.as_str());
        let report = app.get(&format!("/api/v1/requests/{second}/duplicates"), &cio).await.ok(200).clone();
        for list in ["candidates", "recorded"] {
            let c = &report[list][0];
            assert_eq!(c["id"], adobe["id"], "{list}");
            assert_eq!(c["class"], "likely_duplicate", "{list}: still reported as it scores");
            assert_eq!(c["dismissed"]["carried_over"], true, "{list}");
            assert_eq!(c["dismissed"]["reason"], "Finance's own tenant only", "{list}");
            assert_eq!(c["dismissed"]["request_id"], first.as_str(), "{list}");
        }
        let told = flagged_for(&app, &cio, &first).await;
        assert!(told.len() == 1 && told[0].contains("Finance e-signature (Adobe Sign)"), "{told:?}");
        assert!(flagged_for(&app, &cio, &second).await.is_empty(), "a match dismissed earlier is not flagged again");
        let first_report = app.get(&format!("/api/v1/requests/{first}/duplicates"), &cio).await.ok(200).clone();
        assert_eq!(first_report["recorded"][0]["dismissed"]["carried_over"], false, "its own dismissal");

        // Another department, or a request that names no product (a placeholder: the field is required), is judged
        // afresh.
        let parks = app.buyer_token("PARKS", "pat");
        let (_, other) = submitted(&app, &parks, request(&vendor, "Adobe Sign for permits", "Adobe Sign", &[])).await;
        assert_eq!(other["status"], "awaiting_decision");
        for product in ["TBD", "N/A"] {
            let (id, unnamed) = submitted(&app, &buyer, request(&vendor, "Adobe Sign for permits", product, &[])).await;
            assert_eq!(unnamed["status"], "awaiting_decision", "product {product:?}");
            let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
            assert!(route["dismissed_earlier"].as_array().unwrap().is_empty());
        }
        app.stop().await;
    }
);

both!(
    async fn a_denial_as_a_duplicate_proposes_the_product_as_an_alias_for_the_cio_office_to_accept(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let esign = add_service(&app, esign()).await;
        let vendor = app.create_vendor("Inkwell Software").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let cio = app.token(Role::Cio);
        let deny = |service: &Value| json!({"step": "cio_duplicate_review", "outcome": "deny", "reason_code": "duplicate_of_central_service",
                                            "rationale": "The city already runs e-signature", "service_id": service["id"]});
        let (id, body) = submitted(&app, &buyer, request(&vendor, "Electronic signature tool for permits", "Inkwell Sign", &["electronic signatures"])).await;
        assert_eq!(body["status"], "awaiting_decision");
        app.transition(&format!("/api/v1/requests/{id}/decisions"), &cio, Some(&deny(&esign))).await.ok(201);

        let list = "/api/v1/catalog/alias-proposals";
        app.get(list, &app.vendor_token(uuid::Uuid::new_v4())).await.problem(403, "forbidden");
        let listed = app.get(&format!("{list}?status=proposed"), &buyer).await.ok(200).clone();
        assert_eq!(listed["page"]["total"], 1, "{listed}");
        let proposal = listed["items"][0].clone();
        assert_eq!(proposal["alias"], "Inkwell Sign");
        assert_eq!(proposal["service_id"], esign["id"]);
        assert_eq!(proposal["service_name"], "Enterprise e-signature");
        assert_eq!(proposal["request_id"], id.as_str());
        assert_eq!(proposal["proposed_by"], "user-cio");
        let path = format!("{list}/{}", proposal["id"].as_str().unwrap());
        app.get(&format!("{list}?status=maybe"), &cio).await.problem(400, "bad_parameter");
        app.get(&format!("{list}/{}", uuid::Uuid::new_v4()), &cio).await.problem(404, "not_found");

        // A buyer may not decide; a decision needs If-Match; a rejection needs a reason.
        let tag = app.etag_of(&path, &cio).await;
        let accept = format!("{path}/accept");
        let call = |token: String, path: String, body: Option<Value>, tag: Option<String>| {
            let app = &app;
            async move {
                let headers: Vec<(&str, &str)> = tag.as_deref().map(|t| vec![("If-Match", t)]).unwrap_or_default();
                app.call(reqwest::Method::POST, &path, Some(&token), body.as_ref(), &headers).await
            }
        };
        call(buyer.clone(), accept.clone(), None, Some(tag.clone())).await.problem(403, "forbidden");
        call(cio.clone(), accept.clone(), None, None).await.problem(428, "precondition_required");
        call(cio.clone(), accept.clone(), None, Some("\"99\"".into())).await.problem(412, "stale_etag");
        let blank = call(cio.clone(), format!("{path}/reject"), Some(json!({"reason": "  "})), Some(tag.clone())).await;
        assert_eq!(blank.problem(422, "validation_failed")["errors"][0]["field"], "reason");
        assert_eq!(app.count("SELECT COUNT(*) FROM alias_proposals WHERE status = 'proposed'").await, 1, "nothing changed");

        let accepted = call(cio.clone(), accept.clone(), None, Some(tag.clone())).await;
        assert_eq!(accepted.ok(200)["status"], "accepted");
        assert_eq!(accepted.body["decided_by"], "user-cio");
        assert_ne!(accepted.header("etag").unwrap(), tag);
        let service = app.get(&format!("/api/v1/catalog/services/{}", esign["id"].as_str().unwrap()), &cio).await.ok(200).clone();
        assert!(service["aliases"].as_array().unwrap().iter().any(|a| a == "Inkwell Sign"), "{service}");
        let again_tag = app.etag_of(&path, &cio).await;
        call(cio.clone(), accept.clone(), None, Some(again_tag)).await.problem(409, "already_decided");

        // The duplicate index picks the alias up: the product alone now names the service.
        let draft = app.post("/api/v1/requests", &buyer, request(&vendor, "Licences for the clerk's office", "Inkwell Sign", &[])).await;
        let next = draft.ok(201)["id"].as_str().unwrap().to_string();
        let report = app.get(&format!("/api/v1/requests/{next}/duplicates"), &buyer).await.ok(200).clone();
        assert_eq!(report["candidates"][0]["id"], esign["id"], "{report}");
        assert_eq!(report["candidates"][0]["evidence"]["alias_hit"], "Inkwell Sign");

        // A denial naming a product the service already answers to proposes nothing; a new one can be rejected.
        let (known, _) = submitted(&app, &buyer, request(&vendor, "DocuSign for permits", "Docu Sign", &[])).await;
        app.transition(&format!("/api/v1/requests/{known}/decisions"), &cio, Some(&deny(&esign))).await.ok(201);
        assert_eq!(app.count("SELECT COUNT(*) FROM alias_proposals").await, 1, "DocuSign is already an alias");
        let (other, _) = submitted(&app, &buyer, request(&vendor, "Electronic signature tool for permits", "QuillPad", &["electronic signatures"])).await;
        app.transition(&format!("/api/v1/requests/{other}/decisions"), &cio, Some(&deny(&esign))).await.ok(201);
        let open = app.get(&format!("{list}?status=proposed"), &cio).await.ok(200).clone();
        let second = format!("{list}/{}", open["items"][0]["id"].as_str().unwrap());
        let tag = app.etag_of(&second, &cio).await;
        let rejected = call(app.token(Role::Admin), format!("{second}/reject"), Some(json!({"reason": "QuillPad is a pen tablet, not a signing service"})), Some(tag)).await;
        assert_eq!(rejected.ok(200)["status"], "rejected");
        assert_eq!(rejected.body["decision_reason"], "QuillPad is a pen tablet, not a signing service");
        let service = app.get(&format!("/api/v1/catalog/services/{}", esign["id"].as_str().unwrap()), &cio).await.ok(200).clone();
        assert!(service["aliases"].as_array().unwrap().iter().all(|a| a != "QuillPad"));

        let trail = app.get("/api/v1/audit?object_type=alias_proposal", &app.token(Role::Auditor)).await;
        let actions: Vec<&str> = trail.ok(200)["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
        for action in ["alias_proposal.created", "alias_proposal.accepted", "alias_proposal.rejected"] {
            assert!(actions.contains(&action), "{action}: {actions:?}");
        }

        // Evidence recorded at submission that the service cannot read answers 500; it is never shown as empty.
        let recorded = app.get(&format!("/api/v1/requests/{known}/duplicates"), &cio).await.ok(200).clone();
        assert!(recorded["recorded"][0]["evidence"].is_object(), "{recorded}");
        assert!(app.exec_sql("UPDATE request_duplicates SET evidence = '\"unreadable\"'").await > 0);
        app.get(&format!("/api/v1/requests/{known}/duplicates"), &cio).await.problem(500, "internal_error");
        app.stop().await;
    }
);
