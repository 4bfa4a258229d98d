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

use peers::{
    Running, example_binary, interop_dir, python_module, spawn, stored, stored_raw, strip_trace,
    temp_dir,
};

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
    /// The greeting instead of `220 scripted ESMTP`.
    greeting: Option<&'static str>,
    /// Read the whole body, then never answer it (the connection stays open).
    silent_end: bool,
    /// Every body received in full, as received (with our trace fields); the list
    /// `scripted` returns has them without.
    raw: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// Scripted upstream: accepts connections one after another; RCPT verdicts by local
/// part (`bad…` 550, `later…` 450, `fail421…` 421 + close, else 250). Bodies it
/// received in full are pushed to the returned list (dot-unstuffed, without the trace
/// fields at their top; `Script::raw` keeps them whole).
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
    say(&mut w, s.greeting.unwrap_or("220 scripted ESMTP"));
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
            got.lock().unwrap().push(strip_trace(&body).to_vec());
            s.raw.lock().unwrap().push(body);
            if s.silent_end {
                // Hold the connection open, silent, well past the relay's cap.
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
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
    let mut big =
        b"Subject: big\r\nMessage-ID: <big@relay.test>\r\nDate: Thu, 03 Dec 2026 18:59:16 +0000\r\n\r\n"
            .to_vec();
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
    // What the upstream lacks is no longer offered (learnt at start).
    let ehlo = c.cmd("EHLO again.example");
    assert!(
        !ehlo.contains("SMTPUTF8") && !ehlo.contains("DSN"),
        "{ehlo}"
    );
    // The upstream's limit less the room kept for our trace fields.
    assert!(ehlo.contains("SIZE 97952"), "{ehlo}");
    let r = c.cmd("MAIL FROM:<j\u{f6}rg@example.org> SMTPUTF8");
    assert!(r.starts_with('5'), "{r}");
    // Parameters of extensions no longer offered are refused by the machine itself.
    let r = c.cmd("MAIL FROM:<a@example.org> BODY=8BITMIME");
    assert!(r.starts_with("555"), "{r}");
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

/// RFC 4954 6: `535` is permanent; the relay's client gets a 5yz, not a `451` that would
/// have it retry for days against credentials that will not change.
#[test]
fn upstream_auth_refusal_reaches_the_client_as_5xx() {
    let (_up, up_addr, up_dir) = upstream(&[]);
    let (_relay, addr, _copies) = relay(
        &up_addr.to_string(),
        &["--relay-user", "relay-user:wrong", "--relay-insecure"],
        false,
    );
    let mut c = Smtp::connect(addr);
    let r = c.cmd("MAIL FROM:<a@example.org>");
    assert!(r.starts_with("554 5.7.8"), "{r}");
    assert!(r.contains("Next hop: 535"), "{r}");
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
    let got = strip_trace(&got);
    assert_eq!(got.escape_ascii().to_string(), m.escape_ascii().to_string());
    let env = std::fs::read_to_string(out.join("1.env")).unwrap();
    assert!(
        env.contains("\"b@example.org\", \"c@example.org\""),
        "{env}"
    );
    wait_for(|| !stored(&copies).is_empty());
    assert_eq!(stored(&copies), vec![m]);
}

/// aiosmtpd as the upstream (STARTTLS and AUTH required), started with `extra` options
/// of `aiosmtpd_upstream.py`; `None` when aiosmtpd is missing outside CI.
fn aiosmtpd(extra: &[&str]) -> Option<(Running, SocketAddr, PathBuf)> {
    if !python_module("aiosmtpd") {
        return None;
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
        .args([USER, PASSWORD])
        .args(extra);
    let running = spawn(cmd, 1).cleanup(dir);
    let addr = running.addrs[0];
    Some((running, addr, out))
}

/// Submits one message with Python's smtplib (STARTTLS, AUTH PLAIN) through
/// `tests/interop/smtplib_send.py`; returns whether it was accepted and what it printed.
fn submit(addr: SocketAddr, login: (&str, &str), from: &str, to: &str) -> (bool, String) {
    let dir = temp_dir("relay-submit");
    let file = dir.join("msg.eml");
    std::fs::write(&file, msg("submitted", "")).unwrap();
    let plan = dir.join("plan.json");
    let json = format!(
        r#"{{"host": "127.0.0.1", "port": {}, "tls": "starttls", "auth": "PLAIN",
            "user": "{}", "password": "{}",
            "connections": [[{{"from": "{from}", "to": ["{to}"], "file": "{}"}}]]}}"#,
        addr.port(),
        login.0,
        login.1,
        file.display()
    );
    std::fs::write(&plan, json).unwrap();
    let out = Command::new("python3")
        .arg(interop_dir().join("smtplib_send.py"))
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

/// The `.env` files aiosmtpd wrote, in order.
fn envelopes(out: &std::path::Path, n: usize) -> Vec<String> {
    wait_for(|| out.join(format!("{n}.env")).exists());
    (1..=n)
        .map(|i| std::fs::read_to_string(out.join(format!("{i}.env"))).unwrap_or_default())
        .collect()
}

/// RFC 1870, RFC 3461, RFC 3030, RFC 6531: in front of aiosmtpd (SIZE 50000, no DSN,
/// CHUNKING, BINARYMIME, SMTPUTF8 or REQUIRETLS) the relay offers none of those, and
/// SIZE is the upstream's less the room for our trace fields; CHUNKING stays (BDAT bodies go upstream by DATA).
#[test]
fn relay_offers_only_what_the_upstream_keeps() {
    let Some((_aio, up, out)) = aiosmtpd(&["--size", "50000"]) else {
        return;
    };
    let (_relay, addr, _copies) = relay_authed(up, false);
    let mut c = Smtp::connect(addr);
    let ehlo = c.cmd("EHLO client.example");
    for lacking in [
        "DSN",
        "BINARYMIME",
        "REQUIRETLS",
        "SMTPUTF8",
        "SIZE 268435456",
    ] {
        assert!(!ehlo.contains(lacking), "{lacking} offered: {ehlo}");
    }
    // SIZE: the upstream's less the 2048 octets kept for what the relay adds.
    for kept in ["SIZE 47952", "8BITMIME", "CHUNKING", "PIPELINING"] {
        assert!(ehlo.contains(kept), "{kept} missing: {ehlo}");
    }
    // CHUNKING is ours: a BDAT body reaches an upstream without it, byte for byte.
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
    let m = msg("bdat", "");
    c.w.write_all(format!("BDAT {} LAST\r\n", m.len()).as_bytes())
        .unwrap();
    c.w.write_all(&m).unwrap();
    let r = c.reply();
    assert!(r.starts_with("250"), "{r}");
    assert!(c.cmd("QUIT").starts_with("221"));
    envelopes(&out, 1);
    let got = std::fs::read(out.join("1.eml")).unwrap();
    assert_eq!(strip_trace(&got), m);
}

/// RFC 1870 6: a declared size over the upstream's SIZE is refused at MAIL (`552`),
/// before any body is sent.
#[test]
fn message_over_the_upstreams_size_is_refused_at_mail() {
    let Some((_aio, up, _out)) = aiosmtpd(&["--size", "50000"]) else {
        return;
    };
    let (_relay, addr, _copies) = relay_authed(up, false);
    let mut c = Smtp::connect(addr);
    let r = c.cmd("MAIL FROM:<a@example.org> SIZE=60000");
    assert!(r.starts_with("552"), "{r}");
    assert!(
        c.cmd("MAIL FROM:<a@example.org> SIZE=40000")
            .starts_with("250")
    );
    assert!(c.cmd("QUIT").starts_with("221"));
}

/// RFC 4954 5: the relay passes `AUTH=` on to an upstream that offers AUTH: the
/// address an authenticated client's login vouches for, `<>` for a client that did not
/// authenticate.
#[test]
fn auth_param_is_passed_to_the_upstream() {
    let Some((_aio, up, out)) = aiosmtpd(&["--auth-param"]) else {
        return;
    };
    let login = format!("{USER}:{PASSWORD}");
    let to = up.to_string();
    let upstream_login = ["--relay-user", &login, "--relay-insecure"];
    let mut extra = upstream_login.to_vec();
    extra.extend(["--user", "alice:alice-pw:alice@example.org"]);
    let (_msa, msa, _c1) = relay(&to, &extra, false);
    let (ok, said) = submit(
        msa,
        ("alice", "alice-pw"),
        "alice@example.org",
        "b@example.org",
    );
    assert!(ok, "{said}");
    let (_open, open, _c2) = relay(&to, &upstream_login, false);
    let mut c = Smtp::connect(open);
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
    assert!(c.data(&msg("anonymous", "")).starts_with("250"));
    let env = envelopes(&out, 2);
    assert!(env[0].contains("\"AUTH=alice@example.org\""), "{}", env[0]);
    assert!(env[1].contains("\"AUTH=<>\""), "{}", env[1]);
}

/// Stock aiosmtpd offers AUTH but refuses `AUTH=` with 555: the relay sends the MAIL
/// again without it, so the message still goes.
#[test]
fn upstream_refusing_the_auth_param_still_gets_the_mail() {
    let Some((_aio, up, out)) = aiosmtpd(&[]) else {
        return;
    };
    let (_relay, addr, _copies) = relay_authed(up, false);
    let mut c = Smtp::connect(addr);
    for id in ["first", "second"] {
        assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
        assert!(c.cmd("RCPT TO:<b@example.org>").starts_with("250"));
        assert!(c.data(&msg(id, "")).starts_with("250"));
    }
    assert!(c.cmd("QUIT").starts_with("221"));
    let env = envelopes(&out, 2);
    assert!(env.iter().all(|e| !e.contains("AUTH=")), "{env:?}");
}

/// RFC 5321 6.3: a relay pointed at itself answers `554 5.4.6` at once instead of
/// opening session after session.
#[test]
fn relay_pointed_at_itself_refuses_with_554_5_4_6() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = temp_dir("relay-self");
    let mut cmd = Command::new(example_binary("server"));
    cmd.args(["--listen", &port.to_string(), "--relay", &port.to_string()])
        .args(["--relay-starttls", "opportunistic", "--relay-insecure"])
        .args(["--relay-timeout", "5"]);
    let _relay = spawn(cmd, 1).cleanup(dir);
    let mut c = Smtp::connect(port);
    for _ in 0..2 {
        let r = c.cmd("MAIL FROM:<a@example.org>");
        assert!(r.starts_with("554 5.4.6"), "{r}");
    }
    assert!(c.cmd("QUIT").starts_with("221"));
}

