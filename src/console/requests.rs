//! Requests: the buyer's form and list, the request page, decisions, and the CIO's and Finance's inbox.

use std::sync::Arc;

use chrono::Utc;
use poem::http::{Method, StatusCode};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::session::Session;
use super::{Console, Fields, check_csrf, label, money, parse_id, require, see_other};
use crate::auth::Role;
use crate::store::Store;

const DATA_CLASSES: [&str; 7] = [
    "public",
    "confidential",
    "pi_ma",
    "pi_ct",
    "cjis",
    "health",
    "cardholder",
];

fn data_class_label(code: &str) -> &'static str {
    match code {
        "public" => "Public information only",
        "confidential" => "Confidential information",
        "pi_ma" => "Personal information of Massachusetts residents",
        "pi_ct" => "Personal information of Connecticut residents",
        "cjis" => "Criminal justice information (CJIS)",
        "health" => "Protected health information (HIPAA)",
        "cardholder" => "Payment cardholder data (PCI DSS)",
        _ => "",
    }
}

/// Every staff role: the request list and a request's page are theirs to read, as in the API.
pub(super) const STAFF: &[Role] = &[
    Role::Buyer,
    Role::SecurityAnalyst,
    Role::Cio,
    Role::Finance,
    Role::Admin,
    Role::Auditor,
];

#[handler]
pub(super) async fn requests_page(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let answer = console.get(&session, "/api/v1/requests?limit=200").await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let body = answer.json();
    console.render(
        StatusCode::OK,
        "requests.html",
        Some(&session),
        json!({"items": body["items"], "total": body["page"]["total"]}),
    )
}

async fn request_form(
    console: &Console,
    session: &Session,
    status: StatusCode,
    values: Value,
    errors: Vec<Value>,
    edit: Value,
) -> Response {
    let vendors = console.get(session, "/api/v1/vendors?limit=200").await;
    let vendors = vendors.json()["items"].clone();
    let classes: Vec<Value> = DATA_CLASSES
        .iter()
        .map(|c| json!({"code": c, "label": data_class_label(c)}))
        .collect();
    let mut by_field = serde_json::Map::new();
    for e in &errors {
        if let Some(f) = e["field"].as_str() {
            by_field.insert(f.to_string(), e["message"].clone());
        }
    }
    console.render(
        status,
        "request_form.html",
        Some(session),
        json!({"vendors": vendors, "classes": classes, "v": values, "errors": errors, "field_errors": by_field, "edit": edit}),
    )
}

#[handler]
pub(super) async fn new_request(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Buyer]).await);
    request_form(
        &console,
        &session,
        StatusCode::OK,
        json!({"term_months": "12", "hosting": "vendor_cloud", "data_classes": []}),
        vec![],
        Value::Null,
    )
    .await
}

