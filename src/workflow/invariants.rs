//! The workflow's invariants, checked after every command of thousands of generated command sequences, run
//! through the planners exactly as the store runs them (`requests::tests::applied` applies a plan the way the
//! store does). `tests/api/invariants.rs` replays a smaller number of sequences against the real store on both
//! backends.
//!
//! - An approved request's current facts, evaluated afresh under its policy, need no step and no
//!   questionnaire, clause, evidence item or attachment that its route did not settle, and nothing prohibits it.
//! - A withdrawn or denied request has no waiting step and no open questionnaire (so no reminder is due).
//! - A request under review always waits for something (no request hangs), and one awaiting a decision waits
//!   only for decisions.
//! - Nobody decides a step of a request whose any version they created, edited or submitted, and nobody who
//!   decided one writes a version of it.
//! - The current submission's steps are its route's steps, kind for kind and in order (what a caller may do is
//!   read from the steps, without the route).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::NaiveDate;
use proptest::prelude::*;
use strum::VariantArray;
use uuid::Uuid;

use super::requests::tests::applied;
use super::requests::{self, Evidence, Plan, RequestState, status_after};
use super::route::{self, Routing};
use super::{Caller, council, safeguards};
use crate::domain::contracts::{LIBRARY, checklist};
use crate::domain::council::{CouncilDocumentKind, CouncilOutcome};
use crate::domain::policy::{DataClass, Hosting, Policy, StepKindTag};
use crate::domain::requests::{RequestFields, Status};
use crate::domain::roles::Role;
use crate::domain::route::{CheckedDecision, DenialReason, Outcome, StepState, decider};
use crate::domain::safeguards::ClauseStatus;

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::default_policy);

/// People who act; the same person may hold several roles, one per token. `BeaShouting` is Bea's subject
/// written in capitals, as another identity provider might send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Person {
    Bea,
    BeaShouting,
    Cole,
    Carla,
    Fin,
}

