use procurement_review::auth::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::TestApp;

/// A submitted request holding `classes`, by a buyer of DOIT.
async fn submitted(app: &TestApp, classes: Value) -> String {
    let vendor = app.create_vendor("Records Cloud Inc").await;
    app.post(
        "/api/v1/departments",
        &app.token(Role::Admin),
        json!({"code": "DOIT", "name": "DoIT"}),
    )
    .await
    .ok(201);
    let buyer = app.buyer_token("DOIT", "bea");
    let (id, _) = app.draft_and_submit(&buyer, json!({"title": "Records system", "vendor_id": vendor["id"], "product_name": "RecordsCloud",
                   "capital_cost_cents": 0, "annual_operating_cost_cents": 1_000_000, "term_months": 12,
                   "expected_users": 30, "hosting": "vendor_cloud", "data_classes": classes,
                   "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false})).await;
    id
}

fn blocking(checklist: &Value, step: &str) -> Vec<String> {
    checklist["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["step"] == step)
        .map(|c| c["clause_id"].as_str().unwrap().to_string())
        .collect()
}

async fn step_state(app: &TestApp, id: &str, kind: &str) -> String {
    let route = app
        .get(
            &format!("/api/v1/requests/{id}/route"),
            &app.token(Role::Auditor),
        )
        .await;
    route.ok(200)["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .map(|s| s["state"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

both!(
    async fn the_checklist_follows_the_data_classes(backend) {
        let app = TestApp::spawn(backend).await;
        let analyst = app.token(Role::SecurityAnalyst);
        let id = submitted(&app, json!(["pi_ma", "health"])).await;
        let checklist = app.get(&format!("/api/v1/requests/{id}/safeguards"), &analyst).await.ok(200).clone();
        let mut safeguards = blocking(&checklist, "contract_safeguards");
        safeguards.sort();
        assert_eq!(
            safeguards,
            ["audit-evidence", "breach-notice", "encryption", "ma-201-cmr-17-safeguards", "return-destroy-data",
             "subprocessor-flow-down"]
        );
        assert_eq!(blocking(&checklist, "evidence"), ["hipaa_baa"]);
        assert!(!checklist["clauses"].as_array().unwrap().iter().any(|c| c["clause_id"] == "pci_dss_aoc"));
        assert!(checklist["clauses"][0]["text"].as_str().unwrap().len() > 40);
        assert_eq!(checklist["outstanding"].as_array().unwrap().len(), 7);

        let public = submitted_public(&app).await;
        app.get(&format!("/api/v1/requests/{public}/safeguards"), &analyst).await.problem(409, "no_safeguards_step");
        app.stop().await;
    }
);

/// A second request, holding public data only, with the vendor and department already registered.
async fn submitted_public(app: &TestApp) -> String {
    let vendor = app.create_vendor("Open Data Co").await;
    let buyer = app.buyer_token("DOIT", "bea");
    let (id, _) = app.draft_and_submit(&buyer, json!({"title": "Open data portal", "vendor_id": vendor["id"], "product_name": "Portal",
                   "capital_cost_cents": 0, "annual_operating_cost_cents": 100_000, "term_months": 12,
                   "expected_users": 5, "hosting": "vendor_cloud", "data_classes": ["public"],
                   "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false})).await;
    id
}

both!(
    async fn approval_waits_until_every_clause_is_present_or_waived(backend) {
        let app = TestApp::spawn(backend).await;
        let id = submitted(&app, json!(["cardholder"])).await;
        // The questionnaire review is another test's subject: take it as done.
        app.exec_sql(
            "UPDATE route_steps SET state = 'satisfied' WHERE kind = 'security_review' AND request_id IN \
             (SELECT id FROM requests WHERE title = 'Records system')"
        )
        .await;
        let cio = app.token(Role::Cio);
        app.transition(&format!("/api/v1/requests/{id}/decisions"), &cio, Some(&json!({"step": "cio_approval", "outcome": "approve"})))
            .await
            .ok(201);
        let request = app.get(&format!("/api/v1/requests/{id}"), &cio).await;
        assert_eq!(request.ok(200)["status"], "in_review", "evidence is still missing");
        assert_eq!(step_state(&app, &id, "evidence").await, "pending");

        let analyst = app.token(Role::SecurityAnalyst);
        let path = format!("/api/v1/requests/{id}/safeguards");
        let etag = app.get(&path, &analyst).await.header("etag").unwrap().to_string();
        let incomplete = app
            .put(&path, &analyst, json!({"clauses": [{"clause_id": "pci_dss_aoc", "status": "present", "document": "AOC 2026"}]}), Some(&etag))
            .await;
        assert_eq!(incomplete.fields(), ["clauses[0].section"]);
        let recorded = app
            .put(
                &path,
                &analyst,
                json!({"clauses": [{"clause_id": "pci_dss_aoc", "status": "present", "document": "PCI DSS AOC 2026",
                                    "section": "Part 3"}]}),
                Some(&etag),
            )
            .await;
        let body = recorded.ok(200);
        assert_eq!(body["request_status"], "approved");
        let clause = body["clauses"].as_array().unwrap().iter().find(|c| c["clause_id"] == "pci_dss_aoc").unwrap();
        assert_eq!(clause["status"], "present");
        assert_eq!(clause["attested_by"], "user-security_analyst");
        assert_eq!(step_state(&app, &id, "evidence").await, "satisfied");
        // Once approved, the checklist is closed: a material change re-opens review, not this.
        let tag = app.etag_of(&path, &analyst).await;
        app.put(&path, &analyst, json!({"clauses": [{"clause_id": "pci_dss_aoc", "status": "missing"}]}), Some(&tag))
            .await
            .problem(409, "transition_not_allowed");
        let audit = app.get("/api/v1/audit?action=request.safeguards_recorded", &app.token(Role::Auditor)).await;
        assert_eq!(audit.ok(200)["page"]["total"], 1);
        app.stop().await;
    }
);

both!(
    async fn only_the_cio_waives_a_clause(backend) {
        let app = TestApp::spawn(backend).await;
        let id = submitted(&app, json!(["health"])).await;
        let path = format!("/api/v1/requests/{id}/safeguards");
        let waiver = json!({"clauses": [{"clause_id": "hipaa_baa", "status": "waived",
                                         "justification": "the vendor never sees identifiable records"}]});
        let tag = app.etag_of(&path, &app.token(Role::Cio)).await;
        app.put(&path, &app.token(Role::SecurityAnalyst), waiver.clone(), Some(&tag)).await.problem(403, "forbidden");
        app.put(&path, &app.buyer_token("DOIT", "bea"), waiver.clone(), Some(&tag)).await.problem(403, "forbidden");
        assert_eq!(step_state(&app, &id, "evidence").await, "pending");
        let waived = app.put(&path, &app.token(Role::Cio), waiver, Some(&tag)).await;
        let clause = &waived.ok(200)["clauses"].as_array().unwrap().iter().find(|c| c["clause_id"] == "hipaa_baa").unwrap().clone();
        assert_eq!(clause["status"], "waived");
        assert_eq!(clause["waived_by"], "user-cio");
        assert_eq!(step_state(&app, &id, "evidence").await, "waived");
        // Set back to missing, the step waits again.
        let tag = app.etag_of(&path, &app.token(Role::Cio)).await;
        app.put(&path, &app.token(Role::Cio), json!({"clauses": [{"clause_id": "hipaa_baa", "status": "missing"}]}), Some(&tag))
            .await
            .ok(200);
        assert_eq!(step_state(&app, &id, "evidence").await, "pending");
        app.stop().await;
    }
);
