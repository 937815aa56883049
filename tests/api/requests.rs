use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

/// A request worth `annual` cents a year for 12 months, public data, on premises: routed by value alone.
pub(crate) fn body(vendor: &Value, annual: i64) -> Value {
    json!({
        "title": "Permit e-signature",
        "description": "Sign permit documents online",
        "vendor_id": vendor["id"],
        "product_name": "SignIt",
        "category": "e-signature",
        "capabilities": ["electronic signatures"],
        "capital_cost_cents": 0,
        "annual_operating_cost_cents": annual,
        "term_months": 12,
        "expected_users": 40,
        "hosting": "on_premises",
        "data_classes": ["public"],
        "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false
    })
}

pub(crate) fn with(mut base: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

async fn draft(app: &TestApp, buyer: &str, body: Value) -> Value {
    app.post("/api/v1/requests", buyer, body)
        .await
        .ok(201)
        .clone()
}

async fn submit(app: &TestApp, buyer: &str, id: &str) -> Resp {
    app.transition(&format!("/api/v1/requests/{id}/submit"), buyer, None)
        .await
}

async fn decide(app: &TestApp, token: &str, id: &str, decision: Value) -> Resp {
    app.transition(
        &format!("/api/v1/requests/{id}/decisions"),
        token,
        Some(&decision),
    )
    .await
}

async fn withdraw(app: &TestApp, buyer: &str, id: &str) -> Resp {
    app.transition(&format!("/api/v1/requests/{id}/withdraw"), buyer, None)
        .await
}

/// Edits a request with the `If-Match` of its current version.
async fn edit(app: &TestApp, buyer: &str, id: &str, changes: Value) -> Resp {
    let path = format!("/api/v1/requests/{id}");
    let tag = app.etag_of(&path, buyer).await;
    app.patch(&path, buyer, changes, Some(&tag)).await
}

fn step<'a>(route: &'a Value, kind: &str) -> Option<&'a Value> {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
}

both!(
    async fn a_request_over_the_cio_threshold_is_routed_with_its_reason_and_approved_by_the_cio(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let created = draft(&app, &buyer, body(&vendor, 6_000_000)).await;
        assert_eq!(created["status"], "draft");
        assert_eq!(created["total_contract_value_cents"], 6_000_000);
        assert_eq!(created["fiscal_year"], 2027);
        let id = created["id"].as_str().unwrap();
        app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.problem(409, "not_routed");

        let submitted = submit(&app, &buyer, id).await;
        assert_eq!(submitted.ok(200)["status"], "awaiting_decision");
        assert_eq!(submitted.body["submission"], 1);
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        assert_eq!(route["policy_version"], 1);
        let cio = step(&route, "cio_approval").expect("a CIO step");
        assert_eq!(cio["state"], "pending");
        let ground = &cio["grounds"][0];
        assert_eq!(ground["rule_id"], "cio-value-threshold");
        assert_eq!(
            ground["reason"],
            "total contract value $60,000.00 is at or above $50,000.00"
        );
        assert_eq!(ground["citation"], "c.30B §5; EO 2025 Art. 3");
        assert!(step(&route, "finance_approval").is_none());

        let queue = app.get("/api/v1/requests?awaiting=me", &app.token(Role::Cio)).await;
        assert_eq!(queue.ok(200)["page"]["total"], 1);
        let finance_queue = app.get("/api/v1/requests?awaiting=me", &app.token(Role::Finance)).await;
        assert_eq!(finance_queue.ok(200)["page"]["total"], 0);

        let cio = app.token(Role::Cio);
        let decided = decide(&app, &cio, id, json!({"step": "cio_approval", "outcome": "approve"})).await;
        let result = decided.ok(201);
        assert_eq!(result["request"]["status"], "approved");
        assert_eq!(result["decision"]["submission"], 1);
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        assert_eq!(step(&route, "cio_approval").unwrap()["state"], "satisfied");
        let trail = app
            .get(&format!("/api/v1/audit?object_type=request&object_id={id}"), &app.token(Role::Auditor))
            .await;
        let actions: Vec<&str> =
            trail.body["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["request.created", "request.submitted", "request.decided"]);
        app.stop().await;
    }
);

both!(
    async fn finance_co_approves_large_purchases_and_conditions_are_kept(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Big Systems").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 15_000_000)).await["id"].as_str().unwrap().to_string();
        submit(&app, &buyer, &id).await.ok(200);
        let cio = app.token(Role::Cio);
        let first = decide(&app, &cio, &id, json!({"step": "cio_approval", "outcome": "approve"})).await;
        assert_eq!(first.ok(201)["request"]["status"], "awaiting_decision");
        let wrong_role = decide(&app, &cio, &id, json!({"step": "finance_approval", "outcome": "approve"})).await;
        wrong_role.problem(403, "forbidden");
        let no_conditions = decide(
            &app,
            &app.token(Role::Finance),
            &id,
            json!({"step": "finance_approval", "outcome": "approve_with_conditions"}),
        )
        .await;
        no_conditions.problem(422, "validation_failed");
        assert_eq!(no_conditions.fields(), ["conditions"]);
        let finance = decide(
            &app,
            &app.token(Role::Finance),
            &id,
            json!({"step": "finance_approval", "outcome": "approve_with_conditions",
                   "conditions": ["funded from the FY27 capital plan"]}),
        )
        .await;
        assert_eq!(finance.ok(201)["request"]["status"], "approved_with_conditions");
        let decisions = app.get(&format!("/api/v1/requests/{id}/decisions"), &buyer).await;
        let list = decisions.ok(200)["items"].as_array().unwrap().clone();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1]["conditions"][0], "funded from the FY27 capital plan");
        assert_eq!(list[1]["role"], "finance");
        app.stop().await;
    }
);

