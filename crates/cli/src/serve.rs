//! `formseal serve`: the collector. It accepts sealed envelopes over HTTP for the forms it is
//! given, checks their shape without any key, stores the ciphertext (SQLite or PostgreSQL) and can
//! serve the demo pages and the built widget. It never decrypts; reading the store is `formseal decrypt`.

pub mod app;
pub mod confirm;
pub mod error;
pub mod forms;
pub mod limits;
pub mod pow;
pub mod purge;
pub mod store;
pub mod webhook;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use axum::http::HeaderValue;
use serde::Deserialize;
use tokio::net::TcpListener;

pub use app::{AppOptions, AppState, app, now_rfc3339, today};
pub use forms::AcceptedForms;
pub use limits::RateLimit;
pub use pow::ProofOfWork;
pub use store::{Database, PostgresStore, SqliteStore, Store};

/// Run the collector: accept sealed envelopes over HTTP and store them, still sealed.
///
/// Accepts `POST /v1/submissions` with a JWE (`application/jose` or `application/jose+json`)
/// for one of the given forms, sealed to that form's keys. Answers 201 with the record id, 200
/// when the same envelope was stored before, 4xx with a reason otherwise. Never decrypts, never
/// logs bodies or client addresses. Every submission must carry a proof of work (header `Altcha`,
/// solving a challenge from `GET /v1/challenge`) unless `--no-pow`. Settings come from
/// `--config` and/or flags (flags win).
#[derive(Debug, Default, clap::Args)]
#[command(after_help = "\
Examples:
  formseal serve --form forms/newsletter.json --allow-origin https://shop.example
  formseal serve --config collector.json
  formseal serve --form forms/newsletter.json --www www --pkg pkg
  formseal serve --form forms/newsletter.json --db postgres://db.internal/formseal --pow-key pow.key

The config file is JSON with the same names: {\"listen\": \"127.0.0.1:8080\", \"db\":
\"collector.sqlite\", \"forms\": [\"newsletter.json\"], \"allow_origins\": [...], \"max_body\":
\"64KiB\", \"rate_limit\": \"30/min\", \"www\": \"www\", \"pkg\": \"pkg\", \"purge_every\": \"1d\", \"webhook\":
\"https://crm.example/formseal\", \"webhook_secret_file\": \"webhook.secret\", \"webhook_max_attempts\": 20,
\"require_pow\": true, \"pow_key_file\": \"pow.key\", \"pow_difficulty\": 50000};
its paths are relative to the file; \"db\" (or \"database\") may be a postgres:// URL. Log level:
FORMSEAL_LOG (e.g. debug).")]
pub struct Args {
    /// A JSON file with the settings below.
    #[arg(long, value_name = "collector.json")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,

    /// Where envelopes are stored: a SQLite file (created when missing) or a postgres:// URL
    /// (several collectors may share one database) [default: collector.sqlite].
    #[arg(
        long,
        visible_alias = "database",
        value_name = "collector.sqlite|postgres://..."
    )]
    pub db: Option<Database>,

    /// A form config whose envelopes are accepted (repeat for several forms).
    #[arg(long = "form", value_name = "FORM.json")]
    pub forms: Vec<PathBuf>,

    /// An origin allowed to post from a browser, e.g. https://shop.example (repeatable).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,

    /// Largest accepted envelope, e.g. 64KiB [default: 64KiB].
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_size)]
    pub max_body: Option<usize>,

    /// Submissions allowed per client, e.g. 30/min, 5/s or 500/h [default: 30/min].
    #[arg(long, value_name = "N/PERIOD")]
    pub rate_limit: Option<RateLimit>,

    /// Also serve this directory at / (the demo pages).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,

    /// Also serve this directory at /pkg/ (the built widget).
    #[arg(long, value_name = "DIR")]
    pub pkg: Option<PathBuf>,

    /// Delete expired envelopes at start and then every INTERVAL, e.g. 6h or 1d (as `formseal
    /// purge` does; logged in the audit log as "formseal serve").
    #[arg(long, value_name = "INTERVAL", value_parser = purge::parse_interval)]
    pub purge_every: Option<Duration>,

    /// Forward every stored envelope, still sealed, to this https: URL (signed; retried; see
    /// `formseal webhook`).
    #[arg(long, value_name = "URL", requires = "webhook_secret_file")]
    pub webhook: Option<String>,

    /// File holding the webhook's shared HMAC secret (at least 16 bytes, e.g. `openssl rand -hex
    /// 32`).
    #[arg(long, value_name = "FILE")]
    pub webhook_secret_file: Option<PathBuf>,

    /// Attempts before an envelope becomes a dead letter [default: 20, about eleven hours].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub webhook_max_attempts: Option<u32>,

    /// File holding the proof-of-work key (ALTCHA's HMAC key, as text), created with mode 0600
    /// when missing [default: beside the SQLite file, its name plus .pow-key; a PostgreSQL store
    /// needs it given, the same file for every collector].
    #[arg(long, value_name = "FILE")]
    pub pow_key: Option<PathBuf>,

    /// The largest number a challenge hides; a visitor's browser tries half as many SHA-256
    /// hashes on average [default: 50000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=pow::MAX_DIFFICULTY))]
    pub pow_difficulty: Option<u64>,

    /// Every submission must carry a proof of work (the default).
    #[arg(long, conflicts_with = "no_pow")]
    pub require_pow: bool,

    /// Ask for no proof of work: /v1/challenge answers 204 and submissions need no Altcha header.
    #[arg(long, conflicts_with_all = ["pow_key", "pow_difficulty"])]
    pub no_pow: bool,
}

