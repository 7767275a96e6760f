//! How a submission is sealed: JWE (RFC 7516) with RSA-OAEP-256 key wrapping and A256GCM content
//! encryption, compact for one recipient and General JSON for several; plus a key-less structure
//! check for the collector and, behind `open`, opening. What is sealed is `envelope.rs`'s business.

#[cfg(feature = "rust-crypto")]
use aes_gcm::aead::AeadInOut;
#[cfg(feature = "rust-crypto")]
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::keys::RecipientKey;

/// The only key-management algorithm formseal writes or accepts.
pub const ALG: &str = "RSA-OAEP-256";

/// The only content-encryption algorithm formseal writes or accepts.
pub const ENC: &str = "A256GCM";

/// Header parameters `extra` may not set: the ones we write ourselves and the ones `peek` refuses.
pub const RESERVED_HEADER_PARAMS: &[&str] = &["alg", "enc", "kid", "zip", "crit"];

/// Length of the AES-256-GCM content-encryption key.
pub const CEK_LEN: usize = 32;
/// Length of the AES-GCM initialisation vector.
pub const IV_LEN: usize = 12;
/// Length of the AES-GCM authentication tag.
pub const TAG_LEN: usize = 16;

#[cfg(feature = "rust-crypto")]
/// Seals `plaintext` to every recipient.
///
/// One recipient: JWE compact serialization with protected header `{"alg","enc","kid", ...extra}`.
/// Several: JWE General JSON Serialization on one line, protected `{"enc", ...extra}`,
/// per-recipient unprotected header `{"alg","kid"}`, AAD = ASCII(BASE64URL(protected)) per
/// RFC 7516. Zero recipients is an [`Error::Key`]. `extra` holds non-personal header parameters
/// (e.g. `"form": "newsletter"`); one named in [`RESERVED_HEADER_PARAMS`] is an
/// [`Error::Encrypt`], so it can never override `alg`, `enc` or `kid`. The content key and the IV
/// come from `rng`; an RNG failure is [`Error::Rng`].
pub fn seal<R: rand_core::TryCryptoRng + ?Sized>(
    plaintext: &[u8],
    extra: &Map<String, Value>,
    recipients: &[RecipientKey],
    rng: &mut R,
) -> Result<String> {
    let plan = SealPlan::new(extra, recipients)?;
    let mut cek = [0u8; CEK_LEN];
    let mut iv = [0u8; IV_LEN];
    rng.try_fill_bytes(&mut cek).map_err(|_| Error::Rng)?;
    rng.try_fill_bytes(&mut iv).map_err(|_| Error::Rng)?;

    let result = seal_with(plan, plaintext, &cek, &iv, rng);
    wipe(&mut cek);
    result
}

/// Everything about a JWE that needs no cryptography: the protected header (and so the AAD) and
/// the serialization. [`seal`] uses it with RustCrypto; the widget uses it with the browser's
/// WebCrypto, so both write byte-for-byte the same format.
#[derive(Clone, Debug)]
pub struct SealPlan<'k> {
    protected_b64: String,
    recipients: &'k [RecipientKey],
}

impl<'k> SealPlan<'k> {
    /// Builds the protected header for these recipients.
    ///
    /// One recipient: `{"alg","enc","kid", ...extra}` (compact serialization); several:
    /// `{"enc", ...extra}` with `alg` and `kid` per recipient (General JSON serialization).
    /// Zero recipients is an [`Error::Key`]; a name of [`RESERVED_HEADER_PARAMS`] in `extra`
    /// is an [`Error::Encrypt`].
    pub fn new(extra: &Map<String, Value>, recipients: &'k [RecipientKey]) -> Result<Self> {
        if recipients.is_empty() {
            return Err(Error::Key("no recipient key to seal to".to_owned()));
        }
        if let Some(name) = extra
            .keys()
            .find(|name| RESERVED_HEADER_PARAMS.contains(&name.as_str()))
        {
            return Err(Error::Encrypt(format!(
                "header parameter {name:?} is reserved"
            )));
        }
        let mut protected = extra.clone();
        protected.insert("enc".to_owned(), Value::from(ENC));
        if let [only] = recipients {
            protected.insert("alg".to_owned(), Value::from(ALG));
            protected.insert("kid".to_owned(), Value::from(only.kid()));
        }
        let protected_json = serde_json::to_vec(&protected)
            .map_err(|err| Error::Encrypt(format!("cannot write header: {err}")))?;
        Ok(Self {
            protected_b64: Base64UrlUnpadded::encode_string(&protected_json),
            recipients,
        })
    }

