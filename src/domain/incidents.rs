//! Incidents: their lifecycle, the evidence kept for them, and the notices a breach requires, each with the day
//! it is due, the rule and its citation.
//!
//! # Which day a deadline falls on
//!
//! The laws count days from the discovery of the breach; the city is in Boston, so "the day of discovery" is the
//! calendar day in US Eastern time ([`eastern_date`]), not in UTC: a breach found at 22:30 on February 28 in
//! Boston is stored as 03:30 UTC on March 1, and counting from March 1 would give a day the law does not. Hours
//! (the vendor's contractual notice) are counted from the instant itself. A day count is `date + n days`, so
//! month ends and leap days fall where the calendar puts them (discovered 2027-12-31: Connecticut's sixtieth day
//! is 2028-02-29).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::deadlines::{
    CT_IDENTITY_PROTECTION_MONTHS, CT_NOTICE_DAYS, MA_CREDIT_MONITORING_MONTHS,
};

/// Where an incident stands. `closed` and `closed_not_breach` are for good.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, poem_openapi::Enum,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum IncidentStatus {
    /// Reported by the vendor or by staff; nobody has looked at it yet.
    Reported,
    /// An analyst has assessed it.
    Triaged,
    /// The breach is contained.
    Contained,
    /// Every notice the jurisdictions require has been sent.
    NoticesSent,
    /// The post-incident review is written [201 CMR 17.03(2)(j)].
    PostIncidentReview,
    Closed,
    /// Closed after triage found it was not a breach, with the reason.
    ClosedNotBreach,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn is_open(self) -> bool {
        !matches!(
            self,
            IncidentStatus::Closed | IncidentStatus::ClosedNotBreach
        )
    }
}

/// Who a recorded notice went to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    poem_openapi::Enum,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum NoticeRecipient {
    /// The Massachusetts Attorney General [c.93H §3].
    MaAttorneyGeneral,
    /// The Director of the Office of Consumer Affairs and Business Regulation [c.93H §3].
    MaOcabr,
    /// Affected Massachusetts residents [c.93H §3].
    MaResidents,
    /// The Connecticut Attorney General [CGS 36a-701b].
    CtAttorneyGeneral,
    /// Affected Connecticut residents [CGS 36a-701b].
    CtResidents,
}

impl NoticeRecipient {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a file attached to an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum EvidenceKind {
    /// Logs, screenshots, forensic reports: what happened.
    Evidence,
    /// A law-enforcement agency's written determination that notice would impede a criminal investigation: the
    /// only ground to delay the Massachusetts notices [c.93H §4].
    LawEnforcementDetermination,
    /// A copy of a notice as sent.
    NoticeCopy,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The `n`th `weekday` of `month` in `year` (n counted from 1).
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
        .expect("every month has a first and a second of each weekday")
}

/// The calendar day an instant falls on in Boston (US Eastern time: UTC-5, and UTC-4 from 2:00 on the second
/// Sunday of March to 2:00 on the first Sunday of November, the rule since 2007).
pub fn eastern_date(at: DateTime<Utc>) -> NaiveDate {
    let year = at.year();
    // 2:00 EST is 07:00 UTC; 2:00 EDT is 06:00 UTC.
    let dst_starts = nth_weekday(year, 3, Weekday::Sun, 2)
        .and_hms_opt(7, 0, 0)
        .expect("a valid time")
        .and_utc();
    let dst_ends = nth_weekday(year, 11, Weekday::Sun, 1)
        .and_hms_opt(6, 0, 0)
        .expect("a valid time")
        .and_utc();
    let offset_hours = if at >= dst_starts && at < dst_ends {
        4
    } else {
        5
    };
    (at - Duration::hours(offset_hours)).date_naive()
}

/// The facts of an incident the deadlines read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// When the breach was discovered (by the vendor, or by the city for its own systems).
    pub discovered_at: DateTime<Utc>,
    /// When the city learned of it.
    pub city_notified_at: DateTime<Utc>,
    /// Whether a vendor's service is concerned (the vendor's notice duty applies).
    pub vendor_concerned: bool,
    pub residents_ma: i64,
    pub residents_ct: i64,
    pub ssn_involved: bool,
    pub tin_involved: bool,
}

