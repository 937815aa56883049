//! Load at a city's scale (issue #21): the release binary serves a database holding 100,000 requests over ten
//! fiscal years, 10,000 vendors, 20,000 assessments with answers and a million audit records, and concurrent
//! keep-alive clients drive each operation for a few seconds beside the server's own `/healthz` in the same run
//! (the ceiling on this machine), printing throughput, p50/p99 and the ratio to the ceiling, then the time of a
//! 100,000-row register and the server's peak resident memory.
//!
//! `cargo bench --bench city` runs on SQLite; with `CITY_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres`
//! it runs on PostgreSQL too, in a database `city_<scale>` it creates on that server. The data is made once
//! through the service's own API (`tests/api/city_data.rs`; about 10 minutes a backend on the 2-core machine) and
//! kept: the SQLite file under `target/city/`, the PostgreSQL database by name. `CITY_DIVIDE=10` makes and uses a
//! tenth of the scale; `CITY_SECONDS` (default 8) is each operation's run, `CITY_CONNECTIONS` (default 32) the
//! connections of the read runs; `CITY_BINARY=path` runs that build of the server instead of this one's (to
//! compare a change with the code before it on the same data); `CITY_ONLY=text` runs only the operations whose
//! name contains the text (beside `/healthz`), to profile one of them (`perf record -p` on the server while it
//! runs).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use procurement_review::auth::{Role, Verifier};
use procurement_review::config::{Config, Secret};
use procurement_review::startup::Application;
use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../tests/api/city_data.rs"]
mod city_data;

use city_data::{Scale, generate, request_body, token};

const SECRET: &str = "city-bench-secret-city-bench-secret";
const MARKER: &str = "city_data";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Makes the data at `url` unless an earlier run did (its marker names the scale).
async fn ensure_generated(url: &str, scale: &Scale) {
    let mut config = Config {
        database_url: Secret::new(url.to_string()),
        listen: "127.0.0.1:0".parse().unwrap(),
        log_level: "warn".into(),
        jobs_interval_seconds: 0,
        ..Config::default()
    };
    config.auth.hs256_secret = Some(Secret::new(SECRET));
    let app = Application::build(config).await.expect("service starts");
    let store = app.store().clone();
    let label = scale.label();
    let marker = marker(&store).await;
    if marker.as_deref() == Some(label.as_str()) {
        eprintln!("{url}: data of scale {label} already made");
        return;
    }
    assert!(
        marker.is_none(),
        "{url} holds data of another scale ({marker:?}); remove it first"
    );
    let base = format!("http://{}", app.addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
    }));
    let verifier = Verifier::new(&Default::default(), &Secret::new(SECRET)).unwrap();
    eprintln!("{url}: making data of scale {label}");
    let made = generate(&base, &verifier, &store, scale, true).await;
    eprintln!(
        "made {} requests, {} vendors, {} assessments ({} answered), {} decisions; appended {} audit records",
        made.requests.len(),
        made.vendors.len(),
        made.assessments,
        made.answered,
        made.decisions,
        made.audit_appended
    );
    set_marker(&store, &label).await;
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}

async fn marker(store: &procurement_review::store::Store) -> Option<String> {
    use procurement_review::store::Store;
    let q = "SELECT value FROM instance_settings WHERE key = $1";
    let found: Option<(String,)> = match store {
        Store::Sqlite(r) => sqlx::query_as(q).bind(MARKER).fetch_optional(&r.pool).await,
        Store::Postgres(r) => sqlx::query_as(q).bind(MARKER).fetch_optional(&r.pool).await,
    }
    .unwrap();
    found.map(|(v,)| v)
}

async fn set_marker(store: &procurement_review::store::Store, label: &str) {
    use procurement_review::store::Store;
    let q = "INSERT INTO instance_settings (key, value) VALUES ($1, $2)";
    match store {
        Store::Sqlite(r) => {
            sqlx::query(q)
                .bind(MARKER)
                .bind(label)
                .execute(&r.pool)
                .await
                .unwrap();
        }
        Store::Postgres(r) => {
            sqlx::query(q)
                .bind(MARKER)
                .bind(label)
                .execute(&r.pool)
                .await
                .unwrap();
        }
    }
}

