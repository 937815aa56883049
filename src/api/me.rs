use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

use crate::auth::{AnyRole, Auth, role_names};
use crate::error::ApiError;

#[derive(Tags)]
pub enum ApiTags {
    /// The caller's identity.
    Identity,
    /// Departments and vendors.
    Registry,
    /// Procurement requests, their review routes and decisions.
    Requests,
    /// The routing policy and its versions.
    Policy,
    /// The catalogue of centrally managed services.
    Catalog,
    /// Questionnaire templates, vendor assessments, evidence, reviews and findings.
    Questionnaires,
    /// Registers as xlsx.
    Reports,
    /// The hash-chained audit trail.
    Audit,
    /// Contract safeguards, contracts and their lifecycle.
    Contracts,
    /// Incidents, breach-notice deadlines, evidence and remediation orders.
    Incidents,
    /// Reminders and their webhook deliveries.
    Notifications,
    /// The City Technology Plan and department technology budgets (EO 2025 Art. 1-2).
    Budgets,
    /// Surveillance technologies, their use policies and annual reports (Boston 16-63).
    Surveillance,
}

/// Who the token says the caller is.
#[derive(Debug, Object)]
pub struct Me {
    pub subject: String,
    pub name: Option<String>,
    /// Every role of this service the token carries.
    pub roles: Vec<String>,
    /// Department code, for buyers.
    pub department: Option<String>,
    /// Vendor id, for vendors.
    pub vendor: Option<Uuid>,
    /// For a vendor invitation token: what it reaches.
    pub invitation: Option<InvitationReach>,
}

/// What an invitation token reaches.
#[derive(Debug, Object)]
pub struct InvitationReach {
    pub invitation_id: Uuid,
    pub request_id: Uuid,
    /// The assessments of the request it names; empty when it reaches all of them.
    pub assessment_ids: Vec<Uuid>,
    /// Who issued it.
    pub invited_by: String,
}

pub struct MeApi;

#[OpenApi(prefix_path = "/api/v1")]
impl MeApi {
    /// Who am I
    ///
    /// Returns the identity and roles that the bearer token carries. Any role.
    #[oai(
        path = "/me",
        method = "get",
        operation_id = "getMe",
        tag = "ApiTags::Identity"
    )]
    async fn me(&self, auth: Auth<AnyRole>) -> Result<Json<Me>, ApiError> {
        let p = &auth.principal;
        Ok(Json(Me {
            subject: p.subject.clone(),
            name: p.name.clone(),
            roles: role_names(&p.roles),
            department: p.department.clone(),
            vendor: p.vendor,
            invitation: p.grant.as_ref().map(|g| InvitationReach {
                invitation_id: g.id,
                request_id: g.request,
                assessment_ids: g.assessments.clone(),
                invited_by: g.invited_by.clone(),
            }),
        }))
    }
}
