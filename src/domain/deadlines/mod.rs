//! Due dates turned into reminders, and the breach-notice figures the incident deadlines
//! ([`crate::domain::incidents`]) count with.
//!
//! Everything here takes "today" or "now" from the caller, so that the reminder job and its tests decide what
//! time it is; nothing reads the clock.
//!
//! # When a reminder fires
//!
//! Each kind of due date has thresholds, counted in days before the date (a questionnaire: 7, 3 and 1). On any
//! day, the functions here return at most one reminder: the one for the **most urgent threshold already
//! crossed**, or the overdue (expired) reminder once the date has passed. The reminder's
//! [`dedup_key`](Reminder::dedup_key) names the subject, the date and the threshold, but not the day the job ran.
//! The job records each key it sends and skips a key it has sent before, so that:
//!
//! - running the job twice on one day sends nothing the second time;
//! - each threshold sends once, on the first run at or after it;
//! - a job that did not run for a few days sends only the most urgent reminder it missed, once, and not the
//!   stale ones before it (questionnaire due in 2 days after a gap: the 3-day reminder, never the 7-day one);
//! - a due date that moves (an extension, a renewed risk acceptance, next year's review) makes new keys, so its
//!   reminders fire again.
//!
//! A due date is the last day to act: a questionnaire due on the 10th is overdue on the 11th. A risk acceptance
//! stops holding on its expiry date: one expiring on the 10th has expired on the 10th.

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Days before a questionnaire's due date at which the vendor is reminded.
pub const QUESTIONNAIRE_THRESHOLDS: [u32; 3] = [7, 3, 1];

/// Days before a finding's remediation due date at which the vendor and the analyst are reminded.
pub const REMEDIATION_THRESHOLDS: [u32; 3] = [7, 3, 1];

/// Days before a risk acceptance expires at which the analyst and the CIO office are reminded.
pub const RISK_ACCEPTANCE_THRESHOLDS: [u32; 2] = [30, 7];

/// Days before a vendor's annual re-assessment is due at which the analyst is reminded.
pub const REASSESSMENT_THRESHOLDS: [u32; 1] = [30];

/// Days before a breach notice's day at which the analysts are reminded.
pub const INCIDENT_NOTICE_THRESHOLDS: [u32; 3] = [14, 7, 1];

/// Days before a remediation order's due date at which its recipient is reminded.
pub const ORDER_THRESHOLDS: [u32; 2] = [7, 1];

/// Months between accepted assessments of a vendor: 201 CMR 17.03(2)(i) asks for a review at least annually.
pub const REASSESSMENT_MONTHS: u32 = 12;

