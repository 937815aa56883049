//! Findings for the security analysts and the CIO office: the list of what the questionnaires turned up, and a
//! finding's page where an analyst plans its remediation or resolves it once the fix is verified, and the CIO
//! accepts the risk, with a rationale and an expiry date. The vendor plans its own findings' remediation in the
//! portal.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::encode;
use super::{Console, Fields, check_csrf, parse_id, require};
use strum::VariantArray;

use crate::auth::Role;
use crate::domain::assessments::FindingStatus;
use crate::store::Store;

const READERS: &[Role] = &[Role::SecurityAnalyst, Role::Cio];

/// The statuses the list filters by, in the order a finding moves through them (the domain's own list).
fn statuses() -> Vec<&'static str> {
    FindingStatus::VARIANTS.iter().map(|s| s.as_str()).collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    status: Option<String>,
    cursor: Option<String>,
}

#[handler]
pub(super) async fn findings(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Query(query): Query<ListQuery>,
) -> Response {
    let session = attempt!(require(req, &console, &store, READERS).await);
    // Open findings first: what still needs someone. "all" lists every status.
    let status = query.status.as_deref().unwrap_or("open");
    let mut path = String::from("/api/v1/findings?limit=50");
    if status != "all" {
        if !statuses().contains(&status) {
            return console.message(
                StatusCode::BAD_REQUEST,
                Some(&session),
                "No such list",
                "Choose one of the statuses offered.",
                &[],
            );
        }
        path.push_str(&format!("&status={status}"));
    }
    if let Some(cursor) = &query.cursor {
        path.push_str(&format!("&cursor={}", encode(cursor)));
    }
    let answer = console.get(&session, &path).await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let body = answer.json();
    let next = body["page"]["next_cursor"]
        .as_str()
        .map(|c| format!("/findings?status={status}&cursor={}", encode(c)));
    console.render(
        StatusCode::OK,
        "findings.html",
        Some(&session),
        json!({
            "items": body["items"],
            "total": body["page"]["total"],
            "status": status,
            "statuses": statuses(),
            "next": next,
        }),
    )
}

#[handler]
pub(super) async fn finding_page(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, READERS).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let read = console
        .get(&session, &format!("/api/v1/findings/{id}"))
        .await;
    if !read.ok() {
        return console.refusal(&session, &read);
    }
    let finding = read.json();
    let closed = matches!(
        finding["status"].as_str(),
        Some("resolved" | "risk_accepted")
    );
    let role = session.role();
    console.render(
        StatusCode::OK,
        "finding.html",
        Some(&session),
        json!({
            "f": finding,
            "etag": read.etag(),
            "can_plan": !closed && role == Some(Role::SecurityAnalyst),
            "can_resolve": !closed && role == Some(Role::SecurityAnalyst),
            "can_accept": !closed && role == Some(Role::Cio),
        }),
    )
}

/// One of the three changes of a finding, sent with the version the page was read at: `remediation` (plan and
/// due date), `resolve` (note) or `risk-acceptance` (rationale and expiry).
#[handler]
pub(super) async fn finding_action(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path((id, action)): Path<(String, String)>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, READERS).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let body: Value = match action.as_str() {
        "remediation" => json!({
            "plan": form.get("plan").unwrap_or(""),
            "due_date": form.get("due_date").unwrap_or(""),
        }),
        "resolve" => json!({"note": form.get("note").unwrap_or("")}),
        "risk-acceptance" => json!({
            "rationale": form.get("rationale").unwrap_or(""),
            "expires_on": form.get("expires_on").unwrap_or(""),
        }),
        _ => {
            return console.message(
                StatusCode::NOT_FOUND,
                Some(&session),
                "Not found",
                "There is no such page.",
                &[],
            );
        }
    };
    console
        .change(
            &session,
            Method::POST,
            &format!("/api/v1/findings/{id}/{action}"),
            &body,
            &form,
            &format!("/findings/{id}"),
        )
        .await
}
