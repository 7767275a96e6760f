//! The DevTools protocol client of `formseal scan`: starts the machine's Chromium headless in a
//! fresh profile, sends it commands and reads its answers and events as JSON over one WebSocket
//! on 127.0.0.1, and kills it when dropped. What a scan asks of the browser is `scan.rs`'s
//! business; this file knows only messages, and that every wait has a deadline.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use tempfile::TempDir;
use tungstenite::{Message, WebSocket};

use crate::shown;

/// The flags of every scan: headless, nothing of the browser's own on the network (updates,
/// sync, field trials), so that every request observed is the page's.
const FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A running Chromium and the one connection to it.
pub(crate) struct Browser {
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// Events read while waiting for the answer to a command, oldest first.
    events: VecDeque<Event>,
    /// How long a command may take to be answered.
    timeout: Duration,
    // Last: the connection closes before the process is killed and its profile removed.
    process: Process,
}

/// Something the browser announced (`Network.requestWillBeSent`), from the page or frame
/// attached as `session` (none: the browser itself).
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) method: String,
    pub(crate) session: Option<String>,
    pub(crate) params: Value,
}

/// The Chromium process and its profile, both gone when this is dropped, however the scan ends.
struct Process {
    child: Child,
    _profile: TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        // Already gone is fine; there is nobody to tell if it cannot be killed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Browser {
    /// Asks Chromium to close and gives it a moment: killed at once, its helper processes can
    /// still be writing into the profile as it is removed, and leave it behind.
    fn drop(&mut self) {
        if self.send(None, "Browser.close", json!({})).is_err() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while matches!(self.process.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One message from the browser.
enum Incoming {
    /// The answer to command `id`: its result, or Chromium's error message.
    Answer(u64, Result<Value, String>),
    Event(Event),
}

impl Browser {
    /// Starts `program` headless with an empty profile (a first-time visitor) and connects to
    /// it. `timeout` bounds the start and every command.
    pub(crate) fn launch(program: &Path, timeout: Duration) -> anyhow::Result<Self> {
        let profile = tempfile::Builder::new()
            .prefix("formseal-scan-")
            .tempdir()
            .context("cannot create a profile directory for Chromium")?;
        let mut child = Command::new(program)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start Chromium {}", shown(program)))?;
        let stderr = child.stderr.take();
        let process = Process {
            child,
            _profile: profile,
        };
        let endpoint = devtools_endpoint(stderr, timeout)
            .with_context(|| format!("Chromium {} did not start", shown(program)))?;
        let socket = connect(&endpoint, timeout)?;
        Ok(Self {
            socket,
            next_id: 0,
            events: VecDeque::new(),
            timeout,
            process,
        })
    }

    /// Sends `method` to `session` (or the browser) and waits for its result.
    pub(crate) fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Value> {
        let id = self.send(session, method, params)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.read(deadline)? {
                None => bail!(
                    "Chromium did not answer {method} within {} s",
                    self.timeout.as_secs()
                ),
                Some(Incoming::Answer(answered, result)) if answered == id => {
                    return result
                        .map_err(|message| anyhow!("Chromium refused {method}: {message}"));
                }
                // The answer to a command sent without waiting for it.
                Some(Incoming::Answer(..)) => {}
                Some(Incoming::Event(event)) => self.events.push_back(event),
            }
        }
    }

    /// Sends `method` without waiting for its answer (which is then ignored).
    pub(crate) fn send(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> anyhow::Result<u64> {
        self.next_id += 1;
        let mut message = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        self.socket
            .send(Message::text(message.to_string()))
            .context("lost the connection to Chromium")?;
        Ok(self.next_id)
    }

    /// The next event, or `None` when `deadline` passes first.
    pub(crate) fn next_event(&mut self, deadline: Instant) -> anyhow::Result<Option<Event>> {
        if let Some(event) = self.events.pop_front() {
            return Ok(Some(event));
        }
        loop {
            match self.read(deadline)? {
                None => return Ok(None),
                Some(Incoming::Event(event)) => return Ok(Some(event)),
                Some(Incoming::Answer(..)) => {}
            }
        }
    }

    /// The next message, or `None` when `deadline` passes first.
    fn read(&mut self, deadline: Instant) -> anyhow::Result<Option<Incoming>> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.socket.get_ref().set_read_timeout(Some(left))?;
            match self.socket.read() {
                Ok(Message::Text(text)) => return parse(&text).map(Some),
                Ok(_) => {}
                // A timed-out read leaves a partly read frame buffered for the next one.
                Err(tungstenite::Error::Io(err))
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(err) => {
                    return Err(anyhow::Error::new(err).context("lost the connection to Chromium"));
                }
            }
        }
    }
}

/// Reads Chromium's stderr until it says where DevTools listens, then keeps draining it (in a
/// thread) so that the browser never blocks on a full pipe.
fn devtools_endpoint(
    stderr: Option<impl io::Read + Send + 'static>,
    timeout: Duration,
) -> anyhow::Result<String> {
    let stderr = stderr.ok_or_else(|| anyhow!("no stderr to read"))?;
    let (found, endpoint) = mpsc::channel();
    thread::spawn(move || {
        let mut last = VecDeque::new();
        let mut found = Some(found);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                if let Some(found) = found.take() {
                    let _ = found.send(Ok(url.trim().to_owned()));
                }
            } else if found.is_some() {
                last.push_back(line);
                if last.len() > 5 {
                    last.pop_front();
                }
            }
        }
        // It exited (or closed stderr) without ever listening: its last words say why.
        if let Some(found) = found {
            let _ = found.send(Err(Vec::from(last).join("\n")));
        }
    });
    match endpoint.recv_timeout(timeout) {
        Ok(Ok(url)) => Ok(url),
        Ok(Err(last_words)) if last_words.is_empty() => bail!("it exited"),
        Ok(Err(last_words)) => bail!("it exited:\n{last_words}"),
        Err(_) => bail!("it did not open DevTools within {} s", timeout.as_secs()),
    }
}

