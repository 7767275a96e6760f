//! Where the collector keeps envelopes: the [`Store`] trait, what goes in and comes out of it, and
//! [`Database`], which names a store on the command line. SQLite (`store/sqlite.rs`) is the
//! embedded default, PostgreSQL (`store/postgres.rs`) the store several collectors can share.
//! What is stored is ciphertext plus routing facts (form, key ids, day received): never a
//! visitor's values, address or a precise time. All of formseal's SQL lives in these files.

pub mod postgres;
pub mod sqlite;

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use formseal_core::time::Date;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// An envelope that passed the collector's checks, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEnvelope<'a> {
    /// Record id: base64url SHA-256 of `jwe`.
    pub id: &'a str,
    /// Form id from the protected header.
    pub form: &'a str,
    /// Key ids of the recipients, in order.
    pub kids: &'a [String],
    /// Day it arrived (UTC).
    pub received: Date,
    /// Day from which it must be gone (its retention date, from the protected header).
    pub expires: Date,
    /// The JWE text as it was posted.
    pub jwe: &'a str,
    /// Also queue it for webhook delivery (in the same transaction).
    pub deliver: bool,
}

/// An envelope read back from the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEnvelope {
    /// Record id.
    pub id: String,
    /// Form id.
    pub form: String,
    /// Day it arrived, `YYYY-MM-DD`.
    pub received: String,
    /// Day from which it must be gone, `YYYY-MM-DD`; `None` when stored before formseal
    /// recorded retention dates.
    pub expires: Option<String>,
    /// The JWE text.
    pub jwe: String,
}

/// What an insert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// A new row; its transaction has committed.
    New,
    /// The same envelope was stored before; nothing changed.
    Duplicate,
    /// A new envelope, but its form holds as many as [`Store::insert_at_most`] allows; nothing
    /// changed.
    Full,
}

/// A proof-of-work solution spent on an envelope ([`Store::spend_solution`]), as
/// `pow::Solved::spend` makes it: hashes only, so that the row points at no stored envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spend {
    /// Lowercase hex SHA-256 of the challenge: the row's key.
    pub challenge: String,
    /// Lowercase hex SHA-256 of the challenge and the envelope's id: tells a retry of the same
    /// envelope from another envelope.
    pub envelope: String,
    /// When the challenge expires (Unix seconds); after it the row is of no use.
    pub expires: i64,
}

/// What spending a solution found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spent {
    /// It is spent on this envelope: just now, or before by an earlier try of the same bytes.
    OnThisEnvelope,
    /// It was spent on another envelope; nothing changed.
    OnAnother,
}

/// One line of the audit log, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When, RFC 3339 UTC to the second (the data team's action, not a visitor's).
    pub at: String,
    /// Who: the OS user or `--actor`.
    pub actor: String,
    /// What: `decrypt`, `export`, `purge`, ...
    pub action: String,
    /// How many records it touched.
    pub records: u64,
    /// Which records (e.g. `--since 2026-11-01`, `csv`), never their content.
    pub detail: String,
}

/// An audit-log line read back, with its place in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the log, from 1; gaps would show a row that was removed.
    pub seq: i64,
    /// The line.
    pub entry: AuditEntry,
}

/// Which stored envelopes a read goes through; always in the order they arrived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only envelopes received on or after this day.
    pub since: Option<Date>,
    /// Only envelopes in this part of the order of arrival (an export cursor's).
    pub span: Option<Span>,
}

/// A part of the store's order of arrival: the envelopes after position `after`, up to and
/// including `up_to`. Positions are never given twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The last position already handed (0: none).
    pub after: i64,
    /// The newest position to hand now.
    pub up_to: i64,
}

/// An export cursor as read before an export: where it stands (`span.after`) and the newest
/// envelope whose predecessors have all been stored (`span.up_to`), so that every envelope of
/// the span can be read now and none can arrive in it later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The cursor's name (one per export destination).
    pub name: String,
    /// What an export hands now.
    pub span: Span,
}

/// [`Store::advance_cursor`] found the cursor moved by another export since it was read.
#[derive(Debug, thiserror::Error)]
#[error(
    "the export cursor {name:?} was moved by another export while this one ran (from {expected} to {found})"
)]
pub struct CursorMoved {
    /// The cursor.
    pub name: String,
    /// Where it stood when this export read it.
    pub expected: i64,
    /// Where it stands now.
    pub found: i64,
}

