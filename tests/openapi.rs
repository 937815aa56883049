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
    let spec: serde_yaml::Value =
        serde_yaml::from_str(&procurement_review::startup::spec_yaml()).unwrap();
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