both!(
    async fn the_submitter_never_decides_their_own_request(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Self Dealing Co").await;
        let buyer = app.buyer_token("DOIT", "casey");
        let id = draft(&app, &buyer, body(&vendor, 6_000_000)).await["id"].as_str().unwrap().to_string();
        submit(&app, &buyer, &id).await.ok(200);
        let same_person_as_cio = app.mint(Role::Cio, "casey".into(), None, None);
        let resp = decide(&app, &same_person_as_cio, &id, json!({"step": "cio_approval", "outcome": "approve"})).await;
        resp.problem(403, "separation_of_duties");
        assert_eq!(app.count("SELECT COUNT(*) FROM decisions").await, 0);
        app.stop().await;
    }
);

both!(
    async fn invalid_requests_name_every_field_and_store_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Valid Vendor").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let bad = with(
            body(&vendor, 1_000),
            json!({"capital_cost_cents": -5, "term_months": 0, "data_classes": ["pi_ma", "gossip"],
                   "annual_operating_cost_cents": 2_000_000_000_000i64}),
        );
        let resp = app.post("/api/v1/requests", &buyer, bad).await;
        resp.problem(422, "validation_failed");
        assert_eq!(
            resp.fields(),
            ["capital_cost_cents", "annual_operating_cost_cents", "term_months", "data_classes[1]"]
        );
        let ghost = with(body(&vendor, 1_000), json!({"vendor_id": uuid::Uuid::new_v4()}));
        let resp = app.post("/api/v1/requests", &buyer, ghost).await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["vendor_id"]);
        let unregistered = app.buyer_token("NOPE", "x");
        app.post("/api/v1/requests", &unregistered, body(&vendor, 1_000)).await.problem(403, "forbidden");
        assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_buyer_sees_only_their_department(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PARKS").await;
        let vendor = app.create_vendor("Shared Vendor").await;
        let doit = app.buyer_token("DOIT", "bea");
        let parks = app.buyer_token("PARKS", "pat");
        let id = draft(&app, &doit, body(&vendor, 1_000)).await["id"].as_str().unwrap().to_string();
        draft(&app, &parks, body(&vendor, 2_000)).await;
        app.get(&format!("/api/v1/requests/{id}"), &parks).await.problem(404, "not_found");
        app.get(&format!("/api/v1/requests/{id}/route"), &parks).await.problem(404, "not_found");
        submit(&app, &parks, &id).await.problem(404, "not_found");
        let listed = app.get("/api/v1/requests", &parks).await;
        assert_eq!(listed.ok(200)["page"]["total"], 1);
        assert_eq!(listed.body["items"][0]["department_code"], "PARKS");
        let other_filter = app.get("/api/v1/requests?department=DOIT", &parks).await;
        assert_eq!(other_filter.ok(200)["page"]["total"], 0);
        let everyone = app.get("/api/v1/requests", &app.token(Role::Auditor)).await;
        assert_eq!(everyone.ok(200)["page"]["total"], 2);
        app.get("/api/v1/requests", &app.vendor_token(uuid::Uuid::new_v4())).await.problem(403, "forbidden");
        app.stop().await;
    }
);

