//! Vendor invitations scoped to the work they invite to, closing a request's vendor work, and identity.

use chrono::{Duration, Utc};
use procurement_review::auth::Role;
use procurement_review::jobs::run_once;
use procurement_review::store::{Actor, NewNotification};
use reqwest::Method;
use serde_json::{Value, json};

use crate::assessments::{accepted_with_a_finding, first_critical_yes, upload, upload_if_match};
use crate::both;
use crate::helpers::TestApp;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// A submitted request of `department`'s for `vendor` whose route asks for two questionnaires (MA personal
/// information, vendor-hosted); returns its id.
async fn routed(app: &TestApp, buyer: &str, department: &str, vendor: &Value) -> String {
    // Made by the first request of the department; later ones find it (409).
    app.post(
        "/api/v1/departments",
        &app.token(Role::Admin),
        json!({"code": department, "name": department}),
    )
    .await;
    let (request, submitted) = app
        .draft_and_submit(
            buyer,
            json!({"title": "Case management", "vendor_id": vendor["id"], "product_name": "CaseFlow",
                   "capital_cost_cents": 0, "annual_operating_cost_cents": 1_000_000, "term_months": 12,
                   "expected_users": 30, "hosting": "vendor_cloud", "data_classes": ["pi_ma"],
                   "requested_start_date": "2026-09-01",
                   "renewal": false, "enterprise_agreement": false, "surveillance": false, "face_surveillance": false}),
        )
        .await;
    assert_eq!(submitted["status"], "in_review");
    request
}

/// The assessments a token lists, as (assessment id, request id).
async fn listed(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let page = app.get("/api/v1/assessments", token).await.ok(200).clone();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (id(a), a["request_id"].as_str().unwrap().to_string()))
        .collect()
}

/// The ids of a request's assessments, as an analyst sees them.
async fn assessments_of(app: &TestApp, request: &str) -> Vec<String> {
    let page = app
        .get(
            &format!("/api/v1/assessments?request_id={request}"),
            &app.token(Role::SecurityAnalyst),
        )
        .await
        .ok(200)
        .clone();
    let mut ids: Vec<String> = page["items"].as_array().unwrap().iter().map(id).collect();
    ids.sort();
    ids
}

async fn invite_ok(app: &TestApp, inviter: &str, vendor: &str, request: &str) -> (String, Value) {
    let body = app
        .invite(
            inviter,
            vendor,
            json!({"request_id": request, "contact_email": "security@vendor.example"}),
        )
        .await
        .ok(201)
        .clone();
    (
        body["token"].as_str().unwrap().to_string(),
        body["invitation"].clone(),
    )
}

/// A vendor that DOIT's buyer `bea` invited twice, once for each of two requests.
struct InvitedTwice {
    vid: String,
    buyer: String,
    first: String,
    second: String,
    /// The first invitation's token, and the invitation.
    t1: String,
    inv1: Value,
    t2: String,
}

async fn invited_twice(app: &TestApp, name: &str) -> InvitedTwice {
    let vendor = app.create_vendor(name).await;
    let vid = id(&vendor);
    let buyer = app.buyer_token("DOIT", "bea");
    let first = routed(app, &buyer, "DOIT", &vendor).await;
    let second = routed(app, &buyer, "DOIT", &vendor).await;
    let (t1, inv1) = invite_ok(app, &buyer, &vid, &first).await;
    let (t2, _) = invite_ok(app, &buyer, &vid, &second).await;
    InvitedTwice {
        vid,
        buyer,
        first,
        second,
        t1,
        inv1,
        t2,
    }
}

/// A vendor, invited by DOIT's buyer, whose 201 CMR 17.00 assessment is accepted with a finding (the city
/// baseline questionnaire of the same request stays open).
struct Accepted {
    vendor: Value,
    token: String,
    assessment: String,
    finding: Value,
    request: String,
}

