//! The committed spec is what the code generates. Regenerate with
//! `cargo run -- openapi > openapi/openapi.yaml`.

#[test]
fn the_committed_openapi_spec_is_current() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.yaml"))
            .expect("openapi/openapi.yaml is committed");
    let generated = procurement_review::startup::spec_yaml();
    assert!(
        committed == generated,
        "openapi/openapi.yaml is stale: run `cargo run -- openapi > openapi/openapi.yaml` and commit it"
    );
}

#[test]
fn every_operation_has_an_explicit_operation_id_and_a_summary() {
    let spec: serde_norway::Value =
        serde_norway::from_str(&procurement_review::startup::spec_yaml()).unwrap();
    let paths = spec["paths"].as_mapping().unwrap();
    let mut count = 0;
    for (path, ops) in paths {
        for (method, op) in ops.as_mapping().unwrap() {
            count += 1;
            assert!(
                op["operationId"].is_string(),
                "{path:?} {method:?} has no operationId"
            );
            assert!(
                op["summary"].is_string(),
                "{path:?} {method:?} has no summary"
            );
        }
    }
    assert!(count >= 10);
}

/// Every place in `schema` (and what it references) that admits more than the gate lets through: an object
/// open to other properties, a text without a length or character rule.
fn open_places(
    spec: &serde_norway::Value,
    schema: &serde_norway::Value,
    at: &str,
    seen: &mut Vec<String>,
) -> Vec<String> {
    let mut open = Vec::new();
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference
            .trim_start_matches("#/components/schemas/")
            .to_string();
        if !seen.contains(&name) {
            seen.push(name.clone());
            open.extend(open_places(
                spec,
                &spec["components"]["schemas"][name.as_str()],
                &name,
                seen,
            ));
        }
        return open;
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for part in schema[combinator].as_sequence().into_iter().flatten() {
            open.extend(open_places(spec, part, at, seen));
        }
    }
    match schema["type"].as_str() {
        Some("object") => {
            if schema["additionalProperties"].is_null() || schema["additionalProperties"] == true {
                open.push(format!("{at} admits additional properties"));
            }
            for (name, property) in schema["properties"].as_mapping().into_iter().flatten() {
                let name = name.as_str().unwrap();
                open.extend(open_places(spec, property, &format!("{at}.{name}"), seen));
            }
        }
        Some("array") => open.extend(open_places(
            spec,
            &schema["items"],
            &format!("{at}[]"),
            seen,
        )),
        Some("string")
            if schema["format"].is_null()
                && schema["enum"].is_null()
                && (schema["maxLength"].as_u64().is_none()
                    || schema["pattern"].as_str().is_none()) =>
        {
            open.push(format!("{at} is text without maxLength and pattern"));
        }
        _ => {}
    }
    open
}

#[test]
fn every_schema_a_request_can_reach_is_closed_and_every_text_in_it_bounded() {
    let spec: serde_norway::Value =
        serde_norway::from_str(&procurement_review::startup::spec_yaml()).unwrap();
    let mut open = Vec::new();
    let mut bodies = 0;
    for (path, ops) in spec["paths"].as_mapping().unwrap() {
        for (method, op) in ops.as_mapping().unwrap() {
            let at = format!("{} {}", method.as_str().unwrap(), path.as_str().unwrap());
            for (content_type, content) in op["requestBody"]["content"]
                .as_mapping()
                .into_iter()
                .flatten()
            {
                if content_type.as_str().unwrap().contains("json") {
                    bodies += 1;
                    open.extend(open_places(&spec, &content["schema"], &at, &mut Vec::new()));
                }
            }
            for parameter in op["parameters"].as_sequence().into_iter().flatten() {
                if matches!(parameter["in"].as_str(), Some("query" | "path")) {
                    let name = format!("{at} parameter {}", parameter["name"].as_str().unwrap());
                    open.extend(open_places(
                        &spec,
                        &parameter["schema"],
                        &name,
                        &mut Vec::new(),
                    ));
                }
            }
        }
    }
    assert!(bodies >= 20, "only {bodies} JSON bodies found");
    assert!(
        open.is_empty(),
        "the document admits input the service refuses:\n{}",
        open.join("\n")
    );
}