both!(
    async fn stale_etags_and_disallowed_transitions_are_refused(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Etag Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 1_000)).await["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/requests/{id}");
        app.patch(&path, &buyer, json!({"title": "Renamed"}), Some("\"1\"")).await.ok(200);
        let stale = app
            .call(Method::POST, &format!("{path}/submit"), Some(&buyer), None, &[("If-Match", "\"1\"")])
            .await;
        stale.problem(412, "stale_etag");
        let ok = app
            .call(Method::POST, &format!("{path}/submit"), Some(&buyer), None, &[("If-Match", "\"2\"")])
            .await;
        assert_eq!(ok.ok(200)["status"], "approved", "a $10 purchase of public data needs no review");
        let again = submit(&app, &buyer, &id).await;
        let problem = again.problem(409, "transition_not_allowed");
        assert_eq!(problem["allowed"], json!(["edit"]));
        app.stop().await;
    }
);

both!(
    async fn changes_requested_send_the_request_back_and_versions_are_kept(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Revise Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 6_000_000)).await["id"].as_str().unwrap().to_string();
        submit(&app, &buyer, &id).await.ok(200);
        let cio = app.token(Role::Cio);
        let missing_why = decide(&app, &cio, &id, json!({"step": "cio_approval", "outcome": "request_changes"})).await;
        assert_eq!(missing_why.problem(422, "validation_failed")["errors"][0]["field"], "rationale");
        let sent_back = decide(
            &app,
            &cio,
            &id,
            json!({"step": "cio_approval", "outcome": "request_changes", "rationale": "Quote a 24-month term"}),
        )
        .await;
        assert_eq!(sent_back.ok(201)["request"]["status"], "changes_requested");
        let edited = edit(&app, &buyer, &id, json!({"term_months": 24})).await;
        assert_eq!(edited.ok(200)["status"], "draft");
        let resubmitted = submit(&app, &buyer, &id).await;
        assert_eq!(resubmitted.ok(200)["submission"], 2);
        let approved = decide(&app, &cio, &id, json!({"step": "cio_approval", "outcome": "approve"})).await;
        assert_eq!(approved.ok(201)["decision"]["submission"], 2);
        let versions = app.get(&format!("/api/v1/requests/{id}/versions"), &buyer).await;
        let list = versions.ok(200)["items"].as_array().unwrap().clone();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["fields"]["term_months"], 12);
        assert_eq!(list[1]["fields"]["term_months"], 24);
        let decisions = app.get(&format!("/api/v1/requests/{id}/decisions"), &buyer).await;
        let subs: Vec<i64> =
            decisions.ok(200)["items"].as_array().unwrap().iter().map(|d| d["submission"].as_i64().unwrap()).collect();
        assert_eq!(subs, [1, 2]);
        app.stop().await;
    }
);

both!(
    async fn a_denial_needs_a_reason_and_ends_the_request(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Deny Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 6_000_000)).await["id"].as_str().unwrap().to_string();
        submit(&app, &buyer, &id).await.ok(200);
        let cio = app.token(Role::Cio);
        let denied = decide(
            &app,
            &cio,
            &id,
            json!({"step": "cio_approval", "outcome": "deny", "reason_code": "cost",
                   "rationale": "Twice what comparable cities pay"}),
        )
        .await;
        assert_eq!(denied.ok(201)["request"]["status"], "denied");
        withdraw(&app, &buyer, &id).await.problem(409, "transition_not_allowed");
        app.stop().await;
    }
);

both!(
    async fn a_buyer_withdraws_before_a_decision(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Withdraw Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 6_000_000)).await["id"].as_str().unwrap().to_string();
        submit(&app, &buyer, &id).await.ok(200);
        let resp = withdraw(&app, &buyer, &id).await;
        assert_eq!(resp.ok(200)["status"], "withdrawn");
        let late = decide(&app, &app.token(Role::Cio), &id, json!({"step": "cio_approval", "outcome": "approve"})).await;
        late.problem(409, "transition_not_allowed");
        app.stop().await;
    }
);

