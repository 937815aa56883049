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
//! `{ step = "council_approval", attachments = [..] }` for the others; or `{ prohibit = "<code>" }`.
//!
//! A reason may use the placeholders in [`REASON_PLACEHOLDERS`]. `{threshold}` is the figure of the rule's
//! first numeric comparison (reading the condition top to bottom), written as money when the fact is money.
//! `{data_classes}` names the request's classes that the rule's `data_class_any` / `non_public_data`
//! conditions matched, or all of the request's classes when the rule has no such condition.
//! [`Policy::validate`] rejects a reason that uses any other placeholder.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The policy the service starts with, embedded at build time.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default_policy.toml");

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

/// What kind of data a purchased system will hold; each class brings its own reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// Personal information of Massachusetts residents in the sense of 201 CMR 17.02.
    PiMa,
    /// Personal information of Connecticut residents.
    PiCt,
    /// Criminal justice information (FBI CJIS Security Policy).
    Cjis,
    /// Protected health information (HIPAA).
    Health,
    /// Payment cardholder data (PCI DSS).
    Cardholder,
    /// Confidential information that none of the other classes covers.
    Confidential,
    /// Public information only.
    Public,
}

impl DataClass {
    /// Every class, in the order they are listed to people.
    pub const ALL: [DataClass; 7] = [
        DataClass::PiMa,
        DataClass::PiCt,
        DataClass::Cjis,
        DataClass::Health,
        DataClass::Cardholder,
        DataClass::Confidential,
        DataClass::Public,
    ];

    /// The wire name, e.g. `pi_ma`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::PiMa => "pi_ma",
            DataClass::PiCt => "pi_ct",
            DataClass::Cjis => "cjis",
            DataClass::Health => "health",
            DataClass::Cardholder => "cardholder",
            DataClass::Confidential => "confidential",
            DataClass::Public => "public",
        }
    }

    /// The class named by its wire name, if there is one.
    pub fn parse(name: &str) -> Option<DataClass> {
        DataClass::ALL
            .into_iter()
            .find(|class| class.as_str() == name)
    }

    /// The class in words, as reasons quote it.
    pub fn label(self) -> &'static str {
        match self {
            DataClass::PiMa => "personal information of Massachusetts residents",
            DataClass::PiCt => "personal information of Connecticut residents",
            DataClass::Cjis => "criminal justice information",
            DataClass::Health => "protected health information",
            DataClass::Cardholder => "cardholder data",
            DataClass::Confidential => "other confidential information",
            DataClass::Public => "public information only",
        }
    }

    /// Whether the class is `public`, the one class that needs no data review.
    pub fn is_public(self) -> bool {
        self == DataClass::Public
    }
}

/// Where the purchased system runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hosting {
    /// The vendor runs it (SaaS, vendor-managed cloud).
    VendorCloud,
    /// The city runs it on its own infrastructure.
    OnPremises,
}

/// The facts about one purchase request that policy decides on. They are validated before they get here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// Code of the buying department, e.g. `BPD`.
    pub department_code: String,
    /// Whether the Surveillance Oversight Ordinance [Boston 16-63] covers the buying department.
    pub department_ordinance_covered: bool,
    /// The vendor's identifier in the registry.
    pub vendor_id: String,
    /// One-off costs over the term, in cents.
    pub capital_cents: i64,
    /// Yearly running costs (licences, hosting, support, staff), in cents.
    pub annual_operating_cents: i64,
    /// Length of the contract in months.
    pub term_months: u32,
    /// How many people will use the system.
    pub users: u32,
    /// Whether the request renews an existing contract.
    pub renewal: bool,
    /// Whether the purchase falls under an existing enterprise agreement.
    pub enterprise_agreement: bool,
    /// Whether a renewal changes cost, data or vendor materially (see
    /// [`Policy::cost_change_is_material`] for the cost part).
    pub material_change: bool,
    /// Who runs the system.
    pub hosting: Hosting,
    /// Every class of data the system will hold; `public` alone when nothing else.
    pub data_classes: BTreeSet<DataClass>,
    /// Whether the system is surveillance technology in the sense of Boston 16-63.
    pub surveillance: bool,
    /// Whether the system is or includes a face surveillance system (Boston 16-62 bans these).
    pub face_surveillance: bool,
    /// The contract start date; it places the purchase in a fiscal year.
    pub start_date: NaiveDate,
    /// What the system does, in the catalogue's capability terms; the duplicate check reads them.
    pub capabilities: Vec<String>,
    /// Total contract value of the OTHER requests with the same vendor, from any department, already
    /// submitted or approved in the same fiscal year (bounds from [`Policy::fiscal_year_bounds`]).
    pub vendor_fy_other_cents: i64,
    /// How many requests `vendor_fy_other_cents` adds up.
    pub vendor_fy_other_count: u32,
    /// The best likely duplicate the duplicate check found, described for a reader (name, kind, score).
    pub likely_duplicate_of: Option<String>,
    /// The remediation orders standing against the vendor, described for a reader; `None` when there are none.
    pub vendor_open_orders: Option<String>,
    /// What the request is funded from [EO 2025 Art. 2].
    #[serde(default)]
    pub budget: BudgetFacts,
}

/// What the policy reads of a request's funding, loaded with its other facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetFacts {
    /// The department's technology budget for the request's fiscal year is approved by the CIO and Finance.
    pub department_budget_approved: bool,
    /// The budget line the buyer named, if any.
    pub line: Option<BudgetLineFacts>,
}

/// A budget line as routing sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetLineFacts {
    pub line_id: String,
    pub label: String,
    /// The amounts the CIO and Finance last approved jointly: capital, then yearly operating (staff and other).
    /// `None` for a line never approved: it funds nothing yet.
    pub approved: Option<(i64, i64)>,
    pub plan_item_id: Option<String>,
    pub plan_item: Option<String>,
    /// What the other requests on the line that are in review or approved draw on it: capital, yearly operating.
    pub committed_capital_cents: i64,
    pub committed_operating_cents: i64,
}

/// One amount of a line (capital, or yearly operating) against this purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    /// The line's approved amount.
    pub line_cents: i64,
    /// Drawn by the other requests in review or approved on the line.
    pub committed_cents: i64,
    /// Drawn by this purchase.
    pub this_cents: i64,
    /// What is left after this purchase: negative when it overruns.
    pub remaining_after_cents: i64,
}

