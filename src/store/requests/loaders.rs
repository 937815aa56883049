// Requests, routing, decisions and policy versions. Included by both backends as a submodule of theirs, so
// `Db`, `Pool`, `begin`, `Repo`, `audit` and `for_update!` come from the including module.
//
// Every command follows one shape: lock the row, load what the planner in `crate::workflow::requests` reads,
// let it plan, apply the plan, audit — all in one transaction. No rule is decided here.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::audit::canonical_json;
use crate::domain::council::{CouncilDocumentKind, CouncilOutcome};
use crate::domain::duplicate_learning::PriorDismissal;
use crate::domain::duplicates::{Candidate, CandidateKind, ExceptionStatus, MatchClass};
use crate::domain::policy::Policy;
use crate::domain::requests::{Renews, RequestFields};
use crate::domain::route::{CheckedDecision, Decision, DenialReason, Outcome, UseInstead};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, Detection, DismissalRecord, DuplicateRecord, EachRow, ExceptionRecord, Keyset, Paged,
    PolicyRecord, REQUEST_SUMMARY_COLUMNS, RequestFilter, RequestRecord, RequestRegisterRow,
    RequestSummary, Scope, StepRecord, VersionRecord, contains_pattern, to_json, unique_as,
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
    let found: Option<RequestRecord> = lock(tx, "SELECT * FROM requests WHERE id = $1", id).await?;
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

// A stored status, step kind or step state the service does not know fails the read that meets it (see
// `store::types`), never a default: an unknown state must not read as an editable draft.
fn step_of(record: StepRecord) -> Step {
    Step {
        kind: record.kind,
        state: record.state,
        note: record.note,
        detail: record.detail.0,
        conditions: record.conditions.0,
        settled_in: record.settled_in,
    }
}

async fn load_steps(tx: &mut Tx, id: Uuid, submission: i32) -> Result<Vec<Step>, ApiError> {
    let rows: Vec<StepRecord> = sqlx::query_as(
        "SELECT * FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position",
    )
    .bind(id)
    .bind(submission)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(step_of).collect())
}

/// Everything the planners read about a request.
pub(super) async fn load_state(
    tx: &mut Tx,
    record: &RequestRecord,
) -> Result<RequestState, ApiError> {
    let steps = load_steps(tx, record.id, record.submission).await?;
    let people = people_of(tx, record.id).await?;
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
    Ok(RequestState {
        id: record.id,
        department: record.department_code.clone(),
        status: record.status,
        version: record.version,
        submission: record.submission,
        fields: record.fields.0.clone(),
        route: record.route.as_ref().map(|r| r.0.clone()),
        policy_version: record.policy_version,
        steps,
        authors: people.authors,
        deciders: people.deciders,
        decided,
        open_exception: people.open_exception,
    })
}

/// Who wrote a version of a request and who decided a CIO or Finance step of it, and whether an exception waits
/// on its current submission.
struct People {
    authors: std::collections::BTreeSet<String>,
    deciders: std::collections::BTreeSet<String>,
    open_exception: bool,
}

/// The [`People`] of a request aliased `r`, as columns of its own row (correlated subqueries, so that one
/// statement reads the row and them alike): authors ('standing_authors') and CIO or Finance deciders
/// ('standing_deciders') as JSON arrays, and whether an exception waits on the current submission.
macro_rules! people_columns {
    () => {
        concat!(
            "(SELECT ",
            json_array_agg!(),
            "(a.subject_key) FROM request_authors a WHERE a.request_id = r.id) AS standing_authors, (SELECT ",
            json_array_agg!(),
            "(d.decided_by) FROM decisions d WHERE d.request_id = r.id AND d.role IN ('cio', 'finance')) \
             AS standing_deciders, EXISTS (SELECT 1 FROM duplicate_exceptions x WHERE x.request_id = r.id \
             AND x.submission = r.submission AND x.status = 'requested') AS standing_open_exception"
        )
    };
}

/// What deciding a caller's actions reads of a request aliased `r`, as columns of its row: the kind and state
/// of each step of its current submission in route order (`kind:state`, a JSON array) and its [`People`].
/// Selected beside [`REQUEST_SUMMARY_COLUMNS`], a read or a page is one statement, consistent without a
/// transaction.
pub(super) const STANDING_COLUMNS: &str = concat!(
    "(SELECT ",
    json_array_agg!(),
    "(s.kind || ':' || s.state ORDER BY s.position) FROM route_steps s WHERE s.request_id = r.id \
     AND s.submission = r.submission) AS standing_steps, ",
    people_columns!()
);

