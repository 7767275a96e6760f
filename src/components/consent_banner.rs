//! The consent banner: a first layer with Accept all, Reject all and Choose (same size, same
//! weight: a weaker reject button is unlawful), and a second layer, a modal dialog with one
//! switch per purpose, that also serves as the privacy settings the visitor can open at any
//! time to change or withdraw consent in one click.
//!
//! The first layer is not modal: the page stays readable and usable behind it. On a page the
//! consent loader has painted it on (without wasm), that layer is the loader's: its buttons
//! are the loader's (Accept/Reject apply at once, `consent::seal_pending` seals the record
//! afterwards) and this component only shows or hides it with the layer it keeps in
//! `data-state`. Every other decision goes through `consent::decide`, which seals the record
//! before anything is kept.

use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use formseal_core::config::{FormConfig, LegalBasis};
use formseal_core::consent::{Choice, ConsentMethod};
use leptos::html;
use leptos::prelude::*;
use web_sys::Element;

use super::purpose_toggle::PurposeToggle;
use crate::consent::{self, BannerHandle};
use crate::delivery;
use crate::i18n::{self, Builtin};
use crate::page;
use crate::preview::Preview;

/// Which layer the visitor sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    /// Nothing: a current choice is stored.
    Hidden,
    /// The first layer.
    Banner,
    /// The privacy settings dialog.
    Settings,
}

impl Layer {
    fn as_str(self) -> &'static str {
        match self {
            Self::Hidden => "hidden",
            Self::Banner => "banner",
            Self::Settings => "settings",
        }
    }
}

