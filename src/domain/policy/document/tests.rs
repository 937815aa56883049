use super::*;

/// Spoils a valid policy in one way.
type BreakPolicy = fn(&mut Policy);

#[test]
fn the_default_policy_parses_and_validates() {
    let policy = Policy::from_toml(DEFAULT_POLICY_TOML).expect("default policy parses");
    assert_eq!(policy.validate(), Ok(()));
    assert_eq!(policy.fiscal_year_start_month, 7);
    assert_eq!(policy.fiscal_year_start_day, 1);
}

#[test]
fn a_cost_change_of_ten_percent_or_more_is_material() {
    let policy = Policy::default_policy();
    for (previous, proposed, material) in [
        (100_000, 110_000, true),
        (100_000, 109_999, false),
        (100_000, 90_000, true),
        (100_000, 90_001, false),
        (100_000, 100_000, false),
        (0, 1, true),
    ] {
        assert_eq!(
            policy.cost_change_is_material(previous, proposed),
            material,
            "{previous} -> {proposed}"
        );
    }
}

/// A valid policy to break one way at a time.
fn small_policy() -> Policy {
    Policy::from_toml(
        r#"
            label = "small"
            [[rules]]
            id = "cio-value-threshold"
            title = "CIO approval: value"
            citation = "c.30B §5; EO 2025 Art. 3"
            when = { all = [{ fact = "total_contract_value_cents", gte = 5_000_000 }] }
            then = { step = "cio_approval" }
            reason = "total contract value {total_contract_value} is at or above {threshold}"

            [[rules]]
            id = "security-ma"
            title = "Security review: MA PI"
            citation = "201 CMR 17.03(2)(f)"
            when = { data_class_any = ["pi_ma"] }
            then = { step = "security_review", questionnaires = ["ma-201-cmr-17"] }
            reason = "the vendor will hold {data_classes}"

            [[rules]]
            id = "prohibit-face-surveillance"
            title = "Prohibited"
            citation = "Boston 16-62"
            when = { flag = "face_surveillance" }
            then = { prohibit = "face_surveillance" }
            reason = "banned"
            "#,
    )
    .unwrap()
}

#[test]
fn validation_names_the_rule_and_the_fault() {
    fn rule(id: &str, fault: PolicyFault) -> PolicyError {
        PolicyError {
            scope: PolicyScope::Rule(id.to_owned()),
            fault,
        }
    }
    fn policy(fault: PolicyFault) -> PolicyError {
        PolicyError {
            scope: PolicyScope::Policy,
            fault,
        }
    }
    let cases: Vec<(BreakPolicy, PolicyError)> = vec![
        (
            |p| p.rules[1].id = "cio-value-threshold".to_owned(),
            rule("cio-value-threshold", PolicyFault::DuplicateId),
        ),
        (
            |p| p.rules[1].id = " ".to_owned(),
            rule("#2", PolicyFault::EmptyId),
        ),
        (
            |p| p.rules[0].title = String::new(),
            rule("cio-value-threshold", PolicyFault::EmptyTitle),
        ),
        (
            |p| p.rules[0].citation = "  ".to_owned(),
            rule("cio-value-threshold", PolicyFault::EmptyCitation),
        ),
        (
            |p| p.rules[2].reason = String::new(),
            rule("prohibit-face-surveillance", PolicyFault::EmptyReason),
        ),
        (
            |p| p.rules[0].reason = "value {foo} over {threshold}".to_owned(),
            rule(
                "cio-value-threshold",
                PolicyFault::UnknownPlaceholder("foo".to_owned()),
            ),
        ),
        (
            |p| p.rules[0].reason = "value over {threshold".to_owned(),
            rule("cio-value-threshold", PolicyFault::UnclosedPlaceholder),
        ),
        (
            |p| p.rules[1].reason = "more than {threshold}".to_owned(),
            rule("security-ma", PolicyFault::ThresholdWithoutComparison),
        ),
        (
            |p| {
                p.rules[0].when = Condition::Compare {
                    fact: NumericFact::Users,
                    comparison: Comparison::Gte,
                    threshold: -1,
                }
            },
            rule(
                "cio-value-threshold",
                PolicyFault::NegativeThreshold {
                    fact: NumericFact::Users,
                    threshold: -1,
                },
            ),
        ),
        (
            |p| p.rules[1].when = Condition::All(vec![]),
            rule("security-ma", PolicyFault::EmptyAll),
        ),
        (
            |p| p.rules[1].when = Condition::Not(Box::new(Condition::Any(vec![]))),
            rule("security-ma", PolicyFault::EmptyAny),
        ),
        (
            |p| p.rules[1].when = Condition::DataClassAny(vec![]),
            rule("security-ma", PolicyFault::EmptyDataClassList),
        ),
        (
            |p| p.rules[1].when = Condition::DepartmentIn(vec![]),
            rule("security-ma", PolicyFault::EmptyDepartmentList),
        ),
        (
            |p| {
                p.rules[1].then = Outcome::Require(StepKind::SecurityReview {
                    questionnaires: vec![],
                })
            },
            rule("security-ma", PolicyFault::NoQuestionnaires),
        ),
        (
            |p| {
                p.rules[1].then = Outcome::Require(StepKind::ContractSafeguards { clauses: vec![] })
            },
            rule("security-ma", PolicyFault::NoClauses),
        ),
        (
            |p| p.rules[1].then = Outcome::Require(StepKind::Evidence { items: vec![] }),
            rule("security-ma", PolicyFault::NoEvidenceItems),
        ),
        (
            |p| {
                p.rules[2].then = Outcome::Prohibit {
                    code: String::new(),
                }
            },
            rule(
                "prohibit-face-surveillance",
                PolicyFault::EmptyProhibitionCode,
            ),
        ),
        (
            |p| p.fiscal_year_start_month = 13,
            policy(PolicyFault::InvalidFiscalYearStart { month: 13, day: 1 }),
        ),
        (
            |p| p.fiscal_year_start_month = 0,
            policy(PolicyFault::InvalidFiscalYearStart { month: 0, day: 1 }),
        ),
        (
            |p| {
                p.fiscal_year_start_month = 2;
                p.fiscal_year_start_day = 29;
            },
            policy(PolicyFault::InvalidFiscalYearStart { month: 2, day: 29 }),
        ),
        (
            |p| {
                p.fiscal_year_start_month = 4;
                p.fiscal_year_start_day = 31;
            },
            policy(PolicyFault::InvalidFiscalYearStart { month: 4, day: 31 }),
        ),
        (
            |p| p.fiscal_year_start_day = 0,
            policy(PolicyFault::InvalidFiscalYearStart { month: 7, day: 0 }),
        ),
        (
            |p| p.questionnaire_due_days = 0,
            policy(PolicyFault::ZeroQuestionnaireDueDays),
        ),
        (
            |p| p.decision_escalation_days = 0,
            policy(PolicyFault::ZeroDecisionEscalationDays),
        ),
        (
            |p| p.reassessment_months = 0,
            policy(PolicyFault::ZeroReassessmentMonths),
        ),
        (|p| p.label = String::new(), policy(PolicyFault::EmptyLabel)),
    ];
    assert_eq!(small_policy().validate(), Ok(()));
    for (break_policy, expected) in cases {
        let mut broken = small_policy();
        break_policy(&mut broken);
        assert_eq!(broken.validate(), Err(vec![expected.clone()]), "{expected}");
    }
}