/// One reminder to send about one subject (an assessment, a finding, a vendor, a contract, a request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reminder {
    /// A questionnaire is due soon.
    QuestionnaireDue {
        /// The last day to submit.
        due: NaiveDate,
        /// The threshold crossed (7, 3 or 1 days before).
        threshold_days: u32,
        /// Days from today to the due date; 0 on the day itself.
        days_left: i64,
    },
    /// A questionnaire was not submitted by its due date.
    QuestionnaireOverdue {
        /// The missed due date.
        due: NaiveDate,
        /// Days past it when the reminder was made.
        days_overdue: i64,
    },
    /// A finding's remediation is due soon.
    RemediationDue {
        /// The last day of the remediation plan.
        due: NaiveDate,
        /// The threshold crossed.
        threshold_days: u32,
        /// Days from today to the due date.
        days_left: i64,
    },
    /// A finding was not remediated by its due date.
    RemediationOverdue {
        /// The missed due date.
        due: NaiveDate,
        /// Days past it when the reminder was made.
        days_overdue: i64,
    },
    /// A risk acceptance is about to stop holding.
    RiskAcceptanceExpiring {
        /// The day it stops holding.
        expiry: NaiveDate,
        /// The threshold crossed (30 or 7 days before).
        threshold_days: u32,
        /// Days from today to the expiry.
        days_left: i64,
    },
    /// A risk acceptance has expired; the finding is open again.
    RiskAcceptanceExpired {
        /// The day it stopped holding.
        expiry: NaiveDate,
    },
    /// A vendor's annual re-assessment is due soon.
    ReassessmentDue {
        /// The day the review is due.
        next_review: NaiveDate,
        /// The threshold crossed.
        threshold_days: u32,
        /// Days from today to the review date.
        days_left: i64,
    },
    /// A vendor's annual re-assessment is late.
    ReassessmentOverdue {
        /// The missed review date.
        next_review: NaiveDate,
        /// Days past it when the reminder was made.
        days_overdue: i64,
    },
    /// A contract has entered its renewal notice period: renew, renegotiate or give notice now.
    ContractEnding {
        /// The contract's last day.
        end: NaiveDate,
        /// The contract's renewal notice period in days.
        notice_days: u32,
        /// Days from today to the end.
        days_left: i64,
    },
    /// A breach notice an incident requires is due soon (analysts).
    IncidentNoticeDue {
        /// Which deadline of the incident (`ct_residents`, `ma_regulators`, ...).
        deadline: String,
        /// Its day.
        due: NaiveDate,
        /// The threshold crossed (14, 7 or 1 days before).
        threshold_days: u32,
        /// Days from today to the day.
        days_left: i64,
        citation: String,
    },
    /// A breach notice was not sent by its day; it goes up to the CIO office. For Massachusetts the day is the
    /// policy's escalation day: the law sets none.
    IncidentNoticeOverdue {
        deadline: String,
        /// The missed day.
        due: NaiveDate,
        /// Days past it when the reminder was made.
        days_overdue: i64,
        citation: String,
    },
    /// The vendor told the city of a breach later than its contract allows; it goes up to the CIO office.
    VendorNoticeLate {
        /// The contract's limit.
        due_at: DateTime<Utc>,
        /// When the city learned of the breach.
        notified_at: DateTime<Utc>,
    },
    /// A remediation order is due soon (its recipient).
    OrderDue {
        due: NaiveDate,
        threshold_days: u32,
        days_left: i64,
    },
    /// A remediation order is past its due date; it goes up to the CIO office.
    OrderOverdue { due: NaiveDate, days_overdue: i64 },
    /// A purchase decision has waited longer than policy allows; it goes up to the CIO office.
    DecisionEscalation {
        /// When the decision became due.
        waiting_since: DateTime<Utc>,
        /// The policy's limit (`decision_escalation_days`).
        escalation_days: u32,
        /// Whole days waited so far.
        waiting_days: i64,
    },
}

