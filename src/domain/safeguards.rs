//! Contract safeguards: the clauses a contract must contain before a purchase is approved.
//!
//! 201 CMR 17.00 does not bind the city; it binds the city's vendors, and 17.03(2)(f)(2) says how: the city must
//! require them, by contract, to implement and maintain appropriate safeguards. The clause library
//! (`src/domain/safeguard_clauses.toml`, [`ClauseLibrary::embedded`]) is data: each [`Clause`] states a duty in the city's
//! own words, cites the rule behind it, says which purchases need it ([`AppliesTo`]) and whether it blocks
//! approval ([`Level`]). Figures that are city policy (hours to report a breach, months between SOC 2 reports) are
//! the clause's parameters, which its text quotes through `{name}` placeholders ([`render_text`]).
//!
//! A purchase's checklist is the [`applicable`] clauses for its data classes, each with a [`ClauseStatus`]: missing,
//! present (document and section, who checked it), or waived (justification, who waived it). The checklist is
//! satisfied when every required clause is present or waived ([`checklist_satisfied`]); recommended clauses never
//! block. Who may waive a clause is the workflow's decision, not this module's.
//!
//! Clause ids match the ids the default policy names, so that the route's `contract_safeguards` and `evidence`
//! steps and this library agree; a unit test reads both files and holds them together.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use crate::domain::policy::DataClass;
use crate::domain::text_forms::one_of;

/// The clause library the service ships with.
pub const EMBEDDED_CLAUSES_TOML: &str = include_str!("safeguard_clauses.toml");

/// When a clause is asked for. Declaration order is the order they are listed to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum AppliesTo {
    /// The vendor will hold personal information of Massachusetts residents (data class `pi_ma`), which makes it
    /// a service provider under 201 CMR 17.02.
    ServiceProviderMaPi,
    /// The vendor will hold personal information of Connecticut residents (`pi_ct`).
    CtPi,
    /// Criminal justice information (`cjis`).
    Cjis,
    /// Protected health information (`health`).
    Health,
    /// Payment cardholder data (`cardholder`).
    Cardholder,
    /// Every purchase, whatever its data.
    Always,
}

impl AppliesTo {
    /// The name used in the clause library, e.g. `service_provider_ma_pi`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What a data class brings in; `confidential` and `public` bring in only the `always` clauses.
    pub fn for_data_class(class: DataClass) -> Option<AppliesTo> {
        match class {
            DataClass::PiMa => Some(AppliesTo::ServiceProviderMaPi),
            DataClass::PiCt => Some(AppliesTo::CtPi),
            DataClass::Cjis => Some(AppliesTo::Cjis),
            DataClass::Health => Some(AppliesTo::Health),
            DataClass::Cardholder => Some(AppliesTo::Cardholder),
            DataClass::Confidential | DataClass::Public => None,
        }
    }
}

/// Whether a clause blocks approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Level {
    /// The checklist is not satisfied until the clause is present or waived.
    Required,
    /// Worth asking for; never blocks approval.
    Recommended,
}

impl Level {
    /// The name used in the clause library.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A figure a clause's text quotes: a number (`breach_notice_hours = 72`) or a short text (`"1.2"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParameterValue {
    /// A whole number.
    Integer(i64),
    /// A short text, quoted as written.
    Text(String),
}

impl fmt::Display for ParameterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParameterValue::Integer(value) => write!(f, "{value}"),
            ParameterValue::Text(value) => f.write_str(value),
        }
    }
}

/// One duty a contract must state, as the clause library describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clause {
    /// Stable identifier; the same string the policy names, where it names the clause.
    pub id: String,
    /// A short name for lists.
    pub title: String,
    /// What the contract must say, with `{name}` placeholders for the parameters; see [`render_text`].
    pub text: String,
    /// The rule behind the clause, e.g. `c.93H §3(a)`.
    pub citation: String,
    /// When the clause is asked for: any one of these is enough.
    pub applies_to: Vec<AppliesTo>,
    /// Whether it blocks approval.
    pub level: Level,
    /// The figures the text quotes, by name.
    pub parameters: BTreeMap<String, ParameterValue>,
}

impl Clause {
    /// Whether the clause blocks approval until it is present or waived.
    pub fn is_required(&self) -> bool {
        self.level == Level::Required
    }

