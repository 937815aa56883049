//! Which methods each route accepts, for the `Allow` header of a 405 (RFC 9110 §15.5.6). poem's router answers
//! 405 without saying which methods would do, so the table is read from the OpenAPI document the service
//! generates at start (every API operation is in it), plus the operational routes mounted beside it.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

/// Route templates (`/api/v1/vendors/{id}`) and the methods each accepts.
#[derive(Debug, Clone, Default)]
pub struct RouteMethods {
    routes: Vec<(Vec<Segment>, Vec<String>)>,
}

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

fn segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Parameter
            } else {
                Segment::Literal(s.to_string())
            }
        })
        .collect()
}

impl RouteMethods {
    /// Every path of an OpenAPI document (JSON) with the methods it lists.
    pub fn from_openapi(spec_json: &str) -> RouteMethods {
        let spec: Value = serde_json::from_str(spec_json).unwrap_or(Value::Null);
        let mut table = RouteMethods::default();
        if let Some(paths) = spec["paths"].as_object() {
            for (template, item) in paths {
                let methods: Vec<&str> = METHODS
                    .into_iter()
                    .filter(|m| item.get(*m).is_some())
                    .collect();
                table = table.with(template, &methods);
            }
        }
        table
    }

    /// Adds a route; methods are case-insensitive.
    pub fn with(mut self, template: &str, methods: &[&str]) -> RouteMethods {
        let mut methods: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
        // poem answers HEAD with the GET handler, body dropped.
        if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
            methods.push("HEAD".to_string());
        }
        self.routes.push((segments(template), methods));
        self
    }

    /// The `Allow` value for a concrete path: the methods of the most specific template that matches it (a
    /// literal segment beats a parameter, as in the router), in a fixed order.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let matches = |template: &[Segment]| {
            template.len() == parts.len()
                && template.iter().zip(&parts).all(|(t, p)| match t {
                    Segment::Literal(l) => l == p,
                    Segment::Parameter => true,
                })
        };
        let specificity = |template: &[Segment]| -> Vec<bool> {
            template
                .iter()
                .map(|t| matches!(t, Segment::Literal(_)))
                .collect()
        };
        let (_, methods) = self
            .routes
            .iter()
            .filter(|(template, _)| matches(template))
            .max_by_key(|(template, _)| specificity(template))?;
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        let listed: Vec<&str> = order
            .into_iter()
            .filter(|m| methods.iter().any(|x| x == m))
            .collect();
        Some(listed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{"paths": {
        "/api/v1/vendors": {"get": {}, "post": {}},
        "/api/v1/vendors/{id}": {"get": {}, "patch": {}},
        "/api/v1/vendors/search": {"post": {}},
        "/api/v1/me": {"get": {}}
    }}"#;

    #[test]
    fn the_methods_come_from_the_document_with_head_beside_get() {
        let table = RouteMethods::from_openapi(SPEC);
        assert_eq!(
            table.allowed("/api/v1/vendors").as_deref(),
            Some("GET, HEAD, POST")
        );
        assert_eq!(
            table.allowed("/api/v1/vendors/3f0c").as_deref(),
            Some("GET, HEAD, PATCH")
        );
        assert_eq!(table.allowed("/api/v1/me/").as_deref(), Some("GET, HEAD"));
    }

    #[test]
    fn a_literal_segment_beats_a_parameter_and_unknown_paths_have_none() {
        let table = RouteMethods::from_openapi(SPEC).with("/healthz", &["get"]);
        assert_eq!(
            table.allowed("/api/v1/vendors/search").as_deref(),
            Some("POST")
        );
        assert_eq!(table.allowed("/healthz").as_deref(), Some("GET, HEAD"));
        assert_eq!(table.allowed("/api/v1/nothing"), None);
        assert_eq!(table.allowed("/api/v1/vendors/a/b"), None);
    }
}
