//! The domain's own errors: [`Invalid`], an input that breaks its rules, with every field (or spreadsheet cell)
//! at fault; and [`Refusal`], a command the rules refuse. They know nothing of HTTP: the API answers each with its
//! problem document (`crate::error`).

use crate::domain::problems::ProblemCode;
use poem_openapi::Object;
use serde::Serialize;

/// One field (or spreadsheet cell) at fault in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct FieldError {
    /// The JSON field path (`contacts[0].email`), query/path parameter, header, or spreadsheet cell
    /// (`Questions!D14`) at fault.
    pub field: String,
    /// What is wrong with it, in words a person can act on.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An input the rules refuse: every fault found, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    /// One field at fault.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError::new(field, message)])
    }

    /// `Ok(value)` when no fault was found, else every fault.
    pub fn check<T>(faults: Vec<FieldError>, value: T) -> Result<T, Invalid> {
        if faults.is_empty() {
            Ok(value)
        } else {
            Err(Invalid(faults))
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let faults: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&faults.join("; "))
    }
}

impl std::error::Error for Invalid {}

/// Why a command was refused, in words a person can act on, with a stable machine-readable code.
///
/// The API answers each kind with its own status: `Conflict` 409 (with the actions that would have been
/// allowed), `Forbidden` 403, `Invalid` 422 (naming every field at fault), `NotFound` 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The object's state does not allow the command.
    Conflict {
        code: ProblemCode,
        detail: String,
        allowed: Vec<String>,
    },
    /// The actor may not do this, whatever the state.
    Forbidden { code: ProblemCode, detail: String },
    /// Input that parsed but breaks a rule: each field (JSON path, parameter or spreadsheet cell) and why.
    Invalid(Vec<FieldError>),
    /// An object the command names does not exist or lies outside the actor's scope.
    NotFound(&'static str),
}

impl Refusal {
    pub fn conflict(code: ProblemCode, detail: impl Into<String>) -> Refusal {
        Refusal::Conflict {
            code,
            detail: detail.into(),
            allowed: Vec::new(),
        }
    }

    pub fn forbidden(code: ProblemCode, detail: impl Into<String>) -> Refusal {
        Refusal::Forbidden {
            code,
            detail: detail.into(),
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal::Invalid(vec![FieldError {
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

    pub fn code(&self) -> ProblemCode {
        match self {
            Refusal::Conflict { code, .. } | Refusal::Forbidden { code, .. } => *code,
            Refusal::Invalid(_) => ProblemCode::ValidationFailed,
            Refusal::NotFound(_) => ProblemCode::NotFound,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

impl From<Invalid> for Refusal {
    fn from(invalid: Invalid) -> Self {
        Refusal::Invalid(invalid.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_with_no_fault_passes_and_one_with_faults_names_each() {
        assert_eq!(Invalid::check(Vec::new(), 7), Ok(7));
        let faults = vec![
            FieldError::new("limit", "too big"),
            FieldError::new("offset", "negative"),
        ];
        let invalid = Invalid::check(faults, 7).unwrap_err();
        assert_eq!(invalid.to_string(), "limit: too big; offset: negative");
    }
}
