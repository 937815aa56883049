//! Procurement requests: the input a buyer drafts, parsed once into checked facts, and the lifecycle states.
//! What a state allows, and what counts as a material change, are rules of `crate::workflow::requests`.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

use crate::domain::invalid::{FieldError, Invalid};
use crate::domain::policy::{DataClass, Hosting};
use crate::domain::text_forms::one_of;

/// Ten billion dollars: anything above is a typing error, not a purchase.
pub const MAX_CENTS: i64 = 1_000_000_000_000;
pub const MAX_TERM_MONTHS: i64 = 240;
pub const MAX_USERS: i64 = 10_000_000;

/// What a buyer sends to create or edit a request. Every field is checked and named when wrong.
///
/// On create, every fact that can change the route is required — costs, term, users, hosting, data classes,
/// `surveillance`, `face_surveillance`, `renewal` and `enterprise_agreement` — so that nothing that decides a
/// review is ever assumed. An edit may leave fields out: they keep their value.
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
    /// Renewal of a purchase approved before; a renewal names what it renews (`renews_request_id` or
    /// `renews_contract_id`), and the service compares the two before any fast path applies.
    pub renewal: Option<bool>,
    /// For a renewal: the approved request of your department it renews.
    pub renews_request_id: Option<Uuid>,
    /// For a renewal: the contract it renews.
    pub renews_contract_id: Option<Uuid>,
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
    /// The line of the department's approved technology budget the purchase is funded from [EO 2025 Art. 2].
    /// Leave it out for a purchase funded from no line (on an edit: to keep the line named before).
    pub budget_line_id: Option<Uuid>,
    /// The vendor's product (`POST /api/v1/products`) the purchase is of: its accepted questionnaires are reused
    /// while valid and covering this request's scope. On an edit, leaving it out keeps the product named before
    /// unless the vendor changes.
    pub product_id: Option<Uuid>,
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
    /// What a renewal renews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews: Option<Renews>,
    /// The budget line the purchase is funded from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_line_id: Option<Uuid>,
    /// The vendor's product the purchase is of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<Uuid>,
}

/// The purchase a renewal renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Renews {
    Request(Uuid),
    Contract(Uuid),
}

