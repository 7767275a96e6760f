//! `formseal export --format hubspot|mailchimp`: the CSV those contact imports take as they
//! are. The header and a row are compared with what the imports document (see `src/crm.rs` for
//! the sources), the file is read back with Python's own `csv` module, fields the mapping does
//! not name are left out with a notice (never renamed), and bad mappings are refused here as in
//! `formseal check`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chacha20::ChaCha20Rng;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, SubmissionInput};
use rand_core::SeedableRng;
use serde_json::{Value, json};

mod common;
use common::{NOW, answers, formseal, newsletter, python, repo, run, store_with, test_key};

/// The example answers sealed with both consent purposes granted (or only the required one).
fn seal(seed: u64, name: &str, personalisation: bool) -> String {
    let config = newsletter();
    let mut answers = answers();
    answers.insert("name".into(), json!(name));
    answers.insert("personalisation_consent".into(), json!(personalisation));
    let mut granted = std::collections::BTreeSet::from(["newsletter".to_string()]);
    if personalisation {
        granted.insert("personalisation".to_string());
    }
    let consent = ConsentState {
        notice_version: "2026-11".into(),
        granted,
    };
    let params = BTreeMap::new();
    let input = SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: "subject-1",
        now_unix: NOW,
        url_params: &params,
        lang: None,
    };
    envelope::seal_submission(&config, &input, &mut ChaCha20Rng::seed_from_u64(seed))
        .unwrap()
        .jwe
        .0
}

