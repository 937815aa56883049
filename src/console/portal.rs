//! The vendor portal: questionnaires to answer, workbooks and evidence to upload, remediation to plan.

use std::sync::Arc;

use poem::http::{Method, StatusCode, header};
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::session::Session;
use super::{Console, Fields, check_csrf, parse_id, require, see_other};
use crate::auth::Role;
use crate::store::Store;

#[handler]
pub(super) async fn portal(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    let answer = console.get(&session, "/api/v1/assessments?limit=200").await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let mut items = answer.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    items.sort_by(|a, b| a["due_date"].as_str().cmp(&b["due_date"].as_str()));
    console.render(
        StatusCode::OK,
        "portal.html",
        Some(&session),
        json!({"items": items}),
    )
}

#[derive(Deserialize, Default)]
struct Notice {
    saved: Option<String>,
    submitted: Option<String>,
    uploaded: Option<String>,
    evidence: Option<String>,
    planned: Option<String>,
}

/// The questions of an assessment grouped by section, each with its input's name.
pub(super) fn sections(detail: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for q in detail["questions"].as_array().into_iter().flatten() {
        let section = q["section"].as_str().unwrap_or("").to_string();
        if out
            .last()
            .map(|s| s["title"].as_str() != Some(&section))
            .unwrap_or(true)
        {
            out.push(json!({"title": section, "questions": []}));
        }
        if let Some(last) = out.last_mut()
            && let Some(list) = last["questions"].as_array_mut()
        {
            list.push(q.clone());
        }
    }
    out
}

async fn render_assessment(
    console: &Console,
    session: &Session,
    id: Uuid,
    status: StatusCode,
    extra: Value,
) -> Response {
    let answer = console
        .get(session, &format!("/api/v1/assessments/{id}"))
        .await;
    if !answer.ok() {
        return console.refusal(session, &answer);
    }
    let detail = answer.json();
    let findings = console
        .get(
            session,
            &format!("/api/v1/findings?assessment_id={id}&limit=200"),
        )
        .await;
    let findings = if findings.ok() {
        findings.json()["items"].clone()
    } else {
        Value::Null
    };
    let file_questions: Vec<Value> = detail["questions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|q| q["kind"] == "file" && q["applicable"] == true)
        .map(|q| json!({"id": q["id"], "text": q["text"]}))
        .collect();
    let mut context = json!({
        "detail": detail,
        "findings": findings,
        "file_questions": file_questions,
        "sections": sections(&detail),
        "etag": answer.etag(),
        "answerable": matches!(detail["assessment"]["status"].as_str(), Some("open") | Some("returned")),
    });
    super::merge(&mut context, &extra);
    console.render(status, "assessment.html", Some(session), context)
}

#[handler]
pub(super) async fn assessment_page(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    notice: Query<Notice>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let notice = match (&notice.saved, &notice.submitted, &notice.uploaded) {
        (Some(_), _, _) => Some("Your answers are saved.".to_string()),
        (_, Some(_), _) => {
            Some("Submitted for review. The city's analyst will read it next.".to_string())
        }
        (_, _, Some(n)) => Some(format!(
            "The workbook was read: {} answers stored.",
            n.parse::<u32>().unwrap_or(0)
        )),
        _ if notice.evidence.is_some() => Some("The evidence file is stored.".to_string()),
        _ if notice.planned.is_some() => Some("Your remediation plan is recorded.".to_string()),
        _ => None,
    };
    render_assessment(
        &console,
        &session,
        id,
        StatusCode::OK,
        json!({"notice": notice}),
    )
    .await
}

/// A form answer as the API's JSON value for a question of `kind`.
fn answer_value(kind: &str, values: &[&str]) -> Option<Value> {
    let first = values.first().map(|v| v.trim()).filter(|v| !v.is_empty());
    match kind {
        "multiple_choice" => {
            let picked: Vec<Value> = values
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| Value::String(v.to_string()))
                .collect();
            (!picked.is_empty()).then_some(Value::Array(picked))
        }
        "number" => first.map(|v| match v.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => match v.parse::<f64>() {
                Ok(f) => json!(f),
                // The API names what is wrong with it.
                Err(_) => Value::String(v.to_string()),
            },
        }),
        _ => first.map(|v| Value::String(v.to_string())),
    }
}

