//! `formseal consent-log`: turns the sealed consent and withdrawal records into the history an
//! auditor reads: per subject, in time order, what was granted and refused and what changed.
//! Reading and opening envelopes is `decrypt.rs`'s business, writing CSV or JSON Lines `table.rs`'s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use std::io::Write;

use anyhow::Context;
use formseal_core::envelope::{Envelope, EnvelopeKind};
use serde_json::Value;

use crate::Hinted;
use crate::decrypt::{self, Source};
use crate::passphrase::KeyArgs;
use crate::spool::Spool;
use crate::table::{self, Format, Table};

mod receipt;
mod stats;

use stats::{MIN_DECISIONS, Period, SUPPRESSED, Stats, StatsFormat};

/// Write the consent log: every grant, change and withdrawal, per subject, in time order.
///
/// Opens every envelope like `decrypt` does and keeps those of kind `consent` and `withdrawal`
/// (the others are counted on stderr). Writes one row per record, grouped by subject and in
/// time order (to the hour; records of the same hour keep the order they arrived in). Columns:
/// subject, id, form, form_version, notice_version, at, kind, method, granted, refused, then the
/// change against what the subject had granted before: newly_granted and withdrawn (granted
/// before, refused now). In CSV, lists of purposes are joined with `;`.
///
/// --subject keeps one subject's history; --record finds the subject of a record (the id on a
/// visitor's receipt) and keeps that subject's whole history.
///
/// --stats writes opt-in statistics instead, aggregates only: per form, purpose and period
/// (--by day, week or month), the decisions, the shares granted and refused, withdrawals,
/// refusals from Global Privacy Control and grants from an embed's placeholder. A purpose
/// with fewer than 5 decisions in a period shows `<5` for its counts and no shares. --svg also
/// draws the opt-in rate over time as a chart.
///
/// --receipt checks a visitor's receipt: finds the sealed record it names by its SHA-256 among
/// the envelopes, opens it and says whether its choices are the receipt's (exit 1 when not, or
/// when the record is not there).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal consent-log --key keys/private.pem --db collector.sqlite > consent-log.jsonl
  formseal consent-log --key keys/private.pem --subject x3F9Qm2LpV0aZk1YtR8wJg sealed.jwe
  formseal consent-log --key keys/private.pem --db collector.sqlite --record RECORD-ID
  formseal consent-log --key keys/private.pem --db collector.sqlite --stats --by month
  formseal consent-log --key keys/private.pem --db collector.sqlite --stats --format csv --svg opt-in.svg
  formseal consent-log --key keys/private.pem --db collector.sqlite --receipt privacy-choices.json")]
pub(crate) struct Args {
    #[command(flatten)]
    key: KeyArgs,

    /// Only this subject's records (their pseudonymous id).
    #[arg(long, value_name = "ID", conflicts_with_all = ["stats", "receipt"])]
    subject: Option<String>,

    /// Only the records of the subject who made this record (the `record` on their receipt).
    #[arg(long, value_name = "RECORD-ID", conflicts_with_all = ["subject", "stats", "receipt"])]
    record: Option<String>,

    /// Opt-in statistics per purpose and period instead of the log (aggregates only).
    #[arg(long, conflicts_with = "receipt")]
    stats: bool,

    /// With --stats: the period of each row.
    #[arg(long, value_enum, default_value = "week", requires = "stats")]
    by: Period,

    /// With --stats: also draw the opt-in rate of each purpose over time into this SVG file.
    #[arg(long, value_name = "FILE", requires = "stats")]
    svg: Option<PathBuf>,

    /// Check a visitor's receipt (the JSON file the banner offered them) against the sealed
    /// record it names.
    #[arg(long, value_name = "RECEIPT.json", conflicts_with_all = ["format", "out"])]
    receipt: Option<PathBuf>,

    /// Output format: jsonl (default) or csv for the log; table (default), csv or json for
    /// --stats.
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,

    /// Write to this file (readable by its owner only) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    #[command(flatten)]
    source: Source,
}

/// The formats of `--format`; which ones apply depends on what is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    /// One JSON object per line (the log).
    Jsonl,
    /// Comma-separated values, RFC 4180, with a header row.
    Csv,
    /// One JSON document (--stats).
    Json,
    /// Aligned columns for people (--stats).
    Table,
}

