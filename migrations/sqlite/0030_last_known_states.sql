-- The state columns still without a constraint take only the values the service knows (issue #19): what a
-- duplicate candidate is and how sure its match (`CandidateKind`, `MatchClass`; a dismissal names the candidate's
-- kind too), a finding's severity (`Severity`), where a product runs (`Hosting`), the kind of a Council document
-- (`CouncilDocumentKind`) and the role an incident was reported or its evidence uploaded in (`Role`). A contract's
-- data disposition, a budget review's role and an audit checkpoint's scope have their CHECK in their tables. The
-- lists are the domain's enums; tests/api/states.rs compares every state column's constraint with its enum, on
-- both backends.
-- SQLite cannot add a CHECK constraint to an existing table without rebuilding it, so triggers refuse instead.

CREATE TRIGGER request_duplicates_candidate_kind_known_insert BEFORE INSERT ON request_duplicates
WHEN NEW.candidate_kind NOT IN ('service', 'purchase')
BEGIN
    SELECT RAISE(ABORT, 'request_duplicates.candidate_kind must be one of service, purchase');
END;

CREATE TRIGGER request_duplicates_candidate_kind_known_update BEFORE UPDATE OF candidate_kind ON request_duplicates
WHEN NEW.candidate_kind NOT IN ('service', 'purchase')
BEGIN
    SELECT RAISE(ABORT, 'request_duplicates.candidate_kind must be one of service, purchase');
END;

CREATE TRIGGER request_duplicates_class_known_insert BEFORE INSERT ON request_duplicates
WHEN NEW.class NOT IN ('likely_duplicate', 'possible_overlap')
BEGIN
    SELECT RAISE(ABORT, 'request_duplicates.class must be one of likely_duplicate, possible_overlap');
END;

CREATE TRIGGER request_duplicates_class_known_update BEFORE UPDATE OF class ON request_duplicates
WHEN NEW.class NOT IN ('likely_duplicate', 'possible_overlap')
BEGIN
    SELECT RAISE(ABORT, 'request_duplicates.class must be one of likely_duplicate, possible_overlap');
END;

CREATE TRIGGER duplicate_dismissals_candidate_kind_known_insert BEFORE INSERT ON duplicate_dismissals
WHEN NEW.candidate_kind NOT IN ('service', 'purchase')
BEGIN
    SELECT RAISE(ABORT, 'duplicate_dismissals.candidate_kind must be one of service, purchase');
END;

CREATE TRIGGER duplicate_dismissals_candidate_kind_known_update BEFORE UPDATE OF candidate_kind ON duplicate_dismissals
WHEN NEW.candidate_kind NOT IN ('service', 'purchase')
BEGIN
    SELECT RAISE(ABORT, 'duplicate_dismissals.candidate_kind must be one of service, purchase');
END;

CREATE TRIGGER findings_severity_known_insert BEFORE INSERT ON findings
WHEN NEW.severity NOT IN ('critical', 'moderate', 'low')
BEGIN
    SELECT RAISE(ABORT, 'findings.severity must be one of critical, moderate, low');
END;

CREATE TRIGGER findings_severity_known_update BEFORE UPDATE OF severity ON findings
WHEN NEW.severity NOT IN ('critical', 'moderate', 'low')
BEGIN
    SELECT RAISE(ABORT, 'findings.severity must be one of critical, moderate, low');
END;

CREATE TRIGGER products_hosting_known_insert BEFORE INSERT ON products
WHEN NEW.hosting NOT IN ('vendor_cloud', 'on_premises')
BEGIN
    SELECT RAISE(ABORT, 'products.hosting must be one of vendor_cloud, on_premises');
END;

CREATE TRIGGER products_hosting_known_update BEFORE UPDATE OF hosting ON products
WHEN NEW.hosting NOT IN ('vendor_cloud', 'on_premises')
BEGIN
    SELECT RAISE(ABORT, 'products.hosting must be one of vendor_cloud, on_premises');
END;

CREATE TRIGGER council_documents_kind_known_insert BEFORE INSERT ON council_documents
WHEN NEW.kind NOT IN ('surveillance_use_policy', 'surveillance_impact_report')
BEGIN
    SELECT RAISE(ABORT, 'council_documents.kind must be one of surveillance_use_policy, surveillance_impact_report');
END;

CREATE TRIGGER council_documents_kind_known_update BEFORE UPDATE OF kind ON council_documents
WHEN NEW.kind NOT IN ('surveillance_use_policy', 'surveillance_impact_report')
BEGIN
    SELECT RAISE(ABORT, 'council_documents.kind must be one of surveillance_use_policy, surveillance_impact_report');
END;

CREATE TRIGGER incidents_reporter_role_known_insert BEFORE INSERT ON incidents
WHEN NEW.reporter_role NOT IN ('buyer', 'vendor', 'security_analyst', 'cio', 'finance', 'admin', 'auditor')
BEGIN
    SELECT RAISE(ABORT, 'incidents.reporter_role must be one of buyer, vendor, security_analyst, cio, finance, admin, auditor');
END;

CREATE TRIGGER incidents_reporter_role_known_update BEFORE UPDATE OF reporter_role ON incidents
WHEN NEW.reporter_role NOT IN ('buyer', 'vendor', 'security_analyst', 'cio', 'finance', 'admin', 'auditor')
BEGIN
    SELECT RAISE(ABORT, 'incidents.reporter_role must be one of buyer, vendor, security_analyst, cio, finance, admin, auditor');
END;

CREATE TRIGGER incident_evidence_uploaded_role_known_insert BEFORE INSERT ON incident_evidence
WHEN NEW.uploaded_role NOT IN ('buyer', 'vendor', 'security_analyst', 'cio', 'finance', 'admin', 'auditor')
BEGIN
    SELECT RAISE(ABORT, 'incident_evidence.uploaded_role must be one of buyer, vendor, security_analyst, cio, finance, admin, auditor');
END;

CREATE TRIGGER incident_evidence_uploaded_role_known_update BEFORE UPDATE OF uploaded_role ON incident_evidence
WHEN NEW.uploaded_role NOT IN ('buyer', 'vendor', 'security_analyst', 'cio', 'finance', 'admin', 'auditor')
BEGIN
    SELECT RAISE(ABORT, 'incident_evidence.uploaded_role must be one of buyer, vendor, security_analyst, cio, finance, admin, auditor');
END;
