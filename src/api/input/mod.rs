//! Strict input: every operation's parameters and JSON body are held to the schema the OpenAPI document
//! publishes, in one place, so that no input type can forget it.
//!
//! poem-openapi's typed parse is lenient where this service must not be (see [`walk`]): it drops unknown
//! fields, so a misspelt `face_surveilance: true` was accepted and the face-surveillance ban skipped; it turns
//! a number sent for a text into that text; and it names a bad value by its Rust type, not its field. Its
//! `#[oai(deny_unknown_fields)]` would cover only the first, per type (a new input type would have to
//! remember it), with a message that does not carry the path of a nested field, and without saying so in the
//! published schema. So [`StrictApis`] wraps every operation's endpoint in a gate that, before the typed parse:
//! - checks the JSON body against the operation's schema ([`walk::body_faults`]): unknown fields (with the
//!   closest known field as a suggestion, from the schema itself), JSON types exactly, UUIDs, dates, integer
//!   ranges, enums, the text policy of [`crate::domain::text`] and every string's length;
//! - checks every text query and path parameter against the same text policy.
//!
//! Each fault is a 422 `validation_failed` naming the field by its JSON path or the parameter by its name.
//! Body that is not JSON at all is left to the framework, which answers 400 `bad_body`.
//!
//! Precedence is kept: a caller without a valid token gets 401, and one whose role may not call the operation
//! 403, whatever the body says, because the operation's own extractors still run first. To that end a refused
//! body is not answered at once: the operation is called with a body that cannot parse, so its handler never
//! runs, and the framework's complaint about that body is replaced with the faults found here. Parameters of an
//! operation without a JSON body are answered at once, except that a call without credentials to an operation
//! that needs them is left to the 401.
//!
//! The gate also names the parameter the framework refuses (path parameters are routed as `param0`), with
//! a message a person can act on (`vendor_id: not a UUID`), still as 400 `bad_parameter`.

pub mod operations;
pub mod spec;
mod suggest;
pub mod walk;

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::{Endpoint, EndpointExt, Request};
use poem_openapi::registry::{MetaApi, Registry};
use poem_openapi::{OpenApi, OperationId};

use self::operations::{Operation, catalog};
use self::walk::{body_faults, parameter_fault};
use crate::error::{ApiError, FieldError};

/// Bytes no JSON parser reads: the body an operation is called with once the gate has refused the real one.
const UNREADABLE: &[u8] = b"\0";

/// The service's APIs with every operation behind the input gate.
pub struct StrictApis(pub crate::api::Apis);

impl OpenApi for StrictApis {
    fn meta() -> Vec<MetaApi> {
        crate::api::Apis::meta()
    }

    fn register(registry: &mut Registry) {
        crate::api::Apis::register(registry);
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        let mut inner = HashMap::new();
        self.0.add_routes(&mut inner);
        for (route, methods) in inner {
            let entry = route_table.entry(route.clone()).or_default();
            for (method, endpoint) in methods {
                let operation = catalog()
                    .by_route(&route, &method)
                    .unwrap_or_else(|| panic!("{method} {route} is routed but not described"));
                entry.insert(
                    method,
                    Gate {
                        operation,
                        endpoint,
                    }
                    .boxed(),
                );
            }
        }
    }
}

struct Gate {
    operation: &'static Operation,
    endpoint: BoxEndpoint<'static>,
}

/// The raw text of each parameter as the client sent it, kept to explain the framework's refusals.
struct Sent {
    query: Vec<(String, String)>,
    path: Vec<Option<String>>,
}

impl Endpoint for Gate {
    type Output = poem::Response;

    async fn call(&self, mut req: Request) -> poem::Result<poem::Response> {
        let op = self.operation;
        let sent = Sent {
            query: req.params().unwrap_or_default(),
            path: (0..op.path_params.len())
                .map(|i| req.raw_path_param(&format!("param{i}")).map(str::to_string))
                .collect(),
        };
        let mut faults = text_parameter_faults(op, &sent);
        let mut refuse_body = false;
        if op.body.is_some() && is_json(&req) {
            let bytes = req.take_body().into_bytes().await?;
            // Not JSON at all: the framework's 400 says so.
            if let (Some(schema), Ok(value)) = (&op.body, serde_json::from_slice(&bytes)) {
                faults.extend(body_faults(&catalog().registry, schema, &value));
            }
            refuse_body = !faults.is_empty();
            req.set_body(if refuse_body {
                bytes::Bytes::from_static(UNREADABLE)
            } else {
                bytes
            });
        }
        // A refused body waits for the operation's own checks; so does a call without the credentials the
        // operation needs, which is the 401's to answer.
        let waits = refuse_body || (op.needs_token && lacks_credentials(&req));
        if !faults.is_empty() && !waits {
            return Err(self.refusal(ApiError::validation(faults)));
        }
        match self.endpoint.call(req).await {
            // Cannot happen while every operation with a JSON body reads it; the refusal stands regardless.
            Ok(_) if refuse_body => Err(self.refusal(ApiError::validation(faults))),
            Ok(response) => Ok(response),
            Err(err)
                if refuse_body && err.is::<poem_openapi::error::ParseRequestPayloadError>() =>
            {
                Err(self.refusal(ApiError::validation(faults)))
            }
            Err(err) => Err(self.explain(err, &sent)),
        }
    }
}

impl Gate {
    fn refusal(&self, error: ApiError) -> poem::Error {
        let mut error = poem::Error::from(error);
        error.set_data(OperationId(self.operation.id));
        error
    }

