//! The web console over HTTP: sign-in links, sessions, the vendor's invitation exchange, CSRF, roles, and the
//! pages calling the API as the signed-in person. The browser story is in `console_browser.rs`.

use procurement_review::auth::{Role, Verifier};
use procurement_review::config::Secret;
use procurement_review::console::session::{LoginLinkRequest, issue_login_link};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both;
use crate::helpers::{TEST_SECRET, TestApp, purchase, with};

/// A browser without redirects or a cookie jar: each test sees the 303s and the cookies as they are sent.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub csp: Option<String>,
    pub text: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn read(resp: reqwest::Response) -> Page {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (location, set_cookie, csp) = (
        header("location"),
        header("set-cookie"),
        header("content-security-policy"),
    );
    Page {
        status: resp.status().as_u16(),
        location,
        set_cookie,
        csp,
        text: resp.text().await.unwrap(),
    }
}

pub async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Page {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", app.base)
    };
    let mut req = client().get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("pr_session={c}"));
    }
    read(req.send().await.unwrap()).await
}

pub async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    form: &[(&str, &str)],
) -> Page {
    let mut req = client().post(format!("{}{path}", app.base)).form(form);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("pr_session={c}"));
    }
    read(req.send().await.unwrap()).await
}

/// The session cookie's value in a `Set-Cookie`.
pub fn cookie_of(page: &Page) -> String {
    let set = page.set_cookie.as_deref().expect("a Set-Cookie");
    set.strip_prefix("pr_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("the session cookie")
        .to_string()
}

/// The value of the hidden `name` input of a page (the first one).
pub fn hidden(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {}", page.text))
        + marker.len();
    let end = page.text[start..].find('"').unwrap() + start;
    page.text[start..end]
        .replace("&quot;", "\"")
        .replace("&#x2f;", "/")
}

pub async fn login_link(
    app: &TestApp,
    role: Role,
    sub: &str,
    department: Option<&str>,
    vendor: Option<Uuid>,
) -> String {
    let verifier = Verifier::new(&Default::default(), &Secret::new(TEST_SECRET)).unwrap();
    issue_login_link(
        &app.store,
        &verifier,
        &app.base,
        &LoginLinkRequest {
            role,
            subject: sub.into(),
            department: department.map(str::to_string),
            vendor,
        },
    )
    .await
    .unwrap()
}

/// Signs in with a fresh login link; returns the session cookie.
pub async fn sign_in(app: &TestApp, role: Role, sub: &str, department: Option<&str>) -> String {
    let link = login_link(app, role, sub, department, None).await;
    let page = get(app, &link, None).await;
    assert_eq!(page.status, 303, "{}", page.text);
    cookie_of(&page)
}

both!(
    async fn a_login_link_signs_in_once_with_a_safe_cookie_and_leaves_the_address_bar(backend) {
        let app = TestApp::spawn(backend).await;
        let link = login_link(&app, Role::Buyer, "bea", Some("DOIT"), None).await;
        assert!(link.starts_with(&format!("{}/login?code=", app.base)), "{link}");

        let first = get(&app, &link, None).await;
        assert_eq!(first.status, 303);
        assert_eq!(first.location.as_deref(), Some("/"), "the code leaves the address bar");
        let set = first.set_cookie.clone().unwrap();
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(attribute), "{set}");
        }
        assert!(!set.contains("Secure"), "plain http: no Secure flag ({set})");
        let cookie = cookie_of(&first);

        // Signed in: the home page sends the buyer to their requests, which name them.
        let home = get(&app, "/", Some(&cookie)).await;
        assert_eq!(home.location.as_deref(), Some("/requests"));
        let requests = get(&app, "/requests", Some(&cookie)).await;
        assert_eq!(requests.status, 200);
        assert!(requests.text.contains("Signed in as <strong>bea</strong>"), "{}", requests.text);

        // The same link again opens nothing.
        let again = get(&app, &link, None).await;
        assert_eq!(again.status, 401);
        assert!(again.text.contains("used already"), "{}", again.text);
        assert!(again.set_cookie.is_none());

        // A made-up code opens nothing either.
        let forged = get(&app, "/login?code=not-a-code", None).await;
        assert_eq!(forged.status, 401);

        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM console_login_links WHERE used_at IS NOT NULL").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'console.signed_in'").await, 1);
        // Only hashes are kept.
        let code = link.split("code=").nth(1).unwrap();
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM console_login_links WHERE code_hash = '{code}'")).await,
            0
        );
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM console_sessions WHERE token_hash = '{cookie}'")).await,
            0
        );
        app.stop().await;
    }
);

