//! The policy document: its settings and their defaults, its rules (condition, outcome, reason), and its faults.

mod condition;
mod outcome;

pub use condition::{Comparison, Condition, Flag, NumericFact};
pub use outcome::{Outcome, StepKind, StepKindTag};

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::fiscal::{
    date_or_calendar_limit, fiscal_start_is_valid, fiscal_year, fiscal_year_bounds,
};
use super::{DEFAULT_POLICY_TOML, REASON_PLACEHOLDERS, TemplatePiece, template_pieces};

/// A versioned set of rules plus the figures the workflow around them needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Names this version of the policy; a route records the label it was computed under.
    pub label: String,
    /// Month (1-12) on which the fiscal year starts; 7 for Boston.
    #[serde(default = "default_fiscal_year_start_month")]
    pub fiscal_year_start_month: u32,
    /// Day of that month on which the fiscal year starts.
    #[serde(default = "default_fiscal_year_start_day")]
    pub fiscal_year_start_day: u32,
    /// A rise in cost of more than this share of the decided value (or of what a renewal renews) is a
    /// material change: it re-opens review of an approved request and keeps a renewal off the fast path.
    #[serde(default = "default_material_change_cost_percent")]
    pub material_change_cost_percent: u32,
    /// The same for the number of users: a renewal for more than this share above what it renews is not
    /// the same purchase.
    #[serde(default = "default_material_change_users_percent")]
    pub material_change_users_percent: u32,
    /// Days a vendor has to return an assigned questionnaire.
    #[serde(default = "default_questionnaire_due_days")]
    pub questionnaire_due_days: u32,
    /// Days a decision may wait before it is escalated.
    #[serde(default = "default_decision_escalation_days")]
    pub decision_escalation_days: u32,
    /// A possible overlap the duplicate check scores at or above this (0.3 to 1) puts a notice on the route:
    /// it blocks nothing, and tells the buyer and the CIO office that the city already runs something like it.
    #[serde(default = "default_duplicate_notice_score")]
    pub duplicate_notice_score: f64,
    /// Months between accepted assessments of a vendor holding personal information [201 CMR 17.03(2)(i)].
    #[serde(default = "default_reassessment_months")]
    pub reassessment_months: u32,
    /// Hours from discovery within which a vendor must tell the city of a breach: the breach-notice clause the
    /// city puts in its contracts [c.93H §3(a)].
    #[serde(default = "default_incident_vendor_notice_hours")]
    pub incident_vendor_notice_hours: u32,
    /// Days after discovery at which a Massachusetts breach notice not yet sent is escalated to the CIO office:
    /// the law asks for notice "as soon as practicable and without unreasonable delay" and sets no day [c.93H §3].
    #[serde(default = "default_incident_ma_escalation_days")]
    pub incident_ma_escalation_days: u32,
    /// Days from its issue within which the recipient of a remediation order may appeal it.
    #[serde(default = "default_order_appeal_days")]
    pub order_appeal_days: u32,
    /// The entity a breach notice names as the owner of the data: the city.
    #[serde(default = "default_notice_entity_name")]
    pub notice_entity_name: String,
    #[serde(default = "default_notice_entity_address")]
    pub notice_entity_address: String,
    #[serde(default = "default_notice_entity_type")]
    pub notice_entity_type: String,
    /// Month and day by which each covered department files its Annual Surveillance Report on the year before
    /// [Boston 16-63.5]. The ordinance leaves the department's date to the city (the Council publishes its review
    /// by May 31), so it is policy: March 1 by default.
    #[serde(default = "default_surveillance_report_due_month")]
    pub surveillance_report_due_month: u32,
    #[serde(default = "default_surveillance_report_due_day")]
    pub surveillance_report_due_day: u32,
    /// Days before that date from which departments whose report is missing are reminded.
    #[serde(default = "default_surveillance_report_reminder_days")]
    pub surveillance_report_reminder_days: u32,
    /// How long a product's accepted assessment stands for later requests, per data class, and whether a reuse
    /// waits for an analyst's confirmation (see [`super::reuse`](crate::domain::reuse)).
    #[serde(default)]
    pub reuse: crate::domain::reuse::ReusePolicy,
    /// Applied in order; the order decides the order of grounds within a step.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn default_incident_vendor_notice_hours() -> u32 {
    72
}
fn default_incident_ma_escalation_days() -> u32 {
    30
}
fn default_order_appeal_days() -> u32 {
    14
}
fn default_notice_entity_name() -> String {
    "City of Boston".to_owned()
}
fn default_notice_entity_address() -> String {
    "1 City Hall Square, Boston, MA 02201".to_owned()
}
fn default_notice_entity_type() -> String {
    "Government (municipality)".to_owned()
}

