//! The console's admin and auditor pages (audit trail and its verification, registers, catalogue with its
//! workbook import, departments, vendors, policy versions), the buyer's edit, resubmission and exception forms,
//! and the vendor's evidence upload and remediation plans.
//! Each page asks the API as the signed-in person: a role the API refuses sees the refusal.

use procurement_review::auth::Role;
use serde_json::json;

use crate::both;
use crate::catalog::{add_service, esign};
use crate::console::{Page, client, get, hidden, post_form, sign_in};
use crate::helpers::{TestApp, purchase, with};

/// A catalogue upload as CSV.
async fn post_upload(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    file: &[u8],
) -> Page {
    post_file(app, path, cookie, fields, ("catalog.csv", "text/csv"), file).await
}

/// A multipart body as a browser sends a file upload: `fields`, then `file` named `file`.
pub fn multipart(
    boundary: &str,
    fields: &[(&str, &str)],
    (file_name, content_type): (&str, &str),
    file: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// A multipart form post, as a browser sends a file upload: `fields`, then `file` named `file`.
pub async fn post_file(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    (file_name, content_type): (&str, &str),
    file: &[u8],
) -> Page {
    let boundary = "console-admin-test-boundary";
    let body = multipart(boundary, fields, (file_name, content_type), file);
    let resp = client()
        .post(format!("{}{path}", app.base))
        .header("cookie", format!("pr_session={cookie}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    Page {
        status,
        location,
        set_cookie: None,
        csp: None,
        text: resp.text().await.unwrap(),
    }
}

both!(
    async fn the_audit_trail_is_filtered_paged_and_verified_for_auditors_and_refused_to_a_buyer(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        app.department("PWD").await;
        let auditor = sign_in(&app, Role::Auditor, "aud", None).await;
        let page = get(&app, "/audit", Some(&auditor)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("department.created"), "{}", page.text);
        let menu = page.text.replace("&#x2f;", "/");
        for link in ["href=\"/audit\"", "href=\"/registers\"", "href=\"/catalog\"", "href=\"/departments\"", "href=\"/vendors\"", "href=\"/policy\""] {
            assert!(menu.contains(link), "the auditor's menu has {link}");
        }
        // The filters the API offers, passed on encoded.
        let filtered = get(&app, "/audit?action=department.created&actor=", Some(&auditor)).await;
        assert_eq!(filtered.status, 200);
        assert!(filtered.text.contains("2 records"), "{}", filtered.text);
        assert!(filtered.text.contains("; 2 match in all"), "{}", filtered.text);
        assert!(filtered.text.contains("value=\"department.created\""), "the filter is shown as typed");
        assert!(!filtered.text.contains("Next page"), "one page holds both");
        // A page at a time by cursor: the next page's link carries the filter and the cursor, and the last page
        // links back to the first.
        let first = get(&app, "/audit?action=department.created&limit=1", Some(&auditor)).await;
        assert!(first.text.contains("1 record, No. "), "{}", first.text);
        assert!(!first.text.contains("First page"));
        let next = first.text.split("href=\"").find_map(|rest| {
            let link = &rest[..rest.find('"').unwrap()];
            rest[link.len()..].starts_with("\" rel=\"next\"").then(|| link.replace("&amp;", "&").replace("&#x2f;", "/"))
        });
        let next = next.expect("a link to the next page");
        assert!(next.contains("cursor=") && next.contains("action=department.created"), "{next}");
        let second = get(&app, &next, Some(&auditor)).await;
        assert_eq!(second.status, 200, "{}", second.text);
        assert!(second.text.contains("1 record, No. "), "{}", second.text);
        assert!(second.text.contains("First page") && !second.text.contains("Next page"), "{}", second.text);
        let seq = |page: &str| page.split("<th scope=\"row\" class=\"num\">").nth(1).map(|r| r[..r.find('<').unwrap()].to_string());
        assert_ne!(seq(&first.text), seq(&second.text), "the second page holds the other record");
        // A link made before the cursor still opens its page.
        let offset = get(&app, "/audit?action=department.created&offset=1", Some(&auditor)).await;
        assert_eq!(seq(&offset.text), seq(&second.text));
        let none = get(&app, "/audit?actor=nobody%20%26%20co", Some(&auditor)).await;
        assert_eq!(none.status, 200);
        assert!(none.text.contains("No record matches"), "{}", none.text);
        // A filter the API refuses is its refusal, named.
        let bad = get(&app, "/audit?actor=%01", Some(&auditor)).await;
        assert_eq!(bad.status, 422, "{}", bad.text);

        let verified = get(&app, "/audit/verify", Some(&auditor)).await;
        assert_eq!(verified.status, 200, "{}", verified.text);
        assert!(verified.text.contains("The chain is intact"), "{}", verified.text);

        // A buyer: the API refuses the trail and its verification, and the page says so without the data.
        let buyer = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        for path in ["/audit", "/audit/verify"] {
            let refused = get(&app, path, Some(&buyer)).await;
            assert_eq!(refused.status, 403, "{path}");
            assert!(refused.text.contains("Not allowed"), "{}", refused.text);
            assert!(!refused.text.contains("department.created"));
        }
        assert!(
            !get(&app, "/requests", Some(&buyer)).await.text.replace("&#x2f;", "/").contains("href=\"/audit\""),
            "no audit link for a buyer"
        );
        assert_eq!(get(&app, "/audit", None).await.status, 401);
        app.stop().await;
    }
);

both!(
    async fn registers_download_through_the_session(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let page = get(&app, "/registers", Some(&admin)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("href=\"/registers/requests.xlsx\""), "{}", page.text);
        for name in ["requests", "vendors", "findings", "contracts", "incidents", "orders", "budgets", "catalog"] {
            let resp = client()
                .get(format!("{}/registers/{name}.xlsx", app.base))
                .header("cookie", format!("pr_session={admin}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{name}");
            assert_eq!(resp.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
            assert!(resp.headers()["content-disposition"].to_str().unwrap().contains("attachment"), "{name}");
            assert!(resp.bytes().await.unwrap().starts_with(b"PK"), "{name} is an xlsx");
        }
        assert_eq!(get(&app, "/registers/secrets.xlsx", Some(&admin)).await.status, 404);
        assert_eq!(get(&app, "/registers/requests.xlsx", None).await.status, 401);
        app.stop().await;
    }
);

both!(
    async fn the_catalogue_page_imports_a_workbook_and_shows_each_bad_cell(backend) {
        let app = TestApp::spawn(backend).await;
        add_service(&app, esign()).await;
        let cio = sign_in(&app, Role::Cio, "carla", None).await;
        let page = get(&app, "/catalog", Some(&cio)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("Enterprise e-signature"), "{}", page.text);
        assert!(page.text.contains("action=\"/catalog/import\""), "the CIO may import");
        let csrf = hidden(&page, "csrf");
        let export = client()
            .get(format!("{}/catalog/export.xlsx", app.base))
            .header("cookie", format!("pr_session={cio}"))
            .send()
            .await
            .unwrap();
        assert_eq!(export.status(), 200);
        assert!(export.bytes().await.unwrap().starts_with(b"PK"));

        let bad = b"Name,Status,Owning team,Access\nCitywide GIS,gone,DoIT GIS,gis@city.example\n";
        let refused = post_upload(&app, "/catalog/import", &cio, &[("csrf", &csrf)], bad).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(refused.text.contains("Each cell at fault"), "{}", refused.text);
        assert!(refused.text.contains("!B2"), "the cell is named: {}", refused.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 1, "nothing stored");

        let good = b"Name,Status,Owning team,Access\nCitywide GIS,active,DoIT GIS,gis@city.example\n";
        let forged = post_upload(&app, "/catalog/import", &cio, &[("csrf", "guess")], good).await;
        assert_eq!(forged.status, 403);
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 1);

        let loaded = post_upload(&app, "/catalog/import", &cio, &[("csrf", &csrf)], good).await;
        assert_eq!(loaded.status, 303, "{}", loaded.text);
        assert_eq!(loaded.location.as_deref(), Some("/catalog?imported=1-0"));
        let after = get(&app, "/catalog?imported=1-0", Some(&cio)).await;
        assert!(after.text.contains("1 services added, 0 replaced"), "{}", after.text);
        assert!(after.text.contains("Citywide GIS"));
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 2);

        // A buyer reads the catalogue, is offered no import, and the API refuses one all the same.
        let buyer = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let read = get(&app, "/catalog", Some(&buyer)).await;
        assert_eq!(read.status, 200);
        assert!(!read.text.contains("action=\"/catalog/import\""));
        let csrf = hidden(&read, "csrf");
        let other = b"Name,Status,Owning team,Access\nParking app,active,DoIT,x@city.example\n";
        let refused = post_upload(&app, "/catalog/import", &buyer, &[("csrf", &csrf)], other).await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 2);
        app.stop().await;
    }
);

both!(
    async fn departments_vendors_and_policy_versions_are_listed_for_staff_and_not_for_a_vendor(backend) {
        let app = TestApp::spawn(backend).await;
        // A department, a vendor and its invitation.
        let (_vendor, _request, issued) = crate::console::invited(&app).await;
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        for (path, shows) in [("/departments", "DOIT"), ("/vendors", "Caseflow Inc"), ("/policy", "Policy versions")] {
            let page = get(&app, path, Some(&admin)).await;
            assert_eq!(page.status, 200, "{path}: {}", page.text);
            assert!(page.text.contains(shows), "{path}: {}", page.text);
        }
        assert!(get(&app, "/policy", Some(&admin)).await.text.contains("<th scope=\"row\" class=\"num\">1</th>"), "version 1 is listed");

        let entered = get(&app, issued["link"].as_str().unwrap(), None).await;
        let cookie = crate::console::cookie_of(&entered);
        for path in ["/departments", "/vendors", "/policy", "/catalog", "/audit", "/registers"] {
            assert_eq!(get(&app, path, Some(&cookie)).await.status, 403, "{path}");
        }
        app.stop().await;
    }
);

both!(
    async fn the_buyer_edits_a_draft_with_the_pages_version_and_answers_a_change_request(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Signet").await;
        app.department("DOIT").await;
        let token = app.buyer_token("DOIT", "bea");
        let id = app.post("/api/v1/requests", &token, purchase(&vendor)).await.ok(201)["id"].as_str().unwrap().to_string();
        let cookie = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let request = get(&app, &format!("/requests/{id}"), Some(&cookie)).await;
        assert!(request.text.contains(&format!("href=\"/requests/{id}/edit\"")), "{}", request.text);
        let form = get(&app, &format!("/requests/{id}/edit"), Some(&cookie)).await;
        assert_eq!(form.status, 200, "{}", form.text);
        assert!(form.text.contains("value=\"Permit e-signature\""), "the stored values are shown");
        assert!(form.text.contains("value=\"60000\""), "amounts in dollars: {}", form.text);
        let (csrf, version) = (hidden(&form, "csrf"), hidden(&form, "version"));
        let vendor_id = vendor["id"].as_str().unwrap();
        let fields = |title: &'static str| {
            vec![
                ("title", title), ("description", "Sign permit documents online"), ("vendor_id", vendor_id),
                ("product_name", "SignIt"), ("category", "e-signature"), ("capabilities", "electronic signatures"),
                ("capital_cost", "0"), ("annual_operating_cost", "60000"), ("term_months", "12"),
                ("expected_users", "100"), ("requested_start_date", "2026-09-01"), ("hosting", "on_premises"),
                ("data_classes", "public"),
            ]
        };
        let path = format!("/requests/{id}/edit");

        // Without the form's token: nothing changes.
        let mut forged = fields("Forged");
        forged.push(("version", version.as_str()));
        assert_eq!(post_form(&app, &path, Some(&cookie), &forged).await.status, 403);
        // An amount that is not one: shown at its field, nothing changes.
        let mut bad = fields("Permit e-signature v2");
        bad.retain(|(k, _)| *k != "term_months");
        bad.extend([("term_months", "a year"), ("csrf", csrf.as_str()), ("version", version.as_str())]);
        let refused = post_form(&app, &path, Some(&cookie), &bad).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(refused.text.contains("id=\"term_months-error\""), "{}", refused.text);

        let mut good = fields("Permit e-signature v2");
        good.extend([("csrf", csrf.as_str()), ("version", version.as_str())]);
        let saved = post_form(&app, &path, Some(&cookie), &good).await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        let stored = app.get(&format!("/api/v1/requests/{id}"), &token).await.ok(200).clone();
        assert_eq!(stored["fields"]["title"], "Permit e-signature v2");
        // The same form again: someone (here, the buyer) changed it since the page was read.
        let mut stale = fields("Permit e-signature v3");
        stale.extend([("csrf", csrf.as_str()), ("version", version.as_str())]);
        let lost = post_form(&app, &path, Some(&cookie), &stale).await;
        assert_eq!(lost.status, 412);
        assert!(lost.text.contains("Changed by someone else"), "{}", lost.text);
        assert_eq!(app.get(&format!("/api/v1/requests/{id}"), &token).await.ok(200)["fields"]["title"], "Permit e-signature v2");

        // Another role may not edit, the API's scope stands for another department's buyer.
        let analyst = sign_in(&app, Role::SecurityAnalyst, "ana", None).await;
        assert_eq!(get(&app, &path, Some(&analyst)).await.status, 403);
        let other = sign_in(&app, Role::Buyer, "pete", Some("PWD")).await;
        assert_eq!(get(&app, &path, Some(&other)).await.status, 404);

        // Submitted, the CIO asks for changes; the buyer reads why, edits and submits again from the form.
        let tag = app.etag_of(&format!("/api/v1/requests/{id}"), &token).await;
        app.call_if_match(reqwest::Method::POST, &format!("/api/v1/requests/{id}/submit"), &token, None, &tag).await.ok(200);
        let tag = app.etag_of(&format!("/api/v1/requests/{id}"), &token).await;
        app.call_if_match(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{id}/decisions"),
            &app.token(Role::Cio),
            Some(&json!({"step": "cio_approval", "outcome": "request_changes", "rationale": "Name the retention period"})),
            &tag,
        )
        .await
        .ok(201);
        let page = get(&app, &format!("/requests/{id}"), Some(&cookie)).await;
        assert!(page.text.contains("Changes were asked for"), "{}", page.text);
        assert!(page.text.contains("Name the retention period"), "the rationale is shown");
        let form = get(&app, &path, Some(&cookie)).await;
        assert!(form.text.contains("Save and submit for review"), "{}", form.text);
        let version = hidden(&form, "version");
        let mut again = fields("Permit e-signature, 7-year retention");
        again.extend([("csrf", csrf.as_str()), ("version", version.as_str()), ("then", "submit")]);
        let resubmitted = post_form(&app, &path, Some(&cookie), &again).await;
        assert_eq!(resubmitted.status, 303, "{}", resubmitted.text);
        let stored = app.get(&format!("/api/v1/requests/{id}"), &token).await.ok(200).clone();
        assert_eq!(stored["status"], "awaiting_decision");
        assert_eq!(stored["fields"]["title"], "Permit e-signature, 7-year retention");
        app.stop().await;
    }
);

