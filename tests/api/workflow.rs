//! The rules that cannot be talked around: each case is one way the service could be talked around its own rules
//! (issue 12's numbered findings), tried over HTTP on both backends.

use chrono::{Duration, Utc};
use procurement_review::auth::Role;
use procurement_review::jobs::run_once;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp, purchase, with};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

async fn draft(app: &TestApp, buyer: &str, body: Value) -> String {
    id(app.post("/api/v1/requests", buyer, body).await.ok(201))
}

async fn submit(app: &TestApp, buyer: &str, request: &str) -> Resp {
    app.transition(&format!("/api/v1/requests/{request}/submit"), buyer, None)
        .await
}

async fn decide(app: &TestApp, token: &str, request: &str, decision: Value) -> Resp {
    app.transition(
        &format!("/api/v1/requests/{request}/decisions"),
        token,
        Some(&decision),
    )
    .await
}

async fn approve(app: &TestApp, token: &str, request: &str, step: &str) -> Resp {
    decide(
        app,
        token,
        request,
        json!({"step": step, "outcome": "approve"}),
    )
    .await
}

async fn edit(app: &TestApp, buyer: &str, request: &str, changes: Value) -> Resp {
    let path = format!("/api/v1/requests/{request}");
    let tag = app.etag_of(&path, buyer).await;
    app.patch(&path, buyer, changes, Some(&tag)).await
}

async fn route(app: &TestApp, request: &str) -> Value {
    app.get(
        &format!("/api/v1/requests/{request}/route"),
        &app.token(Role::Auditor),
    )
    .await
    .ok(200)
    .clone()
}

fn step<'a>(route: &'a Value, kind: &str) -> Option<&'a Value> {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
}

