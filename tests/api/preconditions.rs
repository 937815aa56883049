//! Concurrency control is not optional: every change of a versioned object (other than requests, whose own
//! tests cover them) needs `If-Match`, every read of one sends its `ETag`, and the ETag a read sends is the one
//! the next change accepts.

use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

/// The version an ETag names.
fn version_of(etag: &str) -> i64 {
    etag.trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("not an ETag of ours: {etag}"))
}

/// Checks one change of the object at `object` (read by `token`): without `If-Match` it answers 428, and with
/// an ETag that is no longer current 412, each as problem+json changing nothing (the object's ETag and the
/// audit trail stay as they were); then, with the ETag `GET object` answered, it is made. Returns that answer.
async fn check_change(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    object: &str,
    body: Option<Value>,
) -> Resp {
    let before = app.etag_of(object, token).await;
    let audited = app.count("SELECT COUNT(*) FROM audit_log").await;

    let missing = app
        .call(method.clone(), path, Some(token), body.as_ref(), &[])
        .await;
    let problem = missing.problem(428, "precondition_required");
    assert!(
        problem["detail"].as_str().unwrap().contains("If-Match"),
        "{problem}"
    );
    let stale = format!("\"{}\"", version_of(&before) - 1);
    let refused = app
        .call_if_match(method.clone(), path, token, body.as_ref(), &stale)
        .await;
    let problem = refused.problem(412, "stale_etag");
    assert!(
        problem["detail"].as_str().unwrap().contains(&before),
        "names the current ETag: {problem}"
    );
    assert_eq!(
        app.etag_of(object, token).await,
        before,
        "{method} {path}: refused changes change nothing"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log").await,
        audited,
        "{method} {path}: nothing audited"
    );

    let made = app
        .call_if_match(method.clone(), path, token, body.as_ref(), &before)
        .await;
    assert!(
        made.status.is_success(),
        "{method} {path}: {} {}",
        made.status,
        made.text
    );
    let after = app.etag_of(object, token).await;
    assert_eq!(
        version_of(&after),
        version_of(&before) + 1,
        "{method} {path}: the version moves on"
    );
    if let Some(sent) = made.header("etag") {
        assert_eq!(
            sent, after,
            "{method} {path}: the answer's ETag is the object's new one"
        );
    }
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log").await > audited,
        "{method} {path}: audited"
    );
    made
}

both!(
    async fn departments_vendors_and_catalogue_services_change_only_with_the_etag_last_read(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let department = app.post("/api/v1/departments", &admin, json!({"code": "DOIT", "name": "DoIT"})).await;
        let department = department.header("location").unwrap().to_string();
        let renamed = check_change(&app, &admin, Method::PATCH, &department, &department,
                                   Some(json!({"name": "Department of Innovation and Technology"}))).await;
        assert_eq!(renamed.body["name"], "Department of Innovation and Technology");

        let vendor = app.create_vendor("Precondition Co").await;
        let vendor = format!("/api/v1/vendors/{}", vendor["id"].as_str().unwrap());
        let analyst = app.token(Role::SecurityAnalyst);
        let moved = check_change(&app, &analyst, Method::PATCH, &vendor, &vendor, Some(json!({"hq_country": "CA"}))).await;
        assert_eq!(moved.body["hq_country"], "CA");

        let cio = app.token(Role::Cio);
        let service = app.post("/api/v1/catalog/services", &cio, crate::catalog::esign()).await;
        let service = service.header("location").unwrap().to_string();
        let retiring = check_change(&app, &cio, Method::PATCH, &service, &service, Some(json!({"status": "retiring"}))).await;
        assert_eq!(retiring.body["status"], "retiring");
        app.stop().await;
    }
);

both!(
    async fn contracts_are_replaced_decommissioned_and_cancelled_only_with_the_etag_last_read(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Contract Preconditions LLC").await;
        let cio = app.token(Role::Cio);
        let today = chrono::Utc::now().date_naive();
        let body = |number: &str, start: chrono::NaiveDate| {
            json!({"vendor_id": vendor["id"], "contract_number": number, "title": "Hosting",
                   "start_date": start.to_string(), "end_date": (start + chrono::Duration::days(365)).to_string(),
                   "value_cents": 100, "renewal_notice_days": 30})
        };
        let started = app.post("/api/v1/contracts", &cio, body("C-1", today - chrono::Duration::days(30))).await;
        let started = format!("/api/v1/contracts/{}", started.ok(201)["id"].as_str().unwrap());
        let mut changed = body("C-1", today - chrono::Duration::days(30));
        changed["title"] = json!("Hosting, renegotiated");
        let replaced = check_change(&app, &cio, Method::PUT, &started, &started, Some(changed)).await;
        assert_eq!(replaced.body["title"], "Hosting, renegotiated");
        let decommission = json!({"decommissioned_on": today.to_string(), "data_disposition": "returned",
                                  "certificate_reference": "RET-1", "certified_by": "Sam Ortiz"});
        let done = check_change(&app, &cio, Method::POST, &format!("{started}/decommission"), &started, Some(decommission)).await;
        assert_eq!(done.body["status"], "decommissioned");

        let pending = app.post("/api/v1/contracts", &cio, body("C-2", today + chrono::Duration::days(30))).await;
        let pending = format!("/api/v1/contracts/{}", pending.ok(201)["id"].as_str().unwrap());
        let cancelled = check_change(&app, &cio, Method::POST, &format!("{pending}/cancel"), &pending,
                                     Some(json!({"reason": "Superseded by a citywide agreement"}))).await;
        assert_eq!(cancelled.body["status"], "cancelled");

        // `*` would skip the check: it is refused too.
        let star = app.call_if_match(Method::PUT, &pending, &cio, Some(&body("C-2", today)), "*").await;
        star.problem(412, "stale_etag");
        app.stop().await;
    }
);

