//! Storage: one API, one implementation per backend.
//!
//! The queries live once, in files each backend module includes with its own `Db` type, pool and transaction
//! opener: the SQL text (with `$N` placeholders, `RETURNING`, `ON CONFLICT`) serves both, while each backend
//! keeps native column types and its own migrations folder. Where the SQL must differ, the including module
//! defines a small macro (`for_update!`) that `concat!` splices in.
//!
//! `common.rs` (included at the backend's top level) holds the `Repo`, the audit append and the helpers every
//! write uses, and the instance's bootstrap. Each part of the domain is a file included as a submodule of the
//! backend (`mod registry_impl { use super::*; include!("registry.rs"); }`): `registry.rs` (departments,
//! vendors), `audit.rs` (the audit trail's reads, verification and checkpoints), `requests/`, `catalog.rs`,
//! `budgets.rs`, and so on. The records they read and write are in `records/`; `types.rs` reads the domain's
//! enums from their stored names.
//!
//! Every write runs in one transaction that also appends to the audit chain.

pub mod postgres;
pub mod sqlite;

mod records;
mod types;
pub use records::*;

use crate::domain::problems::ProblemCode;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use serde_json::Value;
use uuid::Uuid;

use crate::config::Secret;
use crate::domain::policy::Policy;
use crate::error::ApiError;
/// What the fan-out of notifications to the outbox needs that the store does not know: where to post, whom to
/// mail, how to link.
pub struct FanOut<'a> {
    pub webhook_urls: &'a [String],
    /// `None` while e-mail is off.
    pub mail: Option<crate::domain::mail::Mailboxes>,
    pub public_url: &'a str,
}

/// An open remediation order: id, vendor, department, due date, status.
pub type OpenOrder = (Uuid, Option<Uuid>, Option<String>, NaiveDate, String);

/// Who is acting, as recorded in the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub subject: String,
    pub role: String,
    pub request_id: Option<String>,
    /// When a vendor acts with an invitation token: the invitation, which each audit record names with the
    /// staff member who issued it.
    pub invitation: Option<crate::domain::invitations::InvitationGrant>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            subject: "system".into(),
            role: "system".into(),
            request_id: None,
            invitation: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DepartmentFilter {
    pub surveillance_ordinance: Option<bool>,
    /// Matches code or name, case-insensitively.
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct VendorFilter {
    pub q: Option<String>,
    pub hq_country: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// One page of a list and the total number of matches.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// A `LIKE` pattern matching `needle` anywhere, with the wildcards in it escaped (`ESCAPE '\'`).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `$1, $2, ..., $count`: the placeholders of an `IN (...)` list, written the same way on both backends.
pub(crate) fn placeholders(count: usize) -> String {
    placeholders_from(1, count)
}

/// `count` numbered parameters starting at `$first`, for a second or third list in one statement.
pub(crate) fn placeholders_from(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// For `.map_err(..)` on a write: a unique violation becomes [`ApiError::constraint`] with this code and the
/// detail `detail` writes; any other error passes through as an internal one.
pub(crate) fn unique_as(
    code: ProblemCode,
    detail: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> ApiError {
    move |err| {
        if is_unique_violation(&err) {
            ApiError::constraint(code, detail())
        } else {
            err.into()
        }
    }
}

#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::Repo),
    Postgres(postgres::Repo),
}

macro_rules! dispatch {
    ($self:expr, $repo:ident => $body:expr) => {
        match $self {
            Store::Sqlite($repo) => $body,
            Store::Postgres($repo) => $body,
        }
    };
}

/// Writes the `Store` methods that only pass their arguments on: for each signature given, with its doc comment
/// (`pub async fn name(&self, a: A) -> R;`), a method that calls the backend repository's method of the same name
/// inside a debug span named after it.
macro_rules! forward {
    ($($(#[$meta:meta])* pub async fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;)*) => {
        impl Store {
            $(
                $(#[$meta])*
                #[tracing::instrument(level = "debug", skip_all)]
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    dispatch!(self, r => r.$name($($arg),*).await)
                }
            )*
        }
    };
}

impl Store {
    /// Opens the database the URL names (`sqlite:` or `postgres:`), applying migrations on a dedicated
    /// connection first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open(url: &Secret, max_connections: u32) -> anyhow::Result<Store> {
        let url = url.expose();
        if url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .context("parsing the SQLite database URL")?;
            Ok(Store::Sqlite(
                sqlite::Repo::open(options, max_connections).await?,
            ))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = sqlx::postgres::PgConnectOptions::from_str(url)
                .context("parsing the PostgreSQL database URL")?;
            Ok(Store::Postgres(
                postgres::Repo::open(options, max_connections).await?,
            ))
        } else {
            bail!("the database URL must start with sqlite: or postgres://")
        }
    }

    /// The pool size when the configuration names none. On SQLite it is the reading pool (writes take one
    /// connection of their own): sqlx runs each SQLite connection on a thread of its own and a read is CPU work
    /// on that thread, so more readers than cores add memory (each connection's page cache, its thread and that
    /// thread's malloc arena) and no speed. The cores plus one: 3 on the 2-core machine measured, where 3 served
    /// the city bench's reads as fast as 10 and the server's peak fell from 132 MB to 95 MB (README,
    /// Performance). On PostgreSQL a connection is a server process that waits on the network as much as it
    /// works: 10.
    pub fn default_pool_size(url: &Secret) -> u32 {
        if url.expose().starts_with("sqlite:") {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            u32::try_from(cores).unwrap_or(u32::MAX).saturating_add(1)
        } else {
            10
        }
    }

    /// Opens a database that must already exist: the commands that mint tokens and sign-in links use it, so that
    /// run from the wrong directory they say so instead of creating a new database (and a signing key the service
    /// does not know). PostgreSQL refuses a missing database by itself.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_existing(url: &Secret, max_connections: u32) -> anyhow::Result<Store> {
        let text = url.expose();
        if text.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(text)
                .context("parsing the SQLite database URL")?;
            let file = options.get_filename();
            if file != Path::new(":memory:") && !file.exists() {
                let here = std::env::current_dir()
                    .map(|d| format!(" (looked in {})", d.display()))
                    .unwrap_or_default();
                bail!(
                    "there is no database at {}{here}: run this where the service runs, or set \
                     PROCUREMENT_REVIEW_DATABASE_URL to the service's database",
                    file.display()
                );
            }
        }
        Store::open(url, max_connections).await
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self) {
        dispatch!(self, r => r.pool.close().await)
    }

    /// Publishes `policy` over the current version `if_match` (the version the admin read).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn publish_policy(
        &self,
        actor: &Actor,
        if_match: i64,
        policy: Policy,
    ) -> Result<PolicyRecord, ApiError> {
        dispatch!(self, r => r.publish_policy_over(actor, if_match, policy).await)
    }
}

// The methods that only pass their arguments to the backend's repository, written by `forward!` (declared
// after the macros it uses).
mod forwarding;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern(" Ab%_c "), "%ab\\%\\_c%");
    }
}
