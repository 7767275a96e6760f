-- Retention and accountability.
-- `expires` is the day from which an envelope must be gone, read from its protected header
-- (`fs.exp`) when it arrived; NULL for envelopes stored before formseal recorded it.
ALTER TABLE envelopes ADD COLUMN expires TEXT;

CREATE INDEX envelopes_expires ON envelopes (expires);

-- Who decrypted, exported or purged how many records, and when. Append-only: the triggers
-- refuse every UPDATE and DELETE, so a row once written stays as it was.
CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    records INTEGER NOT NULL,
    detail  TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