/// The example form with `export` added.
fn form_with(dir: &Path, export: Value) -> PathBuf {
    let mut config: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/newsletter.json")).unwrap(),
    )
    .unwrap();
    config["export"] = export;
    let path = dir.join("form.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// The file as Python's `csv` module reads it: the header, then each row.
fn python_csv(file: &Path) -> Vec<Vec<String>> {
    let output = std::process::Command::new(python())
        .args([
            "-c",
            "import csv, json, sys\n\
             with open(sys.argv[1], newline='', encoding='utf-8') as f:\n\
             \x20   print(json.dumps(list(csv.reader(f))))",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn export(args: &[&str], db: &Path, out: &Path, code: i32) -> String {
    let (stdout, stderr) = run(
        formseal()
            .arg("export")
            .args(args)
            .arg("--key")
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(db)
            .arg("--out")
            .arg(out),
        code,
    );
    assert!(stdout.is_empty(), "{stdout}");
    stderr
}

#[test]
fn hubspot_gets_its_column_names_lawful_basis_and_dates() {
    let (dir, db) = store_with(&[("2026-11-24", &seal(1, "Zoë \"Jo\", Fryslân", false))]);
    let form = form_with(
        dir.path(),
        json!({"hubspot": {
            "email": "Email", "name": "First Name", "phone": "Phone Number",
            "topics": "Topics", "@at": "Consent date"
        }}),
    );
    let out = dir.path().join("hubspot.csv");
    let err = export(
        &["--format", "hubspot", "--form", form.to_str().unwrap()],
        &db,
        &out,
        0,
    );
    // Left out, by name, never renamed.
    assert!(
        err.contains(
            "notice: left out the fields the hubspot mapping does not name: birth_date, \
             postcode, newsletter_consent, personalisation_consent, source"
        ),
        "{err}"
    );
    let table = python_csv(&out);
    assert_eq!(
        table[0],
        [
            "Email",
            "First Name",
            "Phone Number",
            "Topics",
            "Consent date",
            "Legal basis for processing contact's data"
        ]
    );
    assert_eq!(
        table[1],
        [
            "jan.de.vries@example.nl",
            "Zoë \"Jo\", Fryslân",
            "+31612345678",
            // HubSpot separates several values of one property with `;`.
            "product;events",
            // A date as HubSpot's date picker imports it: year-month-day.
            "2026-11-24",
            "Freely given consent from contact"
        ]
    );
    assert_eq!(table.len(), 2);
}

#[test]
fn mailchimp_gets_email_address_and_the_granted_purposes_as_tags() {
    let (dir, db) = store_with(&[
        ("2026-11-24", &seal(1, "Ann", true)),
        ("2026-11-24", &seal(2, "Bob", false)),
    ]);
    let map = dir.path().join("mailchimp-columns.json");
    std::fs::write(
        &map,
        r#"{"email": "Email Address", "name": "First Name", "@at": "Signup Date"}"#,
    )
    .unwrap();
    let out = dir.path().join("mailchimp.csv");
    let err = export(
        &["--format", "mailchimp", "--map", map.to_str().unwrap()],
        &db,
        &out,
        0,
    );
    // Without the form: the fields the records held that the mapping does not name.
    assert!(
        err.contains("left out the fields the mailchimp mapping does not name:"),
        "{err}"
    );
    assert!(err.contains("postcode") && err.contains("topics"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    // Several tags in one cell, separated by commas inside quotes, as Mailchimp documents.
    assert!(
        text.contains(",\"newsletter,personalisation\"\r\n"),
        "{text}"
    );
    let table = python_csv(&out);
    assert_eq!(
        table,
        [
            vec!["Email Address", "First Name", "Signup Date", "Tags"],
            vec![
                "jan.de.vries@example.nl",
                "Ann",
                "2026-11-24",
                "newsletter,personalisation"
            ],
            vec!["jan.de.vries@example.nl", "Bob", "2026-11-24", "newsletter"],
        ]
    );
}

#[test]
fn a_mapping_without_the_email_column_or_with_an_unknown_field_is_refused() {
    let (dir, db) = store_with(&[("2026-11-24", &seal(1, "Ann", false))]);
    let out = dir.path().join("x.csv");
    let form = form_with(dir.path(), json!({"mailchimp": {"name": "First Name"}}));
    let err = export(
        &["--format", "mailchimp", "--form", form.to_str().unwrap()],
        &db,
        &out,
        1,
    );
    assert!(
        err.contains("the mailchimp mapping names no field for the column \"Email Address\""),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert!(!out.exists());

    // `formseal check` says what is wrong with the mapping, as export does.
    let form = form_with(
        dir.path(),
        json!({"hubspot": {"email": "Email", "e-mail": "Email 2", "name": "Email"}}),
    );
    let (stdout, stderr) = run(formseal().arg("check").arg(&form), 1);
    let stdout = stdout + &stderr;
    assert!(stdout.contains("export.hubspot.e-mail"), "{stdout}");
    assert!(
        stdout.contains("the form has no field \"e-mail\""),
        "{stdout}"
    );
    assert!(stdout.contains("is the column of"), "{stdout}");
    let err = export(
        &["--format", "hubspot", "--form", form.to_str().unwrap()],
        &db,
        &out,
        1,
    );
    assert!(err.contains("not a valid form config"), "{err}");

    // A format without a mapping, and --map with a generic format.
    let err = export(&["--format", "hubspot"], &db, &out, 1);
    assert!(
        err.contains("--format hubspot needs a column mapping"),
        "{err}"
    );
    let err = export(&["--format", "csv", "--map", "x.json"], &db, &out, 1);
    assert!(err.contains("--map is for --format hubspot"), "{err}");
}

#[test]
fn the_schema_knows_the_export_mapping() {
    let (schema, _) = run(formseal().arg("schema"), 0);
    let schema: Value = serde_json::from_str(&schema).unwrap();
    let text = schema.to_string();
    assert!(schema["properties"]["export"].is_object(), "{text}");
    assert!(text.contains("\"mailchimp\"") && text.contains("\"hubspot\""));
}

/// The README's commands of "Exports a CRM imports as they are", run as written, with the
/// mapping it shows.
#[test]
fn the_readme_examples_work_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("#### Exports a CRM imports as they are")
        .nth(1)
        .unwrap()
        .split("\n#### ")
        .next()
        .unwrap();
    let commands: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("formseal "))
        .collect();
    assert_eq!(commands.len(), 2, "{section}");
    // The mapping shown in the README, into the example form.
    let mapping = section
        .split("```json")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let export: Value = serde_json::from_str(&format!("{{{mapping}}}")).unwrap();

    let (dir, db) = store_with(&[("2026-11-24", &seal(1, "Ann", true))]);
    assert_eq!(db, dir.path().join("collector.sqlite"));
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::copy(test_key("rsa2048.pem"), dir.path().join("keys/private.pem")).unwrap();
    let form = form_with(dir.path(), export["export"].clone());
    assert_eq!(form, dir.path().join("form.json"));
    std::fs::write(
        dir.path().join("mailchimp-columns.json"),
        export["export"]["mailchimp"].to_string(),
    )
    .unwrap();
    for command in commands {
        run(
            formseal()
                .current_dir(dir.path())
                .args(command.split(' ').skip(1)),
            0,
        );
    }
    let hubspot = python_csv(&dir.path().join("hubspot-2026-11-24.csv"));
    assert_eq!(
        hubspot[0],
        [
            "Email",
            "First Name",
            "Phone Number",
            "Consent date",
            "Legal basis for processing contact's data"
        ]
    );
    let mailchimp = python_csv(&dir.path().join("mailchimp.csv"));
    assert_eq!(
        mailchimp[1],
        [
            "jan.de.vries@example.nl",
            "Ann",
            "newsletter,personalisation"
        ]
    );
}
