//! Saved import profiles: a hand mapping of a spreadsheet layout (what `format=mapped` takes in the query), saved
//! by an analyst under a name ("SIG Core 2025") so that vendors upload with `profile=NAME` instead of repeating it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::{IfMatch, etag};
use crate::auth::{AnyRole, Auth, Permission, Role};
use crate::error::{ApiError, FieldError};
use crate::sheets::external::{self, Mapping};
use crate::store::{ImportProfileRecord, Store};

/// Those who keep the import profiles: security analysts, the CIO and administrators.
pub struct ProfileEditor;
impl Permission for ProfileEditor {
    const ROLES: &'static [Role] = &[Role::SecurityAnalyst, Role::Cio, Role::Admin];
}

/// How a sheet is read, as `format=mapped` reads it from the query; see the upload operation.
#[derive(Debug, Clone, Object)]
pub struct ImportMapping {
    /// The sheet's name (case aside).
    pub sheet: String,
    /// The header row, counted from 1; answers are read below it.
    pub header_row: u32,
    /// Column letter of the question IDs.
    pub id_column: String,
    /// Column letter of answer words; or give the mark columns instead.
    pub answer_column: Option<String>,
    /// Marked layouts: the column where a mark (any text) means Yes.
    pub yes_column: Option<String>,
    /// Marked layouts: the column where a mark means No.
    pub no_column: Option<String>,
    /// Marked layouts: the column where a mark means N/A.
    pub na_column: Option<String>,
    pub comment_column: Option<String>,
    /// What each answer word means: `yes`, `no` or `na` (e.g. `{"Yes, with exceptions": "no"}`). Without it, Yes,
    /// No, NA and N/A.
    pub answer_words: Option<BTreeMap<String, String>>,
    /// The format version whose question IDs the sheet holds (e.g. `caiq-v4`); without it, our own IDs.
    pub id_space: Option<String>,
}

impl From<ImportMapping> for Mapping {
    fn from(m: ImportMapping) -> Mapping {
        let letters = |c: Option<String>| {
            c.map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
        };
        Mapping {
            sheet: m.sheet.trim().to_owned(),
            header_row: m.header_row,
            id_column: m.id_column.trim().to_ascii_uppercase(),
            answer_column: letters(m.answer_column),
            yes_column: letters(m.yes_column),
            no_column: letters(m.no_column),
            na_column: letters(m.na_column),
            comment_column: letters(m.comment_column),
            answer_words: m.answer_words.unwrap_or_default(),
            id_space: m.id_space.filter(|s| !s.trim().is_empty()),
        }
    }
}

impl From<Mapping> for ImportMapping {
    fn from(m: Mapping) -> ImportMapping {
        ImportMapping {
            sheet: m.sheet,
            header_row: m.header_row,
            id_column: m.id_column,
            answer_column: m.answer_column,
            yes_column: m.yes_column,
            no_column: m.no_column,
            na_column: m.na_column,
            comment_column: m.comment_column,
            answer_words: (!m.answer_words.is_empty()).then_some(m.answer_words),
            id_space: m.id_space,
        }
    }
}

#[derive(Debug, Object)]
pub struct ImportProfileBody {
    /// Unique, case and spacing aside, e.g. "SIG Core 2025".
    pub name: String,
    pub mapping: ImportMapping,
}

