//! The City Council's documents on the request page [Boston 16-63]: a buyer of the department (or an admin)
//! uploads the Surveillance Use Policy or Impact Report through the API's own operation, each listed document is
//! downloaded through the console, and every refusal (the file, the kind, the state, the role, the form's token)
//! stores nothing.

use procurement_review::auth::Role;
use serde_json::{Value, json};

use crate::both;
use crate::console::{client, get, hidden, sign_in};
use crate::console_admin::post_file;
use crate::helpers::{TestApp, purchase, with};

/// A submitted surveillance purchase of the police, whose route waits on the Council; returns its id.
async fn surveillance_request(app: &TestApp) -> String {
    app.ensure_department("BPD").await;
    let vendor = app.create_vendor("Cameras Co").await;
    let buyer = app.buyer_token("BPD", "bob");
    let body = with(
        purchase(&vendor),
        json!({"surveillance": true, "annual_operating_cost_cents": 100_000, "data_classes": ["confidential"],
               "product_name": "StreetCam"}),
    );
    let (id, _) = app.draft_and_submit(&buyer, body).await;
    id
}

async fn council(app: &TestApp, id: &str) -> Value {
    app.get(
        &format!("/api/v1/requests/{id}/council"),
        &app.token(Role::Auditor),
    )
    .await
    .ok(200)
    .clone()
}

async fn stored(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM council_documents").await
}

both!(
    async fn a_buyer_attaches_a_council_document_from_the_page_and_staff_download_it(backend) {
        let app = TestApp::spawn(backend).await;
        let id = surveillance_request(&app).await;
        let page_path = format!("/requests/{id}");

        let bob = sign_in(&app, Role::Buyer, "bob", Some("BPD")).await;
        let page = get(&app, &page_path, Some(&bob)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("id=\"council-upload-title\""), "{}", page.text);
        assert!(page.text.contains("enctype=\"multipart/form-data\""));
        assert!(page.text.contains("<option value=\"surveillance_use_policy\""), "{}", page.text);
        assert!(page.text.contains("<option value=\"surveillance_impact_report\""));
        let csrf = hidden(&page, "csrf");

        let pdf = b"%PDF-1.7 Surveillance Use Policy, StreetCam, as drafted by BPD".to_vec();
        let sent = post_file(
            &app,
            &format!("{page_path}/council/documents"),
            &bob,
            &[("csrf", &csrf), ("kind", "surveillance_use_policy")],
            ("C:\\Users\\bob\\use-policy.pdf", "application/pdf"),
            &pdf,
        )
        .await;
        assert_eq!(sent.status, 303, "{}", sent.text);
        assert_eq!(sent.location.as_deref(), Some(format!("{page_path}#council-title").as_str()));

        // Stored as the API stores it: the kind, the plain file name, the uploader; audited under his name.
        let view = council(&app, &id).await;
        let documents = view["documents"].as_array().unwrap();
        assert_eq!(documents.len(), 1, "{view}");
        assert_eq!(documents[0]["kind"], "surveillance_use_policy");
        assert_eq!(documents[0]["file_name"], "use-policy.pdf");
        assert_eq!(documents[0]["uploaded_by"], "bob");
        assert_eq!(documents[0]["size_bytes"], pdf.len() as i64);
        assert_eq!(view["documents_missing"], json!(["surveillance_impact_report"]));
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'request.council_document_attached' \
                 AND object_id = '{id}' AND actor = 'bob'"
            ))
            .await,
            1
        );

        // The page lists it with a download link; an analyst (who may not upload) downloads the same bytes.
        let doc = documents[0]["id"].as_str().unwrap();
        let link = format!("{page_path}/council/documents/{doc}");
        let sam = sign_in(&app, Role::SecurityAnalyst, "sam", None).await;
        let page = get(&app, &page_path, Some(&sam)).await;
        assert!(page.text.contains(&format!("href=\"{link}\"")), "{}", page.text);
        assert!(!page.text.contains("id=\"council-upload-title\""), "an analyst does not attach Council documents");
        let resp = client()
            .get(format!("{}{link}", app.base))
            .header("cookie", format!("pr_session={sam}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.headers()["content-type"], "application/pdf");
        let disposition = resp.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.starts_with("attachment") && disposition.contains("use-policy.pdf"), "{disposition}");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), pdf.as_slice());
        // Without a session there is no file; a document of another request is not found.
        let anonymous = get(&app, &link, None).await;
        assert_eq!(anonymous.status, 401);
        assert!(!anonymous.text.contains("Surveillance Use Policy, StreetCam"));
        let missing = get(&app, &format!("{page_path}/council/documents/{}", uuid::Uuid::new_v4()), Some(&sam)).await;
        assert_eq!(missing.status, 404, "{}", missing.text);

        // The page now marks the impact report as the one missing, and an admin may attach it too.
        let ada = sign_in(&app, Role::Admin, "ada", None).await;
        let page = get(&app, &page_path, Some(&ada)).await;
        assert!(page.text.contains("Surveillance impact report (missing)"), "{}", page.text);
        let sent = post_file(
            &app,
            &format!("{page_path}/council/documents"),
            &ada,
            &[("csrf", &hidden(&page, "csrf")), ("kind", "surveillance_impact_report")],
            ("impact-report.txt", "text/plain"),
            b"Surveillance Impact Report: StreetCam",
        )
        .await;
        assert_eq!(sent.status, 303, "{}", sent.text);
        assert_eq!(council(&app, &id).await["documents_missing"], json!([]));
        app.stop().await;
    }
);