    /// The additional authenticated data for AES-GCM: ASCII(BASE64URL(protected header)).
    pub fn aad(&self) -> &[u8] {
        self.protected_b64.as_bytes()
    }

    /// The recipients, in the order [`SealPlan::assemble`] expects their wrapped keys.
    pub fn recipients(&self) -> &'k [RecipientKey] {
        self.recipients
    }

    /// Writes the JWE from the RSA-OAEP-256-wrapped content key of each recipient (in
    /// [`SealPlan::recipients`] order) and the AES-256-GCM output.
    pub fn assemble(
        self,
        encrypted_keys: &[Vec<u8>],
        iv: &[u8; IV_LEN],
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<String> {
        if encrypted_keys.len() != self.recipients.len() || encrypted_keys.iter().any(Vec::is_empty)
        {
            return Err(Error::Encrypt(
                "one wrapped content key per recipient is needed".to_owned(),
            ));
        }
        let iv = Base64UrlUnpadded::encode_string(iv);
        let ciphertext = Base64UrlUnpadded::encode_string(ciphertext);
        let tag = Base64UrlUnpadded::encode_string(tag);
        if let [only] = encrypted_keys {
            let encrypted_key = Base64UrlUnpadded::encode_string(only);
            return Ok(format!(
                "{}.{encrypted_key}.{iv}.{ciphertext}.{tag}",
                self.protected_b64
            ));
        }
        let general = GeneralJwe {
            protected: self.protected_b64,
            recipients: self
                .recipients
                .iter()
                .zip(encrypted_keys)
                .map(|(recipient, encrypted_key)| GeneralRecipient {
                    header: RecipientHeader {
                        alg: ALG,
                        kid: recipient.kid(),
                    },
                    encrypted_key: Base64UrlUnpadded::encode_string(encrypted_key),
                })
                .collect(),
            iv,
            ciphertext,
            tag,
        };
        serde_json::to_string(&general)
            .map_err(|err| Error::Encrypt(format!("cannot write envelope: {err}")))
    }
}

/// What [`peek`] learns from a JWE without any key.
#[derive(Clone, Debug, PartialEq)]
pub struct Peeked {
    /// The `kid` of every recipient, in order.
    pub kids: Vec<String>,
    /// The protected header merged with the shared unprotected header (JSON form only).
    pub header: Map<String, Value>,
}

/// Structure check without any key (the collector uses this).
///
/// Accepts the compact and the JSON (general or flattened) serializations. Every part must be
/// valid base64url without padding, `alg` must be `RSA-OAEP-256` and `enc` `A256GCM` (else
/// [`Error::Unsupported`]), the IV 12 bytes, the tag 16 bytes and every encrypted key non-empty;
/// `zip` (we never compress) and `crit` are refused, and every recipient needs a string `kid`.
/// Other faults are [`Error::Malformed`]. Returns the kids and the merged protected header.
pub fn peek(jwe: &str) -> Result<Peeked> {
    let parsed = Parsed::parse(jwe)?;
    Ok(Peeked {
        kids: parsed.recipients.iter().map(|r| r.kid.clone()).collect(),
        header: parsed.header,
    })
}

#[cfg(feature = "open")]
pub use opening::{Opened, aes256gcm_decrypt, open};

#[cfg(feature = "open")]
mod opening {
    use aes_gcm::aead::AeadInOut;
    use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
    use serde_json::{Map, Value};

    use super::{CEK_LEN, Parsed, wipe};
    use crate::error::{Error, Result};
    use crate::keys::PrivateKey;

