//! The policy document: its settings and their defaults, its rules (condition, outcome, reason), and its faults.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::facts::{DataClass, RequestFacts};
use super::fiscal::{
    date_or_calendar_limit, fiscal_start_is_valid, fiscal_year, fiscal_year_bounds,
};
use super::money::format_cents;
use super::{
    DEFAULT_POLICY_TOML, REASON_PLACEHOLDERS, RequestView, TemplatePiece, template_pieces,
};

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

/// A numeric fact a condition can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumericFact {
    /// See [`total_contract_value_cents`](super::total_contract_value_cents).
    TotalContractValueCents,
    /// This request plus the vendor's other purchases in the fiscal year.
    FyVendorTotalCents,
    /// [`RequestFacts::capital_cents`].
    CapitalCents,
    /// [`RequestFacts::annual_operating_cents`].
    AnnualOperatingCents,
    /// [`RequestFacts::users`].
    Users,
    /// [`RequestFacts::term_months`].
    TermMonths,
}

impl NumericFact {
    /// The wire name, e.g. `total_contract_value_cents`.
    pub fn as_str(self) -> &'static str {
        match self {
            NumericFact::TotalContractValueCents => "total_contract_value_cents",
            NumericFact::FyVendorTotalCents => "fy_vendor_total_cents",
            NumericFact::CapitalCents => "capital_cents",
            NumericFact::AnnualOperatingCents => "annual_operating_cents",
            NumericFact::Users => "users",
            NumericFact::TermMonths => "term_months",
        }
    }

    /// Whether the fact is an amount of money in cents (and is quoted as dollars).
    pub fn is_money(self) -> bool {
        !matches!(self, NumericFact::Users | NumericFact::TermMonths)
    }

    fn value(self, view: &RequestView) -> i64 {
        match self {
            NumericFact::TotalContractValueCents => view.total_contract_value_cents,
            NumericFact::FyVendorTotalCents => view.fy_vendor_total_cents,
            NumericFact::CapitalCents => view.facts.capital_cents,
            NumericFact::AnnualOperatingCents => view.facts.annual_operating_cents,
            NumericFact::Users => i64::from(view.facts.users),
            NumericFact::TermMonths => i64::from(view.facts.term_months),
        }
    }

    /// `value` written as the fact is written in reasons: dollars for money, a plain number otherwise.
    pub fn format(self, value: i64) -> String {
        if self.is_money() {
            format_cents(value)
        } else {
            value.to_string()
        }
    }
}

/// A yes/no fact a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// [`RequestFacts::renewal`].
    Renewal,
    /// [`RequestFacts::enterprise_agreement`].
    EnterpriseAgreement,
    /// [`RequestFacts::material_change`].
    MaterialChange,
    /// See [`RequestFacts::fast_path`].
    FastPath,
    /// [`RequestFacts::surveillance`].
    Surveillance,
    /// [`RequestFacts::face_surveillance`].
    FaceSurveillance,
    /// [`RequestFacts::department_ordinance_covered`].
    DepartmentOrdinanceCovered,
    /// The vendor hosts the system ([`Hosting::VendorCloud`](super::Hosting::VendorCloud)).
    VendorHosted,
    /// The duplicate check found a likely duplicate ([`RequestFacts::likely_duplicate_of`]).
    LikelyDuplicate,
    /// A remediation order stands against the vendor ([`RequestFacts::vendor_open_orders`]).
    VendorOpenOrder,
    /// [`BudgetFacts::department_budget_approved`](super::BudgetFacts::department_budget_approved).
    DepartmentBudgetApproved,
    /// The buyer named a budget line, approved or not.
    BudgetLineNamed,
    /// The buyer named a line of an approved budget.
    OnBudgetLine,
    /// The named, approved line is tied to an item of the City Technology Plan.
    InTechnologyPlan,
    /// The capital cost overruns what is left of the line's capital amount.
    CapitalOverrun,
    /// The yearly operating cost overruns what is left of the line's operating amount.
    OperatingOverrun,
}

