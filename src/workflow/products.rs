//! Products and the reuse of their accepted assessments: who registers a product, and when a security analyst
//! may confirm that a request reuses a product's accepted questionnaire.

use super::requests::RequestState;
use super::{Caller, Refusal};
use crate::domain::problems::ProblemCode;
use crate::domain::roles::Role;

/// Buyers, security analysts, the CIO office and admins register a vendor's product; the vendor must be
/// registered.
pub fn create(caller: &Caller, vendor_known: bool) -> Result<(), Refusal> {
    let may = [Role::Buyer, Role::SecurityAnalyst, Role::Cio, Role::Admin]
        .iter()
        .any(|r| caller.has(*r));
    if !may {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "buyers, security analysts, the CIO office and admins register products",
        ));
    }
    if !vendor_known {
        return Err(Refusal::field(
            "vendor_id",
            "no vendor is registered with this id",
        ));
    }
    Ok(())
}

/// The reuse of one questionnaire by the current submission, as recorded: whether the policy asked for a
/// confirmation and whether one was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedReuse {
    pub needs_confirmation: bool,
    pub confirmed: bool,
}

/// A security analyst confirms that the request under review reuses the product's accepted `questionnaire`:
/// only a reuse the policy held for confirmation, once.
pub fn confirm_reuse(
    state: &RequestState,
    caller: &Caller,
    questionnaire: &str,
    recorded: Option<RecordedReuse>,
) -> Result<(), Refusal> {
    if !caller.has(Role::SecurityAnalyst) {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "a security analyst confirms a reuse",
        ));
    }
    if !state.status.in_review() {
        return Err(Refusal::conflict(
            ProblemCode::NotInReview,
            format!(
                "the request is {}: a reuse is confirmed while it is under review",
                state.status.as_str()
            ),
        ));
    }
    match recorded {
        None => Err(Refusal::field(
            "questionnaire",
            format!(
                "{questionnaire:?} is not satisfied by reference to the product in this request's current route"
            ),
        )),
        Some(r) if !r.needs_confirmation => Err(Refusal::conflict(
            ProblemCode::ConfirmationNotRequired,
            format!(
                "the reuse of {questionnaire} needed no confirmation under the policy it was routed under"
            ),
        )),
        Some(r) if r.confirmed => Err(Refusal::conflict(
            ProblemCode::AlreadyConfirmed,
            format!("the reuse of {questionnaire} is already confirmed"),
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::requests::Status;
    use crate::workflow::requests::tests::{caller, draft};
    use crate::workflow::route::tests::fields;

    #[test]
    fn only_an_analyst_confirms_a_held_reuse_once_while_in_review() {
        let mut state = draft(fields());
        let ana = caller("ana", Role::SecurityAnalyst);
        let held = Some(RecordedReuse {
            needs_confirmation: true,
            confirmed: false,
        });
        assert!(matches!(
            confirm_reuse(&state, &ana, "city-baseline", held),
            Err(Refusal::Conflict {
                code: ProblemCode::NotInReview,
                ..
            })
        ));
        state.status = Status::InReview;
        assert_eq!(confirm_reuse(&state, &ana, "city-baseline", held), Ok(()));
        assert!(matches!(
            confirm_reuse(&state, &caller("bea", Role::Buyer), "city-baseline", held),
            Err(Refusal::Forbidden { .. })
        ));
        assert!(matches!(
            confirm_reuse(&state, &ana, "city-baseline", None),
            Err(Refusal::Invalid(_))
        ));
        let done = Some(RecordedReuse {
            needs_confirmation: true,
            confirmed: true,
        });
        assert!(matches!(
            confirm_reuse(&state, &ana, "city-baseline", done),
            Err(Refusal::Conflict {
                code: ProblemCode::AlreadyConfirmed,
                ..
            })
        ));
        let free = Some(RecordedReuse {
            needs_confirmation: false,
            confirmed: false,
        });
        assert!(matches!(
            confirm_reuse(&state, &ana, "city-baseline", free),
            Err(Refusal::Conflict {
                code: ProblemCode::ConfirmationNotRequired,
                ..
            })
        ));
    }

    #[test]
    fn a_vendor_cannot_register_products_and_the_vendor_must_exist() {
        assert!(matches!(
            create(&caller("v", Role::Vendor), true),
            Err(Refusal::Forbidden { .. })
        ));
        assert!(matches!(
            create(&caller("bea", Role::Buyer), false),
            Err(Refusal::Invalid(_))
        ));
        assert_eq!(create(&caller("ana", Role::SecurityAnalyst), true), Ok(()));
    }
}