    /// An opened envelope.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Opened {
        /// The protected header merged with the shared unprotected header, as [`super::peek`]
        /// returns it.
        pub header: Map<String, Value>,
        /// The decrypted content.
        pub plaintext: Vec<u8>,
    }

    /// Opens a JWE with the private key.
    ///
    /// Checks the structure as [`super::peek`] does, picks the recipient whose `kid` equals
    /// `key.kid()` ([`Error::NoRecipient`] if none), RSA-OAEP-256 decrypts the content key (it
    /// must be 32 bytes) and AES-256-GCM decrypts with the AAD of RFC 7516. Any cryptographic
    /// failure is [`Error::Decrypt`], without saying which step failed.
    pub fn open(jwe: &str, key: &PrivateKey) -> Result<Opened> {
        let parsed = Parsed::parse(jwe)?;
        let recipient = parsed
            .recipients
            .iter()
            .find(|r| r.kid == key.kid())
            .ok_or_else(|| Error::NoRecipient {
                kid: key.kid().to_owned(),
            })?;

        let mut cek = key.oaep_sha256_decrypt(&recipient.encrypted_key)?;
        let result = decrypt_content(&cek, &parsed);
        wipe(&mut cek);
        Ok(Opened {
            plaintext: result?,
            header: parsed.header,
        })
    }

    fn decrypt_content(cek: &[u8], parsed: &Parsed) -> Result<Vec<u8>> {
        if cek.len() != CEK_LEN {
            return Err(Error::Decrypt);
        }
        aes256gcm_decrypt(
            cek,
            &parsed.iv,
            parsed.aad.as_bytes(),
            &parsed.ciphertext,
            &parsed.tag,
        )
    }

    /// AES-256-GCM decryption with a detached 16-byte tag, exactly as [`open`] does it; public
    /// (but hidden) only so that the Wycheproof known-answer tests exercise this very code.
    #[doc(hidden)]
    pub fn aes256gcm_decrypt(
        key: &[u8],
        iv: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<Vec<u8>> {
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| Error::Decrypt)?;
        let nonce = Nonce::try_from(iv).map_err(|_| Error::Decrypt)?;
        let tag = Tag::try_from(tag).map_err(|_| Error::Decrypt)?;
        let mut buffer = ciphertext.to_vec();
        match cipher.decrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into(), &tag) {
            Ok(()) => Ok(buffer),
            Err(_) => {
                wipe(&mut buffer);
                Err(Error::Decrypt)
            }
        }
    }
}

/// The per-recipient unprotected header of the JSON serialization.
#[derive(Serialize)]
struct RecipientHeader<'a> {
    alg: &'a str,
    kid: &'a str,
}

#[derive(Serialize)]
struct GeneralRecipient<'a> {
    header: RecipientHeader<'a>,
    encrypted_key: String,
}

/// The JWE General JSON Serialization as we write it (member order as in RFC 7516 §7.2.1).
#[derive(Serialize)]
struct GeneralJwe<'a> {
    protected: String,
    recipients: Vec<GeneralRecipient<'a>>,
    iv: String,
    ciphertext: String,
    tag: String,
}

#[cfg(feature = "rust-crypto")]
fn seal_with<R: rand_core::TryCryptoRng + ?Sized>(
    plan: SealPlan<'_>,
    plaintext: &[u8],
    cek: &[u8; CEK_LEN],
    iv: &[u8; IV_LEN],
    rng: &mut R,
) -> Result<String> {
    let mut wrapped = Vec::with_capacity(plan.recipients().len());
    for recipient in plan.recipients() {
        let encrypted_key = recipient
            .rsa()
            .oaep_encrypt_with_rng::<sha2::Sha256, R>(rng, cek)
            .map_err(|err| match err {
                rsa::Error::Rng => Error::Rng,
                other => Error::Encrypt(format!("cannot wrap content key: {other}")),
            })?;
        wrapped.push(encrypted_key);
    }
    let (ciphertext, tag) = aes256gcm_encrypt(cek, iv, plan.aad(), plaintext)?;
    plan.assemble(&wrapped, iv, &ciphertext, &tag)
}

/// AES-256-GCM encryption with a detached 16-byte tag, exactly as [`seal`] does it; public (but
/// hidden) only so that the Wycheproof known-answer tests exercise this very code.
#[cfg(feature = "rust-crypto")]
#[doc(hidden)]
pub fn aes256gcm_encrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, [u8; TAG_LEN])> {
    let cipher = Aes256Gcm::new_from_slice(key)
        .map_err(|_| Error::Encrypt("content key is not 32 bytes".to_owned()))?;
    let nonce = Nonce::try_from(iv).map_err(|_| Error::Encrypt("iv is not 12 bytes".to_owned()))?;
    let mut buffer = plaintext.to_vec();
    let tag: Tag = cipher
        .encrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into())
        .map_err(|_| Error::Encrypt("content is too long".to_owned()))?;
    Ok((buffer, tag.into()))
}