#[handler]
pub(super) async fn save_answers(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let current = console
        .get(&session, &format!("/api/v1/assessments/{id}"))
        .await;
    if !current.ok() {
        return console.refusal(&session, &current);
    }
    let detail = current.json();
    let mut answers = Vec::new();
    let mut asked = Vec::new();
    // The page names the questions it shows in `shown` fields: those asked given the stored answers, and, with the
    // page's script, those its answers ask before they are saved (the script shows and hides questions as the
    // answers change, and a hidden question's fields, `shown` too, are disabled). A form without them (an older
    // page) is read as showing the questions asked given the stored answers. A question the page does not show is
    // left as stored; the API refuses an answer to a question its request's answers do not ask.
    let shown = form.all("shown");
    for q in detail["questions"].as_array().into_iter().flatten() {
        let (Some(qid), Some(kind)) = (q["id"].as_str(), q["kind"].as_str()) else {
            continue;
        };
        let on_page = if shown.is_empty() {
            q["applicable"].as_bool().unwrap_or(false)
        } else {
            shown.contains(&qid)
        };
        if !on_page || kind == "file" {
            continue;
        }
        let value = answer_value(kind, &form.all(&format!("a.{qid}")));
        let comment = form.text(&format!("c.{qid}")).map(str::to_string);
        let had = !q["answer"].is_null();
        if value.is_none() && !had {
            continue;
        }
        if value.as_ref() == Some(&q["answer"]) && comment.as_deref() == q["comment"].as_str() {
            continue;
        }
        let mut entry = json!({"question_id": qid, "value": value});
        if value.is_some()
            && let Some(c) = comment
        {
            entry["comment"] = Value::String(c);
        }
        if value.is_some()
            && let Some(r) = q["evidence_ref"].as_str()
        {
            entry["evidence_ref"] = Value::String(r.to_string());
        }
        asked.push(qid.to_string());
        answers.push(entry);
    }
    if answers.is_empty() {
        return see_other(&format!("/portal/assessments/{id}?saved=1"));
    }
    let tag = form.get("version").unwrap_or("").to_string();
    let saved = console
        .send_json(
            &session,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/answers"),
            &json!({"answers": answers}),
            Some(&tag),
        )
        .await;
    if saved.ok() {
        return see_other(&format!("/portal/assessments/{id}?saved=1"));
    }
    if saved.status != StatusCode::UNPROCESSABLE_ENTITY {
        return console.refusal(&session, &saved);
    }
    // Each fault the API names by `answers[i]...` is shown at the question it concerns.
    let problem = saved.json();
    let mut by_question = serde_json::Map::new();
    let mut listed = Vec::new();
    for e in problem["errors"].as_array().into_iter().flatten() {
        let field = e["field"].as_str().unwrap_or("");
        let message = e["message"].as_str().unwrap_or("").to_string();
        let question = field
            .strip_prefix("answers[")
            .and_then(|rest| rest.split(']').next())
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| asked.get(i).cloned());
        match question {
            Some(qid) => {
                by_question.insert(qid.clone(), Value::String(message.clone()));
                listed
                    .push(json!({"field": qid, "message": message, "anchor": format!("q-{qid}")}));
            }
            None => listed.push(json!({"field": field, "message": message})),
        }
    }
    render_assessment(
        &console,
        &session,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({"errors": listed, "question_errors": by_question, "sent": form_values(&form)}),
    )
    .await
}

