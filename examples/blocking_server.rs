//! A blocking SMTP submission server on `std::net`, one thread per connection, with
//! STARTTLS, implicit TLS and AUTH through rustls' blocking API, storing every accepted
//! message in a Maildir. It is the template for embedding the server machine in a
//! synchronous program:
//!
//! ```text
//! cargo run --release --example blocking_server -- --listen 127.0.0.1:2525 --maildir ./maildir
//!     [--implicit-tls ADDR] [--tls-cert PEM --tls-key PEM] [--user NAME:PASSWORD]
//!     [--hostname NAME] [--max-size BYTES] [--max-recipients N] [--lmtp] [--verbose]
//!     [--discard] [--received-auth] [--add-missing-headers]
//! ```
//!
//! The options mean what they mean for `examples/server.rs`, the tokio version: TLS is
//! always available (a self-signed certificate is generated when none is given), and
//! `--user` turns on AUTH PLAIN/LOGIN under TLS and requires it for MAIL.

#[path = "common/options.rs"]
mod options;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio_tokio::blocking::Policy;
use smtp_sansio_tokio::{Credentials, Logger, Maildir, TOO_MANY_SESSIONS, TlsIdentity, TlsInfo};

use options::{Options, Store};

/// A client that stops reading our replies is dropped after this.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// The TLS handshake must complete within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

type TlsStream = StreamOwned<ServerConnection, TcpStream>;

/// What every connection shares.
struct Shared {
    config: Arc<ServerConfig>,
    tls: Arc<rustls::ServerConfig>,
    /// `None` with `--discard`.
    maildir: Option<Maildir>,
    users: Arc<Credentials>,
    verbose: bool,
    /// Sessions running now, against `max_sessions`.
    open: AtomicUsize,
    max_sessions: usize,
}

fn main() -> ExitCode {
    options::exit(run(Options::from_args("blocking_server")))
}