impl Person {
    fn subject(self) -> &'static str {
        match self {
            Person::Bea => "bea",
            Person::BeaShouting => "BEA",
            Person::Cole => "cole",
            Person::Carla => "carla",
            Person::Fin => "fin",
        }
    }

    fn acting(self, role: Role, department: &str) -> Caller {
        let department = (role == Role::Buyer).then(|| department.to_string());
        Caller::new(self.subject(), vec![role], department)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Change {
    Users(i64),
    AnnualCost(i64),
    Hosting(Hosting),
    Data(Vec<DataClass>),
    Surveillance(bool),
    OtherVendor,
    Description,
}

#[derive(Debug, Clone)]
pub(crate) enum Command {
    Edit(Person, Change),
    Submit(Person),
    Withdraw(Person),
    Decide(Person, StepKindTag, Outcome),
    /// The analyst accepts every questionnaire the vendor has open.
    AcceptAnswers,
    /// Every clause of the checklist recorded present by an analyst, or waived by the CIO.
    RecordClauses {
        waive: bool,
    },
    /// The Council's vote, with or without the documents attached first.
    CouncilVote {
        approve: bool,
        documents: bool,
    },
    Reroute,
}

/// A request and everything around it that the planners read.
#[derive(Debug, Clone)]
struct World {
    state: RequestState,
    ordinance: bool,
    /// (vendor, questionnaire, status) of each assessment made for the request.
    assessments: Vec<(Uuid, String, &'static str)>,
    clauses: BTreeMap<String, ClauseStatus>,
    /// The submission voted on, with the vote.
    vote: Option<(i32, CouncilOutcome)>,
    documents: BTreeSet<String>,
    /// Subject keys of those who recorded a decision.
    deciders: BTreeSet<String>,
}

fn vendor(n: u8) -> Uuid {
    Uuid::from_u128(n as u128 + 1)
}

fn routing(world: &World) -> Routing {
    Routing {
        policy_version: 1,
        policy: POLICY.clone(),
        ordinance_covered: world.ordinance,
        vendor_known: true,
        fy_other_cents: 0,
        fy_other_count: 0,
        likely_duplicate: None,
        overlaps: Vec::new(),
        dismissed_earlier: Vec::new(),
        prior: None,
        vendor_open_orders: None,
        budget: Default::default(),
        product: None,
        today: chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
    }
}

impl World {
    fn new(fields: RequestFields, ordinance: bool) -> World {
        let mut state = requests::tests::draft(fields);
        state.department = if ordinance { "BPD" } else { "DOIT" }.into();
        World {
            state,
            ordinance,
            assessments: Vec::new(),
            clauses: BTreeMap::new(),
            vote: None,
            documents: BTreeSet::new(),
            deciders: BTreeSet::new(),
        }
    }

    fn buyer(&self, who: Person) -> Caller {
        who.acting(Role::Buyer, &self.state.department)
    }

    /// The evidence for `submission` (a vote counts only for the submission it was cast on).
    fn evidence(&self, submission: i32) -> Evidence {
        let vendor = self.state.fields.vendor_id;
        Evidence {
            accepted_questionnaires: self
                .assessments
                .iter()
                .filter(|(v, _, s)| *v == vendor && *s == "accepted")
                .map(|(_, q, _)| q.clone())
                .collect(),
            standing_critical_findings: 0,
            confirmed_reuse: Default::default(),
            reused_critical_findings: 0,
            clauses: self.clauses.clone(),
            council_vote: self
                .vote
                .filter(|(n, _)| *n == submission)
                .map(|(_, outcome)| {
                    (
                        outcome,
                        "D-1".to_string(),
                        NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
                    )
                }),
            council_documents: self.documents.clone(),
        }
    }

    /// Applies a plan as the store does, with the work around the request.
    fn apply(&mut self, plan: &Plan, who: &Caller) {
        let before_vendor = self.state.fields.vendor_id;
        self.state = applied(&self.state, plan);
        if plan.author {
            self.state.authors.insert(who.key.clone());
        }
        if let Some(d) = &plan.decision
            && (d.role == "cio" || d.role == "finance")
        {
            self.deciders.insert(super::subject_key(&d.decided_by));
        }
        let vendor = self.state.fields.vendor_id;
        if vendor != before_vendor {
            for a in self
                .assessments
                .iter_mut()
                .filter(|a| a.0 != vendor && a.2 == "open")
            {
                a.2 = "cancelled";
            }
        }
        for q in &plan.assessments {
            if !self
                .assessments
                .iter()
                .any(|(v, t, s)| *v == vendor && t == q && *s != "cancelled")
            {
                self.assessments.push((vendor, q.clone(), "open"));
            }
        }
        if plan.close.is_some() {
            for a in self.assessments.iter_mut().filter(|a| a.2 == "open") {
                a.2 = "cancelled";
            }
        }
    }

    fn settle(&mut self, who: &Caller, fallback: &'static str) {
        let evidence = self.evidence(self.state.submission);
        let plan = requests::settle_plan(&self.state, &evidence)
            .unwrap_or_else(|| status_after(&self.state, Vec::new(), fallback));
        self.apply(&plan, who);
    }

    /// Runs one command; a refused command changes nothing.
    fn run(&mut self, command: &Command) {
        let admin = Person::Carla.acting(Role::Admin, "");
        match command {
            Command::Edit(who, change) => {
                let who = self.buyer(*who);
                let next = changed(&self.state.fields, change);
                let reevaluation = requests::Reevaluation {
                    decided_policy: POLICY.clone(),
                    routing: routing(self),
                    evidence: self.evidence(self.state.submission + 1),
                    checked_at: self.state.version,
                };
                if let Ok(plan) =
                    requests::edit(&self.state, &who, next, true, true, Some(&reevaluation))
                {
                    self.apply(&plan, &who);
                }
            }
            Command::Submit(who) => {
                let who = self.buyer(*who);
                let evidence = self.evidence(self.state.submission + 1);
                if let Ok(plan) = requests::submit(
                    &self.state,
                    &who,
                    &routing(self),
                    &evidence,
                    self.state.version,
                ) {
                    self.apply(&plan, &who);
                }
            }
            Command::Withdraw(who) => {
                let who = self.buyer(*who);
                if let Ok(plan) = requests::withdraw(&self.state, &who) {
                    self.apply(&plan, &who);
                }
            }
            Command::Decide(who, step, outcome) => {
                let Some(role) = decider(*step) else { return };
                let who = who.acting(role, "");
                let decision = CheckedDecision {
                    step: *step,
                    outcome: *outcome,
                    conditions: match outcome {
                        Outcome::ApproveWithConditions => vec!["single sign-on".into()],
                        _ => vec![],
                    },
                    reason_code: (*outcome == Outcome::Deny).then_some(DenialReason::Cost),
                    rationale: matches!(outcome, Outcome::Deny | Outcome::RequestChanges)
                        .then(|| "why".to_string()),
                    service_id: None,
                    confirm_not_candidate: false,
                };
                if let Ok(plan) = requests::decide(
                    &self.state,
                    &who,
                    decision,
                    crate::domain::route::NamedService::CANDIDATE,
                ) {
                    self.apply(&plan, &who);
                }
            }
            Command::AcceptAnswers => {
                let vendor = self.state.fields.vendor_id;
                for a in self
                    .assessments
                    .iter_mut()
                    .filter(|a| a.0 == vendor && a.2 == "open")
                {
                    a.2 = "accepted";
                }
                let analyst = Person::Cole.acting(Role::SecurityAnalyst, "");
                if self.state.status.in_review() {
                    self.settle(&analyst, "request.steps_settled");
                }
            }
            Command::RecordClauses { waive } => {
                let who = if *waive {
                    Person::Carla.acting(Role::Cio, "")
                } else {
                    Person::Cole.acting(Role::SecurityAnalyst, "")
                };
                let Some(route) = self.state.route.clone() else {
                    return;
                };
                let changes: Vec<(String, ClauseStatus)> =
                    checklist(&LIBRARY, &route, &self.state.fields.data_classes)
                        .into_iter()
                        .map(|e| {
                            let status = if *waive {
                                ClauseStatus::Waived {
                                    justification: "not needed".into(),
                                    waived_by: who.subject.clone(),
                                    waived_at: chrono::Utc::now(),
                                }
                            } else {
                                ClauseStatus::Present {
                                    document: "MSA".into(),
                                    section: "12".into(),
                                    attested_by: who.subject.clone(),
                                    attested_at: chrono::Utc::now(),
                                }
                            };
                            (e.clause_id, status)
                        })
                        .collect();
                if safeguards::record(&self.state, &who, &changes).is_ok() {
                    self.clauses.extend(changes);
                    self.settle(&who, "request.safeguards_recorded");
                }
            }
            Command::CouncilVote { approve, documents } => {
                if *documents {
                    for kind in CouncilDocumentKind::VARIANTS.iter().map(|k| k.as_str()) {
                        if council::attach_document(&self.state, &admin, kind).is_ok() {
                            self.documents.insert(kind.to_string());
                        }
                    }
                }
                let outcome = if *approve {
                    CouncilOutcome::Approved
                } else {
                    CouncilOutcome::Rejected
                };
                let vote = council::VoteInput {
                    docket: "D-1".into(),
                    vote_date: NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
                    outcome,
                    note: None,
                };
                let evidence = self.evidence(self.state.submission);
                let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
                if let Ok(plan) = council::record_vote(&self.state, &admin, &vote, &evidence, today)
                {
                    self.vote = Some((self.state.submission, outcome));
                    self.apply(&plan, &admin);
                }
            }
            Command::Reroute => {
                let evidence = self.evidence(self.state.submission);
                if let Ok(plan) = requests::reroute(&self.state, &admin, &routing(self), &evidence)
                {
                    self.apply(&plan, &admin);
                }
            }
        }
    }

    /// Every invariant, or the first one broken, in words.
    fn check(&self) -> Result<(), String> {
        let s = &self.state;
        // What a caller may do is read from the steps alone (`Standing`), so they must be the route's.
        if let Some(route) = &s.route {
            let kinds: Vec<StepKindTag> = s.steps.iter().map(|st| st.kind).collect();
            let routed: Vec<StepKindTag> = route.steps.iter().map(|st| st.kind).collect();
            if kinds != routed {
                return Err(format!("steps {kinds:?} are not the route's {routed:?}"));
            }
        }
        let waiting: Vec<StepKindTag> = s
            .steps
            .iter()
            .filter(|st| st.state == StepState::Pending)
            .map(|st| st.kind)
            .collect();
        if s.status.is_approved() {
            if !waiting.is_empty() {
                return Err(format!("approved with steps waiting: {waiting:?}"));
            }
            let fresh = route::route_for(&s.fields, &s.department, &routing(self));
            if !fresh.prohibitions.is_empty() {
                return Err("approved although its facts are prohibited".into());
            }
            for need in &fresh.steps {
                let Some(have) = s
                    .steps
                    .iter()
                    .find(|st| st.kind == need.kind && st.state.is_done())
                else {
                    return Err(format!(
                        "approved without a settled {:?} that its facts need",
                        need.kind
                    ));
                };
                let lists = [
                    (&need.questionnaires, &have.detail.questionnaires),
                    (&need.clauses, &have.detail.clauses),
                    (&need.items, &have.detail.items),
                    (&need.attachments, &have.detail.attachments),
                ];
                for (needed, settled) in lists {
                    if let Some(missing) = needed.iter().find(|x| !settled.contains(x)) {
                        return Err(format!(
                            "approved, but {:?} never settled {missing}",
                            need.kind
                        ));
                    }
                }
            }
        }
        if s.status.is_closed() {
            if !waiting.is_empty() {
                return Err(format!(
                    "{} with steps waiting: {waiting:?}",
                    s.status.as_str()
                ));
            }
            if let Some(open) = self.assessments.iter().find(|a| a.2 == "open") {
                return Err(format!(
                    "{} with questionnaire {} still open (a reminder would be due)",
                    s.status.as_str(),
                    open.1
                ));
            }
        }
        if s.status.in_review() && waiting.is_empty() {
            return Err(format!(
                "{} with nothing waiting: it would hang",
                s.status.as_str()
            ));
        }
        if s.status == Status::AwaitingDecision
            && let Some(kind) = waiting.iter().find(|k| decider(**k).is_none())
        {
            return Err(format!(
                "awaiting a decision while {kind:?} waits for evidence"
            ));
        }
        if let Some(both) = self.deciders.intersection(&s.authors).next() {
            return Err(format!("{both} both wrote a version and decided a step"));
        }
        Ok(())
    }
}

fn changed(fields: &RequestFields, change: &Change) -> RequestFields {
    let mut next = fields.clone();
    match change {
        Change::Users(n) => next.expected_users = *n,
        Change::AnnualCost(c) => next.annual_operating_cost_cents = *c,
        Change::Hosting(h) => next.hosting = *h,
        Change::Data(d) => next.data_classes = d.iter().copied().collect(),
        Change::Surveillance(on) => {
            next.surveillance = *on;
            if !on {
                next.face_surveillance = false;
            }
        }
        Change::OtherVendor => {
            next.vendor_id = vendor(if next.vendor_id == vendor(0) { 1 } else { 0 })
        }
        Change::Description => next.description.push_str(" (reworded)"),
    }
    next
}

fn person() -> impl Strategy<Value = Person> {
    prop_oneof![
        Just(Person::Bea),
        Just(Person::BeaShouting),
        Just(Person::Cole),
        Just(Person::Carla),
        Just(Person::Fin),
    ]
}

fn data() -> impl Strategy<Value = Vec<DataClass>> {
    prop_oneof![
        Just(vec![DataClass::Public]),
        Just(vec![DataClass::PiMa]),
        Just(vec![DataClass::Confidential]),
        Just(vec![DataClass::PiMa, DataClass::Cardholder]),
        Just(vec![DataClass::Health]),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        prop_oneof![Just(20i64), Just(100), Just(600), Just(5000)].prop_map(Change::Users),
        prop_oneof![
            Just(100_000i64),
            Just(6_000_000),
            Just(6_500_000),
            Just(7_200_000),
            Just(15_000_000)
        ]
        .prop_map(Change::AnnualCost),
        prop_oneof![Just(Hosting::OnPremises), Just(Hosting::VendorCloud)]
            .prop_map(Change::Hosting),
        data().prop_map(Change::Data),
        any::<bool>().prop_map(Change::Surveillance),
        Just(Change::OtherVendor),
        Just(Change::Description),
    ]
}

fn step_kind() -> impl Strategy<Value = StepKindTag> {
    prop_oneof![
        Just(StepKindTag::CioApproval),
        Just(StepKindTag::FinanceApproval),
        Just(StepKindTag::CioDuplicateReview),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => Just(Outcome::Approve),
        1 => Just(Outcome::ApproveWithConditions),
        1 => Just(Outcome::Deny),
        1 => Just(Outcome::RequestChanges),
    ]
}

pub(crate) fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => (person(), change()).prop_map(|(p, c)| Command::Edit(p, c)),
        3 => person().prop_map(Command::Submit),
        1 => person().prop_map(Command::Withdraw),
        5 => (person(), step_kind(), outcome()).prop_map(|(p, s, o)| Command::Decide(p, s, o)),
        2 => Just(Command::AcceptAnswers),
        2 => any::<bool>().prop_map(|waive| Command::RecordClauses { waive }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(approve, documents)| Command::CouncilVote { approve, documents }),
        1 => Just(Command::Reroute),
    ]
}

