//! Console sign-in: one-time login links, sessions, OpenID Connect attempts and the people who signed in
//! through the identity provider.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::Secret;

/// A one-time console sign-in link (`procurement-review login-link`): who it signs in, until when, and whether it
/// was used. The code itself is never stored, only its SHA-256.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct LoginLinkRecord {
    pub id: Uuid,
    #[serde(skip)]
    pub code_hash: String,
    pub subject: String,
    pub role: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A console session: a row per signed-in browser, found by the SHA-256 of its cookie. Roles are kept space
/// separated, as the token claims them.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: Uuid,
    #[serde(skip)]
    pub token_hash: String,
    #[serde(skip)]
    pub csrf_token: String,
    pub subject: String,
    pub name: Option<String>,
    pub roles: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub invitation_id: Option<Uuid>,
    pub method: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The address the identity provider gave (OpenID Connect sessions only).
    pub email: Option<String>,
}

/// What a new session is opened with.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub subject: String,
    pub name: Option<String>,
    pub roles: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub invitation_id: Option<Uuid>,
    pub method: String,
    pub expires_at: DateTime<Utc>,
    pub email: Option<String>,
    /// The ID token the identity provider issued (OpenID Connect sessions only), for signing out there too.
    pub id_token: Option<Secret>,
}

/// An OpenID Connect sign-in under way: the `state` sent to the provider (its SHA-256), the browser that started
/// it (the SHA-256 of its cookie), and what the callback checks the provider's answer with. Used once.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct OidcAttemptRecord {
    pub id: Uuid,
    #[serde(skip)]
    pub state_hash: String,
    #[serde(skip)]
    pub browser_hash: String,
    #[serde(skip)]
    pub nonce: String,
    #[serde(skip)]
    pub pkce_verifier: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// What a new OpenID Connect sign-in is started with.
#[derive(Debug, Clone)]
pub struct NewOidcAttempt {
    pub state_hash: String,
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub expires_at: DateTime<Utc>,
}

/// Someone who signed in through the identity provider and gave an address, as of their last sign-in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct IdentityPerson {
    pub subject_key: String,
    pub subject: String,
    pub name: Option<String>,
    pub email: String,
    /// Space separated, as on a session.
    pub roles: String,
    pub department: Option<String>,
    pub last_signed_in: DateTime<Utc>,
}

/// What a new login link is issued with.
#[derive(Debug, Clone)]
pub struct NewLoginLink {
    pub code_hash: String,
    pub subject: String,
    pub role: String,
    pub department: Option<String>,
    pub vendor_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
}
