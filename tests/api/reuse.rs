//! A vendor answers once: three departments buy one product; the first review stands for the second request by
//! reference, the third (with a new data class) gets a pre-filled cycle asking only what changed; an expired
//! acceptance forces a new cycle; findings on the product show on later routes; each role sees what it may.

use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::assessments::{answer_all, upload};
use crate::both;
use crate::helpers::{TestApp, with};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n";

/// A video-meeting service bought by `department`: vendor-hosted, `classes`, `users` people, $20,000 a year.
fn meeting(vendor: &Value, product: &Value, classes: &[&str], users: i64) -> Value {
    json!({
        "title": "Video meetings", "description": "Meetings with residents and staff", "vendor_id": vendor["id"],
        "product_name": "MeetNow", "category": "video conferencing", "capabilities": ["video meetings"],
        "capital_cost_cents": 0, "annual_operating_cost_cents": 2_000_000, "term_months": 12,
        "expected_users": users, "hosting": "vendor_cloud", "data_classes": classes,
        "requested_start_date": "2026-09-01", "renewal": false, "enterprise_agreement": false,
        "surveillance": false, "face_surveillance": false, "product_id": product["id"]
    })
}

struct Story {
    app: TestApp,
    vendor: Value,
    product: Value,
    analyst: String,
}

async fn story(backend: crate::helpers::Backend) -> Story {
    let app = TestApp::spawn(backend).await;
    let admin = app.token(Role::Admin);
    app.post(
        "/api/v1/departments",
        &admin,
        json!({"code": "PARKS", "name": "Parks and Recreation"}),
    )
    .await
    .ok(201);
    let vendor = app.create_vendor("MeetNow Inc").await;
    let analyst = app.token(Role::SecurityAnalyst);
    let product = app
        .post(
            "/api/v1/products",
            &analyst,
            json!({"vendor_id": vendor["id"], "name": "MeetNow", "aliases": ["MeetNow Gov", "MN"],
                   "hosting": "vendor_cloud", "data_classes": ["pi_ma", "health"]}),
        )
        .await;
    assert!(
        product
            .header("location")
            .unwrap()
            .ends_with(product.body["id"].as_str().unwrap())
    );
    let product = product.ok(201).clone();
    assert_eq!(product["aliases"], json!(["MeetNow Gov", "MN"]));
    Story {
        app,
        vendor,
        product,
        analyst,
    }
}

fn route_step<'a>(route: &'a Value, kind: &str) -> &'a Value {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap()
}

fn standing<'a>(route: &'a Value, questionnaire: &str) -> &'a Value {
    route["product"]["questionnaires"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["questionnaire"] == questionnaire)
        .unwrap_or_else(|| panic!("{questionnaire} not on the route: {route}"))
}

/// The request's assessments by template, as an analyst lists them.
async fn assessments_of(app: &TestApp, request: &str) -> Vec<Value> {
    let page = app
        .get(
            &format!("/api/v1/assessments?request_id={request}"),
            &app.token(Role::SecurityAnalyst),
        )
        .await
        .ok(200)
        .clone();
    let mut items = page["items"].as_array().unwrap().clone();
    items.sort_by_key(|a| a["template_id"].as_str().unwrap().to_string());
    items
}

