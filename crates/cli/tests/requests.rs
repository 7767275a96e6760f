//! Privacy requests end to end on a collector database: a visitor with earlier records sends an
//! access and an erasure request (`examples/privacy-request.json`); `formseal requests` lists
//! them, `formseal subject --export` returns exactly that visitor's records, and `formseal erase`
//! leaves none of them, other visitors' records and anonymous survey answers untouched, and an
//! audit entry behind. On SQLite, and on PostgreSQL when the test server is there.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::Output;

use assert_cmd::Command;
use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20::ChaCha20Rng;
use formseal_cli::serve::store::{NewEnvelope, Store};
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, SubmissionInput};
use formseal_core::jwe;
use formseal_core::time::Date;
use rand_core::SeedableRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use common::stores::{TestStore, test_stores};
use common::{answers, newsletter, repo, test_key};

/// 2020-09-13: earlier than any clock the tests run under, so every export and erasure in the
/// audit log comes after the requests.
const THEN: i64 = 1_600_000_000;
/// Subject ids are base64url and may start with `-`: the commands must take them as values.
const VISITOR: &str = "-visitor-a-subject";
const OTHER: &str = "visitor-b-subject";

fn formseal() -> Command {
    let mut cmd = Command::cargo_bin("formseal").unwrap();
    cmd.env("NO_COLOR", "1").env("USER", "dpo");
    cmd
}

