//! The domain's states as column types.
//!
//! A state column holds the state's text form (`open`, `remediation_planned`). Records read it straight into the
//! domain's enum, so a value the service does not know fails the read with an error that names the column's
//! kind and the value — never a default in its place (an unknown request status read as `draft` would make a
//! closed request editable). The migrations' `CHECK` constraints (in the tables, and from 0026, 0029 and 0030)
//! keep such values out in the first place; `tests/api/states.rs` holds each column's constraint to its enum's
//! values, on both backends, from the database's catalogue.
//!
//! One impl per enum, generic over the backend, so SQLite and PostgreSQL decode alike.

use std::str::FromStr;

use sqlx::error::BoxDynError;

use crate::domain::assessments::{AssessmentReviewVerdict, AssessmentStatus, FindingStatus};
use crate::domain::audit::VerifyScope;
use crate::domain::budgets::{BudgetReviewVerdict, BudgetStatus, Centralization};
use crate::domain::catalog::ServiceStatus;
use crate::domain::contracts::DataDisposition;
use crate::domain::council::{CouncilDocumentKind, CouncilOutcome};
use crate::domain::duplicate_learning::AliasProposalStatus;
use crate::domain::duplicates::{CandidateKind, ExceptionStatus, MatchClass};
use crate::domain::incidents::{EvidenceKind, IncidentStatus, NoticeRecipient};
use crate::domain::orders::{AppealOutcome, OrderStatus};
use crate::domain::policy::{Hosting, StepKindTag};
use crate::domain::questionnaires::Severity;
use crate::domain::requests::{Status, VersionKind};
use crate::domain::roles::Role;
use crate::domain::route::{DenialReason, Outcome, StepState};
use crate::domain::safeguards::SafeguardState;
use crate::domain::webhooks::{DeliveryChannel, DeliveryStatus};

/// Implements `sqlx::Type`, `Decode` and `Encode` for a state enum stored as its text form: the one strum
/// derives on the enum (`IntoStaticStr` to write it, `EnumString` to read it back).
macro_rules! text_state {
    ($ty:ty, $what:literal) => {
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
                stored($what, <&'r str as sqlx::Decode<'r, DB>>::decode(value)?)
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
                let text: &'static str = (*self).into();
                <String as sqlx::Encode<'q, DB>>::encode(text.to_string(), buf)
            }
        }
    };
}

/// The state a stored text form stands for; one the service does not know is an error that names the column's
/// kind (`what`) and the value, never a default.
pub(super) fn stored<T: FromStr>(what: &str, stored: &str) -> Result<T, BoxDynError> {
    stored
        .parse()
        .map_err(|_| format!("the stored {what} {stored:?} is not one this service knows").into())
}

text_state!(Status, "request status");
text_state!(StepState, "step state");
text_state!(AssessmentStatus, "assessment status");
text_state!(FindingStatus, "finding status");
text_state!(IncidentStatus, "incident status");
text_state!(EvidenceKind, "incident evidence kind");
text_state!(OrderStatus, "order status");
text_state!(ServiceStatus, "catalogue service status");
text_state!(Outcome, "decision outcome");
text_state!(DenialReason, "denial reason");
text_state!(StepKindTag, "step kind");
text_state!(BudgetStatus, "budget status");
text_state!(Centralization, "plan item centralization");
text_state!(CouncilOutcome, "Council outcome");
text_state!(AssessmentReviewVerdict, "assessment review outcome");
text_state!(BudgetReviewVerdict, "budget review outcome");
text_state!(DeliveryStatus, "delivery status");
text_state!(DeliveryChannel, "delivery channel");
text_state!(VersionKind, "request version kind");
text_state!(ExceptionStatus, "duplicate exception status");
text_state!(SafeguardState, "safeguard status");
text_state!(AliasProposalStatus, "alias proposal status");
text_state!(AppealOutcome, "appeal outcome");
text_state!(NoticeRecipient, "incident notice recipient");
text_state!(CandidateKind, "duplicate candidate kind");
text_state!(MatchClass, "duplicate match class");
text_state!(Severity, "finding severity");
text_state!(Hosting, "product hosting");
text_state!(DataDisposition, "contract data disposition");
text_state!(Role, "role");
text_state!(CouncilDocumentKind, "Council document kind");
text_state!(VerifyScope, "audit checkpoint scope");

#[cfg(test)]
mod tests {
    use super::*;

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
