//! `formseal serve --webhook`: forwards every stored envelope, still sealed, to the company's own
//! endpoint (a CRM's inbox) from the store's outbox — at least once, retried with exponential
//! backoff, kept as a dead letter after the last attempt, each request signed with HMAC-SHA256
//! so the receiver knows it came from this collector. It never decrypts; the queue itself is
//! the store's (`serve/store.rs`).
//!
//! The request: `POST` to the URL with the JWE exactly as stored as the body
//! (`Content-Type: application/jose`, or `application/jose+json` for the JSON serialization),
//! `Formseal-Id: <record id>` and `Formseal-Signature: t=<unix seconds>,v1=<hex>` where `<hex>`
//! is HMAC-SHA256 with the shared secret over the ASCII bytes of `<t>` then `.` then the body.
//! Any 2xx acknowledges it; anything else, a redirect included, is a failed attempt.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Url;
use sha2::Sha256;
use tokio::task::JoinSet;

use super::store::{Delivery, Store};

/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "formseal-signature";

/// The header with the record id (the same for every attempt: the receiver's idempotency key).
pub const ID_HEADER: &str = "formseal-id";

/// The shortest accepted secret, in bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// How many envelopes one round claims and sends concurrently.
const BATCH: usize = 16;

/// Where and how envelopes are forwarded.
#[derive(Clone)]
pub struct WebhookOptions {
    /// The receiver: `https:`, or `http:` on a loopback address.
    pub url: Url,
    /// The shared HMAC secret.
    pub secret: Vec<u8>,
    /// Attempts before an envelope becomes a dead letter.
    pub max_attempts: u32,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Wait before the second attempt; it doubles with every further attempt...
    pub backoff: Duration,
    /// ...up to this.
    pub max_backoff: Duration,
    /// How often an idle queue is looked at.
    pub poll: Duration,
}

impl std::fmt::Debug for WebhookOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of every debug print and log line.
        f.debug_struct("WebhookOptions")
            .field("url", &self.url.as_str())
            .field("max_attempts", &self.max_attempts)
            .field("timeout", &self.timeout)
            .field("backoff", &self.backoff)
            .field("max_backoff", &self.max_backoff)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl WebhookOptions {
    /// Default attempts: with the default backoff, about eleven hours of retrying.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 20;

    /// Production settings for `url` and `secret`: 10 s per attempt, first retry after 10 s,
    /// doubling up to an hour, [`Self::DEFAULT_MAX_ATTEMPTS`] attempts.
    pub fn new(url: Url, secret: Vec<u8>) -> Self {
        Self {
            url,
            secret,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            timeout: Duration::from_secs(10),
            backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(3600),
            poll: Duration::from_secs(1),
        }
    }

    /// The wait after failed attempt number `attempts` (1 for the first).
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// Parses the receiver's URL: `https:`, or plain `http:` only on a loopback address (tests,
/// a receiver on the same machine).
pub fn parse_url(text: &str) -> anyhow::Result<Url> {
    let url = Url::parse(text).map_err(|e| anyhow!("{text:?} is not a URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(anyhow!(
            "the webhook {text:?} must use https: (plain http: only on localhost)"
        )),
        _ => Err(anyhow!("the webhook {text:?} must be an https: URL")),
    }
}

/// Reads the shared secret from a file (one line; surrounding whitespace is ignored).
pub fn read_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the webhook secret {}", path.display()))?;
    let secret = text.trim().as_bytes().to_vec();
    if secret.len() < MIN_SECRET_LEN {
        return Err(anyhow!(
            "the webhook secret in {} is shorter than {MIN_SECRET_LEN} bytes; \
             make one with `openssl rand -hex 32`",
            path.display()
        ));
    }
    Ok(secret)
}

/// The `Formseal-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex(&mac(secret, timestamp, body)))
}

/// Checks a `Formseal-Signature` value against `body`, as a receiver written in Rust would:
/// the MAC must match (compared in constant time) and `t` be within `tolerance` of `now`
/// (Unix seconds), which stops an old request from being replayed.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64, tolerance: Duration) -> bool {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => given = unhex(value),
            _ => {}
        }
    }
    let (Some(timestamp), Some(given)) = (timestamp, given) else {
        return false;
    };
    let fresh = now.abs_diff(timestamp) <= tolerance.as_secs();
    let mut expected = new_mac(secret);
    expected.update(format!("{timestamp}.").as_bytes());
    expected.update(body);
    fresh && expected.verify_slice(&given).is_ok()
}

