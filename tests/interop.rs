//! Interop with real peers nobody here wrote, over loopback TCP on OS-assigned ports:
//! third-party clients against the tokio example server (STARTTLS + AUTH), the `send`
//! example against third-party and own servers, and a concurrent load run. Every message
//! is compared byte for byte with what was sent. `.ci/run` installs the peers; under CI a
//! missing peer fails the test instead of skipping it.

mod peers;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use peers::{
    Running, available, example_binary, interop_dir, python_module, run_ok, spawn, stored, temp_dir,
};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pass";

/// The tokio example server with AUTH required, STARTTLS on a plain listener and an
/// implicit-TLS listener. Returns the running server, plain address, TLS address, maildir.
fn tokio_server(extra: &[&str]) -> (Running, std::net::SocketAddr, std::net::SocketAddr, PathBuf) {
    let dir = temp_dir("tokio");
    let maildir = dir.join("maildir");
    let mut cmd = Command::new(example_binary("server"));
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--implicit-tls",
        "127.0.0.1:0",
        "--maildir",
    ])
    .arg(&maildir)
    .args(["--user", &format!("{USER}:{PASSWORD}")])
    .args(extra);
    let running = spawn(cmd, 2).cleanup(dir);
    let (plain, tls) = (running.addrs[0], running.addrs[1]);
    (running, plain, tls, maildir)
}

/// An open sink (no AUTH) on one plain listener.
fn open_server(example: &str, extra: &[&str]) -> (Running, std::net::SocketAddr, PathBuf) {
    let dir = temp_dir(example);
    let maildir = dir.join("maildir");
    let mut cmd = Command::new(example_binary(example));
    cmd.args(["--listen", "127.0.0.1:0", "--maildir"])
        .arg(&maildir)
        .args(extra);
    let running = spawn(cmd, 1).cleanup(dir);
    let addr = running.addrs[0];
    (running, addr, maildir)
}

/// Writes message files (CRLF line ends, final CRLF: what a receiver stores for them).
fn write_messages(dir: &Path, bodies: &[Vec<u8>]) -> Vec<PathBuf> {
    bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let p = dir.join(format!("m{i}.eml"));
            std::fs::write(&p, b).expect("write message");
            p
        })
        .collect()
}

fn assert_stored_exactly(maildir: &Path, expected: &[Vec<u8>]) {
    let got = stored(maildir);
    assert_eq!(got.len(), expected.len(), "number of stored messages");
    for e in expected {
        let n = got.iter().filter(|g| *g == e).count();
        assert_eq!(
            n,
            1,
            "message {:?} stored {n} times; stored: {:?}",
            String::from_utf8_lossy(e),
            got
        );
    }
}

/// A complete message: with Message-ID and Date, an MSA (`--user`) adds nothing (RFC 6409 8).
fn msg(id: &str, body: &str) -> Vec<u8> {
    format!("Subject: {id}\r\nMessage-ID: <{id}@interop.example>\r\nDate: Thu, 03 Dec 2026 18:59:16 +0000\r\n\r\n{body}").into_bytes()
}

