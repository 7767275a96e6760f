//! What the collector logs: method, path, status and the cause of an internal fault, but never
//! a body or a client address. In its own test binary because tracing caches per call site
//! whether anyone listens, which races with other tests running in parallel threads.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use formseal_cli::serve::store::{
    AuditEntry, AuditRecord, ConfirmMail, Cursor, DeadLetter, Delivery, Expired, Inserted,
    MailState, NewEnvelope, Selection, Spend, Spent, StoredEnvelope,
};
use formseal_cli::serve::{
    AcceptedForms, AppOptions, AppState, ProofOfWork, SqliteStore, Store, app,
};
use formseal_core::time::Date;
use http_body_util::BodyExt;
use tower::ServiceExt;

mod common;
use common::pow::{POW_KEY, solution, test_pow, with_pow};
use common::{FORM, answers, newsletter, seal_answers};

fn seal(seed: u64) -> String {
    seal_answers(&newsletter(), &answers(), seed)
}

fn collector(store: Arc<dyn Store>, pow: Option<ProofOfWork>) -> Router {
    let mut forms = AcceptedForms::default();
    forms.add(FORM.to_string()).unwrap();
    app(AppState::new(
        store,
        AppOptions {
            forms,
            pow,
            ..AppOptions::default()
        },
    ))
}

/// A POST from `peer`, as `into_make_service_with_connect_info` would hand it to the app.
async fn post_from(app: &Router, peer: &str, body: String) -> (StatusCode, String) {
    post_with(app, peer, body, None).await
}

/// The same with the proof of work `altcha` in its header.
async fn post_with(
    app: &Router,
    peer: &str,
    body: String,
    altcha: Option<&str>,
) -> (StatusCode, String) {
    let mut request = Request::post("/v1/submissions")
        .header(header::CONTENT_TYPE, "application/jose")
        .body(Body::from(body))
        .unwrap();
    if let Some(altcha) = altcha {
        request = with_pow(request, altcha);
    }
    let addr: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// A store whose every write fails, to see what a fault on our side looks like.
struct BrokenStore;

impl Store for BrokenStore {
    fn insert(&self, _: &NewEnvelope<'_>) -> anyhow::Result<Inserted> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn insert_at_most(&self, _: &NewEnvelope<'_>, _: u64) -> anyhow::Result<Inserted> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn spend_solution(&self, _: &Spend, _: i64) -> anyhow::Result<Spent> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn for_each_selected(
        &self,
        _: Selection,
        _: &mut dyn FnMut(StoredEnvelope) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        Ok(())
    }
    fn count(&self) -> anyhow::Result<u64> {
        Ok(0)
    }
    fn count_selected(&self, _: Selection) -> anyhow::Result<u64> {
        Ok(0)
    }
    fn cursor(&self, _: &str) -> anyhow::Result<Cursor> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn advance_cursor(&self, _: &Cursor, _: &AuditEntry) -> anyhow::Result<()> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn expired(&self, _: Date) -> anyhow::Result<Expired> {
        Ok(Expired::default())
    }
    fn purge(&self, _: Date, _: &AuditEntry) -> anyhow::Result<u64> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn delete(&self, _: &[String], _: &AuditEntry) -> anyhow::Result<u64> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn append_audit(&self, _: &AuditEntry) -> anyhow::Result<()> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn for_each_audit(
        &self,
        _: &mut dyn FnMut(AuditRecord) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        Ok(())
    }
    fn claim_deliveries(&self, _: i64, _: i64, _: usize) -> anyhow::Result<Vec<Delivery>> {
        Ok(Vec::new())
    }
    fn delivered(&self, _: &str) -> anyhow::Result<()> {
        Ok(())
    }
    fn delivery_failed(&self, _: &str, _: Option<i64>, _: &str) -> anyhow::Result<()> {
        Ok(())
    }
    fn queued_deliveries(&self) -> anyhow::Result<u64> {
        Ok(0)
    }
    fn dead_letters(&self) -> anyhow::Result<Vec<DeadLetter>> {
        Ok(Vec::new())
    }
    fn requeue(&self, _: Option<&str>) -> anyhow::Result<u64> {
        Ok(0)
    }
    fn confirm(&self, _: &str, _: &str) -> anyhow::Result<bool> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn confirmations(&self) -> anyhow::Result<HashMap<String, String>> {
        Ok(HashMap::new())
    }
    fn claim_mail(&self, _: &ConfirmMail) -> anyhow::Result<bool> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn mail_done(&self, _: &str, _: bool) -> anyhow::Result<()> {
        Err(anyhow::anyhow!("disk on fire"))
    }
    fn mails(&self) -> anyhow::Result<HashMap<String, MailState>> {
        Ok(HashMap::new())
    }
}

/// Collects everything a tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn logs_name_method_path_and_status_but_never_a_body_or_an_address() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let peer = "203.0.113.77:51515";
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("collector.sqlite")).unwrap();
    let good = collector(Arc::new(store), None);
    let jwe = seal(30);
    let secret = "visitor.secret@example.com";
    let (status, _) = post_from(&good, peer, jwe.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post_from(&good, peer, format!("{secret} wants in")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // An internal fault is logged (its cause), and answered with a generic 500.
    let broken = collector(Arc::new(BrokenStore), None);
    let (status, body) = post_from(&broken, peer, jwe.clone()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, r#"{"error":"internal error"}"#);

    // Neither the proof-of-work key nor a solution reaches the log, refused or accepted.
    let store = SqliteStore::open(&dir.path().join("pow.sqlite")).unwrap();
    let guarded = collector(Arc::new(store), Some(test_pow()));
    let altcha = solution(&guarded).await;
    let (status, _) = post_from(&guarded, peer, seal(31)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post_with(&guarded, peer, seal(31), Some(&altcha)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post_with(&guarded, peer, seal(32), Some(&altcha)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "spent");

    // A double opt-in click: confirmed on a good store, a 500 on a broken one; its token is
    // never logged either way.
    let token = "q83vEjRWeJCrze8SNFZ4kA";
    for (app, expected) in [
        (&good, StatusCode::OK),
        (&broken, StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        let mut request = Request::post(format!("/v1/confirm/{token}?lang=nl"))
            .body(Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), expected);
    }

    let logs = captured.text();
    assert!(logs.contains("/v1/confirm/…"), "captured: {logs}");
    assert!(!logs.contains(token), "{logs}");
    assert!(logs.contains("/v1/submissions"), "captured: {logs}");
    assert!(logs.contains("201") && logs.contains("400"), "{logs}");
    assert!(logs.contains("disk on fire"), "{logs}");
    assert!(!logs.contains("203.0.113.77"), "{logs}");
    assert!(!logs.contains("51515"), "{logs}");
    assert!(!logs.contains(secret), "{logs}");
    assert!(
        logs.contains("/v1/challenge") && logs.contains("403"),
        "{logs}"
    );
    assert!(!logs.contains(POW_KEY) && !logs.contains(&altcha), "{logs}");
    for part in jwe.split('.').filter(|p| p.len() > 8) {
        assert!(
            !logs.contains(part),
            "a piece of the envelope is in the logs"
        );
    }
}
