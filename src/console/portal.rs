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

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether the answers form was sent by the page's script, which asks for JSON (`Accept: application/json`)
/// instead of a page.
fn from_script(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// An answer to the page's script: JSON, never cached.
fn script_answer(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string())
}

/// A refusal as the script reads it: the status and a sentence for its status region. A stale version says so
/// (`stale`): the script stops saving and asks the vendor to reload, so that nothing is overwritten.
fn script_refusal(status: StatusCode, detail: &str) -> Response {
    let message = match status.as_u16() {
        401 => "your session has ended. Sign in again (open your invitation link) and reload the page.".to_string(),
        403 => "this page is no longer valid for your session. Reload the page.".to_string(),
        412 => "someone else saved these answers since you opened the page. Reload the page to see them, \
                then give your change again."
            .to_string(),
        _ if !detail.is_empty() => detail.to_string(),
        _ => "the service did not take it. Reload the page and try again.".to_string(),
    };
    script_answer(
        status,
        json!({"saved": false, "stale": status == StatusCode::PRECONDITION_FAILED, "message": message}),
    )
}

/// What one save of the answers form came to.
enum Saved {
    /// The API refused the whole save (not found, not answerable now, a stale version, ...).
    Refused(super::Answer),
    /// Stored: the assessment's version now and the questions whose answers were sent.
    Stored {
        version: Option<String>,
        questions: Vec<String>,
    },
    /// Nothing to store (the form holds what is stored): the assessment's version as read.
    Unchanged { version: Option<String> },
    /// The API refused some answers (422): its problem, and the question of each `answers[i]` it names.
    Faults { problem: Value, asked: Vec<String> },
}

/// Saves the answers form through the API: each question the page shows (`shown`) whose answer or comment
/// differs from the stored one, on the version the form holds. `Err` is the page to answer before anything was
/// sent (no session, another role, a bad CSRF token or id).
async fn save_form(
    req: &Request,
    console: &Console,
    store: &Store,
    id: &str,
    form: &Fields,
) -> Result<(Session, Uuid, Saved), Box<Response>> {
    let session = require(req, console, store, &[Role::Vendor]).await?;
    check_csrf(console, &session, form.get("csrf"))?;
    let id = parse_id(console, &session, id)?;
    let current = console
        .get(&session, &format!("/api/v1/assessments/{id}"))
        .await;
    if !current.ok() {
        return Ok((session, id, Saved::Refused(current)));
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
    let tag = form.get("version").unwrap_or("").to_string();
    if answers.is_empty() {
        let unchanged = Saved::Unchanged {
            version: current.etag(),
        };
        return Ok((session, id, unchanged));
    }
    let saved = console
        .send_json(
            &session,
            Method::PUT,
            &format!("/api/v1/assessments/{id}/answers"),
            &json!({"answers": answers}),
            Some(&tag),
        )
        .await;
    let outcome = if saved.ok() {
        Saved::Stored {
            version: saved.etag(),
            questions: asked,
        }
    } else if saved.status == StatusCode::UNPROCESSABLE_ENTITY {
        Saved::Faults {
            problem: saved.json(),
            asked,
        }
    } else {
        Saved::Refused(saved)
    };
    Ok((session, id, outcome))
}

/// Each fault of a refused save with the question it concerns (the API names it by `answers[i]...`), or None for
/// a fault of the form as a whole.
fn faults_by_question(problem: &Value, asked: &[String]) -> Vec<(Option<String>, String, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let field = e["field"].as_str().unwrap_or("").to_string();
            let message = e["message"].as_str().unwrap_or("").to_string();
            let question = field
                .strip_prefix("answers[")
                .and_then(|rest| rest.split(']').next())
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| asked.get(i).cloned());
            (question, field, message)
        })
        .collect()
}

