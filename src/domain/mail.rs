//! Notifications people receive by e-mail: which events there are, who hears of each (by role, narrowed to a
//! department or a vendor, so that nobody hears of what their role may not read), at which addresses, what the
//! message says and where it links.
//!
//! Everything here is pure: the store records an event's notifications in the transaction of the change that
//! causes it ([`request_events`] and friends say which event a change is), and the job runner turns each
//! notification into one e-mail per address ([`addresses`], [`render`]).

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;
use strum::{IntoStaticStr, VariantArray};
use uuid::Uuid;

use crate::domain::roles::Role;
use crate::domain::text::escape_html as escape;

/// Where each role's mail goes and who chose the daily digest: the part of the mail settings the rules read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mailboxes {
    /// The From address of every message; its domain names the messages' ids.
    pub from: Option<String>,
    /// The CIO office's mailbox: what the CIO role is told.
    pub cio_office: Vec<String>,
    pub finance: Vec<String>,
    /// What the security analysts are told.
    pub security: Vec<String>,
    /// Each department's buyer contacts, by department code.
    pub department_contacts: std::collections::BTreeMap<String, Vec<String>>,
    /// Addresses that chose a daily digest instead of a message per notification.
    pub digest: Vec<String>,
    /// Hour of the day (UTC, 0-23) at which the daily digests leave.
    pub digest_hour_utc: u32,
}

/// Something that happened that someone is waiting to hear of (the reminders are the other notifications). Its
/// text form is the notification's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    InvitationSent,
    RequestSubmitted,
    RequestApproved,
    RequestDenied,
    #[strum(serialize = "request_changes_requested")]
    ChangesRequested,
    RequestReopened,
    AssessmentSubmitted,
    AssessmentReturned,
    AssessmentAccepted,
    FindingRaised,
    RiskAccepted,
    #[strum(serialize = "duplicate_exception_requested")]
    ExceptionRequested,
    #[strum(serialize = "duplicate_exception_decided")]
    ExceptionDecided,
    DuplicateFlagged,
}

impl Event {
    /// The notification's `kind`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What happened, after the object's name: `Request "Case management" ... was approved`.
    pub fn phrase(self) -> &'static str {
        match self {
            Event::InvitationSent => ": you are invited to answer the security questionnaires",
            Event::RequestSubmitted => "was submitted for review",
            Event::RequestApproved => "was approved",
            Event::RequestDenied => "was denied",
            Event::ChangesRequested => "needs changes before it is decided",
            Event::RequestReopened => "was re-opened for review after a material change",
            Event::AssessmentSubmitted => "was submitted by the vendor and waits for review",
            Event::AssessmentReturned => "was returned to the vendor with comments",
            Event::AssessmentAccepted => "was accepted",
            Event::FindingRaised => "was raised as a finding",
            Event::RiskAccepted => "was accepted as a risk by the CIO office",
            Event::ExceptionRequested => "asks for an exception to a likely duplicate purchase",
            Event::ExceptionDecided => "had its duplicate exception decided by the CIO office",
            Event::DuplicateFlagged => "was submitted and may duplicate what the city already runs",
        }
    }
}

/// The events a request's change is, from the change's audit action and the status before and after; none for a
/// change nobody waits to hear of (an edit of a draft, one decision of two). A duplicate exception granted on the
/// last waiting step also approves the request: both are told.
pub fn request_events(action: &str, from: &str, to: &str) -> Vec<Event> {
    let decided = |to: &str| match to {
        "approved" | "approved_with_conditions" => Some(Event::RequestApproved),
        "denied" => Some(Event::RequestDenied),
        "changes_requested" => Some(Event::ChangesRequested),
        _ => None,
    };
    let settled = if from != to { decided(to) } else { None };
    let first = match action {
        "request.submitted" => return vec![decided(to).unwrap_or(Event::RequestSubmitted)],
        "request.reopened" => return vec![Event::RequestReopened],
        "request.decided" | "request.steps_settled" => return settled.into_iter().collect(),
        "request.exception_requested" => Event::ExceptionRequested,
        "request.exception_granted" | "request.exception_refused" => Event::ExceptionDecided,
        _ => return Vec::new(),
    };
    std::iter::once(first).chain(settled).collect()
}

