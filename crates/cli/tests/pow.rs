//! The collector's proof of work (ALTCHA v1): challenges at `/v1/challenge`, solutions in the
//! `Altcha` header checked before the body is read, each spent once (on SQLite and on
//! PostgreSQL, see `common/stores.rs`), the key file, `--no-pow`, and interop with npm
//! `altcha-lib` 2.8.0 both ways (`tests/altcha/interop.mjs`).

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64ct::{Base64, Encoding};
use formseal_cli::serve::pow::Challenge;
use formseal_cli::serve::{self, AppState, ProofOfWork, Settings, app};
use formseal_core::config::FormConfig;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

mod common;
use common::collector::{COMPACT, Collector, collector, collectors, from, options, post, send};
use common::pow::{
    DIFFICULTY, POW_KEY, fetch_challenge, forge, solution, solve, test_pow, unix_now, with_pow,
};
use common::stores::test_stores;
use common::{answers, formseal, newsletter, repo, run, seal_answers};

fn seal(seed: u64) -> String {
    seal_answers(&newsletter(), &answers(), seed)
}

/// A collector over each kind of store that asks for proof of work with the test key.
fn guarded() -> Vec<Collector> {
    collectors(|o| o.pow = Some(test_pow()))
}

/// A post of the envelope `jwe` with the solution `altcha`.
fn post_solved(jwe: &str, altcha: &str) -> Request<Body> {
    with_pow(post(jwe.to_string(), COMPACT), altcha)
}

fn hmac_hex(key: &str, text: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base16ct::lower::encode_string(&mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_challenge_is_altcha_v1_new_each_time_and_never_cached() {
    let c = collector(|o| o.pow = Some(test_pow()));
    let get = || Request::get("/v1/challenge").body(Body::empty()).unwrap();
    let answer = send(&c.app, get()).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    let json = answer.json();
    let members: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        ["algorithm", "challenge", "maxnumber", "salt", "signature"]
    );
    let challenge: Challenge = serde_json::from_value(json).unwrap();
    assert_eq!(challenge.algorithm, "SHA-256");
    assert_eq!(challenge.maxnumber, DIFFICULTY);
    assert_eq!(challenge.challenge.len(), 64);
    assert_eq!(
        challenge.signature,
        hmac_hex(POW_KEY, &challenge.challenge),
        "HMAC-SHA-256 of the challenge's hex under the key's UTF-8 bytes"
    );
    let (random, query) = challenge.salt.split_once('?').unwrap();
    assert!(random.len() == 24 && random.bytes().all(|b| b.is_ascii_hexdigit()));
    let expires: i64 = query
        .strip_prefix("expires=")
        .and_then(|rest| rest.strip_suffix('&'))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (expires - unix_now() - 20 * 60).abs() <= 5,
        "20 minutes: {expires}"
    );
    assert_ne!(
        fetch_challenge(&c.app).await,
        challenge,
        "a new one each time"
    );
    // The number is somewhere in 0..=maxnumber: the solver finds it.
    assert!(solve(&challenge).number <= DIFFICULTY);
}

#[tokio::test]
async fn a_solved_envelope_is_stored_and_its_retry_with_the_same_solution_answers_200() {
    for c in guarded() {
        let jwe = seal(1);
        let altcha = solution(&c.app).await;
        let first = send(&c.app, post_solved(&jwe, &altcha)).await;
        assert_eq!(
            first.status,
            StatusCode::CREATED,
            "{}: {}",
            c.kind,
            first.body
        );
        // The widget's offline queue re-sends the identical request after a lost answer.
        let retry = send(&c.app, post_solved(&jwe, &altcha)).await;
        assert_eq!(retry.status, StatusCode::OK, "{}: {}", c.kind, retry.body);
        assert_eq!(retry.json()["id"], first.json()["id"]);
        // A stored envelope re-sent with a new solution (the old one expired offline): 200.
        let fresh = solution(&c.app).await;
        let again = send(&c.app, post_solved(&jwe, &fresh)).await;
        assert_eq!(again.status, StatusCode::OK, "{}: {}", c.kind, again.body);
        // That solution is now spent on this envelope, not free for another.
        let other = send(&c.app, post_solved(&seal(2), &fresh)).await;
        assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", c.kind);
        assert_eq!(c.store.count().unwrap(), 1, "{}", c.kind);
    }
}

