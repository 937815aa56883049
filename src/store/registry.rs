// The registry: departments and vendors, listed, read, created and edited. Included by both backends as a
// submodule, like requests/loaders.rs; `audit`, `lock`, `check_version` and `commit_audited` come from common.rs.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::registry::{
    Department, DepartmentPatchBody, NewDepartment, NewVendor, Vendor, VendorPatch,
};
use crate::domain::{PageRequest, now};
use crate::error::{ApiError, ProblemCode};
use crate::store::{
    Actor, DepartmentFilter, Paged, VendorFilter, contains_pattern, to_json, unique_as,
};

impl Repo {
    pub async fn list_departments(
        &self,
        filter: &DepartmentFilter,
        page: PageRequest,
    ) -> Result<Paged<Department>, ApiError> {
        let q = filter.q.as_deref().map(contains_pattern);
        let items: Vec<Department> = sqlx::query_as(
            "SELECT * FROM departments WHERE ($1 IS NULL OR surveillance_ordinance = $1) \
             AND ($2 IS NULL OR lower(code) LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\') \
             ORDER BY code LIMIT $3 OFFSET $4",
        )
        .bind(filter.surveillance_ordinance)
        .bind(q.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM departments WHERE ($1 IS NULL OR surveillance_ordinance = $1) \
             AND ($2 IS NULL OR lower(code) LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\')",
        )
        .bind(filter.surveillance_ordinance)
        .bind(q.as_deref())
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_department(&self, id: Uuid) -> Result<Option<Department>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM departments WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn create_department(
        &self,
        actor: &Actor,
        new: NewDepartment,
    ) -> Result<Department, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let created: Department = sqlx::query_as(
            "INSERT INTO departments (id, code, name, surveillance_ordinance, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&new.code)
        .bind(&new.name)
        .bind(new.surveillance_ordinance)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as(ProblemCode::DuplicateDepartment, || format!("a department with code {} exists", new.code)))?;
        let id = created.id.to_string();
        commit_audited(
            tx,
            actor,
            "department.created",
            "department",
            &id,
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    pub async fn update_department(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: DepartmentPatchBody,
    ) -> Result<Department, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Department = lock(&mut tx, "SELECT * FROM departments WHERE id = $1", id)
            .await?
            .ok_or_else(|| ApiError::not_found("department"))?;
        check_version(current.version, Some(if_match))?;
        let next = NewDepartment::patched(&current, patch)?;
        let updated: Department = sqlx::query_as(
            "UPDATE departments SET name = $2, surveillance_ordinance = $3, version = version + 1, updated_at = $4 \
             WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&next.name)
        .bind(next.surveillance_ordinance)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        commit_audited(
            tx,
            actor,
            "department.updated",
            "department",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        Ok(updated)
    }

    pub async fn list_vendors(
        &self,
        filter: &VendorFilter,
        page: PageRequest,
    ) -> Result<Paged<Vendor>, ApiError> {
        let q = filter.q.as_deref().map(contains_pattern);
        let country = filter.hq_country.as_deref().map(str::to_ascii_uppercase);
        let items: Vec<Vendor> = sqlx::query_as(
            "SELECT * FROM vendors WHERE ($1 IS NULL OR legal_name_key LIKE $1 ESCAPE '\\' \
             OR lower(coalesce(website, '')) LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR hq_country = $2) \
             ORDER BY legal_name_key, id LIMIT $3 OFFSET $4",
        )
        .bind(q.as_deref())
        .bind(country.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM vendors WHERE ($1 IS NULL OR legal_name_key LIKE $1 ESCAPE '\\' \
             OR lower(coalesce(website, '')) LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR hq_country = $2)",
        )
        .bind(q.as_deref())
        .bind(country.as_deref())
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_vendor(&self, id: Uuid) -> Result<Option<Vendor>, ApiError> {
        Ok(sqlx::query_as("SELECT * FROM vendors WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    fn vendor_conflict(new: &NewVendor, e: sqlx::Error) -> ApiError {
        unique_as(ProblemCode::DuplicateVendor, || {
            format!("a vendor named {:?} is already registered", new.legal_name)
        })(e)
    }

    pub async fn create_vendor(&self, actor: &Actor, new: NewVendor) -> Result<Vendor, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let created: Vendor = sqlx::query_as(
            "INSERT INTO vendors (id, legal_name, legal_name_key, website, hq_country, contacts, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&new.legal_name)
        .bind(new.name_key())
        .bind(new.website.as_deref())
        .bind(&new.hq_country)
        .bind(Json(&new.contacts))
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Self::vendor_conflict(&new, e))?;
        let id = created.id.to_string();
        commit_audited(
            tx,
            actor,
            "vendor.created",
            "vendor",
            &id,
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    pub async fn update_vendor(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: VendorPatch,
    ) -> Result<Vendor, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Vendor = lock(&mut tx, "SELECT * FROM vendors WHERE id = $1", id)
            .await?
            .ok_or_else(|| ApiError::not_found("vendor"))?;
        check_version(current.version, Some(if_match))?;
        let next = NewVendor::patched(&current, patch)?;
        let updated: Vendor = sqlx::query_as(
            "UPDATE vendors SET legal_name = $2, legal_name_key = $3, website = $4, hq_country = $5, contacts = $6, \
             version = version + 1, updated_at = $7 WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(&next.legal_name)
        .bind(next.name_key())
        .bind(next.website.as_deref())
        .bind(&next.hq_country)
        .bind(Json(&next.contacts))
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Self::vendor_conflict(&next, e))?;
        commit_audited(
            tx,
            actor,
            "vendor.updated",
            "vendor",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        Ok(updated)
    }
}