fn states(route: &Value) -> Vec<(String, String)> {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A $60,000, 100-user purchase of public data, approved by the CIO; returns its id.
async fn approved(app: &TestApp, buyer: &str, vendor: &Value) -> String {
    let request = draft(app, buyer, purchase(vendor)).await;
    assert_eq!(
        submit(app, buyer, &request).await.ok(200)["status"],
        "awaiting_decision"
    );
    let done = approve(app, &app.token(Role::Cio), &request, "cio_approval").await;
    assert_eq!(done.ok(201)["request"]["status"], "approved");
    request
}

both!(
    async fn a_misspelt_route_fact_is_refused_and_nothing_is_stored(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Faces Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let typo = with(
            purchase(&vendor),
            json!({"surveillance": true, "face_surveillance": null, "face_surveilance": true}),
        );
        let refused = app.post("/api/v1/requests", &buyer, typo).await;
        let problem = refused.problem(422, "validation_failed");
        assert_eq!(refused.fields(), ["face_surveilance"]);
        assert_eq!(problem["errors"][0]["message"], "unknown field; did you mean face_surveillance?");
        // Spelt right but left out, the ban's fact is still not assumed.
        let unsaid = with(purchase(&vendor), json!({"surveillance": true, "face_surveillance": null}));
        let missing = app.post("/api/v1/requests", &buyer, unsaid).await;
        missing.problem(422, "validation_failed");
        assert_eq!(missing.fields(), ["face_surveillance"]);
        // No fact that decides a route is assumed: each of them must be said.
        for fact in ["surveillance", "renewal", "enterprise_agreement", "hosting", "data_classes", "expected_users"] {
            let missing = app.post("/api/v1/requests", &buyer, with(purchase(&vendor), json!({fact: null}))).await;
            missing.problem(422, "validation_failed");
            assert_eq!(missing.fields(), [fact]);
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);
        app.stop().await;
    }
);

both!(
    async fn more_users_after_approval_reopen_review_with_the_reason(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Grow Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = approved(&app, &buyer, &vendor).await;
        let edited = edit(&app, &buyer, &request, json!({"expected_users": 5000})).await;
        assert_eq!(edited.ok(200)["status"], "awaiting_decision");
        assert_eq!(edited.body["submission"], 2);
        assert_eq!(edited.body["decided_submission"], 1);
        let route = route(&app, &request).await;
        let comparison = &route["comparison"];
        assert_eq!(comparison["decided_submission"], 1);
        assert_eq!(comparison["material"], true);
        assert_eq!(comparison["changes"], json!(["expected_users: 100 -> 5,000"]));
        let reason = comparison["reasons"][0].as_str().unwrap();
        assert!(reason.starts_with("a new ground for CIO approval"), "{reason}");
        let cio = step(&route, "cio_approval").unwrap();
        assert_eq!(cio["state"], "pending");
        assert!(cio["note"].as_str().unwrap().contains("re-opened"), "{cio}");
        let versions = app.get(&format!("/api/v1/requests/{request}/versions"), &buyer).await;
        let kinds: Vec<&str> =
            versions.ok(200)["items"].as_array().unwrap().iter().map(|v| v["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["submitted", "reopened"]);
        app.stop().await;
    }
);

both!(
    async fn moving_to_vendor_hosting_after_approval_needs_the_security_review(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Host Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = approved(&app, &buyer, &vendor).await;
        let edited = edit(&app, &buyer, &request, json!({"hosting": "vendor_cloud"})).await;
        assert_eq!(edited.ok(200)["status"], "in_review");
        let route = route(&app, &request).await;
        let review = step(&route, "security_review").expect("a security review now");
        assert_eq!(review["state"], "pending");
        assert_eq!(review["questionnaires"], json!(["city-baseline"]));
        // The CIO's approval of the same purchase still covers the CIO step: it is carried, not asked again.
        let cio = step(&route, "cio_approval").unwrap();
        assert_eq!(cio["state"], "satisfied");
        assert_eq!(cio["settled_in"], 1);
        assert!(cio["note"].as_str().unwrap().starts_with("carried from version 1"), "{cio}");
        let listed = app
            .get(&format!("/api/v1/assessments?request_id={request}"), &app.token(Role::SecurityAnalyst))
            .await;
        assert_eq!(listed.ok(200)["page"]["total"], 1, "the vendor has a questionnaire to answer");
        app.stop().await;
    }
);

both!(
    async fn small_rises_in_cost_add_up_against_the_decided_value(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Creep Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = approved(&app, &buyer, &vendor).await;
        // +9%, +9% (18.8% in all): each within 10% of the last, but the second is not within 10% of the decision.
        let first = edit(&app, &buyer, &request, json!({"annual_operating_cost_cents": 6_540_000})).await;
        assert_eq!(first.ok(200)["status"], "approved");
        assert_eq!(route(&app, &request).await["comparison"]["material"], false);
        let second = edit(&app, &buyer, &request, json!({"annual_operating_cost_cents": 7_128_600})).await;
        assert_eq!(second.ok(200)["status"], "awaiting_decision");
        let route = route(&app, &request).await;
        assert_eq!(
            route["comparison"]["reasons"][0],
            "total contract value rose from $60,000.00 (decided in version 1) to $71,286.00, more than 10%"
        );
        assert_eq!(step(&route, "cio_approval").unwrap()["state"], "pending");
        let trail = app
            .get(&format!("/api/v1/audit?object_id={request}"), &app.token(Role::Auditor))
            .await;
        let actions: Vec<&str> =
            trail.ok(200)["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"request.edited") && actions.contains(&"request.reopened"), "{actions:?}");
        app.stop().await;
    }
);

both!(
    async fn a_renewal_names_what_it_renews_and_takes_the_fast_path_only_when_nothing_material_changed(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Renew Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let huge = with(
            purchase(&vendor),
            json!({"renewal": true, "enterprise_agreement": true, "annual_operating_cost_cents": 500_000_000,
                   "expected_users": 60_000}),
        );
        // A renewal of nothing is refused: the fast path is not a checkbox.
        let unlinked = app.post("/api/v1/requests", &buyer, huge.clone()).await;
        unlinked.problem(422, "validation_failed");
        assert_eq!(unlinked.fields(), ["renews_request_id"]);
        let ghost = with(huge.clone(), json!({"renews_request_id": uuid::Uuid::new_v4()}));
        let refused = app.post("/api/v1/requests", &buyer, ghost).await;
        assert_eq!(refused.problem(422, "validation_failed")["errors"][0]["field"], "renews_request_id");

        let original = approved(&app, &buyer, &vendor).await;
        // Linked, but 600 times the users and a hundred times the cost: the full route applies.
        let big = draft(&app, &buyer, with(huge, json!({"renews_request_id": original}))).await;
        submit(&app, &buyer, &big).await.ok(200);
        let full = route(&app, &big).await;
        assert_eq!(full["fast_path"], false);
        assert!(step(&full, "cio_approval").is_some() && step(&full, "finance_approval").is_some());
        let failed: Vec<&str> = full["renewal"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["passed"] == false)
            .map(|c| c["what"].as_str().unwrap())
            .collect();
        assert_eq!(failed, ["users", "annual value"]);
        // Withdrawn, it no longer counts toward the vendor's spend in the year.
        app.transition(&format!("/api/v1/requests/{big}/withdraw"), &buyer, None).await.ok(200);

        // The same purchase for the next year, a little dearer: the comparison lets it through and says so.
        let same = with(
            purchase(&vendor),
            json!({"renewal": true, "enterprise_agreement": true, "renews_request_id": original,
                   "annual_operating_cost_cents": 6_300_000, "requested_start_date": "2027-09-01"}),
        );
        let renewal = draft(&app, &buyer, same).await;
        let submitted = submit(&app, &buyer, &renewal).await;
        assert_eq!(submitted.ok(200)["status"], "approved", "nothing else needs review");
        let fast = route(&app, &renewal).await;
        assert_eq!(fast["fast_path"], true);
        assert_eq!(fast["renewal"]["renews_kind"], "request");
        assert_eq!(fast["renewal"]["renews_id"], original.as_str());
        assert_eq!(fast["renewal"]["unchanged"], true);
        let users = fast["renewal"]["checks"].as_array().unwrap().iter().find(|c| c["what"] == "users").unwrap();
        assert_eq!(users["detail"], "expected users 100 -> 100, within 10%");
        app.stop().await;
    }
);

/// Attaches a Council document as `token`.
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

async fn vote(app: &TestApp, request: &str, outcome: &str) -> Resp {
    app.transition(
        &format!("/api/v1/requests/{request}/council/vote"),
        &app.token(Role::Admin),
        Some(&json!({"docket": "Docket #0412", "vote_date": "2026-11-04", "outcome": outcome})),
    )
    .await
}

/// A camera purchase by the Police Department, routed to the City Council; returns its id.
async fn cameras(app: &TestApp, police: &str, vendor: &Value) -> String {
    let body = with(
        purchase(vendor),
        json!({"surveillance": true, "annual_operating_cost_cents": 100_000, "data_classes": ["confidential"]}),
    );
    let request = draft(app, police, body).await;
    assert_eq!(
        submit(app, police, &request).await.ok(200)["status"],
        "in_review"
    );
    request
}

both!(
    async fn the_city_councils_vote_settles_its_step_with_both_documents_attached(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Cameras Co").await;
        let police = app.buyer_token("BPD", "officer");
        let request = cameras(&app, &police, &vendor).await;
        // The Council's approval is not a decision anyone can post.
        let posted = decide(&app, &app.token(Role::Cio), &request, json!({"step": "council_approval", "outcome": "approve"})).await;
        assert!(posted.problem(422, "validation_failed")["errors"][0]["message"].as_str().unwrap().contains("council/vote"));
        let early = vote(&app, &request, "approved").await;
        let problem = early.problem(409, "council_documents_missing");
        assert_eq!(problem["allowed"], json!(["attach_council_document"]));
        assert!(problem["detail"].as_str().unwrap().contains("surveillance_impact_report and surveillance_use_policy"));
        attach(&app, &police, &request, "surveillance_use_policy").await.ok(201);
        attach(&app, &police, &request, "minutes").await.problem(422, "validation_failed");
        attach(&app, &app.buyer_token("DOIT", "x"), &request, "surveillance_impact_report").await.problem(404, "not_found");
        let report = attach(&app, &app.token(Role::Admin), &request, "surveillance_impact_report").await;
        assert_eq!(report.ok(201)["sha256"].as_str().unwrap().len(), 64);
        app.transition(
            &format!("/api/v1/requests/{request}/council/vote"),
            &app.token(Role::Cio),
            Some(&json!({"docket": "x", "vote_date": "2026-11-04", "outcome": "approved"})),
        )
        .await
        .problem(403, "forbidden");
        let recorded = vote(&app, &request, "approved").await;
        assert_eq!(recorded.ok(201)["vote"]["docket"], "Docket #0412");
        let route = route(&app, &request).await;
        let council = step(&route, "council_approval").unwrap();
        assert_eq!(council["state"], "satisfied");
        assert_eq!(council["note"], "approved by the City Council (docket Docket #0412, vote of 2026-11-04)");
        vote(&app, &request, "approved").await.problem(409, "council_step_settled");
        let view = app.get(&format!("/api/v1/requests/{request}/council"), &police).await;
        assert_eq!(view.ok(200)["documents_missing"], json!([]));
        assert_eq!(view.body["votes"].as_array().unwrap().len(), 1);
        let trail = app
            .get(&format!("/api/v1/audit?object_id={request}&action=request.council_vote_recorded"), &app.token(Role::Auditor))
            .await;
        assert_eq!(trail.ok(200)["page"]["total"], 1);
        app.stop().await;
    }
);

both!(
    async fn a_rejecting_council_vote_denies_the_purchase_with_the_citation(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Drones Co").await;
        let police = app.buyer_token("BPD", "officer");
        let request = cameras(&app, &police, &vendor).await;
        let future = app
            .transition(
                &format!("/api/v1/requests/{request}/council/vote"),
                &app.token(Role::Admin),
                Some(&json!({"docket": "D-1", "vote_date": (Utc::now().date_naive() + Duration::days(3)).to_string(),
                             "outcome": "rejected"})),
            )
            .await;
        assert_eq!(future.problem(422, "validation_failed")["errors"][0]["field"], "vote_date");
        let rejected = vote(&app, &request, "rejected").await;
        assert_eq!(rejected.ok(201)["request"]["status"], "denied");
        let route = route(&app, &request).await;
        assert_eq!(step(&route, "council_approval").unwrap()["state"], "blocked");
        assert!(states(&route).iter().all(|(_, s)| s != "pending"), "{:?}", states(&route));
        let decisions = app.get(&format!("/api/v1/requests/{request}/decisions"), &police).await;
        let council = &decisions.ok(200)["items"][0];
        assert_eq!(council["reason_code"], "council_rejected");
        assert!(council["rationale"].as_str().unwrap().contains("[Boston 16-63]"));
        let assessments = app
            .get(&format!("/api/v1/assessments?request_id={request}"), &app.token(Role::SecurityAnalyst))
            .await;
        assert!(assessments.ok(200)["items"].as_array().unwrap().iter().all(|a| a["status"] == "cancelled"));
        app.stop().await;
    }
);

both!(
    async fn a_withdrawn_request_closes_its_steps_cancels_the_vendors_work_and_stops_reminders(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Case Systems").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let body = with(purchase(&vendor), json!({"hosting": "vendor_cloud", "data_classes": ["pi_ma"]}));
        let request = draft(&app, &buyer, body).await;
        submit(&app, &buyer, &request).await.ok(200);
        let invited = app
            .invite(&buyer, &id(&vendor), json!({"request_id": request, "contact_email": "sec@vendor.example"}))
            .await;
        let token = invited.ok(201)["token"].as_str().unwrap().to_string();
        assert_eq!(app.get("/api/v1/assessments?status=open", &token).await.ok(200)["page"]["total"], 2);

        let withdrawn = app.transition(&format!("/api/v1/requests/{request}/withdraw"), &buyer, None).await;
        assert_eq!(withdrawn.ok(200)["status"], "withdrawn");
        assert_eq!(withdrawn.body["allowed_actions"], json!([]));
        let route = route(&app, &request).await;
        for s in route["steps"].as_array().unwrap() {
            assert_eq!(s["state"], "closed", "{s}");
            assert_eq!(s["note"], "closed: bea withdrew the request");
        }
        // The invitation was made for this request only: it ends with it.
        app.get("/api/v1/assessments", &token).await.problem(401, "unauthorized");
        let cancelled = app
            .get(&format!("/api/v1/assessments?request_id={request}"), &app.token(Role::SecurityAnalyst))
            .await;
        let items = cancelled.ok(200)["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|a| a["status"] == "cancelled"), "{items:?}");
        // Past every due date, nothing is due about it.
        let made = run_once(&app.store, &app.config, Utc::now() + Duration::days(40)).await.unwrap();
        assert_eq!(made.notifications, 0, "{made:?}");
        app.stop().await;
    }
);

both!(
    async fn a_denial_by_finance_closes_the_cios_waiting_step(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Costly Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = draft(&app, &buyer, with(purchase(&vendor), json!({"annual_operating_cost_cents": 15_000_000}))).await;
        submit(&app, &buyer, &request).await.ok(200);
        let denied = decide(
            &app,
            &app.token(Role::Finance),
            &request,
            json!({"step": "finance_approval", "outcome": "deny", "reason_code": "cost", "rationale": "not in the budget"}),
        )
        .await;
        assert_eq!(denied.ok(201)["request"]["status"], "denied");
        let route = route(&app, &request).await;
        let cio = step(&route, "cio_approval").unwrap();
        assert_eq!(cio["state"], "closed");
        assert_eq!(cio["note"], "closed: user-finance denied the request on finance_approval");
        approve(&app, &app.token(Role::Cio), &request, "cio_approval").await.problem(409, "transition_not_allowed");
        app.stop().await;
    }
);

both!(
    async fn nobody_who_wrote_a_version_decides_it_whatever_the_case_or_spacing_of_their_name(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Duty Co").await;
        let buyer = app.buyer_token("DOIT", "buyer-isd");
        let request = draft(&app, &buyer, purchase(&vendor)).await;
        // A colleague who only edits the draft is an author too.
        let colleague = app.buyer_token("DOIT", "Cole");
        edit(&app, &colleague, &request, json!({"description": "Reworded"})).await.ok(200);
        submit(&app, &buyer, &request).await.ok(200);
        for subject in ["BUYER-ISD", "cole"] {
            let cio = app.mint(Role::Cio, subject.into(), None, None);
            let refused = approve(&app, &cio, &request, "cio_approval").await;
            refused.problem(403, "separation_of_duties");
            let read = app.get(&format!("/api/v1/requests/{request}"), &cio).await;
            assert_eq!(read.ok(200)["allowed_actions"], json!([]), "{subject}");
            let queue = app.get("/api/v1/requests?awaiting=me", &cio).await;
            assert_eq!(queue.ok(200)["page"]["total"], 0, "nobody is asked to decide their own request");
        }
        let padded = app.mint(Role::Cio, "buyer-isd ".into(), None, None);
        approve(&app, &padded, &request, "cio_approval").await.problem(401, "unauthorized");
        assert_eq!(app.count("SELECT COUNT(*) FROM decisions").await, 0);
        app.stop().await;
    }
);

both!(
    async fn changes_of_a_request_need_its_etag_and_reads_give_it(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Etag Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = draft(&app, &buyer, purchase(&vendor)).await;
        let path = format!("/api/v1/requests/{request}");
        let bare = |p: String, token: String| {
            let app = &app;
            async move { app.call(Method::POST, &p, Some(&token), None, &[]).await }
        };
        bare(format!("{path}/submit"), buyer.clone()).await.problem(428, "precondition_required");
        app.patch(&path, &buyer, json!({"title": "x"}), None).await.problem(428, "precondition_required");
        submit(&app, &buyer, &request).await.ok(200);
        let cio = app.token(Role::Cio);
        let no_etag = app
            .call(Method::POST, &format!("{path}/decisions"), Some(&cio), Some(&json!({"step": "cio_approval", "outcome": "approve"})), &[])
            .await;
        no_etag.problem(428, "precondition_required");
        let star = app
            .call(Method::POST, &format!("{path}/decisions"), Some(&cio),
                  Some(&json!({"step": "cio_approval", "outcome": "approve"})), &[("If-Match", "*")])
            .await;
        star.problem(412, "stale_etag");
        assert_eq!(app.count("SELECT COUNT(*) FROM decisions").await, 0);
        let read = app.get(&path, &cio).await;
        let tag = read.header("etag").unwrap().to_string();
        assert_eq!(tag, format!("\"{}\"", read.ok(200)["version"]));
        let decided = app
            .call(Method::POST, &format!("{path}/decisions"), Some(&cio),
                  Some(&json!({"step": "cio_approval", "outcome": "approve"})), &[("If-Match", &tag)])
            .await;
        decided.ok(201);
        app.stop().await;
    }
);

both!(
    async fn allowed_actions_say_what_this_caller_may_do_now(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Actions Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = draft(&app, &buyer, purchase(&vendor)).await;
        let path = format!("/api/v1/requests/{request}");
        let actions = |token: String| {
            let app = &app;
            let path = path.clone();
            async move { app.get(&path, &token).await.ok(200)["allowed_actions"].clone() }
        };
        assert_eq!(actions(buyer.clone()).await, json!(["edit", "submit", "withdraw"]));
        assert_eq!(actions(app.token(Role::Cio)).await, json!([]));
        submit(&app, &buyer, &request).await.ok(200);
        assert_eq!(actions(buyer.clone()).await, json!(["withdraw"]));
        assert_eq!(actions(app.token(Role::Cio)).await, json!(["decide"]));
        assert_eq!(actions(app.token(Role::Finance)).await, json!([]), "no finance step on this route");
        assert_eq!(actions(app.token(Role::Admin)).await, json!(["reroute"]));
        assert_eq!(actions(app.token(Role::Auditor)).await, json!([]));
        let listed = app.get("/api/v1/requests", &app.token(Role::Cio)).await;
        assert_eq!(listed.ok(200)["items"][0]["allowed_actions"], json!(["decide"]));
        approve(&app, &app.token(Role::Cio), &request, "cio_approval").await.ok(201);
        assert_eq!(actions(buyer).await, json!(["edit"]));
        app.stop().await;
    }
);
