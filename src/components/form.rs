//! The whole form: title, intro, every field in config order, the privacy notice link, the
//! submit button and the status line; and the submit path: check the answers, seal them, queue
//! the ciphertext and hand it to delivery.
//!
//! It never sends answers itself: only `delivery` posts, and only sealed envelopes.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use formseal_core::answers::{self, AnswerProblem};
use formseal_core::config::{FieldKind, FormConfig, LegalBasis, Page};
use formseal_core::consent::ConsentState;
use formseal_core::envelope::SubmissionInput;
use formseal_core::logic::Visibility;
use formseal_core::time::Date;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use super::checkbox_field::CheckboxField;
use super::choice_field::ChoiceField;
use super::draft;
#[cfg(feature = "survey")]
use super::file_field::FileField;
use super::form_state::FormState;
use super::honeypot::Honeypot;
#[cfg(feature = "survey")]
use super::matrix_field::MatrixField;
#[cfg(feature = "survey")]
use super::ranking_field::RankingField;
#[cfg(feature = "survey")]
use super::rating_field::RatingField;
use super::status::{Phase, Status};
use super::text_field::TextField;
use crate::delivery::{self, Entry, Outcome};
use crate::i18n::{self, Builtin};
use crate::preview::Preview;
use crate::{consent, page, pow, seal};

/// A submit sooner than this after rendering is taken for a bot: it is acknowledged, not sent.
const MIN_FILL_MS: f64 = 2_000.0;

