//! A throwaway PostgreSQL server (15 here) for the tests of the PostgreSQL store:
//! `initdb` into a temp dir, `pg_ctl start` on a free loopback port (unix
//! socket in the temp dir too), stopped and removed on drop. As root, the
//! server runs as the `postgres` user (it refuses to run as root).
//!
//! Without the binaries the test says it was skipped and why, unless
//! `PARKCRAWL_REQUIRE_POSTGRES=1` (CI sets it): then it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the server binaries are: `PARKCRAWL_PG_BIN`, else the newest
/// major version under Debian's `/usr/lib/postgresql/N/bin` (15 on
/// bookworm; the store needs nothing newer than 12).
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PARKCRAWL_PG_BIN") {
        return PathBuf::from(dir);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|v| Path::new(&format!("/usr/lib/postgresql/{v}/bin/initdb")).exists())
        .max();
    PathBuf::from(format!("/usr/lib/postgresql/{}/bin", newest.unwrap_or(15)))
}

pub struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// Starts a server, or says why it cannot (the test is then skipped).
    /// Panics on a failure of a server that is there.
    pub fn start() -> Result<Postgres, String> {
        let bin = bin_dir();
        if !bin.join("initdb").exists() || !bin.join("pg_ctl").exists() {
            return Err(format!(
                "no PostgreSQL server binaries in {}",
                bin.display()
            ));
        }
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("parkcrawl-pg")
            .tempdir()
            .expect("temp dir");
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path()));
        }
        let mut pg = Postgres {
            dir,
            port: 0,
            as_postgres,
        };
        let data = pg.data();
        pg.run_pg(
            |c| {
                c.arg("-D").arg(&data).args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ])
            },
            "initdb",
        );
        pg.port = free_port();
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=50",
            pg.port,
            pg.dir.path().display()
        );
        let log = pg.dir.path().join("server.log");
        pg.run_pg(
            |c| {
                c.arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(&log)
                    .args(["-w", "-o", &opts, "start"])
            },
            "pg_ctl",
        );
        Ok(pg)
    }

    /// Starts a server, or prints why `test` is skipped and returns `None`;
    /// with `PARKCRAWL_REQUIRE_POSTGRES=1` a missing server is a failure.
    pub fn start_or_skip(test: &str) -> Option<Postgres> {
        match Postgres::start() {
            Ok(pg) => Some(pg),
            Err(why) if std::env::var_os("PARKCRAWL_REQUIRE_POSTGRES").is_some() => {
                panic!("{test}: {why}, and PARKCRAWL_REQUIRE_POSTGRES is set")
            }
            Err(why) => {
                eprintln!("{test}: skipped: {why} (install postgresql to run it)");
                None
            }
        }
    }

    /// The URL of the server's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// CPU seconds (user + system) the server has used since it started:
    /// the postmaster's own and its reaped children's (a connection's
    /// backend exits into them), and its live children's. For the fleet
    /// bench; `None` off Linux or when the server is gone.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let pid_file = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        let pid: u32 = pid_file.lines().next()?.trim().parse().ok()?;
        let own = stat_fields(pid)?;
        // utime, stime, cutime, cstime: fields 14–17 (index 11–14 after the name).
        let mut ticks: u64 = (11..15)
            .filter_map(|i| own.get(i)?.parse::<u64>().ok())
            .sum();
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Some(f) = stat_fields(child) else {
                continue;
            };
            // ppid: field 4 (index 1 after the name).
            if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
                ticks += (11..13)
                    .filter_map(|i| f.get(i)?.parse::<u64>().ok())
                    .sum::<u64>();
            }
        }
        // Clock ticks: 100 per second on Linux.
        Some(ticks as f64 / 100.0)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's programs (as `postgres` when we are root);
    /// panics with its output when it fails.
    fn run_pg(&self, args: impl FnOnce(&mut Command) -> &mut Command, program: &str) {
        let exe = bin_dir().join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        args(&mut cmd);
        let out = cmd.output().unwrap_or_else(|e| panic!("{program}: {e}"));
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{program} failed: {}\n{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.port == 0 {
            return;
        }
        let data = self.data();
        let exe = bin_dir().join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        // Immediate: the data dir is thrown away next.
        let _ = cmd
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fields of `/proc/PID/stat` after the parenthesised command name
/// (field 3, the state, first).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// A port free now on 127.0.0.1 (the server binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}