impl Flag {
    fn is_set(self, view: &RequestView) -> bool {
        let facts = view.facts;
        match self {
            Flag::Renewal => facts.renewal,
            Flag::EnterpriseAgreement => facts.enterprise_agreement,
            Flag::MaterialChange => facts.material_change,
            Flag::FastPath => view.fast_path,
            Flag::Surveillance => facts.surveillance,
            Flag::FaceSurveillance => facts.face_surveillance,
            Flag::DepartmentOrdinanceCovered => facts.department_ordinance_covered,
            Flag::VendorHosted => facts.vendor_hosted(),
            Flag::LikelyDuplicate => facts.likely_duplicate_of.is_some(),
            Flag::VendorOpenOrder => facts.vendor_open_orders.is_some(),
            Flag::DepartmentBudgetApproved => facts.budget.department_budget_approved,
            Flag::BudgetLineNamed => facts.budget.line.is_some(),
            Flag::OnBudgetLine => view.budget.as_ref().is_some_and(|b| b.approved),
            Flag::InTechnologyPlan => view
                .budget
                .as_ref()
                .is_some_and(|b| b.approved && b.plan_item_id.is_some()),
            Flag::CapitalOverrun => view
                .budget
                .as_ref()
                .is_some_and(|b| b.approved && b.capital.overruns()),
            Flag::OperatingOverrun => view
                .budget
                .as_ref()
                .is_some_and(|b| b.approved && b.operating.overruns()),
        }
    }
}

/// How a numeric fact is compared with a rule's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The fact is at or above the threshold.
    Gte,
    /// The fact is above the threshold.
    Gt,
    /// The fact is at or below the threshold.
    Lte,
    /// The fact is below the threshold.
    Lt,
}

impl Comparison {
    fn holds(self, actual: i64, threshold: i64) -> bool {
        match self {
            Comparison::Gte => actual >= threshold,
            Comparison::Gt => actual > threshold,
            Comparison::Lte => actual <= threshold,
            Comparison::Lt => actual < threshold,
        }
    }
}

/// When a rule applies. The text form is described in the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ConditionText", into = "ConditionText")]
pub enum Condition {
    /// Every listed condition holds (`all = [..]`).
    All(Vec<Condition>),
    /// At least one listed condition holds (`any = [..]`).
    Any(Vec<Condition>),
    /// The inner condition does not hold (`not = {..}`).
    Not(Box<Condition>),
    /// `fact = "..", gte = N` and the like.
    Compare {
        /// The fact compared.
        fact: NumericFact,
        /// How it is compared.
        comparison: Comparison,
        /// What it is compared with: cents for money, a count otherwise.
        threshold: i64,
    },
    /// The flag is set (`flag = ".."`).
    Flag(Flag),
    /// The request holds at least one of these classes (`data_class_any = [..]`).
    DataClassAny(Vec<DataClass>),
    /// The request holds a class other than public (`non_public_data = true`).
    NonPublicData,
    /// The buying department is one of these codes (`department_in = [..]`).
    DepartmentIn(Vec<String>),
    /// Always (`always = true`).
    Always,
}

impl Condition {
    pub(super) fn holds(&self, view: &RequestView) -> bool {
        match self {
            Condition::All(conditions) => conditions.iter().all(|condition| condition.holds(view)),
            Condition::Any(conditions) => conditions.iter().any(|condition| condition.holds(view)),
            Condition::Not(condition) => !condition.holds(view),
            Condition::Compare {
                fact,
                comparison,
                threshold,
            } => comparison.holds(fact.value(view), *threshold),
            Condition::Flag(flag) => flag.is_set(view),
            Condition::DataClassAny(classes) => classes
                .iter()
                .any(|class| view.facts.data_classes.contains(class)),
            Condition::NonPublicData => view.facts.has_non_public_data(),
            Condition::DepartmentIn(codes) => codes.contains(&view.facts.department_code),
            Condition::Always => true,
        }
    }

    /// The fact and figure that `{threshold}` quotes: the first comparison, reading top to bottom.
    pub fn first_comparison(&self) -> Option<(NumericFact, i64)> {
        match self {
            Condition::All(conditions) | Condition::Any(conditions) => {
                conditions.iter().find_map(Condition::first_comparison)
            }
            Condition::Not(condition) => condition.first_comparison(),
            Condition::Compare {
                fact, threshold, ..
            } => Some((*fact, *threshold)),
            _ => None,
        }
    }

    /// Adds the request's classes that this condition's class tests name, skipping negated branches (a
    /// class the rule requires to be absent is no reason for it). Returns whether any class test was seen.
    pub(super) fn collect_named_classes(
        &self,
        facts: &RequestFacts,
        negated: bool,
        named: &mut BTreeSet<DataClass>,
    ) -> bool {
        match self {
            Condition::All(conditions) | Condition::Any(conditions) => {
                // Every branch is visited, not just up to the first hit: each may name classes.
                let mut seen = false;
                for condition in conditions {
                    seen |= condition.collect_named_classes(facts, negated, named);
                }
                seen
            }
            Condition::Not(condition) => condition.collect_named_classes(facts, !negated, named),
            Condition::DataClassAny(classes) if !negated => {
                named.extend(
                    classes
                        .iter()
                        .filter(|class| facts.data_classes.contains(class)),
                );
                true
            }
            Condition::NonPublicData if !negated => {
                named.extend(facts.data_classes.iter().filter(|class| !class.is_public()));
                true
            }
            _ => false,
        }
    }

