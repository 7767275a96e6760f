//! Retention and accountability: the collector stores each envelope's retention date from its
//! protected header (held to the form's policy), `formseal purge` deletes what has expired
//! without a key, and every decrypt, export and purge leaves a line in the append-only audit log
//! that `formseal audit` prints.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chacha20::ChaCha20Rng;
use formseal_cli::serve::store::{NewEnvelope, Store};
use formseal_cli::serve::{AcceptedForms, AppOptions, AppState, SqliteStore, app, today};
use formseal_core::jwe;
use formseal_core::keys::PrivateKey;
use formseal_core::time::Date;
use http_body_util::BodyExt;
use rand_core::SeedableRng;
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

mod common;
use common::{FORM, answers, formseal, newsletter, run, seal_answers, test_key};

/// An envelope of the example form sealed with a protected header of our choosing.
fn seal_with_header(header: &[(&str, Value)]) -> String {
    let key =
        PrivateKey::from_pkcs8_pem(&std::fs::read_to_string(test_key("rsa2048.pem")).unwrap())
            .unwrap();
    let mut params = Map::new();
    params.insert("form".into(), "newsletter".into());
    params.insert("form_version".into(), 1.into());
    for (name, value) in header {
        params.insert((*name).into(), value.clone());
    }
    jwe::seal(
        &[b' '; 512],
        &params,
        &[key.public()],
        &mut ChaCha20Rng::seed_from_u64(9),
    )
    .unwrap()
}

