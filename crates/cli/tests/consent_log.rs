//! `formseal consent-log`: consent and withdrawal records, made by the core's `consent::record`
//! from the example banner and sealed to the committed TEST key, come out per subject, in time
//! order, with what each one changed; other kinds and other subjects are left out and counted.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use chacha20::ChaCha20Rng;
use formseal_core::config::FormConfig;
use formseal_core::consent::{self, Choice, ConsentMethod, Decision};
use rand_core::SeedableRng;
use serde_json::{Value, json};

mod common;
use common::{NOW, answers, formseal, newsletter, repo, run, seal_answers, store_with, test_key};

/// Two subject ids as the banner makes them (128 random bits, base64url).
const ALICE: &str = "x3F9Qm2LpV0aZk1YtR8wJg";
const BOB: &str = "Bq7Tn0cWfXe5Ru2Ys9LkMa";
const HOUR: i64 = 3600;

/// The example banner config (sealed to the committed rsa2048 TEST key).
fn banner() -> FormConfig {
    FormConfig::from_json(&fs::read_to_string(repo().join("examples/consent.json")).unwrap())
        .unwrap()
}

/// One decision made in the example banner, recorded and sealed the way the widget does it;
/// returns the envelope's id, its JWE and the choice the browser keeps.
fn decide(
    subject: &str,
    granted: &[&str],
    method: ConsentMethod,
    gpc: bool,
    previous: Option<&Choice>,
    now_unix: i64,
) -> (String, String, Choice) {
    let config = banner();
    let granted: BTreeSet<String> = granted.iter().map(|s| s.to_string()).collect();
    let decision = Decision {
        granted: &granted,
        method,
        gpc,
        previous,
        subject,
        now_unix,
    };
    // Another seed for every subject and hour, so that every record gets its own id.
    let seed = subject.bytes().fold(now_unix.unsigned_abs(), |h, b| {
        h.wrapping_mul(31) ^ u64::from(b)
    });
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (envelope, choice) = consent::record(&config, &decision, &mut rng).unwrap();
    let jwe = envelope
        .seal(&config, &config.recipient_keys().unwrap(), &mut rng)
        .unwrap();
    (envelope.id, jwe.0, choice)
}

/// The record ids of Alice's grant, change and withdrawal and of Bob's two records, and the
/// envelopes in the order they arrive. Alice accepts analytics in the banner (10:00), adds
/// marketing in the settings (11:00) and withdraws everything (11:00). Bob's browser sends
/// Global Privacy Control: a record refusing marketing alone (09:00), then he accepts all in the
/// banner, which grants analytics only (10:00). One newsletter submission. The queue delivers
/// Alice's grant late, after her change.
fn envelopes() -> ([String; 5], Vec<String>) {
    let (grant_id, grant, first) = decide(
        ALICE,
        &["analytics"],
        ConsentMethod::Banner,
        false,
        None,
        NOW,
    );
    let (change_id, change, second) = decide(
        ALICE,
        &["analytics", "marketing"],
        ConsentMethod::Settings,
        false,
        Some(&first),
        NOW + HOUR,
    );
    let (withdrawal_id, withdrawal, _) = decide(
        ALICE,
        &[],
        ConsentMethod::Settings,
        false,
        Some(&second),
        NOW + HOUR + 60,
    );
    let (gpc_id, gpc, signal) = decide(BOB, &[], ConsentMethod::Gpc, true, None, NOW - HOUR);
    let (accept_id, accept, _) = decide(
        BOB,
        &["analytics", "marketing"],
        ConsentMethod::Banner,
        true,
        Some(&signal),
        NOW,
    );
    (
        [grant_id, change_id, withdrawal_id, gpc_id, accept_id],
        vec![
            change,
            gpc,
            grant,
            seal_answers(&newsletter(), &answers(), 4),
            accept,
            withdrawal,
        ],
    )
}

fn store() -> (tempfile::TempDir, std::path::PathBuf) {
    let (_, envelopes) = envelopes();
    let days: Vec<(&str, &str)> = envelopes
        .iter()
        .map(|jwe| ("2026-11-24", jwe.as_str()))
        .collect();
    store_with(&days)
}

