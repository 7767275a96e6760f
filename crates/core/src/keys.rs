//! Recipient keys: the RSA public key as a JWK in form configs, its RFC 7638 thumbprint (our
//! `kid`), and — behind the `open` feature — the private key the data team opens envelopes with.
//! Nothing here encrypts or decrypts a submission; that is `jwe.rs`.

use base64ct::{Base64UrlUnpadded, Encoding};
#[cfg(feature = "rust-crypto")]
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The smallest RSA modulus, in bits, that formseal accepts for sealing or opening.
pub const MIN_RSA_BITS: usize = 2048;

/// The largest RSA modulus, in bits, that formseal accepts; larger keys are a denial-of-service
/// vector for the collector and bring no benefit.
pub const MAX_RSA_BITS: usize = 8192;

/// The only key-management algorithm a recipient key may be declared for.
const KEY_ALG: &str = "RSA-OAEP-256";

/// RSA public key as a JWK (RFC 7517) as it appears in form configs.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicJwk {
    /// Key type; must be `RSA`.
    pub kty: String,
    /// Modulus, base64url without padding, big-endian.
    pub n: String,
    /// Public exponent, base64url without padding, big-endian.
    pub e: String,
    /// Key id; when present it must equal the RFC 7638 thumbprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended algorithm; when present it must be `RSA-OAEP-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use; when present it must be `enc`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "use")]
    pub use_: Option<String>,
    /// Permitted operations (WebCrypto exports this); informational only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// WebCrypto's extractable flag; informational only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<bool>,
}

impl PublicJwk {
    /// The RFC 7638 JWK thumbprint: base64url(SHA-256) of `{"e":..,"kty":..,"n":..}` with the
    /// members in that order and no whitespace.
    ///
    /// The members are taken as given (RFC 7638 §3.3 leaves it to the key's producer to use the
    /// canonical, unpadded encoding), so this never fails for `kty` RSA; other key types are an
    /// [`Error::Key`] because their required members differ.
    pub fn thumbprint(&self) -> Result<String> {
        if self.kty != "RSA" {
            return Err(Error::Key(format!(
                "kty {:?} is not supported (only RSA)",
                self.kty
            )));
        }
        // serde_json escapes strings exactly as RFC 7638 §3 asks (JSON string syntax, no
        // whitespace); building the object by hand keeps the member order fixed.
        let canonical = format!(
            "{{\"e\":{},\"kty\":{},\"n\":{}}}",
            json_string(&self.e),
            json_string(&self.kty),
            json_string(&self.n)
        );
        Ok(Base64UrlUnpadded::encode_string(&Sha256::digest(
            canonical.as_bytes(),
        )))
    }
}

/// A validated recipient public key (RSA >= 2048 bits), with its kid = RFC 7638 thumbprint.
///
/// Without the `rust-crypto` feature (the widget, which seals with WebCrypto) it holds only the
/// checked modulus and exponent.
#[derive(Clone, Debug)]
pub struct RecipientKey {
    /// Modulus, big-endian, without leading zeros.
    n: Vec<u8>,
    /// Public exponent, big-endian, without leading zeros.
    e: Vec<u8>,
    #[cfg(feature = "rust-crypto")]
    key: rsa::PublicKey,
    kid: String,
    bits: usize,
}

impl PartialEq for RecipientKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid
    }
}

impl Eq for RecipientKey {}

