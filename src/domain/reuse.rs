//! A vendor answers once: an accepted assessment of a product's questionnaire stands for every later request for
//! that product while it is valid and covers the request's scope.
//!
//! An assessment is asked for a scope (the data classes, hosting and users of the request it was made for); its
//! acceptance covers that scope until its validity ends (policy months per data class, from the day of the
//! acceptance). A later request that names the product and needs the same questionnaire is satisfied by reference
//! when the acceptance is valid, covers its scope and was answered against a template version the current one
//! asks nothing more of; otherwise a new cycle is opened, pre-filled with the last answers, when there is one to
//! continue, and a fresh questionnaire when there is none.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use uuid::Uuid;

use super::assessments::FindingStatus;
use super::policy::{DataClass, Hosting, Policy};
use super::questionnaires::Severity;

/// How long an acceptance stands and whether its reuse needs an analyst's word: policy data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReusePolicy {
    /// Whether a questionnaire satisfied by reference waits for a security analyst to confirm the reuse.
    #[serde(default)]
    pub confirmation_required: bool,
    /// Months an acceptance stays valid, per data class it covers (the shortest of its classes applies); a class
    /// not listed stands `reassessment_months`.
    #[serde(default)]
    pub validity_months: BTreeMap<String, u32>,
}

impl ReusePolicy {
    /// The faults of this part of a policy, each in words.
    pub fn faults(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (class, months) in &self.validity_months {
            if DataClass::try_from(class.as_str()).is_err() {
                out.push(format!(
                    "reuse.validity_months: {class:?} is not a data class"
                ));
            } else if *months == 0 || *months > 120 {
                out.push(format!(
                    "reuse.validity_months.{class}: must be 1 to 120 months"
                ));
            }
        }
        out
    }
}

/// The months an acceptance covering `classes` stays valid under `policy`.
pub fn validity_months(policy: &Policy, classes: &BTreeSet<DataClass>) -> u32 {
    let of = |c: &DataClass| {
        policy
            .reuse
            .validity_months
            .get(c.as_str())
            .copied()
            .unwrap_or(policy.reassessment_months)
    };
    classes
        .iter()
        .map(of)
        .min()
        .unwrap_or(policy.reassessment_months)
        .max(1)
}

/// The last day an acceptance on `accepted_on` covering `classes` stands.
pub fn valid_until(
    policy: &Policy,
    classes: &BTreeSet<DataClass>,
    accepted_on: NaiveDate,
) -> NaiveDate {
    accepted_on
        .checked_add_months(Months::new(validity_months(policy, classes)))
        .unwrap_or(NaiveDate::MAX)
}

/// The questions `current` asks that `accepted` did not ask in the same words and form: new or changed. An
/// acceptance of `accepted` stands for `current` only when there are none.
pub fn new_or_changed(
    accepted: &super::questionnaires::Template,
    current: &super::questionnaires::Template,
) -> Vec<String> {
    current
        .questions()
        .filter(|q| accepted.question(&q.id) != Some(*q))
        .map(|q| q.id.clone())
        .collect()
}

/// What an assessment was asked for, so what its acceptance covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub data_classes: BTreeSet<DataClass>,
    pub hosting: Hosting,
    pub users: i64,
}

/// How `wanted` goes beyond `covered`, in words; empty when it does not. Public data widens nothing; fewer users
/// or fewer classes are covered.
pub fn widening(covered: &Scope, wanted: &Scope) -> Vec<String> {
    let mut out = Vec::new();
    let added: Vec<&str> = wanted
        .data_classes
        .iter()
        .filter(|c| !c.is_public() && !covered.data_classes.contains(c))
        .map(|c| c.as_str())
        .collect();
    if !added.is_empty() {
        let was: Vec<&str> = covered.data_classes.iter().map(|c| c.as_str()).collect();
        out.push(format!(
            "data class {} not covered (the accepted review covered {})",
            added.join(", "),
            was.join(", ")
        ));
    }
    if wanted.hosting != covered.hosting {
        out.push(format!(
            "hosting {} not covered (the accepted review covered {})",
            wanted.hosting.as_str(),
            covered.hosting.as_str()
        ));
    }
    if wanted.users > covered.users {
        out.push(format!(
            "{} users not covered (the accepted review covered {})",
            wanted.users, covered.users
        ));
    }
    out
}

