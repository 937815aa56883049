//! A city's worth of data, made through the service's own HTTP API: departments, vendors, purchase requests over
//! ten fiscal years (drafted and submitted, so that routes, versions, duplicate candidates, assessments and the
//! audit trail are the service's own), vendors' answers to the questionnaires those routes ask for, CIO and
//! Finance decisions on part of what waits for them, and the security team's acceptance of part of what vendors
//! submit (whose unmet expectations become findings). Only the part of the audit trail beyond what those actions
//! write is appended directly: hash-chained records of vendor contact edits, made with the service's own
//! `chain_hash`, so that the chain verifies.
//!
//! Shared by `benches/city.rs` (city scale) and the tests in `city.rs` (a small scale, on both backends).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use procurement_review::auth::{MintRequest, Role, Verifier};
use procurement_review::domain::audit::{AuditEntry, chain_hash};
use procurement_review::store::Store;
use serde_json::{Value, json};

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub requests: usize,
    pub vendors: usize,
    /// Assessments wanted: about this many, made by the routes of requests holding personal information.
    pub assessments: usize,
    /// Audit records wanted in all (what the actions above write, then appended vendor edits up to this).
    pub audit_records: i64,
    pub fiscal_years: i32,
    /// Requests in flight at once while generating.
    pub clients: usize,
}

impl Scale {
    /// Issue #21's city: 100,000 requests over ten fiscal years, 10,000 vendors, 20,000 assessments with answers,
    /// a million audit records.
    pub const CITY: Scale = Scale {
        requests: 100_000,
        vendors: 10_000,
        assessments: 20_000,
        audit_records: 1_000_000,
        fiscal_years: 10,
        clients: 16,
    };

    /// The same proportions, divided by `by`.
    pub fn divided(by: usize) -> Scale {
        let c = Scale::CITY;
        Scale {
            requests: c.requests / by,
            vendors: (c.vendors / by).max(1),
            assessments: c.assessments / by,
            audit_records: c.audit_records / by as i64,
            fiscal_years: c.fiscal_years,
            clients: 4,
        }
    }

    /// A label that names the scale (for the cached database of the bench).
    pub fn label(&self) -> String {
        format!(
            "r{}-v{}-a{}-l{}-fy{}",
            self.requests, self.vendors, self.assessments, self.audit_records, self.fiscal_years
        )
    }
}

/// What was made.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub departments: Vec<String>,
    pub vendors: Vec<String>,
    pub requests: Vec<String>,
    pub assessments: usize,
    pub answered: usize,
    pub submitted_assessments: usize,
    pub accepted_assessments: usize,
    pub decisions: usize,
    pub audit_appended: i64,
}

pub const DEPARTMENTS: [(&str, &str); 14] = [
    ("DOIT", "Department of Innovation and Technology"),
    ("BPS", "Boston Public Schools"),
    ("BFD", "Fire Department"),
    ("PWD", "Public Works"),
    ("BTD", "Transportation"),
    ("ISD", "Inspectional Services"),
    ("DND", "Neighborhood Development"),
    ("BPHC", "Public Health Commission"),
    ("BPL", "Public Library"),
    ("PARKS", "Parks and Recreation"),
    ("ELEC", "Election Department"),
    ("ASSESS", "Assessing"),
    ("TREAS", "Treasury"),
    ("OHR", "Human Resources"),
];

