//! `formseal consent-log`: consent and withdrawal records, made by the core's `consent::record`
//! from the example banner and sealed to the committed TEST key, come out per subject, in time
//! order, with what each one changed; other kinds and other subjects are left out and counted.
//! `--stats` counts a store of known decisions (exact shares, cells under 5 suppressed, a chart
//! that parses as SVG); `--receipt` checks receipts made by the core's `Receipt`, as the widget
//! makes them, against the records the collector stored.

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
    // The widget's next step: the choice names its record's SHA-256, for the receipt.
    let choice = choice.sealed_as(&jwe);
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
    let rows = csv_records(&mut reader);
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

    // Statistics of this small store: analytics has 4 decisions (Bob's banner record and
    // Alice's three), marketing 5 (Bob's GPC record too), one granting it.
    let (stdout, _) =
        sh("formseal consent-log --key keys/private.pem --db collector.sqlite --stats --by month");
    let words = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let lines: Vec<String> = stdout.lines().map(words).collect();
    assert_eq!(
        lines[1..],
        [
            "cookies analytics 2026-11 <5 - - <5 <5 <5",
            "cookies marketing 2026-11 5 20.0% 80.0% 1 1 0"
        ],
        "{stdout}"
    );
    let (stdout, _) = sh(
        "formseal consent-log --key keys/private.pem --db collector.sqlite --stats --format csv --svg opt-in.svg",
    );
    assert!(
        stdout.starts_with("form,purpose,period,decisions,"),
        "{stdout}"
    );
    let svg = fs::read_to_string(dir.path().join("opt-in.svg")).unwrap();
    roxmltree::Document::parse(&svg).unwrap();

    // Bob's receipt for his banner record, saved as the widget saves it.
    let (_, _, signal) = decide(BOB, &[], ConsentMethod::Gpc, true, None, NOW - HOUR);
    let (_, _, choice) = decide(
        BOB,
        &["analytics", "marketing"],
        ConsentMethod::Banner,
        true,
        Some(&signal),
        NOW,
    );
    fs::write(
        dir.path().join("privacy-choices.json"),
        serde_json::to_string_pretty(&receipt_of(&choice)).unwrap(),
    )
    .unwrap();
    let (stdout, err) = sh(
        "formseal consent-log --key keys/private.pem --db collector.sqlite --receipt privacy-choices.json",
    );
    assert!(
        stdout.contains(&format!("\nrecord             {accept}  {accept}\n")),
        "{stdout}"
    );
    assert!(
        err.contains("the receipt matches its sealed record"),
        "{err}"
    );
}

/// The records of a CSV file after its header row, as text.
fn csv_records(reader: &mut csv::Reader<&[u8]>) -> Vec<Vec<String>> {
    reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
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

/// One decision of the stats fixture: who, on which day after [`NOW`], granting what, how.
struct Made {
    subject: String,
    day: i64,
    granted: &'static [&'static str],
    method: ConsentMethod,
    gpc: bool,
}

fn made(subject: &str, day: i64, granted: &'static [&'static str], method: ConsentMethod) -> Made {
    Made {
        subject: subject.to_owned(),
        day,
        granted,
        method,
        gpc: method == ConsentMethod::Gpc,
    }
}

