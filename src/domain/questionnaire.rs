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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

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
    const ALL: [AnswerKind; 7] = [
        AnswerKind::YesNo,
        AnswerKind::SingleChoice,
        AnswerKind::MultipleChoice,
        AnswerKind::Text,
        AnswerKind::Number,
        AnswerKind::Date,
        AnswerKind::File,
    ];

    /// The name used in template files.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::YesNo => "yes_no",
            AnswerKind::SingleChoice => "single_choice",
            AnswerKind::MultipleChoice => "multiple_choice",
            AnswerKind::Text => "text",
            AnswerKind::Number => "number",
            AnswerKind::Date => "date",
            AnswerKind::File => "file",
        }
    }

    fn parse(name: &str) -> Option<AnswerKind> {
        AnswerKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    fn is_choice(self) -> bool {
        matches!(self, AnswerKind::SingleChoice | AnswerKind::MultipleChoice)
    }
}

impl fmt::Display for AnswerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a scored question counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weight {
    Critical,
    Standard,
    Minor,
}

impl Weight {
    const ALL: [Weight; 3] = [Weight::Critical, Weight::Standard, Weight::Minor];

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
        match self {
            Weight::Critical => "critical",
            Weight::Standard => "standard",
            Weight::Minor => "minor",
        }
    }

    fn parse(name: &str) -> Option<Weight> {
        Weight::ALL
            .into_iter()
            .find(|weight| weight.as_str() == name)
    }
}

/// Severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Moderate,
    Low,
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

/// The per-question `crosswalk = { caiq_v4 = [...], hecvat = [...] }` of template versions written before
/// crosswalks moved to `questionnaires/crosswalks/` (one file per external format version, see
/// [`crate::domain::crosswalk`]). Still read so that those versions, which the database keeps, parse; never used.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyCrosswalk {
    #[serde(default)]
    #[allow(dead_code)]
    caiq_v4: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    hecvat: Vec<String>,
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

/// The templates the service ships with, compiled into the binary so that it runs from any directory. A test in
/// `templates` checks that this list is exactly the `.toml` files of `questionnaires/`.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "questionnaires/city-baseline.toml",
        include_str!("../../questionnaires/city-baseline.toml"),
    ),
    (
        "questionnaires/cjis-addendum.toml",
        include_str!("../../questionnaires/cjis-addendum.toml"),
    ),
    (
        "questionnaires/hipaa-addendum.toml",
        include_str!("../../questionnaires/hipaa-addendum.toml"),
    ),
    (
        "questionnaires/ma-201-cmr-17.toml",
        include_str!("../../questionnaires/ma-201-cmr-17.toml"),
    ),
    (
        "questionnaires/pci-addendum.toml",
        include_str!("../../questionnaires/pci-addendum.toml"),
    ),
    (
        "questionnaires/surveillance.toml",
        include_str!("../../questionnaires/surveillance.toml"),
    ),
];

/// The shipped templates, checked.
pub fn shipped() -> Result<Vec<Template>, TemplateError> {
    from_sources(
        SHIPPED
            .iter()
            .map(|(file, text)| (file.to_string(), text.to_string())),
    )
}

