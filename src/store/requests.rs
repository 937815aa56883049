// Requests, routing, decisions and policy versions. Included by both backends as a submodule of theirs, so
// `Db`, `Pool`, `begin`, `Repo`, `audit` and `for_update!` come from the including module.
//
// Every command follows one shape: lock the row, load what the planner in `crate::workflow::requests` reads,
// let it plan, apply the plan, audit — all in one transaction. No rule is decided here.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::audit::canonical_json;
use crate::domain::council::CouncilOutcome;
use crate::domain::duplicate_learning::PriorDismissal;
use crate::domain::duplicates::Candidate;
use crate::domain::policy::Policy;
use crate::domain::request::{Renews, RequestFields, Status};
use crate::domain::workflow::{
    CheckedDecision, Decision, DenialReason, Outcome, StepState, UseInstead,
};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, Detection, DismissalRecord, DuplicateRecord, ExceptionRecord, Keyset, Paged,
    PolicyRecord, REQUEST_SUMMARY_COLUMNS, RequestFilter, RequestRecord, RequestSummary, Scope,
    StepRecord, VersionRecord, contains_pattern, to_json, unique_as,
};
use crate::workflow::Caller;
use crate::workflow::requests::{self as plans, Evidence, Plan, RequestState, Standing, Step};
use crate::workflow::route::{DecidedVersion, Prior, PriorTerms, Routing, per_year};

/// A submitted version's fields, route and policy version.
type VersionRoute = (
    Json<RequestFields>,
    Option<Json<crate::domain::policy::Route>>,
    Option<i32>,
);

const SPEND_STATUSES: &str =
    "('submitted', 'in_review', 'awaiting_decision', 'approved', 'approved_with_conditions')";

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: Uuid,
    request_id: Uuid,
    submission: i32,
    step: String,
    outcome: Outcome,
    conditions: Json<Vec<String>>,
    reason_code: Option<DenialReason>,
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

