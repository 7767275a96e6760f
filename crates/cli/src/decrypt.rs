//! `formseal decrypt`: opens sealed envelopes, one per line of a file or straight from the
//! collector's store, with the private key and writes one JSON record per line. A record that
//! cannot be opened is reported with its line number (or record id) and skipped; the others still
//! come out. Key material never appears in any output. `export`, `consent-log`, `requests` and
//! `subject` read envelopes the same way.
//!
//! Records are opened on every core (rayon) a batch at a time and handed on in the order they
//! were read, so the output is the same as one thread's, and memory holds one batch, not the
//! store.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use formseal_cli::serve::store::{Database, Selection, Store};
use formseal_core::Error;
use formseal_core::envelope::{Envelope, sealed_sha256};
use formseal_core::keys::PrivateKey;
use formseal_core::time::Date;
use rayon::prelude::*;

use crate::audit::{self, Actor};
use crate::confirm::Confirmed;
use crate::passphrase::KeyArgs;
use crate::progress::{Progress, ProgressArgs};
use crate::{Hinted, shown};

/// Decrypt sealed submissions into JSON lines.
///
/// Reads envelopes (JWE, compact or JSON serialization), one per line, from each FILE in turn or
/// stdin, or from the collector's database with --db; blank lines are skipped. Writes each opened record
/// as one JSON object per line on stdout. A record that cannot be opened (another key, altered
/// or damaged data) is reported on stderr with its line number or record id and skipped; the
/// exit status is then 1.
///
/// With --out DIR the records go to DIR/records.jsonl instead, and every uploaded file is
/// written next to it as RECORD-FIELD-NAME (names reduced to safe ones, never overwriting);
/// the record then names the file in "saved_as" instead of carrying its bytes.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal decrypt --key keys/private.pem sealed.jwe > records.jsonl
  formseal decrypt --key keys/private.pem < sealed.jwe
  formseal decrypt --key keys/private.pem --db collector.sqlite --since 2026-11-01
  formseal decrypt --key keys/private.pem --db collector.sqlite --out opened/
  formseal decrypt --key keys/private.pem --db postgres://reader@db.internal/formseal")]
pub(crate) struct Args {
    #[command(flatten)]
    key: KeyArgs,

    /// Write records.jsonl and the uploaded files into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    #[command(flatten)]
    source: Source,
}

/// Where sealed envelopes are read from: files (or stdin), or the collector's database.
#[derive(Debug, clap::Args)]
pub(crate) struct Source {
    /// Files of sealed envelopes, one per line, read in turn; `-` or nothing reads stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    inputs: Vec<PathBuf>,

    /// Read the envelopes from the collector's store instead of files: its SQLite file or its
    /// postgres:// URL.
    #[arg(
        long,
        value_name = "collector.sqlite|postgres://...",
        conflicts_with = "inputs"
    )]
    db: Option<Database>,

    /// With --db: only envelopes received on or after this day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "db", value_parser = parse_day)]
    since: Option<Date>,

    /// With --db, every run is recorded in the database's audit log under this name.
    #[command(flatten)]
    pub(crate) actor: Actor,

    #[command(flatten)]
    pub(crate) progress: ProgressArgs,
}

impl Source {
    /// The collector's store, when the envelopes come from there.
    pub(crate) fn db(&self) -> Option<&Database> {
        self.db.as_ref()
    }

    /// One of the input files (`-`: stdin), and what messages put before a line number: the
    /// file's name when there are several, since a line number alone does not say where.
    fn open_input(&self, path: &Path) -> anyhow::Result<(Box<dyn BufRead>, String)> {
        let input: Box<dyn BufRead> = if path == Path::new("-") {
            Box::new(io::stdin().lock())
        } else {
            let file = File::open(path).with_context(|| format!("cannot open {}", shown(path)))?;
            Box::new(BufReader::new(file))
        };
        let prefix = if self.inputs.len() > 1 {
            format!("{}: ", shown(path))
        } else {
            String::new()
        };
        Ok((input, prefix))
    }
}