async fn accepted_case(app: &TestApp, name: &str) -> Accepted {
    let vendor = app.create_vendor(name).await;
    let analyst = app.token(Role::SecurityAnalyst);
    let template = app
        .get("/api/v1/questionnaires/ma-201-cmr-17", &analyst)
        .await
        .ok(200)
        .clone();
    let critical = first_critical_yes(&template);
    let (token, assessment, finding) = accepted_with_a_finding(app, &vendor, &critical).await;
    let detail = app
        .get(&format!("/api/v1/assessments/{assessment}"), &analyst)
        .await
        .ok(200)
        .clone();
    let request = detail["assessment"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    Accepted {
        vendor,
        token,
        assessment,
        finding,
        request,
    }
}

both!(
    async fn a_buyers_invitation_reaches_only_the_request_it_was_issued_for(backend) {
        // Issue 20, finding 1: a buyer of one department invited the vendor and, with that token, read another
        // department's assessments, evidence and findings.
        let app = TestApp::spawn(backend).await;
        // Department DOIT's request: an accepted assessment with evidence and a finding.
        let Accepted { vendor, assessment: theirs, finding, request: their_request, .. } =
            accepted_case(&app, "Shared Vendor Inc").await;
        let vid = id(&vendor);
        let fid = id(&finding);
        let analyst = app.token(Role::SecurityAnalyst);
        let detail = app.get(&format!("/api/v1/assessments/{theirs}"), &analyst).await.ok(200).clone();
        let their_evidence = id(&detail["evidence"][0]);

        let buyer = app.buyer_token("PWD", "pat-pwd");
        let mine = routed(&app, &buyer, "PWD", &vendor).await;
        app.get(&format!("/api/v1/assessments/{theirs}"), &buyer).await.problem(404, "not_found");

        // Inviting for the other department's request answers 404, as for a request that does not exist.
        let before = app.count("SELECT COUNT(*) FROM vendor_invitations").await;
        for request in [their_request.clone(), uuid::Uuid::new_v4().to_string()] {
            let resp = app.invite(&buyer, &vid, json!({"request_id": request, "contact_email": "x@vendor.example"})).await;
            resp.problem(404, "not_found");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM vendor_invitations").await, before);

        let (token, invitation) = invite_ok(&app, &buyer, &vid, &mine).await;
        assert_eq!(invitation["request_id"], mine.as_str());
        assert_eq!(invitation["assessment_ids"], json!([]));
        assert_eq!(invitation["created_by"], "pat-pwd");

        // Nothing of the other department's is reachable with it.
        let checks: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/api/v1/assessments/{theirs}"), None),
            (Method::PUT, format!("/api/v1/assessments/{theirs}/answers"), Some(json!({"answers": []}))),
            (Method::POST, format!("/api/v1/assessments/{theirs}/submit"), None),
            (Method::GET, format!("/api/v1/assessments/{theirs}/evidence/{their_evidence}"), None),
            (Method::GET, format!("/api/v1/assessments/{theirs}/workbook"), None),
            (Method::GET, format!("/api/v1/findings/{fid}"), None),
            (Method::POST, format!("/api/v1/findings/{fid}/remediation"),
             Some(json!({"plan": "enable MFA", "due_date": "2099-01-01"}))),
        ];
        for (method, path, body) in &checks {
            // With an If-Match, so that only the scope can refuse.
            let resp = app.call(method.clone(), path, Some(&token), body.as_ref(), &[("If-Match", "\"1\"")]).await;
            assert_eq!(resp.status.as_u16(), 404, "{method} {path}: {}", resp.text);
            resp.problem(404, "not_found");
        }
        upload_if_match(&app, &token, &theirs, "text/plain", b"x".to_vec(), Some("\"1\"")).await.problem(404, "not_found");
        let reached = listed(&app, &token).await;
        assert_eq!(reached.len(), 2, "{reached:?}");
        assert!(reached.iter().all(|(_, r)| r == &mine), "{reached:?}");
        assert_eq!(app.get("/api/v1/findings", &token).await.ok(200)["page"]["total"], 0);
        let stored = app.get(&format!("/api/v1/findings/{fid}"), &analyst).await.ok(200).clone();
        assert_eq!(stored["status"], "open", "the finding is untouched");

        let me = app.get("/api/v1/me", &token).await.ok(200).clone();
        assert_eq!(me["invitation"]["request_id"], mine.as_str());
        assert_eq!(me["invitation"]["invited_by"], "pat-pwd");

        // What the vendor does with it is audited with the invitation and the staff member who issued it.
        let own = &reached[0].0;
        let evidence = upload(&app, &token, own, "text/plain", b"policy".to_vec()).await.ok(201).clone();
        let auditor = app.token(Role::Auditor);
        let records = app
            .get(&format!("/api/v1/audit?object_type=evidence&object_id={}", id(&evidence)), &auditor)
            .await
            .ok(200)
            .clone();
        let record = &records["items"][0];
        assert_eq!(record["action"], "evidence.uploaded");
        assert_eq!(record["actor"], "security@vendor.example");
        assert_eq!(record["role"], "vendor");
        assert_eq!(record["context"]["invitation_id"], invitation["id"]);
        assert_eq!(record["context"]["invited_by"], "pat-pwd");
        assert_eq!(record["context"]["request_id"], mine.as_str());
        // A staff member's own actions carry no invitation.
        let created = app
            .get(&format!("/api/v1/audit?action=invitation.created&object_id={}", id(&invitation)), &auditor)
            .await
            .ok(200)
            .clone();
        assert_eq!(created["items"][0]["actor"], "pat-pwd");
        assert!(created["items"][0].get("context").is_none_or(Value::is_null), "{created}");
        assert_eq!(app.get("/api/v1/audit/verify", &auditor).await.ok(200)["ok"], true);
        app.stop().await;
    }
);

both!(
    async fn an_invitation_names_the_vendors_request_and_only_its_assessments(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Named Co").await;
        let other = app.create_vendor("Other Co").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = routed(&app, &buyer, "DOIT", &vendor).await;
        let assessments = assessments_of(&app, &request).await;
        assert_eq!(assessments.len(), 2);
        let body = |extra: Value| {
            let mut b = json!({"request_id": request, "contact_email": "it@named.example"});
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };

        let wrong_vendor = app.invite(&buyer, &id(&other), body(json!({}))).await;
        wrong_vendor.problem(422, "validation_failed");
        assert_eq!(wrong_vendor.fields(), vec!["request_id"]);
        let stranger = uuid::Uuid::new_v4().to_string();
        let not_its = app.invite(&buyer, &id(&vendor), body(json!({"assessment_ids": [assessments[0], stranger]}))).await;
        not_its.problem(422, "validation_failed");
        assert_eq!(not_its.fields(), vec!["assessment_ids[1]"]);
        let none = app.invite(&buyer, &id(&vendor), body(json!({"assessment_ids": []}))).await;
        none.problem(422, "validation_failed");
        assert_eq!(none.fields(), vec!["assessment_ids"]);
        app.invite(&buyer, &uuid::Uuid::new_v4().to_string(), body(json!({}))).await.problem(404, "not_found");
        assert_eq!(app.count("SELECT COUNT(*) FROM vendor_invitations").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'invitation.created'").await, 0);

        let named = app
            .invite(&buyer, &id(&vendor), body(json!({"assessment_ids": [assessments[1]]})))
            .await
            .ok(201)
            .clone();
        assert_eq!(named["invitation"]["assessment_ids"], json!([assessments[1]]));
        assert_eq!(app.count("SELECT COUNT(*) FROM invitation_assessments").await, 1);
        let token = named["token"].as_str().unwrap();
        let reached: Vec<String> = listed(&app, token).await.into_iter().map(|(a, _)| a).collect();
        assert_eq!(reached, vec![assessments[1].clone()]);
        app.get(&format!("/api/v1/assessments/{}", assessments[0]), token).await.problem(404, "not_found");
        app.get(&format!("/api/v1/assessments/{}", assessments[1]), token).await.ok(200);
        let me = app.get("/api/v1/me", token).await.ok(200).clone();
        assert_eq!(me["invitation"]["assessment_ids"], json!([assessments[1]]));
        app.stop().await;
    }
);

both!(
    async fn each_invitation_of_a_vendor_stays_separate(backend) {
        let app = TestApp::spawn(backend).await;
        let InvitedTwice { vid, buyer, first, second, t1, inv1, t2 } = invited_twice(&app, "Twice Invited LLC").await;
        let one = listed(&app, &t1).await;
        let two = listed(&app, &t2).await;
        assert!(one.len() == 2 && one.iter().all(|(_, r)| r == &first), "{one:?}");
        assert!(two.len() == 2 && two.iter().all(|(_, r)| r == &second), "{two:?}");
        app.get(&format!("/api/v1/assessments/{}", two[0].0), &t1).await.problem(404, "not_found");
        app.get(&format!("/api/v1/assessments/{}", one[0].0), &t2).await.problem(404, "not_found");

        let revoked = app
            .call(Method::POST, &format!("/api/v1/vendors/{vid}/invitations/{}/revoke", id(&inv1)), Some(&buyer), None, &[])
            .await;
        assert_eq!(revoked.ok(200)["revoked_by"], "bea");
        app.get("/api/v1/assessments", &t1).await.problem(401, "unauthorized");
        assert_eq!(listed(&app, &t2).await, two);
        // Another department's buyer neither sees nor revokes this department's invitations.
        let outsider = app.buyer_token("PWD", "pat-pwd");
        let inv2 = app.get(&format!("/api/v1/vendors/{vid}/invitations"), &app.token(Role::SecurityAnalyst)).await.ok(200)
            ["items"][0]["id"].as_str().unwrap().to_string();
        let refused = app
            .call(Method::POST, &format!("/api/v1/vendors/{vid}/invitations/{inv2}/revoke"), Some(&outsider), None, &[])
            .await;
        refused.problem(404, "not_found");
        assert_eq!(listed(&app, &t2).await, two);
        app.stop().await;
    }
);

both!(
    async fn no_staff_role_can_obtain_a_token_wider_than_its_own_scope(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Scoped Systems").await;
        let vid = id(&vendor);
        let doit_buyer = app.buyer_token("DOIT", "bea");
        let doit = routed(&app, &doit_buyer, "DOIT", &vendor).await;
        let pwd = routed(&app, &app.buyer_token("PWD", "pat-pwd"), "PWD", &vendor).await;
        let doit_assessments = assessments_of(&app, &doit).await;
        let pwd_assessments = assessments_of(&app, &pwd).await;

        for role in [Role::Buyer, Role::SecurityAnalyst, Role::Cio, Role::Finance, Role::Admin, Role::Auditor] {
            let staff = if role == Role::Buyer { doit_buyer.clone() } else { app.token(role) };
            let before = app.count("SELECT COUNT(*) FROM vendor_invitations").await;
            let resp = app
                .invite(&staff, &vid, json!({"request_id": pwd, "contact_email": "it@scoped.example"}))
                .await;
            match role {
                // A buyer's own scope is their department: another department's request is not there for them.
                Role::Buyer => {
                    resp.problem(404, "not_found");
                    let (token, _) = invite_ok(&app, &staff, &vid, &doit).await;
                    let mut reached: Vec<String> = listed(&app, &token).await.into_iter().map(|(a, _)| a).collect();
                    reached.sort();
                    assert_eq!(reached, doit_assessments, "a buyer's token reaches their request only");
                    for other in &pwd_assessments {
                        app.get(&format!("/api/v1/assessments/{other}"), &token).await.problem(404, "not_found");
                    }
                }
                // Analysts and admins see every request; the token they mint still reaches the one request only.
                Role::SecurityAnalyst | Role::Admin => {
                    let token = resp.ok(201)["token"].as_str().unwrap().to_string();
                    let mut reached: Vec<String> = listed(&app, &token).await.into_iter().map(|(a, _)| a).collect();
                    reached.sort();
                    assert_eq!(reached, pwd_assessments, "{role:?}");
                    for other in &doit_assessments {
                        app.get(&format!("/api/v1/assessments/{other}"), &token).await.problem(404, "not_found");
                    }
                    assert_eq!(app.get("/api/v1/findings", &token).await.ok(200)["page"]["total"], 0);
                }
                Role::Cio | Role::Finance | Role::Auditor => {
                    resp.problem(403, "forbidden");
                    assert_eq!(app.count("SELECT COUNT(*) FROM vendor_invitations").await, before, "{role:?}");
                }
                Role::Vendor => unreachable!(),
            }
        }
        // Vendors cannot invite at all, neither with a vendor-wide token nor with an invitation.
        let invitation_token = invite_ok(&app, &doit_buyer, &vid, &doit).await.0;
        for token in [app.vendor_token(vid.parse().unwrap()), invitation_token] {
            let resp = app.invite(&token, &vid, json!({"request_id": doit, "contact_email": "me@scoped.example"})).await;
            resp.problem(403, "forbidden");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM vendor_invitations").await, 4);
        app.stop().await;
    }
);

both!(
    async fn a_vendors_invitations_are_listed_in_pages_and_an_unknown_vendor_is_404(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Paged Inc").await;
        let vid = id(&vendor);
        let doit_buyer = app.buyer_token("DOIT", "bea");
        let pwd_buyer = app.buyer_token("PWD", "pat-pwd");
        let doit = routed(&app, &doit_buyer, "DOIT", &vendor).await;
        let pwd = routed(&app, &pwd_buyer, "PWD", &vendor).await;
        invite_ok(&app, &doit_buyer, &vid, &doit).await;
        invite_ok(&app, &pwd_buyer, &vid, &pwd).await;
        let analyst = app.token(Role::SecurityAnalyst);

        let page = app.get(&format!("/api/v1/vendors/{vid}/invitations?limit=1"), &analyst).await.ok(200).clone();
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["page"], json!({"total": 2, "limit": 1, "offset": 0, "next_offset": 1}));
        assert_eq!(page["items"][0]["request_id"], pwd.as_str(), "newest first");
        let all = app.get(&format!("/api/v1/vendors/{vid}/invitations"), &analyst).await.ok(200).clone();
        assert_eq!(all["page"]["total"], 2);
        let theirs = app.get(&format!("/api/v1/vendors/{vid}/invitations"), &pwd_buyer).await.ok(200).clone();
        assert_eq!(theirs["page"]["total"], 1);
        assert_eq!(theirs["items"][0]["request_id"], pwd.as_str());

        let unknown = uuid::Uuid::new_v4();
        app.get(&format!("/api/v1/vendors/{unknown}/invitations"), &analyst).await.problem(404, "not_found");
        app.get(&format!("/api/v1/vendors/{vid}/invitations?limit=0"), &analyst).await.problem(422, "validation_failed");
        app.stop().await;
    }
);

both!(
    async fn closing_a_requests_work_cancels_what_is_not_accepted_and_revokes_its_invitations(backend) {
        // The lead's withdrawal, denial and closing call the same function inside their own transaction.
        let app = TestApp::spawn(backend).await;
        let Accepted { vendor, token, assessment: accepted, request, .. } = accepted_case(&app, "Closed Work Ltd").await;
        let vid = id(&vendor);
        let analyst = app.token(Role::SecurityAnalyst);
        let open: Vec<String> = assessments_of(&app, &request).await.into_iter().filter(|a| a != &accepted).collect();
        assert_eq!(open.len(), 1);
        let open = open[0].clone();
        let invitation = app.get(&format!("/api/v1/vendors/{vid}/invitations"), &analyst).await.ok(200)["items"][0].clone();

        let actor = Actor { subject: "bea".into(), role: "buyer".into(), request_id: None, invitation: None };
        let reason = "the request was withdrawn by its buyer";
        let closed = app.store.close_request_work(&actor, request.parse().unwrap(), reason).await.unwrap();
        assert_eq!(closed.cancelled_assessments, vec![open.parse::<uuid::Uuid>().unwrap()]);
        assert_eq!(closed.revoked_invitations, vec![id(&invitation).parse::<uuid::Uuid>().unwrap()]);

        // The invitation is revoked with the reason; the vendor (with a vendor-wide token) sees why.
        app.get("/api/v1/assessments", &token).await.problem(401, "unauthorized");
        let shown = app.get(&format!("/api/v1/vendors/{vid}/invitations"), &analyst).await.ok(200)["items"][0].clone();
        assert_eq!(shown["revoke_reason"], reason);
        assert_eq!(shown["revoked_by"], "bea");
        let wide = app.vendor_token(vid.parse().unwrap());
        let cancelled = app.get(&format!("/api/v1/assessments/{open}"), &wide).await.ok(200)["assessment"].clone();
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["cancel_reason"], reason);
        assert!(cancelled["cancelled_at"].is_string());
        let kept = app.get(&format!("/api/v1/assessments/{accepted}"), &wide).await.ok(200)["assessment"].clone();
        assert_eq!(kept["status"], "accepted");
        assert!(kept["cancel_reason"].is_null());

        // Nothing more is answered, uploaded, submitted or reviewed: 409 naming the state, and nothing stored.
        let answers = app.count("SELECT COUNT(*) FROM answers").await;
        let evidence = app.count("SELECT COUNT(*) FROM evidence").await;
        let tag = format!("\"{}\"", cancelled["version"]);
        let if_match = [("If-Match", tag.as_str())];
        let tries = [
            app.put(&format!("/api/v1/assessments/{open}/answers"), &wide, json!({"answers": []}), Some(&tag)).await,
            app.call(Method::POST, &format!("/api/v1/assessments/{open}/submit"), Some(&wide), None, &if_match).await,
            upload(&app, &wide, &open, "text/plain", b"late".to_vec()).await,
            app.call(Method::POST, &format!("/api/v1/assessments/{open}/review"), Some(&analyst),
                     Some(&json!({"outcome": "accept"})), &if_match).await,
        ];
        for resp in &tries {
            let problem = resp.problem(409, "assessment_cancelled");
            assert!(problem["detail"].as_str().unwrap().contains(reason), "{problem}");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, answers);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, evidence);
        let unchanged = app.get(&format!("/api/v1/assessments/{open}"), &wide).await.ok(200)["assessment"].clone();
        assert_eq!(unchanged["version"], cancelled["version"]);

        // Closing again changes nothing; the job runner sends no reminder for the cancelled questionnaire.
        let again = app.store.close_request_work(&actor, request.parse().unwrap(), reason).await.unwrap();
        assert!(again.cancelled_assessments.is_empty() && again.revoked_invitations.is_empty(), "{again:?}");
        for days in [23, 29, 31, 45] {
            run_once(&app.store, &app.config, Utc::now() + Duration::days(days)).await.unwrap();
        }
        let reminders = app.count(&format!("SELECT COUNT(*) FROM notifications WHERE subject_id = '{open}'")).await;
        assert_eq!(reminders, 0);

        let auditor = app.token(Role::Auditor);
        let trail = app.get(&format!("/api/v1/audit?object_type=assessment&object_id={open}&action=assessment.cancelled"), &auditor)
            .await.ok(200).clone();
        assert_eq!(trail["page"]["total"], 1);
        assert_eq!(trail["items"][0]["actor"], "bea");
        assert_eq!(trail["items"][0]["before"]["status"], "open");
        assert_eq!(trail["items"][0]["after"]["status"], "cancelled");
        let revocations = app
            .get(&format!("/api/v1/audit?object_id={}&action=invitation.revoked", id(&invitation)), &auditor)
            .await.ok(200).clone();
        assert_eq!(revocations["page"]["total"], 1);
        assert_eq!(app.get("/api/v1/audit/verify", &auditor).await.ok(200)["ok"], true);
        app.stop().await;
    }
);

