//! `formseal export`: opens sealed envelopes (from a file or the collector's store) and writes
//! them as a file a CRM imports, one row per record with a stable column order: generic CSV or
//! JSON Lines, or HubSpot's and Mailchimp's contact imports (`crm.rs`). `--new` hands only what
//! the last `--new` export did not, by a cursor kept in the store. Which envelopes it reads and
//! how it opens them is `decrypt.rs`'s business; CSV and JSON Lines are `table.rs`'s.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use formseal_cli::serve::store::{Cursor, CursorMoved, Selection, Store};
use formseal_core::config::FormConfig;
use formseal_core::envelope::Envelope;
use formseal_core::keys::PrivateKey;
use serde_json::Value;

use crate::audit;
use crate::confirm::Confirmed;
use crate::crm::{Crm, CrmTable};
use crate::decrypt::{self, Source, Tally};
use crate::passphrase::KeyArgs;
use crate::spool::Spool;
use crate::table::{self, Format, Table};
use crate::{Hinted, read_text, shown};

/// Export decrypted submissions as CSV or JSON Lines for a CRM, or as HubSpot's or Mailchimp's
/// contact import.
///
/// Opens every envelope like `decrypt` does and writes one row (CSV) or one object (JSON Lines)
/// per record. Columns: id, form, form_version, kind, at, subject, notice_version, granted,
/// refused (purposes, joined with `;`), confirmed (for a double opt-in sign-up read with --db:
/// the hour it was confirmed, or false), then one column per field: in the form's order with
/// --form (which also keeps only that form's records), else every field id found, sorted.
/// In CSV, a list of values is joined with `;`.
///
/// --format hubspot and --format mailchimp write the CSV those imports take as they are: the
/// columns the form's "export" mapping (or --map FILE) names for each field, then the consent
/// column (HubSpot's "Legal basis for processing contact's data", Mailchimp's "Tags" with the
/// purposes granted). Fields the mapping does not name are left out, and named on stderr;
/// records without an e-mail address are left out too.
///
/// --new hands only the records that no earlier --new export with the same cursor handed: the
/// store keeps where the cursor stands, and moves it (with a line in the audit log) only once
/// FILE is completely written and on disk. Every record is handed exactly once, also with two
/// exports at once (the second one fails and writes nothing). --new cannot be combined with
/// --since.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal export --format csv --key keys/private.pem --db collector.sqlite --form form.json --out signups.csv
  formseal export --format jsonl --key keys/private.pem sealed.jwe > records.jsonl
  formseal export --format hubspot --key keys/private.pem --db collector.sqlite --form form.json --new --out hubspot-2026-11-24.csv
  formseal export --format mailchimp --map mailchimp-columns.json --key keys/private.pem --db collector.sqlite --out contacts.csv")]
pub(crate) struct Args {
    /// Output format.
    #[arg(long, value_enum)]
    format: ExportFormat,

    #[command(flatten)]
    key: KeyArgs,

    /// The form config: its fields become the columns, in its order.
    #[arg(long, value_name = "FORM.json")]
    form: Option<PathBuf>,

    /// With --format hubspot or mailchimp: a JSON object of field id (or @id, @at, @form,
    /// @subject, @granted, @refused) → column, instead of the form's "export" mapping.
    #[arg(long, value_name = "FILE")]
    map: Option<PathBuf>,

    /// Write to this file (readable by its owner only) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Only the records no earlier --new export with this cursor handed (needs --db and --out,
    /// a FILE that does not exist yet).
    #[arg(long, requires = "db", requires = "out", conflicts_with = "since")]
    new: bool,

    /// With --new: the cursor's name, one per destination [default: the format, and the form's
    /// id with --form, e.g. hubspot:newsletter].
    #[arg(long, value_name = "NAME", requires = "new")]
    cursor: Option<String>,

    #[command(flatten)]
    source: Source,
}