/// The settings file (`--config`); every key optional, paths relative to the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    listen: Option<SocketAddr>,
    #[serde(alias = "database")]
    db: Option<Database>,
    #[serde(default)]
    forms: Vec<PathBuf>,
    #[serde(default)]
    allow_origins: Vec<String>,
    max_body: Option<SizeSetting>,
    rate_limit: Option<String>,
    www: Option<PathBuf>,
    pkg: Option<PathBuf>,
    purge_every: Option<String>,
    webhook: Option<String>,
    webhook_secret_file: Option<PathBuf>,
    webhook_max_attempts: Option<u32>,
    require_pow: Option<bool>,
    pow_key_file: Option<PathBuf>,
    pow_difficulty: Option<u64>,
}

/// `"64KiB"` or `65536`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeSetting {
    Bytes(usize),
    Text(String),
}

/// Everything `formseal serve` needs, after merging the file and the flags.
#[derive(Debug)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The store.
    pub db: Database,
    /// The form configs.
    pub forms: Vec<PathBuf>,
    /// How often expired envelopes are purged; never when `None`.
    pub purge_every: Option<Duration>,
    /// Where stored envelopes are forwarded; nowhere when `None`.
    pub webhook: Option<webhook::WebhookOptions>,
    /// The proof-of-work key's file, and whether it was created just now; `None` when the
    /// collector asks for no proof of work.
    pub pow_key: Option<PowKeyFile>,
    /// What the app does.
    pub options: AppOptions,
}

/// Where the proof-of-work key was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowKeyFile {
    /// The file.
    pub path: PathBuf,
    /// Whether this start created it.
    pub created: bool,
}

