//! Incidents: reported by a vendor about its own service or by staff; their lifecycle, the notices the city
//! sent, the evidence kept as uploaded, the deadlines with their citations, and the notice packets. The rules
//! are the planner's (`crate::workflow::incidents`) and the deadlines the domain's (`crate::domain::incidents`).

use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::assessments::{checked_document, start_reassessment, vendor_scope};
use super::catalog::XlsxFile;
use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Admin, AnyRole, Auth, Permission, Principal, Role, Staff};
use crate::domain::incidents::{
    self as rules, DeadlineKind, DeadlineStatus, DeadlineTerms, EvidenceKind, IncidentStatus,
    Jurisdiction, NoticeEntity, NoticeRecipient, PacketSource,
};
use crate::domain::policy::{DataClass, Policy};
use crate::domain::{PageRequest, now};
use crate::error::{ApiError, FieldError};
use crate::store::{
    IncidentDetail, IncidentEvidenceRecord, IncidentFilter, IncidentScope, IncidentStep, NewNotice,
    Store, VendorScope,
};
use crate::workflow::incidents::{
    IncidentState, NewIncident, Reporter, ReviewTarget, allowed_actions, plan_reassessment,
};

/// Who may report an incident: a vendor (about its own service) and staff who hear of one.
pub struct IncidentReporter;
impl Permission for IncidentReporter {
    const ROLES: &'static [Role] = &[
        Role::Vendor,
        Role::Buyer,
        Role::SecurityAnalyst,
        Role::Cio,
        Role::Admin,
    ];
}

/// Who handles incidents: the security analysts, the CIO office and admins.
pub struct IncidentHandler;
impl Permission for IncidentHandler {
    const ROLES: &'static [Role] = &[Role::SecurityAnalyst, Role::Cio, Role::Admin];
}

/// Who attaches evidence: the vendor concerned and the handlers.
pub struct EvidenceUploader;
impl Permission for EvidenceUploader {
    const ROLES: &'static [Role] = &[Role::Vendor, Role::SecurityAnalyst, Role::Cio, Role::Admin];
}

/// What a caller sees of incidents and orders: a vendor those that name it, staff all (a buyer, for orders,
/// its department's).
pub fn incident_scope(p: &Principal) -> IncidentScope {
    match vendor_scope(p) {
        VendorScope::Vendor(v) => IncidentScope::Vendor(v),
        VendorScope::Invitation(grant) => IncidentScope::Invitation {
            vendor: grant.vendor,
            request: grant.request,
        },
        VendorScope::Department(d) => IncidentScope::Department(d),
        VendorScope::All => IncidentScope::All,
    }
}

/// An incident as reported.
#[derive(Debug, Object)]
pub struct IncidentBody {
    /// The vendor whose service is concerned; a vendor may leave it out (it is the vendor itself). Absent for a
    /// city system.
    pub vendor_id: Option<Uuid>,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: String,
    /// What happened.
    pub description: String,
    /// The systems concerned.
    #[oai(default)]
    pub systems: Vec<String>,
    /// Data classes involved (`pi_ma`, `pi_ct`, `cjis`, `health`, `cardholder`, `confidential`, `public`).
    #[oai(default)]
    pub data_classes: Vec<String>,
    /// Contracts with the vendor that cover the service.
    #[oai(default)]
    pub contract_ids: Vec<Uuid>,
    /// Purchase requests with the vendor that the incident concerns.
    #[oai(default)]
    pub request_ids: Vec<Uuid>,
    /// Massachusetts residents affected (0 if none or not known yet).
    #[oai(validator(minimum(value = "0")))]
    pub residents_ma: i64,
    /// Connecticut residents affected.
    #[oai(validator(minimum(value = "0")))]
    pub residents_ct: i64,
    /// Residents of other states affected.
    #[oai(default, validator(minimum(value = "0")))]
    pub residents_other: i64,
    /// Whether Social Security numbers were involved.
    pub ssn_involved: bool,
    /// Whether taxpayer identification numbers were involved.
    pub tin_involved: bool,
    /// When the breach was discovered.
    pub discovered_at: DateTime<Utc>,
    /// When the city learned of it (staff reports; default now). A vendor's report is the moment the city
    /// learns, so a vendor leaves it out.
    pub city_notified_at: Option<DateTime<Utc>>,
    /// Steps taken or planned (containment, updates to the security program).
    pub steps_taken: Option<String>,
    /// The person responsible for the breach, if known.
    #[oai(validator(max_length = 200))]
    pub responsible_person: Option<String>,
}

