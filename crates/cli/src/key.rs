//! `formseal key`: what to do with a private key besides decrypting. `recover` rebuilds a lost
//! private.pem from the recovery shares `keygen --shares` wrote; `check` says whether a key
//! opens what a form seals, before a campaign starts rather than after.

use std::path::PathBuf;

use anyhow::Context;
use formseal_core::config::FormConfig;
use formseal_core::jwe;
use serde_json::Map;

use crate::passphrase::KeyArgs;
use crate::{Hinted, keygen, read_text, shares, shown};

/// Rebuild a private key from its recovery shares, or check a key against a form.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Recover(RecoverArgs),
    Check(CheckArgs),
}

/// Rebuild private.pem from any THRESHOLD of the share files `keygen --shares` wrote.
///
/// Every share is checked first (its checksum, its key id, the number of shares needed); the
/// rebuilt file must match the SHA-256 the shares carry. It is written readable by its owner
/// only and never over an existing file. Nothing is written when anything does not match.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  formseal key recover --out keys/private.pem share-1-of-5.txt share-4-of-5.txt share-5-of-5.txt")]
pub(crate) struct RecoverArgs {
    /// Where to write the rebuilt private key (must not exist yet).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// The share files (at least the threshold each names).
    #[arg(required = true, value_name = "SHARE")]
    shares: Vec<PathBuf>,
}

/// Check that a private key opens what a form seals: its kid is among the form's recipients,
/// and an envelope sealed to the form's keys opens with it.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  formseal key check --key keys/private.pem --form forms/newsletter.json")]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    key: KeyArgs,

    /// The form config whose recipients the key should match.
    #[arg(long, value_name = "FORM.json")]
    form: PathBuf,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    match &args.command {
        Command::Recover(args) => recover(args),
        Command::Check(args) => check(args),
    }
}

fn recover(args: &RecoverArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        return Err(Hinted::error(
            format!(
                "{} already exists; refusing to overwrite a key",
                shown(&args.out)
            ),
            "give --out a path that does not exist yet",
        ));
    }
    let (kid, pem) = shares::recover(&args.shares)?;
    keygen::write_new(&args.out, pem.as_bytes(), 0o600)?;
    println!("{kid}");
    eprintln!(
        "rebuilt the private key {kid} from {} share file(s) into {} (readable only by you)",
        args.shares.len(),
        shown(&args.out)
    );
    Ok(())
}

fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let key = args.key.load()?;
    let text = read_text(&args.form, "form config")?;
    let config = FormConfig::from_json(&text).map_err(|err| {
        anyhow::Error::new(err).context(Hinted::context(
            format!("{} is not a valid form config", shown(&args.form)),
            format!(
                "run `formseal check {}` for every problem",
                shown(&args.form)
            ),
        ))
    })?;
    let recipients = config
        .recipient_keys()
        .context("cannot read the form's recipient keys")?;
    let kids: Vec<&str> = recipients.iter().map(|r| r.kid()).collect();
    let Some(position) = kids.iter().position(|kid| *kid == key.kid()) else {
        return Err(Hinted::error(
            format!(
                "the key {} ({}) does not open what form \"{}\" version {} seals: its \
                 recipients are {}",
                key.kid(),
                shown(args.key.path()),
                config.id,
                config.version,
                kids.join(", ")
            ),
            "use the private key whose public JWK is in the form's \"recipients\", or add this \
             key's public.jwk.json there",
        ));
    };
    // The same sealing the form's envelopes get, opened with the key: proves more than a kid.
    let probe = b"formseal key check";
    let sealed = jwe::seal(probe, &Map::new(), &recipients, &mut getrandom::SysRng)
        .context("cannot seal a test envelope to the form's keys")?;
    let opened = jwe::open(&sealed, &key).context("the key did not open a test envelope")?;
    if opened.plaintext != probe {
        anyhow::bail!("the key opened a test envelope to the wrong plaintext");
    }
    println!(
        "ok: the key {} opens what form \"{}\" version {} seals (recipient {} of {})",
        key.kid(),
        config.id,
        config.version,
        position + 1,
        kids.len()
    );
    Ok(())
}
