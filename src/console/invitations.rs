//! Inviting a request's vendor from the request page, the request's invitations and revoking one.
//!
//! The form is sent as JSON to the API's own operations (`POST /api/v1/vendors/{id}/invitations`, `.../revoke`)
//! as the signed-in person: who may invite (buyers for their own department's requests, security analysts and
//! admins), the e-mail and validity rules, the assessments an invitation may name, the audit entry and the
//! invitation e-mail queued for the contact are the API's. A refusal shows the request page again with the form
//! as typed and each fault next to its field.

use std::sync::Arc;

use chrono::Utc;
use poem::http::{Method, StatusCode};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};
use uuid::Uuid;

use super::registry::{form_faults, with_anchors};
use super::requests::show_request;
use super::session::Session;
use super::{Console, Fields, check_csrf, parse_id, require, see_other};
use crate::api::invitations::Inviter;
use crate::auth::Permission;
use crate::store::Store;

/// The fields of the form a fault can be shown beside; a fault of anything else (the request itself, a closed
/// request's 409) is the form's as a whole.
const FIELDS: [&str; 4] = ["contact_email", "contact_name", "days", "assessment_ids"];

/// Whether the signed-in person may issue and revoke invitations: the API's own list of roles.
fn may_invite(session: &Session) -> bool {
    session
        .principal
        .roles
        .iter()
        .any(|r| Inviter::ROLES.contains(r))
}

/// The vendor of a request as the API answered it.
fn vendor_of(request: &Value) -> Option<&str> {
    request["fields"]["vendor_id"]
        .as_str()
        .or_else(|| request["vendor_id"].as_str())
}

