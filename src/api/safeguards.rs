//! The contract safeguards checklist of a request: the clauses its contract must carry before approval.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use super::requests::scope_of;
use super::{IfMatch, etag};
use crate::auth::{Auth, Permission, Role, Staff};
use crate::domain::contracts::ChecklistEntry;
use crate::domain::now;
use crate::domain::safeguards::{ClauseStatus, SafeguardState, render_text};
use crate::error::{ApiError, FieldError};
use crate::store::{RequestRecord, SafeguardRecord, Store};

/// Those who check contracts: the security analysts and the CIO office.
pub struct SafeguardEditor;
impl Permission for SafeguardEditor {
    const ROLES: &'static [Role] = &[Role::SecurityAnalyst, Role::Cio];
}

/// One clause of the checklist and where it stands.
#[derive(Debug, Object)]
pub struct SafeguardView {
    pub clause_id: String,
    pub title: String,
    /// What the contract must say, with the city's figures filled in.
    pub text: String,
    pub citation: String,
    /// The route step this clause holds up (`contract_safeguards` or `evidence`); absent for a clause the library
    /// only recommends, which never blocks approval.
    pub step: Option<String>,
    pub blocks_approval: bool,
    pub status: SafeguardState,
    /// Contract document and section, for a present clause.
    pub document: Option<String>,
    pub section: Option<String>,
    pub attested_by: Option<String>,
    pub attested_at: Option<DateTime<Utc>>,
    /// Why the city goes ahead without it, for a waived clause.
    pub justification: Option<String>,
    pub waived_by: Option<String>,
    pub waived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct SafeguardsView {
    pub request_id: Uuid,
    pub request_status: crate::domain::requests::Status,
    /// The request's version; the ETag is `"<version>"`.
    pub version: i64,
    /// Required clauses neither present nor waived.
    pub outstanding: Vec<String>,
    pub clauses: Vec<SafeguardView>,
}

/// A change to one clause.
#[derive(Debug, Object)]
pub struct SafeguardChange {
    pub clause_id: String,
    pub status: SafeguardState,
    /// The contract document, e.g. `Master Services Agreement v3` (present).
    pub document: Option<String>,
    /// Where in it, e.g. `§ 12.4` (present).
    pub section: Option<String>,
    /// Why the city goes ahead without the clause (waived; the CIO only).
    pub justification: Option<String>,
}

#[derive(Debug, Object)]
pub struct SafeguardsBody {
    /// Clauses to change; clauses not listed keep their status.
    pub clauses: Vec<SafeguardChange>,
}

#[derive(ApiResponse)]
pub enum SafeguardsResponse {
    #[oai(status = 200)]
    Ok(Json<SafeguardsView>, #[oai(header = "ETag")] String),
}

fn view(
    request: &RequestRecord,
    entries: &[ChecklistEntry],
    rows: &[SafeguardRecord],
) -> Result<SafeguardsResponse, ApiError> {
    let clauses: Vec<SafeguardView> = entries
        .iter()
        .map(|entry| {
            let row = rows.iter().find(|r| r.clause_id == entry.clause_id);
            // A clause nobody has dealt with yet has no row.
            let status = row.map_or(SafeguardState::Missing, |r| r.status);
            let field = |f: fn(&SafeguardRecord) -> Option<String>| row.and_then(f);
            SafeguardView {
                clause_id: entry.clause_id.clone(),
                title: entry
                    .clause
                    .as_ref()
                    .map_or_else(|| entry.clause_id.clone(), |c| c.title.clone()),
                text: entry.clause.as_ref().map(render_text).unwrap_or_default(),
                citation: entry
                    .clause
                    .as_ref()
                    .map(|c| c.citation.clone())
                    .unwrap_or_default(),
                step: entry.step.map(|s| s.as_str().to_string()),
                blocks_approval: entry.step.is_some(),
                status,
                document: field(|r| r.document.clone()),
                section: field(|r| r.section.clone()),
                attested_by: field(|r| r.attested_by.clone()),
                attested_at: row.and_then(|r| r.attested_at),
                justification: field(|r| r.justification.clone()),
                waived_by: field(|r| r.waived_by.clone()),
                waived_at: row.and_then(|r| r.waived_at),
            }
        })
        .collect();
    let outstanding = clauses
        .iter()
        .filter(|c| c.blocks_approval && c.status == SafeguardState::Missing)
        .map(|c| c.clause_id.clone())
        .collect();
    Ok(SafeguardsResponse::Ok(
        Json(SafeguardsView {
            request_id: request.id,
            request_status: request.status,
            version: request.version,
            outstanding,
            clauses,
        }),
        etag(request.version),
    ))
}

/// Turns the body into clause statuses, naming each blank field. Who may waive is the workflow's rule.
fn parse_changes(
    auth: &Auth<SafeguardEditor>,
    body: SafeguardsBody,
) -> Result<Vec<(String, ClauseStatus)>, ApiError> {
    let mut errors = Vec::new();
    let filled = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if body.clauses.is_empty() {
        errors.push(FieldError::new("clauses", "name at least one clause"));
    }
    let mut changes = Vec::new();
    for (i, change) in body.clauses.into_iter().enumerate() {
        let status = match change.status {
            SafeguardState::Missing => ClauseStatus::Missing,
            SafeguardState::Present => {
                let (document, section) = (filled(&change.document), filled(&change.section));
                if document.is_none() {
                    errors.push(FieldError::new(
                        format!("clauses[{i}].document"),
                        "a present clause names its document",
                    ));
                }
                if section.is_none() {
                    errors.push(FieldError::new(
                        format!("clauses[{i}].section"),
                        "a present clause names its section",
                    ));
                }
                ClauseStatus::Present {
                    document: document.unwrap_or_default(),
                    section: section.unwrap_or_default(),
                    attested_by: auth.subject.clone(),
                    attested_at: now(),
                }
            }
            SafeguardState::Waived => {
                let justification = filled(&change.justification);
                if justification.is_none() {
                    errors.push(FieldError::new(
                        format!("clauses[{i}].justification"),
                        "a waiver needs a justification",
                    ));
                }
                ClauseStatus::Waived {
                    justification: justification.unwrap_or_default(),
                    waived_by: auth.subject.clone(),
                    waived_at: now(),
                }
            }
        };
        changes.push((change.clause_id, status));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(changes)
}

pub struct SafeguardsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Contracts")]
impl SafeguardsApi {
    /// Read a request's contract safeguards
    ///
    /// The clauses the route's `contract_safeguards` and `evidence` steps name (these block approval), then the
    /// clauses the library recommends for the request's data classes. As for reading the request; 409 when its
    /// route needs neither step.
    #[oai(
        path = "/requests/:id/safeguards",
        method = "get",
        operation_id = "getSafeguards"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<SafeguardsResponse, ApiError> {
        let (request, entries, rows) = store.safeguards(&scope_of(&auth), id.0).await?;
        view(&request, &entries, &rows)
    }

    /// Record contract safeguards
    ///
    /// Security analysts and the CIO record a clause as present (document and section; they attest it) or set it
    /// back to missing; only the CIO waives one, with a justification. When every clause a step names is present
    /// or waived, the step is satisfied, and the request moves on. `If-Match` takes the request's ETag.
    #[oai(
        path = "/requests/:id/safeguards",
        method = "put",
        operation_id = "recordSafeguards"
    )]
    async fn put(
        &self,
        store: Data<&Store>,
        auth: Auth<SafeguardEditor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<SafeguardsBody>,
    ) -> Result<SafeguardsResponse, ApiError> {
        let expected = if_match.0.version()?;
        let changes = parse_changes(&auth, body.0)?;
        let (request, entries, rows) = store
            .record_safeguards(&auth.actor(), &auth.caller(), id.0, expected, changes)
            .await?;
        view(&request, &entries, &rows)
    }
}
