//! The SQLite store, formseal's embedded default: one file in WAL mode, its migrations, and its
//! online backup and restore. The types it stores and the [`Store`] trait are in `store.rs`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context, anyhow};
use formseal_core::time::Date;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::{
    AuditEntry, AuditRecord, ConfirmMail, Cursor, CursorMoved, DeadLetter, Delivery, Expired,
    Inserted, MailState, NewEnvelope, Selection, Span, Spend, Spent, Store, StoredEnvelope,
};

/// The envelopes a purge on day `?1` deletes: expired ones, and double opt-in sign-ups mailed
/// and not confirmed by their due day. Dates are YYYY-MM-DD text, so text order is date order;
/// NULL never compares true.
const DOOMED: &str = "expires <= ?1 OR id IN (
         SELECT m.record FROM confirm_mails m
         WHERE m.state = 'sent' AND m.due <= ?1
             AND m.token NOT IN (SELECT token FROM confirmations))";

/// Schema migrations, applied in order; `PRAGMA user_version` counts the ones done.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_envelopes.sql"),
    include_str!("../../../migrations/0002_retention_audit.sql"),
    include_str!("../../../migrations/0003_outbox.sql"),
    include_str!("../../../migrations/0004_export_cursors.sql"),
    include_str!("../../../migrations/0005_form_index.sql"),
    include_str!("../../../migrations/0006_spent_solutions.sql"),
    include_str!("../../../migrations/0007_confirmations.sql"),
];

/// The SQLite store: one file in WAL mode with `synchronous=FULL`, one connection behind a mutex
/// (SQLite has a single writer anyway).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it and its table when missing.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        // WAL lets `formseal decrypt --db` read while the collector writes; FULL makes every
        // commit durable before a submission is acknowledged.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(anyhow!(
                "the database {} cannot use write-ahead logging (journal mode {mode})",
                path.display()
            ));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")?;
        migrate(&conn).with_context(|| format!("cannot set up {}", path.display()))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// A store that lives in memory only and is gone when dropped: for fuzzing and tests that
    /// need no file. Same schema, no durability.
    pub fn in_memory() -> anyhow::Result<Self> {
        let conn = Connection::open_in_memory().context("cannot open an in-memory database")?;
        migrate(&conn).context("cannot set up the in-memory database")?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing collector database for reading and appending to its audit log
    /// (`formseal decrypt --db`, `export`, `purge`, `audit`): a missing file or another
    /// program's database is an error, not a new empty store.
    pub fn open_existing(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            return Err(anyhow!("{} does not exist", path.display()));
        }
        Self::open_read_only(path)?;
        Self::open(path)
    }

    /// Opens an existing database for reading only.
    pub fn open_read_only(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the database {}", path.display()))?;
        conn.execute_batch("PRAGMA busy_timeout = 5000;")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version < 1 {
            return Err(anyhow!(
                "{} is not a formseal collector database",
                path.display()
            ));
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done transaction behind (rusqlite
        // rolls back on drop), so the connection is still good to use.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores an envelope unless it is stored already or its form holds `max` envelopes.
    fn insert_limited(
        &self,
        envelope: &NewEnvelope<'_>,
        max: Option<u64>,
    ) -> anyhow::Result<Inserted> {
        let mut conn = self.conn();
        // IMMEDIATE takes the write lock before the count: another process writing to the same
        // file waits, so it cannot store the form's last envelope between our count and insert.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(max) = max {
            let stored: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM envelopes WHERE id = ?1)",
                params![envelope.id],
                |row| row.get(0),
            )?;
            if stored {
                return Ok(Inserted::Duplicate);
            }
            let count: i64 = tx.query_row(
                "SELECT count(*) FROM envelopes WHERE form = ?1",
                params![envelope.form],
                |row| row.get(0),
            )?;
            if u64::try_from(count).unwrap_or(0) >= max {
                return Ok(Inserted::Full);
            }
        }
        let changed = tx
            .execute(
                "INSERT INTO envelopes (id, form, kids, received, expires, jwe)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO NOTHING",
                params![
                    envelope.id,
                    envelope.form,
                    envelope.kids.join(" "),
                    envelope.received.to_string(),
                    envelope.expires.to_string(),
                    envelope.jwe
                ],
            )
            .context("cannot store the envelope")?;
        if changed == 1 && envelope.deliver {
            tx.execute(
                "INSERT INTO outbox (envelope_id) VALUES (?1)",
                params![envelope.id],
            )
            .context("cannot queue the envelope for delivery")?;
        }
        tx.commit().context("cannot store the envelope")?;
        Ok(if changed == 1 {
            Inserted::New
        } else {
            Inserted::Duplicate
        })
    }
}