both!(
    async fn face_surveillance_is_refused_for_any_department(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Faces Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = with(body(&vendor, 1_000), json!({"surveillance": true, "face_surveillance": true}));
        let id = draft(&app, &buyer, request).await["id"].as_str().unwrap().to_string();
        let resp = submit(&app, &buyer, &id).await;
        assert_eq!(resp.ok(200)["status"], "denied");
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        assert_eq!(route["prohibitions"][0]["code"], "face_surveillance");
        assert!(route["prohibitions"][0]["grounds"][0]["citation"].as_str().unwrap().contains("16-62"));
        let decisions = app.get(&format!("/api/v1/requests/{id}/decisions"), &buyer).await;
        assert_eq!(decisions.ok(200)["items"][0]["reason_code"], "prohibited_technology");
        app.stop().await;
    }
);

both!(
    async fn surveillance_by_an_ordinance_body_needs_city_council_approval(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Cameras Co").await;
        let request = with(body(&vendor, 1_000), json!({"surveillance": true}));
        let police = app.buyer_token("BPD", "officer");
        let id = draft(&app, &police, request.clone()).await["id"].as_str().unwrap().to_string();
        assert_eq!(submit(&app, &police, &id).await.ok(200)["status"], "in_review");
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &police).await.ok(200).clone();
        let council = step(&route, "council_approval").expect("council approval for BPD");
        assert_eq!(council["attachments"], json!(["surveillance_impact_report", "surveillance_use_policy"]));
        assert!(council["grounds"][0]["citation"].as_str().unwrap().contains("16-63"));
        assert!(step(&route, "security_review").unwrap()["questionnaires"].as_array().unwrap().contains(&json!("surveillance")));

        let doit = app.buyer_token("DOIT", "bea");
        let other = draft(&app, &doit, request).await["id"].as_str().unwrap().to_string();
        submit(&app, &doit, &other).await.ok(200);
        let route = app.get(&format!("/api/v1/requests/{other}/route"), &doit).await.ok(200).clone();
        assert!(step(&route, "council_approval").is_none(), "DOIT is not one of the seven bodies");
        assert!(step(&route, "cio_approval").is_some());
        app.stop().await;
    }
);

both!(
    async fn splitting_a_purchase_across_departments_does_not_escape_review(backend) {
        let app = TestApp::spawn(backend).await;
        for code in ["DOIT", "PARKS", "LIB"] {
            app.department(code).await;
        }
        let vendor = app.create_vendor("Split Co").await;
        let mut last = String::new();
        for (code, who) in [("DOIT", "a"), ("PARKS", "b"), ("LIB", "c")] {
            let buyer = app.buyer_token(code, who);
            let id = draft(&app, &buyer, body(&vendor, 2_000_000)).await["id"].as_str().unwrap().to_string();
            submit(&app, &buyer, &id).await.ok(200);
            last = id;
        }
        let route = app.get(&format!("/api/v1/requests/{last}/route"), &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(route["fy_vendor_total_cents"], 6_000_000);
        let cio = step(&route, "cio_approval").expect("the aggregate crosses $50,000");
        assert_eq!(cio["grounds"][0]["rule_id"], "cio-vendor-fy-aggregate");
        let reason = cio["grounds"][0]["reason"].as_str().unwrap();
        assert!(reason.contains("$60,000.00"), "{reason}");
        assert!(reason.contains("3 purchases"), "{reason}");
        app.stop().await;
    }
);

both!(
    async fn a_material_change_after_approval_reopens_review(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Grow Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 6_000_000)).await["id"].as_str().unwrap().to_string();
        submit(&app, &buyer, &id).await.ok(200);
        decide(&app, &app.token(Role::Cio), &id, json!({"step": "cio_approval", "outcome": "approve"})).await.ok(201);
        let path = format!("/api/v1/requests/{id}");
        let cosmetic = edit(&app, &buyer, &id, json!({"description": "Clearer words"})).await;
        assert_eq!(cosmetic.ok(200)["status"], "approved");
        assert_eq!(cosmetic.body["submission"], 2, "every edit of a decided request is a version");
        assert_eq!(cosmetic.body["decided_submission"], 1, "the decision of version 1 stands");
        let dearer = edit(&app, &buyer, &id, json!({"annual_operating_cost_cents": 12_000_000})).await;
        assert_eq!(dearer.ok(200)["status"], "awaiting_decision");
        assert_eq!(dearer.body["submission"], 3);
        let route = app.get(&format!("{path}/route"), &buyer).await.ok(200).clone();
        assert!(step(&route, "finance_approval").is_some(), "now over $100,000");
        let trail = app.get(&format!("/api/v1/audit?object_id={id}&action=request.reopened"), &app.token(Role::Admin)).await;
        assert_eq!(trail.ok(200)["page"]["total"], 1);
        app.stop().await;
    }
);

