//! The admin's forms: departments and vendors (create and edit), and the policy document (publish a new
//! version).
//!
//! As everywhere in the console, a form holds no rule of its own: it is sent as JSON to the same API operations
//! a client calls (`POST`/`PATCH /api/v1/departments`, `/api/v1/vendors`, `PUT /api/v1/policy`), as the
//! signed-in admin, with the version the form was read at as `If-Match`. The API validates, stores and audits;
//! a refusal comes back as the form again, with the user's input kept and each fault next to the field it names.
//! A change made by someone else since the form was read (412) is never applied: the form shows what is stored
//! now beside the user's input, and saving again is a deliberate second step.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde_json::{Map, Value, json};

use super::session::Session;
use super::{Answer, Console, Fields, check_csrf, parse_id, require, see_other};
use crate::auth::Role;
use crate::store::Store;

/// The forms are the admin's: other roles are refused on every page and post.
const ADMIN: &[Role] = &[Role::Admin];

/// The id of the input a field's fault is shown beside: `contacts[2].email` -> `contacts-2-email`.
pub(super) fn anchor(field: &str) -> String {
    field
        .replace("].", "-")
        .replace(['[', '.'], "-")
        .replace(']', "")
}

/// The faults with the anchor of their input, and each field's message(s), for the template.
pub(super) fn with_anchors(errors: Vec<Value>) -> (Vec<Value>, Value) {
    let mut by_field = Map::new();
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|mut e| {
            let field = e["field"].as_str().unwrap_or("").to_string();
            let message = e["message"].as_str().unwrap_or("").to_string();
            let text = match by_field.get(&field).and_then(Value::as_str) {
                Some(before) => format!("{before}; {message}"),
                None => message,
            };
            by_field.insert(field.clone(), Value::String(text));
            e["anchor"] = json!(anchor(&field));
            e
        })
        .collect();
    (errors, Value::Object(by_field))
}

/// The faults of a refusal the form shows again: the fields a 400/422 names, or the detail of one that names
/// none (a duplicate code or legal name, 409) as a fault of `field`. None for a refusal the form cannot show
/// (not allowed, not found, a stale version), which the caller handles.
pub(super) fn form_faults(answer: &Answer, field: &str) -> Option<Vec<Value>> {
    let s = answer.status;
    if s != StatusCode::UNPROCESSABLE_ENTITY
        && s != StatusCode::BAD_REQUEST
        && s != StatusCode::CONFLICT
    {
        return None;
    }
    let problem = answer.json();
    let errors = problem["errors"].as_array().cloned().unwrap_or_default();
    if errors.is_empty() {
        Some(vec![json!({"field": field, "message": problem["detail"]})])
    } else {
        Some(errors)
    }
}

/// The fault shown when the object changed since the form was read.
pub(super) fn stale_fault(what: &str) -> Value {
    json!({
        "field": "version",
        "message": format!(
            "someone else changed this {what} since you opened the form, so your changes were not saved. \
             What is stored now is shown below; your input is kept in the form. Save again to replace it with \
             your input."
        ),
    })
}

