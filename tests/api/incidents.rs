use chrono::{DateTime, Duration, NaiveDate, Utc};
use procurement_review::auth::Role;
use procurement_review::domain::incidents::eastern_date;
use procurement_review::jobs::run_once;
use procurement_review::store::Store;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

fn uuid_of(value: &Value) -> uuid::Uuid {
    id_of(value).parse().unwrap()
}

/// A report with Massachusetts and Connecticut residents and Social Security numbers.
fn report(discovered: DateTime<Utc>) -> Value {
    json!({
        "title": "Exposed backup bucket",
        "description": "A backup of the permit database was readable from the internet.\nFound by the vendor's monitoring.",
        "systems": ["permit backups"], "data_classes": ["pi_ma", "pi_ct"],
        "residents_ma": 120, "residents_ct": 7, "residents_other": 3,
        "ssn_involved": true, "tin_involved": false,
        "discovered_at": stamp(discovered),
        "steps_taken": "Bucket closed; keys rotated; WISP access review scheduled"
    })
}

fn path(incident: &str) -> String {
    format!("/api/v1/incidents/{incident}")
}

/// `POST /incidents/{id}/{action}` with the incident's current ETag, as `token`.
async fn act(
    app: &TestApp,
    token: &str,
    incident: &str,
    action: &str,
    body: Option<Value>,
) -> Resp {
    let object = path(incident);
    app.with_etag(
        Method::POST,
        &format!("{object}/{action}"),
        &object,
        token,
        body.as_ref(),
    )
    .await
}

/// `POST /orders/{id}/{action}` with the order's current ETag, as `token`.
async fn order_act(
    app: &TestApp,
    token: &str,
    order: &str,
    action: &str,
    body: Option<Value>,
) -> Resp {
    let object = format!("/api/v1/orders/{order}");
    app.with_etag(
        Method::POST,
        &format!("{object}/{action}"),
        &object,
        token,
        body.as_ref(),
    )
    .await
}

async fn upload(
    app: &TestApp,
    token: &str,
    incident: &str,
    name: &str,
    kind: &str,
    bytes: &[u8],
) -> Resp {
    let etag = app.etag_of(&path(incident), token).await;
    upload_as_of(app, token, incident, &etag, name, kind, bytes).await
}

async fn upload_as_of(
    app: &TestApp,
    token: &str,
    incident: &str,
    etag: &str,
    name: &str,
    kind: &str,
    bytes: &[u8],
) -> Resp {
    let object = path(incident);
    let resp = app
        .client
        .post(format!(
            "{}{object}/evidence?filename={name}&kind={kind}",
            app.base
        ))
        .bearer_auth(token)
        .header("Content-Type", "application/pdf")
        .header("If-Match", etag)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    TestApp::read(resp).await
}

fn deadline<'a>(incident: &'a Value, id: &str) -> &'a Value {
    incident["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no deadline {id}: {incident}"))
}

async fn notifications(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    let sql = format!(
        "SELECT recipient_role, dedup_key FROM notifications WHERE kind = '{kind}' ORDER BY recipient_role, dedup_key"
    );
    let sql = sqlx::AssertSqlSafe(sql);
    match &app.store {
        Store::Sqlite(r) => sqlx::query_as(sql).fetch_all(&r.pool).await.unwrap(),
        Store::Postgres(r) => sqlx::query_as(sql).fetch_all(&r.pool).await.unwrap(),
    }
}

