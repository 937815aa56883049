-- How many requests each department has in each status, kept by triggers in the same transaction as the change,
-- so that a page of the requests list totals its matches from a few rows instead of counting the table.
CREATE TABLE request_counts (
    department_code TEXT NOT NULL,
    status          TEXT NOT NULL,
    n               INTEGER NOT NULL,
    PRIMARY KEY (department_code, status)
);

INSERT INTO request_counts (department_code, status, n)
SELECT department_code, status, COUNT(*) FROM requests GROUP BY department_code, status;

CREATE TRIGGER request_counts_insert AFTER INSERT ON requests
BEGIN
    INSERT INTO request_counts (department_code, status, n) VALUES (NEW.department_code, NEW.status, 1)
    ON CONFLICT (department_code, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER request_counts_update AFTER UPDATE OF department_code, status ON requests
WHEN OLD.department_code <> NEW.department_code OR OLD.status <> NEW.status
BEGIN
    UPDATE request_counts SET n = n - 1 WHERE department_code = OLD.department_code AND status = OLD.status;
    INSERT INTO request_counts (department_code, status, n) VALUES (NEW.department_code, NEW.status, 1)
    ON CONFLICT (department_code, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER request_counts_delete AFTER DELETE ON requests
BEGIN
    UPDATE request_counts SET n = n - 1 WHERE department_code = OLD.department_code AND status = OLD.status;
END;

-- A change counter for the duplicate index: bumped by every change the index reads (requests, catalogue
-- services, the CIO office's vocabulary), so that an instance whose index has seen the current value skips its
-- catch-up queries.
CREATE TABLE change_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO change_counters (name, value) VALUES ('duplicate_index', 1);

CREATE TRIGGER duplicate_index_requests_insert AFTER INSERT ON requests
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
END;

CREATE TRIGGER duplicate_index_requests_update AFTER UPDATE ON requests
WHEN OLD.status <> NEW.status OR OLD.fields <> NEW.fields OR OLD.department_code <> NEW.department_code
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
END;

CREATE TRIGGER duplicate_index_services_insert AFTER INSERT ON catalog_services
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
END;

CREATE TRIGGER duplicate_index_services_update AFTER UPDATE ON catalog_services
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
END;

CREATE TRIGGER duplicate_index_vocabulary_insert AFTER INSERT ON duplicate_vocabulary
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
END;

CREATE TRIGGER duplicate_index_vocabulary_update AFTER UPDATE ON duplicate_vocabulary
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
END;

CREATE TRIGGER duplicate_index_vocabulary_delete AFTER DELETE ON duplicate_vocabulary
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
END;