/// What a submitted route says the catalogue owner should hear of: every likely duplicate the duplicate review
/// names, then each overlap notice; `None` when there is neither. Matches an earlier dismissal set aside are
/// not repeated.
pub fn duplicate_flag(route: &crate::domain::policy::Route) -> Option<String> {
    let mut parts: Vec<String> = route
        .step(crate::domain::policy::StepKindTag::CioDuplicateReview)
        .into_iter()
        .flat_map(|s| s.grounds.iter())
        .map(|g| g.reason.clone())
        .collect();
    parts.extend(route.notices.iter().cloned());
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The event an assessment review is.
pub fn review_event(accepted: bool) -> Event {
    if accepted {
        Event::AssessmentAccepted
    } else {
        Event::AssessmentReturned
    }
}

/// The event a finding's change is: only a risk accepted (a plan or a resolution is the vendor's own doing).
pub fn finding_event(to: &str) -> Option<Event> {
    (to == "risk_accepted").then_some(Event::RiskAccepted)
}

/// Who a notification is addressed to: a role, narrowed to one department's buyers or one vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    pub role: Role,
    pub department: Option<String>,
    pub vendor: Option<Uuid>,
}

impl Audience {
    fn role(role: Role) -> Audience {
        Audience {
            role,
            department: None,
            vendor: None,
        }
    }
}

/// Whom an event concerns: the buying department, the vendor, and the roles that decide the request's steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parties {
    pub department: Option<String>,
    pub vendor: Option<Uuid>,
    pub deciders: Vec<Role>,
}

/// The roles that decide or review the steps of a route, from the steps' kinds.
pub fn deciders(step_kinds: &[String]) -> Vec<Role> {
    let mut out = Vec::new();
    for kind in step_kinds {
        let role = match kind.as_str() {
            "cio_approval" | "cio_duplicate_review" => Role::Cio,
            "finance_approval" => Role::Finance,
            "security_review" => Role::SecurityAnalyst,
            _ => continue,
        };
        if !out.contains(&role) {
            out.push(role);
        }
    }
    out
}

/// Who hears of an event. A vendor hears only of its own questionnaires and findings (never of a request, which
/// it may not read); buyers only of their own department's request; the deciders of a request's steps of the
/// request; the security team of what it reviews; the CIO office of findings and risk it answers for.
pub fn audiences(event: Event, parties: &Parties) -> Vec<Audience> {
    let buyers = parties.department.as_ref().map(|d| Audience {
        role: Role::Buyer,
        department: Some(d.clone()),
        vendor: None,
    });
    let vendor = parties.vendor.map(|v| Audience {
        role: Role::Vendor,
        department: None,
        vendor: Some(v),
    });
    let mut out: Vec<Audience> = Vec::new();
    match event {
        Event::InvitationSent | Event::AssessmentReturned | Event::AssessmentAccepted => {
            out.extend(vendor)
        }
        Event::RequestSubmitted
        | Event::RequestApproved
        | Event::RequestDenied
        | Event::ChangesRequested
        | Event::RequestReopened => {
            out.extend(buyers);
            out.extend(parties.deciders.iter().map(|r| Audience::role(*r)));
        }
        Event::AssessmentSubmitted => out.push(Audience::role(Role::SecurityAnalyst)),
        Event::FindingRaised | Event::RiskAccepted => {
            out.push(Audience::role(Role::Cio));
            out.extend(vendor);
        }
        // The CIO office owns the catalogue of central services: it hears of every likely duplicate and of every
        // possible overlap at the notice level, even when nothing waits for it.
        Event::ExceptionRequested | Event::DuplicateFlagged => out.push(Audience::role(Role::Cio)),
        Event::ExceptionDecided => out.extend(buyers),
    }
    let mut unique = Vec::new();
    for a in out {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    unique
}

/// Someone who signed in through the identity provider and gave an address, with the roles and department that
/// sign-in gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInPerson {
    pub email: String,
    pub roles: Vec<Role>,
    pub department: Option<String>,
    pub last_signed_in: DateTime<Utc>,
}

