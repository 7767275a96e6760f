-- The collector's only table: sealed envelopes as they arrived, never anything in plaintext.
-- `id` is the base64url SHA-256 of the JWE text, so a re-sent envelope lands on the same row.
-- `received` is a day (UTC, YYYY-MM-DD): a precise arrival time would say more about the visitor
-- than the data team needs.
CREATE TABLE envelopes (
    id       TEXT PRIMARY KEY NOT NULL,
    form     TEXT NOT NULL,
    kids     TEXT NOT NULL,
    received TEXT NOT NULL,
    jwe      TEXT NOT NULL
) STRICT;

CREATE INDEX envelopes_received ON envelopes (received);
