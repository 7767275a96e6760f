//! End-to-end tests of the `formseal` binary: every command, its exit status, what goes to
//! stdout and what to stderr. They use the committed TEST keys of `crates/core/tests/examples/`
//! and the example form of `examples/`, whose recipient is the 2048-bit test key.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use formseal_core::time::Date;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn test_key(name: &str) -> PathBuf {
    repo().join("crates/core/tests/examples").join(name)
}

fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

fn formseal() -> Command {
    let mut cmd = Command::cargo_bin("formseal").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Runs and checks the exit status, showing both streams when it is not the expected one.
fn run(cmd: &mut Command, code: i32) -> Output {
    let output = cmd.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&output),
        stderr(&output)
    );
    output
}

/// Every base64 line of a PEM body; none of them may show up in any output.
fn pem_body_lines(pem: &Path) -> Vec<String> {
    fs::read_to_string(pem)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn assert_no_key_material(output: &Output, pem: &Path) {
    let all = format!("{}{}", stdout(output), stderr(output));
    assert!(!all.contains("PRIVATE KEY"), "{all}");
    for line in pem_body_lines(pem) {
        assert!(!all.contains(&line), "key material in output:\n{all}");
    }
}

fn seal(consent: &[&str], extra: &[&str]) -> String {
    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(example("newsletter.json"));
    for purpose in consent {
        cmd.args(["--consent", purpose]);
    }
    cmd.args(extra).pipe_stdin(example("answers.json")).unwrap();
    let output = run(&mut cmd, 0);
    let jwe = stdout(&output);
    assert_eq!(jwe.lines().count(), 1, "{jwe}");
    jwe.trim().to_owned()
}

fn decrypt(key: &Path, input: &str, code: i32) -> Output {
    run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(key)
            .write_stdin(input.to_owned()),
        code,
    )
}

fn records(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The age band the example's birth date (1987-04-12) falls in today, in bands of ten.
fn expected_age_band() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let today = Date::from_unix(i64::try_from(now).unwrap());
    let age = Date::parse("1987-04-12").unwrap().years_until(today);
    let low = age / 10 * 10;
    format!("{low}-{}", low + 9)
}

/// A copy of the example form with `change` applied, in `dir`.
fn form_copy(dir: &Path, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut form: Value =
        serde_json::from_str(&fs::read_to_string(example("newsletter.json")).unwrap()).unwrap();
    change(&mut form);
    let path = dir.join("form.json");
    fs::write(&path, serde_json::to_string_pretty(&form).unwrap()).unwrap();
    path
}

// keygen

#[test]
fn keygen_writes_owner_only_pem_and_public_jwk_and_prints_the_kid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys");
    let output = run(
        formseal()
            .args(["keygen", "--bits", "2048", "--out"])
            .arg(&out),
        0,
    );
    let kid = stdout(&output);
    let kid = kid.trim();
    assert!(stderr(&output).contains("generating a 2048-bit"));

    let jwk: Value =
        serde_json::from_str(&fs::read_to_string(out.join("public.jwk.json")).unwrap()).unwrap();
    assert_eq!(jwk["kid"], kid);
    assert_eq!(jwk["alg"], "RSA-OAEP-256");
    assert_eq!(jwk["use"], "enc");
    assert_eq!(jwk["kty"], "RSA");
    assert!(jwk.get("d").is_none(), "public JWK has a private member");

    let pem = out.join("private.pem");
    let text = fs::read_to_string(&pem).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&pem).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    assert_no_key_material(&output, &pem);
}

#[test]
fn keygen_key_opens_what_is_sealed_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    run(
        formseal()
            .args(["keygen", "--bits", "2048", "--out"])
            .arg(&keys),
        0,
    );
    let jwk: Value =
        serde_json::from_str(&fs::read_to_string(keys.join("public.jwk.json")).unwrap()).unwrap();
    let form = form_copy(dir.path(), |f| f["recipients"] = json!([jwk]));
    let output = run(
        formseal()
            .arg("seal")
            .arg("--form")
            .arg(&form)
            .pipe_stdin(example("answers.json"))
            .unwrap(),
        0,
    );
    let opened = decrypt(&keys.join("private.pem"), &stdout(&output), 0);
    assert_eq!(records(&opened)[0]["form"], "newsletter");
}