impl Store for SqliteStore {
    fn insert(&self, envelope: &NewEnvelope<'_>) -> anyhow::Result<Inserted> {
        self.insert_limited(envelope, None)
    }

    fn insert_at_most(&self, envelope: &NewEnvelope<'_>, max: u64) -> anyhow::Result<Inserted> {
        self.insert_limited(envelope, Some(max))
    }

    fn spend_solution(&self, spend: &Spend, now: i64) -> anyhow::Result<Spent> {
        let mut conn = self.conn();
        // A spend is not worth a sync of its own: the envelope's insert right after it syncs
        // the log, spend included, and a spend lost in a power cut only lets that solution
        // through once more. So this one commit is NORMAL (in WAL mode: consistent, not
        // synced), and the connection is FULL again for every other.
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        let spent = spend_once(&mut conn, spend, now);
        conn.execute_batch("PRAGMA synchronous = FULL")?;
        spent
    }

    fn for_each_selected(
        &self,
        selection: Selection,
        each: &mut dyn FnMut(StoredEnvelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let conn = self.conn();
        let (since, after, up_to) = selection_params(selection);
        let mut statement = conn.prepare(
            "SELECT id, form, received, expires, jwe FROM envelopes
             WHERE received >= ?1 AND (?2 IS NULL OR (seq > ?2 AND seq <= ?3))
             ORDER BY rowid",
        )?;
        let mut rows = statement.query(params![since, after, up_to])?;
        while let Some(row) = rows.next().context("cannot read the envelopes")? {
            each(StoredEnvelope {
                id: row.get(0)?,
                form: row.get(1)?,
                received: row.get(2)?,
                expires: row.get(3)?,
                jwe: row.get(4)?,
            })?;
        }
        Ok(())
    }

    fn count(&self) -> anyhow::Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT count(*) FROM envelopes", [], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn count_selected(&self, selection: Selection) -> anyhow::Result<u64> {
        let (since, after, up_to) = selection_params(selection);
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM envelopes
             WHERE received >= ?1 AND (?2 IS NULL OR (seq > ?2 AND seq <= ?3))",
            params![since, after, up_to],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn cursor(&self, name: &str) -> anyhow::Result<Cursor> {
        let conn = self.conn();
        // One read transaction: the cursor and the newest number are from the same moment.
        // Numbers are given in the inserting transaction and SQLite has one writer, so every
        // envelope up to the newest number is stored (or was erased) already.
        let tx = conn.unchecked_transaction()?;
        let after: Option<i64> = tx
            .query_row(
                "SELECT position FROM export_cursors WHERE name = ?1",
                params![name],
                |row| row.get(0),
            )
            .optional()?;
        let up_to: i64 = tx.query_row("SELECT last FROM envelope_seq", [], |row| row.get(0))?;
        tx.finish()?;
        Ok(Cursor {
            name: name.to_string(),
            span: Span {
                after: after.unwrap_or(0),
                up_to,
            },
        })
    }

    fn advance_cursor(&self, cursor: &Cursor, audit: &AuditEntry) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<i64> = tx
            .query_row(
                "SELECT position FROM export_cursors WHERE name = ?1",
                params![cursor.name],
                |row| row.get(0),
            )
            .optional()?;
        let found = found.unwrap_or(0);
        if found != cursor.span.after {
            return Err(CursorMoved {
                name: cursor.name.clone(),
                expected: cursor.span.after,
                found,
            }
            .into());
        }
        tx.execute(
            "INSERT INTO export_cursors (name, position) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            params![cursor.name, cursor.span.up_to],
        )
        .context("cannot move the export cursor")?;
        append_audit(&tx, audit)?;
        tx.commit().context("cannot move the export cursor")?;
        Ok(())
    }

