//! Staff sign-in to the console through OpenID Connect, against the local provider of `oidc_provider.rs`: the
//! whole authorization code flow with PKCE over HTTP, each refusal opening no session, and signing out at the
//! provider too (RP-Initiated Logout).

use serde_json::{Value, json};

use crate::both;
use crate::console::{client, get, hidden, post_form};
use crate::helpers::{Backend, TEST_SECRET, TestApp};
use crate::oidc_provider::{Bend, CLIENT_ID, CLIENT_SECRET, Provider};
use procurement_review::config::{Config, Secret};

/// An answer with every `Set-Cookie` it carried.
struct Step {
    status: u16,
    location: Option<String>,
    cookies: Vec<String>,
    text: String,
}

async fn step(url: &str, cookie: Option<&str>) -> Step {
    let mut req = client().get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.unwrap();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    Step {
        status: resp.status().as_u16(),
        location,
        cookies,
        text: resp.text().await.unwrap(),
    }
}

/// `name=value` of the cookie `name` among `cookies`, when it is set to something.
fn cookie(cookies: &[String], name: &str) -> Option<String> {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|rest| (c, rest)))
        .map(|(_, rest)| rest.split(';').next().unwrap().to_string())
        .filter(|v| !v.is_empty())
}

pub async fn spawn(backend: Backend) -> (TestApp, Provider) {
    // Roles as Keycloak nests them: the API's claim settings apply to the console's sign-in too.
    spawn_with(backend, |c| c.auth.role_claim = "realm_access.roles".into()).await
}

async fn spawn_with(
    backend: Backend,
    configure: impl FnOnce(&mut Config) + Send + 'static,
) -> (TestApp, Provider) {
    let provider = Provider::start().await;
    let issuer = provider.issuer.clone();
    let app = TestApp::spawn_with(backend, move |c| {
        configure(c);
        c.oidc.issuer_url = Some(issuer);
        c.oidc.client_id = Some(CLIENT_ID.into());
        c.oidc.client_secret = Some(Secret::new(CLIENT_SECRET));
        c.oidc.provider_name = "CityID".into();
    })
    .await;
    provider.register(&format!("{}/login/oidc/callback", app.base));
    provider.register_post_logout(&format!("{}/?signed_out=1", app.base));
    (app, provider)
}

/// What a sign-in got to: the start, the provider's answer (the callback URL) and the callback's page.
struct Flow {
    binding: String,
    callback_url: String,
    done: Step,
}

/// `/login/oidc` → the provider's `/authorize` → the callback, as a browser follows them.
async fn sign_in(app: &TestApp) -> Flow {
    let start = step(&format!("{}/login/oidc", app.base), None).await;
    assert_eq!(start.status, 303, "{}", start.text);
    let binding = cookie(&start.cookies, "pr_oidc").expect("the binding cookie");
    let authorize = start.location.unwrap();
    let answer = step(&authorize, None).await;
    assert_eq!(answer.status, 302, "the provider's answer: {}", answer.text);
    let callback_url = answer.location.unwrap();
    let done = step(&callback_url, Some(&format!("pr_oidc={binding}"))).await;
    Flow {
        binding,
        callback_url,
        done,
    }
}

fn person(sub: &str, roles: &[&str], department: Option<&str>, email: &str) -> Value {
    let mut claims = json!({
        "sub": sub,
        "name": format!("{sub} (test)"),
        "email": email,
        "email_verified": true,
        "realm_access": {"roles": roles},
    });
    if let Some(d) = department {
        claims["department"] = json!(d);
    }
    claims
}

async fn sessions(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM console_sessions").await
}

