//! Duplicate check: ranks the city's centrally managed services and other departments' purchases against a
//! procurement request, so that the CIO can see when a department is about to buy what the city already runs
//! [EO 2025 Art. 3: the CIO may deny a procurement that duplicates a centralized service offering].
//!
//! Everything here is offline and pure: no model, no network. The matcher is a small search engine built
//! for how department buyers actually write requests.
//!
//! # Text analysis
//! Every text field goes through the same pipeline, on the index side and on the request side:
//! 1. **Tokenise** on anything that is not a letter or digit, lower-case, drop apostrophes inside words
//!    (`city's` -> `citys`), so hyphens, slashes and case stop mattering (`e-signature` = `E Signature`).
//! 2. **Correct typos** (request side only): a word of 5+ letters that nothing in the index or the lexicon
//!    knows is replaced by the nearest known word with the same first letter, within an optimal string
//!    alignment distance of 1 (2 for words of 10+ letters): `sharepiont` -> `sharepoint`, `electornic` ->
//!    `electronic`, `authentification` -> `authentication`. Up to 7 letters a substitution does not count
//!    (`lending` is not a typo of `landing`). Targets are the lexicon's words and the words that name
//!    catalogue services (names, capabilities, aliases), so a typo can only become a word that matters.
//! 3. **Stem** lightly (plurals, `-ing`, `-ed`, final `e`, British `-ise`/`licence` spellings), so that
//!    `schedules`, `scheduling` and `scheduled` meet.
//! 4. **Concepts**: a hand-written table ([`CONCEPTS`]) groups phrases that mean one thing in city IT
//!    (`e-signature`, `electronic signature`, `digital document signing`, `DocuSign` -> *e-signature*;
//!    `MFA`, `two-factor`, `second factor` -> *multi-factor authentication*). The longest phrase wins, so
//!    `scan to email` is printing, not email, and `live chat` is a website chat widget, not staff chat.
//!    Phrases marked weak (the lone word `map`, `signature`, `alert`) count half. A few concepts are also
//!    recognised from words apart ("sign the forms electronically"), and the words of a matched phrase also
//!    count on their own at 0.4, so that "reminders" still meets "appointment reminders by text".
//! 5. **Terms**: the words left over, minus stop words and a list of generic procurement words
//!    (`platform`, `management`, `cloud`, `solution`, `software`, `system`, `tool`, `service`, `online`,
//!    `digital`, `city`, `data`, ...) that say nothing about *what* is bought.
//!
//! # Scoring
//! A feature (concept or term) carries a weight on each side: the strongest field it occurs in times the
//! phrase weight. Request fields: the title up to its first "for" 1.3 (it says what is bought: "Interactive
//! map of capital projects *for the website*" buys a map), capabilities 1.0, product 0.9, the rest of the
//! title and the description 0.6, vendor 0.4. Index fields: name, title before "for", capabilities and
//! product 1.0, aliases 0.9, description 0.6. A feature's informativeness `g` comes from an IDF learned from
//! the indexed documents, normalised so that a feature found in one document scores 1: terms use it fully
//! (`0.7 * idf`), concepts only half (`0.5 + 0.5 * idf`), because a curated concept means the same thing
//! however many purchases share it.
//!
//! For a candidate: `matched = sum(request weight * candidate weight * g)` over shared features, and
//! `mass = sum(request weight * g)` over all request features (a word the index has never seen counts 0.3,
//! a concept no document has counts fully: it is evidence the request is about something else). Text
//! similarity is `sqrt(coverage * strength)` with `coverage = matched / mass` (how much of the
//! request the candidate explains) and `strength = 1 - exp(-matched)` (how much evidence there is in
//! absolute terms), so that neither a one-word request nor a long shared boilerplate alone scores high.
//!
//! Independent signals are then combined as a noisy OR, `score = 1 - (1 - text) * prod(1 - bonus)`:
//! - an **alias hit**, bonus `0.6 * strength`: the product field names one of the service's aliases (1.0 at
//!   its start, 0.8 elsewhere), the title or a capability does (0.8), the description (0.5), the vendor
//!   (0.4). Mentions outside the product field are halved when the request names some other product
//!   ("Datto backup for Microsoft 365" buys Datto), and scaled by `0.5 + 0.5 * coverage`, because a passing
//!   mention in a request about something else is weak evidence. A longer alias of another service covering
//!   the same words halves a shorter one ("PeopleSoft Financials" is not "PeopleSoft" HR). Aliases that are
//!   ordinary words or clashing abbreviations (`Box`, `Zoom`, `Teams`, `Falcon`, `CAD`) count only in the
//!   product (0.35 when not at its start) and vendor fields, and weigh little as text;
//! - for purchases, the **same product** (0.5) and the **same vendor** (0.15);
//! - the **same category** (0.05);
//! - **capability phrases** that match pairwise (a concept named outright on one side, or words making up
//!   half of both phrases): 0.07 each, at most 0.2.
//!
//! `score >= LIKELY_THRESHOLD` is a likely duplicate, `>= POSSIBLE_THRESHOLD` a possible overlap; nothing
//! below is returned. The thresholds were fixed before evaluation; `tests/duplicates_eval.json` checks them.
//!
//! # Index
//! Features have ids (concepts first, then terms); each id has a posting list of `(document, weight)`.
//! A check walks the postings of the request's concepts and selective words only, so only documents that
//! share something meaningful become candidates; words found in more than 1% of the index (and at least
//! 200 documents) only top up a shortlist. The best few by this cheap score get evidence and capability
//! bonuses. `upsert_*` and `remove_*` update postings in place, so the index follows the catalogue and the
//! purchase register without a rebuild. Purchases from the requesting department are skipped: the check is
//! across departments. Retired services are not indexed.

