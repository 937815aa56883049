//! A JSON value checked against the schema the operation declares, before the typed parse sees it.
//!
//! The typed parse is lenient where it must not be: it turns `0` and `true` into the strings `"0"` and
//! `"true"`, drops fields it does not know, and reports a wrong value by the name of its type
//! (`failed to parse "RequestInput"`), not by the field. This walk holds the value to the schema exactly:
//! a field the schema does not list, a value of another JSON type, a string that is not the UUID or date its
//! format says, a number outside its integer type, a text with control characters or over its length. It
//! reports every fault at once, each by its JSON path (`answers[2].comment`).

use std::str::FromStr;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use serde_json::{Number, Value};

use super::suggest::closest;
use crate::domain::text::{TextKind, check_characters, check_length};
use crate::error::FieldError;

/// Enough to fix a body in one round; a body with thousands of bad items would otherwise answer with a
/// problem document as large as itself.
const MAX_FAULTS: usize = 50;

/// Every fault of `value` against `schema`, named by JSON path; empty when the value fits.
pub fn body_faults(registry: &Registry, schema: &MetaSchemaRef, value: &Value) -> Vec<FieldError> {
    let mut walk = Walk {
        registry,
        faults: Vec::new(),
    };
    walk.reference(schema, value, "", None);
    walk.faults.truncate(MAX_FAULTS);
    walk.faults
}

/// What is wrong with the raw text of a query or path parameter, read as `schema` says; `None` when it fits.
pub fn parameter_fault(
    registry: &Registry,
    schema: &MetaSchemaRef,
    name: &str,
    raw: &str,
) -> Option<String> {
    let mut s = resolve(registry, schema)?;
    if let ("array", Some(items)) = (s.ty, s.items.as_deref()) {
        // A repeated parameter: each value is one item.
        s = resolve(registry, items)?;
    }
    let value = match s.ty {
        "integer" | "number" => match Number::from_str(raw) {
            Ok(n) => Value::Number(n),
            Err(_) if s.ty == "integer" => return Some("must be a whole number".to_string()),
            Err(_) => return Some("must be a number".to_string()),
        },
        "boolean" => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Some("must be true or false".to_string()),
        },
        _ => Value::String(raw.to_string()),
    };
    let mut walk = Walk {
        registry,
        faults: Vec::new(),
    };
    walk.schema(s, &value, name, Some(name));
    walk.faults.into_iter().next().map(|f| f.message)
}

struct Walk<'a> {
    registry: &'a Registry,
    faults: Vec<FieldError>,
}

fn resolve<'a>(registry: &'a Registry, schema: &'a MetaSchemaRef) -> Option<&'a MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(s) => Some(s),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
    }
}

