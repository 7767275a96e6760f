//! `cargo xtask demo`: one command from a fresh checkout to a running demo — builds the widget
//! and the `formseal` binary, makes a dev key, writes the example form for that key, fills the
//! demo page's snippet in with `formseal embed`, and runs the collector in the foreground.
//! Everything it writes is under `target/demo/`, so nothing of it is committed.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::shell::{self, project_root};
use crate::wasm;

/// Where the demo keeps its dev key, form, pages and database.
const DEMO_DIR: &str = "target/demo";

/// Options of `cargo xtask demo`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Port of the collector on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

/// Builds everything and serves the demo until Ctrl-C.
pub(crate) fn run(args: &Args) -> Result<()> {
    step("building the widget into pkg/");
    wasm::run()?;
    step("building the formseal command");
    shell::run(shell::cargo().args(["build", "--release", "-p", "formseal-cli"]))?;
    let root = project_root();
    let formseal = root.join("target/release/formseal");
    let demo = root.join(DEMO_DIR);
    let keys = demo.join("keys");

    step("a dev key pair for the data team (the private key never leaves this machine)");
    if keys.join("private.pem").exists() {
        eprintln!("reusing the dev key in {DEMO_DIR}/keys");
    } else {
        shell::run(
            shell::command(&formseal)
                .args(["keygen", "--bits", "3072", "--out"])
                .arg(&keys),
        )?;
    }

    step("the marketer's configs, sealed to the dev key, posting to this collector");
    let forms = demo.join("forms");
    fs::create_dir_all(&forms)?;
    let endpoint = format!("http://127.0.0.1:{}/v1/submissions", args.port);
    // The newsletter sign-up, the cookie banner, the customer survey, the access request.
    let mut configs = Vec::new();
    for (example, name) in DEMO_FORMS {
        let config = forms.join(name);
        write_form(
            &root.join("examples").join(example),
            &keys.join("public.jwk.json"),
            &endpoint,
            &config,
        )?;
        shell::run(shell::command(&formseal).arg("check").arg(&config))?;
        configs.push(config);
    }
    step("the bakery's pages, with the snippets from `formseal embed`");
    let snippets = configs
        .iter()
        .map(|config| shell::read(shell::command(&formseal).arg("embed").arg(config)))
        .collect::<Result<Vec<_>>>()?;
    for snippet in &snippets {
        eprint!("{snippet}");
    }
    let www = demo.join("www");
    write_site(&root.join("www"), &www, &snippets)?;

    let db = demo.join("collector.sqlite");
    let url = format!("http://127.0.0.1:{}/", args.port);
    step("the collector (Ctrl-C stops it)");
    eprintln!(
        "\n  Open {url} and sign up for the bakery's newsletter; {url}survey.html has the\n  \
         customer survey, {url}privacy.html the access request, {url}builder.html the\n  \
         marketer's builder (templates, live preview, download and embed snippet).\n  \
         The collector stores only ciphertext. To read what arrived, in another terminal:\n\n    \
         target/release/formseal decrypt --db {DEMO_DIR}/collector.sqlite --key {DEMO_DIR}/keys/private.pem\n"
    );
    shell::run(
        shell::command(&formseal)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", args.port)])
            .arg("--db")
            .arg(&db)
            .args(
                configs
                    .iter()
                    .flat_map(|c| [Path::new("--form"), c.as_path()]),
            )
            .arg("--www")
            .arg(&www)
            .args(["--pkg", wasm::OUT_DIR]),
    )
}

/// The example configs the demo serves (file in `examples/`, name in the demo's forms).
const DEMO_FORMS: [(&str, &str); 4] = [
    ("newsletter.json", "newsletter.json"),
    ("consent.json", "cookies.json"),
    ("survey.json", "satisfaction.json"),
    ("privacy-request.json", "privacy-request.json"),
];

fn step(title: &str) {
    eprintln!("\n==> {title}");
}

/// Copies the example form with the dev key as its only recipient and `endpoint`.
fn write_form(example: &Path, jwk: &Path, endpoint: &str, out: &Path) -> Result<()> {
    let mut form: serde_json::Value = serde_json::from_slice(&fs::read(example)?)
        .with_context(|| format!("{} is not JSON", example.display()))?;
    let key: serde_json::Value = serde_json::from_slice(&fs::read(jwk)?)
        .with_context(|| format!("{} is not JSON", jwk.display()))?;
    form["recipients"] = serde_json::json!([key]);
    form["endpoint"] = serde_json::json!(endpoint);
    fs::write(out, serde_json::to_string_pretty(&form)? + "\n")?;
    Ok(())
}

