//! The `formseal` command for the data team: parses the command line, runs one command and turns
//! its outcome into an exit status. What each command does lives in its own file; this one only
//! dispatches and prints errors (`error: ...`, then `hint: ...` after a blank line) on stderr.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod audit;
mod backup;
mod check;
mod confirm;
mod consent_log;
mod crm;
mod decrypt;
mod embed;
mod export;
mod files;
mod key;
mod keygen;
mod passphrase;
mod progress;
mod purge;
mod requests;
mod scan;
mod schema;
mod seal;
mod shares;
mod spool;
mod subject;
mod table;
mod webhook;

use formseal_cli::serve;

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

const AFTER_HELP: &str = "\
Examples:
  formseal keygen --out keys/
  formseal keygen --out keys/ --shares 5 --threshold 3
  formseal key recover --out private.pem share-1-of-5.txt share-3-of-5.txt share-4-of-5.txt
  formseal key check --key keys/private.pem --form form.json
  formseal check form.json
  formseal schema > formseal-config.schema.json
  formseal seal --form form.json --consent personalisation < answers.json > sealed.jwe
  formseal decrypt --key keys/private.pem sealed.jwe > records.jsonl
  formseal serve --form form.json --allow-origin https://shop.example
  formseal embed form.json --pkg pkg
  formseal export --format csv --key keys/private.pem --db collector.sqlite --form form.json
  formseal confirm --db collector.sqlite --key keys/private.pem --form form.json --smtp smtps://mailer@smtp.shop.example --from news@shop.example
  formseal purge --db collector.sqlite --dry-run
  formseal audit --db collector.sqlite
  formseal webhook dead-letters --db collector.sqlite
  formseal requests --db collector.sqlite --key keys/private.pem
  formseal subject SUBJECT-ID --db collector.sqlite --key keys/private.pem --export subject.json
  formseal erase --subject SUBJECT-ID --db collector.sqlite --key keys/private.pem
  formseal consent-log --key keys/private.pem --db collector.sqlite --format csv
  formseal backup --db collector.sqlite --out backup.sqlite
  formseal scan https://shop.example/ --pages 20 --config consent.json

Exit status: 0 when everything worked; 1 when problems were found, some records could not be
opened, or anything else failed; 2 when the command line itself is wrong.";

/// Keys, form checks, the collector and offline decryption for formseal, the kit that encrypts
/// every form submission in the visitor's browser.
///
/// Submissions arrive as sealed envelopes (JWE) that only the holder of the private key can
/// open. Generate that key with `keygen`, check a form config with `check`, try a form with
/// `seal`, collect envelopes with `serve`, read them with `decrypt`, hand them to a CRM with
/// `export` and the history of each visitor's consent to an auditor with `consent-log`, and copy
/// the collector's store with `backup` and `restore`. `purge` deletes what has outlived its
/// retention; `audit` shows who did what. `requests` lists open privacy requests, `subject`
/// exports one visitor's records and `erase` deletes them. `scan` opens a site as a new visitor
/// and reports what it stores and requests before consent.
#[derive(Debug, Parser)]
#[command(name = "formseal", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Keygen(keygen::Args),
    Key(key::Args),
    Check(check::Args),
    Schema(schema::Args),
    Seal(seal::Args),
    Embed(embed::Args),
    Decrypt(decrypt::Args),
    Serve(serve::Args),
    Export(export::Args),
    Confirm(confirm::Args),
    Purge(purge::Args),
    Audit(audit::Args),
    Webhook(webhook::Args),
    Requests(requests::Args),
    Subject(subject::SubjectArgs),
    Erase(subject::EraseArgs),
    ConsentLog(consent_log::Args),
    Backup(backup::BackupArgs),
    Restore(backup::RestoreArgs),
    Scan(scan::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Key(args) => key::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Seal(args) => seal::run(&args),
        Command::Embed(args) => embed::run(&args),
        Command::Decrypt(args) => decrypt::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Confirm(args) => confirm::run(&args),
        Command::Purge(args) => purge::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Webhook(args) => webhook::run(&args),
        Command::Requests(args) => requests::run(&args),
        Command::Subject(args) => subject::run_subject(&args),
        Command::Erase(args) => subject::run_erase(&args),
        Command::ConsentLog(args) => consent_log::run(&args),
        Command::Backup(args) => backup::backup(&args),
        Command::Restore(args) => backup::restore(&args),
        Command::Scan(args) => scan::run(&args),
    }
}

/// A failure the user can do something about: its message, and what to do next.
///
/// Attach it as the innermost error; [`report`] prints the whole chain, then the hint.
#[derive(Debug)]
pub(crate) struct Hinted {
    message: String,
    hint: String,
}

impl Hinted {
    /// An error with a `hint:` line.
    pub(crate) fn error(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Self::context(message, hint))
    }

    /// The same, to put around a lower-level error with `anyhow::Error::context`.
    pub(crate) fn context(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

/// Prints `error: <chain>` and, when some error in the chain carries one, a blank line and
/// `hint: ...`, all on stderr.
fn report(err: &anyhow::Error) {
    let color = use_color();
    let (red, yellow, reset) = if color {
        ("\x1b[1;31m", "\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let mut stderr = io::stderr().lock();
    // If stderr is gone there is nobody left to tell.
    let _ = writeln!(stderr, "{red}error:{reset} {err:#}");
    // `downcast_ref` finds a `Hinted` whether it is the root cause or a context layer.
    if let Some(hinted) = err.downcast_ref::<Hinted>() {
        let _ = writeln!(stderr, "\n{yellow}hint:{reset} {}", hinted.hint);
    }
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to anything non-empty.
pub(crate) fn use_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && io::stderr().is_terminal()
}

/// `formseal decrypt ... | head` closes the pipe early; that is not an error worth reporting.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// How a path is shown in messages: as the user typed it.
pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Reads a whole text file, naming it in the error.
pub(crate) fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot read {what} {}", shown(path))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