both!(
    async fn an_invitation_for_a_closed_request_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Too Late Inc").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = routed(&app, &buyer, "DOIT", &vendor).await;
        let read = app.get(&format!("/api/v1/requests/{request}"), &buyer).await;
        let tag = read.header("etag").expect("an ETag").to_string();
        let withdrawn = app
            .call(Method::POST, &format!("/api/v1/requests/{request}/withdraw"), Some(&buyer), None, &[("If-Match", &tag)])
            .await;
        assert_eq!(withdrawn.ok(200)["status"], "withdrawn");
        let resp = app.invite(&buyer, &id(&vendor), json!({"request_id": request, "contact_email": "x@late.example"})).await;
        resp.problem(409, "request_closed");
        assert_eq!(app.count("SELECT COUNT(*) FROM vendor_invitations").await, 0);
        app.stop().await;
    }
);

both!(
    async fn evidence_with_a_non_ascii_name_downloads_with_an_rfc_6266_file_name(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Umlaut GmbH").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let request = routed(&app, &buyer, "DOIT", &vendor).await;
        let (token, _) = invite_ok(&app, &buyer, &id(&vendor), &request).await;
        let assessment = listed(&app, &token).await[0].0.clone();
        let tag = app.etag_of(&format!("/api/v1/assessments/{assessment}"), &token).await;
        let resp = app
            .client
            .post(format!("{}/api/v1/assessments/{assessment}/evidence", app.base))
            .query(&[("filename", "Prüfbericht 2026.pdf")])
            .bearer_auth(&token)
            .header("If-Match", tag)
            .header("content-type", "application/pdf")
            .body(b"%PDF-1.7\n%%EOF\n".to_vec())
            .send()
            .await
            .unwrap();
        let stored = TestApp::read(resp).await.ok(201).clone();
        assert_eq!(stored["file_name"], "Prüfbericht 2026.pdf");
        let download = app.get(&format!("/api/v1/assessments/{assessment}/evidence/{}", id(&stored)), &token).await;
        download.ok(200);
        assert_eq!(
            download.header("content-disposition"),
            Some("attachment; filename=\"Pr_fbericht 2026.pdf\"; filename*=UTF-8''Pr%C3%BCfbericht%202026.pdf")
        );
        app.stop().await;
    }
);

