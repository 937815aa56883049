use std::collections::BTreeSet;

use super::*;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// Runs a reminder job on each day of `days`, `runs_per_day` times, and returns the (day, key) of every
/// reminder it sent: a key already sent is skipped, as the outbox does.
fn run_job(
    days: impl IntoIterator<Item = NaiveDate>,
    runs_per_day: usize,
    job: impl Fn(NaiveDate) -> Option<Reminder>,
) -> Vec<(NaiveDate, String)> {
    let mut sent = BTreeSet::new();
    let mut fired = Vec::new();
    for day in days {
        for _ in 0..runs_per_day {
            if let Some(reminder) = job(day) {
                let key = reminder.dedup_key("a-1");
                if sent.insert(key.clone()) {
                    fired.push((day, key));
                }
            }
        }
    }
    fired
}

fn every_day(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|day| *day <= to).collect()
}

fn offset(day: NaiveDate, days: i64) -> NaiveDate {
    day + Duration::days(days)
}

#[test]
fn a_questionnaire_reminder_names_the_most_urgent_threshold_crossed() {
    let due = date("2026-05-10");
    let due_in = |threshold_days, days_left| {
        Some(Reminder::QuestionnaireDue {
            due,
            threshold_days,
            days_left,
        })
    };
    let overdue = |days_overdue| Some(Reminder::QuestionnaireOverdue { due, days_overdue });
    let cases = [
        (30, None),
        (8, None),
        (7, due_in(7, 7)),
        (6, due_in(7, 6)),
        (4, due_in(7, 4)),
        (3, due_in(3, 3)),
        (2, due_in(3, 2)),
        (1, due_in(1, 1)),
        (0, due_in(1, 0)),
        (-1, overdue(1)),
        (-5, overdue(5)),
    ];
    for (days_left, expected) in cases {
        let today = offset(due, -days_left);
        assert_eq!(
            questionnaire_reminders(due, today),
            expected,
            "{days_left} days left"
        );
    }
}

#[test]
fn a_daily_job_run_twice_a_day_sends_each_questionnaire_threshold_once_and_overdue_once() {
    let due = date("2026-05-10");
    let fired = run_job(every_day(offset(due, -12), offset(due, 5)), 2, |today| {
        questionnaire_reminders(due, today)
    });
    assert_eq!(
        fired,
        [
            (
                date("2026-05-03"),
                "questionnaire_due:7:a-1:2026-05-10".to_owned()
            ),
            (
                date("2026-05-07"),
                "questionnaire_due:3:a-1:2026-05-10".to_owned()
            ),
            (
                date("2026-05-09"),
                "questionnaire_due:1:a-1:2026-05-10".to_owned()
            ),
            (
                date("2026-05-11"),
                "questionnaire_overdue:a-1:2026-05-10".to_owned()
            ),
        ]
    );
}

#[test]
fn a_job_that_missed_days_sends_only_the_most_urgent_missed_reminder_once() {
    let due = date("2026-05-10");
    let runs = [-9, -2, -2, -1, 3, 4].map(|days| offset(due, days));
    let fired = run_job(runs, 1, |today| questionnaire_reminders(due, today));
    assert_eq!(
        fired,
        [
            (
                offset(due, -2),
                "questionnaire_due:3:a-1:2026-05-10".to_owned()
            ),
            (
                offset(due, -1),
                "questionnaire_due:1:a-1:2026-05-10".to_owned()
            ),
            (
                offset(due, 3),
                "questionnaire_overdue:a-1:2026-05-10".to_owned()
            ),
        ]
    );
    let down_until_late = run_job([offset(due, 2), offset(due, 3)], 1, |today| {
        questionnaire_reminders(due, today)
    });
    assert_eq!(down_until_late.len(), 1);
    assert!(down_until_late[0].1.starts_with("questionnaire_overdue:"));
}

#[test]
fn an_extended_due_date_sends_its_reminders_again_under_new_keys() {
    let first = questionnaire_reminders(date("2026-05-10"), date("2026-05-09")).unwrap();
    let extended = questionnaire_reminders(date("2026-05-20"), date("2026-05-19")).unwrap();
    assert_ne!(first.dedup_key("a-1"), extended.dedup_key("a-1"));
    assert_ne!(first.dedup_key("a-1"), first.dedup_key("a-2"));
}