/// The columns of the log, in order.
const COLUMNS: [&str; 12] = [
    "subject",
    "id",
    "form",
    "form_version",
    "notice_version",
    "at",
    "kind",
    "method",
    "granted",
    "refused",
    "newly_granted",
    "withdrawn",
];

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if let Some(receipt) = &args.receipt {
        return receipt::run(receipt, &args.key, &args.source);
    }
    let key = args.key.load()?;
    // Sorting needs every record first: they wait in a temporary database, not in memory.
    let mut spool = Spool::new()?;
    let mut other_kinds = BTreeMap::<String, usize>::new();
    // The audit log says that one subject was looked up, not who: it is kept in plaintext.
    let what = Output::of(args)?;
    let detail = match &what {
        Output::Log(format) if args.subject.is_some() || args.record.is_some() => {
            format!("{}, one subject", format.name())
        }
        Output::Log(format) => format.name().to_string(),
        Output::Stats(_) => format!("stats by {}", args.by.name()),
    };
    let tally = decrypt::open_all(&args.source, &key, "consent-log", detail, &mut |envelope| {
        if !matches!(
            envelope.kind,
            EnvelopeKind::Consent | EnvelopeKind::Withdrawal
        ) {
            *other_kinds.entry(kind_name(envelope.kind)).or_default() += 1;
            return Ok(());
        }
        // `at` is RFC 3339 UTC to the hour, so text order is time order; records of the same
        // hour keep the order they arrived in.
        let sort = format!("{}\u{0}{}", envelope.subject, envelope.at);
        spool.push(&sort, &envelope.id, &envelope)
    })?;
    let left_out: usize = other_kinds.values().sum();
    if left_out > 0 {
        let counts: Vec<String> = other_kinds
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        eprintln!(
            "left out {left_out} record{} of other kinds than consent and withdrawal ({})",
            plural(left_out),
            counts.join(", ")
        );
    }
    let subject = match (&args.subject, &args.record) {
        (Some(subject), _) => Some(subject.clone()),
        (None, Some(record)) => Some(
            spool
                .find::<Envelope>(record)?
                .map(|r| r.subject)
                .ok_or_else(|| {
                    Hinted::error(
                        format!("no consent or withdrawal record has the id {record}"),
                        "give the `record` of the visitor's receipt, and the --db or files \
                         that hold it",
                    )
                })?,
        ),
        (None, None) => None,
    };

    let mut sink = table::open_sink(args.out.as_deref())?;
    let format = match what {
        Output::Log(format) => format,
        Output::Stats(format) => {
            let mut stats = Stats::new(args.by);
            let mut log = Log::default();
            spool.for_each_sorted(&mut |record: Envelope| {
                let change = log.change(&record);
                stats.add(&record, &change.withdrawn)
            })?;
            stats.write(&mut sink, format)?;
            sink.flush().context("cannot write the output")?;
            if let Some(svg) = &args.svg {
                stats.chart(svg)?;
            }
            eprintln!(
                "a purpose with fewer than {MIN_DECISIONS} decisions in a {} shows {SUPPRESSED}",
                args.by.name()
            );
            return decrypt::summarise(&tally, &key);
        }
    };
    let columns: Vec<String> = COLUMNS.iter().map(|c| (*c).to_string()).collect();
    let mut table = Table::new(&mut sink, format, columns)?;
    let (mut kept, mut others) = (0usize, 0usize);
    let mut log = Log::default();
    spool.for_each_sorted(&mut |record: Envelope| {
        if subject.as_ref().is_some_and(|s| *s != record.subject) {
            others += 1;
            return Ok(());
        }
        kept += 1;
        table.row(&log.row(&record))
    })?;
    table.finish()?;
    sink.flush().context("cannot write the output")?;
    if let Some(subject) = subject {
        eprintln!(
            "left out {others} consent record{} of other subjects; {kept} of subject {subject}",
            plural(others),
        );
    }
    decrypt::summarise(&tally, &key)
}

/// The log as it is written: records come grouped by subject and in time order, and each row
/// carries its change against the subject's consent before it.
#[derive(Debug, Default)]
struct Log {
    subject: Option<String>,
    /// The subject's granted purposes so far.
    before: BTreeSet<String>,
}

impl Log {
    /// What `record` changes in its subject's consent.
    fn change<'r>(&mut self, record: &'r Envelope) -> Change<'r> {
        if self.subject.as_deref() != Some(record.subject.as_str()) {
            self.subject = Some(record.subject.clone());
            self.before.clear();
        }
        let change = Change::between(&self.before, record);
        self.before.clone_from(&change.after);
        change
    }

    fn row(&mut self, record: &Envelope) -> Vec<Value> {
        let change = self.change(record);
        vec![
            record.subject.clone().into(),
            record.id.clone().into(),
            record.form.clone().into(),
            record.form_version.into(),
            record.consent.notice_version.clone().into(),
            record.at.clone().into(),
            kind_name(record.kind).into(),
            serde_json::to_value(record.consent.method).unwrap_or(Value::Null),
            record.consent.granted.clone().into(),
            record.consent.refused.clone().into(),
            change.newly_granted.into(),
            change.withdrawn.into(),
        ]
    }
}

