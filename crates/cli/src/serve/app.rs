//! The collector's HTTP app: routes, limits and the proof of work as layers, and the submission
//! handler. It checks an envelope's shape with the core's key-less `jwe::peek` and stores the
//! ciphertext; it never decrypts, and neither bodies nor client addresses reach a log line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64UrlUnpadded, Encoding};
use formseal_core::config::Closing;
use formseal_core::time::Date;
use formseal_core::{jwe, retention};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::confirm::{self, Language};
use super::error::AppError;
use super::forms::AcceptedForms;
use super::limits::{DEFAULT_MAX_BODY, RateLimit, RateLimiter};
use super::pow::{self, ProofOfWork, Refusal, Solved};
use super::store::{Inserted, NewEnvelope, Spent, Store};

/// Where submissions are posted.
pub const SUBMISSIONS_PATH: &str = "/v1/submissions";

/// The Content-Security-Policy of the demo pages and the widget's files: no inline script or
/// style, nothing from another origin. The widget needs `'wasm-unsafe-eval'` to compile its wasm
/// and `connect-src 'self'` to fetch it and its form config and to post (a collector on another
/// origin needs that origin in `connect-src`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How long a request may take before the collector gives up on it (slow clients hold sockets).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What the app serves and how strictly.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// The forms whose envelopes are accepted.
    pub forms: AcceptedForms,
    /// Origins allowed to post from a browser (CORS); none means same-origin only.
    pub allow_origins: Vec<HeaderValue>,
    /// Largest accepted body in bytes.
    pub max_body: usize,
    /// Submissions per client; `None` switches the limit off.
    pub rate_limit: Option<RateLimit>,
    /// Static files served at `/` (the demo pages).
    pub www: Option<PathBuf>,
    /// Static files served at `/pkg/` (the built widget).
    pub pkg: Option<PathBuf>,
    /// Queue every new envelope for webhook delivery, in the transaction that stores it.
    pub queue_deliveries: bool,
    /// The proof of work every submission must carry, and the challenges for it at
    /// `/v1/challenge`; `None` (the default here) asks for none. `formseal serve` asks for it
    /// unless given `--no-pow` (see `Settings::resolve`).
    pub pow: Option<ProofOfWork>,
    /// Today's date in UTC ([`today`]); tests set another day to see a form close.
    pub today: fn() -> Date,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            forms: AcceptedForms::default(),
            allow_origins: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            rate_limit: Some(RateLimit::default()),
            www: None,
            pkg: None,
            queue_deliveries: false,
            pow: None,
            today,
        }
    }
}

/// Shared state of the app: the store, the accepted forms and the rate limiter.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    options: AppOptions,
    limiter: Option<RateLimiter>,
}

impl AppState {
    /// State over `store` with these options.
    pub fn new(store: Arc<dyn Store>, options: AppOptions) -> Self {
        let limiter = options.rate_limit.map(RateLimiter::new);
        Self {
            inner: Arc::new(Inner {
                store,
                options,
                limiter,
            }),
        }
    }
}

/// The collector's router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`
/// so the rate limit can tell clients apart; without a peer address all requests share one
/// bucket.
pub fn app(state: AppState) -> Router {
    let options = &state.inner.options;
    // Room for the largest form's files; each form's own limit is checked once its id is known.
    let body_limit = options
        .max_body
        .saturating_add(options.forms.max_upload_allowance());
    // The last layer runs first: the proof of work is checked before the rate limit, so a
    // flood without solutions takes no tokens from the buckets of the real visitors who share
    // its address (a NAT, an IPv6 /64). Both run before the body is read.
    let submissions = Router::new()
        .route(
            SUBMISSIONS_PATH,
            post(submit).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .route_layer(middleware::from_fn_with_state(state.clone(), proof_of_work));

    // A confirmation is a click, not an envelope: rate-limited like a submission, no proof of
    // work (the link's reader solved none), no body.
    let confirmations = Router::new()
        .route(confirm::CONFIRM_ROUTE, get(confirm::ask).post(confirm_post))
        .route_layer(middleware::from_fn_with_state(state.clone(), rate_limit));

    let mut router = Router::new()
        .merge(submissions)
        .merge(confirmations)
        .route(pow::CHALLENGE_PATH, get(challenge))
        .route("/healthz", get(healthz))
        .route("/forms/{file}", get(form_config));
    let mut statics = Router::new();
    if let Some(pkg) = &options.pkg {
        // `cargo xtask wasm` writes .br/.gz copies: sent as they are to browsers that accept them.
        statics = statics.nest_service(
            "/pkg",
            ServeDir::new(pkg).precompressed_br().precompressed_gzip(),
        );
    }
    if let Some(www) = &options.www {
        statics = statics.fallback_service(ServeDir::new(www));
    }
    router = router.merge(statics.layer(middleware::map_response(content_security_policy)));

    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(options.allow_origins.clone()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static(pow::HEADER)])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));

    router
        .with_state(state)
        .layer(cors)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // The span names the method and path only (a confirmation link's without its token): no
        // query, no headers, no peer address.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %confirm::logged_path(request.uri().path())
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// The answer to a stored (or already stored) envelope.
#[derive(Debug, Serialize)]
struct Receipt {
    id: String,
}

