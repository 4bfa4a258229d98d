//! A blocking SMTP submission server on `std::net`, one thread per connection, with
//! STARTTLS, implicit TLS and AUTH through rustls' blocking API, storing every accepted
//! message in a Maildir. It is the template for embedding the server machine in a
//! synchronous program:
//!
//! ```text
//! cargo run --release --example blocking_server -- --listen 127.0.0.1:2525 --maildir ./maildir
//! cargo run --release --example blocking_server -- --help   # every option (--lmtp...)
//! ```
//!
//! The options mean what they mean for `examples/server.rs`, the tokio version: TLS is
//! always available (a self-signed certificate is generated when none is given), and
//! `--user` turns on AUTH PLAIN/LOGIN under TLS and requires it for MAIL.

#[path = "common/options.rs"]
mod options;

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio_tokio::blocking::{Policy, Stream, Threads};
use smtp_sansio_tokio::{
    BlockingTls, Credentials, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_WRITE_TIMEOUT, Logger, Maildir,
    TlsIdentity, TlsInfo,
};

use options::{Options, Store};

/// What every connection shares.
struct Shared {
    config: Arc<ServerConfig>,
    tls: TlsIdentity,
    /// `None` with `--discard`.
    maildir: Option<Maildir>,
    users: Arc<Credentials>,
    verbose: bool,
}

fn main() -> ExitCode {
    options::exit(run(Options::from_args("blocking_server")))
}

fn run(opts: Options) -> Result<(), String> {
    let tls = opts.tls()?;
    let (maildir, store) = match opts.store()? {
        (Store::Maildir(maildir), store) => (Some(maildir), store),
        (Store::Discard, store) => (None, store),
        // `Options::from_args` refuses --relay here already.
        (Store::Relay(r), _) => return Err(format!("{} needs the tokio server", r.describe())),
    };
    let listeners: Vec<_> = opts.listeners().collect();
    let shared = Arc::new(Shared {
        config: Arc::new(opts.config),
        tls,
        maildir,
        users: Arc::new(opts.users),
        verbose: opts.verbose,
    });
    // A thread per connection, at most --max-sessions at once on all listeners.
    let threads = Threads::new(opts.max_sessions, Logger::stderr());
    let mut running = Vec::new();
    for (addr, implicit) in listeners {
        let listener =
            TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().unwrap_or(addr);
        let mode = if implicit { " (implicit TLS)" } else { "" };
        eprintln!("listening on {local}{mode}, {store}");
        let (threads, shared) = (threads.clone(), shared.clone());
        running.push(std::thread::spawn(move || {
            threads.accept_loop(listener, move |tcp, peer| {
                session(tcp, peer, implicit, &shared)
            })
        }));
    }
    for t in running {
        let _ = t.join();
    }
    Ok(())
}

/// How a run of the loop ended.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    Closed,
    /// The `220` to STARTTLS is written; upgrade the stream now.
    StartTls,
}

fn close(tls: &mut BlockingTls) -> io::Result<()> {
    tls.conn.send_close_notify();
    tls.flush()
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
    // A client that stops reading our replies is dropped.
    tcp.set_write_timeout(Some(DEFAULT_WRITE_TIMEOUT))?;
    let config = shared.config.clone();
    if implicit {
        // RFC 8314 3.3: TLS first; the greeting is the first thing sent inside it.
        let mut tls = shared.tls.accept_blocking(tcp, DEFAULT_HANDSHAKE_TIMEOUT)?;
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
    let mut tls = shared.tls.accept_blocking(tcp, DEFAULT_HANDSHAKE_TIMEOUT)?;
    policy.tls_established(TlsInfo::of(&tls.conn));
    server
        .tls_established(Instant::now())
        .map_err(io::Error::other)?;
    serve(&mut tls, &mut server, policy)?;
    close(&mut tls)
}

/// The run loop: feed reads to the machine, answer its events, write what it transmits,
/// honour its deadline.
fn serve<S: Stream>(stream: &mut S, server: &mut Server, policy: &mut Policy) -> io::Result<Turn> {
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
            Some(deadline) => stream.socket().set_read_timeout(Some(deadline - now))?,
            None => stream.socket().set_read_timeout(None)?,
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
