//! The web console: server-rendered pages for buyers, vendors, analysts and the CIO office, served by the same
//! binary at `/`.
//!
//! Pages hold no rule of their own. Each page calls the JSON API in-process, as the signed-in person (the session's
//! principal travels in the request's extensions, see [`crate::auth::ConsolePrincipal`]), so the role checks,
//! scopes, input rules, planners, `If-Match` versions and audit trail are exactly those of the API; a page only
//! turns a form into the API's JSON and the API's answer (or its problem document, field by field) into HTML.
//!
//! Templates are compiled into the binary (`include_str!`) and escape everything by default; the one stylesheet
//! and the one small script are served from the binary too. The Content-Security-Policy of a console page allows
//! nothing inline: scripts, styles and forms from the service's own origin only, and no framing.

pub mod oidc;
pub mod session;

use bytes::Bytes;
use minijinja::Environment;
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response, Route, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use self::session::Session;
use crate::auth::{ConsolePrincipal, Role};
use crate::error::problem_from_poem_error;
use crate::store::Store;

/// The policy of every console page: its own stylesheet and script, forms posted to itself (the script's saves
/// too), nothing inline, never framed.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What the console needs: the API to call in-process, the templates, and how cookies are sent.
pub struct Console {
    api: BoxEndpoint<'static, Response>,
    env: Environment<'static>,
    /// Cookies get `Secure` (and the `__Host-` prefix) when the public URL is https.
    secure: bool,
    /// Staff sign-in through an OpenID Connect provider, when one is configured.
    oidc: Option<oidc::OidcSignIn>,
    /// The Content-Security-Policy of every page: [`PAGE_POLICY`], with the provider's origin allowed as a form
    /// target when one is configured (see [`Console::with_oidc`]).
    policy: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("macros.html", include_str!("templates/macros.html")),
        ("signin.html", include_str!("templates/signin.html")),
        ("message.html", include_str!("templates/message.html")),
        ("requests.html", include_str!("templates/requests.html")),
        (
            "request_form.html",
            include_str!("templates/request_form.html"),
        ),
        ("request.html", include_str!("templates/request.html")),
        ("inbox.html", include_str!("templates/inbox.html")),
        ("portal.html", include_str!("templates/portal.html")),
        ("assessment.html", include_str!("templates/assessment.html")),
        ("reviews.html", include_str!("templates/reviews.html")),
        ("review.html", include_str!("templates/review.html")),
        ("pager.html", include_str!("templates/pager.html")),
        ("audit.html", include_str!("templates/audit.html")),
        (
            "audit_verify.html",
            include_str!("templates/audit_verify.html"),
        ),
        ("registers.html", include_str!("templates/registers.html")),
        ("catalog.html", include_str!("templates/catalog.html")),
        (
            "catalog_form.html",
            include_str!("templates/catalog_form.html"),
        ),
        (
            "departments.html",
            include_str!("templates/departments.html"),
        ),
        ("vendors.html", include_str!("templates/vendors.html")),
        ("policy.html", include_str!("templates/policy.html")),
        (
            "department_form.html",
            include_str!("templates/department_form.html"),
        ),
        (
            "vendor_form.html",
            include_str!("templates/vendor_form.html"),
        ),
        (
            "policy_form.html",
            include_str!("templates/policy_form.html"),
        ),
        ("findings.html", include_str!("templates/findings.html")),
        ("finding.html", include_str!("templates/finding.html")),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("console template {name}: {e:#}"));
    }
    env.add_filter("money", |cents: i64| money(cents));
    env.add_filter("label", |code: String| label(&code));
    env
}

/// `$1,234.56` from cents.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let dollars = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{:02}", abs % 100)
}

/// A code as words: `cio_approval` -> `CIO approval`.
pub fn label(code: &str) -> String {
    let words: Vec<String> = code
        .split('_')
        .enumerate()
        .map(|(i, w)| match w {
            "cio" => "CIO".to_string(),
            "pi" => "PI".to_string(),
            "ma" => "MA".to_string(),
            "ct" => "CT".to_string(),
            "cjis" => "CJIS".to_string(),
            _ if i == 0 => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
            _ => w.to_string(),
        })
        .collect();
    words.join(" ")
}