    fn collect_faults(&self, faults: &mut Vec<PolicyFault>) {
        match self {
            Condition::All(conditions) | Condition::Any(conditions) => {
                if conditions.is_empty() {
                    faults.push(if matches!(self, Condition::All(_)) {
                        PolicyFault::EmptyAll
                    } else {
                        PolicyFault::EmptyAny
                    });
                }
                for condition in conditions {
                    condition.collect_faults(faults);
                }
            }
            Condition::Not(condition) => condition.collect_faults(faults),
            Condition::Compare {
                fact, threshold, ..
            } if *threshold < 0 => faults.push(PolicyFault::NegativeThreshold {
                fact: *fact,
                threshold: *threshold,
            }),
            Condition::DataClassAny(classes) if classes.is_empty() => {
                faults.push(PolicyFault::EmptyDataClassList)
            }
            Condition::DepartmentIn(codes) if codes.is_empty() => {
                faults.push(PolicyFault::EmptyDepartmentList)
            }
            _ => {}
        }
    }
}

/// The hand-written form of a [`Condition`]: a table with exactly one form's keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not: Option<Box<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fact: Option<NumericFact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gte: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gt: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lte: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lt: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flag: Option<Flag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data_class_any: Option<Vec<DataClass>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    non_public_data: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    always: Option<bool>,
}

impl TryFrom<ConditionText> for Condition {
    type Error = String;

    fn try_from(text: ConditionText) -> Result<Condition, String> {
        let ConditionText {
            all,
            any,
            not,
            fact,
            gte,
            gt,
            lte,
            lt,
            flag,
            data_class_any,
            non_public_data,
            department_in,
            always,
        } = text;
        let mut forms: Vec<(&str, Condition)> = Vec::new();
        if let Some(conditions) = all {
            forms.push(("all", Condition::All(conditions)));
        }
        if let Some(conditions) = any {
            forms.push(("any", Condition::Any(conditions)));
        }
        if let Some(condition) = not {
            forms.push(("not", Condition::Not(condition)));
        }
        let comparisons: Vec<(Comparison, i64)> = [
            (Comparison::Gte, gte),
            (Comparison::Gt, gt),
            (Comparison::Lte, lte),
            (Comparison::Lt, lt),
        ]
        .into_iter()
        .filter_map(|(comparison, threshold)| threshold.map(|threshold| (comparison, threshold)))
        .collect();
        match (fact, comparisons.as_slice()) {
            (Some(fact), [(comparison, threshold)]) => forms.push((
                "fact",
                Condition::Compare {
                    fact,
                    comparison: *comparison,
                    threshold: *threshold,
                },
            )),
            (Some(fact), []) => {
                return Err(format!(
                    "`fact = \"{}\"` needs one of gte, gt, lte, lt",
                    fact.as_str()
                ));
            }
            (Some(_), _) => {
                return Err(
                    "a comparison takes exactly one of gte, gt, lte, lt; combine comparisons with `all`"
                        .to_owned(),
                );
            }
            (None, []) => {}
            (None, _) => return Err("gte, gt, lte and lt need a `fact` to compare".to_owned()),
        }
        if let Some(flag) = flag {
            forms.push(("flag", Condition::Flag(flag)));
        }
        if let Some(classes) = data_class_any {
            forms.push(("data_class_any", Condition::DataClassAny(classes)));
        }
        match non_public_data {
            Some(true) => forms.push(("non_public_data", Condition::NonPublicData)),
            Some(false) => {
                return Err(
                    "`non_public_data` can only be true; wrap it in `not` for the opposite"
                        .to_owned(),
                );
            }
            None => {}
        }
        if let Some(codes) = department_in {
            forms.push(("department_in", Condition::DepartmentIn(codes)));
        }
        match always {
            Some(true) => forms.push(("always", Condition::Always)),
            Some(false) => {
                return Err("`always` can only be true; leave the rule out instead".to_owned());
            }
            None => {}
        }

        let keys: Vec<&str> = forms.iter().map(|(key, _)| *key).collect();
        let mut forms = forms.into_iter();
        match (forms.next(), forms.next()) {
            (Some((_, condition)), None) => Ok(condition),
            (None, _) => Err(
                "a condition needs one of all, any, not, fact, flag, data_class_any, \
                 non_public_data, department_in, always"
                    .to_owned(),
            ),
            (Some(_), Some(_)) => Err(format!(
                "a condition has exactly one form, this one has {}; combine them with `all` or `any`",
                keys.join(", ")
            )),
        }
    }
}