both!(
    async fn a_token_whose_subject_is_empty_or_padded_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        for subject in ["", " buyer-isd", "buyer-isd ", "\tcio"] {
            let token = app.mint(Role::Cio, subject.to_string(), None, None);
            let resp = app.get("/api/v1/me", &token).await;
            resp.problem(401, "unauthorized");
        }
        let fine = app.mint(Role::Cio, "BUYER-ISD".into(), None, None);
        assert_eq!(app.get("/api/v1/me", &fine).await.ok(200)["subject"], "BUYER-ISD");
        app.stop().await;
    }
);

both!(
    async fn read_marks_follow_the_person_whatever_the_case_of_their_subject(backend) {
        let app = TestApp::spawn(backend).await;
        let made = app
            .store
            .insert_notifications(
                vec![NewNotification {
                    recipient_role: "cio".into(),
                    recipient_dept: None,
                    recipient_vendor: None,
                    kind: "decision_escalation".into(),
                    subject_type: "request".into(),
                    subject_id: uuid::Uuid::new_v4().to_string(),
                    dedup_key: "test-escalation".into(),
                    message: "a decision has waited".into(),
                    payload: json!({}),
                }],
                Utc::now(),
            )
            .await
            .unwrap();
        let nid = made[0].id;
        let lower = app.mint(Role::Cio, "kim-cio".into(), None, None);
        let upper = app.mint(Role::Cio, "KIM-CIO".into(), None, None);
        let other = app.mint(Role::Cio, "lee-cio".into(), None, None);
        app.call(Method::POST, &format!("/api/v1/notifications/{nid}/read"), Some(&lower), None, &[]).await.ok(200);
        let seen = app.get("/api/v1/notifications", &upper).await.ok(200).clone();
        assert_eq!(seen["unread"], 0, "{seen}");
        assert!(seen["items"][0]["read_at"].is_string());
        assert_eq!(app.get("/api/v1/notifications", &other).await.ok(200)["unread"], 1);
        app.stop().await;
    }
);

