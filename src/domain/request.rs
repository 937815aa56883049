//! Procurement requests: the input a buyer drafts, parsed once into checked facts, the lifecycle, and what
//! counts as a material change.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::policy::{DataClass, Hosting};
use crate::error::{ApiError, FieldError};

/// Ten billion dollars: anything above is a typing error, not a purchase.
pub const MAX_CENTS: i64 = 1_000_000_000_000;
pub const MAX_TERM_MONTHS: i64 = 240;
pub const MAX_USERS: i64 = 10_000_000;

/// What a buyer sends to create or edit a request. Every field is checked and named when wrong.
#[derive(Debug, Clone, Default, Object, Deserialize)]
pub struct RequestInput {
    pub title: Option<String>,
    pub description: Option<String>,
    /// A registered vendor's id.
    pub vendor_id: Option<Uuid>,
    pub product_name: Option<String>,
    /// e.g. `e-signature`, `GIS`, `case management`.
    pub category: Option<String>,
    /// Short phrases for what the product does, e.g. `electronic signatures`.
    pub capabilities: Option<Vec<String>>,
    /// One-time capital cost, in cents.
    pub capital_cost_cents: Option<i64>,
    /// Yearly operating cost (subscription, support, staff), in cents.
    pub annual_operating_cost_cents: Option<i64>,
    pub term_months: Option<i64>,
    pub expected_users: Option<i64>,
    /// Renewal of a purchase approved before.
    pub renewal: Option<bool>,
    /// Bought under an existing enterprise agreement.
    pub enterprise_agreement: Option<bool>,
    /// `vendor_cloud` or `on_premises`.
    pub hosting: Option<String>,
    /// Any of `pi_ma`, `pi_ct`, `cjis`, `health`, `cardholder`, `confidential`, or `public` alone.
    pub data_classes: Option<Vec<String>>,
    /// Surveillance technology as Boston City Code 16-63 defines it.
    pub surveillance: Option<bool>,
    /// Performs face surveillance (Boston City Code 16-62 bans it).
    pub face_surveillance: Option<bool>,
    pub requested_start_date: Option<NaiveDate>,
}

/// The checked facts of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestFields {
    pub title: String,
    pub description: String,
    pub vendor_id: Uuid,
    pub product_name: String,
    pub category: String,
    pub capabilities: Vec<String>,
    pub capital_cost_cents: i64,
    pub annual_operating_cost_cents: i64,
    pub term_months: i64,
    pub expected_users: i64,
    pub renewal: bool,
    pub enterprise_agreement: bool,
    pub hosting: Hosting,
    pub data_classes: BTreeSet<DataClass>,
    pub surveillance: bool,
    pub face_surveillance: bool,
    pub requested_start_date: NaiveDate,
}

struct Check(Vec<FieldError>);

impl Check {
    fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.0.push(FieldError::new(field, "is required"));
        }
        value
    }

    fn text(&mut self, field: &str, value: Option<String>, max: usize, required: bool) -> String {
        let value = value.map(|v| v.trim().to_string()).unwrap_or_default();
        if value.is_empty() && required {
            self.0.push(FieldError::new(field, "is required"));
        } else if value.chars().count() > max {
            self.0.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        value
    }

    fn range(&mut self, field: &str, value: Option<i64>, min: i64, max: i64, what: &str) -> i64 {
        match value {
            None => {
                self.0.push(FieldError::new(field, "is required"));
                0
            }
            Some(v) if v < min || v > max => {
                self.0
                    .push(FieldError::new(field, format!("must be {what}")));
                v
            }
            Some(v) => v,
        }
    }
}

