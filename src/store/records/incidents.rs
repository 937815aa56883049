//! Incidents, their evidence and notices, and remediation orders, as the store returns them; the scope that
//! bounds what a caller sees of them, their filters, and the steps and changes the store records.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

/// Which incidents and orders a caller may see. Out-of-scope objects answer 404, like missing ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentScope {
    /// City staff: every incident; for orders, every order.
    All,
    /// A vendor: the incidents that name it (which include all it reported) and the orders against it.
    Vendor(Uuid),
    /// A vendor's invitation token: the vendor's incidents that name the invitation's request.
    Invitation { vendor: Uuid, request: Uuid },
    /// A buyer, for orders: the orders against its department (incidents: all, as for staff).
    Department(String),
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IncidentRecord {
    pub id: Uuid,
    pub vendor_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub systems: Json<Vec<String>>,
    pub data_classes: Json<Vec<String>>,
    pub contract_ids: Json<Vec<Uuid>>,
    pub request_ids: Json<Vec<Uuid>>,
    pub residents_ma: i64,
    pub residents_ct: i64,
    pub residents_other: i64,
    pub ssn_involved: bool,
    pub tin_involved: bool,
    pub discovered_at: DateTime<Utc>,
    pub city_notified_at: DateTime<Utc>,
    pub steps_taken: Option<String>,
    pub responsible_person: Option<String>,
    pub status: crate::domain::incidents::IncidentStatus,
    pub not_breach_reason: Option<String>,
    pub review_findings: Option<String>,
    pub review_finding_ids: Json<Vec<Uuid>>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub hold: bool,
    pub hold_reason: Option<String>,
    pub reported_by: String,
    pub reporter_role: crate::domain::roles::Role,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IncidentEvidenceRecord {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub kind: crate::domain::incidents::EvidenceKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_role: crate::domain::roles::Role,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IncidentNoticeRecord {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub recipient: crate::domain::incidents::NoticeRecipient,
    pub sent_at: DateTime<Utc>,
    pub method: String,
    pub reference: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// An incident with its evidence (without the bytes) and the notices recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IncidentDetail {
    pub incident: IncidentRecord,
    pub evidence: Vec<IncidentEvidenceRecord>,
    pub notices: Vec<IncidentNoticeRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<crate::domain::incidents::IncidentStatus>,
    pub vendor_id: Option<Uuid>,
}

/// A step of an incident's lifecycle, with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentStep {
    Triage,
    Contain,
    Review {
        findings: String,
        /// The vendor's assessment the review raises findings on.
        assessment_id: Option<Uuid>,
        vendor_findings: Vec<crate::workflow::incidents::ReviewFinding>,
    },
    Close,
    NotABreach {
        reason: String,
    },
}

/// A notice the city sent about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub recipient: crate::domain::incidents::NoticeRecipient,
    pub sent_at: DateTime<Utc>,
    pub method: String,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct OrderRecord {
    pub id: Uuid,
    pub vendor_id: Option<Uuid>,
    pub department_code: Option<String>,
    pub incident_id: Option<Uuid>,
    pub finding_ids: Json<Vec<Uuid>>,
    pub actions: Json<Vec<String>>,
    pub due_date: chrono::NaiveDate,
    pub status: crate::domain::orders::OrderStatus,
    pub status_before_appeal: Option<crate::domain::orders::OrderStatus>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub completion_note: Option<String>,
    pub completion_evidence: Option<String>,
    pub completed_by: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub reopen_reason: Option<String>,
    pub appeal_grounds: Option<String>,
    pub appealed_by: Option<String>,
    pub appealed_at: Option<DateTime<Utc>>,
    pub appeal_outcome: Option<crate::domain::orders::AppealOutcome>,
    pub appeal_reason: Option<String>,
    pub appeal_decided_by: Option<String>,
    pub appeal_decided_at: Option<DateTime<Utc>>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<crate::domain::orders::OrderStatus>,
    pub vendor_id: Option<Uuid>,
    pub incident_id: Option<Uuid>,
}

/// A change of a remediation order, with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderChange {
    Acknowledge,
    Completion {
        note: String,
        evidence: String,
    },
    Verify,
    Reopen {
        reason: String,
    },
    Appeal {
        grounds: String,
    },
    DecideAppeal {
        outcome: crate::domain::orders::AppealOutcome,
        reason: String,
    },
}

impl IncidentRecord {
    /// What the deadlines read of the incident.
    pub fn facts(&self) -> crate::domain::incidents::IncidentFacts {
        crate::domain::incidents::IncidentFacts {
            discovered_at: self.discovered_at,
            city_notified_at: self.city_notified_at,
            vendor_concerned: self.vendor_id.is_some(),
            residents_ma: self.residents_ma,
            residents_ct: self.residents_ct,
            ssn_involved: self.ssn_involved,
            tin_involved: self.tin_involved,
        }
    }
}

impl IncidentDetail {
    /// The notices recorded, by recipient and time sent. Every notice counts: a stored recipient the service does
    /// not know fails the read that loads it, naming the value (`store::types`), rather than being left out here.
    pub fn sent(&self) -> Vec<(crate::domain::incidents::NoticeRecipient, DateTime<Utc>)> {
        self.notices
            .iter()
            .map(|n| (n.recipient, n.sent_at))
            .collect()
    }

    /// Whether a written law-enforcement determination is on file [c.93H §4].
    pub fn law_enforcement_delay(&self) -> bool {
        self.evidence
            .iter()
            .any(|e| e.kind == crate::domain::incidents::EvidenceKind::LawEnforcementDetermination)
    }
}

impl IncidentScope {
    pub fn admits(&self, incident: &IncidentRecord) -> bool {
        match self {
            IncidentScope::All | IncidentScope::Department(_) => true,
            IncidentScope::Vendor(v) => incident.vendor_id == Some(*v),
            IncidentScope::Invitation { vendor, request } => {
                incident.vendor_id == Some(*vendor) && incident.request_ids.0.contains(request)
            }
        }
    }

    pub fn admits_order(&self, order: &OrderRecord) -> bool {
        match self {
            IncidentScope::All => true,
            IncidentScope::Vendor(v) => order.vendor_id == Some(*v),
            IncidentScope::Invitation { .. } => false,
            IncidentScope::Department(d) => order.department_code.as_deref() == Some(d),
        }
    }
}
