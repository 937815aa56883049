//! The City Technology Plan and the departments' technology budgets [EO 2025 Art. 1-2]: the checked facts of a
//! plan item and of a budget line, and a budget's states. Who may change what, and when, is the planner's
//! (`crate::workflow::budgets`).

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

use crate::domain::invalid::FieldError as Fault;
use crate::domain::requests::MAX_CENTS;

/// The plan looks five fiscal years ahead [EO 2025 Art. 1].
pub const PLAN_HORIZON_YEARS: i32 = 5;
/// Fiscal years the service takes: anything else is a typing error.
pub const FISCAL_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Whether a plan item's service is to be run centrally by I&T, shared, or left to the department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Centralization {
    /// I&T runs it for every department (a centralized service offering).
    Centralize,
    /// Run by one department for others.
    Shared,
    /// The department runs its own.
    Department,
}

impl Centralization {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A prioritized technology investment of the City Technology Plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItemFields {
    pub title: String,
    pub description: String,
    /// Codes of the departments it serves.
    pub departments: Vec<String>,
    pub centralization: Centralization,
    /// 1 is the highest.
    pub priority: i32,
    pub first_fiscal_year: i32,
    pub last_fiscal_year: i32,
    /// Estimated one-off cost, in cents.
    pub capital_cents: i64,
    /// Estimated yearly running cost (staff included), in cents.
    pub operating_cents: i64,
}

fn cents(faults: &mut Vec<Fault>, field: &str, value: i64) {
    if !(0..=MAX_CENTS).contains(&value) {
        faults.push(Fault::new(
            field,
            "a whole number of cents from 0 to 1,000,000,000,000 ($10 billion)",
        ));
    }
}

fn text(faults: &mut Vec<Fault>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        faults.push(Fault::new(field, "is required"));
    } else if value.chars().count() > max {
        faults.push(Fault::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

impl PlanItemFields {
    /// Trims the text and names every field at fault (`prefix` is prepended, e.g. `Plan!C4` for a workbook).
    pub fn check(mut self) -> Result<PlanItemFields, Vec<Fault>> {
        let mut faults = Vec::new();
        self.title = self.title.trim().to_string();
        self.description = self.description.trim().to_string();
        text(&mut faults, "title", &self.title, 200, true);
        text(&mut faults, "description", &self.description, 10_000, false);
        let mut departments = Vec::new();
        for (i, code) in self.departments.iter().enumerate() {
            let code = code.trim().to_uppercase();
            if code.is_empty() || code.chars().count() > 20 {
                faults.push(Fault::new(
                    format!("departments[{i}]"),
                    "a department code of 1 to 20 characters",
                ));
            } else if !departments.contains(&code) {
                departments.push(code);
            }
        }
        if departments.is_empty() && faults.is_empty() {
            faults.push(Fault::new("departments", "name at least one department"));
        }
        self.departments = departments;
        if !(1..=1000).contains(&self.priority) {
            faults.push(Fault::new("priority", "from 1 (highest) to 1000"));
        }
        for (field, year) in [
            ("first_fiscal_year", self.first_fiscal_year),
            ("last_fiscal_year", self.last_fiscal_year),
        ] {
            if !FISCAL_YEARS.contains(&year) {
                faults.push(Fault::new(field, "a fiscal year from 2000 to 2100"));
            }
        }
        if self.last_fiscal_year < self.first_fiscal_year {
            faults.push(Fault::new(
                "last_fiscal_year",
                format!(
                    "FY{} is before the first fiscal year FY{}",
                    self.last_fiscal_year, self.first_fiscal_year
                ),
            ));
        } else if self.last_fiscal_year.saturating_sub(self.first_fiscal_year) >= PLAN_HORIZON_YEARS
        {
            faults.push(Fault::new(
                "last_fiscal_year",
                format!("the plan looks {PLAN_HORIZON_YEARS} fiscal years ahead: FY{} to FY{} is longer", self.first_fiscal_year, self.last_fiscal_year),
            ));
        }
        cents(&mut faults, "capital_cents", self.capital_cents);
        cents(&mut faults, "operating_cents", self.operating_cents);
        if faults.is_empty() {
            Ok(self)
        } else {
            Err(faults)
        }
    }
}

/// Where a department's technology budget for one fiscal year stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum BudgetStatus {
    /// The department is drafting it (or an amendment of an approved one).
    Draft,
    /// Before the CIO office and Finance.
    Submitted,
    /// Sent back by the CIO office or Finance with comments.
    Returned,
    /// Approved by both.
    Approved,
}

impl BudgetStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How the CIO office or Finance reviewed a submitted budget, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum BudgetReviewVerdict {
    Approved,
    /// Sent back to the department with a comment.
    Returned,
}

/// One line of a department's technology budget as the department states it. Capital and operating costs are
/// apart, and operating is split into staff and other [EO 2025 Art. 2].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFields {
    /// An existing line of the budget (to change it), or `None` for a new one.
    pub id: Option<Uuid>,
    pub label: String,
    pub plan_item_id: Option<Uuid>,
    pub capital_cents: i64,
    pub operating_staff_cents: i64,
    pub operating_other_cents: i64,
}

impl LineFields {
    pub fn operating_cents(&self) -> i64 {
        self.operating_staff_cents
            .saturating_add(self.operating_other_cents)
    }
}

/// Checks a budget's lines; each fault names `lines[i].field`.
pub fn check_lines(lines: Vec<LineFields>) -> Result<Vec<LineFields>, Vec<Fault>> {
    let mut faults = Vec::new();
    if lines.is_empty() {
        faults.push(Fault::new("lines", "a budget has at least one line"));
    }
    if lines.len() > 500 {
        faults.push(Fault::new("lines", "at most 500 lines"));
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut labels: Vec<String> = Vec::new();
    let mut ids: Vec<Uuid> = Vec::new();
    for (i, mut line) in lines.into_iter().enumerate() {
        line.label = line.label.trim().to_string();
        text(
            &mut faults,
            &format!("lines[{i}].label"),
            &line.label,
            200,
            true,
        );
        let key = line.label.to_lowercase();
        if !key.is_empty() && labels.contains(&key) {
            faults.push(Fault::new(
                format!("lines[{i}].label"),
                format!("{:?} names another line too", line.label),
            ));
        }
        labels.push(key);
        if let Some(id) = line.id {
            if ids.contains(&id) {
                faults.push(Fault::new(
                    format!("lines[{i}].id"),
                    "names a line given before",
                ));
            }
            ids.push(id);
        }
        cents(
            &mut faults,
            &format!("lines[{i}].capital_cents"),
            line.capital_cents,
        );
        cents(
            &mut faults,
            &format!("lines[{i}].operating_staff_cents"),
            line.operating_staff_cents,
        );
        cents(
            &mut faults,
            &format!("lines[{i}].operating_other_cents"),
            line.operating_other_cents,
        );
        out.push(line);
    }
    if faults.is_empty() {
        Ok(out)
    } else {
        Err(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> PlanItemFields {
        PlanItemFields {
            title: " Citywide e-signature ".into(),
            description: "One signing service".into(),
            departments: vec!["doit".into(), "DOIT".into(), "bpd".into()],
            centralization: Centralization::Centralize,
            priority: 1,
            first_fiscal_year: 2027,
            last_fiscal_year: 2031,
            capital_cents: 10_000_000,
            operating_cents: 2_000_000,
        }
    }

    #[test]
    fn a_plan_item_is_trimmed_and_its_departments_named_once() {
        let checked = item().check().unwrap();
        assert_eq!(checked.title, "Citywide e-signature");
        assert_eq!(checked.departments, vec!["DOIT", "BPD"]);
    }

    #[test]
    fn a_plan_item_looks_at_most_five_fiscal_years_ahead_and_names_each_fault() {
        let faults = PlanItemFields {
            last_fiscal_year: 2032,
            priority: 0,
            capital_cents: -1,
            ..item()
        }
        .check()
        .unwrap_err();
        let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["priority", "last_fiscal_year", "capital_cents"]
        );
    }

    #[test]
    fn budget_lines_need_distinct_labels_and_amounts_in_range() {
        let line = |label: &str, capital| LineFields {
            id: None,
            label: label.into(),
            plan_item_id: None,
            capital_cents: capital,
            operating_staff_cents: 1,
            operating_other_cents: 2,
        };
        assert_eq!(
            check_lines(vec![line("A", 5)]).unwrap()[0].operating_cents(),
            3
        );
        let faults = check_lines(vec![line("Cameras", 5), line(" cameras ", -5)]).unwrap_err();
        let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["lines[1].label", "lines[1].capital_cents"]);
        assert_eq!(check_lines(vec![]).unwrap_err()[0].field, "lines");
    }
}
