//! `formseal confirm` when things are wrong: a password on the command line, a form that does
//! not say where the collector is, an SMTP server that is not there. Nothing is claimed then, so
//! the next run still mails every sign-up. (The whole way, with a real SMTP server, the browser
//! and the collector's page, is `tests/e2e/double-opt-in.test.mjs`.)

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use formseal_core::config::FormConfig;
use serde_json::{Value, json};

mod common;
use common::{FORM, answers, formseal, run, seal_answers, store_with, test_key};

/// The example form with a double opt-in on its newsletter, written to `dir`, and parsed.
fn double_opt_in(dir: &Path, endpoint: &str) -> (PathBuf, FormConfig) {
    let mut json: Value = serde_json::from_str(FORM).unwrap();
    json["purposes"][0]["double_opt_in"] = json!(true);
    json["endpoint"] = json!(endpoint);
    let path = dir.join("form.json");
    std::fs::write(&path, json.to_string()).unwrap();
    (path, FormConfig::from_json(&json.to_string()).unwrap())
}

/// `formseal confirm` on `db` with `form`, mailing through `smtp`.
fn confirm(db: &Path, form: &Path, smtp: &str) -> assert_cmd::Command {
    let mut cmd = formseal();
    cmd.args(["confirm", "--db"])
        .arg(db)
        .arg("--key")
        .arg(test_key("rsa2048.pem"))
        .arg("--form")
        .arg(form)
        .args(["--smtp", smtp, "--from", "news@shop.example"])
        .env_remove("FORMSEAL_SMTP_PASSWORD");
    cmd
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_smtp_server_that_is_not_there_claims_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (form, config) = double_opt_in(dir.path(), "https://collect.shop.example/v1/submissions");
    let (_store_dir, db) = store_with(&[
        ("2026-11-24", &seal_answers(&config, &answers(), 1)),
        ("2026-11-24", &seal_answers(&config, &answers(), 2)),
    ]);
    let smtp = format!("smtp://127.0.0.1:{}", closed_port());
    let (_, stderr) = run(&mut confirm(&db, &form, &smtp), 1);
    assert!(
        stderr.contains("cannot reach the SMTP server smtp://127.0.0.1:"),
        "{stderr}"
    );
    let (stdout, stderr) = run(confirm(&db, &form, &smtp).arg("--dry-run"), 0);
    assert_eq!(stdout.trim(), "2", "both still to mail: {stderr}");
}

#[test]
fn a_password_on_the_command_line_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (form, _) = double_opt_in(dir.path(), "https://collect.shop.example/v1/submissions");
    let (_store_dir, db) = store_with(&[]);
    let (_, stderr) = run(
        &mut confirm(&db, &form, "smtps://mailer:s3cret@smtp.shop.example"),
        1,
    );
    assert!(stderr.contains("--smtp carries a password"), "{stderr}");
    assert!(stderr.contains("--smtp-password-file"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    // A user name without any password is refused too, with where to put it.
    let (_, stderr) = run(&mut confirm(&db, &form, "smtps://mailer@127.0.0.1:1"), 1);
    assert!(stderr.contains("names a user but no password"), "{stderr}");
}

#[test]
fn a_form_posting_to_a_path_needs_the_collectors_address() {
    let dir = tempfile::tempdir().unwrap();
    let (form, _) = double_opt_in(dir.path(), "/v1/submissions");
    let (_store_dir, db) = store_with(&[]);
    let (_, stderr) = run(&mut confirm(&db, &form, "smtp://127.0.0.1:1"), 1);
    assert!(
        stderr.contains("does not say where the collector is"),
        "{stderr}"
    );
    assert!(stderr.contains("--collector https://"), "{stderr}");
    let (stdout, _) = run(
        confirm(&db, &form, "smtp://127.0.0.1:1").args([
            "--collector",
            "https://collect.shop.example",
            "--dry-run",
        ]),
        0,
    );
    assert_eq!(stdout.trim(), "0");
}
