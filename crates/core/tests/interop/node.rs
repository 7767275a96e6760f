//! Runs a node script of `tests/interop/` from the repository root (so that its imports
//! resolve from `node_modules` and `src/`), with a JSON request on stdin, and returns its JSON
//! answer. Shared by the tests that hold the core against JS. It fails, never skips, when node
//! is missing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `node crates/core/tests/interop/SCRIPT ARGS...` with `request` on stdin; its JSON answer.
pub(crate) fn run(script: &str, args: &[&str], request: &Value) -> Value {
    let mut child = Command::new("node")
        .arg(format!("crates/core/tests/interop/{script}"))
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run `node` (install Node.js 20 or later): {err}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{script} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{script} answers JSON: {e}"))
}
