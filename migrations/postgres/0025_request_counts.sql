-- How many requests each department has in each status, kept by triggers in the same transaction as the change,
-- so that a page of the requests list totals its matches from a few rows instead of counting the table.
CREATE TABLE request_counts (
    department_code TEXT NOT NULL,
    status          TEXT NOT NULL,
    n               BIGINT NOT NULL,
    PRIMARY KEY (department_code, status)
);

INSERT INTO request_counts (department_code, status, n)
SELECT department_code, status, COUNT(*) FROM requests GROUP BY department_code, status;

CREATE FUNCTION request_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE request_counts SET n = n - 1 WHERE department_code = OLD.department_code AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO request_counts (department_code, status, n) VALUES (NEW.department_code, NEW.status, 1)
        ON CONFLICT (department_code, status) DO UPDATE SET n = request_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER request_counts_insert AFTER INSERT OR DELETE ON requests
FOR EACH ROW EXECUTE FUNCTION request_counts_keep();

CREATE TRIGGER request_counts_update AFTER UPDATE OF department_code, status ON requests
FOR EACH ROW WHEN (OLD.department_code <> NEW.department_code OR OLD.status <> NEW.status)
EXECUTE FUNCTION request_counts_keep();

-- A change counter for the duplicate index: bumped by every change the index reads (requests, catalogue
-- services, the CIO office's vocabulary), so that an instance whose index has seen the current value skips its
-- catch-up queries.
CREATE TABLE change_counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO change_counters (name, value) VALUES ('duplicate_index', 1);

CREATE FUNCTION duplicate_index_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'duplicate_index';
    RETURN NULL;
END;
$$;

CREATE TRIGGER duplicate_index_requests_insert AFTER INSERT ON requests
FOR EACH ROW EXECUTE FUNCTION duplicate_index_changed();

CREATE TRIGGER duplicate_index_requests_update AFTER UPDATE ON requests
FOR EACH ROW WHEN (OLD.status <> NEW.status OR OLD.fields <> NEW.fields OR OLD.department_code <> NEW.department_code)
EXECUTE FUNCTION duplicate_index_changed();

CREATE TRIGGER duplicate_index_services AFTER INSERT OR UPDATE ON catalog_services
FOR EACH ROW EXECUTE FUNCTION duplicate_index_changed();

CREATE TRIGGER duplicate_index_vocabulary AFTER INSERT OR UPDATE OR DELETE ON duplicate_vocabulary
FOR EACH ROW EXECUTE FUNCTION duplicate_index_changed();
