// Contract safeguards checklists, contracts, and the vendors' re-assessment schedule. Included by both backends
// as a submodule, like requests/loaders.rs.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::contracts::{
    Cancellation, ChecklistEntry, ContractFields, ContractStatus, Decommission,
};
use crate::domain::deadlines::next_review_date;
use crate::domain::safeguards::{ClauseStatus, SafeguardState};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, ContractDetail, ContractFilter, ContractRecord, Paged, RequestRecord, SafeguardRecord,
    Scope, to_json, unique_as,
};
use crate::workflow::contracts::{self as plan, ContractState, References};

async fn safeguard_rows(tx: &mut Tx, request_id: Uuid) -> Result<Vec<SafeguardRecord>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT clause_id, status, document, section, attested_by, attested_at, justification, waived_by, waived_at, \
         updated_by, updated_at FROM request_safeguards WHERE request_id = $1 ORDER BY clause_id",
    )
    .bind(request_id)
    .fetch_all(&mut **tx)
    .await?)
}

async fn contract_detail(
    tx: &mut Tx,
    contract: ContractRecord,
) -> Result<ContractDetail, ApiError> {
    let links: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT request_id FROM contract_requests WHERE contract_id = $1 ORDER BY request_id",
    )
    .bind(contract.id)
    .fetch_all(&mut **tx)
    .await?;
    let (present,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM request_safeguards s JOIN contract_requests c ON c.request_id = s.request_id \
         WHERE c.contract_id = $1 AND s.status = 'present'",
    )
    .bind(contract.id)
    .fetch_one(&mut **tx)
    .await?;
    let safeguard_recorded = present > 0 || !contract.safeguard_clauses.0.is_empty();
    Ok(ContractDetail {
        request_ids: links.into_iter().map(|(id,)| id).collect(),
        safeguard_recorded,
        contract,
    })
}

/// What the store finds of the vendor and the requests a contract's fields name, for the planner.
async fn references(tx: &mut Tx, fields: &ContractFields) -> Result<References, ApiError> {
    let vendor: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM vendors WHERE id = $1")
        .bind(fields.vendor_id)
        .fetch_optional(&mut **tx)
        .await?;
    let mut request_vendors = BTreeMap::new();
    for request_id in &fields.request_ids {
        let vendor: Option<(Uuid,)> =
            sqlx::query_as("SELECT vendor_id FROM requests WHERE id = $1")
                .bind(request_id)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some((vendor,)) = vendor {
            request_vendors.insert(*request_id, vendor);
        }
    }
    Ok(References {
        vendor_registered: vendor.is_some(),
        request_vendors,
    })
}

