// The storage implementation shared by both backends. Included by `sqlite.rs` and `postgres.rs`, which
// provide `Db`, `Pool`, `begin` and the `for_update!` macro. Keep the SQL portable: `$N` placeholders,
// `RETURNING`, `ON CONFLICT`, `lower(..) LIKE .. ESCAPE`, no backend-specific functions.
//
// This file holds what every part of the store shares (the `Repo`, the audit append, `lock`,
// `check_version`, `commit_audited`, the list `Conditions`) and the instance's bootstrap (seeded
// departments, default policy, token secret) and policy publishing. The parts are submodules of each
// backend, included the same way: the registry (departments, vendors) in registry.rs, the audit trail's
// reads and verification in audit.rs, requests in requests/, and so on.

use sqlx::types::Json;
use uuid::Uuid;

use crate::config::Secret;
use crate::domain::audit::{AuditEntry, chain_hash};
use crate::domain::now;
use crate::domain::registry::{Department, ORDINANCE_BODIES};
use crate::error::{ApiError, ProblemCode};
use crate::store::{Actor, to_json};

#[derive(Clone)]
pub struct Repo {
    /// Reads, each statement or read transaction on a connection of its own.
    pub pool: Pool,
    /// Write transactions (see `begin`): on SQLite one connection, so writers queue in order; on PostgreSQL
    /// the same pool as reads.
    writer: Pool,
}

type Tx = sqlx::Transaction<'static, Db>;

/// Appends one record to the audit chain inside the caller's transaction. Updating the head row first takes
/// its lock, so concurrent appenders queue instead of forking the chain.
async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), ApiError> {
    let (seq, prev_hash): (i64, String) = sqlx::query_as(
        "UPDATE audit_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .fetch_one(&mut **tx)
    .await?;
    let at = now();
    let context = actor.invitation.as_ref().map(|grant| grant.audit_context());
    let entry = AuditEntry {
        at,
        actor: &actor.subject,
        role: &actor.role,
        action,
        object_type,
        object_id,
        before: before.as_ref(),
        after: after.as_ref(),
        request_id: actor.request_id.as_deref(),
        context: context.as_ref(),
    };
    let hash = chain_hash(seq, &prev_hash, &entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, role, action, object_type, object_id, before, after, \
         request_id, prev_hash, hash, context) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(seq)
    .bind(at)
    .bind(&actor.subject)
    .bind(&actor.role)
    .bind(action)
    .bind(object_type)
    .bind(object_id)
    .bind(before.map(Json))
    .bind(after.map(Json))
    .bind(actor.request_id.as_deref())
    .bind(&prev_hash)
    .bind(&hash)
    .bind(context.map(Json))
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn check_version(current: i64, if_match: Option<i64>) -> Result<(), ApiError> {
    match if_match {
        Some(expected) if expected != current => Err(ApiError::stale(&format!("\"{current}\""))),
        _ => Ok(()),
    }
}

/// The first step of a change: the row `select` finds by its one parameter `$1`, locked for the rest of the
/// write transaction (the backend's `for_update!()` is appended to `select`); `None` when there is none. The
/// caller then says what a missing row (or one outside the caller's scope) is, and checks the version read.
async fn lock<'k, T, K>(tx: &mut Tx, select: &'static str, key: K) -> Result<Option<T>, ApiError>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    K: 'k + sqlx::Encode<'k, Db> + sqlx::Type<Db> + Send,
{
    let sql = sqlx::AssertSqlSafe([select, for_update!()].concat());
    Ok(sqlx::query_as(sql)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?)
}

/// The last step of a change: records it in the audit chain, in the change's own transaction, and commits.
async fn commit_audited(
    mut tx: Tx,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), ApiError> {
    audit(
        &mut tx,
        actor,
        action,
        object_type,
        object_id,
        before,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

const SECRET_KEY: &str = "jwt_hs256_secret";
const SEEDED_KEY: &str = "seeded_ordinance_bodies";
const POLICY_SEEDED_KEY: &str = "seeded_default_policy";

impl Repo {
    pub async fn ping(&self) -> Result<(), ApiError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn bootstrap(&self) -> Result<Secret, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let system = Actor::system();
        let seeded = sqlx::query("INSERT INTO instance_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(SEEDED_KEY)
            .bind(now().to_rfc3339())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if seeded {
            for (code, name) in ORDINANCE_BODIES {
                let at = now();
                let inserted: Option<Department> = sqlx::query_as(
                    "INSERT INTO departments (id, code, name, surveillance_ordinance, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, TRUE, 1, $4, $4) ON CONFLICT (code) DO NOTHING RETURNING *",
                )
                .bind(Uuid::new_v4())
                .bind(code)
                .bind(name)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(d) = inserted {
                    audit(
                        &mut tx,
                        &system,
                        "department.seeded",
                        "department",
                        &d.id.to_string(),
                        None,
                        Some(to_json(&d)),
                    )
                    .await?;
                }
            }
        }
        let policy_seeded = sqlx::query(
            "INSERT INTO instance_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(POLICY_SEEDED_KEY)
        .bind(now().to_rfc3339())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if policy_seeded {
            requests_impl::insert_policy(
                &mut tx,
                &system,
                crate::domain::policy::Policy::default_policy(),
            )
            .await?;
        }
        let generated = hex::encode(rand::random::<[u8; 32]>());
        let created = sqlx::query("INSERT INTO instance_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(SECRET_KEY)
            .bind(&generated)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if created {
            let note =
                serde_json::json!({"setting": SECRET_KEY, "value": "generated (not recorded)"});
            audit(
                &mut tx,
                &system,
                "instance.secret_generated",
                "instance_setting",
                SECRET_KEY,
                None,
                Some(note),
            )
            .await?;
        }
        let (secret,): (String,) =
            sqlx::query_as("SELECT value FROM instance_settings WHERE key = $1")
                .bind(SECRET_KEY)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Secret::new(secret))
    }

    /// The secret kept in the database for locally minted tokens (made by [`Repo::bootstrap`]), if any.
    pub async fn kept_secret(&self) -> Result<Option<Secret>, ApiError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT value FROM instance_settings WHERE key = $1")
                .bind(SECRET_KEY)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.map(|(value,)| Secret::new(value)))
    }

    /// Publishes `policy` as the version after `current`, the version the admin read and edited: a version
    /// published meanwhile answers 412 instead of being replaced unseen. Two publishers over the same version
    /// race for the same number, and the unique version makes one of them lose.
    pub async fn publish_policy_over(
        &self,
        actor: &Actor,
        current: i64,
        policy: crate::domain::policy::Policy,
    ) -> Result<crate::store::PolicyRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let (latest,): (Option<i32>,) = sqlx::query_as("SELECT MAX(version) FROM policies")
            .fetch_one(&mut *tx)
            .await?;
        check_version(i64::from(latest.unwrap_or(0)), Some(current))?;
        let record = requests_impl::insert_policy(&mut tx, actor, policy).await?;
        tx.commit().await?;
        Ok(record)
    }
}

/// One value bound to a filter of a list query.
enum Arg {
    Text(String),
    Id(Uuid),
    Time(chrono::DateTime<chrono::Utc>),
}

/// The order of a list paged by keyset on `(created_at, id)`.
#[derive(Clone, Copy)]
enum Age {
    NewestFirst,
    OldestFirst,
}

/// A page of `select` (a `SELECT ... FROM table alias` without conditions) that `matches` selects, ordered by
/// `alias.created_at` as `age` says with ties by id: past `after` when given (keyset, through the index in that
/// order), else at `page.offset`; with the next page's keyset, read by `key`. The one way every keyset list pages.
async fn keyset_page<R>(
    pool: &Pool,
    select: &str,
    alias: &str,
    age: Age,
    mut matches: Conditions,
    page: crate::domain::PageRequest,
    after: Option<&crate::store::Keyset>,
    key: impl Fn(&R) -> (chrono::DateTime<chrono::Utc>, Uuid),
) -> Result<(Vec<R>, Option<crate::store::Keyset>), ApiError>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let (past, direction) = match age {
        Age::NewestFirst => ("<", " DESC"),
        Age::OldestFirst => (">", ""),
    };
    let offset = match after {
        Some(k) => {
            matches.push(
                &format!(
                    "({alias}.created_at {past} {{}} OR ({alias}.created_at = {{}} AND {alias}.id > {{}}))"
                ),
                [
                    Arg::Time(k.created_at),
                    Arg::Time(k.created_at),
                    Arg::Id(k.id),
                ],
            );
            0
        }
        None => page.offset,
    };
    let n = matches.args.len();
    let mut items: Vec<R> = matches
        .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{select}{} ORDER BY {alias}.created_at{direction}, {alias}.id LIMIT ${} OFFSET ${}",
            matches.where_sql(),
            n + 1,
            n + 2
        ))))
        .bind(page.limit + 1)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    let next = crate::store::Keyset::next_of(&mut items, page.limit, key);
    Ok((items, next))
}

