-- The last state columns without a constraint take only the values the service knows (issue #19): an order's
-- status before its appeal (restored when the appeal is upheld) and the recipient of an incident notice. Every
-- other state column has its CHECK in its table or from 0026. The lists are the domain's enums (`OrderStatus`,
-- `NoticeRecipient`); a test compares every state column's constraint with its enum, on both backends.

ALTER TABLE remediation_orders ADD CONSTRAINT remediation_orders_status_before_appeal_known CHECK (status_before_appeal IN ('issued', 'acknowledged', 'completion_reported', 'reopened', 'appealed', 'verified', 'withdrawn'));

ALTER TABLE incident_notices ADD CONSTRAINT incident_notices_recipient_known CHECK (recipient IN ('ma_attorney_general', 'ma_ocabr', 'ma_residents', 'ct_attorney_general', 'ct_residents'));
