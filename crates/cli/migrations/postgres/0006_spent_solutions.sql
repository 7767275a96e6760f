-- The PostgreSQL twin of ../0006_spent_solutions.sql: proof-of-work solutions accepted once, one
-- row per spent challenge (keyed by the SHA-256 of its `challenge` string), with the SHA-256 of
-- the challenge and the envelope's id, and the challenge's expiry in Unix seconds. The primary
-- key makes collectors sharing the database spend a solution once between them.
CREATE TABLE spent_solutions (
    challenge text PRIMARY KEY,
    envelope  text NOT NULL,
    expires   bigint NOT NULL
);

CREATE INDEX spent_solutions_expires ON spent_solutions (expires);