fn parse_day(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("{text:?} is not a date such as 2026-11-01"))
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let key = args.key.load()?;
    if let Some(dir) = &args.out {
        return run_to_dir(args, &key, dir);
    }
    let confirmed = args.source.db().map(Confirmed::load).transpose()?;
    let mut out = BufWriter::new(io::stdout().lock());
    let tally = open_all(
        &args.source,
        &key,
        "decrypt",
        String::new(),
        &mut |envelope| {
            write_record(&mut out, &envelope, confirmed.as_ref()).context("cannot write to stdout")
        },
    )?;
    out.flush().context("cannot write to stdout")?;
    summarise(&tally, &key)
}

/// `decrypt --out DIR`: records in DIR/records.jsonl, files next to it.
fn run_to_dir(args: &Args, key: &PrivateKey, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", shown(dir)))?;
    let path = dir.join("records.jsonl");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            anyhow::Error::new(e).context(Hinted::context(
                format!("cannot create {}", shown(&path)),
                "give a new or empty directory; formseal never overwrites opened records",
            ))
        })?;
    let confirmed = args.source.db().map(Confirmed::load).transpose()?;
    let mut out = BufWriter::new(file);
    let mut files = 0;
    let tally = open_all(
        &args.source,
        key,
        "decrypt",
        format!("files to {}", shown(dir)),
        &mut |mut envelope| {
            files += crate::files::extract(&mut envelope, dir)?;
            write_record(&mut out, &envelope, confirmed.as_ref())
                .with_context(|| format!("cannot write {}", shown(&path)))
        },
    )?;
    out.flush()
        .with_context(|| format!("cannot write {}", shown(&path)))?;
    eprintln!(
        "wrote records.jsonl and {files} file{} to {}",
        plural(files),
        shown(dir)
    );
    summarise(&tally, key)
}

