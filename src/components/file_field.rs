//! A file upload: the file is read in the browser and becomes part of the answers (name, type,
//! size and bytes), so it is sealed with them and never leaves the page in plaintext. A file
//! over the field's limit or of a type it does not accept is refused at once, before anything
//! could be sent.

use base64ct::{Base64UrlUnpadded, Encoding};
use formseal_core::answers::AnswerProblem;
use formseal_core::config::Field;
use formseal_core::upload::FileAnswer;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlInputElement;

use super::field_notes::FieldNotes;
use super::form_state::FormState;
use crate::i18n;

/// One file field.
#[component]
pub(crate) fn FileField(
    /// The form the field belongs to.
    state: FormState,
    /// The file field.
    field: Field,
) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let on_change = {
        let state = state.clone();
        let field = field.clone();
        move |ev: web_sys::Event| {
            let Some(file) = ev
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .and_then(|input| input.files())
                .and_then(|files| files.get(0))
            else {
                state.set_answer(&field.id, None);
                return;
            };
            let max_bytes = field.max_file_bytes();
            if file.size() > max_bytes as f64 {
                refuse(
                    &state,
                    &field.id,
                    &AnswerProblem::FileTooLarge { max_bytes },
                );
                return;
            }
            let state = state.clone();
            let field = field.clone();
            leptos::task::spawn_local(async move {
                let Ok(buffer) = JsFuture::from(file.array_buffer()).await else {
                    refuse(&state, &field.id, &AnswerProblem::FileMalformed);
                    return;
                };
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                let answer = FileAnswer {
                    name: file.name(),
                    media_type: file.type_(),
                    size: bytes.len() as u64,
                    data: Base64UrlUnpadded::encode_string(&bytes),
                };
                if let Err(problem) = answer.check(&field) {
                    let problem = match problem {
                        formseal_core::upload::FileProblem::TooLarge { max_bytes } => {
                            AnswerProblem::FileTooLarge { max_bytes }
                        }
                        formseal_core::upload::FileProblem::TypeNotAccepted => {
                            AnswerProblem::FileType {
                                accept: field.accept.clone(),
                            }
                        }
                        formseal_core::upload::FileProblem::ContentMismatch => {
                            AnswerProblem::FileContent
                        }
                        formseal_core::upload::FileProblem::Malformed => {
                            AnswerProblem::FileMalformed
                        }
                    };
                    refuse(&state, &field.id, &problem);
                    return;
                }
                match serde_json::to_value(&answer) {
                    Ok(value) => state.set_answer(&field.id, Some(value)),
                    Err(_) => refuse(&state, &field.id, &AnswerProblem::FileMalformed),
                }
            });
        }
    };
    let accept = (!field.accept.is_empty()).then(|| field.accept.join(","));
    view! {
        <div class="fs-field">
            <label for=name.clone() class="fs-label">
                {state.label(&field)}
                {field.required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </label>
            <input
                type="file"
                id=name.clone()
                name=name
                accept=accept
                aria-describedby=state.described_by(&field)
                aria-required=field.required.then_some("true")
                aria-invalid=state.invalid(&field.id)
                on:change=on_change
            />
            <FieldNotes state=state field=field/>
        </div>
    }
}

/// Drops the file and says why next to the field.
fn refuse(state: &FormState, field_id: &str, problem: &AnswerProblem) {
    state.set_answer(field_id, None);
    let text = i18n::problem(&state.lang, problem);
    state.errors.update(|e| {
        e.insert(field_id.to_owned(), text);
    });
}
