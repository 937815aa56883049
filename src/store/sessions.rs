// Console sign-in links and sessions. Included by both backends as a submodule, like catalog.rs.

use uuid::Uuid;

use crate::domain::now;
use crate::error::ApiError;
use crate::store::{Actor, LoginLinkRecord, NewLoginLink, NewSession, SessionRecord, to_json};

async fn insert_session(
    tx: &mut Tx,
    actor: &Actor,
    new: &NewSession,
) -> Result<SessionRecord, ApiError> {
    let created: SessionRecord = sqlx::query_as(
        "INSERT INTO console_sessions (id, token_hash, csrf_token, subject, name, roles, department, vendor_id, \
         invitation_id, method, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(&new.token_hash)
    .bind(&new.csrf_token)
    .bind(&new.subject)
    .bind(&new.name)
    .bind(&new.roles)
    .bind(&new.department)
    .bind(new.vendor_id)
    .bind(new.invitation_id)
    .bind(&new.method)
    .bind(now())
    .bind(new.expires_at)
    .fetch_one(&mut **tx)
    .await?;
    audit(
        tx,
        actor,
        "console.signed_in",
        "console_session",
        &created.id.to_string(),
        None,
        Some(to_json(&created)),
    )
    .await?;
    Ok(created)
}

impl Repo {
    pub async fn create_login_link(
        &self,
        actor: &Actor,
        new: NewLoginLink,
    ) -> Result<LoginLinkRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let created: LoginLinkRecord = sqlx::query_as(
            "INSERT INTO console_login_links (id, code_hash, subject, role, department, vendor_id, created_by, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(&new.code_hash)
        .bind(&new.subject)
        .bind(&new.role)
        .bind(&new.department)
        .bind(new.vendor_id)
        .bind(&actor.subject)
        .bind(now())
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "console.login_link_issued",
            "console_login_link",
            &created.id.to_string(),
            None,
            Some(to_json(&created)),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Uses the link whose code hashes to `code_hash` once: marks it used and opens the session `session`
    /// describes (its subject, role, department and vendor are the link's). A link that is unknown, used or
    /// expired opens nothing.
    pub async fn redeem_login_link(
        &self,
        code_hash: &str,
        mut session: NewSession,
    ) -> Result<SessionRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let link: LoginLinkRecord = sqlx::query_as(concat!(
            "SELECT * FROM console_login_links WHERE code_hash = $1",
            for_update!()
        ))
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this sign-in link is not known"))?;
        if link.used_at.is_some() {
            return Err(ApiError::unauthorized(
                "this sign-in link has been used already; ask for a new one",
            ));
        }
        let at = now();
        if link.expires_at <= at {
            return Err(ApiError::unauthorized(
                "this sign-in link has expired; ask for a new one",
            ));
        }
        let used: LoginLinkRecord =
            sqlx::query_as("UPDATE console_login_links SET used_at = $2 WHERE id = $1 RETURNING *")
                .bind(link.id)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
        let actor = Actor {
            subject: link.subject.clone(),
            role: link.role.clone(),
            request_id: None,
            invitation: None,
        };
        audit(
            &mut tx,
            &actor,
            "console.login_link_used",
            "console_login_link",
            &link.id.to_string(),
            Some(to_json(&link)),
            Some(to_json(&used)),
        )
        .await?;
        session.subject = link.subject;
        session.roles = link.role;
        session.department = link.department;
        session.vendor_id = link.vendor_id;
        session.invitation_id = None;
        let created = insert_session(&mut tx, &actor, &session).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Opens a session for someone already authenticated (a vendor's invitation, an identity provider).
    pub async fn open_session(
        &self,
        actor: &Actor,
        session: NewSession,
    ) -> Result<SessionRecord, ApiError> {
        let mut tx = begin(&self.writer).await?;
        let created = insert_session(&mut tx, actor, &session).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The session whose cookie hashes to `token_hash`, whatever its state (the caller checks expiry and
    /// revocation).
    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>, ApiError> {
        Ok(
            sqlx::query_as("SELECT * FROM console_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Ends a session (sign-out). Ending one already ended changes nothing and is not audited again.
    pub async fn revoke_session(&self, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
        let mut tx = begin(&self.writer).await?;
        let current: Option<SessionRecord> = sqlx::query_as(concat!(
            "SELECT * FROM console_sessions WHERE id = $1",
            for_update!()
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current.filter(|s| s.revoked_at.is_none()) else {
            return Ok(());
        };
        let updated: SessionRecord =
            sqlx::query_as("UPDATE console_sessions SET revoked_at = $2 WHERE id = $1 RETURNING *")
                .bind(id)
                .bind(now())
                .fetch_one(&mut *tx)
                .await?;
        audit(
            &mut tx,
            actor,
            "console.signed_out",
            "console_session",
            &id.to_string(),
            Some(to_json(&current)),
            Some(to_json(&updated)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