impl IncidentBody {
    fn parse(self, vendor_reports: bool, at: DateTime<Utc>) -> Result<NewIncident, ApiError> {
        let mut faults = Vec::new();
        let mut classes = Vec::new();
        for (i, name) in self.data_classes.iter().enumerate() {
            match DataClass::parse(name.trim()) {
                Some(class) => classes.push(class.as_str().to_string()),
                None => faults.push(FieldError::new(
                    format!("data_classes[{i}]"),
                    format!("{name:?} is not a data class"),
                )),
            }
        }
        if vendor_reports && self.city_notified_at.is_some() {
            faults.push(FieldError::new(
                "city_notified_at",
                "a vendor's report is when the city learns of the incident: leave it out",
            ));
        }
        if !faults.is_empty() {
            return Err(ApiError::validation(faults));
        }
        let blank_to_none =
            |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(NewIncident {
            vendor_id: self.vendor_id,
            title: self.title,
            description: self.description,
            systems: self
                .systems
                .into_iter()
                .map(|s| s.trim().to_string())
                .collect(),
            data_classes: classes,
            contract_ids: self.contract_ids,
            request_ids: self.request_ids,
            residents_ma: self.residents_ma,
            residents_ct: self.residents_ct,
            residents_other: self.residents_other,
            ssn_involved: self.ssn_involved,
            tin_involved: self.tin_involved,
            discovered_at: self.discovered_at,
            city_notified_at: self.city_notified_at.unwrap_or(at),
            steps_taken: blank_to_none(self.steps_taken),
            responsible_person: blank_to_none(self.responsible_person),
        })
    }
}

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
    pub uploaded_role: String,
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
    pub recipient: String,
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
    pub reporter_role: String,
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
    let status = detail.incident.status()?;
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

#[derive(Debug, Object)]
pub struct NoticeBody {
    pub recipient: NoticeRecipient,
    /// When the notice went out; not in the future.
    pub sent_at: DateTime<Utc>,
    /// How it went: `letter`, `e-mail`, `online form`, ...
    #[oai(validator(min_length = 1, max_length = 100))]
    pub method: String,
    /// The authority's confirmation or case number, if one.
    #[oai(validator(max_length = 200))]
    pub reference: Option<String>,
}

#[derive(Debug, Object)]
pub struct ReviewBody {
    /// What happened, why, and what changes (policies, the security program, the vendor) [201 CMR 17.03(2)(j)].
    pub findings: String,
    /// The vendor's assessment to raise `vendor_findings` on (needed when there are any).
    pub assessment_id: Option<Uuid>,
    /// Findings against the vendor, raised into the findings lifecycle (remediation, resolution, risk
    /// acceptance) with the citation 201 CMR 17.03(2)(j).
    #[oai(default)]
    pub vendor_findings: Vec<ReviewFindingBody>,
    /// Open the next cycle of the vendor's accepted assessment (`assessment_id`) at once, due in the policy's
    /// `questionnaire_due_days` [201 CMR 17.03(2)(i)].
    #[oai(default)]
    pub start_reassessment: bool,
}

