//! What the request operations answer about routes, previews, versions and decisions.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::api::PageInfo;
use crate::domain::PageRequest;
use crate::domain::comparison::{Check, Comparison, RenewalBasis};
use crate::domain::policy::Ground;
use crate::domain::requests::Status;
use crate::domain::route::{Decision, StepState};
use crate::store::{StepRecord, VersionRecord};

use super::*;

/// Why a step is required: the rule, its reason with the figures, and the citation.
#[derive(Debug, Object)]
pub struct GroundView {
    pub rule_id: String,
    pub title: String,
    pub reason: String,
    pub citation: String,
}

impl From<&Ground> for GroundView {
    fn from(g: &Ground) -> Self {
        GroundView {
            rule_id: g.rule_id.clone(),
            title: g.title.clone(),
            reason: g.reason.clone(),
            citation: g.citation.clone(),
        }
    }
}

#[derive(Debug, Object)]
pub struct StepView {
    /// `cio_duplicate_review`, `cio_approval`, `finance_approval`, `security_review`, `contract_safeguards`,
    /// `evidence` or `council_approval`.
    pub kind: String,
    pub state: StepState,
    /// What the step waits for, or how it was settled or closed.
    pub note: String,
    /// The conditions of an approval with conditions.
    pub conditions: Vec<String>,
    /// The submitted version whose decision or evidence settled the step (an earlier one when it was carried).
    pub settled_in: Option<i32>,
    pub grounds: Vec<GroundView>,
    /// Questionnaire templates (security review).
    pub questionnaires: Vec<String>,
    /// Contract clauses (safeguards).
    pub clauses: Vec<String>,
    /// Documents to attach (council approval).
    pub attachments: Vec<String>,
    /// Evidence to provide.
    pub items: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<StepRecord> for StepView {
    fn from(s: StepRecord) -> Self {
        let d = s.detail.0;
        StepView {
            kind: s.kind.as_str().to_string(),
            state: s.state,
            note: s.note,
            conditions: s.conditions.0,
            settled_in: s.settled_in,
            grounds: d.grounds.iter().map(GroundView::from).collect(),
            questionnaires: d.questionnaires,
            clauses: d.clauses,
            attachments: d.attachments,
            items: d.items,
            updated_at: s.updated_at,
        }
    }
}

/// One comparison the service made, and its result.
#[derive(Debug, Object)]
pub struct CheckView {
    pub what: String,
    pub passed: bool,
    pub detail: String,
}

impl From<&Check> for CheckView {
    fn from(c: &Check) -> Self {
        CheckView {
            what: c.what.clone(),
            passed: c.passed,
            detail: c.detail.clone(),
        }
    }
}

/// A renewal's link and the comparison that decided whether its fast path applies.
#[derive(Debug, Object)]
pub struct RenewalView {
    /// `request` or `contract`.
    pub renews_kind: String,
    pub renews_id: Uuid,
    pub renews_label: String,
    /// Every check made; the fast path applies (under an enterprise agreement) only when all passed.
    pub checks: Vec<CheckView>,
    pub unchanged: bool,
}

impl From<&RenewalBasis> for RenewalView {
    fn from(b: &RenewalBasis) -> Self {
        RenewalView {
            renews_kind: b.renews_kind.clone(),
            renews_id: b.renews_id,
            renews_label: b.renews_label.clone(),
            checks: b.checks.iter().map(CheckView::from).collect(),
            unchanged: b.unchanged,
        }
    }
}

/// How this version of a decided request compares with the version whose decision stands.
#[derive(Debug, Object)]
pub struct ComparisonView {
    pub decided_submission: i32,
    /// Whether review re-opened.
    pub material: bool,
    /// Each route fact that changed: `expected_users: 100 -> 5,000`.
    pub changes: Vec<String>,
    /// Why review re-opened, naming the decided value and the new one; empty when the decision stands.
    pub reasons: Vec<String>,
}

impl From<&Comparison> for ComparisonView {
    fn from(c: &Comparison) -> Self {
        ComparisonView {
            decided_submission: c.decided_submission,
            material: c.material,
            changes: c.changes.clone(),
            reasons: c.reasons.clone(),
        }
    }
}

#[derive(Debug, Object)]
pub struct ProhibitionView {
    pub code: String,
    pub grounds: Vec<GroundView>,
}

/// Which questionnaire's reuse a security analyst confirms.
#[derive(Debug, Object)]
pub struct ReuseConfirmationInput {
    /// The questionnaire (template id) satisfied by reference, e.g. `city-baseline`.
    pub questionnaire: String,
}

pub(super) fn prohibitions_of(route: &crate::domain::policy::Route) -> Vec<ProhibitionView> {
    route
        .prohibitions
        .iter()
        .map(|p| ProhibitionView {
            code: p.code.clone(),
            grounds: p.grounds.iter().map(GroundView::from).collect(),
        })
        .collect()
}

#[derive(Debug, Object)]
pub struct RouteView {
    pub request_id: Uuid,
    pub submission: i32,
    pub policy_version: i32,
    pub policy_label: String,
    pub total_contract_value_cents: i64,
    /// This request plus the vendor's other submitted or approved spend in the same fiscal year.
    pub fy_vendor_total_cents: i64,
    pub fiscal_year: i32,
    /// A renewal under an enterprise agreement whose comparison with what it renews found no material change:
    /// the value and user thresholds do not apply again.
    pub fast_path: bool,
    /// For a renewal: what it renews and the comparison made.
    pub renewal: Option<RenewalView>,
    /// For a version of a decided request: the comparison with the decided version.
    pub comparison: Option<ComparisonView>,
    /// The submitted version whose decision stands, if any.
    pub decided_submission: Option<i32>,
    /// The budget line the purchase is funded from, its plan item, and what remains of the line's amounts after
    /// this purchase (as routed; the budget itself shows the line as it stands now).
    pub budget: Option<BudgetPositionView>,
    /// For a request that names a product: each questionnaire of the security review against the product's
    /// accepted assessments (`reused` by reference, or a new cycle and why), and the findings standing on the
    /// product when the request was routed.
    pub product: Option<crate::api::products::ProductReviewView>,
    pub prohibitions: Vec<ProhibitionView>,
    pub steps: Vec<StepView>,
    /// Non-blocking notices: possible overlaps with what the city already runs, at or above the policy's
    /// `duplicate_notice_score` ("the city already runs X ... ask its owning team for access").
    pub notices: Vec<String>,
    /// Duplicate candidates the CIO office already dismissed for another request of this department naming
    /// the same product, each with that dismissal cited (who, when, for which request, why): they add no
    /// duplicate review step and no notice.
    pub dismissed_earlier: Vec<String>,
}

/// One step the route would have, as the planner would open it.
#[derive(Debug, Object)]
pub struct PlannedStepView {
    /// `cio_duplicate_review`, `cio_approval`, `finance_approval`, `security_review`, `contract_safeguards`,
    /// `evidence` or `council_approval`.
    pub kind: String,
    /// `pending`, or `satisfied` when evidence on file would settle it at once.
    pub state: StepState,
    /// What the step would wait for, or how evidence on file would settle it.
    pub note: String,
    pub grounds: Vec<GroundView>,
    /// Questionnaire templates (security review).
    pub questionnaires: Vec<String>,
    /// Contract clauses (safeguards).
    pub clauses: Vec<String>,
    /// Documents to attach (council approval).
    pub attachments: Vec<String>,
    /// Evidence to provide.
    pub items: Vec<String>,
}

impl From<&crate::workflow::requests::Step> for PlannedStepView {
    fn from(s: &crate::workflow::requests::Step) -> Self {
        let d = &s.detail;
        PlannedStepView {
            kind: s.kind.as_str().to_string(),
            state: s.state,
            note: s.note.clone(),
            grounds: d.grounds.iter().map(GroundView::from).collect(),
            questionnaires: d.questionnaires.clone(),
            clauses: d.clauses.clone(),
            attachments: d.attachments.clone(),
            items: d.items.clone(),
        }
    }
}

/// What submitting the draft now would give, computed by the submission's own planner with nothing written.
#[derive(Debug, Object)]
pub struct PreviewView {
    pub request_id: Uuid,
    /// The status the request would take: `in_review`, `awaiting_decision`, `approved` or `denied`.
    pub status: Status,
    pub policy_version: i32,
    pub policy_label: String,
    pub total_contract_value_cents: i64,
    /// This request plus the vendor's other submitted or approved spend in the same fiscal year.
    pub fy_vendor_total_cents: i64,
    pub fiscal_year: i32,
    /// See the route's `fast_path`.
    pub fast_path: bool,
    /// For a renewal: what it renews and the comparison that would be made.
    pub renewal: Option<RenewalView>,
    /// The budget line the purchase would draw on and what would remain of it.
    pub budget: Option<BudgetPositionView>,
    /// For a draft that names a product, per questionnaire of the security review: `reused` ("already reviewed:
    /// accepted … by …, valid until …"), `awaiting_confirmation`, a new cycle (`scope_widened`, `expired`, with
    /// why) or `needs_review`; and the findings standing on the product.
    pub product: Option<crate::api::products::ProductReviewView>,
    pub prohibitions: Vec<ProhibitionView>,
    pub steps: Vec<PlannedStepView>,
    /// Non-blocking notices the route would carry: possible overlaps with what the city already runs.
    pub notices: Vec<String>,
    /// Duplicate candidates set aside by the CIO office's earlier dismissal for another request of this
    /// department naming the same product, with that dismissal cited.
    pub dismissed_earlier: Vec<String>,
    /// Questionnaires the vendor would be asked to answer (those the product's accepted review satisfies by
    /// reference are left out).
    pub questionnaires: Vec<String>,
    /// What the duplicate check finds now: a `likely_duplicate` puts the CIO's duplicate review on the route.
    /// The city may already run the service: ask its owner for access before buying.
    pub duplicates: Vec<crate::api::duplicates::CandidateView>,
}

/// One amount of a budget line against a purchase.
#[derive(Debug, Object)]
pub struct DrawView {
    /// The line's approved amount.
    pub line_cents: i64,
    /// Drawn by the other requests in review or approved on the line.
    pub committed_cents: i64,
    /// Drawn by this purchase.
    pub this_cents: i64,
    /// Left after this purchase; negative when it overruns.
    pub remaining_after_cents: i64,
}

impl From<crate::domain::policy::Draw> for DrawView {
    fn from(d: crate::domain::policy::Draw) -> Self {
        DrawView {
            line_cents: d.line_cents,
            committed_cents: d.committed_cents,
            this_cents: d.this_cents,
            remaining_after_cents: d.remaining_after_cents,
        }
    }
}

#[derive(Debug, Object)]
pub struct BudgetPositionView {
    pub line_id: Uuid,
    pub label: String,
    /// Whether the line's budget is approved (a line never approved funds nothing).
    pub approved: bool,
    pub plan_item_id: Option<Uuid>,
    pub plan_item: Option<String>,
    /// Capital cost against the line's capital amount.
    pub capital: DrawView,
    /// Yearly operating cost against the line's operating amount (staff and other).
    pub operating: DrawView,
}

impl From<&crate::domain::policy::BudgetPosition> for BudgetPositionView {
    fn from(b: &crate::domain::policy::BudgetPosition) -> Self {
        BudgetPositionView {
            line_id: b.line_id,
            label: b.label.clone(),
            approved: b.approved,
            plan_item_id: b.plan_item_id,
            plan_item: b.plan_item.clone(),
            capital: b.capital.into(),
            operating: b.operating.into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct VersionView {
    pub submission: i32,
    pub kind: crate::domain::requests::VersionKind,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub fields: RequestFieldsView,
}

impl From<VersionRecord> for VersionView {
    fn from(v: VersionRecord) -> Self {
        VersionView {
            submission: v.submission,
            kind: v.kind,
            submitted_by: v.submitted_by,
            submitted_at: v.submitted_at,
            fields: RequestFieldsView::from(&v.fields.0),
        }
    }
}

#[derive(Debug, Object)]
pub struct DecisionResult {
    pub decision: Decision,
    pub request: RequestView,
}

#[derive(Debug, Object)]
pub struct VersionPage {
    pub items: Vec<VersionView>,
    pub page: PageInfo,
}

#[derive(Debug, Object)]
pub struct DecisionPage {
    pub items: Vec<Decision>,
    pub page: PageInfo,
}

/// One page of an in-memory list.
pub(super) fn page_of<T>(all: Vec<T>, page: PageRequest) -> (Vec<T>, PageInfo) {
    let total = all.len() as i64;
    let items: Vec<T> = all
        .into_iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .collect();
    let info = PageInfo::new(total, page, items.len());
    (items, info)
}
