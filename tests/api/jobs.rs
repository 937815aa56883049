use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use poem::web::Data;
use poem::{
    EndpointExt, Request, Route, Server, handler, http::StatusCode, listener::TcpListener, post,
};
use procurement_review::auth::Role;
use procurement_review::config::{Config, Secret};
use procurement_review::domain::webhooks::{MAX_ATTEMPTS, SIGNATURE_HEADER, verify};
use procurement_review::jobs::run_once;
use procurement_review::store::{DeliveryOutcome, Store};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

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

/// A webhook receiver over HTTPS on 127.0.0.1, as behind the city's own certificate authority: its certificate
/// (`tests/keys/localhost.pem`) is signed by a test authority that neither the platform's store nor the bundled
/// roots know. It counts the requests that reach it and answers 204.
#[derive(Clone, Default)]
struct HttpsReceiver {
    requests: Arc<Mutex<usize>>,
}

fn test_keys() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

impl HttpsReceiver {
    async fn start(&self) -> String {
        let certificates = CertificateDer::pem_file_iter(test_keys().join("localhost.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(test_keys().join("localhost-key.pem")).unwrap();
        let tls = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certificates, key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = self.requests.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, requests) = (acceptor.clone(), requests.clone());
                tokio::spawn(async move {
                    // A client that does not trust the certificate ends the connection in the handshake.
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let answer = service_fn(move |_request| {
                        *requests.lock().unwrap() += 1;
                        async { hyper::Response::builder().status(204).body(String::new()) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), answer)
                        .await;
                });
            }
        });
        format!("https://{addr}/hook")
    }

    fn requests(&self) -> usize {
        *self.requests.lock().unwrap()
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
/// the policy's 30 days. The submission's own notifications (to the buyers and the deciders) are delivered by a
/// pass now and forgotten by `receiver`, so that the tests count reminders. Returns the vendor's id.
async fn request_with_questionnaires(app: &TestApp, receiver: &Receiver) -> String {
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
                   "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false})).await;
    let events = run_once(&app.store, &app.config, Utc::now()).await.unwrap();
    assert_eq!(
        events.fanned_out, 3,
        "submitted: to the buyers, the CIO office and the security team"
    );
    receiver.accepted.lock().unwrap().clear();
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
        let vendor = request_with_questionnaires(&app, &receiver).await;
        let now = week_before_due();
        let first = run_once(&app.store, &app.config, now).await.unwrap();
        assert_eq!((first.notifications, first.delivered), (2, 2), "{first:?}");
        let again = run_once(&app.store, &app.config, now + Duration::hours(1)).await.unwrap();
        assert_eq!((again.notifications, again.delivered), (0, 0), "a rerun on the same day sends nothing");
        let received = receiver.accepted();
        assert_eq!(received.len(), 2);
        assert!(received.iter().all(|n| n["kind"] == "questionnaire_due" && n["payload"]["threshold_days"] == 7));
        // The body names the object in words, with its link.
        assert!(received.iter().all(|n| n["object"]["name"].as_str().unwrap().starts_with("Questionnaire \"")
            && n["object"]["link"].as_str().unwrap().contains("/api/v1/assessments/")), "{received:?}");

        let vendor_token = app.vendor_token(vendor.parse().unwrap());
        let mine = app.get("/api/v1/notifications", &vendor_token).await;
        assert_eq!(mine.ok(200)["page"]["total"], 2);
        let other = app.vendor_token(uuid::Uuid::new_v4());
        assert_eq!(app.get("/api/v1/notifications", &other).await.ok(200)["page"]["total"], 0);
        // Overdue the day after the due date: a new reminder, to the vendor and to the buying department.
        let late = run_once(&app.store, &app.config, now + Duration::days(8)).await.unwrap();
        assert_eq!(late.notifications, 4);
        assert!(receiver.accepted().iter().any(|n| n["kind"] == "questionnaire_overdue"));
        app.stop().await;
    }
);

