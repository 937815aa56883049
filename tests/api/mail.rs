//! E-mail notifications end to end: changes made over HTTP, the job runner's pass, and what an SMTP server on
//! 127.0.0.1 receives.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use procurement_review::auth::Role;
use procurement_review::config::{Config, SmtpSecurity};
use procurement_review::domain::webhooks::MAX_ATTEMPTS;
use procurement_review::jobs::run_once;
use serde_json::{Value, json};

use crate::assessments::{accepted_with_a_finding, first_critical_yes, routed_request};
use crate::both;
use crate::helpers::{Backend, TestApp};
use crate::smtp_sink::{Mode, Sink};

const CIO: &str = "cio-office@city.example";
const FINANCE: &str = "finance@city.example";
const SECURITY: &str = "security-team@city.example";
const DOIT_BUYERS: &str = "buyers@doit.city.example";
const ISD_BUYERS: &str = "buyers@isd.city.example";
const VENDOR_SALES: &str = "sales@caseflow.example";
const OTHER_VENDOR: &str = "hello@other-vendor.example";
/// The contact `assessments::accepted_with_a_finding` invites.
const INVITED: &str = "security@vendor.example";

pub fn mail_settings(c: &mut Config, port: u16, digest: &[&str]) {
    c.public_url = "https://review.city.example".into();
    c.mail.smtp_host = Some("127.0.0.1".into());
    c.mail.smtp_port = Some(port);
    c.mail.smtp_security = SmtpSecurity::None;
    c.mail.from = Some("Procurement Review <procurement@city.example>".into());
    c.mail.cio_office = vec![CIO.into()];
    c.mail.finance = vec![FINANCE.into()];
    c.mail.security = vec![SECURITY.into()];
    c.mail.department_contacts = BTreeMap::from([
        ("DOIT".to_string(), vec![DOIT_BUYERS.to_string()]),
        ("ISD".to_string(), vec![ISD_BUYERS.to_string()]),
    ]);
    c.mail.digest = digest.iter().map(|a| a.to_string()).collect();
}

async fn spawn(backend: Backend, sink: &Sink, digest: &[&str]) -> TestApp {
    let port = sink.port;
    let digest: Vec<String> = digest.iter().map(|a| a.to_string()).collect();
    TestApp::spawn_with(backend, move |c| {
        let digest: Vec<&str> = digest.iter().map(String::as_str).collect();
        mail_settings(c, port, &digest)
    })
    .await
}

async fn vendor_with_contact(app: &TestApp, name: &str, email: &str) -> Value {
    app.post(
        "/api/v1/vendors",
        &app.token(Role::Admin),
        json!({"legal_name": name, "hq_country": "US", "website": "https://vendor.example",
               "contacts": [{"name": "Pat", "email": email}]}),
    )
    .await
    .ok(201)
    .clone()
}

/// A $60,000 on-premises purchase of public data by `department`: routed to the CIO by value alone.
pub async fn submitted_request(
    app: &TestApp,
    department_code: &str,
    vendor: &Value,
    title: &str,
) -> String {
    app.ensure_department(department_code).await;
    let buyer = app.buyer_token(department_code, "bea");
    let body = crate::helpers::with(crate::helpers::purchase(vendor), json!({"title": title}));
    app.draft_and_submit(&buyer, body).await.0
}

pub async fn pass(app: &TestApp, now: DateTime<Utc>) -> procurement_review::jobs::RunReport {
    run_once(&app.store, &app.config, now).await.unwrap()
}

/// The subjects of the messages each address received, sorted.
pub fn inbox(sink: &Sink, address: &str) -> Vec<String> {
    let mut subjects: Vec<String> = sink.to(address).iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects
}

