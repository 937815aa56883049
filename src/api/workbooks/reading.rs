//! What reading an uploaded spreadsheet may take, for every operation that reads one (questionnaire workbooks, the
//! catalogue, budget lines): the import slots and the time limit, the size limits, and the error that documents
//! 503 `imports_busy`.

use crate::domain::problems::ProblemCode;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::error::{ApiError, PROBLEM_CONTENT_TYPE, Problem};
use crate::sheets::limits::Limits;

/// One import may not hold a worker longer than this.
pub(in crate::api) const IMPORT_TIME_LIMIT: Duration = Duration::from_secs(30);

/// What an upload refused for want of an import slot is told to wait: by then the imports holding the slots have
/// usually finished, or been refused for taking longer than [`IMPORT_TIME_LIMIT`].
const BUSY_RETRY_AFTER: Duration = IMPORT_TIME_LIMIT;

/// The slots for reading uploaded spreadsheets (`max_concurrent_imports`), shared by every upload. An import holds
/// one from the upload check to the end of the parse, in the blocking thread that does the work: a request refused
/// for taking too long does not stop that thread, and its slot frees only when the thread is done.
#[derive(Clone)]
pub struct ImportSlots {
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// A taken import slot; dropping it frees the slot.
pub struct ImportSlot {
    _permit: OwnedSemaphorePermit,
}

impl ImportSlots {
    pub fn new(count: usize, wait: Duration) -> ImportSlots {
        ImportSlots {
            slots: Arc::new(Semaphore::new(count.min(Semaphore::MAX_PERMITS))),
            wait,
        }
    }

    pub fn from_config(config: &Config) -> ImportSlots {
        Self::new(
            config.max_concurrent_imports,
            Duration::from_millis(config.import_wait_ms),
        )
    }

    /// Takes a slot, waiting up to `import_wait_ms` for one to free; refused with 503 `imports_busy` otherwise.
    pub async fn take(&self) -> Result<ImportSlot, ApiError> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(ImportSlot { _permit: permit }),
            Ok(Err(closed)) => Err(ApiError::Internal(anyhow::anyhow!("import slots: {closed}"))),
            Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemCode::ImportsBusy,
                format!(
                    "the service is already reading as many uploaded spreadsheets as it reads at once; nothing was \
                     stored; send the same file again in {} seconds",
                    BUSY_RETRY_AFTER.as_secs()
                ),
            )
            .with_retry_after(BUSY_RETRY_AFTER.as_secs())),
        }
    }
}

/// The error of an operation that reads an uploaded spreadsheet: any [`ApiError`], documented in the OpenAPI
/// document with the usual statuses and also 503 `imports_busy` and its `Retry-After`.
pub struct ImportError(ApiError);

impl From<ApiError> for ImportError {
    fn from(error: ApiError) -> Self {
        ImportError(error)
    }
}

impl From<ImportError> for poem::Error {
    fn from(error: ImportError) -> Self {
        error.0.into()
    }
}

impl ApiResponse for ImportError {
    fn meta() -> MetaResponses {
        let mut meta = ApiError::meta();
        meta.responses.push(MetaResponse {
            description: "Every slot for reading uploaded spreadsheets stayed taken by other uploads while this \
                          one waited (`imports_busy`); nothing was stored. Send the file again after `Retry-After`.",
            status: Some(503),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: PROBLEM_CONTENT_TYPE,
                schema: Problem::schema_ref(),
            }],
            headers: vec![MetaHeader {
                name: "Retry-After".to_string(),
                description: Some("Seconds to wait before sending the file again.".to_string()),
                required: true,
                deprecated: false,
                schema: u64::schema_ref(),
            }],
        });
        meta
    }

    fn register(registry: &mut Registry) {
        ApiError::register(registry);
    }
}

/// What an uploaded spreadsheet may cost to read: the configured upload size, the default unpacked-size and cell
/// caps. The same for every operation that reads one.
pub(in crate::api) fn upload_limits(config: &Config) -> Limits {
    Limits {
        max_bytes: config.max_upload_bytes,
        ..Limits::default()
    }
}

/// Takes an import slot, then runs parsing off the async workers, refused after `time_limit`
/// ([`IMPORT_TIME_LIMIT`]). The slot moves into the blocking work and is freed when the work ends, which may be
/// after the request was refused.
pub(in crate::api) async fn parse_off_thread<T: Send + 'static>(
    slots: &ImportSlots,
    time_limit: Duration,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let slot = slots.take().await?;
    let work = move || {
        let result = work();
        drop(slot);
        result
    };
    match tokio::time::timeout(time_limit, crate::api::blocking(work)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::ImportTooSlow,
            "the file took too long to read; split it or remove what is not the questionnaire",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_parse_refused_for_time_keeps_its_slot_until_its_work_really_ends() {
        let slots = ImportSlots::new(1, Duration::ZERO);
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        // A zero time limit refuses the request while the work waits for `finish`.
        let refused = parse_off_thread(&slots, Duration::ZERO, move || {
            finished.recv().ok();
            Ok(())
        })
        .await
        .expect_err("refused for time");
        assert_eq!(refused.code(), "import_too_slow");

        assert_eq!(slots.slots.available_permits(), 0);
        let busy = slots
            .take()
            .await
            .err()
            .expect("no slot while the work runs");
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.code(), "imports_busy");

        finish.send(()).unwrap();
        // Completes once the blocking work has ended and dropped the slot.
        let _slot = slots.slots.clone().acquire_owned().await.unwrap();
    }
}
