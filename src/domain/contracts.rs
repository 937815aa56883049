//! After the review: a request's contract safeguards checklist, contracts and their status, and who hears of
//! which reminder.
//!
//! The route decides which clauses block approval: the clauses its `contract_safeguards` step names and the items
//! its `evidence` step names (the CJIS addendum, the HIPAA BAA and the PCI attestation are clauses of the library
//! too). The library adds the clauses it recommends for the request's data classes; those are shown but never
//! block.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::NaiveDate;
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::deadlines::Reminder;
use super::policy::{DataClass, Route, StepKindTag};
use super::safeguards::{Clause, ClauseLibrary, ClauseStatus, applicable};
use crate::domain::invalid::{FieldError, Invalid};

/// The clause library, read once.
pub static LIBRARY: LazyLock<ClauseLibrary> = LazyLock::new(ClauseLibrary::embedded);

/// One line of a request's checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistEntry {
    pub clause_id: String,
    /// The route step this clause holds up (`contract_safeguards` or `evidence`), or `None` for a clause the
    /// library only recommends.
    pub step: Option<StepKindTag>,
    /// The library's clause; `None` when the policy names a clause the library does not know.
    pub clause: Option<Clause>,
}

/// The checklist of a routed request: the clauses its safeguards and evidence steps name, then the library's other
/// clauses for its data classes. Empty when the route has neither step.
pub fn checklist(
    library: &ClauseLibrary,
    route: &Route,
    data_classes: &BTreeSet<DataClass>,
) -> Vec<ChecklistEntry> {
    let mut entries: Vec<ChecklistEntry> = Vec::new();
    for (kind, ids) in [
        (
            StepKindTag::ContractSafeguards,
            route
                .step(StepKindTag::ContractSafeguards)
                .map(|s| &s.clauses),
        ),
        (
            StepKindTag::Evidence,
            route.step(StepKindTag::Evidence).map(|s| &s.items),
        ),
    ] {
        for id in ids.into_iter().flatten() {
            if !entries.iter().any(|e| &e.clause_id == id) {
                entries.push(ChecklistEntry {
                    clause_id: id.clone(),
                    step: Some(kind),
                    clause: library.get(id).cloned(),
                });
            }
        }
    }
    if entries.is_empty() {
        return entries;
    }
    for clause in applicable(library, data_classes) {
        if !entries.iter().any(|e| e.clause_id == clause.id) {
            entries.push(ChecklistEntry {
                clause_id: clause.id.clone(),
                step: None,
                clause: Some(clause.clone()),
            });
        }
    }
    entries
}

/// The clauses of `step` that are neither present nor waived, in checklist order.
pub fn unsettled(
    entries: &[ChecklistEntry],
    step: StepKindTag,
    statuses: &BTreeMap<String, ClauseStatus>,
) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.step == Some(step))
        .filter(|e| {
            !statuses
                .get(&e.clause_id)
                .is_some_and(ClauseStatus::is_settled)
        })
        .map(|e| e.clause_id.clone())
        .collect()
}

/// Where a contract stands on `today`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, poem_openapi::Enum,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum ContractStatus {
    /// Signed, but its start date is still ahead: it can be cancelled.
    Pending,
    Active,
    /// Inside its renewal notice period: renew, renegotiate or give notice.
    Expiring,
    /// Past its end date, data not yet certified returned or destroyed.
    Ended,
    /// Decommissioned, with the data return or destruction certificate recorded.
    Decommissioned,
    /// Cancelled before it started, with the reason.
    Cancelled,
}

/// How a contract was closed for good, if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Decommissioned,
    Cancelled,
}

/// The days that decide a contract's status, and how it was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractDays {
    pub start: NaiveDate,
    /// The contract's last day.
    pub end: NaiveDate,
    /// The first day of the renewal notice period.
    pub notice_starts_on: NaiveDate,
    pub closed: Option<Closed>,
}

