//! Contracts: what a contract may name (its vendor, the requests it carries out), and which changes its state
//! allows on a given day. A contract is replaced while it is open; cancelled only before it starts;
//! decommissioned only once it has started, on a day that has come. Cancelled and decommissioned contracts no
//! longer change.

use crate::domain::problems::ProblemCode;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use strum::{IntoStaticStr, VariantArray};
use uuid::Uuid;

use super::{Fault, Refusal};
use crate::domain::contracts::{
    Cancellation, ContractDays, ContractFields, ContractStatus, Decommission,
};

/// A recorded contract as the planner sees it: its vendor and the days that decide its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractState {
    pub vendor_id: Uuid,
    pub days: ContractDays,
}

/// What the store found of the objects a contract's fields name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Whether `vendor_id` names a registered vendor.
    pub vendor_registered: bool,
    /// The vendor of each linked request that exists; a request missing here does not exist.
    pub request_vendors: BTreeMap<Uuid, Uuid>,
}

/// A change of a recorded contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum ContractAction {
    Replace,
    Decommission,
    Cancel,
}

impl ContractAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The changes a contract in `status` allows.
pub fn allowed_actions(status: ContractStatus) -> Vec<ContractAction> {
    use ContractAction::*;
    match status {
        ContractStatus::Pending => vec![Replace, Cancel],
        ContractStatus::Active | ContractStatus::Expiring | ContractStatus::Ended => {
            vec![Replace, Decommission]
        }
        ContractStatus::Decommissioned | ContractStatus::Cancelled => Vec::new(),
    }
}

/// Refuses `action` unless the contract's status on `today` allows it, naming the status.
fn allow(state: &ContractState, action: ContractAction, today: NaiveDate) -> Result<(), Refusal> {
    let status = state.days.status(today);
    let allowed = allowed_actions(status);
    if allowed.contains(&action) {
        return Ok(());
    }
    let start = state.days.start;
    let refusal = match status {
        ContractStatus::Decommissioned => Refusal::conflict(
            ProblemCode::ContractDecommissioned,
            "the contract is decommissioned; it no longer changes",
        ),
        ContractStatus::Cancelled => Refusal::conflict(
            ProblemCode::ContractCancelled,
            "the contract is cancelled; it no longer changes",
        ),
        ContractStatus::Pending => Refusal::conflict(
            ProblemCode::ContractNotStarted,
            format!(
                "the contract is pending: it starts on {start}; a contract that never started is cancelled, \
                 not decommissioned"
            ),
        ),
        ContractStatus::Active | ContractStatus::Expiring | ContractStatus::Ended => {
            Refusal::conflict(
                ProblemCode::ContractStarted,
                format!(
                    "the contract is {}: it started on {start}; only a pending contract is cancelled, a started \
                     one is decommissioned",
                    status.as_str()
                ),
            )
        }
    };
    Err(refusal.with_allowed(allowed.iter().map(|a| a.as_str().to_string()).collect()))
}

fn fault(field: impl Into<String>, message: impl Into<String>) -> Fault {
    Fault {
        field: field.into(),
        message: message.into(),
    }
}

fn refuse_faults<T>(value: T, faults: Vec<Fault>) -> Result<T, Refusal> {
    if faults.is_empty() {
        Ok(value)
    } else {
        Err(Refusal::Invalid(faults))
    }
}

/// Each linked request must exist and be with the contract's vendor.
fn request_faults(fields: &ContractFields, refs: &References) -> Vec<Fault> {
    fields
        .request_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| match refs.request_vendors.get(id) {
            None => Some(fault(format!("request_ids[{i}]"), "no request has this id")),
            Some(vendor) if *vendor != fields.vendor_id => Some(fault(
                format!("request_ids[{i}]"),
                "the request is with another vendor",
            )),
            Some(_) => None,
        })
        .collect()
}

/// Records a contract: its vendor must be registered and its requests must be with that vendor.
pub fn plan_create(fields: ContractFields, refs: &References) -> Result<ContractFields, Refusal> {
    let faults = if refs.vendor_registered {
        request_faults(&fields, refs)
    } else {
        vec![fault("vendor_id", "no vendor is registered with this id")]
    };
    refuse_faults(fields, faults)
}

/// Replaces an open contract's facts; the vendor stays the same.
pub fn plan_replace(
    current: &ContractState,
    fields: ContractFields,
    refs: &References,
    today: NaiveDate,
) -> Result<ContractFields, Refusal> {
    allow(current, ContractAction::Replace, today)?;
    let faults = if fields.vendor_id != current.vendor_id {
        vec![fault(
            "vendor_id",
            "a contract stays with the vendor it was made with",
        )]
    } else {
        request_faults(&fields, refs)
    };
    refuse_faults(fields, faults)
}

