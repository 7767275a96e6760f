//! Running external programs from tasks: every command is echoed to stderr before it runs,
//! and a failure names the command. Paths here are relative to the project root.
//! This module does not decide what to run; the tasks do.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root: the parent of this crate's directory.
///
/// Read at run time (`cargo run` sets `CARGO_MANIFEST_DIR` for the program) before the path
/// compiled in: with a build directory shared between checkouts (`CARGO_BUILD_BUILD_DIR`),
/// cargo may run an xtask binary compiled in another checkout, whose compiled-in path would
/// make it build and write that checkout's `pkg/`.
pub(crate) fn project_root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A `cargo` command, using the same cargo that runs this xtask (and so the same toolchain).
/// Under `CI=true` incremental compilation is off: a fresh clone builds everything once, and
/// incremental state would only cost time and disk.
pub(crate) fn cargo() -> Command {
    let mut cmd = command(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    if env::var_os("CI").is_some_and(|ci| ci == "true") {
        cmd.env("CARGO_INCREMENTAL", "0");
    }
    cmd
}

/// The toolchain's `clippy-driver`, next to the cargo that runs this xtask (rustup sets `CARGO`
/// to the toolchain's own binary); else whatever `clippy-driver` is on `PATH`.
pub(crate) fn clippy_driver() -> PathBuf {
    env::var_os("CARGO")
        .map(|cargo| PathBuf::from(cargo).with_file_name("clippy-driver"))
        .filter(|driver| driver.is_file())
        .unwrap_or_else(|| PathBuf::from("clippy-driver"))
}

/// Has the cargo command `cmd` compile the workspace's crates with `clippy-driver` and `-D
/// warnings`, as `cargo clippy -- -D warnings` does; the driver also compiles, so the build is
/// linted at no extra cost.
pub(crate) fn lint_with_clippy(cmd: &mut Command) {
    cmd.env("RUSTC_WORKSPACE_WRAPPER", clippy_driver())
        // How `cargo clippy -- -D warnings` hands its arguments to the driver.
        .env(
            "CLIPPY_ARGS",
            "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
        );
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set, else `target/` in the project.
pub(crate) fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                project_root().join(dir)
            }
        })
        .unwrap_or_else(|| project_root().join("target"))
}

/// A command that runs in the project root.
pub(crate) fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(project_root());
    cmd
}

/// Echoes `cmd`, runs it with inherited stdio and fails unless it exits with success.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = display(cmd);
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Echoes `cmd`, runs it and returns its standard output; fails unless it exits with success.
pub(crate) fn read(cmd: &mut Command) -> Result<String> {
    let shown = display(cmd);
    eprintln!("$ {shown}");
    let output = cmd
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    stdout_of(&shown, output)
}

/// Echoes `cmd`, runs it with `input` on its standard input and returns its standard output;
/// fails unless it exits with success.
pub(crate) fn pipe(cmd: &mut Command, input: &str) -> Result<String> {
    use std::io::Write as _;
    use std::process::Stdio;

    let shown = display(cmd);
    eprintln!("$ {shown} < …");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let mut stdin = child.stdin.take().context("no stdin")?;
    let input = input.to_owned();
    // Written from a thread: a child that fills its stdout pipe before reading all its input
    // would otherwise wait for us while we wait for it.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .with_context(|| format!("running `{shown}`"))?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to `{shown}` panicked"))?
        .with_context(|| format!("writing to `{shown}`"))?;
    stdout_of(&shown, output)
}

/// The standard output of the finished command `shown`; an error with its stderr unless it
/// exited with success.
fn stdout_of(shown: &str, output: std::process::Output) -> Result<String> {
    if !output.status.success() {
        bail!(
            "`{shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).with_context(|| format!("`{shown}` printed non-UTF-8"))
}

/// The command as one would type it in the project root (without quoting; it is for people
/// to read): programs inside the project are shown relative to it, others by their name.
fn display(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let root = project_root();
    let program = match program.strip_prefix(&root) {
        Ok(inside) => inside,
        Err(_) if program.is_absolute() => program.file_name().map_or(program, Path::new),
        Err(_) => program,
    };
    let mut shown = program.to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_hands_input_and_returns_output_even_when_both_are_large() {
        // Larger than a pipe's buffer both ways: written from a thread, so no deadlock.
        let input = "formseal\n".repeat(200_000);
        assert_eq!(pipe(&mut Command::new("cat"), &input).unwrap(), input);
    }

    #[test]
    fn a_failing_command_is_an_error_with_its_stderr() {
        let err = pipe(
            Command::new("sh").args(["-c", "cat >/dev/null; echo broken >&2; exit 3"]),
            "x",
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("broken") && text.contains("sh -c"), "{text}");
        assert!(read(&mut Command::new("false")).is_err());
    }
}
