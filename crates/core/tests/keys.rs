//! Private keys at rest and key rotation: a key encrypted with a passphrase (ours with scrypt,
//! OpenSSL's with PBKDF2) opens only with that passphrase, and a form sealed to two recipients
//! during a rotation opens with either private key and no other.

use std::collections::BTreeMap;

use chacha20::ChaCha20Rng;
use formseal_core::Error;
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, Envelope, SubmissionInput};
use formseal_core::keys::{self, PrivateKey};
use rand_core::SeedableRng;

const KEY_2048: &str = include_str!("examples/rsa2048.pem");
const KEY_3072: &str = include_str!("examples/rsa3072.pem");
const KEY_4096: &str = include_str!("examples/rsa4096.pem");
const OPENSSL_ENCRYPTED: &str = include_str!("examples/rsa2048.pbkdf2.pem");
const FORM: &str = include_str!("../../../examples/newsletter.json");
const ANSWERS: &str = include_str!("../../../examples/answers.json");

#[test]
fn an_encrypted_key_opens_with_its_passphrase_only() {
    let key = PrivateKey::from_pkcs8_pem(KEY_2048).unwrap();
    let pem = key
        .to_encrypted_pkcs8_pem(b"lange zin met spaties", &mut ChaCha20Rng::seed_from_u64(1))
        .unwrap();
    assert!(keys::is_encrypted_pem(&pem));
    assert!(
        !pem.contains(KEY_2048.lines().nth(1).unwrap()),
        "no plain key inside"
    );

    let opened = PrivateKey::from_encrypted_pkcs8_pem(&pem, b"lange zin met spaties").unwrap();
    assert_eq!(opened.kid(), key.kid());
    for wrong in [&b"lange zin met spatie"[..], b"", b"LANGE ZIN MET SPATIES"] {
        let err = PrivateKey::from_encrypted_pkcs8_pem(&pem, wrong).unwrap_err();
        assert!(matches!(err, Error::Passphrase), "{err}");
        assert_eq!(
            err.to_string(),
            "wrong passphrase for the private key (or the key file is damaged)"
        );
    }
    // Without a passphrase the error says what is needed.
    let err = PrivateKey::from_pkcs8_pem(&pem).unwrap_err().to_string();
    assert!(err.contains("encrypted: it needs its passphrase"), "{err}");
    // A plain key is not taken for an encrypted one.
    assert!(PrivateKey::from_encrypted_pkcs8_pem(KEY_2048, b"x").is_err());
    assert!(!keys::is_encrypted_pem(KEY_2048));
}

#[test]
fn our_encrypted_key_uses_scrypt_and_aes_256_cbc() {
    let key = PrivateKey::from_pkcs8_pem(KEY_2048).unwrap();
    let pem = key
        .to_encrypted_pkcs8_pem(b"passphrase", &mut ChaCha20Rng::seed_from_u64(2))
        .unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&body).unwrap();
    let contains = |oid: &[u8]| der.windows(oid.len()).any(|w| w == oid);
    // 1.2.840.113549.1.5.13 PBES2, 1.3.6.1.4.1.11591.4.11 scrypt, 2.16.840.1.101.3.4.1.42 AES-256-CBC.
    assert!(contains(&[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d
    ]));
    assert!(contains(&[
        0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b
    ]));
    assert!(contains(&[
        0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a
    ]));
}

#[test]
fn a_key_encrypted_by_openssl_with_pbkdf2_opens() {
    let plain = PrivateKey::from_pkcs8_pem(KEY_2048).unwrap();
    let opened =
        PrivateKey::from_encrypted_pkcs8_pem(OPENSSL_ENCRYPTED, b"correct horse battery staple")
            .unwrap();
    assert_eq!(opened.kid(), plain.kid());
    let err = PrivateKey::from_encrypted_pkcs8_pem(OPENSSL_ENCRYPTED, b"wrong").unwrap_err();
    assert!(matches!(err, Error::Passphrase), "{err}");
}

#[test]
fn during_a_rotation_either_private_key_opens_and_no_other() {
    let old = PrivateKey::from_pkcs8_pem(KEY_2048).unwrap();
    let new = PrivateKey::from_pkcs8_pem(KEY_3072).unwrap();
    let mut config = FormConfig::from_json(FORM).unwrap();
    config.recipients = vec![old.public().to_jwk(), new.public().to_jwk()];
    let config = FormConfig::from_json(&serde_json::to_string(&config).unwrap()).unwrap();

    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    let (consent, params) = (ConsentState::default(), BTreeMap::new());
    let input = SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: "subject-1",
        now_unix: 1_795_516_199,
        url_params: &params,
        lang: None,
    };
    let sealed =
        envelope::seal_submission(&config, &input, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
    let peeked = formseal_core::jwe::peek(sealed.jwe.as_str()).unwrap();
    assert_eq!(peeked.kids, [old.kid(), new.kid()]);

    let by_old = Envelope::open(sealed.jwe.as_str(), &old).unwrap();
    let by_new = Envelope::open(sealed.jwe.as_str(), &new).unwrap();
    assert_eq!(by_old, by_new);
    assert_eq!(by_old.id, sealed.id);

    let stranger = PrivateKey::from_pkcs8_pem(KEY_4096).unwrap();
    let err = Envelope::open(sealed.jwe.as_str(), &stranger).unwrap_err();
    assert!(matches!(err, Error::NoRecipient { .. }), "{err}");
}