#[test]
fn keygen_refuses_to_overwrite_an_existing_key() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("private.pem");
    fs::write(&pem, "an old key that must survive").unwrap();
    let output = run(
        formseal()
            .args(["keygen", "--bits", "2048", "--out"])
            .arg(dir.path()),
        1,
    );
    let err = stderr(&output);
    assert!(
        err.contains("already exists; refusing to overwrite"),
        "{err}"
    );
    assert!(err.contains("\n\nhint: choose another --out"), "{err}");
    assert!(stdout(&output).is_empty());
    assert_eq!(
        fs::read_to_string(&pem).unwrap(),
        "an old key that must survive"
    );
    assert!(!dir.path().join("public.jwk.json").exists());

    // A leftover public half is refused too, so the pair never gets out of step.
    let other = tempfile::tempdir().unwrap();
    fs::write(other.path().join("public.jwk.json"), "{}").unwrap();
    run(
        formseal()
            .args(["keygen", "--bits", "2048", "--out"])
            .arg(other.path()),
        1,
    );
    assert!(!other.path().join("private.pem").exists());
}

#[test]
fn keygen_refuses_weak_and_oversized_keys() {
    let dir = tempfile::tempdir().unwrap();
    for (bits, expected) in [("1024", "too weak"), ("16384", "at most 8192")] {
        let output = run(
            formseal()
                .args(["keygen", "--bits", bits, "--out"])
                .arg(dir.path()),
            2,
        );
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    }
    assert!(!dir.path().join("private.pem").exists());
}

// check