both!(
    async fn an_expired_login_link_opens_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let link = login_link(&app, Role::Cio, "carla", None, None).await;
        app.exec_sql("UPDATE console_login_links SET expires_at = created_at").await;
        let page = get(&app, &link, None).await;
        assert_eq!(page.status, 401);
        assert!(page.text.contains("expired"), "{}", page.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions").await, 0);
        app.stop().await;
    }
);

both!(
    async fn signing_out_needs_the_forms_token_and_ends_the_session_for_good(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = sign_in(&app, Role::Cio, "carla", None).await;
        let inbox = get(&app, "/inbox", Some(&cookie)).await;
        assert_eq!(inbox.status, 200);
        let csrf = hidden(&inbox, "csrf");

        // Without the form's token (a forged cross-site post), nothing happens.
        let forged = post_form(&app, "/sign-out", Some(&cookie), &[("csrf", "guess")]).await;
        assert_eq!(forged.status, 403);
        assert_eq!(get(&app, "/inbox", Some(&cookie)).await.status, 200);

        let out = post_form(&app, "/sign-out", Some(&cookie), &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
        let after = get(&app, "/inbox", Some(&cookie)).await;
        assert_eq!(after.status, 401, "the old cookie no longer works");
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE revoked_at IS NOT NULL").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'console.signed_out'").await, 1);
        app.stop().await;
    }
);

both!(
    async fn an_expired_session_is_refused(backend) {
        let app = TestApp::spawn(backend).await;
        let cookie = sign_in(&app, Role::SecurityAnalyst, "ana", None).await;
        assert_eq!(get(&app, "/reviews", Some(&cookie)).await.status, 200);
        app.exec_sql("UPDATE console_sessions SET expires_at = created_at").await;
        assert_eq!(get(&app, "/reviews", Some(&cookie)).await.status, 401);
        app.stop().await;
    }
);

both!(
    async fn each_page_is_for_its_roles_and_a_stranger_is_asked_to_sign_in(backend) {
        let app = TestApp::spawn(backend).await;
        let buyer = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let analyst = sign_in(&app, Role::SecurityAnalyst, "ana", None).await;
        assert_eq!(get(&app, "/reviews", Some(&buyer)).await.status, 403);
        assert_eq!(get(&app, "/inbox", Some(&buyer)).await.status, 403);
        assert_eq!(get(&app, "/portal", Some(&buyer)).await.status, 403);
        assert_eq!(get(&app, "/requests/new", Some(&analyst)).await.status, 403);
        for path in ["/requests", "/inbox", "/reviews", "/portal", "/requests/new"] {
            let page = get(&app, path, None).await;
            assert_eq!(page.status, 401, "{path}");
            assert!(page.text.contains("Sign in"), "{path}");
        }
        let home = get(&app, "/", None).await;
        assert_eq!(home.status, 200);
        assert!(home.text.contains("<h1>Sign in</h1>"));
        // Every console page states its own policy: nothing inline, nothing from elsewhere, never framed.
        assert_eq!(home.csp.as_deref(), Some(procurement_review::console::PAGE_POLICY));
        let css = get(&app, "/assets/console.css", None).await;
        assert_eq!(css.status, 200);
        app.stop().await;
    }
);

