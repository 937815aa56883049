//! The analyst's review of a submitted assessment (accepted, raising findings, or returned with comments), and
//! the start of its next review cycle.

use crate::domain::problems::ProblemCode;
use std::sync::Arc;

use chrono::NaiveDate;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::{Analyst, finding_view, matches_read, parsed_answers, template_of, view};
use crate::api::me::ApiTags;
use crate::api::{IfMatch, etag};
use crate::auth::Auth;
use crate::domain::assessments::{AssessmentView, FindingView};
use crate::domain::questionnaires::{self as q, Template};
use crate::error::{ApiError, FieldError};
use crate::store::{AssessmentRecord, NewCycle, NewFinding, ReviewComment, Store, VendorScope};
use crate::templates::Templates;
use crate::workflow::assessments as workflow;

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
        crate::domain::assessments::CarryOver,
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
                ProblemCode::TemplateNotLoaded,
                format!("the questionnaire {} is no longer loaded", a.template_id),
            )
        })?
        .clone();
    let stored = store.answers(a.id).await?;
    let carry = crate::domain::assessments::carry_over(
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

pub struct ReviewsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Questionnaires")]
impl ReviewsApi {
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
                    severity: f.severity,
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
}