fn run(opts: Options) -> Result<(), String> {
    let identity = TlsIdentity::from_pem_files_or_self_signed(
        opts.tls_cert.as_deref(),
        opts.tls_key.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    eprintln!("TLS: {}", identity.describe());
    let (maildir, store) = match opts.store()? {
        (Store::Maildir(maildir), store) => (Some(maildir), store),
        (Store::Discard, store) => (None, store),
        // `Options::from_args` refuses --relay here already.
        (Store::Relay(r), _) => return Err(format!("{} needs the tokio server", r.describe())),
    };
    let shared = Arc::new(Shared {
        config: Arc::new(opts.config),
        tls: identity.config,
        maildir,
        users: Arc::new(opts.users),
        verbose: opts.verbose,
        open: AtomicUsize::new(0),
        max_sessions: opts.max_sessions,
    });
    let listeners = opts.listen.iter().map(|a| (*a, false));
    let listeners = listeners.chain(opts.implicit_tls.iter().map(|a| (*a, true)));
    let mut threads = Vec::new();
    for (addr, implicit) in listeners.collect::<Vec<_>>() {
        let listener =
            TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().unwrap_or(addr);
        let mode = if implicit { " (implicit TLS)" } else { "" };
        eprintln!("listening on {local}{mode}, {store}");
        let shared = shared.clone();
        threads.push(std::thread::spawn(move || {
            accept_loop(listener, implicit, shared)
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

fn accept_loop(listener: TcpListener, implicit: bool, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors, most likely: back off instead of spinning.
                eprintln!("accept: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if shared.open.fetch_add(1, Ordering::Relaxed) >= shared.max_sessions {
            shared.open.fetch_sub(1, Ordering::Relaxed);
            too_many(stream);
            continue;
        }
        let mine = shared.clone();
        let spawned = std::thread::Builder::new().spawn(move || {
            // An accepted socket whose address cannot be read is already gone.
            if let Ok(peer) = stream.peer_addr() {
                session(stream, peer, implicit, &mine);
            }
            mine.open.fetch_sub(1, Ordering::Relaxed);
        });
        if let Err(e) = spawned {
            // Out of threads: the closure is dropped with the connection in it, so the
            // client sees it close; the count it held is given back here, and the
            // server goes on accepting instead of dying with the accept thread.
            eprintln!("cannot start a session thread: {e}");
            shared.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Refuses a connection over `--max-sessions` with 421 (RFC 5321 3.1) without ever
/// blocking the accept loop on the flooder.
fn too_many(stream: TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        let _ = (&stream).write(TOO_MANY_SESSIONS);
    }
}

/// How a run of the loop ended.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    Closed,
    /// The `220` to STARTTLS is written; upgrade the stream now.
    StartTls,
}

fn handshake(config: &Arc<rustls::ServerConfig>, mut tcp: TcpStream) -> io::Result<TlsStream> {
    let mut conn = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
    tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    Ok(StreamOwned::new(conn, tcp))
}

fn close(tls: &mut TlsStream) -> io::Result<()> {
    tls.conn.send_close_notify();
    tls.flush()
}

/// A byte stream whose socket can take a read timeout: plain TCP or TLS over TCP.
trait Transport: Read + Write {
    fn tcp(&self) -> &TcpStream;
}

impl Transport for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Transport for TlsStream {
    fn tcp(&self) -> &TcpStream {
        self.get_ref()
    }
}

/// One connection, its errors logged. Every decision is the runtime crate's blocking
/// [`Policy`]: the same answers, trace fields and log lines as the tokio server's.
fn session(tcp: TcpStream, peer: SocketAddr, implicit: bool, shared: &Shared) {
    let mut policy = Policy::new(peer, Logger::stderr())
        .credentials(shared.users.clone())
        .transcript(shared.verbose);
    if let Some(maildir) = &shared.maildir {
        policy = policy.maildir(maildir.clone());
    }
    if let Err(e) = connection(tcp, implicit, shared, &mut policy) {
        policy.log().line(format_args!("connection error: {e}"));
    }
}

/// Plain with STARTTLS, or implicit TLS.
fn connection(
    mut tcp: TcpStream,
    implicit: bool,
    shared: &Shared,
    policy: &mut Policy,
) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let config = shared.config.clone();
    if implicit {
        // RFC 8314 3.3: TLS first; the greeting is the first thing sent inside it.
        let mut tls = handshake(&shared.tls, tcp)?;
        policy.tls_established(TlsInfo::of(&tls.conn));
        let mut server = Server::new_tls(config, Instant::now()).map_err(io::Error::other)?;
        serve(&mut tls, &mut server, policy)?;
        return close(&mut tls);
    }
    let mut server = Server::new(config, Instant::now()).map_err(io::Error::other)?;
    if serve(&mut tcp, &mut server, policy)? == Turn::Closed {
        return Ok(());
    }
    // STARTTLS (RFC 3207). Every byte read so far was fed to the machine, which drops
    // what followed the command (CVE-2011-0411); nothing is buffered here, so the
    // handshake reads the socket afresh.
    let mut tls = handshake(&shared.tls, tcp)?;
    policy.tls_established(TlsInfo::of(&tls.conn));
    server
        .tls_established(Instant::now())
        .map_err(io::Error::other)?;
    serve(&mut tls, &mut server, policy)?;
    close(&mut tls)
}

/// The run loop: feed reads to the machine, answer its events, write what it transmits,
/// honour its deadline.
fn serve<S: Transport>(
    stream: &mut S,
    server: &mut Server,
    policy: &mut Policy,
) -> io::Result<Turn> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let starttls = drain(stream, server, policy)?;
        if server.is_closed() {
            return Ok(Turn::Closed);
        }
        if starttls {
            return Ok(Turn::StartTls);
        }
        let now = Instant::now();
        match server.poll_timeout() {
            Some(deadline) if deadline <= now => {
                server.handle_timeout(now);
                continue;
            }
            Some(deadline) => stream.tcp().set_read_timeout(Some(deadline - now))?,
            None => stream.tcp().set_read_timeout(None)?,
        }
        match stream.read(&mut buf) {
            Ok(0) => server.handle_eof(Instant::now()),
            Ok(n) => {
                policy.read(&buf[..n]);
                server.handle_input(Instant::now(), &buf[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                server.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                server.handle_eof(Instant::now());
                drain(stream, server, policy).ok();
                return Err(e);
            }
        }
    }
}

/// Answers every event, then writes every pending reply. Returns true on
/// `Event::StartTls`, once its `220` is written.
fn drain<S: Write>(stream: &mut S, server: &mut Server, policy: &mut Policy) -> io::Result<bool> {
    let mut starttls = false;
    while let Some(event) = server.poll_event() {
        match event {
            Event::StartTls => starttls = true,
            // A message is stored (fsync, rename into new/) before its final reply.
            event => policy.on_event(server, event),
        }
    }
    while let Some(out) = server.poll_transmit() {
        policy.wrote(&out);
        stream.write_all(&out)?;
    }
    stream.flush()?;
    Ok(starttls)
}