both!(
    async fn a_buyer_signs_in_through_the_identity_provider_with_roles_from_the_api_claims(backend) {
        let (app, provider) = spawn(backend).await;
        // An API token with its roles where this configuration reads them registers the department: the API
        // and the console's sign-in read the same claims.
        let now = chrono::Utc::now().timestamp();
        let admin = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &json!({"sub": "ada", "realm_access": {"roles": ["admin"]}, "iss": "procurement-review",
                    "aud": "procurement-review", "iat": now, "exp": now + 60}),
            &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .unwrap();
        app.post("/api/v1/departments", &admin, json!({"code": "DOIT", "name": "DOIT"})).await.ok(201);

        let home = step(&format!("{}/", app.base), None).await;
        assert_eq!(home.status, 200);
        assert!(
            home.text.contains(r#"<a class="button" href="/login/oidc">Sign in with CityID</a>"#),
            "{}",
            home.text
        );

        provider.next(person("Bea.Buyer", &["buyer", "offline_access"], Some("DOIT"), "bea@city.example"));
        let flow = sign_in(&app).await;
        let done = &flow.done;
        assert_eq!(done.status, 303, "{}", done.text);
        assert_eq!(done.location.as_deref(), Some("/"), "the code leaves the address bar");
        let set = done.cookies.iter().find(|c| c.starts_with("pr_session=")).expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(attribute), "{set}");
        }
        assert!(
            done.cookies.iter().any(|c| c.starts_with("pr_oidc=;") && c.contains("Max-Age=0")),
            "the binding cookie is cleared: {:?}",
            done.cookies
        );
        let session = cookie(&done.cookies, "pr_session").unwrap();

        // The buyer's home is their department's requests, which name them.
        let home = step(&format!("{}/", app.base), Some(&format!("pr_session={session}"))).await;
        assert_eq!(home.location.as_deref(), Some("/requests"));
        let requests = step(&format!("{}/requests", app.base), Some(&format!("pr_session={session}"))).await;
        assert_eq!(requests.status, 200, "{}", requests.text);
        assert!(requests.text.contains("Signed in as <strong>Bea.Buyer</strong>"), "{}", requests.text);
        // Not a CIO: the inbox is refused.
        let inbox = step(&format!("{}/inbox", app.base), Some(&format!("pr_session={session}"))).await;
        assert_eq!(inbox.status, 403);

        // The stored session: method, roles and department of the claims, the address the provider gave.
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM console_sessions WHERE method = 'oidc' AND subject = 'Bea.Buyer' \
                 AND roles = 'buyer' AND department = 'DOIT' AND email = 'bea@city.example' AND revoked_at IS NULL"
            )
            .await,
            1
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM identity_people WHERE subject_key = 'bea.buyer' \
                 AND email = 'bea@city.example' AND roles = 'buyer' AND department = 'DOIT'"
            )
            .await,
            1
        );
        let people = app.store.identity_people().await.unwrap();
        assert_eq!(people.len(), 1);
        assert_eq!(people[0].name.as_deref(), Some("Bea.Buyer (test)"));
        // Audited as a login link's session is, with the person recorded in the same transaction.
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'console.signed_in'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'identity_person.recorded'").await, 1);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'console.oidc_started'").await, 1);
        // Only hashes of the state and of the binding cookie are kept.
        let state = reqwest::Url::parse(&flow.callback_url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM console_oidc_attempts WHERE state_hash = '{state}' OR browser_hash = '{}'",
                flow.binding
            ))
            .await,
            0
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM console_oidc_attempts WHERE used_at IS NOT NULL").await, 1);

        // Signing in again updates the person's record rather than adding one.
        provider.next(person("bea.buyer", &["buyer"], Some("DOIT"), "bea.b@city.example"));
        assert_eq!(sign_in(&app).await.done.status, 303);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM identity_people WHERE email = 'bea.b@city.example'").await,
            1
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM identity_people").await, 1);
        assert_eq!(sessions(&app).await, 2);
        app.stop().await;
        provider.stop();
    }
);

