//! The collector (`formseal serve`) driven through its router with `oneshot` against a temporary
//! SQLite store, plus one real listening server end to end: post, then `formseal decrypt --db`
//! and `formseal export`. Envelopes are sealed with the committed TEST keys of
//! `crates/core/tests/examples/` and the example form of `examples/`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use assert_cmd::Command;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use formseal_cli::serve::store::StoredEnvelope;
use formseal_cli::serve::{self, AcceptedForms, AppState, Database, RateLimit, Store, app};
use formseal_core::config::FormConfig;
use formseal_core::keys::PublicJwk;
use formseal_core::time::Date;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::collector::{COMPACT, JSON, collector, collectors, from, options, post, send};
use common::stores::{TestStore, test_stores};
use common::{FORM, answers, newsletter, repo, seal_answers, test_key};

fn jwk(name: &str) -> PublicJwk {
    serde_json::from_str(&std::fs::read_to_string(test_key(name)).unwrap()).unwrap()
}

fn seal(seed: u64) -> String {
    seal_answers(&newsletter(), &answers(), seed)
}

#[tokio::test]
async fn a_new_envelope_is_created_and_the_same_one_again_is_a_duplicate() {
    for c in collectors(|_| {}) {
        let jwe = seal(1);
        let first = send(&c.app, post(jwe.clone(), COMPACT)).await;
        assert_eq!(
            first.status,
            StatusCode::CREATED,
            "{}: {}",
            c.kind,
            first.body
        );
        let id = first.json()["id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 43, "base64url SHA-256");

        // A retry sends the identical bytes (here with a trailing newline and a charset).
        let again = send(
            &c.app,
            post(format!("{jwe}\n"), "application/jose; charset=utf-8"),
        )
        .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(again.json()["id"], id);
        assert_eq!(c.store.count().unwrap(), 1);

        let mut rows = Vec::new();
        c.store
            .for_each(None, &mut |row| {
                rows.push(row);
                Ok(())
            })
            .unwrap();
        let StoredEnvelope {
            id: row_id,
            form,
            received,
            expires,
            jwe: stored,
        } = rows.pop().unwrap();
        assert_eq!((row_id, form.as_str(), stored), (id, "newsletter", jwe));
        // From the protected header: sealed 2026-11-24, newsletter purpose 730 days.
        assert_eq!(expires.as_deref(), Some("2028-11-23"));
        assert!(
            Date::parse(&received).is_some(),
            "day precision: {received}"
        );
    }
}

#[tokio::test]
async fn json_serialization_is_accepted_as_jose_json_only() {
    // Two recipients (key rotation) make a General JSON envelope.
    let mut config = newsletter();
    config.recipients.push(jwk("rsa3072.pub.jwk.json"));
    for c in collectors(|options| {
        options
            .forms
            .add(serde_json::to_string(&config).unwrap())
            .unwrap();
    }) {
        let jwe = seal_answers(&config, &answers(), 2);
        assert!(jwe.starts_with('{'));

        let wrong = send(&c.app, post(jwe.clone(), COMPACT)).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert!(
            wrong.error().contains("application/jose+json"),
            "{}",
            wrong.body
        );
        let right = send(&c.app, post(jwe, JSON)).await;
        assert_eq!(right.status, StatusCode::CREATED, "{}", right.body);

        let compact_as_json = send(&c.app, post(seal(3), JSON)).await;
        assert_eq!(compact_as_json.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn malformed_unknown_key_and_unknown_form_are_400_with_a_reason() {
    let c = collector(|_| {});

    let garbage = send(&c.app, post("hello, collector", COMPACT)).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(
        garbage.error().starts_with("not a sealed envelope"),
        "{}",
        garbage.body
    );

    let empty = send(&c.app, post("", COMPACT)).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let binary = send(&c.app, post(vec![0xff, 0xfe, 0x00], COMPACT)).await;
    assert_eq!(binary.status, StatusCode::BAD_REQUEST);

    // Well formed, but damaged: one character of the IV removed.
    let jwe = seal(4);
    let mut parts: Vec<String> = jwe.split('.').map(String::from).collect();
    parts[2].pop();
    let damaged = send(&c.app, post(parts.join("."), COMPACT)).await;
    assert_eq!(damaged.status, StatusCode::BAD_REQUEST);

    let mut other_key = newsletter();
    other_key.recipients = vec![jwk("rsa3072.pub.jwk.json")];
    let unknown_kid = send(
        &c.app,
        post(seal_answers(&other_key, &answers(), 5), COMPACT),
    )
    .await;
    assert_eq!(unknown_kid.status, StatusCode::BAD_REQUEST);
    assert!(unknown_kid.error().contains("key"), "{}", unknown_kid.body);

    let mut other_form = newsletter();
    other_form.id = "contest".into();
    let unknown_form = send(
        &c.app,
        post(seal_answers(&other_form, &answers(), 6), COMPACT),
    )
    .await;
    assert_eq!(unknown_form.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown_form.error().contains("form"),
        "{}",
        unknown_form.body
    );
    assert!(
        !unknown_form.body.contains("contest"),
        "does not echo input"
    );

    for answer in [
        &garbage,
        &empty,
        &binary,
        &damaged,
        &unknown_kid,
        &unknown_form,
    ] {
        assert!(!answer.error().contains('\n'), "one line: {}", answer.body);
    }
    assert_eq!(c.store.count().unwrap(), 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let c = collector(|_| {});
    let oversized = "a".repeat(64 * 1024 + 1);
    let answer = send(&c.app, post(oversized, COMPACT)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.error().contains("65536"), "{}", answer.body);

    // A real envelope over a configured small limit.
    let small = collector(|options| options.max_body = 512);
    let answer = send(&small.app, post(seal(7), COMPACT)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(small.store.count().unwrap(), 0);
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_415() {
    let c = collector(|_| {});
    for content_type in [
        "text/plain",
        "application/json",
        "application/x-www-form-urlencoded",
    ] {
        let answer = send(&c.app, post(seal(8), content_type)).await;
        assert_eq!(
            answer.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        assert!(answer.error().contains("application/jose"));
    }
    let request = Request::post("/v1/submissions")
        .body(Body::from(seal(8)))
        .unwrap();
    assert_eq!(
        send(&c.app, request).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(c.store.count().unwrap(), 0);
}

#[tokio::test]
async fn a_client_over_the_rate_limit_gets_429_and_others_do_not() {
    for c in collectors(|options| {
        options.rate_limit = Some("3/min".parse::<RateLimit>().unwrap());
    }) {
        for seed in 10..13 {
            let answer = send(
                &c.app,
                from("198.51.100.7:40000", post(seal(seed), COMPACT)),
            )
            .await;
            assert_eq!(answer.status, StatusCode::CREATED);
        }
        // Another source port is the same client.
        let limited = send(&c.app, from("198.51.100.7:40001", post(seal(13), COMPACT))).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = limited.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=20).contains(&retry), "retry after {retry}s");

        let other = send(&c.app, from("198.51.100.8:40000", post(seal(13), COMPACT))).await;
        assert_eq!(other.status, StatusCode::CREATED);
        assert_eq!(c.store.count().unwrap(), 4);
    }
}

#[tokio::test]
async fn cors_allows_only_the_listed_origins() {
    let c = collector(|options| {
        options.allow_origins = vec!["https://shop.example".parse().unwrap()];
    });
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/submissions")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = send(&c.app, preflight("https://shop.example")).await;
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    let denied = send(&c.app, preflight("https://evil.example")).await;
    assert!(
        !denied
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );

    let mut request = post(seal(20), COMPACT);
    request
        .headers_mut()
        .insert(header::ORIGIN, "https://shop.example".parse().unwrap());
    let posted = send(&c.app, request).await;
    assert_eq!(posted.status, StatusCode::CREATED);
    assert_eq!(
        posted.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );

    let mut request = post(seal(21), COMPACT);
    request
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let other = send(&c.app, request).await;
    assert!(
        !other
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_posts_are_all_stored() {
    for c in collectors(|options| options.rate_limit = None) {
        let bodies: Vec<String> = (100..150).map(seal).collect();
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|jwe| {
                let app = c.app.clone();
                tokio::spawn(async move { send(&app, post(jwe, COMPACT)).await.status })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::CREATED);
        }
        assert_eq!(c.store.count().unwrap(), 50, "{}", c.kind);
    }
}

/// Two collector processes behind a load balancer share one store: a client whose first try
/// went to one and whose retry went to the other still has its envelope stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_on_one_store_store_each_envelope_once() {
    for test_store in test_stores() {
        let apps: Vec<Router> = (0..2)
            .map(|_| {
                let store = test_store.db.open().unwrap();
                app(AppState::new(store, options(|o| o.rate_limit = None)))
            })
            .collect();
        let bodies: Vec<String> = (200..230).map(seal).collect();
        let mut tasks = Vec::new();
        for jwe in &bodies {
            for app in &apps {
                let (app, jwe) = (app.clone(), jwe.clone());
                tasks.push(tokio::spawn(async move {
                    send(&app, post(jwe, COMPACT)).await.status
                }));
            }
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let again = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!((created, again), (30, 30), "{}", test_store.kind);
        let store = test_store.db.open_existing().unwrap();
        assert_eq!(store.count().unwrap(), 30, "{}", test_store.kind);
    }
}

#[tokio::test]
async fn health_form_configs_and_static_files_are_served() {
    let files = tempfile::tempdir().unwrap();
    let www = files.path().join("www");
    let pkg = files.path().join("pkg");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<h1>Shop</h1>").unwrap();
    std::fs::write(pkg.join("formseal-signup.js"), "export {};").unwrap();
    // What `cargo xtask wasm` writes next to each file (the content is a stand-in here).
    std::fs::write(pkg.join("formseal-signup.js.br"), "brotli bytes").unwrap();
    let c = collector(|options| {
        options.www = Some(www.clone());
        options.pkg = Some(pkg.clone());
    });
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();

    assert_eq!(send(&c.app, get("/healthz")).await.status, StatusCode::OK);
    let form = send(&c.app, get("/forms/newsletter.json")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.json()["id"], "newsletter");
    assert_eq!(
        send(&c.app, get("/forms/other.json")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(send(&c.app, get("/")).await.body.contains("Shop"));
    let script = send(&c.app, get("/pkg/formseal-signup.js")).await;
    assert_eq!(script.body, "export {};");
    assert!(
        script.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let brotli = send(
        &c.app,
        Request::get("/pkg/formseal-signup.js")
            .header(header::ACCEPT_ENCODING, "br, gzip")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(brotli.headers[header::CONTENT_ENCODING], "br");
    assert_eq!(brotli.body, "brotli bytes");
}

#[tokio::test]
async fn form_configs_are_served_compressed_to_browsers_that_accept_it() {
    use std::io::Read as _;
    let c = collector(|_| {});
    let plain = send(
        &c.app,
        Request::get("/forms/newsletter.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.headers[header::VARY], "accept-encoding");
    let fetch = |encoding: &'static str| {
        let app = c.app.clone();
        async move {
            let response = app
                .oneshot(
                    Request::get("/forms/newsletter.json")
                        .header(header::ACCEPT_ENCODING, encoding)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let headers = response.headers().clone();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (headers, body.to_vec())
        }
    };
    // Chrome's header: brotli, and smaller than the text.
    let (headers, body) = fetch("gzip, deflate, br, zstd").await;
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert!(
        body.len() < plain.body.len() / 2,
        "{} of {}",
        body.len(),
        plain.body.len()
    );
    let mut text = String::new();
    brotli::Decompressor::new(body.as_slice(), 4096)
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain.body);
    // Brotli refused with q=0: gzip.
    let (headers, body) = fetch("br;q=0, gzip").await;
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain.body);
    // Neither: the text as it is.
    let (headers, body) = fetch("identity").await;
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(String::from_utf8(body).unwrap(), plain.body);
}

/// The example form plus a free-text field, to carry commas, quotes, newlines and non-ASCII.
fn form_with_comment() -> String {
    let mut form: Value = serde_json::from_str(FORM).unwrap();
    let fields = form["fields"].as_array_mut().unwrap();
    let mut comment = fields[1].clone();
    comment["id"] = json!("comment");
    comment["type"] = json!("textarea");
    comment["max_length"] = json!(500);
    fields.insert(2, comment);
    serde_json::to_string_pretty(&form).unwrap()
}

fn formseal() -> Command {
    let mut cmd = Command::cargo_bin("formseal").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_over_a_socket_then_decrypt_and_export_from_the_store() {
    for test_store in test_stores() {
        end_to_end(&test_store).await;
    }
}

async fn end_to_end(test_store: &TestStore) {
    let dir = &test_store.dir;
    let form_path = dir.path().join("newsletter.json");
    let form_json = form_with_comment();
    std::fs::write(&form_path, &form_json).unwrap();
    let db = test_store.arg();

    // The same settings `formseal serve --form ... --db ... --listen 127.0.0.1:0` would use,
    // with proof of work on (the default): beside a SQLite file its key is found by default, a
    // PostgreSQL store needs it named.
    let args = serve::Args {
        forms: vec![form_path.clone()],
        db: Some(db.parse().unwrap()),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        pow_key: (test_store.kind == "postgres").then(|| dir.path().join("pow.key")),
        pow_difficulty: Some(common::pow::DIFFICULTY),
        ..serve::Args::default()
    };
    let settings = serve::Settings::resolve(&args).unwrap();
    let store = settings.db.open().unwrap();
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{origin}/v1/submissions");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve::serve(
        listener,
        AppState::new(store, settings.options),
        async {
            let _ = stopped.await;
        },
    ));

    let config = FormConfig::from_json(&form_json).unwrap();
    let comment = "Graag, maar: \"niet\" te vaak,\nen in het Frysk: Ús Mem 🐄";
    let mut tricky = answers();
    tricky.insert("comment".into(), json!(comment));
    tricky.insert("name".into(), json!("Zoë, \"Jo\""));
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for (seed, answers) in [(40, answers()), (41, tricky)] {
        let jwe = seal_answers(&config, &answers, seed);
        let challenge = client
            .get(format!("{origin}/v1/challenge"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let altcha = common::pow::solve(&serde_json::from_str(&challenge).unwrap()).to_header();
        // The retry is the same request again, solution and all.
        for expected in [201, 200] {
            let response = client
                .post(&url)
                .header("content-type", COMPACT)
                .header("altcha", &altcha)
                .body(jwe.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), expected);
            let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
            ids.push(body["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[2], ids[3]);

    let key = test_key("rsa2048.pem");
    let (decrypted, csv_out) = tokio::task::spawn_blocking({
        let (db, key, form_path) = (db.clone(), key.clone(), form_path.clone());
        move || {
            let decrypted = formseal()
                .args(["decrypt", "--key"])
                .arg(&key)
                .arg("--db")
                .arg(&db)
                .output()
                .unwrap();
            let csv_out = formseal()
                .args(["export", "--format", "csv", "--key"])
                .arg(&key)
                .arg("--db")
                .arg(&db)
                .arg("--form")
                .arg(&form_path)
                .output()
                .unwrap();
            (decrypted, csv_out)
        }
    })
    .await
    .unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let stderr = String::from_utf8_lossy(&decrypted.stderr);
    assert!(decrypted.status.success(), "{stderr}");
    assert!(stderr.contains("opened 2 of 2 records"), "{stderr}");
    let records: Vec<Value> = String::from_utf8(decrypted.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["values"]["email"], "jan.de.vries@example.nl");
    assert_eq!(records[1]["values"]["comment"], comment);

    assert!(
        csv_out.status.success(),
        "{}",
        String::from_utf8_lossy(&csv_out.stderr)
    );
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "id",
            "form",
            "form_version",
            "kind",
            "at",
            "subject",
            "notice_version",
            "granted",
            "refused",
            "confirmed",
            "email",
            "name",
            "comment",
            "birth_date",
            "postcode",
            "phone",
            "topics",
            "newsletter_consent",
            "personalisation_consent",
            "source",
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][column("id")], records[0]["id"].as_str().unwrap());
    assert_eq!(&rows[0][column("kind")], "submission");
    assert_eq!(&rows[0][column("granted")], "newsletter");
    assert_eq!(&rows[0][column("refused")], "personalisation");
    assert_eq!(&rows[0][column("topics")], "product;events");
    assert_eq!(&rows[0][column("birth_date")], "", "not consented: empty");
    assert_eq!(&rows[1][column("comment")], comment);
    assert_eq!(&rows[1][column("name")], "Zoë, \"Jo\"");
}

#[tokio::test]
async fn settings_come_from_a_file_and_flags_override_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("newsletter.json"), FORM).unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let config = dir.path().join("collector.json");
    std::fs::write(
        &config,
        json!({
            "listen": "127.0.0.1:9000",
            "db": "data/c.sqlite",
            "forms": ["newsletter.json"],
            "allow_origins": ["https://shop.example"],
            "max_body": "32KiB",
            "rate_limit": "10/min",
            "www": "www"
        })
        .to_string(),
    )
    .unwrap();
    let args = serve::Args {
        config: Some(config.clone()),
        max_body: Some(1000),
        ..serve::Args::default()
    };
    let settings = serve::Settings::resolve(&args).unwrap();
    assert_eq!(settings.listen, "127.0.0.1:9000".parse().unwrap());
    assert_eq!(
        settings.db,
        Database::Sqlite(dir.path().join("data/c.sqlite"))
    );
    assert_eq!(settings.options.max_body, 1000);
    assert_eq!(settings.options.rate_limit, Some("10/min".parse().unwrap()));
    assert_eq!(settings.options.www, Some(dir.path().join("www")));
    assert_eq!(settings.options.allow_origins, ["https://shop.example"]);
    assert!(settings.options.forms.get("newsletter").is_some());
    // Proof of work is on, its key beside the SQLite file.
    let key = settings.pow_key.unwrap();
    assert_eq!(key.path, dir.path().join("data/c.sqlite.pow-key"));
    assert!(settings.options.pow.is_some());

    let none = serve::Settings::resolve(&serve::Args::default()).unwrap_err();
    assert!(none.to_string().contains("--form"), "{none}");

    // "database" is the same setting; a URL stays a URL and its password is never shown.
    let url = "postgres://collector:s3cret@db.internal/formseal";
    std::fs::write(
        &config,
        json!({ "database": url, "forms": ["newsletter.json"], "pow_key_file": "pow.key" })
            .to_string(),
    )
    .unwrap();
    let args = serve::Args {
        config: Some(config),
        ..serve::Args::default()
    };
    let settings = serve::Settings::resolve(&args).unwrap();
    assert_eq!(settings.db, Database::Postgres(url.into()));
    assert_eq!(
        settings.pow_key.as_ref().unwrap().path,
        dir.path().join("pow.key")
    );
    let shown = format!("{settings:?} {}", settings.db);
    assert!(!shown.contains("s3cret"), "{shown}");
    let key = std::fs::read_to_string(dir.path().join("pow.key")).unwrap();
    assert!(!shown.contains(key.trim()), "{shown}");
}

/// Unix only: it stops the server with `kill -TERM`.
#[cfg(unix)]
#[test]
fn the_binary_prints_its_url_serves_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_formseal"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["serve", "--listen", "127.0.0.1:0", "--form"])
        .arg(repo().join("examples/newsletter.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let address = url
        .trim()
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("not a URL: {url:?}"));

    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("accepting forms newsletter"), "{stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
    assert!(stderr.contains("path=/healthz"), "{stderr}");
    // Proof of work by default, its key made beside the database and never printed.
    let key = dir.path().join("collector.sqlite.pow-key");
    assert!(
        stderr.contains(
            "asking for proof of work (difficulty 50000, key collector.sqlite.pow-key, created now)"
        ),
        "{stderr}"
    );
    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(!stderr.contains(key_text.trim()), "{stderr}");
    assert!(
        !stderr.contains("127.0.0.1:"),
        "no client address: {stderr}"
    );
    assert!(dir.path().join("collector.sqlite").exists());
}

/// The body limit follows the forms: a survey with a 2 MiB upload field takes an envelope with a
/// 1 MiB file, while the newsletter form (no uploads) keeps the ordinary limit.
#[tokio::test]
async fn the_body_limit_leaves_room_for_a_forms_uploads_and_only_for_that_form() {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use chacha20::ChaCha20Rng;
    use formseal_core::envelope::{self, ConsentRecord, ENVELOPE_VERSION, Envelope, EnvelopeKind};
    use rand_core::SeedableRng;

    let survey_json = std::fs::read_to_string(repo().join("examples/survey.json")).unwrap();
    let survey = FormConfig::from_json(&survey_json).unwrap();
    let c = collector(|options| options.forms.add(survey_json.clone()).unwrap());

    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(1024 * 1024, 7);
    let answers: formseal_core::answers::Answers = serde_json::from_value(json!({
        "channel": "online", "satisfaction": 1, "problems": ["delivery"],
        "photo": {"name": "box.pdf", "type": "application/pdf", "size": bytes.len(),
                  "data": Base64UrlUnpadded::encode_string(&bytes)},
        "priorities": ["price", "quality", "speed", "service"],
    }))
    .unwrap();
    let consent = formseal_core::consent::ConsentState::default();
    let params = std::collections::BTreeMap::new();
    let input = envelope::SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: "s",
        now_unix: common::NOW,
        url_params: &params,
        lang: None,
    };
    let sealed =
        envelope::seal_envelopes(&survey, &input, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
    let jwe = sealed.envelopes[0].1.as_str().to_owned();
    assert!(jwe.len() > 1024 * 1024);
    let answer = send(&c.app, post(jwe, COMPACT)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);

    // The same size under the newsletter's id is refused: its form has no upload field.
    let big = Envelope {
        v: ENVELOPE_VERSION,
        id: "big".into(),
        form: "newsletter".into(),
        form_version: 1,
        kind: EnvelopeKind::Submission,
        at: "2026-11-24T10:00:00Z".into(),
        subject: "s".into(),
        consent: ConsentRecord::default(),
        values: [("name".to_string(), json!("x".repeat(1024 * 1024)))].into(),
        confirm: None,
    };
    let key = newsletter().recipient_keys().unwrap();
    let jwe = big
        .seal(&newsletter(), &key, &mut ChaCha20Rng::seed_from_u64(4))
        .unwrap();
    let answer = send(&c.app, post(jwe.0, COMPACT)).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    assert_eq!(c.store.count().unwrap(), 1);
}

/// The accepted forms: the example form changed by `change` (e.g. given a closing date).
fn newsletter_with(change: impl Fn(&mut Value)) -> AcceptedForms {
    let mut config: Value = serde_json::from_str(common::FORM).unwrap();
    change(&mut config);
    let mut forms = AcceptedForms::default();
    forms.add(config.to_string()).unwrap();
    forms
}

fn last_open_day() -> Date {
    Date::parse("2026-12-31").unwrap()
}

fn day_after_closing() -> Date {
    Date::parse("2027-01-01").unwrap()
}

/// A collector over `store` whose newsletter closes at the end of 2026-12-31, on `today`.
fn closing_collector(store: &Arc<dyn Store>, today: fn() -> Date) -> Router {
    let options = options(|o| {
        o.forms = newsletter_with(|c| c["closes_at"] = json!("2026-12-31"));
        o.today = today;
    });
    app(AppState::new(Arc::clone(store), options))
}

#[tokio::test]
async fn a_closed_form_refuses_new_envelopes_but_answers_a_retry_of_a_stored_one() {
    for c in collectors(|_| {}) {
        let on_the_last_day = closing_collector(&c.store, last_open_day);
        let stored = send(&on_the_last_day, post(seal(1), COMPACT)).await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", c.kind);

        let closed = closing_collector(&c.store, day_after_closing);
        let refused = send(&closed, post(seal(2), COMPACT)).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", c.kind);
        assert_eq!(
            refused.error(),
            "form \"newsletter\" closed at the end of 2026-12-31 (UTC)"
        );
        assert_eq!(c.store.count().unwrap(), 1, "{}: nothing stored", c.kind);

        // The visitor's retry of an envelope that made it in before the closing.
        let retry = send(&closed, post(seal(1), COMPACT)).await;
        assert_eq!(retry.status, StatusCode::OK, "{}: {}", c.kind, retry.body);
        assert_eq!(retry.json()["id"], stored.json()["id"]);
        assert_eq!(c.store.count().unwrap(), 1);
    }
}

#[tokio::test]
async fn a_form_at_its_response_limit_refuses_new_envelopes_but_answers_retries() {
    for c in collectors(|o| o.forms = newsletter_with(|c| c["max_responses"] = json!(2))) {
        for seed in [1, 2] {
            let stored = send(&c.app, post(seal(seed), COMPACT)).await;
            assert_eq!(stored.status, StatusCode::CREATED, "{}", c.kind);
        }
        let refused = send(&c.app, post(seal(3), COMPACT)).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", c.kind);
        assert_eq!(
            refused.error(),
            "form \"newsletter\" has reached its limit of 2 responses"
        );
        let retry = send(&c.app, post(seal(2), COMPACT)).await;
        assert_eq!(retry.status, StatusCode::OK, "{}: {}", c.kind, retry.body);
        assert_eq!(c.store.count().unwrap(), 2, "{}", c.kind);
    }
}

/// Two collectors sharing a store, each sent the same burst: the form never goes past its limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn collectors_sharing_a_store_never_take_a_form_past_its_limit() {
    for test_store in test_stores() {
        let apps: Vec<Router> = (0..2)
            .map(|_| {
                let store = test_store.db.open().unwrap();
                let options = options(|o| {
                    o.rate_limit = None;
                    o.forms = newsletter_with(|c| c["max_responses"] = json!(5));
                });
                app(AppState::new(store, options))
            })
            .collect();
        let mut tasks = Vec::new();
        for jwe in (300..320).map(seal) {
            for app in &apps {
                let (app, jwe) = (app.clone(), jwe.clone());
                tasks.push(tokio::spawn(async move {
                    send(&app, post(jwe, COMPACT)).await.status
                }));
            }
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        let count = |status| statuses.iter().filter(|s| **s == status).count();
        assert_eq!(count(StatusCode::CREATED), 5, "{}", test_store.kind);
        assert_eq!(
            count(StatusCode::CREATED) + count(StatusCode::OK) + count(StatusCode::CONFLICT),
            40,
            "{}: {statuses:?}",
            test_store.kind
        );
        let store = test_store.db.open_existing().unwrap();
        assert_eq!(store.count().unwrap(), 5, "{}", test_store.kind);
    }
}

/// A consent banner never closes: a config that tries is refused when the collector starts, and
/// the banner's records are stored on any day.
#[tokio::test]
async fn a_consent_banner_is_never_closed() {
    let banner_json = std::fs::read_to_string(repo().join("examples/consent.json")).unwrap();
    let mut closing: Value = serde_json::from_str(&banner_json).unwrap();
    closing["closes_at"] = json!("2026-12-31");
    let err = AcceptedForms::default()
        .add(closing.to_string())
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("closes_at: a consent banner never closes"),
        "{err:#}"
    );

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
        .unwrap();
    let c = collector(|o| {
        o.forms = newsletter_with(|c| c["closes_at"] = json!("2026-12-31"));
        o.forms.add(banner_json.clone()).unwrap();
        o.today = day_after_closing;
    });
    let newsletter = send(&c.app, post(seal(1), COMPACT)).await;
    assert_eq!(
        newsletter.status,
        StatusCode::CONFLICT,
        "{}",
        newsletter.body
    );
    let consent = send(&c.app, post(jwe.0, COMPACT)).await;
    assert_eq!(consent.status, StatusCode::CREATED, "{}", consent.body);
}
