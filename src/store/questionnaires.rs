// Templates, vendor invitations, assessments, answers, evidence, reviews and findings. Included by both backends
// as a submodule, like requests.rs.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::assessment::{AssessmentStatus, FindingChange, ScoreView};
use crate::domain::invitation::InvitationGrant;
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, AnswerEntry, AnswerRecord, AssessmentRecord, ClosedWork, EvidenceRecord, FindingFilter,
    FindingRecord, InvitationRecord, Keyset, NewCycle, NewFinding, NewInvitation, Paged,
    RequestRecord, ReviewComment, ReviewRecord, VendorScope, to_json,
};
use crate::workflow::assessments::{self as rules, InvitationTarget, VendorWork};

/// The four bindings a scope becomes, `$1` to `$4` of a query whose clause is `scope_clause!(..)`.
struct ScopeBinds {
    department: Option<String>,
    vendor: Option<Uuid>,
    request: Option<Uuid>,
    /// The invitation whose named assessments bound the list, when it names some.
    named_by: Option<Uuid>,
}

/// The scope clause over `$1` department code, `$2` vendor id, `$3` request id and `$4` the invitation naming the
/// assessments: `$r` is the requests alias, `$v` the column holding the vendor, `$q` the request's and `$a` the
/// assessment's.
macro_rules! scope_clause {
    ($r:literal, $v:literal, $q:literal, $a:literal) => {
        concat!(
            "($1 IS NULL OR ", $r, ".department_code = $1) AND ($2 IS NULL OR ", $v, " = $2) ",
            "AND ($3 IS NULL OR ", $q, " = $3) AND ($4 IS NULL OR ", $a,
            " IN (SELECT ia.assessment_id FROM invitation_assessments ia WHERE ia.invitation_id = $4))"
        )
    };
}

fn scope_binds(scope: &VendorScope) -> ScopeBinds {
    let mut binds = ScopeBinds {
        department: None,
        vendor: None,
        request: None,
        named_by: None,
    };
    match scope {
        VendorScope::All => {}
        VendorScope::Department(d) => binds.department = Some(d.clone()),
        VendorScope::Vendor(v) => binds.vendor = Some(*v),
        VendorScope::Invitation(grant) => {
            binds.vendor = Some(grant.vendor);
            binds.request = Some(grant.request);
            binds.named_by = grant.named_assessments_of();
        }
    }
    binds
}