/// Dollars as typed (`1,200.50`, `$60000`) in cents; None when it is not an amount.
pub fn cents(text: &str) -> Option<i64> {
    let cleaned: String = text
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    let (whole, fraction) = match cleaned.split_once('.') {
        Some((w, f)) if f.len() <= 2 && f.chars().all(|c| c.is_ascii_digit()) => (w, f),
        Some(_) => return None,
        None => (cleaned.as_str(), ""),
    };
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

/// The request form as the API's JSON, with the faults that keep a field from being sent at all (an amount
/// that is not one): the API judges everything else.
fn request_body(form: &Fields) -> (Value, Vec<Value>) {
    let mut errors = Vec::new();
    let mut body = serde_json::Map::new();
    for name in [
        "title",
        "description",
        "vendor_id",
        "product_name",
        "category",
        "hosting",
    ] {
        if let Some(v) = form.text(name) {
            body.insert(name.into(), Value::String(v.to_string()));
        }
    }
    if let Some(date) = form.text("requested_start_date") {
        body.insert(
            "requested_start_date".into(),
            Value::String(date.to_string()),
        );
    }
    let capabilities: Vec<Value> = form
        .get("capabilities")
        .unwrap_or("")
        .split([',', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| Value::String(c.to_string()))
        .collect();
    body.insert("capabilities".into(), Value::Array(capabilities));
    for (field, api) in [
        ("capital_cost", "capital_cost_cents"),
        ("annual_operating_cost", "annual_operating_cost_cents"),
    ] {
        match form.text(field).map(cents) {
            Some(Some(c)) => {
                body.insert(api.into(), json!(c));
            }
            Some(None) => errors.push(json!({"field": api, "message": "must be an amount in dollars, e.g. 60000 or 1,250.50"})),
            None => {}
        }
    }
    for field in ["term_months", "expected_users"] {
        match form.text(field).map(|v| v.replace(',', "").parse::<i64>()) {
            Some(Ok(n)) => {
                body.insert(field.into(), json!(n));
            }
            Some(Err(_)) => {
                errors.push(json!({"field": field, "message": "must be a whole number"}))
            }
            None => {}
        }
    }
    let classes: Vec<Value> = form
        .all("data_classes")
        .into_iter()
        .map(|c| Value::String(c.to_string()))
        .collect();
    body.insert("data_classes".into(), Value::Array(classes));
    for flag in [
        "renewal",
        "enterprise_agreement",
        "surveillance",
        "face_surveillance",
    ] {
        body.insert(flag.into(), Value::Bool(form.get(flag) == Some("yes")));
    }
    (Value::Object(body), errors)
}

/// The form's values as typed, to show them again with the faults.
fn request_values(form: &Fields) -> Value {
    let mut v = serde_json::Map::new();
    for (k, val) in &form.0 {
        if k == "data_classes" {
            continue;
        }
        v.insert(k.clone(), Value::String(val.clone()));
    }
    v.insert(
        "data_classes".into(),
        Value::Array(
            form.all("data_classes")
                .into_iter()
                .map(|c| json!(c))
                .collect(),
        ),
    );
    Value::Object(v)
}

#[handler]
pub(super) async fn create_request(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Buyer]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let (body, mut errors) = request_body(&form);
    if errors.is_empty() {
        let created = console
            .send_json(&session, Method::POST, "/api/v1/requests", &body, None)
            .await;
        if created.ok() {
            let id = created.json()["id"].as_str().unwrap_or("").to_string();
            return see_other(&format!("/requests/{id}"));
        }
        if created.status != StatusCode::UNPROCESSABLE_ENTITY {
            return console.refusal(&session, &created);
        }
        errors = created.json()["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
    }
    request_form(
        &console,
        &session,
        StatusCode::UNPROCESSABLE_ENTITY,
        request_values(&form),
        errors,
        Value::Null,
    )
    .await
}

/// A stored request's fields as the form shows them: amounts in dollars, lists joined, flags as `yes`.
fn stored_values(fields: &Value) -> Value {
    let mut v = serde_json::Map::new();
    for name in [
        "title",
        "description",
        "vendor_id",
        "product_name",
        "category",
        "hosting",
        "requested_start_date",
    ] {
        if let Some(t) = fields[name].as_str() {
            v.insert(name.into(), json!(t));
        }
    }
    for (api, field) in [
        ("capital_cost_cents", "capital_cost"),
        ("annual_operating_cost_cents", "annual_operating_cost"),
    ] {
        if let Some(c) = fields[api].as_i64() {
            let dollars = money(c).trim_start_matches('$').replace(',', "");
            let dollars = dollars.strip_suffix(".00").unwrap_or(&dollars).to_string();
            v.insert(field.into(), json!(dollars));
        }
    }
    for name in ["term_months", "expected_users"] {
        if let Some(n) = fields[name].as_i64() {
            v.insert(name.into(), json!(n.to_string()));
        }
    }
    let capabilities: Vec<&str> = fields["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    v.insert("capabilities".into(), json!(capabilities.join(", ")));
    v.insert(
        "data_classes".into(),
        fields["data_classes"]
            .clone()
            .as_array()
            .cloned()
            .map(Value::Array)
            .unwrap_or(json!([])),
    );
    for flag in [
        "renewal",
        "enterprise_agreement",
        "surveillance",
        "face_surveillance",
    ] {
        if fields[flag].as_bool() == Some(true) {
            v.insert(flag.into(), json!("yes"));
        }
    }
    Value::Object(v)
}

/// The edit form of a draft, of a request sent back for changes, or of an approved one (the API decides which
/// edits re-open review).
#[handler]
pub(super) async fn edit_request(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Buyer]).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let read = console
        .get(&session, &format!("/api/v1/requests/{id}"))
        .await;
    if !read.ok() {
        return console.refusal(&session, &read);
    }
    let request = read.json();
    let editable = request["allowed_actions"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == "edit"));
    if !editable {
        return console.message(
            StatusCode::CONFLICT,
            Some(&session),
            "Not possible now",
            &format!(
                "A request that is {} cannot be edited by you now.",
                label(request["status"].as_str().unwrap_or("")).to_lowercase()
            ),
            &[],
        );
    }
    request_form(
        &console,
        &session,
        StatusCode::OK,
        stored_values(&request["fields"]),
        vec![],
        edit_context(&request, read.etag().as_deref()),
    )
    .await
}