/// Questions of the assessment that are asked and not answered yet; and those answered.
async fn to_answer(app: &TestApp, token: &str, assessment: &str) -> (usize, usize) {
    let detail = app
        .get(&format!("/api/v1/assessments/{assessment}"), token)
        .await
        .ok(200)
        .clone();
    let asked: Vec<&Value> = detail["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["applicable"] == true)
        .collect();
    let open = asked.iter().filter(|q| q["answer"].is_null()).count();
    (open, asked.len() - open)
}

/// A yes/no question of the template expected yes, not critical and asked unconditionally.
async fn standard_yes(app: &TestApp, template: &str) -> String {
    let t = app
        .get(
            &format!("/api/v1/questionnaires/{template}"),
            &app.token(Role::SecurityAnalyst),
        )
        .await;
    t.ok(200)["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["questions"].as_array().unwrap())
        .find(|q| {
            q["kind"] == "yes_no"
                && q["weight"] == "standard"
                && q["expected"]["yes_no"] == "yes"
                && q["show_if"].is_null()
        })
        .expect("a standard yes/no question")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Invites the vendor to `request` (as `buyer`), answers every question still open on each of its assessments
/// (with `overrides`), submits them all and has the analyst accept them. Returns how many questions the vendor
/// answered, and the findings raised.
async fn answer_and_accept(
    s: &Story,
    buyer: &str,
    request: &str,
    overrides: &[(String, Value)],
) -> (usize, Vec<Value>) {
    let app = &s.app;
    let invited = app
        .invite(
            buyer,
            s.vendor["id"].as_str().unwrap(),
            json!({"request_id": request, "contact_email": "security@meetnow.example"}),
        )
        .await
        .ok(201)
        .clone();
    let token = invited["token"].as_str().unwrap().to_string();
    let mut answered = 0;
    let mut findings = Vec::new();
    for a in assessments_of(app, request).await {
        let id = a["id"].as_str().unwrap();
        let evidence = upload(app, &token, id, "application/pdf", PDF.to_vec())
            .await
            .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, carried) = to_answer(app, &token, id).await;
        answer_all(app, &token, id, &evidence, overrides).await;
        // An override changes a pre-filled answer too.
        let detail = app
            .get(&format!("/api/v1/assessments/{id}"), &token)
            .await
            .ok(200)
            .clone();
        for (question, value) in overrides {
            let held = detail["questions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["id"] == question.as_str());
            if held.is_some_and(|q| q["answer"] != *value) {
                let body = json!({"answers": [{"question_id": question, "value": value}]});
                app.save_answers(&token, id, &body).await.ok(200);
            }
        }
        let (still_open, done) = to_answer(app, &token, id).await;
        assert_eq!(still_open, 0);
        // Questions that appear once a gate is answered count too.
        answered += done - carried;
        app.assessment_action(Method::POST, &token, id, "submit", None)
            .await
            .ok(200);
        let accepted = app
            .assessment_action(
                Method::POST,
                &s.analyst,
                id,
                "review",
                Some(&json!({"outcome": "accept"})),
            )
            .await;
        findings.extend(
            accepted.ok(200)["findings"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    (answered, findings)
}

both!(
    async fn three_departments_buy_one_product_and_the_vendor_answers_once(backend) {
        let s = story(backend).await;
        let app = &s.app;
        let parks = app.buyer_token("PARKS", "pat");
        let schools = app.buyer_token("BPS", "sam");
        let health = app.buyer_token("BPHC", "hana");

        // Parks buys first: nothing to reuse, the vendor answers both questionnaires.
        let (first, routed) = app.draft_and_submit(&parks, meeting(&s.vendor, &s.product, &["pi_ma"], 300)).await;
        assert_eq!(routed["status"], "in_review");
        let route = app.get(&format!("/api/v1/requests/{first}/route"), &parks).await.ok(200).clone();
        assert_eq!(route["product"]["product_name"], "MeetNow");
        for q in ["city-baseline", "ma-201-cmr-17"] {
            assert_eq!(standing(&route, q)["standing"], "needs_review");
        }
        let weak = standard_yes(app, "city-baseline").await;
        let (answered_first, findings) = answer_and_accept(&s, &parks, &first, &[(weak.clone(), json!("no"))]).await;
        let finding = findings.iter().find(|f| f["question_id"] == weak.as_str()).expect("a finding on the weak answer").clone();
        assert_eq!(finding["severity"], "moderate");
        let route = app.get(&format!("/api/v1/requests/{first}/route"), &parks).await.ok(200).clone();
        assert_eq!(route_step(&route, "security_review")["state"], "satisfied");

        // Schools buys the same product for the same data and fewer people: the security review is satisfied by
        // reference, no questionnaire is made, and the route says which assessment, accepted when, by whom, until
        // when; the finding standing on the product shows.
        // The draft's dry run says so before anything is submitted.
        let second = app.post("/api/v1/requests", &schools, meeting(&s.vendor, &s.product, &["pi_ma"], 200)).await.ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let preview = app.get(&format!("/api/v1/requests/{second}/preview"), &schools).await.ok(200).clone();
        assert_eq!(preview["questionnaires"], json!([]), "nothing to ask the vendor: {preview}");
        assert!(standing(&preview, "city-baseline")["note"].as_str().unwrap().starts_with("already reviewed: accepted "));
        assert_eq!(standing(&preview, "ma-201-cmr-17")["standing"], "reused");
        assert_eq!(app.count("SELECT COUNT(*) FROM request_reuses").await, 0, "the dry run writes nothing");
        let routed = app.transition(&format!("/api/v1/requests/{second}/submit"), &schools, None).await.ok(200).clone();
        // Still in review: the contract safeguards 201 CMR 17 asks for wait for the analyst, not the vendor.
        assert_eq!(routed["status"], "in_review");
        assert!(assessments_of(app, &second).await.is_empty(), "no new questionnaire");
        let route = app.get(&format!("/api/v1/requests/{second}/route"), &schools).await.ok(200).clone();
        let review = route_step(&route, "security_review");
        assert_eq!(review["state"], "satisfied");
        assert!(review["note"].as_str().unwrap().contains("by reference"), "{review}");
        let first_assessments = assessments_of(app, &first).await;
        let today = chrono::Utc::now().date_naive();
        let a_year_on = today.checked_add_months(chrono::Months::new(12)).unwrap().to_string();
        for (q, a) in ["city-baseline", "ma-201-cmr-17"].iter().zip(&first_assessments) {
            let st = standing(&route, q);
            assert_eq!(st["standing"], "reused");
            assert_eq!(st["assessment_id"], a["id"]);
            assert_eq!(st["accepted_by"], "user-security_analyst");
            assert_eq!(st["valid_until"], a_year_on.as_str(), "pi_ma: 12 months");
            assert!(st["note"].as_str().unwrap().starts_with(&format!("already reviewed: accepted {today} by ")));
        }
        let shown: Vec<&Value> = route["product"]["open_findings"].as_array().unwrap().iter().collect();
        assert!(shown.iter().any(|f| f["id"] == finding["id"] && f["question_id"] == weak.as_str()), "{shown:?}");

        // Public Health adds health data: the baseline and 201 CMR 17 are asked again as new cycles pre-filled with
        // the answers accepted for Parks (nothing to answer but to confirm), and the HIPAA addendum is new.
        let third = app.post("/api/v1/requests", &health, meeting(&s.vendor, &s.product, &["pi_ma", "health"], 250)).await.ok(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let preview = app.get(&format!("/api/v1/requests/{third}/preview"), &health).await.ok(200).clone();
        assert_eq!(preview["questionnaires"], json!(["city-baseline", "hipaa-addendum", "ma-201-cmr-17"]));
        assert!(standing(&preview, "hipaa-addendum")["note"].as_str().unwrap().starts_with("needs a review"));
        let routed = app.transition(&format!("/api/v1/requests/{third}/submit"), &health, None).await.ok(200).clone();
        assert_eq!(routed["status"], "in_review");
        let route = app.get(&format!("/api/v1/requests/{third}/route"), &health).await.ok(200).clone();
        for q in ["city-baseline", "ma-201-cmr-17"] {
            let st = standing(&route, q);
            assert_eq!(st["standing"], "scope_widened");
            assert_eq!(st["reasons"], json!(["data class health not covered (the accepted review covered pi_ma)"]));
        }
        assert_eq!(standing(&route, "hipaa-addendum")["standing"], "needs_review");
        let third_assessments = assessments_of(app, &third).await;
        let templates: Vec<&str> = third_assessments.iter().map(|a| a["template_id"].as_str().unwrap()).collect();
        assert_eq!(templates, ["city-baseline", "hipaa-addendum", "ma-201-cmr-17"]);
        let analyst = &s.analyst;
        for a in &third_assessments {
            let id = a["id"].as_str().unwrap();
            let (open, carried) = to_answer(app, analyst, id).await;
            if a["template_id"] == "hipaa-addendum" {
                assert_eq!(a["cycle"], 1);
                assert_eq!(carried, 0);
                assert!(open > 0);
            } else {
                assert_eq!(a["cycle"], 2, "the product's next cycle");
                assert_eq!(a["product_id"], s.product["id"]);
                assert_eq!(open, 0, "{} asks nothing new", a["template_id"]);
                let detail = app.get(&format!("/api/v1/assessments/{id}"), analyst).await.ok(200).clone();
                let answered: Vec<&Value> = detail["questions"].as_array().unwrap().iter().filter(|q| !q["answer"].is_null()).collect();
                assert!(answered.iter().all(|q| q["source"] == "cycle-1"), "pre-filled from cycle 1");
                let previous = first_assessments.iter().find(|p| p["template_id"] == a["template_id"]).unwrap();
                let product = app.get(&format!("/api/v1/products/{}", s.product["id"].as_str().unwrap()), analyst).await.ok(200).clone();
                let mine = product["assessments"].as_array().unwrap().iter().find(|x| x["id"] == a["id"]).unwrap().clone();
                assert_eq!(mine["continues_assessment_id"], previous["id"]);
                assert_eq!(a["continues_assessment_id"], previous["id"]);
                // A file answer points at a copy of the file, kept with the new cycle.
                let files = app.get(&format!("/api/v1/assessments/{id}"), analyst).await.ok(200)["evidence"].clone();
                assert_eq!(files.as_array().map(Vec::len), Some(1), "{files}");
            }
        }
        let (answered_third, _) = answer_and_accept(&s, &health, &third, &[(weak.clone(), json!("no"))]).await;
        let route = app.get(&format!("/api/v1/requests/{third}/route"), &health).await.ok(200).clone();
        assert_eq!(route_step(&route, "security_review")["state"], "satisfied");
        let hipaa = third_assessments.iter().find(|a| a["template_id"] == "hipaa-addendum").unwrap();
        let (_, hipaa_questions) = to_answer(app, analyst, hipaa["id"].as_str().unwrap()).await;
        assert_eq!(answered_third, hipaa_questions, "only the new questionnaire was answered");

        // The figure: questions the vendor answers for the three purchases, before reuse (each request asks its
        // questionnaires anew) and with it.
        let before = 2 * answered_first + answered_first + hipaa_questions;
        let after = answered_first + answered_third;
        eprintln!("three-department story: the vendor answers {before} questions before reuse, {after} with it \
                   (first review {answered_first}, HIPAA addendum {hipaa_questions}; {answered_first} pre-filled \
                   answers confirmed for the third)");
        assert!(after < before);

        // The finding raised for Parks shows on the product once (one finding per question per assessment: the
        // third request's cycle raised its own).
        let product = app.get(&format!("/api/v1/products/{}", s.product["id"].as_str().unwrap()), analyst).await.ok(200).clone();
        assert_eq!(product["assessments"].as_array().unwrap().len(), 5);
        assert!(product["open_findings"].as_array().unwrap().iter().any(|f| f["id"] == finding["id"]));
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'product.created'").await, 1);
        let verify = app.get("/api/v1/audit/verify", &app.token(Role::Auditor)).await;
        assert_eq!(verify.ok(200)["ok"], true);
        s.app.stop().await;
    }
);

both!(
    async fn an_expired_acceptance_forces_a_new_cycle_and_a_finding_opened_on_the_product_shows_later(backend) {
        let s = story(backend).await;
        let app = &s.app;
        let parks = app.buyer_token("PARKS", "pat");
        let schools = app.buyer_token("BPS", "sam");
        let (first, _) = app.draft_and_submit(&parks, meeting(&s.vendor, &s.product, &["confidential"], 100)).await;
        let weak = standard_yes(app, "city-baseline").await;
        answer_and_accept(&s, &parks, &first, &[]).await;
        let baseline = assessments_of(app, &first).await.remove(0);
        assert_eq!(baseline["template_id"], "city-baseline");

        // The acceptance is dated 25 months back: confidential data stands 24 months under the default policy.
        assert_eq!(app.count("SELECT COUNT(*) FROM assessment_reviews").await, 1, "the baseline's acceptance alone");
        app.exec_sql(&format!(
            "UPDATE assessment_reviews SET reviewed_at = '{}'",
            (chrono::Utc::now() - chrono::Duration::days(25 * 31)).to_rfc3339(),
        ))
        .await;
        let product_path = format!("/api/v1/products/{}", s.product["id"].as_str().unwrap());
        let product = app.get(&product_path, &s.analyst).await.ok(200).clone();
        assert_eq!(product["assessments"][0]["valid"], false);

        let (second, routed) = app.draft_and_submit(&schools, meeting(&s.vendor, &s.product, &["confidential"], 100)).await;
        assert_eq!(routed["status"], "in_review");
        let route = app.get(&format!("/api/v1/requests/{second}/route"), &schools).await.ok(200).clone();
        let st = standing(&route, "city-baseline");
        assert_eq!(st["standing"], "expired");
        assert!(st["reasons"][0].as_str().unwrap().contains("was valid until"), "{st}");
        assert_eq!(route_step(&route, "security_review")["state"], "pending");
        let renewed = assessments_of(app, &second).await.remove(0);
        assert_eq!(renewed["cycle"], 2);
        assert_eq!(to_answer(app, &s.analyst, renewed["id"].as_str().unwrap()).await.0, 0, "pre-filled");

        // The new cycle is accepted with a finding; a third purchase reuses it and its route shows the finding.
        let (_, findings) = answer_and_accept(&s, &schools, &second, &[(weak.clone(), json!("no"))]).await;
        let finding = findings.into_iter().find(|f| f["question_id"] == weak.as_str()).unwrap();
        let (third, _) = app.draft_and_submit(&schools, with(meeting(&s.vendor, &s.product, &["confidential"], 50), json!({"title": "Board meetings"}))).await;
        let route = app.get(&format!("/api/v1/requests/{third}/route"), &schools).await.ok(200).clone();
        let st = standing(&route, "city-baseline");
        assert_eq!(st["standing"], "reused");
        assert_eq!(st["assessment_id"], renewed["id"]);
        let shown = &route["product"]["open_findings"];
        assert!(shown.as_array().unwrap().iter().any(|f| f["id"] == finding["id"] && f["severity"] == "moderate"), "{shown}");
        // Resolved, it no longer stands on the product.
        app.finding_action(&s.analyst, finding["id"].as_str().unwrap(), "resolve", json!({"note": "Checked"}))
            .await
            .ok(200);
        let product = app.get(&product_path, &s.analyst).await.ok(200).clone();
        assert!(product["open_findings"].as_array().unwrap().is_empty());
        s.app.stop().await;
    }
);

both!(
    async fn each_role_sees_the_product_as_far_as_it_may(backend) {
        let s = story(backend).await;
        let app = &s.app;
        let parks = app.buyer_token("PARKS", "pat");
        let schools = app.buyer_token("BPS", "sam");
        let product_id = s.product["id"].as_str().unwrap().to_string();
        let product_path = format!("/api/v1/products/{product_id}");
        let (first, _) = app.draft_and_submit(&parks, meeting(&s.vendor, &s.product, &["pi_ma"], 300)).await;
        let weak = standard_yes(app, "city-baseline").await;
        answer_and_accept(&s, &parks, &first, &[(weak, json!("no"))]).await;

        // The vendor's own token: one list of its products with assessments, due dates and open findings.
        let vendor_token = app.vendor_token(s.vendor["id"].as_str().unwrap().parse().unwrap());
        let listed = app.get("/api/v1/products", &vendor_token).await.ok(200).clone();
        assert_eq!(listed["page"]["total"], 1);
        let mine = &listed["items"][0];
        assert_eq!(mine["assessments"].as_array().unwrap().len(), 2);
        assert!(mine["assessments"].as_array().unwrap().iter().all(|a| a["valid"] == true && a["request_id"] == first.as_str()));
        assert_eq!(mine["open_findings"].as_array().unwrap().len(), 1);
        let a_year_on = chrono::Utc::now().date_naive().checked_add_months(chrono::Months::new(12)).unwrap();
        assert_eq!(mine["next_due"], a_year_on.to_string().as_str());
        // Another vendor sees none of it.
        let stranger = app.create_vendor("Other Video LLC").await;
        let other_token = app.vendor_token(stranger["id"].as_str().unwrap().parse().unwrap());
        app.get(&product_path, &other_token).await.problem(404, "not_found");
        assert_eq!(app.get("/api/v1/products", &other_token).await.ok(200)["page"]["total"], 0);
        let asked = app.get(&format!("/api/v1/products?vendor_id={}", s.vendor["id"].as_str().unwrap()), &other_token).await;
        assert_eq!(asked.ok(200)["page"]["total"], 0);
        // An invitation reaches its request's questionnaires, not the product list.
        let invited = app
            .invite(&parks, s.vendor["id"].as_str().unwrap(), json!({"request_id": first, "contact_email": "x@meetnow.example"}))
            .await
            .ok(201)["token"]
            .as_str()
            .unwrap()
            .to_string();
        app.get("/api/v1/products", &invited).await.problem(403, "forbidden");

        // Another department sees that the product was reviewed, by whom and when, but not Parks' request.
        let seen = app.get(&product_path, &schools).await.ok(200).clone();
        for a in seen["assessments"].as_array().unwrap() {
            assert_eq!(a["department_code"], "PARKS");
            assert_eq!(a["accepted_by"], "user-security_analyst");
            assert!(a["request_id"].is_null(), "{a}");
        }
        assert!(seen["open_findings"][0]["request_id"].is_null());
        let parks_assessment = seen["assessments"][0]["id"].as_str().unwrap();
        app.get(&format!("/api/v1/requests/{first}"), &schools).await.problem(404, "not_found");
        app.get(&format!("/api/v1/assessments/{parks_assessment}"), &schools).await.problem(404, "not_found");
        let own = app.get(&product_path, &parks).await.ok(200).clone();
        assert_eq!(own["assessments"][0]["request_id"], first.as_str());
        assert_eq!(app.get("/api/v1/products?q=meetnow%20gov", &schools).await.ok(200)["page"]["total"], 1);
        assert_eq!(app.get("/api/v1/products?q=zoomish", &schools).await.ok(200)["page"]["total"], 0);

        // Who registers products, and what a request may name.
        let body = json!({"vendor_id": s.vendor["id"], "name": "MeetNow Rooms", "hosting": "on_premises", "data_classes": ["confidential"]});
        app.post("/api/v1/products", &vendor_token, body.clone()).await.problem(403, "forbidden");
        app.post("/api/v1/products", &app.token(Role::Auditor), body.clone()).await.problem(403, "forbidden");
        let rooms = app.post("/api/v1/products", &schools, body.clone()).await.ok(201).clone();
        app.post("/api/v1/products", &parks, with(body.clone(), json!({"name": " meetnow rooms "}))).await.problem(409, "product_exists");
        let bad = app
            .post("/api/v1/products", &parks,
                  with(body.clone(), json!({"vendor_id": uuid::Uuid::new_v4(), "data_classes": ["pii"]})))
            .await;
        bad.problem(422, "validation_failed");
        assert!(bad.fields().iter().any(|f| f.starts_with("data_classes")), "{:?}", bad.fields());
        let unknown_vendor = app.post("/api/v1/products", &parks, with(body, json!({"vendor_id": uuid::Uuid::new_v4()}))).await;
        unknown_vendor.problem(422, "validation_failed");
        assert_eq!(unknown_vendor.fields(), ["vendor_id"]);
        let before = app.count("SELECT COUNT(*) FROM products").await;
        assert_eq!(before, 2);
        let other_product = app
            .post("/api/v1/products", &parks,
                  json!({"vendor_id": stranger["id"], "name": "Other Video", "hosting": "vendor_cloud", "data_classes": ["public"]}))
            .await
            .ok(201)
            .clone();
        let wrong = app.post("/api/v1/requests", &parks, meeting(&s.vendor, &other_product, &["pi_ma"], 10)).await;
        wrong.problem(422, "validation_failed");
        assert_eq!(wrong.fields(), ["product_id"]);
        let named = app.post("/api/v1/requests", &schools, meeting(&s.vendor, &rooms, &["pi_ma"], 10)).await.ok(201).clone();
        assert_eq!(named["fields"]["product_id"], rooms["id"]);
        s.app.stop().await;
    }
);

both!(
    async fn a_reuse_waits_for_an_analyst_when_the_policy_says_so(backend) {
        let s = story(backend).await;
        let app = &s.app;
        let parks = app.buyer_token("PARKS", "pat");
        let schools = app.buyer_token("BPS", "sam");
        let (first, _) = app.draft_and_submit(&parks, meeting(&s.vendor, &s.product, &["confidential"], 100)).await;
        answer_and_accept(&s, &parks, &first, &[]).await;

        let admin = app.token(Role::Admin);
        let current = app.get("/api/v1/policy", &admin).await;
        let tag = current.header("etag").unwrap().to_string();
        let mut document = current.ok(200)["policy"].clone();
        document["label"] = json!("reuse-confirmed");
        document["reuse"]["confirmation_required"] = json!(true);
        app.put("/api/v1/policy", &admin, document, Some(&tag)).await.ok(200);

        let (second, routed) = app.draft_and_submit(&schools, meeting(&s.vendor, &s.product, &["confidential"], 100)).await;
        assert_eq!(routed["status"], "in_review");
        let route = app.get(&format!("/api/v1/requests/{second}/route"), &schools).await.ok(200).clone();
        assert_eq!(standing(&route, "city-baseline")["standing"], "awaiting_confirmation");
        assert_eq!(route_step(&route, "security_review")["state"], "pending");
        assert!(assessments_of(app, &second).await.is_empty(), "nothing asked of the vendor");

        let path = format!("/api/v1/requests/{second}/reuse/confirmations");
        let body = json!({"questionnaire": "city-baseline"});
        app.transition(&path, &schools, Some(&body)).await.problem(403, "forbidden");
        app.post(&path, &s.analyst, body.clone()).await.problem(428, "precondition_required");
        let unknown = app.transition(&path, &s.analyst, Some(&json!({"questionnaire": "pci-addendum"}))).await;
        unknown.problem(422, "validation_failed");
        assert_eq!(unknown.fields(), ["questionnaire"]);
        let confirmed = app.transition(&path, &s.analyst, Some(&body)).await;
        assert_eq!(confirmed.ok(200)["status"], "awaiting_decision");
        let route = app.get(&format!("/api/v1/requests/{second}/route"), &schools).await.ok(200).clone();
        assert_eq!(route_step(&route, "security_review")["state"], "satisfied");
        app.transition(&path, &s.analyst, Some(&body)).await.problem(409, "already_confirmed");
        assert_eq!(app.count("SELECT COUNT(*) FROM request_reuses WHERE confirmed_by IS NOT NULL").await, 1);

        // A bad policy setting is named.
        let current = app.get("/api/v1/policy", &admin).await;
        let tag = current.header("etag").unwrap().to_string();
        let mut document = current.ok(200)["policy"].clone();
        document["reuse"]["validity_months"]["pii"] = json!(12);
        let refused = app.put("/api/v1/policy", &admin, document, Some(&tag)).await;
        refused.problem(422, "validation_failed");
        assert!(refused.text.contains("\\\"pii\\\" is not a data class") || refused.text.contains("pii"), "{}", refused.text);
        s.app.stop().await;
    }
);
