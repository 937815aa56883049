//! Incidents: who may report what, which step the lifecycle allows next, and when evidence may go.
//!
//! reported → triaged → contained → notices_sent → post_incident_review → closed, or closed_not_breach (with
//! the reason) before notices go out. A breach is closed only after its post-incident review
//! [201 CMR 17.03(2)(j)]. Evidence is never replaced: each upload is kept beside the others, and none is deleted
//! while the incident is open or a hold stands.

use crate::domain::problems::ProblemCode;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use strum::{IntoStaticStr, VariantArray};
use uuid::Uuid;

use super::{Fault, Refusal};
use crate::domain::incidents::{IncidentStatus, NoticeRecipient};
use crate::domain::questionnaires::Severity;
use crate::domain::roles::Role;

/// An incident as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentState {
    pub status: IncidentStatus,
    pub hold: bool,
    /// The notices its deadlines need.
    pub required: BTreeSet<NoticeRecipient>,
    /// The notices recorded so far.
    pub sent: BTreeSet<NoticeRecipient>,
}

impl IncidentState {
    fn missing_notices(&self) -> Vec<NoticeRecipient> {
        self.required.difference(&self.sent).copied().collect()
    }
}

/// A change of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum IncidentAction {
    Triage,
    Contain,
    RecordNotice,
    Review,
    Close,
    NotABreach,
    AttachEvidence,
}

impl IncidentAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The changes an incident in this state allows.
pub fn allowed_actions(state: &IncidentState) -> Vec<IncidentAction> {
    use IncidentAction::*;
    use IncidentStatus as S;
    match state.status {
        S::Reported => vec![Triage, NotABreach, AttachEvidence],
        S::Triaged => vec![Contain, RecordNotice, NotABreach, AttachEvidence],
        S::Contained if state.missing_notices().is_empty() => {
            vec![Review, NotABreach, AttachEvidence]
        }
        S::Contained => vec![RecordNotice, NotABreach, AttachEvidence],
        S::NoticesSent => vec![RecordNotice, Review, AttachEvidence],
        S::PostIncidentReview => vec![RecordNotice, Close, AttachEvidence],
        S::Closed | S::ClosedNotBreach => Vec::new(),
    }
}

fn allow(state: &IncidentState, action: IncidentAction) -> Result<(), Refusal> {
    let allowed = allowed_actions(state);
    if allowed.contains(&action) {
        return Ok(());
    }
    let names = allowed.iter().map(|a| a.as_str().to_string()).collect();
    let status = state.status.as_str();
    let refusal = match (state.status, action) {
        (IncidentStatus::Closed | IncidentStatus::ClosedNotBreach, _) => Refusal::conflict(
            ProblemCode::IncidentClosed,
            format!("the incident is {status}; it no longer changes"),
        ),
        (_, IncidentAction::Close) => Refusal::conflict(
            ProblemCode::ReviewRequired,
            format!(
                "the incident is {status}: a breach is closed only after its post-incident review \
                 [201 CMR 17.03(2)(j)]"
            ),
        ),
        (IncidentStatus::Contained, IncidentAction::Review) => {
            let missing: Vec<&str> = state.missing_notices().iter().map(|r| r.as_str()).collect();
            Refusal::conflict(
                ProblemCode::NoticesOutstanding,
                format!(
                    "notices still to record before the review: {}",
                    missing.join(", ")
                ),
            )
        }
        _ => Refusal::conflict(
            ProblemCode::IncidentState,
            format!(
                "the incident is {status}; {} is not possible now",
                action.as_str()
            ),
        ),
    };
    Err(refusal.with_allowed(names))
}

/// Who reports an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reporter {
    /// A vendor, about its own service.
    Vendor(Uuid),
    /// City staff (a call to 311, an analyst's discovery), acting in the role named.
    Staff(Role),
}

impl Reporter {
    /// The role the report is recorded with.
    pub fn role(&self) -> Role {
        match self {
            Reporter::Vendor(_) => Role::Vendor,
            Reporter::Staff(role) => *role,
        }
    }
}

/// An incident as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub vendor_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub systems: Vec<String>,
    pub data_classes: Vec<String>,
    pub contract_ids: Vec<Uuid>,
    pub request_ids: Vec<Uuid>,
    pub residents_ma: i64,
    pub residents_ct: i64,
    pub residents_other: i64,
    pub ssn_involved: bool,
    pub tin_involved: bool,
    pub discovered_at: DateTime<Utc>,
    /// When the city learned of it; for a vendor's report, the moment it reports.
    pub city_notified_at: DateTime<Utc>,
    pub steps_taken: Option<String>,
    pub responsible_person: Option<String>,
}