/// How long after their last sign-in a person's address still receives their role's mail. Their roles are those
/// the identity provider gave at that sign-in: someone who lost a role there stops receiving its mail at the
/// latest this long after, without signing in again.
pub const PEOPLE_DAYS: i64 = 30;

/// The addresses a notification for `role` (narrowed to `department` or to a vendor with `vendor_contacts`)
/// reaches: the CIO office, Finance and the security team at their mailboxes, a department's buyers at its
/// contact list, a vendor at its contacts; and the `people` who signed in through the identity provider within
/// [`PEOPLE_DAYS`] of `now` with that role (a buyer only for their own department). Admins and auditors read
/// everything in the service and get no mail; vendors sign in with invitations, so only their contacts do.
pub fn addresses(
    mail: &Mailboxes,
    role: &str,
    department: Option<&str>,
    vendor_contacts: &[String],
    people: &[SignedInPerson],
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut out: Vec<String> = match role {
        "cio" => mail.cio_office.clone(),
        "finance" => mail.finance.clone(),
        "security_analyst" => mail.security.clone(),
        "buyer" => department
            .and_then(|d| mail.department_contacts.get(d))
            .cloned()
            .unwrap_or_default(),
        "vendor" => vendor_contacts.to_vec(),
        _ => Vec::new(),
    };
    let reached = |p: &SignedInPerson| {
        let Ok(r) = Role::try_from(role) else {
            return false;
        };
        let for_role = match r {
            Role::Cio | Role::Finance | Role::SecurityAnalyst => true,
            Role::Buyer => department.is_some() && p.department.as_deref() == department,
            Role::Vendor | Role::Admin | Role::Auditor => false,
        };
        for_role && p.roles.contains(&r) && p.last_signed_in > now - Duration::days(PEOPLE_DAYS)
    };
    out.extend(
        people
            .iter()
            .filter(|p| reached(p))
            .map(|p| p.email.clone()),
    );
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|a| seen.insert(a.trim().to_lowercase()));
    out
}

/// Whether `address` chose the daily digest.
pub fn wants_digest(mail: &Mailboxes, address: &str) -> bool {
    mail.digest.iter().any(|a| a.eq_ignore_ascii_case(address))
}

