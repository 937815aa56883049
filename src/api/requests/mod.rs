use crate::domain::problems::ProblemCode;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::serialized::{Serialized, rfc3339};
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Admin, Auth, Permission, Principal, Role, Staff};
use crate::detection::{Detector, request_text};
use crate::domain::PageRequest;
use crate::domain::requests::{RequestFields, RequestInput, Status};
use crate::domain::route::{CheckedDecision, DecisionInput};
use crate::error::ApiError;
use crate::store::{Detection, RequestFilter, RequestSummary, Scope, Store};
use crate::workflow::Caller;
use crate::workflow::requests::{Standing, allowed_actions};

mod views;
pub use views::*;

pub struct Buyer;
impl Permission for Buyer {
    const ROLES: &'static [Role] = &[Role::Buyer];
}

pub struct Decider;
impl Permission for Decider {
    const ROLES: &'static [Role] = &[Role::Cio, Role::Finance];
}

/// Buyers see their own department; every other staff role sees all.
pub fn scope_of(p: &Principal) -> Scope {
    let broad = p
        .roles
        .iter()
        .any(|r| !matches!(r, Role::Buyer | Role::Vendor));
    match (&p.department, broad) {
        (Some(dept), false) => Scope::Department(dept.clone()),
        _ => Scope::All,
    }
}

/// The facts of a request, as the buyer stated them.
#[derive(Debug, Object, serde::Serialize)]
pub struct RequestFieldsView {
    pub title: String,
    pub description: String,
    pub vendor_id: Uuid,
    pub product_name: String,
    pub category: String,
    pub capabilities: Vec<String>,
    pub capital_cost_cents: i64,
    pub annual_operating_cost_cents: i64,
    pub term_months: i64,
    pub expected_users: i64,
    pub renewal: bool,
    pub enterprise_agreement: bool,
    /// `vendor_cloud` or `on_premises`.
    pub hosting: String,
    pub data_classes: Vec<String>,
    pub surveillance: bool,
    pub face_surveillance: bool,
    pub requested_start_date: NaiveDate,
    /// For a renewal: the approved request it renews.
    pub renews_request_id: Option<Uuid>,
    /// For a renewal: the contract it renews.
    pub renews_contract_id: Option<Uuid>,
    /// The budget line the purchase is funded from.
    pub budget_line_id: Option<Uuid>,
    /// The vendor's product the purchase is of.
    pub product_id: Option<Uuid>,
}

impl From<&RequestFields> for RequestFieldsView {
    fn from(f: &RequestFields) -> Self {
        RequestFieldsView {
            title: f.title.clone(),
            description: f.description.clone(),
            vendor_id: f.vendor_id,
            product_name: f.product_name.clone(),
            category: f.category.clone(),
            capabilities: f.capabilities.clone(),
            capital_cost_cents: f.capital_cost_cents,
            annual_operating_cost_cents: f.annual_operating_cost_cents,
            term_months: f.term_months,
            expected_users: f.expected_users,
            renewal: f.renewal,
            enterprise_agreement: f.enterprise_agreement,
            hosting: f.hosting.as_str().into(),
            data_classes: f
                .data_classes
                .iter()
                .map(|d| d.as_str().to_string())
                .collect(),
            surveillance: f.surveillance,
            face_surveillance: f.face_surveillance,
            requested_start_date: f.requested_start_date,
            renews_request_id: match f.renews {
                Some(crate::domain::requests::Renews::Request(id)) => Some(id),
                _ => None,
            },
            renews_contract_id: match f.renews {
                Some(crate::domain::requests::Renews::Contract(id)) => Some(id),
                _ => None,
            },
            budget_line_id: f.budget_line_id,
            product_id: f.product_id,
        }
    }
}

