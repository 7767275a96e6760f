//! The list of fields: add, remove, reorder (Move up / Move down buttons for the keyboard, drag
//! and drop for the mouse) and edit each one — type, texts per language, required, validation,
//! options, purposes, minimisation rule and the condition that shows it.

use formseal_core::config::HIDDEN_PARAM_ALLOW_LIST;
use leptos::prelude::*;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;

use crate::controls::{CheckInput, Kind, LangInputs, ListInput, Problems, SelectInput, TextInput};
use crate::doc::{Doc, dom_id};

/// Every field type of config v1, with the name shown in the type menu.
const TYPES: [(&str, &str); 16] = [
    ("text", "Text, one line"),
    ("email", "E-mail address"),
    ("tel", "Phone number"),
    ("number", "Number"),
    ("date", "Date"),
    ("textarea", "Text, several lines"),
    ("select", "Drop-down"),
    ("radio", "Radio buttons"),
    ("checkbox", "Checkbox (yes/no)"),
    ("consent", "Consent checkbox"),
    ("rating", "Rating"),
    ("likert", "Agree/disagree statement"),
    ("matrix", "Matrix of statements"),
    ("ranking", "Ranking"),
    ("file", "File upload"),
    ("hidden", "Hidden (campaign tag from the URL)"),
];

/// The editor of every field, in order, and the button that adds one.
#[component]
pub(crate) fn FieldList(doc: Doc, announce: WriteSignal<String>) -> impl IntoView {
    let dragged = RwSignal::new(None::<u64>);
    let opened = RwSignal::new(None::<u64>);
    let add = move |_| {
        let key = doc.add_field();
        opened.set(Some(key));
        focus_later(format!("b-field-{key}-summary"));
        announce.set("Added a field at the end of the list.".into());
    };
    view! {
        <section class="b-section" aria-labelledby="b-fields-title">
            <h2 id="b-fields-title">"Fields"</h2>
            <Problems doc pointer=Signal::derive(|| "/fields".to_owned())/>
            <ol class="b-fields">
                <For each=move || doc.keys.get() key=|k| *k let:key>
                    <FieldCard doc key dragged opened announce/>
                </For>
            </ol>
            <button type="button" class="b-add" on:click=add>"Add field"</button>
        </section>
    }
}