    fn expired(&self, today: Date) -> anyhow::Result<Expired> {
        let (expired, undated, doomed): (i64, i64, i64) = self.conn().query_row(
            &format!(
                "SELECT count(*) FILTER (WHERE expires <= ?1), count(*) FILTER (WHERE expires IS NULL),
                        count(*) FILTER (WHERE {DOOMED})
                 FROM envelopes"
            ),
            params![today.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        Ok(Expired {
            expired: u64::try_from(expired).unwrap_or(0),
            undated: u64::try_from(undated).unwrap_or(0),
            unconfirmed: u64::try_from(doomed - expired).unwrap_or(0),
        })
    }

    fn purge(&self, today: Date, audit: &AuditEntry) -> anyhow::Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ids = {
            let mut statement = tx.prepare(&format!("SELECT id FROM envelopes WHERE {DOOMED}"))?;
            statement
                .query_map(params![today.to_string()], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        let deleted = delete_records(&tx, &ids).context("cannot delete expired envelopes")?;
        append_audit(
            &tx,
            &AuditEntry {
                records: deleted,
                ..audit.clone()
            },
        )?;
        tx.commit().context("cannot commit the purge")?;
        Ok(deleted)
    }

    fn delete(&self, ids: &[String], audit: &AuditEntry) -> anyhow::Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let deleted = delete_records(&tx, ids)?;
        append_audit(
            &tx,
            &AuditEntry {
                records: deleted,
                ..audit.clone()
            },
        )?;
        tx.commit().context("cannot commit the deletion")?;
        Ok(deleted)
    }

    fn confirm(&self, token: &str, hour: &str) -> anyhow::Result<bool> {
        let n = self
            .conn()
            .execute(
                "INSERT INTO confirmations (token, at) VALUES (?1, ?2)
                 ON CONFLICT (token) DO NOTHING",
                params![token, hour],
            )
            .context("cannot store the confirmation")?;
        Ok(n == 1)
    }

    fn confirmations(&self) -> anyhow::Result<HashMap<String, String>> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT token, at FROM confirmations")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn claim_mail(&self, mail: &ConfirmMail) -> anyhow::Result<bool> {
        let n = self
            .conn()
            .execute(
                "INSERT INTO confirm_mails (record, token, state, due, at)
                 VALUES (?1, ?2, 'sending', ?3, ?4) ON CONFLICT (record) DO NOTHING",
                params![
                    mail.record,
                    mail.token,
                    mail.due.map(|d| d.to_string()),
                    mail.at
                ],
            )
            .context("cannot claim the confirmation mail")?;
        Ok(n == 1)
    }

    fn mail_done(&self, record: &str, sent: bool) -> anyhow::Result<()> {
        let sql = if sent {
            "UPDATE confirm_mails SET state = 'sent' WHERE record = ?1"
        } else {
            "DELETE FROM confirm_mails WHERE record = ?1 AND state = 'sending'"
        };
        self.conn()
            .execute(sql, params![record])
            .context("cannot record the confirmation mail")?;
        Ok(())
    }

    fn mails(&self) -> anyhow::Result<HashMap<String, MailState>> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT record, state FROM confirm_mails")?;
        let mut rows = statement.query([])?;
        let mut mails = HashMap::new();
        while let Some(row) = rows.next()? {
            let state: String = row.get(1)?;
            mails.insert(row.get(0)?, MailState::parse(&state)?);
        }
        Ok(mails)
    }

    fn append_audit(&self, entry: &AuditEntry) -> anyhow::Result<()> {
        append_audit(&self.conn(), entry)
    }

