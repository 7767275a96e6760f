//! `formseal export --new`: a nightly export hands every record once. The cursor lives in the
//! store (SQLite and PostgreSQL, see `common/stores.rs`) and moves, with its line in the audit
//! log, only once the new file is complete on disk.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use formseal_cli::serve::store::{NewEnvelope, Store};
use formseal_core::time::Date;
use serde_json::json;

mod common;
use common::stores::{TestStore, test_stores};
use common::{answers, formseal, newsletter, repo, run, seal_answers, test_key};

fn seal(seed: u64, name: &str) -> String {
    let mut answers = answers();
    answers.insert("name".into(), json!(name));
    seal_answers(&newsletter(), &answers, seed)
}

fn add(store: &dyn Store, id: &str, jwe: &str) {
    store
        .insert(&NewEnvelope {
            id,
            form: "newsletter",
            kids: &[],
            received: Date::parse("2026-11-24").unwrap(),
            expires: Date::parse("2999-12-31").unwrap(),
            jwe,
            deliver: false,
        })
        .unwrap();
}

/// `export --format csv --new --form newsletter.json --out FILE` against `t`.
fn export_new(t: &TestStore, out: &Path, code: i32) -> (String, String) {
    run(
        formseal()
            .args(["export", "--format", "csv", "--new", "--key"])
            .arg(test_key("rsa2048.pem"))
            .args(["--db", &t.arg()])
            .arg("--form")
            .arg(repo().join("examples/newsletter.json"))
            .arg("--out")
            .arg(out),
        code,
    )
}

fn names_in(file: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "name")
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap()[at].to_string())
        .collect()
}

fn audit_lines(t: &TestStore) -> Vec<serde_json::Value> {
    let (out, _) = run(formseal().args(["audit", "--db", &t.arg()]), 0);
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_record_is_handed_once_by_nightly_new_exports() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let dir = t.dir.path();

        // An empty store: nothing to hand, no file, and the run is logged.
        let (_, err) = export_new(&t, &dir.join("night-0.csv"), 0);
        assert!(err.contains("no new records"), "{}: {err}", t.kind);
        assert!(!dir.join("night-0.csv").exists());

        add(&*store, "r1", &seal(1, "Ann"));
        add(&*store, "r2", &seal(2, "Bob"));
        let (_, err) = export_new(&t, &dir.join("night-1.csv"), 0);
        assert!(err.contains("wrote 2 new records"), "{}: {err}", t.kind);
        assert_eq!(names_in(&dir.join("night-1.csv")), ["Ann", "Bob"]);

        // Straight again: nothing new.
        let (_, err) = export_new(&t, &dir.join("night-2.csv"), 0);
        assert!(err.contains("no new records"), "{}: {err}", t.kind);
        assert!(!dir.join("night-2.csv").exists());

        // What arrives in between is handed the next night, and only that.
        add(&*store, "r3", &seal(3, "Cy"));
        export_new(&t, &dir.join("night-3.csv"), 0);
        assert_eq!(names_in(&dir.join("night-3.csv")), ["Cy"]);

        // The audit log has every run, with the cursor's span.
        let exports: Vec<_> = audit_lines(&t)
            .into_iter()
            .filter(|l| l["action"] == "export")
            .collect();
        assert_eq!(exports.len(), 4, "{}", t.kind);
        let records: Vec<u64> = exports
            .iter()
            .map(|l| l["records"].as_u64().unwrap())
            .collect();
        assert_eq!(records, [0, 2, 0, 1]);
        let detail = exports[1]["detail"].as_str().unwrap();
        assert!(
            detail.contains("cursor csv:newsletter after 0 up to 2"),
            "{}: {detail}",
            t.kind
        );
    }
}