fn default_surveillance_report_due_month() -> u32 {
    3
}
fn default_surveillance_report_due_day() -> u32 {
    1
}
fn default_surveillance_report_reminder_days() -> u32 {
    30
}

fn default_fiscal_year_start_month() -> u32 {
    7
}
fn default_fiscal_year_start_day() -> u32 {
    1
}
fn default_material_change_cost_percent() -> u32 {
    10
}
fn default_material_change_users_percent() -> u32 {
    10
}
fn default_questionnaire_due_days() -> u32 {
    30
}
fn default_decision_escalation_days() -> u32 {
    10
}
fn default_duplicate_notice_score() -> f64 {
    0.45
}
fn default_reassessment_months() -> u32 {
    crate::domain::deadlines::REASSESSMENT_MONTHS
}

impl Policy {
    /// Reads a policy from TOML. The result is not yet checked: call [`Policy::validate`] before using it.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        toml::from_str(text).map_err(|error| PolicyError {
            scope: PolicyScope::Policy,
            fault: PolicyFault::Unreadable(error.to_string().trim_end().to_owned()),
        })
    }

    /// The day by which the Annual Surveillance Reports on `year` are due (in the year after it).
    pub fn surveillance_report_due(&self, year: i32) -> NaiveDate {
        date_or_calendar_limit(
            year + 1,
            self.surveillance_report_due_month,
            self.surveillance_report_due_day,
        )
    }

    /// The city's default policy ([`DEFAULT_POLICY_TOML`]).
    pub fn default_policy() -> Policy {
        // A unit test parses and validates the embedded text, so this cannot fail in a built binary.
        Policy::from_toml(DEFAULT_POLICY_TOML).expect("the embedded default policy is valid")
    }

    /// The fiscal year `date` falls in under this policy's fiscal calendar.
    pub fn fiscal_year_of(&self, date: NaiveDate) -> i32 {
        fiscal_year(
            date,
            self.fiscal_year_start_month,
            self.fiscal_year_start_day,
        )
    }

    /// The bounds of fiscal year `fiscal_year` under this policy; see [`fiscal_year_bounds`].
    pub fn fiscal_year_bounds(&self, fiscal_year: i32) -> (NaiveDate, NaiveDate) {
        fiscal_year_bounds(
            fiscal_year,
            self.fiscal_year_start_month,
            self.fiscal_year_start_day,
        )
    }

    /// Whether moving a contract's value from `previous_cents` to `proposed_cents` is a material change:
    /// any change of at least `material_change_cost_percent` of the previous value.
    pub fn cost_change_is_material(&self, previous_cents: i64, proposed_cents: i64) -> bool {
        if previous_cents == proposed_cents {
            return false;
        }
        let change = (i128::from(proposed_cents) - i128::from(previous_cents)).abs();
        change * 100
            >= i128::from(self.material_change_cost_percent) * i128::from(previous_cents).abs()
    }

    /// Checks everything a policy author can get wrong, reporting every fault rather than the first.
    pub fn validate(&self) -> Result<(), Vec<PolicyError>> {
        let mut errors = Vec::new();
        let mut policy_fault = |fault| {
            errors.push(PolicyError {
                scope: PolicyScope::Policy,
                fault,
            })
        };
        if self.label.trim().is_empty() {
            policy_fault(PolicyFault::EmptyLabel);
        }
        if !fiscal_start_is_valid(self.fiscal_year_start_month, self.fiscal_year_start_day) {
            policy_fault(PolicyFault::InvalidFiscalYearStart {
                month: self.fiscal_year_start_month,
                day: self.fiscal_year_start_day,
            });
        }
        if self.questionnaire_due_days == 0 {
            policy_fault(PolicyFault::ZeroQuestionnaireDueDays);
        }
        if self.decision_escalation_days == 0 {
            policy_fault(PolicyFault::ZeroDecisionEscalationDays);
        }
        if !(0.3..=1.0).contains(&self.duplicate_notice_score) {
            policy_fault(PolicyFault::DuplicateNoticeScore);
        }
        if self.reassessment_months == 0 {
            policy_fault(PolicyFault::ZeroReassessmentMonths);
        }
        for fault in self.reuse.faults() {
            policy_fault(PolicyFault::Reuse(fault));
        }
        if !fiscal_start_is_valid(
            self.surveillance_report_due_month,
            self.surveillance_report_due_day,
        ) {
            policy_fault(PolicyFault::InvalidSurveillanceReportDue {
                month: self.surveillance_report_due_month,
                day: self.surveillance_report_due_day,
            });
        }

        let mut seen_ids = BTreeSet::new();
        let mut reported_duplicates = BTreeSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let id = rule.id.trim();
            // A rule without an id is named by its position so that the author can find it.
            let scope = PolicyScope::Rule(if id.is_empty() {
                format!("#{}", index + 1)
            } else {
                rule.id.clone()
            });
            let mut faults = rule.faults();
            if !id.is_empty() && !seen_ids.insert(id) && reported_duplicates.insert(id) {
                faults.insert(0, PolicyFault::DuplicateId);
            }
            errors.extend(faults.into_iter().map(|fault| PolicyError {
                scope: scope.clone(),
                fault,
            }));
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// One named rule: when its condition holds, the request gets its outcome, for the rendered reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable identifier, e.g. `cio-value-threshold`; routes and audit records refer to it.
    pub id: String,
    /// What the rule requires, in a few words, e.g. `CIO approval: total contract value`.
    pub title: String,
    /// Short citation of the rule's source, e.g. `c.30B §5; EO 2025 Art. 3`.
    pub citation: String,
    /// When the rule applies.
    pub when: Condition,
    /// What it requires when it applies.
    pub then: Outcome,
    /// Template with placeholders from [`REASON_PLACEHOLDERS`] in braces.
    pub reason: String,
}

