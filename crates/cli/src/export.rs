//! `formseal export`: opens sealed envelopes (from a file or the collector's store) and writes
//! them as a file a CRM imports, one row per record with a stable column order. Which envelopes
//! it reads and how it opens them is `decrypt.rs`'s business; CSV and JSON Lines are `table.rs`'s.

use std::collections::BTreeSet;
use std::path::PathBuf;

use formseal_core::config::FormConfig;
use formseal_core::envelope::Envelope;
use serde_json::Value;

use crate::decrypt::{self, Source};
use crate::passphrase::KeyArgs;
use crate::table::{self, Format};
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

    #[command(flatten)]
    key: KeyArgs,

    /// The form config: its fields become the columns, in its order.
    #[arg(long, value_name = "FORM.json")]
    form: Option<PathBuf>,

    /// Write to this file (readable by its owner only) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    #[command(flatten)]
    source: Source,
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

    let key = args.key.load()?;
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

    let columns: Vec<String> = RECORD_COLUMNS
        .iter()
        .map(|c| (*c).to_string())
        .chain(fields.iter().map(|f| field_column(f)))
        .collect();
    let rows: Vec<Vec<Value>> = records
        .iter()
        .map(|record| {
            record_values(record)
                .into_iter()
                .chain(
                    fields
                        .iter()
                        .map(|f| record.values.get(f).cloned().unwrap_or(Value::Null)),
                )
                .collect()
        })
        .collect();
    table::write(args.out.as_deref(), args.format, &columns, &rows)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_named_like_a_record_column_is_prefixed() {
        assert_eq!(field_column("email"), "email");
        assert_eq!(field_column("subject"), "field:subject");
    }
}