/// A schema that says nothing (`serde_json::Value`, or the description beside a reference): any JSON.
fn says_nothing(s: &MetaSchema) -> bool {
    s.ty.is_empty()
        && s.properties.is_empty()
        && s.items.is_none()
        && s.enum_items.is_empty()
        && s.all_of.is_empty()
        && s.any_of.is_empty()
        && s.one_of.is_empty()
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn field_name(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value short and plain enough to quote back in a message.
fn quotable(text: &str) -> bool {
    text.chars().count() <= 40 && !text.chars().any(char::is_control)
}

impl Walk<'_> {
    fn fault(&mut self, path: &str, message: impl Into<String>) {
        self.faults
            .push(FieldError::new(field_name(path), message.into()));
    }

    fn reference(&mut self, schema: &MetaSchemaRef, value: &Value, path: &str, key: Option<&str>) {
        // A reference the registry does not hold cannot be checked here; the typed parse still runs.
        if let Some(s) = resolve(self.registry, schema) {
            self.schema(s, value, path, key);
        }
    }

    /// `key` is the name of the field the value belongs to (list items share their list's name): it decides
    /// whether a text may span lines.
    fn schema(&mut self, s: &MetaSchema, value: &Value, path: &str, key: Option<&str>) {
        if says_nothing(s) {
            self.any_text(value, path, key);
            return;
        }
        if value.is_null() {
            if !s.nullable {
                self.fault(path, "must not be null");
            }
            return;
        }
        for part in &s.all_of {
            if let Some(part) = resolve(self.registry, part)
                && !says_nothing(part)
            {
                self.schema(part, value, path, key);
            }
        }
        if !s.any_of.is_empty() || !s.one_of.is_empty() {
            self.alternatives(s, value, path, key);
        }
        match s.ty {
            "object" => self.object(s, value, path),
            "array" => self.array(s, value, path, key),
            "string" => self.string(s, value, path, key),
            "boolean" if !value.is_boolean() => {
                self.fault(
                    path,
                    format!("must be true or false, not {}", kind_of(value)),
                );
            }
            "integer" => self.integer(s, value, path),
            "number" => self.number(s, value, path),
            _ => {}
        }
        if !s.enum_items.is_empty() && !s.enum_items.contains(value) && s.ty != "string" {
            self.not_one_of(s, path);
        }
    }

    fn alternatives(&mut self, s: &MetaSchema, value: &Value, path: &str, key: Option<&str>) {
        let fits = s.any_of.iter().chain(&s.one_of).any(|alternative| {
            let mut trial = Walk {
                registry: self.registry,
                faults: Vec::new(),
            };
            trial.reference(alternative, value, path, key);
            trial.faults.is_empty()
        });
        if !fits {
            self.fault(path, "does not have any of the accepted forms");
        }
    }

    fn object(&mut self, s: &MetaSchema, value: &Value, path: &str) {
        let Value::Object(map) = value else {
            self.fault(path, format!("must be an object, not {}", kind_of(value)));
            return;
        };
        for (name, item) in map {
            let at = child(path, name);
            match s.properties.iter().find(|(p, _)| p == name) {
                // An optional field sent as null is the same as one left out.
                Some(_) if item.is_null() && !s.required.contains(&name.as_str()) => {}
                Some((_, property)) => self.reference(property, item, &at, Some(name)),
                None => match s.additional_properties.as_deref() {
                    Some(values) => self.reference(values, item, &at, Some(name)),
                    None => {
                        let known = s
                            .properties
                            .iter()
                            .map(|(p, _)| *p)
                            .filter(|p| !map.contains_key(*p));
                        let message = match closest(name, known) {
                            Some(meant) => format!("unknown field; did you mean {meant}?"),
                            None => "unknown field".to_string(),
                        };
                        self.faults.push(FieldError::new(at, message));
                    }
                },
            }
        }
        for required in &s.required {
            if !map.contains_key(*required) {
                self.fault(&child(path, required), "is required");
            }
        }
    }

    fn array(&mut self, s: &MetaSchema, value: &Value, path: &str, key: Option<&str>) {
        let Value::Array(items) = value else {
            self.fault(path, format!("must be a list, not {}", kind_of(value)));
            return;
        };
        if let Some(max) = s.max_items
            && items.len() > max
        {
            self.fault(
                path,
                format!("must have at most {max} items; it has {}", items.len()),
            );
        }
        if let Some(min) = s.min_items
            && items.len() < min
        {
            self.fault(
                path,
                format!("must have at least {min} items; it has {}", items.len()),
            );
        }
        if let Some(item_schema) = s.items.as_deref() {
            for (i, item) in items.iter().enumerate() {
                if self.faults.len() >= MAX_FAULTS {
                    return;
                }
                self.reference(
                    item_schema,
                    item,
                    &format!("{}[{i}]", field_name(path)),
                    key,
                );
            }
        }
    }

    fn string(&mut self, s: &MetaSchema, value: &Value, path: &str, key: Option<&str>) {
        let Value::String(text) = value else {
            self.fault(path, format!("must be a string, not {}", kind_of(value)));
            return;
        };
        if !s.enum_items.is_empty() {
            if !s.enum_items.contains(value) {
                self.not_one_of(s, path);
            }
            return;
        }
        if let Some(format) = s.format
            && let Some(message) = format_fault(format, text)
        {
            self.fault(path, message);
            return;
        }
        if s.format.is_none() {
            let kind = TextKind::of_field(key.unwrap_or_default());
            if let Err(message) = check_characters(text, kind) {
                self.fault(path, message);
                return;
            }
            let max = s.max_length.unwrap_or(kind.default_max_chars());
            if let Err(message) = check_length(text, max) {
                self.fault(path, message);
                return;
            }
        }
        if let Some(min) = s.min_length
            && text.chars().count() < min
        {
            self.fault(path, format!("must be at least {min} characters"));
        }
    }

    fn integer(&mut self, s: &MetaSchema, value: &Value, path: &str) {
        let Value::Number(n) = value else {
            self.fault(
                path,
                format!("must be a whole number, not {}", kind_of(value)),
            );
            return;
        };
        let (min, max) = integer_range(s.format);
        let whole = match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i128::from(i),
            (None, Some(u), _) => i128::from(u),
            (None, None, Some(f)) if f.is_finite() && f.fract() == 0.0 => {
                // `1e19` is read as a float: out of range is the helpful thing to say about it.
                if f < min as f64 || f > max as f64 {
                    self.fault(path, "out of range");
                } else {
                    self.fault(
                        path,
                        "must be a whole number written without a fraction or exponent",
                    );
                }
                return;
            }
            _ => {
                self.fault(path, format!("must be a whole number, not {n}"));
                return;
            }
        };
        if whole < min || whole > max {
            self.fault(path, "out of range");
            return;
        }
        self.bounds(s, whole as f64, path);
    }

    fn number(&mut self, s: &MetaSchema, value: &Value, path: &str) {
        match value.as_f64() {
            Some(f) => self.bounds(s, f, path),
            None => self.fault(path, format!("must be a number, not {}", kind_of(value))),
        }
    }

    fn bounds(&mut self, s: &MetaSchema, n: f64, path: &str) {
        if let Some(max) = s.maximum {
            let exclusive = s.exclusive_maximum == Some(true);
            if n > max || (exclusive && n == max) {
                let word = if exclusive { "below" } else { "at most" };
                self.fault(path, format!("must be {word} {max}"));
                return;
            }
        }
        if let Some(min) = s.minimum {
            let exclusive = s.exclusive_minimum == Some(true);
            if n < min || (exclusive && n == min) {
                let word = if exclusive { "above" } else { "at least" };
                self.fault(path, format!("must be {word} {min}"));
            }
        }
    }

    fn not_one_of(&mut self, s: &MetaSchema, path: &str) {
        let allowed: Vec<String> = s
            .enum_items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect();
        self.fault(path, format!("must be one of {}", allowed.join(", ")));
    }

    /// A value of any shape (an answer, a policy document): its texts follow the text policy all the same.
    fn any_text(&mut self, value: &Value, path: &str, key: Option<&str>) {
        match value {
            Value::String(text) => {
                let kind = TextKind::of_field(key.unwrap_or_default());
                if let Err(message) = check_characters(text, kind)
                    .and_then(|()| check_length(text, kind.default_max_chars()))
                {
                    self.fault(path, message);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.any_text(item, &format!("{}[{i}]", field_name(path)), key);
                }
            }
            Value::Object(map) => {
                for (name, item) in map {
                    self.any_text(item, &child(path, name), Some(name));
                }
            }
            _ => {}
        }
    }
}