/// The JSON serializations as we read them. Unknown members are ignored, as RFC 7516 §7.2.1
/// asks; `header` and `encrypted_key` at the top level make it the flattened form.
#[derive(Deserialize)]
struct JsonJwe {
    protected: Option<String>,
    unprotected: Option<Map<String, Value>>,
    header: Option<Map<String, Value>>,
    encrypted_key: Option<String>,
    recipients: Option<Vec<JsonRecipient>>,
    aad: Option<String>,
    iv: String,
    ciphertext: String,
    tag: String,
}

#[derive(Deserialize)]
struct JsonRecipient {
    header: Option<Map<String, Value>>,
    encrypted_key: Option<String>,
}

/// One recipient of a parsed JWE.
#[cfg_attr(
    not(feature = "open"),
    allow(dead_code, reason = "only `open` decrypts")
)]
struct ParsedRecipient {
    kid: String,
    encrypted_key: Vec<u8>,
}

/// A JWE whose structure has been checked; what `peek` returns and `open` decrypts.
#[cfg_attr(
    not(feature = "open"),
    allow(dead_code, reason = "only `open` decrypts")
)]
struct Parsed {
    /// Protected header merged with the shared unprotected header.
    header: Map<String, Value>,
    recipients: Vec<ParsedRecipient>,
    /// The additional authenticated data, ASCII(BASE64URL(protected) [ "." BASE64URL(aad) ]).
    aad: String,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

impl Parsed {
    fn parse(jwe: &str) -> Result<Self> {
        let jwe = jwe.trim_matches(|c: char| c.is_ascii_whitespace());
        if jwe.starts_with('{') {
            Self::parse_json(jwe)
        } else {
            Self::parse_compact(jwe)
        }
    }

    fn parse_compact(jwe: &str) -> Result<Self> {
        let parts: Vec<&str> = jwe.split('.').collect();
        let [protected_b64, encrypted_key, iv, ciphertext, tag] = parts.as_slice() else {
            return Err(Error::Malformed(format!(
                "compact form has {} parts, expected 5",
                parts.len()
            )));
        };
        let protected = decode_header("protected header", protected_b64)?;
        let recipient = check_recipient(&protected, &Map::new(), &Map::new(), encrypted_key)?;
        Self::finish(
            protected,
            vec![recipient],
            (*protected_b64).to_owned(),
            iv,
            ciphertext,
            tag,
        )
    }