both!(
    async fn a_cio_signed_in_by_the_provider_reaches_the_inbox(backend) {
        let (app, provider) = spawn(backend).await;
        provider.next(person("carla", &["cio"], None, "carla@city.example"));
        let flow = sign_in(&app).await;
        assert_eq!(flow.done.status, 303, "{}", flow.done.text);
        let session = cookie(&flow.done.cookies, "pr_session").unwrap();
        let home = step(&format!("{}/", app.base), Some(&format!("pr_session={session}"))).await;
        assert_eq!(home.location.as_deref(), Some("/inbox"));
        let inbox = step(&format!("{}/inbox", app.base), Some(&format!("pr_session={session}"))).await;
        assert_eq!(inbox.status, 200, "{}", inbox.text);
        assert!(inbox.text.contains("<strong>carla</strong>"), "{}", inbox.text);
        app.stop().await;
        provider.stop();
    }
);

both!(
    async fn a_wrong_or_missing_state_or_another_browser_opens_no_session(backend) {
        let (app, provider) = spawn(backend).await;
        provider.next(person("carla", &["cio"], None, "carla@city.example"));
        let start = step(&format!("{}/login/oidc", app.base), None).await;
        let binding = cookie(&start.cookies, "pr_oidc").unwrap();
        let answer = step(start.location.as_deref().unwrap(), None).await;
        let callback = reqwest::Url::parse(answer.location.as_deref().unwrap()).unwrap();
        let code = callback.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        let base = format!("{}/login/oidc/callback", app.base);
        let with_binding = format!("pr_oidc={binding}");

        let wrong = step(&format!("{base}?code={code}&state=made-up"), Some(&with_binding)).await;
        assert_eq!(wrong.status, 400, "{}", wrong.text);
        assert!(wrong.text.contains("does not belong to a sign-in started here"), "{}", wrong.text);
        let missing = step(&format!("{base}?code={code}"), Some(&with_binding)).await;
        assert_eq!(missing.status, 400);
        assert!(missing.text.contains("carries no state"), "{}", missing.text);
        // The right state from a browser that did not start the sign-in (no binding cookie, or another one).
        let elsewhere = step(callback.as_str(), None).await;
        assert_eq!(elsewhere.status, 400);
        assert!(elsewhere.text.contains("another browser"), "{}", elsewhere.text);
        let forged = step(callback.as_str(), Some("pr_oidc=someone-elses")).await;
        assert_eq!(forged.status, 400);
        for page in [&wrong, &missing, &elsewhere, &forged] {
            assert!(cookie(&page.cookies, "pr_session").is_none());
            assert!(page.text.contains("<h1>Sign in</h1>"));
        }
        assert_eq!(provider.tokens_issued(), 0, "no code was exchanged");
        assert_eq!(sessions(&app).await, 0);
        app.stop().await;
        provider.stop();
    }
);

both!(
    async fn a_replayed_callback_or_code_opens_no_second_session(backend) {
        let (app, provider) = spawn(backend).await;
        provider.next(person("carla", &["cio"], None, "carla@city.example"));
        let flow = sign_in(&app).await;
        assert_eq!(flow.done.status, 303);
        assert_eq!(sessions(&app).await, 1);

        // The same callback again, from the same browser: the sign-in it belongs to is used.
        let again = step(&flow.callback_url, Some(&format!("pr_oidc={}", flow.binding))).await;
        assert_eq!(again.status, 400, "{}", again.text);
        assert!(again.text.contains("used already"), "{}", again.text);

        // The used code under a fresh sign-in's state: the provider refuses it, and nothing opens.
        let start = step(&format!("{}/login/oidc", app.base), None).await;
        let binding = cookie(&start.cookies, "pr_oidc").unwrap();
        let answer = step(start.location.as_deref().unwrap(), None).await;
        let fresh = reqwest::Url::parse(answer.location.as_deref().unwrap()).unwrap();
        let state = fresh.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
        let old = reqwest::Url::parse(&flow.callback_url).unwrap();
        let old_code = old.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        let replay = step(
            &format!("{}/login/oidc/callback?code={old_code}&state={state}", app.base),
            Some(&format!("pr_oidc={binding}")),
        )
        .await;
        assert_eq!(replay.status, 401, "{}", replay.text);
        assert!(replay.text.contains("invalid_grant"), "{}", replay.text);
        assert!(cookie(&replay.cookies, "pr_session").is_none());
        assert_eq!(sessions(&app).await, 1);
        app.stop().await;
        provider.stop();
    }
);

