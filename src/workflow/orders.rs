//! Remediation orders: what an order may name, and which change its status allows.
//!
//! issued → acknowledged → completion_reported → verified, with reopened (the CIO office found the completion
//! wanting) back to completion_reported. The recipient may appeal once, within the policy's number of days
//! from the order's issue, from any open status but `appealed`; the CIO office upholds the order (it returns to
//! the status it had) or grants the appeal (the order is withdrawn).

use crate::domain::problems::ProblemCode;
use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use strum::{IntoStaticStr, VariantArray};
use uuid::Uuid;

use super::{Fault, Refusal};
use crate::domain::orders::{AppealOutcome, OrderStatus};

/// Who must remediate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRecipient {
    Vendor(Uuid),
    /// A department, for a city system.
    Department(String),
}

/// An order as the CIO office issues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub recipient: OrderRecipient,
    pub incident_id: Option<Uuid>,
    pub finding_ids: Vec<Uuid>,
    pub actions: Vec<String>,
    pub due_date: NaiveDate,
}

/// What the store found of the objects an order names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Whether the recipient (vendor or department) is registered.
    pub recipient_registered: bool,
    /// The named incident, if it exists: its vendor.
    pub incident: Option<Option<Uuid>>,
    /// The vendor of each named finding that exists.
    pub finding_vendors: BTreeMap<Uuid, Uuid>,
}

/// An order as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    pub status: OrderStatus,
    pub status_before_appeal: Option<OrderStatus>,
    pub issued_on: NaiveDate,
    /// Whether the recipient has appealed (once only).
    pub appealed: bool,
}

/// A change of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum OrderAction {
    Acknowledge,
    ReportCompletion,
    Verify,
    Reopen,
    Appeal,
    DecideAppeal,
}

impl OrderAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The changes an order in this state allows (the appeal also needs to be within its days).
pub fn allowed_actions(state: &OrderState) -> Vec<OrderAction> {
    use OrderAction::*;
    let mut out = match state.status {
        OrderStatus::Issued => vec![Acknowledge],
        OrderStatus::Acknowledged | OrderStatus::Reopened => vec![ReportCompletion],
        OrderStatus::CompletionReported => vec![Verify, Reopen],
        OrderStatus::Appealed => vec![DecideAppeal],
        OrderStatus::Verified | OrderStatus::Withdrawn => Vec::new(),
    };
    if state.status.is_open() && state.status != OrderStatus::Appealed && !state.appealed {
        out.push(Appeal);
    }
    out
}

fn allow(state: &OrderState, action: OrderAction) -> Result<(), Refusal> {
    let allowed = allowed_actions(state);
    if allowed.contains(&action) {
        return Ok(());
    }
    let status = state.status.as_str();
    let refusal = if !state.status.is_open() {
        Refusal::conflict(
            ProblemCode::OrderClosed,
            format!("the order is {status}; it no longer changes"),
        )
    } else if action == OrderAction::Appeal {
        Refusal::conflict(
            ProblemCode::AppealUsed,
            "the order was appealed once already; an order is appealed once",
        )
    } else {
        Refusal::conflict(
            ProblemCode::OrderState,
            format!(
                "the order is {status}; {} is not possible now",
                action.as_str()
            ),
        )
    };
    Err(refusal.with_allowed(allowed.iter().map(|a| a.as_str().to_string()).collect()))
}

fn text(field: &str, value: &str, why: &str) -> Result<String, Refusal> {
    let value = value.trim();
    if value.is_empty() {
        Err(Refusal::field(field, format!("must not be blank: {why}")))
    } else {
        Ok(value.to_string())
    }
}

/// Checks an order: a registered recipient, at least one action, a due date not past, and the incident or
/// findings behind it, which exist and (for a vendor) concern that vendor.
pub fn plan_issue(
    mut new: NewOrder,
    refs: &References,
    today: NaiveDate,
) -> Result<NewOrder, Refusal> {
    let mut faults = Vec::new();
    let vendor = match &new.recipient {
        OrderRecipient::Vendor(v) => Some(*v),
        OrderRecipient::Department(_) => None,
    };
    if !refs.recipient_registered {
        let field = if vendor.is_some() {
            "vendor_id"
        } else {
            "department"
        };
        faults.push(Fault::new(field, "nothing is registered under this name"));
    }
    new.actions = new.actions.iter().map(|a| a.trim().to_string()).collect();
    if new.actions.is_empty() {
        faults.push(Fault::new("actions", "name at least one required action"));
    }
    for (i, action) in new.actions.iter().enumerate() {
        if action.is_empty() {
            faults.push(Fault::new(format!("actions[{i}]"), "must not be blank"));
        }
    }
    if new.due_date < today {
        faults.push(Fault::new(
            "due_date",
            format!("must not be in the past (today is {today})"),
        ));
    }
    if new.incident_id.is_none() && new.finding_ids.is_empty() {
        faults.push(Fault::new(
            "incident_id",
            "an order rests on an incident or on findings: name at least one",
        ));
    }
    match (new.incident_id, &refs.incident) {
        (Some(_), None) => faults.push(Fault::new("incident_id", "no incident has this id")),
        (Some(_), Some(Some(incident_vendor))) if vendor.is_some_and(|v| v != *incident_vendor) => {
            faults.push(Fault::new(
                "incident_id",
                "the incident concerns another vendor",
            ))
        }
        _ => {}
    }
    for (i, id) in new.finding_ids.iter().enumerate() {
        match refs.finding_vendors.get(id) {
            None => faults.push(Fault::new(
                format!("finding_ids[{i}]"),
                "no finding has this id",
            )),
            Some(v) if vendor.is_some_and(|own| own != *v) => faults.push(Fault::new(
                format!("finding_ids[{i}]"),
                "the finding concerns another vendor",
            )),
            Some(_) => {}
        }
    }
    if faults.is_empty() {
        Ok(new)
    } else {
        Err(Refusal::Invalid(faults))
    }
}