both!(
    async fn the_buyers_form_creates_a_draft_through_the_api_and_shows_each_fault_at_its_field(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Signet").await;
        app.department("DOIT").await;
        let cookie = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let form_page = get(&app, "/requests/new", Some(&cookie)).await;
        assert!(form_page.text.contains("Signet"), "the vendors are offered");
        let csrf = hidden(&form_page, "csrf");
        let vendor_id = vendor["id"].as_str().unwrap();
        let good = [
            ("csrf", csrf.as_str()),
            ("title", "Permit e-signature"),
            ("description", "Sign permit documents online"),
            ("vendor_id", vendor_id),
            ("product_name", "SignIt"),
            ("category", "e-signature"),
            ("capabilities", "electronic signatures"),
            ("capital_cost", "0"),
            ("annual_operating_cost", "60,000"),
            ("term_months", "12"),
            ("expected_users", "100"),
            ("requested_start_date", "2026-09-01"),
            ("hosting", "on_premises"),
            ("data_classes", "public"),
        ];

        // An amount that is not one, and a title the API refuses: both named, nothing stored.
        let mut bad = good.to_vec();
        bad.retain(|(k, _)| *k != "annual_operating_cost" && *k != "title");
        bad.push(("annual_operating_cost", "sixty thousand"));
        let refused = post_form(&app, "/requests", Some(&cookie), &bad).await;
        assert_eq!(refused.status, 422);
        assert!(refused.text.contains("must be an amount in dollars"), "{}", refused.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);
        let mut untitled = good.to_vec();
        untitled.retain(|(k, _)| *k != "title");
        let refused = post_form(&app, "/requests", Some(&cookie), &untitled).await;
        assert_eq!(refused.status, 422);
        assert!(refused.text.contains("id=\"title-error\""), "the fault is shown at the title: {}", refused.text);
        assert!(refused.text.contains("value=\"SignIt\""), "what was typed is kept");
        assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);

        // A forged post (no token) creates nothing.
        let mut forged = good.to_vec();
        forged.retain(|(k, _)| *k != "csrf");
        assert_eq!(post_form(&app, "/requests", Some(&cookie), &forged).await.status, 403);
        assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);

        let created = post_form(&app, "/requests", Some(&cookie), &good).await;
        assert_eq!(created.status, 303, "{}", created.text);
        let location = created.location.unwrap();
        let id = location.strip_prefix("/requests/").unwrap().to_string();
        // Stored by the API as the buyer, exactly as the JSON API would have.
        let stored = app.get(&format!("/api/v1/requests/{id}"), &app.token(Role::Admin)).await.ok(200).clone();
        assert_eq!(stored["status"], "draft");
        assert_eq!(stored["created_by"], "bea");
        assert_eq!(stored["department_code"], "DOIT");
        assert_eq!(stored["fields"]["annual_operating_cost_cents"], 6_000_000);
        assert_eq!(stored["fields"]["data_classes"], json!(["public"]));
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE object_id = '{id}' AND actor = 'bea'")).await,
            1
        );

        // The draft's page offers to submit it; submitting goes through the API's If-Match.
        let page = get(&app, &location, Some(&cookie)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("Submit for review"), "{}", page.text);
        let version = hidden(&page, "version");
        let submitted = post_form(
            &app,
            &format!("/requests/{id}/submit"),
            Some(&cookie),
            &[("csrf", &csrf), ("version", &version)],
        )
        .await;
        assert_eq!(submitted.status, 303);
        let stored = app.get(&format!("/api/v1/requests/{id}"), &app.token(Role::Admin)).await.ok(200).clone();
        assert_eq!(stored["status"], "awaiting_decision");
        // The same form again carries a stale version: refused, nothing changes.
        let stale = post_form(
            &app,
            &format!("/requests/{id}/withdraw"),
            Some(&cookie),
            &[("csrf", &csrf), ("version", &version)],
        )
        .await;
        assert_eq!(stale.status, 412);
        app.stop().await;
    }
);

both!(
    async fn another_departments_request_is_not_found_from_the_console_either(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Signet").await;
        app.department("PWD").await;
        let other = app.buyer_token("PWD", "pete");
        let created = app.post("/api/v1/requests", &other, purchase(&vendor)).await;
        let id = created.ok(201)["id"].as_str().unwrap().to_string();
        let cookie = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        assert_eq!(get(&app, &format!("/requests/{id}"), Some(&cookie)).await.status, 404);
        assert_eq!(get(&app, "/requests/not-an-id", Some(&cookie)).await.status, 404);
        app.stop().await;
    }
);