/// The stats fixture, by ISO week (2026-11-24 is a Tuesday of week 48):
///
/// - week 48: s1–s4 accept all, s5–s6 accept analytics only, s7 rejects all (banner); s8–s9's
///   browsers send GPC (a record refusing marketing alone); s10 allows analytics on an embed's
///   placeholder; two days later s1 withdraws everything in the settings. Analytics: 9
///   decisions, 7 granted, 1 withdrawal, 1 placeholder grant. Marketing: 11 decisions, 4 granted,
///   1 withdrawal, 2 GPC refusals.
/// - week 49: three visitors (two accept all, one rejects): under 5 decisions, suppressed.
/// - week 50: exactly five (three accept all, two analytics only): shown.
fn stats_fixture() -> Vec<Made> {
    use ConsentMethod::{Banner, Gpc, Placeholder, Settings};
    let all: &[&str] = &["analytics", "marketing"];
    let analytics: &[&str] = &["analytics"];
    let mut decisions = Vec::new();
    for n in 1..=4 {
        decisions.push(made(&format!("s{n}"), 0, all, Banner));
    }
    for n in 5..=6 {
        decisions.push(made(&format!("s{n}"), 0, analytics, Banner));
    }
    decisions.push(made("s7", 0, &[], Banner));
    for n in 8..=9 {
        decisions.push(made(&format!("s{n}"), 0, &[], Gpc));
    }
    decisions.push(made("s10", 1, analytics, Placeholder));
    decisions.push(made("s1", 2, &[], Settings));
    for n in 11..=12 {
        decisions.push(made(&format!("s{n}"), 7, all, Banner));
    }
    decisions.push(made("s13", 7, &[], Banner));
    for n in 14..=16 {
        decisions.push(made(&format!("s{n}"), 14, all, Banner));
    }
    for n in 17..=18 {
        decisions.push(made(&format!("s{n}"), 14, analytics, Banner));
    }
    decisions
}

/// The fixture's decisions recorded and sealed as the widget does (each subject's later
/// decision knowing its earlier choice), in a store with a newsletter submission besides.
fn stats_store() -> (tempfile::TempDir, std::path::PathBuf) {
    let mut choices = std::collections::BTreeMap::<String, Choice>::new();
    let mut envelopes = vec![seal_answers(&newsletter(), &answers(), 4)];
    for d in stats_fixture() {
        let previous = choices.get(&d.subject).cloned();
        let (_, jwe, choice) = decide(
            &d.subject,
            d.granted,
            d.method,
            d.gpc,
            previous.as_ref(),
            NOW + d.day * 24 * HOUR,
        );
        choices.insert(d.subject, choice);
        envelopes.push(jwe);
    }
    let days: Vec<(&str, &str)> = envelopes
        .iter()
        .map(|jwe| ("2026-11-24", jwe.as_str()))
        .collect();
    store_with(&days)
}

