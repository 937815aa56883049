use procurement_review::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Resp, TestApp};

pub fn esign() -> Value {
    json!({
        "name": "Enterprise e-signature",
        "category": "e-signature",
        "description": "Citywide electronic signature service for forms, contracts and permits.",
        "capabilities": ["electronic signatures", "signing workflows", "signer identity verification"],
        "aliases": ["DocuSign", "eSign"],
        "owning_team": "DoIT Enterprise Applications",
        "access": "Request through the DoIT service desk: https://it.city.example/esign"
    })
}

pub async fn add_service(app: &TestApp, body: Value) -> Value {
    app.post("/api/v1/catalog/services", &app.token(Role::Cio), body)
        .await
        .ok(201)
        .clone()
}

async fn upload(app: &TestApp, token: &str, content_type: &str, bytes: Vec<u8>) -> Resp {
    let resp = app
        .client
        .post(format!("{}/api/v1/catalog/services/import", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    TestApp::read(resp).await
}

both!(
    async fn the_cio_office_maintains_the_catalogue_and_everyone_reads_it(backend) {
        let app = TestApp::spawn(backend).await;
        let created = app.post("/api/v1/catalog/services", &app.token(Role::Cio), esign()).await;
        let body = created.ok(201).clone();
        assert_eq!(body["status"], "active");
        assert_eq!(body["aliases"], json!(["DocuSign", "eSign"]));
        app.post("/api/v1/catalog/services", &app.token(Role::Buyer), esign()).await.problem(403, "forbidden");
        app.post("/api/v1/catalog/services", &app.token(Role::Admin), esign()).await.problem(409, "duplicate_service");
        let bad = app.post("/api/v1/catalog/services", &app.token(Role::Admin), json!({"name": " ", "status": "gone"})).await;
        bad.problem(422, "validation_failed");
        assert_eq!(bad.fields(), ["name", "status", "owning_team", "access"]);
        let mut no_team = json!({"name": "Citywide GIS", "owning_team": "  "});
        let refused = app.post("/api/v1/catalog/services", &app.token(Role::Cio), no_team.clone()).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.fields(), ["owning_team", "access"]);
        assert!(refused.text.contains("is required for an active or retiring service"), "{}", refused.text);
        no_team["status"] = json!("retired");
        app.post("/api/v1/catalog/services", &app.token(Role::Cio), no_team).await.ok(201);

        let vendor = app.vendor_token(uuid::Uuid::new_v4());
        let found = app.get("/api/v1/catalog/services?q=docusign", &vendor).await;
        assert_eq!(found.ok(200)["page"]["total"], 1);
        let retired = app.get("/api/v1/catalog/services?status=retired", &vendor).await;
        assert_eq!(retired.ok(200)["items"][0]["name"], "Citywide GIS", "a retired service may omit both");

        let path = created.header("location").unwrap().to_string();
        let retired = app.patch(&path, &app.token(Role::Cio), json!({"status": "retired"}), Some("\"1\"")).await;
        assert_eq!(retired.ok(200)["status"], "retired");
        assert_eq!(retired.body["name"], "Enterprise e-signature");
        app.patch(&path, &app.token(Role::Cio), json!({"status": "active"}), Some("\"1\"")).await.problem(412, "stale_etag");
        app.stop().await;
    }
);

both!(
    async fn the_catalogue_round_trips_through_xlsx_and_csv(backend) {
        let app = TestApp::spawn(backend).await;
        add_service(&app, esign()).await;
        add_service(&app, json!({"name": "Citywide GIS", "capabilities": ["web maps", "spatial analysis"],
                                  "aliases": ["=HYPERLINK(\"http://evil\")", "ArcGIS"],
                                  "owning_team": "DoIT GIS", "access": "gis@city.example"}))
        .await;
        let reader = app.token(Role::Auditor);
        for (path, content_type) in [
            ("/api/v1/catalog/services/export.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("/api/v1/catalog/services/export.csv", "text/csv"),
        ] {
            let resp = app.client.get(format!("{}{path}", app.base)).bearer_auth(&reader).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["content-type"], content_type);
            assert!(resp.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
            let bytes = resp.bytes().await.unwrap().to_vec();
            if content_type == "text/csv" {
                let text = String::from_utf8(bytes.clone()).unwrap();
                assert!(text.contains("'=HYPERLINK"), "formulas are neutralised: {text}");
            }
            let other = TestApp::spawn(backend).await;
            let loaded = upload(&other, &other.token(Role::Admin), content_type, bytes.clone()).await;
            assert_eq!(loaded.ok(200)["created"], 2);
            let listed = other.get("/api/v1/catalog/services?q=arcgis", &reader_of(&other)).await;
            assert_eq!(listed.ok(200)["items"][0]["aliases"][0], "=HYPERLINK(\"http://evil\")");
            let again = upload(&other, &other.token(Role::Cio), "application/octet-stream", bytes).await;
            assert_eq!(again.ok(200)["updated"], 2);
            other.stop().await;
        }
        app.stop().await;
    }
);

both!(
    async fn a_catalogue_workbook_gets_the_same_upload_checks_as_a_questionnaire(backend) {
        let app = TestApp::spawn_with(backend, |c| {
            c.max_concurrent_imports = 1;
            c.import_wait_ms = 100;
        })
        .await;
        let cio = app.token(Role::Cio);
        let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

        // A zip bomb named like a workbook: refused from the zip's directory, before anything inflates it.
        let bomb = upload(&app, &cio, xlsx, crate::workbooks::zip_bomb().clone()).await;
        bomb.problem(413, "too_large_uncompressed");

        // A Word document sent as a workbook: refused by its content.
        let mut doc = Vec::new();
        {
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut doc));
            let options = zip::write::SimpleFileOptions::default();
            zip.start_file("[Content_Types].xml", options).unwrap();
            std::io::Write::write_all(&mut zip, b"<Types/>").unwrap();
            zip.start_file("word/document.xml", options).unwrap();
            std::io::Write::write_all(&mut zip, b"<document/>").unwrap();
            zip.finish().unwrap();
        }
        let word = upload(&app, &cio, xlsx, doc).await;
        word.problem(415, "unsupported_file");
        assert!(word.text.contains("a Word document"), "{}", word.text);

        // Every import slot taken: 503 with Retry-After, then read once a slot frees.
        let sheet = {
            let mut book = rust_xlsxwriter::Workbook::new();
            let ws = book.add_worksheet();
            ws.write_string(0, 0, "Name").unwrap();
            ws.write_string(1, 0, "Enterprise e-signature").unwrap();
            ws.write_string(0, 1, "Owning team").unwrap();
            ws.write_string(1, 1, "DoIT").unwrap();
            ws.write_string(0, 2, "Access").unwrap();
            ws.write_string(1, 2, "https://it.city.example/esign").unwrap();
            book.save_to_buffer().unwrap()
        };
        let held = app.import_slots.take().await.expect("the only slot is free");
        let busy = upload(&app, &cio, xlsx, sheet.clone()).await;
        busy.problem(503, "imports_busy");
        assert_eq!(busy.header("retry-after"), Some("30"));
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 0, "nothing stored on refusal");
        drop(held);
        let done = upload(&app, &cio, xlsx, sheet).await;
        assert_eq!(done.ok(200)["created"], 1, "{}", done.text);
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 1);
        app.stop().await;
    }
);