impl RequestFields {
    /// Parses a complete request. `current` supplies values an edit leaves out.
    pub fn parse(
        input: RequestInput,
        current: Option<&RequestFields>,
    ) -> Result<RequestFields, ApiError> {
        let mut c = Check(Vec::new());
        let cur = current;
        let title = c.text(
            "title",
            input.title.or(cur.map(|r| r.title.clone())),
            200,
            true,
        );
        let description = c.text(
            "description",
            input.description.or(cur.map(|r| r.description.clone())),
            10_000,
            false,
        );
        let vendor_id = c.required("vendor_id", input.vendor_id.or(cur.map(|r| r.vendor_id)));
        let product_name = c.text(
            "product_name",
            input.product_name.or(cur.map(|r| r.product_name.clone())),
            200,
            true,
        );
        let category = c.text(
            "category",
            input.category.or(cur.map(|r| r.category.clone())),
            100,
            false,
        );
        let capabilities_in = input
            .capabilities
            .or(cur.map(|r| r.capabilities.clone()))
            .unwrap_or_default();
        if capabilities_in.len() > 50 {
            c.0.push(FieldError::new("capabilities", "at most 50 capabilities"));
        }
        let mut capabilities = Vec::new();
        for (i, cap) in capabilities_in.into_iter().enumerate() {
            let cap = cap.trim().to_string();
            if cap.is_empty() || cap.chars().count() > 100 {
                c.0.push(FieldError::new(
                    format!("capabilities[{i}]"),
                    "must be 1 to 100 characters",
                ));
            } else if !capabilities.contains(&cap) {
                capabilities.push(cap);
            }
        }
        let money = "a whole number of cents from 0 to 1,000,000,000,000 ($10 billion)";
        let capital_cost_cents = c.range(
            "capital_cost_cents",
            input
                .capital_cost_cents
                .or(cur.map(|r| r.capital_cost_cents)),
            0,
            MAX_CENTS,
            money,
        );
        let annual_operating_cost_cents = c.range(
            "annual_operating_cost_cents",
            input
                .annual_operating_cost_cents
                .or(cur.map(|r| r.annual_operating_cost_cents)),
            0,
            MAX_CENTS,
            money,
        );
        let term_months = c.range(
            "term_months",
            input.term_months.or(cur.map(|r| r.term_months)),
            1,
            MAX_TERM_MONTHS,
            "from 1 to 240 months",
        );
        let expected_users = c.range(
            "expected_users",
            input.expected_users.or(cur.map(|r| r.expected_users)),
            0,
            MAX_USERS,
            "from 0 to 10,000,000",
        );
        let hosting = match input.hosting {
            Some(h) => match h.trim() {
                "vendor_cloud" => Hosting::VendorCloud,
                "on_premises" => Hosting::OnPremises,
                other => {
                    c.0.push(FieldError::new(
                        "hosting",
                        format!("{other:?} is not one of vendor_cloud, on_premises"),
                    ));
                    Hosting::VendorCloud
                }
            },
            None => match cur {
                Some(r) => r.hosting,
                None => {
                    c.0.push(FieldError::new("hosting", "is required"));
                    Hosting::VendorCloud
                }
            },
        };
        let data_classes = match input.data_classes {
            Some(list) => {
                let mut set = BTreeSet::new();
                for (i, name) in list.iter().enumerate() {
                    match DataClass::parse(name.trim()) {
                        Some(dc) => {
                            set.insert(dc);
                        }
                        None => {
                            let all: Vec<&str> =
                                DataClass::ALL.iter().map(|d| d.as_str()).collect();
                            c.0.push(FieldError::new(
                                format!("data_classes[{i}]"),
                                format!("{name:?} is not one of {}", all.join(", ")),
                            ));
                        }
                    }
                }
                if list.is_empty() {
                    c.0.push(FieldError::new(
                        "data_classes",
                        "name at least one class (`public` if no other)",
                    ));
                } else if set.contains(&DataClass::Public) && set.len() > 1 {
                    c.0.push(FieldError::new(
                        "data_classes",
                        "`public` means public only: it cannot be combined",
                    ));
                }
                set
            }
            None => match cur {
                Some(r) => r.data_classes.clone(),
                None => {
                    c.0.push(FieldError::new("data_classes", "is required"));
                    BTreeSet::new()
                }
            },
        };
        let flag =
            |v: Option<bool>, f: fn(&RequestFields) -> bool| v.or(cur.map(f)).unwrap_or(false);
        let renewal = flag(input.renewal, |r| r.renewal);
        let enterprise_agreement = flag(input.enterprise_agreement, |r| r.enterprise_agreement);
        let surveillance = flag(input.surveillance, |r| r.surveillance);
        let face_surveillance = flag(input.face_surveillance, |r| r.face_surveillance);
        if face_surveillance && !surveillance {
            c.0.push(FieldError::new(
                "surveillance",
                "face surveillance is surveillance technology: set surveillance too",
            ));
        }
        let requested_start_date = c.required(
            "requested_start_date",
            input
                .requested_start_date
                .or(cur.map(|r| r.requested_start_date)),
        );
        if !c.0.is_empty() {
            return Err(ApiError::validation(c.0));
        }
        Ok(RequestFields {
            title,
            description,
            vendor_id: vendor_id.expect("checked"),
            product_name,
            category,
            capabilities,
            capital_cost_cents,
            annual_operating_cost_cents,
            term_months,
            expected_users,
            renewal,
            enterprise_agreement,
            hosting,
            data_classes,
            surveillance,
            face_surveillance,
            requested_start_date: requested_start_date.expect("checked"),
        })
    }

