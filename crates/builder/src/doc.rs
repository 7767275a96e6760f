//! The config being edited: a JSON document (so that keys the editor has no control for, such
//! as a survey's reward, survive a round trip), addressed by JSON pointers (`/fields/2/label/en`),
//! with a stable key per field for the list, the templates to start from, and the copy kept in
//! the browser's `localStorage` so that a reload loses nothing.

use formseal_core::config::{FormConfig, Problem};
use leptos::prelude::*;
use serde_json::{Map, Value, json};

/// The `localStorage` key of the work in progress.
const STORAGE_KEY: &str = "formseal:builder";

/// The templates to start from: name shown, file content.
pub(crate) const TEMPLATES: [(&str, &str); 5] = [
    (
        "Newsletter sign-up",
        include_str!("../../../examples/newsletter.json"),
    ),
    (
        "Contact form",
        include_str!("../../../examples/contact.json"),
    ),
    (
        "Customer survey",
        include_str!("../../../examples/survey.json"),
    ),
    (
        "Consent banner",
        include_str!("../../../examples/consent.json"),
    ),
    (
        "Privacy request",
        include_str!("../../../examples/privacy-request.json"),
    ),
];

/// The document and everything derived from it; `Copy`, shared by every component.
#[derive(Clone, Copy)]
pub(crate) struct Doc {
    /// The config as JSON.
    pub(crate) value: RwSignal<Value>,
    /// One stable key per entry of `fields`, in the same order (for the keyed list).
    pub(crate) keys: RwSignal<Vec<u64>>,
    next_key: StoredValue<u64>,
    /// The result of `formseal check` on the document: the config when it parses, and every
    /// problem with its path.
    pub(crate) checked: Memo<(Option<FormConfig>, Vec<Problem>)>,
}

impl Doc {
    /// The work kept in this browser, else the first template.
    pub(crate) fn new() -> Self {
        let stored = storage()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .filter(Value::is_object);
        let value = stored.unwrap_or_else(|| template(0));
        let value = RwSignal::new(value);
        let checked = Memo::new(move |_| {
            let json = value.with(Value::to_string);
            FormConfig::check(&json)
        });
        let doc = Self {
            value,
            keys: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
            checked,
        };
        doc.renumber();
        // Every change is kept at once; nothing else ever reads it.
        Effect::new(move |_| {
            let text = value.with(|v| serde_json::to_string(v).unwrap_or_default());
            if let Some(storage) = storage() {
                let _ = storage.set_item(STORAGE_KEY, &text);
            }
        });
        doc
    }

    /// Replaces the whole document (a template or an opened file).
    pub(crate) fn load(&self, value: Value) {
        self.value.set(value);
        self.renumber();
    }

    fn renumber(&self) {
        let count = self.value.with_untracked(|v| array_len(v, "/fields"));
        let keys = (0..count).map(|_| self.fresh_key()).collect();
        self.keys.set(keys);
    }

    fn fresh_key(&self) -> u64 {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        key
    }

    /// The value at `pointer`, tracked.
    pub(crate) fn get(&self, pointer: &str) -> Option<Value> {
        self.value.with(|v| v.pointer(pointer).cloned())
    }

    /// The string at `pointer` (numbers shown as written), or empty.
    pub(crate) fn text(&self, pointer: &str) -> String {
        self.value.with(|v| match v.pointer(pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        })
    }

    /// Sets `pointer` to `new`, creating the objects on the way; `None` removes the key, and
    /// an object left empty by that goes too.
    pub(crate) fn set(&self, pointer: &str, new: Option<Value>) {
        self.value.update(|v| set_pointer(v, pointer, new));
    }

    /// The current index of the field with list key `key`.
    pub(crate) fn index_of(&self, key: u64) -> Option<usize> {
        self.keys.with(|keys| keys.iter().position(|&k| k == key))
    }

    /// Ids of the fields, in order.
    pub(crate) fn field_ids(&self) -> Vec<String> {
        self.value.with(|v| strings_at(v, "/fields", "id"))
    }

    /// Ids of the purposes, in order.
    pub(crate) fn purpose_ids(&self) -> Vec<String> {
        self.value.with(|v| strings_at(v, "/purposes", "id"))
    }

