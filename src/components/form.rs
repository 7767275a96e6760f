//! The whole form: title, intro, every field in config order, the privacy notice link, the
//! submit button and the status line; and the submit path: check the answers, seal them, queue
//! the ciphertext and hand it to delivery.
//!
//! It never sends answers itself: only `delivery` posts, and only sealed envelopes.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use formseal_core::answers::{self, AnswerProblem};
use formseal_core::config::{FieldKind, FormConfig, LegalBasis};
use formseal_core::consent::ConsentState;
use formseal_core::envelope::SubmissionInput;
use formseal_core::time::Date;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use super::checkbox_field::CheckboxField;
use super::choice_field::ChoiceField;
use super::form_state::FormState;
use super::honeypot::Honeypot;
use super::rating_field::RatingField;
use super::status::{Phase, Status};
use super::text_field::TextField;
use crate::delivery::{self, Entry, Outcome};
use crate::i18n::{self, Builtin};
use crate::{consent, page, seal};

/// A submit sooner than this after rendering is taken for a bot: it is acknowledged, not sent.
const MIN_FILL_MS: f64 = 2_000.0;

/// One rendered form config.
#[component]
pub(crate) fn Form(
    /// The checked config whose key matches the pinned key id.
    config: Arc<FormConfig>,
    /// The language to show.
    lang: String,
    /// The `<formseal-form>` element, which mirrors the state in `data-state`.
    host: Element,
) -> impl IntoView {
    let state = FormState {
        config: Arc::clone(&config),
        lang: Arc::from(lang.as_str()),
        answers: RwSignal::new(BTreeMap::new()),
        errors: RwSignal::new(BTreeMap::new()),
    };
    let phase = RwSignal::new(Phase::Idle);
    let trapped = RwSignal::new(false);
    let form_ref = NodeRef::<html::Form>::new();
    let rendered_at = page::now_ms();

    Effect::new(move |_| {
        let _ = host.set_attribute("data-state", phase.get().as_str());
    });
    delivery::register(
        &config.id,
        Rc::new(move |outcome| {
            let next = match outcome {
                Outcome::Sending => Phase::Sending,
                Outcome::Sent => Phase::Sent,
                Outcome::Retrying => Phase::Retrying,
                Outcome::Failed => Phase::Failed,
            };
            let _ = phase.try_set(next);
        }),
    );

    let on_submit = {
        let state = state.clone();
        move |ev: web_sys::SubmitEvent| {
            ev.prevent_default();
            // A second click, or Enter while sending, never seals twice.
            if phase.get_untracked().busy() {
                return;
            }
            if trapped.get_untracked() || page::now_ms() - rendered_at < MIN_FILL_MS {
                phase.set(Phase::Sent);
                return;
            }
            let answers = state.answers.get_untracked();
            let config = Arc::clone(&state.config);
            let consent = banner_consent(&config).with_form_answers(&config, &answers);
            let today = Date::from_unix(seal::now_unix());
            let problems = answers::validate(&config, &answers, &consent, today);
            if !problems.is_empty() {
                show_problems(&state, &problems, form_ref);
                phase.set(Phase::Error);
                return;
            }
            state.errors.set(BTreeMap::new());
            phase.set(Phase::Sending);
            leptos::task::spawn_local(async move {
                if let Err(reason) = seal_and_queue(&config, &answers).await {
                    page::console_error(&reason);
                    phase.set(Phase::Failed);
                }
            });
        }
    };

    let texts = &config.texts;
    let title_id = format!("fs-{}-title", config.id);
    let title = state.text(&texts.title);
    let intro = texts
        .intro
        .as_ref()
        .map(|t| view! { <p class="fs-intro">{state.text(t)}</p> });
    let submit = texts.submit.as_ref().map_or_else(
        || i18n::builtin(&lang, Builtin::Submit).to_owned(),
        |t| state.text(t),
    );
    let success = texts.success.as_ref().map(|t| state.text(t));
    let refused = refused_on_banner(&config);
    let fields = config
        .fields
        .iter()
        .filter(|field| !refused.contains(&field.id))
        .map(|field| {
            let state = state.clone();
            let field = field.clone();
            match field.kind {
                FieldKind::Text
                | FieldKind::Email
                | FieldKind::Tel
                | FieldKind::Number
                | FieldKind::Date
                | FieldKind::Textarea => view! { <TextField state field/> }.into_any(),
                FieldKind::Select | FieldKind::Radio | FieldKind::Likert => {
                    view! { <ChoiceField state field/> }.into_any()
                }
                FieldKind::Checkbox | FieldKind::Consent => {
                    view! { <CheckboxField state field/> }.into_any()
                }
                FieldKind::Rating => view! { <RatingField state field/> }.into_any(),
                // A hidden value comes only from an allow-listed URL parameter, read when
                // sealing; there is nothing to show.
                FieldKind::Hidden => ().into_any(),
                // The survey question types get their own components with the multi-page UI
                // (issue 6); until then they are not shown.
                FieldKind::Matrix | FieldKind::Ranking | FieldKind::File => ().into_any(),
            }
        })
        .collect_view();

    view! {
        <form
            class="fs-form"
            novalidate=true
            data-form=config.id.clone()
            data-state=move || phase.get().as_str()
            aria-labelledby=title_id.clone()
            node_ref=form_ref
            on:submit=on_submit
        >
            <h2 id=title_id.clone() class="fs-title">{title}</h2>
            {intro}
            {fields}
            <Honeypot form_id=config.id.clone() filled=trapped/>
            <p class="fs-privacy">
                <a href=config.privacy_notice.url.clone() target="_blank" rel="noopener noreferrer">
                    {i18n::builtin(&lang, Builtin::PrivacyNotice)}
                </a>
            </p>
            <button type="submit" class="fs-submit" disabled=move || phase.get().busy()>
                {submit}
            </button>
            <Status phase lang=lang.clone() success/>
        </form>
    }
}