#[test]
fn remediation_reminders_fire_at_each_threshold_then_once_overdue() {
    let due = date("2026-09-30");
    let fired = run_job(every_day(offset(due, -20), offset(due, 10)), 2, |today| {
        remediation_reminders(due, today)
    });
    let keys: Vec<&str> = fired.iter().map(|(_, key)| key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "remediation_due:7:a-1:2026-09-30",
            "remediation_due:3:a-1:2026-09-30",
            "remediation_due:1:a-1:2026-09-30",
            "remediation_overdue:a-1:2026-09-30",
        ]
    );
    assert_eq!(fired[3].0, date("2026-10-01"));
}

#[test]
fn a_risk_acceptance_warns_at_30_and_7_days_and_expires_on_its_expiry_date() {
    let expiry = date("2027-01-15");
    let fired = run_job(
        every_day(offset(expiry, -60), offset(expiry, 5)),
        2,
        |today| risk_acceptance_reminders(expiry, today),
    );
    assert_eq!(
        fired,
        [
            (
                date("2026-12-16"),
                "risk_acceptance_expiring:30:a-1:2027-01-15".to_owned()
            ),
            (
                date("2027-01-08"),
                "risk_acceptance_expiring:7:a-1:2027-01-15".to_owned()
            ),
            (
                date("2027-01-15"),
                "risk_acceptance_expired:a-1:2027-01-15".to_owned()
            ),
        ]
    );
    assert_eq!(
        risk_acceptance_reminders(expiry, offset(expiry, -1)),
        Some(Reminder::RiskAcceptanceExpiring {
            expiry,
            threshold_days: 7,
            days_left: 1
        })
    );
    assert_eq!(risk_acceptance_reminders(expiry, offset(expiry, -31)), None);
}

#[test]
fn a_reassessment_is_announced_30_days_ahead_and_then_once_overdue() {
    let next_review = date("2027-03-01");
    assert_eq!(reassessment(next_review, offset(next_review, -31)), None);
    assert_eq!(
        reassessment(next_review, offset(next_review, -30)),
        Some(Reminder::ReassessmentDue {
            next_review,
            threshold_days: 30,
            days_left: 30
        })
    );
    assert!(matches!(
        reassessment(next_review, next_review),
        Some(Reminder::ReassessmentDue { days_left: 0, .. })
    ));
    assert_eq!(
        reassessment(next_review, offset(next_review, 1)),
        Some(Reminder::ReassessmentOverdue {
            next_review,
            days_overdue: 1
        })
    );
    let fired = run_job(
        every_day(offset(next_review, -40), offset(next_review, 40)),
        2,
        |today| reassessment(next_review, today),
    );
    assert_eq!(fired.len(), 2);
}

#[test]
fn next_years_reassessment_reminds_again() {
    let this_year = reassessment(date("2027-03-01"), date("2027-02-10")).unwrap();
    let next_year = reassessment(date("2028-03-01"), date("2028-02-10")).unwrap();
    assert_eq!(this_year.kind(), next_year.kind());
    assert_ne!(this_year.dedup_key("v-9"), next_year.dedup_key("v-9"));
}

#[test]
fn a_contract_reminds_once_when_its_renewal_notice_period_begins() {
    let end = date("2027-06-30");
    let start = date("2026-07-01");
    assert_eq!(contract_ending(start, end, 90, offset(end, -91)), None);
    assert_eq!(
        contract_ending(start, end, 90, offset(end, -90)),
        Some(Reminder::ContractEnding {
            end,
            notice_days: 90,
            days_left: 90
        })
    );
    assert!(contract_ending(start, end, 90, end).is_some());
    assert_eq!(contract_ending(start, end, 90, offset(end, 1)), None);
    let fired = run_job(every_day(offset(end, -120), offset(end, 10)), 3, |today| {
        contract_ending(start, end, 90, today)
    });
    assert_eq!(
        fired,
        [(
            date("2027-04-01"),
            "contract_ending:90:a-1:2027-06-30".to_owned()
        )]
    );
}

#[test]
fn a_contract_with_no_notice_period_reminds_on_its_last_day_only() {
    let end = date("2027-06-30");
    let start = date("2026-07-01");
    assert_eq!(contract_ending(start, end, 0, offset(end, -1)), None);
    assert!(contract_ending(start, end, 0, end).is_some());
}

#[test]
fn a_contract_that_has_not_started_is_not_reminded_until_its_start_day() {
    // A short contract whose 90-day notice period begins two months before it starts.
    let start = date("2027-03-01");
    let end = date("2027-04-30");
    let fired = run_job(
        every_day(date("2027-01-01"), date("2027-05-10")),
        3,
        |today| contract_ending(start, end, 90, today),
    );
    assert_eq!(
        fired,
        [(start, "contract_ending:90:a-1:2027-04-30".to_owned())],
        "once, on the start day, not while it is pending"
    );
}

