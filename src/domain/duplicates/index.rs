//! Building the index and keeping it current: documents in and out, feature ids, postings and weights.

use std::collections::HashMap;

use super::analysis::{
    FuzzyVocab, Unit, analyse_stems, normalise_key, significant_stems, stems_of, vendor_key,
};
use super::{
    AMBIGUOUS_ALIAS_TEXT_WEIGHT, Alias, CandidateKind, CatalogEntry, Doc, DuplicateIndex,
    FeatureId, FieldText, GLUED_MIN_LEN, Lexicon, PastPurchase, Phrase, Posting, ServiceStatus,
    SlotMeta, TERM_KIND_WEIGHT, W_ALIAS, W_CAPABILITY, W_DESCRIPTION, W_NAME, W_VENDOR,
    default_lexicon,
};

impl DuplicateIndex {
    /// An empty index.
    pub fn new() -> DuplicateIndex {
        DuplicateIndex::with_lexicon(default_lexicon())
    }

    /// An empty index reading words with the given lexicon (the default plus the CIO office's entries).
    pub fn with_lexicon(lex: std::sync::Arc<Lexicon>) -> DuplicateIndex {
        DuplicateIndex {
            postings: vec![Vec::new(); lex.concept_count()],
            service_df: vec![0; lex.concept_count()],
            lex,
            term_ids: HashMap::new(),
            slots: Vec::new(),
            meta: Vec::new(),
            interned: HashMap::from([(String::new(), 0)]),
            free: Vec::new(),
            keys: HashMap::new(),
            alias_heads: HashMap::new(),
            alias_glued: HashMap::new(),
            vocab: FuzzyVocab::default(),
            services: 0,
            purchases: 0,
        }
    }

    /// Number of indexed (active or retiring) services.
    /// The lexicon the index reads with.
    pub fn lexicon(&self) -> std::sync::Arc<Lexicon> {
        self.lex.clone()
    }

    pub fn service_count(&self) -> usize {
        self.services
    }

    /// Number of indexed purchases.
    pub fn purchase_count(&self) -> usize {
        self.purchases
    }

    /// Adds or replaces a catalogue service. A retired service is removed instead: it is no longer something
    /// a request could duplicate.
    pub fn upsert_service(&mut self, entry: CatalogEntry) {
        self.remove(CandidateKind::Service, &entry.id);
        if entry.status == ServiceStatus::Retired {
            return;
        }
        let mut fields = vec![FieldText::new(&self.lex, &entry.name, W_NAME)];
        fields.extend(FieldText::prose(
            &self.lex,
            &entry.description,
            W_DESCRIPTION,
        ));
        for capability in &entry.capabilities {
            fields.push(FieldText::new(&self.lex, capability, W_CAPABILITY));
        }
        for alias in &entry.aliases {
            fields.push(FieldText::new(&self.lex, alias, W_ALIAS));
        }
        // Typo targets come from what names the service (name, capabilities, aliases), not from the
        // description's ordinary words, which would turn "lending" into "landing".
        let mut vocab_words: Vec<String> = std::iter::once(&entry.name)
            .chain(&entry.capabilities)
            .chain(&entry.aliases)
            .flat_map(|text| self.lex.words(text))
            .collect();
        vocab_words.sort();
        vocab_words.dedup();
        for word in &vocab_words {
            self.vocab.add(word);
        }
        let mut features = self.doc_features(&fields);
        let capabilities = self.capability_features(&entry.capabilities);
        let aliases: Vec<Alias> = entry
            .aliases
            .iter()
            .filter_map(|a| {
                let words = self.lex.words(a);
                let stems = stems_of(&words);
                let significant: Vec<&String> =
                    stems.iter().filter(|s| !self.lex.is_stop(s)).collect();
                if significant.is_empty() {
                    return None;
                }
                let ambiguous = significant.len() == 1
                    && (self.lex.ambiguous.contains(significant[0].as_str())
                        || significant[0].len() <= 2);
                Some(Alias {
                    display: a.clone(),
                    stems,
                    glued: words.concat(),
                    ambiguous,
                })
            })
            .collect();
        // "Box file sharing" must not match a ballot drop box on the word alone: an alias that is an ordinary
        // word weighs little as text; naming it as the product is what counts (see `alias_hits`).
        for alias in aliases.iter().filter(|a| a.ambiguous) {
            let Some(word) = alias.stems.iter().find(|s| !self.lex.is_stop(s)) else {
                continue;
            };
            if let Some(&id) = self.term_ids.get(word)
                && let Ok(pos) = features.binary_search_by_key(&id, |(fid, _)| *fid)
            {
                features[pos].1 = features[pos].1.min(AMBIGUOUS_ALIAS_TEXT_WEIGHT);
            }
        }
        let meta = SlotMeta {
            live: true,
            purchase: false,
            retiring: entry.status == ServiceStatus::Retiring,
            category: self.intern(normalise_key(&entry.category)),
            ..SlotMeta::default()
        };
        let doc = Doc {
            kind: CandidateKind::Service,
            id: entry.id,
            name: entry.name,
            product_stems: Vec::new(),
            features,
            capabilities,
            aliases,
            vocab_words,
        };
        self.insert(doc, meta);
    }