    /// The framework's refusal of a parameter, with the parameter's real name and a clear message.
    fn explain(&self, err: poem::Error, sent: &Sent) -> poem::Error {
        use poem_openapi::error::{ParseParamError, ParsePathError};
        let op = self.operation;
        let (param, raw, reason) = if let Some(e) = err.downcast_ref::<ParsePathError>() {
            let index = e
                .name
                .strip_prefix("param")
                .and_then(|i| i.parse::<usize>().ok());
            match index.and_then(|i| Some((op.path_params.get(i)?, sent.path[i].clone()))) {
                Some((param, raw)) => (param, raw, e.reason.clone()),
                None => return err,
            }
        } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
            match op.query_params.iter().find(|p| p.name == e.name) {
                Some(param) => {
                    let raw = sent
                        .query
                        .iter()
                        .find(|(k, _)| *k == e.name)
                        .map(|(_, v)| v.clone());
                    (param, raw, e.reason.clone())
                }
                None => return err,
            }
        } else {
            return err;
        };
        let message = match raw {
            None => "is required".to_string(),
            Some(raw) => parameter_fault(&catalog().registry, &param.schema, &param.name, &raw)
                .unwrap_or(reason),
        };
        self.refusal(ApiError::bad_parameter(&param.name, message))
    }
}

/// Control characters and overlong text in the query and path parameters that are text. Other faults of a
/// parameter (not a UUID, not a number) are the framework's 400, explained by [`Gate::explain`].
fn text_parameter_faults(op: &Operation, sent: &Sent) -> Vec<FieldError> {
    let path = op
        .path_params
        .iter()
        .zip(&sent.path)
        .filter_map(|(param, raw)| Some((param, raw.as_deref()?)));
    let query = sent.query.iter().filter_map(|(name, raw)| {
        let param = op.query_params.iter().find(|p| p.name == *name)?;
        Some((param, raw.as_str()))
    });
    path.chain(query)
        .filter(|(param, _)| param.text)
        .filter_map(|(param, raw)| {
            let message = parameter_fault(&catalog().registry, &param.schema, &param.name, raw)?;
            Some(FieldError::new(&param.name, message))
        })
        .collect()
}

fn is_json(req: &Request) -> bool {
    let Some(content_type) = req.content_type() else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|s| s.ends_with("+json"))
}

fn lacks_credentials(req: &Request) -> bool {
    !req.headers()
        .contains_key(poem::http::header::AUTHORIZATION)
        && req
            .extensions()
            .get::<crate::auth::ConsolePrincipal>()
            .is_none()
}

#[cfg(test)]
mod tests {
    use poem_openapi::registry::{MetaSchemaRef, Registry};
    use serde_json::{Value, json};

    use super::*;

    const STRAY: &str = "zz_not_a_field";

    /// A body for each object `schema` can reach, holding one stray field there, with that field's path.
    fn probes(
        registry: &Registry,
        schema: &MetaSchemaRef,
        open: &mut Vec<String>,
    ) -> Vec<(Value, String)> {
        if let MetaSchemaRef::Reference(name) = schema {
            if open.contains(name) {
                return Vec::new();
            }
            open.push(name.clone());
        }
        let s = match schema {
            MetaSchemaRef::Inline(s) => Some(&**s),
            MetaSchemaRef::Reference(name) => registry.schemas.get(name),
        };
        let mut found = Vec::new();
        if let Some(s) = s {
            for part in &s.all_of {
                found.extend(probes(registry, part, open));
            }
            match (s.ty, s.items.as_deref()) {
                ("object", _) if s.additional_properties.is_none() => {
                    found.push((json!({ STRAY: true }), STRAY.to_string()));
                    for (name, property) in &s.properties {
                        for (inner, path) in probes(registry, property, open) {
                            let sep = if path.starts_with('[') { "" } else { "." };
                            found.push((json!({ *name: inner }), format!("{name}{sep}{path}")));
                        }
                    }
                }
                ("array", Some(items)) => {
                    for (inner, path) in probes(registry, items, open) {
                        found.push((json!([inner]), format!("[0].{path}")));
                    }
                }
                _ => {}
            }
        }
        if matches!(schema, MetaSchemaRef::Reference(_)) {
            open.pop();
        }
        found
    }

    #[test]
    fn every_object_a_json_body_can_reach_refuses_a_field_it_does_not_list() {
        let catalog = catalog();
        let mut checked = Vec::new();
        for op in &catalog.operations {
            let Some(body) = &op.body else { continue };
            for (probe, path) in probes(&catalog.registry, body, &mut Vec::new()) {
                let faults = body_faults(&catalog.registry, body, &probe);
                assert!(
                    faults
                        .iter()
                        .any(|f| f.field == path && f.message.starts_with("unknown field")),
                    "{}: a stray field at {path} is not refused: {faults:?}",
                    op.id
                );
                checked.push(format!("{} {path}", op.id));
            }
        }
        // Nested objects are reached too: the answers of an assessment, the contacts of a vendor.
        assert!(
            checked.contains(&format!("saveAnswers answers[0].{STRAY}")),
            "{checked:?}"
        );
        assert!(
            checked.contains(&format!("createVendor contacts[0].{STRAY}")),
            "{checked:?}"
        );
    }

    #[test]
    fn every_routed_operation_is_gated() {
        let mut table = HashMap::new();
        StrictApis(crate::api::apis()).add_routes(&mut table);
        let routed: usize = table.values().map(HashMap::len).sum();
        assert_eq!(routed, catalog().operations.len());
    }
}
