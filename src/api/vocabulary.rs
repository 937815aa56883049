//! The duplicate check's vocabulary that the CIO office owns: entries added to the shipped lexicon
//! (`src/domain/duplicates_lexicon.toml`), taking effect at once on every instance.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::catalog::CatalogEditor;
use super::me::ApiTags;
use crate::auth::{Auth, Staff};
use crate::detection::Detector;
use crate::domain::duplicates::{self as dup, VocabularyEntry};
use crate::error::{ApiError, FieldError};
use crate::store::{Store, VocabularyRecord};

/// Most phrases one entry may add.
pub const MAX_PHRASES: usize = 50;
/// Most entries the CIO office may add in all.
pub const MAX_ENTRIES: usize = 2_000;

/// One vocabulary entry: phrases for a concept, or an abbreviation.
#[derive(Debug, Object)]
pub struct VocabularyView {
    pub id: Uuid,
    /// The concept the phrases belong to (empty for an abbreviation).
    pub concept: String,
    pub label: String,
    pub phrases: Vec<String>,
    /// The word expanded (empty for a concept entry).
    pub abbreviation: String,
    pub expansion: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<VocabularyRecord> for VocabularyView {
    fn from(r: VocabularyRecord) -> Self {
        VocabularyView {
            id: r.id,
            concept: r.concept,
            label: r.label,
            phrases: r.phrases,
            abbreviation: r.abbreviation,
            expansion: r.expansion,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// A concept of the lexicon, with its phrases (the shipped ones and those added).
#[derive(Debug, Object)]
pub struct ConceptView {
    pub id: String,
    pub label: String,
    pub phrases: Vec<String>,
}

#[derive(Debug, Object)]
pub struct VocabularyList {
    /// What the CIO office added, oldest first.
    pub entries: Vec<VocabularyView>,
    /// Every concept the check knows now: the shipped lexicon with the entries applied.
    pub concepts: Vec<ConceptView>,
}

/// A vocabulary entry as sent: either `concept` with `phrases` (and `label` for a new concept), or
/// `abbreviation` with `expansion`.
#[derive(Debug, Object)]
pub struct VocabularyInput {
    /// Id of an existing concept (its phrases are extended) or of a new one, e.g. `hydrant_flushing`.
    pub concept: Option<String>,
    /// Shown in evidence; required for a new concept.
    pub label: Option<String>,
    /// Phrases that mean the concept; a phrase starting with `~` counts half.
    pub phrases: Option<Vec<String>>,
    /// One word people write for `expansion`, e.g. `ms` for `microsoft`.
    pub abbreviation: Option<String>,
    pub expansion: Option<String>,
}

#[derive(ApiResponse)]
pub enum VocabularyCreated {
    #[oai(status = 201)]
    Created(Json<VocabularyView>),
}

#[derive(ApiResponse)]
pub enum VocabularyDeleted {
    /// Removed; the audit trail keeps what it was.
    #[oai(status = 204)]
    NoContent,
}

fn trimmed(value: &Option<String>) -> String {
    value.as_deref().unwrap_or_default().trim().to_string()
}

/// Checks an entry against the lexicon as it stands (`current`: the entries already added).
pub fn check_entry(
    input: &VocabularyInput,
    current: &[VocabularyEntry],
) -> Result<VocabularyEntry, ApiError> {
    let mut errors = Vec::new();
    for (field, value, max) in [
        ("concept", &input.concept, 60),
        ("label", &input.label, 200),
        ("abbreviation", &input.abbreviation, 60),
        ("expansion", &input.expansion, 200),
    ] {
        if value.as_deref().unwrap_or_default().chars().count() > max {
            errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
    let concept = trimmed(&input.concept);
    let label = trimmed(&input.label);
    let abbreviation = trimmed(&input.abbreviation).to_lowercase();
    let expansion = trimmed(&input.expansion);
    let phrases: Vec<String> = input
        .phrases
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.trim().to_string())
        .collect();
    if !abbreviation.is_empty() || !expansion.is_empty() {
        if !concept.is_empty() || !phrases.is_empty() || !label.is_empty() {
            errors.push(FieldError::new(
                "abbreviation",
                "an entry is either an abbreviation or a concept's phrases, not both",
            ));
        }
        if !abbreviation.chars().all(|c| c.is_alphanumeric()) || abbreviation.is_empty() {
            errors.push(FieldError::new(
                "abbreviation",
                "must be one word of letters and digits",
            ));
        }
        if expansion.is_empty() {
            errors.push(FieldError::new("expansion", "is required"));
        }
    } else {
        let known = dup::Lexicon::build(dup::DEFAULT_LEXICON, current)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("vocabulary: {e}")))?;
        let exists = known.concepts().iter().any(|c| c.id == concept);
        if concept.is_empty()
            || concept.len() > 60
            || !concept
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            errors.push(FieldError::new(
                "concept",
                "is required: 1 to 60 lower-case letters, digits and `_`",
            ));
        } else if !exists && label.is_empty() {
            errors.push(FieldError::new(
                "label",
                format!("is required for a new concept ({concept:?} is not in the lexicon)"),
            ));
        }
        if phrases.is_empty() || phrases.len() > MAX_PHRASES {
            errors.push(FieldError::new(
                "phrases",
                format!("give 1 to {MAX_PHRASES} phrases"),
            ));
        }
        let sent = input.phrases.as_deref().unwrap_or_default();
        for (i, phrase) in phrases.iter().enumerate() {
            let words = phrase.trim_start_matches('~');
            if sent[i].chars().count() > 120 || !words.chars().any(|c| c.is_alphanumeric()) {
                errors.push(FieldError::new(
                    format!("phrases[{i}]"),
                    "must hold a word and at most 120 characters",
                ));
            }
        }
    }
    if current.len() >= MAX_ENTRIES {
        errors.push(FieldError::new(
            "concept",
            format!("at most {MAX_ENTRIES} entries: remove some first"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let entry = VocabularyEntry {
        concept,
        label,
        phrases,
        abbreviation,
        expansion,
    };
    let mut all = current.to_vec();
    all.push(entry.clone());
    dup::Lexicon::build(dup::DEFAULT_LEXICON, &all).map_err(|e| ApiError::field("concept", e))?;
    Ok(entry)
}

pub struct VocabularyApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalog")]
impl VocabularyApi {
    /// Duplicate-check vocabulary
    ///
    /// What the CIO office added to the shipped lexicon, and every concept the duplicate check knows now.
    /// Every staff role.
    #[oai(
        path = "/duplicates/vocabulary",
        method = "get",
        operation_id = "listDuplicateVocabulary"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
    ) -> Result<Json<VocabularyList>, ApiError> {
        let records = store.vocabulary().await?;
        let entries: Vec<VocabularyEntry> = records.iter().map(|r| r.entry()).collect();
        let lexicon = crate::detection::lexicon_with(&entries)?;
        Ok(Json(VocabularyList {
            entries: records.into_iter().map(VocabularyView::from).collect(),
            concepts: lexicon
                .concepts()
                .iter()
                .map(|c| ConceptView {
                    id: c.id.clone(),
                    label: c.label.clone(),
                    phrases: c.phrases.clone(),
                })
                .collect(),
        }))
    }

    /// Add to the vocabulary
    ///
    /// The CIO office and admins: phrases for a concept (an existing one, or a new one with its label), or an
    /// abbreviation. Takes effect at once on every instance (each rebuilds its index before its next check).
    #[oai(
        path = "/duplicates/vocabulary",
        method = "post",
        operation_id = "addDuplicateVocabulary"
    )]
    async fn add(
        &self,
        store: Data<&Store>,
        detector: Data<&Arc<Detector>>,
        auth: Auth<CatalogEditor>,
        body: Json<VocabularyInput>,
    ) -> Result<VocabularyCreated, ApiError> {
        let current: Vec<VocabularyEntry> = store
            .vocabulary()
            .await?
            .iter()
            .map(|r| r.entry())
            .collect();
        let entry = check_entry(&body, &current)?;
        let created = store.add_vocabulary(&auth.actor(), &entry).await?;
        detector.refresh(&store).await?;
        Ok(VocabularyCreated::Created(Json(created.into())))
    }

    /// Remove a vocabulary entry
    ///
    /// The CIO office and admins. Audited with what it was.
    #[oai(
        path = "/duplicates/vocabulary/:id",
        method = "delete",
        operation_id = "removeDuplicateVocabulary"
    )]
    async fn remove(
        &self,
        store: Data<&Store>,
        detector: Data<&Arc<Detector>>,
        auth: Auth<CatalogEditor>,
        id: Path<Uuid>,
    ) -> Result<VocabularyDeleted, ApiError> {
        if !store.remove_vocabulary(&auth.actor(), id.0).await? {
            return Err(ApiError::not_found("vocabulary entry"));
        }
        detector.refresh(&store).await?;
        Ok(VocabularyDeleted::NoContent)
    }
}
