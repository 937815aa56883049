//! Surveillance oversight after the purchase [Boston 16-63]: the register of Council-approved technologies, its
//! public page, the Annual Surveillance Report with the missing entries, and the reminders before its date.

use chrono::{TimeZone, Utc};
use procurement_review::auth::Role;
use procurement_review::jobs::run_once;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp, purchase, with};

async fn attach(app: &TestApp, token: &str, request: &str, kind: &str) -> Resp {
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/requests/{request}/council/documents?kind={kind}&filename={kind}.pdf",
            app.base
        ))
        .bearer_auth(token)
        .header("Content-Type", "application/pdf")
        .body(format!("%PDF-1.7 {kind} as adopted").into_bytes())
        .send()
        .await
        .unwrap();
    TestApp::read(resp).await
}

/// A surveillance purchase by `department`, with both Council documents, approved by the Council on
/// 2025-11-04; returns the request's id.
async fn council_approved(
    app: &TestApp,
    department: &str,
    product: &str,
    vendor: &Value,
) -> String {
    let buyer = app.buyer_token(department, &format!("buyer-{department}"));
    let body = with(
        purchase(vendor),
        json!({"surveillance": true, "annual_operating_cost_cents": 100_000, "data_classes": ["confidential"],
               "product_name": product, "title": format!("{product} for {department}")}),
    );
    let (request, submitted) = app.draft_and_submit(&buyer, body).await;
    assert_eq!(submitted["status"], "in_review");
    attach(app, &buyer, &request, "surveillance_use_policy")
        .await
        .ok(201);
    attach(app, &buyer, &request, "surveillance_impact_report")
        .await
        .ok(201);
    let vote = app
        .transition(
            &format!("/api/v1/requests/{request}/council/vote"),
            &app.token(Role::Admin),
            Some(&json!({"docket": format!("Docket #0412-{department}"), "vote_date": "2025-11-04", "outcome": "approved"})),
        )
        .await;
    vote.ok(201);
    request
}

fn report(year: i32) -> Value {
    json!({
        "year": year,
        "usage": "Cameras at 12 intersections recorded continuously; footage kept 30 days.",
        "non_suspect_capture": "Passers-by are recorded; footage is deleted after 30 days unless held as evidence.",
        "sharing": [{"recipient": "Massachusetts State Police", "data": "Footage of one incident", "legal_standard": "court order"}],
        "complaints": "2 complaints about camera placement",
        "audits": "One internal audit in June",
        "violations": "none"
    })
}

