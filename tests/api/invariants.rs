//! Generated command sequences replayed against the real store over HTTP, on SQLite and on PostgreSQL, with the
//! workflow's invariants checked from what the API answers after every command. The planners meet thousands of
//! sequences in `src/workflow/invariants.rs`; this checks, on a smaller number, that the store applies their plans
//! as they were made. A failing case shrinks to a short sequence and names the command after which it broke.

use std::collections::BTreeSet;

use procurement_review::auth::Role;
use procurement_review::domain::policy::Policy;
use procurement_review::domain::requests::{RequestFields, RequestInput};
use procurement_review::workflow::route::{Routing, route_for};
use procurement_review::workflow::subject_key;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::assessments::answer_all;
use crate::helpers::{Backend, TestApp, postgres_url, purchase, with};

/// Sequences per backend: each case spawns a service on a fresh database.
const CASES: u32 = 16;

#[derive(Debug, Clone, Copy)]
enum Person {
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
}

#[derive(Debug, Clone)]
enum Command {
    Edit(Person, Value),
    Submit(Person),
    Withdraw(Person),
    Decide(Person, &'static str, &'static str),
    /// The vendor answers and submits every open questionnaire, and the analyst accepts it.
    AcceptAnswers,
    /// An analyst records every checklist clause present, or the CIO waives them.
    RecordClauses(bool),
    /// The documents attached (or not), then the Council's vote.
    CouncilVote(bool, bool),
    Reroute,
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

fn change() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop_oneof![Just(20), Just(600), Just(5000)]
            .prop_map(|n: i64| json!({"expected_users": n})),
        prop_oneof![
            Just(100_000),
            Just(6_500_000),
            Just(7_200_000),
            Just(15_000_000)
        ]
        .prop_map(|c: i64| json!({"annual_operating_cost_cents": c})),
        prop_oneof![Just("on_premises"), Just("vendor_cloud")].prop_map(|h| json!({"hosting": h})),
        prop_oneof![
            Just(json!(["public"])),
            Just(json!(["pi_ma"])),
            Just(json!(["confidential"]))
        ]
        .prop_map(|d| json!({"data_classes": d})),
        any::<bool>().prop_map(|s| json!({"surveillance": s})),
        Just(json!({"description": "Reworded"})),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => (person(), change()).prop_map(|(p, c)| Command::Edit(p, c)),
        3 => person().prop_map(Command::Submit),
        1 => person().prop_map(Command::Withdraw),
        5 => (
            person(),
            prop_oneof![Just("cio_approval"), Just("finance_approval")],
            prop_oneof![4 => Just("approve"), 1 => Just("approve_with_conditions"), 1 => Just("deny"),
                        1 => Just("request_changes")],
        )
            .prop_map(|(p, s, o)| Command::Decide(p, s, o)),
        2 => Just(Command::AcceptAnswers),
        1 => any::<bool>().prop_map(Command::RecordClauses),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(a, d)| Command::CouncilVote(a, d)),
        1 => Just(Command::Reroute),
    ]
}

/// The department (`BPD` falls under the surveillance ordinance) and the first facts.
fn start() -> impl Strategy<Value = (&'static str, Value)> {
    (
        prop_oneof![Just("DOIT"), Just("BPD")],
        prop_oneof![Just(100_000i64), Just(6_000_000), Just(15_000_000)],
        prop_oneof![Just("on_premises"), Just("vendor_cloud")],
        prop_oneof![Just(json!(["public"])), Just(json!(["pi_ma"])), Just(json!(["confidential"]))],
        any::<bool>(),
    )
        .prop_map(|(department, cost, hosting, data, surveillance)| {
            let changes = json!({"annual_operating_cost_cents": cost, "hosting": hosting, "data_classes": data,
                                 "surveillance": surveillance});
            (department, changes)
        })
}

struct Replay<'a> {
    app: &'a TestApp,
    department: &'static str,
    vendor: Value,
    request: String,
}

