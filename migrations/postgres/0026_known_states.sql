-- The request workflow's state columns take only the values the service knows (issue #19): a status, step kind,
-- step state, decision outcome or denial reason outside these lists is refused when written, so it can never be
-- read back as some default (the catalogue's service status has had its CHECK since 0003). The lists are the
-- domain's enums; `store::types` tests that they stay the same.

ALTER TABLE requests ADD CONSTRAINT requests_status_known CHECK (status IN ('draft', 'submitted', 'in_review', 'awaiting_decision', 'approved', 'approved_with_conditions', 'denied', 'changes_requested', 'withdrawn'));

ALTER TABLE route_steps ADD CONSTRAINT route_steps_kind_known CHECK (kind IN ('cio_duplicate_review', 'cio_approval', 'finance_approval', 'security_review', 'contract_safeguards', 'evidence', 'council_approval'));

ALTER TABLE route_steps ADD CONSTRAINT route_steps_state_known CHECK (state IN ('pending', 'satisfied', 'waived', 'blocked', 'closed'));

ALTER TABLE decisions ADD CONSTRAINT decisions_step_known CHECK (step IN ('cio_duplicate_review', 'cio_approval', 'finance_approval', 'security_review', 'contract_safeguards', 'evidence', 'council_approval', 'policy'));

ALTER TABLE decisions ADD CONSTRAINT decisions_outcome_known CHECK (outcome IN ('approve', 'approve_with_conditions', 'deny', 'request_changes'));

ALTER TABLE decisions ADD CONSTRAINT decisions_reason_code_known CHECK (reason_code IN ('security_risk', 'cost', 'contract_terms', 'prohibited_technology', 'duplicate_of_central_service', 'council_rejected', 'other'));
