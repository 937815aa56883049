//! The City Technology Plan and the departments' technology budgets [EO 2025 Art. 1-2]: who may change them,
//! when, and the joint approval of each budget by the CIO office and Finance. Also the check of the budget line
//! a request names.

use crate::domain::problems::ProblemCode;
use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::{Caller, Fault, Refusal};
use crate::domain::budgets::{BudgetReviewVerdict, BudgetStatus, LineFields};
use crate::domain::roles::Role;

/// The CIO office (and admins) keep the plan.
pub fn plan_editor(caller: &Caller) -> Result<(), Refusal> {
    if caller.has(Role::Cio) || caller.has(Role::Admin) {
        Ok(())
    } else {
        Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            "the CIO office keeps the City Technology Plan",
        ))
    }
}

/// Plan items that a change names must exist.
pub fn plan_items_known(lines: &[LineFields], known: &BTreeSet<Uuid>) -> Result<(), Refusal> {
    let faults: Vec<Fault> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.plan_item_id.filter(|id| !known.contains(id)).map(|_| {
                Fault::new(
                    format!("lines[{i}].plan_item_id"),
                    "no plan item has this id",
                )
            })
        })
        .collect();
    if faults.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(faults))
    }
}

/// A line of a budget as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineState {
    pub id: Uuid,
    /// The CIO and Finance have approved amounts for it.
    pub approved: bool,
    /// Requests (of any status) that name it.
    pub requests: i64,
}

/// A budget as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetState {
    pub department: String,
    pub fiscal_year: i32,
    pub status: BudgetStatus,
    pub submission: i32,
    pub amendment: i32,
    /// Approved at least once (an amendment in progress leaves the approved amounts in force).
    pub ever_approved: bool,
    pub lines: Vec<LineState>,
    /// The roles (the CIO office, Finance) that approved the current submission.
    pub approvals: BTreeSet<Role>,
}

/// A department's buyers draft their own budget.
fn drafter(state_department: &str, caller: &Caller) -> Result<(), Refusal> {
    if caller.buys_for(state_department) {
        Ok(())
    } else {
        Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            format!("only buyers of {state_department} draft and submit its technology budget"),
        ))
    }
}

/// A buyer drafts a budget for the department the token names; the department must be registered.
pub fn plan_create(caller: &Caller, department_known: bool) -> Result<String, Refusal> {
    let department = caller.department.clone().unwrap_or_default();
    if !caller.has(Role::Buyer) || !department_known {
        return Err(Refusal::forbidden(
            ProblemCode::Forbidden,
            format!("your token names department {department:?}, which is not registered"),
        ));
    }
    Ok(department)
}

/// What a change of lines does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinesPlan {
    pub status: BudgetStatus,
    pub amendment: i32,
    /// Lines of the budget that the new list leaves out, to delete.
    pub removed: Vec<Uuid>,
    pub audit_action: &'static str,
}

fn actions(status: BudgetStatus) -> Vec<String> {
    match status {
        BudgetStatus::Draft | BudgetStatus::Returned => vec!["edit_lines".into(), "submit".into()],
        BudgetStatus::Submitted => vec!["review".into()],
        BudgetStatus::Approved => vec!["amend".into()],
    }
}

/// The department replaces its lines. A draft or returned budget stays a draft; an approved one starts an
/// amendment, which goes through the same joint approval while the approved amounts stay in force. A line that
/// was approved, or that a request names, stays (its amounts may go to zero).
pub fn plan_lines(
    state: &BudgetState,
    caller: &Caller,
    lines: &[LineFields],
) -> Result<LinesPlan, Refusal> {
    drafter(&state.department, caller)?;
    let (amendment, audit_action) = match state.status {
        BudgetStatus::Draft | BudgetStatus::Returned => (state.amendment, "budget.lines_replaced"),
        BudgetStatus::Approved => (state.amendment + 1, "budget.amendment_started"),
        BudgetStatus::Submitted => {
            return Err(Refusal::conflict(
                ProblemCode::BudgetUnderReview,
                "the budget is before the CIO office and Finance: wait for their approval or its return",
            )
            .with_allowed(actions(state.status)));
        }
    };
    let mut faults = Vec::new();
    let current: BTreeMap<Uuid, &LineState> = state.lines.iter().map(|l| (l.id, l)).collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some(id) = line.id
            && !current.contains_key(&id)
        {
            faults.push(Fault::new(
                format!("lines[{i}].id"),
                "is not a line of this budget",
            ));
        }
    }
    if !faults.is_empty() {
        return Err(Refusal::Invalid(faults));
    }
    let kept: BTreeSet<Uuid> = lines.iter().filter_map(|l| l.id).collect();
    let mut removed = Vec::new();
    for line in &state.lines {
        if kept.contains(&line.id) {
            continue;
        }
        if line.approved {
            return Err(Refusal::conflict(
                ProblemCode::LineApproved,
                format!(
                    "line {} was approved: it stays in the budget (set its amounts to zero instead)",
                    line.id
                ),
            ));
        }
        if line.requests > 0 {
            return Err(Refusal::conflict(
                ProblemCode::LineInUse,
                format!(
                    "line {} funds {} request(s): it stays in the budget",
                    line.id, line.requests
                ),
            ));
        }
        removed.push(line.id);
    }
    Ok(LinesPlan {
        status: BudgetStatus::Draft,
        amendment,
        removed,
        audit_action,
    })
}