impl Draw {
    fn new(line_cents: i64, committed_cents: i64, this_cents: i64) -> Draw {
        Draw {
            line_cents,
            committed_cents,
            this_cents,
            remaining_after_cents: line_cents
                .saturating_sub(committed_cents)
                .saturating_sub(this_cents),
        }
    }

    /// This purchase draws on the amount and leaves it below zero.
    pub fn overruns(&self) -> bool {
        self.this_cents > 0 && self.remaining_after_cents < 0
    }

    fn describe(&self, what: &str) -> String {
        format!(
            "{what} {} against {} left of {} ({} committed to other requests), {} over",
            format_cents(self.this_cents),
            format_cents(self.line_cents.saturating_sub(self.committed_cents)),
            format_cents(self.line_cents),
            format_cents(self.committed_cents),
            format_cents(-self.remaining_after_cents)
        )
    }
}

/// Where a purchase stands on the budget line it names, as the route shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetPosition {
    pub line_id: String,
    pub label: String,
    /// Whether the line's budget is approved (a line never approved funds nothing).
    pub approved: bool,
    pub plan_item_id: Option<String>,
    pub plan_item: Option<String>,
    /// One-off costs against the line's capital amount.
    pub capital: Draw,
    /// Yearly operating cost against the line's operating amount (staff and other) for the fiscal year.
    pub operating: Draw,
}

impl BudgetPosition {
    /// The position of a purchase of `capital_cents` and `annual_operating_cents` on `line`.
    pub fn of(
        line: &BudgetLineFacts,
        capital_cents: i64,
        annual_operating_cents: i64,
    ) -> BudgetPosition {
        let (capital, operating) = line.approved.unwrap_or((0, 0));
        BudgetPosition {
            line_id: line.line_id.clone(),
            label: line.label.clone(),
            approved: line.approved.is_some(),
            plan_item_id: line.plan_item_id.clone(),
            plan_item: line.plan_item.clone(),
            capital: Draw::new(capital, line.committed_capital_cents, capital_cents),
            operating: Draw::new(
                operating,
                line.committed_operating_cents,
                annual_operating_cents,
            ),
        }
    }
}

impl RequestFacts {
    /// Capital plus operating cost over the whole term; see [`total_contract_value_cents`].
    pub fn total_contract_value_cents(&self) -> i64 {
        total_contract_value_cents(
            self.capital_cents,
            self.annual_operating_cents,
            self.term_months,
        )
    }

    /// This request's total contract value plus the vendor's other purchases in the fiscal year.
    pub fn fy_vendor_total_cents(&self) -> i64 {
        self.total_contract_value_cents()
            .saturating_add(self.vendor_fy_other_cents)
    }

    /// An unchanged renewal under an enterprise agreement: the spend was approved before, so the value and
    /// user thresholds need not be passed again.
    pub fn fast_path(&self) -> bool {
        self.renewal && self.enterprise_agreement && !self.material_change
    }

    /// Whether the vendor, not the city, runs the system.
    pub fn vendor_hosted(&self) -> bool {
        self.hosting == Hosting::VendorCloud
    }

    /// Whether the system will hold anything beyond public information.
    pub fn has_non_public_data(&self) -> bool {
        self.data_classes.iter().any(|class| !class.is_public())
    }
}

