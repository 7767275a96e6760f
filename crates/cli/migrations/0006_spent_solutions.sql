-- Proof of work: each solution is accepted once. One row per spent challenge, keyed by the
-- SHA-256 of its `challenge` string; `envelope` is the SHA-256 of the challenge and the id of
-- the envelope it was spent on, so a retry of the same envelope may spend it again while the row
-- names no stored envelope (the challenge itself is never stored). `expires` is the challenge's
-- expiry in Unix seconds; rows past it are deleted as new ones are written.
CREATE TABLE spent_solutions (
    challenge TEXT PRIMARY KEY NOT NULL,
    envelope  TEXT NOT NULL,
    expires   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX spent_solutions_expires ON spent_solutions (expires);