/// What the store found of the objects a report names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    pub vendor_registered: bool,
    /// The vendor of each named contract that exists.
    pub contract_vendors: BTreeMap<Uuid, Uuid>,
    /// The vendor of each named request that exists.
    pub request_vendors: BTreeMap<Uuid, Uuid>,
}

/// The most residents an incident may count in one state: more than any state holds, so a figure above it
/// is a typing error (and the sums of the notice packets stay within range).
pub const MAX_RESIDENTS: i64 = 1_000_000_000;

/// How far in the future a reported time may lie (clock skew between the reporter and the service).
const SKEW_MINUTES: i64 = 5;

/// Checks a report: a vendor reports about itself only; what it names exists and is with that vendor; the
/// city cannot learn of a breach before it was discovered, and neither lies in the future.
pub fn plan_report(
    mut new: NewIncident,
    reporter: &Reporter,
    refs: &References,
    now: DateTime<Utc>,
) -> Result<NewIncident, Refusal> {
    let mut faults = Vec::new();
    if let Reporter::Vendor(own) = reporter {
        match new.vendor_id {
            None => new.vendor_id = Some(*own),
            Some(named) if named != *own => faults.push(Fault::new(
                "vendor_id",
                "a vendor reports incidents of its own service only",
            )),
            Some(_) => {}
        }
    }
    if new.vendor_id.is_some() && !refs.vendor_registered {
        faults.push(Fault::new(
            "vendor_id",
            "no vendor is registered with this id",
        ));
    }
    new.title = new.title.trim().to_string();
    if new.title.is_empty() {
        faults.push(Fault::new("title", "must not be blank"));
    }
    if new.description.trim().is_empty() {
        faults.push(Fault::new(
            "description",
            "must not be blank: say what happened",
        ));
    }
    let linked =
        |field: &str, ids: &[Uuid], vendors: &BTreeMap<Uuid, Uuid>, faults: &mut Vec<Fault>| {
            for (i, id) in ids.iter().enumerate() {
                match vendors.get(id) {
                    None => faults.push(Fault::new(format!("{field}[{i}]"), "nothing has this id")),
                    Some(v) if Some(*v) != new.vendor_id => faults.push(Fault::new(
                        format!("{field}[{i}]"),
                        "it is with another vendor than the incident's",
                    )),
                    Some(_) => {}
                }
            }
        };
    linked(
        "contract_ids",
        &new.contract_ids,
        &refs.contract_vendors,
        &mut faults,
    );
    linked(
        "request_ids",
        &new.request_ids,
        &refs.request_vendors,
        &mut faults,
    );
    for (field, count) in [
        ("residents_ma", new.residents_ma),
        ("residents_ct", new.residents_ct),
        ("residents_other", new.residents_other),
    ] {
        if !(0..=MAX_RESIDENTS).contains(&count) {
            faults.push(Fault::new(
                field,
                "a count of people from 0 to 1,000,000,000",
            ));
        }
    }
    let latest = now + Duration::minutes(SKEW_MINUTES);
    if new.discovered_at > latest {
        faults.push(Fault::new("discovered_at", "must not be in the future"));
    }
    if new.city_notified_at > latest {
        faults.push(Fault::new("city_notified_at", "must not be in the future"));
    } else if new.city_notified_at < new.discovered_at {
        faults.push(Fault::new(
            "city_notified_at",
            "must not be before the breach was discovered",
        ));
    }
    if faults.is_empty() {
        Ok(new)
    } else {
        Err(Refusal::Invalid(faults))
    }
}

/// The status after a step of the lifecycle (triage, containment, the review, closing).
pub fn plan_step(state: &IncidentState, action: IncidentAction) -> Result<IncidentStatus, Refusal> {
    allow(state, action)?;
    Ok(match action {
        IncidentAction::Triage => IncidentStatus::Triaged,
        IncidentAction::Contain => IncidentStatus::Contained,
        IncidentAction::Review => IncidentStatus::PostIncidentReview,
        IncidentAction::Close => IncidentStatus::Closed,
        IncidentAction::NotABreach => IncidentStatus::ClosedNotBreach,
        IncidentAction::RecordNotice | IncidentAction::AttachEvidence => state.status,
    })
}

