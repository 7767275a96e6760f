//! `formseal keygen`: makes the company's RSA key pair, writes the private key readable by its
//! owner only and the public JWK for form configs, and prints the key id. It never overwrites
//! an existing key: losing a private key means losing every submission sealed to it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use formseal_core::keys::{MAX_RSA_BITS, MIN_RSA_BITS, PrivateKey};

use crate::shares::{self, Split};
use crate::{Hinted, passphrase, shown};

/// The file the private key is written to, inside `--out`.
pub(crate) const PRIVATE_FILE: &str = "private.pem";

/// The file the public JWK is written to, inside `--out`.
pub(crate) const PUBLIC_FILE: &str = "public.jwk.json";

/// Generate the key pair that submissions are encrypted to.
///
/// Writes DIR/private.pem (PKCS#8 PEM, readable only by you: keep it secret and backed up,
/// without it no submission can be read) and DIR/public.jwk.json (goes into the form config's
/// "recipients"). Prints the key id (kid) on stdout. Refuses to overwrite an existing key.
///
/// With --passphrase the private key is encrypted (PKCS#8 with scrypt and AES-256-CBC); the
/// passphrase comes from --passphrase-file, else the FORMSEAL_PASSPHRASE variable, else it is
/// asked twice on the terminal. `decrypt` and `export` then ask for it the same way.
///
/// With --shares N --threshold K it also writes N recovery shares (DIR/share-1-of-N.txt...):
/// hand each to another person or safe; any K of them rebuild private.pem with `formseal key
/// recover`, fewer reveal nothing of it.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal keygen --out keys/
  formseal keygen --out keys/ --passphrase
  formseal keygen --out keys/ --passphrase-file passphrase.txt
  formseal keygen --out keys/ --shares 5 --threshold 3")]
pub(crate) struct Args {
    /// Directory to write the key pair to; created if it does not exist.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Size of the RSA key in bits (2048 to 8192).
    #[arg(long, default_value_t = 3072, value_name = "BITS", value_parser = parse_bits)]
    bits: usize,

    /// Encrypt the private key with a passphrase (asked twice on the terminal).
    #[arg(long)]
    passphrase: bool,

    /// Encrypt the private key with the passphrase on this file's first line.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,

    /// Also write this many recovery shares of the private key (2 to 255).
    #[arg(long, value_name = "N", requires = "threshold", value_parser = clap::value_parser!(u8).range(2..=i64::from(shares::MAX_SHARES)))]
    shares: Option<u8>,

    /// How many of the recovery shares rebuild the key (2 to --shares).
    #[arg(long, value_name = "K", requires = "shares")]
    threshold: Option<u8>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let private_path = args.out.join(PRIVATE_FILE);
    let public_path = args.out.join(PUBLIC_FILE);
    let split = match (args.shares, args.threshold) {
        (Some(n), Some(k)) => Some(Split::new(n, k)?),
        _ => None,
    };
    let share_paths: Vec<PathBuf> = split
        .map(|split| {
            split
                .file_names()
                .iter()
                .map(|name| args.out.join(name))
                .collect()
        })
        .unwrap_or_default();
    // Check before the slow generation, and again (create_new) when writing.
    for path in [&private_path, &public_path]
        .into_iter()
        .chain(&share_paths)
    {
        if path.exists() {
            return Err(already_there(path));
        }
    }
    // Ask before the slow generation, so a mistyped passphrase costs nothing.
    let passphrase = if args.passphrase || args.passphrase_file.is_some() {
        Some(passphrase::new(args.passphrase_file.as_deref())?)
    } else {
        None
    };
    create_private_dir(&args.out)?;

    eprintln!(
        "generating a {}-bit RSA key (this takes a few seconds)…",
        args.bits
    );
    let key = PrivateKey::generate(args.bits, &mut getrandom::SysRng)
        .context("cannot generate the key")?;
    let pem = match &passphrase {
        Some(passphrase) => key
            .to_encrypted_pkcs8_pem(passphrase.as_bytes(), &mut getrandom::SysRng)
            .context("cannot encrypt the private key")?,
        None => key
            .to_pkcs8_pem()
            .context("cannot encode the private key")?,
    };
    let mut jwk = serde_json::to_string_pretty(&key.public().to_jwk())
        .context("cannot encode the public key")?;
    jwk.push('\n');

    write_new(&private_path, pem.as_bytes(), 0o600)?;
    write_new(&public_path, jwk.as_bytes(), 0o644)?;
    if let Some(split) = split {
        for (path, text) in share_paths.iter().zip(split.share_texts(&pem, key.kid())) {
            write_new(path, text.as_bytes(), 0o600)?;
        }
        eprintln!(
            "wrote {} recovery shares ({} … {}); any {} of them rebuild the private key with \
             `formseal key recover`: give each to a different person or safe",
            split.shares,
            share_paths.first().map(|p| shown(p)).unwrap_or_default(),
            share_paths.last().map(|p| shown(p)).unwrap_or_default(),
            split.threshold
        );
    }

    println!("{}", key.kid());
    eprintln!(
        "wrote {}{} (secret: keep it safe and backed up) and {} (put it in the form config's \"recipients\")",
        shown(&private_path),
        if passphrase.is_some() {
            ", encrypted with the passphrase"
        } else {
            ""
        },
        shown(&public_path)
    );
    Ok(())
}

fn parse_bits(s: &str) -> Result<usize, String> {
    let bits: usize = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "{bits}-bit keys are too weak; use at least {MIN_RSA_BITS} (3072 is the default)"
        ));
    }
    if bits > MAX_RSA_BITS {
        return Err(format!(
            "{bits}-bit keys are larger than formseal accepts; use at most {MAX_RSA_BITS}"
        ));
    }
    Ok(bits)
}

fn already_there(path: &Path) -> anyhow::Error {
    Hinted::error(
        format!(
            "{} already exists; refusing to overwrite a key",
            shown(path)
        ),
        "choose another --out directory, or delete the old key deliberately if no submission \
         sealed to it is still needed",
    )
}

/// Creates the directory (owner-only on unix) if it does not exist yet.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create directory {}", shown(dir)))
}

/// Writes a file that must not exist yet, created with `mode` on unix so a private key is never
/// readable by others, not even for a moment.
pub(crate) fn write_new(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file: File = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(already_there(path)),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("cannot create {}", shown(path))));
        }
    };
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", shown(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_outside_the_accepted_range_are_refused() {
        assert_eq!(parse_bits("3072"), Ok(3072));
        assert!(parse_bits("1024").unwrap_err().contains("too weak"));
        assert!(parse_bits("16384").unwrap_err().contains("at most 8192"));
        assert!(parse_bits("lots").is_err());
    }
}
