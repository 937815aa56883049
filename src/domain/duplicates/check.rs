//! Checking a request against the index: the request analysed, candidates gathered from the postings, scored
//! and given their evidence.

use std::collections::HashMap;

use super::analysis::{
    FUZZY_MIN_LEN, FUZZY_TWO_EDITS_LEN, Unit, analyse_stems, clauses, normalise_key, split_purpose,
    stem, stems_of, title_modifiers, vendor_key,
};
use super::{
    ALIAS_BONUS, CAPABILITY_BONUS_CAP, CAPABILITY_PAIR_BONUS, COMMON_DF_FLOOR, COMMON_DF_SHARE,
    Candidate, Doc, DuplicateIndex, Evidence, FeatureId, GLUED_MAX_WORDS, GLUED_MIN_LEN,
    LIKELY_THRESHOLD, MatchClass, POSSIBLE_THRESHOLD, Phrase, RequestText, SAME_CATEGORY_BONUS,
    SAME_PRODUCT_BONUS, SAME_VENDOR_BONUS, STRENGTH_SCALE, UNKNOWN_TERM_G, UNOFFERED_CONCEPT_MASS,
    W_CAPABILITY, W_DESCRIPTION, W_PRODUCT, W_REQUEST_TITLE, W_VENDOR,
};

impl DuplicateIndex {
    /// Replaces words nobody knows by the nearest word the lexicon or the catalogue knows.
    pub(super) fn correct_typos(&self, raw: Vec<String>) -> Vec<String> {
        raw.into_iter()
            .map(|word| {
                let len = word.chars().count();
                if len < FUZZY_MIN_LEN || !word.bytes().all(|b| b.is_ascii_lowercase()) {
                    return word;
                }
                let stem = stem(&word);
                if self.is_known_word(&word, &stem) {
                    return word;
                }
                let max = if len >= FUZZY_TWO_EDITS_LEN { 2 } else { 1 };
                let a = self.lex.fuzzy.nearest(&word, max);
                let b = self.vocab.nearest(&word, max);
                match (a, b) {
                    (Some(x), Some(y)) => {
                        if y.0 < x.0 || (y.0 == x.0 && y.1 < x.1) {
                            y.1
                        } else {
                            x.1
                        }
                    }
                    (Some(x), None) => x.1,
                    (None, Some(y)) => y.1,
                    (None, None) => word,
                }
            })
            .collect()
    }