async fn register_rows(app: &TestApp, name: &str, sheet: &str, token: &str) -> Vec<Vec<String>> {
    let resp = app
        .client
        .get(format!("{}/api/v1/reports/{name}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let book = procurement_review::sheets::Workbook::read(&bytes).unwrap();
    let (_, range) = book.sheet(sheet).unwrap();
    range
        .rows()
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect()
}

both!(
    async fn an_incident_with_massachusetts_and_connecticut_residents_and_ssns_runs_its_whole_lifecycle(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Acme Cloud").await;
        let vendor_token = app.vendor_token(uuid_of(&vendor));
        let analyst = app.token(Role::SecurityAnalyst);
        let discovered = Utc::now() - Duration::days(2);

        let created = app.post("/api/v1/incidents", &vendor_token, report(discovered)).await;
        let incident = created.ok(201).clone();
        let id = id_of(&incident);
        assert_eq!(created.header("location"), Some(path(&id).as_str()));
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(incident["status"], "reported");
        assert_eq!(incident["vendor_id"], vendor["id"], "a vendor reports about itself");
        assert_eq!(incident["reporter_role"], "vendor");
        let ids: Vec<&str> = incident["deadlines"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            ["vendor_notice", "ma_regulators", "ma_residents", "ma_credit_monitoring", "ct_residents",
             "ct_attorney_general", "ct_identity_protection"]
        );
        let day_found = eastern_date(discovered);
        let ct = deadline(&incident, "ct_residents");
        assert_eq!(ct["due_on"], (day_found + Duration::days(60)).to_string());
        assert_eq!(ct["kind"], "statute");
        assert_eq!(ct["citation"], "CGS 36a-701b");
        assert_eq!(ct["status"], "open");
        let ma = deadline(&incident, "ma_residents");
        assert_eq!(ma["due_on"], (day_found + Duration::days(30)).to_string());
        assert_eq!(ma["kind"], "escalation");
        assert_eq!(ma["citation"], "c.93H §3");
        assert!(deadline(&incident, "ma_credit_monitoring")["rule"].as_str().unwrap().contains("18 months"));
        assert!(deadline(&incident, "ct_identity_protection")["rule"].as_str().unwrap().contains("24 months"));
        // The vendor told the city two days after discovery, inside its 72 hours.
        assert_eq!(deadline(&incident, "vendor_notice")["status"], "met");
        assert_eq!(
            incident["notices_required"],
            json!(["ma_attorney_general", "ma_ocabr", "ma_residents", "ct_attorney_general", "ct_residents"])
        );

        // Changes need the ETag read; a vendor does not run the lifecycle.
        app.post(&format!("{}/triage", path(&id)), &analyst, json!({})).await.problem(428, "precondition_required");
        act(&app, &vendor_token, &id, "triage", None).await.problem(403, "forbidden");
        let triaged = act(&app, &analyst, &id, "triage", None).await;
        assert_eq!(triaged.ok(200)["status"], "triaged");
        assert_eq!(triaged.header("etag"), Some("\"2\""));
        let early = act(&app, &analyst, &id, "close", None).await;
        assert!(early.problem(409, "review_required")["detail"].as_str().unwrap().contains("201 CMR 17.03(2)(j)"));
        act(&app, &analyst, &id, "contain", None).await.ok(200);
        let waiting = act(&app, &analyst, &id, "review", Some(json!({"findings": "x"}))).await;
        assert!(waiting.problem(409, "notices_outstanding")["detail"].as_str().unwrap().contains("ct_residents"));

        let sent = stamp(Utc::now() - Duration::hours(1));
        let mut last = Value::Null;
        for recipient in ["ma_attorney_general", "ma_ocabr", "ma_residents", "ct_attorney_general", "ct_residents"] {
            let recorded = act(&app, &analyst, &id, "notices", Some(json!({
                "recipient": recipient, "sent_at": sent, "method": "letter", "reference": format!("REF-{recipient}")
            }))).await;
            last = recorded.ok(200).clone();
        }
        assert_eq!(last["status"], "notices_sent", "every required notice is recorded");
        assert_eq!(last["notices"].as_array().unwrap().len(), 5);
        for id in ["ma_regulators", "ma_residents", "ma_credit_monitoring", "ct_residents", "ct_attorney_general"] {
            assert_eq!(deadline(&last, id)["status"], "met", "{id}");
        }

        // The review raises a finding against the vendor on its assessment, into the findings lifecycle.
        app.department("DOIT").await;
        let purchase = crate::helpers::with(crate::helpers::purchase(&vendor), json!({"data_classes": ["pi_ma"]}));
        app.draft_and_submit(&app.token(Role::Buyer), purchase).await;
        let assessments = app.get(&format!("/api/v1/assessments?vendor_id={}", id_of(&vendor)), &analyst).await.ok(200).clone();
        let assessment = id_of(&assessments["items"][0]);
        let without = act(&app, &analyst, &id, "review", Some(json!({
            "findings": "x", "vendor_findings": [{"title": "Public bucket", "severity": "critical", "reason": "r"}]
        }))).await;
        without.problem(422, "validation_failed");
        assert_eq!(without.fields(), ["assessment_id"]);
        let reviewed = act(&app, &analyst, &id, "review", Some(json!({
            "findings": "Backups were created outside the hardened template.\nAll buckets now checked nightly.",
            "assessment_id": assessment,
            "vendor_findings": [{"title": "Backups outside the hardened template", "severity": "critical",
                                 "reason": "A backup bucket was created by hand and left public."}]
        }))).await;
        let reviewed = reviewed.ok(200).clone();
        assert_eq!(reviewed["status"], "post_incident_review");
        assert_eq!(reviewed["review"]["reviewed_by"], "user-security_analyst");
        let finding_id = reviewed["review"]["finding_ids"][0].as_str().expect("a finding raised").to_string();
        let finding = app.get(&format!("/api/v1/findings/{finding_id}"), &vendor_token).await.ok(200).clone();
        assert_eq!(finding["status"], "open");
        assert_eq!(finding["severity"], "critical");
        assert_eq!(finding["citation"], "201 CMR 17.03(2)(j)");
        assert_eq!(finding["assessment_id"], assessment.as_str());
        let closed = act(&app, &analyst, &id, "close", None).await.ok(200).clone();
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["allowed_actions"], json!([]));
        act(&app, &analyst, &id, "triage", None).await.problem(409, "incident_closed");

        assert_eq!(app.count("SELECT COUNT(*) FROM incidents WHERE status = 'closed' AND closed_by = 'user-security_analyst'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM incident_notices").await, 5);
        // Reported, triaged, contained, five notices, reviewed, closed: each in the audit trail.
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE object_type = 'incident'").await, 10);
        app.stop().await;
    }
);

both!(
    async fn breach_notice_deadlines_become_reminders_and_escalations_from_the_stored_dates(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Permit Cloud").await;
        let analyst = app.token(Role::SecurityAnalyst);
        // Found at 22:30 in Boston on February 28, 2026 (03:30 UTC on March 1).
        let mut body = report(at("2026-03-01T03:30:00Z"));
        body["vendor_id"] = vendor["id"].clone();
        body["residents_ma"] = json!(10);
        body["residents_ct"] = json!(5);
        body["city_notified_at"] = json!("2026-03-01T12:00:00Z");
        let incident = app.post("/api/v1/incidents", &analyst, body.clone()).await.ok(201).clone();
        let id = id_of(&incident);
        // Counted from Boston's February 28: 60 days is April 29, not April 30; the MA escalation is March 30.
        assert_eq!(deadline(&incident, "ct_residents")["due_on"], "2026-04-29");
        assert_eq!(deadline(&incident, "ma_regulators")["due_on"], "2026-03-30");
        assert_eq!(deadline(&incident, "vendor_notice")["due_at"], "2026-03-04T03:30:00+00:00");
        // Both long past today: the read shows them overdue.
        assert_eq!(deadline(&incident, "ct_residents")["status"], "overdue");

        // A second incident whose vendor told the city after its 72 hours.
        let mut late = body.clone();
        late["title"] = json!("Late notice");
        late["residents_ma"] = json!(0);
        late["residents_ct"] = json!(0);
        late["city_notified_at"] = json!("2026-03-05T12:00:00Z");
        let late = app.post("/api/v1/incidents", &analyst, late).await.ok(201).clone();
        assert_eq!(deadline(&late, "vendor_notice")["status"], "met_late");

        // Ten days before the MA escalation day: the 14-day reminder, to the analysts, for each MA deadline.
        let first = run_once(&app.store, &app.config, at("2026-03-20T15:00:00Z")).await.unwrap();
        let due = notifications(&app, "incident_notice_due").await;
        assert_eq!(
            due,
            ["ma_credit_monitoring", "ma_regulators", "ma_residents"]
                .map(|d| ("security_analyst".to_string(), format!("incident_notice_due:14:{id}:{d}:2026-03-30")))
        );
        let escalated = notifications(&app, "vendor_notice_late").await;
        assert_eq!(escalated.len(), 1);
        assert_eq!(escalated[0].0, "cio");
        assert!(escalated[0].1.contains(&id_of(&late)));
        assert_eq!(first.notifications, 4);
        let again = run_once(&app.store, &app.config, at("2026-03-20T18:00:00Z")).await.unwrap();
        assert_eq!(again.notifications, 0, "a rerun makes nothing new");

        // The day after the escalation day, nothing sent: escalated to the CIO office, analysts copied.
        run_once(&app.store, &app.config, at("2026-03-31T15:00:00Z")).await.unwrap();
        let overdue = notifications(&app, "incident_notice_overdue").await;
        assert_eq!(overdue.len(), 6);
        assert_eq!(overdue.iter().filter(|(role, _)| role == "cio").count(), 3);
        assert!(overdue.iter().all(|(_, key)| key.contains(":2026-03-30")), "{overdue:?}");

        // The MA notices go out; then the day before Connecticut's 60th day only its deadlines remind, once,
        // at the most urgent threshold crossed.
        act(&app, &analyst, &id, "triage", None).await.ok(200);
        for recipient in ["ma_attorney_general", "ma_ocabr", "ma_residents"] {
            act(&app, &analyst, &id, "notices", Some(json!({
                "recipient": recipient, "sent_at": "2026-04-01T14:00:00Z", "method": "letter"
            }))).await.ok(200);
        }
        let before = notifications(&app, "incident_notice_due").await.len();
        run_once(&app.store, &app.config, at("2026-04-28T15:00:00Z")).await.unwrap();
        let due = notifications(&app, "incident_notice_due").await;
        let new: Vec<&String> = due.iter().map(|(_, k)| k).filter(|k| k.contains("ct_")).collect();
        assert_eq!(due.len(), before + 3);
        assert_eq!(
            new,
            ["ct_attorney_general", "ct_identity_protection", "ct_residents"]
                .map(|d| format!("incident_notice_due:1:{id}:{d}:2026-04-29"))
                .iter()
                .collect::<Vec<_>>()
        );
        let read = app.get(&path(&id), &analyst).await.ok(200).clone();
        assert_eq!(deadline(&read, "ma_regulators")["status"], "met_late", "sent April 1, after March 30");

        // A closed incident reminds nobody.
        act(&app, &analyst, &id_of(&late), "not-a-breach", Some(json!({"reason": "test data only"}))).await.ok(200);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM incidents WHERE status = 'closed_not_breach' AND not_breach_reason = 'test data only'").await,
            1
        );
        app.stop().await;
    }
);

