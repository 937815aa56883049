use chrono::NaiveDate;
use strum::VariantArray;

use super::*;

const ORDINANCE_BODIES: [&str; 7] = ["BPD", "BPS", "BPHC", "PARKS-RANGERS", "BHA", "MPS", "OEM"];

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

/// A request that no default rule catches: small, on premises, public data, few users.
fn quiet_request() -> RequestFacts {
    RequestFacts {
        department_code: "DOIT".to_owned(),
        department_ordinance_covered: false,
        vendor_id: "acme".to_owned(),
        capital_cents: 0,
        annual_operating_cents: 1_000_000,
        term_months: 12,
        users: 25,
        renewal: false,
        enterprise_agreement: false,
        material_change: false,
        hosting: Hosting::OnPremises,
        data_classes: BTreeSet::from([DataClass::Public]),
        surveillance: false,
        face_surveillance: false,
        start_date: date(2026, 9, 1),
        capabilities: Vec::new(),
        vendor_fy_other_cents: 0,
        vendor_fy_other_count: 0,
        likely_duplicate_of: None,
        vendor_open_orders: None,
        budget: Default::default(),
    }
}

fn costing(cents: i64) -> RequestFacts {
    RequestFacts {
        capital_cents: cents,
        annual_operating_cents: 0,
        ..quiet_request()
    }
}

fn route_of(facts: &RequestFacts) -> Route {
    evaluate(&Policy::default_policy(), facts)
}

fn rule_ids(route: &Route, kind: StepKindTag) -> Vec<&str> {
    route.step(kind).map_or_else(Vec::new, |step| {
        step.grounds
            .iter()
            .map(|ground| ground.rule_id.as_str())
            .collect()
    })
}

fn reason(route: &Route, kind: StepKindTag, rule_id: &str) -> String {
    route
        .step(kind)
        .and_then(|step| step.grounds.iter().find(|ground| ground.rule_id == rule_id))
        .unwrap_or_else(|| panic!("no ground {rule_id} on {kind:?}"))
        .reason
        .clone()
}

/// A route's steps, each as its kind and whichever list it carries.
type StepLists<'a> = Vec<(StepKindTag, Vec<&'a str>)>;

fn step_lists(route: &Route) -> StepLists<'_> {
    route
        .steps
        .iter()
        .map(|step| {
            let lists = [
                &step.questionnaires,
                &step.clauses,
                &step.attachments,
                &step.items,
            ];
            let names = lists.into_iter().flatten().map(String::as_str).collect();
            (step.kind, names)
        })
        .collect()
}

#[test]
fn a_small_on_premises_purchase_of_public_data_needs_no_review() {
    let route = route_of(&quiet_request());
    assert_eq!(route.steps, Vec::new());
    assert!(!route.is_prohibited());
    assert_eq!(route.policy_label, "boston-default-2026.1");
}

#[test]
fn cio_approval_starts_at_exactly_fifty_thousand_dollars() {
    for (cents, needs_cio) in [(4_999_999, false), (5_000_000, true)] {
        let route = route_of(&costing(cents));
        assert_eq!(
            route.requires(StepKindTag::CioApproval),
            needs_cio,
            "{cents}"
        );
    }
    assert_eq!(
        reason(
            &route_of(&costing(5_000_000)),
            StepKindTag::CioApproval,
            "cio-value-threshold"
        ),
        "total contract value $50,000.00 is at or above $50,000.00"
    );
}

#[test]
fn finance_co_approval_starts_at_exactly_one_hundred_thousand_dollars() {
    for (cents, needs_finance) in [(9_999_999, false), (10_000_000, true)] {
        let route = route_of(&costing(cents));
        assert_eq!(
            route.requires(StepKindTag::FinanceApproval),
            needs_finance,
            "{cents}"
        );
    }
}

#[test]
fn cio_approval_starts_at_five_hundred_users() {
    for (users, needs_cio) in [(499, false), (500, true)] {
        let route = route_of(&RequestFacts {
            users,
            ..quiet_request()
        });
        assert_eq!(
            route.requires(StepKindTag::CioApproval),
            needs_cio,
            "{users}"
        );
    }
    let route = route_of(&RequestFacts {
        users: 500,
        ..quiet_request()
    });
    assert_eq!(
        reason(&route, StepKindTag::CioApproval, "cio-user-threshold"),
        "500 people will use it, at or above the threshold of 500 users"
    );
}

