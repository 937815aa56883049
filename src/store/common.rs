// The storage implementation shared by both backends. Included by `sqlite.rs` and `postgres.rs`, which
// provide `Db`, `Pool`, `begin` and the `for_update!` macro. Keep the SQL portable: `$N` placeholders,
// `RETURNING`, `ON CONFLICT`, `lower(..) LIKE .. ESCAPE`, no backend-specific functions.

use sqlx::types::Json;
use uuid::Uuid;

use crate::config::Secret;
use crate::domain::audit::{
    AuditEntry, AuditRecord, ChainVerifier, Checkpoint, CheckpointSummary, CheckpointVerifier,
    VerifyReport, VerifyScope, chain_hash, verification_summary,
};
use crate::domain::registry::{
    Department, DepartmentPatchBody, NewDepartment, NewVendor, ORDINANCE_BODIES, Vendor,
    VendorPatch,
};
use crate::domain::{PageRequest, now};
use crate::error::{ApiError, ProblemCode};
use crate::store::{
    Actor, AuditFilter, DepartmentFilter, Paged, SeqCursor, VendorFilter, contains_pattern,
    to_json, unique_as,
};

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

    pub async fn list_departments(
        &self,
        filter: &DepartmentFilter,
        page: PageRequest,
    ) -> Result<Paged<Department>, ApiError> {
        let q = filter.q.as_deref().map(contains_pattern);
        let items: Vec<Department> = sqlx::query_as(
            "SELECT * FROM departments WHERE ($1 IS NULL OR surveillance_ordinance = $1) \
             AND ($2 IS NULL OR lower(code) LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\') \
             ORDER BY code LIMIT $3 OFFSET $4",
        )
        .bind(filter.surveillance_ordinance)
        .bind(q.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM departments WHERE ($1 IS NULL OR surveillance_ordinance = $1) \
             AND ($2 IS NULL OR lower(code) LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\')",
        )
        .bind(filter.surveillance_ordinance)
        .bind(q.as_deref())
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_department(&self, id: Uuid) -> Result<Option<Department>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM departments WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn create_department(
        &self,
        actor: &Actor,
        new: NewDepartment,
    ) -> Result<Department, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let created: Department = sqlx::query_as(
            "INSERT INTO departments (id, code, name, surveillance_ordinance, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&new.code)
        .bind(&new.name)
        .bind(new.surveillance_ordinance)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::DuplicateDepartment, || format!("a department with code {} exists", new.code)))?;
        let id = created.id.to_string();
        commit_audited(
            tx,
            actor,
            "department.created",
            "department",
            &id,
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    pub async fn update_department(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: DepartmentPatchBody,
    ) -> Result<Department, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Department = lock(&mut tx, "SELECT * FROM departments WHERE id = $1", id)
            .await?
            .ok_or_else(|| ApiError::not_found("department"))?;
        check_version(current.version, Some(if_match))?;
        let next = NewDepartment::patched(&current, patch)?;
        let updated: Department = sqlx::query_as(
            "UPDATE departments SET name = $2, surveillance_ordinance = $3, version = version + 1, updated_at = $4 \
             WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&next.name)
        .bind(next.surveillance_ordinance)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "department.updated",
            "department",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        Ok(updated)
    }

    pub async fn list_vendors(
        &self,
        filter: &VendorFilter,
        page: PageRequest,
    ) -> Result<Paged<Vendor>, ApiError> {
        let q = filter.q.as_deref().map(contains_pattern);
        let country = filter.hq_country.as_deref().map(str::to_ascii_uppercase);
        let items: Vec<Vendor> = sqlx::query_as(
            "SELECT * FROM vendors WHERE ($1 IS NULL OR legal_name_key LIKE $1 ESCAPE '\\' \
             OR lower(coalesce(website, '')) LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR hq_country = $2) \
             ORDER BY legal_name_key, id LIMIT $3 OFFSET $4",
        )
        .bind(q.as_deref())
        .bind(country.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM vendors WHERE ($1 IS NULL OR legal_name_key LIKE $1 ESCAPE '\\' \
             OR lower(coalesce(website, '')) LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR hq_country = $2)",
        )
        .bind(q.as_deref())
        .bind(country.as_deref())
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_vendor(&self, id: Uuid) -> Result<Option<Vendor>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM vendors WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    fn vendor_conflict(new: &NewVendor, e: sqlx::Error) -> ApiError {
        unique_as(ProblemCode::DuplicateVendor, || {
            format!("a vendor named {:?} is already registered", new.legal_name)
        })(e)
    }

    pub async fn create_vendor(&self, actor: &Actor, new: NewVendor) -> Result<Vendor, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let created: Vendor = sqlx::query_as(
            "INSERT INTO vendors (id, legal_name, legal_name_key, website, hq_country, contacts, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&new.legal_name)
        .bind(new.name_key())
        .bind(new.website.as_deref())
        .bind(&new.hq_country)
        .bind(Json(&new.contacts))
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Self::vendor_conflict(&new, e))?;
        let id = created.id.to_string();
        commit_audited(
            tx,
            actor,
            "vendor.created",
            "vendor",
            &id,
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    pub async fn update_vendor(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: VendorPatch,
    ) -> Result<Vendor, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Vendor = lock(&mut tx, "SELECT * FROM vendors WHERE id = $1", id)
            .await?
            .ok_or_else(|| ApiError::not_found("vendor"))?;
        check_version(current.version, Some(if_match))?;
        let next = NewVendor::patched(&current, patch)?;
        let updated: Vendor = sqlx::query_as(
            "UPDATE vendors SET legal_name = $2, legal_name_key = $3, website = $4, hq_country = $5, contacts = $6, \
             version = version + 1, updated_at = $7 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&next.legal_name)
        .bind(next.name_key())
        .bind(next.website.as_deref())
        .bind(&next.hq_country)
        .bind(Json(&next.contacts))
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Self::vendor_conflict(&next, e))?;
        commit_audited(
            tx,
            actor,
            "vendor.updated",
            "vendor",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        Ok(updated)
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

    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
        after: Option<SeqCursor>,
    ) -> Result<(Paged<AuditRecord>, Option<SeqCursor>), ApiError> {
        // After a cursor the page starts past its record, by the primary key: a deep page costs what the first does.
        let (start, offset) = match after {
            Some(c) => (c.0, 0),
            None => (i64::MIN, page.offset),
        };
        let mut items: Vec<AuditRecord> = sqlx::query_as(
            "SELECT * FROM audit_log WHERE seq > $7 AND ($1 IS NULL OR object_type = $1) \
             AND ($2 IS NULL OR object_id = $2) AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR action = $4) \
             ORDER BY seq LIMIT $5 OFFSET $6",
        )
        .bind(filter.object_type.as_deref())
        .bind(filter.object_id.as_deref())
        .bind(filter.actor.as_deref())
        .bind(filter.action.as_deref())
        .bind(page.limit + 1)
        .bind(offset)
        .bind(start)
        .fetch_all(&self.pool)
        .await?;
        let next = if items.len() as i64 > page.limit {
            items.truncate(page.limit as usize);
            items.last().map(|r| SeqCursor(r.seq))
        } else {
            None
        };
        let unfiltered = filter.object_type.is_none()
            && filter.object_id.is_none()
            && filter.actor.is_none()
            && filter.action.is_none();
        let (total,): (i64,) = if unfiltered {
            // The chain numbers its records without a gap (a gap is what verification reports as a removed
            // record), so the whole trail's length is read from its head and its first record, not counted.
            sqlx::query_as(
                "SELECT (SELECT last_seq FROM audit_head WHERE id = 1) \
                 - COALESCE((SELECT MIN(seq) FROM audit_log), 1) + 1",
            )
            .fetch_one(&self.pool)
            .await?
        } else {
            sqlx::query_as(
                "SELECT COUNT(*) FROM audit_log WHERE ($1 IS NULL OR object_type = $1) \
                 AND ($2 IS NULL OR object_id = $2) AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR action = $4)",
            )
            .bind(filter.object_type.as_deref())
            .bind(filter.object_id.as_deref())
            .bind(filter.actor.as_deref())
            .bind(filter.action.as_deref())
            .fetch_one(&self.pool)
            .await?
        };
        Ok((Paged { items, total }, next))
    }

    async fn audit_head(&self) -> Result<(i64, String), ApiError> {
        Ok(
            sqlx::query_as("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn checkpoint(&self, number: Option<i64>) -> Result<Option<Checkpoint>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT * FROM audit_checkpoints WHERE ($1 IS NULL OR number = $1) ORDER BY number DESC LIMIT 1",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Feeds the records from `start` to the head read first through `verifier`, in batches, telling `progress`
    /// how many of how many are done. Records appended meanwhile lie past that head and are left for the next run.
    async fn walk_chain(
        &self,
        mut verifier: ChainVerifier,
        start: i64,
        (head_seq, head_hash): (i64, String),
        progress: &mut (dyn FnMut(i64, i64) + Send),
    ) -> Result<VerifyReport, ApiError> {
        let total = (head_seq - start + 1).max(0);
        let (mut after, mut done) = (start - 1, 0i64);
        loop {
            let batch: Vec<AuditRecord> = sqlx::query_as(
                "SELECT * FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 2000",
            )
            .bind(after)
            .bind(head_seq)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            done += batch.len() as i64;
            batch.iter().for_each(|r| verifier.check(r));
            progress(done, total);
        }
        let mut report = verifier.finish(head_seq, &head_hash);
        report.from_seq = start.max(1);
        // A probe, not a count: with stale statistics (after a bulk load) PostgreSQL plans `COUNT(*) WHERE seq >`
        // as a scan of the whole table, which is the cost the checkpoint exists to avoid.
        let beyond: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1")
                .bind(head_seq)
                .fetch_optional(&self.pool)
                .await?;
        if beyond.is_some() {
            // Either appended since the head was read (benign) or inserted outside the chain: re-read the head.
            let (now_seq, _) = self.audit_head().await?;
            let (max_seq,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM audit_log")
                .fetch_one(&self.pool)
                .await?;
            if max_seq > now_seq {
                report.ok = false;
                report.faults.push(crate::domain::audit::ChainFault {
                    seq: now_seq + 1,
                    problem: format!("records after {now_seq} were added outside the chain"),
                });
            }
        }
        Ok(report)
    }

    /// Verifies the records after the last checkpoint, and the record it names; then, when the chain is intact and
    /// has grown, writes the next checkpoint. Its cost depends on the records since the last verification, not
    /// on the length of the chain.
    pub async fn verify_audit(&self, actor: &str) -> Result<VerifyReport, ApiError> {
        let head = self.audit_head().await?;
        let latest = self.checkpoint(None).await?;
        let (verifier, start) = match &latest {
            Some(cp) => (
                ChainVerifier::resume(cp.verified_seq, &cp.verified_hash),
                cp.verified_seq,
            ),
            None => (ChainVerifier::default(), 1),
        };
        let mut report = self
            .walk_chain(verifier, start, head, &mut |_, _| {})
            .await?;
        if let Some(cp) = &latest {
            let before = match cp.number {
                1 => None,
                n => self.checkpoint(Some(n - 1)).await?,
            };
            let mut checkpoints = CheckpointVerifier::resume(cp.number, before.as_ref());
            checkpoints.check(cp, Some(&cp.verified_hash));
            report.faults.extend(checkpoints.finish());
        }
        report.scope = VerifyScope::Incremental;
        report.resumed_from = latest.as_ref().map(Checkpoint::summary);
        self.settle_verification(report, latest, actor).await
    }

    /// Verifies every record from the first, and every checkpoint against the records it names; writes a full
    /// checkpoint when all is intact. `progress` hears (records done, records to do) after each batch.
    pub async fn verify_audit_full(
        &self,
        actor: &str,
        progress: &mut (dyn FnMut(i64, i64) + Send),
    ) -> Result<VerifyReport, ApiError> {
        let head = self.audit_head().await?;
        let mut report = self
            .walk_chain(ChainVerifier::default(), 1, head, progress)
            .await?;
        let mut checkpoints = CheckpointVerifier::default();
        let mut latest = None;
        loop {
            let batch: Vec<CheckpointRow> = sqlx::query_as(
                "SELECT c.number, c.verified_seq, c.verified_hash, c.scope, c.at, c.actor, c.full_at, c.full_seq, \
                 c.prev_hash, c.hash, a.hash AS record_hash FROM audit_checkpoints c \
                 LEFT JOIN audit_log a ON a.seq = c.verified_seq WHERE c.number > $1 ORDER BY c.number LIMIT 2000",
            )
            .bind(latest.as_ref().map_or(0, |c: &Checkpoint| c.number))
            .fetch_all(&self.pool)
            .await?;
            if batch.is_empty() {
                break;
            }
            for row in batch {
                checkpoints.check(&row.checkpoint, row.record_hash.as_deref());
                latest = Some(row.checkpoint);
            }
        }
        report.faults.extend(checkpoints.finish());
        report.scope = VerifyScope::Full;
        self.settle_verification(report, latest, actor).await
    }

    /// Writes the next checkpoint (in a transaction of its own) when the verification found the chain intact and
    /// it advanced the verified position or was full, and fills in the report's checkpoints and summary. When
    /// another verification wrote that checkpoint first, theirs stands.
    async fn settle_verification(
        &self,
        mut report: VerifyReport,
        latest: Option<Checkpoint>,
        actor: &str,
    ) -> Result<VerifyReport, ApiError> {
        report.ok = report.faults.is_empty();
        let advanced = latest
            .as_ref()
            .is_none_or(|cp| report.head_seq > cp.verified_seq);
        let mut standing = latest;
        let verified_hash = match report.ok && (advanced || report.scope == VerifyScope::Full) {
            true => self.record_hash(report.head_seq).await?,
            false => None,
        };
        if let Some(verified_hash) = verified_hash {
            let next = Checkpoint::after(
                standing.as_ref(),
                report.head_seq,
                &verified_hash,
                report.scope,
                now(),
                actor,
            );
            let mut tx = begin(&self.writer).await?;
            sqlx::query(
                "INSERT INTO audit_checkpoints (number, verified_seq, verified_hash, scope, at, actor, full_at, \
                 full_seq, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (number) DO NOTHING",
            )
            .bind(next.number)
            .bind(next.verified_seq)
            .bind(&next.verified_hash)
            .bind(&next.scope)
            .bind(next.at)
            .bind(&next.actor)
            .bind(next.full_at)
            .bind(next.full_seq)
            .bind(&next.prev_hash)
            .bind(&next.hash)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            standing = self.checkpoint(None).await?;
        }
        report.checkpoint = standing.as_ref().map(Checkpoint::summary);
        report.last_full_verification = standing.as_ref().and_then(Checkpoint::full_verification);
        report.summary = verification_summary(&report);
        Ok(report)
    }

    pub async fn audit_checkpoint(
        &self,
        number: i64,
    ) -> Result<Option<CheckpointSummary>, ApiError> {
        Ok(self
            .checkpoint(Some(number))
            .await?
            .as_ref()
            .map(Checkpoint::summary))
    }

    async fn record_hash(&self, seq: i64) -> Result<Option<String>, ApiError> {
        Ok(
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

#[derive(sqlx::FromRow)]
struct CheckpointRow {
    #[sqlx(flatten)]
    checkpoint: Checkpoint,
    record_hash: Option<String>,
}

/// One value bound to a filter of a list query.
enum Arg {
    Text(String),
    Id(Uuid),
    Time(chrono::DateTime<chrono::Utc>),
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