both!(
    async fn a_law_enforcement_determination_holds_the_massachusetts_escalation_but_not_connecticut(backend) {
        let app = TestApp::spawn(backend).await;
        let analyst = app.token(Role::SecurityAnalyst);
        let mut body = report(at("2026-03-01T03:30:00Z"));
        body["city_notified_at"] = json!("2026-03-01T12:00:00Z");
        let incident = app.post("/api/v1/incidents", &analyst, body).await.ok(201).clone();
        let id = id_of(&incident);
        assert!(incident["deadlines"].as_array().unwrap().iter().all(|d| d["id"] != "vendor_notice"), "a city system");
        let uploaded = upload(&app, &analyst, &id, "bpd-letter.pdf", "law_enforcement_determination", b"%PDF-1.4 determination").await;
        uploaded.ok(201);
        let read = app.get(&path(&id), &analyst).await.ok(200).clone();
        assert_eq!(read["law_enforcement_delay"], true);
        assert_eq!(deadline(&read, "ma_residents")["status"], "delayed");
        assert_eq!(deadline(&read, "ct_residents")["status"], "overdue");
        run_once(&app.store, &app.config, at("2026-05-01T15:00:00Z")).await.unwrap();
        let overdue = notifications(&app, "incident_notice_overdue").await;
        assert!(overdue.iter().all(|(_, key)| key.contains(":ct_")), "{overdue:?}");
        assert_eq!(overdue.len(), 6, "three CT deadlines, to the CIO office and the analysts");
        app.stop().await;
    }
);

