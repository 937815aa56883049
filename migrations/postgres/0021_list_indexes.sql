-- Lists read newest first, filtered by status, department or vendor: an index per filter in the list's order,
-- so a page reads its rows from the index instead of sorting the table (and a keyset page starts where the
-- last one ended).
CREATE INDEX requests_newest ON requests (created_at DESC, id);
CREATE INDEX requests_status_newest ON requests (status, created_at DESC, id);
CREATE INDEX requests_department_newest ON requests (department_code, created_at DESC, id);
CREATE INDEX requests_vendor_newest ON requests (vendor_id, created_at DESC, id);
CREATE INDEX assessments_newest ON assessments (created_at DESC, id);
CREATE INDEX findings_oldest ON findings (created_at, id);
CREATE INDEX notifications_newest ON notifications (created_at DESC, id);
