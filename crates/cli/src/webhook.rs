//! `formseal webhook`: the data team's view of the collector's webhook queue — the envelopes it
//! gave up on (dead letters) and putting them back in the queue once the receiver is fixed.
//! Sending is the collector's job (`serve/webhook.rs`); nothing here decrypts.

use std::io::{self, BufWriter, Write};

use anyhow::{Context, anyhow};
use formseal_cli::serve::store::Database;
use serde_json::json;

use crate::audit;

/// The webhook's dead letters: list them, queue them again.
///
/// `formseal serve --webhook URL` forwards every stored envelope and retries with backoff; an
/// envelope whose attempts ran out is kept as a dead letter. Once the receiver works again,
/// `requeue` gives them fresh attempts; a running collector picks them up within a second.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal webhook dead-letters --db collector.sqlite
  formseal webhook requeue --db collector.sqlite --all")]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// One JSON object per dead letter on stdout: id, form, received, attempts, last_error.
    DeadLetters {
        /// The collector's store: its SQLite file or its postgres:// URL.
        #[arg(long, value_name = "collector.sqlite|postgres://...")]
        db: Database,
    },
    /// Queue dead letters again with fresh attempts; prints how many.
    Requeue {
        /// The collector's store: its SQLite file or its postgres:// URL.
        #[arg(long, value_name = "collector.sqlite|postgres://...")]
        db: Database,
        /// The record id to queue again (as listed by dead-letters).
        #[arg(
            value_name = "ID",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        id: Option<String>,
        /// Queue every dead letter again.
        #[arg(long)]
        all: bool,
    },
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match &args.command {
        Command::DeadLetters { db } => {
            let store = audit::open_store(db)?;
            let letters = store.dead_letters()?;
            let mut out = BufWriter::new(io::stdout().lock());
            for letter in &letters {
                let line = json!({
                    "id": letter.id,
                    "form": letter.form,
                    "received": letter.received,
                    "attempts": letter.attempts,
                    "last_error": letter.last_error,
                });
                writeln!(out, "{line}").context("cannot write to stdout")?;
            }
            out.flush().context("cannot write to stdout")?;
            let queued = store.queued_deliveries()?;
            eprintln!(
                "{} dead letter{}; {queued} envelope{} queued for delivery",
                letters.len(),
                if letters.len() == 1 { "" } else { "s" },
                if queued == 1 { "" } else { "s" }
            );
            Ok(())
        }
        Command::Requeue { db, id, all: _ } => {
            let store = audit::open_store(db)?;
            let queued = store.requeue(id.as_deref())?;
            if let (Some(id), 0) = (id, queued) {
                return Err(anyhow!("{id} is not a dead letter"));
            }
            println!("{queued}");
            eprintln!(
                "queued {queued} envelope{} again",
                if queued == 1 { "" } else { "s" }
            );
            Ok(())
        }
    }
}
