//! Surveillance oversight after the purchase [Boston 16-63]: the register of technologies the City Council
//! approved, the covered departments' Annual Surveillance Reports, which of them are missing from the city's
//! report, and when a department is reminded.

use crate::domain::problems::ProblemCode;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Caller, Fault, Refusal};
use crate::domain::policy::Policy;

/// One data-sharing arrangement a report describes: with whom, what, under which legal standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharing {
    pub recipient: String,
    pub data: String,
    pub legal_standard: String,
}

/// What a department reports on one technology for one year [Boston 16-63.5].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFields {
    /// How the technology was used.
    pub usage: String,
    /// Whether and how it captured people not suspected of wrongdoing.
    pub non_suspect_capture: String,
    pub sharing: Vec<Sharing>,
    /// Community complaints received.
    pub complaints: String,
    /// Internal audits made.
    pub audits: String,
    /// Violations of the Surveillance Use Policy found, and what was done.
    pub violations: String,
}

impl ReportFields {
    /// Trims every text and names each field at fault. Every part is required: "none" is an answer, silence
    /// is not.
    pub fn check(mut self) -> Result<ReportFields, Vec<Fault>> {
        let mut faults = Vec::new();
        let mut text = |field: &str, value: &mut String, max: usize| {
            *value = value.trim().to_string();
            if value.is_empty() {
                faults.push(Fault::new(
                    field,
                    "is required (write \"none\" when there is nothing to report)",
                ));
            } else if value.chars().count() > max {
                faults.push(Fault::new(
                    field,
                    format!("must be at most {max} characters"),
                ));
            }
        };
        text("usage", &mut self.usage, 20_000);
        text("non_suspect_capture", &mut self.non_suspect_capture, 20_000);
        text("complaints", &mut self.complaints, 20_000);
        text("audits", &mut self.audits, 20_000);
        text("violations", &mut self.violations, 20_000);
        for (i, entry) in self.sharing.iter_mut().enumerate() {
            text(
                &format!("sharing[{i}].recipient"),
                &mut entry.recipient,
                500,
            );
            text(&format!("sharing[{i}].data"), &mut entry.data, 2_000);
            text(
                &format!("sharing[{i}].legal_standard"),
                &mut entry.legal_standard,
                500,
            );
        }
        if self.sharing.len() > 200 {
            faults.push(Fault::new("sharing", "at most 200 entries"));
        }
        if faults.is_empty() {
            Ok(self)
        } else {
            Err(faults)
        }
    }
}

/// A technology of the register as the planners read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technology {
    pub request_id: Uuid,
    pub department: String,
    pub technology: String,
    /// The day the Council approved its acquisition.
    pub approved_on: NaiveDate,
}

impl Technology {
    /// Whether a report on `year` is owed for it: it was approved before that year ended.
    pub fn reported_in(&self, year: i32) -> bool {
        self.approved_on.year() <= year
    }
}

/// A covered department's buyers report on their own technologies, for a year that has ended and in which the
/// technology was approved.
pub fn plan_report(
    caller: &Caller,
    technology: &Technology,
    year: i32,
    today: NaiveDate,
) -> Result<(), Refusal> {
    if !caller.buys_for(&technology.department) {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            format!(
                "the buyers of {} report on its surveillance technologies",
                technology.department
            ),
        ));
    }
    if year >= today.year() {
        return Err(Refusal::field(
            "year",
            format!("a report covers a year that has ended: {year} has not"),
        ));
    }
    if !technology.reported_in(year) {
        return Err(Refusal::field(
            "year",
            format!(
                "the Council approved this technology on {}, after {year}",
                technology.approved_on
            ),
        ));
    }
    Ok(())
}

/// A technology whose report on the year is missing from the city's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub request_id: Uuid,
    pub department: String,
    pub technology: String,
}

/// The technologies owed a report on `year` that have none (`reported`: the request ids reported on).
pub fn missing(year: i32, register: &[Technology], reported: &[Uuid]) -> Vec<Missing> {
    register
        .iter()
        .filter(|t| t.reported_in(year) && !reported.contains(&t.request_id))
        .map(|t| Missing {
            request_id: t.request_id,
            department: t.department.clone(),
            technology: t.technology.clone(),
        })
        .collect()
}