fn stats(db: &Path, extra: &[&str]) -> (String, String) {
    run(
        formseal()
            .args(["consent-log", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(db)
            .arg("--stats")
            .args(extra),
        0,
    )
}

#[test]
fn stats_count_each_purpose_per_week_with_exact_shares_and_small_cells_suppressed() {
    let (_dir, db) = stats_store();
    let (out, err) = stats(&db, &["--format", "json"]);
    assert!(err.contains("opened 20 of 20 records"), "{err}");
    assert!(
        err.contains("a purpose with fewer than 5 decisions in a week shows <5"),
        "{err}"
    );
    let document: Value = serde_json::from_str(&out).unwrap();
    let row = |purpose: &str,
               week: &str,
               decisions: u64,
               granted: f64,
               refused: f64,
               [withdrawals, gpc, placeholder]: [u64; 3]| {
        json!({
            "form": "cookies", "purpose": purpose, "period": week,
            "decisions": decisions, "granted_share": granted, "refused_share": refused,
            "withdrawals": withdrawals, "gpc_refusals": gpc, "placeholder_grants": placeholder,
            "suppressed": false,
        })
    };
    let suppressed = |purpose: &str, week: &str| {
        json!({
            "form": "cookies", "purpose": purpose, "period": week,
            "decisions": "<5", "granted_share": null, "refused_share": null,
            "withdrawals": "<5", "gpc_refusals": "<5", "placeholder_grants": "<5",
            "suppressed": true,
        })
    };
    assert_eq!(
        document,
        json!({
            "by": "week",
            "min_decisions": 5,
            "rows": [
                // 7 of 9, 2 of 9.
                row("analytics", "2026-W48", 9, 0.7778, 0.2222, [1, 0, 1]),
                suppressed("analytics", "2026-W49"),
                row("analytics", "2026-W50", 5, 1.0, 0.0, [0, 0, 0]),
                // 4 of 11, 7 of 11.
                row("marketing", "2026-W48", 11, 0.3636, 0.6364, [1, 2, 0]),
                suppressed("marketing", "2026-W49"),
                row("marketing", "2026-W50", 5, 0.6, 0.4, [0, 0, 0]),
            ],
        })
    );

    // By month, weeks 49 and 50 fall in December together: 8 decisions, no longer suppressed.
    let (out, err) = stats(&db, &["--by", "month", "--format", "csv"]);
    assert!(
        err.contains("a purpose with fewer than 5 decisions in a month shows <5"),
        "{err}"
    );
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "form",
            "purpose",
            "period",
            "decisions",
            "granted_share",
            "refused_share",
            "withdrawals",
            "gpc_refusals",
            "placeholder_grants",
            "suppressed"
        ]
    );
    let rows = csv_records(&mut reader);
    let csv_row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(
        rows,
        [
            csv_row(&[
                "cookies",
                "analytics",
                "2026-11",
                "9",
                "0.7778",
                "0.2222",
                "1",
                "0",
                "1",
                "false"
            ]),
            // 2 + 5 of 3 + 5.
            csv_row(&[
                "cookies",
                "analytics",
                "2026-12",
                "8",
                "0.875",
                "0.125",
                "0",
                "0",
                "0",
                "false"
            ]),
            csv_row(&[
                "cookies",
                "marketing",
                "2026-11",
                "11",
                "0.3636",
                "0.6364",
                "1",
                "2",
                "0",
                "false"
            ]),
            // 2 + 3 of 3 + 5.
            csv_row(&[
                "cookies",
                "marketing",
                "2026-12",
                "8",
                "0.625",
                "0.375",
                "0",
                "0",
                "0",
                "false"
            ]),
        ]
    );

    // By day the suppressed cells' CSV holds `<5` and no shares.
    let (out, _) = stats(&db, &["--by", "day", "--format", "csv"]);
    let placeholder_day: Vec<&str> = out.lines().filter(|l| l.contains("2026-11-25")).collect();
    assert_eq!(
        placeholder_day,
        [
            "cookies,analytics,2026-11-25,<5,,,<5,<5,<5,true",
            "cookies,marketing,2026-11-25,<5,,,<5,<5,<5,true"
        ]
    );
}

#[test]
fn the_stats_table_is_aligned_and_shows_shares_in_per_cent() {
    let (_dir, db) = stats_store();
    let (out, _) = stats(&db, &[]);
    let lines: Vec<&str> = out.lines().collect();
    let words = |line: &str| {
        line.split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(lines[0]),
        [
            "form",
            "purpose",
            "week",
            "decisions",
            "granted",
            "refused",
            "withdrawals",
            "gpc",
            "refusals",
            "placeholder",
            "grants"
        ]
    );
    assert_eq!(
        words(lines[1]),
        [
            "cookies",
            "analytics",
            "2026-W48",
            "9",
            "77.8%",
            "22.2%",
            "1",
            "0",
            "1"
        ]
    );
    assert_eq!(
        words(lines[2]),
        [
            "cookies",
            "analytics",
            "2026-W49",
            "<5",
            "-",
            "-",
            "<5",
            "<5",
            "<5"
        ]
    );
    assert_eq!(lines.len(), 7, "a header and six cells");
    // Figures are right-aligned: every line ends in the same column.
    let width = lines[0].len();
    assert!(lines.iter().all(|l| l.len() == width), "{out}");
}