impl Settings {
    /// Merges `--config` (if any) with the flags; flags win, and a repeated flag replaces the
    /// file's whole list.
    pub fn resolve(args: &Args) -> anyhow::Result<Self> {
        let (file, base) = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config {}", path.display()))?;
                let file: ConfigFile = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a collector config", path.display()))?;
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (file, base)
            }
            None => (ConfigFile::default(), PathBuf::new()),
        };
        let relative = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };

        let forms: Vec<PathBuf> = if args.forms.is_empty() {
            file.forms.into_iter().map(relative).collect()
        } else {
            args.forms.clone()
        };
        let origins = if args.allow_origins.is_empty() {
            file.allow_origins
        } else {
            args.allow_origins.clone()
        };
        let allow_origins = origins
            .iter()
            .map(|origin| parse_origin(origin))
            .collect::<anyhow::Result<_>>()?;
        let max_body = match (args.max_body, file.max_body) {
            (Some(bytes), _) => bytes,
            (None, Some(SizeSetting::Bytes(bytes))) => bytes,
            (None, Some(SizeSetting::Text(text))) => {
                limits::parse_size(&text).map_err(|e| anyhow!("max_body: {e}"))?
            }
            (None, None) => limits::DEFAULT_MAX_BODY,
        };
        let rate_limit = match (args.rate_limit, file.rate_limit) {
            (Some(rate), _) => rate,
            (None, Some(text)) => text.parse().map_err(|e| anyhow!("rate_limit: {e}"))?,
            (None, None) => RateLimit::default(),
        };

        let purge_every = match (args.purge_every, file.purge_every) {
            (Some(every), _) => Some(every),
            (None, Some(text)) => {
                Some(purge::parse_interval(&text).map_err(|e| anyhow!("purge_every: {e}"))?)
            }
            (None, None) => None,
        };

        let webhook = match (
            args.webhook.clone().or(file.webhook),
            args.webhook_secret_file
                .clone()
                .or_else(|| file.webhook_secret_file.map(relative)),
        ) {
            (Some(url), Some(secret_file)) => {
                let mut options = webhook::WebhookOptions::new(
                    webhook::parse_url(&url)?,
                    webhook::read_secret(&secret_file)?,
                );
                if let Some(n) = args.webhook_max_attempts.or(file.webhook_max_attempts) {
                    if n == 0 {
                        return Err(anyhow!("webhook_max_attempts must be at least 1"));
                    }
                    options.max_attempts = n;
                }
                Some(options)
            }
            (Some(_), None) => {
                return Err(anyhow!(
                    "a webhook needs its secret: give --webhook-secret-file (or \"webhook_secret_file\")"
                ));
            }
            (None, Some(_)) => {
                return Err(anyhow!(
                    "a webhook secret without a webhook: give --webhook URL (or \"webhook\")"
                ));
            }
            (None, None) => None,
        };

        let queue_deliveries = webhook.is_some();
        let accepted = AcceptedForms::load(&forms)?;
        if accepted.is_empty() {
            return Err(anyhow!(
                "no form to accept: give --form FORM.json (or \"forms\" in --config)"
            ));
        }
        let db = args
            .db
            .clone()
            .or_else(|| file.db.map(|db| db.relative_to(&base)))
            .unwrap_or_else(|| Database::Sqlite(PathBuf::from("collector.sqlite")));

        // Last of all, once every other setting is known good: it may create the key's file.
        let require_pow = match (args.no_pow, args.require_pow) {
            (true, _) => false,
            (false, true) => true,
            (false, false) => file.require_pow.unwrap_or(true),
        };
        let (pow, pow_key) = if require_pow {
            let difficulty = match args.pow_difficulty.or(file.pow_difficulty) {
                Some(n) if !(1..=pow::MAX_DIFFICULTY).contains(&n) => {
                    return Err(anyhow!(
                        "pow_difficulty must be from 1 to {}",
                        pow::MAX_DIFFICULTY
                    ));
                }
                Some(n) => n,
                None => pow::DEFAULT_DIFFICULTY,
            };
            let path = match args
                .pow_key
                .clone()
                .or_else(|| file.pow_key_file.map(relative))
            {
                Some(path) => path,
                None => default_pow_key(&db)?,
            };
            let key = pow::read_or_create_key(&path)?;
            let pow = ProofOfWork::new(key.text(), difficulty)
                .with_context(|| format!("the proof-of-work key {}", path.display()))?;
            let created = key.created;
            (Some(pow), Some(PowKeyFile { path, created }))
        } else {
            (None, None)
        };

        Ok(Self {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            db,
            forms,
            purge_every,
            webhook,
            pow_key,
            options: AppOptions {
                queue_deliveries,
                forms: accepted,
                allow_origins,
                max_body,
                rate_limit: Some(rate_limit),
                www: args.www.clone().or_else(|| file.www.map(relative)),
                pkg: args.pkg.clone().or_else(|| file.pkg.map(relative)),
                pow,
                today: app::today,
            },
        })
    }
}