/// What `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    /// Comma-separated values, RFC 4180, with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// HubSpot's contact import (CSV).
    Hubspot,
    /// Mailchimp's contact import (CSV).
    Mailchimp,
}

impl ExportFormat {
    fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
            Self::Hubspot => "hubspot",
            Self::Mailchimp => "mailchimp",
        }
    }

    fn crm(self) -> Option<Crm> {
        match self {
            Self::Hubspot => Some(Crm::Hubspot),
            Self::Mailchimp => Some(Crm::Mailchimp),
            Self::Csv | Self::Jsonl => None,
        }
    }

    fn table(self) -> Format {
        match self {
            Self::Jsonl => Format::Jsonl,
            _ => Format::Csv,
        }
    }
}

/// The columns every generic export starts with, in order.
const RECORD_COLUMNS: [&str; 10] = [
    "id",
    "form",
    "form_version",
    "kind",
    "at",
    "subject",
    "notice_version",
    "granted",
    "refused",
    "confirmed",
];

/// How records become rows.
enum Layout<'f> {
    /// The record columns, then these fields.
    Fields(Vec<String>),
    /// The record columns, then every field found: the records wait in a spool until all are
    /// known.
    EveryField,
    /// A CRM's import.
    Crm(CrmTable<'f>),
}

impl Layout<'_> {
    /// The header row; `found` are the fields of [`Layout::EveryField`], once known.
    fn header(&self, found: &[String]) -> Vec<String> {
        let fields = match self {
            Self::Crm(crm) => return crm.header(),
            Self::Fields(fields) => fields.as_slice(),
            Self::EveryField => found,
        };
        RECORD_COLUMNS
            .iter()
            .map(|c| (*c).to_string())
            .chain(fields.iter().map(|f| field_column(f)))
            .collect()
    }
}

/// What the run left out, for the notices at the end.
#[derive(Default)]
struct LeftOut {
    other_forms: usize,
    no_email: usize,
    /// Field ids found in records that the CRM mapping does not name.
    unmapped: BTreeSet<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let form = args
        .form
        .as_ref()
        .map(|path| {
            let json = read_text(path, "form config")?;
            FormConfig::from_json(&json).map_err(|err| {
                anyhow::Error::new(err).context(Hinted::context(
                    format!("{} is not a valid form config", shown(path)),
                    format!("run `formseal check {}` to see every problem", shown(path)),
                ))
            })
        })
        .transpose()?;
    let layout = layout(args, form.as_ref())?;
    if args.new
        && let Some(out) = &args.out
        && out.exists()
    {
        return Err(Hinted::error(
            format!(
                "{} exists; export --new never overwrites a file",
                shown(out)
            ),
            "its records may not have been imported yet, and they will not be handed again: \
             name each export's file anew, e.g. with the date",
        ));
    }
    let key = args.key.load()?;
    let mut detail = args.format.name().to_string();
    if let Some(form) = &form {
        detail.push_str(&format!(", form {}", form.id));
    }

