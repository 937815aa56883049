// Templates, vendor invitations, and the assessments a request's route makes and its closing cancels, with the
// helpers assessments.rs shares (answers, evidence, reviews and findings live there). Included by both backends
// as a submodule, like requests/loaders.rs, with assessments.rs after it.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::assessments::{
    AssessmentReviewVerdict, AssessmentStatus, FindingChange, ScoreView,
};
use crate::domain::invitations::InvitationGrant;
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, AnswerEntry, AnswerRecord, AssessmentRecord, ClosedWork, EachRow, EvidenceRecord,
    FindingFilter, FindingRecord, InvitationRecord, Keyset, NewCycle, NewFinding, NewInvitation,
    Paged, RequestRecord, ReviewComment, ReviewRecord, VendorScope, to_json,
};
use crate::workflow::assessments::{self as rules, InvitationTarget, VendorWork};

/// The four conditions a scope becomes (see [`scope_conditions`]).
struct ScopeBinds {
    department: Option<String>,
    vendor: Option<Uuid>,
    request: Option<Uuid>,
    /// The invitation whose named assessments bound the list, when it names some.
    named_by: Option<Uuid>,
}

/// The scope's conditions that are set, as [`Conditions`]: `v` is the column holding the vendor, `q` the
/// request's and `a` the assessment's. Only what is set is written, so that an unfiltered count reads the table's
/// smallest index instead of every row (written as `($n IS NULL OR ...)` for every filter, a page's count at a
/// city's 20,000 assessments read each row and joined it to its request). The department is asked of the request
/// by id, through the index of a department's requests, not by joining each row to its request.
fn scope_conditions(scope: &ScopeBinds, v: &str, q: &str, a: &str) -> Conditions {
    let mut matches = Conditions::default();
    if let Some(department) = &scope.department {
        matches.push(
            &format!("{q} IN (SELECT dr.id FROM requests dr WHERE dr.department_code = {{}})"),
            [Arg::Text(department.clone())],
        );
    }
    if let Some(vendor) = scope.vendor {
        matches.push(&format!("{v} = {{}}"), [Arg::Id(vendor)]);
    }
    if let Some(request) = scope.request {
        matches.push(&format!("{q} = {{}}"), [Arg::Id(request)]);
    }
    if let Some(invitation) = scope.named_by {
        matches.push(
            &format!(
                "{a} IN (SELECT ia.assessment_id FROM invitation_assessments ia WHERE ia.invitation_id = {{}})"
            ),
            [Arg::Id(invitation)],
        );
    }
    matches
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
    let found: Option<AssessmentRecord> =
        lock(tx, "SELECT * FROM assessments WHERE id = $1", id).await?;
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
        let current: AssessmentRecord = lock(tx, "SELECT * FROM assessments WHERE id = $1", id)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
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
            request_status: request.status,
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
        commit_audited(
            tx,
            actor,
            "invitation.created",
            "vendor_invitation",
            &id,
            None,
            Some(to_json(&created)),
        )
        .await?;
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
}
