//! The visitor's consent choices in this browser: reading and keeping them, turning a decision
//! into a sealed consent record on the delivery queue, and telling the page (the loader applies
//! script gating, Consent Mode and cookie removal when it hears `formseal:consent`).
//!
//! What the banner looks like lives in `components/consent_banner.rs`; the JS API the loader
//! exposes (`formseal.consent.show/set/withdrawAll`) calls the functions at the bottom.

// The form builds use only the stored choices; the rest belongs to the banner's records
// (feature `record`, which the record build and the consent build have).
#![cfg_attr(not(feature = "record"), allow(dead_code, unused_imports))]

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use formseal_core::config::{FormConfig, LegalBasis};
use formseal_core::consent::{self, Choice, ConsentMethod, ConsentSettings, Decision};
use formseal_core::time::Date;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::delivery::{self, Entry};
use crate::{page, seal};

/// `localStorage` key prefix of a banner's stored choice; the form id follows.
pub(crate) const CHOICE_PREFIX: &str = "formseal:consent:";

/// `localStorage` key prefix of a decision made on the loader's first layer whose record is not
/// sealed yet: the choice the loader applied, with an empty record id.
const PENDING_PREFIX: &str = "formseal:pending:";

/// The event the page hears after every recorded choice.
const CHANGE_EVENT: &str = "formseal:consent";

/// The event the page hears when a banner is ready for the JS API.
const READY_EVENT: &str = "formseal:ready";

/// The choice stored for the banner `form_id`, if any and readable.
pub(crate) fn stored(form_id: &str) -> Option<Choice> {
    let text = page::local_storage()?
        .get_item(&format!("{CHOICE_PREFIX}{form_id}"))
        .ok()??;
    page::from_json(&text).ok()
}

/// The first-layer decision waiting for its record, if any.
fn pending(form_id: &str) -> Option<Choice> {
    let text = page::local_storage()?
        .get_item(&format!("{PENDING_PREFIX}{form_id}"))
        .ok()??;
    page::from_json(&text).ok()
}

fn forget_pending(form_id: &str) {
    if let Some(storage) = page::local_storage() {
        let _ = storage.remove_item(&format!("{PENDING_PREFIX}{form_id}"));
    }
}

/// The choice in force for the banner `form_id`: a first-layer decision not sealed yet (the
/// loader already applies it), else the stored one.
pub(crate) fn in_force(form_id: &str) -> Option<Choice> {
    pending(form_id).or_else(|| stored(form_id))
}

fn store(form_id: &str, choice: &Choice) {
    let Some(storage) = page::local_storage() else {
        return;
    };
    if let Ok(json) = serde_json::to_string(choice) {
        // Without storage the choice holds for this page only; the record is still sealed.
        let _ = storage.set_item(&format!("{CHOICE_PREFIX}{form_id}"), &json);
    }
}

/// Purposes granted and refused on this site's banners, for forms to follow.
#[cfg(feature = "forms")]
pub(crate) fn site_choices() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut granted = BTreeSet::new();
    let mut refused = BTreeSet::new();
    let Some(storage) = page::local_storage() else {
        return (granted, refused);
    };
    let count = storage.length().unwrap_or(0);
    let mut banners = BTreeSet::new();
    for i in 0..count {
        let Some(key) = storage.key(i).ok().flatten() else {
            continue;
        };
        if let Some(form_id) = key
            .strip_prefix(CHOICE_PREFIX)
            .or_else(|| key.strip_prefix(PENDING_PREFIX))
        {
            banners.insert(form_id.to_owned());
        }
    }
    for choice in banners.iter().filter_map(|id| in_force(id)) {
        granted.extend(choice.granted);
        refused.extend(choice.refused);
    }
    (granted, refused)
}

/// Whether the browser sends the Global Privacy Control signal.
pub(crate) fn gpc() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    js_sys::Reflect::get(&window, &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"globalPrivacyControl".into()))
        .is_ok_and(|v| v.is_truthy())
}

