//! A rule's outcome: the kinds of step a route can contain (StepKindTag, StepKind) and Outcome with its text form.

use serde::{Deserialize, Serialize};

use crate::domain::council::CouncilDocumentKind;
use strum::{EnumString, IntoStaticStr, VariantArray};

/// The kinds of step a route can contain. Declaration order is the order steps appear in a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum StepKindTag {
    /// See [`StepKind::CioDuplicateReview`].
    CioDuplicateReview,
    /// See [`StepKind::CioApproval`].
    CioApproval,
    /// See [`StepKind::FinanceApproval`].
    FinanceApproval,
    /// See [`StepKind::SecurityReview`].
    SecurityReview,
    /// See [`StepKind::ContractSafeguards`].
    ContractSafeguards,
    /// See [`StepKind::Evidence`].
    Evidence,
    /// See [`StepKind::CouncilApproval`].
    CouncilApproval,
}

impl StepKindTag {
    /// The wire name, e.g. `security_review`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The step in words.
    pub fn label(self) -> &'static str {
        match self {
            StepKindTag::CioDuplicateReview => "CIO review of a possible duplicate",
            StepKindTag::CioApproval => "CIO approval",
            StepKindTag::FinanceApproval => "Finance co-approval",
            StepKindTag::SecurityReview => "Security review",
            StepKindTag::ContractSafeguards => "Contract safeguards",
            StepKindTag::Evidence => "Vendor evidence",
            StepKindTag::CouncilApproval => "City Council approval",
        }
    }
}

/// A step a rule requires, with what it asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepKind {
    /// The CIO decides whether the purchase duplicates a centrally managed service [EO 2025 Art. 3].
    CioDuplicateReview,
    /// The CIO approves the purchase [EO 2025 Art. 3].
    CioApproval,
    /// Finance co-approves the spending [EO 2025 Art. 2].
    FinanceApproval,
    /// The security team reviews the vendor's answers to questionnaires.
    SecurityReview {
        /// Questionnaire template ids, e.g. `ma-201-cmr-17`, `city-baseline`.
        #[serde(default)]
        questionnaires: Vec<String>,
    },
    /// The contract must contain clauses before approval.
    ContractSafeguards {
        /// Clause ids, e.g. `breach-notice`, `return-destroy-data`.
        #[serde(default)]
        clauses: Vec<String>,
    },
    /// The vendor supplies documents.
    Evidence {
        /// Document ids, e.g. `hipaa_baa`, `pci_dss_aoc`.
        #[serde(default)]
        items: Vec<String>,
    },
    /// The City Council approves [Boston 16-63].
    CouncilApproval {
        /// What the department submits to the Council, e.g. `surveillance_use_policy`.
        #[serde(default)]
        attachments: Vec<String>,
    },
}

impl StepKind {
    /// The kind without its lists.
    pub fn tag(&self) -> StepKindTag {
        match self {
            StepKind::CioDuplicateReview => StepKindTag::CioDuplicateReview,
            StepKind::CioApproval => StepKindTag::CioApproval,
            StepKind::FinanceApproval => StepKindTag::FinanceApproval,
            StepKind::SecurityReview { .. } => StepKindTag::SecurityReview,
            StepKind::ContractSafeguards { .. } => StepKindTag::ContractSafeguards,
            StepKind::Evidence { .. } => StepKindTag::Evidence,
            StepKind::CouncilApproval { .. } => StepKindTag::CouncilApproval,
        }
    }
}

/// What a rule does when its condition holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OutcomeText", into = "OutcomeText")]
pub enum Outcome {
    /// The request must pass this step.
    Require(StepKind),
    /// The request must be refused; `code` names what is prohibited, e.g. `face_surveillance`.
    Prohibit {
        /// What is prohibited, e.g. `face_surveillance`.
        code: String,
    },
}