    /// Whether a purchase touching `data_classes` needs this clause.
    pub fn applies(&self, data_classes: &BTreeSet<DataClass>) -> bool {
        self.applies_to.iter().any(|applies| {
            *applies == AppliesTo::Always
                || data_classes
                    .iter()
                    .any(|class| AppliesTo::for_data_class(*class) == Some(*applies))
        })
    }
}

/// The clause library, checked whole when it is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClauseLibrary {
    clauses: Vec<Clause>,
}

impl ClauseLibrary {
    /// Reads and checks a clause library. On failure the message lists every fault, one a line, each naming
    /// the file and the clause: unreadable TOML, an empty or repeated id, an empty title, text or citation, an
    /// `applies_to` value or `level` that is not one of the known names, or a placeholder the clause's
    /// parameters do not define.
    pub fn from_toml(file_name: &str, text: &str) -> Result<ClauseLibrary, String> {
        let raw: RawLibrary = toml::from_str(text)
            .map_err(|error| format!("{file_name}: {}", error.to_string().trim_end()))?;
        let mut faults = Vec::new();
        let mut seen = BTreeSet::new();
        let mut clauses = Vec::with_capacity(raw.clauses.len());
        if raw.clauses.is_empty() {
            faults.push(format!("{file_name}: the library has no clauses"));
        }
        for (index, raw_clause) in raw.clauses.into_iter().enumerate() {
            let name = if raw_clause.id.trim().is_empty() {
                format!("#{}", index + 1)
            } else {
                raw_clause.id.clone()
            };
            let mut fault =
                |message: String| faults.push(format!("{file_name}: clause {name}: {message}"));
            if let Some(message) = id_fault(&raw_clause.id) {
                fault(message);
            } else if !seen.insert(raw_clause.id.clone()) {
                fault("id is used by more than one clause".to_owned());
            }
            for (field, value) in [
                ("title", &raw_clause.title),
                ("text", &raw_clause.text),
                ("citation", &raw_clause.citation),
            ] {
                if value.trim().is_empty() {
                    fault(format!("{field} is empty"));
                }
            }
            let mut applies_to = Vec::new();
            if raw_clause.applies_to.is_empty() {
                fault(format!(
                    "applies_to is empty; use one or more of {}",
                    one_of::<AppliesTo>()
                ));
            }
            for value in &raw_clause.applies_to {
                match AppliesTo::try_from(value.as_str()) {
                    Ok(applies) if applies_to.contains(&applies) => {
                        fault(format!("applies_to lists {value:?} twice"));
                    }
                    Ok(applies) => applies_to.push(applies),
                    Err(_) => fault(format!(
                        "applies_to {value:?} is not one of {}",
                        one_of::<AppliesTo>()
                    )),
                }
            }
            let level = Level::try_from(raw_clause.level.as_str()).ok();
            if level.is_none() {
                fault(format!(
                    "level {:?} is not one of {}",
                    raw_clause.level,
                    one_of::<Level>()
                ));
            }
            for parameter in raw_clause.parameters.keys() {
                if !is_placeholder_name(parameter) {
                    fault(format!(
                        "parameter name {parameter:?} must be lower-case letters, digits and _"
                    ));
                }
            }
            match segments(&raw_clause.text) {
                Ok(parts) => {
                    for part in parts {
                        if let Segment::Placeholder(placeholder) = part
                            && !raw_clause.parameters.contains_key(placeholder)
                        {
                            fault(format!(
                                "text uses {{{placeholder}}} but parameters do not define it"
                            ));
                        }
                    }
                }
                Err(message) => fault(format!("text {message}")),
            }
            clauses.push(Clause {
                id: raw_clause.id,
                title: raw_clause.title,
                text: raw_clause.text,
                citation: raw_clause.citation,
                applies_to,
                level: level.unwrap_or(Level::Required),
                parameters: raw_clause.parameters,
            });
        }
        if faults.is_empty() {
            Ok(ClauseLibrary { clauses })
        } else {
            Err(faults.join("\n"))
        }
    }

    /// The library the service ships with ([`EMBEDDED_CLAUSES_TOML`]).
    pub fn embedded() -> ClauseLibrary {
        // A unit test reads and checks the embedded text, so this cannot fail in a built binary.
        ClauseLibrary::from_toml("src/domain/safeguard_clauses.toml", EMBEDDED_CLAUSES_TOML)
            .expect("the embedded clause library is valid")
    }

