//! The checks on a request's page beside its route: the duplicate check's evidence and any exception asked, the
//! contract safeguards checklist, the versions compared side by side, and the City Council's documents and votes.
//!
//! As everywhere in the console, the API decides: who may read each part, who may record a clause, waive one,
//! decide an exception or record a vote. A part the API refuses to show is left out of the page; a form the API
//! refuses answers with the API's own problem, field by field.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};
use uuid::Uuid;

use super::session::Session;
use super::{Console, Fields, check_csrf, label, money, parse_id, require};
use crate::auth::Role;
use crate::store::Store;

/// The fields compared across versions, in the order the request form asks for them.
const COMPARED: [(&str, &str); 15] = [
    ("title", "Title"),
    ("description", "What it is for"),
    ("product_name", "Product"),
    ("category", "Category"),
    ("capabilities", "Capabilities"),
    ("capital_cost_cents", "One-time cost"),
    ("annual_operating_cost_cents", "Yearly cost"),
    ("term_months", "Term in months"),
    ("expected_users", "Users"),
    ("hosting", "Hosting"),
    ("data_classes", "Data"),
    ("renewal", "Renewal"),
    ("surveillance", "Surveillance technology"),
    ("face_surveillance", "Face surveillance"),
    ("requested_start_date", "Start"),
];

/// A field of a version as a person reads it.
fn shown(field: &str, value: &Value) -> String {
    match value {
        Value::Null => "—".to_string(),
        Value::Bool(b) => if *b { "Yes" } else { "No" }.to_string(),
        Value::Number(n) if field.ends_with("_cents") => n.as_i64().map(money).unwrap_or_default(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if field == "hosting" => label(s),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let words: Vec<String> = items
                .iter()
                .map(|v| match v.as_str() {
                    Some(s) if field == "data_classes" => label(s),
                    Some(s) => s.to_string(),
                    None => v.to_string(),
                })
                .collect();
            if words.is_empty() {
                "—".to_string()
            } else {
                words.join(", ")
            }
        }
        Value::Object(_) => value.to_string(),
    }
}

/// The versions side by side: one row a field, one column a version, each cell marked when it differs from the
/// version before it. Rows where no version differs are left out, so the table shows what changed.
pub(super) fn compare_versions(versions: &[Value]) -> Value {
    let columns: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "submission": v["submission"],
                "kind": v["kind"],
                "by": v["submitted_by"],
                "at": v["submitted_at"].as_str().map(|at| at.get(..10).unwrap_or(at)),
            })
        })
        .collect();
    let rows: Vec<Value> = COMPARED
        .iter()
        .filter_map(|(field, name)| {
            let values: Vec<&Value> = versions.iter().map(|v| &v["fields"][*field]).collect();
            let cells: Vec<Value> = values
                .iter()
                .enumerate()
                .map(|(i, value)| {
                    let changed = i > 0 && values[i - 1] != *value;
                    json!({"text": shown(field, value), "changed": changed})
                })
                .collect();
            cells
                .iter()
                .any(|c| c["changed"] == true)
                .then(|| json!({"field": name, "cells": cells}))
        })
        .collect();
    json!({"columns": columns, "rows": rows})
}

/// True when the route (or the preview's route) has a step of `kind`.
fn has_step(route: &Value, kind: &str) -> bool {
    route["steps"]
        .as_array()
        .is_some_and(|steps| steps.iter().any(|s| s["kind"] == kind))
}

