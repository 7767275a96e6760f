//! Sealing and opening one typical submission (`examples/newsletter.json` + `answers.json`) with
//! the committed TEST keys at 2048, 3072 and 4096 bits, and the bare RSA-OAEP-SHA256 unwrap; and
//! a generated 200-question, 20-page survey with branching next to a 10-question one (validate +
//! minimise + build the envelopes, then also seal). Only criterion timings live here;
//! `cargo xtask bench` adds the OpenSSL baseline and the ratios.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20::ChaCha20Rng;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, Envelope, SubmissionInput};
use formseal_core::keys::PrivateKey;
use rand_core::SeedableRng;
use serde_json::{Value, json};

const FORM: &str = include_str!("../../../examples/newsletter.json");
const ANSWERS: &str = include_str!("../../../examples/answers.json");
/// 2026-11-24T10:29:59Z, so every run seals the same plaintext.
const NOW: i64 = 1_795_516_199;

/// The committed TEST keys, by modulus size. Their private halves are public: benchmarks only.
const KEYS: [(usize, &str); 3] = [
    (2048, include_str!("../tests/examples/rsa2048.pem")),
    (3072, include_str!("../tests/examples/rsa3072.pem")),
    (4096, include_str!("../tests/examples/rsa4096.pem")),
];

/// Everything a submission needs besides the key, parsed once outside the timed loops.
struct Submission {
    config: FormConfig,
    answers: Answers,
    consent: ConsentState,
    params: BTreeMap<String, String>,
}

impl Submission {
    fn typical() -> Self {
        Self {
            config: FormConfig::from_json(FORM).expect("examples/newsletter.json is valid"),
            answers: serde_json::from_str(ANSWERS).expect("examples/answers.json is valid"),
            consent: ConsentState::default(),
            params: BTreeMap::new(),
        }
    }

    fn input(&self) -> SubmissionInput<'_> {
        SubmissionInput {
            answers: &self.answers,
            consent: &self.consent,
            subject: "bench-subject",
            now_unix: NOW,
            url_params: &self.params,
            lang: None,
        }
    }
}

fn keys() -> Vec<(usize, PrivateKey)> {
    KEYS.iter()
        .map(|(bits, pem)| {
            let key = PrivateKey::from_pkcs8_pem(pem).expect("committed test key parses");
            (*bits, key)
        })
        .collect()
}

/// The widget's path without the crypto: validate, minimise, build the envelope.
fn prepare(c: &mut Criterion) {
    let submission = Submission::typical();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut group = c.benchmark_group("prepare");
    group.bench_function("newsletter", |b| {
        b.iter(|| envelope::prepare(&submission.config, &submission.input(), &mut rng))
    });
    group.finish();
}

/// The widget's whole path: validate, minimise, pad, AES-256-GCM, RSA-OAEP-256 wrap, serialise.
fn seal(c: &mut Criterion) {
    let submission = Submission::typical();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut group = c.benchmark_group("seal");
    group.measurement_time(Duration::from_secs(3));
    for (bits, key) in keys() {
        let recipients = [key.public()];
        group.bench_function(format!("rsa{bits}"), |b| {
            b.iter(|| {
                let (envelope, _) =
                    envelope::prepare(&submission.config, &submission.input(), &mut rng)
                        .expect("the typical answers are valid");
                envelope.seal(&submission.config, black_box(&recipients), &mut rng)
            })
        });
    }
    group.finish();
}

/// `formseal decrypt`'s cost per record: RSA-OAEP-256 unwrap, AES-256-GCM, parse the envelope.
fn open(c: &mut Criterion) {
    let submission = Submission::typical();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut group = c.benchmark_group("open");
    // Private-key operations take milliseconds: a fixed number of iterations per sample keeps
    // the run short instead of criterion's linear ramp.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for (bits, key) in keys() {
        let sealed = envelope::prepare(&submission.config, &submission.input(), &mut rng)
            .and_then(|(envelope, _)| envelope.seal(&submission.config, &[key.public()], &mut rng))
            .expect("the typical submission seals");
        group.bench_function(format!("rsa{bits}"), |b| {
            b.iter(|| Envelope::open(black_box(sealed.as_str()), &key))
        });
    }
    group.finish();
}