/// Signs in with the ID token bent by `bend` and returns the callback's page; no session may open.
async fn refused(backend: Backend, claims: Value, bend: Bend) -> (u16, String) {
    let (app, provider) = spawn(backend).await;
    provider.next(claims);
    provider.bend(bend);
    let flow = sign_in(&app).await;
    assert!(
        cookie(&flow.done.cookies, "pr_session").is_none(),
        "{:?}",
        flow.done.cookies
    );
    assert!(
        flow.done.text.contains("<h1>Sign in</h1>"),
        "{}",
        flow.done.text
    );
    assert_eq!(provider.tokens_issued(), 1, "the code was exchanged");
    assert_eq!(sessions(&app).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM identity_people").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'console.signed_in'")
            .await,
        0
    );
    // What was refused leaves no token on the page.
    assert!(!flow.done.text.contains("eyJ"), "{}", flow.done.text);
    app.stop().await;
    provider.stop();
    (flow.done.status, flow.done.text)
}

fn cio() -> Value {
    person("carla", &["cio"], None, "carla@city.example")
}

both!(
    async fn an_id_token_for_another_audience_opens_no_session(backend) {
        let bend = Bend { audience: Some("another-application".into()), ..Bend::default() };
        let (status, text) = refused(backend, cio(), bend).await;
        assert_eq!(status, 401);
        assert!(text.contains("meant for another application"), "{text}");
    }
);

both!(
    async fn an_id_token_with_another_nonce_opens_no_session(backend) {
        let bend = Bend { nonce: Some("a-nonce-of-another-sign-in".into()), ..Bend::default() };
        let (status, text) = refused(backend, cio(), bend).await;
        assert_eq!(status, 401);
        assert!(text.contains("does not belong to this sign-in"), "{text}");
    }
);

both!(
    async fn an_expired_id_token_opens_no_session(backend) {
        let bend = Bend { expires_in: Some(-120), ..Bend::default() };
        let (status, text) = refused(backend, cio(), bend).await;
        assert_eq!(status, 401);
        assert!(text.contains("has expired"), "{text}");
    }
);

both!(
    async fn claims_that_name_no_role_of_this_service_open_no_session(backend) {
        let claims = person("mallory", &["offline_access", "uma_authorization"], None, "m@city.example");
        let (status, text) = refused(backend, claims, Bend::default()).await;
        assert_eq!(status, 403);
        assert!(text.contains("names no role of this service"), "{text}");
    }
);

both!(
    async fn a_buyer_without_a_department_opens_no_session(backend) {
        let claims = person("bea", &["buyer"], None, "bea@city.example");
        let (status, text) = refused(backend, claims, Bend::default()).await;
        assert_eq!(status, 403);
        assert!(text.contains("gives no department"), "{text}");
    }
);

both!(
    async fn the_provider_saying_no_opens_no_session(backend) {
        let (app, provider) = spawn(backend).await;
        let start = step(&format!("{}/login/oidc", app.base), None).await;
        let binding = cookie(&start.cookies, "pr_oidc").unwrap();
        let state = reqwest::Url::parse(start.location.as_deref().unwrap())
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let page = step(
            &format!("{}/login/oidc/callback?error=access_denied&state={state}", app.base),
            Some(&format!("pr_oidc={binding}")),
        )
        .await;
        assert_eq!(page.status, 401);
        assert!(page.text.contains("did not sign you in (access_denied)"), "{}", page.text);
        assert_eq!(sessions(&app).await, 0);
        app.stop().await;
        provider.stop();
    }
);

