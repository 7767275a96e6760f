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

/// `--out` (created or truncated, readable by its owner only: it holds personal data), or
/// stdout.
pub(crate) fn open_sink(out: Option<&Path>) -> anyhow::Result<BufWriter<Box<dyn Write>>> {
    let sink: Box<dyn Write> = match out {
        Some(path) => Box::new(create_private(path)?),
        None => Box::new(io::stdout().lock()),
    };
    Ok(BufWriter::new(sink))
}

/// A table being written row by row, so that a store of any size streams through.
pub(crate) struct Table<'w> {
    columns: Vec<String>,
    out: Out<'w>,
    rows: u64,
}

enum Out<'w> {
    Csv(Box<csv::Writer<&'w mut dyn Write>>),
    Jsonl(&'w mut dyn Write),
}

impl<'w> Table<'w> {
    /// Starts a table on `sink`; CSV writes its header row at once.
    pub(crate) fn new(
        sink: &'w mut dyn Write,
        format: Format,
        columns: Vec<String>,
    ) -> anyhow::Result<Self> {
        let out = match format {
            Format::Csv => {
                let mut writer = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(sink);
                writer
                    .write_record(&columns)
                    .context("cannot write the output")?;
                Out::Csv(Box::new(writer))
            }
            Format::Jsonl => Out::Jsonl(sink),
        };
        Ok(Self {
            columns,
            out,
            rows: 0,
        })
    }

    /// How many rows were written.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    /// One row, its values in the order of the columns.
    pub(crate) fn row(&mut self, row: &[Value]) -> anyhow::Result<()> {
        self.rows += 1;
        match &mut self.out {
            Out::Csv(writer) => writer.write_record(row.iter().map(cell))?,
            Out::Jsonl(out) => {
                let object: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect();
                serde_json::to_writer(&mut **out, &object)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    /// Flushes what is buffered into the sink (which the caller flushes and closes).
    pub(crate) fn finish(self) -> anyhow::Result<()> {
        match self.out {
            Out::Csv(mut writer) => writer.flush(),
            Out::Jsonl(out) => out.flush(),
        }
        .context("cannot write the output")
    }
}

/// One CSV cell: text as is, lists joined with `;`, nothing for null.
pub(crate) fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) | Value::Object(_) => value.to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
    }
}

/// Creates (or truncates) the output file, readable by its owner only.
pub(crate) fn create_private(path: &Path) -> anyhow::Result<File> {
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
        let write = |format| {
            let mut out = Vec::new();
            let mut table = Table::new(&mut out, format, columns.to_vec()).unwrap();
            for row in &rows {
                table.row(row).unwrap();
            }
            table.finish().unwrap();
            out
        };
        let csv = write(Format::Csv);
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "id,granted\r\n\"a,1\",x;y\r\nb,\r\n"
        );
        let jsonl = write(Format::Jsonl);
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
