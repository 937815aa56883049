//! `TestApp`: a fresh database per test (SQLite temp file, or a PostgreSQL schema of its own), the service on
//! an ephemeral port, and one helper per kind of call.

use std::path::PathBuf;

use procurement_review::api::workbooks::ImportSlots;
use procurement_review::auth::{MintRequest, Role, Verifier};
use procurement_review::config::{Config, Secret};
use procurement_review::startup::Application;
use procurement_review::store::Store;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::{Connection, Executor};
use uuid::Uuid;

pub const TEST_SECRET: &str = "test-secret-for-the-suite-only-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares one test that runs on SQLite, and on PostgreSQL when `TEST_POSTGRES_URL` is set:
/// `both!(async fn name(backend) { ... })` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    // `both!(if ready(); async fn ...)`: the cases skip themselves where `ready()` is false (a tool missing outside CI).
    (if $ready:expr; $(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            async fn case($backend: $crate::helpers::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if !$ready {
                    return;
                }
                case($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_none() || !$ready {
                    return;
                }
                case($crate::helpers::Backend::Postgres).await;
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $crate::both!(if true; $(#[$meta])* async fn $name($backend) $body);
    };
}

/// The PostgreSQL server the suite may use. In CI it must be set: a run that silently skipped the
/// PostgreSQL half would pass for the wrong reason.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if in_ci() {
                panic!("TEST_POSTGRES_URL must be set in CI so that the PostgreSQL cases run");
            }
            eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL case not run");
            None
        }
    }
}

