//! Registers as xlsx, filtered like the list endpoints and scoped like them.

use std::collections::HashMap;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::Query;
use poem_openapi::payload::Binary;
use uuid::Uuid;

use super::assessments::vendor_scope;
use super::catalog::XlsxFile;
use super::contracts::ContractView;
use super::incidents::incident_scope;
use super::me::ApiTags;
use super::requests::scope_of;
use crate::auth::{AnyRole, Auth, Staff};
use crate::domain::PageRequest;
use crate::domain::assessments::FindingStatus;
use crate::domain::contracts::ContractStatus;
use crate::domain::incidents::{DeadlineStatus, DeadlineTerms, IncidentStatus, eastern_date};
use crate::domain::orders::OrderStatus;
use crate::domain::questionnaires::Severity;
use crate::domain::requests::Status;
use crate::error::ApiError;
use crate::sheets::reports::{Cell, Column, Register, col};
use crate::store::{
    ContractFilter, FindingFilter, IncidentFilter, OrderFilter, Paged, RequestFilter, Store,
    VendorFilter,
};

/// A register gathered whole before it is written (all but the requests and findings registers, which stream up
/// to Excel's own limit) is one download, not a page; this bounds its size (and the register says so past it).
const MAX_ROWS: i64 = 100_000;

/// Reads every page of a list.
async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Paged<T>, ApiError>>,
{
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = PageRequest {
            limit: PageRequest::MAX_LIMIT,
            offset,
        };
        let got = fetch(page).await?;
        let n = got.items.len() as i64;
        out.extend(got.items);
        offset += n;
        // Past the register's bound by at least one row, so that the register can say rows were left out.
        if n < PageRequest::MAX_LIMIT || offset >= got.total || offset > MAX_ROWS {
            return Ok(out);
        }
    }
}