both!(
    async fn each_event_sends_one_message_to_the_addresses_that_may_read_it(backend) {
        let sink = Sink::start(Mode::Accept).await;
        let app = spawn(backend, &sink, &[]).await;
        let vendor = vendor_with_contact(&app, "Case Systems LLC", VENDOR_SALES).await;
        vendor_with_contact(&app, "Other Vendor Inc", OTHER_VENDOR).await;
        let staff = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &staff).await.ok(200).clone();
        let critical = first_critical_yes(&template);
        // Submitted (to DOIT's buyers, the CIO office and the security team: the route's deciders), invited (to
        // the invited contact), questionnaire submitted (security team), accepted with a finding (the vendor; the
        // finding to the vendor and the CIO office).
        let (_, assessment, finding) = accepted_with_a_finding(&app, &vendor, &critical).await;
        let fid = finding["id"].as_str().unwrap().to_string();
        let accepted_risk = app
            .finding_action(&app.token(Role::Cio), &fid, "risk-acceptance",
                  json!({"rationale": "Compensating monitoring until the rollout", "expires_on": "2027-06-30"}))
            .await;
        assert_eq!(accepted_risk.ok(200)["status"], "risk_accepted");
        assert!(sink.received().is_empty(), "nothing is sent before the runner passes");

        let report = pass(&app, Utc::now()).await;
        assert_eq!(report.mail_retried + report.mail_dead, 0, "{report:?}");
        let request_subject = "[Procurement review] Request \"Case management\" was submitted for review";
        assert_eq!(inbox(&sink, DOIT_BUYERS), [request_subject]);
        let questionnaire = "[Procurement review] Questionnaire \"ma-201-cmr-17\" of Case Systems LLC";
        let finding_name = format!("[Procurement review] Finding \"{}\"", finding["title"].as_str().unwrap());
        assert_eq!(
            inbox(&sink, SECURITY),
            [format!("{questionnaire} was submitted by the vendor and waits for review"), request_subject.to_string()]
        );
        assert_eq!(
            inbox(&sink, CIO),
            [format!("{finding_name} was accepted as a risk by the CIO office"), format!("{finding_name} was raised as a finding"),
             request_subject.to_string()]
        );
        assert_eq!(
            inbox(&sink, VENDOR_SALES),
            [format!("{finding_name} was accepted as a risk by the CIO office"), format!("{finding_name} was raised as a finding"),
             format!("{questionnaire} was accepted")]
        );
        let invited = sink.to(INVITED);
        assert_eq!(invited.len(), 1);
        assert_eq!(
            invited[0].subject(),
            "[Procurement review] Invitation for Case Systems LLC: you are invited to answer the security questionnaires"
        );
        // Nobody else: not the other department, not the other vendor, not Finance (no Finance step).
        for nobody in [ISD_BUYERS, OTHER_VENDOR, FINANCE] {
            assert!(sink.to(nobody).is_empty(), "{nobody} may not read these");
        }
        // One recipient per message, each with the sender, a Message-ID, both bodies and the object's link.
        for message in sink.received() {
            assert_eq!(message.to.len(), 1);
            assert_eq!(message.from, "procurement@city.example");
            assert!(message.header("Message-ID").unwrap().ends_with("@city.example>"));
            let body = message.body();
            assert!(body.contains("text/plain") && body.contains("text/html"), "{body}");
        }
        // Each reader gets the console page the console has for them, the API URL otherwise.
        let link = |path: &str| format!("https://review.city.example/{path}");
        let portal = link(&format!("portal/assessments/{assessment}"));
        assert!(sink.to(VENDOR_SALES).iter().any(|m| m.body().contains(&portal)));
        let review = link(&format!("reviews/{assessment}"));
        assert!(sink.to(SECURITY).iter().any(|m| m.body().contains(&review)));
        assert!(sink.to(CIO).iter().filter(|m| m.body().contains(&link(&format!("api/v1/findings/{fid}")))).count() == 2);
        let request = sink.to(DOIT_BUYERS)[0].body();
        assert!(request.contains("https://review.city.example/requests/"), "{request}");
        assert!(request.contains("DOIT, from Case Systems LLC"), "{request}");

        // Each outbox row was sent once: another pass sends nothing.
        let count = sink.received().len();
        let again = pass(&app, Utc::now() + Duration::hours(1)).await;
        assert_eq!((again.mailed, sink.received().len()), (0, count));
        // The in-app notification names the object too.
        let cio_notes = app.get("/api/v1/notifications", &app.token(Role::Cio)).await.ok(200).clone();
        assert!(cio_notes["items"].as_array().unwrap().iter().any(|n| n["kind"] == "risk_accepted"
            && n["message"].as_str().unwrap().starts_with("Finding \"")));
        app.stop().await;
    }
);

