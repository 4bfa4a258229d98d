//! Drives both example servers (`examples/server`, tokio, and `examples/blocking_server`)
//! over real TCP on ports the OS assigns: the Maildir is checked byte for byte, and the
//! attacks of `tests/server_attacks.rs` (smuggling, STARTTLS command injection, endless
//! lines, floods) are replayed against the real run loops.

mod peers;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use peers::{Running, example_binary, spawn, stored, temp_dir};

struct ServerProcess {
    _running: Running,
    addr: SocketAddr,
    maildir: PathBuf,
}

const EXAMPLES: [&str; 2] = ["server", "blocking_server"];

fn start(example: &str, extra: &[&str]) -> ServerProcess {
    let maildir = temp_dir(example);
    let mut cmd = Command::new(example_binary(example));
    cmd.args(["--listen", "127.0.0.1:0", "--maildir"])
        .arg(&maildir)
        .args(extra);
    let running = spawn(cmd, 1).cleanup(maildir.clone());
    let addr = running.addrs[0];
    ServerProcess {
        _running: running,
        addr,
        maildir,
    }
}

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut c = Self {
            stream,
            buf: Vec::new(),
        };
        assert!(c.reply().starts_with("220 "));
        c
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// One complete reply (all its lines), as text.
    fn reply(&mut self) -> String {
        let mut out = String::new();
        loop {
            while let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                let line = String::from_utf8_lossy(&line[..pos]).into_owned();
                out.push_str(&line);
                out.push('\n');
                if line.as_bytes().get(3) != Some(&b'-') {
                    return out;
                }
            }
            let mut tmp = [0u8; 4096];
            let n = self.stream.read(&mut tmp).expect("read reply");
            assert!(
                n > 0,
                "connection closed while waiting for a reply; got so far: {out:?}"
            );
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }
}

#[test]
fn pipelined_session_stores_exact_bytes_and_never_ends_on_smuggled_dot() {
    for example in EXAMPLES {
        pipelined_session(example);
    }
}

