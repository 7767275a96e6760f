//! Fuzzes the collector's request handling: the real axum app (the example form accepted, an
//! in-memory SQLite store, no rate limit) gets an arbitrary method, path, headers and body
//! through `oneshot`. It must answer every request without a panic and without a 5xx: bad input
//! is the client's fault (4xx), never the server's.

#![no_main]

use std::sync::{Arc, LazyLock};

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{Method, Request};
use formseal_cli::serve::{AcceptedForms, AppOptions, AppState, SqliteStore, app};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    path: PathChoice,
    headers: Vec<(HeaderName, Vec<u8>)>,
    body: Vec<u8>,
}

/// Mostly the routes that exist, so the fuzzer spends its time behind them.
#[derive(Debug, Arbitrary)]
enum PathChoice {
    Submissions,
    Health,
    Form,
    Other(String),
}

/// Mostly the headers the collector reads.
#[derive(Debug, Arbitrary)]
enum HeaderName {
    ContentType,
    ContentLength,
    Origin,
    Other(String),
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

static STATE: LazyLock<AppState> = LazyLock::new(|| {
    let mut forms = AcceptedForms::default();
    forms
        .add(include_str!("../../examples/newsletter.json").to_string())
        .expect("the example form is valid");
    let options = AppOptions {
        forms,
        rate_limit: None,
        allow_origins: vec![axum::http::HeaderValue::from_static("https://shop.example")],
        ..AppOptions::default()
    };
    let store = SqliteStore::in_memory().expect("an in-memory store");
    AppState::new(Arc::new(store), options)
});

const METHODS: [Method; 6] = [
    Method::POST,
    Method::GET,
    Method::OPTIONS,
    Method::PUT,
    Method::HEAD,
    Method::DELETE,
];

fuzz_target!(|input: Input| {
    let path = match &input.path {
        PathChoice::Submissions => "/v1/submissions".to_string(),
        PathChoice::Health => "/healthz".to_string(),
        PathChoice::Form => "/forms/newsletter.json".to_string(),
        PathChoice::Other(path) => format!("/{path}"),
    };
    let mut request = Request::builder()
        .method(METHODS[usize::from(input.method) % METHODS.len()].clone())
        .uri(path);
    for (name, value) in &input.headers {
        let name = match name {
            HeaderName::ContentType => "content-type",
            HeaderName::ContentLength => "content-length",
            HeaderName::Origin => "origin",
            HeaderName::Other(name) => name.as_str(),
        };
        request = request.header(name, value.as_slice());
    }
    // Requests the HTTP layer itself would refuse (a bad URI or header) never reach the app.
    let Ok(request) = request.body(Body::from(input.body)) else {
        return;
    };
    let response = RUNTIME
        .block_on(app(STATE.clone()).oneshot(request))
        .expect("the router is infallible");
    assert!(
        !response.status().is_server_error(),
        "a {} for client input",
        response.status()
    );
});