both!(
    async fn a_decision_reaches_the_buyers_and_deciders_of_that_department_only(backend) {
        let sink = Sink::start(Mode::Accept).await;
        let app = spawn(backend, &sink, &[]).await;
        let vendor = vendor_with_contact(&app, "Sign Co", VENDOR_SALES).await;
        // Another vendor for ISD: the same vendor's spend would add up to a Finance co-approval.
        let other = vendor_with_contact(&app, "Other Vendor Inc", OTHER_VENDOR).await;
        let doit = submitted_request(&app, "DOIT", &vendor, "E-signature for permits").await;
        let isd = submitted_request(&app, "ISD", &other, "E-signature for HR").await;
        let cio = app.token(Role::Cio);
        app.transition(&format!("/api/v1/requests/{doit}/decisions"), &cio,
                       Some(&json!({"step": "cio_approval", "outcome": "approve"}))).await.ok(201);
        app.transition(&format!("/api/v1/requests/{isd}/decisions"), &cio,
                       Some(&json!({"step": "cio_approval", "outcome": "request_changes",
                                    "rationale": "Name the records retention period"}))).await.ok(201);
        pass(&app, Utc::now()).await;
        assert_eq!(
            inbox(&sink, DOIT_BUYERS),
            ["[Procurement review] Request \"E-signature for permits\" was approved",
             "[Procurement review] Request \"E-signature for permits\" was submitted for review"]
        );
        assert_eq!(
            inbox(&sink, ISD_BUYERS),
            ["[Procurement review] Request \"E-signature for HR\" needs changes before it is decided",
             "[Procurement review] Request \"E-signature for HR\" was submitted for review"]
        );
        assert_eq!(inbox(&sink, CIO).len(), 4, "the CIO office decides both");
        assert!(sink.to(VENDOR_SALES).is_empty() && sink.to(OTHER_VENDOR).is_empty(), "a vendor may not read a request");
        assert_eq!((inbox(&sink, SECURITY), inbox(&sink, FINANCE)), (vec![], vec![]), "no step of theirs");
        let approved = sink.to(DOIT_BUYERS).into_iter().find(|m| m.subject().ends_with("approved")).unwrap();
        assert!(approved.body().contains(&format!("https://review.city.example/requests/{doit}")));
        app.stop().await;
    }
);

both!(
    async fn a_refused_or_dropped_connection_is_retried_with_back_off_and_keeps_its_message_id(backend) {
        let sink = Sink::start(Mode::Refuse).await;
        let app = spawn(backend, &sink, &[]).await;
        let vendor = vendor_with_contact(&app, "Sign Co", VENDOR_SALES).await;
        submitted_request(&app, "DOIT", &vendor, "E-signature for permits").await;
        let now = Utc::now();
        let first = pass(&app, now).await;
        assert_eq!((first.mailed, first.mail_retried), (0, 2), "buyers and the CIO office: {first:?}");
        assert!(sink.connections() >= 2, "the server was tried");
        let admin = app.token(Role::Admin);
        let outbox = app.get("/api/v1/webhooks/deliveries?channel=email", &admin).await.ok(200).clone();
        let ids: Vec<String> = outbox["items"].as_array().unwrap().iter()
            .map(|d| d["message_id"].as_str().unwrap().to_string()).collect();
        assert_eq!(ids.len(), 2);
        assert!(outbox["items"][0]["last_error"].as_str().unwrap().contains("421"), "{outbox}");

        // The server goes away entirely; then it comes back, and nothing is tried before the back-off is over.
        sink.set_mode(Mode::Drop);
        let second = pass(&app, now + Duration::seconds(31)).await;
        assert_eq!(second.mail_retried, 2, "{second:?}");
        sink.set_mode(Mode::Accept);
        let early = pass(&app, now + Duration::seconds(60)).await;
        assert_eq!(early.mailed, 0, "the second back-off is two minutes");
        assert!(sink.received().is_empty());
        let later = pass(&app, now + Duration::seconds(31 + 121)).await;
        assert_eq!(later.mailed, 2, "{later:?}");
        let mut sent: Vec<String> = sink.received().iter().map(|m| m.header("Message-ID").unwrap()).collect();
        sent.sort();
        let mut kept = ids.clone();
        kept.sort();
        assert_eq!(sent, kept, "a retry keeps the message's id");
        let delivered = app.get("/api/v1/webhooks/deliveries?channel=email&status=delivered", &admin).await.ok(200).clone();
        assert_eq!(delivered["page"]["total"], 2);
        assert_eq!(delivered["items"][0]["attempts"], 3);
        app.stop().await;
    }
);