    /// Every clause, in library order.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// The clause with this id.
    pub fn get(&self, id: &str) -> Option<&Clause> {
        self.clauses.iter().find(|clause| clause.id == id)
    }
}

/// The clause's text with every `{name}` replaced by its parameter. A placeholder the clause does not define is
/// left as written (a library read through [`ClauseLibrary::from_toml`] has none).
pub fn render_text(clause: &Clause) -> String {
    let Ok(parts) = segments(&clause.text) else {
        return clause.text.clone();
    };
    let mut rendered = String::with_capacity(clause.text.len());
    for part in parts {
        match part {
            Segment::Literal(text) => rendered.push_str(text),
            Segment::Placeholder(name) => match clause.parameters.get(name) {
                Some(value) => rendered.push_str(&value.to_string()),
                None => {
                    rendered.push('{');
                    rendered.push_str(name);
                    rendered.push('}');
                }
            },
        }
    }
    rendered
}

/// The clauses a purchase touching `data_classes` needs, in library order: `pi_ma` brings in the
/// `service_provider_ma_pi` clauses, `pi_ct`, `cjis`, `health` and `cardholder` their own, and `always` clauses
/// come in whatever the data. Whether the purchase needs a safeguards checklist at all is the route's decision.
pub fn applicable<'a>(
    library: &'a ClauseLibrary,
    data_classes: &BTreeSet<DataClass>,
) -> Vec<&'a Clause> {
    library
        .clauses
        .iter()
        .filter(|clause| clause.applies(data_classes))
        .collect()
}

/// Where a clause stands, without its particulars: as stored and as the checklist shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum SafeguardState {
    Missing,
    Present,
    Waived,
}

impl SafeguardState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a clause stands on one purchase's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ClauseStatus {
    /// Nobody has found it in the contract yet.
    Missing,
    /// The contract says it, here; `attested_by` checked it.
    Present {
        /// The contract document, e.g. `Master Services Agreement v3`.
        document: String,
        /// Where in the document, e.g. `§ 12.4`.
        section: String,
        /// Who checked it.
        attested_by: String,
        /// When they recorded it.
        attested_at: DateTime<Utc>,
    },
    /// The city goes ahead without it, for the reason given, on the authority of `waived_by`.
    Waived {
        /// Why the clause is not needed or not obtainable.
        justification: String,
        /// Who waived it; the workflow checks that their role may.
        waived_by: String,
        /// When they waived it.
        waived_at: DateTime<Utc>,
    },
}

impl ClauseStatus {
    /// Whether the clause is dealt with: present with a document, section and attester, or waived with a
    /// justification and a name. A record with a blank field does not count.
    pub fn is_settled(&self) -> bool {
        let filled = |value: &str| !value.trim().is_empty();
        match self {
            ClauseStatus::Missing => false,
            ClauseStatus::Present {
                document,
                section,
                attested_by,
                ..
            } => filled(document) && filled(section) && filled(attested_by),
            ClauseStatus::Waived {
                justification,
                waived_by,
                ..
            } => filled(justification) && filled(waived_by),
        }
    }
}

/// Whether every required clause of `applicable` is present or waived; recommended clauses never block, and a
/// clause with no status is missing.
pub fn checklist_satisfied(
    applicable: &[&Clause],
    statuses: &BTreeMap<String, ClauseStatus>,
) -> bool {
    missing_required(applicable, statuses).is_empty()
}

/// The ids of the required clauses of `applicable` that are neither present nor waived, in checklist order.
pub fn missing_required(
    applicable: &[&Clause],
    statuses: &BTreeMap<String, ClauseStatus>,
) -> Vec<String> {
    applicable
        .iter()
        .filter(|clause| clause.is_required())
        .filter(|clause| {
            !statuses
                .get(&clause.id)
                .is_some_and(ClauseStatus::is_settled)
        })
        .map(|clause| clause.id.clone())
        .collect()
}

/// Contracts entered on or before this day were deemed compliant without safeguard clauses
/// [201 CMR 17.03(2)(f)(2)]...
pub const GRANDFATHERED_IF_ENTERED_BY: NaiveDate = ymd(2010, 3, 1);

/// ...but only until this day; since then every service-provider contract must carry them.
pub const GRANDFATHERING_ENDED: NaiveDate = ymd(2012, 3, 1);

