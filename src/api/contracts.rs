//! Contracts: dates, value, the requests they cover, their status on a given day, their cancellation before
//! they start, and their decommissioning. The rules are the planner's (`crate::workflow::contracts`).

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Auth, Permission, Role, Staff};
use crate::domain::contracts::{
    Cancellation, ContractFields, ContractStatus, DataDisposition, Decommission, LIBRARY,
};
use crate::domain::safeguards::pre_2012_flag;
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{ContractDetail, ContractFilter, Store};

/// Those who keep the contract register: the CIO office and admins.
pub struct ContractEditor;
impl Permission for ContractEditor {
    const ROLES: &'static [Role] = &[Role::Cio, Role::Admin];
}

#[derive(Debug, Object)]
pub struct ContractBody {
    pub vendor_id: Uuid,
    pub contract_number: String,
    pub title: String,
    pub start_date: NaiveDate,
    /// The contract's last day.
    pub end_date: NaiveDate,
    pub value_cents: i64,
    /// Days before the end date by which the city must decide to renew or give notice.
    pub renewal_notice_days: i32,
    /// The purchase requests this contract carries out (same vendor).
    #[oai(default)]
    pub request_ids: Vec<Uuid>,
    /// Safeguard clauses (ids of the clause library) the contract is known to carry, for contracts made before
    /// their request came through this service.
    #[oai(default)]
    pub safeguard_clauses: Vec<String>,
}

impl ContractBody {
    fn parse(self) -> Result<ContractFields, ApiError> {
        ContractFields {
            vendor_id: self.vendor_id,
            contract_number: self.contract_number,
            title: self.title,
            start_date: self.start_date,
            end_date: self.end_date,
            value_cents: self.value_cents,
            renewal_notice_days: self.renewal_notice_days,
            request_ids: self.request_ids,
            safeguard_clauses: self.safeguard_clauses,
        }
        .check(&LIBRARY)
        .map_err(ApiError::from)
    }
}

#[derive(Debug, Object)]
pub struct DecommissionBody {
    pub decommissioned_on: NaiveDate,
    pub data_disposition: DataDisposition,
    /// The certificate of return or destruction, e.g. its document number.
    pub certificate_reference: String,
    /// Who signed the certificate for the vendor.
    pub certified_by: String,
    pub note: Option<String>,
}

