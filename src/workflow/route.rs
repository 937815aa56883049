//! Routing a version of a request: the facts the policy reads, the renewal comparison, and how a new version of
//! a decided request compares with the version whose decision stands.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::domain::comparison::{Check, Comparison, RenewalBasis};
use crate::domain::policy::{
    BudgetFacts, DataClass, Hosting, Policy, RequestFacts, Route, RouteStep, StepKindTag, evaluate,
    format_cents,
};
use crate::domain::requests::{Renews, RequestFields};
use crate::domain::reuse::{self, ProductFacts, ProductReview, Scope};
use crate::domain::route::{StepState, decider};

use super::requests::Step;

/// What routing needs beyond the request's own fields, loaded by the store in the routing transaction.
#[derive(Debug, Clone)]
pub struct Routing {
    /// The policy version the route is computed under.
    pub policy_version: i32,
    pub policy: Policy,
    /// Whether the Surveillance Oversight Ordinance covers the buying department [Boston 16-63].
    pub ordinance_covered: bool,
    /// Whether the vendor the fields name is registered.
    pub vendor_known: bool,
    /// The vendor's other submitted or approved spend in the request's fiscal year, and how many requests.
    pub fy_other_cents: i64,
    pub fy_other_count: u32,
    /// Every likely duplicate the CIO has not dismissed, described for the route's reason.
    pub likely_duplicate: Option<String>,
    /// Possible overlaps not dismissed, described, with their scores: those at or above the policy's
    /// `duplicate_notice_score` become the route's notices.
    pub overlaps: Vec<(String, f64)>,
    /// Candidates an earlier dismissal of the same department and product set aside, each with it cited:
    /// they add no step and no notice.
    pub dismissed_earlier: Vec<String>,
    /// For a renewal: what its link names, as loaded; `None` when the link names nothing the buyer may renew.
    pub prior: Option<Prior>,
    /// The remediation orders standing against the vendor, described for the route's reason; `None` when none
    /// stands.
    pub vendor_open_orders: Option<String>,
    /// The department's budget for the fiscal year and the line the fields name [EO 2025 Art. 2].
    pub budget: BudgetFacts,
    /// The product the fields name, with its assessments and standing findings; `None` when they name none, or
    /// name one that is not this vendor's.
    pub product: Option<ProductFacts>,
    /// The day the validity of the product's acceptances is judged on.
    pub today: chrono::NaiveDate,
}

/// What a renewal renews, as the store found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    pub link: Renews,
    /// For a reader: `request "Permit e-signature" (approved in version 1)`, `contract C-2024-17`.
    pub label: String,
    /// The terms to compare the renewal with, or why there are none (not approved, cancelled, ...).
    pub terms: Result<PriorTerms, String>,
}

/// The terms of an approved purchase that a renewal must match.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorTerms {
    pub vendor_id: Uuid,
    pub product_name: String,
    pub data_classes: BTreeSet<DataClass>,
    pub hosting: Hosting,
    pub users: i64,
    /// Capital and operating cost over the term, per year of the term.
    pub annual_value_cents: i64,
    pub surveillance: bool,
    pub face_surveillance: bool,
}

impl PriorTerms {
    /// The terms of an approved request's fields.
    pub fn of(fields: &RequestFields) -> PriorTerms {
        PriorTerms {
            vendor_id: fields.vendor_id,
            product_name: fields.product_name.clone(),
            data_classes: fields.data_classes.clone(),
            hosting: fields.hosting,
            users: fields.expected_users,
            annual_value_cents: annual_value_cents(fields),
            surveillance: fields.surveillance,
            face_surveillance: fields.face_surveillance,
        }
    }
}

/// A request's total contract value spread over its term, per twelve months.
pub fn annual_value_cents(fields: &RequestFields) -> i64 {
    per_year(
        fields.total_contract_value_cents(),
        fields.term_months.max(1),
    )
}

/// `total_cents` over `months`, per twelve months (rounded down).
pub fn per_year(total_cents: i64, months: i64) -> i64 {
    let yearly = i128::from(total_cents) * 12 / i128::from(months.max(1));
    i64::try_from(yearly).unwrap_or(i64::MAX)
}

/// Whether `after` rose by more than `percent` of `before`.
pub fn rose_more_than(before: i64, after: i64, percent: u32) -> bool {
    i128::from(after) * 100 > i128::from(before) * (100 + i128::from(percent))
}