impl ContractDays {
    /// The contract's status on `today`. A closed contract stays closed; an open one is pending until its start
    /// date, then active, expiring inside its notice period, and ended after its last day.
    pub fn status(&self, today: NaiveDate) -> ContractStatus {
        match self.closed {
            Some(Closed::Cancelled) => ContractStatus::Cancelled,
            Some(Closed::Decommissioned) => ContractStatus::Decommissioned,
            None if today < self.start => ContractStatus::Pending,
            None if today > self.end => ContractStatus::Ended,
            None if today >= self.notice_starts_on => ContractStatus::Expiring,
            None => ContractStatus::Active,
        }
    }
}

impl ContractStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A contract's facts, checked.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContractFields {
    pub vendor_id: uuid::Uuid,
    pub contract_number: String,
    pub title: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub value_cents: i64,
    pub renewal_notice_days: i32,
    pub request_ids: Vec<uuid::Uuid>,
    pub safeguard_clauses: Vec<String>,
}

impl ContractFields {
    /// Checks the fields together; every fault is named.
    pub fn check(self, library: &ClauseLibrary) -> Result<ContractFields, Invalid> {
        let mut errors = Vec::new();
        if self.contract_number.trim().is_empty() {
            errors.push(FieldError::new("contract_number", "must not be blank"));
        }
        if self.title.trim().is_empty() {
            errors.push(FieldError::new("title", "must not be blank"));
        }
        if self.end_date < self.start_date {
            errors.push(FieldError::new("end_date", "must not be before start_date"));
        }
        if self.value_cents < 0 {
            errors.push(FieldError::new("value_cents", "must not be negative"));
        }
        if !(0..=3650).contains(&self.renewal_notice_days) {
            errors.push(FieldError::new(
                "renewal_notice_days",
                "must be from 0 to 3650",
            ));
        }
        for (i, id) in self.safeguard_clauses.iter().enumerate() {
            if library.get(id).is_none() {
                errors.push(FieldError::new(
                    format!("safeguard_clauses[{i}]"),
                    format!("{id:?} is not a clause of the library"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Invalid(errors));
        }
        let mut fields = self;
        fields.contract_number = fields.contract_number.trim().to_string();
        fields.title = fields.title.trim().to_string();
        fields.request_ids.sort();
        fields.request_ids.dedup();
        fields.safeguard_clauses.sort();
        fields.safeguard_clauses.dedup();
        Ok(fields)
    }

    /// The first day of the renewal notice period.
    pub fn notice_starts_on(&self) -> NaiveDate {
        self.end_date - chrono::Duration::days(i64::from(self.renewal_notice_days))
    }
}

/// What became of the city's data when a contract was decommissioned.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, poem_openapi::Enum,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum DataDisposition {
    /// The data was returned to the city.
    Returned,
    /// The data was destroyed [c.93I §2].
    Destroyed,
}

impl DataDisposition {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The end of a contract's life: the data returned or destroyed, and the certificate that says so.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decommission {
    pub decommissioned_on: NaiveDate,
    pub data_disposition: DataDisposition,
    pub certificate_reference: String,
    pub certified_by: String,
    pub note: Option<String>,
}

/// A contract called off before it started.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cancellation {
    pub reason: String,
}

/// Who hears of a reminder: a role, narrowed to one vendor where the vendor must act, or to one department's
/// buyers where the reminder concerns their purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub role: crate::domain::roles::Role,
    pub vendor: Option<uuid::Uuid>,
    pub department: Option<String>,
    /// A copy to a second role (an escalation's analysts, an overdue order's recipient).
    pub copy: bool,
}

impl Recipient {
    /// The reminder's dedup key for this recipient: the first recipient keeps the reminder's own key, a buyer
    /// copy adds its department and a copy to another role adds the role, so each recipient hears of each
    /// threshold once.
    pub fn dedup_key(&self, reminder_key: &str) -> String {
        match (&self.department, self.copy) {
            (Some(department), _) => format!("{reminder_key}:buyer:{department}"),
            (None, true) => format!("{reminder_key}:copy:{}", self.role.as_str()),
            (None, false) => reminder_key.to_string(),
        }
    }
}

