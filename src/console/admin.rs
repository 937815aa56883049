//! The admin's and auditor's pages: the audit trail and its verification, the registers to download, the service
//! catalogue (with its workbook export and import), departments, vendors and policy versions.
//!
//! As everywhere in the console, a page asks the API as the signed-in person and the API decides who may read
//! what: these pages are open to every staff session, and a role the API refuses sees the refusal, not the data.

use std::sync::Arc;

use poem::http::{Method, StatusCode, header};
use poem::web::{Data, Multipart, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::requests::STAFF;
use super::{Console, require};
use crate::store::Store;

/// Rows a list page shows at once (the API's largest page).
const PAGE: i64 = 200;

/// `text` as a query-string value: everything but the unreserved characters percent-encoded.
pub(super) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `name=value&...` of the pairs whose value is not blank.
fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The offsets of the previous and next pages of a list the API paged.
fn pager(page: &Value) -> Value {
    let offset = page["offset"].as_i64().unwrap_or(0);
    let limit = page["limit"].as_i64().unwrap_or(PAGE);
    json!({
        "total": page["total"],
        "from": if page["total"].as_i64().unwrap_or(0) == 0 { 0 } else { offset + 1 },
        "previous": (offset > 0).then(|| (offset - limit).max(0)),
        "next": page["next_offset"],
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Audit trail

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    object_type: Option<String>,
    object_id: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    /// Where the page starts: the API's `next_cursor` of the page before. A deep page of a long trail costs as
    /// little as the first.
    cursor: Option<String>,
    /// Rows a page, 1 to 200.
    limit: Option<i64>,
    /// Links made before the cursor (kept working): rows to skip.
    offset: Option<i64>,
}

#[handler]
pub async fn audit_page(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    query: Query<AuditQuery>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let filters = query_string(&[
        ("object_type", query.object_type.as_deref()),
        ("object_id", query.object_id.as_deref()),
        ("actor", query.actor.as_deref()),
        ("action", query.action.as_deref()),
    ]);
    let limit = query.limit.unwrap_or(PAGE).clamp(1, PAGE);
    let mut path = format!("/api/v1/audit?limit={limit}");
    match (&query.cursor, query.offset.unwrap_or(0).max(0)) {
        (Some(cursor), _) => path.push_str(&format!("&cursor={}", encode(cursor))),
        (None, offset) if offset > 0 => path.push_str(&format!("&offset={offset}")),
        _ => {}
    }
    if !filters.is_empty() {
        path = format!("{path}&{filters}");
    }
    let answer = console.get(&session, &path).await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let body = answer.json();
    let same = |extra: &str| {
        let mut link = format!("/audit?limit={limit}");
        if !filters.is_empty() {
            link = format!("{link}&{filters}");
        }
        format!("{link}{extra}")
    };
    let next = body["page"]["next_cursor"]
        .as_str()
        .map(|c| same(&format!("&cursor={}", encode(c))));
    let later_page = query.cursor.is_some() || query.offset.unwrap_or(0) > 0;
    console.render(
        StatusCode::OK,
        "audit.html",
        Some(&session),
        json!({
            "items": body["items"],
            "total": body["page"]["total"],
            "next": next,
            "first": later_page.then(|| same("")),
            "f": {
                "object_type": query.object_type,
                "object_id": query.object_id,
                "actor": query.actor,
                "action": query.action,
            },
        }),
    )
}

#[handler]
pub async fn audit_verify(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let answer = console.get(&session, "/api/v1/audit/verify").await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    console.render(
        StatusCode::OK,
        "audit_verify.html",
        Some(&session),
        json!({"report": answer.json()}),
    )
}

// ---------------------------------------------------------------------------------------------------------------
// Registers

/// The registers the API serves as xlsx, with what each lists.
const REGISTERS: [(&str, &str); 8] = [
    (
        "requests",
        "Requests: every request in your scope, its status, value and route",
    ),
    (
        "vendors",
        "Vendors: the vendor register and their next reviews",
    ),
    (
        "findings",
        "Findings: the security findings and their remediation",
    ),
    (
        "contracts",
        "Contracts: contracts, their terms and end dates",
    ),
    (
        "incidents",
        "Incidents: vendor incidents and their breach-notice deadlines",
    ),
    ("orders", "Remediation orders and their appeals"),
    ("budgets", "Budget lines and their approvals"),
    ("catalog", "The catalogue of central services"),
];

#[handler]
pub async fn registers(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let list: Vec<Value> = REGISTERS
        .iter()
        .map(|(name, text)| json!({"name": name, "text": text}))
        .collect();
    console.render(
        StatusCode::OK,
        "registers.html",
        Some(&session),
        json!({"registers": list}),
    )
}

/// A file the API answered, sent on to the browser with its type and name.
fn download(file: &super::Answer, content_type: &str) -> Response {
    let mut resp = Response::builder()
        .content_type(content_type)
        .body(file.body.clone());
    if let Some(disposition) = file.headers.get(header::CONTENT_DISPOSITION) {
        resp.headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition.clone());
    }
    resp
}

#[handler]
pub async fn register_file(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(name): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let Some((name, _)) = REGISTERS
        .iter()
        .find(|(n, _)| name.strip_suffix(".xlsx") == Some(*n))
    else {
        return console.message(
            StatusCode::NOT_FOUND,
            Some(&session),
            "Not found",
            "There is no such register.",
            &[],
        );
    };
    let file = console
        .get(&session, &format!("/api/v1/reports/{name}.xlsx"))
        .await;
    if !file.ok() {
        return console.refusal(&session, &file);
    }
    download(&file, crate::api::XLSX_CONTENT_TYPE)
}

// ---------------------------------------------------------------------------------------------------------------
// Catalogue

#[derive(Deserialize, Default)]
pub struct ListQuery {
    offset: Option<i64>,
    imported: Option<String>,
    /// An object (service, department, vendor) its form just `added` or `changed`.
    saved: Option<String>,
    /// The policy version an admin just published (the policy edit form's redirect).
    published: Option<u32>,
}

impl ListQuery {
    /// The notice after a form's redirect with `?saved=added` or `?saved=changed`, naming the kind of object.
    fn saved_notice(&self, what: &str) -> Option<String> {
        match self.saved.as_deref() {
            Some("added") if what == "service" => {
                Some("The service was added to the catalogue.".to_string())
            }
            Some("added") => Some(format!("The {what} was added.")),
            Some("changed") => Some(format!("The {what} was saved.")),
            _ => None,
        }
    }
}

async fn render_catalog(
    console: &Console,
    session: &super::Session,
    status: StatusCode,
    offset: i64,
    extra: Value,
) -> Response {
    let answer = console
        .get(
            session,
            &format!("/api/v1/catalog/services?limit={PAGE}&offset={offset}"),
        )
        .await;
    if !answer.ok() {
        return console.refusal(session, &answer);
    }
    let body = answer.json();
    let mut context = json!({
        "items": body["items"],
        "paging": pager(&body["page"]),
        "may_import": matches!(session.role(), Some(crate::auth::Role::Cio) | Some(crate::auth::Role::Admin)),
    });
    super::merge(&mut context, &extra);
    console.render(status, "catalog.html", Some(session), context)
}

#[handler]
pub async fn catalog(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    query: Query<ListQuery>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let saved = query.saved_notice("service");
    let notice = query.imported.as_deref().map(|n| {
        let (created, updated) = n.split_once('-').unwrap_or((n, "0"));
        format!(
            "The workbook was read: {} services added, {} replaced.",
            created.parse::<u32>().unwrap_or(0),
            updated.parse::<u32>().unwrap_or(0)
        )
    });
    render_catalog(
        &console,
        &session,
        StatusCode::OK,
        query.offset.unwrap_or(0).max(0),
        json!({"notice": notice.or(saved)}),
    )
    .await
}

#[handler]
pub async fn catalog_export(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let file = console
        .get(&session, "/api/v1/catalog/services/export.xlsx")
        .await;
    if !file.ok() {
        return console.refusal(&session, &file);
    }
    download(&file, crate::api::XLSX_CONTENT_TYPE)
}

#[handler]
pub async fn catalog_import(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    mut multipart: Multipart,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let upload =
        attempt!(super::portal::read_upload(req, &console, &session, &mut multipart).await);
    if let Some(fault) = upload.too_large {
        return render_catalog(
            &console,
            &session,
            StatusCode::PAYLOAD_TOO_LARGE,
            0,
            json!({"upload_errors": [fault]}),
        )
        .await;
    }
    attempt!(super::check_csrf(
        &console,
        &session,
        upload.csrf.as_deref()
    ));
    let Some(file) = upload.file else {
        return render_catalog(
            &console,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            json!({"upload_errors": [{"field": "file", "message": "choose a workbook to upload"}]}),
        )
        .await;
    };
    let read = console
        .call(
            &session,
            Method::POST,
            "/api/v1/catalog/services/import",
            Some((file, "application/octet-stream")),
            None,
        )
        .await;
    if read.ok() {
        let summary = read.json();
        return super::see_other(&format!(
            "/catalog?imported={}-{}",
            summary["created"].as_u64().unwrap_or(0),
            summary["updated"].as_u64().unwrap_or(0)
        ));
    }
    if read.status != StatusCode::UNPROCESSABLE_ENTITY && read.status != StatusCode::BAD_REQUEST {
        return console.refusal(&session, &read);
    }
    // Each cell the API names is shown in a table of cell and problem; nothing was stored.
    let errors = read.upload_faults();
    render_catalog(
        &console,
        &session,
        read.status,
        0,
        json!({"upload_errors": errors}),
    )
    .await
}

// ---------------------------------------------------------------------------------------------------------------
// Departments, vendors, policy versions: the lists (the admin's forms that change them are in `registry.rs`)

/// A list page: the API's page at `api` (with `limit` and `offset`) rendered by `template`.
async fn list_page(
    req: &Request,
    console: &Console,
    store: &Store,
    api: &str,
    offset: Option<i64>,
    template: &str,
    notice: Option<String>,
) -> Response {
    let session = attempt!(require(req, console, store, STAFF).await);
    let offset = offset.unwrap_or(0).max(0);
    let answer = console
        .get(&session, &format!("{api}?limit={PAGE}&offset={offset}"))
        .await;
    if !answer.ok() {
        return console.refusal(&session, &answer);
    }
    let body = answer.json();
    console.render(
        StatusCode::OK,
        template,
        Some(&session),
        json!({"items": body["items"], "paging": pager(&body["page"]), "notice": notice}),
    )
}

#[handler]
pub async fn departments(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    query: Query<ListQuery>,
) -> Response {
    list_page(
        req,
        &console,
        &store,
        "/api/v1/departments",
        query.offset,
        "departments.html",
        query.saved_notice("department"),
    )
    .await
}

#[handler]
pub async fn vendors(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    query: Query<ListQuery>,
) -> Response {
    list_page(
        req,
        &console,
        &store,
        "/api/v1/vendors",
        query.offset,
        "vendors.html",
        query.saved_notice("vendor"),
    )
    .await
}

#[handler]
pub async fn policy_versions(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    query: Query<ListQuery>,
) -> Response {
    list_page(
        req,
        &console,
        &store,
        "/api/v1/policy/versions",
        query.offset,
        "policy.html",
        query
            .published
            .map(|v| format!("Version {v} of the policy is published.")),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_reach_the_api_encoded_and_blank_ones_not_at_all() {
        assert_eq!(
            query_string(&[
                ("actor", Some("bea & co")),
                ("action", Some("  ")),
                ("object_type", None),
                ("object_id", Some("a/b?c=d")),
            ]),
            "actor=bea%20%26%20co&object_id=a%2Fb%3Fc%3Dd"
        );
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn the_pager_names_the_neighbouring_pages() {
        let p = pager(&json!({"total": 450, "limit": 200, "offset": 200, "next_offset": 400}));
        assert_eq!(p["previous"], 0);
        assert_eq!(p["next"], 400);
        assert_eq!(p["from"], 201);
        let first = pager(&json!({"total": 0, "limit": 200, "offset": 0, "next_offset": null}));
        assert!(first["previous"].is_null());
        assert_eq!(first["from"], 0);
    }
}
