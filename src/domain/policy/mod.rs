//! The policy engine: which reviews and approvals a technology purchase needs, and why.
//!
//! Policy is data. A [`Policy`] is a list of named [`Rule`]s; each rule pairs a [`Condition`] over the
//! request's facts with an [`Outcome`] (a step the request must pass, or a prohibition), a reason that
//! quotes the figures, and the citation of the law or order behind it. Every threshold lives in the policy
//! text, so the CIO office can move one without a release. The city's defaults ship in
//! `default_policy.toml` ([`Policy::default_policy`]).
//!
//! [`evaluate`] applies a policy to one request's [`RequestFacts`] and returns its [`Route`]: the
//! prohibitions, then one [`RouteStep`] per kind of step, each carrying the grounds (rule, reason,
//! citation) that required it.
//!
//! # Writing a rule
//!
//! ```toml
//! [[rules]]
//! id = "cio-value-threshold"
//! title = "CIO approval: total contract value"
//! citation = "c.30B §5; EO 2025 Art. 3"
//! when = { all = [
//!     { fact = "total_contract_value_cents", gte = 5_000_000 },
//!     { not = { flag = "fast_path" } },
//! ] }
//! then = { step = "cio_approval" }
//! reason = "total contract value {total_contract_value} is at or above {threshold}"
//! ```
//!
//! A condition (`when`) is a table with exactly one of these forms:
//!
//! | form | holds when |
//! |---|---|
//! | `all = [ .. ]` / `any = [ .. ]` | every / at least one of the listed conditions holds |
//! | `not = { .. }` | the inner condition does not hold |
//! | `fact = "<numeric fact>", gte = N` (or `gt`, `lte`, `lt`) | the fact compares so with `N` |
//! | `flag = "<flag>"` | the flag is set |
//! | `data_class_any = ["pi_ma", ..]` | the request touches at least one of these [`DataClass`]es |
//! | `non_public_data = true` | the request touches any class other than `public` |
//! | `department_in = ["BPD", ..]` | the buying department is one of these codes |
//! | `always = true` | always |
//!
//! Numeric facts ([`NumericFact`]) are `total_contract_value_cents`, `fy_vendor_total_cents`,
//! `capital_cents`, `annual_operating_cents` (money, in cents), `users` and `term_months`. Flags
//! ([`Flag`]) are `renewal`, `enterprise_agreement`, `material_change`, `fast_path`, `surveillance`,
//! `face_surveillance`, `department_ordinance_covered` and `vendor_hosted`; for funding [EO 2025 Art. 2]
//! `department_budget_approved` (the department's technology budget for the fiscal year is jointly approved),
//! `budget_line_named` (the buyer named a line, approved or not), `on_budget_line` (the named line is approved),
//! `in_technology_plan` (that line is tied to an item of the City Technology Plan), and `capital_overrun` /
//! `operating_overrun` (this purchase's capital, or yearly operating cost, is more than what remains of the
//! line's approved amount once the other requests in review or approved on it are counted: see
//! [`BudgetPosition`]).
//!
//! An outcome (`then`) is `{ step = "<kind>" }` for `cio_approval`, `finance_approval` and
//! `cio_duplicate_review`; `{ step = "security_review", questionnaires = [..] }`,
//! `{ step = "contract_safeguards", clauses = [..] }`, `{ step = "evidence", items = [..] }` or
//! `{ step = "council_approval", attachments = [..] }` for the others (attachments name Council documents the
//! service keeps, [`crate::domain::council::CouncilDocumentKind`]); or `{ prohibit = "<code>" }`.
//!
//! A reason may use the placeholders in [`REASON_PLACEHOLDERS`]. `{threshold}` is the figure of the rule's
//! first numeric comparison (reading the condition top to bottom), written as money when the fact is money.
//! `{data_classes}` names the request's classes that the rule's `data_class_any` / `non_public_data`
//! conditions matched, or all of the request's classes when the rule has no such condition.
//! [`Policy::validate`] rejects a reason that uses any other placeholder.

mod document;
mod facts;
mod fiscal;
mod money;