#[derive(Debug, Object)]
pub struct ImportProfile {
    pub id: Uuid,
    pub name: String,
    pub mapping: ImportMapping,
    pub version: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl From<ImportProfileRecord> for ImportProfile {
    fn from(r: ImportProfileRecord) -> Self {
        ImportProfile {
            id: r.id,
            name: r.name,
            mapping: r.mapping.into(),
            version: r.version,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum ProfileCreated {
    #[oai(status = 201)]
    Created(
        Json<ImportProfile>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum ProfileResponse {
    #[oai(status = 200)]
    Ok(Json<ImportProfile>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ProfileDeleted {
    #[oai(status = 204)]
    NoContent,
}

/// Checks a body: the name, and the mapping's own settings, each fault named by its JSON path.
fn parse(body: ImportProfileBody) -> Result<(String, Mapping), ApiError> {
    let name = body.name.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FieldError::new("name", "names the profile"));
    } else if name.chars().count() > 100 {
        errors.push(FieldError::new("name", "is at most 100 characters"));
    }
    let mapping = Mapping::from(body.mapping);
    errors.extend(
        external::check_mapping(&mapping)
            .into_iter()
            .map(|e| FieldError::new(format!("mapping.{}", e.field), e.message)),
    );
    if errors.is_empty() {
        Ok((name, mapping))
    } else {
        Err(ApiError::validation(errors))
    }
}

/// A path segment, percent-encoded but for unreserved characters.
fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub struct ProfilesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl ProfilesApi {
    /// List import profiles
    ///
    /// Every saved mapping, by name. Every signed-in role, vendors included: a vendor uploads with
    /// `profile=NAME`.
    #[oai(
        path = "/import-profiles",
        method = "get",
        operation_id = "listImportProfiles"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<AnyRole>,
    ) -> Result<Json<Vec<ImportProfile>>, ApiError> {
        Ok(Json(
            store
                .list_profiles()
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }

    /// Save an import profile
    ///
    /// Security analysts, the CIO and administrators save a mapping (the settings `format=mapped` takes) under a
    /// name; the mapping's settings are checked now (422 names each by its path, e.g. `mapping.answer_column`),
    /// the sheet when a file is read. 409 `duplicate_profile` for a name in use. Audited.
    #[oai(
        path = "/import-profiles",
        method = "post",
        operation_id = "createImportProfile"
    )]
    async fn create(
        &self,
        store: Data<&Store>,
        auth: Auth<ProfileEditor>,
        body: Json<ImportProfileBody>,
    ) -> Result<ProfileCreated, ApiError> {
        let (name, mapping) = parse(body.0)?;
        let created = store.create_profile(&auth.actor(), &name, &mapping).await?;
        let location = format!(
            "{}/import-profiles/{}",
            super::PREFIX,
            encode_segment(&created.name)
        );
        let tag = etag(created.version);
        Ok(ProfileCreated::Created(Json(created.into()), location, tag))
    }

    /// Read an import profile
    ///
    /// By name, case aside. Every signed-in role.
    #[oai(
        path = "/import-profiles/:name",
        method = "get",
        operation_id = "getImportProfile"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        _auth: Auth<AnyRole>,
        name: Path<String>,
    ) -> Result<ProfileResponse, ApiError> {
        let profile = store
            .get_profile(&name.0)
            .await?
            .ok_or_else(|| ApiError::not_found("import profile"))?;
        let tag = etag(profile.version);
        Ok(ProfileResponse::Ok(Json(profile.into()), tag))
    }

    /// Replace an import profile
    ///
    /// Its name and mapping, checked as on save. `If-Match` (required) takes the profile's ETag. Audited.
    #[oai(
        path = "/import-profiles/:name",
        method = "put",
        operation_id = "replaceImportProfile"
    )]
    async fn put(
        &self,
        store: Data<&Store>,
        auth: Auth<ProfileEditor>,
        name: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ImportProfileBody>,
    ) -> Result<ProfileResponse, ApiError> {
        let expected = if_match.version()?;
        let (new_name, mapping) = parse(body.0)?;
        let updated = store
            .update_profile(&auth.actor(), &name.0, expected, &new_name, &mapping)
            .await?;
        let tag = etag(updated.version);
        Ok(ProfileResponse::Ok(Json(updated.into()), tag))
    }

    /// Delete an import profile
    ///
    /// `If-Match` (required) takes the profile's ETag. Uploads already read through it keep their answers.
    /// Audited.
    #[oai(
        path = "/import-profiles/:name",
        method = "delete",
        operation_id = "deleteImportProfile"
    )]
    async fn delete(
        &self,
        store: Data<&Store>,
        auth: Auth<ProfileEditor>,
        name: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<ProfileDeleted, ApiError> {
        let expected = if_match.version()?;
        store
            .delete_profile(&auth.actor(), &name.0, expected)
            .await?;
        Ok(ProfileDeleted::NoContent)
    }
}