#[test]
fn a_new_export_never_overwrites_and_needs_a_file_and_the_store() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        add(&*store, "r1", &seal(1, "Ann"));
        let out = t.dir.path().join("taken.csv");
        std::fs::write(&out, "not imported yet\n").unwrap();
        let (_, err) = export_new(&t, &out, 1);
        assert!(
            err.contains("exists; export --new never overwrites"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "not imported yet\n");
        // The record was not handed: the next export gets it.
        let next = t.dir.path().join("next.csv");
        export_new(&t, &next, 0);
        assert_eq!(names_in(&next), ["Ann"], "{}", t.kind);
    }
    let (_, err) = run(
        formseal()
            .args(["export", "--format", "csv", "--new", "--key"])
            .arg(test_key("rsa2048.pem"))
            .args(["--db", "collector.sqlite"]),
        2,
    );
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn new_and_since_are_refused_together() {
    let (_, err) = run(
        formseal()
            .args([
                "export",
                "--format",
                "csv",
                "--new",
                "--since",
                "2026-11-01",
            ])
            .arg("--key")
            .arg(test_key("rsa2048.pem"))
            .args(["--db", "collector.sqlite", "--out", "x.csv"]),
        2,
    );
    assert!(
        err.contains("'--new' cannot be used with '--since") && err.contains("--since"),
        "{err}"
    );
}

#[test]
fn a_record_that_cannot_be_opened_stops_the_cursor_and_writes_nothing() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        add(&*store, "r1", &seal(1, "Ann"));
        // Sealed to another key.
        let mut other = newsletter();
        other.recipients = vec![
            serde_json::from_str(
                &std::fs::read_to_string(test_key("rsa3072.pub.jwk.json")).unwrap(),
            )
            .unwrap(),
        ];
        add(&*store, "r2", &seal_answers(&other, &answers(), 2));
        let out = t.dir.path().join("night.csv");
        let (_, err) = export_new(&t, &out, 1);
        assert!(err.contains("record r2: cannot open envelope"), "{err}");
        assert!(err.contains("nothing was written"), "{err}");
        assert!(!out.exists(), "{}", t.kind);
        let partial = std::fs::read_dir(t.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".partial"));
        assert!(!partial, "no half-written file is left behind");
        // The cursor did not move: with the record gone, the next export hands Ann.
        store.delete(&["r2".to_string()], &audit()).unwrap();
        export_new(&t, &out, 0);
        assert_eq!(names_in(&out), ["Ann"]);
    }
}

fn audit() -> formseal_cli::serve::store::AuditEntry {
    formseal_cli::serve::store::AuditEntry {
        at: "2026-11-24T10:11:12Z".into(),
        actor: "test".into(),
        action: "erase".into(),
        records: 0,
        detail: String::new(),
    }
}

/// A cursor is per destination: the HubSpot export and the CSV export of the same form each
/// hand every record once.
#[test]
fn each_destination_has_its_own_cursor() {
    let t = common::stores::sqlite();
    let store = t.db.open().unwrap();
    add(&*store, "r1", &seal(1, "Ann"));
    let dir = t.dir.path();
    export_new(&t, &dir.join("a.csv"), 0);
    let (_, err) = run(
        formseal()
            .args([
                "export",
                "--format",
                "csv",
                "--new",
                "--cursor",
                "backup-job",
                "--key",
            ])
            .arg(test_key("rsa2048.pem"))
            .args(["--db", &t.arg()])
            .arg("--out")
            .arg(dir.join("b.csv")),
        0,
    );
    assert!(err.contains("cursor \"backup-job\""), "{err}");
    assert_eq!(names_in(&dir.join("b.csv")), ["Ann"]);
}

/// An export that cannot write its file moves no cursor: the records come with the next one.
#[test]
fn a_file_that_cannot_be_written_moves_no_cursor() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        add(&*store, "r1", &seal(1, "Ann"));
        let nowhere = t.dir.path().join("no-such-dir").join("night.csv");
        let (_, err) = export_new(&t, &nowhere, 1);
        assert!(err.contains("cannot create a file in"), "{}: {err}", t.kind);
        let out = t.dir.path().join("night.csv");
        export_new(&t, &out, 0);
        assert_eq!(names_in(&out), ["Ann"], "{}", t.kind);
    }
}
