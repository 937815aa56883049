//! Routing: the policy engine alone (50 rules), and a whole submission against a store that holds a fiscal
//! year of 50,000 purchases (the vendor aggregate is part of every route), with no budget line and on a budget
//! line that 5,000 of them draw on (the committed sums are part of that route).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use procurement_review::auth::Role;
use procurement_review::config::Secret;
use procurement_review::domain::policy::{DataClass, Hosting, Policy, RequestFacts, evaluate};
use procurement_review::domain::registry::NewVendor;
use procurement_review::domain::requests::{RequestFields, RequestInput};
use procurement_review::store::{Actor, Detection, Scope, Store};
use procurement_review::workflow::Caller;
use uuid::Uuid;

/// The default policy's rules, repeated with other ids and thresholds until there are 50.
fn policy_of_50_rules() -> Policy {
    let mut policy = Policy::default_policy();
    let base = policy.rules.clone();
    let mut n = 0;
    while policy.rules.len() < 50 {
        let mut rule = base[n % base.len()].clone();
        rule.id = format!("{}-variant-{n}", rule.id);
        policy.rules.push(rule);
        n += 1;
    }
    policy.validate().expect("the synthetic policy is valid");
    policy
}

fn facts() -> RequestFacts {
    RequestFacts {
        department_code: "BPD".into(),
        department_ordinance_covered: true,
        vendor_id: "v".into(),
        capital_cents: 2_500_000,
        annual_operating_cents: 4_000_000,
        term_months: 36,
        users: 800,
        renewal: false,
        enterprise_agreement: false,
        material_change: false,
        hosting: Hosting::VendorCloud,
        data_classes: BTreeSet::from([DataClass::PiMa, DataClass::Cjis]),
        surveillance: true,
        face_surveillance: false,
        start_date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        capabilities: vec!["license plate reading".into()],
        vendor_fy_other_cents: 3_000_000,
        vendor_fy_other_count: 2,
        likely_duplicate_of: None,
        vendor_open_orders: None,
        budget: Default::default(),
    }
}

fn bench_evaluate(c: &mut Criterion) {
    let policy = policy_of_50_rules();
    let facts = facts();
    c.bench_function("route/evaluate 50 rules", |b| {
        b.iter(|| evaluate(&policy, std::hint::black_box(&facts)))
    });
}

async fn seeded_store(dir: &std::path::Path) -> (Store, Vec<Uuid>, Uuid) {
    let url = Secret::new(format!("sqlite:{}", dir.join("bench.db").display()));
    let store = Store::open(&url, 4).await.unwrap();
    store.bootstrap().await.unwrap();
    let actor = Actor::system();
    let mut vendors = Vec::new();
    for i in 0..1000 {
        let v = store
            .create_vendor(
                &actor,
                NewVendor {
                    legal_name: format!("Vendor {i}"),
                    website: None,
                    hq_country: "US".into(),
                    contacts: vec![],
                },
            )
            .await
            .unwrap();
        vendors.push(v.id);
    }
    let Store::Sqlite(repo) = &store else {
        unreachable!()
    };
    let mut tx = repo.pool.begin().await.unwrap();
    // An approved FY2027 budget of BPD with one line that every tenth purchase draws on.
    let (budget, line) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query(
        "INSERT INTO budgets (id, department_code, fiscal_year, status, amendment, submission, approved_at, version, \
         created_by, created_at, updated_at) VALUES ($1, 'BPD', 2027, 'approved', 0, 1, $2, 3, 'seed', $2, $2)",
    )
    .bind(budget)
    .bind(chrono::Utc::now())
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO budget_lines (id, budget_id, position, label, capital_cents, operating_staff_cents, \
         operating_other_cents, approved_capital_cents, approved_operating_cents) \
         VALUES ($1, $2, 0, 'Everything', 0, 0, 0, 100000000000, 100000000000)",
    )
    .bind(line)
    .bind(budget)
    .execute(&mut *tx)
    .await
    .unwrap();
    for i in 0..50_000usize {
        sqlx::query(
            "INSERT INTO requests (id, department_code, vendor_id, status, title, fields, total_contract_value_cents, \
             fiscal_year, submission, created_by, version, created_at, updated_at, budget_line_id, capital_cents, \
             annual_operating_cents) \
             VALUES ($1, 'BPD', $2, 'approved', 'seed', '{}', $3, 2027, 1, 'seed', 1, $4, $4, $5, 0, $3)",
        )
        .bind(Uuid::new_v4())
        .bind(vendors[i % vendors.len()])
        .bind(((i % 97) as i64 + 1) * 100_000)
        .bind(chrono::Utc::now())
        .bind((i % 10 == 0).then_some(line))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    (store, vendors, line)
}

fn bench_submit(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, vendors, line) = rt.block_on(seeded_store(dir.path()));
    let buyer = Actor {
        subject: "bench-buyer".into(),
        role: "buyer".into(),
        request_id: None,
        invitation: None,
    };
    let caller = Caller::new(&buyer.subject, vec![Role::Buyer], Some("BPD".into()));
    let mut next = 0usize;
    for (name, budget_line) in [
        (
            "route/submit with 50,000 purchases in the year (sqlite)",
            None,
        ),
        (
            "route/submit on a budget line 5,000 of them draw on (sqlite)",
            Some(line),
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter_batched(
                || {
                    next += 1;
                    let input = RequestInput {
                        title: Some("Bench".into()),
                        vendor_id: Some(vendors[next % vendors.len()]),
                        product_name: Some("Thing".into()),
                        capital_cost_cents: Some(0),
                        annual_operating_cost_cents: Some(3_000_000),
                        term_months: Some(24),
                        expected_users: Some(100),
                        hosting: Some("vendor_cloud".into()),
                        data_classes: Some(vec!["pi_ma".into()]),
                        requested_start_date: NaiveDate::from_ymd_opt(2026, 10, 1),
                        renewal: Some(false),
                        enterprise_agreement: Some(false),
                        surveillance: Some(false),
                        face_surveillance: Some(false),
                        budget_line_id: budget_line,
                        ..Default::default()
                    };
                    let fields = RequestFields::parse(input, None).unwrap();
                    let created = rt
                        .block_on(store.create_request(&buyer, &caller, fields))
                        .unwrap();
                    (created.id, created.version)
                },
                |(id, version)| {
                    let detection = Detection {
                        for_version: version,
                        candidates: Vec::new(),
                        carried: Vec::new(),
                    };
                    rt.block_on(store.submit_request(
                        &buyer,
                        &caller,
                        &Scope::All,
                        id,
                        version,
                        detection,
                    ))
                    .unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench_evaluate, bench_submit
}
criterion_main!(benches);
