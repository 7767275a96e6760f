//! Proof of work for the collector, instead of a captcha: before an envelope is posted, the
//! widget fetches an ALTCHA v1 challenge from the collector (`GET /v1/challenge`, next to the
//! submissions endpoint), finds the number that solves it and sends the solution in the `Altcha`
//! header. A collector that asks for none (204: proof of work switched off) or offers no
//! challenge (404: an endpoint that is not a formseal collector) gets the envelope without one.
//!
//! Solving runs in a Web Worker (`formseal-pow.js`, WebCrypto SHA-256) so that the page never
//! stalls. Where the page cannot start it (the widget served from another origin, a CSP without
//! `worker-src 'self'`), the same search runs here in slices of a few milliseconds, yielding to
//! the page between them. Either way it only ever sees the collector's public challenge.
//!
//! A form solves ahead, when the visitor starts it ([`prepare`]), so that sending waits for
//! nothing; the solution then travels with the queued envelope ([`Proof`]) and is solved again
//! when it expired while the envelope waited, or when the collector refused it.

use std::cell::RefCell;
use std::collections::BTreeMap;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, ReferrerPolicy, RequestCredentials, RequestInit, Response, Worker};

use crate::page;

/// The request header that carries the solution (altcha-lib's payload, base64).
pub(crate) const HEADER: &str = "Altcha";

/// The worker's file, next to the glue that loads this wasm.
const WORKER: &str = "formseal-pow.js";

/// A solution is solved again when less than this is left of its challenge's lifetime, so that
/// it does not expire on the way.
const MARGIN_MS: f64 = 60_000.0;

/// How long the search on the page's own thread runs before it yields to the page.
const SLICE_MS: f64 = 8.0;

/// A solved challenge, ready to be sent once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Proof {
    /// The `Altcha` header's value.
    pub(crate) payload: String,
    /// When its challenge expires, in milliseconds since the epoch (0: never).
    pub(crate) expires: f64,
}

impl Proof {
    /// Whether it can still be sent.
    pub(crate) fn is_fresh(&self) -> bool {
        self.expires == 0.0 || self.expires > page::now_ms() + MARGIN_MS
    }
}

/// An ALTCHA v1 challenge, as the collector (and altcha-lib's `createChallenge`) writes it.
#[derive(Deserialize)]
struct Challenge {
    algorithm: String,
    challenge: String,
    maxnumber: u32,
    salt: String,
    signature: String,
}

/// What the collector verifies: the challenge with the number that solves it.
#[derive(Serialize)]
struct Payload<'a> {
    algorithm: &'a str,
    challenge: &'a str,
    number: u32,
    salt: &'a str,
    signature: &'a str,
}

thread_local! {
    /// Per endpoint, the solving started by [`prepare`]: promises of a [`Proof`] as
    /// `[payload, expires]`, or of `null` when the collector wants none.
    static AHEAD: RefCell<BTreeMap<String, Vec<js_sys::Promise>>> = RefCell::default();
}

/// Solutions solved ahead per endpoint: a survey with a reward sends two envelopes at once, and
/// both should leave before the visitor moves on.
#[cfg(feature = "forms")]
const AHEAD_COUNT: usize = 2;

/// Starts solving challenges of `endpoint` now (the visitor started a form), unless
/// [`AHEAD_COUNT`] are already being solved or waiting.
#[cfg(feature = "forms")]
pub(crate) fn prepare(endpoint: &str) {
    AHEAD.with_borrow_mut(|ahead| {
        let pending = ahead.entry(endpoint.to_owned()).or_default();
        while pending.len() < AHEAD_COUNT {
            let endpoint = endpoint.to_owned();
            pending.push(wasm_bindgen_futures::future_to_promise(async move {
                match solve(&endpoint).await {
                    Ok(Some(proof)) => {
                        Ok(js_sys::Array::of2(&proof.payload.into(), &proof.expires.into()).into())
                    }
                    Ok(None) => Ok(JsValue::NULL),
                    Err(reason) => Err(reason.into()),
                }
            }));
        }
    });
}

/// A fresh solution for a post to `endpoint`: the one solved ahead if there is one, else a new
/// one. `None` when the collector offers no challenge.
pub(crate) async fn proof(endpoint: &str) -> Result<Option<Proof>, String> {
    let ahead = AHEAD.with_borrow_mut(|ahead| ahead.get_mut(endpoint).and_then(Vec::pop));
    if let Some(ahead) = ahead
        && let Ok(value) = JsFuture::from(ahead).await
    {
        if value.is_null() {
            return Ok(None);
        }
        let pair = js_sys::Array::from(&value);
        let proof = Proof {
            payload: pair.get(0).as_string().unwrap_or_default(),
            expires: pair.get(1).as_f64().unwrap_or_default(),
        };
        if proof.is_fresh() {
            return Ok(Some(proof));
        }
    }
    solve(endpoint).await
}

