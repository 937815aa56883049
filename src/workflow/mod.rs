//! The workflow: pure planners. Each takes the current state of an object (loaded by the store), the actor and
//! a command, and returns what must change, or a [`Refusal`] naming the rule that refuses it. Nothing here does
//! I/O: the store loads, applies the plan and audits in one transaction, and handlers parse, call and shape.

pub mod assessments;
pub mod budgets;
pub mod contracts;
pub mod webhooks;

use crate::domain::roles::Role;

pub mod council;
pub mod duplicates;
pub mod incidents;
#[cfg(test)]
mod invariants;
pub mod orders;
pub mod products;
pub mod requests;
pub mod route;
pub mod safeguards;
pub mod surveillance;

/// Who acts, as the planners see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The subject as the token gives it, for the record.
    pub subject: String,
    /// The subject in the one form people are compared in: see [`subject_key`].
    pub key: String,
    pub roles: Vec<Role>,
    /// A buyer's department code.
    pub department: Option<String>,
}

impl Caller {
    pub fn new(subject: &str, roles: Vec<Role>, department: Option<String>) -> Caller {
        Caller {
            subject: subject.to_string(),
            key: subject_key(subject),
            roles,
            department,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// A buyer of this department.
    pub fn buys_for(&self, department: &str) -> bool {
        self.has(Role::Buyer) && self.department.as_deref() == Some(department)
    }
}

/// The form in which two subjects are compared (separation of duties): trimmed and case-folded, so that
/// `BUYER-ISD` and ` buyer-isd` are one person, as identity providers treat them.
pub fn subject_key(subject: &str) -> String {
    subject.trim().to_lowercase()
}

pub use crate::domain::invalid::{FieldError as Fault, Refusal};
