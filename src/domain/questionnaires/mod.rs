//! Questionnaire templates, vendor answers, scoring and findings.
//!
//! Templates are data (`questionnaires/*.toml`), checked whole when they are loaded so that an authoring mistake
//! stops the service at start-up, named by file and question, instead of surfacing later inside a vendor's
//! assessment. A template's version is the SHA-256 of its text: an assessment records the version it was answered
//! against, and any edit, even to wording, makes a new version.
//!
//! Scoring follows the conventions vendors already know from HECVAT-style questionnaires: each scored question has
//! an expected answer and a weight (critical 20, standard 10, minor 5 points); an unanswered question counts
//! against the vendor, N/A (where the template allows it) takes the question out of the total, and a question
//! hidden by its `show_if` condition does not count at all.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};
use strum::{EnumString, IntoStaticStr, VariantArray};

mod answers;
mod loading;
mod scoring;

pub use answers::{Answer, is_applicable, parse_answer};
pub use loading::{SHIPPED, from_sources, shipped};
pub use scoring::{
    FindingDraft, QuestionResult, ResultStatus, RiskThresholds, RiskTier, Score, findings,
    risk_tier, score,
};

use loading::{RawTemplate, build_template};

/// Longest text answer accepted; anything longer is almost certainly a pasted document that belongs in a file.
pub const MAX_TEXT_ANSWER_CHARS: usize = 20_000;
/// Longest comment on an answer.
pub const MAX_COMMENT_CHARS: usize = 10_000;
/// Longest evidence reference ("SOC 2 report, section 4"): it names a document, it is not one.
pub const MAX_EVIDENCE_REF_CHARS: usize = 1_000;

/// A comment or evidence reference as it is stored: trimmed, absent when blank, refused past `max` characters.
pub fn note_text(text: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let length = text.chars().count();
    if length > max {
        return Err(format!(
            "is {length} characters; the most is {max}, so upload a longer text as a document"
        ));
    }
    Ok(Some(text.to_string()))
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum AnswerKind {
    /// Yes or No, plus N/A where the question allows it.
    YesNo,
    /// Exactly one of the question's options.
    SingleChoice,
    /// Any number of the question's options.
    MultipleChoice,
    /// Free text; never scored.
    Text,
    /// A number, optionally bounded by the question's `min`/`max`.
    Number,
    /// A calendar date (`YYYY-MM-DD`); never scored.
    Date,
    /// An uploaded piece of evidence, by its id; never scored.
    File,
}

impl AnswerKind {
    /// The name used in template files.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn is_choice(self) -> bool {
        matches!(self, AnswerKind::SingleChoice | AnswerKind::MultipleChoice)
    }
}

/// How much a scored question counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Weight {
    Critical,
    Standard,
    Minor,
}

impl Weight {
    /// Points at stake: the 20/10/5 scale that HECVAT uses, so vendors' own expectations carry over.
    pub fn points(self) -> u32 {
        match self {
            Weight::Critical => 20,
            Weight::Standard => 10,
            Weight::Minor => 5,
        }
    }

    /// Severity of the finding raised when a question of this weight is not met.
    pub fn severity(self) -> Severity {
        match self {
            Weight::Critical => Severity::Critical,
            Weight::Standard => Severity::Moderate,
            Weight::Minor => Severity::Low,
        }
    }

    /// The name used in template files.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Severity of a finding: from the weight of the question it was raised on, or as an analyst judged a vendor's
/// incident findings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[derive(poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Severity {
    Critical,
    Moderate,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A Yes / No / N/A answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum YesNo {
    Yes,
    No,
    Na,
}

impl YesNo {
    /// The token used in JSON answers and `show_if` conditions.
    pub fn token(self) -> &'static str {
        match self {
            YesNo::Yes => "yes",
            YesNo::No => "no",
            YesNo::Na => "na",
        }
    }