/// Checks each `(file name, text)` as a template, refusing two that declare the same id, and sorts them by id.
/// Faults name the file as given; the first faulty source in the order given is reported.
pub fn from_sources(
    sources: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Template>, TemplateError> {
    let mut templates: Vec<Template> = Vec::new();
    let mut files_by_id: BTreeMap<String, String> = BTreeMap::new();
    for (file, text) in sources {
        let template = Template::from_toml(&file, &text)?;
        if let Some(first) = files_by_id.get(&template.id) {
            return Err(TemplateError::DuplicateId {
                file,
                id: template.id,
                first: first.clone(),
            });
        }
        files_by_id.insert(template.id.clone(), file);
        templates.push(template);
    }
    templates.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(templates)
}

// ---------------------------------------------------------------------------------------------------------------
// Template files as written, before validation.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    id: String,
    title: String,
    description: String,
    applies_to: String,
    #[serde(default)]
    sections: Vec<RawSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: String,
    title: String,
    // Kept as tables so that a question's own shape errors can be reported under its id.
    #[serde(default)]
    questions: Vec<toml::Table>,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    text: String,
    #[serde(default)]
    help: Option<String>,
    // Strings rather than enums so that an unknown value is reported under the question's id, with the choices.
    kind: String,
    #[serde(default)]
    options: Option<Vec<String>>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    na_allowed: bool,
    #[serde(default = "default_true")]
    required: bool,
    // Its shape depends on the kind, so it is read after the kind is known.
    #[serde(default)]
    expected: Option<toml::Value>,
    #[serde(default)]
    weight: Option<String>,
    #[serde(default)]
    citation: Option<String>,
    #[serde(default)]
    show_if: Option<RawShowIf>,
    #[serde(default)]
    /// Ignored: see [`LegacyCrosswalk`].
    #[allow(dead_code)]
    crosswalk: Option<LegacyCrosswalk>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShowIf {
    question: String,
    #[serde(default)]
    equals: Option<String>,
    #[serde(default)]
    any_of: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------------------------
// Validation.

fn build_template(
    raw: RawTemplate,
    version: String,
    file_name: &str,
) -> Result<Template, Vec<Fault>> {
    let mut faults = Vec::new();
    let mut template_fault = |message: String| {
        faults.push(Fault {
            location: Location::Template,
            message,
        })
    };
    if !is_template_id(&raw.id) {
        template_fault(format!(
            "template id {} must be lower-case letters, digits and dashes",
            quote(&raw.id)
        ));
    }
    for (key, value) in [
        ("title", &raw.title),
        ("description", &raw.description),
        ("applies_to", &raw.applies_to),
    ] {
        if value.trim().is_empty() {
            template_fault(format!("{key} is empty"));
        }
    }

    // Positions of every question id, so that a show_if can tell "later" from "unknown".
    let mut positions: BTreeMap<String, usize> = BTreeMap::new();
    for table in raw.sections.iter().flat_map(|s| s.questions.iter()) {
        if let Some(id) = table.get("id").and_then(toml::Value::as_str) {
            let next = positions.len();
            positions.entry(id.to_owned()).or_insert(next);
        }
    }

    let mut section_ids = BTreeSet::new();
    let mut question_ids = BTreeSet::new();
    let mut built: BTreeMap<String, Question> = BTreeMap::new();
    let mut sections = Vec::new();
    let mut position = 0usize;
    for raw_section in raw.sections {
        let section_fault = |faults: &mut Vec<Fault>, message: String| {
            faults.push(Fault {
                location: Location::Section(raw_section.id.clone()),
                message,
            })
        };
        if raw_section.id.trim().is_empty() {
            section_fault(&mut faults, "section id is empty".to_owned());
        } else if !section_ids.insert(raw_section.id.clone()) {
            section_fault(&mut faults, "duplicate section id".to_owned());
        }
        if raw_section.title.trim().is_empty() {
            section_fault(&mut faults, "title is empty".to_owned());
        }
        if raw_section.questions.is_empty() {
            section_fault(&mut faults, "has no questions".to_owned());
        }
        let mut questions = Vec::new();
        for (index, table) in raw_section.questions.into_iter().enumerate() {
            let this_position = position;
            position += 1;
            let label = match table.get("id").and_then(toml::Value::as_str) {
                Some(id) => id.to_owned(),
                None => format!("#{} of section {}", index + 1, raw_section.id),
            };
            let raw_question: RawQuestion = match toml::Value::Table(table).try_into() {
                Ok(raw_question) => raw_question,
                Err(error) => {
                    faults.push(Fault {
                        location: Location::Question(label),
                        message: error.message().trim_end().to_owned(),
                    });
                    continue;
                }
            };
            let mut question_faults = Vec::new();
            if !question_ids.insert(raw_question.id.clone()) {
                question_faults.push("duplicate question id".to_owned());
            }
            let context = QuestionContext {
                own_position: this_position,
                positions: &positions,
                built: &built,
            };
            match build_question(raw_question, &context, &mut question_faults) {
                Some(question) if question_faults.is_empty() => {
                    built
                        .entry(question.id.clone())
                        .or_insert_with(|| question.clone());
                    questions.push(question);
                }
                _ => {}
            }
            faults.extend(question_faults.into_iter().map(|message| Fault {
                location: Location::Question(label.clone()),
                message,
            }));
        }
        sections.push(Section {
            id: raw_section.id,
            title: raw_section.title,
            questions,
        });
    }
    if position == 0 {
        faults.push(Fault {
            location: Location::Template,
            message: "template has no questions".to_owned(),
        });
    }

    if faults.is_empty() {
        let index = sections
            .iter()
            .enumerate()
            .flat_map(|(s, section)| {
                section
                    .questions
                    .iter()
                    .enumerate()
                    .map(move |(q, question)| (question.id.clone(), (s, q)))
            })
            .collect();
        Ok(Template {
            id: raw.id,
            title: raw.title,
            description: raw.description,
            applies_to: raw.applies_to,
            sections,
            version,
            file_name: file_name.to_owned(),
            index,
        })
    } else {
        Err(faults)
    }
}

struct QuestionContext<'a> {
    own_position: usize,
    positions: &'a BTreeMap<String, usize>,
    /// Valid questions before this one, by id.
    built: &'a BTreeMap<String, Question>,
}

/// Builds one question, pushing every fault found; returns None when the kind is unknown, as nothing else about
/// the question can then be checked.
fn build_question(
    raw: RawQuestion,
    context: &QuestionContext<'_>,
    faults: &mut Vec<String>,
) -> Option<Question> {
    if !is_question_id(&raw.id) {
        faults.push(format!(
            "question id {} must be letters, digits, '.', '_' or '-'",
            quote(&raw.id)
        ));
    }
    if raw.text.trim().is_empty() {
        faults.push("text is empty".to_owned());
    }
    let Some(kind) = AnswerKind::parse(&raw.kind) else {
        faults.push(format!(
            "unknown kind {}; expected one of {}",
            quote(&raw.kind),
            AnswerKind::ALL.map(AnswerKind::as_str).join(", ")
        ));
        return None;
    };
    let weight = match raw.weight.as_deref() {
        None => Weight::Standard,
        Some(name) => Weight::parse(name).unwrap_or_else(|| {
            faults.push(format!(
                "unknown weight {}; expected one of critical, standard, minor",
                quote(name)
            ));
            Weight::Standard
        }),
    };

    let options = raw.options.unwrap_or_default();
    if kind.is_choice() {
        if options.is_empty() {
            faults.push(format!("a {kind} question needs options"));
        }
        let mut seen = BTreeSet::new();
        for option in &options {
            if option.trim().is_empty() {
                faults.push("an option is empty".to_owned());
            } else if is_na_token(option) {
                // parse_answer reads "N/A" as not applicable, so such an option could never be chosen.
                faults.push(format!(
                    "option {} would be read as N/A; use na_allowed instead",
                    quote(option)
                ));
            } else if !seen.insert(option.to_lowercase()) {
                // Answers match options without regard to case, so these two could not be told apart.
                faults.push(format!("option {} is listed twice", quote(option)));
            }
        }
    } else if !options.is_empty() {
        faults.push(format!(
            "options are only for single_choice and multiple_choice questions, not {kind}"
        ));
    }

    if kind == AnswerKind::Number {
        for (name, bound) in [("min", raw.min), ("max", raw.max)] {
            if bound.is_some_and(|bound| !bound.is_finite()) {
                faults.push(format!("{name} is not a finite number"));
            }
        }
        if let (Some(min), Some(max)) = (raw.min, raw.max)
            && min > max
        {
            faults.push(format!("min {min} is greater than max {max}"));
        }
    } else if raw.min.is_some() || raw.max.is_some() {
        faults.push(format!(
            "min and max are only for number questions, not {kind}"
        ));
    }

    let expected = raw.expected.as_ref().and_then(|value| {
        parse_expected(kind, &options, raw.min, raw.max, value)
            .map_err(|message| faults.push(message))
            .ok()
    });

    let citation = match raw.citation {
        Some(citation) if citation.trim().is_empty() => {
            faults.push("citation is empty".to_owned());
            None
        }
        citation => citation,
    };
    if raw.expected.is_some() && citation.is_none() {
        faults.push("a scored question (one with expected) needs a citation".to_owned());
    }
    if raw
        .help
        .as_deref()
        .is_some_and(|help| help.trim().is_empty())
    {
        faults.push("help is empty".to_owned());
    }

    let show_if = raw
        .show_if
        .and_then(|show_if| build_show_if(&raw.id, show_if, context, faults));

    Some(Question {
        id: raw.id,
        text: raw.text,
        help: raw.help,
        kind,
        options,
        min: raw.min,
        max: raw.max,
        na_allowed: raw.na_allowed,
        required: raw.required,
        expected,
        weight,
        citation,
        show_if,
    })
}

fn parse_expected(
    kind: AnswerKind,
    options: &[String],
    min: Option<f64>,
    max: Option<f64>,
    value: &toml::Value,
) -> Result<Expected, String> {
    match kind {
        AnswerKind::YesNo => match value.as_str().map(|text| (text, YesNo::parse(text))) {
            Some((_, Some(answer @ (YesNo::Yes | YesNo::No)))) => Ok(Expected::YesNo(answer)),
            Some((text, _)) => Err(format!("expected {} is not \"yes\" or \"no\"", quote(text))),
            None => Err("expected must be \"yes\" or \"no\" for a yes_no question".to_owned()),
        },
        AnswerKind::SingleChoice | AnswerKind::MultipleChoice => {
            let values: Vec<String> = match value {
                toml::Value::String(text) => vec![text.clone()],
                toml::Value::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or("expected must be an option or a list of options")?,
                _ => return Err("expected must be an option or a list of options".to_owned()),
            };
            if values.is_empty() {
                return Err("expected lists no option".to_owned());
            }
            let mut seen = BTreeSet::new();
            for value in &values {
                if !options.contains(value) {
                    return Err(format!(
                        "expected {} is not one of the options",
                        quote(value)
                    ));
                }
                if !seen.insert(value) {
                    return Err(format!("expected {} is listed twice", quote(value)));
                }
            }
            Ok(if kind == AnswerKind::SingleChoice {
                Expected::AnyOf(values)
            } else {
                Expected::AllOf(values)
            })
        }
        AnswerKind::Number => {
            let table = value
                .as_table()
                .ok_or("expected must be a table with min and/or max, e.g. { max = 72 }")?;
            let mut bounds = [None, None];
            for (key, bound) in table {
                let slot = match key.as_str() {
                    "min" => 0,
                    "max" => 1,
                    other => {
                        return Err(format!(
                            "expected has unknown key {}; use min and/or max",
                            quote(other)
                        ));
                    }
                };
                let number = match bound {
                    toml::Value::Integer(number) => *number as f64,
                    toml::Value::Float(number) if number.is_finite() => *number,
                    _ => return Err(format!("expected {key} is not a finite number")),
                };
                bounds[slot] = Some(number);
            }
            let [expected_min, expected_max] = bounds;
            match (expected_min, expected_max) {
                (None, None) => return Err("expected needs min and/or max".to_owned()),
                (Some(low), Some(high)) if low > high => {
                    return Err(format!(
                        "expected min {low} is greater than expected max {high}"
                    ));
                }
                _ => {}
            }
            // An expectation no permitted answer can meet would turn every assessment into a finding.
            if let (Some(low), Some(max)) = (expected_min, max)
                && low > max
            {
                return Err(format!(
                    "expected min {low} is above the question's max {max}"
                ));
            }
            if let (Some(high), Some(min)) = (expected_max, min)
                && high < min
            {
                return Err(format!(
                    "expected max {high} is below the question's min {min}"
                ));
            }
            Ok(Expected::Range {
                min: expected_min,
                max: expected_max,
            })
        }
        AnswerKind::Text | AnswerKind::Date | AnswerKind::File => Err(format!(
            "expected is not supported for a {kind} question; only yes_no, single_choice, multiple_choice and number answers are scored"
        )),
    }
}

fn build_show_if(
    own_id: &str,
    raw: RawShowIf,
    context: &QuestionContext<'_>,
    faults: &mut Vec<String>,
) -> Option<ShowIf> {
    let values = match (raw.equals, raw.any_of) {
        (Some(value), None) => vec![value],
        (None, Some(values)) if !values.is_empty() => values,
        (None, Some(_)) => {
            faults.push("show_if any_of is empty".to_owned());
            return None;
        }
        _ => {
            faults.push("show_if needs exactly one of equals or any_of".to_owned());
            return None;
        }
    };
    let target = raw.question;
    if target == own_id {
        faults.push("show_if refers to the question itself".to_owned());
        return None;
    }
    match context.positions.get(&target) {
        None => {
            faults.push(format!("show_if refers to unknown question {target}"));
            return None;
        }
        Some(position) if *position > context.own_position => {
            faults.push(format!(
                "show_if refers to {target}, which comes later; a condition may only depend on an earlier question"
            ));
            return None;
        }
        Some(_) => {}
    }
    // The earlier question failed validation itself; its own faults are reported, and its values cannot be checked.
    let referenced = context.built.get(&target)?;
    let mut canonical = Vec::with_capacity(values.len());
    for value in values {
        match show_if_value(referenced, &value) {
            Some(token) => canonical.push(token),
            None => {
                faults.push(match referenced.kind {
                    AnswerKind::YesNo | AnswerKind::SingleChoice | AnswerKind::MultipleChoice => {
                        format!(
                            "show_if: {target} can never be {} (it takes {})",
                            quote(&value),
                            possible_values(referenced).join(", ")
                        )
                    }
                    kind => format!(
                        "show_if can only depend on a yes_no or choice question; {target} is {kind}"
                    ),
                });
                return None;
            }
        }
    }
    Some(ShowIf {
        question: target,
        any_of: canonical,
    })
}

/// The canonical form of a `show_if` value for `referenced`, or None when that question can never have it.
fn show_if_value(referenced: &Question, value: &str) -> Option<String> {
    if referenced.na_allowed && is_na_token(value) {
        return Some(YesNo::Na.token().to_owned());
    }
    match referenced.kind {
        AnswerKind::YesNo => match YesNo::parse(value) {
            Some(answer @ (YesNo::Yes | YesNo::No)) => Some(answer.token().to_owned()),
            _ => None,
        },
        AnswerKind::SingleChoice | AnswerKind::MultipleChoice => referenced
            .options
            .iter()
            .find(|option| option.as_str() == value)
            .cloned(),
        _ => None,
    }
}

fn possible_values(question: &Question) -> Vec<String> {
    let mut values: Vec<String> = match question.kind {
        AnswerKind::YesNo => vec!["yes".to_owned(), "no".to_owned()],
        _ => question
            .options
            .iter()
            .map(|option| quote(option))
            .collect(),
    };
    if question.na_allowed {
        values.push("na".to_owned());
    }
    values
}

fn is_template_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_question_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

// ---------------------------------------------------------------------------------------------------------------
// Answers.

/// A parsed answer. Serialises to the plain JSON that [`parse_answer`] reads back, so a stored answer is
/// re-parsed against its question like any other input.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    YesNo(YesNo),
    Choice(String),
    Choices(Vec<String>),
    Text(String),
    Number(f64),
    Date(NaiveDate),
    File {
        evidence_id: String,
    },
    /// N/A to a question of a kind other than yes_no, where the question allows it.
    Na,
}

