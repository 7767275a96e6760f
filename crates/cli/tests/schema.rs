//! `formseal schema`: the JSON Schema of config v1, checked with an independent validator
//! (Python `jsonschema`, Draft 2020-12, from the virtualenv `target/py` that `cargo xtask test`
//! makes): every example config validates, one carrying `"$schema"` too, and configs with a
//! misspelt key, a wrong type or an unknown kind fail it, as `formseal check` fails them.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use common::{formseal, repo, run};
use serde_json::{Value, json};

/// The example configs (every `examples/*.json` but the answers).
fn examples() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter(|path| !path.ends_with("answers.json"))
        .collect();
    found.sort();
    assert!(found.len() >= 5, "{found:?}");
    found
}

/// Validates each file against `schema` with Python's `jsonschema`; one line per file:
/// `ok` or the first error's JSON path and message.
fn validate(schema: &Path, files: &[PathBuf]) -> Vec<String> {
    let python = common::python();
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
for name in sys.argv[2:]:
    errors = sorted(validator.iter_errors(json.load(open(name))), key=lambda e: list(e.absolute_path))
    print("ok" if not errors else "$." + ".".join(map(str, errors[0].absolute_path)) + ": " + errors[0].message)
"#;
    let output = Process::new(python)
        .arg("-c")
        .arg(script)
        .arg(schema)
        .args(files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "jsonschema failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn schema_file(dir: &Path) -> PathBuf {
    let (stdout, _) = run(formseal().arg("schema"), 0);
    let schema: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown top-level keys are refused"
    );
    let path = dir.join("formseal-config.schema.json");
    fs::write(&path, stdout).unwrap();
    path
}

/// The newsletter example changed by `change`, written to `dir/name`.
fn variant(dir: &Path, name: &str, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut config: Value =
        serde_json::from_str(&fs::read_to_string(repo().join("examples/newsletter.json")).unwrap())
            .unwrap();
    change(&mut config);
    let path = dir.join(name);
    fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    path
}

#[test]
fn every_example_config_validates_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let examples = examples();
    let results = validate(&schema, &examples);
    for (file, result) in examples.iter().zip(&results) {
        assert_eq!(result, "ok", "{}", file.display());
    }
    assert_eq!(results.len(), examples.len());
}

#[test]
fn a_config_naming_the_schema_validates_and_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let named = variant(dir.path(), "named.json", |c| {
        c["$schema"] = json!("./formseal-config.schema.json");
    });
    assert_eq!(validate(&schema, std::slice::from_ref(&named)), ["ok"]);
    run(formseal().arg("check").arg(&named), 0);
}

#[test]
fn a_closing_date_and_a_response_limit_validate() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let closing = variant(dir.path(), "closing.json", |c| {
        c["closes_at"] = json!("2026-12-31");
        c["max_responses"] = json!(500);
    });
    assert_eq!(validate(&schema, std::slice::from_ref(&closing)), ["ok"]);
    run(formseal().arg("check").arg(&closing), 0);
}

#[test]
fn a_misspelt_key_or_a_wrong_type_fails_the_schema_as_it_fails_check() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let broken = [
        (
            variant(dir.path(), "misspelt-top.json", |c| {
                c["save_drafts"] = json!(true);
            }),
            "save_drafts",
        ),
        (
            variant(dir.path(), "misspelt-field.json", |c| {
                c["fields"][0]["lable"] = c["fields"][0]["label"].clone();
            }),
            "lable",
        ),
        (
            variant(dir.path(), "wrong-type.json", |c| {
                c["version"] = json!("one")
            }),
            "version",
        ),
        (
            variant(dir.path(), "unknown-kind.json", |c| {
                c["kind"] = json!("newsleter")
            }),
            "kind",
        ),
        (
            variant(dir.path(), "bad-closing-date.json", |c| {
                c["closes_at"] = json!("31-12-2026")
            }),
            "closes_at",
        ),
        (
            variant(dir.path(), "zero-limit.json", |c| {
                c["max_responses"] = json!(0)
            }),
            "max_responses",
        ),
        (
            variant(dir.path(), "wrong-rule.json", |c| {
                c["fields"][0]["minimise"] = json!({"rule": "birth-yaer"});
            }),
            "fields.0",
        ),
    ];
    let files: Vec<PathBuf> = broken.iter().map(|(path, _)| path.clone()).collect();
    let results = validate(&schema, &files);
    for ((file, what), result) in broken.iter().zip(&results) {
        assert_ne!(result, "ok", "{} passed the schema", file.display());
        assert!(result.contains(what), "{}: {result}", file.display());
        let (_, stderr) = run(formseal().arg("check").arg(file), 1);
        assert!(
            !stderr.is_empty(),
            "formseal check refused {} silently",
            file.display()
        );
    }
}
