use std::collections::HashMap;

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{AnyRole, Auth, Role, Staff, VendorEditor};
use crate::domain::PageRequest;
use crate::domain::registry::{Contact, NewVendor, NewVendorBody, Patch, Vendor, VendorPatch};
use crate::error::ApiError;
use crate::store::{Store, VendorFilter};

/// Vendors by where their annual re-assessment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum ReassessmentFilter {
    /// Holding personal information, with the last accepted assessment older than the policy's
    /// `reassessment_months` [201 CMR 17.03(2)(i)].
    Overdue,
}

#[derive(Debug, Clone, Object)]
pub struct VendorPatchBody {
    pub legal_name: Option<String>,
    /// `null` clears the website.
    pub website: MaybeUndefined<String>,
    pub hq_country: Option<String>,
    /// Replaces the whole list.
    pub contacts: Option<Vec<Contact>>,
}

impl From<VendorPatchBody> for VendorPatch {
    fn from(body: VendorPatchBody) -> Self {
        VendorPatch {
            legal_name: body.legal_name,
            website: match body.website {
                MaybeUndefined::Undefined => Patch::Keep,
                MaybeUndefined::Null => Patch::Clear,
                MaybeUndefined::Value(v) => Patch::Set(v),
            },
            hq_country: body.hq_country,
            contacts: body.contacts,
        }
    }
}

#[derive(Debug, Object)]
pub struct VendorPage {
    pub items: Vec<Vendor>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum VendorCreated {
    /// The vendor was registered.
    #[oai(status = 201)]
    Created(
        Json<Vendor>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum VendorResponse {
    #[oai(status = 200)]
    Ok(Json<Vendor>, #[oai(header = "ETag")] String),
}

/// The next review date of each vendor that has one, among `only` if given.
async fn review_dates(
    store: &Store,
    only: Option<&[uuid::Uuid]>,
) -> Result<HashMap<uuid::Uuid, chrono::NaiveDate>, ApiError> {
    let months = store.current_policy().await?.document.0.reassessment_months;
    store.reassessment_schedule(months, only).await
}

/// Fills in `next_review_on`, scheduling only these vendors.
async fn with_review_dates(
    store: &Store,
    mut vendors: Vec<Vendor>,
) -> Result<Vec<Vendor>, ApiError> {
    let ids: Vec<uuid::Uuid> = vendors.iter().map(|v| v.id).collect();
    let dates = review_dates(store, Some(&ids)).await?;
    for v in &mut vendors {
        v.next_review_on = dates.get(&v.id).copied();
    }
    Ok(vendors)
}

async fn with_review_date(store: &Store, vendor: Vendor) -> Result<Vendor, ApiError> {
    Ok(with_review_dates(store, vec![vendor]).await?.remove(0))
}

/// Vendors whose next review date has passed, most overdue first.
async fn overdue_vendors(store: &Store, page: PageRequest) -> Result<VendorPage, ApiError> {
    let today = crate::domain::now().date_naive();
    let mut overdue: Vec<(chrono::NaiveDate, uuid::Uuid)> = review_dates(store, None)
        .await?
        .into_iter()
        .filter(|(_, next)| *next < today)
        .map(|(vendor, next)| (next, vendor))
        .collect();
    overdue.sort();
    let mut items = Vec::new();
    for (next, vendor) in overdue
        .iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
    {
        if let Some(mut found) = store.get_vendor(*vendor).await? {
            found.next_review_on = Some(*next);
            items.push(found);
        }
    }
    let info = PageInfo::new(overdue.len() as i64, page, items.len());
    Ok(VendorPage { items, page: info })
}

pub struct VendorsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Registry")]
impl VendorsApi {
    /// List vendors
    ///
    /// Paginated, ordered by legal name. Staff roles.
    #[oai(path = "/vendors", method = "get", operation_id = "listVendors")]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        /// Text to find in the legal name or website.
        q: Query<Option<String>>,
        /// ISO 3166-1 alpha-2 code of the headquarters country.
        hq_country: Query<Option<String>>,
        /// `overdue`: only vendors whose annual re-assessment is late.
        reassessment: Query<Option<ReassessmentFilter>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<VendorPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let filter = VendorFilter {
            q: q.0.filter(|s| !s.trim().is_empty()),
            hq_country: hq_country.0.filter(|s| !s.trim().is_empty()),
        };
        if reassessment.0 == Some(ReassessmentFilter::Overdue) {
            return overdue_vendors(&store, page).await.map(Json);
        }
        let found = store.list_vendors(&filter, page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(VendorPage {
            items: with_review_dates(&store, found.items).await?,
            page: info,
        }))
    }

    /// Register a vendor
    ///
    /// Buyers, security analysts, the CIO office and admins. Legal names are unique (case and spacing aside).
    #[oai(path = "/vendors", method = "post", operation_id = "createVendor")]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<VendorEditor>,
        body: Json<NewVendorBody>,
    ) -> Result<VendorCreated, ApiError> {
        let new = NewVendor::parse(body.0)?;
        let created = store.create_vendor(&auth.actor(), new).await?;
        let location = format!("{}/vendors/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(VendorCreated::Created(Json(created), location, tag))
    }

    /// Read a vendor
    ///
    /// Staff read any vendor; a vendor reads only its own record (another id answers 404).
    #[oai(path = "/vendors/:id", method = "get", operation_id = "getVendor")]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<VendorResponse, ApiError> {
        if auth.role == Role::Vendor && auth.vendor != Some(id.0) {
            return Err(ApiError::not_found("vendor"));
        }
        let found = store
            .get_vendor(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("vendor"))?;
        let tag = etag(found.version);
        Ok(VendorResponse::Ok(
            Json(with_review_date(&store, found).await?),
            tag,
        ))
    }

    /// Update a vendor
    ///
    /// Buyers, security analysts, the CIO office and admins. Fields left out keep their value; `contacts`
    /// replaces the list. `If-Match` (required) names the version read: 428 without it, 412 when the vendor
    /// changed since.
    #[oai(path = "/vendors/:id", method = "patch", operation_id = "updateVendor")]
    async fn update(
        &self,
        store: Data<&Store>,
        auth: Auth<VendorEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<VendorPatchBody>,
    ) -> Result<VendorResponse, ApiError> {
        let expected = if_match.version()?;
        let updated = store
            .update_vendor(&auth.actor(), id.0, expected, body.0.into())
            .await?;
        let tag = etag(updated.version);
        Ok(VendorResponse::Ok(
            Json(with_review_date(&store, updated).await?),
            tag,
        ))
    }
}