#[test]
fn june_30_and_july_1_fall_in_different_fiscal_years() {
    assert_eq!(fiscal_year(date(2026, 6, 30), 7, 1), 2026);
    assert_eq!(fiscal_year(date(2026, 7, 1), 7, 1), 2027);
    for (start_date, expected) in [(date(2026, 6, 30), 2026), (date(2026, 7, 1), 2027)] {
        let route = route_of(&RequestFacts {
            start_date,
            ..quiet_request()
        });
        assert_eq!(route.fiscal_year, expected, "{start_date}");
    }
}

#[test]
fn fiscal_year_bounds_cover_july_to_june_and_calendar_years() {
    assert_eq!(
        fiscal_year_bounds(2027, 7, 1),
        (date(2026, 7, 1), date(2027, 7, 1))
    );
    assert_eq!(
        fiscal_year_bounds(2027, 1, 1),
        (date(2027, 1, 1), date(2028, 1, 1))
    );
    assert_eq!(fiscal_year(date(2027, 12, 31), 1, 1), 2027);
    let policy = Policy::default_policy();
    let (start, end) = policy.fiscal_year_bounds(2027);
    assert_eq!(policy.fiscal_year_of(start), 2027);
    assert_eq!(policy.fiscal_year_of(end.pred_opt().unwrap()), 2027);
    assert_eq!(policy.fiscal_year_of(end), 2028);
}

#[test]
fn three_departments_buying_from_one_vendor_trigger_the_fiscal_year_aggregate() {
    let policy = Policy::default_policy();
    // (department, vendor, start date, total contract value)
    let earlier_purchases = [
        ("BPS", "acme", date(2026, 8, 15), 2_500_000),
        ("BTD", "acme", date(2027, 3, 2), 1_600_000),
        ("BPD", "acme", date(2026, 6, 30), 4_000_000), // FY2026: does not count
        ("BPS", "globex", date(2026, 9, 1), 9_000_000), // another vendor
    ];
    let request = RequestFacts {
        department_code: "DOIT".to_owned(),
        start_date: date(2026, 10, 1),
        ..costing(2_000_000)
    };
    let (first_day, next_fy_first_day) =
        policy.fiscal_year_bounds(policy.fiscal_year_of(request.start_date));
    let same_vendor_this_fy: Vec<i64> = earlier_purchases
        .iter()
        .filter(|(_, vendor, start, _)| {
            *vendor == request.vendor_id && (first_day..next_fy_first_day).contains(start)
        })
        .map(|(_, _, _, cents)| *cents)
        .collect();
    let request = RequestFacts {
        vendor_fy_other_cents: same_vendor_this_fy.iter().sum(),
        vendor_fy_other_count: same_vendor_this_fy.len() as u32,
        likely_duplicate_of: None,
        vendor_open_orders: None,
        budget: Default::default(),
        ..request
    };

    let route = evaluate(&policy, &request);

    assert_eq!(route.fy_vendor_total_cents, 6_100_000);
    assert_eq!(
        rule_ids(&route, StepKindTag::CioApproval),
        ["cio-vendor-fy-aggregate"]
    );
    assert_eq!(
        reason(&route, StepKindTag::CioApproval, "cio-vendor-fy-aggregate"),
        "spend with this vendor in FY2027 totals $61,000.00 across 3 purchases \
         (this one $20,000.00), at or above $50,000.00"
    );
}

#[test]
fn an_aggregate_rule_fires_only_when_the_request_alone_stays_under_its_threshold() {
    // (this request, the vendor's other spend, CIO rules, Finance rules)
    let cases: [(i64, i64, &[&str], &[&str]); 6] = [
        (2_000_000, 2_999_999, &[], &[]),
        (2_000_000, 3_000_000, &["cio-vendor-fy-aggregate"], &[]),
        (6_000_000, 3_000_000, &["cio-value-threshold"], &[]),
        (
            6_000_000,
            4_500_000,
            &["cio-value-threshold"],
            &["finance-vendor-fy-aggregate"],
        ),
        (
            2_000_000,
            8_000_000,
            &["cio-vendor-fy-aggregate"],
            &["finance-vendor-fy-aggregate"],
        ),
        (
            12_000_000,
            9_000_000,
            &["cio-value-threshold"],
            &["finance-value-threshold"],
        ),
    ];
    for (this_request, others, cio_rules, finance_rules) in cases {
        let route = route_of(&RequestFacts {
            vendor_fy_other_cents: others,
            vendor_fy_other_count: 1,
            likely_duplicate_of: None,
            vendor_open_orders: None,
            budget: Default::default(),
            ..costing(this_request)
        });
        let case = format!("{this_request} + {others}");
        assert_eq!(
            rule_ids(&route, StepKindTag::CioApproval),
            cio_rules,
            "{case}"
        );
        assert_eq!(
            rule_ids(&route, StepKindTag::FinanceApproval),
            finance_rules,
            "{case}"
        );
    }
}