#[tokio::test]
async fn bad_solutions_are_403_with_a_reason_and_store_nothing() {
    for c in guarded() {
        let spent = solution(&c.app).await;
        let stored = send(&c.app, post_solved(&seal(10), &spent)).await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", c.kind);

        let good = solve(&fetch_challenge(&c.app).await);
        let changed = |change: &dyn Fn(&mut serve::pow::Solution)| {
            let mut solution = good.clone();
            change(&mut solution);
            solution.to_header()
        };
        let soon = unix_now() + 600;
        let cases: Vec<(&str, Option<String>, &str)> = vec![
            (
                "no header",
                None,
                "no proof of work (header Altcha); fetch one from /v1/challenge",
            ),
            (
                "replayed with another envelope",
                Some(spent.clone()),
                "this proof of work was already used",
            ),
            (
                "expired",
                Some(forge(POW_KEY, "00112233445566778899aabb", unix_now() - 1).to_header()),
                "the proof of work expired",
            ),
            (
                "signed with another key",
                Some(forge("not this collector's key at all", "aabb", soon).to_header()),
                "the proof of work's signature is not this collector's",
            ),
            (
                "a wrong number",
                Some(changed(&|s| s.number = (s.number + 1) % (DIFFICULTY + 1))),
                "the proof of work does not solve its challenge",
            ),
            (
                "a later expiry written into the salt",
                Some(changed(&|s| {
                    s.salt = s.salt.replace("expires=", "expires=9")
                })),
                "the proof of work does not solve its challenge",
            ),
            (
                "SHA-1",
                Some(changed(&|s| s.algorithm = "SHA-1".into())),
                "the proof of work's algorithm is not SHA-256",
            ),
            (
                "not base64",
                Some("{not base64}".into()),
                "the proof of work (header Altcha) is not base64 of an ALTCHA payload",
            ),
            (
                "base64 of no JSON",
                Some(Base64::encode_string(b"number=5")),
                "the proof of work (header Altcha) is not base64 of an ALTCHA payload",
            ),
            (
                "a member missing",
                Some(Base64::encode_string(
                    json!({"algorithm": "SHA-256", "challenge": good.challenge, "number": 1})
                        .to_string()
                        .as_bytes(),
                )),
                "the proof of work (header Altcha) is not base64 of an ALTCHA payload",
            ),
            (
                "a negative number",
                Some(Base64::encode_string(
                    serde_json::to_string(&good)
                        .unwrap()
                        .replace(&format!("\"number\":{}", good.number), "\"number\":-1")
                        .as_bytes(),
                )),
                "the proof of work (header Altcha) is not base64 of an ALTCHA payload",
            ),
        ];
        for (seed, (case, altcha, reason)) in (20..).zip(cases) {
            let request = match &altcha {
                Some(altcha) => post_solved(&seal(seed), altcha),
                None => post(seal(seed), COMPACT),
            };
            let answer = send(&c.app, request).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{}: {case}: {}",
                c.kind,
                answer.body
            );
            assert_eq!(answer.error(), reason, "{}: {case}", c.kind);
        }
        assert_eq!(c.store.count().unwrap(), 1, "{}: nothing new", c.kind);
        // The good solution was refused nowhere above: it still stores an envelope.
        let answer = send(&c.app, post_solved(&seal(40), &good.to_header())).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", c.kind);
    }
}