fn same_words(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

fn class_names(classes: impl IntoIterator<Item = DataClass>) -> String {
    classes
        .into_iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Compares a renewal with what it renews. The fast path (with an enterprise agreement) may apply only when
/// every check passes: same vendor and product, no new data class, hosting unchanged, not newly surveillance,
/// and users and yearly value within the policy's percentages.
pub fn renewal_basis(policy: &Policy, fields: &RequestFields, prior: &Prior) -> RenewalBasis {
    let mut checks = Vec::new();
    let mut check = |what: &str, passed: bool, detail: String| {
        checks.push(Check {
            what: what.to_string(),
            passed,
            detail,
        })
    };
    match &prior.terms {
        Err(why) => check("status", false, why.clone()),
        Ok(terms) => {
            check(
                "status",
                true,
                format!("{} is approved and in force", prior.label),
            );
            check(
                "vendor",
                terms.vendor_id == fields.vendor_id,
                if terms.vendor_id == fields.vendor_id {
                    "same vendor".to_string()
                } else {
                    "another vendor than the one renewed".to_string()
                },
            );
            let same_product = same_words(&terms.product_name, &fields.product_name);
            check(
                "product",
                same_product,
                if same_product {
                    format!("same product: {}", fields.product_name)
                } else {
                    format!(
                        "product {:?} renews {:?}",
                        fields.product_name, terms.product_name
                    )
                },
            );
            let added: Vec<DataClass> = fields
                .data_classes
                .iter()
                .filter(|d| !d.is_public() && !terms.data_classes.contains(d))
                .copied()
                .collect();
            check(
                "data classes",
                added.is_empty(),
                if added.is_empty() {
                    "no new data class".to_string()
                } else {
                    format!("new data classes: {}", class_names(added))
                },
            );
            check(
                "hosting",
                terms.hosting == fields.hosting,
                if terms.hosting == fields.hosting {
                    format!("hosting unchanged ({})", fields.hosting.as_str())
                } else {
                    format!(
                        "hosting {} -> {}",
                        terms.hosting.as_str(),
                        fields.hosting.as_str()
                    )
                },
            );
            let newly_surveillance = (fields.surveillance && !terms.surveillance)
                || (fields.face_surveillance && !terms.face_surveillance);
            check(
                "surveillance",
                !newly_surveillance,
                if newly_surveillance {
                    "now surveillance technology".to_string()
                } else {
                    "no new surveillance capability".to_string()
                },
            );
            let users_pct = policy.material_change_users_percent;
            let more_users = rose_more_than(terms.users, fields.expected_users, users_pct);
            check(
                "users",
                !more_users,
                format!(
                    "expected users {} -> {}, {} {users_pct}%",
                    count(terms.users),
                    count(fields.expected_users),
                    if more_users { "more than" } else { "within" }
                ),
            );
            let cost_pct = policy.material_change_cost_percent;
            let annual = annual_value_cents(fields);
            let dearer = rose_more_than(terms.annual_value_cents, annual, cost_pct);
            check(
                "annual value",
                !dearer,
                format!(
                    "yearly value {} -> {}, {} {cost_pct}%",
                    format_cents(terms.annual_value_cents),
                    format_cents(annual),
                    if dearer { "up more than" } else { "within" }
                ),
            );
        }
    }
    let unchanged = checks.iter().all(|c| c.passed);
    RenewalBasis {
        renews_kind: prior.link.kind().to_string(),
        renews_id: prior.link.id(),
        renews_label: prior.label.clone(),
        checks,
        unchanged,
    }
}

/// The facts the policy reads for these fields.
pub fn facts(
    fields: &RequestFields,
    department: &str,
    routing: &Routing,
    material_change: bool,
) -> RequestFacts {
    RequestFacts {
        department_code: department.to_string(),
        department_ordinance_covered: routing.ordinance_covered,
        vendor_id: fields.vendor_id.to_string(),
        capital_cents: fields.capital_cost_cents,
        annual_operating_cents: fields.annual_operating_cost_cents,
        term_months: fields.term_months as u32,
        users: fields.expected_users as u32,
        renewal: fields.renewal,
        enterprise_agreement: fields.enterprise_agreement,
        material_change,
        hosting: fields.hosting,
        data_classes: fields.data_classes.clone(),
        surveillance: fields.surveillance,
        face_surveillance: fields.face_surveillance,
        start_date: fields.requested_start_date,
        capabilities: fields.capabilities.clone(),
        vendor_fy_other_cents: routing.fy_other_cents,
        vendor_fy_other_count: routing.fy_other_count,
        likely_duplicate_of: routing.likely_duplicate.clone(),
        vendor_open_orders: routing.vendor_open_orders.clone(),
        budget: routing.budget.clone(),
    }
}

/// The route of these fields under `routing.policy`. A renewal is compared with what it renews first: the
/// fast path applies only when that comparison finds no material change, and the route records the checks.
/// Without a link the full route applies (the caller refuses a renewal whose link names nothing).
pub fn route_for(fields: &RequestFields, department: &str, routing: &Routing) -> Route {
    let basis = match (&routing.prior, fields.renewal) {
        (Some(prior), true) => Some(renewal_basis(&routing.policy, fields, prior)),
        _ => None,
    };
    let material = fields.renewal && !basis.as_ref().is_some_and(|b| b.unchanged);
    let mut route = evaluate(
        &routing.policy,
        &facts(fields, department, routing, material),
    );
    route.renewal = basis;
    route.notices = routing
        .overlaps
        .iter()
        .filter(|(_, score)| *score >= routing.policy.duplicate_notice_score)
        .map(|(text, _)| text.clone())
        .collect();
    route.dismissed_earlier = routing.dismissed_earlier.clone();
    route.product = product_review(&route, fields, routing);
    route
}

/// What a request asks of a product's review: its data classes, hosting and users.
pub fn scope_of(fields: &RequestFields) -> Scope {
    Scope {
        data_classes: fields.data_classes.clone(),
        hosting: fields.hosting,
        users: fields.expected_users,
    }
}

/// For fields that name a product: each questionnaire of the route's security review judged against the
/// product's assessments, with the findings standing on the product.
pub fn product_review(
    route: &Route,
    fields: &RequestFields,
    routing: &Routing,
) -> Option<ProductReview> {
    let product = routing.product.as_ref()?;
    let questionnaires = route
        .step(StepKindTag::SecurityReview)
        .map(|s| s.questionnaires.clone())
        .unwrap_or_default();
    Some(reuse::review(
        &routing.policy,
        product,
        &questionnaires,
        &scope_of(fields),
        routing.today,
    ))
}

/// Whether the text the duplicate check reads is the same in both versions.
pub fn same_duplicate_text(a: &RequestFields, b: &RequestFields) -> bool {
    a.title == b.title
        && a.description == b.description
        && a.product_name == b.product_name
        && a.category == b.category
        && a.capabilities == b.capabilities
        && a.vendor_id == b.vendor_id
}

/// The version of a request whose decision stands.
#[derive(Debug, Clone, PartialEq)]
pub struct DecidedVersion {
    pub submission: i32,
    pub fields: RequestFields,
    pub route: Route,
    pub policy_version: i32,
    /// The steps as they were settled.
    pub steps: Vec<Step>,
}

/// How `next` compares with the decided version, judged under the policy version it was decided under: each
/// route fact that changed, and why review must re-open — a step, ground, questionnaire, clause, evidence item
/// or attachment the decided route did not satisfy or waive, a prohibition, another vendor, or a total value
/// more than the policy's percentage above the decided one (so several small rises add up).
///
/// `fresh` supplies what the store loaded for the new fields; when neither the vendor nor the fiscal year
/// changed, the decided route's aggregate of the vendor's other spend is used instead, and when the text the
/// duplicate check reads is unchanged, so is the decided duplicate finding: an edit of a title must not be
/// judged against purchases made since the decision.
pub fn compare(
    decided: &DecidedVersion,
    decided_policy: &Policy,
    next: &RequestFields,
    department: &str,
    fresh: &Routing,
) -> Comparison {
    let before = &decided.fields;
    let fiscal_year_same = decided_policy.fiscal_year_of(before.requested_start_date)
        == decided_policy.fiscal_year_of(next.requested_start_date);
    let mut routing = Routing {
        policy: decided_policy.clone(),
        policy_version: decided.policy_version,
        // An order issued since the decision is a ground for the next submission, not a change of this purchase.
        vendor_open_orders: None,
        ..fresh.clone()
    };
    if before.vendor_id == next.vendor_id && fiscal_year_same {
        routing.fy_other_cents = decided
            .route
            .fy_vendor_total_cents
            .saturating_sub(decided.route.total_contract_value_cents);
    }
    if same_duplicate_text(before, next) {
        routing.likely_duplicate = decided
            .route
            .step(StepKindTag::CioDuplicateReview)
            .and_then(|s| s.grounds.first())
            .map(|g| g.reason.clone());
    }
    let again = route_for(next, department, &routing);
    let mut reasons = uncovered(decided, &again);
    if before.vendor_id != next.vendor_id {
        reasons.insert(
            0,
            "the vendor changed: the review was of another vendor".to_string(),
        );
    }
    let pct = decided_policy.material_change_cost_percent;
    let (was, now) = (
        before.total_contract_value_cents(),
        next.total_contract_value_cents(),
    );
    if rose_more_than(was, now, pct) {
        reasons.insert(
            0,
            format!(
                "total contract value rose from {} (decided in version {}) to {}, more than {pct}%",
                format_cents(was),
                decided.submission,
                format_cents(now)
            ),
        );
    }
    Comparison {
        decided_submission: decided.submission,
        material: !reasons.is_empty(),
        changes: changes(before, next),
        reasons,
    }
}

/// The route facts of a request, each with how a reader sees it.
type Shown = fn(&RequestFields) -> String;

const ROUTE_FACTS: [(&str, Shown); 14] = [
    ("vendor_id", |f| f.vendor_id.to_string()),
    ("product_name", |f| f.product_name.clone()),
    ("total_contract_value", |f| {
        format_cents(f.total_contract_value_cents())
    }),
    ("capital_cost", |f| format_cents(f.capital_cost_cents)),
    ("annual_operating_cost", |f| {
        format_cents(f.annual_operating_cost_cents)
    }),
    ("term_months", |f| f.term_months.to_string()),
    ("expected_users", |f| count(f.expected_users)),
    ("hosting", |f| f.hosting.as_str().to_string()),
    ("data_classes", |f| {
        class_names(f.data_classes.iter().copied())
    }),
    ("surveillance", |f| f.surveillance.to_string()),
    ("face_surveillance", |f| f.face_surveillance.to_string()),
    ("renewal", |f| f.renewal.to_string()),
    ("enterprise_agreement", |f| {
        f.enterprise_agreement.to_string()
    }),
    ("requested_start_date", |f| {
        f.requested_start_date.to_string()
    }),
];

/// Each route fact that differs between two versions, as `fact: before -> after`.
pub fn changes(before: &RequestFields, after: &RequestFields) -> Vec<String> {
    ROUTE_FACTS
        .iter()
        .filter_map(|(name, shown)| {
            let (a, b) = (shown(before), shown(after));
            (a != b).then(|| format!("{name}: {a} -> {b}"))
        })
        .collect()
}

fn settled(step: &Step) -> bool {
    step.state.is_done()
}

/// What `route` needs that the decided version's settled steps do not cover, in words.
fn uncovered(decided: &DecidedVersion, route: &Route) -> Vec<String> {
    let mut out = Vec::new();
    for prohibition in &route.prohibitions {
        for ground in &prohibition.grounds {
            out.push(format!("now prohibited: {ground}"));
        }
    }
    for step in &route.steps {
        let label = step.kind.label();
        let Some(done) = decided
            .steps
            .iter()
            .find(|d| d.kind == step.kind && settled(d))
        else {
            let why: Vec<String> = step.grounds.iter().map(|g| g.to_string()).collect();
            out.push(format!(
                "{label} is now required, which version {} did not need: {}",
                decided.submission,
                why.join("; ")
            ));
            continue;
        };
        for ground in &step.grounds {
            if !done
                .detail
                .grounds
                .iter()
                .any(|g| g.rule_id == ground.rule_id)
            {
                out.push(format!("a new ground for {label}: {ground}"));
            }
        }
        for (what, now, then) in lists(step, &done.detail) {
            let added: Vec<&String> = now.iter().filter(|x| !then.contains(x)).collect();
            if !added.is_empty() {
                out.push(format!(
                    "{label} now needs {what} {}",
                    added
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    out
}

/// The named lists of a step (questionnaires, clauses, evidence items, attachments), beside another step's.
fn lists<'a>(
    step: &'a RouteStep,
    other: &'a RouteStep,
) -> [(&'static str, &'a Vec<String>, &'a Vec<String>); 4] {
    [
        ("questionnaire", &step.questionnaires, &other.questionnaires),
        ("clause", &step.clauses, &other.clauses),
        ("evidence", &step.items, &other.items),
        ("attachment", &step.attachments, &other.attachments),
    ]
}

/// Whether a settled step of an earlier version also settles `step` of a new route: the same kind, settled,
/// no ground and no questionnaire, clause, item or attachment it did not have. A decision step does not carry
/// when the value rose beyond the policy's percentage: the decider decided a smaller purchase.
pub fn carries(step: &RouteStep, earlier: &Step, value_rose: bool) -> bool {
    earlier.kind == step.kind
        && settled(earlier)
        && !(value_rose && decider(step.kind).is_some())
        && step.grounds.iter().all(|g| {
            earlier
                .detail
                .grounds
                .iter()
                .any(|e| e.rule_id == g.rule_id)
        })
        && lists(step, &earlier.detail)
            .iter()
            .all(|(_, now, then)| now.iter().all(|x| then.contains(x)))
}

/// The state a carried step takes, with a note that says where it came from.
pub fn carried(step: &RouteStep, earlier: &Step, from: i32) -> Step {
    Step {
        kind: step.kind,
        state: earlier.state,
        note: format!("carried from version {from}: {}", earlier.note),
        detail: step.clone(),
        conditions: earlier.conditions.clone(),
        settled_in: Some(earlier.settled_in.unwrap_or(from)),
    }
}

/// Whether a step still waits for something.
pub fn waiting(step: &Step) -> bool {
    step.state == StepState::Pending
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::NaiveDate;

    pub(crate) fn fields() -> RequestFields {
        RequestFields {
            title: "Permit e-signature".into(),
            description: "Sign permits online".into(),
            vendor_id: Uuid::nil(),
            product_name: "SignIt".into(),
            category: "e-signature".into(),
            capabilities: vec!["electronic signatures".into()],
            capital_cost_cents: 0,
            annual_operating_cost_cents: 6_000_000,
            term_months: 12,
            expected_users: 100,
            renewal: false,
            enterprise_agreement: false,
            hosting: Hosting::OnPremises,
            data_classes: [DataClass::Public].into(),
            surveillance: false,
            face_surveillance: false,
            requested_start_date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            renews: None,
            budget_line_id: None,
            product_id: None,
        }
    }

    pub(crate) fn routing() -> Routing {
        Routing {
            policy_version: 1,
            policy: Policy::default_policy(),
            ordinance_covered: false,
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
            today: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        }
    }

    fn decided(f: &RequestFields) -> DecidedVersion {
        let route = route_for(f, "DOIT", &routing());
        let steps = route
            .steps
            .iter()
            .map(|s| Step {
                kind: s.kind,
                state: StepState::Satisfied,
                note: "approved".into(),
                detail: s.clone(),
                conditions: vec![],
                settled_in: Some(1),
            })
            .collect();
        DecidedVersion {
            submission: 1,
            fields: f.clone(),
            route,
            policy_version: 1,
            steps,
        }
    }

    #[test]
    fn more_users_is_a_new_ground_for_a_step_the_cio_already_approved() {
        let before = fields();
        let mut after = before.clone();
        after.expected_users = 5000;
        let c = compare(
            &decided(&before),
            &Policy::default_policy(),
            &after,
            "DOIT",
            &routing(),
        );
        assert!(c.material);
        assert_eq!(c.changes, ["expected_users: 100 -> 5,000"]);
        assert!(
            c.reasons[0].starts_with("a new ground for CIO approval:"),
            "{c:?}"
        );
        assert!(c.reasons[0].contains("5000 people"), "{c:?}");
    }

    #[test]
    fn vendor_hosting_needs_a_security_review_the_decided_route_did_not_have() {
        let before = fields();
        let mut after = before.clone();
        after.hosting = Hosting::VendorCloud;
        let c = compare(
            &decided(&before),
            &Policy::default_policy(),
            &after,
            "DOIT",
            &routing(),
        );
        assert!(c.material);
        assert_eq!(c.changes, ["hosting: on_premises -> vendor_cloud"]);
        assert!(
            c.reasons[0]
                .starts_with("Security review is now required, which version 1 did not need"),
            "{c:?}"
        );
    }

    #[test]
    fn rises_in_value_add_up_against_the_decided_value() {
        let before = fields();
        let decided = decided(&before);
        let mut after = before.clone();
        for (step, material) in [(6_540_000, false), (7_128_600, true)] {
            after.annual_operating_cost_cents = step;
            let c = compare(
                &decided,
                &Policy::default_policy(),
                &after,
                "DOIT",
                &routing(),
            );
            assert_eq!(c.material, material, "{step}: {c:?}");
        }
        let c = compare(
            &decided,
            &Policy::default_policy(),
            &after,
            "DOIT",
            &routing(),
        );
        assert_eq!(
            c.reasons[0],
            "total contract value rose from $60,000.00 (decided in version 1) to $71,286.00, more than 10%"
        );
    }

    #[test]
    fn an_edit_is_not_judged_by_purchases_made_since_the_decision() {
        let before = fields();
        let mut after = before.clone();
        after.requested_start_date = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let mut fresh = routing();
        // Purchases since the decision would add an aggregate ground, and a new catalogue entry a duplicate
        // review; an edit that moves the start within the fiscal year and leaves the text alone meets neither.
        fresh.fy_other_cents = 90_000_000;
        fresh.likely_duplicate = Some("Citywide e-signature".into());
        let c = compare(
            &decided(&before),
            &Policy::default_policy(),
            &after,
            "DOIT",
            &fresh,
        );
        assert!(!c.material, "{c:?}");
        assert_eq!(
            c.changes,
            ["requested_start_date: 2026-09-01 -> 2026-10-01"]
        );
    }

    fn prior(terms: PriorTerms) -> Prior {
        Prior {
            link: Renews::Request(Uuid::nil()),
            label: "request \"Permit e-signature\" (approved in version 1)".into(),
            terms: Ok(terms),
        }
    }

    #[test]
    fn a_renewal_takes_the_fast_path_only_when_every_check_passes() {
        let old = fields();
        let mut renewal = old.clone();
        renewal.renewal = true;
        renewal.enterprise_agreement = true;
        renewal.expected_users = 105;
        renewal.annual_operating_cost_cents = 6_500_000;
        let mut r = routing();
        r.prior = Some(prior(PriorTerms::of(&old)));
        let route = route_for(&renewal, "DOIT", &r);
        let basis = route.renewal.clone().unwrap();
        assert!(basis.unchanged, "{basis:?}");
        assert!(route.fast_path);
        assert!(route.step(StepKindTag::CioApproval).is_none());
        let users = basis.checks.iter().find(|c| c.what == "users").unwrap();
        assert_eq!(users.detail, "expected users 100 -> 105, within 10%");

        renewal.expected_users = 60_000;
        renewal.annual_operating_cost_cents = 500_000_000;
        let route = route_for(&renewal, "DOIT", &r);
        assert!(!route.fast_path);
        let failed: Vec<&str> = route
            .renewal
            .as_ref()
            .unwrap()
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.what.as_str())
            .collect();
        assert_eq!(failed, ["users", "annual value"]);
        assert!(route.step(StepKindTag::CioApproval).is_some());
        assert!(route.step(StepKindTag::FinanceApproval).is_some());
    }

    #[test]
    fn a_renewal_of_something_not_approved_takes_the_full_route() {
        let mut renewal = fields();
        renewal.renewal = true;
        renewal.enterprise_agreement = true;
        let mut r = routing();
        r.prior = Some(Prior {
            link: Renews::Contract(Uuid::nil()),
            label: "contract C-1".into(),
            terms: Err("contract C-1 was cancelled".into()),
        });
        let route = route_for(&renewal, "DOIT", &r);
        assert!(!route.fast_path);
        assert_eq!(
            route.renewal.unwrap().checks[0].detail,
            "contract C-1 was cancelled"
        );
    }

    #[test]
    fn a_decision_step_does_not_carry_past_a_rise_in_value() {
        let before = fields();
        let d = decided(&before);
        let cio = d.route.step(StepKindTag::CioApproval).unwrap();
        let earlier = d
            .steps
            .iter()
            .find(|s| s.kind == StepKindTag::CioApproval)
            .unwrap();
        assert!(carries(cio, earlier, false));
        assert!(!carries(cio, earlier, true));
        let carried = carried(cio, earlier, 1);
        assert_eq!(carried.note, "carried from version 1: approved");
        assert_eq!(carried.settled_in, Some(1));
    }

    #[test]
    fn money_per_year_and_rises() {
        assert_eq!(per_year(3_600_000, 36), 1_200_000);
        assert!(!rose_more_than(100, 110, 10));
        assert!(rose_more_than(100, 111, 10));
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn possible_overlaps_at_the_notice_level_become_notices_that_block_nothing() {
        let mut routing = routing();
        routing.overlaps = vec![
            ("the city already runs A".into(), 0.52),
            ("the city already runs B".into(), 0.40),
        ];
        let route = route_for(&fields(), "DOIT", &routing);
        assert_eq!(route.notices, ["the city already runs A"]);
        assert!(route.step(StepKindTag::CioDuplicateReview).is_none());
        routing.policy.duplicate_notice_score = 0.3;
        assert_eq!(route_for(&fields(), "DOIT", &routing).notices.len(), 2);
    }
}