/// What one record changed in a subject's consent.
#[derive(Debug, PartialEq, Eq)]
struct Change<'r> {
    /// Granted now and not before.
    newly_granted: Vec<&'r str>,
    /// Granted before and refused now.
    withdrawn: Vec<&'r str>,
    /// The subject's granted purposes after the record.
    after: BTreeSet<String>,
}

impl<'r> Change<'r> {
    /// Compares a record with the purposes granted before it. Every record lists each
    /// consent-based purpose of its form as granted or refused, so a purpose it does not mention
    /// belongs to another form and keeps its state: a banner's record says nothing about the
    /// newsletter form's purposes.
    fn between(before: &BTreeSet<String>, record: &'r Envelope) -> Self {
        let granted = record.consent.granted.iter().map(String::as_str);
        let refused: BTreeSet<&str> = record.consent.refused.iter().map(String::as_str).collect();
        let withdrawn: Vec<&str> = refused
            .iter()
            .copied()
            .filter(|p| before.contains(*p))
            .collect();
        let newly_granted = granted.clone().filter(|p| !before.contains(*p)).collect();
        let after = before
            .iter()
            .map(String::as_str)
            .filter(|p| !refused.contains(p))
            .chain(granted)
            .map(str::to_owned)
            .collect();
        Self {
            newly_granted,
            withdrawn,
            after,
        }
    }
}

/// What a run writes, in which format.
enum Output {
    Log(Format),
    Stats(StatsFormat),
}

impl Output {
    fn of(args: &Args) -> anyhow::Result<Self> {
        let wrong = |what: &str, formats: &str| {
            Hinted::error(
                format!("--format {} does not apply to {what}", name(args.format)),
                format!("{what} is written as {formats}"),
            )
        };
        Ok(if args.stats {
            Self::Stats(match args.format {
                None | Some(OutputFormat::Table) => StatsFormat::Table,
                Some(OutputFormat::Csv) => StatsFormat::Csv,
                Some(OutputFormat::Json) => StatsFormat::Json,
                Some(OutputFormat::Jsonl) => return Err(wrong("--stats", "table, csv or json")),
            })
        } else {
            Self::Log(match args.format {
                None | Some(OutputFormat::Jsonl) => Format::Jsonl,
                Some(OutputFormat::Csv) => Format::Csv,
                Some(OutputFormat::Json | OutputFormat::Table) => {
                    return Err(wrong("the consent log", "jsonl or csv"));
                }
            })
        })
    }
}

fn name(format: Option<OutputFormat>) -> String {
    format
        .and_then(|f| clap::ValueEnum::to_possible_value(&f))
        .map_or_else(String::new, |v| v.get_name().to_owned())
}

/// The kind as it is written in envelopes (`consent`, `access-request`...).
fn kind_name(kind: EnvelopeKind) -> String {
    match serde_json::to_value(kind) {
        Ok(Value::String(name)) => name,
        _ => format!("{kind:?}"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn purposes(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    fn record(kind: &str, granted: &[&str], refused: &[&str]) -> Envelope {
        serde_json::from_value(json!({
            "v": 1, "id": "r", "form": "banner", "form_version": 1, "kind": kind,
            "at": "2026-11-24T10:00:00Z", "subject": "s",
            "consent": {"notice_version": "1", "granted": granted, "refused": refused},
            "values": {}
        }))
        .unwrap()
    }

    #[test]
    fn a_consent_record_leaves_purposes_it_does_not_mention_alone() {
        let before = purposes(&["analytics", "newsletter"]);
        let change_to = record("consent", &["ads"], &["analytics"]);
        let change = Change::between(&before, &change_to);
        assert_eq!(change.newly_granted, ["ads"]);
        assert_eq!(change.withdrawn, ["analytics"]);
        assert_eq!(change.after, purposes(&["ads", "newsletter"]));
    }

    #[test]
    fn a_withdrawal_withdraws_what_it_refuses() {
        let before = purposes(&["ads", "analytics", "newsletter"]);
        let withdrawal = record("withdrawal", &["analytics"], &["ads"]);
        let change = Change::between(&before, &withdrawal);
        assert!(change.newly_granted.is_empty());
        assert_eq!(change.withdrawn, ["ads"]);
        assert_eq!(change.after, purposes(&["analytics", "newsletter"]));
    }

    #[test]
    fn kinds_are_named_as_in_envelopes() {
        assert_eq!(kind_name(EnvelopeKind::AccessRequest), "access-request");
    }
}
