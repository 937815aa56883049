use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::me::ApiTags;
use crate::auth::{Auth, Permission, Role, Staff, Verifier};
use crate::config::Config;
use crate::error::{ApiError, FieldError};
use crate::store::{InvitationRecord, Store};

/// Buyers and security analysts bring vendors in; admins may too.
pub struct Inviter;
impl Permission for Inviter {
    const ROLES: &'static [Role] = &[Role::Buyer, Role::SecurityAnalyst, Role::Admin];
}

#[derive(Debug, Object)]
pub struct InvitationInput {
    pub contact_email: String,
    pub contact_name: Option<String>,
    /// Days the access lasts (default from configuration, 30; at most 90).
    pub days: Option<u32>,
}

#[derive(Debug, Object)]
pub struct InvitationView {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub contact_email: String,
    pub contact_name: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl From<InvitationRecord> for InvitationView {
    fn from(r: InvitationRecord) -> Self {
        InvitationView {
            id: r.id,
            vendor_id: r.vendor_id,
            contact_email: r.contact_email,
            contact_name: r.contact_name,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            revoked_by: r.revoked_by,
        }
    }
}

#[derive(Debug, Object)]
pub struct InvitationIssued {
    pub invitation: InvitationView,
    /// The vendor's bearer token: shown once, never stored.
    pub token: String,
    /// A link to send to the contact.
    pub link: String,
}

#[derive(ApiResponse)]
pub enum InvitationCreated {
    #[oai(status = 201)]
    Created(Json<InvitationIssued>),
}

pub struct InvitationsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Registry")]
impl InvitationsApi {
    /// Invite a vendor contact
    ///
    /// Buyers, security analysts and admins. Mints a vendor token scoped to this vendor's assessments, valid
    /// for 30 days by default and revocable; the answer carries it and a link to send. No account is needed.
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
        let valid_email = email.len() <= 254
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
        let record = store
            .create_invitation(&auth.actor(), id.0, &email, name, expires_at)
            .await?;
        let token = verifier
            .mint_invitation(record.id, id.0, &email, expires_at)
            .map_err(ApiError::Internal)?;
        let link = format!(
            "{}/docs#vendor-access?token={token}",
            config.public_url.trim_end_matches('/')
        );
        Ok(InvitationCreated::Created(Json(InvitationIssued {
            invitation: record.into(),
            token,
            link,
        })))
    }

    /// A vendor's invitations
    #[oai(
        path = "/vendors/:id/invitations",
        method = "get",
        operation_id = "listInvitations"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<InvitationView>>, ApiError> {
        Ok(Json(
            store
                .list_invitations(id.0)
                .await?
                .into_iter()
                .map(InvitationView::from)
                .collect(),
        ))
    }

    /// Revoke an invitation
    ///
    /// Its token answers 401 from then on.
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
                .revoke_invitation(&auth.actor(), id.0, invitation_id.0)
                .await?
                .into(),
        ))
    }
}