impl Reminder {
    /// The reminder's kind as a wire name, e.g. `questionnaire_due`.
    pub fn kind(&self) -> &'static str {
        match self {
            Reminder::QuestionnaireDue { .. } => "questionnaire_due",
            Reminder::QuestionnaireOverdue { .. } => "questionnaire_overdue",
            Reminder::RemediationDue { .. } => "remediation_due",
            Reminder::RemediationOverdue { .. } => "remediation_overdue",
            Reminder::RiskAcceptanceExpiring { .. } => "risk_acceptance_expiring",
            Reminder::RiskAcceptanceExpired { .. } => "risk_acceptance_expired",
            Reminder::ReassessmentDue { .. } => "reassessment_due",
            Reminder::ReassessmentOverdue { .. } => "reassessment_overdue",
            Reminder::ContractEnding { .. } => "contract_ending",
            Reminder::DecisionEscalation { .. } => "decision_escalation",
            Reminder::IncidentNoticeDue { .. } => "incident_notice_due",
            Reminder::IncidentNoticeOverdue { .. } => "incident_notice_overdue",
            Reminder::VendorNoticeLate { .. } => "vendor_notice_late",
            Reminder::OrderDue { .. } => "remediation_order_due",
            Reminder::OrderOverdue { .. } => "remediation_order_overdue",
        }
    }

    /// The key under which the job records that it sent this reminder about `subject_id`:
    /// `<kind>[:<threshold>]:<subject>:<date>`, e.g. `questionnaire_due:7:<assessment id>:2026-05-01`.
    ///
    /// It names the threshold and the due date, never the day the job ran or the days left, so a rerun makes
    /// the same key and a new threshold or a moved date makes a new one. A decision escalation's date is its
    /// `waiting_since` to the second, so a store that keeps fewer fractional digits cannot change the key.
    pub fn dedup_key(&self, subject_id: &str) -> String {
        let kind = self.kind();
        match self {
            Reminder::QuestionnaireDue {
                due,
                threshold_days,
                ..
            }
            | Reminder::RemediationDue {
                due,
                threshold_days,
                ..
            }
            | Reminder::RiskAcceptanceExpiring {
                expiry: due,
                threshold_days,
                ..
            }
            | Reminder::ReassessmentDue {
                next_review: due,
                threshold_days,
                ..
            }
            | Reminder::ContractEnding {
                end: due,
                notice_days: threshold_days,
                ..
            }
            | Reminder::OrderDue {
                due,
                threshold_days,
                ..
            } => format!("{kind}:{threshold_days}:{subject_id}:{due}"),
            Reminder::IncidentNoticeDue {
                deadline,
                due,
                threshold_days,
                ..
            } => format!("{kind}:{threshold_days}:{subject_id}:{deadline}:{due}"),
            Reminder::IncidentNoticeOverdue { deadline, due, .. } => {
                format!("{kind}:{subject_id}:{deadline}:{due}")
            }
            Reminder::VendorNoticeLate { due_at, .. } => format!(
                "{kind}:{subject_id}:{}",
                due_at.format("%Y-%m-%dT%H:%M:%SZ")
            ),
            Reminder::OrderOverdue { due, .. } => format!("{kind}:{subject_id}:{due}"),
            Reminder::QuestionnaireOverdue { due, .. }
            | Reminder::RemediationOverdue { due, .. }
            | Reminder::RiskAcceptanceExpired { expiry: due }
            | Reminder::ReassessmentOverdue {
                next_review: due, ..
            } => format!("{kind}:{subject_id}:{due}"),
            Reminder::DecisionEscalation {
                waiting_since,
                escalation_days,
                ..
            } => format!(
                "{kind}:{escalation_days}:{subject_id}:{}",
                waiting_since.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        }
    }

    /// The reminder in plain words, for a notification.
    pub fn message(&self) -> String {
        match self {
            Reminder::QuestionnaireDue { due, days_left, .. } => {
                format!(
                    "The security questionnaire is due {}.",
                    when(*due, *days_left)
                )
            }
            Reminder::QuestionnaireOverdue { due, days_overdue } => format!(
                "The security questionnaire was due on {due} and is {} late.",
                days(*days_overdue)
            ),
            Reminder::RemediationDue { due, days_left, .. } => {
                format!(
                    "The remediation of this finding is due {}.",
                    when(*due, *days_left)
                )
            }
            Reminder::RemediationOverdue { due, days_overdue } => format!(
                "The remediation of this finding was due on {due} and is {} late.",
                days(*days_overdue)
            ),
            Reminder::RiskAcceptanceExpiring {
                expiry, days_left, ..
            } => format!(
                "The risk acceptance for this finding expires on {expiry}, in {}; renew it or close the finding.",
                days(*days_left)
            ),
            Reminder::RiskAcceptanceExpired { expiry } => format!(
                "The risk acceptance for this finding expired on {expiry}; the finding is open again."
            ),
            Reminder::ReassessmentDue {
                next_review,
                days_left,
                ..
            } => format!(
                "The vendor's annual security re-assessment is due {} [201 CMR 17.03(2)(i)].",
                when(*next_review, *days_left)
            ),
            Reminder::ReassessmentOverdue {
                next_review,
                days_overdue,
            } => format!(
                "The vendor's annual security re-assessment was due on {next_review} and is {} late \
                 [201 CMR 17.03(2)(i)].",
                days(*days_overdue)
            ),
            Reminder::ContractEnding {
                end,
                notice_days,
                days_left,
            } => format!(
                "The contract ends on {end}, in {}, inside its {notice_days}-day renewal notice period: \
                 decide now whether to renew.",
                days(*days_left)
            ),
            Reminder::DecisionEscalation {
                waiting_days,
                escalation_days,
                ..
            } => format!(
                "A purchase decision has waited {}, longer than the {escalation_days} days policy allows.",
                days(*waiting_days)
            ),
            Reminder::IncidentNoticeDue {
                deadline,
                due,
                days_left,
                citation,
                ..
            } => format!(
                "The breach notice {deadline} of this incident is due {} [{citation}].",
                when(*due, *days_left)
            ),
            Reminder::IncidentNoticeOverdue {
                deadline,
                due,
                days_overdue,
                citation,
            } => format!(
                "The breach notice {deadline} of this incident was due on {due} and is {} late [{citation}].",
                days(*days_overdue)
            ),
            Reminder::VendorNoticeLate {
                due_at,
                notified_at,
            } => format!(
                "The vendor told the city of this breach at {notified_at}, after its contract's limit of {due_at} \
                 [c.93H §3(a)]."
            ),
            Reminder::OrderDue { due, days_left, .. } => {
                format!("The remediation order is due {}.", when(*due, *days_left))
            }
            Reminder::OrderOverdue { due, days_overdue } => format!(
                "The remediation order was due on {due} and is {} late.",
                days(*days_overdue)
            ),
        }
    }
}

