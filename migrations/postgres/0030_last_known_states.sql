-- The state columns still without a constraint take only the values the service knows (issue #19): what a
-- duplicate candidate is and how sure its match (`CandidateKind`, `MatchClass`; a dismissal names the candidate's
-- kind too), a finding's severity (`Severity`), where a product runs (`Hosting`), the kind of a Council document
-- (`CouncilDocumentKind`) and the role an incident was reported or its evidence uploaded in (`Role`). A contract's
-- data disposition, a budget review's role and an audit checkpoint's scope have their CHECK in their tables. The
-- lists are the domain's enums; tests/api/states.rs compares every state column's constraint with its enum, on
-- both backends.

ALTER TABLE request_duplicates ADD CONSTRAINT request_duplicates_candidate_kind_known CHECK (candidate_kind IN ('service', 'purchase'));

ALTER TABLE request_duplicates ADD CONSTRAINT request_duplicates_class_known CHECK (class IN ('likely_duplicate', 'possible_overlap'));

ALTER TABLE duplicate_dismissals ADD CONSTRAINT duplicate_dismissals_candidate_kind_known CHECK (candidate_kind IN ('service', 'purchase'));

ALTER TABLE findings ADD CONSTRAINT findings_severity_known CHECK (severity IN ('critical', 'moderate', 'low'));

ALTER TABLE products ADD CONSTRAINT products_hosting_known CHECK (hosting IN ('vendor_cloud', 'on_premises'));

ALTER TABLE council_documents ADD CONSTRAINT council_documents_kind_known CHECK (kind IN ('surveillance_use_policy', 'surveillance_impact_report'));

ALTER TABLE incidents ADD CONSTRAINT incidents_reporter_role_known CHECK (reporter_role IN ('buyer', 'vendor', 'security_analyst', 'cio', 'finance', 'admin', 'auditor'));

ALTER TABLE incident_evidence ADD CONSTRAINT incident_evidence_uploaded_role_known CHECK (uploaded_role IN ('buyer', 'vendor', 'security_analyst', 'cio', 'finance', 'admin', 'auditor'));
