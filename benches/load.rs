//! Load script: drives the whole request flow (draft, submit, CIO decision, read the route) over HTTP with
//! concurrent clients and prints latency percentiles and throughput per operation.
//!
//! `cargo bench --bench load` starts the service in-process on a fresh SQLite file (or on PostgreSQL when
//! `LOAD_DATABASE_URL` names one) on a loopback port. Bounded: `LOAD_CLIENTS` (default 8) clients run for
//! `LOAD_SECONDS` (default 10) seconds or `LOAD_MAX_FLOWS` (default 5000) flows, whichever ends first.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use procurement_review::auth::{MintRequest, Role, Verifier};
use procurement_review::config::{Config, Secret};
use procurement_review::startup::Application;
use serde_json::{Value, json};

const SECRET: &str = "load-test-secret-load-test-secret";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn token(v: &Verifier, role: Role, sub: &str, department: Option<&str>) -> String {
    v.mint(&MintRequest {
        role,
        subject: sub.into(),
        department: department.map(str::to_string),
        vendor: None,
        ttl_seconds: 3600,
    })
    .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` and `cargo bench -- --list` must not start a load run.
    }
    let clients: usize = env_or("LOAD_CLIENTS", 8);
    let seconds: u64 = env_or("LOAD_SECONDS", 10);
    let max_flows: usize = env_or("LOAD_MAX_FLOWS", 5000);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("LOAD_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("load.db").display()));
    let mut config = Config {
        database_url: Secret::new(url.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        log_level: "warn".into(),
        ..Config::default()
    };
    config.auth.hs256_secret = Some(Secret::new(SECRET));
    let app = Application::build(config).await.expect("service starts");
    let base = format!("http://{}", app.addr());
    let backend = app.store().backend();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));

    let verifier = Verifier::new(&Default::default(), &Secret::new(SECRET)).unwrap();
    let admin = token(&verifier, Role::Admin, "load-admin", None);
    let http = reqwest::Client::new();
    http.post(format!("{base}/api/v1/departments"))
        .bearer_auth(&admin)
        .json(&json!({"code": "LOAD", "name": "Load testing"}))
        .send()
        .await
        .unwrap();
    let mut vendors = Vec::new();
    for i in 0..50 {
        let v: Value = http
            .post(format!("{base}/api/v1/vendors"))
            .bearer_auth(&admin)
            .json(&json!({"legal_name": format!("Load vendor {i}"), "hq_country": "US"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        vendors.push(v["id"].as_str().unwrap().to_string());
    }

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let flows = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let base = base.clone();
        let vendors = vendors.clone();
        let flows = flows.clone();
        let buyer = token(&verifier, Role::Buyer, &format!("buyer-{c}"), Some("LOAD"));
        let cio = token(&verifier, Role::Cio, &format!("cio-{c}"), None);
        tasks.push(tokio::spawn(async move {
            let mut timings: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
            let mut errors = 0usize;
            let mut n = 0usize;
            while Instant::now() < deadline && flows.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < max_flows {
                n += 1;
                let vendor = &vendors[(c * 7 + n) % vendors.len()];
                let body = json!({
                    "title": format!("Load flow {c}-{n}"), "vendor_id": vendor, "product_name": "Widget",
                    "capital_cost_cents": 0, "annual_operating_cost_cents": 6_000_000, "term_months": 12,
                    "expected_users": 50, "hosting": "on_premises", "data_classes": ["public"],
                    "requested_start_date": "2026-09-01", "renewal": false, "enterprise_agreement": false,
                    "surveillance": false, "face_surveillance": false
                });
                let t = Instant::now();
                let r = http.post(format!("{base}/api/v1/requests")).bearer_auth(&buyer).json(&body).send().await;
                let Ok(r) = r else { errors += 1; continue };
                if r.status() != 201 { errors += 1; continue; }
                let etag = r.headers()["etag"].to_str().unwrap().to_string();
                let created: Value = r.json().await.unwrap();
                timings.entry("createRequest").or_default().push(t.elapsed());
                let id = created["id"].as_str().unwrap().to_string();

                let t = Instant::now();
                let r = http
                    .post(format!("{base}/api/v1/requests/{id}/submit"))
                    .bearer_auth(&buyer)
                    .header("If-Match", &etag)
                    .send()
                    .await;
                let Ok(r) = r else { errors += 1; continue };
                if r.status() != 200 { errors += 1; continue; }
                let etag = r.headers()["etag"].to_str().unwrap().to_string();
                timings.entry("submitRequest").or_default().push(t.elapsed());

                let t = Instant::now();
                let r = http
                    .post(format!("{base}/api/v1/requests/{id}/decisions"))
                    .bearer_auth(&cio)
                    .header("If-Match", &etag)
                    .json(&json!({"step": "cio_approval", "outcome": "approve"}))
                    .send()
                    .await;
                if !r.is_ok_and(|r| r.status() == 201) { errors += 1; continue; }
                timings.entry("decideRequest").or_default().push(t.elapsed());

                let t = Instant::now();
                let r = http.get(format!("{base}/api/v1/requests/{id}/route")).bearer_auth(&buyer).send().await;
                if !r.is_ok_and(|r| r.status() == 200) { errors += 1; continue; }
                timings.entry("getRoute").or_default().push(t.elapsed());
            }
            (timings, errors)
        }));
    }
    let mut all: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    let mut errors = 0;
    for t in tasks {
        let (timings, e) = t.await.unwrap();
        errors += e;
        for (k, v) in timings {
            all.entry(k).or_default().extend(v);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("load: {backend}, {clients} clients, {elapsed:.1} s, {errors} errors");
    println!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "operation", "count", "p50 ms", "p95 ms", "p99 ms", "per s"
    );
    for (op, mut v) in all {
        v.sort();
        println!(
            "{op:<16} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>10.0}",
            v.len(),
            percentile(&v, 0.50),
            percentile(&v, 0.95),
            percentile(&v, 0.99),
            v.len() as f64 / elapsed
        );
    }
    let _ = stop_tx.send(());
    let _ = server.await;
}