/// When the browser's Global Privacy Control needs a record (some `sale_or_sharing` purpose is
/// granted, or not yet refused, in the stored choice): the purposes that record starts from,
/// the stored grants, which `decide` then narrows by the signal.
pub(crate) fn gpc_record(config: &FormConfig, stored: Option<&Choice>) -> Option<BTreeSet<String>> {
    let needed = gpc()
        && config
            .purposes
            .iter()
            .filter(|p| p.sale_or_sharing && p.legal_basis == LegalBasis::Consent)
            .any(|p| stored.is_none_or(|c| !c.refused.contains(&p.id)));
    needed.then(|| {
        stored
            .map(|c| c.granted.iter().cloned().collect())
            .unwrap_or_default()
    })
}

/// Today in UTC, from the visitor's clock.
pub(crate) fn today() -> Date {
    Date::from_unix(seal::now_unix())
}

/// Records a decision: seals the consent (or withdrawal) record, queues it for delivery, keeps
/// the choice and tells the page. Nothing is kept or applied when sealing fails. A first-layer
/// decision still waiting for its record is sealed first, so that it gets its own.
pub(crate) async fn decide(
    config: &FormConfig,
    granted: &BTreeSet<String>,
    method: ConsentMethod,
) -> Result<Choice, String> {
    if let Err(reason) = seal_pending(config).await {
        page::console_error(&reason);
    }
    let (previous, choice) = record_decision(config, granted, method, seal::now_unix()).await?;
    announce(config, previous.as_ref(), &choice);
    Ok(choice)
}

/// Seals the record of the decision made on the loader's first layer, if one waits; the loader
/// has applied and announced it already. The record keeps the hour of sealing on the day of the
/// decision, and the start of that day when it is sealed on a later one. A decision made under
/// an older privacy notice than the config's now names is recorded under the notice the visitor
/// saw (and, no longer current, brings the banner back).
pub(crate) async fn seal_pending(config: &FormConfig) -> Result<Option<Choice>, String> {
    let Some(pending) = pending(&config.id) else {
        return Ok(None);
    };
    let now = seal::now_unix();
    let at = match Date::parse(&pending.decided) {
        Some(day) if day != Date::from_unix(now) => day.days_since_epoch() * 86_400,
        _ => now,
    };
    let granted: BTreeSet<String> = pending.granted.into_iter().collect();
    let choice = if pending.notice == config.privacy_notice.version {
        record_decision(config, &granted, pending.method, at).await?
    } else {
        let mut seen = config.clone();
        seen.privacy_notice.version = pending.notice;
        record_decision(&seen, &granted, pending.method, at).await?
    };
    Ok(Some(choice.1))
}

/// Seals the record of `granted` decided at `now_unix`, queues it and keeps the choice (in one
/// synchronous step after sealing, so a reload never keeps one without the other); returns the
/// choice it replaced and the new one.
async fn record_decision(
    config: &FormConfig,
    granted: &BTreeSet<String>,
    method: ConsentMethod,
    now_unix: i64,
) -> Result<(Option<Choice>, Choice), String> {
    let previous = stored(&config.id);
    let subject = page::subject_id().map_err(|e| format!("formseal: no subject id: {e}"))?;
    let decision = Decision {
        granted,
        method,
        gpc: gpc(),
        previous: previous.as_ref(),
        subject: &subject,
        now_unix,
    };
    let (envelope, choice) = consent::record(config, &decision, &mut getrandom::SysRng)
        .map_err(|e| format!("formseal: cannot record the choice: {e}"))?;
    let jwe = seal::seal_envelope(config, &envelope).await.map_err(|e| {
        format!("formseal: sealing the consent record failed, nothing was kept: {e}")
    })?;
    // The receipt names the record's SHA-256, the bytes the collector will store.
    let choice = choice.sealed_as(&jwe);
    delivery::enqueue(
        &config.id,
        Entry::new(envelope.id.clone(), config.endpoint.clone(), jwe.0),
    );
    store(&config.id, &choice);
    forget_pending(&config.id);
    Ok((previous, choice))
}

