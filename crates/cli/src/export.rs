//! `formseal export`: opens sealed envelopes (from a file or the collector's store) and writes
//! them as a file a CRM imports: CSV (RFC 4180) with a stable column order, or JSON Lines with
//! the same names. Which envelopes it reads and how it opens them is `decrypt.rs`'s business.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use formseal_core::config::FormConfig;
use formseal_core::envelope::Envelope;
use serde_json::{Map, Value};

use crate::decrypt::{self, Source};
use crate::{Hinted, read_text, shown};

/// Export decrypted submissions as CSV or JSON Lines for a CRM.
///
/// Opens every envelope like `decrypt` does and writes one row (CSV) or one object (JSON Lines)
/// per record. Columns: id, form, form_version, kind, at, subject, notice_version, granted,
/// refused (purposes, joined with `;`), then one column per field: in the form's order with
/// --form (which also keeps only that form's records), else every field id found, sorted.
/// In CSV, a list of values is joined with `;`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal export --format csv --key keys/private.pem --db collector.sqlite --form form.json --out signups.csv
  formseal export --format jsonl --key keys/private.pem sealed.jwe > records.jsonl")]
pub(crate) struct Args {
    /// Output format.
    #[arg(long, value_enum)]
    format: Format,

    /// The private key (PKCS#8 PEM, as written by `formseal keygen`).
    #[arg(long, value_name = "private.pem")]
    key: PathBuf,

    /// The form config: its fields become the columns, in its order.
    #[arg(long, value_name = "FORM.json")]
    form: Option<PathBuf>,

    /// Write to this file (readable by its owner only) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    #[command(flatten)]
    source: Source,
}

/// What a CRM imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Comma-separated values, RFC 4180, with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

/// The columns every export starts with, in order.
const RECORD_COLUMNS: [&str; 9] = [
    "id",
    "form",
    "form_version",
    "kind",
    "at",
    "subject",
    "notice_version",
    "granted",
    "refused",
];

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

    let key = decrypt::load_key(&args.key)?;
    let mut records = Vec::new();
    let mut other_forms = 0usize;
    let detail = match &form {
        Some(form) => format!("{}, form {}", args.format.name(), form.id),
        None => args.format.name().to_string(),
    };
    let tally = decrypt::open_all(&args.source, &key, "export", detail, &mut |envelope| {
        match &form {
            Some(form) if form.id != envelope.form => other_forms += 1,
            _ => records.push(envelope),
        }
        Ok(())
    })?;
    if other_forms > 0 {
        eprintln!(
            "left out {other_forms} record{} of other forms than {}",
            if other_forms == 1 { "" } else { "s" },
            form.as_ref().map_or("", |f| f.id.as_str())
        );
    }

    let fields: Vec<String> = match &form {
        Some(form) => form.fields.iter().map(|f| f.id.clone()).collect(),
        None => records
            .iter()
            .flat_map(|r| r.values.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };

    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(create_private(path)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(out);
    match args.format {
        Format::Csv => write_csv(&mut out, &records, &fields)?,
        Format::Jsonl => write_jsonl(&mut out, &records, &fields)?,
    }
    out.flush().context("cannot write the export")?;
    decrypt::summarise(&tally, &key)
}

/// The column name of a field: its id, unless that clashes with a record column.
fn field_column(id: &str) -> String {
    if RECORD_COLUMNS.contains(&id) {
        format!("field:{id}")
    } else {
        id.to_string()
    }
}

/// The record columns of one envelope, as JSON values in [`RECORD_COLUMNS`] order.
fn record_values(envelope: &Envelope) -> [Value; 9] {
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
    ]
}

fn write_csv(out: &mut impl Write, records: &[Envelope], fields: &[String]) -> anyhow::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let header = RECORD_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(fields.iter().map(|f| field_column(f)));
    writer
        .write_record(header)
        .context("cannot write the export")?;
    for record in records {
        let row = record_values(record)
            .iter()
            .map(cell)
            .chain(
                fields
                    .iter()
                    .map(|f| record.values.get(f).map(cell).unwrap_or_default()),
            )
            .collect::<Vec<_>>();
        writer
            .write_record(&row)
            .context("cannot write the export")?;
    }
    writer.flush().context("cannot write the export")?;
    Ok(())
}

/// One CSV cell: text as is, lists joined with `;`, nothing for null.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) | Value::Object(_) => value.to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
    }
}

fn write_jsonl(
    out: &mut impl Write,
    records: &[Envelope],
    fields: &[String],
) -> anyhow::Result<()> {
    for record in records {
        let mut object = Map::new();
        for (column, value) in RECORD_COLUMNS.iter().zip(record_values(record)) {
            object.insert((*column).to_string(), value);
        }
        for field in fields {
            let value = record.values.get(field).cloned().unwrap_or(Value::Null);
            object.insert(field_column(field), value);
        }
        serde_json::to_writer(&mut *out, &object).context("cannot write the export")?;
        out.write_all(b"\n").context("cannot write the export")?;
    }
    Ok(())
}

/// Creates (or truncates) the output file, readable by its owner only: it holds personal data.
fn create_private(path: &PathBuf) -> anyhow::Result<File> {
    let mut options = File::options();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot write {}", shown(path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_join_lists_and_leave_null_empty() {
        assert_eq!(cell(&json!("a, \"b\"")), "a, \"b\"");
        assert_eq!(cell(&json!(["x", "y"])), "x;y");
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!(true)), "true");
        assert_eq!(cell(&json!(1987)), "1987");
    }

    #[test]
    fn a_field_named_like_a_record_column_is_prefixed() {
        assert_eq!(field_column("email"), "email");
        assert_eq!(field_column("subject"), "field:subject");
    }
}
