//! The text analysis described in the module doc above: tokens and stems, typo correction, and the analysis of
//! one field into concepts and terms.

use std::collections::HashMap;

use super::lexicon::{american_spelling, is_stem_exception};
use super::{COMPONENT_WEIGHT, Lexicon, PROXIMITY_WINDOW};

// ---------------------------------------------------------------------------------------------------------
// Tokens and stems.
// ---------------------------------------------------------------------------------------------------------

pub(super) fn tokenize(text: &str) -> Vec<String> {
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
pub(super) fn clauses(text: &str) -> Vec<&str> {
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
pub(super) fn stem(word: &str) -> String {
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

pub(super) const FUZZY_MIN_LEN: usize = 5;
const SHORT_WORD_LEN: usize = 7;
/// Two edits are allowed only in long words: a 9-letter brand the index does not know ("OverDrive") is
/// too often two edits from one it does ("OneDrive").
pub(super) const FUZZY_TWO_EDITS_LEN: usize = 10;

#[derive(Default)]
pub(super) struct FuzzyVocab {
    /// Word -> how many indexed documents (or the lexicon) contributed it.
    words: HashMap<String, u32>,
    /// Deletion variant -> words that produce it. Words whose count fell to zero stay here and are skipped.
    deletes: HashMap<String, Vec<String>>,
}

impl FuzzyVocab {
    pub(super) fn add(&mut self, word: &str) {
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

    pub(super) fn remove(&mut self, word: &str) {
        if let Some(count) = self.words.get_mut(word) {
            *count -= 1;
            if *count == 0 {
                self.words.remove(word);
            }
        }
    }

    pub(super) fn contains(&self, word: &str) -> bool {
        self.words.contains_key(word)
    }

    /// The closest known word, as `(distance, word)`. Short words are easily one substitution away from
    /// another real word (`write`/`wrike`, `lending`/`landing`): up to 7 letters only a swap of neighbouring
    /// letters or one missing or extra letter counts as a typo (`vidoe`, `reveiw`, `recrods`).
    pub(super) fn nearest(&self, word: &str, max: usize) -> Option<(usize, String)> {
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
pub(super) enum Unit {
    Concept(u16),
    Term(String),
}

#[derive(Debug, Clone)]
pub(super) struct AnalysedUnit {
    pub(super) unit: Unit,
    pub(super) weight: f32,
    /// A word inside a concept phrase, counted again on its own.
    pub(super) component: bool,
    /// Position of its first word in the field.
    start: usize,
    /// The words as written, for evidence.
    pub(super) surface: String,
}

/// Splits stemmed tokens into the longest concept phrases and the leftover informative terms.
pub(super) fn analyse_stems(lex: &Lexicon, raw: &[String], stems: &[String]) -> Vec<AnalysedUnit> {
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
pub(super) fn split_purpose(raw: &[String]) -> (&[String], &[String]) {
    match raw.iter().position(|w| w == "for") {
        Some(i) if i > 0 => (&raw[..i], &raw[i + 1..]),
        _ => (raw, &[]),
    }
}

/// Marks the concepts of a title (before "for") that only qualify what is bought. English puts the head of
/// a compound last ("Microsoft 365 mailbox *backup*") and ends it at a preposition ("*backup* of Microsoft
/// 365 mailboxes"); concepts joined by "and"/"or" are all heads ("payroll and timekeeping").
pub(super) fn title_modifiers(raw: &[String], units: &[AnalysedUnit]) -> Vec<bool> {
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

pub(super) fn stems_of(raw: &[String]) -> Vec<String> {
    raw.iter().map(|w| stem(w)).collect()
}

pub(super) fn normalise_key(text: &str) -> String {
    tokenize(text).join(" ")
}

/// Vendor names without the legal suffixes that differ between records of the same company.
pub(super) fn vendor_key(name: &str) -> String {
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

pub(super) fn significant_stems(lex: &Lexicon, text: &str) -> Vec<String> {
    stems_of(&lex.words(text))
        .into_iter()
        .filter(|s| !lex.is_stop(s))
        .collect()
}