/// One assessment of a product, as routing reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub id: Uuid,
    pub template_id: String,
    /// Whether its template version asks nothing the current version does not (same questions, same answers).
    pub current_version: bool,
    pub status: super::assessments::AssessmentStatus,
    pub scope: Option<Scope>,
    pub cycle: i32,
    pub due_date: NaiveDate,
    /// Its last acceptance: when and by whom.
    pub accepted: Option<(DateTime<Utc>, String)>,
}

/// A finding still standing on one of the product's assessments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFinding {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub template_id: String,
    pub question_id: String,
    pub severity: Severity,
    pub title: String,
    pub status: FindingStatus,
}

/// A product as routing reads it: its assessments, newest first, and the findings standing on them.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductFacts {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub name: String,
    pub assessments: Vec<Held>,
    pub open_findings: Vec<OpenFinding>,
}

/// Where one questionnaire of the route stands with the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Standing {
    /// Already reviewed and valid: the questionnaire is satisfied by reference.
    Reused,
    /// As `Reused`, but the policy wants an analyst to confirm the reuse first.
    AwaitingConfirmation,
    /// The accepted review does not cover this request's scope: a new cycle, pre-filled.
    ScopeWidened,
    /// The acceptance is no longer valid (or the template asks more now): a new cycle, pre-filled.
    Expired,
    /// Nothing reusable: the vendor answers it.
    NeedsReview,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One questionnaire of the route, judged against the product's assessments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reuse {
    pub questionnaire: String,
    pub standing: Standing,
    /// The accepted assessment referred to, or the one a new cycle continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// In words, for the route: `already reviewed: accepted 2026-11-30 by ana, valid until 2027-11-30`.
    pub note: String,
    /// Why a new cycle is needed, each in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl Reuse {
    /// Whether the product's acceptance settles this questionnaire now (with `confirmed` the analyst's word).
    pub fn satisfies(&self, confirmed: bool) -> bool {
        match self.standing {
            Standing::Reused => true,
            Standing::AwaitingConfirmation => confirmed,
            _ => false,
        }
    }

    /// The assessment a new cycle of this questionnaire continues, pre-filled from it.
    pub fn continues(&self) -> Option<Uuid> {
        match self.standing {
            Standing::ScopeWidened | Standing::Expired => self.assessment_id,
            _ => None,
        }
    }
}

/// The route's account of the product: each questionnaire's standing and the findings standing on the product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductReview {
    pub product_id: Uuid,
    pub product_name: String,
    pub questionnaires: Vec<Reuse>,
    pub open_findings: Vec<OpenFinding>,
}

impl ProductReview {
    /// The questionnaires satisfied by reference now, given those an analyst confirmed.
    pub fn satisfied(&self, confirmed: &BTreeSet<String>) -> BTreeSet<String> {
        self.questionnaires
            .iter()
            .filter(|r| r.satisfies(confirmed.contains(&r.questionnaire)))
            .map(|r| r.questionnaire.clone())
            .collect()
    }

    /// The assessments referred to by questionnaires satisfied by reference (or awaiting confirmation).
    pub fn referenced(&self) -> Vec<(String, Uuid, bool)> {
        self.questionnaires
            .iter()
            .filter_map(|r| match (r.standing, r.assessment_id) {
                (Standing::Reused, Some(id)) => Some((r.questionnaire.clone(), id, false)),
                (Standing::AwaitingConfirmation, Some(id)) => {
                    Some((r.questionnaire.clone(), id, true))
                }
                _ => None,
            })
            .collect()
    }

    pub fn get(&self, questionnaire: &str) -> Option<&Reuse> {
        self.questionnaires
            .iter()
            .find(|r| r.questionnaire == questionnaire)
    }
}

