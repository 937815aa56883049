//! What the questions of other questionnaires mean for ours: per external format version, the list of its
//! question IDs (with a short summary each, in our words) and the crosswalk from those IDs to our templates'
//! questions, each link a claim of strength `same` (the answer is carried over) or `related` (shown as a hint,
//! never stored).
//!
//! The data is compiled in from `questionnaires/formats/*.toml` and `questionnaires/crosswalks/*.toml`; a version
//! with an ID list but no crosswalk is known (and detected) but not read. [`Registry::faults`] holds every
//! crosswalk to its version's list and to the templates, and a test runs it on the shipped files.
//!
//! A sheet in no known layout is read through a hand [`Mapping`] (where its IDs and answers are, and in which
//! version's ID space), which a saved import profile keeps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::questionnaires::{AnswerKind, Template};

/// How much a link claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// The external question asks what ours asks: its Yes, No or N/A is ours.
    Same,
    /// It touches the same subject but asks less, more or something else: a hint for the vendor and analyst.
    Related,
}

/// One external version's question IDs, each with a summary of what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList {
    /// Public name, e.g. `caiq-v4`.
    pub version: String,
    /// `caiq`, `hecvat`, `nist-800-53` or `vsaq`.
    pub family: String,
    pub title: String,
    /// What the list was checked against.
    pub checked_against: String,
    pub questions: BTreeMap<String, String>,
}

/// The external questions linked to one of our questions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    pub same: Vec<String>,
    pub related: Vec<String>,
}

impl Links {
    /// Every linked ID with its strength.
    pub fn all(&self) -> impl Iterator<Item = (&str, Strength)> {
        self.same
            .iter()
            .map(|id| (id.as_str(), Strength::Same))
            .chain(
                self.related
                    .iter()
                    .map(|id| (id.as_str(), Strength::Related)),
            )
    }
}

/// One external version's crosswalk onto our templates: template id -> question id -> links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Crosswalk {
    pub version: String,
    pub templates: BTreeMap<String, BTreeMap<String, Links>>,
}

impl Crosswalk {
    /// The links of `template`'s questions, if the crosswalk names the template.
    pub fn for_template(&self, template: &str) -> Option<&BTreeMap<String, Links>> {
        self.templates.get(template)
    }

    /// Parses a crosswalk file: `version = "..."`, then one table per template whose keys are question IDs and
    /// whose values are `{ same = [...], related = [...] }`.
    pub fn from_toml(file: &str, text: &str) -> Result<Crosswalk, String> {
        let table: toml::Table = text.parse().map_err(|e| format!("{file}: {e}"))?;
        let mut crosswalk = Crosswalk::default();
        for (key, value) in table {
            if key == "version" {
                crosswalk.version = value
                    .as_str()
                    .ok_or_else(|| format!("{file}: version is not text"))?
                    .to_owned();
                continue;
            }
            let questions = value
                .as_table()
                .ok_or_else(|| format!("{file}: {key} is not a table of questions"))?;
            let mut links_by_question = BTreeMap::new();
            for (question, links) in questions {
                let links = links.as_table().ok_or_else(|| {
                    format!("{file}: {key}.{question} is not {{ same, related }}")
                })?;
                let mut parsed = Links::default();
                for (strength, ids) in links {
                    let ids: Vec<String> = ids
                        .as_array()
                        .and_then(|ids| {
                            ids.iter()
                                .map(|id| id.as_str().map(str::to_owned))
                                .collect()
                        })
                        .ok_or_else(|| {
                            format!("{file}: {key}.{question}.{strength} is not a list of IDs")
                        })?;
                    match strength.as_str() {
                        "same" => parsed.same = ids,
                        "related" => parsed.related = ids,
                        other => {
                            return Err(format!(
                                "{file}: {key}.{question}: \"{other}\" is not a strength (same or related)"
                            ));
                        }
                    }
                }
                links_by_question.insert(question.clone(), parsed);
            }
            crosswalk.templates.insert(key, links_by_question);
        }
        if crosswalk.version.is_empty() {
            return Err(format!("{file}: no version"));
        }
        Ok(crosswalk)
    }
}

impl IdList {
    pub fn from_toml(file: &str, text: &str) -> Result<IdList, String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            version: String,
            family: String,
            title: String,
            checked_against: String,
            questions: BTreeMap<String, String>,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        Ok(IdList {
            version: raw.version,
            family: raw.family,
            title: raw.title,
            checked_against: raw.checked_against,
            questions: raw.questions,
        })
    }
}

/// Every known external version.
#[derive(Debug, Default)]
pub struct Registry {
    lists: BTreeMap<String, IdList>,
    crosswalks: BTreeMap<String, Crosswalk>,
}

