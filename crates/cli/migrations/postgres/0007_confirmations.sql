-- The PostgreSQL twin of ../0007_confirmations.sql: the SHA-256 of each confirmed double opt-in
-- token with the hour of the click, and what `formseal confirm` has mailed (one row per record,
-- with its token's SHA-256, 'sending' until the SMTP server took the mail, and the day from
-- which the record is purged while unconfirmed).
CREATE TABLE confirmations (
    token text PRIMARY KEY,
    at    text NOT NULL
);

CREATE TABLE confirm_mails (
    record text PRIMARY KEY,
    token  text NOT NULL,
    state  text NOT NULL CHECK (state IN ('sending', 'sent')),
    due    date,
    at     text NOT NULL
);

CREATE INDEX confirm_mails_due ON confirm_mails (due);
