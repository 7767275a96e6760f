//! `cargo xtask wasm`: builds the widget (the root package) for wasm32 and writes `pkg/`:
//! `formseal.js` (wasm-bindgen's `--target web` glue) and `formseal_bg.wasm` shrunk by wasm-opt.
//! It installs the tools it needs first; it does not serve or test the result.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};

use crate::shell::{self, project_root};
use crate::tools::{self, WASM_TARGET};

/// The widget's crate name, which also names its files in `pkg/`.
const CRATE: &str = "formseal";

/// The wasm-bindgen output directory, relative to the project root.
pub(crate) const OUT_DIR: &str = "pkg";

/// The widget's wasm after wasm-opt, relative to the project root.
pub(crate) const WASM: &str = "pkg/formseal_bg.wasm";

/// The files `cargo xtask wasm` produces (everything a page loads), relative to the project root.
pub(crate) const OUTPUTS: [&str; 2] = [WASM, "pkg/formseal.js"];

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
    shell::run(shell::cargo().args([
        "build",
        "--package",
        CRATE,
        "--target",
        WASM_TARGET,
        "--profile",
        "wasm-release",
    ]))
    .context("building the widget for wasm32")?;

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
            .args(["--target", "web", "--out-dir", OUT_DIR, "--out-name", CRATE])
            .arg("--no-typescript")
            .arg(&wasm),
    )
    .context("generating the JS glue with wasm-bindgen")?;

    shell::run(
        shell::command(tools::wasm_opt())
            .arg("-Oz")
            .args(WASM_FEATURES)
            // Debug info and the producers section are of no use in a page; drop them whatever
            // the release profile's `strip` says.
            .args(["--strip-debug", "--strip-producers"])
            .args([WASM, "-o", WASM]),
    )
    .context("shrinking the wasm with wasm-opt")?;
    for output in OUTPUTS {
        ensure!(
            project_root().join(output).is_file(),
            "the build did not produce {output}"
        );
    }
    Ok(())
}