#[test]
fn each_data_class_brings_its_own_steps() {
    use StepKindTag::*;
    let cases: [(DataClass, StepLists); 7] = [
        (
            DataClass::PiMa,
            vec![
                (CioApproval, vec![]),
                (SecurityReview, vec!["city-baseline", "ma-201-cmr-17"]),
                (
                    ContractSafeguards,
                    vec![
                        "audit-evidence",
                        "breach-notice",
                        "encryption",
                        "ma-201-cmr-17-safeguards",
                        "return-destroy-data",
                        "subprocessor-flow-down",
                    ],
                ),
            ],
        ),
        (
            DataClass::PiCt,
            vec![
                (CioApproval, vec![]),
                (SecurityReview, vec!["city-baseline"]),
                (ContractSafeguards, vec!["ct-breach-notice"]),
            ],
        ),
        (
            DataClass::Cjis,
            vec![
                (CioApproval, vec![]),
                (SecurityReview, vec!["city-baseline", "cjis-addendum"]),
                (Evidence, vec!["cjis_security_addendum"]),
            ],
        ),
        (
            DataClass::Health,
            vec![
                (CioApproval, vec![]),
                (SecurityReview, vec!["city-baseline", "hipaa-addendum"]),
                (Evidence, vec!["hipaa_baa"]),
            ],
        ),
        (
            DataClass::Cardholder,
            vec![
                (CioApproval, vec![]),
                (SecurityReview, vec!["city-baseline", "pci-addendum"]),
                (Evidence, vec!["pci_dss_aoc"]),
            ],
        ),
        (
            DataClass::Confidential,
            vec![
                (CioApproval, vec![]),
                (SecurityReview, vec!["city-baseline"]),
            ],
        ),
        (DataClass::Public, vec![]),
    ];
    for (class, expected) in cases {
        let route = route_of(&RequestFacts {
            data_classes: BTreeSet::from([class]),
            ..quiet_request()
        });
        assert_eq!(step_lists(&route), expected, "{}", class.as_str());
    }
}

#[test]
fn reasons_name_the_data_classes_the_rule_matched() {
    let route = route_of(&RequestFacts {
        data_classes: BTreeSet::from([DataClass::Public, DataClass::PiCt, DataClass::PiMa]),
        ..quiet_request()
    });
    assert_eq!(
        reason(&route, StepKindTag::CioApproval, "cio-non-public-data"),
        "the system will hold non-public data: personal information of Massachusetts \
         residents, personal information of Connecticut residents"
    );
    assert_eq!(
        reason(
            &route,
            StepKindTag::SecurityReview,
            "security-ma-201-cmr-17"
        ),
        "the vendor will hold personal information of Massachusetts residents; the city \
         must check that it can keep the safeguards 201 CMR 17.00 requires"
    );
}

#[test]
fn a_vendor_hosted_system_of_public_data_needs_only_the_city_baseline_questionnaire() {
    let route = route_of(&RequestFacts {
        hosting: Hosting::VendorCloud,
        ..quiet_request()
    });
    assert_eq!(
        step_lists(&route),
        [(StepKindTag::SecurityReview, vec!["city-baseline"])]
    );
}

#[test]
fn each_ordinance_body_buying_surveillance_technology_needs_council_approval() {
    for department in ORDINANCE_BODIES {
        let route = route_of(&RequestFacts {
            department_code: department.to_owned(),
            department_ordinance_covered: true,
            surveillance: true,
            ..quiet_request()
        });
        let council = route
            .step(StepKindTag::CouncilApproval)
            .unwrap_or_else(|| panic!("{department} needs council approval"));
        assert_eq!(
            council.attachments,
            ["surveillance_impact_report", "surveillance_use_policy"]
        );
        assert_eq!(council.grounds[0].citation, "Boston 16-63");
        assert!(
            council.grounds[0].reason.starts_with(department),
            "{}",
            council.grounds[0].reason
        );
    }
}