/// What the vendor sent, so that a refused form shows it again instead of the stored answers.
fn form_values(form: &Fields) -> Value {
    let mut map = serde_json::Map::new();
    for (k, v) in &form.0 {
        let entry = map.entry(k.clone()).or_insert_with(|| Value::Array(vec![]));
        if let Some(list) = entry.as_array_mut() {
            list.push(Value::String(v.clone()));
        }
    }
    Value::Object(map)
}

#[handler]
pub(super) async fn submit_assessment(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let done = console
        .transition(
            &session,
            &format!("/api/v1/assessments/{id}/submit"),
            form.get("version"),
        )
        .await;
    console.after(
        &session,
        &done,
        &format!("/portal/assessments/{id}?submitted=1"),
    )
}

#[handler]
pub(super) async fn download_workbook(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let file = console
        .get(&session, &format!("/api/v1/assessments/{id}/workbook"))
        .await;
    if !file.ok() {
        return console.refusal(&session, &file);
    }
    let mut resp = Response::builder()
        .content_type(crate::api::XLSX_CONTENT_TYPE)
        .body(file.body.clone());
    if let Some(disposition) = file.headers.get(header::CONTENT_DISPOSITION) {
        resp.headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition.clone());
    }
    resp
}

/// An upload form's fields: its CSRF token, the version it was read at, and the file (None when none was chosen).
#[derive(Default)]
pub(super) struct Upload {
    pub(super) csrf: Option<String>,
    version: Option<String>,
    pub(super) file: Option<Vec<u8>>,
    /// The file's name and type as the browser sent them.
    file_name: Option<String>,
    pub(super) content_type: Option<String>,
    /// The question a piece of evidence supports, if one was chosen.
    question_id: Option<String>,
    /// The kind of document chosen (a Council document's).
    pub(super) kind: Option<String>,
}

impl Upload {
    /// The file's own name as the browser sent it, without any folder, or `fallback` when it sent none.
    pub(super) fn plain_name<'a>(&'a self, fallback: &'a str) -> &'a str {
        self.file_name
            .as_deref()
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
            .filter(|n| !n.is_empty())
            .unwrap_or(fallback)
    }
}

/// Reads an upload form, or answers with the page that says it could not be read.
pub(super) async fn read_upload(
    console: &Console,
    session: &Session,
    multipart: &mut Multipart,
) -> Result<Upload, Box<Response>> {
    let mut upload = Upload::default();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name().unwrap_or("") {
                "csrf" => upload.csrf = field.text().await.ok(),
                "version" => upload.version = field.text().await.ok(),
                "question_id" => upload.question_id = field.text().await.ok(),
                "kind" => upload.kind = field.text().await.ok(),
                "file" => {
                    upload.file_name = field.file_name().map(str::to_string);
                    upload.content_type = field.content_type().map(str::to_string);
                    upload.file = field.bytes().await.ok().filter(|f| !f.is_empty());
                }
                _ => {}
            },
            Ok(None) => return Ok(upload),
            Err(_) => {
                return Err(Box::new(console.message(
                    StatusCode::BAD_REQUEST,
                    Some(session),
                    "Upload not read",
                    "The upload could not be read. Choose the file again and send it.",
                    &[],
                )));
            }
        }
    }
}

#[handler]
pub(super) async fn upload_workbook(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let Upload {
        csrf,
        version,
        file,
        ..
    } = attempt!(read_upload(&console, &session, &mut multipart).await);
    attempt!(check_csrf(&console, &session, csrf.as_deref()));
    let Some(file) = file else {
        return render_assessment(
            &console,
            &session,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"upload_errors": [{"field": "file", "message": "choose a workbook to upload"}]}),
        )
        .await;
    };
    let read = console
        .call(
            &session,
            Method::POST,
            &format!("/api/v1/assessments/{id}/workbook"),
            Some((file, "application/octet-stream")),
            version.as_deref(),
        )
        .await;
    if read.ok() {
        let result = read.json();
        let stored = result["answers_imported"]
            .as_u64()
            .or_else(|| result["imported"].as_u64())
            .unwrap_or(0);
        return see_other(&format!("/portal/assessments/{id}?uploaded={stored}"));
    }
    if read.status == StatusCode::PRECONDITION_FAILED || read.status == StatusCode::NOT_FOUND {
        return console.refusal(&session, &read);
    }
    let errors = read.upload_faults();
    render_assessment(
        &console,
        &session,
        id,
        read.status,
        json!({"upload_errors": errors}),
    )
    .await
}