/// Writes one opened record as a line of JSON. Read from the collector's store (`confirmed`), a
/// sign-up that asks for a double opt-in also says whether and when it was confirmed:
/// `"confirmed": "2026-12-04T10:00:00Z"` (the hour of the click) or `false`.
fn write_record(
    out: &mut impl Write,
    envelope: &Envelope,
    confirmed: Option<&Confirmed>,
) -> anyhow::Result<()> {
    match confirmed.and_then(|c| c.of(envelope)) {
        Some(status) => {
            let mut record = serde_json::to_value(envelope)?;
            if let Some(object) = record.as_object_mut() {
                object.insert("confirmed".into(), status);
            }
            serde_json::to_writer(&mut *out, &record)?;
        }
        None => serde_json::to_writer(&mut *out, envelope)?,
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// Opens every envelope of `source` and hands each opened one to `each`; failures are reported on
/// stderr (by line number or record id) and counted. Reading the collector's database appends
/// `action` (with `detail` and how many records were opened) to its audit log, also when the
/// run stops half-way.
pub(crate) fn open_all(
    source: &Source,
    key: &PrivateKey,
    action: &str,
    detail: String,
    each: &mut dyn FnMut(Envelope) -> anyhow::Result<()>,
) -> anyhow::Result<Tally> {
    if let Some(db) = &source.db {
        let store = audit::open_store(db)?;
        let selection = Selection {
            since: source.since,
            span: None,
        };
        let mut tally = Tally::default();
        let read = open_stored(
            &*store,
            selection,
            key,
            source.progress,
            &mut tally,
            &mut |record| each(record.envelope),
        );
        let mut what = vec![format!("kid {}", key.kid())];
        if let Some(since) = source.since {
            what.push(format!("since {since}"));
        }
        if !detail.is_empty() {
            what.push(detail);
        }
        let opened = u64::try_from(tally.opened).unwrap_or(u64::MAX);
        store.append_audit(&source.actor.entry(action, opened, what.join(", ")))?;
        read?;
        return Ok(tally);
    }
    open_files(source, key, each)
}

/// Opens every envelope of the files (or stdin) of `source`.
pub(crate) fn open_files(
    source: &Source,
    key: &PrivateKey,
    each: &mut dyn FnMut(Envelope) -> anyhow::Result<()>,
) -> anyhow::Result<Tally> {
    let progress = Progress::new(source.progress, None);
    let mut batch = Batch::new(key, &progress);
    let mut each = |(), envelope| each(envelope);
    for path in &source.inputs {
        let (input, file) = source.open_input(path)?;
        decrypt_lines(input, &file, &mut batch, &mut each)?;
    }
    batch.finish(&mut each)?;
    progress.finish();
    Ok(batch.into_tally())
}

/// A sealed envelope found by the SHA-256 of its text, with where it was (for messages).
#[derive(Debug)]
pub(crate) struct FoundEnvelope {
    /// `record ID` in the collector's database, `line N` (after the file's name when there are
    /// several) in files.
    pub(crate) place: String,
    /// The JWE text.
    pub(crate) jwe: String,
}

/// Looks through the envelopes of `source`, without opening any, for the one whose text has
/// the SHA-256 `sha256` (lowercase hex, [`sealed_sha256`]): the hash is taken of the bytes
/// read, not of the collector's record id. Reading the collector's database appends `action`
/// (with `detail`, and 1 or 0 records) to its audit log.
pub(crate) fn find_sealed(
    source: &Source,
    sha256: &str,
    action: &str,
    detail: &str,
) -> anyhow::Result<Option<FoundEnvelope>> {
    let mut found = None;
    if let Some(db) = &source.db {
        let store = audit::open_store(db)?;
        let selection = Selection {
            since: source.since,
            span: None,
        };
        store.for_each_selected(selection, &mut |stored| {
            if found.is_none() && sealed_sha256(&stored.jwe) == sha256 {
                found = Some(FoundEnvelope {
                    place: format!("record {}", stored.id),
                    jwe: stored.jwe,
                });
            }
            Ok(())
        })?;
        let records = u64::from(found.is_some());
        let detail = format!("{detail}, sha256 {sha256}");
        store.append_audit(&source.actor.entry(action, records, detail))?;
        return Ok(found);
    }
    for path in &source.inputs {
        let (input, file) = source.open_input(path)?;
        for (number, line) in input.split(b'\n').enumerate() {
            let line = line.context("cannot read the input")?;
            let Ok(text) = std::str::from_utf8(&line) else {
                continue;
            };
            let text = text.trim();
            if !text.is_empty() && sealed_sha256(text) == sha256 {
                let place = format!("{file}line {}", number + 1);
                return Ok(Some(FoundEnvelope {
                    place,
                    jwe: text.to_owned(),
                }));
            }
        }
    }
    Ok(found)
}

/// Prints how many records were opened; an error (with a hint about keys) when some failed.
pub(crate) fn summarise(tally: &Tally, key: &PrivateKey) -> anyhow::Result<()> {
    if tally.failed == 0 {
        eprintln!(
            "opened {} of {} record{}",
            tally.opened,
            tally.total(),
            plural(tally.total())
        );
        return Ok(());
    }
    let message = format!(
        "opened {} of {} record{}; {} failed",
        tally.opened,
        tally.total(),
        plural(tally.total()),
        tally.failed
    );
    if tally.other_key > 0 {
        return Err(Hinted::error(
            message,
            format!(
                "{} record{} sealed to another key; this key's id is {}",
                tally.other_key,
                if tally.other_key == 1 {
                    " was"
                } else {
                    "s were"
                },
                key.kid()
            ),
        ));
    }
    Err(anyhow!(message))
}

/// How many records were opened and how many failed.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    opened: usize,
    failed: usize,
    /// Of the failed ones: sealed to a key we do not hold.
    other_key: usize,
}

impl Tally {
    fn total(&self) -> usize {
        self.opened + self.failed
    }

    /// How many could not be opened.
    pub(crate) fn failed(&self) -> usize {
        self.failed
    }
}

/// Envelopes waiting to be opened, each with where it came from (`label`, for messages) and
/// what the caller keeps with it (`place`).
struct Sealed<T> {
    label: String,
    jwe: String,
    place: T,
}

/// Opens envelopes on every core a batch at a time and hands the opened ones on in the order
/// they were pushed, so that the output does not depend on the number of threads.
pub(crate) struct Batch<'k, T> {
    key: &'k PrivateKey,
    progress: &'k Progress,
    pending: Vec<Sealed<T>>,
    /// Envelopes a batch holds: enough to keep every thread busy while the batch ends, few
    /// enough that a store of any size streams through.
    size: usize,
    tally: Tally,
}

