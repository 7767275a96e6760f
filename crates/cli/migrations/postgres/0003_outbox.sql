-- The PostgreSQL twin of ../0003_outbox.sql: webhook delivery. One row per stored envelope still
-- to be forwarded, written in the same statement as the envelope, deleted once the receiver
-- acknowledged it. `next_attempt` is Unix milliseconds (0: at once); `dead` rows gave up and wait
-- for `formseal webhook requeue`. `seq` keeps the order rows were queued in.
CREATE TABLE outbox (
    envelope_id  text PRIMARY KEY REFERENCES envelopes (id),
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt bigint NOT NULL DEFAULT 0,
    dead         boolean NOT NULL DEFAULT false,
    last_error   text,
    seq          bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX outbox_due ON outbox (dead, next_attempt);