    /// Capital plus operating cost over the term, in cents (rounded half up).
    pub fn total_contract_value_cents(&self) -> i64 {
        crate::domain::policy::total_contract_value_cents(
            self.capital_cost_cents,
            self.annual_operating_cost_cents,
            self.term_months as u32,
        )
    }

    /// Why an edit of an approved request re-opens review, if it does: cost up by more than `percent`,
    /// a data class added, or another vendor.
    pub fn material_changes(&self, next: &RequestFields, percent: u32) -> Vec<String> {
        let mut why = Vec::new();
        let before = self.total_contract_value_cents() as i128;
        let after = next.total_contract_value_cents() as i128;
        if after * 100 > before * (100 + percent as i128) {
            why.push(format!(
                "total contract value rose from {} to {} (more than {percent}%)",
                crate::domain::policy::format_cents(before as i64),
                crate::domain::policy::format_cents(after as i64)
            ));
        }
        let added: Vec<&str> = next
            .data_classes
            .difference(&self.data_classes)
            .filter(|d| !d.is_public())
            .map(|d| d.as_str())
            .collect();
        if !added.is_empty() {
            why.push(format!("new data classes: {}", added.join(", ")));
        }
        if next.vendor_id != self.vendor_id {
            why.push("a different vendor".to_string());
        }
        if next.surveillance && !self.surveillance {
            why.push("now surveillance technology".to_string());
        }
        why
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    InReview,
    AwaitingDecision,
    Approved,
    ApprovedWithConditions,
    Denied,
    ChangesRequested,
    Withdrawn,
}

/// What can be done to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Edit,
    Submit,
    Withdraw,
    Decide,
    Reroute,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Withdraw => "withdraw",
            Action::Decide => "decide",
            Action::Reroute => "reroute",
        }
    }
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Draft,
        Status::Submitted,
        Status::InReview,
        Status::AwaitingDecision,
        Status::Approved,
        Status::ApprovedWithConditions,
        Status::Denied,
        Status::ChangesRequested,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::InReview => "in_review",
            Status::AwaitingDecision => "awaiting_decision",
            Status::Approved => "approved",
            Status::ApprovedWithConditions => "approved_with_conditions",
            Status::Denied => "denied",
            Status::ChangesRequested => "changes_requested",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Under review: spend in these states counts toward the fiscal-year totals, as does approved spend.
    pub fn counts_toward_spend(self) -> bool {
        matches!(
            self,
            Status::Submitted
                | Status::InReview
                | Status::AwaitingDecision
                | Status::Approved
                | Status::ApprovedWithConditions
        )
    }

    pub fn is_approved(self) -> bool {
        matches!(self, Status::Approved | Status::ApprovedWithConditions)
    }

    /// The actions this state allows. Edits of an approved request are allowed: a material one re-opens review.
    pub fn allowed(self) -> &'static [Action] {
        match self {
            Status::Draft => &[Action::Edit, Action::Submit, Action::Withdraw],
            Status::Submitted | Status::InReview | Status::AwaitingDecision => {
                &[Action::Decide, Action::Withdraw, Action::Reroute]
            }
            Status::ChangesRequested => &[Action::Edit, Action::Withdraw],
            Status::Approved | Status::ApprovedWithConditions => &[Action::Edit],
            Status::Denied | Status::Withdrawn => &[],
        }
    }

    /// 409 with the actions that would have been allowed, unless `action` is allowed.
    pub fn check(self, action: Action) -> Result<(), ApiError> {
        if self.allowed().contains(&action) {
            return Ok(());
        }
        let allowed: Vec<String> = self
            .allowed()
            .iter()
            .map(|a| a.as_str().to_string())
            .collect();
        let detail = if allowed.is_empty() {
            format!(
                "a request that is {} allows no further action",
                self.as_str()
            )
        } else {
            format!(
                "a request that is {} cannot {}; it allows: {}",
                self.as_str(),
                action.as_str(),
                allowed.join(", ")
            )
        };
        Err(ApiError::conflict("transition_not_allowed", detail).with_allowed(allowed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn input() -> RequestInput {
        RequestInput {
            title: Some("E-signature for permits".into()),
            description: Some("Sign permit documents online".into()),
            vendor_id: Some(Uuid::nil()),
            product_name: Some("SignIt".into()),
            category: Some("e-signature".into()),
            capabilities: Some(vec![
                "electronic signatures".into(),
                " electronic signatures ".into(),
            ]),
            capital_cost_cents: Some(0),
            annual_operating_cost_cents: Some(1_200_000),
            term_months: Some(36),
            expected_users: Some(40),
            renewal: None,
            enterprise_agreement: None,
            hosting: Some("vendor_cloud".into()),
            data_classes: Some(vec!["pi_ma".into()]),
            surveillance: None,
            face_surveillance: None,
            requested_start_date: NaiveDate::from_ymd_opt(2026, 7, 1),
        }
    }

    #[test]
    fn a_complete_input_parses_and_dedupes_capabilities() {
        let r = RequestFields::parse(input(), None).unwrap();
        assert_eq!(r.capabilities, vec!["electronic signatures".to_string()]);
        assert_eq!(r.total_contract_value_cents(), 3_600_000);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut i = input();
        i.title = Some(" ".into());
        i.capital_cost_cents = Some(-1);
        i.annual_operating_cost_cents = Some(MAX_CENTS + 1);
        i.term_months = Some(0);
        i.data_classes = Some(vec!["pi_ma".into(), "pii".into()]);
        i.hosting = Some("mainframe".into());
        let p = RequestFields::parse(i, None).unwrap_err().to_problem();
        let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "capital_cost_cents",
                "annual_operating_cost_cents",
                "term_months",
                "hosting",
                "data_classes[1]"
            ]
        );
    }

    #[test]
    fn public_cannot_be_combined_and_face_surveillance_implies_surveillance() {
        let mut i = input();
        i.data_classes = Some(vec!["public".into(), "health".into()]);
        i.face_surveillance = Some(true);
        let p = RequestFields::parse(i, None).unwrap_err().to_problem();
        let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["data_classes", "surveillance"]);
    }

    #[test]
    fn an_edit_keeps_what_it_leaves_out() {
        let r = RequestFields::parse(input(), None).unwrap();
        let edit = RequestInput {
            title: Some("New title".into()),
            ..Default::default()
        };
        let next = RequestFields::parse(edit, Some(&r)).unwrap();
        assert_eq!(next.title, "New title");
        assert_eq!(next.data_classes, r.data_classes);
    }

    #[test]
    fn material_changes_are_cost_beyond_the_percentage_new_data_or_another_vendor() {
        let r = RequestFields::parse(input(), None).unwrap();
        let mut same = r.clone();
        same.annual_operating_cost_cents = 1_320_000; // +10% exactly: not more than 10%
        assert!(r.material_changes(&same, 10).is_empty());
        let mut dearer = r.clone();
        dearer.annual_operating_cost_cents = 1_320_001;
        assert_eq!(r.material_changes(&dearer, 10).len(), 1);
        let mut more_data = r.clone();
        more_data.data_classes.insert(DataClass::Health);
        assert!(r.material_changes(&more_data, 10)[0].contains("health"));
        let mut other = r.clone();
        other.vendor_id = Uuid::new_v4();
        assert_eq!(
            r.material_changes(&other, 10),
            vec!["a different vendor".to_string()]
        );
    }

    #[test]
    fn transitions_not_allowed_answer_409_with_the_allowed_ones() {
        assert!(Status::Draft.check(Action::Submit).is_ok());
        let e = Status::Approved.check(Action::Submit).unwrap_err();
        assert_eq!(e.status().as_u16(), 409);
        assert_eq!(e.to_problem().allowed, vec!["edit".to_string()]);
        assert!(
            Status::Denied
                .check(Action::Edit)
                .unwrap_err()
                .to_problem()
                .allowed
                .is_empty()
        );
    }
}