/// A submitted request that asks the vendor for questionnaires, an invitation for it, and its link.
pub async fn invited(app: &TestApp) -> (Value, String, Value) {
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
    let issued = app
        .invite(
            &buyer,
            vendor["id"].as_str().unwrap(),
            json!({"request_id": request, "contact_email": "sec@caseflow.example"}),
        )
        .await
        .ok(201)
        .clone();
    (vendor, request, issued)
}

both!(
    async fn the_invitation_link_opens_the_portal_and_revoking_the_invitation_ends_the_session(backend) {
        let app = TestApp::spawn(backend).await;
        let (vendor, _request, issued) = invited(&app).await;
        let link = issued["link"].as_str().unwrap();
        // The link names the address the service listens on (no public_url was set) and no longer /docs.
        assert!(link.starts_with(&format!("{}/portal/enter?token=", app.base)), "{link}");

        let entered = get(&app, link, None).await;
        assert_eq!(entered.status, 303);
        assert_eq!(entered.location.as_deref(), Some("/portal"), "the token leaves the address bar");
        let cookie = cookie_of(&entered);
        let portal = get(&app, "/portal", Some(&cookie)).await;
        assert_eq!(portal.status, 200);
        assert!(portal.text.contains("City security baseline"), "{}", portal.text);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM console_sessions WHERE method = 'invitation' AND invitation_id IS NOT NULL").await,
            1
        );
        // The vendor's pages only: staff pages refuse it.
        assert_eq!(get(&app, "/requests", Some(&cookie)).await.status, 403);

        let invitation = issued["invitation"]["id"].as_str().unwrap();
        app.post(
            &format!("/api/v1/vendors/{}/invitations/{invitation}/revoke", vendor["id"].as_str().unwrap()),
            &app.token(Role::Admin),
            json!({}),
        )
        .await
        .ok(200);
        let after = get(&app, "/portal", Some(&cookie)).await;
        assert_eq!(after.status, 401, "the session ended with the invitation");
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE revoked_at IS NOT NULL").await, 1);
        // The link itself is dead too.
        assert_eq!(get(&app, link, None).await.status, 401);
        // A staff token is no invitation.
        let staff = app.token(Role::Admin);
        assert_eq!(get(&app, &format!("/portal/enter?token={staff}"), None).await.status, 401);
        app.stop().await;
    }
);

both!(
    async fn a_vendor_answers_online_and_a_wrong_answer_is_shown_at_its_question(backend) {
        let app = TestApp::spawn(backend).await;
        let (_vendor, _request, issued) = invited(&app).await;
        let cookie = cookie_of(&get(&app, issued["link"].as_str().unwrap(), None).await);
        let portal = get(&app, "/portal", Some(&cookie)).await;
        let title = portal.text.find("\">City security baseline</a>").expect("the baseline is listed");
        let path = portal.text[title - 56..title].to_string();
        assert!(path.starts_with("/portal/assessments/"), "{path}");
        let page = get(&app, &path, Some(&cookie)).await;
        assert_eq!(page.status, 200);
        // A question that depends on another is not asked yet.
        assert!(page.text.contains("id=\"q-IAM-02\"") && page.text.contains("data-question=\"IAM-02\" data-kind=\"single_choice\" data-asked-when"), "{}", page.text);
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));

        let saved = post_form(
            &app,
            &format!("{path}/answers"),
            Some(&cookie),
            &[("csrf", &csrf), ("version", &version), ("a.IAM-01", "yes"), ("c.IAM-01", "Through SAML")],
        )
        .await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        let id = path.rsplit('/').next().unwrap();
        let stored = app.get(&format!("/api/v1/assessments/{id}"), &app.token(Role::SecurityAnalyst)).await.ok(200).clone();
        let iam01 = stored["questions"].as_array().unwrap().iter().find(|q| q["id"] == "IAM-01").unwrap();
        assert_eq!(iam01["answer"], "yes");
        assert_eq!(iam01["comment"], "Through SAML");
        let iam02 = stored["questions"].as_array().unwrap().iter().find(|q| q["id"] == "IAM-02").unwrap();
        assert_eq!(iam02["applicable"], true, "the dependent question is asked now");

        // A number question answered with words: the API's fault is shown at that question; nothing stored.
        let page = get(&app, &path, Some(&cookie)).await;
        let version = hidden(&page, "version");
        let number = stored["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["kind"] == "number" && q["applicable"] == true)
            .expect("a number question")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let field = format!("a.{number}");
        let refused = post_form(
            &app,
            &format!("{path}/answers"),
            Some(&cookie),
            &[("csrf", &csrf), ("version", &version), (&field, "a few")],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(refused.text.contains(&format!("id=\"e-{number}\"")), "{}", refused.text);
        assert!(refused.text.contains(&format!("href=\"#q-{number}\"")), "the summary links to the question");
        let again = app.get(&format!("/api/v1/assessments/{id}"), &app.token(Role::SecurityAnalyst)).await;
        assert_eq!(again.header("etag").unwrap(), version, "nothing was stored");
        app.stop().await;
    }
);