/// Runs `query` on `pool`, giving each row to `each` as it is read: streamed, one row held at a time however
/// many there are (the registers). Returns the rows read; an error from `each` ends the read with it.
async fn each_row<'q, R>(
    query: sqlx::query::QueryAs<'q, Db, R, <Db as sqlx::Database>::Arguments>,
    pool: &Pool,
    each: &mut crate::store::EachRow<'_, R>,
) -> Result<u64, ApiError>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin + 'q,
{
    use futures_util::TryStreamExt;
    let mut rows = query.fetch(pool);
    let mut read = 0;
    while let Some(row) = rows.try_next().await? {
        each(row)?;
        read += 1;
    }
    Ok(read)
}

/// The filters a list was given, as SQL conditions with their values: only what was asked reaches the
/// query, so the planner can use the index for it (a `$1 IS NULL OR ...` form defeats SQLite's).
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    /// Adds a condition whose `{}` marks take `args` in order.
    fn push(&mut self, condition: &str, args: impl IntoIterator<Item = Arg>) {
        let mut out = String::with_capacity(condition.len() + 8);
        let mut parts = condition.split("{}");
        out.push_str(parts.next().unwrap_or_default());
        for (part, arg) in parts.zip(args) {
            self.args.push(arg);
            out.push_str(&format!("${}", self.args.len()));
            out.push_str(part);
        }
        self.sql.push(out);
    }

    /// ` WHERE a AND b`, or nothing.
    fn where_sql(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }

    fn bind_to<'q, O>(
        &self,
        mut query: sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments>,
    ) -> sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments> {
        for arg in &self.args {
            query = match arg {
                Arg::Text(v) => query.bind(v.clone()),
                Arg::Id(v) => query.bind(*v),
                Arg::Time(v) => query.bind(*v),
            };
        }
        query
    }
}