/// The city's policy numbers the deadlines use (from the policy data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineTerms {
    /// Hours from discovery within which a vendor must tell the city (the breach-notice clause of its contract).
    pub vendor_notice_hours: u32,
    /// Days after discovery at which a Massachusetts notice not yet sent is escalated: the law sets no day.
    pub ma_escalation_days: u32,
}

impl DeadlineTerms {
    /// The numbers of the policy in force.
    pub fn of(policy: &crate::domain::policy::Policy) -> DeadlineTerms {
        DeadlineTerms {
            vendor_notice_hours: policy.incident_vendor_notice_hours,
            ma_escalation_days: policy.incident_ma_escalation_days,
        }
    }
}

/// What kind of date a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// A limit the law sets: the notice must go out by this day.
    Statute,
    /// A limit the vendor's contract sets (city policy).
    Contract,
    /// The law sets no day ("as soon as practicable"); the date is when the city's policy escalates a notice
    /// still not sent.
    Escalation,
}

/// One notice an incident requires: who, by which day, under which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDeadline {
    /// A stable name: `vendor_notice`, `ma_regulators`, `ma_residents`, `ma_credit_monitoring`,
    /// `ct_residents`, `ct_attorney_general`, `ct_identity_protection`.
    pub id: String,
    /// Who must be told.
    pub who: String,
    /// The last day (Eastern time).
    pub due_on: NaiveDate,
    /// The exact limit, where one is counted in hours.
    pub due_at: Option<DateTime<Utc>>,
    pub kind: DeadlineKind,
    /// The rule in plain words.
    pub rule: String,
    pub citation: String,
    /// The notices that, once all recorded, meet it; empty for the vendor's notice, which the day the city
    /// learned of the incident meets.
    pub met_by: Vec<NoticeRecipient>,
}