both!(
    async fn whether_a_request_holds_personal_information_follows_its_fields(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Holder Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        // The only request in the database.
        let holds = |_: String| app.count("SELECT COUNT(*) FROM requests WHERE holds_personal_information = TRUE");
        let created = draft(&app, &buyer, with(body(&vendor, 6_000_000), json!({"data_classes": ["pi_ma"]}))).await;
        let id = created["id"].as_str().unwrap().to_string();
        assert_eq!(holds(id.clone()).await, 1, "written with the draft");
        edit(&app, &buyer, &id, json!({"data_classes": ["public"]})).await.ok(200);
        assert_eq!(holds(id.clone()).await, 0, "an edit of the draft clears it");
        submit(&app, &buyer, &id).await.ok(200);
        decide(&app, &app.token(Role::Cio), &id, json!({"step": "cio_approval", "outcome": "approve"})).await.ok(201);
        let edited = edit(&app, &buyer, &id, json!({"data_classes": ["pi_ct"]})).await;
        assert_eq!(edited.ok(200)["submission"], 2, "a new version of the decided request");
        assert_eq!(holds(id.clone()).await, 1, "and the version sets it again");
        app.stop().await;
    }
);

both!(
    async fn twenty_concurrent_decisions_record_exactly_one(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Race Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 6_000_000)).await["id"].as_str().unwrap().to_string();
        let etag = submit(&app, &buyer, &id).await.header("etag").unwrap().to_string();
        let mut tasks = Vec::new();
        for i in 0..20 {
            let client = app.client.clone();
            let url = format!("{}/api/v1/requests/{id}/decisions", app.base);
            let token = app.mint(Role::Cio, format!("cio-{i}"), None, None);
            let etag = etag.clone();
            let with_etag = i % 2 == 0;
            tasks.push(tokio::spawn(async move {
                let mut req = client.post(url).bearer_auth(token).json(&json!({"step": "cio_approval", "outcome": "approve"}));
                if with_etag {
                    req = req.header("If-Match", etag);
                }
                req.send().await.unwrap().status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        // Those without If-Match are refused before anything is read; the others lose to the one that won.
        assert!(statuses.iter().skip(1).step_by(2).all(|s| *s == 428), "{statuses:?}");
        assert!(statuses.iter().step_by(2).all(|s| [201, 409, 412].contains(s)), "{statuses:?}");
        assert_eq!(app.count("SELECT COUNT(*) FROM decisions").await, 1);
        let verify = app.get("/api/v1/audit/verify", &app.token(Role::Auditor)).await;
        assert_eq!(verify.ok(200)["ok"], true);
        app.stop().await;
    }
);

both!(
    async fn an_admin_publishes_a_policy_version_and_reroutes_under_it(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let admin = app.token(Role::Admin);
        let current = app.get("/api/v1/policy", &app.token(Role::Buyer)).await.ok(200).clone();
        assert_eq!(current["version"], 1);
        let mut doc = current["policy"].clone();

        let mut broken = doc.clone();
        let i = broken["rules"].as_array().unwrap().iter().position(|r| r["id"] == "cio-value-threshold").unwrap();
        broken["rules"][i]["reason"] = json!("value {nonsense}");
        let refused = app.call(Method::PUT, "/api/v1/policy", Some(&admin), Some(&broken), &[("If-Match", "\"1\"")]).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.fields(), [format!("rules[{i}]")]);
        assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains("cio-value-threshold"));
        app.call(Method::PUT, "/api/v1/policy", Some(&app.token(Role::Cio)), Some(&doc), &[]).await.problem(403, "forbidden");

        // Raise the CIO threshold to $75,000 in both rules that carry it.
        for rule in doc["rules"].as_array_mut().unwrap() {
            if let Some(all) = rule["when"]["all"].as_array_mut() {
                for cond in all {
                    for op in ["gte", "lt"] {
                        if cond[op] == json!(5_000_000) {
                            cond[op] = json!(7_500_000);
                        }
                    }
                }
            }
        }
        doc["label"] = json!("raised-threshold");

        let vendor = app.create_vendor("Policy Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let id = draft(&app, &buyer, body(&vendor, 6_000_000)).await["id"].as_str().unwrap().to_string();
        assert_eq!(submit(&app, &buyer, &id).await.ok(200)["status"], "awaiting_decision");

        let published = app.call(Method::PUT, "/api/v1/policy", Some(&admin), Some(&doc), &[("If-Match", "\"1\"")]).await;
        assert_eq!(published.ok(200)["version"], 2);
        let versions = app.get("/api/v1/policy/versions", &admin).await;
        assert_eq!(versions.ok(200)["page"]["total"], 2);
        assert_eq!(app.get("/api/v1/policy/versions/1", &admin).await.ok(200)["version"], 1);

        let request = app.get(&format!("/api/v1/requests/{id}"), &admin).await;
        assert_eq!(request.ok(200)["policy_version"], 1, "routed requests keep their version");
        let rerouted = app.transition(&format!("/api/v1/requests/{id}/reroute"), &admin, None).await;
        assert_eq!(rerouted.ok(200)["policy_version"], 2);
        assert_eq!(rerouted.body["status"], "approved", "$60,000 is under the new $75,000 line");
        app.stop().await;
    }
);

/// The parts of a route a reader compares: each step's kind, state and rules.
fn route_shape(route: &Value) -> Vec<(String, String, Vec<String>)> {
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let rules = s["grounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| format!("{} | {} | {}", g["rule_id"], g["reason"], g["citation"]))
                .collect();
            (s["kind"].to_string(), s["state"].to_string(), rules)
        })
        .collect()
}

