//! `formseal requests`: the privacy requests (access, erasure) in the collector's database that
//! are still open, found by decrypting locally. An access request is answered once the audit log
//! shows a `formseal subject` export for its subject after it arrived; an erasure request once it
//! shows a `formseal erase` (which deletes the request itself too).

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};

use anyhow::Context;
use formseal_cli::serve::store::{Database, Selection};
use formseal_core::envelope::EnvelopeKind;
use serde_json::json;

use crate::audit::{self, Actor};
use crate::decrypt::{Tally, open_stored, summarise};
use crate::passphrase::KeyArgs;
use crate::progress::ProgressArgs;
use crate::subject::{ERASE_ACTION, EXPORT_ACTION, subject_tag};

/// List the open privacy requests: access and erasure requests not answered yet.
///
/// Opens every envelope in the collector's database with the private key and prints each access
/// or erasure request whose subject has not been exported (`formseal subject`) or erased
/// (`formseal erase`) since it arrived, one JSON object per line: record, received, kind, at,
/// form, subject and the contact details given. The listing is recorded in the audit log.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  formseal requests --db collector.sqlite --key keys/private.pem")]
pub(crate) struct Args {
    /// The collector's store: its SQLite file or its postgres:// URL.
    #[arg(long, value_name = "collector.sqlite|postgres://...")]
    db: Database,

    #[command(flatten)]
    key: KeyArgs,

    #[command(flatten)]
    actor: Actor,

    #[command(flatten)]
    progress: ProgressArgs,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let key = args.key.load()?;
    let store = audit::open_store(&args.db)?;
    // When each subject was last exported or erased: (action, the hash the log names it by).
    let mut answered: BTreeMap<(String, String), String> = BTreeMap::new();
    store.for_each_audit(&mut |line| {
        let entry = line.entry;
        if (entry.action == EXPORT_ACTION || entry.action == ERASE_ACTION)
            && let Some(tag) = entry.detail.split(", ").find(|p| p.starts_with("subject "))
        {
            let last = answered
                .entry((entry.action.clone(), tag.to_owned()))
                .or_default();
            if entry.at > *last {
                *last = entry.at;
            }
        }
        Ok(())
    })?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut tally = Tally::default();
    let mut open = 0u64;
    let all = Selection::default();
    open_stored(
        &*store,
        all,
        &key,
        args.progress,
        &mut tally,
        &mut |record| {
            let envelope = &record.envelope;
            if !envelope.kind.is_request() {
                return Ok(());
            }
            // Envelope times are whole hours and audit times seconds, both RFC 3339 UTC: text order
            // is time order.
            let action = match envelope.kind {
                EnvelopeKind::AccessRequest => EXPORT_ACTION,
                _ => ERASE_ACTION,
            };
            let done = answered
                .get(&(action.to_owned(), subject_tag(&envelope.subject)))
                .is_some_and(|at| at.as_str() >= envelope.at.as_str());
            if done {
                return Ok(());
            }
            open += 1;
            let line = json!({
                "record": record.id,
                "received": record.received,
                "kind": envelope.kind,
                "at": envelope.at,
                "form": envelope.form,
                "subject": envelope.subject,
                "values": envelope.values,
            });
            serde_json::to_writer(&mut out, &line).context("cannot write to stdout")?;
            out.write_all(b"\n").context("cannot write to stdout")
        },
    )?;
    out.flush().context("cannot write to stdout")?;
    store.append_audit(&args.actor.entry(
        "requests",
        open,
        format!("kid {}, {open} open", key.kid()),
    ))?;
    eprintln!("{open} open request{}", if open == 1 { "" } else { "s" });
    summarise(&tally, &key)
}