/// The department sends a draft or returned budget to the CIO office and Finance.
pub fn plan_submit(state: &BudgetState, caller: &Caller) -> Result<(), Refusal> {
    drafter(&state.department, caller)?;
    match state.status {
        BudgetStatus::Draft | BudgetStatus::Returned if state.lines.is_empty() => {
            Err(Refusal::field("lines", "a budget has at least one line"))
        }
        BudgetStatus::Draft | BudgetStatus::Returned => Ok(()),
        other => Err(Refusal::conflict(
            ProblemCode::BudgetNotDraft,
            format!(
                "the budget is {}: only a draft or returned budget is submitted",
                other.as_str()
            ),
        )
        .with_allowed(actions(other))),
    }
}

/// A review by the CIO office or Finance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    Approve,
    /// Back to the department, with what to change.
    Return {
        comment: String,
    },
}

/// What a review does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPlan {
    /// The CIO office or Finance.
    pub role: Role,
    pub outcome: BudgetReviewVerdict,
    pub comment: Option<String>,
    pub status: BudgetStatus,
    /// Both have approved: the lines' amounts become the approved ones.
    pub approves_budget: bool,
    pub audit_action: &'static str,
}

/// The CIO office and Finance each approve a submitted budget, or return it with comments; it is approved only
/// when both have approved the same submission [EO 2025 Art. 2]. A return clears the submission: the next one
/// needs both approvals again.
pub fn plan_review(
    state: &BudgetState,
    caller: &Caller,
    acting: Role,
    review: &Review,
) -> Result<ReviewPlan, Refusal> {
    let role = match acting {
        Role::Cio if caller.has(Role::Cio) => Role::Cio,
        Role::Finance if caller.has(Role::Finance) => Role::Finance,
        _ => {
            return Err(Refusal::forbidden(
                ProblemCode::Forbidden,
                "the CIO office and Finance approve department technology budgets",
            ));
        }
    };
    if state.status != BudgetStatus::Submitted {
        return Err(Refusal::conflict(
            ProblemCode::BudgetNotSubmitted,
            format!(
                "the budget is {}: only a submitted budget is reviewed",
                state.status.as_str()
            ),
        )
        .with_allowed(actions(state.status)));
    }
    if state.approvals.contains(&role) {
        return Err(Refusal::conflict(
            ProblemCode::AlreadyReviewed,
            format!(
                "{} has already approved this submission; the other approver decides now",
                role.as_str()
            ),
        ));
    }
    Ok(match review {
        Review::Return { comment } => {
            if comment.trim().is_empty() {
                return Err(Refusal::field(
                    "comment",
                    "say what the department should change",
                ));
            }
            ReviewPlan {
                role,
                outcome: BudgetReviewVerdict::Returned,
                comment: Some(comment.trim().to_string()),
                status: BudgetStatus::Returned,
                approves_budget: false,
                audit_action: "budget.returned",
            }
        }
        Review::Approve => {
            let other = if role == Role::Cio {
                Role::Finance
            } else {
                Role::Cio
            };
            let both = state.approvals.contains(&other);
            ReviewPlan {
                role,
                outcome: BudgetReviewVerdict::Approved,
                comment: None,
                status: if both {
                    BudgetStatus::Approved
                } else {
                    BudgetStatus::Submitted
                },
                approves_budget: both,
                audit_action: if both {
                    "budget.approved"
                } else {
                    "budget.approval_recorded"
                },
            }
        }
    })
}

/// The budget line a request names, as the store found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRef {
    pub department: String,
    pub fiscal_year: i32,
}