both!(
    async fn a_vendor_reports_about_itself_and_another_vendors_incident_answers_404(backend) {
        let app = TestApp::spawn(backend).await;
        let acme = app.create_vendor("Acme Cloud").await;
        let other = app.create_vendor("Other Hosting").await;
        let acme_token = app.vendor_token(uuid_of(&acme));
        let other_token = app.vendor_token(uuid_of(&other));
        let discovered = Utc::now() - Duration::hours(5);

        let mut about_other = report(discovered);
        about_other["vendor_id"] = other["id"].clone();
        let refused = app.post("/api/v1/incidents", &acme_token, about_other).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.fields(), ["vendor_id"]);
        let mut dated = report(discovered);
        dated["city_notified_at"] = json!(stamp(discovered));
        assert_eq!(app.post("/api/v1/incidents", &acme_token, dated).await.fields(), ["city_notified_at"]);
        let mut typo = report(discovered);
        typo["residents_mass"] = json!(3);
        let typo = app.post("/api/v1/incidents", &acme_token, typo).await;
        typo.problem(422, "validation_failed");
        assert_eq!(typo.fields(), ["residents_mass"]);

        let own = app.post("/api/v1/incidents", &acme_token, report(discovered)).await.ok(201).clone();
        let theirs = app.post("/api/v1/incidents", &other_token, report(discovered)).await.ok(201).clone();
        let evidence = upload(&app, &other_token, &id_of(&theirs), "log.pdf", "evidence", b"%PDF-1.4 log").await.ok(201).clone();

        let read = app.get(&path(&id_of(&own)), &acme_token).await;
        assert_eq!(read.ok(200)["id"], own["id"]);
        assert_eq!(read.header("etag"), Some("\"1\""));
        app.get(&path(&id_of(&theirs)), &acme_token).await.problem(404, "not_found");
        app.get(&format!("{}/evidence/{}", path(&id_of(&theirs)), id_of(&evidence)), &acme_token)
            .await
            .problem(404, "not_found");
        upload_as_of(&app, &acme_token, &id_of(&theirs), "\"2\"", "x.pdf", "evidence", b"%PDF-1.4 x")
            .await
            .problem(404, "not_found");
        let listed = app.get("/api/v1/incidents", &acme_token).await.ok(200).clone();
        assert_eq!(listed["page"]["total"], 1);
        assert_eq!(listed["items"][0]["id"], own["id"]);
        let staff = app.get("/api/v1/incidents?limit=1", &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(staff["page"]["total"], 2);
        assert_eq!(staff["page"]["next_offset"], 1);

        let rows = register_rows(&app, "incidents.xlsx", "Incidents", &acme_token).await;
        assert_eq!(rows.len(), 2, "the header and the vendor's own incident");
        assert_eq!(rows[1][1], "Acme Cloud");
        assert_eq!(register_rows(&app, "incidents.xlsx", "Incidents", &app.token(Role::Auditor)).await.len(), 3);
        app.stop().await;
    }
);