/// The bare RSA-OAEP-SHA256 decryption of one wrapped content key, the same operation as one
/// `openssl pkeyutl -decrypt`, so the ratio to OpenSSL is about the RSA code alone.
fn oaep(c: &mut Criterion) {
    let submission = Submission::typical();
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut group = c.benchmark_group("oaep-decrypt");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for (bits, key) in keys() {
        let sealed = envelope::prepare(&submission.config, &submission.input(), &mut rng)
            .and_then(|(envelope, _)| envelope.seal(&submission.config, &[key.public()], &mut rng))
            .expect("the typical submission seals");
        // One recipient gives the compact serialization; its second part is the wrapped key.
        let wrapped = sealed
            .as_str()
            .split('.')
            .nth(1)
            .and_then(|part| Base64UrlUnpadded::decode_vec(part).ok())
            .expect("a compact JWE with an encrypted key");
        group.bench_function(format!("rsa{bits}"), |b| {
            b.iter(|| key.oaep_sha256_decrypt(black_box(&wrapped)))
        });
        if bits == 3072 {
            // The same decryption by the `rsa` crate (0.10, blinded, crypto-bigint's
            // constant-time arithmetic), which opened envelopes before aws-lc did: the
            // alternative `cargo xtask bench` reports next to ours and OpenSSL's.
            use rsa::pkcs8::DecodePrivateKey;
            let pem = KEYS.iter().find(|(b, _)| *b == bits).map(|(_, pem)| *pem);
            let rust_crypto = rsa::PrivateKey::from_pkcs8_pem(pem.expect("a 3072-bit key"))
                .expect("committed test key parses");
            group.bench_function(format!("rsa-crate-rsa{bits}"), |b| {
                b.iter(|| rust_crypto.oaep_decrypt::<sha2::Sha256>(black_box(&wrapped)))
            });
        }
    }
    group.finish();
}