impl Answer {
    /// Whether the answer is N/A, whatever the question's kind.
    pub fn is_na(&self) -> bool {
        matches!(self, Answer::Na | Answer::YesNo(YesNo::Na))
    }

    /// The plain JSON form: `"yes"`, `"na"`, `"US only"`, `["a", "b"]`, `72`, `"2025-07-01"`,
    /// `{"evidence_id": "..."}`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Answer::YesNo(answer) => Value::from(answer.token()),
            Answer::Choice(text) | Answer::Text(text) => Value::from(text.as_str()),
            Answer::Choices(items) => Value::from(items.clone()),
            Answer::Number(number) => Value::from(*number),
            Answer::Date(date) => Value::from(date.format("%Y-%m-%d").to_string()),
            Answer::File { evidence_id } => serde_json::json!({ "evidence_id": evidence_id }),
            Answer::Na => Value::from(YesNo::Na.token()),
        }
    }

    /// Whether the answer has the value a `show_if` condition names (in its canonical form).
    fn has_value(&self, value: &str) -> bool {
        match self {
            Answer::YesNo(answer) => answer.token() == value,
            Answer::Choice(option) => option == value,
            Answer::Choices(options) => options.iter().any(|option| option == value),
            Answer::Na => value == YesNo::Na.token(),
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Answer::YesNo(answer) => answer.label().to_owned(),
            Answer::Choice(option) => quote(option),
            Answer::Choices(options) if options.is_empty() => "nothing selected".to_owned(),
            Answer::Choices(options) => quote_list(options),
            Answer::Text(text) => quote(text),
            Answer::Number(number) => number.to_string(),
            Answer::Date(date) => date.format("%Y-%m-%d").to_string(),
            Answer::File { evidence_id } => format!("evidence {evidence_id}"),
            Answer::Na => "N/A".to_owned(),
        }
    }
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// Reads a JSON answer to `question`. The message says what was wrong in words a vendor can act on, e.g.
/// `"Maybe" is not one of Yes, No, N/A`.
pub fn parse_answer(question: &Question, value: &serde_json::Value) -> Result<Answer, String> {
    use serde_json::Value;
    if value.is_null() {
        return Err("no answer given".to_owned());
    }
    if question.kind != AnswerKind::YesNo
        && question.na_allowed
        && value.as_str().is_some_and(is_na_token)
    {
        return Ok(Answer::Na);
    }
    match question.kind {
        AnswerKind::YesNo => {
            let choices = if question.na_allowed {
                "Yes, No, N/A"
            } else {
                "Yes, No"
            };
            let answer = match value {
                Value::Bool(true) => Some(YesNo::Yes),
                Value::Bool(false) => Some(YesNo::No),
                Value::String(text) => YesNo::parse(text),
                _ => None,
            };
            match answer {
                Some(YesNo::Na) if !question.na_allowed => {
                    Err("N/A is not allowed for this question; answer Yes or No".to_owned())
                }
                Some(answer) => Ok(Answer::YesNo(answer)),
                None => Err(format!("{} is not one of {choices}", show_json(value))),
            }
        }
        AnswerKind::SingleChoice => {
            let text = value
                .as_str()
                .ok_or_else(|| format!("expected one of {}", quote_list(&question.options)))?;
            find_option(question, text).map(Answer::Choice)
        }
        AnswerKind::MultipleChoice => {
            let items = value.as_array().ok_or_else(|| {
                format!(
                    "expected a list of options from {}",
                    quote_list(&question.options)
                )
            })?;
            let mut chosen: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let text = item
                    .as_str()
                    .ok_or_else(|| format!("{} is not an option", show_json(item)))?;
                let option = find_option(question, text)?;
                if chosen.contains(&option) {
                    return Err(format!("{} is selected twice", quote(&option)));
                }
                chosen.push(option);
            }
            Ok(Answer::Choices(chosen))
        }
        AnswerKind::Text => {
            let text = value.as_str().ok_or("expected text")?.trim();
            if text.is_empty() {
                Err("the answer is empty".to_owned())
            } else if text.chars().count() > MAX_TEXT_ANSWER_CHARS {
                Err(format!(
                    "the answer is longer than {MAX_TEXT_ANSWER_CHARS} characters; attach a file instead"
                ))
            } else {
                Ok(Answer::Text(text.to_owned()))
            }
        }
        AnswerKind::Number => {
            // Spreadsheet cells often arrive as text; a number written as text is still a number.
            let number = match value {
                Value::Number(number) => number.as_f64(),
                Value::String(text) => text.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|number| number.is_finite())
            .ok_or_else(|| format!("{} is not a number", show_json(value)))?;
            if let Some(min) = question.min
                && number < min
            {
                return Err(format!("{number} is below the minimum {min}"));
            }
            if let Some(max) = question.max
                && number > max
            {
                return Err(format!("{number} is above the maximum {max}"));
            }
            Ok(Answer::Number(number))
        }
        AnswerKind::Date => {
            let text = value.as_str().unwrap_or_default().trim();
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Answer::Date)
                .map_err(|_| format!("{} is not a date in the form YYYY-MM-DD", show_json(value)))
        }
        AnswerKind::File => {
            let evidence_id = match value {
                Value::String(text) => Some(text.trim()),
                Value::Object(object) => object
                    .get("evidence_id")
                    .and_then(Value::as_str)
                    .map(str::trim),
                _ => None,
            }
            .filter(|id| !id.is_empty())
            .ok_or("expected an evidence id, as a string or {\"evidence_id\": \"...\"}")?;
            Ok(Answer::File {
                evidence_id: evidence_id.to_owned(),
            })
        }
    }
}

