// The service catalogue. Included by both backends as a submodule, like requests/loaders.rs.

use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::catalog::{CatalogService, ServiceFields};
use crate::domain::duplicate_learning::AliasProposalStatus;
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    Actor, AliasProposalRecord, CatalogFilter, Paged, VocabularyRecord, contains_pattern, to_json,
    unique_as,
};

fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn conflict(fields: &ServiceFields, e: sqlx::Error) -> ApiError {
    unique_as(ProblemCode::DuplicateService, || {
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
        let current: CatalogService =
            lock(&mut tx, "SELECT * FROM catalog_services WHERE id = $1", id)
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
            let existing: Option<CatalogService> = lock(
                &mut tx,
                "SELECT * FROM catalog_services WHERE name_key = $1",
                name_key(&f.name),
            )
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
        commit_audited(
            tx,
            actor,
            "duplicate_vocabulary.added",
            "duplicate_vocabulary",
            &created.id.to_string(),
            None,
            Some(to_json(&created)),
        )
        .await?;
        Ok(created)
    }

    /// Removes a vocabulary entry, audited in the same transaction; `false` when there is none.
    pub async fn remove_vocabulary(&self, actor: &Actor, id: Uuid) -> Result<bool, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Option<VocabularyRecord> = lock(
            &mut tx,
            "SELECT * FROM duplicate_vocabulary WHERE id = $1",
            id,
        )
        .await?;
        let Some(current) = current else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM duplicate_vocabulary WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        commit_audited(
            tx,
            actor,
            "duplicate_vocabulary.removed",
            "duplicate_vocabulary",
            &id.to_string(),
            Some(to_json(&current)),
            None,
        )
        .await?;
        Ok(true)
    }
}

const PROPOSAL_SELECT: &str = "SELECT p.*, c.name AS service_name FROM alias_proposals p JOIN catalog_services c ON c.id = p.service_id";

/// An alias proposal with its service's name.
async fn proposal_on(
    conn: &mut <Db as sqlx::Database>::Connection,
    id: Uuid,
) -> Result<Option<AliasProposalRecord>, ApiError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PROPOSAL_SELECT} WHERE p.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A proposal written or locked in this transaction that cannot be read back.
fn gone(id: Uuid) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "alias proposal {id} vanished in its transaction"
    ))
}

/// Inside a denial's transaction: proposes the request's product name as an alias of the service the CIO
/// named, unless the service already answers to it or the same alias already waits for a decision.
pub(super) async fn propose_alias(
    tx: &mut Tx,
    actor: &Actor,
    lex: &crate::domain::duplicates::Lexicon,
    service_id: Uuid,
    product_name: &str,
    request_id: Uuid,
    submission: i32,
) -> Result<Option<AliasProposalRecord>, ApiError> {
    let service: Option<CatalogService> =
        sqlx::query_as("SELECT * FROM catalog_services WHERE id = $1")
            .bind(service_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(service) = service else {
        return Ok(None);
    };
    let Some(alias) = crate::domain::duplicate_learning::proposed_alias(
        lex,
        product_name,
        &service.name,
        &service.aliases,
    ) else {
        return Ok(None);
    };
    let key = lex.glued_name(&alias);
    let (open,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM alias_proposals WHERE service_id = $1 AND alias_key = $2 AND status = 'proposed'",
    )
    .bind(service_id)
    .bind(&key)
    .fetch_one(&mut **tx)
    .await?;
    if open > 0 {
        return Ok(None);
    }
    let at = now();
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO alias_proposals (id, service_id, alias, alias_key, request_id, submission, proposed_by, \
         proposed_at, status, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'proposed', 1, $8)",
    )
    .bind(id)
    .bind(service_id)
    .bind(&alias)
    .bind(&key)
    .bind(request_id)
    .bind(submission)
    .bind(&actor.subject)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    let created = proposal_on(tx, id).await?.ok_or_else(|| gone(id))?;
    audit(
        tx,
        actor,
        "alias_proposal.created",
        "alias_proposal",
        &id.to_string(),
        None,
        Some(to_json(&created)),
    )
    .await?;
    Ok(Some(created))
}

impl Repo {
    pub async fn list_alias_proposals(
        &self,
        status: Option<AliasProposalStatus>,
        service_id: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Paged<AliasProposalRecord>, ApiError> {
        const WHERE: &str =
            "WHERE ($1 IS NULL OR p.status = $1) AND ($2 IS NULL OR p.service_id = $2)";
        let items: Vec<AliasProposalRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PROPOSAL_SELECT} {WHERE} ORDER BY p.proposed_at, p.id LIMIT $3 OFFSET $4"
        )))
        .bind(status)
        .bind(service_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM alias_proposals p {WHERE}"
        )))
        .bind(status)
        .bind(service_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Paged { items, total })
    }

    pub async fn get_alias_proposal(
        &self,
        id: Uuid,
    ) -> Result<Option<AliasProposalRecord>, ApiError> {
        let mut conn = self.pool.acquire().await?;
        proposal_on(&mut conn, id).await
    }

    /// The CIO office accepts a proposed alias (it is added to the service, as an edit of its aliases would
    /// add it, so the duplicate index picks it up) or rejects it with a reason; both audited with the change.
    pub async fn decide_alias_proposal(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        reason: Option<&str>,
    ) -> Result<AliasProposalRecord, ApiError> {
        let accept = reason.is_none();
        let mut tx = begin(&self.writer).await?;
        let locked: Option<(Uuid,)> =
            lock(&mut tx, "SELECT id FROM alias_proposals WHERE id = $1", id).await?;
        if locked.is_none() {
            return Err(ApiError::not_found("alias proposal"));
        }
        let current = proposal_on(&mut tx, id).await?.ok_or_else(|| gone(id))?;
        check_version(current.version, Some(if_match))?;
        crate::workflow::duplicates::decide_alias_proposal(current.status)?;
        if accept {
            let service: CatalogService = lock(
                &mut tx,
                "SELECT * FROM catalog_services WHERE id = $1",
                current.service_id,
            )
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
            let known = service
                .aliases
                .iter()
                .any(|a| name_key(a) == name_key(&current.alias));
            if !known {
                let mut aliases = service.aliases.clone();
                aliases.push(current.alias.clone());
                let input = crate::domain::catalog::CatalogServiceInput {
                    aliases: Some(aliases),
                    ..Default::default()
                };
                let fields = ServiceFields::parse_json(input, Some(&service))?;
                replace_service(&mut tx, actor, &service, &fields).await?;
            }
        }
        sqlx::query(
            "UPDATE alias_proposals SET status = $2, decided_by = $3, decided_at = $4, decision_reason = $5, \
             version = version + 1, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(if accept {
            AliasProposalStatus::Accepted
        } else {
            AliasProposalStatus::Rejected
        })
        .bind(&actor.subject)
        .bind(now())
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        let updated = proposal_on(&mut tx, id).await?.ok_or_else(|| gone(id))?;
        commit_audited(
            tx,
            actor,
            if accept {
                "alias_proposal.accepted"
            } else {
                "alias_proposal.rejected"
            },
            "alias_proposal",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        Ok(updated)
    }
}