/// One field: a header with its position and the move/remove buttons, and its editor.
#[component]
fn FieldCard(
    doc: Doc,
    key: u64,
    dragged: RwSignal<Option<u64>>,
    opened: RwSignal<Option<u64>>,
    announce: WriteSignal<String>,
) -> impl IntoView {
    let index = Memo::new(move |_| doc.index_of(key).unwrap_or(0));
    let at =
        move |rest: &'static str| Signal::derive(move || format!("/fields/{}{rest}", index.get()));
    let id = move || doc.text(&format!("/fields/{}/id", index.get()));
    let kind = move || doc.text(&format!("/fields/{}/type", index.get()));
    let count = move || doc.keys.with(Vec::len);
    let problems = move || doc.problems_at(&format!("/fields/{}", index.get())).len();
    let is_last = move || index.get() + 1 >= count();
    let move_by = move |up: bool| {
        let from = index.get_untracked();
        let to = if up {
            from.checked_sub(1)
        } else {
            Some(from + 1)
        };
        if let Some(to) = to.filter(|&to| to < count()) {
            doc.move_field(from, to);
            let name = doc.text(&format!("/fields/{to}/id"));
            announce.set(format!(
                "Moved {name} to position {} of {}.",
                to + 1,
                count()
            ));
            // The card keeps its key: focus stays on the button that was pressed.
            let button = if up { "up" } else { "down" };
            focus_later(format!("b-field-{key}-{button}"));
        }
    };
    let remove = move |_| {
        let name = id();
        doc.remove_field(index.get_untracked());
        announce.set(format!("Removed {name}."));
        focus_later("b-fields-title".into());
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        if let Some(from) = dragged.get_untracked().and_then(|k| doc.index_of(k)) {
            doc.move_field(from, index.get_untracked());
        }
        dragged.set(None);
    };
    let rename = Callback::new(move |new: String| doc.rename_field(index.get_untracked(), &new));
    let types: Vec<(String, String)> = TYPES
        .iter()
        .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect();
    let summary_id = format!("b-field-{key}-summary");
    view! {
        <li
            class="b-card"
            class:b-dragging=move || dragged.get() == Some(key)
            draggable="true"
            data-field=id
            on:dragstart=move |ev: web_sys::DragEvent| {
                if let Some(data) = ev.data_transfer() {
                    let _ = data.set_data("text/plain", &id());
                }
                dragged.set(Some(key));
            }
            on:dragover=|ev: web_sys::DragEvent| ev.prevent_default()
            on:drop=on_drop
            on:dragend=move |_| dragged.set(None)
        >
            <div class="b-card-head">
                <span class="b-position">{move || format!("{}.", index.get() + 1)}</span>
                <span class="b-card-title" id=format!("b-field-{key}-title")>
                    {id}" "<small>"("{kind}")"</small>
                </span>
                <span class="b-badge" hidden=move || problems() == 0>
                    {move || match problems() {
                        1 => "1 problem".to_owned(),
                        n => format!("{n} problems"),
                    }}
                </span>
                <button type="button" id=format!("b-field-{key}-up")
                    aria-describedby=format!("b-field-{key}-title")
                    disabled=move || index.get() == 0
                    on:click=move |_| move_by(true)>"Move up"</button>
                <button type="button" id=format!("b-field-{key}-down")
                    aria-describedby=format!("b-field-{key}-title")
                    disabled=is_last
                    on:click=move |_| move_by(false)>"Move down"</button>
                <button type="button" class="b-remove"
                    aria-describedby=format!("b-field-{key}-title")
                    on:click=remove>"Remove"</button>
            </div>
            <details prop:open=move || opened.get() == Some(key)>
                <summary id=summary_id>{move || format!("Edit {}", id())}</summary>
                <div class="b-grid">
                    <TextInput doc pointer=at("/id") label="Id (the key in the sealed record)".into()
                        on_change=rename/>
                    <SelectInput doc pointer=at("/type") label="Type".into() options=types/>
                </div>
                <PageChoice doc index/>
                <Show when=move || kind() != "hidden">
                    <LangInputs doc pointer=at("/label") label="Label"/>
                    <LangInputs doc pointer=at("/help") label="Help"/>
                    <CheckInput doc pointer=at("/required") label="Required".into()/>
                </Show>
                <PurposeBoxes doc pointer=at("/purposes")/>
                <Validation doc index/>
                <Show when=move || matches!(kind().as_str(), "select" | "radio" | "likert" | "matrix" | "ranking")>
                    <Options doc pointer=at("/options") title="Options"/>
                </Show>
                <Show when=move || kind() == "matrix">
                    <Options doc pointer=at("/statements") title="Statements"/>
                </Show>
                <Minimise doc pointer=at("/minimise")/>
                <ConditionEditor doc index/>
                <Problems doc pointer=at("")/>
            </details>
        </li>
    }
}

/// On which page of a survey the field is asked (nothing for a one-page form).
#[component]
fn PageChoice(doc: Doc, index: Memo<usize>) -> impl IntoView {
    let id = move || doc.text(&format!("/fields/{}/id", index.get()));
    let select_id = move || format!("b-fields-{}-page", index.get());
    let choose = move |ev: leptos::ev::Event| {
        if let Ok(page) = event_target_value(&ev).parse::<usize>() {
            doc.move_to_page(&id(), page);
        }
    };
    view! {
        <Show when=move || !doc.page_ids().is_empty()>
            <div class="b-control">
                <label for=select_id>"Page"</label>
                <select id=select_id on:change=choose>
                    {move || {
                        let on = doc.page_of(&id());
                        doc.page_ids()
                            .into_iter()
                            .enumerate()
                            .map(|(i, page)| view! {
                                <option value=i.to_string() prop:selected=on == Some(i)>{page}</option>
                            })
                            .collect_view()
                    }}
                </select>
            </div>
        </Show>
    }
}

