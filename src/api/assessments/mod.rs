//! Questionnaire templates, assessments (a vendor's answers), evidence, the analyst's review, and findings: one
//! module and one API per resource. This module holds what several of them share: the roles that act on
//! assessments, the vendor scope, the views of an assessment, its evidence and a finding, and the reading of
//! stored answers against their template.

mod answers;
mod evidence;
mod findings;
mod questionnaires;
mod reviews;

pub use answers::AssessmentsApi;
pub use evidence::EvidenceApi;
pub(crate) use evidence::checked_document;
pub use findings::FindingsApi;
pub use questionnaires::QuestionnairesApi;
pub use reviews::ReviewsApi;
pub(crate) use reviews::start_reassessment;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use super::etag;
use crate::auth::{Permission, Principal, Role};
use crate::domain::assessments::{AssessmentView, FindingView};
use crate::domain::questionnaires::{self as q, Answer, Template};
use crate::error::ApiError;
use crate::store::{
    AnswerRecord, AssessmentRecord, EvidenceRecord, FindingRecord, Store, VendorScope,
};
use crate::templates::Templates;

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
                VendorScope::Invitation(crate::domain::invitations::InvitationGrant {
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

/// A change is checked against the assessment as this handler read it (its answers, their applicability, its
/// score): the caller's `If-Match` must name that version, and the store checks it again under its lock.
pub(super) fn matches_read(a: &AssessmentRecord, expected: i64) -> Result<(), ApiError> {
    if a.version == expected {
        Ok(())
    } else {
        Err(ApiError::stale(&etag(a.version)))
    }
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
