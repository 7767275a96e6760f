//! The PostgreSQL store, for collectors that outgrow one machine: several `formseal serve`
//! processes share one database. Each store runs tokio-postgres on a small runtime of its own,
//! so its blocking methods work from any thread, and reconnects when the server restarts.
//! Also its migrations and its backups (`pg_dump`, `pg_restore`). The types it stores and the
//! [`Store`] trait are in `store.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow};
use formseal_core::time::Date;
use futures_util::future::BoxFuture;
use tokio::runtime::{Handle, Runtime};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

use super::{
    AuditEntry, AuditRecord, ConfirmMail, Cursor, CursorMoved, DeadLetter, Delivery, Expired,
    Inserted, MailState, NewEnvelope, Selection, Span, Spend, Spent, Store, StoredEnvelope,
};

/// The envelopes a purge on day `$1` deletes: expired ones, and double opt-in sign-ups mailed
/// and not confirmed by their due day (the twin of the SQLite store's).
const DOOMED: &str = "expires <= $1::text::date OR id IN (
         SELECT m.record FROM confirm_mails m
         WHERE m.state = 'sent' AND m.due <= $1::text::date
             AND m.token NOT IN (SELECT token FROM confirmations))";

/// Schema migrations, applied in order; the table `formseal_schema` records the ones done.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_envelopes.sql"),
    include_str!("../../../migrations/postgres/0002_retention_audit.sql"),
    include_str!("../../../migrations/postgres/0003_outbox.sql"),
    include_str!("../../../migrations/postgres/0004_export_cursors.sql"),
    include_str!("../../../migrations/postgres/0005_form_index.sql"),
    include_str!("../../../migrations/postgres/0006_spent_solutions.sql"),
    include_str!("../../../migrations/postgres/0007_confirmations.sql"),
];

/// Connections one store keeps open at most; statements on one connection queue up. Several
/// collector processes share a server whose `max_connections` is 100 by default.
const POOL_SIZE: usize = 8;

/// Used when the URL does not set `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Rows `for_each` reads per round trip.
const PAGE: i64 = 500;

/// The advisory lock held while migrating ("formseal" in ASCII), so that collectors started
/// together on a new database create its tables once.
const MIGRATION_LOCK: i64 = 0x666f_726d_7365_616c;

/// Whether `text` is a PostgreSQL URL rather than a file name.
pub(super) fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// The URL with its password (in the user part or as `password=`) replaced by `***`.
pub(super) fn redact(url: &str) -> String {
    rewrite_password(url, Some("***"))
}

