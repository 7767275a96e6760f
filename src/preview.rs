//! The builder's live preview: the real form or banner components, rendered from a config held
//! in memory, that seal nothing, store nothing and send nothing. Instead of sealing they report
//! the plaintext that would be sealed for the answers (or the decision) so far.
//!
//! The `<formseal-form>` element never takes this path: only [`mount`] passes a [`Preview`],
//! and only the builder calls it (feature `preview`).

#[cfg(not(feature = "preview"))]
pub use disabled::Preview;
#[cfg(feature = "preview")]
pub use enabled::{Mounted, Preview, mount, paint_first_layer_with};

/// What the preview would send right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The envelopes' plaintext (a JSON array, pretty-printed), when the answers could be sent.
    pub plaintext: Option<String>,
    /// Why the answers could not be sent yet, one worded problem per line (`field: problem`).
    pub problems: Vec<String>,
}

#[cfg(not(feature = "preview"))]
mod disabled {
    #[cfg(feature = "banner")]
    use std::collections::BTreeSet;

    #[cfg(feature = "forms")]
    use formseal_core::answers::Answers;
    use formseal_core::config::FormConfig;
    #[cfg(feature = "banner")]
    use formseal_core::consent::{Choice, ConsentMethod};

    /// Without the `preview` feature there is no preview to make: this type has no value, so
    /// the compiler drops every preview branch from the widget.
    #[derive(Clone)]
    pub struct Preview(std::convert::Infallible);

    impl Preview {
        #[cfg(feature = "forms")]
        pub(crate) fn answers(&self, _: &FormConfig, _: &Answers, _: &str) {
            match self.0 {}
        }

        #[cfg(feature = "banner")]
        pub(crate) fn decision(
            &self,
            _: &FormConfig,
            _: &BTreeSet<String>,
            _: ConsentMethod,
            _: Option<&Choice>,
        ) -> Option<Choice> {
            match self.0 {}
        }
    }
}

#[cfg(feature = "preview")]
mod enabled {
    use std::collections::{BTreeMap, BTreeSet};
    use std::rc::Rc;
    use std::sync::Arc;

    use formseal_core::Error;
    use formseal_core::answers::Answers;
    use formseal_core::config::{FormConfig, FormKind};
    use formseal_core::consent::{self, ConsentMethod, ConsentState, Decision};
    use formseal_core::envelope::{self, SubmissionInput};
    use leptos::prelude::*;
    use leptos::tachys::view::any_view::AnyViewState;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{Element, HtmlElement};

    use super::Report;
    use crate::components::consent_banner::ConsentBanner;
    use crate::components::form::Form;
    use crate::{i18n, seal};

    /// Stands in for the visitor's random subject id in previewed envelopes.
    const SUBJECT: &str = "(the visitor's random id)";

