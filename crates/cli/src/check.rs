//! `formseal check`: reads a form config, lists every problem with its JSON path, and otherwise
//! summarises what the form collects, why, and for how long. An unknown key does not hide the
//! other problems: it is reported and set aside so the rest of the config is still checked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use formseal_core::Error;
use formseal_core::config::{FormConfig, Problem};
use formseal_core::keys::RecipientKey;
use serde::Serialize;
use serde_json::Value;

use crate::{Hinted, read_text, shown};

/// Check a form config and summarise it.
///
/// Prints every problem as `FILE: json.path: what is wrong (how to fix it)` on stderr and exits
/// with 1. When the config is fine, prints the form, its keys and, per purpose, its legal
/// basis, retention and the fields that serve it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  formseal check form.json")]
pub(crate) struct Args {
    /// The form config (JSON) to check.
    #[arg(value_name = "FORM.json")]
    form: PathBuf,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let text = read_text(&args.form, "form config")?;
    let (config, mut problems) = parse_collecting(&text);
    if let Some(config) = &config {
        problems.extend(config.problems());
    }
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{}: {problem}", shown(&args.form));
        }
        return Err(anyhow!(
            "{} problem{} in {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            shown(&args.form)
        ));
    }
    let config = config.ok_or_else(|| anyhow!("config did not parse"))?;
    print!("{}", summary(&config)?);
    Ok(())
}

/// Loads a config for the other commands: any problem is an error that points to `check`.
pub(crate) fn load(path: &Path) -> anyhow::Result<FormConfig> {
    let text = read_text(path, "form config")?;
    match FormConfig::from_json(&text) {
        Ok(config) => Ok(config),
        Err(err) => Err(anyhow::Error::new(err).context(Hinted::context(
            format!("{} is not a valid form config", shown(path)),
            format!("run `formseal check {}` to see every problem", shown(path)),
        ))),
    }
}

/// Parses like [`FormConfig::parse`], but keeps going past unknown keys: each is reported, taken
/// out, and the rest parsed again, so one typo does not hide the config's other problems. Any
/// other syntax error stops parsing (the document's shape is then too uncertain to go on).
fn parse_collecting(text: &str) -> (Option<FormConfig>, Vec<Problem>) {
    let mut problems = Vec::new();
    // A config has far fewer keys than this; the bound only guards against a loop.
    let mut document: Option<Value> = None;
    for _ in 0..1000 {
        let source = match &document {
            Some(value) => value.to_string(),
            None => text.to_owned(),
        };
        match FormConfig::parse(&source) {
            Ok(config) => return (Some(config), problems),
            Err(Error::ConfigSyntax { path, message }) => {
                let unknown = unknown_key(&message);
                let removed = unknown.as_ref().is_some_and(|(key, _)| {
                    let value = document
                        .get_or_insert_with(|| serde_json::from_str(text).unwrap_or(Value::Null));
                    remove_key(value, &path, key)
                });
                match (unknown, removed) {
                    (Some((key, expected)), true) => {
                        problems.push(unknown_key_problem(&path, &key, &expected));
                    }
                    _ => {
                        problems.push(Problem {
                            path,
                            message,
                            hint: None,
                        });
                        return (None, problems);
                    }
                }
            }
            Err(other) => {
                problems.push(Problem {
                    path: "$".into(),
                    message: other.to_string(),
                    hint: None,
                });
                return (None, problems);
            }
        }
    }
    (None, problems)
}

/// The key and the expected keys of serde's "unknown field `x`, expected one of `a`, `b`".
fn unknown_key(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((key.to_owned(), expected))
}

fn unknown_key_problem(path: &str, key: &str, expected: &[String]) -> Problem {
    // serde_path_to_error may or may not include the unknown key in the path; show it once.
    let path = if path == key || path.ends_with(&format!(".{key}")) {
        path.to_owned()
    } else if path == "$" || path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    let known = expected.join(", ");
    let hint = match closest(key, expected) {
        Some(best) => format!("did you mean \"{best}\"? known: {known}"),
        None => format!("known: {known}"),
    };
    Problem {
        path,
        message: format!("unknown key \"{key}\""),
        hint: Some(hint),
    }
}

