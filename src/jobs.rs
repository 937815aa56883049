//! The job runner: turns due dates into notifications, and delivers notifications to the configured webhooks.
//!
//! [`run_once`] does one pass with the clock it is given, so tests run it deterministically. The runner started
//! by the service ([`spawn`]) calls it every `jobs_interval_seconds`. Several instances may run it against one
//! PostgreSQL database: a notification is made once (its `dedup_key` is unique), and a delivery is claimed by one
//! runner at a time (`FOR UPDATE SKIP LOCKED`, and a lease so that the claim of a runner that died runs out and
//! the delivery is picked up again — delivery is at least once, and each carries a `Webhook-Id` for receivers
//! that must not act twice).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::Config;
use crate::domain::contracts::recipients_of;
use crate::domain::deadlines::{
    Reminder, contract_ending, decision_escalation, incident_notice_reminder, order_reminders,
    questionnaire_reminders, reassessment, remediation_reminders, risk_acceptance_reminders,
};
use crate::domain::incidents::{DeadlineTerms, deadline_state, eastern_date, incident_deadlines};
use crate::domain::orders::OrderStatus;
use crate::domain::webhooks::{
    DeliveryChannel, SIGNATURE_HEADER, next_attempt_after, signature_header,
};
use crate::error::ApiError;
use crate::mailer::{Mailer, OutboxMail};
use crate::store::{DeliveryOutcome, DeliveryRecord, FanOut, NewNotification, Store};
use crate::tls::{ExtraRoots, error_chain};

/// How long a claimed delivery stays with its runner: well over the HTTP timeout, so that a live runner never
/// loses a claim it is still working on.
const LEASE: Duration = Duration::from_secs(120);

/// Time allowed for one webhook POST.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Deliveries claimed per round.
const CLAIM_BATCH: i64 = 50;

/// The header naming the delivery, for receivers that deduplicate.
pub const DELIVERY_ID_HEADER: &str = "Webhook-Id";

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Reminders made.
    pub notifications: usize,
    /// Notifications (events and reminders) fanned out to the outbox.
    pub fanned_out: usize,
    /// Webhook deliveries.
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
    /// E-mail: messages the SMTP server took (a digest counts once), and outbox rows that failed and wait for
    /// their next attempt, or were dead-lettered.
    pub mailed: usize,
    pub mail_retried: usize,
    pub mail_dead: usize,
}

