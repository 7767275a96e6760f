//! Sealing and opening one typical submission (`examples/newsletter.json` + `answers.json`) with
//! the committed TEST keys at 2048, 3072 and 4096 bits, and the bare RSA-OAEP-SHA256 unwrap.
//! Only criterion timings live here; `cargo xtask bench` adds the OpenSSL baseline and the ratios.

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
    }
    group.finish();
}

criterion_group!(benches, prepare, seal, open, oaep);
criterion_main!(benches);
