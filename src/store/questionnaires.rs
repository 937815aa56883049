// Templates, vendor invitations, assessments, answers, evidence, reviews and findings. Included by both backends
// as a submodule, like requests.rs.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::assessment::{AssessmentStatus, FindingChange, FindingStatus, ScoreView};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, AnswerEntry, AnswerRecord, AssessmentRecord, EvidenceRecord, FindingFilter, FindingRecord, InvitationRecord, NewCycle,
    NewFinding, Paged, RequestRecord, ReviewComment, ReviewRecord, VendorScope, to_json,
};

/// The two bindings a scope becomes (`$1` department code, `$2` vendor id) for queries whose clause is
/// `($1 IS NULL OR r.department_code = $1) AND ($2 IS NULL OR <alias>.vendor_id = $2)`.
fn scope_binds(scope: &VendorScope) -> (Option<String>, Option<Uuid>) {
    match scope {
        VendorScope::All => (None, None),
        VendorScope::Department(d) => (Some(d.clone()), None),
        VendorScope::Vendor(v) => (None, Some(*v)),
    }
}

async fn lock_assessment(tx: &mut Tx, scope: &VendorScope, id: Uuid) -> Result<AssessmentRecord, ApiError> {
    let found: Option<AssessmentRecord> =
        sqlx::query_as(concat!("SELECT * FROM assessments WHERE id = $1", for_update!()))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let found = found.ok_or_else(|| ApiError::not_found("assessment"))?;
    if visible(tx, scope, found.vendor_id, found.request_id).await? {
        Ok(found)
    } else {
        Err(ApiError::not_found("assessment"))
    }
}

/// Whether an object of `vendor_id`'s, made for `request_id`, lies in the caller's scope.
async fn visible(tx: &mut Tx, scope: &VendorScope, vendor_id: Uuid, request_id: Uuid) -> Result<bool, ApiError> {
    Ok(match scope {
        VendorScope::All => true,
        VendorScope::Vendor(v) => vendor_id == *v,
        VendorScope::Department(d) => {
            let (code,): (String,) = sqlx::query_as("SELECT department_code FROM requests WHERE id = $1")
                .bind(request_id)
                .fetch_one(&mut **tx)
                .await?;
            &code == d
        }
    })
}

/// Answers and evidence change only while the vendor holds the assessment (open, or returned for revision).
fn ensure_editable(a: &AssessmentRecord, what: &str) -> Result<(), ApiError> {
    if status_of(a).editable() {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "assessment_not_editable",
            format!("the assessment is {}; {what} only while it is open or returned", a.status),
        ))
    }
}

fn status_of(a: &AssessmentRecord) -> AssessmentStatus {
    AssessmentStatus::parse(&a.status).unwrap_or(AssessmentStatus::Open)
}

fn check_assessment_version(a: &AssessmentRecord, if_match: Option<i64>) -> Result<(), ApiError> {
    match if_match {
        Some(v) if v != a.version => Err(ApiError::stale(&format!("\"{}\"", a.version))),
        _ => Ok(()),
    }
}

