//! `formseal scan`: opens a site's pages in headless Chromium as a first-time visitor who decides
//! nothing, and reports every cookie, storage key and request to another host made before
//! consent, with the purpose each belongs to. Talking to Chromium is `scan/cdp.rs`'s business;
//! this file decides what a visit observes, whose it is and whether it needed consent.

mod cdp;

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use formseal_core::config::{FormConfig, LegalBasis};
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use crate::{Hinted, check, shown};
use cdp::Browser;

/// Report what a site stores and requests before the visitor consents.
///
/// Opens each URL in headless Chromium with an empty profile, as a first-time visitor who
/// decides nothing, follows links to the same origin (scheme, host and port) up to --pages
/// pages, and waits on each until the network has been quiet for half a second. Reports every
/// cookie, localStorage and sessionStorage key and every host other than the page's own that
/// was requested, with the purpose it belongs to: a purpose whose `cookies` (in --config) match
/// the cookie's or key's name, or the purpose of a gated element
/// (`data-formseal-purpose` with a `src` or `data-src`) on that host; else `unknown`.
///
/// Something needs consent unless it belongs to a purpose whose legal basis is not `consent`.
/// An unknown cookie, key or host needs consent too, first-party ones included: to mark one as
/// needed, add it to the `cookies` of a purpose without consent (a key is matched like a
/// cookie). formseal's own keys (starting with `formseal`) are never reported. Exits with 1
/// when anything that needs consent happened before consent.
///
/// --accept-all then clicks Accept all on the banner's first layer, on the first page of each
/// site, and reports what appeared after it, per purpose. With --config, unknown cookies and
/// keys come with suggested `cookies` entries.
///
/// Uses the Chromium on this machine (--chromium, $CHROMIUM, else chromium, chromium-browser or
/// google-chrome on PATH) and installs nothing.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal scan https://shop.example/
  formseal scan https://shop.example/ --pages 20 --config consent.json
  formseal scan http://127.0.0.1:8000/ --accept-all --config consent.json --format json")]
pub(crate) struct Args {
    /// The pages to start from; each is a new visitor with an empty browser.
    #[arg(value_name = "URL", required = true)]
    urls: Vec<Url>,

    /// How many pages of each site to open, following same-origin links from the first.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pages: u32,

    /// The consent banner's config: its purposes' `cookies` attribute what is found.
    #[arg(long, value_name = "FORM.json")]
    config: Option<PathBuf>,

    /// Then click Accept all and report what each purpose brings once granted.
    #[arg(long)]
    accept_all: bool,

    /// A table for people, or one JSON document.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,

    /// The Chromium (or Chrome) to run.
    #[arg(long, value_name = "PATH", env = "CHROMIUM")]
    chromium: Option<PathBuf>,

    /// How long a page may take to load, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

/// The formats of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Aligned columns and a summary line.
    Table,
    /// One JSON document.
    Json,
}

/// What was stored or requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
enum Kind {
    Cookie,
    LocalStorage,
    SessionStorage,
    Request,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::LocalStorage => "localStorage",
            Self::SessionStorage => "sessionStorage",
            Self::Request => "request",
        }
    }
}

/// Something a page stored or requested: a cookie's or key's name, or the host requested
/// (with its port when not the scheme's own), on `host` (the cookie's domain, the storage's
/// host, the host requested), first seen on `page`.
#[derive(Clone, Debug)]
struct Seen {
    kind: Kind,
    name: String,
    host: String,
    page: String,
}

impl Seen {
    /// What makes two sightings the same thing: a cookie seen again on the next page is the
    /// same cookie.
    fn key(&self) -> (Kind, String, String) {
        (self.kind, self.name.clone(), self.host.clone())
    }
}

/// A [`Seen`] with the purpose it belongs to, as reported.
#[derive(Debug, Serialize)]
struct Finding {
    kind: Kind,
    name: String,
    host: String,
    page: String,
    /// The purpose's id (several, space-separated, for an element gated on several), or
    /// `unknown`.
    purpose: String,
    needs_consent: bool,
}