const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("not a calendar date"),
    }
}

/// Whether an existing contract should be flagged for lacking safeguard clauses [201 CMR 17.03(2)(f)(2)].
///
/// A contract entered on or before 2010-03-01 was deemed compliant without the clauses, but only until
/// 2012-03-01; a contract entered between those days never had that grace. Either way, a contract that started
/// before 2012-03-01 was drafted when the clauses could be left out, so if no safeguard clause is recorded for
/// it, it is flagged for amendment. A contract that started on or after 2012-03-01 is not flagged here: the
/// ordinary checklist covers it.
pub fn pre_2012_flag(contract_start: NaiveDate, has_any_safeguard_clause_recorded: bool) -> bool {
    contract_start < GRANDFATHERING_ENDED && !has_any_safeguard_clause_recorded
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLibrary {
    #[serde(default)]
    clauses: Vec<RawClause>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    id: String,
    title: String,
    text: String,
    citation: String,
    applies_to: Vec<String>,
    level: String,
    #[serde(default)]
    parameters: BTreeMap<String, ParameterValue>,
}

fn id_fault(id: &str) -> Option<String> {
    if id.trim().is_empty() {
        Some("id is empty".to_owned())
    } else if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        Some(format!(
            "id {id:?} must be lower-case letters, digits, - and _"
        ))
    } else {
        None
    }
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

enum Segment<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

/// Splits a clause text into literal runs and `{name}` placeholders; a brace is never literal.
fn segments(text: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has a } with no { before it".to_owned());
        }
        if open > 0 {
            parts.push(Segment::Literal(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "has a { that is never closed".to_owned())?;
        let name = &after[..close];
        if !is_placeholder_name(name) {
            return Err(format!(
                "has placeholder {{{name}}}; a name is lower-case letters, digits and _"
            ));
        }
        parts.push(Segment::Placeholder(name));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Segment::Literal(rest));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default policy, read as plain TOML so that this test needs nothing of the policy module but its file.
    const DEFAULT_POLICY_TOML: &str = include_str!("default_policy.toml");

    fn classes(list: &[DataClass]) -> BTreeSet<DataClass> {
        list.iter().copied().collect()
    }

    fn ids(clauses: &[&Clause]) -> Vec<String> {
        clauses.iter().map(|clause| clause.id.clone()).collect()
    }

    fn required_ids(library: &ClauseLibrary, class: DataClass) -> BTreeSet<String> {
        applicable(library, &classes(&[class]))
            .into_iter()
            .filter(|clause| clause.is_required())
            .map(|clause| clause.id.clone())
            .collect()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn present() -> ClauseStatus {
        ClauseStatus::Present {
            document: "Master Services Agreement".to_owned(),
            section: "§ 12".to_owned(),
            attested_by: "analyst@boston.gov".to_owned(),
            attested_at: at("2026-03-02T15:00:00Z"),
        }
    }

    fn waived() -> ClauseStatus {
        ClauseStatus::Waived {
            justification: "the vendor holds no data at rest; the city's own storage is used"
                .to_owned(),
            waived_by: "cio@boston.gov".to_owned(),
            waived_at: at("2026-03-03T09:30:00Z"),
        }
    }

    const ONE_CLAUSE: &str = r#"
        [[clauses]]
        id = "breach-notice"
        title = "Breach notice"
        text = "Tell the city within {breach_notice_hours} hours."
        citation = "c.93H §3(a)"
        applies_to = ["service_provider_ma_pi"]
        level = "required"
        parameters = { breach_notice_hours = 72 }
    "#;

    #[test]
    fn the_embedded_library_reads_and_every_clause_renders_without_braces() {
        let library =
            ClauseLibrary::from_toml("src/domain/safeguard_clauses.toml", EMBEDDED_CLAUSES_TOML)
                .unwrap_or_else(|message| panic!("{message}"));
        assert!(library.clauses().len() >= 14);
        for clause in library.clauses() {
            let text = render_text(clause);
            assert!(!text.contains(['{', '}']), "{}: {text}", clause.id);
        }
        assert_eq!(ClauseLibrary::embedded(), library);
    }

    #[test]
    fn every_clause_and_evidence_item_the_default_policy_names_is_in_the_library_for_the_same_data()
    {
        let library = ClauseLibrary::embedded();
        let policy: toml::Table = toml::from_str(DEFAULT_POLICY_TOML).unwrap();
        let mut named_by_class: BTreeMap<DataClass, BTreeSet<String>> = BTreeMap::new();
        let mut named = 0;
        for rule in policy["rules"].as_array().unwrap() {
            let then = rule["then"].as_table().unwrap();
            let listed: Vec<String> = ["clauses", "items"]
                .iter()
                .filter_map(|key| then.get(*key))
                .flat_map(|list| list.as_array().unwrap().iter())
                .map(|id| id.as_str().unwrap().to_owned())
                .collect();
            if listed.is_empty() {
                continue;
            }
            let when_classes: Vec<DataClass> = rule["when"]["data_class_any"]
                .as_array()
                .expect("safeguard and evidence rules select by data class")
                .iter()
                .map(|name| DataClass::try_from(name.as_str().unwrap()).unwrap())
                .collect();
            for class in when_classes {
                named_by_class
                    .entry(class)
                    .or_default()
                    .extend(listed.iter().cloned());
            }
            named += listed.len();
        }
        assert_eq!(named, 10, "the policy names 7 clauses and 3 evidence items");
        for (class, policy_ids) in &named_by_class {
            for id in policy_ids {
                assert!(
                    library.get(id).is_some(),
                    "policy id {id} is not in the library"
                );
            }
            assert_eq!(
                &required_ids(&library, *class),
                policy_ids,
                "required clauses for {}",
                class.as_str()
            );
        }
    }

    #[test]
    fn massachusetts_personal_information_brings_in_the_service_provider_clauses_and_the_recommended_ones()
     {
        let library = ClauseLibrary::embedded();
        assert_eq!(
            ids(&applicable(&library, &classes(&[DataClass::PiMa]))),
            [
                "ma-201-cmr-17-safeguards",
                "breach-notice",
                "audit-evidence",
                "subprocessor-flow-down",
                "encryption",
                "return-destroy-data",
                "data-location-us",
                "subprocessor-change-notice",
                "exit-data-export",
                "secure-access",
            ]
        );
    }

    #[test]
    fn each_other_data_class_brings_in_only_its_own_required_clause() {
        let library = ClauseLibrary::embedded();
        let cases = [
            (DataClass::PiCt, vec!["ct-breach-notice"]),
            (DataClass::Cjis, vec!["cjis_security_addendum"]),
            (DataClass::Health, vec!["hipaa_baa"]),
            (DataClass::Cardholder, vec!["pci_dss_aoc"]),
            (DataClass::Confidential, vec![]),
            (DataClass::Public, vec![]),
        ];
        for (class, expected) in cases {
            let expected: BTreeSet<String> = expected.into_iter().map(str::to_owned).collect();
            assert_eq!(
                required_ids(&library, class),
                expected,
                "{}",
                class.as_str()
            );
        }
    }

    #[test]
    fn always_clauses_apply_even_to_public_data_and_are_all_recommended() {
        let library = ClauseLibrary::embedded();
        let public = applicable(&library, &classes(&[DataClass::Public]));
        assert_eq!(
            ids(&public),
            [
                "data-location-us",
                "subprocessor-change-notice",
                "exit-data-export",
                "secure-access"
            ]
        );
        assert!(public.iter().all(|clause| !clause.is_required()));
        assert_eq!(ids(&applicable(&library, &BTreeSet::new())), ids(&public));
    }

    #[test]
    fn several_data_classes_bring_in_the_union_once_each_in_library_order() {
        let library = ClauseLibrary::embedded();
        let both = applicable(
            &library,
            &classes(&[DataClass::Cardholder, DataClass::PiCt, DataClass::PiMa]),
        );
        let both_ids = ids(&both);
        let unique: BTreeSet<&String> = both_ids.iter().collect();
        assert_eq!(unique.len(), both_ids.len());
        assert_eq!(both.iter().filter(|clause| clause.is_required()).count(), 8);
        let positions: Vec<usize> = both_ids
            .iter()
            .map(|id| {
                library
                    .clauses()
                    .iter()
                    .position(|clause| &clause.id == id)
                    .unwrap()
            })
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn rendering_fills_in_the_parameters() {
        let library = ClauseLibrary::embedded();
        let breach = render_text(library.get("breach-notice").unwrap());
        assert!(
            breach.contains("within 72 hours of discovering it"),
            "{breach}"
        );
        assert!(breach.contains("at least 18 months"), "{breach}");
        let ct = render_text(library.get("ct-breach-notice").unwrap());
        assert!(ct.contains("no later than 60 days after discovery"), "{ct}");
        assert!(ct.contains("24 months of identity-theft"), "{ct}");
        let encryption = render_text(library.get("encryption").unwrap());
        assert!(encryption.contains("TLS 1.2 or later"), "{encryption}");
        let soc2 = render_text(library.get("audit-evidence").unwrap());
        assert!(soc2.contains("every 12 months"), "{soc2}");
    }

    #[test]
    fn a_changed_parameter_changes_the_rendered_text() {
        let text = ONE_CLAUSE.replace("breach_notice_hours = 72", "breach_notice_hours = 24");
        let library = ClauseLibrary::from_toml("x.toml", &text).unwrap();
        assert_eq!(
            render_text(&library.clauses()[0]),
            "Tell the city within 24 hours."
        );
    }

    #[test]
    fn the_library_refuses_each_authoring_mistake_naming_the_file_and_clause() {
        let cases = [
            (
                ONE_CLAUSE.replace("parameters = { breach_notice_hours = 72 }", ""),
                "x.toml: clause breach-notice: text uses {breach_notice_hours} but parameters do not define it",
            ),
            (
                ONE_CLAUSE.replace("breach_notice_hours = 72", "breach_notice_hour = 72"),
                "text uses {breach_notice_hours} but parameters do not define it",
            ),
            (
                ONE_CLAUSE.replace(
                    "within {breach_notice_hours}",
                    "within {breach_notice_hours",
                ),
                "text has a { that is never closed",
            ),
            (
                ONE_CLAUSE.replace("hours.", "hours}."),
                "text has a } with no { before it",
            ),
            (
                ONE_CLAUSE.replace("{breach_notice_hours}", "{Hours}"),
                "text has placeholder {Hours}",
            ),
            (
                ONE_CLAUSE.replace("citation = \"c.93H §3(a)\"", "citation = \" \""),
                "clause breach-notice: citation is empty",
            ),
            (
                ONE_CLAUSE.replace("title = \"Breach notice\"", "title = \"\""),
                "title is empty",
            ),
            (
                ONE_CLAUSE.replace("id = \"breach-notice\"", "id = \"\""),
                "x.toml: clause #1: id is empty",
            ),
            (
                ONE_CLAUSE.replace("id = \"breach-notice\"", "id = \"Breach Notice\""),
                "must be lower-case letters, digits, - and _",
            ),
            (
                ONE_CLAUSE.replace("\"service_provider_ma_pi\"", "\"pi_ma\""),
                "applies_to \"pi_ma\" is not one of service_provider_ma_pi, ct_pi, cjis, health, cardholder, always",
            ),
            (
                ONE_CLAUSE.replace("[\"service_provider_ma_pi\"]", "[]"),
                "applies_to is empty",
            ),
            (
                ONE_CLAUSE.replace("[\"service_provider_ma_pi\"]", "[\"cjis\", \"cjis\"]"),
                "applies_to lists \"cjis\" twice",
            ),
            (
                ONE_CLAUSE.replace("level = \"required\"", "level = \"mandatory\""),
                "level \"mandatory\" is not one of required, recommended",
            ),
            (
                format!("{ONE_CLAUSE}\n{ONE_CLAUSE}"),
                "clause breach-notice: id is used by more than one clause",
            ),
            (
                ONE_CLAUSE.replace("level = \"required\"", "level = \"required\"\nseverity = 1"),
                "severity",
            ),
            (String::new(), "x.toml: the library has no clauses"),
        ];
        for (text, expected) in cases {
            match ClauseLibrary::from_toml("x.toml", &text) {
                Ok(_) => panic!("accepted a library that should fail with {expected:?}"),
                Err(message) => {
                    assert!(message.contains(expected), "{expected:?} not in {message}")
                }
            }
        }
        assert!(ClauseLibrary::from_toml("x.toml", ONE_CLAUSE).is_ok());
    }

    #[test]
    fn every_fault_in_a_library_is_reported_at_once() {
        let text = ONE_CLAUSE
            .replace("title = \"Breach notice\"", "title = \"\"")
            .replace("level = \"required\"", "level = \"maybe\"");
        let message = ClauseLibrary::from_toml("x.toml", &text).unwrap_err();
        assert_eq!(message.lines().count(), 2, "{message}");
    }

    #[test]
    fn the_checklist_blocks_until_every_required_clause_is_present_or_waived() {
        let library = ClauseLibrary::embedded();
        let mut statuses = BTreeMap::new();
        let clauses = applicable(&library, &classes(&[DataClass::PiMa]));
        let required: Vec<String> = clauses
            .iter()
            .filter(|clause| clause.is_required())
            .map(|clause| clause.id.clone())
            .collect();
        assert_eq!(required.len(), 6);
        assert!(!checklist_satisfied(&clauses, &statuses));
        assert_eq!(missing_required(&clauses, &statuses), required);
        for (done, id) in required.iter().enumerate() {
            assert!(!checklist_satisfied(&clauses, &statuses), "after {done}");
            let status = if done % 2 == 0 { present() } else { waived() };
            statuses.insert(id.clone(), status);
            assert_eq!(missing_required(&clauses, &statuses), required[done + 1..]);
        }
        assert!(checklist_satisfied(&clauses, &statuses));
    }

    #[test]
    fn recommended_clauses_never_block_the_checklist() {
        let library = ClauseLibrary::embedded();
        let clauses = applicable(&library, &classes(&[DataClass::Public]));
        assert!(!clauses.is_empty());
        assert!(checklist_satisfied(&clauses, &BTreeMap::new()));
        let all_missing: BTreeMap<String, ClauseStatus> = clauses
            .iter()
            .map(|clause| (clause.id.clone(), ClauseStatus::Missing))
            .collect();
        assert!(checklist_satisfied(&clauses, &all_missing));
    }

    #[test]
    fn a_status_recorded_as_missing_or_with_a_blank_field_does_not_count() {
        let library = ClauseLibrary::embedded();
        let clauses = applicable(&library, &classes(&[DataClass::PiCt]));
        let blank_section = ClauseStatus::Present {
            document: "MSA".to_owned(),
            section: " ".to_owned(),
            attested_by: "analyst@boston.gov".to_owned(),
            attested_at: at("2026-03-02T15:00:00Z"),
        };
        let blank_justification = ClauseStatus::Waived {
            justification: String::new(),
            waived_by: "cio@boston.gov".to_owned(),
            waived_at: at("2026-03-02T15:00:00Z"),
        };
        for status in [ClauseStatus::Missing, blank_section, blank_justification] {
            let statuses = BTreeMap::from([("ct-breach-notice".to_owned(), status.clone())]);
            assert_eq!(
                missing_required(&clauses, &statuses),
                ["ct-breach-notice"],
                "{status:?}"
            );
        }
        let statuses = BTreeMap::from([("ct-breach-notice".to_owned(), present())]);
        assert!(checklist_satisfied(&clauses, &statuses));
    }

    #[test]
    fn a_status_for_a_clause_that_does_not_apply_satisfies_nothing() {
        let library = ClauseLibrary::embedded();
        let clauses = applicable(&library, &classes(&[DataClass::Health]));
        let statuses = BTreeMap::from([("breach-notice".to_owned(), present())]);
        assert_eq!(missing_required(&clauses, &statuses), ["hipaa_baa"]);
    }

    #[test]
    fn a_clause_status_reads_back_from_json_with_its_status_tag() {
        for status in [ClauseStatus::Missing, present(), waived()] {
            let json = serde_json::to_value(&status).unwrap();
            assert!(json["status"].is_string());
            assert_eq!(
                serde_json::from_value::<ClauseStatus>(json).unwrap(),
                status
            );
        }
        assert_eq!(
            serde_json::to_string(&ClauseStatus::Missing).unwrap(),
            r#"{"status":"missing"}"#
        );
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_contract_started_before_2012_03_01_with_no_safeguard_clause_is_flagged() {
        for start in ["2008-06-30", "2010-03-01", "2010-03-02", "2012-02-29"] {
            assert!(pre_2012_flag(date(start), false), "{start}");
            assert!(!pre_2012_flag(date(start), true), "{start} with a clause");
        }
    }

    #[test]
    fn a_contract_started_on_or_after_2012_03_01_is_left_to_the_ordinary_checklist() {
        for start in ["2012-03-01", "2012-03-02", "2026-07-01"] {
            assert!(!pre_2012_flag(date(start), false), "{start}");
        }
    }
}