both!(
    async fn an_invitation_token_sees_only_the_reminders_about_its_own_assessments(backend) {
        let app = TestApp::spawn(backend).await;
        let InvitedTwice { vid, first, second, t1, t2, .. } = invited_twice(&app, "Reminded Twice Inc").await;
        // A week before the questionnaires are due: one reminder per assessment to the vendor.
        run_once(&app.store, &app.config, Utc::now() + Duration::days(23)).await.unwrap();
        let wide = app.vendor_token(vid.parse().unwrap());
        // The vendor's own token also sees the two invitations sent.
        assert_eq!(app.get("/api/v1/notifications", &wide).await.ok(200)["page"]["total"], 6);

        let subjects = |page: &Value| -> Vec<String> {
            let mut s: Vec<String> = page["items"].as_array().unwrap().iter()
                .map(|n| n["subject_id"].as_str().unwrap().to_string()).collect();
            s.sort();
            s
        };
        let one = app.get("/api/v1/notifications", &t1).await.ok(200).clone();
        assert_eq!(one["page"]["total"], 2);
        assert_eq!(one["unread"], 2);
        assert_eq!(subjects(&one), assessments_of(&app, &first).await);
        let two = app.get("/api/v1/notifications", &t2).await.ok(200).clone();
        assert_eq!(subjects(&two), assessments_of(&app, &second).await);

        // Marking all read marks its own only; another request's reminder answers 404 to it.
        let foreign = two["items"][0]["id"].as_str().unwrap().to_string();
        app.call(Method::POST, &format!("/api/v1/notifications/{foreign}/read"), Some(&t1), None, &[]).await
            .problem(404, "not_found");
        let marked = app.call(Method::POST, "/api/v1/notifications/read", Some(&t1), None, &[]).await.ok(200).clone();
        assert_eq!(marked["marked"].as_array().unwrap().len(), 2);
        assert_eq!(marked["unread"], 0);
        assert_eq!(app.get("/api/v1/notifications", &t2).await.ok(200)["unread"], 2);
        app.stop().await;
    }
);