both!(
    async fn failed_deliveries_back_off_then_dead_letter_and_an_admin_retries(backend) {
        let receiver = Receiver::default();
        let app = spawn_with_receiver(backend, &receiver).await;
        request_with_questionnaires(&app, &receiver).await;
        *receiver.failures_left.lock().unwrap() = u32::MAX;
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
        request_with_questionnaires(&app, &receiver).await;
        let other = Store::open(&Secret::new(app.database_url.clone()), 5).await.unwrap();
        let now = week_before_due();
        // Several rounds: each makes new notifications (7, 3, 1 days before, then overdue to the vendor and the
        // buyers) for both to race on.
        for (offset, made) in [(0, 2), (4, 2), (6, 2), (8, 4)] {
            let at = now + Duration::days(offset);
            let (a, b) = tokio::join!(run_once(&app.store, &app.config, at), run_once(&other, &app.config, at));
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a.notifications + b.notifications, made, "{a:?} {b:?}");
            assert_eq!(a.delivered + b.delivered, made, "{a:?} {b:?}");
        }
        let received = receiver.accepted();
        let mut ids: Vec<String> = received.iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!((received.len(), ids.len()), (10, 10), "each notification arrives exactly once");
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
        app.call(Method::POST, &path, Some(&cio), Some(&body), &[("If-Match", "\"2\"")]).await.problem(409, "contract_decommissioned");
        app.stop().await;
    }
);

both!(
    async fn buyers_hear_of_held_up_purchases_and_read_marks_are_per_reader(backend) {
        let receiver = Receiver::default();
        let app = spawn_with_receiver(backend, &receiver).await;
        let vendor = request_with_questionnaires(&app, &receiver).await;
        let overdue_day = week_before_due() + Duration::days(8);
        let report = run_once(&app.store, &app.config, overdue_day).await.unwrap();
        assert_eq!(report.notifications, 4, "{report:?}");
        let to_buyers: Vec<Value> =
            receiver.accepted().into_iter().filter(|n| n["recipient_role"] == "buyer").collect();
        assert_eq!(to_buyers.len(), 2);
        assert!(to_buyers.iter().all(|n| n["recipient_department"] == "DOIT" && n["kind"] == "questionnaire_overdue"));

        let bea = app.buyer_token("DOIT", "bea");
        let inbox = app.get("/api/v1/notifications", &bea).await.ok(200).clone();
        // The two reminders and the submission's own notification.
        assert_eq!((inbox["page"]["total"].as_i64(), inbox["unread"].as_i64()), (Some(3), Some(3)));
        assert!(inbox["items"].as_array().unwrap().iter().all(|n| n["read_at"].is_null()));
        let other_department = app.buyer_token("BPD", "pat");
        assert_eq!(app.get("/api/v1/notifications", &other_department).await.ok(200)["page"]["total"], 0);

        // Marking one read is the reader's own: a colleague in the department still sees it unread.
        let first = inbox["items"][0]["id"].as_str().unwrap().to_string();
        let read = app.post(&format!("/api/v1/notifications/{first}/read"), &bea, json!({})).await;
        assert_eq!(read.ok(200)["marked"], json!([first]));
        assert_eq!(read.body["unread"], 2);
        let again = app.post(&format!("/api/v1/notifications/{first}/read"), &bea, json!({})).await;
        assert_eq!((again.ok(200)["marked"].clone(), again.body["unread"].clone()), (json!([]), json!(2)));
        let unread = app.get("/api/v1/notifications?unread=true", &bea).await.ok(200).clone();
        assert_eq!(unread["page"]["total"], 2);
        assert!(unread["items"].as_array().unwrap().iter().all(|n| n["id"] != first.as_str()));
        let listed = app.get("/api/v1/notifications", &bea).await.ok(200).clone();
        let marked = listed["items"].as_array().unwrap().iter().find(|n| n["id"] == first.as_str()).unwrap().clone();
        assert!(marked["read_at"].is_string());
        let colleague = app.buyer_token("DOIT", "bob");
        assert_eq!(app.get("/api/v1/notifications", &colleague).await.ok(200)["unread"], 3);

        // Nobody marks what is not addressed to them.
        let vendor_token = app.vendor_token(vendor.parse().unwrap());
        let vendors = app.get("/api/v1/notifications", &vendor_token).await.ok(200).clone();
        let vendors_first = vendors["items"][0]["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/notifications/{vendors_first}/read"), &bea, json!({})).await.problem(404, "not_found");
        let stranger = app.vendor_token(uuid::Uuid::new_v4());
        app.post(&format!("/api/v1/notifications/{vendors_first}/read"), &stranger, json!({})).await.problem(404, "not_found");

        let all = app.post("/api/v1/notifications/read", &bea, json!({})).await;
        assert_eq!((all.ok(200)["marked"].as_array().unwrap().len(), all.body["unread"].as_i64()), (2, Some(0)));
        assert_eq!(app.count("SELECT COUNT(*) FROM notification_reads").await, 3);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'notification.read'").await, 2);
        app.stop().await;
    }
);