/// What the pages of one site showed.
#[derive(Default)]
struct Site {
    pages: Vec<String>,
    /// Before consent, in the order first seen.
    before: Vec<Seen>,
    /// After Accept all: what was not there before.
    after: Vec<Seen>,
    /// The host of each gated element's `data-src`, and the purposes the element waits for.
    gated: BTreeMap<String, Vec<String>>,
}

/// The whole report.
#[derive(Serialize)]
struct Report {
    pages: Vec<String>,
    findings: Vec<Finding>,
    findings_needing_consent: usize,
    accept_all: Option<Vec<Finding>>,
    suggested_cookies: Option<Vec<String>>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.config.as_deref().map(check::load).transpose()?;
    let program = find_chromium(args.chromium.as_deref())?;
    let timeout = Duration::from_secs(args.timeout);
    let mut browser = Browser::launch(&program, timeout)?;
    let mut sites = Vec::new();
    for url in &args.urls {
        sites.push(scan_site(&mut browser, url, args, timeout)?);
    }
    drop(browser);
    let report = Report::of(&sites, config.as_ref(), args.accept_all);
    let mut out = io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Table => report.write_table(&mut out, args.config.as_deref())?,
    }
    out.flush()?;
    match report.findings_needing_consent {
        0 => Ok(()),
        n => Err(Hinted::error(
            format!(
                "{n} thing{} that need{} consent happened before consent",
                plural(n),
                if n == 1 { "s" } else { "" }
            ),
            if config.is_some() {
                "gate what sets them with data-formseal-purpose, or add what a purpose without \
                 consent needs to that purpose's \"cookies\""
            } else {
                "pass the banner's config with --config to attribute them to its purposes"
            },
        )),
    }
}

/// The Chromium to run: `--chromium` (or `$CHROMIUM`), else the first browser on PATH.
fn find_chromium(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    const HINT: &str = "install it (`apt-get install chromium`), or pass the path of a Chromium \
                        or Chrome with --chromium PATH";
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(Hinted::error(
                format!("no Chromium found at {}", shown(path)),
                HINT,
            ))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Hinted::error(
                "no Chromium found (looked for chromium, chromium-browser and google-chrome on \
                 PATH)",
                HINT,
            )
        })
}

/// Visits up to `--pages` pages of the site of `start` as one visitor, then (with
/// `--accept-all`) accepts all on the first.
fn scan_site(
    browser: &mut Browser,
    start: &Url,
    args: &Args,
    timeout: Duration,
) -> anyhow::Result<Site> {
    let mut tab = Tab::open(browser, timeout)?;
    let origin = start.origin();
    let mut site = Site::default();
    let mut known = HashSet::new();
    let mut queued = BTreeSet::from([start.to_string()]);
    let mut queue = VecDeque::from([start.clone()]);
    while let Some(url) = queue.pop_front() {
        if site.pages.len() >= args.pages as usize {
            break;
        }
        let view = match tab.visit(&url) {
            Ok(view) => view,
            // A link to a page that is gone, or to a download, costs only that page.
            Err(err) if err.is::<Unreachable>() && url != *start => {
                eprintln!("skipped: {err}");
                continue;
            }
            Err(err) if err.is::<Unreachable>() => {
                return Err(err.context(Hinted::context(
                    "the first page did not open",
                    "is the site up, and the address right?",
                )));
            }
            Err(err) => return Err(err),
        };
        site.pages.push(url.to_string());
        for link in &view.links {
            let Ok(mut link) = Url::parse(link) else {
                continue;
            };
            // `/#top` is the page `/`.
            link.set_fragment(None);
            if link.origin() == origin && queued.insert(link.to_string()) {
                queue.push_back(link);
            }
        }
        for seen in view.seen(&url, &start_host(start)) {
            if known.insert(seen.key()) {
                site.before.push(seen);
            }
        }
        site.add_gated(&view.gated, &url);
    }
    if args.accept_all {
        // The first page again, to see the banner; whatever is new still came before consent.
        let view = tab.visit(start)?;
        let host = start_host(start);
        for seen in view.seen(start, &host) {
            if known.insert(seen.key()) {
                site.before.push(seen);
            }
        }
        site.add_gated(&view.gated, start);
        let view = tab.accept_all(start)?;
        for seen in view.seen(start, &host) {
            if known.insert(seen.key()) {
                site.after.push(seen);
            }
        }
        site.add_gated(&view.gated, start);
    }
    tab.close()?;
    Ok(site)
}