/// The URL with its password replaced by `with`, or removed when `with` is `None`.
fn rewrite_password(url: &str, with: Option<&str>) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match (userinfo.split_once(':'), with) {
            (Some((user, _)), Some(with)) => format!("{user}:{with}@{host}"),
            (Some((user, _)), None) => format!("{user}@{host}"),
            (None, _) => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .filter_map(|pair| match (pair.starts_with("password="), with) {
                    (false, _) => Some(pair.to_string()),
                    (true, Some(with)) => Some(format!("password={with}")),
                    (true, None) => None,
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The PostgreSQL store. Every write is one statement in its own transaction with
/// `synchronous_commit = on`, so `insert` returns once the row is on the server's disk.
pub struct PostgresStore {
    pool: Arc<Pool>,
    handle: Handle,
    /// Shut down without waiting when the store is dropped (which may happen on an async task).
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresStore({})", self.pool.shown)
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and creates or updates formseal's tables.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let store = Self::connect(url)?;
        store
            .block(|pool| async move { pool.migrate().await })
            .with_context(|| format!("cannot set up {}", store.pool.shown))?;
        Ok(store)
    }

    /// Connects to a database the collector has set up, to read it; refuses any other.
    pub fn open_existing(url: &str) -> anyhow::Result<Self> {
        let store = Self::connect(url)?;
        let version = store.block(|pool| async move {
            let client = pool.client().await?;
            schema_version(&client).await
        })?;
        if version < 1 {
            return Err(anyhow!(
                "{} is not a formseal collector database",
                store.pool.shown
            ));
        }
        Ok(store)
    }

    /// Parses the URL, starts the store's runtime and opens the first connection, so that a
    /// wrong URL or an unreachable server fails now.
    fn connect(url: &str) -> anyhow::Result<Self> {
        let shown = redact(url);
        let mut config: Config = url
            .parse()
            .map_err(|err| anyhow!("{shown} is not a PostgreSQL URL: {err}"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("formseal");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("formseal-postgres")
            .enable_all()
            .build()
            .context("cannot start the database runtime")?;
        let store = Self {
            pool: Arc::new(Pool {
                config,
                shown,
                slots: (0..POOL_SIZE)
                    .map(|_| tokio::sync::Mutex::new(None))
                    .collect(),
                next: AtomicUsize::new(0),
            }),
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        };
        store.block(|pool| async move { pool.client().await.map(drop) })?;
        Ok(store)
    }

    /// Runs `work` on the store's runtime and waits for it. A plain channel carries the result
    /// back, so this blocks like file I/O does, from any thread (even an async task's).
    fn block<T, F, Fut>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(Arc<Pool>) -> Fut,
        Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let work = work(Arc::clone(&self.pool));
        self.handle.spawn(async move {
            let _ = sender.send(work.await);
        });
        receiver
            .recv()
            .unwrap_or_else(|_| Err(anyhow!("the database task stopped")))
    }
}

/// The columns of `envelopes` for `envelope`, owned for the database task.
fn row_of(envelope: &NewEnvelope<'_>) -> [String; 6] {
    [
        envelope.id.to_string(),
        envelope.form.to_string(),
        envelope.kids.join(" "),
        envelope.received.to_string(),
        envelope.expires.to_string(),
        envelope.jwe.to_string(),
    ]
}

impl Store for PostgresStore {
    fn insert(&self, envelope: &NewEnvelope<'_>) -> anyhow::Result<Inserted> {
        let row = row_of(envelope);
        let deliver = envelope.deliver;
        let changed: i64 = self
            .block(|pool| async move {
                let row = &row;
                let stored = pool
                    .run(|client| {
                        Box::pin(async move {
                            // One statement, so one transaction: the envelope and its place in
                            // the webhook queue are stored together or not at all. Typed
                            // parameters: one round trip, no statement to prepare first.
                            client
                                .query_typed(
                                    "WITH stored AS (
                                         INSERT INTO envelopes (id, form, kids, received, expires, jwe)
                                         VALUES ($1, $2, $3, $4::date, $5::date, $6)
                                         ON CONFLICT (id) DO NOTHING RETURNING id),
                                     queued AS (
                                         INSERT INTO outbox (envelope_id)
                                         SELECT id FROM stored WHERE $7 RETURNING 1)
                                     SELECT count(*) FROM stored",
                                    &[
                                        (&row[0], Type::TEXT),
                                        (&row[1], Type::TEXT),
                                        (&row[2], Type::TEXT),
                                        (&row[3], Type::TEXT),
                                        (&row[4], Type::TEXT),
                                        (&row[5], Type::TEXT),
                                        (&deliver, Type::BOOL),
                                    ],
                                )
                                .await
                        })
                    })
                    .await?;
                match stored.first() {
                    Some(row) => Ok(row.try_get(0)?),
                    None => Ok(0),
                }
            })
            .context("cannot store the envelope")?;
        Ok(if changed == 1 {
            Inserted::New
        } else {
            Inserted::Duplicate
        })
    }

    fn insert_at_most(&self, envelope: &NewEnvelope<'_>, max: u64) -> anyhow::Result<Inserted> {
        let row = row_of(envelope);
        let deliver = envelope.deliver;
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        self.block(|pool| async move {
            // Its own connection: a transaction needs one to itself. Only forms with a limit or
            // a closing date pay for it.
            let mut client = pool.open().await?;
            let tx = client.transaction().await?;
            // One lock per form id, held until the commit: collectors storing envelopes of the
            // same form take turns, and each statement after it sees what the others stored
            // (read committed takes a new snapshot per statement).
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('formseal form ' || $1, 0))",
                &[&row[1]],
            )
            .await?;
            let stored: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM envelopes WHERE id = $1)",
                    &[&row[0]],
                )
                .await?
                .try_get(0)?;
            if stored {
                return Ok(Inserted::Duplicate);
            }
            let count: i64 = tx
                .query_one("SELECT count(*) FROM envelopes WHERE form = $1", &[&row[1]])
                .await?
                .try_get(0)?;
            if count >= max {
                return Ok(Inserted::Full);
            }
            let changed = tx
                .execute(
                    "INSERT INTO envelopes (id, form, kids, received, expires, jwe)
                     VALUES ($1, $2, $3, $4::text::date, $5::text::date, $6)
                     ON CONFLICT (id) DO NOTHING",
                    &[&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]],
                )
                .await?;
            if changed == 1 && deliver {
                tx.execute("INSERT INTO outbox (envelope_id) VALUES ($1)", &[&row[0]])
                    .await?;
            }
            tx.commit().await?;
            Ok(if changed == 1 {
                Inserted::New
            } else {
                Inserted::Duplicate
            })
        })
        .context("cannot store the envelope")
    }

    fn spend_solution(&self, spend: &Spend, now: i64) -> anyhow::Result<Spent> {
        let row = [spend.challenge.clone(), spend.envelope.clone()];
        let expires = spend.expires;
        let envelope: String = self
            .block(|pool| async move {
                let (row, expires) = (&row, &expires);
                let spent = pool
                    .run(|client| {
                        Box::pin(async move {
                            // One statement. The upsert locks the challenge's row, so a second
                            // spend of it waits for the first to commit and reads back the
                            // envelope it was spent on; a plain DO NOTHING would read nothing.
                            // Expired rows go in small batches that skip rows another
                            // collector is deleting, so no spend ever waits on a clean-up.
                            // `async` commits without waiting for the disk: the envelope's
                            // insert right after it flushes the log, spend included, and a
                            // spend lost in a crash only lets that solution through once more.
                            client
                                .query_typed(
                                    "WITH async AS (
                                         SELECT set_config('synchronous_commit', 'off', true)),
                                     gone AS (
                                         DELETE FROM spent_solutions WHERE challenge IN (
                                             SELECT challenge FROM spent_solutions
                                             WHERE expires < $4 AND challenge <> $1
                                             LIMIT 100 FOR UPDATE SKIP LOCKED))
                                     INSERT INTO spent_solutions (challenge, envelope, expires)
                                     SELECT $1, $2, $3 FROM async
                                     ON CONFLICT (challenge)
                                         DO UPDATE SET envelope = spent_solutions.envelope
                                     RETURNING envelope",
                                    &[
                                        (&row[0], Type::TEXT),
                                        (&row[1], Type::TEXT),
                                        (expires, Type::INT8),
                                        (&now, Type::INT8),
                                    ],
                                )
                                .await
                        })
                    })
                    .await?;
                match spent.first() {
                    Some(row) => Ok(row.try_get(0)?),
                    None => Err(anyhow!("the spend returned no row")),
                }
            })
            .context("cannot spend the proof of work")?;
        Ok(if envelope == spend.envelope {
            Spent::OnThisEnvelope
        } else {
            Spent::OnAnother
        })
    }

    fn for_each_selected(
        &self,
        selection: Selection,
        each: &mut dyn FnMut(StoredEnvelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let since = selection.since.map(|day| day.to_string());
        let up_to = selection.span.map(|span| span.up_to);
        // Page by page after the last `seq` seen: no connection is held while `each` runs, and
        // a page can be read again on a new connection after a restart.
        let mut after: i64 = selection.span.map_or(0, |span| span.after);
        loop {
            let since = since.clone();
            let page = self
                .block(|pool| async move {
                    let (after, since, up_to) = (&after, &since, &up_to);
                    pool.run(|client| {
                        Box::pin(async move {
                            let params: [&(dyn ToSql + Sync); 4] = [after, since, &PAGE, up_to];
                            client
                                .query(
                                    "SELECT seq, id, form, to_char(received, 'YYYY-MM-DD'),
                                         to_char(expires, 'YYYY-MM-DD'), jwe
                                     FROM envelopes
                                     WHERE seq > $1 AND ($2::text IS NULL OR received >= $2::text::date)
                                         AND ($4::bigint IS NULL OR seq <= $4::bigint)
                                     ORDER BY seq LIMIT $3",
                                    &params,
                                )
                                .await
                        })
                    })
                    .await
                })
                .context("cannot read the envelopes")?;
            let full = page.len() == usize::try_from(PAGE).unwrap_or(usize::MAX);
            for row in page {
                after = row.try_get(0)?;
                each(StoredEnvelope {
                    id: row.try_get(1)?,
                    form: row.try_get(2)?,
                    received: row.try_get(3)?,
                    expires: row.try_get(4)?,
                    jwe: row.try_get(5)?,
                })?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn count(&self) -> anyhow::Result<u64> {
        let n: i64 = self.block(|pool| async move {
            let row = pool
                .run(|client| {
                    Box::pin(async move {
                        client
                            .query_one("SELECT count(*) FROM envelopes", &[])
                            .await
                    })
                })
                .await?;
            Ok(row.try_get(0)?)
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn count_selected(&self, selection: Selection) -> anyhow::Result<u64> {
        let since = selection.since.map(|day| day.to_string());
        let span = selection.span.map(|span| (span.after, span.up_to));
        let (after, up_to) = (span.map(|s| s.0), span.map(|s| s.1));
        let n: i64 = self.block(|pool| async move {
            let (since, after, up_to) = (&since, &after, &up_to);
            let row = pool
                .run(|client| {
                    Box::pin(async move {
                        client
                            .query_one(
                                "SELECT count(*) FROM envelopes
                                 WHERE ($1::text IS NULL OR received >= $1::text::date)
                                     AND ($2::bigint IS NULL OR (seq > $2::bigint AND seq <= $3::bigint))",
                                &[since, after, up_to],
                            )
                            .await
                    })
                })
                .await?;
            Ok(row.try_get(0)?)
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn cursor(&self, name: &str) -> anyhow::Result<Cursor> {
        let name = name.to_string();
        self.block(|pool| async move {
            let mut client = pool.open().await?;
            let tx = client.transaction().await?;
            // `seq` is taken from its sequence when an insert runs, but the inserts of several
            // collectors commit in any order: a number may be visible before a smaller one is.
            // SHARE mode waits for every insert under way (they hold ROW EXCLUSIVE) and keeps
            // new ones out for the moment of this read, so every number up to the newest seen
            // belongs to a committed envelope (or an erased one), and later ones are larger.
            tx.batch_execute("LOCK TABLE envelopes IN SHARE MODE")
                .await
                .context("cannot read the export cursor")?;
            let up_to: i64 = tx
                .query_one("SELECT coalesce(max(seq), 0) FROM envelopes", &[])
                .await?
                .try_get(0)?;
            let after: Option<i64> = tx
                .query_opt(
                    "SELECT position FROM export_cursors WHERE name = $1",
                    &[&name],
                )
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            tx.commit().await?;
            let after = after.unwrap_or(0);
            Ok(Cursor {
                name,
                span: Span {
                    after,
                    // Never behind the cursor, even if its newest envelopes were erased.
                    up_to: up_to.max(after),
                },
            })
        })
    }

    fn advance_cursor(&self, cursor: &Cursor, audit: &AuditEntry) -> anyhow::Result<()> {
        let (cursor, audit) = (cursor.clone(), audit.clone());
        self.block(|pool| async move {
            let mut client = pool.open().await?;
            let tx = client.transaction().await?;
            // A missing cursor stands at 0. Inserting it first makes its row exist, so two
            // first exports at once both lock the same row below and the second sees the first.
            tx.execute(
                "INSERT INTO export_cursors (name, position) VALUES ($1, 0)
                 ON CONFLICT (name) DO NOTHING",
                &[&cursor.name],
            )
            .await?;
            let found: i64 = tx
                .query_one(
                    "SELECT position FROM export_cursors WHERE name = $1 FOR UPDATE",
                    &[&cursor.name],
                )
                .await?
                .try_get(0)?;
            if found != cursor.span.after {
                return Err(CursorMoved {
                    name: cursor.name.clone(),
                    expected: cursor.span.after,
                    found,
                }
                .into());
            }
            tx.execute(
                "UPDATE export_cursors SET position = $2 WHERE name = $1",
                &[&cursor.name, &cursor.span.up_to],
            )
            .await
            .context("cannot move the export cursor")?;
            append_audit(&tx, &audit).await?;
            tx.commit().await.context("cannot move the export cursor")?;
            Ok(())
        })
    }

    fn expired(&self, today: Date) -> anyhow::Result<Expired> {
        let today = today.to_string();
        let (expired, undated, doomed): (i64, i64, i64) = self.block(|pool| async move {
            let today = &today;
            let row = pool
                .run(|client| {
                    Box::pin(async move {
                        client
                            .query_one(
                                &format!(
                                    "SELECT count(*) FILTER (WHERE expires <= $1::text::date),
                                            count(*) FILTER (WHERE expires IS NULL),
                                            count(*) FILTER (WHERE {DOOMED})
                                     FROM envelopes"
                                ),
                                &[today],
                            )
                            .await
                    })
                })
                .await?;
            Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
        })?;
        Ok(Expired {
            expired: u64::try_from(expired).unwrap_or(0),
            undated: u64::try_from(undated).unwrap_or(0),
            unconfirmed: u64::try_from(doomed - expired).unwrap_or(0),
        })
    }

    fn purge(&self, today: Date, audit: &AuditEntry) -> anyhow::Result<u64> {
        let (today, audit) = (today.to_string(), audit.clone());
        self.block(|pool| async move {
            // Its own connection: a transaction needs one to itself.
            let mut client = pool.open().await?;
            let tx = client.transaction().await?;
            let ids: Vec<String> = tx
                .query(
                    &format!("SELECT id FROM envelopes WHERE {DOOMED} FOR UPDATE"),
                    &[&today],
                )
                .await?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?;
            let deleted = delete_records(&tx, &ids)
                .await
                .context("cannot delete expired envelopes")?;
            let entry = AuditEntry {
                records: deleted,
                ..audit
            };
            append_audit(&tx, &entry).await?;
            tx.commit().await.context("cannot commit the purge")?;
            Ok(deleted)
        })
    }

    fn delete(&self, ids: &[String], audit: &AuditEntry) -> anyhow::Result<u64> {
        let (ids, audit) = (ids.to_vec(), audit.clone());
        self.block(|pool| async move {
            let mut client = pool.open().await?;
            let tx = client.transaction().await?;
            let deleted = delete_records(&tx, &ids).await?;
            let entry = AuditEntry {
                records: deleted,
                ..audit
            };
            append_audit(&tx, &entry).await?;
            tx.commit().await.context("cannot commit the deletion")?;
            Ok(deleted)
        })
    }

    fn confirm(&self, token: &str, hour: &str) -> anyhow::Result<bool> {
        let row = [token.to_owned(), hour.to_owned()];
        let n = self
            .block(|pool| async move {
                let row = &row;
                pool.run(|client| {
                    Box::pin(async move {
                        client
                            .execute(
                                "INSERT INTO confirmations (token, at) VALUES ($1, $2)
                                 ON CONFLICT (token) DO NOTHING",
                                &[&row[0], &row[1]],
                            )
                            .await
                    })
                })
                .await
            })
            .context("cannot store the confirmation")?;
        Ok(n == 1)
    }

    fn confirmations(&self) -> anyhow::Result<HashMap<String, String>> {
        let rows = self.block(|pool| async move {
            pool.run(|client| {
                Box::pin(async move {
                    client
                        .query("SELECT token, at FROM confirmations", &[])
                        .await
                })
            })
            .await
        })?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    fn claim_mail(&self, mail: &ConfirmMail) -> anyhow::Result<bool> {
        let row = [mail.record.clone(), mail.token.clone(), mail.at.clone()];
        let due = mail.due.map(|d| d.to_string());
        let n = self
            .block(|pool| async move {
                let (row, due) = (&row, &due);
                pool.run(|client| {
                    Box::pin(async move {
                        client
                            .execute(
                                "INSERT INTO confirm_mails (record, token, state, due, at)
                                 VALUES ($1, $2, 'sending', $3::text::date, $4)
                                 ON CONFLICT (record) DO NOTHING",
                                &[&row[0], &row[1], due, &row[2]],
                            )
                            .await
                    })
                })
                .await
            })
            .context("cannot claim the confirmation mail")?;
        Ok(n == 1)
    }

    fn mail_done(&self, record: &str, sent: bool) -> anyhow::Result<()> {
        let record = record.to_owned();
        let sql = if sent {
            "UPDATE confirm_mails SET state = 'sent' WHERE record = $1"
        } else {
            "DELETE FROM confirm_mails WHERE record = $1 AND state = 'sending'"
        };
        self.block(|pool| async move {
            let record = &record;
            pool.run(|client| Box::pin(async move { client.execute(sql, &[record]).await }))
                .await
        })
        .context("cannot record the confirmation mail")?;
        Ok(())
    }

    fn mails(&self) -> anyhow::Result<HashMap<String, MailState>> {
        let rows = self.block(|pool| async move {
            pool.run(|client| {
                Box::pin(async move {
                    client
                        .query("SELECT record, state FROM confirm_mails", &[])
                        .await
                })
            })
            .await
        })?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get(1)?;
                Ok((row.try_get(0)?, MailState::parse(&state)?))
            })
            .collect()
    }

    fn append_audit(&self, entry: &AuditEntry) -> anyhow::Result<()> {
        let entry = entry.clone();
        self.block(|pool| async move {
            let mut client = pool.open().await?;
            let tx = client.transaction().await?;
            append_audit(&tx, &entry).await?;
            tx.commit()
                .await
                .context("cannot append to the audit log")?;
            Ok(())
        })
    }

    fn for_each_audit(
        &self,
        each: &mut dyn FnMut(AuditRecord) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let rows = self
            .block(|pool| async move {
                pool.run(|client| {
                    Box::pin(async move {
                        client
                            .query(
                                "SELECT seq, at, actor, action, records, detail
                                 FROM audit_log ORDER BY seq",
                                &[],
                            )
                            .await
                    })
                })
                .await
            })
            .context("cannot read the audit log")?;
        for row in rows {
            let records: i64 = row.try_get(4)?;
            each(AuditRecord {
                seq: row.try_get(0)?,
                entry: AuditEntry {
                    at: row.try_get(1)?,
                    actor: row.try_get(2)?,
                    action: row.try_get(3)?,
                    records: u64::try_from(records).unwrap_or(0),
                    detail: row.try_get(5)?,
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
        let until = now_ms.saturating_add(lease_ms);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .block(|pool| async move {
                pool.run(|client| {
                    Box::pin(async move {
                        // SKIP LOCKED: collectors sharing the database claim different rows.
                        client
                            .query(
                                "UPDATE outbox o SET attempts = o.attempts + 1, next_attempt = $2
                                 FROM envelopes e
                                 WHERE e.id = o.envelope_id AND o.envelope_id IN (
                                     SELECT envelope_id FROM outbox
                                     WHERE NOT dead AND next_attempt <= $1
                                     ORDER BY next_attempt, seq LIMIT $3
                                     FOR UPDATE SKIP LOCKED)
                                 RETURNING o.envelope_id, e.jwe, o.attempts",
                                &[&now_ms, &until, &limit],
                            )
                            .await
                    })
                })
                .await
            })
            .context("cannot claim deliveries")?;
        rows.into_iter()
            .map(|row| {
                let attempts: i32 = row.try_get(2)?;
                Ok(Delivery {
                    id: row.try_get(0)?,
                    jwe: row.try_get(1)?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                })
            })
            .collect()
    }

    fn delivered(&self, id: &str) -> anyhow::Result<()> {
        let id = id.to_string();
        self.block(|pool| async move {
            let id = &id;
            pool.run(|client| {
                Box::pin(async move {
                    client
                        .execute("DELETE FROM outbox WHERE envelope_id = $1", &[id])
                        .await
                })
            })
            .await
        })
        .context("cannot mark the delivery done")?;
        Ok(())
    }

    fn delivery_failed(
        &self,
        id: &str,
        retry_at_ms: Option<i64>,
        error: &str,
    ) -> anyhow::Result<()> {
        let (id, error) = (id.to_string(), error.to_string());
        self.block(|pool| async move {
            let (id, error) = (&id, &error);
            pool.run(|client| {
                Box::pin(async move {
                    match retry_at_ms {
                        Some(at) => {
                            client
                                .execute(
                                    "UPDATE outbox SET next_attempt = $2, last_error = $3
                                     WHERE envelope_id = $1",
                                    &[id, &at, error],
                                )
                                .await
                        }
                        None => {
                            client
                                .execute(
                                    "UPDATE outbox SET dead = true, last_error = $2
                                     WHERE envelope_id = $1",
                                    &[id, error],
                                )
                                .await
                        }
                    }
                })
            })
            .await
        })
        .context("cannot record the failed delivery")?;
        Ok(())
    }

    fn queued_deliveries(&self) -> anyhow::Result<u64> {
        let n: i64 = self.block(|pool| async move {
            let row = pool
                .run(|client| {
                    Box::pin(async move {
                        client
                            .query_one("SELECT count(*) FROM outbox WHERE NOT dead", &[])
                            .await
                    })
                })
                .await?;
            Ok(row.try_get(0)?)
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn dead_letters(&self) -> anyhow::Result<Vec<DeadLetter>> {
        let rows = self
            .block(|pool| async move {
                pool.run(|client| {
                    Box::pin(async move {
                        client
                            .query(
                                "SELECT e.id, e.form, to_char(e.received, 'YYYY-MM-DD'),
                                        o.attempts, coalesce(o.last_error, '')
                                 FROM outbox o JOIN envelopes e ON e.id = o.envelope_id
                                 WHERE o.dead ORDER BY e.seq",
                                &[],
                            )
                            .await
                    })
                })
                .await
            })
            .context("cannot read the dead letters")?;
        rows.into_iter()
            .map(|row| {
                let attempts: i32 = row.try_get(3)?;
                Ok(DeadLetter {
                    id: row.try_get(0)?,
                    form: row.try_get(1)?,
                    received: row.try_get(2)?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    last_error: row.try_get(4)?,
                })
            })
            .collect()
    }

    fn requeue(&self, id: Option<&str>) -> anyhow::Result<u64> {
        let id = id.map(str::to_string);
        self.block(|pool| async move {
            let id = &id;
            pool.run(|client| {
                Box::pin(async move {
                    client
                        .execute(
                            "UPDATE outbox SET dead = false, attempts = 0, next_attempt = 0
                             WHERE dead AND ($1::text IS NULL OR envelope_id = $1)",
                            &[id],
                        )
                        .await
                })
            })
            .await
        })
        .context("cannot requeue")
    }
}

/// Appends `entry` inside `tx` with the next `seq`: the table lock makes concurrent appends
/// (several collectors, a purge and an export) take turns, so the numbers have no gaps.
/// Deletes the records with these ids and all that hangs on them: a queued webhook delivery
/// (an erased record is never sent on), its double opt-in mail and confirmation. Returns how many
/// records went; ids not in the store are skipped.
async fn delete_records(
    tx: &tokio_postgres::Transaction<'_>,
    ids: &[String],
) -> anyhow::Result<u64> {
    tx.execute("DELETE FROM outbox WHERE envelope_id = ANY($1)", &[&ids])
        .await?;
    tx.execute(
        "DELETE FROM confirmations WHERE token IN
             (SELECT token FROM confirm_mails WHERE record = ANY($1))",
        &[&ids],
    )
    .await?;
    tx.execute("DELETE FROM confirm_mails WHERE record = ANY($1)", &[&ids])
        .await?;
    tx.execute("DELETE FROM envelopes WHERE id = ANY($1)", &[&ids])
        .await
        .context("cannot delete an envelope")
}

async fn append_audit(
    tx: &tokio_postgres::Transaction<'_>,
    entry: &AuditEntry,
) -> anyhow::Result<()> {
    let records = i64::try_from(entry.records).unwrap_or(i64::MAX);
    tx.batch_execute("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, records, detail)
         SELECT coalesce(max(seq), 0) + 1, $1, $2, $3, $4, $5 FROM audit_log",
        &[
            &entry.at,
            &entry.actor,
            &entry.action,
            &records,
            &entry.detail,
        ],
    )
    .await
    .context("cannot append to the audit log")?;
    Ok(())
}

/// The version of formseal's schema in the database; 0 when it has none.
async fn schema_version(client: &Client) -> anyhow::Result<i32> {
    // A table that does not exist cannot even be named in a query that is not run.
    let exists: bool = client
        .query_one("SELECT to_regclass('formseal_schema') IS NOT NULL", &[])
        .await?
        .try_get(0)?;
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_one("SELECT coalesce(max(version), 0) FROM formseal_schema", &[])
        .await?
        .try_get(0)?)
}

/// A few connections, opened when first needed and used in turn; one the server closed (it
/// restarted, or dropped the session) is opened again in its place.
struct Pool {
    config: Config,
    /// The URL without its password, for messages.
    shown: String,
    slots: Vec<tokio::sync::Mutex<Option<Arc<Client>>>>,
    next: AtomicUsize,
}

impl Pool {
    /// The next connection in turn, opened (again) when it is missing or closed.
    async fn client(&self) -> anyhow::Result<Arc<Client>> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[index].lock().await;
        if let Some(client) = slot.as_ref()
            && !client.is_closed()
        {
            return Ok(Arc::clone(client));
        }
        *slot = None;
        let client = Arc::new(self.open().await?);
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }

    /// A new connection of its own (the pool's are shared), for transactions.
    async fn open(&self) -> anyhow::Result<Client> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .with_context(|| format!("cannot connect to {}", self.shown))?;
        // The connection ends when the client is dropped or the server goes away; the client
        // then reports `is_closed`, and the pool opens a new one.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        // An acknowledged submission must survive a crash of the server: never let a server or
        // role default of `synchronous_commit = off` apply to the collector's writes.
        client
            .batch_execute("SET synchronous_commit = on")
            .await
            .with_context(|| format!("cannot set up a connection to {}", self.shown))?;
        Ok(client)
    }

    /// Runs `work` on a connection. If it fails because the connection was closed (the server
    /// restarted), it runs once more on a new connection: everything run here may be repeated
    /// (an insert of an id that is stored already changes nothing).
    async fn run<'a, T>(
        &self,
        work: impl Fn(Arc<Client>) -> BoxFuture<'a, Result<T, tokio_postgres::Error>>,
    ) -> anyhow::Result<T> {
        let client = self.client().await?;
        match work(Arc::clone(&client)).await {
            Ok(value) => Ok(value),
            Err(err) if client.is_closed() || err.is_closed() => {
                let client = self.client().await.context(err)?;
                Ok(work(client).await?)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Applies the migrations not applied yet, in one transaction under [`MIGRATION_LOCK`].
    async fn migrate(&self) -> anyhow::Result<()> {
        let mut client = self.open().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS formseal_schema (version integer NOT NULL)")
            .await?;
        let done: i32 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM formseal_schema", &[])
            .await?
            .try_get(0)?;
        let done = usize::try_from(done).unwrap_or(0);
        if done > MIGRATIONS.len() {
            return Err(anyhow!(
                "the database was made by a newer formseal (schema {done}, this one knows {})",
                MIGRATIONS.len()
            ));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(done) {
            tx.batch_execute(sql).await?;
            let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO formseal_schema (version) VALUES ($1)",
                &[&version],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `formseal backup` of a PostgreSQL store: `pg_dump --format=custom` of the whole database.
/// It dumps a snapshot exported from a read-only transaction in which the envelopes are also
/// counted, so the count is exactly what the archive holds while collectors go on writing. The
/// password goes to `pg_dump` in its environment, not on its command line.
pub(super) fn backup(url: &str, out: &Path) -> anyhow::Result<u64> {
    // Fails early, with our own message, on a wrong URL or a database formseal did not make.
    let store = PostgresStore::open_existing(url)?;
    let pg_dump = client_program("pg_dump")?;
    let (url, out) = (url.to_string(), out.to_path_buf());
    store.block(|pool| async move {
        let client = pool.open().await?;
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let snapshot: String = client
            .query_one("SELECT pg_export_snapshot()", &[])
            .await?
            .try_get(0)?;
        let records: i64 = client
            .query_one("SELECT count(*) FROM envelopes", &[])
            .await?
            .try_get(0)?;
        // The transaction stays open (and the snapshot valid) until pg_dump is done.
        let dumped = tokio::task::spawn_blocking(move || {
            super::write_new(&out, |tmp| {
                let mut command = Command::new(&pg_dump);
                command
                    .args(["--format=custom", "--no-owner", "--no-privileges"])
                    .arg(format!("--snapshot={snapshot}"))
                    .arg("--file")
                    .arg(tmp);
                run_client_program(&mut command, &url)
            })
            .with_context(|| format!("cannot back up {} to {}", redact(&url), out.display()))
        })
        .await?;
        dumped?;
        client.batch_execute("COMMIT").await?;
        Ok(u64::try_from(records).unwrap_or(0))
    })
}

/// `formseal restore` of a `pg_dump` archive into an empty database, in one transaction.
pub(super) fn restore(backup: &Path, url: &str) -> anyhow::Result<()> {
    let mut magic = [0u8; 5];
    let archive = std::fs::File::open(backup)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut magic));
    if archive.is_err() || &magic != b"PGDMP" {
        return Err(anyhow!(
            "{} is not a backup of a PostgreSQL store made by `formseal backup`",
            backup.display()
        ));
    }
    let target = PostgresStore::connect(url)?;
    let existing = target.block(|pool| async move {
        let client = pool.client().await?;
        let row = client
            .query_one(
                "SELECT to_regclass('formseal_schema') IS NOT NULL
                     OR to_regclass('envelopes') IS NOT NULL",
                &[],
            )
            .await?;
        Ok(row.try_get::<_, bool>(0)?)
    })?;
    drop(target);
    if existing {
        return Err(anyhow!(
            "{} already has formseal's tables; restore only into an empty database",
            redact(url)
        ));
    }
    let pg_restore = client_program("pg_restore")?;
    let mut command = Command::new(pg_restore);
    command
        .args([
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
        ])
        .arg(backup);
    run_client_program(&mut command, url)
        .with_context(|| format!("cannot restore {} into {}", backup.display(), redact(url)))?;
    // A backup from an older formseal gets this one's migrations.
    PostgresStore::open(url).map(drop)
}

/// Runs `pg_dump` or `pg_restore` against `url`: the URL without its password as `--dbname`,
/// the password as `PGPASSWORD`.
fn run_client_program(command: &mut Command, url: &str) -> anyhow::Result<()> {
    let config: Config = url
        .parse()
        .map_err(|err| anyhow!("{} is not a PostgreSQL URL: {err}", redact(url)))?;
    command.arg(format!("--dbname={}", rewrite_password(url, None)));
    if let Some(password) = config.get_password() {
        command.env("PGPASSWORD", String::from_utf8_lossy(password).as_ref());
    }
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        return Err(anyhow!(
            "{program} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}

/// A PostgreSQL client program: from `PATH`, else the newest in Debian's
/// `/usr/lib/postgresql/<version>/bin` (a `pg_dump` must be at least as new as the server).
fn client_program(name: &str) -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    if let Some(path) = on_path {
        return Ok(path);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let path = entry.path().join("bin").join(name);
            path.is_file().then_some((version, path))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, path)| path).ok_or_else(|| {
        anyhow!(
            "{name} is not installed; PostgreSQL backups need PostgreSQL's client programs \
             (on Debian: apt-get install postgresql-client)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_replaced_or_removed() {
        let url = "postgres://collector:p%40ss@db:5432/formseal?sslmode=disable&password=x";
        assert_eq!(
            redact(url),
            "postgres://collector:***@db:5432/formseal?sslmode=disable&password=***"
        );
        assert_eq!(
            rewrite_password(url, None),
            "postgres://collector@db:5432/formseal?sslmode=disable"
        );
        assert_eq!(redact("postgres://db/formseal"), "postgres://db/formseal");
        assert_eq!(redact("postgres://me@db"), "postgres://me@db");
    }
}
