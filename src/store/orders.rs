// Remediation orders: issue, the recipient's acknowledgement and completion report, the CIO office's
// verification or reopening, and the appeal. Included by both backends as a submodule, like requests/loaders.rs. The
// rules are the planner's (`crate::workflow::orders`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::orders::OrderStatus;
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{Actor, IncidentScope, OrderChange, OrderFilter, OrderRecord, Paged, to_json};
use crate::workflow::Refusal;
use crate::workflow::orders::{self as plan, NewOrder, OrderRecipient, OrderState, References};

fn state_of(record: &OrderRecord) -> OrderState {
    OrderState {
        status: record.status,
        status_before_appeal: record.status_before_appeal,
        issued_on: crate::domain::incidents::eastern_date(record.issued_at),
        appealed: record.appeal_grounds.is_some(),
    }
}

async fn references(tx: &mut Tx, new: &NewOrder) -> Result<References, ApiError> {
    let recipient_registered = match &new.recipient {
        OrderRecipient::Vendor(v) => {
            sqlx::query_as::<_, (Uuid,)>("SELECT id FROM vendors WHERE id = $1")
                .bind(v)
                .fetch_optional(&mut **tx)
                .await?
                .is_some()
        }
        OrderRecipient::Department(code) => {
            sqlx::query_as::<_, (Uuid,)>("SELECT id FROM departments WHERE code = $1")
                .bind(code)
                .fetch_optional(&mut **tx)
                .await?
                .is_some()
        }
    };
    let incident = match new.incident_id {
        Some(id) => {
            sqlx::query_as::<_, (Option<Uuid>,)>("SELECT vendor_id FROM incidents WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .map(|(v,)| v)
        }
        None => None,
    };
    let mut finding_vendors = BTreeMap::new();
    for id in &new.finding_ids {
        let found: Option<(Uuid,)> = sqlx::query_as("SELECT vendor_id FROM findings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some((vendor,)) = found {
            finding_vendors.insert(*id, vendor);
        }
    }
    Ok(References {
        recipient_registered,
        incident,
        finding_vendors,
    })
}

impl Repo {
    pub async fn list_orders(
        &self,
        scope: &IncidentScope,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Paged<OrderRecord>, ApiError> {
        let (scope_vendor, scope_department) = match scope {
            IncidentScope::All => (None, None),
            IncidentScope::Vendor(v) => (Some(*v), None),
            IncidentScope::Department(d) => (None, Some(d.as_str())),
            // An invitation reaches a request's questionnaires, not the vendor's orders.
            IncidentScope::Invitation { .. } => {
                return Ok(Paged {
                    items: Vec::new(),
                    total: 0,
                });
            }
        };
        let status = filter.status.map(OrderStatus::as_str);
        const WHERE: &str = "FROM remediation_orders WHERE ($1 IS NULL OR vendor_id = $1) \
            AND ($2 IS NULL OR department_code = $2) AND ($3 IS NULL OR status = $3) \
            AND ($4 IS NULL OR vendor_id = $4) AND ($5 IS NULL OR incident_id = $5)";
        let mut tx = self.pool.begin().await?;
        let items: Vec<OrderRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * {WHERE} ORDER BY due_date, id LIMIT $6 OFFSET $7"
        )))
        .bind(scope_vendor)
        .bind(scope_department)
        .bind(status)
        .bind(filter.vendor_id)
        .bind(filter.incident_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *tx)
        .await?;
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
                .bind(scope_vendor)
                .bind(scope_department)
                .bind(status)
                .bind(filter.vendor_id)
                .bind(filter.incident_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.rollback().await?;
        Ok(Paged { items, total })
    }

    pub async fn get_order(
        &self,
        scope: &IncidentScope,
        id: Uuid,
    ) -> Result<OrderRecord, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM remediation_orders WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .filter(|o| scope.admits_order(o))
                .ok_or(Refusal::NotFound("order"))?,
        )
    }

    pub async fn issue_order(&self, actor: &Actor, new: NewOrder) -> Result<OrderRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let refs = references(&mut tx, &new).await?;
        let new = plan::plan_issue(new, &refs, crate::domain::incidents::eastern_date(at))?;
        let (vendor, department) = match &new.recipient {
            OrderRecipient::Vendor(v) => (Some(*v), None),
            OrderRecipient::Department(d) => (None, Some(d.clone())),
        };
        let record: OrderRecord = sqlx::query_as(
            "INSERT INTO remediation_orders (id, vendor_id, department_code, incident_id, finding_ids, actions, \
             due_date, status, issued_by, issued_at, version, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'issued', $8, $9, 1, $9) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(vendor)
        .bind(department)
        .bind(new.incident_id)
        .bind(Json(&new.finding_ids))
        .bind(Json(&new.actions))
        .bind(new.due_date)
        .bind(&actor.subject)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "order.issued",
            "remediation_order",
            &record.id.to_string(),
            None,
            Some(to_json(&record)),
        )
        .await?;
        Ok(record)
    }

    /// A change by the recipient (in `scope`) or the CIO office, checked by the planner on `today`.
    pub async fn change_order(
        &self,
        actor: &Actor,
        scope: &IncidentScope,
        id: Uuid,
        if_match: i64,
        change: OrderChange,
        appeal_days: u32,
    ) -> Result<OrderRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: OrderRecord = lock(
            &mut tx,
            "SELECT * FROM remediation_orders WHERE id = $1",
            id,
        )
        .await?
        .filter(|o| scope.admits_order(o))
        .ok_or(Refusal::NotFound("order"))?;
        check_version(current.version, Some(if_match))?;
        let state = state_of(&current);
        let at = now();
        let today = crate::domain::incidents::eastern_date(at);
        let who = actor.subject.as_str();
        let (action, query) = match change {
            OrderChange::Acknowledge => {
                let status = plan::plan_acknowledge(&state)?;
                (
                    "order.acknowledged",
                    sqlx::query(
                        "UPDATE remediation_orders SET status = $2, acknowledged_by = $3, acknowledged_at = $4 \
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(status.as_str())
                    .bind(who)
                    .bind(at),
                )
            }
            OrderChange::Completion { note, evidence } => {
                let (note, evidence) = plan::plan_completion(&state, &note, &evidence)?;
                (
                    "order.completion_reported",
                    sqlx::query(
                        "UPDATE remediation_orders SET status = 'completion_reported', completion_note = $2, \
                         completion_evidence = $3, completed_by = $4, completed_at = $5 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(note)
                    .bind(evidence)
                    .bind(who)
                    .bind(at),
                )
            }
            OrderChange::Verify => {
                let status = plan::plan_verify(&state)?;
                (
                    "order.verified",
                    sqlx::query(
                        "UPDATE remediation_orders SET status = $2, verified_by = $3, verified_at = $4 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(status.as_str())
                    .bind(who)
                    .bind(at),
                )
            }
            OrderChange::Reopen { reason } => {
                let reason = plan::plan_reopen(&state, &reason)?;
                (
                    "order.reopened",
                    sqlx::query("UPDATE remediation_orders SET status = 'reopened', reopen_reason = $2 WHERE id = $1")
                        .bind(id)
                        .bind(reason),
                )
            }
            OrderChange::Appeal { grounds } => {
                let grounds = plan::plan_appeal(&state, &grounds, appeal_days, today)?;
                (
                    "order.appealed",
                    sqlx::query(
                        "UPDATE remediation_orders SET status = 'appealed', status_before_appeal = $2, \
                         appeal_grounds = $3, appealed_by = $4, appealed_at = $5 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(state.status.as_str())
                    .bind(grounds)
                    .bind(who)
                    .bind(at),
                )
            }
            OrderChange::DecideAppeal { outcome, reason } => {
                let (status, reason) = plan::plan_decide_appeal(&state, outcome, &reason)?;
                (
                    "order.appeal_decided",
                    sqlx::query(
                        "UPDATE remediation_orders SET status = $2, appeal_outcome = $3, appeal_reason = $4, \
                         appeal_decided_by = $5, appeal_decided_at = $6 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(status.as_str())
                    .bind(outcome.as_str())
                    .bind(reason)
                    .bind(who)
                    .bind(at),
                )
            }
        };
        query.execute(&mut *tx).await?;
        let record: OrderRecord = sqlx::query_as(
            "UPDATE remediation_orders SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            action,
            "remediation_order",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&record)),
        )
        .await?;
        Ok(record)
    }

    /// Open orders with their due dates, for the job runner: id, vendor, department, due date, status.
    pub async fn open_orders(
        &self,
    ) -> Result<Vec<(Uuid, Option<Uuid>, Option<String>, NaiveDate, String)>, ApiError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, vendor_id, department_code, due_date, status FROM remediation_orders WHERE status IN {} \
             ORDER BY id",
            crate::domain::orders::OPEN_STATUSES_SQL
        )))
        .fetch_all(&self.pool)
        .await?)
    }
}
