//! External answers carried over to a template's questions, through a format version's crosswalk or by our own
//! question IDs: what is filled, what is only a hint, what conflicts, and what no question links to.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{ExternalAnswer, ExternalValue};
use crate::domain::crosswalk::{self, Crosswalk};
use crate::domain::questionnaires::{Answer, AnswerKind, Template, YesNo};

/// Which IDs the answers are in, and so how they reach our questions.
#[derive(Debug, Clone, Copy)]
pub enum Through<'a> {
    /// A format version's IDs, through its crosswalk; `version` prefixes each source (`caiq-v4:IAM-14.1`).
    Crosswalk {
        version: &'a str,
        crosswalk: &'a Crosswalk,
    },
    /// Our own question IDs (a hand-mapped sheet without `id_space`); sources are `mapped:<id>`.
    OwnIds,
}

impl<'a> Through<'a> {
    /// Through the shipped crosswalk of `version`, if there is one.
    pub fn version(version: &'a str) -> Option<Through<'a>> {
        crosswalk::registry()
            .crosswalk(version)
            .map(|crosswalk| Through::Crosswalk { version, crosswalk })
    }

    fn prefix(&self) -> &'a str {
        match self {
            Through::Crosswalk { version, .. } => version,
            Through::OwnIds => "mapped",
        }
    }
}

/// An answer to one of our questions, carried over from the vendor's own questionnaire for an analyst to confirm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derived {
    pub answer: Answer,
    /// Where it came from, e.g. `caiq-v4:IAM-14.1`; several when several external questions agree.
    pub sources: Vec<String>,
    /// The vendor's explanations, each after its source when there are several.
    pub comment: Option<String>,
}

/// An external answer to a question related to one of ours: shown, never stored as the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    pub question_id: String,
    /// e.g. `caiq-v4:IAM-14.1`.
    pub source: String,
    pub answer: ExternalValue,
    pub comment: Option<String>,
}

/// One external answer behind a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcedAnswer {
    /// e.g. `hecvat-4:HLDA-07`.
    pub source: String,
    pub answer: ExternalValue,
}

/// One of our questions the external answers cannot fill on their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub question_id: String,
    pub sources_and_answers: Vec<SourcedAnswer>,
    /// Why it was left unfilled, in words for the analyst.
    pub reason: String,
}

/// What the crosswalk did with a set of external answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CrosswalkResult {
    /// By our question id.
    pub filled: BTreeMap<String, Derived>,
    /// Related answers, in template order.
    pub hints: Vec<Hint>,
    /// External IDs (answered) that no question of the template links to, in the order read.
    pub unmapped: Vec<String>,
    /// Questions left unfilled, in template order.
    pub conflicts: Vec<Conflict>,
}

/// Carries external answers over to `template`'s yes/no questions. Through a crosswalk, a question is filled
/// from its `same` links only; its `related` links give hints. Through our own IDs, an ID names the question it
/// fills.
///
/// A question is filled only when every external answer that reaches it agrees. Two that disagree leave it
/// unfilled, as a conflict. N/A is carried over only where the question allows it; where it does not, the
/// question is also left unfilled, as a conflict saying so, rather than guessed to be Yes or No: the vendor
/// thought it did not apply, and only the analyst can judge whether that is a No.
pub fn map_to_template(
    template: &Template,
    answers: &[ExternalAnswer],
    through: Through<'_>,
) -> CrosswalkResult {
    let mut result = CrosswalkResult::default();
    let by_id: HashMap<&str, usize> = answers
        .iter()
        .enumerate()
        .map(|(index, answer)| (answer.source_id.trim(), index))
        .collect();
    let mut reached = vec![false; answers.len()];
    let prefix = through.prefix();
    let links = match through {
        Through::Crosswalk { crosswalk, .. } => crosswalk.for_template(&template.id),
        Through::OwnIds => None,
    };
    for question in template.questions().filter(|q| q.kind == AnswerKind::YesNo) {
        let (same, related): (Vec<&str>, Vec<&str>) = match through {
            Through::OwnIds => (vec![question.id.as_str()], Vec::new()),
            Through::Crosswalk { .. } => match links.and_then(|l| l.get(&question.id)) {
                Some(links) => (
                    links.same.iter().map(String::as_str).collect(),
                    links.related.iter().map(String::as_str).collect(),
                ),
                None => continue,
            },
        };
        for id in related {
            if let Some(&index) = by_id.get(id) {
                reached[index] = true;
                let answer = &answers[index];
                result.hints.push(Hint {
                    question_id: question.id.clone(),
                    source: format!("{prefix}:{}", answer.source_id),
                    answer: answer.answer,
                    comment: answer.comment.clone(),
                });
            }
        }
        let matching: Vec<&ExternalAnswer> = same
            .iter()
            .filter_map(|id| by_id.get(id))
            .map(|&index| {
                reached[index] = true;
                &answers[index]
            })
            .collect();
        if matching.is_empty() {
            continue;
        }
        let sourced: Vec<SourcedAnswer> = matching
            .iter()
            .map(|answer| SourcedAnswer {
                source: format!("{prefix}:{}", answer.source_id),
                answer: answer.answer,
            })
            .collect();
        let first = matching[0].answer;
        let reason = if matching.iter().any(|answer| answer.answer != first) {
            Some("the vendor's answers to these questions disagree".to_owned())
        } else if first == ExternalValue::Na && !question.na_allowed {
            Some(
                "answered N/A, which this question does not allow; decide whether it is a Yes or a No".to_owned(),
            )
        } else {
            None
        };
        if let Some(reason) = reason {
            result.conflicts.push(Conflict {
                question_id: question.id.clone(),
                sources_and_answers: sourced,
                reason,
            });
            continue;
        }
        let answer = Answer::YesNo(match first {
            ExternalValue::Yes => YesNo::Yes,
            ExternalValue::No => YesNo::No,
            ExternalValue::Na => YesNo::Na,
        });
        let comments: Vec<(&str, &str)> = matching
            .iter()
            .zip(&sourced)
            .filter_map(|(answer, sourced)| {
                answer
                    .comment
                    .as_deref()
                    .map(|comment| (sourced.source.as_str(), comment))
            })
            .collect();
        let comment = match comments.as_slice() {
            [] => None,
            [(_, only)] => Some((*only).to_owned()),
            several => Some(
                several
                    .iter()
                    .map(|(source, comment)| format!("{source}: {comment}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        };
        result.filled.insert(
            question.id.clone(),
            Derived {
                answer,
                sources: sourced.into_iter().map(|s| s.source).collect(),
                comment,
            },
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (answer, reached) in answers.iter().zip(reached) {
        if !reached && seen.insert(answer.source_id.as_str()) {
            result.unmapped.push(answer.source_id.clone());
        }
    }
    result
}
