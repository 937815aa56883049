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

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

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

/// What a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateKind {
    Service,
    Purchase,
}

/// How sure the match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
// Lexicon: concepts, abbreviations, stop words, generic words, spelling variants. Data, not code: the
// shipped default is `duplicates_lexicon.toml`; the CIO office adds [`VocabularyEntry`]s at run time.
// ---------------------------------------------------------------------------------------------------------

/// The shipped default lexicon (TOML), reviewed with the code.
pub const DEFAULT_LEXICON: &str = include_str!("../duplicates_lexicon.toml");

/// One concept of the lexicon: phrases that mean one capability. A phrase starting with `~` is weak (counts
/// half): it usually, but not always, means the concept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConceptEntry {
    /// Stable identifier, e.g. `esign`.
    pub id: String,
    /// Shown in evidence, e.g. `e-signature`.
    pub label: String,
    pub phrases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ProximityRule {
    concept: String,
    first: Vec<String>,
    second: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    stop_words: String,
    generic_words: String,
    ambiguous_alias_words: String,
    #[serde(default)]
    abbreviations: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    proximity: Vec<ProximityRule>,
    concept: Vec<ConceptEntry>,
}

/// An entry the CIO office adds to the vocabulary: phrases for an existing concept (by id), a new concept
/// (an id the lexicon does not have, with its label), or an abbreviation (`abbreviation` set: the one word
/// that is expanded to `expansion`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VocabularyEntry {
    /// Concept id: an existing one gains the phrases; a new one is created with `label`.
    pub concept: String,
    pub label: String,
    pub phrases: Vec<String>,
    /// A word written for `expansion`, e.g. `ms` for `microsoft`; empty for a concept entry.
    pub abbreviation: String,
    pub expansion: String,
}

struct TrieNode {
    next: HashMap<u32, u32>,
    hit: Option<(u16, f32)>,
}

/// What the matcher knows about words: built from the shipped default and the CIO office's additions.
pub struct Lexicon {
    concepts: Vec<ConceptEntry>,
    /// Stemmed phrase token -> id used by the trie.
    phrase_tokens: HashMap<String, u32>,
    trie: Vec<TrieNode>,
    stop: HashSet<String>,
    ambiguous: HashSet<String>,
    /// Raw word -> the words it stands for.
    abbreviations: HashMap<String, Vec<String>>,
    /// Raw words the lexicon knows (phrase words, stop and generic words), for typo correction.
    fuzzy: FuzzyVocab,
    /// `(concept, first stems, second stems)`.
    proximity: Vec<(u16, HashSet<String>, HashSet<String>)>,
}

/// The shipped default lexicon, parsed once.
pub fn default_lexicon() -> std::sync::Arc<Lexicon> {
    static LEXICON: OnceLock<std::sync::Arc<Lexicon>> = OnceLock::new();
    LEXICON
        .get_or_init(|| {
            std::sync::Arc::new(
                Lexicon::build(DEFAULT_LEXICON, &[]).expect("the shipped lexicon is valid"),
            )
        })
        .clone()
}

/// The most concepts a lexicon may hold (concept ids are 16-bit).
pub const MAX_CONCEPTS: usize = 4_000;