/// What a purge finds: expired envelopes, and envelopes without a retention date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Envelopes whose retention date is on or before the day asked about.
    pub expired: u64,
    /// Envelopes stored before the collector recorded retention dates; never purged.
    pub undated: u64,
    /// Double opt-in sign-ups mailed and still unconfirmed on their due day (and not expired
    /// anyway): purged too.
    pub unconfirmed: u64,
}

/// A double opt-in mail `formseal confirm` is about to send ([`Store::claim_mail`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmMail {
    /// The record it confirms.
    pub record: String,
    /// Lowercase hex SHA-256 of its token (`envelope::token_sha256`).
    pub token: String,
    /// The day from which the record is purged while unconfirmed; `None`: never.
    pub due: Option<Date>,
    /// When the mail was claimed, RFC 3339 UTC.
    pub at: String,
}

/// How far the double opt-in mail of a record got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailState {
    /// Claimed, and the SMTP server has not (yet, or ever: a crash) taken it.
    Sending,
    /// The SMTP server took it.
    Sent,
}

impl MailState {
    fn parse(text: &str) -> anyhow::Result<Self> {
        match text {
            "sending" => Ok(Self::Sending),
            "sent" => Ok(Self::Sent),
            other => Err(anyhow::anyhow!("unknown mail state {other:?} in the store")),
        }
    }
}

/// An envelope claimed for one webhook delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Record id.
    pub id: String,
    /// The JWE text, exactly as stored.
    pub jwe: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// An envelope whose delivery was given up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Record id.
    pub id: String,
    /// Form id.
    pub form: String,
    /// Day it arrived.
    pub received: String,
    /// Attempts made.
    pub attempts: u32,
    /// What went wrong the last time (a status or a transport error, never a body).
    pub last_error: String,
}

