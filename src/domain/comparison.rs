//! What a route records about comparisons the service made itself: a renewal against what it renews, and a
//! version of a decided request against the decided version. Both are shown to the reader of the route, so that
//! a fast path or a decision that stands can be defended later.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One comparison and its result, in words: `expected users 100 -> 105, within 10%`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was compared: `vendor`, `product`, `data classes`, `hosting`, `surveillance`, `users`,
    /// `annual value`, or `status` (whether what is renewed is itself approved and in force).
    pub what: String,
    /// Whether the comparison found no material change.
    pub passed: bool,
    pub detail: String,
}

/// A renewal's link and the comparison that decided whether its fast path may apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalBasis {
    /// `request` or `contract`.
    pub renews_kind: String,
    pub renews_id: Uuid,
    /// What is renewed, for a reader: `request "Permit e-signature" (approved in version 1)`.
    pub renews_label: String,
    pub checks: Vec<Check>,
    /// Every check passed: the renewal changes nothing material.
    pub unchanged: bool,
}

/// How this version of a decided request compares with the version whose decision stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// The submitted version whose decision is compared against.
    pub decided_submission: i32,
    /// Whether review re-opened.
    pub material: bool,
    /// Each route fact that differs from the decided version: `expected_users: 100 -> 5,000`.
    pub changes: Vec<String>,
    /// Why review re-opened, naming the decided value and the new one; empty when the decision stands.
    pub reasons: Vec<String>,
}