async fn post(store: Arc<SqliteStore>, jwe: String) -> (StatusCode, String) {
    let mut forms = AcceptedForms::default();
    forms.add(FORM.to_string()).unwrap();
    let options = AppOptions {
        forms,
        ..AppOptions::default()
    };
    let request = Request::post("/v1/submissions")
        .header(header::CONTENT_TYPE, "application/jose")
        .body(Body::from(jwe))
        .unwrap();
    let response = app(AppState::new(store, options))
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn stored_expiry(store: &SqliteStore) -> Vec<Option<String>> {
    let mut dates = Vec::new();
    store
        .for_each(None, &mut |e| {
            dates.push(e.expires);
            Ok(())
        })
        .unwrap();
    dates
}

#[tokio::test]
async fn the_collector_stores_the_header_date_held_to_the_forms_longest_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("c.sqlite")).unwrap());

    // No date, or not a date: refused, nothing stored.
    for header in [vec![], vec![("fs.exp", json!("soon"))]] {
        let (status, body) = post(store.clone(), seal_with_header(&header)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("fs.exp"), "{body}");
    }
    assert_eq!(store.count().unwrap(), 0);

    // A date beyond the form's policy (730 days at most) is cut back to it: a forged or
    // mistaken header cannot keep a record longer.
    let (status, body) = post(
        store.clone(),
        seal_with_header(&[("fs.exp", json!("2999-01-01"))]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // An earlier date is kept: deleting early is lawful.
    let (status, _) = post(
        store.clone(),
        seal_with_header(&[("fs.exp", json!("2020-01-01"))]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let longest = today().plus_days(730).to_string();
    assert_eq!(
        stored_expiry(&store),
        [Some(longest), Some("2020-01-01".to_string())]
    );
}

/// A collector database with envelopes that expired long ago, ones that expire far ahead, and
/// (with `undated`) one from before retention dates were recorded.
fn store_with(expired: usize, kept: usize, undated: bool) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.sqlite");
    let store = SqliteStore::open(&db).unwrap();
    let days =
        std::iter::repeat_n("2020-01-01", expired).chain(std::iter::repeat_n("2999-12-31", kept));
    for (n, expires) in days.enumerate() {
        let jwe = seal_answers(&newsletter(), &answers(), n as u64);
        let id = format!("record-{n}");
        store
            .insert(&NewEnvelope {
                id: &id,
                form: "newsletter",
                kids: &[],
                received: Date::parse("2019-12-01").unwrap(),
                expires: Date::parse(expires).unwrap(),
                jwe: &jwe,
                deliver: false,
            })
            .unwrap();
    }
    drop(store);
    if undated {
        // The way a collector from before retention dates wrote a row: no `expires`.
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute(
                "INSERT INTO envelopes (id, form, kids, received, jwe)
                 VALUES ('undated', 'newsletter', '', '2019-01-01', 'x.y.z.a.b')",
                [],
            )
            .unwrap();
    }
    (dir, db)
}

fn count(db: &Path) -> u64 {
    SqliteStore::open_read_only(db).unwrap().count().unwrap()
}

fn audit_log(db: &Path) -> Vec<Value> {
    let (stdout, _) = run(formseal().args(["audit", "--db"]).arg(db), 0);
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn purge_deletes_only_what_expired_dry_run_deletes_nothing_and_both_are_accountable() {
    let (_dir, db) = store_with(2, 3, true);
    let before = count(&db);

    let (stdout, stderr) = run(formseal().args(["purge", "--dry-run", "--db"]).arg(&db), 0);
    assert_eq!(stdout.trim(), "2");
    assert!(
        stderr.contains("would delete 2 expired envelopes"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing deleted"), "{stderr}");
    assert_eq!(count(&db), before);
    assert!(audit_log(&db).is_empty(), "a dry run touches no record");

    let (stdout, stderr) = run(
        formseal()
            .args(["purge", "--actor", "dpo@shop.example", "--db"])
            .arg(&db),
        0,
    );
    assert_eq!(stdout.trim(), "2");
    assert!(stderr.contains("deleted 2 envelopes: expired"), "{stderr}");
    assert!(
        stderr.contains("kept 1 envelope without a retention date"),
        "{stderr}"
    );
    assert_eq!(count(&db), 4);

    // Nothing left to purge; the second run is logged too.
    let (stdout, _) = run(formseal().args(["purge", "--db"]).arg(&db), 0);
    assert_eq!(stdout.trim(), "0");

    let log = audit_log(&db);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["seq"], 1);
    assert_eq!(log[0]["actor"], "dpo@shop.example");
    assert_eq!(log[0]["action"], "purge");
    assert_eq!(log[0]["records"], 2);
    let today = today().to_string();
    assert_eq!(
        log[0]["detail"],
        format!("retention date on or before {today}, or a double opt-in unconfirmed on {today}")
    );
    assert!(
        log[0]["at"].as_str().unwrap().starts_with(&today),
        "{log:?}"
    );
    assert_eq!(log[1]["records"], 0);
}

#[test]
fn decrypt_and_export_from_the_store_are_logged_with_who_and_how_many() {
    let (dir, db) = store_with(0, 3, false);
    let key = test_key("rsa2048.pem");
    run(
        formseal()
            .args([
                "decrypt",
                "--actor",
                "anna",
                "--since",
                "2019-12-01",
                "--key",
            ])
            .arg(&key)
            .arg("--db")
            .arg(&db),
        0,
    );
    run(
        formseal()
            .env("USER", "bram")
            .args(["export", "--format", "csv", "--key"])
            .arg(&key)
            .arg("--db")
            .arg(&db)
            .arg("--form")
            .arg(common::repo().join("examples/newsletter.json")),
        0,
    );
    // Reading a file instead of the store is the data team's own business: no store, no log.
    let file = dir.path().join("sealed.jwe");
    std::fs::write(&file, seal_answers(&newsletter(), &answers(), 99)).unwrap();
    run(
        formseal().args(["decrypt", "--key"]).arg(&key).arg(&file),
        0,
    );

    let log = audit_log(&db);
    assert_eq!(log.len(), 2, "{log:?}");
    let kid = "ngvrVofnf2JpLPgWGwI74NxIhaoOFlnMy8Ce7X7qSaQ";
    assert_eq!(
        (&log[0]["actor"], &log[0]["action"], &log[0]["records"]),
        (&json!("anna"), &json!("decrypt"), &json!(3))
    );
    assert_eq!(log[0]["detail"], format!("kid {kid}, since 2019-12-01"));
    assert_eq!(
        (&log[1]["actor"], &log[1]["action"], &log[1]["records"]),
        (&json!("bram"), &json!("export"), &json!(3))
    );
    assert_eq!(log[1]["detail"], format!("kid {kid}, csv, form newsletter"));
}

#[test]
fn reading_commands_refuse_a_missing_database_instead_of_creating_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.sqlite");
    for args in [vec!["purge", "--db"], vec!["audit", "--db"]] {
        let (_, stderr) = run(formseal().args(&args).arg(&missing), 1);
        assert!(stderr.contains("does not exist"), "{stderr}");
        assert!(stderr.contains("hint: give the --db file"), "{stderr}");
    }
    let (_, stderr) = run(
        formseal()
            .args(["decrypt", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--db")
            .arg(&missing),
        1,
    );
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(!missing.exists());
}

#[test]
fn the_collectors_schedule_purges_the_same_way_and_says_so_in_the_log() {
    let (dir, db) = store_with(1, 1, false);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(formseal_cli::serve::purge::once(&store).unwrap(), 1);
    assert_eq!(store.count().unwrap(), 1);
    let log = audit_log(&db);
    assert_eq!(
        (&log[0]["actor"], &log[0]["action"], &log[0]["records"]),
        (&json!("formseal serve"), &json!("purge"), &json!(1))
    );

    let file = dir.path().join("collector.json");
    std::fs::write(
        &file,
        // No proof of work: its key would be made beside the default database, in the working
        // directory.
        json!({
            "forms": [common::repo().join("examples/newsletter.json")],
            "purge_every": "6h",
            "require_pow": false
        })
        .to_string(),
    )
    .unwrap();
    let args = formseal_cli::serve::Args {
        config: Some(file),
        ..Default::default()
    };
    let settings = formseal_cli::serve::Settings::resolve(&args).unwrap();
    assert_eq!(
        settings.purge_every,
        Some(std::time::Duration::from_secs(6 * 3600))
    );
}
