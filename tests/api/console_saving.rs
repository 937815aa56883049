//! The vendor's answers saved as they are given (the page's script posts the answers form asking for JSON), and
//! a console upload over `max_upload_bytes` answered with the page and the fault by its file field.

use procurement_review::auth::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both;
use crate::console::{client, cookie_of, get, hidden, invited, sign_in};
use crate::console_admin::{multipart, post_file};
use crate::helpers::TestApp;

/// The vendor's session and the path of its baseline questionnaire's page.
async fn vendor_on_baseline(app: &TestApp) -> (String, String) {
    let (_vendor, _request, issued) = invited(app).await;
    let cookie = cookie_of(&get(app, issued["link"].as_str().unwrap(), None).await);
    let portal = get(app, "/portal", Some(&cookie)).await;
    let title = portal
        .text
        .find("\">City security baseline</a>")
        .expect("the baseline is listed");
    let path = portal.text[title - 56..title].to_string();
    assert!(path.starts_with("/portal/assessments/"), "{path}");
    (cookie, path)
}

/// The answers form posted as the page's script posts it: `Accept: application/json`.
async fn script_save(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> (u16, String, Value) {
    let resp = client()
        .post(format!("{}{path}/answers", app.base))
        .header("cookie", format!("pr_session={cookie}"))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.json::<Value>().await.unwrap();
    (status, content_type, body)
}

/// The assessment as an analyst reads it through the API: its ETag and each question's stored answer.
async fn stored(app: &TestApp, path: &str) -> (String, std::collections::BTreeMap<String, Value>) {
    let id = path.rsplit('/').next().unwrap();
    let resp = app
        .get(
            &format!("/api/v1/assessments/{id}"),
            &app.token(Role::SecurityAnalyst),
        )
        .await;
    let etag = resp.header("etag").unwrap().to_string();
    let answers = resp.ok(200)["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["id"].as_str().unwrap().to_string(), q["answer"].clone()))
        .collect();
    (etag, answers)
}

both!(
    async fn the_scripts_save_answers_json_with_the_new_version_and_a_stale_one_stores_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let (cookie, path) = vendor_on_baseline(&app).await;
        let page = get(&app, &path, Some(&cookie)).await;
        let (csrf, first) = (hidden(&page, "csrf"), hidden(&page, "version"));
        // Every form holding the assessment's version is marked for the script, which updates them after a save.
        assert_eq!(page.text.matches("data-assessment-version>").count(), 4, "{}", page.text);
        assert!(page.text.contains(r#"src="/assets/console.js""#), "{}", page.text);

        // An answer given: stored through the API; the answer names the new version and the question saved. BCK-02
        // is not shown (its condition, BCK-01 = yes, does not hold on the page), so its value is not saved.
        let (status, content_type, body) = script_save(&app, &path, &cookie, &[
            ("csrf", &csrf), ("version", &first), ("shown", "IAM-01"), ("shown", "BCK-01"),
            ("a.IAM-01", "yes"), ("c.IAM-01", "Through SAML"), ("a.BCK-02", "12"),
        ]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(content_type, "application/json");
        let (etag, answers) = stored(&app, &path).await;
        assert_eq!(body["saved"], true);
        assert_eq!(body["version"], etag.as_str(), "the version the save moved the assessment to");
        assert_ne!(etag, first);
        assert_eq!(body["questions"], json!(["IAM-01"]));
        assert!(body["saved_at"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()), "{body}");
        assert_eq!(answers["IAM-01"], "yes");
        assert!(answers["BCK-02"].is_null(), "a question the page does not show is not saved");
        let second = etag;

        // The next save goes on the version the first answered with.
        let (status, _, body) = script_save(&app, &path, &cookie, &[
            ("csrf", &csrf), ("version", &second), ("shown", "IAM-01"), ("shown", "BCK-01"),
            ("a.IAM-01", "yes"), ("c.IAM-01", "Through SAML"), ("a.BCK-01", "yes"),
        ]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["questions"], json!(["BCK-01"]), "only what changed is sent");
        let (third, answers) = stored(&app, &path).await;
        assert_eq!(body["version"], third.as_str());
        assert_eq!(answers["BCK-01"], "yes");

        // A wrong answer: 422 with the fault at its question, the version unchanged, nothing stored.
        let (status, _, body) = script_save(&app, &path, &cookie, &[
            ("csrf", &csrf), ("version", &third), ("shown", "BCK-01"), ("shown", "BCK-02"),
            ("a.BCK-01", "yes"), ("a.BCK-02", "a few"),
        ]).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["saved"], false);
        assert_eq!(body["version"], third.as_str());
        assert_eq!(body["errors"][0]["question_id"], "BCK-02", "{body}");
        assert!(!body["errors"][0]["message"].as_str().unwrap().is_empty(), "{body}");
        let (etag, answers) = stored(&app, &path).await;
        assert_eq!(etag, third, "nothing was stored");
        assert!(answers["BCK-02"].is_null());

        // A page still holding an older version (someone else saved meanwhile): refused as stale, nothing stored,
        // whether or not it changes anything.
        for form in [
            vec![("csrf", csrf.as_str()), ("version", second.as_str()), ("shown", "IAM-01"), ("a.IAM-01", "no")],
            vec![("csrf", csrf.as_str()), ("version", second.as_str()), ("shown", "IAM-01"), ("a.IAM-01", "yes"), ("c.IAM-01", "Through SAML")],
        ] {
            let (status, content_type, body) = script_save(&app, &path, &cookie, &form).await;
            assert_eq!(status, 412, "{body}");
            assert_eq!(content_type, "application/json");
            assert_eq!(body["stale"], true);
            assert!(body["message"].as_str().unwrap().contains("Reload the page"), "{body}");
            let (etag, answers) = stored(&app, &path).await;
            assert_eq!(etag, third, "nothing was stored");
            assert_eq!(answers["IAM-01"], "yes");
        }

        // Without the form's token, or after signing out: a refusal the script can read; nothing stored.
        let (status, _, body) = script_save(&app, &path, &cookie, &[("version", &third), ("a.IAM-01", "no")]).await;
        assert_eq!((status, &body["saved"]), (403, &json!(false)), "{body}");
        let (status, _, body) = script_save(&app, &path, "no-such-session", &[("csrf", &csrf), ("version", &third), ("a.IAM-01", "no")]).await;
        assert_eq!(status, 401, "{body}");
        assert!(body["message"].as_str().unwrap().contains("Sign in again"), "{body}");
        let (etag, answers) = stored(&app, &path).await;
        assert_eq!((etag.as_str(), &answers["IAM-01"]), (third.as_str(), &json!("yes")), "nothing was stored");

        // The Save button without the script works as before: a page, not JSON.
        let saved = crate::console::post_form(&app, &format!("{path}/answers"), Some(&cookie), &[
            ("csrf", &csrf), ("version", &third), ("shown", "IAM-01"), ("a.IAM-01", "no"),
        ]).await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        assert_eq!(stored(&app, &path).await.1["IAM-01"], "no");
        app.stop().await;
    }
);

/// No answer and no evidence stored.
async fn nothing_stored(app: &TestApp) {
    assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 0);
}

/// Raw HTTP/1.1 to the test server: `head` (without the blank line), then `body` in chunks when `chunked`.
async fn raw(app: &TestApp, head: &str, body: &[u8], chunked: bool) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let mut request = format!("{head}\r\nHost: test\r\nConnection: close\r\n").into_bytes();
    if chunked {
        request.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in body.chunks(64 * 1024) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
    } else {
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);
    }
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// A PDF of about `size` bytes (the API judges the file by its first bytes).
fn pdf(size: usize) -> Vec<u8> {
    let mut file = b"%PDF-1.7\n".to_vec();
    while file.len() + 16 < size {
        file.extend_from_slice(b"% padding line\n");
    }
    file.extend_from_slice(b"%%EOF\n");
    file
}

both!(
    async fn a_console_upload_over_the_limit_gets_its_page_with_the_fault_by_the_file_and_stores_nothing(backend) {
        let app = TestApp::spawn_with(backend, |c| c.max_upload_bytes = 1_000_000).await;
        let (cookie, path) = vendor_on_baseline(&app).await;
        let page = get(&app, &path, Some(&cookie)).await;
        let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
        let fields = [("csrf", csrf.as_str()), ("version", version.as_str())];

        // The portal's workbook upload, 1.2 MB: the assessment page again, 413, the fault next to the file field.
        let big = vec![b'x'; 1_200_000];
        let refused = post_file(&app, &format!("{path}/workbook"), &cookie, &fields, ("answers.xlsx", "application/octet-stream"), &big).await;
        assert_eq!(refused.status, 413, "{}", refused.text);
        assert!(refused.text.contains("<h2 id=\"wb-title\">Answer in a workbook</h2>"), "the page, not a problem: {}", refused.text);
        assert!(refused.text.contains(r#"aria-invalid="true" aria-describedby="file-error">"#), "{}", refused.text);
        assert!(refused.text.contains(r#"<span class="field-error" id="file-error">the file is larger than 1 MB</span>"#), "{}", refused.text);
        nothing_stored(&app).await;
        assert_eq!(stored(&app, &path).await.0, version, "the assessment did not move");

        // Evidence sent chunked, without a length: the limit holds on the bytes read.
        let boundary = "oversized-evidence";
        let head = format!(
            "POST {path}/evidence HTTP/1.1\r\nCookie: pr_session={cookie}\r\nAccept: text/html\r\n\
             Content-Type: multipart/form-data; boundary={boundary}"
        );
        let answer = raw(&app, &head, &multipart(boundary, &fields, ("big.pdf", "application/pdf"), &pdf(1_500_000)), true).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{}", &answer[..answer.len().min(400)]);
        assert!(answer.contains("text/html"), "{}", &answer[..answer.len().min(400)]);
        assert!(answer.contains(r#"<p class="field-error" id="evidence-file-error">the file is larger than 1 MB</p>"#), "{answer}");
        nothing_stored(&app).await;

        // A length declared far past the limit is not read at all; the page says the same.
        let head = format!("{head}\r\nContent-Length: 50000000");
        let answer = raw(&app, &head, b"", false).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{}", &answer[..answer.len().min(400)]);
        assert!(answer.contains("the file is larger than 1 MB"), "{answer}");

        // A file under the limit, in a form a little over it with its other fields: stored.
        let fine = post_file(&app, &format!("{path}/evidence"), &cookie, &fields, ("soc2.pdf", "application/pdf"), &pdf(999_000)).await;
        assert_eq!(fine.status, 303, "{}", fine.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM evidence").await, 1);

        // The catalogue import too, for an admin.
        let admin = sign_in(&app, Role::Admin, "adam", None).await;
        let catalog = get(&app, "/catalog", Some(&admin)).await;
        let services = app.count("SELECT COUNT(*) FROM catalog_services").await;
        let refused = post_file(&app, "/catalog/import", &admin, &[("csrf", &hidden(&catalog, "csrf"))], ("catalog.csv", "text/csv"), &big).await;
        assert_eq!(refused.status, 413, "{}", refused.text);
        assert!(refused.text.contains("<h1>Service catalogue</h1>"), "{}", refused.text);
        assert!(refused.text.contains(r#"id="file-error">the file is larger than 1 MB</span>"#), "{}", refused.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, services);

        // The API's own upload routes still answer the service's problem.
        let id = path.rsplit('/').next().unwrap();
        let api = client()
            .post(format!("{}/api/v1/assessments/{id}/workbook", app.base))
            .bearer_auth(app.token(Role::Admin))
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(api.status().as_u16(), 413);
        assert!(api.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
        app.stop().await;
    }
);