async fn link_requests(
    tx: &mut Tx,
    contract_id: Uuid,
    fields: &ContractFields,
) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM contract_requests WHERE contract_id = $1")
        .bind(contract_id)
        .execute(&mut **tx)
        .await?;
    for request_id in &fields.request_ids {
        sqlx::query("INSERT INTO contract_requests (contract_id, request_id) VALUES ($1, $2)")
            .bind(contract_id)
            .bind(request_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn duplicate_number(number: &str) -> impl FnOnce(sqlx::Error) -> ApiError + '_ {
    unique_as(ProblemCode::DuplicateContract, move || {
        format!("a contract numbered {number:?} is already recorded")
    })
}

/// Locks a contract for a change and checks the version the caller read.
async fn lock_contract(tx: &mut Tx, id: Uuid, if_match: i64) -> Result<ContractRecord, ApiError> {
    let current: ContractRecord = lock(tx, "SELECT * FROM contracts WHERE id = $1", id)
        .await?
        .ok_or_else(|| ApiError::not_found("contract"))?;
    check_version(current.version, Some(if_match))?;
    Ok(current)
}

/// Reads back the contract a change wrote, audits the change against `before` and commits.
async fn finish(
    mut tx: Tx,
    actor: &Actor,
    action: &str,
    before: Option<&ContractDetail>,
    record: ContractRecord,
) -> Result<ContractDetail, ApiError> {
    let detail = contract_detail(&mut tx, record).await?;
    let id = detail.contract.id.to_string();
    commit_audited(
        tx,
        actor,
        action,
        "contract",
        &id,
        before.map(to_json),
        Some(to_json(&detail)),
    )
    .await?;
    Ok(detail)
}

fn state_of(record: &ContractRecord) -> ContractState {
    ContractState {
        vendor_id: record.vendor_id,
        days: record.days(),
    }
}

/// The contracts of a status on `$4`, the day: the same order of precedence as `ContractDays::status` (closed
/// first, then pending before the start date, ended after the end date, expiring inside the notice period).
const CONTRACT_WHERE: &str = "FROM contracts c WHERE ($1 IS NULL OR c.vendor_id = $1) \
    AND ($2 IS NULL OR EXISTS (SELECT 1 FROM contract_requests l WHERE l.contract_id = c.id AND l.request_id = $2)) \
    AND ($3 IS NULL OR ($3 = 'cancelled' AND c.cancelled_at IS NOT NULL) \
         OR ($3 = 'decommissioned' AND c.cancelled_at IS NULL AND c.decommissioned_on IS NOT NULL) \
         OR (c.cancelled_at IS NULL AND c.decommissioned_on IS NULL AND ( \
             ($3 = 'pending' AND c.start_date > $4) \
             OR ($3 = 'ended' AND c.start_date <= $4 AND c.end_date < $4) \
             OR ($3 = 'expiring' AND c.start_date <= $4 AND c.end_date >= $4 AND c.notice_starts_on <= $4) \
             OR ($3 = 'active' AND c.start_date <= $4 AND c.notice_starts_on > $4))))";

impl Repo {
    /// A request's checklist and the rows recorded against it.
    pub async fn safeguards(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestRecord, Vec<ChecklistEntry>, Vec<SafeguardRecord>), ApiError> {
        let mut tx = self.pool.begin().await?;
        let request: RequestRecord = sqlx::query_as("SELECT * FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .filter(|r: &RequestRecord| scope.admits_department(&r.department_code))
            .ok_or_else(|| ApiError::not_found("request"))?;
        let state = super::requests_impl::load_state(&mut tx, &request).await?;
        let entries = crate::workflow::safeguards::checklist_of(state.route.as_ref(), &state)?;
        let rows = safeguard_rows(&mut tx, id).await?;
        tx.rollback().await?;
        Ok((request, entries, rows))
    }

    /// Records clauses as present, waived or missing, then settles or re-opens the safeguards and evidence steps.
    pub async fn record_safeguards(
        &self,
        actor: &Actor,
        caller: &crate::workflow::Caller,
        id: Uuid,
        if_match: i64,
        changes: Vec<(String, ClauseStatus)>,
    ) -> Result<(RequestRecord, Vec<ChecklistEntry>, Vec<SafeguardRecord>), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current =
            super::requests_impl::lock_version(&mut tx, &Scope::All, id, if_match).await?;
        let state = super::requests_impl::load_state(&mut tx, &current).await?;
        let entries = crate::workflow::safeguards::record(&state, caller, &changes)?;
        let before = safeguard_rows(&mut tx, id).await?;
        let at = now();
        for (clause_id, status) in &changes {
            let (
                state,
                document,
                section,
                attested_by,
                attested_at,
                justification,
                waived_by,
                waived_at,
            ) = match status {
                ClauseStatus::Missing => (
                    SafeguardState::Missing,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ),
                ClauseStatus::Present {
                    document,
                    section,
                    attested_by,
                    attested_at,
                } => (
                    SafeguardState::Present,
                    Some(document),
                    Some(section),
                    Some(attested_by),
                    Some(*attested_at),
                    None,
                    None,
                    None,
                ),
                ClauseStatus::Waived {
                    justification,
                    waived_by,
                    waived_at,
                } => (
                    SafeguardState::Waived,
                    None,
                    None,
                    None,
                    None,
                    Some(justification),
                    Some(waived_by),
                    Some(*waived_at),
                ),
            };
            sqlx::query(
                "INSERT INTO request_safeguards (request_id, clause_id, status, document, section, attested_by, \
                 attested_at, justification, waived_by, waived_at, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (request_id, clause_id) \
                 DO UPDATE SET status = excluded.status, document = excluded.document, section = excluded.section, \
                 attested_by = excluded.attested_by, attested_at = excluded.attested_at, \
                 justification = excluded.justification, waived_by = excluded.waived_by, \
                 waived_at = excluded.waived_at, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(id)
            .bind(clause_id)
            .bind(state)
            .bind(document)
            .bind(section)
            .bind(attested_by)
            .bind(attested_at)
            .bind(justification)
            .bind(waived_by)
            .bind(waived_at)
            .bind(&actor.subject)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        let rows = safeguard_rows(&mut tx, id).await?;
        let evidence =
            super::requests_impl::load_evidence(&mut tx, id, current.vendor_id, current.submission)
                .await?;
        let mut plan =
            crate::workflow::requests::settle_plan(&state, &evidence).unwrap_or_else(|| {
                crate::workflow::requests::status_after(
                    &state,
                    Vec::new(),
                    "request.safeguards_recorded",
                )
            });
        plan.audit_action = "request.safeguards_recorded";
        let extra = serde_json::json!({"safeguards_before": before, "safeguards": rows});
        let updated =
            super::requests_impl::apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok((updated, entries, rows))
    }

    pub async fn list_contracts(
        &self,
        filter: &ContractFilter,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Paged<ContractDetail>, ApiError> {
        let status = filter.status.map(ContractStatus::as_str);
        let mut tx = self.pool.begin().await?;
        let records: Vec<ContractRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT c.* {CONTRACT_WHERE} ORDER BY c.end_date, c.id LIMIT $5 OFFSET $6"
        )))
        .bind(filter.vendor_id)
        .bind(filter.request_id)
        .bind(status)
        .bind(today)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&mut *tx)
        .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) {CONTRACT_WHERE}"
        )))
        .bind(filter.vendor_id)
        .bind(filter.request_id)
        .bind(status)
        .bind(today)
        .fetch_one(&mut *tx)
        .await?;
        let mut items = Vec::with_capacity(records.len());
        for record in records {
            items.push(contract_detail(&mut tx, record).await?);
        }
        tx.rollback().await?;
        Ok(Paged { items, total })
    }

    pub async fn get_contract(&self, id: Uuid) -> Result<ContractDetail, ApiError> {
        let mut tx = self.pool.begin().await?;
        let record: ContractRecord = sqlx::query_as("SELECT * FROM contracts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("contract"))?;
        let detail = contract_detail(&mut tx, record).await?;
        tx.rollback().await?;
        Ok(detail)
    }

    pub async fn create_contract(
        &self,
        actor: &Actor,
        fields: ContractFields,
    ) -> Result<ContractDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let refs = references(&mut tx, &fields).await?;
        let fields = plan::plan_create(fields, &refs)?;
        let at = now();
        let record: ContractRecord = sqlx::query_as(
            "INSERT INTO contracts (id, vendor_id, contract_number, title, start_date, end_date, value_cents, \
             renewal_notice_days, notice_starts_on, safeguard_clauses, version, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(fields.vendor_id)
        .bind(&fields.contract_number)
        .bind(&fields.title)
        .bind(fields.start_date)
        .bind(fields.end_date)
        .bind(fields.value_cents)
        .bind(fields.renewal_notice_days)
        .bind(fields.notice_starts_on())
        .bind(Json(&fields.safeguard_clauses))
        .bind(&actor.subject)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate_number(&fields.contract_number))?;
        link_requests(&mut tx, record.id, &fields).await?;
        finish(tx, actor, "contract.created", None, record).await
    }

    pub async fn update_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        fields: ContractFields,
    ) -> Result<ContractDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_contract(&mut tx, id, if_match).await?;
        let refs = references(&mut tx, &fields).await?;
        let fields = plan::plan_replace(&state_of(&current), fields, &refs, now().date_naive())?;
        let before = contract_detail(&mut tx, current).await?;
        let record: ContractRecord = sqlx::query_as(
            "UPDATE contracts SET contract_number = $2, title = $3, start_date = $4, end_date = $5, value_cents = $6, \
             renewal_notice_days = $7, notice_starts_on = $8, safeguard_clauses = $9, version = version + 1, \
             updated_at = $10 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&fields.contract_number)
        .bind(&fields.title)
        .bind(fields.start_date)
        .bind(fields.end_date)
        .bind(fields.value_cents)
        .bind(fields.renewal_notice_days)
        .bind(fields.notice_starts_on())
        .bind(Json(&fields.safeguard_clauses))
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate_number(&fields.contract_number))?;
        link_requests(&mut tx, id, &fields).await?;
        finish(tx, actor, "contract.updated", Some(&before), record).await
    }

    /// Ends a contract's life: records how the city's data came back or was destroyed, and the certificate.
    pub async fn decommission_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        decommission: Decommission,
    ) -> Result<ContractDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_contract(&mut tx, id, if_match).await?;
        let decommission =
            plan::plan_decommission(&state_of(&current), decommission, now().date_naive())?;
        let before = contract_detail(&mut tx, current).await?;
        let record: ContractRecord = sqlx::query_as(
            "UPDATE contracts SET decommissioned_on = $2, data_disposition = $3, certificate_reference = $4, \
             certified_by = $5, decommission_note = $6, decommissioned_by = $7, version = version + 1, \
             updated_at = $8 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(decommission.decommissioned_on)
        .bind(decommission.data_disposition)
        .bind(&decommission.certificate_reference)
        .bind(&decommission.certified_by)
        .bind(decommission.note.as_deref())
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        finish(tx, actor, "contract.decommissioned", Some(&before), record).await
    }

    /// Calls off a contract that has not started, with the reason.
    pub async fn cancel_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        cancellation: Cancellation,
    ) -> Result<ContractDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_contract(&mut tx, id, if_match).await?;
        let at = now();
        let cancellation = plan::plan_cancel(&state_of(&current), cancellation, at.date_naive())?;
        let before = contract_detail(&mut tx, current).await?;
        let record: ContractRecord = sqlx::query_as(
            "UPDATE contracts SET cancelled_at = $2, cancelled_by = $3, cancellation_reason = $4, \
             version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(at)
        .bind(&actor.subject)
        .bind(&cancellation.reason)
        .fetch_one(&mut *tx)
        .await?;
        finish(tx, actor, "contract.cancelled", Some(&before), record).await
    }

    /// The next re-assessment date of each vendor that holds personal information for the city (a request in
    /// review or approved with `pi_ma` or `pi_ct`) and has an accepted assessment: `months` after the last one.
    /// `only` narrows it to the vendors of one page or one read, so that reading a vendor does not scan every
    /// request in the city; `None` schedules every vendor (the job runner, the overdue list).
    /// Which requests hold such information is kept in a column beside their fields (migration 0027), so this
    /// reads no request's fields.
    pub async fn reassessment_schedule(
        &self,
        months: u32,
        only: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, NaiveDate>, ApiError> {
        let mut holders: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
        let mut accepted: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = Vec::new();
        // Every vendor in one query each, or the vendors asked for, 500 at a time.
        let chunks: Vec<Option<&[Uuid]>> = match only {
            None => vec![None],
            Some(ids) => ids.chunks(500).map(Some).collect(),
        };
        for chunk in chunks {
            let among = |column: &str| match chunk {
                None => String::new(),
                Some(ids) => format!(
                    " AND {column} IN ({})",
                    crate::store::placeholders(ids.len())
                ),
            };
            let sql = format!(
                "SELECT DISTINCT vendor_id FROM requests WHERE holds_personal_information = TRUE \
                 AND status IN ('in_review', 'awaiting_decision', 'approved', 'approved_with_conditions'){}",
                among("vendor_id")
            );
            let mut query = sqlx::query_scalar::<_, Uuid>(sqlx::AssertSqlSafe(sql));
            for id in chunk.unwrap_or_default() {
                query = query.bind(id);
            }
            holders.extend(query.fetch_all(&self.pool).await?);
            // From the vendor's assessments to their reviews: SQLite, left to choose, scans every review instead.
            let sql = format!(
                "SELECT a.vendor_id, r.reviewed_at FROM assessments a CROSS JOIN assessment_reviews r \
                 WHERE r.assessment_id = a.id AND r.outcome = 'accepted'{}",
                among("a.vendor_id")
            );
            let mut query = sqlx::query_as::<_, (Uuid, chrono::DateTime<chrono::Utc>)>(
                sqlx::AssertSqlSafe(sql),
            );
            for id in chunk.unwrap_or_default() {
                query = query.bind(id);
            }
            accepted.extend(query.fetch_all(&self.pool).await?);
        }
        let mut last: HashMap<Uuid, NaiveDate> = HashMap::new();
        for (vendor, at) in accepted.into_iter().filter(|(v, _)| holders.contains(v)) {
            let day = at.date_naive();
            last.entry(vendor)
                .and_modify(|d| *d = (*d).max(day))
                .or_insert(day);
        }
        Ok(last
            .into_iter()
            .map(|(v, d)| (v, next_review_date(d, months)))
            .collect())
    }
}
