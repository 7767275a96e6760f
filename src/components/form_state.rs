//! The state one rendered form shares with its field components: the checked config, the
//! chosen language, the answers so far and the problems found at the last submit.
//!
//! Plain data and signals only; rendering lives in the components.

use std::collections::BTreeMap;
use std::sync::Arc;

use formseal_core::answers::Answers;
use formseal_core::config::{Field, FieldKind, FormConfig, Text};
use leptos::prelude::*;
use serde_json::Value;

use crate::i18n::{self, Builtin};

/// Everything a field component needs; cheap to clone.
#[derive(Clone)]
pub(crate) struct FormState {
    /// The config, already checked and pinned.
    pub(crate) config: Arc<FormConfig>,
    /// The language the form is shown in.
    pub(crate) lang: Arc<str>,
    /// The visitor's raw answers by field id (empty answers are absent).
    pub(crate) answers: RwSignal<Answers>,
    /// The worded problem of each invalid field, by field id.
    pub(crate) errors: RwSignal<BTreeMap<String, String>>,
}

impl FormState {
    /// A config text in the form's language.
    pub(crate) fn text(&self, text: &Text) -> String {
        i18n::pick(text, &self.lang)
    }

    /// The field's label in the form's language.
    pub(crate) fn label(&self, field: &Field) -> String {
        field
            .label
            .as_ref()
            .map(|t| self.text(t))
            .unwrap_or_default()
    }

    /// The `id` and `name` of a field's input: `fs-FORM-FIELD`.
    pub(crate) fn dom_id(&self, field_id: &str) -> String {
        format!("fs-{}-{field_id}", self.config.id)
    }

    /// The ids `aria-describedby` lists for a field: help (if any), purposes, error.
    pub(crate) fn described_by(&self, field: &Field) -> String {
        let base = self.dom_id(&field.id);
        if self.help(field).is_some() {
            format!("{base}-help {base}-purpose {base}-error")
        } else {
            format!("{base}-purpose {base}-error")
        }
    }

    /// The help text shown under a field: its own, or for a consent box what its purposes do.
    pub(crate) fn help(&self, field: &Field) -> Option<String> {
        if let Some(help) = &field.help {
            return Some(self.text(help));
        }
        if field.kind != FieldKind::Consent {
            return None;
        }
        let descriptions: Vec<String> = field
            .purposes
            .iter()
            .filter_map(|id| self.config.purpose(id))
            .map(|p| self.text(&p.description))
            .collect();
        (!descriptions.is_empty()).then(|| descriptions.join(" "))
    }

    /// The purposes a field serves and how long each keeps the data, e.g. "Newsletter · kept
    /// 730 days".
    pub(crate) fn purpose_line(&self, field: &Field) -> String {
        let kept = i18n::builtin(&self.lang, Builtin::Kept);
        let days = i18n::builtin(&self.lang, Builtin::Days);
        field
            .purposes
            .iter()
            .filter_map(|id| self.config.purpose(id))
            .map(|p| match p.retention_days {
                Some(n) => format!("{} · {kept} {n} {days}", self.text(&p.label)),
                None => self.text(&p.label),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Records an answer (`None` or an empty value removes it) and clears the field's error.
    pub(crate) fn set_answer(&self, field_id: &str, value: Option<Value>) {
        let value = value.filter(|v| match v {
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Bool(b) => *b,
            Value::Null => false,
            _ => true,
        });
        self.answers.update(|answers| match value {
            Some(value) => {
                answers.insert(field_id.to_owned(), value);
            }
            None => {
                answers.remove(field_id);
            }
        });
        if self.errors.with_untracked(|e| e.contains_key(field_id)) {
            self.errors.update(|e| {
                e.remove(field_id);
            });
        }
    }

    /// The field's current error text (empty when valid).
    pub(crate) fn error(&self, field_id: &str) -> impl Fn() -> String + Send + Sync + use<> {
        let errors = self.errors;
        let field_id = field_id.to_owned();
        move || errors.with(|e| e.get(&field_id).cloned().unwrap_or_default())
    }

    /// `aria-invalid`'s value: `Some("true")` while the field has an error, else absent.
    pub(crate) fn invalid(
        &self,
        field_id: &str,
    ) -> impl Fn() -> Option<&'static str> + Send + Sync + use<> {
        let errors = self.errors;
        let field_id = field_id.to_owned();
        move || errors.with(|e| e.contains_key(&field_id).then_some("true"))
    }
}
