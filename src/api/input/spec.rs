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

use serde_norway::{Mapping, Value};

use crate::api::surveillance::REPORT_YEARS;
use crate::domain::PageRequest;
use crate::domain::budgets::FISCAL_YEARS;
use crate::domain::requests::{MAX_CENTS, MAX_TERM_MONTHS, MAX_USERS};
use crate::domain::text::TextKind;
use crate::workflow::incidents::MAX_RESIDENTS;

/// Tightens every schema that a request can reach, in place.
pub fn tighten(document: &mut Value) {
    let mut components = BTreeSet::new();
    // Read before the paths are borrowed to change: the wrappers look up field types in the components.
    let creates: Vec<(&str, &str, Vec<Value>)> = REQUIRED_ON_CREATE
        .iter()
        .map(|(method, path, fields)| {
            (
                *method,
                *path,
                create_bodies(document, method, path, fields),
            )
        })
        .collect();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_mapping_mut) {
        for (method, path, bodies) in creates {
            let contents = paths
                .get_mut(path)
                .and_then(|operations| operations.get_mut(method))
                .and_then(|operation| operation.get_mut("requestBody"))
                .and_then(|b| b.get_mut("content"))
                .and_then(Value::as_mapping_mut);
            for (content, body) in contents
                .into_iter()
                .flat_map(|c| c.values_mut())
                .filter(|content| content.get("schema").is_some())
                .zip(bodies)
            {
                content["schema"] = body;
            }
        }
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
                    .unwrap_or_default()
                    .to_string();
                let name = parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if place == "header"
                    && name.as_deref() == Some("If-Match")
                    && let Some(schema) =
                        parameter.get_mut("schema").and_then(Value::as_mapping_mut)
                {
                    // An empty `If-Match` is read as none (428).
                    insert_absent(schema, "minLength", 1.into());
                }
                if !matches!(place.as_str(), "query" | "path") {
                    continue;
                }
                if let Some(schema) = parameter.get_mut("schema") {
                    if place == "query"
                        && let Some(name) = name.as_deref()
                    {
                        state_rule(schema, QUERY_RULES, "", name);
                    }
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
            state_field_rules(&name, schema);
            tighten_schema(schema, None, &mut components);
        }
    }
    standard_formats(document);
    if let Some(schemas) = document
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(Value::as_mapping_mut)
    {
        for schema in schemas.values_mut() {
            null_where_optional(schema);
        }
    }
}

/// An optional field is written as `null` when it has no value (and read as left out when sent as `null`,
/// see [`super::walk`]), so each property an object does not require is `nullable`. OpenAPI 3.0 ignores
/// what stands beside a `$ref`, so a referenced schema is wrapped in `allOf` to carry it.
fn null_where_optional(schema: &mut Value) {
    let Some(map) = schema.as_mapping_mut() else {
        return;
    };
    let required: BTreeSet<String> = map
        .get("required")
        .and_then(Value::as_sequence)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let Some(properties) = map.get_mut("properties").and_then(Value::as_mapping_mut) else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        if name.as_str().is_some_and(|n| required.contains(n)) {
            continue;
        }
        let Some(property) = property.as_mapping_mut() else {
            continue;
        };
        if let Some(reference) = property.remove("$ref") {
            let mut target = Mapping::new();
            target.insert("$ref".into(), reference);
            property.insert(
                "allOf".into(),
                Value::Sequence(vec![Value::Mapping(target)]),
            );
        }
        property.insert("nullable".into(), true.into());
        // `enum` lists every value the field takes, so `null` too.
        if let Some(values) = property.get_mut("enum").and_then(Value::as_sequence_mut)
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
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
            let non_blank = map.remove("x-non-blank").is_some();
            let pattern = if non_blank {
                kind.non_blank_pattern()
            } else {
                kind.pattern()
            };
            insert_absent(map, "pattern", pattern.into());
        }
        Some("integer") => {
            // The gate holds a whole number to the range of its Rust type; say so.
            let format = map.get("format").and_then(Value::as_str);
            let (min, max) = super::walk::integer_range(format);
            insert_absent(map, "minimum", integer(min));
            insert_absent(map, "maximum", integer(max));
        }
        _ => {}
    }
}

fn integer(n: i128) -> Value {
    match (i64::try_from(n), u64::try_from(n)) {
        (Ok(i), _) => i.into(),
        (_, Ok(u)) => u.into(),
        _ => unreachable!("integer ranges fit in i64 or u64"),
    }
}

