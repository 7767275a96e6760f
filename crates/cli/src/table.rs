//! Writing decrypted records as a table for people and tools outside formseal: CSV (RFC 4180,
//! a header row, lists joined with `;`) or JSON Lines with the same column names, to stdout or to
//! a file only its owner can read. What goes in the columns is the calling command's business.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use serde_json::{Map, Value};

use crate::shown;

/// The two table formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Comma-separated values, RFC 4180, with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The name used on the command line (and in the audit log).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

/// Writes `rows` (values in `columns` order) to `--out` (created readable by its owner only:
/// it holds personal data) or to stdout.
pub(crate) fn write(
    out: Option<&Path>,
    format: Format,
    columns: &[String],
    rows: &[Vec<Value>],
) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(create_private(path)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut sink = BufWriter::new(sink);
    match format {
        Format::Csv => write_csv(&mut sink, columns, rows),
        Format::Jsonl => write_jsonl(&mut sink, columns, rows),
    }
    .and_then(|()| sink.flush().map_err(Into::into))
    .context("cannot write the output")
}

fn write_csv(out: &mut impl Write, columns: &[String], rows: &[Vec<Value>]) -> anyhow::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(columns)?;
    for row in rows {
        writer.write_record(row.iter().map(cell))?;
    }
    writer.flush()?;
    Ok(())
}

fn write_jsonl(
    out: &mut impl Write,
    columns: &[String],
    rows: &[Vec<Value>],
) -> anyhow::Result<()> {
    for row in rows {
        let object: Map<String, Value> = columns.iter().cloned().zip(row.iter().cloned()).collect();
        serde_json::to_writer(&mut *out, &object)?;
        out.write_all(b"\n")?;
    }
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

/// Creates (or truncates) the output file, readable by its owner only.
fn create_private(path: &Path) -> anyhow::Result<File> {
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
    fn both_formats_name_the_same_columns() {
        let columns = ["id".to_string(), "granted".to_string()];
        let rows = [
            vec![json!("a,1"), json!(["x", "y"])],
            vec![json!("b"), json!([])],
        ];
        let mut csv = Vec::new();
        write_csv(&mut csv, &columns, &rows).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "id,granted\r\n\"a,1\",x;y\r\nb,\r\n"
        );
        let mut jsonl = Vec::new();
        write_jsonl(&mut jsonl, &columns, &rows).unwrap();
        let objects: Vec<Value> = String::from_utf8(jsonl)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(
            objects,
            [
                json!({"id": "a,1", "granted": ["x", "y"]}),
                json!({"id": "b", "granted": []})
            ]
        );
    }
}
