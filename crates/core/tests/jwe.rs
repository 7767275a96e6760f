//! Sealing and opening with the committed test keys: round trips for one and two recipients,
//! the wrong key, and tampering with every character of every part of an envelope.
//! Arbitrary-input robustness is in `jwe_proptests.rs`; primitive known answers in `wycheproof.rs`.

#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap should fail loudly"
)]

use chacha20::ChaCha20Rng;
use formseal_core::Error;
use formseal_core::jwe::{self, ALG, ENC};
use formseal_core::keys::{PrivateKey, PublicJwk, RecipientKey};
use rand_core::SeedableRng;
use serde_json::{Map, Value, json};

const PEM_2048: &str = include_str!("examples/rsa2048.pem");
const PEM_3072: &str = include_str!("examples/rsa3072.pem");
const PEM_4096: &str = include_str!("examples/rsa4096.pem");
const JWK_2048: &str = include_str!("examples/rsa2048.pub.jwk.json");
const JWK_3072: &str = include_str!("examples/rsa3072.pub.jwk.json");
const JWK_4096: &str = include_str!("examples/rsa4096.pub.jwk.json");
const JWK_1024: &str = include_str!("examples/rsa1024.pub.jwk.json");

fn private(pem: &str) -> PrivateKey {
    PrivateKey::from_pkcs8_pem(pem).expect("test key")
}

fn recipient(jwk: &str) -> RecipientKey {
    let jwk: PublicJwk = serde_json::from_str(jwk).expect("jwk json");
    RecipientKey::from_jwk(&jwk).expect("test jwk")
}

fn extra() -> Map<String, Value> {
    let Value::Object(map) = json!({ "form": "newsletter", "v": 3 }) else {
        unreachable!()
    };
    map
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0x5ea1)
}

#[test]
fn committed_keys_match_their_jwks() {
    for (pem, jwk, bits) in [
        (PEM_2048, JWK_2048, 2048),
        (PEM_3072, JWK_3072, 3072),
        (PEM_4096, JWK_4096, 4096),
    ] {
        let key = private(pem);
        let public = recipient(jwk);
        assert_eq!(key.kid(), public.kid());
        assert_eq!(key.public().bits(), bits);
        assert_eq!(public.bits(), bits);
        let parsed: PublicJwk = serde_json::from_str(jwk).unwrap();
        assert_eq!(
            key.public().to_jwk(),
            parsed,
            "to_jwk writes what jose exported"
        );
        // PEM round trip gives the same key.
        let again = private(&key.to_pkcs8_pem().unwrap());
        assert_eq!(again.kid(), key.kid());
    }
}

#[test]
fn too_small_key_is_refused_with_a_clear_message() {
    let jwk: PublicJwk = serde_json::from_str(JWK_1024).unwrap();
    match RecipientKey::from_jwk(&jwk) {
        Err(Error::Key(msg)) => assert_eq!(msg, "1024-bit modulus is too small (minimum 2048)"),
        other => panic!("expected Error::Key, got {other:?}"),
    }
    let err = PrivateKey::generate(1024, &mut rng()).unwrap_err();
    assert!(
        matches!(&err, Error::Key(msg) if msg == "1024-bit modulus is too small (minimum 2048)"),
        "{err:?}"
    );
}

