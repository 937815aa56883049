use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::{PageInfo, etag, parse_if_match};
use crate::auth::{Admin, Auth, Permission, Principal, Role, Staff};
use crate::detection::{Detector, request_text};
use crate::domain::PageRequest;
use crate::domain::policy::{Ground, Hosting};
use crate::domain::request::{RequestFields, RequestInput, Status};
use crate::domain::workflow::{CheckedDecision, Decision, DecisionInput, StepState};
use crate::error::ApiError;
use crate::store::{
    Detection, RequestFilter, RequestRecord, Scope, StepRecord, Store, VersionRecord,
};

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
#[derive(Debug, Object)]
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
            hosting: match f.hosting {
                Hosting::VendorCloud => "vendor_cloud".into(),
                Hosting::OnPremises => "on_premises".into(),
            },
            data_classes: f
                .data_classes
                .iter()
                .map(|d| d.as_str().to_string())
                .collect(),
            surveillance: f.surveillance,
            face_surveillance: f.face_surveillance,
            requested_start_date: f.requested_start_date,
        }
    }
}

#[derive(Debug, Object)]
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the request's state allows next: `edit`, `submit`, `withdraw`, `decide`, `reroute`.
    pub allowed_actions: Vec<String>,
}

impl From<RequestRecord> for RequestView {
    fn from(r: RequestRecord) -> Self {
        let status = r.status();
        RequestView {
            id: r.id,
            department_code: r.department_code,
            status,
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
            allowed_actions: status
                .allowed()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct RequestPage {
    pub items: Vec<RequestView>,
    pub page: PageInfo,
}

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
    /// What the step waits for, or how it was settled.
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
    pub updated_at: DateTime<Utc>,
}

impl From<StepRecord> for StepView {
    fn from(s: StepRecord) -> Self {
        let state = s.state();
        let d = s.detail.0;
        StepView {
            kind: s.kind,
            state,
            note: s.note,
            grounds: d.grounds.iter().map(GroundView::from).collect(),
            questionnaires: d.questionnaires,
            clauses: d.clauses,
            attachments: d.attachments,
            items: d.items,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct ProhibitionView {
    pub code: String,
    pub grounds: Vec<GroundView>,
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
    /// A renewal with no material change under an enterprise agreement.
    pub fast_path: bool,
    pub prohibitions: Vec<ProhibitionView>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Object)]
pub struct VersionView {
    pub submission: i32,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub fields: RequestFieldsView,
}

impl From<VersionRecord> for VersionView {
    fn from(v: VersionRecord) -> Self {
        VersionView {
            submission: v.submission,
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
    Ok(Json<RequestView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum DecisionCreated {
    /// The decision was recorded.
    #[oai(status = 201)]
    Created(Json<DecisionResult>, #[oai(header = "ETag")] String),
}

/// Runs the duplicate check for a request's fields as they stand at `version`.
pub async fn detect(
    store: &Store,
    detector: &Detector,
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
    Ok(Detection {
        for_version: version,
        candidates,
    })
}

fn respond(record: RequestRecord) -> RequestResponse {
    let tag = etag(record.version);
    RequestResponse::Ok(Json(record.into()), tag)
}

pub struct RequestsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Requests")]
impl RequestsApi {
    /// Draft a procurement request
    ///
    /// Buyers, for their own department (from the token). Every field at fault is named (422).
    #[oai(path = "/requests", method = "post", operation_id = "createRequest")]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<Buyer>,
        body: Json<RequestInput>,
    ) -> Result<RequestCreated, ApiError> {
        let fields = RequestFields::parse(body.0, None)?;
        let department = auth.department.clone().unwrap_or_default();
        let created = store
            .create_request(&auth.actor(), &department, fields)
            .await?;
        let location = format!("{}/requests/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(RequestCreated::Created(Json(created.into()), location, tag))
    }

    /// List requests
    ///
    /// Buyers see their own department's; analysts, the CIO office, Finance, admins and auditors see all.
    /// `awaiting=me` lists the requests with a step waiting for the caller's decision.
    #[oai(path = "/requests", method = "get", operation_id = "listRequests")]
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
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<RequestPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
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
        let filter = RequestFilter {
            status: status.0,
            department: department
                .0
                .map(|d| d.trim().to_ascii_uppercase())
                .filter(|d| !d.is_empty()),
            vendor_id: vendor_id.0,
            awaiting_kinds,
            q: q.0.filter(|s| !s.trim().is_empty()),
        };
        let found = store.list_requests(&scope_of(&auth), &filter, page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(RequestPage {
            items: found.items.into_iter().map(RequestView::from).collect(),
            page: info,
        }))
    }

    /// Read a request
    #[oai(path = "/requests/:id", method = "get", operation_id = "getRequest")]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<RequestResponse, ApiError> {
        Ok(respond(store.get_request(&scope_of(&auth), id.0).await?))
    }

    /// Edit a request
    ///
    /// Buyers of the request's department. Allowed on a draft, on a request sent back for changes (it becomes
    /// a draft again), and on an approved request: a material change there (cost up by more than the policy
    /// percentage, a new data class, another vendor) re-opens the review as a new submitted version.
    /// Fields left out keep their value.
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<RequestInput>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = parse_if_match(if_match.0.as_deref())?;
        let scope = scope_of(&auth);
        let current = store.get_request(&scope, id.0).await?;
        // An approved request re-opens on a material change: check the edited request for duplicates first.
        let detection = match RequestFields::parse(body.0.clone(), Some(&current.fields.0)) {
            Ok(next) if current.status().is_approved() => Some(
                detect(
                    &store,
                    &detector,
                    &next,
                    &current.department_code,
                    current.version,
                )
                .await?,
            ),
            _ => None,
        };
        let updated = store
            .update_request(&auth.actor(), &scope, id.0, expected, body.0, detection)
            .await?;
        Ok(respond(updated))
    }

    /// Submit a request for review
    ///
    /// Buyers of the request's department. Evaluates the current policy and records the route; the request
    /// moves on to `in_review`, `awaiting_decision`, `approved` (nothing to review) or `denied` (prohibited).
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = parse_if_match(if_match.0.as_deref())?;
        let scope = scope_of(&auth);
        let current = store.get_request(&scope, id.0).await?;
        let detection = detect(
            &store,
            &detector,
            &current.fields.0,
            &current.department_code,
            current.version,
        )
        .await?;
        Ok(respond(
            store
                .submit_request(&auth.actor(), &scope, id.0, expected, detection)
                .await?,
        ))
    }

    /// Withdraw a request
    ///
    /// Buyers of the request's department, before a final decision.
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = parse_if_match(if_match.0.as_deref())?;
        Ok(respond(
            store
                .withdraw_request(&auth.actor(), &scope_of(&auth), id.0, expected)
                .await?,
        ))
    }

    /// Re-route a request under the current policy
    ///
    /// Admins. Steps already decided keep their state; new steps start pending.
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> Result<RequestResponse, ApiError> {
        let expected = parse_if_match(if_match.0.as_deref())?;
        Ok(respond(
            store.reroute_request(&auth.actor(), id.0, expected).await?,
        ))
    }

    /// The review route
    ///
    /// Each required step with its state, the rules that required it (reason with figures, citation), and the
    /// policy version it was routed under. 409 for a draft never submitted.
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
                "not_routed",
                "the request has not been submitted yet",
            ));
        };
        let steps = store.route_steps(&request).await?;
        let route = route.0;
        Ok(Json(RouteView {
            request_id: request.id,
            submission: request.submission,
            policy_version,
            policy_label: route.policy_label,
            total_contract_value_cents: route.total_contract_value_cents,
            fy_vendor_total_cents: route.fy_vendor_total_cents,
            fiscal_year: route.fiscal_year,
            fast_path: route.fast_path,
            prohibitions: route
                .prohibitions
                .iter()
                .map(|p| ProhibitionView {
                    code: p.code.clone(),
                    grounds: p.grounds.iter().map(GroundView::from).collect(),
                })
                .collect(),
            steps: steps.into_iter().map(StepView::from).collect(),
        }))
    }