/// The host of the site being scanned, as [`authority`] writes it.
fn start_host(start: &Url) -> String {
    authority(start).unwrap_or_default()
}

/// `host` or `host:port` (when the port is not the scheme's own) of a web address; nothing for
/// `data:`, `blob:` and the like.
fn authority(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https" | "ws" | "wss") {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

impl Site {
    /// Notes the host of each gated element's source (resolved against `page`).
    fn add_gated(&mut self, gated: &[Gated], page: &Url) {
        for element in gated.iter().filter(|e| !e.src.is_empty()) {
            let Some(host) = page.join(&element.src).ok().as_ref().and_then(authority) else {
                continue;
            };
            let purposes = element
                .purposes
                .split([' ', ','])
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            self.gated.entry(host).or_insert(purposes);
        }
    }
}

/// What one page view showed once the network was quiet.
#[derive(Debug, Default)]
struct View {
    /// Every address requested during the view (of any frame or worker of the page).
    requests: Vec<String>,
    /// Every cookie of the visitor's browser: (name, domain).
    cookies: Vec<(String, String)>,
    local_storage: Vec<String>,
    session_storage: Vec<String>,
    links: Vec<String>,
    gated: Vec<Gated>,
}

/// An element waiting for consent: `data-formseal-purpose` and its source.
#[derive(Debug, serde::Deserialize)]
struct Gated {
    purposes: String,
    src: String,
}

impl View {
    /// What the view stored or requested, on `page` of the site on `host`: every cookie and key
    /// except formseal's own, and every request to another host.
    fn seen(&self, page: &Url, host: &str) -> Vec<Seen> {
        let page_text = page.to_string();
        let seen = |kind, name: &str, on: &str| Seen {
            kind,
            name: name.to_owned(),
            host: on.to_owned(),
            page: page_text.clone(),
        };
        let storage_host = authority(page).unwrap_or_default();
        let mut all = Vec::new();
        for (name, domain) in &self.cookies {
            all.push(seen(Kind::Cookie, name, domain.trim_start_matches('.')));
        }
        for key in &self.local_storage {
            all.push(seen(Kind::LocalStorage, key, &storage_host));
        }
        for key in &self.session_storage {
            all.push(seen(Kind::SessionStorage, key, &storage_host));
        }
        for request in &self.requests {
            let Some(to) = Url::parse(request).ok().as_ref().and_then(authority) else {
                continue;
            };
            if to != host {
                all.push(seen(Kind::Request, &to, &to));
            }
        }
        all.retain(|s| s.kind == Kind::Request || !s.name.starts_with("formseal"));
        all
    }
}

/// A page the browser could not open (`net::ERR_CONNECTION_REFUSED`, a download).
#[derive(Debug, thiserror::Error)]
#[error("cannot open {url}: {reason}")]
struct Unreachable {
    url: String,
    reason: String,
}

/// How long the network must be quiet before a page counts as settled.
const QUIET: Duration = Duration::from_millis(500);

/// A tab in a browser context of its own: one visitor with empty storage.
struct Tab<'b> {
    browser: &'b mut Browser,
    context: String,
    session: String,
    timeout: Duration,
}

