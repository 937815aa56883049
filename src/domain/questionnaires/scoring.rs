//! Scoring answers against a template, the findings an unmet expectation raises, and the risk tier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Answer, Expected, Question, Severity, Template, Weight, is_applicable, quote_list};

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

#[cfg(test)]
mod tests {
    use super::super::YesNo;
    use super::super::tests::{section, template, yes_no};
    use super::*;

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
}