/// The notices a breach requires.
///
/// - The vendor tells the city within the policy's hours of discovery [c.93H §3(a)], a contract clause.
/// - Massachusetts residents affected: the Attorney General and the Director of OCABR, and the residents, "as
///   soon as practicable and without unreasonable delay" [c.93H §3]: no day, so the date is the policy's
///   escalation day; where SSNs are involved, 18 months of free credit monitoring offered with the residents'
///   notice [c.93H §3A].
/// - Connecticut residents affected: the residents no later than 60 days after discovery, the Attorney General
///   no later than the residents [CGS 36a-701b]; where SSNs or TINs are involved, 24 months of identity-theft
///   protection offered with the residents' notice.
pub fn incident_deadlines(facts: &IncidentFacts, terms: DeadlineTerms) -> Vec<IncidentDeadline> {
    let mut out = Vec::new();
    let day_found = eastern_date(facts.discovered_at);
    if facts.vendor_concerned {
        let due_at = facts.discovered_at + Duration::hours(i64::from(terms.vendor_notice_hours));
        out.push(IncidentDeadline {
            id: "vendor_notice".into(),
            who: "the city (Innovation & Technology), told by the vendor".into(),
            due_on: eastern_date(due_at),
            due_at: Some(due_at),
            kind: DeadlineKind::Contract,
            rule: format!(
                "A provider holding the city's data tells the city as soon as practicable and without \
                 unreasonable delay, and its contract sets the limit: {} hours from discovery.",
                terms.vendor_notice_hours
            ),
            citation: "c.93H §3(a); contract breach-notice clause".into(),
            met_by: Vec::new(),
        });
    }
    if facts.residents_ma > 0 {
        let due_on = day_found + Duration::days(i64::from(terms.ma_escalation_days));
        let asap = format!(
            "as soon as practicable and without unreasonable delay. The law sets no day: the city escalates a \
             notice not sent {} days after discovery. Only a written law-enforcement determination allows a \
             delay [c.93H §4].",
            terms.ma_escalation_days
        );
        out.push(IncidentDeadline {
            id: "ma_regulators".into(),
            who: "the Massachusetts Attorney General and the Director of OCABR".into(),
            due_on,
            due_at: None,
            kind: DeadlineKind::Escalation,
            rule: format!("The city notifies both {asap}"),
            citation: "c.93H §3".into(),
            met_by: vec![NoticeRecipient::MaAttorneyGeneral, NoticeRecipient::MaOcabr],
        });
        out.push(IncidentDeadline {
            id: "ma_residents".into(),
            who: format!("{} affected Massachusetts residents", facts.residents_ma),
            due_on,
            due_at: None,
            kind: DeadlineKind::Escalation,
            rule: format!("The city notifies them {asap}"),
            citation: "c.93H §3".into(),
            met_by: vec![NoticeRecipient::MaResidents],
        });
        if facts.ssn_involved {
            out.push(IncidentDeadline {
                id: "ma_credit_monitoring".into(),
                who: format!("{} affected Massachusetts residents", facts.residents_ma),
                due_on,
                due_at: None,
                kind: DeadlineKind::Escalation,
                rule: format!(
                    "Social Security numbers are involved: the residents' notice offers at least \
                     {MA_CREDIT_MONITORING_MONTHS} months of free credit monitoring, and the notice to the \
                     Attorney General and OCABR certifies it."
                ),
                citation: "c.93H §3A".into(),
                met_by: vec![NoticeRecipient::MaResidents],
            });
        }
    }
    if facts.residents_ct > 0 {
        let due_on = day_found + Duration::days(CT_NOTICE_DAYS);
        out.push(IncidentDeadline {
            id: "ct_residents".into(),
            who: format!("{} affected Connecticut residents", facts.residents_ct),
            due_on,
            due_at: None,
            kind: DeadlineKind::Statute,
            rule: format!(
                "The city notifies them without unreasonable delay and no later than {CT_NOTICE_DAYS} days after \
                 discovery; the day is the latest allowed, not a target."
            ),
            citation: "CGS 36a-701b".into(),
            met_by: vec![NoticeRecipient::CtResidents],
        });
        out.push(IncidentDeadline {
            id: "ct_attorney_general".into(),
            who: "the Connecticut Attorney General".into(),
            due_on,
            due_at: None,
            kind: DeadlineKind::Statute,
            rule: "The city notifies the Attorney General no later than it notifies the residents."
                .into(),
            citation: "CGS 36a-701b".into(),
            met_by: vec![NoticeRecipient::CtAttorneyGeneral],
        });
        if facts.ssn_involved || facts.tin_involved {
            out.push(IncidentDeadline {
                id: "ct_identity_protection".into(),
                who: format!("{} affected Connecticut residents", facts.residents_ct),
                due_on,
                due_at: None,
                kind: DeadlineKind::Statute,
                rule: format!(
                    "Social Security or taxpayer identification numbers are involved: the residents' notice \
                     offers at least {CT_IDENTITY_PROTECTION_MONTHS} months of identity-theft prevention \
                     services at no cost."
                ),
                citation: "CGS 36a-701b".into(),
                met_by: vec![NoticeRecipient::CtResidents],
            });
        }
    }
    out
}

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Not met, and its day has not passed.
    Open,
    /// Met on or before its day.
    Met,
    /// Met, after its day.
    MetLate,
    /// Not met, and its day has passed.
    Overdue,
    /// A Massachusetts notice held back on a written law-enforcement determination [c.93H §4].
    Delayed,
}