/// One rendered form config: a single page, or a survey's pages one at a time with a progress
/// line and Back / Next, each page checked before Next. Fields and pages hidden by the config's
/// conditions are not shown; their answers are dropped before sealing (by the core).
#[component]
pub(crate) fn Form(
    /// The checked config whose key matches the pinned key id.
    config: Arc<FormConfig>,
    /// The language to show.
    lang: String,
    /// The `<formseal-form>` element, which mirrors the state in `data-state`.
    host: Element,
    /// Set only by the builder: seal and send nothing, report the plaintext instead; no
    /// draft, no banner choices, no minimum fill time.
    #[prop(optional)]
    preview: Option<Preview>,
) -> impl IntoView {
    let previewing = preview.is_some();
    let drafts = config.save_draft && !previewing;
    let draft = if drafts {
        draft::load(&config)
    } else {
        BTreeMap::new()
    };
    let state = FormState {
        config: Arc::clone(&config),
        lang: Arc::from(lang.as_str()),
        answers: RwSignal::new(draft.clone()),
        errors: RwSignal::new(BTreeMap::new()),
    };
    let phase = RwSignal::new(Phase::Idle);
    let trapped = RwSignal::new(false);
    let form_ref = NodeRef::<html::Form>::new();
    let rendered_at = page::now_ms();
    let base_consent = if previewing {
        ConsentState {
            notice_version: config.privacy_notice.version.clone(),
            granted: BTreeSet::new(),
        }
    } else {
        banner_consent(&config)
    };
    let today = Date::from_unix(seal::now_unix());
    let pages: Arc<Vec<Page>> = Arc::new(config.pages().into_owned());
    let multi_page = !config.pages.is_empty();
    // The page shown, as an index into `pages`; navigation skips pages hidden by conditions.
    let current = RwSignal::new(0usize);
    let visibility = {
        let config = Arc::clone(&config);
        let base_consent = base_consent.clone();
        Memo::new(move |_| {
            state.answers.with(|answers| {
                let consent = base_consent.with_form_answers(&config, answers);
                Visibility::of(&config, answers, &consent, today)
            })
        })
    };
    // Indexes of the pages the answers so far make visible, in order.
    let visible_pages = {
        let pages = Arc::clone(&pages);
        move || -> Vec<usize> {
            visibility.with(|v| (0..pages.len()).filter(|&i| v.page(&pages[i].id)).collect())
        }
    };

    Effect::new(move |_| {
        let _ = host.set_attribute("data-state", phase.get().as_str());
    });
    if drafts {
        // The draft goes back into the inputs once they exist, and every change is kept.
        let config = Arc::clone(&config);
        page::set_timeout(0.0, {
            let config = Arc::clone(&config);
            move || {
                if let Some(form) = form_ref.get_untracked() {
                    draft::restore_inputs(&form, &config, &draft);
                }
            }
        });
        Effect::new(move |_| state.answers.with(|answers| draft::save(&config, answers)));
    }
    if let Some(preview) = &preview {
        // What would be sealed, live, as the answers change.
        let (preview, config, lang) = (preview.clone(), Arc::clone(&config), lang.clone());
        Effect::new(move |_| {
            state
                .answers
                .with(|answers| preview.answers(&config, answers, &lang))
        });
    }
    let clear_draft = {
        let state = state.clone();
        move |_| {
            draft::clear(&state.config.id);
            state.answers.set(BTreeMap::new());
            state.errors.set(BTreeMap::new());
            if let Some(form) = form_ref.get_untracked() {
                form.reset();
            }
        }
    };
    let draft_note = drafts.then(|| {
        view! {
            <p class="fs-draft">
                <span>{i18n::builtin(&lang, Builtin::DraftKept)}</span>
                " "
                <button type="button" class="fs-link fs-clear" on:click=clear_draft>
                    {i18n::builtin(&lang, Builtin::ClearAnswers)}
                </button>
            </p>
        }
    });
    delivery::register(
        &config.id,
        Rc::new(move |outcome| {
            let next = match outcome {
                Outcome::Sending => Phase::Sending,
                Outcome::Sent => Phase::Sent,
                Outcome::Retrying => Phase::Retrying,
                Outcome::Failed => Phase::Failed,
                Outcome::Closed => Phase::Closed,
            };
            let _ = phase.try_set(next);
        }),
    );

    let page_title_id = format!("fs-{}-page-title", config.id);
    let focus_page_title = {
        let selector = format!("#{page_title_id}");
        move || {
            let selector = selector.clone();
            page::set_timeout(0.0, move || {
                focus_in(form_ref, &selector);
            });
        }
    };
    let go = {
        let visible_pages = visible_pages.clone();
        let focus_page_title = focus_page_title.clone();
        move |forward: bool| {
            let shown = visible_pages();
            let now = current.get_untracked();
            let next = if forward {
                shown.iter().copied().find(|&i| i > now)
            } else {
                shown.iter().rev().copied().find(|&i| i < now)
            };
            if let Some(next) = next {
                state.errors.set(BTreeMap::new());
                phase.set(Phase::Idle);
                current.set(next);
                focus_page_title();
            }
        }
    };
    let next_page = {
        let state = state.clone();
        let config = Arc::clone(&config);
        let pages = Arc::clone(&pages);
        let base_consent = base_consent.clone();
        let go = go.clone();
        move || {
            let answers = state.answers.get_untracked();
            let consent = base_consent.with_form_answers(&config, &answers);
            let page_id = &pages[current.get_untracked()].id;
            let problems = answers::validate_page(&config, page_id, &answers, &consent, today);
            if problems.is_empty() {
                go(true);
            } else {
                show_problems(&state, &problems, form_ref);
                phase.set(Phase::Error);
            }
        }
    };
    let is_last = {
        let visible_pages = visible_pages.clone();
        move || {
            visible_pages()
                .last()
                .is_none_or(|&last| current.get() >= last)
        }
    };

    let on_submit = {
        let state = state.clone();
        let is_last = is_last.clone();
        let next_page = next_page.clone();
        let pages = Arc::clone(&pages);
        move |ev: web_sys::SubmitEvent| {
            ev.prevent_default();
            // A second click, or Enter while sending, never seals twice.
            if phase.get_untracked().busy() {
                return;
            }
            // Enter on a page before the last one means Next.
            if !untrack(&is_last) {
                next_page();
                return;
            }
            let too_soon = page::now_ms() - rendered_at < MIN_FILL_MS && !previewing;
            if trapped.get_untracked() || too_soon {
                phase.set(Phase::Sent);
                return;
            }
            let answers = state.answers.get_untracked();
            let config = Arc::clone(&state.config);
            let consent = base_consent.with_form_answers(&config, &answers);
            let problems = answers::validate(&config, &answers, &consent, today);
            if !problems.is_empty() {
                // Back to the page of the first problem (pages are checked on Next, so this is
                // rare: an answer changed on an earlier page).
                let page_of = |field: &str| {
                    pages
                        .iter()
                        .position(|p| p.fields.iter().any(|f| f == field))
                };
                if let Some(index) = problems.iter().find_map(|p| page_of(&p.field)) {
                    current.set(index);
                }
                show_problems(&state, &problems, form_ref);
                phase.set(Phase::Error);
                return;
            }
            state.errors.set(BTreeMap::new());
            if previewing {
                // The report already shows what would be sealed; nothing leaves the page.
                phase.set(Phase::Sent);
                return;
            }
            phase.set(Phase::Sending);
            let lang = Arc::clone(&state.lang);
            leptos::task::spawn_local(async move {
                if let Err(reason) = seal_and_queue(&config, &answers, &lang).await {
                    page::console_error(&reason);
                    phase.set(Phase::Failed);
                }
            });
        }
    };

    let texts = &config.texts;
    let title_id = format!("fs-{}-title", config.id);
    // The collector's proof of work is solved once the visitor starts the form, so that sending
    // waits for nothing; a preview sends nothing.
    let start_solving = {
        let endpoint = config.endpoint.clone();
        move |_| {
            if !previewing {
                pow::prepare(&endpoint);
            }
        }
    };
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
    let refused = if previewing {
        BTreeSet::new()
    } else {
        refused_on_banner(&config)
    };
    let fields = config
        .fields_in_order()
        .into_iter()
        .filter(|(_, field)| !refused.contains(&field.id) && field.kind != FieldKind::Hidden)
        .map(|(page_index, field)| {
            let state = state.clone();
            let field = field.clone();
            let id = field.id.clone();
            let page_index = page_index.unwrap_or(0);
            let shown = move || current.get() == page_index && visibility.with(|v| v.field(&id));
            let control = match field.kind {
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
                #[cfg(feature = "survey")]
                FieldKind::Rating => view! { <RatingField state field/> }.into_any(),
                #[cfg(feature = "survey")]
                FieldKind::Matrix => view! { <MatrixField state field/> }.into_any(),
                #[cfg(feature = "survey")]
                FieldKind::Ranking => view! { <RankingField state field/> }.into_any(),
                #[cfg(feature = "survey")]
                FieldKind::File => view! { <FileField state field/> }.into_any(),
                // The sign-up build never renders a config with these (`mount` fails closed).
                #[cfg(not(feature = "survey"))]
                FieldKind::Rating | FieldKind::Matrix | FieldKind::Ranking | FieldKind::File => {
                    ().into_any()
                }
                // A hidden value comes only from an allow-listed URL parameter, read when
                // sealing; there is nothing to show (filtered out above).
                FieldKind::Hidden => ().into_any(),
            };
            view! { <div class="fs-slot" hidden=move || !shown()>{control}</div> }
        })
        .collect_view();

    let page_header = multi_page.then(|| {
        let pages = Arc::clone(&pages);
        let lang = lang.clone();
        let visible_pages = visible_pages.clone();
        let heading = {
            let pages = Arc::clone(&pages);
            let state = state.clone();
            move || state.text(&pages[current.get()].title)
        };
        let description = {
            let state = state.clone();
            move || {
                pages[current.get()]
                    .description
                    .as_ref()
                    .map(|d| view! { <p class="fs-page-description">{state.text(d)}</p> })
            }
        };
        let position = move || {
            let shown = visible_pages();
            let at = shown.iter().position(|&i| i == current.get()).unwrap_or(0) + 1;
            (at, shown.len().max(1))
        };
        let progress_text = {
            let position = position.clone();
            move || {
                let (at, of) = position();
                i18n::page_of(&lang, at, of)
            }
        };
        view! {
            <div class="fs-page-header">
                <p class="fs-progress">
                    <span>{progress_text.clone()}</span>
                    <progress
                        max={
                            let position = position.clone();
                            move || position().1
                        }
                        value=move || position().0
                        aria-label=progress_text
                    ></progress>
                </p>
                <h3 id=page_title_id.clone() class="fs-page-title" tabindex="-1">{heading}</h3>
                {description}
            </div>
        }
    });
    let has_previous = {
        let visible_pages = visible_pages.clone();
        move || {
            visible_pages()
                .first()
                .is_some_and(|&first| current.get() > first)
        }
    };
    let back_label = i18n::builtin(&lang, Builtin::Back);
    let next_label = i18n::builtin(&lang, Builtin::Next);

    view! {
        <form
            class="fs-form"
            novalidate=true
            data-form=config.id.clone()
            data-state=move || phase.get().as_str()
            data-page=move || multi_page.then(|| pages[current.get()].id.clone())
            aria-labelledby=title_id.clone()
            node_ref=form_ref
            on:submit=on_submit
            on:focusin=start_solving
        >
            <h2 id=title_id.clone() class="fs-title">{title}</h2>
            {intro}
            {page_header}
            {fields}
            {draft_note}
            <Honeypot form_id=config.id.clone() filled=trapped/>
            <p class="fs-privacy">
                <a href=config.privacy_notice.url.clone() target="_blank" rel="noopener noreferrer">
                    {i18n::builtin(&lang, Builtin::PrivacyNotice)}
                </a>
            </p>
            <div class="fs-buttons">
                <button type="button" class="fs-back" hidden=move || !has_previous()
                    on:click=move |_| go(false)>
                    {back_label}
                </button>
                <button type="button" class="fs-next" hidden={
                    let is_last = is_last.clone();
                    move || is_last()
                } on:click=move |_| next_page()>
                    {next_label}
                </button>
                <button type="submit" class="fs-submit" hidden=move || !is_last()
                    disabled=move || phase.get().busy()>
                    {submit}
                </button>
            </div>
            <Status phase lang=lang.clone() success/>
        </form>
    }
}

/// Focuses the first element inside the form matching `selector`.
fn focus_in(form_ref: NodeRef<html::Form>, selector: &str) {
    if let Some(element) = form_ref
        .get_untracked()
        .and_then(|form| form.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Seals the answers and queues the ciphertext for delivery (before any request is made).
async fn seal_and_queue(
    config: &FormConfig,
    answers: &formseal_core::answers::Answers,
    lang: &str,
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
        lang: Some(lang),
    };
    let sealed = seal::seal(config, &input)
        .await
        .map_err(|e| format!("formseal: sealing failed, nothing was sent: {e}"))?;
    for (id, jwe) in sealed {
        delivery::enqueue(&config.id, Entry::new(id, config.endpoint.clone(), jwe.0));
    }
    // Sealed and queued: the draft has done its job.
    draft::clear(&config.id);
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
        .fields_in_order()
        .into_iter()
        .map(|(_, f)| f)
        .find(|f| errors.contains_key(&f.id))
        .map(|f| state.dom_id(&f.id));
    state.errors.set(errors);
    if let Some(name) = first {
        // After the page of the problem is shown.
        let selector = format!("[name=\"{name}\"], #{name}, #{name}-0");
        page::set_timeout(0.0, move || focus_in(form_ref, &selector));
    }
}
