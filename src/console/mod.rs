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

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use minijinja::Environment;
use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderMap, Method, StatusCode, header};
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{Endpoint, IntoResponse, Request, Response, Route, get, handler, post};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use self::session::Session;
use crate::auth::{ConsolePrincipal, Role, Verifier};
use crate::error::problem_from_poem_error;
use crate::store::{Actor, Store};

/// The policy of every console page: its own stylesheet and script, forms posted to itself, nothing inline,
/// never framed.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

/// What the console needs: the API to call in-process, the templates, and how cookies are sent.
pub struct Console {
    api: BoxEndpoint<'static, Response>,
    env: Environment<'static>,
    /// Cookies get `Secure` (and the `__Host-` prefix) when the public URL is https.
    secure: bool,
    /// Staff sign-in through an OpenID Connect provider, when one is configured.
    oidc: Option<oidc::OidcSignIn>,
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
            "departments.html",
            include_str!("templates/departments.html"),
        ),
        ("vendors.html", include_str!("templates/vendors.html")),
        ("policy.html", include_str!("templates/policy.html")),
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
        }
    }

    /// Offers sign-in through `oidc` (when Some) on the sign-in page.
    pub fn with_oidc(mut self, oidc: Option<oidc::OidcSignIn>) -> Console {
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
            Ok(html) => html_response(status, html),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), template, "a console page failed to render");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><html lang=\"en\"><title>Error</title><h1>The page could not be shown</h1>"
                        .to_string(),
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

fn html_response(status: StatusCode, html: String) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, PAGE_POLICY)
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
            ("/requests", "Requests"),
            ("/registers", "Registers"),
        ],
        Some(Role::Cio) => vec![
            ("/inbox", "Inbox"),
            ("/requests", "Requests"),
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
        return home.call(req).await.map(IntoResponse::into_response);
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Adds the console's pages to `route`, beside the API.
pub fn mount(route: Route) -> Route {
    route
        .at("/assets/console.css", get(stylesheet))
        .at("/assets/console.js", get(script))
        .at("/login", get(login))
        .at("/login/oidc", get(oidc_start))
        .at(oidc::CALLBACK_PATH, get(oidc_callback))
        .at("/sign-out", post(sign_out))
        .at("/portal/enter", get(enter_portal))
        .at("/portal", get(portal))
        .at("/portal/assessments/:id", get(assessment_page))
        .at("/portal/assessments/:id/answers", post(save_answers))
        .at("/portal/assessments/:id/submit", post(submit_assessment))
        .at("/portal/assessments/:id/evidence", post(upload_evidence))
        .at("/portal/findings/:id/remediation", post(plan_remediation))
        .at(
            "/portal/assessments/:id/workbook",
            get(download_workbook).post(upload_workbook),
        )
        .at("/requests", get(requests_page).post(create_request))
        .at("/requests/new", get(new_request))
        .at("/requests/:id", get(request_page))
        .at("/requests/:id/submit", post(request_transition))
        .at("/requests/:id/withdraw", post(request_transition))
        .at("/requests/:id/edit", get(edit_request).post(save_request))
        .at("/requests/:id/exception", post(ask_exception))
        .at("/requests/:id/decisions", post(decide))
        .at("/inbox", get(inbox))
        .at("/reviews", get(reviews))
        .at("/reviews/:id", get(review_page).post(review))
        .at("/audit", get(admin::audit_page))
        .at("/audit/verify", get(admin::audit_verify))
        .at("/registers", get(admin::registers))
        .at("/registers/:name", get(admin::register_file))
        .at("/catalog", get(admin::catalog))
        .at("/catalog/export.xlsx", get(admin::catalog_export))
        .at("/catalog/import", post(admin::catalog_import))
        .at("/departments", get(admin::departments))
        .at("/vendors", get(admin::vendors))
        .at("/policy", get(admin::policy_versions))
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

#[handler]
async fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}

#[handler]
async fn script() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}

#[derive(Deserialize)]
struct HomeQuery {
    signed_out: Option<String>,
}

