//! The record build's start (`formseal-record.js`): the banner's consent records without any UI
//! and without Leptos. On a first visit the loader paints the first layer itself; Accept all
//! and Reject all need only this to be sealed. It checks the banner's config exactly as the
//! consent build does (`trust`, fail closed), sends the records still queued, records a Global
//! Privacy Control refusal, and then answers the JS API (`consentSeal`, `consentSet`,
//! `consentWithdrawAll`). Choose and the privacy settings are the consent build's dialog, which
//! the loader loads when they are opened.

use std::rc::Rc;
use std::sync::Arc;

use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentMethod;
use web_sys::{Element, ShadowRootInit, ShadowRootMode};

use crate::consent::{self, BannerHandle};
use crate::trust::{self, CONSENT_TAG};
use crate::{delivery, page};

/// Finds the page's banner, checks its config and makes it reachable from the JS API.
pub(crate) fn start() {
    let host = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(CONSENT_TAG).ok().flatten());
    let Some(host) = host else {
        page::console_error("formseal: the record build found no <formseal-consent> element");
        return;
    };
    delivery::retry_when_online();
    wasm_bindgen_futures::spawn_local(async move {
        match trust::load(&host).await {
            Ok(config) => ready(&host, Arc::new(config)).await,
            Err(reason) => fail_closed(&host, &reason),
        }
    });
}

/// Sends what waits, records a GPC refusal the stored choice lacks, and registers the banner
/// (which tells the loader it is ready: after the GPC record, so nothing races it).
async fn ready(host: &Element, config: Arc<FormConfig>) {
    delivery::register(&config.id, Rc::new(|_| {}));
    let stored = consent::in_force(&config.id);
    if let Some(granted) = consent::gpc_record(&config, stored.as_ref())
        && let Err(reason) = consent::decide(&config, &granted, ConsentMethod::Gpc).await
    {
        page::console_error(&reason);
    }
    let host = host.clone();
    let asked = config.clone();
    consent::register(BannerHandle {
        config,
        // A current choice (one made through the API, say) answers the question the first
        // layer asks; a decision sealed under an older notice leaves the new one asked.
        changed: Rc::new(move |choice| {
            if choice.is_current(&asked, consent::today()) {
                hide_first_layer(&host);
            }
        }),
    });
}

/// Hides the first layer the loader painted, as its own buttons do.
fn hide_first_layer(host: &Element) {
    let layer = host
        .shadow_root()
        .and_then(|shadow| shadow.query_selector(".fs-banner").ok().flatten());
    if let Some(layer) = layer {
        let _ = layer.set_attribute("hidden", "");
        let _ = host.set_attribute("data-state", "hidden");
    }
}

/// Fails closed in the shadow root the loader painted the first layer into (or a new one): no
/// decision made on it could be sealed.
fn fail_closed(host: &Element, reason: &str) {
    let shadow = host.shadow_root().or_else(|| {
        host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
            .ok()
    });
    match shadow {
        Some(shadow) => trust::fail_closed(host, &shadow, reason),
        None => page::console_error(reason),
    }
}