/// A checkbox per purpose of the form; a field needs at least one.
#[component]
fn PurposeBoxes(doc: Doc, pointer: Signal<String>) -> impl IntoView {
    let legend_id = move || format!("{}-legend", dom_id(&pointer.get()));
    let boxes = move || {
        let lang = doc.languages().into_iter().next().unwrap_or_default();
        doc.purpose_ids()
            .into_iter()
            .enumerate()
            .map(|(i, purpose)| {
                let label = doc.text(&format!("/purposes/{i}/label/{lang}"));
                let box_id = move || format!("{}-{i}", dom_id(&pointer.get()));
                let checked = {
                    let purpose = purpose.clone();
                    move || {
                        doc.get(&pointer.get())
                            .and_then(|v| v.as_array().cloned())
                            .unwrap_or_default()
                            .iter()
                            .any(|p| p.as_str() == Some(purpose.as_str()))
                    }
                };
                let toggle = {
                    let purpose = purpose.clone();
                    move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        let mut list: Vec<Value> = doc
                            .get(&pointer.get_untracked())
                            .and_then(|v| v.as_array().cloned())
                            .unwrap_or_default();
                        list.retain(|p| p.as_str() != Some(purpose.as_str()));
                        if on {
                            list.push(json!(purpose));
                        }
                        doc.set(&pointer.get_untracked(), Some(json!(list)));
                    }
                };
                view! {
                    <span class="b-check">
                        <input type="checkbox" id=box_id prop:checked=checked on:change=toggle/>
                        <label for=box_id>{format!("{label} ({purpose})")}</label>
                    </span>
                }
            })
            .collect_view()
    };
    let invalid = move || (!doc.problems_at(&pointer.get()).is_empty()).then_some("true");
    view! {
        <fieldset class="b-purposes" aria-describedby=move || format!("{}-problems", dom_id(&pointer.get()))
            aria-invalid=invalid>
            <legend id=legend_id>"Purposes (why you ask for it)"</legend>
            {boxes}
            <Problems doc pointer/>
        </fieldset>
    }
}

/// The rules an answer must follow, by type.
#[component]
fn Validation(doc: Doc, index: Memo<usize>) -> impl IntoView {
    let at =
        move |rest: &'static str| Signal::derive(move || format!("/fields/{}{rest}", index.get()));
    let kind = move || doc.text(&format!("/fields/{}/type", index.get()));
    let is = move |kinds: &'static [&'static str]| move || kinds.contains(&kind().as_str());
    let params: Vec<(String, String)> = HIDDEN_PARAM_ALLOW_LIST
        .iter()
        .map(|p| ((*p).to_owned(), (*p).to_owned()))
        .collect();
    let scales = vec![
        ("1-5".to_owned(), "1 to 5".to_owned()),
        ("1-10".to_owned(), "1 to 10".to_owned()),
        ("nps".to_owned(), "0 to 10 (NPS)".to_owned()),
    ];
    view! {
        <div class="b-grid">
            <Show when=is(&["text", "email", "tel", "textarea"])>
                <TextInput doc pointer=at("/min_length") label="Fewest characters".into() kind=Kind::Number/>
                <TextInput doc pointer=at("/max_length") label="Most characters".into() kind=Kind::Number/>
                <TextInput doc pointer=at("/pattern") label="Pattern (regular expression)".into()/>
            </Show>
            <Show when=is(&["number"])>
                <TextInput doc pointer=at("/min") label="Lowest".into() kind=Kind::Number/>
                <TextInput doc pointer=at("/max") label="Highest".into() kind=Kind::Number/>
            </Show>
            <Show when=is(&["select"])>
                <CheckInput doc pointer=at("/multiple") label="Several answers".into()/>
            </Show>
            <Show when=is(&["rating"])>
                <SelectInput doc pointer=at("/scale") label="Scale".into() options=scales.clone()/>
            </Show>
            <Show when=is(&["hidden"])>
                <SelectInput doc pointer=at("/param") label="URL parameter".into() options=params.clone()/>
            </Show>
            <Show when=is(&["file"])>
                <ListInput doc pointer=at("/accept") label="Accepted types (comma-separated)".into()/>
                <TextInput doc pointer=at("/max_bytes") label="Largest file (bytes)".into() kind=Kind::Number/>
            </Show>
        </div>
    }
}

