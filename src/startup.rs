//! Wiring: database, keys, routes, middleware. `Application::build` binds first, so tests can ask for port 0
//! and learn the real address before serving.

use crate::domain::problems::ProblemCode;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use poem::http::{HeaderValue, StatusCode};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};
use poem_openapi::OperationId;
use tracing::Instrument;

use crate::api::workbooks::ImportSlots;
use crate::auth::Verifier;
use crate::config::Config;
use crate::detection::Detector;
use crate::error::{ApiError, problem_from_poem_error};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::telemetry;
use crate::templates::Templates;
use crate::tls::ExtraRoots;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub use crate::api::document::{openapi_service, spec_json_and_yaml, spec_yaml};

pub struct Application {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    store: Store,
    app: poem::endpoint::BoxEndpoint<'static, Response>,
    grace: Duration,
    config: Config,
    import_slots: ImportSlots,
    tls_roots: ExtraRoots,
}

/// Opens the store and returns the secret that signs locally minted tokens: the configured one, or the one the
/// database keeps (generated on first run).
pub async fn open_store(config: &Config) -> anyhow::Result<(Store, crate::config::Secret)> {
    let store = Store::open(&config.database_url, pool_size(config))
        .await
        .context("opening the database")?;
    bootstrap(store, config).await
}

/// The configured pool size, or the backend's default.
fn pool_size(config: &Config) -> u32 {
    config
        .database_max_connections
        .unwrap_or_else(|| Store::default_pool_size(&config.database_url))
}

/// As [`open_store`], for the commands that mint credentials: the database must already exist.
pub async fn open_existing_store(
    config: &Config,
) -> anyhow::Result<(Store, crate::config::Secret)> {
    let store = Store::open_existing(&config.database_url, pool_size(config))
        .await
        .context("opening the database")?;
    bootstrap(store, config).await
}