/// Refused before the body is read: neither a malformed nor an oversized body gets its own
/// answer without a valid solution.
#[tokio::test]
async fn the_proof_of_work_is_checked_before_the_body() {
    let c = collector(|o| o.pow = Some(test_pow()));
    for body in ["not an envelope".to_string(), "a".repeat(64 * 1024 + 1)] {
        let answer = send(&c.app, post(body, COMPACT)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    }
    let answer = send(&c.app, post(seal(1), "text/plain")).await;
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "before the content type"
    );
    // With a solution, the body's own faults are answered as before.
    let answer = send(
        &c.app,
        with_pow(post("not an envelope", COMPACT), &solution(&c.app).await),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
}

#[tokio::test]
async fn a_consent_record_needs_a_proof_of_work_too() {
    let banner_json = std::fs::read_to_string(repo().join("examples/consent.json")).unwrap();
    let banner = FormConfig::from_json(&banner_json).unwrap();
    let granted = ["analytics".to_string()].into();
    let decision = formseal_core::consent::Decision {
        granted: &granted,
        method: formseal_core::consent::ConsentMethod::Banner,
        gpc: false,
        previous: None,
        subject: "subject-1",
        now_unix: common::NOW,
    };
    let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7);
    let (record, _) = formseal_core::consent::record(&banner, &decision, &mut rng).unwrap();
    let jwe = record
        .seal(&banner, &banner.recipient_keys().unwrap(), &mut rng)
        .unwrap()
        .0;
    let c = collector(|o| {
        o.forms.add(banner_json.clone()).unwrap();
        o.pow = Some(test_pow());
    });
    let refused = send(&c.app, post(jwe.clone(), COMPACT)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let stored = send(&c.app, post_solved(&jwe, &solution(&c.app).await)).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
}

#[tokio::test]
async fn without_proof_of_work_the_challenge_is_204_and_posts_need_no_header() {
    let c = collector(|o| o.pow = None);
    let challenge = send(
        &c.app,
        Request::get("/v1/challenge").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(challenge.status, StatusCode::NO_CONTENT);
    assert!(challenge.body.is_empty(), "{}", challenge.body);
    let answer = send(&c.app, post(seal(1), COMPACT)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    // A header is ignored, not checked.
    let answer = send(&c.app, with_pow(post(seal(2), COMPACT), "junk")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);

    // `--no-pow`: no key is read or made.
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::resolve(&serve::Args {
        forms: vec![repo().join("examples/newsletter.json")],
        db: Some(
            dir.path()
                .join("c.sqlite")
                .display()
                .to_string()
                .parse()
                .unwrap(),
        ),
        no_pow: true,
        ..serve::Args::default()
    })
    .unwrap();
    assert!(settings.options.pow.is_none() && settings.pow_key.is_none());
    assert!(!dir.path().join("c.sqlite.pow-key").exists());
}

/// A script posts 200 envelopes without solutions from one address, all at once: each is
/// refused, nothing is stored, and the address's rate-limit bucket is left for its real visitors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_without_solutions_stores_nothing() {
    let c = collector(|o| o.pow = Some(test_pow()));
    let peer = "198.51.100.9:40000";
    let tasks: Vec<_> = (0..200)
        .map(|seed| {
            let app = c.app.clone();
            let jwe = seal(1000 + seed);
            tokio::spawn(async move { send(&app, from(peer, post(jwe, COMPACT))).await.status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::FORBIDDEN);
    }
    assert_eq!(c.store.count().unwrap(), 0);
    // The default 30/min would have been used up 170 posts ago had the flood taken tokens.
    let real = send(
        &c.app,
        from(peer, post_solved(&seal(1), &solution(&c.app).await)),
    )
    .await;
    assert_eq!(real.status, StatusCode::CREATED, "{}", real.body);
}

/// One solution fanned out with different envelopes to two collectors sharing a store, all at
/// once: for each solution exactly one envelope is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_solution_fanned_out_to_collectors_sharing_a_store_is_spent_once() {
    for test_store in test_stores() {
        let apps: Vec<Router> = (0..2)
            .map(|_| {
                let store = test_store.db.open().unwrap();
                let options = options(|o| {
                    o.rate_limit = None;
                    o.pow = Some(test_pow());
                });
                app(AppState::new(store, options))
            })
            .collect();
        let mut tasks = Vec::new();
        for n in 0..20 {
            let altcha = solution(&apps[n % 2]).await;
            for (i, app) in apps.iter().enumerate() {
                let (app, jwe, altcha) = (
                    app.clone(),
                    seal(500 + 2 * n as u64 + i as u64),
                    altcha.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    send(&app, post_solved(&jwe, &altcha)).await.status
                }));
            }
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        for pair in statuses.chunks(2) {
            let mut pair = pair.to_vec();
            pair.sort();
            assert_eq!(
                pair,
                [StatusCode::CREATED, StatusCode::FORBIDDEN],
                "{}",
                test_store.kind
            );
        }
        let store = test_store.db.open_existing().unwrap();
        assert_eq!(store.count().unwrap(), 20, "{}", test_store.kind);
    }
}

#[tokio::test]
async fn cors_lets_the_allowed_origins_fetch_challenges_and_send_the_header() {
    let c = collector(|o| {
        o.allow_origins = vec!["https://shop.example".parse().unwrap()];
        o.pow = Some(test_pow());
    });
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/submissions")
        .header(header::ORIGIN, "https://shop.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "content-type,altcha",
        )
        .body(Body::empty())
        .unwrap();
    let answer = send(&c.app, preflight).await;
    let allowed = answer.headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("altcha"), "{allowed}");
    let get = |origin: &str| {
        Request::get("/v1/challenge")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .unwrap()
    };
    let mine = send(&c.app, get("https://shop.example")).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(
        mine.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    let theirs = send(&c.app, get("https://evil.example")).await;
    assert!(
        !theirs
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
}

/// The settings of a collector over the SQLite file `db` with these changes.
fn settings(db: &Path, change: impl FnOnce(&mut serve::Args)) -> anyhow::Result<Settings> {
    let mut args = serve::Args {
        forms: vec![repo().join("examples/newsletter.json")],
        db: Some(db.display().to_string().parse().unwrap()),
        ..serve::Args::default()
    };
    change(&mut args);
    Settings::resolve(&args)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[tokio::test]
async fn a_missing_key_is_made_for_its_owner_only_and_read_again_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.sqlite");
    let first = settings(&db, |_| {}).unwrap();
    let key = dir.path().join("collector.sqlite.pow-key");
    assert_eq!(
        first.pow_key.as_ref().map(|k| (k.path.clone(), k.created)),
        Some((key.clone(), true))
    );
    assert_eq!(mode(&key), 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(
        text.len() == 65 && text.ends_with('\n'),
        "32 bytes in hex and a newline: {text:?}"
    );
    assert_eq!(
        first.options.pow.as_ref().unwrap().difficulty(),
        50_000,
        "the default difficulty"
    );

    // The next start reads the same key: a challenge issued before it still verifies.
    let second = settings(&db, |_| {}).unwrap();
    assert!(!second.pow_key.unwrap().created);
    let before = collector(|o| o.pow = first.options.pow.clone());
    let after = collector(|o| o.pow = second.options.pow.clone());
    // A small difficulty to solve it fast; the key is what matters.
    let quick = ProofOfWork::new(text.trim_end(), 10).unwrap();
    let quick = collector(|o| o.pow = Some(quick.clone()));
    for c in [&before, &after] {
        let answer = send(&c.app, post_solved(&seal(1), &solution(&quick.app).await)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
}

#[test]
fn a_key_others_may_read_is_refused_and_a_given_one_is_taken_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.sqlite");
    let key = dir.path().join("pow.key");
    std::fs::write(&key, "our own key, long enough\n").unwrap();
    for open in [0o644, 0o640, 0o604, 0o660] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(open)).unwrap();
        let err = settings(&db, |a| a.pow_key = Some(key.clone())).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("is open to other users") && message.contains("chmod 600"),
            "{message}"
        );
        assert!(!message.contains("our own key"), "never shown: {message}");
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let taken = settings(&db, |a| {
        a.pow_key = Some(key.clone());
        a.pow_difficulty = Some(1234);
    })
    .unwrap();
    let pow = taken.options.pow.unwrap();
    assert_eq!(pow.difficulty(), 1234);
    // The key is the text without its newline, as `altcha-lib` would be given it.
    let challenge = pow.challenge(unix_now()).unwrap();
    assert_eq!(
        challenge.signature,
        hmac_hex("our own key, long enough", &challenge.challenge)
    );
    assert!(
        !db.with_extension("sqlite.pow-key").exists(),
        "no default key made"
    );

    std::fs::write(&key, "short\n").unwrap();
    let err = settings(&db, |a| a.pow_key = Some(key.clone())).unwrap_err();
    assert!(
        format!("{err:#}").contains("shorter than 16 bytes"),
        "{err:#}"
    );
}

#[test]
fn a_postgres_store_needs_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = serve::Args {
        forms: vec![repo().join("examples/newsletter.json")],
        db: Some("postgres://collector@db.internal/formseal".parse().unwrap()),
        ..serve::Args::default()
    };
    let err = Settings::resolve(&args).unwrap_err().to_string();
    assert!(err.contains("needs --pow-key FILE"), "{err}");
    assert!(err.contains("every collector"), "{err}");
    args.pow_key = Some(dir.path().join("shared.key"));
    let settings = Settings::resolve(&args).unwrap();
    assert_eq!(
        settings.pow_key.unwrap().path,
        dir.path().join("shared.key")
    );
    args.pow_key = None;
    args.no_pow = true;
    assert!(Settings::resolve(&args).unwrap().options.pow.is_none());
}

#[test]
fn the_config_file_names_the_key_beside_itself_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("collector.json");
    let write = |value: Value| std::fs::write(&config, value.to_string()).unwrap();
    let forms = [repo().join("examples/newsletter.json")];
    write(json!({
        "db": "c.sqlite", "forms": forms, "pow_key_file": "keys/pow.key", "pow_difficulty": 2000
    }));
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    let args = |change: &dyn Fn(&mut serve::Args)| {
        let mut args = serve::Args {
            config: Some(config.clone()),
            ..serve::Args::default()
        };
        change(&mut args);
        Settings::resolve(&args)
    };
    let settings = args(&|_| {}).unwrap();
    assert_eq!(
        settings.pow_key.unwrap().path,
        dir.path().join("keys/pow.key")
    );
    assert_eq!(settings.options.pow.unwrap().difficulty(), 2000);
    let settings = args(&|a| a.pow_difficulty = Some(10)).unwrap();
    assert_eq!(settings.options.pow.unwrap().difficulty(), 10);

    write(json!({ "db": "c.sqlite", "forms": forms, "require_pow": false }));
    assert!(args(&|_| {}).unwrap().options.pow.is_none());
    let on = args(&|a| a.require_pow = true).unwrap();
    assert_eq!(
        on.pow_key.unwrap().path,
        dir.path().join("c.sqlite.pow-key")
    );

    write(json!({ "db": "c.sqlite", "forms": forms, "pow_difficulty": 0 }));
    let err = args(&|_| {}).unwrap_err().to_string();
    assert!(err.contains("pow_difficulty must be from 1"), "{err}");
}

#[test]
fn the_command_line_refuses_contradictory_flags() {
    let form = repo().join("examples/newsletter.json");
    for extra in [
        &["--no-pow", "--require-pow"][..],
        &["--no-pow", "--pow-key", "pow.key"],
        &["--no-pow", "--pow-difficulty", "10"],
        &["--pow-difficulty", "0"],
    ] {
        let (_, stderr) = run(
            formseal().args(["serve", "--form"]).arg(&form).args(extra),
            2,
        );
        assert!(stderr.contains("error:"), "{extra:?}: {stderr}");
    }
}

/// `node` can import the repository's `altcha-lib`: `false` (with a note) when it is not
/// installed, outside CI only; under `CI=true` a missing one fails the test.
fn altcha_lib_installed() -> bool {
    let package = repo().join("node_modules/altcha-lib/package.json");
    if let Ok(text) = std::fs::read_to_string(&package) {
        let version = serde_json::from_str::<Value>(&text).unwrap()["version"].clone();
        assert_eq!(
            version, "2.8.0",
            "package.json pins altcha-lib 2.8.0; run npm ci"
        );
        return true;
    }
    assert!(
        !std::env::var("CI").is_ok_and(|ci| ci == "true"),
        "{} is missing under CI=true: `npm ci` installs it",
        package.display()
    );
    eprintln!("note: node_modules/altcha-lib is missing (`npm ci` installs it); skipping");
    false
}

/// Runs `tests/altcha/interop.mjs` with `args`, `stdin` on its standard input; its JSON.
fn interop(args: &[&str], stdin: &str) -> Value {
    let script = repo().join("crates/cli/tests/altcha/interop.mjs");
    let mut child = Process::new("node")
        .arg(&script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` (install Node.js 20 or later): {e}"));
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Our challenge passes `altcha-lib`'s own `verifySolution` once `solveChallenge` solved it, and
/// a challenge `createChallenge` made with our key (read from the collector's key file), solved
/// by `altcha-lib`, stores an envelope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altcha_lib_verifies_our_challenges_and_we_accept_its_solutions() {
    if !altcha_lib_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&dir.path().join("collector.sqlite"), |a| {
        a.pow_difficulty = Some(DIFFICULTY);
    })
    .unwrap();
    let key = std::fs::read_to_string(settings.pow_key.unwrap().path).unwrap();
    let key = key.trim_end().to_string();
    let store = formseal_cli::serve::SqliteStore::open(&dir.path().join("collector.sqlite"));
    let app = app(AppState::new(Arc::new(store.unwrap()), settings.options));

    // (a) Our challenge, checked by altcha-lib.
    let challenge = send(
        &app,
        Request::get("/v1/challenge").body(Body::empty()).unwrap(),
    )
    .await;
    let checked = tokio::task::spawn_blocking({
        let key = key.clone();
        move || interop(&["verify", &key], &challenge.body)
    })
    .await
    .unwrap();
    assert_eq!(checked["verified"], true, "{checked}");
    assert_eq!(checked["verifiedWithAnotherKey"], false, "{checked}");
    let payload = checked["payload"].as_str().unwrap();
    let answer = send(&app, post_solved(&seal(1), payload)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);

    // (b) altcha-lib's challenge, with our key, accepted by us.
    let made = tokio::task::spawn_blocking(move || interop(&["create", &key, "2000"], ""))
        .await
        .unwrap();
    assert_eq!(made["challenge"]["maxnumber"], 2000, "{made}");
    let payload = made["payload"].as_str().unwrap();
    let answer = send(&app, post_solved(&seal(2), payload)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let replay = send(&app, post_solved(&seal(3), payload)).await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN, "{}", replay.body);
}