/// A 5yz greeting from the upstream is permanent: the client gets a 5yz, not a `451`.
#[test]
fn permanent_upstream_failure_reaches_the_client_as_5xx() {
    let (up, bodies) = scripted(Script {
        greeting: Some("554 5.3.2 Not accepting mail (scripted)"),
        ..Default::default()
    });
    let (_relay, addr, _copies) = open_relay(up, false);
    let mut c = Smtp::connect(addr);
    let r = c.cmd("MAIL FROM:<a@example.org>");
    assert!(r.starts_with("554 5.3.2"), "{r}");
    assert!(r.contains("Not accepting mail"), "{r}");
    assert!(c.cmd("QUIT").starts_with("221"));
    assert!(bodies.lock().unwrap().is_empty());
}

/// RFC 6409 5.3: an upstream that takes the body and never answers cannot hold the
/// client past `--relay-final-timeout`; the client gets a 4yz, never a `250`.
#[test]
fn silent_upstream_gets_the_client_a_4xx_within_the_final_timeout() {
    let (up, bodies) = scripted(Script {
        ext: vec!["PIPELINING"],
        silent_end: true,
        ..Default::default()
    });
    let (_relay, addr, _copies) = relay(
        &up.to_string(),
        &[
            "--relay-starttls",
            "opportunistic",
            "--relay-final-timeout",
            "2",
        ],
        true,
    );
    let mut c = Smtp::connect(addr);
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    // The client's read timeout (30 s) is far above the 2 s cap.
    let r = c.data(&msg("silent", ""));
    assert!(r.starts_with("451 4.4.2"), "{r}");
    assert_eq!(
        bodies.lock().unwrap().len(),
        1,
        "the body did reach the upstream"
    );
    assert!(c.cmd("NOOP").starts_with("250"));
}

