-- The PostgreSQL twin of ../0004_export_cursors.sql: where each `formseal export --new` cursor
-- stands, as a position in `envelopes.seq` (an identity, never given twice). Moved only together
-- with the export's line in the audit log.
CREATE TABLE export_cursors (
    name     text PRIMARY KEY,
    position bigint NOT NULL
);
