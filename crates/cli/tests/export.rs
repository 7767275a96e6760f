//! Reading what the collector stored: `formseal decrypt --db [--since]` and `formseal export`
//! to CSV and JSON Lines, from the store or from a file. Envelopes are sealed with the committed
//! TEST keys and written to a temporary store through the collector's own store code.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use formseal_core::config::FormConfig;
use serde_json::{Value, json};

mod common;
use common::{answers, formseal, newsletter, repo, run, seal_answers, store_with, test_key};

fn form_path() -> PathBuf {
    repo().join("examples/newsletter.json")
}

/// Seals the example answers (with `name` replaced) for the example form, or a copy of it with
/// another id or another key.
fn seal(seed: u64, name: &str, change: impl FnOnce(&mut FormConfig)) -> String {
    let mut config = newsletter();
    change(&mut config);
    let mut answers = answers();
    answers.insert("name".into(), json!(name));
    seal_answers(&config, &answers, seed)
}

fn names(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|l| {
            let record: Value = serde_json::from_str(l).unwrap();
            let name = &record["values"]["name"];
            name.as_str()
                .unwrap_or_else(|| record["name"].as_str().unwrap())
                .to_string()
        })
        .collect()
}

#[test]
fn decrypt_reads_the_store_from_a_day_on() {
    let (a, b, c) = (
        seal(1, "Ann", |_| {}),
        seal(2, "Bob", |_| {}),
        seal(3, "Cy", |_| {}),
    );
    let (_dir, db) = store_with(&[("2026-01-31", &a), ("2026-02-01", &b), ("2026-03-01", &c)]);
    let key = test_key("rsa2048.pem");

    let (out, err) = run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(&key)
            .arg("--db")
            .arg(&db),
        0,
    );
    assert_eq!(names(&out), ["Ann", "Bob", "Cy"]);
    assert!(err.contains("opened 3 of 3 records"), "{err}");

    let (out, _) = run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(&key)
            .arg("--db")
            .arg(&db)
            .args(["--since", "2026-02-01"]),
        0,
    );
    assert_eq!(names(&out), ["Bob", "Cy"]);
}

#[test]
fn decrypt_from_the_store_names_the_record_it_cannot_open() {
    let other = seal(4, "Eve", |c| {
        c.recipients = vec![
            serde_json::from_str(
                &std::fs::read_to_string(test_key("rsa3072.pub.jwk.json")).unwrap(),
            )
            .unwrap(),
        ];
    });
    let good = seal(5, "Ann", |_| {});
    let (_dir, db) = store_with(&[("2026-01-01", &other), ("2026-01-01", &good)]);
    let (out, err) = run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(&db),
        1,
    );
    assert_eq!(names(&out), ["Ann"]);
    assert!(
        err.contains("record record-0: cannot open envelope: sealed to another key"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn decrypt_db_flags_are_checked() {
    let key = test_key("rsa2048.pem");
    let (_, err) = run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(&key)
            .args(["--since", "2026-01-01"]),
        2,
    );
    assert!(err.contains("--db"), "{err}");
    let (_, err) = run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(&key)
            .args(["--db", "x.sqlite", "--since", "January"]),
        2,
    );
    assert!(err.contains("not a date"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sqlite");
    let (_, err) = run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(&key)
            .arg("--db")
            .arg(&missing),
        1,
    );
    assert!(err.contains("cannot open the collector database"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!missing.exists(), "reading never creates a database");
}

#[test]
fn export_csv_to_a_private_file_with_the_form_order_and_only_that_form() {
    let tricky = "Zoë \"Jo\", from\nFryslân";
    let a = seal(6, tricky, |_| {});
    let other_form = seal(7, "Bob", |c| c.id = "contest".into());
    let (dir, db) = store_with(&[("2026-01-01", &a), ("2026-01-02", &other_form)]);
    let out = dir.path().join("signups.csv");
    let (stdout, err) = run(
        formseal()
            .args(["export", "--format", "csv", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(&db)
            .arg("--form")
            .arg(form_path())
            .arg("--out")
            .arg(&out),
        0,
    );
    assert!(stdout.is_empty());
    assert!(
        err.contains("left out 1 record of other forms than newsletter"),
        "{err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[8..10], ["refused", "confirmed"]);
    assert_eq!(
        header[10..],
        [
            "email",
            "name",
            "birth_date",
            "postcode",
            "phone",
            "topics",
            "newsletter_consent",
            "personalisation_consent",
            "source"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let cell = |name: &str| &rows[0][header.iter().position(|h| h == name).unwrap()];
    assert_eq!(cell("form"), "newsletter");
    assert_eq!(cell("form_version"), "1");
    assert_eq!(cell("name"), tricky);
    assert_eq!(cell("phone"), "+31612345678");
    assert_eq!(cell("topics"), "product;events");
    assert_eq!(cell("newsletter_consent"), "true");
    assert_eq!(cell("postcode"), "");
}

#[test]
fn export_jsonl_from_a_file_uses_the_sorted_value_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sealed.jwe");
    std::fs::write(
        &file,
        format!("{}\n{}\n", seal(8, "Ann", |_| {}), seal(9, "Bob", |_| {})),
    )
    .unwrap();
    let (out, err) = run(
        formseal()
            .args(["export", "--format", "jsonl", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg(&file),
        0,
    );
    assert!(err.contains("opened 2 of 2 records"), "{err}");
    let records: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    let first = records[0].as_object().unwrap();
    assert_eq!(first["name"], "Ann");
    assert_eq!(first["topics"], json!(["product", "events"]));
    assert_eq!(first["granted"], json!(["newsletter"]));
    assert_eq!(first["kind"], "submission");
    assert!(first.contains_key("id") && first.contains_key("subject"));
    assert!(!first.contains_key("birth_date"), "only value keys found");
    assert_eq!(names(&out), ["Ann", "Bob"]);
}