#[test]
fn check_accepts_the_example_and_prints_a_summary() {
    let output = run(formseal().arg("check").arg(example("newsletter.json")), 0);
    let out = stdout(&output);
    let kid = "ngvrVofnf2JpLPgWGwI74NxIhaoOFlnMy8Ce7X7qSaQ";
    for expected in [
        "form newsletter version 1 (signup)",
        "languages: en, nl",
        &format!("{kid} (2048-bit RSA)"),
        "newsletter: consent, kept 730 days, required; fields: email, name, phone, topics, newsletter_consent",
        "personalisation: consent, kept 365 days, optional; fields: birth_date, postcode, personalisation_consent",
        "campaign: legitimate-interests, kept 90 days, optional; fields: source",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn check_lists_every_problem_of_a_broken_config_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let weak: Value =
        serde_json::from_str(&fs::read_to_string(test_key("rsa1024.pub.jwk.json")).unwrap())
            .unwrap();
    let form = form_copy(dir.path(), |f| {
        f["endpoint"] = json!("http://collector.example.com/v1/submissions");
        f["recipients"] = json!([weak]);
        f["fields"][1]["purposes"] = json!(["analytcs"]);
        f["fields"][5]["purposes"] = json!([]);
        f["fields"][0]["requird"] = json!(true);
    });
    let output = run(formseal().arg("check").arg(&form), 1);
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let err = stderr(&output);
    let shown = form.display().to_string();
    for expected in [
        "fields[0].requird: unknown key \"requird\" (did you mean \"required\"?",
        "endpoint: plain http to \"collector.example.com\" is not allowed",
        "recipients[0]: key: 1024-bit modulus is too small (minimum 2048)",
        "fields[1].purposes[0]: unknown purpose \"analytcs\" (known: newsletter, personalisation, campaign)",
        "fields[5].purposes: field \"topics\" serves no purpose",
    ] {
        let line = format!("{shown}: {expected}");
        assert!(err.contains(&line), "{line:?} missing from:\n{err}");
    }
    assert!(err.contains("error: 5 problems in"), "{err}");
}

#[test]
fn check_shows_when_a_form_closes_and_refuses_a_bad_date_or_limit() {
    let dir = tempfile::tempdir().unwrap();
    let form = form_copy(dir.path(), |f| {
        f["closes_at"] = json!("2026-12-31");
        f["max_responses"] = json!(500);
    });
    let out = stdout(&run(formseal().arg("check").arg(&form), 0));
    for expected in [
        "closes: at the end of 2026-12-31 (UTC)",
        "responses: at most 500",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }

    // Each sets one key of the example it names.
    let broken = [
        (
            "newsletter.json",
            "closes_at",
            json!("2026-31-12"),
            "closes_at: \"2026-31-12\" is not a date (write it YYYY-MM-DD)",
        ),
        (
            "newsletter.json",
            "max_responses",
            json!(0),
            "max_responses: max_responses must be 1 or more (leave it out for no limit)",
        ),
        (
            "consent.json",
            "closes_at",
            json!("2026-12-31"),
            "closes_at: a consent banner never closes (remove \"closes_at\")",
        ),
    ];
    for (name, key, value, expected) in broken {
        let mut config: Value =
            serde_json::from_str(&fs::read_to_string(example(name)).unwrap()).unwrap();
        config[key] = value;
        let path = dir.path().join(name);
        fs::write(&path, config.to_string()).unwrap();
        let err = stderr(&run(formseal().arg("check").arg(&path), 1));
        let line = format!("{}: {expected}", path.display());
        assert!(err.contains(&line), "{line:?} missing from:\n{err}");
    }
}

#[test]
fn check_shows_where_a_syntax_error_is() {
    let dir = tempfile::tempdir().unwrap();
    let form = form_copy(dir.path(), |f| f["fields"][2]["type"] = json!(7));
    let output = run(formseal().arg("check").arg(&form), 1);
    assert!(
        stderr(&output).contains("fields[2].type: invalid type: integer `7`"),
        "{}",
        stderr(&output)
    );

    let bad_json = dir.path().join("bad.json");
    fs::write(&bad_json, "{\n  \"formseal\": 1,\n").unwrap();
    let output = run(formseal().arg("check").arg(&bad_json), 1);
    assert!(
        stderr(&output).contains("$: not valid JSON: EOF while parsing a value at line 3"),
        "{}",
        stderr(&output)
    );

    let output = run(formseal().arg("check").arg(dir.path().join("none.json")), 1);
    assert!(stderr(&output).contains("error: cannot read form config"));
}

// seal and decrypt

#[test]
fn seal_then_decrypt_gives_back_the_minimised_values() {
    let jwe = seal(
        &["personalisation"],
        &["--subject", "subject-1", "--param", "utm_source=mail"],
    );
    assert!(!jwe.contains("Vries"), "plaintext in the envelope: {jwe}");
    let output = decrypt(&test_key("rsa2048.pem"), &format!("{jwe}\n"), 0);
    let records = records(&output);
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["form"], "newsletter");
    assert_eq!(record["kind"], "submission");
    assert_eq!(record["subject"], "subject-1");
    assert_eq!(
        record["consent"],
        json!({"notice_version": "2026-11", "granted": ["newsletter", "personalisation"], "refused": []})
    );
    let values = &record["values"];
    assert_eq!(values["email"], "jan.de.vries@example.nl");
    assert_eq!(values["birth_date"], expected_age_band().as_str());
    assert_eq!(values["postcode"], "1234");
    assert_eq!(values["phone"], "+31612345678");
    assert_eq!(values["topics"], json!(["product", "events"]));
    assert_eq!(values["source"], "mail");
    assert!(stderr(&output).contains("opened 1 of 1 record"));
}