/// Marks a console upload whose body was larger than `max_upload_bytes` (see `startup::cap_console_upload`): the
/// body was read and dropped, and the page answers 413 with the fault next to its file field, storing nothing.
#[derive(Clone, Copy, Debug)]
pub struct OversizedUpload {
    pub limit: usize,
}

/// The fault of a file over the upload limit of `limit` bytes, as the file field shows it.
pub fn too_large_fault(limit: usize) -> Value {
    json!({"field": "file", "message": format!("the file is larger than {}", file_size(limit))})
}

/// `10 MB`, `1.5 MB`, `4.1 kB`, `900 bytes`: a byte count in decimal units, as people read file sizes.
pub fn file_size(bytes: usize) -> String {
    let (value, unit) = match bytes {
        0..1_000 => return format!("{bytes} bytes"),
        1_000..1_000_000 => (bytes as f64 / 1_000.0, "kB"),
        _ => (bytes as f64 / 1_000_000.0, "MB"),
    };
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {unit}")
}

/// An answer of the API called in-process.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The faults an upload's problem document names (each `{field, message}`: a cell, a question, the file),
    /// or, when it names none, its detail as a fault of the file.
    pub fn upload_faults(&self) -> Vec<Value> {
        let problem = self.json();
        let mut errors = problem["errors"].as_array().cloned().unwrap_or_default();
        if errors.is_empty() {
            errors.push(json!({"field": "file", "message": problem["detail"]}));
        }
        errors
    }

    pub fn etag(&self) -> Option<String> {
        self.headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl Console {
    pub fn new(api: BoxEndpoint<'static, Response>, public_url: &str) -> Console {
        Console {
            api,
            env: environment(),
            secure: public_url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://")),
            oidc: None,
            policy: PAGE_POLICY.to_string(),
        }
    }

    /// Offers sign-in through `oidc` (when Some) on the sign-in page. The sign-out form of an OpenID Connect
    /// session is answered with a redirect to the provider, and browsers hold a form's redirects to the page's
    /// `form-action`: pages then allow the provider's origin there too.
    pub fn with_oidc(mut self, oidc: Option<oidc::OidcSignIn>) -> Console {
        self.policy = match &oidc {
            Some(o) => PAGE_POLICY.replace(
                "form-action 'self'",
                &format!("form-action 'self' {}", o.origin()),
            ),
            None => PAGE_POLICY.to_string(),
        };
        self.oidc = oidc;
        self
    }

    /// The sign-in page, with `context` and the identity provider's button when one is configured.
    pub fn signin(&self, status: StatusCode, mut context: Value) -> Response {
        if let Some(o) = &self.oidc {
            context["oidc_provider"] = json!(o.provider_name());
        }
        self.render(status, "signin.html", None, context)
    }

    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Calls the API as the session's principal.
    pub async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
        if_match: Option<&str>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri_str(path);
        if let Some(tag) = if_match {
            builder = builder.header(header::IF_MATCH, tag);
        }
        let req = match body {
            Some((bytes, content_type)) => builder
                .header(header::CONTENT_TYPE, content_type)
                .body(bytes),
            None => builder.finish(),
        };
        let mut req = req;
        req.extensions_mut()
            .insert(ConsolePrincipal(session.principal.clone()));
        let resp = match self.api.call(req).await {
            Ok(resp) => resp,
            Err(err) => problem_from_poem_error(err).into_response(),
        };
        let (parts, body) = resp.into_parts();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: body.into_bytes().await.unwrap_or_default(),
        }
    }

    pub async fn get(&self, session: &Session, path: &str) -> Answer {
        self.call(session, Method::GET, path, None, None).await
    }

    pub async fn send_json(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.call(
            session,
            method,
            path,
            Some((bytes, "application/json")),
            if_match,
        )
        .await
    }

    /// A form's change sent to the API as JSON on the version the form was read at (its `version` field), then
    /// on to `location` when the API made it, the refusal's page when it did not.
    pub async fn change(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: &Value,
        form: &Fields,
        location: &str,
    ) -> Response {
        let done = self
            .send_json(session, method, path, body, form.get("version"))
            .await;
        self.after(session, &done, location)
    }

    /// A change without a body (submit, withdraw), made on the version the form was read at.
    pub async fn transition(&self, session: &Session, path: &str, version: Option<&str>) -> Answer {
        self.call(session, Method::POST, path, None, version).await
    }

    /// After a change: on to `location` when the API made it, the refusal's page when it did not.
    pub fn after(&self, session: &Session, answer: &Answer, location: &str) -> Response {
        if answer.ok() {
            see_other(location)
        } else {
            self.refusal(session, answer)
        }
    }

    /// Renders `template` with `context` and what every page shows (who is signed in, the menu, the CSRF token).
    pub fn render(
        &self,
        status: StatusCode,
        template: &str,
        session: Option<&Session>,
        mut context: Value,
    ) -> Response {
        if let Some(s) = session {
            let role = s.role();
            context["me"] = json!({
                "subject": s.principal.subject,
                "role": role.map(|r| r.as_str()),
                "role_label": role.map(|r| label(r.as_str())),
                "department": s.principal.department,
                "csrf": s.record.csrf_token,
            });
            context["nav"] = Value::Array(
                menu(role)
                    .iter()
                    .map(|(href, text)| json!({"href": href, "label": text}))
                    .collect(),
            );
        }
        let html = self
            .env
            .get_template(template)
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&context))));
        match html {
            Ok(html) => html_response(status, html, &self.policy),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), template, "a console page failed to render");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><html lang=\"en\"><title>Error</title><h1>The page could not be shown</h1>"
                        .to_string(),
                    &self.policy,
                )
            }
        }
    }

    /// A page with one message: a refusal, a problem the API named, or a confirmation.
    pub fn message(
        &self,
        status: StatusCode,
        session: Option<&Session>,
        title: &str,
        text: &str,
        problems: &[Value],
    ) -> Response {
        self.render(
            status,
            "message.html",
            session,
            json!({"title": title, "text": text, "problems": problems}),
        )
    }

    /// The API's refusal as a page: its status, its detail and each field it named.
    pub fn refusal(&self, session: &Session, answer: &Answer) -> Response {
        let problem = answer.json();
        let status = if answer.status.is_success() {
            StatusCode::BAD_GATEWAY
        } else {
            answer.status
        };
        let title = match status.as_u16() {
            404 => "Not found",
            403 => "Not allowed",
            409 => "Not possible now",
            412 => "Changed by someone else",
            _ => "Not done",
        };
        let mut text = problem["detail"].as_str().unwrap_or("").to_string();
        if status == StatusCode::PRECONDITION_FAILED {
            text =
                "It changed since you opened the page. Go back, reload it, and try again.".into();
        }
        let problems = problem["errors"].as_array().cloned().unwrap_or_default();
        self.message(status, Some(session), title, &text, &problems)
    }
}

