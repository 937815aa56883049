//! Audit verification at a city's volume. Builds hash-chained audit records directly in the database (hashed
//! here, inserted with plain SQL in batches, as the other benches seed their data), then:
//!
//! - measures the incremental verification behind `GET /api/v1/audit/verify` on a short chain (1,000 records)
//!   and on a long one (`AUDIT_BENCH_RECORDS`, default 1,000,000), each time with 100 records appended since the
//!   last checkpoint, and with nothing new: the two lengths should cost the same;
//! - runs the full verification of `procurement-review audit verify` over the long chain once and prints its
//!   throughput in records per second.
//!
//! SQLite always; PostgreSQL too when `AUDIT_BENCH_POSTGRES_URL` names a server the bench may create a schema in
//! (dropped at the end).

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use procurement_review::config::Secret;
use procurement_review::domain::audit::{AuditEntry, chain_hash};
use procurement_review::store::Store;
use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{Connection, Executor};

const SHORT: i64 = 1_000;
const APPENDED: i64 = 100;
const BATCH: usize = 500;

fn long_chain() -> i64 {
    std::env::var("AUDIT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// A record the size of a typical change: a vendor before and after an edit.
struct Row {
    seq: i64,
    at: DateTime<Utc>,
    object_id: String,
    before: Value,
    after: Value,
    prev_hash: String,
    hash: String,
}

fn rows(from_seq: i64, prev_hash: &str, count: i64) -> Vec<Row> {
    let start = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let mut prev = prev_hash.to_string();
    (from_seq..from_seq + count)
        .map(|seq| {
            let object_id = format!("00000000-0000-4000-8000-{:012}", seq % 5_000);
            let vendor = |country: &str| {
                json!({"id": object_id, "legal_name": format!("Vendor {}", seq % 5_000), "website": "https://vendor.example",
                       "hq_country": country, "contacts": [{"name": "Pat Doe", "email": "pat@vendor.example"}],
                       "version": seq, "created_at": "2026-07-01T12:00:00Z", "updated_at": "2026-11-01T12:00:00Z"})
            };
            let (before, after) = (vendor("US"), vendor("GB"));
            let at = start + Duration::milliseconds(seq);
            let entry = AuditEntry {
                at,
                actor: "analyst-7",
                role: "security_analyst",
                action: "vendor.updated",
                object_type: "vendor",
                object_id: &object_id,
                before: Some(&before),
                after: Some(&after),
                request_id: Some("bench"),
                context: None,
            };
            let hash = chain_hash(seq, &prev, &entry);
            Row {
                seq,
                at,
                object_id: object_id.clone(),
                before,
                after,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
            }
        })
        .collect()
}

const INSERT: &str = "INSERT INTO audit_log (seq, at, actor, role, action, object_type, object_id, before, after, \
                      request_id, prev_hash, hash) ";

/// Appends `count` records to the chain and moves the head, in one transaction per batch of batches.
macro_rules! append {
    ($pool:expr, $db:ty, $count:expr) => {{
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
                .fetch_one($pool)
                .await
                .unwrap();
        let mut next_seq = head_seq + 1;
        let mut prev = head_hash;
        let mut left: i64 = $count;
        while left > 0 {
            let chunk = left.min(50_000);
            let made = rows(next_seq, &prev, chunk);
            let mut tx = $pool.begin().await.unwrap();
            for batch in made.chunks(BATCH) {
                let mut query = sqlx::QueryBuilder::<$db>::new(INSERT);
                query.push_values(batch, |mut b, r| {
                    b.push_bind(r.seq)
                        .push_bind(r.at)
                        .push_bind("analyst-7")
                        .push_bind("security_analyst")
                        .push_bind("vendor.updated")
                        .push_bind("vendor")
                        .push_bind(r.object_id.clone())
                        .push_bind(Json(r.before.clone()))
                        .push_bind(Json(r.after.clone()))
                        .push_bind("bench")
                        .push_bind(r.prev_hash.clone())
                        .push_bind(r.hash.clone());
                });
                query.build().execute(&mut *tx).await.unwrap();
            }
            let last = made.last().unwrap();
            sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
                .bind(last.seq)
                .bind(&last.hash)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            next_seq = last.seq + 1;
            prev = last.hash.clone();
            left -= chunk;
        }
    }};
}

async fn append(store: &Store, count: i64) {
    match store {
        Store::Sqlite(r) => append!(&r.pool, sqlx::Sqlite, count),
        Store::Postgres(r) => append!(&r.pool, sqlx::Postgres, count),
    }
}

/// A fresh store with `records` audit records (the bootstrap's few, then the bench's), verified once so that
/// the next verification starts from a checkpoint at its head.
async fn chain(url: &str, records: i64) -> Store {
    let store = Store::open(&Secret::new(url), 4).await.unwrap();
    store.bootstrap().await.unwrap();
    let started = Instant::now();
    append(&store, records).await;
    let built = started.elapsed();
    let started = Instant::now();
    let report = store.verify_audit("bench").await.unwrap();
    assert!(report.ok, "{report:?}");
    println!(
        "audit/{}: a chain of {} records built in {:.1} s; first verification (no checkpoint yet) {:.1} s",
        store.backend(),
        report.head_seq,
        built.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    store
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, short_url: &str, long_url: &str) {
    let long = long_chain();
    let short_store = rt.block_on(chain(short_url, SHORT));
    let long_store = rt.block_on(chain(long_url, long));
    let backend = long_store.backend();
    for (label, store) in [(SHORT, &short_store), (long, &long_store)] {
        c.bench_function(
            &format!(
                "audit/GET /audit/verify, {label}-record chain, {APPENDED} new records ({backend})"
            ),
            |b| {
                b.iter_batched(
                    || rt.block_on(append(store, APPENDED)),
                    |()| {
                        let report = rt.block_on(store.verify_audit("bench")).unwrap();
                        assert!(report.ok && report.records == APPENDED + 1, "{report:?}");
                    },
                    BatchSize::PerIteration,
                )
            },
        );
        c.bench_function(
            &format!("audit/GET /audit/verify, {label}-record chain, nothing new ({backend})"),
            |b| {
                b.iter(|| {
                    let report = rt.block_on(store.verify_audit("bench")).unwrap();
                    assert!(report.ok && report.records == 1, "{report:?}");
                })
            },
        );
    }
    let started = Instant::now();
    let report = rt
        .block_on(long_store.verify_audit_full("bench", &mut |_, _| {}))
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(report.ok, "{:?}", report.faults);
    println!(
        "audit/{backend}: full verification (procurement-review audit verify) of {} records and their checkpoints \
         in {elapsed:.1} s: {:.0} records/s",
        report.records,
        report.records as f64 / elapsed
    );
    rt.block_on(short_store.close());
    rt.block_on(long_store.close());
}

fn bench_verify(c: &mut Criterion) {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // building a million records is for `cargo bench`, not for `cargo test --benches`.
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = |name: &str| format!("sqlite:{}", dir.path().join(name).display());
    bench_backend(c, &rt, &sqlite("short.db"), &sqlite("long.db"));

    if let Ok(admin) = std::env::var("AUDIT_BENCH_POSTGRES_URL") {
        let schemas = ["audit_bench_short", "audit_bench_long"];
        let urls: Vec<String> = rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            for schema in schemas {
                let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
                conn.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
            }
            conn.close().await.ok();
            let sep = if admin.contains('?') { '&' } else { '?' };
            schemas
                .iter()
                .map(|s| format!("{admin}{sep}options=-c%20search_path%3D{s}"))
                .collect()
        });
        bench_backend(c, &rt, &urls[0], &urls[1]);
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            for schema in schemas {
                let sql = format!("DROP SCHEMA {schema} CASCADE");
                conn.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
            }
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_verify
}
criterion_main!(benches);
