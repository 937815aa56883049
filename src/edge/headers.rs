//! Headers on every response, errors included: no MIME sniffing, no referrer, no framing, a Content-Security
//! Policy, no caching of anything but the public API documents, HSTS when the service is reached over https, and
//! `Allow` on a 405.
//!
//! The policy of an HTML page (today only `/docs`, Swagger UI, served whole from this binary with its script and
//! style inline) allows exactly the inline `<script>` and `<style>` blocks the page has, by their SHA-256 hash,
//! computed from the page itself on its first request, so that a new Swagger UI in poem-openapi keeps working
//! and nothing injected into the page runs. Everything else gets `default-src 'none'`: a JSON answer has no
//! business loading anything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use sha2::{Digest, Sha256};

use super::RouteMethods;
use crate::config::Config;
use crate::error::problem_from_poem_error;

const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// The spec and the page that shows it are the same for everyone and change only with a release.
const PUBLIC_DOCUMENT_CACHE: &str = "public, max-age=300";
const HSTS: &str = "max-age=31536000";

/// The middleware; see the module documentation.
#[derive(Clone)]
pub struct ResponseHeaders {
    policy: Arc<Policy>,
}

struct Policy {
    hsts: bool,
    methods: RouteMethods,
    /// The Content-Security-Policy of each HTML page, by path.
    html: Mutex<HashMap<String, HeaderValue>>,
}

impl ResponseHeaders {
    /// HSTS is sent when `public_url` is https; `methods` answers `Allow` on a 405.
    pub fn new(config: &Config, methods: RouteMethods) -> ResponseHeaders {
        ResponseHeaders {
            policy: Arc::new(Policy {
                hsts: config
                    .public_url
                    .get(..8)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
                methods,
                html: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl<E: Endpoint> Middleware<E> for ResponseHeaders {
    type Output = WithResponseHeaders<E>;

    fn transform(&self, inner: E) -> Self::Output {
        WithResponseHeaders {
            inner,
            policy: self.policy.clone(),
        }
    }
}

pub struct WithResponseHeaders<E> {
    inner: E,
    policy: Arc<Policy>,
}

impl<E: Endpoint> Endpoint for WithResponseHeaders<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_string();
        let resp = match self.inner.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(err) => problem_from_poem_error(err).into_response(),
        };
        Ok(self.policy.apply(&path, resp).await)
    }
}

fn is_public_document(path: &str) -> bool {
    matches!(path, "/openapi.json" | "/openapi.yaml" | "/docs") || path.starts_with("/docs/")
}

fn is_html(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

impl Policy {
    async fn apply(&self, path: &str, mut resp: Response) -> Response {
        let csp = if let Some(own) = resp.headers().get(header::CONTENT_SECURITY_POLICY) {
            // A console page states its own policy (nothing inline).
            own.clone()
        } else if is_html(&resp) {
            self.html_policy(path, &mut resp).await
        } else {
            HeaderValue::from_static(API_POLICY)
        };
        let allow = (resp.status() == StatusCode::METHOD_NOT_ALLOWED)
            .then(|| self.methods.allowed(path))
            .flatten()
            .and_then(|methods| HeaderValue::from_str(&methods).ok());
        let headers = resp.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        let cache = if is_public_document(path) {
            PUBLIC_DOCUMENT_CACHE
        } else {
            "no-store"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if self.hsts {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            );
        }
        if let Some(allow) = allow
            && !headers.contains_key(header::ALLOW)
        {
            headers.insert(header::ALLOW, allow);
        }
        resp
    }

    async fn html_policy(&self, path: &str, resp: &mut Response) -> HeaderValue {
        if let Some(known) = self
            .html
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(path)
        {
            return known.clone();
        }
        let body = resp.take_body().into_bytes().await.unwrap_or_default();
        let policy = HeaderValue::from_str(&page_policy(&String::from_utf8_lossy(&body)))
            .unwrap_or_else(|_| HeaderValue::from_static(API_POLICY));
        resp.set_body(body);
        self.html
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_string(), policy.clone());
        policy
    }
}

/// The inline `<script>` and `<style>` blocks of a page (those without a `src`), read in document order as an
/// HTML parser does: a block's text runs to its own closing tag, whatever it mentions (Swagger UI's bundle
/// contains `<style` and `<script` in its own code).
fn inline_blocks(html: &str) -> (Vec<&str>, Vec<&str>) {
    let lower = html.to_ascii_lowercase();
    let (mut scripts, mut styles) = (Vec::new(), Vec::new());
    let mut from = 0;
    loop {
        let next = |tag: &str| lower[from..].find(tag).map(|i| from + i);
        let (start, is_script) = match (next("<script"), next("<style")) {
            (Some(a), Some(b)) if b < a => (b, false),
            (Some(a), _) => (a, true),
            (None, Some(b)) => (b, false),
            (None, None) => break,
        };
        let close = if is_script { "</script" } else { "</style" };
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        let Some(end) = lower[tag_end..].find(close).map(|i| tag_end + i) else {
            break;
        };
        if !lower[start..tag_end].contains(" src=") {
            if is_script { &mut scripts } else { &mut styles }.push(&html[tag_end..end]);
        }
        from = end + close.len();
    }
    (scripts, styles)
}

fn hashes(blocks: &[&str]) -> String {
    blocks
        .iter()
        .map(|b| {
            let digest = Sha256::digest(b.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A page may run its own inline scripts and styles (by hash), show images from itself or `data:` URIs (Swagger
/// UI's icons), and call its own origin ("Try it out"); nothing else, and no one may frame it.
fn page_policy(html: &str) -> String {
    let (scripts, styles) = inline_blocks(html);
    let (scripts, styles) = (hashes(&scripts), hashes(&styles));
    format!(
        "default-src 'none'; script-src 'self' {scripts}; style-src 'self' {styles}; img-src 'self' data:; \
         font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_policy_names_each_inline_script_and_style_by_hash_and_skips_external_ones() {
        let page = "<html><head><style>p{}</style><SCRIPT charset=\"UTF-8\">alert(1)</SCRIPT>\
                    <script src=\"/x.js\"></script></head><body><script>go()</script></body></html>";
        assert_eq!(inline_blocks(page), (vec!["alert(1)", "go()"], vec!["p{}"]));
        let policy = page_policy(page);
        let hash = |s: &str| {
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
        };
        assert!(
            policy.contains(&format!("'sha256-{}'", hash("alert(1)"))),
            "{policy}"
        );
        assert!(
            policy.contains(&format!("'sha256-{}'", hash("go()"))),
            "{policy}"
        );
        assert!(
            policy.contains(&format!("style-src 'self' 'sha256-{}'", hash("p{}"))),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }

    #[test]
    fn a_tag_named_inside_a_block_is_its_text_not_a_block() {
        let page =
            "<style>a::after{content:'<script>'}</style><script>let re = /<style>/;</script>";
        assert_eq!(
            inline_blocks(page),
            (
                vec!["let re = /<style>/;"],
                vec!["a::after{content:'<script>'}"]
            )
        );
    }

    #[test]
    fn only_an_https_public_url_turns_hsts_on() {
        let mut config = Config::default();
        assert!(
            !ResponseHeaders::new(&config, RouteMethods::default())
                .policy
                .hsts
        );
        config.public_url = "HTTPS://review.city.example".into();
        assert!(
            ResponseHeaders::new(&config, RouteMethods::default())
                .policy
                .hsts
        );
    }
}