/// A deadline with where it stands on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineState {
    pub deadline: IncidentDeadline,
    pub status: DeadlineStatus,
    /// When it was met: the last of the notices it needs, or the day the city learned of the incident.
    pub met_at: Option<DateTime<Utc>>,
}

/// Where `deadline` stands on `today`, given the notices recorded (recipient, when sent), when the city learned
/// of the incident, and whether a law-enforcement determination is on file.
pub fn deadline_state(
    deadline: &IncidentDeadline,
    notices: &[(NoticeRecipient, DateTime<Utc>)],
    city_notified_at: DateTime<Utc>,
    law_enforcement_delay: bool,
    today: NaiveDate,
) -> DeadlineState {
    let met_at = if deadline.met_by.is_empty() {
        Some(city_notified_at)
    } else {
        let firsts: Option<Vec<DateTime<Utc>>> = deadline
            .met_by
            .iter()
            .map(|recipient| {
                notices
                    .iter()
                    .filter(|(r, _)| r == recipient)
                    .map(|(_, at)| *at)
                    .min()
            })
            .collect();
        firsts.and_then(|all| all.into_iter().max())
    };
    let status = match met_at {
        Some(at) => {
            let late = match deadline.due_at {
                Some(limit) => at > limit,
                None => eastern_date(at) > deadline.due_on,
            };
            if late {
                DeadlineStatus::MetLate
            } else {
                DeadlineStatus::Met
            }
        }
        None if law_enforcement_delay && deadline.id.starts_with("ma_") => DeadlineStatus::Delayed,
        None if today > deadline.due_on => DeadlineStatus::Overdue,
        None => DeadlineStatus::Open,
    };
    DeadlineState {
        deadline: deadline.clone(),
        status,
        met_at,
    }
}

/// The notices every deadline of the incident needs, in order: what "notices sent" means for it.
pub fn required_notices(deadlines: &[IncidentDeadline]) -> BTreeSet<NoticeRecipient> {
    deadlines
        .iter()
        .flat_map(|d| d.met_by.iter().copied())
        .collect()
}

/// Which authority a notice packet is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// The Massachusetts Attorney General and OCABR [c.93H §3].
    Ma,
    /// The Connecticut Attorney General [CGS 36a-701b].
    Ct,
}

/// Who sends the notice: the city as owner of the data (from the policy data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeEntity {
    pub name: String,
    pub address: String,
    pub entity_type: String,
}

/// What a notice packet is filled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketSource {
    pub title: String,
    pub description: String,
    pub discovered_at: DateTime<Utc>,
    pub residents_ma: i64,
    pub residents_ct: i64,
    pub residents_other: i64,
    pub data_classes: Vec<String>,
    pub ssn_involved: bool,
    pub tin_involved: bool,
    pub steps_taken: Option<String>,
    pub responsible_person: Option<String>,
    pub vendor_name: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_title: Option<String>,
    /// Whether the city keeps a written information security program.
    pub wisp_maintained: bool,
}

/// One field of a notice packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketField {
    pub key: &'static str,
    pub label: &'static str,
    /// Empty when the incident does not say yet.
    pub value: String,
}