    /// The label a person sees (and a workbook dropdown offers).
    pub fn label(self) -> &'static str {
        match self {
            YesNo::Yes => "Yes",
            YesNo::No => "No",
            YesNo::Na => "N/A",
        }
    }

    /// Reads "yes", "no", "na" or "N/A" in any case; CAIQ writes "NA" and HECVAT "N/A", so both must pass.
    fn parse(text: &str) -> Option<YesNo> {
        match text.trim().to_ascii_lowercase().as_str() {
            "yes" => Some(YesNo::Yes),
            "no" => Some(YesNo::No),
            "na" | "n/a" => Some(YesNo::Na),
            _ => None,
        }
    }
}

fn is_na_token(text: &str) -> bool {
    YesNo::parse(text) == Some(YesNo::Na)
}

/// The answer a scored question expects.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// yes_no: the preferred answer (never N/A).
    YesNo(YesNo),
    /// single_choice: any one of these options is acceptable.
    AnyOf(Vec<String>),
    /// multiple_choice: every one of these options must be selected (others may be too).
    AllOf(Vec<String>),
    /// number: inclusive bounds; at least one is set.
    Range { min: Option<f64>, max: Option<f64> },
}

impl Expected {
    /// Whether `answer` meets this expectation. An answer of the wrong shape never does.
    pub fn is_met_by(&self, answer: &Answer) -> bool {
        match (self, answer) {
            (Expected::YesNo(expected), Answer::YesNo(given)) => expected == given,
            (Expected::AnyOf(options), Answer::Choice(given)) => options.contains(given),
            (Expected::AllOf(options), Answer::Choices(given)) => {
                options.iter().all(|option| given.contains(option))
            }
            (Expected::Range { min, max }, Answer::Number(given)) => {
                min.is_none_or(|min| *given >= min) && max.is_none_or(|max| *given <= max)
            }
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Expected::YesNo(answer) => answer.label().to_owned(),
            Expected::AnyOf(options) if options.len() == 1 => quote(&options[0]),
            Expected::AnyOf(options) => format!("one of {}", quote_list(options)),
            Expected::AllOf(options) => format!("all of {}", quote_list(options)),
            Expected::Range {
                min: Some(min),
                max: Some(max),
            } => format!("between {min} and {max}"),
            Expected::Range {
                min: Some(min),
                max: None,
            } => format!("at least {min}"),
            Expected::Range {
                min: None,
                max: Some(max),
            } => format!("at most {max}"),
            Expected::Range {
                min: None,
                max: None,
            } => "any number".to_owned(),
        }
    }
}

/// Shows a question only when an earlier question of the same template has one of the given answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShowIf {
    /// Id of the earlier question the condition reads.
    pub question: String,
    /// Answers that show this question: `yes`/`no`/`na` tokens for yes_no, option texts for choice questions
    /// (for multiple_choice, the option being among those selected), `na` for an N/A answer.
    pub any_of: Vec<String>,
}

/// One question of a template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    /// Stable within the template; answers, findings and workbooks refer to it.
    pub id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub kind: AnswerKind,
    /// The choices of a choice question, in display order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Smallest number a number answer may be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest number a number answer may be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    pub na_allowed: bool,
    /// Whether the vendor must answer before submitting. Scoring does not read it: an unanswered scored
    /// question counts as unmet either way.
    pub required: bool,
    /// None: informational, never scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expected>,
    pub weight: Weight,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
}

impl Question {
    /// Whether the question has an expected answer and so counts towards the score.
    pub fn is_scored(&self) -> bool {
        self.expected.is_some()
    }
}

/// A titled group of questions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub questions: Vec<Question>,
}

/// A validated questionnaire template. The only way to get one is [`Template::from_toml`] (or [`from_sources`]), so
/// every `Template` in the program has passed validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    /// e.g. `ma-201-cmr-17`; the policy engine assigns templates by it.
    pub id: String,
    pub title: String,
    pub description: String,
    /// When the policy assigns this template, in words.
    pub applies_to: String,
    pub sections: Vec<Section>,
    version: String,
    #[serde(skip)]
    file_name: String,
    /// Question id -> (section, position in section): lookups by id stay constant-time in templates of
    /// thousands of questions (workbook import, answer checks).
    #[serde(skip)]
    index: std::collections::HashMap<String, (usize, usize)>,
}