/// The release binary serving `url` on a free loopback port.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    async fn start(url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // `CITY_BINARY` drives another build of the server on the same data (a before-and-after comparison).
        let binary = std::env::var("CITY_BINARY")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_procurement-review").to_string());
        let child = std::process::Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("PROCUREMENT_REVIEW_DATABASE_URL", url)
            .env("PROCUREMENT_REVIEW_AUTH_HS256_SECRET", SECRET)
            .env("PROCUREMENT_REVIEW_JOBS_INTERVAL_SECONDS", "0")
            .env("PROCUREMENT_REVIEW_LOG_LEVEL", "warn")
            .spawn()
            .expect("the release binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{base}/readyz")).send().await
                && r.status() == 200
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "the server did not get ready"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("server ready in {:.1} s", started.elapsed().as_secs_f64());
        Server { child, base }
    }

    /// Resident memory now and at its peak, in MB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kb = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1024.0
        };
        (kb("VmRSS:"), kb("VmHWM:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one operation's run gave.
struct Run {
    name: String,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    failures: usize,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
}

/// `connections` clients, each on its own keep-alive connection, repeat `op(client, n)` for `seconds`.
async fn drive<F, Fut>(name: &str, connections: usize, seconds: f64, op: F) -> Run
where
    F: Fn(reqwest::Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let op = op.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .http1_only()
                .build()
                .unwrap();
            let mut latencies = Vec::new();
            let mut failures = 0;
            while Instant::now() < until {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let ok = op(client.clone(), n).await;
                latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if !ok {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await.unwrap();
        all.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Run {
        name: name.to_string(),
        per_second: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.5),
        p99_ms: percentile(&all, 0.99),
        failures,
    }
}

async fn get_ok(client: &reqwest::Client, url: String, token: &str) -> bool {
    match client.get(url).bearer_auth(token).send().await {
        Ok(r) => {
            let ok = r.status().is_success();
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    }
}

async fn bench_backend(label: &str, url: &str, scale: &Scale) {
    ensure_generated(url, scale).await;
    let server = Server::start(url).await;
    let base = Arc::new(server.base.clone());
    let seconds: f64 = env_or("CITY_SECONDS", 8.0);
    let connections: usize = env_or("CITY_CONNECTIONS", 32);
    let verifier = Verifier::new(&Default::default(), &Secret::new(SECRET)).unwrap();
    let cio = Arc::new(token(&verifier, Role::Cio, "bench-cio", None, None));
    let auditor = Arc::new(token(&verifier, Role::Auditor, "bench-auditor", None, None));
    let buyer = Arc::new(token(
        &verifier,
        Role::Buyer,
        "bench-buyer",
        Some("DOIT"),
        None,
    ));

    // A sample of requests and vendors to read, spread over the whole table.
    let http = reqwest::Client::new();
    let mut ids: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut vendors: Vec<String> = Vec::new();
    while ids.len() < 2_000 {
        let url = match &cursor {
            Some(c) => format!("{base}/api/v1/requests?limit=200&cursor={c}"),
            None => format!("{base}/api/v1/requests?limit=200"),
        };
        let page: Value = http
            .get(url)
            .bearer_auth(&*cio)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_string());
            vendors.push(
                item["fields"]["vendor_id"]
                    .as_str()
                    .expect("a vendor id")
                    .to_string(),
            );
        }
        match page["page"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        // Skip ahead so the sample covers old requests as well as new.
        for _ in 0..(scale.requests / 20_000).min(20) {
            let Some(c) = &cursor else { break };
            let page: Value = http
                .get(format!("{base}/api/v1/requests?limit=100&cursor={c}"))
                .bearer_auth(&*cio)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            cursor = page["page"]["next_cursor"].as_str().map(str::to_string);
        }
    }
    let ids = Arc::new(ids);
    let vendors = Arc::new(vendors);
    println!(
        "\n## {label}: {} (sampled {} requests)\n",
        scale.label(),
        ids.len()
    );

    type PathOf = Arc<dyn Fn(usize) -> String + Send + Sync>;
    let fixed = |p: &'static str| -> PathOf { Arc::new(move |_| p.to_string()) };
    let of_request = |suffix: &'static str| -> PathOf {
        let ids = ids.clone();
        Arc::new(move |n| format!("/api/v1/requests/{}{suffix}", ids[n % ids.len()]))
    };
    let reads: Vec<(&str, PathOf, &Arc<String>)> = vec![
        ("GET /healthz", fixed("/healthz"), &cio),
        ("GET /api/v1/me", fixed("/api/v1/me"), &cio),
        ("GET /api/v1/requests/{id}", of_request(""), &cio),
        (
            "GET /api/v1/requests/{id}/route",
            of_request("/route"),
            &cio,
        ),
        (
            "GET /api/v1/requests?limit=50 (CIO: all)",
            fixed("/api/v1/requests?limit=50"),
            &cio,
        ),
        (
            "GET /api/v1/requests?limit=50 (a department's buyer)",
            fixed("/api/v1/requests?limit=50"),
            &buyer,
        ),
        (
            "GET /api/v1/requests?limit=50&status=approved",
            fixed("/api/v1/requests?limit=50&status=approved"),
            &cio,
        ),
        (
            "GET /api/v1/vendors?limit=50",
            fixed("/api/v1/vendors?limit=50"),
            &cio,
        ),
        (
            "GET /api/v1/assessments?limit=50",
            fixed("/api/v1/assessments?limit=50"),
            &auditor,
        ),
        (
            "GET /api/v1/findings?limit=50",
            fixed("/api/v1/findings?limit=50"),
            &auditor,
        ),
        (
            "GET /api/v1/audit?limit=50",
            fixed("/api/v1/audit?limit=50"),
            &auditor,
        ),
        (
            "GET /api/v1/requests/{id}/duplicates",
            of_request("/duplicates"),
            &cio,
        ),
    ];
    // `CITY_ONLY=text` runs only the operations whose name contains it (and `/healthz`, the ceiling), for a
    // profile of one of them; the register is then left out unless its name matches too.
    let only = std::env::var("CITY_ONLY").ok();
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|o| name.contains(o) || name == "GET /healthz")
    };
    let mut runs: Vec<Run> = Vec::new();
    for (name, path, token) in reads.into_iter().filter(|(name, _, _)| wanted(name)) {
        let (base, token) = (base.clone(), (*token).clone());
        runs.push(
            drive(name, connections, seconds, move |client, n| {
                let url = format!("{base}{}", path(n));
                let token = token.clone();
                async move { get_ok(&client, url, &token).await }
            })
            .await,
        );
    }

    // Writes: a buyer drafts and submits (two calls); a flow is both.
    for clients in [1usize, 4, 16] {
        if !wanted(&format!("create + submit, {clients} clients (flows)")) {
            continue;
        }
        let (base, vendors, buyer) = (base.clone(), vendors.clone(), buyer.clone());
        let scale = *scale;
        runs.push(
            drive(
                &format!("create + submit, {clients} clients (flows)"),
                clients,
                seconds,
                move |client, n| {
                    let (base, vendors, buyer) = (base.clone(), vendors.clone(), buyer.clone());
                    async move {
                        let vendor = &vendors[n % vendors.len()];
                        let body = request_body(1_000_000 + n, &scale, vendor, 0);
                        let Ok(created) = client
                            .post(format!("{base}/api/v1/requests"))
                            .bearer_auth(&*buyer)
                            .json(&body)
                            .send()
                            .await
                        else {
                            return false;
                        };
                        if created.status() != 201 {
                            return false;
                        }
                        let etag = created.headers().get("etag").cloned();
                        let made: Value = created.json().await.unwrap_or(json!({}));
                        let id = made["id"].as_str().unwrap_or_default().to_string();
                        let mut submit = client
                            .post(format!("{base}/api/v1/requests/{id}/submit"))
                            .bearer_auth(&*buyer);
                        if let Some(tag) = etag {
                            submit = submit.header("If-Match", tag);
                        }
                        match submit.send().await {
                            Ok(r) => {
                                let ok = r.status() == 200;
                                let _ = r.bytes().await;
                                ok
                            }
                            Err(_) => false,
                        }
                    }
                },
            )
            .await,
        );
    }

    let ceiling = runs[0].per_second;
    println!("| operation | per second | p50 ms | p99 ms | ratio to /healthz | failures |");
    println!("|---|---|---|---|---|---|");
    for r in &runs {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.3} | {} |",
            r.name,
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            r.per_second / ceiling,
            r.failures
        );
    }

    if !wanted("requests register") {
        return;
    }
    // The requests register: every request, timed, with the server's memory before and after.
    let (before, _) = server.memory();
    let started = Instant::now();
    let register = http
        .get(format!("{base}/api/v1/reports/requests.xlsx"))
        .bearer_auth(&*cio)
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .unwrap();
    let status = register.status();
    let bytes = register.bytes().await.unwrap();
    let took = started.elapsed().as_secs_f64();
    let (after, peak) = server.memory();
    println!(
        "\nrequests register: {status}, {:.1} MB in {took:.2} s; server RSS {before:.0} MB before, {after:.0} MB after",
        bytes.len() as f64 / 1e6
    );
    println!("server peak RSS over the whole run: {peak:.0} MB");
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` and `cargo bench -- --list` must not start a load run.
    }
    let divide: usize = env_or("CITY_DIVIDE", 1);
    let scale = if divide <= 1 {
        Scale::CITY
    } else {
        Scale::divided(divide)
    };
    let scale = Scale {
        clients: 16,
        ..scale
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/city");
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!(
        "sqlite:{}",
        dir.join(format!("{}.db", scale.label())).display()
    );
    bench_backend("SQLite", &sqlite, &scale).await;
    if let Ok(server) = std::env::var("CITY_POSTGRES_URL") {
        let name = format!("city_{}", scale.label().replace('-', "_"));
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
            .await
            .unwrap();
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_optional(&mut admin)
            .await
            .unwrap();
        if exists.is_none() {
            sqlx::Executor::execute(
                &mut admin,
                sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
            )
            .await
            .unwrap();
        }
        let (head, _) = server.rsplit_once('/').expect("a database URL");
        bench_backend("PostgreSQL", &format!("{head}/{name}"), &scale).await;
    }
}