#[test]
fn the_svg_chart_draws_each_purpose_over_the_weeks_without_the_suppressed_cells() {
    let (dir, db) = stats_store();
    let svg = dir.path().join("opt-in.svg");
    let (out, _) = stats(&db, &["--format", "json", "--svg", svg.to_str().unwrap()]);
    let rows: Vec<Value> = serde_json::from_str::<Value>(&out).unwrap()["rows"]
        .as_array()
        .unwrap()
        .clone();
    let text = fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the chart is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    // The title, the axis descriptions, every week on the x axis and each purpose in the legend.
    let mut expected: Vec<String> = vec![
        "Opt-in rate by week".into(),
        "week".into(),
        "opt-in rate (share granted, %)".into(),
        "0%".into(),
        "100%".into(),
    ];
    for row in &rows {
        expected.push(row["period"].as_str().unwrap().into());
        expected.push(row["purpose"].as_str().unwrap().into());
    }
    for label in &expected {
        assert!(
            texts.contains(label),
            "no text {label:?} in the chart: {texts:?}"
        );
    }
    // One point per cell shown; a suppressed cell is not drawn.
    let shown: Vec<f64> = rows
        .iter()
        .filter(|r| r["suppressed"] == false)
        .map(|r| r["granted_share"].as_f64().unwrap())
        .collect();
    let mut points: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .map(|n| n.attribute("cy").unwrap().parse().unwrap())
        .collect();
    assert_eq!(points.len(), shown.len(), "{text}");
    // A higher opt-in rate is drawn higher up (a smaller y): the points' heights, sorted, are
    // the shares sorted the other way round.
    points.sort_by(f64::total_cmp);
    let mut shares = shown.clone();
    shares.sort_by(|a, b| b.total_cmp(a));
    let top = points[0];
    let bottom = points[points.len() - 1];
    for (y, share) in points.iter().zip(&shares) {
        let expected = bottom
            - (bottom - top) * (share - shares[shares.len() - 1])
                / (shares[0] - shares[shares.len() - 1]);
        assert!(
            (y - expected).abs() < 1.5,
            "point at {y}, expected {expected} for {share}"
        );
    }
}