/// Removes `key` from the object at `path` (`fields[3]`, `purposes[0].label`), or from the
/// object at `path` minus its last segment when the path already names the key.
fn remove_key(root: &mut Value, path: &str, key: &str) -> bool {
    let mut segments = split_path(path);
    if segments.last().map(String::as_str) == Some(key) {
        segments.pop();
    }
    let mut node = root;
    for segment in &segments {
        let next = match segment.parse::<usize>() {
            Ok(i) if node.is_array() => node.get_mut(i),
            _ => node.get_mut(segment.as_str()),
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    node.as_object_mut()
        .is_some_and(|object| object.remove(key).is_some())
}

/// `fields[3].minimise.rule` → `["fields", "3", "minimise", "rule"]`; `$` or `.` → `[]`.
fn split_path(path: &str) -> Vec<String> {
    if path == "$" || path == "." || path.is_empty() {
        return Vec::new();
    }
    path.split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches(']').to_owned())
        .collect()
}

/// The candidate most like `word`, if close enough to be a typo.
fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), c.as_str()))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The summary of a valid config, as printed on stdout.
fn summary(config: &FormConfig) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "form {} version {} ({})",
        config.id,
        config.version,
        name_of(&config.kind)
    )?;
    writeln!(out, "languages: {}", config.languages.join(", "))?;
    writeln!(out, "endpoint: {}", config.endpoint)?;
    writeln!(
        out,
        "privacy notice: {} (version {})",
        config.privacy_notice.url, config.privacy_notice.version
    )?;
    writeln!(out, "keys:")?;
    for jwk in &config.recipients {
        let key = RecipientKey::from_jwk(jwk)?;
        writeln!(out, "  {} ({}-bit RSA)", key.kid(), key.bits())?;
    }
    writeln!(out, "purposes:")?;
    for purpose in &config.purposes {
        let fields: Vec<&str> = config
            .fields
            .iter()
            .filter(|f| f.purposes.contains(&purpose.id))
            .map(|f| f.id.as_str())
            .collect();
        let retention = purpose
            .retention_days
            .map_or_else(|| "no retention".to_owned(), |d| format!("kept {d} days"));
        writeln!(
            out,
            "  {}: {}, {}, {}; fields: {}",
            purpose.id,
            name_of(&purpose.legal_basis),
            retention,
            if purpose.required {
                "required"
            } else {
                "optional"
            },
            if fields.is_empty() {
                "none".to_owned()
            } else {
                fields.join(", ")
            }
        )?;
    }
    writeln!(out, "{} fields, no problems found", config.fields.len())?;
    Ok(out)
}

/// The config spelling of an enum value (`legitimate-interests`).
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_message_is_taken_apart() {
        let (key, expected) =
            unknown_key("unknown field `requird`, expected one of `id`, `required`").unwrap();
        assert_eq!(key, "requird");
        assert_eq!(expected, ["id", "required"]);
        assert_eq!(closest("requird", &expected), Some("required"));
        assert_eq!(unknown_key("invalid type: string"), None);
    }

    #[test]
    fn paths_split_into_segments_and_keys_are_removed() {
        assert_eq!(
            split_path("fields[3].minimise.rule"),
            ["fields", "3", "minimise", "rule"]
        );
        let mut value: Value = serde_json::json!({"fields": [{"id": "a"}, {"id": "b", "x": 1}]});
        assert!(remove_key(&mut value, "fields[1].x", "x"));
        assert!(remove_key(&mut value, "fields[0]", "id"));
        assert!(!remove_key(&mut value, "fields[5]", "id"));
        assert_eq!(value, serde_json::json!({"fields": [{}, {"id": "b"}]}));
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("requird", "required"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
