//! Passphrases of encrypted private keys: where `keygen --passphrase` gets a new one and where
//! `decrypt`/`export` get the one a key needs — a file, the `FORMSEAL_PASSPHRASE` variable (for
//! scripts), or a prompt on the terminal that does not echo. Never a command-line argument: those
//! show up in process lists and shell history.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use formseal_core::keys::{self, PrivateKey};
use zeroize::Zeroizing;

use crate::{Hinted, read_text, shown};

/// The environment variable a script can set instead of `--passphrase-file`.
pub(crate) const ENV: &str = "FORMSEAL_PASSPHRASE";

/// The shortest passphrase `keygen` accepts for a new key.
const MIN_LEN: usize = 8;

/// The private key to open envelopes with, and its passphrase when it is encrypted.
#[derive(Debug, clap::Args)]
pub(crate) struct KeyArgs {
    /// The private key (PKCS#8 PEM, as written by `formseal keygen`; encrypted or not).
    #[arg(long, value_name = "private.pem")]
    key: PathBuf,

    /// For an encrypted key: a file whose first line is its passphrase [default: the
    /// FORMSEAL_PASSPHRASE variable, else a prompt on the terminal].
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The key file, as given.
    pub(crate) fn path(&self) -> &Path {
        &self.key
    }

    /// Reads the key, asking for its passphrase when it is encrypted. Errors name the file and
    /// what is wrong, never its content.
    pub(crate) fn load(&self) -> anyhow::Result<PrivateKey> {
        let path = &self.key;
        let text = Zeroizing::new(read_text(path, "private key")?);
        if !keys::is_encrypted_pem(&text) {
            return PrivateKey::from_pkcs8_pem(&text).map_err(|err| {
                anyhow::Error::new(err).context(Hinted::context(
                    format!("{} is not a PKCS#8 RSA private key", shown(path)),
                    "give the private.pem written by `formseal keygen`",
                ))
            });
        }
        let passphrase = existing(self.passphrase_file.as_deref(), path)?;
        PrivateKey::from_encrypted_pkcs8_pem(&text, passphrase.as_bytes()).map_err(|err| {
            let hint = match err {
                formseal_core::Error::Passphrase => {
                    "check the passphrase (from --passphrase-file, FORMSEAL_PASSPHRASE or the \
                     prompt, in that order)"
                }
                _ => "give the private.pem written by `formseal keygen`",
            };
            anyhow::Error::new(err).context(Hinted::context(
                format!("cannot open the private key {}", shown(path)),
                hint,
            ))
        })
    }
}

/// The passphrase of the encrypted key at `key`: from `file`, else the environment, else the
/// terminal.
fn existing(file: Option<&Path>, key: &Path) -> anyhow::Result<Zeroizing<String>> {
    if let Some(file) = file {
        return from_file(file);
    }
    if let Some(value) = from_env() {
        return Ok(value);
    }
    prompt(&format!("passphrase for {}: ", shown(key))).map_err(|err| {
        err.context(Hinted::context(
            format!("{} is encrypted and no passphrase was given", shown(key)),
            format!("give --passphrase-file FILE or set {ENV}, or run it on a terminal"),
        ))
    })
}

/// A passphrase for a new key: from `file`, else the environment, else asked twice on the
/// terminal. At least [`MIN_LEN`] characters.
pub(crate) fn new(file: Option<&Path>) -> anyhow::Result<Zeroizing<String>> {
    let passphrase = match (file, from_env()) {
        (Some(file), _) => from_file(file)?,
        (None, Some(value)) => value,
        (None, None) => {
            let first = prompt("passphrase for the new private key: ").map_err(|err| {
                err.context(Hinted::context(
                    "no passphrase was given for the new key",
                    format!("give --passphrase-file FILE or set {ENV}, or run it on a terminal"),
                ))
            })?;
            let second = prompt("the same passphrase again: ")?;
            if first != second {
                return Err(Hinted::error(
                    "the two passphrases differ; no key was written",
                    "run it again and type the same passphrase twice",
                ));
            }
            first
        }
    };
    if passphrase.chars().count() < MIN_LEN {
        return Err(Hinted::error(
            format!("the passphrase is shorter than {MIN_LEN} characters"),
            "choose a longer one, e.g. a few unrelated words",
        ));
    }
    Ok(passphrase)
}

/// The first line of `file`, without its line ending.
fn from_file(file: &Path) -> anyhow::Result<Zeroizing<String>> {
    let text = Zeroizing::new(read_text(file, "passphrase file")?);
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(anyhow!("the passphrase file {} is empty", shown(file)));
    }
    Ok(Zeroizing::new(line.to_string()))
}

fn from_env() -> Option<Zeroizing<String>> {
    std::env::var(ENV)
        .ok()
        .filter(|value| !value.is_empty())
        .map(Zeroizing::new)
}

/// Asks on the terminal (`/dev/tty`, so it works while stdin is a pipe) without echo.
fn prompt(question: &str) -> anyhow::Result<Zeroizing<String>> {
    rpassword::prompt_password(question)
        .map(Zeroizing::new)
        .context("cannot ask on the terminal")
}