/// A request's starting facts.
pub(crate) fn start() -> impl Strategy<Value = (RequestFields, bool)> {
    (
        prop_oneof![Just(100_000i64), Just(6_000_000), Just(15_000_000)],
        prop_oneof![Just(20i64), Just(600)],
        prop_oneof![Just(Hosting::OnPremises), Just(Hosting::VendorCloud)],
        data(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(cost, users, hosting, data, surveillance, ordinance)| {
            let mut f = route::tests::fields();
            f.vendor_id = vendor(0);
            f.annual_operating_cost_cents = cost;
            f.expected_users = users;
            f.hosting = hosting;
            f.data_classes = data.into_iter().collect();
            f.surveillance = surveillance;
            (f, ordinance)
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_sequence_of_commands_breaks_an_invariant(
        (fields, ordinance) in start(),
        commands in proptest::collection::vec(command(), 1..16),
    ) {
        let mut world = World::new(fields, ordinance);
        world.state.authors = [Person::Bea.subject().to_string()].into();
        for (i, command) in commands.iter().enumerate() {
            world.run(command);
            if let Err(broken) = world.check() {
                prop_assert!(false, "after command {} ({command:?}): {broken}\nstate: {:?}", i + 1, world.state.status);
            }
        }
    }
}

#[test]
fn the_generator_reaches_every_end() {
    // The invariants mean little if the sequences never approve, deny or withdraw: check that they do.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    for _ in 0..3000 {
        let (fields, ordinance) = start().new_tree(&mut runner).unwrap().current();
        let commands = proptest::collection::vec(command(), 1..16)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut world = World::new(fields, ordinance);
        for command in &commands {
            world.run(command);
            seen.insert(world.state.status.as_str());
            if world
                .state
                .route
                .as_ref()
                .and_then(|r| r.comparison.as_ref())
                .is_some_and(|c| c.material)
            {
                seen.insert("reopened");
            }
            if world
                .state
                .steps
                .iter()
                .any(|s| s.kind == StepKindTag::CouncilApproval && s.state.is_done())
            {
                seen.insert("council approved");
            }
        }
    }
    for end in [
        "approved",
        "approved_with_conditions",
        "denied",
        "withdrawn",
        "changes_requested",
        "in_review",
        "awaiting_decision",
        "reopened",
        "council approved",
    ] {
        assert!(
            seen.contains(end),
            "no generated sequence reached {end}: {seen:?}"
        );
    }
}
