-- The findings list filtered by status, by status and severity, or by severity alone (issue #21): its count and
-- its page, oldest first, read these indexes instead of every finding. Measured at the city's scale (46,662
-- findings): README, Performance.
CREATE INDEX findings_status_severity ON findings (status, severity, created_at, id);
CREATE INDEX findings_severity ON findings (severity, created_at, id);
