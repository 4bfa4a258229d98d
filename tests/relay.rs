//! Relay mode of the tokio example server (`--relay`), over loopback: the project's own
//! server as the upstream (STARTTLS + AUTH), a scripted upstream in a test thread for
//! misbehaviour (per-recipient verdicts, `421` mid-transaction, death during the body,
//! slowness), and aiosmtpd. Every message is compared byte for byte with what was sent,
//! and every verdict the client gets with the one the upstream gave.

mod peers;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use peers::{Running, example_binary, interop_dir, python_module, spawn, stored, temp_dir};

const USER: &str = "relay-user";
const PASSWORD: &str = "relay-pass";

/// The example server as an upstream: AUTH required, STARTTLS with a self-signed
/// certificate, messages into a Maildir.
fn upstream(extra: &[&str]) -> (Running, SocketAddr, PathBuf) {
    let dir = temp_dir("relay-up");
    let maildir = dir.join("maildir");
    let mut cmd = Command::new(example_binary("server"));
    cmd.args(["--listen", "127.0.0.1:0", "--maildir"])
        .arg(&maildir)
        .args(["--user", &format!("{USER}:{PASSWORD}")])
        .args(extra);
    let r = spawn(cmd, 1).cleanup(dir);
    let addr = r.addrs[0];
    (r, addr, maildir)
}

/// The example server relaying to `to`; with `copies`, a Maildir of copies.
fn relay(to: &str, extra: &[&str], copies: bool) -> (Running, SocketAddr, PathBuf) {
    let dir = temp_dir("relay");
    let maildir = dir.join("copies");
    let mut cmd = Command::new(example_binary("server"));
    cmd.args(["--listen", "127.0.0.1:0", "--relay", to])
        .args(["--relay-timeout", "5"])
        .args(extra);
    if copies {
        cmd.arg("--maildir").arg(&maildir);
    }
    let r = spawn(cmd, 1).cleanup(dir);
    let addr = r.addrs[0];
    (r, addr, maildir)
}

fn relay_authed(to: SocketAddr, copies: bool) -> (Running, SocketAddr, PathBuf) {
    let user = format!("{USER}:{PASSWORD}");
    relay(
        &to.to_string(),
        &["--relay-user", &user, "--relay-insecure"],
        copies,
    )
}

/// A line-level SMTP client for the downstream side.
struct Smtp {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Smtp {
    fn connect(addr: SocketAddr) -> Self {
        let w = TcpStream::connect(addr).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let r = BufReader::new(w.try_clone().unwrap());
        let mut s = Self { w, r };
        assert!(s.reply().starts_with("220"));
        assert!(s.cmd("EHLO client.example").starts_with("250"));
        s
    }

    /// A whole reply, lines joined with `\n`, CRLF removed.
    fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            self.r.read_line(&mut l).expect("read reply");
            assert!(!l.is_empty(), "connection closed; got {lines:?}");
            let l = l.trim_end_matches(['\r', '\n']).to_owned();
            let last = l.as_bytes().get(3) != Some(&b'-');
            lines.push(l);
            if last {
                return lines.join("\n");
            }
        }
    }

    fn cmd(&mut self, line: &str) -> String {
        self.w.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        self.reply()
    }

    /// DATA with the body dot-stuffed; returns the final reply.
    fn data(&mut self, body: &[u8]) -> String {
        let r = self.cmd("DATA");
        assert!(r.starts_with("354"), "DATA: {r}");
        let mut out = Vec::new();
        let mut at_start = true;
        for &b in body {
            if at_start && b == b'.' {
                out.push(b'.');
            }
            out.push(b);
            at_start = b == b'\n';
        }
        out.extend_from_slice(b".\r\n");
        self.w.write_all(&out).unwrap();
        self.reply()
    }
}

/// A complete message: with Message-ID and Date, an MSA upstream adds nothing (RFC 6409 8).
fn msg(id: &str, extra: &str) -> Vec<u8> {
    format!("Subject: {id}\r\nMessage-ID: <{id}@relay.test>\r\nDate: Thu, 03 Dec 2026 18:59:16 +0000\r\n\r\n{extra}.leading dot\r\n..two\r\nend\r\n").into_bytes()
}

