//! The lexicon: concepts, abbreviations, stop words, generic words, spelling variants. Data, not code: the
//! shipped default is `duplicates_lexicon.toml`; the CIO office adds [`VocabularyEntry`]s at run time.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::WEAK_PHRASE_WEIGHT;
use super::analysis::{FuzzyVocab, stem, tokenize};

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

pub(super) struct TrieNode {
    pub(super) next: HashMap<u32, u32>,
    pub(super) hit: Option<(u16, f32)>,
}

/// What the matcher knows about words: built from the shipped default and the CIO office's additions.
pub struct Lexicon {
    pub(super) concepts: Vec<ConceptEntry>,
    /// Stemmed phrase token -> id used by the trie.
    pub(super) phrase_tokens: HashMap<String, u32>,
    pub(super) trie: Vec<TrieNode>,
    stop: HashSet<String>,
    pub(super) ambiguous: HashSet<String>,
    /// Raw word -> the words it stands for.
    abbreviations: HashMap<String, Vec<String>>,
    /// Raw words the lexicon knows (phrase words, stop and generic words), for typo correction.
    pub(super) fuzzy: FuzzyVocab,
    /// `(concept, first stems, second stems)`.
    pub(super) proximity: Vec<(u16, HashSet<String>, HashSet<String>)>,
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

    pub(super) fn concept_count(&self) -> usize {
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
    pub(super) fn words(&self, text: &str) -> Vec<String> {
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

    pub(super) fn is_stop(&self, stem: &str) -> bool {
        self.stop.contains(stem)
    }

    /// The concept a single (glued) stem names on its own, if any: "chat bot" read as "chatbot".
    pub(super) fn single_token_concept(&self, stem: &str) -> Option<(u16, f32)> {
        let token = self.phrase_tokens.get(stem)?;
        let child = self.trie[0].next.get(token)?;
        self.trie[*child as usize].hit
    }
}

/// Spellings folded before stemming (British and variant forms seen in requests).
pub(super) fn american_spelling(word: &str) -> &str {
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
pub(super) fn is_stem_exception(word: &str) -> bool {
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
