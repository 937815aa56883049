// Events and the fan-out of notifications to the outbox (issue #18). Included by both backends as a submodule,
// like jobs.rs.
//
// A change that someone waits to hear of records its notifications with `record_event`, in the change's own
// transaction, so an event is never lost nor made for a change that rolled back. The job runner then fans each
// new notification out (`fan_out`): one outbox row per webhook URL and one per e-mail address, again in one
// transaction per notification.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::mail::{Event, Named, Parties, audiences, event_message};
use crate::domain::questionnaires::Severity;
use crate::domain::webhooks::DeliveryChannel;
use crate::error::ApiError;
use crate::store::{AssessmentRecord, FanOut, FindingRecord, NotificationRecord, RequestRecord};

/// The object an event or reminder is about, named in words (the link is made at fan-out).
async fn describe_on(
    conn: &mut <Db as sqlx::Database>::Connection,
    subject_type: &str,
    subject_id: &str,
) -> Result<Named, ApiError> {
    let mut named = Named {
        subject_type: subject_type.to_string(),
        subject_id: subject_id.to_string(),
        name: format!("{} {subject_id}", subject_type.replace('_', " ")),
        ..Named::default()
    };
    let Ok(id) = Uuid::parse_str(subject_id) else {
        return Ok(named);
    };
    match subject_type {
        "request" | "surveillance_technology" => {
            let row: Option<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT r.title, r.department_code, v.legal_name FROM requests r \
                 LEFT JOIN vendors v ON v.id = r.vendor_id WHERE r.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some((title, department, vendor)) = row {
                named.name = format!("Request \"{title}\"");
                named.facts.push(department);
                named.facts.extend(vendor.map(|v| format!("from {v}")));
            }
        }
        "assessment" => {
            let row: Option<(String, String, chrono::NaiveDate, String)> = sqlx::query_as(
                "SELECT a.template_id, v.legal_name, a.due_date, r.title FROM assessments a \
                 JOIN vendors v ON v.id = a.vendor_id JOIN requests r ON r.id = a.request_id WHERE a.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some((template, vendor, due, request)) = row {
                named.name = format!("Questionnaire \"{template}\" of {vendor}");
                named.facts.push(format!("for \"{request}\""));
                named.facts.push(format!("due {due}"));
            }
        }
        "finding" => {
            let row: Option<(String, Severity, String, Option<chrono::NaiveDate>)> =
                sqlx::query_as(
                    "SELECT f.title, f.severity, v.legal_name, f.remediation_due FROM findings f \
                     JOIN vendors v ON v.id = f.vendor_id WHERE f.id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some((title, severity, vendor, due)) = row {
                named.name = format!("Finding \"{title}\"");
                named.facts.push(format!("{}, {vendor}", severity.as_str()));
                named
                    .facts
                    .extend(due.map(|d| format!("remediation due {d}")));
            }
        }
        "contract" => {
            let row: Option<(String, String, chrono::NaiveDate)> = sqlx::query_as(
                "SELECT contract_number, title, end_date FROM contracts WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some((number, title, end)) = row {
                named.name = format!("Contract {number} \"{title}\"");
                named.facts.push(format!("ends {end}"));
            }
        }
        "vendor_invitation" => {
            let row: Option<(String, Option<String>, DateTime<Utc>)> = sqlx::query_as(
                "SELECT v.legal_name, r.title, i.expires_at FROM vendor_invitations i \
                 JOIN vendors v ON v.id = i.vendor_id LEFT JOIN requests r ON r.id = i.request_id WHERE i.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some((vendor, request, expires)) = row {
                named.name = format!("Invitation for {vendor}");
                named.facts.extend(request.map(|r| format!("to \"{r}\"")));
                named
                    .facts
                    .push(format!("valid until {}", expires.date_naive()));
            }
        }
        "vendor" => {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT legal_name FROM vendors WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some((name,)) = row {
                named.name = format!("Vendor {name}");
            }
        }
        _ => {}
    }
    Ok(named)
}

