//! Storage: one API, one implementation per backend.
//!
//! The queries live once, in `common.rs`, which each backend module includes with its own `Db` type, pool and
//! transaction opener: the SQL text (with `$N` placeholders, `RETURNING`, `ON CONFLICT`) serves both, while
//! each backend keeps native column types and its own migrations folder. Where the SQL must differ, the
//! including module defines a small macro (`for_update!`) that `concat!` splices in.
//!
//! Every write runs in one transaction that also appends to the audit chain.

pub mod postgres;
pub mod sqlite;

mod records;
mod types;
pub use records::*;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::config::Secret;
use crate::domain::PageRequest;
use crate::domain::assessment::{AssessmentStatus, FindingChange, ScoreView};
use crate::domain::audit::{AuditRecord, CheckpointSummary, VerifyReport};
use crate::domain::catalog::{CatalogService, CatalogServiceInput, ServiceFields};
use crate::domain::lifecycle::{Cancellation, ChecklistEntry, ContractFields, Decommission};
use crate::domain::policy::Policy;
use crate::domain::registry::{
    Department, DepartmentPatchBody, NewDepartment, NewVendor, Vendor, VendorPatchBody,
};
use crate::domain::request::RequestFields;
use crate::domain::safeguards::ClauseStatus;
use crate::domain::workflow::{CheckedDecision, Decision};
use crate::error::ApiError;
use crate::workflow::Caller;

/// What the fan-out of notifications to the outbox needs that the store does not know: where to post, whom to
/// mail, how to link.
pub struct FanOut<'a> {
    pub webhook_urls: &'a [String],
    /// `None` while e-mail is off.
    pub mail: Option<crate::domain::mail::Mailboxes>,
    pub public_url: &'a str,
}

/// An open remediation order: id, vendor, department, due date, status.
pub type OpenOrder = (Uuid, Option<Uuid>, Option<String>, NaiveDate, String);