#[test]
fn a_department_outside_the_ordinance_needs_no_council_but_still_cio_and_surveillance_review() {
    let route = route_of(&RequestFacts {
        department_code: "BTD".to_owned(),
        department_ordinance_covered: false,
        surveillance: true,
        ..quiet_request()
    });
    assert!(!route.requires(StepKindTag::CouncilApproval));
    assert_eq!(
        rule_ids(&route, StepKindTag::CioApproval),
        ["cio-surveillance"]
    );
    assert_eq!(
        step_lists(&route),
        [
            (StepKindTag::CioApproval, vec![]),
            (StepKindTag::SecurityReview, vec!["surveillance"]),
        ]
    );
}

#[test]
fn face_surveillance_is_prohibited_for_every_department() {
    for (department, covered) in [
        ("BPD", true),
        ("OEM", true),
        ("BTD", false),
        ("DOIT", false),
    ] {
        let route = route_of(&RequestFacts {
            department_code: department.to_owned(),
            department_ordinance_covered: covered,
            surveillance: true,
            face_surveillance: true,
            ..quiet_request()
        });
        assert_eq!(route.prohibitions.len(), 1, "{department}");
        let prohibition = &route.prohibitions[0];
        assert_eq!(prohibition.code, "face_surveillance");
        assert_eq!(prohibition.grounds[0].rule_id, "prohibit-face-surveillance");
        assert_eq!(prohibition.grounds[0].citation, "Boston 16-62");
    }
}

#[test]
fn the_fast_path_waives_value_and_user_thresholds_but_not_data_review() {
    let big_renewal = RequestFacts {
        capital_cents: 8_000_000,
        users: 900,
        renewal: true,
        enterprise_agreement: true,
        ..quiet_request()
    };
    // (material change, data classes, CIO rules)
    let cases: [(bool, DataClass, &[&str]); 4] = [
        (false, DataClass::Public, &[]),
        (false, DataClass::PiMa, &["cio-non-public-data"]),
        (
            true,
            DataClass::Public,
            &["cio-value-threshold", "cio-user-threshold"],
        ),
        (
            true,
            DataClass::PiMa,
            &[
                "cio-value-threshold",
                "cio-user-threshold",
                "cio-non-public-data",
            ],
        ),
    ];
    for (material_change, class, cio_rules) in cases {
        let route = route_of(&RequestFacts {
            material_change,
            data_classes: BTreeSet::from([class]),
            ..big_renewal.clone()
        });
        assert_eq!(route.fast_path, !material_change);
        assert_eq!(
            rule_ids(&route, StepKindTag::CioApproval),
            cio_rules,
            "material change {material_change}, {}",
            class.as_str()
        );
    }
}

#[test]
fn the_fast_path_needs_a_renewal_under_an_enterprise_agreement() {
    for (renewal, enterprise_agreement, material_change, fast_path) in [
        (true, true, false, true),
        (true, false, false, false),
        (false, true, false, false),
        (true, true, true, false),
    ] {
        let facts = RequestFacts {
            renewal,
            enterprise_agreement,
            material_change,
            ..quiet_request()
        };
        assert_eq!(
            facts.fast_path(),
            fast_path,
            "{renewal} {enterprise_agreement} {material_change}"
        );
    }
}

