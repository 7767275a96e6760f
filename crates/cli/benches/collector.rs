//! The collector under load, against a baseline in the same run: requests/s and p50/p99 latency
//! of `formseal serve`'s app on SQLite and on PostgreSQL, next to a bare axum handler that stores
//! the same bytes (id = SHA-256, `ON CONFLICT DO NOTHING`, the same durability) in the same kind
//! of database. The load generator is in here too, on 127.0.0.1 only, bounded in requests and
//! seconds. Next to it, on one thread, what the proof of work adds to each request: verifying a
//! solution (in memory) and spending it (a write to the store), beside a plain insert into the
//! same store as the baseline. Run it with `cargo xtask bench-collector`, which starts a
//! throwaway PostgreSQL. Nothing is asserted: it prints a table (and JSON with `--json FILE`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::routing::post;
use base64ct::{Base64UrlUnpadded, Encoding};
use chacha20::ChaCha20Rng;
use formseal_cli::serve::store::{NewEnvelope, Spend};
use formseal_cli::serve::{self, AcceptedForms, AppOptions, AppState, Database, ProofOfWork};
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, SubmissionInput};
use formseal_core::time::Date;
use rand_core::SeedableRng;
use serde_json::json;
use sha2::{Digest, Sha256};

const FORM: &str = include_str!("../../../examples/newsletter.json");
const ANSWERS: &str = include_str!("../../../examples/answers.json");
/// 2026-11-24T10:29:59Z: the time every envelope is sealed at.
const NOW: i64 = 1_795_516_199;
/// The admin URL of a PostgreSQL server; without it only SQLite is measured.
const POSTGRES_ENV: &str = "FORMSEAL_BENCH_POSTGRES";
/// Solutions verified in memory.
const VERIFIES: usize = 20_000;
/// Spends and inserts per store, one after the other (each waits for its commit), at most.
const WRITES: usize = 1_000;
/// A fixed proof-of-work key: the bench's own, never a real one.
const POW_KEY: &str = "formseal bench proof-of-work key";

/// How much load: `--requests N --concurrency C --seconds S [--json FILE]`.
struct Load {
    requests: usize,
    concurrency: usize,
    seconds: u64,
    json: Option<PathBuf>,
}

impl Load {
    fn from_args() -> Self {
        let mut load = Self {
            requests: 20_000,
            concurrency: 64,
            seconds: 30,
            json: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().unwrap_or_default();
            match arg.as_str() {
                "--requests" => load.requests = value().parse().expect("--requests N"),
                "--concurrency" => load.concurrency = value().parse().expect("--concurrency N"),
                "--seconds" => load.seconds = value().parse().expect("--seconds N"),
                "--json" => load.json = Some(value().into()),
                // `cargo bench` passes --bench.
                _ => {}
            }
        }
        load
    }
}

/// What one run measured.
struct Measured {
    sent: usize,
    failed: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
}

impl Measured {
    fn per_second(&self) -> f64 {
        (self.sent - self.failed) as f64 / self.seconds
    }
}