#[test]
fn a_decision_escalates_once_it_has_waited_longer_than_the_policy_days() {
    let since = at("2026-04-01T14:30:00.123456Z");
    assert_eq!(
        decision_escalation(since, at("2026-04-11T14:30:00.123456Z"), 10),
        None
    );
    let late = decision_escalation(since, at("2026-04-11T14:30:01Z"), 10).unwrap();
    assert_eq!(
        late,
        Reminder::DecisionEscalation {
            waiting_since: since,
            escalation_days: 10,
            waiting_days: 10
        }
    );
    let later = decision_escalation(since, at("2026-04-20T09:00:00Z"), 10).unwrap();
    assert!(matches!(
        later,
        Reminder::DecisionEscalation {
            waiting_days: 18,
            ..
        }
    ));
    assert_eq!(late.dedup_key("r-7"), later.dedup_key("r-7"));
    assert_eq!(
        late.dedup_key("r-7"),
        "decision_escalation:10:r-7:2026-04-01T14:30:00Z"
    );
    assert_eq!(
        decision_escalation(since, at("2026-03-01T00:00:00Z"), 10),
        None
    );
}

#[test]
fn a_resubmitted_request_starts_a_new_wait_with_a_new_key() {
    let first = decision_escalation(at("2026-04-01T09:00:00Z"), at("2026-04-20T09:00:00Z"), 10);
    let second = decision_escalation(at("2026-04-25T09:00:00Z"), at("2026-05-10T09:00:00Z"), 10);
    assert_ne!(
        first.unwrap().dedup_key("r-7"),
        second.unwrap().dedup_key("r-7")
    );
}

#[test]
fn no_two_kinds_of_reminder_share_a_key_for_the_same_subject_and_date() {
    let day = date("2026-05-10");
    let reminders = [
        questionnaire_reminders(day, offset(day, -1)),
        questionnaire_reminders(day, offset(day, 1)),
        remediation_reminders(day, offset(day, -1)),
        remediation_reminders(day, offset(day, 1)),
        risk_acceptance_reminders(day, offset(day, -7)),
        risk_acceptance_reminders(day, day),
        reassessment(day, offset(day, -1)),
        reassessment(day, offset(day, 1)),
        contract_ending(offset(day, -30), day, 1, offset(day, -1)),
        decision_escalation(at("2026-05-10T00:00:00Z"), at("2026-05-20T00:00:01Z"), 1),
    ];
    let keys: BTreeSet<String> = reminders
        .iter()
        .map(|reminder| reminder.as_ref().expect("each case fires").dedup_key("x"))
        .collect();
    assert_eq!(keys.len(), reminders.len());
}

#[test]
fn a_reminder_reads_back_from_json_and_says_what_is_due_in_words() {
    let reminder = questionnaire_reminders(date("2026-05-10"), date("2026-05-07")).unwrap();
    let json = serde_json::to_value(&reminder).unwrap();
    assert_eq!(json["kind"], "questionnaire_due");
    assert_eq!(serde_json::from_value::<Reminder>(json).unwrap(), reminder);
    assert_eq!(
        reminder.message(),
        "The security questionnaire is due on 2026-05-10, in 3 days."
    );
    let tomorrow = questionnaire_reminders(date("2026-05-10"), date("2026-05-09")).unwrap();
    assert_eq!(
        tomorrow.message(),
        "The security questionnaire is due tomorrow, 2026-05-10."
    );
    let late = remediation_reminders(date("2026-05-10"), date("2026-05-11")).unwrap();
    assert_eq!(
        late.message(),
        "The remediation of this finding was due on 2026-05-10 and is 1 day late."
    );
}

#[test]
fn a_review_accepted_on_february_29_falls_due_on_february_28_of_the_next_year() {
    assert_eq!(next_review_date(date("2024-02-29"), 12), date("2025-02-28"));
    assert_eq!(next_review_date(date("2024-02-29"), 48), date("2028-02-29"));
    assert_eq!(next_review_date(date("2023-02-28"), 12), date("2024-02-28"));
    assert_eq!(next_review_date(date("2023-03-01"), 12), date("2024-03-01"));
    assert_eq!(next_review_date(date("2026-01-31"), 1), date("2026-02-28"));
    assert_eq!(
        next_review_date(date("2026-07-15"), REASSESSMENT_MONTHS),
        date("2027-07-15")
    );
}
