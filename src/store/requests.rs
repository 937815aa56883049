// Requests, routing, decisions and policy versions. Included by both backends as a submodule of theirs, so
// `Db`, `Pool`, `begin`, `Repo`, `audit` and `for_update!` come from the including module.

use sqlx::types::Json;
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::domain::audit::canonical_json;
use crate::domain::policy::{Policy, RequestFacts, Route, evaluate};
use crate::domain::request::{Action, RequestFields, RequestInput, Status};
use crate::domain::workflow::{
    CheckedDecision, Decision, DenialReason, Outcome, StepState, UseInstead, decider, pending_note,
    prohibition_rationale, status_from_steps,
};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::domain::duplicates::Candidate;
use crate::domain::policy::StepKindTag;
use crate::store::{
    Actor, Detection, DismissalRecord, DuplicateRecord, ExceptionRecord, Paged, PolicyRecord, RequestFilter, RequestRecord, Scope, StepRecord, VersionRecord,
    contains_pattern, to_json,
};

const SPEND_STATUSES: &str = "('submitted', 'in_review', 'awaiting_decision', 'approved', 'approved_with_conditions')";

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: Uuid,
    request_id: Uuid,
    submission: i32,
    step: String,
    outcome: String,
    conditions: Json<Vec<String>>,
    reason_code: Option<String>,
    rationale: Option<String>,
    decided_by: String,
    role: String,
    decided_at: chrono::DateTime<chrono::Utc>,
    service_id: Option<Uuid>,
    #[sqlx(default)]
    service_name: Option<String>,
    #[sqlx(default)]
    service_team: Option<String>,
    #[sqlx(default)]
    service_access: Option<String>,
}

fn enum_from_str<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn enum_to_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl DecisionRow {
    fn into_decision(self) -> Decision {
        Decision {
            id: self.id,
            request_id: self.request_id,
            submission: self.submission as i64,
            step: self.step,
            outcome: enum_from_str(&self.outcome).unwrap_or(Outcome::Deny),
            conditions: self.conditions.0,
            reason_code: self.reason_code.as_deref().and_then(enum_from_str::<DenialReason>),
            rationale: self.rationale,
            decided_by: self.decided_by,
            role: self.role,
            decided_at: self.decided_at,
            use_instead: match (self.service_id, self.service_name) {
                (Some(service_id), Some(name)) => Some(UseInstead {
                    service_id,
                    name,
                    owning_team: self.service_team.unwrap_or_default(),
                    access: self.service_access.unwrap_or_default(),
                }),
                _ => None,
            },
        }
    }
}

/// The audit view of a request: its row, as JSON.
fn snapshot(r: &RequestRecord) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "department_code": r.department_code,
        "vendor_id": r.vendor_id,
        "status": r.status,
        "fields": r.fields.0,
        "total_contract_value_cents": r.total_contract_value_cents,
        "fiscal_year": r.fiscal_year,
        "submission": r.submission,
        "policy_version": r.policy_version,
        "route": r.route.as_ref().map(|j| &j.0),
        "submitted_by": r.submitted_by,
        "version": r.version,
    })
}


async fn lock_request(tx: &mut Tx, scope: &Scope, id: Uuid) -> Result<RequestRecord, ApiError> {
    let found: Option<RequestRecord> = sqlx::query_as(concat!("SELECT * FROM requests WHERE id = $1", for_update!()))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    found
        .filter(|r| scope.admits_department(&r.department_code))
        .ok_or_else(|| ApiError::not_found("request"))
}

/// Locks a request for a change: in scope, the state allows `action`, and `If-Match` (when sent) is current.
pub(super) async fn lock_for(
    tx: &mut Tx,
    scope: &Scope,
    id: Uuid,
    action: Action,
    if_match: Option<i64>,
) -> Result<RequestRecord, ApiError> {
    let current = lock_request(tx, scope, id).await?;
    current.status().check(action)?;
    check_version(current.version, if_match)?;
    Ok(current)
}

/// Records a change of a request in the audit chain, with the request before and after.
async fn audit_change(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    before: &RequestRecord,
    after: serde_json::Value,
) -> Result<(), ApiError> {
    audit(tx, actor, action, "request", &before.id.to_string(), Some(snapshot(before)), Some(after)).await
}

async fn load_policy(tx: &mut Tx) -> Result<(i32, Policy), ApiError> {
    let record: PolicyRecord = sqlx::query_as("SELECT * FROM policies ORDER BY version DESC LIMIT 1")
        .fetch_one(&mut **tx)
        .await?;
    Ok((record.version, record.document.0))
}