/// Capital plus annual operating cost × term in months / 12, in cents.
///
/// Computed in 128 bits so that no product overflows; a half cent rounds away from zero (up, for the
/// non-negative amounts a request carries). A result beyond `i64` saturates.
pub fn total_contract_value_cents(
    capital_cents: i64,
    annual_operating_cents: i64,
    term_months: u32,
) -> i64 {
    let operating_twelfths = i128::from(annual_operating_cents) * i128::from(term_months);
    let whole = operating_twelfths / 12;
    let remainder = operating_twelfths % 12;
    let operating = if remainder.abs() * 2 >= 12 {
        whole + remainder.signum()
    } else {
        whole
    };
    let total = i128::from(capital_cents) + operating;
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// The fiscal year `date` falls in, named by the calendar year in which that fiscal year ends: with a
/// July 1 start, 2026-07-01 .. 2027-06-30 is FY2027.
///
/// A start day that some years lack (February 29, April 31) counts as the last day that every year has;
/// [`Policy::validate`] refuses such a policy.
pub fn fiscal_year(date: NaiveDate, start_month: u32, start_day: u32) -> i32 {
    let start = normalized_fiscal_start(start_month, start_day);
    if start == (1, 1) || (date.month(), date.day()) < start {
        date.year()
    } else {
        date.year() + 1
    }
}

/// The first day of fiscal year `fiscal_year` and the first day of the next one (inclusive start, exclusive
/// end), for `WHERE start_date >= $1 AND start_date < $2`.
pub fn fiscal_year_bounds(
    fiscal_year: i32,
    start_month: u32,
    start_day: u32,
) -> (NaiveDate, NaiveDate) {
    let (month, day) = normalized_fiscal_start(start_month, start_day);
    let first_calendar_year = if (month, day) == (1, 1) {
        fiscal_year
    } else {
        fiscal_year.saturating_sub(1)
    };
    (
        date_or_calendar_limit(first_calendar_year, month, day),
        date_or_calendar_limit(first_calendar_year.saturating_add(1), month, day),
    )
}

/// Days of each month that exist in every year: a fiscal year cannot start on February 29.
const DAYS_IN_EVERY_YEAR: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

fn fiscal_start_is_valid(month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && (1..=DAYS_IN_EVERY_YEAR[month as usize - 1]).contains(&day)
}

fn normalized_fiscal_start(month: u32, day: u32) -> (u32, u32) {
    let month = month.clamp(1, 12);
    (month, day.clamp(1, DAYS_IN_EVERY_YEAR[month as usize - 1]))
}

fn date_or_calendar_limit(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// Dollars and cents with thousands separators: `$120,000.00`, `-$5.00`.
pub fn format_cents(cents: i64) -> String {
    let magnitude = cents.unsigned_abs();
    let dollars = (magnitude / 100).to_string();
    let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
    for (position, digit) in dollars.chars().enumerate() {
        if position > 0 && (dollars.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", magnitude % 100)
}

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
    /// waits for an analyst's confirmation (see [`super::reuse`]).
    #[serde(default)]
    pub reuse: super::reuse::ReusePolicy,
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
    super::deadlines::REASSESSMENT_MONTHS
}

impl Policy {
    /// Reads a policy from TOML. The result is not yet checked: call [`Policy::validate`] before using it.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        toml::from_str(text).map_err(|error| PolicyError {
            scope: PolicyScope::Policy,
            fault: PolicyFault::Unreadable(error.to_string().trim_end().to_owned()),
        })
    }

    /// The city's default policy ([`DEFAULT_POLICY_TOML`]).
    /// The day by which the Annual Surveillance Reports on `year` are due (in the year after it).
    pub fn surveillance_report_due(&self, year: i32) -> NaiveDate {
        date_or_calendar_limit(
            year + 1,
            self.surveillance_report_due_month,
            self.surveillance_report_due_day,
        )
    }

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
    /// See [`total_contract_value_cents`].
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
    /// The vendor hosts the system ([`Hosting::VendorCloud`]).
    VendorHosted,
    /// The duplicate check found a likely duplicate ([`RequestFacts::likely_duplicate_of`]).
    LikelyDuplicate,
    /// A remediation order stands against the vendor ([`RequestFacts::vendor_open_orders`]).
    VendorOpenOrder,
    /// [`BudgetFacts::department_budget_approved`].
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
    fn holds(&self, view: &RequestView) -> bool {
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
    fn collect_named_classes(
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
mod tests {
    use super::*;

    const ORDINANCE_BODIES: [&str; 7] =
        ["BPD", "BPS", "BPHC", "PARKS-RANGERS", "BHA", "MPS", "OEM"];

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    /// A request that no default rule catches: small, on premises, public data, few users.
    fn quiet_request() -> RequestFacts {
        RequestFacts {
            department_code: "DOIT".to_owned(),
            department_ordinance_covered: false,
            vendor_id: "acme".to_owned(),
            capital_cents: 0,
            annual_operating_cents: 1_000_000,
            term_months: 12,
            users: 25,
            renewal: false,
            enterprise_agreement: false,
            material_change: false,
            hosting: Hosting::OnPremises,
            data_classes: BTreeSet::from([DataClass::Public]),
            surveillance: false,
            face_surveillance: false,
            start_date: date(2026, 9, 1),
            capabilities: Vec::new(),
            vendor_fy_other_cents: 0,
            vendor_fy_other_count: 0,
            likely_duplicate_of: None,
            vendor_open_orders: None,
            budget: Default::default(),
        }
    }

    fn costing(cents: i64) -> RequestFacts {
        RequestFacts {
            capital_cents: cents,
            annual_operating_cents: 0,
            ..quiet_request()
        }
    }

    fn route_of(facts: &RequestFacts) -> Route {
        evaluate(&Policy::default_policy(), facts)
    }

    fn rule_ids(route: &Route, kind: StepKindTag) -> Vec<&str> {
        route.step(kind).map_or_else(Vec::new, |step| {
            step.grounds
                .iter()
                .map(|ground| ground.rule_id.as_str())
                .collect()
        })
    }

    fn reason(route: &Route, kind: StepKindTag, rule_id: &str) -> String {
        route
            .step(kind)
            .and_then(|step| step.grounds.iter().find(|ground| ground.rule_id == rule_id))
            .unwrap_or_else(|| panic!("no ground {rule_id} on {kind:?}"))
            .reason
            .clone()
    }

    /// A route's steps, each as its kind and whichever list it carries.
    type StepLists<'a> = Vec<(StepKindTag, Vec<&'a str>)>;

    /// Spoils a valid policy in one way.
    type BreakPolicy = fn(&mut Policy);

    fn step_lists(route: &Route) -> StepLists<'_> {
        route
            .steps
            .iter()
            .map(|step| {
                let lists = [
                    &step.questionnaires,
                    &step.clauses,
                    &step.attachments,
                    &step.items,
                ];
                let names = lists.into_iter().flatten().map(String::as_str).collect();
                (step.kind, names)
            })
            .collect()
    }

    #[test]
    fn the_default_policy_parses_and_validates() {
        let policy = Policy::from_toml(DEFAULT_POLICY_TOML).expect("default policy parses");
        assert_eq!(policy.validate(), Ok(()));
        assert_eq!(policy.fiscal_year_start_month, 7);
        assert_eq!(policy.fiscal_year_start_day, 1);
    }

    #[test]
    fn a_small_on_premises_purchase_of_public_data_needs_no_review() {
        let route = route_of(&quiet_request());
        assert_eq!(route.steps, Vec::new());
        assert!(!route.is_prohibited());
        assert_eq!(route.policy_label, "boston-default-2026.1");
    }

    #[test]
    fn cio_approval_starts_at_exactly_fifty_thousand_dollars() {
        for (cents, needs_cio) in [(4_999_999, false), (5_000_000, true)] {
            let route = route_of(&costing(cents));
            assert_eq!(
                route.requires(StepKindTag::CioApproval),
                needs_cio,
                "{cents}"
            );
        }
        assert_eq!(
            reason(
                &route_of(&costing(5_000_000)),
                StepKindTag::CioApproval,
                "cio-value-threshold"
            ),
            "total contract value $50,000.00 is at or above $50,000.00"
        );
    }

    #[test]
    fn finance_co_approval_starts_at_exactly_one_hundred_thousand_dollars() {
        for (cents, needs_finance) in [(9_999_999, false), (10_000_000, true)] {
            let route = route_of(&costing(cents));
            assert_eq!(
                route.requires(StepKindTag::FinanceApproval),
                needs_finance,
                "{cents}"
            );
        }
    }

    #[test]
    fn cio_approval_starts_at_five_hundred_users() {
        for (users, needs_cio) in [(499, false), (500, true)] {
            let route = route_of(&RequestFacts {
                users,
                ..quiet_request()
            });
            assert_eq!(
                route.requires(StepKindTag::CioApproval),
                needs_cio,
                "{users}"
            );
        }
        let route = route_of(&RequestFacts {
            users: 500,
            ..quiet_request()
        });
        assert_eq!(
            reason(&route, StepKindTag::CioApproval, "cio-user-threshold"),
            "500 people will use it, at or above the threshold of 500 users"
        );
    }

    #[test]
    fn june_30_and_july_1_fall_in_different_fiscal_years() {
        assert_eq!(fiscal_year(date(2026, 6, 30), 7, 1), 2026);
        assert_eq!(fiscal_year(date(2026, 7, 1), 7, 1), 2027);
        for (start_date, expected) in [(date(2026, 6, 30), 2026), (date(2026, 7, 1), 2027)] {
            let route = route_of(&RequestFacts {
                start_date,
                ..quiet_request()
            });
            assert_eq!(route.fiscal_year, expected, "{start_date}");
        }
    }

    #[test]
    fn fiscal_year_bounds_cover_july_to_june_and_calendar_years() {
        assert_eq!(
            fiscal_year_bounds(2027, 7, 1),
            (date(2026, 7, 1), date(2027, 7, 1))
        );
        assert_eq!(
            fiscal_year_bounds(2027, 1, 1),
            (date(2027, 1, 1), date(2028, 1, 1))
        );
        assert_eq!(fiscal_year(date(2027, 12, 31), 1, 1), 2027);
        let policy = Policy::default_policy();
        let (start, end) = policy.fiscal_year_bounds(2027);
        assert_eq!(policy.fiscal_year_of(start), 2027);
        assert_eq!(policy.fiscal_year_of(end.pred_opt().unwrap()), 2027);
        assert_eq!(policy.fiscal_year_of(end), 2028);
    }

    #[test]
    fn three_departments_buying_from_one_vendor_trigger_the_fiscal_year_aggregate() {
        let policy = Policy::default_policy();
        // (department, vendor, start date, total contract value)
        let earlier_purchases = [
            ("BPS", "acme", date(2026, 8, 15), 2_500_000),
            ("BTD", "acme", date(2027, 3, 2), 1_600_000),
            ("BPD", "acme", date(2026, 6, 30), 4_000_000), // FY2026: does not count
            ("BPS", "globex", date(2026, 9, 1), 9_000_000), // another vendor
        ];
        let request = RequestFacts {
            department_code: "DOIT".to_owned(),
            start_date: date(2026, 10, 1),
            ..costing(2_000_000)
        };
        let (first_day, next_fy_first_day) =
            policy.fiscal_year_bounds(policy.fiscal_year_of(request.start_date));
        let same_vendor_this_fy: Vec<i64> = earlier_purchases
            .iter()
            .filter(|(_, vendor, start, _)| {
                *vendor == request.vendor_id && (first_day..next_fy_first_day).contains(start)
            })
            .map(|(_, _, _, cents)| *cents)
            .collect();
        let request = RequestFacts {
            vendor_fy_other_cents: same_vendor_this_fy.iter().sum(),
            vendor_fy_other_count: same_vendor_this_fy.len() as u32,
            likely_duplicate_of: None,
            vendor_open_orders: None,
            budget: Default::default(),
            ..request
        };

        let route = evaluate(&policy, &request);

        assert_eq!(route.fy_vendor_total_cents, 6_100_000);
        assert_eq!(
            rule_ids(&route, StepKindTag::CioApproval),
            ["cio-vendor-fy-aggregate"]
        );
        assert_eq!(
            reason(&route, StepKindTag::CioApproval, "cio-vendor-fy-aggregate"),
            "spend with this vendor in FY2027 totals $61,000.00 across 3 purchases \
             (this one $20,000.00), at or above $50,000.00"
        );
    }

    #[test]
    fn an_aggregate_rule_fires_only_when_the_request_alone_stays_under_its_threshold() {
        // (this request, the vendor's other spend, CIO rules, Finance rules)
        let cases: [(i64, i64, &[&str], &[&str]); 6] = [
            (2_000_000, 2_999_999, &[], &[]),
            (2_000_000, 3_000_000, &["cio-vendor-fy-aggregate"], &[]),
            (6_000_000, 3_000_000, &["cio-value-threshold"], &[]),
            (
                6_000_000,
                4_500_000,
                &["cio-value-threshold"],
                &["finance-vendor-fy-aggregate"],
            ),
            (
                2_000_000,
                8_000_000,
                &["cio-vendor-fy-aggregate"],
                &["finance-vendor-fy-aggregate"],
            ),
            (
                12_000_000,
                9_000_000,
                &["cio-value-threshold"],
                &["finance-value-threshold"],
            ),
        ];
        for (this_request, others, cio_rules, finance_rules) in cases {
            let route = route_of(&RequestFacts {
                vendor_fy_other_cents: others,
                vendor_fy_other_count: 1,
                likely_duplicate_of: None,
                vendor_open_orders: None,
                budget: Default::default(),
                ..costing(this_request)
            });
            let case = format!("{this_request} + {others}");
            assert_eq!(
                rule_ids(&route, StepKindTag::CioApproval),
                cio_rules,
                "{case}"
            );
            assert_eq!(
                rule_ids(&route, StepKindTag::FinanceApproval),
                finance_rules,
                "{case}"
            );
        }
    }

    #[test]
    fn each_data_class_brings_its_own_steps() {
        use StepKindTag::*;
        let cases: [(DataClass, StepLists); 7] = [
            (
                DataClass::PiMa,
                vec![
                    (CioApproval, vec![]),
                    (SecurityReview, vec!["city-baseline", "ma-201-cmr-17"]),
                    (
                        ContractSafeguards,
                        vec![
                            "audit-evidence",
                            "breach-notice",
                            "encryption",
                            "ma-201-cmr-17-safeguards",
                            "return-destroy-data",
                            "subprocessor-flow-down",
                        ],
                    ),
                ],
            ),
            (
                DataClass::PiCt,
                vec![
                    (CioApproval, vec![]),
                    (SecurityReview, vec!["city-baseline"]),
                    (ContractSafeguards, vec!["ct-breach-notice"]),
                ],
            ),
            (
                DataClass::Cjis,
                vec![
                    (CioApproval, vec![]),
                    (SecurityReview, vec!["city-baseline", "cjis-addendum"]),
                    (Evidence, vec!["cjis_security_addendum"]),
                ],
            ),
            (
                DataClass::Health,
                vec![
                    (CioApproval, vec![]),
                    (SecurityReview, vec!["city-baseline", "hipaa-addendum"]),
                    (Evidence, vec!["hipaa_baa"]),
                ],
            ),
            (
                DataClass::Cardholder,
                vec![
                    (CioApproval, vec![]),
                    (SecurityReview, vec!["city-baseline", "pci-addendum"]),
                    (Evidence, vec!["pci_dss_aoc"]),
                ],
            ),
            (
                DataClass::Confidential,
                vec![
                    (CioApproval, vec![]),
                    (SecurityReview, vec!["city-baseline"]),
                ],
            ),
            (DataClass::Public, vec![]),
        ];
        for (class, expected) in cases {
            let route = route_of(&RequestFacts {
                data_classes: BTreeSet::from([class]),
                ..quiet_request()
            });
            assert_eq!(step_lists(&route), expected, "{}", class.as_str());
        }
    }

    #[test]
    fn reasons_name_the_data_classes_the_rule_matched() {
        let route = route_of(&RequestFacts {
            data_classes: BTreeSet::from([DataClass::Public, DataClass::PiCt, DataClass::PiMa]),
            ..quiet_request()
        });
        assert_eq!(
            reason(&route, StepKindTag::CioApproval, "cio-non-public-data"),
            "the system will hold non-public data: personal information of Massachusetts \
             residents, personal information of Connecticut residents"
        );
        assert_eq!(
            reason(
                &route,
                StepKindTag::SecurityReview,
                "security-ma-201-cmr-17"
            ),
            "the vendor will hold personal information of Massachusetts residents; the city \
             must check that it can keep the safeguards 201 CMR 17.00 requires"
        );
    }

    #[test]
    fn a_vendor_hosted_system_of_public_data_needs_only_the_city_baseline_questionnaire() {
        let route = route_of(&RequestFacts {
            hosting: Hosting::VendorCloud,
            ..quiet_request()
        });
        assert_eq!(
            step_lists(&route),
            [(StepKindTag::SecurityReview, vec!["city-baseline"])]
        );
    }

    #[test]
    fn each_ordinance_body_buying_surveillance_technology_needs_council_approval() {
        for department in ORDINANCE_BODIES {
            let route = route_of(&RequestFacts {
                department_code: department.to_owned(),
                department_ordinance_covered: true,
                surveillance: true,
                ..quiet_request()
            });
            let council = route
                .step(StepKindTag::CouncilApproval)
                .unwrap_or_else(|| panic!("{department} needs council approval"));
            assert_eq!(
                council.attachments,
                ["surveillance_impact_report", "surveillance_use_policy"]
            );
            assert_eq!(council.grounds[0].citation, "Boston 16-63");
            assert!(
                council.grounds[0].reason.starts_with(department),
                "{}",
                council.grounds[0].reason
            );
        }
    }

    #[test]
    fn a_department_outside_the_ordinance_needs_no_council_but_still_cio_and_surveillance_review() {
        let route = route_of(&RequestFacts {
            department_code: "BTD".to_owned(),
            department_ordinance_covered: false,
            surveillance: true,
            ..quiet_request()
        });
        assert!(!route.requires(StepKindTag::CouncilApproval));
        assert_eq!(
            rule_ids(&route, StepKindTag::CioApproval),
            ["cio-surveillance"]
        );
        assert_eq!(
            step_lists(&route),
            [
                (StepKindTag::CioApproval, vec![]),
                (StepKindTag::SecurityReview, vec!["surveillance"]),
            ]
        );
    }

    #[test]
    fn face_surveillance_is_prohibited_for_every_department() {
        for (department, covered) in [
            ("BPD", true),
            ("OEM", true),
            ("BTD", false),
            ("DOIT", false),
        ] {
            let route = route_of(&RequestFacts {
                department_code: department.to_owned(),
                department_ordinance_covered: covered,
                surveillance: true,
                face_surveillance: true,
                ..quiet_request()
            });
            assert_eq!(route.prohibitions.len(), 1, "{department}");
            let prohibition = &route.prohibitions[0];
            assert_eq!(prohibition.code, "face_surveillance");
            assert_eq!(prohibition.grounds[0].rule_id, "prohibit-face-surveillance");
            assert_eq!(prohibition.grounds[0].citation, "Boston 16-62");
        }
    }

    #[test]
    fn the_fast_path_waives_value_and_user_thresholds_but_not_data_review() {
        let big_renewal = RequestFacts {
            capital_cents: 8_000_000,
            users: 900,
            renewal: true,
            enterprise_agreement: true,
            ..quiet_request()
        };
        // (material change, data classes, CIO rules)
        let cases: [(bool, DataClass, &[&str]); 4] = [
            (false, DataClass::Public, &[]),
            (false, DataClass::PiMa, &["cio-non-public-data"]),
            (
                true,
                DataClass::Public,
                &["cio-value-threshold", "cio-user-threshold"],
            ),
            (
                true,
                DataClass::PiMa,
                &[
                    "cio-value-threshold",
                    "cio-user-threshold",
                    "cio-non-public-data",
                ],
            ),
        ];
        for (material_change, class, cio_rules) in cases {
            let route = route_of(&RequestFacts {
                material_change,
                data_classes: BTreeSet::from([class]),
                ..big_renewal.clone()
            });
            assert_eq!(route.fast_path, !material_change);
            assert_eq!(
                rule_ids(&route, StepKindTag::CioApproval),
                cio_rules,
                "material change {material_change}, {}",
                class.as_str()
            );
        }
    }

    #[test]
    fn the_fast_path_needs_a_renewal_under_an_enterprise_agreement() {
        for (renewal, enterprise_agreement, material_change, fast_path) in [
            (true, true, false, true),
            (true, false, false, false),
            (false, true, false, false),
            (true, true, true, false),
        ] {
            let facts = RequestFacts {
                renewal,
                enterprise_agreement,
                material_change,
                ..quiet_request()
            };
            assert_eq!(
                facts.fast_path(),
                fast_path,
                "{renewal} {enterprise_agreement} {material_change}"
            );
        }
    }

    #[test]
    fn total_contract_value_is_capital_plus_operating_over_the_term() {
        // (capital, annual operating, months, expected)
        let cases = [
            (12_000_000, 0, 36, 12_000_000),
            (0, 1_200_000, 12, 1_200_000),
            (500_000, 1_200_000, 36, 4_100_000),
            (0, 1_000_000, 18, 1_500_000),
            (0, 1, 6, 1),  // half a cent rounds up
            (0, 1, 5, 0),  // 5/12 of a cent rounds down
            (0, 1, 7, 1),  // 7/12 of a cent rounds up
            (0, 10, 1, 1), // 0.83 cents
            (0, 999_999, 0, 0),
            // the product overflows i64 but the total does not
            (0, i64::MAX / 10, 120, i64::MAX / 10 * 10),
            (i64::MAX, 1_200, 12, i64::MAX), // saturates instead of wrapping
        ];
        for (capital, operating, months, expected) in cases {
            assert_eq!(
                total_contract_value_cents(capital, operating, months),
                expected,
                "{capital} + {operating} x {months}/12"
            );
        }
        let facts = RequestFacts {
            capital_cents: 2_000_000,
            annual_operating_cents: 1_500_000,
            term_months: 24,
            vendor_fy_other_cents: 700_000,
            ..quiet_request()
        };
        assert_eq!(facts.total_contract_value_cents(), 5_000_000);
        assert_eq!(facts.fy_vendor_total_cents(), 5_700_000);
    }

    #[test]
    fn money_is_written_in_dollars_with_separators() {
        for (cents, written) in [
            (0, "$0.00"),
            (5, "$0.05"),
            (99_999, "$999.99"),
            (100_000, "$1,000.00"),
            (12_000_000, "$120,000.00"),
            (100_000_000_000, "$1,000,000,000.00"),
            (-500, "-$5.00"),
            (i64::MIN, "-$92,233,720,368,547,758.08"),
        ] {
            assert_eq!(format_cents(cents), written);
        }
    }

    #[test]
    fn a_cost_change_of_ten_percent_or_more_is_material() {
        let policy = Policy::default_policy();
        for (previous, proposed, material) in [
            (100_000, 110_000, true),
            (100_000, 109_999, false),
            (100_000, 90_000, true),
            (100_000, 90_001, false),
            (100_000, 100_000, false),
            (0, 1, true),
        ] {
            assert_eq!(
                policy.cost_change_is_material(previous, proposed),
                material,
                "{previous} -> {proposed}"
            );
        }
    }

    #[test]
    fn steps_come_out_in_route_order_whatever_the_rule_order() {
        let policy = Policy::from_toml(
            r#"
            label = "order"
            [[rules]]
            id = "council"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "council_approval", attachments = ["b", "a"] }
            reason = "r"
            [[rules]]
            id = "evidence"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "evidence", items = ["e"] }
            reason = "r"
            [[rules]]
            id = "security-2"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "security_review", questionnaires = ["z", "m"] }
            reason = "r"
            [[rules]]
            id = "finance"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "finance_approval" }
            reason = "r"
            [[rules]]
            id = "security-1"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "security_review", questionnaires = ["m", "a"] }
            reason = "r"
            [[rules]]
            id = "safeguards"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "contract_safeguards", clauses = ["k"] }
            reason = "r"
            [[rules]]
            id = "cio"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "cio_approval" }
            reason = "r"
            [[rules]]
            id = "duplicate"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "cio_duplicate_review" }
            reason = "r"
            [[rules]]
            id = "ban"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { prohibit = "x" }
            reason = "r"
            "#,
        )
        .unwrap();
        assert_eq!(policy.validate(), Ok(()));
        let route = evaluate(&policy, &quiet_request());
        let kinds: Vec<StepKindTag> = route.steps.iter().map(|step| step.kind).collect();
        assert_eq!(kinds, StepKindTag::ALL);
        let security = route.step(StepKindTag::SecurityReview).unwrap();
        assert_eq!(security.questionnaires, ["a", "m", "z"]);
        assert_eq!(
            rule_ids(&route, StepKindTag::SecurityReview),
            ["security-2", "security-1"]
        );
        assert_eq!(
            route
                .step(StepKindTag::CouncilApproval)
                .unwrap()
                .attachments,
            ["a", "b"]
        );
        assert_eq!(route.prohibitions[0].code, "x");
    }

    #[test]
    fn department_in_and_numeric_comparisons_select_as_written() {
        let policy = Policy::from_toml(
            r#"
            label = "conditions"
            [[rules]]
            id = "police-long-terms"
            title = "t"
            citation = "c"
            when = { all = [
                { department_in = ["BPD"] },
                { fact = "term_months", gt = 36 },
                { fact = "annual_operating_cents", lte = 100_000 },
            ] }
            then = { step = "cio_approval" }
            reason = "{department} signs for more than {threshold} months"
            "#,
        )
        .unwrap();
        assert_eq!(policy.validate(), Ok(()));
        let police = RequestFacts {
            department_code: "BPD".to_owned(),
            term_months: 37,
            annual_operating_cents: 100_000,
            ..quiet_request()
        };
        // (request, selected)
        let cases = [
            (police.clone(), true),
            (
                RequestFacts {
                    term_months: 36,
                    ..police.clone()
                },
                false,
            ),
            (
                RequestFacts {
                    annual_operating_cents: 100_001,
                    ..police.clone()
                },
                false,
            ),
            (
                RequestFacts {
                    department_code: "BPS".to_owned(),
                    ..police.clone()
                },
                false,
            ),
        ];
        for (facts, selected) in cases {
            let route = evaluate(&policy, &facts);
            assert_eq!(
                route.requires(StepKindTag::CioApproval),
                selected,
                "{facts:?}"
            );
        }
        assert_eq!(
            reason(
                &evaluate(&policy, &police),
                StepKindTag::CioApproval,
                "police-long-terms"
            ),
            "BPD signs for more than 36 months"
        );
    }

    #[test]
    fn every_placeholder_renders_with_the_request_figures() {
        let template: String = REASON_PLACEHOLDERS
            .iter()
            .map(|name| format!("{{{name}}}"))
            .collect::<Vec<_>>()
            .join(" | ");
        let policy = Policy {
            rules: vec![Rule {
                id: "everything".to_owned(),
                title: "t".to_owned(),
                citation: "c".to_owned(),
                when: Condition::All(vec![
                    Condition::Compare {
                        fact: NumericFact::FyVendorTotalCents,
                        comparison: Comparison::Gte,
                        threshold: 5_000_000,
                    },
                    Condition::DataClassAny(vec![DataClass::Health, DataClass::Cjis]),
                ]),
                then: Outcome::Require(StepKind::CioApproval),
                reason: template,
            }],
            ..Policy::default_policy()
        };
        assert_eq!(policy.validate(), Ok(()));
        let route = evaluate(
            &policy,
            &RequestFacts {
                department_code: "BPHC".to_owned(),
                users: 1_200,
                data_classes: BTreeSet::from([DataClass::Health, DataClass::PiMa]),
                start_date: date(2027, 1, 15),
                vendor_fy_other_cents: 4_250_050,
                vendor_fy_other_count: 4,
                likely_duplicate_of: Some("Enterprise e-signature (score 0.82)".to_owned()),
                budget: Default::default(),
                ..costing(1_000_000)
            },
        );
        assert_eq!(
            reason(&route, StepKindTag::CioApproval, "everything"),
            "$10,000.00 | $52,500.50 | $42,500.50 | 4 | 5 | $50,000.00 | 1200 | \
             protected health information | BPHC | FY2027 | Enterprise e-signature (score 0.82) | none | none | \
             none | no overrun"
        );
    }

    #[test]
    fn a_likely_duplicate_puts_the_request_before_the_cio_with_the_match() {
        let policy = Policy::default_policy();
        let facts = RequestFacts {
            likely_duplicate_of: Some(
                "Enterprise e-signature (catalogue service, score 0.91)".to_owned(),
            ),
            ..quiet_request()
        };
        let route = evaluate(&policy, &facts);
        let step = route
            .step(StepKindTag::CioDuplicateReview)
            .expect("a duplicate review");
        assert!(step.grounds[0].reason.contains("Enterprise e-signature"));
        assert_eq!(step.grounds[0].citation, "EO 2025 Art. 3");
        let plain = evaluate(&policy, &quiet_request());
        assert!(plain.step(StepKindTag::CioDuplicateReview).is_none());
    }

    /// A valid policy to break one way at a time.
    fn small_policy() -> Policy {
        Policy::from_toml(
            r#"
            label = "small"
            [[rules]]
            id = "cio-value-threshold"
            title = "CIO approval: value"
            citation = "c.30B §5; EO 2025 Art. 3"
            when = { all = [{ fact = "total_contract_value_cents", gte = 5_000_000 }] }
            then = { step = "cio_approval" }
            reason = "total contract value {total_contract_value} is at or above {threshold}"

            [[rules]]
            id = "security-ma"
            title = "Security review: MA PI"
            citation = "201 CMR 17.03(2)(f)"
            when = { data_class_any = ["pi_ma"] }
            then = { step = "security_review", questionnaires = ["ma-201-cmr-17"] }
            reason = "the vendor will hold {data_classes}"

            [[rules]]
            id = "prohibit-face-surveillance"
            title = "Prohibited"
            citation = "Boston 16-62"
            when = { flag = "face_surveillance" }
            then = { prohibit = "face_surveillance" }
            reason = "banned"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn validation_names_the_rule_and_the_fault() {
        fn rule(id: &str, fault: PolicyFault) -> PolicyError {
            PolicyError {
                scope: PolicyScope::Rule(id.to_owned()),
                fault,
            }
        }
        fn policy(fault: PolicyFault) -> PolicyError {
            PolicyError {
                scope: PolicyScope::Policy,
                fault,
            }
        }
        let cases: Vec<(BreakPolicy, PolicyError)> = vec![
            (
                |p| p.rules[1].id = "cio-value-threshold".to_owned(),
                rule("cio-value-threshold", PolicyFault::DuplicateId),
            ),
            (
                |p| p.rules[1].id = " ".to_owned(),
                rule("#2", PolicyFault::EmptyId),
            ),
            (
                |p| p.rules[0].title = String::new(),
                rule("cio-value-threshold", PolicyFault::EmptyTitle),
            ),
            (
                |p| p.rules[0].citation = "  ".to_owned(),
                rule("cio-value-threshold", PolicyFault::EmptyCitation),
            ),
            (
                |p| p.rules[2].reason = String::new(),
                rule("prohibit-face-surveillance", PolicyFault::EmptyReason),
            ),
            (
                |p| p.rules[0].reason = "value {foo} over {threshold}".to_owned(),
                rule(
                    "cio-value-threshold",
                    PolicyFault::UnknownPlaceholder("foo".to_owned()),
                ),
            ),
            (
                |p| p.rules[0].reason = "value over {threshold".to_owned(),
                rule("cio-value-threshold", PolicyFault::UnclosedPlaceholder),
            ),
            (
                |p| p.rules[1].reason = "more than {threshold}".to_owned(),
                rule("security-ma", PolicyFault::ThresholdWithoutComparison),
            ),
            (
                |p| {
                    p.rules[0].when = Condition::Compare {
                        fact: NumericFact::Users,
                        comparison: Comparison::Gte,
                        threshold: -1,
                    }
                },
                rule(
                    "cio-value-threshold",
                    PolicyFault::NegativeThreshold {
                        fact: NumericFact::Users,
                        threshold: -1,
                    },
                ),
            ),
            (
                |p| p.rules[1].when = Condition::All(vec![]),
                rule("security-ma", PolicyFault::EmptyAll),
            ),
            (
                |p| p.rules[1].when = Condition::Not(Box::new(Condition::Any(vec![]))),
                rule("security-ma", PolicyFault::EmptyAny),
            ),
            (
                |p| p.rules[1].when = Condition::DataClassAny(vec![]),
                rule("security-ma", PolicyFault::EmptyDataClassList),
            ),
            (
                |p| p.rules[1].when = Condition::DepartmentIn(vec![]),
                rule("security-ma", PolicyFault::EmptyDepartmentList),
            ),
            (
                |p| {
                    p.rules[1].then = Outcome::Require(StepKind::SecurityReview {
                        questionnaires: vec![],
                    })
                },
                rule("security-ma", PolicyFault::NoQuestionnaires),
            ),
            (
                |p| {
                    p.rules[1].then =
                        Outcome::Require(StepKind::ContractSafeguards { clauses: vec![] })
                },
                rule("security-ma", PolicyFault::NoClauses),
            ),
            (
                |p| p.rules[1].then = Outcome::Require(StepKind::Evidence { items: vec![] }),
                rule("security-ma", PolicyFault::NoEvidenceItems),
            ),
            (
                |p| {
                    p.rules[2].then = Outcome::Prohibit {
                        code: String::new(),
                    }
                },
                rule(
                    "prohibit-face-surveillance",
                    PolicyFault::EmptyProhibitionCode,
                ),
            ),
            (
                |p| p.fiscal_year_start_month = 13,
                policy(PolicyFault::InvalidFiscalYearStart { month: 13, day: 1 }),
            ),
            (
                |p| p.fiscal_year_start_month = 0,
                policy(PolicyFault::InvalidFiscalYearStart { month: 0, day: 1 }),
            ),
            (
                |p| {
                    p.fiscal_year_start_month = 2;
                    p.fiscal_year_start_day = 29;
                },
                policy(PolicyFault::InvalidFiscalYearStart { month: 2, day: 29 }),
            ),
            (
                |p| {
                    p.fiscal_year_start_month = 4;
                    p.fiscal_year_start_day = 31;
                },
                policy(PolicyFault::InvalidFiscalYearStart { month: 4, day: 31 }),
            ),
            (
                |p| p.fiscal_year_start_day = 0,
                policy(PolicyFault::InvalidFiscalYearStart { month: 7, day: 0 }),
            ),
            (
                |p| p.questionnaire_due_days = 0,
                policy(PolicyFault::ZeroQuestionnaireDueDays),
            ),
            (
                |p| p.decision_escalation_days = 0,
                policy(PolicyFault::ZeroDecisionEscalationDays),
            ),
            (
                |p| p.reassessment_months = 0,
                policy(PolicyFault::ZeroReassessmentMonths),
            ),
            (|p| p.label = String::new(), policy(PolicyFault::EmptyLabel)),
        ];
        assert_eq!(small_policy().validate(), Ok(()));
        for (break_policy, expected) in cases {
            let mut broken = small_policy();
            break_policy(&mut broken);
            assert_eq!(broken.validate(), Err(vec![expected.clone()]), "{expected}");
        }
    }

    #[test]
    fn validation_reports_every_fault_at_once() {
        let mut broken = small_policy();
        broken.questionnaire_due_days = 0;
        broken.rules[0].citation = String::new();
        broken.rules[2].id = "cio-value-threshold".to_owned();
        let messages: Vec<String> = broken
            .validate()
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages,
            [
                "policy: questionnaire_due_days must be at least 1",
                "rule cio-value-threshold: citation is empty",
                "rule cio-value-threshold: id is used by more than one rule",
            ]
        );
    }

    #[test]
    fn a_policy_error_reads_as_rule_then_fault() {
        let error = PolicyError {
            scope: PolicyScope::Rule("cio-value-threshold".to_owned()),
            fault: PolicyFault::UnknownPlaceholder("foo".to_owned()),
        };
        assert_eq!(
            error.to_string(),
            "rule cio-value-threshold: reason uses unknown placeholder {foo}"
        );
    }

    #[test]
    fn malformed_rules_are_refused_when_read_with_a_message_that_says_why() {
        let rule_with = |when: &str, then: &str| {
            format!(
                "label = \"x\"\n[[rules]]\nid = \"r\"\ntitle = \"t\"\ncitation = \"c\"\n\
                 when = {when}\nthen = {then}\nreason = \"r\"\n"
            )
        };
        let cio = r#"{ step = "cio_approval" }"#;
        let always = "{ always = true }";
        let cases = [
            (
                rule_with(r#"{ flag = "fast_path", always = true }"#, cio),
                "exactly one form",
            ),
            (rule_with("{ gte = 5 }", cio), "need a `fact`"),
            (
                rule_with(r#"{ fact = "users", gte = 1, lt = 5 }"#, cio),
                "exactly one of gte, gt, lte, lt",
            ),
            (rule_with(r#"{ fact = "users" }"#, cio), "needs one of gte"),
            (rule_with(r#"{ flag = "bogus" }"#, cio), "bogus"),
            (
                rule_with(r#"{ data_class_any = ["secret"] }"#, cio),
                "secret",
            ),
            (
                rule_with("{ non_public_data = false }", cio),
                "can only be true",
            ),
            (rule_with("{ fuzzy = 1 }", cio), "fuzzy"),
            (rule_with("{}", cio), "a condition needs one of"),
            (
                rule_with(always, r#"{ step = "security_review", clauses = ["x"] }"#),
                "`clauses` does not apply to step security_review",
            ),
            (
                rule_with(always, r#"{ step = "cio_approval", prohibit = "x" }"#),
                "not both",
            ),
            (
                rule_with(always, r#"{ prohibit = "x", items = ["y"] }"#),
                "takes no lists",
            ),
            (rule_with(always, "{}"), "needs `step"),
            (
                rule_with(always, r#"{ step = "mayor_approval" }"#),
                "mayor_approval",
            ),
            (
                format!("{}reasn = \"typo\"\n", rule_with(always, cio)),
                "reasn",
            ),
        ];
        for (text, expected) in cases {
            match Policy::from_toml(&text) {
                Ok(policy) => panic!("accepted {text}: {policy:?}"),
                Err(PolicyError {
                    scope: PolicyScope::Policy,
                    fault: PolicyFault::Unreadable(message),
                }) => assert!(message.contains(expected), "{expected:?} not in {message}"),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn the_documented_example_rule_reads_and_applies() {
        let policy = Policy::from_toml(
            r#"
            label = "example"
            [[rules]]
            id = "cio-value-threshold"
            title = "CIO approval: total contract value"
            citation = "c.30B §5; EO 2025 Art. 3"
            when = { all = [
                { fact = "total_contract_value_cents", gte = 5_000_000 },
                { not = { flag = "fast_path" } },
            ] }
            then = { step = "cio_approval" }
            reason = "total contract value {total_contract_value} is at or above {threshold}"
            "#,
        )
        .unwrap();
        assert_eq!(policy.validate(), Ok(()));
        assert_eq!(policy.fiscal_year_start_month, 7);
        assert_eq!(policy.questionnaire_due_days, 30);
        let route = evaluate(&policy, &costing(12_000_000));
        let ground = &route.step(StepKindTag::CioApproval).unwrap().grounds[0];
        assert_eq!(
            ground.to_string(),
            "total contract value $120,000.00 is at or above $50,000.00 [c.30B §5; EO 2025 Art. 3]"
        );
    }

    #[test]
    fn a_policy_round_trips_through_json_and_toml_unchanged() {
        let policy = Policy::default_policy();
        let json = serde_json::to_string(&policy).unwrap();
        assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), policy);
        let toml_text = toml::to_string(&policy).unwrap();
        assert_eq!(Policy::from_toml(&toml_text).unwrap(), policy);
    }

    #[test]
    fn a_route_round_trips_through_json_unchanged() {
        let route = route_of(&RequestFacts {
            department_code: "BPD".to_owned(),
            department_ordinance_covered: true,
            surveillance: true,
            face_surveillance: true,
            hosting: Hosting::VendorCloud,
            data_classes: BTreeSet::from([DataClass::Cjis, DataClass::PiMa]),
            ..costing(15_000_000)
        });
        let json = serde_json::to_string(&route).unwrap();
        assert_eq!(serde_json::from_str::<Route>(&json).unwrap(), route);
    }

    #[test]
    fn data_class_names_parse_back_to_their_class() {
        for class in DataClass::ALL {
            assert_eq!(DataClass::parse(class.as_str()), Some(class));
            assert_eq!(
                serde_json::to_string(&class).unwrap(),
                format!("\"{}\"", class.as_str())
            );
            assert_eq!(class.is_public(), class == DataClass::Public);
        }
        assert_eq!(DataClass::parse("PI_MA"), None);
    }
}