/// The options (or a matrix's statements) of a field: value and label per language each.
#[component]
fn Options(doc: Doc, pointer: Signal<String>, title: &'static str) -> impl IntoView {
    let count = move || {
        doc.get(&pointer.get())
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0)
    };
    let add = move |_| {
        let n = count();
        let label: serde_json::Map<String, Value> = doc
            .languages()
            .into_iter()
            .map(|lang| (lang, json!(format!("Option {}", n + 1))))
            .collect();
        let mut list = doc
            .get(&pointer.get_untracked())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        list.push(json!({"value": format!("option_{}", n + 1), "label": label}));
        doc.set(&pointer.get_untracked(), Some(json!(list)));
    };
    view! {
        <fieldset class="b-options">
            <legend>{title}</legend>
            <For each=move || 0..count() key=|i| *i let:i>
                {
                    let item = Signal::derive(move || format!("{}/{i}", pointer.get()));
                    let value = Signal::derive(move || format!("{}/{i}/value", pointer.get()));
                    let label = Signal::derive(move || format!("{}/{i}/label", pointer.get()));
                    let remove = move |_| {
                        let mut list = doc
                            .get(&pointer.get_untracked())
                            .and_then(|v| v.as_array().cloned())
                            .unwrap_or_default();
                        if i < list.len() {
                            list.remove(i);
                        }
                        doc.set(&pointer.get_untracked(), Some(json!(list)));
                    };
                    view! {
                        <div class="b-option">
                            <TextInput doc pointer=value label=format!("Value {}", i + 1)/>
                            <LangInputs doc pointer=label label="Text"/>
                            <button type="button" class="b-remove"
                                aria-label=move || format!("Remove {} {}", title.to_lowercase(), i + 1)
                                on:click=remove>"Remove"</button>
                            <Problems doc pointer=item/>
                        </div>
                    }
                }
            </For>
            <button type="button" class="b-add" on:click=add>{format!("Add to {}", title.to_lowercase())}</button>
            <Problems doc pointer/>
        </fieldset>
    }
}

/// The minimisation rule: what is kept of the answer before it is sealed.
#[component]
fn Minimise(doc: Doc, pointer: Signal<String>) -> impl IntoView {
    let rule = Signal::derive(move || format!("{}/rule", pointer.get()));
    let rules = vec![
        (String::new(), "None beyond the type's own".to_owned()),
        ("birth-year".into(), "Date of birth → year".into()),
        ("age-band".into(), "Date of birth → age band".into()),
        (
            "postcode-prefix".into(),
            "Postcode → first characters".into(),
        ),
        ("truncate".into(), "Cut text to a length".into()),
        ("e164".into(), "Phone → international format".into()),
    ];
    let choose = Callback::new(move |rule: String| {
        let value = match rule.as_str() {
            "" => None,
            "age-band" => Some(json!({"rule": rule, "width": 10})),
            "postcode-prefix" => Some(json!({"rule": rule, "length": 4})),
            "truncate" => Some(json!({"rule": rule, "length": 100})),
            "e164" => Some(json!({"rule": rule, "country_code": "31"})),
            _ => Some(json!({"rule": rule})),
        };
        doc.set(&pointer.get_untracked(), value);
    });
    let current = move || doc.text(&rule.get());
    let param =
        move |name: &'static str| Signal::derive(move || format!("{}/{name}", pointer.get()));
    view! {
        <div class="b-grid">
            <SelectInput doc pointer=rule label="Minimisation".into() options=rules on_change=choose/>
            <Show when=move || current() == "age-band">
                <TextInput doc pointer=param("width") label="Band width (years)".into() kind=Kind::Number/>
            </Show>
            <Show when=move || matches!(current().as_str(), "postcode-prefix" | "truncate")>
                <TextInput doc pointer=param("length") label="Characters kept".into() kind=Kind::Number/>
            </Show>
            <Show when=move || current() == "e164">
                <TextInput doc pointer=param("country_code") label="Country calling code".into()/>
            </Show>
        </div>
        <Problems doc pointer/>
    }
}

/// The tests a simple condition can make, with the words shown.
const TESTS: [(&str, &str); 6] = [
    ("answered", "is answered"),
    ("not_answered", "is not answered"),
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("gt", "is more than"),
    ("lt", "is less than"),
];