/// Storage of sealed envelopes. Methods block (on file or network I/O): call them from
/// `spawn_blocking` in async code.
pub trait Store: Send + Sync {
    /// Stores an envelope unless one with the same id exists. Returns only after the write is
    /// durable, so the caller may acknowledge it.
    fn insert(&self, envelope: &NewEnvelope<'_>) -> anyhow::Result<Inserted>;

    /// Stores an envelope as [`Store::insert`] does while its form holds fewer than `max`
    /// envelopes (a form's `max_responses`; 0 for a closed form). A duplicate of a stored
    /// envelope is still [`Inserted::Duplicate`], whatever the count; a new one beyond the limit
    /// is [`Inserted::Full`] and is not stored. The count and the insert are one transaction, so
    /// collectors sharing the store never take the form past its limit.
    fn insert_at_most(&self, envelope: &NewEnvelope<'_>, max: u64) -> anyhow::Result<Inserted>;

    /// Records that a proof-of-work solution is spent on an envelope, unless it was spent on
    /// another one, and deletes the rows of challenges expired by `now` (Unix seconds). Atomic
    /// across collectors sharing the store: of two envelopes spending one solution at once,
    /// one gets [`Spent::OnAnother`].
    fn spend_solution(&self, spend: &Spend, now: i64) -> anyhow::Result<Spent>;

    /// Calls `each` for every envelope received on or after `since` (all when `None`), in the
    /// order they arrived; stops at the first error `each` returns.
    fn for_each(
        &self,
        since: Option<Date>,
        each: &mut dyn FnMut(StoredEnvelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.for_each_selected(Selection { since, span: None }, each)
    }

    /// Calls `each` for every envelope `selection` picks, in the order they arrived; stops at
    /// the first error `each` returns.
    fn for_each_selected(
        &self,
        selection: Selection,
        each: &mut dyn FnMut(StoredEnvelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()>;

    /// How many envelopes are stored.
    fn count(&self) -> anyhow::Result<u64>;

    /// How many envelopes `selection` picks (for a progress bar: it may be stale at once).
    fn count_selected(&self, selection: Selection) -> anyhow::Result<u64>;

    /// Reads the export cursor `name` (at 0 when it was never moved) and the span an export
    /// hands now.
    fn cursor(&self, name: &str) -> anyhow::Result<Cursor>;

    /// Moves `cursor` to the end of its span and appends `audit` in the same transaction, unless
    /// another export moved it since it was read: then nothing changes and the error is
    /// [`CursorMoved`].
    fn advance_cursor(&self, cursor: &Cursor, audit: &AuditEntry) -> anyhow::Result<()>;

    /// Counts the envelopes that have expired by `today` (retention date on or before it) and
    /// those without a retention date, deleting nothing.
    fn expired(&self, today: Date) -> anyhow::Result<Expired>;

    /// Deletes every envelope expired by `today`, and every double opt-in sign-up mailed and
    /// still unconfirmed on its due day, and appends `audit` (its `records` set to the number
    /// deleted) in the same transaction. Returns that number.
    fn purge(&self, today: Date, audit: &AuditEntry) -> anyhow::Result<u64>;

    /// Records that the double opt-in token with this SHA-256 was confirmed in `hour` (RFC 3339,
    /// to the hour), unless it was before: the first hour stays. Returns whether it is new.
    fn confirm(&self, token: &str, hour: &str) -> anyhow::Result<bool>;

    /// Every confirmed token's SHA-256 with its hour.
    fn confirmations(&self) -> anyhow::Result<HashMap<String, String>>;

    /// Claims the double opt-in mail of `mail.record` as [`MailState::Sending`], unless it was
    /// claimed before (by this run, an earlier one, or another `confirm` at the same time).
    /// Returns whether this call claimed it: only then may the mail be sent.
    fn claim_mail(&self, mail: &ConfirmMail) -> anyhow::Result<bool>;

    /// The mail of `record` was taken by the SMTP server ([`MailState::Sent`]), or, when `sent`
    /// is false, certainly not: its claim is dropped so that a later run sends it.
    fn mail_done(&self, record: &str, sent: bool) -> anyhow::Result<()>;

    /// How far the double opt-in mail of each claimed record got, by record id.
    fn mails(&self) -> anyhow::Result<HashMap<String, MailState>>;

    /// Deletes the envelopes with these record ids and appends `audit` (its `records` set to the
    /// number deleted) in the same transaction, so records never go without their audit line.
    /// Returns that number; ids not in the store are skipped.
    fn delete(&self, ids: &[String], audit: &AuditEntry) -> anyhow::Result<u64>;

    /// Appends one line to the audit log.
    fn append_audit(&self, entry: &AuditEntry) -> anyhow::Result<()>;

    /// Calls `each` for every audit-log line, oldest first.
    fn for_each_audit(
        &self,
        each: &mut dyn FnMut(AuditRecord) -> anyhow::Result<()>,
    ) -> anyhow::Result<()>;

    /// Claims up to `limit` queued deliveries due at `now_ms` (Unix milliseconds): counts the
    /// attempt and hides them from other claims until `now_ms + lease_ms`, so several
    /// collectors sharing a database rarely send the same envelope twice (at least once, not
    /// exactly once: a crash mid-attempt sends it again after the lease).
    fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> anyhow::Result<Vec<Delivery>>;

    /// The receiver acknowledged the envelope: it leaves the queue.
    fn delivered(&self, id: &str) -> anyhow::Result<()>;

    /// An attempt failed with `error`: try again at `retry_at_ms`, or, when `None`, give up and
    /// keep it as a dead letter.
    fn delivery_failed(
        &self,
        id: &str,
        retry_at_ms: Option<i64>,
        error: &str,
    ) -> anyhow::Result<()>;

    /// How many envelopes wait for delivery (dead letters not counted).
    fn queued_deliveries(&self) -> anyhow::Result<u64>;

    /// The dead letters, oldest first.
    fn dead_letters(&self) -> anyhow::Result<Vec<DeadLetter>>;

    /// Queues dead letters again with fresh attempts: the one with `id`, or all when `None`.
    /// Returns how many.
    fn requeue(&self, id: Option<&str>) -> anyhow::Result<u64>;
}

/// A store as the command line names it: a `postgres://` (or `postgresql://`) URL, or else the
/// path of a SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (libpq's URI form).
    Postgres(String),
}

impl Database {
    /// Opens the store for the collector, creating its tables when missing.
    pub fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            Self::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
            Self::Postgres(url) => Arc::new(PostgresStore::open(url)?),
        })
    }

    /// Opens an existing store to read it and append to its audit log (`formseal decrypt --db`,
    /// `export`, `purge`, `audit`); refuses a missing one or one that formseal did not make.
    pub fn open_existing(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self {
            Self::Sqlite(path) => Arc::new(SqliteStore::open_existing(path)?),
            Self::Postgres(url) => Arc::new(PostgresStore::open_existing(url)?),
        })
    }

