use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::IfMatch;
use super::me::ApiTags;
use super::requests::{Buyer, RequestView, scope_of, shaped};
use crate::auth::{Auth, Permission, Role, Staff};
use crate::detection::{Detector, request_text};
use crate::domain::duplicate_learning::carried_over;
use crate::domain::duplicates::{Candidate, CandidateKind, Evidence, MatchClass};
use crate::error::{ApiError, FieldError};
use crate::store::{DismissalRecord, DuplicateRecord, ExceptionRecord, Store};

pub struct Cio;
impl Permission for Cio {
    const ROLES: &'static [Role] = &[Role::Cio];
}

#[derive(Debug, Object)]
pub struct PhraseMatch {
    /// The request's phrase.
    pub request: String,
    /// The candidate's phrase it matched.
    pub candidate: String,
}

/// Why a candidate was ranked: what a CIO reads to judge it in seconds.
#[derive(Debug, Object)]
pub struct MatchEvidence {
    pub matched_capabilities: Vec<PhraseMatch>,
    pub matched_terms: Vec<String>,
    /// A product or vendor name in the request that the catalogue lists as an alias.
    pub alias_hit: Option<String>,
    pub same_vendor: bool,
    pub same_product: bool,
    pub same_category: bool,
}

impl From<&Evidence> for MatchEvidence {
    fn from(e: &Evidence) -> Self {
        MatchEvidence {
            matched_capabilities: e
                .matched_capabilities
                .iter()
                .map(|(r, c)| PhraseMatch {
                    request: r.clone(),
                    candidate: c.clone(),
                })
                .collect(),
            matched_terms: e.matched_terms.clone(),
            alias_hit: e.alias_hit.clone(),
            same_vendor: e.same_vendor,
            same_product: e.same_product,
            same_category: e.same_category,
        }
    }
}

#[derive(Debug, Object)]
pub struct DismissalView {
    pub reason: String,
    pub dismissed_by: String,
    pub dismissed_at: DateTime<Utc>,
    /// The request the CIO office dismissed the match for: this one, or an earlier request of the same
    /// department naming the same product (`carried_over`).
    pub request_id: Uuid,
    /// True when the dismissal was made for an earlier request of the same department naming the same product
    /// and carries over to this one: the match adds no duplicate review step and no notice.
    pub carried_over: bool,
}

impl DismissalView {
    fn of(d: &DismissalRecord, carried_over: bool) -> Self {
        DismissalView {
            reason: d.reason.clone(),
            dismissed_by: d.dismissed_by.clone(),
            dismissed_at: d.dismissed_at,
            request_id: d.request_id,
            carried_over,
        }
    }
}

#[derive(Debug, Object)]
pub struct CandidateView {
    /// `service` (a catalogue service) or `purchase` (another department's approved purchase).
    pub kind: CandidateKind,
    pub id: String,
    pub name: String,
    /// 0 to 1.
    pub score: f64,
    pub class: MatchClass,
    pub evidence: MatchEvidence,
    /// Set when the CIO office dismissed this match for this request, or for an earlier request of the same
    /// department naming the same product (`carried_over`).
    pub dismissed: Option<DismissalView>,
}

fn dismissal_of<'a>(
    dismissals: &'a [DismissalRecord],
    kind: CandidateKind,
    id: &str,
) -> Option<&'a DismissalRecord> {
    dismissals
        .iter()
        .find(|d| d.candidate_kind == kind && d.candidate_id == id)
}

pub(crate) fn view_of(
    c: &Candidate,
    dismissals: &[DismissalRecord],
    carried: &[DismissalRecord],
) -> CandidateView {
    let kind = c.kind;
    let dismissed = dismissal_of(dismissals, kind, &c.id)
        .map(|d| DismissalView::of(d, false))
        .or_else(|| {
            carried
                .iter()
                .find(|p| p.candidate_kind == kind && p.candidate_id == c.id)
                .map(|d| DismissalView::of(d, true))
        });
    CandidateView {
        dismissed,
        kind,
        id: c.id.clone(),
        name: c.name.clone(),
        score: c.score,
        class: c.class,
        evidence: MatchEvidence::from(&c.evidence),
    }
}

