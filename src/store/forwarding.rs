//! The `Store` methods that only pass their arguments to the backend's repository: each is written once, as its
//! signature, and `forward!` (defined in `mod.rs`, before this module) writes the body (and a debug span) for both
//! backends.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::config::Secret;
use crate::domain::PageRequest;
use crate::domain::assessments::{AssessmentStatus, FindingChange, ScoreView};
use crate::domain::audit::{AuditRecord, CheckpointSummary, VerifyReport};
use crate::domain::catalog::{CatalogService, CatalogServiceInput, ServiceFields};
use crate::domain::contracts::{Cancellation, ChecklistEntry, ContractFields, Decommission};
use crate::domain::duplicate_learning::AliasProposalStatus;
use crate::domain::registry::{
    Department, DepartmentPatchBody, NewDepartment, NewVendor, Vendor, VendorPatch,
};
use crate::domain::requests::RequestFields;
use crate::domain::route::{CheckedDecision, Decision};
use crate::domain::safeguards::ClauseStatus;
use crate::domain::webhooks::{DeliveryChannel, DeliveryStatus};
use crate::error::ApiError;
use crate::workflow::Caller;

forward! {
    pub async fn ping(&self) -> Result<(), ApiError>;

    /// Seeds what a new installation needs (the ordinance bodies) and returns the instance's HS256 secret,
    /// generating and keeping one on first run.
    pub async fn bootstrap(&self) -> Result<Secret, ApiError>;

    pub async fn list_departments(
        &self,
        filter: &DepartmentFilter,
        page: PageRequest,
    ) -> Result<Paged<Department>, ApiError>;

    pub async fn get_department(&self, id: Uuid) -> Result<Option<Department>, ApiError>;

    pub async fn create_department(&self, actor: &Actor, new: NewDepartment) -> Result<Department, ApiError>;

    pub async fn update_department(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: DepartmentPatchBody,
    ) -> Result<Department, ApiError>;

    pub async fn list_vendors(&self, filter: &VendorFilter, page: PageRequest) -> Result<Paged<Vendor>, ApiError>;

    pub async fn get_vendor(&self, id: Uuid) -> Result<Option<Vendor>, ApiError>;

    pub async fn create_vendor(&self, actor: &Actor, new: NewVendor) -> Result<Vendor, ApiError>;

    pub async fn update_vendor(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        patch: VendorPatch,
    ) -> Result<Vendor, ApiError>;

    pub async fn current_policy(&self) -> Result<PolicyRecord, ApiError>;

    pub async fn get_policy(&self, version: i32) -> Result<Option<PolicyRecord>, ApiError>;

    pub async fn list_policies(&self, page: PageRequest) -> Result<Paged<PolicyRecord>, ApiError>;

    pub async fn create_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        fields: RequestFields,
    ) -> Result<RequestRecord, ApiError>;

    pub async fn get_request(&self, scope: &Scope, id: Uuid) -> Result<RequestRecord, ApiError>;

    pub async fn list_requests(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<RequestSummary>, Option<Keyset>), ApiError>;

    /// The requests register's rows, newest first, at most `limit`, each given to `each` as one streamed
    /// statement reads it; returns how many.
    pub async fn each_request_register_row(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        limit: i64,
        each: &mut EachRow<'_, RequestRegisterRow>,
    ) -> Result<u64, ApiError>;

    #[allow(clippy::too_many_arguments)]
    pub async fn update_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        next: RequestFields,
        detection: Option<Detection>,
    ) -> Result<RequestRecord, ApiError>;

    /// A page of requests, each with what deciding a caller's actions reads of it.
    pub async fn list_request_standings(
        &self,
        scope: &Scope,
        filter: &RequestFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<crate::store::StandingPage, ApiError>;

    /// A request's row without its route, and what deciding a caller's actions reads of it.
    pub async fn request_standing(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestSummary, crate::workflow::requests::Standing), ApiError>;

    /// A request with what the planners read of it.
    pub async fn request_state(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestRecord, crate::workflow::requests::RequestState), ApiError>;

    pub async fn submit_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        detection: Detection,
    ) -> Result<RequestRecord, ApiError>;

    /// The plan submitting the request now would carry out, with nothing written.
    pub async fn preview_submission(
        &self,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        detection: Detection,
    ) -> Result<crate::workflow::requests::Plan, ApiError>;

    pub async fn withdraw_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError>;

    pub async fn reroute_request(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError>;

    pub async fn route_steps(&self, request: &RequestRecord) -> Result<Vec<StepRecord>, ApiError>;

    pub async fn decide(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        decision: CheckedDecision,
        lex: &crate::domain::duplicates::Lexicon,
    ) -> Result<(Decision, RequestRecord), ApiError>;

    pub async fn list_decisions(&self, request_id: Uuid) -> Result<Vec<Decision>, ApiError>;

    pub async fn list_versions(&self, request_id: Uuid) -> Result<Vec<VersionRecord>, ApiError>;

    pub async fn list_services(
        &self,
        filter: &CatalogFilter,
        page: PageRequest,
    ) -> Result<Paged<CatalogService>, ApiError>;

    pub async fn all_services(&self) -> Result<Vec<CatalogService>, ApiError>;

    pub async fn get_service(&self, id: Uuid) -> Result<Option<CatalogService>, ApiError>;

    pub async fn list_alias_proposals(
        &self,
        status: Option<AliasProposalStatus>,
        service_id: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Paged<AliasProposalRecord>, ApiError>;

    pub async fn get_alias_proposal(&self, id: Uuid) -> Result<Option<AliasProposalRecord>, ApiError>;

    /// Accepts the proposal when `reason` is `None`, rejects it with the reason otherwise.
    pub async fn decide_alias_proposal(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        reason: Option<&str>,
    ) -> Result<AliasProposalRecord, ApiError>;

    pub async fn create_login_link(&self, actor: &Actor, new: NewLoginLink) -> Result<LoginLinkRecord, ApiError>;

    pub async fn redeem_login_link(&self, code_hash: &str, session: NewSession) -> Result<SessionRecord, ApiError>;

    pub async fn open_session(&self, actor: &Actor, session: NewSession) -> Result<SessionRecord, ApiError>;

    pub async fn start_oidc_attempt(
        &self,
        actor: &Actor,
        new: NewOidcAttempt,
    ) -> Result<OidcAttemptRecord, ApiError>;

    pub async fn take_oidc_attempt(
        &self,
        state_hash: &str,
        browser_hash: Option<&str>,
    ) -> Result<OidcAttemptRecord, ApiError>;

    pub async fn open_identified_session(
        &self,
        actor: &Actor,
        session: NewSession,
        person: Option<IdentityPerson>,
    ) -> Result<SessionRecord, ApiError>;

    pub async fn identity_people(&self) -> Result<Vec<IdentityPerson>, ApiError>;

    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>, ApiError>;

    /// Ends a session; returns the ID token that was kept with it (cleared in the same transaction).
    pub async fn revoke_session(&self, actor: &Actor, id: Uuid) -> Result<Option<Secret>, ApiError>;

    pub async fn list_profiles(&self) -> Result<Vec<ImportProfileRecord>, ApiError>;

    pub async fn get_profile(&self, name: &str) -> Result<Option<ImportProfileRecord>, ApiError>;

    pub async fn create_profile(
        &self,
        actor: &Actor,
        name: &str,
        mapping: &crate::domain::crosswalk::Mapping,
    ) -> Result<ImportProfileRecord, ApiError>;

    pub async fn update_profile(
        &self,
        actor: &Actor,
        current_name: &str,
        if_match: i64,
        name: &str,
        mapping: &crate::domain::crosswalk::Mapping,
    ) -> Result<ImportProfileRecord, ApiError>;

    pub async fn delete_profile(&self, actor: &Actor, name: &str, if_match: i64) -> Result<(), ApiError>;

    pub async fn create_service(&self, actor: &Actor, fields: ServiceFields) -> Result<CatalogService, ApiError>;

    pub async fn update_service(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        input: CatalogServiceInput,
    ) -> Result<CatalogService, ApiError>;

    pub async fn load_services(
        &self,
        actor: &Actor,
        entries: Vec<ServiceFields>,
    ) -> Result<(usize, usize), ApiError>;

    pub async fn services_changed_since(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<CatalogService>, ApiError>;

    /// The duplicate index's change counter: it moves with every change to what the index reads.
    pub async fn duplicate_index_counter(&self) -> Result<i64, ApiError>;

    /// A page of the approved purchases after the id `after`, in id order.
    pub async fn approved_purchases_after(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<PurchaseRecord>, ApiError>;

    /// The id and last change of each request changed after `since`.
    pub async fn purchase_stamps_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(Uuid, chrono::DateTime<chrono::Utc>)>, ApiError>;

    /// The requests `ids` as the duplicate index reads them.
    pub async fn purchases_by_id(&self, ids: &[Uuid]) -> Result<Vec<PurchaseRecord>, ApiError>;

    pub async fn request_duplicates(&self, id: Uuid, submission: i32) -> Result<Vec<DuplicateRecord>, ApiError>;

    pub async fn vocabulary(&self) -> Result<Vec<VocabularyRecord>, ApiError>;

    pub async fn add_vocabulary(
        &self,
        actor: &Actor,
        entry: &crate::domain::duplicates::VocabularyEntry,
    ) -> Result<VocabularyRecord, ApiError>;

    pub async fn remove_vocabulary(&self, actor: &Actor, id: Uuid) -> Result<bool, ApiError>;

    pub async fn dismissals(&self, id: Uuid) -> Result<Vec<DismissalRecord>, ApiError>;

    pub async fn prior_dismissals(
        &self,
        department: &str,
        request_id: Uuid,
    ) -> Result<Vec<crate::domain::duplicate_learning::PriorDismissal>, ApiError>;

    pub async fn exceptions(&self, id: Uuid) -> Result<Vec<ExceptionRecord>, ApiError>;

    #[allow(clippy::too_many_arguments)]
    pub async fn dismiss_duplicate(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        candidate_kind: crate::domain::duplicates::CandidateKind,
        candidate_id: &str,
        reason: &str,
        if_match: i64,
    ) -> Result<RequestRecord, ApiError>;

    pub async fn request_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        justification: &str,
    ) -> Result<ExceptionRecord, ApiError>;

    pub async fn decide_exception(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        grant: bool,
        reason: &str,
    ) -> Result<(ExceptionRecord, RequestRecord), ApiError>;

    #[allow(clippy::too_many_arguments)]
    pub async fn attach_council_document(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        kind: &str,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<crate::domain::council::CouncilDocument, ApiError>;

    pub async fn council_documents(
        &self,
        id: Uuid,
    ) -> Result<Vec<crate::domain::council::CouncilDocument>, ApiError>;

    pub async fn council_document_file(
        &self,
        id: Uuid,
        document_id: Uuid,
    ) -> Result<Option<(crate::domain::council::CouncilDocument, Vec<u8>)>, ApiError>;

    pub async fn council_votes(&self, id: Uuid) -> Result<Vec<crate::domain::council::CouncilVote>, ApiError>;

    pub async fn record_council_vote(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        vote: crate::workflow::council::VoteInput,
        today: NaiveDate,
    ) -> Result<(crate::domain::council::CouncilVote, RequestRecord), ApiError>;

    pub async fn register_template(
        &self,
        template_id: &str,
        version: &str,
        file_name: &str,
        source: &str,
    ) -> Result<(), ApiError>;

    pub async fn template_source(
        &self,
        template_id: &str,
        version: &str,
    ) -> Result<Option<(String, String)>, ApiError>;

    /// Makes an invitation for a request (or named assessments of it), checked against the request by
    /// [`crate::workflow::assessments::plan_invitation`].
    pub async fn create_invitation(&self, actor: &Actor, new: NewInvitation) -> Result<InvitationRecord, ApiError>;

    /// A vendor's invitations, newest first (with `department`, only those of that department's requests); 404
    /// for a vendor that does not exist.
    pub async fn list_invitations(
        &self,
        vendor_id: Uuid,
        department: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<InvitationRecord>, ApiError>;

    /// Revokes an invitation of the vendor's; with `department` (a buyer), only one issued for a request of that
    /// department (any other answers 404).
    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        vendor_id: Uuid,
        id: Uuid,
        department: Option<&str>,
    ) -> Result<InvitationRecord, ApiError>;

    /// An invitation as stored, revoked or not.
    pub async fn invitation(&self, id: Uuid) -> Result<Option<InvitationRecord>, ApiError>;

    /// The secret the database keeps for locally minted tokens, when the configuration names none.
    pub async fn kept_secret(&self) -> Result<Option<crate::config::Secret>, ApiError>;

    /// What an invitation token reaches, if the invitation is still active (not revoked, not expired) and was
    /// issued for a request.
    pub async fn invitation_grant(
        &self,
        id: Uuid,
    ) -> Result<Option<crate::domain::invitations::InvitationGrant>, ApiError>;

    /// Cancels the request's assessments not yet accepted and revokes its invitations, in a transaction of its
    /// own. Withdrawing, denying and closing a request do the same inside their own transaction (the store's
    /// `close_for_request`); this is for tests and tools that close the work alone.
    pub async fn close_request_work(
        &self,
        actor: &Actor,
        request_id: Uuid,
        reason: &str,
    ) -> Result<ClosedWork, ApiError>;

    pub async fn create_product(
        &self,
        actor: &Actor,
        caller: &Caller,
        product: NewProduct,
    ) -> Result<ProductRecord, ApiError>;

    pub async fn get_product(&self, vendor: Option<Uuid>, id: Uuid) -> Result<ProductDetail, ApiError>;

    pub async fn list_products(
        &self,
        vendor: Option<Uuid>,
        q: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<ProductDetail>, ApiError>;

    pub async fn confirm_reuse(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        questionnaire: &str,
    ) -> Result<RequestRecord, ApiError>;

    pub async fn list_assessments(
        &self,
        scope: &VendorScope,
        request_id: Option<Uuid>,
        vendor_id: Option<Uuid>,
        status: Option<AssessmentStatus>,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<AssessmentRecord>, Option<Keyset>), ApiError>;

    pub async fn get_assessment(&self, scope: &VendorScope, id: Uuid) -> Result<AssessmentRecord, ApiError>;

    pub async fn answers(&self, assessment_id: Uuid) -> Result<Vec<AnswerRecord>, ApiError>;

    pub async fn save_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        entries: Vec<AnswerEntry>,
    ) -> Result<AssessmentRecord, ApiError>;

    #[allow(clippy::too_many_arguments)]
    pub async fn import_answers(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        entries: Vec<AnswerEntry>,
        file_name: &str,
        content_type: &str,
        original: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError>;

    pub async fn submit_assessment(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        expected_version: i64,
        answers: serde_json::Value,
        score: ScoreView,
    ) -> Result<AssessmentRecord, ApiError>;

    pub async fn review_assessment(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        accept: bool,
        comments: Vec<ReviewComment>,
        findings: Vec<NewFinding>,
    ) -> Result<(AssessmentRecord, Vec<FindingRecord>), ApiError>;

    pub async fn start_cycle(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: Option<i64>,
        cycle: NewCycle,
    ) -> Result<AssessmentRecord, ApiError>;

    pub async fn reviews(&self, assessment_id: Uuid) -> Result<Vec<ReviewRecord>, ApiError>;

    #[allow(clippy::too_many_arguments)]
    pub async fn store_evidence(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        assessment_id: Uuid,
        expected_version: i64,
        question_id: Option<&str>,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(AssessmentRecord, EvidenceRecord), ApiError>;

    pub async fn list_evidence(&self, assessment_id: Uuid) -> Result<Vec<EvidenceRecord>, ApiError>;

    pub async fn evidence_file(
        &self,
        assessment_id: Uuid,
        evidence_id: Uuid,
    ) -> Result<Option<(EvidenceRecord, Vec<u8>)>, ApiError>;

    pub async fn list_findings(
        &self,
        scope: &VendorScope,
        filter: &FindingFilter,
        page: PageRequest,
        after: Option<&Keyset>,
    ) -> Result<(Paged<FindingRecord>, Option<Keyset>), ApiError>;

    /// The findings register's rows, oldest first, at most `limit`, each given to `each` as one streamed
    /// statement reads it; returns how many.
    pub async fn each_finding_register_row(
        &self,
        scope: &VendorScope,
        filter: &FindingFilter,
        limit: i64,
        each: &mut EachRow<'_, FindingRecord>,
    ) -> Result<u64, ApiError>;

    pub async fn get_finding(&self, scope: &VendorScope, id: Uuid) -> Result<FindingRecord, ApiError>;

    pub async fn change_finding(
        &self,
        actor: &Actor,
        scope: &VendorScope,
        id: Uuid,
        if_match: Option<i64>,
        change: FindingChange,
    ) -> Result<FindingRecord, ApiError>;

    pub async fn safeguards(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(RequestRecord, Vec<ChecklistEntry>, Vec<SafeguardRecord>), ApiError>;

    pub async fn record_safeguards(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        changes: Vec<(String, ClauseStatus)>,
    ) -> Result<(RequestRecord, Vec<ChecklistEntry>, Vec<SafeguardRecord>), ApiError>;

    pub async fn list_contracts(
        &self,
        filter: &ContractFilter,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Paged<ContractDetail>, ApiError>;

    pub async fn get_contract(&self, id: Uuid) -> Result<ContractDetail, ApiError>;

    pub async fn create_contract(&self, actor: &Actor, fields: ContractFields) -> Result<ContractDetail, ApiError>;

    pub async fn update_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        fields: ContractFields,
    ) -> Result<ContractDetail, ApiError>;

    pub async fn decommission_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        decommission: Decommission,
    ) -> Result<ContractDetail, ApiError>;

    pub async fn cancel_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        cancellation: Cancellation,
    ) -> Result<ContractDetail, ApiError>;

    pub async fn list_incidents(
        &self,
        scope: &IncidentScope,
        filter: &IncidentFilter,
        page: PageRequest,
    ) -> Result<Paged<IncidentDetail>, ApiError>;

    pub async fn get_incident(&self, scope: &IncidentScope, id: Uuid) -> Result<IncidentDetail, ApiError>;

    /// Records a report, checked by [`crate::workflow::incidents::plan_report`].
    pub async fn report_incident(
        &self,
        actor: &Actor,
        reporter: &crate::workflow::incidents::Reporter,
        new: crate::workflow::incidents::NewIncident,
    ) -> Result<IncidentDetail, ApiError>;

    pub async fn step_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        step: IncidentStep,
    ) -> Result<IncidentDetail, ApiError>;

    pub async fn record_incident_notice(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        notice: NewNotice,
    ) -> Result<IncidentDetail, ApiError>;

    pub async fn hold_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        if_match: i64,
        hold: bool,
        reason: &str,
    ) -> Result<IncidentDetail, ApiError>;

    #[allow(clippy::too_many_arguments)]
    pub async fn attach_incident_evidence(
        &self,
        actor: &Actor,
        role: crate::domain::roles::Role,
        scope: &IncidentScope,
        id: Uuid,
        if_match: i64,
        kind: crate::domain::incidents::EvidenceKind,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<(IncidentDetail, IncidentEvidenceRecord), ApiError>;

    /// A file of an incident; the read is written to the audit trail (chain of custody).
    pub async fn read_incident_evidence(
        &self,
        actor: &Actor,
        scope: &IncidentScope,
        id: Uuid,
        evidence_id: Uuid,
    ) -> Result<(IncidentEvidenceRecord, Vec<u8>), ApiError>;

    pub async fn delete_incident_evidence(
        &self,
        actor: &Actor,
        id: Uuid,
        evidence_id: Uuid,
    ) -> Result<(), ApiError>;

    pub async fn open_incidents(&self) -> Result<Vec<IncidentDetail>, ApiError>;

    pub async fn list_orders(
        &self,
        scope: &IncidentScope,
        filter: &OrderFilter,
        page: PageRequest,
    ) -> Result<Paged<OrderRecord>, ApiError>;

    pub async fn get_order(&self, scope: &IncidentScope, id: Uuid) -> Result<OrderRecord, ApiError>;

    pub async fn issue_order(
        &self,
        actor: &Actor,
        new: crate::workflow::orders::NewOrder,
    ) -> Result<OrderRecord, ApiError>;

    pub async fn change_order(
        &self,
        actor: &Actor,
        scope: &IncidentScope,
        id: Uuid,
        if_match: i64,
        change: OrderChange,
        appeal_days: u32,
    ) -> Result<OrderRecord, ApiError>;

    /// Open orders: id, vendor, department, due date, status.
    pub async fn open_orders(&self) -> Result<Vec<OpenOrder>, ApiError>;

    pub async fn reassessment_schedule(
        &self,
        months: u32,
        only: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, NaiveDate>, ApiError>;

    pub async fn reminder_sources(&self, today: NaiveDate) -> Result<ReminderSources, ApiError>;

    pub async fn insert_notifications(
        &self,
        items: Vec<NewNotification>,
        at: DateTime<Utc>,
    ) -> Result<Vec<NotificationRecord>, ApiError>;

    /// Fans new notifications (events and reminders) out to the outbox; returns how many.
    pub async fn fan_out(&self, to: &FanOut<'_>, at: DateTime<Utc>) -> Result<usize, ApiError>;

    pub async fn claim_deliveries(
        &self,
        channel: DeliveryChannel,
        runner: &str,
        at: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, ApiError>;

    pub async fn finish_delivery(
        &self,
        id: Uuid,
        runner: &str,
        outcome: DeliveryOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, ApiError>;

    pub async fn list_notifications(
        &self,
        audience: &NotificationAudience,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<(Paged<NotificationRecord>, i64), ApiError>;

    /// Notifications addressed to `audience`, and how many of them its reader has not marked read.
    pub async fn notification_counts(&self, audience: &NotificationAudience) -> Result<(i64, i64), ApiError>;

    pub async fn mark_notifications_read(
        &self,
        actor: &Actor,
        audience: &NotificationAudience,
        id: Option<Uuid>,
    ) -> Result<Vec<Uuid>, ApiError>;

    pub async fn list_deliveries(
        &self,
        status: Option<DeliveryStatus>,
        channel: Option<DeliveryChannel>,
        page: PageRequest,
    ) -> Result<Paged<DeliveryRecord>, ApiError>;

    pub async fn retry_delivery(&self, actor: &Actor, id: Uuid) -> Result<DeliveryRecord, ApiError>;

    pub async fn list_plan_items(&self, page: PageRequest) -> Result<Paged<PlanItemRecord>, ApiError>;

    pub async fn get_plan_item(&self, id: Uuid) -> Result<PlanItemRecord, ApiError>;

    pub async fn create_plan_item(
        &self,
        actor: &Actor,
        caller: &Caller,
        fields: crate::domain::budgets::PlanItemFields,
    ) -> Result<PlanItemRecord, ApiError>;

    pub async fn update_plan_item(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        fields: crate::domain::budgets::PlanItemFields,
    ) -> Result<PlanItemRecord, ApiError>;

    pub async fn load_plan_items(
        &self,
        actor: &Actor,
        caller: &Caller,
        rows: Vec<crate::store::PlanItemLoad>,
    ) -> Result<(usize, usize), ApiError>;

    pub async fn all_plan_items(&self) -> Result<Vec<PlanItemRecord>, ApiError>;

    pub async fn list_budgets(
        &self,
        scope: &Scope,
        filter: &BudgetFilter,
        page: PageRequest,
    ) -> Result<Paged<BudgetDetail>, ApiError>;

    pub async fn get_budget(&self, scope: &Scope, id: Uuid) -> Result<BudgetDetail, ApiError>;

    pub async fn create_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        fiscal_year: i32,
        lines: Vec<crate::domain::budgets::LineFields>,
    ) -> Result<BudgetDetail, ApiError>;

    pub async fn replace_budget_lines(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
        lines: Vec<crate::domain::budgets::LineFields>,
    ) -> Result<BudgetDetail, ApiError>;

    pub async fn submit_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        scope: &Scope,
        id: Uuid,
        if_match: i64,
    ) -> Result<BudgetDetail, ApiError>;

    #[allow(clippy::too_many_arguments)]
    pub async fn review_budget(
        &self,
        actor: &Actor,
        caller: &Caller,
        acting: crate::auth::Role,
        id: Uuid,
        if_match: i64,
        review: crate::workflow::budgets::Review,
    ) -> Result<BudgetDetail, ApiError>;

    pub async fn surveillance_register(&self) -> Result<Vec<TechnologyRecord>, ApiError>;

    pub async fn surveillance_reports(
        &self,
        year: Option<i32>,
        request_id: Option<Uuid>,
    ) -> Result<Vec<SurveillanceReportRecord>, ApiError>;

    pub async fn get_surveillance_report(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<SurveillanceReportRecord, ApiError>;

    pub async fn create_surveillance_report(
        &self,
        actor: &Actor,
        caller: &Caller,
        request_id: Uuid,
        year: i32,
        fields: crate::workflow::surveillance::ReportFields,
    ) -> Result<SurveillanceReportRecord, ApiError>;

    pub async fn update_surveillance_report(
        &self,
        actor: &Actor,
        caller: &Caller,
        id: Uuid,
        if_match: i64,
        fields: crate::workflow::surveillance::ReportFields,
    ) -> Result<SurveillanceReportRecord, ApiError>;

    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
        after: Option<SeqCursor>,
    ) -> Result<(Paged<AuditRecord>, Option<SeqCursor>), ApiError>;

    /// Incremental: the records after the last checkpoint (`GET /audit/verify`).
    pub async fn verify_audit(&self, actor: &str) -> Result<VerifyReport, ApiError>;

    pub async fn audit_checkpoint(&self, number: i64) -> Result<Option<CheckpointSummary>, ApiError>;

    /// Every record and checkpoint (`procurement-review audit verify`); `progress` hears (done, to do).
    pub async fn verify_audit_full(
        &self,
        actor: &str,
        progress: &mut (dyn FnMut(i64, i64) + Send),
    ) -> Result<VerifyReport, ApiError>;
}
