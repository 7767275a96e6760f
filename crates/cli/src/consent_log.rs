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
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal consent-log --key keys/private.pem --db collector.sqlite > consent-log.jsonl
  formseal consent-log --key keys/private.pem --subject x3F9Qm2LpV0aZk1YtR8wJg sealed.jwe
  formseal consent-log --key keys/private.pem --db collector.sqlite --record RECORD-ID")]
pub(crate) struct Args {
    #[command(flatten)]
    key: KeyArgs,

    /// Only this subject's records (their pseudonymous id).
    #[arg(long, value_name = "ID")]
    subject: Option<String>,

    /// Only the records of the subject who made this record (the `record` on their receipt).
    #[arg(long, value_name = "RECORD-ID", conflicts_with = "subject")]
    record: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,

    /// Write to this file (readable by its owner only) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    #[command(flatten)]
    source: Source,
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
    let key = args.key.load()?;
    // Sorting needs every record first: they wait in a temporary database, not in memory.
    let mut spool = Spool::new()?;
    let mut other_kinds = BTreeMap::<String, usize>::new();
    // The audit log says that one subject was looked up, not who: it is kept in plaintext.
    let detail = if args.subject.is_some() || args.record.is_some() {
        format!("{}, one subject", args.format.name())
    } else {
        args.format.name().to_string()
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

    let columns: Vec<String> = COLUMNS.iter().map(|c| (*c).to_string()).collect();
    let mut sink = table::open_sink(args.out.as_deref())?;
    let mut table = Table::new(&mut sink, args.format, columns)?;
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
    fn row(&mut self, record: &Envelope) -> Vec<Value> {
        if self.subject.as_deref() != Some(record.subject.as_str()) {
            self.subject = Some(record.subject.clone());
            self.before.clear();
        }
        let before: BTreeSet<&str> = self.before.iter().map(String::as_str).collect();
        let change = Change::between(&before, record);
        let row = vec![
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
            change.newly_granted.clone().into(),
            change.withdrawn.clone().into(),
        ];
        self.before = change.after.into_iter().map(str::to_owned).collect();
        row
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
    after: BTreeSet<&'r str>,
}

impl<'r> Change<'r> {
    /// Compares a record with the purposes granted before it. Every record lists each
    /// consent-based purpose of its form as granted or refused, so a purpose it does not mention
    /// belongs to another form and keeps its state: a banner's record says nothing about the
    /// newsletter form's purposes.
    fn between(before: &BTreeSet<&'r str>, record: &'r Envelope) -> Self {
        let granted = record.consent.granted.iter().map(String::as_str);
        let refused: BTreeSet<&str> = record.consent.refused.iter().map(String::as_str).collect();
        let withdrawn: Vec<&str> = before
            .iter()
            .copied()
            .filter(|p| refused.contains(p))
            .collect();
        let newly_granted = granted.clone().filter(|p| !before.contains(p)).collect();
        let after = before
            .iter()
            .copied()
            .filter(|p| !refused.contains(p))
            .chain(granted)
            .collect();
        Self {
            newly_granted,
            withdrawn,
            after,
        }
    }
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
        let before = BTreeSet::from(["analytics", "newsletter"]);
        let change_to = record("consent", &["ads"], &["analytics"]);
        let change = Change::between(&before, &change_to);
        assert_eq!(change.newly_granted, ["ads"]);
        assert_eq!(change.withdrawn, ["analytics"]);
        assert_eq!(change.after, BTreeSet::from(["ads", "newsletter"]));
    }

    #[test]
    fn a_withdrawal_withdraws_what_it_refuses() {
        let before = BTreeSet::from(["ads", "analytics", "newsletter"]);
        let withdrawal = record("withdrawal", &["analytics"], &["ads"]);
        let change = Change::between(&before, &withdrawal);
        assert!(change.newly_granted.is_empty());
        assert_eq!(change.withdrawn, ["ads"]);
        assert_eq!(change.after, BTreeSet::from(["analytics", "newsletter"]));
    }

    #[test]
    fn kinds_are_named_as_in_envelopes() {
        assert_eq!(kind_name(EnvelopeKind::AccessRequest), "access-request");
    }
}
