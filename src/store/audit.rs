// The audit trail's reads: the list, the chain's verification (quick, from the last checkpoint, and full) and
// its checkpoints. Included by both backends as a submodule, like requests/loaders.rs; appending to the chain
// (`audit`) stays in common.rs, since every write does it.

use crate::domain::audit::{
    AuditRecord, ChainVerifier, Checkpoint, CheckpointSummary, CheckpointVerifier, VerifyReport,
    VerifyScope, verification_summary,
};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{AuditFilter, Paged, SeqCursor};

impl Repo {
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
            .bind(next.scope)
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