fn wait_for(mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn through_own_server_with_starttls_auth_and_copies() {
    let (_up, up_addr, up_dir) = upstream(&["--max-recipients", "2"]);
    let (_relay, addr, copies) = relay_authed(up_addr, true);
    let mut c = Smtp::connect(addr);
    let m1 = msg("one", "first\r\n");
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<c@example.org>").starts_with("250"));
    // The upstream's limit, not ours: its verdict comes back unchanged.
    let third = c.cmd("RCPT TO:<d@example.org>");
    assert!(third.starts_with("452 4.5.3"), "{third}");
    assert!(c.data(&m1).starts_with("250"));
    // Same session, same upstream connection, next transaction.
    let m2 = msg("two", &"x\u{e9}y 8-bit line\r\n".repeat(20_000));
    assert!(c.cmd("MAIL FROM:<> BODY=8BITMIME").starts_with("250"));
    assert!(c.cmd("RCPT TO:<e@example.org>").starts_with("250"));
    let r = c.data(&m2);
    assert!(r.starts_with("250"), "{r}");
    assert!(c.cmd("QUIT").starts_with("221"));
    let mut want = vec![m1, m2];
    want.sort();
    let mut got = stored(&up_dir);
    got.sort();
    assert_eq!(got, want, "upstream got exactly the bytes sent");
    let mut kept = stored(&copies);
    kept.sort();
    assert_eq!(kept, want, "copies are exact");
}

/// What the scripted upstream does.
#[derive(Clone, Default)]
struct Script {
    /// EHLO keywords after the greeting line.
    ext: Vec<&'static str>,
    /// RCPT to a local part starting with `fail421` gets 421 and the connection closes.
    /// The body is read in small pieces with this pause between them.
    slow: Option<Duration>,
    /// Close the connection after this many body octets.
    die_after: Option<usize>,
}

/// Scripted upstream: accepts connections one after another; RCPT verdicts by local
/// part (`bad…` 550, `later…` 450, `fail421…` 421 + close, else 250). Bodies it
/// received in full are pushed to the returned list (dot-unstuffed).
fn scripted(script: Script) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { return };
            let (s, got) = (script.clone(), got2.clone());
            std::thread::spawn(move || serve_script(conn, s, got));
        }
    });
    (addr, got)
}

fn serve_script(conn: TcpStream, s: Script, got: Arc<Mutex<Vec<Vec<u8>>>>) {
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    let say = |w: &mut TcpStream, t: &str| {
        if let Some(d) = s.slow {
            std::thread::sleep(d);
        }
        let _ = w.write_all(format!("{t}\r\n").as_bytes());
    };
    say(&mut w, "220 scripted ESMTP");
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let up = line.to_ascii_uppercase();
        if up.starts_with("EHLO") {
            let mut lines = vec!["scripted".to_owned()];
            lines.extend(s.ext.iter().map(|e| e.to_string()));
            let n = lines.len();
            let text: Vec<String> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("250{}{l}", if i + 1 == n { ' ' } else { '-' }))
                .collect();
            say(&mut w, &text.join("\r\n"));
        } else if up.starts_with("MAIL") || up.starts_with("RSET") || up.starts_with("NOOP") {
            say(&mut w, "250 2.0.0 OK");
        } else if up.starts_with("RCPT") {
            let to = up.split('<').nth(1).unwrap_or_default();
            if to.starts_with("BAD") {
                say(&mut w, "550 5.1.1 No such user here (scripted)");
            } else if to.starts_with("LATER") {
                say(&mut w, "450 4.2.1 Mailbox busy, try later (scripted)");
            } else if to.starts_with("FAIL421") {
                say(&mut w, "421 4.3.2 Going down now (scripted)");
                return;
            } else {
                say(&mut w, "250 2.1.5 OK");
            }
        } else if up.starts_with("DATA") {
            say(&mut w, "354 go ahead");
            let mut body = Vec::new();
            let mut raw = 0usize;
            loop {
                let mut l = Vec::new();
                match r.read_until(b'\n', &mut l) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => raw += n,
                }
                if l == b".\r\n" {
                    break;
                }
                let l = l.strip_prefix(b".").unwrap_or(&l);
                body.extend_from_slice(l);
                if s.die_after.is_some_and(|d| raw >= d) {
                    return; // connection dropped mid-body
                }
                if let Some(d) = s.slow {
                    if raw % (64 * 1024) < l.len() {
                        std::thread::sleep(d);
                    }
                }
            }
            got.lock().unwrap().push(body);
            say(&mut w, "250 2.0.0 Queued (scripted)");
        } else if up.starts_with("QUIT") {
            say(&mut w, "221 2.0.0 Bye");
            return;
        } else {
            say(&mut w, "502 5.5.2 Not here");
        }
    }
}