    pub(super) fn analyse_request(&self, request: &RequestText) -> Query {
        let title = self.lex.words(&request.title);
        let (head, tail) = split_purpose(&title);
        let mut fields: Vec<(FieldKind, Vec<String>, f32)> = vec![
            (FieldKind::Title, head.to_vec(), W_REQUEST_TITLE),
            (FieldKind::Description, tail.to_vec(), W_DESCRIPTION),
            (
                FieldKind::Product,
                self.lex.words(&request.product_name),
                W_PRODUCT,
            ),
            (
                FieldKind::Vendor,
                self.lex.words(&request.vendor_name),
                W_VENDOR,
            ),
        ];
        for clause in clauses(&request.description) {
            fields.push((
                FieldKind::Description,
                self.lex.words(clause),
                W_DESCRIPTION,
            ));
        }
        for capability in &request.capabilities {
            fields.push((
                FieldKind::Capability,
                self.lex.words(capability),
                W_CAPABILITY,
            ));
        }
        let mut features: HashMap<Unit, QueryFeature> = HashMap::new();
        let mut field_stems: Vec<(FieldKind, Vec<String>)> = Vec::new();
        let mut field_raw: Vec<Vec<String>> = Vec::new();
        for (kind, raw, field_weight) in fields {
            let raw = self.correct_typos(raw);
            let stems = stems_of(&raw);
            let units = analyse_stems(&self.lex, &raw, &stems);
            let modifiers = if kind == FieldKind::Title {
                title_modifiers(&raw, &units)
            } else {
                vec![false; units.len()]
            };
            for (unit, modifier) in units.into_iter().zip(modifiers) {
                let field_weight = if modifier { W_CAPABILITY } else { field_weight };
                let w = field_weight * unit.weight;
                let entry = features
                    .entry(unit.unit.clone())
                    .or_insert_with(|| QueryFeature {
                        id: None,
                        weight: 0.0,
                        head_weight: 0.0,
                        label: match &unit.unit {
                            Unit::Concept(c) => self.lex.concepts[*c as usize].label.clone(),
                            Unit::Term(_) => unit.surface.clone(),
                        },
                        g: 0.0,
                    });
                let head = matches!(
                    kind,
                    FieldKind::Title | FieldKind::Product | FieldKind::Capability
                );
                if head && w > entry.head_weight {
                    entry.head_weight = w;
                }
                if w > entry.weight {
                    entry.weight = w;
                    if let Unit::Term(_) = unit.unit {
                        entry.label = unit.surface.clone();
                    }
                }
            }
            field_stems.push((kind, stems));
            field_raw.push(raw);
        }
        let mut list: Vec<QueryFeature> = Vec::with_capacity(features.len());
        for (unit, mut feature) in features {
            feature.id = self.unit_id(&unit);
            // Weights come from the catalogue and the lexicon: a word only purchases use weighs like one
            // nobody uses, so that approving purchases cannot move a score.
            feature.g = match (feature.id, &unit) {
                (Some(id), Unit::Concept(_)) => self.feature_g(id),
                (Some(id), Unit::Term(_)) if self.service_df[id as usize] > 0 => self.feature_g(id),
                (None, Unit::Concept(_)) => 1.0,
                _ => UNKNOWN_TERM_G,
            };
            list.push(feature);
        }
        // A fixed order keeps evidence and float sums identical from run to run.
        list.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.label.cmp(&b.label)));
        let mass: f64 = list.iter().map(|f| f64::from(f.weight) * f.g).sum();
        let head_mass: f64 = list.iter().map(|f| f64::from(f.head_weight) * f.g).sum();
        // Against a service, a concept of what is bought that no catalogue service offers weighs double:
        // "rental assistance case management" is about rental assistance, which no service does.
        let concepts = self.lex.concept_count();
        let service_head_mass: f64 = list
            .iter()
            .map(|f| {
                let unoffered = f.id.is_some_and(|id| {
                    (id as usize) < concepts && self.service_df[id as usize] == 0
                });
                let factor = if unoffered {
                    UNOFFERED_CONCEPT_MASS
                } else {
                    1.0
                };
                f64::from(f.head_weight) * f.g * factor
            })
            .sum();
        let mut phrases = request.capabilities.clone();
        if phrases.iter().all(|p| p.trim().is_empty()) && !request.title.trim().is_empty() {
            phrases = vec![request.title.clone()];
        }
        let capabilities = phrases
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|phrase| {
                let raw = self.correct_typos(self.lex.words(phrase));
                let stems = stems_of(&raw);
                let units: Vec<(FeatureId, f32)> = analyse_stems(&self.lex, &raw, &stems)
                    .iter()
                    .filter(|u| !u.component)
                    .filter_map(|u| Some((self.unit_id(&u.unit)?, u.weight)))
                    .collect();
                Phrase::new(phrase, units, self.lex.concept_count())
            })
            .collect();
        let product_raw = self.correct_typos(self.lex.words(&request.product_name));
        let product_stems: Vec<String> = stems_of(&product_raw)
            .into_iter()
            .filter(|s| !self.lex.is_stop(s))
            .collect();
        Query {
            features: list,
            mass,
            head_mass,
            service_head_mass,
            field_stems,
            field_raw,
            capabilities,
            category: self.lookup(&normalise_key(&request.category)),
            department: self.lookup(&normalise_key(&request.department)),
            vendor_id: self.lookup(request.vendor_id.trim()),
            vendor_key: self.lookup(&vendor_key(&request.vendor_name)),
            product_first: self.lookup(product_stems.first().map_or("", String::as_str)),
            product_stems,
            has_product: !request.product_name.trim().is_empty(),
        }
    }

    /// Alias hits per service slot: `(strength, alias index, field it was found in)`.
    fn alias_hits(&self, query: &Query) -> HashMap<u32, (f64, u16, FieldKind)> {
        // (slot, alias index, field, start, end, strength)
        let mut raw_hits: Vec<(u32, u16, usize, usize, usize, f64)> = Vec::new();
        for (field, (kind, stems)) in query.field_stems.iter().enumerate() {
            let raw = &query.field_raw[field];
            for start in 0..stems.len() {
                // Word by word (stems), then written apart or together ("Service Now", "Smart Sheet").
                let mut spans: Vec<(u32, u16, usize)> = Vec::new();
                if let Some(list) = self.alias_heads.get(&stems[start]) {
                    for &(slot, index) in list {
                        let Some(doc) = &self.slots[slot as usize] else {
                            continue;
                        };
                        let end = start + doc.aliases[index as usize].stems.len();
                        if end <= stems.len()
                            && stems[start..end] == doc.aliases[index as usize].stems[..]
                        {
                            spans.push((slot, index, end));
                        }
                    }
                }
                let mut glued = String::new();
                for end in start + 1..=(start + GLUED_MAX_WORDS).min(raw.len()) {
                    glued.push_str(&raw[end - 1]);
                    if glued.len() < GLUED_MIN_LEN {
                        continue;
                    }
                    if let Some(list) = self.alias_glued.get(&glued) {
                        spans.extend(list.iter().map(|&(slot, index)| (slot, index, end)));
                    }
                }
                for (slot, index, end) in spans {
                    let Some(doc) = &self.slots[slot as usize] else {
                        continue;
                    };
                    let alias = &doc.aliases[index as usize];
                    let at_start = stems[..start].iter().all(|s| self.lex.is_stop(s));
                    // A buyer who names the product and mentions an alias elsewhere is usually naming what
                    // it works with ("Datto backup for Microsoft 365"), not what is bought.
                    let reference = if query.has_product { 0.5 } else { 1.0 };
                    let strength = match (kind, alias.ambiguous) {
                        (FieldKind::Product, _) if at_start => 1.0,
                        (FieldKind::Product, false) => 0.8,
                        (FieldKind::Product, true) => 0.35,
                        (FieldKind::Vendor, _) => 0.4,
                        (FieldKind::Title | FieldKind::Capability, false) => 0.8 * reference,
                        (FieldKind::Description, false) => 0.5 * reference,
                        _ => 0.0,
                    };
                    if strength > 0.0 {
                        raw_hits.push((slot, index, field, start, end, strength));
                    }
                }
            }
        }
        let mut hits: HashMap<u32, (f64, u16, FieldKind)> = HashMap::new();
        for &(slot, index, field, start, end, strength) in &raw_hits {
            // "PeopleSoft Financials" names the financials service; the HR service's shorter alias
            // "PeopleSoft" inside it is weaker evidence.
            let covered = raw_hits.iter().any(|&(_, _, f, s, e, _)| {
                f == field && s <= start && e >= end && e - s > end - start
            });
            let strength = if covered { strength * 0.5 } else { strength };
            let kind = query.field_stems[field].0;
            let len = end - start;
            let entry = hits.entry(slot).or_insert((0.0, index, kind));
            let Some(doc) = &self.slots[slot as usize] else {
                continue;
            };
            // On a tie the longer alias is the better evidence ("DocuSign eSignature" over "DocuSign").
            let longer = len > doc.aliases[entry.1 as usize].stems.len();
            if strength > entry.0 || (strength == entry.0 && longer) {
                *entry = (strength, index, kind);
            }
        }
        hits
    }

    /// Ranks candidates for a request: at most `limit`, best first, each at or above
    /// [`POSSIBLE_THRESHOLD`]. Purchases from the request's own department are left out.
    pub fn check(&self, request: &RequestText, limit: usize) -> Vec<Candidate> {
        if limit == 0 || self.doc_count() == 0 {
            return Vec::new();
        }
        let query = self.analyse_request(request);
        let aliases = self.alias_hits(&query);
        // Per slot: (evidence from every field, evidence from the fields that say what is bought).
        let mut acc = vec![(0f32, 0f32); self.slots.len()];
        let mut touched: Vec<u32> = Vec::new();
        // Concepts and selective words nominate candidates through their postings. Words found in a large
        // share of the index weigh little (IDF) and only top up a shortlist: a document that shares nothing
        // but common words with the request is not a duplicate of it, and walking their long postings would
        // be most of the cost of a check.
        let common_df = (self.doc_count() / COMMON_DF_SHARE).max(COMMON_DF_FLOOR);
        let (common, selective): (Vec<&QueryFeature>, Vec<&QueryFeature>) = query
            .features
            .iter()
            .filter(|f| f.id.is_some())
            .partition(|f| {
                let id = f.id.expect("filtered") as usize;
                id >= self.lex.concept_count() && self.postings[id].len() > common_df
            });
        for feature in selective {
            let id = feature.id.expect("filtered");
            let factor = (f64::from(feature.weight) * feature.g) as f32;
            let head_factor = (f64::from(feature.head_weight) * feature.g) as f32;
            for posting in &self.postings[id as usize] {
                let cell = &mut acc[posting.slot as usize];
                if cell.0 == 0.0 {
                    touched.push(posting.slot);
                }
                cell.0 += factor * posting.weight;
                cell.1 += head_factor * posting.weight;
            }
        }
        for &slot in aliases.keys() {
            if acc[slot as usize].0 == 0.0 {
                touched.push(slot);
                acc[slot as usize].0 = f32::MIN_POSITIVE;
            }
        }
        let mut scored: Vec<(f64, u32)> = Vec::with_capacity(touched.len());
        for &slot in &touched {
            let meta = &self.meta[slot as usize];
            if !meta.live
                || (meta.purchase && query.department != 0 && meta.department == query.department)
            {
                continue;
            }
            let signals = self.signals(&query, slot, acc[slot as usize], aliases.get(&slot));
            scored.push((signals.score(0), slot));
        }
        let shortlist = (limit * 4).max(20);
        if !common.is_empty() {
            keep_best(&mut scored, shortlist * 5);
            for entry in scored.iter_mut() {
                let slot = entry.1;
                let Some(doc) = &self.slots[slot as usize] else {
                    continue;
                };
                for feature in &common {
                    let id = feature.id.expect("filtered");
                    if let Ok(pos) = doc.features.binary_search_by_key(&id, |(fid, _)| *fid) {
                        let w = doc.features[pos].1;
                        let cell = &mut acc[slot as usize];
                        cell.0 += (f64::from(feature.weight) * feature.g) as f32 * w;
                        cell.1 += (f64::from(feature.head_weight) * feature.g) as f32 * w;
                    }
                }
                entry.0 = self
                    .signals(&query, slot, acc[slot as usize], aliases.get(&slot))
                    .score(0);
            }
        }
        // Capability bonuses are only computed for a shortlist; keep it wide enough that they can reorder it.
        keep_best(&mut scored, shortlist);
        let mut out: Vec<(bool, Candidate)> = scored
            .into_iter()
            .filter_map(|(_, slot)| {
                let doc = self.slots[slot as usize].as_ref()?;
                let signals = self.signals(&query, slot, acc[slot as usize], aliases.get(&slot));
                let pairs = capability_pairs(
                    &query.capabilities,
                    &doc.capabilities,
                    self.lex.concept_count(),
                );
                let score = signals.score(pairs.len());
                if score < POSSIBLE_THRESHOLD {
                    return None;
                }
                let candidate = Candidate {
                    kind: doc.kind,
                    id: doc.id.clone(),
                    name: doc.name.clone(),
                    score,
                    class: if score >= LIKELY_THRESHOLD {
                        MatchClass::LikelyDuplicate
                    } else {
                        MatchClass::PossibleOverlap
                    },
                    evidence: Evidence {
                        matched_capabilities: pairs,
                        matched_terms: self.matched_terms(&query, doc),
                        alias_hit: aliases
                            .get(&slot)
                            .map(|&(_, index, _)| doc.aliases[index as usize].display.clone()),
                        same_vendor: signals.same_vendor,
                        same_product: signals.same_product,
                        same_category: signals.same_category,
                    },
                };
                Some((self.meta[slot as usize].retiring, candidate))
            })
            .collect();
        // On a tie an active service comes before a retiring one.
        out.sort_by(|(ra, a), (rb, b)| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| ra.cmp(rb))
                .then_with(|| a.id.cmp(&b.id))
        });
        out.truncate(limit);
        out.into_iter().map(|(_, c)| c).collect()
    }

    fn signals(
        &self,
        query: &Query,
        slot: u32,
        (matched, matched_head): (f32, f32),
        alias: Option<&(f64, u16, FieldKind)>,
    ) -> Signals {
        let meta = &self.meta[slot as usize];
        let (matched, matched_head) = (f64::from(matched), f64::from(matched_head));
        // Coverage: how much of what is bought (title, product, capabilities) the candidate explains. The
        // description only adds strength, so that more truthful detail cannot lower a score.
        let head_mass = if meta.purchase {
            query.head_mass
        } else {
            query.service_head_mass
        };
        let coverage = if head_mass > 0.0 {
            (matched_head / head_mass).min(1.0)
        } else if query.mass > 0.0 {
            (matched / query.mass).min(1.0)
        } else {
            0.0
        };
        let strength = 1.0 - (-matched / STRENGTH_SCALE).exp();
        let text = (coverage * strength).sqrt();
        let same_category = query.category != 0 && query.category == meta.category;
        let (alias_strength, same_vendor, same_product) = match meta.purchase {
            false => match alias {
                Some(&(strength, _, field)) => {
                    // An alias named as the product stands on its own. Named in passing ("backup of
                    // Microsoft 365 mailboxes", "embedded on Boston.gov"), or only as the vendor, it
                    // counts as far as the service also explains the rest of the request.
                    let effective = if field == FieldKind::Product {
                        strength
                    } else {
                        strength * (0.5 + 0.5 * coverage)
                    };
                    (
                        effective,
                        field == FieldKind::Vendor,
                        field == FieldKind::Product && strength >= 0.8,
                    )
                }
                None => (0.0, false, false),
            },
            true => {
                let same_vendor = (query.vendor_id != 0 && query.vendor_id == meta.vendor_id)
                    || (query.vendor_key != 0 && query.vendor_key == meta.vendor_key);
                let same_product = query.product_first != 0
                    && query.product_first == meta.product_first
                    && self.slots[slot as usize].as_ref().is_some_and(|doc| {
                        query.product_stems.starts_with(&doc.product_stems)
                            || doc.product_stems.starts_with(&query.product_stems)
                    });
                (0.0, same_vendor, same_product)
            }
        };
        Signals {
            text,
            alias_strength,
            same_vendor,
            same_product,
            same_category,
            purchase: meta.purchase,
        }
    }

    fn matched_terms(&self, query: &Query, doc: &Doc) -> Vec<String> {
        let mut shared: Vec<(f64, &str)> = query
            .features
            .iter()
            .filter_map(|f| {
                let id = f.id?;
                let pos = doc
                    .features
                    .binary_search_by_key(&id, |(fid, _)| *fid)
                    .ok()?;
                let contribution = f64::from(f.weight) * f64::from(doc.features[pos].1) * f.g;
                Some((contribution, f.label.as_str()))
            })
            .collect();
        shared.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut out: Vec<String> = Vec::new();
        for (_, label) in shared {
            if !out.iter().any(|l| l == label) {
                out.push(label.to_string());
            }
            if out.len() == 12 {
                break;
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Title,
    Product,
    Description,
    Vendor,
    Capability,
}

pub(super) struct QueryFeature {
    id: Option<FeatureId>,
    /// The strongest field it occurs in.
    weight: f32,
    /// The strongest field among those that say what is bought (title before "for", product,
    /// capabilities); 0 when it occurs only in the description, the purpose or the vendor.
    head_weight: f32,
    pub(super) label: String,
    g: f64,
}

pub(super) struct Query {
    pub(super) features: Vec<QueryFeature>,
    mass: f64,
    head_mass: f64,
    /// `head_mass` with unoffered concepts counted double, for coverage against services.
    service_head_mass: f64,
    field_stems: Vec<(FieldKind, Vec<String>)>,
    /// The words of each field of `field_stems`, typos corrected, not stemmed.
    field_raw: Vec<Vec<String>>,
    capabilities: Vec<Phrase>,
    category: u32,
    department: u32,
    vendor_id: u32,
    vendor_key: u32,
    product_first: u32,
    product_stems: Vec<String>,
    has_product: bool,
}

struct Signals {
    text: f64,
    alias_strength: f64,
    same_vendor: bool,
    same_product: bool,
    same_category: bool,
    purchase: bool,
}

impl Signals {
    fn score(&self, capability_pairs: usize) -> f64 {
        let mut keep = 1.0 - self.text;
        keep *= 1.0 - ALIAS_BONUS * self.alias_strength;
        if self.purchase {
            if self.same_product {
                keep *= 1.0 - SAME_PRODUCT_BONUS;
            }
            if self.same_vendor {
                keep *= 1.0 - SAME_VENDOR_BONUS;
            }
        }
        if self.same_category {
            keep *= 1.0 - SAME_CATEGORY_BONUS;
        }
        let capability =
            (CAPABILITY_PAIR_BONUS * capability_pairs as f64).min(CAPABILITY_BONUS_CAP);
        keep *= 1.0 - capability;
        (1.0 - keep).clamp(0.0, 1.0)
    }
}

/// Keeps the `n` best-scored entries, in no particular order.
fn keep_best(scored: &mut Vec<(f64, u32)>, n: usize) {
    if scored.len() > n {
        scored.select_nth_unstable_by(n - 1, |a, b| {
            b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1))
        });
        scored.truncate(n);
    }
}

