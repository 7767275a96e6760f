//! Webhook delivery (`formseal serve --webhook`): a local receiver that fails the first attempts
//! (a 500, then a timeout) still gets every envelope exactly as stored, signed so that the
//! README's Node.js snippet accepts it with the right secret and refuses it with a wrong one;
//! a receiver that never recovers leaves dead letters that `formseal webhook` lists and queues
//! again; and the real binary forwards what it stores.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::routing::post;
use formseal_cli::serve::store::Store;
use formseal_cli::serve::webhook::{self, WebhookOptions};
use formseal_cli::serve::{AcceptedForms, AppOptions, AppState, SqliteStore, app};
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::{FORM, answers, newsletter, repo, seal_answers, test_key};

const SECRET: &[u8] = b"5f2b1c9e0d8a7f6e5d4c3b2a19081726";

/// One request as the receiver saw it.
type Attempt = (HeaderMap, Bytes);

/// What the test receiver got: per record id, every attempt.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<BTreeMap<String, Vec<Attempt>>>>);

/// How the receiver answers the n-th attempt (1-based) for one envelope.
type Script = fn(usize) -> Behaviour;

#[derive(Clone, Copy)]
enum Behaviour {
    Fail,
    Hang,
    Accept,
}

async fn receive(
    State((received, script)): State<(Received, Script)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let id = headers
        .get(webhook::ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let attempt = {
        let mut map = received.0.lock().unwrap();
        let attempts = map.entry(id).or_default();
        attempts.push((headers, body));
        attempts.len()
    };
    match script(attempt) {
        Behaviour::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK
        }
        Behaviour::Accept => StatusCode::NO_CONTENT,
    }
}

/// Starts a receiver on a loopback port; returns its URL.
async fn receiver(received: Received, script: Script) -> String {
    let router = Router::new()
        .route("/in", post(receive))
        .with_state((received, script));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}/in")
}

/// Fast retries so the test takes about a second; the production defaults are unit-tested.
fn options(url: &str, max_attempts: u32) -> WebhookOptions {
    WebhookOptions {
        max_attempts,
        timeout: Duration::from_millis(500),
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        poll: Duration::from_millis(20),
        ..WebhookOptions::new(webhook::parse_url(url).unwrap(), SECRET.to_vec())
    }
}

/// Posts `envelopes` to a collector that queues deliveries, over a fresh store.
async fn collect(envelopes: &[String]) -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("collector.sqlite")).unwrap());
    let mut forms = AcceptedForms::default();
    forms.add(FORM.to_string()).unwrap();
    let mut config = newsletter();
    config.recipients.push(
        serde_json::from_str(&std::fs::read_to_string(test_key("rsa3072.pub.jwk.json")).unwrap())
            .unwrap(),
    );
    forms.add(serde_json::to_string(&config).unwrap()).unwrap();
    let options = AppOptions {
        forms,
        queue_deliveries: true,
        rate_limit: None,
        ..AppOptions::default()
    };
    let app = app(AppState::new(store.clone(), options));
    for jwe in envelopes {
        let request = Request::post("/v1/submissions")
            .header(header::CONTENT_TYPE, common::jose_content_type(jwe))
            .body(Body::from(jwe.clone()))
            .unwrap();
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert_eq!(status, StatusCode::CREATED);
    }
    (dir, store)
}

/// Waits until `done` holds; a hang guard, not a timing assertion.
async fn until(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn stored(store: &SqliteStore) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    store
        .for_each(None, &mut |e| {
            all.insert(e.id, e.jwe);
            Ok(())
        })
        .unwrap();
    all
}