#[derive(Debug, Object)]
pub struct ReviewFindingBody {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: String,
    /// `critical`, `moderate` or `low`.
    pub severity: String,
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct NotABreachBody {
    /// Why the incident was not a breach.
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct HoldBody {
    /// `true` sets the hold, `false` lifts it.
    pub hold: bool,
    pub reason: String,
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

async fn policy(store: &Store) -> Result<Policy, ApiError> {
    Ok(store.current_policy().await?.document.0)
}

async fn respond(store: &Store, detail: IncidentDetail) -> Result<IncidentResponse, ApiError> {
    let terms = DeadlineTerms::of(&policy(store).await?);
    let tag = etag(detail.incident.version);
    Ok(IncidentResponse::Ok(
        Json(view(detail, terms, rules::eastern_date(now()))?),
        tag,
    ))
}

fn packet_of(
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
            .filter(|n| n.recipient.starts_with(prefix))
            .map(|n| NoticeView {
                id: n.id,
                recipient: n.recipient.clone(),
                sent_at: n.sent_at,
                method: n.method.clone(),
                reference: n.reference.clone(),
                recorded_by: n.recorded_by.clone(),
                recorded_at: n.recorded_at,
            })
            .collect(),
    }
}

pub struct IncidentsApi;

impl IncidentsApi {
    async fn step(
        store: &Store,
        auth: &Auth<IncidentHandler>,
        id: Uuid,
        if_match: &IfMatch,
        step: IncidentStep,
    ) -> Result<IncidentResponse, ApiError> {
        let expected = if_match.version()?;
        let detail = store
            .step_incident(&auth.actor(), id, expected, step)
            .await?;
        respond(store, detail).await
    }

    async fn packet(
        store: &Store,
        id: Uuid,
        jurisdiction: Jurisdiction,
        reporter_name: Option<String>,
        reporter_title: Option<String>,
    ) -> Result<NoticePacket, ApiError> {
        let detail = store.get_incident(&IncidentScope::All, id).await?;
        let vendor_name = match detail.incident.vendor_id {
            Some(v) => store.get_vendor(v).await?.map(|v| v.legal_name),
            None => None,
        };
        let policy = policy(store).await?;
        Ok(packet_of(
            detail,
            jurisdiction,
            &policy,
            vendor_name,
            reporter_name,
            reporter_title,
        ))
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Incidents")]
impl IncidentsApi {
    /// List incidents
    ///
    /// Staff see every incident; a vendor those that name it (which include every one it reported); an
    /// invitation token those of its vendor that name its request. Newest discovery first.
    #[oai(path = "/incidents", method = "get", operation_id = "listIncidents")]
    async fn list(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        status: Query<Option<IncidentStatus>>,
        vendor_id: Query<Option<Uuid>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<i64>>,
        /// Items to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<IncidentPage>, ApiError> {
        let page = PageRequest::parse(limit.0, offset.0)?;
        let filter = IncidentFilter {
            status: status.0,
            vendor_id: vendor_id.0,
        };
        let found = store
            .list_incidents(&incident_scope(&auth), &filter, page)
            .await?;
        let info = PageInfo::new(found.total, page, found.items.len());
        let terms = DeadlineTerms::of(&policy(&store).await?);
        let today = rules::eastern_date(now());
        let items = found
            .items
            .into_iter()
            .map(|d| view(d, terms, today))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json(IncidentPage { items, page: info }))
    }

    /// Report an incident
    ///
    /// A vendor reports about its own service (its `vendor_id`, or none: the vendor itself); the moment it
    /// reports is when the city learns of the incident. Staff report what reaches them (a call to 311, an
    /// analyst's discovery) and say when the city learned of it. The answer carries the deadlines the incident
    /// sets, each a day with its rule and citation.
    #[oai(path = "/incidents", method = "post", operation_id = "reportIncident")]
    async fn report(
        &self,
        store: Data<&Store>,
        auth: Auth<IncidentReporter>,
        body: Json<IncidentBody>,
    ) -> Result<IncidentCreated, ApiError> {
        let at = now();
        let (reporter, invitation_request) = match (auth.role, auth.vendor) {
            (Role::Vendor, Some(v)) => {
                (Reporter::Vendor(v), auth.grant.as_ref().map(|g| g.request))
            }
            (Role::Vendor, None) => {
                return Err(ApiError::forbidden("the vendor token names no vendor"));
            }
            _ => (Reporter::Staff, None),
        };
        let mut new = body.0.parse(matches!(reporter, Reporter::Vendor(_)), at)?;
        if let Some(request) = invitation_request
            && !new.request_ids.contains(&request)
        {
            new.request_ids.push(request);
        }
        let created = store.report_incident(&auth.actor(), &reporter, new).await?;
        let location = format!("{}/incidents/{}", super::PREFIX, created.incident.id);
        let tag = etag(created.incident.version);
        let terms = DeadlineTerms::of(&policy(&store).await?);
        Ok(IncidentCreated::Created(
            Json(view(created, terms, rules::eastern_date(at))?),
            location,
            tag,
        ))
    }

    /// Read an incident
    ///
    /// With its deadlines as they stand today, the notices recorded, the evidence (names, hashes, who and
    /// when) and what may be done next.
    #[oai(path = "/incidents/:id", method = "get", operation_id = "getIncident")]
    async fn get(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
    ) -> Result<IncidentResponse, ApiError> {
        let detail = store.get_incident(&incident_scope(&auth), id.0).await?;
        respond(&store, detail).await
    }

    /// Triage an incident
    ///
    /// Analysts, the CIO office and admins: `reported` → `triaged`. `If-Match` (required).
    #[oai(
        path = "/incidents/:id/triage",
        method = "post",
        operation_id = "triageIncident"
    )]
    async fn triage(
        &self,
        store: Data<&Store>,
        auth: Auth<IncidentHandler>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<IncidentResponse, ApiError> {
        Self::step(&store, &auth, id.0, &if_match, IncidentStep::Triage).await
    }

    /// Record containment
    ///
    /// `triaged` → `contained`. `If-Match` (required).
    #[oai(
        path = "/incidents/:id/contain",
        method = "post",
        operation_id = "containIncident"
    )]
    async fn contain(
        &self,
        store: Data<&Store>,
        auth: Auth<IncidentHandler>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<IncidentResponse, ApiError> {
        Self::step(&store, &auth, id.0, &if_match, IncidentStep::Contain).await
    }

    /// Record a notice sent
    ///
    /// When and how the city told an authority or the residents. Only a notice one of the incident's deadlines
    /// needs is taken (422 otherwise). A contained incident whose every required notice is recorded moves to
    /// `notices_sent`. `If-Match` (required).
    #[oai(
        path = "/incidents/:id/notices",
        method = "post",
        operation_id = "recordIncidentNotice"
    )]
    async fn notice(
        &self,
        store: Data<&Store>,
        auth: Auth<IncidentHandler>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<NoticeBody>,
    ) -> Result<IncidentResponse, ApiError> {
        let expected = if_match.version()?;
        let b = body.0;
        let notice = NewNotice {
            recipient: b.recipient,
            sent_at: b.sent_at,
            method: b.method,
            reference: b.reference.filter(|r| !r.trim().is_empty()),
        };
        let detail = store
            .record_incident_notice(&auth.actor(), id.0, expected, notice)
            .await?;
        respond(&store, detail).await
    }

    /// Write the post-incident review
    ///
    /// Required before a breach is closed [201 CMR 17.03(2)(j)], after every required notice (or at once after
    /// containment when none is required). It may raise findings against the vendor on one of its assessments
    /// (`assessment_id`, `vendor_findings`: they follow the findings lifecycle) and start the vendor's
    /// re-assessment (`start_reassessment`, on an accepted assessment). `If-Match` (required).
    #[oai(
        path = "/incidents/:id/review",
        method = "post",
        operation_id = "reviewIncident"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn review(
        &self,
        store: Data<&Store>,
        templates: Data<&std::sync::Arc<crate::templates::Templates>>,
        auth: Auth<IncidentHandler>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<ReviewBody>,
    ) -> Result<IncidentResponse, ApiError> {
        let b = body.0;
        // The re-assessment is checked before the review is written, and opened once it is.
        let reassess = if b.start_reassessment {
            let incident = store.get_incident(&IncidentScope::All, id.0).await?;
            let assessment = match b.assessment_id {
                Some(a) => Some(store.get_assessment(&VendorScope::All, a).await?),
                None => None,
            };
            let target = assessment.as_ref().map(|a| ReviewTarget {
                vendor_id: a.vendor_id,
                status: a.status,
            });
            plan_reassessment(incident.incident.vendor_id, target.as_ref())?;
            assessment
        } else {
            None
        };
        let step = IncidentStep::Review {
            findings: b.findings,
            assessment_id: b.assessment_id,
            vendor_findings: b
                .vendor_findings
                .into_iter()
                .map(|f| crate::workflow::incidents::ReviewFinding {
                    title: f.title,
                    severity: f.severity.trim().to_string(),
                    reason: f.reason,
                })
                .collect(),
        };
        let reviewed = Self::step(&store, &auth, id.0, &if_match, step).await?;
        if let Some(assessment) = reassess {
            let version = assessment.version;
            let note = format!(
                "re-assessment after the post-incident review of incident {}",
                id.0
            );
            start_reassessment(
                &store,
                &templates,
                &auth.actor(),
                assessment,
                version,
                None,
                Some(note),
            )
            .await?;
        }
        Ok(reviewed)
    }

    /// Close an incident
    ///
    /// After its post-incident review only (409 `review_required` before). `If-Match` (required).
    #[oai(
        path = "/incidents/:id/close",
        method = "post",
        operation_id = "closeIncident"
    )]
    async fn close(
        &self,
        store: Data<&Store>,
        auth: Auth<IncidentHandler>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
    ) -> Result<IncidentResponse, ApiError> {
        Self::step(&store, &auth, id.0, &if_match, IncidentStep::Close).await
    }

    /// Close as not a breach
    ///
    /// Before any notice goes out (reported, triaged or contained), with the reason. `If-Match` (required).
    #[oai(
        path = "/incidents/:id/not-a-breach",
        method = "post",
        operation_id = "closeIncidentNotBreach"
    )]
    async fn not_a_breach(
        &self,
        store: Data<&Store>,
        auth: Auth<IncidentHandler>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<NotABreachBody>,
    ) -> Result<IncidentResponse, ApiError> {
        let step = IncidentStep::NotABreach {
            reason: body.0.reason,
        };
        Self::step(&store, &auth, id.0, &if_match, step).await
    }

    /// Set or lift a hold on the evidence
    ///
    /// A hold keeps every file of the incident, even once it is closed, until lifted (with the reason either
    /// way). `If-Match` (required).
    #[oai(
        path = "/incidents/:id/hold",
        method = "post",
        operation_id = "holdIncident"
    )]
    async fn hold(
        &self,
        store: Data<&Store>,
        auth: Auth<IncidentHandler>,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Json<HoldBody>,
    ) -> Result<IncidentResponse, ApiError> {
        let expected = if_match.version()?;
        let detail = store
            .hold_incident(&auth.actor(), id.0, expected, body.0.hold, &body.0.reason)
            .await?;
        respond(&store, detail).await
    }

    /// Attach evidence
    ///
    /// The vendor concerned, analysts, the CIO office and admins, while the incident is open: a PDF, PNG, JPEG,
    /// office document or text file, judged by its bytes, kept as uploaded with its SHA-256, who and when. A
    /// file is never replaced (an upload of the same name is kept beside the earlier one). `kind` =
    /// `law_enforcement_determination` records the written determination that allows the Massachusetts notices
    /// to wait [c.93H §4]. `If-Match` (required).
    #[oai(
        path = "/incidents/:id/evidence",
        method = "post",
        operation_id = "attachIncidentEvidence"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn attach(
        &self,
        store: Data<&Store>,
        auth: Auth<EvidenceUploader>,
        id: Path<Uuid>,
        /// The file's name.
        filename: Query<String>,
        /// `evidence` (default), `law_enforcement_determination` or `notice_copy`.
        kind: Query<Option<EvidenceKind>>,
        #[oai(name = "Content-Type")] content_type: Header<String>,
        #[oai(name = "If-Match")] if_match: Header<IfMatch>,
        body: Binary<Vec<u8>>,
    ) -> Result<IncidentEvidenceCreated, ApiError> {
        let expected = if_match.version()?;
        let (file_name, sniffed) =
            checked_document(&filename.0, &content_type.0, &body.0, "evidence")?;
        let (detail, stored) = store
            .attach_incident_evidence(
                &auth.actor(),
                &incident_scope(&auth),
                id.0,
                expected,
                kind.0.unwrap_or(EvidenceKind::Evidence),
                &file_name,
                sniffed,
                &body.0,
            )
            .await?;
        Ok(IncidentEvidenceCreated::Created(
            Json(stored.into()),
            etag(detail.incident.version),
        ))
    }

    /// Download evidence
    ///
    /// As for reading the incident. Every download is written to the audit trail (who, when, which file and
    /// its hash): the chain of custody.
    #[oai(
        path = "/incidents/:id/evidence/:evidence_id",
        method = "get",
        operation_id = "downloadIncidentEvidence"
    )]
    async fn download(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        id: Path<Uuid>,
        evidence_id: Path<Uuid>,
    ) -> Result<IncidentEvidenceDownload, ApiError> {
        let (meta, data) = store
            .read_incident_evidence(&auth.actor(), &incident_scope(&auth), id.0, evidence_id.0)
            .await?;
        Ok(IncidentEvidenceDownload::Ok(
            Binary(data),
            super::attachment(&meta.file_name),
            meta.content_type,
            meta.sha256,
        ))
    }

    /// Delete evidence
    ///
    /// Admins, once the incident is closed and no hold stands; until then 409 (`evidence_preserved`,
    /// `evidence_on_hold`). The audit trail keeps the file's name and hash.
    #[oai(
        path = "/incidents/:id/evidence/:evidence_id",
        method = "delete",
        operation_id = "deleteIncidentEvidence"
    )]
    async fn delete_evidence(
        &self,
        store: Data<&Store>,
        auth: Auth<Admin>,
        id: Path<Uuid>,
        evidence_id: Path<Uuid>,
    ) -> Result<Deleted, ApiError> {
        store
            .delete_incident_evidence(&auth.actor(), id.0, evidence_id.0)
            .await?;
        Ok(Deleted::NoContent)
    }

    /// Notice packet (JSON)
    ///
    /// Staff: the fields the authority's breach notice asks for, filled from the incident — for
    /// Massachusetts those c.93H §3 lists for the Attorney General and OCABR, for Connecticut the same for its
    /// Attorney General — with the keys still empty and the notices recorded so far.
    #[oai(
        path = "/incidents/:id/notice-packet",
        method = "get",
        operation_id = "getNoticePacket"
    )]
    async fn notice_packet(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        id: Path<Uuid>,
        jurisdiction: Query<Jurisdiction>,
        /// Who signs the notice for the city.
        #[oai(validator(max_length = 200))]
        reporter_name: Query<Option<String>>,
        #[oai(validator(max_length = 200))] reporter_title: Query<Option<String>>,
    ) -> Result<Json<NoticePacket>, ApiError> {
        Ok(Json(
            Self::packet(
                &store,
                id.0,
                jurisdiction.0,
                reporter_name.0,
                reporter_title.0,
            )
            .await?,
        ))
    }

    /// Notice packet (workbook)
    ///
    /// The same packet as an xlsx: one row per field.
    #[oai(
        path = "/incidents/:id/notice-packet.xlsx",
        method = "get",
        operation_id = "getNoticePacketWorkbook"
    )]
    async fn notice_packet_xlsx(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        id: Path<Uuid>,
        jurisdiction: Query<Jurisdiction>,
        #[oai(validator(max_length = 200))] reporter_name: Query<Option<String>>,
        #[oai(validator(max_length = 200))] reporter_title: Query<Option<String>>,
    ) -> Result<XlsxFile, ApiError> {
        use crate::sheets::registers::{Cell, col, write};
        let packet = Self::packet(
            &store,
            id.0,
            jurisdiction.0,
            reporter_name.0,
            reporter_title.0,
        )
        .await?;
        let columns = [col("Field", 50.0), col("Value", 80.0), col("Key", 24.0)];
        let rows: Vec<Vec<Cell>> = packet
            .fields
            .into_iter()
            .map(|f| vec![Cell::Text(f.label), Cell::Text(f.value), Cell::Text(f.key)])
            .collect();
        let bytes = super::blocking(move || write("Notice packet", &columns, &rows)).await?;
        let name = match jurisdiction.0 {
            Jurisdiction::Ma => format!("notice-packet-ma-{}.xlsx", id.0),
            Jurisdiction::Ct => format!("notice-packet-ct-{}.xlsx", id.0),
        };
        Ok(XlsxFile::Ok(Binary(bytes), super::attachment(&name)))
    }
}
