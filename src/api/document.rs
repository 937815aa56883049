//! The published OpenAPI document: written by poem-openapi from the APIs of [`super::apis`], with the input
//! rules the gate enforces written into its schemas ([`super::input::spec`]).

use poem_openapi::OpenApiService;

use super::input::StrictApis;

pub fn openapi_service() -> OpenApiService<StrictApis, ()> {
    OpenApiService::new(StrictApis(super::apis()), "procurement-review", env!("CARGO_PKG_VERSION")).description(
        "Security review and approval routing for a city's technology purchases. Errors are \
         application/problem+json (RFC 9457) with a stable `code`; lists paginate with `limit` and `offset`; \
         updates and state transitions take `If-Match`.",
    )
}

/// The OpenAPI document, with the input rules the gate enforces written into its schemas.
fn spec_document() -> serde_norway::Value {
    let mut document = serde_norway::from_str(&openapi_service().spec_yaml())
        .expect("poem-openapi writes a YAML document");
    super::input::spec::tighten(&mut document);
    super::problems::document(&mut document);
    document
}

/// The OpenAPI document as YAML, exactly as committed in `openapi/openapi.yaml`.
pub fn spec_yaml() -> String {
    serde_norway::to_string(&spec_document()).expect("the document serialises")
}

/// The same document as JSON (served at `/openapi.json`) and as YAML, written from one generation of it.
pub fn spec_json_and_yaml() -> (String, String) {
    let document = spec_document();
    (
        serde_json::to_string_pretty(&document).expect("the document serialises"),
        serde_norway::to_string(&document).expect("the document serialises"),
    )
}