    fn parse_json(jwe: &str) -> Result<Self> {
        let json: JsonJwe = serde_json::from_str(jwe)
            .map_err(|err| Error::Malformed(format!("json form: {err}")))?;
        let protected_b64 = json
            .protected
            .ok_or_else(|| Error::Malformed("json form has no protected header".to_owned()))?;
        let protected = decode_header("protected header", &protected_b64)?;
        let unprotected = json.unprotected.unwrap_or_default();

        let recipients = match (json.recipients, json.header, json.encrypted_key) {
            (Some(list), None, None) => {
                if list.is_empty() {
                    return Err(Error::Malformed("recipients is empty".to_owned()));
                }
                list.into_iter()
                    .map(|r| {
                        let encrypted_key = r.encrypted_key.ok_or_else(|| {
                            Error::Malformed("recipient has no encrypted_key".to_owned())
                        })?;
                        check_recipient(
                            &protected,
                            &unprotected,
                            &r.header.unwrap_or_default(),
                            &encrypted_key,
                        )
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            (None, header, Some(encrypted_key)) => vec![check_recipient(
                &protected,
                &unprotected,
                &header.unwrap_or_default(),
                &encrypted_key,
            )?],
            (Some(_), _, _) => {
                return Err(Error::Malformed(
                    "json form mixes recipients with a top-level header or encrypted_key"
                        .to_owned(),
                ));
            }
            (None, _, None) => {
                return Err(Error::Malformed(
                    "json form has no encrypted_key".to_owned(),
                ));
            }
        };

        let mut aad = protected_b64;
        if let Some(extra_aad) = json.aad {
            decode_part("aad", &extra_aad)?;
            aad.push('.');
            aad.push_str(&extra_aad);
        }
        let mut header = protected;
        header.extend(unprotected);
        Self::finish(
            header,
            recipients,
            aad,
            &json.iv,
            &json.ciphertext,
            &json.tag,
        )
    }

    fn finish(
        header: Map<String, Value>,
        recipients: Vec<ParsedRecipient>,
        aad: String,
        iv: &str,
        ciphertext: &str,
        tag: &str,
    ) -> Result<Self> {
        let iv = decode_part("iv", iv)?;
        if iv.len() != IV_LEN {
            return Err(Error::Malformed(format!(
                "iv is {} bytes, expected {IV_LEN}",
                iv.len()
            )));
        }
        let ciphertext = decode_part("ciphertext", ciphertext)?;
        let tag = decode_part("tag", tag)?;
        if tag.len() != TAG_LEN {
            return Err(Error::Malformed(format!(
                "tag is {} bytes, expected {TAG_LEN}",
                tag.len()
            )));
        }
        Ok(Self {
            header,
            recipients,
            aad,
            iv,
            ciphertext,
            tag,
        })
    }
}

/// Checks one recipient's complete header (the union of the three headers, which RFC 7516 §7.2.1
/// requires to be disjoint) and decodes its encrypted key.
fn check_recipient(
    protected: &Map<String, Value>,
    unprotected: &Map<String, Value>,
    own: &Map<String, Value>,
    encrypted_key: &str,
) -> Result<ParsedRecipient> {
    for (name, _) in unprotected.iter().chain(own) {
        if protected.contains_key(name) {
            return Err(Error::Malformed(format!(
                "header parameter {name:?} appears twice"
            )));
        }
    }
    for name in own.keys() {
        if unprotected.contains_key(name) {
            return Err(Error::Malformed(format!(
                "header parameter {name:?} appears twice"
            )));
        }
    }
    let get = |name: &str| {
        protected
            .get(name)
            .or_else(|| unprotected.get(name))
            .or_else(|| own.get(name))
    };
    for refused in ["zip", "crit"] {
        if get(refused).is_some() {
            return Err(Error::Unsupported(format!(
                "header parameter {refused:?} is not accepted"
            )));
        }
    }
    expect_alg("alg", get("alg"), ALG)?;
    expect_alg("enc", get("enc"), ENC)?;
    let kid = match get("kid") {
        Some(Value::String(kid)) => kid.clone(),
        Some(_) => return Err(Error::Malformed("kid is not a string".to_owned())),
        None => return Err(Error::Malformed("recipient has no kid".to_owned())),
    };
    let encrypted_key = decode_part("encrypted_key", encrypted_key)?;
    if encrypted_key.is_empty() {
        return Err(Error::Malformed("encrypted_key is empty".to_owned()));
    }
    Ok(ParsedRecipient { kid, encrypted_key })
}

fn expect_alg(name: &str, value: Option<&Value>, expected: &str) -> Result<()> {
    match value {
        Some(Value::String(found)) if found == expected => Ok(()),
        Some(Value::String(found)) => Err(Error::Unsupported(format!(
            "{name} {found:?} (only {expected})"
        ))),
        Some(_) => Err(Error::Malformed(format!("{name} is not a string"))),
        None => Err(Error::Malformed(format!("header has no {name}"))),
    }
}

fn decode_part(what: &str, b64: &str) -> Result<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(b64)
        .map_err(|_| Error::Malformed(format!("{what} is not base64url without padding")))
}

fn decode_header(what: &str, b64: &str) -> Result<Map<String, Value>> {
    let json = decode_part(what, b64)?;
    serde_json::from_slice(&json)
        .map_err(|_| Error::Malformed(format!("{what} is not a json object")))
}

/// Overwrites secret bytes; `black_box` keeps the compiler from dropping the dead store.
#[cfg(feature = "rust-crypto")]
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    core::hint::black_box(bytes);
}

#[cfg(all(test, feature = "rust-crypto"))]
#[allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap should fail loudly"
)]
mod tests {
    use super::*;

