//! Process harness for the tests that drive real programs: the example servers and
//! third-party peers, over loopback on ports the OS assigns.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory under the system temp dir, removed by the caller's guard.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("smtp-sansio-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The path of an example binary, building it if this run did not.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory");
    let bin = dir.join("examples").join(name);
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--example", name])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building example {name} failed");
    }
    bin
}

/// A running program, killed (and its directories removed) on drop.
pub struct Running {
    child: Child,
    /// Addresses from its `listening on ADDR` lines, in order.
    pub addrs: Vec<SocketAddr>,
    /// Kept open so a peer that serves until stdin closes keeps serving.
    pub stdin: Option<ChildStdin>,
    cleanup: Vec<PathBuf>,
}

impl Running {
    /// Deletes `dir` when the program is dropped.
    pub fn cleanup(mut self, dir: PathBuf) -> Self {
        self.cleanup.push(dir);
        self
    }

    /// Sends SIGINT (Ctrl-C) and waits for a clean exit, returning its status code.
    pub fn interrupt(&mut self, within: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().ok()?;
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
        for d in &self.cleanup {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Starts `cmd` and waits until it has printed `listeners` lines containing
/// `listening on ADDR` (on stdout or stderr).
pub fn spawn(mut cmd: Command, listeners: usize) -> Running {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    for out in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if std::env::var_os("SMTP_SANSIO_TEST_LOG").is_some() {
                    eprintln!("[peer] {line}");
                }
                let _ = tx.send(line);
            }
        });
    }
    let mut addrs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while addrs.len() < listeners {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{cmd:?} did not report listening"));
        if let Some(rest) = line.split("listening on ").nth(1) {
            let a = rest.split([',', ' ']).next().unwrap_or_default();
            addrs.push(
                a.parse()
                    .unwrap_or_else(|e| panic!("address in {line:?}: {e}")),
            );
        }
    }
    let stdin = child.stdin.take();
    Running {
        child,
        addrs,
        stdin,
        cleanup: Vec::new(),
    }
}

/// The messages in a Maildir's `new/`, sorted by file name, each without the trace
/// fields a receiving server prepends ([`strip_trace`]): the bytes the client sent.
pub fn stored(maildir: &Path) -> Vec<Vec<u8>> {
    stored_raw(maildir)
        .into_iter()
        .map(|m| strip_trace(&m).to_vec())
        .collect()
}

/// The files in a Maildir's `new/`, sorted by file name, exactly as stored.
pub fn stored_raw(maildir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(maildir.join("new"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("read message"))
        .collect()
}

/// `msg` without the trace fields at its top: the leading `Received:`, `Return-Path:` and
/// `Delivered-To:` fields (with their continuation lines) that delivering and relaying
/// servers prepend (RFC 5321 4.4). Everything from the first other line on is kept as is.
pub fn strip_trace(msg: &[u8]) -> &[u8] {
    let mut rest = msg;
    let mut in_trace = false;
    loop {
        let Some(n) = rest.iter().position(|&b| b == b'\n') else {
            return rest;
        };
        let line = &rest[..=n];
        let continued = in_trace && matches!(line[0], b' ' | b'\t');
        let lower = line.to_ascii_lowercase();
        let trace = ["received:", "return-path:", "delivered-to:"]
            .iter()
            .any(|name| lower.starts_with(name.as_bytes()));
        if !(continued || trace) {
            return rest;
        }
        in_trace = true;
        rest = &rest[n + 1..];
    }
}

/// The trace block [`strip_trace`] removes from `msg`, as text.
pub fn trace_of(msg: &[u8]) -> String {
    let body = strip_trace(msg);
    String::from_utf8_lossy(&msg[..msg.len() - body.len()]).into_owned()
}

/// True when `program` can be run. Under CI a missing peer is a failure, never a skip.
pub fn available(program: &str, version_arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is required under CI (.ci/run installs it)"
        );
        eprintln!("skipping: {program} is not installed (.ci/run installs it)");
    }
    ok
}

/// True when Python can import `module`; same CI rule as [`available`].
pub fn python_module(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 module {module} is required under CI"
        );
        eprintln!("skipping: python3 module {module} is missing (pip install {module})");
    }
    ok
}

/// Runs a command to completion, asserting success; returns stdout.
pub fn run_ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The directory holding this crate's interop scripts.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
}

/// A self-signed certificate and key for `localhost`, made with the openssl CLI.
pub fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
    ])
    .arg("-keyout")
    .arg(&key)
    .arg("-out")
    .arg(&cert)
    .stderr(Stdio::null());
    run_ok(cmd);
    (cert, key)
}
