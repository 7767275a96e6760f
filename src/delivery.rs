//! Delivery that loses nothing: sealed envelopes (only ever ciphertext) wait in `localStorage`
//! until the endpoint acknowledges them, and are retried with exponential backoff, when the
//! browser comes back online, and on the next page load.
//!
//! The same stored JWE is always re-sent, so the collector's de-duplication of identical bytes
//! makes every retry idempotent. Nothing here seals or reads answers.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, ReferrerPolicy, Request, RequestCredentials, RequestInit, Response,
};

use crate::page;
use crate::pow::{self, Proof};

/// How long one request may take before it counts as a network failure.
const TIMEOUT_MS: f64 = 15_000.0;
/// The first retry delay; it doubles with every failed attempt.
const FIRST_DELAY_MS: f64 = 1_000.0;
/// The longest retry delay.
const MAX_DELAY_MS: f64 = 60_000.0;

/// One sealed envelope waiting for the endpoint's acknowledgement.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Entry {
    /// The submission id inside the envelope (also used to tell entries apart).
    pub(crate) id: String,
    /// Where it is posted.
    pub(crate) endpoint: String,
    /// `application/jose` (compact) or `application/jose+json` (several recipients).
    pub(crate) content_type: String,
    /// The JWE text, the request body.
    pub(crate) jwe: String,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    /// When the next attempt is due, in milliseconds since the epoch.
    pub(crate) next_attempt_at: f64,
    /// The collector's proof of work, once solved; kept so that a retry of the same bytes
    /// sends the same solution (which the collector accepts again for the same envelope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pow: Option<Proof>,
}

impl Entry {
    /// A new entry for a sealed envelope, due now.
    pub(crate) fn new(id: String, endpoint: String, jwe: String) -> Self {
        let content_type = if jwe.trim_start().starts_with('{') {
            "application/jose+json"
        } else {
            "application/jose"
        };
        Self {
            id,
            endpoint,
            content_type: content_type.to_owned(),
            jwe,
            attempts: 0,
            next_attempt_at: 0.0,
            pow: None,
        }
    }
}

/// What happened to a form's envelopes, for its status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A request is under way.
    Sending,
    /// The endpoint acknowledged an envelope.
    Sent,
    /// An attempt failed for a reason that may pass; it will be retried.
    Retrying,
    /// The endpoint refused an envelope for good; it was dropped.
    Failed,
    /// The endpoint refused an envelope because the form is closed (its closing date passed or
    /// it has all the responses it takes: HTTP 409); it was dropped.
    Closed,
}

/// Receives the outcomes of one form's deliveries.
pub(crate) type Listener = Rc<dyn Fn(Outcome)>;

thread_local! {
    /// Listeners per form id (several elements may show the same form).
    static LISTENERS: RefCell<BTreeMap<String, Vec<Listener>>> = RefCell::default();
    /// Entry ids with a request under way, so that no entry is posted twice at once.
    static IN_FLIGHT: RefCell<BTreeSet<String>> = RefCell::default();
    /// The queues when `localStorage` is unavailable: they last as long as the page.
    static MEMORY: RefCell<BTreeMap<String, String>> = RefCell::default();
}

/// Registers a form's status listener and sends whatever its queue still holds.
pub(crate) fn register(form_id: &str, listener: Listener) {
    LISTENERS.with_borrow_mut(|l| l.entry(form_id.to_owned()).or_default().push(listener));
    if !load(form_id).is_empty() {
        deliver(form_id.to_owned(), true);
    }
}

/// Queues `entry` for `form_id` (before any request is made) and starts delivering it.
pub(crate) fn enqueue(form_id: &str, entry: Entry) {
    let mut queue = load(form_id);
    if !queue.iter().any(|e| e.id == entry.id) {
        queue.push(entry);
    }
    save(form_id, &queue);
    deliver(form_id.to_owned(), true);
}

/// Re-sends every queued envelope of every form now (the browser came back online).
fn deliver_all() {
    let forms: Vec<String> = LISTENERS.with_borrow(|l| l.keys().cloned().collect());
    for form in forms {
        deliver(form, true);
    }
}

/// Re-sends every queued envelope whenever the browser comes back online; call once at start.
pub(crate) fn retry_when_online() {
    let on_online = wasm_bindgen::prelude::Closure::<dyn Fn()>::new(deliver_all);
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    }
    // The listener lives as long as the page.
    on_online.forget();
}

/// Posts the queued envelopes of `form_id` that are due (all of them when `force`).
fn deliver(form_id: String, force: bool) {
    let now = page::now_ms();
    for entry in load(&form_id) {
        let due = force || entry.next_attempt_at <= now + 50.0;
        let claimed = due && IN_FLIGHT.with_borrow_mut(|f| f.insert(entry.id.clone()));
        if claimed {
            let form_id = form_id.clone();
            wasm_bindgen_futures::spawn_local(async move {
                attempt(&form_id, entry).await;
            });
        }
    }
}

/// The endpoint's verdict on one request.
enum Verdict {
    Acknowledged,
    Closed,
    Permanent(String),
    Transient(String),
}