/// Closing as not a breach needs the reason.
pub fn plan_not_a_breach(state: &IncidentState, reason: &str) -> Result<String, Refusal> {
    allow(state, IncidentAction::NotABreach)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::field(
            "reason",
            "must not be blank: say why it was not a breach",
        ));
    }
    Ok(reason.to_string())
}

/// The post-incident review needs its findings [201 CMR 17.03(2)(j)].
pub fn plan_review(state: &IncidentState, findings: &str) -> Result<String, Refusal> {
    allow(state, IncidentAction::Review)?;
    let findings = findings.trim();
    if findings.is_empty() {
        return Err(Refusal::field(
            "findings",
            "must not be blank: the review documents what happened and what changes",
        ));
    }
    Ok(findings.to_string())
}

/// A finding the post-incident review raises against the vendor, into the findings lifecycle, as the analyst
/// sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFinding {
    pub title: String,
    /// `critical`, `moderate` or `low`, as the questionnaires' findings.
    pub severity: String,
    pub reason: String,
}

/// A [`ReviewFinding`], checked: what is raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedFinding {
    pub title: String,
    pub severity: Severity,
    pub reason: String,
}

/// The assessment a review raises findings on, as the store found it: its vendor and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewTarget {
    pub vendor_id: Uuid,
    pub status: crate::domain::assessments::AssessmentStatus,
}

/// Findings raised by a review go on an assessment of the incident's vendor that is not cancelled, so that they
/// follow the findings lifecycle (remediation by the vendor, resolution by an analyst, risk acceptance by the
/// CIO) and weigh in that vendor's security reviews. Each gets the question id `PIR-<incident>-<n>` and the
/// citation of the review.
pub fn plan_review_findings(
    incident_vendor: Option<Uuid>,
    target: Option<&ReviewTarget>,
    findings: &[ReviewFinding],
) -> Result<Vec<RaisedFinding>, Refusal> {
    if findings.is_empty() {
        return Ok(Vec::new());
    }
    let mut faults = Vec::new();
    match (incident_vendor, target) {
        (None, _) => faults.push(Fault::new(
            "vendor_findings",
            "the incident concerns no vendor: there is nobody to raise findings against",
        )),
        (Some(_), None) => faults.push(Fault::new(
            "assessment_id",
            "name an assessment of the vendor's to raise the findings on",
        )),
        (Some(vendor), Some(t)) if t.vendor_id != vendor => faults.push(Fault::new(
            "assessment_id",
            "the assessment is another vendor's",
        )),
        (Some(_), Some(t))
            if t.status == crate::domain::assessments::AssessmentStatus::Cancelled =>
        {
            faults.push(Fault::new("assessment_id", "the assessment is cancelled"))
        }
        _ => {}
    }
    let mut out = Vec::with_capacity(findings.len());
    for (i, f) in findings.iter().enumerate() {
        let title = f.title.trim();
        if title.is_empty() {
            faults.push(Fault::new(
                format!("vendor_findings[{i}].title"),
                "must not be blank",
            ));
        }
        let severity = f.severity.trim().parse::<Severity>();
        if severity.is_err() {
            faults.push(Fault::new(
                format!("vendor_findings[{i}].severity"),
                "must be one of critical, moderate, low",
            ));
        }
        if f.reason.trim().is_empty() {
            faults.push(Fault::new(
                format!("vendor_findings[{i}].reason"),
                "must not be blank",
            ));
        }
        if let Ok(severity) = severity {
            out.push(RaisedFinding {
                title: title.to_string(),
                severity,
                reason: f.reason.trim().to_string(),
            });
        }
    }
    if faults.is_empty() {
        Ok(out)
    } else {
        Err(Refusal::Invalid(faults))
    }
}

