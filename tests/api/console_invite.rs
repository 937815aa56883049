//! The console's invitation form on the request page (invite the request's vendor, list and revoke its
//! invitations) and the catalogue's forms (add and edit a service). Each goes through the API as the signed-in
//! person, so what is stored, refused and audited is the API's.

use chrono::Utc;
use procurement_review::auth::Role;
use procurement_review::store::FanOut;
use serde_json::{Value, json};

use crate::both;
use crate::console::{Page, get, hidden, post_form, sign_in};
use crate::helpers::{TestApp, purchase, with};

/// The text of the element with `id` (up to its closing tag), to check a fault is shown next to its field.
fn element(page: &Page, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = page
        .text
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {}", page.text));
    let rest = &page.text[start..];
    let end = rest.find("</").unwrap_or(rest.len());
    rest[..end].to_string()
}

async fn audited(app: &TestApp, action: &str, actor: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND actor = '{actor}'"
    ))
    .await
}

/// What an invitation leaves behind: its rows, its audit entries and its queued e-mail.
async fn traces(app: &TestApp) -> [i64; 3] {
    [
        app.count("SELECT COUNT(*) FROM vendor_invitations").await,
        app.count("SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE 'console.%'")
            .await,
        app.count("SELECT COUNT(*) FROM notifications WHERE subject_type = 'vendor_invitation'")
            .await,
    ]
}

/// DOIT's submitted request for a new vendor, routed to questionnaires: (vendor id, request id).
async fn routed(app: &TestApp) -> (String, String) {
    let vendor = app.create_vendor("Caseflow Inc").await;
    app.department("DOIT").await;
    let buyer = app.buyer_token("DOIT", "bea");
    let (request, _) = app
        .draft_and_submit(
            &buyer,
            with(
                purchase(&vendor),
                json!({"hosting": "vendor_cloud", "data_classes": ["pi_ma"], "annual_operating_cost_cents": 1_000_000}),
            ),
        )
        .await;
    (vendor["id"].as_str().unwrap().to_string(), request)
}

