-- The PostgreSQL twin of ../0002_retention_audit.sql: retention and accountability.
-- `expires` is the day from which an envelope must be gone, read from its protected header
-- (`fs.exp`) when it arrived; NULL for envelopes stored before formseal recorded it.
ALTER TABLE envelopes ADD COLUMN expires date;

CREATE INDEX envelopes_expires ON envelopes (expires);

-- Who decrypted, exported or purged how many records, and when. `seq` is written as max + 1
-- under a table lock (not from a sequence, which leaves gaps on rollback), so a gap can only
-- mean a removed row. Append-only: the triggers refuse every UPDATE, DELETE and TRUNCATE.
CREATE TABLE audit_log (
    seq     bigint PRIMARY KEY,
    at      text NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    records bigint NOT NULL,
    detail  text NOT NULL
);

CREATE FUNCTION formseal_audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;

CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION formseal_audit_log_is_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION formseal_audit_log_is_append_only();