impl RecipientKey {
    /// Validates a JWK from a form config and turns it into a key we can seal to.
    ///
    /// Fails with [`Error::Key`] when `kty` is not `RSA`, `n` or `e` is not base64url, the
    /// modulus is under [`MIN_RSA_BITS`] (or over [`MAX_RSA_BITS`]), the numbers do not make an
    /// RSA key, a `kid` is present but differs from the thumbprint, an `alg` is present but is
    /// not `RSA-OAEP-256`, or a `use` is present but is not `enc`.
    pub fn from_jwk(jwk: &PublicJwk) -> Result<Self> {
        if jwk.kty != "RSA" {
            return Err(Error::Key(format!(
                "kty {:?} is not supported (only RSA)",
                jwk.kty
            )));
        }
        if let Some(alg) = &jwk.alg
            && alg != KEY_ALG
        {
            return Err(Error::Key(format!(
                "alg {alg:?} is not supported (only {KEY_ALG})"
            )));
        }
        if let Some(use_) = &jwk.use_
            && use_ != "enc"
        {
            return Err(Error::Key(format!(
                "use {use_:?} is not allowed (must be \"enc\")"
            )));
        }
        let n = decode_b64url("n", &jwk.n)?;
        let e = decode_b64url("e", &jwk.e)?;
        let kid = jwk.thumbprint()?;
        if let Some(given) = &jwk.kid
            && *given != kid
        {
            return Err(Error::Key(format!(
                "kid {given:?} is not the rfc 7638 thumbprint of the key ({kid})"
            )));
        }
        let (n, e) = check_public_parts(&n, &e)?;
        Ok(Self {
            bits: bit_length(n),
            #[cfg(feature = "rust-crypto")]
            key: public_key_from_be(n, e)?,
            n: n.to_vec(),
            e: e.to_vec(),
            kid,
        })
    }

    /// The key id: the RFC 7638 thumbprint of the key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The size of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The key as a JWK with `kid`, `alg` `RSA-OAEP-256` and `use` `enc`, ready for a form config.
    pub fn to_jwk(&self) -> PublicJwk {
        PublicJwk {
            kty: "RSA".to_owned(),
            n: Base64UrlUnpadded::encode_string(&self.n),
            e: Base64UrlUnpadded::encode_string(&self.e),
            kid: Some(self.kid.clone()),
            alg: Some(KEY_ALG.to_owned()),
            use_: Some("enc".to_owned()),
            key_ops: None,
            ext: None,
        }
    }

    /// The RSA key itself, for `jwe.rs`.
    #[cfg(feature = "rust-crypto")]
    pub(crate) fn rsa(&self) -> &rsa::PublicKey {
        &self.key
    }

    /// Builds the recipient from an already valid RSA key, computing its canonical JWK and kid.
    #[cfg_attr(
        not(feature = "open"),
        allow(dead_code, reason = "only private keys need it")
    )]
    #[cfg(feature = "rust-crypto")]
    fn from_rsa(key: rsa::PublicKey) -> Result<Self> {
        let bits = modulus_bits(&key);
        if bits < MIN_RSA_BITS {
            return Err(too_small(bits));
        }
        let n = strip_leading_zeros(&key.n_bytes()).to_vec();
        let e = strip_leading_zeros(&key.e_bytes()).to_vec();
        let jwk = PublicJwk {
            kty: "RSA".to_owned(),
            n: Base64UrlUnpadded::encode_string(&n),
            e: Base64UrlUnpadded::encode_string(&e),
            kid: None,
            alg: None,
            use_: None,
            key_ops: None,
            ext: None,
        };
        let kid = jwk.thumbprint()?;
        Ok(Self {
            n,
            e,
            key,
            kid,
            bits,
        })
    }
}

#[cfg(feature = "open")]
pub use private::PrivateKey;

/// Whether `pem` is an `ENCRYPTED PRIVATE KEY` (PKCS#8 with a passphrase).
pub fn is_encrypted_pem(pem: &str) -> bool {
    pem.trim_start()
        .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
}

#[cfg(feature = "open")]
mod private {
    use core::fmt;

    use std::sync::Arc;

    use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::{self, DecodePrivateKey, EncodePrivateKey, LineEnding};
    use rsa::traits::PublicKeyParts;

    use super::{
        MAX_RSA_BITS, MIN_RSA_BITS, RecipientKey, is_encrypted_pem, modulus_bits, too_small,
    };
    use crate::error::{Error, Result};