#[test]
fn seal_without_consent_leaves_out_personalisation_fields() {
    let jwe = seal(&[], &["--report"]);
    let output = decrypt(&test_key("rsa2048.pem"), &jwe, 0);
    let record = &records(&output)[0];
    let values = record["values"].as_object().unwrap();
    for absent in [
        "birth_date",
        "postcode",
        "personalisation_consent",
        "source",
    ] {
        assert!(!values.contains_key(absent), "{absent} in {values:?}");
    }
    assert_eq!(values["email"], "jan.de.vries@example.nl");
    assert_eq!(record["consent"]["refused"], json!(["personalisation"]));
    // A subject id is made up when none is given.
    assert_eq!(record["subject"].as_str().unwrap().len(), 22);
}

#[test]
fn seal_report_names_the_rule_per_field() {
    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(example("newsletter.json"))
        .arg("--report")
        .pipe_stdin(example("answers.json"))
        .unwrap();
    let output = run(&mut cmd, 0);
    let err = stderr(&output);
    for expected in [
        "minimisation: email: lower-cased",
        "minimisation: phone: e164",
        "minimisation: birth_date: dropped-no-consent",
    ] {
        assert!(err.contains(expected), "{expected:?} missing from:\n{err}");
    }
    assert!(!err.contains("Vries"), "an answer in the report: {err}");
}

#[test]
fn seal_lists_every_invalid_answer_and_prints_nothing() {
    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(example("newsletter.json"))
        .write_stdin(
            r#"{"email": "not an address", "phone": "call me", "newsletter_consent": false}"#,
        );
    let output = run(&mut cmd, 1);
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let err = stderr(&output);
    for expected in [
        "answers: newsletter_consent: consent for \"newsletter\" is required",
        "error: 1 invalid answer; nothing was sealed",
    ] {
        assert!(err.contains(expected), "{expected:?} missing from:\n{err}");
    }

    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(example("newsletter.json"))
        .write_stdin(
            r#"{"email": "not an address", "phone": "call me", "newsletter_consent": true}"#,
        );
    let output = run(&mut cmd, 1);
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    for expected in [
        "answers: email: not an e-mail address",
        "answers: phone: not a phone number",
        "error: 2 invalid answers; nothing was sealed",
    ] {
        assert!(err.contains(expected), "{expected:?} missing from:\n{err}");
    }
}

#[test]
fn seal_refuses_unknown_consent_bad_input_and_a_broken_form() {
    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(example("newsletter.json"))
        .args(["--consent", "personalistion"])
        .pipe_stdin(example("answers.json"))
        .unwrap();
    let err = stderr(&run(&mut cmd, 1));
    assert!(
        err.contains("the form has no purpose \"personalistion\""),
        "{err}"
    );
    assert!(err.contains("hint: consent-based purposes of this form: newsletter, personalisation"));

    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(example("newsletter.json"))
        .write_stdin("[\"piet@voorbeeld.nl\"]");
    let err = stderr(&run(&mut cmd, 1));
    assert!(err.contains("are a JSON array, not an object"), "{err}");
    assert!(!err.contains("piet@"), "an answer in an error: {err}");

    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(example("newsletter.json"))
        .write_stdin("{\"email\": \"piet@voorbeeld.nl\",");
    let err = stderr(&run(&mut cmd, 1));
    assert!(err.contains("not valid JSON (line 1, column"), "{err}");
    assert!(!err.contains("piet@"), "an answer in an error: {err}");

    let dir = tempfile::tempdir().unwrap();
    let form = form_copy(dir.path(), |f| f["endpoint"] = json!("ftp://x"));
    let mut cmd = formseal();
    cmd.arg("seal")
        .arg("--form")
        .arg(&form)
        .pipe_stdin(example("answers.json"))
        .unwrap();
    let output = run(&mut cmd, 1);
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("hint: run `formseal check"));
}

#[test]
fn decrypt_with_the_wrong_key_reports_each_line_and_goes_on() {
    let input = format!("{}\n{}\n", seal(&[], &[]), seal(&[], &[]));
    let key = test_key("rsa3072.pem");
    let output = decrypt(&key, &input, 1);
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    assert!(err.contains("line 1: cannot open envelope"), "{err}");
    assert!(err.contains("line 2: cannot open envelope"), "{err}");
    assert!(
        err.contains("error: opened 0 of 2 records; 2 failed"),
        "{err}"
    );
    assert_no_key_material(&output, &key);
}

