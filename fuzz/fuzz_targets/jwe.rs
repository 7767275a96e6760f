//! Fuzzes the JWE parser: `jwe::peek` (what the collector runs on every body, without a key),
//! `jwe::open` with the committed TEST key, and the envelope plaintext parser. Any input must
//! give a value or an error, never a panic.

#![no_main]

use std::sync::LazyLock;

use formseal_core::envelope::Envelope;
use formseal_core::jwe;
use formseal_core::keys::PrivateKey;
use libfuzzer_sys::fuzz_target;

static KEY: LazyLock<PrivateKey> = LazyLock::new(|| {
    PrivateKey::from_pkcs8_pem(include_str!("../../crates/core/tests/examples/rsa2048.pem"))
        .expect("the committed test key parses")
});

fuzz_target!(|data: &[u8]| {
    let _ = Envelope::from_plaintext(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(peeked) = jwe::peek(text) {
        let _ = formseal_core::retention::from_header(&peeked.header);
    }
    let _ = jwe::open(text, &KEY);
    let _ = Envelope::open(text, &KEY);
});
