//! The facts a route is computed from: the request, its data classes and hosting, and its budget line.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

use super::money::{format_cents, total_contract_value_cents};

/// What kind of data a purchased system will hold; each class brings its own reviews. Declaration order is the
/// order they are listed to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
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
    /// The wire name, e.g. `pi_ma`.
    pub fn as_str(self) -> &'static str {
        self.into()
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
#[derive(poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Hosting {
    /// The vendor runs it (SaaS, vendor-managed cloud).
    VendorCloud,
    /// The city runs it on its own infrastructure.
    OnPremises,
}

impl Hosting {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
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
    /// [`Policy::cost_change_is_material`](super::Policy::cost_change_is_material) for the cost part).
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
    /// submitted or approved in the same fiscal year (bounds from [`Policy::fiscal_year_bounds`](super::Policy::fiscal_year_bounds)).
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
    pub line_id: Uuid,
    pub label: String,
    /// The amounts the CIO and Finance last approved jointly: capital, then yearly operating (staff and other).
    /// `None` for a line never approved: it funds nothing yet.
    pub approved: Option<(i64, i64)>,
    pub plan_item_id: Option<Uuid>,
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

    pub(super) fn describe(&self, what: &str) -> String {
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
    pub line_id: Uuid,
    pub label: String,
    /// Whether the line's budget is approved (a line never approved funds nothing).
    pub approved: bool,
    pub plan_item_id: Option<Uuid>,
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
            line_id: line.line_id,
            label: line.label.clone(),
            approved: line.approved.is_some(),
            plan_item_id: line.plan_item_id,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_is_public_and_names_are_read_as_written() {
        for class in DataClass::VARIANTS {
            assert_eq!(class.is_public(), *class == DataClass::Public);
        }
        assert_eq!(DataClass::try_from("pi_ma"), Ok(DataClass::PiMa));
        assert!(DataClass::try_from("PI_MA").is_err());
    }
}