fn html_response(status: StatusCode, html: String, policy: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, policy)
        .body(html)
}

fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

/// Each role's pages, its main page first.
fn menu(role: Option<Role>) -> Vec<(&'static str, &'static str)> {
    match role {
        Some(Role::Buyer) => vec![
            ("/requests", "My department's requests"),
            ("/requests/new", "New request"),
        ],
        Some(Role::Vendor) => vec![("/portal", "My questionnaires")],
        Some(Role::SecurityAnalyst) => vec![
            ("/reviews", "Review queue"),
            ("/findings", "Findings"),
            ("/requests", "Requests"),
            ("/registers", "Registers"),
        ],
        Some(Role::Cio) => vec![
            ("/inbox", "Inbox"),
            ("/requests", "Requests"),
            ("/findings", "Findings"),
            ("/catalog", "Catalogue"),
            ("/registers", "Registers"),
        ],
        Some(Role::Finance) => vec![
            ("/inbox", "Inbox"),
            ("/requests", "Requests"),
            ("/registers", "Registers"),
        ],
        Some(Role::Admin) | Some(Role::Auditor) => vec![
            ("/requests", "Requests"),
            ("/audit", "Audit trail"),
            ("/registers", "Registers"),
            ("/catalog", "Catalogue"),
            ("/departments", "Departments"),
            ("/vendors", "Vendors"),
            ("/policy", "Policy versions"),
        ],
        None => vec![],
    }
}