/// The request's invitations (the vendor's, newest first, those of this request only) with their state in words;
/// null when the API lists none to this person.
pub(super) async fn request_invitations(
    console: &Console,
    session: &Session,
    id: Uuid,
    request: &Value,
) -> Value {
    let Some(vendor) = vendor_of(request) else {
        return Value::Null;
    };
    let listed = console
        .get(
            session,
            &format!("/api/v1/vendors/{vendor}/invitations?limit=200"),
        )
        .await;
    if !listed.ok() {
        return Value::Null;
    }
    // The questionnaires an invitation names, by title.
    let assessments = console
        .get(
            session,
            &format!("/api/v1/assessments?request_id={id}&limit=200"),
        )
        .await
        .json();
    let title = |assessment: &Value| -> Value {
        assessments["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["id"] == *assessment)
            .map_or_else(|| assessment.clone(), |a| a["template_title"].clone())
    };
    let now = Utc::now();
    let request_id = id.to_string();
    let items: Vec<Value> = listed.json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["request_id"].as_str() == Some(request_id.as_str()))
        .map(|i| {
            let mut i = i.clone();
            let expired = i["expires_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|at| at.with_timezone(&Utc) <= now);
            let state = if !i["revoked_at"].is_null() {
                "revoked"
            } else if expired {
                "expired"
            } else {
                "active"
            };
            i["state"] = json!(state);
            let named: Vec<Value> = i["assessment_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .map(&title)
                .collect();
            i["questionnaires"] = Value::Array(named);
            i
        })
        .collect();
    json!({"items": items, "may_revoke": may_invite(session)})
}

/// The invitation form for the request page: null for a role that may not invite; otherwise the request's
/// questionnaires to choose from and the values and faults to show (`sent`, after a refusal).
pub(super) async fn invite_form(
    console: &Console,
    session: &Session,
    id: Uuid,
    request: &Value,
    sent: Value,
) -> Value {
    if !may_invite(session) || vendor_of(request).is_none() {
        return Value::Null;
    }
    let listed = console
        .get(
            session,
            &format!("/api/v1/assessments?request_id={id}&limit=200"),
        )
        .await;
    let assessments: Vec<Value> = if listed.ok() {
        listed.json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["status"].as_str() != Some("cancelled"))
            .map(|a| {
                json!({
                    "id": a["id"], "title": a["template_title"], "status": a["status"], "due_date": a["due_date"],
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut form = if sent.is_null() {
        json!({
            "v": {"contact_email": "", "contact_name": "", "days": "", "assessment_ids": []},
            "errors": [],
            "field_errors": {},
        })
    } else {
        sent
    };
    form["assessments"] = Value::Array(assessments);
    form
}

/// The form as the API's JSON, with the faults that keep a field from being sent at all (a number of days that
/// is not one): the API judges everything else.
fn invitation_body(form: &Fields, request: Uuid) -> (Value, Vec<Value>) {
    let mut errors = Vec::new();
    let mut body = json!({
        "request_id": request,
        "contact_email": form.get("contact_email").unwrap_or(""),
    });
    if let Some(name) = form.text("contact_name") {
        body["contact_name"] = json!(name);
    }
    match form.text("days").map(str::parse::<u32>) {
        Some(Ok(days)) => body["days"] = json!(days),
        Some(Err(_)) => {
            errors.push(json!({"field": "days", "message": "must be a whole number of days"}))
        }
        None => {}
    }
    let chosen = form.all("assessment_ids");
    if !chosen.is_empty() {
        body["assessment_ids"] = json!(chosen);
    }
    (body, errors)
}

/// The form as typed, with its faults by field (an assessment's fault is the questionnaire list's).
fn sent_form(form: &Fields, errors: Vec<Value>) -> Value {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|mut e| {
            let field = e["field"].as_str().unwrap_or("").to_string();
            let base = field.split('[').next().unwrap_or("");
            if !FIELDS.contains(&base) {
                e["field"] = json!("invitation");
            } else if base != field {
                e["field"] = json!(base);
            }
            e
        })
        .collect();
    let (mut errors, field_errors) = with_anchors(errors);
    for e in &mut errors {
        if e["field"] == "invitation" {
            e["anchor"] = json!("invite-title");
        }
    }
    json!({
        "v": {
            "contact_email": form.get("contact_email").unwrap_or(""),
            "contact_name": form.get("contact_name").unwrap_or(""),
            "days": form.get("days").unwrap_or(""),
            "assessment_ids": form.all("assessment_ids"),
        },
        "errors": errors,
        "field_errors": field_errors,
    })
}

/// Reads the request (for its vendor) as the signed-in person; its refusal is the page to answer.
async fn read_request(
    console: &Console,
    session: &Session,
    id: Uuid,
) -> Result<(Value, String), Box<Response>> {
    let read = console
        .get(session, &format!("/api/v1/requests/{id}"))
        .await;
    if !read.ok() {
        return Err(Box::new(console.refusal(session, &read)));
    }
    let request = read.json();
    match vendor_of(&request) {
        Some(vendor) => {
            let vendor = vendor.to_string();
            Ok((request, vendor))
        }
        None => Err(Box::new(console.message(
            StatusCode::CONFLICT,
            Some(session),
            "Not possible now",
            "This request names no vendor to invite.",
            &[],
        ))),
    }
}

#[handler]
pub(super) async fn invite(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, Inviter::ROLES).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let (_, vendor) = attempt!(read_request(&console, &session, id).await);
    let (body, mut errors) = invitation_body(&form, id);
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if errors.is_empty() {
        let sent = console
            .send_json(
                &session,
                Method::POST,
                &format!("/api/v1/vendors/{vendor}/invitations"),
                &body,
                None,
            )
            .await;
        if sent.ok() {
            return see_other(&format!("/requests/{id}?invited=1#invitations-title"));
        }
        let Some(faults) = form_faults(&sent, "invitation") else {
            return console.refusal(&session, &sent);
        };
        errors = faults;
        status = sent.status;
    }
    show_request(
        &console,
        &session,
        id,
        status,
        sent_form(&form, errors),
        Value::Null,
    )
    .await
}

#[handler]
pub(super) async fn revoke(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path((id, invitation)): Path<(String, String)>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, Inviter::ROLES).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let invitation = attempt!(parse_id(&console, &session, &invitation));
    let (_, vendor) = attempt!(read_request(&console, &session, id).await);
    let revoked = console
        .send_json(
            &session,
            Method::POST,
            &format!("/api/v1/vendors/{vendor}/invitations/{invitation}/revoke"),
            &json!({}),
            None,
        )
        .await;
    console.after(
        &session,
        &revoked,
        &format!("/requests/{id}?revoked=1#invitations-title"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_form_becomes_the_apis_body_and_days_that_are_no_number_are_a_fault_of_days() {
        let request = Uuid::nil();
        let (body, errors) = invitation_body(
            &fields(&[
                ("contact_email", "sec@vendor.example"),
                ("contact_name", "  "),
                ("days", " 14 "),
            ]),
            request,
        );
        assert!(errors.is_empty());
        assert_eq!(
            body,
            json!({"request_id": request, "contact_email": "sec@vendor.example", "days": 14})
        );
        let (body, errors) = invitation_body(
            &fields(&[
                ("contact_email", "x"),
                ("days", "two weeks"),
                ("assessment_ids", "a"),
                ("assessment_ids", "b"),
            ]),
            request,
        );
        assert_eq!(errors[0]["field"], "days");
        assert_eq!(body["assessment_ids"], json!(["a", "b"]));
    }

    #[test]
    fn a_fault_of_an_assessment_is_the_lists_and_one_of_the_request_is_the_forms() {
        let shown = sent_form(
            &fields(&[("contact_email", "x")]),
            vec![
                json!({"field": "assessment_ids[1]", "message": "is cancelled"}),
                json!({"field": "request_id", "message": "for another vendor"}),
            ],
        );
        assert_eq!(shown["field_errors"]["assessment_ids"], "is cancelled");
        assert_eq!(shown["errors"][1]["field"], "invitation");
        assert_eq!(shown["errors"][1]["anchor"], "invite-title");
        assert_eq!(shown["v"]["contact_email"], "x");
    }
}