/// A reminder to a department whose report is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportReminder {
    pub request_id: Uuid,
    pub department: String,
    pub technology: String,
    /// The year reported on.
    pub year: i32,
    pub due: NaiveDate,
    /// `surveillance_report_due` before the date, `surveillance_report_overdue` after it.
    pub kind: &'static str,
}

impl ReportReminder {
    /// One notice before the date and one after it, per technology and year.
    pub fn dedup_key(&self) -> String {
        format!(
            "{}:{}:{}:buyer:{}",
            self.kind, self.request_id, self.year, self.department
        )
    }

    pub fn message(&self) -> String {
        match self.kind {
            "surveillance_report_overdue" => format!(
                "The Annual Surveillance Report on {} for {} was due on {} and has not been filed.",
                self.technology, self.year, self.due
            ),
            _ => format!(
                "The Annual Surveillance Report on {} for {} is due on {}.",
                self.technology, self.year, self.due
            ),
        }
    }
}

/// The reminders due `today`: for the year before, each technology with no report, from
/// `surveillance_report_reminder_days` before the policy's date, and once more after it.
pub fn reminders(
    policy: &Policy,
    today: NaiveDate,
    register: &[Technology],
    reported: &[Uuid],
) -> Vec<ReportReminder> {
    let year = today.year() - 1;
    let due = policy.surveillance_report_due(year);
    let from = due - chrono::Duration::days(i64::from(policy.surveillance_report_reminder_days));
    let kind = if today > due {
        "surveillance_report_overdue"
    } else if today >= from {
        "surveillance_report_due"
    } else {
        return Vec::new();
    };
    missing(year, register, reported)
        .into_iter()
        .map(|m| ReportReminder {
            request_id: m.request_id,
            department: m.department,
            technology: m.technology,
            year,
            due,
            kind,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::roles::Role;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn cameras() -> Technology {
        Technology {
            request_id: Uuid::from_u128(1),
            department: "BPD".into(),
            technology: "Cameras".into(),
            approved_on: day(2025, 11, 4),
        }
    }

    #[test]
    fn a_report_is_the_departments_for_a_year_that_has_ended() {
        let police = Caller::new("officer", vec![Role::Buyer], Some("BPD".into()));
        let schools = Caller::new("teacher", vec![Role::Buyer], Some("BPS".into()));
        assert!(plan_report(&police, &cameras(), 2025, day(2026, 2, 1)).is_ok());
        assert_eq!(
            plan_report(&schools, &cameras(), 2025, day(2026, 2, 1))
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert!(plan_report(&police, &cameras(), 2026, day(2026, 2, 1)).is_err());
        assert!(plan_report(&police, &cameras(), 2024, day(2026, 2, 1)).is_err());
    }

    #[test]
    fn departments_are_reminded_from_thirty_days_before_the_date_and_once_after_it() {
        let policy = Policy::default_policy();
        let register = [cameras()];
        assert!(reminders(&policy, day(2026, 1, 29), &register, &[]).is_empty());
        let due = reminders(&policy, day(2026, 1, 30), &register, &[]);
        assert_eq!(due[0].kind, "surveillance_report_due");
        assert_eq!(due[0].due, day(2026, 3, 1));
        assert_eq!(
            due[0].dedup_key(),
            format!(
                "surveillance_report_due:{}:2025:buyer:BPD",
                Uuid::from_u128(1)
            )
        );
        assert_eq!(
            reminders(&policy, day(2026, 3, 2), &register, &[])[0].kind,
            "surveillance_report_overdue"
        );
        assert!(reminders(&policy, day(2026, 2, 10), &register, &[Uuid::from_u128(1)]).is_empty());
    }

    #[test]
    fn a_report_names_every_part_it_leaves_empty() {
        let faults = ReportFields {
            usage: " ".into(),
            non_suspect_capture: "none".into(),
            sharing: vec![Sharing {
                recipient: "State police".into(),
                data: "".into(),
                legal_standard: "warrant".into(),
            }],
            complaints: "none".into(),
            audits: "one".into(),
            violations: "none".into(),
        }
        .check()
        .unwrap_err();
        let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["usage", "sharing[0].data"]);
    }
}