#[derive(Debug, Object)]
pub struct CancelBody {
    /// Why the contract is called off before it starts (kept in the record and the audit trail).
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct CancellationView {
    pub reason: String,
    pub cancelled_by: String,
    pub cancelled_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct DecommissionView {
    pub decommissioned_on: NaiveDate,
    pub data_disposition: DataDisposition,
    pub certificate_reference: String,
    pub certified_by: String,
    pub note: Option<String>,
    pub recorded_by: String,
}

#[derive(Debug, Object)]
pub struct ContractView {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub contract_number: String,
    pub title: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub value_cents: i64,
    pub renewal_notice_days: i32,
    /// First day of the renewal notice period.
    pub notice_starts_on: NaiveDate,
    /// Today's status: `pending` before the start date, then `active`, `expiring` (inside the renewal notice
    /// period) and `ended`; `decommissioned` and `cancelled` are for good.
    pub status: ContractStatus,
    pub request_ids: Vec<Uuid>,
    pub safeguard_clauses: Vec<String>,
    /// Started before 2012-03-01 with no safeguard clause recorded, on the contract or on a linked request's
    /// checklist: to be amended [201 CMR 17.03(2)(f)(2)].
    pub pre_2012_flag: bool,
    pub decommission: Option<DecommissionView>,
    /// Set when the contract was cancelled before it started.
    pub cancellation: Option<CancellationView>,
    /// The ETag is `"<version>"`.
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ContractDetail> for ContractView {
    fn from(d: ContractDetail) -> Self {
        let c = d.contract;
        let status = c.days().status(now().date_naive());
        let cancellation = match (c.cancelled_at, c.cancellation_reason) {
            (Some(at), Some(reason)) => Some(CancellationView {
                reason,
                cancelled_by: c.cancelled_by.unwrap_or_default(),
                cancelled_at: at,
            }),
            _ => None,
        };
        let decommission = match (c.decommissioned_on, c.data_disposition) {
            (Some(on), Some(disposition)) => Some(DecommissionView {
                decommissioned_on: on,
                data_disposition: disposition,
                certificate_reference: c.certificate_reference.unwrap_or_default(),
                certified_by: c.certified_by.unwrap_or_default(),
                note: c.decommission_note,
                recorded_by: c.decommissioned_by.unwrap_or_default(),
            }),
            _ => None,
        };
        ContractView {
            status,
            pre_2012_flag: pre_2012_flag(c.start_date, d.safeguard_recorded),
            id: c.id,
            vendor_id: c.vendor_id,
            contract_number: c.contract_number,
            title: c.title,
            start_date: c.start_date,
            end_date: c.end_date,
            value_cents: c.value_cents,
            renewal_notice_days: c.renewal_notice_days,
            notice_starts_on: c.notice_starts_on,
            request_ids: d.request_ids,
            safeguard_clauses: c.safeguard_clauses.0,
            decommission,
            cancellation,
            version: c.version,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct ContractPage {
    pub items: Vec<ContractView>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum ContractCreated {
    /// The contract was recorded.
    #[oai(status = 201)]
    Created(
        Json<ContractView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ContractResponse {
    #[oai(status = 200)]
    Ok(Json<ContractView>, #[oai(header = "ETag")] String),
}

fn respond(detail: ContractDetail) -> ContractResponse {
    let tag = etag(detail.contract.version);
    ContractResponse::Ok(Json(detail.into()), tag)
}

pub struct ContractsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Contracts")]
impl ContractsApi {
    /// List contracts
    ///
    /// Staff roles; ordered by end date. `status` is today's: `pending` (not started), `active`, `expiring`
    /// (inside the renewal notice period), `ended`, `decommissioned` or `cancelled`.
    #[oai(path = "/contracts", method = "get", operation_id = "listContracts")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        status: Query<Option<ContractStatus>>,
        vendor_id: Query<Option<Uuid>>,
        /// Contracts that carry out this request.
        request_id: Query<Option<Uuid>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<ContractPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let filter = ContractFilter {
            vendor_id: vendor_id.0,
            status: status.0,
            request_id: request_id.0,
        };
        let found = store
            .list_contracts(&filter, now().date_naive(), page)
            .await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(ContractPage {
            items: found.items.into_iter().map(ContractView::from).collect(),
            page: info,
        }))
    }

    /// Record a contract
    ///
    /// The CIO office and admins. Contract numbers are unique; linked requests must be with the same vendor.
    #[oai(path = "/contracts", method = "post", operation_id = "createContract")]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<ContractEditor>,
        body: Json<ContractBody>,
    ) -> Result<ContractCreated, ApiError> {
        let created = store
            .create_contract(&auth.actor(), body.0.parse()?)
            .await?;
        let location = format!("{}/contracts/{}", super::PREFIX, created.contract.id);
        let tag = etag(created.contract.version);
        Ok(ContractCreated::Created(
            Json(created.into()),
            location,
            tag,
        ))
    }

    /// Read a contract
    #[oai(path = "/contracts/:id", method = "get", operation_id = "getContract")]
    async fn get(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<ContractResponse, ApiError> {
        Ok(respond(store.get_contract(id.0).await?))
    }

    /// Replace a contract's facts
    ///
    /// The CIO office and admins; the vendor stays the same, and a decommissioned or cancelled contract no longer
    /// changes (409). `If-Match` (required) names the version read.
    #[oai(
        path = "/contracts/:id",
        method = "put",
        operation_id = "replaceContract"
    )]
    async fn replace(
        &self,
        store: Data<&Store>,
        auth: Auth<ContractEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ContractBody>,
    ) -> Result<ContractResponse, ApiError> {
        let expected = if_match.version()?;
        Ok(respond(
            store
                .update_contract(&auth.actor(), id.0, expected, body.0.parse()?)
                .await?,
        ))
    }

    /// Decommission a contract
    ///
    /// The CIO office and admins record the end of a started contract's life: the day it happened (not before
    /// the start date, not in the future), whether the city's data was returned or destroyed, and the
    /// certificate that says so (EO 2025 Art. 4; c.93I §2). A contract that has not started is cancelled
    /// instead (409 `contract_not_started`). `If-Match` (required) names the version read.
    #[oai(
        path = "/contracts/:id/decommission",
        method = "post",
        operation_id = "decommissionContract"
    )]
    async fn decommission(
        &self,
        store: Data<&Store>,
        auth: Auth<ContractEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<DecommissionBody>,
    ) -> Result<ContractResponse, ApiError> {
        let expected = if_match.version()?;
        let body = body.0;
        let decommission = Decommission {
            decommissioned_on: body.decommissioned_on,
            data_disposition: body.data_disposition,
            certificate_reference: body.certificate_reference,
            certified_by: body.certified_by,
            note: body.note,
        };
        Ok(respond(
            store
                .decommission_contract(&auth.actor(), id.0, expected, decommission)
                .await?,
        ))
    }

    /// Cancel a contract before it starts
    ///
    /// The CIO office and admins call off a `pending` contract, with the reason; it becomes `cancelled` for
    /// good and no reminder is made for it. A contract that has started is decommissioned instead (409
    /// `contract_started`); a cancelled or decommissioned one answers 409 naming its state. `If-Match`
    /// (required) names the version read.
    #[oai(
        path = "/contracts/:id/cancel",
        method = "post",
        operation_id = "cancelContract"
    )]
    async fn cancel(
        &self,
        store: Data<&Store>,
        auth: Auth<ContractEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<CancelBody>,
    ) -> Result<ContractResponse, ApiError> {
        let expected = if_match.version()?;
        let cancellation = Cancellation {
            reason: body.0.reason,
        };
        Ok(respond(
            store
                .cancel_contract(&auth.actor(), id.0, expected, cancellation)
                .await?,
        ))
    }
}
