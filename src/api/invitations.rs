use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::PageInfo;
use super::me::ApiTags;
use crate::auth::{Auth, Permission, Role, Staff, Verifier};
use crate::config::Config;
use crate::domain::PageRequest;
use crate::error::{ApiError, FieldError};
use crate::store::{InvitationRecord, NewInvitation, Store};

/// Buyers and security analysts bring vendors in; admins may too.
pub struct Inviter;
impl Permission for Inviter {
    const ROLES: &'static [Role] = &[Role::Buyer, Role::SecurityAnalyst, Role::Admin];
}

#[derive(Debug, Object)]
pub struct InvitationInput {
    /// The request whose questionnaires the vendor is invited to answer. It must be this vendor's; a buyer
    /// invites only for their own department's requests (another department's answers 404).
    pub request_id: Uuid,
    /// Only these assessments of the request (default: every assessment of the request, including those its
    /// route adds later).
    pub assessment_ids: Option<Vec<Uuid>>,
    pub contact_email: String,
    pub contact_name: Option<String>,
    /// Days the access lasts (default from configuration, 30; at most 90).
    pub days: Option<u32>,
}

#[derive(Debug, Object)]
pub struct InvitationView {
    pub id: Uuid,
    pub vendor_id: Uuid,
    /// The request it reaches (absent only for invitations made before invitations named a request; their
    /// tokens are refused).
    pub request_id: Option<Uuid>,
    /// The assessments of the request it names; empty when it reaches all of them.
    pub assessment_ids: Vec<Uuid>,
    pub contact_email: String,
    pub contact_name: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    /// Why the service revoked it (its request was withdrawn, denied or closed).
    pub revoke_reason: Option<String>,
}

impl From<InvitationRecord> for InvitationView {
    fn from(r: InvitationRecord) -> Self {
        InvitationView {
            id: r.id,
            vendor_id: r.vendor_id,
            request_id: r.request_id,
            assessment_ids: r.assessment_ids,
            contact_email: r.contact_email,
            contact_name: r.contact_name,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            revoked_by: r.revoked_by,
            revoke_reason: r.revoke_reason,
        }
    }
}

#[derive(Debug, Object)]
pub struct InvitationPage {
    pub items: Vec<InvitationView>,
    pub page: PageInfo,
}

#[derive(Debug, Object)]
pub struct InvitationIssued {
    pub invitation: InvitationView,
    /// The vendor's bearer token: shown once, never stored. It reaches only the invitation's request (or named
    /// assessments): their answers, evidence, workbooks, findings, reviews and reminders; everything else of the
    /// vendor's answers 404. Until e-mail delivery exists it comes back to the inviter, to pass on.
    pub token: String,
    /// A link to send to the contact: it opens the vendor portal of the web console, which exchanges the token
    /// for a session once and takes it out of the address bar.
    pub link: String,
}

#[derive(ApiResponse)]
pub enum InvitationCreated {
    #[oai(status = 201)]
    Created(Json<InvitationIssued>),
}

pub struct InvitationsApi;

/// A buyer acts on the invitations of their own department's requests only; other roles on any.
fn buyer_department<P: Permission>(auth: &Auth<P>) -> Option<String> {
    match auth.role {
        Role::Buyer => auth.department.clone(),
        _ => None,
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Registry")]
impl InvitationsApi {
    /// Invite a vendor contact
    ///
    /// Buyers (for their own department's requests), security analysts and admins (for any). Mints a vendor
    /// token that reaches one request's assessments — or only the `assessment_ids` named — valid for 30 days by
    /// default and revocable; the answer carries it and a link to send. No account is needed. The request must be
    /// this vendor's (422 naming `request_id`); another department's request answers 404 to a buyer, like one
    /// that does not exist; a withdrawn or denied request answers 409. Each invitation is separate: a vendor
    /// invited to two requests holds two tokens, each reaching its own request. Whatever the vendor does with the
    /// token is audited with the invitation and the inviter. Revoked automatically when the request is closed.
    #[oai(
        path = "/vendors/:id/invitations",
        method = "post",
        operation_id = "inviteVendor"
    )]
    async fn invite(
        &self,
        store: Data<&Store>,
        verifier: Data<&Arc<Verifier>>,
        config: Data<&Arc<Config>>,
        auth: Auth<Inviter>,
        id: Path<Uuid>,
        body: Json<InvitationInput>,
    ) -> Result<InvitationCreated, ApiError> {
        let email = body.contact_email.trim().to_string();
        let mut errors = Vec::new();
        let valid_email = email.chars().count() <= 254
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
            && !email.contains(char::is_whitespace);
        if !valid_email {
            errors.push(FieldError::new(
                "contact_email",
                "must be an e-mail address",
            ));
        }
        let days = body.days.unwrap_or(config.invitation_days);
        if !(1..=90).contains(&days) {
            errors.push(FieldError::new("days", "must be from 1 to 90"));
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let expires_at = crate::domain::now() + chrono::Duration::days(days as i64);
        let name = body
            .contact_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let inviter_department = buyer_department(&auth);
        let record = store
            .create_invitation(
                &auth.actor(),
                NewInvitation {
                    vendor_id: id.0,
                    request_id: body.request_id,
                    assessment_ids: body.assessment_ids.clone(),
                    inviter_department,
                    contact_email: email.clone(),
                    contact_name: name.map(str::to_string),
                    expires_at,
                },
            )
            .await?;
        let token = verifier
            .mint_invitation(&crate::auth::InvitationTerms {
                id: record.id,
                vendor: id.0,
                contact: &email,
                issued_at: record.created_at,
                expires_at: record.expires_at,
            })
            .map_err(ApiError::Internal)?;
        let link = crate::domain::mail::invitation_link(&config.public_url, &token);
        Ok(InvitationCreated::Created(Json(InvitationIssued {
            invitation: record.into(),
            token,
            link,
        })))
    }

    /// A vendor's invitations
    ///
    /// Staff (a buyer sees those of their department's requests). Newest first, with the request (and
    /// assessments) each reaches; 404 for a vendor that does not exist.
    #[oai(
        path = "/vendors/:id/invitations",
        method = "get",
        operation_id = "listInvitations"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        id: Path<Uuid>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<InvitationPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let found = store
            .list_invitations(id.0, buyer_department(&auth).as_deref(), page)
            .await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(InvitationPage {
            items: found.items.into_iter().map(InvitationView::from).collect(),
            page: info,
        }))
    }

    /// Revoke an invitation
    ///
    /// Buyers (their department's requests' invitations; others answer 404), security analysts and admins.
    /// Its token answers 401 from then on; 409 if it is already revoked.
    #[oai(
        path = "/vendors/:id/invitations/:invitation_id/revoke",
        method = "post",
        operation_id = "revokeInvitation"
    )]
    async fn revoke(
        &self,
        store: Data<&Store>,
        auth: Auth<Inviter>,
        id: Path<Uuid>,
        invitation_id: Path<Uuid>,
    ) -> Result<Json<InvitationView>, ApiError> {
        Ok(Json(
            store
                .revoke_invitation(
                    &auth.actor(),
                    id.0,
                    invitation_id.0,
                    buyer_department(&auth).as_deref(),
                )
                .await?
                .into(),
        ))
    }
}
