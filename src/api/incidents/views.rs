//! What the incident operations answer: an incident with its deadlines as they stand, its evidence and notices,
//! a page of incidents, a notice packet filled from an incident, and the operations' responses.

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object};
use uuid::Uuid;

use crate::api::PageInfo;
use crate::domain::incidents::{
    self as rules, DeadlineKind, DeadlineStatus, DeadlineTerms, EvidenceKind, IncidentStatus,
    Jurisdiction, NoticeEntity, NoticeRecipient, PacketSource,
};
use crate::domain::policy::Policy;
use crate::domain::roles::Role;
use crate::error::ApiError;
use crate::store::{IncidentDetail, IncidentEvidenceRecord};
use crate::workflow::incidents::{IncidentState, allowed_actions};

/// A notice deadline, with where it stands today.
#[derive(Debug, Object)]
pub struct DeadlineView {
    /// `vendor_notice`, `ma_regulators`, `ma_residents`, `ma_credit_monitoring`, `ct_residents`,
    /// `ct_attorney_general`, `ct_identity_protection`.
    pub id: String,
    pub who: String,
    /// The last day, in Boston's calendar.
    pub due_on: NaiveDate,
    /// The exact limit, for a limit in hours.
    pub due_at: Option<DateTime<Utc>>,
    /// `statute` (a day the law sets), `contract` (the vendor's clause) or `escalation` (no day in law: the city
    /// escalates then).
    pub kind: DeadlineKind,
    pub rule: String,
    pub citation: String,
    pub status: DeadlineStatus,
    pub met_at: Option<DateTime<Utc>>,
    /// The notices that meet it.
    pub met_by: Vec<NoticeRecipient>,
}

#[derive(Debug, Object)]
pub struct IncidentEvidenceView {
    pub id: Uuid,
    pub kind: EvidenceKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the bytes as uploaded.
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_role: Role,
    pub uploaded_at: DateTime<Utc>,
}

