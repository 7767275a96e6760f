//! Opening on every core: the output of `decrypt` and `export` does not depend on the number of
//! threads (RAYON_NUM_THREADS=1 against several), failures are reported in input order, and the
//! progress bar shows on a terminal only, never with --quiet and never in piped output.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::json;

mod common;
use common::{answers, formseal, newsletter, run, seal_answers, store_with, test_key};

/// A file of `n` envelopes with, between them, lines that fail in different ways.
fn mixed_file(dir: &Path, n: u64) -> (std::path::PathBuf, Vec<String>) {
    let mut other = newsletter();
    other.recipients = vec![
        serde_json::from_str(&std::fs::read_to_string(test_key("rsa3072.pub.jwk.json")).unwrap())
            .unwrap(),
    ];
    let mut lines = Vec::new();
    let mut names = Vec::new();
    for i in 0..n {
        let mut answers = answers();
        let name = format!("person-{i}");
        answers.insert("name".into(), json!(name));
        lines.push(seal_answers(&newsletter(), &answers, i));
        names.push(name);
        match i % 17 {
            3 => lines.push("not an envelope".into()),
            7 => lines.push(seal_answers(&other, &answers, 1000 + i)),
            11 => lines.push(String::new()),
            _ => {}
        }
    }
    let file = dir.join("sealed.jwe");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    (file, names)
}

fn decrypt(file: &Path, threads: &str) -> (String, String) {
    run(
        formseal()
            .env("RAYON_NUM_THREADS", threads)
            .arg("decrypt")
            .arg("--key")
            .arg(test_key("rsa2048.pem"))
            .arg(file),
        1,
    )
}

#[test]
fn output_and_messages_are_the_same_on_one_thread_and_on_many() {
    let dir = tempfile::tempdir().unwrap();
    let (file, names) = mixed_file(dir.path(), 150);
    let one = decrypt(&file, "1");
    for threads in ["2", "5"] {
        assert_eq!(decrypt(&file, threads), one, "RAYON_NUM_THREADS={threads}");
    }
    let (stdout, stderr) = one;
    let opened: Vec<String> = stdout
        .lines()
        .map(|l| {
            let record: serde_json::Value = serde_json::from_str(l).unwrap();
            record["values"]["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(opened, names, "in input order");
    assert!(stderr.contains("opened 150 of"), "{stderr}");
    // The failures in input order, by line.
    let failing: Vec<&str> = stderr.lines().filter(|l| l.starts_with("line ")).collect();
    assert!(failing.len() >= 10, "{stderr}");
    let numbers: Vec<usize> = failing
        .iter()
        .map(|l| l[5..].split(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    // Nothing on stderr but messages: no progress bar when stderr is not a terminal.
    assert!(
        !stderr.contains('\r') && !stderr.contains('\x1b'),
        "{stderr:?}"
    );
}

#[test]
fn an_export_from_the_store_is_the_same_on_one_thread_and_on_many() {
    let envelopes: Vec<String> = (0..80)
        .map(|i| {
            let mut answers = answers();
            answers.insert("name".into(), json!(format!("p{i}")));
            seal_answers(&newsletter(), &answers, i)
        })
        .collect();
    let rows: Vec<(&str, &str)> = envelopes
        .iter()
        .map(|e| ("2026-11-24", e.as_str()))
        .collect();
    let (_dir, db) = store_with(&rows);
    let export = |threads: &str| {
        run(
            formseal()
                .env("RAYON_NUM_THREADS", threads)
                .args(["export", "--format", "csv", "--key"])
                .arg(test_key("rsa2048.pem"))
                .arg("--db")
                .arg(&db),
            0,
        )
        .0
    };
    let one = export("1");
    assert_eq!(export("3"), one);
    assert_eq!(one.lines().count(), 81);
}

/// Runs `command` (a shell command line) under `script`, which gives it a terminal, and returns
/// what the terminal showed.
fn on_a_terminal(command: &str) -> String {
    let output = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_progress_bar_shows_on_a_terminal_for_a_long_run_and_not_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    // The same envelope many times: a run that lasts longer than the bar waits.
    let line = seal_answers(&newsletter(), &answers(), 1);
    let file = dir.path().join("many.jwe");
    std::fs::write(&file, format!("{line}\n").repeat(3000)).unwrap();
    let bin = env!("CARGO_BIN_EXE_formseal");
    let key = test_key("rsa2048.pem");
    let command = |quiet: &str| {
        format!(
            "RAYON_NUM_THREADS=1 {bin} decrypt {quiet} --key {} {} > {}",
            key.display(),
            file.display(),
            dir.path().join("records.jsonl").display()
        )
    };
    let shown = on_a_terminal(&command(""));
    assert!(shown.contains(" records, "), "{shown:?}");
    assert!(shown.contains("/s"), "a rate: {shown:?}");
    assert!(shown.contains("opened 3000 of 3000 records"), "{shown:?}");
    let records = std::fs::read_to_string(dir.path().join("records.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 3000, "stdout has only the records");

    let quiet = on_a_terminal(&command("--quiet"));
    assert!(!quiet.contains(" records, "), "{quiet:?}");
    assert!(quiet.contains("opened 3000 of 3000 records"), "{quiet:?}");
}
