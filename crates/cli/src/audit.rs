//! The audit log from the data team's side: who is acting (`--actor` or the OS user), the
//! entry each reading or deleting command appends, and `formseal audit`, which prints the log.
//! Where the log lives and that it is append-only is the store's business (`serve/store.rs`).

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use anyhow::Context;
use formseal_cli::serve::now_rfc3339;
use formseal_cli::serve::store::{AuditEntry, Database, Store};
use serde_json::json;

use crate::Hinted;

/// Print the audit log: who decrypted, exported or purged how many records, and when.
///
/// One JSON object per line on stdout, oldest first: seq, at (UTC), actor, action, records,
/// detail. The log is append-only: the database refuses to change or delete its lines.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  formseal audit --db collector.sqlite")]
pub(crate) struct Args {
    /// The collector's store: its SQLite file or its postgres:// URL.
    #[arg(long, value_name = "collector.sqlite|postgres://...")]
    db: Database,
}

/// Who is acting, for the audit log.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Actor {
    /// Name recorded in the audit log [default: the OS user, from $USER or $LOGNAME].
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
}

impl Actor {
    /// The name: `--actor`, else the OS user, else `unknown`.
    pub(crate) fn name(&self) -> String {
        self.actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// An entry by this actor, now.
    pub(crate) fn entry(&self, action: &str, records: u64, detail: String) -> AuditEntry {
        AuditEntry {
            at: now_rfc3339(),
            actor: self.name(),
            action: action.to_string(),
            records,
            detail,
        }
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let store = open_store(&args.db)?;
    let mut out = BufWriter::new(io::stdout().lock());
    store.for_each_audit(&mut |line| {
        let entry = &line.entry;
        let object = json!({
            "seq": line.seq,
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "records": entry.records,
            "detail": entry.detail,
        });
        serde_json::to_writer(&mut out, &object).context("cannot write to stdout")?;
        out.write_all(b"\n").context("cannot write to stdout")
    })?;
    out.flush().context("cannot write to stdout")
}

/// Opens the collector's existing database for a command that reads or deletes and so appends
/// to its audit log.
pub(crate) fn open_store(db: &Database) -> anyhow::Result<Arc<dyn Store>> {
    db.open_existing().map_err(|err| {
        err.context(Hinted::context(
            format!("cannot open the collector database {db}"),
            "give the --db file or URL `formseal serve` writes to (collector.sqlite by default)",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_actor_flag_wins_over_the_os_user() {
        let actor = Actor {
            actor: Some("dpo@shop.example".into()),
        };
        assert_eq!(actor.name(), "dpo@shop.example");
        assert!(!Actor::default().name().is_empty());
    }
}