pub use document::{
    Comparison, Condition, Flag, NumericFact, Outcome, Policy, PolicyError, PolicyFault,
    PolicyScope, Rule, StepKind, StepKindTag,
};
pub use facts::{
    BudgetFacts, BudgetLineFacts, BudgetPosition, DataClass, Draw, Hosting, RequestFacts,
};
pub use fiscal::{fiscal_year, fiscal_year_bounds};
pub use money::{format_cents, total_contract_value_cents};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The policy the service starts with, embedded at build time.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../default_policy.toml");

/// The placeholders a rule's reason may use, each in braces: `{total_contract_value}`.
///
/// `vendor_fy_purchase_count` is the number of purchases in the fiscal-year aggregate, this one included.
///
/// `budget_line` names the line the buyer named (`none` without one), `plan_item` its plan item, and
/// `budget_overrun` the figures of each amount the purchase would overrun.
pub const REASON_PLACEHOLDERS: [&str; 15] = [
    "total_contract_value",
    "fy_vendor_total",
    "vendor_fy_other",
    "vendor_fy_other_count",
    "vendor_fy_purchase_count",
    "threshold",
    "users",
    "data_classes",
    "department",
    "fiscal_year",
    "duplicate",
    "order",
    "budget_line",
    "plan_item",
    "budget_overrun",
];

/// Why a step or prohibition is on a route: the rule, its rendered reason and its citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ground {
    /// [`Rule::id`].
    pub rule_id: String,
    /// [`Rule::title`].
    pub title: String,
    /// [`Rule::reason`] with the request's figures filled in.
    pub reason: String,
    /// [`Rule::citation`].
    pub citation: String,
}

impl fmt::Display for Ground {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.reason, self.citation)
    }
}

/// One step of a route: every rule that required this kind of step, merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteStep {
    /// Which step this is; a route has at most one of each kind.
    pub kind: StepKindTag,
    /// Sorted union of the questionnaires the rules named (security review only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questionnaires: Vec<String>,
    /// Sorted union of the contract clauses (contract safeguards only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clauses: Vec<String>,
    /// Sorted union of the Council attachments (council approval only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Sorted union of the evidence documents (evidence only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// In the order the rules appear in the policy.
    pub grounds: Vec<Ground>,
}

impl RouteStep {
    fn new(kind: StepKindTag) -> RouteStep {
        RouteStep {
            kind,
            questionnaires: Vec::new(),
            clauses: Vec::new(),
            attachments: Vec::new(),
            items: Vec::new(),
            grounds: Vec::new(),
        }
    }

    fn absorb(&mut self, required: &StepKind, ground: Ground) {
        let (list, additions) = match required {
            StepKind::SecurityReview { questionnaires } => {
                (&mut self.questionnaires, questionnaires)
            }
            StepKind::ContractSafeguards { clauses } => (&mut self.clauses, clauses),
            StepKind::Evidence { items } => (&mut self.items, items),
            StepKind::CouncilApproval { attachments } => (&mut self.attachments, attachments),
            StepKind::CioDuplicateReview | StepKind::CioApproval | StepKind::FinanceApproval => {
                self.grounds.push(ground);
                return;
            }
        };
        list.extend(additions.iter().cloned());
        list.sort();
        list.dedup();
        self.grounds.push(ground);
    }
}

/// A prohibition on a route; a request carrying one must be refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prohibition {
    /// [`Outcome::Prohibit`]'s code, e.g. `face_surveillance`.
    pub code: String,
    /// Every rule that prohibited it, in policy order.
    pub grounds: Vec<Ground>,
}

