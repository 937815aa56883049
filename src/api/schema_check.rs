//! Names the field at fault when poem-openapi refuses a body or parameter.
//!
//! poem-openapi reports a body it cannot parse as text that names the type, not the field
//! ("Expected input type "string", found null. (occurred while parsing "NewVendorBody")"), and path
//! parameters by position (`param0`). From the operation's metadata we know the request schema and the real
//! parameter names, so we walk the body against the schema and report the first field that does not fit.

use std::collections::HashMap;
use std::sync::OnceLock;

use poem_openapi::OpenApi;
use poem_openapi::registry::{MetaParamIn, MetaSchema, MetaSchemaRef, Registry};
use serde_json::Value;

struct OperationInfo {
    path_params: Vec<String>,
    body: Option<MetaSchemaRef>,
}

struct Catalog {
    registry: Registry,
    operations: HashMap<&'static str, OperationInfo>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut registry = Registry::new();
        crate::startup::Apis::register(&mut registry);
        let mut operations = HashMap::new();
        for api in crate::startup::Apis::meta() {
            for path in api.paths {
                for op in path.operations {
                    let Some(id) = op.operation_id else { continue };
                    let path_params = op
                        .params
                        .iter()
                        .filter(|p| p.in_type == MetaParamIn::Path)
                        .map(|p| p.name.clone())
                        .collect();
                    let body = op
                        .request
                        .and_then(|r| {
                            r.content
                                .into_iter()
                                .find(|c| c.content_type.contains("json"))
                        })
                        .map(|c| c.schema);
                    operations.insert(id, OperationInfo { path_params, body });
                }
            }
        }
        Catalog {
            registry,
            operations,
        }
    })
}

/// The real name of positional path parameter `param{N}` of an operation.
pub fn path_param_name(operation: &str, positional: &str) -> Option<String> {
    let index: usize = positional.strip_prefix("param")?.parse().ok()?;
    catalog()
        .operations
        .get(operation)?
        .path_params
        .get(index)
        .cloned()
}

/// The first field of `body` that does not fit the operation's request schema, with what is wrong.
pub fn body_fault(operation: &str, body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let cat = catalog();
    let schema = cat.operations.get(operation)?.body.as_ref()?;
    walk(&cat.registry, schema, &value, "")
}

fn resolve<'a>(registry: &'a Registry, schema: &'a MetaSchemaRef) -> Option<&'a MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(s) => Some(s),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn walk(
    registry: &Registry,
    schema: &MetaSchemaRef,
    value: &Value,
    path: &str,
) -> Option<(String, String)> {
    let s = resolve(registry, schema)?;
    if let Some(first) = s.all_of.first()
        && s.all_of.len() == 1
        && s.ty == "object"
        && s.properties.is_empty()
    {
        return walk(registry, first, value, path);
    }
    if !s.any_of.is_empty() || !s.one_of.is_empty() {
        return None;
    }
    let field = if path.is_empty() {
        "body".to_string()
    } else {
        path.to_string()
    };
    if value.is_null() {
        return (!s.nullable).then(|| (field, "must not be null".to_string()));
    }
    let expected = match s.ty {
        "object" if !value.is_object() => Some("an object"),
        "array" if !value.is_array() => Some("an array"),
        "string" if !value.is_string() => Some("a string"),
        "boolean" if !value.is_boolean() => Some("true or false"),
        "integer" if !(value.is_i64() || value.is_u64()) => Some("a whole number"),
        "number" if !value.is_number() => Some("a number"),
        _ => None,
    };
    if let Some(expected) = expected {
        return Some((field, format!("must be {expected}, not {}", kind_of(value))));
    }
    if !s.enum_items.is_empty() && !s.enum_items.contains(value) {
        let allowed: Vec<String> = s.enum_items.iter().map(|v| v.to_string()).collect();
        return Some((field, format!("must be one of {}", allowed.join(", "))));
    }
    match value {
        Value::Object(map) => {
            for required in &s.required {
                if !map.contains_key(*required) {
                    return Some((join(path, required), "is required".to_string()));
                }
            }
            for (name, prop) in &s.properties {
                if let Some(v) = map.get(*name)
                    && let Some(fault) = walk(registry, prop, v, &join(path, name))
                {
                    return Some(fault);
                }
            }
            None
        }
        Value::Array(items) => {
            let item_schema = s.items.as_deref()?;
            items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(registry, item_schema, v, &format!("{field}[{i}]")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_required_field_is_named() {
        let fault = body_fault("createVendor", br#"{"website": "https://x.example"}"#).unwrap();
        assert_eq!(fault.0, "legal_name");
        assert_eq!(fault.1, "is required");
    }

    #[test]
    fn a_wrong_type_inside_a_list_is_named_with_its_index() {
        let fault = body_fault(
            "createVendor",
            br#"{"legal_name": "A", "hq_country": "US", "contacts": [{"name": "x", "email": 5}]}"#,
        )
        .unwrap();
        assert_eq!(fault.0, "contacts[0].email");
    }

    #[test]
    fn path_parameters_get_their_real_names() {
        assert_eq!(
            path_param_name("getVendor", "param0").as_deref(),
            Some("id")
        );
        assert_eq!(path_param_name("getVendor", "param7"), None);
    }
}