fn rows(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn each_subject_gets_its_records_in_time_order_with_what_changed() {
    let ([grant, change, withdrawal, gpc, accept], _) = envelopes();
    let distinct: BTreeSet<&String> = [&grant, &change, &withdrawal, &gpc, &accept].into();
    assert_eq!(distinct.len(), 5, "every record has its own id");
    let (_dir, db) = store();
    let (out, err) = run(
        formseal()
            .args(["consent-log", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(&db),
        0,
    );
    assert!(err.contains("opened 6 of 6 records"), "{err}");
    assert!(
        err.contains("left out 1 record of other kinds than consent and withdrawal (1 submission)"),
        "{err}"
    );
    let rows = rows(&out);
    assert_eq!(
        rows,
        [
            json!({
                "subject": BOB, "id": gpc, "form": "cookies", "form_version": 1,
                "notice_version": "2026-11", "at": "2026-11-24T09:00:00Z", "kind": "consent",
                "method": "gpc", "granted": [], "refused": ["marketing"],
                "newly_granted": [], "withdrawn": [],
            }),
            json!({
                "subject": BOB, "id": accept, "form": "cookies", "form_version": 1,
                "notice_version": "2026-11", "at": "2026-11-24T10:00:00Z", "kind": "consent",
                "method": "banner", "granted": ["analytics"], "refused": ["marketing"],
                "newly_granted": ["analytics"], "withdrawn": [],
            }),
            json!({
                "subject": ALICE, "id": grant, "form": "cookies", "form_version": 1,
                "notice_version": "2026-11", "at": "2026-11-24T10:00:00Z", "kind": "consent",
                "method": "banner", "granted": ["analytics"], "refused": ["marketing"],
                "newly_granted": ["analytics"], "withdrawn": [],
            }),
            json!({
                "subject": ALICE, "id": change, "form": "cookies", "form_version": 1,
                "notice_version": "2026-11", "at": "2026-11-24T11:00:00Z", "kind": "consent",
                "method": "settings", "granted": ["analytics", "marketing"], "refused": [],
                "newly_granted": ["marketing"], "withdrawn": [],
            }),
            json!({
                "subject": ALICE, "id": withdrawal, "form": "cookies", "form_version": 1,
                "notice_version": "2026-11", "at": "2026-11-24T11:00:00Z", "kind": "withdrawal",
                "method": "settings", "granted": [], "refused": ["analytics", "marketing"],
                "newly_granted": [], "withdrawn": ["analytics", "marketing"],
            }),
        ]
    );
}

/// The examples of `formseal consent-log --help` and the README, run as written in a directory
/// holding `keys/private.pem`, `collector.sqlite` and `sealed.jwe`.
#[test]
fn help_and_readme_examples_work_as_written() {
    let ([grant, change, withdrawal, gpc, accept], envelopes) = envelopes();
    let (dir, _db) = store();
    fs::create_dir(dir.path().join("keys")).unwrap();
    fs::copy(test_key("rsa2048.pem"), dir.path().join("keys/private.pem")).unwrap();
    fs::write(dir.path().join("sealed.jwe"), envelopes.join("\n")).unwrap();
    let (help, _) = run(formseal().args(["consent-log", "--help"]), 0);
    let (main_help, _) = run(formseal().arg("--help"), 0);
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let sh = |line: &str| {
        assert!(
            [&help, &main_help, &readme]
                .iter()
                .any(|doc| doc.lines().any(|l| l.trim() == line)),
            "{line:?} is not an example of the help or the README"
        );
        // A placeholder of the help stands for the id of Bob's record from the banner.
        let line = line.replace("RECORD-ID", &accept);
        let (command, stdout_file) = line.split_once(" > ").unwrap_or((&line, ""));
        let (stdout, stderr) = run(
            formseal()
                .current_dir(dir.path())
                .args(command.split(' ').skip(1)),
            0,
        );
        if !stdout_file.is_empty() {
            fs::write(dir.path().join(stdout_file), &stdout).unwrap();
        }
        (stdout, stderr)
    };

    let (stdout, err) = sh(
        "formseal consent-log --key keys/private.pem --db collector.sqlite --subject x3F9Qm2LpV0aZk1YtR8wJg --format csv --out consent-log.csv",
    );
    assert!(stdout.is_empty());
    assert!(
        err.contains(
            "left out 2 consent records of other subjects; 3 of subject x3F9Qm2LpV0aZk1YtR8wJg"
        ),
        "{err}"
    );
    // The audit log (plaintext in the collector's database) says a subject was looked up, not
    // which one.
    let (audit, _) = run(
        formseal()
            .current_dir(dir.path())
            .args(["audit", "--db", "collector.sqlite"]),
        0,
    );
    let entry: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(entry["action"], "consent-log");
    assert_eq!(entry["records"], 6);
    assert!(
        entry["detail"]
            .as_str()
            .unwrap()
            .ends_with("csv, one subject"),
        "{entry}"
    );
    assert!(!audit.contains(ALICE), "{audit}");
    let out = dir.path().join("consent-log.csv");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the log holds personal data");
    }
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
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
            "withdrawn"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let row = |id: &str, at: &str, kind: &str, method: &str, lists: [&str; 4]| {
        [ALICE, id, "cookies", "1", "2026-11", at, kind, method]
            .into_iter()
            .chain(lists)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rows,
        [
            row(
                &grant,
                "2026-11-24T10:00:00Z",
                "consent",
                "banner",
                ["analytics", "marketing", "analytics", ""]
            ),
            row(
                &change,
                "2026-11-24T11:00:00Z",
                "consent",
                "settings",
                ["analytics;marketing", "", "marketing", ""]
            ),
            row(
                &withdrawal,
                "2026-11-24T11:00:00Z",
                "withdrawal",
                "settings",
                ["", "analytics;marketing", "", "analytics;marketing"]
            ),
        ]
    );

    sh("formseal consent-log --key keys/private.pem --db collector.sqlite > consent-log.jsonl");
    let jsonl = fs::read_to_string(dir.path().join("consent-log.jsonl")).unwrap();
    assert_eq!(
        ids(&jsonl),
        [gpc.as_str(), &accept, &grant, &change, &withdrawal]
    );
    let (stdout, _) =
        sh("formseal consent-log --key keys/private.pem --db collector.sqlite --format csv");
    assert_eq!(stdout.lines().count(), 6, "a header and five records");
    let (stdout, _) = sh(
        "formseal consent-log --key keys/private.pem --subject x3F9Qm2LpV0aZk1YtR8wJg sealed.jwe",
    );
    assert_eq!(ids(&stdout), [grant.as_str(), &change, &withdrawal]);
    // A visitor's receipt names a record, not the subject: the log finds the subject's history.
    let (stdout, err) =
        sh("formseal consent-log --key keys/private.pem --db collector.sqlite --record RECORD-ID");
    assert_eq!(ids(&stdout), [gpc.as_str(), &accept]);
    assert!(
        err.contains(&format!(
            "left out 3 consent records of other subjects; 2 of subject {BOB}"
        )),
        "{err}"
    );
    let (stdout, err) = run(
        formseal()
            .current_dir(dir.path())
            .args(["consent-log", "--key", "keys/private.pem", "sealed.jwe"])
            .args(["--record", "no-such-record"]),
        1,
    );
    assert!(stdout.is_empty());
    assert!(
        err.contains("error: no consent or withdrawal record has the id no-such-record"),
        "{err}"
    );
    assert!(
        err.contains("hint: give the `record` of the visitor's receipt"),
        "{err}"
    );
}

/// The record ids of a JSON Lines log, in order.
fn ids(jsonl: &str) -> Vec<String> {
    rows(jsonl)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn several_files_are_read_in_turn_and_a_bad_line_is_named_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let ([grant, change, withdrawal, gpc, accept], envelopes) = envelopes();
    let write = |name: &str, lines: &[&str]| {
        let path = dir.path().join(name);
        fs::write(&path, lines.join("\n")).unwrap();
        path
    };
    let first = write("monday.jwe", &[&envelopes[0], &envelopes[1], &envelopes[2]]);
    let second = write(
        "tuesday.jwe",
        &[
            &envelopes[3],
            &envelopes[4],
            "not an envelope",
            &envelopes[5],
        ],
    );
    let (out, err) = run(
        formseal()
            .args(["consent-log", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg(&first)
            .arg(&second),
        1,
    );
    assert!(
        err.contains(&format!("{}: line 3: ", shown(&second))),
        "{err}"
    );
    assert!(err.contains("opened 6 of 7 records; 1 failed"), "{err}");
    assert_eq!(ids(&out), [gpc, accept, grant, change, withdrawal]);
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}
