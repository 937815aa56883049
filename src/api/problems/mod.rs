//! The problems each operation can answer, by code: written into the published document and, in tests, held to
//! at run time.
//!
//! An operation's codes are those its shape gives (every operation may fail with `internal_error`; one that takes
//! a bearer token answers `unauthorized` and `forbidden`; one with a path parameter `not_found`; one that takes
//! `If-Match` `precondition_required` and `stale_etag`; one with a body `bad_body`, `body_too_large`, ...) and those
//! its rules give, listed in [`BY_OPERATION`]. Each code has one status ([`crate::error::status_of`]), so the
//! document lists each error status an operation can answer with the codes it carries there (`x-problem-codes`).
//!
//! The list is held to: the test server (see [`hold_to_the_document`]) answers 500 when an operation answers a
//! code its documentation does not list, so a test that provokes a new refusal fails until the refusal is listed
//! here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_norway::{Mapping, Value};

use crate::error::{ApiError, DOCUMENTED, PROBLEM_CONTENT_TYPE, ProblemCode, status_of};

mod table;

pub use table::BY_OPERATION;

/// The codes of each operation, by operation id.
pub type Codes = BTreeMap<String, BTreeSet<ProblemCode>>;

/// What an operation's shape says of the problems it can answer.
fn shape_codes(operation: &Value) -> BTreeSet<ProblemCode> {
    use ProblemCode::*;
    let mut codes = BTreeSet::from([InternalError]);
    let secured = operation
        .get("security")
        .and_then(Value::as_sequence)
        .is_some_and(|s| !s.is_empty());
    if secured {
        codes.extend([Unauthorized, Forbidden]);
    }
    let parameters: Vec<&Value> = operation
        .get("parameters")
        .and_then(Value::as_sequence)
        .map(|p| p.iter().collect())
        .unwrap_or_default();
    let located = |place: &str| {
        parameters
            .iter()
            .any(|p| p.get("in").and_then(Value::as_str) == Some(place))
    };
    if !parameters.is_empty() {
        codes.extend([BadParameter, ValidationFailed]);
    }
    if located("path") {
        codes.insert(NotFound);
    }
    let if_match = parameters.iter().any(|p| {
        p.get("in").and_then(Value::as_str) == Some("header")
            && p.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("if-match"))
    });
    if if_match {
        codes.extend([PreconditionRequired, StaleEtag]);
    }
    if operation.get("requestBody").is_some() {
        codes.extend([
            BadBody,
            BodyTooLarge,
            BodyTimeout,
            UnsupportedMediaType,
            ValidationFailed,
        ]);
    }
    codes
}

/// Every operation's codes: its shape's and its rules'.
fn codes_of_document(document: &Value) -> Codes {
    let listed: BTreeMap<&str, &[ProblemCode]> = BY_OPERATION.iter().copied().collect();
    let mut all = Codes::new();
    for operation in operations(document) {
        let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        let mut codes = shape_codes(operation);
        codes.extend(listed.get(id).copied().unwrap_or_default());
        all.insert(id.to_string(), codes);
    }
    all
}

fn operations(document: &Value) -> impl Iterator<Item = &Value> {
    document
        .get("paths")
        .and_then(Value::as_mapping)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_mapping)
        .flat_map(|methods| methods.values())
}

/// The codes of every operation of the service's APIs.
pub fn codes() -> &'static Codes {
    static CODES: OnceLock<Codes> = OnceLock::new();
    CODES.get_or_init(|| {
        let raw: Value = serde_norway::from_str(&super::document::openapi_service().spec_yaml())
            .expect("poem-openapi writes a YAML document");
        codes_of_document(&raw)
    })
}

/// Writes each operation's problem responses: one per status its codes carry, listing the codes.
pub fn document(document: &mut Value) {
    let all = codes_of_document(document);
    let Some(paths) = document.get_mut("paths").and_then(Value::as_mapping_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_mapping_mut)
        .flat_map(|m| m.values_mut())
    {
        let Some(codes) = operation
            .get("operationId")
            .and_then(Value::as_str)
            .and_then(|id| all.get(id))
        else {
            continue;
        };
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_mapping_mut)
        else {
            continue;
        };
        // The generic problem responses the framework wrote for every operation go; an operation's own (a 503
        // with its Retry-After, say) stays and gets the codes.
        responses.retain(|_, response| {
            let generic = response
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| DOCUMENTED.iter().any(|(_, text)| *text == d));
            let problem = response
                .get("content")
                .and_then(|c| c.get(PROBLEM_CONTENT_TYPE))
                .is_some();
            !(generic && problem)
        });
        let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
        for code in codes {
            by_status
                .entry(status_of(*code).as_u16())
                .or_default()
                .push(code.as_str());
        }
        for (status, mut names) in by_status {
            names.sort_unstable();
            let written = response(status, &names);
            match responses
                .get_mut(status.to_string())
                .and_then(Value::as_mapping_mut)
            {
                Some(own) => {
                    own.insert(Value::from("content"), written["content"].clone());
                    own.insert(
                        Value::from("x-problem-codes"),
                        written["x-problem-codes"].clone(),
                    );
                }
                None => {
                    responses.insert(Value::from(status.to_string()), written);
                }
            }
        }
    }
}