fn home_of(role: Option<Role>) -> &'static str {
    menu(role).first().map(|(href, _)| *href).unwrap_or("/")
}

/// Answers `/` with the console's home page. The router cannot: the API is nested at `/`, and poem's router
/// gives an empty rest to the nest's catch-all before an exact `/`.
pub async fn root<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if req.uri().path() == "/" && (req.method() == Method::GET || req.method() == Method::HEAD) {
        return signin::home
            .call(req)
            .await
            .map(IntoResponse::into_response);
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Adds the console's pages to `route`, beside the API.
pub fn mount(route: Route) -> Route {
    route
        .at("/assets/console.css", get(signin::stylesheet))
        .at("/assets/console.js", get(signin::script))
        .at("/login", get(signin::login))
        .at("/login/oidc", get(signin::oidc_start))
        .at(oidc::CALLBACK_PATH, get(signin::oidc_callback))
        .at("/sign-out", post(signin::sign_out))
        .at("/portal/enter", get(signin::enter_portal))
        .at("/portal", get(portal::portal))
        .at("/portal/assessments/:id", get(portal::assessment_page))
        .at(
            "/portal/assessments/:id/answers",
            post(portal::save_answers),
        )
        .at(
            "/portal/assessments/:id/submit",
            post(portal::submit_assessment),
        )
        .at(
            "/portal/assessments/:id/evidence",
            post(portal::upload_evidence),
        )
        .at(
            "/portal/findings/:id/remediation",
            post(portal::plan_remediation),
        )
        .at(
            "/portal/assessments/:id/workbook",
            get(portal::download_workbook).post(portal::upload_workbook),
        )
        .at(
            "/requests",
            get(requests::requests_page).post(requests::create_request),
        )
        .at("/requests/new", get(requests::new_request))
        .at("/requests/:id", get(requests::request_page))
        .at("/requests/:id/submit", post(requests::request_transition))
        .at("/requests/:id/withdraw", post(requests::request_transition))
        .at(
            "/requests/:id/edit",
            get(requests::edit_request).post(requests::save_request),
        )
        .at("/requests/:id/exception", post(requests::ask_exception))
        .at("/requests/:id/invitations", post(invitations::invite))
        .at(
            "/requests/:id/invitations/:invitation/revoke",
            post(invitations::revoke),
        )
        .at("/requests/:id/decisions", post(requests::decide))
        .at(
            "/requests/:id/exception/decision",
            post(checks::decide_exception),
        )
        .at("/requests/:id/safeguards", post(checks::record_clause))
        .at("/requests/:id/council/vote", post(checks::record_vote))
        .at(
            "/requests/:id/council/documents",
            post(council::upload_document),
        )
        .at(
            "/requests/:id/council/documents/:document",
            get(council::download_document),
        )
        .at("/inbox", get(requests::inbox))
        .at("/reviews", get(reviews::reviews))
        .at("/findings", get(findings::findings))
        .at("/findings/:id", get(findings::finding_page))
        .at("/findings/:id/:action", post(findings::finding_action))
        .at(
            "/reviews/:id",
            get(reviews::review_page).post(reviews::review),
        )
        .at("/audit", get(admin::audit_page))
        .at("/audit/verify", get(admin::audit_verify))
        .at("/registers", get(admin::registers))
        .at("/registers/:name", get(admin::register_file))
        .at(
            "/catalog",
            get(admin::catalog).post(catalog::create_service),
        )
        .at("/catalog/new", get(catalog::new_service))
        .at(
            "/catalog/:id/edit",
            get(catalog::edit_service).post(catalog::save_service),
        )
        .at("/catalog/export.xlsx", get(admin::catalog_export))
        .at("/catalog/import", post(admin::catalog_import))
        .at(
            "/departments",
            get(admin::departments).post(registry::create_department),
        )
        .at("/departments/new", get(registry::new_department))
        .at(
            "/departments/:id/edit",
            get(registry::edit_department).post(registry::save_department),
        )
        .at(
            "/vendors",
            get(admin::vendors).post(registry::create_vendor),
        )
        .at("/vendors/new", get(registry::new_vendor))
        .at(
            "/vendors/:id/edit",
            get(registry::edit_vendor).post(registry::save_vendor),
        )
        .at("/policy", get(admin::policy_versions))
        .at(
            "/policy/edit",
            get(registry::edit_policy).post(registry::publish_policy),
        )
}

/// The live session of the request, or the page to answer instead: the sign-in page for none, a refusal for a
/// role that has no business here.
async fn require(
    req: &Request,
    console: &Console,
    store: &Store,
    roles: &[Role],
) -> Result<Session, Box<Response>> {
    let found = session::current(req, store, console.secure)
        .await
        .map_err(|e| Box::new(e.into_response()))?;
    let Some(session) = found else {
        return Err(Box::new(console.signin(
            StatusCode::UNAUTHORIZED,
            json!({"notice": "Sign in to see this page."}),
        )));
    };
    if !session.principal.roles.iter().any(|r| roles.contains(r)) {
        return Err(Box::new(console.message(
            StatusCode::FORBIDDEN,
            Some(&session),
            "Not for your role",
            "This page is for another role. Use the menu to find your own pages.",
            &[],
        )));
    }
    Ok(session)
}

/// Adds the keys of the object `extra` to the object `context` (a page's own context and what a caller adds: a
/// notice, the faults of a refused form).
fn merge(context: &mut Value, extra: &Value) {
    if let (Some(target), Some(extra)) = (context.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
}

/// A form's fields, in order.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A field with its surrounding white space removed; None when blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Refuses a form whose CSRF token is not the session's.
fn check_csrf(
    console: &Console,
    session: &Session,
    sent: Option<&str>,
) -> Result<(), Box<Response>> {
    if session.csrf_matches(sent) {
        Ok(())
    } else {
        Err(Box::new(console.message(
            StatusCode::FORBIDDEN,
            Some(session),
            "Form expired",
            "This form was not sent from your current session. Reload the page and try again.",
            &[],
        )))
    }
}

fn parse_id(console: &Console, session: &Session, raw: &str) -> Result<Uuid, Box<Response>> {
    Uuid::parse_str(raw).map_err(|_| {
        Box::new(console.message(
            StatusCode::NOT_FOUND,
            Some(session),
            "Not found",
            "There is no such page.",
            &[],
        ))
    })
}

macro_rules! attempt {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(resp) => return *resp,
        }
    };
}

mod admin;
mod catalog;
mod checks;
mod council;
mod findings;
mod invitations;
mod portal;
mod registry;
mod requests;
mod reviews;
mod signin;

pub use self::requests::cents;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_labels_read_as_people_write_them() {
        assert_eq!(money(6_000_000), "$60,000.00");
        assert_eq!(money(123_456_789), "$1,234,567.89");
        assert_eq!(money(5), "$0.05");
        assert_eq!(label("cio_approval"), "CIO approval");
        assert_eq!(label("security_review"), "Security review");
        assert_eq!(file_size(10_000_000), "10 MB");
        assert_eq!(file_size(1_500_000), "1.5 MB");
        assert_eq!(file_size(250_000), "250 kB");
        assert_eq!(file_size(4096), "4.1 kB");
        assert_eq!(file_size(900), "900 bytes");
    }

    #[test]
    fn every_template_compiles() {
        let env = environment();
        assert!(env.get_template("base.html").is_ok());
        assert!(env.templates().count() >= 20);
    }
}