/// What a refused edit re-renders with: the faults to show, the object as stored now, and the edit (the version
/// the form was read at for a fault; for a stale form the current version and, as `stored`, what it now holds).
/// `Err` is the refusal page, for an answer that names no field and is not stale.
pub(super) struct Refused {
    pub errors: Vec<Value>,
    pub stored: Value,
    pub edit: Value,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn refused_edit(
    console: &Console,
    session: &Session,
    saved: &Answer,
    path: &str,
    field: &str,
    what: &str,
    version: Option<&str>,
    edit_of: fn(&Value, Option<&str>) -> Value,
) -> Result<Refused, Box<Response>> {
    let stale = saved.status == StatusCode::PRECONDITION_FAILED;
    let errors = match form_faults(saved, field) {
        Some(errors) => errors,
        None if stale => vec![stale_fault(what)],
        None => return Err(Box::new(console.refusal(session, saved))),
    };
    let current = console.get(session, path).await;
    if !current.ok() {
        return Err(Box::new(console.refusal(session, &current)));
    }
    let stored = current.json();
    let mut edit = if stale {
        edit_of(&stored, current.etag().as_deref())
    } else {
        edit_of(&stored, version)
    };
    if stale {
        edit["stored"] = stored.clone();
    }
    Ok(Refused {
        errors,
        stored,
        edit,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Departments

fn department_form(
    console: &Console,
    session: &Session,
    status: StatusCode,
    values: Value,
    errors: Vec<Value>,
    edit: Value,
) -> Response {
    let (errors, field_errors) = with_anchors(errors);
    console.render(
        status,
        "department_form.html",
        Some(session),
        json!({"v": values, "errors": errors, "field_errors": field_errors, "edit": edit}),
    )
}

/// The form as typed, to show it again.
fn department_values(form: &Fields) -> Value {
    json!({
        "code": form.get("code").unwrap_or(""),
        "name": form.get("name").unwrap_or(""),
        "surveillance_ordinance": form.get("surveillance_ordinance") == Some("yes"),
    })
}

fn department_edit(department: &Value, version: Option<&str>) -> Value {
    json!({
        "id": department["id"],
        "code": department["code"],
        "version": version,
        "stored": Value::Null,
    })
}

#[handler]
pub(super) async fn new_department(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    department_form(
        &console,
        &session,
        StatusCode::OK,
        json!({"code": "", "name": "", "surveillance_ordinance": false}),
        vec![],
        Value::Null,
    )
}

#[handler]
pub(super) async fn create_department(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let body = json!({
        "code": form.get("code").unwrap_or(""),
        "name": form.get("name").unwrap_or(""),
        "surveillance_ordinance": form.get("surveillance_ordinance") == Some("yes"),
    });
    let created = console
        .send_json(&session, Method::POST, "/api/v1/departments", &body, None)
        .await;
    if created.ok() {
        return see_other("/departments?saved=added");
    }
    let Some(errors) = form_faults(&created, "code") else {
        return console.refusal(&session, &created);
    };
    department_form(
        &console,
        &session,
        created.status,
        department_values(&form),
        errors,
        Value::Null,
    )
}

#[handler]
pub(super) async fn edit_department(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let read = console
        .get(&session, &format!("/api/v1/departments/{id}"))
        .await;
    if !read.ok() {
        return console.refusal(&session, &read);
    }
    let department = read.json();
    department_form(
        &console,
        &session,
        StatusCode::OK,
        json!({
            "code": department["code"],
            "name": department["name"],
            "surveillance_ordinance": department["surveillance_ordinance"],
        }),
        vec![],
        department_edit(&department, read.etag().as_deref()),
    )
}

#[handler]
pub(super) async fn save_department(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let path = format!("/api/v1/departments/{id}");
    let body = json!({
        "name": form.get("name").unwrap_or(""),
        "surveillance_ordinance": form.get("surveillance_ordinance") == Some("yes"),
    });
    let saved = console
        .send_json(&session, Method::PATCH, &path, &body, form.get("version"))
        .await;
    if saved.ok() {
        return see_other("/departments?saved=changed");
    }
    let refused = attempt!(
        refused_edit(
            &console,
            &session,
            &saved,
            &path,
            "name",
            "department",
            form.get("version"),
            department_edit,
        )
        .await
    );
    let mut values = department_values(&form);
    values["code"] = refused.stored["code"].clone();
    department_form(
        &console,
        &session,
        saved.status,
        values,
        refused.errors,
        refused.edit,
    )
}

// ---------------------------------------------------------------------------------------------------------------
// Vendors

/// A vendor form's contact rows as typed (one row per `contact_name` input).
fn contact_rows(form: &Fields) -> Vec<[String; 4]> {
    let columns = [
        form.all("contact_name"),
        form.all("contact_email"),
        form.all("contact_phone"),
        form.all("contact_role"),
    ];
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    (0..rows)
        .map(|i| {
            let cell = |c: usize| columns[c].get(i).copied().unwrap_or("").to_string();
            [cell(0), cell(1), cell(2), cell(3)]
        })
        .collect()
}

/// The vendor form as the API's JSON; blank contact rows are not sent, so the API's `contacts[i]` is the i-th
/// row the form shows again ([`vendor_values`]). `clear_website`: a blank website is sent as `null` (an edit
/// clears it) rather than left out.
fn vendor_body(form: &Fields, clear_website: bool) -> Value {
    let mut body = Map::new();
    body.insert(
        "legal_name".into(),
        json!(form.get("legal_name").unwrap_or("")),
    );
    body.insert(
        "hq_country".into(),
        json!(form.get("hq_country").unwrap_or("")),
    );
    match form.text("website") {
        Some(w) => {
            body.insert("website".into(), json!(w));
        }
        None if clear_website => {
            body.insert("website".into(), Value::Null);
        }
        None => {}
    }
    let mut contacts = Vec::new();
    for [name, email, phone, role] in contact_rows(form) {
        if [&name, &email, &phone, &role]
            .iter()
            .all(|c| c.trim().is_empty())
        {
            continue;
        }
        let mut contact = json!({"name": name, "email": email});
        if !phone.trim().is_empty() {
            contact["phone"] = json!(phone);
        }
        if !role.trim().is_empty() {
            contact["role"] = json!(role);
        }
        contacts.push(contact);
    }
    body.insert("contacts".into(), Value::Array(contacts));
    Value::Object(body)
}

/// Contact rows for the template, with one blank row more to add a contact.
fn contacts_for_form(rows: Vec<Value>) -> Value {
    let mut rows = rows;
    rows.push(json!({"name": "", "email": "", "phone": "", "role": ""}));
    Value::Array(rows)
}

/// The form as typed, to show it again: the contact rows that were sent, in order, then a blank one.
fn vendor_values(form: &Fields) -> Value {
    let rows: Vec<Value> = contact_rows(form)
        .into_iter()
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .map(|[name, email, phone, role]| {
            json!({"name": name, "email": email, "phone": phone, "role": role})
        })
        .collect();
    json!({
        "legal_name": form.get("legal_name").unwrap_or(""),
        "website": form.get("website").unwrap_or(""),
        "hq_country": form.get("hq_country").unwrap_or(""),
        "contacts": contacts_for_form(rows),
    })
}

/// A stored vendor as the form shows it.
fn stored_vendor_values(vendor: &Value) -> Value {
    let rows: Vec<Value> = vendor["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": c["name"].as_str().unwrap_or(""),
                "email": c["email"].as_str().unwrap_or(""),
                "phone": c["phone"].as_str().unwrap_or(""),
                "role": c["role"].as_str().unwrap_or(""),
            })
        })
        .collect();
    json!({
        "legal_name": vendor["legal_name"].as_str().unwrap_or(""),
        "website": vendor["website"].as_str().unwrap_or(""),
        "hq_country": vendor["hq_country"].as_str().unwrap_or(""),
        "contacts": contacts_for_form(rows),
    })
}

fn vendor_form(
    console: &Console,
    session: &Session,
    status: StatusCode,
    values: Value,
    errors: Vec<Value>,
    edit: Value,
) -> Response {
    let (errors, field_errors) = with_anchors(errors);
    console.render(
        status,
        "vendor_form.html",
        Some(session),
        json!({"v": values, "errors": errors, "field_errors": field_errors, "edit": edit}),
    )
}

fn vendor_edit(vendor: &Value, version: Option<&str>) -> Value {
    json!({
        "id": vendor["id"],
        "legal_name": vendor["legal_name"],
        "version": version,
        "stored": Value::Null,
    })
}

#[handler]
pub(super) async fn new_vendor(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    vendor_form(
        &console,
        &session,
        StatusCode::OK,
        json!({"legal_name": "", "website": "", "hq_country": "", "contacts": contacts_for_form(vec![])}),
        vec![],
        Value::Null,
    )
}

#[handler]
pub(super) async fn create_vendor(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let body = vendor_body(&form, false);
    let created = console
        .send_json(&session, Method::POST, "/api/v1/vendors", &body, None)
        .await;
    if created.ok() {
        return see_other("/vendors?saved=added");
    }
    let Some(errors) = form_faults(&created, "legal_name") else {
        return console.refusal(&session, &created);
    };
    vendor_form(
        &console,
        &session,
        created.status,
        vendor_values(&form),
        errors,
        Value::Null,
    )
}

#[handler]
pub(super) async fn edit_vendor(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let read = console
        .get(&session, &format!("/api/v1/vendors/{id}"))
        .await;
    if !read.ok() {
        return console.refusal(&session, &read);
    }
    let vendor = read.json();
    vendor_form(
        &console,
        &session,
        StatusCode::OK,
        stored_vendor_values(&vendor),
        vec![],
        vendor_edit(&vendor, read.etag().as_deref()),
    )
}

#[handler]
pub(super) async fn save_vendor(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let path = format!("/api/v1/vendors/{id}");
    let body = vendor_body(&form, true);
    let saved = console
        .send_json(&session, Method::PATCH, &path, &body, form.get("version"))
        .await;
    if saved.ok() {
        return see_other("/vendors?saved=changed");
    }
    let refused = attempt!(
        refused_edit(
            &console,
            &session,
            &saved,
            &path,
            "legal_name",
            "vendor",
            form.get("version"),
            vendor_edit,
        )
        .await
    );
    vendor_form(
        &console,
        &session,
        saved.status,
        vendor_values(&form),
        refused.errors,
        refused.edit,
    )
}

// ---------------------------------------------------------------------------------------------------------------
// Policy

fn policy_form(
    console: &Console,
    session: &Session,
    status: StatusCode,
    document: &str,
    version: Option<&str>,
    current: &Value,
    errors: Vec<Value>,
) -> Response {
    // Every fault is the document's: the API names rules inside it (`rules[3]`), which the page lists by name
    // beside the one text area.
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|mut e| {
            e["anchor"] = json!("document");
            e
        })
        .collect();
    console.render(
        status,
        "policy_form.html",
        Some(session),
        json!({
            "document": document,
            "version": version,
            "current": {"version": current["version"], "label": current["label"]},
            "errors": errors,
        }),
    )
}