/// The challenge endpoint of a submissions endpoint: `…/v1/submissions` → `…/v1/challenge`.
/// Any other endpoint is not a formseal collector and gets no proof of work.
fn challenge_url(endpoint: &str) -> Option<String> {
    let base = endpoint.strip_suffix("/v1/submissions")?;
    Some(format!("{base}/v1/challenge"))
}

/// Fetches a challenge of `endpoint`'s collector and solves it.
async fn solve(endpoint: &str) -> Result<Option<Proof>, String> {
    let Some(url) = challenge_url(endpoint) else {
        return Ok(None);
    };
    let init = RequestInit::new();
    init.set_credentials(RequestCredentials::Omit);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| format!("fetching a proof-of-work challenge from {url} failed"))?
        .unchecked_into();
    // 204 is a formseal collector that asks for none (and no console error, which a 404 is);
    // 404 a backend that offers no challenge at all.
    if matches!(response.status(), 204 | 404) {
        return Ok(None);
    }
    if !response.ok() {
        return Err(format!("{url} answered HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|_| "no body")?)
        .await
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default();
    let challenge: Challenge =
        page::from_json(&text).map_err(|e| format!("{url} sent no ALTCHA challenge: {e}"))?;
    if challenge.algorithm != "SHA-256" {
        return Err(format!(
            "{url} asks for {}, not SHA-256",
            challenge.algorithm
        ));
    }
    let number = match in_worker(&challenge).await {
        Some(number) => number,
        None => on_this_thread(&challenge).await,
    }
    .ok_or_else(|| format!("the challenge of {url} has no solution"))?;
    let payload = serde_json::to_string(&Payload {
        algorithm: &challenge.algorithm,
        challenge: &challenge.challenge,
        number,
        salt: &challenge.salt,
        signature: &challenge.signature,
    })
    .map_err(|e| e.to_string())?;
    Ok(Some(Proof {
        payload: Base64::encode_string(payload.as_bytes()),
        expires: expires_ms(&challenge.salt),
    }))
}

/// When a challenge expires: its salt's `expires` parameter (Unix seconds) in milliseconds, or
/// 0 when it names none. Read as an integer: parsing an `f64` would link the float parser, about
/// 19 kB brotli of every bundle.
fn expires_ms(salt: &str) -> f64 {
    salt.split(['?', '&'])
        .find_map(|part| part.strip_prefix("expires="))
        .and_then(|seconds| seconds.parse::<u32>().ok())
        .map_or(0.0, |seconds| f64::from(seconds) * 1000.0)
}

#[wasm_bindgen]
extern "C" {
    /// `import.meta` of the glue, whose URL locates the worker's file.
    type ImportMeta;
    #[wasm_bindgen(thread_local_v2, js_namespace = import, js_name = meta)]
    static IMPORT_META: ImportMeta;
    #[wasm_bindgen(method, getter)]
    fn url(this: &ImportMeta) -> String;
}

/// The challenge's solution found by the worker: `Some(None)` when it has none, `None` when the
/// worker could not run.
async fn in_worker(challenge: &Challenge) -> Option<Option<u32>> {
    let url = web_sys::Url::new_with_base(WORKER, &IMPORT_META.with(ImportMeta::url)).ok()?;
    let worker = Worker::new(&url.href()).ok()?;
    let answer = js_sys::Promise::new(&mut |resolve, _| {
        let on_error = resolve.clone();
        worker.set_onmessage(Some(
            Closure::once_into_js(move |event: MessageEvent| {
                let _ = resolve.call1(&JsValue::NULL, &event.data());
            })
            .unchecked_ref(),
        ));
        worker.set_onerror(Some(
            Closure::once_into_js(move || {
                let _ = on_error.call0(&JsValue::NULL);
            })
            .unchecked_ref(),
        ));
    });
    let task = js_sys::Array::of3(
        &challenge.salt.as_str().into(),
        &challenge.challenge.as_str().into(),
        &challenge.maxnumber.into(),
    );
    worker.post_message(&task).ok()?;
    let answer = JsFuture::from(answer).await.ok()?.as_f64();
    worker.terminate();
    // No number: the worker failed to load or run (an error event).
    let number = answer?;
    Some((number >= 0.0).then_some(number as u32))
}

/// The same search as the worker's, on the page's thread, in slices of [`SLICE_MS`].
async fn on_this_thread(challenge: &Challenge) -> Option<u32> {
    let target = hex_bytes(&challenge.challenge)?;
    let mut number = 0;
    loop {
        let slice_end = page::now_ms() + SLICE_MS;
        while page::now_ms() < slice_end {
            for _ in 0..100 {
                if Sha256::digest(format!("{}{number}", challenge.salt)).as_slice() == target {
                    return Some(number);
                }
                if number >= challenge.maxnumber {
                    return None;
                }
                number += 1;
            }
        }
        let next_slice = js_sys::Promise::new(&mut |resolve, _| {
            page::set_timeout(0.0, move || {
                let _ = resolve.call0(&JsValue::NULL);
            });
        });
        let _ = JsFuture::from(next_slice).await;
    }
}

/// The bytes of a hex string; `None` if it is not one.
fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}