async fn lock_assessment(
    tx: &mut Tx,
    scope: &VendorScope,
    id: Uuid,
) -> Result<AssessmentRecord, ApiError> {
    let found: Option<AssessmentRecord> = sqlx::query_as(concat!(
        "SELECT * FROM assessments WHERE id = $1",
        for_update!()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let found = found.ok_or_else(|| ApiError::not_found("assessment"))?;
    if visible(tx, scope, found.vendor_id, found.request_id, found.id).await? {
        Ok(found)
    } else {
        Err(ApiError::not_found("assessment"))
    }
}

/// Whether an object of `vendor_id`'s, made for `request_id` under `assessment_id`, lies in the caller's scope.
async fn visible(
    tx: &mut Tx,
    scope: &VendorScope,
    vendor_id: Uuid,
    request_id: Uuid,
    assessment_id: Uuid,
) -> Result<bool, ApiError> {
    Ok(match scope {
        VendorScope::All => true,
        VendorScope::Vendor(v) => vendor_id == *v,
        VendorScope::Invitation(grant) => grant.reaches(vendor_id, request_id, assessment_id),
        VendorScope::Department(d) => {
            let (code,): (String,) =
                sqlx::query_as("SELECT department_code FROM requests WHERE id = $1")
                    .bind(request_id)
                    .fetch_one(&mut **tx)
                    .await?;
            &code == d
        }
    })
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
    product: Option<&crate::domain::reuse::ProductReview>,
) -> Result<(), ApiError> {
    let due = (now() + chrono::Duration::days(due_days as i64)).date_naive();
    let fields = &request.fields.0;
    let scope = crate::workflow::route::scope_of(fields);
    for template_id in questionnaires {
        let current: Option<(String,)> = sqlx::query_as(
            "SELECT version FROM template_versions WHERE template_id = $1 AND current = TRUE",
        )
        .bind(template_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((version,)) = current else {
            tracing::warn!(
                template_id,
                "the policy names a questionnaire that is not loaded"
            );
            continue;
        };
        let at = now();
        let created: Option<AssessmentRecord> = sqlx::query_as(
            "INSERT INTO assessments (id, request_id, vendor_id, template_id, template_version, status, due_date, \
             submission, version, created_at, updated_at, product_id, scope) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, 0, 1, $7, $7, $8, $9) \
             ON CONFLICT (request_id, vendor_id, template_id) WHERE status <> 'cancelled' DO NOTHING RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(request.id)
        .bind(request.vendor_id)
        .bind(template_id)
        .bind(&version)
        .bind(due)
        .bind(at)
        .bind(fields.product_id)
        .bind(Json(&scope))
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(a) = created {
            // A new cycle of the product's assessment when a later request widened its scope or found it expired.
            let continues = product
                .and_then(|p| p.get(template_id))
                .and_then(|r| r.continues());
            let after = match continues {
                Some(previous) => {
                    let (a, carry) = super::products_impl::continue_cycle(tx, &a, previous).await?;
                    serde_json::json!({"assessment": a, "continues": previous,
                                       "carried": carry.carried, "retired": carry.retired})
                }
                None => to_json(&a),
            };
            audit(
                tx,
                actor,
                "assessment.created",
                "assessment",
                &a.id.to_string(),
                None,
                Some(after),
            )
            .await?;
        }
    }
    Ok(())
}

/// Settles the request's steps that evidence completes (the security review once every questionnaire it names is
/// accepted and no critical finding stands); called after each event that could complete one.
async fn evaluate_security_step(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
) -> Result<(), ApiError> {
    super::requests_impl::resettle(tx, actor, request_id).await?;
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
    audit(
        tx,
        actor,
        "evidence.uploaded",
        "evidence",
        &created.id.to_string(),
        None,
        Some(to_json(&created)),
    )
    .await?;
    Ok(created)
}

/// The assessments of a request and their states.
async fn request_assessments(
    tx: &mut Tx,
    request_id: Uuid,
    except_vendor: Option<Uuid>,
) -> Result<Vec<(Uuid, AssessmentStatus)>, ApiError> {
    let rows: Vec<AssessmentRecord> = sqlx::query_as(
        "SELECT * FROM assessments WHERE request_id = $1 AND ($2 IS NULL OR vendor_id <> $2) ORDER BY id",
    )
    .bind(request_id)
    .bind(except_vendor)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|a| (a.id, a.status())).collect())
}

/// The assessments an invitation names (empty when it reaches its whole request).
async fn named_assessments<'e, E>(executor: E, invitation_id: Uuid) -> Result<Vec<Uuid>, ApiError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT assessment_id FROM invitation_assessments WHERE invitation_id = $1 ORDER BY assessment_id",
    )
    .bind(invitation_id)
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Revokes `current` (locked by the caller, not yet revoked) and audits it; `reason` when the service revokes it.
async fn revoke(
    tx: &mut Tx,
    actor: &Actor,
    current: &InvitationRecord,
    reason: Option<&str>,
) -> Result<InvitationRecord, ApiError> {
    let mut updated: InvitationRecord = sqlx::query_as(
        "UPDATE vendor_invitations SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE id = $1 RETURNING *",
    )
    .bind(current.id)
    .bind(now())
    .bind(&actor.subject)
    .bind(reason)
    .fetch_one(&mut **tx)
    .await?;
    updated.assessment_ids = current.assessment_ids.clone();
    // The console sessions the invitation opened end with it.
    sqlx::query(
        "UPDATE console_sessions SET revoked_at = $2 WHERE invitation_id = $1 AND revoked_at IS NULL",
    )
    .bind(current.id)
    .bind(updated.revoked_at)
    .execute(&mut **tx)
    .await?;
    audit(
        tx,
        actor,
        "invitation.revoked",
        "vendor_invitation",
        &current.id.to_string(),
        Some(to_json(current)),
        Some(to_json(&updated)),
    )
    .await?;
    Ok(updated)
}

/// Closes the vendor's work on a request, inside the caller's transaction: cancels every assessment not yet
/// accepted (status `cancelled`, with `reason`, which the vendor sees; no further answers, submission, review or
/// reminder) and revokes every active invitation issued for the request. Each change is audited. Withdrawing,
/// denying and closing a request call it; calling it again changes nothing.
pub(super) async fn close_for_request(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
    reason: &str,
) -> Result<ClosedWork, ApiError> {
    close_work(tx, actor, request_id, None, reason).await
}

/// When a request moves to another vendor, the work asked of the vendors it no longer names ends the same way;
/// their accepted assessments keep their result.
pub(super) async fn close_for_other_vendors(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
    vendor_id: Uuid,
    reason: &str,
) -> Result<ClosedWork, ApiError> {
    close_work(tx, actor, request_id, Some(vendor_id), reason).await
}

/// Cancels the request's assessments not yet accepted and revokes its invitations, except those of `keep`.
async fn close_work(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> Result<ClosedWork, ApiError> {
    let mut closed = ClosedWork::default();
    let assessments = request_assessments(tx, request_id, keep).await?;
    let at = now();
    for id in rules::plan_close(&assessments) {
        let current: AssessmentRecord = sqlx::query_as(concat!(
            "SELECT * FROM assessments WHERE id = $1",
            for_update!()
        ))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET status = 'cancelled', cancelled_at = $2, cancel_reason = $3, version = version + 1, \
             updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(at)
        .bind(reason)
        .fetch_one(&mut **tx)
        .await?;
        audit(
            tx,
            actor,
            "assessment.cancelled",
            "assessment",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        closed.cancelled_assessments.push(id);
    }
    let active: Vec<InvitationRecord> = sqlx::query_as(concat!(
        "SELECT * FROM vendor_invitations WHERE request_id = $1 AND revoked_at IS NULL \
         AND ($2 IS NULL OR vendor_id <> $2) ORDER BY id",
        for_update!()
    ))
    .bind(request_id)
    .bind(keep)
    .fetch_all(&mut **tx)
    .await?;
    for mut invitation in active {
        invitation.assessment_ids = named_assessments(&mut **tx, invitation.id).await?;
        revoke(tx, actor, &invitation, Some(reason)).await?;
        closed.revoked_invitations.push(invitation.id);
    }
    Ok(closed)
}

impl Repo {
    pub async fn register_template(
        &self,
        template_id: &str,
        version: &str,
        file_name: &str,
        source: &str,
    ) -> Result<(), ApiError> {
        let mut tx = begin(&self.writer).await?;
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
            audit(
                &mut tx,
                &system,
                "template.loaded",
                "template",
                template_id,
                None,
                Some(after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn template_source(
        &self,
        template_id: &str,
        version: &str,
    ) -> Result<Option<(String, String)>, ApiError> {
        Ok(sqlx::query_as("SELECT file_name, source FROM template_versions WHERE template_id = $1 AND version = $2")
            .bind(template_id)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn create_invitation(
        &self,
        actor: &Actor,
        new: NewInvitation,
    ) -> Result<InvitationRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let vendor: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM vendors WHERE id = $1")
            .bind(new.vendor_id)
            .fetch_optional(&mut *tx)
            .await?;
        if vendor.is_none() {
            return Err(ApiError::not_found("vendor"));
        }
        let request: RequestRecord = sqlx::query_as("SELECT * FROM requests WHERE id = $1")
            .bind(new.request_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("request"))?;
        let assessments = request_assessments(&mut tx, request.id, None).await?;
        let target = InvitationTarget {
            vendor: new.vendor_id,
            request_vendor: request.vendor_id,
            request_department: &request.department_code,
            request_status: request.status()?,
            assessments: &assessments,
        };
        let named = rules::plan_invitation(
            new.inviter_department.as_deref(),
            &target,
            new.assessment_ids.as_deref(),
        )?;
        let mut created: InvitationRecord = sqlx::query_as(
            "INSERT INTO vendor_invitations (id, vendor_id, request_id, contact_email, contact_name, created_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(new.vendor_id)
        .bind(request.id)
        .bind(&new.contact_email)
        .bind(new.contact_name.as_deref())
        .bind(&actor.subject)
        .bind(now())
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        for assessment in &named {
            sqlx::query(
                "INSERT INTO invitation_assessments (invitation_id, assessment_id) VALUES ($1, $2)",
            )
            .bind(created.id)
            .bind(assessment)
            .execute(&mut *tx)
            .await?;
        }
        created.assessment_ids = named;
        let parties = crate::domain::mail::Parties {
            vendor: Some(created.vendor_id),
            ..Default::default()
        };
        let event = crate::domain::mail::Event::InvitationSent;
        let email = Some(created.contact_email.as_str());
        super::events_impl::record_event(
            &mut tx,
            event,
            "vendor_invitation",
            created.id,
            "sent",
            &parties,
            email,
        )
        .await?;
        let id = created.id.to_string();
        audit(
            &mut tx,
            actor,
            "invitation.created",
            "vendor_invitation",
            &id,
            None,
            Some(to_json(&created)),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn list_invitations(
        &self,
        vendor_id: Uuid,
        department: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<InvitationRecord>, ApiError> {
        let vendor: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM vendors WHERE id = $1")
            .bind(vendor_id)
            .fetch_optional(&self.pool)
            .await?;
        if vendor.is_none() {
            return Err(ApiError::not_found("vendor"));
        }
        const WHERE: &str = "FROM vendor_invitations WHERE vendor_id = $1 AND ($2 IS NULL OR request_id IN \
            (SELECT id FROM requests WHERE department_code = $2))";
        let mut items: Vec<InvitationRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * {WHERE} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
        )))
        .bind(vendor_id)
        .bind(department)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        for item in &mut items {
            item.assessment_ids = named_assessments(&self.pool, item.id).await?;
        }
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
                .bind(vendor_id)
                .bind(department)
                .fetch_one(&self.pool)
                .await?;
        Ok(Paged { items, total })
    }

    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        vendor_id: Uuid,
        id: Uuid,
        department: Option<&str>,
    ) -> Result<InvitationRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let mut current: InvitationRecord = sqlx::query_as(concat!(
            "SELECT * FROM vendor_invitations WHERE id = $1 AND vendor_id = $2",
            for_update!()
        ))
        .bind(id)
        .bind(vendor_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("invitation"))?;
        let request_department: Option<(String,)> = match current.request_id {
            Some(request) => {
                sqlx::query_as("SELECT department_code FROM requests WHERE id = $1")
                    .bind(request)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => None,
        };
        rules::may_revoke(
            department,
            request_department.as_ref().map(|(d,)| d.as_str()),
            current.revoked_at.is_some(),
        )?;
        current.assessment_ids = named_assessments(&mut *tx, id).await?;
        let updated = revoke(&mut tx, actor, &current, None).await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn invitation(&self, id: Uuid) -> Result<Option<InvitationRecord>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM vendor_invitations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn invitation_grant(&self, id: Uuid) -> Result<Option<InvitationGrant>, ApiError> {
        let Some(found) = self.invitation(id).await? else {
            return Ok(None);
        };
        let Some(request) = found.request_id else {
            return Ok(None);
        };
        if !found.is_active_at(now()) {
            return Ok(None);
        }
        Ok(Some(InvitationGrant {
            id,
            vendor: found.vendor_id,
            request,
            assessments: named_assessments(&self.pool, id).await?,
            invited_by: found.created_by,
        }))
    }

    pub async fn close_request_work(
        &self,
        actor: &Actor,
        request_id: Uuid,
        reason: &str,
    ) -> Result<ClosedWork, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let closed = close_for_request(&mut tx, actor, request_id, reason).await?;
        tx.commit().await?;
        Ok(closed)
    }

    pub async fn list_assessments(
        &self,
        scope: &VendorScope,
        request_id: Option<Uuid>,
        vendor_id: Option<Uuid>,
        status: Option<AssessmentStatus>,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<AssessmentRecord>, Option<Keyset>), ApiError> {
        let scope = scope_binds(scope);
        const WHERE: &str = concat!(
            "FROM assessments a JOIN requests r ON r.id = a.request_id WHERE ",
            scope_clause!("r", "a.vendor_id", "a.request_id", "a.id"),
            " AND ($5 IS NULL OR a.request_id = $5) AND ($6 IS NULL OR a.status = $6) \
             AND ($7 IS NULL OR a.vendor_id = $7)"
        );
        // After a cursor, the page starts past its row: newest first, ties by id, through the index in that order.
        let (start, offset) = match after {
            Some(_) => (
                " AND (a.created_at < $10 OR (a.created_at = $10 AND a.id > $11))",
                0,
            ),
            None => ("", page.offset),
        };
        let mut items: Vec<AssessmentRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT a.* {WHERE}{start} ORDER BY a.created_at DESC, a.id LIMIT $8 OFFSET $9"
        )))
        .bind(scope.department.as_deref())
        .bind(scope.vendor)
        .bind(scope.request)
        .bind(scope.named_by)
        .bind(request_id)
        .bind(status.map(|s| s.as_str()))
        .bind(vendor_id)
        .bind(page.limit + 1)
        .bind(offset)
        .bind(after.map(|k| k.created_at))
        .bind(after.map(|k| k.id))
        .fetch_all(&self.pool)
        .await?;
        let next = Keyset::next_of(&mut items, page.limit, |a| (a.created_at, a.id));
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
                .bind(scope.department.as_deref())
                .bind(scope.vendor)
                .bind(scope.request)
                .bind(scope.named_by)
                .bind(request_id)
                .bind(status.map(|s| s.as_str()))
                .bind(vendor_id)
                .fetch_one(&self.pool)
                .await?;
        Ok((Paged { items, total }, next))
    }

    pub async fn get_assessment(
        &self,
        scope: &VendorScope,
        id: Uuid,
    ) -> Result<AssessmentRecord, ApiError> {
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
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, if_match)?;
        rules::vendor_may(current.state(), VendorWork::Answer)?;
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
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, Some(expected_version))?;
        rules::vendor_may(current.state(), VendorWork::Answer)?;
        let changes = upsert_answers(&mut tx, actor, id, entries).await?;
        let evidence =
            insert_evidence(&mut tx, actor, id, None, file_name, content_type, original).await?;
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
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, scope, id).await?;
        check_assessment_version(&current, Some(expected_version))?;
        rules::vendor_may(current.state(), VendorWork::Submit)?;
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
        let event = crate::domain::mail::Event::AssessmentSubmitted;
        super::events_impl::assessment_event(&mut tx, event, &updated).await?;
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
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, &VendorScope::All, id).await?;
        check_assessment_version(&current, if_match)?;
        rules::may_review(current.state())?;
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
                    let action = if created.version > 1 {
                        "finding.reopened"
                    } else {
                        "finding.raised"
                    };
                    audit(
                        &mut tx,
                        actor,
                        action,
                        "finding",
                        &fid,
                        None,
                        Some(to_json(&created)),
                    )
                    .await?;
                    let event = crate::domain::mail::Event::FindingRaised;
                    super::events_impl::finding_event(&mut tx, event, &created).await?;
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
        let event = crate::domain::mail::review_event(accept);
        super::events_impl::assessment_event(&mut tx, event, &updated).await?;
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
        let mut tx = begin(&self.writer).await?;
        let current = lock_assessment(&mut tx, &VendorScope::All, id).await?;
        check_assessment_version(&current, if_match)?;
        rules::may_start_cycle(current.state())?;
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
            Some(
                serde_json::json!({"assessment": updated, "carried": cycle.carry.carried,
                                    "retired": cycle.carry.retired, "note": cycle.note}),
            ),
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

    /// Stores an evidence file; the assessment's version moves on, as its evidence list changed.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_evidence(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        assessment_id: Uuid,
        expected_version: i64,
        question_id: Option<&str>,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let assessment = lock_assessment(&mut tx, scope, assessment_id).await?;
        check_assessment_version(&assessment, Some(expected_version))?;
        rules::vendor_may(assessment.state(), VendorWork::AddEvidence)?;
        let created = insert_evidence(
            &mut tx,
            actor,
            assessment_id,
            question_id,
            file_name,
            content_type,
            data,
        )
        .await?;
        let updated: AssessmentRecord = sqlx::query_as(
            "UPDATE assessments SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(assessment_id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((updated, created))
    }

    pub async fn list_evidence(
        &self,
        assessment_id: Uuid,
    ) -> Result<Vec<EvidenceRecord>, ApiError> {
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
        after: Option<&Keyset>,
    ) -> Result<(Paged<FindingRecord>, Option<Keyset>), ApiError> {
        let scope = scope_binds(scope);
        const WHERE: &str = concat!(
            "FROM findings f JOIN requests r ON r.id = f.request_id WHERE ",
            scope_clause!("r", "f.vendor_id", "f.request_id", "f.assessment_id"),
            " AND ($5 IS NULL OR f.request_id = $5) AND ($6 IS NULL OR f.assessment_id = $6) \
             AND ($7 IS NULL OR f.status = $7) AND ($8 IS NULL OR f.severity = $8)"
        );
        // After a cursor, the page starts past its row: oldest first, ties by id.
        let (start, offset) = match after {
            Some(_) => (
                " AND (f.created_at > $11 OR (f.created_at = $11 AND f.id > $12))",
                0,
            ),
            None => ("", page.offset),
        };
        let mut items: Vec<FindingRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT f.* {WHERE}{start} ORDER BY f.created_at, f.id LIMIT $9 OFFSET $10"
        )))
        .bind(scope.department.as_deref())
        .bind(scope.vendor)
        .bind(scope.request)
        .bind(scope.named_by)
        .bind(filter.request_id)
        .bind(filter.assessment_id)
        .bind(filter.status.as_deref())
        .bind(filter.severity.as_deref())
        .bind(page.limit + 1)
        .bind(offset)
        .bind(after.map(|k| k.created_at))
        .bind(after.map(|k| k.id))
        .fetch_all(&self.pool)
        .await?;
        let next = Keyset::next_of(&mut items, page.limit, |f| (f.created_at, f.id));
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}")))
                .bind(scope.department.as_deref())
                .bind(scope.vendor)
                .bind(scope.request)
                .bind(scope.named_by)
                .bind(filter.request_id)
                .bind(filter.assessment_id)
                .bind(filter.status.as_deref())
                .bind(filter.severity.as_deref())
                .fetch_one(&self.pool)
                .await?;
        Ok((Paged { items, total }, next))
    }

    pub async fn get_finding(
        &self,
        scope: &VendorScope,
        id: Uuid,
    ) -> Result<FindingRecord, ApiError> {
        let mut tx = self.pool.begin().await?;
        let found: Option<FindingRecord> = sqlx::query_as("SELECT * FROM findings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let found = found.ok_or_else(|| ApiError::not_found("finding"))?;
        let shown = visible(
            &mut tx,
            scope,
            found.vendor_id,
            found.request_id,
            found.assessment_id,
        )
        .await?;
        tx.rollback().await?;
        if shown {
            Ok(found)
        } else {
            Err(ApiError::not_found("finding"))
        }
    }

    pub async fn change_finding(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        change: FindingChange,
    ) -> Result<FindingRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: FindingRecord = sqlx::query_as(concat!(
            "SELECT * FROM findings WHERE id = $1",
            for_update!()
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("finding"))?;
        if !visible(
            &mut tx,
            scope,
            current.vendor_id,
            current.request_id,
            current.assessment_id,
        )
        .await?
        {
            return Err(ApiError::not_found("finding"));
        }
        if let Some(v) = if_match
            && v != current.version
        {
            return Err(ApiError::stale(&format!("\"{}\"", current.version)));
        }
        let from = current.status;
        let to = change.target();
        rules::may_change_finding(from, to)?;
        let (plan, due, note, rationale, expires) = match &change {
            FindingChange::PlanRemediation { plan, due } => {
                (Some(plan.as_str()), Some(*due), None, None, None)
            }
            FindingChange::Resolve { note } => (None, None, Some(note.as_str()), None, None),
            FindingChange::AcceptRisk {
                rationale,
                expires_on,
            } => (
                None,
                None,
                None,
                Some(rationale.as_str()),
                Some(*expires_on),
            ),
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
        if let Some(event) = crate::domain::mail::finding_event(to.as_str()) {
            super::events_impl::finding_event(&mut tx, event, &updated).await?;
        }
        let action = format!("finding.{}", to.as_str());
        audit(
            &mut tx,
            actor,
            &action,
            "finding",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        if !to.stands() {
            evaluate_security_step(&mut tx, actor, current.request_id).await?;
            super::products_impl::resettle_reusers(&mut tx, actor, current.assessment_id).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }
}
