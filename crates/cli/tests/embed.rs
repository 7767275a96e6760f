//! `formseal embed`: the snippet pins the form's key id and carries the SRI hash of the built
//! widget, computed here independently (OpenSSL's `sha384` of a known file); a missing `pkg/`
//! is an error with a hint to build it.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn formseal() -> Command {
    let mut cmd = Command::cargo_bin("formseal").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

/// The kid of the committed 2048-bit TEST key, the example form's recipient.
const TEST_KID: &str = "ngvrVofnf2JpLPgWGwI74NxIhaoOFlnMy8Ce7X7qSaQ";

/// `formseal embed EXAMPLE --pkg PKG`'s stdout; it must succeed.
fn embed_ok(example: &str, pkg: &std::path::Path) -> String {
    let output = formseal()
        .arg("embed")
        .arg(repo().join(example))
        .arg("--pkg")
        .arg(pkg)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn prints_the_script_with_its_sri_hash_and_the_pinned_element() {
    let pkg = tempfile::tempdir().unwrap();
    // SHA-384 of the 3 bytes "abc" is the FIPS 180-2 test vector; its base64 is fixed.
    fs::write(pkg.path().join("formseal-signup.js"), "abc").unwrap();
    let stdout = embed_ok("examples/newsletter.json", pkg.path());
    assert_eq!(
        stdout,
        format!(
            "<script type=\"module\" src=\"/pkg/formseal-signup.js\" \
             integrity=\"sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn\" \
             crossorigin=\"anonymous\"></script>\n\
             <formseal-form src=\"/forms/newsletter.json\" key-id=\"{TEST_KID}\"></formseal-form>\n"
        )
    );
}

#[test]
fn base_url_and_form_url_are_used_as_given() {
    let pkg = tempfile::tempdir().unwrap();
    fs::write(pkg.path().join("formseal-signup.js"), "abc").unwrap();
    let output = formseal()
        .arg("embed")
        .arg(repo().join("examples/newsletter.json"))
        .arg("--pkg")
        .arg(pkg.path())
        .args(["--base-url", "https://cdn.shop.example/fs/"])
        .args(["--form-url", "https://shop.example/f/n.json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("src=\"https://cdn.shop.example/fs/formseal-signup.js\""));
    assert!(stdout.contains("src=\"https://shop.example/f/n.json\""));
}

#[test]
fn a_missing_pkg_says_how_to_build_it() {
    let empty = tempfile::tempdir().unwrap();
    let output = formseal()
        .arg("embed")
        .arg(repo().join("examples/newsletter.json"))
        .arg("--pkg")
        .arg(empty.path().join("pkg"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot read the built widget"), "{stderr}");
    assert!(stderr.contains("hint: run `cargo xtask wasm`"), "{stderr}");
}

#[test]
fn an_invalid_form_points_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let form = dir.path().join("bad.json");
    fs::write(&form, "{\"formseal\": 1}").unwrap();
    fs::write(dir.path().join("formseal-signup.js"), "abc").unwrap();
    let output = formseal()
        .arg("embed")
        .arg(&form)
        .arg("--pkg")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("formseal check"), "{stderr}");
}

#[test]
fn a_survey_names_the_survey_build_and_hashes_that_file() {
    let pkg = tempfile::tempdir().unwrap();
    fs::write(pkg.path().join("formseal-signup.js"), "not this one").unwrap();
    fs::write(pkg.path().join("formseal-survey.js"), "abc").unwrap();
    let stdout = embed_ok("examples/survey.json", pkg.path());
    assert!(
        stdout.contains("src=\"/pkg/formseal-survey.js\""),
        "{stdout}"
    );
    // The SRI value of "abc": the survey build's bytes, not the sign-up build's.
    assert!(stdout.contains(
        "integrity=\"sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn\""
    ));
    assert!(stdout.contains("<formseal-form src=\"/forms/"), "{stdout}");
}