async fn bootstrap(
    store: Store,
    config: &Config,
) -> anyhow::Result<(Store, crate::config::Secret)> {
    let kept = store
        .bootstrap()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secret = config.auth.hs256_secret.clone().unwrap_or(kept);
    Ok((store, secret))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        // Read once here, so that a bad file stops the start; the job runner and the OIDC client keep what was read.
        let tls_roots = ExtraRoots::load(config.tls_ca_file.as_deref())?;
        let (store, secret) = open_store(&config).await?;
        let verifier = Arc::new(Verifier::new(&config.auth, &secret)?);
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener
            .local_addr()
            .context("the listener has no socket address")?;
        // Links the service hands out point at the address it really listens on, unless told otherwise.
        let mut config = config;
        if config.public_url.is_empty() {
            config.public_url = format!("http://{addr}");
        }
        let detector = Arc::new(
            Detector::load(&store)
                .await
                .map_err(|e| anyhow::anyhow!("building the duplicate index: {e}"))?,
        );
        let templates = Arc::new(
            Templates::load(config.questionnaires_dir.as_deref(), &store)
                .await
                .with_context(|| match &config.questionnaires_dir {
                    Some(dir) => format!("loading questionnaire templates from {}", dir.display()),
                    None => "loading the questionnaire templates built into the binary".to_string(),
                })?,
        );
        let (services, purchases) = detector.sizes();
        tracing::info!(services, purchases, "duplicate index built");
        let import_slots = ImportSlots::from_config(&config);
        // The redirect URI is the public URL's: known only now that the address listened on is.
        let oidc = crate::console::oidc::OidcSignIn::from_config(
            &config.oidc,
            &config.public_url,
            &tls_roots,
        )?;
        if let Some(o) = &oidc {
            tracing::info!(
                redirect_uri = o.redirect_uri(),
                "staff sign in to the console through the identity provider"
            );
        }
        let app = routes(
            store.clone(),
            verifier,
            detector,
            templates,
            import_slots.clone(),
            &config,
            oidc,
        )
        .boxed();
        Ok(Application {
            listener,
            addr,
            store,
            app,
            grace: Duration::from_secs(config.shutdown_grace_seconds),
            config,
            import_slots,
            tls_roots,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The slots the spreadsheet uploads share; a test takes them to see what an upload does when all are busy.
    pub fn import_slots(&self) -> &ImportSlots {
        &self.import_slots
    }

    /// Serves, with the job runner beside it, until `signal` completes; then lets requests in flight finish
    /// within the grace period and stops the runner (a delivery it was making is retried after its lease).
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let runner = crate::jobs::spawn(
            self.store.clone(),
            self.config.clone(),
            self.tls_roots.clone(),
            stopped,
        );
        let limits = crate::edge::ConnectionLimits::from_config(&self.config);
        let result = crate::edge::serve(self.listener, self.app, limits, signal, self.grace).await;
        let _ = stop.send(true);
        if let Some(runner) = runner {
            let _ = runner.await;
        }
        self.store.close().await;
        result
    }
}

pub fn routes(
    store: Store,
    verifier: Arc<Verifier>,
    detector: Arc<Detector>,
    templates: Arc<Templates>,
    import_slots: ImportSlots,
    config: &Config,
    oidc: Option<crate::console::oidc::OidcSignIn>,
) -> impl Endpoint<Output = Response> + use<> {
    let api = openapi_service();
    // The document is generated once (it is the largest allocation of the start) and served in both forms.
    let (document, yaml) = spec_json_and_yaml();
    let methods = crate::edge::RouteMethods::from_openapi(&document)
        .with("/healthz", &["get"])
        .with("/readyz", &["get"])
        .with("/metrics", &["get"])
        .with("/openapi.json", &["get"])
        .with("/openapi.yaml", &["get"]);
    // The console calls the same API in-process, with the same data.
    let console_api = openapi_service()
        .data(store.clone())
        .data(verifier.clone())
        .data(detector.clone())
        .data(templates.clone())
        .data(import_slots.clone())
        .data(Arc::new(config.clone()))
        .data(Arc::new(Metrics::default()))
        .map_to_response()
        .boxed();
    let console =
        Arc::new(crate::console::Console::new(console_api, &config.public_url).with_oidc(oidc));
    let limits = BodyLimits {
        json: config.max_body_bytes,
        upload: config.max_upload_bytes,
        timeout: Duration::from_millis(config.http_body_timeout_ms),
    };
    crate::console::mount(Route::new())
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics_text))
        .at("/openapi.json", spec_endpoint(document, "application/json"))
        .at("/openapi.yaml", spec_endpoint(yaml, "application/x-yaml"))
        .nest("/docs", api.swagger_ui())
        .nest("/", api)
        .around(crate::console::root)
        // `outermost` must see the data, so it goes inside the data layers.
        .around(outermost)
        .data(store)
        .data(verifier)
        .data(detector)
        .data(templates)
        .data(import_slots)
        .data(Arc::new(config.clone()))
        .data(Arc::new(Metrics::default()))
        .data(console)
        .data(limits)
        .with(crate::edge::ResponseHeaders::new(config, methods))
}

/// Serves the document computed once at start.
fn spec_endpoint(document: String, content_type: &'static str) -> impl Endpoint<Output = Response> {
    poem::endpoint::make_sync(move |_| {
        Response::builder()
            .content_type(content_type)
            .body(document.clone())
    })
}

#[derive(Clone, Copy)]
struct BodyLimits {
    json: usize,
    upload: usize,
    /// The whole body must arrive within this; a trickled body is cut off with 408.
    timeout: Duration,
}

/// Upload routes take files; everything else takes JSON.
fn is_upload_route(path: &str) -> bool {
    path.ends_with("/workbook")
        || path.ends_with("/evidence")
        || path.ends_with("/import")
        || path.ends_with("/council/documents")
}

fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn route_label(path: &str, op: Option<&OperationId>) -> String {
    if let Some(op) = op {
        return op.0.to_string();
    }
    match path {
        "/healthz" | "/readyz" | "/metrics" | "/openapi.json" | "/openapi.yaml" => path.to_string(),
        p if p.starts_with("/docs") => "/docs".to_string(),
        _ => "unmatched".to_string(),
    }
}