both!(
    async fn a_contract_is_replaced_conditionally_and_its_buyers_hear_it_is_ending(backend) {
        let receiver = Receiver::default();
        let app = spawn_with_receiver(backend, &receiver).await;
        let vendor = request_with_questionnaires(&app, &receiver).await;
        let bea = app.buyer_token("DOIT", "bea");
        let request = app.get("/api/v1/requests", &bea).await.ok(200)["items"][0]["id"].as_str().unwrap().to_string();
        let cio = app.token(Role::Cio);
        let today = Utc::now().date_naive();
        let body = |title: &str, end_days: i64, requests: Value| {
            json!({"vendor_id": vendor, "contract_number": "C-2026-044", "title": title,
                   "start_date": today.to_string(), "end_date": (today + Duration::days(end_days)).to_string(),
                   "value_cents": 5_000_000, "renewal_notice_days": 30, "request_ids": requests})
        };
        let created = app.post("/api/v1/contracts", &cio, body("Case management", 400, json!([]))).await;
        let created = created.ok(201).clone();
        assert_eq!(created["status"], "active");
        let path = format!("/api/v1/contracts/{}", created["id"].as_str().unwrap());

        let put = |token: &str, body: Value, if_match: Option<&'static str>| {
            let token = token.to_string();
            let path = path.clone();
            let app = &app;
            async move {
                let headers: Vec<(&str, &str)> = if_match.map(|v| vec![("If-Match", v)]).unwrap_or_default();
                app.call(Method::PUT, &path, Some(&token), Some(&body), &headers).await
            }
        };
        put(&bea, body("x", 20, json!([])), None).await.problem(403, "forbidden");
        put(&cio, body("Case management, shortened", 20, json!([request])), Some("\"9\"")).await.problem(412, "stale_etag");
        put(&cio, body("Case management, shortened", 20, json!([request])), None).await.problem(428, "precondition_required");
        let moved = put(&cio, json!({"vendor_id": uuid::Uuid::new_v4(), "contract_number": "C-2026-044", "title": "t",
                                     "start_date": today.to_string(), "end_date": today.to_string(),
                                     "value_cents": 1, "renewal_notice_days": 0}), Some("\"1\"")).await;
        moved.problem(422, "validation_failed");
        assert_eq!(moved.fields(), ["vendor_id"]);
        let foreign = put(&cio, body("t", 20, json!([uuid::Uuid::new_v4()])), Some("\"1\"")).await;
        foreign.problem(422, "validation_failed");
        assert_eq!(foreign.fields(), ["request_ids[0]"]);
        let unchanged = app.get(&path, &cio).await.ok(200).clone();
        assert_eq!((unchanged["version"].as_i64(), unchanged["title"].as_str()), (Some(1), Some("Case management")));

        let replaced = put(&cio, body("Case management, shortened", 20, json!([request])), Some("\"1\"")).await;
        let replaced = replaced.ok(200).clone();
        assert_eq!(replaced["version"], 2);
        assert_eq!(replaced["status"], "expiring", "20 days left inside a 30-day notice period");
        assert_eq!(replaced["request_ids"], json!([request]));
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'contract.updated'").await, 1);

        let report = run_once(&app.store, &app.config, Utc::now()).await.unwrap();
        assert_eq!(report.notifications, 2, "the CIO office and the buying department: {report:?}");
        let inbox = app.get("/api/v1/notifications", &bea).await.ok(200).clone();
        assert_eq!(inbox["items"][0]["kind"], "contract_ending");
        assert_eq!(inbox["items"][0]["recipient_department"], "DOIT");
        assert_eq!(inbox["items"][0]["subject_id"], created["id"]);
        app.stop().await;
    }
);

