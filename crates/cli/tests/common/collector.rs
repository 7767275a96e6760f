//! A collector app over a new store, driven with `oneshot` (no socket): building it with
//! changed options, requests as the widget sends them, and the answers read back. Shared by the
//! collector's test files (`serve.rs`, `pow.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use formseal_cli::serve::{AcceptedForms, AppOptions, AppState, Store, app};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::FORM;
use super::stores::{TestStore, sqlite, test_stores};

/// The content type of a compact JWE.
pub(crate) const COMPACT: &str = "application/jose";
/// The content type of a JWE in JSON serialization.
pub(crate) const JSON: &str = "application/jose+json";

/// A collector over a new store that accepts the example form.
pub(crate) struct Collector {
    /// Which kind of store, for assertion messages.
    pub(crate) kind: &'static str,
    /// The store the app writes to.
    pub(crate) store: Arc<dyn Store>,
    /// The app.
    pub(crate) app: Router,
    /// Keeps the store's file or database until the test ends.
    _test_store: TestStore,
}

/// A collector over a new SQLite file, for tests that do not depend on the store.
pub(crate) fn collector(change: impl Fn(&mut AppOptions)) -> Collector {
    on(sqlite(), change)
}

/// One collector over each kind of store (see `common/stores.rs`).
pub(crate) fn collectors(change: impl Fn(&mut AppOptions)) -> Vec<Collector> {
    test_stores()
        .into_iter()
        .map(|test_store| on(test_store, &change))
        .collect()
}

/// The options of a collector that accepts the example form, changed by `change`.
pub(crate) fn options(change: impl Fn(&mut AppOptions)) -> AppOptions {
    let mut forms = AcceptedForms::default();
    forms.add(FORM.to_string()).unwrap();
    let mut options = AppOptions {
        forms,
        ..AppOptions::default()
    };
    change(&mut options);
    options
}

/// A collector over `test_store`.
pub(crate) fn on(test_store: TestStore, change: impl Fn(&mut AppOptions)) -> Collector {
    let store = test_store.db.open().unwrap();
    let app = app(AppState::new(store.clone(), options(change)));
    Collector {
        kind: test_store.kind,
        store,
        app,
        _test_store: test_store,
    }
}

/// A `POST /v1/submissions` of `body` as `content_type`.
pub(crate) fn post(body: impl Into<Body>, content_type: &str) -> Request<Body> {
    Request::post("/v1/submissions")
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

/// The same request as coming from `peer` (what `into_make_service_with_connect_info` adds).
pub(crate) fn from(peer: &str, mut request: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

/// A response, read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e}: not JSON: {:?}", self.body))
    }

    /// The `error` member of an error body.
    pub(crate) fn error(&self) -> String {
        self.json()["error"].as_str().unwrap().to_string()
    }
}

/// Sends `request` to `app` and reads the whole answer.
pub(crate) async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}