/// Opens the WebSocket to `endpoint` (`ws://127.0.0.1:PORT/devtools/browser/ID`).
fn connect(endpoint: &str, timeout: Duration) -> anyhow::Result<WebSocket<TcpStream>> {
    let url = url::Url::parse(endpoint)
        .with_context(|| format!("Chromium gave an odd DevTools address: {endpoint}"))?;
    let address = url
        .socket_addrs(|| None)
        .ok()
        .and_then(|addrs| addrs.into_iter().next())
        .ok_or_else(|| anyhow!("Chromium gave an odd DevTools address: {endpoint}"))?;
    let stream = TcpStream::connect_timeout(&address, timeout)
        .with_context(|| format!("cannot connect to Chromium's DevTools at {endpoint}"))?;
    stream.set_read_timeout(Some(timeout))?;
    let (socket, _) = tungstenite::client(endpoint, stream)
        .map_err(|err| anyhow!("cannot open Chromium's DevTools at {endpoint}: {err}"))?;
    Ok(socket)
}

/// A message as the protocol frames it: `{id, result | error}` or `{method, params, sessionId?}`.
fn parse(text: &str) -> anyhow::Result<Incoming> {
    let mut message: Value =
        serde_json::from_str(text).context("Chromium sent a message that is not JSON")?;
    if let Some(id) = message["id"].as_u64() {
        let result = match message.get("error") {
            Some(error) => Err(error["message"].as_str().unwrap_or("no reason").to_owned()),
            None => Ok(message["result"].take()),
        };
        return Ok(Incoming::Answer(id, result));
    }
    Ok(Incoming::Event(Event {
        method: message["method"].as_str().unwrap_or_default().to_owned(),
        session: message["sessionId"].as_str().map(str::to_owned),
        params: message["params"].take(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_events_are_told_apart() {
        let Incoming::Answer(7, Ok(result)) = parse(r#"{"id":7,"result":{"a":1}}"#).unwrap() else {
            panic!("not an answer");
        };
        assert_eq!(result, json!({"a": 1}));
        let Incoming::Answer(8, Err(message)) =
            parse(r#"{"id":8,"error":{"code":-32000,"message":"No target"}}"#).unwrap()
        else {
            panic!("not a refusal");
        };
        assert_eq!(message, "No target");
        let Incoming::Event(event) =
            parse(r#"{"method":"Page.loadEventFired","sessionId":"S","params":{}}"#).unwrap()
        else {
            panic!("not an event");
        };
        assert_eq!(
            (event.method.as_str(), event.session.as_deref()),
            ("Page.loadEventFired", Some("S"))
        );
    }
}