/// A rule the domain holds a field to beyond the gate's (which knows types, lengths and characters only).
enum Rule {
    /// The domain trims the text and refuses it when nothing is left, or when longer than this.
    NonBlank(u64),
    /// Text of at most this many characters.
    Max(u64),
    /// The domain's own check, as a pattern, with the most characters it takes.
    Pattern(&'static str, u64),
    /// A whole number within these bounds.
    Range(i64, i64),
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// The id of a clause of the contract safeguard library.
    Clause,
    /// A list of at least one item, each one of these words.
    SomeOf(&'static [&'static str]),
    /// A list of at least one item.
    NotEmpty,
}

/// White space that is not a control character (the gate refuses those in one-line text; the domain
/// trims the rest).
macro_rules! space {
    () => {
        r"[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    };
}
/// A character that is neither white space nor a control character.
macro_rules! visible {
    () => {
        r"[^\s\u0000-\u001f\u007f-\u009f]"
    };
}

/// Two letters, any case, spaces around (the domain trims and upper-cases).
const COUNTRY: &str = concat!("^", space!(), "*[A-Za-z]{2}", space!(), "*$");
/// A department code: 2 to 24 letters, digits and dashes, not starting with a dash (any case, trimmed).
const DEPARTMENT_CODE: &str = concat!(
    "^",
    space!(),
    "*[A-Za-z0-9][A-Za-z0-9-]{1,23}",
    space!(),
    "*$"
);
/// An address: a local part, an `@`, a domain holding a dot; no spaces inside.
const EMAIL: &str = concat!(
    "^",
    space!(),
    r"*[^\s@\u0000-\u001f\u007f-\u009f]+@",
    visible!(),
    r"*\.",
    visible!(),
    "*",
    space!(),
    "*$"
);
/// [`EMAIL`] whose domain does not end with a dot (a vendor's contacts).
const CONTACT_EMAIL: &str = concat!(
    "^",
    space!(),
    r"*[^\s@\u0000-\u001f\u007f-\u009f]+@",
    visible!(),
    r"*\.",
    visible!(),
    r"*[^\s.\u0000-\u001f\u007f-\u009f]",
    space!(),
    "*$"
);
/// A plain file name: no path separators, quotes or control characters, not hidden (not starting with a
/// dot), not blank.
const FILE_NAME: &str = concat!(
    "^",
    space!(),
    r#"*[^\s./\\"\u0000-\u001f\u007f-\u009f][^/\\"\u0000-\u001f\u007f-\u009f]*$"#
);
/// A web address: `http://` or `https://` and a host, no spaces inside; or nothing (blank leaves it out).
const WEBSITE: &str = concat!(
    "^",
    space!(),
    r"*(?:https?://[^\s/\u0000-\u001f\u007f-\u009f]",
    visible!(),
    "*",
    space!(),
    "*)?$"
);
const DATA_CLASSES: &[&str] = &[
    "pi_ma",
    "pi_ct",
    "cjis",
    "health",
    "cardholder",
    "confidential",
    "public",
];

/// What the domain checks in request bodies, by schema and field (a list's rule is its items'), stated in
/// the document so that a client generating input from it sends what is accepted. `.ci/contract.py`
/// (Schemathesis) holds the service to it: a rule here that the domain does not keep, or one it keeps and
/// this list lacks, fails that run.
const FIELD_RULES: &[(&str, &str, Rule)] = &[
    ("AliasRejectInput", "reason", Rule::NonBlank(2000)),
    ("CancelBody", "reason", Rule::NonBlank(20_000)),
    ("CatalogServiceInput", "name", Rule::NonBlank(200)),
    ("CatalogServiceInput", "aliases", Rule::NonBlank(120)),
    ("CatalogServiceInput", "capabilities", Rule::NonBlank(120)),
    ("CatalogServiceInput", "category", Rule::Max(100)),
    ("CatalogServiceInput", "description", Rule::Max(5000)),
    ("CatalogServiceInput", "owning_team", Rule::Max(200)),
    ("CatalogServiceInput", "access", Rule::Max(500)),
    (
        "CatalogServiceInput",
        "status",
        Rule::OneOf(&["active", "retiring", "retired"]),
    ),
    ("Contact", "name", Rule::NonBlank(200)),
    ("VocabularyInput", "concept", Rule::Max(60)),
    ("VocabularyInput", "label", Rule::Max(200)),
    ("VocabularyInput", "phrases", Rule::NonBlank(120)),
    ("VocabularyInput", "abbreviation", Rule::Max(60)),
    ("VocabularyInput", "expansion", Rule::Max(200)),
    ("Contact", "email", Rule::Pattern(CONTACT_EMAIL, 254)),
    ("ContractBody", "title", Rule::NonBlank(1000)),
    ("ContractBody", "value_cents", Rule::Range(0, i64::MAX)),
    ("ContractBody", "renewal_notice_days", Rule::Range(0, 3650)),
    ("ContractBody", "safeguard_clauses", Rule::Clause),
    ("ContractBody", "contract_number", Rule::NonBlank(1000)),
    (
        "DecommissionBody",
        "certificate_reference",
        Rule::NonBlank(1000),
    ),
    ("DecommissionBody", "certified_by", Rule::NonBlank(1000)),
    ("DepartmentPatchBody", "name", Rule::NonBlank(200)),
    (
        "DecisionInput",
        "step",
        Rule::OneOf(&["cio_approval", "cio_duplicate_review", "finance_approval"]),
    ),
    ("DecisionInput", "rationale", Rule::Max(5000)),
    (
        "DismissInput",
        "candidate_kind",
        Rule::OneOf(&["service", "purchase"]),
    ),
    ("DismissInput", "reason", Rule::NonBlank(2000)),
    ("ExceptionDecisionInput", "reason", Rule::NonBlank(2000)),
    ("ExceptionInput", "justification", Rule::NonBlank(5000)),
    (
        "InvitationInput",
        "contact_email",
        Rule::Pattern(EMAIL, 254),
    ),
    (
        "IncidentBody",
        "residents_ma",
        Rule::Range(0, MAX_RESIDENTS),
    ),
    (
        "IncidentBody",
        "residents_ct",
        Rule::Range(0, MAX_RESIDENTS),
    ),
    (
        "IncidentBody",
        "residents_other",
        Rule::Range(0, MAX_RESIDENTS),
    ),
    ("InvitationInput", "days", Rule::Range(1, 90)),
    (
        "NewDepartmentBody",
        "code",
        Rule::Pattern(DEPARTMENT_CODE, 1000),
    ),
    ("NewDepartmentBody", "name", Rule::NonBlank(200)),
    ("NewVendorBody", "hq_country", Rule::Pattern(COUNTRY, 1000)),
    ("NewVendorBody", "legal_name", Rule::NonBlank(300)),
    ("NewVendorBody", "website", Rule::Pattern(WEBSITE, 500)),
    (
        "PlanItemBody",
        "first_fiscal_year",
        Rule::Range(*FISCAL_YEARS.start() as i64, *FISCAL_YEARS.end() as i64),
    ),
    (
        "PlanItemBody",
        "last_fiscal_year",
        Rule::Range(*FISCAL_YEARS.start() as i64, *FISCAL_YEARS.end() as i64),
    ),
    ("RemediationInput", "plan", Rule::NonBlank(5000)),
    ("RequestInput", "title", Rule::NonBlank(200)),
    ("RequestInput", "description", Rule::Max(10_000)),
    ("RequestInput", "product_name", Rule::NonBlank(200)),
    ("RequestInput", "category", Rule::Max(100)),
    ("RequestInput", "capabilities", Rule::NonBlank(100)),
    (
        "RequestInput",
        "capital_cost_cents",
        Rule::Range(0, MAX_CENTS),
    ),
    (
        "RequestInput",
        "annual_operating_cost_cents",
        Rule::Range(0, MAX_CENTS),
    ),
    (
        "RequestInput",
        "term_months",
        Rule::Range(1, MAX_TERM_MONTHS),
    ),
    ("RequestInput", "expected_users", Rule::Range(0, MAX_USERS)),
    (
        "RequestInput",
        "hosting",
        Rule::OneOf(&["vendor_cloud", "on_premises"]),
    ),
    ("RequestInput", "data_classes", Rule::SomeOf(DATA_CLASSES)),
    ("ProductInput", "name", Rule::NonBlank(200)),
    ("ProductInput", "aliases", Rule::NonBlank(200)),
    (
        "ProductInput",
        "hosting",
        Rule::OneOf(&["vendor_cloud", "on_premises"]),
    ),
    ("ProductInput", "data_classes", Rule::SomeOf(DATA_CLASSES)),
    (
        "ReuseConfirmationInput",
        "questionnaire",
        Rule::NonBlank(100),
    ),
    ("ResolveInput", "note", Rule::NonBlank(5000)),
    ("RiskAcceptanceInput", "rationale", Rule::NonBlank(5000)),
    ("VoteBody", "docket", Rule::NonBlank(100)),
    ("SafeguardsBody", "clauses", Rule::NotEmpty),
    (
        "VendorPatchBody",
        "hq_country",
        Rule::Pattern(COUNTRY, 1000),
    ),
    ("VendorPatchBody", "legal_name", Rule::NonBlank(300)),
    ("VendorPatchBody", "website", Rule::Pattern(WEBSITE, 500)),
];

/// What a create needs that an edit of the same object may leave out (both take one schema), by method and
/// path: the fields the domain refuses a new object without.
const REQUIRED_ON_CREATE: &[(&str, &str, &[&str])] = &[
    ("post", "/api/v1/catalog/services", &["name"]),
    (
        "post",
        "/api/v1/requests",
        &[
            "title",
            "vendor_id",
            "product_name",
            "capital_cost_cents",
            "annual_operating_cost_cents",
            "term_months",
            "expected_users",
            "hosting",
            "data_classes",
            "renewal",
            "enterprise_agreement",
            "surveillance",
            "face_surveillance",
            "requested_start_date",
        ],
    ),
];

/// The same for query parameters, by name (of any operation).
const QUERY_RULES: &[(&str, &str, Rule)] = &[
    ("", "awaiting", Rule::OneOf(&["me"])),
    ("", "filename", Rule::Pattern(FILE_NAME, 200)),
    ("", "limit", Rule::Range(1, PageRequest::MAX_LIMIT)),
    ("", "offset", Rule::Range(0, i64::MAX)),
    (
        "",
        "year",
        Rule::Range(*REPORT_YEARS.start() as i64, *REPORT_YEARS.end() as i64),
    ),
];

/// The JSON body schemas of the create at `method` `path`, each wrapped in `allOf` with the fields
/// [`REQUIRED_ON_CREATE`] names.
fn create_bodies(document: &Value, method: &str, path: &str, fields: &[&str]) -> Vec<Value> {
    let schemas = &document["components"]["schemas"];
    let Some(contents) = document["paths"][path][method]["requestBody"]["content"].as_mapping()
    else {
        return Vec::new();
    };
    contents
        .values()
        .filter_map(|content| content.get("schema"))
        .map(|schema| {
            let mut wrapped = Mapping::new();
            wrapped.insert("allOf".into(), Value::Sequence(vec![schema.clone()]));
            let names = fields.iter().map(|f| Value::from(*f)).collect();
            wrapped.insert("required".into(), Value::Sequence(names));
            // Required is not enough where the shared schema admits `null` (an edit may clear a field):
            // the wrapper says which type each must have.
            let mut typed = Mapping::new();
            for field in fields {
                let mut kind = Mapping::new();
                if let Some(ty) = field_type(schemas, schema, field) {
                    kind.insert("type".into(), ty);
                }
                typed.insert((*field).into(), Value::Mapping(kind));
            }
            wrapped.insert("properties".into(), Value::Mapping(typed));
            Value::Mapping(wrapped)
        })
        .collect()
}

/// The JSON type of `field` in the object `schema` (a reference to one of `schemas`) stands for.
fn field_type(schemas: &Value, schema: &Value, field: &str) -> Option<Value> {
    let name = schema
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")?;
    schemas
        .get(name)?
        .get("properties")?
        .get(field)?
        .get("type")
        .cloned()
}

fn state_field_rules(schema_name: &str, schema: &mut Value) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_mapping_mut) else {
        return;
    };
    for (field, property) in properties.iter_mut() {
        if let Some(field) = field.as_str() {
            state_rule(property, FIELD_RULES, schema_name, field);
        }
    }
}

