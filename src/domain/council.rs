//! City Council approval of surveillance technology [Boston 16-63]: the vote as recorded, and the documents
//! the ordinance asks for.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

/// The documents a Council approval needs [Boston 16-63.3]: the policy names them on the route step (its
/// `attachments`, which a policy may only name from these).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Enum,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum CouncilDocumentKind {
    /// The Surveillance Use Policy.
    SurveillanceUsePolicy,
    /// The Surveillance Impact Report.
    SurveillanceImpactReport,
}

impl CouncilDocumentKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum CouncilOutcome {
    Approved,
    Rejected,
}

impl CouncilOutcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A vote of the City Council on a request's `council_approval` step, as an admin recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
pub struct CouncilVote {
    pub id: Uuid,
    pub request_id: Uuid,
    /// The submitted version voted on.
    pub submission: i32,
    /// The Council's docket or order number.
    pub docket: String,
    pub vote_date: NaiveDate,
    pub outcome: CouncilOutcome,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A document attached for the Council, judged by its bytes and kept with its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object, sqlx::FromRow)]
pub struct CouncilDocument {
    pub id: Uuid,
    pub request_id: Uuid,
    pub kind: CouncilDocumentKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}