    fn for_each_audit(
        &self,
        each: &mut dyn FnMut(AuditRecord) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT seq, at, actor, action, records, detail FROM audit_log ORDER BY seq",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next().context("cannot read the audit log")? {
            let records: i64 = row.get(4)?;
            each(AuditRecord {
                seq: row.get(0)?,
                entry: AuditEntry {
                    at: row.get(1)?,
                    actor: row.get(2)?,
                    action: row.get(3)?,
                    records: u64::try_from(records).unwrap_or(0),
                    detail: row.get(5)?,
                },
            })?;
        }
        Ok(())
    }

    fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> anyhow::Result<Vec<Delivery>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let claimed: Vec<(String, i64)> = {
            let mut statement = tx.prepare(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2
                 WHERE envelope_id IN (
                     SELECT envelope_id FROM outbox WHERE dead = 0 AND next_attempt <= ?1
                     ORDER BY next_attempt, rowid LIMIT ?3)
                 RETURNING envelope_id, attempts",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            statement
                .query_map(
                    params![now_ms, now_ms.saturating_add(lease_ms), limit],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?
                .collect::<Result<_, _>>()
                .context("cannot claim deliveries")?
        };
        let mut deliveries = Vec::with_capacity(claimed.len());
        for (id, attempts) in claimed {
            let jwe: String = tx.query_row(
                "SELECT jwe FROM envelopes WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )?;
            deliveries.push(Delivery {
                id,
                jwe,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            });
        }
        tx.commit().context("cannot claim deliveries")?;
        Ok(deliveries)
    }

    fn delivered(&self, id: &str) -> anyhow::Result<()> {
        self.conn()
            .execute("DELETE FROM outbox WHERE envelope_id = ?1", params![id])
            .context("cannot mark the delivery done")?;
        Ok(())
    }

    fn delivery_failed(
        &self,
        id: &str,
        retry_at_ms: Option<i64>,
        error: &str,
    ) -> anyhow::Result<()> {
        let conn = self.conn();
        match retry_at_ms {
            Some(at) => conn.execute(
                "UPDATE outbox SET next_attempt = ?2, last_error = ?3 WHERE envelope_id = ?1",
                params![id, at, error],
            ),
            None => conn.execute(
                "UPDATE outbox SET dead = 1, last_error = ?2 WHERE envelope_id = ?1",
                params![id, error],
            ),
        }
        .context("cannot record the failed delivery")?;
        Ok(())
    }

    fn queued_deliveries(&self) -> anyhow::Result<u64> {
        let n: i64 =
            self.conn()
                .query_row("SELECT count(*) FROM outbox WHERE dead = 0", [], |row| {
                    row.get(0)
                })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn dead_letters(&self) -> anyhow::Result<Vec<DeadLetter>> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT e.id, e.form, e.received, o.attempts, coalesce(o.last_error, '')
             FROM outbox o JOIN envelopes e ON e.id = o.envelope_id
             WHERE o.dead = 1 ORDER BY e.rowid",
        )?;
        let letters = statement
            .query_map([], |row| {
                let attempts: i64 = row.get(3)?;
                Ok(DeadLetter {
                    id: row.get(0)?,
                    form: row.get(1)?,
                    received: row.get(2)?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    last_error: row.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()
            .context("cannot read the dead letters")?;
        Ok(letters)
    }

    fn requeue(&self, id: Option<&str>) -> anyhow::Result<u64> {
        let changed = self
            .conn()
            .execute(
                "UPDATE outbox SET dead = 0, attempts = 0, next_attempt = 0
                 WHERE dead = 1 AND (?1 IS NULL OR envelope_id = ?1)",
                params![id],
            )
            .context("cannot requeue")?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }
}

/// Deletes the records with these ids and all that hangs on them: a queued webhook delivery
/// (an erased record is never sent on), its double opt-in mail and confirmation. Returns how many
/// records went; ids not in the store are skipped.
fn delete_records(tx: &rusqlite::Transaction<'_>, ids: &[String]) -> anyhow::Result<u64> {
    let mut unqueue = tx.prepare("DELETE FROM outbox WHERE envelope_id = ?1")?;
    let mut unconfirm = tx.prepare(
        "DELETE FROM confirmations WHERE token IN
             (SELECT token FROM confirm_mails WHERE record = ?1)",
    )?;
    let mut unmail = tx.prepare("DELETE FROM confirm_mails WHERE record = ?1")?;
    let mut statement = tx.prepare("DELETE FROM envelopes WHERE id = ?1")?;
    let mut deleted = 0u64;
    for id in ids {
        unqueue.execute(params![id])?;
        unconfirm.execute(params![id])?;
        unmail.execute(params![id])?;
        let n = statement
            .execute(params![id])
            .context("cannot delete an envelope")?;
        deleted += u64::try_from(n).unwrap_or(0);
    }
    Ok(deleted)
}

/// Records `spend` unless its challenge was spent before, in one transaction that also deletes
/// the rows of challenges expired by `now`; says on which envelope it is spent.
fn spend_once(conn: &mut Connection, spend: &Spend, now: i64) -> anyhow::Result<Spent> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The index on `expires` makes this a short range scan: most calls delete nothing.
    tx.execute(
        "DELETE FROM spent_solutions WHERE expires < ?1",
        params![now],
    )?;
    tx.execute(
        "INSERT INTO spent_solutions (challenge, envelope, expires) VALUES (?1, ?2, ?3)
         ON CONFLICT (challenge) DO NOTHING",
        params![spend.challenge, spend.envelope, spend.expires],
    )
    .context("cannot spend the proof of work")?;
    let envelope: String = tx.query_row(
        "SELECT envelope FROM spent_solutions WHERE challenge = ?1",
        params![spend.challenge],
        |row| row.get(0),
    )?;
    tx.commit().context("cannot spend the proof of work")?;
    Ok(if envelope == spend.envelope {
        Spent::OnThisEnvelope
    } else {
        Spent::OnAnother
    })
}

/// The parameters of a [`Selection`]: the day as `YYYY-MM-DD` (text order is date order; empty
/// for none), and the span's bounds (NULL for none).
fn selection_params(selection: Selection) -> (String, Option<i64>, Option<i64>) {
    let since = selection.since.map_or_else(String::new, |d| d.to_string());
    let span = selection.span;
    (since, span.map(|s| s.after), span.map(|s| s.up_to))
}

fn append_audit(conn: &Connection, entry: &AuditEntry) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, records, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            entry.at,
            entry.actor,
            entry.action,
            i64::try_from(entry.records).unwrap_or(i64::MAX),
            entry.detail
        ],
    )
    .context("cannot append to the audit log")?;
    Ok(())
}

