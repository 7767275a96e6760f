//! Surveys through the command: `examples/survey.json` passes `check`, `seal` writes the reward
//! entry on a line of its own, and `decrypt --out` writes uploaded files next to the records,
//! byte for byte, under safe names whatever the plaintext says.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20::ChaCha20Rng;
use formseal_core::envelope::{ConsentRecord, ENVELOPE_VERSION, Envelope, EnvelopeKind};
use formseal_core::keys::PrivateKey;
use rand_core::SeedableRng;
use serde_json::{Value, json};

use common::{repo, test_key};

fn formseal() -> Command {
    let mut cmd = Command::cargo_bin("formseal").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command, code: i32) -> Output {
    let output = cmd.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A small but real PDF's first bytes and some binary after them.
fn pdf_bytes() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(3000));
    bytes
}

fn file_answer(name: &str, bytes: &[u8]) -> Value {
    json!({
        "name": name,
        "type": "application/pdf",
        "size": bytes.len(),
        "data": Base64UrlUnpadded::encode_string(bytes),
    })
}

#[test]
fn the_survey_and_privacy_request_examples_pass_check() {
    for name in ["survey.json", "privacy-request.json"] {
        let output = run(
            formseal()
                .arg("check")
                .arg(repo().join("examples").join(name)),
            0,
        );
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("no problems found"), "{name}: {text}");
        if name == "survey.json" {
            for line in [
                "pages: experience (4 fields), problems (3 fields, conditional), store (1 field, conditional), priorities (1 field), prize-draw (2 fields)",
                "conditional fields: details, photo, draw_email",
                "reward: prize-draw for purpose prize_draw, sealed apart from the answers: draw_consent, draw_email",
            ] {
                assert!(text.lines().any(|l| l == line), "{line} not in {text}");
            }
        }
    }
}

#[test]
fn an_uploaded_file_comes_back_identical_from_decrypt_out() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = pdf_bytes();
    let answers = json!({
        "channel": "online",
        "satisfaction": 2,
        "problems": ["quality"],
        "photo": file_answer("C:\\Users\\jan\\broken lamp.pdf", &bytes),
        "priorities": ["price", "quality", "speed", "service"],
        "draw_consent": true,
        "draw_email": "jan@example.nl",
    });
    let sealed = run(
        formseal()
            .args(["seal", "--form"])
            .arg(repo().join("examples/survey.json"))
            .write_stdin(answers.to_string()),
        0,
    );
    let lines = String::from_utf8(sealed.stdout).unwrap();
    assert_eq!(lines.lines().count(), 2, "answers and the reward entry");
    let jwe = dir.path().join("sealed.jwe");
    fs::write(&jwe, &lines).unwrap();

    let out = dir.path().join("opened");
    let output = run(
        formseal()
            .args(["decrypt", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg(&jwe)
            .arg("--out")
            .arg(&out),
        0,
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("wrote records.jsonl and 1 file to"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());

    let records: Vec<Value> = fs::read_to_string(out.join("records.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["kind"], "submission");
    assert_eq!(records[1]["kind"], "reward-entry");
    let photo = &records[0]["values"]["photo"];
    assert_eq!(photo.get("data"), None);
    let saved = photo["saved_as"].as_str().unwrap();
    assert!(saved.ends_with("-photo-broken lamp.pdf"), "{saved}");
    assert_eq!(fs::read(out.join(saved)).unwrap(), bytes);

    // A second run into the same directory refuses rather than overwrite.
    let again = run(
        formseal()
            .args(["decrypt", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg(&jwe)
            .arg("--out")
            .arg(&out),
        1,
    );
    assert!(
        String::from_utf8(again.stderr)
            .unwrap()
            .contains("never overwrites")
    );
}

/// Anyone with the public key can seal a plaintext: ids and names in it are hostile input.
#[test]
fn decrypt_out_never_writes_outside_its_directory() {
    let key =
        PrivateKey::from_pkcs8_pem(&fs::read_to_string(test_key("rsa2048.pem")).unwrap()).unwrap();
    let bytes = pdf_bytes();
    let mut values = formseal_core::answers::Answers::new();
    for (field, name) in [
        ("../../field", "../../../escaped.pdf"),
        ("photo", "/etc/cron.d/evil"),
        ("scan", ".."),
        ("x", "sub/dir/..\\..\\win.pdf"),
    ] {
        values.insert(field.into(), file_answer(name, &bytes));
    }
    let envelope = Envelope {
        v: ENVELOPE_VERSION,
        id: "../../../../tmp/record".into(),
        form: "satisfaction".into(),
        form_version: 1,
        kind: EnvelopeKind::Submission,
        at: "2026-11-24T10:00:00Z".into(),
        subject: "s".into(),
        consent: ConsentRecord::default(),
        values,
        confirm: None,
    };
    let config = formseal_core::config::FormConfig::from_json(
        &fs::read_to_string(repo().join("examples/survey.json")).unwrap(),
    )
    .unwrap();
    let sealed = envelope
        .seal(&config, &[key.public()], &mut ChaCha20Rng::seed_from_u64(5))
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let jwe = root.path().join("hostile.jwe");
    fs::write(&jwe, sealed.as_str()).unwrap();
    let out = root.path().join("a/b/opened");
    run(
        formseal()
            .args(["decrypt", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg(&jwe)
            .arg("--out")
            .arg(&out),
        0,
    );
    let mut written: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "____________tmp_record-______field-escaped.pdf",
            "____________tmp_record-photo-evil",
            "____________tmp_record-scan-file",
            "____________tmp_record-x-win.pdf",
            "records.jsonl",
        ]
    );
    for name in &written[..4] {
        assert_eq!(fs::read(out.join(name)).unwrap(), bytes);
    }
    // Nothing appeared anywhere else under the temporary root.
    let mut everything = Vec::new();
    walk(root.path(), &mut everything);
    assert!(
        everything
            .iter()
            .all(|p| p.starts_with(&out) || out.starts_with(p) || p == &jwe),
        "{everything:#?}"
    );
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push(path.clone());
        if path.is_dir() {
            walk(&path, out);
        }
    }
}