both!(
    async fn incident_evidence_is_kept_as_uploaded_never_replaced_and_deleted_only_after_close_and_hold(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Acme Cloud").await;
        let vendor_token = app.vendor_token(uuid_of(&vendor));
        let analyst = app.token(Role::SecurityAnalyst);
        let admin = app.token(Role::Admin);
        let incident = app.post("/api/v1/incidents", &vendor_token, report(Utc::now() - Duration::hours(3))).await.ok(201).clone();
        let id = id_of(&incident);

        let original = b"%PDF-1.4 firewall log, first extract".to_vec();
        let first = upload(&app, &vendor_token, &id, "firewall.pdf", "evidence", &original).await;
        let first = first.ok(201).clone();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&original));
        assert_eq!(first["sha256"], digest);
        assert_eq!(first["uploaded_by"], format!("vendor-{}", vendor["id"].as_str().unwrap()));
        assert_eq!(first["uploaded_role"], "vendor");
        // The same name again is a second file; the first stays as it was.
        let second = upload(&app, &vendor_token, &id, "firewall.pdf", "evidence", b"%PDF-1.4 other bytes").await.ok(201).clone();
        assert_ne!(second["id"], first["id"]);
        let read = app.get(&path(&id), &analyst).await.ok(200).clone();
        assert_eq!(read["evidence"].as_array().unwrap().len(), 2);
        assert_eq!(read["evidence"][0]["sha256"], digest);

        let file = format!("{}/evidence/{}", path(&id), id_of(&first));
        // No verb replaces a file.
        let put = app.put(&file, &admin, json!({}), Some("\"1\"")).await;
        put.problem(405, "method_not_allowed");
        let refused = app.call(Method::DELETE, &file, Some(&admin), None, &[]).await;
        refused.problem(409, "evidence_preserved");
        // Nor does the database let one be changed behind the service's back.
        let tamper = sqlx::AssertSqlSafe("UPDATE incident_evidence SET sha256 = 'x'".to_string());
        let tampered = match &app.store {
            Store::Sqlite(r) => sqlx::query(tamper).execute(&r.pool).await.is_err(),
            Store::Postgres(r) => sqlx::query(tamper).execute(&r.pool).await.is_err(),
        };
        assert!(tampered, "the trigger refuses an update");

        // Each read is in the chain of custody.
        let downloaded = app.client.get(format!("{}{file}", app.base)).bearer_auth(&analyst).send().await.unwrap();
        assert_eq!(downloaded.status(), 200);
        assert_eq!(downloaded.headers()["digest-sha256"], digest.as_str());
        assert_eq!(downloaded.headers()["content-disposition"], "attachment; filename=\"firewall.pdf\"");
        assert_eq!(downloaded.bytes().await.unwrap().to_vec(), original);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'incident.evidence_read' AND actor = 'user-security_analyst' \
                 AND object_id = '{}'", id_of(&first)
            )).await,
            1
        );

        // A hold outlives the incident.
        act(&app, &analyst, &id, "hold", Some(json!({"hold": true, "reason": "litigation expected"}))).await.ok(200);
        act(&app, &analyst, &id, "not-a-breach", Some(json!({"reason": "the data was synthetic"}))).await.ok(200);
        upload(&app, &vendor_token, &id, "late.pdf", "evidence", b"%PDF-1.4 late").await.problem(409, "incident_closed");
        app.call(Method::DELETE, &file, Some(&admin), None, &[]).await.problem(409, "evidence_on_hold");
        app.call(Method::DELETE, &file, Some(&analyst), None, &[]).await.problem(403, "forbidden");
        act(&app, &analyst, &id, "hold", Some(json!({"hold": false, "reason": "matter settled"}))).await.ok(200);
        let deleted = app.call(Method::DELETE, &file, Some(&admin), None, &[]).await;
        assert_eq!(deleted.status.as_u16(), 204);
        assert_eq!(app.count("SELECT COUNT(*) FROM incident_evidence").await, 1);
        let trail = app
            .get(&format!("/api/v1/audit?action=incident.evidence_deleted&object_id={}", id_of(&first)), &admin)
            .await
            .ok(200)
            .clone();
        assert_eq!(trail["items"].as_array().unwrap().len(), 1);
        assert_eq!(trail["items"][0]["before"]["sha256"], digest, "the audit trail keeps the hash of what went");
        app.stop().await;
    }
);

fn small_purchase(vendor: &Value) -> Value {
    json!({
        "title": "Library room booking", "description": "Book study rooms online", "vendor_id": vendor["id"],
        "product_name": "RoomIt", "category": "scheduling", "capabilities": ["room booking"],
        "capital_cost_cents": 0, "annual_operating_cost_cents": 100_000, "term_months": 12, "expected_users": 10,
        "hosting": "on_premises", "data_classes": ["public"], "requested_start_date": "2027-01-15",
        "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false
    })
}