#[test]
fn total_contract_value_is_capital_plus_operating_over_the_term() {
    // (capital, annual operating, months, expected)
    let cases = [
        (12_000_000, 0, 36, 12_000_000),
        (0, 1_200_000, 12, 1_200_000),
        (500_000, 1_200_000, 36, 4_100_000),
        (0, 1_000_000, 18, 1_500_000),
        (0, 1, 6, 1),  // half a cent rounds up
        (0, 1, 5, 0),  // 5/12 of a cent rounds down
        (0, 1, 7, 1),  // 7/12 of a cent rounds up
        (0, 10, 1, 1), // 0.83 cents
        (0, 999_999, 0, 0),
        // the product overflows i64 but the total does not
        (0, i64::MAX / 10, 120, i64::MAX / 10 * 10),
        (i64::MAX, 1_200, 12, i64::MAX), // saturates instead of wrapping
    ];
    for (capital, operating, months, expected) in cases {
        assert_eq!(
            total_contract_value_cents(capital, operating, months),
            expected,
            "{capital} + {operating} x {months}/12"
        );
    }
    let facts = RequestFacts {
        capital_cents: 2_000_000,
        annual_operating_cents: 1_500_000,
        term_months: 24,
        vendor_fy_other_cents: 700_000,
        ..quiet_request()
    };
    assert_eq!(facts.total_contract_value_cents(), 5_000_000);
    assert_eq!(facts.fy_vendor_total_cents(), 5_700_000);
}

#[test]
fn steps_come_out_in_route_order_whatever_the_rule_order() {
    let policy = Policy::from_toml(
        r#"
            label = "order"
            [[rules]]
            id = "council"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "council_approval", attachments = ["surveillance_use_policy", "surveillance_impact_report"] }
            reason = "r"
            [[rules]]
            id = "evidence"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "evidence", items = ["e"] }
            reason = "r"
            [[rules]]
            id = "security-2"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "security_review", questionnaires = ["z", "m"] }
            reason = "r"
            [[rules]]
            id = "finance"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "finance_approval" }
            reason = "r"
            [[rules]]
            id = "security-1"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "security_review", questionnaires = ["m", "a"] }
            reason = "r"
            [[rules]]
            id = "safeguards"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "contract_safeguards", clauses = ["k"] }
            reason = "r"
            [[rules]]
            id = "cio"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "cio_approval" }
            reason = "r"
            [[rules]]
            id = "duplicate"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { step = "cio_duplicate_review" }
            reason = "r"
            [[rules]]
            id = "ban"
            title = "t"
            citation = "c"
            when = { always = true }
            then = { prohibit = "x" }
            reason = "r"
            "#,
    )
    .unwrap();
    assert_eq!(policy.validate(), Ok(()));
    let route = evaluate(&policy, &quiet_request());
    let kinds: Vec<StepKindTag> = route.steps.iter().map(|step| step.kind).collect();
    assert_eq!(kinds, StepKindTag::VARIANTS);
    let security = route.step(StepKindTag::SecurityReview).unwrap();
    assert_eq!(security.questionnaires, ["a", "m", "z"]);
    assert_eq!(
        rule_ids(&route, StepKindTag::SecurityReview),
        ["security-2", "security-1"]
    );
    assert_eq!(
        route
            .step(StepKindTag::CouncilApproval)
            .unwrap()
            .attachments,
        ["surveillance_impact_report", "surveillance_use_policy"]
    );
    assert_eq!(route.prohibitions[0].code, "x");
}

#[test]
fn department_in_and_numeric_comparisons_select_as_written() {
    let policy = Policy::from_toml(
        r#"
            label = "conditions"
            [[rules]]
            id = "police-long-terms"
            title = "t"
            citation = "c"
            when = { all = [
                { department_in = ["BPD"] },
                { fact = "term_months", gt = 36 },
                { fact = "annual_operating_cents", lte = 100_000 },
            ] }
            then = { step = "cio_approval" }
            reason = "{department} signs for more than {threshold} months"
            "#,
    )
    .unwrap();
    assert_eq!(policy.validate(), Ok(()));
    let police = RequestFacts {
        department_code: "BPD".to_owned(),
        term_months: 37,
        annual_operating_cents: 100_000,
        ..quiet_request()
    };
    // (request, selected)
    let cases = [
        (police.clone(), true),
        (
            RequestFacts {
                term_months: 36,
                ..police.clone()
            },
            false,
        ),
        (
            RequestFacts {
                annual_operating_cents: 100_001,
                ..police.clone()
            },
            false,
        ),
        (
            RequestFacts {
                department_code: "BPS".to_owned(),
                ..police.clone()
            },
            false,
        ),
    ];
    for (facts, selected) in cases {
        let route = evaluate(&policy, &facts);
        assert_eq!(
            route.requires(StepKindTag::CioApproval),
            selected,
            "{facts:?}"
        );
    }
    assert_eq!(
        reason(
            &evaluate(&policy, &police),
            StepKindTag::CioApproval,
            "police-long-terms"
        ),
        "BPD signs for more than 36 months"
    );
}

