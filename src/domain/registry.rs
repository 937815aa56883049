//! Departments and vendors: the registry other resources point at.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::invalid::{FieldError, Invalid};

/// The seven bodies that Boston's Surveillance Oversight Ordinance (City Code 16-63) applies to.
pub const ORDINANCE_BODIES: [(&str, &str); 7] = [
    ("BPD", "Police Department"),
    ("BPS", "Public Schools"),
    ("BPHC", "Public Health Commission"),
    ("PARKS-RANGERS", "Parks Department Park Rangers"),
    ("BHA", "Housing Authority"),
    ("MPS", "Municipal Protection Services"),
    ("OEM", "Office of Emergency Management"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object, sqlx::FromRow)]
pub struct Department {
    pub id: Uuid,
    /// Short code, e.g. `BPD`; buyer tokens name their department by it.
    pub code: String,
    pub name: String,
    /// Whether Boston's Surveillance Oversight Ordinance [Boston 16-63] covers this body.
    pub surveillance_ordinance: bool,
    /// Incremented on every change; the ETag is `"<version>"`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object, Deserialize)]
pub struct NewDepartmentBody {
    /// 2 to 24 characters: capital letters, digits and dashes.
    pub code: String,
    pub name: String,
    #[oai(default)]
    #[serde(default)]
    pub surveillance_ordinance: bool,
}

#[derive(Debug, Clone, Object, Deserialize, Default)]
pub struct DepartmentPatchBody {
    pub name: Option<String>,
    pub surveillance_ordinance: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
pub struct Contact {
    pub name: String,
    pub email: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// What the contact does for the city, e.g. `security`, `sales`, `legal`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object, sqlx::FromRow)]
pub struct Vendor {
    pub id: Uuid,
    pub legal_name: String,
    pub website: Option<String>,
    /// ISO 3166-1 alpha-2 country code of the headquarters.
    pub hq_country: String,
    #[sqlx(json)]
    pub contacts: Vec<Contact>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the vendor's next security review is due: `reassessment_months` (policy) after its last accepted
    /// assessment, for a vendor holding Massachusetts or Connecticut residents' personal information
    /// [201 CMR 17.03(2)(i)]. Absent for other vendors.
    #[sqlx(skip)]
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_review_on: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Object, Deserialize)]
pub struct NewVendorBody {
    pub legal_name: String,
    pub website: Option<String>,
    pub hq_country: String,
    #[oai(default)]
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// One field of a partial update that may also be cleared: left out (keep the value), cleared, or set. The API
/// reads it from a field left out, `null`, or a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// A vendor edit: fields left out (`None`, [`Patch::Keep`]) keep their value; `contacts` replaces the whole list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VendorPatch {
    pub legal_name: Option<String>,
    pub website: Patch<String>,
    pub hq_country: Option<String>,
    pub contacts: Option<Vec<Contact>>,
}

/// A department as validated at the boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDepartment {
    pub code: String,
    pub name: String,
    pub surveillance_ordinance: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewVendor {
    pub legal_name: String,
    pub website: Option<String>,
    pub hq_country: String,
    pub contacts: Vec<Contact>,
}

struct Check(Vec<FieldError>);

impl Check {
    fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.0.push(FieldError::new(field, "must not be empty"));
        } else if value.chars().count() > max {
            self.0.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        value.to_string()
    }

    fn finish<T>(self, value: T) -> Result<T, Invalid> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Invalid(self.0))
        }
    }
}

pub fn parse_department_code(field: &str, code: &str) -> Result<String, FieldError> {
    let code = code.trim().to_ascii_uppercase();
    let ok = (2..=24).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && !code.starts_with('-');
    if ok {
        Ok(code)
    } else {
        Err(FieldError::new(
            field,
            "must be 2 to 24 characters: letters, digits and dashes, not starting with a dash",
        ))
    }
}

impl NewDepartment {
    pub fn parse(body: NewDepartmentBody) -> Result<NewDepartment, Invalid> {
        let mut check = Check(Vec::new());
        let code = parse_department_code("code", &body.code).unwrap_or_else(|e| {
            check.0.push(e);
            String::new()
        });
        let name = check.text("name", &body.name, 200);
        check.finish(NewDepartment {
            code,
            name,
            surveillance_ordinance: body.surveillance_ordinance,
        })
    }

    /// Applies a patch to the current state, validating what changes.
    pub fn patched(
        current: &Department,
        patch: DepartmentPatchBody,
    ) -> Result<NewDepartment, Invalid> {
        let mut check = Check(Vec::new());
        let name = match patch.name {
            Some(name) => check.text("name", &name, 200),
            None => current.name.clone(),
        };
        check.finish(NewDepartment {
            code: current.code.clone(),
            name,
            surveillance_ordinance: patch
                .surveillance_ordinance
                .unwrap_or(current.surveillance_ordinance),
        })
    }
}

fn parse_website(check: &mut Check, value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !value.contains(char::is_whitespace) =>
        {
            if value.chars().count() > 500 {
                check
                    .0
                    .push(FieldError::new("website", "must be at most 500 characters"));
            }
            Some(value.to_string())
        }
        _ => {
            check.0.push(FieldError::new(
                "website",
                "must be an http:// or https:// address",
            ));
            None
        }
    }
}

