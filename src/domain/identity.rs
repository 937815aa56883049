//! Who someone is, as the service compares it. Identity providers differ in how they spell a subject
//! (`BUYER-ISD`, `buyer-isd`), so every comparison of two subjects — separation of duties, read marks — goes
//! through [`subject_key`], never through the raw strings.

/// The one form in which subjects are compared: trimmed and case-folded. Upper-casing before lower-casing
/// folds the characters whose lower-case mapping alone would leave them apart (`ß` and `SS`, `ς` and `Σ`).
pub fn subject_key(subject: &str) -> String {
    subject.trim().to_uppercase().to_lowercase()
}

/// Whether two subjects name the same person.
pub fn same_subject(a: &str, b: &str) -> bool {
    subject_key(a) == subject_key(b)
}

/// Why a token's subject cannot be used, if it cannot: empty, or with whitespace around it (a subject that only
/// differs from another by spaces would otherwise be a second identity for the same person).
pub fn subject_fault(subject: &str) -> Option<&'static str> {
    if subject.is_empty() {
        Some("the bearer token's subject is empty")
    } else if subject.trim() != subject {
        Some("the bearer token's subject has spaces around it")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_that_differ_only_in_case_are_the_same_person() {
        assert!(same_subject("BUYER-ISD", "buyer-isd"));
        assert!(same_subject("Straße", "STRASSE"));
        assert!(same_subject(" buyer-isd ", "buyer-isd"));
        assert!(!same_subject("buyer-isd", "buyer-isd2"));
        assert_eq!(subject_key("  Alice@City.Example "), "alice@city.example");
    }

    #[test]
    fn an_empty_or_padded_subject_is_at_fault() {
        assert!(subject_fault("").is_some());
        assert!(subject_fault(" buyer-isd").is_some());
        assert!(subject_fault("buyer-isd\t").is_some());
        assert_eq!(subject_fault("buyer-isd"), None);
    }
}
