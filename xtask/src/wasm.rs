//! `cargo xtask wasm`: builds the widget (the root package) for wasm32 once per widget kind and
//! writes `pkg/`: per bundle, `<name>.js` (wasm-bindgen's `--target web` glue) and
//! `<name>_bg.wasm` shrunk by wasm-opt — the sign-up build, the survey build, the record build
//! and the consent build, each from the root crate with its own cargo features ([`BUNDLES`]),
//! so a page loads only what it shows. Each glue gets an auto-start appended that loads its wasm
//! with its SRI hash, so the page's `integrity` on the glue covers the wasm too; the consent
//! loader pins the record and consent glues. It installs the tools it needs first; it does not serve or test the result.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail, ensure};
use sha2::Digest as _;

use crate::compress;
use crate::shell::{self, project_root};
use crate::tools::{self, WASM_TARGET};

/// The widget's crate name, which also names the wasm cargo writes.
const CRATE: &str = "formseal";

/// The wasm-bindgen output directory, relative to the project root.
pub(crate) const OUT_DIR: &str = "pkg";

/// One wasm build of the widget: the name of its files in `pkg/` and the cargo features it is
/// built with (on top of `--no-default-features`).
pub(crate) struct Bundle {
    /// `formseal-signup`: `pkg/formseal-signup.js` and `pkg/formseal-signup_bg.wasm`.
    pub(crate) name: &'static str,
    features: &'static str,
    /// The global (`formseal.<api>`) its auto-start hands the consent API to, for the loader,
    /// and the functions it has; only the builds the loader loads have one, each its own, so two
    /// bundles on a page never overwrite each other's globals.
    consent_api: Option<(&'static str, &'static str)>,
}

impl Bundle {
    /// The glue, relative to the project root.
    pub(crate) fn glue(&self) -> String {
        format!("{OUT_DIR}/{}.js", self.name)
    }

    /// The wasm after wasm-opt, relative to the project root.
    pub(crate) fn wasm(&self) -> String {
        format!("{OUT_DIR}/{}_bg.wasm", self.name)
    }

    /// What a page showing this bundle's widget loads of it: the glue, then the wasm.
    pub(crate) fn files(&self) -> [String; 2] {
        [self.glue(), self.wasm()]
    }
}

/// The sign-up build: sign-up, contact and privacy-request forms; no survey code, no banner.
pub(crate) const SIGNUP: Bundle = Bundle {
    name: "formseal-signup",
    features: "forms",
    consent_api: None,
};

/// The survey build: every form, with pages, conditions, ratings, matrices, rankings, uploads.
pub(crate) const SURVEY: Bundle = Bundle {
    name: "formseal-survey",
    features: "survey",
    consent_api: None,
};

/// The record build the loader loads on a first visit: the banner's sealed records and the JS
/// API, without any UI (no Leptos); what Accept all / Reject all on the first layer need.
pub(crate) const RECORD: Bundle = Bundle {
    name: "formseal-record",
    features: "record",
    consent_api: Some((
        "recorder",
        "consentSet, consentAllow, consentWithdrawAll, consentSeal",
    )),
};

/// The consent build the loader loads for Choose and the privacy settings: the banner's dialog
/// and its sealed records; no forms.
pub(crate) const CONSENT: Bundle = Bundle {
    name: "formseal-consent",
    features: "banner",
    consent_api: Some((
        "widget",
        "consentShow, consentSet, consentAllow, consentWithdrawAll, consentSeal",
    )),
};

/// Every bundle `cargo xtask wasm` builds. Their entry names are `formseal_core::embed`'s
/// (checked in the tests below), which `formseal embed` and the builder put in the snippet.
pub(crate) const BUNDLES: [&Bundle; 4] = [&SIGNUP, &SURVEY, &RECORD, &CONSENT];

/// The consent loader, relative to the project root: the one script of a page with a banner.
pub(crate) const LOADER: &str = "pkg/formseal-loader.js";

/// The banner's first layer, relative to the project root: the loader loads it on first visits.
pub(crate) const FIRST_LAYER: &str = "pkg/formseal-first-layer.js";

/// The embeds' placeholders, relative to the project root: the loader loads them on a page with
/// an inert embed.
pub(crate) const PLACEHOLDER: &str = "pkg/formseal-placeholder.js";