    /// Removes a service; returns whether it was indexed.
    pub fn remove_service(&mut self, id: &str) -> bool {
        self.remove(CandidateKind::Service, id)
    }

    /// Adds or replaces a past purchase or active contract.
    pub fn upsert_purchase(&mut self, purchase: PastPurchase) {
        self.remove(CandidateKind::Purchase, &purchase.id);
        let mut fields = vec![
            FieldText::new(&self.lex, &purchase.product_name, W_NAME),
            FieldText::new(&self.lex, &purchase.vendor_name, W_VENDOR),
        ];
        fields.extend(FieldText::prose(
            &self.lex,
            &purchase.description,
            W_DESCRIPTION,
        ));
        fields.extend(FieldText::title(&self.lex, &purchase.title, W_NAME));
        for capability in &purchase.capabilities {
            fields.push(FieldText::new(&self.lex, capability, W_CAPABILITY));
        }
        let features = self.doc_features(&fields);
        let mut capabilities = self.capability_features(&purchase.capabilities);
        if capabilities.is_empty() && !purchase.title.is_empty() {
            capabilities = self.capability_features(std::slice::from_ref(&purchase.title));
        }
        let name = if purchase.product_name.trim().is_empty() {
            purchase.title.clone()
        } else {
            purchase.product_name.clone()
        };
        let product_stems = significant_stems(&self.lex, &purchase.product_name);
        let meta = SlotMeta {
            live: true,
            purchase: true,
            retiring: false,
            department: self.intern(normalise_key(&purchase.department)),
            category: self.intern(normalise_key(&purchase.category)),
            vendor_id: self.intern(purchase.vendor_id.trim().to_string()),
            vendor_key: self.intern(vendor_key(&purchase.vendor_name)),
            product_first: self.intern(product_stems.first().cloned().unwrap_or_default()),
        };
        let doc = Doc {
            kind: CandidateKind::Purchase,
            id: purchase.id,
            name,
            product_stems,
            features,
            capabilities,
            aliases: Vec::new(),
            vocab_words: Vec::new(),
        };
        self.insert(doc, meta);
    }

    /// Removes a purchase; returns whether it was indexed.
    pub fn remove_purchase(&mut self, id: &str) -> bool {
        self.remove(CandidateKind::Purchase, id)
    }

    fn term_id_mut(&mut self, term: &str) -> FeatureId {
        if let Some(&id) = self.term_ids.get(term) {
            return id;
        }
        let id = self.postings.len() as FeatureId;
        self.term_ids.insert(term.to_string(), id);
        self.postings.push(Vec::new());
        self.service_df.push(0);
        id
    }

    fn unit_id_mut(&mut self, unit: &Unit) -> FeatureId {
        match unit {
            Unit::Concept(c) => FeatureId::from(*c),
            Unit::Term(t) => self.term_id_mut(t),
        }
    }

    fn doc_features(&mut self, fields: &[FieldText]) -> Vec<(FeatureId, f32)> {
        let mut weights: HashMap<FeatureId, f32> = HashMap::new();
        for field in fields {
            let stems = stems_of(&field.raw);
            for unit in analyse_stems(&self.lex, &field.raw, &stems) {
                let id = self.unit_id_mut(&unit.unit);
                let w = field.weight * unit.weight;
                let e = weights.entry(id).or_insert(0.0);
                *e = e.max(w);
            }
        }
        let mut features: Vec<(FeatureId, f32)> = weights.into_iter().collect();
        features.sort_by_key(|(id, _)| *id);
        features
    }

