//! A throwaway PostgreSQL server for the tests and the collector benchmark: Debian's PostgreSQL
//! (installed by `tools::ensure_postgres`), a new cluster under `target/pg`, listening on
//! 127.0.0.1 only on a free port, stopped when the [`Server`] is dropped (also after a failure).
//! It does not tune or secure anything: trust authentication, for loopback tests only.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::shell::{self, project_root};
use crate::tools;

/// The user PostgreSQL runs as when we are root (it refuses to run as root).
const SERVER_USER: &str = "postgres";

/// A running throwaway server.
pub(crate) struct Server {
    bin: PathBuf,
    data: PathBuf,
    /// Whom to run the server programs as: `Some("postgres")` when we are root.
    run_as: Option<&'static str>,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`, the admin database.
    pub(crate) url: String,
}

impl Server {
    /// Installs PostgreSQL if needed, makes a new cluster and starts it.
    pub(crate) fn start() -> Result<Self> {
        let bin = tools::ensure_postgres()?;
        let run_as = is_root().then_some(SERVER_USER);
        let root = cluster_root(run_as)?;
        if root.exists() {
            // What a killed run left behind: stop its server if it still runs, then start anew.
            let data = root.join("data");
            if data.join("postmaster.pid").exists() {
                let _ = shell::run(&mut as_user(
                    run_as,
                    Command::new(bin.join("pg_ctl")).args(["-m", "immediate", "stop", "-D"]),
                    &data,
                ));
            }
            fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
        }
        fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        if let Some(user) = run_as {
            shell::run(Command::new("chown").arg(user).arg(&root))?;
        }
        let data = root.join("data");
        shell::run(&mut as_user(
            run_as,
            Command::new(bin.join("initdb")).args([
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                // Faster set-up; the server itself still fsyncs every commit.
                "--no-sync",
                "-D",
            ]),
            &data,
        ))
        .context("initdb of the throwaway PostgreSQL cluster")?;
        let port = free_port()?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300",
            root.display()
        );
        let log = root.join("server.log");
        shell::run(
            as_user(
                run_as,
                Command::new(bin.join("pg_ctl")).args(["-w", "-t", "60", "-o", &options, "-l"]),
                &log,
            )
            .args(["start", "-D"])
            .arg(&data),
        )
        .with_context(|| format!("starting PostgreSQL (its log: {})", log.display()))?;
        Ok(Self {
            bin,
            data,
            run_as,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        })
    }

    /// What the tests read: the admin URL, and how to restart the server (the fault test).
    pub(crate) fn test_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FORMSEAL_TEST_POSTGRES", self.url.clone()),
            (
                "FORMSEAL_TEST_PG_CTL",
                self.bin.join("pg_ctl").display().to_string(),
            ),
            ("FORMSEAL_TEST_PG_DATA", self.data.display().to_string()),
            (
                "FORMSEAL_TEST_PG_USER",
                self.run_as.unwrap_or_default().to_string(),
            ),
        ]
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut stop = Command::new(self.bin.join("pg_ctl"));
        stop.args(["-m", "fast", "-w", "stop", "-D"]);
        if let Err(err) = shell::run(&mut as_user(self.run_as, &mut stop, &self.data)) {
            eprintln!("warning: the throwaway PostgreSQL did not stop: {err:#}");
        }
    }
}

/// `target/pg`, if the server's user can reach it; else a directory in the system's temp dir
/// (a checkout under a home directory of mode 0700 is closed to the `postgres` user).
fn cluster_root(run_as: Option<&str>) -> Result<PathBuf> {
    let target = project_root().join("target");
    fs::create_dir_all(&target)?;
    let Some(user) = run_as else {
        return Ok(target.join("pg"));
    };
    let reachable = Command::new("runuser")
        .args(["-u", user, "--", "test", "-x"])
        .arg(&target)
        .status()
        .is_ok_and(|status| status.success());
    Ok(if reachable {
        target.join("pg")
    } else {
        std::env::temp_dir().join("formseal-pg")
    })
}

/// `command` with `last` appended, run as `user` through `runuser` when one is given.
fn as_user(user: Option<&str>, command: &mut Command, last: &Path) -> Command {
    let mut full = match user {
        Some(user) => {
            let mut outer = Command::new("runuser");
            outer
                .args(["-u", user, "--"])
                .arg(command.get_program())
                .args(command.get_args());
            outer
        }
        None => {
            let mut same = Command::new(command.get_program());
            same.args(command.get_args());
            same
        }
    };
    // The server programs talk on stdout; a task's stdout is for its results.
    full.arg(last).current_dir("/").stdout(std::io::stderr());
    full
}

fn is_root() -> bool {
    shell::read(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

/// A port nobody listens on right now (the kernel's pick).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    let port = listener.local_addr()?.port();
    if port == 0 {
        bail!("the kernel gave port 0");
    }
    Ok(port)
}