fn run(cmd: &mut Command, code: i32) -> Output {
    let output = cmd.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn example(name: &str) -> FormConfig {
    FormConfig::from_json(&fs::read_to_string(repo().join("examples").join(name)).unwrap()).unwrap()
}

/// Seals `answers` for `config` as `subject` and stores every envelope; returns their record ids.
fn store_submission(
    store: &dyn Store,
    config: &FormConfig,
    answers: &Answers,
    subject: &str,
    seed: u64,
) -> Vec<String> {
    let consent = ConsentState::default();
    let params = BTreeMap::new();
    let input = SubmissionInput {
        answers,
        consent: &consent,
        subject,
        now_unix: THEN,
        url_params: &params,
        lang: None,
    };
    let sealed =
        envelope::seal_envelopes(config, &input, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
    let mut ids = Vec::new();
    for (_, jwe_text) in sealed.envelopes {
        let text = jwe_text.0;
        let id = Base64UrlUnpadded::encode_string(&Sha256::digest(text.as_bytes()));
        let kids = jwe::peek(&text).unwrap().kids;
        store
            .insert(&NewEnvelope {
                id: &id,
                form: &config.id,
                kids: &kids,
                received: Date::from_unix(THEN),
                expires: Date::parse("2099-01-01").unwrap(),
                jwe: &text,
                // Queued for a webhook too: an erasure must take it out of the queue.
                deliver: true,
            })
            .unwrap();
        ids.push(id);
    }
    ids
}

/// What is in the database: visitor A's sign-up, survey (answers anonymous, reward entry as A),
/// access request and erasure request; visitor B's sign-up.
struct Fixture {
    store: TestStore,
    /// `--db`: the SQLite file or the PostgreSQL URL.
    db: String,
    dir: std::path::PathBuf,
    visitors: BTreeSet<String>,
    others: BTreeSet<String>,
}

fn fixture(test_store: TestStore) -> Fixture {
    let opened = test_store.db.open().unwrap();
    let store = opened.as_ref();
    let mut visitors = BTreeSet::new();
    let mut others = BTreeSet::new();

    let mut signup = answers();
    signup.insert("newsletter_consent".into(), json!(true));
    visitors.extend(store_submission(store, &newsletter(), &signup, VISITOR, 1));
    others.extend(store_submission(store, &newsletter(), &signup, OTHER, 2));

    let survey: Answers = serde_json::from_value(json!({
        "channel": "online", "satisfaction": 4, "priorities": ["price", "quality", "speed", "service"],
        "draw_consent": true, "draw_email": "a@example.nl",
    }))
    .unwrap();
    let ids = store_submission(store, &example("survey.json"), &survey, VISITOR, 3);
    // The answers are anonymous: not the visitor's. The reward entry is.
    others.insert(ids[0].clone());
    visitors.insert(ids[1].clone());

    let request: Answers =
        serde_json::from_value(json!({"email": "a@example.nl", "name": "Anna"})).unwrap();
    let access = example("privacy-request.json");
    visitors.extend(store_submission(store, &access, &request, VISITOR, 4));
    let mut erasure = access.clone();
    erasure.kind = formseal_core::config::FormKind::ErasureRequest;
    visitors.extend(store_submission(store, &erasure, &request, VISITOR, 5));
    Fixture {
        db: test_store.arg(),
        dir: test_store.dir.path().to_owned(),
        store: test_store,
        visitors,
        others,
    }
}

fn open_requests(f: &Fixture) -> Vec<Value> {
    let output = run(
        formseal()
            .args(["requests", "--db"])
            .arg(&f.db)
            .arg("--key")
            .arg(test_key("rsa2048.pem")),
        0,
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn export(f: &Fixture, name: &str) -> Value {
    let file = f.dir.join(name);
    run(
        formseal()
            .args(["subject", VISITOR, "--db"])
            .arg(&f.db)
            .arg("--key")
            .arg(test_key("rsa2048.pem"))
            .arg("--export")
            .arg(&file),
        0,
    );
    serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap()
}

fn record_ids(export: &Value) -> BTreeSet<String> {
    export["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record"].as_str().unwrap().to_owned())
        .collect()
}

fn stored_ids(f: &Fixture) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    f.store
        .db
        .open_existing()
        .unwrap()
        .for_each(None, &mut |e| {
            ids.insert(e.id);
            Ok(())
        })
        .unwrap();
    ids
}

fn audit_log(db: &str) -> Vec<Value> {
    let output = run(formseal().args(["audit", "--db"]).arg(db), 0);
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_access_request_is_listed_then_answered_with_exactly_that_subjects_records() {
    for store in test_stores() {
        let f = fixture(store);
        let requests = open_requests(&f);
        let kinds: Vec<&str> = requests
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["access-request", "erasure-request"]);
        assert!(requests.iter().all(|r| r["subject"] == VISITOR));
        assert_eq!(requests[0]["values"]["email"], "a@example.nl");

        let exported = export(&f, "subject.json");
        assert_eq!(exported["subject"], VISITOR);
        assert_eq!(record_ids(&exported), f.visitors);
        assert!(
            exported["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["envelope"]["subject"] == VISITOR)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(f.dir.join("subject.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // The export answers the access request; the erasure request stays open.
        let kinds: Vec<Value> = open_requests(&f)
            .iter()
            .map(|r| r["kind"].clone())
            .collect();
        assert_eq!(kinds, [json!("erasure-request")]);
        // An export never overwrites.
        run(
            formseal()
                .args(["subject", VISITOR, "--db"])
                .arg(&f.db)
                .arg("--key")
                .arg(test_key("rsa2048.pem"))
                .arg("--export")
                .arg(f.dir.join("subject.json")),
            1,
        );
    }
}

#[test]
fn an_erasure_leaves_none_of_the_subjects_records_and_an_audit_entry() {
    for store in test_stores() {
        let f = fixture(store);
        let output = run(
            formseal()
                .args(["erase", "--subject", VISITOR, "--db"])
                .arg(&f.db)
                .arg("--key")
                .arg(test_key("rsa2048.pem")),
            0,
        );
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains(&format!(
                "erased {} records of the subject",
                f.visitors.len()
            )),
            "{stderr}"
        );
        assert_eq!(stored_ids(&f), f.others);
        assert_eq!(record_ids(&export(&f, "after.json")), BTreeSet::new());
        assert!(open_requests(&f).is_empty());

        let log = audit_log(&f.db);
        let erase = log.iter().find(|l| l["action"] == "erase").unwrap();
        assert_eq!(erase["records"], f.visitors.len());
        assert_eq!(erase["actor"], "dpo");
        let detail = erase["detail"].as_str().unwrap();
        assert!(detail.starts_with("subject sha256:"), "{detail}");
        assert!(
            !detail.contains(VISITOR),
            "the log names a hash, not the id"
        );
    }
}

#[test]
fn an_erasure_with_a_key_that_opens_nothing_deletes_nothing_and_says_so() {
    for store in test_stores() {
        let f = fixture(store);
        let before = stored_ids(&f);
        let output = run(
            formseal()
                .args(["erase", "--subject", VISITOR, "--db"])
                .arg(&f.db)
                .arg("--key")
                .arg(test_key("rsa3072.pem")),
            1,
        );
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("erased 0 records"), "{stderr}");
        assert!(stderr.contains("sealed to another key"), "{stderr}");
        assert_eq!(stored_ids(&f), before);
    }
}

/// Subject ids are base64url: about one in 64 starts with `-`, which must not read as an option.
#[test]
fn a_subject_id_starting_with_a_hyphen_is_taken_as_the_id() {
    for store in test_stores() {
        let f = fixture(store);
        let before = stored_ids(&f);
        for args in [
            vec!["subject", "-Xq0x2Ih0d3AvxQ2u8Yzg", "--export"],
            vec!["erase", "--subject", "-Xq0x2Ih0d3AvxQ2u8Yzg"],
        ] {
            let mut cmd = formseal();
            cmd.args(&args);
            if args[0] == "subject" {
                cmd.arg(f.dir.join("hyphen.json"));
            }
            let output = cmd
                .arg("--db")
                .arg(&f.db)
                .arg("--key")
                .arg(test_key("rsa2048.pem"))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                !stderr.contains("unexpected argument"),
                "{args:?}: {stderr}"
            );
        }
        // Nothing of that (unknown) subject was found, so nothing was erased.
        assert_eq!(stored_ids(&f), before);
    }
}
