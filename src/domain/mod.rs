//! Pure types and rules: no I/O here. Request bodies are parsed into these types once, at the boundary.

pub mod assessments;
pub mod audit;
pub mod budgets;
pub mod catalog;
pub mod comparison;
pub mod contracts;
pub mod council;
pub mod crosswalk;
pub mod deadlines;
pub mod duplicate_learning;
pub mod duplicates;
pub mod identity;
pub mod incidents;
pub mod invalid;
pub mod invitations;
pub mod mail;
pub mod orders;
pub mod policy;
pub mod problems;
pub mod questionnaires;
pub mod registry;
pub mod requests;
pub mod reuse;
pub mod roles;
pub mod route;
pub mod safeguards;
pub mod text;
pub mod text_forms;
pub mod webhooks;

/// Offset pagination with a bounded page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub offset: i64,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 200;

    pub fn parse(limit: Option<i64>, offset: Option<i64>) -> Result<PageRequest, invalid::Invalid> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            errors.push(invalid::FieldError::new(
                "limit",
                format!("must be between 1 and {}", Self::MAX_LIMIT),
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            errors.push(invalid::FieldError::new("offset", "must not be negative"));
        }
        invalid::Invalid::check(errors, PageRequest { limit, offset })
    }
}

/// The current time, truncated to microseconds so that it survives a round trip through either database
/// unchanged (the audit chain hashes it).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let micros = chrono::Utc::now().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).expect("current time is representable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_defaults_and_bounds() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest {
                limit: 50,
                offset: 0
            }
        );
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert!(PageRequest::parse(Some(10), Some(-1)).is_err());
    }
}