    let confirmed = args.source.db().map(Confirmed::load).transpose()?;
    let mut left_out = LeftOut::default();
    let mut spool = matches!(layout, Layout::EveryField)
        .then(Spool::new)
        .transpose()?;
    let mut fields_found = BTreeSet::new();
    // Every record passes here in order; what it becomes depends on the layout.
    let mut pass = |envelope: Envelope, table: &mut Option<Table<'_>>| -> anyhow::Result<()> {
        if form.as_ref().is_some_and(|f| f.id != envelope.form) {
            left_out.other_forms += 1;
            return Ok(());
        }
        match &layout {
            Layout::Fields(fields) => table.as_mut().map_or(Ok(()), |t| {
                t.row(&generic_row(&envelope, fields, confirmed.as_ref()))
            }),
            Layout::EveryField => {
                fields_found.extend(envelope.values.keys().cloned());
                match &mut spool {
                    Some(spool) => spool.push("", &envelope.id, &envelope),
                    None => Ok(()),
                }
            }
            Layout::Crm(crm) => {
                left_out
                    .unmapped
                    .extend(envelope.values.keys().filter(|id| !crm.maps(id)).cloned());
                match crm.row(&envelope) {
                    Some(row) => table.as_mut().map_or(Ok(()), |t| t.row(&row)),
                    None => {
                        left_out.no_email += 1;
                        Ok(())
                    }
                }
            }
        }
    };

    let new = args
        .new
        .then(|| NewExport::begin(args, form.as_ref().map(|f| f.id.as_str())))
        .transpose()?;
    let mut sink = match &new {
        Some(new) => new.sink()?,
        None => table::open_sink(args.out.as_deref())?,
    };
    let (tally, mut rows) = {
        let streaming = !matches!(layout, Layout::EveryField);
        let mut table = streaming
            .then(|| Table::new(&mut sink, args.format.table(), layout.header(&[])))
            .transpose()?;
        let tally = match &new {
            Some(new) => new.read(args, &key, &mut |envelope| pass(envelope, &mut table))?,
            None => decrypt::open_all(&args.source, &key, "export", detail.clone(), &mut |e| {
                pass(e, &mut table)
            })?,
        };
        let rows = table.as_ref().map_or(0, Table::rows);
        if let Some(table) = table {
            table.finish()?;
        }
        (tally, rows)
    };
    if let Some(spool) = &spool {
        let fields: Vec<String> = fields_found.iter().cloned().collect();
        let mut table = Table::new(&mut sink, args.format.table(), layout.header(&fields))?;
        spool.for_each_sorted(&mut |envelope: Envelope| {
            table.row(&generic_row(&envelope, &fields, confirmed.as_ref()))
        })?;
        rows += table.rows();
        table.finish()?;
    }
    sink.flush().context("cannot write the output")?;
    drop(sink);
    notices(args, form.as_ref(), &layout, &left_out);
    if let Some(new) = new {
        new.finish(args, &key, rows, &tally, detail)?;
    }
    decrypt::summarise(&tally, &key)
}

/// An `export --new` under way: the cursor as it was read, and the new file being written
/// beside `--out` under a temporary name.
struct NewExport {
    store: std::sync::Arc<dyn Store>,
    cursor: Cursor,
    pending: tempfile::NamedTempFile,
    out: PathBuf,
    dir: PathBuf,
}

