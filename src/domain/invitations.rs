//! What a vendor invitation reaches. An invitation is issued for one request (or for named assessments of it);
//! its token reaches those assessments and what hangs off them, and nothing else of the vendor's.

use serde::Serialize;
use uuid::Uuid;

/// The reach of one invitation token, as stored with the invitation (never as the token claims it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvitationGrant {
    /// The invitation.
    pub id: Uuid,
    pub vendor: Uuid,
    /// The request it was issued for.
    pub request: Uuid,
    /// The assessments it names; empty for every assessment of the request.
    pub assessments: Vec<Uuid>,
    /// The staff member who issued it (their token subject).
    pub invited_by: String,
}

impl InvitationGrant {
    /// Whether an object of `vendor`'s, made for `request` under `assessment`, lies within the invitation.
    pub fn reaches(&self, vendor: Uuid, request: Uuid, assessment: Uuid) -> bool {
        vendor == self.vendor
            && request == self.request
            && (self.assessments.is_empty() || self.assessments.contains(&assessment))
    }

    /// The invitation whose assessments must be looked up to filter a list: `Some(id)` when it names
    /// assessments, `None` when it reaches the whole request.
    pub fn named_assessments_of(&self) -> Option<Uuid> {
        (!self.assessments.is_empty()).then_some(self.id)
    }

    /// What an audit record made with this invitation says about it.
    pub fn audit_context(&self) -> serde_json::Value {
        serde_json::json!({
            "invitation_id": self.id,
            "invited_by": self.invited_by,
            "request_id": self.request,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(assessments: Vec<Uuid>) -> InvitationGrant {
        InvitationGrant {
            id: Uuid::from_u128(1),
            vendor: Uuid::from_u128(2),
            request: Uuid::from_u128(3),
            assessments,
            invited_by: "bea".into(),
        }
    }

    #[test]
    fn a_request_invitation_reaches_every_assessment_of_that_request_and_nothing_else() {
        let g = grant(Vec::new());
        let (vendor, request) = (Uuid::from_u128(2), Uuid::from_u128(3));
        assert!(g.reaches(vendor, request, Uuid::from_u128(10)));
        assert!(g.reaches(vendor, request, Uuid::from_u128(11)));
        assert!(!g.reaches(vendor, Uuid::from_u128(4), Uuid::from_u128(10)));
        assert!(!g.reaches(Uuid::from_u128(5), request, Uuid::from_u128(10)));
        assert_eq!(g.named_assessments_of(), None);
    }

    #[test]
    fn an_invitation_naming_assessments_reaches_only_those() {
        let g = grant(vec![Uuid::from_u128(10)]);
        let (vendor, request) = (Uuid::from_u128(2), Uuid::from_u128(3));
        assert!(g.reaches(vendor, request, Uuid::from_u128(10)));
        assert!(!g.reaches(vendor, request, Uuid::from_u128(11)));
        assert_eq!(g.named_assessments_of(), Some(Uuid::from_u128(1)));
    }

    #[test]
    fn the_audit_context_names_the_invitation_and_the_inviter() {
        let c = grant(Vec::new()).audit_context();
        assert_eq!(c["invitation_id"], Uuid::from_u128(1).to_string());
        assert_eq!(c["invited_by"], "bea");
        assert_eq!(c["request_id"], Uuid::from_u128(3).to_string());
    }
}