fn main() {
    let load = Load::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    eprintln!("sealing {} distinct envelopes...", load.requests);
    let envelopes = Arc::new(seal_all(load.requests));

    let mut kinds = vec!["sqlite"];
    if std::env::var(POSTGRES_ENV).is_ok() {
        kinds.push("postgres");
    } else {
        eprintln!("note: {POSTGRES_ENV} is not set; measuring SQLite only");
    }
    let mut rows = Vec::new();
    for &kind in &kinds {
        let mut results: BTreeMap<&str, Measured> = BTreeMap::new();
        // Two rounds in opposite orders, keeping each server's better one: whatever the
        // machine or the database does in between (other load, a checkpoint) hits both alike.
        for order in [["collector", "bare axum"], ["bare axum", "collector"]] {
            for target in order {
                let scratch = Scratch::new(kind);
                let app = match target {
                    "collector" => collector_app(&scratch.db),
                    _ => runtime.block_on(bare_app(&scratch.db)),
                };
                eprintln!("==> {kind}: {target}");
                let measured = runtime.block_on(run(app, &envelopes, &load));
                eprintln!("    {:.0} req/s", measured.per_second());
                let better = results
                    .get(target)
                    .is_none_or(|best| measured.per_second() > best.per_second());
                if better {
                    results.insert(target, measured);
                }
            }
        }
        rows.push((kind, results));
    }
    let pow_costs = measure_pow(&kinds, &envelopes, &load);

    println!(
        "collector vs bare axum insert, same database kind, same run ({} requests max, {} concurrent, {} s max each; better of 2 rounds)",
        load.requests, load.concurrency, load.seconds
    );
    println!();
    println!(
        "{:<9} {:<10} {:>8} {:>7} {:>10} {:>10} {:>10}",
        "store", "server", "req/s", "failed", "p50 ms", "p99 ms", "sent"
    );
    let mut json_rows = Vec::new();
    for (kind, results) in &rows {
        for (target, m) in results {
            println!(
                "{kind:<9} {target:<10} {:>8.0} {:>7} {:>10.2} {:>10.2} {:>10}",
                m.per_second(),
                m.failed,
                millis(m.p50),
                millis(m.p99),
                m.sent
            );
            json_rows.push(json!({
                "store": kind, "server": target, "requests_per_second": m.per_second(),
                "failed": m.failed, "p50_ms": millis(m.p50), "p99_ms": millis(m.p99),
                "sent": m.sent, "seconds": m.seconds,
            }));
        }
        let (ours, bare) = (&results["collector"], &results["bare axum"]);
        println!(
            "{kind:<9} {:<10} {:>7.2}x {:>7} {:>9.2}x {:>9.2}x",
            "ratio",
            ours.per_second() / bare.per_second(),
            "",
            millis(ours.p50) / millis(bare.p50),
            millis(ours.p99) / millis(bare.p99),
        );
    }
    println!();
    println!(
        "ratio = collector / bare axum (req/s: below 1 is slower; latency: above 1 is slower)"
    );
    println!();
    println!(
        "proof of work per request, one thread: verify {:.2} µs (in memory, {} solutions)",
        pow_costs.verify_us, pow_costs.verified
    );
    println!(
        "{:<9} {:>12} {:>12} {:>10}",
        "store", "spend µs", "insert µs", "writes"
    );
    for (kind, writes) in &pow_costs.writes {
        println!(
            "{kind:<9} {:>12.1} {:>12.1} {:>10}",
            writes.spend_us, writes.insert_us, writes.count
        );
    }
    println!(
        "spend = recording a solution as used (the replay check); insert = storing an envelope"
    );
    if let Some(path) = &load.json {
        let per_store = |value: fn(&Writes) -> f64| -> serde_json::Map<String, serde_json::Value> {
            pow_costs
                .writes
                .iter()
                .map(|(kind, writes)| (kind.to_string(), json!(value(writes))))
                .collect()
        };
        let pow = json!({
            "verify_us": pow_costs.verify_us,
            "verified": pow_costs.verified,
            "spend_us": per_store(|w| w.spend_us),
            "insert_us": per_store(|w| w.insert_us),
            "writes": per_store(|w| w.count as f64),
        });
        let text =
            serde_json::to_string_pretty(&json!({ "rows": json_rows, "pow": pow })).expect("JSON");
        std::fs::write(path, text + "\n").expect("writing the JSON");
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What the proof of work costs per request.
struct PowCosts {
    verify_us: f64,
    verified: usize,
    writes: Vec<(&'static str, Writes)>,
}

/// One store's writes, one after the other.
struct Writes {
    spend_us: f64,
    insert_us: f64,
    count: usize,
}

/// Verifies [`VERIFIES`] solutions as the collector's middleware does (the header's base64 and
/// JSON, the HMAC, the hash, the expiry), then spends and inserts up to [`WRITES`] into a new
/// store of each kind, each write waiting for its commit as a request does.
fn measure_pow(kinds: &[&'static str], envelopes: &[Bytes], load: &Load) -> PowCosts {
    // Verifying costs the same at any difficulty (one hash); a small one solves quickly here.
    let pow = ProofOfWork::new(POW_KEY, 100).expect("the bench's proof of work");
    let now = 1_800_000_000;
    eprintln!("==> proof of work: solving {VERIFIES} challenges...");
    let headers: Vec<HeaderValue> = (0..VERIFIES)
        .map(|_| {
            let challenge = pow.challenge(now).expect("a challenge");
            let solution = challenge.solve().expect("a number solves it");
            HeaderValue::from_str(&solution.to_header()).expect("a header")
        })
        .collect();
    let start = Instant::now();
    let solved: Vec<_> = headers
        .iter()
        .map(|header| pow.verify(Some(header), now).expect("a valid solution"))
        .collect();
    let verify_us = start.elapsed().as_secs_f64() * 1e6 / VERIFIES as f64;

    let mut writes = Vec::new();
    for &kind in kinds {
        let scratch = Scratch::new(kind);
        let store = scratch.db.open().expect("opening the store");
        let deadline = Instant::now() + Duration::from_secs(load.seconds);
        let spends: Vec<Spend> = solved
            .iter()
            .zip(envelopes)
            .take(WRITES)
            .map(|(solved, jwe)| solved.spend(&id_of(jwe)))
            .collect();
        eprintln!("==> {kind}: spending, then inserting, one at a time");
        let start = Instant::now();
        let mut spent = 0;
        for spend in &spends {
            if Instant::now() >= deadline {
                break;
            }
            store.spend_solution(spend, now).expect("a spend");
            spent += 1;
        }
        let spend_us = start.elapsed().as_secs_f64() * 1e6 / spent.max(1) as f64;
        let kids = vec!["bench".to_string()];
        let deadline = Instant::now() + Duration::from_secs(load.seconds);
        let start = Instant::now();
        let mut inserted = 0;
        for jwe in envelopes.iter().take(spent) {
            if Instant::now() >= deadline {
                break;
            }
            let id = id_of(jwe);
            let text = std::str::from_utf8(jwe).expect("a JWE is text");
            let envelope = NewEnvelope {
                id: &id,
                form: "newsletter",
                kids: &kids,
                received: Date::from_unix(NOW),
                expires: Date::from_unix(NOW + 86_400),
                jwe: text,
                deliver: false,
            };
            store.insert(&envelope).expect("an insert");
            inserted += 1;
        }
        let insert_us = start.elapsed().as_secs_f64() * 1e6 / inserted.max(1) as f64;
        writes.push((
            kind,
            Writes {
                spend_us,
                insert_us,
                count: spent.min(inserted),
            },
        ));
    }
    PowCosts {
        verify_us,
        verified: VERIFIES,
        writes,
    }
}

/// Distinct envelopes for the example form, as the widget would post them.
fn seal_all(n: usize) -> Vec<Bytes> {
    let config = FormConfig::from_json(FORM).expect("examples/newsletter.json");
    let answers: Answers = serde_json::from_str(ANSWERS).expect("examples/answers.json");
    let consent = ConsentState::default();
    let params = BTreeMap::new();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    (0..n)
        .map(|_| {
            let input = SubmissionInput {
                answers: &answers,
                consent: &consent,
                subject: "bench-subject",
                now_unix: NOW,
                url_params: &params,
                lang: None,
            };
            let sealed = envelope::seal_submission(&config, &input, &mut rng).expect("sealing");
            Bytes::from(sealed.jwe.0)
        })
        .collect()
}

/// A new, empty database of one kind for one run; a PostgreSQL one is dropped afterwards.
struct Scratch {
    db: Database,
    _dir: tempfile::TempDir,
    drop_from: Option<(String, String)>,
}

impl Scratch {
    fn new(kind: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::tempdir().expect("a temporary directory");
        if kind == "sqlite" {
            return Self {
                db: Database::Sqlite(dir.path().join("bench.sqlite")),
                _dir: dir,
                drop_from: None,
            };
        }
        let admin = std::env::var(POSTGRES_ENV).expect(POSTGRES_ENV);
        let name = format!("formseal_bench_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        admin_sql(&admin, &format!("CREATE DATABASE {name}"));
        let (scheme, rest) = admin.split_once("://").expect("a URL");
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        Self {
            db: Database::Postgres(format!("{scheme}://{authority}/{name}")),
            _dir: dir,
            drop_from: Some((admin, name)),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_from {
            admin_sql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// One statement on the admin database, on a thread of its own (the synchronous client must not
/// run on a runtime's thread).
fn admin_sql(admin: &str, sql: &str) {
    let (admin, sql) = (admin.to_string(), sql.to_string());
    std::thread::spawn(move || {
        postgres::Client::connect(&admin, postgres::NoTls)
            .and_then(|mut client| client.batch_execute(&sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
    .join()
    .expect("the admin thread");
}

/// The real collector app, as `formseal serve` builds it, without the rate limit and without
/// the proof of work (whose cost per request [`measure_pow`] measures apart: the load generator
/// would have to solve a challenge per request first).
fn collector_app(db: &Database) -> Router {
    let store = db.open().expect("opening the store");
    let mut forms = AcceptedForms::default();
    forms.add(FORM.to_string()).expect("the example form");
    let options = AppOptions {
        forms,
        rate_limit: None,
        pow: None,
        ..AppOptions::default()
    };
    serve::app(AppState::new(store, options))
}

/// The baseline: read the body, derive the id, insert, answer 201. No checks, no layers.
async fn bare_app(db: &Database) -> Router {
    match db {
        Database::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("SQLite");
            // The collector's durability: WAL, a full sync at every commit.
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                 CREATE TABLE bare (id TEXT PRIMARY KEY NOT NULL, jwe TEXT NOT NULL) STRICT;",
            )
            .expect("SQLite set-up");
            let conn = Arc::new(Mutex::new(conn));
            Router::new()
                .route("/v1/submissions", post(bare_sqlite))
                .with_state(conn)
        }
        Database::Postgres(url) => {
            let mut clients = Vec::new();
            for i in 0..8 {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("PostgreSQL");
                tokio::spawn(connection);
                if i == 0 {
                    client
                        .batch_execute("CREATE TABLE bare (id text PRIMARY KEY, jwe text NOT NULL)")
                        .await
                        .expect("PostgreSQL set-up");
                }
                // Prepared once per connection: each insert is then one round trip.
                let insert = client
                    .prepare(
                        "INSERT INTO bare (id, jwe) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                    )
                    .await
                    .expect("PostgreSQL statement");
                clients.push((client, insert));
            }
            let pool = Arc::new(BarePool {
                clients,
                next: AtomicUsize::new(0),
            });
            Router::new()
                .route("/v1/submissions", post(bare_postgres))
                .with_state(pool)
        }
    }
}

fn id_of(body: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(body))
}

async fn bare_sqlite(
    State(conn): State<Arc<Mutex<rusqlite::Connection>>>,
    body: Bytes,
) -> StatusCode {
    let stored = tokio::task::spawn_blocking(move || {
        let jwe = String::from_utf8_lossy(&body).into_owned();
        conn.lock()
            .expect("the connection")
            .execute(
                "INSERT INTO bare (id, jwe) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
                rusqlite::params![id_of(&body), jwe],
            )
            .is_ok()
    })
    .await
    .unwrap_or(false);
    if stored {
        StatusCode::CREATED
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

struct BarePool {
    clients: Vec<(tokio_postgres::Client, tokio_postgres::Statement)>,
    next: AtomicUsize,
}

async fn bare_postgres(State(pool): State<Arc<BarePool>>, body: Bytes) -> StatusCode {
    let (client, insert) =
        &pool.clients[pool.next.fetch_add(1, Ordering::Relaxed) % pool.clients.len()];
    let jwe = String::from_utf8_lossy(&body).into_owned();
    let id = id_of(&body);
    let result = client.execute(insert, &[&id, &jwe]).await;
    if result.is_ok() {
        StatusCode::CREATED
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// Serves `app` on 127.0.0.1 and sends it the envelopes, `load.concurrency` at a time, until
/// all are sent or `load.seconds` have passed.
async fn run(app: Router, envelopes: &Arc<Vec<Bytes>>, load: &Load) -> Measured {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!(
        "http://{}/v1/submissions",
        listener.local_addr().expect("an address")
    );
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(load.concurrency)
        .build()
        .expect("an HTTP client");
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(load.seconds);
    let start = Instant::now();
    let workers: Vec<_> = (0..load.concurrency)
        .map(|_| {
            let (client, url, next, envelopes) =
                (client.clone(), url.clone(), next.clone(), envelopes.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failed = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= envelopes.len() || Instant::now() >= deadline {
                        return (latencies, failed);
                    }
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .header("content-type", "application/jose")
                        .body(envelopes[i].clone())
                        .send()
                        .await;
                    let ok = match response {
                        Ok(r) => {
                            let status = r.status();
                            let _ = r.bytes().await;
                            status == StatusCode::CREATED
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    failed += usize::from(!ok);
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failed = 0;
    for worker in workers {
        let (mine, my_failed) = worker.await.expect("a load worker");
        latencies.extend(mine);
        failed += my_failed;
    }
    let seconds = start.elapsed().as_secs_f64();
    server.abort();
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies.get(index).copied().unwrap_or_default()
    };
    Measured {
        sent: latencies.len(),
        failed,
        seconds,
        p50: at(0.50),
        p99: at(0.99),
    }
}