    /// An RSA private key (>= 2048 bits) that opens envelopes sealed to its public half.
    ///
    /// Its `Debug` shows only the kid and the size, never key material. Cloning shares the
    /// decrypting half, so every thread of a parallel decryption holds the same key.
    #[derive(Clone)]
    pub struct PrivateKey {
        key: rsa::PrivateKey,
        /// The same key loaded into aws-lc, which does the private-key operation.
        decrypting: Arc<OaepPrivateDecryptingKey>,
        public: RecipientKey,
    }

    impl fmt::Debug for PrivateKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("PrivateKey")
                .field("kid", &self.public.kid())
                .field("bits", &self.public.bits())
                .finish_non_exhaustive()
        }
    }

    impl PrivateKey {
        /// Generates a new key pair with public exponent 65537; refuses fewer than
        /// [`MIN_RSA_BITS`] or more than [`MAX_RSA_BITS`] bits.
        pub fn generate<R: rand_core::TryCryptoRng + ?Sized>(
            bits: usize,
            rng: &mut R,
        ) -> Result<Self> {
            if bits < MIN_RSA_BITS {
                return Err(too_small(bits));
            }
            if bits > MAX_RSA_BITS {
                return Err(Error::Key(format!(
                    "{bits}-bit modulus is too large (maximum {MAX_RSA_BITS})"
                )));
            }
            let key = rsa::PrivateKey::new(rng, bits).map_err(|err| match err {
                rsa::Error::Rng => Error::Rng,
                other => Error::Key(format!("cannot generate key: {other}")),
            })?;
            Self::from_rsa(key)
        }

        /// Reads a PKCS#8 `PRIVATE KEY` PEM (what `openssl genpkey` writes), or a PKCS#1
        /// `RSA PRIVATE KEY` PEM. An `ENCRYPTED PRIVATE KEY` needs
        /// [`Self::from_encrypted_pkcs8_pem`].
        pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
            let pem = pem.trim();
            let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
                rsa::PrivateKey::from_pkcs1_pem(pem).map_err(|err| {
                    Error::Key(format!("not a valid pkcs#1 rsa private key: {err}"))
                })?
            } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
                rsa::PrivateKey::from_pkcs8_pem(pem).map_err(|err| {
                    Error::Key(format!("not a valid pkcs#8 rsa private key: {err}"))
                })?
            } else if is_encrypted_pem(pem) {
                return Err(Error::Key(
                    "the private key is encrypted: it needs its passphrase".to_owned(),
                ));
            } else {
                return Err(Error::Key(
                    "expected a PEM \"PRIVATE KEY\" or \"RSA PRIVATE KEY\" block".to_owned(),
                ));
            };
            Self::from_rsa(key)
        }

        /// Writes the key as a PKCS#8 PEM with LF line endings; the string is wiped on drop.
        pub fn to_pkcs8_pem(&self) -> Result<rsa::pkcs8::der::zeroize::Zeroizing<String>> {
            self.key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|err| Error::Key(format!("cannot encode private key: {err}")))
        }

        /// Reads an `ENCRYPTED PRIVATE KEY` PEM (PKCS#8 with PBES2: scrypt or PBKDF2, and AES,
        /// as `formseal keygen --passphrase` and `openssl pkcs8 -topk8 -v2 aes-256-cbc` write).
        /// A wrong passphrase is [`Error::Passphrase`].
        pub fn from_encrypted_pkcs8_pem(pem: &str, passphrase: &[u8]) -> Result<Self> {
            let pem = pem.trim();
            if !is_encrypted_pem(pem) {
                return Err(Error::Key(
                    "expected a PEM \"ENCRYPTED PRIVATE KEY\" block".to_owned(),
                ));
            }
            let (_, document) = pkcs8::SecretDocument::from_pem(pem)
                .map_err(|err| Error::Key(format!("not a valid encrypted private key: {err}")))?;
            let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
                .map_err(|err| Error::Key(format!("not a valid encrypted private key: {err}")))?;
            // AES-CBC padding or the DER inside fails to check with a wrong passphrase; a
            // damaged file looks the same, and nothing tells the two apart.
            let decrypted = encrypted
                .decrypt(passphrase)
                .map_err(|_| Error::Passphrase)?;
            let key = rsa::PrivateKey::from_pkcs8_der(decrypted.as_bytes())
                .map_err(|_| Error::Passphrase)?;
            Self::from_rsa(key)
        }

        /// Writes the key as an `ENCRYPTED PRIVATE KEY` PEM: PKCS#8 with PBES2, scrypt
        /// (log2 N = 15, r = 8, p = 1) and AES-256-CBC, salt and IV from `rng`. The string is
        /// wiped on drop.
        pub fn to_encrypted_pkcs8_pem<R: rand_core::TryCryptoRng + ?Sized>(
            &self,
            passphrase: &[u8],
            rng: &mut R,
        ) -> Result<rsa::pkcs8::der::zeroize::Zeroizing<String>> {
            let encode =
                |err: &dyn fmt::Display| Error::Key(format!("cannot encode private key: {err}"));
            let plain = self.key.to_pkcs8_der().map_err(|e| encode(&e))?;
            let info =
                pkcs8::PrivateKeyInfoRef::try_from(plain.as_bytes()).map_err(|e| encode(&e))?;
            // `&mut R` is itself an RNG, which lifts the `Sized` bound pkcs8 asks for.
            let encrypted = info
                .encrypt_with_rng(&mut &mut *rng, passphrase)
                .map_err(|e| encode(&e))?;
            encrypted
                .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
                .map_err(|e| encode(&e))
        }

        /// The public half, to put in form configs.
        pub fn public(&self) -> RecipientKey {
            self.public.clone()
        }

        /// The key id (RFC 7638 thumbprint of the public half).
        pub fn kid(&self) -> &str {
            self.public.kid()
        }

        /// RSA-OAEP with SHA-256 (and MGF1-SHA-256, empty label) decryption of a wrapped key,
        /// exactly as `jwe::open` does it; public (but hidden) only so that the Wycheproof
        /// known-answer tests exercise this very code.
        ///
        /// The error says nothing about why: OAEP padding failures must not be told apart.
        #[doc(hidden)]
        pub fn oaep_sha256_decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>> {
            // aws-lc (BoringSSL's RSA) blinds the private-key operation and runs it in constant
            // time, and checks the OAEP padding without branching on secret data: what the
            // Marvin attack (RUSTSEC-2023-0071) exploits in the `rsa` crate's arithmetic is not
            // used here at all.
            let mut plaintext = vec![0u8; self.decrypting.min_output_size()];
            let length = self
                .decrypting
                .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut plaintext, None)
                .map_err(|_| Error::Decrypt)?
                .len();
            plaintext.truncate(length);
            Ok(plaintext)
        }

        fn from_rsa(key: rsa::PrivateKey) -> Result<Self> {
            let bits = modulus_bits(&key);
            if bits < MIN_RSA_BITS {
                return Err(too_small(bits));
            }
            if bits > MAX_RSA_BITS {
                return Err(Error::Key(format!(
                    "{bits}-bit modulus is too large (maximum {MAX_RSA_BITS})"
                )));
            }
            let public = RecipientKey::from_rsa(key.to_public_key())?;
            debug_assert_eq!(public.rsa().n_bytes(), key.n_bytes());
            // The DER is wiped when it is dropped.
            let der = key
                .to_pkcs8_der()
                .map_err(|err| Error::Key(format!("cannot encode private key: {err}")))?;
            let unusable =
                |err: &dyn fmt::Display| Error::Key(format!("not a usable rsa private key: {err}"));
            let decrypting = PrivateDecryptingKey::from_pkcs8(der.as_bytes())
                .map_err(|e| unusable(&e))
                .and_then(|k| OaepPrivateDecryptingKey::new(k).map_err(|e| unusable(&e)))?;
            Ok(Self {
                key,
                decrypting: Arc::new(decrypting),
                public,
            })
        }
    }
}

