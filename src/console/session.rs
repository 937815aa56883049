//! Console sign-in: one-time login links, the vendor's invitation exchange, server-side sessions found by the
//! SHA-256 of their cookie, and the CSRF token every form carries.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use poem::Request;
use poem::http::header;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{Principal, Role, Verifier};
use crate::error::ApiError;
use crate::store::{Actor, NewLoginLink, NewSession, SessionRecord, Store};

/// How long a session lasts from sign-in (an invitation's session ends sooner if the invitation does).
pub const SESSION_HOURS: i64 = 8;
/// How long a login link may wait to be used.
pub const LOGIN_LINK_MINUTES: i64 = 15;

/// A random secret, URL-safe: 32 bytes.
pub fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The cookie's name: `__Host-` prefixed when it is sent only over https (the browser then also refuses it from
/// a subdomain or another path).
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pr_session"
    } else {
        "pr_session"
    }
}

/// `Set-Cookie` for a new session (`value` Some) or for clearing it (None).
pub fn set_cookie(secure: bool, value: Option<&str>, max_age_seconds: i64) -> String {
    let mut cookie = match value {
        Some(v) => format!(
            "{}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}",
            cookie_name(secure)
        ),
        None => format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            cookie_name(secure)
        ),
    };
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The session cookie's value, if the browser sent one.
pub fn cookie_value(req: &Request, secure: bool) -> Option<String> {
    named_cookie(req, cookie_name(secure))
}

/// The value of the cookie `name`, if the browser sent one that is not empty.
pub fn named_cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A signed-in browser: its row and the principal the API sees for it.
#[derive(Debug, Clone)]
pub struct Session {
    pub record: SessionRecord,
    pub principal: Principal,
}

impl Session {
    pub fn role(&self) -> Option<Role> {
        self.principal.roles.first().copied()
    }

    pub fn actor(&self) -> Actor {
        Actor {
            subject: self.principal.subject.clone(),
            role: self
                .role()
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            request_id: None,
            invitation: None,
        }
    }

    /// Whether a form's `csrf` field is this session's token (compared without an early exit).
    pub fn csrf_matches(&self, sent: Option<&str>) -> bool {
        let Some(sent) = sent else { return false };
        let (a, b) = (sent.as_bytes(), self.record.csrf_token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

fn principal_of(record: &SessionRecord) -> Principal {
    Principal {
        subject: record.subject.clone(),
        name: record.name.clone(),
        roles: record
            .roles
            .split(' ')
            .filter_map(|role| Role::try_from(role).ok())
            .collect(),
        department: record.department.clone(),
        vendor: record.vendor_id,
        invitation: record.invitation_id,
        grant: None,
    }
}

/// The live session of the request's cookie: not revoked, not expired, and for a vendor, its invitation still
/// standing (a revoked or expired invitation ends the session there and then).
pub async fn current(
    req: &Request,
    store: &Store,
    secure: bool,
) -> Result<Option<Session>, ApiError> {
    let Some(value) = cookie_value(req, secure) else {
        return Ok(None);
    };
    let Some(record) = store.find_session(&hash(&value)).await? else {
        return Ok(None);
    };
    if record.revoked_at.is_some() || record.expires_at <= crate::domain::now() {
        return Ok(None);
    }
    if let Some(invitation) = record.invitation_id
        && store.invitation_grant(invitation).await?.is_none()
    {
        store.revoke_session(&Actor::system(), record.id).await?;
        return Ok(None);
    }
    let principal = principal_of(&record);
    Ok(Some(Session { record, principal }))
}

/// A new session's secrets: the cookie value (given to the browser once) and the row that keeps its hash.
pub fn new_session(
    principal: &Principal,
    method: &str,
    expires_at: DateTime<Utc>,
) -> (String, NewSession) {
    let cookie = secret();
    let roles: Vec<&str> = principal.roles.iter().map(|r| r.as_str()).collect();
    (
        cookie.clone(),
        NewSession {
            token_hash: hash(&cookie),
            csrf_token: secret(),
            subject: principal.subject.clone(),
            name: principal.name.clone(),
            roles: roles.join(" "),
            department: principal.department.clone(),
            vendor_id: principal.vendor,
            invitation_id: principal.invitation,
            method: method.to_string(),
            expires_at,
            email: None,
            id_token: None,
        },
    )
}

/// What `procurement-review login-link` asks for.
#[derive(Debug, Clone)]
pub struct LoginLinkRequest {
    pub role: Role,
    pub subject: String,
    pub department: Option<String>,
    pub vendor: Option<Uuid>,
}

/// Issues a one-time sign-in link (embedded mode only) and returns it: `{base}/login?code=...`.
pub async fn issue_login_link(
    store: &Store,
    verifier: &Verifier,
    base_url: &str,
    request: &LoginLinkRequest,
) -> anyhow::Result<String> {
    if verifier.uses_identity_provider() {
        anyhow::bail!(
            "this service signs staff in through an identity provider; login links are for embedded mode"
        );
    }
    if let Some(fault) = crate::domain::identity::subject_fault(&request.subject) {
        anyhow::bail!("--sub: {fault}");
    }
    match request.role {
        Role::Buyer if request.department.is_none() => {
            anyhow::bail!("a buyer's link needs --department")
        }
        Role::Vendor if request.vendor.is_none() => anyhow::bail!("a vendor's link needs --vendor"),
        _ => {}
    }
    let code = secret();
    let actor = Actor {
        subject: "procurement-review login-link".into(),
        role: "system".into(),
        request_id: None,
        invitation: None,
    };
    store
        .create_login_link(
            &actor,
            NewLoginLink {
                code_hash: hash(&code),
                subject: request.subject.clone(),
                role: request.role.as_str().to_string(),
                department: request.department.clone(),
                vendor_id: request.vendor,
                expires_at: crate::domain::now() + Duration::minutes(LOGIN_LINK_MINUTES),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!(
        "{}/login?code={code}",
        base_url.trim_end_matches('/')
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_only_behind_https() {
        let plain = set_cookie(false, Some("abc"), 60);
        assert_eq!(
            plain,
            "pr_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        let secure = set_cookie(true, Some("abc"), 60);
        assert!(secure.starts_with("__Host-pr_session=abc;"), "{secure}");
        assert!(secure.ends_with("; Secure"), "{secure}");
        assert!(set_cookie(false, None, 0).contains("Max-Age=0"));
    }

    #[test]
    fn the_cookie_is_read_by_its_own_name_only() {
        let req = Request::builder()
            .header(
                header::COOKIE,
                "other=1; pr_session=xyz; __Host-pr_session=sec",
            )
            .finish();
        assert_eq!(cookie_value(&req, false).as_deref(), Some("xyz"));
        assert_eq!(cookie_value(&req, true).as_deref(), Some("sec"));
        let none = Request::builder()
            .header(header::COOKIE, "pr_session=")
            .finish();
        assert_eq!(cookie_value(&none, false), None);
    }

    #[test]
    fn secrets_are_long_random_and_hashed_one_way() {
        let (a, b) = (secret(), secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
    }
}
