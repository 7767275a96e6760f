-- `formseal export --new`: each export cursor is a position in the order envelopes arrived in,
-- so a nightly export hands every envelope once. `seq` numbers the envelopes in that order and
-- is never given twice, not even after the newest envelope was erased (a rowid would be):
-- `envelope_seq` holds the last number given, and the trigger numbers each new row in the
-- transaction that inserts it, so a reader that sees a number sees every envelope before it.
ALTER TABLE envelopes ADD COLUMN seq INTEGER;
UPDATE envelopes SET seq = rowid;
CREATE UNIQUE INDEX envelopes_seq ON envelopes (seq);

CREATE TABLE envelope_seq (last INTEGER NOT NULL) STRICT;
INSERT INTO envelope_seq (last) SELECT coalesce(max(rowid), 0) FROM envelopes;

CREATE TRIGGER envelopes_number AFTER INSERT ON envelopes
BEGIN
    UPDATE envelope_seq SET last = last + 1;
    UPDATE envelopes SET seq = (SELECT last FROM envelope_seq) WHERE rowid = NEW.rowid;
END;

-- Where each cursor stands: every envelope up to `position` has been handed by an export that
-- wrote its file completely. Moved only together with the export's line in the audit log.
CREATE TABLE export_cursors (
    name     TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL
) STRICT;