impl Renews {
    pub fn kind(self) -> &'static str {
        match self {
            Renews::Request(_) => "request",
            Renews::Contract(_) => "contract",
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            Renews::Request(id) | Renews::Contract(id) => id,
        }
    }

    /// The input field that names it.
    pub fn field(self) -> &'static str {
        match self {
            Renews::Request(_) => "renews_request_id",
            Renews::Contract(_) => "renews_contract_id",
        }
    }
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
    ) -> Result<RequestFields, Invalid> {
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
            Some(h) => Hosting::try_from(h.trim()).unwrap_or_else(|_| {
                c.0.push(FieldError::new(
                    "hosting",
                    format!("{:?} is not one of {}", h.trim(), one_of::<Hosting>()),
                ));
                Hosting::VendorCloud
            }),
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
                    match DataClass::try_from(name.trim()) {
                        Ok(dc) => {
                            set.insert(dc);
                        }
                        Err(_) => {
                            c.0.push(FieldError::new(
                                format!("data_classes[{i}]"),
                                format!("{name:?} is not one of {}", one_of::<DataClass>()),
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
        // A fact that can change the route is never assumed: on create each flag must be said.
        let mut flag = |field: &str, v: Option<bool>, f: fn(&RequestFields) -> bool| match (v, cur)
        {
            (Some(v), _) => v,
            (None, Some(r)) => f(r),
            (None, None) => {
                c.0.push(FieldError::new(field, "is required: true or false"));
                false
            }
        };
        let renewal = flag("renewal", input.renewal, |r| r.renewal);
        let enterprise_agreement = flag("enterprise_agreement", input.enterprise_agreement, |r| {
            r.enterprise_agreement
        });
        let surveillance = flag("surveillance", input.surveillance, |r| r.surveillance);
        let face_surveillance = flag("face_surveillance", input.face_surveillance, |r| {
            r.face_surveillance
        });
        if face_surveillance && !surveillance {
            c.0.push(FieldError::new(
                "surveillance",
                "face surveillance is surveillance technology: set surveillance too",
            ));
        }
        let named = match (input.renews_request_id, input.renews_contract_id) {
            (Some(_), Some(_)) => {
                c.0.push(FieldError::new(
                    "renews_contract_id",
                    "name what the renewal renews once: a request or a contract, not both",
                ));
                None
            }
            (Some(id), None) => Some(Renews::Request(id)),
            (None, Some(id)) => Some(Renews::Contract(id)),
            (None, None) => None,
        };
        let renews = match (renewal, named) {
            (true, Some(link)) => Some(link),
            (true, None) => match cur.and_then(|r| r.renews) {
                Some(kept) => Some(kept),
                None => {
                    c.0.push(FieldError::new(
                        "renews_request_id",
                        "a renewal names what it renews: renews_request_id (an approved request) or \
                         renews_contract_id (a contract)",
                    ));
                    None
                }
            },
            (false, Some(link)) => {
                c.0.push(FieldError::new(
                    link.field(),
                    "only a renewal names what it renews: set renewal to true, or leave this out",
                ));
                None
            }
            (false, None) => None,
        };
        let requested_start_date = c.required(
            "requested_start_date",
            input
                .requested_start_date
                .or(cur.map(|r| r.requested_start_date)),
        );
        if !c.0.is_empty() {
            return Err(Invalid(c.0));
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
            renews,
            budget_line_id: input.budget_line_id.or(cur.and_then(|r| r.budget_line_id)),
            product_id: input.product_id.or(cur
                .filter(|r| Some(r.vendor_id) == vendor_id)
                .and_then(|r| r.product_id)),
        })
    }

    /// Whether the purchase puts personal information of Massachusetts or Connecticut residents with the vendor:
    /// such a vendor is re-assessed on a schedule (201 CMR 17.03(2)(i)).
    pub fn holds_personal_information(&self) -> bool {
        self.data_classes
            .iter()
            .any(|c| matches!(c, DataClass::PiMa | DataClass::PiCt))
    }

    /// Capital plus operating cost over the term, in cents (rounded half up).
    pub fn total_contract_value_cents(&self) -> i64 {
        crate::domain::policy::total_contract_value_cents(
            self.capital_cost_cents,
            self.annual_operating_cost_cents,
            self.term_months as u32,
        )
    }
}

/// How a submitted version came about: `submitted` by the buyer, `edited` (an edit of a decided request that
/// changed nothing material: the decision stands) or `reopened` (an edit that re-opened review).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum VersionKind {
    /// The buyer submitted it.
    Submitted,
    /// An edit of a decided request that changed nothing material: the decision stands.
    Edited,
    /// An edit of a decided request that re-opened review.
    Reopened,
}

impl VersionKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
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

impl Status {
    /// The text form (`in_review`): stored, published and sent as it is.
    pub fn as_str(self) -> &'static str {
        self.into()
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

    /// Withdrawn and denied requests are closed: nothing about them changes any more.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Denied | Status::Withdrawn)
    }

    /// Under review: a step may still be decided or settled.
    pub fn in_review(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::InReview | Status::AwaitingDecision
        )
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
            renewal: Some(false),
            renews_request_id: None,
            renews_contract_id: None,
            enterprise_agreement: Some(false),
            hosting: Some("vendor_cloud".into()),
            data_classes: Some(vec!["pi_ma".into()]),
            surveillance: Some(false),
            face_surveillance: Some(false),
            requested_start_date: NaiveDate::from_ymd_opt(2026, 7, 1),
            budget_line_id: None,
            product_id: None,
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
        let p = RequestFields::parse(i, None).unwrap_err();
        let fields: Vec<&str> = p.0.iter().map(|e| e.field.as_str()).collect();
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
        let p = RequestFields::parse(i, None).unwrap_err();
        let fields: Vec<&str> = p.0.iter().map(|e| e.field.as_str()).collect();
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
    fn every_fact_that_can_change_the_route_is_required_on_create() {
        let mut i = input();
        i.renewal = None;
        i.enterprise_agreement = None;
        i.surveillance = None;
        i.face_surveillance = None;
        i.hosting = None;
        i.data_classes = None;
        i.expected_users = None;
        let p = RequestFields::parse(i, None).unwrap_err();
        let fields: Vec<&str> = p.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "expected_users",
                "hosting",
                "data_classes",
                "renewal",
                "enterprise_agreement",
                "surveillance",
                "face_surveillance"
            ]
        );
    }

    #[test]
    fn a_renewal_names_what_it_renews_and_only_a_renewal_does() {
        let mut i = input();
        i.renewal = Some(true);
        let p = RequestFields::parse(i.clone(), None).unwrap_err();
        assert_eq!(p.0[0].field, "renews_request_id");
        let target = Uuid::new_v4();
        i.renews_contract_id = Some(target);
        let r = RequestFields::parse(i.clone(), None).unwrap();
        assert_eq!(r.renews, Some(Renews::Contract(target)));
        i.renews_request_id = Some(target);
        let p = RequestFields::parse(i, None).unwrap_err();
        assert_eq!(p.0[0].field, "renews_contract_id");
        let mut plain = input();
        plain.renews_request_id = Some(target);
        let p = RequestFields::parse(plain, None).unwrap_err();
        assert_eq!(p.0[0].field, "renews_request_id");
        // An edit that ends the renewal drops the link; one that keeps it keeps the link.
        let renewal = RequestFields::parse(
            RequestInput {
                renewal: Some(true),
                renews_contract_id: Some(target),
                ..input()
            },
            None,
        )
        .unwrap();
        let kept = RequestFields::parse(
            RequestInput {
                title: Some("Renewed".into()),
                ..Default::default()
            },
            Some(&renewal),
        )
        .unwrap();
        assert_eq!(kept.renews, Some(Renews::Contract(target)));
        let ended = RequestFields::parse(
            RequestInput {
                renewal: Some(false),
                ..Default::default()
            },
            Some(&renewal),
        )
        .unwrap();
        assert_eq!(ended.renews, None);
    }
}