impl<'b> Tab<'b> {
    fn open(browser: &'b mut Browser, timeout: Duration) -> anyhow::Result<Self> {
        let context = browser.call(None, "Target.createBrowserContext", json!({}))?;
        let context = text(&context["browserContextId"])?;
        let target = browser.call(
            None,
            "Target.createTarget",
            json!({"url": "about:blank", "browserContextId": context}),
        )?;
        let session = browser.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": text(&target["targetId"])?, "flatten": true}),
        )?;
        let session = text(&session["sessionId"])?;
        let on = Some(session.as_str());
        browser.call(on, "Page.enable", json!({}))?;
        browser.call(on, "Network.enable", json!({}))?;
        // Frames of other sites and workers have sessions of their own; each is held until
        // its network is watched too.
        browser.call(
            on,
            "Target.setAutoAttach",
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        )?;
        Ok(Self {
            browser,
            context,
            session,
            timeout,
        })
    }

    /// Opens `url` and waits for it to load and settle.
    fn visit(&mut self, url: &Url) -> anyhow::Result<View> {
        let navigated = self.browser.call(
            Some(&self.session),
            "Page.navigate",
            json!({"url": url.as_str()}),
        )?;
        if let Some(reason) = navigated["errorText"].as_str() {
            return Err(Unreachable {
                url: url.to_string(),
                reason: reason.to_owned(),
            }
            .into());
        }
        let requests = self
            .settle(true)
            .with_context(|| format!("cannot scan {url}"))?;
        self.view(requests)
    }

    /// Clicks Accept all on the banner's first layer (in the shadow root of
    /// `<formseal-consent>`) and waits for what it brings to settle.
    fn accept_all(&mut self, page: &Url) -> anyhow::Result<View> {
        const CLICK: &str = "(() => { const button = document.querySelector('formseal-consent')\
            ?.shadowRoot?.querySelector('[data-action=accept-all]'); button?.click(); \
            return !!button; })()";
        let deadline = Instant::now() + self.timeout;
        while self.evaluate(CLICK)? != Value::Bool(true) {
            if Instant::now() > deadline {
                return Err(Hinted::error(
                    format!(
                        "no Accept all on {page} within {} s",
                        self.timeout.as_secs()
                    ),
                    "--accept-all clicks the first layer of formseal's <formseal-consent> \
                     banner; does the page have it, for a visitor without a choice?",
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let requests = self.settle(false)?;
        self.view(requests)
    }

    /// Reads the events until the page has loaded (when `load`) and no request has been in
    /// flight for [`QUIET`]; returns the addresses requested meanwhile. A page that never goes
    /// quiet (a long poll) is read until the timeout; one that never loads is an error.
    fn settle(&mut self, load: bool) -> anyhow::Result<Vec<String>> {
        let deadline = Instant::now() + self.timeout;
        let mut loaded = !load;
        let mut in_flight = HashSet::new();
        let mut quiet_since = Instant::now();
        let mut requests = Vec::new();
        loop {
            let settled_at = quiet_since + QUIET;
            let wait_until = if loaded && in_flight.is_empty() {
                settled_at.min(deadline)
            } else {
                deadline
            };
            let Some(event) = self.browser.next_event(wait_until)? else {
                if Instant::now() >= deadline && !loaded {
                    return Err(anyhow!(
                        "the page did not load within {} s",
                        self.timeout.as_secs()
                    ));
                }
                if Instant::now() >= deadline || (in_flight.is_empty() && loaded) {
                    return Ok(requests);
                }
                continue;
            };
            let session = event.session.as_deref().unwrap_or_default();
            let request = format!("{session} {}", event.params["requestId"]);
            match event.method.as_str() {
                "Network.requestWillBeSent" => {
                    if let Some(url) = event.params["request"]["url"].as_str() {
                        requests.push(url.to_owned());
                    }
                    in_flight.insert(request);
                }
                "Network.loadingFinished" | "Network.loadingFailed" => {
                    in_flight.remove(&request);
                }
                // A frame or worker gone takes its requests with it.
                "Target.detachedFromTarget" => {
                    if let Some(gone) = event.params["sessionId"].as_str() {
                        in_flight.retain(|r| !r.starts_with(&format!("{gone} ")));
                    }
                }
                "Page.loadEventFired" if event.session.as_deref() == Some(&self.session) => {
                    loaded = true;
                }
                "Target.attachedToTarget" => {
                    if let Some(child) = event.params["sessionId"].as_str() {
                        let child = Some(child);
                        self.browser.send(child, "Network.enable", json!({}))?;
                        self.browser
                            .send(child, "Runtime.runIfWaitingForDebugger", json!({}))?;
                    }
                }
                _ => continue,
            }
            quiet_since = Instant::now();
        }
    }

    /// The storage, links and gated elements of the page now, and the visitor's cookies.
    fn view(&mut self, requests: Vec<String>) -> anyhow::Result<View> {
        const READ: &str = "(() => {
            const keys = (name) => {
              try { return Object.keys(window[name]); } catch { return []; }
            };
            return {
              localStorage: keys('localStorage'),
              sessionStorage: keys('sessionStorage'),
              links: [...document.querySelectorAll('a[href]')].map((a) => String(a.href)),
              gated: [...document.querySelectorAll('[data-formseal-purpose]')].map((el) => ({
                purposes: el.dataset.formsealPurpose,
                src: el.dataset.src ?? el.getAttribute('src') ?? '',
              })),
            };
          })()";
        let page = self.evaluate(READ)?;
        let strings = |value: &Value| -> Vec<String> {
            value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let cookies = self.browser.call(
            None,
            "Storage.getCookies",
            json!({"browserContextId": self.context}),
        )?;
        let cookies = cookies["cookies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c["name"].as_str()?.to_owned(),
                    c["domain"].as_str()?.to_owned(),
                ))
            })
            .collect();
        Ok(View {
            requests,
            cookies,
            local_storage: strings(&page["localStorage"]),
            session_storage: strings(&page["sessionStorage"]),
            links: strings(&page["links"]),
            gated: serde_json::from_value(page["gated"].clone()).unwrap_or_default(),
        })
    }

    /// The value of a JavaScript expression in the page.
    fn evaluate(&mut self, expression: &str) -> anyhow::Result<Value> {
        let mut result = self.browser.call(
            Some(&self.session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )?;
        if let Some(details) = result.get("exceptionDetails") {
            return Err(anyhow!("cannot read the page: {details}"));
        }
        Ok(result["result"]["value"].take())
    }

    /// Closes the tab with its context, and with it the visitor's storage.
    fn close(self) -> anyhow::Result<()> {
        self.browser.call(
            None,
            "Target.disposeBrowserContext",
            json!({"browserContextId": self.context}),
        )?;
        Ok(())
    }
}