impl<'k, T: Send + Sync> Batch<'k, T> {
    pub(crate) fn new(key: &'k PrivateKey, progress: &'k Progress) -> Self {
        let size = rayon::current_num_threads().max(1) * 32;
        Self {
            key,
            progress,
            pending: Vec::with_capacity(size),
            size,
            tally: Tally::default(),
        }
    }

    /// Queues one envelope; opens the batch once it is full.
    pub(crate) fn push(
        &mut self,
        label: String,
        jwe: String,
        place: T,
        each: &mut dyn FnMut(T, Envelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.pending.push(Sealed { label, jwe, place });
        if self.pending.len() >= self.size {
            self.open_pending(each)?;
        }
        Ok(())
    }

    /// Opens what is left.
    pub(crate) fn finish(
        &mut self,
        each: &mut dyn FnMut(T, Envelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.open_pending(each)
    }

    /// What was opened and what failed, so far.
    pub(crate) fn into_tally(self) -> Tally {
        self.tally
    }

    fn open_pending(
        &mut self,
        each: &mut dyn FnMut(T, Envelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let (key, progress) = (self.key, self.progress);
        let opened: Vec<Result<Envelope, Error>> = self
            .pending
            .par_iter()
            .map(|sealed| {
                let opened = Envelope::open(&sealed.jwe, key);
                progress.inc();
                opened
            })
            .collect();
        for (sealed, opened) in self.pending.drain(..).zip(opened) {
            match opened {
                Ok(envelope) => {
                    self.tally.opened += 1;
                    each(sealed.place, envelope)?;
                }
                Err(err) => {
                    self.tally.failed += 1;
                    let label = sealed.label;
                    if matches!(err, Error::NoRecipient { .. }) {
                        self.tally.other_key += 1;
                        progress.suspend(|| {
                            eprintln!("{label}: cannot open envelope: sealed to another key");
                        });
                    } else {
                        progress.suspend(|| eprintln!("{label}: {err}"));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Opens every non-blank line of `input`, a batch at a time so files of any size stream
/// through; problems are reported as `{file}line N`.
fn decrypt_lines(
    mut input: impl BufRead,
    file: &str,
    batch: &mut Batch<'_, ()>,
    each: &mut dyn FnMut((), Envelope) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut buffer = Vec::new();
    let mut number = 0usize;
    loop {
        buffer.clear();
        let read = input
            .read_until(b'\n', &mut buffer)
            .context("cannot read the input")?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        let Ok(line) = std::str::from_utf8(&buffer) else {
            batch.tally.failed += 1;
            batch.progress.suspend(|| {
                eprintln!(
                    "{file}line {number}: not a sealed envelope (the line is not UTF-8 text)"
                );
            });
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        batch.push(format!("{file}line {number}"), line.to_owned(), (), each)?;
    }
}

/// One opened record of the collector's database, with its place in the store.
#[derive(Debug)]
pub(crate) struct OpenedRecord {
    /// Record id in the store.
    pub(crate) id: String,
    /// Day it arrived, `YYYY-MM-DD`.
    pub(crate) received: String,
    /// What was sealed.
    pub(crate) envelope: Envelope,
}

/// Opens every envelope of `store` that `selection` picks and hands each opened one, with its
/// record id, to `each`; failures are reported on stderr by record id and counted in `tally`
/// (also when `each` stops the run half-way). Shows a progress bar unless `progress` says not.
pub(crate) fn open_stored(
    store: &dyn Store,
    selection: Selection,
    key: &PrivateKey,
    progress: ProgressArgs,
    tally: &mut Tally,
    each: &mut dyn FnMut(OpenedRecord) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let total = store.count_selected(selection)?;
    let progress = Progress::new(progress, Some(total));
    let mut batch = Batch::new(key, &progress);
    let mut each = |(id, received), envelope| {
        each(OpenedRecord {
            id,
            received,
            envelope,
        })
    };
    let read = store
        .for_each_selected(selection, &mut |stored| {
            batch.push(
                format!("record {}", stored.id),
                stored.jwe,
                (stored.id, stored.received),
                &mut each,
            )
        })
        .and_then(|()| batch.finish(&mut each));
    progress.finish();
    *tally = batch.into_tally();
    read
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
