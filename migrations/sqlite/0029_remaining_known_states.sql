-- The last state columns without a constraint take only the values the service knows (issue #19): an order's
-- status before its appeal (restored when the appeal is upheld) and the recipient of an incident notice. Every
-- other state column has its CHECK in its table or from 0026. The lists are the domain's enums (`OrderStatus`,
-- `NoticeRecipient`); a test compares every state column's constraint with its enum, on both backends.
-- SQLite cannot add a CHECK constraint to an existing table without rebuilding it, so triggers refuse instead.

CREATE TRIGGER remediation_orders_status_before_appeal_known_insert BEFORE INSERT ON remediation_orders
WHEN NEW.status_before_appeal NOT IN ('issued', 'acknowledged', 'completion_reported', 'reopened', 'appealed', 'verified', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'remediation_orders.status_before_appeal must be one of issued, acknowledged, completion_reported, reopened, appealed, verified, withdrawn');
END;

CREATE TRIGGER remediation_orders_status_before_appeal_known_update BEFORE UPDATE OF status_before_appeal ON remediation_orders
WHEN NEW.status_before_appeal NOT IN ('issued', 'acknowledged', 'completion_reported', 'reopened', 'appealed', 'verified', 'withdrawn')
BEGIN
    SELECT RAISE(ABORT, 'remediation_orders.status_before_appeal must be one of issued, acknowledged, completion_reported, reopened, appealed, verified, withdrawn');
END;

CREATE TRIGGER incident_notices_recipient_known_insert BEFORE INSERT ON incident_notices
WHEN NEW.recipient NOT IN ('ma_attorney_general', 'ma_ocabr', 'ma_residents', 'ct_attorney_general', 'ct_residents')
BEGIN
    SELECT RAISE(ABORT, 'incident_notices.recipient must be one of ma_attorney_general, ma_ocabr, ma_residents, ct_attorney_general, ct_residents');
END;

CREATE TRIGGER incident_notices_recipient_known_update BEFORE UPDATE OF recipient ON incident_notices
WHEN NEW.recipient NOT IN ('ma_attorney_general', 'ma_ocabr', 'ma_residents', 'ct_attorney_general', 'ct_residents')
BEGIN
    SELECT RAISE(ABORT, 'incident_notices.recipient must be one of ma_attorney_general, ma_ocabr, ma_residents, ct_attorney_general, ct_residents');
END;