    thread_local! {
        /// The consent loader's `paintFirstLayer(shadow, config, lang)`, when the page gave it.
        static PAINTER: std::cell::RefCell<Option<js_sys::Function>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Has banner previews paint their first layer with `painter`, the consent loader's
    /// `paintFirstLayer`: the function that paints it on visitors' pages, so the two cannot
    /// drift apart. Without it the preview shows the widget's own first layer.
    pub fn paint_first_layer_with(painter: js_sys::Function) {
        PAINTER.with(|p| *p.borrow_mut() = Some(painter));
    }

    /// Paints the first layer of `config` into `shadow` with the loader's painter, if there is one.
    fn paint_first_layer(shadow: &web_sys::ShadowRoot, config: &FormConfig, lang: &str) {
        let Some(painter) = PAINTER.with(|p| p.borrow().clone()) else {
            return;
        };
        let Some(config) = serde_json::to_string(config)
            .ok()
            .and_then(|json| js_sys::JSON::parse(&json).ok())
        else {
            return;
        };
        if let Err(error) = painter.call3(&JsValue::NULL, shadow, &config, &lang.into()) {
            web_sys::console::error_2(&"formseal: the loader's first layer failed".into(), &error);
        }
    }

    /// Where a previewed form or banner reports to; cheap to clone.
    #[derive(Clone)]
    pub struct Preview(Rc<dyn Fn(Report)>);

    impl Preview {
        /// A preview that hands every report to `report`.
        pub fn new(report: impl Fn(Report) + 'static) -> Self {
            Self(Rc::new(report))
        }

        /// Reports what a form with these answers would seal.
        pub(crate) fn answers(&self, config: &FormConfig, answers: &Answers, lang: &str) {
            let consent = ConsentState {
                notice_version: config.privacy_notice.version.clone(),
                granted: BTreeSet::new(),
            };
            let input = SubmissionInput {
                answers,
                consent: &consent,
                subject: SUBJECT,
                now_unix: seal::now_unix(),
                url_params: &BTreeMap::new(),
                lang: Some(lang),
            };
            let report = match envelope::prepare_envelopes(config, &input, &mut getrandom::SysRng) {
                Ok(prepared) => plaintext(&prepared.envelopes().collect::<Vec<_>>()),
                Err(Error::InvalidAnswers(problems)) => Report {
                    plaintext: None,
                    problems: problems
                        .iter()
                        .map(|p| format!("{}: {}", p.field, i18n::problem(lang, &p.problem)))
                        .collect(),
                },
                Err(other) => failed(&other),
            };
            (self.0)(report);
        }

        /// Reports the consent record a banner decision would seal, and returns the choice the
        /// browser would keep (the preview keeps it only in memory).
        pub(crate) fn decision(
            &self,
            config: &FormConfig,
            granted: &BTreeSet<String>,
            method: ConsentMethod,
            previous: Option<&consent::Choice>,
        ) -> Option<consent::Choice> {
            let decision = Decision {
                granted,
                method,
                gpc: false,
                previous,
                subject: SUBJECT,
                now_unix: seal::now_unix(),
            };
            match consent::record(config, &decision, &mut getrandom::SysRng) {
                Ok((envelope, choice)) => {
                    (self.0)(plaintext(&[&envelope]));
                    Some(choice)
                }
                Err(error) => {
                    (self.0)(failed(&error));
                    None
                }
            }
        }
    }

    fn plaintext<T: serde::Serialize>(envelopes: &[T]) -> Report {
        match serde_json::to_string_pretty(envelopes) {
            Ok(text) => Report {
                plaintext: Some(text),
                problems: Vec::new(),
            },
            Err(error) => failed(&error),
        }
    }

    fn failed(error: &dyn std::fmt::Display) -> Report {
        Report {
            plaintext: None,
            problems: vec![error.to_string()],
        }
    }

    /// A mounted preview; dropping it removes the rendered form.
    pub struct Mounted(#[allow(dead_code)] UnmountHandle<AnyViewState>);

    /// Renders `config` in `lang` inside `host`'s shadow root (attached on the first call, with
    /// the widget's stylesheet), replacing what an earlier call rendered there.
    pub fn mount(
        host: &Element,
        config: FormConfig,
        lang: &str,
        preview: Preview,
    ) -> Result<Mounted, String> {
        let shadow = match host.shadow_root() {
            Some(shadow) => shadow,
            None => crate::mount::attach(host).ok_or("cannot attach a shadow root")?,
        };
        shadow.set_inner_html("");
        if config.kind == FormKind::Consent {
            paint_first_layer(&shadow, &config, lang);
        }
        let container = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("div").ok())
            .and_then(|d| d.dyn_into::<HtmlElement>().ok())
            .ok_or("no document")?;
        container.set_class_name("fs-root");
        shadow
            .append_child(&container)
            .map_err(|_| "cannot render into the shadow root")?;
        let config = Arc::new(config);
        let lang = lang.to_owned();
        let host = host.clone();
        let handle = if config.kind == FormKind::Consent {
            mount_to(container, move || {
                view! { <ConsentBanner config lang host preview/> }.into_any()
            })
        } else {
            mount_to(container, move || {
                view! { <Form config lang host preview/> }.into_any()
            })
        };
        Ok(Mounted(handle))
    }
}