impl NewExport {
    /// Reads where the cursor stands and the span to hand, and creates the file to write.
    fn begin(args: &Args, form_id: Option<&str>) -> anyhow::Result<Self> {
        let (Some(db), Some(out)) = (args.source.db(), &args.out) else {
            // clap requires both with --new.
            return Err(anyhow::anyhow!("--new needs --db and --out"));
        };
        let store = audit::open_store(db)?;
        let name = args.cursor.clone().unwrap_or_else(|| match form_id {
            Some(form) => format!("{}:{form}", args.format.name()),
            None => args.format.name().to_string(),
        });
        let cursor = store.cursor(&name)?;
        let dir = match out.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Readable by its owner only (tempfile's default), deleted unless it is kept.
        let pending = tempfile::Builder::new()
            .prefix(".formseal-export-")
            .suffix(".partial")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a file in {}", shown(&dir)))?;
        Ok(Self {
            store,
            cursor,
            pending,
            out: out.clone(),
            dir,
        })
    }

    /// Where the rows go.
    fn sink(&self) -> anyhow::Result<BufWriter<Box<dyn Write>>> {
        let file = self
            .pending
            .reopen()
            .context("cannot write the new export")?;
        Ok(BufWriter::new(Box::new(file)))
    }

    /// Opens the records of the cursor's span.
    fn read(
        &self,
        args: &Args,
        key: &PrivateKey,
        each: &mut dyn FnMut(Envelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<Tally> {
        let mut tally = Tally::default();
        let selection = Selection {
            since: None,
            span: Some(self.cursor.span),
        };
        decrypt::open_stored(
            &*self.store,
            selection,
            key,
            args.source.progress,
            &mut tally,
            &mut |record| each(record.envelope),
        )?;
        Ok(tally)
    }

    /// Puts the file on disk under its name and only then moves the cursor, with the audit
    /// line, in one transaction; writes no file when there was no row. Moves nothing when a
    /// record could not be opened: it would be handed to no one, ever.
    fn finish(
        self,
        args: &Args,
        key: &PrivateKey,
        rows: u64,
        tally: &Tally,
        detail: String,
    ) -> anyhow::Result<()> {
        let name = &self.cursor.name;
        let span = self.cursor.span;
        if tally.failed() > 0 {
            return Err(Hinted::error(
                format!(
                    "{} of the new records could not be opened; nothing was written and the \
                     cursor {name:?} stays where it was",
                    tally.failed()
                ),
                "open them with the key they were sealed to (see which with `formseal decrypt \
                 --db`), or erase them, then export again",
            ));
        }
        let what = format!(
            "kid {}, {detail}, cursor {name} after {} up to {}",
            key.kid(),
            span.after,
            span.up_to
        );
        let entry = args.source.actor.entry("export", rows, what);
        if rows == 0 {
            // Nothing for this destination; the span (records of other forms, or none) is done.
            self.store
                .advance_cursor(&self.cursor, &entry)
                .map_err(moved)?;
            eprintln!(
                "no new records since the last export --new with cursor {name:?}; wrote no file"
            );
            return Ok(());
        }
        self.pending
            .as_file()
            .sync_all()
            .context("cannot flush the export to disk")?;
        let (store, cursor, out) = (self.store, self.cursor, self.out);
        self.pending
            .persist_noclobber(&out)
            .map_err(|e| anyhow::Error::new(e.error))
            .with_context(|| format!("cannot create {}", shown(&out)))?;
        if let Ok(dir) = File::open(&self.dir) {
            // The new name survives a crash too (best effort: not every file system syncs a
            // directory).
            let _ = dir.sync_all();
        }
        if let Err(err) = store.advance_cursor(&cursor, &entry) {
            // Without the cursor moved, the next run hands these records again: this file must
            // not be imported as well.
            let err = moved(err);
            return Err(if std::fs::remove_file(&out).is_ok() {
                err.context(format!("removed {} again", shown(&out)))
            } else {
                err.context(format!(
                    "{} was written but the cursor did not move: do not import it, the next \
                     export --new hands its records again",
                    shown(&out)
                ))
            });
        }
        eprintln!(
            "wrote {rows} new record{} to {}; cursor {:?} moved to {}",
            if rows == 1 { "" } else { "s" },
            shown(&out),
            cursor.name,
            span.up_to
        );
        Ok(())
    }
}

/// A cursor moved by another export, explained.
fn moved(err: anyhow::Error) -> anyhow::Error {
    if let Some(moved) = err.downcast_ref::<CursorMoved>() {
        let message = moved.to_string();
        return Hinted::error(
            message,
            "another export --new handed these records meanwhile; run export --new again for \
             what arrived after it",
        );
    }
    err
}

/// The columns of the generic formats, or the CRM's.
fn layout<'f>(args: &Args, form: Option<&'f FormConfig>) -> anyhow::Result<Layout<'f>> {
    let Some(crm) = args.format.crm() else {
        if args.map.is_some() {
            return Err(Hinted::error(
                "--map is for --format hubspot and --format mailchimp",
                "csv and jsonl name each column after its field id",
            ));
        }
        return Ok(match form {
            Some(form) => Layout::Fields(form.fields.iter().map(|f| f.id.clone()).collect()),
            None => Layout::EveryField,
        });
    };
    let (map, path) = match (&args.map, form) {
        (Some(path), _) => {
            let json = read_text(path, "column mapping")?;
            let map: BTreeMap<String, String> = serde_json::from_str(&json).map_err(|err| {
                Hinted::error(
                    format!("{} is not a column mapping: {err}", shown(path)),
                    "give a JSON object of field id → column, e.g. {\"email\": \"Email\"}",
                )
            })?;
            (map, shown(path))
        }
        (None, Some(form)) => (
            crm.mapping(&form.export).clone(),
            format!("export.{}", crm.name()),
        ),
        (None, None) => {
            return Err(Hinted::error(
                format!("--format {} needs a column mapping", crm.name()),
                format!(
                    "give the form with --form (its \"export\": {{\"{}\": {{...}}}}) or --map FILE",
                    crm.name()
                ),
            ));
        }
    };
    if map.is_empty() {
        return Err(Hinted::error(
            format!("the {} mapping ({path}) names no field", crm.name()),
            format!(
                "add e.g. \"export\": {{\"{}\": {{\"email\": {:?}}}}} to the form, or give --map FILE",
                crm.name(),
                crm.email_column()
            ),
        ));
    }
    Ok(Layout::Crm(CrmTable::new(crm, &map, form, &path)?))
}

/// What was left out, on stderr.
fn notices(args: &Args, form: Option<&FormConfig>, layout: &Layout<'_>, left_out: &LeftOut) {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if left_out.other_forms > 0 {
        eprintln!(
            "left out {} record{} of other forms than {}",
            left_out.other_forms,
            plural(left_out.other_forms),
            form.map_or("", |f| f.id.as_str())
        );
    }
    let Layout::Crm(crm) = layout else {
        return;
    };
    let crm_name = args.format.name();
    if left_out.no_email > 0 {
        eprintln!(
            "left out {} record{} without an e-mail address (not given, or its purpose was not \
             consented to)",
            left_out.no_email,
            plural(left_out.no_email)
        );
    }
    // With the form, every field it has; else the fields the records held.
    let unmapped: Vec<String> = match form {
        Some(form) => form
            .fields
            .iter()
            .map(|f| f.id.clone())
            .filter(|id| !crm.maps(id))
            .collect(),
        None => left_out.unmapped.iter().cloned().collect(),
    };
    if !unmapped.is_empty() {
        eprintln!(
            "notice: left out the field{} the {crm_name} mapping does not name: {}",
            plural(unmapped.len()),
            unmapped.join(", ")
        );
    }
}