/// A string the protocol must have given.
fn text(value: &Value) -> anyhow::Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("Chromium gave an answer without {value}"))
}

impl Report {
    fn of(sites: &[Site], config: Option<&FormConfig>, accept_all: bool) -> Self {
        let mut findings = Vec::new();
        let mut after = Vec::new();
        for site in sites {
            findings.extend(site.before.iter().map(|s| attribute(s, site, config)));
            after.extend(site.after.iter().map(|s| attribute(s, site, config)));
        }
        // After Accept all, per purpose.
        after.sort_by(|a, b| a.purpose.cmp(&b.purpose));
        let suggested_cookies = config.map(|_| {
            let unknown = findings
                .iter()
                .chain(&after)
                .filter(|f| f.purpose == UNKNOWN && f.kind != Kind::Request);
            let patterns: BTreeSet<String> = unknown.map(|f| suggested_pattern(&f.name)).collect();
            patterns.into_iter().collect()
        });
        Self {
            pages: sites.iter().flat_map(|s| s.pages.clone()).collect(),
            findings_needing_consent: findings.iter().filter(|f| f.needs_consent).count(),
            findings,
            accept_all: accept_all.then_some(after),
            suggested_cookies,
        }
    }

    fn write_table(&self, out: &mut dyn Write, config: Option<&Path>) -> anyhow::Result<()> {
        let pages = self.pages.len();
        writeln!(out, "before consent ({pages} page{}):", plural(pages))?;
        write_findings(out, &self.findings)?;
        if let Some(after) = &self.accept_all {
            writeln!(out, "\nafter Accept all:")?;
            write_findings(out, after)?;
        }
        if let (Some(suggested), Some(config)) = (&self.suggested_cookies, config)
            && !suggested.is_empty()
        {
            let list: Vec<String> = suggested.iter().map(|s| json!(s).to_string()).collect();
            writeln!(
                out,
                "\nnot in any purpose's \"cookies\" in {}; add each to the purpose it serves:\n  \
                 \"cookies\": [{}]",
                shown(config),
                list.join(", ")
            )?;
        }
        let n = self.findings_needing_consent;
        if n == 0 {
            writeln!(
                out,
                "\nnothing that needs consent happened before consent ({pages} page{})",
                plural(pages)
            )?;
        } else {
            writeln!(
                out,
                "\n{n} of {} found before consent need{} consent",
                self.findings.len(),
                if n == 1 { "s" } else { "" }
            )?;
        }
        Ok(())
    }
}

