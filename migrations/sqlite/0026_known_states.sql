-- The request workflow's state columns take only the values the service knows (issue #19): a status, step kind,
-- step state, decision outcome or denial reason outside these lists is refused when written, so it can never be
-- read back as some default (the catalogue's service status has had its CHECK since 0003). The lists are the
-- domain's enums; `store::types` tests that they stay the same.
-- SQLite cannot add a CHECK constraint to an existing table without rebuilding it, so triggers refuse instead.

CREATE TRIGGER requests_status_known_insert BEFORE INSERT ON requests
WHEN NEW.status NOT IN ('draft', 'submitted', 'in_review', 'awaiting_decision', 'approved', 'approved_with_conditions', 'denied', 'changes_requested', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'requests.status: not a value the service knows');
END;

CREATE TRIGGER requests_status_known_update BEFORE UPDATE OF status ON requests
WHEN NEW.status NOT IN ('draft', 'submitted', 'in_review', 'awaiting_decision', 'approved', 'approved_with_conditions', 'denied', 'changes_requested', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'requests.status: not a value the service knows');
END;

CREATE TRIGGER route_steps_kind_known_insert BEFORE INSERT ON route_steps
WHEN NEW.kind NOT IN ('cio_duplicate_review', 'cio_approval', 'finance_approval', 'security_review', 'contract_safeguards', 'evidence', 'council_approval')
BEGIN
    SELECT RAISE(ABORT, 'route_steps.kind: not a value the service knows');
END;

CREATE TRIGGER route_steps_kind_known_update BEFORE UPDATE OF kind ON route_steps
WHEN NEW.kind NOT IN ('cio_duplicate_review', 'cio_approval', 'finance_approval', 'security_review', 'contract_safeguards', 'evidence', 'council_approval')
BEGIN
    SELECT RAISE(ABORT, 'route_steps.kind: not a value the service knows');
END;

CREATE TRIGGER route_steps_state_known_insert BEFORE INSERT ON route_steps
WHEN NEW.state NOT IN ('pending', 'satisfied', 'waived', 'blocked', 'closed')
BEGIN
    SELECT RAISE(ABORT, 'route_steps.state: not a value the service knows');
END;

CREATE TRIGGER route_steps_state_known_update BEFORE UPDATE OF state ON route_steps
WHEN NEW.state NOT IN ('pending', 'satisfied', 'waived', 'blocked', 'closed')
BEGIN
    SELECT RAISE(ABORT, 'route_steps.state: not a value the service knows');
END;

CREATE TRIGGER decisions_step_known_insert BEFORE INSERT ON decisions
WHEN NEW.step NOT IN ('cio_duplicate_review', 'cio_approval', 'finance_approval', 'security_review', 'contract_safeguards', 'evidence', 'council_approval', 'policy')
BEGIN
    SELECT RAISE(ABORT, 'decisions.step: not a value the service knows');
END;

CREATE TRIGGER decisions_step_known_update BEFORE UPDATE OF step ON decisions
WHEN NEW.step NOT IN ('cio_duplicate_review', 'cio_approval', 'finance_approval', 'security_review', 'contract_safeguards', 'evidence', 'council_approval', 'policy')
BEGIN
    SELECT RAISE(ABORT, 'decisions.step: not a value the service knows');
END;

CREATE TRIGGER decisions_outcome_known_insert BEFORE INSERT ON decisions
WHEN NEW.outcome NOT IN ('approve', 'approve_with_conditions', 'deny', 'request_changes')
BEGIN
    SELECT RAISE(ABORT, 'decisions.outcome: not a value the service knows');
END;

CREATE TRIGGER decisions_outcome_known_update BEFORE UPDATE OF outcome ON decisions
WHEN NEW.outcome NOT IN ('approve', 'approve_with_conditions', 'deny', 'request_changes')
BEGIN
    SELECT RAISE(ABORT, 'decisions.outcome: not a value the service knows');
END;

CREATE TRIGGER decisions_reason_code_known_insert BEFORE INSERT ON decisions
WHEN NEW.reason_code NOT IN ('security_risk', 'cost', 'contract_terms', 'prohibited_technology', 'duplicate_of_central_service', 'council_rejected', 'other')
BEGIN
    SELECT RAISE(ABORT, 'decisions.reason_code: not a value the service knows');
END;

CREATE TRIGGER decisions_reason_code_known_update BEFORE UPDATE OF reason_code ON decisions
WHEN NEW.reason_code NOT IN ('security_risk', 'cost', 'contract_terms', 'prohibited_technology', 'duplicate_of_central_service', 'council_rejected', 'other')
BEGIN
    SELECT RAISE(ABORT, 'decisions.reason_code: not a value the service knows');
END;