impl DecisionRow {
    fn into_decision(self) -> Decision {
        Decision {
            id: self.id,
            request_id: self.request_id,
            submission: self.submission as i64,
            step: self.step,
            outcome: self.outcome,
            conditions: self.conditions.0,
            reason_code: self.reason_code,
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

/// Locks a request's row; one outside the caller's scope is not found, like a missing one.
async fn lock_row(tx: &mut Tx, scope: &Scope, id: Uuid) -> Result<RequestRecord, ApiError> {
    let found: Option<RequestRecord> = sqlx::query_as(concat!(
        "SELECT * FROM requests WHERE id = $1",
        for_update!()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    found
        .filter(|r| scope.admits_department(&r.department_code))
        .ok_or_else(|| ApiError::not_found("request"))
}

/// Locks a request for a change of its version `if_match` (412 when another change came first).
pub(super) async fn lock_version(
    tx: &mut Tx,
    scope: &Scope,
    id: Uuid,
    if_match: i64,
) -> Result<RequestRecord, ApiError> {
    let current = lock_row(tx, scope, id).await?;
    check_version(current.version, Some(if_match))?;
    Ok(current)
}

fn corrupt(what: String) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(what))
}

/// A stored status the service does not know is an error, never a default: an unknown state must not read as
/// an editable draft.
fn status_of(record: &RequestRecord) -> Result<Status, ApiError> {
    record.status()
}

fn step_of(record: StepRecord) -> Result<Step, ApiError> {
    let kind = crate::domain::workflow::parse_step_kind(&record.kind).ok_or_else(|| {
        corrupt(format!(
            "a route step has an unknown kind {:?}",
            record.kind
        ))
    })?;
    let state = StepState::parse(&record.state).ok_or_else(|| {
        corrupt(format!(
            "a route step has an unknown state {:?}",
            record.state
        ))
    })?;
    Ok(Step {
        kind,
        state,
        note: record.note,
        detail: record.detail.0,
        conditions: record.conditions.0,
        settled_in: record.settled_in,
    })
}

async fn load_steps(tx: &mut Tx, id: Uuid, submission: i32) -> Result<Vec<Step>, ApiError> {
    let rows: Vec<StepRecord> = sqlx::query_as(
        "SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position",
    )
    .bind(id)
    .bind(submission)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(step_of).collect()
}

/// Everything the planners read about a request.
pub(super) async fn load_state(
    tx: &mut Tx,
    record: &RequestRecord,
) -> Result<RequestState, ApiError> {
    let steps = load_steps(tx, record.id, record.submission).await?;
    let authors: Vec<(String,)> =
        sqlx::query_as("SELECT subject_key FROM request_authors WHERE request_id = $1")
            .bind(record.id)
            .fetch_all(&mut **tx)
            .await?;
    let decided = match record.decided_submission {
        None => None,
        Some(n) => {
            let row: Option<VersionRoute> =
                sqlx::query_as(
                    "SELECT fields, route, policy_version FROM request_versions WHERE request_id = $1 AND submission = $2",
                )
                .bind(record.id)
                .bind(n)
                .fetch_optional(&mut **tx)
                .await?;
            let (fields, route, policy_version) = row.ok_or_else(|| {
                corrupt(format!(
                    "request {} names decided version {n}, which is missing",
                    record.id
                ))
            })?;
            let (route, policy_version) = match (route, policy_version) {
                (Some(route), Some(policy_version)) => (route.0, policy_version),
                _ => {
                    return Err(corrupt(format!(
                        "version {n} of request {} has no route",
                        record.id
                    )));
                }
            };
            Some(DecidedVersion {
                submission: n,
                fields: fields.0,
                route,
                policy_version,
                steps: load_steps(tx, record.id, n).await?,
            })
        }
    };
    let deciders: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT decided_by FROM decisions WHERE request_id = $1 AND role IN ('cio', 'finance')",
    )
    .bind(record.id)
    .fetch_all(&mut **tx)
    .await?;
    let (open_exceptions,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM duplicate_exceptions WHERE request_id = $1 AND submission = $2 AND status = 'requested'",
    )
    .bind(record.id)
    .bind(record.submission)
    .fetch_one(&mut **tx)
    .await?;
    Ok(RequestState {
        id: record.id,
        department: record.department_code.clone(),
        status: status_of(record)?,
        version: record.version,
        submission: record.submission,
        fields: record.fields.0.clone(),
        route: record.route.as_ref().map(|r| r.0.clone()),
        policy_version: record.policy_version,
        steps,
        authors: authors.into_iter().map(|(k,)| k).collect(),
        deciders: deciders
            .iter()
            .map(|(d,)| crate::workflow::subject_key(d))
            .collect(),
        decided,
        open_exception: open_exceptions > 0,
    })
}

/// The [`Standing`] of each record: the kind and state of each step of its current submission, in route order;
/// who wrote a version and who decided a step (one query for both, with the exceptions that wait).
async fn standings_of(tx: &mut Tx, records: &[RequestSummary]) -> Result<Vec<Standing>, ApiError> {
    let n = records.len();
    let list = |from: usize| {
        (from..from + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut steps_q = sqlx::query_as::<_, (Uuid, i32, String, StepState)>(sqlx::AssertSqlSafe(
        format!(
            "SELECT request_id, submission, kind, state FROM route_steps WHERE request_id IN ({}) ORDER BY position",
            list(1)
        ),
    ));
    for r in records {
        steps_q = steps_q.bind(r.id);
    }
    let steps = steps_q.fetch_all(&mut **tx).await?;
    // Authors ('a'), deciders of a CIO or Finance step ('d'), and the submissions with an exception that waits.
    let mut people_q =
        sqlx::query_as::<_, (Uuid, String, String, i32)>(sqlx::AssertSqlSafe(format!(
            "SELECT request_id, 'a', subject_key, 0 FROM request_authors WHERE request_id IN ({}) \
         UNION ALL SELECT DISTINCT request_id, 'd', decided_by, 0 FROM decisions \
         WHERE role IN ('cio', 'finance') AND request_id IN ({}) \
         UNION ALL SELECT request_id, 'x', '', submission FROM duplicate_exceptions \
         WHERE status = 'requested' AND request_id IN ({})",
            list(1),
            list(n + 1),
            list(2 * n + 1)
        )));
    for _ in 0..3 {
        for r in records {
            people_q = people_q.bind(r.id);
        }
    }
    let people = people_q.fetch_all(&mut **tx).await?;
    records
        .iter()
        .map(|record| {
            let steps = steps
                .iter()
                .filter(|(id, n, _, _)| *id == record.id && *n == record.submission)
                .map(|(_, _, kind, state)| {
                    let kind = crate::domain::workflow::parse_step_kind(kind).ok_or_else(|| {
                        corrupt(format!("a route step has an unknown kind {kind:?}"))
                    })?;
                    Ok((kind, *state))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let of = |what: &'static str| {
                people
                    .iter()
                    .filter(move |(id, w, _, _)| *id == record.id && w == what)
            };
            Ok(Standing {
                status: record.status()?,
                department: record.department_code.clone(),
                steps,
                authors: of("a").map(|(_, _, k, _)| k.clone()).collect(),
                deciders: of("d")
                    .map(|(_, _, d, _)| crate::workflow::subject_key(d))
                    .collect(),
                open_exception: of("x").any(|(_, _, _, n)| *n == record.submission),
            })
        })
        .collect()
}

pub(super) async fn load_policy(
    tx: &mut Tx,
    version: Option<i32>,
) -> Result<(i32, Policy), ApiError> {
    let record: PolicyRecord = sqlx::query_as(
        "SELECT * FROM policies WHERE ($1 IS NULL OR version = $1) ORDER BY version DESC LIMIT 1",
    )
    .bind(version)
    .fetch_one(&mut **tx)
    .await?;
    Ok((record.version, record.document.0))
}

async fn vendor_exists(tx: &mut Tx, vendor_id: Uuid) -> Result<bool, ApiError> {
    // Locking the vendor serialises submissions with one vendor, so two halves of a split purchase submitted
    // at the same moment still see each other's spend.
    let found: Option<(Uuid,)> = sqlx::query_as(concat!(
        "SELECT id FROM vendors WHERE id = $1",
        for_update!()
    ))
    .bind(vendor_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(found.is_some())
}

async fn service_exists(tx: &mut Tx, id: Option<Uuid>) -> Result<bool, ApiError> {
    let Some(id) = id else { return Ok(true) };
    let found: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM catalog_services WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// What a renewal's link names, if the buyer may renew it: an approved request of the same department, or a
/// contract with the approved request it was made for.
async fn load_prior(
    tx: &mut Tx,
    department: &str,
    link: Renews,
) -> Result<Option<Prior>, ApiError> {
    match link {
        Renews::Request(id) => {
            let found: Option<RequestRecord> =
                sqlx::query_as("SELECT * FROM requests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
            let Some(target) = found.filter(|r| r.department_code == department) else {
                return Ok(None);
            };
            let status = status_of(&target)?;
            let label = format!("request {:?}", target.fields.0.title);
            let terms = if status.is_approved() {
                Ok(PriorTerms::of(&target.fields.0))
            } else {
                Err(format!(
                    "{label} is {}, not approved: there is no approved purchase to renew",
                    status.as_str()
                ))
            };
            Ok(Some(Prior { link, label, terms }))
        }
        Renews::Contract(id) => {
            let found: Option<crate::store::ContractRecord> =
                sqlx::query_as("SELECT * FROM contracts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
            let Some(contract) = found else {
                return Ok(None);
            };
            let label = format!("contract {}", contract.contract_number);
            let linked: Vec<RequestRecord> = sqlx::query_as(
                "SELECT r.* FROM requests r JOIN contract_requests l ON l.request_id = r.id WHERE l.contract_id = $1 \
                 AND r.status IN ('approved', 'approved_with_conditions') ORDER BY r.updated_at DESC",
            )
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
            let terms = if contract.decommissioned_on.is_some() {
                Err(format!("{label} is decommissioned"))
            } else if let Some(request) = linked.first() {
                let months = (contract
                    .end_date
                    .signed_duration_since(contract.start_date)
                    .num_days()
                    * 12
                    / 365)
                    .max(1);
                Ok(PriorTerms {
                    vendor_id: contract.vendor_id,
                    annual_value_cents: per_year(contract.value_cents, months),
                    ..PriorTerms::of(&request.fields.0)
                })
            } else {
                Err(format!(
                    "{label} is linked to no approved request, so the product, data, hosting and users it covered are \
                     not on record"
                ))
            };
            Ok(Some(Prior { link, label, terms }))
        }
    }
}

/// What routing `fields` needs from the database: the policy (the current one unless `policy_version` names
/// another), the ordinance, the vendor, its spend in the fiscal year, the duplicate finding and the renewal.
async fn load_routing(
    tx: &mut Tx,
    request_id: Uuid,
    department: &str,
    fields: &RequestFields,
    finding: DuplicateFinding,
) -> Result<Routing, ApiError> {
    let (policy_version, policy) = load_policy(tx, None).await?;
    let (ordinance_covered,): (bool,) =
        sqlx::query_as("SELECT surveillance_ordinance FROM departments WHERE code = $1")
            .bind(department)
            .fetch_one(&mut **tx)
            .await?;
    let vendor_known = vendor_exists(tx, fields.vendor_id).await?;
    let fiscal_year = policy.fiscal_year_of(fields.requested_start_date);
    let (fy_other_cents, fy_other_count): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COALESCE(SUM(total_contract_value_cents), 0) AS BIGINT), COUNT(*) FROM requests \
         WHERE vendor_id = $1 AND fiscal_year = $2 AND id <> $3 AND status IN {SPEND_STATUSES}"
    )))
    .bind(fields.vendor_id)
    .bind(fiscal_year)
    .bind(request_id)
    .fetch_one(&mut **tx)
    .await?;
    let prior = match fields.renews {
        Some(link) => load_prior(tx, department, link).await?,
        None => None,
    };
    let orders: Vec<(Uuid, chrono::NaiveDate)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, due_date FROM remediation_orders WHERE vendor_id = $1 AND status IN {} \
         ORDER BY issued_at, id",
        crate::domain::orders::OPEN_STATUSES_SQL
    )))
    .bind(fields.vendor_id)
    .fetch_all(&mut **tx)
    .await?;
    let budget = super::budgets_impl::budget_facts(
        tx,
        request_id,
        department,
        fiscal_year,
        fields.budget_line_id,
    )
    .await?;
    let product =
        super::products_impl::product_facts(tx, fields.product_id, fields.vendor_id).await?;
    Ok(Routing {
        product,
        today: now().date_naive(),
        vendor_open_orders: crate::domain::orders::describe_open_orders(&orders),
        budget,
        policy_version,
        policy,
        ordinance_covered,
        vendor_known,
        fy_other_cents,
        fy_other_count: fy_other_count as u32,
        likely_duplicate: finding.likely,
        overlaps: finding.overlaps,
        dismissed_earlier: finding.dismissed_earlier,
        prior,
    })
}

/// The evidence on file that settles steps: accepted questionnaires of the request's vendor, critical findings
/// still standing, contract clauses, and the Council's vote and documents.
pub(super) async fn load_evidence(
    tx: &mut Tx,
    request_id: Uuid,
    vendor_id: Uuid,
    submission: i32,
) -> Result<Evidence, ApiError> {
    let accepted: Vec<(String,)> = sqlx::query_as(
        "SELECT template_id FROM assessments WHERE request_id = $1 AND vendor_id = $2 AND status = 'accepted'",
    )
    .bind(request_id)
    .bind(vendor_id)
    .fetch_all(&mut **tx)
    .await?;
    let (critical,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM findings f JOIN assessments a ON a.id = f.assessment_id WHERE f.request_id = $1 \
         AND a.vendor_id = $2 AND f.severity = 'critical' AND f.status IN ('open', 'remediation_planned')",
    )
    .bind(request_id)
    .bind(vendor_id)
    .fetch_one(&mut **tx)
    .await?;
    let clauses: Vec<crate::store::SafeguardRecord> = sqlx::query_as(
        "SELECT clause_id, status, document, section, attested_by, attested_at, justification, waived_by, waived_at, \
         updated_by, updated_at FROM request_safeguards WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_all(&mut **tx)
    .await?;
    let vote: Option<(String, String, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT outcome, docket, vote_date FROM council_votes WHERE request_id = $1 AND submission = $2",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_optional(&mut **tx)
    .await?;
    let council_vote = match vote {
        None => None,
        Some((outcome, docket, date)) => Some((
            CouncilOutcome::parse(&outcome).ok_or_else(|| {
                corrupt(format!("a Council vote has an unknown outcome {outcome:?}"))
            })?,
            docket,
            date,
        )),
    };
    let documents: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT kind FROM council_documents WHERE request_id = $1")
            .bind(request_id)
            .fetch_all(&mut **tx)
            .await?;
    let (confirmed_reuse, reused_critical_findings) =
        super::products_impl::reuse_evidence(tx, request_id, submission).await?;
    Ok(Evidence {
        confirmed_reuse,
        reused_critical_findings,
        accepted_questionnaires: accepted.into_iter().map(|(t,)| t).collect(),
        standing_critical_findings: critical as u32,
        clauses: clauses
            .iter()
            .map(|r| (r.clause_id.clone(), r.clause_status()))
            .collect(),
        council_vote,
        council_documents: documents.into_iter().map(|(k,)| k).collect(),
    })
}

/// The duplicate finding for routing a new version: records what the check found for `submission` and
/// describes the best likely duplicate the CIO has not dismissed.
async fn duplicate_finding(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    detection: &Detection,
) -> Result<DuplicateFinding, ApiError> {
    let recorded = record_candidates(
        tx,
        request_id,
        submission,
        &detection.candidates,
        &detection.carried,
    )
    .await?;
    finding_of(tx, request_id, &recorded).await
}

/// A candidate recorded for a submitted version: kind, id, name, score, class, and the earlier dismissal
/// (same department and product) that set it aside.
type Recorded = (
    String,
    String,
    String,
    f64,
    String,
    Option<Json<PriorDismissal>>,
);

/// The candidates the CIO office set aside for this request: its own dismissals, and the earlier ones that
/// carried over to the recorded candidates.
async fn dismissed_pairs(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[Recorded],
) -> Result<Vec<(String, String)>, ApiError> {
    let mut dismissed: Vec<(String, String)> = sqlx::query_as(
        "SELECT candidate_kind, candidate_id FROM duplicate_dismissals WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_all(&mut **tx)
    .await?;
    dismissed.extend(
        candidates
            .iter()
            .filter(|c| c.5.is_some())
            .map(|c| (c.0.clone(), c.1.clone())),
    );
    Ok(dismissed)
}

fn describe_candidate(kind: &str, name: &str, score: f64) -> String {
    let what = if kind == "service" {
        "central service"
    } else {
        "purchase by another department"
    };
    format!("{name} ({what}, match score {score:.2})")
}

/// What the duplicate check found that routing reads.
struct DuplicateFinding {
    /// Every likely duplicate left standing, described.
    likely: Option<String>,
    /// Possible overlaps not dismissed, each described with its score, for the route's notices.
    overlaps: Vec<(String, f64)>,
    /// Candidates set aside by an earlier dismissal of the same department and product, each with it cited.
    dismissed_earlier: Vec<String>,
}

async fn finding_of(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[Recorded],
) -> Result<DuplicateFinding, ApiError> {
    let likely = undismissed_likely(tx, request_id, candidates).await?;
    let dismissed = dismissed_pairs(tx, request_id, candidates).await?;
    let dismissed_earlier = candidates
        .iter()
        .filter_map(|(kind, _, name, score, _, carried)| {
            let prior = &carried.as_ref()?.0;
            Some(format!(
                "{}: {}",
                describe_candidate(kind, name, *score),
                prior.citation()
            ))
        })
        .collect();
    let overlaps = candidates
        .iter()
        .filter(|(kind, id, _, _, class, _)| {
            class == "possible_overlap" && !dismissed.iter().any(|(k, i)| k == kind && i == id)
        })
        .map(|(kind, _, name, score, _, _)| {
            let text = if kind == "service" {
                format!(
                    "the city already runs {name} (possible overlap, match score {score:.2}): ask its owning \
                     team for access before buying"
                )
            } else {
                format!(
                    "another department already bought {name} (possible overlap, match score {score:.2}): ask \
                     it whether it can be shared"
                )
            };
            (text, *score)
        })
        .collect();
    Ok(DuplicateFinding {
        likely,
        overlaps,
        dismissed_earlier,
    })
}

async fn write_steps(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    steps: &[Step],
) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM route_steps WHERE request_id = $1 AND submission = $2")
        .bind(request_id)
        .bind(submission)
        .execute(&mut **tx)
        .await?;
    for (position, step) in steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO route_steps (request_id, submission, kind, position, state, detail, note, updated_at, \
             conditions, settled_in) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(request_id)
        .bind(submission)
        .bind(step.kind.as_str())
        .bind(position as i32)
        .bind(step.state.as_str())
        .bind(Json(&step.detail))
        .bind(&step.note)
        .bind(now())
        .bind(Json(&step.conditions))
        .bind(step.settled_in)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Cancels the request's open work when it closes. Assessments not yet accepted are cancelled (the vendor sees
/// them so, and no reminder is due for them) and invitations made only for this request are revoked.
async fn close_work(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
    reason: &str,
) -> Result<(), ApiError> {
    super::questionnaires_impl::close_for_request(tx, actor, request_id, reason).await?;
    Ok(())
}

/// Applies a plan to the locked request `current` and audits it as one change, with `extra` merged into the
/// record's after-image. Returns the row as it now stands.
pub(super) async fn apply_plan(
    tx: &mut Tx,
    actor: &Actor,
    current: &RequestRecord,
    plan: &Plan,
    extra: Option<serde_json::Value>,
) -> Result<RequestRecord, ApiError> {
    let at = now();
    let id = current.id;
    let mut submission = current.submission;
    if let Some(v) = &plan.version {
        submission = v.submission;
        if v.fields.vendor_id != current.vendor_id {
            super::questionnaires_impl::close_for_other_vendors(
                tx,
                actor,
                id,
                v.fields.vendor_id,
                "the request now names another vendor",
            )
            .await?;
        }
        sqlx::query(
            "INSERT INTO request_versions (request_id, submission, fields, submitted_by, submitted_at, kind, \
             policy_version, route) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(v.submission)
        .bind(Json(&v.fields))
        .bind(&actor.subject)
        .bind(at)
        .bind(v.kind.as_str())
        .bind(v.policy_version)
        .bind(Json(&v.route))
        .execute(&mut **tx)
        .await?;
        write_steps(tx, id, v.submission, &v.steps).await?;
        super::products_impl::write_reuses(tx, id, v.submission, v.route.product.as_ref()).await?;
        sqlx::query(
            "UPDATE requests SET fields = $2, title = $3, vendor_id = $4, total_contract_value_cents = $5, \
             fiscal_year = $6, submission = $7, policy_version = $8, route = $9, submitted_by = $10, \
             budget_line_id = $11, capital_cents = $12, annual_operating_cents = $13, \
             holds_personal_information = $14 WHERE id = $1",
        )
        .bind(id)
        .bind(Json(&v.fields))
        .bind(&v.fields.title)
        .bind(v.fields.vendor_id)
        .bind(v.fields.total_contract_value_cents())
        .bind(v.route.fiscal_year)
        .bind(v.submission)
        .bind(v.policy_version)
        .bind(Json(&v.route))
        .bind(&actor.subject)
        .bind(v.fields.budget_line_id)
        .bind(v.fields.capital_cost_cents)
        .bind(v.fields.annual_operating_cost_cents)
        .bind(v.fields.holds_personal_information())
        .execute(&mut **tx)
        .await?;
    }
    if let Some(fields) = &plan.fields {
        let (_, policy) = load_policy(tx, None).await?;
        sqlx::query(
            "UPDATE requests SET fields = $2, title = $3, vendor_id = $4, total_contract_value_cents = $5, \
             fiscal_year = $6, budget_line_id = $7, capital_cents = $8, annual_operating_cents = $9, \
             holds_personal_information = $10 WHERE id = $1",
        )
        .bind(id)
        .bind(Json(fields))
        .bind(&fields.title)
        .bind(fields.vendor_id)
        .bind(fields.total_contract_value_cents())
        .bind(policy.fiscal_year_of(fields.requested_start_date))
        .bind(fields.budget_line_id)
        .bind(fields.capital_cost_cents)
        .bind(fields.annual_operating_cost_cents)
        .bind(fields.holds_personal_information())
        .execute(&mut **tx)
        .await?;
    }
    if let Some((policy_version, route, steps)) = &plan.rerouted {
        write_steps(tx, id, submission, steps).await?;
        super::products_impl::write_reuses(tx, id, submission, route.product.as_ref()).await?;
        sqlx::query(
            "UPDATE requests SET policy_version = $2, route = $3, fiscal_year = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(policy_version)
        .bind(Json(route))
        .bind(route.fiscal_year)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE request_versions SET policy_version = $3, route = $4 WHERE request_id = $1 AND submission = $2")
            .bind(id)
            .bind(submission)
            .bind(policy_version)
            .bind(Json(route))
            .execute(&mut **tx)
            .await?;
    }
    for change in &plan.step_changes {
        sqlx::query(
            "UPDATE route_steps SET state = $4, note = $5, conditions = $6, settled_in = $7, updated_at = $8 \
             WHERE request_id = $1 AND submission = $2 AND kind = $3",
        )
        .bind(id)
        .bind(submission)
        .bind(change.kind.as_str())
        .bind(change.state.as_str())
        .bind(&change.note)
        .bind(Json(&change.conditions))
        .bind(change.settled_in)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    let decision = match &plan.decision {
        Some(d) => Some(insert_decision(tx, id, submission, d).await?),
        None => None,
    };
    let updated: RequestRecord = sqlx::query_as(
        "UPDATE requests SET status = $2, decided_submission = COALESCE($3, decided_submission), \
         version = version + 1, updated_at = $4 WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(plan.status.as_str())
    .bind(plan.decided_submission)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    if !plan.assessments.is_empty() {
        let (_, policy) = load_policy(tx, None).await?;
        super::questionnaires_impl::create_assessments(
            tx,
            actor,
            &updated,
            &plan.assessments,
            policy.questionnaire_due_days,
            updated.route.as_ref().and_then(|r| r.0.product.as_ref()),
        )
        .await?;
    }
    if let Some(reason) = &plan.close {
        close_work(tx, actor, id, reason).await?;
    }
    if plan.author {
        sqlx::query(
            "INSERT INTO request_authors (request_id, subject_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(crate::workflow::subject_key(&actor.subject))
        .execute(&mut **tx)
        .await?;
    }
    super::events_impl::request_changed(tx, plan.audit_action, current, &updated).await?;
    let mut after = snapshot(&updated);
    if let Some(d) = &decision {
        after["decision"] = to_json(d);
    }
    if !plan.step_changes.is_empty() {
        after["steps"] = serde_json::Value::Array(
            plan.step_changes
                .iter()
                .map(|c| serde_json::json!({"kind": c.kind.as_str(), "state": c.state.as_str(), "note": c.note}))
                .collect(),
        );
    }
    if let Some(serde_json::Value::Object(more)) = extra {
        for (k, v) in more {
            after[k] = v;
        }
    }
    audit(
        tx,
        actor,
        plan.audit_action,
        "request",
        &id.to_string(),
        Some(snapshot(current)),
        Some(after),
    )
    .await?;
    Ok(updated)
}

/// Settles the steps of a request that evidence completes, after an event that may have completed one (an
/// assessment accepted, a finding resolved, a clause recorded, a Council vote or document). Nothing happens
/// when nothing changes.
pub(super) async fn resettle(
    tx: &mut Tx,
    actor: &Actor,
    request_id: Uuid,
) -> Result<Option<RequestRecord>, ApiError> {
    let record = lock_row(tx, &Scope::All, request_id).await?;
    let state = load_state(tx, &record).await?;
    let evidence = load_evidence(tx, record.id, record.vendor_id, record.submission).await?;
    match plans::settle_plan(&state, &evidence) {
        None => Ok(None),
        Some(plan) => Ok(Some(apply_plan(tx, actor, &record, &plan, None).await?)),
    }
}

/// Opens the transaction of a change: the request locked at version `if_match`, and its state.
pub(super) async fn open_change(
    pool: &Pool,
    scope: &Scope,
    id: Uuid,
    if_match: i64,
) -> Result<(Tx, RequestRecord, RequestState), ApiError> {
    let mut tx = begin(pool).await?;
    let current = lock_version(&mut tx, scope, id, if_match).await?;
    let state = load_state(&mut tx, &current).await?;
    Ok((tx, current, state))
}

/// Applies the plan, audits it, and commits.
async fn finish(
    mut tx: Tx,
    actor: &Actor,
    current: &RequestRecord,
    plan: &Plan,
    extra: Option<serde_json::Value>,
) -> Result<RequestRecord, ApiError> {
    let updated = apply_plan(&mut tx, actor, current, plan, extra).await?;
    tx.commit().await?;
    Ok(updated)
}
async fn insert_decision(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    d: &plans::NewDecision,
) -> Result<Decision, ApiError> {
    let step = &d.step;
    let decision = &d.decision;
    let (id,): (Uuid,) = sqlx::query_as(
        "INSERT INTO decisions (id, request_id, submission, step, outcome, conditions, reason_code, rationale, \
         decided_by, role, decided_at, service_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(request_id)
    .bind(submission)
    .bind(step)
    .bind(decision.outcome)
    .bind(Json(&decision.conditions))
    .bind(decision.reason_code)
    .bind(decision.rationale.as_deref())
    .bind(&d.decided_by)
    .bind(&d.role)
    .bind(now())
    .bind(decision.service_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(unique_as("already_decided", || format!("the {step} step of this version is already decided")))?;
    let row: DecisionRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{DECISION_SELECT} WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.into_decision())
}

const DECISION_SELECT: &str = "SELECT d.*, c.name AS service_name, c.owning_team AS service_team, \
    c.access AS service_access FROM decisions d LEFT JOIN catalog_services c ON c.id = d.service_id";

/// Every likely duplicate among `candidates` that the CIO has not dismissed for this request, best first,
/// described for the route's reason: each one is named, so that the CIO sees them all.
async fn undismissed_likely(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[Recorded],
) -> Result<Option<String>, ApiError> {
    let standing = standing_likely(tx, request_id, candidates).await?;
    Ok((!standing.is_empty()).then(|| standing.join("; ")))
}

/// The likely duplicates among `candidates` not dismissed for this request, best first, each described.
async fn standing_likely(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[Recorded],
) -> Result<Vec<String>, ApiError> {
    let dismissed = dismissed_pairs(tx, request_id, candidates).await?;
    let mut standing: Vec<&Recorded> = candidates
        .iter()
        .filter(|(kind, id, _, _, class, _)| {
            class == "likely_duplicate" && !dismissed.iter().any(|(k, i)| k == kind && i == id)
        })
        .collect();
    standing.sort_by(|a, b| b.3.total_cmp(&a.3).then_with(|| a.1.cmp(&b.1)));
    Ok(standing
        .into_iter()
        .map(|(kind, _, name, score, _, _)| describe_candidate(kind, name, *score))
        .collect())
}

/// What the duplicate check recorded for a submitted version.
async fn recorded_candidates(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
) -> Result<Vec<Recorded>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT candidate_kind, candidate_id, name, score, class, carried_from FROM request_duplicates \
         WHERE request_id = $1 AND submission = $2",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_all(&mut **tx)
    .await?)
}

/// Records what the duplicate check found for a submitted version.
async fn record_candidates(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
    candidates: &[Candidate],
    carried: &[PriorDismissal],
) -> Result<Vec<Recorded>, ApiError> {
    let mut out = Vec::new();
    for c in candidates {
        let kind = crate::store::types::serde_text(&c.kind);
        let class = crate::store::types::serde_text(&c.class);
        let prior = carried
            .iter()
            .find(|p| p.candidate_kind == kind && p.candidate_id == c.id)
            .map(|p| Json(p.clone()));
        sqlx::query(
            "INSERT INTO request_duplicates (request_id, submission, candidate_kind, candidate_id, name, score, class, \
             evidence, carried_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(request_id)
        .bind(submission)
        .bind(&kind)
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.score)
        .bind(&class)
        .bind(Json(to_json(&c.evidence)))
        .bind(&prior)
        .execute(&mut **tx)
        .await?;
        out.push((kind, c.id.clone(), c.name.clone(), c.score, class, prior));
    }
    Ok(out)
}

impl Repo {
    pub async fn current_policy(&self) -> Result<PolicyRecord, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM policies ORDER BY version DESC LIMIT 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn get_policy(&self, version: i32) -> Result<Option<PolicyRecord>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM policies WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_policies(&self, page: PageRequest) -> Result<Paged<PolicyRecord>, ApiError> {
        let items =
            sqlx::query_as("SELECT * FROM policies ORDER BY version DESC LIMIT $1 OFFSET $2")
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.pool)
                .await?;
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM policies")
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    pub async fn create_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        fields: RequestFields,
    ) -> Result<RequestRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let department = caller.department.clone().unwrap_or_default();
        let known: Option<(String,)> =
            sqlx::query_as("SELECT code FROM departments WHERE code = $1")
                .bind(&department)
                .fetch_optional(&mut *tx)
                .await?;
        let vendor_known = vendor_exists(&mut tx, fields.vendor_id).await?;
        let renewal_known = match fields.renews {
            Some(link) => load_prior(&mut tx, &department, link).await?.is_some(),
            None => true,
        };
        let product_known =
            super::products_impl::product_known(&mut tx, fields.product_id, fields.vendor_id)
                .await?;
        plans::create(
            caller,
            known.is_some(),
            &fields,
            vendor_known,
            renewal_known,
            product_known,
        )?;
        let (_, policy) = load_policy(&mut tx, None).await?;
        let line = super::budgets_impl::line_ref(&mut tx, fields.budget_line_id).await?;
        crate::workflow::budgets::check_line(
            fields.budget_line_id,
            line.as_ref(),
            &department,
            policy.fiscal_year_of(fields.requested_start_date),
        )?;
        let at = now();
        let created: RequestRecord = sqlx::query_as(
            "INSERT INTO requests (id, department_code, vendor_id, status, title, fields, total_contract_value_cents, \
             fiscal_year, submission, created_by, version, created_at, updated_at, budget_line_id, capital_cents, \
             annual_operating_cents, holds_personal_information) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, 0, $8, 1, $9, $9, $10, $11, $12, $13) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&department)
        .bind(fields.vendor_id)
        .bind(&fields.title)
        .bind(Json(&fields))
        .bind(fields.total_contract_value_cents())
        .bind(policy.fiscal_year_of(fields.requested_start_date))
        .bind(&actor.subject)
        .bind(at)
        .bind(fields.budget_line_id)
        .bind(fields.capital_cost_cents)
        .bind(fields.annual_operating_cost_cents)
        .bind(fields.holds_personal_information())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO request_authors (request_id, subject_key) VALUES ($1, $2)")
            .bind(created.id)
            .bind(&caller.key)
            .execute(&mut *tx)
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

    /// A request with what the planners read of it (for what a caller may do now).
    pub async fn request_state(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestRecord, RequestState), ApiError> {
        let mut tx = self.pool.begin().await?;
        let record: RequestRecord = sqlx::query_as("SELECT * FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .filter(|r: &RequestRecord| scope.admits_department(&r.department_code))
            .ok_or_else(|| ApiError::not_found("request"))?;
        let state = load_state(&mut tx, &record).await?;
        tx.rollback().await?;
        Ok((record, state))
    }

    /// A request's row without its route, with what deciding the caller's actions reads of it: three queries
    /// in one read transaction, and no JSON parsed but the fields.
    pub async fn request_standing(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestSummary, Standing), ApiError> {
        let mut tx = self.pool.begin().await?;
        let record: RequestSummary = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REQUEST_SUMMARY_COLUMNS} FROM requests r WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .filter(|r: &RequestSummary| scope.admits_department(&r.department_code))
        .ok_or_else(|| ApiError::not_found("request"))?;
        let mut standings = standings_of(&mut tx, std::slice::from_ref(&record)).await?;
        tx.rollback().await?;
        Ok((record, standings.remove(0)))
    }

    /// What deciding the caller's actions reads of each request of a page: two queries for the whole page.
    pub async fn request_standings(
        &self,
        records: &[RequestSummary],
    ) -> Result<Vec<Standing>, ApiError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await?;
        let standings = standings_of(&mut tx, records).await?;
        tx.rollback().await?;
        Ok(standings)
    }

    /// A page of requests, newest first: after `after` when given (keyset), else at `page.offset`. Only the
    /// filters given reach the SQL, so each can use its index; the second value is the keyset of the next page.
    pub async fn list_requests(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<RequestSummary>, Option<Keyset>), ApiError> {
        let department = match scope {
            Scope::All => filter.department.clone(),
            Scope::Department(own) => {
                if filter.department.as_ref().is_some_and(|d| d != own) {
                    return Ok((
                        Paged {
                            items: Vec::new(),
                            total: 0,
                        },
                        None,
                    ));
                }
                Some(own.clone())
            }
        };
        let mut matches = Conditions::default();
        if let Some(status) = filter.status {
            matches.push("r.status = {}", [Arg::Text(status.as_str().to_string())]);
        }
        if let Some(department) = &department {
            matches.push("r.department_code = {}", [Arg::Text(department.clone())]);
        }
        if let Some(vendor) = filter.vendor_id {
            matches.push("r.vendor_id = {}", [Arg::Id(vendor)]);
        }
        if let Some(q) = filter.q.as_deref() {
            matches.push(
                "lower(r.title) LIKE {} ESCAPE '\\'",
                [Arg::Text(contains_pattern(q))],
            );
        }
        if let Some(kinds) = &filter.awaiting_kinds {
            // A decision is waiting for "me" unless I wrote a version of the request: nobody decides their own.
            let list = vec!["{}"; kinds.len().max(1)].join(", ");
            let mut args: Vec<Arg> = kinds.iter().cloned().map(Arg::Text).collect();
            if args.is_empty() {
                args.push(Arg::Text(String::new()));
            }
            args.push(Arg::Text(
                filter.awaiting_subject_key.clone().unwrap_or_default(),
            ));
            matches.push(
                &format!(
                    "r.status IN ('in_review', 'awaiting_decision') AND EXISTS (SELECT 1 FROM route_steps s \
                     WHERE s.request_id = r.id AND s.submission = r.submission AND s.state = 'pending' \
                     AND s.kind IN ({list})) AND NOT EXISTS (SELECT 1 FROM request_authors a \
                     WHERE a.request_id = r.id AND a.subject_key = {{}})"
                ),
                args,
            );
        }
        // Filtered by status and department only (or not at all), the total is a sum over the counts the
        // triggers keep (migration 0025): a few rows, however many requests there are. Other filters count.
        let counted =
            filter.vendor_id.is_none() && filter.q.is_none() && filter.awaiting_kinds.is_none();
        let (total,): (i64,) = if counted {
            let mut kept = Conditions::default();
            if let Some(status) = filter.status {
                kept.push("r.status = {}", [Arg::Text(status.as_str().to_string())]);
            }
            if let Some(department) = &department {
                kept.push("r.department_code = {}", [Arg::Text(department.clone())]);
            }
            kept.bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(COALESCE(SUM(r.n), 0) AS BIGINT) FROM request_counts r{}",
                kept.where_sql()
            ))))
            .fetch_one(&self.pool)
            .await?
        } else {
            matches
                .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM requests r{}",
                    matches.where_sql()
                ))))
                .fetch_one(&self.pool)
                .await?
        };
        let mut paged = matches;
        let offset = match after {
            Some(k) => {
                paged.push(
                    "(r.created_at < {} OR (r.created_at = {} AND r.id > {}))",
                    [
                        Arg::Time(k.created_at),
                        Arg::Time(k.created_at),
                        Arg::Id(k.id),
                    ],
                );
                0
            }
            None => page.offset,
        };
        let n = paged.args.len();
        let mut items: Vec<RequestSummary> = paged
            .bind_to(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {REQUEST_SUMMARY_COLUMNS} FROM requests r{} ORDER BY r.created_at DESC, r.id \
                 LIMIT ${} OFFSET ${}",
                paged.where_sql(),
                n + 1,
                n + 2
            ))))
            .bind(page.limit + 1)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let next = Keyset::next_of(&mut items, page.limit, |r| (r.created_at, r.id));
        Ok((Paged { items, total }, next))
    }

    pub async fn update_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        next: RequestFields,
        detection: Option<Detection>,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let vendor_known = vendor_exists(&mut tx, next.vendor_id).await?;
        if next.budget_line_id != state.fields.budget_line_id
            || next.requested_start_date != state.fields.requested_start_date
        {
            let (_, policy) = load_policy(&mut tx, None).await?;
            let line = super::budgets_impl::line_ref(&mut tx, next.budget_line_id).await?;
            crate::workflow::budgets::check_line(
                next.budget_line_id,
                line.as_ref(),
                &current.department_code,
                policy.fiscal_year_of(next.requested_start_date),
            )?;
        }
        let reevaluation = match (&state.decided, &detection, state.status.is_approved()) {
            (Some(decided), Some(detection), true) => {
                let (_, decided_policy) =
                    load_policy(&mut tx, Some(decided.policy_version)).await?;
                let likely =
                    duplicate_finding(&mut tx, id, state.submission + 1, detection).await?;
                let routing =
                    load_routing(&mut tx, id, &current.department_code, &next, likely).await?;
                let evidence =
                    load_evidence(&mut tx, id, next.vendor_id, state.submission + 1).await?;
                Some(plans::Reevaluation {
                    decided_policy,
                    routing,
                    evidence,
                    checked_at: detection.for_version,
                })
            }
            _ => None,
        };
        let product_known =
            super::products_impl::product_known(&mut tx, next.product_id, next.vendor_id).await?;
        let plan = plans::edit(
            &state,
            caller,
            next,
            vendor_known,
            product_known,
            reevaluation.as_ref(),
        )?;
        finish(tx, actor, &current, &plan, None).await
    }

    pub async fn submit_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        detection: Detection,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let likely = duplicate_finding(&mut tx, id, state.submission + 1, &detection).await?;
        let routing =
            load_routing(&mut tx, id, &current.department_code, &state.fields, likely).await?;
        let evidence =
            load_evidence(&mut tx, id, state.fields.vendor_id, state.submission + 1).await?;
        let plan = plans::submit(&state, caller, &routing, &evidence, detection.for_version)?;
        finish(tx, actor, &current, &plan, None).await
    }

    /// The plan a submission would carry out now, computed in a transaction that is rolled back: the same
    /// loading and planner as [`Repo::submit_request`], nothing kept.
    pub async fn preview_submission(
        &self,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        detection: Detection,
    ) -> Result<plans::Plan, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_row(&mut tx, scope, id).await?;
        let state = load_state(&mut tx, &current).await?;
        let likely = duplicate_finding(&mut tx, id, state.submission + 1, &detection).await?;
        let routing =
            load_routing(&mut tx, id, &current.department_code, &state.fields, likely).await?;
        let evidence =
            load_evidence(&mut tx, id, state.fields.vendor_id, state.submission + 1).await?;
        let plan = plans::submit(&state, caller, &routing, &evidence, detection.for_version);
        tx.rollback().await?;
        Ok(plan?)
    }

    pub async fn withdraw_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        let (tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let plan = plans::withdraw(&state, caller)?;
        finish(tx, actor, &current, &plan, None).await
    }

    /// Re-evaluates the current submission under the current policy; steps already settled keep their state.
    pub async fn reroute_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let recorded = recorded_candidates(&mut tx, id, current.submission).await?;
        let likely = finding_of(&mut tx, id, &recorded).await?;
        let routing =
            load_routing(&mut tx, id, &current.department_code, &state.fields, likely).await?;
        let evidence = load_evidence(&mut tx, id, current.vendor_id, current.submission).await?;
        let plan = plans::reroute(&state, caller, &routing, &evidence)?;
        finish(tx, actor, &current, &plan, None).await
    }

    pub async fn route_steps(&self, request: &RequestRecord) -> Result<Vec<StepRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position",
        )
        .bind(request.id)
        .bind(request.submission)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn decide(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        decision: CheckedDecision,
        lex: &crate::domain::duplicates::Lexicon,
    ) -> Result<(Decision, RequestRecord), ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let known = service_exists(&mut tx, decision.service_id).await?;
        let candidate = match decision.service_id {
            None => true,
            Some(service) => {
                let service = service.to_string();
                recorded_candidates(&mut tx, id, current.submission)
                    .await?
                    .iter()
                    .any(|(kind, cid, ..)| kind == "service" && *cid == service)
            }
        };
        let service = crate::domain::workflow::NamedService { known, candidate };
        let plan = plans::decide(&state, caller, decision, service)?;
        let decider_actor = Actor {
            role: plan
                .decision
                .as_ref()
                .map(|d| d.role.clone())
                .unwrap_or_else(|| actor.role.clone()),
            ..actor.clone()
        };
        let updated = apply_plan(&mut tx, &decider_actor, &current, &plan, None).await?;
        // A denial as a duplicate of a central service proposes the request's product name as an alias of it.
        if let Some(d) = &plan.decision
            && d.decision.outcome == Outcome::Deny
            && d.decision.reason_code == Some(DenialReason::DuplicateOfCentralService)
            && let Some(service) = d.decision.service_id
        {
            super::catalog_impl::propose_alias(
                &mut tx,
                &decider_actor,
                lex,
                service,
                &state.fields.product_name,
                id,
                current.submission,
            )
            .await?;
        }
        let row: DecisionRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{DECISION_SELECT} WHERE d.request_id = $1 AND d.submission = $2 AND d.step = $3"
        )))
        .bind(id)
        .bind(current.submission)
        .bind(
            plan.decision
                .as_ref()
                .map(|d| d.step.clone())
                .unwrap_or_default(),
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((row.into_decision(), updated))
    }

    pub async fn request_duplicates(
        &self,
        id: Uuid,
        submission: i32,
    ) -> Result<Vec<DuplicateRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT submission, candidate_kind, candidate_id, name, score, class, evidence, carried_from \
             FROM request_duplicates \
             WHERE request_id = $1 AND submission = $2 ORDER BY score DESC, candidate_id",
        )
        .bind(id)
        .bind(submission)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn dismissals(&self, id: Uuid) -> Result<Vec<DismissalRecord>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT request_id, department_code, product_name, candidate_kind, candidate_id, reason, dismissed_by, \
             dismissed_at FROM duplicate_dismissals WHERE request_id = $1 ORDER BY dismissed_at",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The CIO office's dismissals of catalogue services for the department's other requests, for the
    /// carry-over (see [`crate::domain::duplicate_learning::carried_over`]).
    pub async fn prior_dismissals(
        &self,
        department: &str,
        request_id: Uuid,
    ) -> Result<Vec<PriorDismissal>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT request_id, department_code, product_name, candidate_kind, candidate_id, reason, dismissed_by, \
             dismissed_at FROM duplicate_dismissals WHERE department_code = $1 AND candidate_kind = 'service' \
             AND request_id <> $2 ORDER BY dismissed_at",
        )
        .bind(department)
        .bind(request_id)
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
    #[allow(clippy::too_many_arguments)]
    pub async fn dismiss_duplicate(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        candidate_kind: &str,
        candidate_id: &str,
        reason: &str,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let recorded = recorded_candidates(&mut tx, id, current.submission).await?;
        let is_recorded = recorded
            .iter()
            .any(|(k, c, ..)| k == candidate_kind && c == candidate_id);
        if is_recorded {
            sqlx::query(
                "INSERT INTO duplicate_dismissals (request_id, candidate_kind, candidate_id, reason, dismissed_by, \
                 dismissed_at, department_code, product_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(candidate_kind)
            .bind(candidate_id)
            .bind(reason)
            .bind(&actor.subject)
            .bind(now())
            .bind(&current.department_code)
            .bind(&state.fields.product_name)
            .execute(&mut *tx)
            .await
            .map_err(unique_as("already_dismissed", || "this match is already dismissed".to_string()))?;
        }
        let standing = standing_likely(&mut tx, id, &recorded).await?;
        let dismissed_name = recorded
            .iter()
            .find(|(k, c, ..)| k == candidate_kind && c == candidate_id)
            .map(|(_, _, name, ..)| name.as_str())
            .unwrap_or_default();
        let plan = crate::workflow::duplicates::dismiss(
            &state,
            caller,
            is_recorded.then_some(dismissed_name),
            &standing,
            reason,
        )?;
        let extra = serde_json::json!({"dismissed": {"candidate_kind": candidate_kind,
                                                     "candidate_id": candidate_id, "reason": reason}});
        finish(tx, actor, &current, &plan, Some(extra)).await
    }

    /// A buyer asks the CIO to let the purchase go ahead although it looks like a duplicate.
    pub async fn request_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        justification: &str,
    ) -> Result<ExceptionRecord, ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, scope, id, if_match).await?;
        let plan = crate::workflow::duplicates::ask_exception(&state, caller)?;
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
        .map_err(unique_as("exception_exists", || "an exception was already asked for this version".to_string()))?;
        let extra = serde_json::json!({"exception": {"justification": justification, "status": "requested"}});
        apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The CIO grants (the duplicate review step is waived) or refuses a buyer's exception.
    pub async fn decide_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        grant: bool,
        reason: &str,
    ) -> Result<(ExceptionRecord, RequestRecord), ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let plan = crate::workflow::duplicates::decide_exception(&state, caller, grant, reason)?;
        let status = if grant { "granted" } else { "refused" };
        let record: ExceptionRecord = sqlx::query_as(
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
        .fetch_one(&mut *tx)
        .await?;
        let extra = serde_json::json!({"exception": {"status": status, "reason": reason}});
        let updated = apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok((record, updated))
    }

    /// Attaches a document for the City Council (the Surveillance Use Policy or Impact Report), judged by its
    /// bytes and kept with its SHA-256; the Council step may then settle.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach_council_document(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        kind: &str,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<crate::domain::council::CouncilDocument, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current = lock_row(&mut tx, scope, id).await?;
        let state = load_state(&mut tx, &current).await?;
        crate::workflow::council::attach_document(&state, caller, kind)?;
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
        let document: crate::domain::council::CouncilDocument = sqlx::query_as(
            "INSERT INTO council_documents (id, request_id, kind, file_name, content_type, size_bytes, sha256, data, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, request_id, kind, \
             file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(kind)
        .bind(file_name)
        .bind(content_type)
        .bind(data.len() as i64)
        .bind(&sha256)
        .bind(data)
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "request.council_document_attached",
            "request",
            &id.to_string(),
            None,
            Some(to_json(&document)),
        )
        .await?;
        tx.commit().await?;
        Ok(document)
    }

    pub async fn council_documents(
        &self,
        id: Uuid,
    ) -> Result<Vec<crate::domain::council::CouncilDocument>, ApiError> {
        Ok(sqlx::query_as(
            "SELECT id, request_id, kind, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at \
             FROM council_documents WHERE request_id = $1 ORDER BY uploaded_at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A Council document's bytes.
    pub async fn council_document_file(
        &self,
        id: Uuid,
        document_id: Uuid,
    ) -> Result<Option<(crate::domain::council::CouncilDocument, Vec<u8>)>, ApiError> {
        let meta: Option<crate::domain::council::CouncilDocument> = sqlx::query_as(
            "SELECT id, request_id, kind, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at \
             FROM council_documents WHERE request_id = $1 AND id = $2",
        )
        .bind(id)
        .bind(document_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(meta) = meta else { return Ok(None) };
        let (data,): (Vec<u8>,) =
            sqlx::query_as("SELECT data FROM council_documents WHERE id = $1")
                .bind(document_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some((meta, data)))
    }

    pub async fn council_votes(
        &self,
        id: Uuid,
    ) -> Result<Vec<crate::domain::council::CouncilVote>, ApiError> {
        let rows: Vec<CouncilVoteRow> = sqlx::query_as(
            "SELECT id, request_id, submission, docket, vote_date, outcome, note, recorded_by, recorded_at \
             FROM council_votes WHERE request_id = $1 ORDER BY submission",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(CouncilVoteRow::into_vote).collect()
    }

    /// Records the City Council's vote on the current submission; it settles the Council step (or denies the
    /// request).
    pub async fn record_council_vote(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        vote: crate::workflow::council::VoteInput,
        today: chrono::NaiveDate,
    ) -> Result<(crate::domain::council::CouncilVote, RequestRecord), ApiError> {
        let (mut tx, current, state) = open_change(&self.writer, &Scope::All, id, if_match).await?;
        let evidence = load_evidence(&mut tx, id, current.vendor_id, current.submission).await?;
        let plan = crate::workflow::council::record_vote(&state, caller, &vote, &evidence, today)?;
        let row: CouncilVoteRow = sqlx::query_as(
            "INSERT INTO council_votes (id, request_id, submission, docket, vote_date, outcome, note, recorded_by, \
             recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, request_id, submission, docket, \
             vote_date, outcome, note, recorded_by, recorded_at",
        )
        .bind(Uuid::new_v4())
        .bind(id)
        .bind(current.submission)
        .bind(vote.docket.trim())
        .bind(vote.vote_date)
        .bind(vote.outcome.as_str())
        .bind(vote.note.as_deref())
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as("council_step_settled", || "the Council's vote on this version is already recorded".into()))?;
        let recorded = row.into_vote()?;
        let extra = serde_json::json!({"council_vote": to_json(&recorded)});
        let updated = apply_plan(&mut tx, actor, &current, &plan, Some(extra)).await?;
        tx.commit().await?;
        Ok((recorded, updated))
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

    /// The id and last change of each request changed after `since`: what the duplicate index compares with
    /// what it has applied before reading any row whole.
    pub async fn purchase_stamps_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(Uuid, chrono::DateTime<chrono::Utc>)>, ApiError> {
        Ok(
            sqlx::query_as("SELECT id, updated_at FROM requests WHERE updated_at > $1")
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The requests `ids` as the duplicate index reads them.
    pub async fn purchases_by_id(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<crate::store::PurchaseRecord>, ApiError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT r.id, r.department_code, r.status, r.fields, v.legal_name AS vendor_name, r.updated_at \
                 FROM requests r JOIN vendors v ON v.id = r.vendor_id WHERE r.id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            found.extend(query.build_query_as().fetch_all(&self.pool).await?);
        }
        Ok(found)
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
            "SELECT submission, fields, submitted_by, submitted_at, kind FROM request_versions WHERE request_id = $1 \
             ORDER BY submission",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[derive(sqlx::FromRow)]
struct CouncilVoteRow {
    id: Uuid,
    request_id: Uuid,
    submission: i32,
    docket: String,
    vote_date: chrono::NaiveDate,
    outcome: String,
    note: Option<String>,
    recorded_by: String,
    recorded_at: chrono::DateTime<chrono::Utc>,
}

impl CouncilVoteRow {
    fn into_vote(self) -> Result<crate::domain::council::CouncilVote, ApiError> {
        Ok(crate::domain::council::CouncilVote {
            id: self.id,
            request_id: self.request_id,
            submission: self.submission,
            docket: self.docket,
            vote_date: self.vote_date,
            outcome: CouncilOutcome::parse(&self.outcome).ok_or_else(|| {
                corrupt(format!(
                    "a Council vote has an unknown outcome {:?}",
                    self.outcome
                ))
            })?,
            note: self.note,
            recorded_by: self.recorded_by,
            recorded_at: self.recorded_at,
        })
    }
}

/// Inserts `policy` as the next version (the first, at bootstrap, when there is none).
pub(super) async fn insert_policy(
    tx: &mut Tx,
    actor: &Actor,
    policy: Policy,
) -> Result<PolicyRecord, ApiError> {
    let document = to_json(&policy);
    let content_hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        canonical_json(&document).as_bytes(),
    ));
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
    .map_err(unique_as("concurrent_publish", || {
        "another policy version was published at the same moment; retry".to_string()
    }))?;
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
