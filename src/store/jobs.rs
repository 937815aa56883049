// Notifications and the webhook outbox, for the job runner (`crate::jobs`). Included by both backends as a
// submodule, like requests/loaders.rs. The runner passes its clock in: nothing here that decides what is due reads
// the wall clock.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::PageRequest;
use crate::domain::webhooks::{DeliveryChannel, DeliveryStatus};
use crate::error::ApiError;
use crate::store::{
    Actor, DeliveryOutcome, DeliveryRecord, NewNotification, NotificationAudience,
    NotificationRecord, Paged, ReminderSources, to_json,
};

/// The notifications addressed to an audience, each joined to the reader's read mark: `$1` role, `$2` department,
/// `$3` vendor, `$4` reader.
const AUDIENCE_FROM: &str = "FROM notifications n LEFT JOIN notification_reads nr \
    ON nr.notification_id = n.id AND nr.reader = $4 WHERE n.recipient_role = $1 \
    AND (n.recipient_dept IS NULL OR n.recipient_dept = $2) AND (n.recipient_vendor IS NULL OR n.recipient_vendor = $3)";

/// For an invitation token: ` AND n.subject_id IN ($first, ...)` over the ids of the assessments it reaches
/// and of their findings, the only subjects of the notifications it sees; nothing for other audiences.
fn subject_clause(subjects: &Option<Vec<String>>, first: usize) -> String {
    match subjects {
        None => String::new(),
        Some(ids) if ids.is_empty() => " AND 1 = 0".to_string(),
        Some(ids) => {
            let marks: Vec<String> = (first..first + ids.len())
                .map(|i| format!("${i}"))
                .collect();
            format!(" AND n.subject_id IN ({})", marks.join(", "))
        }
    }
}