/// RFC 8689 4.2.1: REQUIRETLS needs a verified certificate on the next hop; behind
/// `--relay-insecure` it is never offered, though the upstream offers it.
#[test]
fn requiretls_is_never_offered_with_an_unverified_upstream() {
    let (_up, up_addr, _up_dir) = upstream(&[]);
    let (_relay, addr, _copies) = relay_authed(up_addr, false);
    let ehlo_over_tls = |a: SocketAddr| {
        let script = "import smtplib, ssl, sys\n\
            s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
            s.ehlo('client.example')\n\
            s.starttls(context=ssl._create_unverified_context())\n\
            s.ehlo('client.example')\n\
            print(s.ehlo_resp.decode())\n\
            s.quit()\n";
        let out = Command::new("python3")
            .args(["-c", script, &a.port().to_string()])
            .output()
            .expect("run python3");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let upstream_offers = ehlo_over_tls(up_addr);
    assert!(upstream_offers.contains("REQUIRETLS"), "{upstream_offers}");
    let relay_offers = ehlo_over_tls(addr);
    assert!(!relay_offers.contains("REQUIRETLS"), "{relay_offers}");
    assert!(relay_offers.contains("DSN"), "{relay_offers}");
}

/// RFC 6409 6.1 in relay mode: an account with addresses sends only as them (domain in
/// any case); another sender gets `553 5.7.1` and nothing reaches the upstream.
#[test]
fn relay_refuses_a_sender_outside_the_accounts_addresses() {
    let (up, bodies) = scripted(Script {
        ext: vec!["PIPELINING", "8BITMIME"],
        ..Default::default()
    });
    let (_relay, addr, _copies) = relay(
        &up.to_string(),
        &[
            "--relay-starttls",
            "opportunistic",
            "--user",
            "alice:pw:alice@example.org,*@alice.example",
        ],
        false,
    );
    let (ok, said) = submit(
        addr,
        ("alice", "pw"),
        "mallory@example.org",
        "b@example.org",
    );
    assert!(!ok, "{said}");
    assert!(said.contains("553") && said.contains("5.7.1"), "{said}");
    assert!(bodies.lock().unwrap().is_empty());
    let (ok, said) = submit(addr, ("alice", "pw"), "alice@EXAMPLE.org", "b@example.org");
    assert!(ok, "{said}");
    let (ok, said) = submit(addr, ("alice", "pw"), "any@alice.example", "b@example.org");
    assert!(ok, "{said}");
    assert_eq!(bodies.lock().unwrap().len(), 2);
}

/// RFC 5321 4.4: a relayed message starts with our `Received:` field (the client's EHLO
/// name and address, the protocol, `for` its one recipient), then the bytes received;
/// the kept copy is the very bytes the upstream got. An MSA adds a missing
/// `Message-ID:` and `Date:` (RFC 6409 8.1, 8.3) at the end of the header.
#[test]
fn relayed_message_starts_with_our_received_field() {
    let script = Script {
        ext: vec!["PIPELINING", "8BITMIME"],
        ..Default::default()
    };
    let raw = script.raw.clone();
    let (up, bodies) = scripted(script);
    let (_relay, addr, copies) = open_relay(up, true);
    let mut c = Smtp::connect(addr);
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    let m = msg("traced", "");
    assert!(c.data(&m).starts_with("250"));
    // Without Message-ID and Date.
    assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<ok@example.org>").starts_with("250"));
    assert!(c.data(b"Subject: bare\r\n\r\nbody\r\n").starts_with("250"));
    assert!(c.cmd("QUIT").starts_with("221"));

    let raw = raw.lock().unwrap().clone();
    assert_eq!(raw.len(), 2);
    let first = String::from_utf8_lossy(&raw[0]).into_owned();
    assert!(
        first.starts_with("Received: from client.example ([127.0.0.1]) by "),
        "{first}"
    );
    let unfolded = peers::trace_of(&raw[0]).replace("\r\n\t", " ");
    assert!(unfolded.contains("with ESMTP"), "{unfolded}");
    assert!(unfolded.contains("for <ok@example.org>"), "{unfolded}");
    assert_eq!(peers::trace_of(&raw[0]).matches("Received:").count(), 1);
    assert_eq!(
        bodies.lock().unwrap()[0],
        m,
        "below the trace field: the bytes sent"
    );
    let second = String::from_utf8_lossy(strip_trace(&raw[1])).into_owned();
    assert!(second.starts_with("Subject: bare\r\n"), "{second}");
    assert!(second.contains("\r\nMessage-ID: <"), "{second}");
    assert!(second.contains("\r\nDate: "), "{second}");
    assert!(second.ends_with("\r\n\r\nbody\r\n"), "{second}");
    wait_for(|| stored_raw(&copies).len() == 2);
    let mut kept = stored_raw(&copies);
    kept.sort();
    let mut sent = raw;
    sent.sort();
    assert_eq!(kept, sent, "the copy holds exactly what the upstream got");
}