impl From<Condition> for ConditionText {
    fn from(condition: Condition) -> ConditionText {
        let mut text = ConditionText::default();
        match condition {
            Condition::All(conditions) => text.all = Some(conditions),
            Condition::Any(conditions) => text.any = Some(conditions),
            Condition::Not(condition) => text.not = Some(condition),
            Condition::Compare {
                fact,
                comparison,
                threshold,
            } => {
                text.fact = Some(fact);
                let slot = match comparison {
                    Comparison::Gte => &mut text.gte,
                    Comparison::Gt => &mut text.gt,
                    Comparison::Lte => &mut text.lte,
                    Comparison::Lt => &mut text.lt,
                };
                *slot = Some(threshold);
            }
            Condition::Flag(flag) => text.flag = Some(flag),
            Condition::DataClassAny(classes) => text.data_class_any = Some(classes),
            Condition::NonPublicData => text.non_public_data = Some(true),
            Condition::DepartmentIn(codes) => text.department_in = Some(codes),
            Condition::Always => text.always = Some(true),
        }
        text
    }
}

/// The kinds of step a route can contain. Declaration order is the order steps appear in a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKindTag {
    /// See [`StepKind::CioDuplicateReview`].
    CioDuplicateReview,
    /// See [`StepKind::CioApproval`].
    CioApproval,
    /// See [`StepKind::FinanceApproval`].
    FinanceApproval,
    /// See [`StepKind::SecurityReview`].
    SecurityReview,
    /// See [`StepKind::ContractSafeguards`].
    ContractSafeguards,
    /// See [`StepKind::Evidence`].
    Evidence,
    /// See [`StepKind::CouncilApproval`].
    CouncilApproval,
}

impl StepKindTag {
    /// Every kind, in route order.
    pub const ALL: [StepKindTag; 7] = [
        StepKindTag::CioDuplicateReview,
        StepKindTag::CioApproval,
        StepKindTag::FinanceApproval,
        StepKindTag::SecurityReview,
        StepKindTag::ContractSafeguards,
        StepKindTag::Evidence,
        StepKindTag::CouncilApproval,
    ];

    /// The wire name, e.g. `security_review`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKindTag::CioDuplicateReview => "cio_duplicate_review",
            StepKindTag::CioApproval => "cio_approval",
            StepKindTag::FinanceApproval => "finance_approval",
            StepKindTag::SecurityReview => "security_review",
            StepKindTag::ContractSafeguards => "contract_safeguards",
            StepKindTag::Evidence => "evidence",
            StepKindTag::CouncilApproval => "council_approval",
        }
    }

    /// The step in words.
    pub fn label(self) -> &'static str {
        match self {
            StepKindTag::CioDuplicateReview => "CIO review of a possible duplicate",
            StepKindTag::CioApproval => "CIO approval",
            StepKindTag::FinanceApproval => "Finance co-approval",
            StepKindTag::SecurityReview => "Security review",
            StepKindTag::ContractSafeguards => "Contract safeguards",
            StepKindTag::Evidence => "Vendor evidence",
            StepKindTag::CouncilApproval => "City Council approval",
        }
    }
}

/// A step a rule requires, with what it asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepKind {
    /// The CIO decides whether the purchase duplicates a centrally managed service [EO 2025 Art. 3].
    CioDuplicateReview,
    /// The CIO approves the purchase [EO 2025 Art. 3].
    CioApproval,
    /// Finance co-approves the spending [EO 2025 Art. 2].
    FinanceApproval,
    /// The security team reviews the vendor's answers to questionnaires.
    SecurityReview {
        /// Questionnaire template ids, e.g. `ma-201-cmr-17`, `city-baseline`.
        #[serde(default)]
        questionnaires: Vec<String>,
    },
    /// The contract must contain clauses before approval.
    ContractSafeguards {
        /// Clause ids, e.g. `breach-notice`, `return-destroy-data`.
        #[serde(default)]
        clauses: Vec<String>,
    },
    /// The vendor supplies documents.
    Evidence {
        /// Document ids, e.g. `hipaa_baa`, `pci_dss_aoc`.
        #[serde(default)]
        items: Vec<String>,
    },
    /// The City Council approves [Boston 16-63].
    CouncilApproval {
        /// What the department submits to the Council, e.g. `surveillance_use_policy`.
        #[serde(default)]
        attachments: Vec<String>,
    },
}

