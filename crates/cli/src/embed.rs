//! `formseal embed`: prints the snippet a site owner pastes into a page — the widget's module
//! script with its Subresource Integrity hash, and the placeholder element pinned to the form's
//! key id. It reads the built widget in `pkg/` and the form config; it builds nothing itself.

use std::path::{Path, PathBuf};

use formseal_core::embed::{self, Snippet, entry_for, snippet};

use crate::check;
use crate::{Hinted, shown};

/// Print the HTML snippet that embeds a form or a consent banner in a page.
///
/// The script tag names the build that renders the config — `formseal-signup.js` for sign-up,
/// contact and privacy-request forms, `formseal-survey.js` for surveys and forms with survey
/// features, `formseal-loader.js` for a consent banner (it pins the consent build in turn, and
/// a banner that maps Google Consent Mode gets `formseal-consent-mode.js` first, a classic
/// script that must come before the site's own tags) —
/// and carries `integrity="sha384-..."` of that file, so a browser refuses a
/// tampered copy; the `<formseal-form>` (or `<formseal-consent>`) element pins the key id of
/// the config's first recipient, so the widget refuses a config whose key was swapped.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal embed forms/newsletter.json
  formseal embed forms/newsletter.json --pkg pkg --base-url https://cdn.shop.example/formseal/

Build pkg/ first with `cargo xtask wasm`. Serve the form config at --form-url (the collector
serves every --form it accepts at /forms/<id>.json).")]
pub(crate) struct Args {
    /// The form config (JSON) to embed.
    #[arg(value_name = "FORM.json")]
    form: PathBuf,

    /// The built widget (the output of `cargo xtask wasm`).
    #[arg(long, value_name = "DIR", default_value = "pkg")]
    pkg: PathBuf,

    /// Where the page loads the widget's files from.
    #[arg(long, value_name = "URL", default_value = "/pkg/")]
    base_url: String,

    /// Where the page loads the form config from [default: /forms/<id>.json].
    #[arg(long, value_name = "URL")]
    form_url: Option<String>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let config = check::load(&args.form)?;
    let keys = config.recipient_keys().map_err(|e| {
        anyhow::Error::new(e).context(Hinted::context(
            format!("{} has no usable recipient key", shown(&args.form)),
            format!("run `formseal check {}`", shown(&args.form)),
        ))
    })?;
    // `recipient_keys` refuses an empty list, so there is a first key.
    let kid = keys
        .first()
        .map(|key| key.kid().to_owned())
        .unwrap_or_default();
    let (entry, element) = entry_for(&config);
    let integrity = integrity(&args.pkg.join(entry))?;
    let form_url = args
        .form_url
        .clone()
        .unwrap_or_else(|| format!("/forms/{}.json", config.id));
    let base = args.base_url.trim_end_matches('/');
    let consent_mode = embed::consent_mode_of(&config);
    let early = match &consent_mode {
        Some(mode) => Some((
            format!("{base}/{}", embed::CONSENT_MODE_ENTRY),
            self::integrity(&args.pkg.join(embed::CONSENT_MODE_ENTRY))?,
            mode,
        )),
        None => None,
    };
    print!(
        "{}",
        snippet(&Snippet {
            script_url: &format!("{base}/{entry}"),
            element,
            integrity: &integrity,
            form_url: &form_url,
            kid: &kid,
            consent_mode: early.as_ref().map(|(url, integrity, mode)| (
                url.as_str(),
                integrity.as_str(),
                *mode
            )),
        })
    );
    Ok(())
}

/// `sha384-<base64>` of the file, the Subresource Integrity form browsers check.
fn integrity(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        anyhow::Error::new(e).context(Hinted::context(
            format!("cannot read the built widget {}", shown(path)),
            "run `cargo xtask wasm` to build pkg/, or point --pkg at the built widget",
        ))
    })?;
    Ok(embed::integrity(&bytes))
}