    #[test]
    fn reserved_extra_params_are_refused() {
        let jwk: crate::keys::PublicJwk =
            serde_json::from_str(include_str!("../tests/examples/rsa2048.pub.jwk.json")).unwrap();
        let key = RecipientKey::from_jwk(&jwk).unwrap();
        let mut rng = FixedRng(7);
        for name in RESERVED_HEADER_PARAMS {
            let mut extra = Map::new();
            extra.insert((*name).to_owned(), Value::from("x"));
            let err = seal(b"hi", &extra, std::slice::from_ref(&key), &mut rng).unwrap_err();
            assert!(matches!(err, Error::Encrypt(_)), "{name}: {err}");
        }
        let err = seal(b"hi", &Map::new(), &[], &mut rng).unwrap_err();
        assert!(matches!(err, Error::Key(_)), "{err}");
    }

    #[test]
    fn failing_rng_is_reported() {
        let jwk: crate::keys::PublicJwk =
            serde_json::from_str(include_str!("../tests/examples/rsa2048.pub.jwk.json")).unwrap();
        let key = RecipientKey::from_jwk(&jwk).unwrap();
        let err = seal(b"hi", &Map::new(), &[key], &mut BrokenRng).unwrap_err();
        assert!(matches!(err, Error::Rng), "{err}");
    }

    #[test]
    fn peek_reports_structure_faults() {
        let h = |json: &str| Base64UrlUnpadded::encode_string(json.as_bytes());
        let iv = Base64UrlUnpadded::encode_string(&[0; 12]);
        let tag = Base64UrlUnpadded::encode_string(&[0; 16]);
        let good = h(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"k"}"#);
        let ok = format!("{good}.AQ.{iv}.AA.{tag}");
        assert_eq!(peek(&ok).unwrap().kids, vec!["k".to_owned()]);

        let unsupported = [
            format!(
                "{}.AQ.{iv}.AA.{tag}",
                h(r#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k"}"#)
            ),
            format!(
                "{}.AQ.{iv}.AA.{tag}",
                h(r#"{"alg":"RSA-OAEP-256","enc":"A128GCM","kid":"k"}"#)
            ),
            format!(
                "{}.AQ.{iv}.AA.{tag}",
                h(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"k","zip":"DEF"}"#)
            ),
            format!(
                "{}.AQ.{iv}.AA.{tag}",
                h(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"k","crit":["x"]}"#)
            ),
        ];
        for jwe in &unsupported {
            assert!(matches!(peek(jwe), Err(Error::Unsupported(_))), "{jwe}");
        }
        let malformed = [
            String::new(),
            "....".to_owned(),
            format!("{good}.AQ.{iv}.AA"),
            format!("{good}..{iv}.AA.{tag}"),
            format!("{good}.AQ.AAAA.AA.{tag}"),
            format!("{good}.AQ.{iv}.AA.AAAA"),
            format!("{good}.AQ=.{iv}.AA.{tag}"),
            format!(
                "{}.AQ.{iv}.AA.{tag}",
                h(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#)
            ),
            format!("{}.AQ.{iv}.AA.{tag}", h(r#"["alg"]"#)),
            r#"{"protected":"e30","iv":"","ciphertext":"","tag":""}"#.to_owned(),
            r#"{"iv":"","ciphertext":"","tag":""}"#.to_owned(),
            "{".to_owned(),
        ];
        for jwe in &malformed {
            assert!(
                matches!(peek(jwe), Err(Error::Malformed(_))),
                "{jwe:?}: {:?}",
                peek(jwe)
            );
        }
    }

    /// A counter "RNG" so unit tests need no dev-dependency; integration tests use ChaCha20.
    struct FixedRng(u8);

    impl rand_core::TryRng for FixedRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
            self.0 = self.0.wrapping_add(1);
            Ok(u32::from(self.0))
        }
        fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
            self.0 = self.0.wrapping_add(1);
            Ok(u64::from(self.0))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
            for b in dst {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for FixedRng {}

    struct BrokenRng;

    impl rand_core::TryRng for BrokenRng {
        type Error = std::io::Error;
        fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
            Err(std::io::Error::other("broken"))
        }
        fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
            Err(std::io::Error::other("broken"))
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> core::result::Result<(), Self::Error> {
            Err(std::io::Error::other("broken"))
        }
    }

    impl rand_core::TryCryptoRng for BrokenRng {}
}