#[test]
fn smtplib_starttls_auth_plain_and_login_8bit_smtputf8_several_messages() {
    if !available("python3", "--version") {
        return;
    }
    let (_server, plain, tls, maildir) = tokio_server(&[]);
    let work = temp_dir("smtplib");
    let mut eight_bit = b"Subject: 8bit\r\nMessage-ID: <8bit@interop.example>\r\n\
        Date: Thu, 03 Dec 2026 18:59:16 +0000\r\n\r\nGr\xc3\xbc\xc3\x9fe \xe2\x82\xac\r\n"
        .to_vec();
    eight_bit.extend_from_slice(b"..two dots\r\n.\r\n.not the end\r\n");
    let bodies = vec![
        eight_bit,
        msg("utf8", "Sent to UTF-8 addresses.\r\n"),
        msg("login-1", "first over LOGIN\r\n"),
        msg("login-2", "second over LOGIN\r\n"),
        msg("implicit", "over implicit TLS\r\n"),
    ];
    let files = write_messages(&work, &bodies);
    let f = |i: usize| files[i].to_string_lossy().into_owned();
    let plans = [
        serde_like_plan(
            plain.port(),
            "starttls",
            "PLAIN",
            &[vec![
                (
                    (
                        "a@example.org",
                        vec!["b@example.org", "c@example.org", "<Postmaster>"],
                    ),
                    f(0),
                    vec!["BODY=8BITMIME"],
                ),
                (
                    (
                        "j\u{f6}rg@example.org",
                        vec!["\u{7528}\u{6237}@\u{4f8b}\u{5b50}.example"],
                    ),
                    f(1),
                    vec!["SMTPUTF8"],
                ),
            ]],
        ),
        serde_like_plan(
            plain.port(),
            "starttls",
            "LOGIN",
            &[vec![
                (("a@example.org", vec!["b@example.org"]), f(2), vec![]),
                (("a@example.org", vec!["b@example.org"]), f(3), vec![]),
            ]],
        ),
        serde_like_plan(
            tls.port(),
            "implicit",
            "PLAIN",
            &[vec![(
                ("a@example.org", vec!["b@example.org"]),
                f(4),
                vec![],
            )]],
        ),
    ];
    for (i, plan) in plans.iter().enumerate() {
        let p = work.join(format!("plan{i}.json"));
        std::fs::write(&p, plan).expect("write plan");
        let mut cmd = Command::new("python3");
        cmd.arg(interop_dir().join("smtplib_send.py")).arg(&p);
        run_ok(cmd);
    }
    // `<Postmaster>` is how smtplib passes a bare path through unchanged.
    assert_stored_exactly(&maildir, &bodies);
    let _ = std::fs::remove_dir_all(work);
}

type Msg<'a> = ((&'a str, Vec<&'a str>), String, Vec<&'a str>);