both!(
    async fn a_delivery_whose_runner_died_is_delivered_when_its_lease_runs_out(backend) {
        let receiver = Receiver::default();
        let app = spawn_with_receiver(backend, &receiver).await;
        request_with_questionnaires(&app, &receiver).await;
        let now = week_before_due();
        // Make the notifications and their outbox rows without delivering them.
        let mut quiet = app.config.clone();
        quiet.webhook_secret = None;
        assert_eq!(run_once(&app.store, &quiet, now).await.unwrap().notifications, 2);
        // A runner claims both for two minutes and dies.
        let claimed = app.store.claim_deliveries(procurement_review::domain::webhooks::DeliveryChannel::Webhook, "runner-dead", now, now + Duration::minutes(2), 50).await.unwrap();
        assert_eq!(claimed.len(), 2);

        let during = run_once(&app.store, &app.config, now + Duration::minutes(1)).await.unwrap();
        assert_eq!(during.delivered, 0, "the claims are still live");
        let after = run_once(&app.store, &app.config, now + Duration::minutes(3)).await.unwrap();
        assert_eq!(after.delivered, 2, "the lease ran out: another runner takes them over");
        assert_eq!(receiver.accepted().len(), 2);
        // The dead runner, coming back, records nothing over the new owner's result.
        let late = app
            .store
            .finish_delivery(claimed[0].id, "runner-dead", DeliveryOutcome::Delivered, now + Duration::minutes(4))
            .await
            .unwrap();
        assert!(!late);
        // The two reminders and the three notifications of the submission, each delivered on its first attempt.
        assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1").await, 5);
        app.stop().await;
    }
);

/// The kinds of the notifications `token` sees.
async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let page = app
        .get("/api/v1/notifications?limit=200", token)
        .await
        .ok(200)
        .clone();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