async fn route_grounds(app: &TestApp, buyer: &str, vendor: &Value) -> Vec<String> {
    let (id, _) = app.draft_and_submit(buyer, small_purchase(vendor)).await;
    let route = app
        .get(&format!("/api/v1/requests/{id}/route"), buyer)
        .await
        .ok(200)
        .clone();
    route["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["grounds"].as_array().unwrap().iter())
        .map(|g| {
            format!(
                "{}: {}",
                g["rule_id"].as_str().unwrap(),
                g["reason"].as_str().unwrap()
            )
        })
        .collect()
}

both!(
    async fn an_order_is_appealed_once_and_while_it_stands_new_requests_with_the_vendor_go_to_the_cio(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Acme Cloud").await;
        let other = app.create_vendor("Other Hosting").await;
        let vendor_token = app.vendor_token(uuid_of(&vendor));
        let cio = app.token(Role::Cio);
        let buyer = app.token(Role::Buyer);
        let analyst = app.token(Role::SecurityAnalyst);
        assert_eq!(route_grounds(&app, &buyer, &vendor).await, Vec::<String>::new(), "nothing routes it");

        let mut body = report(Utc::now() - Duration::days(1));
        body["vendor_id"] = vendor["id"].clone();
        let incident = app.post("/api/v1/incidents", &analyst, body).await.ok(201).clone();
        let today = eastern_date(Utc::now());
        let due: NaiveDate = today + Duration::days(10);
        let order_body = json!({"vendor_id": vendor["id"], "incident_id": incident["id"],
                                "actions": ["Close public access to every bucket", "Rotate the backup keys"],
                                "due_date": due.to_string()});
        app.post("/api/v1/orders", &analyst, order_body.clone()).await.problem(403, "forbidden");
        let mut foreign = order_body.clone();
        foreign["vendor_id"] = other["id"].clone();
        assert_eq!(app.post("/api/v1/orders", &cio, foreign).await.fields(), ["incident_id"]);
        let created = app.post("/api/v1/orders", &cio, order_body).await;
        let order = created.ok(201).clone();
        assert_eq!(order["status"], "issued");
        assert_eq!(order["open"], true);
        let order_id = id_of(&order);
        let short = &order_id.replace('-', "")[..8];

        // While it stands, a new request with the vendor is put before the CIO, with the order named.
        let grounds = route_grounds(&app, &buyer, &vendor).await;
        assert_eq!(
            grounds,
            [format!("cio-vendor-open-order: a remediation order stands against the vendor: order {short}, due {due}")]
        );
        assert_eq!(route_grounds(&app, &buyer, &other).await, Vec::<String>::new(), "another vendor is unaffected");

        // Only its recipient sees and acts on it.
        let other_token = app.vendor_token(uuid_of(&other));
        app.get(&format!("/api/v1/orders/{order_id}"), &other_token).await.problem(404, "not_found");
        assert_eq!(app.get("/api/v1/orders", &other_token).await.ok(200)["page"]["total"], 0);
        app.call_if_match(Method::POST, &format!("/api/v1/orders/{order_id}/acknowledge"), &other_token, None, "\"1\"")
            .await
            .problem(404, "not_found");
        app.post(&format!("/api/v1/orders/{order_id}/acknowledge"), &vendor_token, json!({})).await.problem(428, "precondition_required");
        assert_eq!(order_act(&app, &vendor_token, &order_id, "acknowledge", None).await.ok(200)["status"], "acknowledged");

        // Reminders: the day before it is due, to the vendor; once overdue, to the CIO office and the vendor.
        let noon = |day: NaiveDate| day.and_hms_opt(17, 0, 0).unwrap().and_utc();
        run_once(&app.store, &app.config, noon(due - Duration::days(1))).await.unwrap();
        assert_eq!(
            notifications(&app, "remediation_order_due").await,
            [("vendor".to_string(), format!("remediation_order_due:1:{order_id}:{due}"))]
        );
        run_once(&app.store, &app.config, noon(due + Duration::days(2))).await.unwrap();
        let overdue: Vec<String> = notifications(&app, "remediation_order_overdue").await.into_iter().map(|(r, _)| r).collect();
        assert_eq!(overdue, ["cio", "vendor"]);

        // One appeal, decided with a reason; upheld, the order is back where it was.
        let appealed = order_act(&app, &vendor_token, &order_id, "appeal", Some(json!({"grounds": "The buckets were never public.\nSee the access logs."}))).await;
        assert_eq!(appealed.ok(200)["status"], "appealed");
        order_act(&app, &vendor_token, &order_id, "appeal/decision", Some(json!({"outcome": "upheld", "reason": "x"}))).await.problem(403, "forbidden");
        order_act(&app, &cio, &order_id, "appeal/decision", Some(json!({"outcome": "upheld", "reason": " "}))).await.problem(422, "validation_failed");
        let decided = order_act(&app, &cio, &order_id, "appeal/decision", Some(json!({"outcome": "upheld", "reason": "The access logs show public reads."}))).await.ok(200).clone();
        assert_eq!(decided["status"], "acknowledged");
        assert_eq!(decided["appeal"]["outcome"], "upheld");
        assert_eq!(decided["appeal"]["decided_by"], "user-cio");
        order_act(&app, &vendor_token, &order_id, "appeal", Some(json!({"grounds": "again"}))).await.problem(409, "appeal_used");

        // Completion, found wanting, completed again, verified.
        order_act(&app, &vendor_token, &order_id, "completion", Some(json!({"note": "Buckets closed", "evidence": "Config export 2026-12"}))).await.ok(200);
        order_act(&app, &cio, &order_id, "reopen", Some(json!({"reason": "Keys not rotated"}))).await.ok(200);
        order_act(&app, &vendor_token, &order_id, "completion", Some(json!({"note": "Keys rotated", "evidence": "KMS audit log"}))).await.ok(200);
        let verified = order_act(&app, &cio, &order_id, "verify", None).await.ok(200).clone();
        assert_eq!(verified["status"], "verified");
        assert_eq!(verified["open"], false);
        assert_eq!(verified["reopen_reason"], "Keys not rotated");
        assert_eq!(app.count("SELECT COUNT(*) FROM remediation_orders WHERE status = 'verified' AND completion_evidence = 'KMS audit log' AND verified_by = 'user-cio'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE object_type = 'remediation_order'").await, 8);
        assert_eq!(route_grounds(&app, &buyer, &vendor).await, Vec::<String>::new(), "a verified order no longer stands");

        let rows = register_rows(&app, "orders.xlsx", "Orders", &vendor_token).await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][0], "Acme Cloud");
        assert_eq!(rows[1][1], "verified");
        assert!(rows[1][8].starts_with("upheld: "), "{:?}", rows[1]);
        assert_eq!(register_rows(&app, "orders.xlsx", "Orders", &other_token).await.len(), 1, "the header alone");
        app.stop().await;
    }
);

