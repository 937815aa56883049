//! The fiscal calendar: which fiscal year a date falls in, and the days a fiscal year starts and ends.

use chrono::{Datelike, NaiveDate};

/// The fiscal year `date` falls in, named by the calendar year in which that fiscal year ends: with a
/// July 1 start, 2026-07-01 .. 2027-06-30 is FY2027.
///
/// A start day that some years lack (February 29, April 31) counts as the last day that every year has;
/// [`Policy::validate`](super::Policy::validate) refuses such a policy.
pub fn fiscal_year(date: NaiveDate, start_month: u32, start_day: u32) -> i32 {
    let start = normalized_fiscal_start(start_month, start_day);
    if start == (1, 1) || (date.month(), date.day()) < start {
        date.year()
    } else {
        date.year() + 1
    }
}

/// The first day of fiscal year `fiscal_year` and the first day of the next one (inclusive start, exclusive
/// end), for `WHERE start_date >= $1 AND start_date < $2`.
pub fn fiscal_year_bounds(
    fiscal_year: i32,
    start_month: u32,
    start_day: u32,
) -> (NaiveDate, NaiveDate) {
    let (month, day) = normalized_fiscal_start(start_month, start_day);
    let first_calendar_year = if (month, day) == (1, 1) {
        fiscal_year
    } else {
        fiscal_year.saturating_sub(1)
    };
    (
        date_or_calendar_limit(first_calendar_year, month, day),
        date_or_calendar_limit(first_calendar_year.saturating_add(1), month, day),
    )
}

/// Days of each month that exist in every year: a fiscal year cannot start on February 29.
const DAYS_IN_EVERY_YEAR: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

pub(super) fn fiscal_start_is_valid(month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && (1..=DAYS_IN_EVERY_YEAR[month as usize - 1]).contains(&day)
}

fn normalized_fiscal_start(month: u32, day: u32) -> (u32, u32) {
    let month = month.clamp(1, 12);
    (month, day.clamp(1, DAYS_IN_EVERY_YEAR[month as usize - 1]))
}

pub(super) fn date_or_calendar_limit(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}
