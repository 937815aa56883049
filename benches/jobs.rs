//! The job runner's pass at city scale, on SQLite: 1,000 vendors, 5,000 approved requests holding personal
//! information, 5,000 accepted assessments (the re-assessment schedule), 3,000 open questionnaires, 2,000
//! remediation plans, 500 risk acceptances and 1,000 contracts, with due dates spread over the coming months.
//!
//! Prints the first pass (which makes every reminder due that day) once, then measures the steady pass the runner
//! repeats every `jobs_interval_seconds`, when everything due has already been made. A last pass sends 1,000
//! queued e-mails to an SMTP sink on 127.0.0.1 (the tests' sink).

use std::time::Instant;

use chrono::{Duration, NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use procurement_review::config::{Config, Secret, SmtpSecurity};
use procurement_review::domain::registry::NewVendor;
use procurement_review::domain::requests::{RequestFields, RequestInput};
use procurement_review::jobs::run_once;
use procurement_review::store::{Actor, FanOut, NewNotification, Store};
use uuid::Uuid;

#[allow(dead_code)]
#[path = "../tests/api/smtp_sink.rs"]
mod smtp_sink;

const VENDORS: usize = 1_000;
const REQUESTS: usize = 5_000;
const OPEN_QUESTIONNAIRES: usize = 3_000;
const REMEDIATIONS: usize = 2_000;
const RISK_ACCEPTANCES: usize = 500;
const CONTRACTS: usize = 1_000;

async fn seeded(dir: &std::path::Path) -> Store {
    let url = Secret::new(format!("sqlite:{}", dir.join("jobs.db").display()));
    let store = Store::open(&url, 4).await.unwrap();
    store.bootstrap().await.unwrap();
    let actor = Actor::system();
    let mut vendors = Vec::new();
    for i in 0..VENDORS {
        let new = NewVendor {
            legal_name: format!("Vendor {i}"),
            website: None,
            hq_country: "US".into(),
            contacts: vec![],
        };
        vendors.push(store.create_vendor(&actor, new).await.unwrap().id);
    }
    let fields = RequestFields::parse(
        RequestInput {
            title: Some("Seeded".into()),
            vendor_id: Some(vendors[0]),
            product_name: Some("Thing".into()),
            capital_cost_cents: Some(0),
            annual_operating_cost_cents: Some(1_000_000),
            term_months: Some(12),
            expected_users: Some(50),
            hosting: Some("vendor_cloud".into()),
            data_classes: Some(vec!["pi_ma".into()]),
            requested_start_date: NaiveDate::from_ymd_opt(2026, 10, 1),
            renewal: Some(false),
            enterprise_agreement: Some(false),
            surveillance: Some(false),
            face_surveillance: Some(false),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let fields = serde_json::to_string(&fields).unwrap();
    let Store::Sqlite(repo) = &store else {
        unreachable!()
    };
    let now = Utc::now();
    let today = now.date_naive();
    let day = |n: usize| today + Duration::days(n as i64);
    let mut tx = repo.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO template_versions (template_id, version, file_name, source, loaded_at, current) \
         VALUES ('t', 'v1', 't.toml', '', $1, TRUE), ('t2', 'v1', 't2.toml', '', $1, TRUE)",
    )
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    for i in 0..REQUESTS {
        let request = Uuid::new_v4();
        let vendor = vendors[i % VENDORS];
        sqlx::query(
            "INSERT INTO requests (id, department_code, vendor_id, status, title, fields, total_contract_value_cents, \
             fiscal_year, submission, created_by, version, created_at, updated_at, holds_personal_information) \
             VALUES ($1, 'BPD', $2, 'approved', 'seed', $3, 1000000, 2027, 1, 'seed', 1, $4, $4, TRUE)",
        )
        .bind(request)
        .bind(vendor)
        .bind(&fields)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        // Every request has an accepted assessment, reviewed over the last 18 months; the first few thousand
        // also have a second one still open, due over the next 60 days.
        let accepted = Uuid::new_v4();
        for (id, template, status, due) in [
            (accepted, "t", "accepted", day(0)),
            (Uuid::new_v4(), "t2", "open", day(i % 60)),
        ] {
            if status == "open" && i >= OPEN_QUESTIONNAIRES {
                continue;
            }
            sqlx::query(
                "INSERT INTO assessments (id, request_id, vendor_id, template_id, template_version, status, due_date, \
                 submission, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 'v1', $5, $6, 1, 1, $7, $7)",
            )
            .bind(id)
            .bind(request)
            .bind(vendor)
            .bind(template)
            .bind(status)
            .bind(due)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO assessment_reviews (id, assessment_id, submission, outcome, comments, reviewer, reviewed_at) \
             VALUES ($1, $2, 1, 'accepted', '[]', 'seed', $3)",
        )
        .bind(Uuid::new_v4())
        .bind(accepted)
        .bind(now - Duration::days((i % 540) as i64))
        .execute(&mut *tx)
        .await
        .unwrap();
        if i < REMEDIATIONS + RISK_ACCEPTANCES {
            let (status, remediation_due, risk_expires) = if i < REMEDIATIONS {
                ("remediation_planned", Some(day(i % 90)), None)
            } else {
                ("risk_accepted", None, Some(day(i % 365)))
            };
            sqlx::query(
                "INSERT INTO findings (id, assessment_id, request_id, vendor_id, question_id, severity, title, reason, \
                 status, remediation_due, risk_expires_on, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'Q-1', 'standard', 't', 'r', $5, $6, $7, 1, $8, $8)",
            )
            .bind(Uuid::new_v4())
            .bind(accepted)
            .bind(request)
            .bind(vendor)
            .bind(status)
            .bind(remediation_due)
            .bind(risk_expires)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        if i < CONTRACTS {
            let contract = Uuid::new_v4();
            let end = day(i % 400);
            sqlx::query(
                "INSERT INTO contracts (id, vendor_id, contract_number, title, start_date, end_date, value_cents, \
                 renewal_notice_days, notice_starts_on, safeguard_clauses, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, 't', $4, $5, 100, 60, $6, '[]', 'seed', $7, $7)",
            )
            .bind(contract)
            .bind(vendor)
            .bind(format!("C-{i}"))
            .bind(today - Duration::days(365))
            .bind(end)
            .bind(end - Duration::days(60))
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query("INSERT INTO contract_requests (contract_id, request_id) VALUES ($1, $2)")
                .bind(contract)
                .bind(request)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    store
}

fn bench_pass(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(seeded(dir.path()));
    let config = Config::default();
    let now = Utc::now();
    let started = Instant::now();
    let first = rt.block_on(run_once(&store, &config, now)).unwrap();
    println!(
        "jobs/first pass: {} notifications made in {:.1} ms",
        first.notifications,
        started.elapsed().as_secs_f64() * 1000.0
    );
    c.bench_function("jobs/steady pass, nothing new due (sqlite)", |b| {
        b.iter(|| {
            let report = rt.block_on(run_once(&store, &config, now)).unwrap();
            assert_eq!(report.notifications, 0);
        })
    });
    // The whole schedule (the job runner, the overdue list), and what `GET /vendors/{id}` and a page of
    // `GET /vendors` pay for `next_review_on`.
    c.bench_function(
        "jobs/re-assessment schedule of every vendor (sqlite)",
        |b| {
            b.iter(|| {
                let dates = rt.block_on(store.reassessment_schedule(12, None)).unwrap();
                assert!(!dates.is_empty());
            })
        },
    );
    let vendors: Vec<uuid::Uuid> = rt
        .block_on(store.reassessment_schedule(12, None))
        .unwrap()
        .into_keys()
        .collect();
    c.bench_function("jobs/re-assessment schedule of one vendor (sqlite)", |b| {
        b.iter(|| {
            let dates = rt
                .block_on(store.reassessment_schedule(12, Some(&vendors[..1])))
                .unwrap();
            assert_eq!(dates.len(), 1);
        })
    });
    c.bench_function("jobs/for scale: read one vendor's row (sqlite)", |b| {
        b.iter(|| rt.block_on(store.get_vendor(vendors[0])).unwrap().unwrap())
    });
    c.bench_function(
        "jobs/re-assessment schedule of a page of 50 vendors (sqlite)",
        |b| {
            b.iter(|| {
                let dates = rt
                    .block_on(store.reassessment_schedule(12, Some(&vendors[..50])))
                    .unwrap();
                assert_eq!(dates.len(), 50);
            })
        },
    );
}

/// Messages queued per e-mail pass.
const MESSAGES: usize = 1_000;

/// Queues [`MESSAGES`] notifications to the CIO office, fanned out to one e-mail each (not timed).
async fn queue_messages(store: &Store, config: &Config, round: usize) {
    let items = (0..MESSAGES)
        .map(|i| NewNotification {
            recipient_role: "cio".into(),
            recipient_dept: None,
            recipient_vendor: None,
            kind: "decision_escalation".into(),
            subject_type: "request".into(),
            subject_id: Uuid::new_v4().to_string(),
            dedup_key: format!("bench-{round}-{i}"),
            message: "a decision has waited 10 days".into(),
            payload: serde_json::json!({}),
        })
        .collect();
    let now = Utc::now();
    store.insert_notifications(items, now).await.unwrap();
    let fan_out = FanOut {
        webhook_urls: &[],
        mail: Some(config.mail.mailboxes()),
        public_url: &config.public_url,
    };
    assert_eq!(store.fan_out(&fan_out, now).await.unwrap(), MESSAGES);
}

/// The job runner's e-mail pass: 1,000 queued messages sent over SMTP to a sink on 127.0.0.1 (one pooled
/// connection, one SMTP transaction and one outbox update per message).
fn bench_mail(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sink = rt.block_on(smtp_sink::Sink::start(smtp_sink::Mode::Accept));
    let url = Secret::new(format!("sqlite:{}", dir.path().join("mail.db").display()));
    let store = rt.block_on(Store::open(&url, 4)).unwrap();
    rt.block_on(store.bootstrap()).unwrap();
    let mut config = Config::default();
    config.mail.smtp_host = Some("127.0.0.1".into());
    config.mail.smtp_port = Some(sink.port);
    config.mail.smtp_security = SmtpSecurity::None;
    config.mail.from = Some("Procurement Review <procurement@city.example>".into());
    config.mail.cio_office = vec!["cio-office@city.example".into()];
    let mut round = 0;
    c.bench_function(
        "jobs/e-mail pass: 1,000 queued messages to a local SMTP sink (sqlite)",
        |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    rt.block_on(queue_messages(&store, &config, round));
                    let started = Instant::now();
                    let report = rt.block_on(run_once(&store, &config, Utc::now())).unwrap();
                    total += started.elapsed();
                    assert_eq!(report.mailed, MESSAGES);
                }
                total
            })
        },
    );
    assert_eq!(sink.received().len(), round * MESSAGES);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_pass, bench_mail
}
criterion_main!(benches);
