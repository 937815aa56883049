//! The workflow: pure planners. Each takes the current state of an object (loaded by the store), the actor and
//! a command, and returns what must change, or a [`Refusal`] naming the rule that refuses it. Nothing here does
//! I/O: the store loads, applies the plan and audits in one transaction, and handlers parse, call and shape.

pub mod assessments;
pub mod budgets;
pub mod contracts;
pub mod webhooks;

use std::fmt;

use crate::auth::Role;

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

/// Why a command was refused, in words a person can act on, with a stable machine-readable code.
///
/// The API answers each kind with its own status: `Conflict` 409 (with the actions that would have been
/// allowed), `Forbidden` 403, `Invalid` 422 (naming every field at fault), `NotFound` 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The object's state does not allow the command.
    Conflict {
        code: &'static str,
        detail: String,
        allowed: Vec<String>,
    },
    /// The actor may not do this, whatever the state.
    Forbidden { code: &'static str, detail: String },
    /// Input that parsed but breaks a rule: each field (JSON path, parameter or spreadsheet cell) and why.
    Invalid(Vec<Fault>),
    /// An object the command names does not exist or lies outside the actor's scope.
    NotFound(&'static str),
}

/// One field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub field: String,
    pub message: String,
}

impl Fault {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Refusal {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal::Conflict {
            code,
            detail: detail.into(),
            allowed: Vec::new(),
        }
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal::Forbidden {
            code,
            detail: detail.into(),
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal::Invalid(vec![Fault {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The actions that would have been allowed, for a conflict.
    pub fn with_allowed(mut self, actions: Vec<String>) -> Refusal {
        if let Refusal::Conflict { allowed, .. } = &mut self {
            *allowed = actions;
        }
        self
    }

    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Conflict { code, .. } | Refusal::Forbidden { code, .. } => code,
            Refusal::Invalid(_) => "validation_failed",
            Refusal::NotFound(_) => "not_found",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Conflict { detail, .. } | Refusal::Forbidden { detail, .. } => {
                f.write_str(detail)
            }
            Refusal::Invalid(faults) => {
                let parts: Vec<String> = faults
                    .iter()
                    .map(|fault| format!("{}: {}", fault.field, fault.message))
                    .collect();
                f.write_str(&parts.join("; "))
            }
            Refusal::NotFound(what) => write!(f, "{what} not found"),
        }
    }
}

impl std::error::Error for Refusal {}
