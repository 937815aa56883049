//! The admin's console forms: departments and vendors (create and edit) and the policy document (publish). Each
//! form goes through the API as the signed-in admin, so what is stored, refused and audited is the API's.

use procurement_review::auth::Role;
use serde_json::Value;

use crate::both;
use crate::console::{Page, get, hidden, post_form, sign_in};
use crate::helpers::TestApp;

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

/// The id of the department with `code`, read through the API.
async fn department(app: &TestApp, code: &str) -> Value {
    let admin = app.token(Role::Admin);
    let list = app
        .get(&format!("/api/v1/departments?q={code}"), &admin)
        .await;
    list.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .cloned()
        .unwrap_or(Value::Null)
}

both!(
    async fn an_admin_creates_and_edits_a_department_through_the_form_and_a_stale_edit_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let list = get(&app, "/departments", Some(&admin)).await;
        assert!(list.text.contains("href=\"/departments/new\""), "{}", list.text);

        let form = get(&app, "/departments/new", Some(&admin)).await;
        assert_eq!(form.status, 200, "{}", form.text);
        assert!(form.text.contains("<label for=\"code\">Code</label>"), "{}", form.text);
        let csrf = hidden(&form, "csrf");
        let created = post_form(&app, "/departments", Some(&admin), &[
            ("csrf", &csrf), ("code", "hr-2"), ("name", "Human Resources"), ("surveillance_ordinance", "yes"),
        ]).await;
        assert_eq!(created.status, 303, "{}", created.text);
        assert_eq!(created.location.as_deref(), Some("/departments?saved=added"));
        let notice = get(&app, "/departments?saved=added", Some(&admin)).await;
        assert!(notice.text.contains(r#"<p class="notice" role="status">The department was added.</p>"#), "{}", notice.text);
        assert!(!list.text.contains("role=\"status\""), "no notice without a save: {}", list.text);
        let stored = department(&app, "HR-2").await;
        assert_eq!(stored["name"], "Human Resources", "the code is stored as the API normalises it");
        assert_eq!(stored["surveillance_ordinance"], true);
        assert_eq!(audited(&app, "department.created", "adam").await, 1);
        let list = get(&app, "/departments", Some(&admin)).await;
        assert!(list.text.contains("Human Resources"), "{}", list.text);
        let id = stored["id"].as_str().unwrap();
        assert!(list.text.contains(&format!("href=\"/departments/{id}/edit\"")), "{}", list.text);

        // The edit form shows the stored values and the version it was read at.
        let edit = get(&app, &format!("/departments/{id}/edit"), Some(&admin)).await;
        assert_eq!(edit.status, 200, "{}", edit.text);
        assert!(edit.text.contains("value=\"Human Resources\""), "{}", edit.text);
        let version = hidden(&edit, "version");
        assert_eq!(version, "\"1\"");
        let saved = post_form(&app, &format!("/departments/{id}/edit"), Some(&admin), &[
            ("csrf", &csrf), ("version", &version), ("name", "People Operations"),
        ]).await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        assert_eq!(saved.location.as_deref(), Some("/departments?saved=changed"));
        let notice = get(&app, "/departments?saved=changed", Some(&admin)).await;
        assert!(notice.text.contains(r#"<p class="notice" role="status">The department was saved.</p>"#), "{}", notice.text);
        let stored = department(&app, "HR-2").await;
        assert_eq!(stored["name"], "People Operations");
        assert_eq!(stored["surveillance_ordinance"], false, "an unticked box clears the flag");
        assert_eq!(audited(&app, "department.updated", "adam").await, 1);

        // A blank name is the API's fault of `name`, shown beside it on the version the form was read at.
        let blank = post_form(&app, &format!("/departments/{id}/edit"), Some(&admin), &[
            ("csrf", &csrf), ("version", "\"2\""), ("name", "  "), ("surveillance_ordinance", "yes"),
        ]).await;
        assert_eq!(blank.status, 422, "{}", blank.text);
        assert!(element(&blank, "name-error").contains("must not be empty"), "{}", blank.text);
        assert_eq!(hidden(&blank, "version"), "\"2\"");
        assert!(blank.text.contains("checked"), "the ticked box stays ticked: {}", blank.text);
        assert_eq!(department(&app, "HR-2").await["name"], "People Operations");

        // The same form sent again is on a version that is no longer current: refused and shown, not applied.
        let stale = post_form(&app, &format!("/departments/{id}/edit"), Some(&admin), &[
            ("csrf", &csrf), ("version", &version), ("name", "Stale Name"),
        ]).await;
        assert_eq!(stale.status, 412, "{}", stale.text);
        assert!(stale.text.contains("someone else changed this department"), "{}", stale.text);
        assert!(stale.text.contains("Now stored"), "{}", stale.text);
        assert!(stale.text.contains("value=\"Stale Name\""), "the input is kept: {}", stale.text);
        assert_eq!(hidden(&stale, "version"), "\"2\"", "the form now carries the current version");
        assert_eq!(department(&app, "HR-2").await["name"], "People Operations");
        assert_eq!(audited(&app, "department.updated", "adam").await, 1);
        app.stop().await;
    }
);

both!(
    async fn a_refused_department_names_the_field_keeps_the_input_and_stores_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let csrf = hidden(&get(&app, "/departments/new", Some(&admin)).await, "csrf");
        let departments = app.count("SELECT COUNT(*) FROM departments").await;
        let audit = app.count("SELECT COUNT(*) FROM audit_log").await;

        let missing = post_form(&app, "/departments", Some(&admin), &[
            ("csrf", &csrf), ("code", ""), ("name", "Nameless Office"),
        ]).await;
        assert_eq!(missing.status, 422, "{}", missing.text);
        assert!(element(&missing, "code-error").contains("must be 2 to 24 characters"), "{}", missing.text);
        assert!(missing.text.contains("aria-invalid=\"true\""), "{}", missing.text);
        assert!(missing.text.contains("value=\"Nameless Office\""), "the input is kept: {}", missing.text);

        let duplicate = post_form(&app, "/departments", Some(&admin), &[
            ("csrf", &csrf), ("code", "DOIT"), ("name", "Second IT"),
        ]).await;
        assert_eq!(duplicate.status, 409, "{}", duplicate.text);
        assert!(element(&duplicate, "code-error").contains("a department with code DOIT exists"), "{}", duplicate.text);
        assert!(duplicate.text.contains("value=\"Second IT\""), "{}", duplicate.text);

        assert_eq!(app.count("SELECT COUNT(*) FROM departments").await, departments);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audit);
        assert_eq!(department(&app, "DOIT").await["name"], "Dept DOIT");
        app.stop().await;
    }
);

both!(
    async fn an_admin_registers_and_edits_a_vendor_and_a_stale_edit_is_refused_not_applied(backend) {
        let app = TestApp::spawn(backend).await;
        app.create_vendor("Signet").await;
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let list = get(&app, "/vendors", Some(&admin)).await;
        assert!(list.text.contains("href=\"/vendors/new\""), "{}", list.text);
        let form = get(&app, "/vendors/new", Some(&admin)).await;
        assert_eq!(form.status, 200, "{}", form.text);
        let csrf = hidden(&form, "csrf");
        let vendors = app.count("SELECT COUNT(*) FROM vendors").await;

        // Faults are named by field, a contact's by its row; nothing is stored.
        let refused = post_form(&app, "/vendors", Some(&admin), &[
            ("csrf", &csrf), ("legal_name", "Caseflow Inc"), ("website", "ftp://caseflow"), ("hq_country", "USA"),
            ("contact_name", "Pat"), ("contact_email", "nobody"), ("contact_phone", ""), ("contact_role", "security"),
            ("contact_name", ""), ("contact_email", ""), ("contact_phone", ""), ("contact_role", ""),
        ]).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(element(&refused, "website-error").contains("must be an http:"), "{}", refused.text);
        assert!(element(&refused, "hq_country-error").contains("ISO 3166-1"), "{}", refused.text);
        assert!(element(&refused, "contacts-0-email-error").contains("must be an e-mail address"), "{}", refused.text);
        assert!(refused.text.contains("value=\"nobody\""), "{}", refused.text);
        let duplicate = post_form(&app, "/vendors", Some(&admin), &[
            ("csrf", &csrf), ("legal_name", "  signet "), ("hq_country", "US"),
        ]).await;
        assert_eq!(duplicate.status, 409, "{}", duplicate.text);
        assert!(element(&duplicate, "legal_name-error").contains("already registered"), "{}", duplicate.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, vendors);

        let created = post_form(&app, "/vendors", Some(&admin), &[
            ("csrf", &csrf), ("legal_name", "Caseflow Inc"), ("website", "https://caseflow.example"), ("hq_country", "us"),
            ("contact_name", "Pat"), ("contact_email", "pat@caseflow.example"), ("contact_phone", ""), ("contact_role", "security"),
            ("contact_name", ""), ("contact_email", ""), ("contact_phone", ""), ("contact_role", ""),
        ]).await;
        assert_eq!(created.status, 303, "{}", created.text);
        assert_eq!(created.location.as_deref(), Some("/vendors?saved=added"));
        let notice = get(&app, "/vendors?saved=added", Some(&admin)).await;
        assert!(notice.text.contains(r#"<p class="notice" role="status">The vendor was added.</p>"#), "{}", notice.text);
        assert_eq!(audited(&app, "vendor.created", "adam").await, 1);
        let token = app.token(Role::Admin);
        let found = app.get("/api/v1/vendors?q=Caseflow", &token).await.ok(200)["items"][0].clone();
        assert_eq!(found["hq_country"], "US");
        assert_eq!(found["contacts"], serde_json::json!([{"name": "Pat", "email": "pat@caseflow.example", "role": "security"}]));
        let id = found["id"].as_str().unwrap().to_string();

        let edit = get(&app, &format!("/vendors/{id}/edit"), Some(&admin)).await;
        assert_eq!(edit.status, 200, "{}", edit.text);
        assert!(edit.text.contains("value=\"pat@caseflow.example\""), "{}", edit.text);
        let version = hidden(&edit, "version");

        // Someone else renames the vendor through the API meanwhile.
        let renamed = app.patch_with_etag(&format!("/api/v1/vendors/{id}"), &token, serde_json::json!({"legal_name": "Caseflow LLC"})).await;
        renamed.ok(200);
        let mine = [
            ("csrf", csrf.as_str()), ("version", version.as_str()), ("legal_name", "Caseflow Incorporated"), ("website", ""), ("hq_country", "US"),
            ("contact_name", "Pat"), ("contact_email", "pat@caseflow.example"), ("contact_phone", "555-0100"), ("contact_role", "security"),
        ];
        let stale = post_form(&app, &format!("/vendors/{id}/edit"), Some(&admin), &mine).await;
        assert_eq!(stale.status, 412, "{}", stale.text);
        assert!(stale.text.contains("someone else changed this vendor"), "{}", stale.text);
        assert!(stale.text.contains("<dd>Caseflow LLC</dd>"), "what is stored now is shown: {}", stale.text);
        assert!(stale.text.contains("value=\"Caseflow Incorporated\""), "the input is kept: {}", stale.text);
        let stored = app.get(&format!("/api/v1/vendors/{id}"), &token).await.ok(200).clone();
        assert_eq!(stored["legal_name"], "Caseflow LLC", "the stale edit was not applied");
        assert_eq!(stored["website"], "https://caseflow.example");
        assert_eq!(audited(&app, "vendor.updated", "adam").await, 0);

        // Saving again from the refused form is a deliberate second step on the current version.
        let fresh = hidden(&stale, "version");
        let mut again = mine;
        again[1] = ("version", fresh.as_str());
        let saved = post_form(&app, &format!("/vendors/{id}/edit"), Some(&admin), &again).await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        assert_eq!(saved.location.as_deref(), Some("/vendors?saved=changed"));
        let notice = get(&app, "/vendors?saved=changed", Some(&admin)).await;
        assert!(notice.text.contains(r#"<p class="notice" role="status">The vendor was saved.</p>"#), "{}", notice.text);
        let stored = app.get(&format!("/api/v1/vendors/{id}"), &token).await.ok(200).clone();
        assert_eq!(stored["legal_name"], "Caseflow Incorporated");
        assert!(stored["website"].is_null(), "a blank website clears it: {stored}");
        assert_eq!(stored["contacts"][0]["phone"], "555-0100");
        assert_eq!(audited(&app, "vendor.updated", "adam").await, 1);
        app.stop().await;
    }
);

both!(
    async fn the_policy_form_refuses_text_that_is_not_json_or_a_policy_and_publishes_the_next_version(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let versions = get(&app, "/policy", Some(&admin)).await;
        assert!(versions.text.contains("href=\"/policy/edit\""), "{}", versions.text);
        let form = get(&app, "/policy/edit", Some(&admin)).await;
        assert_eq!(form.status, 200, "{}", form.text);
        assert!(form.text.contains("<label for=\"document\">"), "{}", form.text);
        let (csrf, version) = (hidden(&form, "csrf"), hidden(&form, "version"));
        assert_eq!(version, "\"1\"");
        let token = app.token(Role::Admin);
        let current = app.get("/api/v1/policy", &token).await.ok(200).clone();
        let mut document = current["policy"].clone();
        assert!(form.text.contains("cio-value-threshold"), "the document is shown: {}", form.text);
        let published = app.count("SELECT COUNT(*) FROM policies").await;

        // Not JSON: the field is named and the text kept.
        let broken = "{\"label\": \"half-typed\", ";
        let not_json = post_form(&app, "/policy/edit", Some(&admin), &[("csrf", &csrf), ("version", &version), ("document", broken)]).await;
        assert_eq!(not_json.status, 422, "{}", not_json.text);
        assert!(element(&not_json, "document-error").contains("is not JSON"), "{}", not_json.text);
        assert!(not_json.text.contains("href=\"#document\">document</a>"), "{}", not_json.text);
        assert!(not_json.text.contains("half-typed"), "the text is kept: {}", not_json.text);

        // JSON the API refuses: its faults are shown, the text kept, nothing published.
        let rules = document["rules"].as_array().unwrap();
        let i = rules.iter().position(|r| r["id"] == "cio-value-threshold").unwrap();
        let mut refused_doc = document.clone();
        refused_doc["rules"][i]["then"] = serde_json::json!({"step": "teleport"});
        let text = serde_json::to_string_pretty(&refused_doc).unwrap();
        let refused = post_form(&app, "/policy/edit", Some(&admin), &[("csrf", &csrf), ("version", &version), ("document", &text)]).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(element(&refused, "document-error").contains(&format!("rules[{i}]")), "{}", refused.text);
        assert!(refused.text.contains("rule cio-value-threshold:"), "the API's message: {}", refused.text);
        assert!(refused.text.contains("teleport"), "the text is kept: {}", refused.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM policies").await, published);
        assert_eq!(audited(&app, "policy.published", "adam").await, 0);

        // A good document is published as the next version, audited, and listed.
        document["label"] = serde_json::json!("Console edit 2026");
        let text = serde_json::to_string_pretty(&document).unwrap();
        let done = post_form(&app, "/policy/edit", Some(&admin), &[("csrf", &csrf), ("version", &version), ("document", &text)]).await;
        assert_eq!(done.status, 303, "{}", done.text);
        assert_eq!(done.location.as_deref(), Some("/policy?published=2"));
        let now = app.get("/api/v1/policy", &token).await.ok(200).clone();
        assert_eq!(now["version"], 2);
        assert_eq!(now["label"], "Console edit 2026");
        assert_eq!(audited(&app, "policy.published", "adam").await, 1);
        let listed = get(&app, "/policy?published=2", Some(&admin)).await;
        assert!(listed.text.contains("Version 2 of the policy is published."), "{}", listed.text);
        assert!(listed.text.contains("<th scope=\"row\" class=\"num\">2</th>"), "{}", listed.text);
        assert!(listed.text.contains("Console edit 2026"), "{}", listed.text);

        // The same page sent again names version 1: refused, the text kept, nothing published over version 2.
        let stale = post_form(&app, "/policy/edit", Some(&admin), &[("csrf", &csrf), ("version", &version), ("document", &text)]).await;
        assert_eq!(stale.status, 412, "{}", stale.text);
        assert!(stale.text.contains("another version of the policy was published"), "{}", stale.text);
        assert_eq!(hidden(&stale, "version"), "\"2\"");
        assert_eq!(app.get("/api/v1/policy", &token).await.ok(200)["version"], 2);
        app.stop().await;
    }
);

both!(
    async fn the_forms_are_refused_to_other_roles_and_to_a_post_without_the_csrf_token(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        let vendor = app.create_vendor("Signet").await;
        let vendor_id = vendor["id"].as_str().unwrap();
        let dept = department(&app, "DOIT").await;
        let dept_id = dept["id"].as_str().unwrap();
        let departments = app.count("SELECT COUNT(*) FROM departments").await;
        let vendors = app.count("SELECT COUNT(*) FROM vendors").await;
        let changes = "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'department.%' OR action LIKE 'vendor.%' OR action LIKE 'policy.%'";
        let audit = app.count(changes).await;
        let pages = [
            "/departments/new".to_string(), format!("/departments/{dept_id}/edit"),
            "/vendors/new".to_string(), format!("/vendors/{vendor_id}/edit"), "/policy/edit".to_string(),
        ];
        let posts = [
            ("/departments".to_string(), vec![("code", "NEWD"), ("name", "New Dept")]),
            (format!("/departments/{dept_id}/edit"), vec![("version", "\"1\""), ("name", "Renamed")]),
            ("/vendors".to_string(), vec![("legal_name", "Newco"), ("hq_country", "US")]),
            (format!("/vendors/{vendor_id}/edit"), vec![("version", "\"1\""), ("legal_name", "Renamed"), ("hq_country", "US")]),
            ("/policy/edit".to_string(), vec![("version", "\"1\""), ("document", "{}")]),
        ];
        for (role, dept_code) in [(Role::Buyer, Some("DOIT")), (Role::Cio, None), (Role::Auditor, None)] {
            let cookie = sign_in(&app, role, "someone", dept_code).await;
            if role != Role::Buyer {
                for list in ["/departments", "/vendors", "/policy"] {
                    let page = get(&app, list, Some(&cookie)).await;
                    assert_eq!(page.status, 200, "{list}: {}", page.text);
                    assert!(!page.text.contains("/new\"") && !page.text.contains("/edit\""), "{role:?} sees no form link on {list}");
                }
            }
            let csrf = hidden(&get(&app, "/requests", Some(&cookie)).await, "csrf");
            for path in &pages {
                let page = get(&app, path, Some(&cookie)).await;
                assert_eq!(page.status, 403, "{role:?} GET {path}: {}", page.text);
            }
            for (path, fields) in &posts {
                let mut form = vec![("csrf", csrf.as_str())];
                form.extend(fields.iter().copied());
                let page = post_form(&app, path, Some(&cookie), &form).await;
                assert_eq!(page.status, 403, "{role:?} POST {path}: {}", page.text);
            }
        }

        // The admin's own post without the token (or with another) is refused.
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        for (path, fields) in &posts {
            let page = post_form(&app, path, Some(&admin), fields).await;
            assert_eq!(page.status, 403, "POST {path} without CSRF: {}", page.text);
            assert!(page.text.contains("Form expired"), "{}", page.text);
            let mut forged = vec![("csrf", "not-the-token")];
            forged.extend(fields.iter().copied());
            assert_eq!(post_form(&app, path, Some(&admin), &forged).await.status, 403, "POST {path} with a wrong token");
        }
        // Signed out: the sign-in page, nothing else.
        assert_eq!(get(&app, "/policy/edit", None).await.status, 401);

        assert_eq!(app.count("SELECT COUNT(*) FROM departments").await, departments);
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, vendors);
        assert_eq!(app.count(changes).await, audit);
        assert_eq!(department(&app, "DOIT").await["name"], "Dept DOIT");
        assert_eq!(app.get("/api/v1/policy", &app.token(Role::Admin)).await.ok(200)["version"], 1);
        app.stop().await;
    }
);