/// "Show this field only when …": one test on an earlier field. A condition combining several
/// (`all`, `any`) is shown as JSON to edit in the file.
#[component]
fn ConditionEditor(doc: Doc, index: Memo<usize>) -> impl IntoView {
    let pointer = Signal::derive(move || format!("/fields/{}/show_if", index.get()));
    let condition = move || doc.get(&pointer.get());
    let simple = move || condition().and_then(|c| simple_test(&c));
    let combined = move || condition().is_some() && simple().is_none();
    let base = move || dom_id(&pointer.get());
    let write = move |field: String, test: String, value: String| {
        if field.is_empty() {
            doc.set(&pointer.get_untracked(), None);
            return;
        }
        let value = match test.as_str() {
            "answered" | "not_answered" => json!(true),
            "gt" | "lt" => value.trim().parse::<f64>().map_or(json!(0), |n| json!(n)),
            _ => match value.trim() {
                "true" => json!(true),
                "false" => json!(false),
                other => json!(other),
            },
        };
        doc.set(
            &pointer.get_untracked(),
            Some(json!({"field": field, test: value})),
        );
    };
    let current = move || simple().unwrap_or_default();
    let others = move || {
        let own = index.get();
        doc.field_ids()
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| *i != own)
            .map(|(_, id)| id)
            .collect::<Vec<_>>()
    };
    view! {
        <fieldset class="b-condition">
            <legend>"Show this field"</legend>
            <Show when=move || !combined() fallback=move || view! {
                <p>"Only when this combined condition holds (edit it in the file):"</p>
                <pre>{move || condition().map(|c| serde_json::to_string_pretty(&c).unwrap_or_default())}</pre>
            }>
                <div class="b-grid">
                    <div class="b-control">
                        <label for=move || format!("{}-field", base())>"Only when"</label>
                        <select id=move || format!("{}-field", base())
                            on:change=move |ev| {
                                let (_, test, value) = current();
                                let test = if test.is_empty() { "answered".into() } else { test };
                                write(event_target_value(&ev), test, value);
                            }>
                            <option value="" prop:selected=move || current().0.is_empty()>"Always shown"</option>
                            {move || others().into_iter().map(|id| {
                                let selected = { let id = id.clone(); move || current().0 == id };
                                view! { <option value=id.clone() prop:selected=selected>{id.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <Show when=move || !current().0.is_empty()>
                        <div class="b-control">
                            <label for=move || format!("{}-test", base())>"Test"</label>
                            <select id=move || format!("{}-test", base())
                                on:change=move |ev| {
                                    let (field, _, value) = current();
                                    write(field, event_target_value(&ev), value);
                                }>
                                {TESTS.iter().map(|(test, words)| view! {
                                    <option value=*test prop:selected=move || current().1 == *test>{*words}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <Show when=move || !matches!(current().1.as_str(), "answered" | "not_answered")>
                            <div class="b-control">
                                <label for=move || format!("{}-value", base())>"Value"</label>
                                <input id=move || format!("{}-value", base()) type="text"
                                    prop:value=move || current().2
                                    on:change=move |ev| {
                                        let (field, test, _) = current();
                                        write(field, test, event_target_value(&ev));
                                    }/>
                            </div>
                        </Show>
                    </Show>
                </div>
            </Show>
            <Problems doc pointer/>
        </fieldset>
    }
}

/// `(field, test, value as text)` of a condition that is one test.
fn simple_test(condition: &Value) -> Option<(String, String, String)> {
    let object = condition.as_object()?;
    let field = object.get("field")?.as_str()?.to_owned();
    let (test, value) = object.iter().find(|(k, _)| k.as_str() != "field")?;
    if object.len() != 2 || !TESTS.iter().any(|(t, _)| t == test) {
        return None;
    }
    let value = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some((field, test.clone(), value))
}

/// Focuses the element with `id` once the view has caught up (after the current task).
pub(crate) fn focus_later(id: String) {
    let focus = wasm_bindgen::closure::Closure::once_into_js(move || {
        if let Some(element) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
    if let Some(window) = web_sys::window() {
        let _ =
            window.set_timeout_with_callback_and_timeout_and_arguments_0(focus.unchecked_ref(), 0);
    }
}