mod analysis;
mod check;
mod index;
mod lexicon;

pub(crate) use analysis::osa_distance;
pub use lexicon::{
    ConceptEntry, DEFAULT_LEXICON, Lexicon, MAX_CONCEPTS, VocabularyEntry, default_lexicon,
};

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use analysis::{FuzzyVocab, clauses, split_purpose};

/// At or above this score a candidate is classed [`MatchClass::LikelyDuplicate`] and put before the CIO.
pub const LIKELY_THRESHOLD: f64 = 0.6;
/// Below this score a candidate is not returned at all.
pub const POSSIBLE_THRESHOLD: f64 = 0.3;

/// How much a request word that no indexed document contains weighs in the request's mass, against 0.7 for
/// a word found in exactly one document. Such words are mostly particulars (place names, counts, program
/// names) that would drown the signal if they weighed as much as a rare shared word.
const UNKNOWN_TERM_G: f64 = 0.3;
/// How much more a concept of what is bought weighs in the request's mass, against a service, when no
/// catalogue service offers it.
const UNOFFERED_CONCEPT_MASS: f64 = 2.0;

const TERM_KIND_WEIGHT: f64 = 0.7;
const STRENGTH_SCALE: f64 = 1.0;
const ALIAS_BONUS: f64 = 0.6;
const SAME_PRODUCT_BONUS: f64 = 0.5;
const SAME_VENDOR_BONUS: f64 = 0.15;
const SAME_CATEGORY_BONUS: f64 = 0.05;
const CAPABILITY_PAIR_BONUS: f64 = 0.07;
const CAPABILITY_BONUS_CAP: f64 = 0.2;
const WEAK_PHRASE_WEIGHT: f32 = 0.5;
const AMBIGUOUS_ALIAS_TEXT_WEIGHT: f32 = 0.3;
/// A word inside a matched concept phrase also counts as a term at this share of the phrase weight, so
/// that "reminders" still meets "appointment reminders by text".
const COMPONENT_WEIGHT: f32 = 0.4;
const PROXIMITY_WINDOW: usize = 4;
/// Words in more than 1% of the index only top up a shortlist; below this document frequency a word always
/// nominates candidates, however small the index.
const COMMON_DF_FLOOR: usize = 200;
const COMMON_DF_SHARE: usize = 100;

