// Notifications and the webhook outbox, for the job runner (`crate::jobs`). Included by both backends as a
// submodule, like requests.rs. The runner passes its clock in: nothing here that decides what is due reads
// the wall clock.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::PageRequest;
use crate::error::ApiError;
use crate::store::{
    Actor, DeliveryOutcome, DeliveryRecord, NewNotification, NotificationAudience, NotificationRecord, Paged,
    ReminderSources, to_json,
};

impl Repo {
    /// The due dates the reminder job turns into notifications. Decommissioned and long-ended contracts are left
    /// out: their renewal is no longer anyone's decision.
    pub async fn reminder_sources(&self, today: NaiveDate) -> Result<ReminderSources, ApiError> {
        let questionnaires = sqlx::query_as(
            "SELECT id, vendor_id, due_date FROM assessments WHERE status IN ('open', 'returned') ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let remediations = sqlx::query_as(
            "SELECT id, vendor_id, remediation_due FROM findings \
             WHERE status = 'remediation_planned' AND remediation_due IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let risk_acceptances = sqlx::query_as(
            "SELECT id, risk_expires_on FROM findings \
             WHERE status = 'risk_accepted' AND risk_expires_on IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let contracts = sqlx::query_as(
            "SELECT id, end_date, renewal_notice_days FROM contracts \
             WHERE decommissioned_on IS NULL AND end_date >= $1 ORDER BY id",
        )
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        // A request awaiting a decision last changed when it started to wait (or when a co-decider acted).
        let waiting_decisions = sqlx::query_as(
            "SELECT id, updated_at FROM requests WHERE status = 'awaiting_decision' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(ReminderSources { questionnaires, remediations, risk_acceptances, contracts, waiting_decisions })
    }

    /// Inserts the notifications not made before (by `dedup_key`) and, in the same transaction, one outbox row per
    /// webhook URL for each; returns those it inserted. Two runners making the same key both try, one wins.
    pub async fn insert_notifications(
        &self,
        items: Vec<NewNotification>,
        webhook_urls: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<NotificationRecord>, ApiError> {
        let system = Actor::system();
        let mut made = Vec::new();
        for item in items {
            let mut tx = begin(&self.pool).await?;
            let created: Option<NotificationRecord> = sqlx::query_as(
                "INSERT INTO notifications (id, recipient_role, recipient_dept, recipient_vendor, kind, subject_type, \
                 subject_id, dedup_key, message, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (dedup_key) DO NOTHING RETURNING *",
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
            .fetch_optional(&mut *tx)
            .await?;
            let Some(created) = created else {
                tx.rollback().await?;
                continue;
            };
            let body = serde_json::to_string(&serde_json::json!({
                "id": created.id,
                "kind": created.kind,
                "subject_type": created.subject_type,
                "subject_id": created.subject_id,
                "recipient_role": created.recipient_role,
                "message": created.message,
                "payload": created.payload.0,
                "created_at": created.created_at,
            }))
            .map_err(|e| ApiError::Internal(e.into()))?;
            for url in webhook_urls {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, notification_id, url, body, status, attempts, next_attempt_at, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, $5)",
                )
                .bind(Uuid::new_v4())
                .bind(created.id)
                .bind(url)
                .bind(&body)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            let id = created.id.to_string();
            audit(&mut tx, &system, "notification.created", "notification", &id, None, Some(to_json(&created))).await?;
            tx.commit().await?;
            made.push(created);
        }
        Ok(made)
    }

    /// Claims up to `limit` deliveries that are due and not claimed by a live lease, for `runner` until
    /// `lease_until`. On PostgreSQL the rows being claimed by another runner are skipped, not waited for.
    pub async fn claim_deliveries(
        &self,
        runner: &str,
        at: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let claimed: Vec<DeliveryRecord> = sqlx::query_as(concat!(
            "UPDATE webhook_deliveries SET claimed_by = $1, claimed_until = $2, updated_at = $3 WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
             AND (claimed_until IS NULL OR claimed_until <= $3) ORDER BY next_attempt_at, id LIMIT $4",
            skip_locked!(),
            ") RETURNING *"
        ))
        .bind(runner)
        .bind(lease_until)
        .bind(at)
        .bind(limit)
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
        let mut tx = begin(&self.pool).await?;
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
                .bind(if retry_at.is_some() { "pending" } else { "dead" })
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
        if updated.status == "dead" {
            let after = serde_json::json!({"status": "dead", "attempts": updated.attempts, "url": updated.url,
                                           "last_error": updated.last_error});
            audit(&mut tx, &Actor::system(), "webhook.dead_lettered", "webhook_delivery", &id.to_string(), None, Some(after))
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn list_notifications(
        &self,
        audience: &NotificationAudience,
        page: PageRequest,
    ) -> Result<Paged<NotificationRecord>, ApiError> {
        const WHERE: &str = "FROM notifications WHERE recipient_role = $1 \
            AND (recipient_dept IS NULL OR recipient_dept = $2) AND (recipient_vendor IS NULL OR recipient_vendor = $3)";
        let items = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * {WHERE} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5"
        )))
        .bind(&audience.role)
        .bind(audience.department.as_deref())
        .bind(audience.vendor)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
            .bind(&audience.role)
            .bind(audience.department.as_deref())
            .bind(audience.vendor)
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    pub async fn list_deliveries(
        &self,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<DeliveryRecord>, ApiError> {
        let items = sqlx::query_as(
            "SELECT * FROM webhook_deliveries WHERE ($1 IS NULL OR status = $1) ORDER BY created_at, id \
             LIMIT $2 OFFSET $3",
        )
        .bind(status)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_deliveries WHERE ($1 IS NULL OR status = $1)")
            .bind(status)
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    /// Puts a dead-lettered delivery back in the outbox with a fresh count of attempts.
    pub async fn retry_delivery(&self, actor: &Actor, id: Uuid) -> Result<DeliveryRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current: DeliveryRecord =
            sqlx::query_as(concat!("SELECT * FROM webhook_deliveries WHERE id = $1", for_update!()))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| ApiError::not_found("webhook delivery"))?;
        if current.status != "dead" {
            return Err(ApiError::conflict(
                "delivery_not_dead",
                format!("the delivery is {}; only a dead-lettered delivery is retried", current.status),
            ));
        }
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
        audit(&mut tx, actor, "webhook.retried", "webhook_delivery", &id.to_string(), Some(view(&current)), Some(view(&updated)))
            .await?;
        tx.commit().await?;
        Ok(updated)
    }
}