/// Creates the assessments a route's security review names, against the current version of each template.
/// An assessment already made for the request and template (a resubmission) is kept as it is.
pub(super) async fn create_assessments(
    tx: &mut Tx,
    actor: &Actor,
    request: &RequestRecord,
    questionnaires: &[String],
    due_days: u32,
) -> Result<(), ApiError> {
    let due = (now() + chrono::Duration::days(due_days as i64)).date_naive();
    for template_id in questionnaires {
        let current: Option<(String,)> =
            sqlx::query_as("SELECT version FROM template_versions WHERE template_id = $1 AND current = TRUE")
                .bind(template_id)
                .fetch_optional(&mut **tx)
                .await?;
        let Some((version,)) = current else {
            tracing::warn!(template_id, "the policy names a questionnaire that is not loaded");
            continue;
        };
        let at = now();
        let created: Option<AssessmentRecord> = sqlx::query_as(
            "INSERT INTO assessments (id, request_id, vendor_id, template_id, template_version, status, due_date, \
             submission, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, 0, 1, $7, $7) \
             ON CONFLICT (request_id, template_id) DO NOTHING RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(request.id)
        .bind(request.vendor_id)
        .bind(template_id)
        .bind(&version)
        .bind(due)
        .bind(at)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(a) = created {
            audit(tx, actor, "assessment.created", "assessment", &a.id.to_string(), None, Some(to_json(&a))).await?;
        }
    }
    Ok(())
}

/// Settles the request's steps that evidence completes (the security review once every questionnaire it names is
/// accepted and no critical finding stands); called after each event that could complete one.
async fn evaluate_security_step(tx: &mut Tx, actor: &Actor, request_id: Uuid) -> Result<(), ApiError> {
    super::requests_impl::resettle(tx, actor, request_id).await?;
    Ok(())
}

/// Cancels a closed request's open work. PLACEHOLDER until the invitation-scope branch lands: it cancels
/// assessments and revokes invitations made for the request.
pub(super) async fn close_for_request(
    _tx: &mut Tx,
    _actor: &Actor,
    _request_id: Uuid,
    _reason: &str,
) -> Result<(), ApiError> {
    Ok(())
}

/// Stores or clears answers inside the caller's transaction; returns what changed, for the audit record.
async fn upsert_answers(
    tx: &mut Tx,
    actor: &Actor,
    id: Uuid,
    entries: Vec<AnswerEntry>,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let at = now();
    let mut changes = Vec::new();
    for entry in entries {
        let AnswerEntry {
            question_id,
            value,
            comment,
            evidence_ref,
            source,
        } = entry;
        match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO answers (assessment_id, question_id, value, comment, evidence_ref, source, updated_by, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (assessment_id, question_id) DO \
                     UPDATE SET value = excluded.value, comment = excluded.comment, evidence_ref = excluded.evidence_ref, \
                     source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(id)
                .bind(&question_id)
                .bind(Json(&value))
                .bind(comment.as_deref())
                .bind(evidence_ref.as_deref())
                .bind(&source)
                .bind(&actor.subject)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                changes.push(serde_json::json!({"question_id": question_id, "value": value, "comment": comment,
                                                "evidence_ref": evidence_ref, "source": source}));
            }
            None => {
                sqlx::query("DELETE FROM answers WHERE assessment_id = $1 AND question_id = $2")
                    .bind(id)
                    .bind(&question_id)
                    .execute(&mut **tx)
                    .await?;
                changes.push(serde_json::json!({"question_id": question_id, "cleared": true}));
            }
        }
    }
    Ok(changes)
}

async fn insert_evidence(
    tx: &mut Tx,
    actor: &Actor,
    assessment_id: Uuid,
    question_id: Option<&str>,
    file_name: &str,
    content_type: &str,
    data: &[u8],
) -> Result<EvidenceRecord, ApiError> {
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
    let created: EvidenceRecord = sqlx::query_as(
        "INSERT INTO evidence (id, assessment_id, question_id, file_name, content_type, size_bytes, sha256, data, \
         uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, assessment_id, \
         question_id, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at",
    )
    .bind(Uuid::new_v4())
    .bind(assessment_id)
    .bind(question_id)
    .bind(file_name)
    .bind(content_type)
    .bind(data.len() as i64)
    .bind(&sha256)
    .bind(data)
    .bind(&actor.subject)
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    audit(tx, actor, "evidence.uploaded", "evidence", &created.id.to_string(), None, Some(to_json(&created))).await?;
    Ok(created)
}

