//! The README's "Opening an envelope with another JOSE library" snippets, run exactly as printed:
//! each is cut out of README.md (the fenced block after its `<!-- readme-snippet: NAME -->`
//! marker), given a `private.pem` and an `envelope.jwe` made by `formseal seal`, and must print
//! the plaintext that `formseal decrypt` prints. Node `jose` comes from the repository's
//! `node_modules`; the Python libraries from the virtualenv `target/py` that `cargo xtask test`
//! makes from `tests/python-requirements.txt`. A missing runtime fails the test, never skips it.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use common::{formseal, repo, run, test_key};
use serde_json::{Value, json};

/// The snippets, by the file name their marker gives them, and how each is run.
const SNIPPETS: [(&str, Runtime); 3] = [
    ("open-jose.mjs", Runtime::Node),
    ("open_jwcrypto.py", Runtime::Python),
    ("open_joserfc.py", Runtime::Python),
];

#[derive(Clone, Copy, Debug)]
enum Runtime {
    Node,
    Python,
}

impl Runtime {
    fn command(self) -> Process {
        match self {
            Self::Node => Process::new("node"),
            Self::Python => Process::new(common::python()),
        }
    }
}

/// The code of the fenced block that follows `<!-- readme-snippet: NAME -->` in README.md.
fn snippet(name: &str) -> String {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let marker = format!("<!-- readme-snippet: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"))
        .1;
    let block = after.trim_start().strip_prefix("```").unwrap();
    let body = block.split_once('\n').unwrap().1;
    body.split_once("\n```").unwrap().0.to_owned() + "\n"
}

/// A directory inside the repository's `target/`, so that node resolves `import 'jose'` from
/// the repository's `node_modules`.
fn workdir() -> tempfile::TempDir {
    let target = repo().join("target");
    fs::create_dir_all(&target).unwrap();
    tempfile::Builder::new()
        .prefix("readme-snippets-")
        .tempdir_in(target)
        .unwrap()
}

/// Runs snippet `name` in `dir` (holding `private.pem` and `envelope.jwe`); its stdout, or the
/// error it printed.
fn run_snippet(dir: &Path, name: &str, runtime: Runtime) -> Result<String, String> {
    fs::write(dir.join(name), snippet(name)).unwrap();
    let output = runtime
        .command()
        .arg(name)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {runtime:?} for {name}: {err}"));
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Seals the example answers with `formseal seal` for `form` (newsletter granted).
fn seal(form: &Path) -> String {
    let (stdout, _) = run(
        formseal()
            .args(["seal", "--consent", "newsletter", "--form"])
            .arg(form)
            .pipe_stdin(repo().join("examples/answers.json"))
            .unwrap(),
        0,
    );
    stdout.trim().to_owned()
}

/// What `formseal decrypt` makes of `jwe` with `key`.
fn decrypted(jwe: &str, key: &Path) -> Value {
    let (stdout, _) = run(
        formseal()
            .arg("decrypt")
            .arg("--key")
            .arg(key)
            .write_stdin(format!("{jwe}\n")),
        0,
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

/// The example form sealed to both TEST keys (JSON serialization, as during a key rotation).
fn two_recipient_form(dir: &Path) -> PathBuf {
    let mut form: Value =
        serde_json::from_str(&fs::read_to_string(repo().join("examples/newsletter.json")).unwrap())
            .unwrap();
    let jwk = |name: &str| -> Value {
        serde_json::from_str(&fs::read_to_string(test_key(name)).unwrap()).unwrap()
    };
    form["recipients"] = json!([jwk("rsa2048.pub.jwk.json"), jwk("rsa3072.pub.jwk.json")]);
    let path = dir.join("form.json");
    fs::write(&path, serde_json::to_string(&form).unwrap()).unwrap();
    path
}

/// Each snippet opens `jwe` with `key` and prints what `formseal decrypt` prints.
fn assert_every_snippet_opens(dir: &Path, jwe: &str, key: &str) {
    let key = test_key(key);
    fs::copy(&key, dir.join("private.pem")).unwrap();
    fs::write(dir.join("envelope.jwe"), format!("{jwe}\n")).unwrap();
    let expected = decrypted(jwe, &key);
    assert_eq!(expected["form"], "newsletter", "{expected}");
    for (name, runtime) in SNIPPETS {
        let printed = run_snippet(dir, name, runtime)
            .unwrap_or_else(|err| panic!("{name} could not open the envelope:\n{err}"));
        let opened: Value = serde_json::from_str(printed.trim())
            .unwrap_or_else(|err| panic!("{name} printed no JSON ({err}):\n{printed}"));
        assert_eq!(opened, expected, "{name}");
    }
}

#[test]
fn every_readme_snippet_opens_a_compact_envelope() {
    let dir = workdir();
    let jwe = seal(&repo().join("examples/newsletter.json"));
    assert!(!jwe.starts_with('{'), "one recipient gives a compact JWE");
    // The private parameters the README says the libraries must be told to ignore are there.
    let header = formseal_core::jwe::peek(&jwe).unwrap().header;
    for private in ["form", "form_version", "fs.exp"] {
        assert!(header.contains_key(private), "{private} in {header:?}");
    }
    assert_every_snippet_opens(dir.path(), &jwe, "rsa2048.pem");
}

#[test]
fn every_readme_snippet_opens_a_two_recipient_envelope_with_either_key() {
    let dir = workdir();
    let jwe = seal(&two_recipient_form(dir.path()));
    assert!(
        jwe.starts_with('{'),
        "two recipients give the JSON serialization"
    );
    for key in ["rsa2048.pem", "rsa3072.pem"] {
        assert_every_snippet_opens(dir.path(), &jwe, key);
    }
}

#[test]
fn no_readme_snippet_opens_an_envelope_with_another_key() {
    let dir = workdir();
    let jwe = seal(&repo().join("examples/newsletter.json"));
    fs::copy(test_key("rsa3072.pem"), dir.path().join("private.pem")).unwrap();
    fs::write(dir.path().join("envelope.jwe"), format!("{jwe}\n")).unwrap();
    for (name, runtime) in SNIPPETS {
        let result = run_snippet(dir.path(), name, runtime);
        assert!(
            result.is_err(),
            "{name} opened it with the wrong key: {result:?}"
        );
    }
}

#[test]
fn no_readme_snippet_opens_a_tampered_envelope() {
    let dir = workdir();
    let jwe = seal(&repo().join("examples/newsletter.json"));
    // Flip one character of the ciphertext (the fourth part): GCM must refuse it.
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let ciphertext = &mut parts[3];
    let first = ciphertext.remove(0);
    ciphertext.insert(0, if first == 'A' { 'B' } else { 'A' });
    fs::copy(test_key("rsa2048.pem"), dir.path().join("private.pem")).unwrap();
    fs::write(dir.path().join("envelope.jwe"), parts.join(".") + "\n").unwrap();
    for (name, runtime) in SNIPPETS {
        let result = run_snippet(dir.path(), name, runtime);
        assert!(
            result.is_err(),
            "{name} opened a tampered envelope: {result:?}"
        );
    }
}
