//! What the service does at its edge, before and after any handler: the connection limits and timeouts
//! (`connections`), the headers every response carries (`headers`), and the `Allow` header of a 405 (`allow`).

mod allow;
mod connections;
mod headers;

use crate::domain::problems::ProblemCode;
use poem::Response;
use poem::http::{HeaderValue, StatusCode, header};

pub use allow::RouteMethods;
pub use connections::{ConnectionLimits, serve};
pub use headers::ResponseHeaders;

use crate::error::ApiError;

/// 408 for a request body that did not arrive in full within `timeout`.
pub fn body_timed_out(timeout: std::time::Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ProblemCode::BodyTimeout,
        format!(
            "the request body did not arrive within {} ms; the connection is closed",
            timeout.as_millis()
        ),
    )
}

/// A 408 closes its connection: the rest of the late body would otherwise be read as the next request.
pub fn closing_if_timed_out(mut resp: Response) -> Response {
    if resp.status() == StatusCode::REQUEST_TIMEOUT {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}