// Field weights: a title or a capability states what is bought; a description also says why and for whom.
const W_REQUEST_TITLE: f32 = 1.3;
const W_NAME: f32 = 1.0;
const W_CAPABILITY: f32 = 1.0;
const W_PRODUCT: f32 = 0.9;
const W_ALIAS: f32 = 0.9;
const W_DESCRIPTION: f32 = 0.6;
const W_VENDOR: f32 = 0.4;

/// Lifecycle of a central service. Only active and retiring services are matched: a retiring service is
/// still what the city runs until it is gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    #[default]
    Active,
    Retiring,
    Retired,
}

/// A centrally managed service in the city's catalogue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogEntry {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    /// Short phrases, e.g. `electronic signatures`.
    pub capabilities: Vec<String>,
    /// Product and vendor names, abbreviations and synonyms people use for the service, e.g. `DocuSign`.
    pub aliases: Vec<String>,
    pub status: ServiceStatus,
}

/// Another department's approved purchase or active contract.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PastPurchase {
    pub id: String,
    pub department: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub product_name: String,
    pub category: String,
    pub capabilities: Vec<String>,
    pub title: String,
    pub description: String,
}

/// The text of a procurement request, as the buyer wrote it. Empty strings mean "not given".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestText {
    pub title: String,
    pub description: String,
    pub product_name: String,
    pub vendor_id: String,
    pub vendor_name: String,
    pub category: String,
    pub capabilities: Vec<String>,
    /// The requesting department; its own purchases are not candidates.
    pub department: String,
}

/// Where a buyer's request for an exception (to go ahead although the purchase looks like a duplicate) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum ExceptionStatus {
    /// Waits for the CIO.
    Requested,
    /// The CIO let the purchase go ahead: the duplicate review step is waived.
    Granted,
    Refused,
}

impl ExceptionStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum CandidateKind {
    Service,
    Purchase,
}

/// How sure the match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum MatchClass {
    /// Score at or above [`LIKELY_THRESHOLD`].
    LikelyDuplicate,
    /// Score at or above [`POSSIBLE_THRESHOLD`].
    PossibleOverlap,
}

/// Why a candidate was returned, for a reviewer to check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `(request phrase, candidate phrase)` pairs that say the same thing.
    pub matched_capabilities: Vec<(String, String)>,
    /// Concepts (by label, e.g. `e-signature`) and words the request shares with the candidate, strongest
    /// first.
    pub matched_terms: Vec<String>,
    /// The catalogue alias the request named, e.g. `DocuSign`.
    pub alias_hit: Option<String>,
    pub same_vendor: bool,
    pub same_product: bool,
    pub same_category: bool,
}

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub kind: CandidateKind,
    pub id: String,
    /// Service name, or the purchase's product name (its title when no product is named).
    pub name: String,
    /// In `[0, 1]`.
    pub score: f64,
    pub class: MatchClass,
    pub evidence: Evidence,
}

// ---------------------------------------------------------------------------------------------------------
// The index.
// ---------------------------------------------------------------------------------------------------------

type FeatureId = u32;

#[derive(Debug, Clone, Copy)]
struct Posting {
    slot: u32,
    weight: f32,
}

struct Alias {
    display: String,
    stems: Vec<String>,
    /// The words run together, spacing and punctuation removed: `Service Now` and `ServiceNow` both give
    /// `servicenow`.
    glued: String,
    ambiguous: bool,
}

/// A glued alias shorter than this is only matched word by word (`box`, `bi`).
const GLUED_MIN_LEN: usize = 5;
/// The most request words glued together when looking for an alias written apart.
const GLUED_MAX_WORDS: usize = 4;

struct Doc {
    kind: CandidateKind,
    id: String,
    name: String,
    product_stems: Vec<String>,
    /// Sorted by feature id, for removal and for evidence.
    features: Vec<(FeatureId, f32)>,
    capabilities: Vec<Phrase>,
    aliases: Vec<Alias>,
    /// Raw words this document added to the typo vocabulary (services only).
    vocab_words: Vec<String>,
}

