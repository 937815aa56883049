//! Learning from the CIO office's duplicate decisions [EO 2025 Art. 3]: a dismissal of a match carries over to
//! later requests of the same department for the same product, and a denial as a duplicate of a central
//! service proposes the request's product name as an alias of that service.
//!
//! Products are compared as the matcher compares names ([`Lexicon::glued_name`]): abbreviations expanded,
//! spacing, punctuation and case removed, so "Adobe Sign", "adobe-sign" and "AdobeSign" are one product.

use chrono::{DateTime, Utc};
use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

use super::duplicates::{CandidateKind, Lexicon};

/// Product names that name no product: a request that gives one of these names none.
const PLACEHOLDERS: &[&str] = &[
    "tbd",
    "tba",
    "tbc",
    "na",
    "none",
    "unknown",
    "various",
    "other",
    "generic",
    "notapplicable",
    "tobedetermined",
    "tobeconfirmed",
    "notknown",
    "notyetknown",
];

/// The product a request names, as the matcher compares names; `None` when it names none (empty, or a
/// placeholder such as "TBD" or "N/A").
pub fn product_key(lex: &Lexicon, product_name: &str) -> Option<String> {
    let key = lex.glued_name(product_name);
    (!key.is_empty() && !PLACEHOLDERS.contains(&key.as_str())).then_some(key)
}

/// Where a catalogue alias proposed by a denial as a duplicate of a central service stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum AliasProposalStatus {
    /// Waits for the CIO office.
    Proposed,
    /// The alias was added to the service.
    Accepted,
    Rejected,
}