/// The banner and privacy settings of one consent config.
#[component]
pub(crate) fn ConsentBanner(
    /// The checked consent config whose key matches the pinned key id.
    config: Arc<FormConfig>,
    /// The language to show.
    lang: String,
    /// The `<formseal-consent>` element, which mirrors the layer in `data-state`.
    host: Element,
    /// Set only by the builder: a decision is reported, not sealed, kept or announced.
    #[prop(optional)]
    preview: Option<Preview>,
) -> impl IntoView {
    let previewing = preview.is_some();
    let stored = if previewing {
        None
    } else {
        consent::in_force(&config.id)
    };
    // The first layer the loader painted into the same shadow root (or the builder's preview,
    // with the loader's painter), if it did.
    let painted = host
        .shadow_root()
        .and_then(|shadow| shadow.query_selector("section.fs-banner").ok().flatten());
    let own_first_layer = painted.is_none();
    #[cfg(feature = "preview")]
    let preview_layer = painted.clone().filter(|_| previewing);
    let current = stored
        .as_ref()
        .is_some_and(|c| c.is_current(&config, consent::today()));
    let gpc = !previewing && consent::gpc();
    let choice = RwSignal::new(stored.clone());
    let layer = RwSignal::new(if current {
        Layer::Hidden
    } else {
        Layer::Banner
    });
    let return_to = RwSignal::new(Layer::Hidden);
    let switches = RwSignal::new(BTreeSet::<String>::new());
    let busy = RwSignal::new(false);
    let status = RwSignal::new(None::<Builtin>);
    let dialog_ref = NodeRef::<html::Dialog>::new();

    let text = {
        let config = Arc::clone(&config);
        let lang = lang.clone();
        move |builtin: Builtin| -> String {
            i18n::override_key(builtin)
                .and_then(|key| config.consent.as_ref()?.texts.get(key))
                .map(|t| i18n::pick(t, &lang))
                .unwrap_or_else(|| i18n::builtin(&lang, builtin).to_owned())
        }
    };
    let asked: BTreeSet<String> = config
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
        .map(|p| p.id.clone())
        .collect();

    // One path for every decision: seal, queue, keep, tell the page; then close the layers.
    let decide = {
        let config = Arc::clone(&config);
        move |granted: BTreeSet<String>, method: ConsentMethod| {
            if busy.get_untracked() {
                return;
            }
            if let Some(preview) = &preview {
                let previous = choice.get_untracked();
                if let Some(made) = preview.decision(&config, &granted, method, previous.as_ref()) {
                    choice.set(Some(made));
                    status.set(Some(Builtin::Saved));
                    layer.set(Layer::Banner);
                }
                return;
            }
            busy.set(true);
            let config = Arc::clone(&config);
            leptos::task::spawn_local(async move {
                match consent::decide(&config, &granted, method).await {
                    Ok(made) => {
                        let keeps_banner = !made.is_current(&config, consent::today());
                        choice.set(Some(made));
                        status.set(Some(Builtin::Saved));
                        layer.set(if keeps_banner {
                            Layer::Banner
                        } else {
                            Layer::Hidden
                        });
                    }
                    Err(reason) => {
                        page::console_error(&reason);
                        status.set(Some(Builtin::NotSaved));
                    }
                }
                busy.set(false);
            });
        }
    };

    let open_settings = move || {
        let from = layer.get_untracked();
        if from == Layer::Settings {
            return;
        }
        return_to.set(from);
        let on: BTreeSet<String> = choice
            .get_untracked()
            .map(|c| c.granted.into_iter().collect())
            .unwrap_or_default();
        switches.set(on);
        status.set(None);
        layer.set(Layer::Settings);
    };

    // Global Privacy Control refuses sale/sharing purposes without a click, and says so in a
    // record of its own.
    if let Some(granted) = consent::gpc_record(&config, stored.as_ref()) {
        decide(granted, ConsentMethod::Gpc);
    }

    // Records queued on an earlier page (offline, a failed request) go out now, and again when
    // the browser comes back online. A preview has no queue and is no page's banner.
    if !previewing {
        delivery::register(&config.id, Rc::new(|_| {}));
        register_banner(&config, open_settings, choice, layer);
    }
    let first_layer_visible = move || {
        let now = layer.get();
        now == Layer::Banner || (now == Layer::Settings && return_to.get() == Layer::Banner)
    };
    Effect::new(move |_| {
        let now = layer.get();
        let _ = host.set_attribute("data-state", now.as_str());
        if let Some(section) = &painted {
            let _ = if first_layer_visible() {
                section.remove_attribute("hidden")
            } else {
                section.set_attribute("hidden", "")
            };
        }
        let Some(dialog) = dialog_ref.get() else {
            return;
        };
        if now == Layer::Settings && !dialog.open() {
            let _ = dialog.show_modal();
        } else if now != Layer::Settings && dialog.open() {
            dialog.close();
        }
    });
    // Escape, or the close button: back to where the visitor came from, nothing recorded.
    let on_close = move |_| {
        if layer.get_untracked() == Layer::Settings {
            layer.set(return_to.get_untracked());
        }
    };

    let id = config.id.clone();
    let title_id = format!("fs-{id}-title");
    let settings_title_id = format!("fs-{id}-settings-title");
    let notice_url = config.privacy_notice.url.clone();
    let title = i18n::pick(&config.texts.title, &lang);
    let intro = config.texts.intro.as_ref().map(|t| i18n::pick(t, &lang));

    let accept_all = {
        let decide = decide.clone();
        let asked = asked.clone();
        move |method: ConsentMethod| decide(asked.clone(), method)
    };
    let reject_all = {
        let decide = decide.clone();
        move |method: ConsentMethod| decide(BTreeSet::new(), method)
    };
    // On a page the loader's own buttons decide; in the builder's preview they report here.
    #[cfg(feature = "preview")]
    if let Some(section) = &preview_layer {
        let accept_all = accept_all.clone();
        let reject_all = reject_all.clone();
        wire_preview(section, move |action| match action.as_str() {
            "accept-all" => accept_all(ConsentMethod::Banner),
            "reject-all" => reject_all(ConsentMethod::Banner),
            _ => open_settings(),
        });
    }
    let save = {
        let decide = decide.clone();
        move || decide(switches.get_untracked(), ConsentMethod::Settings)
    };
    let toggles = config
        .purposes
        .iter()
        .map(|purpose| {
            let locked = gpc && purpose.sale_or_sharing;
            view! {
                <PurposeToggle
                    form_id=id.clone()
                    purpose=purpose.clone()
                    lang=lang.clone()
                    switches
                    gpc_locked=locked
                />
            }
        })
        .collect_view();
    let receipt = {
        let config = Arc::clone(&config);
        move |_| {
            if let Some(made) = choice.get_untracked() {
                consent::download_receipt(&config, &made);
            }
        }
    };
    let withdraw_label = {
        let text = text.clone();
        move || {
            let granted_any = choice.with(|c| c.as_ref().is_some_and(|c| !c.granted.is_empty()));
            text(if granted_any {
                Builtin::WithdrawAll
            } else {
                Builtin::RejectAll
            })
        }
    };
    let status_text = {
        let text = text.clone();
        move || status.get().map(&text).unwrap_or_default()
    };

    let first_layer = own_first_layer.then(|| {
        view! {
            <section
                class="fs-banner"
                aria-labelledby=title_id.clone()
                hidden=move || !first_layer_visible()
            >
                <h2 id=title_id.clone() class="fs-title">{title.clone()}</h2>
                {intro.clone().map(|t| view! { <p class="fs-intro">{t}</p> })}
                <p class="fs-privacy">
                    <a href=notice_url.clone() target="_blank" rel="noopener noreferrer">
                        {text(Builtin::PrivacyNotice)}
                    </a>
                </p>
                <div class="fs-choices">
                    <button type="button" class="fs-choice" data-action="accept-all"
                        disabled=move || busy.get()
                        on:click={
                            let accept_all = accept_all.clone();
                            move |_| accept_all(ConsentMethod::Banner)
                        }>
                        {text(Builtin::AcceptAll)}
                    </button>
                    <button type="button" class="fs-choice" data-action="reject-all"
                        disabled=move || busy.get()
                        on:click={
                            let reject_all = reject_all.clone();
                            move |_| reject_all(ConsentMethod::Banner)
                        }>
                        {text(Builtin::RejectAll)}
                    </button>
                    <button type="button" class="fs-choice" data-action="choose"
                        disabled=move || busy.get()
                        on:click=move |_| open_settings()>
                        {text(Builtin::Choose)}
                    </button>
                </div>
            </section>
        }
    });

    view! {
        {first_layer}
        <dialog
            class="fs-settings"
            aria-labelledby=settings_title_id.clone()
            node_ref=dialog_ref
            on:close=on_close
        >
            <h2 id=settings_title_id.clone() class="fs-title">{text(Builtin::Settings)}</h2>
            {intro.map(|t| view! { <p class="fs-intro">{t}</p> })}
            <ul class="fs-purposes">{toggles}</ul>
            <div class="fs-choices">
                <button type="button" class="fs-choice" data-action="accept-all"
                    disabled=move || busy.get()
                    on:click=move |_| accept_all(ConsentMethod::Settings)>
                    {text(Builtin::AcceptAll)}
                </button>
                <button type="button" class="fs-choice" data-action="withdraw-all"
                    disabled=move || busy.get()
                    on:click=move |_| reject_all(ConsentMethod::Settings)>
                    {withdraw_label}
                </button>
                <button type="button" class="fs-choice" data-action="save"
                    disabled=move || busy.get()
                    on:click=move |_| save()>
                    {text(Builtin::Save)}
                </button>
            </div>
            <p role="status" aria-live="polite" class="fs-status">{status_text}</p>
            <p class="fs-settings-links">
                <a href=notice_url target="_blank" rel="noopener noreferrer">
                    {text(Builtin::PrivacyNotice)}
                </a>
                <button type="button" class="fs-link" data-action="receipt"
                    hidden=move || choice.with(Option::is_none)
                    on:click=receipt>
                    {text(Builtin::Receipt)}
                </button>
            </p>
            <button type="button" class="fs-close" data-action="close"
                on:click=move |_| layer.set(return_to.get_untracked())>
                {text(Builtin::Close)}
            </button>
        </dialog>
    }
}

#[cfg(feature = "preview")]
/// Sends the clicks on the buttons of the painted first layer `section` to `on_action`, with
/// the button's `data-action`.
fn wire_preview(section: &Element, on_action: impl Fn(String) + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;

    let on_click = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
        let action = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|el| el.closest("button[data-action]").ok().flatten())
            .and_then(|button| button.get_attribute("data-action"));
        if let Some(action) = action {
            on_action(action);
        }
    });
    let _ = section.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    // It lives as long as the section, which the next preview replaces.
    on_click.forget();
}

/// Makes this banner the page's: the JS API's `show` opens its settings, and a choice made
/// through the API (or another banner) updates it.
fn register_banner(
    config: &Arc<FormConfig>,
    open_settings: impl Fn() + 'static,
    choice: RwSignal<Option<Choice>>,
    layer: RwSignal<Layer>,
) {
    consent::register(BannerHandle {
        config: Arc::clone(config),
        show: Rc::new(open_settings),
        changed: Rc::new({
            let config = Arc::clone(config);
            move |made: Choice| {
                let done = made.is_current(&config, consent::today());
                choice.set(Some(made));
                if done && layer.get_untracked() == Layer::Banner {
                    layer.set(Layer::Hidden);
                }
            }
        }),
    });
}
