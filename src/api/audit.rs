use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::PageInfo;
use super::me::ApiTags;
use crate::auth::{AuditReader, Auth};
use crate::domain::PageRequest;
use crate::domain::audit::{AuditRecord, VerifyReport};
use crate::error::ApiError;
use crate::store::{AuditFilter, SeqCursor, Store};

#[derive(Debug, Object)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub page: PageInfo,
}

pub struct AuditApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Audit")]
impl AuditApi {
    /// Read the audit trail
    ///
    /// Every change, oldest first, with who made it, under which role, and the object before and after.
    /// Auditors and admins.
    #[oai(path = "/audit", method = "get", operation_id = "listAudit")]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<AuditReader>,
        /// e.g. `vendor`, `department`.
        object_type: Query<Option<String>>,
        object_id: Query<Option<String>>,
        /// Token subject of the actor.
        actor: Query<Option<String>>,
        /// e.g. `vendor.updated`.
        action: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip (with `cursor`, leave out or 0).
        offset: Query<Option<i64>>,
        /// Where the page starts: the `next_cursor` of the previous page. A deep page costs as little as the
        /// first.
        cursor: Query<Option<String>>,
    ) -> Result<Json<AuditPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let after = super::parse_cursor(cursor.0.as_deref(), &page, SeqCursor::decode)?;
        let filter = AuditFilter {
            object_type: object_type.0,
            object_id: object_id.0,
            actor: actor.0,
            action: action.0,
        };
        let (found, next) = store.list_audit(&filter, page, after).await?;
        let info = PageInfo::keyset(
            found.total,
            page,
            found.items.len(),
            after.is_some(),
            next.map(|c| c.encode()),
        );
        Ok(Json(AuditPage {
            items: found.items,
            page: info,
        }))
    }

    /// Verify the audit chain
    ///
    /// Incremental: recomputes the hash and link of every record after the last verification checkpoint, checks
    /// that the record the checkpoint names still has the hash it verified, and names each record that was
    /// edited, removed or added outside the chain. When the chain is intact and has grown, it writes the next
    /// checkpoint. Its cost depends on the records added since the last verification, not on the chain's
    /// length. The records before the checkpoint are not read again: `summary` and `last_full_verification`
    /// say so, and `procurement-review audit verify` reads them all. Auditors and admins.
    #[oai(path = "/audit/verify", method = "get", operation_id = "verifyAudit")]
    async fn verify(
        &self,
        store: Data<&Store>,
        auth: Auth<AuditReader>,
    ) -> Result<Json<VerifyReport>, ApiError> {
        Ok(Json(store.verify_audit(&auth.actor().subject).await?))
    }
}