async fn vendor_exists(tx: &mut Tx, vendor_id: Uuid) -> Result<bool, ApiError> {
    let found: Option<(Uuid,)> = sqlx::query_as(concat!("SELECT id FROM vendors WHERE id = $1", for_update!()))
        .bind(vendor_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// Evaluates the policy for a request's facts, counting the vendor's other spend in the same fiscal year.
async fn route_for(
    tx: &mut Tx,
    policy: &Policy,
    request_id: Uuid,
    department_code: &str,
    fields: &RequestFields,
    material_change: bool,
    likely_duplicate_of: Option<String>,
) -> Result<(Route, i32), ApiError> {
    let (covered,): (bool,) = sqlx::query_as("SELECT surveillance_ordinance FROM departments WHERE code = $1")
        .bind(department_code)
        .fetch_one(&mut **tx)
        .await?;
    // Locking the vendor serialises submissions with one vendor, so two halves of a split purchase submitted
    // at the same moment still see each other.
    if !vendor_exists(tx, fields.vendor_id).await? {
        return Err(ApiError::field("vendor_id", "no vendor is registered with this id"));
    }
    let fiscal_year = policy.fiscal_year_of(fields.requested_start_date);
    let (other_cents, other_count): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COALESCE(SUM(total_contract_value_cents), 0) AS BIGINT), COUNT(*) FROM requests \
         WHERE vendor_id = $1 AND fiscal_year = $2 AND id <> $3 AND status IN {SPEND_STATUSES}"
    )))
    .bind(fields.vendor_id)
    .bind(fiscal_year)
    .bind(request_id)
    .fetch_one(&mut **tx)
    .await?;
    let facts = RequestFacts {
        department_code: department_code.to_string(),
        department_ordinance_covered: covered,
        vendor_id: fields.vendor_id.to_string(),
        capital_cents: fields.capital_cost_cents,
        annual_operating_cents: fields.annual_operating_cost_cents,
        term_months: fields.term_months as u32,
        users: fields.expected_users as u32,
        renewal: fields.renewal,
        enterprise_agreement: fields.enterprise_agreement,
        material_change,
        hosting: fields.hosting,
        data_classes: fields.data_classes.clone(),
        surveillance: fields.surveillance,
        face_surveillance: fields.face_surveillance,
        start_date: fields.requested_start_date,
        capabilities: fields.capabilities.clone(),
        vendor_fy_other_cents: other_cents,
        vendor_fy_other_count: other_count as u32,
        likely_duplicate_of,
    };
    Ok((evaluate(policy, &facts), fiscal_year))
}

/// Writes the steps of a route for a submission; `carry` keeps the state of steps decided before (re-routing).
async fn write_steps(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    route: &Route,
    carry: &[StepRecord],
) -> Result<Vec<(crate::domain::policy::StepKindTag, StepState)>, ApiError> {
    sqlx::query("DELETE FROM route_steps WHERE request_id = $1 AND submission = $2")
        .bind(request_id)
        .bind(submission)
        .execute(&mut **tx)
        .await?;
    let mut states = Vec::new();
    for (position, step) in route.steps.iter().enumerate() {
        let kept = carry
            .iter()
            .find(|c| c.kind == step.kind.as_str() && c.state() != StepState::Pending);
        let (state, note) = if route.is_prohibited() {
            (StepState::Blocked, "the purchase is prohibited".to_string())
        } else if let Some(k) = kept {
            (k.state(), k.note.clone())
        } else {
            (StepState::Pending, pending_note(step))
        };
        sqlx::query(
            "INSERT INTO route_steps (request_id, submission, kind, position, state, detail, note, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(request_id)
        .bind(submission)
        .bind(step.kind.as_str())
        .bind(position as i32)
        .bind(state.as_str())
        .bind(Json(step))
        .bind(&note)
        .bind(now())
        .execute(&mut **tx)
        .await?;
        states.push((step.kind, state));
    }
    Ok(states)
}

/// Sets one step's state on the current submission and returns the status the request's steps now give.
pub(super) async fn settle_step(
    tx: &mut Tx,
    current: &RequestRecord,
    kind: &str,
    state: StepState,
    note: &str,
) -> Result<Status, ApiError> {
    sqlx::query(
        "UPDATE route_steps SET state = $4, note = $5, updated_at = $6 \
         WHERE request_id = $1 AND submission = $2 AND kind = $3",
    )
    .bind(current.id)
    .bind(current.submission)
    .bind(kind)
    .bind(state.as_str())
    .bind(note)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    let steps: Vec<StepRecord> =
        sqlx::query_as("SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position")
            .bind(current.id)
            .bind(current.submission)
            .fetch_all(&mut **tx)
            .await?;
    let route = current.route.as_ref().map(|r| r.0.clone()).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("request {} is under review without a route", current.id))
    })?;
    let states: Vec<_> = steps
        .iter()
        .filter_map(|s| Some((crate::domain::workflow::parse_step_kind(&s.kind)?, s.state())))
        .collect();
    let conditions = has_conditions(tx, current.id, current.submission).await?;
    Ok(status_from_steps(&route, &states, conditions))
}

