use chrono::{Duration, NaiveDate, Utc};
use procurement_review::auth::Role;
use procurement_review::jobs::run_once;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::TestApp;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days(n: i64) -> String {
    (today() + Duration::days(n)).to_string()
}

/// Records a contract with `vendor` as the CIO and returns it.
async fn contract(
    app: &TestApp,
    vendor: &Value,
    number: &str,
    start: &str,
    end: &str,
    notice_days: i32,
) -> Value {
    let created = app
        .post(
            "/api/v1/contracts",
            &app.token(Role::Cio),
            json!({"vendor_id": vendor["id"], "contract_number": number, "title": format!("Contract {number}"),
                   "start_date": start, "end_date": end, "value_cents": 1_000_000,
                   "renewal_notice_days": notice_days}),
        )
        .await;
    created.ok(201).clone()
}

fn path_of(contract: &Value) -> String {
    format!("/api/v1/contracts/{}", contract["id"].as_str().unwrap())
}

fn decommission_body(on: &str) -> Value {
    json!({"decommissioned_on": on, "data_disposition": "destroyed",
           "certificate_reference": "DEST-2026-004", "certified_by": "Pat Lee, CISO"})
}

/// The rows of the contracts register (`query` filters it), each cell as text.
async fn register_rows(app: &TestApp, query: &str) -> Vec<Vec<String>> {
    let resp = app
        .client
        .get(format!("{}/api/v1/reports/contracts.xlsx{query}", app.base))
        .bearer_auth(app.token(Role::Auditor))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let book = procurement_review::sheets::Workbook::read(&bytes).unwrap();
    let (_, range) = book.sheet("Contracts").unwrap();
    range
        .rows()
        .skip(1)
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect()
}

async fn contract_reminders(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'contract_ending'")
        .await
}