/// Judges each questionnaire the route needs against the product's assessments, as of `today`.
///
/// The latest accepted assessment of a questionnaire is the one that counts. It is reused when it is valid
/// (today is not after its validity), was answered against a version the current template asks nothing more of,
/// and covers `wanted`; an expired or outdated one, or one whose scope `wanted` widens, is continued by a new
/// cycle. With no accepted assessment the questionnaire needs a review.
pub fn review(
    policy: &Policy,
    product: &ProductFacts,
    questionnaires: &[String],
    wanted: &Scope,
    today: NaiveDate,
) -> ProductReview {
    let out = questionnaires
        .iter()
        .map(|q| judge(policy, product, q, wanted, today))
        .collect();
    ProductReview {
        product_id: product.id,
        product_name: product.name.clone(),
        questionnaires: out,
        open_findings: product.open_findings.clone(),
    }
}

fn judge(
    policy: &Policy,
    product: &ProductFacts,
    questionnaire: &str,
    wanted: &Scope,
    today: NaiveDate,
) -> Reuse {
    let latest = product
        .assessments
        .iter()
        .filter(|a| {
            a.template_id == questionnaire
                && a.status == super::assessments::AssessmentStatus::Accepted
                && a.accepted.is_some()
        })
        .max_by_key(|a| a.accepted.as_ref().map(|(at, _)| *at));
    let Some(held) = latest else {
        return Reuse {
            questionnaire: questionnaire.to_string(),
            standing: Standing::NeedsReview,
            assessment_id: None,
            accepted_at: None,
            accepted_by: None,
            valid_until: None,
            note: format!(
                "needs a review: {} has no accepted {questionnaire} questionnaire",
                product.name
            ),
            reasons: Vec::new(),
        };
    };
    let (accepted_at, accepted_by) = held.accepted.clone().expect("filtered on acceptance");
    let covered = held.scope.clone().unwrap_or(Scope {
        data_classes: BTreeSet::new(),
        hosting: wanted.hosting,
        users: 0,
    });
    let until = valid_until(policy, &covered.data_classes, accepted_at.date_naive());
    let accepted_on = accepted_at.date_naive();
    let mut reasons = Vec::new();
    let mut standing = Standing::Reused;
    if today > until {
        standing = Standing::Expired;
        reasons.push(format!(
            "the acceptance of {accepted_on} was valid until {until}"
        ));
    } else if !held.current_version {
        standing = Standing::Expired;
        reasons.push(
            "the questionnaire changed since it was answered: the current version asks questions the accepted one \
             did not"
                .to_string(),
        );
    }
    let widened = widening(&covered, wanted);
    if !widened.is_empty() {
        if standing == Standing::Reused {
            standing = Standing::ScopeWidened;
        }
        reasons.extend(widened);
    }
    if standing == Standing::Reused && policy.reuse.confirmation_required {
        standing = Standing::AwaitingConfirmation;
    }
    let note = match standing {
        Standing::Reused => format!(
            "already reviewed: accepted {accepted_on} by {accepted_by}, valid until {until}"
        ),
        Standing::AwaitingConfirmation => format!(
            "already reviewed: accepted {accepted_on} by {accepted_by}, valid until {until}; the policy asks a \
             security analyst to confirm the reuse"
        ),
        _ => format!(
            "needs a new cycle, pre-filled with the answers accepted {accepted_on} by {accepted_by}: {}",
            reasons.join("; ")
        ),
    };
    Reuse {
        questionnaire: questionnaire.to_string(),
        standing,
        assessment_id: Some(held.id),
        accepted_at: Some(accepted_at),
        accepted_by: Some(accepted_by),
        valid_until: Some(until),
        note,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assessments::AssessmentStatus;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn scope(classes: &[DataClass], users: i64) -> Scope {
        Scope {
            data_classes: classes.iter().copied().collect(),
            hosting: Hosting::VendorCloud,
            users,
        }
    }

    fn product(held: Vec<Held>) -> ProductFacts {
        ProductFacts {
            id: Uuid::nil(),
            vendor_id: Uuid::nil(),
            name: "MeetNow".into(),
            assessments: held,
            open_findings: Vec::new(),
        }
    }

    fn accepted(template: &str, covered: Scope, on: NaiveDate) -> Held {
        Held {
            id: Uuid::from_u128(7),
            template_id: template.into(),
            current_version: true,
            status: AssessmentStatus::Accepted,
            scope: Some(covered),
            cycle: 1,
            due_date: on,
            accepted: Some((
                Utc.from_utc_datetime(&on.and_hms_opt(15, 0, 0).unwrap()),
                "ana".into(),
            )),
        }
    }

    fn policy() -> Policy {
        Policy::default_policy()
    }

    #[test]
    fn a_valid_acceptance_covering_the_scope_satisfies_the_questionnaire_by_reference() {
        let p = product(vec![accepted(
            "city-baseline",
            scope(&[DataClass::PiMa], 300),
            d(2026, 11, 30),
        )]);
        let r = review(
            &policy(),
            &p,
            &["city-baseline".into(), "ma-201-cmr-17".into()],
            &scope(&[DataClass::PiMa, DataClass::Public], 200),
            d(2027, 3, 1),
        );
        let baseline = r.get("city-baseline").unwrap();
        assert_eq!(baseline.standing, Standing::Reused);
        assert_eq!(baseline.valid_until, Some(d(2027, 11, 30)));
        assert_eq!(
            baseline.note,
            "already reviewed: accepted 2026-11-30 by ana, valid until 2027-11-30"
        );
        assert_eq!(
            r.get("ma-201-cmr-17").unwrap().standing,
            Standing::NeedsReview
        );
        assert_eq!(
            r.satisfied(&BTreeSet::new()),
            BTreeSet::from(["city-baseline".to_string()])
        );
    }

    #[test]
    fn a_wider_scope_opens_a_new_cycle_naming_what_is_not_covered() {
        let p = product(vec![accepted(
            "city-baseline",
            scope(&[DataClass::PiMa], 300),
            d(2026, 11, 30),
        )]);
        let mut wanted = scope(&[DataClass::PiMa, DataClass::Health], 5000);
        wanted.hosting = Hosting::OnPremises;
        let r = review(
            &policy(),
            &p,
            &["city-baseline".into()],
            &wanted,
            d(2026, 12, 1),
        );
        let q = r.get("city-baseline").unwrap();
        assert_eq!(q.standing, Standing::ScopeWidened);
        assert_eq!(q.continues(), Some(Uuid::from_u128(7)));
        assert_eq!(
            q.reasons,
            [
                "data class health not covered (the accepted review covered pi_ma)",
                "hosting on_premises not covered (the accepted review covered vendor_cloud)",
                "5000 users not covered (the accepted review covered 300)"
            ]
        );
        assert!(r.satisfied(&BTreeSet::new()).is_empty());
    }

    #[test]
    fn validity_is_the_shortest_of_the_classes_covered_and_ends_reuse_after_its_last_day() {
        let mut pol = policy();
        pol.reuse.validity_months = [("pi_ma".to_string(), 12), ("confidential".to_string(), 24)]
            .into_iter()
            .collect();
        let on = d(2026, 1, 31);
        assert_eq!(
            valid_until(&pol, &[DataClass::Confidential].into(), on),
            d(2028, 1, 31)
        );
        assert_eq!(
            valid_until(&pol, &[DataClass::Confidential, DataClass::PiMa].into(), on),
            d(2027, 1, 31)
        );
        // An unlisted class stands `reassessment_months`.
        pol.reassessment_months = 6;
        assert_eq!(
            valid_until(&pol, &[DataClass::Cjis].into(), on),
            d(2026, 7, 31)
        );
        let p = product(vec![accepted(
            "city-baseline",
            scope(&[DataClass::PiMa], 300),
            on,
        )]);
        let wanted = scope(&[DataClass::PiMa], 300);
        let last_day = review(&pol, &p, &["city-baseline".into()], &wanted, d(2027, 1, 31));
        assert_eq!(last_day.questionnaires[0].standing, Standing::Reused);
        let after = review(&pol, &p, &["city-baseline".into()], &wanted, d(2027, 2, 1));
        let q = &after.questionnaires[0];
        assert_eq!(q.standing, Standing::Expired);
        assert_eq!(
            q.reasons,
            ["the acceptance of 2026-01-31 was valid until 2027-01-31"]
        );
        assert!(q.note.starts_with(
            "needs a new cycle, pre-filled with the answers accepted 2026-01-31 by ana"
        ));
    }

    #[test]
    fn a_template_that_asks_more_now_is_not_reused_and_confirmation_holds_the_reuse() {
        let mut held = accepted(
            "city-baseline",
            scope(&[DataClass::PiMa], 300),
            d(2026, 11, 30),
        );
        held.current_version = false;
        let wanted = scope(&[DataClass::PiMa], 300);
        let r = review(
            &policy(),
            &product(vec![held.clone()]),
            &["city-baseline".into()],
            &wanted,
            d(2026, 12, 1),
        );
        assert_eq!(r.questionnaires[0].standing, Standing::Expired);

        held.current_version = true;
        let mut pol = policy();
        pol.reuse.confirmation_required = true;
        let r = review(
            &pol,
            &product(vec![held]),
            &["city-baseline".into()],
            &wanted,
            d(2026, 12, 1),
        );
        assert_eq!(r.questionnaires[0].standing, Standing::AwaitingConfirmation);
        assert!(r.satisfied(&BTreeSet::new()).is_empty());
        assert_eq!(
            r.satisfied(&BTreeSet::from(["city-baseline".to_string()])),
            BTreeSet::from(["city-baseline".to_string()])
        );
        assert_eq!(
            r.referenced(),
            [("city-baseline".to_string(), Uuid::from_u128(7), true)]
        );
    }

    #[test]
    fn the_latest_acceptance_counts_and_public_data_widens_nothing() {
        let mut old = accepted(
            "city-baseline",
            scope(&[DataClass::PiMa], 300),
            d(2025, 1, 1),
        );
        old.id = Uuid::from_u128(1);
        let new = accepted(
            "city-baseline",
            scope(&[DataClass::PiMa], 300),
            d(2026, 11, 1),
        );
        let r = review(
            &policy(),
            &product(vec![old, new]),
            &["city-baseline".into()],
            &scope(&[DataClass::Public], 10),
            d(2026, 12, 1),
        );
        assert_eq!(r.questionnaires[0].standing, Standing::Reused);
        assert_eq!(r.questionnaires[0].assessment_id, Some(Uuid::from_u128(7)));
    }

    #[test]
    fn a_template_version_asks_more_when_a_question_is_new_or_reworded() {
        let source = |extra: &str| {
            format!(
                "id = \"t\"\ntitle = \"T\"\ndescription = \"d\"\napplies_to = \"a\"\n\
                 [[sections]]\nid = \"s\"\ntitle = \"S\"\n\
                 [[sections.questions]]\nid = \"Q-1\"\ntext = \"One?\"\nkind = \"yes_no\"\nexpected = \"yes\"\n\
                 weight = \"standard\"\ncitation = \"c\"\n{extra}"
            )
        };
        let parse = |text: String| {
            crate::domain::questionnaires::Template::from_toml("questionnaires/t.toml", &text)
                .unwrap()
        };
        let old = parse(source(""));
        let same = parse(source("# the same questions, another text\n"));
        let more = parse(source(
            "[[sections.questions]]\nid = \"Q-2\"\ntext = \"Two?\"\nkind = \"yes_no\"\n",
        ));
        assert!(new_or_changed(&old, &same).is_empty());
        assert_eq!(new_or_changed(&old, &more), ["Q-2"]);
        assert!(
            new_or_changed(&more, &old).is_empty(),
            "asking less is no reason to ask again"
        );
    }

    #[test]
    fn policy_faults_name_the_class() {
        let mut p = ReusePolicy::default();
        p.validity_months.insert("pii".into(), 12);
        p.validity_months.insert("health".into(), 0);
        assert_eq!(
            p.faults(),
            [
                "reuse.validity_months.health: must be 1 to 120 months",
                "reuse.validity_months: \"pii\" is not a data class"
            ]
        );
    }
}
