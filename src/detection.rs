//! The live duplicate index: built from the database at start, and brought up to date before every check
//! from the rows changed since its last look, so that every instance sees catalogue and purchase changes
//! made by any instance.

use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};

use crate::domain::catalog::{CatalogService, ServiceStatus};
use crate::domain::duplicates::{
    self as dup, Candidate, CatalogEntry, DuplicateIndex, PastPurchase, RequestText,
};
use crate::domain::requests::RequestFields;
use crate::error::ApiError;
use crate::store::{PurchaseRecord, Store};

/// Rows written by another instance with a slightly slower clock could carry an `updated_at` just before our
/// last look; looking back this far again costs a few idempotent upserts.
const CLOCK_SLACK_SECONDS: i64 = 5;

/// Approved purchases read at a time when the index is built (by default).
const BUILD_PAGE: i64 = 1_000;

pub const MAX_CANDIDATES: usize = 10;

#[derive(Default)]
struct State {
    index: DuplicateIndex,
    synced_to: Option<DateTime<Utc>>,
    /// The CIO office's vocabulary entries the index was built with.
    vocabulary: Vec<dup::VocabularyEntry>,
    /// Requests applied whose last change lies inside the look-back window, with that change's time: read
    /// again by the next catch-up's window, they are not fetched again unless they changed since.
    applied: std::collections::HashMap<uuid::Uuid, DateTime<Utc>>,
    /// The store's change counter when the index last caught up: while it reads the same, nothing the index
    /// reads has changed and the catch-up is skipped.
    counter: Option<i64>,
}

pub struct Detector {
    state: RwLock<State>,
    /// Approved purchases read at a time when the index is built.
    build_page: i64,
}

impl Default for Detector {
    fn default() -> Self {
        Detector {
            state: RwLock::default(),
            build_page: BUILD_PAGE,
        }
    }
}

fn entry(s: &CatalogService) -> CatalogEntry {
    CatalogEntry {
        id: s.id.to_string(),
        name: s.name.clone(),
        category: s.category.clone(),
        description: s.description.clone(),
        capabilities: s.capabilities.clone(),
        aliases: s.aliases.clone(),
        status: match s.status {
            ServiceStatus::Active => dup::ServiceStatus::Active,
            ServiceStatus::Retiring => dup::ServiceStatus::Retiring,
            ServiceStatus::Retired => dup::ServiceStatus::Retired,
        },
    }
}

fn purchase(p: &PurchaseRecord) -> PastPurchase {
    let f = &p.fields.0;
    PastPurchase {
        id: p.id.to_string(),
        department: p.department_code.clone(),
        vendor_id: f.vendor_id.to_string(),
        vendor_name: p.vendor_name.clone(),
        product_name: f.product_name.clone(),
        category: f.category.clone(),
        capabilities: f.capabilities.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
    }
}

fn apply(index: &mut DuplicateIndex, services: &[CatalogService], purchases: &[PurchaseRecord]) {
    for s in services {
        index.upsert_service(entry(s));
    }
    for p in purchases {
        // Approved purchases are what other departments already bought; anything else leaves the index.
        if p.status.is_approved() {
            index.upsert_purchase(purchase(p));
        } else {
            index.remove_purchase(&p.id.to_string());
        }
    }
}

/// The shipped lexicon with the CIO office's entries; the default alone when there are none.
pub fn lexicon_with(
    vocabulary: &[dup::VocabularyEntry],
) -> Result<std::sync::Arc<dup::Lexicon>, ApiError> {
    if vocabulary.is_empty() {
        return Ok(dup::default_lexicon());
    }
    dup::Lexicon::build(dup::DEFAULT_LEXICON, vocabulary)
        .map(std::sync::Arc::new)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("vocabulary: {e}")))
}

/// What the index is asked about a request.
pub fn request_text(fields: &RequestFields, department: &str, vendor_name: &str) -> RequestText {
    RequestText {
        title: fields.title.clone(),
        description: fields.description.clone(),
        product_name: fields.product_name.clone(),
        vendor_id: fields.vendor_id.to_string(),
        vendor_name: vendor_name.to_string(),
        category: fields.category.clone(),
        capabilities: fields.capabilities.clone(),
        department: department.to_string(),
    }
}

