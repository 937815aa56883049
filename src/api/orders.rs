//! Remediation orders: the CIO office orders a vendor (or a department, for a city system) to remediate; the
//! recipient acknowledges, reports completion and may appeal once; the CIO office verifies, reopens and decides
//! the appeal. The rules are the planner's (`crate::workflow::orders`).

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::assessments::CioOnly;
use super::incidents::incident_scope;
use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{AnyRole, Auth, Permission, Role};
use crate::domain::PageRequest;
use crate::domain::orders::{AppealOutcome, OrderStatus};
use crate::error::ApiError;
use crate::store::{OrderChange, OrderFilter, OrderRecord, Store};
use crate::workflow::orders::{NewOrder, OrderRecipient};

/// Who acts on an order addressed to them: the vendor, or the buyers of the department.
pub struct OrderRecipientRole;
impl Permission for OrderRecipientRole {
    const ROLES: &'static [Role] = &[Role::Vendor, Role::Buyer];
}

#[derive(Debug, Object)]
pub struct OrderBody {
    /// The vendor ordered to remediate; or `department` for a city system (exactly one of the two).
    pub vendor_id: Option<Uuid>,
    /// The department ordered to remediate a city system (its code).
    #[oai(validator(max_length = 40))]
    pub department: Option<String>,
    /// The incident behind the order.
    pub incident_id: Option<Uuid>,
    /// The findings behind the order.
    #[oai(default)]
    pub finding_ids: Vec<Uuid>,
    /// The required actions, one per item.
    pub actions: Vec<String>,
    /// The last day to complete them.
    pub due_date: NaiveDate,
}

#[derive(Debug, Object)]
pub struct CompletionBody {
    /// What was done.
    pub note: String,
    /// Where the evidence of it is (a report, a certificate, a section of a SOC 2 report).
    #[oai(validator(min_length = 1, max_length = 500))]
    pub evidence: String,
}

