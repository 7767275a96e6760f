//! `formseal scan` against pages served here on 127.0.0.1, in the machine's headless Chromium: a
//! clean page passes, a leaky one (a `_ga` cookie, a request to a second loopback origin) fails
//! with both reported, links are followed within the site only, `--config` attributes what is
//! found to its purposes, and `--accept-all` clicks the banner. Without Chromium these fail: CI
//! has it, and a scan that cannot run proves nothing.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::thread;

use assert_cmd::Command;
use serde_json::{Value, json};

fn formseal() -> Command {
    let mut cmd = Command::cargo_bin("formseal").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A listener on a free port of 127.0.0.1, and that port.
fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Serves `pages` (path → HTML) on `listener` until the test ends; anything else is a 404.
fn serve(listener: TcpListener, pages: &[(&str, String)]) {
    let pages: HashMap<String, String> = pages
        .iter()
        .map(|(path, html)| ((*path).to_owned(), html.clone()))
        .collect();
    thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let pages = pages.clone();
            thread::spawn(move || answer(stream, &pages));
        }
    });
}

/// Answers one request, then closes the connection.
fn answer(mut stream: TcpStream, pages: &HashMap<String, String>) {
    let mut request = Vec::new();
    let mut buf = [0; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split(' ').nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let (status, body) = match pages.get(path) {
        Some(html) => ("200 OK", html.as_str()),
        None => ("404 Not Found", ""),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A page whose script sets `_ga` and loads an image from `other` (a second origin) before
/// any consent.
fn leaky_page(other: u16) -> String {
    format!(
        "<!doctype html><title>leaky</title><script>\
         document.cookie = '_ga=GA1.1.1; path=/';\
         localStorage.setItem('formseal:pending:cookies', '{{}}');\
         new Image().src = 'http://127.0.0.1:{other}/pixel.gif';\
         </script>"
    )
}

/// Serves the leaky page and the second origin it calls; returns both ports (page, other).
fn leaky_site() -> (u16, u16) {
    let (other, other_port) = listen();
    serve(other, &[]);
    let (listener, port) = listen();
    serve(listener, &[("/", leaky_page(other_port))]);
    (port, other_port)
}

/// Runs `formseal scan ARGS` and returns its exit code, stdout and stderr.
fn scan(args: &[&str]) -> (i32, String, String) {
    let output = formseal().arg("scan").args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// `formseal scan --format json ARGS`'s exit code and report.
fn scan_json(args: &[&str]) -> (i32, Value) {
    let (code, stdout, stderr) = scan(&[&["--format", "json"], args].concat());
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (code, report)
}

/// The findings of `report` as (kind, name, purpose, needs_consent), in order.
fn findings(report: &Value, key: &str) -> Vec<(String, String, String, bool)> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["name"].as_str().unwrap().to_owned(),
                f["purpose"].as_str().unwrap().to_owned(),
                f["needs_consent"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn finding(kind: &str, name: &str, purpose: &str, needs: bool) -> (String, String, String, bool) {
    (kind.into(), name.into(), purpose.into(), needs)
}

#[test]
fn a_clean_page_has_nothing_to_report() {
    let (listener, port) = listen();
    serve(
        listener,
        &[("/", "<!doctype html><title>clean</title><p>Hello".into())],
    );
    let (code, stdout, stderr) = scan(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("nothing that needs consent happened before consent (1 page)"),
        "{stdout}"
    );
}

#[test]
fn a_cookie_and_a_request_to_another_origin_before_consent_fail_the_scan() {
    let (port, other_port) = leaky_site();
    let (code, stdout, stderr) = scan(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    let page = format!("http://127.0.0.1:{port}/");
    let other = format!("127.0.0.1:{other_port}");
    assert!(
        rows.contains(&vec!["cookie", "_ga", "unknown", "yes", &page]),
        "{stdout}"
    );
    assert!(
        rows.contains(&vec!["request", &other, "unknown", "yes", &page]),
        "{stdout}"
    );
    assert!(!stdout.contains("formseal:pending"), "{stdout}");
    assert!(stdout.contains("2 of 2 found before consent need consent"));
    assert!(
        stderr.starts_with("error: 2 things that need consent happened before consent\n\nhint: "),
        "{stderr}"
    );
}

#[test]
fn the_json_report_has_a_stable_shape() {
    let (port, other_port) = leaky_site();
    let page = format!("http://127.0.0.1:{port}/");
    let (code, report) = scan_json(&[&page]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        report,
        json!({
            "pages": [page],
            "findings": [
                {"kind": "cookie", "name": "_ga", "host": "127.0.0.1", "page": page,
                 "purpose": "unknown", "needs_consent": true},
                {"kind": "request", "name": format!("127.0.0.1:{other_port}"),
                 "host": format!("127.0.0.1:{other_port}"), "page": page,
                 "purpose": "unknown", "needs_consent": true},
            ],
            "findings_needing_consent": 2,
            "accept_all": null,
            "suggested_cookies": null,
        })
    );
}

#[test]
fn pages_follows_links_within_the_site_only() {
    let (other, other_port) = listen();
    serve(
        other,
        &[(
            "/away",
            "<script>localStorage.setItem('away', '1')</script>".into(),
        )],
    );
    let (listener, port) = listen();
    let first = format!(
        "<!doctype html><a href='http://127.0.0.1:{other_port}/away'>elsewhere</a>\
         <a href='/second#top'>second</a><a href='/'>home</a>"
    );
    let second = "<!doctype html><a href='/third'>third</a>\
                  <script>localStorage.setItem('theme', 'dark')</script>";
    serve(
        listener,
        &[
            ("/", first),
            ("/second", second.into()),
            (
                "/third",
                "<script>document.cookie = 'third=1'</script>".into(),
            ),
        ],
    );
    let start = format!("http://127.0.0.1:{port}/");
    let (code, report) = scan_json(&["--pages", "2", &start]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        report["pages"],
        json!([start, format!("http://127.0.0.1:{port}/second")])
    );
    assert_eq!(
        findings(&report, "findings"),
        [finding("localStorage", "theme", "unknown", true)]
    );
    assert_eq!(
        report["findings"][0]["page"],
        format!("http://127.0.0.1:{port}/second")
    );
}

/// The example banner config with `necessary` (legitimate interests) claiming `session`.
fn banner_config(dir: &Path) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/consent.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
    let necessary = config["purposes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["id"] == "necessary")
        .unwrap();
    necessary["cookies"] = json!(["session"]);
    let path = dir.join("consent.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_config_attributes_cookies_and_gated_hosts_to_their_purposes() {
    let dir = tempfile::tempdir().unwrap();
    let config = banner_config(dir.path());
    let (other, other_port) = listen();
    serve(other, &[]);
    let (listener, port) = listen();
    // The ad is gated, but the page's own script loads it anyway.
    let page = format!(
        "<!doctype html>\
         <img data-formseal-purpose='marketing' data-src='http://127.0.0.1:{other_port}/ad.gif'>\
         <script>\
         document.cookie = '_ga=GA1.1.1'; document.cookie = 'session=abc';\
         document.cookie = 'visitor_A1B2C3D4=1';\
         new Image().src = 'http://127.0.0.1:{other_port}/ad.gif';\
         </script>"
    );
    serve(listener, &[("/", page)]);
    let (code, report) = scan_json(&["--config", &config, &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 1, "{report}");
    let mut found = findings(&report, "findings");
    found.sort();
    assert_eq!(
        found,
        [
            finding("cookie", "_ga", "analytics", true),
            finding("cookie", "session", "necessary", false),
            finding("cookie", "visitor_A1B2C3D4", "unknown", true),
            finding(
                "request",
                &format!("127.0.0.1:{other_port}"),
                "marketing",
                true
            ),
        ]
    );
    assert_eq!(report["findings_needing_consent"], 3);
    assert_eq!(report["suggested_cookies"], json!(["visitor_*"]));
}

#[test]
fn a_cookie_of_a_purpose_without_consent_passes() {
    let dir = tempfile::tempdir().unwrap();
    let config = banner_config(dir.path());
    let (listener, port) = listen();
    serve(
        listener,
        &[(
            "/",
            "<script>document.cookie = 'session=abc'</script>".into(),
        )],
    );
    let (code, stdout, stderr) = scan(&["--config", &config, &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("session"), "{stdout}");
    assert!(stdout.contains("nothing that needs consent happened before consent"));
}

#[test]
fn accept_all_reports_what_each_purpose_brings() {
    let dir = tempfile::tempdir().unwrap();
    let config = banner_config(dir.path());
    let (other, other_port) = listen();
    serve(other, &[]);
    let (listener, port) = listen();
    // A stand-in for the loader: Accept all in the banner's shadow root stores the choice and
    // runs the gated script, which sets `_gid`.
    let page = format!(
        "<!doctype html><formseal-consent src='/cookies.json'></formseal-consent>\
         <script type='text/plain' data-formseal-purpose='analytics'\
           src='http://127.0.0.1:{other_port}/stats.js'></script>\
         <script>\
         const shadow = document.querySelector('formseal-consent').attachShadow({{mode: 'open'}});\
         const button = document.createElement('button');\
         button.dataset.action = 'accept-all';\
         button.onclick = () => {{\
           localStorage.setItem('formseal:pending:cookies', '{{}}');\
           document.cookie = '_gid=GA1.2.3';\
           const gated = document.querySelector('[data-formseal-purpose]');\
           const script = document.createElement('script');\
           script.src = gated.getAttribute('src');\
           gated.replaceWith(script);\
         }};\
         setTimeout(() => shadow.append(button), 100);\
         </script>"
    );
    serve(listener, &[("/", page)]);
    let start = format!("http://127.0.0.1:{port}/");
    let (code, report) = scan_json(&["--accept-all", "--config", &config, &start]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(findings(&report, "findings"), []);
    assert_eq!(
        findings(&report, "accept_all"),
        [
            finding("cookie", "_gid", "analytics", true),
            finding(
                "request",
                &format!("127.0.0.1:{other_port}"),
                "analytics",
                true
            ),
        ]
    );
}

#[test]
fn without_chromium_it_says_how_to_get_one() {
    let (code, stdout, stderr) = scan(&["--chromium", "/nonexistent", "http://127.0.0.1:9/"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("error: no Chromium found at /nonexistent\n\nhint: "),
        "{stderr}"
    );
    assert!(stderr.contains("apt-get install chromium"), "{stderr}");
    assert!(stderr.contains("--chromium PATH"), "{stderr}");
}