impl Rule {
    fn faults(&self) -> Vec<PolicyFault> {
        let mut faults = Vec::new();
        if self.id.trim().is_empty() {
            faults.push(PolicyFault::EmptyId);
        }
        if self.title.trim().is_empty() {
            faults.push(PolicyFault::EmptyTitle);
        }
        if self.citation.trim().is_empty() {
            faults.push(PolicyFault::EmptyCitation);
        }
        if self.reason.trim().is_empty() {
            faults.push(PolicyFault::EmptyReason);
        }
        for piece in template_pieces(&self.reason) {
            match piece {
                TemplatePiece::Text(_) => {}
                TemplatePiece::Unclosed(_) => faults.push(PolicyFault::UnclosedPlaceholder),
                TemplatePiece::Placeholder(name) if !REASON_PLACEHOLDERS.contains(&name) => {
                    faults.push(PolicyFault::UnknownPlaceholder(name.to_owned()))
                }
                TemplatePiece::Placeholder("threshold")
                    if self.when.first_comparison().is_none() =>
                {
                    faults.push(PolicyFault::ThresholdWithoutComparison)
                }
                TemplatePiece::Placeholder(_) => {}
            }
        }
        self.when.collect_faults(&mut faults);
        match &self.then {
            Outcome::Require(StepKind::SecurityReview { questionnaires })
                if questionnaires.is_empty() =>
            {
                faults.push(PolicyFault::NoQuestionnaires)
            }
            Outcome::Require(StepKind::ContractSafeguards { clauses }) if clauses.is_empty() => {
                faults.push(PolicyFault::NoClauses)
            }
            Outcome::Require(StepKind::Evidence { items }) if items.is_empty() => {
                faults.push(PolicyFault::NoEvidenceItems)
            }
            Outcome::Prohibit { code } if code.trim().is_empty() => {
                faults.push(PolicyFault::EmptyProhibitionCode)
            }
            _ => {}
        }
        faults
    }
}

/// What a [`PolicyError`] is about: the policy's own fields, or one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyScope {
    /// The policy's own fields (label, fiscal calendar, deadlines) or its text as a whole.
    Policy,
    /// A rule by its id, or by its 1-based position (`#3`) when its id is empty.
    Rule(String),
}

impl fmt::Display for PolicyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyScope::Policy => f.write_str("policy"),
            PolicyScope::Rule(id) => write!(f, "rule {id}"),
        }
    }
}