pub(super) async fn step_state(tx: &mut Tx, current: &RequestRecord, kind: &str) -> Result<Option<StepState>, ApiError> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT state FROM route_steps WHERE request_id = $1 AND submission = $2 AND kind = $3")
            .bind(current.id)
            .bind(current.submission)
            .bind(kind)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.and_then(|(s,)| StepState::parse(&s)))
}

pub(super) async fn set_status(tx: &mut Tx, id: Uuid, status: Status) -> Result<RequestRecord, ApiError> {
    Ok(sqlx::query_as(
        "UPDATE requests SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(now())
    .fetch_one(&mut **tx)
    .await?)
}

async fn has_conditions(tx: &mut Tx, request_id: Uuid, submission: i32) -> Result<bool, ApiError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM decisions WHERE request_id = $1 AND submission = $2 AND outcome = 'approve_with_conditions'",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

async fn insert_decision(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    step: &str,
    d: &CheckedDecision,
    actor: &Actor,
) -> Result<Decision, ApiError> {
    let (id,): (Uuid,) = sqlx::query_as(
        "INSERT INTO decisions (id, request_id, submission, step, outcome, conditions, reason_code, rationale, \
         decided_by, role, decided_at, service_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(request_id)
    .bind(submission)
    .bind(step)
    .bind(enum_to_str(&d.outcome))
    .bind(Json(&d.conditions))
    .bind(d.reason_code.as_ref().map(enum_to_str))
    .bind(d.rationale.as_deref())
    .bind(&actor.subject)
    .bind(&actor.role)
    .bind(now())
    .bind(d.service_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        if crate::store::is_unique_violation(&e) {
            ApiError::conflict("already_decided", format!("the {step} step of this version is already decided"))
        } else {
            e.into()
        }
    })?;
    let row: DecisionRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("{DECISION_SELECT} WHERE d.id = $1")))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.into_decision())
}

const DECISION_SELECT: &str = "SELECT d.*, c.name AS service_name, c.owning_team AS service_team, \
    c.access AS service_access FROM decisions d LEFT JOIN catalog_services c ON c.id = d.service_id";

/// The best likely duplicate among `candidates` that the CIO has not dismissed for this request, described
/// for the route's reason.
async fn undismissed_likely(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[(String, String, String, f64, String)],
) -> Result<Option<String>, ApiError> {
    let dismissed: Vec<(String, String)> =
        sqlx::query_as("SELECT candidate_kind, candidate_id FROM duplicate_dismissals WHERE request_id = $1")
            .bind(request_id)
            .fetch_all(&mut **tx)
            .await?;
    Ok(candidates
        .iter()
        .filter(|(kind, id, _, _, class)| {
            class == "likely_duplicate" && !dismissed.iter().any(|(k, i)| k == kind && i == id)
        })
        .max_by(|a, b| a.3.total_cmp(&b.3))
        .map(|(kind, _, name, score, _)| {
            let what = if kind == "service" { "central service" } else { "purchase by another department" };
            format!("{name} ({what}, match score {score:.2})")
        }))
}

/// Records what the duplicate check found for a submitted version.
async fn record_candidates(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    candidates: &[Candidate],
) -> Result<Vec<(String, String, String, f64, String)>, ApiError> {
    let mut out = Vec::new();
    for c in candidates {
        let kind = enum_to_str(&c.kind);
        let class = enum_to_str(&c.class);
        sqlx::query(
            "INSERT INTO request_duplicates (request_id, submission, candidate_kind, candidate_id, name, score, class, \
             evidence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(request_id)
        .bind(submission)
        .bind(&kind)
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.score)
        .bind(&class)
        .bind(Json(to_json(&c.evidence)))
        .execute(&mut **tx)
        .await?;
        out.push((kind, c.id.clone(), c.name.clone(), c.score, class));
    }
    Ok(out)
}

