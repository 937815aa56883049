use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use poem::web::Data;
use poem::{
    EndpointExt, Request, Route, Server, handler, http::StatusCode, listener::TcpListener, post,
};
use procurement_review::auth::Role;
use procurement_review::config::{Config, Secret};
use procurement_review::domain::webhook::{MAX_ATTEMPTS, SIGNATURE_HEADER, verify};
use procurement_review::jobs::run_once;
use procurement_review::store::Store;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Backend, TestApp};

const WEBHOOK_SECRET: &str = "whsec_jobs_suite";

/// A webhook receiver on 127.0.0.1: checks each signature, keeps what it accepted, and answers 500 while
/// `failures_left` is above zero.
#[derive(Clone, Default)]
struct Receiver {
    accepted: Arc<Mutex<Vec<Value>>>,
    failures_left: Arc<Mutex<u32>>,
}

#[handler]
async fn receive(req: &Request, body: Vec<u8>, receiver: Data<&Receiver>) -> StatusCode {
    {
        let mut left = receiver.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    let header = req.header(SIGNATURE_HEADER).unwrap_or_default();
    // The runner signs with the clock it was given, which the tests move into the future.
    if verify(
        WEBHOOK_SECRET.as_bytes(),
        header,
        &body,
        Utc::now(),
        u32::MAX,
    )
    .is_err()
    {
        return StatusCode::UNAUTHORIZED;
    }
    receiver
        .accepted
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    StatusCode::NO_CONTENT
}

impl Receiver {
    async fn start(&self) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let app = Route::new().at("/hook", post(receive)).data(self.clone());
        tokio::spawn(Server::new(TcpListener::bind(addr.to_string())).run(app));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        format!("http://{addr}/hook")
    }

    fn accepted(&self) -> Vec<Value> {
        self.accepted.lock().unwrap().clone()
    }
}

async fn spawn_with_receiver(backend: Backend, receiver: &Receiver) -> TestApp {
    let url = receiver.start().await;
    TestApp::spawn_with(backend, |c: &mut Config| {
        c.webhook_urls = vec![url];
        c.webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
    })
    .await
}

/// A submitted request holding Massachusetts personal information: its vendor gets two questionnaires due in
/// the policy's 30 days. Returns the vendor's id.
async fn request_with_questionnaires(app: &TestApp) -> String {
    let vendor = app.create_vendor("Case Systems LLC").await;
    app.post(
        "/api/v1/departments",
        &app.token(Role::Admin),
        json!({"code": "DOIT", "name": "DoIT"}),
    )
    .await
    .ok(201);
    let buyer = app.buyer_token("DOIT", "bea");
    app.draft_and_submit(&buyer, json!({"title": "Case management", "vendor_id": vendor["id"], "product_name": "CaseFlow",
                   "capital_cost_cents": 0, "annual_operating_cost_cents": 1_000_000, "term_months": 12,
                   "expected_users": 30, "hosting": "vendor_cloud", "data_classes": ["pi_ma"],
                   "requested_start_date": "2026-09-01"})).await;
    vendor["id"].as_str().unwrap().to_string()
}

/// Seven days before the questionnaires are due.
fn week_before_due() -> DateTime<Utc> {
    Utc::now() + Duration::days(23)
}

both!(
    async fn reminders_are_made_once_and_delivered_signed(backend) {
        let receiver = Receiver::default();
        let app = spawn_with_receiver(backend, &receiver).await;
        let vendor = request_with_questionnaires(&app).await;
        let now = week_before_due();
        let first = run_once(&app.store, &app.config, now).await.unwrap();
        assert_eq!((first.notifications, first.delivered), (2, 2), "{first:?}");
        let again = run_once(&app.store, &app.config, now + Duration::hours(1)).await.unwrap();
        assert_eq!((again.notifications, again.delivered), (0, 0), "a rerun on the same day sends nothing");
        let received = receiver.accepted();
        assert_eq!(received.len(), 2);
        assert!(received.iter().all(|n| n["kind"] == "questionnaire_due" && n["payload"]["threshold_days"] == 7));

        let vendor_token = app.vendor_token(vendor.parse().unwrap());
        let mine = app.get("/api/v1/notifications", &vendor_token).await;
        assert_eq!(mine.ok(200)["page"]["total"], 2);
        let other = app.vendor_token(uuid::Uuid::new_v4());
        assert_eq!(app.get("/api/v1/notifications", &other).await.ok(200)["page"]["total"], 0);
        // Overdue the day after the due date: a new reminder.
        let late = run_once(&app.store, &app.config, now + Duration::days(8)).await.unwrap();
        assert_eq!(late.notifications, 2);
        assert!(receiver.accepted().iter().any(|n| n["kind"] == "questionnaire_overdue"));
        app.stop().await;
    }
);