/// When the next daily digest leaves after `now`: today at the digest hour, or tomorrow if that has passed.
pub fn next_digest_at(now: DateTime<Utc>, hour_utc: u32) -> DateTime<Utc> {
    let at = NaiveTime::from_hms_opt(hour_utc.min(23), 0, 0).unwrap_or_default();
    let today = now.date_naive().and_time(at).and_utc();
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

/// The link a message gives a person of `role`: the console's page for the object where it has one for that role,
/// otherwise the object's API URL ([`link`], which webhooks always carry).
pub fn link_for(public_url: &str, role: &str, subject_type: &str, subject_id: &str) -> String {
    let base = public_url.trim_end_matches('/');
    let page = match (subject_type, Role::try_from(role).ok()) {
        ("request", Some(role)) if role != Role::Vendor => Some(format!("requests/{subject_id}")),
        ("assessment", Some(Role::Vendor)) => Some(format!("portal/assessments/{subject_id}")),
        ("assessment", Some(Role::SecurityAnalyst)) => Some(format!("reviews/{subject_id}")),
        _ => None,
    };
    match page {
        Some(page) => format!("{base}/{page}"),
        None => link(public_url, subject_type, subject_id),
    }
}

/// The API URL of an object: the link of webhook bodies, and of messages where the console has no page.
pub fn link(public_url: &str, subject_type: &str, subject_id: &str) -> String {
    let base = public_url.trim_end_matches('/');
    let path = match subject_type {
        "request" | "surveillance_technology" => "requests",
        "assessment" => "assessments",
        "finding" => "findings",
        "contract" => "contracts",
        "vendor" => "vendors",
        "incident" => "incidents",
        "remediation_order" => "orders",
        // The vendor's questionnaires, which the invitation reaches.
        "vendor_invitation" => return format!("{base}/api/v1/assessments"),
        _ => return format!("{base}/api/v1/notifications"),
    };
    format!("{base}/api/v1/{path}/{subject_id}")
}

/// Where a vendor contact opens the portal with an invitation token.
pub fn invitation_link(public_url: &str, token: &str) -> String {
    format!(
        "{}/portal/enter?token={token}",
        public_url.trim_end_matches('/')
    )
}

/// Stands for the invitation token in an invitation e-mail until it is sent: the outbox keeps the message
/// without the token, and the runner mints it (the same every time) just before sending.
pub const INVITATION_TOKEN_SLOT: &str = "INVITATION-TOKEN";

/// An invitation e-mail made ready to send: the slot link becomes the invitation's own link, or, when the
/// invitation was revoked or has expired since the message was queued, the portal's address with a line that
/// says so.
pub fn fill_invitation(mail: &Rendered, public_url: &str, token: Option<&str>) -> Rendered {
    let slot = invitation_link(public_url, INVITATION_TOKEN_SLOT);
    match token {
        Some(token) => {
            let link = invitation_link(public_url, token);
            Rendered {
                subject: mail.subject.clone(),
                text: mail.text.replace(&slot, &link),
                html: mail.html.replace(&slot, &link),
            }
        }
        None => {
            let portal = format!("{}/portal", public_url.trim_end_matches('/'));
            let note = "This invitation was revoked or has expired since this message was written; ask the city \
                        buyer who invited you for a new one.";
            Rendered {
                subject: mail.subject.clone(),
                text: mail
                    .text
                    .replacen("\n\nOpen it: ", &format!("\n\n{note}\n\nOpen it: "), 1)
                    .replace(&slot, &portal),
                html: mail
                    .html
                    .replacen("</p><p><a ", &format!("</p><p>{note}</p><p><a "), 1)
                    .replace(&slot, &portal),
            }
        }
    }
}

/// An object named in words, for a message's subject and body and a webhook's body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Named {
    /// `request`, `assessment`, `finding`, ...
    pub subject_type: String,
    pub subject_id: String,
    /// What it is called: `Request "Case management"`.
    pub name: String,
    /// Further facts that tell it apart: department, vendor, questionnaire, due date.
    pub facts: Vec<String>,
    pub link: String,
}

impl Named {
    /// `Request "Case management" (DOIT, from Case Systems LLC)`.
    pub fn words(&self) -> String {
        if self.facts.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.facts.join(", "))
        }
    }
}

/// The text of an event's notification: the object's name and what happened.
pub fn event_message(event: Event, named: &Named) -> String {
    let phrase = event.phrase();
    if phrase.starts_with(':') {
        format!("{}{phrase}", named.words())
    } else {
        format!("{} {phrase}", named.words())
    }
}