/// What scoring needs to know about every candidate, interned and packed so that scoring thousands of
/// candidates touches no heap memory. Key `0` means "not given".
#[derive(Debug, Clone, Copy, Default)]
struct SlotMeta {
    live: bool,
    purchase: bool,
    department: u32,
    category: u32,
    vendor_id: u32,
    vendor_key: u32,
    /// First significant stem of the product name; the full comparison is only made when it agrees.
    product_first: u32,
    /// A retiring service: on a tie, an active one is the better pointer.
    retiring: bool,
}

/// An in-memory index of central services and past purchases, kept current with `upsert_*` / `remove_*`.
pub struct DuplicateIndex {
    lex: std::sync::Arc<Lexicon>,
    /// Term ids follow the concepts' and are never reused: a word that leaves the index keeps its id with
    /// an empty posting list.
    term_ids: HashMap<String, FeatureId>,
    /// Indexed by feature id.
    postings: Vec<Vec<Posting>>,
    /// Indexed by feature id: how many indexed services carry it. Weights come from the catalogue only, so
    /// that purchases being approved cannot move a request's score against a service.
    service_df: Vec<u32>,
    slots: Vec<Option<Doc>>,
    meta: Vec<SlotMeta>,
    /// Interned department, category, vendor and product keys; `0` is the empty key.
    interned: HashMap<String, u32>,
    free: Vec<u32>,
    keys: HashMap<(CandidateKind, String), u32>,
    /// First stem of an alias -> `(slot, alias index)`.
    alias_heads: HashMap<String, Vec<(u32, u16)>>,
    /// Glued alias -> `(slot, alias index)`.
    alias_glued: HashMap<String, Vec<(u32, u16)>>,
    vocab: FuzzyVocab,
    services: usize,
    purchases: usize,
}

impl Default for DuplicateIndex {
    fn default() -> Self {
        Self::new()
    }
}

struct FieldText {
    raw: Vec<String>,
    weight: f32,
}

impl FieldText {
    fn new(lex: &Lexicon, text: &str, weight: f32) -> FieldText {
        FieldText {
            raw: lex.words(text),
            weight,
        }
    }

    /// A description: one field per clause ([`clauses`]), so that no phrase joins two sentences.
    fn prose(lex: &Lexicon, text: &str, weight: f32) -> impl Iterator<Item = FieldText> {
        clauses(text)
            .into_iter()
            .map(move |clause| FieldText::new(lex, clause, weight))
    }

    /// A title becomes two fields: what is bought, and what follows "for".
    fn title(lex: &Lexicon, text: &str, weight: f32) -> [FieldText; 2] {
        let raw = lex.words(text);
        let (head, tail) = split_purpose(&raw);
        [
            FieldText {
                raw: head.to_vec(),
                weight,
            },
            FieldText {
                raw: tail.to_vec(),
                weight: W_DESCRIPTION,
            },
        ]
    }
}

/// A capability phrase (or a title standing in for one) reduced to its features, for pairing.
struct Phrase {
    text: String,
    /// Sorted, without words that are only part of a concept phrase: pairing "team messaging" with "text
    /// message notifications" on the shared word would pair things that differ.
    ids: Vec<FeatureId>,
    /// The concepts named by a full-strength phrase, sorted.
    strong_concepts: Vec<FeatureId>,
}

impl Phrase {
    fn new(text: &str, units: Vec<(FeatureId, f32)>, concepts: usize) -> Phrase {
        let mut ids: Vec<FeatureId> = units.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut strong_concepts: Vec<FeatureId> = units
            .iter()
            .filter(|(id, w)| (*id as usize) < concepts && *w >= 1.0)
            .map(|(id, _)| *id)
            .collect();
        strong_concepts.sort_unstable();
        strong_concepts.dedup();
        Phrase {
            text: text.to_string(),
            ids,
            strong_concepts,
        }
    }
}

#[cfg(test)]
mod tests;
