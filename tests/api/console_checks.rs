//! The request page's checks in the console: the safeguards checklist recorded from the page, the versions
//! compared side by side, the duplicate check's evidence with the CIO's decision on an exception, and the City
//! Council's vote — each through the API as the signed-in person, each refused where the API refuses.

use procurement_review::auth::Role;
use serde_json::json;

use crate::both;
use crate::catalog::{add_service, esign};
use crate::console::{get, hidden, post_form, sign_in};
use crate::helpers::{TestApp, purchase, with};

both!(
    async fn an_analyst_records_a_clause_from_the_page_and_the_versions_show_what_changed(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Clinic Cloud").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let (id, _) = app
            .draft_and_submit(&buyer, with(purchase(&vendor), json!({"data_classes": ["health"], "expected_users": 100})))
            .await;
        let page_path = format!("/requests/{id}");

        let analyst = sign_in(&app, Role::SecurityAnalyst, "sam", None).await;
        let page = get(&app, &page_path, Some(&analyst)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("id=\"safeguards-title\""), "{}", page.text);
        assert!(page.text.contains("value=\"hipaa_baa\""), "a form for the business associate agreement");
        assert!(!page.text.contains("value=\"waived\""), "only the CIO waives a clause");
        assert!(!page.text.contains("id=\"versions-title\""), "one version: nothing to compare");
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));

        // A present clause without its section: the API's fault, named, and nothing recorded.
        let incomplete = post_form(
            &app,
            &format!("{page_path}/safeguards"),
            Some(&analyst),
            &[("csrf", &csrf), ("version", &version), ("clause_id", "hipaa_baa"), ("status", "present"),
              ("document", "BAA 2026"), ("section", "  ")],
        )
        .await;
        assert_eq!(incomplete.status, 422, "{}", incomplete.text);
        assert!(incomplete.text.contains("clauses[0].section"), "{}", incomplete.text);
        let checklist_path = format!("/api/v1/requests/{id}/safeguards");
        let clause = |list: &serde_json::Value| {
            list["clauses"].as_array().unwrap().iter().find(|c| c["clause_id"] == "hipaa_baa").unwrap().clone()
        };
        let stored = app.get(&checklist_path, &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(clause(&stored)["status"], "missing");

        let recorded = post_form(
            &app,
            &format!("{page_path}/safeguards"),
            Some(&analyst),
            &[("csrf", &csrf), ("version", &version), ("clause_id", "hipaa_baa"), ("status", "present"),
              ("document", "Business Associate Agreement 2026"), ("section", "§ 4"), ("justification", "")],
        )
        .await;
        assert_eq!(recorded.status, 303, "{}", recorded.text);
        let stored = app.get(&checklist_path, &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(clause(&stored)["status"], "present");
        assert_eq!(clause(&stored)["attested_by"], "sam");
        assert_eq!(clause(&stored)["section"], "§ 4");
        let page = get(&app, &page_path, Some(&analyst)).await;
        assert!(page.text.contains("Business Associate Agreement 2026, § 4 (sam)"), "{}", page.text);

        // The CIO's page offers the waiver; a buyer's page shows the checklist without a form.
        let cio = sign_in(&app, Role::Cio, "cora", None).await;
        assert!(get(&app, &page_path, Some(&cio)).await.text.contains("value=\"waived\""));
        let bea = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let buyers = get(&app, &page_path, Some(&bea)).await;
        assert!(buyers.text.contains("id=\"safeguards-title\""));
        assert!(!buyers.text.contains("name=\"clause_id\""));
        // A buyer posting the form anyway is refused by the console's role check; nothing changes.
        let forged = post_form(
            &app,
            &format!("{page_path}/safeguards"),
            Some(&bea),
            &[("csrf", &hidden(&buyers, "csrf")), ("version", &hidden(&buyers, "version")), ("clause_id", "hipaa_baa"),
              ("status", "missing")],
        )
        .await;
        assert_eq!(forged.status, 403);
        let stored = app.get(&checklist_path, &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(clause(&stored)["status"], "present");

        // Changes asked for, the buyer edits and submits again: the page compares the two versions.
        app.transition(
            &format!("/api/v1/requests/{id}/decisions"),
            &app.token(Role::Cio),
            Some(&json!({"step": "cio_approval", "outcome": "request_changes", "rationale": "How many staff will use it?"})),
        )
        .await
        .ok(201);
        let path = format!("/api/v1/requests/{id}");
        app.patch_with_etag(&path, &buyer, json!({"expected_users": 150})).await.ok(200);
        app.transition(&format!("{path}/submit"), &buyer, None).await.ok(200);
        let page = get(&app, &page_path, Some(&analyst)).await;
        let table = &page.text[page.text.find("id=\"versions-title\"").expect("the versions compared")..];
        assert!(table.contains("Version 1") && table.contains("Version 2"), "{table}");
        let users = &table[table.find("<th scope=\"row\">Users</th>").expect("the changed field")..];
        let users = &users[..users.find("</tr>").unwrap()];
        assert!(users.contains("<td>100</td>"), "{users}");
        assert!(users.contains("<td class=\"changed\">150 <span class=\"tag\">changed</span></td>"), "{users}");
        assert!(!table.contains("<th scope=\"row\">Title</th>"), "a field no version changed is left out");
        app.stop().await;
    }
);

both!(
    async fn the_cio_sees_the_duplicate_evidence_and_grants_the_exception_from_the_page(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        add_service(&app, esign()).await;
        let vendor = app.create_vendor("DocuSign, Inc.").await;
        let buyer = app.buyer_token("DOIT", "bea");
        let body = with(
            purchase(&vendor),
            json!({"title": "DocuSign for grants", "product_name": "DocuSign", "capabilities": [],
                   "annual_operating_cost_cents": 500_000, "expected_users": 20}),
        );
        let (id, _) = app.draft_and_submit(&buyer, body).await;
        let page_path = format!("/requests/{id}");

        // The buyer asks for the exception from the page; the page then shows it waiting, with no way to decide.
        let bea = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let page = get(&app, &page_path, Some(&bea)).await;
        assert!(page.text.contains("Enterprise e-signature"), "the service it duplicates: {}", page.text);
        let asked = post_form(
            &app,
            &format!("{page_path}/exception"),
            Some(&bea),
            &[("csrf", &hidden(&page, "csrf")), ("version", &hidden(&page, "version")),
              ("justification", "Our federal grantor requires its own signing audit trail")],
        )
        .await;
        assert_eq!(asked.status, 303, "{}", asked.text);
        let page = get(&app, &page_path, Some(&bea)).await;
        assert!(page.text.contains("Exception requested"), "{}", page.text);
        assert!(!page.text.contains("/exception/decision"));

        let cio = sign_in(&app, Role::Cio, "cora", None).await;
        let page = get(&app, &page_path, Some(&cio)).await;
        assert!(page.text.contains("the catalogue lists “DocuSign” as its alias"), "{}", page.text);
        assert!(page.text.contains("federal grantor"));
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let undecided = post_form(
            &app,
            &format!("{page_path}/exception/decision"),
            Some(&cio),
            &[("csrf", &csrf), ("version", &version), ("reason", "Grant terms require it")],
        )
        .await;
        assert_eq!(undecided.status, 422);
        let granted = post_form(
            &app,
            &format!("{page_path}/exception/decision"),
            Some(&cio),
            &[("csrf", &csrf), ("version", &version), ("grant", "yes"), ("reason", "Grant terms require it; revisit at renewal")],
        )
        .await;
        assert_eq!(granted.status, 303, "{}", granted.text);
        let report = app.get(&format!("/api/v1/requests/{id}/duplicates"), &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(report["exceptions"][0]["status"], "granted");
        assert_eq!(report["exceptions"][0]["decided_by"], "cora");
        let request = app.get(&format!("/api/v1/requests/{id}"), &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(request["status"], "approved");
        assert!(get(&app, &page_path, Some(&cio)).await.text.contains("Exception granted"));
        app.stop().await;
    }
);

both!(
    async fn an_admin_records_the_councils_vote_from_the_page(backend) {
        let app = TestApp::spawn(backend).await;
        app.ensure_department("BPD").await;
        let vendor = app.create_vendor("Cameras Co").await;
        let buyer = app.buyer_token("BPD", "bob");
        let body = with(
            purchase(&vendor),
            json!({"surveillance": true, "annual_operating_cost_cents": 100_000, "data_classes": ["confidential"],
                   "product_name": "StreetCam"}),
        );
        let (id, _) = app.draft_and_submit(&buyer, body).await;
        let page_path = format!("/requests/{id}");

        let analyst = sign_in(&app, Role::SecurityAnalyst, "sam", None).await;
        let page = get(&app, &page_path, Some(&analyst)).await;
        assert!(page.text.contains("id=\"council-title\""), "{}", page.text);
        assert!(page.text.contains("No vote recorded yet."));
        assert!(!page.text.contains("/council/vote"), "only admins record the vote");

        let admin = sign_in(&app, Role::Admin, "ada", None).await;
        let page = get(&app, &page_path, Some(&admin)).await;
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let undated = post_form(
            &app,
            &format!("{page_path}/council/vote"),
            Some(&admin),
            &[("csrf", &csrf), ("version", &version), ("docket", "Docket #0412"), ("vote_date", ""), ("outcome", "rejected")],
        )
        .await;
        assert_eq!(undated.status, 422, "{}", undated.text);
        assert!(undated.text.contains("vote_date"), "{}", undated.text);
        let rejected = post_form(
            &app,
            &format!("{page_path}/council/vote"),
            Some(&admin),
            &[("csrf", &csrf), ("version", &version), ("docket", "Docket #0412"), ("vote_date", "2026-11-04"),
              ("outcome", "rejected"), ("note", "Referred back to committee")],
        )
        .await;
        assert_eq!(rejected.status, 303, "{}", rejected.text);
        let request = app.get(&format!("/api/v1/requests/{id}"), &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(request["status"], "denied", "a rejecting vote denies the request [Boston 16-63]");
        let page = get(&app, &page_path, Some(&analyst)).await;
        assert!(page.text.contains("docket Docket #0412"), "{}", page.text);
        assert!(page.text.contains("Referred back to committee"));
        assert!(
            app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND actor = 'ada'")).await >= 1,
            "the vote is in the audit trail under the admin's name"
        );
        app.stop().await;
    }
);

both!(
    async fn an_analyst_plans_and_the_cio_accepts_a_findings_risk_from_its_page(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Findings Co").await;
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &app.token(Role::SecurityAnalyst)).await.ok(200).clone();
        let critical = crate::assessments::first_critical_yes(&template);
        let (_, _, finding) = crate::assessments::accepted_with_a_finding(&app, &vendor, &critical).await;
        let fid = finding["id"].as_str().unwrap().to_string();
        let page_path = format!("/findings/{fid}");

        // The analyst's list shows it among the open ones, and not among the resolved.
        let analyst = sign_in(&app, Role::SecurityAnalyst, "sam", None).await;
        let list = get(&app, "/findings", Some(&analyst)).await;
        assert_eq!(list.status, 200, "{}", list.text);
        assert!(list.text.contains(&format!("href=\"{page_path}\"")), "{}", list.text);
        assert!(!get(&app, "/findings?status=resolved", Some(&analyst)).await.text.contains(&fid));
        assert_eq!(get(&app, "/findings?status=lost", Some(&analyst)).await.status, 400);
        // A buyer has no findings pages.
        let bea = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        assert_eq!(get(&app, "/findings", Some(&bea)).await.status, 403);

        let page = get(&app, &page_path, Some(&analyst)).await;
        assert!(page.text.contains("Plan the remediation") && page.text.contains("Resolve the finding"));
        assert!(!page.text.contains("Accept the risk"), "only the CIO accepts a risk");
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let undated = post_form(
            &app,
            &format!("{page_path}/remediation"),
            Some(&analyst),
            &[("csrf", &csrf), ("version", &version), ("plan", "Turn on encryption at rest"), ("due_date", "")],
        )
        .await;
        assert_eq!(undated.status, 422, "{}", undated.text);
        assert!(undated.text.contains("due_date"), "{}", undated.text);
        let planned = post_form(
            &app,
            &format!("{page_path}/remediation"),
            Some(&analyst),
            &[("csrf", &csrf), ("version", &version), ("plan", "Turn on encryption at rest"), ("due_date", "2027-03-31")],
        )
        .await;
        assert_eq!(planned.status, 303, "{}", planned.text);
        let stored = app.get(&format!("/api/v1/findings/{fid}"), &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(stored["status"], "remediation_planned");
        assert_eq!(stored["remediation_due"], "2027-03-31");
        // The same form again carries the version before the plan: refused, nothing changes.
        let stale = post_form(
            &app,
            &format!("{page_path}/resolve"),
            Some(&analyst),
            &[("csrf", &csrf), ("version", &version), ("note", "verified")],
        )
        .await;
        assert_eq!(stale.status, 412);

        let cio = sign_in(&app, Role::Cio, "cora", None).await;
        let page = get(&app, &page_path, Some(&cio)).await;
        assert!(page.text.contains("Turn on encryption at rest"));
        assert!(page.text.contains("Accept the risk") && !page.text.contains("Resolve the finding"));
        let accepted = post_form(
            &app,
            &format!("{page_path}/risk-acceptance"),
            Some(&cio),
            &[("csrf", &hidden(&page, "csrf")), ("version", &hidden(&page, "version")),
              ("rationale", "Compensating controls until the vendor's next release"), ("expires_on", "2027-06-30")],
        )
        .await;
        assert_eq!(accepted.status, 303, "{}", accepted.text);
        let stored = app.get(&format!("/api/v1/findings/{fid}"), &app.token(Role::Auditor)).await.ok(200).clone();
        assert_eq!(stored["status"], "risk_accepted");
        assert_eq!(stored["decided_by"], "cora");
        let page = get(&app, &page_path, Some(&cio)).await;
        assert!(!page.text.contains("name=\"rationale\""), "a closed finding offers no form");
        assert!(get(&app, "/findings?status=risk_accepted", Some(&cio)).await.text.contains(&fid));
        app.stop().await;
    }
);