#[test]
fn validation_reports_every_fault_at_once() {
    let mut broken = small_policy();
    broken.questionnaire_due_days = 0;
    broken.rules[0].citation = String::new();
    broken.rules[2].id = "cio-value-threshold".to_owned();
    let messages: Vec<String> = broken
        .validate()
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "policy: questionnaire_due_days must be at least 1",
            "rule cio-value-threshold: citation is empty",
            "rule cio-value-threshold: id is used by more than one rule",
        ]
    );
}

#[test]
fn a_policy_error_reads_as_rule_then_fault() {
    let error = PolicyError {
        scope: PolicyScope::Rule("cio-value-threshold".to_owned()),
        fault: PolicyFault::UnknownPlaceholder("foo".to_owned()),
    };
    assert_eq!(
        error.to_string(),
        "rule cio-value-threshold: reason uses unknown placeholder {foo}"
    );
}

#[test]
fn malformed_rules_are_refused_when_read_with_a_message_that_says_why() {
    let rule_with = |when: &str, then: &str| {
        format!(
            "label = \"x\"\n[[rules]]\nid = \"r\"\ntitle = \"t\"\ncitation = \"c\"\n\
             when = {when}\nthen = {then}\nreason = \"r\"\n"
        )
    };
    let cio = r#"{ step = "cio_approval" }"#;
    let always = "{ always = true }";
    let cases = [
        (
            rule_with(r#"{ flag = "fast_path", always = true }"#, cio),
            "exactly one form",
        ),
        (rule_with("{ gte = 5 }", cio), "need a `fact`"),
        (
            rule_with(r#"{ fact = "users", gte = 1, lt = 5 }"#, cio),
            "exactly one of gte, gt, lte, lt",
        ),
        (rule_with(r#"{ fact = "users" }"#, cio), "needs one of gte"),
        (rule_with(r#"{ flag = "bogus" }"#, cio), "bogus"),
        (
            rule_with(r#"{ data_class_any = ["secret"] }"#, cio),
            "secret",
        ),
        (
            rule_with("{ non_public_data = false }", cio),
            "can only be true",
        ),
        (rule_with("{ fuzzy = 1 }", cio), "fuzzy"),
        (rule_with("{}", cio), "a condition needs one of"),
        (
            rule_with(always, r#"{ step = "security_review", clauses = ["x"] }"#),
            "`clauses` does not apply to step security_review",
        ),
        (
            rule_with(
                always,
                r#"{ step = "council_approval", attachments = ["surveillance_use_policy", "budget_memo"] }"#,
            ),
            "attachment \"budget_memo\" is not a Council document: one of surveillance_use_policy, \
             surveillance_impact_report",
        ),
        (
            rule_with(always, r#"{ step = "cio_approval", prohibit = "x" }"#),
            "not both",
        ),
        (
            rule_with(always, r#"{ prohibit = "x", items = ["y"] }"#),
            "takes no lists",
        ),
        (rule_with(always, "{}"), "needs `step"),
        (
            rule_with(always, r#"{ step = "mayor_approval" }"#),
            "mayor_approval",
        ),
        (
            format!("{}reasn = \"typo\"\n", rule_with(always, cio)),
            "reasn",
        ),
    ];
    for (text, expected) in cases {
        match Policy::from_toml(&text) {
            Ok(policy) => panic!("accepted {text}: {policy:?}"),
            Err(PolicyError {
                scope: PolicyScope::Policy,
                fault: PolicyFault::Unreadable(message),
            }) => assert!(message.contains(expected), "{expected:?} not in {message}"),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn a_policy_round_trips_through_json_and_toml_unchanged() {
    let policy = Policy::default_policy();
    let json = serde_json::to_string(&policy).unwrap();
    assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), policy);
    let toml_text = toml::to_string(&policy).unwrap();
    assert_eq!(Policy::from_toml(&toml_text).unwrap(), policy);
}