impl Replay<'_> {
    fn buyer(&self, who: Person) -> String {
        self.app.buyer_token(self.department, who.subject())
    }

    async fn post_with_etag(&self, path: &str, token: &str, body: Option<&Value>) -> u16 {
        self.app.transition(path, token, body).await.status.as_u16()
    }

    async fn run(&self, command: &Command) {
        let app = self.app;
        let request = &self.request;
        let base = format!("/api/v1/requests/{request}");
        match command {
            Command::Edit(who, changes) => {
                let tag = app.etag_of(&base, &app.token(Role::Admin)).await;
                app.patch(&base, &self.buyer(*who), changes.clone(), Some(&tag))
                    .await;
            }
            Command::Submit(who) => {
                self.post_with_etag(&format!("{base}/submit"), &self.buyer(*who), None)
                    .await;
            }
            Command::Withdraw(who) => {
                self.post_with_etag(&format!("{base}/withdraw"), &self.buyer(*who), None)
                    .await;
            }
            Command::Decide(who, step, outcome) => {
                let role = if *step == "finance_approval" {
                    Role::Finance
                } else {
                    Role::Cio
                };
                let token = app.mint(role, who.subject().to_string(), None, None);
                let mut decision = json!({"step": step, "outcome": outcome});
                match *outcome {
                    "approve_with_conditions" => decision["conditions"] = json!(["single sign-on"]),
                    "deny" => {
                        decision["reason_code"] = json!("cost");
                        decision["rationale"] = json!("too dear");
                    }
                    "request_changes" => decision["rationale"] = json!("shorter term"),
                    _ => {}
                }
                self.post_with_etag(&format!("{base}/decisions"), &token, Some(&decision))
                    .await;
            }
            Command::AcceptAnswers => self.accept_answers().await,
            Command::RecordClauses(waive) => {
                let path = format!("{base}/safeguards");
                let reader = app.token(Role::Cio);
                let checklist = app.get(&path, &reader).await;
                if checklist.status != 200 {
                    return;
                }
                let clauses: Vec<Value> = checklist.body["clauses"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        if *waive {
                            json!({"clause_id": c["clause_id"], "status": "waived", "justification": "not needed"})
                        } else {
                            json!({"clause_id": c["clause_id"], "status": "present", "document": "MSA",
                                   "section": "12"})
                        }
                    })
                    .collect();
                let token = if *waive {
                    reader
                } else {
                    app.token(Role::SecurityAnalyst)
                };
                let tag = checklist.header("etag").unwrap().to_string();
                app.put(&path, &token, json!({"clauses": clauses}), Some(&tag))
                    .await;
            }
            Command::CouncilVote(approve, documents) => {
                if *documents {
                    for kind in ["surveillance_use_policy", "surveillance_impact_report"] {
                        app.client
                            .post(format!(
                                "{}{base}/council/documents?kind={kind}&filename={kind}.pdf",
                                app.base
                            ))
                            .bearer_auth(app.token(Role::Admin))
                            .header("Content-Type", "application/pdf")
                            .body(b"%PDF-1.7 adopted".to_vec())
                            .send()
                            .await
                            .unwrap();
                    }
                }
                let outcome = if *approve { "approved" } else { "rejected" };
                let vote = json!({"docket": "D-1", "vote_date": "2026-11-04", "outcome": outcome});
                self.post_with_etag(
                    &format!("{base}/council/vote"),
                    &app.token(Role::Admin),
                    Some(&vote),
                )
                .await;
            }
            Command::Reroute => {
                self.post_with_etag(&format!("{base}/reroute"), &app.token(Role::Admin), None)
                    .await;
            }
        }
    }

    /// The vendor answers every open questionnaire of the request well and submits it; the analyst accepts it.
    async fn accept_answers(&self) {
        let app = self.app;
        let invited = app
            .invite(
                &app.token(Role::SecurityAnalyst),
                self.vendor["id"].as_str().unwrap(),
                json!({"request_id": self.request, "contact_email": "sec@vendor.example"}),
            )
            .await;
        if invited.status != 201 {
            return;
        }
        let token = invited.body["token"].as_str().unwrap().to_string();
        let open = app.get("/api/v1/assessments?status=open", &token).await;
        for a in open.body["items"].as_array().cloned().unwrap_or_default() {
            let id = a["id"].as_str().unwrap();
            let tag = app
                .etag_of(&format!("/api/v1/assessments/{id}"), &token)
                .await;
            let evidence = app
                .client
                .post(format!(
                    "{}/api/v1/assessments/{id}/evidence?filename=soc2.pdf",
                    app.base
                ))
                .bearer_auth(&token)
                .header("If-Match", tag)
                .header("Content-Type", "application/pdf")
                .body(b"%PDF-1.7\n%%EOF\n".to_vec())
                .send()
                .await
                .unwrap();
            let evidence: Value = evidence.json().await.unwrap();
            answer_all(app, &token, id, evidence["id"].as_str().unwrap(), &[]).await;
            app.assessment_action(Method::POST, &token, id, "submit", None)
                .await;
            app.assessment_action(
                Method::POST,
                &app.token(Role::SecurityAnalyst),
                id,
                "review",
                Some(&json!({"outcome": "accept"})),
            )
            .await;
        }
    }

    /// Every invariant, from what the API answers.
    async fn check(&self) -> Result<(), String> {
        let app = self.app;
        let auditor = app.token(Role::Auditor);
        let base = format!("/api/v1/requests/{}", self.request);
        let request = app.get(&base, &auditor).await.body;
        let status = request["status"].as_str().unwrap().to_string();
        let route = app.get(&format!("{base}/route"), &auditor).await;
        let steps: Vec<Value> = if route.status == 200 {
            route.body["steps"].as_array().unwrap().clone()
        } else {
            Vec::new()
        };
        let waiting: Vec<&str> = steps
            .iter()
            .filter(|s| s["state"] == "pending")
            .map(|s| s["kind"].as_str().unwrap())
            .collect();
        let done = |kind: &str| {
            steps.iter().find(|s| {
                s["kind"] == kind && (s["state"] == "satisfied" || s["state"] == "waived")
            })
        };
        if status == "approved" || status == "approved_with_conditions" {
            if !waiting.is_empty() {
                return Err(format!("approved with {waiting:?} waiting"));
            }
            let fields: RequestInput = serde_json::from_value(request["fields"].clone()).unwrap();
            let fields = RequestFields::parse(fields, None).map_err(|e| e.to_string())?;
            let fresh = route_for(
                &fields,
                self.department,
                &Routing {
                    policy_version: 1,
                    policy: Policy::default_policy(),
                    ordinance_covered: self.department == "BPD",
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
                    today: chrono::Utc::now().date_naive(),
                },
            );
            if !fresh.prohibitions.is_empty() {
                return Err("approved although prohibited".into());
            }
            for need in &fresh.steps {
                let Some(have) = done(need.kind.as_str()) else {
                    return Err(format!("approved without a settled {}", need.kind.as_str()));
                };
                for (list, needed) in [
                    ("questionnaires", &need.questionnaires),
                    ("clauses", &need.clauses),
                    ("items", &need.items),
                    ("attachments", &need.attachments),
                ] {
                    if let Some(missing) = needed
                        .iter()
                        .find(|x| !have[list].as_array().unwrap().contains(&json!(x)))
                    {
                        return Err(format!(
                            "approved, but {} never settled {missing}",
                            need.kind.as_str()
                        ));
                    }
                }
            }
        }
        let assessments = app
            .get(
                &format!("/api/v1/assessments?request_id={}&limit=200", self.request),
                &auditor,
            )
            .await;
        if status == "withdrawn" || status == "denied" {
            if !waiting.is_empty() {
                return Err(format!("{status} with {waiting:?} waiting"));
            }
            let open: Vec<&Value> = assessments.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| {
                    ["open", "returned", "submitted"].contains(&a["status"].as_str().unwrap())
                })
                .collect();
            if !open.is_empty() {
                return Err(format!("{status} with questionnaires still open: {open:?}"));
            }
        }
        if (status == "in_review" || status == "awaiting_decision") && waiting.is_empty() {
            return Err(format!("{status} with nothing waiting"));
        }
        let trail = app
            .get(
                &format!("/api/v1/audit?object_id={}&limit=200", self.request),
                &auditor,
            )
            .await;
        let authors: BTreeSet<String> = trail.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                [
                    "request.created",
                    "request.updated",
                    "request.edited",
                    "request.reopened",
                    "request.submitted",
                ]
                .contains(&r["action"].as_str().unwrap())
            })
            .map(|r| subject_key(r["actor"].as_str().unwrap()))
            .collect();
        let decisions = app
            .get(&format!("{base}/decisions?limit=200"), &auditor)
            .await;
        for d in decisions.body["items"].as_array().unwrap() {
            let who = subject_key(d["decided_by"].as_str().unwrap());
            if authors.contains(&who) && ["cio", "finance"].contains(&d["role"].as_str().unwrap()) {
                return Err(format!("{who} wrote a version and decided {}", d["step"]));
            }
        }
        Ok(())
    }
}

