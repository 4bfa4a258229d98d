//! The runtime crate over loopback TCP (127.0.0.1, port 0): real clients, the session
//! cap, graceful shutdown, back-pressure and handler decisions.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use smtp_sansio_tokio::smtp_sansio::server::ServerConfig;
use smtp_sansio_tokio::{
    Body, Connection, Credentials, Decision, Handler, Logger, Mail, Maildir, Message, Rcpt,
    ServerBuilder, Session, ShutdownHandle, TlsIdentity,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Notify};

/// Every wait in these tests is bounded by this.
const BOUND: Duration = Duration::from_secs(30);

fn config() -> ServerConfig {
    let mut c = ServerConfig::new("mx.test");
    c.limits.message_size = Some(256 * 1024 * 1024);
    c
}

/// A connection over the session cap is answered `421 4.3.2` and closed.
async fn assert_turned_away(addr: SocketAddr) {
    let mut over = TcpStream::connect(addr).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(BOUND, over.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    let got = String::from_utf8_lossy(&got);
    assert!(got.starts_with("421 4.3.2 "), "{got}");
}

async fn start<H: Handler>(builder: ServerBuilder<H>) -> (SocketAddr, ShutdownHandle) {
    let server = builder
        .listen("127.0.0.1:0".parse().unwrap())
        .logger(Logger::none())
        .bind()
        .await
        .expect("bind");
    let addr = server.listeners()[0].0;
    let handle = server.shutdown_handle();
    tokio::spawn(server.run());
    (addr, handle)
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("sst-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stored(maildir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut names: Vec<_> = std::fs::read_dir(maildir.join("new"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// A line-oriented test client.
struct Client {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: SocketAddr) -> (Self, String) {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (r, w) = tcp.into_split();
        let mut c = Self {
            r: BufReader::new(r),
            w,
        };
        let greeting = c.reply().await;
        (c, greeting)
    }

    /// One whole reply (all its lines), or "" at end of stream.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(BOUND, self.r.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap_or(0);
            all.push_str(&line);
            if n == 0 || line.as_bytes().get(3) == Some(&b' ') {
                return all;
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.unwrap();
    }
}

/// RFC 6409: STARTTLS, AUTH PLAIN, one message from Python's smtplib (a real
/// third-party client) into the Maildir, with our trace fields on top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maildir_server_takes_a_message_from_smtplib_over_starttls_and_auth() {
    let have_python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_python {
        eprintln!("python3 not installed: skipped");
        return;
    }
    let dir = temp_dir("smtplib");
    let mut config = config();
    config.require_auth = true;
    let maildir = Maildir::open(&dir).unwrap().add_missing_headers(true);
    let builder = ServerBuilder::new(config, maildir)
        .tls(TlsIdentity::self_signed(&["localhost", "127.0.0.1"]).unwrap())
        .credentials(Credentials::new().user("alice", "s3cret"));
    let (addr, _stop) = start(builder).await;
    let script = format!(
        r#"
import smtplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", {port}, timeout=20)
s.starttls(context=ctx)
s.login("alice", "s3cret")
s.sendmail("alice@example.org", ["bob@example.org"], b"Subject: hi\r\n\r\nhello\r\n")
s.quit()
"#,
        port = addr.port()
    );
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .output()
    });
    let out = tokio::time::timeout(BOUND, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msgs = stored(&dir);
    assert_eq!(msgs.len(), 1);
    let text = String::from_utf8(msgs[0].clone()).unwrap();
    assert!(
        text.starts_with(
            "Return-Path: <alice@example.org>\r\nDelivered-To: bob@example.org\r\nReceived: from "
        ),
        "{text}"
    );
    assert!(text.contains(" with ESMTPSA"), "{text}");
    assert!(
        text.contains("Message-ID: <") && text.contains("\r\nDate: "),
        "{text}"
    );
    assert!(text.contains(" tls TLS_"), "{text}");
    assert!(text.ends_with("\r\n\r\nhello\r\n"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A connection over the cap is answered `421 4.3.2` and closed; the session in
/// progress goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_over_the_cap_get_421_and_are_closed() {
    let (addr, _stop) =
        start(ServerBuilder::new(config(), smtp_sansio_tokio::Discard).max_sessions(1)).await;
    let (mut first, greeting) = Client::connect(addr).await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert_turned_away(addr).await;
    assert!(first.cmd("NOOP").await.starts_with("250"));
}

/// Shutdown: a session waiting for its next command is answered `421 4.3.2` and closed,
/// and the shutdown future completes once every session has closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_answers_421_and_completes() {
    let (addr, stop) = start(ServerBuilder::new(config(), smtp_sansio_tokio::Discard)).await;
    let (mut c, _) = Client::connect(addr).await;
    assert!(c.cmd("EHLO client.test").await.starts_with("250"));
    assert_eq!(stop.open_sessions(), 1);
    let all_closed = tokio::spawn({
        let stop = stop.clone();
        async move { stop.shutdown(BOUND).await }
    });
    let bye = c.reply().await;
    assert!(bye.starts_with("421 4.3.2 "), "{bye}");
    assert_eq!(c.reply().await, "", "closed after the 421");
    assert!(
        all_closed.await.unwrap(),
        "every session closed within the grace"
    );
    assert_eq!(stop.open_sessions(), 0);
    // No new connection is served: refused, or reset or closed (at most after one
    // reply) instead of a session that goes on. One attempt: a second connect could
    // race the listener's close and be reset.
    if let Ok(mut tcp) = TcpStream::connect(addr).await {
        let mut got = Vec::new();
        let closed = tokio::time::timeout(BOUND, tcp.read_to_end(&mut got)).await;
        let got = String::from_utf8_lossy(&got);
        assert!(closed.is_ok() && got.lines().count() <= 1, "served: {got}");
    }
}

/// Refuses one sender and recipients outside example.org, with the handler's replies.
struct Picky;

impl Handler for Picky {
    type Session = Picky;
    fn session(&self, _: &Connection) -> Picky {
        Picky
    }
}

impl Session for Picky {
    async fn mail(&mut self, mail: &Mail) -> Decision {
        match mail.from.to_string().as_str() {
            "<spam@example.net>" => Decision::reply("550 5.7.1 Not from you"),
            _ => Decision::Accept,
        }
    }

    async fn rcpt(&mut self, rcpt: &Rcpt) -> Decision {
        match rcpt.to.to_string().ends_with("@example.org>") {
            true => Decision::Accept,
            false => Decision::reply("550 5.1.1 No such user here"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_refusing_mail_and_rcpt_is_answered_with_its_reply() {
    let (addr, _stop) = start(ServerBuilder::new(config(), Picky)).await;
    let (mut c, _) = Client::connect(addr).await;
    assert!(c.cmd("EHLO client.test").await.starts_with("250"));
    let r = c.cmd("MAIL FROM:<spam@example.net>").await;
    assert_eq!(r, "550 5.7.1 Not from you\r\n");
    assert!(c.cmd("MAIL FROM:<a@example.net>").await.starts_with("250"));
    assert_eq!(
        c.cmd("RCPT TO:<x@example.com>").await,
        "550 5.1.1 No such user here\r\n"
    );
    assert!(c.cmd("RCPT TO:<b@example.org>").await.starts_with("250"));
    assert!(c.cmd("QUIT").await.starts_with("221"));
}

/// Records how a body arrived, and holds the final reply until released.
#[derive(Clone, Default)]
struct Recorder {
    chunks: Arc<AtomicUsize>,
    octets: Arc<AtomicU64>,
    /// The handler has the first chunk (back-pressure test) or the whole body.
    started: Arc<Notify>,
    finished: Arc<Notify>,
    release: Arc<Notify>,
    /// Wait for `release` after the first chunk (true) or after the last.
    hold_early: bool,
    body: Arc<Mutex<Vec<u8>>>,
    keep: bool,
    /// Set by the handler just before it returns its decision.
    decided: Arc<std::sync::atomic::AtomicBool>,
}

impl Handler for Recorder {
    type Session = Recorder;
    fn session(&self, _: &Connection) -> Recorder {
        self.clone()
    }
}

impl Session for Recorder {
    async fn message(&mut self, _m: &Message, mut body: Body) -> Decision {
        let mut first = true;
        while let Some(chunk) = body.chunk().await.expect("no abort") {
            self.chunks.fetch_add(1, Ordering::SeqCst);
            self.octets.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            if self.keep {
                self.body.lock().await.extend_from_slice(&chunk);
            }
            if first && self.hold_early {
                self.started.notify_one();
                self.release.notified().await;
            }
            first = false;
        }
        self.finished.notify_one();
        if !self.hold_early {
            self.release.notified().await;
        }
        self.decided.store(true, Ordering::SeqCst);
        Decision::Accept
    }
}

/// The body reaches the handler in chunks as it arrives, exactly the bytes sent
/// (dot-unstuffed), and the `250` goes out only once the handler has returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_arrives_as_chunks_and_250_waits_for_the_handler() {
    let rec = Recorder {
        keep: true,
        ..Recorder::default()
    };
    let (addr, _stop) = start(ServerBuilder::new(config(), rec.clone())).await;
    let (mut c, _) = Client::connect(addr).await;
    assert!(c.cmd("EHLO client.test").await.starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@example.org>").await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    let mut want = Vec::new();
    for i in 0..3000 {
        let line = format!("line {i} of a message that spans many reads\r\n");
        want.extend_from_slice(line.as_bytes());
        c.send(line.as_bytes()).await;
    }
    c.send(b"..a stuffed dot\r\n.\r\n").await;
    want.extend_from_slice(b".a stuffed dot\r\n");
    tokio::time::timeout(BOUND, rec.finished.notified())
        .await
        .unwrap();
    // The handler has the whole body but has not returned. The reply is awaited before
    // the handler is released: had the crate answered early, the reply would arrive
    // while the handler has not decided.
    let decided = rec.decided.clone();
    let reader = tokio::spawn(async move {
        let r = c.reply().await;
        (r, decided.load(Ordering::SeqCst))
    });
    rec.release.notify_one();
    let (r, decided_first) = tokio::time::timeout(BOUND, reader).await.unwrap().unwrap();
    assert!(r.starts_with("250"), "{r}");
    assert!(decided_first, "a reply came before the handler decided");
    assert_eq!(*rec.body.lock().await, want);
    assert!(rec.chunks.load(Ordering::SeqCst) > 1, "more than one chunk");
}

/// Back-pressure: while the handler does not read, the crate stops reading the client,
/// so the client cannot push a large body through; released, the whole body arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handler_holds_the_client_back_instead_of_buffering_the_body() {
    let rec = Recorder {
        hold_early: true,
        ..Recorder::default()
    };
    let (addr, _stop) = start(ServerBuilder::new(config(), rec.clone())).await;
    let (mut c, _) = Client::connect(addr).await;
    assert!(c.cmd("EHLO client.test").await.starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@example.org>").await.starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@example.org>").await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    const TOTAL: u64 = 128 * 1024 * 1024;
    let line = [b"x".repeat(98), b"\r\n".to_vec()].concat();
    let piece = line.repeat(640); // 64,000 octets
    let written = Arc::new(AtomicU64::new(0));
    let Client { r, mut w } = c;
    let writer = tokio::spawn({
        let written = written.clone();
        let piece = piece.clone();
        async move {
            while written.load(Ordering::SeqCst) < TOTAL {
                w.write_all(&piece).await.unwrap();
                written.fetch_add(piece.len() as u64, Ordering::SeqCst);
            }
            w.write_all(b".\r\n").await.unwrap();
            w
        }
    });
    tokio::time::timeout(BOUND, rec.started.notified())
        .await
        .unwrap();
    // Wait until the writer is stuck (no progress over 40 looks) or done.
    let mut last = 0;
    let mut still = 0;
    while still < 40 && written.load(Ordering::SeqCst) < TOTAL {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let now = written.load(Ordering::SeqCst);
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    let in_flight = written.load(Ordering::SeqCst) - rec.octets.load(Ordering::SeqCst);
    assert!(
        in_flight < TOTAL / 4,
        "{in_flight} octets went in while the handler read nothing"
    );
    rec.release.notify_one();
    let w = tokio::time::timeout(BOUND * 2, writer)
        .await
        .unwrap()
        .unwrap();
    let mut c = Client { r, w };
    let done = c.reply().await;
    assert!(done.starts_with("250"), "{done}");
    let sent = written.load(Ordering::SeqCst);
    assert_eq!(
        rec.octets.load(Ordering::SeqCst),
        sent,
        "the whole body arrived"
    );
}

/// Composition: `Tee` gives each step and the whole body to both handlers; the Maildir
/// keeps its copy and the second handler sees the same bytes, and a refusal by either
/// is the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tee_gives_the_body_to_both_and_the_first_refusal_answers() {
    let dir = temp_dir("tee");
    let rec = Recorder {
        keep: true,
        ..Recorder::default()
    };
    rec.release.notify_one(); // the reply is not held
    let tee = smtp_sansio_tokio::Tee::new(
        Maildir::open(&dir).unwrap(),
        smtp_sansio_tokio::Tee::new(Picky, rec.clone()),
    );
    let (addr, _stop) = start(ServerBuilder::new(config(), tee)).await;
    let (mut c, _) = Client::connect(addr).await;
    assert!(c.cmd("EHLO client.test").await.starts_with("250"));
    assert!(
        c.cmd("MAIL FROM:<spam@example.net>")
            .await
            .starts_with("550 5.7.1")
    );
    assert!(c.cmd("MAIL FROM:<a@example.org>").await.starts_with("250"));
    assert!(
        c.cmd("RCPT TO:<x@example.com>")
            .await
            .starts_with("550 5.1.1")
    );
    assert!(c.cmd("RCPT TO:<b@example.org>").await.starts_with("250"));
    assert!(c.cmd("DATA").await.starts_with("354"));
    let r = c.cmd("Subject: both\r\n\r\nbody\r\n.").await;
    assert!(r.starts_with("250"), "{r}");
    let msgs = stored(&dir);
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].ends_with(b"\r\nSubject: both\r\n\r\nbody\r\n"));
    assert_eq!(*rec.body.lock().await, b"Subject: both\r\n\r\nbody\r\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keeps every message body it is given.
#[derive(Clone, Default)]
struct Collector {
    bodies: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl Handler for Collector {
    type Session = Collector;
    fn session(&self, _: &Connection) -> Collector {
        self.clone()
    }
}

impl Session for Collector {
    async fn message(&mut self, _m: &Message, mut body: Body) -> Decision {
        let mut all = Vec::new();
        while let Ok(Some(chunk)) = body.chunk().await {
            all.extend_from_slice(&chunk);
        }
        self.bodies.lock().unwrap().push(all);
        Decision::Accept
    }
}

/// Reads go through one buffer per worker thread, shared by every session it serves:
/// sessions sending at once, each a body over many reads and commands pipelined in one
/// write (RFC 2920), still each get exactly their own bytes, and every reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_sharing_the_read_buffer_each_get_their_own_bytes() {
    let sink = Collector::default();
    let (addr, _stop) = start(ServerBuilder::new(config(), sink.clone())).await;
    let mut clients = Vec::new();
    for n in 0..16u32 {
        clients.push(tokio::spawn(async move {
            let (mut c, _) = Client::connect(addr).await;
            assert!(c.cmd("EHLO client.test").await.starts_with("250"));
            let mut body = Vec::new();
            for i in 0..4000 {
                body.extend_from_slice(format!("session {n} line {i}\r\n").as_bytes());
            }
            let mut wire =
                b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n".to_vec();
            c.send(&wire).await;
            assert!(c.reply().await.starts_with("250"));
            assert!(c.reply().await.starts_with("250"));
            assert!(c.reply().await.starts_with("354"));
            wire.clear();
            wire.extend_from_slice(&body);
            wire.extend_from_slice(b".\r\nQUIT\r\n");
            c.send(&wire).await;
            let done = c.reply().await;
            assert!(done.starts_with("250"), "{done}");
            assert!(c.reply().await.starts_with("221"));
            body
        }));
    }
    let mut sent = Vec::new();
    for c in clients {
        sent.push(tokio::time::timeout(BOUND, c).await.unwrap().unwrap());
    }
    let mut got = sink.bodies.lock().unwrap().clone();
    got.sort();
    sent.sort();
    assert_eq!(got.len(), 16);
    assert!(got == sent, "a session received bytes that are not its own");
}

/// Discards messages, noting the thread each session was set up on.
#[derive(Clone, Default)]
struct WhereServed(Arc<std::sync::Mutex<Vec<String>>>);

impl Handler for WhereServed {
    type Session = smtp_sansio_tokio::DiscardSession;
    fn session(&self, conn: &Connection) -> Self::Session {
        let name = std::thread::current().name().unwrap_or("").to_string();
        self.0.lock().unwrap().push(name);
        smtp_sansio_tokio::Discard.session(conn)
    }
}

/// The default thread count of a server beside its clients leaves them half the CPUs
/// and never serves on none.
#[test]
fn threads_beside_clients_is_half_the_cpus_and_never_zero() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = smtp_sansio_tokio::threads_beside_clients();
    assert!(n >= 1 && n <= cpus.max(1), "{n} of {cpus}");
    assert_eq!(n, (cpus / 2).max(1));
}

/// `threads(2)`: sessions run on the server's own threads (the test's runtime has one
/// thread, which only runs the clients), several at once; the cap is one count across
/// the threads, answered with 421; shutdown answers every open session 421, and both
/// the shutdown future and `run` complete once all have closed.
#[tokio::test]
async fn thread_per_core_server_serves_concurrent_sessions_caps_them_and_shuts_down() {
    let seen = WhereServed::default();
    let server = ServerBuilder::new(config(), seen.clone())
        .threads(2)
        .max_sessions(3)
        .listen("127.0.0.1:0".parse().unwrap())
        .logger(Logger::none())
        .bind()
        .await
        .expect("bind");
    let addr = server.listeners()[0].0;
    let stop = server.shutdown_handle();
    let running = tokio::spawn(server.run());

    let mut clients = Vec::new();
    for _ in 0..3 {
        let (c, greeting) = Client::connect(addr).await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        clients.push(c);
    }
    // All three in the middle of a transaction at once, then each completes it.
    for (i, c) in clients.iter_mut().enumerate() {
        assert!(c.cmd("EHLO client.test").await.starts_with("250"));
        let from = format!("MAIL FROM:<s{i}@example.org>");
        assert!(c.cmd(&from).await.starts_with("250"));
        assert!(c.cmd("RCPT TO:<r@example.org>").await.starts_with("250"));
        assert!(c.cmd("DATA").await.starts_with("354"));
    }
    for c in &mut clients {
        let end = c.cmd("Subject: t\r\n\r\nbody\r\n.").await;
        assert!(end.starts_with("250"), "{end}");
    }
    assert_eq!(stop.open_sessions(), 3);

    // A fourth is over the cap, whichever thread accepts it.
    assert_turned_away(addr).await;
    for c in &mut clients {
        assert!(c.cmd("NOOP").await.starts_with("250"), "still served");
    }

    let names = seen.0.lock().unwrap().clone();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("smtp-")), "{names:?}");

    let all_closed = tokio::spawn({
        let stop = stop.clone();
        async move { stop.shutdown(BOUND).await }
    });
    for c in &mut clients {
        let bye = c.reply().await;
        assert!(bye.starts_with("421 4.3.2 "), "{bye}");
        assert_eq!(c.reply().await, "", "closed after the 421");
    }
    assert!(all_closed.await.unwrap(), "every session closed in time");
    assert_eq!(stop.open_sessions(), 0);
    let ran = tokio::time::timeout(BOUND, running)
        .await
        .expect("run ends");
    assert!(ran.unwrap().is_ok());
}
