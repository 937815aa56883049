//! The city's catalogue of centrally managed services, which purchases are checked against for duplicates.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use uuid::Uuid;

use crate::domain::invalid::{FieldError, Invalid};
use crate::domain::text_forms::one_of;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case", ascii_case_insensitive)]
pub enum ServiceStatus {
    Active,
    Retiring,
    Retired,
}

impl ServiceStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A centrally managed service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object, sqlx::FromRow)]
pub struct CatalogService {
    pub id: Uuid,
    pub name: String,
    pub category: String,
    pub description: String,
    /// What it does, in short phrases (`electronic signatures`).
    #[sqlx(json)]
    pub capabilities: Vec<String>,
    /// Product and vendor names, abbreviations and synonyms people use for it (`DocuSign`).
    #[sqlx(json)]
    pub aliases: Vec<String>,
    pub owning_team: String,
    /// Retired services are not matched.
    pub status: ServiceStatus,
    /// How a department gets access: a contact or a link.
    pub access: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A catalogue entry as sent (create, edit, or one spreadsheet row). On edit, fields left out keep their value.
#[derive(Debug, Clone, Default, Object, Deserialize)]
pub struct CatalogServiceInput {
    pub name: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub capabilities: Option<Vec<String>>,
    pub aliases: Option<Vec<String>>,
    pub owning_team: Option<String>,
    /// `active` (default), `retiring` or `retired`.
    pub status: Option<String>,
    pub access: Option<String>,
}

/// A checked catalogue entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceFields {
    pub name: String,
    pub category: String,
    pub description: String,
    pub capabilities: Vec<String>,
    pub aliases: Vec<String>,
    pub owning_team: String,
    pub status: ServiceStatus,
    pub access: String,
}

fn phrases(errors: &mut Vec<FieldError>, field: &str, list: Vec<String>) -> Vec<String> {
    if list.len() > 100 {
        errors.push(FieldError::new(field, "at most 100 entries"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in list.into_iter().enumerate() {
        let item = item.trim().to_string();
        if item.is_empty() || item.chars().count() > 120 {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "must be 1 to 120 characters",
            ));
        } else if !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
            out.push(item);
        }
    }
    out
}

impl ServiceFields {
    /// Parses an entry; `prefix` names where it came from in field names (`""` for JSON, or a sheet cell's
    /// row), and `current` supplies what an edit leaves out.
    pub fn parse(
        input: CatalogServiceInput,
        current: Option<&CatalogService>,
        name_field: &dyn Fn(&str) -> String,
    ) -> Result<ServiceFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut text = |field: &str,
                        value: Option<String>,
                        fallback: Option<&String>,
                        max: usize,
                        required: bool| {
            let v = value
                .or(fallback.cloned())
                .unwrap_or_default()
                .trim()
                .to_string();
            if required && v.is_empty() {
                errors.push(FieldError::new(name_field(field), "is required"));
            } else if v.chars().count() > max {
                errors.push(FieldError::new(
                    name_field(field),
                    format!("must be at most {max} characters"),
                ));
            }
            v
        };
        let name = text("name", input.name, current.map(|c| &c.name), 200, true);
        let category = text(
            "category",
            input.category,
            current.map(|c| &c.category),
            100,
            false,
        );
        let description = text(
            "description",
            input.description,
            current.map(|c| &c.description),
            5000,
            false,
        );
        let owning_team = text(
            "owning_team",
            input.owning_team,
            current.map(|c| &c.owning_team),
            200,
            false,
        );
        let access = text(
            "access",
            input.access,
            current.map(|c| &c.access),
            500,
            false,
        );
        let status = match input.status {
            Some(s) => ServiceStatus::try_from(s.trim()).unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    name_field("status"),
                    format!("{s:?} is not one of {}", one_of::<ServiceStatus>()),
                ));
                ServiceStatus::Active
            }),
            None => current.map_or(ServiceStatus::Active, |c| c.status),
        };
        let capabilities = phrases(
            &mut errors,
            &name_field("capabilities"),
            input
                .capabilities
                .or(current.map(|c| c.capabilities.clone()))
                .unwrap_or_default(),
        );
        let aliases = phrases(
            &mut errors,
            &name_field("aliases"),
            input
                .aliases
                .or(current.map(|c| c.aliases.clone()))
                .unwrap_or_default(),
        );
        // A service the duplicate check can point a buyer to must say who runs it and how to get it: a denial
        // hands both to the buyer as `use_instead`.
        if status != ServiceStatus::Retired {
            for (field, value) in [("owning_team", &owning_team), ("access", &access)] {
                if value.is_empty() {
                    errors.push(FieldError::new(
                        name_field(field),
                        "is required for an active or retiring service",
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ServiceFields {
            name,
            category,
            description,
            capabilities,
            aliases,
            owning_team,
            status,
            access,
        })
    }

    pub fn parse_json(
        input: CatalogServiceInput,
        current: Option<&CatalogService>,
    ) -> Result<ServiceFields, Invalid> {
        Self::parse(input, current, &|f| f.to_string()).map_err(Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_trimmed_deduplicated_and_defaults_to_active() {
        let input = CatalogServiceInput {
            name: Some(" Enterprise e-signature ".into()),
            capabilities: Some(vec![
                "electronic signatures".into(),
                "Electronic Signatures".into(),
            ]),
            aliases: Some(vec!["DocuSign".into()]),
            owning_team: Some("DoIT".into()),
            access: Some("https://it.city.example/esign".into()),
            ..Default::default()
        };
        let f = ServiceFields::parse_json(input, None).unwrap();
        assert_eq!(f.name, "Enterprise e-signature");
        assert_eq!(f.capabilities, vec!["electronic signatures".to_string()]);
        assert_eq!(f.status, ServiceStatus::Active);
    }

    #[test]
    fn field_names_can_carry_their_spreadsheet_cell() {
        let input = CatalogServiceInput {
            name: None,
            status: Some("maybe".into()),
            ..Default::default()
        };
        let errors = ServiceFields::parse(input, None, &|f| format!("Services!{f}@7")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "Services!name@7",
                "Services!status@7",
                "Services!owning_team@7",
                "Services!access@7"
            ]
        );
    }

    #[test]
    fn a_service_in_use_needs_its_owning_team_and_access_a_retired_one_does_not() {
        let input = |status: &str| CatalogServiceInput {
            name: Some("Citywide GIS".into()),
            status: Some(status.into()),
            owning_team: Some(" ".into()),
            ..Default::default()
        };
        for status in ["active", "retiring"] {
            let errors = ServiceFields::parse(input(status), None, &|f| f.to_string()).unwrap_err();
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["owning_team", "access"], "{status}");
        }
        assert!(ServiceFields::parse_json(input("retired"), None).is_ok());
    }
}
