//! The console in a real browser: Debian's Chromium driven through chromedriver (WebDriver), on SQLite. One story,
//! as the people it is for live it: a buyer signs in with a login link, drafts a request and sees the route it
//! would get, and submits it; the vendor opens its invitation link, answers by workbook (a bad cell is shown and
//! nothing is stored, then a good workbook is read) and online with the keyboard alone (each answer saved as it is
//! given, without the Save button), and submits; the analyst
//! accepts; the CIO decides from the inbox. axe-core runs inside Chromium on every page it shows and must find no
//! WCAG 2.1 A or AA violation. Each role's main page is saved as a screenshot under `docs/screenshots/`.
//!
//! Outside CI a machine without `chromium` and `chromedriver` skips this with a note; in CI (`CI=true`) it fails.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use procurement_review::auth::Role;
use procurement_review::sheets::workbook;
use serde_json::{Value, json};

use crate::console::login_link;
use crate::helpers::{Backend, TestApp, outside_program, purchase, with};

const INSTALL: &str = "install them with `apt-get install chromium chromium-driver`";

/// chromedriver on a free port of this machine, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }

    async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        let mut options = json!({"args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                                          "--window-size=1280,1000", "--lang=en-US"]});
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        caps.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn axe_source() -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/axe/axe.min.js"),
    )
    .expect("tests/fixtures/axe/axe.min.js")
}

/// Runs axe-core on the page shown and fails on any WCAG 2.0/2.1 A or AA violation, naming each.
async fn accessible(c: &Client, axe: &str, what: &str) {
    c.execute(&format!("{axe}\n;return true;"), vec![])
        .await
        .unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
               .then(r => done({passes: r.passes.length, violations: r.violations.map(v => v.id + ': ' + v.help +
                    ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))}),
                     e => done({passes: 0, violations: ['axe did not run: ' + e]}));",
            vec![],
        )
        .await
        .unwrap();
    let violations: Vec<String> = serde_json::from_value(found["violations"].clone()).unwrap();
    assert!(violations.is_empty(), "{what}: {violations:#?}");
    assert!(
        found["passes"].as_u64().unwrap() > 5,
        "{what}: axe checked the page ({found})"
    );
}

/// The main content's text; read again while a page that was still loading replaces it.
async fn text(c: &Client) -> String {
    for _ in 0..50 {
        if let Ok(main) = c.find(Locator::Css("main")).await
            && let Ok(text) = main.text().await
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never settled");
}

async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_string()
}

fn screenshot_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshot_path(name), png).unwrap();
}

async fn press(c: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.unwrap();
}

async fn type_text(c: &Client, text: &str) {
    let mut keys = KeyActions::new("keyboard".into());
    for ch in text.chars() {
        keys = keys
            .then(KeyAction::Down { value: ch })
            .then(KeyAction::Up { value: ch });
    }
    c.perform_actions(keys).await.unwrap();
}

const TAB: char = '\u{E004}';
const ENTER: char = '\u{E007}';
const SPACE: char = ' ';
const ARROW_DOWN: char = '\u{E015}';
const ARROW_UP: char = '\u{E013}';

/// What has the keyboard focus.
async fn focused(c: &Client) -> Value {
    c.execute(
        "const e = document.activeElement;
         const q = e.closest ? e.closest('.question') : null;
         const group = e.name ? Array.from(document.getElementsByName(e.name)) : [];
         return {tag: e.tagName, type: e.type || '', name: e.name || '', id: e.id || '', value: e.value || '',
                 text: (e.innerText || '').trim(), kind: q ? q.dataset.kind : '',
                 answered: group.some(x => x.checked)};",
        vec![],
    )
    .await
    .unwrap()
}