impl From<IncidentEvidenceRecord> for IncidentEvidenceView {
    fn from(e: IncidentEvidenceRecord) -> Self {
        IncidentEvidenceView {
            kind: e.kind,
            id: e.id,
            file_name: e.file_name,
            content_type: e.content_type,
            size_bytes: e.size_bytes,
            sha256: e.sha256,
            uploaded_by: e.uploaded_by,
            uploaded_role: e.uploaded_role,
            uploaded_at: e.uploaded_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct NoticeView {
    pub id: Uuid,
    pub recipient: NoticeRecipient,
    pub sent_at: DateTime<Utc>,
    pub method: String,
    pub reference: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct IncidentReviewView {
    pub findings: String,
    /// Findings the review raised against the vendor (see `/findings/{id}`).
    pub finding_ids: Vec<Uuid>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct IncidentView {
    pub id: Uuid,
    pub vendor_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub systems: Vec<String>,
    pub data_classes: Vec<String>,
    pub contract_ids: Vec<Uuid>,
    pub request_ids: Vec<Uuid>,
    pub residents_ma: i64,
    pub residents_ct: i64,
    pub residents_other: i64,
    pub ssn_involved: bool,
    pub tin_involved: bool,
    pub discovered_at: DateTime<Utc>,
    pub city_notified_at: DateTime<Utc>,
    pub steps_taken: Option<String>,
    pub responsible_person: Option<String>,
    pub status: IncidentStatus,
    pub not_breach_reason: Option<String>,
    /// The post-incident review [201 CMR 17.03(2)(j)].
    pub review: Option<IncidentReviewView>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// A hold keeps the evidence even once the incident is closed.
    pub hold: bool,
    pub hold_reason: Option<String>,
    /// A written law-enforcement determination is on file: the Massachusetts notices may wait [c.93H §4].
    pub law_enforcement_delay: bool,
    /// Every notice the incident requires, each a day with its rule and citation.
    pub deadlines: Vec<DeadlineView>,
    /// The notices its deadlines need before the review.
    pub notices_required: Vec<NoticeRecipient>,
    pub notices: Vec<NoticeView>,
    pub evidence: Vec<IncidentEvidenceView>,
    /// What may be done next (`triage`, `contain`, `record_notice`, `review`, `close`, `not_a_breach`,
    /// `attach_evidence`).
    pub allowed_actions: Vec<String>,
    pub reported_by: String,
    pub reporter_role: Role,
    /// The ETag is `"<version>"`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The incident with its deadlines as they stand on `today`, under the policy's numbers.
pub fn view(
    detail: IncidentDetail,
    terms: DeadlineTerms,
    today: NaiveDate,
) -> Result<IncidentView, ApiError> {
    let facts = detail.incident.facts();
    let deadlines = rules::incident_deadlines(&facts, terms);
    let sent = detail.sent();
    let delay = detail.law_enforcement_delay();
    let status = detail.incident.status;
    let required = rules::required_notices(&deadlines);
    let state = IncidentState {
        status,
        hold: detail.incident.hold,
        required: required.clone(),
        sent: sent.iter().map(|(r, _)| *r).collect(),
    };
    let i = detail.incident;
    let review = match (i.review_findings, i.reviewed_by, i.reviewed_at) {
        (Some(findings), Some(reviewed_by), Some(reviewed_at)) => Some(IncidentReviewView {
            findings,
            finding_ids: i.review_finding_ids.0.clone(),
            reviewed_by,
            reviewed_at,
        }),
        _ => None,
    };
    Ok(IncidentView {
        deadlines: deadlines
            .iter()
            .map(|d| {
                let s = rules::deadline_state(d, &sent, i.city_notified_at, delay, today);
                DeadlineView {
                    id: s.deadline.id,
                    who: s.deadline.who,
                    due_on: s.deadline.due_on,
                    due_at: s.deadline.due_at,
                    kind: s.deadline.kind,
                    rule: s.deadline.rule,
                    citation: s.deadline.citation,
                    status: s.status,
                    met_at: s.met_at,
                    met_by: s.deadline.met_by,
                }
            })
            .collect(),
        notices_required: required.into_iter().collect(),
        allowed_actions: allowed_actions(&state)
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        law_enforcement_delay: delay,
        notices: detail
            .notices
            .into_iter()
            .map(|n| NoticeView {
                id: n.id,
                recipient: n.recipient,
                sent_at: n.sent_at,
                method: n.method,
                reference: n.reference,
                recorded_by: n.recorded_by,
                recorded_at: n.recorded_at,
            })
            .collect(),
        evidence: detail
            .evidence
            .into_iter()
            .map(IncidentEvidenceView::from)
            .collect(),
        review,
        status,
        id: i.id,
        vendor_id: i.vendor_id,
        title: i.title,
        description: i.description,
        systems: i.systems.0,
        data_classes: i.data_classes.0,
        contract_ids: i.contract_ids.0,
        request_ids: i.request_ids.0,
        residents_ma: i.residents_ma,
        residents_ct: i.residents_ct,
        residents_other: i.residents_other,
        ssn_involved: i.ssn_involved,
        tin_involved: i.tin_involved,
        discovered_at: i.discovered_at,
        city_notified_at: i.city_notified_at,
        steps_taken: i.steps_taken,
        responsible_person: i.responsible_person,
        not_breach_reason: i.not_breach_reason,
        closed_by: i.closed_by,
        closed_at: i.closed_at,
        hold: i.hold,
        hold_reason: i.hold_reason,
        reported_by: i.reported_by,
        reporter_role: i.reporter_role,
        version: i.version,
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

#[derive(Debug, Object)]
pub struct IncidentPage {
    pub items: Vec<IncidentView>,
    pub page: PageInfo,
}

/// One field of a notice packet.
#[derive(Debug, Object)]
pub struct PacketFieldView {
    pub key: String,
    pub label: String,
    /// Empty when the incident does not say yet.
    pub value: String,
}

/// The facts an authority's breach notice asks for, filled from the incident.
#[derive(Debug, Object)]
pub struct NoticePacket {
    pub incident_id: Uuid,
    pub jurisdiction: Jurisdiction,
    /// Who the packet is for.
    pub recipients: Vec<NoticeRecipient>,
    pub citation: String,
    pub fields: Vec<PacketFieldView>,
    /// Keys of the fields still empty.
    pub missing: Vec<String>,
    /// The notices of this jurisdiction recorded so far.
    pub notices: Vec<NoticeView>,
}

#[derive(ApiResponse)]
pub enum IncidentResponse {
    #[oai(status = 200)]
    Ok(Json<IncidentView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum IncidentCreated {
    /// The incident was recorded.
    #[oai(status = 201)]
    Created(
        Json<IncidentView>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(ApiResponse)]
pub enum IncidentEvidenceCreated {
    /// The file is kept as uploaded; the `ETag` is the incident's next version.
    #[oai(status = 201)]
    Created(Json<IncidentEvidenceView>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum IncidentEvidenceDownload {
    #[oai(status = 200, content_type = "application/octet-stream")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
        #[oai(header = "X-Content-Type")] String,
        #[oai(header = "Digest-SHA256")] String,
    ),
}

#[derive(ApiResponse)]
pub enum Deleted {
    /// Deleted; the audit trail keeps what it was.
    #[oai(status = 204)]
    NoContent,
}

pub(super) fn packet_of(
    detail: IncidentDetail,
    jurisdiction: Jurisdiction,
    policy: &Policy,
    vendor_name: Option<String>,
    reporter_name: Option<String>,
    reporter_title: Option<String>,
) -> NoticePacket {
    let (recipients, citation) = match jurisdiction {
        Jurisdiction::Ma => (
            vec![NoticeRecipient::MaAttorneyGeneral, NoticeRecipient::MaOcabr],
            "c.93H §3",
        ),
        Jurisdiction::Ct => (vec![NoticeRecipient::CtAttorneyGeneral], "CGS 36a-701b"),
    };
    let i = &detail.incident;
    let source = PacketSource {
        title: i.title.clone(),
        description: i.description.clone(),
        discovered_at: i.discovered_at,
        residents_ma: i.residents_ma,
        residents_ct: i.residents_ct,
        residents_other: i.residents_other,
        data_classes: i.data_classes.0.clone(),
        ssn_involved: i.ssn_involved,
        tin_involved: i.tin_involved,
        steps_taken: i.steps_taken.clone(),
        responsible_person: i.responsible_person.clone(),
        vendor_name,
        reporter_name,
        reporter_title,
        wisp_maintained: true,
    };
    let entity = NoticeEntity {
        name: policy.notice_entity_name.clone(),
        address: policy.notice_entity_address.clone(),
        entity_type: policy.notice_entity_type.clone(),
    };
    let fields = rules::notice_packet(jurisdiction, &source, &entity);
    let prefix = match jurisdiction {
        Jurisdiction::Ma => "ma_",
        Jurisdiction::Ct => "ct_",
    };
    NoticePacket {
        incident_id: i.id,
        jurisdiction,
        recipients,
        citation: citation.to_string(),
        missing: fields
            .iter()
            .filter(|f| f.value.trim().is_empty())
            .map(|f| f.key.to_string())
            .collect(),
        fields: fields
            .into_iter()
            .map(|f| PacketFieldView {
                key: f.key.to_string(),
                label: f.label.to_string(),
                value: f.value,
            })
            .collect(),
        notices: detail
            .notices
            .iter()
            .filter(|n| n.recipient.as_str().starts_with(prefix))
            .map(|n| NoticeView {
                id: n.id,
                recipient: n.recipient,
                sent_at: n.sent_at,
                method: n.method.clone(),
                reference: n.reference.clone(),
                recorded_by: n.recorded_by.clone(),
                recorded_at: n.recorded_at,
            })
            .collect(),
    }
}
