//! `formseal decrypt`: opens sealed envelopes, one per line, with the private key and writes one
//! JSON record per line. A record that cannot be opened is reported with its line number and
//! skipped; the others still come out. Key material never appears in any output.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use formseal_core::Error;
use formseal_core::envelope::Envelope;
use formseal_core::keys::PrivateKey;

use crate::{Hinted, read_text, shown};

/// Decrypt sealed submissions into JSON lines.
///
/// Reads envelopes (JWE, compact or JSON serialization), one per line, from FILE or stdin;
/// blank lines are skipped. Writes each opened record as one JSON object per line on stdout.
/// A line that cannot be opened (another key, altered or damaged data) is reported on stderr
/// with its line number and skipped; the exit status is then 1.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal decrypt --key keys/private.pem sealed.jwe > records.jsonl
  formseal decrypt --key keys/private.pem < sealed.jwe")]
pub(crate) struct Args {
    /// The private key (PKCS#8 PEM, as written by `formseal keygen`).
    #[arg(long, value_name = "private.pem")]
    key: PathBuf,

    /// File of sealed envelopes, one per line; `-` or nothing reads stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    input: PathBuf,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let key = load_key(&args.key)?;
    let input: Box<dyn BufRead> = if args.input == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        let file = File::open(&args.input)
            .with_context(|| format!("cannot open {}", shown(&args.input)))?;
        Box::new(BufReader::new(file))
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let tally = decrypt_lines(input, &key, &mut out)?;
    out.flush().context("cannot write to stdout")?;

    if tally.failed == 0 {
        eprintln!(
            "opened {} of {} record{}",
            tally.opened,
            tally.total(),
            plural(tally.total())
        );
        return Ok(());
    }
    let message = format!(
        "opened {} of {} record{}; {} failed",
        tally.opened,
        tally.total(),
        plural(tally.total()),
        tally.failed
    );
    if tally.other_key > 0 {
        return Err(Hinted::error(
            message,
            format!(
                "{} record{} sealed to another key; this key's id is {}",
                tally.other_key,
                if tally.other_key == 1 {
                    " was"
                } else {
                    "s were"
                },
                key.kid()
            ),
        ));
    }
    Err(anyhow!(message))
}

/// How many records were opened and how many failed.
#[derive(Debug, Default)]
struct Tally {
    opened: usize,
    failed: usize,
    /// Of the failed ones: sealed to a key we do not hold.
    other_key: usize,
}

impl Tally {
    fn total(&self) -> usize {
        self.opened + self.failed
    }
}

/// Opens every non-blank line of `input`, one at a time so files of any size stream through.
fn decrypt_lines(
    mut input: impl BufRead,
    key: &PrivateKey,
    out: &mut impl Write,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let mut buffer = Vec::new();
    let mut number = 0usize;
    loop {
        buffer.clear();
        let read = input
            .read_until(b'\n', &mut buffer)
            .context("cannot read the input")?;
        if read == 0 {
            return Ok(tally);
        }
        number += 1;
        let Ok(line) = std::str::from_utf8(&buffer) else {
            tally.failed += 1;
            eprintln!("line {number}: not a sealed envelope (the line is not UTF-8 text)");
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match Envelope::open(line, key) {
            Ok(envelope) => {
                serde_json::to_writer(&mut *out, &envelope).context("cannot write to stdout")?;
                out.write_all(b"\n").context("cannot write to stdout")?;
                tally.opened += 1;
            }
            Err(err) => {
                tally.failed += 1;
                if matches!(err, Error::NoRecipient { .. }) {
                    tally.other_key += 1;
                    eprintln!("line {number}: cannot open envelope: sealed to another key");
                } else {
                    eprintln!("line {number}: {err}");
                }
            }
        }
    }
}

/// Reads the private key. Errors name the file and what is wrong, never its content.
fn load_key(path: &Path) -> anyhow::Result<PrivateKey> {
    let mut text = read_text(path, "private key")?;
    let key = PrivateKey::from_pkcs8_pem(&text);
    wipe(&mut text);
    key.map_err(|err| {
        anyhow::Error::new(err).context(Hinted::context(
            format!("{} is not a PKCS#8 RSA private key", shown(path)),
            "give the private.pem written by `formseal keygen`",
        ))
    })
}

/// Overwrites the PEM text before it is freed, so the key does not linger in released memory.
fn wipe(text: &mut String) {
    let mut bytes = std::mem::take(text).into_bytes();
    bytes.fill(0);
    // Keep the compiler from dropping the writes as dead stores.
    std::hint::black_box(&bytes);
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