/// A candidate as recorded at submission. Evidence the code cannot read is an error naming the candidate, never an
/// empty explanation.
fn recorded_view(
    r: &DuplicateRecord,
    dismissals: &[DismissalRecord],
) -> Result<CandidateView, ApiError> {
    let evidence: Evidence = serde_json::from_value(r.evidence.0.clone()).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "the stored evidence of duplicate candidate {} (submission {}) cannot be read: {e}",
            r.candidate_id,
            r.submission
        ))
    })?;
    Ok(CandidateView {
        dismissed: dismissal_of(dismissals, r.candidate_kind, &r.candidate_id)
            .map(|d| DismissalView::of(d, false))
            .or_else(|| {
                r.carried_from
                    .as_ref()
                    .map(|p| DismissalView::of(&p.0, true))
            }),
        kind: r.candidate_kind,
        id: r.candidate_id.clone(),
        name: r.name.clone(),
        score: r.score,
        class: r.class,
        evidence: MatchEvidence::from(&evidence),
    })
}

#[derive(Debug, Object)]
pub struct ExceptionView {
    pub id: Uuid,
    /// The submitted version it concerns.
    pub submission: i32,
    pub justification: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub status: crate::domain::duplicates::ExceptionStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

impl From<ExceptionRecord> for ExceptionView {
    fn from(e: ExceptionRecord) -> Self {
        ExceptionView {
            id: e.id,
            submission: e.submission,
            justification: e.justification,
            requested_by: e.requested_by,
            requested_at: e.requested_at,
            status: e.status,
            decided_by: e.decided_by,
            decided_at: e.decided_at,
            decision_reason: e.decision_reason,
        }
    }
}

#[derive(Debug, Object)]
pub struct DuplicateReport {
    pub request_id: Uuid,
    /// The current submitted version (0 for a draft never submitted).
    pub submission: i32,
    pub checked_at: DateTime<Utc>,
    /// The check run now, against the catalogue and purchases as they are.
    pub candidates: Vec<CandidateView>,
    /// What the check found when the current version was submitted (what the route was built on).
    pub recorded: Vec<CandidateView>,
    pub exceptions: Vec<ExceptionView>,
}

#[derive(Debug, Object)]
pub struct DismissInput {
    /// `service` or `purchase`.
    pub candidate_kind: String,
    pub candidate_id: String,
    /// Why this is not a duplicate.
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct ExceptionInput {
    /// Why the purchase should go ahead although a central service covers it.
    pub justification: String,
}

#[derive(Debug, Object)]
pub struct ExceptionDecisionInput {
    pub grant: bool,
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct ExceptionDecisionResult {
    pub exception: ExceptionView,
    pub request: RequestView,
}

#[derive(ApiResponse)]
pub enum ExceptionCreated {
    #[oai(status = 201)]
    Created(Json<ExceptionView>),
}

fn required_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            field,
            "is required",
        )]));
    }
    if v.chars().count() > max {
        return Err(ApiError::field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

pub struct DuplicatesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Requests")]
impl DuplicatesApi {
    /// Duplicate check
    ///
    /// Ranks the active catalogue services and other departments' approved purchases against the request,
    /// with a score from 0 to 1, a class (`likely_duplicate`, `possible_overlap`) and the evidence. Also lists
    /// what was found at submission, the CIO's dismissals and any exception asked. As for reading the request.
    #[oai(
        path = "/requests/:id/duplicates",
        method = "get",
        operation_id = "checkDuplicates"
    )]
    async fn check(
        &self,
        store: Data<&Store>,
        detector: Data<&Arc<Detector>>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<Json<DuplicateReport>, ApiError> {
        let request = store.get_request(&scope_of(&auth), id.0).await?;
        let vendor = store
            .get_vendor(request.vendor_id)
            .await?
            .map(|v| v.legal_name)
            .unwrap_or_default();
        let candidates = detector
            .check(
                &store,
                &request_text(&request.fields.0, &request.department_code, &vendor),
            )
            .await?;
        let dismissals = store.dismissals(request.id).await?;
        let carried = carried_over(
            &detector.lexicon(),
            request.id,
            &request.department_code,
            &request.fields.0.product_name,
            &store
                .prior_dismissals(&request.department_code, request.id)
                .await?,
        );
        let recorded = store
            .request_duplicates(request.id, request.submission)
            .await?;
        Ok(Json(DuplicateReport {
            request_id: request.id,
            submission: request.submission,
            checked_at: crate::domain::now(),
            candidates: candidates
                .iter()
                .map(|c| view_of(c, &dismissals, &carried))
                .collect(),
            recorded: recorded
                .iter()
                .map(|r| recorded_view(r, &dismissals))
                .collect::<Result<_, _>>()?,
            exceptions: store
                .exceptions(request.id)
                .await?
                .into_iter()
                .map(ExceptionView::from)
                .collect(),
        }))
    }

    /// Dismiss a duplicate match
    ///
    /// The CIO, with a reason. When no likely duplicate found at submission is left standing, the duplicate
    /// review step is satisfied.
    #[oai(
        path = "/requests/:id/duplicates/dismissals",
        method = "post",
        operation_id = "dismissDuplicate"
    )]
    async fn dismiss(
        &self,
        store: Data<&Store>,
        auth: Auth<Cio>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<DismissInput>,
    ) -> Result<Json<RequestView>, ApiError> {
        let expected = if_match.0.version()?;
        let reason = required_text("reason", &body.reason, 2000)?;
        let Ok(candidate_kind) = body.candidate_kind.parse::<CandidateKind>() else {
            return Err(ApiError::field(
                "candidate_kind",
                "must be `service` or `purchase`",
            ));
        };
        let caller = auth.caller();
        let updated = store
            .dismiss_duplicate(
                &auth.actor(),
                &caller,
                id.0,
                candidate_kind,
                &body.candidate_id,
                &reason,
                expected,
            )
            .await?;
        Ok(Json(shaped(&store, &caller, updated.id).await?))
    }

    /// Ask for an exception
    ///
    /// A buyer of the request's department, with the request's `If-Match`, while the request waits for the
    /// CIO's duplicate review: why the purchase should go ahead although a central service covers it.
    #[oai(
        path = "/requests/:id/duplicates/exception",
        method = "post",
        operation_id = "requestDuplicateException"
    )]
    async fn ask(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ExceptionInput>,
    ) -> Result<ExceptionCreated, ApiError> {
        let expected = if_match.0.version()?;
        let justification = required_text("justification", &body.justification, 5000)?;
        let record = store
            .request_exception(
                &auth.actor(),
                &auth.caller(),
                &scope_of(&auth),
                id.0,
                expected,
                &justification,
            )
            .await?;
        Ok(ExceptionCreated::Created(Json(record.into())))
    }

    /// Grant or refuse an exception
    ///
    /// The CIO, with the request's `If-Match`, never on a request they wrote a version of. Granting waives the
    /// duplicate review step; refusing leaves it pending (the CIO may then deny the request as a duplicate,
    /// naming the service to use).
    #[oai(
        path = "/requests/:id/duplicates/exception/decision",
        method = "post",
        operation_id = "decideDuplicateException"
    )]
    async fn decide(
        &self,
        store: Data<&Store>,
        auth: Auth<Cio>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ExceptionDecisionInput>,
    ) -> Result<Json<ExceptionDecisionResult>, ApiError> {
        let expected = if_match.0.version()?;
        let reason = required_text("reason", &body.reason, 2000)?;
        let caller = auth.caller();
        let (exception, request) = store
            .decide_exception(&auth.actor(), &caller, id.0, expected, body.grant, &reason)
            .await?;
        Ok(Json(ExceptionDecisionResult {
            exception: exception.into(),
            request: shaped(&store, &caller, request.id).await?,
        }))
    }
}