both!(
    async fn a_contract_that_has_not_started_is_pending_and_is_cancelled_with_a_reason(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Future Systems Inc").await;
        let cio = app.token(Role::Cio);
        // Starts in ten days; its 60-day notice period has already begun.
        let created = contract(&app, &vendor, "C-2027-001", &days(10), &days(40), 60).await;
        assert_eq!(created["status"], "pending");
        assert_eq!(created["cancellation"], Value::Null);
        let path = path_of(&created);
        let cancel = format!("{path}/cancel");
        let pending = app.get("/api/v1/contracts?status=pending", &cio).await;
        assert_eq!(pending.ok(200)["items"][0]["id"], created["id"]);
        assert_eq!(app.get("/api/v1/contracts?status=active", &cio).await.ok(200)["page"]["total"], 0);
        assert_eq!(app.get("/api/v1/contracts?status=expiring", &cio).await.ok(200)["page"]["total"], 0);

        // A pending contract is reminded of by nobody.
        run_once(&app.store, &app.config, Utc::now()).await.unwrap();
        assert_eq!(contract_reminders(&app).await, 0);

        // It cannot be decommissioned: it never started.
        let early = app.call_if_match(Method::POST, &format!("{path}/decommission"), &cio,
                                      Some(&decommission_body(&today().to_string())), "\"1\"").await;
        let problem = early.problem(409, "contract_not_started");
        assert_eq!(problem["allowed"], json!(["replace", "cancel"]));

        // Only the CIO office and admins cancel; without If-Match, with a stale one or without a reason nothing
        // changes.
        let reason = json!({"reason": "Funding withdrawn by the Council"});
        app.call_if_match(Method::POST, &cancel, &app.token(Role::SecurityAnalyst), Some(&reason), "\"1\"")
            .await
            .problem(403, "forbidden");
        app.call(Method::POST, &cancel, Some(&cio), Some(&reason), &[]).await.problem(428, "precondition_required");
        app.call_if_match(Method::POST, &cancel, &cio, Some(&reason), "\"3\"").await.problem(412, "stale_etag");
        let blank = app.call_if_match(Method::POST, &cancel, &cio, Some(&json!({"reason": "  "})), "\"1\"").await;
        blank.problem(422, "validation_failed");
        assert_eq!(blank.fields(), ["reason"]);
        let unchanged = app.get(&path, &cio).await.ok(200).clone();
        assert_eq!((unchanged["status"].as_str(), unchanged["version"].as_i64()), (Some("pending"), Some(1)));
        assert_eq!(app.count("SELECT COUNT(*) FROM contracts WHERE cancelled_at IS NOT NULL").await, 0);

        let cancelled = app.call_if_match(Method::POST, &cancel, &cio, Some(&reason), "\"1\"").await;
        assert_eq!(cancelled.header("etag"), Some("\"2\""));
        let cancelled = cancelled.ok(200).clone();
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["version"], 2);
        assert_eq!(cancelled["cancellation"]["reason"], "Funding withdrawn by the Council");
        assert_eq!(cancelled["cancellation"]["cancelled_by"], "user-cio");
        let audited = app
            .get(&format!("/api/v1/audit?action=contract.cancelled&object_id={}", created["id"].as_str().unwrap()),
                 &app.token(Role::Auditor))
            .await
            .ok(200)
            .clone();
        assert_eq!(audited["page"]["total"], 1);
        assert_eq!(audited["items"][0]["before"]["contract"]["cancellation_reason"], Value::Null);
        assert_eq!(audited["items"][0]["after"]["contract"]["cancellation_reason"], "Funding withdrawn by the Council");

        // Cancelled for good: listed as such, never changed again, never reminded of, even once its start day
        // has come.
        assert_eq!(app.get("/api/v1/contracts?status=cancelled", &cio).await.ok(200)["items"][0]["id"], created["id"]);
        assert_eq!(app.get("/api/v1/contracts?status=pending", &cio).await.ok(200)["page"]["total"], 0);
        let again = app.call_if_match(Method::POST, &cancel, &cio, Some(&reason), "\"2\"").await;
        assert_eq!(again.problem(409, "contract_cancelled").get("allowed"), None, "nothing is left to do with it");
        let replaced = app
            .call_if_match(Method::PUT, &path, &cio,
                           Some(&json!({"vendor_id": vendor["id"], "contract_number": "C-2027-001", "title": "Revived",
                                        "start_date": days(10), "end_date": days(40), "value_cents": 1,
                                        "renewal_notice_days": 60})), "\"2\"")
            .await;
        replaced.problem(409, "contract_cancelled");
        app.call_if_match(Method::POST, &format!("{path}/decommission"), &cio,
                          Some(&decommission_body(&today().to_string())), "\"2\"")
            .await
            .problem(409, "contract_cancelled");
        assert_eq!(app.get(&path, &cio).await.ok(200)["version"], 2);
        run_once(&app.store, &app.config, Utc::now() + Duration::days(11)).await.unwrap();
        assert_eq!(contract_reminders(&app).await, 0);
        assert_eq!(app.get("/api/v1/audit/verify", &app.token(Role::Auditor)).await.ok(200)["ok"], true);
        app.stop().await;
    }
);

both!(
    async fn a_pending_contract_is_reminded_of_its_notice_period_on_the_day_it_starts(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Short Term LLC").await;
        contract(&app, &vendor, "C-2027-002", &days(10), &days(40), 60).await;
        for day in 0..10 {
            run_once(&app.store, &app.config, Utc::now() + Duration::days(day)).await.unwrap();
        }
        assert_eq!(contract_reminders(&app).await, 0, "not while it is pending");
        run_once(&app.store, &app.config, Utc::now() + Duration::days(10)).await.unwrap();
        assert_eq!(contract_reminders(&app).await, 1, "the CIO office hears on the start day");
        app.stop().await;
    }
);