fn pipelined_session(example: &str) {
    let server = start(example, &[]);
    let mut c = Client::connect(server.addr);
    let ehlo = c.cmd("EHLO client.example");
    assert!(
        ehlo.contains("PIPELINING") && ehlo.contains("CHUNKING"),
        "{ehlo}"
    );

    // One pipelined group: MAIL, two RCPTs, DATA (RFC 2920).
    c.send(b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n");
    assert!(c.reply().starts_with("250 2.1.0"));
    assert!(c.reply().starts_with("250 2.1.5"));
    assert!(c.reply().starts_with("250 2.1.5"));
    assert!(c.reply().starts_with("354"));
    c.send(b"Subject: t\r\n\r\n..dotted\r\n8bit \xc3\xa9\r\n.\r\n");
    assert!(c.reply().starts_with("250 2.0.0"));

    // Smuggling attempt: `\n.\n` must not end the message; the message is refused at the
    // real end and the smuggled transaction never runs.
    assert!(c.cmd("MAIL FROM:<mallory@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bob@example.org>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    c.send(b"hello\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nspoof\r\n.\r\n");
    let r = c.reply();
    assert!(r.starts_with("550 5.6.0"), "{r}");
    assert!(c.cmd("NOOP").starts_with("250"));

    // BDAT in two chunks.
    assert!(
        c.cmd("MAIL FROM:<alice@example.org> BODY=BINARYMIME")
            .starts_with("250")
    );
    assert!(c.cmd("RCPT TO:<bob@example.org>").starts_with("250"));
    c.send(b"BDAT 6\r\nbin\0\r\nBDAT 3 LAST\r\n.\r\n");
    assert!(c.reply().starts_with("250 2.0.0 6 octets"));
    assert!(c.reply().starts_with("250 2.0.0"));
    assert!(c.cmd("QUIT").starts_with("221"));

    let msgs = stored(&server.maildir);
    assert_eq!(
        msgs.len(),
        2,
        "exactly the two accepted messages are stored"
    );
    let expected: [&[u8]; 2] = [
        b"Subject: t\r\n\r\n.dotted\r\n8bit \xc3\xa9\r\n",
        b"bin\0\r\n.\r\n",
    ];
    for e in expected {
        assert!(
            msgs.iter().any(|m| m == e),
            "missing {:?} in {:?}",
            String::from_utf8_lossy(e),
            msgs
        );
    }
}

#[test]
fn concurrent_clients_each_message_stored_once() {
    for example in EXAMPLES {
        concurrent_clients(example);
    }
}

fn concurrent_clients(example: &str) {
    let server = start(example, &["--max-recipients", "5"]);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                assert!(c.cmd("EHLO c.example").starts_with("250"));
                for m in 0..5 {
                    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
                    assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
                    assert!(c.cmd("DATA").starts_with("354"));
                    c.send(format!("X-Id: {t}-{m}\r\n\r\nbody\r\n.\r\n").as_bytes());
                    assert!(c.reply().starts_with("250"));
                }
                assert!(c.cmd("QUIT").starts_with("221"));
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let msgs = stored(&server.maildir);
    assert_eq!(msgs.len(), 40);
    let mut ids: Vec<String> = msgs
        .iter()
        .map(|m| String::from_utf8_lossy(&m[..m.len().min(12)]).into_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no message stored twice");
}

/// STARTTLS command injection (CVE-2011-0411 class): a command pipelined behind STARTTLS
/// in the same packet must never run, neither before nor after the handshake. The server
/// answers 220 and then waits for a TLS ClientHello; the injected MAIL gets no reply.
#[test]
fn starttls_injection_against_examples() {
    for example in EXAMPLES {
        let server = start(example, &[]);
        let mut c = Client::connect(server.addr);
        assert!(c.cmd("EHLO client.example").contains("STARTTLS"));
        c.send(b"STARTTLS\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\n");
        let r = c.reply();
        assert!(r.starts_with("220 "), "{example}: {r}");
        c.stream
            .set_read_timeout(Some(Duration::from_millis(700)))
            .expect("timeout");
        let mut tmp = [0u8; 512];
        match c.stream.read(&mut tmp) {
            // EOF or a TLS alert are fine; an SMTP reply to the injected MAIL is not.
            Ok(n) => assert!(
                !tmp[..n].starts_with(b"250") && !tmp[..n].starts_with(b"503"),
                "{example}: injected command answered: {:?}",
                String::from_utf8_lossy(&tmp[..n])
            ),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "{example}: {e}"
            ),
        }
        assert!(stored(&server.maildir).is_empty(), "{example}");
    }
}

/// An endless line (5 MB without CRLF) is refused once it ends, without buffering it,
/// and the session goes on; then a flood of 20,000 pipelined NOOPs is answered in order.
#[test]
fn overlong_line_and_pipelined_flood_against_examples() {
    for example in EXAMPLES {
        let server = start(example, &[]);
        let mut c = Client::connect(server.addr);
        assert!(c.cmd("EHLO client.example").starts_with("250"));
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..80 {
            c.send(&chunk);
        }
        let r = c.cmd("");
        assert!(r.starts_with("500 5.5.2"), "{example}: {r}");
        assert!(c.cmd("NOOP").starts_with("250"), "{example}");
        // The flood goes out from another thread while this one reads the replies, so
        // neither side's socket buffer can fill up and stall the other.
        let mut w = c.stream.try_clone().expect("clone");
        let writer = std::thread::spawn(move || {
            let flood = b"NOOP\r\n".repeat(20_000);
            w.write_all(&flood).expect("flood");
        });
        for i in 0..20_000 {
            let r = c.reply();
            assert!(r.starts_with("250"), "{example}: reply {i}: {r}");
        }
        writer.join().expect("writer");
        assert!(c.cmd("QUIT").starts_with("221"), "{example}");
    }
}

/// A connection flood meets `--max-sessions`: connections over the cap get `421 4.3.2`
/// and are closed at once, the sessions in progress go on, and a slot freed by a QUIT is
/// served again.
#[test]
fn connection_flood_gets_421_over_max_sessions() {
    for example in EXAMPLES {
        let server = start(example, &["--max-sessions", "2"]);
        let mut a = Client::connect(server.addr);
        let mut b = Client::connect(server.addr);
        for _ in 0..5 {
            let mut over = TcpStream::connect(server.addr).expect("connect");
            over.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut got = Vec::new();
            // The server writes its 421 and closes: read to the end.
            let _ = over.read_to_end(&mut got);
            let got = String::from_utf8_lossy(&got);
            assert!(got.starts_with("421 4.3.2 "), "{example}: {got:?}");
        }
        assert!(a.cmd("NOOP").starts_with("250"), "{example}");
        assert!(b.cmd("QUIT").starts_with("221"), "{example}");
        // The freed slot is taken back once the session has ended; allow it a moment.
        let mut served = false;
        for _ in 0..100 {
            let mut c = TcpStream::connect(server.addr).expect("connect");
            c.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut first = [0u8; 4];
            if c.read_exact(&mut first).is_ok() && &first == b"220 " {
                served = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(served, "{example}: a freed slot was never served again");
        assert!(a.cmd("QUIT").starts_with("221"), "{example}");
    }
}

/// RFC 6409 4.3, RFC 5321 7.9: `--relay` without `--user` is an open relay unless every
/// listener is on loopback; it is refused at start (exit 2, like other option errors)
/// before any listener is bound.
#[test]
fn relay_without_users_is_refused_unless_every_listener_is_loopback() {
    for listeners in [
        &["--listen", "0.0.0.0:0"][..],
        &["--listen", "127.0.0.1:0", "--implicit-tls", "0.0.0.0:0"][..],
    ] {
        let out = Command::new(example_binary("server"))
            .args(listeners)
            .args(["--relay", "127.0.0.1:9", "--discard"])
            .output()
            .expect("run server");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{listeners:?}: {err}");
        assert!(err.contains("open relay"), "{err}");
        assert!(
            !err.contains("listening on"),
            "bound before refusing: {err}"
        );
    }
    // On loopback only it starts (the upstream need not be up).
    let mut cmd = Command::new(example_binary("server"));
    cmd.args(["--listen", "127.0.0.1:0", "--relay", "127.0.0.1:9"]);
    let running = spawn(cmd, 1);
    let mut c = Client::connect(running.addrs[0]);
    assert!(c.cmd("QUIT").starts_with("221"));
}

/// Submits one message with Python's smtplib (STARTTLS, AUTH PLAIN) through
/// `tests/interop/smtplib_send.py`: whether it was accepted, and what was printed.
fn submit(addr: SocketAddr, login: (&str, &str), from: &str) -> (bool, String) {
    let dir = temp_dir("submit");
    let file = dir.join("msg.eml");
    std::fs::write(&file, b"Subject: identity\r\n\r\nbody\r\n").expect("write message");
    let plan = dir.join("plan.json");
    let json = format!(
        r#"{{"host": "127.0.0.1", "port": {}, "tls": "starttls", "auth": "PLAIN",
            "user": "{}", "password": "{}",
            "connections": [[{{"from": "{from}", "to": ["rcpt@example.net"], "file": "{}"}}]]}}"#,
        addr.port(),
        login.0,
        login.1,
        file.display()
    );
    std::fs::write(&plan, json).expect("write plan");
    let out = Command::new("python3")
        .arg(peers::interop_dir().join("smtplib_send.py"))
        .arg(&plan)
        .output()
        .expect("run python3");
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// RFC 6409 6.1: `--user NAME:PASSWORD:ADDRESSES` binds an account to its senders
/// (domain in any case, local part exact, `*@domain` for a domain); another sender gets
/// `553 5.7.1`; `<>` stays allowed; `NAME:PASSWORD` (even with `:` in the password)
/// still means any sender.
#[test]
fn accounts_with_addresses_may_send_only_as_them() {
    for example in EXAMPLES {
        let server = start(
            example,
            &[
                "--user",
                "alice:secret:alice@example.org,*@alice.example",
                "--user",
                "bob:pass:word",
            ],
        );
        let alice = ("alice", "secret");
        for from in [
            "mallory@example.org",
            "Alice@example.org",
            "alice@other.example",
        ] {
            let (ok, said) = submit(server.addr, alice, from);
            assert!(!ok, "{example}: {from} accepted: {said}");
            assert!(said.contains("553") && said.contains("5.7.1"), "{said}");
        }
        for from in ["alice@EXAMPLE.org", "anyone@alice.example", ""] {
            let (ok, said) = submit(server.addr, alice, from);
            assert!(ok, "{example}: {from:?} refused: {said}");
        }
        let (ok, said) = submit(server.addr, ("bob", "pass:word"), "whoever@example.com");
        assert!(ok, "{example}: {said}");
        assert_eq!(stored(&server.maildir).len(), 4, "{example}");
    }
}

/// RFC 6409 4.2 and RFC 5321 2.3.5: as a submission server (`--user`), a sender with a
/// one-label domain is refused (`553 5.1.8`), never passed on as it is.
#[test]
fn submission_server_refuses_unqualified_sender_domains() {
    for example in EXAMPLES {
        let server = start(example, &["--user", "carol:pw"]);
        let (ok, said) = submit(server.addr, ("carol", "pw"), "carol@mailhost");
        assert!(!ok, "{example}: accepted: {said}");
        assert!(
            said.contains("553") && said.contains("5.1.8"),
            "{example}: {said}"
        );
        let (ok, said) = submit(server.addr, ("carol", "pw"), "carol@mail.example");
        assert!(ok, "{example}: {said}");
        assert_eq!(stored(&server.maildir).len(), 1, "{example}");
    }
}

/// What the example programs call themselves by default: the machine's fully
/// qualified name, or the address literal of the listener.
fn expected_default_name(ip: &str) -> Vec<String> {
    let mut names = vec![format!("[{ip}]")];
    let proc = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    for n in [proc, std::env::var("HOSTNAME").unwrap_or_default()] {
        let n = n.trim().trim_end_matches('.').to_owned();
        if n.contains('.') && !n.starts_with("localhost") {
            names.push(n);
        }
    }
    names
}

/// RFC 5321 2.3.5, 4.1.1.1: greeting and EHLO name the host by its FQDN or an address
/// literal, never `localhost`, unless `--hostname` says otherwise.
#[test]
fn servers_name_the_machine_not_localhost_unless_told() {
    for example in EXAMPLES {
        let server = start(example, &[]);
        let mut c = Client::connect_raw(server.addr);
        let greeting = c.reply();
        let name = greeting.split(' ').nth(1).unwrap_or_default().to_owned();
        assert!(
            expected_default_name("127.0.0.1").contains(&name),
            "{example}: {greeting}"
        );
        let ehlo = c.cmd("EHLO client.example");
        assert!(
            ehlo.starts_with(&format!("250-{name}")),
            "{example}: {ehlo}"
        );

        let server = start(example, &["--hostname", "mx.example.test"]);
        let mut c = Client::connect_raw(server.addr);
        let greeting = c.reply();
        assert!(greeting.starts_with("220 mx.example.test "), "{greeting}");
        let ehlo = c.cmd("EHLO client.example");
        assert!(ehlo.starts_with("250-mx.example.test"), "{ehlo}");
    }
}

/// `send` says EHLO with the machine's name or the address literal of its end of the
/// connection, or with `--hostname`.
#[test]
fn send_names_the_machine_in_ehlo_unless_told() {
    for (extra, want) in [
        (None, expected_default_name("127.0.0.1")),
        (
            Some("client.example.test"),
            vec!["client.example.test".to_owned()],
        ),
    ] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            s.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            s.write_all(b"220 sink.example ESMTP\r\n").expect("greet");
            let mut line = Vec::new();
            let mut b = [0u8; 1];
            while !line.ends_with(b"\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
                line.push(b[0]);
            }
            let _ = s.write_all(b"421 4.3.2 Closing (test)\r\n");
            String::from_utf8_lossy(&line).trim_end().to_owned()
        });
        let mut cmd = Command::new(example_binary("send"));
        cmd.args(["--server", &addr.to_string(), "--from", "a@example.org"])
            .args(["--to", "b@example.org", "--starttls", "never"])
            .stdin(std::process::Stdio::null());
        if let Some(h) = extra {
            cmd.args(["--hostname", h]);
        }
        let _ = cmd.output().expect("run send");
        let ehlo = peer.join().expect("peer");
        let name = ehlo.strip_prefix("EHLO ").unwrap_or_default().to_owned();
        assert!(want.contains(&name), "{ehlo:?} not one of {want:?}");
    }
}

impl Client {
    /// Connects without reading the greeting.
    fn connect_raw(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Self {
            stream,
            buf: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------- trace fields (RFC 5321 4.4)

/// The trace block of a stored file with folds undone, one field per entry: our
/// Received, then Return-Path and the Delivered-To fields (the stored order is checked).
fn trace_fields(raw: &[u8]) -> Vec<String> {
    let block = peers::trace_of(raw);
    for line in block.split_inclusive('\n') {
        assert!(
            line.ends_with("\r\n"),
            "a trace line without CRLF: {block:?}"
        );
        assert!(
            line.len() <= 1000,
            "a trace line over 998 octets: {block:?}"
        );
        let inner = &line[..line.len() - 2];
        assert!(
            !inner.bytes().any(|b| b.is_ascii_control() && b != b'\t'),
            "control byte in {block:?}"
        );
    }
    let mut fields: Vec<String> = Vec::new();
    for line in block.split("\r\n").filter(|l| !l.is_empty()) {
        match (line.starts_with([' ', '\t']), fields.last_mut()) {
            // Unfolded, with the fold's white space written as one space.
            (true, Some(f)) => {
                f.push(' ');
                f.push_str(line.trim_start_matches([' ', '\t']));
            }
            _ => fields.push(line.to_owned()),
        }
    }
    // Stored order: Return-Path and Delivered-To, inserted at final delivery, above our
    // Received (RFC 5321 4.4). Returned with the Received first, the others after it.
    let received = fields.pop().unwrap_or_default();
    assert!(received.starts_with("Received: "), "{fields:?} {received}");
    assert!(
        fields
            .first()
            .is_some_and(|f| f.starts_with("Return-Path: ")),
        "{fields:?}"
    );
    assert!(
        fields[1..].iter().all(|f| f.starts_with("Delivered-To: ")),
        "{fields:?}"
    );
    fields.insert(0, received);
    fields
}

/// Runs `examples/send` with `args`, feeding `body`; panics unless it succeeds.
fn send_example(args: &[&str], body: &[u8]) {
    use std::process::Stdio;
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
    assert!(
        out.status.success(),
        "send {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stored_message_starts_with_return_path_and_delivered_to_then_received() {
    for example in EXAMPLES {
        let server = start(example, &["--hostname", "mx.test"]);
        let mut c = Client::connect(server.addr);
        assert!(c.cmd("EHLO client.example").starts_with("250"));
        let one = b"Subject: one\r\n\r\nReceived: not a header here\r\n..dot\r\n";
        assert!(c.cmd("MAIL FROM:<alice@example.org>").starts_with("250"));
        assert!(c.cmd("RCPT TO:<bob@example.org>").starts_with("250"));
        assert!(c.cmd("DATA").starts_with("354"));
        c.send(one);
        c.send(b".\r\n");
        assert!(c.reply().starts_with("250"), "{example}");
        // Two recipients: no `for` clause, a Delivered-To for each; the null path.
        assert!(c.cmd("MAIL FROM:<>").starts_with("250"));
        assert!(c.cmd("RCPT TO:<bob@example.org>").starts_with("250"));
        assert!(c.cmd("RCPT TO:<Postmaster>").starts_with("250"));
        assert!(c.cmd("DATA").starts_with("354"));
        c.send(b"Subject: two\r\n\r\nbody\r\n.\r\n");
        assert!(c.reply().starts_with("250"), "{example}");
        assert!(c.cmd("QUIT").starts_with("221"));

        let raw = peers::stored_raw(&server.maildir);
        assert_eq!(raw.len(), 2, "{example}");
        let (first, second) = if raw[0].windows(12).any(|w| w == b"Subject: one") {
            (&raw[0], &raw[1])
        } else {
            (&raw[1], &raw[0])
        };
        let f = trace_fields(first);
        assert_eq!(f.len(), 3, "{example}: {f:?}");
        assert!(
            f[0].starts_with(
                "Received: from client.example ([127.0.0.1]) by mx.test with ESMTP id "
            ),
            "{example}: {f:?}"
        );
        assert!(f[0].contains(" for <bob@example.org>;"), "{example}: {f:?}");
        assert!(f[0].ends_with(" +0000"), "{example}: {f:?}");
        assert_eq!(f[1], "Return-Path: <alice@example.org>", "{example}");
        assert_eq!(f[2], "Delivered-To: bob@example.org", "{example}");
        // Below the trace: the bytes sent, dot-unstuffed (RFC 5321 4.5.2).
        assert_eq!(
            peers::strip_trace(first),
            b"Subject: one\r\n\r\nReceived: not a header here\r\n.dot\r\n",
            "{example}"
        );

        let f = trace_fields(second);
        assert_eq!(f.len(), 4, "{example}: {f:?}");
        assert!(f[0].starts_with("Received: from client.example "), "{f:?}");
        assert!(!f[0].contains(" for "), "{example}: {f:?}");
        assert_eq!(f[1], "Return-Path: <>");
        assert_eq!(f[2], "Delivered-To: bob@example.org");
        assert_eq!(f[3], "Delivered-To: Postmaster");
        assert_eq!(peers::strip_trace(second), b"Subject: two\r\n\r\nbody\r\n");
    }
}

#[test]
fn received_field_cannot_be_injected_from_ehlo_name() {
    let hostile = [
        &b"EHLO a.example\rX-Injected: yes\r\n"[..],
        b"EHLO a.example\nX-Injected: yes\r\n",
        b"EHLO a.example\0X-Injected: yes\r\n",
        b"EHLO a.example (X-Injected: yes)\r\n",
        b"EHLO a.example;X-Injected: yes\r\n",
        b"EHLO [x-tag:a)b(c;d]\r\n",
        b"EHLO a_b.example\r\n",
    ];
    for example in EXAMPLES {
        let server = start(example, &["--hostname", "mx.test"]);
        let mut accepted = 0;
        for ehlo in hostile {
            let mut c = Client::connect(server.addr);
            c.send(ehlo);
            if !c.reply().starts_with("250") {
                continue;
            }
            accepted += 1;
            assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
            assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
            assert!(c.cmd("DATA").starts_with("354"));
            c.send(b"Subject: s\r\n\r\nb\r\n.\r\n");
            assert!(c.reply().starts_with("250"));
            let _ = c.cmd("QUIT");
        }
        let raw = peers::stored_raw(&server.maildir);
        assert_eq!(raw.len(), accepted, "{example}");
        for m in &raw {
            let f = trace_fields(m);
            assert_eq!(f.len(), 3, "{example}: {f:?}");
            assert!(f[0].starts_with("Received: from "), "{f:?}");
            assert_eq!(f[0].matches(';').count(), 1, "{example}: {f:?}");
            assert!(f[1].starts_with("Return-Path: ") && f[2].starts_with("Delivered-To: "));
            assert_eq!(
                peers::strip_trace(m),
                b"Subject: s\r\n\r\nb\r\n",
                "{example}"
            );
            assert!(
                !String::from_utf8_lossy(m).contains("\nX-Injected"),
                "{example}"
            );
        }
    }
}

#[test]
fn received_names_esmtps_and_esmtpsa_with_the_tls_clause() {
    let body = b"Subject: t\r\nMessage-ID: <t@example.org>\r\nDate: Thu, 03 Dec 2026 18:59:16 +0000\r\n\r\nhi\r\n";
    for example in EXAMPLES {
        // STARTTLS, no AUTH: ESMTPS.
        let server = start(example, &["--hostname", "mx.test"]);
        let addr = server.addr.to_string();
        let common = [
            "--server",
            &addr,
            "--from",
            "a@example.org",
            "--to",
            "b@example.org",
        ];
        let tls = [
            "--starttls",
            "required",
            "--insecure",
            "--helo",
            "sender.example",
        ];
        send_example(&[&common[..], &tls[..]].concat(), body);
        let raw = peers::stored_raw(&server.maildir);
        assert_eq!(raw.len(), 1, "{example}");
        let f = trace_fields(&raw[0]);
        assert!(
            f[0].starts_with("Received: from sender.example ([127.0.0.1])"),
            "{f:?}"
        );
        assert!(f[0].contains(" with ESMTPS id "), "{example}: {f:?}");
        assert!(
            f[0].contains(" tls TLS_") && f[0].contains("(TLSv1."),
            "{example}: {f:?}"
        );
        assert_eq!(peers::strip_trace(&raw[0]), body, "{example}");

        // AUTH under TLS: ESMTPSA; the user is named only with --received-auth.
        for (named, extra) in [(false, &[][..]), (true, &["--received-auth"][..])] {
            let args = [&["--hostname", "mx.test", "--user", "u:p"][..], extra].concat();
            let server = start(example, &args);
            let addr = server.addr.to_string();
            let common = [
                "--server",
                &addr,
                "--from",
                "a@example.org",
                "--to",
                "b@example.org",
            ];
            send_example(
                &[&common[..], &tls[..], &["--user", "u:p"][..]].concat(),
                body,
            );
            let raw = peers::stored_raw(&server.maildir);
            assert_eq!(raw.len(), 1, "{example}");
            let f = trace_fields(&raw[0]);
            assert!(f[0].contains(" with ESMTPSA id "), "{example}: {f:?}");
            assert_eq!(
                f[0].contains("(authenticated as u)"),
                named,
                "{example}: {f:?}"
            );
            // Message-ID and Date were present: nothing added, nothing duplicated.
            assert_eq!(peers::strip_trace(&raw[0]), body, "{example}");
        }
    }
}

#[test]
fn msa_adds_missing_message_id_and_date_at_the_end_of_the_header() {
    for example in EXAMPLES {
        let server = start(example, &["--hostname", "mx.test", "--user", "u:p"]);
        let addr = server.addr.to_string();
        let args = [
            "--server",
            &addr,
            "--from",
            "a@example.org",
            "--to",
            "b@example.org",
            "--insecure",
            "--user",
            "u:p",
        ];
        send_example(
            &args,
            b"Subject: no id\r\nTo: b@example.org\r\n\r\nbody\r\n",
        );
        let msgs = stored(&server.maildir);
        assert_eq!(msgs.len(), 1, "{example}");
        let text = String::from_utf8(msgs[0].clone()).unwrap();
        let (header, rest) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(rest, "body\r\n", "{example}");
        let lines: Vec<&str> = header.split("\r\n").collect();
        assert_eq!(
            &lines[..2],
            ["Subject: no id", "To: b@example.org"],
            "{example}"
        );
        assert_eq!(lines.len(), 4, "{example}: {lines:?}");
        assert!(
            lines[2].starts_with("Message-ID: <") && lines[2].ends_with("@mx.test>"),
            "{example}: {lines:?}"
        );
        assert!(
            lines[3].starts_with("Date: ") && lines[3].ends_with(" +0000"),
            "{lines:?}"
        );

        // Only the one that is missing is added.
        send_example(&args, b"Date: Thu, 03 Dec 2026 18:59:16 +0000\r\n\r\nx\r\n");
        let msgs = stored(&server.maildir);
        let m = msgs.iter().find(|m| m.ends_with(b"\r\n\r\nx\r\n")).unwrap();
        let text = String::from_utf8_lossy(m);
        assert_eq!(text.matches("Date: ").count(), 1, "{example}: {text}");
        assert_eq!(text.matches("Message-ID: ").count(), 1, "{example}: {text}");
        assert!(text.starts_with("Date: Thu, 03 Dec 2026 18:59:16 +0000\r\nMessage-ID: <"));
    }
}

#[test]
fn add_missing_headers_option_and_a_message_without_empty_line() {
    for example in EXAMPLES {
        let server = start(example, &["--hostname", "mx.test", "--add-missing-headers"]);
        let mut c = Client::connect(server.addr);
        assert!(c.cmd("EHLO client.example").starts_with("250"));
        for body in [
            &b"Subject: header only\r\n"[..],
            b"\r\nno header at all\r\n",
        ] {
            assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
            assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
            assert!(c.cmd("DATA").starts_with("354"));
            c.send(body);
            c.send(b".\r\n");
            assert!(c.reply().starts_with("250"), "{example}");
        }
        let msgs = stored(&server.maildir);
        assert_eq!(msgs.len(), 2, "{example}");
        for m in &msgs {
            let text = String::from_utf8_lossy(m);
            let lines: Vec<&str> = text.split("\r\n").collect();
            if text.starts_with("Subject: header only\r\n") {
                // No empty line: the fields go at the end.
                assert_eq!(lines.len(), 4, "{text}");
                assert!(lines[1].starts_with("Message-ID: <") && lines[2].starts_with("Date: "));
                assert_eq!(lines[3], "");
            } else {
                // An empty header: the fields go before the empty line.
                assert!(lines[0].starts_with("Message-ID: <"), "{text}");
                assert!(lines[1].starts_with("Date: "), "{text}");
                assert!(text.ends_with("\r\n\r\nno header at all\r\n"), "{text}");
            }
        }
        // Without --user or the option, nothing is added (the byte-exact tests above).
    }
}

/// The command line of the example servers, as `--help` must list it (the relay options
/// too: the blocking server accepts their syntax and refuses `--relay` with exit 2).
const SERVER_OPTIONS: &[&str] = &[
    "--listen",
    "--implicit-tls",
    "--maildir",
    "--tls-cert",
    "--tls-key",
    "--user",
    "--hostname",
    "--max-size",
    "--max-recipients",
    "--max-sessions",
    "--command-timeout",
    "--lmtp",
    "--verbose",
    "--discard",
    "--received-auth",
    "--add-missing-headers",
    "--disable",
    "--relay",
    "--relay-user",
    "--relay-starttls",
    "--relay-insecure",
    "--relay-timeout",
    "--relay-final-timeout",
    "--help",
    "--version",
];

/// The command line of `examples/send`, `--helo` being the older name of `--hostname`.
const SEND_OPTIONS: &[&str] = &[
    "--server",
    "--from",
    "--to",
    "--starttls",
    "--user",
    "--insecure",
    "--lmtp",
    "--bdat",
    "--hostname",
    "--helo",
    "--verbose",
    "--help",
    "--version",
];

/// The options an entry of `--help` output names: the leading `-x, --name <VALUE>`
/// column of each entry and the `[alias: --old]` note after its text.
fn listed_options(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in help.lines() {
        let line = line.trim_start();
        let entry = line.split_whitespace().map(|t| t.trim_end_matches(','));
        if line.starts_with('-') {
            names.extend(entry.take_while(|t| t.starts_with('-')).map(str::to_owned));
        }
        if let Some((_, aliases)) = line.split_once("[alias") {
            let aliases = aliases
                .split_whitespace()
                .map(|t| t.trim_end_matches([',', ']']));
            names.extend(aliases.filter(|t| t.starts_with("--")).map(str::to_owned));
        }
    }
    names
}

/// The examples' command lines are an interface: `--help` exits 0 and lists every
/// option (with `send`'s optional FILE), each as an entry of its own.
#[test]
fn help_lists_every_option() {
    let all = [
        ("server", SERVER_OPTIONS),
        ("blocking_server", SERVER_OPTIONS),
        ("send", SEND_OPTIONS),
    ];
    for (example, options) in all {
        let out = Command::new(example_binary(example))
            .arg("--help")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run example");
        let help = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{example} --help: {help}");
        let listed = listed_options(&help);
        for option in options {
            assert!(
                listed.iter().any(|l| l == option),
                "{example} --help does not list {option}: {listed:?}\n{help}"
            );
        }
        assert!(
            !listed.iter().any(|l| l == "--no-such-option"),
            "{listed:?}"
        );
        if example == "send" {
            assert!(help.contains("[FILE]"), "{help}");
        }
    }
}

/// An option none of the examples knows is a usage error: exit code 2, named on
/// standard error, nothing done (no listener, no connection).
#[test]
fn unknown_option_exits_2() {
    let sending = ["--server", "127.0.0.1:9", "--from", "a@example.org"];
    for example in ["server", "blocking_server", "send"] {
        let mut cmd = Command::new(example_binary(example));
        match example {
            "send" => cmd.args(sending).args(["--to", "b@example.org"]),
            _ => cmd.args(["--listen", "127.0.0.1:0", "--discard"]),
        };
        let out = cmd
            .arg("--no-such-option")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run example");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{example}: {err}");
        assert!(err.contains("--no-such-option"), "{example}: {err}");
        assert!(!err.contains("listening on"), "{example}: {err}");
        assert!(out.stdout.is_empty(), "{example}: {out:?}");
    }
}

/// Options that do not go together, or a value outside an option's syntax, are usage
/// errors too (exit code 2), found before any listener is bound.
#[test]
fn refused_option_combinations_exit_2() {
    let refused: &[(&str, &[&str])] = &[
        ("server", &["--relay", "127.0.0.1:9", "--lmtp"]),
        ("server", &["--relay", "no-port"]),
        ("server", &["--relay-user", "me:secret"]),
        (
            "server",
            &["--relay", "127.0.0.1:9", "--relay-starttls", "never"],
        ),
        ("server", &["--tls-cert", "cert.pem"]),
        ("server", &["--tls-key", "key.pem"]),
        ("server", &["--disable", "nothing"]),
        ("server", &["--user", "no-password"]),
        ("server", &["--max-size", "big"]),
        ("blocking_server", &["--relay", "127.0.0.1:9"]),
        ("blocking_server", &["--command-timeout", "-1"]),
    ];
    for (example, args) in refused {
        let out = Command::new(example_binary(example))
            .args(["--listen", "127.0.0.1:0", "--discard"])
            .args(*args)
            .output()
            .expect("run example");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{example} {args:?}: {err}");
        assert!(!err.contains("listening on"), "{example} {args:?}: {err}");
    }
    let out = Command::new(example_binary("send"))
        .args(["--server", "127.0.0.1:9", "--from", "a@example.org"])
        .args(["--to", "b@example.org", "--starttls", "sometimes"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run send");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