both!(
    async fn failed_deliveries_back_off_then_dead_letter_and_an_admin_retries(backend) {
        let receiver = Receiver::default();
        *receiver.failures_left.lock().unwrap() = u32::MAX;
        let app = spawn_with_receiver(backend, &receiver).await;
        request_with_questionnaires(&app).await;
        let mut now = week_before_due();
        let first = run_once(&app.store, &app.config, now).await.unwrap();
        assert_eq!(first.retried, 2);
        // Not due again until the backoff has passed.
        let early = run_once(&app.store, &app.config, now + Duration::seconds(10)).await.unwrap();
        assert_eq!((early.retried, early.dead), (0, 0));
        let mut dead = 0;
        for _ in 1..MAX_ATTEMPTS {
            now += Duration::hours(7);
            dead += run_once(&app.store, &app.config, now).await.unwrap().dead;
        }
        assert_eq!(dead, 2, "dead-lettered after {MAX_ATTEMPTS} attempts");
        let admin = app.token(Role::Admin);
        let listed = app.get("/api/v1/webhooks/deliveries?status=dead", &admin).await.ok(200).clone();
        assert_eq!(listed["page"]["total"], 2);
        assert_eq!(listed["items"][0]["attempts"], MAX_ATTEMPTS);
        assert!(listed["items"][0]["last_error"].as_str().unwrap().contains("500"));
        app.get("/api/v1/webhooks/deliveries", &app.token(Role::Cio)).await.problem(403, "forbidden");

        *receiver.failures_left.lock().unwrap() = 0;
        let id = listed["items"][0]["id"].as_str().unwrap();
        let retried = app.post(&format!("/api/v1/webhooks/deliveries/{id}/retry"), &admin, json!({})).await;
        assert_eq!(retried.ok(200)["status"], "pending");
        app.post(&format!("/api/v1/webhooks/deliveries/{id}/retry"), &admin, json!({})).await.problem(409, "delivery_not_dead");
        let report = run_once(&app.store, &app.config, Utc::now()).await.unwrap();
        assert_eq!(report.delivered, 1);
        assert_eq!(receiver.accepted().len(), 1);
        app.stop().await;
    }
);

both!(
    async fn two_runners_on_one_database_deliver_each_notification_once(backend) {
        let receiver = Receiver::default();
        let app = spawn_with_receiver(backend, &receiver).await;
        request_with_questionnaires(&app).await;
        let other = Store::open(&Secret::new(app.database_url.clone()), 5).await.unwrap();
        let now = week_before_due();
        // Several rounds: each makes new notifications (7, 3, 1 days before, then overdue) for both to race on.
        for offset in [0, 4, 6, 8] {
            let at = now + Duration::days(offset);
            let (a, b) = tokio::join!(run_once(&app.store, &app.config, at), run_once(&other, &app.config, at));
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a.notifications + b.notifications, 2, "{a:?} {b:?}");
            assert_eq!(a.delivered + b.delivered, 2, "{a:?} {b:?}");
        }
        let received = receiver.accepted();
        let mut ids: Vec<String> = received.iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!((received.len(), ids.len()), (8, 8), "each notification arrives exactly once");
        other.close().await;
        app.stop().await;
    }
);

both!(
    async fn contracts_are_flagged_reminded_and_decommissioned(backend) {
        let receiver = Receiver::default();
        let app = spawn_with_receiver(backend, &receiver).await;
        let vendor = app.create_vendor("Legacy Payroll Corp").await;
        let cio = app.token(Role::Cio);
        let today = Utc::now().date_naive();
        let legacy = app
            .post(
                "/api/v1/contracts",
                &cio,
                json!({"vendor_id": vendor["id"], "contract_number": "C-2009-17", "title": "Payroll",
                       "start_date": "2009-07-01", "end_date": (today + Duration::days(40)).to_string(),
                       "value_cents": 12_000_000, "renewal_notice_days": 60}),
            )
            .await;
        let legacy = legacy.ok(201).clone();
        assert_eq!(legacy["pre_2012_flag"], true);
        assert_eq!(legacy["status"], "expiring");
        let recent = app
            .post(
                "/api/v1/contracts",
                &cio,
                json!({"vendor_id": vendor["id"], "contract_number": "C-2009-18", "title": "Payroll add-on",
                       "start_date": "2011-07-01", "end_date": (today + Duration::days(400)).to_string(),
                       "value_cents": 100, "renewal_notice_days": 30, "safeguard_clauses": ["breach-notice"]}),
            )
            .await;
        assert_eq!(recent.ok(201)["pre_2012_flag"], false, "a recorded clause clears the flag");
        app.post(
            "/api/v1/contracts",
            &cio,
            json!({"vendor_id": vendor["id"], "contract_number": "C-2009-17", "title": "Again",
                   "start_date": "2020-01-01", "end_date": "2021-01-01", "value_cents": 1, "renewal_notice_days": 0}),
        )
        .await
        .problem(409, "duplicate_contract");
        let expiring = app.get("/api/v1/contracts?status=expiring", &app.token(Role::Auditor)).await;
        assert_eq!(expiring.ok(200)["page"]["total"], 1);

        let report = run_once(&app.store, &app.config, Utc::now()).await.unwrap();
        assert_eq!(report.notifications, 1);
        assert_eq!(receiver.accepted()[0]["kind"], "contract_ending");
        let cio_inbox = app.get("/api/v1/notifications", &cio).await;
        assert_eq!(cio_inbox.ok(200)["items"][0]["subject_id"], legacy["id"]);

        let id = legacy["id"].as_str().unwrap();
        let path = format!("/api/v1/contracts/{id}/decommission");
        let body = json!({"decommissioned_on": today.to_string(), "data_disposition": "destroyed",
                          "certificate_reference": "DEST-2026-004", "certified_by": "Pat Lee, CISO"});
        app.call(Method::POST, &path, Some(&cio), Some(&body), &[("If-Match", "\"7\"")]).await.problem(412, "stale_etag");
        let done = app.call(Method::POST, &path, Some(&cio), Some(&body), &[("If-Match", "\"1\"")]).await;
        let done = done.ok(200);
        assert_eq!(done["status"], "decommissioned");
        assert_eq!(done["decommission"]["certificate_reference"], "DEST-2026-004");
        app.call(Method::POST, &path, Some(&cio), Some(&body), &[]).await.problem(409, "contract_decommissioned");
        app.stop().await;
    }
);
