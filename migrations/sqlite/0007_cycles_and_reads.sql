-- Re-assessment cycles and read marks on notifications.

-- An assessment is answered again each review cycle (201 CMR 17.03(2)(i): at least yearly). A new cycle reopens
-- the accepted assessment with the last answers kept as a starting point; each submission records its cycle.
ALTER TABLE assessments ADD COLUMN cycle INTEGER NOT NULL DEFAULT 1;
ALTER TABLE assessment_submissions ADD COLUMN cycle INTEGER NOT NULL DEFAULT 1;

-- A notification goes to a role (narrowed to a department or a vendor), so whether it was read is kept per
-- reader: one analyst reading it does not mark it read for the others.
CREATE TABLE notification_reads (
    notification_id BLOB NOT NULL REFERENCES notifications (id),
    reader          TEXT NOT NULL,
    read_at         TEXT NOT NULL,
    PRIMARY KEY (notification_id, reader)
);
CREATE INDEX notification_reads_reader ON notification_reads (reader);