/// A register of rows gathered whole: at most [`MAX_ROWS`] of them, and past that the row after the last says
/// that rows were left out.
fn gathered(sheet_name: &str, columns: &[Column], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ApiError> {
    let limit = u32::try_from(MAX_ROWS).unwrap_or(u32::MAX);
    let mut register = Register::new(sheet_name, columns)?.with_limit(limit);
    for row in rows {
        register.push(row)?;
    }
    register.finish()
}

/// How many rows a streamed register reads: one past what it holds, so that it can say when rows were left out.
fn beyond(register: &Register) -> i64 {
    i64::from(register.limit()) + 1
}

/// A register finished into a temporary file and sent from it: the workbook is never held in memory whole.
async fn streamed(register: Register, name: &str) -> Result<XlsxFile, ApiError> {
    let finished = super::blocking(move || register.finish_to_file()).await?;
    Ok(XlsxFile::Ok(
        Binary(poem::Body::from_async_read(tokio::fs::File::from_std(
            finished,
        ))),
        format!("attachment; filename=\"{name}\""),
    ))
}

fn file(bytes: Vec<u8>, name: &str) -> XlsxFile {
    XlsxFile::Ok(
        Binary(bytes.into()),
        format!("attachment; filename=\"{name}\""),
    )
}

async fn vendor_names(store: &Store) -> Result<HashMap<Uuid, String>, ApiError> {
    let filter = VendorFilter::default();
    let vendors = all_pages(|p| store.list_vendors(&filter, p)).await?;
    Ok(vendors.into_iter().map(|v| (v.id, v.legal_name)).collect())
}

pub struct ReportsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Reports")]
impl ReportsApi {
    /// Register of requests
    ///
    /// Filters and scope as `GET /requests`: buyers get their department's. Newest first, every matching request
    /// up to 1,048,574 rows (Excel's sheet); past that, the row after the last says that rows were left out.
    #[oai(
        path = "/reports/requests.xlsx",
        method = "get",
        operation_id = "reportRequests"
    )]
    async fn requests(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        status: Query<Option<Status>>,
        department: Query<Option<String>>,
        vendor_id: Query<Option<Uuid>>,
        q: Query<Option<String>>,
    ) -> Result<XlsxFile, ApiError> {
        let filter = RequestFilter {
            status: status.0,
            department: department
                .0
                .map(|d| d.trim().to_ascii_uppercase())
                .filter(|d| !d.is_empty()),
            vendor_id: vendor_id.0,
            awaiting_kinds: None,
            awaiting_subject_key: None,
            q: q.0.filter(|s| !s.trim().is_empty()),
        };
        let scope = scope_of(&auth);
        let columns = [
            col("Title", 36.0),
            col("Department", 12.0),
            col("Vendor", 28.0),
            col("Product", 22.0),
            col("Status", 18.0),
            col("Version", 9.0),
            col("Capital cost", 15.0),
            col("Annual operating cost", 15.0),
            col("Term (months)", 10.0),
            col("Total contract value", 17.0),
            col("Fiscal year", 10.0),
            col("Data classes", 22.0),
            col("Surveillance", 12.0),
            col("Requested start", 14.0),
            col("Submitted by", 18.0),
            col("Updated", 17.0),
        ];
        // One streamed statement, each row written as it comes (constant-memory mode): a consistent snapshot,
        // and only one row held at a time however long the register is.
        let mut register = Register::new("Requests", &columns)?;
        store
            .each_request_register_row(&scope, &filter, beyond(&register), &mut |r| {
                let f = &r.fields.0;
                register.push(&[
                    Cell::Text(r.title),
                    Cell::Text(r.department_code),
                    Cell::Text(r.vendor_name.unwrap_or_default()),
                    Cell::Text(f.product_name.clone()),
                    Cell::Text(r.status.as_str().to_string()),
                    Cell::Number(r.submission as f64),
                    Cell::Money(f.capital_cost_cents),
                    Cell::Money(f.annual_operating_cost_cents),
                    Cell::Number(f.term_months as f64),
                    Cell::Money(r.total_contract_value_cents),
                    Cell::Text(format!("FY{}", r.fiscal_year)),
                    Cell::Text(
                        f.data_classes
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    Cell::Bool(f.surveillance),
                    Cell::Date(f.requested_start_date),
                    Cell::Text(r.submitted_by.unwrap_or_default()),
                    Cell::Time(r.updated_at),
                ])
            })
            .await?;
        streamed(register, "requests.xlsx").await
    }

    /// Register of vendors
    #[oai(
        path = "/reports/vendors.xlsx",
        method = "get",
        operation_id = "reportVendors"
    )]
    async fn vendors(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        q: Query<Option<String>>,
        hq_country: Query<Option<String>>,
    ) -> Result<XlsxFile, ApiError> {
        let filter = VendorFilter {
            q: q.0.filter(|s| !s.trim().is_empty()),
            hq_country: hq_country.0.filter(|s| !s.trim().is_empty()),
        };
        let vendors = all_pages(|p| store.list_vendors(&filter, p)).await?;
        let columns = [
            col("Legal name", 34.0),
            col("Website", 30.0),
            col("HQ country", 10.0),
            col("Contacts", 50.0),
            col("Registered", 17.0),
            col("Updated", 17.0),
        ];
        let cells: Vec<Vec<Cell>> = vendors
            .iter()
            .map(|v| {
                vec![
                    Cell::Text(v.legal_name.clone()),
                    Cell::Text(v.website.clone().unwrap_or_default()),
                    Cell::Text(v.hq_country.clone()),
                    Cell::Text(
                        v.contacts
                            .iter()
                            .map(|c| format!("{} <{}>", c.name, c.email))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    Cell::Time(v.created_at),
                    Cell::Time(v.updated_at),
                ]
            })
            .collect();
        let bytes = super::blocking(move || gathered("Vendors", &columns, &cells)).await?;
        Ok(file(bytes, "vendors.xlsx"))
    }

    /// Register of findings
    ///
    /// Scoped and filtered as `GET /findings`: a vendor gets its own. Oldest first, every matching finding up to
    /// 1,048,574 rows (Excel's sheet); past that, the row after the last says that rows were left out.
    #[oai(
        path = "/reports/findings.xlsx",
        method = "get",
        operation_id = "reportFindings"
    )]
    async fn findings(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        request_id: Query<Option<Uuid>>,
        status: Query<Option<FindingStatus>>,
        severity: Query<Option<Severity>>,
    ) -> Result<XlsxFile, ApiError> {
        let filter = FindingFilter {
            request_id: request_id.0,
            assessment_id: None,
            status: status.0.map(|s| s.as_str().to_string()),
            severity: severity.0.map(|s| s.as_str().to_string()),
        };
        let scope = vendor_scope(&auth);
        let columns = [
            col("Severity", 10.0),
            col("Status", 18.0),
            col("Question", 10.0),
            col("Finding", 48.0),
            col("Reason", 26.0),
            col("Citation", 22.0),
            col("Remediation plan", 36.0),
            col("Remediation due", 14.0),
            col("Risk accepted until", 14.0),
            col("Raised", 17.0),
        ];
        // Streamed and finished into a temporary file, as the requests register is.
        let mut register = Register::new("Findings", &columns)?;
        store
            .each_finding_register_row(&scope, &filter, beyond(&register), &mut |f| {
                register.push(&[
                    Cell::Text(f.severity.as_str().into()),
                    Cell::Text(f.status.as_str().into()),
                    Cell::Text(f.question_id),
                    Cell::Text(f.title),
                    Cell::Text(f.reason),
                    Cell::Text(f.citation.unwrap_or_default()),
                    Cell::Text(f.remediation_plan.unwrap_or_default()),
                    f.remediation_due.map(Cell::Date).unwrap_or(Cell::Empty),
                    f.risk_expires_on.map(Cell::Date).unwrap_or(Cell::Empty),
                    Cell::Time(f.created_at),
                ])
            })
            .await?;
        streamed(register, "findings.xlsx").await
    }

    /// Register of contracts
    ///
    /// Staff roles; filters as `GET /contracts`. One row per contract with today's status (`pending`, `active`,
    /// `expiring`, `ended`, `decommissioned`, `cancelled`), and how and when a closed contract was closed.
    #[oai(
        path = "/reports/contracts.xlsx",
        method = "get",
        operation_id = "reportContracts"
    )]
    async fn contracts(
        &self,
        store: Data<&Store>,
        _auth: Auth<Staff>,
        status: Query<Option<ContractStatus>>,
        vendor_id: Query<Option<Uuid>>,
        request_id: Query<Option<Uuid>>,
    ) -> Result<XlsxFile, ApiError> {
        let filter = ContractFilter {
            vendor_id: vendor_id.0,
            status: status.0,
            request_id: request_id.0,
        };
        let today = crate::domain::now().date_naive();
        let contracts = all_pages(|p| store.list_contracts(&filter, today, p)).await?;
        let names = vendor_names(&store).await?;
        let columns = [
            col("Contract number", 16.0),
            col("Title", 34.0),
            col("Vendor", 28.0),
            col("Status", 14.0),
            col("Start", 12.0),
            col("End", 12.0),
            col("Notice period from", 14.0),
            col("Value", 16.0),
            col("Requests", 10.0),
            col("Pre-2012, no safeguard recorded", 14.0),
            col("Closed on", 12.0),
            col("How it was closed", 40.0),
        ];
        let cells: Vec<Vec<Cell>> = contracts
            .into_iter()
            .map(ContractView::from)
            .map(|c| {
                let (closed_on, closure) = match (&c.decommission, &c.cancellation) {
                    (_, Some(cancelled)) => (
                        Cell::Date(cancelled.cancelled_at.date_naive()),
                        format!("cancelled before it started: {}", cancelled.reason),
                    ),
                    (Some(d), None) => (
                        Cell::Date(d.decommissioned_on),
                        format!(
                            "data {}, certificate {} ({})",
                            d.data_disposition.as_str(),
                            d.certificate_reference,
                            d.certified_by
                        ),
                    ),
                    (None, None) => (Cell::Empty, String::new()),
                };
                vec![
                    Cell::Text(c.contract_number),
                    Cell::Text(c.title),
                    Cell::Text(names.get(&c.vendor_id).cloned().unwrap_or_default()),
                    Cell::Text(c.status.as_str().to_string()),
                    Cell::Date(c.start_date),
                    Cell::Date(c.end_date),
                    Cell::Date(c.notice_starts_on),
                    Cell::Money(c.value_cents),
                    Cell::Number(c.request_ids.len() as f64),
                    Cell::Bool(c.pre_2012_flag),
                    closed_on,
                    Cell::Text(closure),
                ]
            })
            .collect();
        let bytes = super::blocking(move || gathered("Contracts", &columns, &cells)).await?;
        Ok(file(bytes, "contracts.xlsx"))
    }

    /// Register of incidents
    ///
    /// Scope and filters as `GET /incidents`: staff every incident, a vendor those that name it. One row per
    /// incident with its residents affected, its status, the next open breach-notice day and how many are
    /// overdue.
    #[oai(
        path = "/reports/incidents.xlsx",
        method = "get",
        operation_id = "reportIncidents"
    )]
    async fn incidents(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        status: Query<Option<IncidentStatus>>,
        vendor_id: Query<Option<Uuid>>,
    ) -> Result<XlsxFile, ApiError> {
        let filter = IncidentFilter {
            status: status.0,
            vendor_id: vendor_id.0,
        };
        let scope = incident_scope(&auth);
        let incidents = all_pages(|p| store.list_incidents(&scope, &filter, p)).await?;
        let names = vendor_names(&store).await?;
        let terms = DeadlineTerms::of(&store.current_policy().await?.document.0);
        let today = eastern_date(crate::domain::now());
        let columns = [
            col("Title", 34.0),
            col("Vendor", 28.0),
            col("Status", 20.0),
            col("Discovered", 16.0),
            col("City notified", 16.0),
            col("MA residents", 12.0),
            col("CT residents", 12.0),
            col("Other residents", 12.0),
            col("SSNs", 8.0),
            col("TINs", 8.0),
            col("Next notice day", 14.0),
            col("Next notice", 40.0),
            col("Notices overdue", 12.0),
            col("Evidence files", 10.0),
            col("Hold", 8.0),
        ];
        let mut cells: Vec<Vec<Cell>> = Vec::with_capacity(incidents.len());
        for detail in incidents {
            let view = super::incidents::view(detail, terms, today)?;
            let open: Vec<_> = view
                .deadlines
                .iter()
                .filter(|d| matches!(d.status, DeadlineStatus::Open | DeadlineStatus::Overdue))
                .collect();
            let next = open.iter().min_by_key(|d| d.due_on);
            let overdue = open
                .iter()
                .filter(|d| d.status == DeadlineStatus::Overdue)
                .count();
            cells.push(vec![
                Cell::Text(view.title),
                Cell::Text(
                    view.vendor_id
                        .and_then(|v| names.get(&v).cloned())
                        .unwrap_or_default(),
                ),
                Cell::Text(view.status.as_str().to_string()),
                Cell::Time(view.discovered_at),
                Cell::Time(view.city_notified_at),
                Cell::Number(view.residents_ma as f64),
                Cell::Number(view.residents_ct as f64),
                Cell::Number(view.residents_other as f64),
                Cell::Bool(view.ssn_involved),
                Cell::Bool(view.tin_involved),
                next.map_or(Cell::Empty, |d| Cell::Date(d.due_on)),
                Cell::Text(next.map_or(String::new(), |d| {
                    format!("{}: {} [{}]", d.id, d.who, d.citation)
                })),
                Cell::Number(overdue as f64),
                Cell::Number(view.evidence.len() as f64),
                Cell::Bool(view.hold),
            ]);
        }
        let bytes = super::blocking(move || gathered("Incidents", &columns, &cells)).await?;
        Ok(file(bytes, "incidents.xlsx"))
    }

    /// Register of remediation orders
    ///
    /// Scope and filters as `GET /orders`: staff every order (a buyer its department's), a vendor those against
    /// it.
    #[oai(
        path = "/reports/orders.xlsx",
        method = "get",
        operation_id = "reportOrders"
    )]
    async fn orders(
        &self,
        store: Data<&Store>,
        auth: Auth<AnyRole>,
        status: Query<Option<OrderStatus>>,
        vendor_id: Query<Option<Uuid>>,
        incident_id: Query<Option<Uuid>>,
    ) -> Result<XlsxFile, ApiError> {
        let filter = OrderFilter {
            status: status.0,
            vendor_id: vendor_id.0,
            incident_id: incident_id.0,
        };
        let scope = incident_scope(&auth);
        let orders = all_pages(|p| store.list_orders(&scope, &filter, p)).await?;
        let names = vendor_names(&store).await?;
        let today = eastern_date(crate::domain::now());
        let columns = [
            col("Recipient", 30.0),
            col("Status", 20.0),
            col("Issued", 16.0),
            col("Due", 12.0),
            col("Overdue", 8.0),
            col("Actions", 50.0),
            col("Incident", 38.0),
            col("Findings", 10.0),
            col("Appeal", 40.0),
        ];
        let mut cells: Vec<Vec<Cell>> = Vec::with_capacity(orders.len());
        for order in orders {
            let view = super::orders::view(order)?;
            let recipient = match (view.vendor_id, &view.department) {
                (Some(v), _) => names.get(&v).cloned().unwrap_or_default(),
                (None, Some(d)) => format!("department {d}"),
                (None, None) => String::new(),
            };
            let appeal = view
                .appeal
                .as_ref()
                .map_or(String::new(), |a| match &a.outcome {
                    Some(outcome) => format!(
                        "{}: {}",
                        outcome.as_str(),
                        a.reason.clone().unwrap_or_default()
                    ),
                    None => format!("pending: {}", a.grounds),
                });
            cells.push(vec![
                Cell::Text(recipient),
                Cell::Text(view.status.as_str().to_string()),
                Cell::Time(view.issued_at),
                Cell::Date(view.due_date),
                Cell::Bool(view.open && view.due_date < today),
                Cell::Text(view.actions.join("; ")),
                Cell::Text(view.incident_id.map(|i| i.to_string()).unwrap_or_default()),
                Cell::Number(view.finding_ids.len() as f64),
                Cell::Text(appeal),
            ]);
        }
        let bytes = super::blocking(move || gathered("Orders", &columns, &cells)).await?;
        Ok(file(bytes, "orders.xlsx"))
    }

    /// The technology budgets register (xlsx)
    ///
    /// Staff roles (a buyer: their department's); filters as `GET /budgets`. One row per budget line: department,
    /// fiscal year, status, amendment, plan item, the amounts stated (capital, operating staff and other), the
    /// amounts approved jointly by the CIO office and Finance, what requests in review or approved draw on them,
    /// and what remains (EO 2025 Art. 2).
    #[oai(
        path = "/reports/budgets.xlsx",
        method = "get",
        operation_id = "reportBudgets"
    )]
    async fn budgets(
        &self,
        store: Data<&Store>,
        auth: Auth<Staff>,
        department: Query<Option<String>>,
        fiscal_year: Query<Option<i32>>,
        status: Query<Option<crate::domain::budgets::BudgetStatus>>,
    ) -> Result<XlsxFile, ApiError> {
        let filter = crate::store::BudgetFilter {
            department: department.0.map(|d| d.trim().to_uppercase()),
            fiscal_year: fiscal_year.0,
            status: status.0.map(|s| s.as_str().to_string()),
        };
        let scope = scope_of(&auth);
        let budgets = all_pages(|p| store.list_budgets(&scope, &filter, p)).await?;
        let columns = [
            col("Department", 12.0),
            col("Fiscal year", 10.0),
            col("Status", 12.0),
            col("Amendment", 10.0),
            col("Line", 28.0),
            col("Plan item", 28.0),
            col("Capital", 16.0),
            col("Operating staff", 16.0),
            col("Operating other", 16.0),
            col("Approved capital", 16.0),
            col("Approved operating", 16.0),
            col("Committed capital", 16.0),
            col("Committed operating", 16.0),
            col("Remaining capital", 16.0),
            col("Remaining operating", 16.0),
        ];
        let money = |v: Option<i64>| v.map(Cell::Money).unwrap_or(Cell::Empty);
        let cells: Vec<Vec<Cell>> = budgets
            .iter()
            .flat_map(|b| {
                b.lines.iter().map(move |l| {
                    vec![
                        Cell::Text(b.budget.department_code.clone()),
                        Cell::Number(f64::from(b.budget.fiscal_year)),
                        Cell::Text(b.budget.status.as_str().to_string()),
                        Cell::Number(f64::from(b.budget.amendment)),
                        Cell::Text(l.line.label.clone()),
                        Cell::Text(l.plan_item_title.clone().unwrap_or_default()),
                        Cell::Money(l.line.capital_cents),
                        Cell::Money(l.line.operating_staff_cents),
                        Cell::Money(l.line.operating_other_cents),
                        money(l.line.approved_capital_cents),
                        money(l.line.approved_operating_cents),
                        Cell::Money(l.committed_capital_cents),
                        Cell::Money(l.committed_operating_cents),
                        money(
                            l.line
                                .approved_capital_cents
                                .map(|a| a - l.committed_capital_cents),
                        ),
                        money(
                            l.line
                                .approved_operating_cents
                                .map(|a| a - l.committed_operating_cents),
                        ),
                    ]
                })
            })
            .collect();
        let bytes = super::blocking(move || gathered("Budgets", &columns, &cells)).await?;
        Ok(file(bytes, "budgets.xlsx"))
    }

    /// Register of the service catalogue
    #[oai(
        path = "/reports/catalog.xlsx",
        method = "get",
        operation_id = "reportCatalog"
    )]
    async fn catalog(
        &self,
        store: Data<&Store>,
        _auth: Auth<AnyRole>,
    ) -> Result<XlsxFile, ApiError> {
        let services = store.all_services().await?;
        let columns = [
            col("Name", 30.0),
            col("Category", 16.0),
            col("Status", 10.0),
            col("Capabilities", 40.0),
            col("Aliases", 30.0),
            col("Owning team", 22.0),
            col("Access", 36.0),
            col("Updated", 17.0),
        ];
        let cells: Vec<Vec<Cell>> = services
            .iter()
            .map(|s| {
                vec![
                    Cell::Text(s.name.clone()),
                    Cell::Text(s.category.clone()),
                    Cell::Text(s.status.as_str().to_string()),
                    Cell::Text(s.capabilities.join("; ")),
                    Cell::Text(s.aliases.join("; ")),
                    Cell::Text(s.owning_team.clone()),
                    Cell::Text(s.access.clone()),
                    Cell::Time(s.updated_at),
                ]
            })
            .collect();
        let bytes = super::blocking(move || gathered("Catalogue", &columns, &cells)).await?;
        Ok(file(bytes, "catalog.xlsx"))
    }
}