async fn attempt(form_id: &str, mut entry: Entry) {
    notify(form_id, Outcome::Sending);
    let verdict = match with_proof(form_id, &mut entry).await {
        Err(reason) => Verdict::Transient(reason),
        Ok(()) => match post(&entry).await {
            Ok(200 | 201) => Verdict::Acknowledged,
            Ok(409) => Verdict::Closed,
            // The proof of work was refused (expired, or the collector's key changed): the
            // next attempt solves a new challenge.
            Ok(403) => {
                update(form_id, &entry.id, |e| Some(Entry { pow: None, ..e }));
                Verdict::Transient("HTTP 403: the proof of work was refused".to_owned())
            }
            Ok(status @ (408 | 429 | 500..=599)) => Verdict::Transient(format!("HTTP {status}")),
            Ok(status) => Verdict::Permanent(format!("HTTP {status}")),
            Err(reason) => Verdict::Transient(reason),
        },
    };
    IN_FLIGHT.with_borrow_mut(|f| f.remove(&entry.id));
    match verdict {
        Verdict::Acknowledged => {
            update(form_id, &entry.id, |_| None);
            notify(form_id, Outcome::Sent);
        }
        Verdict::Closed => {
            update(form_id, &entry.id, |_| None);
            page::console_error(&format!(
                "formseal: {} refused submission {}: the form is closed (HTTP 409)",
                entry.endpoint, entry.id
            ));
            notify(form_id, Outcome::Closed);
        }
        Verdict::Permanent(reason) => {
            update(form_id, &entry.id, |_| None);
            page::console_error(&format!(
                "formseal: {} refused submission {} ({reason}); it is dropped and not retried",
                entry.endpoint, entry.id
            ));
            notify(form_id, Outcome::Failed);
        }
        Verdict::Transient(reason) => {
            let attempts = entry.attempts.saturating_add(1);
            let delay = (FIRST_DELAY_MS * 2f64.powi(attempts.min(16) as i32 - 1)).min(MAX_DELAY_MS);
            update(form_id, &entry.id, |mut e| {
                e.attempts = attempts;
                e.next_attempt_at = page::now_ms() + delay;
                Some(e)
            });
            page::console_error(&format!(
                "formseal: sending to {} failed ({reason}); retrying in {} s",
                entry.endpoint,
                delay / 1000.0
            ));
            notify(form_id, Outcome::Retrying);
            let form_id = form_id.to_owned();
            page::set_timeout(delay, move || deliver(form_id, false));
        }
    }
}

/// Gives `entry` a fresh proof of work for its collector (kept in its queue), unless it has one
/// or its collector wants none.
async fn with_proof(form_id: &str, entry: &mut Entry) -> Result<(), String> {
    if entry.pow.as_ref().is_some_and(Proof::is_fresh) {
        return Ok(());
    }
    entry.pow = pow::proof(&entry.endpoint).await?;
    let pow = entry.pow.clone();
    update(form_id, &entry.id, |e| Some(Entry { pow, ..e }));
    Ok(())
}

/// Posts the JWE with nothing else: no cookies, no referrer, no header but its content type
/// and the proof of work.
async fn post(entry: &Entry) -> Result<u16, String> {
    let window = web_sys::window().ok_or("no window")?;
    let controller = AbortController::new().map_err(js_reason)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&entry.jwe));
    init.set_credentials(RequestCredentials::Omit);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    init.set_signal(Some(&controller.signal()));
    let request = Request::new_with_str_and_init(&entry.endpoint, &init).map_err(js_reason)?;
    request
        .headers()
        .set("Content-Type", &entry.content_type)
        .map_err(js_reason)?;
    if let Some(proof) = &entry.pow {
        request
            .headers()
            .set(pow::HEADER, &proof.payload)
            .map_err(js_reason)?;
    }
    page::set_timeout(TIMEOUT_MS, move || controller.abort());
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_reason)?;
    let response: Response = response.dyn_into().map_err(js_reason)?;
    Ok(response.status())
}

fn js_reason(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "network error".to_owned())
}

fn notify(form_id: &str, outcome: Outcome) {
    let listeners = LISTENERS.with_borrow(|l| l.get(form_id).cloned().unwrap_or_default());
    for listener in listeners {
        listener(outcome);
    }
}

fn storage_key(form_id: &str) -> String {
    format!("formseal:queue:{form_id}")
}

/// The queue of `form_id`; an unreadable one counts as empty.
fn load(form_id: &str) -> Vec<Entry> {
    let key = storage_key(form_id);
    // The in-memory copy exists only while storage refuses writes, and is then the newer one.
    let text = MEMORY
        .with_borrow(|m| m.get(&key).cloned())
        .or_else(|| page::local_storage().and_then(|s| s.get_item(&key).ok().flatten()));
    text.and_then(|t| crate::page::from_json(&t).ok())
        .unwrap_or_default()
}

fn save(form_id: &str, queue: &[Entry]) {
    let key = storage_key(form_id);
    let Ok(text) = serde_json::to_string(queue) else {
        return;
    };
    let stored = page::local_storage().is_some_and(|s| {
        if queue.is_empty() {
            s.remove_item(&key).is_ok()
        } else {
            s.set_item(&key, &text).is_ok()
        }
    });
    MEMORY.with_borrow_mut(|m| {
        if stored {
            m.remove(&key);
        } else {
            m.insert(key, text);
        }
    });
}

/// Replaces (or with `None` removes) the entry `id` of `form_id`'s queue.
fn update(form_id: &str, id: &str, change: impl FnOnce(Entry) -> Option<Entry>) {
    let mut queue = load(form_id);
    if let Some(i) = queue.iter().position(|e| e.id == id) {
        let entry = queue.remove(i);
        if let Some(entry) = change(entry) {
            queue.insert(i, entry);
        }
        save(form_id, &queue);
    }
}