both!(
    async fn an_unreachable_provider_is_named_and_the_service_still_serves(backend) {
        // A provider that started and stopped: its address answers nothing.
        let (app, provider) = spawn(backend).await;
        provider.stop();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let page = step(&format!("{}/login/oidc", app.base), None).await;
        assert_eq!(page.status, 503, "{}", page.text);
        assert!(page.text.contains("identity provider cannot be reached"), "{}", page.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM console_oidc_attempts").await, 0);
        assert_eq!(step(&format!("{}/", app.base), None).await.status, 200);
        app.stop().await;
    }
);

both!(
    async fn without_a_provider_configured_the_sign_in_page_offers_none(backend) {
        let app = TestApp::spawn(backend).await;
        let home = step(&format!("{}/", app.base), None).await;
        assert_eq!(home.status, 200);
        assert!(!home.text.contains("/login/oidc"), "{}", home.text);
        assert!(home.text.contains("sign-in link"), "{}", home.text);
        let page = step(&format!("{}/login/oidc", app.base), None).await;
        assert_eq!(page.status, 404);
        app.stop().await;
    }
);

both!(
    async fn people_signed_in_by_the_provider_receive_the_mail_their_role_may_read(backend) {
        let sink = crate::smtp_sink::Sink::start(crate::smtp_sink::Mode::Accept).await;
        let port = sink.port;
        let (app, provider) = spawn_with(backend, move |c| {
            crate::mail::mail_settings(c, port, &[]);
            // Links at the address listened on, so that the browser steps reach this service.
            c.public_url = String::new();
            // Roles where the suite's own API tokens carry them.
            c.auth.role_claim = "roles".into();
        })
        .await;
        for (sub, roles, department, email) in [
            ("carla", "cio", None, "carla@city.example"),
            ("bea", "buyer", Some("DOIT"), "bea@doit.city.example"),
            ("ivan", "buyer", Some("ISD"), "ivan@isd.city.example"),
            ("ada", "admin", None, "ada@city.example"),
        ] {
            let mut claims = json!({"sub": sub, "email": email, "email_verified": true, "roles": [roles]});
            if let Some(d) = department {
                claims["department"] = json!(d);
            }
            provider.next(claims);
            assert_eq!(sign_in(&app).await.done.status, 303);
        }
        let vendor = app.create_vendor("Case Systems LLC").await;
        crate::mail::submitted_request(&app, "DOIT", &vendor, "Case management").await;
        crate::mail::pass(&app, chrono::Utc::now()).await;

        let submitted = "[Procurement review] Request \"Case management\" was submitted for review";
        // The CIO (a decider of the route) and DOIT's buyer, besides the configured mailboxes.
        assert_eq!(crate::mail::inbox(&sink, "carla@city.example"), [submitted]);
        assert_eq!(crate::mail::inbox(&sink, "bea@doit.city.example"), [submitted]);
        assert_eq!(crate::mail::inbox(&sink, "cio-office@city.example"), [submitted]);
        // Not another department's buyer, not an admin.
        assert!(sink.to("ivan@isd.city.example").is_empty());
        assert!(sink.to("ada@city.example").is_empty());

        // A person whose last sign-in is too old is no longer reached.
        app.exec_sql("UPDATE console_sessions SET revoked_at = created_at").await;
        let old = chrono::Utc::now() - chrono::Duration::days(procurement_review::domain::mail::PEOPLE_DAYS + 1);
        let old = match backend {
            Backend::Sqlite => format!("'{}'", old.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            Backend::Postgres => format!("'{}'::timestamptz", old.to_rfc3339()),
        };
        app.exec_sql(&format!("UPDATE identity_people SET last_signed_in = {old} WHERE subject_key = 'carla'")).await;
        crate::mail::submitted_request(&app, "DOIT", &vendor, "Second system").await;
        crate::mail::pass(&app, chrono::Utc::now()).await;
        assert_eq!(crate::mail::inbox(&sink, "carla@city.example"), [submitted]);
        assert_eq!(crate::mail::inbox(&sink, "bea@doit.city.example").len(), 2);
        app.stop().await;
        provider.stop();
    }
);

/// A query parameter of `url`.
fn param(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Signs carla (CIO) in through the provider and returns her session cookie's value.
async fn cio_signed_in(app: &TestApp, provider: &Provider) -> String {
    provider.next(cio());
    let flow = sign_in(app).await;
    assert_eq!(flow.done.status, 303, "{}", flow.done.text);
    cookie(&flow.done.cookies, "pr_session").expect("a session cookie")
}

/// Posts the sign-out form of `session`'s inbox, with its CSRF token.
async fn sign_out(app: &TestApp, session: &str) -> crate::console::Page {
    let inbox = get(app, "/inbox", Some(session)).await;
    assert_eq!(inbox.status, 200, "{}", inbox.text);
    assert!(
        inbox.text.contains(r#"action="/sign-out""#),
        "{}",
        inbox.text
    );
    post_form(
        app,
        "/sign-out",
        Some(session),
        &[("csrf", &hidden(&inbox, "csrf"))],
    )
    .await
}

both!(
    async fn signing_out_of_a_provider_session_signs_out_at_the_provider_too(backend) {
        let (app, provider) = spawn(backend).await;
        let session = cio_signed_in(&app, &provider).await;
        let issued = provider.id_tokens();
        assert_eq!(issued.len(), 1);
        // The ID token is kept with the session, and nowhere in the audit trail.
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM console_sessions WHERE id_token = '{}'", issued[0])).await,
            1
        );
        let audited = format!("SELECT COUNT(*) FROM audit_log WHERE CAST(after AS TEXT) LIKE '%{}%'", issued[0]);
        assert_eq!(app.count(&audited).await, 0);
        // Pages let their forms lead to the provider, since the sign-out form is answered with a redirect there.
        let inbox = get(&app, "/inbox", Some(&session)).await;
        let csp = inbox.csp.unwrap();
        assert!(csp.contains(&format!("form-action 'self' {};", provider.issuer)), "{csp}");

        let out = sign_out(&app, &session).await;
        assert_eq!(out.status, 303, "{}", out.text);
        assert!(out.set_cookie.as_deref().unwrap().contains("Max-Age=0"), "{:?}", out.set_cookie);
        let location = reqwest::Url::parse(out.location.as_deref().unwrap()).unwrap();
        assert_eq!(
            format!("{}{}", location.origin().ascii_serialization(), location.path()),
            format!("{}/end_session", provider.issuer)
        );
        assert_eq!(param(&location, "id_token_hint").as_deref(), Some(issued[0].as_str()));
        assert_eq!(param(&location, "client_id").as_deref(), Some(CLIENT_ID));
        let back = format!("{}/?signed_out=1", app.base);
        assert_eq!(param(&location, "post_logout_redirect_uri").as_deref(), Some(back.as_str()));
        let state = param(&location, "state").expect("a state");
        assert!(state.len() >= 16, "{state}");

        // Our session is over before the browser reaches the provider: the old cookie no longer works, and the
        // kept ID token is gone with it.
        assert_eq!(get(&app, "/inbox", Some(&session)).await.status, 401);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM console_sessions WHERE revoked_at IS NOT NULL AND id_token IS NULL").await,
            1
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE id_token IS NOT NULL").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'console.signed_out'").await, 1);
        assert_eq!(app.count(&audited).await, 0);

        // The provider accepts the request, ends its session and sends the browser back with the state to the
        // home page, which says so.
        let at_provider = step(location.as_str(), None).await;
        assert_eq!(at_provider.status, 302, "{}", at_provider.text);
        let returned = reqwest::Url::parse(at_provider.location.as_deref().unwrap()).unwrap();
        assert!(returned.as_str().starts_with(&back), "{returned}");
        assert_eq!(param(&returned, "state"), Some(state.clone()));
        let ended = provider.sessions_ended();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].subject, "carla");
        assert_eq!(ended[0].id_token_hint, issued[0]);
        assert_eq!(ended[0].client_id.as_deref(), Some(CLIENT_ID));
        assert_eq!(ended[0].post_logout_redirect_uri, back);
        assert_eq!(ended[0].state.as_deref(), Some(state.as_str()));
        let home = step(returned.as_str(), None).await;
        assert_eq!(home.status, 200, "{}", home.text);
        assert!(home.text.contains("You have signed out."), "{}", home.text);
        assert!(home.text.contains("Sign in with CityID"), "{}", home.text);

        // Posting the old session's form again sends nobody to the provider a second time.
        let again = post_form(&app, "/sign-out", Some(&session), &[("csrf", "stale")]).await;
        assert_eq!(again.status, 401);
        assert_eq!(provider.sessions_ended().len(), 1);
        app.stop().await;
        provider.stop();
    }
);