/// One pass: make the reminders due at `now`, fan new notifications out to the outbox, then attempt the
/// webhook deliveries and e-mails due at `now`.
pub async fn run_once(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<RunReport, ApiError> {
    let roots = ExtraRoots::load(config.tls_ca_file.as_deref()).map_err(ApiError::Internal)?;
    run_pass(store, config, &roots, now).await
}

/// [`run_once`] with `tls_ca_file` already read: the runner reads it once, when the service starts.
#[tracing::instrument(name = "jobs.pass", skip_all, fields(now = %now))]
pub async fn run_pass(
    store: &Store,
    config: &Config,
    roots: &ExtraRoots,
    now: DateTime<Utc>,
) -> Result<RunReport, ApiError> {
    let due = due_notifications(store, now).await?;
    let made = store.insert_notifications(due, now).await?;
    let mailer =
        crate::mailer::Mailer::from_config(&config.mail, roots).map_err(ApiError::Internal)?;
    let fan_out = FanOut {
        webhook_urls: &config.webhook_urls,
        mail: mailer.as_ref().map(|_| config.mail.mailboxes()),
        public_url: &config.public_url,
    };
    let mut report = RunReport {
        notifications: made.len(),
        fanned_out: store.fan_out(&fan_out, now).await?,
        ..RunReport::default()
    };
    if let Some(secret) = &config.webhook_secret {
        let client = roots
            .http(reqwest::Client::builder().timeout(HTTP_TIMEOUT))
            .build()
            .map_err(|e| ApiError::Internal(e.into()))?;
        deliver(store, &client, secret.expose().as_bytes(), now, &mut report).await?;
    }
    if let Some(mailer) = &mailer {
        deliver_mail(store, config, mailer, now, &mut report).await?;
    }
    Ok(report)
}

/// Every reminder due today, as notifications (the store drops those already made).
#[tracing::instrument(level = "debug", skip_all)]
async fn due_notifications(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<NewNotification>, ApiError> {
    let today = now.date_naive();
    let policy = store.current_policy().await?.document.0;
    let sources = store.reminder_sources(today).await?;
    let mut out = Vec::new();
    let mut push = |reminder: Option<Reminder>,
                    subject_type: &str,
                    subject: Uuid,
                    vendor: Option<Uuid>,
                    departments: &[String]| {
        let Some(reminder) = reminder else { return };
        let subject_id = subject.to_string();
        let key = reminder.dedup_key(&subject_id);
        for recipient in recipients_of(&reminder, vendor, departments) {
            out.push(NewNotification {
                recipient_role: recipient.role.as_str().to_string(),
                dedup_key: recipient.dedup_key(&key),
                recipient_dept: recipient.department,
                recipient_vendor: recipient.vendor,
                kind: reminder.kind().to_string(),
                subject_type: subject_type.to_string(),
                message: reminder.message(),
                payload: crate::store::to_json(&reminder),
                subject_id: subject_id.clone(),
            });
        }
    };
    for (id, vendor, due, department) in sources.questionnaires {
        push(
            questionnaire_reminders(due, today),
            "assessment",
            id,
            Some(vendor),
            &[department],
        );
    }
    for (id, vendor, due) in sources.remediations {
        push(
            remediation_reminders(due, today),
            "finding",
            id,
            Some(vendor),
            &[],
        );
    }
    for (id, vendor, expiry) in sources.risk_acceptances {
        push(
            risk_acceptance_reminders(expiry, today),
            "finding",
            id,
            Some(vendor),
            &[],
        );
    }
    for (vendor, next_review) in store
        .reassessment_schedule(policy.reassessment_months, None)
        .await?
    {
        push(
            reassessment(next_review, today),
            "vendor",
            vendor,
            None,
            &[],
        );
    }
    let mut contract_departments: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (contract, department) in sources.contract_departments {
        contract_departments
            .entry(contract)
            .or_default()
            .push(department);
    }
    for (id, start, end, notice_days) in sources.contracts {
        let departments = contract_departments.remove(&id).unwrap_or_default();
        push(
            contract_ending(start, end, notice_days.max(0) as u32, today),
            "contract",
            id,
            None,
            &departments,
        );
    }
    for (id, since, department) in sources.waiting_decisions {
        push(
            decision_escalation(since, now, policy.decision_escalation_days),
            "request",
            id,
            None,
            &[department],
        );
    }
    // Breach notices and orders count days in Boston's calendar, as their deadlines do.
    let city_today = eastern_date(now);
    let terms = DeadlineTerms::of(&policy);
    for incident in store.open_incidents().await? {
        let sent = incident.sent();
        let delay = incident.law_enforcement_delay();
        let record = &incident.incident;
        for deadline in incident_deadlines(&record.facts(), terms) {
            let state =
                deadline_state(&deadline, &sent, record.city_notified_at, delay, city_today);
            push(
                incident_notice_reminder(&state, city_today),
                "incident",
                record.id,
                None,
                &[],
            );
        }
    }
    for (id, vendor, department, due, status) in store.open_orders().await? {
        // An appealed order waits for the CIO office's decision, not for its recipient.
        if status == OrderStatus::Appealed.as_str() {
            continue;
        }
        let departments: Vec<String> = department.into_iter().collect();
        push(
            order_reminders(due, city_today),
            "remediation_order",
            id,
            vendor,
            &departments,
        );
    }
    // Annual Surveillance Reports still missing as their date nears or passes [Boston 16-63.5], to the buyers
    // of the department.
    let register: Vec<crate::workflow::surveillance::Technology> = store
        .surveillance_register()
        .await?
        .into_iter()
        .map(|t| crate::workflow::surveillance::Technology {
            request_id: t.request_id,
            department: t.department_code,
            technology: t.technology,
            approved_on: t.vote_date,
        })
        .collect();
    if !register.is_empty() {
        use chrono::Datelike;
        let reported: Vec<Uuid> = store
            .surveillance_reports(Some(today.year() - 1), None)
            .await?
            .into_iter()
            .map(|r| r.request_id)
            .collect();
        for reminder in
            crate::workflow::surveillance::reminders(&policy, today, &register, &reported)
        {
            out.push(NewNotification {
                recipient_role: crate::auth::Role::Buyer.as_str().to_string(),
                dedup_key: reminder.dedup_key(),
                recipient_dept: Some(reminder.department.clone()),
                recipient_vendor: None,
                kind: reminder.kind.to_string(),
                subject_type: "surveillance_technology".to_string(),
                message: reminder.message(),
                payload: crate::store::to_json(&reminder),
                subject_id: reminder.request_id.to_string(),
            });
        }
    }
    Ok(out)
}

/// Claims due deliveries in batches until none is left, posting each with its signature.
#[tracing::instrument(name = "jobs.webhooks", skip_all)]
async fn deliver(
    store: &Store,
    client: &reqwest::Client,
    secret: &[u8],
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> Result<(), ApiError> {
    let runner = format!("runner-{}", Uuid::new_v4().simple());
    loop {
        let batch = claim(store, DeliveryChannel::Webhook, &runner, now).await?;
        if batch.is_empty() {
            return Ok(());
        }
        for delivery in batch {
            let header = signature_header(secret, now.timestamp(), delivery.body.as_bytes());
            let sent = client
                .post(&delivery.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, header)
                .header(DELIVERY_ID_HEADER, delivery.id.to_string())
                .body(delivery.body.clone())
                .send()
                .await;
            let error = match sent {
                Ok(resp) if resp.status().is_success() => None,
                Ok(resp) => Some(format!("the receiver answered {}", resp.status())),
                Err(e) => Some(format!("the request failed: {}", error_chain(&e))),
            };
            let counts = (&mut report.delivered, &mut report.retried, &mut report.dead);
            finish(store, &delivery, &runner, error, now, counts).await?;
        }
    }
}

async fn claim(
    store: &Store,
    channel: DeliveryChannel,
    runner: &str,
    now: DateTime<Utc>,
) -> Result<Vec<DeliveryRecord>, ApiError> {
    let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    store
        .claim_deliveries(channel, runner, now, lease_until, CLAIM_BATCH)
        .await
}

/// Records one attempt: delivered, or failed and retried after the back-off, or dead-lettered once
/// [`crate::domain::webhooks::MAX_ATTEMPTS`] have failed; counts it in `counts` (delivered, retried, dead) when
/// the runner still held the claim. Never logs the body.
async fn finish(
    store: &Store,
    delivery: &DeliveryRecord,
    runner: &str,
    error: Option<String>,
    now: DateTime<Utc>,
    counts: (&mut usize, &mut usize, &mut usize),
) -> Result<(), ApiError> {
    let outcome = match error {
        None => DeliveryOutcome::Delivered,
        Some(error) => {
            let failed = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
            let retry_at = next_attempt_after(failed)
                .map(|wait| now + chrono::Duration::from_std(wait).unwrap_or_default());
            tracing::warn!(delivery = %delivery.id, channel = delivery.channel.as_str(), url = %delivery.url, %error,
                           dead = retry_at.is_none(), "delivery failed");
            DeliveryOutcome::Failed { error, retry_at }
        }
    };
    let (delivered, retried, dead) = counts;
    let count = match &outcome {
        DeliveryOutcome::Delivered => delivered,
        DeliveryOutcome::Failed {
            retry_at: Some(_), ..
        } => retried,
        DeliveryOutcome::Failed { retry_at: None, .. } => dead,
    };
    if store
        .finish_delivery(delivery.id, runner, outcome, now)
        .await?
    {
        *count += 1;
    }
    Ok(())
}

/// Claims due e-mails in batches until none is left and sends them: one message per row, except the rows of
/// an address that chose the daily digest, which leave together as one message (with the Message-ID of the
/// oldest). Every row of a message is recorded alike.
#[tracing::instrument(name = "jobs.mail", skip_all)]
async fn deliver_mail(
    store: &Store,
    config: &Config,
    mailer: &Mailer,
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> Result<(), ApiError> {
    let runner = format!("runner-{}", Uuid::new_v4().simple());
    let mut invitations = Invitations::default();
    loop {
        let batch = claim(store, DeliveryChannel::Email, &runner, now).await?;
        if batch.is_empty() {
            return Ok(());
        }
        // Per message: what is sent, the rows it settles, and a digest's parts (each row's own message).
        type Message = (
            OutboxMail,
            Vec<DeliveryRecord>,
            Vec<crate::domain::mail::Rendered>,
        );
        let mut messages: Vec<Message> = Vec::new();
        let mut digests: HashMap<String, usize> = HashMap::new();
        for delivery in batch {
            let mut mail: OutboxMail =
                serde_json::from_str(&delivery.body).map_err(|e| ApiError::Internal(e.into()))?;
            invitations.fill(store, config, now, &mut mail).await?;
            if delivery.digest {
                if let Some(&at) = digests.get(&delivery.url) {
                    messages[at].2.push(mail.mail);
                    messages[at].1.push(delivery);
                    continue;
                }
                digests.insert(delivery.url.clone(), messages.len());
                let part = mail.mail.clone();
                messages.push((mail, vec![delivery], vec![part]));
            } else {
                messages.push((mail, vec![delivery], Vec::new()));
            }
        }
        for (mut mail, rows, parts) in messages {
            if rows[0].digest {
                mail.mail = crate::domain::mail::render_digest(&parts);
            }
            let error = mailer.send(&mail).await.err();
            let before = report.mailed;
            for row in &rows {
                let counts = (
                    &mut report.mailed,
                    &mut report.mail_retried,
                    &mut report.mail_dead,
                );
                finish(store, row, &runner, error.clone(), now, counts).await?;
            }
            // A digest is one message, however many rows it carried.
            report.mailed = report.mailed.min(before + 1);
        }
    }
}

/// Puts the invitation link into the invitation e-mails of one pass, minting each token from its invitation just
/// before the message leaves (the outbox never holds one). The signing secret is looked up once, when a pass
/// first needs it.
#[derive(Default)]
struct Invitations {
    secret: Option<crate::config::Secret>,
}

impl Invitations {
    async fn fill(
        &mut self,
        store: &Store,
        config: &Config,
        now: DateTime<Utc>,
        mail: &mut OutboxMail,
    ) -> Result<(), ApiError> {
        let Some(id) = mail.invitation else {
            return Ok(());
        };
        let token = match store.invitation(id).await? {
            Some(found) if found.is_active_at(now) => {
                if self.secret.is_none() {
                    self.secret = match &config.auth.hs256_secret {
                        Some(secret) => Some(secret.clone()),
                        None => store.kept_secret().await?,
                    };
                }
                let Some(secret) = &self.secret else {
                    return Err(ApiError::Internal(anyhow::anyhow!(
                        "no secret to sign invitation tokens with: the database was never bootstrapped"
                    )));
                };
                let terms = crate::auth::InvitationTerms {
                    id: found.id,
                    vendor: found.vendor_id,
                    contact: &found.contact_email,
                    issued_at: found.created_at,
                    expires_at: found.expires_at,
                };
                let token = crate::auth::invitation_token(secret, &config.auth.audience, &terms)
                    .map_err(ApiError::Internal)?;
                Some(token)
            }
            _ => None,
        };
        mail.mail =
            crate::domain::mail::fill_invitation(&mail.mail, &config.public_url, token.as_deref());
        Ok(())
    }
}

/// Starts the runner as a task that passes every `jobs_interval_seconds` until `stop` fires; `None` when the
/// interval is 0.
pub fn spawn(
    store: Store,
    config: Config,
    roots: ExtraRoots,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if config.jobs_interval_seconds == 0 {
        return None;
    }
    let period = Duration::from_secs(config.jobs_interval_seconds);
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => return,
            }
            match run_pass(&store, &config, &roots, crate::domain::now()).await {
                Ok(report) if report != RunReport::default() => tracing::info!(?report, "jobs ran"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "the job runner's pass failed"),
            }
        }
    }))
}
