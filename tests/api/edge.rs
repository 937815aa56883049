//! The edge: connection timeouts and cap, security headers, `Allow` on 405. Connections are raw sockets so that
//! a test can be as slow, idle or rude as an attacker.

use std::time::Duration;

use procurement_review::auth::Role;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both;
use crate::helpers::{Backend, TestApp};

/// Far longer than any timeout these tests configure: a connection still open after it was never closed.
const BOUND: Duration = Duration::from_secs(10);

async fn short_timeouts(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.http_header_timeout_ms = 300;
        c.http_body_timeout_ms = 300;
        c.http_idle_timeout_ms = 300;
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection; panics when it has not closed within `BOUND`.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&received).to_string();
    assert!(
        read.is_ok(),
        "the server kept the connection open; it sent: {text:?}"
    );
    text
}

/// Sends `bytes` one at a time, `gap` apart; stops when the server has closed the connection. Returns how many
/// bytes were sent.
async fn trickle(stream: &mut TcpStream, bytes: &[u8], gap: Duration) -> usize {
    for (i, byte) in bytes.iter().enumerate() {
        if stream.write_all(&[*byte]).await.is_err() {
            return i;
        }
        tokio::time::sleep(gap).await;
    }
    bytes.len()
}

both!(
    async fn slow_and_idle_connections_are_closed_while_a_normal_request_is_served(backend) {
        let app = short_timeouts(backend).await;
        let mut connect_only = connect(&app).await;
        let mut slow_head = connect(&app).await;
        let mut idle = connect(&app).await;

        // A request line and headers at one byte per 100 ms: each byte well within the 300 ms, the whole head not.
        let head = b"GET /healthz HTTP/1.1\r\nHost: test\r\nUser-Agent: slow\r\n\r\n";
        let trickler = tokio::spawn(async move {
            let sent = trickle(&mut slow_head, head, Duration::from_millis(100)).await;
            (sent, until_closed(&mut slow_head).await)
        });

        // A keep-alive connection that is answered once and then says nothing.
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();

        // Meanwhile another connection is served as usual.
        let served = app.client.get(format!("{}/api/v1/me", app.base)).bearer_auth(app.token(Role::Admin)).send().await.unwrap();
        assert_eq!(served.status(), 200);

        assert_eq!(until_closed(&mut connect_only).await, "", "a connection that sends nothing gets nothing");
        let answered_then_closed = until_closed(&mut idle).await;
        assert!(answered_then_closed.starts_with("HTTP/1.1 200"), "{answered_then_closed}");
        assert_eq!(answered_then_closed.matches("HTTP/1.1").count(), 1);
        let (sent, answer) = trickler.await.unwrap();
        assert!(sent < head.len(), "closed before the head was complete ({sent} of {} bytes)", head.len());
        assert_eq!(answer, "", "a late head is not answered");

        app.stop().await;
    }
);

both!(
    async fn a_trickled_body_is_cut_off_with_408_and_its_connection_closed(backend) {
        let app = short_timeouts(backend).await;
        let admin = app.token(Role::Admin);
        let body = br#"{"legal_name": "Slowly Inc", "hq_country": "US"}"#;
        let mut stream = connect(&app).await;
        let head = format!(
            "POST /api/v1/vendors HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {admin}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let trickler = tokio::spawn(async move {
            let mut sent = 0;
            for byte in body {
                if writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
                sent += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            sent
        });
        let mut received = Vec::new();
        tokio::time::timeout(BOUND, reader.read_to_end(&mut received)).await.expect("closed").ok();
        let answer = String::from_utf8_lossy(&received);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(answer.contains(r#""code":"body_timeout""#), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
        trickler.abort();
        assert_eq!(app.count("SELECT COUNT(*) FROM vendors").await, 0, "nothing was stored");
        app.stop().await;
    }
);

both!(
    async fn connections_above_the_cap_wait_until_one_closes(backend) {
        let app = TestApp::spawn_with(backend, |c| c.http_max_connections = 2).await;
        let first = connect(&app).await;
        let _second = connect(&app).await;
        let mut third = connect(&app).await;
        third.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await.unwrap();

        // Both slots are held by connections that have sent nothing (the header timeout is the default 10 s).
        let mut buf = [0u8; 64];
        let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
        assert!(early.is_err(), "the third connection was served while two were open: {early:?}");

        drop(first);
        let answer = until_closed(&mut third).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "served once a slot was free: {answer}");
        app.stop().await;
    }
);

const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

#[track_caller]
fn assert_protected(resp: &crate::helpers::Resp, what: &str, cache: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(resp.header(name), Some(value), "{name} on {what}");
    }
    let csp = resp
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("no CSP on {what}"));
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert_eq!(
        resp.header("cache-control"),
        Some(cache),
        "cache-control on {what}"
    );
    assert_eq!(
        resp.header("strict-transport-security"),
        None,
        "no HSTS over http on {what}"
    );
}