/// A fault in a policy, for its author: `rule cio-value-threshold: reason uses unknown placeholder {foo}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{scope}: {fault}")]
pub struct PolicyError {
    /// Where the fault is.
    pub scope: PolicyScope,
    /// What the fault is.
    pub fault: PolicyFault,
}

/// What is wrong, without where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyFault {
    /// The text is not TOML, or does not have the shape of a policy; the message points at the line.
    #[error("cannot be read: {0}")]
    Unreadable(String),
    /// The policy has no label to record on routes.
    #[error("label is empty")]
    EmptyLabel,
    /// The fiscal year would start on a day that some years lack (or no day at all).
    #[error("fiscal year start month {month}, day {day} is not a day that occurs every year")]
    InvalidFiscalYearStart {
        /// [`Policy::fiscal_year_start_month`].
        month: u32,
        /// [`Policy::fiscal_year_start_day`].
        day: u32,
    },
    /// Vendors would have no time to answer.
    #[error("questionnaire_due_days must be at least 1")]
    ZeroQuestionnaireDueDays,
    /// Every decision would be escalated at once.
    #[error("decision_escalation_days must be at least 1")]
    ZeroDecisionEscalationDays,
    /// Notices below the possible-overlap class could never be given, or above 1 never.
    #[error("duplicate_notice_score must be between 0.3 and 1")]
    DuplicateNoticeScore,
    /// Every vendor would be due for re-assessment at once.
    #[error("reassessment_months must be at least 1")]
    ZeroReassessmentMonths,
    /// A reuse setting that cannot hold, in words naming it.
    #[error("{0}")]
    Reuse(String),
    /// The Annual Surveillance Reports would be due on a day that some years lack (or no day at all).
    #[error("surveillance report due month {month}, day {day} is not a day that occurs every year")]
    InvalidSurveillanceReportDue {
        /// [`Policy::surveillance_report_due_month`].
        month: u32,
        /// [`Policy::surveillance_report_due_day`].
        day: u32,
    },
    /// Routes and audit records could not refer to the rule.
    #[error("id is empty")]
    EmptyId,
    /// Two rules share an id; reported once, on the second.
    #[error("id is used by more than one rule")]
    DuplicateId,
    /// The rule has no title.
    #[error("title is empty")]
    EmptyTitle,
    /// The rule does not say what law or order it rests on.
    #[error("citation is empty")]
    EmptyCitation,
    /// The rule would give no reason.
    #[error("reason is empty")]
    EmptyReason,
    /// The reason uses a name not in [`REASON_PLACEHOLDERS`].
    #[error("reason uses unknown placeholder {{{0}}}")]
    UnknownPlaceholder(String),
    /// The reason opens a placeholder and never closes it.
    #[error("reason has a {{ with no closing }}")]
    UnclosedPlaceholder,
    /// `{threshold}` would have no figure to quote.
    #[error("reason uses {{threshold}} but the condition compares no numeric fact")]
    ThresholdWithoutComparison,
    /// No amount or count is below zero, so such a comparison is a slip.
    #[error("threshold {threshold} for {} is negative", fact.as_str())]
    NegativeThreshold {
        /// The fact compared.
        fact: NumericFact,
        /// The negative figure.
        threshold: i64,
    },
    /// `all = []` holds for every request, which is rarely what was meant.
    #[error("an `all` condition lists no conditions")]
    EmptyAll,
    /// `any = []` holds for no request.
    #[error("an `any` condition lists no conditions")]
    EmptyAny,
    /// `data_class_any = []` holds for no request.
    #[error("a `data_class_any` condition lists no data classes")]
    EmptyDataClassList,
    /// `department_in = []` holds for no request.
    #[error("a `department_in` condition lists no departments")]
    EmptyDepartmentList,
    /// A security review with nothing for the vendor to answer.
    #[error("security_review names no questionnaires")]
    NoQuestionnaires,
    /// A safeguards step with no clause to check.
    #[error("contract_safeguards names no clauses")]
    NoClauses,
    /// An evidence step asking for nothing.
    #[error("evidence names no items")]
    NoEvidenceItems,
    /// A prohibition that does not say what it prohibits.
    #[error("prohibit has an empty code")]
    EmptyProhibitionCode,
}

#[cfg(test)]
mod tests;