#[derive(Debug, Object)]
pub struct ReasonBody {
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct AppealBody {
    /// Why the order should not stand.
    pub grounds: String,
}

#[derive(Debug, Object)]
pub struct AppealDecisionBody {
    pub outcome: AppealOutcome,
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct AppealView {
    pub grounds: String,
    pub appealed_by: String,
    pub appealed_at: DateTime<Utc>,
    /// Once decided.
    pub outcome: Option<AppealOutcome>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct OrderView {
    pub id: Uuid,
    pub vendor_id: Option<Uuid>,
    pub department: Option<String>,
    pub incident_id: Option<Uuid>,
    pub finding_ids: Vec<Uuid>,
    pub actions: Vec<String>,
    pub due_date: NaiveDate,
    pub status: OrderStatus,
    /// Still standing against its recipient (neither verified nor withdrawn).
    pub open: bool,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub completion_note: Option<String>,
    pub completion_evidence: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub reopen_reason: Option<String>,
    pub appeal: Option<AppealView>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    /// The ETag is `"<version>"`.
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

pub fn view(o: OrderRecord) -> Result<OrderView, ApiError> {
    let status = o.status;
    let appeal = match (o.appeal_grounds, o.appealed_by, o.appealed_at) {
        (Some(grounds), Some(appealed_by), Some(appealed_at)) => Some(AppealView {
            grounds,
            appealed_by,
            appealed_at,
            outcome: o.appeal_outcome,
            reason: o.appeal_reason,
            decided_by: o.appeal_decided_by,
            decided_at: o.appeal_decided_at,
        }),
        _ => None,
    };
    Ok(OrderView {
        open: status.is_open(),
        status,
        appeal,
        id: o.id,
        vendor_id: o.vendor_id,
        department: o.department_code,
        incident_id: o.incident_id,
        finding_ids: o.finding_ids.0,
        actions: o.actions.0,
        due_date: o.due_date,
        acknowledged_by: o.acknowledged_by,
        acknowledged_at: o.acknowledged_at,
        completion_note: o.completion_note,
        completion_evidence: o.completion_evidence,
        completed_at: o.completed_at,
        verified_by: o.verified_by,
        verified_at: o.verified_at,
        reopen_reason: o.reopen_reason,
        issued_by: o.issued_by,
        issued_at: o.issued_at,
        version: o.version,
        updated_at: o.updated_at,
    })
}

#[derive(Debug, Object)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum OrderResponse {
    #[oai(status = 200)]
    Ok(Json<OrderView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum OrderCreated {
    /// The order was issued.
    #[oai(status = 201)]
    Created(
        Json<OrderView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

fn respond(order: OrderRecord) -> Result<OrderResponse, ApiError> {
    let tag = etag(order.version);
    Ok(OrderResponse::Ok(Json(view(order)?), tag))
}

pub struct OrdersApi;

impl OrdersApi {
    async fn change<P: Permission>(
        store: &Store,
        auth: &Auth<P>,
        id: Uuid,
        if_match: &IfMatch,
        change: OrderChange,
    ) -> Result<OrderResponse, ApiError> {
        let expected = if_match.version()?;
        let appeal_days = store.current_policy().await?.document.0.order_appeal_days;
        let scope = incident_scope(auth);
        respond(
            store
                .change_order(&auth.actor(), &scope, id, expected, change, appeal_days)
                .await?,
        )
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Incidents")]
impl OrdersApi {
    /// List remediation orders
    ///
    /// Staff see every order (a buyer its department's); a vendor the orders against it. Ordered by due date.
    #[oai(path = "/orders", method = "get", operation_id = "listOrders")]
    async fn list(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        status: Query<Option<OrderStatus>>,
        vendor_id: Query<Option<Uuid>>,
        incident_id: Query<Option<Uuid>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<OrderPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let filter = OrderFilter {
            status: status.0,
            vendor_id: vendor_id.0,
            incident_id: incident_id.0,
        };
        let found = store
            .list_orders(&incident_scope(&auth), &filter, page)
            .await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        let items = found
            .items
            .into_iter()
            .map(view)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json(OrderPage { items, page: info }))
    }

    /// Issue a remediation order
    ///
    /// The CIO office orders a vendor (or a department, for a city system) to take the required actions by
    /// the due date, naming the incident or findings behind the order. While it stands, every new request with
    /// that vendor goes before the CIO (policy rule `cio-vendor-open-order`).
    #[oai(path = "/orders", method = "post", operation_id = "issueOrder")]
    async fn issue(
        &self,
        store: Data<&Store>,
        auth: Auth<CioOnly>,
        body: Json<OrderBody>,
    ) -> Result<OrderCreated, ApiError> {
        let b = body.0;
        let recipient = match (b.vendor_id, b.department) {
            (Some(v), None) => OrderRecipient::Vendor(v),
            (None, Some(d)) if !d.trim().is_empty() => {
                OrderRecipient::Department(d.trim().to_string())
            }
            _ => {
                return Err(ApiError::field(
                    "vendor_id",
                    "name exactly one recipient: vendor_id or department",
                ));
            }
        };
        let new = NewOrder {
            recipient,
            incident_id: b.incident_id,
            finding_ids: b.finding_ids,
            actions: b.actions,
            due_date: b.due_date,
        };
        let created = store.issue_order(&auth.actor(), new).await?;
        let location = format!("{}/orders/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(OrderCreated::Created(Json(view(created)?), location, tag))
    }

    /// Read a remediation order
    #[oai(path = "/orders/:id", method = "get", operation_id = "getOrder")]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<OrderResponse, ApiError> {
        respond(store.get_order(&incident_scope(&auth), id.0).await?)
    }

    /// Acknowledge an order
    ///
    /// The recipient (the vendor, or a buyer of the department). `If-Match` (required).
    #[oai(
        path = "/orders/:id/acknowledge",
        method = "post",
        operation_id = "acknowledgeOrder"
    )]
    async fn acknowledge(
        &self,
        store: Data<&Store>,
        auth: Auth<OrderRecipientRole>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<OrderResponse, ApiError> {
        Self::change(&store, &auth, id.0, &if_match, OrderChange::Acknowledge).await
    }

    /// Report completion
    ///
    /// The recipient says what was done and where the evidence is. `If-Match` (required).
    #[oai(
        path = "/orders/:id/completion",
        method = "post",
        operation_id = "reportOrderCompletion"
    )]
    async fn completion(
        &self,
        store: Data<&Store>,
        auth: Auth<OrderRecipientRole>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<CompletionBody>,
    ) -> Result<OrderResponse, ApiError> {
        let change = OrderChange::Completion {
            note: body.0.note,
            evidence: body.0.evidence,
        };
        Self::change(&store, &auth, id.0, &if_match, change).await
    }

    /// Verify the remediation
    ///
    /// The CIO office closes the order as done. `If-Match` (required).
    #[oai(
        path = "/orders/:id/verify",
        method = "post",
        operation_id = "verifyOrder"
    )]
    async fn verify(
        &self,
        store: Data<&Store>,
        auth: Auth<CioOnly>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<OrderResponse, ApiError> {
        Self::change(&store, &auth, id.0, &if_match, OrderChange::Verify).await
    }

    /// Reopen an order
    ///
    /// The CIO office finds the reported completion wanting, saying why. `If-Match` (required).
    #[oai(
        path = "/orders/:id/reopen",
        method = "post",
        operation_id = "reopenOrder"
    )]
    async fn reopen(
        &self,
        store: Data<&Store>,
        auth: Auth<CioOnly>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ReasonBody>,
    ) -> Result<OrderResponse, ApiError> {
        let change = OrderChange::Reopen {
            reason: body.0.reason,
        };
        Self::change(&store, &auth, id.0, &if_match, change).await
    }

    /// Appeal an order
    ///
    /// The recipient, once, within the policy's `order_appeal_days` of the order's issue (409 `appeal_used`,
    /// `appeal_too_late`), with its grounds. `If-Match` (required).
    #[oai(
        path = "/orders/:id/appeal",
        method = "post",
        operation_id = "appealOrder"
    )]
    async fn appeal(
        &self,
        store: Data<&Store>,
        auth: Auth<OrderRecipientRole>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<AppealBody>,
    ) -> Result<OrderResponse, ApiError> {
        let change = OrderChange::Appeal {
            grounds: body.0.grounds,
        };
        Self::change(&store, &auth, id.0, &if_match, change).await
    }

    /// Decide an appeal
    ///
    /// The CIO office, with the reason: `upheld` returns the order to the status it had, `granted` withdraws
    /// it. `If-Match` (required).
    #[oai(
        path = "/orders/:id/appeal/decision",
        method = "post",
        operation_id = "decideOrderAppeal"
    )]
    async fn decide_appeal(
        &self,
        store: Data<&Store>,
        auth: Auth<CioOnly>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<AppealDecisionBody>,
    ) -> Result<OrderResponse, ApiError> {
        let change = OrderChange::DecideAppeal {
            outcome: body.0.outcome,
            reason: body.0.reason,
        };
        Self::change(&store, &auth, id.0, &if_match, change).await
    }
}