impl Repo {
    pub async fn register_template(
        &self,
        template_id: &str,
        version: &str,
        file_name: &str,
        source: &str,
    ) -> Result<(), ApiError> {
        let mut tx = begin(&self.pool).await?;
        let inserted = sqlx::query(
            "INSERT INTO template_versions (template_id, version, file_name, source, loaded_at, current) \
             VALUES ($1, $2, $3, $4, $5, TRUE) ON CONFLICT (template_id, version) DO NOTHING",
        )
        .bind(template_id)
        .bind(version)
        .bind(file_name)
        .bind(source)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE template_versions SET current = (version = $2) WHERE template_id = $1")
            .bind(template_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        if inserted == 1 {
            let system = Actor::system();
            let after = serde_json::json!({"template_id": template_id, "version": version, "file_name": file_name});
            audit(&mut tx, &system, "template.loaded", "template", template_id, None, Some(after)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn template_source(&self, template_id: &str, version: &str) -> Result<Option<(String, String)>, ApiError> {
        Ok(sqlx::query_as("SELECT file_name, source FROM template_versions WHERE template_id = $1 AND version = $2")
            .bind(template_id)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn create_invitation(
        &self,
        actor: &Actor,
        vendor_id: Uuid,
        contact_email: &str,
        contact_name: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<InvitationRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let vendor: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM vendors WHERE id = $1")
            .bind(vendor_id)
            .fetch_optional(&mut *tx)
            .await?;
        if vendor.is_none() {
            return Err(ApiError::not_found("vendor"));
        }
        let created: InvitationRecord = sqlx::query_as(
            "INSERT INTO vendor_invitations (id, vendor_id, contact_email, contact_name, created_by, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(vendor_id)
        .bind(contact_email)
        .bind(contact_name)
        .bind(&actor.subject)
        .bind(now())
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let id = created.id.to_string();
        audit(&mut tx, actor, "invitation.created", "vendor_invitation", &id, None, Some(to_json(&created))).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn list_invitations(&self, vendor_id: Uuid) -> Result<Vec<InvitationRecord>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM vendor_invitations WHERE vendor_id = $1 ORDER BY created_at DESC")
            .bind(vendor_id)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn revoke_invitation(&self, actor: &Actor, vendor_id: Uuid, id: Uuid) -> Result<InvitationRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current: InvitationRecord = sqlx::query_as(concat!(
            "SELECT * FROM vendor_invitations WHERE id = $1 AND vendor_id = $2",
            for_update!()
        ))
        .bind(id)
        .bind(vendor_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("invitation"))?;
        if current.revoked_at.is_some() {
            return Err(ApiError::conflict("already_revoked", "the invitation is already revoked"));
        }
        let updated: InvitationRecord = sqlx::query_as(
            "UPDATE vendor_invitations SET revoked_at = $2, revoked_by = $3 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(now())
        .bind(&actor.subject)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "invitation.revoked",
            "vendor_invitation",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn invitation_active(&self, id: Uuid) -> Result<bool, ApiError> {
        let found: Option<(Option<DateTime<Utc>>, DateTime<Utc>)> =
            sqlx::query_as("SELECT revoked_at, expires_at FROM vendor_invitations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(matches!(found, Some((None, expires)) if expires > now()))
    }

    pub async fn list_assessments(
        &self,
        scope: &VendorScope,
        request_id: Option<Uuid>,
        vendor_id: Option<Uuid>,
        status: Option<AssessmentStatus>,
        page: PageRequest,
    ) -> Result<Paged<AssessmentRecord>, ApiError> {
        let (department, vendor) = scope_binds(scope);
        const WHERE: &str = "FROM assessments a JOIN requests r ON r.id = a.request_id \
            WHERE ($1 IS NULL OR r.department_code = $1) AND ($2 IS NULL OR a.vendor_id = $2) \
            AND ($3 IS NULL OR a.request_id = $3) AND ($4 IS NULL OR a.status = $4) \
            AND ($5 IS NULL OR a.vendor_id = $5)";
        let items: Vec<AssessmentRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT a.* {WHERE} ORDER BY a.created_at DESC, a.id LIMIT $6 OFFSET $7"
        )))
        .bind(department.as_deref())
        .bind(vendor)
        .bind(request_id)
        .bind(status.map(|s| s.as_str()))
        .bind(vendor_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
            .bind(department.as_deref())
            .bind(vendor)
            .bind(request_id)
            .bind(status.map(|s| s.as_str()))
            .bind(vendor_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_assessment(&self, scope: &VendorScope, id: Uuid) -> Result<AssessmentRecord, ApiError> {
        let mut tx = self.pool.begin().await?;
        let found = lock_assessment(&mut tx, scope, id).await;
        tx.rollback().await?;
        found
    }

    pub async fn answers(&self, assessment_id: Uuid) -> Result<Vec<AnswerRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT question_id, value, comment, evidence_ref, source, updated_by, updated_at FROM answers \
             WHERE assessment_id = $1 ORDER BY question_id",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores answers (already checked against the template) in one transaction; `None` clears an answer.
    pub async fn save_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        entries: Vec<AnswerEntry>,
    ) -> Result<AssessmentRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, if_match)?;
        ensure_editable(&current, "answers change")?;
        let at = now();
        let changes = upsert_answers(&mut tx, actor, id, entries).await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "assessment.answered",
            "assessment",
            &id.to_string(),
            None,
            Some(serde_json::json!({"answers": changes, "version": updated.version})),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Stores the answers read from an uploaded spreadsheet and keeps the file itself as evidence, in one
    /// transaction: both or neither.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        entries: Vec<AnswerEntry>,
        file_name: &str,
        content_type: &str,
        original: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, Some(expected_version))?;
        ensure_editable(&current, "answers change")?;
        let changes = upsert_answers(&mut tx, actor, id, entries).await?;
        let evidence = insert_evidence(&mut tx, actor, id, None, file_name, content_type, original).await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "assessment.imported",
            "assessment",
            &id.to_string(),
            None,
            Some(serde_json::json!({"answers": changes, "file": evidence.id, "version": updated.version})),
        )
        .await?;
        tx.commit().await?;
        Ok((updated, evidence))
    }

    /// Freezes the answers as a submitted version with their score; `expected_version` is the version the
    /// caller scored, so answers saved meanwhile cannot slip in unscored.
    pub async fn submit_assessment(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        answers: serde_json::Value,
        score: ScoreView,
    ) -> Result<AssessmentRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, Some(expected_version))?;
        ensure_editable(&current, "it is submitted")?;
        let submission = current.submission + 1;
        let at = now();
        sqlx::query(
            "INSERT INTO assessment_submissions (assessment_id, submission, answers, score, submitted_by, submitted_at, \
             cycle) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(submission)
        .bind(Json(&answers))
        .bind(Json(&score))
        .bind(&actor.subject)
        .bind(at)
        .bind(current.cycle)
        .execute(&mut *tx)
        .await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET status = 'submitted', submission = $2, score = $3, version = version + 1, \
             updated_at = $4 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(submission)
        .bind(Json(&score))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "assessment.submitted",
            "assessment",
            &id.to_string(),
            Some(to_json(&current)),
            Some(serde_json::json!({"assessment": updated, "answers": answers})),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// The analyst accepts (raising `findings`) or returns a submitted assessment, with comments per question.
    pub async fn review_assessment(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        accept: bool,
        comments: Vec<ReviewComment>,
        findings: Vec<NewFinding>,
    ) -> Result<(AssessmentRecord, Vec<FindingRecord>), ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_assessment(&mut tx, &VendorScope::All, id).await?;
        check_assessment_version(&current, if_match)?;
        if status_of(&current) != AssessmentStatus::Submitted {
            return Err(ApiError::conflict(
                "assessment_not_submitted",
                format!("the assessment is {}; only a submitted assessment is reviewed", current.status),
            )
            .with_allowed(vec!["submit".into()]));
        }
        let outcome = if accept { "accepted" } else { "returned" };
        let at = now();
        sqlx::query(
            "INSERT INTO assessment_reviews (id, assessment_id, submission, outcome, comments, reviewer, reviewed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(current.submission)
        .bind(outcome)
        .bind(Json(&comments))
        .bind(&actor.subject)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let mut raised = Vec::new();
        if accept {
            for f in &findings {
                // A question keeps one finding. Failing again in a later cycle reopens it if it was resolved; a
                // finding still open, planned or risk-accepted is left as it stands.
                let created: Option<FindingRecord> = sqlx::query_as(
                    "INSERT INTO findings (id, assessment_id, request_id, vendor_id, question_id, severity, title, \
                     reason, citation, status, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', 1, $10, $10) \
                     ON CONFLICT (assessment_id, question_id) DO UPDATE SET status = 'open', severity = excluded.severity, \
                     reason = excluded.reason, resolution_note = NULL, version = findings.version + 1, \
                     updated_at = excluded.updated_at WHERE findings.status = 'resolved' RETURNING *",
                )
                .bind(Uuid::new_v4())
                .bind(id)
                .bind(current.request_id)
                .bind(current.vendor_id)
                .bind(&f.question_id)
                .bind(&f.severity)
                .bind(&f.title)
                .bind(&f.reason)
                .bind(f.citation.as_deref())
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(created) = created {
                    let fid = created.id.to_string();
                    let action = if created.version > 1 { "finding.reopened" } else { "finding.raised" };
                    audit(&mut tx, actor, action, "finding", &fid, None, Some(to_json(&created))).await?;
                    raised.push(created);
                }
            }
        }
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(outcome)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            &format!("assessment.{outcome}"),
            "assessment",
            &id.to_string(),
            Some(to_json(&current)),
            Some(serde_json::json!({"assessment": updated, "comments": comments})),
        )
        .await?;
        if accept {
            evaluate_security_step(&mut tx, actor, current.request_id).await?;
        }
        tx.commit().await?;
        Ok((updated, raised))
    }

    /// Reopens an accepted assessment as the next review cycle, against `cycle.template_version`: the carried
    /// answers stay as the vendor's starting point, marked as from the last cycle; the retired ones are removed
    /// (the last cycle's submitted version keeps them). The request's route is not touched: its decision stands.
    pub async fn start_cycle(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        cycle: NewCycle,
    ) -> Result<AssessmentRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_assessment(&mut tx, &VendorScope::All, id).await?;
        check_assessment_version(&current, if_match)?;
        if status_of(&current) != AssessmentStatus::Accepted {
            return Err(ApiError::conflict(
                "assessment_not_accepted",
                format!(
                    "the assessment is {}; a new review cycle starts from an accepted assessment",
                    current.status
                ),
            ));
        }
        for question_id in &cycle.carry.retired {
            sqlx::query("DELETE FROM answers WHERE assessment_id = $1 AND question_id = $2")
                .bind(id)
                .bind(question_id)
                .execute(&mut *tx)
                .await?;
        }
        let at = now();
        sqlx::query("UPDATE answers SET source = $2, updated_by = $3, updated_at = $4 WHERE assessment_id = $1")
            .bind(id)
            .bind(crate::domain::assessment::prior_cycle_source(current.cycle))
            .bind(&actor.subject)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET status = 'open', cycle = cycle + 1, template_version = $2, due_date = $3, \
             version = version + 1, updated_at = $4 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&cycle.template_version)
        .bind(cycle.due_date)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "assessment.cycle_started",
            "assessment",
            &id.to_string(),
            Some(to_json(&current)),
            Some(serde_json::json!({"assessment": updated, "carried": cycle.carry.carried,
                                    "retired": cycle.carry.retired, "note": cycle.note})),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn reviews(&self, assessment_id: Uuid) -> Result<Vec<ReviewRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, submission, outcome, comments, reviewer, reviewed_at FROM assessment_reviews \
             WHERE assessment_id = $1 ORDER BY reviewed_at",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn store_evidence(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        assessment_id: Uuid,
        question_id: Option<&str>,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<EvidenceRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let assessment = lock_assessment(&mut tx, scope, assessment_id).await?;
        ensure_editable(&assessment, "evidence is added")?;
        let created = insert_evidence(&mut tx, actor, assessment_id, question_id, file_name, content_type, data).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn list_evidence(&self, assessment_id: Uuid) -> Result<Vec<EvidenceRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, assessment_id, question_id, file_name, content_type, size_bytes, sha256, uploaded_by, \
             uploaded_at FROM evidence WHERE assessment_id = $1 ORDER BY uploaded_at",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// An evidence file and its bytes, if it belongs to `assessment_id`.
    pub async fn evidence_file(
        &self,
        assessment_id: Uuid,
        evidence_id: Uuid,
    ) -> Result<Option<(EvidenceRecord, Vec<u8>)>, ApiError> {
        let meta: Option<EvidenceRecord> = sqlx::query_as(
            "SELECT id, assessment_id, question_id, file_name, content_type, size_bytes, sha256, uploaded_by, \
             uploaded_at FROM evidence WHERE id = $1 AND assessment_id = $2",
        )
        .bind(evidence_id)
        .bind(assessment_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(meta) = meta else { return Ok(None) };
        let (data,): (Vec<u8>,) = sqlx::query_as("SELECT data FROM evidence WHERE id = $1")
            .bind(evidence_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some((meta, data)))
    }

    pub async fn list_findings(
        &self,
        scope: &VendorScope,
        filter: &FindingFilter,
        page: PageRequest,
    ) -> Result<Paged<FindingRecord>, ApiError> {
        let (department, vendor) = scope_binds(scope);
        const WHERE: &str = "FROM findings f JOIN requests r ON r.id = f.request_id \
            WHERE ($1 IS NULL OR r.department_code = $1) AND ($2 IS NULL OR f.vendor_id = $2) \
            AND ($3 IS NULL OR f.request_id = $3) AND ($4 IS NULL OR f.assessment_id = $4) \
            AND ($5 IS NULL OR f.status = $5) AND ($6 IS NULL OR f.severity = $6)";
        let items: Vec<FindingRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT f.* {WHERE} ORDER BY f.created_at, f.id LIMIT $7 OFFSET $8"
        )))
        .bind(department.as_deref())
        .bind(vendor)
        .bind(filter.request_id)
        .bind(filter.assessment_id)
        .bind(filter.status.as_deref())
        .bind(filter.severity.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
            .bind(department.as_deref())
            .bind(vendor)
            .bind(filter.request_id)
            .bind(filter.assessment_id)
            .bind(filter.status.as_deref())
            .bind(filter.severity.as_deref())
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_finding(&self, scope: &VendorScope, id: Uuid) -> Result<FindingRecord, ApiError> {
        let mut tx = self.pool.begin().await?;
        let found: Option<FindingRecord> = sqlx::query_as("SELECT * FROM findings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let found = found.ok_or_else(|| ApiError::not_found("finding"))?;
        let shown = visible(&mut tx, scope, found.vendor_id, found.request_id).await?;
        tx.rollback().await?;
        if shown { Ok(found) } else { Err(ApiError::not_found("finding")) }
    }

    pub async fn change_finding(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        change: FindingChange,
    ) -> Result<FindingRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current: FindingRecord = sqlx::query_as(concat!("SELECT * FROM findings WHERE id = $1", for_update!()))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .filter(|f: &FindingRecord| match scope {
                VendorScope::Vendor(v) => f.vendor_id == *v,
                _ => true,
            })
            .ok_or_else(|| ApiError::not_found("finding"))?;
        if let Some(v) = if_match
            && v != current.version
        {
            return Err(ApiError::stale(&format!("\"{}\"", current.version)));
        }
        let from = FindingStatus::parse(&current.status).unwrap_or(FindingStatus::Open);
        let to = change.target();
        if !from.may_become(to) {
            return Err(ApiError::conflict(
                "transition_not_allowed",
                format!("a finding that is {} cannot become {}", from.as_str(), to.as_str()),
            ));
        }
        let (plan, due, note, rationale, expires) = match &change {
            FindingChange::PlanRemediation { plan, due } => (Some(plan.as_str()), Some(*due), None, None, None),
            FindingChange::Resolve { note } => (None, None, Some(note.as_str()), None, None),
            FindingChange::AcceptRisk { rationale, expires_on } => {
                (None, None, None, Some(rationale.as_str()), Some(*expires_on))
            }
        };
        let updated: FindingRecord = sqlx::query_as(
            "UPDATE findings SET status = $2, remediation_plan = COALESCE($3, remediation_plan), \
             remediation_due = COALESCE($4, remediation_due), resolution_note = COALESCE($5, resolution_note), \
             risk_rationale = COALESCE($6, risk_rationale), risk_expires_on = COALESCE($7, risk_expires_on), \
             decided_by = $8, version = version + 1, updated_at = $9 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(plan)
        .bind(due)
        .bind(note)
        .bind(rationale)
        .bind(expires)
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let action = format!("finding.{}", to.as_str());
        audit(&mut tx, actor, &action, "finding", &id.to_string(), Some(to_json(&current)), Some(to_json(&updated)))
            .await?;
        if !to.stands() {
            evaluate_security_step(&mut tx, actor, current.request_id).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }
}
