//! Installing the tools the build and the tests need, into the project directory only, so that a
//! fresh machine with just rustup, Node and npm can run `cargo xtask test`: nothing outside the
//! checkout is needed, except rustup's wasm32 target and Debian's chromium and postgresql
//! (installed with apt as root, as on CI). Each `ensure_*` is a no-op when done.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use crate::shell::{self, project_root};

/// The rustc target the widget is built for.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Where `cargo install --root` puts project-local tools (`target/tools/bin/...`).
fn tools_root() -> PathBuf {
    project_root().join("target").join("tools")
}

/// The project's own `wasm-bindgen` CLI, matching the `wasm-bindgen` crate in Cargo.lock.
pub(crate) fn wasm_bindgen() -> PathBuf {
    tools_root().join("bin").join("wasm-bindgen")
}

/// `wasm-opt` from the npm package `binaryen`. Debian's binaryen is too old: it emits broken wasm.
pub(crate) fn wasm_opt() -> PathBuf {
    project_root().join("node_modules/binaryen/bin/wasm-opt")
}

/// Adds the wasm32 target to the current toolchain unless it is installed already.
pub(crate) fn ensure_wasm_target() -> Result<()> {
    let installed = shell::read(shell::command("rustup").args(["target", "list", "--installed"]))
        .context("listing rustup's installed targets")?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    shell::run(shell::command("rustup").args(["target", "add", WASM_TARGET]))
}

/// Runs `npm ci` when `node_modules/` is missing or older than `package-lock.json`.
pub(crate) fn ensure_node_modules() -> Result<()> {
    let root = project_root();
    let lock = modified(&root.join("package-lock.json")).context("reading package-lock.json")?;
    // npm writes this hidden lockfile on every install, so its age is the install's age.
    let installed = modified(&root.join("node_modules/.package-lock.json")).ok();
    let fresh = installed.is_some_and(|installed| installed >= lock) && wasm_opt().is_file();
    if fresh {
        return Ok(());
    }
    shell::run(shell::command("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    if !wasm_opt().is_file() {
        bail!(
            "`npm ci` did not install {}; is binaryen in package.json's devDependencies?",
            wasm_opt().display()
        );
    }
    Ok(())
}

/// Installs `wasm-bindgen-cli` into `target/tools` at exactly the version of the `wasm-bindgen`
/// crate in Cargo.lock: the CLI and the crate must agree or the generated glue does not load.
pub(crate) fn ensure_wasm_bindgen() -> Result<()> {
    let version = locked_version("wasm-bindgen")?;
    let bin = wasm_bindgen();
    if bin.is_file() {
        let shown = shell::read(shell::command(&bin).arg("--version"))?;
        // It prints "wasm-bindgen 0.2.x".
        if shown.split_whitespace().nth(1) == Some(version.as_str()) {
            return Ok(());
        }
        eprintln!("{} is {}, want {version}", bin.display(), shown.trim());
    }
    // Not `--locked`: with it the install fails on our machines; the exact version pin suffices.
    shell::run(
        shell::cargo()
            .args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &format!("={version}"),
                "--root",
            ])
            .arg(tools_root()),
    )
    .context("installing wasm-bindgen-cli into target/tools")
}

/// `cargo-deny`, pinned: the licence, ban, source and advisory checks of `cargo xtask deny`.
pub(crate) const CARGO_DENY: CargoTool = CargoTool {
    package: "cargo-deny",
    version: "0.20.2",
};

/// `cargo-fuzz`, pinned: builds and runs the libFuzzer targets in `fuzz/`.
pub(crate) const CARGO_FUZZ: CargoTool = CargoTool {
    package: "cargo-fuzz",
    version: "0.13.2",
};

/// A cargo subcommand installed from crates.io into `target/tools` at a pinned version.
pub(crate) struct CargoTool {
    /// The crate, which is also the binary's name.
    pub(crate) package: &'static str,
    /// The exact version.
    pub(crate) version: &'static str,
}

