//! The catalogue's forms: add a central service, and edit one.
//!
//! Each form is sent as JSON to the API's own operations (`POST /api/v1/catalog/services`, `PATCH
//! /api/v1/catalog/services/{id}` with the version the form was read at as `If-Match`) as the signed-in person,
//! so who may change the catalogue (the CIO office and admins), its rules and its audit entries are the API's. A
//! refusal shows the form again with the input kept and each fault next to its field; a service changed by
//! someone else since the form was read (412) is not changed: the form shows what is stored now beside the input.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::registry::{form_faults, refused_edit, with_anchors};
use super::session::Session;
use super::{Console, Fields, check_csrf, parse_id, require, see_other};
use crate::api::catalog::CatalogEditor;
use crate::auth::Permission;
use crate::store::Store;

const TEXTS: [&str; 5] = ["name", "category", "description", "owning_team", "access"];
const LISTS: [&str; 2] = ["capabilities", "aliases"];

/// A list as typed, one entry a line (or separated by `;`, as in the workbook), blank entries left out.
fn entries(text: &str) -> Vec<String> {
    text.split(['\n', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form as the API's JSON: every field, so an edit sets each to what the form shows.
fn service_body(form: &Fields) -> Value {
    let mut body = json!({});
    for name in TEXTS {
        body[name] = json!(form.get(name).unwrap_or(""));
    }
    for name in LISTS {
        body[name] = json!(entries(form.get(name).unwrap_or("")));
    }
    body["status"] = json!(form.get("status").unwrap_or("active"));
    body
}

/// The form as typed, to show it again.
fn service_values(form: &Fields) -> Value {
    let mut v = json!({});
    for name in TEXTS.iter().chain(LISTS.iter()) {
        v[*name] = json!(form.get(name).unwrap_or(""));
    }
    v["status"] = json!(form.get("status").unwrap_or("active"));
    v
}

/// A stored service as the form shows it: lists one entry a line.
fn stored_values(service: &Value) -> Value {
    let mut v = json!({});
    for name in TEXTS {
        v[name] = json!(service[name].as_str().unwrap_or(""));
    }
    for name in LISTS {
        let list: Vec<&str> = service[name]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        v[name] = json!(list.join("\n"));
    }
    v["status"] = json!(service["status"].as_str().unwrap_or("active"));
    v
}

/// A fault of a list's entry (`capabilities[2]`) is shown beside the list, naming the entry by its line.
fn list_faults(errors: Vec<Value>) -> Vec<Value> {
    errors
        .into_iter()
        .map(|mut e| {
            let field = e["field"].as_str().unwrap_or("").to_string();
            if let Some((base, rest)) = field.split_once('[')
                && LISTS.contains(&base)
            {
                let line = rest
                    .trim_end_matches(']')
                    .parse::<usize>()
                    .map_or(0, |i| i + 1);
                let message = e["message"].as_str().unwrap_or("").to_string();
                e["field"] = json!(base);
                e["message"] = json!(format!("entry {line}: {message}"));
            }
            e
        })
        .collect()
}

fn service_form(
    console: &Console,
    session: &Session,
    status: StatusCode,
    values: Value,
    errors: Vec<Value>,
    edit: Value,
) -> Response {
    let (errors, field_errors) = with_anchors(list_faults(errors));
    console.render(
        status,
        "catalog_form.html",
        Some(session),
        json!({"v": values, "errors": errors, "field_errors": field_errors, "edit": edit}),
    )
}

fn service_edit(service: &Value, version: Option<&str>) -> Value {
    json!({
        "id": service["id"],
        "name": service["name"],
        "version": version,
        "stored": Value::Null,
    })
}

#[handler]
pub(super) async fn new_service(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, CatalogEditor::ROLES).await);
    service_form(
        &console,
        &session,
        StatusCode::OK,
        json!({"name": "", "category": "", "description": "", "owning_team": "", "access": "",
               "capabilities": "", "aliases": "", "status": "active"}),
        vec![],
        Value::Null,
    )
}

#[handler]
pub(super) async fn create_service(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, CatalogEditor::ROLES).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let created = console
        .send_json(
            &session,
            Method::POST,
            "/api/v1/catalog/services",
            &service_body(&form),
            None,
        )
        .await;
    if created.ok() {
        return see_other("/catalog?saved=added");
    }
    let Some(errors) = form_faults(&created, "name") else {
        return console.refusal(&session, &created);
    };
    service_form(
        &console,
        &session,
        created.status,
        service_values(&form),
        errors,
        Value::Null,
    )
}

#[handler]
pub(super) async fn edit_service(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, CatalogEditor::ROLES).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let read = console
        .get(&session, &format!("/api/v1/catalog/services/{id}"))
        .await;
    if !read.ok() {
        return console.refusal(&session, &read);
    }
    let service = read.json();
    service_form(
        &console,
        &session,
        StatusCode::OK,
        stored_values(&service),
        vec![],
        service_edit(&service, read.etag().as_deref()),
    )
}

#[handler]
pub(super) async fn save_service(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, CatalogEditor::ROLES).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let path = format!("/api/v1/catalog/services/{id}");
    let saved = console
        .send_json(
            &session,
            Method::PATCH,
            &path,
            &service_body(&form),
            form.get("version"),
        )
        .await;
    if saved.ok() {
        return see_other("/catalog?saved=changed");
    }
    let refused = attempt!(
        refused_edit(
            &console,
            &session,
            &saved,
            &path,
            "name",
            "service",
            form.get("version"),
            service_edit,
        )
        .await
    );
    service_form(
        &console,
        &session,
        saved.status,
        service_values(&form),
        refused.errors,
        refused.edit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_one_entry_a_line_and_an_entrys_fault_names_its_line() {
        assert_eq!(
            entries("e-signature\n\n ; PDF signing;\r\nforms "),
            ["e-signature", "PDF signing", "forms"]
        );
        let faults = list_faults(vec![
            json!({"field": "aliases[1]", "message": "must be 1 to 120 characters"}),
            json!({"field": "owning_team", "message": "is required"}),
        ]);
        assert_eq!(faults[0]["field"], "aliases");
        assert_eq!(faults[0]["message"], "entry 2: must be 1 to 120 characters");
        assert_eq!(faults[1]["field"], "owning_team");
    }
}
