//! Generates the widget's table of built-in texts from `src/texts.json`, the one source the
//! consent loader's texts are also written from (`cargo xtask wasm`). The wasm gets a plain
//! `const` table: no JSON parser, no data file at run time.

use std::fmt::Write as _;
use std::path::Path;

const SOURCE: &str = "src/texts.json";

fn main() {
    println!("cargo::rerun-if-changed={SOURCE}");
    let text = std::fs::read_to_string(SOURCE).unwrap_or_else(|e| panic!("reading {SOURCE}: {e}"));
    let doc: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{SOURCE} is not JSON: {e}"));
    let languages: Vec<&str> = doc["languages"]
        .as_array()
        .unwrap_or_else(|| panic!("{SOURCE}: `languages` must be an array"))
        .iter()
        .map(|l| {
            l.as_str()
                .unwrap_or_else(|| panic!("{SOURCE}: a language is not a string"))
        })
        .collect();
    assert_eq!(
        languages,
        ["en", "nl", "de", "fr"],
        "{SOURCE}: i18n.rs's `Builtins` expects en, nl, de, fr in this order"
    );
    let texts = doc["texts"]
        .as_array()
        .unwrap_or_else(|| panic!("{SOURCE}: `texts` must be an array"));

    let mut variants = String::new();
    let mut rows = String::new();
    let mut overrides = String::new();
    // Texts only the loader's modules show stay out of the wasm.
    let widget_texts = texts
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry["widget"].as_bool() != Some(false));
    let mut count = 0;
    for (i, entry) in widget_texts {
        count += 1;
        let field = |name: &str| {
            entry[name]
                .as_str()
                .unwrap_or_else(|| panic!("{SOURCE}: texts[{i}].{name} must be a string"))
        };
        let key = field("key");
        let variant: String = key
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase())
                    .into_iter()
                    .chain(chars)
                    .collect::<String>()
            })
            .collect();
        let _ = writeln!(variants, "    /// {}\n    {variant},", field("doc"));
        let cells: Vec<String> = languages
            .iter()
            .map(|l| format!("{:?}", field(l)))
            .collect();
        let _ = writeln!(rows, "    [{}],", cells.join(", "));
        if entry["override"].as_bool() == Some(true) {
            let _ = writeln!(overrides, "        Builtin::{variant} => {key:?},");
        }
    }
    let generated = format!(
        "/// One built-in sentence of the widget (generated from `{SOURCE}`).\n\
         #[derive(Clone, Copy)]\n\
         pub(crate) enum Builtin {{\n{variants}}}\n\n\
         /// Built-in texts: one row per [`Builtin`], one column per [`Builtins`] language.\n\
         const TEXTS: [[&str; {}]; {}] = [\n{rows}];\n\n\
         /// The key of a built-in text in a consent config's `consent.texts` overrides.\n\
         pub(crate) fn override_key(text: Builtin) -> Option<&'static str> {{\n    \
         Some(match text {{\n{overrides}        _ => return None,\n    }})\n}}\n",
        languages.len(),
        count,
    );
    let out = std::env::var("OUT_DIR").unwrap_or_else(|e| panic!("OUT_DIR: {e}"));
    std::fs::write(Path::new(&out).join("builtin_texts.rs"), generated)
        .unwrap_or_else(|e| panic!("writing builtin_texts.rs: {e}"));
}