/// A survey of `questions` questions, ten to a page, every kind of question in turn; each page
/// after the first is shown only when an answer on the page before allows it, and one question a
/// page is hidden by its own condition. Returns the config and a visitor's answers to every
/// question (including the ones logic hides, which minimisation then drops).
fn survey(questions: usize) -> (FormConfig, Answers) {
    let base: Value =
        serde_json::from_str(include_str!("../../../examples/survey.json")).expect("valid JSON");
    let en = |text: String| json!({ "en": text });
    let options = |values: &[&str]| -> Value {
        values
            .iter()
            .map(|v| json!({"value": v, "label": {"en": format!("Option {v}")}}))
            .collect()
    };
    let mut fields = Vec::new();
    let mut pages = Vec::new();
    let mut answers = Answers::new();
    for page in 0..questions.div_ceil(10) {
        let id = |q: usize| format!("p{page}_q{q}");
        let mut ids = Vec::new();
        for q in 0..10.min(questions - page * 10) {
            let mut field = json!({
                "id": id(q), "label": en(format!("Question {q} on page {page}")),
                "purposes": ["feedback"],
            });
            let (kind, answer) = match q {
                0 => {
                    field["options"] = options(&["yes", "no"]);
                    ("radio", json!("yes"))
                }
                1 => {
                    field["scale"] = json!("1-5");
                    ("rating", json!(4))
                }
                2 => {
                    field["options"] = options(&["1", "2", "3", "4", "5"]);
                    ("likert", json!("4"))
                }
                3 => {
                    field["max_length"] = json!(200);
                    ("text", json!("  A short answer with some words in it  "))
                }
                4 => {
                    field["multiple"] = json!(true);
                    field["options"] = options(&["a", "b", "c", "d"]);
                    field["other"] = json!({"label": {"en": "Other"}});
                    ("select", json!(["c", "a", {"other": "something else"}]))
                }
                5 => {
                    field["min"] = json!(0);
                    field["max"] = json!(100);
                    ("number", json!("42"))
                }
                6 => {
                    field["statements"] = options(&["s1", "s2", "s3"]);
                    field["options"] = options(&["1", "2", "3", "4", "5"]);
                    ("matrix", json!({"s1": "2", "s2": "5", "s3": "3"}))
                }
                7 => {
                    field["options"] = options(&["w", "x", "y", "z"]);
                    ("ranking", json!(["y", "w", "z", "x"]))
                }
                8 => {
                    // Shown only to the unhappy: this visitor rated 4, so logic drops it.
                    field["show_if"] = json!({"field": id(1), "lt": 3});
                    ("textarea", json!("Typed before changing the rating above."))
                }
                _ => {
                    field["scale"] = json!("nps");
                    ("rating", json!("9"))
                }
            };
            field["type"] = json!(kind);
            answers.insert(id(q), answer);
            ids.push(id(q));
            fields.push(field);
        }
        let mut page_json = json!({"id": format!("page-{page}"), "title": en(format!("Page {page}")), "fields": ids});
        if page > 0 {
            let before = |q: usize| format!("p{}_q{q}", page - 1);
            page_json["show_if"] = json!({"any": [
                {"field": before(0), "equals": "yes"},
                {"field": before(1), "gt": 2},
            ]});
        }
        pages.push(page_json);
    }
    let config = json!({
        "formseal": 1, "id": format!("survey-{questions}"), "version": 1, "kind": "survey",
        "languages": ["en"], "texts": {"title": en("Survey".into())},
        "endpoint": "/submit", "recipients": base["recipients"],
        "privacy_notice": base["privacy_notice"],
        "purposes": [{"id": "feedback", "label": en("Feedback".into()),
                      "description": en("Improving our service.".into()),
                      "legal_basis": "legitimate-interests", "retention_days": 365}],
        "fields": fields, "pages": pages,
    });
    let config = FormConfig::from_json(&config.to_string()).expect("the generated survey is valid");
    (config, answers)
}

/// Validate + minimise + build the envelope (and then seal at 2048 bits) for a 10-question and a
/// 200-question survey: the ratio says how the work grows with the form.
fn large_survey(c: &mut Criterion) {
    let key = PrivateKey::from_pkcs8_pem(KEYS[0].1).expect("committed test key parses");
    let recipients = [key.public()];
    let consent = ConsentState::default();
    let params = BTreeMap::new();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut prepare = c.benchmark_group("survey-prepare");
    let forms = [10, 200].map(|n| (n, survey(n)));
    let input = |answers| SubmissionInput {
        answers,
        consent: &consent,
        subject: "bench-subject",
        now_unix: NOW,
        url_params: &params,
        lang: None,
    };
    for (n, (config, answers)) in &forms {
        let prepared =
            envelope::prepare_envelopes(config, &input(answers), &mut rng).expect("valid answers");
        assert!(
            !prepared.answers.values.contains_key("p0_q8"),
            "hidden by logic"
        );
        prepare.bench_function(format!("{n}-questions"), |b| {
            b.iter(|| envelope::prepare_envelopes(config, &input(answers), &mut rng))
        });
    }
    prepare.finish();
    let mut seal = c.benchmark_group("survey-seal");
    for (n, (config, answers)) in &forms {
        seal.bench_function(format!("{n}-questions"), |b| {
            b.iter(|| {
                let prepared = envelope::prepare_envelopes(config, &input(answers), &mut rng)
                    .expect("valid answers");
                prepared
                    .answers
                    .seal(config, black_box(&recipients), &mut rng)
            })
        });
    }
    seal.finish();
}

criterion_group!(benches, prepare, seal, open, oaep, large_survey);
criterion_main!(benches);