/// The Consent Mode script a banner's snippet puts first in `<head>`, relative to the project root.
pub(crate) const CONSENT_MODE: &str = "pkg/formseal-consent-mode.js";

/// Its source.
const CONSENT_MODE_SOURCE: &str = "src/consent-mode.js";

/// The proof-of-work solver every bundle runs as a Web Worker, next to its glue, relative to the
/// project root. A worker cannot be pinned by a hash; it is given only the collector's public
/// challenge and answers a number the collector verifies.
pub(crate) const POW_WORKER: &str = "pkg/formseal-pow.js";

/// Its source.
const POW_WORKER_SOURCE: &str = "src/pow.js";

/// Files of the single build before the per-kind bundles; removed so nothing serves them stale.
const RETIRED: [&str; 2] = ["pkg/formseal.js", "pkg/formseal_bg.wasm"];

/// The loader's source; its placeholders are filled in when it is copied to `pkg/`.
const LOADER_SOURCE: &str = "src/loader.js";

/// The first layer's source; likewise.
const FIRST_LAYER_SOURCE: &str = "src/first-layer.js";

/// The placeholders' source; likewise.
const PLACEHOLDER_SOURCE: &str = "src/placeholder.js";

/// The placeholder in the loader's source for the consent glue's SRI hash.
const WIDGET_PLACEHOLDER: &str = "'__WIDGET_INTEGRITY__'";

/// The placeholder in the loader's source for the record glue's SRI hash.
const RECORD_PLACEHOLDER: &str = "'__RECORD_INTEGRITY__'";

/// The placeholder in the loader's source for the first layer's SRI hash.
const FIRST_LAYER_PLACEHOLDER: &str = "'__FIRST_LAYER_INTEGRITY__'";

/// The placeholder in the loader's source for the embed placeholders' SRI hash.
const PLACEHOLDER_PLACEHOLDER: &str = "'__PLACEHOLDER_INTEGRITY__'";

/// The widget's built-in texts, the one source of the loader's texts too (see `build.rs`).
const TEXTS_SOURCE: &str = "src/texts.json";

/// The placeholder in the loader's and the first layer's sources for their built-in texts.
const TEXTS_PLACEHOLDER: &str = "/*@TEXTS@*/ {}";

/// The widget's stylesheet; the first layer gets its `loader` section.
const CSS_SOURCE: &str = "src/widget.css";

/// The markers around that section in [`CSS_SOURCE`].
const CSS_SECTION: [&str; 2] = ["/* loader: begin", "/* loader: end */"];

/// The placeholder in the loader's source for the first layer's CSS.
const CSS_PLACEHOLDER: &str = "/*@CSS@*/ ''";

/// Wasm features rustc's default wasm32 CPU emits (LLVM's "generic"); wasm-opt must accept them
/// in the input, and is kept from introducing any other.
const WASM_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// rustc flags for the wasm builds. `-Zlocation-detail=none` leaves out the file, line and
/// column of every panic site: the page never sees them (with `panic = "abort"` and no panic
/// hook a panic only traps), and they cost about 4 kB brotli. A `-Z` flag needs
/// `RUSTC_BOOTSTRAP=1` on the stable compiler (as the fuzz step does); the builder gets the same
/// flags so that the two builds share their compiled dependencies. `sha2_backend_soft="compact"`
/// makes sha2 (the key's thumbprint) a loop instead of 64 unrolled rounds: 8 kB less code,
/// 1.3 kB brotli per bundle, for a hash the widget takes a few times per page view.
const WASM_RUSTFLAGS: &str = "-Zlocation-detail=none --cfg sha2_backend_soft=\"compact\"";

/// wasm-opt's passes: flattening and re-running the relooper before two rounds of `-Oz` gives
/// smaller control flow than `-Oz` alone (1.4 kB brotli less, measured on the widget).
const WASM_OPT_PASSES: [&str; 4] = ["--flatten", "--rereloop", "-Oz", "-Oz"];

/// Whether the wasm builds are also linted: clippy, as the compiler of the workspace's crates,
/// with `-D warnings` (what `cargo xtask test` does, so that each bundle's feature set is linted
/// for wasm32 at no extra compile; `cargo xtask wasm` builds without it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lint {
    No,
    Clippy,
}