/// Creates and submits the request, then runs `commands`; returns the status it ended in.
async fn replay(
    backend: Backend,
    department: &'static str,
    first: Value,
    commands: &[Command],
) -> Result<String, TestCaseError> {
    let app = TestApp::spawn(backend).await;
    if department == "DOIT" {
        app.post(
            "/api/v1/departments",
            &app.token(Role::Admin),
            json!({"code": "DOIT", "name": "DoIT"}),
        )
        .await
        .ok(201);
    }
    let vendor = app.create_vendor("Replay Co").await;
    let created = app
        .post(
            "/api/v1/requests",
            &app.buyer_token(department, "bea"),
            with(purchase(&vendor), first),
        )
        .await;
    let request = created.ok(201)["id"].as_str().unwrap().to_string();
    let replay = Replay {
        app: &app,
        department,
        vendor,
        request,
    };
    // Most interesting sequences start from a submitted request: submit first, then run the commands.
    replay.run(&Command::Submit(Person::Bea)).await;
    let mut outcome = Ok(());
    for (i, command) in commands.iter().enumerate() {
        replay.run(command).await;
        if let Err(broken) = replay.check().await {
            outcome = Err(TestCaseError::fail(format!(
                "after command {} ({command:?}): {broken}",
                i + 1
            )));
            break;
        }
    }
    let last = app
        .get(
            &format!("/api/v1/requests/{}", replay.request),
            &app.token(Role::Auditor),
        )
        .await;
    app.stop().await;
    outcome.map(|()| last.body["status"].as_str().unwrap_or("?").to_string())
}

fn replay_on(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (start(), proptest::collection::vec(command(), 1..12));
    let reached = std::sync::Mutex::new(BTreeSet::new());
    let result = runner.run(&strategy, |((department, first), commands)| {
        let status = runtime.block_on(replay(backend, department, first, &commands))?;
        reached.lock().unwrap().insert(status);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{backend:?}: {e}");
    }
    eprintln!(
        "{backend:?}: {CASES} sequences ended in {:?}",
        reached.lock().unwrap()
    );
}

#[test]
fn generated_sequences_keep_the_invariants_on_sqlite() {
    replay_on(Backend::Sqlite);
}

#[test]
fn generated_sequences_keep_the_invariants_on_postgres() {
    if postgres_url().is_some() {
        replay_on(Backend::Postgres);
    }
}