/// The hand-written form of an [`Outcome`]: `{ step = "..", <list> = [..] }` or `{ prohibit = ".." }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<StepKindTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    questionnaires: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clauses: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attachments: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prohibit: Option<String>,
}

impl TryFrom<OutcomeText> for Outcome {
    type Error = String;

    fn try_from(text: OutcomeText) -> Result<Outcome, String> {
        let OutcomeText {
            step,
            mut questionnaires,
            mut clauses,
            mut items,
            mut attachments,
            prohibit,
        } = text;
        let step = match (step, prohibit) {
            (Some(_), Some(_)) => {
                return Err("an outcome is either a `step` or a `prohibit`, not both".to_owned());
            }
            (None, None) => {
                return Err("an outcome needs `step = \"..\"` or `prohibit = \"..\"`".to_owned());
            }
            (None, Some(code)) => {
                return if questionnaires.is_some()
                    || clauses.is_some()
                    || items.is_some()
                    || attachments.is_some()
                {
                    Err("`prohibit` takes no lists".to_owned())
                } else {
                    Ok(Outcome::Prohibit { code })
                };
            }
            (Some(step), None) => step,
        };
        let kind = match step {
            StepKindTag::CioDuplicateReview => StepKind::CioDuplicateReview,
            StepKindTag::CioApproval => StepKind::CioApproval,
            StepKindTag::FinanceApproval => StepKind::FinanceApproval,
            StepKindTag::SecurityReview => StepKind::SecurityReview {
                questionnaires: questionnaires.take().unwrap_or_default(),
            },
            StepKindTag::ContractSafeguards => StepKind::ContractSafeguards {
                clauses: clauses.take().unwrap_or_default(),
            },
            StepKindTag::Evidence => StepKind::Evidence {
                items: items.take().unwrap_or_default(),
            },
            StepKindTag::CouncilApproval => {
                let attachments = attachments.take().unwrap_or_default();
                // The Council's documents are stored by kind, so a policy names only kinds the service keeps.
                if let Some(unknown) = attachments
                    .iter()
                    .find(|a| a.parse::<CouncilDocumentKind>().is_err())
                {
                    let known: Vec<&str> = CouncilDocumentKind::VARIANTS
                        .iter()
                        .map(|k| k.as_str())
                        .collect();
                    return Err(format!(
                        "attachment {unknown:?} is not a Council document: one of {}",
                        known.join(", ")
                    ));
                }
                StepKind::CouncilApproval { attachments }
            }
        };
        // Whatever list the step did not take is a list written for some other step.
        let leftover = [
            ("questionnaires", questionnaires.is_some()),
            ("clauses", clauses.is_some()),
            ("items", items.is_some()),
            ("attachments", attachments.is_some()),
        ]
        .into_iter()
        .find_map(|(name, present)| present.then_some(name));
        match leftover {
            Some(name) => Err(format!("`{name}` does not apply to step {}", step.as_str())),
            None => Ok(Outcome::Require(kind)),
        }
    }
}

impl From<Outcome> for OutcomeText {
    fn from(outcome: Outcome) -> OutcomeText {
        match outcome {
            Outcome::Prohibit { code } => OutcomeText {
                prohibit: Some(code),
                ..OutcomeText::default()
            },
            Outcome::Require(kind) => {
                let mut text = OutcomeText {
                    step: Some(kind.tag()),
                    ..OutcomeText::default()
                };
                match kind {
                    StepKind::SecurityReview { questionnaires } => {
                        text.questionnaires = Some(questionnaires)
                    }
                    StepKind::ContractSafeguards { clauses } => text.clauses = Some(clauses),
                    StepKind::Evidence { items } => text.items = Some(items),
                    StepKind::CouncilApproval { attachments } => {
                        text.attachments = Some(attachments)
                    }
                    StepKind::CioDuplicateReview
                    | StepKind::CioApproval
                    | StepKind::FinanceApproval => {}
                }
                text
            }
        }
    }
}