pub fn plan_acknowledge(state: &OrderState) -> Result<OrderStatus, Refusal> {
    allow(state, OrderAction::Acknowledge)?;
    Ok(OrderStatus::Acknowledged)
}

/// The recipient reports the actions done, saying what it did and where the evidence is.
pub fn plan_completion(
    state: &OrderState,
    note: &str,
    evidence: &str,
) -> Result<(String, String), Refusal> {
    allow(state, OrderAction::ReportCompletion)?;
    let (note, evidence) = (note.trim(), evidence.trim());
    let mut faults = Vec::new();
    if note.is_empty() {
        faults.push(Fault::new("note", "must not be blank: say what was done"));
    }
    if evidence.is_empty() {
        faults.push(Fault::new(
            "evidence",
            "must not be blank: name the evidence of the remediation",
        ));
    }
    if faults.is_empty() {
        Ok((note.to_string(), evidence.to_string()))
    } else {
        Err(Refusal::Invalid(faults))
    }
}

pub fn plan_verify(state: &OrderState) -> Result<OrderStatus, Refusal> {
    allow(state, OrderAction::Verify)?;
    Ok(OrderStatus::Verified)
}

pub fn plan_reopen(state: &OrderState, reason: &str) -> Result<String, Refusal> {
    allow(state, OrderAction::Reopen)?;
    text("reason", reason, "say what is still missing")
}

/// The recipient appeals once, within `appeal_days` of the order's issue (the last day included).
pub fn plan_appeal(
    state: &OrderState,
    grounds: &str,
    appeal_days: u32,
    today: NaiveDate,
) -> Result<String, Refusal> {
    allow(state, OrderAction::Appeal)?;
    let last_day = state.issued_on + Duration::days(i64::from(appeal_days));
    if today > last_day {
        return Err(Refusal::conflict(
            ProblemCode::AppealTooLate,
            format!(
                "an order is appealed within {appeal_days} days of its issue: the last day for this one was \
                 {last_day}"
            ),
        ));
    }
    text("grounds", grounds, "say why the order should not stand")
}