// Answered by serde (`Serialized`), so its serde form must be its documented one; a plain comment, as a doc
// comment would become the schema's description.
#[derive(Debug, Object, serde::Serialize)]
pub struct RequestView {
    pub id: Uuid,
    pub department_code: String,
    pub status: Status,
    /// Number of submitted versions (0 for a draft never submitted).
    pub submission: i32,
    /// Incremented on every change; the ETag is `"<version>"`.
    pub version: i64,
    /// The policy version the current submission was routed under.
    pub policy_version: Option<i32>,
    pub fields: RequestFieldsView,
    /// Capital plus operating cost over the term, in cents.
    pub total_contract_value_cents: i64,
    /// Fiscal year of the requested start date, named by the year it ends (FY2027 = July 2026 to June 2027).
    pub fiscal_year: i32,
    pub created_by: String,
    pub submitted_by: Option<String>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// The submitted version whose decision stands (set once a version is approved).
    pub decided_submission: Option<i32>,
    /// What the caller may do now, given the state, their roles and scope, and separation of duties:
    /// `edit`, `submit`, `withdraw`, `decide`, `reroute`, `record_safeguards`, `dismiss_duplicate`,
    /// `ask_exception`, `decide_exception`, `attach_council_document`, `record_council_vote`.
    pub allowed_actions: Vec<String>,
}

impl RequestView {
    /// The request as `caller` sees it.
    pub fn new(r: RequestSummary, state: &Standing, caller: &Caller) -> Result<Self, ApiError> {
        Ok(RequestView {
            status: r.status,
            allowed_actions: allowed_actions(state, caller)
                .into_iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            id: r.id,
            department_code: r.department_code,
            submission: r.submission,
            version: r.version,
            policy_version: r.policy_version,
            fields: RequestFieldsView::from(&r.fields.0),
            total_contract_value_cents: r.total_contract_value_cents,
            fiscal_year: r.fiscal_year,
            created_by: r.created_by,
            submitted_by: r.submitted_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            decided_submission: r.decided_submission,
        })
    }
}

/// Reads the request back as `caller` sees it, after a change.
pub async fn shaped(store: &Store, caller: &Caller, id: Uuid) -> Result<RequestView, ApiError> {
    let (record, standing) = store.request_standing(&Scope::All, id).await?;
    RequestView::new(record, &standing, caller)
}