    /// Writes a consistent copy of the store to `out` while collectors may go on writing: a
    /// SQLite file (online backup) or a `pg_dump` archive (custom format). Refuses to overwrite.
    /// Returns how many envelopes the copy holds.
    pub fn backup(&self, out: &Path) -> anyhow::Result<u64> {
        match self {
            Self::Sqlite(path) => sqlite::backup(path, out),
            Self::Postgres(url) => postgres::backup(url, out),
        }
    }

    /// Restores a backup made by [`Database::backup`] of the same kind into this store, which
    /// must be new (a SQLite file that does not exist, an empty PostgreSQL database).
    pub fn restore(&self, backup: &Path) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(path) => sqlite::restore(backup, path),
            Self::Postgres(url) => postgres::restore(backup, url),
        }
    }

    /// A relative SQLite path taken as relative to `base` (a config file's directory).
    pub fn relative_to(self, base: &Path) -> Self {
        match self {
            Self::Sqlite(path) if path.is_relative() => Self::Sqlite(base.join(path)),
            other => other,
        }
    }
}

impl FromStr for Database {
    type Err = Infallible;

    fn from_str(text: &str) -> Result<Self, Infallible> {
        Ok(if postgres::is_url(text) {
            Self::Postgres(text.to_string())
        } else {
            Self::Sqlite(PathBuf::from(text))
        })
    }
}

impl<'de> serde::Deserialize<'de> for Database {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(text
            .parse()
            .unwrap_or_else(|never: Infallible| match never {}))
    }
}

/// Shows the store without a password: the URL's is replaced by `***`.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => f.write_str(&postgres::redact(url)),
        }
    }
}

/// The same as `Display`, so that settings can be logged with `{:?}` and no password leaks.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(_) => write!(f, "Sqlite({self})"),
            Self::Postgres(_) => write!(f, "Postgres({self})"),
        }
    }
}

/// Writes `out` through a temporary file beside it (readable by its owner only) that takes the
/// final name only when `write` succeeded: an interrupted backup never looks like a whole one,
/// and an existing file is never replaced.
fn write_new(out: &Path, write: impl FnOnce(&Path) -> anyhow::Result<()>) -> anyhow::Result<()> {
    if out.exists() {
        return Err(anyhow::anyhow!(
            "{} exists; formseal never overwrites it",
            out.display()
        ));
    }
    let dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".formseal-")
        .suffix(".partial")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    write(tmp.path())?;
    tmp.as_file()
        .sync_all()
        .context("cannot flush the file to disk")?;
    tmp.persist_noclobber(out)
        .map_err(|e| anyhow::Error::new(e.error))
        .with_context(|| format!("cannot create {}", out.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_anything_else_a_sqlite_path() {
        let parse = |s: &str| s.parse::<Database>().unwrap();
        assert_eq!(
            parse("collector.sqlite"),
            Database::Sqlite("collector.sqlite".into())
        );
        assert!(matches!(parse("postgres://h/db"), Database::Postgres(_)));
        assert!(matches!(parse("postgresql://h/db"), Database::Postgres(_)));
        assert_eq!(
            parse("data/c.sqlite").relative_to(Path::new("/etc/formseal")),
            Database::Sqlite("/etc/formseal/data/c.sqlite".into())
        );
    }

    #[test]
    fn a_password_is_never_shown() {
        for url in [
            "postgres://collector:s3cret@db.internal:5432/formseal",
            "postgresql://db.internal/formseal?user=collector&password=s3cret",
        ] {
            let db: Database = url.parse().unwrap();
            let shown = format!("{db} {db:?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("db.internal"), "{shown}");
        }
    }
}