    fn capability_features(&mut self, phrases: &[String]) -> Vec<Phrase> {
        phrases
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|phrase| {
                let raw = self.lex.words(phrase);
                let stems = stems_of(&raw);
                let units = analyse_stems(&self.lex, &raw, &stems);
                let units: Vec<(FeatureId, f32)> = units
                    .iter()
                    .filter(|u| !u.component)
                    .map(|u| (self.unit_id_mut(&u.unit), u.weight))
                    .collect();
                Phrase::new(phrase, units, self.lex.concept_count())
            })
            .collect()
    }

    pub(super) fn unit_id(&self, unit: &Unit) -> Option<FeatureId> {
        match unit {
            Unit::Concept(c) => Some(FeatureId::from(*c)),
            Unit::Term(t) => self.term_ids.get(t).copied(),
        }
    }

    fn intern(&mut self, key: String) -> u32 {
        let next = self.interned.len() as u32;
        *self.interned.entry(key).or_insert(next)
    }

    /// The interned id of a request's key: `0` when empty, `u32::MAX` (matches nothing) when never seen.
    pub(super) fn lookup(&self, key: &str) -> u32 {
        self.interned.get(key).copied().unwrap_or(u32::MAX)
    }

    fn insert(&mut self, doc: Doc, meta: SlotMeta) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.meta.push(SlotMeta::default());
                (self.slots.len() - 1) as u32
            }
        };
        self.meta[slot as usize] = meta;
        for &(feature, weight) in &doc.features {
            self.postings[feature as usize].push(Posting { slot, weight });
            if doc.kind == CandidateKind::Service {
                self.service_df[feature as usize] += 1;
            }
        }
        for (index, alias) in doc.aliases.iter().enumerate() {
            self.alias_heads
                .entry(alias.stems[0].clone())
                .or_default()
                .push((slot, index as u16));
            if alias.glued.len() >= GLUED_MIN_LEN {
                self.alias_glued
                    .entry(alias.glued.clone())
                    .or_default()
                    .push((slot, index as u16));
            }
        }
        match doc.kind {
            CandidateKind::Service => self.services += 1,
            CandidateKind::Purchase => self.purchases += 1,
        }
        self.keys.insert((doc.kind, doc.id.clone()), slot);
        self.slots[slot as usize] = Some(doc);
    }

    fn remove(&mut self, kind: CandidateKind, id: &str) -> bool {
        let Some(slot) = self.keys.remove(&(kind, id.to_string())) else {
            return false;
        };
        let doc = self.slots[slot as usize]
            .take()
            .expect("keyed slot is occupied");
        self.meta[slot as usize] = SlotMeta::default();
        for &(feature, _) in &doc.features {
            self.postings[feature as usize].retain(|p| p.slot != slot);
            if kind == CandidateKind::Service {
                self.service_df[feature as usize] -= 1;
            }
        }
        for alias in &doc.aliases {
            if let Some(list) = self.alias_heads.get_mut(&alias.stems[0]) {
                list.retain(|(s, _)| *s != slot);
                if list.is_empty() {
                    self.alias_heads.remove(&alias.stems[0]);
                }
            }
            if let Some(list) = self.alias_glued.get_mut(&alias.glued) {
                list.retain(|(s, _)| *s != slot);
                if list.is_empty() {
                    self.alias_glued.remove(&alias.glued);
                }
            }
        }
        for word in &doc.vocab_words {
            self.vocab.remove(word);
        }
        match kind {
            CandidateKind::Service => self.services -= 1,
            CandidateKind::Purchase => self.purchases -= 1,
        }
        self.free.push(slot);
        true
    }

    pub(super) fn doc_count(&self) -> usize {
        self.services + self.purchases
    }

    /// IDF normalised so that a feature in exactly one document is 1 and one in every document is near 0.
    /// Over the catalogue only: purchases never move a weight.
    fn idf_norm(&self, df: usize) -> f64 {
        let n = self.services.max(1) as f64;
        let idf = |df: f64| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        (idf(df as f64) / idf(1.0)).clamp(0.0, 1.0)
    }

    pub(super) fn feature_g(&self, feature: FeatureId) -> f64 {
        let df = self.service_df[feature as usize] as usize;
        let idf = self.idf_norm(df);
        if (feature as usize) < self.lex.concept_count() {
            0.5 + 0.5 * idf
        } else {
            TERM_KIND_WEIGHT * idf
        }
    }

    pub(super) fn is_known_word(&self, raw: &str, stem: &str) -> bool {
        self.lex.phrase_tokens.contains_key(stem)
            || self.lex.is_stop(stem)
            || self.lex.fuzzy.contains(raw)
            || self.vocab.contains(raw)
            || self
                .term_ids
                .get(stem)
                .is_some_and(|&id| self.service_df[id as usize] > 0)
    }
}