/// What a request needs, computed by [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// The label of the policy the route was computed under.
    pub policy_label: String,
    /// See [`RequestFacts::total_contract_value_cents`].
    pub total_contract_value_cents: i64,
    /// See [`RequestFacts::fy_vendor_total_cents`].
    pub fy_vendor_total_cents: i64,
    /// The fiscal year of the request's start date, e.g. 2027 for FY2027.
    pub fiscal_year: i32,
    /// See [`RequestFacts::fast_path`].
    pub fast_path: bool,
    /// Listed before the steps: a prohibited request goes no further.
    pub prohibitions: Vec<Prohibition>,
    /// One per kind, in [`StepKindTag`] order.
    pub steps: Vec<RouteStep>,
    /// For a renewal: what it renews and the comparison that decided whether the fast path applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<super::comparison::RenewalBasis>,
    /// For a version of a decided request: how it compares with the version whose decision stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<super::comparison::Comparison>,
    /// The budget line the purchase is funded from, its plan item, and what remains after this purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetPosition>,
    /// Non-blocking notices: possible overlaps with what the city already runs, at or above the policy's
    /// `duplicate_notice_score`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// Duplicate candidates set aside by the CIO office's earlier dismissal for another request of the same
    /// department naming the same product, each with that dismissal cited: no step, no notice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dismissed_earlier: Vec<String>,
    /// For a request that names a product: each questionnaire of the security review against the product's
    /// accepted assessments (satisfied by reference, or a new cycle and why), and the findings standing on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<super::reuse::ProductReview>,
}

impl Route {
    /// The step of this kind, if the route has one.
    pub fn step(&self, kind: StepKindTag) -> Option<&RouteStep> {
        self.steps.iter().find(|step| step.kind == kind)
    }

    /// Whether the route has a step of this kind.
    pub fn requires(&self, kind: StepKindTag) -> bool {
        self.step(kind).is_some()
    }

    /// Whether some rule prohibits the request.
    pub fn is_prohibited(&self) -> bool {
        !self.prohibitions.is_empty()
    }
}

/// Applies `policy` to a request: every rule whose condition holds adds its step or prohibition.
///
/// The policy should have passed [`Policy::validate`]; an invalid one still evaluates, leaving unknown
/// placeholders in reasons as written.
pub fn evaluate(policy: &Policy, facts: &RequestFacts) -> Route {
    let view = RequestView::new(policy, facts);
    let mut steps: BTreeMap<StepKindTag, RouteStep> = BTreeMap::new();
    let mut prohibitions: Vec<Prohibition> = Vec::new();
    for rule in &policy.rules {
        if !rule.when.holds(&view) {
            continue;
        }
        let ground = Ground {
            rule_id: rule.id.clone(),
            title: rule.title.clone(),
            reason: view.render_reason(rule),
            citation: rule.citation.clone(),
        };
        match &rule.then {
            Outcome::Require(required) => steps
                .entry(required.tag())
                .or_insert_with(|| RouteStep::new(required.tag()))
                .absorb(required, ground),
            Outcome::Prohibit { code } => {
                match prohibitions
                    .iter_mut()
                    .find(|existing| &existing.code == code)
                {
                    Some(existing) => existing.grounds.push(ground),
                    None => prohibitions.push(Prohibition {
                        code: code.clone(),
                        grounds: vec![ground],
                    }),
                }
            }
        }
    }
    Route {
        policy_label: policy.label.clone(),
        total_contract_value_cents: view.total_contract_value_cents,
        fy_vendor_total_cents: view.fy_vendor_total_cents,
        fiscal_year: view.fiscal_year,
        fast_path: view.fast_path,
        prohibitions,
        steps: steps.into_values().collect(),
        renewal: None,
        comparison: None,
        budget: view.budget,
        notices: Vec::new(),
        dismissed_earlier: Vec::new(),
        product: None,
    }
}

/// A request's facts with the derived figures computed once.
struct RequestView<'a> {
    facts: &'a RequestFacts,
    budget: Option<BudgetPosition>,
    total_contract_value_cents: i64,
    fy_vendor_total_cents: i64,
    fast_path: bool,
    fiscal_year: i32,
}

