//! Findings: the list, one read, and what is done about one (a remediation plan, its resolution, or the CIO's
//! acceptance of its risk).

use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::{Analyst, CioOnly, RemediationPlanner, finding_view, vendor_scope};
use crate::api::me::ApiTags;
use crate::api::{IfMatch, PageInfo, etag};
use crate::auth::{AnyRole, Auth, Permission};
use crate::domain::PageRequest;
use crate::domain::assessments::{FindingChange, FindingStatus, FindingView};
use crate::domain::questionnaires::Severity;
use crate::error::ApiError;
use crate::store::{FindingFilter, Store};

#[derive(Debug, Object)]
pub struct FindingPage {
    pub items: Vec<FindingView>,
    pub page: PageInfo,
}

#[derive(Debug, Object)]
pub struct RemediationInput {
    pub plan: String,
    pub due_date: NaiveDate,
}

#[derive(Debug, Object)]
pub struct ResolveInput {
    /// How the analyst verified the fix.
    pub note: String,
}

#[derive(Debug, Object)]
pub struct RiskAcceptanceInput {
    pub rationale: String,
    /// The acceptance lapses on this date and the finding must be looked at again.
    pub expires_on: NaiveDate,
}

#[derive(ApiResponse)]
pub enum FindingResponse {
    #[oai(status = 200)]
    Ok(Json<FindingView>, #[oai(header = "ETag")] String),
}

pub struct FindingsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl FindingsApi {
    /// List findings
    ///
    /// A vendor sees its own; a buyer those of their department's requests; other staff all.
    #[oai(path = "/findings", method = "get", operation_id = "listFindings")]
    async fn findings(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        request_id: Query<Option<Uuid>>,
        assessment_id: Query<Option<Uuid>>,
        status: Query<Option<FindingStatus>>,
        severity: Query<Option<Severity>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip (with `cursor`, leave out or 0).
        offset: Query<Option<i64>>,
        /// Where the page starts: the `next_cursor` of the previous page (oldest first). A deep page costs as
        /// little as the first.
        cursor: Query<Option<String>>,
    ) -> Result<Json<FindingPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let after =
            crate::api::parse_cursor(cursor.0.as_deref(), &page, crate::store::Keyset::decode)?;
        let filter = FindingFilter {
            request_id: request_id.0,
            assessment_id: assessment_id.0,
            status: status.0.map(|s| s.as_str().to_string()),
            severity: severity.0.map(|s| s.as_str().to_string()),
        };
        let (found, next) = store
            .list_findings(&vendor_scope(&auth), &filter, page, after.as_ref())
            .await?;
        let info = PageInfo::keyset(
            found.total,
            page,
            found.items.len(),
            after.is_some(),
            next.map(|k| k.encode()),
        );
        Ok(Json(FindingPage {
            items: found.items.into_iter().map(finding_view).collect(),
            page: info,
        }))
    }

    /// Read a finding
    #[oai(path = "/findings/:id", method = "get", operation_id = "getFinding")]
    async fn finding(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<FindingResponse, ApiError> {
        let f = store.get_finding(&vendor_scope(&auth), id.0).await?;
        let tag = etag(f.version);
        Ok(FindingResponse::Ok(Json(finding_view(f)), tag))
    }

    /// Plan remediation of a finding
    ///
    /// The vendor (its own findings) or a security analyst: the plan and its due date. `If-Match` (required)
    /// names the version of the finding read.
    #[oai(
        path = "/findings/:id/remediation",
        method = "post",
        operation_id = "planRemediation"
    )]
    async fn plan(
        &self,
        store: Data<&Store>,
        auth: Auth<RemediationPlanner>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<RemediationInput>,
    ) -> Result<FindingResponse, ApiError> {
        let expected = if_match.version()?;
        let change =
            FindingChange::plan(&body.plan, body.due_date, crate::domain::now().date_naive())?;
        self.change(&store, &auth, id.0, expected, change).await
    }

    /// Resolve a finding
    ///
    /// A security analyst, having verified the fix. `If-Match` (required) names the version of the finding read.
    #[oai(
        path = "/findings/:id/resolve",
        method = "post",
        operation_id = "resolveFinding"
    )]
    async fn resolve(
        &self,
        store: Data<&Store>,
        auth: Auth<Analyst>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ResolveInput>,
    ) -> Result<FindingResponse, ApiError> {
        let expected = if_match.version()?;
        let change = FindingChange::resolve(&body.note)?;
        self.change(&store, &auth, id.0, expected, change).await
    }

    /// Accept the risk of a finding
    ///
    /// The CIO only, with a rationale and an expiry date. `If-Match` (required) names the version of the
    /// finding read.
    #[oai(
        path = "/findings/:id/risk-acceptance",
        method = "post",
        operation_id = "acceptFindingRisk"
    )]
    async fn accept_risk(
        &self,
        store: Data<&Store>,
        auth: Auth<CioOnly>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<RiskAcceptanceInput>,
    ) -> Result<FindingResponse, ApiError> {
        let expected = if_match.version()?;
        let change = FindingChange::accept_risk(
            &body.rationale,
            body.expires_on,
            crate::domain::now().date_naive(),
        )?;
        self.change(&store, &auth, id.0, expected, change).await
    }
}

impl FindingsApi {
    async fn change<P: Permission>(
        &self,
        store: &Store,
        auth: &Auth<P>,
        id: Uuid,
        expected: i64,
        change: FindingChange,
    ) -> Result<FindingResponse, ApiError> {
        let updated = store
            .change_finding(
                &auth.actor(),
                &vendor_scope(auth),
                id,
                Some(expected),
                change,
            )
            .await?;
        let tag = etag(updated.version);
        Ok(FindingResponse::Ok(Json(finding_view(updated)), tag))
    }
}
