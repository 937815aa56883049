//! The contract clauses a routed request's safeguards and evidence steps name [201 CMR 17.03(2)(f)(2)]:
//! analysts and the CIO record clauses present; only the CIO waives one.

use crate::domain::contracts::{ChecklistEntry, LIBRARY, checklist};
use crate::domain::policy::Route;
use crate::domain::problems::ProblemCode;
use crate::domain::roles::Role;
use crate::domain::safeguards::ClauseStatus;

use super::requests::{Action, RequestState, ensure};
use super::{Caller, Fault, Refusal};

/// The checklist of a routed request; refused when its route needs neither safeguards nor evidence.
pub fn checklist_of(
    route: Option<&Route>,
    state: &RequestState,
) -> Result<Vec<ChecklistEntry>, Refusal> {
    let entries = route
        .map(|route| checklist(&LIBRARY, route, &state.fields.data_classes))
        .unwrap_or_default();
    if entries.is_empty() {
        return Err(Refusal::conflict(
            ProblemCode::NoSafeguardsStep,
            "this request's route needs neither contract safeguards nor evidence",
        ));
    }
    Ok(entries)
}

/// Checks a change of clauses: the request is under review, each clause is on its checklist, and only the CIO
/// waives. Returns the checklist.
pub fn record(
    state: &RequestState,
    caller: &Caller,
    changes: &[(String, ClauseStatus)],
) -> Result<Vec<ChecklistEntry>, Refusal> {
    ensure(state, caller, Action::RecordSafeguards)?;
    if !(caller.has(Role::SecurityAnalyst) || caller.has(Role::Cio)) {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "security analysts and the CIO record contract clauses",
        ));
    }
    if changes
        .iter()
        .any(|(_, status)| matches!(status, ClauseStatus::Waived { .. }))
        && !caller.has(Role::Cio)
    {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "only the CIO waives a contract clause",
        ));
    }
    let entries = checklist_of(state.route.as_ref(), state)?;
    let faults: Vec<Fault> = changes
        .iter()
        .enumerate()
        .filter(|(_, (clause, _))| !entries.iter().any(|e| &e.clause_id == clause))
        .map(|(i, (clause, _))| {
            Fault::new(
                format!("clauses[{i}].clause_id"),
                format!("{clause:?} is not on this request's checklist"),
            )
        })
        .collect();
    if !faults.is_empty() {
        return Err(Refusal::Invalid(faults));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::DataClass;
    use crate::workflow::requests::tests::{applied, caller, draft};
    use crate::workflow::requests::{self, Evidence};
    use crate::workflow::route::tests::{fields, routing};

    fn with_pi() -> RequestState {
        let mut f = fields();
        f.data_classes = [DataClass::PiMa].into();
        let state = draft(f);
        let plan = requests::submit(
            &state,
            &caller("bea", Role::Buyer),
            &routing(),
            &Evidence::default(),
            1,
        )
        .unwrap();
        applied(&state, &plan)
    }

    fn waived() -> ClauseStatus {
        ClauseStatus::Waived {
            justification: "covered by the master agreement".into(),
            waived_by: "x".into(),
            waived_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn only_the_cio_waives_and_only_clauses_on_the_checklist() {
        let state = with_pi();
        let change = vec![("breach-notice".to_string(), waived())];
        assert_eq!(
            record(&state, &caller("ana", Role::SecurityAnalyst), &change)
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert!(record(&state, &caller("carla", Role::Cio), &change).is_ok());
        let unknown = vec![("no-such-clause".to_string(), ClauseStatus::Missing)];
        let Err(Refusal::Invalid(faults)) =
            record(&state, &caller("ana", Role::SecurityAnalyst), &unknown)
        else {
            panic!("refused")
        };
        assert_eq!(faults[0].field, "clauses[0].clause_id");
    }

    #[test]
    fn a_public_purchase_has_no_checklist() {
        let state = draft(fields());
        assert_eq!(
            checklist_of(None, &state).unwrap_err().code(),
            "no_safeguards_step"
        );
    }
}