#[handler]
async fn home(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    query: Query<HomeQuery>,
) -> Response {
    match session::current(req, &store, console.secure).await {
        Ok(Some(s)) => see_other(home_of(s.role())),
        Ok(None) => console.signin(
            StatusCode::OK,
            json!({"signed_out": query.signed_out.is_some()}),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    code: Option<String>,
}

fn signed_in(console: &Console, cookie: &str, location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(
            header::SET_COOKIE,
            session::set_cookie(console.secure, Some(cookie), session::SESSION_HOURS * 3600),
        )
        .finish()
}

/// A one-time login link: used once, it opens a session and leaves the address bar for the role's main page.
#[handler]
async fn login(
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    query: Query<LoginQuery>,
) -> Response {
    let refused = |text: &str| console.signin(StatusCode::UNAUTHORIZED, json!({"notice": text}));
    let Some(code) = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 100)
    else {
        return refused("This sign-in link is incomplete.");
    };
    let (cookie, row) = session::new_session(
        &crate::auth::Principal {
            subject: String::new(),
            name: None,
            roles: vec![],
            department: None,
            vendor: None,
            invitation: None,
            grant: None,
        },
        "login_link",
        crate::domain::now() + chrono::Duration::hours(session::SESSION_HOURS),
    );
    match store.redeem_login_link(&session::hash(code), row).await {
        Ok(_) => signed_in(&console, &cookie, "/"),
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => refused(&e.to_string()),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct EnterQuery {
    token: Option<String>,
}

/// The vendor's invitation link: the token is checked as the API checks it, exchanged for a session, and the
/// browser is sent on to the portal so that the token leaves the address bar.
#[handler]
async fn enter_portal(
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    verifier: Data<&Arc<Verifier>>,
    query: Query<EnterQuery>,
) -> Response {
    let refused = |text: &str| console.signin(StatusCode::UNAUTHORIZED, json!({"notice": text}));
    let Some(token) = query.token.as_deref().filter(|t| !t.is_empty()) else {
        return refused("This invitation link is incomplete.");
    };
    let principal = match verifier.verify(token) {
        Ok(p) if p.invitation.is_some() => p,
        Ok(_) => return refused("This is not an invitation link."),
        Err(_) => return refused("This invitation link is not valid, or it has expired."),
    };
    let grant = match store
        .invitation_grant(principal.invitation.unwrap_or_default())
        .await
    {
        Ok(Some(g)) if Some(g.vendor) == principal.vendor => g,
        Ok(_) => {
            return refused(
                "This invitation has been revoked or has expired. Ask the city for a new one.",
            );
        }
        Err(e) => return e.into_response(),
    };
    let actor = Actor {
        subject: principal.subject.clone(),
        role: Role::Vendor.as_str().to_string(),
        request_id: None,
        invitation: Some(grant),
    };
    let (cookie, row) = session::new_session(
        &principal,
        "invitation",
        crate::domain::now() + chrono::Duration::hours(session::SESSION_HOURS),
    );
    match store.open_session(&actor, row).await {
        Ok(_) => signed_in(&console, &cookie, "/portal"),
        Err(e) => e.into_response(),
    }
}

/// Starts a sign-in through the identity provider: keeps the attempt, binds it to this browser with a short-lived
/// cookie, and sends the browser to the provider.
#[handler]
async fn oidc_start(console: Data<&Arc<Console>>, store: Data<&Store>) -> Response {
    let Some(provider) = &console.oidc else {
        return console.signin(
            StatusCode::NOT_FOUND,
            json!({"notice": "Sign-in through an identity provider is not set up on this service."}),
        );
    };
    let started = match provider.start().await {
        Ok(s) => s,
        Err(refusal) => return oidc_refused(&console, &refusal),
    };
    let browser = session::secret();
    let attempt = crate::store::NewOidcAttempt {
        state_hash: session::hash(&started.state),
        browser_hash: session::hash(&browser),
        nonce: started.nonce,
        pkce_verifier: started.pkce_verifier,
        expires_at: crate::domain::now() + chrono::Duration::minutes(oidc::ATTEMPT_MINUTES),
    };
    let actor = Actor {
        subject: "anonymous browser".into(),
        role: "system".into(),
        request_id: None,
        invitation: None,
    };
    if let Err(e) = store.start_oidc_attempt(&actor, attempt).await {
        return e.into_response();
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, started.url)
        .header(
            header::SET_COOKIE,
            oidc::browser_cookie(console.secure, Some(&browser)),
        )
        .finish()
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// A refused sign-in: the sign-in page with the reason and the status that fits, the binding cookie cleared, and
/// the reason logged (never a code, a token or the secret: `Refusal` holds none).
fn oidc_refused(console: &Console, refusal: &oidc::Refusal) -> Response {
    tracing::warn!(
        status = refusal.status,
        reason = %refusal.text,
        "an identity provider sign-in was refused"
    );
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    without_binding(
        console,
        console.signin(status, json!({"notice": refusal.text})),
    )
}

/// `page` with the cookie that bound a sign-in to the browser cleared: the sign-in is over either way.
fn without_binding(console: &Console, mut page: Response) -> Response {
    page.headers_mut().append(
        header::SET_COOKIE,
        oidc::browser_cookie(console.secure, None)
            .parse()
            .expect("a valid header value"),
    );
    page
}

/// The provider sends the browser back here: the attempt is taken once (its state, for this browser), the code
/// exchanged, the ID token verified and read, and the session opened; the browser goes on to the console's home, so
/// that the code leaves the address bar.
#[handler]
async fn oidc_callback(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    verifier: Data<&Arc<Verifier>>,
    query: Query<CallbackQuery>,
) -> Response {
    let refuse = |status: u16, text: &str| {
        oidc_refused(
            &console,
            &oidc::Refusal {
                status,
                text: text.to_string(),
            },
        )
    };
    let Some(provider) = &console.oidc else {
        return refuse(
            404,
            "Sign-in through an identity provider is not set up on this service.",
        );
    };
    let Some(state) = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 200)
    else {
        return refuse(
            400,
            "This sign-in answer carries no state. Start the sign-in again.",
        );
    };
    let browser = session::named_cookie(req, oidc::browser_cookie_name(console.secure));
    let attempt = match store
        .take_oidc_attempt(
            &session::hash(state),
            browser.as_deref().map(session::hash).as_deref(),
        )
        .await
    {
        Ok(a) => a,
        Err(e) if e.status() == StatusCode::BAD_REQUEST => {
            return refuse(
                400,
                &format!("Not signed in: {e}. Start the sign-in again."),
            );
        }
        Err(e) => return e.into_response(),
    };
    if let Some(error) = &query.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(60)
            .collect();
        return refuse(
            401,
            &format!("The identity provider did not sign you in ({error})."),
        );
    }
    let Some(code) = query.code.as_deref().filter(|c| !c.is_empty()) else {
        return refuse(
            400,
            "This sign-in answer carries no code. Start the sign-in again.",
        );
    };
    let who = match provider
        .finish(&verifier, code, &attempt.pkce_verifier, &attempt.nonce)
        .await
    {
        Ok(s) => s,
        Err(refusal) => return oidc_refused(&console, &refusal),
    };
    let principal = who.principal;
    let actor = Actor {
        subject: principal.subject.clone(),
        role: principal
            .roles
            .first()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        request_id: None,
        invitation: None,
    };
    let at = crate::domain::now();
    let (cookie, mut row) = session::new_session(
        &principal,
        "oidc",
        at + chrono::Duration::hours(session::SESSION_HOURS),
    );
    row.email = who.email.clone();
    let person = who.email.map(|email| crate::store::IdentityPerson {
        subject_key: principal.subject_key(),
        subject: principal.subject.clone(),
        name: principal.name.clone(),
        email,
        roles: row.roles.clone(),
        department: principal.department.clone(),
        last_signed_in: at,
    });
    if let Err(e) = store.open_identified_session(&actor, row, person).await {
        return e.into_response();
    }
    without_binding(&console, signed_in(&console, &cookie, "/"))
}

#[handler]
async fn sign_out(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, &Role::ALL).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    if let Err(e) = store
        .revoke_session(&session.actor(), session.record.id)
        .await
    {
        return e.into_response();
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/?signed_out=1")
        .header(
            header::SET_COOKIE,
            session::set_cookie(console.secure, None, 0),
        )
        .finish()
}

// ---------------------------------------------------------------------------------------------------------------
// Vendor portal

#[handler]
async fn portal(req: &Request, console: Data<&Arc<Console>>, store: Data<&Store>) -> Response {
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
fn sections(detail: &Value) -> Vec<Value> {
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
    if let (Some(target), Some(extra)) = (context.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    console.render(status, "assessment.html", Some(session), context)
}

#[handler]
async fn assessment_page(
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
async fn save_answers(
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
    for q in detail["questions"].as_array().into_iter().flatten() {
        let (Some(qid), Some(kind)) = (q["id"].as_str(), q["kind"].as_str()) else {
            continue;
        };
        if !q["applicable"].as_bool().unwrap_or(false) || kind == "file" {
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
async fn submit_assessment(
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
async fn download_workbook(
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
struct Upload {
    csrf: Option<String>,
    version: Option<String>,
    file: Option<Vec<u8>>,
    /// The file's name and type as the browser sent them.
    file_name: Option<String>,
    content_type: Option<String>,
    /// The question a piece of evidence supports, if one was chosen.
    question_id: Option<String>,
}

/// Reads an upload form, or answers with the page that says it could not be read.
async fn read_upload(
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
async fn upload_workbook(
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
async fn upload_evidence(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let session = attempt!(require(req, &console, &store, &[Role::Vendor]).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let upload = attempt!(read_upload(&console, &session, &mut multipart).await);
    attempt!(check_csrf(&console, &session, upload.csrf.as_deref()));
    let Some(file) = upload.file else {
        return render_assessment(
            &console,
            &session,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"evidence_errors": [{"field": "file", "message": "choose a file to upload"}]}),
        )
        .await;
    };
    let name = upload
        .file_name
        .as_deref()
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
        .filter(|n| !n.is_empty())
        .unwrap_or("evidence");
    let mut path = format!(
        "/api/v1/assessments/{id}/evidence?filename={}",
        admin::encode(name)
    );
    if let Some(q) = upload.question_id.as_deref().filter(|q| !q.is_empty()) {
        path = format!("{path}&question_id={}", admin::encode(q));
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
async fn plan_remediation(
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

// ---------------------------------------------------------------------------------------------------------------
// Requests: the buyer's form and list, the request page, decisions

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
const STAFF: &[Role] = &[
    Role::Buyer,
    Role::SecurityAnalyst,
    Role::Cio,
    Role::Finance,
    Role::Admin,
    Role::Auditor,
];

#[handler]
async fn requests_page(
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
async fn new_request(req: &Request, console: Data<&Arc<Console>>, store: Data<&Store>) -> Response {
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
async fn create_request(
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
async fn edit_request(
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
async fn save_request(
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
async fn ask_exception(
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
    let done = console
        .send_json(
            &session,
            Method::POST,
            &format!("/api/v1/requests/{id}/duplicates/exception"),
            &body,
            form.get("version"),
        )
        .await;
    console.after(&session, &done, &format!("/requests/{id}"))
}

#[handler]
async fn request_page(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    Path(id): Path<String>,
) -> Response {
    let session = attempt!(require(req, &console, &store, STAFF).await);
    let id = attempt!(parse_id(&console, &session, &id));
    let read = console
        .get(&session, &format!("/api/v1/requests/{id}"))
        .await;
    if !read.ok() {
        return console.refusal(&session, &read);
    }
    let request = read.json();
    let draft = request["status"].as_str() == Some("draft");
    // A draft shows the route it would get if submitted now; a submitted request the route it got.
    let (route, preview) = if draft {
        let p = console
            .get(&session, &format!("/api/v1/requests/{id}/preview"))
            .await;
        (Value::Null, if p.ok() { p.json() } else { Value::Null })
    } else {
        let r = console
            .get(&session, &format!("/api/v1/requests/{id}/route"))
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
                &session,
                &format!("/api/v1/requests/{id}/decisions?limit=200"),
            )
            .await;
        if d.ok() {
            d.json()["items"].clone()
        } else {
            Value::Null
        }
    };
    let actions: Vec<String> = request["allowed_actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    console.render(
        StatusCode::OK,
        "request.html",
        Some(&session),
        json!({
            "r": request,
            "etag": read.etag(),
            "route": route_steps,
            "preview": !preview.is_null(),
            "duplicates": preview.get("duplicates").cloned().unwrap_or(Value::Null),
            "actions": actions,
            "decidable": decidable,
            "decisions": decisions,
        }),
    )
}

#[handler]
async fn request_transition(
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
async fn decide(
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
    let done = console
        .send_json(
            &session,
            Method::POST,
            &format!("/api/v1/requests/{id}/decisions"),
            &body,
            form.get("version"),
        )
        .await;
    console.after(&session, &done, &format!("/requests/{id}"))
}

/// An RFC 3339 time of the API's.
fn parse_time(text: &str) -> Option<chrono::DateTime<Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[handler]
async fn inbox(req: &Request, console: Data<&Arc<Console>>, store: Data<&Store>) -> Response {
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

// ---------------------------------------------------------------------------------------------------------------
// Security analyst

#[handler]
async fn reviews(req: &Request, console: Data<&Arc<Console>>, store: Data<&Store>) -> Response {
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
async fn review_page(
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
        json!({"detail": detail, "sections": sections(&detail), "etag": answer.etag()}),
    )
}

#[handler]
async fn review(
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

    #[test]
    fn money_and_labels_read_as_people_write_them() {
        assert_eq!(money(6_000_000), "$60,000.00");
        assert_eq!(money(123_456_789), "$1,234,567.89");
        assert_eq!(money(5), "$0.05");
        assert_eq!(label("cio_approval"), "CIO approval");
        assert_eq!(label("security_review"), "Security review");
    }

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

    #[test]
    fn every_template_compiles() {
        let env = environment();
        assert!(env.get_template("base.html").is_ok());
        assert!(env.templates().count() >= 20);
    }
}
