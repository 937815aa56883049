//! Console pages with lists of 200 rows, served whole: the session looked up, the API called in-process (scope,
//! page of 200 requests, allowed actions), and the page rendered, over a loopback connection.
//!
//! `cargo bench --bench console` starts the service on a fresh SQLite file, drafts and submits 200 requests, and
//! measures a buyer's `/requests` and the CIO's `/inbox` (both 200 rows). Criterion reports the mean; the p95 of
//! every request it timed is printed after each group.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use procurement_review::auth::{MintRequest, Role, Verifier};
use procurement_review::config::{Config, Secret};
use procurement_review::console::session::{LoginLinkRequest, issue_login_link};
use procurement_review::startup::Application;
use serde_json::json;

const SECRET: &str = "console-bench-secret-console-bench";
const ROWS: usize = 200;

struct Served {
    base: String,
    buyer_cookie: String,
    cio_cookie: String,
    _dir: tempfile::TempDir,
}

async fn session(
    base: &str,
    store: &procurement_review::store::Store,
    verifier: &Verifier,
    role: Role,
    sub: &str,
    department: Option<&str>,
) -> String {
    let link = issue_login_link(
        store,
        verifier,
        base,
        &LoginLinkRequest {
            role,
            subject: sub.into(),
            department: department.map(str::to_string),
            vendor: None,
        },
    )
    .await
    .unwrap();
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(link)
        .send()
        .await
        .unwrap();
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    set.split(';').next().unwrap().to_string()
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        database_url: Secret::new(format!(
            "sqlite:{}",
            dir.path().join("console.db").display()
        )),
        listen: "127.0.0.1:0".parse().unwrap(),
        log_level: "warn".into(),
        jobs_interval_seconds: 0,
        questionnaires_dir: None,
        ..Config::default()
    };
    config.auth.hs256_secret = Some(Secret::new(SECRET));
    let app = Application::build(config).await.expect("service starts");
    let base = format!("http://{}", app.addr());
    let store = app.store().clone();
    tokio::spawn(app.run_until(std::future::pending()));

    let verifier = Verifier::new(&Default::default(), &Secret::new(SECRET)).unwrap();
    let mint = |role, sub: &str, department: Option<&str>| {
        verifier
            .mint(&MintRequest {
                role,
                subject: sub.into(),
                department: department.map(str::to_string),
                vendor: None,
                ttl_seconds: 3600,
            })
            .unwrap()
    };
    let (admin, buyer) = (
        mint(Role::Admin, "admin", None),
        mint(Role::Buyer, "bea", Some("DOIT")),
    );
    let http = reqwest::Client::new();
    http.post(format!("{base}/api/v1/departments"))
        .bearer_auth(&admin)
        .json(&json!({"code": "DOIT", "name": "Innovation and Technology"}))
        .send()
        .await
        .unwrap();
    let vendor: serde_json::Value = http
        .post(format!("{base}/api/v1/vendors"))
        .bearer_auth(&admin)
        .json(&json!({"legal_name": "Bench vendor", "hq_country": "US"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for i in 0..ROWS {
        let created: serde_json::Value = http
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&buyer)
            .json(&json!({
                "title": format!("Bench purchase {i}"), "description": "A purchase to list", "vendor_id": vendor["id"],
                "product_name": "Widget", "category": "widgets", "capabilities": ["widgets"],
                "capital_cost_cents": 0, "annual_operating_cost_cents": 6_000_000, "term_months": 12,
                "expected_users": 50, "hosting": "on_premises", "data_classes": ["public"],
                "requested_start_date": "2026-09-01", "renewal": false, "enterprise_agreement": false,
                "surveillance": false, "face_surveillance": false
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().expect("created");
        http.post(format!("{base}/api/v1/requests/{id}/submit"))
            .bearer_auth(&buyer)
            .header("If-Match", format!("\"{}\"", created["version"]))
            .send()
            .await
            .unwrap();
    }
    let buyer_cookie = session(&base, &store, &verifier, Role::Buyer, "bea", Some("DOIT")).await;
    let cio_cookie = session(&base, &store, &verifier, Role::Cio, "carla", None).await;
    Served {
        base,
        buyer_cookie,
        cio_cookie,
        _dir: dir,
    }
}

fn p95(times: &mut [Duration]) -> f64 {
    times.sort();
    let i = ((times.len() as f64 - 1.0) * 0.95).round() as usize;
    times[i].as_secs_f64() * 1000.0
}

fn pages(c: &mut Criterion) {
    let rt = Arc::new(tokio::runtime::Runtime::new().unwrap());
    let served = rt.block_on(serve());
    let http = reqwest::Client::new();
    for (name, path, cookie) in [
        (
            "buyer /requests, 200 rows",
            "/requests",
            &served.buyer_cookie,
        ),
        ("CIO /inbox, 200 rows", "/inbox", &served.cio_cookie),
    ] {
        let url = format!("{}{path}", served.base);
        let first = rt.block_on(async {
            http.get(&url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        let rows = first.matches("<tr>").count() - 1;
        assert_eq!(rows, ROWS, "{name}: the page lists every row");
        let timed = Mutex::new(Vec::new());
        c.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let started = Instant::now();
                    let body = rt.block_on(async {
                        http.get(&url)
                            .header("cookie", cookie)
                            .send()
                            .await
                            .unwrap()
                            .bytes()
                            .await
                            .unwrap()
                    });
                    let took = started.elapsed();
                    assert!(body.len() > 10_000);
                    total += took;
                    timed.lock().unwrap().push(took);
                }
                total
            })
        });
        let mut times = timed.into_inner().unwrap();
        println!(
            "{name}: p95 {:.2} ms over {} requests",
            p95(&mut times),
            times.len()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(8));
    targets = pages
}
criterion_main!(benches);