/// The two serializations of a JWE, told apart by the content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Serialization {
    Compact,
    Json,
}

async fn submit(
    State(state): State<AppState>,
    solved: Option<Extension<Solved>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let options = &state.inner.options;
    // [`proof_of_work`] has checked the header; without its verdict nothing is stored.
    let solved = solved.map(|Extension(solved)| solved);
    if options.pow.is_some() && solved.is_none() {
        return Err(Refusal::Missing.into());
    }
    let serialization = serialization(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(
                options
                    .max_body
                    .saturating_add(options.forms.max_upload_allowance()),
            )
        } else {
            AppError::bad("the body could not be read")
        }
    })?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::bad("the body is not UTF-8 text"))?
        .trim();
    if text.is_empty() {
        return Err(AppError::bad("the body is empty"));
    }
    match (serialization, text.starts_with('{')) {
        (Serialization::Compact, true) => {
            return Err(AppError::bad(
                "a JWE in JSON serialization needs Content-Type: application/jose+json",
            ));
        }
        (Serialization::Json, false) => {
            return Err(AppError::bad(
                "application/jose+json needs a JWE in JSON serialization",
            ));
        }
        _ => {}
    }
    // The core's messages name the structural fault, never the content.
    let peeked =
        jwe::peek(text).map_err(|e| AppError::bad(format!("not a sealed envelope: {e}")))?;
    let form_id = peeked
        .header
        .get("form")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| AppError::bad("the protected header names no form"))?;
    let form = state
        .inner
        .options
        .forms
        .get(form_id)
        .ok_or_else(|| AppError::bad("this collector does not accept that form"))?;
    if peeked.kids.iter().any(|kid| !form.kids.contains(kid)) {
        return Err(AppError::bad(format!(
            "sealed to a key that is not a recipient of form {form_id}"
        )));
    }
    let form_limit = options.max_body.saturating_add(form.upload_allowance);
    if body.len() > form_limit {
        return Err(AppError::TooLarge(form_limit));
    }

    // The retention date decides when `formseal purge` deletes the envelope. The header is not
    // authenticated until someone decrypts, so it is held to the form's own policy: no envelope
    // is kept longer than the form's longest retention from the day it arrived. An earlier date
    // (a visitor's clock running late) is kept as it is: deleting early is lawful.
    let received = (options.today)();
    let expires = retention::from_header(&peeked.header)
        .map_err(|e| AppError::bad(format!("not a sealed envelope: {e}")))?
        .min(received.plus_days(i64::from(form.longest_retention_days)));

    // The record id is derived from the bytes, so a retry of the same envelope is recognised
    // without the client sending any key of its own.
    let id = Base64UrlUnpadded::encode_string(&Sha256::digest(text.as_bytes()));
    let record = OwnedEnvelope {
        id,
        form: form_id.to_string(),
        kids: peeked.kids,
        received,
        expires,
        jwe: text.to_string(),
        deliver: state.inner.options.queue_deliveries,
    };
    // A closed form stores nothing new, as if its limit were 0; the store answers a duplicate of
    // a stored envelope before it counts, so a retry of one that made it in still gets 200.
    let closing = form.closing;
    let closed = closing.is_closed(received);
    let limit = if closed {
        Some(0)
    } else {
        closing.max_responses.map(u64::from)
    };
    let store = Arc::clone(&state.inner.store);
    let (record, inserted) = tokio::task::spawn_blocking(move || {
        let envelope = record.borrowed();
        // The solution is spent first: a retry of the same envelope may spend it again, so an
        // insert that fails after it (or a 409) leaves the visitor's retry free to succeed.
        let inserted = spend(&*store, solved.as_ref(), envelope.id).and_then(|()| {
            let inserted = match limit {
                Some(max) => store.insert_at_most(&envelope, max),
                None => store.insert(&envelope),
            };
            Ok(inserted?)
        });
        (record, inserted)
    })
    .await?;
    let status = match inserted? {
        Inserted::New => StatusCode::CREATED,
        Inserted::Duplicate => StatusCode::OK,
        Inserted::Full => return Err(AppError::Closed(refusal(form_id, closing, closed))),
    };
    Ok((status, Json(Receipt { id: record.id })).into_response())
}

/// Spends the submission's solution on the envelope `id`; refused when another envelope spent it.
fn spend(store: &dyn Store, solved: Option<&Solved>, id: &str) -> Result<(), AppError> {
    let Some(solved) = solved else {
        return Ok(());
    };
    match store.spend_solution(&solved.spend(id), unix_now())? {
        Spent::OnThisEnvelope => Ok(()),
        Spent::OnAnother => Err(Refusal::Used.into()),
    }
}