/// The answers form's save, by the Save button (a page: on to the assessment, or the form again with each fault
/// at its question) or by the page's script as the answers are given (`Accept: application/json`: the new version
/// and the questions saved, each fault with its question, or the refusal; see [`script_refusal`]). Both go through
/// [`save_form`], the same API call on the version the form holds.
#[handler]
pub(super) async fn save_answers(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    form: Form<Fields>,
) -> Response {
    let script = from_script(req);
    let (session, id, outcome) = match save_form(req, &console, &store, &id, &form).await {
        Ok(done) => done,
        Err(page) if script => return script_refusal(page.status(), ""),
        Err(page) => return *page,
    };
    if script {
        return match outcome {
            Saved::Refused(answer) => script_refusal(
                answer.status,
                answer.json()["detail"].as_str().unwrap_or(""),
            ),
            // Nothing to store, but on a version that is not the current one: the page is stale all the same, and
            // taking the new version would hide what someone else saved.
            Saved::Unchanged { version } if version.as_deref() != form.get("version") => {
                script_refusal(StatusCode::PRECONDITION_FAILED, "")
            }
            Saved::Unchanged { version } => script_answer(
                StatusCode::OK,
                json!({"saved": true, "version": version, "questions": [], "saved_at": now()}),
            ),
            Saved::Stored { version, questions } => script_answer(
                StatusCode::OK,
                json!({
                    "saved": true,
                    "version": version,
                    "questions": questions,
                    "saved_at": now(),
                }),
            ),
            Saved::Faults { problem, asked } => {
                let errors: Vec<Value> = faults_by_question(&problem, &asked)
                    .into_iter()
                    .map(|(question, field, message)| {
                        json!({"question_id": question, "field": field, "message": message})
                    })
                    .collect();
                script_answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"saved": false, "stale": false, "version": form.get("version"), "errors": errors}),
                )
            }
        };
    }
    match outcome {
        Saved::Stored { .. } | Saved::Unchanged { .. } => {
            see_other(&format!("/portal/assessments/{id}?saved=1"))
        }
        Saved::Refused(answer) => console.refusal(&session, &answer),
        Saved::Faults { problem, asked } => {
            // Each fault the API names by `answers[i]...` is shown at the question it concerns.
            let mut by_question = serde_json::Map::new();
            let mut listed = Vec::new();
            for (question, field, message) in faults_by_question(&problem, &asked) {
                match question {
                    Some(qid) => {
                        by_question.insert(qid.clone(), Value::String(message.clone()));
                        listed.push(
                            json!({"field": qid, "message": message, "anchor": format!("q-{qid}")}),
                        );
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
    }
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
    /// The fault of a file over the upload limit: the form was not read (or its file not kept), nothing is sent
    /// to the API, and the page shows this next to the file field with 413.
    pub(super) too_large: Option<Value>,
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

/// Reads an upload form, or answers with the page that says it could not be read. A form whose body was over the
/// upload limit (dropped at the door) or whose file is, is read as `too_large`, without its file.
pub(super) async fn read_upload(
    req: &Request,
    console: &Console,
    session: &Session,
    multipart: &mut Multipart,
) -> Result<Upload, Box<Response>> {
    let mut upload = Upload::default();
    if let Some(over) = req.extensions().get::<super::OversizedUpload>() {
        upload.too_large = Some(super::too_large_fault(over.limit));
        return Ok(upload);
    }
    let limit = req
        .data::<Arc<crate::config::Config>>()
        .map(|c| c.max_upload_bytes);
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
            Ok(None) => {
                if let Some(limit) = limit
                    && upload.file.as_ref().is_some_and(|f| f.len() > limit)
                {
                    upload.file = None;
                    upload.too_large = Some(super::too_large_fault(limit));
                }
                return Ok(upload);
            }
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

const TOO_LARGE_WORKBOOK: (StatusCode, &str) = (StatusCode::PAYLOAD_TOO_LARGE, "upload_errors");
const NO_WORKBOOK: (StatusCode, &str) = (StatusCode::UNPROCESSABLE_ENTITY, "upload_errors");
const TOO_LARGE_EVIDENCE: (StatusCode, &str) = (StatusCode::PAYLOAD_TOO_LARGE, "evidence_errors");
const NO_EVIDENCE: (StatusCode, &str) = (StatusCode::UNPROCESSABLE_ENTITY, "evidence_errors");

/// The assessment page again, with `status`, after an upload refused before it reached the API (a file over the
/// limit, none chosen), with `fault` shown as the `key` form's (`upload_errors`: the workbook's, `evidence_errors`).
async fn upload_refused(
    console: &Console,
    session: &Session,
    id: Uuid,
    (status, key): (StatusCode, &str),
    fault: Value,
) -> Response {
    render_assessment(console, session, id, status, json!({ key: [fault] })).await
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
        too_large,
        ..
    } = attempt!(read_upload(req, &console, &session, &mut multipart).await);
    if let Some(fault) = too_large {
        return upload_refused(&console, &session, id, TOO_LARGE_WORKBOOK, fault).await;
    }
    attempt!(check_csrf(&console, &session, csrf.as_deref()));
    let Some(file) = file else {
        let fault = json!({"field": "file", "message": "choose a workbook to upload"});
        return upload_refused(&console, &session, id, NO_WORKBOOK, fault).await;
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
    let mut upload = attempt!(read_upload(req, &console, &session, &mut multipart).await);
    if let Some(fault) = upload.too_large.take() {
        return upload_refused(&console, &session, id, TOO_LARGE_EVIDENCE, fault).await;
    }
    attempt!(check_csrf(&console, &session, upload.csrf.as_deref()));
    let Some(file) = upload.file.take() else {
        let fault = json!({"field": "file", "message": "choose a file to upload"});
        return upload_refused(&console, &session, id, NO_EVIDENCE, fault).await;
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