/// Size of an RSA modulus in bits (the position of its highest set bit).
#[cfg(feature = "rust-crypto")]
fn modulus_bits<K: PublicKeyParts>(key: &K) -> usize {
    key.n().as_ref().bit_width_vartime() as usize
}

fn too_small(bits: usize) -> Error {
    Error::Key(format!(
        "{bits}-bit modulus is too small (minimum {MIN_RSA_BITS})"
    ))
}

/// Decodes one base64url (unpadded) JWK member, naming it in the error.
fn decode_b64url(member: &str, value: &str) -> Result<Vec<u8>> {
    let bytes = Base64UrlUnpadded::decode_vec(value)
        .map_err(|_| Error::Key(format!("{member} is not base64url without padding")))?;
    if bytes.is_empty() {
        return Err(Error::Key(format!("{member} is empty")));
    }
    Ok(bytes)
}

/// Builds an RSA public key from big-endian modulus and exponent, with our size limits.
/// The checks a public key must pass before anything is sealed to it, without big-integer
/// arithmetic (the widget has none): a modulus of [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`] bits that
/// is odd, and an odd exponent from 3 to 2^33 - 1 (the `rsa` crate's limits). Returns both
/// without leading zeros.
fn check_public_parts<'a>(n: &'a [u8], e: &'a [u8]) -> Result<(&'a [u8], &'a [u8])> {
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    let bits = bit_length(n);
    if bits < MIN_RSA_BITS {
        return Err(too_small(bits));
    }
    if bits > MAX_RSA_BITS {
        return Err(Error::Key(format!(
            "{bits}-bit modulus is too large (maximum {MAX_RSA_BITS})"
        )));
    }
    if n.last().is_none_or(|b| b % 2 == 0) {
        return Err(Error::Key(
            "not a valid rsa public key: the modulus is even".to_owned(),
        ));
    }
    let exponent_ok = match e {
        [] => false,
        [only] => *only >= 3,
        _ => bit_length(e) <= 33,
    };
    if !exponent_ok || e.last().is_none_or(|b| b % 2 == 0) {
        return Err(Error::Key("public exponent is out of range".to_owned()));
    }
    Ok((n, e))
}