/// Decommissions a started contract on a day between its start and today, with the certificate named.
pub fn plan_decommission(
    current: &ContractState,
    decommission: Decommission,
    today: NaiveDate,
) -> Result<Decommission, Refusal> {
    allow(current, ContractAction::Decommission, today)?;
    let mut faults = Vec::new();
    let on = decommission.decommissioned_on;
    if on < current.days.start {
        faults.push(fault(
            "decommissioned_on",
            format!(
                "must not be before the contract's start date ({})",
                current.days.start
            ),
        ));
    } else if on > today {
        faults.push(fault(
            "decommissioned_on",
            format!(
                "must not be in the future (today is {today}): record the decommission once it has happened"
            ),
        ));
    }
    for (field, value) in [
        ("certificate_reference", &decommission.certificate_reference),
        ("certified_by", &decommission.certified_by),
    ] {
        if value.trim().is_empty() {
            faults.push(fault(field, "must not be blank"));
        }
    }
    let decommission = Decommission {
        certificate_reference: decommission.certificate_reference.trim().to_string(),
        certified_by: decommission.certified_by.trim().to_string(),
        note: decommission
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        ..decommission
    };
    refuse_faults(decommission, faults)
}

/// The longest cancellation reason kept.
pub const MAX_REASON_CHARS: usize = 2000;