both!(
    async fn a_council_approved_purchase_is_in_the_register_and_on_the_public_page(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Cameras & <Co>").await;
        let request = council_approved(&app, "BPD", "StreetCam", &vendor).await;
        // A surveillance purchase the Council has not voted on is not in it.
        let pending = with(purchase(&vendor), json!({"surveillance": true, "data_classes": ["confidential"], "product_name": "DroneEye"}));
        app.draft_and_submit(&app.buyer_token("BPD", "buyer-BPD"), pending).await;

        let public = app.call(Method::GET, "/public/surveillance", None, None, &[]).await;
        public.ok(200);
        let items = public.body["technologies"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        let entry = &items[0];
        assert_eq!(entry["request_id"], request.as_str());
        assert_eq!(entry["technology"], "StreetCam");
        assert_eq!(entry["department_code"], "BPD");
        assert_eq!(entry["vendor"], "Cameras & <Co>");
        assert_eq!(entry["council_docket"], "Docket #0412-BPD");
        assert_eq!(entry["council_vote_date"], "2025-11-04");
        assert_eq!(entry["use_policies"][0]["version"], 1);
        assert_eq!(entry["use_policies"][0]["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(public.body["ordinance"], "Boston City Code 16-63");

        let page = app.call(Method::GET, "/public/surveillance.html", None, None, &[]).await;
        page.ok(200);
        assert!(page.header("content-type").unwrap().starts_with("text/html"));
        assert!(page.text.contains("<html lang=\"en\">"));
        assert!(page.text.contains("<caption>Approved surveillance technologies</caption>"));
        assert!(page.text.contains("<th scope=\"row\">StreetCam</th>"));
        assert!(page.text.contains("Cameras &amp; &lt;Co&gt;"));
        assert!(!page.text.contains("<script"));
        assert!(page.header("content-security-policy").is_some());
        // Each version of the use policy is public too; the request's other documents are not.
        let document = entry["use_policies"][0]["document_id"].as_str().unwrap();
        assert!(page.text.contains(&format!("<a href=\"/public/surveillance/policies/{document}\">version 1</a>")));
        let policy = app.call(Method::GET, &format!("/public/surveillance/policies/{document}"), None, None, &[]).await;
        policy.ok(200);
        assert_eq!(policy.text, "%PDF-1.7 surveillance_use_policy as adopted");
        let council = app.get(&format!("/api/v1/requests/{request}/council"), &app.token(Role::Auditor)).await;
        let documents = council.ok(200)["documents"].as_array().unwrap().clone();
        let impact = documents.iter().find(|d| d["kind"] == "surveillance_impact_report").unwrap();
        let path = format!("/public/surveillance/policies/{}", impact["id"].as_str().unwrap());
        app.call(Method::GET, &path, None, None, &[]).await.problem(404, "not_found");

        let staff = app.get("/api/v1/surveillance/technologies", &app.token(Role::Auditor)).await;
        assert_eq!(staff.ok(200)["page"]["total"], 1);
        app.get("/api/v1/surveillance/technologies", &app.token(Role::Auditor)).await.ok(200);
        app.call(Method::GET, "/api/v1/surveillance/technologies", None, None, &[]).await.problem(401, "unauthorized");
        app.stop().await;
    }
);

both!(
    async fn the_annual_report_lists_the_department_that_has_not_filed_and_reminds_it(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Cameras Co").await;
        let police = council_approved(&app, "BPD", "StreetCam", &vendor).await;
        let schools = council_approved(&app, "BPS", "HallwayCam", &vendor).await;
        let officer = app.buyer_token("BPD", "buyer-BPD");

        // Only the department's buyers file, and only for a year that has ended.
        let path = format!("/api/v1/surveillance/technologies/{police}/reports");
        app.post(&path, &app.buyer_token("BPS", "buyer-BPS"), report(2025)).await.problem(403, "forbidden");
        app.post(&path, &app.token(Role::Cio), report(2025)).await.problem(403, "forbidden");
        let this_year = chrono::Datelike::year(&Utc::now());
        let open = app.post(&path, &officer, report(this_year)).await;
        open.problem(422, "validation_failed");
        assert_eq!(open.fields(), vec!["year"]);
        let empty = app.post(&path, &officer, with(report(2025), json!({"violations": " "}))).await;
        assert_eq!(empty.fields(), vec!["violations"]);
        let filed = app.post(&path, &officer, report(2025)).await;
        let report_id = filed.ok(201)["id"].as_str().unwrap().to_string();
        assert_eq!(filed.body["sharing"][0]["legal_standard"], "court order");
        app.post(&path, &officer, report(2025)).await.problem(409, "report_exists");
        let replaced = app
            .with_etag(Method::PUT, &format!("/api/v1/surveillance/reports/{report_id}"), &format!("/api/v1/surveillance/reports/{report_id}"), &officer,
                Some(&with(report(2025), json!({"year": null, "violations": "One unlogged export, reported to the Council"}))))
            .await;
        assert_eq!(replaced.ok(200)["version"], 2);

        let annual = app.get("/api/v1/surveillance/annual-report?year=2025", &app.token(Role::Auditor)).await;
        annual.ok(200);
        assert_eq!(annual.body["due_on"], "2026-03-01");
        assert_eq!(annual.body["reports"].as_array().unwrap().len(), 1);
        assert_eq!(annual.body["reports"][0]["violations"], "One unlogged export, reported to the Council");
        assert_eq!(annual.body["missing"], json!([{"request_id": schools, "department_code": "BPS", "technology": "HallwayCam"}]));
        // Nothing is owed for 2024: the Council approved both in 2025.
        let earlier = app.get("/api/v1/surveillance/annual-report?year=2024", &app.token(Role::Auditor)).await;
        assert_eq!(earlier.ok(200)["missing"], json!([]));
        let xlsx = app.get("/api/v1/surveillance/annual-report.xlsx?year=2025", &app.token(Role::Cio)).await;
        xlsx.ok(200);
        assert!(xlsx.header("content-disposition").unwrap().contains("surveillance-report-2025.xlsx"));

        // Reminders from 30 days before March 1, to the department that has not filed only, once.
        let before = Utc.with_ymd_and_hms(2026, 1, 20, 12, 0, 0).unwrap();
        run_once(&app.store, &app.config, before).await.unwrap();
        let reminded = "SELECT COUNT(*) FROM notifications WHERE kind = 'surveillance_report_due'";
        assert_eq!(app.count(reminded).await, 0);
        let near = Utc.with_ymd_and_hms(2026, 2, 10, 12, 0, 0).unwrap();
        run_once(&app.store, &app.config, near).await.unwrap();
        run_once(&app.store, &app.config, near).await.unwrap();
        assert_eq!(app.count(reminded).await, 1);
        let inbox = app.get("/api/v1/notifications", &app.buyer_token("BPS", "buyer-BPS")).await;
        let items = inbox.ok(200)["items"].as_array().unwrap().clone();
        let notice = items.iter().find(|n| n["kind"] == "surveillance_report_due").expect("the schools are reminded");
        assert_eq!(notice["message"], "The Annual Surveillance Report on HallwayCam for 2025 is due on 2026-03-01.");
        let police_inbox = app.get("/api/v1/notifications", &officer).await;
        assert!(police_inbox.ok(200)["items"].as_array().unwrap().iter().all(|n| n["kind"] != "surveillance_report_due"));
        app.stop().await;
    }
);