/// Where the proof-of-work key is kept when no file is given: beside a SQLite store, named after
/// it. Collectors sharing a PostgreSQL store must share a key, so it must be given.
fn default_pow_key(db: &Database) -> anyhow::Result<PathBuf> {
    match db {
        Database::Sqlite(path) => {
            let mut name = path.file_name().unwrap_or_default().to_os_string();
            name.push(".pow-key");
            Ok(path.with_file_name(name))
        }
        Database::Postgres(_) => Err(anyhow!(
            "a PostgreSQL store needs --pow-key FILE (or \"pow_key_file\"): every collector \
             sharing the database must use the same proof-of-work key, or each refuses the others' \
             challenges (or give --no-pow to ask for no proof of work)"
        )),
    }
}

/// An origin is scheme, host and optional port, exactly as a browser sends it.
fn parse_origin(origin: &str) -> anyhow::Result<HeaderValue> {
    let trimmed = origin.trim_end_matches('/');
    let valid = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && !trimmed
            .split_once("://")
            .is_some_and(|(_, rest)| rest.is_empty() || rest.contains('/'));
    if !valid {
        return Err(anyhow!(
            "{origin:?} is not an origin such as https://shop.example (scheme and host, no path)"
        ));
    }
    HeaderValue::from_str(trimmed).map_err(|_| anyhow!("{origin:?} is not an origin"))
}

/// `formseal serve`: resolves the settings, opens the store and serves until Ctrl-C.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let settings = Settings::resolve(args)?;
    init_logging();
    let store: Arc<dyn Store> = settings.db.open()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let address = listener.local_addr()?;
        let forms: Vec<&str> = settings.options.forms.ids().collect();
        eprintln!(
            "formseal collector: accepting forms {} into {}",
            forms.join(", "),
            settings.db
        );
        // The URL is the data: scripts can read it (e.g. with --listen 127.0.0.1:0).
        println!("http://{address}/");
        match &settings.pow_key {
            Some(key) => eprintln!(
                "formseal collector: asking for proof of work (difficulty {}, key {}{})",
                settings
                    .options
                    .pow
                    .as_ref()
                    .map_or(0, ProofOfWork::difficulty),
                key.path.display(),
                if key.created { ", created now" } else { "" }
            ),
            None => eprintln!("formseal collector: asking for no proof of work (--no-pow)"),
        }
        if let Some(every) = settings.purge_every {
            tokio::spawn(purge::every(Arc::clone(&store), every));
        }
        if let Some(options) = settings.webhook {
            eprintln!(
                "formseal collector: forwarding envelopes to {}",
                options.url
            );
            tokio::spawn(webhook::run(Arc::clone(&store), options));
        }
        let state = AppState::new(store, settings.options);
        serve(listener, state, shutdown_signal()).await
    })
}

/// Serves the app on `listener` until `shutdown` completes, with each connection's peer address
/// available to the rate limiter (and nothing else).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the server stopped")
}

/// Ctrl-C, or SIGTERM from a service manager: finish the requests in flight, then stop.
async fn shutdown_signal() {
    // If a signal handler cannot be installed, that signal is simply not awaited.
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    eprintln!("formseal collector: stopping");
}

/// Log lines on stderr: method, path, status and latency; never a body or an address.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FORMSEAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!no_color && std::io::stderr().is_terminal())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_scheme_and_host() {
        assert!(parse_origin("https://shop.example").is_ok());
        assert!(parse_origin("http://localhost:8080/").is_ok());
        assert!(parse_origin("shop.example").is_err());
        assert!(parse_origin("https://shop.example/page").is_err());
        assert!(parse_origin("https://").is_err());
    }
}
