// The service catalogue. Included by both backends as a submodule, like requests.rs.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::catalog::{CatalogService, ServiceFields};
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, CatalogFilter, Paged, VocabularyRecord, contains_pattern, to_json, unique_as,
};

fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn conflict(fields: &ServiceFields, e: sqlx::Error) -> ApiError {
    unique_as("duplicate_service", || {
        format!("a catalogue service named {:?} exists", fields.name)
    })(e)
}

/// Inserts a service inside the caller's transaction (one entry, or one row of a bulk load).
pub(super) async fn insert_service(
    tx: &mut Tx,
    actor: &Actor,
    f: &ServiceFields,
) -> Result<CatalogService, ApiError> {
    let at = now();
    let created: CatalogService = sqlx::query_as(
        "INSERT INTO catalog_services (id, name, name_key, category, description, capabilities, aliases, owning_team, \
         status, access, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) \
         RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(&f.name)
    .bind(name_key(&f.name))
    .bind(&f.category)
    .bind(&f.description)
    .bind(Json(&f.capabilities))
    .bind(Json(&f.aliases))
    .bind(&f.owning_team)
    .bind(f.status.as_str())
    .bind(&f.access)
    .bind(at)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| conflict(f, e))?;
    audit(
        tx,
        actor,
        "catalog_service.created",
        "catalog_service",
        &created.id.to_string(),
        None,
        Some(to_json(&created)),
    )
    .await?;
    Ok(created)
}

/// Replaces a service's fields inside the caller's transaction.
pub(super) async fn replace_service(
    tx: &mut Tx,
    actor: &Actor,
    current: &CatalogService,
    f: &ServiceFields,
) -> Result<CatalogService, ApiError> {
    let updated: CatalogService = sqlx::query_as(
        "UPDATE catalog_services SET name = $2, name_key = $3, category = $4, description = $5, capabilities = $6, \
         aliases = $7, owning_team = $8, status = $9, access = $10, version = version + 1, updated_at = $11 \
         WHERE id = $1 RETURNING *",
    )
    .bind(current.id)
    .bind(&f.name)
    .bind(name_key(&f.name))
    .bind(&f.category)
    .bind(&f.description)
    .bind(Json(&f.capabilities))
    .bind(Json(&f.aliases))
    .bind(&f.owning_team)
    .bind(f.status.as_str())
    .bind(&f.access)
    .bind(now())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| conflict(f, e))?;
    audit(
        tx,
        actor,
        "catalog_service.updated",
        "catalog_service",
        &current.id.to_string(),
        Some(to_json(current)),
        Some(to_json(&updated)),
    )
    .await?;
    Ok(updated)
}

impl Repo {
    pub async fn list_services(
        &self,
        filter: &CatalogFilter,
        page: PageRequest,
    ) -> Result<Paged<CatalogService>, ApiError> {
        let q = filter.q.as_deref().map(contains_pattern);
        const WHERE: &str = "WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR lower(category) = $2) \
            AND ($3 IS NULL OR name_key LIKE $3 ESCAPE '\\' OR lower(description) LIKE $3 ESCAPE '\\' \
            OR lower(CAST(aliases AS TEXT)) LIKE $3 ESCAPE '\\' OR lower(CAST(capabilities AS TEXT)) LIKE $3 ESCAPE '\\')";
        let category = filter.category.as_deref().map(|c| c.trim().to_lowercase());
        let items: Vec<CatalogService> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM catalog_services {WHERE} ORDER BY name_key, id LIMIT $4 OFFSET $5"
        )))
        .bind(filter.status.map(|s| s.as_str()))
        .bind(category.as_deref())
        .bind(q.as_deref())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM catalog_services {WHERE}"
        )))
        .bind(filter.status.map(|s| s.as_str()))
        .bind(category.as_deref())
        .bind(q.as_deref())
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged { items, total })
    }

    pub async fn all_services(&self) -> Result<Vec<CatalogService>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM catalog_services ORDER BY name_key, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Services changed after `since` (all of them without it), for the duplicate index.
    pub async fn services_changed_since(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<CatalogService>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM catalog_services WHERE ($1 IS NULL OR updated_at > $1)")
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The duplicate index's change counter: it moves with every change to what the index reads.
    pub async fn duplicate_index_counter(&self) -> Result<i64, ApiError> {
        let (value,): (i64,) =
            sqlx::query_as("SELECT value FROM change_counters WHERE name = 'duplicate_index'")
                .fetch_one(&self.pool)
                .await?;
        Ok(value)
    }

    pub async fn get_service(&self, id: Uuid) -> Result<Option<CatalogService>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM catalog_services WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn create_service(
        &self,
        actor: &Actor,
        fields: ServiceFields,
    ) -> Result<CatalogService, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let created = insert_service(&mut tx, actor, &fields).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn update_service(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        input: crate::domain::catalog::CatalogServiceInput,
    ) -> Result<CatalogService, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: CatalogService = sqlx::query_as(concat!(
            "SELECT * FROM catalog_services WHERE id = $1",
            for_update!()
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("catalogue service"))?;
        check_version(current.version, Some(if_match))?;
        let fields = ServiceFields::parse_json(input, Some(&current))?;
        let updated = replace_service(&mut tx, actor, &current, &fields).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Loads many entries at once: all of them or none. Entries whose name matches an existing service (case
    /// and spacing aside) replace it; the others are added. Returns (created, updated).
    pub async fn load_services(
        &self,
        actor: &Actor,
        entries: Vec<ServiceFields>,
    ) -> Result<(usize, usize), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let (mut created, mut updated) = (0, 0);
        for f in &entries {
            let existing: Option<CatalogService> = sqlx::query_as(concat!(
                "SELECT * FROM catalog_services WHERE name_key = $1",
                for_update!()
            ))
            .bind(name_key(&f.name))
            .fetch_optional(&mut *tx)
            .await?;
            match existing {
                Some(current) => {
                    replace_service(&mut tx, actor, &current, f).await?;
                    updated += 1;
                }
                None => {
                    insert_service(&mut tx, actor, f).await?;
                    created += 1;
                }
            }
        }
        tx.commit().await?;
        Ok((created, updated))
    }
}

impl Repo {
    /// The CIO office's vocabulary entries, oldest first (the order they apply in).
    pub async fn vocabulary(&self) -> Result<Vec<VocabularyRecord>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM duplicate_vocabulary ORDER BY created_at, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Adds a vocabulary entry, audited in the same transaction.
    pub async fn add_vocabulary(
        &self,
        actor: &Actor,
        entry: &crate::domain::duplicates::VocabularyEntry,
    ) -> Result<VocabularyRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let created: VocabularyRecord = sqlx::query_as(
            "INSERT INTO duplicate_vocabulary (id, concept, label, phrases, abbreviation, expansion, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&entry.concept)
        .bind(&entry.label)
        .bind(Json(&entry.phrases))
        .bind(&entry.abbreviation)
        .bind(&entry.expansion)
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "duplicate_vocabulary.added",
            "duplicate_vocabulary",
            &created.id.to_string(),
            None,
            Some(to_json(&created)),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Removes a vocabulary entry, audited in the same transaction; `false` when there is none.
    pub async fn remove_vocabulary(&self, actor: &Actor, id: Uuid) -> Result<bool, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Option<VocabularyRecord> = sqlx::query_as(concat!(
            "SELECT * FROM duplicate_vocabulary WHERE id = $1",
            for_update!()
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM duplicate_vocabulary WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            "duplicate_vocabulary.removed",
            "duplicate_vocabulary",
            &id.to_string(),
            Some(to_json(&current)),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
