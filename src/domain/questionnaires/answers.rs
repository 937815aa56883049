//! Vendor answers: parsing them against their question, and whether a question applies.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use super::{
    AnswerKind, MAX_TEXT_ANSWER_CHARS, Question, Template, YesNo, is_na_token, quote, quote_list,
};

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

    pub(super) fn describe(&self) -> String {
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

/// A JSON value as a person would recognise it in a message: strings quoted, anything else as JSON.
fn show_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => quote(text),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{section, template};
    use super::*;

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
}
