//! The published OpenAPI document, stating the rules the gate enforces on input.
//!
//! poem-openapi writes each schema from its Rust type, which knows nothing of the gate: an object would admit
//! any other property, and a text any length and any character. A client generating requests from the document
//! (or a contract tester such as Schemathesis) would then send what the service refuses. So every schema a
//! request can reach (JSON bodies, query and path parameters) is tightened here with what the gate holds it
//! to: `additionalProperties: false` on objects, and on text the `maxLength` and control-character `pattern`
//! of [`crate::domain::text`] where the field states none of its own. Schemas shared with responses are
//! tightened too: what was stored came in through the same gate.

use std::collections::BTreeSet;

use serde_yaml::{Mapping, Value};

use crate::domain::text::TextKind;

/// Tightens every schema that a request can reach, in place.
pub fn tighten(document: &mut Value) {
    let mut components = BTreeSet::new();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_mapping_mut) {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_mapping_mut)
            .flat_map(|m| m.values_mut())
        {
            if let Some(contents) = operation
                .get_mut("requestBody")
                .and_then(|b| b.get_mut("content"))
                .and_then(Value::as_mapping_mut)
            {
                for (content_type, content) in contents.iter_mut() {
                    if content_type.as_str().is_some_and(|t| t.contains("json"))
                        && let Some(schema) = content.get_mut("schema")
                    {
                        tighten_schema(schema, None, &mut components);
                    }
                }
            }
            let parameters = operation
                .get_mut("parameters")
                .and_then(Value::as_sequence_mut);
            for parameter in parameters.into_iter().flatten() {
                let place = parameter
                    .get("in")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !matches!(place, "query" | "path") {
                    continue;
                }
                let name = parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(schema) = parameter.get_mut("schema") {
                    tighten_schema(schema, name.as_deref(), &mut components);
                }
            }
        }
    }
    let mut done = BTreeSet::new();
    while let Some(name) = components.pop_first() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = document
            .get_mut("components")
            .and_then(|c| c.get_mut("schemas"))
            .and_then(|s| s.get_mut(name.as_str()))
        {
            tighten_schema(schema, None, &mut components);
        }
    }
}

/// `key` is the name of the field the schema describes (list items share their list's name); a referenced
/// component is queued in `components` and tightened once.
fn tighten_schema(schema: &mut Value, key: Option<&str>, components: &mut BTreeSet<String>) {
    let Some(map) = schema.as_mapping_mut() else {
        return;
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
            components.insert(name.to_string());
        }
        return;
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        if let Some(parts) = map.get_mut(combinator).and_then(Value::as_sequence_mut) {
            for part in parts {
                tighten_schema(part, key, components);
            }
        }
    }
    match map.get("type").and_then(Value::as_str) {
        Some("object") => {
            match map.get_mut("additionalProperties") {
                Some(values) => tighten_schema(values, None, components),
                None => {
                    map.insert("additionalProperties".into(), false.into());
                }
            }
            if let Some(properties) = map.get_mut("properties").and_then(Value::as_mapping_mut) {
                for (name, property) in properties.iter_mut() {
                    tighten_schema(property, name.as_str(), components);
                }
            }
        }
        Some("array") => {
            if let Some(items) = map.get_mut("items") {
                tighten_schema(items, key, components);
            }
        }
        Some("string") if !map.contains_key("format") && !map.contains_key("enum") => {
            let kind = TextKind::of_field(key.unwrap_or_default());
            insert_absent(map, "maxLength", (kind.default_max_chars() as u64).into());
            insert_absent(map, "pattern", kind.pattern().into());
        }
        _ => {}
    }
}

fn insert_absent(map: &mut Mapping, key: &str, value: Value) {
    if !map.contains_key(key) {
        map.insert(key.into(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tightened(yaml: &str) -> Value {
        let mut document: Value = serde_yaml::from_str(yaml).unwrap();
        tighten(&mut document);
        document
    }

    #[test]
    fn a_request_body_and_what_it_references_are_closed_and_bounded() {
        let document = tightened(
            r##"
paths:
  /things:
    post:
      requestBody:
        content:
          application/json; charset=utf-8:
            schema: { $ref: "#/components/schemas/Thing" }
      parameters:
        - { name: q, in: query, schema: { type: string } }
        - { name: If-Match, in: header, schema: { type: string } }
components:
  schemas:
    Thing:
      type: object
      properties:
        title: { type: string }
        description: { type: string, maxLength: 500 }
        parts: { type: array, items: { $ref: "#/components/schemas/Part" } }
        id: { type: string, format: uuid }
    Part: { type: object, properties: { note: { type: string } } }
    Unrelated: { type: object, properties: { name: { type: string } } }
"##,
        );
        let thing = &document["components"]["schemas"]["Thing"];
        assert_eq!(thing["additionalProperties"], Value::Bool(false));
        assert_eq!(thing["properties"]["title"]["maxLength"], 1000);
        assert_eq!(
            thing["properties"]["title"]["pattern"],
            TextKind::OneLine.pattern()
        );
        assert_eq!(
            thing["properties"]["description"]["maxLength"], 500,
            "its own limit is kept"
        );
        assert_eq!(
            thing["properties"]["description"]["pattern"],
            TextKind::MultiLine.pattern()
        );
        assert!(
            thing["properties"]["id"].get("pattern").is_none(),
            "a UUID is not text"
        );
        let part = &document["components"]["schemas"]["Part"];
        assert_eq!(part["additionalProperties"], Value::Bool(false));
        assert_eq!(
            part["properties"]["note"]["pattern"],
            TextKind::MultiLine.pattern()
        );
        assert!(
            document["components"]["schemas"]["Unrelated"]
                .get("additionalProperties")
                .is_none()
        );
        let parameters = &document["paths"]["/things"]["post"]["parameters"];
        assert_eq!(parameters[0]["schema"]["maxLength"], 1000);
        assert!(
            parameters[1]["schema"].get("maxLength").is_none(),
            "headers are not input text"
        );
    }
}