/// Pairs each request phrase with the candidate phrase that says the same thing, if any: a shared concept
/// named outright on at least one side, or words that make up at least half of both phrases together.
fn capability_pairs(
    request: &[Phrase],
    candidate: &[Phrase],
    concepts: usize,
) -> Vec<(String, String)> {
    let concepts = concepts as FeatureId;
    let mut out = Vec::new();
    for phrase in request {
        let mut best: Option<(usize, &str)> = None;
        for other in candidate {
            let shared: Vec<FeatureId> = phrase
                .ids
                .iter()
                .copied()
                .filter(|id| other.ids.binary_search(id).is_ok())
                .collect();
            if shared.is_empty() {
                continue;
            }
            let concept_shared = shared.iter().any(|&id| {
                id < concepts
                    && (phrase.strong_concepts.binary_search(&id).is_ok()
                        || other.strong_concepts.binary_search(&id).is_ok())
            });
            let union = phrase.ids.len() + other.ids.len() - shared.len();
            if concept_shared || shared.len() * 2 >= union {
                let rank = shared.len() + if concept_shared { 10 } else { 0 };
                if best.is_none_or(|(r, _)| rank > r) {
                    best = Some((rank, &other.text));
                }
            }
        }
        if let Some((_, other)) = best {
            out.push((phrase.text.clone(), other.to_string()));
        }
    }
    out
}
