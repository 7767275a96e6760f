-- Double opt-in. The collector never sees a confirmation token in the clear but once, in the
-- path of the click that confirms it, and keeps only its SHA-256 and the hour of the click:
-- one row per confirmed token, naming no record.
CREATE TABLE confirmations (
    token TEXT PRIMARY KEY NOT NULL,
    at    TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- What `formseal confirm` (which holds the private key) has mailed: one row per record, with
-- the SHA-256 of its token, so that the store can tell a confirmed record from an unconfirmed
-- one without opening anything. `state` is 'sending' from just before the mail is handed to the
-- SMTP server until it took it ('sent'): a row is never mailed twice, also after a crash.
-- `due` (YYYY-MM-DD) is the day from which a record that is still unconfirmed is purged (NULL:
-- never). The row goes when its record does.
CREATE TABLE confirm_mails (
    record TEXT PRIMARY KEY NOT NULL,
    token  TEXT NOT NULL,
    state  TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
    due    TEXT,
    at     TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX confirm_mails_due ON confirm_mails (due);
