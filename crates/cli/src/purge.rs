//! `formseal purge`: deletes the envelopes whose retention date has passed, without decrypting
//! anything (the date is in each envelope's protected header and was stored with it), and logs
//! how many in the audit log. `formseal serve --purge-every` runs the same deletion on a timer.

use formseal_cli::serve::{self, store::Database};

use crate::audit::{self, Actor};

/// Delete expired envelopes from the collector's database, without decrypting them.
///
/// An envelope expires on the retention date in its protected header: the day it was made plus
/// the longest retention of the purposes whose fields it carries. Deletes every envelope whose
/// date is today (UTC) or earlier, appends the count to the audit log and prints it on stdout.
/// Envelopes stored before the collector recorded retention dates are kept and counted.
///
/// Also deletes every double opt-in sign-up that `formseal confirm` mailed and that was not
/// confirmed within its purpose's confirm_within_days.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal purge --db collector.sqlite --dry-run
  formseal purge --db collector.sqlite --actor dpo@shop.example")]
pub(crate) struct Args {
    /// The collector's store: its SQLite file or its postgres:// URL.
    #[arg(long, value_name = "collector.sqlite|postgres://...")]
    db: Database,

    /// Only count what would be deleted.
    #[arg(long)]
    dry_run: bool,

    #[command(flatten)]
    actor: Actor,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let store = audit::open_store(&args.db)?;
    let today = serve::today();
    let found = store.expired(today)?;
    let what =
        format!("retention date on or before {today}, or a double opt-in unconfirmed on {today}");
    let deleted = if args.dry_run {
        eprintln!(
            "would delete {} expired envelope{} (retention date on or before {today}) and {} \
             unconfirmed sign-up{} (not confirmed in time); nothing deleted",
            found.expired,
            plural(found.expired),
            found.unconfirmed,
            plural(found.unconfirmed)
        );
        found.expired + found.unconfirmed
    } else {
        let entry = args.actor.entry("purge", 0, what);
        let deleted = store.purge(today, &entry)?;
        eprintln!(
            "deleted {deleted} envelope{}: expired (retention date on or before {today}) or \
             unconfirmed sign-ups not confirmed in time",
            plural(deleted)
        );
        deleted
    };
    if found.undated > 0 {
        eprintln!(
            "kept {} envelope{} without a retention date (stored before formseal recorded one); \
             decrypt and review them",
            found.undated,
            plural(found.undated)
        );
    }
    println!("{deleted}");
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
