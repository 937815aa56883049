//! A rule's condition: the numeric facts and flags it reads, the comparisons, and the condition tree with its text
//! form (how it is written in the policy TOML) and its checks.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use super::PolicyFault;
use crate::domain::policy::RequestView;
use crate::domain::policy::facts::{DataClass, RequestFacts};
use crate::domain::policy::money::format_cents;

/// A numeric fact a condition can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum NumericFact {
    /// See [`total_contract_value_cents`](crate::domain::policy::total_contract_value_cents).
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
        self.into()
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
    /// The vendor hosts the system ([`Hosting::VendorCloud`](crate::domain::policy::Hosting::VendorCloud)).
    VendorHosted,
    /// The duplicate check found a likely duplicate ([`RequestFacts::likely_duplicate_of`]).
    LikelyDuplicate,
    /// A remediation order stands against the vendor ([`RequestFacts::vendor_open_orders`]).
    VendorOpenOrder,
    /// [`BudgetFacts::department_budget_approved`](crate::domain::policy::BudgetFacts::department_budget_approved).
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
    pub(in crate::domain::policy) fn holds(&self, view: &RequestView) -> bool {
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
    pub(in crate::domain::policy) fn collect_named_classes(
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

    pub(super) fn collect_faults(&self, faults: &mut Vec<PolicyFault>) {
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