/// The README's verification snippet, run by node over `(secret, header, body)` cases.
fn readme_verify(cases: &[(&[u8], String, Bytes)]) -> Vec<bool> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("```js\n// Verify a formseal webhook request")
        .expect("the README has the verification snippet");
    let snippet = &readme[start + "```js\n".len()..];
    let snippet = &snippet[..snippet.find("```").unwrap()];
    let program = format!(
        "{snippet}\nconst chunks = [];\nfor await (const chunk of process.stdin) chunks.push(chunk);\n\
         const cases = JSON.parse(Buffer.concat(chunks).toString());\n\
         console.log(JSON.stringify(cases.map(([s, h, b]) => verifyFormseal(Buffer.from(s, \"hex\"), h, Buffer.from(b, \"hex\")))));\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verify.mjs");
    std::fs::write(&path, program).unwrap();
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let input: Vec<Value> = cases
        .iter()
        .map(|(secret, header, body)| json!([hex(secret), header, hex(body)]))
        .collect();
    let mut child = Process::new("node")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` (install Node.js 20 or later): {e}"));
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        Value::from(input).to_string().as_bytes(),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_first_still_gets_every_envelope_exactly_as_stored_and_signed() {
    // One compact envelope, one in JSON serialization (two recipients, key rotation).
    let mut rotated = newsletter();
    rotated.recipients.push(
        serde_json::from_str(&std::fs::read_to_string(test_key("rsa3072.pub.jwk.json")).unwrap())
            .unwrap(),
    );
    let envelopes = [
        seal_answers(&newsletter(), &answers(), 1),
        seal_answers(&rotated, &answers(), 2),
        seal_answers(&newsletter(), &answers(), 3),
    ];
    let (_dir, store) = collect(&envelopes).await;
    let received = Received::default();
    let url = receiver(received.clone(), |attempt| match attempt {
        1 => Behaviour::Fail,
        2 => Behaviour::Hang,
        _ => Behaviour::Accept,
    })
    .await;
    let worker = tokio::spawn(webhook::run(store.clone(), options(&url, 5)));

    let store_for_wait = store.clone();
    let waiting = received.clone();
    until(move || {
        // Every envelope acknowledged: the third attempt of each.
        waiting
            .0
            .lock()
            .unwrap()
            .values()
            .filter(|a| a.len() >= 3)
            .count()
            == 3
            && store_for_wait.dead_letters().unwrap().is_empty()
            && outbox_len(&store_for_wait) == 0
    })
    .await;
    worker.abort();

    let all = stored(&store);
    assert_eq!(all.len(), 3);
    let attempts = received.0.lock().unwrap().clone();
    assert_eq!(
        attempts.keys().collect::<Vec<_>>(),
        all.keys().collect::<Vec<_>>(),
        "every stored envelope, under its record id"
    );
    let mut cases = Vec::new();
    for (id, tries) in &attempts {
        assert_eq!(
            tries.len(),
            3,
            "{id}: acknowledged on the third attempt, then left alone"
        );
        for (headers, body) in tries {
            assert_eq!(body, all[id].as_bytes(), "exactly the stored ciphertext");
            let content_type = headers[header::CONTENT_TYPE].to_str().unwrap();
            assert_eq!(content_type, common::jose_content_type(&all[id]));
            let signature = headers[webhook::SIGNATURE_HEADER]
                .to_str()
                .unwrap()
                .to_string();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let tolerance = Duration::from_secs(300);
            assert!(webhook::verify(SECRET, &signature, body, now, tolerance));
            assert!(!webhook::verify(
                b"not-the-shared-secret",
                &signature,
                body,
                now,
                tolerance
            ));
            cases.push((SECRET, signature.clone(), body.clone()));
            cases.push((
                b"not-the-shared-secret".as_slice(),
                signature.clone(),
                body.clone(),
            ));
            let mut altered = body.to_vec();
            altered[10] ^= 1;
            cases.push((SECRET, signature, Bytes::from(altered)));
        }
    }
    let verdicts = readme_verify(&cases);
    let expected: Vec<bool> = (0..cases.len()).map(|i| i % 3 == 0).collect();
    assert_eq!(
        verdicts, expected,
        "right secret: yes; wrong secret or altered body: no"
    );
}

fn outbox_len(store: &SqliteStore) -> u64 {
    store.queued_deliveries().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_recovers_leaves_dead_letters_to_list_and_requeue() {
    let envelopes = [seal_answers(&newsletter(), &answers(), 7)];
    let (dir, store) = collect(&envelopes).await;
    let received = Received::default();
    let url = receiver(received.clone(), |_| Behaviour::Fail).await;
    let worker = tokio::spawn(webhook::run(store.clone(), options(&url, 3)));
    let waiting = store.clone();
    until(move || !waiting.dead_letters().unwrap().is_empty()).await;
    worker.abort();
    assert_eq!(received.0.lock().unwrap().values().next().unwrap().len(), 3);

    let db = dir.path().join("collector.sqlite");
    let output = Command::cargo_bin("formseal")
        .unwrap()
        .args(["webhook", "dead-letters", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(output.status.success());
    let line: Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = stored(&store).into_keys().next().unwrap();
    assert_eq!(line["id"], id);
    assert_eq!(line["form"], "newsletter");
    assert_eq!(line["attempts"], 3);
    assert_eq!(line["last_error"], "HTTP 500");

    let requeue = |args: &[&str]| {
        Command::cargo_bin("formseal")
            .unwrap()
            .args(["webhook", "requeue", "--db"])
            .arg(&db)
            .args(args)
            .output()
            .unwrap()
    };
    let unknown = requeue(&["no-such-id"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("is not a dead letter"));
    let all = requeue(&["--all"]);
    assert!(all.status.success());
    assert_eq!(String::from_utf8_lossy(&all.stdout).trim(), "1");
    assert!(store.dead_letters().unwrap().is_empty());
    assert_eq!(outbox_len(&store), 1, "queued again with fresh attempts");
}

/// The binary as the README runs it: `formseal serve --webhook URL --webhook-secret-file F`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_forwards_what_it_stores() {
    let received = Received::default();
    let url = receiver(received.clone(), |_| Behaviour::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("webhook.secret"), [SECRET, b"\n"].concat()).unwrap();
    let mut child = Process::new(env!("CARGO_BIN_EXE_formseal"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["serve", "--listen", "127.0.0.1:0", "--form"])
        .arg(repo().join("examples/newsletter.json"))
        .args(["--webhook", &url, "--webhook-secret-file", "webhook.secret"])
        // The proof of work is tested in pow.rs; this post carries none.
        .arg("--no-pow")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let jwe = seal_answers(&newsletter(), &answers(), 11);
    let response = reqwest::Client::new()
        .post(format!("{}v1/submissions", line.trim()))
        .header("content-type", "application/jose")
        .body(jwe.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let waiting = received.clone();
    until(move || !waiting.0.lock().unwrap().is_empty()).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let got = received.0.lock().unwrap().clone();
    let (_, tries) = got.into_iter().next().unwrap();
    assert_eq!(tries[0].1, jwe.as_bytes());
}

#[test]
fn webhook_settings_are_checked_before_anything_is_sent() {
    use formseal_cli::serve::{Args, Settings};
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("webhook.secret");
    let short = dir.path().join("short.secret");
    std::fs::write(&secret, SECRET).unwrap();
    std::fs::write(&short, "tiny\n").unwrap();
    let args = |url: Option<&str>, secret: Option<&std::path::Path>| Args {
        forms: vec![repo().join("examples/newsletter.json")],
        webhook: url.map(String::from),
        webhook_secret_file: secret.map(std::path::Path::to_path_buf),
        // Else its key would be made beside the default database, in the working directory.
        no_pow: true,
        ..Args::default()
    };
    let error = |args: Args| Settings::resolve(&args).unwrap_err().to_string();
    assert!(error(args(Some("https://crm.example/in"), None)).contains("needs its secret"));
    assert!(error(args(None, Some(&secret))).contains("without a webhook"));
    assert!(error(args(Some("https://crm.example/in"), Some(&short))).contains("shorter than 16"));
    assert!(error(args(Some("http://crm.example/in"), Some(&secret))).contains("must use https"));

    let settings = Settings::resolve(&args(Some("https://crm.example/in"), Some(&secret))).unwrap();
    assert!(settings.options.queue_deliveries);
    let webhook = settings.webhook.unwrap();
    assert_eq!(webhook.secret, SECRET);
    assert_eq!(webhook.max_attempts, WebhookOptions::DEFAULT_MAX_ATTEMPTS);
    assert!(
        !format!("{webhook:?}").contains("5f2b1c9e"),
        "the secret is never printed"
    );
    let none = Settings::resolve(&args(None, None)).unwrap();
    assert!(!none.options.queue_deliveries && none.webhook.is_none());
}
