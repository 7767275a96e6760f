//! The formseal widget: the browser side, compiled to wasm32. Today it exposes the core's
//! config check and the sealing path to JavaScript; the Leptos form components build on it.
//!
//! It holds no private key and cannot open envelopes (the core's `open` feature is off here).
//! Every failure is an error value for the caller, never a plaintext fallback.

pub mod seal;

use std::collections::{BTreeMap, BTreeSet};

use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, SubmissionInput};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// Options of [`seal`], as a plain JS object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SealOptions {
    /// The key id pinned in the embed snippet; the config's key must have it.
    key_id: String,
    /// Purposes the visitor granted outside the form (consent banner, earlier visit).
    #[serde(default)]
    consent: BTreeSet<String>,
    /// The visitor's pseudonymous subject id.
    subject: String,
    /// Query parameters of the page.
    #[serde(default)]
    url_params: BTreeMap<String, String>,
}

/// What [`seal`] hands back to JavaScript.
#[derive(Serialize)]
struct SealResult {
    jwe: String,
    id: String,
    report: Vec<formseal_core::minimise::Applied>,
}

/// What [`check`] hands back: `ok` and every problem with its JSON path.
#[derive(Serialize)]
struct CheckResult {
    ok: bool,
    problems: Vec<formseal_core::config::Problem>,
}

/// Validates a form config (JSON text); returns `{ ok, problems: [{ path, message, hint }] }`.
#[wasm_bindgen]
pub fn check(config_json: &str) -> Result<JsValue, JsError> {
    let (_, problems) = FormConfig::check(config_json);
    to_js(&CheckResult {
        ok: problems.is_empty(),
        problems,
    })
}

/// Validates, minimises and seals one submission; resolves to `{ jwe, id, report }`.
///
/// Throws (and seals nothing) when the config is invalid, the answers break its rules, or the
/// config's key is not the one pinned in `options.keyId`.
#[wasm_bindgen]
pub async fn seal(
    config_json: String,
    answers: JsValue,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let config = FormConfig::from_json(&config_json).map_err(to_js_error)?;
    let answers: Answers = serde_wasm_bindgen::from_value(answers)
        .map_err(|e| JsError::new(&format!("answers: {e}")))?;
    let options: SealOptions = serde_wasm_bindgen::from_value(options)
        .map_err(|e| JsError::new(&format!("options: {e}")))?;
    let keys = config.recipient_keys().map_err(to_js_error)?;
    if !keys.iter().any(|k| k.kid() == options.key_id) {
        return Err(JsError::new(&format!(
            "key: the form's key is not the pinned key {} (found: {})",
            options.key_id,
            keys.iter().map(|k| k.kid()).collect::<Vec<_>>().join(", ")
        )));
    }
    let consent = ConsentState {
        notice_version: config.privacy_notice.version.clone(),
        granted: options.consent,
    };
    let input = SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: &options.subject,
        now_unix: seal::now_unix(),
        url_params: &options.url_params,
    };
    let sealed = seal::seal(&config, &input).await.map_err(to_js_error)?;
    to_js(&SealResult {
        jwe: sealed.jwe.0,
        id: sealed.id,
        report: sealed.report,
    })
}

/// A new random pseudonymous subject id (128 bits, base64url).
#[wasm_bindgen(js_name = newSubjectId)]
pub fn new_subject_id() -> Result<String, JsError> {
    envelope::random_id(&mut getrandom::SysRng).map_err(to_js_error)
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

fn to_js_error(e: formseal_core::Error) -> JsError {
    JsError::new(&e.to_string())
}
