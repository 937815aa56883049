//! Notifications for the signed-in user, and the webhook outbox for admins.

pub use crate::domain::webhooks::{DeliveryChannel, DeliveryStatus};
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::PageInfo;
use super::me::ApiTags;
use crate::auth::{Admin, AnyRole, Auth, Role};
use crate::domain::PageRequest;
use crate::error::ApiError;
use crate::store::{DeliveryRecord, NotificationAudience, NotificationRecord, Store};

#[derive(Debug, Object)]
pub struct NotificationView {
    pub id: Uuid,
    /// Reminders: `questionnaire_due`, `questionnaire_overdue`, `remediation_due`, `remediation_overdue`,
    /// `risk_acceptance_expiring`, `risk_acceptance_expired`, `reassessment_due`, `reassessment_overdue`,
    /// `contract_ending`, `decision_escalation` and the incident, order and surveillance report reminders. Events:
    /// `invitation_sent`, `request_submitted`, `request_approved`, `request_denied`, `request_changes_requested`,
    /// `request_reopened`, `assessment_submitted`, `assessment_returned`, `assessment_accepted`, `finding_raised`,
    /// `risk_accepted`, `duplicate_exception_requested`, `duplicate_exception_decided`, `duplicate_flagged` (to
    /// the CIO office, the catalogue's owner: a submitted request with a likely duplicate or a possible overlap
    /// at the policy's notice level, each named).
    pub kind: String,
    /// `assessment`, `finding`, `vendor`, `contract`, `request`, `vendor_invitation`, `incident`,
    /// `remediation_order` or `surveillance_technology`.
    pub subject_type: String,
    pub subject_id: String,
    pub message: String,
    /// A reminder's figures (dates, days left); an event's `event` and `object` (the object named in words).
    pub payload: serde_json::Value,
    pub recipient_role: String,
    /// The department whose buyers it is addressed to, when it concerns one department's purchase.
    pub recipient_department: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the caller marked it read; absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRecord> for NotificationView {
    fn from(n: NotificationRecord) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            subject_type: n.subject_type,
            subject_id: n.subject_id,
            message: n.message,
            payload: n.payload.0,
            recipient_role: n.recipient_role,
            recipient_department: n.recipient_dept,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub page: PageInfo,
    /// The caller's unread notifications in all pages.
    pub unread: i64,
}

#[derive(Debug, Object)]
pub struct ReadResult {
    /// The notifications this call marked read (one already read is not marked again).
    pub marked: Vec<Uuid>,
    /// The caller's unread notifications left.
    pub unread: i64,
}

/// Who the caller is for notifications: the role they act under, narrowed to their department (buyers), their
/// vendor (vendors) and, for an invitation token, the assessments it reaches; and themselves as the reader
/// (their subject's normalised key, so that `BUYER-ISD` and `buyer-isd` share their read marks).
fn audience_of(auth: &Auth<AnyRole>) -> NotificationAudience {
    NotificationAudience {
        role: auth.role.as_str().to_string(),
        department: auth.department.clone().filter(|_| auth.role == Role::Buyer),
        vendor: auth.vendor.filter(|_| auth.role == Role::Vendor),
        reader: auth.subject_key(),
        invitation: auth.grant.clone().filter(|_| auth.role == Role::Vendor),
    }
}

async fn read_result(
    store: &Store,
    audience: &NotificationAudience,
    marked: Vec<Uuid>,
) -> Result<Json<ReadResult>, ApiError> {
    let (_, unread) = store.notification_counts(audience).await?;
    Ok(Json(ReadResult { marked, unread }))
}

#[derive(Debug, Object)]
pub struct DeliveryView {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub channel: DeliveryChannel,
    /// The webhook URL, or `mailto:ADDRESS` for an e-mail.
    pub url: String,
    /// An e-mail's Message-ID, the same on every attempt.
    pub message_id: Option<String>,
    /// An e-mail held for its address's daily digest.
    pub digest: bool,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(d: DeliveryRecord) -> Self {
        DeliveryView {
            id: d.id,
            notification_id: d.notification_id,
            channel: d.channel,
            url: d.url,
            message_id: d.message_id,
            digest: d.digest,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    pub page: PageInfo,
}

pub struct NotificationsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Notifications")]
impl NotificationsApi {
    /// List my notifications
    ///
    /// Those addressed to the role the caller acts under; a buyer sees those for their department, a vendor only
    /// its own. Newest first, each with the caller's read mark; `unread=true` lists only the unread.
    #[oai(
        path = "/notifications",
        method = "get",
        operation_id = "listNotifications"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        /// Only those the caller has not marked read.
        unread: Query<Option<bool>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<NotificationPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let audience = audience_of(&auth);
        let (found, unread) = store
            .list_notifications(&audience, unread.0.unwrap_or(false), page)
            .await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(NotificationPage {
            items: found
                .items
                .into_iter()
                .map(NotificationView::from)
                .collect(),
            page: info,
            unread,
        }))
    }

    /// Mark a notification read
    ///
    /// For the caller only: others it is addressed to keep their own marks. Marking one already read changes
    /// nothing. 404 for a notification not addressed to the caller.
    #[oai(
        path = "/notifications/:id/read",
        method = "post",
        operation_id = "markNotificationRead"
    )]
    async fn mark_read(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<Json<ReadResult>, ApiError> {
        let audience = audience_of(&auth);
        let marked = store
            .mark_notifications_read(&auth.actor(), &audience, Some(id.0))
            .await?;
        read_result(&store, &audience, marked).await
    }

    /// Mark all my notifications read
    ///
    /// Every notification addressed to the caller, for the caller only.
    #[oai(
        path = "/notifications/read",
        method = "post",
        operation_id = "markAllNotificationsRead"
    )]
    async fn mark_all_read(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
    ) -> Result<Json<ReadResult>, ApiError> {
        let audience = audience_of(&auth);
        let marked = store
            .mark_notifications_read(&auth.actor(), &audience, None)
            .await?;
        read_result(&store, &audience, marked).await
    }

    /// List deliveries (webhooks and e-mail)
    ///
    /// Admins: the outbox, oldest first; `status=dead` lists the deliveries that failed every attempt,
    /// `channel=email` the e-mails only.
    #[oai(
        path = "/webhooks/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn deliveries(
        &self,
        store: Data<&Store>,
        _auth: Auth<Admin>,
        status: Query<Option<DeliveryStatus>>,
        /// Only the deliveries of this channel.
        channel: Query<Option<DeliveryChannel>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<DeliveryPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let found = store.list_deliveries(status.0, channel.0, page).await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        Ok(Json(DeliveryPage {
            items: found.items.into_iter().map(DeliveryView::from).collect(),
            page: info,
        }))
    }

    /// Retry a dead-lettered delivery
    ///
    /// Admins: puts the delivery (a webhook POST or an e-mail) back in the outbox with a fresh count of
    /// attempts; the next pass of the job runner sends it, an e-mail with the Message-ID it had. 409 unless it is
    /// dead.
    #[oai(
        path = "/webhooks/deliveries/:id/retry",
        method = "post",
        operation_id = "retryWebhookDelivery"
    )]
    async fn retry(
        &self,
        store: Data<&Store>,
        auth: Auth<Admin>,
        id: Path<Uuid>,
    ) -> Result<Json<DeliveryView>, ApiError> {
        Ok(Json(
            store.retry_delivery(&auth.actor(), id.0).await?.into(),
        ))
    }
}