/// What the request's page shows beside the route for a request that has been submitted: each part the API
/// lets the session read, `null` where it does not apply or is not the session's to see.
pub(super) async fn request_checks(
    console: &Console,
    session: &Session,
    id: Uuid,
    route: &Value,
) -> Value {
    // Read only where the route has the step; a part left out reads as null.
    let read = |path: Option<String>| async move {
        let Some(path) = path else {
            return Value::Null;
        };
        let answer = console.get(session, &path).await;
        if answer.ok() {
            answer.json()
        } else {
            Value::Null
        }
    };
    let part = |wanted: bool, rest: &str| wanted.then(|| format!("/api/v1/requests/{id}/{rest}"));
    // The four reads are independent: made together, the page waits for the slowest, not for their sum.
    let (duplicates, safeguards, council, versions) = tokio::join!(
        read(part(true, "duplicates")),
        read(part(
            has_step(route, "contract_safeguards") || has_step(route, "evidence"),
            "safeguards"
        )),
        read(part(has_step(route, "council_approval"), "council")),
        read(part(true, "versions?limit=200")),
    );
    let versions = versions["items"].as_array().cloned().unwrap_or_default();
    let comparison = if versions.len() > 1 {
        compare_versions(&versions)
    } else {
        Value::Null
    };
    let waiting_exception = duplicates["exceptions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["status"] == "requested");
    let role = session.role();
    let council_waits = council["step_state"] == "pending";
    json!({
        "duplicates": duplicates,
        "safeguards": safeguards,
        "council": council,
        "comparison": comparison,
        "can_decide_exception": waiting_exception && role == Some(Role::Cio),
        "can_record_clause": matches!(role, Some(Role::Cio | Role::SecurityAnalyst)),
        "can_waive": role == Some(Role::Cio),
        "can_vote": role == Some(Role::Admin),
        "can_attach_council": council_waits && super::council::may_attach(session),
    })
}

/// Records one clause of the checklist as present (document and section), missing, or waived (the CIO, with a
/// justification), on the request's version the page was read at.
#[handler]
pub(super) async fn record_clause(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session =
        attempt!(require(req, &console, &store, &[Role::SecurityAnalyst, Role::Cio]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let mut clause = json!({
        "clause_id": form.get("clause_id").unwrap_or(""),
        "status": form.get("status").unwrap_or(""),
    });
    for name in ["document", "section", "justification"] {
        if let Some(text) = form.text(name) {
            clause[name] = json!(text);
        }
    }
    console
        .change(
            &session,
            Method::PUT,
            &format!("/api/v1/requests/{id}/safeguards"),
            &json!({"clauses": [clause]}),
            &form,
            &format!("/requests/{id}#safeguards-title"),
        )
        .await
}

/// The CIO grants or refuses the exception the buyer asked for, with a reason.
#[handler]
pub(super) async fn decide_exception(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Cio]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let grant = match form.get("grant") {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return console.message(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&session),
                "Not done",
                "Choose whether to grant or refuse the exception.",
                &[json!({"field": "grant", "message": "choose grant or refuse"})],
            );
        }
    };
    let body = json!({"grant": grant, "reason": form.get("reason").unwrap_or("")});
    console
        .change(
            &session,
            Method::POST,
            &format!("/api/v1/requests/{id}/duplicates/exception/decision"),
            &body,
            &form,
            &format!("/requests/{id}"),
        )
        .await
}

/// An admin records the City Council's vote on the submitted version.
#[handler]
pub(super) async fn record_vote(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Admin]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let mut body = json!({
        "docket": form.get("docket").unwrap_or(""),
        "vote_date": form.get("vote_date").unwrap_or(""),
        "outcome": form.get("outcome").unwrap_or(""),
    });
    if let Some(note) = form.text("note") {
        body["note"] = json!(note);
    }
    console
        .change(
            &session,
            Method::POST,
            &format!("/api/v1/requests/{id}/council/vote"),
            &body,
            &form,
            &format!("/requests/{id}"),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(submission: i64, cost: i64, classes: &[&str]) -> Value {
        json!({
            "submission": submission,
            "kind": "submitted",
            "submitted_by": "bea",
            "submitted_at": "2026-11-02T10:00:00Z",
            "fields": {"title": "Permits", "annual_operating_cost_cents": cost, "data_classes": classes},
        })
    }

    #[test]
    fn versions_side_by_side_show_only_the_fields_that_changed_marked_where_they_changed() {
        let table = compare_versions(&[
            version(1, 6_000_000, &["public"]),
            version(2, 6_000_000, &["public", "pi_ma"]),
            version(3, 7_500_000, &["public", "pi_ma"]),
        ]);
        let rows = table["rows"].as_array().unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r["field"].as_str().unwrap()).collect();
        assert_eq!(names, ["Yearly cost", "Data"], "the title never changed");
        let cost = &rows[0]["cells"];
        assert_eq!(cost[0]["text"], "$60,000.00");
        assert_eq!(cost[2]["text"], "$75,000.00");
        let marks: Vec<bool> = (0..3).map(|i| cost[i]["changed"] == true).collect();
        assert_eq!(marks, [false, false, true]);
        let data = &rows[1]["cells"];
        assert_eq!(data[1]["changed"], true);
        assert_eq!(data[2]["changed"], false);
        assert_eq!(table["columns"][2]["at"], "2026-11-02");
    }

    #[test]
    fn a_field_absent_from_a_version_reads_as_a_dash() {
        assert_eq!(shown("renewal", &Value::Null), "—");
        assert_eq!(shown("data_classes", &json!([])), "—");
        assert_eq!(shown("renewal", &json!(true)), "Yes");
    }
}
