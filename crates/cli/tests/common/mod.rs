//! What several of the command's test files share: the repository's example form and answers,
//! the committed TEST keys, and sealing a submission the way the widget would.

#![allow(dead_code, reason = "each test file uses its own part of this module")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chacha20::ChaCha20Rng;
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, SubmissionInput};
use rand_core::SeedableRng;

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
    };
    envelope::seal_submission(config, &input, &mut ChaCha20Rng::seed_from_u64(seed))
        .unwrap()
        .jwe
        .0
}