/// Forwards queued envelopes for as long as the task runs.
pub async fn run(store: Arc<dyn Store>, options: WebhookOptions) {
    let client = match reqwest::Client::builder()
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("formseal/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tracing::error!("webhook: cannot build the HTTP client: {err}");
            return;
        }
    };
    // A claimed envelope is hidden from other claims for longer than an attempt can take.
    let lease_ms = millis(options.timeout.saturating_mul(2) + Duration::from_secs(5));
    let options = Arc::new(options);
    loop {
        let claimed = {
            let store = Arc::clone(&store);
            tokio::task::spawn_blocking(move || store.claim_deliveries(now_ms(), lease_ms, BATCH))
                .await
        };
        let batch = match claimed {
            Ok(Ok(batch)) => batch,
            Ok(Err(err)) => {
                tracing::error!("webhook: cannot read the outbox: {err:#}");
                Vec::new()
            }
            Err(err) => {
                tracing::error!("webhook: cannot read the outbox: {err}");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::time::sleep(options.poll).await;
            continue;
        }
        let mut attempts = JoinSet::new();
        for delivery in batch {
            let (client, options, store) =
                (client.clone(), Arc::clone(&options), Arc::clone(&store));
            attempts.spawn(async move {
                let outcome = attempt(&client, &options, &delivery).await;
                record(store, &options, delivery, outcome).await;
            });
        }
        while attempts.join_next().await.is_some() {}
    }
}

/// One POST of one envelope; `Err` says why it failed, without any body.
async fn attempt(
    client: &reqwest::Client,
    options: &WebhookOptions,
    delivery: &Delivery,
) -> Result<(), String> {
    let content_type = if delivery.jwe.starts_with('{') {
        "application/jose+json"
    } else {
        "application/jose"
    };
    let timestamp = now_ms() / 1000;
    let response = client
        .post(options.url.clone())
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .header(ID_HEADER, &delivery.id)
        .header(
            SIGNATURE_HEADER,
            signature(&options.secret, timestamp, delivery.jwe.as_bytes()),
        )
        .body(delivery.jwe.clone())
        .send()
        .await
        .map_err(|err| {
            if err.is_timeout() {
                "timed out".to_string()
            } else if err.is_connect() {
                "cannot connect".to_string()
            } else {
                "request failed".to_string()
            }
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

/// Writes an attempt's outcome to the outbox: done, retry later, or dead letter.
async fn record(
    store: Arc<dyn Store>,
    options: &WebhookOptions,
    delivery: Delivery,
    outcome: Result<(), String>,
) {
    let Delivery { id, attempts, .. } = delivery;
    let retry_at = (attempts < options.max_attempts)
        .then(|| now_ms().saturating_add(millis(options.backoff_after(attempts))));
    let written = tokio::task::spawn_blocking({
        let (id, outcome) = (id.clone(), outcome.clone());
        move || match outcome {
            Ok(()) => store.delivered(&id),
            Err(error) => store.delivery_failed(&id, retry_at, &error),
        }
    })
    .await;
    match (&outcome, retry_at) {
        (Ok(()), _) => tracing::debug!(record = %id, attempts, "webhook: delivered"),
        (Err(error), Some(_)) => {
            tracing::info!(record = %id, attempts, "webhook: attempt failed ({error}); will retry");
        }
        (Err(error), None) => tracing::warn!(
            record = %id,
            attempts,
            "webhook: gave up ({error}); see `formseal webhook dead-letters`"
        ),
    }
    match written {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!("webhook: cannot update the outbox: {err:#}"),
        Err(err) => tracing::error!("webhook: cannot update the outbox: {err}"),
    }
}

fn new_mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = new_mac(secret);
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently:
        // `printf '1795516199.x.y' | openssl dgst -sha256 -hmac secret-of-16-bytes`.
        let value = signature(b"secret-of-16-bytes", 1_795_516_199, b"x.y");
        assert_eq!(
            value,
            "t=1795516199,v1=31de995458a3932faad1238ffd59df45f8624851831718822a033a12f7ed8bd2"
        );
        let tolerance = Duration::from_secs(300);
        assert!(verify(
            b"secret-of-16-bytes",
            &value,
            b"x.y",
            1_795_516_199,
            tolerance
        ));
        assert!(!verify(
            b"another-secret-16",
            &value,
            b"x.y",
            1_795_516_199,
            tolerance
        ));
        assert!(!verify(
            b"secret-of-16-bytes",
            &value,
            b"x.z",
            1_795_516_199,
            tolerance
        ));
        assert!(
            !verify(
                b"secret-of-16-bytes",
                &value,
                b"x.y",
                1_795_516_199 + 301,
                tolerance
            ),
            "too old: a replay"
        );
        for bad in [
            "",
            "t=1795516199",
            "v1=00",
            "t=x,v1=8a",
            "t=1795516199,v1=zz",
        ] {
            assert!(!verify(
                b"secret-of-16-bytes",
                bad,
                b"x.y",
                1_795_516_199,
                tolerance
            ));
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let options = WebhookOptions::new(
            Url::parse("https://crm.example/in").unwrap(),
            b"0123456789abcdef".to_vec(),
        );
        let waits: Vec<u64> = (1..=11)
            .map(|n| options.backoff_after(n).as_secs())
            .collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(options.backoff_after(u32::MAX).as_secs(), 3600);
        assert!(!format!("{options:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        assert!(parse_url("https://crm.example/formseal").is_ok());
        assert!(parse_url("http://127.0.0.1:9000/in").is_ok());
        assert!(parse_url("http://localhost/in").is_ok());
        assert!(parse_url("http://[::1]:8080/").is_ok());
        assert!(parse_url("http://crm.example/in").is_err());
        assert!(parse_url("ftp://crm.example/in").is_err());
        assert!(parse_url("crm.example").is_err());
    }
}
