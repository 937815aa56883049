//! Assessments (a vendor's answers to one questionnaire for one request) and the findings their answers raise.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

use crate::domain::invalid::{FieldError, Invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum AssessmentStatus {
    /// The vendor is answering.
    Open,
    /// Sent for review; answers are frozen.
    Submitted,
    /// Sent back by the analyst with comments; the vendor revises.
    Returned,
    Accepted,
    /// The request was closed (withdrawn, denied or decided) before the assessment was accepted; nothing more is
    /// answered, submitted or reviewed, and no reminder is sent.
    Cancelled,
}

impl AssessmentStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the vendor may change answers.
    pub fn editable(self) -> bool {
        matches!(self, AssessmentStatus::Open | AssessmentStatus::Returned)
    }
}

/// How an analyst's review of a submitted assessment ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum AssessmentReviewVerdict {
    /// Accepted: its unmet expectations became findings.
    Accepted,
    /// Returned to the vendor with comments.
    Returned,
}

impl AssessmentReviewVerdict {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum FindingStatus {
    Open,
    RemediationPlanned,
    Resolved,
    RiskAccepted,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Open and planned findings still stand; a critical one blocks approval.
    pub fn stands(self) -> bool {
        matches!(
            self,
            FindingStatus::Open | FindingStatus::RemediationPlanned
        )
    }

    /// What a finding in this state may become next.
    pub fn may_become(self, next: FindingStatus) -> bool {
        use FindingStatus::*;
        matches!(
            (self, next),
            (Open, RemediationPlanned)
                | (RemediationPlanned, RemediationPlanned)
                | (Open | RemediationPlanned, Resolved)
                | (Open | RemediationPlanned, RiskAccepted)
        )
    }
}

/// An assessment as shown to vendors and staff.
#[derive(Debug, Clone, Object)]
pub struct AssessmentView {
    pub id: Uuid,
    pub request_id: Uuid,
    pub vendor_id: Uuid,
    pub template_id: String,
    /// Content hash of the template file it is answered against.
    pub template_version: String,
    pub template_title: String,
    pub status: AssessmentStatus,
    pub due_date: NaiveDate,
    /// Submitted versions so far, over every cycle.
    pub submission: i32,
    /// Score of the last submitted version.
    pub score: Option<ScoreView>,
    /// The review cycle: 1 for the first answers, one more for each re-assessment.
    pub cycle: i32,
    /// When the request was closed and took this assessment with it (status `cancelled`).
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why: the request's withdrawal, denial or closing, in words.
    pub cancel_reason: Option<String>,
    /// The vendor's product it belongs to, when its request named one (see `GET /api/v1/products/{id}`).
    pub product_id: Option<Uuid>,
    /// For a cycle opened by a later request for the product (its scope widened, or the acceptance expired): the
    /// assessment it continues, whose answers it was pre-filled with.
    pub continues_assessment_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Object)]
pub struct ScoreView {
    pub earned_points: u32,
    pub possible_points: u32,
    /// 0 to 100.
    pub percent: f64,
    /// `low`, `moderate` or `high`.
    pub risk_tier: String,
    pub unmet_critical: bool,
}

#[derive(Debug, Clone, Object)]
pub struct FindingView {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub request_id: Uuid,
    pub vendor_id: Uuid,
    pub question_id: String,
    /// From the question's weight.
    pub severity: crate::domain::questionnaires::Severity,
    pub title: String,
    /// e.g. `answered No; expected Yes`.
    pub reason: String,
    pub citation: Option<String>,
    pub status: FindingStatus,
    pub remediation_plan: Option<String>,
    pub remediation_due: Option<NaiveDate>,
    pub resolution_note: Option<String>,
    pub risk_rationale: Option<String>,
    pub risk_expires_on: Option<NaiveDate>,
    pub decided_by: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a finding, checked.
#[derive(Debug, Clone, PartialEq)]
pub enum FindingChange {
    PlanRemediation {
        plan: String,
        due: NaiveDate,
    },
    Resolve {
        note: String,
    },
    AcceptRisk {
        rationale: String,
        expires_on: NaiveDate,
    },
}

impl FindingChange {
    pub fn target(&self) -> FindingStatus {
        match self {
            FindingChange::PlanRemediation { .. } => FindingStatus::RemediationPlanned,
            FindingChange::Resolve { .. } => FindingStatus::Resolved,
            FindingChange::AcceptRisk { .. } => FindingStatus::RiskAccepted,
        }
    }

    fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
        let v = value.trim();
        if v.is_empty() {
            Err(FieldError::new(field, "is required"))
        } else if v.chars().count() > max {
            Err(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ))
        } else {
            Ok(v.to_string())
        }
    }

    pub fn plan(plan: &str, due: NaiveDate, today: NaiveDate) -> Result<FindingChange, Invalid> {
        let plan = Self::text("plan", plan, 5000).map_err(|e| Invalid(vec![e]))?;
        if due < today {
            return Err(Invalid::field("due_date", "must not be in the past"));
        }
        Ok(FindingChange::PlanRemediation { plan, due })
    }

    pub fn resolve(note: &str) -> Result<FindingChange, Invalid> {
        let note = Self::text("note", note, 5000).map_err(|e| Invalid(vec![e]))?;
        Ok(FindingChange::Resolve { note })
    }

    /// A risk acceptance expires: the risk is reconsidered, not accepted for ever.
    pub fn accept_risk(
        rationale: &str,
        expires_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<FindingChange, Invalid> {
        let rationale = Self::text("rationale", rationale, 5000).map_err(|e| Invalid(vec![e]))?;
        if expires_on <= today {
            return Err(Invalid::field("expires_on", "must be after today"));
        }
        if expires_on > today + chrono::Duration::days(3 * 366) {
            return Err(Invalid::field("expires_on", "must be within three years"));
        }
        Ok(FindingChange::AcceptRisk {
            rationale,
            expires_on,
        })
    }
}

/// What a new review cycle keeps of the last cycle's answers, question by question.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarryOver {
    /// Answers the template (the version the new cycle uses) still asks and still reads: kept as the starting
    /// point, marked with [`prior_cycle_source`] for the vendor to confirm or change.
    pub carried: Vec<String>,
    /// Answers to questions the template no longer asks, or that no longer fit the question (its kind or options
    /// changed): not carried. They stay in the submitted versions of the earlier cycle.
    pub retired: Vec<String>,
}

/// Sorts the last answers (question id and stored value) into those a new cycle carries and those it retires.
pub fn carry_over<'a>(
    template: &crate::domain::questionnaires::Template,
    answers: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
) -> CarryOver {
    let mut out = CarryOver::default();
    for (question_id, value) in answers {
        let fits = template
            .question(question_id)
            .is_some_and(|q| crate::domain::questionnaires::parse_answer(q, value).is_ok());
        if fits {
            out.carried.push(question_id.to_string());
        } else {
            out.retired.push(question_id.to_string());
        }
    }
    out.carried.sort();
    out.retired.sort();
    out
}

/// The source mark of an answer carried into a new cycle from cycle `cycle`; it becomes `vendor` again once the
/// vendor saves it.
pub fn prior_cycle_source(cycle: i32) -> String {
    format!("cycle-{cycle}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn findings_move_forward_only() {
        use FindingStatus::*;
        assert!(Open.may_become(RemediationPlanned));
        assert!(RemediationPlanned.may_become(Resolved));
        assert!(Open.may_become(RiskAccepted));
        assert!(!Resolved.may_become(Open));
        assert!(!RiskAccepted.may_become(Resolved));
        assert!(
            Open.stands()
                && RemediationPlanned.stands()
                && !Resolved.stands()
                && !RiskAccepted.stands()
        );
    }

    #[test]
    fn a_risk_acceptance_needs_a_rationale_and_a_future_expiry() {
        let today = d(2026, 11, 21);
        assert!(FindingChange::accept_risk("compensating controls", d(2027, 6, 30), today).is_ok());
        let e = FindingChange::accept_risk(" ", d(2027, 6, 30), today).unwrap_err();
        assert_eq!(e.0[0].field, "rationale");
        let e = FindingChange::accept_risk("x", today, today).unwrap_err();
        assert_eq!(e.0[0].field, "expires_on");
        let e = FindingChange::accept_risk("x", d(2031, 1, 1), today).unwrap_err();
        assert_eq!(e.0[0].field, "expires_on");
    }

    #[test]
    fn a_remediation_plan_is_due_today_or_later() {
        let today = d(2026, 11, 21);
        assert!(FindingChange::plan("enable MFA", today, today).is_ok());
        assert_eq!(
            FindingChange::plan("enable MFA", d(2026, 11, 20), today)
                .unwrap_err()
                .0[0]
                .field,
            "due_date"
        );
    }

    #[test]
    fn a_new_cycle_carries_answers_the_template_still_reads_and_retires_the_rest() {
        let template = crate::domain::questionnaires::Template::from_toml(
            "questionnaires/t.toml",
            "id = \"t\"\ntitle = \"T\"\ndescription = \"d\"\napplies_to = \"a\"\n\
             [[sections]]\nid = \"s\"\ntitle = \"S\"\n\
             [[sections.questions]]\nid = \"Q-1\"\ntext = \"One?\"\nkind = \"yes_no\"\nexpected = \"yes\"\n\
             weight = \"standard\"\ncitation = \"c\"\n\
             [[sections.questions]]\nid = \"Q-2\"\ntext = \"Two?\"\nkind = \"single_choice\"\n\
             options = [\"A\", \"B\"]\n",
        )
        .expect("template");
        let yes = serde_json::json!("yes");
        let gone = serde_json::json!("C");
        let old = serde_json::json!("no");
        let answers = [("Q-2", &gone), ("Q-1", &yes), ("Q-9", &old)];
        let out = carry_over(&template, answers);
        assert_eq!(out.carried, vec!["Q-1"]);
        // Q-2's option "C" is no longer offered; Q-9 is no longer asked.
        assert_eq!(out.retired, vec!["Q-2", "Q-9"]);
        assert_eq!(prior_cycle_source(1), "cycle-1");
    }
}