/// Whether CI is running the suite (`CI` set to anything but `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Whether an outside program that a case needs (LibreOffice, openpyxl) runs here: `program args` exits with 0.
/// Outside CI a missing one skips the case with a note. In CI it fails the case, because `.ci/run` installs these
/// programs and a case that skipped itself there would pass for the wrong reason.
pub fn outside_program(program: &str, args: &[&str], install: &str) -> bool {
    // Probed once per program and arguments for the whole run: starting soffice takes a while.
    static PROBED: std::sync::Mutex<std::collections::BTreeMap<String, bool>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let key = format!("{program} {}", args.join(" "));
    let runs = *PROBED.lock().unwrap().entry(key).or_insert_with(|| {
        std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if !runs {
        if in_ci() {
            panic!(
                "`{program} {}` does not run in CI; {install}",
                args.join(" ")
            );
        }
        eprintln!(
            "`{program} {}` does not run here: case not run; {install}",
            args.join(" ")
        );
    }
    runs
}

/// A complete request body: $60,000 a year for 12 months, 100 users, public data, on premises, nothing
/// surveillance, not a renewal — routed to the CIO by value alone. Change fields with [`with`].
pub fn purchase(vendor: &Value) -> Value {
    serde_json::json!({
        "title": "Permit e-signature", "description": "Sign permit documents online", "vendor_id": vendor["id"],
        "product_name": "SignIt", "category": "e-signature", "capabilities": ["electronic signatures"],
        "capital_cost_cents": 0, "annual_operating_cost_cents": 6_000_000, "term_months": 12, "expected_users": 100,
        "hosting": "on_premises", "data_classes": ["public"], "requested_start_date": "2026-09-01",
        "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false
    })
}

/// `base` with the fields of `changes` set (a `null` removes the field).
pub fn with(mut base: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().expect("an object of changes") {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub database_url: String,
    pub config: Config,
    /// The server's own import slots: take them all to see what an upload does when the service is busy.
    pub import_slots: ImportSlots,
    verifier: Verifier,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pg_schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an `application/problem+json` answer with this status and code, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type; body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "problem code; body: {}", self.text);
        assert_eq!(self.body["status"], status);
        &self.body
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        &self.body
    }

    /// The names of the fields a validation problem points at.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/keys")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut pg_schema = None;
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite:{}", dir.path().join("test.db").display()),
            Backend::Postgres => {
                let admin = postgres_url().expect("TEST_POSTGRES_URL");
                let schema = format!("t_{}", Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to TEST_POSTGRES_URL");
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .await
                    .expect("create test schema");
                conn.close().await.ok();
                let sep = if admin.contains('?') { '&' } else { '?' };
                pg_schema = Some((admin.clone(), schema.clone()));
                format!("{admin}{sep}options=-c%20search_path%3D{schema}")
            }
        };
        let mut config = Config {
            database_url: Secret::new(database_url.clone()),
            database_max_connections: Some(5),
            listen: "127.0.0.1:0".parse().unwrap(),
            shutdown_grace_seconds: 1,
            questionnaires_dir: None,
            ..Config::default()
        };
        config.auth.hs256_secret = Some(Secret::new(TEST_SECRET));
        // Jobs run when a test calls `jobs::run_once` with its own clock, never on a timer.
        config.jobs_interval_seconds = 0;
        configure(&mut config);
        let kept_config = config.clone();
        let verifier = Verifier::new(&Default::default(), &Secret::new(TEST_SECRET)).unwrap();
        procurement_review::api::problems::hold_to_the_document();
        let app = Application::build(config)
            .await
            .expect("build the application");
        let addr = app.addr();
        let store = app.store().clone();
        let import_slots = app.import_slots().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            store,
            database_url,
            config: kept_config,
            import_slots,
            verifier,
            shutdown: Some(tx),
            server: Some(server),
            pg_schema,
            _dir: dir,
        }
    }

    /// A staff token for `role` (buyers get department `DOIT`).
    /// What signs and checks this app's tokens (for helpers that mint their own).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn token(&self, role: Role) -> String {
        let department = (role == Role::Buyer).then(|| "DOIT".to_string());
        self.mint(role, "user-".to_string() + role.as_str(), department, None)
    }

    pub fn buyer_token(&self, department: &str, subject: &str) -> String {
        self.mint(
            Role::Buyer,
            subject.to_string(),
            Some(department.to_string()),
            None,
        )
    }

    pub fn vendor_token(&self, vendor: Uuid) -> String {
        self.mint(Role::Vendor, format!("vendor-{vendor}"), None, Some(vendor))
    }

    pub fn mint(
        &self,
        role: Role,
        subject: String,
        department: Option<String>,
        vendor: Option<Uuid>,
    ) -> String {
        self.verifier
            .mint(&MintRequest {
                role,
                subject,
                department,
                vendor,
                ttl_seconds: 600,
            })
            .unwrap()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    pub async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(&body), &[])
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value, if_match: Option<&str>) -> Resp {
        let headers: Vec<(&str, &str)> =
            if_match.map(|m| vec![("If-Match", m)]).unwrap_or_default();
        self.call(Method::PUT, path, Some(token), Some(&body), &headers)
            .await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Resp {
        let headers: Vec<(&str, &str)> =
            if_match.map(|m| vec![("If-Match", m)]).unwrap_or_default();
        self.call(Method::PATCH, path, Some(token), Some(&body), &headers)
            .await
    }

    /// `method path` with `If-Match: etag`.
    pub async fn call_if_match(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        etag: &str,
    ) -> Resp {
        self.call(method, path, Some(token), body, &[("If-Match", etag)])
            .await
    }

    /// Reads the ETag of the object at `object` (as `token`), then sends `method path` with it as `If-Match`:
    /// a change made by someone who has just read the object.
    pub async fn with_etag(
        &self,
        method: Method,
        path: &str,
        object: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Resp {
        let etag = self.etag_of(object, token).await;
        self.call_if_match(method, path, token, body, &etag).await
    }

    /// `PATCH path` with the ETag that `GET path` answers.
    pub async fn patch_with_etag(&self, path: &str, token: &str, body: Value) -> Resp {
        self.with_etag(Method::PATCH, path, path, token, Some(&body))
            .await
    }

    /// `POST path` with the ETag that `GET object` answers.
    pub async fn post_with_etag(&self, path: &str, object: &str, token: &str, body: Value) -> Resp {
        self.with_etag(Method::POST, path, object, token, Some(&body))
            .await
    }

    /// `PUT /assessments/{assessment}/answers` with the assessment's current ETag, as a vendor who has just read
    /// it.
    pub async fn save_answers(&self, token: &str, assessment: &str, body: &Value) -> Resp {
        self.assessment_action(Method::PUT, token, assessment, "answers", Some(body))
            .await
    }

    /// `method /assessments/{assessment}/{action}` (`submit`, `review`, `reassessment`, ...) with the
    /// assessment's current ETag as `If-Match`.
    pub async fn assessment_action(
        &self,
        method: Method,
        token: &str,
        assessment: &str,
        action: &str,
        body: Option<&Value>,
    ) -> Resp {
        let object = format!("/api/v1/assessments/{assessment}");
        self.with_etag(method, &format!("{object}/{action}"), &object, token, body)
            .await
    }

    /// `POST /findings/{finding}/{action}` (`remediation`, `resolve`, `risk-acceptance`) with the finding's
    /// current ETag as `If-Match`.
    pub async fn finding_action(
        &self,
        token: &str,
        finding: &str,
        action: &str,
        body: Value,
    ) -> Resp {
        let object = format!("/api/v1/findings/{finding}");
        self.post_with_etag(&format!("{object}/{action}"), &object, token, body)
            .await
    }

    pub async fn create_vendor(&self, name: &str) -> Value {
        let admin = self.token(Role::Admin);
        let resp = self
            .post(
                "/api/v1/vendors",
                &admin,
                serde_json::json!({"legal_name": name, "hq_country": "US", "website": "https://vendor.example"}),
            )
            .await;
        resp.ok(201).clone()
    }

    /// Drafts a request as `buyer` and submits it; returns its id and the submitted request.
    pub async fn draft_and_submit(&self, buyer: &str, body: Value) -> (String, Value) {
        let created = self.post("/api/v1/requests", buyer, body).await;
        let id = created.ok(201)["id"].as_str().unwrap().to_string();
        let submitted = self
            .transition(&format!("/api/v1/requests/{id}/submit"), buyer, None)
            .await;
        (id, submitted.ok(200).clone())
    }

    /// The current ETag of the object at `path`, read with `token`.
    pub async fn etag_of(&self, path: &str, token: &str) -> String {
        let read = self.get(path, token).await;
        read.ok(200);
        read.header("etag")
            .unwrap_or_else(|| panic!("GET {path} sent no ETag"))
            .to_string()
    }

    /// POSTs a change of the request, process or object that `path` belongs to, with the `If-Match` of its
    /// current version: the ETag of the request `path` starts with (`/api/v1/requests/{id}/...`).
    pub async fn transition(&self, path: &str, token: &str, body: Option<&Value>) -> Resp {
        let request = path.split('/').take(5).collect::<Vec<_>>().join("/");
        let admin = self.token(Role::Admin);
        let tag = self.etag_of(&request, &admin).await;
        self.call(Method::POST, path, Some(token), body, &[("If-Match", &tag)])
            .await
    }

    /// `POST /vendors/{vendor}/invitations` as `inviter` with `body` (which names the `request_id`).
    pub async fn invite(&self, inviter: &str, vendor: &str, body: Value) -> Resp {
        self.post(
            &format!("/api/v1/vendors/{vendor}/invitations"),
            inviter,
            body,
        )
        .await
    }

    /// Runs raw SQL against the test database, bypassing the service (to tamper, or to inspect).
    pub async fn exec_sql(&self, sql: &str) -> u64 {
        self.try_exec_sql(sql)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"))
    }

    /// As [`exec_sql`](Self::exec_sql), for a statement the database may refuse: its error message.
    pub async fn try_exec_sql(&self, sql: &str) -> Result<u64, String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        let done = match &self.store {
            Store::Sqlite(r) => sqlx::query(sql)
                .execute(&r.pool)
                .await
                .map(|d| d.rows_affected()),
            Store::Postgres(r) => sqlx::query(sql)
                .execute(&r.pool)
                .await
                .map(|d| d.rows_affected()),
        };
        done.map_err(|e| e.to_string())
    }

    /// The first column of every row `sql` returns, as text (to inspect the database's catalogue).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &self.store {
            Store::Sqlite(r) => sqlx::query_scalar(sql).fetch_all(&r.pool).await.unwrap(),
            Store::Postgres(r) => sqlx::query_scalar(sql).fetch_all(&r.pool).await.unwrap(),
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &self.store {
            Store::Sqlite(r) => sqlx::query_scalar(sql).fetch_one(&r.pool).await.unwrap(),
            Store::Postgres(r) => sqlx::query_scalar(sql).fetch_one(&r.pool).await.unwrap(),
        }
    }

    /// Stops the server and drops the PostgreSQL schema. A test that panics before this is cleaned up by `Drop`.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some((admin, schema)) = self.pg_schema.take() {
            drop_schema(&admin, &schema).await;
        }
    }

    /// Creates a department (named `Dept {code}`) as an admin.
    pub async fn department(&self, code: &str) {
        self.create_department(code).await.ok(201);
    }

    /// As [`department`](Self::department), for a helper that may run twice in a test: an existing department
    /// of that code is fine.
    pub async fn ensure_department(&self, code: &str) {
        let made = self.create_department(code).await;
        if made.status != StatusCode::CREATED {
            made.problem(409, "duplicate_department");
        }
    }

    async fn create_department(&self, code: &str) -> Resp {
        self.post(
            "/api/v1/departments",
            &self.token(Role::Admin),
            serde_json::json!({"code": code, "name": format!("Dept {code}")}),
        )
        .await
    }
}

async fn drop_schema(admin: &str, schema: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .await;
        let _ = conn.close().await;
    }
}

/// A test that ends without `stop()` (it panicked) still stops its server and drops its PostgreSQL schema; the
/// schema is dropped on a thread of its own, since `Drop` cannot wait inside the test's runtime.
impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((admin, schema)) = self.pg_schema.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    runtime.block_on(drop_schema(&admin, &schema));
                }
            })
            .join();
        }
    }
}