/// `cargo build` of `package` for wasm32 with the `wasm-release` profile and [`WASM_RUSTFLAGS`].
fn cargo_build(package: &str, lint: Lint) -> std::process::Command {
    let mut cmd = shell::cargo();
    cmd.args(["build", "--package", package, "--target", WASM_TARGET])
        .args(["--profile", "wasm-release"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            WASM_RUSTFLAGS,
        );
    if lint == Lint::Clippy {
        shell::lint_with_clippy(&mut cmd);
    }
    cmd
}

/// Installs the tools, then builds `pkg/`.
pub(crate) fn run() -> Result<()> {
    ensure_tools()?;
    build()
}

/// Everything the wasm build needs: the rustc target, wasm-bindgen and (via npm) wasm-opt.
pub(crate) fn ensure_tools() -> Result<()> {
    tools::ensure_wasm_target()?;
    tools::ensure_node_modules()?;
    tools::ensure_wasm_bindgen()
}

/// Builds `pkg/` assuming the tools are there.
pub(crate) fn build() -> Result<()> {
    build_with(Lint::No)
}

/// Builds `pkg/` assuming the tools are there, linting the wasm builds if asked.
pub(crate) fn build_with(lint: Lint) -> Result<()> {
    for file in RETIRED {
        for suffix in ["", ".br", ".gz"] {
            let _ = fs::remove_file(project_root().join(format!("{file}{suffix}")));
        }
    }
    // wasm-opt is single-threaded and takes 20–40 s a bundle, as does the fat-LTO link of the
    // next one: each bundle is shrunk in a thread of its own while cargo builds the next (and
    // the builder), so the two cores of a CI machine share the work.
    std::thread::scope(|scope| {
        let mut shrinking = Vec::new();
        let built = BUNDLES
            .into_iter()
            .try_for_each(|bundle| {
                build_bundle(bundle, lint)?;
                shrinking.push(scope.spawn(move || shrink_bundle(bundle)));
                Ok(())
            })
            .and_then(|()| build_builder(lint));
        for thread in shrinking {
            thread.join().expect("a wasm-opt thread panicked")?;
        }
        built
    })?;
    write_loader()?;
    write_precompressed()
}

/// Builds one bundle: cargo with its features, then wasm-bindgen into `pkg/` (cargo's output
/// is overwritten by the next build; wasm-bindgen's is the bundle's own).
fn build_bundle(bundle: &Bundle, lint: Lint) -> Result<()> {
    shell::run(
        cargo_build(CRATE, lint)
            .arg("--no-default-features")
            .args(["--features", bundle.features]),
    )
    .with_context(|| format!("building {} for wasm32", bundle.name))?;

    let wasm: PathBuf = [
        "target",
        WASM_TARGET,
        "wasm-release",
        &format!("{CRATE}.wasm"),
    ]
    .iter()
    .collect();
    shell::run(
        shell::command(tools::wasm_bindgen())
            .args([
                "--target",
                "web",
                "--out-dir",
                OUT_DIR,
                "--out-name",
                bundle.name,
            ])
            .arg("--no-typescript")
            .arg(&wasm),
    )
    .with_context(|| {
        format!(
            "generating the JS glue of {} with wasm-bindgen",
            bundle.name
        )
    })
}

/// Makes a bundle that wasm-bindgen wrote ready for a page: short import names, wasm-opt, the
/// auto-start.
fn shrink_bundle(bundle: &Bundle) -> Result<()> {
    let out = bundle.wasm();
    shorten_imports(bundle)?;
    shell::run(
        shell::command(tools::wasm_opt())
            // First, so that the passes after it drop the code only these exports reached.
            .args([
                "--remove-exports",
                &format!("--pass-arg=remove-exports@{STREAM_EXPORTS}"),
            ])
            .args(WASM_OPT_PASSES)
            .args(WASM_FEATURES)
            // Debug info and the producers section are of no use in a page; drop them whatever
            // the release profile's `strip` says.
            .args(["--strip-debug", "--strip-producers"])
            .args([&out, "-o", &out]),
    )
    .with_context(|| format!("shrinking {out} with wasm-opt"))?;
    append_start(bundle)?;
    for output in bundle.files() {
        ensure!(
            project_root().join(&output).is_file(),
            "the build did not produce {output}"
        );
    }
    Ok(())
}

/// The marketer's builder crate, which links the widget for its preview.
const BUILDER_CRATE: &str = "formseal_builder";

/// The builder's output directory, relative to the project root (served at `/pkg/builder/`).
pub(crate) const BUILDER_DIR: &str = "pkg/builder";

/// Builds the builder page's module into `pkg/builder/`. It is a tool for the site's marketer,
/// not part of the widget's size budget: no wasm-opt, brotli copies only.
fn build_builder(lint: Lint) -> Result<()> {
    shell::run(&mut cargo_build("formseal-builder", lint))
        .context("building the builder for wasm32")?;
    let wasm: PathBuf = [
        "target",
        WASM_TARGET,
        "wasm-release",
        &format!("{BUILDER_CRATE}.wasm"),
    ]
    .iter()
    .collect();
    shell::run(
        shell::command(tools::wasm_bindgen())
            .args(["--target", "web", "--out-dir", BUILDER_DIR])
            .args(["--out-name", BUILDER_CRATE, "--no-typescript"])
            // Leptos's view types give function names of megabytes: 35 MB of a 36.5 MB module
            // was the name section. Panics still print their message (the builder's hook).
            .args(["--remove-name-section", "--remove-producers-section"])
            .arg(&wasm),
    )
    .context("generating the builder's JS glue with wasm-bindgen")?;
    for file in [
        format!("{BUILDER_CRATE}.js"),
        format!("{BUILDER_CRATE}_bg.wasm"),
    ] {
        let path = project_root().join(BUILDER_DIR).join(file);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        fs::write(format!("{}.br", path.display()), compress::brotli(&bytes)?)?;
    }
    Ok(())
}

/// Renames the bundle's wasm imports from the glue (`__wbg_addEventListener_847fd86b8c33ec43`,
/// 175 of them, hashes that do not compress) to short names, in the wasm and in the glue's
/// import object alike: 2 kB brotli of glue and 1 kB of wasm per bundle.
fn shorten_imports(bundle: &Bundle) -> Result<()> {
    let root = project_root();
    let wasm_path = root.join(bundle.wasm());
    let glue_path = root.join(bundle.glue());
    let wasm = fs::read(&wasm_path).with_context(|| format!("reading {}", bundle.wasm()))?;
    let glue =
        fs::read_to_string(&glue_path).with_context(|| format!("reading {}", bundle.glue()))?;
    let mut module = walrus::Module::from_buffer(&wasm)
        .with_context(|| format!("reading {} as a wasm module", bundle.wasm()))?;
    let glue_module = format!("./{}_bg.js", bundle.name);
    let mut renames = Vec::new();
    for (n, import) in module
        .imports
        .iter_mut()
        .filter(|i| i.module == glue_module)
        .enumerate()
    {
        let short = short_name(n);
        renames.push((std::mem::replace(&mut import.name, short.clone()), short));
    }
    let glue = rename_imports(&glue, &renames)
        .with_context(|| format!("renaming the imports in {}", bundle.glue()))?;
    fs::write(&wasm_path, module.emit_wasm())
        .with_context(|| format!("writing {}", bundle.wasm()))?;
    fs::write(&glue_path, glue).with_context(|| format!("writing {}", bundle.glue()))
}

/// The `n`th short import name: `a`…`z`, `A`…`Z`, `$`, `_`, then two characters and so on;
/// each is a JS identifier, so the glue's object keys stay unquoted.
fn short_name(mut n: usize) -> String {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$_";
    let mut name = String::new();
    loop {
        name.insert(0, char::from(FIRST[n % FIRST.len()]));
        n /= FIRST.len();
        if n == 0 {
            return name;
        }
        n -= 1;
    }
}

/// `glue` with each import's key in its import object renamed (`old: function` → `new:
/// function`). Every old name must be such a key exactly once and nowhere else in the glue.
fn rename_imports(glue: &str, renames: &[(String, String)]) -> Result<String> {
    let mut glue = glue.to_owned();
    for (old, new) in renames {
        let key = format!(" {old}: ");
        ensure!(
            glue.matches(&key).count() == 1 && glue.matches(old.as_str()).count() == 1,
            "the wasm imports {old}, which is not one key of the glue's import object"
        );
        glue = glue.replacen(&key, &format!(" {new}: "), 1);
    }
    Ok(glue)
}

/// The wasm exports of `wasm-streams`' classes (`IntoUnderlyingSource`, `…Sink`, `…ByteSource`),
/// as a wasm-opt wildcard. Leptos always builds `server_fn` for the browser, which exports them
/// for streaming server functions; the widget has none, so they are removed (about 2 kB brotli
/// of wasm and 1 kB of glue per bundle), with the classes in the glue ([`drop_stream_classes`]).
const STREAM_EXPORTS: &str = "*intounderlying*";

/// The glue's classes wrapping [`STREAM_EXPORTS`].
const STREAM_CLASSES: [&str; 3] = [
    "IntoUnderlyingByteSource",
    "IntoUnderlyingSink",
    "IntoUnderlyingSource",
];

/// `glue` without the classes of [`STREAM_CLASSES`] (each `export class` block with its
/// `Symbol.dispose` line, and its `…Finalization` registry), which would call wasm exports that
/// wasm-opt removed. A glue without them is returned as it is; one that still names them
/// afterwards (wasm-bindgen wrote them differently) is an error, not a broken page.
fn drop_stream_classes(glue: &str) -> Result<String> {
    let mut glue = glue.to_owned();
    for class in STREAM_CLASSES {
        let pieces = [
            (
                format!("export class {class} {{"),
                format!(
                    "if (Symbol.dispose) {class}.prototype[Symbol.dispose] = {class}.prototype.free;\n"
                ),
            ),
            (format!("const {class}Finalization = "), ");\n".to_owned()),
        ];
        for (start, end) in pieces {
            let Some(from) = glue.find(&start) else {
                continue;
            };
            let to = glue[from..]
                .find(&end)
                .map(|at| from + at + end.len())
                .with_context(|| format!("the glue's `{start}` has no end `{}`", end.trim()))?;
            glue.replace_range(from..to, "");
        }
    }
    ensure!(
        !glue.to_ascii_lowercase().contains("intounderlying"),
        "the glue still uses the wasm-streams classes whose exports wasm-opt removes; has \
         wasm-bindgen's glue changed?"
    );
    Ok(glue)
}

/// The first line of the auto-start appended to the glue.
const START_MARKER: &str = "\n// Added by `cargo xtask wasm`:";

/// The glue's init function (its default export); the auto-start calls it.
const INIT_FN: &str = "__wbg_init";

/// Writes `.br` and `.gz` copies of the built files next to them, so servers that look for
/// precompressed files (the collector does) send brotli without compressing per request.
fn write_precompressed() -> Result<()> {
    let outputs = BUNDLES
        .iter()
        .flat_map(|b| b.files())
        .chain([LOADER, FIRST_LAYER, PLACEHOLDER, CONSENT_MODE, POW_WORKER].map(str::to_owned));
    for file in outputs {
        let path = project_root().join(file);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        std::fs::write(format!("{}.br", path.display()), compress::brotli(&bytes)?)?;
        std::fs::write(format!("{}.gz", path.display()), compress::gzip(&bytes)?)?;
    }
    Ok(())
}

/// Appends to the bundle's glue the call that loads its final wasm, pinned by its sha384, and
/// runs the widget's start function (wasm-bindgen's glue only defines the init function), drops
/// the classes of exports wasm-opt removed and minifies the result.
fn append_start(bundle: &Bundle) -> Result<()> {
    let root = project_root();
    let wasm_file = bundle.wasm();
    let wasm = fs::read(root.join(&wasm_file)).with_context(|| format!("reading {wasm_file}"))?;
    let glue_file = bundle.glue();
    let glue_path = root.join(&glue_file);
    let glue = fs::read_to_string(&glue_path).with_context(|| format!("reading {glue_file}"))?;
    let glue = drop_stream_classes(&glue)?;
    if !glue.contains(&format!("async function {INIT_FN}(")) {
        bail!("{glue_file} has no `{INIT_FN}` function; has wasm-bindgen's glue changed?");
    }
    if root.join(OUT_DIR).join("snippets").exists() {
        bail!(
            "wasm-bindgen wrote pkg/snippets/: a dependency uses inline JS, which the page's SRI does not cover"
        );
    }
    let integrity = format!("sha384-{}", base64(&sha384(&wasm)));
    let (what, api) = match bundle.consent_api {
        Some((global, functions)) => (
            "<formseal-consent>; then hand the consent API to the loader".to_owned(),
            format!("(globalThis.formseal ??= {{}}).{global} = {{ {functions} }};\n"),
        ),
        None => ("<formseal-form>".to_owned(), String::new()),
    };
    let start = format!(
        "{START_MARKER} load the wasm pinned by its hash and mount every\n\
         // {what}.\n\
         await {INIT_FN}({{ module_or_path: fetch(new URL('{name}_bg.wasm', import.meta.url), \
         {{ integrity: '{integrity}' }}) }});\n{api}",
        name = bundle.name,
    );
    // Minified like the loader: the glue is a third of a bundle's JS bytes otherwise.
    let glue = minify(&(glue + &start), &glue_file)?;
    fs::write(&glue_path, glue).with_context(|| format!("writing {glue_file}"))
}

/// Writes the loader's modules (the first layer, the placeholders) and the loader to `pkg/`,
/// each with its placeholders filled in from the widget's own sources and minified: the modules
/// pinned by the loader, the consent glue too, so the loader (pinned by the page) pins
/// everything it loads. Then the Consent Mode script and the proof-of-work worker, minified.
fn write_loader() -> Result<()> {
    let root = project_root();
    let css = fs::read_to_string(root.join(CSS_SOURCE)).context("reading src/widget.css")?;
    let css = serde_json::Value::from(first_layer_css(&css)?).to_string();
    let first_layer = write_module(
        FIRST_LAYER_SOURCE,
        FIRST_LAYER,
        &[
            (CSS_PLACEHOLDER, css),
            (TEXTS_PLACEHOLDER, builtin_texts("first-layer")?),
        ],
    )?;
    let placeholder = write_module(
        PLACEHOLDER_SOURCE,
        PLACEHOLDER,
        &[(TEXTS_PLACEHOLDER, builtin_texts("placeholder")?)],
    )?;

    let loader = read_source(LOADER_SOURCE)?;
    for file in [RECORD.glue(), CONSENT.glue()] {
        let name = file.trim_start_matches("pkg/");
        ensure!(
            loader.contains(&format!("'{name}'")),
            "{LOADER_SOURCE} must load {name}"
        );
    }
    // The modules it loads by name (`formseal-NAME.js`).
    for file in [FIRST_LAYER, PLACEHOLDER] {
        let name = file
            .trim_start_matches("pkg/formseal-")
            .trim_end_matches(".js");
        ensure!(
            loader.contains(&format!("'{name}'")) || loader.contains(&format!(" {name}: ")),
            "{LOADER_SOURCE} must load {file} (MODULES.{name})"
        );
    }
    let pin = |bytes: &[u8]| format!("'sha256-{}'", base64(&sha256(bytes)));
    let mut loader = loader;
    for (bundle, placeholder) in [
        (&RECORD, RECORD_PLACEHOLDER),
        (&CONSENT, WIDGET_PLACEHOLDER),
    ] {
        let glue = fs::read(root.join(bundle.glue()))
            .with_context(|| format!("reading {}", bundle.glue()))?;
        loader = fill(&loader, LOADER_SOURCE, placeholder, &pin(&glue))?;
    }
    let loader = fill(
        &loader,
        LOADER_SOURCE,
        FIRST_LAYER_PLACEHOLDER,
        &pin(first_layer.as_bytes()),
    )?;
    let loader = fill(
        &loader,
        LOADER_SOURCE,
        PLACEHOLDER_PLACEHOLDER,
        &pin(placeholder.as_bytes()),
    )?;
    let loader = fill(
        &loader,
        LOADER_SOURCE,
        TEXTS_PLACEHOLDER,
        &builtin_texts("loader")?,
    )?;
    fs::write(root.join(LOADER), minify(&loader, LOADER_SOURCE)?)
        .with_context(|| format!("writing {LOADER}"))?;

    for (source, out) in [
        (CONSENT_MODE_SOURCE, CONSENT_MODE),
        (POW_WORKER_SOURCE, POW_WORKER),
    ] {
        fs::write(
            root.join(out),
            minify_as(&read_source(source)?, source, "iife")?,
        )
        .with_context(|| format!("writing {out}"))?;
    }
    Ok(())
}

/// Writes the module `source` to `out` with each `(placeholder, value)` of `fills` filled in,
/// minified; returns what it wrote (for the loader to pin).
fn write_module(source: &str, out: &str, fills: &[(&str, String)]) -> Result<String> {
    let mut module = read_source(source)?;
    for (placeholder, value) in fills {
        module = fill(&module, source, placeholder, value)?;
    }
    let module = minify(&module, source)?;
    fs::write(project_root().join(out), &module).with_context(|| format!("writing {out}"))?;
    Ok(module)
}

/// A source file of the project, relative to its root.
fn read_source(file: &str) -> Result<String> {
    fs::read_to_string(project_root().join(file)).with_context(|| format!("reading {file}"))
}

/// `source` (the file `file`) with its one `placeholder` replaced by `value`.
fn fill(source: &str, file: &str, placeholder: &str, value: &str) -> Result<String> {
    ensure!(
        source.matches(placeholder).count() == 1,
        "{file} must contain {placeholder} exactly once"
    );
    Ok(source.replace(placeholder, value))
}

/// The built-in texts marked `"loader": "<file>"` in `src/texts.json`, as the JSON object
/// `{key: {lang: text}}`. Never a second hand-kept copy.
fn builtin_texts(file: &str) -> Result<String> {
    let json = read_source(TEXTS_SOURCE)?;
    let doc: serde_json::Value = serde_json::from_str(&json).context("parsing src/texts.json")?;
    let languages = doc["languages"]
        .as_array()
        .context("src/texts.json: no `languages`")?;
    let mut texts = serde_json::Map::new();
    for entry in doc["texts"]
        .as_array()
        .context("src/texts.json: no `texts`")?
    {
        let key = entry["key"]
            .as_str()
            .context("src/texts.json: a text without `key`")?;
        match &entry["loader"] {
            serde_json::Value::Null => continue,
            serde_json::Value::String(wanted)
                if ["loader", "first-layer", "placeholder"].contains(&wanted.as_str()) =>
            {
                if wanted != file {
                    continue;
                }
            }
            other => bail!(
                "src/texts.json: {key}: `loader` must be \"loader\", \"first-layer\" or \"placeholder\", not {other}"
            ),
        }
        let mut by_language = serde_json::Map::new();
        for language in languages {
            let language = language
                .as_str()
                .context("src/texts.json: a language is not a string")?;
            let text = entry[language]
                .as_str()
                .with_context(|| format!("src/texts.json: {key} has no {language} text"))?;
            by_language.insert(language.to_owned(), text.into());
        }
        texts.insert(key.to_owned(), by_language.into());
    }
    Ok(serde_json::Value::Object(texts).to_string())
}

/// `source` (the module `file`) minified by esbuild: comments, whitespace and long local names
/// are bytes on every page.
fn minify(source: &str, file: &str) -> Result<String> {
    minify_as(source, file, "esm")
}

/// [`minify`] for `format`: `esm` for a module, `iife` for a classic script.
fn minify_as(source: &str, file: &str, format: &str) -> Result<String> {
    shell::pipe(
        shell::command(tools::esbuild()).args([
            "--minify",
            &format!("--format={format}"),
            "--target=es2022",
            "--legal-comments=none",
            "--log-level=warning",
        ]),
        source,
    )
    .with_context(|| format!("minifying {file} with esbuild"))
}

/// The rules between the [`CSS_SECTION`] markers, without comments and with whitespace runs
/// collapsed (the widget's CSS has no strings in which that would matter).
fn first_layer_css(css: &str) -> Result<String> {
    let [begin, end] = CSS_SECTION;
    let start = css
        .find(begin)
        .context("src/widget.css has no `/* loader: begin` marker")?;
    let stop = css
        .find(end)
        .context("src/widget.css has no `/* loader: end */` marker")?;
    ensure!(
        start < stop,
        "src/widget.css: `loader: end` comes before `loader: begin`"
    );
    let mut section = &css[start..stop];
    let mut out = String::new();
    while let Some(open) = section.find("/*") {
        out.push_str(&section[..open]);
        let close = section[open..]
            .find("*/")
            .context("src/widget.css: unclosed comment")?;
        section = &section[open + close + 2..];
    }
    out.push_str(section);
    Ok(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// SHA-384 of `data`: what the page's SRI hashes pin the wasm with.
fn sha384(data: &[u8]) -> [u8; 48] {
    sha2::Sha384::digest(data).into()
}

/// SHA-256 of `data`: the loader's pins of the files it loads (shorter than SHA-384, and as
/// strong for this; the loader's bytes are on every page).
fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// Standard base64 with padding, as SRI wants it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_fips_examples() {
        assert_eq!(
            base64(&sha256(b"abc")),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn sha384_matches_fips_examples() {
        assert_eq!(
            base64(&sha384(b"abc")),
            "ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
        assert_eq!(
            base64(&sha384(b"")),
            "OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
    }

    #[test]
    fn first_layer_css_is_the_marked_section_without_comments() {
        let css = "a { b: c; }\n/* loader: begin. why */\n:host {\n  d: e;\n}\n/* note */ .x { f: g; }\n/* loader: end */\n.y {}";
        assert_eq!(
            first_layer_css(css).unwrap(),
            ":host { d: e; } .x { f: g; }"
        );
        assert!(first_layer_css("no markers").is_err());
    }

    #[test]
    fn the_bundles_are_the_entries_the_snippet_names() {
        use formseal_core::embed;
        assert_eq!(SIGNUP.glue(), format!("pkg/{}", embed::SIGNUP_ENTRY));
        assert_eq!(SURVEY.glue(), format!("pkg/{}", embed::SURVEY_ENTRY));
        assert_eq!(CONSENT.glue(), format!("pkg/{}", embed::CONSENT_BUNDLE));
        assert_eq!(RECORD.glue(), format!("pkg/{}", embed::RECORD_BUNDLE));
        assert_eq!(LOADER, format!("pkg/{}", embed::CONSENT_ENTRY));
    }

    #[test]
    fn drop_stream_classes_leaves_the_rest_of_the_glue() {
        // The shape wasm-bindgen 0.2.130 writes, abridged.
        let class = |name: &str| {
            format!(
                "export class {name} {{\n    free() {{\n        wasm.__wbg_{low}_free(ptr, 0);\n    }}\n}}\n\
                 if (Symbol.dispose) {name}.prototype[Symbol.dispose] = {name}.prototype.free;\n",
                low = name.to_ascii_lowercase()
            )
        };
        let registry = |name: &str| {
            format!(
                "const {name}Finalization = (typeof FinalizationRegistry === 'undefined')\n    ? {{ register: () => {{}} }}\n    \
                 : new FinalizationRegistry(ptr => wasm.__wbg_{low}_free(ptr, 1));\n",
                low = name.to_ascii_lowercase()
            )
        };
        let keep = "export function consentShow() {\n    wasm.consentShow();\n}\n";
        let glue: String = STREAM_CLASSES
            .iter()
            .map(|c| class(c))
            .chain([keep.to_owned()])
            .chain(STREAM_CLASSES.iter().map(|c| registry(c)))
            .collect();
        assert_eq!(drop_stream_classes(&glue).unwrap(), keep);
        // A glue without them is left alone.
        assert_eq!(drop_stream_classes(keep).unwrap(), keep);
        // One that still names them after the cut is refused, not shipped broken.
        let odd = format!("{keep}wasm.intounderlyingsource_pull(p);\n");
        assert!(drop_stream_classes(&odd).is_err());
        let unended = "export class IntoUnderlyingSink {\n    free() {}\n}\n";
        assert!(drop_stream_classes(unended).is_err());
    }

    #[test]
    fn short_names_are_distinct_identifiers() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[54], "aa");
        let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(
            names
                .iter()
                .all(|n| !n.starts_with(|c: char| c.is_ascii_digit()))
        );
    }

    #[test]
    fn rename_imports_renames_each_key_once() {
        let glue = "const import0 = {\n        __wbg_Error_2084: function(a) {},\n        __wbg_call_40b0: function() {},\n};\n";
        let renames = [
            ("__wbg_Error_2084".to_owned(), "a".to_owned()),
            ("__wbg_call_40b0".to_owned(), "b".to_owned()),
        ];
        assert_eq!(
            rename_imports(glue, &renames).unwrap(),
            "const import0 = {\n        a: function(a) {},\n        b: function() {},\n};\n"
        );
        // An import the glue does not define, or names elsewhere too, is an error.
        let missing = [("__wbg_gone_1".to_owned(), "c".to_owned())];
        assert!(rename_imports(glue, &missing).is_err());
        let twice = format!("{glue}wasm.__wbg_call_40b0;\n");
        assert!(rename_imports(&twice, &renames).is_err());
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