#[test]
fn decrypt_skips_tampered_and_garbage_lines_and_opens_the_rest() {
    let good = seal(&[], &[]);
    // Flip one character of the ciphertext (the fourth part of the compact form).
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let ciphertext = &mut parts[3];
    let first = if ciphertext.starts_with('A') {
        "B"
    } else {
        "A"
    };
    ciphertext.replace_range(0..1, first);
    let tampered = parts.join(".");
    let input = format!("{good}\n\n{tampered}\nnot an envelope at all\n  {good}  \n");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sealed.jwe");
    fs::write(&file, &input).unwrap();
    let key = test_key("rsa2048.pem");
    // From a file, from `-` and from stdin without an argument: the same result.
    let outputs = [
        run(
            formseal().arg("decrypt").arg("--key").arg(&key).arg(&file),
            1,
        ),
        run(
            formseal()
                .args(["decrypt", "--key"])
                .arg(&key)
                .arg("-")
                .write_stdin(input.clone()),
            1,
        ),
        decrypt(&key, &input, 1),
    ];
    for output in &outputs {
        let opened = records(output);
        assert_eq!(opened.len(), 2);
        assert!(
            opened
                .iter()
                .all(|r| r["values"]["email"] == "jan.de.vries@example.nl")
        );
        let err = stderr(output);
        assert!(
            err.contains("line 3: cannot open envelope: wrong key or tampered data"),
            "{err}"
        );
        assert!(err.contains("line 4: malformed envelope"), "{err}");
        assert!(!err.contains("line 1:") && !err.contains("line 2:") && !err.contains("line 5:"));
        assert!(err.contains("opened 2 of 4 records; 2 failed"), "{err}");
        assert_no_key_material(output, &key);
    }
}

#[test]
fn decrypt_opens_json_serialized_envelopes_for_either_key_during_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let jwk = |name: &str| -> Value {
        serde_json::from_str(&fs::read_to_string(test_key(name)).unwrap()).unwrap()
    };
    let form = form_copy(dir.path(), |f| {
        f["recipients"] = json!([jwk("rsa2048.pub.jwk.json"), jwk("rsa3072.pub.jwk.json")]);
    });
    let output = run(
        formseal()
            .arg("seal")
            .arg("--form")
            .arg(&form)
            .pipe_stdin(example("answers.json"))
            .unwrap(),
        0,
    );
    let sealed = stdout(&output);
    assert_eq!(sealed.lines().count(), 1);
    assert!(
        sealed.starts_with('{'),
        "not the JSON serialization: {sealed}"
    );
    for key in ["rsa2048.pem", "rsa3072.pem"] {
        let opened = decrypt(&test_key(key), &sealed, 0);
        assert_eq!(
            records(&opened)[0]["values"]["email"],
            "jan.de.vries@example.nl"
        );
    }
    let output = decrypt(&test_key("rsa4096.pem"), &sealed, 1);
    let err = stderr(&output);
    assert!(
        err.contains("line 1: cannot open envelope: sealed to another key"),
        "{err}"
    );
    assert!(
        err.contains("hint: 1 record was sealed to another key"),
        "{err}"
    );
}

#[test]
fn decrypt_refuses_what_is_not_a_private_key_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    let secret_looking = "-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD\n-----END PRIVATE KEY-----\n";
    fs::write(&bad, secret_looking).unwrap();
    let output = decrypt(&bad, "", 1);
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "{} is not a PKCS#8 RSA private key",
            bad.display()
        )),
        "{err}"
    );
    assert!(!err.contains("TUlJ"), "key content in error: {err}");

    // A public JWK given as the key.
    let output = decrypt(&test_key("rsa2048.pub.jwk.json"), "", 1);
    assert!(stderr(&output).contains("is not a PKCS#8 RSA private key"));
    assert!(!stderr(&output).contains("AQAB"));

    let output = decrypt(&dir.path().join("missing.pem"), "", 1);
    assert!(stderr(&output).contains("cannot read private key"));
}