both!(
    async fn a_drafts_preview_is_the_route_its_submission_then_gets_and_writes_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PRK").await;
        crate::catalog::add_service(&app, crate::catalog::esign()).await;
        let vendor = app.create_vendor("DocuSign, Inc.").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let draft_body = with(
            body(&vendor, 6_000_000),
            json!({"title": "DocuSign licences for permits", "product_name": "DocuSign",
                   "data_classes": ["pi_ma"], "hosting": "vendor_cloud"}),
        );
        let created = draft(&app, &buyer, draft_body).await;
        let id = created["id"].as_str().unwrap();
        let audit_before = app.count("SELECT COUNT(*) FROM audit_log").await;

        let preview = app.get(&format!("/api/v1/requests/{id}/preview"), &buyer).await.ok(200).clone();
        assert_eq!(preview["request_id"], *id);
        assert_eq!(preview["policy_version"], 1);
        let kinds: Vec<&str> =
            preview["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
        for kind in ["cio_duplicate_review", "cio_approval", "security_review", "contract_safeguards"] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
        let top = &preview["duplicates"][0];
        assert_eq!(top["class"], "likely_duplicate", "{preview}");
        assert!(top["name"].as_str().unwrap().contains("e-signature"), "{top}");
        assert!(!preview["questionnaires"].as_array().unwrap().is_empty(), "{preview}");

        // Nothing was written: the request is the same draft, no route, no candidates, no assessment, no audit.
        let read = app.get(&format!("/api/v1/requests/{id}"), &buyer).await;
        assert_eq!(read.ok(200)["status"], "draft");
        assert_eq!(read.body["version"], created["version"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit_before);
        assert_eq!(app.count("SELECT COUNT(*) FROM request_duplicates").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM route_steps").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM assessments").await, 0);

        // Submitting gives what the preview said.
        let submitted = submit(&app, &buyer, id).await;
        assert_eq!(submitted.ok(200)["status"], preview["status"]);
        let route = app.get(&format!("/api/v1/requests/{id}/route"), &buyer).await.ok(200).clone();
        assert_eq!(route_shape(&route), route_shape(&preview));
        app.stop().await;
    }
);