#[handler]
pub(super) async fn edit_policy(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    let read = console.get(&session, "/api/v1/policy").await;
    if !read.ok() {
        return console.refusal(&session, &read);
    }
    let current = read.json();
    let document = serde_json::to_string_pretty(&current["policy"]).unwrap_or_default();
    policy_form(
        &console,
        &session,
        StatusCode::OK,
        &document,
        read.etag().as_deref(),
        &current,
        vec![],
    )
}

#[handler]
pub(super) async fn publish_policy(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, ADMIN).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let text = form.get("document").unwrap_or("");
    let version = form.get("version");
    let (status, errors) = match serde_json::from_str::<Value>(text) {
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![json!({"field": "document", "message": format!("is not JSON: {e}")})],
        ),
        Ok(document) => {
            let published = console
                .send_json(&session, Method::PUT, "/api/v1/policy", &document, version)
                .await;
            if published.ok() {
                let number = published.json()["version"].as_i64().unwrap_or(0);
                return see_other(&format!("/policy?published={number}"));
            }
            match form_faults(&published, "document") {
                Some(errors) => (published.status, errors),
                None if published.status == StatusCode::PRECONDITION_FAILED => (
                    published.status,
                    vec![json!({
                        "field": "version",
                        "message": "another version of the policy was published since you opened this page, so \
                                    yours was not. The version now current is named above; your text is kept \
                                    below. Publish again to replace it with your text.",
                    })],
                ),
                None => return console.refusal(&session, &published),
            }
        }
    };
    let current = console.get(&session, "/api/v1/policy").await;
    if !current.ok() {
        return console.refusal(&session, &current);
    }
    // A fault keeps the version the form was read at; a stale form gets the current one.
    let version = if status == StatusCode::PRECONDITION_FAILED {
        current.etag()
    } else {
        version.map(str::to_string)
    };
    policy_form(
        &console,
        &session,
        status,
        text,
        version.as_deref(),
        &current.json(),
        errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_points_at_its_input() {
        assert_eq!(anchor("contacts[2].email"), "contacts-2-email");
        assert_eq!(anchor("legal_name"), "legal_name");
        assert_eq!(anchor("rules[3]"), "rules-3");
    }

    #[test]
    fn blank_contact_rows_are_not_sent_and_faults_name_the_row_shown_again() {
        let form = Fields(vec![
            ("legal_name".into(), "Acme".into()),
            ("hq_country".into(), "US".into()),
            ("website".into(), " ".into()),
            ("contact_name".into(), "".into()),
            ("contact_email".into(), "".into()),
            ("contact_phone".into(), "".into()),
            ("contact_role".into(), "".into()),
            ("contact_name".into(), "Pat".into()),
            ("contact_email".into(), "nobody".into()),
            ("contact_phone".into(), "".into()),
            ("contact_role".into(), "sales".into()),
        ]);
        let body = vendor_body(&form, true);
        assert_eq!(
            body["website"],
            Value::Null,
            "an edit clears a blank website"
        );
        assert!(vendor_body(&form, false).get("website").is_none());
        assert_eq!(
            body["contacts"],
            json!([{"name": "Pat", "email": "nobody", "role": "sales"}])
        );
        // The API's `contacts[0]` is the first row shown again, followed by a blank row to add one.
        let shown = vendor_values(&form);
        assert_eq!(shown["contacts"][0]["email"], "nobody");
        assert_eq!(shown["contacts"][1]["name"], "");
        assert_eq!(shown["contacts"].as_array().unwrap().len(), 2);
    }
}