impl StepKind {
    /// The kind without its lists.
    pub fn tag(&self) -> StepKindTag {
        match self {
            StepKind::CioDuplicateReview => StepKindTag::CioDuplicateReview,
            StepKind::CioApproval => StepKindTag::CioApproval,
            StepKind::FinanceApproval => StepKindTag::FinanceApproval,
            StepKind::SecurityReview { .. } => StepKindTag::SecurityReview,
            StepKind::ContractSafeguards { .. } => StepKindTag::ContractSafeguards,
            StepKind::Evidence { .. } => StepKindTag::Evidence,
            StepKind::CouncilApproval { .. } => StepKindTag::CouncilApproval,
        }
    }
}

/// What a rule does when its condition holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OutcomeText", into = "OutcomeText")]
pub enum Outcome {
    /// The request must pass this step.
    Require(StepKind),
    /// The request must be refused; `code` names what is prohibited, e.g. `face_surveillance`.
    Prohibit {
        /// What is prohibited, e.g. `face_surveillance`.
        code: String,
    },
}

/// The hand-written form of an [`Outcome`]: `{ step = "..", <list> = [..] }` or `{ prohibit = ".." }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<StepKindTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    questionnaires: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clauses: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attachments: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prohibit: Option<String>,
}

impl TryFrom<OutcomeText> for Outcome {
    type Error = String;

    fn try_from(text: OutcomeText) -> Result<Outcome, String> {
        let OutcomeText {
            step,
            mut questionnaires,
            mut clauses,
            mut items,
            mut attachments,
            prohibit,
        } = text;
        let step = match (step, prohibit) {
            (Some(_), Some(_)) => {
                return Err("an outcome is either a `step` or a `prohibit`, not both".to_owned());
            }
            (None, None) => {
                return Err("an outcome needs `step = \"..\"` or `prohibit = \"..\"`".to_owned());
            }
            (None, Some(code)) => {
                return if questionnaires.is_some()
                    || clauses.is_some()
                    || items.is_some()
                    || attachments.is_some()
                {
                    Err("`prohibit` takes no lists".to_owned())
                } else {
                    Ok(Outcome::Prohibit { code })
                };
            }
            (Some(step), None) => step,
        };
        let kind = match step {
            StepKindTag::CioDuplicateReview => StepKind::CioDuplicateReview,
            StepKindTag::CioApproval => StepKind::CioApproval,
            StepKindTag::FinanceApproval => StepKind::FinanceApproval,
            StepKindTag::SecurityReview => StepKind::SecurityReview {
                questionnaires: questionnaires.take().unwrap_or_default(),
            },
            StepKindTag::ContractSafeguards => StepKind::ContractSafeguards {
                clauses: clauses.take().unwrap_or_default(),
            },
            StepKindTag::Evidence => StepKind::Evidence {
                items: items.take().unwrap_or_default(),
            },
            StepKindTag::CouncilApproval => StepKind::CouncilApproval {
                attachments: attachments.take().unwrap_or_default(),
            },
        };
        // Whatever list the step did not take is a list written for some other step.
        let leftover = [
            ("questionnaires", questionnaires.is_some()),
            ("clauses", clauses.is_some()),
            ("items", items.is_some()),
            ("attachments", attachments.is_some()),
        ]
        .into_iter()
        .find_map(|(name, present)| present.then_some(name));
        match leftover {
            Some(name) => Err(format!("`{name}` does not apply to step {}", step.as_str())),
            None => Ok(Outcome::Require(kind)),
        }
    }
}

impl From<Outcome> for OutcomeText {
    fn from(outcome: Outcome) -> OutcomeText {
        match outcome {
            Outcome::Prohibit { code } => OutcomeText {
                prohibit: Some(code),
                ..OutcomeText::default()
            },
            Outcome::Require(kind) => {
                let mut text = OutcomeText {
                    step: Some(kind.tag()),
                    ..OutcomeText::default()
                };
                match kind {
                    StepKind::SecurityReview { questionnaires } => {
                        text.questionnaires = Some(questionnaires)
                    }
                    StepKind::ContractSafeguards { clauses } => text.clauses = Some(clauses),
                    StepKind::Evidence { items } => text.items = Some(items),
                    StepKind::CouncilApproval { attachments } => {
                        text.attachments = Some(attachments)
                    }
                    StepKind::CioDuplicateReview
                    | StepKind::CioApproval
                    | StepKind::FinanceApproval => {}
                }
                text
            }
        }
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
