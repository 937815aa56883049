//! The domain's states as column types.
//!
//! A state column holds the state's text form (`open`, `remediation_planned`). Records read it straight into the
//! domain's enum, so a value the service does not know fails the read with an error that names the column's
//! kind and the value — never a default in its place (an unknown request status read as `draft` would make a
//! closed request editable). The migrations' `CHECK` constraints (0026) keep such values out in the first place.
//!
//! One impl per enum, generic over the backend, so SQLite and PostgreSQL decode alike.

use sqlx::error::BoxDynError;

use crate::domain::assessments::{AssessmentStatus, FindingStatus};
use crate::domain::catalog::ServiceStatus;
use crate::domain::incidents::{EvidenceKind, IncidentStatus};
use crate::domain::orders::OrderStatus;
use crate::domain::requests::Status;
use crate::domain::route::{DenialReason, Outcome, StepState};

/// Implements `sqlx::Type`, `Decode` and `Encode` for a state enum stored as text.
///
/// `$parse` turns the stored text into `Option<$ty>`; `$text` turns a value into its text form.
macro_rules! text_state {
    ($ty:ty, $what:literal, $parse:expr, $text:expr) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let stored = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                let parse: fn(&str) -> Option<$ty> = $parse;
                parse(stored).ok_or_else(|| unknown($what, stored))
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, BoxDynError> {
                let text: fn(&$ty) -> String = $text;
                <String as sqlx::Encode<'q, DB>>::encode(text(self), buf)
            }
        }
    };
}

fn unknown(what: &str, stored: &str) -> BoxDynError {
    format!("the stored {what} {stored:?} is not one this service knows").into()
}

/// The text form serde gives a unit variant (`snake_case` for every state enum here).
pub(super) fn serde_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => unreachable!("a unit enum serialises as a string, not {other:?}"),
    }
}

fn serde_parse<T: serde::de::DeserializeOwned>(stored: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(stored.to_string())).ok()
}

text_state!(Status, "request status", Status::parse, |s| s
    .as_str()
    .to_string());
text_state!(StepState, "step state", StepState::parse, |s| s
    .as_str()
    .to_string());
text_state!(
    AssessmentStatus,
    "assessment status",
    AssessmentStatus::parse,
    |s| s.as_str().to_string()
);
text_state!(FindingStatus, "finding status", FindingStatus::parse, |s| s
    .as_str()
    .to_string());
text_state!(
    IncidentStatus,
    "incident status",
    |s| IncidentStatus::parse(s).ok(),
    |s| s.as_str().to_string()
);
text_state!(
    EvidenceKind,
    "incident evidence kind",
    |s| EvidenceKind::parse(s).ok(),
    |s| s.as_str().to_string()
);
text_state!(
    OrderStatus,
    "order status",
    |s| OrderStatus::parse(s).ok(),
    |s| s.as_str().to_string()
);
text_state!(
    ServiceStatus,
    "catalogue service status",
    ServiceStatus::parse,
    |s| s.as_str().to_string()
);
text_state!(Outcome, "decision outcome", serde_parse, serde_text);
text_state!(DenialReason, "denial reason", serde_parse, serde_text);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::StepKindTag;

    /// Every value of each enum: the `match` fails to compile when a variant is added and not listed here.
    fn every_step_state() -> Vec<StepState> {
        let all = [
            StepState::Pending,
            StepState::Satisfied,
            StepState::Waived,
            StepState::Blocked,
            StepState::Closed,
        ];
        for s in all {
            match s {
                StepState::Pending
                | StepState::Satisfied
                | StepState::Waived
                | StepState::Blocked
                | StepState::Closed => {}
            }
        }
        all.to_vec()
    }

    fn every_outcome() -> Vec<Outcome> {
        let all = [
            Outcome::Approve,
            Outcome::ApproveWithConditions,
            Outcome::Deny,
            Outcome::RequestChanges,
        ];
        for o in all {
            match o {
                Outcome::Approve
                | Outcome::ApproveWithConditions
                | Outcome::Deny
                | Outcome::RequestChanges => {}
            }
        }
        all.to_vec()
    }

    fn every_denial_reason() -> Vec<DenialReason> {
        use DenialReason::*;
        let all = [
            SecurityRisk,
            Cost,
            ContractTerms,
            ProhibitedTechnology,
            DuplicateOfCentralService,
            CouncilRejected,
            Other,
        ];
        for r in all {
            match r {
                SecurityRisk
                | Cost
                | ContractTerms
                | ProhibitedTechnology
                | DuplicateOfCentralService
                | CouncilRejected
                | Other => {}
            }
        }
        all.to_vec()
    }

    /// The values migration 0026 allows in `table.column`, as written in each backend's file.
    fn allowed(sql: &str, table: &str, column: &str) -> Vec<String> {
        let marker = match sql.contains("CREATE TRIGGER") {
            true => format!("BEFORE INSERT ON {table}\nWHEN NEW.{column} NOT IN ("),
            false => format!(
                "ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_known CHECK ({column} IN ("
            ),
        };
        let start = sql
            .find(&marker)
            .unwrap_or_else(|| panic!("no constraint on {table}.{column}"))
            + marker.len();
        let end = start + sql[start..].find(')').unwrap();
        sql[start..end]
            .split(", ")
            .map(|v| v.trim_matches('\'').to_string())
            .collect()
    }

    #[test]
    fn the_known_state_constraints_list_exactly_the_domain_values() {
        let text = |values: Vec<String>| {
            let mut values = values;
            values.sort();
            values
        };
        let expected = [
            (
                "requests",
                "status",
                text(Status::ALL.iter().map(|s| s.as_str().into()).collect()),
            ),
            (
                "route_steps",
                "kind",
                text(StepKindTag::ALL.iter().map(|k| k.as_str().into()).collect()),
            ),
            (
                "route_steps",
                "state",
                text(
                    every_step_state()
                        .iter()
                        .map(|s| s.as_str().into())
                        .collect(),
                ),
            ),
            (
                "decisions",
                "step",
                text(
                    StepKindTag::ALL
                        .iter()
                        .map(|k| k.as_str().to_string())
                        .chain([crate::domain::route::POLICY_STEP.to_string()])
                        .collect(),
                ),
            ),
            (
                "decisions",
                "outcome",
                text(every_outcome().iter().map(serde_text).collect()),
            ),
            (
                "decisions",
                "reason_code",
                text(every_denial_reason().iter().map(serde_text).collect()),
            ),
        ];
        for (backend, sql) in [
            (
                "sqlite",
                include_str!("../../migrations/sqlite/0026_known_states.sql"),
            ),
            (
                "postgres",
                include_str!("../../migrations/postgres/0026_known_states.sql"),
            ),
        ] {
            for (table, column, values) in &expected {
                assert_eq!(
                    &text(allowed(sql, table, column)),
                    values,
                    "{backend}: {table}.{column}"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_state_reads_from_its_text_and_an_unknown_one_is_an_error_naming_it() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let (known,): (FindingStatus,) = sqlx::query_as("SELECT 'remediation_planned'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(known, FindingStatus::RemediationPlanned);
        let (outcome,): (Outcome,) = sqlx::query_as("SELECT $1")
            .bind(Outcome::ApproveWithConditions)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::ApproveWithConditions);

        let error = sqlx::query_as::<_, (Status,)>("SELECT 'archived'")
            .fetch_one(&pool)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("request status \"archived\" is not one this service knows"),
            "{error}"
        );
    }
}