#[cfg(feature = "rust-crypto")]
fn public_key_from_be(n: &[u8], e: &[u8]) -> Result<rsa::PublicKey> {
    let n = rsa::BoxedUint::from_be_slice_vartime(n);
    let e = rsa::BoxedUint::from_be_slice_vartime(e);
    rsa::PublicKey::new_with_size_limits(n, e, MIN_RSA_BITS..=MAX_RSA_BITS)
        .map_err(|err| Error::Key(format!("not a valid rsa public key: {err}")))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// Bit length of a big-endian number without leading zero bytes.
fn bit_length(be: &[u8]) -> usize {
    match be.first() {
        Some(top) => (be.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    }
}

/// A JSON string literal for `s`, as serde_json writes it.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap should fail loudly"
)]
mod tests {
    use super::*;

    /// The key of RFC 7638 §3.1.
    fn rfc7638_jwk() -> PublicJwk {
        PublicJwk {
            kty: "RSA".to_owned(),
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".to_owned(),
            e: "AQAB".to_owned(),
            kid: None,
            alg: Some("RS256".to_owned()),
            use_: None,
            key_ops: None,
            ext: None,
        }
    }

    #[test]
    fn rfc7638_thumbprint_example() {
        assert_eq!(
            rfc7638_jwk().thumbprint().unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rfc7638_key_becomes_recipient_without_alg() {
        let mut jwk = rfc7638_jwk();
        // The RFC's key is declared for RS256, which we refuse; without it, it is a fine key.
        let err = RecipientKey::from_jwk(&jwk).unwrap_err();
        assert!(err.to_string().contains("alg \"RS256\""), "{err}");
        jwk.alg = None;
        let key = RecipientKey::from_jwk(&jwk).unwrap();
        assert_eq!(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(key.bits(), 2048);
        let back = key.to_jwk();
        assert_eq!(back.n, jwk.n);
        assert_eq!(back.e, jwk.e);
        assert_eq!(back.kid.as_deref(), Some(key.kid()));
        assert_eq!(back.alg.as_deref(), Some("RSA-OAEP-256"));
        assert_eq!(back.use_.as_deref(), Some("enc"));
        assert_eq!(RecipientKey::from_jwk(&back).unwrap(), key);
    }

    #[test]
    fn from_jwk_rejects_bad_members() {
        let mut good = rfc7638_jwk();
        good.alg = None;

        type Mutation = Box<dyn Fn(&mut PublicJwk)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|j| j.kty = "EC".into()),
                "kty \"EC\" is not supported",
            ),
            (Box::new(|j| j.n.push('=')), "n is not base64url"),
            (
                Box::new(|j| j.n = j.n.replace('_', "/")),
                "n is not base64url",
            ),
            (Box::new(|j| j.e = "AQ+B".into()), "e is not base64url"),
            (Box::new(|j| j.e = String::new()), "e is empty"),
            (
                Box::new(|j| j.kid = Some("nope".into())),
                "kid \"nope\" is not the rfc 7638 thumbprint",
            ),
            (
                Box::new(|j| j.alg = Some("RSA-OAEP".into())),
                "alg \"RSA-OAEP\" is not supported",
            ),
            (
                Box::new(|j| j.use_ = Some("sig".into())),
                "use \"sig\" is not allowed",
            ),
            (
                Box::new(|j| j.e = "Ag".into()),
                "public exponent is out of range",
            ),
            (
                // 2^34 + 1: odd, but above the largest exponent the rsa crate accepts.
                Box::new(|j| j.e = "BAAAAAE".into()),
                "public exponent is out of range",
            ),
            (
                Box::new(|j| {
                    let mut n = Base64UrlUnpadded::decode_vec(&j.n).unwrap();
                    *n.last_mut().unwrap() &= 0xfe;
                    j.n = Base64UrlUnpadded::encode_string(&n);
                }),
                "the modulus is even",
            ),
            (
                Box::new(|j| j.n = "AQAB".into()),
                "17-bit modulus is too small (minimum 2048)",
            ),
        ];
        for (mutate, expected) in cases {
            let mut jwk = good.clone();
            mutate(&mut jwk);
            match RecipientKey::from_jwk(&jwk) {
                Err(Error::Key(msg)) => {
                    assert!(msg.contains(expected), "{msg:?} lacks {expected:?}")
                }
                other => panic!("expected Error::Key({expected:?}), got {other:?}"),
            }
        }
    }

    #[test]
    fn jwk_serde_names_and_unknown_fields() {
        let jwk: PublicJwk = serde_json::from_str(
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc","key_ops":["encrypt"],"ext":true}"#,
        )
        .unwrap();
        assert_eq!(jwk.use_.as_deref(), Some("enc"));
        let out = serde_json::to_string(&jwk).unwrap();
        assert_eq!(
            out,
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc","key_ops":["encrypt"],"ext":true}"#
        );
        assert!(
            serde_json::from_str::<PublicJwk>(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#)
                .is_err()
        );
    }

    #[test]
    fn bit_length_counts_from_top_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(strip_leading_zeros(&[0, 0, 5]), &[5]);
        assert_eq!(strip_leading_zeros(&[0, 0]), &[] as &[u8]);
    }
}
