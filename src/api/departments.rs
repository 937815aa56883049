use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Admin, Auth, Staff};
use crate::domain::PageRequest;
use crate::domain::registry::{Department, DepartmentPatchBody, NewDepartment, NewDepartmentBody};
use crate::error::ApiError;
use crate::store::{DepartmentFilter, Store};

#[derive(Debug, Object)]
pub struct DepartmentPage {
    pub items: Vec<Department>,
    pub page: PageInfo,
}

#[derive(ApiResponse)]
pub enum DepartmentCreated {
    /// The department was created.
    #[oai(status = 201)]
    Created(
        Json<Department>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum DepartmentResponse {
    #[oai(status = 200)]
    Ok(Json<Department>, #[oai(header = "ETag")] String),
}

pub struct DepartmentsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Registry")]
impl DepartmentsApi {
    /// List departments
    ///
    /// Paginated, ordered by code. Staff roles.
    #[oai(
        path = "/departments",
        method = "get",
        operation_id = "listDepartments"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        /// Only departments the surveillance ordinance does (true) or does not (false) cover.
        surveillance_ordinance: Query<Option<bool>>,
        /// Text to find in the code or name.
        q: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<DepartmentPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let filter = DepartmentFilter {
            surveillance_ordinance: surveillance_ordinance.0,
            q: q.0.filter(|s| !s.trim().is_empty()),
        };
        let found = store.list_departments(&filter, page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(DepartmentPage {
            items: found.items,
            page: info,
        }))
    }

    /// Create a department
    ///
    /// Admin only.
    #[oai(
        path = "/departments",
        method = "post",
        operation_id = "createDepartment"
    )]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<Admin>,
        body: Json<NewDepartmentBody>,
    ) -> Result<DepartmentCreated, ApiError> {
        let new = NewDepartment::parse(body.0)?;
        let created = store.create_department(&auth.actor(), new).await?;
        let location = format!("{}/departments/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(DepartmentCreated::Created(Json(created), location, tag))
    }

    /// Read a department
    #[oai(
        path = "/departments/:id",
        method = "get",
        operation_id = "getDepartment"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<DepartmentResponse, ApiError> {
        let found = store
            .get_department(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("department"))?;
        let tag = etag(found.version);
        Ok(DepartmentResponse::Ok(Json(found), tag))
    }

    /// Update a department
    ///
    /// Admin only. The code cannot change (tokens name departments by it). `If-Match` (required) names the
    /// version read: 428 without it, 412 when the department changed since.
    #[oai(
        path = "/departments/:id",
        method = "patch",
        operation_id = "updateDepartment"
    )]
    async fn update(
        &self,
        store: Data<&Store>,
        auth: Auth<Admin>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<DepartmentPatchBody>,
    ) -> Result<DepartmentResponse, ApiError> {
        let expected = if_match.version()?;
        let updated = store
            .update_department(&auth.actor(), id.0, expected, body.0)
            .await?;
        let tag = etag(updated.version);
        Ok(DepartmentResponse::Ok(Json(updated), tag))
    }
}