/// The fields an authority's breach form asks for, filled from the incident. For Massachusetts, those c.93H §3
/// names for the notice to the Attorney General and OCABR; for Connecticut, the same facts for its Attorney
/// General with the Connecticut count and the identity-theft protection offered.
pub fn notice_packet(
    jurisdiction: Jurisdiction,
    source: &PacketSource,
    entity: &NoticeEntity,
) -> Vec<PacketField> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let nature = format!("{}: {}", source.title, source.description);
    let mut fields = vec![
        PacketField {
            key: "nature_of_breach",
            label: "Nature of the breach",
            value: nature,
        },
        PacketField {
            key: "date_discovered",
            label: "Date the breach was discovered",
            value: eastern_date(source.discovered_at).to_string(),
        },
    ];
    match jurisdiction {
        Jurisdiction::Ma => fields.push(PacketField {
            key: "residents_affected",
            label: "Number of Massachusetts residents affected",
            value: source.residents_ma.to_string(),
        }),
        Jurisdiction::Ct => {
            fields.push(PacketField {
                key: "residents_affected",
                label: "Number of Connecticut residents affected",
                value: source.residents_ct.to_string(),
            });
            fields.push(PacketField {
                key: "total_affected",
                label: "Total number of people affected",
                value: source
                    .residents_ma
                    .saturating_add(source.residents_ct)
                    .saturating_add(source.residents_other)
                    .to_string(),
            });
        }
    }
    fields.extend([
        PacketField {
            key: "entity_name",
            label: "Name of the entity",
            value: entity.name.clone(),
        },
        PacketField {
            key: "entity_address",
            label: "Address of the entity",
            value: entity.address.clone(),
        },
        PacketField {
            key: "entity_type",
            label: "Type of entity",
            value: entity.entity_type.clone(),
        },
        PacketField {
            key: "reporter_name",
            label: "Name of the person reporting",
            value: text(&source.reporter_name),
        },
        PacketField {
            key: "reporter_title",
            label: "Title of the person reporting",
            value: text(&source.reporter_title),
        },
        PacketField {
            key: "responsible_person",
            label: "Person responsible for the breach, if known",
            value: text(&source.responsible_person),
        },
        PacketField {
            key: "service_provider",
            label: "Service provider at which the breach occurred",
            value: text(&source.vendor_name),
        },
        PacketField {
            key: "personal_information_types",
            label: "Types of personal information involved",
            value: pi_types(source),
        },
    ]);
    match jurisdiction {
        Jurisdiction::Ma => fields.extend([
            PacketField {
                key: "wisp_maintained",
                label: "Does the entity maintain a written information security program?",
                value: yes_no(source.wisp_maintained),
            },
            PacketField {
                key: "steps_taken",
                label: "Steps taken or planned, including updates to the written information security program",
                value: text(&source.steps_taken),
            },
            PacketField {
                key: "credit_monitoring",
                label: "Credit monitoring certification",
                value: if source.ssn_involved {
                    format!(
                        "Social Security numbers are involved: {MA_CREDIT_MONITORING_MONTHS} months of free credit \
                         monitoring are offered to the affected residents [c.93H §3A]"
                    )
                } else {
                    "not required: no Social Security numbers are involved".into()
                },
            },
        ]),
        Jurisdiction::Ct => fields.extend([
            PacketField {
                key: "ssn_or_tin_involved",
                label: "Social Security or taxpayer identification numbers involved",
                value: yes_no(source.ssn_involved || source.tin_involved),
            },
            PacketField {
                key: "steps_taken",
                label: "Steps taken or planned",
                value: text(&source.steps_taken),
            },
            PacketField {
                key: "identity_theft_protection",
                label: "Identity-theft prevention services offered",
                value: if source.ssn_involved || source.tin_involved {
                    format!("{CT_IDENTITY_PROTECTION_MONTHS} months at no cost [CGS 36a-701b]")
                } else {
                    "not required: no Social Security or taxpayer numbers are involved".into()
                },
            },
        ]),
    }
    fields
}