fn days(count: i64) -> String {
    if count == 1 {
        "1 day".to_owned()
    } else {
        format!("{count} days")
    }
}

fn when(date: NaiveDate, days_left: i64) -> String {
    match days_left {
        0 => format!("today, {date}"),
        1 => format!("tomorrow, {date}"),
        _ => format!("on {date}, in {}", days(days_left)),
    }
}

/// Where today stands against a date with reminder thresholds.
enum Stage {
    /// No threshold crossed yet.
    Quiet,
    /// The most urgent threshold crossed, and the days left.
    Crossed { threshold_days: u32, days_left: i64 },
    /// The date has passed (or, for an expiry, arrived), by this many days.
    Past { days_past: i64 },
}

/// Today's stage. `lapses_on_the_day` says whether the date itself already counts as past (an expiry) or is the
/// last day to act (a due date).
fn stage(date: NaiveDate, today: NaiveDate, thresholds: &[u32], lapses_on_the_day: bool) -> Stage {
    let days_left = (date - today).num_days();
    let past = if lapses_on_the_day {
        days_left <= 0
    } else {
        days_left < 0
    };
    if past {
        return Stage::Past {
            days_past: -days_left,
        };
    }
    thresholds
        .iter()
        .copied()
        .filter(|threshold| days_left <= i64::from(*threshold))
        .min()
        .map_or(Stage::Quiet, |threshold_days| Stage::Crossed {
            threshold_days,
            days_left,
        })
}

/// The reminder for a questionnaire due on `due`: at 7, 3 and 1 days before, then overdue from the next day.
pub fn questionnaire_reminders(due: NaiveDate, today: NaiveDate) -> Option<Reminder> {
    match stage(due, today, &QUESTIONNAIRE_THRESHOLDS, false) {
        Stage::Quiet => None,
        Stage::Crossed {
            threshold_days,
            days_left,
        } => Some(Reminder::QuestionnaireDue {
            due,
            threshold_days,
            days_left,
        }),
        Stage::Past { days_past } => Some(Reminder::QuestionnaireOverdue {
            due,
            days_overdue: days_past,
        }),
    }
}

/// The reminder for a finding whose remediation is due on `due`: at 7, 3 and 1 days before, then overdue.
pub fn remediation_reminders(due: NaiveDate, today: NaiveDate) -> Option<Reminder> {
    match stage(due, today, &REMEDIATION_THRESHOLDS, false) {
        Stage::Quiet => None,
        Stage::Crossed {
            threshold_days,
            days_left,
        } => Some(Reminder::RemediationDue {
            due,
            threshold_days,
            days_left,
        }),
        Stage::Past { days_past } => Some(Reminder::RemediationOverdue {
            due,
            days_overdue: days_past,
        }),
    }
}

/// The reminder for a risk acceptance that stops holding on `expiry`: at 30 and 7 days before, then expired
/// from the expiry date itself.
pub fn risk_acceptance_reminders(expiry: NaiveDate, today: NaiveDate) -> Option<Reminder> {
    match stage(expiry, today, &RISK_ACCEPTANCE_THRESHOLDS, true) {
        Stage::Quiet => None,
        Stage::Crossed {
            threshold_days,
            days_left,
        } => Some(Reminder::RiskAcceptanceExpiring {
            expiry,
            threshold_days,
            days_left,
        }),
        Stage::Past { .. } => Some(Reminder::RiskAcceptanceExpired { expiry }),
    }
}

/// The reminder for a vendor whose annual re-assessment is due on `next_review` (see [`next_review_date`]):
/// 30 days before, then overdue from the next day.
pub fn reassessment(next_review: NaiveDate, today: NaiveDate) -> Option<Reminder> {
    match stage(next_review, today, &REASSESSMENT_THRESHOLDS, false) {
        Stage::Quiet => None,
        Stage::Crossed {
            threshold_days,
            days_left,
        } => Some(Reminder::ReassessmentDue {
            next_review,
            threshold_days,
            days_left,
        }),
        Stage::Past { days_past } => Some(Reminder::ReassessmentOverdue {
            next_review,
            days_overdue: days_past,
        }),
    }
}

