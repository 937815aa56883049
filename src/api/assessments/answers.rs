//! Assessments: the list, one read with its questions and their state, the vendor's answers, and the submission.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::Value;
use uuid::Uuid;

use super::{EvidenceView, Vendor, matches_read, parsed_answers, template_of, vendor_scope, view};
use crate::api::me::ApiTags;
use crate::api::{IfMatch, PageInfo, etag};
use crate::auth::{AnyRole, Auth};
use crate::domain::PageRequest;
use crate::domain::assessments::{AssessmentStatus, AssessmentView, ScoreView};
use crate::domain::questionnaires::{self as q, Answer, RiskThresholds};
use crate::error::{ApiError, FieldError};
use crate::store::{AnswerEntry, ReviewComment, ReviewRecord, Store};
use crate::templates::Templates;
use crate::workflow::assessments::{self as workflow, VendorWork};

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
    /// The same condition, for a program to apply as the answers change; null when the question is always asked.
    pub condition: Option<QuestionCondition>,
    /// Whether the question is asked, given the answers so far.
    pub applicable: bool,
    pub answer: Option<Value>,
    pub comment: Option<String>,
    /// The document, section or page the vendor points to in support (`SOC 2 report, section 4`).
    pub evidence_ref: Option<String>,
    /// `vendor`, or where a derived answer came from (`caiq-v4:IAM-14.1`).
    pub source: Option<String>,
}

/// When a question is asked: the question it depends on is itself asked and its answer has one of `any_of`.
/// Conditions chain: a question whose controlling question is not asked is not asked either, whatever the answer
/// stored for the controlling question.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct QuestionCondition {
    /// The earlier question whose answer decides.
    pub question_id: String,
    /// The answers that ask this question, as the answer's JSON value spells them: `yes`, `no` or `na` for a
    /// yes/no question, an option's text for a choice question (for a multiple choice, the option being among
    /// those selected), `na` for N/A.
    pub any_of: Vec<String>,
}

impl From<&q::ShowIf> for QuestionCondition {
    fn from(show_if: &q::ShowIf) -> Self {
        QuestionCondition {
            question_id: show_if.question.clone(),
            any_of: show_if.any_of.clone(),
        }
    }
}

#[derive(Debug, Object)]
pub struct ReviewView {
    pub submission: i32,
    pub outcome: crate::domain::assessments::AssessmentReviewVerdict,
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

pub struct AssessmentsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl AssessmentsApi {
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
        let after =
            crate::api::parse_cursor(cursor.0.as_deref(), &page, crate::store::Keyset::decode)?;
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
                    condition: question.show_if.as_ref().map(QuestionCondition::from),
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
    /// checked against its question's kind and N/A rule; a question whose condition does not hold (given the
    /// stored answers with this call's applied, so a question and the answer that asks it may come together) is not
    /// asked and cannot be answered. All answers of one call are stored, or none. `If-Match` (required) names the
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
}