/// A review that starts the vendor's re-assessment names an accepted assessment of the incident's vendor: the
/// next cycle of its periodic review is opened at once [201 CMR 17.03(2)(i), (j)].
pub fn plan_reassessment(
    incident_vendor: Option<Uuid>,
    target: Option<&ReviewTarget>,
) -> Result<(), Refusal> {
    match (incident_vendor, target) {
        (None, _) => Err(Refusal::field(
            "start_reassessment",
            "the incident concerns no vendor: there is nobody to re-assess",
        )),
        (Some(_), None) => Err(Refusal::field(
            "assessment_id",
            "name the vendor's accepted assessment to re-assess",
        )),
        (Some(vendor), Some(t)) if t.vendor_id != vendor => Err(Refusal::field(
            "assessment_id",
            "the assessment is another vendor's",
        )),
        (Some(_), Some(t))
            if t.status != crate::domain::assessments::AssessmentStatus::Accepted =>
        {
            Err(Refusal::conflict(
                ProblemCode::AssessmentNotAccepted,
                format!(
                    "the assessment is {}: a re-assessment opens the next cycle of an accepted one",
                    t.status.as_str()
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// A notice recorded: to one its deadlines need, not in the future. Returns the status after it: a contained
/// incident whose every required notice is now recorded moves to `notices_sent`.
pub fn plan_notice(
    state: &IncidentState,
    recipient: NoticeRecipient,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<IncidentStatus, Refusal> {
    allow(state, IncidentAction::RecordNotice)?;
    if !state.required.contains(&recipient) {
        return Err(Refusal::field(
            "recipient",
            format!(
                "no deadline of this incident needs a notice to {}: record the residents affected first",
                recipient.as_str()
            ),
        ));
    }
    if sent_at > now + Duration::minutes(SKEW_MINUTES) {
        return Err(Refusal::field(
            "sent_at",
            "must not be in the future: record a notice once it has gone out",
        ));
    }
    let mut sent = state.sent.clone();
    sent.insert(recipient);
    let all_sent = state.required.is_subset(&sent);
    Ok(if state.status == IncidentStatus::Contained && all_sent {
        IncidentStatus::NoticesSent
    } else {
        state.status
    })
}

/// Evidence is attached while the incident is open.
pub fn plan_attach(state: &IncidentState) -> Result<(), Refusal> {
    allow(state, IncidentAction::AttachEvidence)
}

/// Evidence goes only once the incident is closed and no hold stands; until then it is preserved.
pub fn plan_delete_evidence(state: &IncidentState) -> Result<(), Refusal> {
    if state.status.is_open() {
        return Err(Refusal::conflict(
            ProblemCode::EvidencePreserved,
            format!(
                "the incident is {}: its evidence is preserved as uploaded until it is closed",
                state.status.as_str()
            ),
        ));
    }
    if state.hold {
        return Err(Refusal::conflict(
            ProblemCode::EvidenceOnHold,
            "a hold stands on the incident: its evidence is preserved until the hold is lifted",
        ));
    }
    Ok(())
}

/// A hold is set with its reason and lifted likewise.
pub fn plan_hold(hold: bool, reason: &str) -> Result<String, Refusal> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::field(
            "reason",
            if hold {
                "must not be blank: say why the evidence is held"
            } else {
                "must not be blank: say why the hold is lifted"
            },
        ));
    }
    Ok(reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text_forms::tests::pinned;

    #[test]
    fn actions_are_named_as_clients_are_told_them() {
        pinned::<IncidentAction>(&[
            "triage",
            "contain",
            "record_notice",
            "review",
            "close",
            "not_a_breach",
            "attach_evidence",
        ]);
    }

    const VENDOR: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);
    const CONTRACT: Uuid = Uuid::from_u128(10);
    const FOREIGN_REQUEST: Uuid = Uuid::from_u128(21);

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn report() -> NewIncident {
        NewIncident {
            vendor_id: None,
            title: " Exposed backup ".into(),
            description: "A storage bucket was public".into(),
            systems: vec!["backups".into()],
            data_classes: vec!["pi_ma".into()],
            contract_ids: vec![CONTRACT],
            request_ids: Vec::new(),
            residents_ma: 10,
            residents_ct: 0,
            residents_other: 0,
            ssn_involved: true,
            tin_involved: false,
            discovered_at: at("2027-01-01T10:00:00Z"),
            city_notified_at: at("2027-01-02T10:00:00Z"),
            steps_taken: None,
            responsible_person: None,
        }
    }

    fn refs() -> References {
        References {
            vendor_registered: true,
            contract_vendors: [(CONTRACT, VENDOR)].into(),
            request_vendors: [(FOREIGN_REQUEST, OTHER)].into(),
        }
    }

    fn fields(refusal: Refusal) -> Vec<String> {
        match refusal {
            Refusal::Invalid(faults) => faults.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation refusal, got {other:?}"),
        }
    }

    fn code(refusal: Refusal) -> &'static str {
        refusal.code().as_str()
    }

    fn state(
        status: IncidentStatus,
        required: &[NoticeRecipient],
        sent: &[NoticeRecipient],
    ) -> IncidentState {
        IncidentState {
            status,
            hold: false,
            required: required.iter().copied().collect(),
            sent: sent.iter().copied().collect(),
        }
    }

    const NOW: &str = "2027-01-03T00:00:00Z";

    #[test]
    fn a_vendor_reports_about_itself_and_its_vendor_is_filled_in() {
        let planned = plan_report(report(), &Reporter::Vendor(VENDOR), &refs(), at(NOW)).unwrap();
        assert_eq!(planned.vendor_id, Some(VENDOR));
        assert_eq!(planned.title, "Exposed backup");
        let other = NewIncident {
            vendor_id: Some(OTHER),
            ..report()
        };
        let refused = plan_report(other, &Reporter::Vendor(VENDOR), &refs(), at(NOW)).unwrap_err();
        assert_eq!(fields(refused), ["vendor_id", "contract_ids[0]"]);
    }

    #[test]
    fn a_report_names_what_exists_with_its_vendor_and_times_in_order() {
        let staff = NewIncident {
            vendor_id: Some(VENDOR),
            request_ids: vec![FOREIGN_REQUEST, Uuid::from_u128(99)],
            city_notified_at: at("2026-12-31T10:00:00Z"),
            residents_ct: -1,
            ..report()
        };
        let analyst = Reporter::Staff(Role::SecurityAnalyst);
        let refused = plan_report(staff, &analyst, &refs(), at(NOW)).unwrap_err();
        assert_eq!(
            fields(refused),
            [
                "request_ids[0]",
                "request_ids[1]",
                "residents_ct",
                "city_notified_at"
            ]
        );
        let future = NewIncident {
            vendor_id: Some(VENDOR),
            discovered_at: at("2027-01-04T00:00:00Z"),
            city_notified_at: at("2027-01-04T00:00:00Z"),
            ..report()
        };
        let refused = plan_report(future, &analyst, &refs(), at(NOW)).unwrap_err();
        assert_eq!(fields(refused), ["discovered_at", "city_notified_at"]);
    }

    #[test]
    fn the_lifecycle_runs_in_order_and_a_breach_closes_only_after_its_review() {
        use IncidentStatus as S;
        let none: &[NoticeRecipient] = &[];
        assert_eq!(
            plan_step(&state(S::Reported, none, none), IncidentAction::Triage),
            Ok(S::Triaged)
        );
        assert_eq!(
            plan_step(&state(S::Triaged, none, none), IncidentAction::Contain),
            Ok(S::Contained)
        );
        assert_eq!(
            code(plan_step(&state(S::Reported, none, none), IncidentAction::Contain).unwrap_err()),
            "incident_state"
        );
        for status in [S::Reported, S::Triaged, S::Contained, S::NoticesSent] {
            let refused = plan_step(&state(status, none, none), IncidentAction::Close).unwrap_err();
            assert_eq!(code(refused.clone()), "review_required");
            assert!(refused.to_string().contains("201 CMR 17.03(2)(j)"));
        }
        assert_eq!(
            plan_step(
                &state(S::PostIncidentReview, none, none),
                IncidentAction::Close
            ),
            Ok(S::Closed)
        );
        let closed = plan_step(&state(S::Closed, none, none), IncidentAction::Triage).unwrap_err();
        assert_eq!(code(closed), "incident_closed");
    }

    #[test]
    fn the_review_waits_for_every_required_notice() {
        use IncidentStatus as S;
        use NoticeRecipient as N;
        let required = [N::MaAttorneyGeneral, N::MaOcabr, N::MaResidents];
        let refused =
            plan_review(&state(S::Contained, &required, &[N::MaResidents]), "done").unwrap_err();
        assert_eq!(code(refused.clone()), "notices_outstanding");
        assert!(
            refused
                .to_string()
                .contains("ma_attorney_general, ma_ocabr"),
            "{refused}"
        );
        let now = at(NOW);
        let partial = state(S::Contained, &required, &[N::MaResidents, N::MaOcabr]);
        assert_eq!(
            plan_notice(
                &partial,
                N::MaAttorneyGeneral,
                at("2027-01-02T00:00:00Z"),
                now
            ),
            Ok(S::NoticesSent)
        );
        assert_eq!(
            plan_notice(
                &state(S::Contained, &required, &[]),
                N::MaResidents,
                now,
                now
            ),
            Ok(S::Contained)
        );
        let unneeded = plan_notice(&partial, N::CtResidents, now, now).unwrap_err();
        assert_eq!(fields(unneeded), ["recipient"]);
        let ahead = plan_notice(&partial, N::MaOcabr, at("2027-01-04T00:00:00Z"), now).unwrap_err();
        assert_eq!(fields(ahead), ["sent_at"]);
        // Nothing to notify: the review follows containment.
        assert_eq!(
            plan_review(&state(S::Contained, &[], &[]), " lessons "),
            Ok("lessons".into())
        );
        assert_eq!(
            fields(plan_review(&state(S::NoticesSent, &[], &[]), " ").unwrap_err()),
            ["findings"]
        );
    }

    #[test]
    fn a_review_raises_findings_on_an_assessment_of_the_incidents_vendor() {
        let finding = |title: &str, severity: &str| ReviewFinding {
            title: title.into(),
            severity: severity.into(),
            reason: " backups outside the template ".into(),
        };
        let own = ReviewTarget {
            vendor_id: VENDOR,
            status: crate::domain::assessments::AssessmentStatus::Accepted,
        };
        assert_eq!(
            plan_review_findings(Some(VENDOR), None, &[]),
            Ok(Vec::new())
        );
        let raised = plan_review_findings(
            Some(VENDOR),
            Some(&own),
            &[finding(" Backups ", "critical")],
        )
        .unwrap();
        assert_eq!(raised[0].title, "Backups");
        assert_eq!(raised[0].severity, Severity::Critical);
        assert_eq!(raised[0].reason, "backups outside the template");
        let theirs = ReviewTarget {
            vendor_id: OTHER,
            ..own.clone()
        };
        let refused = plan_review_findings(Some(VENDOR), Some(&theirs), &[finding("", "severe")])
            .unwrap_err();
        assert_eq!(
            fields(refused),
            [
                "assessment_id",
                "vendor_findings[0].title",
                "vendor_findings[0].severity"
            ]
        );
        let city = plan_review_findings(None, None, &[finding("x", "low")]).unwrap_err();
        assert_eq!(fields(city), ["vendor_findings"]);
        let missing = plan_review_findings(Some(VENDOR), None, &[finding("x", "low")]).unwrap_err();
        assert_eq!(fields(missing), ["assessment_id"]);
    }

    #[test]
    fn a_reassessment_starts_from_an_accepted_assessment_of_the_incidents_vendor() {
        let accepted = ReviewTarget {
            vendor_id: VENDOR,
            status: crate::domain::assessments::AssessmentStatus::Accepted,
        };
        assert_eq!(plan_reassessment(Some(VENDOR), Some(&accepted)), Ok(()));
        let open = ReviewTarget {
            status: crate::domain::assessments::AssessmentStatus::Open,
            ..accepted.clone()
        };
        assert_eq!(
            plan_reassessment(Some(VENDOR), Some(&open))
                .unwrap_err()
                .code(),
            "assessment_not_accepted"
        );
        assert_eq!(
            fields(plan_reassessment(Some(OTHER), Some(&accepted)).unwrap_err()),
            ["assessment_id"]
        );
        assert_eq!(
            fields(plan_reassessment(None, None).unwrap_err()),
            ["start_reassessment"]
        );
    }

    #[test]
    fn not_a_breach_needs_a_reason_and_comes_before_the_notices() {
        use IncidentStatus as S;
        assert_eq!(
            plan_not_a_breach(&state(S::Triaged, &[], &[]), " test alert "),
            Ok("test alert".into())
        );
        assert_eq!(
            fields(plan_not_a_breach(&state(S::Triaged, &[], &[]), "").unwrap_err()),
            ["reason"]
        );
        let late = plan_not_a_breach(&state(S::NoticesSent, &[], &[]), "x").unwrap_err();
        assert_eq!(code(late), "incident_state");
    }

    #[test]
    fn evidence_is_preserved_while_open_and_while_a_hold_stands() {
        use IncidentStatus as S;
        for status in [S::Reported, S::Contained, S::PostIncidentReview] {
            let refused = plan_delete_evidence(&state(status, &[], &[])).unwrap_err();
            assert_eq!(code(refused), "evidence_preserved");
        }
        let held = IncidentState {
            hold: true,
            ..state(S::Closed, &[], &[])
        };
        assert_eq!(
            code(plan_delete_evidence(&held).unwrap_err()),
            "evidence_on_hold"
        );
        assert!(plan_delete_evidence(&state(S::ClosedNotBreach, &[], &[])).is_ok());
        assert_eq!(
            code(plan_attach(&state(S::Closed, &[], &[])).unwrap_err()),
            "incident_closed"
        );
        assert_eq!(fields(plan_hold(true, " ").unwrap_err()), ["reason"]);
    }
}