both!(
    async fn a_refused_upload_shows_the_apis_message_by_its_field_and_stores_nothing(backend) {
        let app = TestApp::spawn_with(backend, |c| c.max_upload_bytes = 4000).await;
        let id = surveillance_request(&app).await;
        let page_path = format!("/requests/{id}");
        let action = format!("{page_path}/council/documents");
        let bob = sign_in(&app, Role::Buyer, "bob", Some("BPD")).await;
        let csrf = hidden(&get(&app, &page_path, Some(&bob)).await, "csrf");
        let policy = [("csrf", csrf.as_str()), ("kind", "surveillance_use_policy")];

        // Bytes of no kind the API keeps.
        let binary = post_file(&app, &action, &bob, &policy, ("policy.bin", "application/octet-stream"), &[0, 159, 146, 150, 0])
            .await;
        assert_eq!(binary.status, 415, "{}", binary.text);
        assert!(binary.text.contains("id=\"council-file-error\""), "{}", binary.text);
        assert!(binary.text.contains("a Council document must be a PDF, PNG, JPEG, office document or text file"));
        assert!(
            binary.text.contains("aria-describedby=\"council-file-hint council-file-error\" aria-invalid=\"true\""),
            "{}",
            binary.text
        );
        assert!(binary.text.contains("href=\"#council-file\""), "the summary links to the field");
        // A PDF declared as an image.
        let mislabelled = post_file(&app, &action, &bob, &policy, ("policy.png", "image/png"), b"%PDF-1.7 policy").await;
        assert_eq!(mislabelled.status, 415, "{}", mislabelled.text);
        assert!(mislabelled.text.contains("the file is application&#x2f;pdf, not image&#x2f;png"), "{}", mislabelled.text);
        // No file chosen.
        let none = post_file(&app, &action, &bob, &policy, ("", "application/octet-stream"), b"").await;
        assert_eq!(none.status, 422, "{}", none.text);
        assert!(none.text.contains("choose a file to upload"), "{}", none.text);
        // A kind the step does not need: the select's fault, and the kind chosen is kept.
        let memo = post_file(&app, &action, &bob, &[("csrf", &csrf), ("kind", "budget_memo")], ("memo.pdf", "application/pdf"), b"%PDF-1.7 memo")
            .await;
        assert_eq!(memo.status, 422, "{}", memo.text);
        assert!(memo.text.contains("id=\"council-kind-error\""), "{}", memo.text);
        assert!(memo.text.contains("is not a document this step needs"), "{}", memo.text);
        // Larger than the upload limit: the request page again, 413, with the fault next to the file field.
        let big = post_file(&app, &action, &bob, &policy, ("policy.pdf", "application/pdf"), &[b'%'; 5000]).await;
        assert_eq!(big.status, 413, "{}", big.text);
        assert!(
            big.text.contains(r#"<p class="field-error" id="council-file-error">the file is larger than 4 kB</p>"#),
            "{}",
            big.text
        );
        assert!(big.text.contains(r#"aria-describedby="council-file-hint council-file-error" aria-invalid="true""#), "{}", big.text);
        assert_eq!(stored(&app).await, 0, "no refused upload is stored");

        // Once the Council has voted the step is settled: the page says why, next to the form's file.
        let admin = app.token(Role::Admin);
        app.transition(
            &format!("/api/v1/requests/{id}/council/vote"),
            &admin,
            Some(&json!({"docket": "Docket #0412", "vote_date": "2025-11-04", "outcome": "rejected"})),
        )
        .await
        .ok(201);
        let late = post_file(&app, &action, &bob, &policy, ("policy.pdf", "application/pdf"), b"%PDF-1.7 policy").await;
        assert_eq!(late.status, 409, "{}", late.text);
        assert!(late.text.contains("The document was not attached"), "{}", late.text);
        assert!(late.text.contains("role=\"alert\""), "{}", late.text);
        assert_eq!(stored(&app).await, 0);
        app.stop().await;
    }
);

both!(
    async fn a_role_the_api_refuses_and_a_form_without_its_token_store_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let id = surveillance_request(&app).await;
        let page_path = format!("/requests/{id}");
        let action = format!("{page_path}/council/documents");
        let file = ("policy.pdf", "application/pdf");
        let pdf = b"%PDF-1.7 policy";

        // An analyst reads the request but may not attach: 403 before anything reaches the API.
        let sam = sign_in(&app, Role::SecurityAnalyst, "sam", None).await;
        let csrf = hidden(&get(&app, &page_path, Some(&sam)).await, "csrf");
        let refused = post_file(&app, &action, &sam, &[("csrf", &csrf), ("kind", "surveillance_use_policy")], file, pdf).await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert!(refused.text.contains("Not for your role"), "{}", refused.text);
        // A buyer of another department does not see the request at all.
        app.department("DOIT").await;
        let bea = sign_in(&app, Role::Buyer, "bea", Some("DOIT")).await;
        let csrf = hidden(&get(&app, "/requests", Some(&bea)).await, "csrf");
        let other = post_file(&app, &action, &bea, &[("csrf", &csrf), ("kind", "surveillance_use_policy")], file, pdf).await;
        assert_eq!(other.status, 404, "{}", other.text);
        // The department's buyer, without the form's token or with another session's.
        let bob = sign_in(&app, Role::Buyer, "bob", Some("BPD")).await;
        let missing = post_file(&app, &action, &bob, &[("kind", "surveillance_use_policy")], file, pdf).await;
        assert_eq!(missing.status, 403, "{}", missing.text);
        assert!(missing.text.contains("Form expired"), "{}", missing.text);
        let foreign = post_file(&app, &action, &bob, &[("csrf", &csrf), ("kind", "surveillance_use_policy")], file, pdf).await;
        assert_eq!(foreign.status, 403, "{}", foreign.text);
        assert_eq!(stored(&app).await, 0, "nothing stored");
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'request.council_document_attached' AND object_id = '{id}'")).await,
            0
        );
        app.stop().await;
    }
);