fn reader_of(app: &TestApp) -> String {
    app.token(Role::Buyer)
}

both!(
    async fn a_bad_upload_names_every_cell_and_stores_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let csv = "Name,Status,Aliases,Owning team,Access\nGood one,active,A,DoIT,x\n,active,B,DoIT,x\nOdd,sometimes,C,DoIT,x\n";
        let resp = upload(&app, &admin, "text/csv", csv.as_bytes().to_vec()).await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["csv!A3", "csv!B4"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 0);
        let png = upload(&app, &admin, "application/octet-stream", vec![0x89, b'P', b'N', b'G', 0, 0, 0]).await;
        png.problem(415, "unsupported_file");
        let buyer = upload(&app, &app.token(Role::Buyer), "text/csv", b"Name\nX\n".to_vec()).await;
        buyer.problem(403, "forbidden");
        let wrong_type = app
            .call(Method::POST, "/api/v1/catalog/services/import", Some(&admin), Some(&json!({"name": "x"})), &[])
            .await;
        wrong_type.problem(415, "unsupported_media_type");
        app.stop().await;
    }
);

both!(
    async fn a_control_character_in_an_uploaded_cell_is_named_and_nothing_is_stored(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.token(Role::Admin);
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet().set_name("Services").unwrap();
        for (col, text) in ["Name", "Status", "Description"].into_iter().enumerate() {
            sheet.write_string(0, col as u16, text).unwrap();
        }
        sheet.write_string(1, 0, "Records").unwrap();
        sheet.write_string(1, 2, "Keeps records:\n\tcases\n\tpermits").unwrap();
        sheet.write_string(2, 0, "Bad\u{0}name").unwrap();
        let resp = upload(&app, &admin, "application/octet-stream", book.save_to_buffer().unwrap()).await;
        resp.problem(422, "validation_failed");
        assert_eq!(
            resp.body["errors"],
            json!([{"field": "Services!A3", "message": "may hold tabs and line breaks but no other control character; character 4 is U+0000 (NUL)"}])
        );
        let csv = "Name,Description\nRecords,\"Keeps records:\ncases\"\nPaint,a\u{1b}[31mred\n";
        let resp = upload(&app, &admin, "text/csv", csv.as_bytes().to_vec()).await;
        resp.problem(422, "validation_failed");
        assert_eq!(resp.fields(), ["csv!B3"]);
        assert_eq!(app.count("SELECT COUNT(*) FROM catalog_services").await, 0);
        app.stop().await;
    }
);
