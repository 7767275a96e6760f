//! The collector's limits: body sizes as people write them (`64KiB`), the per-client rate limit
//! (`30/min`) and its in-memory token buckets. Client addresses live only in memory, as map keys,
//! for as long as their bucket is not full; they are never stored or logged.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default largest accepted body: 64 KiB, room for the largest padded envelope bucket of a form.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// Parses a size such as `65536`, `64KiB`, `64 KiB`, `64kB` or `1MiB` into bytes.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 64KiB"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit (use B, KiB, kB, MiB or MB)"
            ));
        }
    };
    match number.checked_mul(factor) {
        Some(0) => Err("the body size limit must be more than 0".into()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("{text:?} is too large")),
    }
}

/// How many submissions one client may make in a period: `30/min` is a burst of 30, refilled at
/// 30 a minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one period (also the burst size).
    pub requests: u32,
    /// The period.
    pub per: Duration,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            requests: 30,
            per: Duration::from_secs(60),
        }
    }
}

impl FromStr for RateLimit {
    type Err = String;

    /// Parses `N/s`, `N/min`, `N/h` (also `sec`, `second`, `minute`, `hour`).
    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("{text:?} is not a rate such as 30/min");
        let (requests, unit) = text.trim().split_once('/').ok_or_else(usage)?;
        let requests: u32 = requests.trim().parse().map_err(|_| usage())?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(usage()),
        };
        if requests == 0 {
            return Err("the rate limit must allow at least 1 request".into());
        }
        Ok(Self { requests, per })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s".to_string(),
            60 => "min".to_string(),
            3600 => "h".to_string(),
            secs => format!("{secs}s"),
        };
        write!(f, "{}/{unit}", self.requests)
    }
}

/// Token buckets per client address. A bucket that has refilled completely is the same as no
/// bucket, so full ones are dropped and the map only holds clients active within one period.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

/// Whom a bucket belongs to: an IPv4 address, or an IPv6 /64 (one subscriber's whole network,
/// since any host can pick a fresh address within it); `Unknown` when there is no peer address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ClientKey {
    V4([u8; 4]),
    V6([u8; 8]),
    Unknown,
}

impl From<Option<IpAddr>> for ClientKey {
    fn from(ip: Option<IpAddr>) -> Self {
        match ip.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => Self::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                Self::V6(prefix)
            }
            None => Self::Unknown,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Past this many buckets, the full ones are swept out before adding another.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    /// A limiter that allows `limit` per client.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for the client at `ip` at time `now`. `Err` holds how long until the
    /// next token.
    pub fn check(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.limit.requests);
        let per_second = capacity / self.limit.per.as_secs_f64();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second
                    < capacity
            });
        }
        let bucket = buckets.entry(ClientKey::from(ip)).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("64 KiB"), Ok(65_536));
        assert_eq!(parse_size("64kB"), Ok(64_000));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(parse_size("0").is_err());
        assert!(parse_size("KiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn rates_parse_and_print() {
        let rate: RateLimit = "30/min".parse().unwrap();
        assert_eq!(rate, RateLimit::default());
        assert_eq!(rate.to_string(), "30/min");
        assert_eq!(
            "5/s".parse::<RateLimit>().unwrap().per,
            Duration::from_secs(1)
        );
        assert!("0/min".parse::<RateLimit>().is_err());
        assert!("30 per minute".parse::<RateLimit>().is_err());
    }

    #[test]
    fn bucket_allows_a_burst_then_refills_per_client() {
        let limiter = RateLimiter::new("2/min".parse().unwrap());
        let start = Instant::now();
        let a = Some("192.0.2.1".parse().unwrap());
        let b = Some("192.0.2.2".parse().unwrap());
        assert!(limiter.check(a, start).is_ok());
        assert!(limiter.check(a, start).is_ok());
        let wait = limiter.check(a, start).unwrap_err();
        assert!(wait > Duration::from_secs(29) && wait <= Duration::from_secs(30));
        assert!(
            limiter.check(b, start).is_ok(),
            "another client has its own bucket"
        );
        assert!(limiter.check(a, start + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let limiter = RateLimiter::new("1/min".parse().unwrap());
        let now = Instant::now();
        assert!(
            limiter
                .check(Some("2001:db8::1".parse().unwrap()), now)
                .is_ok()
        );
        assert!(
            limiter
                .check(Some("2001:db8::2".parse().unwrap()), now)
                .is_err()
        );
        assert!(
            limiter
                .check(Some("2001:db8:0:1::1".parse().unwrap()), now)
                .is_ok()
        );
    }
}