    /// Submitted versions
    ///
    /// Every version the buyer submitted, oldest first; decisions name the version they decided.
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
    ) -> Result<Json<Vec<VersionView>>, ApiError> {
        store.get_request(&scope_of(&auth), id.0).await?;
        Ok(Json(
            store
                .list_versions(id.0)
                .await?
                .into_iter()
                .map(VersionView::from)
                .collect(),
        ))
    }

    /// Decisions on a request
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
    ) -> Result<Json<Vec<Decision>>, ApiError> {
        store.get_request(&scope_of(&auth), id.0).await?;
        Ok(Json(store.list_decisions(id.0).await?))
    }

    /// Decide a step
    ///
    /// The CIO decides `cio_approval` and `cio_duplicate_review`, Finance `finance_approval`: approve, approve
    /// with conditions, deny (with a reason code and rationale) or request changes. The person who submitted
    /// the request never decides it. The request is approved only when every step of its route is satisfied.
    /// With `If-Match`, of two deciders acting at once exactly one wins; the other gets 412 (or 409).
    #[oai(
        path = "/requests/:id/decisions",
        method = "post",
        operation_id = "decideRequest"
    )]
    async fn decide(
        &self,
        store: Data<&Store>,
        auth: Auth<Decider>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<DecisionInput>,
    ) -> Result<DecisionCreated, ApiError> {
        let expected = parse_if_match(if_match.0.as_deref())?;
        let decision = CheckedDecision::parse(body.0)?;
        let (recorded, request) = store
            .decide(&auth.actor(), &auth.principal, id.0, expected, decision)
            .await?;
        let tag = etag(request.version);
        Ok(DecisionCreated::Created(
            Json(DecisionResult {
                decision: recorded,
                request: request.into(),
            }),
            tag,
        ))
    }
}
