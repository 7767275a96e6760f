//! The data team's answer to privacy requests: `formseal subject` gathers every record of one
//! visitor (by their pseudonymous subject id) into one JSON file, and `formseal erase` deletes
//! them from the store. Both find the records by decrypting locally, so the collector never
//! learns a subject id, and both leave a line in the audit log that names a hash of the id.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64ct::{Base64UrlUnpadded, Encoding};
use formseal_cli::serve::now_rfc3339;
use formseal_cli::serve::store::{Database, Selection, Store};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor};
use crate::decrypt::{OpenedRecord, Tally, open_stored, summarise};
use crate::passphrase::KeyArgs;
use crate::progress::ProgressArgs;
use crate::{Hinted, shown};

/// Gather every record of one visitor into one JSON file, to answer an access request.
///
/// Opens every envelope in the collector's database with the private key and writes those
/// sealed with SUBJECT-ID to FILE as {"subject", "exported", "records": [{"record",
/// "received", "envelope"}]}. FILE must not exist yet and is readable by its owner only. The
/// export is recorded in the audit log under a hash of the subject id.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  formseal subject 4fXq0x2Ih0d3AvxQ2u8Yzg --db collector.sqlite --key keys/private.pem --export subject.json")]
pub(crate) struct SubjectArgs {
    /// The visitor's pseudonymous subject id, as their request carries it.
    #[arg(value_name = "SUBJECT-ID", allow_hyphen_values = true)]
    subject: String,

    /// The collector's store: its SQLite file or its postgres:// URL.
    #[arg(long, value_name = "collector.sqlite|postgres://...")]
    db: Database,

    #[command(flatten)]
    key: KeyArgs,

    /// The JSON file to write (new).
    #[arg(long, value_name = "FILE")]
    export: PathBuf,

    #[command(flatten)]
    actor: Actor,

    #[command(flatten)]
    progress: ProgressArgs,
}

/// Delete every record of one visitor from the collector's database, to answer an erasure
/// request.
///
/// Opens every envelope with the private key, deletes those sealed with SUBJECT-ID and records
/// the erasure (how many, a hash of the subject id) in the audit log in the same transaction.
/// Records that cannot be opened (sealed to another key) are kept and reported: the exit status
/// is then 1, and the erasure should be repeated with that key.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  formseal erase --subject 4fXq0x2Ih0d3AvxQ2u8Yzg --db collector.sqlite --key keys/private.pem")]
pub(crate) struct EraseArgs {
    /// The visitor's pseudonymous subject id, as their request carries it.
    #[arg(long, value_name = "SUBJECT-ID", allow_hyphen_values = true)]
    subject: String,

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

/// How the audit log names a subject: a hash of the id, so the log itself identifies no one but
/// whoever holds the id can find their line.
pub(crate) fn subject_tag(subject: &str) -> String {
    format!(
        "subject sha256:{}",
        Base64UrlUnpadded::encode_string(&Sha256::digest(subject.as_bytes()))
    )
}

/// The audit actions that answer a request for a subject.
pub(crate) const EXPORT_ACTION: &str = "subject-export";
/// See [`EXPORT_ACTION`].
pub(crate) const ERASE_ACTION: &str = "erase";

pub(crate) fn run_subject(args: &SubjectArgs) -> anyhow::Result<()> {
    let key = args.key.load()?;
    let store = audit::open_store(&args.db)?;
    let (records, tally) = gather(&*store, &key, &args.subject, args.progress)?;
    let document = json!({
        "subject": args.subject,
        "exported": now_rfc3339(),
        "records": records.iter().map(|r| json!({
            "record": r.id,
            "received": r.received,
            "envelope": r.envelope,
        })).collect::<Vec<_>>(),
    });
    write_private(&args.export, &document)?;
    store.append_audit(&args.actor.entry(
        EXPORT_ACTION,
        records.len() as u64,
        format!("{}, kid {}", subject_tag(&args.subject), key.kid()),
    ))?;
    eprintln!(
        "wrote {} record{} of the subject to {}",
        records.len(),
        if records.len() == 1 { "" } else { "s" },
        shown(&args.export)
    );
    summarise(&tally, &key)
}

pub(crate) fn run_erase(args: &EraseArgs) -> anyhow::Result<()> {
    let key = args.key.load()?;
    let store = audit::open_store(&args.db)?;
    let (records, tally) = gather(&*store, &key, &args.subject, args.progress)?;
    let ids: Vec<String> = records.into_iter().map(|r| r.id).collect();
    let deleted = store.delete(
        &ids,
        &args.actor.entry(
            ERASE_ACTION,
            0,
            format!("{}, kid {}", subject_tag(&args.subject), key.kid()),
        ),
    )?;
    eprintln!(
        "erased {deleted} record{} of the subject",
        if deleted == 1 { "" } else { "s" }
    );
    summarise(&tally, &key)
}

/// Every record of `subject` in the store, in the order they arrived.
fn gather(
    store: &dyn Store,
    key: &formseal_core::keys::PrivateKey,
    subject: &str,
    progress: ProgressArgs,
) -> anyhow::Result<(Vec<OpenedRecord>, Tally)> {
    let mut tally = Tally::default();
    let mut found = Vec::new();
    let all = Selection::default();
    open_stored(store, all, key, progress, &mut tally, &mut |record| {
        if record.envelope.subject == subject {
            found.push(record);
        }
        Ok(())
    })?;
    Ok((found, tally))
}

/// Writes `value` as JSON to a new file that only its owner can read.
fn write_private(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        anyhow::Error::new(e).context(Hinted::context(
            format!("cannot create {}", shown(path)),
            "give a file name that does not exist yet; formseal never overwrites an export",
        ))
    })?;
    serde_json::to_writer_pretty(&mut file, value)
        .map_err(anyhow::Error::new)
        .and_then(|()| file.write_all(b"\n").map_err(anyhow::Error::new))
        .and_then(|()| file.sync_all().map_err(anyhow::Error::new))
        .with_context(|| format!("cannot write {}", shown(path)))
}