/// Products people buy, with what they are for: (product, category, capability, purpose).
const PRODUCTS: [(&str, &str, &str, &str); 24] = [
    (
        "SignIt",
        "e-signature",
        "electronic signatures",
        "signing permits",
    ),
    (
        "CaseBook",
        "case management",
        "case tracking",
        "tracking constituent cases",
    ),
    (
        "RouteWise",
        "fleet management",
        "vehicle tracking",
        "plowing routes",
    ),
    (
        "Shelfwise",
        "library catalogue",
        "catalogue search",
        "branch catalogues",
    ),
    (
        "FormFlow",
        "online forms",
        "web forms",
        "license applications",
    ),
    (
        "MeetRoom",
        "video conferencing",
        "video meetings",
        "community meetings",
    ),
    ("GridView", "GIS", "maps", "street asset maps"),
    (
        "PayPoint",
        "payments",
        "card payments",
        "paying fees online",
    ),
    (
        "DocVault",
        "document management",
        "records retention",
        "keeping inspection records",
    ),
    (
        "LearnHub",
        "learning management",
        "online courses",
        "staff training",
    ),
    (
        "TimeClock",
        "timekeeping",
        "time tracking",
        "shift timekeeping",
    ),
    (
        "AssetTrack",
        "asset management",
        "work orders",
        "maintaining equipment",
    ),
    (
        "Survey123x",
        "surveys",
        "online surveys",
        "resident surveys",
    ),
    (
        "ChatDesk",
        "chatbot",
        "automated answers",
        "answering resident questions",
    ),
    (
        "BidBoard",
        "e-procurement",
        "online bidding",
        "publishing bids",
    ),
    (
        "VoteCount",
        "election management",
        "ballot tracking",
        "tracking ballots",
    ),
    (
        "HealthTrack",
        "health records",
        "clinical records",
        "clinic records",
    ),
    (
        "ParkBook",
        "reservations",
        "facility booking",
        "booking fields",
    ),
    (
        "InspectPro",
        "inspections",
        "mobile inspections",
        "field inspections",
    ),
    (
        "TaxRoll",
        "assessment",
        "property valuation",
        "valuing properties",
    ),
    (
        "PayrollOne",
        "payroll",
        "payroll processing",
        "paying staff",
    ),
    (
        "Notify311",
        "notifications",
        "text alerts",
        "emergency alerts",
    ),
    (
        "DataLake",
        "data warehouse",
        "analytics",
        "reporting across departments",
    ),
    (
        "Backup360",
        "backup",
        "cloud backup",
        "backing up file servers",
    ),
];

/// Yearly costs in cents: from a small subscription to a large system.
const ANNUAL_CENTS: [i64; 8] = [
    50_000, 480_000, 1_500_000, 2_400_000, 6_000_000, 12_000_000, 35_000_000, 90_000_000,
];

/// A fixed, well-spread pseudo-random number from `i` (SplitMix64).
fn spread(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn token(
    verifier: &Verifier,
    role: Role,
    sub: &str,
    department: Option<&str>,
    vendor: Option<&str>,
) -> String {
    verifier
        .mint(&MintRequest {
            role,
            subject: sub.into(),
            department: department.map(str::to_string),
            vendor: vendor.map(|v| v.parse().expect("a vendor id")),
            ttl_seconds: 24 * 3600,
        })
        .expect("a token")
}

/// The body of request `i` of `scale`, for `vendor`. Every `pi_stride`-th holds Massachusetts residents'
/// personal information in the vendor's cloud, so its route asks the vendor for security questionnaires; the
/// others run on the city's premises with public data.
pub fn request_body(i: usize, scale: &Scale, vendor: &str, pi_stride: usize) -> Value {
    let r = spread(i as u64);
    let (product, category, capability, purpose) = PRODUCTS[(r % PRODUCTS.len() as u64) as usize];
    let annual = ANNUAL_CENTS[((r >> 8) % ANNUAL_CENTS.len() as u64) as usize];
    let capital = if (r >> 16) % 5 == 0 { annual / 2 } else { 0 };
    // Fiscal years end on June 30: FY2027 runs from 2026-07-01. Spread the starts over the last `fiscal_years`.
    let today = Utc::now().date_naive();
    let current_fy = if today.month() >= 7 {
        today.year() + 1
    } else {
        today.year()
    };
    let fy = current_fy - (i as i32 % scale.fiscal_years);
    let start =
        NaiveDate::from_ymd_opt(fy - 1, 7, 1).unwrap() + Duration::days((r >> 24) as i64 % 360);
    let pi = pi_stride > 0 && i % pi_stride == 0;
    let data_classes = if pi {
        json!(["pi_ma"])
    } else {
        json!(["public"])
    };
    let term_months = [12, 24, 36][((r >> 32) % 3) as usize];
    let expected_users = [10, 50, 200, 1500][((r >> 36) % 4) as usize];
    // A vendor-hosted system is asked for the city baseline questionnaire: only these requests are, so that the
    // assessments made come near the number wanted.
    let hosting = if pi { "vendor_cloud" } else { "on_premises" };
    json!({
        "title": format!("{product} for {purpose} #{i}"),
        "description": format!("{category} used for {purpose}"),
        "vendor_id": vendor,
        "product_name": product,
        "category": category,
        "capabilities": [capability],
        "capital_cost_cents": capital,
        "annual_operating_cost_cents": annual,
        "term_months": term_months,
        "expected_users": expected_users,
        "hosting": hosting,
        "data_classes": data_classes,
        "requested_start_date": start.to_string(),
        "renewal": false,
        "enterprise_agreement": false,
        "surveillance": false,
        "face_surveillance": false,
    })
}

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> (u16, Option<String>, Value) {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, etag, body)
    }

    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> (Option<String>, Value) {
        let (status, etag, got) = self.send(method.clone(), path, token, body, if_match).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status}: {got}"
        );
        (etag, got)
    }
}