/// Records the notifications of `event` about an object, one per audience, in the caller's transaction.
/// `occurrence` tells this happening of the event from others about the same object (the object's new version):
/// recording the same one twice makes nothing new.
pub(super) async fn record_event(
    tx: &mut Tx,
    event: Event,
    subject_type: &str,
    subject_id: Uuid,
    occurrence: &str,
    parties: &Parties,
    mail_to: Option<&str>,
) -> Result<(), ApiError> {
    let noted = Noted {
        occurrence,
        mail_to,
        detail: None,
    };
    record_noted(tx, event, subject_type, subject_id, parties, noted).await
}

/// Which happening of an event, whose vendor address to copy, and what to add to the message.
struct Noted<'a> {
    occurrence: &'a str,
    mail_to: Option<&'a str>,
    detail: Option<&'a str>,
}

/// [`record_event`], with `detail` added to the message after a colon.
async fn record_noted(
    tx: &mut Tx,
    event: Event,
    subject_type: &str,
    subject_id: Uuid,
    parties: &Parties,
    noted: Noted<'_>,
) -> Result<(), ApiError> {
    let Noted {
        occurrence,
        mail_to,
        detail,
    } = noted;
    let subject = subject_id.to_string();
    let named = describe_on(tx, subject_type, &subject).await?;
    let mut message = event_message(event, &named);
    if let Some(detail) = detail {
        message = format!("{message}: {detail}");
    }
    let at = now();
    for audience in audiences(event, parties) {
        let mut key = format!(
            "{}:{subject}:{occurrence}:{}",
            event.as_str(),
            audience.role.as_str()
        );
        if let Some(department) = &audience.department {
            key.push_str(&format!(":{department}"));
        }
        let mut payload = serde_json::json!({"event": event.as_str(), "object": named});
        if let Some(to) = mail_to.filter(|_| audience.role == crate::auth::Role::Vendor) {
            payload["mail_to"] = serde_json::json!([to]);
        }
        sqlx::query(
            "INSERT INTO notifications (id, recipient_role, recipient_dept, recipient_vendor, kind, subject_type, \
             subject_id, dedup_key, message, payload, created_at, fanned_out) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(Uuid::new_v4())
        .bind(audience.role.as_str())
        .bind(audience.department.as_deref())
        .bind(audience.vendor)
        .bind(event.as_str())
        .bind(subject_type)
        .bind(&subject)
        .bind(&key)
        .bind(&message)
        .bind(Json(&payload))
        .bind(at)
        .bind(false)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records the events a request's change is, if any (see [`crate::domain::mail::request_events`]): to the
/// department's buyers and the deciders of the request's steps.
pub(super) async fn request_changed(
    tx: &mut Tx,
    action: &str,
    before: &RequestRecord,
    after: &RequestRecord,
) -> Result<(), ApiError> {
    let events =
        crate::domain::mail::request_events(action, before.status.as_str(), after.status.as_str());
    if events.is_empty() {
        return Ok(());
    }
    let parties = Parties {
        department: Some(after.department_code.clone()),
        vendor: None,
        deciders: request_deciders(tx, after.id, after.submission).await?,
    };
    let occurrence = format!("v{}", after.version);
    for event in events {
        record_event(tx, event, "request", after.id, &occurrence, &parties, None).await?;
    }
    // A new submitted version that may duplicate a central service or another department's purchase: the CIO
    // office, which owns the catalogue, hears of it with every match named.
    let flag = after
        .route
        .as_ref()
        .filter(|_| after.submission != before.submission)
        .and_then(|route| crate::domain::mail::duplicate_flag(&route.0));
    if let Some(detail) = flag {
        let noted = Noted {
            occurrence: &occurrence,
            mail_to: None,
            detail: Some(&detail),
        };
        let flagged = Event::DuplicateFlagged;
        record_noted(tx, flagged, "request", after.id, &parties, noted).await?;
    }
    Ok(())
}

/// Records an event about a vendor's questionnaire, at its new version: to the vendor (and whoever else the
/// event reaches).
pub(super) async fn assessment_event(
    tx: &mut Tx,
    event: Event,
    assessment: &AssessmentRecord,
) -> Result<(), ApiError> {
    let (id, vendor, version) = (assessment.id, assessment.vendor_id, assessment.version);
    vendor_work_event(tx, event, "assessment", id, vendor, version).await
}

/// Records an event about a vendor's finding, at its new version.
pub(super) async fn finding_event(
    tx: &mut Tx,
    event: Event,
    finding: &FindingRecord,
) -> Result<(), ApiError> {
    let (id, vendor, version) = (finding.id, finding.vendor_id, finding.version);
    vendor_work_event(tx, event, "finding", id, vendor, version).await
}

async fn vendor_work_event(
    tx: &mut Tx,
    event: Event,
    subject_type: &str,
    id: Uuid,
    vendor: Uuid,
    version: i64,
) -> Result<(), ApiError> {
    let parties = Parties {
        vendor: Some(vendor),
        ..Parties::default()
    };
    let occurrence = format!("v{version}");
    record_event(tx, event, subject_type, id, &occurrence, &parties, None).await
}

/// The roles that decide the steps of a request's current submission.
async fn request_deciders(
    tx: &mut Tx,
    request_id: Uuid,
    submission: i32,
) -> Result<Vec<crate::auth::Role>, ApiError> {
    let kinds: Vec<(String,)> = sqlx::query_as(
        "SELECT kind FROM route_steps WHERE request_id = $1 AND submission = $2 ORDER BY position",
    )
    .bind(request_id)
    .bind(submission)
    .fetch_all(&mut **tx)
    .await?;
    let kinds: Vec<String> = kinds.into_iter().map(|(k,)| k).collect();
    Ok(crate::domain::mail::deciders(&kinds))
}

/// The e-mail addresses of a vendor's contacts.
async fn vendor_addresses(
    conn: &mut <Db as sqlx::Database>::Connection,
    vendor: Uuid,
) -> Result<Vec<String>, ApiError> {
    let row: Option<(Json<Vec<crate::domain::registry::Contact>>,)> =
        sqlx::query_as("SELECT contacts FROM vendors WHERE id = $1")
            .bind(vendor)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row
        .map(|(contacts,)| contacts.0.into_iter().map(|c| c.email).collect())
        .unwrap_or_default())
}

impl Repo {
    /// Fans the notifications not yet fanned out into the outbox: per notification, in one transaction, a webhook
    /// row per URL and an e-mail row per address. Returns how many notifications it fanned out. Two runners may
    /// race: the one whose update marks the notification does the work.
    pub async fn fan_out(&self, to: &FanOut<'_>, at: DateTime<Utc>) -> Result<usize, ApiError> {
        // People who signed in through the identity provider and gave an address, recently enough to be reached.
        let since = at - chrono::Duration::days(crate::domain::mail::PEOPLE_DAYS);
        let people: Vec<crate::domain::mail::SignedInPerson> = if to.mail.is_some() {
            let rows: Vec<crate::store::IdentityPerson> =
                sqlx::query_as("SELECT * FROM identity_people WHERE last_signed_in > $1")
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?;
            rows.into_iter()
                .map(|p| crate::domain::mail::SignedInPerson {
                    email: p.email,
                    roles: p
                        .roles
                        .split(' ')
                        .filter_map(|role| crate::auth::Role::try_from(role).ok())
                        .collect(),
                    department: p.department,
                    last_signed_in: p.last_signed_in,
                })
                .collect()
        } else {
            Vec::new()
        };
        let waiting: Vec<NotificationRecord> = sqlx::query_as(
            "SELECT * FROM notifications WHERE fanned_out = $1 ORDER BY created_at, id LIMIT 1000",
        )
        .bind(false)
        .fetch_all(&self.pool)
        .await?;
        let mut done = 0;
        for notification in waiting {
            let mut tx = begin(&self.writer).await?;
            let marked = sqlx::query(
                "UPDATE notifications SET fanned_out = $2 WHERE id = $1 AND fanned_out = $3",
            )
            .bind(notification.id)
            .bind(true)
            .bind(false)
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() != 1 {
                tx.rollback().await?;
                continue;
            }
            let mut named: Named = match notification.payload.0.get("object") {
                Some(object) => serde_json::from_value(object.clone()).unwrap_or_default(),
                None => {
                    describe_on(
                        &mut tx,
                        &notification.subject_type,
                        &notification.subject_id,
                    )
                    .await?
                }
            };
            named.link = crate::domain::mail::link(
                to.public_url,
                &notification.subject_type,
                &notification.subject_id,
            );
            let body = serde_json::to_string(&serde_json::json!({
                "id": notification.id,
                "kind": notification.kind,
                "subject_type": notification.subject_type,
                "subject_id": notification.subject_id,
                "object": named,
                "recipient_role": notification.recipient_role,
                "recipient_department": notification.recipient_dept,
                "message": notification.message,
                "payload": notification.payload.0,
                "created_at": notification.created_at,
            }))
            .map_err(|e| ApiError::Internal(e.into()))?;
            for url in to.webhook_urls {
                let row = Outbox {
                    id: Uuid::new_v4(),
                    notification: notification.id,
                    url,
                    body: &body,
                    channel: DeliveryChannel::Webhook,
                    message_id: None,
                    digest: false,
                    due: at,
                };
                insert_outbox(&mut tx, &row, at).await?;
            }
            if let Some(mail) = &to.mail {
                let contacts = match (
                    notification.payload.0.get("mail_to"),
                    notification.recipient_vendor,
                ) {
                    (Some(list), _) => serde_json::from_value(list.clone()).unwrap_or_default(),
                    (None, Some(vendor)) => vendor_addresses(&mut tx, vendor).await?,
                    (None, None) => Vec::new(),
                };
                // An invitation's own e-mail (to the invited contact) carries the portal link; its token is
                // minted when the message leaves, never kept here.
                let invitation = (notification.subject_type == "vendor_invitation"
                    && notification.recipient_role == crate::auth::Role::Vendor.as_str())
                .then_some(notification.subject_id.as_str());
                let link = match invitation {
                    Some(_) => crate::domain::mail::invitation_link(
                        to.public_url,
                        crate::domain::mail::INVITATION_TOKEN_SLOT,
                    ),
                    None => crate::domain::mail::link_for(
                        to.public_url,
                        &notification.recipient_role,
                        &notification.subject_type,
                        &notification.subject_id,
                    ),
                };
                let named = Named {
                    link,
                    ..named.clone()
                };
                let rendered = crate::domain::mail::render(&notification.message, &named);
                for address in crate::domain::mail::addresses(
                    mail,
                    &notification.recipient_role,
                    notification.recipient_dept.as_deref(),
                    &contacts,
                    &people,
                    at,
                ) {
                    let digest = crate::domain::mail::wants_digest(mail, &address);
                    let due = if digest {
                        crate::domain::mail::next_digest_at(at, mail.digest_hour_utc)
                    } else {
                        at
                    };
                    let id = Uuid::new_v4();
                    let message_id =
                        crate::domain::mail::message_id(id, mail.from.as_deref().unwrap_or(""));
                    let body = serde_json::to_string(&serde_json::json!({
                        "to": address, "message_id": message_id, "mail": rendered, "invitation": invitation,
                    }))
                    .map_err(|e| ApiError::Internal(e.into()))?;
                    let url = format!("mailto:{address}");
                    let row = Outbox {
                        id,
                        notification: notification.id,
                        url: &url,
                        body: &body,
                        channel: DeliveryChannel::Email,
                        message_id: Some(&message_id),
                        digest,
                        due,
                    };
                    insert_outbox(&mut tx, &row, at).await?;
                }
            }
            tx.commit().await?;
            done += 1;
        }
        Ok(done)
    }
}

/// One outbox row: a webhook POST or an e-mail.
struct Outbox<'a> {
    id: Uuid,
    notification: Uuid,
    url: &'a str,
    body: &'a str,
    channel: DeliveryChannel,
    message_id: Option<&'a str>,
    digest: bool,
    /// When it is first tried: now, or at the next digest.
    due: DateTime<Utc>,
}

async fn insert_outbox(tx: &mut Tx, row: &Outbox<'_>, at: DateTime<Utc>) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, notification_id, url, body, status, attempts, next_attempt_at, \
         created_at, updated_at, channel, message_id, digest) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $6, $7, $8, $9) ON CONFLICT (notification_id, url) DO NOTHING",
    )
    .bind(row.id)
    .bind(row.notification)
    .bind(row.url)
    .bind(row.body)
    .bind(row.due)
    .bind(at)
    .bind(row.channel)
    .bind(row.message_id)
    .bind(row.digest)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
