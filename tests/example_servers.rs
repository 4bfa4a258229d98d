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