both!(
    async fn a_dead_lettered_message_is_sent_again_when_an_admin_retries_it(backend) {
        let sink = Sink::start(Mode::Refuse).await;
        let app = spawn(backend, &sink, &[]).await;
        let vendor = vendor_with_contact(&app, "Sign Co", VENDOR_SALES).await;
        submitted_request(&app, "DOIT", &vendor, "E-signature for permits").await;
        let mut now = Utc::now();
        let mut dead = 0;
        for _ in 0..MAX_ATTEMPTS {
            dead += pass(&app, now).await.mail_dead;
            now += Duration::hours(7);
        }
        assert_eq!(dead, 2, "dead-lettered after {MAX_ATTEMPTS} attempts");
        let admin = app.token(Role::Admin);
        let listed = app.get("/api/v1/webhooks/deliveries?status=dead&channel=email", &admin).await.ok(200).clone();
        assert_eq!(listed["page"]["total"], 2);
        let row = listed["items"].as_array().unwrap().iter().find(|d| d["url"] == format!("mailto:{DOIT_BUYERS}")).unwrap().clone();
        assert_eq!(row["attempts"], MAX_ATTEMPTS);
        app.get("/api/v1/webhooks/deliveries?channel=email", &app.token(Role::Cio)).await.problem(403, "forbidden");
        app.get("/api/v1/webhooks/deliveries?channel=fax", &admin).await.problem(400, "bad_parameter");

        sink.set_mode(Mode::Accept);
        let id = row["id"].as_str().unwrap();
        let retried = app.post(&format!("/api/v1/webhooks/deliveries/{id}/retry"), &admin, json!({})).await;
        assert_eq!(retried.ok(200)["status"], "pending");
        app.post(&format!("/api/v1/webhooks/deliveries/{id}/retry"), &app.token(Role::Cio), json!({})).await.problem(403, "forbidden");
        let report = pass(&app, Utc::now()).await;
        assert_eq!(report.mailed, 1);
        let got = sink.to(DOIT_BUYERS);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].header("Message-ID").unwrap(), row["message_id"].as_str().unwrap());
        assert!(sink.to(CIO).is_empty(), "the other dead letter stays dead until retried");
        let audit = app.get("/api/v1/audit?action=webhook.retried", &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(audit["page"]["total"], 1);
        app.stop().await;
    }
);

both!(
    async fn an_address_that_chose_the_digest_gets_one_message_a_day(backend) {
        let sink = Sink::start(Mode::Accept).await;
        let app = spawn(backend, &sink, &[DOIT_BUYERS]).await;
        let vendor = vendor_with_contact(&app, "Sign Co", VENDOR_SALES).await;
        let first = submitted_request(&app, "DOIT", &vendor, "E-signature for permits").await;
        submitted_request(&app, "DOIT", &vendor, "Permit kiosk").await;
        let now = Utc::now();
        pass(&app, now).await;
        assert_eq!(inbox(&sink, CIO).len(), 2, "the CIO office hears at once");
        assert!(sink.to(DOIT_BUYERS).is_empty(), "the buyers wait for their digest");
        let digest_at = procurement_review::domain::mail::next_digest_at(now, app.config.mail.digest_hour_utc);
        pass(&app, digest_at - Duration::seconds(1)).await;
        assert!(sink.to(DOIT_BUYERS).is_empty());
        let report = pass(&app, digest_at).await;
        assert_eq!(report.mailed, 1, "{report:?}");
        let digest = sink.to(DOIT_BUYERS);
        assert_eq!(digest.len(), 1);
        assert_eq!(digest[0].subject(), "[Procurement review] Daily digest: 2 notifications");
        let body = digest[0].body();
        assert!(body.contains("Request \"E-signature for permits\"") && body.contains("Request \"Permit kiosk\""), "{body}");
        assert!(body.contains(&format!("https://review.city.example/requests/{first}")));
        pass(&app, digest_at + Duration::days(1)).await;
        assert_eq!(sink.to(DOIT_BUYERS).len(), 1, "sent once");
        app.stop().await;
    }
);