fn open_relay(to: SocketAddr, copies: bool) -> (Running, SocketAddr, PathBuf) {
    relay(
        &to.to_string(),
        &["--relay-starttls", "opportunistic"],
        copies,
    )
}

#[test]
fn per_recipient_verdicts_are_the_upstreams() {
    let script = Script {
        ext: vec!["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"],
        ..Default::default()
    };
    let (up, bodies) = scripted(script);
    let (_relay, addr, copies) = open_relay(up, true);
    let mut c = Smtp::connect(addr);
    assert_eq!(c.cmd("MAIL FROM:<a@example.org>"), "250 2.0.0 OK");
    assert_eq!(c.cmd("RCPT TO:<ok@example.org>"), "250 2.1.5 OK");
    assert_eq!(
        c.cmd("RCPT TO:<bad@example.org>"),
        "550 5.1.1 No such user here (scripted)"
    );
    assert_eq!(
        c.cmd("RCPT TO:<later@example.org>"),
        "450 4.2.1 Mailbox busy, try later (scripted)"
    );
    let m = msg("verdicts", "");
    assert_eq!(c.data(&m), "250 2.0.0 Queued (scripted)");
    assert!(c.cmd("QUIT").starts_with("221"));
    assert_eq!(*bodies.lock().unwrap(), vec![m.clone()]);
    wait_for(|| !stored(&copies).is_empty());
    assert_eq!(stored(&copies), vec![m]);
}

#[test]
fn upstream_421_mid_transaction_then_the_session_goes_on() {
    let (up, bodies) = scripted(Script {
        ext: vec!["PIPELINING"],
        ..Default::default()
    });
    let (_relay, addr, copies) = open_relay(up, true);
    let mut c = Smtp::connect(addr);
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    let r = c.cmd("RCPT TO:<fail421@example.org>");
    assert!(r.starts_with("451 4.3.2"), "{r}");
    assert!(r.contains("Going down now"), "{r}");
    // The transaction is dead upstream: DATA's end gets the same transient failure.
    let r = c.data(b"Subject: lost\r\n\r\nx\r\n");
    assert!(r.starts_with("451"), "{r}");
    // A new transaction reconnects.
    assert!(c.cmd("RSET").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    let m = msg("after-421", "");
    assert!(c.data(&m).starts_with("250"));
    assert!(c.cmd("QUIT").starts_with("221"));
    assert_eq!(*bodies.lock().unwrap(), vec![m.clone()]);
    wait_for(|| !stored(&copies).is_empty());
    assert_eq!(
        stored(&copies),
        vec![m],
        "only the accepted message is kept"
    );
}

#[test]
fn upstream_dies_during_the_body() {
    let (up, bodies) = scripted(Script {
        ext: vec!["PIPELINING"],
        die_after: Some(100_000),
        ..Default::default()
    });
    let (_relay, addr, copies) = open_relay(up, true);
    let mut c = Smtp::connect(addr);
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    let big = msg("dies", &"line of body text\r\n".repeat(50_000));
    let r = c.data(&big);
    assert!(
        r.starts_with("451 4.4.1"),
        "never a 250 the upstream did not give: {r}"
    );
    // The session goes on; a small message fits before the upstream's limit.
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    let small = msg("small", "");
    assert!(c.data(&small).starts_with("250"));
    assert!(c.cmd("QUIT").starts_with("221"));
    assert_eq!(*bodies.lock().unwrap(), vec![small.clone()]);
    wait_for(|| !stored(&copies).is_empty());
    assert_eq!(stored(&copies), vec![small]);
}

#[test]
fn upstream_slower_than_the_client() {
    let (up, bodies) = scripted(Script {
        ext: vec![],
        slow: Some(Duration::from_millis(30)),
        ..Default::default()
    });
    let (_relay, addr, _copies) = open_relay(up, false);
    let mut c = Smtp::connect(addr);
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<bad@example.org>").starts_with("550 5.1.1"));
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..40_000 {
        big.extend_from_slice(format!(".{i:08} some text for the slow upstream\r\n").as_bytes());
    }
    assert_eq!(c.data(&big), "250 2.0.0 Queued (scripted)");
    assert!(c.cmd("QUIT").starts_with("221"));
    let got = bodies.lock().unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0] == big, "body arrived byte-exact");
}

