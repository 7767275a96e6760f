//! Interoperability with the npm package `jose` (design non-negotiable 4: any mature JOSE library
//! must open our envelopes). Runs `tests/interop/jose.mjs` with node from the repository root, so
//! `import 'jose'` resolves from its `node_modules`. It fails, never skips, when node or jose is
//! missing.

#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap should fail loudly"
)]

#[path = "interop/node.rs"]
mod node;

use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20::ChaCha20Rng;
use formseal_core::jwe;
use formseal_core::keys::{PrivateKey, PublicJwk, RecipientKey};
use rand_core::SeedableRng;
use serde_json::{Map, Value, json};

const PEM_2048: &str = include_str!("examples/rsa2048.pem");
const PEM_3072: &str = include_str!("examples/rsa3072.pem");
const JWK_2048: &str = include_str!("examples/rsa2048.pub.jwk.json");
const JWK_3072: &str = include_str!("examples/rsa3072.pub.jwk.json");

/// Runs one command of `jose.mjs` with `request` on stdin and returns its JSON answer.
fn jose(command: &str, request: &Value) -> Value {
    let root = node::repo_root();
    assert!(
        root.join("node_modules/jose/package.json").is_file(),
        "node_modules/jose is missing: run `npm ci` at the repository root ({})",
        root.display()
    );
    node::run("jose.mjs", &[command], request)
}

fn jwk(text: &str) -> PublicJwk {
    serde_json::from_str(text).unwrap()
}

fn recipient(text: &str) -> RecipientKey {
    RecipientKey::from_jwk(&jwk(text)).unwrap()
}

fn private(pem: &str) -> PrivateKey {
    PrivateKey::from_pkcs8_pem(pem).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn extra() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("form".to_owned(), Value::from("newsletter"));
    map
}

const PLAINTEXT: &str =
    r#"{"kind":"submission","fields":{"email":"jörg@example.org","consent":["newsletter"]}}"#;

#[test]
fn jose_decrypts_our_compact_envelope() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for (pem, jwk) in [(PEM_2048, JWK_2048), (PEM_3072, JWK_3072)] {
        let to = recipient(jwk);
        let sealed = jwe::seal(
            PLAINTEXT.as_bytes(),
            &extra(),
            std::slice::from_ref(&to),
            &mut rng,
        )
        .unwrap();
        let answer = jose("decrypt", &json!({ "jwe": sealed, "pem": pem }));
        assert_eq!(answer["plaintext"], b64(PLAINTEXT.as_bytes()));
        assert_eq!(
            answer["protectedHeader"],
            json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": to.kid(), "form": "newsletter"})
        );
    }
}

#[test]
fn jose_decrypts_our_general_json_envelope_with_either_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let to = [recipient(JWK_2048), recipient(JWK_3072)];
    let sealed = jwe::seal(PLAINTEXT.as_bytes(), &extra(), &to, &mut rng).unwrap();
    for pem in [PEM_2048, PEM_3072] {
        let answer = jose("decrypt", &json!({ "jwe": sealed, "pem": pem }));
        assert_eq!(answer["plaintext"], b64(PLAINTEXT.as_bytes()));
        assert_eq!(
            answer["protectedHeader"],
            json!({"enc": "A256GCM", "form": "newsletter"})
        );
    }
}

#[test]
fn we_open_jose_compact_envelope() {
    for (pem, jwk_text) in [(PEM_2048, JWK_2048), (PEM_3072, JWK_3072)] {
        let answer = jose(
            "encrypt-compact",
            &json!({ "jwk": jwk(jwk_text), "plaintext": b64(PLAINTEXT.as_bytes()) }),
        );
        let sealed = answer["jwe"].as_str().unwrap();
        let key = private(pem);
        assert_eq!(jwe::peek(sealed).unwrap().kids, vec![key.kid().to_owned()]);
        let opened = jwe::open(sealed, &key).unwrap();
        assert_eq!(opened.plaintext, PLAINTEXT.as_bytes());
        assert_eq!(opened.header["form"], "from-jose");
        assert_eq!(opened.header["kid"], key.kid());
    }
}

#[test]
fn we_open_jose_general_json_envelope_with_either_key() {
    let answer = jose(
        "encrypt-general",
        &json!({ "jwks": [jwk(JWK_2048), jwk(JWK_3072)], "plaintext": b64(PLAINTEXT.as_bytes()) }),
    );
    let sealed = answer["jwe"].as_str().unwrap();
    for pem in [PEM_2048, PEM_3072] {
        let opened = jwe::open(sealed, &private(pem)).unwrap();
        assert_eq!(opened.plaintext, PLAINTEXT.as_bytes());
    }
}
