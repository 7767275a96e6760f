//! The data team's keys: `keygen --passphrase` writes an encrypted private key that `decrypt` and
//! `export` open with the passphrase from a file or `FORMSEAL_PASSPHRASE` (and refuse with a clear
//! error otherwise), and a key rotation: while a form has two recipient keys the collector
//! accepts envelopes sealed to the old key, the new key or both, refuses any other, and each
//! private key opens what was sealed to it.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use assert_cmd::Command;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use formseal_cli::serve::{AcceptedForms, AppOptions, AppState, SqliteStore, app};
use formseal_core::keys::PublicJwk;
use serde_json::Value;
use tower::ServiceExt;

mod common;
use common::{answers, newsletter, run, seal_answers, test_key};

/// `formseal` without a passphrase from the environment: these tests give it explicitly.
fn formseal() -> Command {
    let mut cmd = common::formseal();
    cmd.env_remove("FORMSEAL_PASSPHRASE");
    cmd
}

fn jwk(path: &Path) -> PublicJwk {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn an_encrypted_key_from_keygen_opens_only_with_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let secret = dir.path().join("passphrase.txt");
    std::fs::write(&secret, "paarse fiets op het dak\n").unwrap();
    let (kid, stderr) = run(
        formseal()
            .args(["keygen", "--bits", "2048", "--passphrase-file"])
            .arg(&secret)
            .arg("--out")
            .arg(&keys),
        0,
    );
    assert!(stderr.contains("encrypted with the passphrase"), "{stderr}");
    let private = keys.join("private.pem");
    let pem = std::fs::read_to_string(&private).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{pem}"
    );

    // Seal to the new public key, then open with the passphrase from a file or the environment.
    let mut config = newsletter();
    config.recipients = vec![jwk(&keys.join("public.jwk.json"))];
    let sealed = dir.path().join("sealed.jwe");
    std::fs::write(&sealed, seal_answers(&config, &answers(), 1)).unwrap();
    let (from_file, _) = run(
        formseal()
            .args(["decrypt", "--key"])
            .arg(&private)
            .arg("--passphrase-file")
            .arg(&secret)
            .arg(&sealed),
        0,
    );
    let record: Value = serde_json::from_str(from_file.trim()).unwrap();
    assert_eq!(record["values"]["email"], "jan.de.vries@example.nl");
    let (from_env, _) = run(
        formseal()
            .env("FORMSEAL_PASSPHRASE", "paarse fiets op het dak")
            .args(["export", "--format", "jsonl", "--key"])
            .arg(&private)
            .arg(&sealed),
        0,
    );
    assert!(from_env.contains("jan.de.vries@example.nl"), "{from_env}");

    // A wrong passphrase is a clear error, and nothing is opened.
    let (stdout, stderr) = run(
        formseal()
            .env("FORMSEAL_PASSPHRASE", "paarse fiets op het dak!")
            .args(["decrypt", "--key"])
            .arg(&private)
            .arg(&sealed),
        1,
    );
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("cannot open the private key")
            && stderr.contains("wrong passphrase for the private key"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: check the passphrase"), "{stderr}");
    assert!(
        !stderr.contains("paarse"),
        "the passphrase is never echoed: {stderr}"
    );
    assert_eq!(kid.trim().len(), 43, "the kid on stdout");
}

#[test]
fn keygen_refuses_a_short_or_empty_passphrase_before_generating() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.txt");
    std::fs::write(&short, "kort\n").unwrap();
    let (_, stderr) = run(
        formseal()
            .args(["keygen", "--passphrase-file"])
            .arg(&short)
            .arg("--out")
            .arg(dir.path().join("keys")),
        1,
    );
    assert!(stderr.contains("shorter than 8 characters"), "{stderr}");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n").unwrap();
    let (_, stderr) = run(
        formseal()
            .env("FORMSEAL_PASSPHRASE", "lang genoeg maar genegeerd")
            .args(["keygen", "--passphrase-file"])
            .arg(&empty)
            .arg("--out")
            .arg(dir.path().join("keys")),
        1,
    );
    assert!(stderr.contains("is empty"), "{stderr}");
    assert!(!dir.path().join("keys").exists(), "nothing written");
}

#[test]
fn an_openssl_encrypted_key_opens_with_a_passphrase_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("passphrase.txt");
    std::fs::write(&secret, "correct horse battery staple\r\n").unwrap();
    let sealed = dir.path().join("sealed.jwe");
    std::fs::write(&sealed, seal_answers(&newsletter(), &answers(), 2)).unwrap();
    run(
        formseal()
            .args(["decrypt", "--key"])
            .arg(test_key("rsa2048.pbkdf2.pem"))
            .arg("--passphrase-file")
            .arg(&secret)
            .arg(&sealed),
        0,
    );
}

/// Posts one envelope to the collector; returns the status and the error message, if any.
async fn post(app: &axum::Router, jwe: String) -> (StatusCode, String) {
    let request = Request::post("/v1/submissions")
        .header(header::CONTENT_TYPE, common::jose_content_type(&jwe))
        .body(Body::from(jwe))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_rotation_the_collector_takes_both_keys_and_each_private_key_opens_its_own() {
    let old = jwk(&test_key("rsa2048.pub.jwk.json"));
    let new = jwk(&test_key("rsa3072.pub.jwk.json"));
    let stranger = jwk(&test_key("rsa4096.pub.jwk.json"));
    let with = |version: u32, keys: &[&PublicJwk]| {
        let mut config = newsletter();
        config.version = version;
        config.recipients = keys.iter().map(|k| (*k).clone()).collect();
        config
    };
    // The rotation as README describes it: v1 (old key) stays accepted next to v2 (both keys).
    let v1 = with(1, &[&old]);
    let v2 = with(2, &[&old, &new]);
    let mut forms = AcceptedForms::default();
    for config in [&v1, &v2] {
        forms.add(serde_json::to_string(config).unwrap()).unwrap();
    }
    assert_eq!(
        forms.get("newsletter").unwrap().kids.len(),
        2,
        "both kids accepted during the overlap"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.sqlite");
    let store = Arc::new(SqliteStore::open(&db).unwrap());
    let options = AppOptions {
        forms,
        rate_limit: None,
        ..AppOptions::default()
    };
    let app = app(AppState::new(store, options));

    // A page still on v1, a page on v2, and (once v3 drops the old key) one on the new key only.
    let v3 = with(3, &[&new]);
    for (config, seed) in [(&v1, 1), (&v2, 2), (&v3, 3)] {
        let (status, body) = post(&app, seal_answers(config, &answers(), seed)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // A key that is no recipient of any accepted version is refused, alone or next to a good one.
    for (config, seed) in [(with(2, &[&stranger]), 4), (with(2, &[&old, &stranger]), 5)] {
        let (status, body) = post(&app, seal_answers(&config, &answers(), seed)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body.contains("not a recipient of form newsletter"),
            "{body}"
        );
    }

    // Each private key opens what was sealed to it: old → v1 and v2, new → v2 and v3.
    let opened = |key: &str| {
        let output = formseal()
            .args(["decrypt", "--key"])
            .arg(test_key(key))
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        let versions: Vec<u64> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["form_version"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        (versions, String::from_utf8(output.stderr).unwrap())
    };
    let (by_old, stderr) = opened("rsa2048.pem");
    assert_eq!(by_old, [1, 2]);
    assert!(
        stderr.contains("1 record was sealed to another key"),
        "{stderr}"
    );
    let (by_new, _) = opened("rsa3072.pem");
    assert_eq!(by_new, [2, 3]);
}