#[test]
fn capabilities_the_upstream_lacks_are_refused_not_dropped() {
    let (_up, up_addr, up_dir) = upstream(&[
        "--disable",
        "smtputf8",
        "--disable",
        "8bitmime",
        "--disable",
        "dsn",
        "--max-size",
        "100000",
    ]);
    let (_relay, addr, _copies) = relay_authed(up_addr, false);
    let mut c = Smtp::connect(addr);
    let ehlo = c.cmd("EHLO again.example");
    assert!(ehlo.contains("SMTPUTF8") && ehlo.contains("DSN"), "{ehlo}");
    let r = c.cmd("MAIL FROM:<j\u{f6}rg@example.org> SMTPUTF8");
    assert!(r.starts_with("553 5.6.7"), "{r}");
    let r = c.cmd("MAIL FROM:<a@example.org> BODY=8BITMIME");
    assert!(r.starts_with("554 5.6.3"), "{r}");
    let r = c.cmd("MAIL FROM:<a@example.org> SIZE=200000");
    assert!(r.starts_with("552 5.3.4"), "{r}");
    let r = c.cmd("MAIL FROM:<a@example.org> RET=HDRS");
    assert!(r.starts_with("555 5.5.4"), "{r}");
    // Plain ASCII mail still goes through; a DSN recipient is refused, not stripped.
    assert!(
        c.cmd("MAIL FROM:<a@example.org> SIZE=50")
            .starts_with("250")
    );
    let r = c.cmd("RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE");
    assert!(r.starts_with("555 5.5.4"), "{r}");
    assert!(c.cmd("RCPT TO:<c@example.org>").starts_with("250"));
    let m = msg("ascii", "");
    assert!(c.data(&m).starts_with("250"));
    assert!(c.cmd("QUIT").starts_with("221"));
    assert_eq!(stored(&up_dir), vec![m]);
}

#[test]
fn upstream_unreachable_gives_451_and_the_session_goes_on() {
    // A port nobody listens on: bind, note, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_relay, addr, _copies) = open_relay(port, false);
    let mut c = Smtp::connect(addr);
    let r = c.cmd("MAIL FROM:<a@example.org>");
    assert!(r.starts_with("451 4.4.1"), "{r}");
    assert!(c.cmd("NOOP").starts_with("250"));
    let r = c.cmd("MAIL FROM:<a@example.org>");
    assert!(r.starts_with("451 4.4.1"), "{r}");
    assert!(c.cmd("QUIT").starts_with("221"));
}

#[test]
fn upstream_auth_failure_gives_451() {
    let (_up, up_addr, up_dir) = upstream(&[]);
    let (_relay, addr, _copies) = relay(
        &up_addr.to_string(),
        &["--relay-user", "relay-user:wrong", "--relay-insecure"],
        false,
    );
    let mut c = Smtp::connect(addr);
    let r = c.cmd("MAIL FROM:<a@example.org>");
    assert!(r.starts_with("451 4.4.1"), "{r}");
    assert!(c.cmd("QUIT").starts_with("221"));
    assert!(stored(&up_dir).is_empty());
}

#[test]
fn through_aiosmtpd_with_starttls_and_auth() {
    if !python_module("aiosmtpd") {
        return;
    }
    let dir = temp_dir("relay-aiosmtpd");
    let (cert, key) = peers::self_signed(&dir);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(interop_dir().join("aiosmtpd_upstream.py"))
        .arg(&cert)
        .arg(&key)
        .arg(&out)
        .args([USER, PASSWORD]);
    let _aio = spawn(cmd, 1).cleanup(dir);
    let up_addr = _aio.addrs[0];
    let (_relay, addr, copies) = relay_authed(up_addr, true);
    let mut c = Smtp::connect(addr);
    let mut m = msg("aiosmtpd", "Gr\u{fc}\u{df}e\r\n").to_vec();
    m.extend_from_slice(b".\r\n..\r\n");
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<c@example.org>").starts_with("250"));
    assert!(c.data(&m).starts_with("250"));
    assert!(c.cmd("QUIT").starts_with("221"));
    wait_for(|| out.join("1.env").exists());
    let mut got = Vec::new();
    std::fs::File::open(out.join("1.eml"))
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(got.escape_ascii().to_string(), m.escape_ascii().to_string());
    let env = std::fs::read_to_string(out.join("1.env")).unwrap();
    assert!(
        env.contains("\"b@example.org\", \"c@example.org\""),
        "{env}"
    );
    wait_for(|| !stored(&copies).is_empty());
    assert_eq!(stored(&copies), vec![m]);
}
