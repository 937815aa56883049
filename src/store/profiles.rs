// Saved import profiles. Included by both backends as a submodule, like catalog.rs.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::crosswalk::Mapping;
use crate::domain::now;
use crate::error::ApiError;
use crate::store::{Actor, ImportProfileRecord, to_json, unique_as};

/// Names compare without regard to case or runs of spaces.
pub(crate) fn profile_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn duplicate(name: &str) -> impl FnOnce(sqlx::Error) -> ApiError + '_ {
    unique_as(ProblemCode::DuplicateProfile, move || {
        format!("an import profile named {name:?} exists")
    })
}

impl Repo {
    pub async fn list_profiles(&self) -> Result<Vec<ImportProfileRecord>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM import_profiles ORDER BY name_key")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn get_profile(&self, name: &str) -> Result<Option<ImportProfileRecord>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM import_profiles WHERE name_key = $1")
                .bind(profile_key(name))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn create_profile(
        &self,
        actor: &Actor,
        name: &str,
        mapping: &Mapping,
    ) -> Result<ImportProfileRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let at = now();
        let created: ImportProfileRecord = sqlx::query_as(
            "INSERT INTO import_profiles (id, name, name_key, mapping, version, created_by, created_at, updated_by, \
             updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $5, $6) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(name)
        .bind(profile_key(name))
        .bind(Json(mapping))
        .bind(&actor.subject)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate(name))?;
        commit_audited(
            tx,
            actor,
            "import_profile.created",
            "import_profile",
            &created.id.to_string(),
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    /// Replaces a profile's name and mapping; `if_match` is the version the caller read.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        current_name: &str,
        if_match: i64,
        name: &str,
        mapping: &Mapping,
    ) -> Result<ImportProfileRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: ImportProfileRecord = lock(
            &mut tx,
            "SELECT * FROM import_profiles WHERE name_key = $1",
            profile_key(current_name),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("import profile"))?;
        check_version(current.version, Some(if_match))?;
        let updated: ImportProfileRecord = sqlx::query_as(
            "UPDATE import_profiles SET name = $2, name_key = $3, mapping = $4, version = version + 1, updated_by = $5, \
             updated_at = $6 WHERE id = $1 RETURNING *",
        )
        .bind(current.id)
        .bind(name)
        .bind(profile_key(name))
        .bind(Json(mapping))
        .bind(&actor.subject)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate(name))?;
        commit_audited(
            tx,
            actor,
            "import_profile.updated",
            "import_profile",
            &current.id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        Ok(updated)
    }

    pub async fn delete_profile(
        &self,
        actor: &Actor,
        name: &str,
        if_match: i64,
    ) -> Result<(), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: ImportProfileRecord = lock(
            &mut tx,
            "SELECT * FROM import_profiles WHERE name_key = $1",
            profile_key(name),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("import profile"))?;
        check_version(current.version, Some(if_match))?;
        sqlx::query("DELETE FROM import_profiles WHERE id = $1")
            .bind(current.id)
            .execute(&mut *tx)
            .await?;
        commit_audited(
            tx,
            actor,
            "import_profile.deleted",
            "import_profile",
            &current.id.to_string(),
            Some(to_json(&current)),
            None,
        )
        .await?;
        Ok(())
    }
}
