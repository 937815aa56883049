//! Incidents: reported by a vendor about its own service or by staff; their lifecycle, the notices the city
//! sent, the evidence kept as uploaded, the deadlines with their citations, and the notice packets. The rules
//! are the planner's (`crate::workflow::incidents`) and the deadlines the domain's (`crate::domain::incidents`).

mod bodies;
mod views;

pub use bodies::*;
pub use views::*;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use uuid::Uuid;

use super::assessments::{checked_document, start_reassessment, vendor_scope};
use super::catalog::XlsxFile;
use super::me::ApiTags;
use super::{IfMatch, PageInfo, etag};
use crate::auth::{Admin, AnyRole, Auth, Permission, Principal, Role, Staff};
use crate::domain::incidents::{
    self as rules, DeadlineTerms, EvidenceKind, IncidentStatus, Jurisdiction,
};
use crate::domain::policy::Policy;
use crate::domain::{PageRequest, now};
use crate::error::ApiError;
use crate::store::{
    IncidentDetail, IncidentFilter, IncidentScope, IncidentStep, NewNotice, Store, VendorScope,
};
use crate::workflow::incidents::{Reporter, ReviewTarget, plan_reassessment};

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
            (role, _) => (Reporter::Staff(role), None),
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
                    severity: f.severity,
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
                auth.role,
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
        use crate::sheets::reports::{Cell, col, write};
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
        Ok(XlsxFile::Ok(Binary(bytes.into()), super::attachment(&name)))
    }
}
