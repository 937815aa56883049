// Incidents: reports, their lifecycle, the notices sent, and the evidence kept as uploaded (every read of it
// audited). Included by both backends as a submodule, like requests/loaders.rs. The rules are the planner's
// (`crate::workflow::incidents`); the deadlines are computed from the stored dates (`crate::domain::incidents`).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::incidents::{self as rules, DeadlineTerms, EvidenceKind, NoticeRecipient};
use crate::domain::roles::Role;
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, IncidentDetail, IncidentEvidenceRecord, IncidentFilter, IncidentNoticeRecord,
    IncidentRecord, IncidentScope, IncidentStep, NewNotice, Paged, to_json,
};
use crate::workflow::Refusal;
use crate::workflow::incidents::{
    self as plan, IncidentAction, IncidentState, NewIncident, References, Reporter,
};

const EVIDENCE_COLUMNS: &str = "id, incident_id, kind, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_role, uploaded_at";

async fn detail(tx: &mut Tx, incident: IncidentRecord) -> Result<IncidentDetail, ApiError> {
    let evidence: Vec<IncidentEvidenceRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EVIDENCE_COLUMNS} FROM incident_evidence WHERE incident_id = $1 ORDER BY uploaded_at, id"
    )))
    .bind(incident.id)
    .fetch_all(&mut **tx)
    .await?;
    let notices: Vec<IncidentNoticeRecord> = sqlx::query_as(
        "SELECT * FROM incident_notices WHERE incident_id = $1 ORDER BY sent_at, id",
    )
    .bind(incident.id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(IncidentDetail {
        incident,
        evidence,
        notices,
    })
}

async fn terms(tx: &mut Tx) -> Result<DeadlineTerms, ApiError> {
    let (_, policy) = super::requests_impl::load_policy(tx, None).await?;
    Ok(DeadlineTerms::of(&policy))
}

/// The incident as the planner sees it: its status, hold, the notices its deadlines need and those recorded.
fn state_of(detail: &IncidentDetail, terms: DeadlineTerms) -> Result<IncidentState, ApiError> {
    let deadlines = rules::incident_deadlines(&detail.incident.facts(), terms);
    Ok(IncidentState {
        status: detail.incident.status,
        hold: detail.incident.hold,
        required: rules::required_notices(&deadlines),
        sent: detail
            .sent()
            .into_iter()
            .map(|(r, _)| r)
            .collect::<BTreeSet<NoticeRecipient>>(),
    })
}

/// Locks an incident in the caller's scope for a change and checks the version read.
async fn lock_incident(
    tx: &mut Tx,
    scope: &IncidentScope,
    id: Uuid,
    if_match: i64,
) -> Result<IncidentDetail, ApiError> {
    let current: IncidentRecord = lock(tx, "SELECT * FROM incidents WHERE id = $1", id)
        .await?
        .filter(|i| scope.admits(i))
        .ok_or(Refusal::NotFound("incident"))?;
    check_version(current.version, Some(if_match))?;
    detail(tx, current).await
}