/// Applies the migrations not applied yet, each in its own transaction.
fn migrate(conn: &Connection) -> anyhow::Result<()> {
    let done: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let done = usize::try_from(done).unwrap_or(0);
    if done > MIGRATIONS.len() {
        return Err(anyhow!(
            "the database was made by a newer formseal (schema {done}, this one knows {})",
            MIGRATIONS.len()
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}\nPRAGMA user_version = {}; COMMIT;",
            index + 1
        ))?;
    }
    Ok(())
}

/// `formseal backup` of a SQLite store: SQLite's online backup API copies every page inside one
/// read transaction, so the copy is a consistent snapshot while the collector goes on writing
/// (WAL readers do not block the writer). The copy is one self-contained file.
pub(super) fn backup(db: &Path, out: &Path) -> anyhow::Result<u64> {
    let source = SqliteStore::open_read_only(db)?;
    let source = source.conn();
    let mut records = 0;
    super::write_new(out, |tmp| {
        let mut target = Connection::open(tmp)?;
        copy_pages(&source, &mut target)?;
        // The source is in WAL mode and so is the copied header; a backup is better one file.
        let _: String = target.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))?;
        let n: i64 = target.query_row("SELECT count(*) FROM envelopes", [], |row| row.get(0))?;
        records = u64::try_from(n).unwrap_or(0);
        Ok(())
    })
    .with_context(|| format!("cannot back up {} to {}", db.display(), out.display()))?;
    Ok(records)
}

/// `formseal restore` into a SQLite file that does not exist yet: the backup's pages are copied
/// into a new file, which is then opened like the collector does (WAL, migrations).
pub(super) fn restore(backup: &Path, db: &Path) -> anyhow::Result<()> {
    if db.exists() {
        return Err(anyhow!(
            "{} exists; restore only into a new database file",
            db.display()
        ));
    }
    let source = SqliteStore::open_read_only(backup).with_context(|| {
        format!(
            "{} is not a backup of a SQLite store made by `formseal backup`",
            backup.display()
        )
    })?;
    let source = source.conn();
    super::write_new(db, |tmp| {
        let mut target = Connection::open(tmp)?;
        copy_pages(&source, &mut target)
    })
    .with_context(|| format!("cannot restore {} into {}", backup.display(), db.display()))?;
    SqliteStore::open(db).map(drop)
}