both!(
    async fn findings_change_only_with_the_etag_last_read(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Finding Preconditions Inc").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &analyst).await.ok(200).clone();
        let critical = crate::assessments::first_critical_yes(&template);
        let (vendor_token, _, finding) = crate::assessments::accepted_with_a_finding(&app, &vendor, &critical).await;
        let finding = format!("/api/v1/findings/{}", finding["id"].as_str().unwrap());
        let planned = check_change(&app, &vendor_token, Method::POST, &format!("{finding}/remediation"), &finding,
                                   Some(json!({"plan": "MFA for every admin", "due_date": "2027-03-01"}))).await;
        assert_eq!(planned.body["status"], "remediation_planned");
        let accepted = check_change(&app, &app.token(Role::Cio), Method::POST, &format!("{finding}/risk-acceptance"), &finding,
                                    Some(json!({"rationale": "Compensating monitoring", "expires_on": "2027-06-30"}))).await;
        assert_eq!(accepted.body["status"], "risk_accepted");
        app.stop().await;
    }
);

both!(
    async fn an_assessment_sends_its_etag_and_changes_only_with_it(backend) {
        let app = TestApp::spawn(backend).await;
        let (token, aid, _) = crate::workbooks::setup(&app).await;
        let object = format!("/api/v1/assessments/{aid}");
        let read = app.get(&object, &token).await;
        let version = read.ok(200)["assessment"]["version"].as_i64().unwrap();
        assert_eq!(read.header("etag"), Some(format!("\"{version}\"").as_str()), "an assessment's ETag is its version");

        let answered = check_change(&app, &token, Method::PUT, &format!("{object}/answers"), &object,
                                    Some(json!({"answers": [{"question_id": "WISP-01", "value": "yes"}]}))).await;
        assert_eq!(answered.body["version"], version + 1);

        // Uploads: evidence and workbooks need the ETag too, and a refused one stores nothing.
        let evidence = format!("{}{object}/evidence?filename=wisp.txt", app.base);
        let send = |url: String, content_type: &'static str, bytes: Vec<u8>, if_match: Option<String>| {
            let app = &app;
            let token = token.clone();
            async move {
                let mut request = app.client.post(url).bearer_auth(token).header("content-type", content_type);
                if let Some(etag) = if_match {
                    request = request.header("If-Match", etag);
                }
                TestApp::read(request.body(bytes).send().await.unwrap()).await
            }
        };
        send(evidence.clone(), "text/plain", b"our WISP".to_vec(), None).await.problem(428, "precondition_required");
        send(evidence.clone(), "text/plain", b"our WISP".to_vec(), Some(format!("\"{version}\""))).await.problem(412, "stale_etag");
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 0);
        let current = app.etag_of(&object, &token).await;
        let stored = send(evidence, "text/plain", b"our WISP".to_vec(), Some(current.clone())).await;
        stored.ok(201);
        let next = app.etag_of(&object, &token).await;
        assert_eq!(stored.header("etag"), Some(next.as_str()), "the evidence answer carries the assessment's new ETag");
        assert_eq!(version_of(&next), version_of(&current) + 1, "its evidence list changed");

        let workbook = crate::workbooks::download(&app, &token, &aid).await;
        let upload = format!("{}{object}/workbook", app.base);
        let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        send(upload.clone(), xlsx, workbook.clone(), None).await.problem(428, "precondition_required");
        send(upload.clone(), xlsx, workbook.clone(), Some(current)).await.problem(412, "stale_etag");
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 1, "no workbook kept");
        let imported = send(upload, xlsx, workbook, Some(next.clone())).await;
        imported.ok(200);
        let latest = app.etag_of(&object, &token).await;
        assert_eq!(imported.header("etag"), Some(latest.as_str()));
        assert_eq!(imported.body["version"], version_of(&latest));

        // Submit, review and reassessment: without If-Match, 428 before anything else is looked at.
        app.call(Method::POST, &format!("{object}/submit"), Some(&token), None, &[]).await.problem(428, "precondition_required");
        let analyst = app.token(Role::SecurityAnalyst);
        for (action, body) in [("review", json!({"outcome": "accept"})), ("reassessment", json!({}))] {
            app.post(&format!("{object}/{action}"), &analyst, body).await.problem(428, "precondition_required");
        }
        assert_eq!(app.etag_of(&object, &token).await, latest);
        assert_eq!(app.get(&object, &token).await.ok(200)["assessment"]["status"], "open");
        app.stop().await;
    }
);

both!(
    async fn a_policy_is_published_over_the_version_its_author_read(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let current = app.get("/api/v1/policy", &admin).await;
        assert_eq!(current.header("etag"), Some("\"1\""), "a policy's ETag is its version");
        let mut document = current.ok(200)["policy"].clone();
        document["label"] = json!("second");
        let published = check_change(&app, &admin, Method::PUT, "/api/v1/policy", "/api/v1/policy", Some(document.clone())).await;
        assert_eq!(published.body["version"], 2);

        // Another admin who read version 1 and publishes now would replace version 2 unseen: refused.
        document["label"] = json!("third, from an old copy");
        let lost = app.call_if_match(Method::PUT, "/api/v1/policy", &admin, Some(&document), "\"1\"").await;
        lost.problem(412, "stale_etag");
        assert_eq!(app.count("SELECT COUNT(*) FROM policies").await, 2);
        assert_eq!(app.get("/api/v1/policy", &admin).await.ok(200)["label"], "second");
        app.stop().await;
    }
);