/// Cancels a contract that has not started, with the reason.
pub fn plan_cancel(
    current: &ContractState,
    cancellation: Cancellation,
    today: NaiveDate,
) -> Result<Cancellation, Refusal> {
    allow(current, ContractAction::Cancel, today)?;
    let reason = cancellation.reason.trim().to_string();
    let faults = if reason.is_empty() {
        vec![fault(
            "reason",
            "must not be blank: say why the contract is cancelled",
        )]
    } else if reason.chars().count() > MAX_REASON_CHARS {
        vec![fault(
            "reason",
            format!("must be at most {MAX_REASON_CHARS} characters"),
        )]
    } else {
        Vec::new()
    };
    refuse_faults(Cancellation { reason }, faults)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contracts::Closed;
    use crate::domain::text_forms::tests::pinned;

    #[test]
    fn actions_are_named_as_clients_are_told_them() {
        pinned::<ContractAction>(&["replace", "decommission", "cancel"]);
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const VENDOR: Uuid = Uuid::from_u128(1);
    const OTHER_VENDOR: Uuid = Uuid::from_u128(2);
    const REQUEST: Uuid = Uuid::from_u128(10);
    const FOREIGN_REQUEST: Uuid = Uuid::from_u128(11);

    /// Starts 2027-01-15, ends 2027-12-31, notice from 2027-10-02.
    fn state(closed: Option<Closed>) -> ContractState {
        ContractState {
            vendor_id: VENDOR,
            days: ContractDays {
                start: d("2027-01-15"),
                end: d("2027-12-31"),
                notice_starts_on: d("2027-10-02"),
                closed,
            },
        }
    }

    fn fields(vendor: Uuid, requests: Vec<Uuid>) -> ContractFields {
        ContractFields {
            vendor_id: vendor,
            contract_number: "C-1".into(),
            title: "Case management".into(),
            start_date: d("2027-01-15"),
            end_date: d("2027-12-31"),
            value_cents: 100,
            renewal_notice_days: 90,
            request_ids: requests,
            safeguard_clauses: Vec::new(),
        }
    }

    fn refs() -> References {
        References {
            vendor_registered: true,
            request_vendors: [(REQUEST, VENDOR), (FOREIGN_REQUEST, OTHER_VENDOR)].into(),
        }
    }

    fn decommission(on: &str) -> Decommission {
        Decommission {
            decommissioned_on: d(on),
            data_disposition: crate::domain::contracts::DataDisposition::Destroyed,
            certificate_reference: " DEST-1 ".into(),
            certified_by: "Pat Lee".into(),
            note: Some("  ".into()),
        }
    }

    fn cancellation(reason: &str) -> Cancellation {
        Cancellation {
            reason: reason.into(),
        }
    }

    fn fields_of(refusal: Refusal) -> Vec<String> {
        match refusal {
            Refusal::Invalid(faults) => faults.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation refusal, got {other:?}"),
        }
    }

    fn conflict_of(refusal: Refusal) -> (ProblemCode, String, Vec<String>) {
        match refusal {
            Refusal::Conflict {
                code,
                detail,
                allowed,
            } => (code, detail, allowed),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn a_new_contract_names_a_registered_vendor_and_requests_with_that_vendor() {
        assert!(plan_create(fields(VENDOR, vec![REQUEST]), &refs()).is_ok());
        let unknown_vendor = References {
            vendor_registered: false,
            ..refs()
        };
        let refused = plan_create(fields(VENDOR, vec![]), &unknown_vendor).unwrap_err();
        assert_eq!(fields_of(refused), ["vendor_id"]);
        let refused = plan_create(
            fields(VENDOR, vec![REQUEST, FOREIGN_REQUEST, Uuid::from_u128(99)]),
            &refs(),
        )
        .unwrap_err();
        assert_eq!(fields_of(refused), ["request_ids[1]", "request_ids[2]"]);
    }

    #[test]
    fn a_contract_keeps_its_vendor_and_its_requests_stay_with_it() {
        let today = d("2027-03-01");
        let open = state(None);
        assert!(plan_replace(&open, fields(VENDOR, vec![REQUEST]), &refs(), today).is_ok());
        let moved = plan_replace(&open, fields(OTHER_VENDOR, vec![]), &refs(), today).unwrap_err();
        assert_eq!(fields_of(moved), ["vendor_id"]);
        let foreign =
            plan_replace(&open, fields(VENDOR, vec![FOREIGN_REQUEST]), &refs(), today).unwrap_err();
        assert_eq!(fields_of(foreign), ["request_ids[0]"]);
    }

    #[test]
    fn a_closed_contract_is_not_replaced_and_the_refusal_names_its_state() {
        let today = d("2027-03-01");
        for (closed, code) in [
            (Closed::Decommissioned, "contract_decommissioned"),
            (Closed::Cancelled, "contract_cancelled"),
        ] {
            let refused =
                plan_replace(&state(Some(closed)), fields(VENDOR, vec![]), &refs(), today)
                    .unwrap_err();
            let (got, _, allowed) = conflict_of(refused);
            assert_eq!(got, code);
            assert!(allowed.is_empty(), "nothing is left to do with it");
        }
    }

    #[test]
    fn a_contract_is_cancelled_only_before_it_starts_and_with_a_reason() {
        let open = state(None);
        let cancelled = plan_cancel(&open, cancellation("  Funding withdrawn "), d("2027-01-14"));
        assert_eq!(cancelled.unwrap(), cancellation("Funding withdrawn"));
        let blank = plan_cancel(&open, cancellation("  "), d("2027-01-14")).unwrap_err();
        assert_eq!(fields_of(blank), ["reason"]);
        let long =
            plan_cancel(&open, cancellation(&"x".repeat(2001)), d("2027-01-14")).unwrap_err();
        assert_eq!(fields_of(long), ["reason"]);

        for (today, status) in [
            ("2027-01-15", "active"),
            ("2027-11-01", "expiring"),
            ("2028-01-01", "ended"),
        ] {
            let refused = plan_cancel(&open, cancellation("late"), d(today)).unwrap_err();
            let (code, detail, allowed) = conflict_of(refused);
            assert_eq!(code, "contract_started");
            assert!(
                detail.contains(status) && detail.contains("2027-01-15"),
                "{detail}"
            );
            assert_eq!(allowed, ["replace", "decommission"]);
        }
        let again = plan_cancel(
            &state(Some(Closed::Cancelled)),
            cancellation("x"),
            d("2027-01-01"),
        );
        assert_eq!(conflict_of(again.unwrap_err()).0, "contract_cancelled");
        let gone = plan_cancel(
            &state(Some(Closed::Decommissioned)),
            cancellation("x"),
            d("2027-01-01"),
        );
        assert_eq!(conflict_of(gone.unwrap_err()).0, "contract_decommissioned");
    }

    #[test]
    fn a_contract_is_decommissioned_once_started_on_a_day_that_has_come() {
        let open = state(None);
        let today = d("2027-06-01");
        let done = plan_decommission(&open, decommission("2027-06-01"), today).unwrap();
        assert_eq!(done.certificate_reference, "DEST-1", "trimmed");
        assert_eq!(done.note, None, "a blank note is no note");

        let future = plan_decommission(&open, decommission("2027-06-02"), today).unwrap_err();
        assert_eq!(fields_of(future), ["decommissioned_on"]);
        let early = plan_decommission(&open, decommission("2027-01-14"), today).unwrap_err();
        assert_eq!(fields_of(early), ["decommissioned_on"]);
        let unsigned = Decommission {
            certified_by: " ".into(),
            certificate_reference: String::new(),
            ..decommission("2027-06-09")
        };
        let refused = plan_decommission(&open, unsigned, today).unwrap_err();
        assert_eq!(
            fields_of(refused),
            ["decommissioned_on", "certificate_reference", "certified_by"],
            "every fault at once"
        );

        let pending = plan_decommission(&open, decommission("2027-01-10"), d("2027-01-10"));
        let (code, detail, allowed) = conflict_of(pending.unwrap_err());
        assert_eq!(code, "contract_not_started");
        assert!(detail.contains("pending"), "{detail}");
        assert_eq!(allowed, ["replace", "cancel"]);
        let twice = plan_decommission(
            &state(Some(Closed::Decommissioned)),
            decommission("2027-06-01"),
            today,
        );
        assert_eq!(conflict_of(twice.unwrap_err()).0, "contract_decommissioned");
        let cancelled = plan_decommission(
            &state(Some(Closed::Cancelled)),
            decommission("2027-06-01"),
            today,
        );
        assert_eq!(conflict_of(cancelled.unwrap_err()).0, "contract_cancelled");
    }
}
