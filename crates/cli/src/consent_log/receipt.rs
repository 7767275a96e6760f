//! `formseal consent-log --receipt`: checks a visitor's receipt (the core's `consent::Receipt`,
//! the file the banner saves) against the sealed record it names. The record is found by the
//! SHA-256 of its stored text, opened with the private key, and every claim of the receipt is
//! compared with it. Finding envelopes is `decrypt.rs`'s job.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, anyhow};
use formseal_core::consent::{ConsentMethod, Receipt};
use formseal_core::envelope::Envelope;

use crate::decrypt::{self, Source};
use crate::passphrase::KeyArgs;
use crate::{Hinted, shown};

/// Checks the receipt at `path` against its record among the envelopes of `source`; an error
/// (exit 1) when the record is not there, cannot be opened or says something else.
pub(crate) fn run(path: &Path, key: &KeyArgs, source: &Source) -> anyhow::Result<()> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", shown(path)))?;
    let receipt: Receipt = serde_json::from_str(&text).map_err(|err| {
        Hinted::error(
            format!("{} is not a formseal receipt: {err}", shown(path)),
            "give the privacy-choices-RECORD.json file the banner's receipt button saves",
        )
    })?;
    let sha256 = receipt.sealed_sha256.as_deref().ok_or_else(|| {
        Hinted::error(
            format!(
                "{} names no sealed record (its sealed_sha256 is null)",
                shown(path)
            ),
            "a receipt saved before its record was sealed names only the record's id: \
             look that up with --record RECORD-ID",
        )
    })?;
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(anyhow!(
            "{}: sealed_sha256 {sha256:?} is not a SHA-256 (64 lowercase hex digits)",
            shown(path)
        ));
    }
    let key = key.load()?;
    let found =
        decrypt::find_sealed(source, sha256, "consent-log", "receipt")?.ok_or_else(|| {
            Hinted::error(
                format!("no sealed record with the receipt's SHA-256 {sha256} is in the store"),
                "a record waits in the visitor's browser until the collector acknowledges it, is \
             purged at the end of its retention, and is not found when the receipt's \
             sealed_sha256 was changed; check that --db or the files are the collector's",
            )
        })?;
    let record = Envelope::open(&found.jwe, &key)
        .with_context(|| format!("{}: cannot open the receipt's sealed record", found.place))?;
    let lines = compare(&receipt, &record);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "found the receipt's sealed record ({}, SHA-256 {sha256})",
        found.place
    )?;
    let width = |column: fn(&Line) -> &str, heading: &str| {
        lines
            .iter()
            .map(|l| column(l).chars().count())
            .chain([heading.len()])
            .max()
            .unwrap_or(0)
    };
    let what = width(|l| &l.what, "");
    let on_receipt = width(|l| &l.receipt, "receipt");
    let row = |what_text: &str, receipt: &str, record: &str, mark: &str| {
        let text = format!("{what_text:what$}  {receipt:on_receipt$}  {record}  {mark}");
        text.trim_end().to_owned()
    };
    writeln!(out, "{}", row("", "receipt", "record", ""))?;
    for line in &lines {
        let mark = if line.differs() { "differs" } else { "" };
        writeln!(
            out,
            "{}",
            row(&line.what, &line.receipt, &line.record, mark)
        )?;
    }
    out.flush()?;
    let differing: Vec<String> = lines
        .iter()
        .filter(|l| l.differs())
        .map(|l| {
            format!(
                "{} is {} in the record, {} on the receipt",
                l.what, l.record, l.receipt
            )
        })
        .collect();
    if differing.is_empty() {
        eprintln!("the receipt matches its sealed record");
        return Ok(());
    }
    Err(Hinted::error(
        format!(
            "the receipt does not match its sealed record: {}",
            differing.join("; ")
        ),
        "the sealed record is what the visitor's browser sent; a receipt that says otherwise \
         was changed after it was saved",
    ))
}