impl<'a> RequestView<'a> {
    fn new(policy: &Policy, facts: &'a RequestFacts) -> RequestView<'a> {
        RequestView {
            facts,
            budget: facts.budget.line.as_ref().map(|line| {
                BudgetPosition::of(line, facts.capital_cents, facts.annual_operating_cents)
            }),
            total_contract_value_cents: facts.total_contract_value_cents(),
            fy_vendor_total_cents: facts.fy_vendor_total_cents(),
            fast_path: facts.fast_path(),
            fiscal_year: policy.fiscal_year_of(facts.start_date),
        }
    }

    fn render_reason(&self, rule: &Rule) -> String {
        let mut rendered = String::with_capacity(rule.reason.len() + 32);
        for piece in template_pieces(&rule.reason) {
            match piece {
                TemplatePiece::Text(text) | TemplatePiece::Unclosed(text) => {
                    rendered.push_str(text)
                }
                TemplatePiece::Placeholder(name) => match self.placeholder_value(name, rule) {
                    Some(value) => rendered.push_str(&value),
                    None => {
                        rendered.push('{');
                        rendered.push_str(name);
                        rendered.push('}');
                    }
                },
            }
        }
        rendered
    }

    fn placeholder_value(&self, name: &str, rule: &Rule) -> Option<String> {
        let facts = self.facts;
        Some(match name {
            "total_contract_value" => format_cents(self.total_contract_value_cents),
            "fy_vendor_total" => format_cents(self.fy_vendor_total_cents),
            "vendor_fy_other" => format_cents(facts.vendor_fy_other_cents),
            "vendor_fy_other_count" => facts.vendor_fy_other_count.to_string(),
            "vendor_fy_purchase_count" => facts.vendor_fy_other_count.saturating_add(1).to_string(),
            "threshold" => {
                let (fact, threshold) = rule.when.first_comparison()?;
                fact.format(threshold)
            }
            "users" => facts.users.to_string(),
            "data_classes" => {
                let mut named = BTreeSet::new();
                if !rule.when.collect_named_classes(facts, false, &mut named) {
                    named.clone_from(&facts.data_classes);
                }
                if named.is_empty() {
                    "none".to_owned()
                } else {
                    named
                        .iter()
                        .map(|class| class.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            }
            "department" => facts.department_code.clone(),
            "budget_line" => match &facts.budget.line {
                None => "none".to_owned(),
                Some(line) if line.approved.is_none() => {
                    format!("{:?} (its budget is not approved)", line.label)
                }
                Some(line) => format!("{:?}", line.label),
            },
            "plan_item" => facts
                .budget
                .line
                .as_ref()
                .and_then(|line| line.plan_item.clone())
                .unwrap_or_else(|| "none".to_owned()),
            "budget_overrun" => {
                let parts: Vec<String> = self
                    .budget
                    .iter()
                    .flat_map(|b| {
                        [("capital", b.capital), ("yearly operating", b.operating)]
                            .into_iter()
                            .filter(|(_, draw)| draw.overruns())
                            .map(|(what, draw)| draw.describe(what))
                    })
                    .collect();
                if parts.is_empty() {
                    "no overrun".to_owned()
                } else {
                    parts.join("; ")
                }
            }
            "fiscal_year" => format!("FY{}", self.fiscal_year),
            "duplicate" => facts
                .likely_duplicate_of
                .clone()
                .unwrap_or_else(|| "none".to_owned()),
            "order" => facts
                .vendor_open_orders
                .clone()
                .unwrap_or_else(|| "none".to_owned()),
            _ => return None,
        })
    }
}

/// A piece of a reason template.
enum TemplatePiece<'a> {
    Text(&'a str),
    /// The name between braces.
    Placeholder(&'a str),
    /// A `{` with no closing `}`, and everything after it.
    Unclosed(&'a str),
}

fn template_pieces(template: &str) -> Vec<TemplatePiece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            pieces.push(TemplatePiece::Text(&rest[..open]));
        }
        let after_open = &rest[open + 1..];
        match after_open.find('}') {
            Some(close) => {
                pieces.push(TemplatePiece::Placeholder(&after_open[..close]));
                rest = &after_open[close + 1..];
            }
            None => {
                pieces.push(TemplatePiece::Unclosed(&rest[open..]));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        pieces.push(TemplatePiece::Text(rest));
    }
    pieces
}

#[cfg(test)]
mod tests;