fn pi_types(source: &PacketSource) -> String {
    let mut kinds: Vec<String> = Vec::new();
    if source.ssn_involved {
        kinds.push("Social Security numbers".into());
    }
    if source.tin_involved {
        kinds.push("taxpayer identification numbers".into());
    }
    kinds.extend(source.data_classes.iter().cloned());
    kinds.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    const TERMS: DeadlineTerms = DeadlineTerms {
        vendor_notice_hours: 72,
        ma_escalation_days: 30,
    };

    fn facts(discovered: &str, ma: i64, ct: i64, ssn: bool) -> IncidentFacts {
        IncidentFacts {
            discovered_at: at(discovered),
            city_notified_at: at(discovered),
            vendor_concerned: true,
            residents_ma: ma,
            residents_ct: ct,
            ssn_involved: ssn,
            tin_involved: false,
        }
    }

    fn due(deadlines: &[IncidentDeadline], id: &str) -> NaiveDate {
        deadlines
            .iter()
            .find(|d| d.id == id)
            .unwrap_or_else(|| panic!("no {id} deadline"))
            .due_on
    }

    #[test]
    fn the_day_of_discovery_is_the_day_in_boston_across_both_clock_changes() {
        // Standard time: 22:30 EST on February 28 is 03:30 UTC on March 1.
        assert_eq!(eastern_date(at("2027-03-01T03:30:00Z")), d("2027-02-28"));
        assert_eq!(eastern_date(at("2027-03-01T05:00:00Z")), d("2027-03-01"));
        // Daylight time: 23:30 EDT on June 30 is 03:30 UTC on July 1.
        assert_eq!(eastern_date(at("2027-07-01T03:30:00Z")), d("2027-06-30"));
        assert_eq!(eastern_date(at("2027-07-01T04:00:00Z")), d("2027-07-01"));
        // 2027: daylight time from March 14 07:00 UTC to November 7 06:00 UTC.
        assert_eq!(eastern_date(at("2027-03-14T06:59:00Z")), d("2027-03-14"));
        assert_eq!(eastern_date(at("2027-03-15T03:59:00Z")), d("2027-03-14"));
        assert_eq!(eastern_date(at("2027-03-15T04:00:00Z")), d("2027-03-15"));
        assert_eq!(eastern_date(at("2027-11-07T04:30:00Z")), d("2027-11-07"));
        assert_eq!(eastern_date(at("2027-11-08T04:30:00Z")), d("2027-11-07"));
        // New Year's Eve, late.
        assert_eq!(eastern_date(at("2028-01-01T02:00:00Z")), d("2027-12-31"));
    }

    #[test]
    fn connecticut_counts_sixty_days_from_the_day_of_discovery_through_month_ends_and_leap_days() {
        for (discovered, expected) in [
            // A leap year: January 1 + 60 days is March 1.
            ("2028-01-01T15:00:00Z", "2028-03-01"),
            // A common year: the same count lands on March 2.
            ("2027-01-01T15:00:00Z", "2027-03-02"),
            // From New Year's Eve into the leap day.
            ("2027-12-31T15:00:00Z", "2028-02-29"),
            // Found late on February 28 in Boston, already March 1 in UTC.
            ("2027-03-01T03:30:00Z", "2027-04-29"),
            // The leap day itself.
            ("2028-02-29T12:00:00Z", "2028-04-29"),
            // A month end with 31 days.
            ("2027-08-31T12:00:00Z", "2027-10-30"),
        ] {
            let deadlines = incident_deadlines(&facts(discovered, 0, 10, false), TERMS);
            assert_eq!(due(&deadlines, "ct_residents"), d(expected), "{discovered}");
            assert_eq!(
                due(&deadlines, "ct_attorney_general"),
                d(expected),
                "the AG no later than the residents"
            );
        }
    }

    #[test]
    fn the_vendor_notice_is_counted_in_hours_from_the_instant_of_discovery() {
        let deadlines = incident_deadlines(&facts("2027-01-31T20:00:00Z", 0, 0, false), TERMS);
        let vendor = &deadlines[0];
        assert_eq!(vendor.id, "vendor_notice");
        assert_eq!(vendor.due_at, Some(at("2027-02-03T20:00:00Z")));
        assert_eq!(vendor.due_on, d("2027-02-03"));
        assert_eq!(vendor.kind, DeadlineKind::Contract);
        // Late in the day: 72 hours after 23:00 UTC on February 26 is 18:00 in Boston on March 1.
        let late = incident_deadlines(&facts("2027-02-26T23:00:00Z", 0, 0, false), TERMS);
        assert_eq!(late[0].due_on, d("2027-03-01"));
        // Over a leap day.
        let leap = incident_deadlines(&facts("2028-02-27T12:00:00Z", 0, 0, false), TERMS);
        assert_eq!(leap[0].due_on, d("2028-03-01"));
        // A city system has no vendor to tell the city.
        let own = IncidentFacts {
            vendor_concerned: false,
            ..facts("2027-01-31T20:00:00Z", 0, 0, false)
        };
        assert!(incident_deadlines(&own, TERMS).is_empty());
    }

    #[test]
    fn massachusetts_has_no_day_in_law_so_its_date_is_the_policy_escalation_and_says_so() {
        let deadlines = incident_deadlines(&facts("2027-03-01T03:30:00Z", 120, 0, true), TERMS);
        let ids: Vec<&str> = deadlines.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "vendor_notice",
                "ma_regulators",
                "ma_residents",
                "ma_credit_monitoring"
            ]
        );
        // February 28 (Boston) + 30 days.
        assert_eq!(due(&deadlines, "ma_residents"), d("2027-03-30"));
        for deadline in &deadlines[1..] {
            assert_eq!(deadline.kind, DeadlineKind::Escalation);
            assert!(
                deadline.citation.starts_with("c.93H §3"),
                "{}",
                deadline.citation
            );
        }
        assert!(deadlines[3].rule.contains("18 months"));
        assert_eq!(deadlines[3].citation, "c.93H §3A");
        let no_ssn = incident_deadlines(&facts("2027-03-01T03:30:00Z", 120, 0, false), TERMS);
        assert!(!no_ssn.iter().any(|d| d.id == "ma_credit_monitoring"));
    }

    #[test]
    fn connecticut_asks_identity_theft_protection_for_ssns_or_taxpayer_numbers() {
        let tin = IncidentFacts {
            tin_involved: true,
            ..facts("2027-05-10T12:00:00Z", 0, 4, false)
        };
        let deadlines = incident_deadlines(&tin, TERMS);
        let protection = deadlines
            .iter()
            .find(|d| d.id == "ct_identity_protection")
            .expect("TINs are involved");
        assert!(protection.rule.contains("24 months"));
        assert_eq!(protection.citation, "CGS 36a-701b");
        let none = incident_deadlines(&facts("2027-05-10T12:00:00Z", 0, 4, false), TERMS);
        assert!(!none.iter().any(|d| d.id == "ct_identity_protection"));
    }

    #[test]
    fn a_deadline_is_met_by_the_last_of_its_notices_and_judged_on_the_boston_day() {
        let deadlines = incident_deadlines(&facts("2027-01-01T15:00:00Z", 5, 5, false), TERMS);
        let regulators = deadlines.iter().find(|d| d.id == "ma_regulators").unwrap();
        let discovered = at("2027-01-01T15:00:00Z");
        let today = d("2027-01-10");
        let half = [(
            NoticeRecipient::MaAttorneyGeneral,
            at("2027-01-05T12:00:00Z"),
        )];
        let state = deadline_state(regulators, &half, discovered, false, today);
        assert_eq!(state.status, DeadlineStatus::Open, "OCABR not told yet");
        let both = [
            (
                NoticeRecipient::MaAttorneyGeneral,
                at("2027-01-05T12:00:00Z"),
            ),
            (NoticeRecipient::MaOcabr, at("2027-01-07T12:00:00Z")),
        ];
        let state = deadline_state(regulators, &both, discovered, false, today);
        assert_eq!(state.status, DeadlineStatus::Met);
        assert_eq!(state.met_at, Some(at("2027-01-07T12:00:00Z")));
        // Overdue the day after its day; delayed instead with a law-enforcement determination.
        let late_day = regulators.due_on + Duration::days(1);
        assert_eq!(
            deadline_state(regulators, &[], discovered, false, regulators.due_on).status,
            DeadlineStatus::Open
        );
        assert_eq!(
            deadline_state(regulators, &[], discovered, false, late_day).status,
            DeadlineStatus::Overdue
        );
        assert_eq!(
            deadline_state(regulators, &[], discovered, true, late_day).status,
            DeadlineStatus::Delayed
        );
        // The delay is Massachusetts law; it does not hold Connecticut's 60 days.
        let ct = deadlines.iter().find(|d| d.id == "ct_residents").unwrap();
        let after = ct.due_on + Duration::days(1);
        assert_eq!(
            deadline_state(ct, &[], discovered, true, after).status,
            DeadlineStatus::Overdue
        );
        // Sent at 23:30 in Boston on the last day (04:30 UTC the next day): in time.
        let last_evening = ct
            .due_on
            .succ_opt()
            .unwrap()
            .and_hms_opt(4, 30, 0)
            .unwrap()
            .and_utc();
        let sent = [(NoticeRecipient::CtResidents, last_evening)];
        assert_eq!(
            deadline_state(ct, &sent, discovered, false, after).status,
            DeadlineStatus::Met
        );
    }

    #[test]
    fn the_vendor_notice_is_met_when_the_city_learned_of_it_and_late_after_the_hours() {
        let deadlines = incident_deadlines(&facts("2027-01-31T20:00:00Z", 0, 0, false), TERMS);
        let today = d("2027-03-01");
        let on_time = deadline_state(&deadlines[0], &[], at("2027-02-03T20:00:00Z"), false, today);
        assert_eq!(on_time.status, DeadlineStatus::Met);
        let late = deadline_state(&deadlines[0], &[], at("2027-02-03T20:00:01Z"), false, today);
        assert_eq!(late.status, DeadlineStatus::MetLate);
    }

    #[test]
    fn the_massachusetts_packet_carries_every_field_the_attorney_general_and_ocabr_ask_for() {
        let source = PacketSource {
            title: "Exposed backup".into(),
            description: "A storage bucket was public".into(),
            discovered_at: at("2027-03-01T03:30:00Z"),
            residents_ma: 120,
            residents_ct: 7,
            residents_other: 3,
            data_classes: vec!["pi_ma".into()],
            ssn_involved: true,
            tin_involved: false,
            steps_taken: Some("Bucket closed; keys rotated".into()),
            responsible_person: None,
            vendor_name: Some("Acme Cloud".into()),
            reporter_name: Some("Pat Lee".into()),
            reporter_title: Some("CISO".into()),
            wisp_maintained: true,
        };
        let entity = NoticeEntity {
            name: "City of Boston".into(),
            address: "1 City Hall Square, Boston, MA 02201".into(),
            entity_type: "Government".into(),
        };
        let ma = notice_packet(Jurisdiction::Ma, &source, &entity);
        let keys: Vec<&str> = ma.iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            [
                "nature_of_breach",
                "date_discovered",
                "residents_affected",
                "entity_name",
                "entity_address",
                "entity_type",
                "reporter_name",
                "reporter_title",
                "responsible_person",
                "service_provider",
                "personal_information_types",
                "wisp_maintained",
                "steps_taken",
                "credit_monitoring",
            ]
        );
        let value = |fields: &[PacketField], key: &str| {
            fields.iter().find(|f| f.key == key).unwrap().value.clone()
        };
        assert_eq!(value(&ma, "residents_affected"), "120");
        assert_eq!(value(&ma, "date_discovered"), "2027-02-28");
        assert!(value(&ma, "credit_monitoring").contains("18 months"));
        let ct = notice_packet(Jurisdiction::Ct, &source, &entity);
        assert_eq!(value(&ct, "residents_affected"), "7");
        assert_eq!(value(&ct, "total_affected"), "130");
        assert!(value(&ct, "identity_theft_protection").contains("24 months"));
    }
}