impl Repo {
    /// The subjects an invitation token's notifications may be about (see [`subject_clause`]).
    async fn audience_subjects(
        &self,
        audience: &NotificationAudience,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let Some(grant) = &audience.invitation else {
            return Ok(None);
        };
        let assessments: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT a.id FROM assessments a WHERE a.vendor_id = $1 AND a.request_id = $2 AND ($3 IS NULL OR a.id IN \
             (SELECT ia.assessment_id FROM invitation_assessments ia WHERE ia.invitation_id = $3))",
        )
        .bind(grant.vendor)
        .bind(grant.request)
        .bind(grant.named_assessments_of())
        .fetch_all(&self.pool)
        .await?;
        let mut subjects: Vec<String> = Vec::new();
        for (assessment,) in assessments {
            subjects.push(assessment.to_string());
            let findings: Vec<(Uuid,)> =
                sqlx::query_as("SELECT id FROM findings WHERE assessment_id = $1")
                    .bind(assessment)
                    .fetch_all(&self.pool)
                    .await?;
            subjects.extend(findings.into_iter().map(|(f,)| f.to_string()));
        }
        Ok(Some(subjects))
    }

    /// The due dates the reminder job turns into notifications. Decommissioned, cancelled and ended contracts
    /// are left out: their renewal is no longer anyone's decision; so is everything about a withdrawn or denied
    /// request, which nobody works on any more.
    pub async fn reminder_sources(&self, today: NaiveDate) -> Result<ReminderSources, ApiError> {
        let questionnaires = sqlx::query_as(
            "SELECT a.id, a.vendor_id, a.due_date, r.department_code FROM assessments a \
             JOIN requests r ON r.id = a.request_id WHERE a.status IN ('open', 'returned') \
             AND r.status NOT IN ('withdrawn', 'denied') ORDER BY a.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let remediations = sqlx::query_as(
            "SELECT f.id, f.vendor_id, f.remediation_due FROM findings f JOIN requests r ON r.id = f.request_id \
             WHERE f.status = 'remediation_planned' AND f.remediation_due IS NOT NULL \
             AND r.status NOT IN ('withdrawn', 'denied') ORDER BY f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let risk_acceptances = sqlx::query_as(
            "SELECT f.id, f.vendor_id, f.risk_expires_on FROM findings f JOIN requests r ON r.id = f.request_id \
             WHERE f.status = 'risk_accepted' AND f.risk_expires_on IS NOT NULL \
             AND r.status NOT IN ('withdrawn', 'denied') ORDER BY f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let contracts = sqlx::query_as(
            "SELECT id, start_date, end_date, renewal_notice_days FROM contracts \
             WHERE decommissioned_on IS NULL AND cancelled_at IS NULL AND end_date >= $1 ORDER BY id",
        )
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        let contract_departments = sqlx::query_as(
            "SELECT DISTINCT cr.contract_id, r.department_code FROM contract_requests cr \
             JOIN contracts c ON c.id = cr.contract_id JOIN requests r ON r.id = cr.request_id \
             WHERE c.decommissioned_on IS NULL AND c.cancelled_at IS NULL AND c.end_date >= $1 \
             ORDER BY cr.contract_id, r.department_code",
        )
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        // A request awaiting a decision last changed when it started to wait (or when a co-decider acted).
        let waiting_decisions = sqlx::query_as(
            "SELECT id, updated_at, department_code FROM requests WHERE status = 'awaiting_decision' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(ReminderSources {
            questionnaires,
            remediations,
            risk_acceptances,
            contracts,
            contract_departments,
            waiting_decisions,
        })
    }

    /// Inserts the notifications not made before (by `dedup_key`), each for the job runner to fan out to the
    /// outbox (webhooks and e-mail); returns those it inserted. Two runners making the same key both try, one wins.
    pub async fn insert_notifications(
        &self,
        items: Vec<NewNotification>,
        at: DateTime<Utc>,
    ) -> Result<Vec<NotificationRecord>, ApiError> {
        let system = Actor::system();
        // Most passes find every due reminder made already: look the keys up in a few queries rather than
        // trying an insert (and a transaction) for each. The unique key still settles races between runners.
        let mut known = std::collections::HashSet::new();
        for chunk in items.chunks(500) {
            let sql = format!(
                "SELECT dedup_key FROM notifications WHERE dedup_key IN ({})",
                crate::store::placeholders(chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
            for item in chunk {
                query = query.bind(&item.dedup_key);
            }
            known.extend(query.fetch_all(&self.pool).await?.into_iter().map(|(k,)| k));
        }
        let mut made = Vec::new();
        for item in items.into_iter().filter(|i| !known.contains(&i.dedup_key)) {
            let mut tx = begin(&self.writer).await?;
            let created: Option<NotificationRecord> = sqlx::query_as(
                "INSERT INTO notifications (id, recipient_role, recipient_dept, recipient_vendor, kind, subject_type, \
                 subject_id, dedup_key, message, payload, created_at, fanned_out) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (dedup_key) DO NOTHING RETURNING *",
            )
            .bind(Uuid::new_v4())
            .bind(&item.recipient_role)
            .bind(item.recipient_dept.as_deref())
            .bind(item.recipient_vendor)
            .bind(&item.kind)
            .bind(&item.subject_type)
            .bind(&item.subject_id)
            .bind(&item.dedup_key)
            .bind(&item.message)
            .bind(Json(&item.payload))
            .bind(at)
            .bind(false)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(created) = created else {
                tx.rollback().await?;
                continue;
            };
            let id = created.id.to_string();
            commit_audited(
                tx,
                &system,
                "notification.created",
                "notification",
                &id,
                None,
                Some(to_json(&created)),
            )
            .await?;
            made.push(created);
        }
        Ok(made)
    }

    /// Claims up to `limit` deliveries of `channel` (`webhook` or `email`) that are due and not claimed by a live
    /// lease, for `runner` until `lease_until`. On PostgreSQL the rows being claimed by another runner are
    /// skipped, not waited for.
    pub async fn claim_deliveries(
        &self,
        channel: DeliveryChannel,
        runner: &str,
        at: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let claimed: Vec<DeliveryRecord> = sqlx::query_as(concat!(
            "UPDATE webhook_deliveries SET claimed_by = $1, claimed_until = $2, updated_at = $3 WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
             AND (claimed_until IS NULL OR claimed_until <= $3) AND channel = $5 ORDER BY next_attempt_at, id LIMIT $4",
            skip_locked!(),
            ") RETURNING *"
        ))
        .bind(runner)
        .bind(lease_until)
        .bind(at)
        .bind(limit)
        .bind(channel)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records how an attempt went, if `runner` still holds the claim (a runner whose lease ran out and whose
    /// row was taken over records nothing). Returns whether it recorded.
    pub async fn finish_delivery(
        &self,
        id: Uuid,
        runner: &str,
        outcome: DeliveryOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let updated: Option<DeliveryRecord> = match &outcome {
            DeliveryOutcome::Delivered => {
                sqlx::query_as(
                    "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = $3, \
                     last_error = NULL, claimed_by = NULL, claimed_until = NULL, updated_at = $3 \
                     WHERE id = $1 AND claimed_by = $2 AND status = 'pending' RETURNING *",
                )
                .bind(id)
                .bind(runner)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?
            }
            DeliveryOutcome::Failed { error, retry_at } => {
                sqlx::query_as(
                    "UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1, next_attempt_at = $5, \
                     last_error = $6, claimed_by = NULL, claimed_until = NULL, updated_at = $3 \
                     WHERE id = $1 AND claimed_by = $2 AND status = 'pending' RETURNING *",
                )
                .bind(id)
                .bind(runner)
                .bind(at)
                .bind(if retry_at.is_some() {
                    DeliveryStatus::Pending
                } else {
                    DeliveryStatus::Dead
                })
                .bind(retry_at.unwrap_or(at))
                .bind(error)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let Some(updated) = updated else {
            tx.rollback().await?;
            return Ok(false);
        };
        if updated.status == DeliveryStatus::Dead {
            let after = serde_json::json!({"status": "dead", "attempts": updated.attempts, "url": updated.url,
                                           "last_error": updated.last_error});
            audit(
                &mut tx,
                &Actor::system(),
                "webhook.dead_lettered",
                "webhook_delivery",
                &id.to_string(),
                None,
                Some(after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The notifications addressed to `audience`, newest first, each with the reader's read mark; with
    /// `unread_only`, those not marked. Also returns how many are unread in all.
    pub async fn list_notifications(
        &self,
        audience: &NotificationAudience,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<(Paged<NotificationRecord>, i64), ApiError> {
        let unread = if unread_only {
            " AND nr.read_at IS NULL"
        } else {
            ""
        };
        let subjects = self.audience_subjects(audience).await?;
        let only = subject_clause(&subjects, 7);
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT n.*, nr.read_at {AUDIENCE_FROM}{unread}{only} ORDER BY n.created_at DESC, n.id LIMIT $5 OFFSET $6"
        )))
        .bind(&audience.role)
        .bind(audience.department.as_deref())
        .bind(audience.vendor)
        .bind(&audience.reader)
        .bind(page.limit)
        .bind(page.offset);
        for subject in subjects.iter().flatten() {
            query = query.bind(subject);
        }
        let items = query.fetch_all(&self.pool).await?;
        let (total, unread_total) = self.notification_counts(audience).await?;
        let total = if unread_only { unread_total } else { total };
        Ok((Paged { items, total }, unread_total))
    }

    /// How many notifications are addressed to `audience`, and how many of those its reader has not marked read.
    pub async fn notification_counts(
        &self,
        audience: &NotificationAudience,
    ) -> Result<(i64, i64), ApiError> {
        let subjects = self.audience_subjects(audience).await?;
        let only = subject_clause(&subjects, 5);
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN nr.read_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             {AUDIENCE_FROM}{only}"
        )))
        .bind(&audience.role)
        .bind(audience.department.as_deref())
        .bind(audience.vendor)
        .bind(&audience.reader);
        for subject in subjects.iter().flatten() {
            query = query.bind(subject);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }

    /// Marks notifications read for `audience.reader`: the one named by `id` (404 unless addressed to the
    /// audience), or with `id` `None` every one addressed to it. A notification already marked keeps its first
    /// mark. Returns the notifications newly marked.
    pub async fn mark_notifications_read(
        &self,
        actor: &Actor,
        audience: &NotificationAudience,
        id: Option<Uuid>,
    ) -> Result<Vec<Uuid>, ApiError> {
        let subjects = self.audience_subjects(audience).await?;
        let only = subject_clause(&subjects, 6);
        let mut tx = begin(&self.writer).await?;
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT n.id, nr.read_at {AUDIENCE_FROM} AND ($5 IS NULL OR n.id = $5){only} ORDER BY n.id"
        )))
        .bind(&audience.role)
        .bind(audience.department.as_deref())
        .bind(audience.vendor)
        .bind(&audience.reader)
        .bind(id);
        for subject in subjects.iter().flatten() {
            query = query.bind(subject);
        }
        let targets: Vec<(Uuid, Option<DateTime<Utc>>)> = query.fetch_all(&mut *tx).await?;
        if id.is_some() && targets.is_empty() {
            return Err(ApiError::not_found("notification"));
        }
        let at = crate::domain::now();
        let mut marked = Vec::new();
        for (notification, read_at) in targets {
            if read_at.is_some() {
                continue;
            }
            let inserted = sqlx::query(
                "INSERT INTO notification_reads (notification_id, reader, read_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (notification_id, reader) DO NOTHING",
            )
            .bind(notification)
            .bind(&audience.reader)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                marked.push(notification);
            }
        }
        if !marked.is_empty() {
            let object = id.map(|i| i.to_string()).unwrap_or_else(|| "*".to_string());
            audit(
                &mut tx,
                actor,
                "notification.read",
                "notification",
                &object,
                None,
                Some(serde_json::json!({"reader": audience.reader, "marked": marked})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(marked)
    }

    pub async fn list_deliveries(
        &self,
        status: Option<DeliveryStatus>,
        channel: Option<DeliveryChannel>,
        page: PageRequest,
    ) -> Result<Paged<DeliveryRecord>, ApiError> {
        let items = sqlx::query_as(
            "SELECT * FROM webhook_deliveries WHERE ($1 IS NULL OR status = $1) AND ($4 IS NULL OR channel = $4) \
             ORDER BY created_at, id LIMIT $2 OFFSET $3",
        )
        .bind(status)
        .bind(page.limit)
        .bind(page.offset)
        .bind(channel)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR channel = $2)",
        )
        .bind(status)
        .bind(channel)
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged { items, total })
    }

    /// Puts a dead-lettered delivery back in the outbox with a fresh count of attempts.
    pub async fn retry_delivery(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<DeliveryRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: DeliveryRecord = lock(
            &mut tx,
            "SELECT * FROM webhook_deliveries WHERE id = $1",
            id,
        )
        .await?
        .ok_or_else(|| ApiError::not_found("webhook delivery"))?;
        crate::workflow::webhooks::plan_retry(current.status)?;
        let at = crate::domain::now();
        let updated: DeliveryRecord = sqlx::query_as(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, claimed_by = NULL, \
             claimed_until = NULL, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let view = |d: &DeliveryRecord| serde_json::json!({"status": d.status, "attempts": d.attempts, "url": d.url});
        commit_audited(
            tx,
            actor,
            "webhook.retried",
            "webhook_delivery",
            &id.to_string(),
            Some(view(&current)),
            Some(view(&updated)),
        )
        .await?;
        Ok(updated)
    }
}
