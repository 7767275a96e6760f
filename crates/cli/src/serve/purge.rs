//! `formseal serve --purge-every`: deletes expired envelopes on a timer, the same deletion as
//! `formseal purge`, recorded in the audit log under the actor `formseal serve`. Which envelopes
//! have expired is the store's query; this file only schedules it.

use std::sync::Arc;
use std::time::Duration;

use super::app::today;
use super::store::{AuditEntry, Store};

/// The audit log's actor for scheduled purges.
pub const ACTOR: &str = "formseal serve";

/// Parses an interval such as `90s`, `30m`, `6h` or `1d`.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let usage = || format!("{text:?} is not an interval such as 30m, 6h or 1d");
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(usage)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| usage())?;
    let seconds = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(usage()),
    };
    match number.checked_mul(seconds) {
        Some(0) => Err("the purge interval must be more than 0".into()),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Err(format!("{text:?} is too long")),
    }
}

/// Purges once now and then every `every`, for as long as the task runs. A failed purge is
/// logged and tried again at the next tick.
pub async fn every(store: Arc<dyn Store>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let store = Arc::clone(&store);
        let result = tokio::task::spawn_blocking(move || once(store.as_ref())).await;
        match result {
            Ok(Ok(0)) => tracing::debug!("purge: nothing has expired"),
            Ok(Ok(deleted)) => tracing::info!(deleted, "purge: deleted expired envelopes"),
            Ok(Err(err)) => tracing::error!("purge failed: {err:#}"),
            Err(err) => tracing::error!("purge failed: {err}"),
        }
    }
}

/// One scheduled purge: everything expired by today (UTC).
pub fn once(store: &dyn Store) -> anyhow::Result<u64> {
    let today = today();
    let entry = AuditEntry {
        at: super::now_rfc3339(),
        actor: ACTOR.to_string(),
        action: "purge".to_string(),
        records: 0,
        detail: format!("retention date on or before {today}, scheduled"),
    };
    store.purge(today, &entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_have_a_unit() {
        assert_eq!(parse_interval("6h"), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_interval("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_interval("30m"), Ok(Duration::from_secs(1800)));
        for bad in ["6", "h", "0h", "1w", "-1d", ""] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