both!(
    async fn a_granted_appeal_withdraws_a_departments_order_within_its_days(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PARKS").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let cio = app.token(Role::Cio);
        let incident = app.post("/api/v1/incidents", &analyst, report(Utc::now() - Duration::days(1))).await.ok(201).clone();
        let due = eastern_date(Utc::now()) + Duration::days(30);
        let order = app.post("/api/v1/orders", &cio, json!({"department": "DOIT", "incident_id": incident["id"],
                                                             "actions": ["Patch the permit server"], "due_date": due.to_string()})).await.ok(201).clone();
        let order_id = id_of(&order);
        let parks = app.buyer_token("PARKS", "pat");
        let not_ours = json!({"grounds": "not ours"});
        app.call_if_match(Method::POST, &format!("/api/v1/orders/{order_id}/appeal"), &parks, Some(&not_ours), "\"1\"")
            .await
            .problem(404, "not_found");
        let doit = app.token(Role::Buyer);
        order_act(&app, &doit, &order_id, "appeal", Some(json!({"grounds": "The server was retired last month."}))).await.ok(200);
        let granted = order_act(&app, &cio, &order_id, "appeal/decision", Some(json!({"outcome": "granted", "reason": "Retired: confirmed"}))).await.ok(200).clone();
        assert_eq!(granted["status"], "withdrawn");
        assert_eq!(granted["open"], false);
        order_act(&app, &doit, &order_id, "acknowledge", None).await.problem(409, "order_closed");

        app.stop().await;
    }
);

both!(
    async fn the_notice_packets_carry_the_fields_each_attorney_general_asks_for(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Acme Cloud").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let mut body = report(at("2026-03-01T03:30:00Z"));
        body["vendor_id"] = vendor["id"].clone();
        body["city_notified_at"] = json!("2026-03-01T12:00:00Z");
        let incident = app.post("/api/v1/incidents", &analyst, body).await.ok(201).clone();
        let id = id_of(&incident);
        let packet = app
            .get(&format!("{}/notice-packet?jurisdiction=ma&reporter_name=Pat%20Lee&reporter_title=CISO", path(&id)), &analyst)
            .await
            .ok(200)
            .clone();
        let fields: Vec<(&str, &str)> = packet["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["key"].as_str().unwrap(), f["value"].as_str().unwrap()))
            .collect();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["nature_of_breach", "date_discovered", "residents_affected", "entity_name", "entity_address",
             "entity_type", "reporter_name", "reporter_title", "responsible_person", "service_provider",
             "personal_information_types", "wisp_maintained", "steps_taken", "credit_monitoring"]
        );
        let value = |key: &str| fields.iter().find(|(k, _)| *k == key).unwrap().1.to_string();
        assert_eq!(value("residents_affected"), "120");
        assert_eq!(value("date_discovered"), "2026-02-28");
        assert_eq!(value("entity_name"), "City of Boston");
        assert_eq!(value("service_provider"), "Acme Cloud");
        assert_eq!(value("reporter_title"), "CISO");
        assert_eq!(value("steps_taken"), "Bucket closed; keys rotated; WISP access review scheduled");
        assert!(value("credit_monitoring").contains("18 months"));
        assert!(value("personal_information_types").starts_with("Social Security numbers"));
        assert_eq!(packet["missing"], json!(["responsible_person"]));
        assert_eq!(packet["recipients"], json!(["ma_attorney_general", "ma_ocabr"]));
        assert_eq!(packet["citation"], "c.93H §3");

        let ct = app.get(&format!("{}/notice-packet?jurisdiction=ct", path(&id)), &analyst).await.ok(200).clone();
        let ct_value = |key: &str| {
            ct["fields"].as_array().unwrap().iter().find(|f| f["key"] == key).unwrap()["value"].as_str().unwrap().to_string()
        };
        assert_eq!(ct_value("residents_affected"), "7");
        assert_eq!(ct_value("total_affected"), "130");
        assert!(ct_value("identity_theft_protection").contains("24 months"));
        assert_eq!(ct["missing"], json!(["reporter_name", "reporter_title", "responsible_person"]));

        let resp = app
            .client
            .get(format!("{}{}/notice-packet.xlsx?jurisdiction=ma&reporter_name=Pat%20Lee", app.base, path(&id)))
            .bearer_auth(&analyst)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-disposition"],
            format!("attachment; filename=\"notice-packet-ma-{id}.xlsx\"").as_str()
        );
        let bytes = resp.bytes().await.unwrap().to_vec();
        let book = procurement_review::sheets::Workbook::read(&bytes).unwrap();
        let (_, range) = book.sheet("Notice packet").unwrap();
        let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        assert_eq!(rows[0], ["Field", "Value", "Key"]);
        assert_eq!(rows.len(), 15);
        assert!(rows.iter().any(|r| r[2] == "reporter_name" && r[1] == "Pat Lee"));
        assert!(rows.iter().any(|r| r[2] == "residents_affected" && r[1] == "120"));

        let vendor_token = app.vendor_token(uuid_of(&vendor));
        app.get(&format!("{}/notice-packet?jurisdiction=ma", path(&id)), &vendor_token).await.problem(403, "forbidden");
        app.get(&format!("{}/notice-packet?jurisdiction=ny", path(&id)), &analyst).await.problem(400, "bad_parameter");
        app.stop().await;
    }
);