/// A request names a line of its own department's budget for the fiscal year its purchase starts in. An id that
/// names no line is refused, never read as "no line": the line decides the route.
pub fn check_line(
    named: Option<Uuid>,
    found: Option<&LineRef>,
    department: &str,
    fiscal_year: i32,
) -> Result<(), Refusal> {
    let Some(_) = named else { return Ok(()) };
    match found {
        None => Err(Refusal::field(
            "budget_line_id",
            "no budget line has this id",
        )),
        Some(line) if line.department != department => Err(Refusal::field(
            "budget_line_id",
            format!(
                "the line is in {}'s budget, not {department}'s",
                line.department
            ),
        )),
        Some(line) if line.fiscal_year != fiscal_year => Err(Refusal::field(
            "budget_line_id",
            format!(
                "the line is in the FY{} budget, and the purchase starts in FY{fiscal_year}",
                line.fiscal_year
            ),
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buyer() -> Caller {
        Caller::new("ana", vec![Role::Buyer], Some("DOIT".into()))
    }

    fn state(status: BudgetStatus) -> BudgetState {
        BudgetState {
            department: "DOIT".into(),
            fiscal_year: 2027,
            status,
            submission: 1,
            amendment: 0,
            ever_approved: false,
            lines: vec![LineState {
                id: Uuid::from_u128(1),
                approved: false,
                requests: 0,
            }],
            approvals: BTreeSet::new(),
        }
    }

    #[test]
    fn a_budget_is_approved_only_when_the_cio_and_finance_both_have() {
        let cio = Caller::new("cio", vec![Role::Cio], None);
        let finance = Caller::new("fin", vec![Role::Finance], None);
        let mut s = state(BudgetStatus::Submitted);
        let first = plan_review(&s, &cio, Role::Cio, &Review::Approve).unwrap();
        assert_eq!(
            (first.status, first.approves_budget),
            (BudgetStatus::Submitted, false)
        );
        s.approvals.insert(Role::Cio);
        let again = plan_review(&s, &cio, Role::Cio, &Review::Approve).unwrap_err();
        assert_eq!(again.code(), "already_reviewed");
        let second = plan_review(&s, &finance, Role::Finance, &Review::Approve).unwrap();
        assert_eq!(
            (second.status, second.approves_budget),
            (BudgetStatus::Approved, true)
        );
        let buyer_review = plan_review(&s, &buyer(), Role::Buyer, &Review::Approve).unwrap_err();
        assert_eq!(buyer_review.code(), "forbidden");
    }

    #[test]
    fn a_return_needs_a_comment_and_only_a_submitted_budget_is_reviewed() {
        let cio = Caller::new("cio", vec![Role::Cio], None);
        let s = state(BudgetStatus::Submitted);
        let empty = plan_review(
            &s,
            &cio,
            Role::Cio,
            &Review::Return {
                comment: " ".into(),
            },
        )
        .unwrap_err();
        assert_eq!(
            empty,
            Refusal::field("comment", "say what the department should change")
        );
        let back = plan_review(
            &s,
            &cio,
            Role::Cio,
            &Review::Return {
                comment: "split staff".into(),
            },
        )
        .unwrap();
        assert_eq!(back.status, BudgetStatus::Returned);
        let draft = plan_review(
            &state(BudgetStatus::Draft),
            &cio,
            Role::Cio,
            &Review::Approve,
        )
        .unwrap_err();
        assert_eq!(draft.code(), "budget_not_submitted");
    }

    #[test]
    fn editing_an_approved_budget_starts_an_amendment_and_approved_lines_stay() {
        let mut s = state(BudgetStatus::Approved);
        s.lines[0].approved = true;
        let plan = plan_lines(
            &s,
            &buyer(),
            &[LineFields {
                id: Some(Uuid::from_u128(1)),
                label: "x".into(),
                plan_item_id: None,
                capital_cents: 0,
                operating_staff_cents: 0,
                operating_other_cents: 0,
            }],
        )
        .unwrap();
        assert_eq!(
            (plan.status, plan.amendment, plan.audit_action),
            (BudgetStatus::Draft, 1, "budget.amendment_started")
        );
        assert_eq!(
            plan_lines(&s, &buyer(), &[]).unwrap_err().code(),
            "line_approved"
        );
        let other = Caller::new("bo", vec![Role::Buyer], Some("BPD".into()));
        assert_eq!(plan_lines(&s, &other, &[]).unwrap_err().code(), "forbidden");
        assert_eq!(
            plan_lines(&state(BudgetStatus::Submitted), &buyer(), &[])
                .unwrap_err()
                .code(),
            "budget_under_review"
        );
    }

    #[test]
    fn a_request_names_a_line_of_its_own_department_and_fiscal_year() {
        let line = LineRef {
            department: "DOIT".into(),
            fiscal_year: 2027,
        };
        let id = Some(Uuid::from_u128(9));
        assert!(check_line(None, None, "DOIT", 2027).is_ok());
        assert!(check_line(id, Some(&line), "DOIT", 2027).is_ok());
        assert_eq!(
            check_line(id, None, "DOIT", 2027),
            Err(Refusal::field(
                "budget_line_id",
                "no budget line has this id"
            ))
        );
        assert!(check_line(id, Some(&line), "BPD", 2027).is_err());
        assert!(check_line(id, Some(&line), "DOIT", 2028).is_err());
    }
}