/// Runs `work(i)` for every `i` in `0..n` with `clients` at once.
async fn in_parallel<F, Fut>(n: usize, clients: usize, work: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let next = next.clone();
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                work(i).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("a generator task");
    }
}

/// A valid answer to each question of `questions` that is shown: yes to most yes/no questions, the first option of a
/// choice, a short text, the smallest allowed number, a date; no file. Questions shown only after another answer are
/// answered when that answer shows them.
fn answers_for(questions: &[Value]) -> Vec<Value> {
    let mut given: std::collections::HashMap<String, String> = Default::default();
    let mut out = Vec::new();
    for q in questions {
        if let Some(show) = q.get("show_if").filter(|s| !s.is_null()) {
            let gate = show["question"].as_str().unwrap_or_default();
            let shown = show["any_of"].as_array().into_iter().flatten().any(|v| {
                given
                    .get(gate)
                    .is_some_and(|g| Some(g.as_str()) == v.as_str())
            });
            if !shown {
                continue;
            }
        }
        let id = q["id"].as_str().unwrap_or_default().to_string();
        let first_option = q["options"][0].as_str().unwrap_or("").to_string();
        let (value, token) = match q["kind"].as_str().unwrap_or_default() {
            // One yes/no question in five is answered no: what the template expects is then not always met.
            "yes_no" if out.len() % 5 == 4 => (json!("no"), "no".to_string()),
            "yes_no" => (json!("yes"), "yes".to_string()),
            "single_choice" => (json!(first_option.clone()), first_option),
            "multiple_choice" => (json!([first_option.clone()]), first_option),
            "number" => {
                let n = q["min"]
                    .as_f64()
                    .unwrap_or(1.0)
                    .max(q["min"].as_f64().unwrap_or(0.0));
                (json!(n), n.to_string())
            }
            "date" => (json!("2026-01-15"), String::new()),
            // Evidence files are not made: their questions stay unanswered.
            "file" => continue,
            _ => (
                json!("Described in our written information security program, section 4."),
                String::new(),
            ),
        };
        given.insert(id.clone(), token);
        out.push(json!({"question_id": id, "value": value}));
    }
    out
}