/// The shipped ID lists and crosswalks, as (file, text).
const LISTS: &[(&str, &str)] = &[
    (
        "questionnaires/formats/caiq-v3.0.1.toml",
        include_str!("../../questionnaires/formats/caiq-v3.0.1.toml"),
    ),
    (
        "questionnaires/formats/caiq-v3.1.toml",
        include_str!("../../questionnaires/formats/caiq-v3.1.toml"),
    ),
    (
        "questionnaires/formats/caiq-v4.toml",
        include_str!("../../questionnaires/formats/caiq-v4.toml"),
    ),
    (
        "questionnaires/formats/hecvat-3-lite.toml",
        include_str!("../../questionnaires/formats/hecvat-3-lite.toml"),
    ),
    (
        "questionnaires/formats/hecvat-4.toml",
        include_str!("../../questionnaires/formats/hecvat-4.toml"),
    ),
    (
        "questionnaires/formats/nist-800-53r5.toml",
        include_str!("../../questionnaires/formats/nist-800-53r5.toml"),
    ),
    (
        "questionnaires/formats/vsaq.toml",
        include_str!("../../questionnaires/formats/vsaq.toml"),
    ),
];

const CROSSWALKS: &[(&str, &str)] = &[
    (
        "questionnaires/crosswalks/caiq-v3.0.1.toml",
        include_str!("../../questionnaires/crosswalks/caiq-v3.0.1.toml"),
    ),
    (
        "questionnaires/crosswalks/caiq-v3.1.toml",
        include_str!("../../questionnaires/crosswalks/caiq-v3.1.toml"),
    ),
    (
        "questionnaires/crosswalks/caiq-v4.toml",
        include_str!("../../questionnaires/crosswalks/caiq-v4.toml"),
    ),
    (
        "questionnaires/crosswalks/hecvat-3-lite.toml",
        include_str!("../../questionnaires/crosswalks/hecvat-3-lite.toml"),
    ),
    (
        "questionnaires/crosswalks/hecvat-4.toml",
        include_str!("../../questionnaires/crosswalks/hecvat-4.toml"),
    ),
    (
        "questionnaires/crosswalks/nist-800-53r5.toml",
        include_str!("../../questionnaires/crosswalks/nist-800-53r5.toml"),
    ),
    (
        "questionnaires/crosswalks/vsaq.toml",
        include_str!("../../questionnaires/crosswalks/vsaq.toml"),
    ),
];

static SHIPPED: LazyLock<Registry> = LazyLock::new(|| {
    Registry::from_files(LISTS, CROSSWALKS)
        .unwrap_or_else(|fault| panic!("shipped crosswalk data: {fault}"))
});

/// The shipped ID lists and crosswalks. A malformed file is a build defect: a test parses them all.
pub fn registry() -> &'static Registry {
    &SHIPPED
}

impl Registry {
    pub fn from_files(
        lists: &[(&str, &str)],
        crosswalks: &[(&str, &str)],
    ) -> Result<Registry, String> {
        let mut registry = Registry::default();
        for (file, text) in lists {
            let list = IdList::from_toml(file, text)?;
            registry.lists.insert(list.version.clone(), list);
        }
        for (file, text) in crosswalks {
            let crosswalk = Crosswalk::from_toml(file, text)?;
            registry
                .crosswalks
                .insert(crosswalk.version.clone(), crosswalk);
        }
        Ok(registry)
    }

    pub fn id_list(&self, version: &str) -> Option<&IdList> {
        self.lists.get(version)
    }

    pub fn crosswalk(&self, version: &str) -> Option<&Crosswalk> {
        self.crosswalks.get(version)
    }

    /// Versions that have a crosswalk, i.e. that an upload may be read through.
    pub fn readable_versions(&self) -> impl Iterator<Item = &str> {
        self.crosswalks.keys().map(String::as_str)
    }

    /// Every fault of the crosswalks against the ID lists and `templates`: an ID its version does not list, a
    /// template or question that does not exist or is not yes/no, an ID linked twice to one question, a
    /// crosswalk without a list.
    pub fn faults(&self, templates: &[Template]) -> Vec<String> {
        let mut faults = Vec::new();
        for (version, crosswalk) in &self.crosswalks {
            let Some(list) = self.lists.get(version) else {
                faults.push(format!("{version}: a crosswalk without an ID list"));
                continue;
            };
            for (template_id, questions) in &crosswalk.templates {
                let template = templates.iter().find(|t| &t.id == template_id);
                if template.is_none() {
                    faults.push(format!("{version}: no template \"{template_id}\""));
                }
                for (question_id, links) in questions {
                    let at = format!("{version}: {template_id} {question_id}");
                    if let Some(template) = template {
                        match template.question(question_id) {
                            None => faults.push(format!("{at}: the template has no such question")),
                            Some(q) if q.kind != AnswerKind::YesNo => {
                                faults.push(format!("{at}: not a yes/no question"))
                            }
                            Some(_) => {}
                        }
                    }
                    if links.same.is_empty() && links.related.is_empty() {
                        faults.push(format!("{at}: no links"));
                    }
                    let mut seen = BTreeSet::new();
                    for (id, _) in links.all() {
                        if !list.questions.contains_key(id) {
                            faults.push(format!("{at}: {id} is not a question of {version}"));
                        }
                        if !seen.insert(id) {
                            faults.push(format!("{at}: {id} is linked twice"));
                        }
                    }
                }
            }
        }
        faults
    }
}