/// One claim of a receipt next to what the record says.
#[derive(Debug, PartialEq, Eq)]
struct Line {
    /// `record`, `banner`, ..., or `purpose ID`.
    what: String,
    receipt: String,
    record: String,
}

impl Line {
    fn differs(&self) -> bool {
        self.receipt != self.record
    }
}

/// Every claim of `receipt` next to `record`'s: the record id, the banner, the notice version,
/// the day, how the choice was made, and each purpose either names.
fn compare(receipt: &Receipt, record: &Envelope) -> Vec<Line> {
    let line = |what: &str, receipt: &str, record: &str| Line {
        what: what.to_owned(),
        receipt: receipt.to_owned(),
        record: record.to_owned(),
    };
    let consent = &record.consent;
    let mut lines = vec![
        line("record", &receipt.record, &record.id),
        line("banner", &receipt.banner, &record.form),
        line(
            "notice version",
            &receipt.notice_version,
            &consent.notice_version,
        ),
        // The record keeps the hour, the receipt the day.
        line(
            "decided",
            &receipt.decided,
            record.at.get(..10).unwrap_or(&record.at),
        ),
        line(
            "how",
            &method_name(Some(receipt.how)),
            &method_name(consent.method),
        ),
    ];
    let purposes: BTreeSet<&String> = receipt
        .granted
        .iter()
        .chain(&receipt.refused)
        .chain(&consent.granted)
        .chain(&consent.refused)
        .collect();
    for purpose in purposes {
        lines.push(line(
            &format!("purpose {purpose}"),
            state(purpose, &receipt.granted, &receipt.refused),
            state(purpose, &consent.granted, &consent.refused),
        ));
    }
    lines
}

/// Whether `purpose` is granted, refused or not mentioned.
fn state(purpose: &String, granted: &[String], refused: &[String]) -> &'static str {
    match (granted.contains(purpose), refused.contains(purpose)) {
        (true, false) => "granted",
        (false, true) => "refused",
        (true, true) => "both",
        (false, false) => "absent",
    }
}

fn method_name(method: Option<ConsentMethod>) -> String {
    match method.map(serde_json::to_value) {
        Some(Ok(serde_json::Value::String(name))) => name,
        _ => "none".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> Envelope {
        serde_json::from_value(json!({
            "v": 1, "id": "r1", "form": "cookies", "form_version": 1, "kind": "consent",
            "at": "2026-11-24T10:00:00Z", "subject": "s",
            "consent": {"notice_version": "2026-11", "granted": ["analytics"],
                        "refused": ["marketing"], "method": "banner"},
            "values": {}
        }))
        .unwrap()
    }

    fn receipt() -> Receipt {
        serde_json::from_value(json!({
            "site": "https://shop.example", "banner": "cookies",
            "privacy_notice": "https://shop.example/privacy", "notice_version": "2026-11",
            "granted": ["analytics"], "refused": ["marketing"], "decided": "2026-11-24",
            "valid_until": "2027-05-25", "record": "r1", "how": "banner",
            "sealed_sha256": "00"
        }))
        .unwrap()
    }

    #[test]
    fn a_faithful_receipt_differs_nowhere() {
        let lines = compare(&receipt(), &record());
        assert!(lines.iter().all(|l| !l.differs()), "{lines:?}");
        assert_eq!(lines.len(), 7, "five facts and two purposes");
    }

    #[test]
    fn each_changed_claim_is_named() {
        let mut edited = receipt();
        edited.granted = vec!["analytics".into(), "marketing".into()];
        edited.refused.clear();
        edited.how = ConsentMethod::Settings;
        let differing: Vec<Line> = compare(&edited, &record())
            .into_iter()
            .filter(Line::differs)
            .collect();
        assert_eq!(
            differing,
            [
                Line {
                    what: "how".into(),
                    receipt: "settings".into(),
                    record: "banner".into()
                },
                Line {
                    what: "purpose marketing".into(),
                    receipt: "granted".into(),
                    record: "refused".into()
                },
            ]
        );
    }
}
