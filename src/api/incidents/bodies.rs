//! The bodies the incident operations take: a report, a notice sent, the review, and the answers that close an
//! incident as not a breach or set a hold.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use crate::domain::incidents::NoticeRecipient;
use crate::domain::policy::DataClass;
use crate::error::{ApiError, FieldError};
use crate::workflow::incidents::NewIncident;

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
    pub(super) fn parse(
        self,
        vendor_reports: bool,
        at: DateTime<Utc>,
    ) -> Result<NewIncident, ApiError> {
        let mut faults = Vec::new();
        let mut classes = Vec::new();
        for (i, name) in self.data_classes.iter().enumerate() {
            match DataClass::try_from(name.trim()) {
                Ok(class) => classes.push(class.as_str().to_string()),
                Err(_) => faults.push(FieldError::new(
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
