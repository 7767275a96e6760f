//! Property tests for `jwe`: any plaintext round trips, and no input — arbitrary strings or
//! arbitrary edits of a valid envelope — makes `peek` or `open` panic or open something altered.
//! Fixed examples (tamper every byte, wrong key) are in `jwe.rs`.

#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap should fail loudly"
)]

use std::sync::LazyLock;

use chacha20::ChaCha20Rng;
use formseal_core::jwe;
use formseal_core::keys::PrivateKey;
use proptest::prelude::*;
use rand_core::SeedableRng;
use serde_json::Map;

static KEY: LazyLock<PrivateKey> = LazyLock::new(|| {
    PrivateKey::from_pkcs8_pem(include_str!("examples/rsa2048.pem")).expect("test key")
});

/// Two valid envelopes of the same plaintext: compact, and General JSON for two recipients.
static SEALED: LazyLock<(String, String, Vec<u8>)> = LazyLock::new(|| {
    let plaintext = br#"{"kind":"submission","fields":{"email":"a@example.org"}}"#.to_vec();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let other = PrivateKey::from_pkcs8_pem(include_str!("examples/rsa3072.pem")).expect("key");
    let compact = jwe::seal(&plaintext, &Map::new(), &[KEY.public()], &mut rng).expect("seal");
    let general = jwe::seal(
        &plaintext,
        &Map::new(),
        &[other.public(), KEY.public()],
        &mut rng,
    )
    .expect("seal");
    (compact, general, plaintext)
});

#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Replace(i, b) if !bytes.is_empty() => bytes[i % len] = b,
            Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Edit::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % len);
            }
            Edit::Truncate(i) => bytes.truncate(i % len),
            _ => {}
        }
    }
    bytes
}

/// An edited envelope either fails to open or, if the edit touched nothing that matters (a
/// no-op replacement, whitespace at the ends, an unknown JSON member), opens to the original.
fn check_edited(original: &str, edits: &[Edit], plaintext: &[u8]) -> Result<(), TestCaseError> {
    let edited = apply(original, edits);
    let Ok(edited) = String::from_utf8(edited) else {
        return Ok(());
    };
    let _ = jwe::peek(&edited);
    if let Ok(opened) = jwe::open(&edited, &KEY) {
        prop_assert_eq!(
            opened.plaintext,
            plaintext,
            "edited envelope opened to other content"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_plaintext_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048), seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sealed = jwe::seal(&plaintext, &Map::new(), &[KEY.public()], &mut rng).unwrap();
        prop_assert_eq!(jwe::peek(&sealed).unwrap().kids, vec![KEY.kid().to_owned()]);
        prop_assert_eq!(jwe::open(&sealed, &KEY).unwrap().plaintext, plaintext);
    }

    #[test]
    fn edited_compact_never_panics_nor_opens_altered(edits in proptest::collection::vec(edit(), 1..4)) {
        let (compact, _, plaintext) = &*SEALED;
        check_edited(compact, &edits, plaintext)?;
    }

    #[test]
    fn edited_general_never_panics_nor_opens_altered(edits in proptest::collection::vec(edit(), 1..4)) {
        let (_, general, plaintext) = &*SEALED;
        check_edited(general, &edits, plaintext)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        prop_assert!(jwe::peek(&s).is_err());
        prop_assert!(jwe::open(&s, &KEY).is_err());
    }

    #[test]
    fn jwe_shaped_strings_never_panic(s in r#"[A-Za-z0-9_\-]{0,40}(\.[A-Za-z0-9_\-]{0,40}){0,6}"#) {
        prop_assert!(jwe::open(&s, &KEY).is_err());
        let _ = jwe::peek(&s);
    }

    #[test]
    fn json_shaped_strings_never_panic(
        s in r#"\{("(protected|recipients|header|encrypted_key|iv|ciphertext|tag|aad|unprotected)":(\[\{\}\]|\{\}|"[A-Za-z0-9_\-]{0,24}"|null|1),?){0,8}\}"#
    ) {
        prop_assert!(jwe::open(&s, &KEY).is_err());
        let _ = jwe::peek(&s);
    }
}