fn response(status: u16, codes: &[&str]) -> Value {
    let description = DOCUMENTED
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, d)| *d)
        .unwrap_or("An error; `code` says which.");
    let names: Vec<Value> = codes.iter().map(|c| Value::from(*c)).collect();
    let schema: Value = serde_norway::from_str("$ref: '#/components/schemas/Problem'")
        .expect("a reference is YAML");
    let mut content = Mapping::new();
    content.insert(
        Value::from(PROBLEM_CONTENT_TYPE),
        Value::Mapping(Mapping::from_iter([(Value::from("schema"), schema)])),
    );
    Value::Mapping(Mapping::from_iter([
        (Value::from("description"), Value::from(description)),
        (Value::from("content"), Value::Mapping(content)),
        (Value::from("x-problem-codes"), Value::Sequence(names)),
    ]))
}

static HELD: AtomicBool = AtomicBool::new(false);

/// From now on, in this process, an operation that answers a problem its documentation does not list answers
/// 500 instead, naming the operation and the code in the log. The test server turns this on.
pub fn hold_to_the_document() {
    HELD.store(true, Ordering::Relaxed);
}

/// `problem` as the client sees it: unchanged, unless the document is held to and does not list its code for
/// `operation`.
pub fn held(problem: ApiError, operation: Option<&str>) -> ApiError {
    let (Some(operation), ApiError::Problem { code, .. }) = (operation, &problem) else {
        return problem;
    };
    if !HELD.load(Ordering::Relaxed) {
        return problem;
    }
    match codes().get(operation) {
        Some(listed) if !listed.contains(code) => ApiError::Internal(anyhow::anyhow!(
            "operation {operation} answered {code}, which its documentation does not list \
             (src/api/problems/table.rs)"
        )),
        _ => problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_operation_exists() {
        let known = codes();
        for (id, _) in BY_OPERATION {
            assert!(
                known.contains_key(*id),
                "{id} is listed but is no operation"
            );
        }
    }

    #[test]
    fn every_code_an_operation_can_answer_is_documented_somewhere() {
        let documented: BTreeSet<ProblemCode> = codes().values().flatten().copied().collect();
        // Answered outside any operation: an unknown route or method, and the readiness probe.
        let outside = [
            ProblemCode::NoRoute,
            ProblemCode::MethodNotAllowed,
            ProblemCode::NotReady,
            ProblemCode::RequestFailed,
            // The framework's fallback for a 400 it raised without saying why, and the console's sign-in.
            ProblemCode::BadRequest,
            ProblemCode::OidcState,
        ];
        for code in <ProblemCode as strum::VariantArray>::VARIANTS {
            if !outside.contains(code) {
                assert!(documented.contains(code), "no operation lists {code}");
            }
        }
    }

    #[test]
    fn the_document_lists_each_status_an_operation_answers_with_its_codes() {
        let document: Value =
            serde_norway::from_str(&crate::api::document::spec_yaml()).expect("YAML");
        let operation = |path: &str, method: &str| document["paths"][path][method].clone();
        let codes = |op: &Value, status: &str| -> Vec<String> {
            op["responses"][status]["x-problem-codes"]
                .as_sequence()
                .map(|s| s.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                .unwrap_or_default()
        };
        let update = operation("/api/v1/vendors/{id}", "patch");
        assert_eq!(codes(&update, "412"), ["stale_etag"]);
        assert_eq!(codes(&update, "428"), ["precondition_required"]);
        assert_eq!(codes(&update, "404"), ["not_found"]);
        assert!(codes(&update, "409").contains(&"duplicate_vendor".to_string()));
        // A list takes no path parameter and no If-Match: no 404, 412 or 428 is documented for it.
        let list = operation("/api/v1/vendors", "get");
        for status in ["404", "412", "428"] {
            assert!(
                list["responses"].get(status).is_none(),
                "listVendors documents {status}"
            );
        }
        assert_eq!(codes(&list, "401"), ["unauthorized"]);
    }
}