/// Copies `www/` to `out`, filling the pages' placeholders with the SRI hashes and key id of
/// `formseal embed`'s snippets: each snippet's script (`…/formseal-signup.js`) fills
/// `sha384-@FORMSEAL_SIGNUP_SRI@`, the loader's `@FORMSEAL_LOADER_SRI@`, the Consent Mode
/// script's `@FORMSEAL_CONSENT_MODE_SRI@` and `@FORMSEAL_CONSENT_MODE_SIGNALS@`. Without a loader
/// snippet the banner's parts (between `<!-- formseal-consent -->` and
/// `<!-- /formseal-consent -->`) are left out. A placeholder no snippet fills is an error, so a
/// page never names a bundle it cannot load.
pub(crate) fn write_site(www: &Path, out: &Path, snippets: &[String]) -> Result<()> {
    let attribute = |snippet: &str, name: &str| {
        snippet
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
            .with_context(|| format!("`formseal embed` printed no {name}: {snippet}"))
    };
    // (placeholder, value) pairs, the key id last.
    let mut fills = Vec::new();
    let mut kid = None;
    for snippet in snippets {
        for tag in snippet.lines().filter(|line| line.starts_with("<script")) {
            let script = attribute(tag, "src")?;
            let bundle = script
                .rsplit('/')
                .next()
                .and_then(|file| file.strip_suffix(".js"))
                .and_then(|file| file.strip_prefix("formseal-"))
                .with_context(|| format!("`formseal embed` named an unknown script: {script}"))?
                .to_uppercase()
                .replace('-', "_");
            fills.push((
                format!("sha384-@FORMSEAL_{bundle}_SRI@"),
                attribute(tag, "integrity")?,
            ));
            if tag.contains("data-signals=") {
                fills.push((
                    format!("@FORMSEAL_{bundle}_SIGNALS@"),
                    attribute(tag, "data-signals")?,
                ));
            }
        }
        kid.get_or_insert(attribute(snippet, "key-id")?);
    }
    let kid = kid.context("no snippet to fill the pages with")?;
    let with_banner = fills.iter().any(|(p, _)| p.contains("_LOADER_"));
    fs::create_dir_all(out)?;
    for entry in fs::read_dir(www).with_context(|| format!("reading {}", www.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if !entry.file_type()?.is_file() {
            continue;
        }
        let bytes = fs::read(entry.path())?;
        let bytes = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("@FORMSEAL_") => {
                let mut text = if with_banner {
                    text.to_owned()
                } else {
                    without_banner(text)
                };
                for (placeholder, value) in &fills {
                    text = text.replace(placeholder, value);
                }
                text = text.replace("@FORMSEAL_KID@", &kid);
                if let Some(left) = unfilled(&text) {
                    bail!(
                        "{} names {left}, which no snippet fills",
                        entry.path().display()
                    );
                }
                text.into_bytes()
            }
            _ => bytes,
        };
        fs::write(out.join(&name), bytes)?;
    }
    if !out.join("index.html").is_file() {
        bail!("{} has no index.html", www.display());
    }
    Ok(())
}

/// The first placeholder left in `page` (`@FORMSEAL_` + capitals and `_` + `@`), if any; the
/// pages' comments that mention `@FORMSEAL_…@` are not placeholders.
fn unfilled(page: &str) -> Option<&str> {
    page.match_indices("@FORMSEAL_").find_map(|(at, _)| {
        let rest = &page[at + 1..];
        let end = rest.find('@')?;
        let name = &rest[..end];
        name.chars()
            .all(|c| c.is_ascii_uppercase() || c == '_')
            .then(|| &page[at..at + end + 2])
    })
}

/// The page without the parts marked as the consent banner's.
fn without_banner(page: &str) -> String {
    const START: &str = "<!-- formseal-consent -->";
    const END: &str = "<!-- /formseal-consent -->";
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    while let Some(at) = rest.find(START) {
        out.push_str(&rest[..at]);
        rest = rest[at..]
            .find(END)
            .map_or("", |end| &rest[at + end + END.len()..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_parts_are_dropped() {
        let page = "a<!-- formseal-consent -->b<!-- /formseal-consent -->c<!-- formseal-consent -->d<!-- /formseal-consent -->e";
        assert_eq!(without_banner(page), "ace");
        assert_eq!(without_banner("plain"), "plain");
    }

    #[test]
    fn an_unfilled_placeholder_is_found_and_a_comment_is_not_one() {
        assert_eq!(unfilled("<!-- the @FORMSEAL_…@ placeholders -->"), None);
        assert_eq!(
            unfilled("<!-- @FORMSEAL_…@ --> integrity=\"sha384-@FORMSEAL_SURVEY_SRI@\""),
            Some("@FORMSEAL_SURVEY_SRI@")
        );
    }
}
