-- Webhook delivery (`formseal serve --webhook`): one row per stored envelope still to be
-- forwarded, written in the same transaction as the envelope, deleted once the receiver
-- acknowledged it. `next_attempt` is Unix milliseconds (0: at once; a new row never records its
-- arrival time); `dead` rows gave up after the maximum number of attempts and wait for
-- `formseal webhook requeue`.
CREATE TABLE outbox (
    envelope_id  TEXT PRIMARY KEY NOT NULL REFERENCES envelopes (id),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL DEFAULT 0,
    dead         INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
) STRICT;

CREATE INDEX outbox_due ON outbox (dead, next_attempt);
