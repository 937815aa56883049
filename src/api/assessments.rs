//! Questionnaire templates, assessments (a vendor's answers), evidence, the analyst's review, and findings.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::Value;
use uuid::Uuid;

use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{AnyRole, Auth, Permission, Principal, Role};
use crate::domain::PageRequest;
use crate::domain::assessment::{
    AssessmentStatus, AssessmentView, FindingChange, FindingStatus, FindingView, ScoreView,
};
use crate::domain::questionnaire::{self as q, Answer, RiskThresholds, Template};
use crate::error::{ApiError, FieldError};
use crate::store::{
    AnswerEntry, AnswerRecord, AssessmentRecord, EvidenceRecord, FindingFilter, FindingRecord,
    NewCycle, NewFinding, ReviewComment, ReviewRecord, Store, VendorScope,
};
use crate::templates::Templates;
use crate::workflow::assessments::{self as workflow, VendorWork};

pub struct Vendor;
impl Permission for Vendor {
    const ROLES: &'static [Role] = &[Role::Vendor];
}

pub struct Analyst;
impl Permission for Analyst {
    const ROLES: &'static [Role] = &[Role::SecurityAnalyst];
}

pub struct RemediationPlanner;
impl Permission for RemediationPlanner {
    const ROLES: &'static [Role] = &[Role::Vendor, Role::SecurityAnalyst];
}

pub struct CioOnly;
impl Permission for CioOnly {
    const ROLES: &'static [Role] = &[Role::Cio];
}

/// An invitation token sees what its invitation reaches; other vendor tokens their vendor's own; buyers their
/// department's; other staff everything.
pub fn vendor_scope(p: &Principal) -> VendorScope {
    if let (true, Some(v)) = (p.has(Role::Vendor), p.vendor) {
        return match (p.invitation, &p.grant) {
            (None, _) => VendorScope::Vendor(v),
            (Some(_), Some(grant)) => VendorScope::Invitation(grant.clone()),
            // The extractor resolves every invitation; should one come through unresolved, it reaches nothing.
            (Some(id), None) => {
                VendorScope::Invitation(crate::domain::invitation::InvitationGrant {
                    id,
                    vendor: v,
                    request: Uuid::nil(),
                    assessments: Vec::new(),
                    invited_by: String::new(),
                })
            }
        };
    }
    let broad = p
        .roles
        .iter()
        .any(|r| !matches!(r, Role::Buyer | Role::Vendor));
    match (&p.department, broad) {
        (Some(d), false) => VendorScope::Department(d.clone()),
        _ => VendorScope::All,
    }
}