/// The column name of a field: its id, unless that clashes with a record column.
fn field_column(id: &str) -> String {
    if RECORD_COLUMNS.contains(&id) {
        format!("field:{id}")
    } else {
        id.to_string()
    }
}

/// A generic row: the record columns, then `fields`.
fn generic_row(record: &Envelope, fields: &[String], confirmed: Option<&Confirmed>) -> Vec<Value> {
    let confirmed = confirmed.and_then(|c| c.of(record)).unwrap_or(Value::Null);
    record_values(record, confirmed)
        .into_iter()
        .chain(
            fields
                .iter()
                .map(|f| record.values.get(f).cloned().unwrap_or(Value::Null)),
        )
        .collect()
}

/// The record columns of one envelope, as JSON values in [`RECORD_COLUMNS`] order; `confirmed`
/// is its double opt-in's hour, `false`, or null for a record that asks for none (or read from
/// files, where no confirmation is known).
fn record_values(envelope: &Envelope, confirmed: Value) -> [Value; 10] {
    let strings = |list: &[String]| Value::from(list.to_vec());
    [
        envelope.id.clone().into(),
        envelope.form.clone().into(),
        envelope.form_version.into(),
        serde_json::to_value(envelope.kind).unwrap_or(Value::Null),
        envelope.at.clone().into(),
        envelope.subject.clone().into(),
        envelope.consent.notice_version.clone().into(),
        strings(&envelope.consent.granted),
        strings(&envelope.consent.refused),
        confirmed,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_named_like_a_record_column_is_prefixed() {
        assert_eq!(field_column("email"), "email");
        assert_eq!(field_column("subject"), "field:subject");
    }
}
