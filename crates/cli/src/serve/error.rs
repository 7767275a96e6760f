//! The collector's one error type and how it becomes an HTTP response: a 4xx with a one-line
//! reason for what the client sent, a generic 500 for our own faults (whose cause is logged, but
//! never a body or an address).

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::pow::Refusal;

/// Why a request failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum AppError {
    /// The body is not an envelope this collector accepts; the reason is one line.
    BadRequest(String),
    /// The submission carries no valid proof of work (or a spent one); the reason is one line.
    Forbidden(String),
    /// The body is larger than the limit (in bytes).
    TooLarge(usize),
    /// The `Content-Type` is not `application/jose` or `application/jose+json`.
    UnsupportedMediaType,
    /// The form takes no more submissions: it closed, or it holds as many as it may. The reason
    /// is one line.
    Closed(String),
    /// This client sent too many submissions; retry after the duration.
    RateLimited(Duration),
    /// A fault on our side (the store failed, a task panicked).
    Internal(anyhow::Error),
}

impl AppError {
    /// A 400 with this reason.
    pub fn bad(reason: impl Into<String>) -> Self {
        Self::BadRequest(reason.into())
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Closed(_) => StatusCode::CONFLICT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        Self::Forbidden(refusal.to_string())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Internal(anyhow::Error::new(err).context("a storage task failed"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::BadRequest(reason) | Self::Forbidden(reason) | Self::Closed(reason) => {
                reason.clone()
            }
            Self::TooLarge(limit) => format!("the envelope is larger than {limit} bytes"),
            Self::UnsupportedMediaType => {
                "send the envelope as application/jose (compact) or application/jose+json".into()
            }
            Self::RateLimited(_) => "too many submissions from this client; retry later".into(),
            Self::Internal(err) => {
                // Our errors carry no request data (see the store and the handler), so the
                // whole chain may be logged.
                tracing::error!("internal error: {err:#}");
                "internal error".into()
            }
        };
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if let Self::RateLimited(wait) = self {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}