both!(
    async fn the_buyer_asks_for_a_duplicate_exception_from_the_request_page(backend) {
        let app = TestApp::spawn(backend).await;
        app.department("DOIT").await;
        add_service(&app, esign()).await;
        let vendor = app.create_vendor("DocuSign, Inc.").await;
        let token = app.buyer_token("DOIT", "bea");
        let body = with(
            purchase(&vendor),
            json!({"title": "DocuSign for grants", "product_name": "DocuSign", "annual_operating_cost_cents": 500_000, "capabilities": []}),
        );
        let (id, _) = app.draft_and_submit(&token, body).await;
        let cookie = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let page = get(&app, &format!("/requests/{id}"), Some(&cookie)).await;
        assert!(page.text.contains("Ask for an exception"), "{}", page.text);
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let path = format!("/requests/{id}/exception");
        let why = "Our federal grantor requires its own signing audit trail";
        assert_eq!(post_form(&app, &path, Some(&cookie), &[("version", &version), ("justification", why)]).await.status, 403);
        // Blank: the API names the field, nothing is stored.
        let blank = post_form(&app, &path, Some(&cookie), &[("csrf", &csrf), ("version", &version), ("justification", " ")]).await;
        assert_eq!(blank.status, 422, "{}", blank.text);
        assert!(blank.text.contains("justification"), "{}", blank.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM duplicate_exceptions").await, 0);
        // Another role: refused by the console and the API alike.
        let cio = sign_in(&app, Role::Cio, "carla", None).await;
        let cio_csrf = hidden(&get(&app, "/inbox", Some(&cio)).await, "csrf");
        assert_eq!(post_form(&app, &path, Some(&cio), &[("csrf", &cio_csrf), ("version", &version), ("justification", why)]).await.status, 403);

        let asked = post_form(&app, &path, Some(&cookie), &[("csrf", &csrf), ("version", &version), ("justification", why)]).await;
        assert_eq!(asked.status, 303, "{}", asked.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM duplicate_exceptions").await, 1);
        let page = get(&app, &format!("/requests/{id}"), Some(&cookie)).await;
        assert!(!page.text.contains("Ask for an exception"), "asked once: {}", page.text);
        app.stop().await;
    }
);

both!(
    async fn the_vendor_uploads_evidence_from_the_portal_and_a_wrong_file_is_shown_not_stored(backend) {
        let app = TestApp::spawn(backend).await;
        let (_vendor, _request, issued) = crate::console::invited(&app).await;
        let cookie = crate::console::cookie_of(&get(&app, issued["link"].as_str().unwrap(), None).await);
        let portal = get(&app, "/portal", Some(&cookie)).await;
        let title = portal.text.find("\">City security baseline</a>").expect("the baseline is listed");
        let path = portal.text[title - 56..title].to_string();
        let id = path.rsplit('/').next().unwrap().to_string();
        let page = get(&app, &path, Some(&cookie)).await;
        assert!(page.text.contains("Upload evidence"), "{}", page.text);
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let upload = format!("{path}/evidence");
        let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n";

        // Without the form's token, or from a staff session: nothing stored.
        let forged = post_file(&app, &upload, &cookie, &[("version", &version)], ("soc2.pdf", "application/pdf"), pdf).await;
        assert_eq!(forged.status, 403);
        let buyer = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let staff = post_file(&app, &upload, &buyer, &[("csrf", &csrf), ("version", &version)], ("soc2.pdf", "application/pdf"), pdf).await;
        assert_eq!(staff.status, 403);
        // Text that says it is a PDF: the API's refusal is shown, nothing is stored.
        let wrong = post_file(&app, &upload, &cookie, &[("csrf", &csrf), ("version", &version)], ("soc2.pdf", "application/pdf"), b"just words").await;
        assert!(wrong.status >= 400 && wrong.status < 500, "{}", wrong.status);
        assert!(wrong.text.contains("The file was not stored"), "{}", wrong.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 0);

        // A file question, if the questionnaire asks one, is answered by the file uploaded for it.
        let analyst = app.token(Role::SecurityAnalyst);
        let detail = app.get(&format!("/api/v1/assessments/{id}"), &analyst).await.ok(200).clone();
        let file_question = detail["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["kind"] == "file" && q["applicable"] == true)
            .map(|q| q["id"].as_str().unwrap().to_string());
        let mut fields = vec![("csrf", csrf.as_str()), ("version", version.as_str())];
        if let Some(q) = &file_question {
            fields.push(("question_id", q.as_str()));
        }
        let stored = post_file(&app, &upload, &cookie, &fields, ("soc2.pdf", "application/pdf"), pdf).await;
        assert_eq!(stored.status, 303, "{}", stored.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 1);
        let after = get(&app, stored.location.as_deref().unwrap(), Some(&cookie)).await;
        assert!(after.text.contains("soc2.pdf"), "{}", after.text);
        assert!(after.text.contains("The evidence file is stored"));
        if let Some(q) = &file_question {
            let detail = app.get(&format!("/api/v1/assessments/{id}"), &analyst).await.ok(200).clone();
            let answered = detail["questions"].as_array().unwrap().iter().find(|x| x["id"] == q.as_str()).unwrap().clone();
            assert!(!answered["answer"].is_null(), "{answered}");
        }
        // The form read before the upload is stale now.
        let stale = post_file(&app, &upload, &cookie, &[("csrf", &csrf), ("version", &version)], ("soc2.pdf", "application/pdf"), pdf).await;
        assert_eq!(stale.status, 412);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 1);
        app.stop().await;
    }
);

both!(
    async fn the_vendor_reads_its_findings_and_plans_their_remediation(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Remedy Inc").await;
        let analyst = app.token(Role::SecurityAnalyst);
        let template = app.get("/api/v1/questionnaires/ma-201-cmr-17", &analyst).await.ok(200).clone();
        let critical = crate::assessments::first_critical_yes(&template);
        let (token, ma, finding) = crate::assessments::accepted_with_a_finding(&app, &vendor, &critical).await;
        let cookie = crate::console::cookie_of(&get(&app, &format!("/portal/enter?token={token}"), None).await);
        let page = get(&app, &format!("/portal/assessments/{ma}"), Some(&cookie)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let fid = finding["id"].as_str().unwrap();
        assert!(page.text.contains(&format!("action=\"/portal/findings/{fid}/remediation\"")), "{}", page.text);
        assert!(page.text.contains("Record the plan"));
        let csrf = hidden(&page, "csrf");
        let version = format!("\"{}\"", finding["version"]);
        let path = format!("/portal/findings/{fid}/remediation");
        let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(60)).to_string();
        let plan = "Enforce MFA for every administrator";

        assert_eq!(
            post_form(&app, &path, Some(&cookie), &[("version", &version), ("assessment", &ma), ("plan", plan), ("due_date", &due)]).await.status,
            403
        );
        let blank = post_form(&app, &path, Some(&cookie), &[("csrf", &csrf), ("version", &version), ("assessment", &ma), ("plan", " "), ("due_date", &due)]).await;
        assert_eq!(blank.status, 422, "{}", blank.text);
        let buyer = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let buyer_csrf = hidden(&get(&app, "/requests", Some(&buyer)).await, "csrf");
        assert_eq!(
            post_form(&app, &path, Some(&buyer), &[("csrf", &buyer_csrf), ("version", &version), ("assessment", &ma), ("plan", plan), ("due_date", &due)]).await.status,
            403
        );

        let planned = post_form(&app, &path, Some(&cookie), &[("csrf", &csrf), ("version", &version), ("assessment", &ma), ("plan", plan), ("due_date", &due)]).await;
        assert_eq!(planned.status, 303, "{}", planned.text);
        let stored = app.get(&format!("/api/v1/findings/{fid}"), &analyst).await.ok(200).clone();
        assert_eq!(stored["status"], "remediation_planned");
        assert_eq!(stored["remediation_plan"], plan);
        assert_eq!(stored["remediation_due"], due.as_str());
        let shown = get(&app, &format!("/portal/assessments/{ma}?planned=1"), Some(&cookie)).await;
        assert!(shown.text.contains("Your remediation plan is recorded"), "{}", shown.text);
        assert!(shown.text.contains(plan));
        // The same form again: the finding moved on since.
        let stale = post_form(&app, &path, Some(&cookie), &[("csrf", &csrf), ("version", &version), ("assessment", &ma), ("plan", "Later"), ("due_date", &due)]).await;
        assert_eq!(stale.status, 412);
        app.stop().await;
    }
);
