//! The security analyst's review queue: submitted assessments to read, accept or return.

use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::{Console, Fields, check_csrf, parse_id, require};
use crate::auth::Role;
use crate::store::Store;

#[handler]
pub(super) async fn reviews(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::SecurityAnalyst]).await);
    let answer = console
        .get(&session, "/api/v1/assessments?status=submitted&limit=200")
        .await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let mut items = answer.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    items.sort_by(|a, b| a["updated_at"].as_str().cmp(&b["updated_at"].as_str()));
    console.render(
        StatusCode::OK,
        "reviews.html",
        Some(&session),
        json!({"items": items}),
    )
}

#[handler]
pub(super) async fn review_page(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::SecurityAnalyst]).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let answer = console
        .get(&session, &format!("/api/v1/assessments/{id}"))
        .await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let detail = answer.json();
    console.render(
        StatusCode::OK,
        "review.html",
        Some(&session),
        json!({"detail": detail, "sections": super::portal::sections(&detail), "etag": answer.etag()}),
    )
}

#[handler]
pub(super) async fn review(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::SecurityAnalyst]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let comments: Vec<Value> = form
        .0
        .0
        .iter()
        .filter_map(|(k, v)| {
            let qid = k.strip_prefix("comment.")?;
            let text = v.trim();
            (!text.is_empty()).then(|| json!({"question_id": qid, "comment": text}))
        })
        .collect();
    let body = json!({"outcome": form.get("outcome").unwrap_or(""), "comments": comments});
    let done = console
        .send_json(
            &session,
            Method::POST,
            &format!("/api/v1/assessments/{id}/review"),
            &body,
            form.get("version"),
        )
        .await;
    if done.ok() {
        console.message(
            StatusCode::OK,
            Some(&session),
            "Review recorded",
            match form.get("outcome") {
                Some("accept") => "The assessment is accepted.",
                _ => "The assessment is returned to the vendor with your comments.",
            },
            &[],
        )
    } else {
        console.refusal(&session, &done)
    }
}