impl Template {
    /// Parses and validates a template. `file_name` is only used to name the file in errors.
    pub fn from_toml(file_name: &str, text: &str) -> Result<Template, TemplateError> {
        let canonical = canonical_text(text);
        let version = hex::encode(Sha256::digest(canonical.as_bytes()));
        let raw: RawTemplate =
            toml::from_str(&canonical).map_err(|error| TemplateError::Syntax {
                file: file_name.to_owned(),
                message: format!("invalid template: {}", error.to_string().trim_end()),
            })?;
        build_template(raw, version, file_name).map_err(|faults| TemplateError::Invalid {
            file: file_name.to_owned(),
            faults,
        })
    }

    /// Hex SHA-256 of the canonical file text: the content hash is the version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The name the template was loaded under.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// Every question in display order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections
            .iter()
            .flat_map(|section| section.questions.iter())
    }

    /// The question with this id, if the template has one.
    pub fn question(&self, id: &str) -> Option<&Question> {
        let (section, position) = *self.index.get(id)?;
        self.sections.get(section)?.questions.get(position)
    }
}

/// The bytes the version hashes: a leading byte-order mark is dropped and CRLF line ends become LF, so that a
/// checkout on Windows (git `autocrlf`) gives the same version as one on Linux. Any other change is a new version.
fn canonical_text(text: &str) -> String {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n")
}

/// Where in a template a fault is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Template,
    Section(String),
    Question(String),
}

/// One thing wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::Template => write!(f, "{}", self.message),
            Location::Section(id) => write!(f, "section {id}: {}", self.message),
            Location::Question(id) => write!(f, "question {id}: {}", self.message),
        }
    }
}

/// Why templates could not be loaded. Every message starts with the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Not TOML, or not shaped like a template (missing or unknown keys, wrong types).
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    /// Well-formed but wrong; every fault found is listed, one per line.
    #[error("{}", format_faults(.file, .faults))]
    Invalid { file: String, faults: Vec<Fault> },
    /// Two files declare the same template id.
    #[error("{file}: template id \"{id}\" is already used by {first}")]
    DuplicateId {
        file: String,
        id: String,
        first: String,
    },
}