impl Lexicon {
    /// Parses a lexicon and applies additions in order. Errors name what is wrong.
    pub fn build(source: &str, additions: &[VocabularyEntry]) -> Result<Lexicon, String> {
        let file: LexiconFile = toml::from_str(source).map_err(|e| e.to_string())?;
        let mut concepts = file.concept;
        let mut abbreviations: HashMap<String, Vec<String>> = file
            .abbreviations
            .iter()
            .map(|(k, v)| (k.to_lowercase(), tokenize(v)))
            .collect();
        for entry in additions {
            if !entry.abbreviation.trim().is_empty() {
                let word = tokenize(&entry.abbreviation);
                let expansion = tokenize(&entry.expansion);
                if word.len() != 1 || expansion.is_empty() {
                    return Err(format!(
                        "abbreviation {:?} must be one word with an expansion",
                        entry.abbreviation
                    ));
                }
                abbreviations.insert(word[0].clone(), expansion);
                continue;
            }
            match concepts.iter_mut().find(|c| c.id == entry.concept) {
                Some(c) => c.phrases.extend(entry.phrases.iter().cloned()),
                None => concepts.push(ConceptEntry {
                    id: entry.concept.clone(),
                    label: if entry.label.trim().is_empty() {
                        entry.concept.clone()
                    } else {
                        entry.label.clone()
                    },
                    phrases: entry.phrases.clone(),
                }),
            }
        }
        if concepts.len() > MAX_CONCEPTS {
            return Err(format!("more than {MAX_CONCEPTS} concepts"));
        }
        let mut ids = HashSet::new();
        for c in &concepts {
            if !ids.insert(c.id.as_str()) {
                return Err(format!("concept {:?} is listed twice", c.id));
            }
        }
        let proximity = file
            .proximity
            .iter()
            .map(|rule| {
                let concept = concepts
                    .iter()
                    .position(|c| c.id == rule.concept)
                    .ok_or_else(|| format!("proximity names unknown concept {:?}", rule.concept))?;
                Ok((
                    concept as u16,
                    rule.first.iter().map(|w| stem(w)).collect(),
                    rule.second.iter().map(|w| stem(w)).collect(),
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut lex = Lexicon {
            concepts: Vec::new(),
            phrase_tokens: HashMap::new(),
            trie: vec![TrieNode {
                next: HashMap::new(),
                hit: None,
            }],
            stop: HashSet::new(),
            ambiguous: file
                .ambiguous_alias_words
                .split_whitespace()
                .map(stem)
                .collect(),
            abbreviations,
            fuzzy: FuzzyVocab::default(),
            proximity,
        };
        for word in file
            .stop_words
            .split_whitespace()
            .chain(file.generic_words.split_whitespace())
        {
            lex.stop.insert(stem(word));
            lex.fuzzy.add(word);
        }
        for (index, concept) in concepts.iter().enumerate() {
            for phrase in &concept.phrases {
                let (text, weight) = match phrase.strip_prefix('~') {
                    Some(rest) => (rest, WEAK_PHRASE_WEIGHT),
                    None => (phrase.as_str(), 1.0),
                };
                let raw = lex.expand(tokenize(text));
                for word in &raw {
                    lex.fuzzy.add(word);
                }
                // "e signature" is also written "esignature": register every way of gluing neighbours.
                for variant in glued_variants(&raw) {
                    let stems: Vec<String> = variant.iter().map(|w| stem(w)).collect();
                    lex.insert_phrase(&stems, index as u16, weight);
                }
            }
        }
        lex.concepts = concepts;
        Ok(lex)
    }

    /// The concepts, in feature-id order.
    pub fn concepts(&self) -> &[ConceptEntry] {
        &self.concepts
    }

    fn concept_count(&self) -> usize {
        self.concepts.len()
    }

    /// Replaces known abbreviations by the words they stand for: `ms teams` -> `microsoft teams`.
    fn expand(&self, raw: Vec<String>) -> Vec<String> {
        if !raw.iter().any(|w| self.abbreviations.contains_key(w)) {
            return raw;
        }
        let mut out = Vec::with_capacity(raw.len() + 2);
        for word in raw {
            match self.abbreviations.get(&word) {
                Some(expansion) => out.extend(expansion.iter().cloned()),
                None => out.push(word),
            }
        }
        out
    }

    /// A name as the matcher compares names: known abbreviations expanded, then spacing, punctuation and case
    /// removed (`MS Teams` -> `microsoftteams`, `Docu Sign` -> `docusign`).
    pub fn glued_name(&self, text: &str) -> String {
        self.words(text).concat()
    }

    /// Tokenised and expanded.
    fn words(&self, text: &str) -> Vec<String> {
        self.expand(tokenize(text))
    }

    fn insert_phrase(&mut self, stems: &[String], concept: u16, weight: f32) {
        let mut node = 0u32;
        for s in stems {
            let next_id = self.phrase_tokens.len() as u32;
            let token = *self.phrase_tokens.entry(s.clone()).or_insert(next_id);
            let trie_len = self.trie.len() as u32;
            let child = *self.trie[node as usize]
                .next
                .entry(token)
                .or_insert(trie_len);
            if child == trie_len {
                self.trie.push(TrieNode {
                    next: HashMap::new(),
                    hit: None,
                });
            }
            node = child;
        }
        let slot = &mut self.trie[node as usize].hit;
        // A phrase listed twice keeps its strongest reading.
        match slot {
            Some((_, w)) if *w >= weight => {}
            _ => *slot = Some((concept, weight)),
        }
    }

    fn is_stop(&self, stem: &str) -> bool {
        self.stop.contains(stem)
    }

    /// The concept a single (glued) stem names on its own, if any: "chat bot" read as "chatbot".
    fn single_token_concept(&self, stem: &str) -> Option<(u16, f32)> {
        let token = self.phrase_tokens.get(stem)?;
        let child = self.trie[0].next.get(token)?;
        self.trie[*child as usize].hit
    }
}

/// Spellings folded before stemming (British and variant forms seen in requests).
fn american_spelling(word: &str) -> &str {
    match word {
        "licence" => "license",
        "licences" => "licenses",
        "licenced" => "licensed",
        "catalogue" => "catalog",
        "catalogues" => "catalogs",
        "centre" => "center",
        "centres" => "centers",
        "enrolment" => "enrollment",
        "programme" => "program",
        "programmes" => "programs",
        "analyse" => "analyze",
        "behaviour" => "behavior",
        "colour" => "color",
        "dialogue" => "dialog",
        other => other,
    }
}

/// Words whose stem would collide with a different meaning: `licensing` is a city function, while
/// `license` is mostly a software seat.
fn is_stem_exception(word: &str) -> bool {
    matches!(
        word,
        "licensing" | "news" | "series" | "status" | "analytics" | "canvas" | "gis" | "ops"
    )
}

/// All ways of gluing adjacent words of a short phrase: `[e, signature]` -> `e signature`, `esignature`.
fn glued_variants(words: &[String]) -> Vec<Vec<String>> {
    if words.len() <= 1 || words.len() > 5 {
        return vec![words.to_vec()];
    }
    let gaps = words.len() - 1;
    let mut out = Vec::with_capacity(1 << gaps);
    for mask in 0..(1u32 << gaps) {
        let mut variant = vec![words[0].clone()];
        for (gap, word) in words[1..].iter().enumerate() {
            if mask & (1 << gap) != 0 {
                variant.last_mut().expect("non-empty").push_str(word);
            } else {
                variant.push(word.clone());
            }
        }
        out.push(variant);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Tokens and stems.
// ---------------------------------------------------------------------------------------------------------

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            current.extend(ch.to_lowercase());
        } else if (ch == '\'' || ch == '\u{2019}') && !current.is_empty() {
            // "city's", "veterans'": drop the apostrophe and keep the word whole.
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The sentences and clauses of a free text: a phrase never runs across their ends ("... link meeting video.
/// Meeting minutes" holds no "video meeting"). A stop or other mark ends one only when a space or the end follows,
/// so "Boston.gov" or "v2.1" stay whole.
fn clauses(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|(_, c)| c.is_whitespace());
        let ends = ch == '\n' || (matches!(ch, '.' | ';' | '!' | '?') && next_is_space);
        if ends {
            if !text[start..i].trim().is_empty() {
                out.push(&text[start..i]);
            }
            start = i + ch.len_utf8();
        }
    }
    if !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
}

fn has_vowel(s: &str) -> bool {
    s.bytes()
        .any(|b| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y'))
}

fn undouble(s: &mut String) {
    let b = s.as_bytes();
    let n = b.len();
    if n >= 3 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'l' | b's' | b'z' | b'e' | b'o') {
        s.pop();
    }
}

/// A light stemmer: enough to meet plurals and verb forms, not so much that unrelated words collide.
fn stem(word: &str) -> String {
    let word = american_spelling(word);
    if word.len() <= 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) || is_stem_exception(word) {
        return word.to_string();
    }
    let mut s = word.to_string();
    // British -ise forms meet -ize forms (digitise, organisation); harmless elsewhere because it applies
    // the same way to both sides.
    for (from, to) in [
        ("isation", "ization"),
        ("ising", "izing"),
        ("ised", "ized"),
        ("ises", "izes"),
        ("ise", "ize"),
    ] {
        if s.len() >= 7 && s.ends_with(from) {
            s.truncate(s.len() - from.len());
            s.push_str(to);
            break;
        }
    }
    let n = s.len();
    if n > 4 && s.ends_with("ies") {
        s.truncate(n - 3);
        s.push('y');
    } else if s.ends_with("sses")
        || ["xes", "ches", "shes", "zzes"]
            .iter()
            .any(|e| s.ends_with(e))
    {
        s.truncate(n - 2);
    } else if s.ends_with('s') && !s.ends_with("ss") && !s.ends_with("us") && !s.ends_with("is") {
        s.truncate(n - 1);
    }
    let n = s.len();
    if n > 4 && s.ends_with("ied") {
        s.truncate(n - 3);
        s.push('y');
    } else if n >= 6 && s.ends_with("ing") && has_vowel(&s[..n - 3]) {
        s.truncate(n - 3);
        undouble(&mut s);
    } else if n >= 5 && s.ends_with("ed") && !s.ends_with("eed") && has_vowel(&s[..n - 2]) {
        s.truncate(n - 2);
        undouble(&mut s);
    }
    if s.len() > 4 && s.ends_with('e') {
        s.pop();
    }
    s
}

// ---------------------------------------------------------------------------------------------------------
// Typo correction: a symmetric-deletion index over the words that matter.
// ---------------------------------------------------------------------------------------------------------

const FUZZY_MIN_LEN: usize = 5;
const SHORT_WORD_LEN: usize = 7;
/// Two edits are allowed only in long words: a 9-letter brand the index does not know ("OverDrive") is
/// too often two edits from one it does ("OneDrive").
const FUZZY_TWO_EDITS_LEN: usize = 10;

#[derive(Default)]
struct FuzzyVocab {
    /// Word -> how many indexed documents (or the lexicon) contributed it.
    words: HashMap<String, u32>,
    /// Deletion variant -> words that produce it. Words whose count fell to zero stay here and are skipped.
    deletes: HashMap<String, Vec<String>>,
}

impl FuzzyVocab {
    fn add(&mut self, word: &str) {
        if word.chars().count() < FUZZY_MIN_LEN - 1 || !word.bytes().all(|b| b.is_ascii_lowercase())
        {
            return;
        }
        let count = self.words.entry(word.to_string()).or_insert(0);
        *count += 1;
        if *count > 1 {
            return;
        }
        let max = if word.len() >= 6 { 2 } else { 1 };
        for variant in deletions(word, max) {
            let entry = self.deletes.entry(variant).or_default();
            if !entry.iter().any(|w| w == word) {
                entry.push(word.to_string());
            }
        }
    }

    fn remove(&mut self, word: &str) {
        if let Some(count) = self.words.get_mut(word) {
            *count -= 1;
            if *count == 0 {
                self.words.remove(word);
            }
        }
    }

    fn contains(&self, word: &str) -> bool {
        self.words.contains_key(word)
    }

    /// The closest known word, as `(distance, word)`. Short words are easily one substitution away from
    /// another real word (`write`/`wrike`, `lending`/`landing`): up to 7 letters only a swap of neighbouring
    /// letters or one missing or extra letter counts as a typo (`vidoe`, `reveiw`, `recrods`).
    fn nearest(&self, word: &str, max: usize) -> Option<(usize, String)> {
        let len = word.chars().count();
        let mut best: Option<(usize, String)> = None;
        let first = word.as_bytes()[0];
        for variant in deletions(word, max) {
            let Some(candidates) = self.deletes.get(&variant) else {
                continue;
            };
            for candidate in candidates {
                if candidate.as_bytes()[0] != first || !self.words.contains_key(candidate) {
                    continue;
                }
                let substitution_only =
                    candidate.chars().count() == len && !is_transposition(word, candidate);
                if len <= SHORT_WORD_LEN && substitution_only {
                    continue;
                }
                if let Some(d) = osa_distance(word, candidate, max) {
                    let better = match &best {
                        None => true,
                        Some((bd, bw)) => d < *bd || (d == *bd && candidate < bw),
                    };
                    if better {
                        best = Some((d, candidate.clone()));
                    }
                }
            }
        }
        best
    }
}

fn is_transposition(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    diff.len() == 2
        && diff[1] == diff[0] + 1
        && a[diff[0]] == b[diff[1]]
        && a[diff[1]] == b[diff[0]]
}

/// The word itself and every string obtained by deleting up to `max` characters.
fn deletions(word: &str, max: usize) -> Vec<String> {
    let mut out = vec![word.to_string()];
    let mut frontier = vec![word.to_string()];
    for _ in 0..max {
        let mut next = Vec::new();
        for w in &frontier {
            let chars: Vec<char> = w.chars().collect();
            if chars.len() <= 2 {
                continue;
            }
            for i in 0..chars.len() {
                let v: String = chars[..i].iter().chain(&chars[i + 1..]).collect();
                if !out.contains(&v) {
                    out.push(v.clone());
                    next.push(v);
                }
            }
        }
        frontier = next;
    }
    out
}

/// Optimal string alignment distance (a transposition counts one), or `None` when above `max`.
pub(crate) fn osa_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= max).then_some(prev[m])
}

// ---------------------------------------------------------------------------------------------------------
// Analysis of one field into concepts and terms.
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Unit {
    Concept(u16),
    Term(String),
}

#[derive(Debug, Clone)]
struct AnalysedUnit {
    unit: Unit,
    weight: f32,
    /// A word inside a concept phrase, counted again on its own.
    component: bool,
    /// Position of its first word in the field.
    start: usize,
    /// The words as written, for evidence.
    surface: String,
}

/// Splits stemmed tokens into the longest concept phrases and the leftover informative terms.
fn analyse_stems(lex: &Lexicon, raw: &[String], stems: &[String]) -> Vec<AnalysedUnit> {
    let ids: Vec<Option<u32>> = stems
        .iter()
        .map(|s| lex.phrase_tokens.get(s).copied())
        .collect();
    let mut out = Vec::new();
    // Words inside a matched phrase belong to it: "street sign" and "digital signage" must not be re-read
    // as "sign ... digital" by the proximity rules below.
    let mut claimed = vec![false; stems.len()];
    let mut i = 0;
    while i < stems.len() {
        let mut node = 0usize;
        let mut best: Option<(usize, u16, f32)> = None;
        let mut j = i;
        while j < stems.len() {
            let Some(token) = ids[j] else { break };
            let Some(&child) = lex.trie[node].next.get(&token) else {
                break;
            };
            node = child as usize;
            j += 1;
            if let Some((concept, weight)) = lex.trie[node].hit {
                best = Some((j, concept, weight));
            }
        }
        // Written apart: "chat bot", "data warehouse" as "datawarehouse" is registered, but "Snow Flake"
        // only meets "snowflake" when glued here.
        if best.is_none() {
            let mut glued = raw[i].clone();
            for end in i + 2..=(i + 3).min(raw.len()) {
                glued.push_str(&raw[end - 1]);
                if let Some((concept, weight)) = lex.single_token_concept(&stem(&glued)) {
                    best = Some((end, concept, weight));
                }
            }
        }
        if let Some((end, concept, weight)) = best {
            out.push(AnalysedUnit {
                unit: Unit::Concept(concept),
                weight,
                component: false,
                start: i,
                surface: raw[i..end].join(" "),
            });
            claimed[i..end].fill(true);
            if end - i > 1 {
                for k in i..end {
                    if is_informative(lex, &stems[k]) {
                        out.push(AnalysedUnit {
                            unit: Unit::Term(stems[k].clone()),
                            weight: weight * COMPONENT_WEIGHT,
                            component: true,
                            start: k,
                            surface: raw[k].clone(),
                        });
                    }
                }
            }
            i = end;
            continue;
        }
        if is_informative(lex, &stems[i]) {
            let s = &stems[i];
            out.push(AnalysedUnit {
                unit: Unit::Term(s.clone()),
                weight: 1.0,
                component: false,
                start: i,
                surface: raw[i].clone(),
            });
        }
        i += 1;
    }
    for (concept, first, second) in &lex.proximity {
        // Only a full-strength reading makes the rule moot: a weak phrase ("signature") must not hide "sign
        // ... remotely" nearby, or adding words could lower a field's weight.
        if out
            .iter()
            .any(|u| u.unit == Unit::Concept(*concept) && u.weight >= 1.0)
        {
            continue;
        }
        let near = stems.iter().enumerate().find_map(|(a, s)| {
            if claimed[a] || !first.contains(s) {
                return None;
            }
            let lo = a.saturating_sub(PROXIMITY_WINDOW);
            let hi = (a + PROXIMITY_WINDOW + 1).min(stems.len());
            (lo..hi)
                .find(|&b| !claimed[b] && second.contains(&stems[b]))
                .map(|b| (a.min(b), a.max(b)))
        });
        if let Some((lo, hi)) = near {
            out.push(AnalysedUnit {
                unit: Unit::Concept(*concept),
                weight: 1.0,
                component: false,
                start: lo,
                surface: raw[lo..=hi].join(" "),
            });
        }
    }
    out
}

fn is_informative(lex: &Lexicon, stem: &str) -> bool {
    !lex.is_stop(stem) && stem.chars().count() >= 2 && !stem.bytes().all(|b| b.is_ascii_digit())
}

/// Splits a title at its first "for": "Interactive map of capital projects for the website" buys a map;
/// what follows "for" is the purpose or the audience, and weighs like a description.
fn split_purpose(raw: &[String]) -> (&[String], &[String]) {
    match raw.iter().position(|w| w == "for") {
        Some(i) if i > 0 => (&raw[..i], &raw[i + 1..]),
        _ => (raw, &[]),
    }
}

/// Marks the concepts of a title (before "for") that only qualify what is bought. English puts the head of
/// a compound last ("Microsoft 365 mailbox *backup*") and ends it at a preposition ("*backup* of Microsoft
/// 365 mailboxes"); concepts joined by "and"/"or" are all heads ("payroll and timekeeping").
fn title_modifiers(raw: &[String], units: &[AnalysedUnit]) -> Vec<bool> {
    const PREPOSITIONS: &str =
        "of with to in on from via using into across at by including through";
    let core_end = raw
        .iter()
        .position(|w| PREPOSITIONS.split(' ').any(|p| p == w))
        .unwrap_or(raw.len());
    let coordinated = raw[..core_end].iter().any(|w| w == "and" || w == "or");
    let is_concept = |u: &AnalysedUnit| matches!(u.unit, Unit::Concept(_)) && !u.component;
    let head = units
        .iter()
        .enumerate()
        .filter(|(_, u)| is_concept(u) && u.start < core_end)
        .max_by_key(|(i, u)| (u.start, *i))
        .map(|(i, _)| i);
    units
        .iter()
        .enumerate()
        .map(|(i, u)| is_concept(u) && (u.start >= core_end || (!coordinated && Some(i) != head)))
        .collect()
}

fn stems_of(raw: &[String]) -> Vec<String> {
    raw.iter().map(|w| stem(w)).collect()
}

fn normalise_key(text: &str) -> String {
    tokenize(text).join(" ")
}

/// Vendor names without the legal suffixes that differ between records of the same company.
fn vendor_key(name: &str) -> String {
    const SUFFIXES: &[&str] = &[
        "inc",
        "llc",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "plc",
        "lp",
    ];
    tokenize(name)
        .into_iter()
        .filter(|w| !SUFFIXES.contains(&w.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn significant_stems(lex: &Lexicon, text: &str) -> Vec<String> {
    stems_of(&lex.words(text))
        .into_iter()
        .filter(|s| !lex.is_stop(s))
        .collect()
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

    fn unit_id(&self, unit: &Unit) -> Option<FeatureId> {
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
    fn lookup(&self, key: &str) -> u32 {
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

    fn doc_count(&self) -> usize {
        self.services + self.purchases
    }

    /// IDF normalised so that a feature in exactly one document is 1 and one in every document is near 0.
    /// Over the catalogue only: purchases never move a weight.
    fn idf_norm(&self, df: usize) -> f64 {
        let n = self.services.max(1) as f64;
        let idf = |df: f64| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        (idf(df as f64) / idf(1.0)).clamp(0.0, 1.0)
    }

    fn feature_g(&self, feature: FeatureId) -> f64 {
        let df = self.service_df[feature as usize] as usize;
        let idf = self.idf_norm(df);
        if (feature as usize) < self.lex.concept_count() {
            0.5 + 0.5 * idf
        } else {
            TERM_KIND_WEIGHT * idf
        }
    }

    fn is_known_word(&self, raw: &str, stem: &str) -> bool {
        self.lex.phrase_tokens.contains_key(stem)
            || self.lex.is_stop(stem)
            || self.lex.fuzzy.contains(raw)
            || self.vocab.contains(raw)
            || self
                .term_ids
                .get(stem)
                .is_some_and(|&id| self.service_df[id as usize] > 0)
    }

    /// Replaces words nobody knows by the nearest word the lexicon or the catalogue knows.
    fn correct_typos(&self, raw: Vec<String>) -> Vec<String> {
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

    fn analyse_request(&self, request: &RequestText) -> Query {
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

struct QueryFeature {
    id: Option<FeatureId>,
    /// The strongest field it occurs in.
    weight: f32,
    /// The strongest field among those that say what is bought (title before "for", product,
    /// capabilities); 0 when it occurs only in the description, the purpose or the vendor.
    head_weight: f32,
    label: String,
    g: f64,
}

struct Query {
    features: Vec<QueryFeature>,
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

#[cfg(test)]
mod tests;