both!(
    async fn remediation_risk_reassessment_and_escalation_reminders_come_from_the_stored_dates(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Every Reminder Co").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &analyst).await.ok(200).clone();
        let critical = template["sections"].as_array().unwrap().iter()
            .flat_map(|s| s["questions"].as_array().unwrap())
            .find(|q| q["kind"] == "yes_no" && q["weight"] == "critical" && q["show_if"].is_null())
            .unwrap()["id"].as_str().unwrap().to_string();
        let (vendor_token, _, finding) = crate::assessments::accepted_with_a_finding(&app, &vendor, &critical).await;
        let fid = finding["id"].as_str().unwrap();
        let today = Utc::now().date_naive();

        // A remediation due in 5 days: the vendor hears at the 7-day threshold.
        app.finding_action(&vendor_token, fid, "remediation",
                 json!({"plan": "Turn on MFA for every admin", "due_date": (today + Duration::days(5)).to_string()}))
            .await
            .ok(200);
        run_once(&app.store, &app.config, Utc::now()).await.unwrap();
        assert!(kinds(&app, &vendor_token).await.contains(&"remediation_due".to_string()));

        // The CIO accepts the risk until 20 days from now: the CIO office, which alone renews it, and the vendor
        // whose finding it is hear at the 30-day threshold.
        let cio = app.token(Role::Cio);
        app.finding_action(&cio, fid, "risk-acceptance",
                 json!({"rationale": "Compensating monitoring", "expires_on": (today + Duration::days(20)).to_string()}))
            .await
            .ok(200);
        // The annual review is late: the last accepted assessment is 14 months old.
        app.exec_sql("UPDATE assessment_reviews SET reviewed_at = '2025-09-01T12:00:00+00:00'").await;
        // A request over the CIO's threshold has waited for a decision longer than the policy's 10 days.
        let buyer = app.buyer_token("DOIT", "bea");
        let (waiting, submitted) = app
            .draft_and_submit(&buyer, json!({"title": "E-signature", "vendor_id": vendor["id"], "product_name": "SignIt",
                      "capital_cost_cents": 0, "annual_operating_cost_cents": 6_000_000, "term_months": 12,
                      "expected_users": 40, "hosting": "on_premises", "data_classes": ["public"],
                      "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false}))
            .await;
        assert_eq!(submitted["status"], "awaiting_decision");

        let later = Utc::now() + Duration::days(11);
        run_once(&app.store, &app.config, later).await.unwrap();
        let analyst_kinds = kinds(&app, &analyst).await;
        assert!(!analyst_kinds.contains(&"risk_acceptance_expiring".to_string()), "{analyst_kinds:?}");
        assert!(kinds(&app, &cio).await.contains(&"risk_acceptance_expiring".to_string()));
        assert!(kinds(&app, &vendor_token).await.contains(&"risk_acceptance_expiring".to_string()));
        assert!(analyst_kinds.contains(&"reassessment_overdue".to_string()), "{analyst_kinds:?}");
        let escalations: Vec<Value> = app.get("/api/v1/notifications", &cio).await.ok(200)["items"]
            .as_array().unwrap().iter().filter(|n| n["kind"] == "decision_escalation").cloned().collect();
        assert_eq!(escalations.len(), 1);
        assert_eq!(escalations[0]["subject_id"], waiting.as_str());
        assert!(kinds(&app, &buyer).await.contains(&"decision_escalation".to_string()));

        // Nothing more on a rerun the same day.
        assert_eq!(run_once(&app.store, &app.config, later).await.unwrap().notifications, 0);
        app.stop().await;
    }
);

both!(
    async fn a_receiver_behind_the_citys_own_authority_is_reached_once_tls_ca_file_names_it(backend) {
        let https = HttpsReceiver::default();
        let url = https.start().await;
        let app = TestApp::spawn_with(backend, |c: &mut Config| {
            c.webhook_urls = vec![url];
            c.webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
        })
        .await;
        // The submission's three notifications: the pass does not know the receiver's authority.
        request_with_questionnaires(&app, &Receiver::default()).await;
        assert_eq!(https.requests(), 0, "refused in the handshake");
        let admin = app.token(Role::Admin);
        let pending = app.get("/api/v1/webhooks/deliveries?status=pending", &admin).await.ok(200).clone();
        assert_eq!(pending["page"]["total"], 3);
        let error = pending["items"][0]["last_error"].as_str().unwrap();
        assert!(error.contains("invalid peer certificate: UnknownIssuer"), "{error}");

        let mut trusting = app.config.clone();
        trusting.tls_ca_file = Some(test_keys().join("test-ca.pem"));
        let report = run_once(&app.store, &trusting, Utc::now() + Duration::hours(1)).await.unwrap();
        assert_eq!((report.delivered, report.retried), (3, 0));
        assert_eq!(https.requests(), 3);
        let delivered = app.get("/api/v1/webhooks/deliveries?status=delivered", &admin).await.ok(200).clone();
        assert_eq!(delivered["page"]["total"], 3);
        app.stop().await;
    }
);