async fn wait_for_page(c: &Client, what: &str) {
    let started = Instant::now();
    loop {
        let state = c
            .execute("return document.readyState;", vec![])
            .await
            .unwrap();
        if state == "complete" && path(c).await.contains(what) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no page {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Moves the keyboard's starting point to the top of the page: the next Tab reaches the first link. (Blurring the
/// focused element is not enough: Chromium tabs on from the element that had the focus.)
async fn to_top(c: &Client) {
    c.execute(
        "const b = document.body; b.setAttribute('tabindex', '-1'); b.focus(); b.removeAttribute('tabindex');
         window.scrollTo(0, 0);",
        vec![],
    )
    .await
    .unwrap();
}

/// Tabs through the answers form from the top of the page, answering each question not answered yet: the first
/// choice with Space (the second, "No", with the down arrow for the questions in `no`), a number or a sentence typed
/// in and left with Tab. It stops at "Save answers" without pressing it: the page saves each answer as it is given.
/// Returns how many questions it answered.
async fn answer_by_keyboard(c: &Client, no: &[&str]) -> usize {
    to_top(c).await;
    let mut answered = 0;
    for _ in 0..2000 {
        press(c, TAB).await;
        let f = focused(c).await;
        let name = f["name"].as_str().unwrap_or("");
        if f["tag"] == "BUTTON" && f["text"] == "Save answers" {
            return answered;
        }
        let Some(qid) = name.strip_prefix("a.") else {
            continue;
        };
        match (
            f["type"].as_str().unwrap_or(""),
            f["kind"].as_str().unwrap_or(""),
        ) {
            ("radio", _) if f["answered"] == false => {
                press(c, if no.contains(&qid) { ARROW_DOWN } else { SPACE }).await;
                answered += 1;
            }
            ("checkbox", _) if f["answered"] == false => {
                press(c, SPACE).await;
                answered += 1;
            }
            (_, "number") if f["value"] == "" => {
                type_text(c, "12").await;
                answered += 1;
            }
            (_, "text") if f["value"] == "" => {
                type_text(c, "Described in our security plan, section 3.").await;
                answered += 1;
            }
            _ => {}
        }
    }
    panic!("the keyboard never reached \"Save answers\"");
}

/// The assessment as an analyst reads it through the API.
async fn assessment_detail(app: &TestApp, id: &str) -> Value {
    app.get(
        &format!("/api/v1/assessments/{id}"),
        &app.token(Role::SecurityAnalyst),
    )
    .await
    .ok(200)
    .clone()
}

/// Waits until the answers page has saved everything given (its status region's state is `saved`) and returns
/// what the region says.
async fn saved_status(c: &Client) -> String {
    let started = Instant::now();
    loop {
        let state = c
            .execute(
                "const s = document.getElementById('save-status');
                 return s ? [s.getAttribute('data-save-state') || '', s.getAttribute('role') || '', s.textContent] : ['', '', ''];",
                vec![],
            )
            .await
            .unwrap();
        if state[0] == "saved" {
            assert_eq!(state[1], "status", "the region is announced");
            return state[2].as_str().unwrap().to_string();
        }
        assert!(
            !["failed", "stale"].contains(&state[0].as_str().unwrap())
                && started.elapsed() < Duration::from_secs(20),
            "the answers were not saved: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Tabs on, from the top of the page or from where the focus is, until the field with id `id` has the focus.
async fn tab_to(c: &Client, id: &str, from_top: bool) {
    if from_top {
        to_top(c).await;
    }
    for _ in 0..2000 {
        press(c, TAB).await;
        if focused(c).await["id"] == id {
            return;
        }
    }
    panic!("the keyboard never reached {id}");
}

/// Which of the questions `ids` the page shows (laid out, not hidden), and the polite announcement of the last
/// change.
async fn questions_shown(c: &Client, ids: &[&str]) -> (Vec<bool>, String) {
    let state = c
        .execute(
            "const live = document.querySelector('#answers [aria-live=polite]');
             return {shown: arguments[0].map(id => document.getElementById('q-' + id).getClientRects().length > 0),
                     news: live ? live.textContent : ''};",
            vec![json!(ids)],
        )
        .await
        .unwrap();
    let shown = state["shown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v == true)
        .collect();
    (shown, state["news"].as_str().unwrap_or("").to_string())
}

/// Tabs to the button whose text is `label` and presses Enter on it.
async fn activate_by_keyboard(c: &Client, label: &str) {
    to_top(c).await;
    for _ in 0..2000 {
        press(c, TAB).await;
        let f = focused(c).await;
        if f["tag"] == "BUTTON" && f["text"] == label {
            press(c, ENTER).await;
            return;
        }
    }
    panic!("the keyboard never reached {label:?}");
}

/// A police surveillance purchase holding health data, sent back for changes once and submitted again: its page has a
/// safeguards checklist, the Council's part and two versions to compare.
async fn checked_request(app: &TestApp, vendor: &Value) -> String {
    // The police department is under the surveillance ordinance, so its surveillance purchases go to the Council.
    app.ensure_department("BPD").await;
    let buyer = app.buyer_token("BPD", "bob");
    let body = with(
        purchase(vendor),
        json!({"title": "Clinic cameras", "product_name": "ClinicCam", "surveillance": true,
               "data_classes": ["health"]}),
    );
    let (id, _) = app.draft_and_submit(&buyer, body).await;
    app.transition(
        &format!("/api/v1/requests/{id}/decisions"),
        &app.token(Role::Cio),
        Some(&json!({"step": "cio_approval", "outcome": "request_changes", "rationale": "How many users?"})),
    )
    .await
    .ok(201);
    let path = format!("/api/v1/requests/{id}");
    app.patch_with_etag(&path, &buyer, json!({"expected_users": 150}))
        .await
        .ok(200);
    app.transition(&format!("{path}/submit"), &buyer, None)
        .await
        .ok(200);
    id
}

fn browser_available() -> bool {
    outside_program("chromedriver", &["--version"], INSTALL)
        && outside_program("chromium", &["--version"], INSTALL)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_story_in_chromium_with_axe_on_every_page() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await;
    let driver = Driver::start();
    let c = driver.browser().await;
    let axe = axe_source();
    let vendor = app.create_vendor("Signet Systems").await;
    app.department("DOIT").await;

    // --- The buyer signs in with a login link and lands on the department's requests.
    let link = login_link(&app, Role::Buyer, "bea", Some("DOIT"), None).await;
    c.goto(&link).await.unwrap();
    assert_eq!(path(&c).await, "/requests", "the code left the address bar");
    accessible(&c, &axe, "the buyer's requests, empty").await;

    c.find(Locator::LinkText("New request"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/requests/new").await;
    accessible(&c, &axe, "the request form").await;
    for (id, value) in [
        ("title", "Permit e-signature"),
        ("description", "Sign permit documents online"),
        ("product_name", "SignIt"),
        ("category", "e-signature"),
        ("capabilities", "electronic signatures"),
        ("capital_cost", "0"),
        ("annual_operating_cost", "60,000"),
        ("term_months", "12"),
        ("expected_users", "100"),
    ] {
        let field = c.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    c.find(Locator::Id("vendor_id"))
        .await
        .unwrap()
        .select_by_value(vendor["id"].as_str().unwrap())
        .await
        .unwrap();
    c.execute(
        "document.getElementById('requested_start_date').value = '2026-09-01';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Id("hosting-cloud"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("dc-public"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::XPath("//button[normalize-space()='Save draft']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/requests/").await;
    let draft = text(&c).await;
    let request_id = path(&c).await.rsplit('/').next().unwrap().to_string();
    // The dry run: the route the policy would give, with its grounds and citations, before anything is recorded.
    assert!(draft.contains("Route if you submit now"), "{draft}");
    assert!(draft.contains("CIO approval"), "{draft}");
    assert!(draft.contains("Security review"), "{draft}");
    assert!(draft.contains("$60,000.00"), "{draft}");
    assert!(draft.contains("city-baseline"), "{draft}");
    accessible(&c, &axe, "a draft with its route").await;
    // The edit form shows the draft's values; leaving it changes nothing.
    c.find(Locator::LinkText("Edit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/edit").await;
    assert!(text(&c).await.contains("Edit request: Permit e-signature"));
    accessible(&c, &axe, "the edit form of a draft").await;
    c.back().await.unwrap();
    wait_for_page(&c, &request_id).await;
    let stored = app
        .get(
            &format!("/api/v1/requests/{request_id}"),
            &app.token(Role::Admin),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(stored["status"], "draft");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM route_steps").await,
        0,
        "the dry run wrote nothing"
    );

    c.find(Locator::XPath(
        "//button[normalize-space()='Submit for review']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_page(&c, &request_id).await;
    let submitted = text(&c).await;
    assert!(submitted.contains("In review"), "{submitted}");
    accessible(&c, &axe, "a submitted request").await;
    c.goto(&format!("{}/requests", app.base)).await.unwrap();
    assert!(text(&c).await.contains("Permit e-signature"));
    accessible(&c, &axe, "the buyer's requests").await;
    screenshot(&c, "buyer-requests.png").await;

    // --- The city invites the vendor's contact (through the API, as the buyer).
    let issued = app
        .invite(
            &app.buyer_token("DOIT", "bea"),
            vendor["id"].as_str().unwrap(),
            json!({"request_id": request_id, "contact_email": "security@signet.example"}),
        )
        .await
        .ok(201)
        .clone();
    let invitation_link = issued["link"].as_str().unwrap();

    // --- The vendor opens the link: a session of its own, and the token leaves the address bar.
    c.delete_all_cookies().await.unwrap();
    c.goto(invitation_link).await.unwrap();
    assert_eq!(path(&c).await, "/portal");
    assert!(!c.current_url().await.unwrap().as_str().contains("token"));
    assert!(text(&c).await.contains("City security baseline"));
    accessible(&c, &axe, "the vendor portal").await;
    screenshot(&c, "vendor-portal.png").await;
    c.find(Locator::LinkText("City security baseline"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/portal/assessments/").await;
    let assessment_path = path(&c).await;
    let assessment_id = assessment_path.rsplit('/').next().unwrap().to_string();
    accessible(&c, &axe, "the questionnaire").await;

    // The workbook link gives the workbook, to the session's cookie.
    let cookie = c.get_named_cookie("pr_session").await.unwrap();
    let downloaded = reqwest::Client::new()
        .get(format!("{}{assessment_path}/workbook", app.base))
        .header("cookie", format!("pr_session={}", cookie.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(downloaded.status(), 200);
    assert!(
        downloaded.bytes().await.unwrap().starts_with(b"PK"),
        "an xlsx"
    );

    // A workbook with a bad cell: the cell and what is wrong are shown, nothing is stored.
    let detail = assessment_detail(&app, &assessment_id).await;
    let template = crate::workbooks::template("city-baseline");
    let meta = workbook::WorkbookMeta {
        assessment_id: assessment_id.clone(),
        template_id: "city-baseline".into(),
        template_version: detail["assessment"]["template_version"]
            .as_str()
            .unwrap()
            .into(),
        vendor_name: "Signet Systems".into(),
        due: None,
    };
    let file = |answer: &str| {
        let mut prior = BTreeMap::new();
        prior.insert(
            "IAM-01".to_string(),
            workbook::PriorAnswer {
                answer: Some(json!(answer)),
                comment: None,
                evidence_ref: None,
            },
        );
        let bytes = workbook::export(&meta, &template, &prior).unwrap();
        let path =
            std::env::temp_dir().join(format!("console-{}-{answer}.xlsx", uuid::Uuid::new_v4()));
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let bad = file("Maybe");
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(bad.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::XPath("//button[normalize-space()='Upload']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/workbook").await;
    let refused = text(&c).await;
    assert!(refused.contains("The workbook was not read"), "{refused}");
    assert!(
        refused.contains("Questions!"),
        "the cell is named: {refused}"
    );
    assert!(refused.contains("Maybe"), "{refused}");
    accessible(&c, &axe, "a refused workbook with its cells").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, 0);

    let good = file("yes");
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(good.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::XPath("//button[normalize-space()='Upload']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/portal/assessments/").await;
    assert!(
        text(&c).await.contains("The workbook was read"),
        "{}",
        text(&c).await
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, 1);
    std::fs::remove_file(bad).ok();
    std::fs::remove_file(good).ok();

    // --- The rest online, with the keyboard alone, at 320 px; no mouse from here to the submission.
    c.set_window_size(320, 900).await.unwrap();
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    let wide = c
        .execute(
            "return document.documentElement.scrollWidth + ' vs ' + window.innerWidth + ': ' + Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth || e.scrollWidth > e.clientWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth + '/' + e.clientWidth).join(', ');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits, true,
        "the questionnaire fits 320 px without scrolling sideways (too wide: {wide})"
    );
    // Before saving, as the answers change: Yes to BCK-01 asks BCK-02 to BCK-04 at once, Yes to BCK-04 then asks
    // BCK-05, and No to BCK-01 takes all four away again, BCK-05 too though BCK-04 is still Yes (a chain); each
    // change is announced. Then BCK-01 back to Yes and BCK-04 to No, as the story answers them.
    let bck = ["BCK-02", "BCK-03", "BCK-04", "BCK-05"];
    assert_eq!(
        questions_shown(&c, &bck).await,
        (vec![false; 4], String::new())
    );
    tab_to(&c, "BCK-01-1", true).await;
    press(&c, SPACE).await;
    assert_eq!(
        questions_shown(&c, &bck).await,
        (
            vec![true, true, true, false],
            "Now asked: BCK-02, BCK-03, BCK-04.".to_string()
        )
    );
    tab_to(&c, "BCK-04-1", false).await;
    press(&c, SPACE).await;
    assert_eq!(
        questions_shown(&c, &bck).await,
        (vec![true; 4], "Now asked: BCK-05.".to_string())
    );
    tab_to(&c, "BCK-01-1", true).await;
    press(&c, ARROW_DOWN).await;
    assert_eq!(focused(&c).await["id"], "BCK-01-2");
    assert_eq!(
        questions_shown(&c, &bck).await,
        (
            vec![false; 4],
            "No longer asked: BCK-02, BCK-03, BCK-04, BCK-05.".to_string()
        )
    );
    // A hidden question's fields are disabled, so the form does not send them.
    let disabled = c
        .execute(
            "return Array.from(document.querySelectorAll('#q-BCK-04 input')).every(i => i.disabled);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(disabled, true);
    accessible(&c, &axe, "the questionnaire with a question just hidden").await;
    press(&c, ARROW_UP).await;
    assert_eq!(
        questions_shown(&c, &bck).await,
        (
            vec![true; 4],
            "Now asked: BCK-02, BCK-03, BCK-04, BCK-05.".to_string()
        )
    );
    tab_to(&c, "BCK-04-1", false).await;
    press(&c, ARROW_DOWN).await;
    assert_eq!(
        questions_shown(&c, &bck).await,
        (
            vec![true, true, true, false],
            "No longer asked: BCK-05.".to_string()
        )
    );
    // Each choice was saved as it was made, with no Save button pressed: the last ones are stored.
    assert!(saved_status(&c).await.starts_with("Saved at "));
    let stored_answer = |detail: &Value, id: &str| {
        detail["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == id)
            .unwrap()["answer"]
            .clone()
    };
    let so_far = assessment_detail(&app, &assessment_id).await;
    assert_eq!(
        [
            stored_answer(&so_far, "BCK-01"),
            stored_answer(&so_far, "BCK-04")
        ],
        [json!("yes"), json!("no")]
    );

    // The rest: a dependent question comes up as its answer is chosen, so one pass answers them all, each saved as
    // it is given and a typed answer when it is left; a second pass finds nothing left. Save is never pressed.
    let mut counts = Vec::new();
    loop {
        let answered = answer_by_keyboard(&c, &["ASR-01", "BCK-04"]).await;
        let said = saved_status(&c).await;
        assert!(said.starts_with("Saved at "), "{said}");
        counts.push(answered);
        if answered == 0 || counts.len() == 5 {
            break;
        }
    }
    assert_eq!(counts.len(), 2, "answered per pass: {counts:?}");
    assert_eq!(
        path(&c).await,
        format!("/portal/assessments/{assessment_id}"),
        "the page never reloaded"
    );
    let saved = assessment_detail(&app, &assessment_id).await;
    let answer = |id: &str| stored_answer(&saved, id);
    // Typed and left, not saved by a button: in the database.
    let typed = saved["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["answer"] == "Described in our security plan, section 3.")
        .count();
    assert!(typed > 0, "the typed answers are stored: {saved}");
    assert_eq!(
        [
            answer("BCK-01"),
            answer("BCK-02"),
            answer("BCK-03"),
            answer("BCK-04"),
            answer("BCK-05")
        ],
        [
            json!("yes"),
            json!(12.0),
            json!("yes"),
            json!("no"),
            Value::Null
        ]
    );
    accessible(&c, &axe, "the questionnaire, answered, at 320 px").await;
    // The submission goes on the version the last save moved the assessment to (the page was never reloaded).
    activate_by_keyboard(&c, "Submit for review").await;
    wait_for_page(&c, "/portal/assessments/").await;
    let after = text(&c).await;
    assert!(after.contains("Submitted for review"), "{after}");
    c.set_window_size(1280, 1000).await.unwrap();
    let stored = assessment_detail(&app, &assessment_id).await;
    assert_eq!(stored["assessment"]["status"], "submitted");

    // --- The analyst accepts from the review queue.
    c.delete_all_cookies().await.unwrap();
    c.goto(&login_link(&app, Role::SecurityAnalyst, "ana", None, None).await)
        .await
        .unwrap();
    assert_eq!(path(&c).await, "/reviews");
    accessible(&c, &axe, "the review queue").await;
    screenshot(&c, "analyst-reviews.png").await;
    c.find(Locator::LinkText("City security baseline"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/reviews/").await;
    accessible(&c, &axe, "the review page").await;
    c.find(Locator::XPath(
        "//button[normalize-space()='Record review']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_page(&c, "/reviews/").await;
    assert!(text(&c).await.contains("The assessment is accepted"));
    let stored = assessment_detail(&app, &assessment_id).await;
    assert_eq!(stored["assessment"]["status"], "accepted");

    // --- The CIO decides from the inbox.
    c.delete_all_cookies().await.unwrap();
    c.goto(&login_link(&app, Role::Cio, "carla", None, None).await)
        .await
        .unwrap();
    assert_eq!(path(&c).await, "/inbox");
    assert!(text(&c).await.contains("Permit e-signature"));
    accessible(&c, &axe, "the CIO's inbox").await;
    screenshot(&c, "cio-inbox.png").await;
    c.find(Locator::LinkText("Permit e-signature"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, &request_id).await;
    accessible(&c, &axe, "the request, for the CIO").await;
    c.find(Locator::Id("outcome-approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::XPath(
        "//button[normalize-space()='Record decision']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    // The form posts back to the page it is on, so the address alone does not say the decision has been made:
    // wait for it to be recorded.
    let started = Instant::now();
    let decisions = loop {
        let read = app
            .get(
                &format!("/api/v1/requests/{request_id}/decisions"),
                &app.token(Role::Admin),
            )
            .await
            .ok(200)
            .clone();
        let decisions = read
            .as_array()
            .cloned()
            .unwrap_or_else(|| read["items"].as_array().cloned().unwrap());
        if !decisions.is_empty() || started.elapsed() > Duration::from_secs(20) {
            break decisions;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_for_page(&c, &request_id).await;
    assert!(
        decisions.iter().any(|d| d["step"] == "cio_approval"
            && d["outcome"] == "approve"
            && d["decided_by"] == "carla"),
        "{decisions:#?}"
    );
    let request = app
        .get(
            &format!("/api/v1/requests/{request_id}"),
            &app.token(Role::Admin),
        )
        .await
        .ok(200)
        .clone();
    assert!(
        ["approved", "in_review"].contains(&request["status"].as_str().unwrap()),
        "{request}"
    );

    // --- The checks beside the route, for the CIO and for an admin: the safeguards checklist with its forms, the
    // Council's documents and vote form, and the versions compared side by side.
    let checked = checked_request(&app, &vendor).await;
    c.goto(&format!("{}/requests/{checked}", app.base))
        .await
        .unwrap();
    wait_for_page(&c, &checked).await;
    let shown = text(&c).await;
    for part in ["Contract safeguards", "City Council", "Versions compared"] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    accessible(
        &c,
        &axe,
        "a request's safeguards, Council and versions, for the CIO",
    )
    .await;
    // The findings list and a finding's page with the risk acceptance form.
    let template = app
        .get(
            "/api/v1/questionnaires/ma-201-cmr-17",
            &app.token(Role::Cio),
        )
        .await
        .ok(200)
        .clone();
    let critical = crate::assessments::first_critical_yes(&template);
    let findings_vendor = app.create_vendor("Findings Co").await;
    let (_, _, finding) =
        crate::assessments::accepted_with_a_finding(&app, &findings_vendor, &critical).await;
    c.goto(&format!("{}/findings", app.base)).await.unwrap();
    wait_for_page(&c, "/findings").await;
    let title = finding["title"].as_str().unwrap();
    assert!(text(&c).await.contains(title));
    accessible(&c, &axe, "the open findings").await;
    c.find(Locator::LinkText(title))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, finding["id"].as_str().unwrap()).await;
    assert!(text(&c).await.contains("Accept the risk"));
    accessible(&c, &axe, "a finding, for the CIO").await;
    c.delete_all_cookies().await.unwrap();
    c.goto(&login_link(&app, Role::Admin, "ada", None, None).await)
        .await
        .unwrap();
    c.goto(&format!("{}/requests/{checked}", app.base))
        .await
        .unwrap();
    wait_for_page(&c, &checked).await;
    assert!(text(&c).await.contains("Record the vote"));
    accessible(&c, &axe, "a request's Council vote form, for an admin").await;
    // The admin attaches the Council's impact report: bytes of no kind the service keeps come back with the fault
    // next to the file and nothing stored; a text file is attached and listed with its download link.
    let council_file = |name: &str, bytes: &[u8]| {
        let path = std::env::temp_dir().join(format!("{}-{name}", uuid::Uuid::new_v4()));
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let attach = |file: PathBuf| {
        let c = c.clone();
        async move {
            c.find(Locator::Css(
                "#council-kind option[value='surveillance_impact_report']",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
            c.find(Locator::Id("council-file"))
                .await
                .unwrap()
                .send_keys(file.to_str().unwrap())
                .await
                .unwrap();
            c.find(Locator::XPath(
                "//button[normalize-space()='Attach the document']",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        }
    };
    // Chromium reads a chosen file after the click, so each file stays on disk until its page has come back.
    let refused_file = council_file("impact.bin", &[0, 159, 146, 150, 0]);
    attach(refused_file.clone()).await;
    wait_for_page(&c, "/council/documents").await;
    let refused = text(&c).await;
    assert!(
        refused
            .contains("a Council document must be a PDF, PNG, JPEG, office document or text file"),
        "{refused}"
    );
    accessible(&c, &axe, "a refused Council document with its fault").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM council_documents").await, 0);
    let report_file = council_file(
        "impact-report.txt",
        b"Surveillance Impact Report: ClinicCam",
    );
    attach(report_file.clone()).await;
    let started = Instant::now();
    while !path(&c).await.ends_with(&checked) {
        if started.elapsed() > Duration::from_secs(60) {
            panic!(
                "the upload never came back to the request: {} {}",
                path(&c).await,
                text(&c).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_page(&c, &checked).await;
    std::fs::remove_file(refused_file).ok();
    std::fs::remove_file(report_file).ok();
    let listed = text(&c).await;
    assert!(listed.contains("Surveillance impact report: "), "{listed}");
    let link = c
        .find(Locator::Css("a[href*='/council/documents/']"))
        .await
        .unwrap();
    assert!(link.text().await.unwrap().ends_with("impact-report.txt"));
    accessible(&c, &axe, "a request's Council documents, for an admin").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM council_documents WHERE kind = 'surveillance_impact_report' AND uploaded_by = 'ada'")
            .await,
        1
    );

    // --- The admin's forms: a vendor registered with faults comes back with them next to the fields; the policy
    // document in its text area.
    c.goto(&format!("{}/vendors", app.base)).await.unwrap();
    c.find(Locator::LinkText("New vendor"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/vendors/new").await;
    accessible(&c, &axe, "the new vendor form").await;
    c.find(Locator::Id("website"))
        .await
        .unwrap()
        .send_keys("ftp://nowhere")
        .await
        .unwrap();
    c.find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/vendors").await;
    let shown = text(&c).await;
    assert!(shown.contains("Please correct 3 problems"), "{shown}");
    assert!(
        shown.contains("must be an http:// or https:// address"),
        "{shown}"
    );
    accessible(&c, &axe, "the vendor form with its faults").await;
    c.goto(&format!("{}/policy/edit", app.base)).await.unwrap();
    wait_for_page(&c, "/policy/edit").await;
    assert!(text(&c).await.contains("Publish as version"));
    accessible(&c, &axe, "the policy edit form").await;

    // --- A catalogue service added with faults; a request's vendor invited with a bad address, then invited.
    c.goto(&format!("{}/catalog", app.base)).await.unwrap();
    c.find(Locator::LinkText("Add a service"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/catalog/new").await;
    accessible(&c, &axe, "the new service form").await;
    c.find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/catalog").await;
    let shown = text(&c).await;
    assert!(shown.contains("Please correct 3 problems"), "{shown}");
    accessible(&c, &axe, "the service form with its faults").await;
    c.goto(&format!("{}/requests/{checked}", app.base))
        .await
        .unwrap();
    wait_for_page(&c, &checked).await;
    c.find(Locator::Id("contact_email"))
        .await
        .unwrap()
        .send_keys("nobody")
        .await
        .unwrap();
    let invite = "//button[normalize-space()='Invite the vendor']";
    c.find(Locator::XPath(invite))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/invitations").await;
    let shown = text(&c).await;
    assert!(shown.contains("must be an e-mail address"), "{shown}");
    accessible(&c, &axe, "the invitation form with its fault").await;
    let email = c.find(Locator::Id("contact_email")).await.unwrap();
    email.clear().await.unwrap();
    email.send_keys("sec@signet.example").await.unwrap();
    c.find(Locator::XPath(invite))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The refused form's address holds the request's id too: wait for the request page itself.
    let started = Instant::now();
    while path(&c).await.ends_with("/invitations") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the invitation was not sent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_page(&c, &checked).await;
    let shown = text(&c).await;
    assert!(
        shown.contains("sec@signet.example") && shown.contains("Active until"),
        "{shown}"
    );
    accessible(&c, &axe, "a request's invitations, for an admin").await;

    // --- The auditor's pages: the trail, its verification, registers, catalogue, departments, vendors, policy.
    c.delete_all_cookies().await.unwrap();
    c.goto(&login_link(&app, Role::Auditor, "aud", None, None).await)
        .await
        .unwrap();
    assert_eq!(path(&c).await, "/requests");
    for (page, shows) in [
        ("/audit", "request.created"),
        ("/audit/verify", "The chain is intact"),
        ("/registers", "Registers"),
        ("/catalog", "Service catalogue"),
        ("/departments", "DOIT"),
        ("/vendors", "Signet Systems"),
        ("/policy", "Policy versions"),
    ] {
        c.goto(&format!("{}{page}", app.base)).await.unwrap();
        let shown = text(&c).await;
        assert!(shown.contains(shows), "{page}: {shown}");
        accessible(&c, &axe, page).await;
        if page == "/audit" {
            screenshot(&c, "auditor-audit.png").await;
        }
    }

    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
}

/// A CIO signs in through the identity provider (the local provider of `oidc_provider.rs`) in Chromium: the
/// sign-in page offers the provider, the browser goes there and back, and lands on the inbox with no code in the
/// address bar. Signing out goes through the provider's end-session endpoint (the page's `form-action` lets the
/// sign-out form's redirect go there) and back to the sign-in page, which says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cio_signs_in_through_the_identity_provider_in_chromium() {
    if !browser_available() {
        return;
    }
    let (app, provider) = crate::console_oidc::spawn(Backend::Sqlite).await;
    provider.next(
        json!({"sub": "carla", "email": "carla@city.example", "email_verified": true,
                         "realm_access": {"roles": ["cio"]}}),
    );
    let driver = Driver::start();
    let c = driver.browser().await;
    let axe = axe_source();

    c.goto(&format!("{}/", app.base)).await.unwrap();
    accessible(&c, &axe, "the sign-in page offering the identity provider").await;
    c.find(Locator::LinkText("Sign in with CityID"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_page(&c, "/inbox").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.query(), None, "no code in the address bar: {url}");
    assert!(text(&c).await.contains("Inbox"), "{}", text(&c).await);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM console_sessions WHERE method = 'oidc' AND subject = 'carla'"
        )
        .await,
        1
    );

    c.find(Locator::XPath("//button[normalize-space()='Sign out']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let url = c.current_url().await.unwrap();
        let state = c
            .execute("return document.readyState;", vec![])
            .await
            .unwrap();
        if state == "complete" && url.query().is_some_and(|q| q.contains("signed_out=1")) {
            assert_eq!(url.path(), "/", "{url}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never back from the provider: {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        text(&c).await.contains("You have signed out."),
        "{}",
        text(&c).await
    );
    accessible(
        &c,
        &axe,
        "the sign-in page after signing out at the provider",
    )
    .await;
    let ended = provider.sessions_ended();
    assert_eq!(ended.len(), 1, "the provider ended its session");
    assert_eq!(ended[0].subject, "carla");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM console_sessions WHERE revoked_at IS NOT NULL AND id_token IS NULL")
            .await,
        1
    );

    c.close().await.unwrap();
    drop(driver);
    app.stop().await;
    provider.stop();
}