impl CargoTool {
    /// A command running the installed binary as cargo would (`cargo-deny deny ...`), so that
    /// no PATH change is needed.
    pub(crate) fn command(&self) -> std::process::Command {
        let mut cmd = shell::command(self.bin());
        cmd.arg(self.package.trim_start_matches("cargo-"));
        cmd
    }

    fn bin(&self) -> PathBuf {
        tools_root().join("bin").join(self.package)
    }

    /// Installs the tool unless the pinned version is there already.
    pub(crate) fn ensure(&self) -> Result<()> {
        let bin = self.bin();
        if bin.is_file() {
            let shown = shell::read(shell::command(&bin).arg("--version")).unwrap_or_default();
            // They print "cargo-deny 0.20.2" / "cargo-fuzz 0.13.2".
            if shown.split_whitespace().nth(1) == Some(self.version) {
                return Ok(());
            }
        }
        shell::run(
            shell::cargo()
                .args([
                    "install",
                    self.package,
                    "--version",
                    &format!("={}", self.version),
                    "--locked",
                    "--root",
                ])
                .arg(tools_root()),
        )
        .with_context(|| format!("installing {} into target/tools", self.package))
    }
}

/// Debian's chromium, which the browser tests drive through playwright-core.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

/// Debian's chromedriver, which wasm-bindgen-test-runner drives for the widget's browser tests.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The test runner that comes with `wasm-bindgen-cli` (same version, same install).
pub(crate) fn wasm_bindgen_test_runner() -> PathBuf {
    tools_root().join("bin").join("wasm-bindgen-test-runner")
}

/// Installs Debian's `chromium` and `chromium-driver` with apt when either is missing. That
/// needs root (as on CI); anyone else gets the command to run.
pub(crate) fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    let uid = shell::read(shell::command("id").arg("-u")).unwrap_or_default();
    if uid.trim() != "0" {
        bail!(
            "{CHROMIUM} is missing and only root can install it\n\n\
             hint: sudo apt-get update && sudo apt-get install -y chromium chromium-driver"
        );
    }
    shell::run(
        shell::command("sh")
            .args([
                "-c",
                "apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .context("installing Debian's chromium for the browser tests")?;
    for path in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(path).is_file() {
            bail!("apt-get installed chromium but {path} is still missing");
        }
    }
    Ok(())
}

/// Where Debian installs PostgreSQL's server programs, one directory per major version.
const POSTGRES_LIB: &str = "/usr/lib/postgresql";

/// The `bin` directory of the newest PostgreSQL with `initdb` and `pg_ctl`; installs Debian's
/// `postgresql` with apt first when there is none (as root, as on CI; anyone else gets the
/// command to run). The tests and `cargo xtask bench-collector` start a throwaway server with it.
pub(crate) fn ensure_postgres() -> Result<PathBuf> {
    if let Some(bin) = postgres_bin() {
        return Ok(bin);
    }
    let uid = shell::read(shell::command("id").arg("-u")).unwrap_or_default();
    if uid.trim() != "0" {
        bail!(
            "PostgreSQL's initdb and pg_ctl are missing and only root can install them\n\n\
             hint: sudo apt-get update && sudo apt-get install -y postgresql"
        );
    }
    shell::run(
        shell::command("sh")
            .args([
                "-c",
                "apt-get update && apt-get install -y --no-install-recommends postgresql",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .context("installing Debian's postgresql for the store tests")?;
    postgres_bin().with_context(|| {
        format!("apt-get installed postgresql but {POSTGRES_LIB}/*/bin has no initdb and pg_ctl")
    })
}

fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(POSTGRES_LIB)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The version of `package` recorded in the workspace's Cargo.lock.
fn locked_version(package: &str) -> Result<String> {
    let path = project_root().join("Cargo.lock");
    let lock = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() != name_line {
            continue;
        }
        let version = lines
            .next()
            .and_then(|line| line.trim().strip_prefix("version = \""))
            .and_then(|rest| rest.strip_suffix('"'));
        if let Some(version) = version {
            return Ok(version.to_owned());
        }
    }
    bail!("no `{package}` package in {}", path.display())
}

fn modified(path: &Path) -> Result<SystemTime> {
    Ok(fs::metadata(path)?.modified()?)
}
