//! A JSON payload written straight to bytes by serde, for the hottest answers (a request, a page of requests).
//!
//! poem-openapi's [`Json`](poem_openapi::payload::Json) writes a body by building a `serde_json::Value` tree of
//! the whole answer first (`ToJSON`), then serialising the tree: a map, a string and an allocation per field,
//! all freed again. [`Serialized`] keeps the documented schema (it is `T`'s, registered as `Json<T>` registers
//! it, under the same content type) and writes the body from `T`'s `serde::Serialize` in one pass. A type
//! answered this way derives both, and `tests/api/requests_json.rs` checks that the two writers give the same
//! JSON for a page of varied requests, so they cannot drift apart.

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

/// A JSON answer of `T`'s documented schema, written by serde.
#[derive(Debug)]
pub struct Serialized<T>(pub T);

/// The content type of the answer, as poem-openapi's `Json` gives it.
const JSON: &str = "application/json; charset=utf-8";

impl<T: Type> Payload for Serialized<T> {
    const CONTENT_TYPE: &'static str = JSON;

    fn check_content_type(content_type: &str) -> bool {
        <poem_openapi::payload::Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for Serialized<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .header(header::CONTENT_TYPE, JSON)
                .body(body),
            Err(err) => Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(err.to_string()),
        }
    }
}

impl<T: Type + Serialize + Send> ApiResponse for Serialized<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: <Self as Payload>::CONTENT_TYPE,
                    schema: <Self as Payload>::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// serde's form of a time as poem-openapi's `ToJSON` writes it (`to_rfc3339`, `+00:00` rather than `Z`), for
/// `#[serde(serialize_with = "...")]`.
pub fn rfc3339<S: serde::Serializer>(
    at: &chrono::DateTime<chrono::Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.to_rfc3339())
}