/// Aligned columns, or a line saying there was nothing.
fn write_findings(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "  nothing");
    }
    let header = ["kind", "name", "purpose", "needs consent", "page"];
    let rows: Vec<[&str; 5]> = findings
        .iter()
        .map(|f| {
            [
                f.kind.name(),
                f.name.as_str(),
                f.purpose.as_str(),
                if f.needs_consent { "yes" } else { "no" },
                f.page.as_str(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, &width)| format!("{text:<width$}"))
            .collect();
        writeln!(out, "  {}", padded.join("  ").trim_end())?;
    }
    Ok(())
}

/// The purpose of whatever belongs to none.
const UNKNOWN: &str = "unknown";

/// Whose `seen` is, and whether it needs consent: a cookie or key by the config's `cookies`
/// patterns, a request by the gated elements on its host. Whatever belongs to no purpose needs
/// consent (fail closed); a purpose not in the config is taken to need it (the page gates it).
fn attribute(seen: &Seen, site: &Site, config: Option<&FormConfig>) -> Finding {
    let needs_consent = |id: &str| {
        config
            .and_then(|c| c.purpose(id))
            .is_none_or(|p| p.legal_basis == LegalBasis::Consent)
    };
    let (purpose, needs) = match seen.kind {
        Kind::Request => match site.gated.get(&seen.host) {
            Some(purposes) => (
                purposes.join(" "),
                purposes.iter().any(|p| needs_consent(p)),
            ),
            None => (UNKNOWN.to_owned(), true),
        },
        _ => match config.and_then(|c| c.purpose_of_cookie(&seen.name)) {
            Some(purpose) => (
                purpose.id.clone(),
                purpose.legal_basis == LegalBasis::Consent,
            ),
            None => (UNKNOWN.to_owned(), true),
        },
    };
    Finding {
        kind: seen.kind,
        name: seen.name.clone(),
        host: seen.host.clone(),
        page: seen.page.clone(),
        purpose,
        needs_consent: needs,
    }
}

/// The `cookies` entry suggested for `name`: a prefix pattern when it ends in what looks like
/// an id (`_ga_ABC123` → `_ga_*`), else the name itself.
fn suggested_pattern(name: &str) -> String {
    if let Some((prefix, id)) = name.rsplit_once('_')
        && !prefix.is_empty()
        && id.len() >= 6
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
        && id.bytes().any(|b| b.is_ascii_digit())
    {
        return format!("{prefix}_*");
    }
    name.to_owned()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ending_in_an_id_are_suggested_as_prefixes() {
        assert_eq!(suggested_pattern("_ga_ABC123"), "_ga_*");
        assert_eq!(suggested_pattern("_hjSession_1234567"), "_hjSession_*");
        assert_eq!(suggested_pattern("_gid"), "_gid");
        assert_eq!(suggested_pattern("theme_dark"), "theme_dark");
        assert_eq!(suggested_pattern("_123456"), "_123456");
    }

    #[test]
    fn hosts_keep_their_port_unless_it_is_the_schemes_own() {
        let host = |url: &str| authority(&Url::parse(url).unwrap());
        assert_eq!(
            host("http://127.0.0.1:8080/a"),
            Some("127.0.0.1:8080".into())
        );
        assert_eq!(
            host("https://shop.example:443/"),
            Some("shop.example".into())
        );
        assert_eq!(host("data:image/gif;base64,R0lG"), None);
    }

    #[test]
    fn formseals_own_keys_and_the_sites_own_requests_are_not_seen() {
        let view = View {
            requests: vec![
                "http://shop.example/app.js".into(),
                "https://stats.example/s.js".into(),
            ],
            local_storage: vec!["formseal:pending:cookies".into(), "theme".into()],
            ..View::default()
        };
        let page = Url::parse("http://shop.example/").unwrap();
        let names: Vec<(Kind, String)> = view
            .seen(&page, "shop.example")
            .into_iter()
            .map(|s| (s.kind, s.name))
            .collect();
        assert_eq!(
            names,
            [
                (Kind::LocalStorage, "theme".to_owned()),
                (Kind::Request, "stats.example".to_owned())
            ]
        );
    }
}