impl Detector {
    /// Builds the index from the database.
    pub async fn load(store: &Store) -> Result<Detector, ApiError> {
        Detector::load_paged(store, BUILD_PAGE).await
    }

    /// As [`Detector::load`], reading the approved purchases `page` at a time (the tests build in small pages).
    pub async fn load_paged(store: &Store, page: i64) -> Result<Detector, ApiError> {
        let detector = Detector {
            build_page: page.max(1),
            ..Detector::default()
        };
        detector.refresh(store).await?;
        Ok(detector)
    }

    /// Applies the vocabulary, catalogue and purchase changes made since the last look, unless the store's change
    /// counter says nothing changed (one indexed read). A vocabulary change (from any instance) rebuilds the
    /// index with the new lexicon: every document is read again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn refresh(&self, store: &Store) -> Result<(), ApiError> {
        // Read before catching up: a change committed during the catch-up moves the counter past this value,
        // so the next check catches up again.
        let counter = store.duplicate_index_counter().await?;
        if self.state.read().unwrap_or_else(|e| e.into_inner()).counter == Some(counter) {
            return Ok(());
        }
        self.catch_up(store).await?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.counter.is_none_or(|seen| seen < counter) {
            state.counter = Some(counter);
        }
        Ok(())
    }

    /// Builds the index anew from the catalogue and the approved purchases, a page of purchases at a time (the
    /// build never holds every request at once), and puts it in place of the old one.
    async fn rebuild(
        &self,
        store: &Store,
        vocabulary: Vec<dup::VocabularyEntry>,
    ) -> Result<(), ApiError> {
        let started = crate::domain::now();
        let mut index = DuplicateIndex::with_lexicon(lexicon_with(&vocabulary)?);
        apply(&mut index, &store.services_changed_since(None).await?, &[]);
        let mut after = None;
        loop {
            let page = store
                .approved_purchases_after(after, self.build_page)
                .await?;
            apply(&mut index, &[], &page);
            match page.last() {
                Some(last) if page.len() as i64 == self.build_page => after = Some(last.id),
                _ => break,
            }
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        *state = State {
            index,
            synced_to: Some(started),
            vocabulary,
            applied: Default::default(),
            counter: state.counter,
        };
        Ok(())
    }

    async fn catch_up(&self, store: &Store) -> Result<(), ApiError> {
        let vocabulary: Vec<dup::VocabularyEntry> = store
            .vocabulary()
            .await?
            .iter()
            .map(|r| r.entry())
            .collect();
        let (changed, since) = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            (state.vocabulary != vocabulary, state.synced_to)
        };
        // A build from nothing at start, and with a new vocabulary (every document is tokenised anew).
        let Some(since) = since.filter(|_| !changed) else {
            return self.rebuild(store, vocabulary).await;
        };
        let from = since - Duration::seconds(CLOCK_SLACK_SECONDS);
        let started = crate::domain::now();
        let services = store.services_changed_since(Some(from)).await?;
        // Under a steady stream of writes the window holds every request changed in the last few seconds; only
        // those not applied as they stand now are read whole.
        let stamps = store.purchase_stamps_since(from).await?;
        let fresh: Vec<uuid::Uuid> = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            stamps
                .iter()
                .filter(|(id, at)| state.applied.get(id) != Some(at))
                .map(|(id, _)| *id)
                .collect()
        };
        let purchases = store.purchases_by_id(&fresh).await?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        apply(&mut state.index, &services, &purchases);
        for p in &purchases {
            state.applied.insert(p.id, p.updated_at);
        }
        state.applied.retain(|_, at| *at > from);
        if state.synced_to.is_none_or(|t| t < started) {
            state.synced_to = Some(started);
        }
        Ok(())
    }

    /// Ranks candidates for a request, after catching up with changes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check(
        &self,
        store: &Store,
        text: &RequestText,
    ) -> Result<Vec<Candidate>, ApiError> {
        self.refresh(store).await?;
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        Ok(state.index.check(text, MAX_CANDIDATES))
    }

    /// The lexicon of the index as it stands (the CIO office's vocabulary included once a check caught up).
    pub fn lexicon(&self) -> std::sync::Arc<dup::Lexicon> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state.index.lexicon()
    }

    pub fn sizes(&self) -> (usize, usize) {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        (state.index.service_count(), state.index.purchase_count())
    }
}