/// Matches an option without regard to case or surrounding spaces (people retype them in spreadsheets) and
/// returns it as the template spells it.
fn find_option(question: &Question, text: &str) -> Result<String, String> {
    let wanted = text.trim().to_lowercase();
    question
        .options
        .iter()
        .find(|option| option.to_lowercase() == wanted)
        .cloned()
        .ok_or_else(|| {
            format!(
                "{} is not one of {}",
                quote(text),
                question.options.join(", ")
            )
        })
}

/// Whether `question` is shown given `answers`: a question hidden by its `show_if` is not applicable, and neither
/// is one whose condition reads a question that is itself not applicable.
pub fn is_applicable(
    template: &Template,
    question: &Question,
    answers: &BTreeMap<String, Answer>,
) -> bool {
    let Some(condition) = &question.show_if else {
        return true;
    };
    // Validation guarantees the referenced question exists and comes earlier, so this recursion ends.
    let Some(referenced) = template.question(&condition.question) else {
        return false;
    };
    is_applicable(template, referenced, answers)
        && answers
            .get(&referenced.id)
            .is_some_and(|answer| condition.any_of.iter().any(|value| answer.has_value(value)))
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring, findings, risk.

/// What became of one question in scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    Met,
    Unmet,
    /// Scored and applicable but not answered; counts as unmet.
    Unanswered,
    /// Hidden by its condition, or answered N/A where N/A is allowed; out of the total.
    NotApplicable,
    /// No expected answer; never counts.
    Informational,
}

/// The scoring of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionResult {
    pub question_id: String,
    pub status: ResultStatus,
    pub weight: Weight,
    pub points_possible: u32,
    pub points_earned: u32,
    pub citation: Option<String>,
    /// The answer that was scored; None when unanswered or hidden.
    pub answer: Option<Answer>,
}

/// The score of a set of answers against a template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub earned_points: u32,
    pub possible_points: u32,
    /// 0 to 100; 100 when nothing is possible (no applicable scored question), as nothing was missed.
    pub percent: f64,
    /// Applicable, required questions with no answer, in template order; scored or not.
    pub unanswered_required: Vec<String>,
    /// One per question, in template order.
    pub results: Vec<QuestionResult>,
}

impl Score {
    /// Whether a critical question is unmet or unanswered: either makes the assessment high risk.
    pub fn has_unmet_critical(&self) -> bool {
        self.results.iter().any(|result| {
            result.weight == Weight::Critical
                && matches!(
                    result.status,
                    ResultStatus::Unmet | ResultStatus::Unanswered
                )
        })
    }
}

/// Scores `answers` (by question id) against `template`. Answers to questions the template does not have, and to
/// questions hidden by their condition, are ignored.
pub fn score(template: &Template, answers: &BTreeMap<String, Answer>) -> Score {
    let mut results = Vec::new();
    let mut unanswered_required = Vec::new();
    for question in template.questions() {
        let applicable = is_applicable(template, question, answers);
        let answer = answers.get(&question.id).filter(|_| applicable);
        if applicable && question.required && answer.is_none() {
            unanswered_required.push(question.id.clone());
        }
        let points = question.weight.points();
        let (status, points_possible, points_earned) = match (&question.expected, answer) {
            _ if !applicable => (ResultStatus::NotApplicable, 0, 0),
            (None, _) => (ResultStatus::Informational, 0, 0),
            (Some(_), None) => (ResultStatus::Unanswered, points, 0),
            (Some(_), Some(answer)) if answer.is_na() && question.na_allowed => {
                (ResultStatus::NotApplicable, 0, 0)
            }
            (Some(expected), Some(answer)) if expected.is_met_by(answer) => {
                (ResultStatus::Met, points, points)
            }
            (Some(_), Some(_)) => (ResultStatus::Unmet, points, 0),
        };
        results.push(QuestionResult {
            question_id: question.id.clone(),
            status,
            weight: question.weight,
            points_possible,
            points_earned,
            citation: question.citation.clone(),
            answer: answer.cloned(),
        });
    }
    let earned_points: u32 = results.iter().map(|result| result.points_earned).sum();
    let possible_points: u32 = results.iter().map(|result| result.points_possible).sum();
    let percent = if possible_points == 0 {
        100.0
    } else {
        f64::from(earned_points) * 100.0 / f64::from(possible_points)
    };
    Score {
        earned_points,
        possible_points,
        percent,
        unanswered_required,
        results,
    }
}

/// A finding to raise for an unmet expectation, before an analyst manages it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingDraft {
    pub question_id: String,
    pub severity: Severity,
    pub weight: Weight,
    pub question_text: String,
    pub citation: Option<String>,
    /// e.g. `answered No; expected Yes`, or `not answered`.
    pub reason: String,
}

