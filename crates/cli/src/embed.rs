//! `formseal embed`: prints the snippet a site owner pastes into a page — the widget's module
//! script with its Subresource Integrity hash, and the placeholder element pinned to the form's
//! key id. It reads the built widget in `pkg/` and the form config; it builds nothing itself.

use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha384};

use formseal_core::config::FormKind;

use crate::check;
use crate::{Hinted, shown};

/// The widget's entry module inside `pkg/`; a page with a form loads only this, it fetches the
/// wasm.
const ENTRY: &str = "formseal.js";

/// The consent loader inside `pkg/`: a page with a banner loads only this; it applies a stored
/// choice itself and loads the widget only when the banner or the settings must be shown.
const CONSENT_ENTRY: &str = "formseal-loader.js";

/// Print the HTML snippet that embeds a form or a consent banner in a page.
///
/// The script tag carries `integrity="sha384-..."` of the built `formseal.js` (for a consent
/// banner: of `formseal-loader.js`, which pins the widget in turn), so a browser refuses a
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
    let (entry, element) = if config.kind == FormKind::Consent {
        (CONSENT_ENTRY, "formseal-consent")
    } else {
        (ENTRY, "formseal-form")
    };
    let integrity = integrity(&args.pkg.join(entry))?;
    let form_url = args
        .form_url
        .clone()
        .unwrap_or_else(|| format!("/forms/{}.json", config.id));
    print!(
        "{}",
        snippet(&Snippet {
            script_url: &format!("{}/{entry}", args.base_url.trim_end_matches('/')),
            element,
            integrity: &integrity,
            form_url: &form_url,
            kid: &kid,
        })
    );
    Ok(())
}

/// What goes into the snippet.
struct Snippet<'a> {
    script_url: &'a str,
    element: &'a str,
    integrity: &'a str,
    form_url: &'a str,
    kid: &'a str,
}

/// The two lines to paste, each attribute value HTML-escaped.
fn snippet(s: &Snippet<'_>) -> String {
    format!(
        "<script type=\"module\" src=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\"></script>\n\
         <{element} src=\"{}\" key-id=\"{}\"></{element}>\n",
        attribute(s.script_url),
        attribute(s.integrity),
        attribute(s.form_url),
        attribute(s.kid),
        element = s.element,
    )
}

/// `sha384-<base64>` of the file, the Subresource Integrity form browsers check.
fn integrity(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        anyhow::Error::new(e).context(Hinted::context(
            format!("cannot read the built widget {}", shown(path)),
            "run `cargo xtask wasm` to build pkg/, or point --pkg at the built widget",
        ))
    })?;
    Ok(format!(
        "sha384-{}",
        Base64::encode_string(&Sha384::digest(&bytes))
    ))
}

/// Escapes text for a double-quoted HTML attribute.
fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_escaped() {
        let text = snippet(&Snippet {
            script_url: "/pkg/formseal.js",
            element: "formseal-form",
            integrity: "sha384-x",
            form_url: "/forms/a.json?x=\"><script>",
            kid: "k&",
        });
        assert!(text.contains("src=\"/forms/a.json?x=&quot;&gt;&lt;script&gt;\""));
        assert!(text.contains("key-id=\"k&amp;\""));
    }
}
