//! Catalogue aliases learnt from the CIO's decisions: a denial as `duplicate_of_central_service` proposes the
//! request's product name as an alias of the service named, for the CIO office (the catalogue's owner) to
//! accept or reject.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::catalog::CatalogEditor;
use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Auth, Staff};
use crate::domain::PageRequest;
pub use crate::domain::duplicate_learning::AliasProposalStatus;
use crate::error::ApiError;
use crate::store::{AliasProposalRecord, Store};

/// A product name proposed as an alias of a catalogue service.
#[derive(Debug, Object)]
pub struct AliasProposalView {
    pub id: Uuid,
    pub service_id: Uuid,
    pub service_name: String,
    /// The product name the denied request named.
    pub alias: String,
    /// The request denied as a duplicate of the service, and its submitted version.
    pub request_id: Uuid,
    pub submission: i32,
    /// The CIO who denied the request.
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    pub status: AliasProposalStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
    pub version: i64,
}

impl From<AliasProposalRecord> for AliasProposalView {
    fn from(r: AliasProposalRecord) -> Self {
        AliasProposalView {
            id: r.id,
            service_id: r.service_id,
            service_name: r.service_name,
            alias: r.alias,
            request_id: r.request_id,
            submission: r.submission,
            proposed_by: r.proposed_by,
            proposed_at: r.proposed_at,
            status: r.status,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_reason: r.decision_reason,
            version: r.version,
        }
    }
}

#[derive(Debug, Object)]
pub struct AliasProposalPage {
    pub items: Vec<AliasProposalView>,
    pub page: PageInfo,
}

/// Why the alias is refused.
#[derive(Debug, Object)]
pub struct AliasRejectInput {
    pub reason: String,
}

#[derive(ApiResponse)]
pub enum AliasProposalResponse {
    #[oai(status = 200)]
    Ok(Json<AliasProposalView>, #[oai(header = "ETag")] String),
}

fn respond(record: AliasProposalRecord) -> AliasProposalResponse {
    let tag = etag(record.version);
    AliasProposalResponse::Ok(Json(record.into()), tag)
}

pub struct AliasProposalsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalog")]
impl AliasProposalsApi {
    /// List alias proposals
    ///
    /// Staff. Oldest first; filter by `status` and `service_id`.
    #[oai(
        path = "/catalog/alias-proposals",
        method = "get",
        operation_id = "listAliasProposals"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        status: Query<Option<AliasProposalStatus>>,
        service_id: Query<Option<Uuid>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<AliasProposalPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let found = store
            .list_alias_proposals(status.0, service_id.0, page)
            .await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(AliasProposalPage {
            items: found.items.into_iter().map(Into::into).collect(),
            page: info,
        }))
    }

    /// Read an alias proposal
    #[oai(
        path = "/catalog/alias-proposals/:id",
        method = "get",
        operation_id = "getAliasProposal"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<AliasProposalResponse, ApiError> {
        let found = store
            .get_alias_proposal(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("alias proposal"))?;
        Ok(respond(found))
    }

    /// Accept an alias proposal
    ///
    /// The CIO office and admins, with `If-Match`. The alias is added to the service (as an edit of its
    /// aliases would add it: the duplicate check uses it at once); 409 `already_decided` once decided.
    #[oai(
        path = "/catalog/alias-proposals/:id/accept",
        method = "post",
        operation_id = "acceptAliasProposal"
    )]
    async fn accept(
        &self,
        store: Data<&Store>,
        auth: Auth<CatalogEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<AliasProposalResponse, ApiError> {
        let expected = if_match.0.version()?;
        let updated = store
            .decide_alias_proposal(&auth.actor(), id.0, expected, None)
            .await?;
        Ok(respond(updated))
    }

    /// Reject an alias proposal
    ///
    /// The CIO office and admins, with `If-Match` and a reason; the service is left as it is.
    #[oai(
        path = "/catalog/alias-proposals/:id/reject",
        method = "post",
        operation_id = "rejectAliasProposal"
    )]
    async fn reject(
        &self,
        store: Data<&Store>,
        auth: Auth<CatalogEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<AliasRejectInput>,
    ) -> Result<AliasProposalResponse, ApiError> {
        let expected = if_match.0.version()?;
        let reason = body.reason.trim();
        if reason.is_empty() {
            return Err(ApiError::field("reason", "is required"));
        }
        if reason.chars().count() > 2000 {
            return Err(ApiError::field("reason", "must be at most 2000 characters"));
        }
        let updated = store
            .decide_alias_proposal(&auth.actor(), id.0, expected, Some(reason))
            .await?;
        Ok(respond(updated))
    }
}