impl AliasProposalStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A CIO dismissal of a match for a request, as the store reads it (the row of `duplicate_dismissals`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct PriorDismissal {
    /// The request it was made for.
    pub request_id: Uuid,
    #[sqlx(rename = "department_code")]
    pub department: String,
    /// The product that request named when the match was dismissed.
    pub product_name: String,
    pub candidate_kind: CandidateKind,
    pub candidate_id: String,
    pub reason: String,
    pub dismissed_by: String,
    pub dismissed_at: DateTime<Utc>,
}

impl PriorDismissal {
    /// For the route: `dismissed by carla on 2026-11-30 for request 7c1e... (same department and product):
    /// Finance only`.
    pub fn citation(&self) -> String {
        format!(
            "dismissed by {} on {} for request {} (same department and product): {}",
            self.dismissed_by,
            self.dismissed_at.format("%Y-%m-%d"),
            self.request_id,
            self.reason
        )
    }
}

/// The earlier dismissals that carry over to request `request` of `department` naming `product_name`: at
/// most one per candidate (the latest), only for catalogue services, only from another request of the same
/// department that named the same product. A request that names no product inherits nothing: without a
/// product nothing says it buys what the dismissed request bought, so the CIO office judges it afresh.
pub fn carried_over(
    lex: &Lexicon,
    request: Uuid,
    department: &str,
    product_name: &str,
    prior: &[PriorDismissal],
) -> Vec<PriorDismissal> {
    let Some(key) = product_key(lex, product_name) else {
        return Vec::new();
    };
    let mut out: Vec<PriorDismissal> = Vec::new();
    for p in prior {
        if p.request_id == request
            || p.department != department
            || p.candidate_kind != CandidateKind::Service
            || product_key(lex, &p.product_name).as_deref() != Some(key.as_str())
        {
            continue;
        }
        match out
            .iter_mut()
            .find(|o| o.candidate_kind == p.candidate_kind && o.candidate_id == p.candidate_id)
        {
            Some(o) if o.dismissed_at >= p.dismissed_at => {}
            Some(o) => *o = p.clone(),
            None => out.push(p.clone()),
        }
    }
    out
}

/// The alias a denial as a duplicate of a service proposes: the request's product name, trimmed, unless it
/// names no product or the service already answers to it (its name or one of its aliases, compared as the
/// matcher compares names).
pub fn proposed_alias(
    lex: &Lexicon,
    product_name: &str,
    service_name: &str,
    aliases: &[String],
) -> Option<String> {
    let key = product_key(lex, product_name)?;
    let known = std::iter::once(service_name)
        .chain(aliases.iter().map(String::as_str))
        .any(|name| lex.glued_name(name) == key);
    (!known).then(|| {
        product_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::duplicates::default_lexicon;

    fn dismissal(request: u128, department: &str, product: &str, service: &str) -> PriorDismissal {
        PriorDismissal {
            request_id: Uuid::from_u128(request),
            department: department.into(),
            product_name: product.into(),
            candidate_kind: CandidateKind::Service,
            candidate_id: service.into(),
            reason: "Finance only".into(),
            dismissed_by: "carla".into(),
            dismissed_at: DateTime::from_timestamp(1_700_000_000 + request as i64, 0).unwrap(),
        }
    }

    #[test]
    fn products_are_compared_as_the_matcher_compares_names() {
        let lex = default_lexicon();
        assert_eq!(
            product_key(&lex, "Adobe Sign"),
            product_key(&lex, "adobe-sign")
        );
        assert_eq!(
            product_key(&lex, "Adobe Sign"),
            product_key(&lex, "AdobeSign")
        );
        assert_eq!(
            product_key(&lex, "MS Teams"),
            product_key(&lex, "Microsoft Teams")
        );
        assert_eq!(product_key(&lex, "  "), None);
        assert_eq!(product_key(&lex, "TBD"), None);
        assert_eq!(product_key(&lex, "N/A"), None);
        assert_eq!(product_key(&lex, "to be determined"), None);
    }

    #[test]
    fn a_dismissal_carries_over_to_the_same_department_and_product_only() {
        let lex = default_lexicon();
        let me = Uuid::from_u128(99);
        let prior = vec![
            dismissal(1, "FIN", "Adobe Sign", "svc-a"),
            dismissal(2, "BPS", "Adobe Sign", "svc-a"),
            dismissal(3, "FIN", "DocuSign", "svc-a"),
            dismissal(99, "FIN", "Adobe Sign", "svc-b"),
            PriorDismissal {
                candidate_kind: CandidateKind::Purchase,
                ..dismissal(4, "FIN", "Adobe Sign", "p-1")
            },
            dismissal(5, "FIN", "adobe sign", "svc-a"),
            dismissal(6, "FIN", "Adobe-Sign", "svc-c"),
        ];
        let carried = carried_over(&lex, me, "FIN", "AdobeSign", &prior);
        let ids: Vec<(&str, u128)> = carried
            .iter()
            .map(|d| (d.candidate_id.as_str(), d.request_id.as_u128()))
            .collect();
        // svc-a: the latest of requests 1 and 5; svc-c from request 6; not another department (2), another
        // product (3), this request's own dismissal (99) or a purchase (4).
        assert_eq!(ids, vec![("svc-a", 5), ("svc-c", 6)]);
        assert!(carried_over(&lex, me, "FIN", "", &prior).is_empty());
        assert!(carried_over(&lex, me, "FIN", "TBD", &prior).is_empty());
        assert!(carried_over(&lex, me, "HR", "Adobe Sign", &prior).is_empty());
        assert!(
            carried[0]
                .citation()
                .starts_with("dismissed by carla on 2023-11-14 for request")
        );
        assert!(
            carried[0]
                .citation()
                .ends_with("(same department and product): Finance only")
        );
    }

    #[test]
    fn a_denial_proposes_the_product_name_unless_the_service_already_answers_to_it() {
        let lex = default_lexicon();
        let aliases = vec!["DocuSign".to_string(), "MS Teams".to_string()];
        assert_eq!(
            proposed_alias(&lex, "  Adobe   Sign ", "Enterprise e-signature", &aliases),
            Some("Adobe Sign".into())
        );
        assert_eq!(
            proposed_alias(&lex, "Docu Sign", "Enterprise e-signature", &aliases),
            None
        );
        assert_eq!(
            proposed_alias(&lex, "Microsoft Teams", "Collaboration", &aliases),
            None
        );
        assert_eq!(
            proposed_alias(
                &lex,
                "enterprise e-signature",
                "Enterprise e-signature",
                &aliases
            ),
            None
        );
        assert_eq!(
            proposed_alias(&lex, "", "Enterprise e-signature", &aliases),
            None
        );
        assert_eq!(
            proposed_alias(&lex, "TBD", "Enterprise e-signature", &aliases),
            None
        );
    }
}