/// One finding per unmet or unanswered scored question of `score`, in template order. `score` must come from
/// this template (the same version): questions it does not know are skipped.
pub fn findings(template: &Template, score: &Score) -> Vec<FindingDraft> {
    score
        .results
        .iter()
        .filter(|result| {
            matches!(
                result.status,
                ResultStatus::Unmet | ResultStatus::Unanswered
            )
        })
        .filter_map(|result| {
            let question = template.question(&result.question_id)?;
            let reason = match (&result.answer, &question.expected) {
                (Some(answer), Some(expected)) => unmet_reason(question, answer, expected),
                _ => "not answered".to_owned(),
            };
            Some(FindingDraft {
                question_id: question.id.clone(),
                severity: question.weight.severity(),
                weight: question.weight,
                question_text: question.text.clone(),
                citation: question.citation.clone(),
                reason,
            })
        })
        .collect()
}

fn unmet_reason(question: &Question, answer: &Answer, expected: &Expected) -> String {
    let verb = if matches!(answer, Answer::Choices(_)) {
        "selected"
    } else {
        "answered"
    };
    let mut reason = format!(
        "{verb} {}; expected {}",
        answer.describe(),
        expected.describe()
    );
    if let (Expected::AllOf(wanted), Answer::Choices(given)) = (expected, answer) {
        let missing: Vec<String> = wanted
            .iter()
            .filter(|option| !given.contains(option))
            .cloned()
            .collect();
        reason.push_str(&format!(" (missing {})", quote_list(&missing)));
    }
    if answer.is_na() && !question.na_allowed {
        reason.push_str(" (N/A is not allowed for this question)");
    }
    reason
}

/// Percent thresholds for the risk tiers; city policy, so configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskThresholds {
    /// At or above this percent (and no unmet critical): low risk.
    pub low_min: f64,
    /// At or above this percent: moderate risk; below: high.
    pub moderate_min: f64,
}

impl Default for RiskThresholds {
    fn default() -> Self {
        RiskThresholds {
            low_min: 90.0,
            moderate_min: 70.0,
        }
    }
}

/// Overall risk of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    Low,
    Moderate,
    High,
}