    /// The form's languages.
    pub(crate) fn languages(&self) -> Vec<String> {
        self.value.with(|v| {
            v.pointer("/languages")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Appends a new text field (on the last page of a survey) and returns its list key. It
    /// serves no purpose yet: the check says so until one is ticked.
    pub(crate) fn add_field(&self) -> u64 {
        let ids = self.field_ids();
        let id = (1..)
            .map(|n| format!("field_{n}"))
            .find(|id| !ids.contains(id))
            .unwrap_or_default();
        let label: Map<String, Value> = self
            .languages()
            .into_iter()
            .map(|lang| (lang, json!("New question")))
            .collect();
        self.value.update(|v| {
            push(
                v,
                "/fields",
                json!({"id": id, "type": "text", "label": label, "purposes": []}),
            );
            if let Some(pages) = v.pointer_mut("/pages").and_then(Value::as_array_mut)
                && let Some(last) = pages.last_mut()
            {
                push(last, "/fields", json!(id));
            }
        });
        let key = self.fresh_key();
        self.keys.update(|keys| keys.push(key));
        key
    }

    /// Removes the field at `index`, and its place on a page.
    pub(crate) fn remove_field(&self, index: usize) {
        let id = self.text(&format!("/fields/{index}/id"));
        self.value.update(|v| {
            if let Some(fields) = v.pointer_mut("/fields").and_then(Value::as_array_mut)
                && index < fields.len()
            {
                fields.remove(index);
            }
            for page in pages_mut(v) {
                if let Some(list) = page.pointer_mut("/fields").and_then(Value::as_array_mut) {
                    list.retain(|f| f.as_str() != Some(id.as_str()));
                }
            }
        });
        self.keys.update(|keys| {
            if index < keys.len() {
                keys.remove(index);
            }
        });
    }

    /// Moves the field at `from` to `to` (both in range); on a survey it moves on its page too
    /// when the field it trades places with is on the same page.
    pub(crate) fn move_field(&self, from: usize, to: usize) {
        let ids = self.field_ids();
        if from >= ids.len() || to >= ids.len() || from == to {
            return;
        }
        self.value.update(|v| {
            if let Some(fields) = v.pointer_mut("/fields").and_then(Value::as_array_mut) {
                let field = fields.remove(from);
                fields.insert(to, field);
            }
            for page in pages_mut(v) {
                if let Some(list) = page.pointer_mut("/fields").and_then(Value::as_array_mut) {
                    let at = |id: &str| list.iter().position(|f| f.as_str() == Some(id));
                    if let (Some(a), Some(b)) = (at(&ids[from]), at(&ids[to])) {
                        let moved = list.remove(a);
                        list.insert(b, moved);
                    }
                }
            }
        });
        self.keys.update(|keys| {
            if from < keys.len() && to < keys.len() {
                let key = keys.remove(from);
                keys.insert(to, key);
            }
        });
    }

    /// Renames a field, and its place on a page (conditions that name it are left for the
    /// check to point out).
    pub(crate) fn rename_field(&self, index: usize, new_id: &str) {
        let old = self.text(&format!("/fields/{index}/id"));
        self.value.update(|v| {
            set_pointer(v, &format!("/fields/{index}/id"), Some(json!(new_id)));
            for page in pages_mut(v) {
                if let Some(list) = page.pointer_mut("/fields").and_then(Value::as_array_mut) {
                    for entry in list.iter_mut() {
                        if entry.as_str() == Some(old.as_str()) {
                            *entry = json!(new_id);
                        }
                    }
                }
            }
        });
    }

    /// The ids of a survey's pages (empty for a one-page form).
    pub(crate) fn page_ids(&self) -> Vec<String> {
        self.value.with(|v| strings_at(v, "/pages", "id"))
    }

    /// Which page (its index) lists the field `id`.
    pub(crate) fn page_of(&self, id: &str) -> Option<usize> {
        self.value.with(|v| {
            v.pointer("/pages")?.as_array()?.iter().position(|page| {
                page.get("fields")
                    .and_then(Value::as_array)
                    .is_some_and(|list| list.iter().any(|f| f.as_str() == Some(id)))
            })
        })
    }

    /// Moves the field `id` to the end of page `page`, off any other page.
    pub(crate) fn move_to_page(&self, id: &str, page: usize) {
        self.value.update(|v| {
            for listed in pages_mut(v) {
                if let Some(list) = listed.pointer_mut("/fields").and_then(Value::as_array_mut) {
                    list.retain(|f| f.as_str() != Some(id));
                }
            }
            if let Some(target) = v.pointer_mut(&format!("/pages/{page}")) {
                push(target, "/fields", json!(id));
            }
        });
    }

    /// The problems at `pointer` or below it.
    pub(crate) fn problems_at(&self, pointer: &str) -> Vec<Problem> {
        self.checked.with(|(_, problems)| {
            problems
                .iter()
                .filter(|p| {
                    let at = to_pointer(&p.path);
                    at == pointer
                        || at
                            .strip_prefix(pointer)
                            .is_some_and(|rest| rest.starts_with('/'))
                })
                .cloned()
                .collect()
        })
    }

    /// The config as the file to download: pretty JSON with a final newline.
    pub(crate) fn file_text(&self) -> String {
        let text = self
            .value
            .with(|v| serde_json::to_string_pretty(v).unwrap_or_default());
        text + "\n"
    }
}

/// A template as a document.
pub(crate) fn template(index: usize) -> Value {
    TEMPLATES
        .get(index)
        .and_then(|(_, text)| serde_json::from_str(text).ok())
        .unwrap_or_else(|| json!({}))
}

/// A check path (`fields[3].label.en`, `$` for the whole document) as a JSON pointer
/// (`/fields/3/label/en`).
pub(crate) fn to_pointer(path: &str) -> String {
    if path == "$" || path.is_empty() {
        return String::new();
    }
    let mut pointer = String::new();
    for part in path.split('.') {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            pointer.push('/');
            pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        for index in indexes.split('[') {
            let index = index.trim_end_matches(']');
            if !index.is_empty() {
                pointer.push('/');
                pointer.push_str(index);
            }
        }
    }
    pointer
}

/// An element id for the control of `pointer`: `b-fields-3-label-en`.
pub(crate) fn dom_id(pointer: &str) -> String {
    let mut id = String::from("b");
    for c in pointer.chars() {
        id.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        });
    }
    id
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn array_len(v: &Value, pointer: &str) -> usize {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

fn strings_at(v: &Value, pointer: &str, key: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    item.get(key)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pages_mut(v: &mut Value) -> impl Iterator<Item = &mut Value> {
    v.pointer_mut("/pages")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

fn push(v: &mut Value, pointer: &str, item: Value) {
    if v.pointer(pointer).and_then(Value::as_array).is_none() {
        set_pointer(v, pointer, Some(json!([])));
    }
    if let Some(list) = v.pointer_mut(pointer).and_then(Value::as_array_mut) {
        list.push(item);
    }
}

/// Sets (or with `None` removes) the value at `pointer`, creating objects on the way. An
/// object emptied by a removal is removed as well (an empty `help` is no help).
fn set_pointer(root: &mut Value, pointer: &str, new: Option<Value>) {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = tokens.split_last() else {
        if let Some(new) = new {
            *root = new;
        }
        return;
    };
    let mut at = &mut *root;
    for token in parents {
        at = match at {
            Value::Array(items) => match token.parse::<usize>() {
                Ok(i) if i < items.len() => &mut items[i],
                _ => return,
            },
            Value::Object(map) => map.entry(token.clone()).or_insert_with(|| json!({})),
            _ => return,
        };
    }
    match (at, new) {
        (Value::Object(map), Some(new)) => {
            map.insert(last.clone(), new);
        }
        (Value::Object(map), None) => {
            map.remove(last);
        }
        (Value::Array(items), Some(new)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items[i] = new;
            }
        }
        _ => {}
    }
    if pointer.matches('/').count() > 1 {
        let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
        let emptied = root_is_empty_object(root, parent);
        if emptied {
            set_pointer(root, parent, None);
        }
    }
}

fn root_is_empty_object(root: &Value, pointer: &str) -> bool {
    root.pointer(pointer)
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_paths_become_pointers() {
        assert_eq!(to_pointer("fields[3].purposes[0]"), "/fields/3/purposes/0");
        assert_eq!(to_pointer("texts.title.de"), "/texts/title/de");
        assert_eq!(to_pointer("$"), "");
        assert_eq!(to_pointer("pages[1].fields"), "/pages/1/fields");
    }

    #[test]
    fn setting_creates_and_removing_prunes() {
        let mut v = json!({"fields": [{"id": "a"}]});
        set_pointer(&mut v, "/fields/0/help/en", Some(json!("Why")));
        assert_eq!(v, json!({"fields": [{"id": "a", "help": {"en": "Why"}}]}));
        set_pointer(&mut v, "/fields/0/help/en", None);
        assert_eq!(v, json!({"fields": [{"id": "a"}]}));
        // An index past the end changes nothing.
        set_pointer(&mut v, "/fields/5/id", Some(json!("b")));
        assert_eq!(v, json!({"fields": [{"id": "a"}]}));
    }

    #[test]
    fn every_template_passes_the_check() {
        for (name, text) in TEMPLATES {
            let (config, problems) = FormConfig::check(text);
            assert!(
                config.is_some() && problems.is_empty(),
                "{name}: {problems:?}"
            );
        }
    }
}
