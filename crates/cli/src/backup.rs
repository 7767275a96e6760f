//! `formseal backup` and `formseal restore`: a consistent copy of the collector's store, taken
//! while it runs, and the way back into a new store. How each database does it (SQLite's online
//! backup, `pg_dump`/`pg_restore`) lives with the store in `serve/store/`.

use std::path::PathBuf;

use formseal_cli::serve::store::Database;

use crate::Hinted;

/// Copy the collector's store to a file while the collector keeps running.
///
/// A SQLite store becomes one SQLite file (SQLite's online backup: a consistent snapshot); a
/// PostgreSQL store a `pg_dump` archive (custom format, needs PostgreSQL's client programs). The
/// file holds ciphertext only, like the store; it is readable by its owner only and never
/// overwritten.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal backup --db collector.sqlite --out backups/collector-2026-11-24.sqlite
  formseal backup --db postgres://backup@db.internal/formseal --out backups/formseal.pgdump")]
pub(crate) struct BackupArgs {
    /// The store: the SQLite file or the postgres:// URL `formseal serve` writes to.
    #[arg(long, value_name = "collector.sqlite|postgres://...")]
    db: Database,

    /// The backup file to create.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Restore a backup made by `formseal backup` into a new store.
///
/// The store must be new: a SQLite file that does not exist yet, or an empty PostgreSQL database
/// (`createdb`), of the same kind as the backup. Every record comes back with the same id and
/// bytes.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal restore backups/collector-2026-11-24.sqlite --db restored.sqlite
  formseal restore backups/formseal.pgdump --db postgres://admin@db.internal/formseal_restored")]
pub(crate) struct RestoreArgs {
    /// The backup file.
    #[arg(value_name = "FILE")]
    backup: PathBuf,

    /// The new store: a SQLite file that does not exist yet, or an empty database's URL.
    #[arg(long, value_name = "restored.sqlite|postgres://...")]
    db: Database,
}

pub(crate) fn backup(args: &BackupArgs) -> anyhow::Result<()> {
    let records = args.db.backup(&args.out).map_err(|err| {
        err.context(Hinted::context(
            "the backup failed; nothing was written",
            "--db is what `formseal serve` writes to, --out a file that does not exist yet",
        ))
    })?;
    eprintln!(
        "backed up {records} record{} to {}",
        plural(records),
        args.out.display()
    );
    Ok(())
}

pub(crate) fn restore(args: &RestoreArgs) -> anyhow::Result<()> {
    args.db.restore(&args.backup).map_err(|err| {
        err.context(Hinted::context(
            "the restore failed",
            "restore into a new store of the backup's kind: a SQLite file that does not exist \
             yet, or an empty PostgreSQL database (createdb)",
        ))
    })?;
    let records = args.db.open_existing()?.count()?;
    eprintln!(
        "restored {records} record{} into {}",
        plural(records),
        args.db
    );
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