#[test]
fn every_placeholder_renders_with_the_request_figures() {
    let template: String = REASON_PLACEHOLDERS
        .iter()
        .map(|name| format!("{{{name}}}"))
        .collect::<Vec<_>>()
        .join(" | ");
    let policy = Policy {
        rules: vec![Rule {
            id: "everything".to_owned(),
            title: "t".to_owned(),
            citation: "c".to_owned(),
            when: Condition::All(vec![
                Condition::Compare {
                    fact: NumericFact::FyVendorTotalCents,
                    comparison: Comparison::Gte,
                    threshold: 5_000_000,
                },
                Condition::DataClassAny(vec![DataClass::Health, DataClass::Cjis]),
            ]),
            then: Outcome::Require(StepKind::CioApproval),
            reason: template,
        }],
        ..Policy::default_policy()
    };
    assert_eq!(policy.validate(), Ok(()));
    let route = evaluate(
        &policy,
        &RequestFacts {
            department_code: "BPHC".to_owned(),
            users: 1_200,
            data_classes: BTreeSet::from([DataClass::Health, DataClass::PiMa]),
            start_date: date(2027, 1, 15),
            vendor_fy_other_cents: 4_250_050,
            vendor_fy_other_count: 4,
            likely_duplicate_of: Some("Enterprise e-signature (score 0.82)".to_owned()),
            budget: Default::default(),
            ..costing(1_000_000)
        },
    );
    assert_eq!(
        reason(&route, StepKindTag::CioApproval, "everything"),
        "$10,000.00 | $52,500.50 | $42,500.50 | 4 | 5 | $50,000.00 | 1200 | \
         protected health information | BPHC | FY2027 | Enterprise e-signature (score 0.82) | none | none | \
         none | no overrun"
    );
}

#[test]
fn a_likely_duplicate_puts_the_request_before_the_cio_with_the_match() {
    let policy = Policy::default_policy();
    let facts = RequestFacts {
        likely_duplicate_of: Some(
            "Enterprise e-signature (catalogue service, score 0.91)".to_owned(),
        ),
        ..quiet_request()
    };
    let route = evaluate(&policy, &facts);
    let step = route
        .step(StepKindTag::CioDuplicateReview)
        .expect("a duplicate review");
    assert!(step.grounds[0].reason.contains("Enterprise e-signature"));
    assert_eq!(step.grounds[0].citation, "EO 2025 Art. 3");
    let plain = evaluate(&policy, &quiet_request());
    assert!(plain.step(StepKindTag::CioDuplicateReview).is_none());
}

#[test]
fn the_documented_example_rule_reads_and_applies() {
    let policy = Policy::from_toml(
        r#"
            label = "example"
            [[rules]]
            id = "cio-value-threshold"
            title = "CIO approval: total contract value"
            citation = "c.30B §5; EO 2025 Art. 3"
            when = { all = [
                { fact = "total_contract_value_cents", gte = 5_000_000 },
                { not = { flag = "fast_path" } },
            ] }
            then = { step = "cio_approval" }
            reason = "total contract value {total_contract_value} is at or above {threshold}"
            "#,
    )
    .unwrap();
    assert_eq!(policy.validate(), Ok(()));
    assert_eq!(policy.fiscal_year_start_month, 7);
    assert_eq!(policy.questionnaire_due_days, 30);
    let route = evaluate(&policy, &costing(12_000_000));
    let ground = &route.step(StepKindTag::CioApproval).unwrap().grounds[0];
    assert_eq!(
        ground.to_string(),
        "total contract value $120,000.00 is at or above $50,000.00 [c.30B §5; EO 2025 Art. 3]"
    );
}

#[test]
fn a_route_round_trips_through_json_unchanged() {
    let route = route_of(&RequestFacts {
        department_code: "BPD".to_owned(),
        department_ordinance_covered: true,
        surveillance: true,
        face_surveillance: true,
        hosting: Hosting::VendorCloud,
        data_classes: BTreeSet::from([DataClass::Cjis, DataClass::PiMa]),
        ..costing(15_000_000)
    });
    let json = serde_json::to_string(&route).unwrap();
    assert_eq!(serde_json::from_str::<Route>(&json).unwrap(), route);
}