/// Writes the rule that `rules` holds for `field` of `schema_name` (if any) into `schema`, or into its
/// items when it is a list.
fn state_rule(schema: &mut Value, rules: &[(&str, &str, Rule)], schema_name: &str, field: &str) {
    let Some((_, _, rule)) = rules
        .iter()
        .find(|(s, f, _)| *s == schema_name && *f == field)
    else {
        return;
    };
    if let Rule::SomeOf(_) | Rule::NotEmpty = rule
        && let Some(map) = schema.as_mapping_mut()
    {
        map.insert("minItems".into(), 1.into());
        if let (Rule::SomeOf(words), Some(items)) = (rule, map.get_mut("items")) {
            state_rule(items, &[("", "", Rule::OneOf(words))], "", "");
        }
        return;
    }
    let schema = match schema.get("type").and_then(Value::as_str) {
        Some("array") => match schema.get_mut("items") {
            Some(items) => items,
            None => return,
        },
        _ => schema,
    };
    let Some(map) = schema.as_mapping_mut() else {
        return;
    };
    match rule {
        Rule::NonBlank(max) => {
            map.insert("minLength".into(), 1.into());
            map.insert("maxLength".into(), (*max).into());
            // Read by `tighten_schema`, which knows whether the field is prose.
            map.insert("x-non-blank".into(), true.into());
        }
        Rule::Max(max) => {
            map.insert("maxLength".into(), (*max).into());
        }
        Rule::Pattern(pattern, max) => {
            map.insert("pattern".into(), (*pattern).into());
            map.insert("maxLength".into(), (*max).into());
        }
        Rule::Range(min, max) => {
            map.insert("minimum".into(), (*min).into());
            map.insert("maximum".into(), (*max).into());
        }
        Rule::OneOf(words) => {
            let words = words.iter().map(|w| Value::from(*w)).collect();
            map.insert("enum".into(), Value::Sequence(words));
        }
        Rule::SomeOf(_) | Rule::NotEmpty => unreachable!("stated on the list above"),
        Rule::Clause => {
            let ids = crate::domain::contracts::LIBRARY
                .clauses()
                .iter()
                .map(|c| Value::from(c.id.as_str()))
                .collect();
            map.insert("enum".into(), Value::Sequence(ids));
        }
    }
}

