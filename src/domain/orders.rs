//! Remediation orders: the CIO office orders a vendor (or a department, for a city system) to remediate, by a
//! due date, with the incident or findings behind the order. The recipient acknowledges and reports completion;
//! the CIO office verifies or reopens; the recipient may appeal once, and the CIO office decides the appeal.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

/// Where an order stands. `verified` and `withdrawn` are for good; every other status is an open order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum OrderStatus {
    /// Issued; the recipient has not acknowledged it.
    Issued,
    Acknowledged,
    /// The recipient says the actions are done; the CIO office verifies.
    CompletionReported,
    /// The CIO office found the completion wanting; the recipient works on.
    Reopened,
    /// The recipient appealed; the CIO office decides.
    Appealed,
    /// The CIO office verified the remediation.
    Verified,
    /// The appeal was granted: the order no longer stands.
    Withdrawn,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the order still stands against its recipient.
    pub fn is_open(self) -> bool {
        !matches!(self, OrderStatus::Verified | OrderStatus::Withdrawn)
    }
}

/// The stored names of the open statuses, for queries.
pub const OPEN_STATUSES_SQL: &str =
    "('issued', 'acknowledged', 'completion_reported', 'reopened', 'appealed')";

/// The open orders against a vendor as a route's reason reads them (`order 1a2b3c4d, due 2027-02-01`), or
/// `None` when no order stands.
pub fn describe_open_orders(orders: &[(uuid::Uuid, chrono::NaiveDate)]) -> Option<String> {
    if orders.is_empty() {
        return None;
    }
    let named: Vec<String> = orders
        .iter()
        .map(|(id, due)| format!("order {}, due {due}", &id.simple().to_string()[..8]))
        .collect();
    Some(named.join("; "))
}

/// How the CIO office decided an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum AppealOutcome {
    /// The order stands, in the status it had before the appeal.
    Upheld,
    /// The order is withdrawn.
    Granted,
}

impl AppealOutcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_orders_are_named_by_their_short_id_and_due_date() {
        assert_eq!(describe_open_orders(&[]), None);
        let id = uuid::Uuid::parse_str("1a2b3c4d-0000-4000-8000-000000000000").unwrap();
        let due = chrono::NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        assert_eq!(
            describe_open_orders(&[(id, due), (id, due)]).as_deref(),
            Some("order 1a2b3c4d, due 2027-02-01; order 1a2b3c4d, due 2027-02-01")
        );
    }

    #[test]
    fn the_open_statuses_in_sql_are_exactly_the_open_ones() {
        for status in OrderStatus::VARIANTS {
            assert_eq!(
                OPEN_STATUSES_SQL.contains(&format!("'{}'", status.as_str())),
                status.is_open(),
                "{status:?}"
            );
        }
    }
}
