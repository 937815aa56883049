//! The City Council's documents from the request page [Boston 16-63]: the Surveillance Use Policy and the
//! Surveillance Impact Report uploaded for a request whose route waits on the Council, and each one downloaded.
//!
//! The upload is sent to the API's own operation (`POST /api/v1/requests/{id}/council/documents`) as the
//! signed-in person, with the file's bytes and the type the browser declared: who may attach (a buyer of the
//! department or an admin), while the step waits, which kinds the step needs, which files are kept (judged by
//! their bytes), the SHA-256 and the audit entry are the API's. A refusal shows the request page again with the
//! API's message next to the field it concerns. The download streams the API's answer for the signed-in person.

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::{Data, Multipart, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::admin::encode;
use super::portal::read_upload;
use super::requests::{STAFF, show_request};
use super::session::Session;
use super::{Answer, Console, check_csrf, parse_id, require, see_other};
use crate::api::council::CouncilClerk;
use crate::auth::Permission;
use crate::store::Store;

/// The fields of the form a fault is shown beside; any other fault (the file's name, its type, the step being
/// settled) is the file's.
const FIELDS: [&str; 2] = ["kind", "file"];

/// Whether the signed-in person may attach a Council document: the API's own list of roles.
pub(super) fn may_attach(session: &Session) -> bool {
    session
        .principal
        .roles
        .iter()
        .any(|r| CouncilClerk::ROLES.contains(r))
}

/// The upload form as the page shows it: the kind chosen and the faults by field, each with the id of its input.
pub(super) fn upload_form(kind: &str, errors: Vec<Value>) -> Value {
    let mut field_errors = serde_json::Map::new();
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|e| {
            let field = e["field"].as_str().unwrap_or("");
            let field = if FIELDS.contains(&field) {
                field
            } else {
                "file"
            };
            let message = e["message"].as_str().unwrap_or("").to_string();
            let text = match field_errors.get(field).and_then(Value::as_str) {
                Some(before) => format!("{before}; {message}"),
                None => message.clone(),
            };
            field_errors.insert(field.to_string(), json!(text));
            json!({"field": field, "message": message, "anchor": format!("council-{field}")})
        })
        .collect();
    json!({"v": {"kind": kind}, "errors": errors, "field_errors": field_errors})
}

/// The faults of a refused upload the form shows again (bad kind, file type or name, too large, the step
/// settled); None for a refusal that is the page's as a whole (not allowed, not found).
fn upload_faults(answer: &Answer) -> Option<Vec<Value>> {
    match answer.status.as_u16() {
        400 | 409 | 413 | 415 | 422 => Some(answer.upload_faults()),
        _ => None,
    }
}

#[handler]
pub(super) async fn upload_document(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let session = attempt!(require(req, &console, &store, CouncilClerk::ROLES).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let upload = attempt!(read_upload(req, &console, &session, &mut multipart).await);
    let kind = upload.kind.as_deref().unwrap_or("").trim().to_string();
    if let Some(fault) = upload.too_large {
        return show_request(
            &console,
            &session,
            id,
            StatusCode::PAYLOAD_TOO_LARGE,
            Value::Null,
            upload_form(&kind, vec![fault]),
        )
        .await;
    }
    attempt!(check_csrf(&console, &session, upload.csrf.as_deref()));
    let path = format!(
        "/api/v1/requests/{id}/council/documents?kind={}&filename={}",
        encode(&kind),
        encode(upload.plain_name("council-document")),
    );
    let content_type = upload
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let Some(file) = upload.file else {
        let fault = json!({"field": "file", "message": "choose a file to upload"});
        return show_request(
            &console,
            &session,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Value::Null,
            upload_form(&kind, vec![fault]),
        )
        .await;
    };
    let stored = console
        .call(
            &session,
            Method::POST,
            &path,
            Some((file, &content_type)),
            None,
        )
        .await;
    if stored.ok() {
        return see_other(&format!("/requests/{id}#council-title"));
    }
    let Some(errors) = upload_faults(&stored) else {
        return console.refusal(&session, &stored);
    };
    show_request(
        &console,
        &session,
        id,
        stored.status,
        Value::Null,
        upload_form(&kind, errors),
    )
    .await
}

/// One of a request's Council documents, as the API gives it to the signed-in person: its bytes, its name and
/// the type its bytes showed when it was stored.
#[handler]
pub(super) async fn download_document(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path((id, document)): Path<(String, String)>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let document = attempt!(parse_id(&console, &session, &document));
    let file = console
        .get(
            &session,
            &format!("/api/v1/requests/{id}/council/documents/{document}"),
        )
        .await;
    if !file.ok() {
        return console.refusal(&session, &file);
    }
    let content_type = file
        .headers
        .get("x-content-type")
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    let mut resp = Response::builder().body(file.body.clone());
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    if let Some(disposition) = file.headers.get(header::CONTENT_DISPOSITION) {
        resp.headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition.clone());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_of_the_kind_is_the_selects_and_any_other_is_the_files() {
        let form = upload_form(
            "surveillance_use_policy",
            vec![
                json!({"field": "kind", "message": "not a document this step needs"}),
                json!({"field": "filename", "message": "must be a plain file name"}),
                json!({"field": "file", "message": "Council documents must be a PDF"}),
            ],
        );
        assert_eq!(
            form["field_errors"]["kind"],
            "not a document this step needs"
        );
        assert_eq!(
            form["field_errors"]["file"],
            "must be a plain file name; Council documents must be a PDF"
        );
        assert_eq!(form["errors"][1]["anchor"], "council-file");
        assert_eq!(form["v"]["kind"], "surveillance_use_policy");
    }
}