/// poem-openapi names a `chrono::NaiveDate` `naive-date`, which no client knows; it is what OpenAPI calls
/// `date` (RFC 3339 full-date).
fn standard_formats(value: &mut Value) {
    match value {
        Value::Mapping(map) => {
            if map.get("format").and_then(Value::as_str) == Some("naive-date") {
                map.insert("format".into(), "date".into());
            }
            for child in map.values_mut() {
                standard_formats(child);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(standard_formats),
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
        let mut document: Value = serde_norway::from_str(yaml).unwrap();
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

    #[test]
    fn optional_properties_are_nullable_and_paging_is_bounded() {
        let document = tightened(
            r##"
paths:
  /things:
    get:
      parameters:
        - { name: limit, in: query, schema: { type: integer, format: int64 } }
        - { name: offset, in: query, schema: { type: integer, format: int64 } }
        - { name: count, in: query, schema: { type: integer, format: int64 } }
components:
  schemas:
    Page:
      type: object
      required: [items]
      properties:
        items: { type: array, items: { $ref: "#/components/schemas/Thing" } }
        next_offset: { type: integer, format: int64 }
        owner: { $ref: "#/components/schemas/Thing" }
    Thing: { type: object, properties: { id: { type: string, format: uuid } } }
"##,
        );
        let page = &document["components"]["schemas"]["Page"]["properties"];
        assert!(
            page["items"].get("nullable").is_none(),
            "required: never null"
        );
        assert_eq!(page["next_offset"]["nullable"], Value::Bool(true));
        assert_eq!(page["owner"]["nullable"], Value::Bool(true));
        assert_eq!(
            page["owner"]["allOf"][0]["$ref"], "#/components/schemas/Thing",
            "a reference is wrapped, as OpenAPI 3.0 ignores what stands beside $ref"
        );
        assert!(page["owner"].get("$ref").is_none());
        let parameters = &document["paths"]["/things"]["get"]["parameters"];
        assert_eq!(parameters[0]["schema"]["minimum"], 1);
        assert_eq!(parameters[0]["schema"]["maximum"], PageRequest::MAX_LIMIT);
        assert_eq!(parameters[1]["schema"]["minimum"], 0);
        assert_eq!(
            parameters[2]["schema"]["minimum"],
            i64::MIN,
            "the range of its type"
        );
        assert_eq!(parameters[2]["schema"]["maximum"], i64::MAX);
    }

    #[test]
    fn every_rule_names_a_field_of_the_published_document() {
        let document: Value = serde_norway::from_str(&crate::api::document::spec_yaml()).unwrap();
        let schemas = &document["components"]["schemas"];
        for (schema, field, _) in FIELD_RULES {
            let property = &schemas[*schema]["properties"][*field];
            assert!(
                !property.is_null(),
                "{schema}.{field} is not in the document"
            );
            let items = property.get("items").unwrap_or(property);
            assert!(
                ["minLength", "maxLength", "minimum", "enum", "pattern"]
                    .iter()
                    .any(|k| items.get(*k).is_some())
                    || property.get("minItems").is_some(),
                "{schema}.{field} states no rule"
            );
        }
        let parameters: Vec<&str> = document["paths"]
            .as_mapping()
            .unwrap()
            .values()
            .flat_map(|p| p.as_mapping().unwrap().values())
            .filter_map(|op| op.get("parameters").and_then(Value::as_sequence))
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for (_, name, _) in QUERY_RULES {
            assert!(parameters.contains(name), "no parameter is named {name}");
        }
    }

    #[test]
    fn the_data_classes_stated_are_the_domain_s() {
        let domain: Vec<&str> = <crate::domain::policy::DataClass as strum::VariantArray>::VARIANTS
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(DATA_CLASSES, domain.as_slice());
    }
}
