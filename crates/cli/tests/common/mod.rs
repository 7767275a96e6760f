//! What several of the command's test files share: the repository's example form and answers,
//! the committed TEST keys, sealing a submission the way the widget would, a collector store
//! holding given envelopes, running the `formseal` binary, the stores to run against
//! (`stores.rs`), a collector app to send requests to (`collector.rs`) and proofs of work for it
//! (`pow.rs`).

#![allow(dead_code, reason = "each test file uses its own part of this module")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chacha20::ChaCha20Rng;
use formseal_cli::serve::SqliteStore;
use formseal_cli::serve::store::{NewEnvelope, Store};
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, SubmissionInput};
use formseal_core::time::Date;
use rand_core::SeedableRng;
use tempfile::TempDir;

pub(crate) mod collector;
pub(crate) mod pow;
pub(crate) mod stores;

/// The example form (sealed to the committed rsa2048 TEST key).
pub(crate) const FORM: &str = include_str!("../../../../examples/newsletter.json");
/// The example answers.
pub(crate) const ANSWERS: &str = include_str!("../../../../examples/answers.json");
/// 2026-11-24T10:29:59Z: the time every test submission is sealed at.
pub(crate) const NOW: i64 = 1_795_516_199;

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A committed TEST key file, e.g. `rsa2048.pem` or `rsa3072.pub.jwk.json`.
pub(crate) fn test_key(name: &str) -> PathBuf {
    repo().join("crates/core/tests/examples").join(name)
}

/// The example form, parsed.
pub(crate) fn newsletter() -> FormConfig {
    FormConfig::from_json(FORM).unwrap()
}

/// The example answers, parsed.
pub(crate) fn answers() -> Answers {
    serde_json::from_str(ANSWERS).unwrap()
}

/// Seals `answers` for `config` as subject `subject-1` at [`NOW`]; each seed gives another
/// submission id and ciphertext.
pub(crate) fn seal_answers(config: &FormConfig, answers: &Answers, seed: u64) -> String {
    let consent = ConsentState::default();
    let params = BTreeMap::new();
    let input = SubmissionInput {
        answers,
        consent: &consent,
        subject: "subject-1",
        now_unix: NOW,
        url_params: &params,
        lang: None,
    };
    envelope::seal_submission(config, &input, &mut ChaCha20Rng::seed_from_u64(seed))
        .unwrap()
        .jwe
        .0
}

/// A store holding `(day, jwe)` envelopes, as the collector would have written them; the
/// records' ids are `record-0`, `record-1`...
pub(crate) fn store_with(envelopes: &[(&str, &str)]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.sqlite");
    let store = SqliteStore::open(&db).unwrap();
    for (n, (day, jwe)) in envelopes.iter().enumerate() {
        let id = format!("record-{n}");
        store
            .insert(&NewEnvelope {
                id: &id,
                form: "newsletter",
                kids: &[],
                received: Date::parse(day).unwrap(),
                expires: Date::parse("2999-12-31").unwrap(),
                jwe,
                deliver: false,
            })
            .unwrap();
    }
    (dir, db)
}

/// The Python of the tests' virtualenv `target/py`, which `cargo xtask test` makes (tools step)
/// from `tests/python-requirements.txt`; missing, the test fails and says so.
pub(crate) fn python() -> PathBuf {
    let python = repo().join("target/py/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: `cargo xtask test` makes it (tools step) from tests/python-requirements.txt",
        python.display()
    );
    python
}

/// The `formseal` binary, without colour.
pub(crate) fn formseal() -> Command {
    let mut cmd = Command::cargo_bin("formseal").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `cmd`, checks its exit code and returns its stdout and stderr.
pub(crate) fn run(cmd: &mut Command, code: i32) -> (String, String) {
    let output = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

/// The `Content-Type` a JWE is posted with: `application/jose+json` for the JSON serialization,
/// else `application/jose` (compact).
pub(crate) fn jose_content_type(jwe: &str) -> &'static str {
    if jwe.starts_with('{') {
        "application/jose+json"
    } else {
        "application/jose"
    }
}