/// Dispatches `formseal:consent` on `window`: the new choice, the purposes just withdrawn and
/// the cookies they set, and whether the page should reload to stop scripts already running.
fn announce(config: &FormConfig, previous: Option<&Choice>, choice: &Choice) {
    let withdrawn: Vec<&String> = previous
        .map(|p| {
            p.granted
                .iter()
                .filter(|id| !choice.granted.contains(id))
                .collect()
        })
        .unwrap_or_default();
    let cookies: Vec<&String> = config
        .purposes
        .iter()
        .filter(|p| withdrawn.contains(&&p.id))
        .flat_map(|p| &p.cookies)
        .collect();
    let detail = json!({
        "form": config.id,
        "choice": choice,
        "withdrawn": withdrawn,
        "cookies": cookies,
        "reload": !withdrawn.is_empty() && ConsentSettings::of(config).reload_on_withdrawal,
    });
    dispatch(CHANGE_EVENT, &detail.to_string());
}

fn dispatch(name: &str, detail_json: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let init = web_sys::CustomEventInit::new();
    if let Ok(detail) = js_sys::JSON::parse(detail_json) {
        init.set_detail(&detail);
    }
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = window.dispatch_event(&event);
    }
}

/// Offers the visitor a small JSON file with their current choices, the record id and the
/// record's SHA-256 (the core's [`consent::Receipt`]).
#[cfg(feature = "banner")]
pub(crate) fn download_receipt(config: &FormConfig, choice: &Choice) {
    let receipt = consent::Receipt::new(&page::origin(), config, choice);
    let Ok(text) = serde_json::to_string_pretty(&receipt) else {
        return;
    };
    let parts = js_sys::Array::of1(&JsValue::from_str(&text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (Ok(blob), Ok(link)) = (
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options),
        document.create_element("a"),
    ) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let _ = link.set_attribute("href", &url);
    let _ = link.set_attribute(
        "download",
        &format!("privacy-choices-{}.json", choice.record),
    );
    if let Ok(link) = link.dyn_into::<web_sys::HtmlElement>() {
        link.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// What the JS API can do with a mounted banner.
#[derive(Clone)]
pub(crate) struct BannerHandle {
    /// The banner's config.
    pub(crate) config: Arc<FormConfig>,
    /// Opens the settings layer.
    #[cfg(feature = "banner")]
    pub(crate) show: Rc<dyn Fn()>,
    /// Shows a choice made outside the banner (through the API).
    pub(crate) changed: Rc<dyn Fn(Choice)>,
}

thread_local! {
    static BANNERS: RefCell<Vec<BannerHandle>> = const { RefCell::new(Vec::new()) };
}

/// Makes a mounted banner reachable from the JS API and tells the page it is ready, naming the
/// build (`banner`: the consent build with its dialog, `record`: the record build), since the
/// loader may have loaded both.
pub(crate) fn register(handle: BannerHandle) {
    let form = handle.config.id.clone();
    BANNERS.with(|b| b.borrow_mut().push(handle));
    let build = if cfg!(feature = "banner") {
        "banner"
    } else {
        "record"
    };
    dispatch(
        READY_EVENT,
        &json!({ "form": form, "build": build }).to_string(),
    );
}

fn first_banner() -> Result<BannerHandle, JsValue> {
    BANNERS
        .with(|b| b.borrow().first().cloned())
        .ok_or_else(|| JsValue::from_str("formseal: no <formseal-consent> banner is mounted"))
}

/// `formseal.consent.show()`: opens the privacy settings.
#[cfg(feature = "banner")]
#[wasm_bindgen(js_name = consentShow)]
pub fn consent_show() -> Result<(), JsValue> {
    (first_banner()?.show)();
    Ok(())
}

/// Seals the record of a decision made on the loader's first layer, if one waits, and shows the
/// choice in force on the banner. The loader calls it holding a Web Lock, one tab at a time.
#[cfg(feature = "record")]
#[wasm_bindgen(js_name = consentSeal)]
pub async fn consent_seal() -> Result<(), JsValue> {
    let banner = first_banner()?;
    let sealed = seal_pending(&banner.config).await;
    if let Some(choice) = in_force(&banner.config.id) {
        (banner.changed)(choice);
    }
    sealed.map(|_| ()).map_err(|e| JsValue::from_str(&e))
}

/// `formseal.consent.set({purpose: true|false, ...})`: changes the named purposes, keeps the
/// others as they were, records the choice (method `api`) and resolves to the stored choice.
#[cfg(feature = "record")]
#[wasm_bindgen(js_name = consentSet)]
pub async fn consent_set(changes: JsValue) -> Result<JsValue, JsValue> {
    let banner = first_banner()?;
    let mut granted = granted_now(&banner);
    let object: js_sys::Object = changes.dyn_into().map_err(|_| {
        JsValue::from_str("formseal: consent.set expects an object {purpose: true|false}")
    })?;
    for entry in js_sys::Object::entries(&object).iter() {
        let pair = js_sys::Array::from(&entry);
        let id = pair.get(0).as_string().unwrap_or_default();
        if !asks_for(&banner, &id, "consent.set")? {
            continue;
        }
        if pair.get(1).is_truthy() {
            granted.insert(id);
        } else {
            granted.remove(&id);
        }
    }
    apply_from_api(&banner, &granted, ConsentMethod::Api).await
}

/// **Allow** on an embed's placeholder (the loader's): grants the embed's purposes, keeps the
/// others as they were, records the choice (method `placeholder`) and resolves to the stored
/// choice.
#[cfg(feature = "record")]
#[wasm_bindgen(js_name = consentAllow)]
pub async fn consent_allow(purposes: Vec<String>) -> Result<JsValue, JsValue> {
    let banner = first_banner()?;
    let mut granted = granted_now(&banner);
    for id in purposes {
        if asks_for(&banner, &id, "placeholder")? {
            granted.insert(id);
        }
    }
    apply_from_api(&banner, &granted, ConsentMethod::Placeholder).await
}

/// The purposes the choice in force grants.
#[cfg(feature = "record")]
fn granted_now(banner: &BannerHandle) -> BTreeSet<String> {
    in_force(&banner.config.id)
        .map(|c| c.granted.into_iter().collect())
        .unwrap_or_default()
}

/// Whether the banner asks for consent to purpose `id` (others need no grant); an error naming
/// `caller` for a purpose the config does not have.
#[cfg(feature = "record")]
fn asks_for(banner: &BannerHandle, id: &str, caller: &str) -> Result<bool, JsValue> {
    match banner.config.purpose(id) {
        Some(purpose) => Ok(purpose.legal_basis == LegalBasis::Consent),
        None => Err(JsValue::from_str(&format!(
            "formseal: {caller}: unknown purpose \"{id}\""
        ))),
    }
}

/// `formseal.consent.withdrawAll()`: refuses every purpose (method `api`).
#[cfg(feature = "record")]
#[wasm_bindgen(js_name = consentWithdrawAll)]
pub async fn consent_withdraw_all() -> Result<JsValue, JsValue> {
    apply_from_api(&first_banner()?, &BTreeSet::new(), ConsentMethod::Api).await
}

async fn apply_from_api(
    banner: &BannerHandle,
    granted: &BTreeSet<String>,
    method: ConsentMethod,
) -> Result<JsValue, JsValue> {
    let choice = decide(&banner.config, granted, method)
        .await
        .map_err(|e| JsValue::from_str(&e))?;
    (banner.changed)(choice.clone());
    let json = serde_json::to_string(&choice).map_err(|e| JsValue::from_str(&e.to_string()))?;
    js_sys::JSON::parse(&json)
}