#[derive(sqlx::FromRow)]
struct PeopleRow {
    standing_authors: Option<Json<Vec<String>>>,
    standing_deciders: Option<Json<Vec<String>>>,
    standing_open_exception: bool,
}

impl From<PeopleRow> for People {
    fn from(row: PeopleRow) -> People {
        let listed = |list: Option<Json<Vec<String>>>| list.map(|l| l.0).unwrap_or_default();
        People {
            authors: listed(row.standing_authors).into_iter().collect(),
            deciders: listed(row.standing_deciders)
                .iter()
                .map(|d| crate::workflow::subject_key(d))
                .collect(),
            open_exception: row.standing_open_exception,
        }
    }
}

/// A request's summary with its [`Standing`], read by one statement (see [`STANDING_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub(super) struct StandingRow {
    #[sqlx(flatten)]
    summary: RequestSummary,
    standing_steps: Option<Json<Vec<String>>>,
    #[sqlx(flatten)]
    people: PeopleRow,
}

impl StandingRow {
    /// The summary and its standing; a step kind or state the service does not know fails the read.
    pub(super) fn split(self) -> Result<(RequestSummary, Standing), ApiError> {
        let steps = self
            .standing_steps
            .map(|s| s.0)
            .unwrap_or_default()
            .iter()
            .map(|step| {
                let (kind, state) = step.split_once(':').unwrap_or((step, ""));
                let known = |e: sqlx::error::BoxDynError| corrupt(e.to_string());
                Ok((
                    crate::store::types::stored("step kind", kind).map_err(known)?,
                    crate::store::types::stored("step state", state).map_err(known)?,
                ))
            })
            .collect::<Result<_, ApiError>>()?;
        let people = People::from(self.people);
        let summary = self.summary;
        let standing = Standing {
            status: summary.status,
            department: summary.department_code.clone(),
            steps,
            authors: people.authors,
            deciders: people.deciders,
            open_exception: people.open_exception,
        };
        Ok((summary, standing))
    }
}

/// The [`People`] of one request.
async fn people_of(tx: &mut Tx, id: Uuid) -> Result<People, ApiError> {
    let row: PeopleRow = sqlx::query_as(concat!(
        "SELECT ",
        people_columns!(),
        " FROM requests r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.into())
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
    let found: Option<(Uuid,)> =
        lock(tx, "SELECT id FROM vendors WHERE id = $1", vendor_id).await?;
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
            let status = target.status;
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
    let council_vote: Option<(CouncilOutcome, String, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT outcome, docket, vote_date FROM council_votes WHERE request_id = $1 AND submission = $2",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_optional(&mut **tx)
    .await?;
    let documents: Vec<(CouncilDocumentKind,)> =
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
        council_documents: documents
            .into_iter()
            .map(|(k,)| k.as_str().to_string())
            .collect(),
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
    CandidateKind,
    String,
    String,
    f64,
    MatchClass,
    Option<Json<PriorDismissal>>,
);

/// The candidates the CIO office set aside for this request: its own dismissals, and the earlier ones that
/// carried over to the recorded candidates.
async fn dismissed_pairs(
    tx: &mut Tx,
    request_id: Uuid,
    candidates: &[Recorded],
) -> Result<Vec<(CandidateKind, String)>, ApiError> {
    let mut dismissed: Vec<(CandidateKind, String)> = sqlx::query_as(
        "SELECT candidate_kind, candidate_id FROM duplicate_dismissals WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_all(&mut **tx)
    .await?;
    dismissed.extend(
        candidates
            .iter()
            .filter(|c| c.5.is_some())
            .map(|c| (c.0, c.1.clone())),
    );
    Ok(dismissed)
}

fn describe_candidate(kind: CandidateKind, name: &str, score: f64) -> String {
    let what = if kind == CandidateKind::Service {
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
                describe_candidate(*kind, name, *score),
                prior.citation()
            ))
        })
        .collect();
    let overlaps = candidates
        .iter()
        .filter(|(kind, id, _, _, class, _)| {
            *class == MatchClass::PossibleOverlap
                && !dismissed.iter().any(|(k, i)| k == kind && i == id)
        })
        .map(|(kind, _, name, score, _, _)| {
            let text = if *kind == CandidateKind::Service {
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