/// The risk tier of a score. An unmet critical expectation makes it high whatever the percent: a vendor cannot
/// average its way past, say, storing data abroad.
pub fn risk_tier(percent: f64, has_unmet_critical: bool, thresholds: &RiskThresholds) -> RiskTier {
    if has_unmet_critical {
        RiskTier::High
    } else if percent >= thresholds.low_min {
        RiskTier::Low
    } else if percent >= thresholds.moderate_min {
        RiskTier::Moderate
    } else {
        RiskTier::High
    }
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

/// A JSON value as a person would recognise it in a message: strings quoted, anything else as JSON.
fn show_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => quote(text),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = "questionnaires/x.toml";
    const HEAD: &str = "id = \"t\"\ntitle = \"T\"\ndescription = \"d\"\napplies_to = \"a\"\n";

    fn template(body: &str) -> Template {
        Template::from_toml(FILE, &format!("{HEAD}{body}")).expect("test template is valid")
    }

    fn refusal(body: &str) -> String {
        Template::from_toml(FILE, &format!("{HEAD}{body}"))
            .expect_err("template should be refused")
            .to_string()
    }

    /// A one-section template holding `questions` (TOML `[[sections.questions]]` tables).
    fn section(questions: &str) -> String {
        format!("[[sections]]\nid = \"s\"\ntitle = \"S\"\n{questions}")
    }

    fn yes_no(id: &str, weight: &str, extra: &str) -> String {
        format!(
            "[[sections.questions]]\nid = \"{id}\"\ntext = \"{id}?\"\nkind = \"yes_no\"\nexpected = \"yes\"\n\
             weight = \"{weight}\"\ncitation = \"c\"\n{extra}\n"
        )
    }

    fn answers(pairs: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
        pairs
            .iter()
            .map(|(id, answer)| (id.to_string(), answer.clone()))
            .collect()
    }

    fn status_of(score: &Score, id: &str) -> ResultStatus {
        score
            .results
            .iter()
            .find(|result| result.question_id == id)
            .expect("question is in the results")
            .status
    }

    const YES: Answer = Answer::YesNo(YesNo::Yes);
    const NO: Answer = Answer::YesNo(YesNo::No);
    const NA: Answer = Answer::YesNo(YesNo::Na);

    // ----- scoring -----

    #[test]
    fn met_expectations_earn_their_weight_and_unmet_ones_earn_nothing() {
        let t = template(&section(&format!(
            "{}{}{}",
            yes_no("C", "critical", ""),
            yes_no("S", "standard", ""),
            yes_no("M", "minor", "")
        )));
        let s = score(&t, &answers(&[("C", YES), ("S", NO), ("M", YES)]));
        assert_eq!((s.earned_points, s.possible_points), (25, 35));
        assert!((s.percent - 25.0 * 100.0 / 35.0).abs() < 1e-9);
        assert_eq!(status_of(&s, "S"), ResultStatus::Unmet);
        let critical = &s.results[0];
        assert_eq!((critical.points_possible, critical.points_earned), (20, 20));
    }

    #[test]
    fn an_na_answer_where_allowed_leaves_the_denominator() {
        let t = template(&section(&format!(
            "{}{}",
            yes_no("A", "standard", ""),
            yes_no("B", "critical", "na_allowed = true")
        )));
        let s = score(&t, &answers(&[("A", YES), ("B", NA)]));
        assert_eq!((s.earned_points, s.possible_points), (10, 10));
        assert_eq!(s.percent, 100.0);
        assert_eq!(status_of(&s, "B"), ResultStatus::NotApplicable);
        assert!(!s.has_unmet_critical());
    }

    #[test]
    fn an_na_answer_where_not_allowed_counts_as_unmet() {
        let t = template(&section(&yes_no("A", "standard", "")));
        let s = score(&t, &answers(&[("A", NA)]));
        assert_eq!((s.earned_points, s.possible_points), (0, 10));
        assert_eq!(status_of(&s, "A"), ResultStatus::Unmet);
    }

    #[test]
    fn an_unanswered_question_counts_as_unmet_and_is_listed_as_missing() {
        let t = template(&section(&format!(
            "{}{}",
            yes_no("A", "standard", ""),
            yes_no("B", "critical", "")
        )));
        let s = score(&t, &answers(&[("A", YES)]));
        assert_eq!((s.earned_points, s.possible_points), (10, 30));
        assert_eq!(status_of(&s, "B"), ResultStatus::Unanswered);
        assert_eq!(s.unanswered_required, vec!["B".to_string()]);
        assert!(s.has_unmet_critical());
    }

    #[test]
    fn a_question_hidden_by_its_condition_leaves_the_denominator_and_is_not_missing() {
        let t = template(&section(&format!(
            "[[sections.questions]]\nid = \"ROUTE\"\ntext = \"Route?\"\nkind = \"yes_no\"\n{}",
            yes_no(
                "DEP",
                "critical",
                "show_if = { question = \"ROUTE\", equals = \"yes\" }"
            )
        )));
        let hidden = score(&t, &answers(&[("ROUTE", NO), ("DEP", NO)]));
        assert_eq!((hidden.earned_points, hidden.possible_points), (0, 0));
        assert_eq!(hidden.percent, 100.0);
        assert_eq!(status_of(&hidden, "DEP"), ResultStatus::NotApplicable);
        assert_eq!(hidden.results[1].answer, None);

        let shown = score(&t, &answers(&[("ROUTE", YES)]));
        assert_eq!((shown.earned_points, shown.possible_points), (0, 20));
        assert_eq!(shown.unanswered_required, vec!["DEP".to_string()]);
    }

    #[test]
    fn conditions_chain_through_a_hidden_question() {
        let t = template(&section(&format!(
            "[[sections.questions]]\nid = \"A\"\ntext = \"A?\"\nkind = \"yes_no\"\n\
             [[sections.questions]]\nid = \"B\"\ntext = \"B?\"\nkind = \"yes_no\"\n\
             show_if = {{ question = \"A\", equals = \"yes\" }}\n{}",
            yes_no(
                "C",
                "standard",
                "show_if = { question = \"B\", equals = \"yes\" }"
            )
        )));
        // B still carries a stale Yes from before A was changed to No: C must stay hidden.
        let stale = answers(&[("A", NO), ("B", YES), ("C", NO)]);
        let c = t.question("C").unwrap();
        assert!(!is_applicable(&t, c, &stale));
        assert_eq!(score(&t, &stale).possible_points, 0);

        let shown = answers(&[("A", YES), ("B", YES), ("C", NO)]);
        assert!(is_applicable(&t, c, &shown));
        assert_eq!(score(&t, &shown).possible_points, 10);
    }

    #[test]
    fn informational_questions_never_count_but_are_listed_when_missing() {
        let t = template(&section(&format!(
            "[[sections.questions]]\nid = \"INFO\"\ntext = \"Tell us.\"\nkind = \"text\"\n{}",
            yes_no("A", "minor", "")
        )));
        let unanswered = score(&t, &answers(&[("A", YES)]));
        assert_eq!(
            (unanswered.earned_points, unanswered.possible_points),
            (5, 5)
        );
        assert_eq!(status_of(&unanswered, "INFO"), ResultStatus::Informational);
        assert_eq!(unanswered.unanswered_required, vec!["INFO".to_string()]);

        let answered = score(
            &t,
            &answers(&[("A", YES), ("INFO", Answer::Text("x".into()))]),
        );
        assert_eq!((answered.earned_points, answered.possible_points), (5, 5));
        assert!(answered.unanswered_required.is_empty());
    }

    #[test]
    fn multiple_choice_expectations_need_every_expected_option() {
        let t = template(&section(
            "[[sections.questions]]\nid = \"MC\"\ntext = \"Which?\"\nkind = \"multiple_choice\"\n\
             options = [\"a\", \"b\", \"c\"]\nexpected = [\"a\", \"b\"]\ncitation = \"c\"\n",
        ));
        let pick = |items: &[&str]| {
            answers(&[(
                "MC",
                Answer::Choices(items.iter().map(|item| item.to_string()).collect()),
            )])
        };
        assert_eq!(
            status_of(&score(&t, &pick(&["b", "a"])), "MC"),
            ResultStatus::Met
        );
        assert_eq!(
            status_of(&score(&t, &pick(&["a", "b", "c"])), "MC"),
            ResultStatus::Met
        );
        assert_eq!(
            status_of(&score(&t, &pick(&["a", "c"])), "MC"),
            ResultStatus::Unmet
        );
        assert_eq!(status_of(&score(&t, &pick(&[])), "MC"), ResultStatus::Unmet);
    }

    #[test]
    fn single_choice_expectations_accept_any_listed_option() {
        let t = template(&section(
            "[[sections.questions]]\nid = \"SC\"\ntext = \"Which?\"\nkind = \"single_choice\"\n\
             options = [\"a\", \"b\", \"c\"]\nexpected = [\"a\", \"b\"]\ncitation = \"c\"\n",
        ));
        let choose = |option: &str| answers(&[("SC", Answer::Choice(option.into()))]);
        assert_eq!(status_of(&score(&t, &choose("a")), "SC"), ResultStatus::Met);
        assert_eq!(status_of(&score(&t, &choose("b")), "SC"), ResultStatus::Met);
        assert_eq!(
            status_of(&score(&t, &choose("c")), "SC"),
            ResultStatus::Unmet
        );
    }

    #[test]
    fn number_ranges_are_inclusive_at_both_ends() {
        let t = template(&section(
            "[[sections.questions]]\nid = \"N\"\ntext = \"How many?\"\nkind = \"number\"\n\
             expected = { min = 1, max = 72 }\ncitation = \"c\"\n",
        ));
        let number = |n: f64| answers(&[("N", Answer::Number(n))]);
        for (n, status) in [
            (0.5, ResultStatus::Unmet),
            (1.0, ResultStatus::Met),
            (72.0, ResultStatus::Met),
            (72.5, ResultStatus::Unmet),
        ] {
            assert_eq!(status_of(&score(&t, &number(n)), "N"), status, "answer {n}");
        }
        // An answer of another shape (as a stale stored answer might be) never meets an expectation.
        assert_eq!(
            status_of(&score(&t, &answers(&[("N", YES)])), "N"),
            ResultStatus::Unmet
        );
    }

    #[test]
    fn percent_is_100_when_nothing_is_scored() {
        let t = template(&section(
            "[[sections.questions]]\nid = \"INFO\"\ntext = \"Tell us.\"\nkind = \"text\"\nrequired = false\n",
        ));
        let s = score(&t, &BTreeMap::new());
        assert_eq!(
            (s.earned_points, s.possible_points, s.percent),
            (0, 0, 100.0)
        );
        assert!(s.unanswered_required.is_empty());
    }

    #[test]
    fn findings_map_weight_to_severity_and_say_why() {
        let t = template(&section(&format!(
            "{}{}{}\
             [[sections.questions]]\nid = \"H\"\ntext = \"Hours?\"\nkind = \"number\"\nexpected = {{ max = 72 }}\n\
             weight = \"critical\"\ncitation = \"M.G.L. c. 93H § 3\"\n\
             [[sections.questions]]\nid = \"MC\"\ntext = \"Which?\"\nkind = \"multiple_choice\"\n\
             options = [\"a\", \"b\"]\nexpected = [\"a\", \"b\"]\nweight = \"minor\"\ncitation = \"c\"\n",
            yes_no("C", "critical", ""),
            yes_no("S", "standard", ""),
            yes_no("OK", "minor", ""),
        )));
        let s = score(
            &t,
            &answers(&[
                ("C", NO),
                ("OK", YES),
                ("H", Answer::Number(96.0)),
                ("MC", Answer::Choices(vec!["a".into()])),
            ]),
        );
        let drafts = findings(&t, &s);
        let summary: Vec<(&str, Severity, &str)> = drafts
            .iter()
            .map(|d| (d.question_id.as_str(), d.severity, d.reason.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("C", Severity::Critical, "answered No; expected Yes"),
                ("S", Severity::Moderate, "not answered"),
                ("H", Severity::Critical, "answered 96; expected at most 72"),
                (
                    "MC",
                    Severity::Low,
                    "selected \"a\"; expected all of \"a\", \"b\" (missing \"b\")"
                ),
            ]
        );
        assert_eq!(drafts[0].question_text, "C?");
        assert_eq!(drafts[2].citation.as_deref(), Some("M.G.L. c. 93H § 3"));
    }

    #[test]
    fn an_unmet_critical_makes_the_risk_high_whatever_the_percent() {
        let thresholds = RiskThresholds::default();
        assert_eq!(risk_tier(95.0, true, &thresholds), RiskTier::High);
        assert_eq!(risk_tier(100.0, false, &thresholds), RiskTier::Low);
        assert_eq!(risk_tier(90.0, false, &thresholds), RiskTier::Low);
        assert_eq!(risk_tier(89.9, false, &thresholds), RiskTier::Moderate);
        assert_eq!(risk_tier(70.0, false, &thresholds), RiskTier::Moderate);
        assert_eq!(risk_tier(69.9, false, &thresholds), RiskTier::High);
        let strict = RiskThresholds {
            low_min: 95.0,
            moderate_min: 80.0,
        };
        assert_eq!(risk_tier(90.0, false, &strict), RiskTier::Moderate);
    }

    // ----- answers -----

    fn question_of(body: &str) -> Question {
        template(&section(body)).questions().next().unwrap().clone()
    }

    #[test]
    fn yes_no_answers_are_read_in_any_case_and_refusals_name_the_choices() {
        let with_na = question_of(
            "[[sections.questions]]\nid = \"Q\"\ntext = \"Q?\"\nkind = \"yes_no\"\nna_allowed = true\n",
        );
        for (input, expected) in [
            (json!("yes"), YesNo::Yes),
            (json!("YES"), YesNo::Yes),
            (json!(" No "), YesNo::No),
            (json!("na"), YesNo::Na),
            (json!("N/A"), YesNo::Na),
            (json!(true), YesNo::Yes),
        ] {
            assert_eq!(
                parse_answer(&with_na, &input),
                Ok(Answer::YesNo(expected)),
                "{input}"
            );
        }
        assert_eq!(
            parse_answer(&with_na, &json!("Maybe")),
            Err("\"Maybe\" is not one of Yes, No, N/A".to_string())
        );
        assert_eq!(
            parse_answer(&with_na, &json!(3)),
            Err("3 is not one of Yes, No, N/A".to_string())
        );

        let without_na =
            question_of("[[sections.questions]]\nid = \"Q\"\ntext = \"Q?\"\nkind = \"yes_no\"\n");
        assert_eq!(
            parse_answer(&without_na, &json!("Maybe")),
            Err("\"Maybe\" is not one of Yes, No".to_string())
        );
        assert_eq!(
            parse_answer(&without_na, &json!("N/A")),
            Err("N/A is not allowed for this question; answer Yes or No".to_string())
        );
        assert_eq!(
            parse_answer(&without_na, &json!(null)),
            Err("no answer given".to_string())
        );
    }

    #[test]
    fn choice_answers_are_matched_to_the_options_as_the_template_spells_them() {
        let single = question_of(
            "[[sections.questions]]\nid = \"Q\"\ntext = \"Q?\"\nkind = \"single_choice\"\n\
             options = [\"US only\", \"US and other countries\"]\n",
        );
        assert_eq!(
            parse_answer(&single, &json!(" us ONLY ")),
            Ok(Answer::Choice("US only".into()))
        );
        assert_eq!(
            parse_answer(&single, &json!("Canada")),
            Err("\"Canada\" is not one of US only, US and other countries".to_string())
        );

        let multiple = question_of(
            "[[sections.questions]]\nid = \"Q\"\ntext = \"Q?\"\nkind = \"multiple_choice\"\n\
             options = [\"SAML 2.0\", \"OpenID Connect\"]\nna_allowed = true\n",
        );
        assert_eq!(
            parse_answer(&multiple, &json!(["openid connect", "SAML 2.0"])),
            Ok(Answer::Choices(vec![
                "OpenID Connect".into(),
                "SAML 2.0".into()
            ]))
        );
        assert_eq!(parse_answer(&multiple, &json!("N/A")), Ok(Answer::Na));
        assert_eq!(
            parse_answer(&multiple, &json!(["SAML 2.0", "saml 2.0"])),
            Err("\"SAML 2.0\" is selected twice".to_string())
        );
        assert!(parse_answer(&multiple, &json!("SAML 2.0")).is_err());
    }

    #[test]
    fn number_answers_must_be_finite_and_within_the_question_bounds() {
        let q = question_of(
            "[[sections.questions]]\nid = \"Q\"\ntext = \"Hours?\"\nkind = \"number\"\nmin = 0\nmax = 1000\n",
        );
        assert_eq!(parse_answer(&q, &json!(48)), Ok(Answer::Number(48.0)));
        assert_eq!(parse_answer(&q, &json!(" 24.5 ")), Ok(Answer::Number(24.5)));
        assert_eq!(
            parse_answer(&q, &json!(-1)),
            Err("-1 is below the minimum 0".to_string())
        );
        assert_eq!(
            parse_answer(&q, &json!(1001)),
            Err("1001 is above the maximum 1000".to_string())
        );
        assert_eq!(
            parse_answer(&q, &json!("soon")),
            Err("\"soon\" is not a number".to_string())
        );
        assert!(parse_answer(&q, &json!("NaN")).is_err());
    }

    #[test]
    fn text_date_and_file_answers_are_checked() {
        let text =
            question_of("[[sections.questions]]\nid = \"Q\"\ntext = \"Q?\"\nkind = \"text\"\n");
        assert_eq!(
            parse_answer(&text, &json!("  x ")),
            Ok(Answer::Text("x".into()))
        );
        assert_eq!(
            parse_answer(&text, &json!("  ")),
            Err("the answer is empty".to_string())
        );
        assert!(parse_answer(&text, &json!("y".repeat(MAX_TEXT_ANSWER_CHARS + 1))).is_err());

        let date =
            question_of("[[sections.questions]]\nid = \"Q\"\ntext = \"Q?\"\nkind = \"date\"\n");
        assert_eq!(
            parse_answer(&date, &json!("2025-07-01")),
            Ok(Answer::Date(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()))
        );
        assert_eq!(
            parse_answer(&date, &json!("2025-13-01")),
            Err("\"2025-13-01\" is not a date in the form YYYY-MM-DD".to_string())
        );

        let file =
            question_of("[[sections.questions]]\nid = \"Q\"\ntext = \"Q?\"\nkind = \"file\"\n");
        let evidence = Answer::File {
            evidence_id: "ev-1".into(),
        };
        assert_eq!(
            parse_answer(&file, &json!({ "evidence_id": "ev-1" })),
            Ok(evidence.clone())
        );
        assert_eq!(parse_answer(&file, &json!("ev-1")), Ok(evidence));
        assert!(parse_answer(&file, &json!({ "evidence_id": "" })).is_err());
    }

    #[test]
    fn every_answer_reads_back_from_its_json_form() {
        let t = template(&section(
            "[[sections.questions]]\nid = \"YN\"\ntext = \"?\"\nkind = \"yes_no\"\nna_allowed = true\n\
             [[sections.questions]]\nid = \"SC\"\ntext = \"?\"\nkind = \"single_choice\"\noptions = [\"a\", \"b\"]\n\
             [[sections.questions]]\nid = \"MC\"\ntext = \"?\"\nkind = \"multiple_choice\"\noptions = [\"a\", \"b\"]\n\
             [[sections.questions]]\nid = \"TX\"\ntext = \"?\"\nkind = \"text\"\nna_allowed = true\n\
             [[sections.questions]]\nid = \"NU\"\ntext = \"?\"\nkind = \"number\"\n\
             [[sections.questions]]\nid = \"DA\"\ntext = \"?\"\nkind = \"date\"\n\
             [[sections.questions]]\nid = \"FI\"\ntext = \"?\"\nkind = \"file\"\n",
        ));
        let cases = [
            ("YN", Answer::YesNo(YesNo::Na)),
            ("SC", Answer::Choice("b".into())),
            ("MC", Answer::Choices(vec!["b".into(), "a".into()])),
            ("TX", Answer::Na),
            ("TX", Answer::Text("free text".into())),
            ("NU", Answer::Number(2.5)),
            (
                "DA",
                Answer::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            ),
            (
                "FI",
                Answer::File {
                    evidence_id: "e".into(),
                },
            ),
        ];
        for (id, answer) in cases {
            let question = t.question(id).unwrap();
            let stored = serde_json::to_value(&answer).unwrap();
            assert_eq!(stored, answer.to_json());
            assert_eq!(parse_answer(question, &stored), Ok(answer), "{id}");
        }
    }

    // ----- template validation: one fault per snippet -----

    #[test]
    fn a_duplicate_section_id_is_refused() {
        let body = format!(
            "{}{}",
            section(&yes_no("A", "standard", "")),
            section(&yes_no("B", "standard", ""))
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: section s: duplicate section id"
        );
    }

    #[test]
    fn a_duplicate_question_id_is_refused() {
        let body = format!(
            "{}{}",
            section(&yes_no("WISP-01", "standard", "")),
            "[[sections]]\nid = \"s2\"\ntitle = \"S2\"\n".to_owned()
                + &yes_no("WISP-01", "standard", "")
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question WISP-01: duplicate question id"
        );
    }

    #[test]
    fn an_unknown_kind_is_refused_with_the_known_kinds() {
        let body =
            section("[[sections.questions]]\nid = \"WISP-02\"\ntext = \"?\"\nkind = \"yesno\"\n");
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question WISP-02: unknown kind \"yesno\"; expected one of yes_no, \
             single_choice, multiple_choice, text, number, date, file"
        );
    }

    #[test]
    fn an_expected_choice_that_is_not_an_option_is_refused() {
        let body = section(
            "[[sections.questions]]\nid = \"WISP-03\"\ntext = \"?\"\nkind = \"single_choice\"\n\
             options = [\"yes\", \"no\"]\nexpected = \"maybe\"\ncitation = \"c\"\n",
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question WISP-03: expected \"maybe\" is not one of the options"
        );
    }

    #[test]
    fn an_expected_yes_no_answer_other_than_yes_or_no_is_refused() {
        let body = section(
            "[[sections.questions]]\nid = \"Q1\"\ntext = \"?\"\nkind = \"yes_no\"\nexpected = \"na\"\ncitation = \"c\"\n",
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: expected \"na\" is not \"yes\" or \"no\""
        );
    }

    #[test]
    fn an_expected_answer_on_a_kind_that_is_never_scored_is_refused() {
        let body = section(
            "[[sections.questions]]\nid = \"Q1\"\ntext = \"?\"\nkind = \"text\"\nexpected = \"yes\"\ncitation = \"c\"\n",
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: expected is not supported for a text question; only yes_no, \
             single_choice, multiple_choice and number answers are scored"
        );
    }

    #[test]
    fn a_choice_question_without_options_is_refused() {
        let body = section(
            "[[sections.questions]]\nid = \"Q1\"\ntext = \"?\"\nkind = \"multiple_choice\"\n",
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: a multiple_choice question needs options"
        );
    }

    #[test]
    fn a_condition_on_an_unknown_question_is_refused() {
        let body = section(&yes_no(
            "Q1",
            "standard",
            "show_if = { question = \"NOPE\", equals = \"yes\" }",
        ));
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: show_if refers to unknown question NOPE"
        );
    }

    #[test]
    fn a_condition_on_a_later_question_is_refused() {
        let body = section(&format!(
            "{}{}",
            yes_no(
                "Q1",
                "standard",
                "show_if = { question = \"Q2\", equals = \"yes\" }"
            ),
            yes_no("Q2", "standard", "")
        ));
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: show_if refers to Q2, which comes later; a condition may only \
             depend on an earlier question"
        );
    }

    #[test]
    fn a_condition_on_a_value_the_question_cannot_take_is_refused() {
        let body = section(&format!(
            "{}{}",
            yes_no("Q1", "standard", ""),
            yes_no(
                "Q2",
                "standard",
                "show_if = { question = \"Q1\", any_of = [\"yes\", \"na\"] }"
            )
        ));
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q2: show_if: Q1 can never be \"na\" (it takes yes, no)"
        );
    }

    #[test]
    fn a_minimum_above_the_maximum_is_refused() {
        let body = section(
            "[[sections.questions]]\nid = \"Q1\"\ntext = \"?\"\nkind = \"number\"\nmin = 10\nmax = 5\n",
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: min 10 is greater than max 5"
        );
        let expected = section(
            "[[sections.questions]]\nid = \"Q2\"\ntext = \"?\"\nkind = \"number\"\n\
             expected = { min = 10, max = 5 }\ncitation = \"c\"\n",
        );
        assert_eq!(
            refusal(&expected),
            "questionnaires/x.toml: question Q2: expected min 10 is greater than expected max 5"
        );
    }

    #[test]
    fn a_scored_question_without_a_citation_is_refused() {
        let body = section(
            "[[sections.questions]]\nid = \"Q1\"\ntext = \"?\"\nkind = \"yes_no\"\nexpected = \"yes\"\n",
        );
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: a scored question (one with expected) needs a citation"
        );
    }

    #[test]
    fn an_empty_text_is_refused() {
        let body =
            section("[[sections.questions]]\nid = \"Q1\"\ntext = \" \"\nkind = \"yes_no\"\n");
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: text is empty"
        );
    }

    #[test]
    fn an_unknown_weight_is_refused() {
        let body = section(&yes_no("Q1", "major", ""));
        assert_eq!(
            refusal(&body),
            "questionnaires/x.toml: question Q1: unknown weight \"major\"; expected one of critical, standard, minor"
        );
    }

    #[test]
    fn a_misspelt_key_is_refused_under_its_question() {
        let body = section(&yes_no("Q1", "standard", "requird = false"));
        let message = refusal(&body);
        assert!(
            message.starts_with("questionnaires/x.toml: question Q1: unknown field `requird`"),
            "{message}"
        );
    }

    #[test]
    fn a_crosswalk_of_an_older_template_version_is_read_and_ignored() {
        let body = section(&yes_no(
            "Q1",
            "standard",
            "crosswalk = { caiq_v4 = [\"IAM-14.1\"] }",
        ));
        assert!(template(&body).question("Q1").is_some());
    }

    #[test]
    fn text_that_is_not_toml_is_refused_with_the_file_name() {
        let error = Template::from_toml(FILE, "id = ").expect_err("not TOML");
        assert!(matches!(error, TemplateError::Syntax { .. }));
        assert!(
            error
                .to_string()
                .starts_with("questionnaires/x.toml: invalid template:"),
            "{error}"
        );
    }

    #[test]
    fn every_fault_is_reported_not_only_the_first() {
        let body = section(&format!(
            "{}{}",
            yes_no("Q1", "major", ""),
            "[[sections.questions]]\nid = \"Q2\"\ntext = \"\"\nkind = \"yes_no\"\n"
        ));
        let message = refusal(&body);
        assert_eq!(message.lines().count(), 2, "{message}");
        assert!(message.contains("question Q1: unknown weight"));
        assert!(message.contains("question Q2: text is empty"));
    }

    // ----- versions and loading -----

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

    fn named(id: &str) -> String {
        format!(
            "id = \"{id}\"\ntitle = \"T\"\ndescription = \"d\"\napplies_to = \"a\"\n{}",
            section(&yes_no("Q1", "standard", ""))
        )
    }

    fn source(file: &str, id: &str) -> (String, String) {
        (file.to_string(), named(id))
    }

    #[test]
    fn sources_are_sorted_by_template_id() {
        let ids: Vec<String> = from_sources([source("1.toml", "zeta"), source("2.toml", "alpha")])
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, vec!["alpha", "zeta"]);
    }

    #[test]
    fn two_sources_with_the_same_template_id_are_refused_naming_both() {
        let message = from_sources([source("a.toml", "same"), source("b.toml", "same")])
            .expect_err("duplicate ids")
            .to_string();
        assert_eq!(
            message,
            "b.toml: template id \"same\" is already used by a.toml"
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