#[derive(Debug, Object, serde::Serialize)]
pub struct RequestPage {
    pub items: Vec<RequestView>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum RequestCreated {
    /// The draft was created.
    #[oai(status = 201)]
    Created(
        Json<RequestView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum RequestResponse {
    #[oai(status = 200)]
    Ok(Serialized<RequestView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum DecisionCreated {
    /// The decision was recorded.
    #[oai(status = 201)]
    Created(Json<DecisionResult>, #[oai(header = "ETag")] String),
}

/// Runs the duplicate check for request `id`'s fields as they stand at `version`, with the CIO office's
/// earlier dismissals that carry over to it (same department and product).
pub async fn detect(
    store: &Store,
    detector: &Detector,
    id: Uuid,
    fields: &RequestFields,
    department: &str,
    version: i64,
) -> Result<Detection, ApiError> {
    let vendor_name = store
        .get_vendor(fields.vendor_id)
        .await?
        .map(|v| v.legal_name)
        .unwrap_or_default();
    let candidates = detector
        .check(store, &request_text(fields, department, &vendor_name))
        .await?;
    let prior = store.prior_dismissals(department, id).await?;
    let carried = crate::domain::duplicate_learning::carried_over(
        &detector.lexicon(),
        id,
        department,
        &fields.product_name,
        &prior,
    );
    Ok(Detection {
        for_version: version,
        candidates,
        carried,
    })
}

fn respond(view: RequestView) -> RequestResponse {
    let tag = etag(view.version);
    RequestResponse::Ok(Serialized(view), tag)
}

pub struct RequestsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Requests")]
impl RequestsApi {
    /// Draft a procurement request
    ///
    /// Buyers, for their own department (from the token). Every fact that can change the route is required —
    /// costs, term, users, hosting, data classes, `surveillance`, `face_surveillance`, `renewal`,
    /// `enterprise_agreement` — and a renewal names the approved request or the contract it renews. Every field
    /// at fault is named (422).
    #[oai(path = "/requests", method = "post", operation_id = "createRequest")]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        body: Json<RequestInput>,
    ) -> Result<RequestCreated, ApiError> {
        let fields = RequestFields::parse(body.0, None)?;
        let caller = auth.caller();
        let created = store.create_request(&auth.actor(), &caller, fields).await?;
        let location = format!("{}/requests/{}", super::PREFIX, created.id);
        let view = shaped(&store, &caller, created.id).await?;
        let tag = etag(view.version);
        Ok(RequestCreated::Created(Json(view), location, tag))
    }

    /// List requests
    ///
    /// Buyers see their own department's; analysts, the CIO office, Finance, admins and auditors see all.
    /// `awaiting=me` lists the requests with a step waiting for the caller's decision (never one the caller
    /// wrote a version of).
    #[oai(path = "/requests", method = "get", operation_id = "listRequests")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        status: Query<Option<Status>>,
        /// Department code.
        department: Query<Option<String>>,
        vendor_id: Query<Option<Uuid>>,
        /// `me`: only requests waiting for the caller's decision.
        awaiting: Query<Option<String>>,
        /// Text to find in the title.
        q: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip (with `cursor`, leave out or 0).
        offset: Query<Option<i64>>,
        /// Where the page starts: the `next_cursor` of the previous page. A deep page costs as little as the
        /// first, and requests created meanwhile do not shift it.
        cursor: Query<Option<String>>,
    ) -> Result<Serialized<RequestPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let after = super::parse_cursor(cursor.0.as_deref(), &page, crate::store::Keyset::decode)?;
        let awaiting_kinds = match awaiting.0.as_deref() {
            None => None,
            Some("me") => {
                let mut kinds = Vec::new();
                if auth.has(Role::Cio) {
                    kinds.extend([
                        "cio_approval".to_string(),
                        "cio_duplicate_review".to_string(),
                    ]);
                }
                if auth.has(Role::Finance) {
                    kinds.push("finance_approval".to_string());
                }
                Some(kinds)
            }
            Some(other) => {
                return Err(ApiError::field(
                    "awaiting",
                    format!("{other:?} is not `me`"),
                ));
            }
        };
        let caller = auth.caller();
        let filter = RequestFilter {
            status: status.0,
            department: department
                .0
                .map(|d| d.trim().to_ascii_uppercase())
                .filter(|d| !d.is_empty()),
            vendor_id: vendor_id.0,
            awaiting_subject_key: awaiting_kinds.as_ref().map(|_| caller.key.clone()),
            awaiting_kinds,
            q: q.0.filter(|s| !s.trim().is_empty()),
        };
        let (found, next) = store
            .list_request_standings(&scope_of(&auth), &filter, page, after.as_ref())
            .await?;
        let info = PageInfo::keyset(
            found.total,
            page,
            found.items.len(),
            after.is_some(),
            next.map(|k| k.encode()),
        );
        let items = found
            .items
            .into_iter()
            .map(|(record, state)| RequestView::new(record, &state, &caller))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Serialized(RequestPage { items, page: info }))
    }

    /// Read a request
    ///
    /// With its `ETag`, and `allowed_actions`: what the caller may do now.
    #[oai(path = "/requests/:id", method = "get", operation_id = "getRequest")]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<RequestResponse, ApiError> {
        let (record, standing) = store.request_standing(&scope_of(&auth), id.0).await?;
        Ok(respond(RequestView::new(
            record,
            &standing,
            &auth.caller(),
        )?))
    }

    /// Edit a request
    ///
    /// Buyers of the request's department, with `If-Match`. A draft, or a request sent back for changes (it
    /// becomes a draft again), takes the edit as it is. An edit of an approved request is a new version judged
    /// against the version whose decision stands, under the policy it was decided under: when the route would
    /// need a step, ground, questionnaire, clause or document the decided version did not settle, or the total
    /// value rose more than the policy's percentage above the decided value (rises add up across edits), review
    /// re-opens, and the route's `comparison` says why; otherwise the decision stands and the version is kept as
    /// `edited`. Fields left out keep their value.
    #[oai(
        path = "/requests/:id",
        method = "patch",
        operation_id = "updateRequest"
    )]
    async fn update(
        &self,
        store: Data<&Store>,
        detector: Data<&Arc<Detector>>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<RequestInput>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = if_match.0.version()?;
        let scope = scope_of(&auth);
        let current = store.get_request(&scope, id.0).await?;
        // Fields left out keep the value of the version read; If-Match makes sure that is the one changed.
        let next = RequestFields::parse(body.0, Some(&current.fields.0))?;
        // An approved request is re-evaluated: check the edited request for duplicates first, outside the
        // transaction.
        let detection = if current.status.is_approved() {
            Some(
                detect(
                    &store,
                    &detector,
                    current.id,
                    &next,
                    &current.department_code,
                    current.version,
                )
                .await?,
            )
        } else {
            None
        };
        let caller = auth.caller();
        let updated = store
            .update_request(
                &auth.actor(),
                &caller,
                &scope,
                id.0,
                expected,
                next,
                detection,
            )
            .await?;
        Ok(respond(shaped(&store, &caller, updated.id).await?))
    }

    /// Submit a request for review
    ///
    /// Buyers of the request's department, with `If-Match`. Evaluates the current policy and records the route;
    /// the request moves on to `in_review`, `awaiting_decision`, `approved` (nothing to review, or evidence on
    /// file settles it) or `denied` (prohibited). A renewal is compared with what it renews first.
    #[oai(
        path = "/requests/:id/submit",
        method = "post",
        operation_id = "submitRequest"
    )]
    async fn submit(
        &self,
        store: Data<&Store>,
        detector: Data<&Arc<Detector>>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = if_match.0.version()?;
        let scope = scope_of(&auth);
        let current = store.get_request(&scope, id.0).await?;
        let detection = detect(
            &store,
            &detector,
            current.id,
            &current.fields.0,
            &current.department_code,
            current.version,
        )
        .await?;
        let caller = auth.caller();
        let updated = store
            .submit_request(&auth.actor(), &caller, &scope, id.0, expected, detection)
            .await?;
        Ok(respond(shaped(&store, &caller, updated.id).await?))
    }

    /// Withdraw a request
    ///
    /// Buyers of the request's department, with `If-Match`, before a final decision. Every step still waiting
    /// closes, the vendor's open questionnaires for it are cancelled, and invitations made for it are revoked.
    #[oai(
        path = "/requests/:id/withdraw",
        method = "post",
        operation_id = "withdrawRequest"
    )]
    async fn withdraw(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = if_match.0.version()?;
        let caller = auth.caller();
        let updated = store
            .withdraw_request(&auth.actor(), &caller, &scope_of(&auth), id.0, expected)
            .await?;
        Ok(respond(shaped(&store, &caller, updated.id).await?))
    }

    /// Re-route a request under the current policy
    ///
    /// Admins, with `If-Match`. Steps already settled keep their state; new steps start pending; evidence on file
    /// settles what it can.
    #[oai(
        path = "/requests/:id/reroute",
        method = "post",
        operation_id = "rerouteRequest"
    )]
    async fn reroute(
        &self,
        store: Data<&Store>,
        auth: Auth<Admin>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = if_match.0.version()?;
        let caller = auth.caller();
        let updated = store
            .reroute_request(&auth.actor(), &caller, id.0, expected)
            .await?;
        Ok(respond(shaped(&store, &caller, updated.id).await?))
    }

    /// Confirm the reuse of a product's accepted questionnaire
    ///
    /// Security analysts, with `If-Match`, where the policy (`reuse.confirmation_required`) holds a questionnaire
    /// satisfied by reference to the product's accepted review for an analyst's word: the route then counts it as
    /// accepted, and the security review is satisfied if nothing else waits. A questionnaire the current route
    /// does not satisfy by reference answers 422 naming `questionnaire`; one needing no confirmation, or confirmed
    /// already, 409.
    #[oai(
        path = "/requests/:id/reuse/confirmations",
        method = "post",
        operation_id = "confirmReuse"
    )]
    async fn confirm_reuse(
        &self,
        store: Data<&Store>,
        auth: Auth<super::assessments::Analyst>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ReuseConfirmationInput>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = if_match.0.version()?;
        let caller = auth.caller();
        let updated = store
            .confirm_reuse(
                &auth.actor(),
                &caller,
                id.0,
                expected,
                body.0.questionnaire.trim(),
            )
            .await?;
        Ok(respond(shaped(&store, &caller, updated.id).await?))
    }

    /// The review route
    ///
    /// Each required step with its state, the rules that required it (reason with figures, citation), and the
    /// policy version it was routed under; for a renewal, the comparison with what it renews; for a version of a
    /// decided request, the comparison with the decided version. 409 for a draft never submitted.
    #[oai(
        path = "/requests/:id/route",
        method = "get",
        operation_id = "getRoute"
    )]
    async fn route(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<Json<RouteView>, ApiError> {
        let request = store.get_request(&scope_of(&auth), id.0).await?;
        let (Some(route), Some(policy_version)) = (request.route.clone(), request.policy_version)
        else {
            return Err(ApiError::conflict(
                ProblemCode::NotRouted,
                "the request has not been submitted yet",
            ));
        };
        let steps = store.route_steps(&request).await?;
        let route = route.0;
        Ok(Json(RouteView {
            request_id: request.id,
            submission: request.submission,
            policy_version,
            prohibitions: prohibitions_of(&route),
            policy_label: route.policy_label,
            total_contract_value_cents: route.total_contract_value_cents,
            fy_vendor_total_cents: route.fy_vendor_total_cents,
            fiscal_year: route.fiscal_year,
            fast_path: route.fast_path,
            renewal: route.renewal.as_ref().map(RenewalView::from),
            comparison: route.comparison.as_ref().map(ComparisonView::from),
            decided_submission: request.decided_submission,
            budget: route.budget.as_ref().map(BudgetPositionView::from),
            product: route
                .product
                .as_ref()
                .map(super::products::ProductReviewView::from),
            steps: steps.into_iter().map(StepView::from).collect(),
            notices: route.notices,
            dismissed_earlier: route.dismissed_earlier,
        }))
    }

    /// Preview the route of a draft
    ///
    /// What submitting the draft now would give: the status, the steps with the rules and citations that require
    /// them, prohibitions, the questionnaires the vendor would answer, and what the duplicate check finds. Runs
    /// the submission's own checks and planner under the current policy and writes nothing; refuses as submitting
    /// would (a missing or unknown fact, a request that is not a draft, a caller who may not submit it).
    #[oai(
        path = "/requests/:id/preview",
        method = "get",
        operation_id = "previewRoute"
    )]
    async fn preview(
        &self,
        store: Data<&Store>,
        detector: Data<&Arc<Detector>>,
        auth: Auth<Buyer>,
        id: Path<Uuid>,
    ) -> Result<Json<PreviewView>, ApiError> {
        let scope = scope_of(&auth);
        let current = store.get_request(&scope, id.0).await?;
        let detection = detect(
            &store,
            &detector,
            current.id,
            &current.fields.0,
            &current.department_code,
            current.version,
        )
        .await?;
        let dismissals = store.dismissals(current.id).await?;
        let duplicates = detection
            .candidates
            .iter()
            .map(|c| super::duplicates::view_of(c, &dismissals, &detection.carried))
            .collect();
        let plan = store
            .preview_submission(&auth.caller(), &scope, id.0, detection)
            .await?;
        let Some(version) = plan.version else {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "a submission plan without a version"
            )));
        };
        let route = version.route;
        Ok(Json(PreviewView {
            request_id: current.id,
            status: plan.status,
            policy_version: version.policy_version,
            policy_label: route.policy_label.clone(),
            total_contract_value_cents: route.total_contract_value_cents,
            fy_vendor_total_cents: route.fy_vendor_total_cents,
            fiscal_year: route.fiscal_year,
            fast_path: route.fast_path,
            renewal: route.renewal.as_ref().map(RenewalView::from),
            budget: route.budget.as_ref().map(BudgetPositionView::from),
            product: route
                .product
                .as_ref()
                .map(super::products::ProductReviewView::from),
            prohibitions: prohibitions_of(&route),
            steps: version.steps.iter().map(PlannedStepView::from).collect(),
            notices: route.notices.clone(),
            dismissed_earlier: route.dismissed_earlier.clone(),
            questionnaires: plan.assessments,
            duplicates,
        }))
    }

    /// Submitted versions
    ///
    /// Every version, oldest first: submitted by the buyer, or made by an edit of a decided request (`edited`
    /// when the decision stands, `reopened` when review re-opened). Decisions name the version they decided.
    #[oai(
        path = "/requests/:id/versions",
        method = "get",
        operation_id = "listRequestVersions"
    )]
    async fn versions(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<VersionPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        store.get_request(&scope_of(&auth), id.0).await?;
        let all: Vec<VersionView> = store
            .list_versions(id.0)
            .await?
            .into_iter()
            .map(VersionView::from)
            .collect();
        let (items, page) = page_of(all, page);
        Ok(Json(VersionPage { items, page }))
    }

    /// Decisions on a request
    ///
    /// Oldest first, each naming the version it decided; decisions the service recorded itself (a prohibition,
    /// the City Council's vote) are among them.
    #[oai(
        path = "/requests/:id/decisions",
        method = "get",
        operation_id = "listDecisions"
    )]
    async fn decisions(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<DecisionPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        store.get_request(&scope_of(&auth), id.0).await?;
        let (items, page) = page_of(store.list_decisions(id.0).await?, page);
        Ok(Json(DecisionPage { items, page }))
    }

    /// Decide a step
    ///
    /// The CIO decides `cio_approval` and `cio_duplicate_review`, Finance `finance_approval`: approve, approve
    /// with conditions, deny (with a reason code and rationale) or request changes; `If-Match` is required, so
    /// that of two deciders acting at once exactly one wins (the other gets 412). Nobody who created, edited or
    /// submitted any version of the request decides it (403 `separation_of_duties`). A denial closes every other
    /// waiting step and the vendor's open questionnaires; a request for changes closes this version's waiting
    /// steps. The request is approved only when every step of its route is settled. A denial as
    /// `duplicate_of_central_service` proposes the request's product name as an alias of the service named
    /// (unless the service already answers to it), for the CIO office to accept or reject
    /// (`/catalog/alias-proposals`).
    #[oai(
        path = "/requests/:id/decisions",
        method = "post",
        operation_id = "decideRequest"
    )]
    async fn decide(
        &self,
        store: Data<&Store>,
        detector: Data<&Arc<Detector>>,
        auth: Auth<Decider>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<DecisionInput>,
    ) -> Result<DecisionCreated, ApiError> {
        let expected = if_match.0.version()?;
        let decision = CheckedDecision::parse(body.0)?;
        let caller = auth.caller();
        let lexicon = detector.lexicon();
        let (recorded, request) = store
            .decide(&auth.actor(), &caller, id.0, expected, decision, &lexicon)
            .await?;
        let view = shaped(&store, &caller, request.id).await?;
        let tag = etag(view.version);
        Ok(DecisionCreated::Created(
            Json(DecisionResult {
                decision: recorded,
                request: view,
            }),
            tag,
        ))
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON;

    use super::*;

    /// A request with every optional value present (`full`) or absent, at a sub-second time.
    fn view(full: bool) -> RequestView {
        let at = DateTime::parse_from_rfc3339("2026-12-03T10:11:12.345678Z")
            .unwrap()
            .with_timezone(&Utc);
        let some = |n: u128| full.then(|| Uuid::from_u128(n));
        RequestView {
            id: Uuid::from_u128(1),
            department_code: "DOIT".into(),
            status: if full {
                Status::Approved
            } else {
                Status::Draft
            },
            submission: i32::from(full),
            version: 7,
            policy_version: full.then_some(3),
            fields: RequestFieldsView {
                title: "Case \"management\" \u{e9}\n".into(),
                description: String::new(),
                vendor_id: Uuid::from_u128(2),
                product_name: "Acme".into(),
                category: "saas".into(),
                capabilities: if full {
                    vec!["a".into(), "b".into()]
                } else {
                    vec![]
                },
                capital_cost_cents: -1,
                annual_operating_cost_cents: i64::MAX,
                term_months: 36,
                expected_users: 0,
                renewal: full,
                enterprise_agreement: !full,
                hosting: "vendor_cloud".into(),
                data_classes: vec!["pii".into()],
                surveillance: full,
                face_surveillance: false,
                requested_start_date: NaiveDate::from_ymd_opt(2027, 7, 1).unwrap(),
                renews_request_id: some(3),
                renews_contract_id: some(4),
                budget_line_id: some(5),
                product_id: some(6),
            },
            total_contract_value_cents: 10,
            fiscal_year: 2028,
            created_by: "bea".into(),
            submitted_by: full.then(|| "bea".into()),
            created_at: at,
            updated_at: at + chrono::Duration::days(1),
            decided_submission: full.then_some(1),
            allowed_actions: if full { vec!["edit".into()] } else { vec![] },
        }
    }

    #[test]
    fn serde_writes_a_request_page_as_poem_openapi_does() {
        for (cursor, next_offset) in [(Some("abc".to_string()), None), (None, Some(50))] {
            let page = RequestPage {
                items: vec![view(true), view(false)],
                page: PageInfo {
                    total: 2,
                    limit: 50,
                    offset: 0,
                    next_offset,
                    next_cursor: cursor,
                },
            };
            assert_eq!(
                serde_json::to_value(&page).unwrap(),
                page.to_json().unwrap()
            );
        }
    }
}
