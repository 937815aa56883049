//! Logging setup and the request id that every log line and problem document carries.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Installs the global subscriber; a second call (tests) is a no-op. A `level` that is not a filter
/// (`info`, `warn,procurement_review=debug`) is refused rather than replaced by some default.
///
/// JSON lines carry the list of spans they happened in: the request (with its id), then the store method or
/// job step, so a slow request can be followed down to its statements (`sqlx::query=debug`).
pub fn init(format: LogFormat, level: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("log_level {level:?} is not a log filter: {e}"))?;
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(true),
            )
            .try_init(),
    };
    Ok(())
}

/// Runs `fut` with `id` as the current request id.
pub async fn with_request_id<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}
