//! Loading templates: the shipped files, TOML as written, and its validation into a [`Template`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::domain::text_forms::one_of;

use super::{
    AnswerKind, Expected, Fault, Location, Question, Section, ShowIf, Template, TemplateError,
    Weight, YesNo, is_na_token, quote,
};

/// The templates the service ships with, compiled into the binary so that it runs from any directory. A test in
/// `templates` checks that this list is exactly the `.toml` files of `questionnaires/`.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "questionnaires/city-baseline.toml",
        include_str!("../../../questionnaires/city-baseline.toml"),
    ),
    (
        "questionnaires/cjis-addendum.toml",
        include_str!("../../../questionnaires/cjis-addendum.toml"),
    ),
    (
        "questionnaires/hipaa-addendum.toml",
        include_str!("../../../questionnaires/hipaa-addendum.toml"),
    ),
    (
        "questionnaires/ma-201-cmr-17.toml",
        include_str!("../../../questionnaires/ma-201-cmr-17.toml"),
    ),
    (
        "questionnaires/pci-addendum.toml",
        include_str!("../../../questionnaires/pci-addendum.toml"),
    ),
    (
        "questionnaires/surveillance.toml",
        include_str!("../../../questionnaires/surveillance.toml"),
    ),
];

/// The shipped templates, checked.
pub fn shipped() -> Result<Vec<Template>, TemplateError> {
    from_sources(SHIPPED.iter().copied())
}

/// Checks each `(file name, text)` as a template, refusing two that declare the same id, and sorts them by id.
/// Faults name the file as given; the first faulty source in the order given is reported.
pub fn from_sources<'a>(
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Template>, TemplateError> {
    let mut templates: Vec<Template> = Vec::new();
    let mut files_by_id: BTreeMap<String, &str> = BTreeMap::new();
    for (file, text) in sources {
        let template = Template::from_toml(file, text)?;
        if let Some(first) = files_by_id.get(&template.id) {
            return Err(TemplateError::DuplicateId {
                file: file.to_string(),
                id: template.id,
                first: first.to_string(),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplate {
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

pub(super) fn build_template(
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
    let Ok(kind) = AnswerKind::try_from(raw.kind.as_str()) else {
        faults.push(format!(
            "unknown kind {}; expected one of {}",
            quote(&raw.kind),
            one_of::<AnswerKind>()
        ));
        return None;
    };
    let weight = match raw.weight.as_deref() {
        None => Weight::Standard,
        Some(name) => Weight::try_from(name).unwrap_or_else(|_| {
            faults.push(format!(
                "unknown weight {}; expected one of {}",
                quote(name),
                one_of::<Weight>()
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

#[cfg(test)]
mod tests {
    use super::super::tests::{FILE, refusal, section, template, yes_no};
    use super::*;

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

    // ----- loading several sources -----

    fn named(id: &str) -> String {
        format!(
            "id = \"{id}\"\ntitle = \"T\"\ndescription = \"d\"\napplies_to = \"a\"\n{}",
            section(&yes_no("Q1", "standard", ""))
        )
    }

    #[test]
    fn sources_are_sorted_by_template_id() {
        let (zeta, alpha) = (named("zeta"), named("alpha"));
        let ids: Vec<String> =
            from_sources([("1.toml", zeta.as_str()), ("2.toml", alpha.as_str())])
                .unwrap()
                .into_iter()
                .map(|t| t.id)
                .collect();
        assert_eq!(ids, vec!["alpha", "zeta"]);
    }

    #[test]
    fn two_sources_with_the_same_template_id_are_refused_naming_both() {
        let same = named("same");
        let message = from_sources([("a.toml", same.as_str()), ("b.toml", same.as_str())])
            .expect_err("duplicate ids")
            .to_string();
        assert_eq!(
            message,
            "b.toml: template id \"same\" is already used by a.toml"
        );
    }
}