/// The vendor's invitations as an admin reads them through the API.
async fn invitations(app: &TestApp, vendor: &str) -> Vec<Value> {
    app.get(
        &format!("/api/v1/vendors/{vendor}/invitations"),
        &app.token(Role::Admin),
    )
    .await
    .ok(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

both!(
    async fn a_buyer_invites_the_vendor_from_the_request_page_and_revokes_the_invitation(backend) {
        let app = TestApp::spawn(backend).await;
        let (vendor, request) = routed(&app).await;
        let buyer = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let page = get(&app, &format!("/requests/{request}"), Some(&buyer)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("<h3 id=\"invite-title\">Invite the vendor</h3>"), "{}", page.text);
        assert!(page.text.contains("<label for=\"contact_email\">Contact's e-mail</label>"), "{}", page.text);
        assert!(page.text.contains("No vendor contact has been invited for this request yet."), "{}", page.text);
        // The request's questionnaires are offered by name; one is chosen.
        assert!(page.text.contains("City security baseline"), "{}", page.text);
        let assessment = hidden(&page, "assessment_ids");
        let csrf = hidden(&page, "csrf");

        let sent = post_form(&app, &format!("/requests/{request}/invitations"), Some(&buyer), &[
            ("csrf", &csrf), ("contact_email", " sec@caseflow.example "), ("contact_name", "Sam Lee"),
            ("days", "14"), ("assessment_ids", &assessment),
        ]).await;
        assert_eq!(sent.status, 303, "{}", sent.text);
        assert_eq!(sent.location, Some(format!("/requests/{request}?invited=1#invitations-title")));
        let notice = get(&app, &format!("/requests/{request}?invited=1"), Some(&buyer)).await;
        assert!(
            notice.text.contains(r#"<p class="notice" role="status">The invitation was sent: the contact gets an e-mail with the link.</p>"#),
            "{}",
            notice.text
        );

        // Stored as the API stores it, audited in the buyer's name, and its e-mail queued for the contact.
        let listed = invitations(&app, &vendor).await;
        assert_eq!(listed.len(), 1);
        let invitation = &listed[0];
        assert_eq!(invitation["contact_email"], "sec@caseflow.example");
        assert_eq!(invitation["contact_name"], "Sam Lee");
        assert_eq!(invitation["request_id"], request.as_str());
        assert_eq!(invitation["assessment_ids"], json!([assessment]));
        assert_eq!(invitation["created_by"], "bea");
        let id = invitation["id"].as_str().unwrap().to_string();
        let rows = app.count(
            "SELECT COUNT(*) FROM vendor_invitations WHERE contact_email = 'sec@caseflow.example' \
             AND contact_name = 'Sam Lee' AND created_by = 'bea' AND revoked_at IS NULL",
        ).await;
        assert_eq!(rows, 1);
        let expires = chrono::DateTime::parse_from_rfc3339(invitation["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!((expires.with_timezone(&Utc) - Utc::now()).num_days(), 13, "14 days from now");
        assert_eq!(audited(&app, "invitation.created", "bea").await, 1);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM notifications WHERE subject_type = 'vendor_invitation' AND subject_id = '{id}'"
            )).await,
            1
        );
        app.store.fan_out(
            &FanOut { webhook_urls: &[], mail: Some(app.config.mail.mailboxes()), public_url: &app.config.public_url },
            Utc::now(),
        ).await.unwrap();
        assert_eq!(
            app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE channel = 'email' \
                       AND url = 'mailto:sec@caseflow.example'").await,
            1,
            "the invitation's e-mail is in the outbox"
        );

        // The request page lists it as active, with a button to revoke it.
        let page = get(&app, &format!("/requests/{request}"), Some(&buyer)).await;
        assert!(page.text.contains("Sam Lee &lt;sec@caseflow.example&gt;"), "{}", page.text);
        assert!(page.text.contains("Active until"), "{}", page.text);
        let row = &page.text[page.text.find("Sam Lee &lt;").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        let chosen = app.get(&format!("/api/v1/assessments/{assessment}"), &app.token(Role::SecurityAnalyst)).await;
        let title = chosen.ok(200)["assessment"]["template_title"].as_str().unwrap().replace('\'', "&#x27;");
        assert!(row.contains(&format!("<td>{title}</td>")), "the questionnaire it names, by title: {row}");
        let revoke = format!("/requests/{request}/invitations/{id}/revoke");
        assert!(page.text.contains(&format!("action=\"{revoke}\"")), "{}", page.text);
        // Other staff see the list, without the forms.
        let finance = sign_in(&app, Role::Finance, "fay", None).await;
        let seen = get(&app, &format!("/requests/{request}"), Some(&finance)).await;
        assert!(seen.text.contains("sec@caseflow.example"), "{}", seen.text);
        assert!(!seen.text.contains("Invite the vendor") && !seen.text.contains(&revoke), "{}", seen.text);

        let revoked = post_form(&app, &revoke, Some(&buyer), &[("csrf", &csrf)]).await;
        assert_eq!(revoked.status, 303, "{}", revoked.text);
        assert_eq!(revoked.location, Some(format!("/requests/{request}?revoked=1#invitations-title")));
        let notice = get(&app, &format!("/requests/{request}?revoked=1"), Some(&buyer)).await;
        assert!(notice.text.contains(r#"role="status">The invitation was revoked"#), "{}", notice.text);
        let listed = invitations(&app, &vendor).await;
        assert_eq!(listed[0]["revoked_by"], "bea");
        assert_eq!(audited(&app, "invitation.revoked", "bea").await, 1);
        let page = get(&app, &format!("/requests/{request}"), Some(&buyer)).await;
        assert!(page.text.contains("Revoked by bea"), "{}", page.text);
        assert!(!page.text.contains(&format!("action=\"{revoke}\"")), "{}", page.text);
        // Revoking it again is the API's 409, shown as such.
        let again = post_form(&app, &revoke, Some(&buyer), &[("csrf", &csrf)]).await;
        assert_eq!(again.status, 409, "{}", again.text);
        assert_eq!(audited(&app, "invitation.revoked", "bea").await, 1);
        app.stop().await;
    }
);

both!(
    async fn a_refused_invitation_names_the_field_keeps_the_input_and_stores_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let (_vendor, request) = routed(&app).await;
        let analyst = sign_in(&app, Role::SecurityAnalyst, "sal", None).await;
        let page = get(&app, &format!("/requests/{request}"), Some(&analyst)).await;
        assert!(page.text.contains("Invite the vendor"), "an analyst may invite too: {}", page.text);
        let csrf = hidden(&page, "csrf");
        let before = traces(&app).await;
        let path = format!("/requests/{request}/invitations");

        let refused = post_form(&app, &path, Some(&analyst), &[
            ("csrf", &csrf), ("contact_email", "sec at caseflow"), ("contact_name", "Sam"), ("days", "120"),
        ]).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(element(&refused, "contact_email-error").contains("must be an e-mail address"), "{}", refused.text);
        assert!(element(&refused, "days-error").contains("must be from 1 to 90"), "{}", refused.text);
        assert!(refused.text.contains("aria-invalid=\"true\""), "{}", refused.text);
        assert!(refused.text.contains("href=\"#contact_email\""), "the summary links to the field: {}", refused.text);
        assert!(refused.text.contains("value=\"sec at caseflow\""), "the input is kept: {}", refused.text);
        assert!(refused.text.contains("value=\"120\""), "{}", refused.text);

        // Days that are not a number never reach the API; the fault is the field's all the same.
        let words = post_form(&app, &path, Some(&analyst), &[
            ("csrf", &csrf), ("contact_email", "sec@caseflow.example"), ("days", "two weeks"),
        ]).await;
        assert_eq!(words.status, 422, "{}", words.text);
        assert!(element(&words, "days-error").contains("must be a whole number of days"), "{}", words.text);

        // A questionnaire that is not the request's is the API's fault of the questionnaire list.
        let stranger = uuid::Uuid::new_v4().to_string();
        let unknown = post_form(&app, &path, Some(&analyst), &[
            ("csrf", &csrf), ("contact_email", "sec@caseflow.example"), ("assessment_ids", &stranger),
        ]).await;
        assert_eq!(unknown.status, 422, "{}", unknown.text);
        assert!(element(&unknown, "assessment_ids-error").contains("is not an assessment of this request"), "{}", unknown.text);

        assert_eq!(traces(&app).await, before, "nothing stored, audited or queued");
        app.stop().await;
    }
);

both!(
    async fn a_role_the_api_refuses_cannot_invite_and_a_form_without_its_token_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let (vendor, request) = routed(&app).await;
        let path = format!("/requests/{request}/invitations");
        let before = traces(&app).await;

        // The CIO office reads the request but may not invite: no form, and a forged post is refused.
        let cio = sign_in(&app, Role::Cio, "cole", None).await;
        let page = get(&app, &format!("/requests/{request}"), Some(&cio)).await;
        assert_eq!(page.status, 200);
        assert!(!page.text.contains("Invite the vendor"), "{}", page.text);
        let csrf = hidden(&page, "csrf");
        let forged = post_form(&app, &path, Some(&cio), &[("csrf", &csrf), ("contact_email", "sec@caseflow.example")]).await;
        assert_eq!(forged.status, 403, "{}", forged.text);

        // Another department's buyer does not see the request at all.
        let other = sign_in(&app, Role::Buyer, "pete", Some("PWD")).await;
        let csrf = hidden(&get(&app, "/requests", Some(&other)).await, "csrf");
        let form = [("csrf", csrf.as_str()), ("contact_email", "sec@caseflow.example")];
        assert_eq!(post_form(&app, &path, Some(&other), &form).await.status, 404);

        // The request's own buyer, without the form's token or with another one.
        let buyer = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let missing = post_form(&app, &path, Some(&buyer), &[("contact_email", "sec@caseflow.example")]).await;
        assert_eq!(missing.status, 403, "{}", missing.text);
        assert!(missing.text.contains("Form expired"), "{}", missing.text);
        let wrong = post_form(&app, &path, Some(&buyer), &[("csrf", &csrf), ("contact_email", "sec@caseflow.example")]).await;
        assert_eq!(wrong.status, 403, "{}", wrong.text);
        // Signed out: the sign-in page.
        let anonymous = post_form(&app, &path, None, &[("contact_email", "sec@caseflow.example")]).await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(traces(&app).await, before, "nothing stored");

        // An invitation made through the API cannot be revoked without the token or by a role the API refuses.
        let issued = app.invite(&app.buyer_token("DOIT", "bea"), &vendor,
            json!({"request_id": request, "contact_email": "sec@caseflow.example"})).await;
        let id = issued.ok(201)["invitation"]["id"].as_str().unwrap().to_string();
        let revoke = format!("/requests/{request}/invitations/{id}/revoke");
        assert_eq!(post_form(&app, &revoke, Some(&buyer), &[]).await.status, 403);
        let cio_csrf = hidden(&get(&app, "/requests", Some(&cio)).await, "csrf");
        assert_eq!(post_form(&app, &revoke, Some(&cio), &[("csrf", &cio_csrf)]).await.status, 403);
        assert!(invitations(&app, &vendor).await[0]["revoked_at"].is_null());
        app.stop().await;
    }
);

/// The catalogue's services as the API lists them.
async fn services(app: &TestApp) -> Vec<Value> {
    app.get(
        "/api/v1/catalog/services?limit=200",
        &app.token(Role::Admin),
    )
    .await
    .ok(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

both!(
    async fn an_admin_adds_and_edits_a_service_and_a_stale_edit_is_refused_not_applied(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let list = get(&app, "/catalog", Some(&admin)).await;
        assert!(list.text.contains("href=\"/catalog/new\""), "{}", list.text);
        let form = get(&app, "/catalog/new", Some(&admin)).await;
        assert_eq!(form.status, 200, "{}", form.text);
        assert!(form.text.contains("<label for=\"capabilities\">Capabilities</label>"), "{}", form.text);
        let csrf = hidden(&form, "csrf");

        let created = post_form(&app, "/catalog", Some(&admin), &[
            ("csrf", &csrf), ("name", "E-Sign"), ("category", "Documents"), ("description", "Signatures for the city"),
            ("capabilities", "electronic signatures\n\nsigning workflows\n"), ("aliases", "DocuSign; esig"),
            ("owning_team", "DoIT Documents"), ("access", "esign@city.example"), ("status", "active"),
        ]).await;
        assert_eq!(created.status, 303, "{}", created.text);
        assert_eq!(created.location.as_deref(), Some("/catalog?saved=added"));
        let stored = services(&app).await;
        assert_eq!(stored.len(), 1);
        let service = &stored[0];
        assert_eq!(service["name"], "E-Sign");
        assert_eq!(service["capabilities"], json!(["electronic signatures", "signing workflows"]));
        assert_eq!(service["aliases"], json!(["DocuSign", "esig"]));
        assert_eq!(service["status"], "active");
        assert_eq!(audited(&app, "catalog_service.created", "adam").await, 1);
        let id = service["id"].as_str().unwrap().to_string();
        let list = get(&app, "/catalog?saved=added", Some(&admin)).await;
        assert!(list.text.contains("The service was added to the catalogue."), "{}", list.text);
        assert!(list.text.contains(&format!("href=\"/catalog/{id}/edit\"")), "{}", list.text);

        let edit = get(&app, &format!("/catalog/{id}/edit"), Some(&admin)).await;
        assert_eq!(edit.status, 200, "{}", edit.text);
        assert!(edit.text.contains("electronic signatures\nsigning workflows</textarea>"), "{}", edit.text);
        let version = hidden(&edit, "version");
        assert_eq!(version, "\"1\"");

        // Someone else changes it through the API meanwhile: the form's save is refused and not applied.
        let token = app.token(Role::Admin);
        app.patch_with_etag(&format!("/api/v1/catalog/services/{id}"), &token, json!({"owning_team": "Records"}))
            .await
            .ok(200);
        let mine = [
            ("csrf", csrf.as_str()), ("version", version.as_str()), ("name", "E-Sign"), ("category", "Documents"),
            ("description", "Signatures"), ("capabilities", "electronic signatures"), ("aliases", ""),
            ("owning_team", "Mine Team"), ("access", "esign@city.example"), ("status", "retiring"),
        ];
        let stale = post_form(&app, &format!("/catalog/{id}/edit"), Some(&admin), &mine).await;
        assert_eq!(stale.status, 412, "{}", stale.text);
        assert!(stale.text.contains("someone else changed this service"), "{}", stale.text);
        assert!(stale.text.contains("<dd>Records</dd>"), "what is stored now is shown: {}", stale.text);
        assert!(stale.text.contains("value=\"Mine Team\""), "the input is kept: {}", stale.text);
        assert_eq!(hidden(&stale, "version"), "\"2\"", "the form now carries the current version");
        let now = &services(&app).await[0];
        assert_eq!(now["owning_team"], "Records");
        assert_eq!(now["status"], "active");
        assert_eq!(audited(&app, "catalog_service.updated", "adam").await, 0, "not applied, not audited");

        // Saved again on the current version, deliberately: applied and audited.
        let mut again = mine;
        again[1] = ("version", "\"2\"");
        let saved = post_form(&app, &format!("/catalog/{id}/edit"), Some(&admin), &again).await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        let now = &services(&app).await[0];
        assert_eq!(now["owning_team"], "Mine Team");
        assert_eq!(now["status"], "retiring");
        assert_eq!(now["aliases"], json!([]), "an emptied list is emptied");
        assert_eq!(audited(&app, "catalog_service.updated", "adam").await, 1);
        app.stop().await;
    }
);

both!(
    async fn a_refused_service_names_the_field_and_other_roles_cannot_change_the_catalogue(backend) {
        let app = TestApp::spawn(backend).await;
        app.post("/api/v1/catalog/services", &app.token(Role::Admin), json!({
            "name": "E-Sign", "owning_team": "Documents", "access": "esign@city.example",
        })).await.ok(201);
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let csrf = hidden(&get(&app, "/catalog/new", Some(&admin)).await, "csrf");
        let before = [
            app.count("SELECT COUNT(*) FROM catalog_services").await,
            app.count("SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE 'console.%'").await,
        ];

        let long = "x".repeat(121);
        let refused = post_form(&app, "/catalog", Some(&admin), &[
            ("csrf", &csrf), ("name", " "), ("capabilities", &format!("forms\n{long}")), ("owning_team", ""),
            ("access", "forms@city.example"), ("status", "active"),
        ]).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(element(&refused, "name-error").contains("is required"), "{}", refused.text);
        assert!(element(&refused, "owning_team-error").contains("is required for an active or retiring service"), "{}", refused.text);
        assert!(element(&refused, "capabilities-error").contains("entry 2: must be 1 to 120 characters"), "{}", refused.text);
        assert!(refused.text.contains("value=\"forms@city.example\""), "the input is kept: {}", refused.text);

        let duplicate = post_form(&app, "/catalog", Some(&admin), &[
            ("csrf", &csrf), ("name", "e-sign"), ("owning_team", "Other"), ("access", "x@city.example"),
        ]).await;
        assert_eq!(duplicate.status, 409, "{}", duplicate.text);
        assert!(element(&duplicate, "name-error").len() > "id=\"name-error\">".len(), "{}", duplicate.text);
        assert!(duplicate.text.contains("value=\"Other\""), "{}", duplicate.text);

        // Without the form's token.
        let forged = post_form(&app, "/catalog", Some(&admin), &[
            ("name", "Forms"), ("owning_team", "Other"), ("access", "x@city.example"),
        ]).await;
        assert_eq!(forged.status, 403, "{}", forged.text);

        // Roles the API refuses: no link, no form, no post.
        let id = services(&app).await[0]["id"].as_str().unwrap().to_string();
        for (role, department) in [(Role::Buyer, Some("DOIT")), (Role::Finance, None), (Role::SecurityAnalyst, None)] {
            let cookie = sign_in(&app, role, "someone", department).await;
            let list = get(&app, "/catalog", Some(&cookie)).await;
            assert_eq!(list.status, 200);
            assert!(!list.text.contains("/catalog/new") && !list.text.contains("/edit\""), "{}", list.text);
            assert_eq!(get(&app, "/catalog/new", Some(&cookie)).await.status, 403);
            assert_eq!(get(&app, &format!("/catalog/{id}/edit"), Some(&cookie)).await.status, 403);
            let csrf = hidden(&list, "csrf");
            let form = [("csrf", csrf.as_str()), ("name", "Forms"), ("owning_team", "Other"), ("access", "x@city.example")];
            assert_eq!(post_form(&app, "/catalog", Some(&cookie), &form).await.status, 403);
            let edit = [("csrf", csrf.as_str()), ("version", "\"1\""), ("name", "Renamed"), ("owning_team", "Other"), ("access", "x")];
            assert_eq!(post_form(&app, &format!("/catalog/{id}/edit"), Some(&cookie), &edit).await.status, 403);
        }
        // The CIO office maintains the catalogue with the admins, as in the API.
        let cio = sign_in(&app, Role::Cio, "cole", None).await;
        assert_eq!(get(&app, "/catalog/new", Some(&cio)).await.status, 200);

        assert_eq!(
            [app.count("SELECT COUNT(*) FROM catalog_services").await, app.count("SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE 'console.%'").await],
            before
        );
        assert_eq!(services(&app).await[0]["name"], "E-Sign");
        app.stop().await;
    }
);