/// One e-mail: subject, plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The message of one notification: the subject says what happened to which object, the body says it with the
/// object's facts and links to it. An event's message names its object already; a reminder's is prefixed with it.
pub fn render(message: &str, named: &Named) -> Rendered {
    let full = if message.starts_with(&named.name) {
        message.to_string()
    } else {
        format!("{}: {message}", named.words())
    };
    let short = if message.starts_with(&named.name) {
        match named.facts.is_empty() {
            true => message.to_string(),
            false => message.replacen(&named.words(), &named.name, 1),
        }
    } else {
        format!("{}: {message}", named.name)
    };
    let subject = one_line(&format!("[Procurement review] {short}"), 250);
    let text = format!(
        "{full}\n\nOpen it: {}\n\n-- \nProcurement review. You receive this because your address is on the \
         city's notification list for this role.\n",
        named.link
    );
    let html = format!(
        "<!DOCTYPE html><html><body><p>{}</p><p><a href=\"{}\">Open {}</a></p><hr><p style=\"color:#666\">\
         Procurement review. You receive this because your address is on the city's notification list for this \
         role.</p></body></html>",
        escape(&full),
        escape(&named.link),
        escape(&named.name)
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// The daily digest of several notifications to one address.
pub fn render_digest(items: &[Rendered]) -> Rendered {
    let subject = format!(
        "[Procurement review] Daily digest: {} notification{}",
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    );
    let mut text = String::new();
    let mut html = String::from("<!DOCTYPE html><html><body><ol>");
    for item in items {
        let body = item.text.split("\n-- \n").next().unwrap_or_default().trim();
        text.push_str(&format!(
            "* {}\n  {}\n\n",
            item.subject,
            body.replace('\n', "\n  ")
        ));
        let part = item
            .html
            .split("<body>")
            .nth(1)
            .and_then(|b| b.split("<hr>").next())
            .unwrap_or_default();
        html.push_str(&format!("<li>{part}</li>"));
    }
    html.push_str("</ol></body></html>");
    Rendered {
        subject,
        text,
        html,
    }
}

/// The Message-ID of the outbox row `id`, from the sender's domain: made once, kept across retries.
pub fn message_id(id: Uuid, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty() && !d.contains(char::is_whitespace))
        .unwrap_or("procurement-review.invalid");
    format!("<{}@{domain}>", id.simple())
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    flat.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_owner_hears_of_overlap_notices_and_of_nothing_when_there_are_none() {
        let mut route: crate::domain::policy::Route = serde_json::from_value(serde_json::json!({
            "policy_label": "p", "total_contract_value_cents": 0, "fy_vendor_total_cents": 0,
            "fiscal_year": 2027, "fast_path": false, "prohibitions": [], "steps": []
        }))
        .unwrap();
        assert_eq!(duplicate_flag(&route), None);
        route.notices =
            vec!["the city already runs Zoom (possible overlap, match score 0.52)".into()];
        assert_eq!(
            duplicate_flag(&route).as_deref(),
            Some("the city already runs Zoom (possible overlap, match score 0.52)")
        );
        assert_eq!(
            audiences(Event::DuplicateFlagged, &Parties::default()),
            vec![Audience::role(Role::Cio)]
        );
    }

    fn parties() -> Parties {
        Parties {
            department: Some("DOIT".into()),
            vendor: Some(Uuid::nil()),
            deciders: vec![Role::Cio, Role::SecurityAnalyst],
        }
    }

    #[test]
    fn a_request_change_is_the_event_people_wait_for() {
        use Event::*;
        let cases: [(&str, &str, &str, &[Event]); 14] = [
            (
                "request.submitted",
                "draft",
                "in_review",
                &[RequestSubmitted],
            ),
            ("request.submitted", "draft", "approved", &[RequestApproved]),
            ("request.submitted", "draft", "denied", &[RequestDenied]),
            (
                "request.decided",
                "awaiting_decision",
                "approved_with_conditions",
                &[RequestApproved],
            ),
            (
                "request.decided",
                "awaiting_decision",
                "changes_requested",
                &[ChangesRequested],
            ),
            (
                "request.decided",
                "awaiting_decision",
                "awaiting_decision",
                &[],
            ),
            (
                "request.steps_settled",
                "in_review",
                "approved",
                &[RequestApproved],
            ),
            (
                "request.steps_settled",
                "in_review",
                "awaiting_decision",
                &[],
            ),
            (
                "request.reopened",
                "approved",
                "in_review",
                &[RequestReopened],
            ),
            ("request.edited", "draft", "draft", &[]),
            ("request.withdrawn", "in_review", "withdrawn", &[]),
            (
                "request.exception_requested",
                "awaiting_decision",
                "awaiting_decision",
                &[ExceptionRequested],
            ),
            (
                "request.exception_granted",
                "awaiting_decision",
                "approved",
                &[ExceptionDecided, RequestApproved],
            ),
            (
                "request.exception_refused",
                "awaiting_decision",
                "awaiting_decision",
                &[ExceptionDecided],
            ),
        ];
        for (action, from, to, expected) in cases {
            assert_eq!(
                request_events(action, from, to),
                expected,
                "{action} {from} -> {to}"
            );
        }
    }

    #[test]
    fn a_vendor_never_hears_of_a_request_and_buyers_only_of_their_department() {
        for &event in Event::VARIANTS {
            let heard = audiences(event, &parties());
            assert!(!heard.is_empty(), "{event:?} reaches someone");
            for a in &heard {
                match a.role {
                    Role::Vendor => {
                        assert_eq!(a.vendor, Some(Uuid::nil()));
                        assert!(!event.as_str().starts_with("request_"), "{event:?}");
                    }
                    Role::Buyer => assert_eq!(a.department.as_deref(), Some("DOIT")),
                    _ => assert_eq!((&a.department, a.vendor), (&None, None)),
                }
            }
        }
        let approved = audiences(Event::RequestApproved, &parties());
        let roles: Vec<Role> = approved.iter().map(|a| a.role).collect();
        assert_eq!(roles, [Role::Buyer, Role::Cio, Role::SecurityAnalyst]);
        let no_vendor = Parties {
            vendor: None,
            ..parties()
        };
        assert!(audiences(Event::AssessmentAccepted, &no_vendor).is_empty());
    }

    #[test]
    fn deciders_come_from_the_route_steps() {
        let kinds: Vec<String> = [
            "cio_approval",
            "finance_approval",
            "evidence",
            "cio_duplicate_review",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(deciders(&kinds), [Role::Cio, Role::Finance]);
    }

    #[test]
    fn addresses_come_from_the_role_mailboxes_department_lists_and_vendor_contacts() {
        let mut mail = Mailboxes {
            cio_office: vec!["cio@city.example".into()],
            finance: vec!["finance@city.example".into()],
            security: vec!["sec@city.example".into(), "SEC@city.example".into()],
            ..Mailboxes::default()
        };
        mail.department_contacts
            .insert("DOIT".into(), vec!["buy@doit.example".into()]);
        let now = Utc::now();
        let addresses = |role: &str, department: Option<&str>, contacts: &[String]| {
            addresses(&mail, role, department, contacts, &[], now)
        };
        assert_eq!(addresses("cio", None, &[]), ["cio@city.example"]);
        assert_eq!(
            addresses("security_analyst", None, &[]),
            ["sec@city.example"]
        );
        assert_eq!(addresses("buyer", Some("DOIT"), &[]), ["buy@doit.example"]);
        assert!(addresses("buyer", Some("ISD"), &[]).is_empty());
        assert!(addresses("buyer", None, &[]).is_empty());
        assert_eq!(
            addresses("vendor", None, &["v@vendor.example".into()]),
            ["v@vendor.example"]
        );
        assert!(addresses("auditor", None, &[]).is_empty());
        assert!(addresses("admin", None, &[]).is_empty());
    }

    #[test]
    fn people_signed_in_by_the_identity_provider_receive_their_roles_mail_only_while_recent() {
        let now = Utc::now();
        let mut mail = Mailboxes {
            cio_office: vec!["cio@city.example".into()],
            ..Mailboxes::default()
        };
        mail.department_contacts
            .insert("DOIT".into(), vec!["buy@doit.example".into()]);
        let person =
            |email: &str, roles: &[Role], department: Option<&str>, days_ago: i64| SignedInPerson {
                email: email.into(),
                roles: roles.to_vec(),
                department: department.map(str::to_string),
                last_signed_in: now - Duration::days(days_ago),
            };
        let people = [
            person("carla@city.example", &[Role::Cio], None, 1),
            person("bea@doit.example", &[Role::Buyer], Some("DOIT"), 2),
            person("ivan@isd.example", &[Role::Buyer], Some("ISD"), 2),
            person(
                "ana@city.example",
                &[Role::SecurityAnalyst, Role::Finance],
                None,
                3,
            ),
            person("ada@city.example", &[Role::Admin, Role::Auditor], None, 1),
            person("old@city.example", &[Role::Cio], None, PEOPLE_DAYS + 1),
            // Already a mailbox of the role: one message, not two.
            person("CIO@city.example", &[Role::Cio], None, 1),
        ];
        let to = |role: &str, department: Option<&str>| {
            addresses(&mail, role, department, &[], &people, now)
        };
        assert_eq!(to("cio", None), ["cio@city.example", "carla@city.example"]);
        assert_eq!(
            to("buyer", Some("DOIT")),
            ["buy@doit.example", "bea@doit.example"]
        );
        assert_eq!(to("buyer", Some("ISD")), ["ivan@isd.example"]);
        assert!(
            to("buyer", None).is_empty(),
            "a buyer hears only of a department"
        );
        assert_eq!(to("finance", None), ["ana@city.example"]);
        assert_eq!(to("security_analyst", None), ["ana@city.example"]);
        assert!(to("admin", None).is_empty());
        assert!(to("auditor", None).is_empty());
        assert!(
            to("vendor", None).is_empty(),
            "no staff member hears a vendor's mail"
        );
    }

    #[test]
    fn the_digest_leaves_at_the_next_digest_hour() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            next_digest_at(at("2026-03-02T05:00:00Z"), 7),
            at("2026-03-02T07:00:00Z")
        );
        assert_eq!(
            next_digest_at(at("2026-03-02T07:00:00Z"), 7),
            at("2026-03-03T07:00:00Z")
        );
        assert_eq!(
            next_digest_at(at("2026-03-02T23:30:00Z"), 0),
            at("2026-03-03T00:00:00Z")
        );
    }

    #[test]
    fn messages_link_to_the_console_page_of_the_reader_and_otherwise_to_the_api() {
        let base = "https://pr.city.example/";
        for (role, subject_type, id, expected) in [
            ("buyer", "request", "r1", "requests/r1"),
            ("cio", "request", "r1", "requests/r1"),
            ("vendor", "assessment", "a1", "portal/assessments/a1"),
            ("security_analyst", "assessment", "a1", "reviews/a1"),
            // No console page for these readers or objects yet: the API.
            ("cio", "assessment", "a1", "api/v1/assessments/a1"),
            ("vendor", "finding", "f1", "api/v1/findings/f1"),
            ("vendor", "request", "r1", "api/v1/requests/r1"),
        ] {
            assert_eq!(
                link_for(base, role, subject_type, id),
                format!("https://pr.city.example/{expected}"),
                "{role} reading {subject_type}"
            );
        }
    }

    #[test]
    fn api_links_name_the_object() {
        assert_eq!(
            link("https://pr.city.example/", "finding", "f1"),
            "https://pr.city.example/api/v1/findings/f1"
        );
        assert_eq!(
            link("http://h", "remediation_order", "o"),
            "http://h/api/v1/orders/o"
        );
        assert_eq!(
            link("http://h", "something", "x"),
            "http://h/api/v1/notifications"
        );
    }

    #[test]
    fn a_message_names_its_object_links_to_it_and_escapes_html() {
        let named = Named {
            subject_type: "request".into(),
            subject_id: "r".into(),
            name: "Request \"<Case> & co\"".into(),
            facts: vec!["DOIT".into(), "from Case Systems LLC".into()],
            link: "http://h/api/v1/requests/r".into(),
        };
        let message = event_message(Event::RequestApproved, &named);
        assert_eq!(
            message,
            "Request \"<Case> & co\" (DOIT, from Case Systems LLC) was approved"
        );
        let mail = render(&message, &named);
        assert_eq!(
            mail.subject,
            "[Procurement review] Request \"<Case> & co\" was approved"
        );
        assert!(mail.text.starts_with(&message));
        let reminder = render("due in 7 days", &named);
        assert_eq!(
            reminder.subject,
            "[Procurement review] Request \"<Case> & co\": due in 7 days"
        );
        assert!(
            reminder.text.starts_with(
                "Request \"<Case> & co\" (DOIT, from Case Systems LLC): due in 7 days"
            )
        );
        assert!(mail.text.contains("Open it: http://h/api/v1/requests/r"));
        assert!(
            mail.html
                .contains("Request &quot;&lt;Case&gt; &amp; co&quot;")
        );
        assert!(!mail.html.contains("<Case>"));
        let digest = render_digest(&[mail.clone(), mail]);
        assert!(digest.subject.ends_with("2 notifications"));
        assert_eq!(digest.text.matches("Open it:").count(), 2);
    }

    #[test]
    fn a_message_id_is_the_row_id_at_the_senders_domain() {
        let id = Uuid::nil();
        assert_eq!(
            message_id(id, "Procurement <pr@city.example>"),
            "<00000000000000000000000000000000@city.example>"
        );
        assert_eq!(
            message_id(id, "nobody"),
            "<00000000000000000000000000000000@procurement-review.invalid>"
        );
    }
}