fn view(a: AssessmentRecord, template: &Template) -> AssessmentView {
    let status = a.status();
    AssessmentView {
        id: a.id,
        request_id: a.request_id,
        vendor_id: a.vendor_id,
        template_id: a.template_id,
        template_version: a.template_version,
        template_title: template.title.clone(),
        status,
        due_date: a.due_date,
        submission: a.submission,
        score: a.score.map(|s| s.0),
        cycle: a.cycle,
        cancelled_at: a.cancelled_at,
        cancel_reason: a.cancel_reason,
        product_id: a.product_id,
        continues_assessment_id: a.previous_assessment_id,
        version: a.version,
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

fn finding_view(f: FindingRecord) -> FindingView {
    FindingView {
        id: f.id,
        assessment_id: f.assessment_id,
        request_id: f.request_id,
        vendor_id: f.vendor_id,
        question_id: f.question_id,
        severity: f.severity,
        title: f.title,
        reason: f.reason,
        citation: f.citation,
        status: f.status,
        remediation_plan: f.remediation_plan,
        remediation_due: f.remediation_due,
        resolution_note: f.resolution_note,
        risk_rationale: f.risk_rationale,
        risk_expires_on: f.risk_expires_on,
        decided_by: f.decided_by,
        version: f.version,
        created_at: f.created_at,
        updated_at: f.updated_at,
    }
}

/// Stored answers read back against the template (an answer that no longer parses is left out).
fn parsed_answers(template: &Template, stored: &[AnswerRecord]) -> BTreeMap<String, Answer> {
    stored
        .iter()
        .filter_map(|a| {
            let question = template.question(&a.question_id)?;
            Some((
                a.question_id.clone(),
                q::parse_answer(question, &a.value.0).ok()?,
            ))
        })
        .collect()
}

fn score_view(score: &q::Score) -> ScoreView {
    let unmet_critical = score.has_unmet_critical();
    let tier = q::risk_tier(score.percent, unmet_critical, &RiskThresholds::default());
    ScoreView {
        earned_points: score.earned_points,
        possible_points: score.possible_points,
        percent: (score.percent * 10.0).round() / 10.0,
        risk_tier: serde_json::to_value(tier)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        unmet_critical,
    }
}

fn tag<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[derive(Debug, Object)]
pub struct TemplateSummary {
    pub id: String,
    pub title: String,
    pub description: String,
    pub applies_to: String,
    /// Content hash of the template file.
    pub version: String,
    pub questions: usize,
}

#[derive(Debug, Object)]
pub struct QuestionState {
    pub id: String,
    pub section: String,
    pub text: String,
    pub help: Option<String>,
    /// `yes_no`, `single_choice`, `multiple_choice`, `text`, `number`, `date` or `file`.
    pub kind: String,
    pub options: Vec<String>,
    pub na_allowed: bool,
    pub required: bool,
    /// `critical`, `standard` or `minor`; absent for informational questions.
    pub weight: Option<String>,
    pub citation: Option<String>,
    /// When the question is asked, e.g. `when SUB-01 is yes`.
    pub asked_when: Option<String>,
    /// Whether the question is asked, given the answers so far.
    pub applicable: bool,
    pub answer: Option<Value>,
    pub comment: Option<String>,
    /// The document, section or page the vendor points to in support (`SOC 2 report, section 4`).
    pub evidence_ref: Option<String>,
    /// `vendor`, or where a derived answer came from (`caiq-v4:IAM-14.1`).
    pub source: Option<String>,
}

#[derive(Debug, Object)]
pub struct EvidenceView {
    pub id: Uuid,
    pub question_id: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<EvidenceRecord> for EvidenceView {
    fn from(e: EvidenceRecord) -> Self {
        EvidenceView {
            id: e.id,
            question_id: e.question_id,
            file_name: e.file_name,
            content_type: e.content_type,
            size_bytes: e.size_bytes,
            sha256: e.sha256,
            uploaded_by: e.uploaded_by,
            uploaded_at: e.uploaded_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct ReviewView {
    pub submission: i32,
    /// `accepted` or `returned`.
    pub outcome: String,
    pub comments: Vec<ReviewComment>,
    pub reviewer: String,
    pub reviewed_at: DateTime<Utc>,
}

impl From<ReviewRecord> for ReviewView {
    fn from(r: ReviewRecord) -> Self {
        ReviewView {
            submission: r.submission,
            outcome: r.outcome,
            comments: r.comments.0,
            reviewer: r.reviewer,
            reviewed_at: r.reviewed_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct AssessmentDetail {
    pub assessment: AssessmentView,
    pub questions: Vec<QuestionState>,
    pub evidence: Vec<EvidenceView>,
    pub reviews: Vec<ReviewView>,
}

#[derive(Debug, Object)]
pub struct AssessmentPage {
    pub items: Vec<AssessmentView>,
    pub page: PageInfo,
}

#[derive(Debug, Object)]
pub struct AnswerInput {
    pub question_id: String,
    /// `"yes"`/`"no"`/`"na"` for yes/no questions, an option's text for a single choice, a list of option texts
    /// for a multiple choice, text, a number, an ISO date, or `{"evidence_id": "..."}` for a file question;
    /// `null` clears the answer (and then no comment or evidence reference may come with it).
    pub value: Option<Value>,
    /// Up to 10,000 characters.
    pub comment: Option<String>,
    /// The document, section or page that supports the answer, e.g. `SOC 2 report, section 4`; up to 1,000
    /// characters. Upload the document itself as evidence.
    pub evidence_ref: Option<String>,
}

#[derive(Debug, Object)]
pub struct AnswersInput {
    pub answers: Vec<AnswerInput>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Accept,
    Return,
}

#[derive(Debug, Object)]
pub struct ReviewInput {
    pub outcome: ReviewOutcome,
    /// Comments per question; a returned assessment needs at least one.
    #[oai(default)]
    pub comments: Vec<ReviewComment>,
}

#[derive(Debug, Object)]
pub struct ReviewResult {
    pub assessment: AssessmentView,
    /// Findings raised by an acceptance: one per unmet expectation.
    pub findings: Vec<FindingView>,
}

/// A new review cycle (201 CMR 17.03(2)(i) asks for a review at least yearly).
#[derive(Debug, Object)]
pub struct ReassessmentInput {
    /// The last day for the vendor to submit; by default the policy's `questionnaire_due_days` from today.
    pub due_date: Option<NaiveDate>,
    /// Why the cycle starts now (the annual review, a breach, a material change), for the audit trail.
    pub note: Option<String>,
}

#[derive(Debug, Object)]
pub struct ReassessmentResult {
    /// The assessment, open again in its next cycle, against the current template version.
    pub assessment: AssessmentView,
    /// The template version the last cycle was answered against.
    pub previous_template_version: String,
    /// Questions whose last answer is kept as the starting point (source `cycle-N`) for the vendor to confirm.
    pub carried: Vec<String>,
    /// Questions whose last answer is not carried: the current template no longer asks them, or the answer no
    /// longer fits the question. The last cycle's submitted version keeps them.
    pub retired: Vec<String>,
}

#[derive(Debug, Object)]
pub struct FindingPage {
    pub items: Vec<FindingView>,
    pub page: PageInfo,
}

#[derive(Debug, Object)]
pub struct RemediationInput {
    pub plan: String,
    pub due_date: NaiveDate,
}

#[derive(Debug, Object)]
pub struct ResolveInput {
    /// How the analyst verified the fix.
    pub note: String,
}

#[derive(Debug, Object)]
pub struct RiskAcceptanceInput {
    pub rationale: String,
    /// The acceptance lapses on this date and the finding must be looked at again.
    pub expires_on: NaiveDate,
}

#[derive(ApiResponse)]
pub enum AssessmentResponse {
    #[oai(status = 200)]
    Ok(Json<AssessmentView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum AssessmentDetailResponse {
    /// The assessment; its `ETag` is the version that its changes take as `If-Match`.
    #[oai(status = 200)]
    Ok(Json<AssessmentDetail>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum EvidenceCreated {
    /// The file was stored; the `ETag` is the assessment's new version.
    #[oai(status = 201)]
    Created(Json<EvidenceView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ReviewResponse {
    /// The `ETag` is the assessment's new version.
    #[oai(status = 200)]
    Ok(Json<ReviewResult>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ReassessmentResponse {
    /// The `ETag` is the assessment's new version.
    #[oai(status = 200)]
    Ok(Json<ReassessmentResult>, #[oai(header = "ETag")] String),
}

/// A change is checked against the assessment as this handler read it (its answers, their applicability, its
/// score): the caller's `If-Match` must name that version, and the store checks it again under its lock.
pub(super) fn matches_read(a: &AssessmentRecord, expected: i64) -> Result<(), ApiError> {
    if a.version == expected {
        Ok(())
    } else {
        Err(ApiError::stale(&etag(a.version)))
    }
}

#[derive(ApiResponse)]
pub enum EvidenceDownload {
    #[oai(status = 200, content_type = "application/octet-stream")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "X-Content-Type")] String,
    ),
}

#[derive(ApiResponse)]
pub enum FindingResponse {
    #[oai(status = 200)]
    Ok(Json<FindingView>, #[oai(header = "ETag")] String),
}

/// Evidence file kinds accepted, judged by their first bytes.
fn evidence_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("application/zip")
    } else if !bytes.is_empty() && std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some("text/plain")
    } else {
        None
    }
}

/// The declared type must agree with the bytes: a PDF declared as an image is refused.
fn declared_agrees(declared: &str, sniffed: &str) -> bool {
    let declared = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match sniffed {
        "application/zip" => {
            declared == "application/zip"
                || declared.starts_with("application/vnd.openxmlformats-officedocument")
                || declared == "application/octet-stream"
        }
        "text/plain" => declared.starts_with("text/") || declared == "application/octet-stream",
        other => declared == other || declared == "application/octet-stream",
    }
}

fn safe_file_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 200
        && !name.contains(['/', '\\', '\0', '"'])
        && !name.starts_with('.')
        && name.chars().all(|c| !c.is_control());
    if ok {
        Ok(name.to_string())
    } else {
        Err(ApiError::field(
            "filename",
            "must be a plain file name (no path), 1 to 200 characters",
        ))
    }
}

/// Checks an uploaded document: a plain file name, bytes of a kind we keep (`what` names the document in the
/// refusal), and a declared type that agrees with them. Returns the name and the type the bytes show.
pub(crate) fn checked_document(
    file_name: &str,
    declared: &str,
    bytes: &[u8],
    what: &str,
) -> Result<(String, &'static str), ApiError> {
    let file_name = safe_file_name(file_name)?;
    let sniffed = evidence_kind(bytes).ok_or_else(|| {
        ApiError::new(
            poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file",
            format!("{what} must be a PDF, PNG, JPEG, office document or text file"),
        )
    })?;
    if !declared_agrees(declared, sniffed) {
        return Err(ApiError::new(
            poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type_mismatch",
            format!("the file is {sniffed}, not {declared}"),
        ));
    }
    Ok((file_name, sniffed))
}

async fn template_of(
    templates: &Templates,
    store: &Store,
    a: &AssessmentRecord,
) -> Result<Arc<Template>, ApiError> {
    templates
        .version(store, &a.template_id, &a.template_version)
        .await
}

/// Opens the next review cycle of an accepted assessment against the current version of its template, the last
/// answers carried over: the re-assessment endpoint, and a post-incident review that starts one.
pub(crate) async fn start_reassessment(
    store: &Store,
    templates: &Templates,
    actor: &crate::store::Actor,
    a: AssessmentRecord,
    expected: i64,
    due_date: Option<chrono::NaiveDate>,
    note: Option<String>,
) -> Result<
    (
        AssessmentRecord,
        Arc<Template>,
        crate::domain::assessment::CarryOver,
    ),
    ApiError,
> {
    let today = crate::domain::now().date_naive();
    let due_date = match due_date {
        Some(d) if d < today => {
            return Err(ApiError::field("due_date", "must not be in the past"));
        }
        Some(d) => d,
        None => {
            let days = store
                .current_policy()
                .await?
                .document
                .0
                .questionnaire_due_days;
            today + chrono::Duration::days(i64::from(days))
        }
    };
    let current = templates
        .current_of(&a.template_id)
        .ok_or_else(|| {
            ApiError::conflict(
                "template_not_loaded",
                format!("the questionnaire {} is no longer loaded", a.template_id),
            )
        })?
        .clone();
    let stored = store.answers(a.id).await?;
    let carry = crate::domain::assessment::carry_over(
        &current,
        stored.iter().map(|s| (s.question_id.as_str(), &s.value.0)),
    );
    let cycle = NewCycle {
        template_version: current.version().to_string(),
        due_date,
        carry: carry.clone(),
        note,
    };
    let updated = store
        .start_cycle(actor, a.id, Some(expected), cycle)
        .await?;
    Ok((updated, current, carry))
}

pub struct AssessmentsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl AssessmentsApi {
    /// Questionnaire templates
    ///
    /// The templates in use (those built into the binary, or `questionnaires_dir`'s), with their content-hash
    /// versions. Every signed-in role.
    #[oai(
        path = "/questionnaires",
        method = "get",
        operation_id = "listQuestionnaires"
    )]
    async fn templates(
        &self,
        templates: Data<&Arc<Templates>>,
        _auth: Auth<AnyRole>,
    ) -> Result<Json<Vec<TemplateSummary>>, ApiError> {
        Ok(Json(
            templates
                .current()
                .iter()
                .map(|t| TemplateSummary {
                    id: t.id.clone(),
                    title: t.title.clone(),
                    description: t.description.clone(),
                    applies_to: t.applies_to.clone(),
                    version: t.version().to_string(),
                    questions: t.questions().count(),
                })
                .collect(),
        ))
    }

    /// One questionnaire template
    ///
    /// Sections and questions with kind, allowed answers, expected answer, weight, citation, conditions and the
    /// CAIQ v4 / HECVAT question IDs that answer them.
    #[oai(
        path = "/questionnaires/:id",
        method = "get",
        operation_id = "getQuestionnaire"
    )]
    async fn template(
        &self,
        templates: Data<&Arc<Templates>>,
        _auth: Auth<AnyRole>,
        id: Path<String>,
    ) -> Result<Json<Value>, ApiError> {
        let t = templates
            .current_of(&id.0)
            .ok_or_else(|| ApiError::not_found("questionnaire"))?;
        let mut value =
            serde_json::to_value(t.as_ref()).map_err(|e| ApiError::Internal(e.into()))?;
        value["version"] = Value::from(t.version());
        Ok(Json(value))
    }

    /// List assessments
    ///
    /// A vendor sees its own; a buyer those of their department's requests; other staff all.
    #[oai(
        path = "/assessments",
        method = "get",
        operation_id = "listAssessments"
    )]
    async fn list(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        auth: Auth<AnyRole>,
        request_id: Query<Option<Uuid>>,
        /// One vendor's assessments (e.g. to start its re-assessment).
        vendor_id: Query<Option<Uuid>>,
        status: Query<Option<AssessmentStatus>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip (with `cursor`, leave out or 0).
        offset: Query<Option<i64>>,
        /// Where the page starts: the `next_cursor` of the previous page (newest first). A deep page costs as
        /// little as the first.
        cursor: Query<Option<String>>,
    ) -> Result<Json<AssessmentPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let after = super::parse_cursor(cursor.0.as_deref(), &page, crate::store::Keyset::decode)?;
        let (found, next) = store
            .list_assessments(
                &vendor_scope(&auth),
                request_id.0,
                vendor_id.0,
                status.0,
                page,
                after.as_ref(),
            )
            .await?;
        let info = PageInfo::keyset(
            found.total,
            page,
            found.items.len(),
            after.is_some(),
            next.map(|k| k.encode()),
        );
        let mut items = Vec::new();
        for a in found.items {
            let t = template_of(&templates, &store, &a).await?;
            items.push(view(a, &t));
        }
        Ok(Json(AssessmentPage { items, page: info }))
    }

    /// Read an assessment
    ///
    /// The questions with whether each is asked given the answers so far, the answers, evidence and reviews.
    /// Another vendor's assessment answers 404.
    #[oai(
        path = "/assessments/:id",
        method = "get",
        operation_id = "getAssessment"
    )]
    async fn get(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<AssessmentDetailResponse, ApiError> {
        let a = store.get_assessment(&vendor_scope(&auth), id.0).await?;
        let tag = etag(a.version);
        let t = template_of(&templates, &store, &a).await?;
        let stored = store.answers(a.id).await?;
        let parsed = parsed_answers(&t, &stored);
        let mut questions = Vec::new();
        for section in &t.sections {
            for question in &section.questions {
                let answer = stored.iter().find(|s| s.question_id == question.id);
                questions.push(QuestionState {
                    id: question.id.clone(),
                    section: section.title.clone(),
                    text: question.text.clone(),
                    help: question.help.clone(),
                    kind: question.kind.as_str().to_string(),
                    options: question.options.clone(),
                    na_allowed: question.na_allowed,
                    required: question.required,
                    weight: question
                        .is_scored()
                        .then(|| question.weight.as_str().to_string()),
                    citation: question.citation.clone(),
                    asked_when: question
                        .show_if
                        .as_ref()
                        .map(|s| format!("when {} is {}", s.question, s.any_of.join(" or "))),
                    applicable: q::is_applicable(&t, question, &parsed),
                    answer: answer.map(|a| a.value.0.clone()),
                    comment: answer.and_then(|a| a.comment.clone()),
                    evidence_ref: answer.and_then(|a| a.evidence_ref.clone()),
                    source: answer.map(|a| a.source.clone()),
                });
            }
        }
        let evidence = store
            .list_evidence(a.id)
            .await?
            .into_iter()
            .map(EvidenceView::from)
            .collect();
        let reviews = store
            .reviews(a.id)
            .await?
            .into_iter()
            .map(ReviewView::from)
            .collect();
        Ok(AssessmentDetailResponse::Ok(
            Json(AssessmentDetail {
                assessment: view(a, &t),
                questions,
                evidence,
                reviews,
            }),
            tag,
        ))
    }

    /// Save answers
    ///
    /// The vendor, in as many parts as it likes, while the assessment is open or returned. Each answer is
    /// checked against its question's kind and N/A rule; a question whose condition does not hold is not asked
    /// and cannot be answered. All answers of one call are stored, or none. `If-Match` (required) names the
    /// version of the assessment read (`GET /assessments/{id}` sends it as `ETag`).
    #[oai(
        path = "/assessments/:id/answers",
        method = "put",
        operation_id = "saveAnswers"
    )]
    async fn answer(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        auth: Auth<Vendor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<AnswersInput>,
    ) -> Result<AssessmentResponse, ApiError> {
        let expected = if_match.version()?;
        let scope = vendor_scope(&auth);
        let a = store.get_assessment(&scope, id.0).await?;
        matches_read(&a, expected)?;
        // A state that takes no answers is named before the answers are checked (the store checks again).
        workflow::vendor_may(a.state(), VendorWork::Answer)?;
        let t = template_of(&templates, &store, &a).await?;
        let stored = store.answers(a.id).await?;
        let mut merged = parsed_answers(&t, &stored);
        let evidence_ids: Vec<String> = store
            .list_evidence(a.id)
            .await?
            .into_iter()
            .map(|e| e.id.to_string())
            .collect();
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        for (i, input) in body.0.answers.into_iter().enumerate() {
            let Some(question) = t.question(&input.question_id) else {
                errors.push(FieldError::new(
                    format!("answers[{i}].question_id"),
                    format!("{:?} is not a question of {}", input.question_id, t.id),
                ));
                continue;
            };
            let mut note = |field: &str, text: Option<String>, max: usize| {
                q::note_text(text.as_deref(), max).unwrap_or_else(|message| {
                    errors.push(FieldError::new(format!("answers[{i}].{field}"), message));
                    None
                })
            };
            let comment = note("comment", input.comment, q::MAX_COMMENT_CHARS);
            let evidence_ref = note(
                "evidence_ref",
                input.evidence_ref,
                q::MAX_EVIDENCE_REF_CHARS,
            );
            match input.value.filter(|v| !v.is_null()) {
                None => {
                    // Clearing an answer clears its notes; notes sent with it would be lost, so they are refused.
                    for (field, given) in [("comment", &comment), ("evidence_ref", &evidence_ref)] {
                        if given.is_some() {
                            errors.push(FieldError::new(
                                format!("answers[{i}].{field}"),
                                "comes with no answer (value is null, which clears the answer); give the answer \
                                 too, or leave this out",
                            ));
                        }
                    }
                    merged.remove(&question.id);
                    entries.push((i, AnswerEntry::cleared(question.id.clone(), "vendor")));
                }
                Some(value) => match q::parse_answer(question, &value) {
                    Ok(answer) => {
                        if let Answer::File { evidence_id } = &answer
                            && !evidence_ids.contains(evidence_id)
                        {
                            errors.push(FieldError::new(
                                format!("answers[{i}].value"),
                                "names no evidence file uploaded to this assessment",
                            ));
                        }
                        merged.insert(question.id.clone(), answer.clone());
                        entries.push((
                            i,
                            AnswerEntry {
                                question_id: question.id.clone(),
                                value: Some(answer.to_json()),
                                comment,
                                evidence_ref,
                                source: "vendor".to_string(),
                            },
                        ));
                    }
                    Err(message) => {
                        errors.push(FieldError::new(format!("answers[{i}].value"), message))
                    }
                },
            }
        }
        // `i` is the entry's place in the request, which skipped entries do not shift.
        for (i, entry) in &entries {
            if entry.value.is_none() {
                continue;
            }
            let question_id = &entry.question_id;
            let question = t.question(question_id).expect("checked above");
            if !q::is_applicable(&t, question, &merged) {
                let when = question
                    .show_if
                    .as_ref()
                    .map(|s| format!("{} is {}", s.question, s.any_of.join(" or ")))
                    .unwrap_or_default();
                errors.push(FieldError::new(
                    format!("answers[{i}].question_id"),
                    format!("{question_id} is asked only when {when}"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let updated = store
            .save_answers(
                &auth.actor(),
                &scope,
                a.id,
                Some(expected),
                entries.into_iter().map(|(_, entry)| entry).collect(),
            )
            .await?;
        let tag = etag(updated.version);
        Ok(AssessmentResponse::Ok(Json(view(updated, &t)), tag))
    }

    /// Upload evidence
    ///
    /// The vendor, while the assessment is open or returned: a PDF, PNG, JPEG, office document or text file,
    /// judged by its bytes (the declared type must agree), up to the upload limit. Stored with its SHA-256.
    /// Answer a file question with `{"evidence_id": "<id>"}`. `If-Match` (required) names the version of the
    /// assessment read; the answer's `ETag` is its next version.
    #[oai(
        path = "/assessments/:id/evidence",
        method = "post",
        operation_id = "uploadEvidence"
    )]
    async fn upload(
        &self,
        store: Data<&Store>,
        auth: Auth<Vendor>,
        id: Path<Uuid>,
        /// The file's name, as the vendor knows it.
        filename: Query<String>,
        /// The question the file supports, if one.
        question_id: Query<Option<String>>,
        #[oai(name = "Content-Type")] content_type: Header<String>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Binary<Vec<u8>>,
    ) -> Result<EvidenceCreated, ApiError> {
        let expected = if_match.version()?;
        let (file_name, sniffed) =
            checked_document(&filename.0, &content_type.0, &body.0, "evidence")?;
        let (assessment, stored) = store
            .store_evidence(
                &auth.actor(),
                &vendor_scope(&auth),
                id.0,
                expected,
                question_id.0.as_deref(),
                &file_name,
                sniffed,
                &body.0,
            )
            .await?;
        Ok(EvidenceCreated::Created(
            Json(stored.into()),
            etag(assessment.version),
        ))
    }

    /// Download evidence
    #[oai(
        path = "/assessments/:id/evidence/:evidence_id",
        method = "get",
        operation_id = "downloadEvidence"
    )]
    async fn download(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
        evidence_id: Path<Uuid>,
    ) -> Result<EvidenceDownload, ApiError> {
        store.get_assessment(&vendor_scope(&auth), id.0).await?;
        let (meta, data) = store
            .evidence_file(id.0, evidence_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("evidence"))?;
        Ok(EvidenceDownload::Ok(
            Binary(data),
            super::attachment(&meta.file_name),
            meta.content_type,
        ))
    }

    /// Submit an assessment
    ///
    /// The vendor. Every applicable required question must be answered (422 names each one missing). The
    /// answers are kept as a submitted version with their score and risk tier. `If-Match` (required) names the
    /// version whose answers are submitted.
    #[oai(
        path = "/assessments/:id/submit",
        method = "post",
        operation_id = "submitAssessment"
    )]
    async fn submit(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        auth: Auth<Vendor>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<AssessmentResponse, ApiError> {
        let expected = if_match.version()?;
        let scope = vendor_scope(&auth);
        let a = store.get_assessment(&scope, id.0).await?;
        matches_read(&a, expected)?;
        workflow::vendor_may(a.state(), VendorWork::Submit)?;
        let t = template_of(&templates, &store, &a).await?;
        let stored = store.answers(a.id).await?;
        let parsed = parsed_answers(&t, &stored);
        let score = q::score(&t, &parsed);
        if !score.unanswered_required.is_empty() {
            return Err(ApiError::validation(
                score
                    .unanswered_required
                    .iter()
                    .map(|qid| {
                        FieldError::new(format!("answers.{qid}"), "is required before submitting")
                    })
                    .collect(),
            ));
        }
        let snapshot: Value = serde_json::to_value(
            stored
                .iter()
                .map(|s| (s.question_id.clone(), serde_json::json!({"value": s.value.0, "comment": s.comment, "evidence_ref": s.evidence_ref, "source": s.source})))
                .collect::<BTreeMap<_, _>>(),
        )
        .map_err(|e| ApiError::Internal(e.into()))?;
        let updated = store
            .submit_assessment(
                &auth.actor(),
                &scope,
                a.id,
                a.version,
                snapshot,
                score_view(&score),
            )
            .await?;
        let tag = etag(updated.version);
        Ok(AssessmentResponse::Ok(Json(view(updated, &t)), tag))
    }

    /// Review an assessment
    ///
    /// The security analyst accepts a submitted assessment (each unmet expectation becomes a finding with a
    /// severity from its weight and the question's citation) or returns it with comments per question for the
    /// vendor to revise. The request's security review step is satisfied when every assessment is accepted and
    /// no critical finding stands. `If-Match` (required) names the version reviewed.
    #[oai(
        path = "/assessments/:id/review",
        method = "post",
        operation_id = "reviewAssessment"
    )]
    async fn review(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        auth: Auth<Analyst>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ReviewInput>,
    ) -> Result<ReviewResponse, ApiError> {
        let expected = if_match.version()?;
        let a = store.get_assessment(&VendorScope::All, id.0).await?;
        matches_read(&a, expected)?;
        workflow::may_review(a.state())?;
        let t = template_of(&templates, &store, &a).await?;
        let mut errors = Vec::new();
        let mut comments = Vec::new();
        for (i, c) in body.0.comments.into_iter().enumerate() {
            if t.question(&c.question_id).is_none() {
                errors.push(FieldError::new(
                    format!("comments[{i}].question_id"),
                    "no such question",
                ));
            }
            let text = c.comment.trim().to_string();
            if text.is_empty() {
                errors.push(FieldError::new(
                    format!("comments[{i}].comment"),
                    "is required",
                ));
            }
            comments.push(ReviewComment {
                question_id: c.question_id,
                comment: text,
            });
        }
        let accept = body.0.outcome == ReviewOutcome::Accept;
        if !accept && comments.is_empty() {
            errors.push(FieldError::new(
                "comments",
                "say what the vendor should revise",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let findings = if accept {
            let parsed = parsed_answers(&t, &store.answers(a.id).await?);
            let score = q::score(&t, &parsed);
            q::findings(&t, &score)
                .into_iter()
                .map(|f| NewFinding {
                    question_id: f.question_id,
                    severity: tag(&f.severity),
                    title: f.question_text,
                    reason: f.reason,
                    citation: f.citation,
                })
                .collect()
        } else {
            Vec::new()
        };
        let (updated, raised) = store
            .review_assessment(
                &auth.actor(),
                a.id,
                Some(expected),
                accept,
                comments,
                findings,
            )
            .await?;
        let tag = etag(updated.version);
        Ok(ReviewResponse::Ok(
            Json(ReviewResult {
                assessment: view(updated, &t),
                findings: raised.into_iter().map(finding_view).collect(),
            }),
            tag,
        ))
    }

    /// Start a new review cycle
    ///
    /// The security analyst reopens an accepted assessment for its periodic review: it moves to the current
    /// version of its template and the vendor finds the last answers filled in, marked `cycle-N` until confirmed.
    /// Answers the current version no longer asks or reads are retired and listed. The request's decision stands;
    /// the vendor's next-review date moves when the new cycle is accepted. A finding resolved in an earlier cycle
    /// is reopened if its question fails again. 409 unless the assessment is accepted. `If-Match` (required)
    /// names the version read.
    #[oai(
        path = "/assessments/:id/reassessment",
        method = "post",
        operation_id = "startReassessment"
    )]
    async fn reassess(
        &self,
        store: Data<&Store>,
        templates: Data<&Arc<Templates>>,
        auth: Auth<Analyst>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ReassessmentInput>,
    ) -> Result<ReassessmentResponse, ApiError> {
        let expected = if_match.version()?;
        let a = store.get_assessment(&VendorScope::All, id.0).await?;
        matches_read(&a, expected)?;
        let note = body
            .0
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        let previous_template_version = a.template_version.clone();
        let (updated, current, carry) = start_reassessment(
            &store,
            &templates,
            &auth.actor(),
            a,
            expected,
            body.0.due_date,
            note,
        )
        .await?;
        let tag = etag(updated.version);
        Ok(ReassessmentResponse::Ok(
            Json(ReassessmentResult {
                assessment: view(updated, &current),
                previous_template_version,
                carried: carry.carried,
                retired: carry.retired,
            }),
            tag,
        ))
    }

    /// List findings
    ///
    /// A vendor sees its own; a buyer those of their department's requests; other staff all.
    #[oai(path = "/findings", method = "get", operation_id = "listFindings")]
    async fn findings(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        request_id: Query<Option<Uuid>>,
        assessment_id: Query<Option<Uuid>>,
        status: Query<Option<FindingStatus>>,
        /// `critical`, `moderate` or `low`.
        severity: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip (with `cursor`, leave out or 0).
        offset: Query<Option<i64>>,
        /// Where the page starts: the `next_cursor` of the previous page (oldest first). A deep page costs as
        /// little as the first.
        cursor: Query<Option<String>>,
    ) -> Result<Json<FindingPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let after = super::parse_cursor(cursor.0.as_deref(), &page, crate::store::Keyset::decode)?;
        let filter = FindingFilter {
            request_id: request_id.0,
            assessment_id: assessment_id.0,
            status: status.0.map(|s| s.as_str().to_string()),
            severity: severity.0,
        };
        let (found, next) = store
            .list_findings(&vendor_scope(&auth), &filter, page, after.as_ref())
            .await?;
        let info = PageInfo::keyset(
            found.total,
            page,
            found.items.len(),
            after.is_some(),
            next.map(|k| k.encode()),
        );
        Ok(Json(FindingPage {
            items: found.items.into_iter().map(finding_view).collect(),
            page: info,
        }))
    }

    /// Read a finding
    #[oai(path = "/findings/:id", method = "get", operation_id = "getFinding")]
    async fn finding(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<FindingResponse, ApiError> {
        let f = store.get_finding(&vendor_scope(&auth), id.0).await?;
        let tag = etag(f.version);
        Ok(FindingResponse::Ok(Json(finding_view(f)), tag))
    }

    /// Plan remediation of a finding
    ///
    /// The vendor (its own findings) or a security analyst: the plan and its due date. `If-Match` (required)
    /// names the version of the finding read.
    #[oai(
        path = "/findings/:id/remediation",
        method = "post",
        operation_id = "planRemediation"
    )]
    async fn plan(
        &self,
        store: Data<&Store>,
        auth: Auth<RemediationPlanner>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<RemediationInput>,
    ) -> Result<FindingResponse, ApiError> {
        let expected = if_match.version()?;
        let change =
            FindingChange::plan(&body.plan, body.due_date, crate::domain::now().date_naive())?;
        self.change(&store, &auth, id.0, expected, change).await
    }

    /// Resolve a finding
    ///
    /// A security analyst, having verified the fix. `If-Match` (required) names the version of the finding read.
    #[oai(
        path = "/findings/:id/resolve",
        method = "post",
        operation_id = "resolveFinding"
    )]
    async fn resolve(
        &self,
        store: Data<&Store>,
        auth: Auth<Analyst>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ResolveInput>,
    ) -> Result<FindingResponse, ApiError> {
        let expected = if_match.version()?;
        let change = FindingChange::resolve(&body.note)?;
        self.change(&store, &auth, id.0, expected, change).await
    }

    /// Accept the risk of a finding
    ///
    /// The CIO only, with a rationale and an expiry date. `If-Match` (required) names the version of the
    /// finding read.
    #[oai(
        path = "/findings/:id/risk-acceptance",
        method = "post",
        operation_id = "acceptFindingRisk"
    )]
    async fn accept_risk(
        &self,
        store: Data<&Store>,
        auth: Auth<CioOnly>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<RiskAcceptanceInput>,
    ) -> Result<FindingResponse, ApiError> {
        let expected = if_match.version()?;
        let change = FindingChange::accept_risk(
            &body.rationale,
            body.expires_on,
            crate::domain::now().date_naive(),
        )?;
        self.change(&store, &auth, id.0, expected, change).await
    }
}

impl AssessmentsApi {
    async fn change<P: Permission>(
        &self,
        store: &Store,
        auth: &Auth<P>,
        id: Uuid,
        expected: i64,
        change: FindingChange,
    ) -> Result<FindingResponse, ApiError> {
        let updated = store
            .change_finding(
                &auth.actor(),
                &vendor_scope(auth),
                id,
                Some(expected),
                change,
            )
            .await?;
        let tag = etag(updated.version);
        Ok(FindingResponse::Ok(Json(finding_view(updated)), tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_judged_by_its_bytes_and_the_declared_type_must_agree() {
        assert_eq!(evidence_kind(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(evidence_kind(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(evidence_kind(&[0, 1, 2, 0xff]), None);
        assert!(declared_agrees("application/pdf", "application/pdf"));
        assert!(!declared_agrees("image/png", "application/pdf"));
        assert!(declared_agrees("text/plain; charset=utf-8", "text/plain"));
    }

    #[test]
    fn file_names_carry_no_path() {
        assert!(safe_file_name("soc2-report.pdf").is_ok());
        assert!(safe_file_name("../etc/passwd").is_err());
        assert!(safe_file_name("a\\b.pdf").is_err());
        assert!(safe_file_name(".hidden").is_err());
    }
}
