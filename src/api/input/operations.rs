//! What each operation takes, read once from the API's own metadata: its parameters with their real names
//! and schemas, and the schema of its JSON body.

use std::sync::OnceLock;

use poem::http::Method;
use poem_openapi::OpenApi;
use poem_openapi::registry::{MetaParamIn, MetaSchemaRef, Registry};

pub struct Parameter {
    pub name: String,
    pub schema: MetaSchemaRef,
    /// Free text (not a UUID, a date, a number or one of a list), so held to the text policy.
    pub text: bool,
}

pub struct Operation {
    pub id: &'static str,
    pub method: Method,
    /// The path as the OpenAPI document writes it: `/api/v1/vendors/{id}`.
    pub path: String,
    /// Path parameters in order; poem-openapi routes them as `param0`, `param1`, ...
    pub path_params: Vec<Parameter>,
    pub query_params: Vec<Parameter>,
    /// The schema of the JSON request body, when the operation takes one.
    pub body: Option<MetaSchemaRef>,
    /// Whether a call without credentials is refused (401) before anything else is looked at.
    pub needs_token: bool,
}

impl Operation {
    /// The key under which poem-openapi routes this operation: `/api/v1/vendors/:param0`.
    pub fn route(&self) -> String {
        let mut index = 0;
        self.path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') && segment.ends_with('}') {
                    index += 1;
                    format!(":param{}", index - 1)
                } else {
                    segment.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

pub struct Catalog {
    pub registry: Registry,
    pub operations: Vec<Operation>,
}

impl Catalog {
    pub fn of<T: OpenApi>() -> Catalog {
        let mut registry = Registry::new();
        T::register(&mut registry);
        let mut operations = Vec::new();
        for path in T::meta().into_iter().flat_map(|api| api.paths) {
            for op in path.operations {
                let params = |place: MetaParamIn| -> Vec<Parameter> {
                    op.params
                        .iter()
                        .filter(|p| p.in_type == place)
                        .map(|p| Parameter {
                            name: p.name.clone(),
                            schema: p.schema.clone(),
                            text: is_text(&registry, &p.schema),
                        })
                        .collect()
                };
                let path_params = params(MetaParamIn::Path);
                let query_params = params(MetaParamIn::Query);
                let body = op
                    .request
                    .as_ref()
                    .and_then(|r| r.content.iter().find(|c| c.content_type.contains("json")))
                    .map(|c| c.schema.clone());
                operations.push(Operation {
                    id: op.operation_id.unwrap_or("unnamed"),
                    method: op.method,
                    path: path.path.clone(),
                    path_params,
                    query_params,
                    body,
                    needs_token: !op.security.is_empty(),
                });
            }
        }
        Catalog {
            registry,
            operations,
        }
    }

    pub fn by_route(&self, route: &str, method: &Method) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|op| op.method == *method && op.route() == route)
    }
}

fn is_text(registry: &Registry, schema: &MetaSchemaRef) -> bool {
    let resolve = |s: &MetaSchemaRef| match s {
        MetaSchemaRef::Inline(s) => Some((**s).clone()),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name).cloned(),
    };
    let Some(mut s) = resolve(schema) else {
        return false;
    };
    if s.ty == "array"
        && let Some(items) = s.items.as_deref()
    {
        match resolve(items) {
            Some(item) => s = item,
            None => return false,
        }
    }
    s.ty == "string" && s.format.is_none() && s.enum_items.is_empty()
}

/// The operations of this service's API.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::of::<crate::api::Apis>)
}
