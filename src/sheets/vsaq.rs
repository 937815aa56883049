//! Google VSAQ answers: the flat JSON map a VSAQ page saves, question ID -> chosen choice ID (`"secprog":
//! "secprog_yes"`) or text. A Yes/No question's answer is its `<id>_yes` or `<id>_no` choice; any other choice of a
//! listed question is not a choice we read (skipped, counted); text answers and check groups are ignored.

use serde_json::Value;

use super::external::{ExternalAnswer, ExternalValue, Failure, NotAChoice, Outcome};
use crate::domain::crosswalk;
use crate::error::FieldError;

/// The largest VSAQ answer file read: the four published questionnaires answered in full take about 20 KB.
pub const MAX_BYTES: usize = 1024 * 1024;

/// Reads a VSAQ answer map.
pub fn read(bytes: &[u8]) -> Result<Outcome, Failure> {
    if bytes.len() > MAX_BYTES {
        return Err(Failure::Cells(vec![FieldError::new(
            "file",
            format!(
                "the answer file is {} bytes; a VSAQ answer map is far smaller (at most {MAX_BYTES} bytes read)",
                bytes.len()
            ),
        )]));
    }
    let not_a_map = |detail: String| {
        Failure::Cells(vec![FieldError::new(
            "file",
            format!(
                "not a VSAQ answer file ({detail}); send the JSON object the VSAQ page saves, question ID to answer"
            ),
        )])
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| not_a_map(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(not_a_map("a JSON object was expected".into()));
    };
    let list = crosswalk::registry()
        .id_list("vsaq")
        .expect("the VSAQ list is shipped");
    let mut answers = Vec::new();
    let mut not_a_choice = Vec::new();
    let mut errors = Vec::new();
    for (id, answer) in &map {
        let at = format!("answers.{id}");
        let Some(text) = answer.as_str() else {
            continue;
        };
        if let Err(message) = super::cell_characters(text) {
            errors.push(FieldError::new(at, message));
            continue;
        }
        let value = match text.strip_prefix(id.as_str()) {
            Some("_yes") => Some(ExternalValue::Yes),
            Some("_no") => Some(ExternalValue::No),
            _ => None,
        };
        match value {
            Some(value) => answers.push(ExternalAnswer {
                source_id: id.clone(),
                answer: value,
                comment: None,
                cell: at,
            }),
            None if list.questions.contains_key(id) || text.starts_with(&format!("{id}_")) => {
                not_a_choice.push(NotAChoice {
                    cell: at,
                    text: text.to_owned(),
                })
            }
            // Free text and check groups carry no Yes/No answer.
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Cells(errors));
    }
    Ok(Outcome {
        version: "vsaq".to_owned(),
        how: format!(
            "a VSAQ answer map: {} Yes/No answers among {} entries",
            answers.len(),
            map.len()
        ),
        answers,
        not_a_choice,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::questionnaires::shipped;
    use crate::sheets::external::{Through, map_to_template};

    /// A VSAQ questionnaire file as published: `//` licence lines on top, strings joined with `+`.
    fn questionnaire(name: &str) -> Value {
        let path = format!(
            "{}/../shared/fixtures/real/vsaq/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!("{path} cannot be read ({error}); the real fixtures live in shared/fixtures/real/ beside the checkout")
        });
        let json: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut joined = String::new();
        let mut rest = json.as_str();
        // `"a" +\n "b"` -> `"ab"`.
        while let Some(plus) = rest.find("\" +") {
            let after = rest[plus + 3..].trim_start();
            if let Some(next) = after.strip_prefix('"') {
                joined.push_str(&rest[..plus]);
                rest = next;
            } else {
                joined.push_str(&rest[..plus + 3]);
                rest = &rest[plus + 3..];
            }
        }
        joined.push_str(rest);
        serde_json::from_str(&joined).expect("a VSAQ questionnaire")
    }

    fn yes_no_ids(items: &Value, out: &mut BTreeSet<String>) {
        for item in items.as_array().into_iter().flatten() {
            if item["type"] == "radiogroup"
                && let Some(id) = item["id"].as_str()
            {
                let choices: Vec<String> = item["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|c| c.as_object().unwrap().keys().cloned())
                    .collect();
                if choices == [format!("{id}_yes"), format!("{id}_no")] {
                    out.insert(id.to_owned());
                }
            }
            yes_no_ids(&item["items"], out);
        }
    }

    #[test]
    fn the_vsaq_list_is_every_yes_no_question_of_the_published_questionnaires() {
        let mut published = BTreeSet::new();
        for name in [
            "security_privacy_programs",
            "physical_and_datacenter",
            "infrastructure",
            "webapp",
        ] {
            yes_no_ids(&questionnaire(name)["questionnaire"], &mut published);
        }
        let listed: BTreeSet<String> = crosswalk::registry()
            .id_list("vsaq")
            .unwrap()
            .questions
            .keys()
            .cloned()
            .collect();
        assert_eq!(listed, published);
    }

    #[test]
    fn the_vsaq_answer_key() {
        let answers = serde_json::json!({
            "options": "req_sensitive",
            "secprog": "secprog_yes",
            "secprog_team": "secprog_team_yes",
            "secprog_incidents_procedures": "secprog_incidents_procedures_yes",
            "secprog_peopleops_leaver": "secprog_peopleops_leaver_no",
            "secprog_vendorsec_clauses": "secprog_vendorsec_clauses_yes",
            "clients_laptops_hd_encrypted": "clients_laptops_hd_encrypted_yes",
            "testing_pentests": "testing_pentests_no",
            "secprog_intaudits_often": "checked",
            "dc_outage": "dc_outage_partly",
            "application_name": "Benefits portal"
        });
        let got = read(answers.to_string().as_bytes()).unwrap();
        assert_eq!(got.version, "vsaq");
        assert_eq!(got.answers.len(), 7);
        assert_eq!(
            got.not_a_choice,
            [NotAChoice {
                cell: "answers.dc_outage".into(),
                text: "dc_outage_partly".into()
            }]
        );
        let templates = shipped().unwrap();
        let find = |id: &str| templates.iter().find(|t| t.id == id).unwrap();
        let through = Through::version("vsaq").unwrap();
        let wisp = map_to_template(find("ma-201-cmr-17"), &got.answers, through);
        let filled: Vec<(&str, serde_json::Value)> = wisp
            .filled
            .iter()
            .map(|(q, d)| (q.as_str(), d.answer.to_json()))
            .collect();
        assert_eq!(
            filled,
            [
                ("ENC-03", "yes".into()),
                ("PROV-03", "yes".into()),
                ("WISP-03", "yes".into()),
                ("WISP-11", "no".into()),
            ]
        );
        assert!(
            wisp.hints
                .iter()
                .any(|h| h.question_id == "WISP-01" && h.source == "vsaq:secprog")
        );
        let city = map_to_template(find("city-baseline"), &got.answers, through);
        assert_eq!(city.filled.keys().collect::<Vec<_>>(), ["INC-01"]);
        assert!(
            city.hints
                .iter()
                .any(|h| h.question_id == "VUL-04" && h.answer == ExternalValue::No)
        );
    }

    #[test]
    fn what_is_not_an_answer_map_is_refused_naming_the_file() {
        for bytes in [&b"[1, 2]"[..], b"{not json", b"\xff"] {
            let Err(Failure::Cells(errors)) = read(bytes) else {
                panic!("refused");
            };
            assert_eq!(errors[0].field, "file");
            assert!(
                errors[0].message.starts_with("not a VSAQ answer file"),
                "{}",
                errors[0].message
            );
        }
    }
}
