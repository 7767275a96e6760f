//! Sealing in the browser: the core decides what is sealed and how the JWE is written
//! (`envelope::prepare`, `jwe::SealPlan`); the browser's own WebCrypto does RSA-OAEP-256 and
//! AES-256-GCM, so the widget ships no big-integer or AES code.
//!
//! Nothing here sends anything; it returns the ciphertext for the delivery queue.

use formseal_core::Error;
use formseal_core::config::FormConfig;
use formseal_core::envelope::{self, Envelope, SealedEnvelope, SubmissionInput};
use formseal_core::jwe::{CEK_LEN, IV_LEN, SealPlan, TAG_LEN};
use formseal_core::keys::RecipientKey;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The browser's `crypto.subtle`.
    type SubtleCrypto;

    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(
        this: &SubtleCrypto,
        format: &str,
        key_data: &JsValue,
        algorithm: &Object,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn encrypt(
        this: &SubtleCrypto,
        algorithm: &Object,
        key: &JsValue,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;
}

/// Validates, minimises and seals one submission to every recipient key of `config`: one
/// envelope, or two when the visitor entered a survey's reward (the answers first).
///
/// Fails closed: an invalid answer, a bad key, a missing WebCrypto (an insecure `http:` page)
/// or any crypto failure is an error and nothing is sealed. The caller checks the pinned key
/// id before calling this.
pub async fn seal(
    config: &FormConfig,
    input: &SubmissionInput<'_>,
) -> Result<Vec<(String, SealedEnvelope)>, Error> {
    let prepared = envelope::prepare_envelopes(config, input, &mut getrandom::SysRng)?;
    let mut sealed = Vec::with_capacity(2);
    for envelope in prepared.envelopes() {
        sealed.push((envelope.id.clone(), seal_envelope(config, envelope).await?));
    }
    Ok(sealed)
}

/// Seals a prepared envelope (a submission, or a consent record) to every recipient key of
/// `config`. Fails closed like [`seal`].
pub async fn seal_envelope(
    config: &FormConfig,
    envelope: &Envelope,
) -> Result<SealedEnvelope, Error> {
    let keys = config.recipient_keys()?;
    let plaintext = envelope.to_padded_json()?;
    let header = envelope.header_params(config)?;
    let plan = SealPlan::new(&header, &keys)?;

    let mut cek = [0u8; CEK_LEN];
    let mut iv = [0u8; IV_LEN];
    getrandom::fill(&mut cek).map_err(|_| Error::Rng)?;
    getrandom::fill(&mut iv).map_err(|_| Error::Rng)?;
    let sealed = web_seal(plan, &plaintext, &cek, &iv).await;
    cek.fill(0);
    sealed.map(SealedEnvelope)
}

/// The current time in Unix seconds, from the visitor's clock (only the hour is kept).
pub fn now_unix() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

async fn web_seal(
    plan: SealPlan<'_>,
    plaintext: &[u8],
    cek: &[u8; CEK_LEN],
    iv: &[u8; IV_LEN],
) -> Result<String, Error> {
    let subtle = subtle()?;
    let mut wrapped = Vec::with_capacity(plan.recipients().len());
    for recipient in plan.recipients() {
        wrapped.push(wrap_key(&subtle, recipient, cek).await?);
    }

    let aes_key = call(subtle.import_key(
        "raw",
        &Uint8Array::from(&cek[..]),
        &object(&[("name", "AES-GCM".into())]),
        false,
        &usages(),
    ))
    .await?;
    let params = object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(&iv[..]).into()),
        ("additionalData", Uint8Array::from(plan.aad()).into()),
        ("tagLength", 128.into()),
    ]);
    let mut sealed =
        bytes(call(subtle.encrypt(&params, &aes_key, &Uint8Array::from(plaintext))).await?);
    // WebCrypto appends the tag to the ciphertext; JWE carries it separately.
    let split = sealed
        .len()
        .checked_sub(TAG_LEN)
        .ok_or_else(|| Error::Encrypt("webcrypto returned no tag".into()))?;
    let tag: [u8; TAG_LEN] = sealed[split..]
        .try_into()
        .map_err(|_| Error::Encrypt("webcrypto returned no tag".into()))?;
    sealed.truncate(split);
    plan.assemble(&wrapped, iv, &sealed, &tag)
}

/// RSA-OAEP-256 encryption of the content key to one recipient.
async fn wrap_key(
    subtle: &SubtleCrypto,
    recipient: &RecipientKey,
    cek: &[u8],
) -> Result<Vec<u8>, Error> {
    let jwk = recipient.to_jwk();
    let jwk = object(&[
        ("kty", "RSA".into()),
        ("n", jwk.n.into()),
        ("e", jwk.e.into()),
        ("alg", "RSA-OAEP-256".into()),
        ("ext", true.into()),
    ]);
    let algorithm = object(&[("name", "RSA-OAEP".into()), ("hash", "SHA-256".into())]);
    let key = call(subtle.import_key("jwk", &jwk, &algorithm, false, &usages())).await?;
    let wrapped = call(subtle.encrypt(
        &object(&[("name", "RSA-OAEP".into())]),
        &key,
        &Uint8Array::from(cek),
    ))
    .await?;
    Ok(bytes(wrapped))
}

/// `globalThis.crypto.subtle`, which browsers only offer on secure (https or localhost) pages.
fn subtle() -> Result<SubtleCrypto, Error> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).unwrap_or(JsValue::UNDEFINED);
    let subtle = Reflect::get(&crypto, &"subtle".into()).unwrap_or(JsValue::UNDEFINED);
    if subtle.is_undefined() || subtle.is_null() {
        return Err(Error::Encrypt(
            "webcrypto is not available (the page must be served over https)".into(),
        ));
    }
    Ok(subtle.unchecked_into())
}

async fn call(promise: Result<Promise, JsValue>) -> Result<JsValue, Error> {
    let promise = promise.map_err(webcrypto_error)?;
    JsFuture::from(promise).await.map_err(webcrypto_error)
}

fn webcrypto_error(err: JsValue) -> Error {
    let message = err
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "unknown error".into());
    Error::Encrypt(format!("webcrypto: {message}"))
}

fn bytes(buffer: JsValue) -> Vec<u8> {
    Uint8Array::new(&buffer).to_vec()
}

fn usages() -> Array {
    Array::of1(&"encrypt".into())
}

fn object(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object
}