/// Makes `scale`'s data through the service at `base` (whose tokens `verifier` mints), then appends audit records
/// up to `scale.audit_records` through `store`. Prints progress when `progress`.
pub async fn generate(
    base: &str,
    verifier: &Verifier,
    store: &Store,
    scale: &Scale,
    progress: bool,
) -> Generated {
    let started = Instant::now();
    let say = |what: &str| {
        if progress {
            eprintln!("[{:>6.1} s] {what}", started.elapsed().as_secs_f64());
        }
    };
    let http = Arc::new(Http {
        base: base.to_string(),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(scale.clients * 2)
            .build()
            .unwrap(),
    });
    let admin = token(verifier, Role::Admin, "city-admin", None, None);
    let mut made = Generated::default();

    for (code, name) in DEPARTMENTS {
        let (status, _, body) = http
            .send(
                reqwest::Method::POST,
                "/api/v1/departments",
                &admin,
                Some(&json!({"code": code, "name": name})),
                None,
            )
            .await;
        assert!(
            status == 201 || status == 409,
            "department {code}: {status} {body}"
        );
        made.departments.push(code.to_string());
    }

    let vendors = Arc::new(std::sync::Mutex::new(vec![String::new(); scale.vendors]));
    {
        let (http, admin, vendors) = (http.clone(), admin.clone(), vendors.clone());
        in_parallel(scale.vendors, scale.clients, move |i| {
            let (http, admin, vendors) = (http.clone(), admin.clone(), vendors.clone());
            async move {
                let body = json!({
                    "legal_name": format!("City Vendor {i:05} LLC"),
                    "website": format!("https://vendor{i}.example"),
                    "hq_country": if i % 17 == 0 { "CA" } else { "US" },
                    "contacts": [{"name": "Pat Doe", "email": format!("security@vendor{i}.example")}],
                });
                let (_, got) = http
                    .ok(reqwest::Method::POST, "/api/v1/vendors", &admin, Some(&body), None)
                    .await;
                vendors.lock().unwrap()[i] = got["id"].as_str().unwrap().to_string();
            }
        })
        .await;
    }
    made.vendors = std::mem::take(&mut *vendors.lock().unwrap());
    say(&format!("{} vendors", made.vendors.len()));

    // One request holding personal information tells how many questionnaires such a route asks for; then every
    // `stride`-th request holds it, to make about the assessments wanted.
    let buyers: Arc<Vec<String>> = Arc::new(
        DEPARTMENTS
            .iter()
            .map(|(code, _)| {
                token(
                    verifier,
                    Role::Buyer,
                    &format!("buyer-{}", code.to_lowercase()),
                    Some(code),
                    None,
                )
            })
            .collect(),
    );
    let cio = token(verifier, Role::Cio, "city-cio", None, None);
    let finance = token(verifier, Role::Finance, "city-finance", None, None);
    let pi_stride = if scale.assessments == 0 || scale.requests == 0 {
        0
    } else {
        let probe = submit_request(&http, &buyers, scale, &made.vendors, 0, 1).await;
        let (_, page) = http
            .ok(
                reqwest::Method::GET,
                &format!("/api/v1/assessments?request_id={probe}&limit=1"),
                &admin,
                None,
                None,
            )
            .await;
        let per_request = page["page"]["total"].as_u64().unwrap_or(0).max(1) as usize;
        (scale.requests * per_request / scale.assessments).max(1)
    };
    let requests = Arc::new(std::sync::Mutex::new(vec![String::new(); scale.requests]));
    let decided = Arc::new(AtomicUsize::new(0));
    {
        let (http, buyers, vendors, requests, decided) = (
            http.clone(),
            buyers.clone(),
            Arc::new(made.vendors.clone()),
            requests.clone(),
            decided.clone(),
        );
        let (cio, finance) = (Arc::new(cio), Arc::new(finance));
        let scale = *scale;
        let done = Arc::new(AtomicUsize::new(0));
        let progress_every = (scale.requests / 10).max(1);
        in_parallel(scale.requests, scale.clients, move |i| {
            let (http, buyers, vendors, requests, decided, cio, finance, done) = (
                http.clone(),
                buyers.clone(),
                vendors.clone(),
                requests.clone(),
                decided.clone(),
                cio.clone(),
                finance.clone(),
                done.clone(),
            );
            async move {
                let id = if i == 0 && pi_stride > 0 {
                    // The probe above.
                    String::new()
                } else {
                    submit_request(&http, &buyers, &scale, &vendors, i, pi_stride).await
                };
                if !id.is_empty() {
                    // Two requests in three that wait for the CIO or Finance get their decision.
                    if spread(i as u64 ^ 0xD0) % 3 != 0 {
                        decided
                            .fetch_add(decide(&http, &cio, &finance, &id).await, Ordering::Relaxed);
                    }
                    requests.lock().unwrap()[i] = id;
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if progress && n % progress_every == 0 {
                    eprintln!("  {n} requests");
                }
            }
        })
        .await;
    }
    made.requests = std::mem::take(&mut *requests.lock().unwrap());
    made.requests.retain(|r| !r.is_empty());
    made.decisions = decided.load(Ordering::Relaxed);
    say(&format!(
        "{} requests submitted, {} decisions",
        made.requests.len() + usize::from(pi_stride > 0),
        made.decisions
    ));

    // Vendors answer every assessment; two in three submit theirs.
    let mut assessments: Vec<(String, String, String, String)> = Vec::new();
    let mut offset = 0;
    loop {
        let (_, page) = http
            .ok(
                reqwest::Method::GET,
                &format!("/api/v1/assessments?limit=200&offset={offset}"),
                &admin,
                None,
                None,
            )
            .await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for a in &items {
            assessments.push((
                a["id"].as_str().unwrap().to_string(),
                a["vendor_id"].as_str().unwrap().to_string(),
                a["template_id"].as_str().unwrap().to_string(),
                format!(
                    "\"{}\"",
                    a["version"].as_i64().expect("an assessment's version")
                ),
            ));
        }
        offset += items.len();
        if items.len() < 200 {
            break;
        }
    }
    made.assessments = assessments.len();
    let mut templates = std::collections::HashMap::new();
    for (_, _, template, _) in &assessments {
        if !templates.contains_key(template) {
            let (_, t) = http
                .ok(
                    reqwest::Method::GET,
                    &format!("/api/v1/questionnaires/{template}"),
                    &admin,
                    None,
                    None,
                )
                .await;
            let questions: Vec<Value> = t["sections"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|s| s["questions"].as_array().cloned().unwrap_or_default())
                .collect();
            templates.insert(template.clone(), Arc::new(answers_for(&questions)));
        }
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let submitted = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let analyst = Arc::new(token(
        verifier,
        Role::SecurityAnalyst,
        "city-analyst",
        None,
        None,
    ));
    {
        let mut vendor_tokens = std::collections::HashMap::new();
        for (_, vendor, _, _) in &assessments {
            vendor_tokens.entry(vendor.clone()).or_insert_with(|| {
                token(
                    verifier,
                    Role::Vendor,
                    &format!("vendor-{vendor}"),
                    None,
                    Some(vendor),
                )
            });
        }
        let assessments = Arc::new(assessments);
        let templates = Arc::new(templates);
        let vendor_tokens = Arc::new(vendor_tokens);
        let (http, answered, submitted, accepted, analyst) = (
            http.clone(),
            answered.clone(),
            submitted.clone(),
            accepted.clone(),
            analyst.clone(),
        );
        in_parallel(assessments.len(), scale.clients, move |i| {
            let (http, answered, submitted, accepted, analyst) = (
                http.clone(),
                answered.clone(),
                submitted.clone(),
                accepted.clone(),
                analyst.clone(),
            );
            let (assessments, templates, vendor_tokens) = (
                assessments.clone(),
                templates.clone(),
                vendor_tokens.clone(),
            );
            async move {
                let (id, vendor, template, version) = &assessments[i];
                let vendor_token = &vendor_tokens[vendor];
                let body = json!({"answers": *templates[template]});
                let (etag, _) = http
                    .ok(
                        reqwest::Method::PUT,
                        &format!("/api/v1/assessments/{id}/answers"),
                        vendor_token,
                        Some(&body),
                        Some(version),
                    )
                    .await;
                answered.fetch_add(1, Ordering::Relaxed);
                if i % 3 != 0 {
                    let (status, etag, _) = http
                        .send(
                            reqwest::Method::POST,
                            &format!("/api/v1/assessments/{id}/submit"),
                            vendor_token,
                            None,
                            etag.as_deref(),
                        )
                        .await;
                    if status == 200 {
                        submitted.fetch_add(1, Ordering::Relaxed);
                        // The analyst accepts half of what is submitted: unmet expectations become findings.
                        if i % 2 == 0 {
                            http.ok(
                                reqwest::Method::POST,
                                &format!("/api/v1/assessments/{id}/review"),
                                &analyst,
                                Some(&json!({"outcome": "accept"})),
                                etag.as_deref(),
                            )
                            .await;
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        })
        .await;
    }
    made.answered = answered.load(Ordering::Relaxed);
    made.submitted_assessments = submitted.load(Ordering::Relaxed);
    made.accepted_assessments = accepted.load(Ordering::Relaxed);
    say(&format!(
        "{} assessments, {} answered, {} submitted, {} accepted",
        made.assessments, made.answered, made.submitted_assessments, made.accepted_assessments
    ));

    made.audit_appended = append_audit(store, scale.audit_records).await;
    say(&format!("{} audit records appended", made.audit_appended));
    made
}

/// Drafts and submits request `i`; returns its id.
async fn submit_request(
    http: &Http,
    buyers: &[String],
    scale: &Scale,
    vendors: &[String],
    i: usize,
    pi_stride: usize,
) -> String {
    let d = i % DEPARTMENTS.len();
    let vendor = &vendors[(spread(i as u64 ^ 0xBEEF) % vendors.len() as u64) as usize];
    let body = request_body(i, scale, vendor, pi_stride);
    let (etag, created) = http
        .ok(
            reqwest::Method::POST,
            "/api/v1/requests",
            &buyers[d],
            Some(&body),
            None,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    http.ok(
        reqwest::Method::POST,
        &format!("/api/v1/requests/{id}/submit"),
        &buyers[d],
        None,
        etag.as_deref(),
    )
    .await;
    id
}

/// Approves the CIO's and Finance's pending steps of request `id` (the CIO's duplicate review excepted);
/// returns how many decisions were made.
async fn decide(http: &Http, cio: &str, finance: &str, id: &str) -> usize {
    let mut made = 0;
    for _ in 0..2 {
        let (_, route) = http
            .ok(
                reqwest::Method::GET,
                &format!("/api/v1/requests/{id}/route"),
                cio,
                None,
                None,
            )
            .await;
        let pending = route["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| {
                s["state"] == "pending"
                    && (s["kind"] == "cio_approval" || s["kind"] == "finance_approval")
            })
            .cloned();
        let Some(step) = pending else { break };
        let (etag, _) = http
            .ok(
                reqwest::Method::GET,
                &format!("/api/v1/requests/{id}"),
                cio,
                None,
                None,
            )
            .await;
        let who = if step["kind"] == "finance_approval" {
            finance
        } else {
            cio
        };
        let (status, _, _) = http
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/requests/{id}/decisions"),
                who,
                Some(&json!({"step": step["kind"], "outcome": "approve", "rationale": "Within the plan."})),
                etag.as_deref(),
            )
            .await;
        if status != 200 && status != 201 {
            break;
        }
        made += 1;
    }
    made
}

/// The part of the audit trail the actions did not write: hash-chained vendor contact edits appended after the
/// head, in batches, until the trail holds `wanted` records. Returns how many were appended.
pub async fn append_audit(store: &Store, wanted: i64) -> i64 {
    macro_rules! append {
        ($pool:expr, $db:ty) => {{
            let (head_seq, head_hash): (i64, String) =
                sqlx::query_as("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
                    .fetch_one($pool)
                    .await
                    .unwrap();
            let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
                .fetch_one($pool)
                .await
                .unwrap();
            let mut left = wanted - count;
            let appended = left.max(0);
            let mut seq = head_seq;
            let mut prev = head_hash;
            // Whole milliseconds, as every backend keeps them.
            let start = DateTime::<Utc>::from_timestamp(Utc::now().timestamp(), 0).unwrap();
            while left > 0 {
                let chunk = left.min(20_000);
                let mut tx = $pool.begin().await.unwrap();
                let mut rows = Vec::with_capacity(chunk as usize);
                for _ in 0..chunk {
                    seq += 1;
                    let object_id = format!("00000000-0000-4000-8000-{:012}", seq % 10_000);
                    let vendor = |email: &str| {
                        json!({"id": object_id, "legal_name": format!("City Vendor {:05} LLC", seq % 10_000),
                               "hq_country": "US", "contacts": [{"name": "Pat Doe", "email": email}]})
                    };
                    let (before, after) = (vendor("old@vendor.example"), vendor("security@vendor.example"));
                    let at = start + Duration::milliseconds(seq - head_seq);
                    let entry = AuditEntry {
                        at,
                        actor: "analyst-7",
                        role: "security_analyst",
                        action: "vendor.updated",
                        object_type: "vendor",
                        object_id: &object_id,
                        before: Some(&before),
                        after: Some(&after),
                        request_id: Some("city-data"),
                        context: None,
                    };
                    let hash = chain_hash(seq, &prev, &entry);
                    rows.push((seq, at, object_id.clone(), before, after, std::mem::replace(&mut prev, hash.clone()), hash));
                }
                for batch in rows.chunks(500) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO audit_log (seq, at, actor, role, action, object_type, object_id, before, after, \
                         request_id, prev_hash, hash) ",
                    );
                    query.push_values(batch, |mut b, r| {
                        b.push_bind(r.0)
                            .push_bind(r.1)
                            .push_bind("analyst-7")
                            .push_bind("security_analyst")
                            .push_bind("vendor.updated")
                            .push_bind("vendor")
                            .push_bind(r.2.clone())
                            .push_bind(sqlx::types::Json(r.3.clone()))
                            .push_bind(sqlx::types::Json(r.4.clone()))
                            .push_bind("city-data")
                            .push_bind(r.5.clone())
                            .push_bind(r.6.clone());
                    });
                    query.build().execute(&mut *tx).await.unwrap();
                }
                sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
                    .bind(seq)
                    .bind(&prev)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                left -= chunk;
            }
            appended
        }};
    }
    match store {
        Store::Sqlite(repo) => append!(&repo.pool, sqlx::Sqlite),
        Store::Postgres(repo) => append!(&repo.pool, sqlx::Postgres),
    }
}