both!(
    async fn every_response_carries_the_security_headers_and_only_public_documents_are_cacheable(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let data = app.get("/api/v1/vendors", &admin).await;
        data.ok(200);
        assert_protected(&data, "an API answer", "no-store");
        let unauthorized = app.call(Method::GET, "/api/v1/me", None, None, &[]).await;
        unauthorized.problem(401, "unauthorized");
        assert_protected(&unauthorized, "a 401", "no-store");
        let no_route = app.get("/api/v1/nothing-here", &admin).await;
        no_route.problem(404, "no_route");
        assert_protected(&no_route, "the framework's 404", "no-store");
        let wrong_method = app.call(Method::PUT, "/api/v1/vendors", Some(&admin), None, &[]).await;
        wrong_method.problem(405, "method_not_allowed");
        assert_protected(&wrong_method, "the framework's 405", "no-store");
        let health = app.call(Method::GET, "/healthz", None, None, &[]).await;
        health.ok(200);
        assert_protected(&health, "/healthz", "no-store");
        let spec = app.call(Method::GET, "/openapi.yaml", None, None, &[]).await;
        spec.ok(200);
        assert_protected(&spec, "/openapi.yaml", "public, max-age=300");
        app.stop().await;
    }
);

both!(
    async fn the_docs_page_allows_exactly_its_own_inline_script_and_style(backend) {
        let app = TestApp::spawn(backend).await;
        let docs = app.call(Method::GET, "/docs", None, None, &[]).await;
        docs.ok(200);
        assert_protected(&docs, "/docs", "public, max-age=300");
        let csp = docs.header("content-security-policy").unwrap();
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        // Each inline block of the page, hashed as a browser does, is named in its directive: Swagger UI's
        // style, its bundle, and the script that starts it (poem-openapi's page, in this order).
        let hash = |block: &str| {
            use base64::Engine;
            use sha2::Digest;
            format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(block.as_bytes())))
        };
        let directive = |name: &str| csp.split(';').map(str::trim).find(|d| d.starts_with(name)).unwrap().to_string();
        let page = docs.text.as_str();
        let between = |from: usize, open: &str, close: &str| {
            let start = from + page[from..].find(open).unwrap() + open.len();
            let end = start + page[start..].find(close).unwrap();
            (&page[start..end], end)
        };
        let (style, after_style) = between(0, "<style charset=\"UTF-8\">", "</style>");
        let (bundle, after_bundle) = between(after_style, "<script charset=\"UTF-8\">", "</script>");
        let (start_up, _) = between(after_bundle, "<script>", "</script>");
        assert!(bundle.contains("SwaggerUIBundle") && start_up.contains("SwaggerUIBundle({"));
        assert_eq!(directive("style-src"), format!("style-src 'self' {}", hash(style)));
        assert_eq!(directive("script-src"), format!("script-src 'self' {} {}", hash(bundle), hash(start_up)));
        // The same policy on the next request, from the cache.
        let again = app.call(Method::GET, "/docs", None, None, &[]).await;
        assert_eq!(again.header("content-security-policy"), Some(csp));
        app.stop().await;
    }
);

both!(
    async fn hsts_is_sent_only_when_the_public_url_is_https(backend) {
        let app = TestApp::spawn_with(backend, |c| c.public_url = "https://review.city.example".into()).await;
        let health = app.call(Method::GET, "/healthz", None, None, &[]).await;
        assert_eq!(health.header("strict-transport-security"), Some("max-age=31536000"));
        let problem = app.call(Method::GET, "/api/v1/me", None, None, &[]).await;
        problem.problem(401, "unauthorized");
        assert_eq!(problem.header("strict-transport-security"), Some("max-age=31536000"));
        app.stop().await;

        let plain = TestApp::spawn(backend).await;
        let health = plain.call(Method::GET, "/healthz", None, None, &[]).await;
        assert_eq!(health.header("strict-transport-security"), None);
        plain.stop().await;
    }
);

both!(
    async fn a_wrong_method_answers_405_with_the_methods_the_route_accepts(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let vendor = app.create_vendor("Allowed Methods").await;
        let id = vendor["id"].as_str().unwrap();
        for (method, path, allow) in [
            (Method::DELETE, "/api/v1/me".to_string(), "GET, HEAD"),
            (Method::PUT, "/api/v1/vendors".to_string(), "GET, HEAD, POST"),
            (Method::DELETE, format!("/api/v1/vendors/{id}"), "GET, HEAD, PATCH"),
            (Method::GET, format!("/api/v1/requests/{id}/submit"), "POST"),
            (Method::POST, "/healthz".to_string(), "GET, HEAD"),
        ] {
            let resp = app.call(method.clone(), &path, Some(&admin), None, &[]).await;
            resp.problem(405, "method_not_allowed");
            assert_eq!(resp.header("allow"), Some(allow), "{method} {path}");
        }
        // The methods it names are indeed accepted.
        assert_eq!(app.call(Method::HEAD, "/api/v1/me", Some(&admin), None, &[]).await.status, 200);
        app.stop().await;
    }
);