fn edit_context(request: &Value, version: Option<&str>) -> Value {
    json!({
        "id": request["id"],
        "title": request["fields"]["title"],
        "status": request["status"],
        "version": version,
    })
}

/// Saves the edit with the version the form was read at (412 when someone changed it since); with
/// `then=submit`, submits the saved draft on the version the edit answered with.
#[handler]
pub(super) async fn save_request(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Buyer]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let (body, mut errors) = request_body(&form);
    if errors.is_empty() {
        let saved = console
            .send_json(
                &session,
                Method::PATCH,
                &format!("/api/v1/requests/{id}"),
                &body,
                form.get("version"),
            )
            .await;
        if saved.ok() {
            if form.get("then") == Some("submit") {
                let submitted = console
                    .transition(
                        &session,
                        &format!("/api/v1/requests/{id}/submit"),
                        saved.etag().as_deref(),
                    )
                    .await;
                return console.after(&session, &submitted, &format!("/requests/{id}"));
            }
            return see_other(&format!("/requests/{id}"));
        }
        if saved.status != StatusCode::UNPROCESSABLE_ENTITY {
            return console.refusal(&session, &saved);
        }
        errors = saved.json()["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
    }
    let current = console
        .get(&session, &format!("/api/v1/requests/{id}"))
        .await;
    if !current.ok() {
        return console.refusal(&session, &current);
    }
    // The version the form was read at stays: a save after the faults are fixed still loses to a change made
    // by someone else meanwhile.
    request_form(
        &console,
        &session,
        StatusCode::UNPROCESSABLE_ENTITY,
        request_values(&form),
        errors,
        edit_context(&current.json(), form.get("version")),
    )
    .await
}

/// The buyer asks for an exception to the duplicate review: why the purchase should go ahead although the city
/// already runs something like it.
#[handler]
pub(super) async fn ask_exception(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Buyer]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let body = json!({"justification": form.get("justification").unwrap_or("")});
    console
        .change(
            &session,
            Method::POST,
            &format!("/api/v1/requests/{id}/duplicates/exception"),
            &body,
            &form,
            &format!("/requests/{id}"),
        )
        .await
}

/// What the invitation forms just did, from their redirect: `?invited=1`, `?revoked=1`.
#[derive(serde::Deserialize, Default)]
pub(super) struct InvitationNotice {
    invited: Option<String>,
    revoked: Option<String>,
}

#[handler]
pub(super) async fn request_page(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    notice: poem::web::Query<InvitationNotice>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let notice = if notice.invited.is_some() {
        Some("The invitation was sent: the contact gets an e-mail with the link.")
    } else if notice.revoked.is_some() {
        Some("The invitation was revoked: its link and any session opened with it no longer work.")
    } else {
        None
    };
    let mut context = json!({});
    if let Some(n) = notice {
        context["invitations_notice"] = json!(n);
    }
    render_request(
        &console,
        &session,
        id,
        StatusCode::OK,
        Value::Null,
        Value::Null,
        context,
    )
    .await
}

/// The request page with `status`; `invite` is the invitation form as sent (its values and faults) and
/// `council` the Council document upload as sent, when it is shown again after a refusal, null otherwise.
pub(super) async fn show_request(
    console: &Console,
    session: &Session,
    id: uuid::Uuid,
    status: StatusCode,
    invite: Value,
    council: Value,
) -> Response {
    render_request(console, session, id, status, invite, council, json!({})).await
}