/// Why a form refuses a new envelope: it closed, or it holds its `max_responses`.
fn refusal(form_id: &str, closing: Closing, closed: bool) -> String {
    match (closing.closes_at, closing.max_responses) {
        (Some(last_day), _) if closed => {
            format!("form {form_id:?} closed at the end of {last_day} (UTC)")
        }
        (_, Some(max)) => format!("form {form_id:?} has reached its limit of {max} responses"),
        _ => format!("form {form_id:?} takes no more responses"),
    }
}

/// An envelope moved into the blocking store task.
struct OwnedEnvelope {
    id: String,
    form: String,
    kids: Vec<String>,
    received: Date,
    expires: Date,
    jwe: String,
    deliver: bool,
}

impl OwnedEnvelope {
    fn borrowed(&self) -> NewEnvelope<'_> {
        NewEnvelope {
            id: &self.id,
            form: &self.form,
            kids: &self.kids,
            received: self.received,
            expires: self.expires,
            jwe: &self.jwe,
            deliver: self.deliver,
        }
    }
}

/// Which serialization the content type announces; anything else is a 415.
fn serialization(headers: &HeaderMap) -> Result<Serialization, AppError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or(AppError::UnsupportedMediaType)?;
    // Parameters such as `charset=utf-8` do not change what the body is.
    let essence = value.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/jose") {
        Ok(Serialization::Compact)
    } else if essence.eq_ignore_ascii_case("application/jose+json") {
        Ok(Serialization::Json)
    } else {
        Err(AppError::UnsupportedMediaType)
    }
}

/// Today in UTC: the only time the collector records, to the day.
pub fn today() -> Date {
    Date::from_unix(unix_now())
}

/// The current time, UTC, to the second (`2026-11-24T10:11:12Z`): for the audit log of the data
/// team's actions, never for a visitor's record.
pub fn now_rfc3339() -> String {
    rfc3339(unix_now())
}

/// Unix seconds now: for the proof of work's expiry, which no record keeps.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn rfc3339(unix_seconds: i64) -> String {
    let date = Date::from_unix(unix_seconds);
    let second_of_day = unix_seconds.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Takes a token from the client's bucket before the request reaches the handler.
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(limiter) = &state.inner.limiter {
        // The address is used as a map key in memory and then dropped: never logged or stored.
        let ip = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if let Err(wait) = limiter.check(ip, Instant::now()) {
            return AppError::RateLimited(wait).into_response();
        }
    }
    next.run(request).await
}

/// Checks the submission's proof of work (header `Altcha`) before its body is read: a 403 with
/// the reason, or the verdict passed on to [`submit`], which spends it once it knows the
/// envelope's id.
async fn proof_of_work(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(pow) = &state.inner.options.pow {
        match pow.verify(request.headers().get(pow::HEADER), unix_now()) {
            Ok(solved) => {
                request.extensions_mut().insert(solved);
            }
            Err(refusal) => return AppError::from(refusal).into_response(),
        }
    }
    next.run(request).await
}

/// `/v1/challenge`: a new challenge, never cached; 204 No Content when the collector asks for
/// none (a 404 would show as an error in the visitor's console on every form).
async fn challenge(State(state): State<AppState>) -> Result<Response, AppError> {
    let Some(pow) = &state.inner.options.pow else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let challenge = pow.challenge(unix_now())?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(challenge)).into_response())
}

/// `POST /v1/confirm/<token>`: the click on a double opt-in link's page.
async fn confirm_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(language): Query<Language>,
) -> Result<Response, AppError> {
    let store = Arc::clone(&state.inner.store);
    confirm::confirm(store, token, language, unix_now()).await
}

/// Adds [`CONTENT_SECURITY_POLICY`] to a static file's response.
async fn content_security_policy(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// `/forms/<id>.json`: the accepted form's config, for the widget to render.
async fn form_config(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(form) = file
        .strip_suffix(".json")
        .and_then(|id| state.inner.options.forms.get(id))
    else {
        return (StatusCode::NOT_FOUND, "no such form\n").into_response();
    };
    let accepted = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let text = &form.config;
    let (encoding, body) = if accepts(&accepted, "br") {
        (Some("br"), text.brotli.clone())
    } else if accepts(&accepted, "gzip") {
        (Some("gzip"), text.gzip.clone())
    } else {
        (None, Bytes::from(text.json.clone()))
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "accept-encoding"),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// Whether an `Accept-Encoding` value accepts `coding`: listed by name (or `*`) without `q=0`.
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|param| {
            param
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("GZIP", "gzip"));
        assert!(accepts("br;q=0.5, gzip;q=1.0", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(!accepts("br; q=0.000", "br"));
        assert!(accepts("*", "gzip"));
        assert!(!accepts("", "br"));
        assert!(!accepts("identity", "gzip"));
        assert!(!accepts("brotli", "br"));
    }

    #[test]
    fn audit_times_are_utc_to_the_second() {
        assert_eq!(rfc3339(1_795_516_199), "2026-11-24T10:29:59Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
