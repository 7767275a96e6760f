//! Faults under load, against the real `formseal serve` binary: a client sends a burst of
//! distinct envelopes concurrently and retries whatever did not get a 2xx; meanwhile the test
//! SIGKILLs the collector and starts it again (and, on PostgreSQL, restarts the database server
//! with `pg_ctl restart -m immediate`). Afterwards every acknowledged envelope is in the store,
//! each once. On SQLite always; on PostgreSQL when the test server is given (see
//! `common/stores.rs`).

#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, VecDeque};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::stores::{TestStore, postgres_store, sqlite};
use common::{answers, newsletter, repo, seal_answers};

/// Envelopes in the burst.
const BURST: usize = 300;
/// Requests in flight at once.
const CONCURRENCY: usize = 32;
/// The whole burst, retries included, must be acknowledged within this.
const DEADLINE: Duration = Duration::from_secs(180);

/// A fault the test injects once this many envelopes have been acknowledged.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// SIGKILL the collector, then start it again on the same port.
    KillCollector,
    /// `pg_ctl restart -m immediate`: the server drops every connection without a checkpoint.
    RestartPostgres,
}

struct Collector {
    child: Child,
    port: u16,
    db: String,
}

impl Collector {
    fn start(db: &str, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_formseal"))
            .env("NO_COLOR", "1")
            // The faults make it log errors by the hundred; they are expected.
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            // The faults are about storage; the proof of work is tested in pow.rs.
            .args([
                "--db",
                db,
                "--rate-limit",
                "1000000/s",
                "--no-pow",
                "--form",
            ])
            .arg(repo().join("examples/newsletter.json"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let collector = Self {
            child,
            port,
            db: db.to_string(),
        };
        collector.wait_until_up();
        collector
    }

    fn wait_until_up(&self) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the collector did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no graceful shutdown, requests in flight are cut off.
    fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        *self = Self::start(&self.db.clone(), self.port);
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How to restart the test's PostgreSQL server (`cargo xtask test` says, in the environment).
fn restart_postgres() {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(pg_ctl), Some(data)) = (var("FORMSEAL_TEST_PG_CTL"), var("FORMSEAL_TEST_PG_DATA"))
    else {
        panic!("FORMSEAL_TEST_PG_CTL and FORMSEAL_TEST_PG_DATA say how to restart the server");
    };
    let mut command = match var("FORMSEAL_TEST_PG_USER") {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &user, "--", &pg_ctl]);
            c
        }
        None => Command::new(&pg_ctl),
    };
    let status = command
        .args(["restart", "-m", "immediate", "-w", "-D", &data])
        .current_dir("/")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl restart failed");
}

/// What the burst saw.
#[derive(Default)]
struct Outcome {
    /// Ids the collector acknowledged with a 2xx.
    acknowledged: BTreeSet<String>,
    /// Attempts that got no 2xx (cut connection, refused, 5xx) and were retried.
    failed_attempts: usize,
}

/// Sends every envelope until each has had a 2xx, retrying failures, while `faults` are
/// injected at their thresholds of acknowledged envelopes.
async fn burst(collector: Collector, faults: &[(usize, Fault)]) -> (Outcome, Collector) {
    let config = newsletter();
    let answers = answers();
    let queue: VecDeque<String> = (0..BURST as u64)
        .map(|seed| seal_answers(&config, &answers, 10_000 + seed))
        .collect();
    let url = format!("http://127.0.0.1:{}/v1/submissions", collector.port);
    let queue = Arc::new(Mutex::new(queue));
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let acked = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (queue, outcome, acked) = (queue.clone(), outcome.clone(), acked.clone());
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let start = Instant::now();
                loop {
                    let next = queue.lock().unwrap().pop_front();
                    let Some(jwe) = next else {
                        if acked.load(Ordering::SeqCst) == BURST {
                            return;
                        }
                        // Others still hold envelopes that may come back for a retry.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    assert!(start.elapsed() < DEADLINE, "the burst took too long");
                    let response = client
                        .post(&url)
                        .header("content-type", "application/jose")
                        .body(jwe.clone())
                        .send()
                        .await;
                    let id = match response {
                        Ok(r) if r.status().is_success() => {
                            let body: serde_json::Value =
                                serde_json::from_str(&r.text().await.unwrap()).unwrap();
                            Some(body["id"].as_str().unwrap().to_string())
                        }
                        _ => None,
                    };
                    match id {
                        Some(id) => {
                            outcome.lock().unwrap().acknowledged.insert(id);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        None => {
                            outcome.lock().unwrap().failed_attempts += 1;
                            queue.lock().unwrap().push_back(jwe);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            })
        })
        .collect();

    // The faults, each once its threshold of acknowledgements is reached, while the workers
    // keep sending.
    let mut collector = collector;
    for &(threshold, fault) in faults {
        while acked.load(Ordering::SeqCst) < threshold {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        collector = tokio::task::spawn_blocking(move || {
            match fault {
                Fault::KillCollector => collector.kill_and_restart(),
                Fault::RestartPostgres => restart_postgres(),
            }
            collector
        })
        .await
        .unwrap();
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let outcome = Arc::try_unwrap(outcome).ok().unwrap().into_inner().unwrap();
    (outcome, collector)
}

/// Runs the burst with `faults` on `store` and checks what is stored.
async fn survives(store: &TestStore, faults: &[(usize, Fault)]) {
    let db = store.arg();
    let collector = tokio::task::spawn_blocking({
        let db = db.clone();
        move || Collector::start(&db, free_port())
    })
    .await
    .unwrap();
    let (outcome, collector) = burst(collector, faults).await;
    drop(collector);

    assert_eq!(outcome.acknowledged.len(), BURST, "{}", store.kind);
    assert!(
        outcome.failed_attempts > 0,
        "{}: the faults hit requests in flight",
        store.kind
    );
    let database = store.db.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let store = database.open_existing().unwrap();
        let mut ids = Vec::new();
        store
            .for_each(None, &mut |row| {
                ids.push(row.id);
                Ok(())
            })
            .unwrap();
        ids
    })
    .await
    .unwrap();
    let distinct: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(distinct.len(), stored.len(), "{}: none twice", store.kind);
    let lost: Vec<&String> = outcome.acknowledged.difference(&distinct).collect();
    assert!(
        lost.is_empty(),
        "{}: acknowledged but not stored: {lost:?}",
        store.kind
    );
    assert_eq!(stored.len(), BURST, "{}", store.kind);
    eprintln!(
        "{}: {BURST} acknowledged and stored, {} attempts retried",
        store.kind, outcome.failed_attempts
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_collector_killed_mid_burst_loses_nothing_acknowledged() {
    let store = sqlite();
    survives(&store, &[(BURST / 3, Fault::KillCollector)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_collector_killed_and_server_restarted_mid_burst_loses_nothing_acknowledged() {
    let Some(store) = postgres_store() else {
        return;
    };
    survives(
        &store,
        &[
            (BURST / 4, Fault::KillCollector),
            (BURST / 2, Fault::RestartPostgres),
        ],
    )
    .await;
}