/// The bounds of poem-openapi's integer formats; an integer without a format is an `i64`.
pub(super) fn integer_range(format: Option<&str>) -> (i128, i128) {
    match format {
        Some("int8") => (i8::MIN.into(), i8::MAX.into()),
        Some("int16") => (i16::MIN.into(), i16::MAX.into()),
        Some("int32") => (i32::MIN.into(), i32::MAX.into()),
        Some("uint8") => (0, u8::MAX.into()),
        Some("uint16") => (0, u16::MAX.into()),
        Some("uint32") => (0, u32::MAX.into()),
        Some("uint64") => (0, u64::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    }
}

/// What is wrong with `text` as the string format poem-openapi gave the field's Rust type. Each is read
/// with the same `FromStr` the typed parse uses, so what passes here parses there.
fn format_fault(format: &str, text: &str) -> Option<String> {
    let shown = |what: &str, hint: &str| {
        if quotable(text) {
            format!("{text} is not {what}{hint}")
        } else {
            format!("is not {what}{hint}")
        }
    };
    match format {
        "uuid" => uuid::Uuid::from_str(text)
            .is_err()
            .then(|| "not a UUID".to_string()),
        "naive-date" => chrono::NaiveDate::from_str(text).is_err().then(|| {
            let shaped = text.len() == 10
                && text.char_indices().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            shown(
                "a date",
                if shaped {
                    ""
                } else {
                    "; write it as YYYY-MM-DD"
                },
            )
        }),
        "date-time" => chrono::DateTime::<chrono::Utc>::from_str(text)
            .is_err()
            .then(|| shown("a date and time", "; write it as 2027-01-15T09:30:00Z")),
        "naive-date-time" => chrono::NaiveDateTime::from_str(text)
            .is_err()
            .then(|| shown("a date and time", "; write it as 2027-01-15T09:30:00")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::Type;
    use poem_openapi::{Enum, Object};
    use serde_json::json;

    use super::*;

    #[derive(Debug, Enum)]
    #[oai(rename_all = "snake_case")]
    enum Kind {
        Small,
        Large,
    }

    #[derive(Debug, Object)]
    struct Person {
        name: String,
        email: Option<String>,
    }

    /// A body with a field of each shape the API's input types use.
    #[derive(Debug, Object)]
    struct Draft {
        name: String,
        title: Option<String>,
        description: Option<String>,
        vendor_id: Option<uuid::Uuid>,
        start: Option<chrono::NaiveDate>,
        count: Option<i64>,
        days: Option<u32>,
        labels: Option<Vec<String>>,
        /// A described enum: poem-openapi writes it as `allOf` with the description.
        kind: Option<Kind>,
        people: Option<Vec<Person>>,
        answer: Option<Value>,
    }

    /// The faults of `body` as a `Draft`, as `field: message`.
    fn faults(body: Value) -> Vec<String> {
        let mut registry = Registry::new();
        Draft::register(&mut registry);
        body_faults(&registry, &Draft::schema_ref(), &body)
            .into_iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect()
    }

    fn draft(fields: Value) -> Value {
        let mut body = json!({"name": "n"});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    #[test]
    fn every_fault_of_a_body_is_named_at_once() {
        assert_eq!(
            faults(json!({"title": 7, "vendor_id": "x", "descripton": "t", "labels": ["a", null]})),
            [
                "descripton: unknown field; did you mean description?",
                "labels[1]: must not be null",
                "title: must be a string, not a number",
                "vendor_id: not a UUID",
                "name: is required",
            ]
        );
    }

    #[test]
    fn a_field_is_suggested_only_when_it_was_not_sent_too() {
        assert_eq!(
            faults(draft(json!({"people": [{"name": "a", "nmae": "b"}]}))),
            ["people[0].nmae: unknown field"]
        );
        assert_eq!(
            faults(draft(json!({"people": [{"nmae": "b"}]}))),
            [
                "people[0].nmae: unknown field; did you mean name?",
                "people[0].name: is required"
            ]
        );
    }

    #[test]
    fn an_optional_field_sent_as_null_is_left_out_and_a_required_one_is_refused() {
        assert!(faults(draft(json!({"title": null, "people": null}))).is_empty());
        assert_eq!(faults(json!({"name": null})), ["name: must not be null"]);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_named_as_the_body() {
        assert_eq!(faults(json!([1])), ["body: must be an object, not a list"]);
    }

    #[test]
    fn an_enum_behind_a_description_is_still_held_to_its_values() {
        assert!(faults(draft(json!({"kind": "large"}))).is_empty());
        assert_eq!(
            faults(draft(json!({"kind": "huge"}))),
            ["kind: must be one of small, large"]
        );
    }

    #[test]
    fn integers_are_held_to_their_type() {
        let days = |days: Value| faults(draft(json!({ "days": days })));
        assert_eq!(days(json!(-1)), ["days: out of range"]);
        assert_eq!(days(json!(4_294_967_296u64)), ["days: out of range"]);
        assert_eq!(
            days(json!(30.0)),
            ["days: must be a whole number written without a fraction or exponent"]
        );
        assert_eq!(
            days(json!("30")),
            ["days: must be a whole number, not a string"]
        );
        assert!(days(json!(30)).is_empty());
        assert_eq!(
            faults(draft(json!({"count": 1e19}))),
            ["count: out of range"]
        );
        assert_eq!(
            faults(draft(json!({"count": 12.5}))),
            ["count: must be a whole number, not 12.5"]
        );
    }

    #[test]
    fn a_date_is_read_as_a_date() {
        let start = |start: &str| faults(draft(json!({ "start": start })));
        assert!(start("2028-02-29").is_empty());
        assert_eq!(start("2027-02-30"), ["start: 2027-02-30 is not a date"]);
        assert_eq!(
            start("1/9/2026"),
            ["start: 1/9/2026 is not a date; write it as YYYY-MM-DD"]
        );
    }

    #[test]
    fn text_follows_the_text_policy_by_field_name() {
        assert!(faults(draft(json!({"description": "a\n\tb"}))).is_empty());
        assert_eq!(
            faults(draft(json!({"title": "a\nb"}))),
            [
                "title: must be one line without control characters; character 2 is U+000A (a line break)"
            ]
        );
        assert_eq!(
            faults(draft(json!({"title": "x".repeat(1001)}))),
            ["title: must be at most 1000 characters; it has 1001"]
        );
    }

    #[test]
    fn the_texts_inside_a_free_form_value_follow_the_text_policy() {
        let answer = |value: Value| faults(draft(json!({ "answer": value })));
        assert!(answer(json!(["a", 3, {"evidence_id": "e"}])).is_empty());
        assert_eq!(
            answer(json!({"note": "ok\n", "ref": "a\u{0}"})),
            [
                "answer.ref: must be one line without control characters; character 2 is U+0000 (NUL)"
            ]
        );
    }

    fn scalar(ty: &'static str, format: Option<&'static str>) -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            format,
            ..MetaSchema::new(ty)
        }))
    }

    #[test]
    fn a_parameter_is_read_as_its_schema_says() {
        let registry = Registry::new();
        let fault =
            |schema: &MetaSchemaRef, raw: &str| parameter_fault(&registry, schema, "p", raw);
        let uuid = scalar("string", Some("uuid"));
        assert_eq!(fault(&uuid, "acme").as_deref(), Some("not a UUID"));
        assert_eq!(fault(&uuid, "67e55044-10b1-426f-9247-bb680e5fe0c8"), None);
        let limit = scalar("integer", Some("int64"));
        assert_eq!(
            fault(&limit, "many").as_deref(),
            Some("must be a whole number")
        );
        assert_eq!(fault(&limit, "1e19").as_deref(), Some("out of range"));
        assert_eq!(fault(&limit, "20"), None);
        let flag = scalar("boolean", None);
        assert_eq!(
            fault(&flag, "yes").as_deref(),
            Some("must be true or false")
        );
        let search = scalar("string", None);
        assert_eq!(
            fault(&search, "a\u{0}b").as_deref(),
            Some("must be one line without control characters; character 2 is U+0000 (NUL)")
        );
    }
}