/// Who is acting, as recorded in the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub subject: String,
    pub role: String,
    pub request_id: Option<String>,
    /// When a vendor acts with an invitation token: the invitation, which each audit record names with the
    /// staff member who issued it.
    pub invitation: Option<crate::domain::invitation::InvitationGrant>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            subject: "system".into(),
            role: "system".into(),
            request_id: None,
            invitation: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DepartmentFilter {
    pub surveillance_ordinance: Option<bool>,
    /// Matches code or name, case-insensitively.
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct VendorFilter {
    pub q: Option<String>,
    pub hq_country: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// One page of a list and the total number of matches.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// A `LIKE` pattern matching `needle` anywhere, with the wildcards in it escaped (`ESCAPE '\'`).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `$1, $2, ..., $count`: the placeholders of an `IN (...)` list, written the same way on both backends.
pub(crate) fn placeholders(count: usize) -> String {
    (1..=count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// For `.map_err(..)` on a write: a unique violation becomes [`ApiError::constraint`] with this code and the
/// detail `detail` writes; any other error passes through as an internal one.
pub(crate) fn unique_as(
    code: &'static str,
    detail: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> ApiError {
    move |err| {
        if is_unique_violation(&err) {
            ApiError::constraint(code, detail())
        } else {
            err.into()
        }
    }
}

#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::Repo),
    Postgres(postgres::Repo),
}

macro_rules! dispatch {
    ($self:expr, $repo:ident => $body:expr) => {
        match $self {
            Store::Sqlite($repo) => $body,
            Store::Postgres($repo) => $body,
        }
    };
}

impl Store {
    /// Opens the database the URL names (`sqlite:` or `postgres:`), applying migrations on a dedicated
    /// connection first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open(url: &Secret, max_connections: u32) -> anyhow::Result<Store> {
        let url = url.expose();
        if url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .context("parsing the SQLite database URL")?;
            Ok(Store::Sqlite(
                sqlite::Repo::open(options, max_connections).await?,
            ))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = sqlx::postgres::PgConnectOptions::from_str(url)
                .context("parsing the PostgreSQL database URL")?;
            Ok(Store::Postgres(
                postgres::Repo::open(options, max_connections).await?,
            ))
        } else {
            bail!("the database URL must start with sqlite: or postgres://")
        }
    }

    /// Opens a database that must already exist: the commands that mint tokens and sign-in links use it, so that
    /// run from the wrong directory they say so instead of creating a new database (and a signing key the service
    /// does not know). PostgreSQL refuses a missing database by itself.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_existing(url: &Secret, max_connections: u32) -> anyhow::Result<Store> {
        let text = url.expose();
        if text.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(text)
                .context("parsing the SQLite database URL")?;
            let file = options.get_filename();
            if file != Path::new(":memory:") && !file.exists() {
                let here = std::env::current_dir()
                    .map(|d| format!(" (looked in {})", d.display()))
                    .unwrap_or_default();
                bail!(
                    "there is no database at {}{here}: run this where the service runs, or set \
                     PROCUREMENT_REVIEW_DATABASE_URL to the service's database",
                    file.display()
                );
            }
        }
        Store::open(url, max_connections).await
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self) {
        dispatch!(self, r => r.pool.close().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<(), ApiError> {
        dispatch!(self, r => r.ping().await)
    }

    /// Seeds what a new installation needs (the ordinance bodies) and returns the instance's HS256 secret,
    /// generating and keeping one on first run.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn bootstrap(&self) -> Result<Secret, ApiError> {
        dispatch!(self, r => r.bootstrap().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_departments(
        &self,
        filter: &DepartmentFilter,
        page: PageRequest,
    ) -> Result<Paged<Department>, ApiError> {
        dispatch!(self, r => r.list_departments(filter, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_department(&self, id: Uuid) -> Result<Option<Department>, ApiError> {
        dispatch!(self, r => r.get_department(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_department(
        &self,
        actor: &Actor,
        new: NewDepartment,
    ) -> Result<Department, ApiError> {
        dispatch!(self, r => r.create_department(actor, new).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_department(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: DepartmentPatchBody,
    ) -> Result<Department, ApiError> {
        dispatch!(self, r => r.update_department(actor, id, if_match, patch).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_vendors(
        &self,
        filter: &VendorFilter,
        page: PageRequest,
    ) -> Result<Paged<Vendor>, ApiError> {
        dispatch!(self, r => r.list_vendors(filter, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_vendor(&self, id: Uuid) -> Result<Option<Vendor>, ApiError> {
        dispatch!(self, r => r.get_vendor(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_vendor(&self, actor: &Actor, new: NewVendor) -> Result<Vendor, ApiError> {
        dispatch!(self, r => r.create_vendor(actor, new).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_vendor(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: VendorPatchBody,
    ) -> Result<Vendor, ApiError> {
        dispatch!(self, r => r.update_vendor(actor, id, if_match, patch).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn current_policy(&self) -> Result<PolicyRecord, ApiError> {
        dispatch!(self, r => r.current_policy().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_policy(&self, version: i32) -> Result<Option<PolicyRecord>, ApiError> {
        dispatch!(self, r => r.get_policy(version).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_policies(&self, page: PageRequest) -> Result<Paged<PolicyRecord>, ApiError> {
        dispatch!(self, r => r.list_policies(page).await)
    }

    /// Publishes `policy` over the current version `if_match` (the version the admin read).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn publish_policy(
        &self,
        actor: &Actor,
        if_match: i64,
        policy: Policy,
    ) -> Result<PolicyRecord, ApiError> {
        dispatch!(self, r => r.publish_policy_over(actor, if_match, policy).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        fields: RequestFields,
    ) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.create_request(actor, caller, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_request(&self, scope: &Scope, id: Uuid) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.get_request(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_requests(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<RequestRecord>, Option<Keyset>), ApiError> {
        dispatch!(self, r => r.list_requests(scope, filter, page, after).await)
    }

    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        next: RequestFields,
        detection: Option<Detection>,
    ) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.update_request(actor, caller, scope, id, if_match, next, detection).await)
    }

    /// What the planners read of each request of a page (without the decided version).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn request_states(
        &self,
        records: &[RequestRecord],
    ) -> Result<Vec<crate::workflow::requests::RequestState>, ApiError> {
        dispatch!(self, r => r.request_states(records).await)
    }

    /// A request with what the planners read of it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn request_state(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestRecord, crate::workflow::requests::RequestState), ApiError> {
        dispatch!(self, r => r.request_state(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn submit_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        detection: Detection,
    ) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.submit_request(actor, caller, scope, id, if_match, detection).await)
    }

    /// The plan submitting the request now would carry out, with nothing written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn preview_submission(
        &self,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        detection: Detection,
    ) -> Result<crate::workflow::requests::Plan, ApiError> {
        dispatch!(self, r => r.preview_submission(caller, scope, id, detection).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn withdraw_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.withdraw_request(actor, caller, scope, id, if_match).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reroute_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.reroute_request(actor, caller, id, if_match).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn route_steps(&self, request: &RequestRecord) -> Result<Vec<StepRecord>, ApiError> {
        dispatch!(self, r => r.route_steps(request).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decide(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        decision: CheckedDecision,
        lex: &crate::domain::duplicates::Lexicon,
    ) -> Result<(Decision, RequestRecord), ApiError> {
        dispatch!(self, r => r.decide(actor, caller, id, if_match, decision, lex).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_decisions(&self, request_id: Uuid) -> Result<Vec<Decision>, ApiError> {
        dispatch!(self, r => r.list_decisions(request_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_versions(&self, request_id: Uuid) -> Result<Vec<VersionRecord>, ApiError> {
        dispatch!(self, r => r.list_versions(request_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_services(
        &self,
        filter: &CatalogFilter,
        page: PageRequest,
    ) -> Result<Paged<CatalogService>, ApiError> {
        dispatch!(self, r => r.list_services(filter, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_services(&self) -> Result<Vec<CatalogService>, ApiError> {
        dispatch!(self, r => r.all_services().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_service(&self, id: Uuid) -> Result<Option<CatalogService>, ApiError> {
        dispatch!(self, r => r.get_service(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_alias_proposals(
        &self,
        status: Option<&str>,
        service_id: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Paged<AliasProposalRecord>, ApiError> {
        dispatch!(self, r => r.list_alias_proposals(status, service_id, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_alias_proposal(
        &self,
        id: Uuid,
    ) -> Result<Option<AliasProposalRecord>, ApiError> {
        dispatch!(self, r => r.get_alias_proposal(id).await)
    }

    /// Accepts the proposal when `reason` is `None`, rejects it with the reason otherwise.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decide_alias_proposal(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        reason: Option<&str>,
    ) -> Result<AliasProposalRecord, ApiError> {
        dispatch!(self, r => r.decide_alias_proposal(actor, id, if_match, reason).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_login_link(
        &self,
        actor: &Actor,
        new: NewLoginLink,
    ) -> Result<LoginLinkRecord, ApiError> {
        dispatch!(self, r => r.create_login_link(actor, new).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn redeem_login_link(
        &self,
        code_hash: &str,
        session: NewSession,
    ) -> Result<SessionRecord, ApiError> {
        dispatch!(self, r => r.redeem_login_link(code_hash, session).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_session(
        &self,
        actor: &Actor,
        session: NewSession,
    ) -> Result<SessionRecord, ApiError> {
        dispatch!(self, r => r.open_session(actor, session).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn start_oidc_attempt(
        &self,
        actor: &Actor,
        new: NewOidcAttempt,
    ) -> Result<OidcAttemptRecord, ApiError> {
        dispatch!(self, r => r.start_oidc_attempt(actor, new).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn take_oidc_attempt(
        &self,
        state_hash: &str,
        browser_hash: Option<&str>,
    ) -> Result<OidcAttemptRecord, ApiError> {
        dispatch!(self, r => r.take_oidc_attempt(state_hash, browser_hash).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_identified_session(
        &self,
        actor: &Actor,
        session: NewSession,
        person: Option<IdentityPerson>,
    ) -> Result<SessionRecord, ApiError> {
        dispatch!(self, r => r.open_identified_session(actor, session, person).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn identity_people(&self) -> Result<Vec<IdentityPerson>, ApiError> {
        dispatch!(self, r => r.identity_people().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>, ApiError> {
        dispatch!(self, r => r.find_session(token_hash).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_session(&self, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
        dispatch!(self, r => r.revoke_session(actor, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_profiles(&self) -> Result<Vec<ImportProfileRecord>, ApiError> {
        dispatch!(self, r => r.list_profiles().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_profile(&self, name: &str) -> Result<Option<ImportProfileRecord>, ApiError> {
        dispatch!(self, r => r.get_profile(name).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_profile(
        &self,
        actor: &Actor,
        name: &str,
        mapping: &crate::sheets::external::Mapping,
    ) -> Result<ImportProfileRecord, ApiError> {
        dispatch!(self, r => r.create_profile(actor, name, mapping).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_profile(
        &self,
        actor: &Actor,
        current_name: &str,
        if_match: i64,
        name: &str,
        mapping: &crate::sheets::external::Mapping,
    ) -> Result<ImportProfileRecord, ApiError> {
        dispatch!(self, r => r.update_profile(actor, current_name, if_match, name, mapping).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_profile(
        &self,
        actor: &Actor,
        name: &str,
        if_match: i64,
    ) -> Result<(), ApiError> {
        dispatch!(self, r => r.delete_profile(actor, name, if_match).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_service(
        &self,
        actor: &Actor,
        fields: ServiceFields,
    ) -> Result<CatalogService, ApiError> {
        dispatch!(self, r => r.create_service(actor, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_service(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        input: CatalogServiceInput,
    ) -> Result<CatalogService, ApiError> {
        dispatch!(self, r => r.update_service(actor, id, if_match, input).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn load_services(
        &self,
        actor: &Actor,
        entries: Vec<ServiceFields>,
    ) -> Result<(usize, usize), ApiError> {
        dispatch!(self, r => r.load_services(actor, entries).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn services_changed_since(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<CatalogService>, ApiError> {
        dispatch!(self, r => r.services_changed_since(since).await)
    }

    /// The duplicate index's change counter: it moves with every change to what the index reads.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn duplicate_index_counter(&self) -> Result<i64, ApiError> {
        dispatch!(self, r => r.duplicate_index_counter().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn purchases_changed_since(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<PurchaseRecord>, ApiError> {
        dispatch!(self, r => r.purchases_changed_since(since).await)
    }

    /// The id and last change of each request changed after `since`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn purchase_stamps_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(Uuid, chrono::DateTime<chrono::Utc>)>, ApiError> {
        dispatch!(self, r => r.purchase_stamps_since(since).await)
    }

    /// The requests `ids` as the duplicate index reads them.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn purchases_by_id(&self, ids: &[Uuid]) -> Result<Vec<PurchaseRecord>, ApiError> {
        dispatch!(self, r => r.purchases_by_id(ids).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn request_duplicates(
        &self,
        id: Uuid,
        submission: i32,
    ) -> Result<Vec<DuplicateRecord>, ApiError> {
        dispatch!(self, r => r.request_duplicates(id, submission).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn vocabulary(&self) -> Result<Vec<VocabularyRecord>, ApiError> {
        dispatch!(self, r => r.vocabulary().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_vocabulary(
        &self,
        actor: &Actor,
        entry: &crate::domain::duplicates::VocabularyEntry,
    ) -> Result<VocabularyRecord, ApiError> {
        dispatch!(self, r => r.add_vocabulary(actor, entry).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn remove_vocabulary(&self, actor: &Actor, id: Uuid) -> Result<bool, ApiError> {
        dispatch!(self, r => r.remove_vocabulary(actor, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dismissals(&self, id: Uuid) -> Result<Vec<DismissalRecord>, ApiError> {
        dispatch!(self, r => r.dismissals(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prior_dismissals(
        &self,
        department: &str,
        request_id: Uuid,
    ) -> Result<Vec<crate::domain::duplicate_learning::PriorDismissal>, ApiError> {
        dispatch!(self, r => r.prior_dismissals(department, request_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn exceptions(&self, id: Uuid) -> Result<Vec<ExceptionRecord>, ApiError> {
        dispatch!(self, r => r.exceptions(id).await)
    }

    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dismiss_duplicate(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        candidate_kind: &str,
        candidate_id: &str,
        reason: &str,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.dismiss_duplicate(actor, caller, id, candidate_kind, candidate_id, reason, if_match).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn request_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        justification: &str,
    ) -> Result<ExceptionRecord, ApiError> {
        dispatch!(self, r => r.request_exception(actor, caller, scope, id, if_match, justification).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decide_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        grant: bool,
        reason: &str,
    ) -> Result<(ExceptionRecord, RequestRecord), ApiError> {
        dispatch!(self, r => r.decide_exception(actor, caller, id, if_match, grant, reason).await)
    }

    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn attach_council_document(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        kind: &str,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<crate::domain::council::CouncilDocument, ApiError> {
        dispatch!(self, r => r.attach_council_document(actor, caller, scope, id, kind, file_name, content_type, data).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn council_documents(
        &self,
        id: Uuid,
    ) -> Result<Vec<crate::domain::council::CouncilDocument>, ApiError> {
        dispatch!(self, r => r.council_documents(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn council_document_file(
        &self,
        id: Uuid,
        document_id: Uuid,
    ) -> Result<Option<(crate::domain::council::CouncilDocument, Vec<u8>)>, ApiError> {
        dispatch!(self, r => r.council_document_file(id, document_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn council_votes(
        &self,
        id: Uuid,
    ) -> Result<Vec<crate::domain::council::CouncilVote>, ApiError> {
        dispatch!(self, r => r.council_votes(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_council_vote(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        vote: crate::workflow::council::VoteInput,
        today: NaiveDate,
    ) -> Result<(crate::domain::council::CouncilVote, RequestRecord), ApiError> {
        dispatch!(self, r => r.record_council_vote(actor, caller, id, if_match, vote, today).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn register_template(
        &self,
        template_id: &str,
        version: &str,
        file_name: &str,
        source: &str,
    ) -> Result<(), ApiError> {
        dispatch!(self, r => r.register_template(template_id, version, file_name, source).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn template_source(
        &self,
        template_id: &str,
        version: &str,
    ) -> Result<Option<(String, String)>, ApiError> {
        dispatch!(self, r => r.template_source(template_id, version).await)
    }

    /// Makes an invitation for a request (or named assessments of it), checked against the request by
    /// [`crate::workflow::assessments::plan_invitation`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_invitation(
        &self,
        actor: &Actor,
        new: NewInvitation,
    ) -> Result<InvitationRecord, ApiError> {
        dispatch!(self, r => r.create_invitation(actor, new).await)
    }

    /// A vendor's invitations, newest first (with `department`, only those of that department's requests); 404
    /// for a vendor that does not exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_invitations(
        &self,
        vendor_id: Uuid,
        department: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<InvitationRecord>, ApiError> {
        dispatch!(self, r => r.list_invitations(vendor_id, department, page).await)
    }

    /// Revokes an invitation of the vendor's; with `department` (a buyer), only one issued for a request of that
    /// department (any other answers 404).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        vendor_id: Uuid,
        id: Uuid,
        department: Option<&str>,
    ) -> Result<InvitationRecord, ApiError> {
        dispatch!(self, r => r.revoke_invitation(actor, vendor_id, id, department).await)
    }

    /// An invitation as stored, revoked or not.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn invitation(&self, id: Uuid) -> Result<Option<InvitationRecord>, ApiError> {
        dispatch!(self, r => r.invitation(id).await)
    }

    /// The secret the database keeps for locally minted tokens, when the configuration names none.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn kept_secret(&self) -> Result<Option<crate::config::Secret>, ApiError> {
        dispatch!(self, r => r.kept_secret().await)
    }

    /// What an invitation token reaches, if the invitation is still active (not revoked, not expired) and was
    /// issued for a request.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn invitation_grant(
        &self,
        id: Uuid,
    ) -> Result<Option<crate::domain::invitation::InvitationGrant>, ApiError> {
        dispatch!(self, r => r.invitation_grant(id).await)
    }

    /// Cancels the request's assessments not yet accepted and revokes its invitations, in a transaction of its
    /// own. Withdrawing, denying and closing a request do the same inside their own transaction (the store's
    /// `close_for_request`); this is for tests and tools that close the work alone.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close_request_work(
        &self,
        actor: &Actor,
        request_id: Uuid,
        reason: &str,
    ) -> Result<ClosedWork, ApiError> {
        dispatch!(self, r => r.close_request_work(actor, request_id, reason).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_product(
        &self,
        actor: &Actor,
        caller: &Caller,
        product: NewProduct,
    ) -> Result<ProductRecord, ApiError> {
        dispatch!(self, r => r.create_product(actor, caller, product).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_product(
        &self,
        vendor: Option<Uuid>,
        id: Uuid,
    ) -> Result<ProductDetail, ApiError> {
        dispatch!(self, r => r.get_product(vendor, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_products(
        &self,
        vendor: Option<Uuid>,
        q: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<ProductDetail>, ApiError> {
        dispatch!(self, r => r.list_products(vendor, q, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn confirm_reuse(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        questionnaire: &str,
    ) -> Result<RequestRecord, ApiError> {
        dispatch!(self, r => r.confirm_reuse(actor, caller, id, if_match, questionnaire).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_assessments(
        &self,
        scope: &VendorScope,
        request_id: Option<Uuid>,
        vendor_id: Option<Uuid>,
        status: Option<AssessmentStatus>,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<AssessmentRecord>, Option<Keyset>), ApiError> {
        dispatch!(self, r => r.list_assessments(scope, request_id, vendor_id, status, page, after).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_assessment(
        &self,
        scope: &VendorScope,
        id: Uuid,
    ) -> Result<AssessmentRecord, ApiError> {
        dispatch!(self, r => r.get_assessment(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn answers(&self, assessment_id: Uuid) -> Result<Vec<AnswerRecord>, ApiError> {
        dispatch!(self, r => r.answers(assessment_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        entries: Vec<AnswerEntry>,
    ) -> Result<AssessmentRecord, ApiError> {
        dispatch!(self, r => r.save_answers(actor, scope, id, if_match, entries).await)
    }

    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        entries: Vec<AnswerEntry>,
        file_name: &str,
        content_type: &str,
        original: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError> {
        dispatch!(self, r => r.import_answers(actor, scope, id, expected_version, entries, file_name, content_type, original).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn submit_assessment(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        answers: serde_json::Value,
        score: ScoreView,
    ) -> Result<AssessmentRecord, ApiError> {
        dispatch!(self, r => r.submit_assessment(actor, scope, id, expected_version, answers, score).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn review_assessment(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        accept: bool,
        comments: Vec<ReviewComment>,
        findings: Vec<NewFinding>,
    ) -> Result<(AssessmentRecord, Vec<FindingRecord>), ApiError> {
        dispatch!(self, r => r.review_assessment(actor, id, if_match, accept, comments, findings).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn start_cycle(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        cycle: NewCycle,
    ) -> Result<AssessmentRecord, ApiError> {
        dispatch!(self, r => r.start_cycle(actor, id, if_match, cycle).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reviews(&self, assessment_id: Uuid) -> Result<Vec<ReviewRecord>, ApiError> {
        dispatch!(self, r => r.reviews(assessment_id).await)
    }

    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn store_evidence(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        assessment_id: Uuid,
        expected_version: i64,
        question_id: Option<&str>,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError> {
        dispatch!(self, r => r.store_evidence(actor, scope, assessment_id, expected_version, question_id, file_name, content_type, data).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_evidence(
        &self,
        assessment_id: Uuid,
    ) -> Result<Vec<EvidenceRecord>, ApiError> {
        dispatch!(self, r => r.list_evidence(assessment_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn evidence_file(
        &self,
        assessment_id: Uuid,
        evidence_id: Uuid,
    ) -> Result<Option<(EvidenceRecord, Vec<u8>)>, ApiError> {
        dispatch!(self, r => r.evidence_file(assessment_id, evidence_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_findings(
        &self,
        scope: &VendorScope,
        filter: &FindingFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<FindingRecord>, Option<Keyset>), ApiError> {
        dispatch!(self, r => r.list_findings(scope, filter, page, after).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_finding(
        &self,
        scope: &VendorScope,
        id: Uuid,
    ) -> Result<FindingRecord, ApiError> {
        dispatch!(self, r => r.get_finding(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_finding(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        change: FindingChange,
    ) -> Result<FindingRecord, ApiError> {
        dispatch!(self, r => r.change_finding(actor, scope, id, if_match, change).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn safeguards(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestRecord, Vec<ChecklistEntry>, Vec<SafeguardRecord>), ApiError> {
        dispatch!(self, r => r.safeguards(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_safeguards(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        changes: Vec<(String, ClauseStatus)>,
    ) -> Result<(RequestRecord, Vec<ChecklistEntry>, Vec<SafeguardRecord>), ApiError> {
        dispatch!(self, r => r.record_safeguards(actor, caller, id, if_match, changes).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_contracts(
        &self,
        filter: &ContractFilter,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Paged<ContractDetail>, ApiError> {
        dispatch!(self, r => r.list_contracts(filter, today, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_contract(&self, id: Uuid) -> Result<ContractDetail, ApiError> {
        dispatch!(self, r => r.get_contract(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_contract(
        &self,
        actor: &Actor,
        fields: ContractFields,
    ) -> Result<ContractDetail, ApiError> {
        dispatch!(self, r => r.create_contract(actor, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        fields: ContractFields,
    ) -> Result<ContractDetail, ApiError> {
        dispatch!(self, r => r.update_contract(actor, id, if_match, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decommission_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        decommission: Decommission,
    ) -> Result<ContractDetail, ApiError> {
        dispatch!(self, r => r.decommission_contract(actor, id, if_match, decommission).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cancel_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        cancellation: Cancellation,
    ) -> Result<ContractDetail, ApiError> {
        dispatch!(self, r => r.cancel_contract(actor, id, if_match, cancellation).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_incidents(
        &self,
        scope: &IncidentScope,
        filter: &IncidentFilter,
        page: PageRequest,
    ) -> Result<Paged<IncidentDetail>, ApiError> {
        dispatch!(self, r => r.list_incidents(scope, filter, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_incident(
        &self,
        scope: &IncidentScope,
        id: Uuid,
    ) -> Result<IncidentDetail, ApiError> {
        dispatch!(self, r => r.get_incident(scope, id).await)
    }

    /// Records a report, checked by [`crate::workflow::incidents::plan_report`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn report_incident(
        &self,
        actor: &Actor,
        reporter: &crate::workflow::incidents::Reporter,
        new: crate::workflow::incidents::NewIncident,
    ) -> Result<IncidentDetail, ApiError> {
        dispatch!(self, r => r.report_incident(actor, reporter, new).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn step_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        step: IncidentStep,
    ) -> Result<IncidentDetail, ApiError> {
        dispatch!(self, r => r.step_incident(actor, id, if_match, step).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_incident_notice(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        notice: NewNotice,
    ) -> Result<IncidentDetail, ApiError> {
        dispatch!(self, r => r.record_incident_notice(actor, id, if_match, notice).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn hold_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        hold: bool,
        reason: &str,
    ) -> Result<IncidentDetail, ApiError> {
        dispatch!(self, r => r.hold_incident(actor, id, if_match, hold, reason).await)
    }

    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn attach_incident_evidence(
        &self,
        actor: &Actor,
        scope: &IncidentScope,
        id: Uuid,
        if_match: i64,
        kind: crate::domain::incidents::EvidenceKind,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(IncidentDetail, IncidentEvidenceRecord), ApiError> {
        dispatch!(self, r => r.attach_incident_evidence(actor, scope, id, if_match, kind, file_name, content_type, data).await)
    }

    /// A file of an incident; the read is written to the audit trail (chain of custody).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn read_incident_evidence(
        &self,
        actor: &Actor,
        scope: &IncidentScope,
        id: Uuid,
        evidence_id: Uuid,
    ) -> Result<(IncidentEvidenceRecord, Vec<u8>), ApiError> {
        dispatch!(self, r => r.read_incident_evidence(actor, scope, id, evidence_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_incident_evidence(
        &self,
        actor: &Actor,
        id: Uuid,
        evidence_id: Uuid,
    ) -> Result<(), ApiError> {
        dispatch!(self, r => r.delete_incident_evidence(actor, id, evidence_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_incidents(&self) -> Result<Vec<IncidentDetail>, ApiError> {
        dispatch!(self, r => r.open_incidents().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_orders(
        &self,
        scope: &IncidentScope,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Paged<OrderRecord>, ApiError> {
        dispatch!(self, r => r.list_orders(scope, filter, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_order(
        &self,
        scope: &IncidentScope,
        id: Uuid,
    ) -> Result<OrderRecord, ApiError> {
        dispatch!(self, r => r.get_order(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn issue_order(
        &self,
        actor: &Actor,
        new: crate::workflow::orders::NewOrder,
    ) -> Result<OrderRecord, ApiError> {
        dispatch!(self, r => r.issue_order(actor, new).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_order(
        &self,
        actor: &Actor,
        scope: &IncidentScope,
        id: Uuid,
        if_match: i64,
        change: OrderChange,
        appeal_days: u32,
    ) -> Result<OrderRecord, ApiError> {
        dispatch!(self, r => r.change_order(actor, scope, id, if_match, change, appeal_days).await)
    }

    /// Open orders: id, vendor, department, due date, status.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_orders(&self) -> Result<Vec<OpenOrder>, ApiError> {
        dispatch!(self, r => r.open_orders().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reassessment_schedule(
        &self,
        months: u32,
        only: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, NaiveDate>, ApiError> {
        dispatch!(self, r => r.reassessment_schedule(months, only).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reminder_sources(&self, today: NaiveDate) -> Result<ReminderSources, ApiError> {
        dispatch!(self, r => r.reminder_sources(today).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn insert_notifications(
        &self,
        items: Vec<NewNotification>,
        at: DateTime<Utc>,
    ) -> Result<Vec<NotificationRecord>, ApiError> {
        dispatch!(self, r => r.insert_notifications(items, at).await)
    }

    /// Fans new notifications (events and reminders) out to the outbox; returns how many.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn fan_out(&self, to: &FanOut<'_>, at: DateTime<Utc>) -> Result<usize, ApiError> {
        dispatch!(self, r => r.fan_out(to, at).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn claim_deliveries(
        &self,
        channel: &str,
        runner: &str,
        at: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, ApiError> {
        dispatch!(self, r => r.claim_deliveries(channel, runner, at, lease_until, limit).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn finish_delivery(
        &self,
        id: Uuid,
        runner: &str,
        outcome: DeliveryOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        dispatch!(self, r => r.finish_delivery(id, runner, outcome, at).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_notifications(
        &self,
        audience: &NotificationAudience,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<(Paged<NotificationRecord>, i64), ApiError> {
        dispatch!(self, r => r.list_notifications(audience, unread_only, page).await)
    }

    /// Notifications addressed to `audience`, and how many of them its reader has not marked read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn notification_counts(
        &self,
        audience: &NotificationAudience,
    ) -> Result<(i64, i64), ApiError> {
        dispatch!(self, r => r.notification_counts(audience).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_notifications_read(
        &self,
        actor: &Actor,
        audience: &NotificationAudience,
        id: Option<Uuid>,
    ) -> Result<Vec<Uuid>, ApiError> {
        dispatch!(self, r => r.mark_notifications_read(actor, audience, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_deliveries(
        &self,
        status: Option<&str>,
        channel: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<DeliveryRecord>, ApiError> {
        dispatch!(self, r => r.list_deliveries(status, channel, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn retry_delivery(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<DeliveryRecord, ApiError> {
        dispatch!(self, r => r.retry_delivery(actor, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_plan_items(
        &self,
        page: PageRequest,
    ) -> Result<Paged<PlanItemRecord>, ApiError> {
        dispatch!(self, r => r.list_plan_items(page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_plan_item(&self, id: Uuid) -> Result<PlanItemRecord, ApiError> {
        dispatch!(self, r => r.get_plan_item(id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_plan_item(
        &self,
        actor: &Actor,
        caller: &Caller,
        fields: crate::domain::budgets::PlanItemFields,
    ) -> Result<PlanItemRecord, ApiError> {
        dispatch!(self, r => r.create_plan_item(actor, caller, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_plan_item(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        fields: crate::domain::budgets::PlanItemFields,
    ) -> Result<PlanItemRecord, ApiError> {
        dispatch!(self, r => r.update_plan_item(actor, caller, id, if_match, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn load_plan_items(
        &self,
        actor: &Actor,
        caller: &Caller,
        rows: Vec<crate::sheets::budgets::PlanRow>,
    ) -> Result<(usize, usize), ApiError> {
        dispatch!(self, r => r.load_plan_items(actor, caller, rows).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_plan_items(&self) -> Result<Vec<PlanItemRecord>, ApiError> {
        dispatch!(self, r => r.all_plan_items().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_budgets(
        &self,
        scope: &Scope,
        filter: &BudgetFilter,
        page: PageRequest,
    ) -> Result<Paged<BudgetDetail>, ApiError> {
        dispatch!(self, r => r.list_budgets(scope, filter, page).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_budget(&self, scope: &Scope, id: Uuid) -> Result<BudgetDetail, ApiError> {
        dispatch!(self, r => r.get_budget(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        fiscal_year: i32,
        lines: Vec<crate::domain::budgets::LineFields>,
    ) -> Result<BudgetDetail, ApiError> {
        dispatch!(self, r => r.create_budget(actor, caller, fiscal_year, lines).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_budget_lines(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        lines: Vec<crate::domain::budgets::LineFields>,
    ) -> Result<BudgetDetail, ApiError> {
        dispatch!(self, r => r.replace_budget_lines(actor, caller, scope, id, if_match, lines).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn submit_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
    ) -> Result<BudgetDetail, ApiError> {
        dispatch!(self, r => r.submit_budget(actor, caller, scope, id, if_match).await)
    }

    #[allow(clippy::too_many_arguments)]
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn review_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        acting: crate::auth::Role,
        id: Uuid,
        if_match: i64,
        review: crate::workflow::budgets::Review,
    ) -> Result<BudgetDetail, ApiError> {
        dispatch!(self, r => r.review_budget(actor, caller, acting, id, if_match, review).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn surveillance_register(&self) -> Result<Vec<TechnologyRecord>, ApiError> {
        dispatch!(self, r => r.surveillance_register().await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn surveillance_reports(
        &self,
        year: Option<i32>,
        request_id: Option<Uuid>,
    ) -> Result<Vec<SurveillanceReportRecord>, ApiError> {
        dispatch!(self, r => r.surveillance_reports(year, request_id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_surveillance_report(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<SurveillanceReportRecord, ApiError> {
        dispatch!(self, r => r.get_surveillance_report(scope, id).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_surveillance_report(
        &self,
        actor: &Actor,
        caller: &Caller,
        request_id: Uuid,
        year: i32,
        fields: crate::workflow::surveillance::ReportFields,
    ) -> Result<SurveillanceReportRecord, ApiError> {
        dispatch!(self, r => r.create_surveillance_report(actor, caller, request_id, year, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_surveillance_report(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        fields: crate::workflow::surveillance::ReportFields,
    ) -> Result<SurveillanceReportRecord, ApiError> {
        dispatch!(self, r => r.update_surveillance_report(actor, caller, id, if_match, fields).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
        after: Option<SeqCursor>,
    ) -> Result<(Paged<AuditRecord>, Option<SeqCursor>), ApiError> {
        dispatch!(self, r => r.list_audit(filter, page, after).await)
    }

    /// Incremental: the records after the last checkpoint (`GET /audit/verify`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_audit(&self, actor: &str) -> Result<VerifyReport, ApiError> {
        dispatch!(self, r => r.verify_audit(actor).await)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_checkpoint(
        &self,
        number: i64,
    ) -> Result<Option<CheckpointSummary>, ApiError> {
        dispatch!(self, r => r.audit_checkpoint(number).await)
    }

    /// Every record and checkpoint (`procurement-review audit verify`); `progress` hears (done, to do).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn verify_audit_full(
        &self,
        actor: &str,
        progress: &mut (dyn FnMut(i64, i64) + Send),
    ) -> Result<VerifyReport, ApiError> {
        dispatch!(self, r => r.verify_audit_full(actor, progress).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern(" Ab%_c "), "%ab\\%\\_c%");
    }
}