/// Routes the request's current fields as a new submitted version and sets the status that follows.
async fn route_submission(
    tx: &mut Tx,
    actor: &Actor,
    current: &RequestRecord,
    fields: &RequestFields,
    material_change: bool,
    detection: &Detection,
) -> Result<RequestRecord, ApiError> {
    if detection.for_version != current.version {
        return Err(ApiError::conflict(
            "changed_during_submission",
            "the request changed while it was being checked; submit again",
        ));
    }
    let (policy_version, policy) = load_policy(tx).await?;
    let submission = current.submission + 1;
    let recorded = record_candidates(tx, current.id, submission, &detection.candidates).await?;
    let likely = undismissed_likely(tx, current.id, &recorded).await?;
    let (route, fiscal_year) =
        route_for(tx, &policy, current.id, &current.department_code, fields, material_change, likely).await?;
    let at = now();
    sqlx::query(
        "INSERT INTO request_versions (request_id, submission, fields, submitted_by, submitted_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(current.id)
    .bind(submission)
    .bind(Json(fields))
    .bind(&actor.subject)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    let states = write_steps(tx, current.id, submission, &route, &[]).await?;
    let status = status_from_steps(&route, &states, false);
    if route.is_prohibited() {
        let system = CheckedDecision {
            step: crate::domain::policy::StepKindTag::CioApproval,
            outcome: Outcome::Deny,
            conditions: Vec::new(),
            reason_code: Some(DenialReason::ProhibitedTechnology),
            rationale: Some(prohibition_rationale(&route)),
            service_id: None,
        };
        let policy_actor = Actor {
            subject: "policy".into(),
            role: "system".into(),
            request_id: actor.request_id.clone(),
            invitation: None,
        };
        insert_decision(tx, current.id, submission, "policy", &system, &policy_actor).await?;
    }
    let updated: RequestRecord = sqlx::query_as(
        "UPDATE requests SET status = $2, fields = $3, title = $4, vendor_id = $5, total_contract_value_cents = $6, \
         fiscal_year = $7, submission = $8, policy_version = $9, route = $10, submitted_by = $11, \
         version = version + 1, updated_at = $12 WHERE id = $1 RETURNING *",
    )
    .bind(current.id)
    .bind(status.as_str())
    .bind(Json(fields))
    .bind(&fields.title)
    .bind(fields.vendor_id)
    .bind(route.total_contract_value_cents)
    .bind(fiscal_year)
    .bind(submission)
    .bind(policy_version)
    .bind(Json(&route))
    .bind(&actor.subject)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    if let Some(review) = route.step(StepKindTag::SecurityReview)
        && !route.is_prohibited()
    {
        super::questionnaires_impl::create_assessments(
            tx,
            actor,
            &updated,
            &review.questionnaires,
            policy.questionnaire_due_days,
        )
        .await?;
    }
    Ok(updated)
}

impl Repo {
    pub async fn current_policy(&self) -> Result<PolicyRecord, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM policies ORDER BY version DESC LIMIT 1")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn get_policy(&self, version: i32) -> Result<Option<PolicyRecord>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM policies WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_policies(&self, page: PageRequest) -> Result<Paged<PolicyRecord>, ApiError> {
        let items = sqlx::query_as("SELECT * FROM policies ORDER BY version DESC LIMIT $1 OFFSET $2")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM policies").fetch_one(&self.pool).await?;
        Ok(Paged { items, total })
    }

    /// Stores `policy` (already validated) as the next version.
    pub async fn publish_policy(&self, actor: &Actor, policy: Policy) -> Result<PolicyRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let record = insert_policy(&mut tx, actor, policy).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn create_request(
        &self,
        actor: &Actor,
        department_code: &str,
        fields: RequestFields,
    ) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let known: Option<(String,)> = sqlx::query_as("SELECT code FROM departments WHERE code = $1")
            .bind(department_code)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(ApiError::forbidden(format!(
                "your token names department {department_code}, which is not registered"
            )));
        }
        if !vendor_exists(&mut tx, fields.vendor_id).await? {
            return Err(ApiError::field("vendor_id", "no vendor is registered with this id"));
        }
        let (_, policy) = load_policy(&mut tx).await?;
        let at = now();
        let created: RequestRecord = sqlx::query_as(
            "INSERT INTO requests (id, department_code, vendor_id, status, title, fields, total_contract_value_cents, \
             fiscal_year, submission, created_by, version, created_at, updated_at) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, 0, $8, 1, $9, $9) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(department_code)
        .bind(fields.vendor_id)
        .bind(&fields.title)
        .bind(Json(&fields))
        .bind(fields.total_contract_value_cents())
        .bind(policy.fiscal_year_of(fields.requested_start_date))
        .bind(&actor.subject)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "request.created",
            "request",
            &created.id.to_string(),
            None,
            Some(snapshot(&created)),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn get_request(&self, scope: &Scope, id: Uuid) -> Result<RequestRecord, ApiError> {
        let found: Option<RequestRecord> = sqlx::query_as("SELECT * FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        found
            .filter(|r| scope.admits_department(&r.department_code))
            .ok_or_else(|| ApiError::not_found("request"))
    }

    pub async fn list_requests(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> Result<Paged<RequestRecord>, ApiError> {
        let department = match scope {
            Scope::All => filter.department.clone(),
            Scope::Department(own) => {
                if filter.department.as_ref().is_some_and(|d| d != own) {
                    return Ok(Paged { items: Vec::new(), total: 0 });
                }
                Some(own.clone())
            }
        };
        let kinds = filter.awaiting_kinds.clone().unwrap_or_default();
        let awaiting = filter.awaiting_kinds.is_some();
        let kind = |i: usize| kinds.get(i).cloned();
        let q = filter.q.as_deref().map(contains_pattern);
        const WHERE: &str = "WHERE ($1 IS NULL OR r.status = $1) AND ($2 IS NULL OR r.department_code = $2) \
             AND ($3 IS NULL OR r.vendor_id = $3) AND ($4 IS NULL OR lower(r.title) LIKE $4 ESCAPE '\\') \
             AND ($5 = FALSE OR (r.status IN ('in_review', 'awaiting_decision') AND EXISTS (SELECT 1 FROM route_steps s \
             WHERE s.request_id = r.id AND s.submission = r.submission AND s.state = 'pending' \
             AND s.kind IN ($6, $7, $8))))";
        let items: Vec<RequestRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT r.* FROM requests r {WHERE} ORDER BY r.created_at DESC, r.id LIMIT $9 OFFSET $10"
        )))
        .bind(filter.status.map(|s| s.as_str()))
        .bind(department.as_deref())
        .bind(filter.vendor_id)
        .bind(q.as_deref())
        .bind(awaiting)
        .bind(kind(0))
        .bind(kind(1))
        .bind(kind(2))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM requests r {WHERE}")))
            .bind(filter.status.map(|s| s.as_str()))
            .bind(department.as_deref())
            .bind(filter.vendor_id)
            .bind(q.as_deref())
            .bind(awaiting)
            .bind(kind(0))
            .bind(kind(1))
            .bind(kind(2))
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    pub async fn update_request(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: Uuid,
        if_match: Option<i64>,
        input: RequestInput,
        detection: Option<Detection>,
    ) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, scope, id, Action::Edit, if_match).await?;
        let next = RequestFields::parse(input, Some(&current.fields.0))?;
        if next.vendor_id != current.fields.0.vendor_id && !vendor_exists(&mut tx, next.vendor_id).await? {
            return Err(ApiError::field("vendor_id", "no vendor is registered with this id"));
        }
        let (_, policy) = load_policy(&mut tx).await?;
        let (updated, action) = if current.status().is_approved() {
            let reasons = current.fields.0.material_changes(&next, policy.material_change_cost_percent);
            if reasons.is_empty() {
                (store_fields(&mut tx, &current, &next, current.status(), &policy).await?, "request.updated")
            } else {
                let detection = detection.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("a material change was routed without a duplicate check"))
                })?;
                let reopened = route_submission(&mut tx, actor, &current, &next, true, &detection).await?;
                (reopened, "request.reopened")
            }
        } else {
            // An edit of a request sent back for changes turns it into a draft again.
            (store_fields(&mut tx, &current, &next, Status::Draft, &policy).await?, "request.updated")
        };
        audit_change(&mut tx, actor, action, &current, snapshot(&updated)).await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn submit_request(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: Uuid,
        if_match: Option<i64>,
        detection: Detection,
    ) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, scope, id, Action::Submit, if_match).await?;
        let fields = current.fields.0.clone();
        let updated = route_submission(&mut tx, actor, &current, &fields, false, &detection).await?;
        audit_change(&mut tx, actor, "request.submitted", &current, snapshot(&updated)).await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn withdraw_request(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: Uuid,
        if_match: Option<i64>,
    ) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, scope, id, Action::Withdraw, if_match).await?;
        let updated: RequestRecord = sqlx::query_as(
            "UPDATE requests SET status = 'withdrawn', version = version + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit_change(&mut tx, actor, "request.withdrawn", &current, snapshot(&updated)).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Re-evaluates the current submission under the current policy; steps already decided keep their state.
    pub async fn reroute_request(&self, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, &Scope::All, id, Action::Reroute, if_match).await?;
        let (policy_version, policy) = load_policy(&mut tx).await?;
        let fields = current.fields.0.clone();
        let recorded: Vec<(String, String, String, f64, String)> = sqlx::query_as(
            "SELECT candidate_kind, candidate_id, name, score, class FROM request_duplicates \
             WHERE request_id = $1 AND submission = $2",
        )
        .bind(id)
        .bind(current.submission)
        .fetch_all(&mut *tx)
        .await?;
        let likely = undismissed_likely(&mut tx, id, &recorded).await?;
        let (route, fiscal_year) =
            route_for(&mut tx, &policy, id, &current.department_code, &fields, false, likely).await?;
        let before: Vec<StepRecord> =
            sqlx::query_as("SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2")
                .bind(id)
                .bind(current.submission)
                .fetch_all(&mut *tx)
                .await?;
        let states = write_steps(&mut tx, id, current.submission, &route, &before).await?;
        let conditions = has_conditions(&mut tx, id, current.submission).await?;
        let status = status_from_steps(&route, &states, conditions);
        let updated: RequestRecord = sqlx::query_as(
            "UPDATE requests SET status = $2, policy_version = $3, route = $4, fiscal_year = $5, \
             version = version + 1, updated_at = $6 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(policy_version)
        .bind(Json(&route))
        .bind(fiscal_year)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit_change(&mut tx, actor, "request.rerouted", &current, snapshot(&updated)).await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn route_steps(&self, request: &RequestRecord) -> Result<Vec<StepRecord>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position")
            .bind(request.id)
            .bind(request.submission)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn decide(
        &self,
        actor: &Actor,
        principal: &Principal,
        id: Uuid,
        if_match: Option<i64>,
        decision: CheckedDecision,
    ) -> Result<(Decision, RequestRecord), ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, &Scope::All, id, Action::Decide, if_match).await?;
        let role: Role = decider(decision.step).expect("decision steps have deciders");
        if !principal.has(role) {
            return Err(ApiError::forbidden(format!(
                "the {} step is decided by the {} role",
                decision.step.as_str(),
                role.as_str()
            )));
        }
        if current.submitted_by.as_deref() == Some(principal.subject.as_str()) {
            return Err(ApiError::forbidden("the person who submitted a request never decides it"));
        }
        let steps: Vec<StepRecord> =
            sqlx::query_as("SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position")
                .bind(id)
                .bind(current.submission)
                .fetch_all(&mut *tx)
                .await?;
        let step = decision.step.as_str();
        let pending: Vec<String> = steps
            .iter()
            .filter(|s| s.state() == StepState::Pending && crate::domain::workflow::parse_step_kind(&s.kind).and_then(decider).is_some())
            .map(|s| s.kind.clone())
            .collect();
        match steps.iter().find(|s| s.kind == step) {
            None => {
                return Err(ApiError::conflict(
                    "step_not_in_route",
                    format!("this request's route has no {step} step"),
                )
                .with_allowed(pending));
            }
            Some(s) if s.state() != StepState::Pending => {
                return Err(ApiError::conflict(
                    "already_decided",
                    format!("the {step} step is already {}", s.state().as_str()),
                )
                .with_allowed(pending));
            }
            Some(_) => {}
        }
        let decider_actor = Actor {
            role: role.as_str().to_string(),
            ..actor.clone()
        };
        if let Some(service_id) = decision.service_id {
            let found: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM catalog_services WHERE id = $1")
                .bind(service_id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(ApiError::field("service_id", "no catalogue service has this id"));
            }
        }
        let recorded = insert_decision(&mut tx, id, current.submission, step, &decision, &decider_actor).await?;
        let (new_state, note) = match decision.outcome {
            Outcome::Approve => (StepState::Satisfied, format!("approved by {}", principal.subject)),
            Outcome::ApproveWithConditions => (
                StepState::Satisfied,
                format!("approved by {} with conditions: {}", principal.subject, decision.conditions.join("; ")),
            ),
            Outcome::Deny => (StepState::Blocked, format!("denied by {}", principal.subject)),
            Outcome::RequestChanges => (StepState::Pending, format!("changes requested by {}", principal.subject)),
        };
        let settled = settle_step(&mut tx, &current, step, new_state, &note).await?;
        let status = match decision.outcome {
            Outcome::Deny => Status::Denied,
            Outcome::RequestChanges => Status::ChangesRequested,
            Outcome::Approve | Outcome::ApproveWithConditions => settled,
        };
        let updated = set_status(&mut tx, id, status).await?;
        let mut after = snapshot(&updated);
        after["decision"] = to_json(&recorded);
        audit_change(&mut tx, &decider_actor, "request.decided", &current, after).await?;
        tx.commit().await?;
        Ok((recorded, updated))
    }

    pub async fn request_duplicates(&self, id: Uuid, submission: i32) -> Result<Vec<DuplicateRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT submission, candidate_kind, candidate_id, name, score, class, evidence FROM request_duplicates \
             WHERE request_id = $1 AND submission = $2 ORDER BY score DESC, candidate_id",
        )
        .bind(id)
        .bind(submission)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn dismissals(&self, id: Uuid) -> Result<Vec<DismissalRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT candidate_kind, candidate_id, reason, dismissed_by, dismissed_at FROM duplicate_dismissals \
             WHERE request_id = $1 ORDER BY dismissed_at",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn exceptions(&self, id: Uuid) -> Result<Vec<ExceptionRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, submission, justification, requested_by, requested_at, status, decided_by, decided_at, \
             decision_reason FROM duplicate_exceptions WHERE request_id = $1 ORDER BY requested_at",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The CIO sets a match aside with a reason; when no likely duplicate is left standing, the duplicate
    /// review step is satisfied.
    pub async fn dismiss_duplicate(
        &self,
        actor: &Actor,
        id: Uuid,
        candidate_kind: &str,
        candidate_id: &str,
        reason: &str,
        if_match: Option<i64>,
    ) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, &Scope::All, id, Action::Decide, if_match).await?;
        let recorded: Vec<(String, String, String, f64, String)> = sqlx::query_as(
            "SELECT candidate_kind, candidate_id, name, score, class FROM request_duplicates \
             WHERE request_id = $1 AND submission = $2",
        )
        .bind(id)
        .bind(current.submission)
        .fetch_all(&mut *tx)
        .await?;
        if !recorded.iter().any(|(k, c, ..)| k == candidate_kind && c == candidate_id) {
            return Err(ApiError::not_found("duplicate candidate of this request"));
        }
        sqlx::query(
            "INSERT INTO duplicate_dismissals (request_id, candidate_kind, candidate_id, reason, dismissed_by, \
             dismissed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(candidate_kind)
        .bind(candidate_id)
        .bind(reason)
        .bind(&actor.subject)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if crate::store::is_unique_violation(&e) {
                ApiError::conflict("already_dismissed", "this match is already dismissed")
            } else {
                e.into()
            }
        })?;
        let step = StepKindTag::CioDuplicateReview.as_str();
        let pending = step_state(&mut tx, &current, step).await? == Some(StepState::Pending);
        let status = if pending && undismissed_likely(&mut tx, id, &recorded).await?.is_none() {
            let note = format!("likely duplicate dismissed by {}: {reason}", actor.subject);
            settle_step(&mut tx, &current, step, StepState::Satisfied, &note).await?
        } else {
            current.status()
        };
        let updated = set_status(&mut tx, id, status).await?;
        let mut after = snapshot(&updated);
        after["dismissed"] = serde_json::json!({"candidate_kind": candidate_kind, "candidate_id": candidate_id,
                                                "reason": reason});
        audit_change(&mut tx, actor, "request.duplicate_dismissed", &current, after).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// A buyer asks the CIO to let the purchase go ahead although it looks like a duplicate.
    pub async fn request_exception(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: Uuid,
        justification: &str,
    ) -> Result<ExceptionRecord, ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, scope, id, Action::Decide, None).await?;
        let step = StepKindTag::CioDuplicateReview.as_str();
        if step_state(&mut tx, &current, step).await? != Some(StepState::Pending) {
            return Err(ApiError::conflict(
                "no_duplicate_review",
                "an exception is asked while the request waits for the CIO's duplicate review",
            ));
        }
        let record: ExceptionRecord = sqlx::query_as(
            "INSERT INTO duplicate_exceptions (id, request_id, submission, justification, requested_by, requested_at, \
             status) VALUES ($1, $2, $3, $4, $5, $6, 'requested') RETURNING id, submission, justification, \
             requested_by, requested_at, status, decided_by, decided_at, decision_reason",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(current.submission)
        .bind(justification)
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if crate::store::is_unique_violation(&e) {
                ApiError::conflict("exception_exists", "an exception was already asked for this version")
            } else {
                e.into()
            }
        })?;
        let updated = set_status(&mut tx, id, current.status()).await?;
        let mut after = snapshot(&updated);
        after["exception"] = serde_json::json!({"justification": justification, "status": "requested"});
        audit_change(&mut tx, actor, "request.exception_requested", &current, after).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The CIO grants (the duplicate review step is waived) or refuses a buyer's exception.
    pub async fn decide_exception(
        &self,
        actor: &Actor,
        principal: &Principal,
        id: Uuid,
        grant: bool,
        reason: &str,
    ) -> Result<(ExceptionRecord, RequestRecord), ApiError> {
        let mut tx = begin(&self.pool).await?;
        let current = lock_for(&mut tx, &Scope::All, id, Action::Decide, None).await?;
        if current.submitted_by.as_deref() == Some(principal.subject.as_str()) {
            return Err(ApiError::forbidden("the person who submitted a request never decides it"));
        }
        let status = if grant { "granted" } else { "refused" };
        let record: Option<ExceptionRecord> = sqlx::query_as(
            "UPDATE duplicate_exceptions SET status = $3, decided_by = $4, decided_at = $5, decision_reason = $6 \
             WHERE request_id = $1 AND submission = $2 AND status = 'requested' RETURNING id, submission, \
             justification, requested_by, requested_at, status, decided_by, decided_at, decision_reason",
        )
        .bind(id)
        .bind(current.submission)
        .bind(status)
        .bind(&actor.subject)
        .bind(now())
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?;
        let record = record.ok_or_else(|| {
            ApiError::conflict("no_open_exception", "no exception is waiting for a decision on this version")
        })?;
        let step = StepKindTag::CioDuplicateReview.as_str();
        let new_status = if grant && step_state(&mut tx, &current, step).await? == Some(StepState::Pending) {
            let note = format!("exception granted by {}: {reason}", actor.subject);
            settle_step(&mut tx, &current, step, StepState::Waived, &note).await?
        } else {
            current.status()
        };
        let updated = set_status(&mut tx, id, new_status).await?;
        let mut after = snapshot(&updated);
        after["exception"] = serde_json::json!({"status": status, "reason": reason});
        let action = if grant { "request.exception_granted" } else { "request.exception_refused" };
        audit_change(&mut tx, actor, action, &current, after).await?;
        tx.commit().await?;
        Ok((record, updated))
    }

    /// Requests changed after `since` (all of them without it), for the duplicate index.
    pub async fn purchases_changed_since(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<crate::store::PurchaseRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT r.id, r.department_code, r.status, r.fields, v.legal_name AS vendor_name, r.updated_at \
             FROM requests r JOIN vendors v ON v.id = r.vendor_id WHERE ($1 IS NULL OR r.updated_at > $1)",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_decisions(&self, request_id: Uuid) -> Result<Vec<Decision>, ApiError> {
        let rows: Vec<DecisionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{DECISION_SELECT} WHERE d.request_id = $1 ORDER BY d.decided_at, d.id"
        )))
                .bind(request_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(DecisionRow::into_decision).collect())
    }

    pub async fn list_versions(&self, request_id: Uuid) -> Result<Vec<VersionRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT submission, fields, submitted_by, submitted_at FROM request_versions WHERE request_id = $1 \
             ORDER BY submission",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn store_fields(
    tx: &mut Tx,
    current: &RequestRecord,
    next: &RequestFields,
    status: Status,
    policy: &Policy,
) -> Result<RequestRecord, ApiError> {
    Ok(sqlx::query_as(
        "UPDATE requests SET status = $2, fields = $3, title = $4, vendor_id = $5, total_contract_value_cents = $6, \
         fiscal_year = $7, version = version + 1, updated_at = $8 WHERE id = $1 RETURNING *",
    )
    .bind(current.id)
    .bind(status.as_str())
    .bind(Json(next))
    .bind(&next.title)
    .bind(next.vendor_id)
    .bind(next.total_contract_value_cents())
    .bind(policy.fiscal_year_of(next.requested_start_date))
    .bind(now())
    .fetch_one(&mut **tx)
    .await?)
}

/// Inserts `policy` as the next version (the first, at bootstrap, when there is none).
pub(super) async fn insert_policy(tx: &mut Tx, actor: &Actor, policy: Policy) -> Result<PolicyRecord, ApiError> {
    let document = to_json(&policy);
    let content_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(canonical_json(&document).as_bytes()));
    let (latest,): (Option<i32>,) = sqlx::query_as("SELECT MAX(version) FROM policies")
        .fetch_one(&mut **tx)
        .await?;
    let version = latest.unwrap_or(0) + 1;
    let record: PolicyRecord = sqlx::query_as(
        "INSERT INTO policies (version, label, document, content_hash, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(version)
    .bind(&policy.label)
    .bind(Json(&policy))
    .bind(&content_hash)
    .bind(&actor.subject)
    .bind(now())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        if crate::store::is_unique_violation(&e) {
            ApiError::conflict("concurrent_publish", "another policy version was published at the same moment; retry")
        } else {
            e.into()
        }
    })?;
    audit(
        tx,
        actor,
        "policy.published",
        "policy",
        &version.to_string(),
        None,
        Some(serde_json::json!({"version": version, "label": policy.label, "content_hash": content_hash, "document": document})),
    )
    .await?;
    Ok(record)
}