/// The reminder for a contract running from `start` to `end` (its last day) with a renewal notice period of
/// `notice_days`: once, on the first run inside the period. Nothing before the contract has started (a pending
/// contract is renewed by nobody yet; if its notice period began before its start, the reminder comes on the
/// start day) and nothing after it has ended: that is no longer a renewal decision.
pub fn contract_ending(
    start: NaiveDate,
    end: NaiveDate,
    notice_days: u32,
    today: NaiveDate,
) -> Option<Reminder> {
    if today < start {
        return None;
    }
    match stage(end, today, &[notice_days], false) {
        Stage::Crossed { days_left, .. } => Some(Reminder::ContractEnding {
            end,
            notice_days,
            days_left,
        }),
        Stage::Quiet | Stage::Past { .. } => None,
    }
}

/// The escalation for a purchase decision waiting since `waiting_since`: once it has waited longer than
/// `escalation_days` whole days (the policy's `decision_escalation_days`). It fires once per wait: a request
/// sent back and resubmitted starts a new wait, and a new key.
pub fn decision_escalation(
    waiting_since: DateTime<Utc>,
    now: DateTime<Utc>,
    escalation_days: u32,
) -> Option<Reminder> {
    let waited = now - waiting_since;
    (waited > Duration::days(i64::from(escalation_days))).then(|| Reminder::DecisionEscalation {
        waiting_since,
        escalation_days,
        waiting_days: waited.num_days(),
    })
}

/// The reminder for one deadline of an open incident on `today` (Boston's day): at 14, 7 and 1 days before a
/// notice's day while it is not met, then overdue once its day has passed (unless a law-enforcement
/// determination holds the Massachusetts notices). The vendor's notice to the city is met when the city
/// learned of the incident; met late, it is escalated once.
pub fn incident_notice_reminder(
    state: &crate::domain::incidents::DeadlineState,
    today: NaiveDate,
) -> Option<Reminder> {
    use crate::domain::incidents::DeadlineStatus;
    let deadline = &state.deadline;
    if deadline.met_by.is_empty() {
        return match (state.status, deadline.due_at, state.met_at) {
            (DeadlineStatus::MetLate, Some(due_at), Some(notified_at)) => {
                Some(Reminder::VendorNoticeLate {
                    due_at,
                    notified_at,
                })
            }
            _ => None,
        };
    }
    if !matches!(state.status, DeadlineStatus::Open | DeadlineStatus::Overdue) {
        return None;
    }
    match stage(deadline.due_on, today, &INCIDENT_NOTICE_THRESHOLDS, false) {
        Stage::Quiet => None,
        Stage::Crossed {
            threshold_days,
            days_left,
        } => Some(Reminder::IncidentNoticeDue {
            deadline: deadline.id.clone(),
            due: deadline.due_on,
            threshold_days,
            days_left,
            citation: deadline.citation.clone(),
        }),
        Stage::Past { days_past } => Some(Reminder::IncidentNoticeOverdue {
            deadline: deadline.id.clone(),
            due: deadline.due_on,
            days_overdue: days_past,
            citation: deadline.citation.clone(),
        }),
    }
}

/// The reminder for a remediation order due on `due`: at 7 and 1 days before, then overdue from the next day.
pub fn order_reminders(due: NaiveDate, today: NaiveDate) -> Option<Reminder> {
    match stage(due, today, &ORDER_THRESHOLDS, false) {
        Stage::Quiet => None,
        Stage::Crossed {
            threshold_days,
            days_left,
        } => Some(Reminder::OrderDue {
            due,
            threshold_days,
            days_left,
        }),
        Stage::Past { days_past } => Some(Reminder::OrderOverdue {
            due,
            days_overdue: days_past,
        }),
    }
}

/// The day a vendor's next re-assessment is due: `months` after its last accepted assessment (12 for the annual
/// review of 201 CMR 17.03(2)(i), [`REASSESSMENT_MONTHS`]).
///
/// A day the target month lacks becomes that month's last day, so an assessment accepted on February 29 is due
/// again on February 28 of the next year: a day early rather than a day past the year.
pub fn next_review_date(last_accepted: NaiveDate, months: u32) -> NaiveDate {
    last_accepted
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Days after discovery by which Connecticut residents, and the Connecticut Attorney General, must be told
/// [CGS 36a-701b] (since 2021-10-01; 90 before).
pub const CT_NOTICE_DAYS: i64 = 60;

/// Months of identity-theft prevention services Connecticut requires where SSNs or TINs are involved.
pub const CT_IDENTITY_PROTECTION_MONTHS: u32 = 24;

/// Months of free credit monitoring Massachusetts requires where Social Security numbers are involved.
pub const MA_CREDIT_MONITORING_MONTHS: u32 = 18;

#[cfg(test)]
mod tests;