/// The CIO office decides an appeal with its reason: the status the order returns to.
pub fn plan_decide_appeal(
    state: &OrderState,
    outcome: AppealOutcome,
    reason: &str,
) -> Result<(OrderStatus, String), Refusal> {
    allow(state, OrderAction::DecideAppeal)?;
    let reason = text("reason", reason, "say why the appeal is decided so")?;
    let status = match outcome {
        AppealOutcome::Granted => OrderStatus::Withdrawn,
        // Upholding restores the status the appeal interrupted; never a guess when it was not recorded.
        AppealOutcome::Upheld => state.status_before_appeal.ok_or_else(|| {
            Refusal::conflict(
                ProblemCode::OrderStatusBeforeAppealUnknown,
                "the order's status before the appeal is not recorded, so upholding cannot restore it",
            )
        })?,
    };
    Ok((status, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text_forms::tests::pinned;

    #[test]
    fn actions_are_named_as_clients_are_told_them() {
        pinned::<OrderAction>(&[
            "acknowledge",
            "report_completion",
            "verify",
            "reopen",
            "appeal",
            "decide_appeal",
        ]);
    }

    const VENDOR: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);
    const INCIDENT: Uuid = Uuid::from_u128(5);
    const FINDING: Uuid = Uuid::from_u128(7);

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn order() -> NewOrder {
        NewOrder {
            recipient: OrderRecipient::Vendor(VENDOR),
            incident_id: Some(INCIDENT),
            finding_ids: vec![FINDING],
            actions: vec![" Rotate keys ".into()],
            due_date: d("2027-02-01"),
        }
    }

    fn refs() -> References {
        References {
            recipient_registered: true,
            incident: Some(Some(VENDOR)),
            finding_vendors: [(FINDING, VENDOR)].into(),
        }
    }

    fn state(status: OrderStatus) -> OrderState {
        OrderState {
            status,
            status_before_appeal: None,
            issued_on: d("2027-01-01"),
            appealed: false,
        }
    }

    fn fields(refusal: Refusal) -> Vec<String> {
        match refusal {
            Refusal::Invalid(faults) => faults.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation refusal, got {other:?}"),
        }
    }

    #[test]
    fn an_order_names_its_actions_a_due_date_and_what_it_rests_on_for_that_vendor() {
        let today = d("2027-01-10");
        let planned = plan_issue(order(), &refs(), today).unwrap();
        assert_eq!(planned.actions, ["Rotate keys"]);
        let foreign = References {
            incident: Some(Some(OTHER)),
            finding_vendors: [(FINDING, OTHER)].into(),
            ..refs()
        };
        let refused = plan_issue(order(), &foreign, today).unwrap_err();
        assert_eq!(fields(refused), ["incident_id", "finding_ids[0]"]);
        let bare = NewOrder {
            incident_id: None,
            finding_ids: Vec::new(),
            actions: vec![" ".into()],
            due_date: d("2027-01-09"),
            ..order()
        };
        let refused = plan_issue(bare, &refs(), today).unwrap_err();
        assert_eq!(fields(refused), ["actions[0]", "due_date", "incident_id"]);
        // A department's order may rest on any incident.
        let department = NewOrder {
            recipient: OrderRecipient::Department("ISD".into()),
            finding_ids: Vec::new(),
            ..order()
        };
        assert!(plan_issue(department, &foreign, today).is_ok());
    }

    #[test]
    fn an_order_runs_from_issue_to_verification_and_may_be_reopened() {
        assert_eq!(
            plan_acknowledge(&state(OrderStatus::Issued)),
            Ok(OrderStatus::Acknowledged)
        );
        let early = plan_completion(&state(OrderStatus::Issued), "done", "report").unwrap_err();
        assert_eq!(early.code(), "order_state");
        assert!(plan_completion(&state(OrderStatus::Acknowledged), "done", "SOC 2 letter").is_ok());
        let blank = plan_completion(&state(OrderStatus::Reopened), " ", "").unwrap_err();
        assert_eq!(fields(blank), ["note", "evidence"]);
        assert_eq!(
            plan_verify(&state(OrderStatus::CompletionReported)),
            Ok(OrderStatus::Verified)
        );
        assert_eq!(
            plan_reopen(&state(OrderStatus::CompletionReported), " MFA missing "),
            Ok("MFA missing".into())
        );
        let closed = plan_acknowledge(&state(OrderStatus::Verified)).unwrap_err();
        assert_eq!(closed.code(), "order_closed");
    }

    #[test]
    fn an_order_is_appealed_once_within_its_days_and_the_decision_restores_or_withdraws_it() {
        let acknowledged = state(OrderStatus::Acknowledged);
        // Issued 2027-01-01 with 14 days: the 15th is the last day.
        assert_eq!(
            plan_appeal(&acknowledged, " too short ", 14, d("2027-01-15")),
            Ok("too short".into())
        );
        let late = plan_appeal(&acknowledged, "x", 14, d("2027-01-16")).unwrap_err();
        assert_eq!(late.code(), "appeal_too_late");
        assert!(late.to_string().contains("2027-01-15"));
        let twice = OrderState {
            appealed: true,
            ..acknowledged.clone()
        };
        assert_eq!(
            plan_appeal(&twice, "again", 14, d("2027-01-02"))
                .unwrap_err()
                .code(),
            "appeal_used"
        );
        let appealed = OrderState {
            status: OrderStatus::Appealed,
            status_before_appeal: Some(OrderStatus::Acknowledged),
            appealed: true,
            ..acknowledged
        };
        assert_eq!(
            plan_decide_appeal(&appealed, AppealOutcome::Upheld, "stands"),
            Ok((OrderStatus::Acknowledged, "stands".into()))
        );
        assert_eq!(
            plan_decide_appeal(&appealed, AppealOutcome::Granted, "fixed already")
                .unwrap()
                .0,
            OrderStatus::Withdrawn
        );
        assert_eq!(
            fields(plan_decide_appeal(&appealed, AppealOutcome::Granted, "").unwrap_err()),
            ["reason"]
        );
        let unrecorded = OrderState {
            status_before_appeal: None,
            ..appealed
        };
        assert_eq!(
            plan_decide_appeal(&unrecorded, AppealOutcome::Upheld, "stands")
                .unwrap_err()
                .code(),
            "order_status_before_appeal_unknown",
            "upholding never guesses the status to go back to"
        );
        assert_eq!(
            plan_decide_appeal(&state(OrderStatus::Issued), AppealOutcome::Upheld, "x")
                .unwrap_err()
                .code(),
            "order_state"
        );
    }
}