both!(
    async fn a_started_contract_is_not_cancelled_and_is_decommissioned_only_on_a_day_that_has_come(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Running Systems Inc").await;
        let cio = app.token(Role::Cio);
        let created = contract(&app, &vendor, "C-2026-010", "2026-01-01", &days(400), 90).await;
        assert_eq!(created["status"], "active");
        let path = path_of(&created);

        let refused = app
            .call_if_match(Method::POST, &format!("{path}/cancel"), &cio, Some(&json!({"reason": "Changed our mind"})), "\"1\"")
            .await;
        let problem = refused.problem(409, "contract_started");
        assert!(problem["detail"].as_str().unwrap().contains("active"), "{problem}");
        assert_eq!(problem["allowed"], json!(["replace", "decommission"]));

        let decommission = format!("{path}/decommission");
        app.call(Method::POST, &decommission, Some(&cio), Some(&decommission_body(&today().to_string())), &[])
            .await
            .problem(428, "precondition_required");
        let future = app.call_if_match(Method::POST, &decommission, &cio, Some(&decommission_body(&days(1))), "\"1\"").await;
        future.problem(422, "validation_failed");
        assert_eq!(future.fields(), ["decommissioned_on"]);
        assert!(future.text.contains("future"), "{}", future.text);
        let before_start = app.call_if_match(Method::POST, &decommission, &cio, Some(&decommission_body("2025-12-31")), "\"1\"").await;
        assert_eq!(before_start.fields(), ["decommissioned_on"]);
        let unsigned = app
            .call_if_match(Method::POST, &decommission, &cio,
                           Some(&json!({"decommissioned_on": days(1), "data_disposition": "returned",
                                        "certificate_reference": " ", "certified_by": ""})), "\"1\"")
            .await;
        unsigned.problem(422, "validation_failed");
        assert_eq!(unsigned.fields(), ["decommissioned_on", "certificate_reference", "certified_by"]);
        let unchanged = app.get(&path, &cio).await.ok(200).clone();
        assert_eq!((unchanged["status"].as_str(), unchanged["version"].as_i64()), (Some("active"), Some(1)));
        assert_eq!(unchanged["decommission"], Value::Null);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE object_type = 'contract'").await, 1);

        let done = app.call_if_match(Method::POST, &decommission, &cio, Some(&decommission_body(&today().to_string())), "\"1\"").await;
        let done = done.ok(200).clone();
        assert_eq!(done["status"], "decommissioned");
        assert_eq!(done["decommission"]["decommissioned_on"], today().to_string());
        app.stop().await;
    }
);

both!(
    async fn each_status_filter_lists_the_contracts_that_show_that_status(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Every State Co").await;
        let cio = app.token(Role::Cio);
        let pending = contract(&app, &vendor, "P-1", &days(5), &days(400), 30).await;
        let active = contract(&app, &vendor, "A-1", &days(-5), &days(400), 30).await;
        let expiring = contract(&app, &vendor, "X-1", &days(-5), &days(20), 30).await;
        let ended = contract(&app, &vendor, "E-1", &days(-400), &days(-1), 30).await;
        let decommissioned = contract(&app, &vendor, "D-1", &days(-400), &days(-1), 30).await;
        app.call_if_match(Method::POST, &format!("{}/decommission", path_of(&decommissioned)), &cio,
                          Some(&decommission_body(&today().to_string())), "\"1\"")
            .await
            .ok(200);
        let cancelled = contract(&app, &vendor, "C-1", &days(5), &days(400), 30).await;
        app.call_if_match(Method::POST, &format!("{}/cancel", path_of(&cancelled)), &cio,
                          Some(&json!({"reason": "Replaced by a citywide agreement"})), "\"1\"")
            .await
            .ok(200);
        for (status, contract) in [("pending", &pending), ("active", &active), ("expiring", &expiring),
                                   ("ended", &ended), ("decommissioned", &decommissioned), ("cancelled", &cancelled)] {
            let page = app.get(&format!("/api/v1/contracts?status={status}"), &cio).await.ok(200).clone();
            let ids: Vec<&Value> = page["items"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
            assert_eq!(ids, [&contract["id"]], "status={status}");
            assert_eq!(page["items"][0]["status"], status);
            assert_eq!(app.get(&path_of(contract), &cio).await.ok(200)["status"], status);
        }
        assert_eq!(app.get("/api/v1/contracts", &cio).await.ok(200)["page"]["total"], 6);
        app.get("/api/v1/contracts?status=closed", &cio).await.problem(400, "bad_parameter");

        // The register shows each contract's status, and how a closed one was closed.
        let register = register_rows(&app, "").await;
        assert_eq!(register.len(), 6);
        for (number, status) in [("P-1", "pending"), ("A-1", "active"), ("X-1", "expiring"), ("E-1", "ended"),
                                 ("D-1", "decommissioned"), ("C-1", "cancelled")] {
            let row = register.iter().find(|r| r[0] == number).unwrap();
            assert_eq!(row[3], status, "{number}");
        }
        let cancelled_rows = register_rows(&app, "?status=cancelled").await;
        assert_eq!(cancelled_rows.len(), 1);
        assert_eq!(cancelled_rows[0][11], "cancelled before it started: Replaced by a citywide agreement");
        app.stop().await;
    }
);