/// Seals the answers and queues the ciphertext for delivery (before any request is made).
async fn seal_and_queue(
    config: &FormConfig,
    answers: &formseal_core::answers::Answers,
) -> Result<(), String> {
    let subject = page::subject_id().map_err(|e| format!("formseal: no subject id: {e}"))?;
    let url_params = page::url_params();
    let consent = banner_consent(config);
    let input = SubmissionInput {
        answers,
        consent: &consent,
        subject: &subject,
        now_unix: seal::now_unix(),
        url_params: &url_params,
    };
    let sealed = seal::seal(config, &input)
        .await
        .map_err(|e| format!("formseal: sealing failed, nothing was sent: {e}"))?;
    delivery::enqueue(
        &config.id,
        Entry::new(sealed.id, config.endpoint.clone(), sealed.jwe.0),
    );
    Ok(())
}

/// The consent the visitor gave on this site's banner, as far as this form's purposes go (the
/// form's own consent boxes are added when it is submitted).
fn banner_consent(config: &FormConfig) -> ConsentState {
    let (granted, _) = consent::site_choices();
    ConsentState {
        notice_version: config.privacy_notice.version.clone(),
        granted,
    }
}

/// Fields not shown because the visitor refused all their purposes on the banner and the form
/// has no consent box that could grant one of them. Their values are never sent either way:
/// minimisation drops fields without an allowed purpose.
fn refused_on_banner(config: &FormConfig) -> BTreeSet<String> {
    let (_, refused) = consent::site_choices();
    let grantable: BTreeSet<&String> = config
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Consent)
        .flat_map(|f| &f.purposes)
        .collect();
    config
        .fields
        .iter()
        .filter(|f| f.kind != FieldKind::Consent && !f.purposes.is_empty())
        .filter(|f| {
            f.purposes.iter().all(|id| {
                refused.contains(id)
                    && !grantable.contains(id)
                    && config
                        .purpose(id)
                        .is_some_and(|p| p.legal_basis == LegalBasis::Consent)
            })
        })
        .map(|f| f.id.clone())
        .collect()
}

/// Words each problem next to its field and moves focus to the first invalid field.
fn show_problems(
    state: &FormState,
    problems: &[answers::FieldProblem],
    form_ref: NodeRef<html::Form>,
) {
    let mut errors = BTreeMap::new();
    for problem in problems {
        // A required purpose without a consent box to tick has no field to show it at.
        if problem.field.is_empty() {
            continue;
        }
        errors
            .entry(problem.field.clone())
            .or_insert_with(|| i18n::problem(&state.lang, &problem.problem));
    }
    let unplaced = problems
        .iter()
        .filter(|p| p.field.is_empty())
        .filter_map(|p| match &p.problem {
            AnswerProblem::ConsentRequired { purpose } => Some(purpose.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>();
    if !unplaced.is_empty() {
        page::console_error(&format!(
            "formseal: purposes {} are required but no consent field grants them",
            unplaced.join(", ")
        ));
    }
    let first = state
        .config
        .fields
        .iter()
        .find(|f| errors.contains_key(&f.id))
        .map(|f| state.dom_id(&f.id));
    state.errors.set(errors);
    if let (Some(name), Some(form)) = (first, form_ref.get_untracked()) {
        let selector = format!("[name=\"{name}\"]");
        if let Some(input) = form
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = input.focus();
        }
    }
}