both!(
    async fn reminders_are_mailed_once_per_dedup_key_naming_their_object(backend) {
        let sink = Sink::start(Mode::Accept).await;
        let app = spawn(backend, &sink, &[]).await;
        let vendor = vendor_with_contact(&app, "Case Systems LLC", VENDOR_SALES).await;
        app.department("DOIT").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let body = json!({"title": "Case management", "vendor_id": vendor["id"], "product_name": "CaseFlow",
                   "capital_cost_cents": 0, "annual_operating_cost_cents": 1_000_000, "term_months": 12,
                   "expected_users": 30, "hosting": "vendor_cloud", "data_classes": ["pi_ma"],
                   "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false});
        app.draft_and_submit(&buyer, body).await;
        // Seven days before the questionnaires are due (the policy gives 30).
        let week_before = Utc::now() + Duration::days(23);
        let first = pass(&app, week_before).await;
        assert_eq!(first.notifications, 2, "{first:?}");
        let reminders: Vec<_> = sink.to(VENDOR_SALES);
        assert_eq!(reminders.len(), 2, "one per questionnaire");
        for m in &reminders {
            assert!(m.subject().starts_with("[Procurement review] Questionnaire \""), "{}", m.subject());
            assert!(m.body().contains("https://review.city.example/portal/assessments/"));
        }
        pass(&app, week_before + Duration::hours(3)).await;
        assert_eq!(sink.to(VENDOR_SALES).len(), 2, "a reminder is never sent twice");
        app.stop().await;
    }
);

both!(
    async fn a_duplicate_exception_and_a_reopened_request_are_mailed(backend) {
        let sink = Sink::start(Mode::Accept).await;
        let app = spawn(backend, &sink, &[]).await;
        app.department("DOIT").await;
        crate::catalog::add_service(&app, crate::catalog::esign()).await;
        let vendor = vendor_with_contact(&app, "DocuSign, Inc.", VENDOR_SALES).await;
        let buyer = app.buyer_token("DOIT", "bea");
        // A small purchase that only the duplicate check routes (to the CIO office).
        let body = json!({"title": "DocuSign for grants", "description": "", "vendor_id": vendor["id"],
            "product_name": "DocuSign", "category": "", "capabilities": [], "capital_cost_cents": 0,
            "annual_operating_cost_cents": 500_000, "term_months": 12, "expected_users": 20,
            "hosting": "on_premises", "data_classes": ["public"], "requested_start_date": "2026-09-01",
            "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false});
        let (id, _) = app.draft_and_submit(&buyer, body).await;
        app.transition(&format!("/api/v1/requests/{id}/duplicates/exception"), &buyer,
                       Some(&json!({"justification": "Our federal grantor requires its own signing audit trail"})))
            .await.ok(201);
        let now = Utc::now();
        pass(&app, now).await;
        let title = "[Procurement review] Request \"DocuSign for grants\"";
        assert_eq!(
            inbox(&sink, CIO),
            [
                format!("{title} asks for an exception to a likely duplicate purchase"),
                // The CIO office owns the catalogue: it is told which match the check found.
                format!("{title} was submitted and may duplicate what the city already runs: the duplicate check found a \
                         likely duplicate: Enterprise e-signature (central service, match score 0.95)"),
                format!("{title} was submitted for review"),
            ]
        );
        assert_eq!(inbox(&sink, DOIT_BUYERS), [format!("{title} was submitted for review")]);

        let granted = app.transition(&format!("/api/v1/requests/{id}/duplicates/exception/decision"), &app.token(Role::Cio),
                                     Some(&json!({"grant": true, "reason": "Grant terms require it; revisit at renewal"}))).await;
        assert_eq!(granted.ok(200)["request"]["status"], "approved");
        // An edit that raises the value by more than 10% re-opens review.
        let path = format!("/api/v1/requests/{id}");
        let tag = app.etag_of(&path, &buyer).await;
        let edited = app.patch(&path, &buyer, json!({"annual_operating_cost_cents": 600_000}), Some(&tag)).await;
        assert_ne!(edited.ok(200)["status"], "approved", "{}", edited.text);
        pass(&app, now + Duration::minutes(1)).await;
        let mut buyers = inbox(&sink, DOIT_BUYERS);
        buyers.retain(|s| !s.ends_with("was submitted for review"));
        assert_eq!(
            buyers,
            [format!("{title} had its duplicate exception decided by the CIO office"), format!("{title} was approved"),
             format!("{title} was re-opened for review after a material change")]
        );
        assert!(sink.to(VENDOR_SALES).is_empty() && sink.to(SECURITY).is_empty() && sink.to(ISD_BUYERS).is_empty());
        app.stop().await;
    }
);

both!(
    async fn an_invitation_email_carries_its_link_and_the_token_is_never_stored(backend) {
        let sink = Sink::start(Mode::Accept).await;
        let app = spawn(backend, &sink, &[]).await;
        let vendor = vendor_with_contact(&app, "Case Systems LLC", VENDOR_SALES).await;
        let request = routed_request(&app, &vendor).await;
        let buyer = app.buyer_token("DOIT", "bea");
        let vendor_id = vendor["id"].as_str().unwrap();
        let invite = |contact: &'static str| {
            let (app, buyer) = (&app, &buyer);
            let body = json!({"request_id": request, "contact_email": contact, "contact_name": "Sam"});
            async move { app.invite(buyer, vendor_id, body).await.ok(201).clone() }
        };
        let kept = invite(INVITED).await;
        let token = kept["token"].as_str().unwrap().to_string();
        // Revoked before the runner passes: its message must not carry a working link.
        let revoked = invite("late@vendor.example").await;
        let revoked_id = revoked["invitation"]["id"].as_str().unwrap();
        let revoked_token = revoked["token"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/vendors/{vendor_id}/invitations/{revoked_id}/revoke"), &buyer, json!({}))
            .await
            .ok(200);

        // Queued but not sent: the outbox holds neither token.
        app.store.fan_out(
            &procurement_review::store::FanOut {
                webhook_urls: &[], mail: Some(app.config.mail.mailboxes()), public_url: &app.config.public_url,
            },
            Utc::now(),
        ).await.unwrap();
        let bodies = app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE channel = 'email' \
                                 AND url IN ('mailto:security@vendor.example', 'mailto:late@vendor.example')").await;
        assert_eq!(bodies, 2, "one message per invitation");
        for t in [&token, &revoked_token] {
            let stored = app.count(&format!("SELECT COUNT(*) FROM webhook_deliveries WHERE body LIKE '%{t}%'")).await;
            assert_eq!(stored, 0, "a token was written to the outbox");
        }

        pass(&app, Utc::now()).await;
        let invited = sink.to(INVITED);
        assert_eq!(invited.len(), 1);
        let body = invited[0].body();
        let link = format!("https://review.city.example/portal/enter?token={token}");
        assert!(body.contains(&format!("Open it: {link}")), "{body}");
        assert!(body.contains(&format!("href=\"{link}\"")), "{body}");
        assert!(!body.contains("INVITATION-TOKEN"), "{body}");
        // The link's token is the one the API handed out, and it opens the vendor's questionnaires.
        let listed = app.get("/api/v1/assessments", &token).await;
        assert!(!listed.ok(200)["items"].as_array().unwrap().is_empty());

        let late = sink.to("late@vendor.example");
        assert_eq!(late.len(), 1);
        let body = late[0].body();
        assert!(body.contains("This invitation was revoked or has expired"), "{body}");
        assert!(body.contains("Open it: https://review.city.example/portal\r\n"), "{body}");
        assert!(!body.contains(&revoked_token) && !body.contains("INVITATION-TOKEN"), "{body}");
        app.stop().await;
    }
);