both!(
    async fn a_preview_refuses_as_submitting_would(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PRK").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let created = draft(&app, &buyer, body(&vendor, 6_000_000)).await;
        let id = created["id"].as_str().unwrap();
        let path = format!("/api/v1/requests/{id}/preview");

        // Another department's buyer does not see the draft; other roles do not submit.
        app.get(&path, &app.buyer_token("PRK", "bo")).await.problem(404, "not_found");
        app.get(&path, &app.token(Role::SecurityAnalyst)).await.problem(403, "forbidden");
        app.get(&path, &app.vendor_token(vendor["id"].as_str().unwrap().parse().unwrap()))
            .await
            .problem(403, "forbidden");
        app.get("/api/v1/requests/00000000-0000-0000-0000-000000000000/preview", &buyer)
            .await
            .problem(404, "not_found");

        // A prohibited purchase previews as denied, with the rule.
        let banned = draft(
            &app,
            &buyer,
            with(body(&vendor, 100_000), json!({"surveillance": true, "face_surveillance": true})),
        )
        .await;
        let preview = app
            .get(&format!("/api/v1/requests/{}/preview", banned["id"].as_str().unwrap()), &buyer)
            .await;
        assert_eq!(preview.ok(200)["status"], "denied");
        assert!(!preview.body["prohibitions"].as_array().unwrap().is_empty(), "{}", preview.body);

        // Once submitted there is no draft to preview: refused as a second submission is.
        submit(&app, &buyer, id).await.ok(200);
        let again = app.get(&path, &buyer).await;
        let resubmit = submit(&app, &buyer, id).await;
        assert_eq!(again.status, resubmit.status, "{} vs {}", again.body, resubmit.body);
        assert_eq!(again.body["code"], resubmit.body["code"]);
        app.stop().await;
    }
);