#[test]
fn stats_formats_and_flags_are_checked() {
    let (_dir, db) = stats_store();
    let (_, err) = run(
        formseal()
            .args(["consent-log", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(&db)
            .args(["--stats", "--format", "jsonl"]),
        1,
    );
    assert!(
        err.contains("error: --format jsonl does not apply to --stats"),
        "{err}"
    );
    assert!(
        err.contains("hint: --stats is written as table, csv or json"),
        "{err}"
    );
    let (_, err) = run(
        formseal()
            .args(["consent-log", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(&db)
            .args(["--svg", "chart.svg"]),
        2,
    );
    assert!(err.contains("--stats"), "{err}");
}

/// A receipt as the widget saves it (`consent::Receipt` of the choice after sealing).
fn receipt_of(choice: &Choice) -> Value {
    serde_json::to_value(consent::Receipt::new(
        "https://shop.example",
        &banner(),
        choice,
    ))
    .unwrap()
}

fn check_receipt(dir: &Path, receipt: &Value, source: &[&str], code: i32) -> (String, String) {
    let path = dir.join("privacy-choices.json");
    fs::write(&path, serde_json::to_string_pretty(receipt).unwrap()).unwrap();
    run(
        formseal()
            .current_dir(dir)
            .args(["consent-log", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--receipt")
            .arg(&path)
            .args(source),
        code,
    )
}

#[test]
fn a_genuine_receipt_matches_the_record_the_collector_stored() {
    let (_, jwe, choice) = decide(
        ALICE,
        &["analytics"],
        ConsentMethod::Banner,
        false,
        None,
        NOW,
    );
    let receipt = receipt_of(&choice);
    // The hash the widget names is that of the bytes the collector stores: post the record to
    // the collector and find it by the receipt's hash.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.sqlite");
    let stored_id = post_to_collector(&db, &jwe);
    let digest =
        <base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(&stored_id).unwrap();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(receipt["sealed_sha256"], hex.as_str(), "{receipt}");
    let (out, err) = check_receipt(dir.path(), &receipt, &["--db", "collector.sqlite"], 0);
    assert!(
        err.contains("the receipt matches its sealed record"),
        "{err}"
    );
    assert!(
        out.contains(&format!(
            "found the receipt's sealed record (record {stored_id}, SHA-256 {hex})"
        )),
        "{out}"
    );
    assert!(!out.contains("differs"), "{out}");
    // The audit log says a receipt was checked, and which record hash, not whose.
    let (audit, _) = run(
        formseal()
            .current_dir(dir.path())
            .args(["audit", "--db", "collector.sqlite"]),
        0,
    );
    let entry: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(entry["action"], "consent-log");
    assert_eq!(entry["records"], 1);
    assert_eq!(entry["detail"], format!("receipt, sha256 {hex}"));
}

/// Posts `jwe` to the collector (its router, on a new SQLite store at `db`) as the widget's
/// delivery queue does; returns the record id the collector answers with.
fn post_to_collector(db: &Path, jwe: &str) -> String {
    use formseal_cli::serve::{AcceptedForms, AppOptions, AppState, Database, app};
    use tower::ServiceExt;
    let mut forms = AcceptedForms::default();
    forms
        .add(fs::read_to_string(repo().join("examples/consent.json")).unwrap())
        .unwrap();
    let store = Database::Sqlite(db.to_path_buf()).open().unwrap();
    let options = AppOptions {
        forms,
        ..AppOptions::default()
    };
    let request = axum::http::Request::post("/v1/submissions")
        .header("content-type", "application/jose")
        .body(axum::body::Body::from(jwe.to_owned()))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let response = app(AppState::new(store, options))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let answer: Value = serde_json::from_slice(&body).unwrap();
        answer["id"].as_str().unwrap().to_string()
    })
}

#[test]
fn a_receipt_whose_choices_were_edited_is_a_mismatch_naming_the_purpose() {
    let ([_, _, _, _, _], envelopes) = envelopes();
    let (dir, _db) = store();
    // Bob's banner record: analytics granted, marketing refused (GPC).
    let (_, _, signal) = decide(BOB, &[], ConsentMethod::Gpc, true, None, NOW - HOUR);
    let (_, jwe, choice) = decide(
        BOB,
        &["analytics", "marketing"],
        ConsentMethod::Banner,
        true,
        Some(&signal),
        NOW,
    );
    assert!(envelopes.contains(&jwe), "the record is in the store");
    let mut receipt = receipt_of(&choice);
    receipt["granted"] = json!(["analytics", "marketing"]);
    receipt["refused"] = json!([]);
    let (out, err) = check_receipt(dir.path(), &receipt, &["--db", "collector.sqlite"], 1);
    assert!(
        err.contains(
            "error: the receipt does not match its sealed record: purpose marketing is refused \
             in the record, granted on the receipt"
        ),
        "{err}"
    );
    let differing: Vec<&str> = out.lines().filter(|l| l.ends_with("differs")).collect();
    assert_eq!(differing.len(), 1, "{out}");
    assert!(differing[0].starts_with("purpose marketing"), "{out}");
    // The untouched receipt matches, read from a file of envelopes as well.
    fs::write(dir.path().join("sealed.jwe"), envelopes.join("\n")).unwrap();
    let (_, err) = check_receipt(dir.path(), &receipt_of(&choice), &["sealed.jwe"], 0);
    assert!(
        err.contains("the receipt matches its sealed record"),
        "{err}"
    );
}

#[test]
fn a_receipt_whose_record_is_not_in_the_store_says_so() {
    let (dir, _db) = store();
    // A decision whose record never reached the collector.
    let (_, _, choice) = decide(ALICE, &[], ConsentMethod::Api, false, None, NOW + 9 * HOUR);
    let receipt = receipt_of(&choice);
    let (out, err) = check_receipt(dir.path(), &receipt, &["--db", "collector.sqlite"], 1);
    assert!(out.is_empty(), "{out}");
    let hash = receipt["sealed_sha256"].as_str().unwrap();
    assert!(
        err.contains(&format!(
            "error: no sealed record with the receipt's SHA-256 {hash} is in the store"
        )),
        "{err}"
    );
    // A receipt without a hash (saved before its record was sealed) points to --record.
    let mut unsealed = receipt.clone();
    unsealed["sealed_sha256"] = Value::Null;
    let (_, err) = check_receipt(dir.path(), &unsealed, &["--db", "collector.sqlite"], 1);
    assert!(err.contains("names no sealed record"), "{err}");
    assert!(err.contains("--record RECORD-ID"), "{err}");
}