#[test]
fn decrypt_of_an_empty_input_opens_nothing_and_succeeds() {
    let output = decrypt(&test_key("rsa2048.pem"), "\n\n", 0);
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("opened 0 of 0 records"));
}

// help, version and the examples they show

#[test]
fn help_and_version_speak_to_the_data_team() {
    let output = run(formseal().arg("--version"), 0);
    assert_eq!(
        stdout(&output).trim(),
        format!("formseal {}", env!("CARGO_PKG_VERSION"))
    );
    let help = stdout(&run(formseal().arg("--help"), 0));
    for expected in [
        "keygen",
        "check",
        "seal",
        "decrypt",
        "Examples:",
        "Exit status",
    ] {
        assert!(
            help.contains(expected),
            "{expected:?} missing from:\n{help}"
        );
    }
    for command in ["keygen", "check", "seal", "decrypt"] {
        let help = stdout(&run(formseal().args([command, "--help"]), 0));
        assert!(help.contains("formseal "), "{command}: {help}");
    }
    // No command is a usage error.
    run(&mut formseal(), 2);
}

/// Runs the examples of `formseal --help` and the commands' help as written, in a scratch
/// directory holding `form.json` and `answers.json`.
#[test]
fn help_examples_work_as_written() {
    let examples: String = [
        "--help",
        "keygen --help",
        "check --help",
        "seal --help",
        "decrypt --help",
    ]
    .iter()
    .map(|args| stdout(&run(formseal().args(args.split(' ')), 0)))
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let sh = |line: &str| {
        assert!(
            examples.contains(line),
            "{line:?} is not a documented example"
        );
        let (command, redirects) = line.split_once(" <").map_or((line, ""), |(c, r)| (c, r));
        let (command, out_file) = match command.split_once(" > ") {
            Some((c, o)) => (c, Some(o)),
            None => match redirects.split_once(" > ") {
                Some((_, o)) => (command, Some(o)),
                None => (command, None),
            },
        };
        let in_file = redirects.split(" > ").next().map(str::trim);
        let mut cmd = formseal();
        cmd.current_dir(dir.path()).args(command.split(' ').skip(1));
        if let Some(input) = in_file.filter(|s| !s.is_empty()) {
            cmd.pipe_stdin(dir.path().join(input)).unwrap();
        }
        let output = run(&mut cmd, 0);
        if let Some(out) = out_file {
            fs::write(dir.path().join(out.trim()), &output.stdout).unwrap();
        }
        output
    };

    let kid = stdout(&sh("formseal keygen --out keys/"));
    let jwk: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("keys/public.jwk.json")).unwrap())
            .unwrap();
    assert_eq!(jwk["kid"], kid.trim());
    form_copy(dir.path(), |f| f["recipients"] = json!([jwk]));
    fs::copy(example("answers.json"), dir.path().join("answers.json")).unwrap();

    let summary = stdout(&sh("formseal check form.json"));
    assert!(summary.contains(&format!("{} (3072-bit RSA)", kid.trim())));
    sh("formseal seal --form form.json < answers.json");
    sh("formseal seal --form form.json --param utm_source=mail --report < answers.json");
    sh("formseal seal --form form.json --consent personalisation < answers.json > sealed.jwe");
    sh("formseal decrypt --key keys/private.pem sealed.jwe > records.jsonl");
    let records: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("records.jsonl")).unwrap())
            .unwrap();
    assert_eq!(records["values"]["postcode"], "1234");
    let again = sh("formseal decrypt --key keys/private.pem < sealed.jwe");
    assert_eq!(
        stdout(&again),
        fs::read_to_string(dir.path().join("records.jsonl")).unwrap()
    );
    assert_no_key_material(&again, &dir.path().join("keys/private.pem"));
}