/// The vendor acts on its questionnaires and remediation plans; the analysts watch the annual re-assessment;
/// the CIO office owns renewals, late decisions and risk acceptances (which only it grants), whose ending the
/// vendor of the finding also hears of. The buyers of the departments
/// concerned (`departments`: the request's, or those of a contract's requests) also hear when their purchase is
/// held up (a questionnaire overdue, a decision waiting too long) and when their contract nears its notice
/// period.
pub fn recipients_of(
    reminder: &Reminder,
    vendor: Option<uuid::Uuid>,
    departments: &[String],
) -> Vec<Recipient> {
    use crate::domain::roles::Role;
    let role = match reminder {
        Reminder::QuestionnaireDue { .. }
        | Reminder::QuestionnaireOverdue { .. }
        | Reminder::RemediationDue { .. }
        | Reminder::RemediationOverdue { .. } => Role::Vendor,
        // Only the CIO office accepts or renews a risk; the vendor whose finding it is hears too (below).
        Reminder::RiskAcceptanceExpiring { .. } | Reminder::RiskAcceptanceExpired { .. } => {
            Role::Cio
        }
        Reminder::ReassessmentDue { .. } | Reminder::ReassessmentOverdue { .. } => {
            Role::SecurityAnalyst
        }
        Reminder::ContractEnding { .. } | Reminder::DecisionEscalation { .. } => Role::Cio,
        Reminder::IncidentNoticeDue { .. } => Role::SecurityAnalyst,
        Reminder::IncidentNoticeOverdue { .. }
        | Reminder::VendorNoticeLate { .. }
        | Reminder::OrderOverdue { .. } => Role::Cio,
        Reminder::OrderDue { .. } => Role::Vendor,
    };
    let mut out = Vec::new();
    let mut add = |role: Role| {
        // A reminder for a vendor reaches a vendor only: a department's order has none.
        if role != Role::Vendor || vendor.is_some() {
            let copy = !out.is_empty();
            out.push(Recipient {
                role,
                vendor: if role == Role::Vendor { vendor } else { None },
                department: None,
                copy,
            });
        }
    };
    add(role);
    match reminder {
        // An escalation goes up, and the analysts handling the incident keep hearing of it.
        Reminder::IncidentNoticeOverdue { .. } => add(Role::SecurityAnalyst),
        // The recipient of an overdue order hears too.
        Reminder::OrderOverdue { .. } => add(Role::Vendor),
        // The finding is the vendor's: its risk acceptance ending reopens work for it.
        Reminder::RiskAcceptanceExpiring { .. } | Reminder::RiskAcceptanceExpired { .. } => {
            add(Role::Vendor)
        }
        _ => {}
    }
    let buyers_hear = matches!(
        reminder,
        Reminder::QuestionnaireOverdue { .. }
            | Reminder::DecisionEscalation { .. }
            | Reminder::ContractEnding { .. }
            | Reminder::OrderDue { .. }
            | Reminder::OrderOverdue { .. }
    );
    if buyers_hear {
        let mut seen = BTreeSet::new();
        for department in departments.iter().filter(|d| seen.insert(d.as_str())) {
            out.push(Recipient {
                role: Role::Buyer,
                vendor: None,
                department: Some(department.clone()),
                copy: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::{Policy, RequestFacts, evaluate};

    fn route_for(classes: &[DataClass]) -> (Route, BTreeSet<DataClass>) {
        let classes: BTreeSet<DataClass> = classes.iter().copied().collect();
        let facts = RequestFacts {
            department_code: "DOIT".into(),
            department_ordinance_covered: false,
            vendor_id: "v".into(),
            capital_cents: 0,
            annual_operating_cents: 1_000_000,
            term_months: 12,
            users: 10,
            renewal: false,
            enterprise_agreement: false,
            material_change: false,
            hosting: crate::domain::policy::Hosting::VendorCloud,
            data_classes: classes.clone(),
            surveillance: false,
            face_surveillance: false,
            start_date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            capabilities: Vec::new(),
            vendor_fy_other_cents: 0,
            vendor_fy_other_count: 0,
            likely_duplicate_of: None,
            vendor_open_orders: None,
            budget: Default::default(),
        };
        (evaluate(&Policy::default_policy(), &facts), classes)
    }

    fn blocking(entries: &[ChecklistEntry], step: StepKindTag) -> Vec<&str> {
        entries
            .iter()
            .filter(|e| e.step == Some(step))
            .map(|e| e.clause_id.as_str())
            .collect()
    }

    #[test]
    fn massachusetts_personal_information_blocks_on_the_six_service_provider_clauses() {
        let (route, classes) = route_for(&[DataClass::PiMa]);
        let entries = checklist(&LIBRARY, &route, &classes);
        let mut safeguards = blocking(&entries, StepKindTag::ContractSafeguards);
        safeguards.sort();
        assert_eq!(
            safeguards,
            [
                "audit-evidence",
                "breach-notice",
                "encryption",
                "ma-201-cmr-17-safeguards",
                "return-destroy-data",
                "subprocessor-flow-down"
            ]
        );
        assert!(blocking(&entries, StepKindTag::Evidence).is_empty());
        assert!(
            entries.iter().all(|e| e.clause.is_some()),
            "every clause the policy names is in the library"
        );
        assert!(
            entries.iter().any(|e| e.step.is_none()),
            "recommended clauses are listed too"
        );
    }

    #[test]
    fn cjis_health_and_cardholder_data_each_bring_their_evidence_clause() {
        let (route, classes) =
            route_for(&[DataClass::Cjis, DataClass::Health, DataClass::Cardholder]);
        let entries = checklist(&LIBRARY, &route, &classes);
        assert_eq!(
            blocking(&entries, StepKindTag::Evidence),
            ["cjis_security_addendum", "hipaa_baa", "pci_dss_aoc"]
        );
        assert!(blocking(&entries, StepKindTag::ContractSafeguards).is_empty());
    }

    #[test]
    fn public_data_has_no_checklist() {
        let (route, classes) = route_for(&[DataClass::Public]);
        assert!(checklist(&LIBRARY, &route, &classes).is_empty());
    }

    #[test]
    fn a_step_is_unsettled_until_each_of_its_clauses_is_present_or_waived() {
        let (route, classes) = route_for(&[DataClass::Health]);
        let entries = checklist(&LIBRARY, &route, &classes);
        let mut statuses = BTreeMap::new();
        assert_eq!(
            unsettled(&entries, StepKindTag::Evidence, &statuses),
            ["hipaa_baa"]
        );
        statuses.insert(
            "hipaa_baa".to_string(),
            ClauseStatus::Waived {
                justification: " ".into(),
                waived_by: "cio".into(),
                waived_at: chrono::Utc::now(),
            },
        );
        assert_eq!(
            unsettled(&entries, StepKindTag::Evidence, &statuses),
            ["hipaa_baa"],
            "a blank justification does not count"
        );
        statuses.insert(
            "hipaa_baa".to_string(),
            ClauseStatus::Present {
                document: "BAA 2026".into(),
                section: "§ 2".into(),
                attested_by: "ana".into(),
                attested_at: chrono::Utc::now(),
            },
        );
        assert!(unsettled(&entries, StepKindTag::Evidence, &statuses).is_empty());
    }

    #[test]
    fn contract_status_follows_the_start_the_notice_period_and_the_end_date() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let days = ContractDays {
            start: d(1, 15),
            end: d(6, 30),
            notice_starts_on: d(4, 1),
            closed: None,
        };
        let on = |today| days.status(today);
        assert_eq!(on(d(1, 14)), ContractStatus::Pending);
        assert_eq!(on(d(1, 15)), ContractStatus::Active);
        assert_eq!(on(d(3, 31)), ContractStatus::Active);
        assert_eq!(on(d(4, 1)), ContractStatus::Expiring);
        assert_eq!(on(d(6, 30)), ContractStatus::Expiring);
        assert_eq!(on(d(7, 1)), ContractStatus::Ended);
        let decommissioned = ContractDays {
            closed: Some(Closed::Decommissioned),
            ..days
        };
        assert_eq!(
            decommissioned.status(d(5, 1)),
            ContractStatus::Decommissioned
        );
        let cancelled = ContractDays {
            closed: Some(Closed::Cancelled),
            ..days
        };
        assert_eq!(cancelled.status(d(1, 1)), ContractStatus::Cancelled);
        assert_eq!(
            cancelled.status(d(5, 1)),
            ContractStatus::Cancelled,
            "a cancelled contract never becomes active"
        );
    }

    #[test]
    fn a_notice_period_that_begins_before_the_start_leaves_the_contract_pending_until_it_starts() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let days = ContractDays {
            start: d(3, 1),
            end: d(4, 30),
            notice_starts_on: d(1, 30),
            closed: None,
        };
        assert_eq!(days.status(d(2, 1)), ContractStatus::Pending);
        assert_eq!(days.status(d(3, 1)), ContractStatus::Expiring);
    }

    #[test]
    fn contract_fields_name_each_fault() {
        let fields = ContractFields {
            vendor_id: uuid::Uuid::nil(),
            contract_number: " ".into(),
            title: "Case management".into(),
            start_date: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            value_cents: 10,
            renewal_notice_days: 90,
            request_ids: Vec::new(),
            safeguard_clauses: vec!["breach-notice".into(), "no-such-clause".into()],
        };
        let err = fields.check(&LIBRARY).unwrap_err();
        let text = format!("{err:?}");
        assert!(
            text.contains("contract_number")
                && text.contains("end_date")
                && text.contains("safeguard_clauses[1]"),
            "{text}"
        );
    }

    #[test]
    fn buyers_hear_when_their_purchase_is_held_up_and_each_recipient_has_its_own_key() {
        use crate::domain::roles::Role;
        let vendor = uuid::Uuid::nil();
        let departments = vec!["DOIT".to_string(), "BPD".to_string(), "DOIT".to_string()];
        let overdue = Reminder::QuestionnaireOverdue {
            due: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            days_overdue: 1,
        };
        let to = recipients_of(&overdue, Some(vendor), &departments);
        let roles: Vec<(Role, Option<&str>)> = to
            .iter()
            .map(|r| (r.role, r.department.as_deref()))
            .collect();
        assert_eq!(
            roles,
            vec![
                (Role::Vendor, None),
                (Role::Buyer, Some("DOIT")),
                (Role::Buyer, Some("BPD"))
            ]
        );
        assert_eq!(to[0].vendor, Some(vendor));
        assert_eq!(to[1].vendor, None);
        let key = overdue.dedup_key("a1");
        let keys: BTreeSet<String> = to.iter().map(|r| r.dedup_key(&key)).collect();
        assert_eq!(keys.len(), 3);
        assert!(keys.contains(&key));

        // A reminder only the vendor must act on goes to the vendor alone.
        let due = Reminder::QuestionnaireDue {
            due: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            threshold_days: 7,
            days_left: 7,
        };
        assert_eq!(recipients_of(&due, Some(vendor), &departments).len(), 1);
    }

    #[test]
    fn a_risk_acceptance_ending_reaches_the_cio_office_and_the_vendor_not_the_analysts() {
        use crate::domain::roles::Role;
        let vendor = uuid::Uuid::from_u128(7);
        let expiry = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        for reminder in [
            Reminder::RiskAcceptanceExpiring {
                expiry,
                threshold_days: 30,
                days_left: 30,
            },
            Reminder::RiskAcceptanceExpired { expiry },
        ] {
            let to: Vec<(Role, Option<uuid::Uuid>)> = recipients_of(&reminder, Some(vendor), &[])
                .iter()
                .map(|r| (r.role, r.vendor))
                .collect();
            assert_eq!(to, vec![(Role::Cio, None), (Role::Vendor, Some(vendor))]);
        }
    }
}