/// The stored answer of each question of assessment `id` (null where none).
async fn answers_of(app: &TestApp, id: &str) -> std::collections::BTreeMap<String, Value> {
    let detail = app
        .get(
            &format!("/api/v1/assessments/{id}"),
            &app.token(Role::SecurityAnalyst),
        )
        .await
        .ok(200)
        .clone();
    detail["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["id"].as_str().unwrap().to_string(), q["answer"].clone()))
        .collect()
}

both!(
    async fn a_dependent_question_the_page_showed_before_saving_is_saved_with_its_answer(backend) {
        let app = TestApp::spawn(backend).await;
        let (_vendor, _request, issued) = invited(&app).await;
        let cookie = cookie_of(&get(&app, issued["link"].as_str().unwrap(), None).await);
        let portal = get(&app, "/portal", Some(&cookie)).await;
        let title = portal.text.find("\">City security baseline</a>").expect("the baseline is listed");
        let path = portal.text[title - 56..title].to_string();
        let id = path.rsplit('/').next().unwrap().to_string();
        let page = get(&app, &path, Some(&cookie)).await;
        // The condition, for the script: the question it depends on and the answers that ask it; a question not
        // asked yet has its fields disabled, its `shown` field too.
        assert!(
            page.text.contains(r#"id="q-BCK-05" data-question="BCK-05" data-kind="date" data-asked-when="when BCK-04 is yes" data-when-question="BCK-04" data-when-any-of='["yes"]' hidden>"#),
            "{}",
            page.text
        );
        assert!(page.text.contains(r#"<input type="hidden" name="shown" value="BCK-02" disabled>"#));
        assert!(page.text.contains(r#"<input type="hidden" name="shown" value="BCK-01">"#));
        assert!(page.text.contains(r#"id="BCK-03-1" name="a.BCK-03" value="yes" disabled>"#), "{}", page.text);

        // The script showed BCK-02 to BCK-04 when BCK-01 became yes, and the vendor answered two of them before
        // saving: all three answers are stored by the one save.
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let saved = post_form(
            &app,
            &format!("{path}/answers"),
            Some(&cookie),
            &[
                ("csrf", &csrf), ("version", &version),
                ("shown", "BCK-01"), ("shown", "BCK-02"), ("shown", "BCK-03"), ("shown", "BCK-04"),
                ("a.BCK-01", "yes"), ("a.BCK-02", "12"), ("a.BCK-03", "yes"),
            ],
        )
        .await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        let answers = answers_of(&app, &id).await;
        assert_eq!((&answers["BCK-01"], &answers["BCK-02"], &answers["BCK-03"]), (&json!("yes"), &json!(12.0), &json!("yes")));

        // BCK-01 back to no: the script hid BCK-02 and BCK-03 and disabled their fields, so the form does not
        // show them; their answers stay as stored (not asked, they do not count).
        let page = get(&app, &path, Some(&cookie)).await;
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let saved = post_form(
            &app,
            &format!("{path}/answers"),
            Some(&cookie),
            &[("csrf", &csrf), ("version", &version), ("shown", "BCK-01"), ("a.BCK-01", "no")],
        )
        .await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        let answers = answers_of(&app, &id).await;
        assert_eq!((&answers["BCK-01"], &answers["BCK-02"], &answers["BCK-03"]), (&json!("no"), &json!(12.0), &json!("yes")));

        // A form that shows a question the answers do not ask is refused at that question, as the API refuses
        // it; nothing is stored.
        let page = get(&app, &path, Some(&cookie)).await;
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let refused = post_form(
            &app,
            &format!("{path}/answers"),
            Some(&cookie),
            &[("csrf", &csrf), ("version", &version), ("shown", "BCK-01"), ("shown", "BCK-04"), ("a.BCK-04", "yes")],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert!(refused.text.contains("BCK-04 is asked only when BCK-01 is yes"), "{}", refused.text);
        assert!(refused.text.contains(r#"id="e-BCK-04""#), "{}", refused.text);
        // The refused form shows what was sent, and for a question it did not show, the stored answer.
        assert!(refused.text.contains(r#"id="BCK-04-1" name="a.BCK-04" value="yes" checked"#), "{}", refused.text);
        assert!(refused.text.contains(r#"id="BCK-03-1" name="a.BCK-03" value="yes" checked disabled>"#), "{}", refused.text);
        assert!(answers.get("BCK-04").unwrap().is_null());
        assert!(answers_of(&app, &id).await["BCK-04"].is_null(), "nothing stored");
        app.stop().await;
    }
);

both!(
    async fn the_inbox_counts_the_wait_as_the_escalation_reminder_does_oldest_first(backend) {
        let app = TestApp::spawn(backend).await;
        let vendor = app.create_vendor("Signet").await;
        app.department("DOIT").await;
        let buyer = app.buyer_token("DOIT", "bea");
        app.draft_and_submit(&buyer, with(purchase(&vendor), json!({"title": "Old permits"}))).await;
        // The old one started to wait long ago: past the policy's escalation days.
        assert_eq!(app.exec_sql("UPDATE requests SET updated_at = '2020-01-01T00:00:00Z'").await, 1);
        app.draft_and_submit(&buyer, with(purchase(&vendor), json!({"title": "Fresh permits"}))).await;
        let cio = sign_in(&app, Role::Cio, "carla", None).await;
        let inbox = get(&app, "/inbox", Some(&cio)).await;
        assert_eq!(inbox.status, 200);
        let (o, f) = (inbox.text.find("Old permits").unwrap(), inbox.text.find("Fresh permits").unwrap());
        assert!(o < f, "oldest first");
        assert_eq!(inbox.text.matches("past escalation").count(), 1, "{}", inbox.text);
        assert!(inbox.text[o..f].contains("past escalation"));
        assert!(inbox.text[f..].contains("0 days"), "{}", inbox.text);
        app.stop().await;
    }
);

both!(
    async fn each_identity_provider_sign_in_started_clears_the_expired_attempts(backend) {
        let app = TestApp::spawn(backend).await;
        let actor = procurement_review::store::Actor {
            subject: "anonymous browser".into(),
            role: "system".into(),
            request_id: None,
            invitation: None,
        };
        let attempt = |n: u32| procurement_review::store::NewOidcAttempt {
            state_hash: format!("state-{n}"),
            browser_hash: format!("browser-{n}"),
            nonce: "nonce".into(),
            pkce_verifier: "verifier".into(),
            expires_at: chrono::Utc::now() + chrono::Duration::minutes(10),
        };
        app.store.start_oidc_attempt(&actor, attempt(1)).await.unwrap();
        app.store.start_oidc_attempt(&actor, attempt(2)).await.unwrap();
        // The first has expired; the second has not.
        assert_eq!(app.exec_sql("UPDATE console_oidc_attempts SET expires_at = created_at WHERE state_hash = 'state-1'").await, 1);
        app.store.start_oidc_attempt(&actor, attempt(3)).await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM console_oidc_attempts").await, 2);
        assert_eq!(app.count("SELECT COUNT(*) FROM console_oidc_attempts WHERE state_hash = 'state-1'").await, 0);
        // Its start stays in the audit trail.
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'console.oidc_started'").await, 3);
        app.stop().await;
    }
);