/// A JSON plan for smtplib_send.py (written by hand to keep the test free of serde).
fn serde_like_plan(port: u16, tls: &str, auth: &str, connections: &[Vec<Msg<'_>>]) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let list = |v: &[&str]| format!("[{}]", v.iter().map(|s| q(s)).collect::<Vec<_>>().join(","));
    let conns: Vec<String> = connections
        .iter()
        .map(|msgs| {
            let m: Vec<String> = msgs
                .iter()
                .map(|((from, to), file, opts)| {
                    let to: Vec<&str> = to
                        .iter()
                        .map(|t| t.trim_start_matches('<').trim_end_matches('>'))
                        .collect();
                    format!(
                        "{{\"from\":{},\"to\":{},\"file\":{},\"options\":{}}}",
                        q(from),
                        list(&to),
                        q(file),
                        list(opts)
                    )
                })
                .collect();
            format!("[{}]", m.join(","))
        })
        .collect();
    format!(
        "{{\"host\":\"127.0.0.1\",\"port\":{port},\"tls\":{},\"auth\":{},\"user\":{},\"password\":{},\"connections\":[{}]}}",
        q(tls),
        q(auth),
        q(USER),
        q(PASSWORD),
        conns.join(",")
    )
}

#[test]
fn curl_starttls_auth() {
    if !available("curl", "--version") {
        return;
    }
    let (_server, plain, _tls, maildir) = tokio_server(&[]);
    let work = temp_dir("curl");
    let body = msg("curl", "Sent by curl over STARTTLS.\r\n.leading dot\r\n");
    let file = &write_messages(&work, std::slice::from_ref(&body))[0];
    let mut cmd = Command::new("curl");
    cmd.args([
        "--silent",
        "--show-error",
        "--ssl-reqd",
        "--insecure",
        "--max-time",
        "30",
    ])
    .args(["--user", &format!("{USER}:{PASSWORD}")])
    .args([
        "--mail-from",
        "alice@example.org",
        "--mail-rcpt",
        "bob@example.org",
        "--mail-rcpt",
        "carol@example.org",
    ])
    .arg("--upload-file")
    .arg(file)
    .arg(format!("smtp://127.0.0.1:{}", plain.port()));
    run_ok(cmd);
    assert_stored_exactly(&maildir, &[body]);
    let _ = std::fs::remove_dir_all(work);
}

#[test]
fn swaks_pipelining_starttls_auth() {
    if !available("swaks", "--version") {
        return;
    }
    let (_server, plain, _tls, maildir) = tokio_server(&[]);
    let work = temp_dir("swaks");
    let body = msg("swaks", "Sent by swaks with PIPELINING.\r\n");
    // swaks ends the data with its own CRLF before the final dot.
    let file = &write_messages(&work, &[body[..body.len() - 2].to_vec()])[0];
    let mut cmd = Command::new("swaks");
    cmd.args([
        "--server",
        &format!("127.0.0.1:{}", plain.port()),
        "--tls",
        "--pipeline",
    ])
    .args([
        "--auth",
        "LOGIN",
        "--auth-user",
        USER,
        "--auth-password",
        PASSWORD,
    ])
    .args([
        "--from",
        "alice@example.org",
        "--to",
        "bob@example.org,carol@example.org",
    ])
    .arg("--data")
    .arg(format!("@{}", file.display()))
    .args(["--timeout", "30"])
    .stdin(Stdio::null());
    run_ok(cmd);
    assert_stored_exactly(&maildir, &[body]);
    let _ = std::fs::remove_dir_all(work);
}

#[test]
fn lettre_starttls_auth() {
    let manifest = interop_dir().join("lettre-client").join("Cargo.toml");
    // Its own target directory, named here: a CARGO_TARGET_DIR in the environment (as in
    // mutation-testing runs) must not move the binary away from where it is looked for.
    let target = interop_dir().join("lettre-client").join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(&cargo);
    build
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target);
    if let Err(e) = build
        .status()
        .map(|s| assert!(s.success(), "building the lettre client failed"))
    {
        panic!("cargo: {e}");
    }
    let bin = target.join("debug").join("lettre-client");
    let (_server, plain, _tls, maildir) = tokio_server(&[]);
    let body = msg("lettre", "Sent by lettre.\r\n..dot\r\n");
    let mut child = Command::new(bin)
        .args([
            "127.0.0.1",
            &plain.port().to_string(),
            USER,
            PASSWORD,
            "alice@example.org",
            "bob@example.org",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lettre client");
    use std::io::Write;
    // lettre, like swaks, ends the data with its own CRLF before the final dot.
    let sent = &body[..body.len() - 2];
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sent)
        .expect("write body");
    let out = child.wait_with_output().expect("lettre client output");
    assert!(
        out.status.success(),
        "lettre failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_stored_exactly(&maildir, &[body]);
}

/// The `send` example: runs it with `args`, feeding `body` on stdin; returns stdout.
fn send_example(args: &[String], body: &[u8]) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(example_binary("send"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run send");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("write body");
    let out = child.wait_with_output().expect("send output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn send_example_to_aiosmtpd_with_starttls_and_auth() {
    if !available("openssl", "version") || !python_module("aiosmtpd") {
        return;
    }
    let work = temp_dir("aiosmtpd");
    let (cert, key) = peers::self_signed(&work);
    let out = work.join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    let mut cmd = Command::new("python3");
    cmd.arg(interop_dir().join("aiosmtpd_upstream.py"))
        .arg(&cert)
        .arg(&key)
        .arg(&out)
        .args([USER, PASSWORD]);
    let upstream = spawn(cmd, 1).cleanup(work.clone());
    let body = b"Subject: via send\r\n\r\nbare LF here\nand a lone dot:\n.\nend\r\n".to_vec();
    let args: Vec<String> = [
        "--server",
        &upstream.addrs[0].to_string(),
        "--from",
        "alice@example.org",
        "--to",
        "bob@example.org",
        "--to",
        "carol@example.org",
        "--starttls",
        "required",
        "--user",
        &format!("{USER}:{PASSWORD}"),
        "--insecure",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, text) = send_example(&args, &body);
    assert!(ok, "send failed: {text}");
    let got = std::fs::read(out.join("1.eml")).expect("aiosmtpd saved the message");
    // The client normalises bare LF to CRLF and dot-stuffs; the server unstuffs.
    assert_eq!(
        got,
        b"Subject: via send\r\n\r\nbare LF here\r\nand a lone dot:\r\n.\r\nend\r\n".to_vec()
    );
    let env = std::fs::read_to_string(out.join("1.env")).expect("envelope");
    assert!(
        env.contains("bob@example.org") && env.contains("carol@example.org"),
        "{env}"
    );
}

#[test]
fn send_example_to_own_servers() {
    let body = msg("own", "To our own servers.\r\n.\r\n..\r\n");
    // tokio server: STARTTLS + AUTH, BDAT.
    let (_server, plain, _tls, maildir) = tokio_server(&[]);
    let args: Vec<String> = [
        "--server",
        &plain.to_string(),
        "--from",
        "alice@example.org",
        "--to",
        "bob@example.org",
        "--user",
        &format!("{USER}:{PASSWORD}"),
        "--insecure",
        "--bdat",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, text) = send_example(&args, &body);
    assert!(ok, "send to the tokio server failed: {text}");
    assert_stored_exactly(&maildir, std::slice::from_ref(&body));

    // blocking server: plain, DATA.
    let (_b, addr, bmaildir) = open_server("blocking_server", &[]);
    let args: Vec<String> = [
        "--server",
        &addr.to_string(),
        "--from",
        "alice@example.org",
        "--to",
        "bob@example.org",
        "--starttls",
        "opportunistic",
        "--insecure",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, text) = send_example(&args, &body);
    assert!(ok, "send to the blocking server failed: {text}");
    assert_stored_exactly(&bmaildir, &[body]);
}

/// The body load.py sends as message `i` (kept in step with the script).
fn load_message(i: usize) -> Vec<u8> {
    let mut body = String::new();
    for k in 0..(i % 40 + 1) {
        body.push_str(&format!(
            "line {k} of message {i} .{}\r\n",
            "x".repeat(k % 70)
        ));
    }
    format!("X-Id: {i}\r\nSubject: load {i}\r\n\r\n{body}").into_bytes()
}

#[test]
fn load_20_clients_2000_messages_none_lost_none_twice() {
    if !available("python3", "--version") {
        return;
    }
    let (_server, addr, maildir) = open_server("server", &[]);
    let mut cmd = Command::new("python3");
    cmd.arg(interop_dir().join("load.py")).args([
        "127.0.0.1",
        &addr.port().to_string(),
        "20",
        "2000",
    ]);
    run_ok(cmd);
    let got = stored(&maildir);
    assert_eq!(got.len(), 2000, "every message stored");
    let want: HashSet<Vec<u8>> = (0..2000).map(load_message).collect();
    let got_set: HashSet<Vec<u8>> = got.into_iter().collect();
    assert_eq!(got_set.len(), 2000, "no message stored twice");
    assert!(got_set == want, "every message intact");
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn ctrl_c_mid_load_loses_no_acknowledged_message() {
    if !available("python3", "--version") {
        return;
    }
    let (mut server, addr, maildir) = open_server("server", &[]);
    let work = temp_dir("ctrlc");
    let acked_file = work.join("acked.txt");
    let mut load = Command::new("python3")
        .arg(interop_dir().join("load.py"))
        .args(["127.0.0.1", &addr.port().to_string(), "20", "5000"])
        .arg(&acked_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start load");
    // Interrupt once the load is well under way.
    let started = std::time::Instant::now();
    while stored(&maildir).len() < 200 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = server.interrupt(Duration::from_secs(20));
    assert_eq!(code, Some(0), "the server exits cleanly on Ctrl-C");
    let _ = load.wait();

    let acked: HashSet<usize> = std::fs::read_to_string(&acked_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect();
    assert!(
        acked.len() >= 200,
        "the load was under way ({} acknowledged)",
        acked.len()
    );
    let got = stored(&maildir);
    let got_set: HashSet<Vec<u8>> = got.iter().cloned().collect();
    assert_eq!(got_set.len(), got.len(), "no message stored twice");
    let all: Vec<Vec<u8>> = (0..5000).map(load_message).collect();
    for m in &got {
        assert!(
            all.contains(m),
            "a stored message is intact: {:?}",
            String::from_utf8_lossy(&m[..m.len().min(40)])
        );
    }
    for i in &acked {
        assert!(
            got_set.contains(&all[*i]),
            "acknowledged message {i} was stored"
        );
    }
    let _ = std::fs::remove_dir_all(work);
}

/// Postfix's own SMTP server code, as `smtp-sink` (Debian's postfix package): the `send`
/// example delivers through it with PIPELINING. smtp-sink's dump (`-D`) writes the
/// envelope as `X-*` lines and a `Received:` header, then the message with LF line ends
/// and one blank line more; the comparison undoes exactly that.
#[test]
fn send_example_to_postfix_smtp_sink() {
    if !std::path::Path::new("/usr/sbin/smtp-sink").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "smtp-sink (Debian postfix) is required under CI"
        );
        eprintln!("skipping: smtp-sink is not installed (apt-get install postfix)");
        return;
    }
    let work = temp_dir("smtp-sink");
    let dump = work.join("dump");
    std::fs::create_dir_all(&dump).expect("dump dir");
    // smtp-sink drops privileges to the -u user, which must be able to write the dump.
    let _ = Command::new("chmod")
        .arg("777")
        .arg(&work)
        .arg(&dump)
        .status();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let mut sink = Command::new("/usr/sbin/smtp-sink")
        .args(["-u", "nobody", "-D"])
        .arg(dump.join("msg"))
        .arg(format!("127.0.0.1:{port}"))
        .arg("5")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp-sink");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "smtp-sink did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let body =
        b"Subject: to postfix\r\n\r\n.leading dot\r\n..two\r\n8bit \xc3\xa9\r\nend\r\n".to_vec();
    let args: Vec<String> = [
        "--server",
        &format!("127.0.0.1:{port}"),
        "--from",
        "alice@example.org",
        "--to",
        "bob@example.org",
        "--to",
        "carol@example.org",
        "--starttls",
        "never",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, text) = send_example(&args, &body);
    let _ = sink.kill();
    let _ = sink.wait();
    assert!(ok, "send to smtp-sink failed: {text}");
    let dumped = std::fs::read(dump.join("msg")).expect("smtp-sink dumped the message");
    let text = String::from_utf8_lossy(&dumped);
    assert!(text.contains("X-Mail-Args: <alice@example.org>"), "{text}");
    assert!(
        text.contains("X-Rcpt-Args: <bob@example.org>")
            && text.contains("X-Rcpt-Args: <carol@example.org>")
    );
    // Skip the X-* envelope lines and the Received header (with its continuation lines).
    let mut lines = dumped.split(|&b| b == b'\n').peekable();
    while let Some(l) = lines.peek() {
        if l.starts_with(b"X-") || l.starts_with(b"Received:") || l.starts_with(b"\t") {
            lines.next();
        } else {
            break;
        }
    }
    let rest: Vec<&[u8]> = lines.collect();
    let message = rest.join(&b'\n');
    let want: Vec<u8> = body
        .iter()
        .copied()
        .filter(|&b| b != b'\r')
        .chain(*b"\n")
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&message),
        String::from_utf8_lossy(&want)
    );
    let _ = std::fs::remove_dir_all(work);
}

/// RFC 5321 4.5.3.2.7: a client that goes quiet is told `421` and disconnected once the
/// command timeout passes, also after it has been active (the tokio server keeps one
/// timer per session and only moves it when it fires early).
#[test]
fn idle_client_gets_421_after_the_command_timeout() {
    use std::io::{BufRead, BufReader, Write};
    use std::time::Instant;
    for example in ["server", "blocking_server"] {
        let (_server, addr, _maildir) = open_server(example, &["--command-timeout", "1"]);
        let tcp = std::net::TcpStream::connect(addr).expect("connect");
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        let mut r = BufReader::new(tcp.try_clone().expect("clone"));
        let mut w = tcp;
        let mut line = String::new();
        r.read_line(&mut line).expect("greeting");
        assert!(line.starts_with("220 "), "{example}: {line}");
        // Some activity first, each command restarting the clock.
        for _ in 0..3 {
            w.write_all(b"NOOP\r\n").expect("write");
            line.clear();
            r.read_line(&mut line).expect("noop reply");
            assert!(line.starts_with("250 "), "{example}: {line}");
            std::thread::sleep(std::time::Duration::from_millis(400));
        }
        let quiet = Instant::now();
        line.clear();
        r.read_line(&mut line).expect("421");
        let waited = quiet.elapsed();
        assert!(line.starts_with("421 4.4.2 "), "{example}: {line:?}");
        assert!(
            waited >= std::time::Duration::from_millis(500),
            "{example}: 421 after {waited:?}, before the timeout"
        );
        line.clear();
        assert_eq!(r.read_line(&mut line).expect("eof"), 0, "{example}: {line}");
    }
}