both!(
    async fn requests_page_by_cursor_newest_first_without_shifting(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PRK").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let mut made = Vec::new();
        for n in 0..7 {
            let created = draft(&app, &buyer, with(body(&vendor, 100_000), json!({"title": format!("Purchase {n}")}))).await;
            made.push(created["id"].as_str().unwrap().to_string());
        }
        draft(&app, &app.buyer_token("PRK", "pat"), body(&vendor, 100_000)).await;
        made.reverse(); // newest first

        // Walk the department's list three at a time by cursor.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => "/api/v1/requests?department=DOIT&limit=3".to_string(),
                Some(c) => format!("/api/v1/requests?department=DOIT&limit=3&cursor={c}"),
            };
            let page = app.get(&path, &buyer).await.ok(200).clone();
            // The total counts every match now, the late one too.
            assert_eq!(page["page"]["total"], if cursor.is_none() { 7 } else { 8 });
            seen.extend(page["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()));
            if cursor.is_some() {
                assert!(page["page"]["next_offset"].is_null(), "{page}");
            }
            match page["page"]["next_cursor"].as_str() {
                Some(next) => {
                    // A request created between pages does not shift the pages after the cursor.
                    if cursor.is_none() {
                        draft(&app, &buyer, with(body(&vendor, 100_000), json!({"title": "Late"}))).await;
                    }
                    cursor = Some(next.to_string());
                }
                None => break,
            }
        }
        assert_eq!(seen, made);

        // The same order by offset, and the filters still apply.
        let by_offset = app.get("/api/v1/requests?department=DOIT&limit=3&offset=4", &buyer).await.ok(200).clone();
        let ids: Vec<&str> = by_offset["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [made[3].as_str(), made[4].as_str(), made[5].as_str()]);
        let other = app.get("/api/v1/requests?department=PRK", &app.token(Role::Cio)).await;
        assert_eq!(other.ok(200)["page"]["total"], 1);
        assert!(other.body["page"]["next_cursor"].is_null());

        // A cursor the service did not hand out, or with an offset, is refused naming the parameter.
        let bad = app.get("/api/v1/requests?cursor=nonsense", &buyer).await;
        assert_eq!(bad.fields(), ["cursor"]);
        let first = app.get("/api/v1/requests?limit=1", &buyer).await.ok(200).clone();
        let both = app
            .get(&format!("/api/v1/requests?limit=1&offset=1&cursor={}", first["page"]["next_cursor"].as_str().unwrap()), &buyer)
            .await;
        assert_eq!(both.fields(), ["offset"]);
        app.stop().await;
    }
);

both!(
    async fn spend_with_one_vendor_adds_up_across_departments_within_a_fiscal_year(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PRK").await;
        let vendor = app.create_vendor("SignIt Inc").await;
        let other_vendor = app.create_vendor("Other Vendor Inc").await;
        let doit = app.buyer_token("DOIT", "bea");
        let prk = app.buyer_token("PRK", "pat");

        let (first, _) = app.draft_and_submit(&doit, body(&vendor, 6_000_000)).await;
        let route = app.get(&format!("/api/v1/requests/{first}/route"), &doit).await.ok(200).clone();
        assert!(step(&route, "finance_approval").is_none(), "$60,000 alone stays under Finance's threshold");

        // Another vendor's spend does not count toward this one's.
        let (unrelated, _) = app.draft_and_submit(&prk, body(&other_vendor, 6_000_000)).await;
        let route = app.get(&format!("/api/v1/requests/{unrelated}/route"), &prk).await.ok(200).clone();
        assert!(step(&route, "finance_approval").is_none());

        // The same vendor from another department in the same fiscal year: $120,000 together.
        let (second, _) = app.draft_and_submit(&prk, body(&vendor, 6_000_000)).await;
        let route = app.get(&format!("/api/v1/requests/{second}/route"), &prk).await.ok(200).clone();
        let finance = step(&route, "finance_approval").expect("a Finance step from the fiscal-year aggregate");
        assert_eq!(finance["grounds"][0]["rule_id"], "finance-vendor-fy-aggregate");
        assert_eq!(
            finance["grounds"][0]["reason"],
            "spend with this vendor in FY2027 totals $120,000.00 across 2 purchases (this one $60,000.00), \
             at or above $100,000.00"
        );

        // The next fiscal year starts again from nothing.
        let next_year = with(body(&vendor, 6_000_000), json!({"requested_start_date": "2027-09-01"}));
        let (later, _) = app.draft_and_submit(&prk, next_year).await;
        let route = app.get(&format!("/api/v1/requests/{later}/route"), &prk).await.ok(200).clone();
        assert!(step(&route, "finance_approval").is_none(), "FY2028 holds only this purchase");
        app.stop().await;
    }
);

both!(
    async fn list_totals_follow_every_status_and_department_change(backend) {
        // Totals filtered by status and department come from counts kept by triggers; each must equal a count
        // of the table after creating, submitting, deciding and withdrawing, in every filter combination.
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PARKS").await;
        let vendor = app.create_vendor("Counted Vendor").await;
        let doit = app.buyer_token("DOIT", "bea");
        let parks = app.buyer_token("PARKS", "pat");
        let mut ids = Vec::new();
        for (token, annual) in [(&doit, 1_000), (&doit, 50_000_000), (&doit, 2_000), (&parks, 3_000)] {
            ids.push(draft(&app, token, body(&vendor, annual)).await["id"].as_str().unwrap().to_string());
        }
        submit(&app, &doit, &ids[0]).await.ok(200);
        submit(&app, &doit, &ids[1]).await.ok(200);
        withdraw(&app, &doit, &ids[1]).await.ok(200);
        let auditor = app.token(Role::Auditor);
        let statuses = ["draft", "approved", "awaiting_decision", "withdrawn", "in_review"];
        for department in [None, Some("DOIT"), Some("PARKS")] {
            for status in std::iter::once(None).chain(statuses.iter().map(Some)) {
                let mut query = vec!["limit=1".to_string()];
                let mut sql = vec!["1 = 1".to_string()];
                if let Some(d) = department {
                    query.push(format!("department={d}"));
                    sql.push(format!("department_code = '{d}'"));
                }
                if let Some(s) = status {
                    query.push(format!("status={s}"));
                    sql.push(format!("status = '{s}'"));
                }
                let listed = app.get(&format!("/api/v1/requests?{}", query.join("&")), &auditor).await;
                let counted = app
                    .count(&format!("SELECT COUNT(*) FROM requests WHERE {}", sql.join(" AND ")))
                    .await;
                assert_eq!(
                    listed.ok(200)["page"]["total"].as_i64().unwrap(),
                    counted,
                    "department {department:?}, status {status:?}"
                );
            }
        }
        assert_eq!(app.get("/api/v1/requests", &auditor).await.ok(200)["page"]["total"], 4);
        // The buyer's scope is a department filter: PARKS sees its one request, in any status filter.
        assert_eq!(app.get("/api/v1/requests", &parks).await.ok(200)["page"]["total"], 1);
        assert_eq!(app.get("/api/v1/requests?status=draft", &parks).await.ok(200)["page"]["total"], 1);
        assert_eq!(app.get("/api/v1/requests?status=approved", &parks).await.ok(200)["page"]["total"], 0);
        // A vendor filter is counted from the table.
        let by_vendor = format!("/api/v1/requests?vendor_id={}", vendor["id"].as_str().unwrap());
        assert_eq!(app.get(&by_vendor, &auditor).await.ok(200)["page"]["total"], 4);
        app.stop().await;
    }
);
