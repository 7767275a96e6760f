//! `cargo xtask demo`: the data flow end to end with a freshly generated dev key — keygen,
//! check, seal the example answers, decrypt — so a new user sees what formseal does.
//! The collector and the demo pages join this task when they exist (widget and collector issue).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use anyhow::{Context, Result, bail};

use crate::shell::{self, project_root};

/// Where the demo keeps its dev key and files; inside `target/`, so never committed.
const DEMO_DIR: &str = "target/demo";

/// Runs the demo.
pub(crate) fn run() -> Result<()> {
    shell::run(shell::cargo().args(["build", "--release", "-p", "formseal-cli"]))?;
    let root = project_root();
    let formseal = root.join("target/release/formseal");
    let demo = root.join(DEMO_DIR);
    let keys = demo.join("keys");

    step("1. a dev key pair for the data team (the private key never leaves this machine)");
    if keys.join("private.pem").exists() {
        eprintln!("reusing the dev key in {DEMO_DIR}/keys");
    } else {
        shell::run(
            shell::command(&formseal)
                .args(["keygen", "--bits", "3072", "--out"])
                .arg(&keys),
        )?;
    }

    step("2. the marketer's form config, with the dev key as its recipient");
    let form = demo.join("newsletter.json");
    write_form_for_key(
        &root.join("examples/newsletter.json"),
        &keys.join("public.jwk.json"),
        &form,
    )?;
    shell::run(shell::command(&formseal).arg("check").arg(&form))?;

    step("3. a visitor's answers, validated, minimised and sealed (what the widget does)");
    let answers = fs::read(root.join("examples/answers.json"))?;
    eprintln!("{}", String::from_utf8_lossy(&answers).trim());
    let jwe = pipe(
        shell::command(&formseal)
            .args(["seal", "--report", "--param", "utm_source=demo", "--form"])
            .arg(&form),
        &answers,
    )?;
    let sealed = demo.join("sealed.jwe");
    fs::write(&sealed, &jwe)?;
    println!("\nSealed envelope (all that is ever sent):\n{}", jwe.trim());

    step("4. the data team opens it offline with the private key");
    let opened = shell::read(
        shell::command(&formseal)
            .args(["decrypt", "--key"])
            .arg(keys.join("private.pem"))
            .arg(&sealed),
    )?;
    println!("\nDecrypted record:\n{}", opened.trim());
    eprintln!(
        "\nFiles are in {DEMO_DIR}/. The embeddable widget and the collector come with the next issue."
    );
    Ok(())
}

fn step(title: &str) {
    eprintln!("\n==> {title}");
}

/// Copies the example form with `recipients` replaced by the key in `jwk`.
fn write_form_for_key(example: &Path, jwk: &Path, out: &Path) -> Result<()> {
    let mut form: serde_json::Value = serde_json::from_slice(&fs::read(example)?)
        .with_context(|| format!("{} is not JSON", example.display()))?;
    let key: serde_json::Value = serde_json::from_slice(&fs::read(jwk)?)
        .with_context(|| format!("{} is not JSON", jwk.display()))?;
    form["recipients"] = serde_json::json!([key]);
    fs::write(out, serde_json::to_string_pretty(&form)? + "\n")?;
    Ok(())
}

/// Runs `cmd` with `input` on its stdin and returns its stdout (stderr passes through).
fn pipe(cmd: &mut std::process::Command, input: &[u8]) -> Result<String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start formseal")?;
    child.stdin.take().context("no stdin")?.write_all(input)?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("formseal seal failed ({})", output.status);
    }
    Ok(String::from_utf8(output.stdout)?)
}
