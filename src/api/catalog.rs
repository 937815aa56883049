use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::workbooks::{
    IMPORT_TIME_LIMIT, ImportError, ImportSlots, parse_off_thread, upload_limits,
};
use super::{IfMatch, PageInfo, SpreadsheetUpload, blocking, etag};
use crate::auth::{AnyRole, Auth, Permission, Role};
use crate::config::Config;
use crate::domain::PageRequest;
use crate::domain::catalog::{CatalogService, CatalogServiceInput, ServiceFields, ServiceStatus};
use crate::error::ApiError;
use crate::sheets;
use crate::store::{CatalogFilter, Store};

/// The CIO office and admins maintain the catalogue.
pub struct CatalogEditor;
impl Permission for CatalogEditor {
    const ROLES: &'static [Role] = &[Role::Cio, Role::Admin];
}

#[derive(Debug, Object)]
pub struct CatalogPage {
    pub items: Vec<CatalogService>,
    pub page: PageInfo,
}

#[derive(Debug, Object)]
pub struct ImportSummary {
    /// Services added.
    pub created: usize,
    /// Existing services (same name, case and spacing aside) replaced by their row.
    pub updated: usize,
}

#[derive(ApiResponse)]
pub enum ServiceCreated {
    #[oai(status = 201)]
    Created(
        Json<CatalogService>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ServiceResponse {
    #[oai(status = 200)]
    Ok(Json<CatalogService>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum XlsxFile {
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Ok(
        /// A workbook in memory, or a large register streamed from the temporary file it was written to.
        Binary<poem::Body>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(ApiResponse)]
pub enum CsvFile {
    #[oai(status = 200, content_type = "text/csv")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

pub struct CatalogApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalog")]
impl CatalogApi {
    /// List catalogue services
    ///
    /// Every signed-in role. Searchable by name, description, aliases and capabilities.
    #[oai(
        path = "/catalog/services",
        method = "get",
        operation_id = "listCatalogServices"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<AnyRole>,
        status: Query<Option<ServiceStatus>>,
        category: Query<Option<String>>,
        /// Text to find in name, description, aliases or capabilities.
        q: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<CatalogPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let filter = CatalogFilter {
            status: status.0,
            category: category.0.filter(|s| !s.trim().is_empty()),
            q: q.0.filter(|s| !s.trim().is_empty()),
        };
        let found = store.list_services(&filter, page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(CatalogPage {
            items: found.items,
            page: info,
        }))
    }

    /// Add a catalogue service
    ///
    /// The CIO office and admins.
    #[oai(
        path = "/catalog/services",
        method = "post",
        operation_id = "createCatalogService"
    )]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<CatalogEditor>,
        body: Json<CatalogServiceInput>,
    ) -> Result<ServiceCreated, ApiError> {
        let fields = ServiceFields::parse_json(body.0, None)?;
        let created = store.create_service(&auth.actor(), fields).await?;
        let location = format!("{}/catalog/services/{}", super::PREFIX, created.id);
        let tag = etag(created.version);
        Ok(ServiceCreated::Created(Json(created), location, tag))
    }

    /// Export the catalogue as xlsx
    ///
    /// One row per service, in the layout the import reads. Every signed-in role.
    #[oai(
        path = "/catalog/services/export.xlsx",
        method = "get",
        operation_id = "exportCatalogXlsx"
    )]
    async fn export_xlsx(
        &self,
        store: Data<&Store>,
        _auth: Auth<AnyRole>,
    ) -> Result<XlsxFile, ApiError> {
        let services = store.all_services().await?;
        let bytes = blocking(move || sheets::catalog::export_xlsx(&services)).await?;
        Ok(XlsxFile::Ok(
            Binary(bytes.into()),
            "attachment; filename=\"catalog.xlsx\"".into(),
        ))
    }

    /// Export the catalogue as CSV
    #[oai(
        path = "/catalog/services/export.csv",
        method = "get",
        operation_id = "exportCatalogCsv"
    )]
    async fn export_csv(
        &self,
        store: Data<&Store>,
        _auth: Auth<AnyRole>,
    ) -> Result<CsvFile, ApiError> {
        let services = store.all_services().await?;
        let bytes = sheets::catalog::export_csv(&services)?;
        Ok(CsvFile::Ok(
            Binary(bytes),
            "attachment; filename=\"catalog.csv\"".into(),
        ))
    }

    /// Load the catalogue from a spreadsheet or CSV
    ///
    /// The CIO office and admins. Columns: Name (required), Category, Description, Capabilities and Aliases
    /// (entries separated by `;` or line breaks), Owning team, Status, Access. Rows whose name matches an
    /// existing service replace it; others are added. The whole file is checked first: any problem answers 422
    /// naming every cell at fault, and nothing is stored.
    #[oai(
        path = "/catalog/services/import",
        method = "post",
        operation_id = "importCatalog"
    )]
    async fn import(
        &self,
        store: Data<&Store>,
        config: Data<&Arc<Config>>,
        slots: Data<&ImportSlots>,
        auth: Auth<CatalogEditor>,
        body: SpreadsheetUpload,
    ) -> Result<Json<ImportSummary>, ImportError> {
        let bytes = body.into_bytes();
        let limits = upload_limits(&config);
        let entries = parse_off_thread(&slots, IMPORT_TIME_LIMIT, move || {
            sheets::catalog::import(&bytes, &limits)
        })
        .await?;
        let (created, updated) = store.load_services(&auth.actor(), entries).await?;
        Ok(Json(ImportSummary { created, updated }))
    }

    /// Read a catalogue service
    #[oai(
        path = "/catalog/services/:id",
        method = "get",
        operation_id = "getCatalogService"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        _auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<ServiceResponse, ApiError> {
        let found = store
            .get_service(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("catalogue service"))?;
        let tag = etag(found.version);
        Ok(ServiceResponse::Ok(Json(found), tag))
    }

    /// Update a catalogue service
    ///
    /// The CIO office and admins. Fields left out keep their value; lists replace the old ones. Retiring a
    /// service (`status: retired`) takes it out of duplicate matching. `If-Match` (required) names the version
    /// read: 428 without it, 412 when the service changed since.
    #[oai(
        path = "/catalog/services/:id",
        method = "patch",
        operation_id = "updateCatalogService"
    )]
    async fn update(
        &self,
        store: Data<&Store>,
        auth: Auth<CatalogEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<CatalogServiceInput>,
    ) -> Result<ServiceResponse, ApiError> {
        let expected = if_match.version()?;
        let updated = store
            .update_service(&auth.actor(), id.0, expected, body.0)
            .await?;
        let tag = etag(updated.version);
        Ok(ServiceResponse::Ok(Json(updated), tag))
    }
}