/// Moves the version on (and the status, when given), audits the change against `before` and commits.
async fn finish(
    mut tx: Tx,
    actor: &Actor,
    action: &str,
    before: &IncidentDetail,
    status: Option<rules::IncidentStatus>,
) -> Result<IncidentDetail, ApiError> {
    let id = before.incident.id;
    let status = status.unwrap_or(before.incident.status);
    let record: IncidentRecord = sqlx::query_as(
        "UPDATE incidents SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(status)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    let after = detail(&mut tx, record).await?;
    commit_audited(
        tx,
        actor,
        action,
        "incident",
        &id.to_string(),
        Some(to_json(before)),
        Some(to_json(&after)),
    )
    .await?;
    Ok(after)
}

async fn references(tx: &mut Tx, new: &NewIncident) -> Result<References, ApiError> {
    let vendor_registered = match new.vendor_id {
        Some(v) => sqlx::query_as::<_, (Uuid,)>("SELECT id FROM vendors WHERE id = $1")
            .bind(v)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
        None => false,
    };
    let mut contract_vendors = BTreeMap::new();
    for id in &new.contract_ids {
        let found: Option<(Uuid,)> =
            sqlx::query_as("SELECT vendor_id FROM contracts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some((vendor,)) = found {
            contract_vendors.insert(*id, vendor);
        }
    }
    let mut request_vendors = BTreeMap::new();
    for id in &new.request_ids {
        let found: Option<(Uuid,)> = sqlx::query_as("SELECT vendor_id FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some((vendor,)) = found {
            request_vendors.insert(*id, vendor);
        }
    }
    Ok(References {
        vendor_registered,
        contract_vendors,
        request_vendors,
    })
}

impl Repo {
    pub async fn list_incidents(
        &self,
        scope: &IncidentScope,
        filter: &IncidentFilter,
        page: PageRequest,
    ) -> Result<Paged<IncidentDetail>, ApiError> {
        let scope_vendor = match scope {
            IncidentScope::Vendor(v) | IncidentScope::Invitation { vendor: v, .. } => Some(*v),
            IncidentScope::All | IncidentScope::Department(_) => None,
        };
        let status = filter.status.map(|s| s.as_str());
        let mut tx = self.pool.begin().await?;
        // A vendor's incidents are few; an invitation's narrowing (by a request in a JSON list) is applied here,
        // the same way on both backends.
        let candidates: Vec<IncidentRecord> = sqlx::query_as(
            "SELECT * FROM incidents WHERE ($1 IS NULL OR vendor_id = $1) AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR vendor_id = $3) ORDER BY discovered_at DESC, id",
        )
        .bind(scope_vendor)
        .bind(status)
        .bind(filter.vendor_id)
        .fetch_all(&mut *tx)
        .await?;
        let admitted: Vec<IncidentRecord> =
            candidates.into_iter().filter(|i| scope.admits(i)).collect();
        let total = admitted.len() as i64;
        let mut items = Vec::new();
        for record in admitted
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit as usize)
        {
            items.push(detail(&mut tx, record).await?);
        }
        tx.rollback().await?;
        Ok(Paged { items, total })
    }

    pub async fn get_incident(
        &self,
        scope: &IncidentScope,
        id: Uuid,
    ) -> Result<IncidentDetail, ApiError> {
        let mut tx = self.pool.begin().await?;
        let record: IncidentRecord = sqlx::query_as("SELECT * FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .filter(|i| scope.admits(i))
            .ok_or(Refusal::NotFound("incident"))?;
        let found = detail(&mut tx, record).await?;
        tx.rollback().await?;
        Ok(found)
    }

    pub async fn report_incident(
        &self,
        actor: &Actor,
        reporter: &Reporter,
        new: NewIncident,
    ) -> Result<IncidentDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let mut named = new.clone();
        if let (Reporter::Vendor(own), None) = (reporter, named.vendor_id) {
            named.vendor_id = Some(*own);
        }
        let refs = references(&mut tx, &named).await?;
        let new = plan::plan_report(new, reporter, &refs, at)?;
        let record: IncidentRecord = sqlx::query_as(
            "INSERT INTO incidents (id, vendor_id, title, description, systems, data_classes, contract_ids, \
             request_ids, residents_ma, residents_ct, residents_other, ssn_involved, tin_involved, discovered_at, \
             city_notified_at, steps_taken, responsible_person, status, hold, reported_by, reporter_role, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, 'reported', $18, $19, $20, 1, $21, $21) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(new.vendor_id)
        .bind(&new.title)
        .bind(&new.description)
        .bind(Json(&new.systems))
        .bind(Json(&new.data_classes))
        .bind(Json(&new.contract_ids))
        .bind(Json(&new.request_ids))
        .bind(new.residents_ma)
        .bind(new.residents_ct)
        .bind(new.residents_other)
        .bind(new.ssn_involved)
        .bind(new.tin_involved)
        .bind(new.discovered_at)
        .bind(new.city_notified_at)
        .bind(new.steps_taken.as_deref())
        .bind(new.responsible_person.as_deref())
        .bind(false)
        .bind(&actor.subject)
        .bind(reporter.role())
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let created = detail(&mut tx, record).await?;
        let id = created.incident.id.to_string();
        commit_audited(
            tx,
            actor,
            "incident.reported",
            "incident",
            &id,
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    /// A step of the lifecycle: triage, containment, the post-incident review, closing, or not a breach.
    pub async fn step_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        step: IncidentStep,
    ) -> Result<IncidentDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_incident(&mut tx, &IncidentScope::All, id, if_match).await?;
        let state = state_of(&current, terms(&mut tx).await?)?;
        let at = now();
        let (status, action) = match &step {
            IncidentStep::Triage => (
                plan::plan_step(&state, IncidentAction::Triage)?,
                "incident.triaged",
            ),
            IncidentStep::Contain => (
                plan::plan_step(&state, IncidentAction::Contain)?,
                "incident.contained",
            ),
            IncidentStep::Review {
                findings,
                assessment_id,
                vendor_findings,
            } => {
                let findings = plan::plan_review(&state, findings)?;
                let target: Option<(Uuid, Uuid, crate::domain::assessments::AssessmentStatus)> =
                    match assessment_id {
                        Some(a) => sqlx::query_as(
                            "SELECT request_id, vendor_id, status FROM assessments WHERE id = $1",
                        )
                        .bind(a)
                        .fetch_optional(&mut *tx)
                        .await?,
                        None => None,
                    };
                if assessment_id.is_some() && target.is_none() {
                    return Err(Refusal::field("assessment_id", "no assessment has this id").into());
                }
                let seen = target
                    .as_ref()
                    .map(|(_, vendor_id, status)| plan::ReviewTarget {
                        vendor_id: *vendor_id,
                        status: *status,
                    });
                let raised = plan::plan_review_findings(
                    current.incident.vendor_id,
                    seen.as_ref(),
                    vendor_findings,
                )?;
                let mut raised_ids = Vec::with_capacity(raised.len());
                if let (Some(assessment), Some((request_id, vendor_id, _))) =
                    (assessment_id, &target)
                {
                    let short = id.simple().to_string();
                    for (n, f) in raised.iter().enumerate() {
                        let created: crate::store::FindingRecord = sqlx::query_as(
                            "INSERT INTO findings (id, assessment_id, request_id, vendor_id, question_id, severity, \
                             title, reason, citation, status, version, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', 1, $10, $10) RETURNING *",
                        )
                        .bind(Uuid::new_v4())
                        .bind(assessment)
                        .bind(request_id)
                        .bind(vendor_id)
                        .bind(format!("PIR-{}-{}", &short[..8], n + 1))
                        .bind(f.severity)
                        .bind(&f.title)
                        .bind(&f.reason)
                        .bind("201 CMR 17.03(2)(j)")
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await?;
                        let fid = created.id.to_string();
                        audit(
                            &mut tx,
                            actor,
                            "finding.raised",
                            "finding",
                            &fid,
                            None,
                            Some(to_json(&created)),
                        )
                        .await?;
                        raised_ids.push(created.id);
                    }
                }
                sqlx::query(
                    "UPDATE incidents SET review_findings = $2, reviewed_by = $3, reviewed_at = $4, \
                     review_finding_ids = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(&findings)
                .bind(&actor.subject)
                .bind(at)
                .bind(Json(&raised_ids))
                .execute(&mut *tx)
                .await?;
                (
                    rules::IncidentStatus::PostIncidentReview,
                    "incident.reviewed",
                )
            }
            IncidentStep::Close => {
                let status = plan::plan_step(&state, IncidentAction::Close)?;
                sqlx::query("UPDATE incidents SET closed_by = $2, closed_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(&actor.subject)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                (status, "incident.closed")
            }
            IncidentStep::NotABreach { reason } => {
                let reason = plan::plan_not_a_breach(&state, reason)?;
                sqlx::query(
                    "UPDATE incidents SET not_breach_reason = $2, closed_by = $3, closed_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(&reason)
                .bind(&actor.subject)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                (
                    rules::IncidentStatus::ClosedNotBreach,
                    "incident.closed_not_breach",
                )
            }
        };
        finish(tx, actor, action, &current, Some(status)).await
    }

    /// Records a notice the city sent; a contained incident whose every required notice is recorded moves to
    /// `notices_sent`.
    pub async fn record_incident_notice(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        notice: NewNotice,
    ) -> Result<IncidentDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_incident(&mut tx, &IncidentScope::All, id, if_match).await?;
        let state = state_of(&current, terms(&mut tx).await?)?;
        let at = now();
        let status = plan::plan_notice(&state, notice.recipient, notice.sent_at, at)?;
        sqlx::query(
            "INSERT INTO incident_notices (id, incident_id, recipient, sent_at, method, reference, recorded_by, \
             recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(notice.recipient.as_str())
        .bind(notice.sent_at)
        .bind(notice.method.trim())
        .bind(notice.reference.as_deref().map(str::trim))
        .bind(&actor.subject)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        finish(
            tx,
            actor,
            "incident.notice_recorded",
            &current,
            Some(status),
        )
        .await
    }

    /// Sets or lifts a hold on the incident's evidence, with the reason.
    pub async fn hold_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        hold: bool,
        reason: &str,
    ) -> Result<IncidentDetail, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_incident(&mut tx, &IncidentScope::All, id, if_match).await?;
        let reason = plan::plan_hold(hold, reason)?;
        sqlx::query("UPDATE incidents SET hold = $2, hold_reason = $3 WHERE id = $1")
            .bind(id)
            .bind(hold)
            .bind(&reason)
            .execute(&mut *tx)
            .await?;
        let action = if hold {
            "incident.hold_set"
        } else {
            "incident.hold_lifted"
        };
        finish(tx, actor, action, &current, None).await
    }

    /// Keeps a file for the incident as uploaded, with its SHA-256, who (acting as `role`) and when.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach_incident_evidence(
        &self,
        actor: &Actor,
        role: Role,
        scope: &IncidentScope,
        id: Uuid,
        if_match: i64,
        kind: EvidenceKind,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(IncidentDetail, IncidentEvidenceRecord), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_incident(&mut tx, scope, id, if_match).await?;
        let state = state_of(&current, terms(&mut tx).await?)?;
        plan::plan_attach(&state)?;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
        let stored: IncidentEvidenceRecord = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO incident_evidence (id, incident_id, kind, file_name, content_type, size_bytes, sha256, data, \
             uploaded_by, uploaded_role, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             RETURNING {EVIDENCE_COLUMNS}"
        )))
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(kind)
        .bind(file_name)
        .bind(content_type)
        .bind(data.len() as i64)
        .bind(&sha256)
        .bind(data)
        .bind(&actor.subject)
        .bind(role)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let after = finish(tx, actor, "incident.evidence_attached", &current, None).await?;
        Ok((after, stored))
    }

    /// Reads a file of the incident and records the read in the audit trail (the chain of custody), in the same
    /// transaction: no read goes unrecorded.
    pub async fn read_incident_evidence(
        &self,
        actor: &Actor,
        scope: &IncidentScope,
        id: Uuid,
        evidence_id: Uuid,
    ) -> Result<(IncidentEvidenceRecord, Vec<u8>), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let _incident: IncidentRecord = sqlx::query_as("SELECT * FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .filter(|i| scope.admits(i))
            .ok_or(Refusal::NotFound("incident"))?;
        let meta: IncidentEvidenceRecord = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVIDENCE_COLUMNS} FROM incident_evidence WHERE id = $1 AND incident_id = $2"
        )))
        .bind(evidence_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Refusal::NotFound("evidence"))?;
        let (data,): (Vec<u8>,) =
            sqlx::query_as("SELECT data FROM incident_evidence WHERE id = $1")
                .bind(evidence_id)
                .fetch_one(&mut *tx)
                .await?;
        commit_audited(
            tx,
            actor,
            "incident.evidence_read",
            "incident_evidence",
            &evidence_id.to_string(),
            None,
            Some(to_json(&meta)),
        )
        .await?;
        Ok((meta, data))
    }

    /// Deletes a file once the incident is closed and no hold stands; the audit record keeps its hash.
    pub async fn delete_incident_evidence(
        &self,
        actor: &Actor,
        id: Uuid,
        evidence_id: Uuid,
    ) -> Result<(), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let record: IncidentRecord = lock(&mut tx, "SELECT * FROM incidents WHERE id = $1", id)
            .await?
            .ok_or(Refusal::NotFound("incident"))?;
        let current = detail(&mut tx, record).await?;
        let meta = current
            .evidence
            .iter()
            .find(|e| e.id == evidence_id)
            .cloned()
            .ok_or(Refusal::NotFound("evidence"))?;
        let state = state_of(&current, terms(&mut tx).await?)?;
        plan::plan_delete_evidence(&state)?;
        sqlx::query("DELETE FROM incident_evidence WHERE id = $1")
            .bind(evidence_id)
            .execute(&mut *tx)
            .await?;
        commit_audited(
            tx,
            actor,
            "incident.evidence_deleted",
            "incident_evidence",
            &evidence_id.to_string(),
            Some(to_json(&meta)),
            None,
        )
        .await?;
        Ok(())
    }

    /// Open incidents with what their deadlines read, for the job runner.
    pub async fn open_incidents(&self) -> Result<Vec<IncidentDetail>, ApiError> {
        let mut tx = self.pool.begin().await?;
        let records: Vec<IncidentRecord> = sqlx::query_as(
            "SELECT * FROM incidents WHERE status NOT IN ('closed', 'closed_not_breach') ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(detail(&mut tx, record).await?);
        }
        tx.rollback().await?;
        Ok(out)
    }
}
