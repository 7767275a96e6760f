-- The PostgreSQL twin of ../0001_envelopes.sql: sealed envelopes as they arrived, never anything
-- in plaintext. `id` is the base64url SHA-256 of the JWE text, so a re-sent envelope lands on the
-- same row, whichever collector process receives it. `seq` keeps the order of arrival;
-- `received` is a day (UTC): a precise arrival time would say more than the data team needs.
CREATE TABLE envelopes (
    seq      bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id       text PRIMARY KEY,
    form     text NOT NULL,
    kids     text NOT NULL,
    received date NOT NULL,
    jwe      text NOT NULL
);

CREATE INDEX envelopes_received ON envelopes (received, seq);