/// Copies all of `source` into `target` in one step, retrying while the source is locked.
fn copy_pages(source: &Connection, target: &mut Connection) -> anyhow::Result<()> {
    let backup = Backup::new(source, target)?;
    for _ in 0..100 {
        // -1: every page in one step, hence one read transaction and a consistent snapshot.
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::Busy | StepResult::Locked => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return Err(anyhow!("the backup stopped half-way ({other:?})")),
        }
    }
    Err(anyhow!("the database stayed locked for 5 seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn insert_is_idempotent_and_reads_back_in_order_from_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        let kids = vec!["k1".to_string()];
        let first = NewEnvelope {
            id: "a",
            form: "f",
            kids: &kids,
            received: date("2026-01-02"),
            expires: date("2028-01-02"),
            jwe: "x.y",
            deliver: false,
        };
        assert_eq!(store.insert(&first).unwrap(), Inserted::New);
        assert_eq!(store.insert(&first).unwrap(), Inserted::Duplicate);
        let second = NewEnvelope {
            id: "b",
            received: date("2026-01-03"),
            ..first.clone()
        };
        assert_eq!(store.insert(&second).unwrap(), Inserted::New);
        assert_eq!(store.count().unwrap(), 2);
        drop(store);

        // Reopening keeps the data and does not migrate twice.
        let store = SqliteStore::open(&path).unwrap();
        let reader = SqliteStore::open_read_only(&path).unwrap();
        for since in [None, Some(date("2026-01-03"))] {
            let mut ids = Vec::new();
            reader
                .for_each(since, &mut |e| {
                    ids.push(e.id);
                    Ok(())
                })
                .unwrap();
            let expected: &[&str] = if since.is_none() { &["a", "b"] } else { &["b"] };
            assert_eq!(ids, expected);
        }
        assert_eq!(store.count().unwrap(), 2);
    }

    #[test]
    fn an_in_memory_store_has_the_same_schema() {
        let store = SqliteStore::in_memory().unwrap();
        assert_eq!(store.count().unwrap(), 0);
        store.append_audit(&audit("decrypt")).unwrap();
        assert!(store.conn().execute("DELETE FROM audit_log", []).is_err());
    }

    fn audit(action: &str) -> AuditEntry {
        AuditEntry {
            at: "2026-11-24T10:11:12Z".into(),
            actor: "anna".into(),
            action: action.into(),
            records: 0,
            detail: String::new(),
        }
    }

    #[test]
    fn delete_removes_the_given_records_and_logs_how_many_in_one_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.sqlite")).unwrap();
        let kids = vec!["k1".to_string()];
        for id in ["a", "b", "c"] {
            let envelope = NewEnvelope {
                id,
                form: "f",
                kids: &kids,
                received: date("2026-01-01"),
                expires: date("2027-01-01"),
                jwe: "x.y",
                deliver: true,
            };
            store.insert(&envelope).unwrap();
        }
        let ids = ["a".to_string(), "c".to_string(), "gone".to_string()];
        assert_eq!(store.delete(&ids, &audit("erase")).unwrap(), 2);
        assert_eq!(store.count().unwrap(), 1);
        let queued: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(queued, 1, "only b is still queued for the webhook");
        let mut log = Vec::new();
        store
            .for_each_audit(&mut |line| {
                log.push((line.entry.action, line.entry.records));
                Ok(())
            })
            .unwrap();
        assert_eq!(log, [("erase".to_string(), 2)]);
    }

    #[test]
    fn purge_deletes_what_expired_keeps_the_rest_and_logs_how_many() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.sqlite")).unwrap();
        let kids = vec!["k1".to_string()];
        for (id, expires) in [
            ("old", "2026-11-23"),
            ("today", "2026-11-24"),
            ("later", "2026-11-25"),
        ] {
            let envelope = NewEnvelope {
                id,
                form: "f",
                kids: &kids,
                received: date("2026-01-01"),
                expires: date(expires),
                jwe: "x.y",
                deliver: true,
            };
            store.insert(&envelope).unwrap();
        }
        // A row from before retention dates were recorded.
        store
            .conn()
            .execute(
                "INSERT INTO envelopes (id, form, kids, received, jwe) VALUES ('undated', 'f', 'k1', '2025-01-01', 'x.y')",
                [],
            )
            .unwrap();

        let today = date("2026-11-24");
        assert_eq!(
            store.expired(today).unwrap(),
            Expired {
                expired: 2,
                undated: 1,
                unconfirmed: 0,
            }
        );
        assert_eq!(store.count().unwrap(), 4, "counting deletes nothing");
        assert_eq!(store.purge(today, &audit("purge")).unwrap(), 2);
        let mut left = Vec::new();
        store
            .for_each(None, &mut |e| {
                left.push(e.id);
                Ok(())
            })
            .unwrap();
        assert_eq!(left, ["later", "undated"]);
        // Their deliveries went with them.
        let queued: Vec<String> = store
            .claim_deliveries(0, 1, 10)
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(queued, ["later"]);
        assert_eq!(store.purge(today, &audit("purge")).unwrap(), 0);

        let mut log = Vec::new();
        store
            .for_each_audit(&mut |line| {
                log.push((line.seq, line.entry.action, line.entry.records));
                Ok(())
            })
            .unwrap();
        assert_eq!(log, [(1, "purge".into(), 2), (2, "purge".into(), 0)]);
    }

    #[test]
    fn the_outbox_leases_retries_gives_up_and_requeues() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.sqlite")).unwrap();
        let kids = vec!["k1".to_string()];
        for (id, deliver) in [("a", true), ("b", true), ("quiet", false)] {
            let envelope = NewEnvelope {
                id,
                form: "f",
                kids: &kids,
                received: date("2026-01-01"),
                expires: date("2027-01-01"),
                jwe: &format!("jwe-{id}"),
                deliver,
            };
            store.insert(&envelope).unwrap();
            // A duplicate post queues nothing more.
            store.insert(&envelope).unwrap();
        }
        let claim = |now| -> Vec<(String, String, u32)> {
            store
                .claim_deliveries(now, 100, 10)
                .unwrap()
                .into_iter()
                .map(|d| (d.id, d.jwe, d.attempts))
                .collect()
        };
        assert_eq!(
            claim(1_000),
            [
                ("a".into(), "jwe-a".into(), 1),
                ("b".into(), "jwe-b".into(), 1)
            ]
        );
        assert!(claim(1_050).is_empty(), "leased until 1100");
        store.delivered("a").unwrap();
        assert_eq!(store.queued_deliveries().unwrap(), 1);
        store.delivery_failed("b", Some(2_000), "HTTP 500").unwrap();
        assert!(claim(1_999).is_empty());
        assert_eq!(claim(2_000), [("b".into(), "jwe-b".into(), 2)]);
        store.delivery_failed("b", None, "timed out").unwrap();
        assert!(claim(i64::MAX).is_empty(), "a dead letter is not retried");
        let dead = store.dead_letters().unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(
            (
                dead[0].id.as_str(),
                dead[0].attempts,
                dead[0].last_error.as_str()
            ),
            ("b", 2, "timed out")
        );
        assert_eq!(store.requeue(Some("a")).unwrap(), 0, "a was delivered");
        assert_eq!(store.requeue(None).unwrap(), 1);
        assert!(store.dead_letters().unwrap().is_empty());
        assert_eq!(claim(3_000), [("b".into(), "jwe-b".into(), 1)]);
    }

    #[test]
    fn the_audit_log_refuses_updates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.sqlite")).unwrap();
        store.append_audit(&audit("decrypt")).unwrap();
        store.append_audit(&audit("export")).unwrap();
        let conn = store.conn();
        for sql in [
            "UPDATE audit_log SET actor = 'nobody'",
            "UPDATE audit_log SET records = 0 WHERE seq = 2",
            "DELETE FROM audit_log",
            "DELETE FROM audit_log WHERE seq = 1",
        ] {
            let err = conn.execute(sql, []).unwrap_err().to_string();
            assert!(err.contains("the audit log is append-only"), "{sql}: {err}");
        }
        let rows: i64 = conn
            .query_row(
                "SELECT count(*) FROM audit_log WHERE actor = 'anna'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 2);
    }

    #[test]
    fn read_only_refuses_a_missing_or_foreign_database() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SqliteStore::open_read_only(&dir.path().join("none.sqlite")).is_err());
        let err = SqliteStore::open_existing(&dir.path().join("none.sqlite")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(!dir.path().join("none.sqlite").exists());
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        assert!(SqliteStore::open_existing(&other).is_err());
        let err = SqliteStore::open_read_only(&other).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a formseal collector database")
        );
    }

    #[test]
    fn journal_is_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.sqlite")).unwrap();
        // A spend commits without a sync of its own and leaves the connection synced again.
        let spend = Spend {
            challenge: "c".into(),
            envelope: "e".into(),
            expires: 2,
        };
        assert_eq!(
            store.spend_solution(&spend, 1).unwrap(),
            Spent::OnThisEnvelope
        );
        let conn = store.conn();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }
}