fn format_faults(file: &str, faults: &[Fault]) -> String {
    faults
        .iter()
        .map(|fault| format!("{file}: {fault}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn quote(text: &str) -> String {
    format!("{text:?}")
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| quote(item))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use chrono::NaiveDate;

    use super::*;

    pub(super) const FILE: &str = "questionnaires/x.toml";
    const HEAD: &str = "id = \"t\"\ntitle = \"T\"\ndescription = \"d\"\napplies_to = \"a\"\n";

    pub(super) fn template(body: &str) -> Template {
        Template::from_toml(FILE, &format!("{HEAD}{body}")).expect("test template is valid")
    }

    pub(super) fn refusal(body: &str) -> String {
        Template::from_toml(FILE, &format!("{HEAD}{body}"))
            .expect_err("template should be refused")
            .to_string()
    }

    /// A one-section template holding `questions` (TOML `[[sections.questions]]` tables).
    pub(super) fn section(questions: &str) -> String {
        format!("[[sections]]\nid = \"s\"\ntitle = \"S\"\n{questions}")
    }

    pub(super) fn yes_no(id: &str, weight: &str, extra: &str) -> String {
        format!(
            "[[sections.questions]]\nid = \"{id}\"\ntext = \"{id}?\"\nkind = \"yes_no\"\nexpected = \"yes\"\n\
             weight = \"{weight}\"\ncitation = \"c\"\n{extra}\n"
        )
    }

    // ----- versions -----

    #[test]
    fn the_version_is_the_sha256_of_the_text_and_changes_with_any_byte() {
        let body = section(&yes_no("Q1", "standard", ""));
        let text = format!("{HEAD}{body}");
        let original = Template::from_toml(FILE, &text).unwrap();
        assert_eq!(
            original.version(),
            hex::encode(Sha256::digest(text.as_bytes()))
        );
        assert_eq!(
            Template::from_toml("other.toml", &text).unwrap().version(),
            original.version()
        );

        let edited = text.replace("Q1?", "Q1!");
        assert_eq!(edited.len(), text.len());
        assert_ne!(
            Template::from_toml(FILE, &edited).unwrap().version(),
            original.version()
        );
        let comment = format!("{text}# note\n");
        assert_ne!(
            Template::from_toml(FILE, &comment).unwrap().version(),
            original.version()
        );
    }

    #[test]
    fn windows_line_endings_and_a_byte_order_mark_do_not_change_the_version() {
        let text = format!("{HEAD}{}", section(&yes_no("Q1", "standard", "")));
        let original = Template::from_toml(FILE, &text).unwrap();
        let windows = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        assert_eq!(
            Template::from_toml(FILE, &windows).unwrap().version(),
            original.version()
        );
    }

    // ----- the shipped templates -----

    fn shipped() -> Vec<Template> {
        super::shipped().unwrap_or_else(|error| panic!("shipped templates must load:\n{error}"))
    }

    #[test]
    fn every_shipped_template_loads_and_validates() {
        let ids: Vec<String> = shipped().into_iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            vec![
                "city-baseline",
                "cjis-addendum",
                "hipaa-addendum",
                "ma-201-cmr-17",
                "pci-addendum",
                "surveillance"
            ]
        );
    }

    #[test]
    fn every_201_cmr_17_element_is_cited_by_a_question() {
        let elements = [
            "201 CMR 17.03(2)(a)",
            "201 CMR 17.03(2)(b)(1)",
            "201 CMR 17.03(2)(b)(2)",
            "201 CMR 17.03(2)(b)(3)",
            "201 CMR 17.03(2)(c)",
            "201 CMR 17.03(2)(d)",
            "201 CMR 17.03(2)(e)",
            "201 CMR 17.03(2)(f)(1)",
            "201 CMR 17.03(2)(f)(2)",
            "201 CMR 17.03(2)(g)",
            "201 CMR 17.03(2)(h)",
            "201 CMR 17.03(2)(i)",
            "201 CMR 17.03(2)(j)",
            "201 CMR 17.04(1)(a)",
            "201 CMR 17.04(1)(b)",
            "201 CMR 17.04(1)(c)",
            "201 CMR 17.04(1)(d)",
            "201 CMR 17.04(1)(e)",
            "201 CMR 17.04(2)(a)",
            "201 CMR 17.04(2)(b)",
            "201 CMR 17.04(3)",
            "201 CMR 17.04(4)",
            "201 CMR 17.04(5)",
            "201 CMR 17.04(6)",
            "201 CMR 17.04(7)",
            "201 CMR 17.04(8)",
        ];
        let templates = shipped();
        let template = templates.iter().find(|t| t.id == "ma-201-cmr-17").unwrap();
        // Exact match on each `;`-separated citation, so "17.03(2)(f)" does not pass for "17.03(2)(f)(1)".
        let cited: BTreeSet<&str> = template
            .questions()
            .filter(|q| q.is_scored())
            .filter_map(|q| q.citation.as_deref())
            .flat_map(|citation| citation.split(';').map(str::trim))
            .collect();
        let missing: Vec<&str> = elements
            .into_iter()
            .filter(|element| !cited.contains(element))
            .collect();
        assert!(
            missing.is_empty(),
            "not cited by any scored question: {missing:?}"
        );
    }

    /// Answers that meet every expectation and show every conditional question.
    fn ideal_answers(template: &Template) -> BTreeMap<String, Answer> {
        let mut answers = BTreeMap::new();
        for question in template.questions() {
            let answer = match (&question.expected, question.kind) {
                (Some(Expected::YesNo(answer)), _) => Answer::YesNo(*answer),
                (Some(Expected::AnyOf(options)), _) => Answer::Choice(options[0].clone()),
                (Some(Expected::AllOf(options)), _) => Answer::Choices(options.clone()),
                (Some(Expected::Range { min, max }), _) => {
                    Answer::Number(min.or(*max).unwrap_or_default())
                }
                // Routing questions: the answer that shows their dependants.
                (None, AnswerKind::YesNo) => Answer::YesNo(YesNo::Yes),
                (None, AnswerKind::SingleChoice) => Answer::Choice(question.options[0].clone()),
                (None, AnswerKind::MultipleChoice) => Answer::Choices(question.options.clone()),
                (None, AnswerKind::Number) => Answer::Number(question.min.unwrap_or_default()),
                (None, AnswerKind::Text) => Answer::Text("described".into()),
                (None, AnswerKind::Date) => {
                    Answer::Date(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap())
                }
                (None, AnswerKind::File) => Answer::File {
                    evidence_id: "evidence".into(),
                },
            };
            let json = answer.to_json();
            assert_eq!(
                parse_answer(question, &json).as_ref(),
                Ok(&answer),
                "{}",
                question.id
            );
            answers.insert(question.id.clone(), answer);
        }
        answers
    }

    #[test]
    fn every_shipped_template_can_be_met_in_full_and_failed_in_full() {
        for template in shipped() {
            let ideal = ideal_answers(&template);
            let best = score(&template, &ideal);
            assert_eq!(best.percent, 100.0, "{}", template.id);
            assert!(
                best.unanswered_required.is_empty(),
                "{}: {:?}",
                template.id,
                best.unanswered_required
            );
            assert!(findings(&template, &best).is_empty(), "{}", template.id);
            assert!(best.possible_points > 0, "{} scores nothing", template.id);

            let worst = score(&template, &BTreeMap::new());
            assert_eq!(worst.earned_points, 0);
            assert_eq!(
                risk_tier(
                    worst.percent,
                    worst.has_unmet_critical(),
                    &RiskThresholds::default()
                ),
                RiskTier::High,
                "{}",
                template.id
            );
        }
    }

    #[test]
    fn face_surveillance_is_a_critical_expectation_of_no_citing_16_62() {
        let templates = shipped();
        let template = templates.iter().find(|t| t.id == "surveillance").unwrap();
        let face = template.question("FACE-01").unwrap();
        assert_eq!(face.expected, Some(Expected::YesNo(YesNo::No)));
        assert_eq!(face.weight, Weight::Critical);
        assert_eq!(face.citation.as_deref(), Some("Boston City Code 16-62"));
        assert!(!face.na_allowed);
    }

    #[test]
    fn the_baseline_expects_breach_notice_within_72_hours_and_us_only_storage() {
        let templates = shipped();
        let baseline = templates.iter().find(|t| t.id == "city-baseline").unwrap();
        let notice = baseline.question("INC-03").unwrap();
        assert_eq!(
            notice.expected,
            Some(Expected::Range {
                min: None,
                max: Some(72.0)
            })
        );
        let location = baseline.question("DAT-01").unwrap();
        assert_eq!(
            location.expected,
            Some(Expected::AnyOf(vec!["US only".into()]))
        );
    }

    #[test]
    fn notes_are_trimmed_blank_ones_dropped_and_long_ones_refused() {
        assert_eq!(note_text(None, 5), Ok(None));
        assert_eq!(note_text(Some("  \n "), 5), Ok(None));
        assert_eq!(note_text(Some(" SOC 2 "), 5), Ok(Some("SOC 2".into())));
        assert_eq!(
            note_text(Some("SOC 2 report"), 5),
            Err("is 12 characters; the most is 5, so upload a longer text as a document".into())
        );
    }
}