/// The vendor uploads a piece of evidence; the API judges the file by its bytes and stores it with its SHA-256.
#[handler]
pub(super) async fn upload_evidence(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let mut upload = attempt!(read_upload(&console, &session, &mut multipart).await);
    attempt!(check_csrf(&console, &session, upload.csrf.as_deref()));
    let Some(file) = upload.file.take() else {
        return render_assessment(
            &console,
            &session,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"evidence_errors": [{"field": "file", "message": "choose a file to upload"}]}),
        )
        .await;
    };
    let name = upload.plain_name("evidence");
    let mut path = format!(
        "/api/v1/assessments/{id}/evidence?filename={}",
        super::admin::encode(name)
    );
    if let Some(q) = upload.question_id.as_deref().filter(|q| !q.is_empty()) {
        path = format!("{path}&question_id={}", super::admin::encode(q));
    }
    let content_type = upload
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    let stored = console
        .call(
            &session,
            Method::POST,
            &path,
            Some((file, content_type)),
            upload.version.as_deref(),
        )
        .await;
    if stored.ok() {
        // Evidence for a question answers it, on the version the upload moved the assessment to.
        if let Some(q) = upload.question_id.as_deref().filter(|q| !q.is_empty()) {
            let evidence = stored.json()["id"].clone();
            let answered = console
                .send_json(
                    &session,
                    Method::PUT,
                    &format!("/api/v1/assessments/{id}/answers"),
                    &json!({"answers": [{"question_id": q, "value": {"evidence_id": evidence}}]}),
                    stored.etag().as_deref(),
                )
                .await;
            if !answered.ok() {
                return console.refusal(&session, &answered);
            }
        }
        return see_other(&format!("/portal/assessments/{id}?evidence=1"));
    }
    if matches!(stored.status.as_u16(), 403 | 404 | 409 | 412 | 428) {
        return console.refusal(&session, &stored);
    }
    let errors = stored.upload_faults();
    render_assessment(
        &console,
        &session,
        id,
        stored.status,
        json!({"evidence_errors": errors}),
    )
    .await
}

/// The vendor plans the remediation of one of its findings: the plan and its due date, on the finding's version
/// the page showed.
#[handler]
pub(super) async fn plan_remediation(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id = attempt!(parse_id(&console, &session, &id));
    let assessment = attempt!(parse_id(
        &console,
        &session,
        form.get("assessment").unwrap_or("")
    ));
    let body = json!({
        "plan": form.get("plan").unwrap_or(""),
        "due_date": form.get("due_date").unwrap_or(""),
    });
    let done = console
        .send_json(
            &session,
            Method::POST,
            &format!("/api/v1/findings/{id}/remediation"),
            &body,
            form.get("version"),
        )
        .await;
    console.after(
        &session,
        &done,
        &format!("/portal/assessments/{assessment}?planned=1#findings-title"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_answers_take_the_json_type_of_their_question() {
        assert_eq!(answer_value("yes_no", &["yes"]), Some(json!("yes")));
        assert_eq!(answer_value("yes_no", &[""]), None);
        assert_eq!(answer_value("number", &["42"]), Some(json!(42)));
        assert_eq!(answer_value("number", &["4.5"]), Some(json!(4.5)));
        assert_eq!(answer_value("number", &["lots"]), Some(json!("lots")));
        assert_eq!(
            answer_value("multiple_choice", &["A", "B"]),
            Some(json!(["A", "B"]))
        );
        assert_eq!(answer_value("multiple_choice", &[]), None);
    }
}