both!(
    async fn a_post_incident_review_raises_findings_against_the_vendor_and_starts_its_reassessment(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Reviewed Cloud").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &analyst).await.ok(200).clone();
        let critical = crate::assessments::first_critical_yes(&template);
        let (vendor_token, ma, _) = crate::assessments::accepted_with_a_finding(&app, &vendor, &critical).await;
        let before = app.get(&format!("/api/v1/assessments/{ma}"), &analyst).await.ok(200).clone();
        assert_eq!(before["assessment"]["status"], "accepted");

        let mut body = report(Utc::now() - Duration::days(1));
        body["vendor_id"] = vendor["id"].clone();
        body["residents_ma"] = json!(0);
        body["residents_ct"] = json!(0);
        let incident = app.post("/api/v1/incidents", &analyst, body).await.ok(201).clone();
        let id = id_of(&incident);
        act(&app, &analyst, &id, "triage", None).await.ok(200);
        act(&app, &analyst, &id, "contain", None).await.ok(200);
        // No resident to notify: the review follows containment.
        let reviewed = act(&app, &analyst, &id, "review", Some(json!({
            "findings": "Keys were shared between environments.",
            "assessment_id": ma,
            "vendor_findings": [{"title": "Shared keys across environments", "severity": "moderate",
                                 "reason": "Production keys were usable in staging."}],
            "start_reassessment": true
        }))).await.ok(200).clone();
        assert_eq!(reviewed["status"], "post_incident_review");
        let finding_id = reviewed["review"]["finding_ids"][0].as_str().unwrap().to_string();
        let finding = app.get(&format!("/api/v1/findings/{finding_id}"), &vendor_token).await.ok(200).clone();
        assert_eq!(finding["severity"], "moderate");
        assert_eq!(finding["citation"], "201 CMR 17.03(2)(j)");
        // The raised finding follows the findings lifecycle: the vendor plans its remediation.
        let due = (eastern_date(Utc::now()) + Duration::days(30)).to_string();
        app.finding_action(&vendor_token, &finding_id, "remediation", json!({"plan": "Separate key vaults", "due_date": due}))
            .await
            .ok(200);
        // The vendor's assessment is open again for its next cycle.
        let after = app.get(&format!("/api/v1/assessments/{ma}"), &analyst).await.ok(200).clone();
        assert_eq!(after["assessment"]["status"], "open");
        assert_eq!(after["assessment"]["cycle"], 2);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'finding.raised' AND object_id = '{finding_id}'"
            ))
            .await,
            1
        );
        app.stop().await;
    }
);

/// A measurement, not run by default: one job-runner pass over 1,000 open incidents, each with Massachusetts and
/// Connecticut residents and SSNs (nine reminders each on the day measured), then the steady pass that finds
/// them all made. `cargo test --test api job_runner_pass_over -- --ignored --nocapture` (PostgreSQL too when
/// `TEST_POSTGRES_URL` is set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it with --ignored --nocapture"]
async fn job_runner_pass_over_a_thousand_open_incidents() {
    use procurement_review::store::Actor;
    use procurement_review::workflow::incidents::{NewIncident, Reporter};
    let mut backends = vec![crate::helpers::Backend::Sqlite];
    if crate::helpers::postgres_url().is_some() {
        backends.push(crate::helpers::Backend::Postgres);
    }
    for backend in backends {
        let app = TestApp::spawn(backend).await;
        let clock = at("2026-06-01T15:00:00Z");
        let seeded = std::time::Instant::now();
        for n in 0..1_000 {
            let new = NewIncident {
                vendor_id: None,
                title: format!("Incident {n}"),
                description: "Seeded for the measurement".into(),
                systems: vec![],
                data_classes: vec!["pi_ma".into(), "pi_ct".into()],
                contract_ids: vec![],
                request_ids: vec![],
                residents_ma: 10,
                residents_ct: 10,
                residents_other: 0,
                ssn_involved: true,
                tin_involved: false,
                discovered_at: clock - Duration::days(50),
                city_notified_at: clock - Duration::days(50),
                steps_taken: None,
                responsible_person: None,
            };
            app.store
                .report_incident(&Actor::system(), &Reporter::Staff(Role::Admin), new)
                .await
                .unwrap();
        }
        let seeding = seeded.elapsed();
        let started = std::time::Instant::now();
        let first = run_once(&app.store, &app.config, clock).await.unwrap();
        let first_pass = started.elapsed();
        let started = std::time::Instant::now();
        let steady = run_once(&app.store, &app.config, clock + Duration::minutes(1))
            .await
            .unwrap();
        let steady_pass = started.elapsed();
        assert_eq!(
            first.notifications, 9_000,
            "3 CT reminders and 3 MA escalations to two roles each"
        );
        assert_eq!(steady.notifications, 0);
        println!(
            "{}: seeding 1,000 incidents {seeding:?}; first pass ({} reminders) {first_pass:?}; steady pass {steady_pass:?}",
            app.store.backend(),
            first.notifications
        );
        app.stop().await;
    }
}