both!(
    async fn without_an_end_session_endpoint_signing_out_ends_the_console_session_only(backend) {
        let (app, provider) = spawn(backend).await;
        provider.publish_end_session(false);
        let session = cio_signed_in(&app, &provider).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE id_token IS NOT NULL").await, 1);

        let out = sign_out(&app, &session).await;
        assert_eq!(out.status, 303, "{}", out.text);
        assert_eq!(out.location.as_deref(), Some("/?signed_out=1"));
        assert!(out.set_cookie.as_deref().unwrap().contains("Max-Age=0"), "{:?}", out.set_cookie);
        assert_eq!(get(&app, "/inbox", Some(&session)).await.status, 401);
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE id_token IS NOT NULL").await, 0);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM console_sessions WHERE revoked_at IS NOT NULL").await,
            1
        );
        assert!(provider.sessions_ended().is_empty());
        let home = get(&app, "/?signed_out=1", None).await;
        assert!(home.text.contains("You have signed out."), "{}", home.text);
        app.stop().await;
        provider.stop();
    }
);

both!(
    async fn a_login_link_session_signs_out_here_even_with_a_provider_that_publishes_an_end_session(backend) {
        let (app, provider) = spawn(backend).await;
        let session = crate::console::sign_in(&app, procurement_review::auth::Role::Cio, "carla", None).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE method = 'login_link'").await, 1);

        let out = sign_out(&app, &session).await;
        assert_eq!(out.status, 303, "{}", out.text);
        assert_eq!(out.location.as_deref(), Some("/?signed_out=1"));
        assert_eq!(get(&app, "/inbox", Some(&session)).await.status, 401);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM console_sessions WHERE revoked_at IS NOT NULL").await,
            1
        );
        assert!(provider.sessions_ended().is_empty());
        assert!(provider.id_tokens().is_empty());
        app.stop().await;
        provider.stop();
    }
);

both!(
    async fn an_expired_sessions_id_token_is_cleared_by_the_next_sign_in_through_the_provider(backend) {
        let (app, provider) = spawn(backend).await;
        let first = cio_signed_in(&app, &provider).await;
        app.exec_sql("UPDATE console_sessions SET expires_at = created_at").await;
        assert_eq!(get(&app, "/inbox", Some(&first)).await.status, 401);
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE id_token IS NOT NULL").await, 1);

        let second = cio_signed_in(&app, &provider).await;
        let issued = provider.id_tokens();
        assert_eq!(issued.len(), 2);
        // Only the live session keeps its token: the expired one's is gone.
        assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions WHERE id_token IS NOT NULL").await, 1);
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM console_sessions WHERE id_token = '{}'", issued[1])).await,
            1
        );
        let out = sign_out(&app, &second).await;
        let location = reqwest::Url::parse(out.location.as_deref().unwrap()).unwrap();
        assert_eq!(param(&location, "id_token_hint").as_deref(), Some(issued[1].as_str()));
        app.stop().await;
        provider.stop();
    }
);