/// Request id, body cap, problem+json for every error, one log line and the metrics of each request.
async fn outermost<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let metrics = req.data::<Arc<Metrics>>().cloned();
    let limits = req.data::<BodyLimits>().copied();
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);

    let outcome = telemetry::with_request_id(
        id.clone(),
        async {
            if let Some(limits) = limits {
                let read = if is_upload_route(&path) && !path.starts_with("/api/") {
                    cap_console_upload(&mut req, limits.upload, limits.timeout).await
                } else if is_upload_route(&path) {
                    cap_body(&mut req, limits.upload, limits.timeout).await
                } else {
                    cap_body(&mut req, limits.json, limits.timeout).await
                };
                if let Err(e) = read {
                    return (crate::edge::closing_if_timed_out(e.into_response()), None);
                }
            }
            match next.call(req).await {
                Ok(resp) => {
                    let resp = resp.into_response();
                    let op = resp.data::<OperationId>().copied();
                    (resp, op)
                }
                Err(err) => {
                    let op = err.data::<OperationId>().copied();
                    let problem = problem_from_poem_error(err);
                    let problem = crate::api::problems::held(problem, op.as_ref().map(|o| o.0));
                    (problem.into_response(), op)
                }
            }
        }
        .instrument(span.clone()),
    )
    .await;
    let (mut resp, op) = outcome;
    let status = resp.status();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    });
    if let Some(metrics) = metrics {
        metrics.observe(
            &route_label(&path, op.as_ref()),
            &method,
            status.as_u16(),
            elapsed,
        );
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(resp)
}

/// Reads the body into memory up to `limit` bytes within `timeout`. The declared length is checked first, but a
/// body that lies about its length (or has none, chunked) is still cut at the limit while it is read.
async fn cap_body(req: &mut Request, limit: usize, timeout: Duration) -> Result<(), ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::BodyTooLarge,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = req.take_body();
    let Ok(read) = tokio::time::timeout(timeout, body.into_bytes_limit(limit)).await else {
        return Err(crate::edge::body_timed_out(timeout));
    };
    match read {
        Ok(bytes) => {
            req.set_body(bytes);
            Ok(())
        }
        Err(poem::error::ReadBodyError::PayloadTooLarge) => Err(too_large()),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::BadBody,
            format!("the request body could not be read: {e}"),
        )),
    }
}

/// What a console upload form may carry beyond the file: its other fields and the multipart framing.
const FORM_ALLOWANCE: usize = 64 * 1024;

/// How much of an oversized console upload is read and thrown away, in multiples of the limit, so that the
/// browser (still sending) reads the page instead of a connection reset. Past that the connection is closed.
const DRAIN_FACTOR: usize = 4;

/// Reads a console upload form (a browser's multipart post) up to the upload limit and the form's allowance,
/// within `timeout`. A bigger body is not kept: the bytes read are dropped, the rest is read and thrown away (up to
/// [`DRAIN_FACTOR`] times the limit), and the request goes on with no body, marked [`OversizedUpload`], so that
/// the page answers with the fault next to its file field instead of the API's 413 problem. The count is of the
/// bytes actually read; the declared length only decides whether to read at all.
async fn cap_console_upload(
    req: &mut Request,
    limit: usize,
    timeout: Duration,
) -> Result<(), ApiError> {
    use tokio::io::AsyncReadExt;
    let cap = limit.saturating_add(FORM_ALLOWANCE);
    let drain = limit.saturating_mul(DRAIN_FACTOR).max(cap);
    let declared = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = req.take_body();
    let read = async move {
        if declared.is_some_and(|n| n > drain as u64) {
            return Ok(None);
        }
        let mut reader = body.into_async_read();
        let mut buf = vec![0u8; 64 * 1024];
        let mut data = Vec::new();
        let mut total = 0usize;
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            total = total.saturating_add(n);
            if total > drain {
                break;
            }
            if total <= cap {
                data.extend_from_slice(&buf[..n]);
            } else if !data.is_empty() {
                data = Vec::new();
            }
        }
        Ok::<_, std::io::Error>((total <= cap).then_some(data))
    };
    let Ok(read) = tokio::time::timeout(timeout, read).await else {
        return Err(crate::edge::body_timed_out(timeout));
    };
    match read {
        Ok(Some(bytes)) => req.set_body(bytes),
        Ok(None) => {
            req.extensions_mut()
                .insert(crate::console::OversizedUpload { limit });
        }
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::BadBody,
                format!("the request body could not be read: {e}"),
            ));
        }
    }
    Ok(())
}

#[handler]
fn healthz() -> poem::web::Json<serde_json::Value> {
    poem::web::Json(serde_json::json!({"status": "ok"}))
}

#[handler]
async fn readyz(store: Data<&Store>) -> Response {
    match store.ping().await {
        Ok(()) => {
            poem::web::Json(serde_json::json!({"status": "ready", "database": store.backend()}))
                .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::NotReady,
                "the database does not answer",
            )
            .into_response()
        }
    }
}

#[handler]
fn metrics_text(metrics: Data<&Arc<Metrics>>) -> Response {
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render())
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