/// [`show_request`] with `extra` added to the page's context (a notice).
async fn render_request(
    console: &Console,
    session: &Session,
    id: uuid::Uuid,
    status: StatusCode,
    invite: Value,
    council: Value,
    extra: Value,
) -> Response {
    let read = console
        .get(session, &format!("/api/v1/requests/{id}"))
        .await;
    if !read.ok() {
        return console.refusal(session, &read);
    }
    let request = read.json();
    let draft = request["status"].as_str() == Some("draft");
    // A draft shows the route it would get if submitted now; a submitted request the route it got.
    let (route, preview) = if draft {
        let p = console
            .get(session, &format!("/api/v1/requests/{id}/preview"))
            .await;
        (Value::Null, if p.ok() { p.json() } else { Value::Null })
    } else {
        let r = console
            .get(session, &format!("/api/v1/requests/{id}/route"))
            .await;
        (if r.ok() { r.json() } else { Value::Null }, Value::Null)
    };
    let route_steps = if preview.is_null() { &route } else { &preview };
    let route_steps = route_steps.get("route").unwrap_or(route_steps);
    let decidable: Vec<Value> = route_steps["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["state"].as_str() == Some("pending"))
        .filter(|s| {
            let kind = s["kind"].as_str().unwrap_or("");
            match session.role() {
                Some(Role::Cio) => kind == "cio_approval" || kind == "cio_duplicate_review",
                Some(Role::Finance) => kind == "finance_approval",
                _ => false,
            }
        })
        .cloned()
        .collect();
    let decisions = if draft {
        Value::Null
    } else {
        let d = console
            .get(
                session,
                &format!("/api/v1/requests/{id}/decisions?limit=200"),
            )
            .await;
        if d.ok() {
            d.json()["items"].clone()
        } else {
            Value::Null
        }
    };
    let checks = if draft {
        Value::Null
    } else {
        super::checks::request_checks(console, session, id, route_steps).await
    };
    let actions: Vec<String> = request["allowed_actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    let invitations = super::invitations::request_invitations(console, session, id, &request).await;
    let mut context = json!({
            "invitations": invitations,
            "invite": super::invitations::invite_form(console, session, id, &request, invite).await,
            "r": request,
            "etag": read.etag(),
            "route": route_steps,
            "preview": !preview.is_null(),
            "duplicates": preview.get("duplicates").cloned().unwrap_or(Value::Null),
            "actions": actions,
            "decidable": decidable,
            "decisions": decisions,
            "checks": checks,
            "council_upload": if council.is_null() {
                super::council::upload_form("", Vec::new())
            } else {
                council
            },
    });
    super::merge(&mut context, &extra);
    console.render(status, "request.html", Some(session), context)
}

#[handler]
pub(super) async fn request_transition(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Buyer]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let action = if req.uri().path().ends_with("/withdraw") {
        "withdraw"
    } else {
        "submit"
    };
    let done = console
        .transition(
            &session,
            &format!("/api/v1/requests/{id}/{action}"),
            form.get("version"),
        )
        .await;
    console.after(&session, &done, &format!("/requests/{id}"))
}

#[handler]
pub(super) async fn decide(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Cio, Role::Finance]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let mut body = json!({
        "step": form.get("step").unwrap_or(""),
        "outcome": form.get("outcome").unwrap_or(""),
    });
    if let Some(r) = form.text("rationale") {
        body["rationale"] = json!(r);
    }
    if let Some(code) = form.text("reason_code") {
        body["reason_code"] = json!(code);
    }
    let conditions: Vec<&str> = form
        .get("conditions")
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if !conditions.is_empty() {
        body["conditions"] = json!(conditions);
    }
    console
        .change(
            &session,
            Method::POST,
            &format!("/api/v1/requests/{id}/decisions"),
            &body,
            &form,
            &format!("/requests/{id}"),
        )
        .await
}

/// An RFC 3339 time of the API's.
fn parse_time(text: &str) -> Option<chrono::DateTime<Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[handler]
pub(super) async fn inbox(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Cio, Role::Finance]).await);
    let answer = console
        .get(&session, "/api/v1/requests?awaiting=me&limit=200")
        .await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let policy = console.get(&session, "/api/v1/policy").await.json();
    let escalation = policy["decision_escalation_days"]
        .as_i64()
        .or_else(|| policy["policy"]["decision_escalation_days"].as_i64());
    let mut items = answer.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Oldest first: what has waited longest comes first.
    items.sort_by(|a, b| a["updated_at"].as_str().cmp(&b["updated_at"].as_str()));
    // A request waits since it last changed (when it started to wait, or when a co-decider acted): the time the
    // escalation reminder counts from, and it is past escalation by the reminder's own rule.
    let now = Utc::now();
    for item in &mut items {
        let since = item["updated_at"].as_str().and_then(parse_time);
        item["age_days"] = json!(since.map(|at| (now - at).num_days()));
        item["overdue"] = json!(matches!(
            (since, escalation.and_then(|e| u32::try_from(e).ok())),
            (Some(at), Some(e)) if crate::domain::deadlines::decision_escalation(at, now, e).is_some()
        ));
    }
    console.render(
        StatusCode::OK,
        "inbox.html",
        Some(&session),
        json!({"items": items, "escalation_days": escalation}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_dollars_become_cents_and_anything_else_is_refused() {
        assert_eq!(cents("60000"), Some(6_000_000));
        assert_eq!(cents("$1,250.5"), Some(125_050));
        assert_eq!(cents("0.07"), Some(7));
        for bad in ["", "abc", "1.234", "-5", "1e6", "$"] {
            assert_eq!(cents(bad), None, "{bad}");
        }
        assert_eq!(cents("999999999999999999999"), None);
    }
}
