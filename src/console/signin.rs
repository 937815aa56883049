//! Static assets, the home page, and signing in and out: one-time login links, vendor invitation links, OpenID Connect.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use serde_json::json;
use strum::VariantArray;

use super::{Console, Fields, check_csrf, home_of, oidc, require, see_other, session};
use crate::auth::{Role, Verifier};
use crate::store::{Actor, Store};

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

#[handler]
pub(super) async fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}

#[handler]
pub(super) async fn script() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}

#[derive(Deserialize)]
struct HomeQuery {
    signed_out: Option<String>,
}

#[handler]
pub(super) async fn home(
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
pub(super) async fn login(
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
pub(super) async fn enter_portal(
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
pub(super) async fn oidc_start(console: Data<&Arc<Console>>, store: Data<&Store>) -> Response {
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
pub(super) async fn oidc_callback(
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
    row.id_token = Some(who.id_token);
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

/// Ends the session (and, for one the identity provider opened, sends the browser to sign out there too).
#[handler]
pub(super) async fn sign_out(
    req: &Request,
    console: Data<&Arc<Console>>,
    store: Data<&Store>,
    form: Form<Fields>,
) -> Response {
    let session = attempt!(require(req, &console, &store, Role::VARIANTS).await);
    attempt!(check_csrf(&console, &session, form.get("csrf")));
    let id_token = match store
        .revoke_session(&session.actor(), session.record.id)
        .await
    {
        Ok(token) => token,
        Err(e) => return e.into_response(),
    };
    // A session the identity provider opened ends there too when the provider says where (RP-Initiated Logout):
    // the provider sends the browser back to `/?signed_out=1`. Otherwise, or when the provider cannot be reached,
    // the browser goes there at once.
    let mut location = oidc::SIGNED_OUT_PATH.to_string();
    if let (Some(provider), Some(token)) = (&console.oidc, &id_token)
        && let Some(url) = provider.end_session(token).await
    {
        location = url;
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(
            header::SET_COOKIE,
            session::set_cookie(console.secure, None, 0),
        )
        .finish()
}