/// Where a hand-mapped sheet keeps its IDs and answers, and what its answer words mean. Field names are the query
/// parameters' (and a saved profile's), so that a fault names the setting as the caller wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Sheet name, matched without regard to case.
    pub sheet: String,
    /// 1-based row of the header; answers are read from the rows below it.
    pub header_row: u32,
    /// Column letters, e.g. `A`.
    pub id_column: String,
    /// One column holding answer words. Either this or the mark columns below.
    #[serde(default)]
    pub answer_column: Option<String>,
    /// Columns where a mark (any text, usually `X`) means Yes, No or N/A, as CAIQ v3 and the FedRAMP CIS
    /// worksheet lay their answers out.
    #[serde(default)]
    pub yes_column: Option<String>,
    #[serde(default)]
    pub no_column: Option<String>,
    #[serde(default)]
    pub na_column: Option<String>,
    #[serde(default)]
    pub comment_column: Option<String>,
    /// What each answer word means, as `yes`, `no` or `na`; words are matched without regard to case or
    /// surrounding spaces, e.g. `"Implemented" -> "yes"`, `"Partial" -> "no"`. Empty: Yes, No, NA and N/A. Any
    /// other text in the answer column (a free-text answer) is not a choice: skipped and counted, not an error.
    #[serde(default)]
    pub answer_words: BTreeMap<String, String>,
    /// The format version whose IDs the sheet holds (e.g. `caiq-v4` for a CAIQ re-typed into another layout), so
    /// that its crosswalk is used; without it, the IDs are read as our own question IDs.
    #[serde(default)]
    pub id_space: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_templates() -> Vec<Template> {
        crate::domain::questionnaires::shipped().expect("shipped templates load")
    }

    #[test]
    fn every_shipped_crosswalk_names_only_ids_of_its_version_and_questions_that_exist() {
        let faults = registry().faults(&shipped_templates());
        assert!(faults.is_empty(), "{}", faults.join("\n"));
    }

    #[test]
    fn the_shipped_lists_hold_every_published_question() {
        let counts: Vec<(&str, usize)> = [
            "caiq-v3.0.1",
            "caiq-v3.1",
            "caiq-v4",
            "hecvat-3-lite",
            "hecvat-4",
            "nist-800-53r5",
            "vsaq",
        ]
        .into_iter()
        .map(|v| (v, registry().id_list(v).expect(v).questions.len()))
        .collect();
        assert_eq!(
            counts,
            [
                ("caiq-v3.0.1", 295),
                ("caiq-v3.1", 310),
                ("caiq-v4", 261),
                ("hecvat-3-lite", 94),
                ("hecvat-4", 332),
                ("nist-800-53r5", 287),
                ("vsaq", 129)
            ]
        );
        for list in [
            "caiq-v3.0.1",
            "caiq-v3.1",
            "caiq-v4",
            "hecvat-3-lite",
            "hecvat-4",
            "nist-800-53r5",
            "vsaq",
        ] {
            let list = registry().id_list(list).unwrap();
            assert!(
                list.questions
                    .values()
                    .all(|summary| !summary.trim().is_empty()),
                "{}: every ID has a summary",
                list.version
            );
        }
        assert_eq!(
            registry().readable_versions().collect::<Vec<_>>(),
            [
                "caiq-v3.0.1",
                "caiq-v3.1",
                "caiq-v4",
                "hecvat-3-lite",
                "hecvat-4",
                "nist-800-53r5",
                "vsaq"
            ]
        );
    }

    #[test]
    fn a_crosswalk_naming_an_id_its_version_lacks_is_a_fault() {
        let list = "version = \"x-1\"\nfamily = \"x\"\ntitle = \"X\"\nchecked_against = \"t\"\n\
                    [questions]\n\"ABC-01\" = \"one\"\n";
        // The fault the issue found: an ID taken from another version (COMP-04 is no question of x-1).
        let crosswalk = "version = \"x-1\"\n[city-baseline]\nIAM-01 = { same = [\"ABC-01\"], related = [\"COMP-04\"] }\n\
                         IAM-02 = { same = [\"ABC-01\"] }\nNOPE-1 = { related = [\"ABC-01\", \"ABC-01\"] }\n\
                         [no-such-template]\nQ = { same = [\"ABC-01\"] }\n";
        let registry = Registry::from_files(&[("l", list)], &[("c", crosswalk)]).unwrap();
        assert_eq!(
            registry.faults(&shipped_templates()),
            [
                "x-1: city-baseline IAM-01: COMP-04 is not a question of x-1",
                "x-1: city-baseline IAM-02: not a yes/no question",
                "x-1: city-baseline NOPE-1: the template has no such question",
                "x-1: city-baseline NOPE-1: ABC-01 is linked twice",
                "x-1: no template \"no-such-template\"",
            ]
        );
    }

    #[test]
    fn a_strength_other_than_same_or_related_is_refused() {
        let err = Crosswalk::from_toml("c", "version = \"v\"\n[t]\nQ = { maybe = [\"A\"] }\n")
            .unwrap_err();
        assert!(err.contains("\"maybe\" is not a strength"), "{err}");
    }
}