fn parse_country(check: &mut Check, value: &str) -> String {
    let code = value.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        check.0.push(FieldError::new(
            "hq_country",
            "must be an ISO 3166-1 alpha-2 country code, e.g. US",
        ));
    }
    code
}

fn parse_contacts(check: &mut Check, contacts: Vec<Contact>) -> Vec<Contact> {
    if contacts.len() > 50 {
        check
            .0
            .push(FieldError::new("contacts", "at most 50 contacts"));
    }
    contacts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let name = check.text(&format!("contacts[{i}].name"), &c.name, 200);
            let email = c.email.trim().to_string();
            let valid_email = email.chars().count() <= 254
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
                })
                && !email.contains(char::is_whitespace);
            if !valid_email {
                check.0.push(FieldError::new(
                    format!("contacts[{i}].email"),
                    "must be an e-mail address",
                ));
            }
            let trim_opt =
                |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            Contact {
                name,
                email,
                phone: trim_opt(c.phone),
                role: trim_opt(c.role),
            }
        })
        .collect()
}

impl NewVendor {
    pub fn parse(body: NewVendorBody) -> Result<NewVendor, Invalid> {
        let mut check = Check(Vec::new());
        let legal_name = check.text("legal_name", &body.legal_name, 300);
        let website = parse_website(&mut check, body.website.as_deref());
        let hq_country = parse_country(&mut check, &body.hq_country);
        let contacts = parse_contacts(&mut check, body.contacts);
        check.finish(NewVendor {
            legal_name,
            website,
            hq_country,
            contacts,
        })
    }

    pub fn patched(current: &Vendor, patch: VendorPatch) -> Result<NewVendor, Invalid> {
        let mut check = Check(Vec::new());
        let legal_name = match patch.legal_name {
            Some(v) => check.text("legal_name", &v, 300),
            None => current.legal_name.clone(),
        };
        let website = match patch.website {
            Patch::Keep => current.website.clone(),
            Patch::Clear => None,
            Patch::Set(v) => parse_website(&mut check, Some(&v)),
        };
        let hq_country = match patch.hq_country {
            Some(v) => parse_country(&mut check, &v),
            None => current.hq_country.clone(),
        };
        let contacts = match patch.contacts {
            Some(v) => parse_contacts(&mut check, v),
            None => current.contacts.clone(),
        };
        check.finish(NewVendor {
            legal_name,
            website,
            hq_country,
            contacts,
        })
    }

    /// The key that makes two spellings of one legal name the same vendor.
    pub fn name_key(&self) -> String {
        self.legal_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor_body() -> NewVendorBody {
        NewVendorBody {
            legal_name: "  Acme   Signatures, Inc. ".into(),
            website: Some("https://acme.example".into()),
            hq_country: "us".into(),
            contacts: vec![Contact {
                name: "Pat".into(),
                email: "pat@acme.example".into(),
                phone: Some(" ".into()),
                role: None,
            }],
        }
    }

    #[test]
    fn a_vendor_is_normalised_at_the_boundary() {
        let v = NewVendor::parse(vendor_body()).unwrap();
        assert_eq!(v.legal_name, "Acme   Signatures, Inc.");
        assert_eq!(v.hq_country, "US");
        assert_eq!(v.contacts[0].phone, None);
        assert_eq!(v.name_key(), "acme signatures, inc.");
    }

    #[test]
    fn every_bad_vendor_field_is_named() {
        let mut body = vendor_body();
        body.legal_name = " ".into();
        body.website = Some("ftp://x".into());
        body.hq_country = "USA".into();
        body.contacts[0].email = "nobody".into();
        let problem = NewVendor::parse(body).unwrap_err();
        let fields: Vec<&str> = problem.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["legal_name", "website", "hq_country", "contacts[0].email"]
        );
    }

    #[test]
    fn a_vendor_edit_keeps_clears_or_sets_the_website() {
        let new = NewVendor::parse(vendor_body()).unwrap();
        let current = Vendor {
            id: Uuid::new_v4(),
            legal_name: new.legal_name,
            website: new.website,
            hq_country: new.hq_country,
            contacts: new.contacts,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            next_review_on: None,
        };
        let website = |website: Patch<String>| {
            NewVendor::patched(
                &current,
                VendorPatch {
                    website,
                    ..VendorPatch::default()
                },
            )
            .map(|v| v.website)
        };
        assert_eq!(
            website(Patch::Keep).unwrap().as_deref(),
            Some("https://acme.example")
        );
        assert_eq!(website(Patch::Clear).unwrap(), None);
        assert_eq!(
            website(Patch::Set("https://sign.acme.example".into()))
                .unwrap()
                .as_deref(),
            Some("https://sign.acme.example")
        );
        let fields: Vec<String> = website(Patch::Set("ftp://x".into()))
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["website"]);
    }

    #[test]
    fn department_codes_are_upper_cased_and_checked() {
        assert_eq!(parse_department_code("code", " bpd ").unwrap(), "BPD");
        assert!(parse_department_code("code", "B").is_err());
        assert!(parse_department_code("code", "BP D").is_err());
        assert!(parse_department_code("code", "-X").is_err());
    }

    #[test]
    fn the_ordinance_covers_seven_bodies() {
        assert_eq!(ORDINANCE_BODIES.len(), 7);
    }
}