#[test]
fn pkcs1_pem_is_accepted_and_garbage_refused() {
    use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
    use rsa::pkcs8::DecodePrivateKey;
    let inner = rsa::PrivateKey::from_pkcs8_pem(PEM_2048).unwrap();
    let pkcs1 = inner.to_pkcs1_pem(LineEnding::LF).unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert_eq!(private(&pkcs1).kid(), private(PEM_2048).kid());

    for bad in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        assert!(
            matches!(PrivateKey::from_pkcs8_pem(bad), Err(Error::Key(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn private_key_debug_shows_no_key_material() {
    let key = private(PEM_2048);
    let debug = format!("{key:?}");
    assert!(debug.contains(key.kid()), "{debug}");
    assert!(debug.len() < 200, "{debug}");
    let pem = key.to_pkcs8_pem().unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for chunk in body.as_bytes().chunks(16) {
        assert!(!debug.contains(std::str::from_utf8(chunk).unwrap()));
    }
}

#[test]
fn generated_key_round_trips() {
    let key = PrivateKey::generate(2048, &mut rng()).unwrap();
    assert_eq!(key.public().bits(), 2048);
    let sealed = jwe::seal(b"fresh", &Map::new(), &[key.public()], &mut rng()).unwrap();
    assert_eq!(jwe::open(&sealed, &key).unwrap().plaintext, b"fresh");
}

#[test]
fn one_recipient_is_compact_and_round_trips() {
    for (pem, jwk) in [
        (PEM_2048, JWK_2048),
        (PEM_3072, JWK_3072),
        (PEM_4096, JWK_4096),
    ] {
        let to = recipient(jwk);
        let plaintext = br#"{"email":"a@example.org"}"#;
        let sealed = jwe::seal(plaintext, &extra(), std::slice::from_ref(&to), &mut rng()).unwrap();
        assert_eq!(sealed.split('.').count(), 5);

        let peeked = jwe::peek(&sealed).unwrap();
        assert_eq!(peeked.kids, vec![to.kid().to_owned()]);
        let expected =
            json!({"alg": ALG, "enc": ENC, "kid": to.kid(), "form": "newsletter", "v": 3});
        assert_eq!(Value::Object(peeked.header.clone()), expected);

        let opened = jwe::open(&sealed, &private(pem)).unwrap();
        assert_eq!(opened.plaintext, plaintext);
        assert_eq!(opened.header, peeked.header);
    }
}

#[test]
fn two_recipients_are_general_json_and_both_open() {
    let to = [recipient(JWK_2048), recipient(JWK_3072)];
    let sealed = jwe::seal(b"for two", &extra(), &to, &mut rng()).unwrap();
    assert!(!sealed.contains('\n'));
    let json: Value = serde_json::from_str(&sealed).unwrap();
    let recipients = json["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 2);
    for (r, key) in recipients.iter().zip(&to) {
        assert_eq!(r["header"], json!({"alg": ALG, "kid": key.kid()}));
    }

    let peeked = jwe::peek(&sealed).unwrap();
    assert_eq!(
        peeked.kids,
        vec![to[0].kid().to_owned(), to[1].kid().to_owned()]
    );
    assert_eq!(
        Value::Object(peeked.header.clone()),
        json!({"enc": ENC, "form": "newsletter", "v": 3})
    );
    for pem in [PEM_2048, PEM_3072] {
        let opened = jwe::open(&sealed, &private(pem)).unwrap();
        assert_eq!(opened.plaintext, b"for two");
        assert_eq!(opened.header, peeked.header);
    }
    assert!(matches!(
        jwe::open(&sealed, &private(PEM_4096)),
        Err(Error::NoRecipient { kid }) if kid == private(PEM_4096).kid()
    ));
}

#[test]
fn same_seed_same_envelope_different_seed_different_envelope() {
    let to = [recipient(JWK_2048)];
    let a = jwe::seal(b"x", &Map::new(), &to, &mut rng()).unwrap();
    let b = jwe::seal(b"x", &Map::new(), &to, &mut rng()).unwrap();
    let c = jwe::seal(b"x", &Map::new(), &to, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn empty_plaintext_round_trips() {
    let sealed = jwe::seal(b"", &Map::new(), &[recipient(JWK_2048)], &mut rng()).unwrap();
    assert_eq!(
        jwe::open(&sealed, &private(PEM_2048)).unwrap().plaintext,
        b""
    );
}

#[test]
fn wrong_key_is_no_recipient_and_forged_kid_is_decrypt() {
    let sealed = jwe::seal(b"secret", &Map::new(), &[recipient(JWK_2048)], &mut rng()).unwrap();
    let wrong = private(PEM_3072);
    assert!(matches!(
        jwe::open(&sealed, &wrong),
        Err(Error::NoRecipient { .. })
    ));

    // A recipient entry that claims our kid but was wrapped for another key.
    let to_others = [recipient(JWK_3072), recipient(JWK_4096)];
    let sealed = jwe::seal(b"secret", &Map::new(), &to_others, &mut rng()).unwrap();
    let forged = sealed.replace(to_others[0].kid(), recipient(JWK_2048).kid());
    assert!(matches!(
        jwe::open(&forged, &private(PEM_2048)),
        Err(Error::Decrypt)
    ));
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every single-character change at `pos`: flip the low bit, and swap in another base64url
/// character (so the change survives base64 decoding and reaches the cryptography).
fn mutations(text: &str, pos: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let original = bytes[pos];
    let swapped = B64URL
        .iter()
        .copied()
        .find(|c| *c != original && (c ^ original) & 0x0f != 0)
        .unwrap();
    let mut out = Vec::new();
    for replacement in [original ^ 0x01, swapped] {
        let mut changed = bytes.to_vec();
        changed[pos] = replacement;
        if let Ok(s) = String::from_utf8(changed) {
            out.push(s);
        }
    }
    out
}

#[test]
fn compact_tampering_anywhere_fails() {
    let key = private(PEM_2048);
    let plaintext = b"tamper-evident";
    let sealed = jwe::seal(plaintext, &extra(), &[key.public()], &mut rng()).unwrap();
    assert_eq!(jwe::open(&sealed, &key).unwrap().plaintext, plaintext);

    let mut tried = 0;
    for pos in 0..sealed.len() {
        for tampered in mutations(&sealed, pos) {
            tried += 1;
            let result = jwe::open(&tampered, &key);
            assert!(
                result.is_err(),
                "changing byte {pos} still opened: {tampered}"
            );
        }
    }
    assert!(tried >= 2 * sealed.len() - 10, "tried {tried}");
}

#[test]
fn general_json_tampering_of_authenticated_parts_fails() {
    let key = private(PEM_2048);
    let other = recipient(JWK_3072);
    let sealed = jwe::seal(b"two keys", &extra(), &[key.public(), other], &mut rng()).unwrap();
    let json: Value = serde_json::from_str(&sealed).unwrap();

    // Everything our key depends on: protected header, our encrypted key, iv, ciphertext, tag,
    // and our own recipient header. The other recipient's entry is not authenticated by JWE
    // (RFC 7516 §7.2.1) and is allowed to change without affecting us.
    let values = [
        json["protected"].as_str().unwrap(),
        json["recipients"][0]["encrypted_key"].as_str().unwrap(),
        json["iv"].as_str().unwrap(),
        json["ciphertext"].as_str().unwrap(),
        json["tag"].as_str().unwrap(),
        key.kid(),
    ];
    let mut tried = 0;
    for value in values {
        let start = sealed.find(value).unwrap();
        for pos in start..start + value.len() {
            for tampered in mutations(&sealed, pos) {
                tried += 1;
                assert!(
                    jwe::open(&tampered, &key).is_err(),
                    "changing byte {pos} still opened"
                );
            }
        }
    }
    assert!(tried > 600, "tried {tried}");
}

#[test]
fn truncation_never_opens_or_panics() {
    let key = private(PEM_2048);
    let sealed = jwe::seal(b"cut me", &Map::new(), &[key.public()], &mut rng()).unwrap();
    for len in 0..sealed.len() {
        let cut = &sealed[..len];
        assert!(jwe::open(cut, &key).is_err(), "prefix of {len} opened");
        let _ = jwe::peek(cut);
    }
}
