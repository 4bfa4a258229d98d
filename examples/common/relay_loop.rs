//! `--relay` mode of `examples/server.rs`, still on its own run loop: each incoming
//! transaction is mirrored upstream by `relay.rs` while the client is served. The
//! non-relaying server runs on the `smtp-sansio-tokio` crate; this loop goes once the
//! relay is a handler of that crate.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio_tokio::TlsInfo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::maildir::Maildir;
use crate::options::{self, Options};
use crate::policy::{Policy, TraceOptions};
use crate::relay::{Relay, RelaySession};
use crate::users::Users;

/// Read buffer size. Plain TCP connections share one per worker thread (see `Input`);
/// TLS connections own one.
const READ_BUFFER: usize = 16 * 1024;
/// A client that stops reading our replies is dropped after this.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// The TLS handshake must complete within this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long Ctrl-C waits for sessions to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What every session shares.
struct Shared {
    config: Arc<ServerConfig>,
    tls: TlsAcceptor,
    maildir: Option<Maildir>,
    users: Arc<Users>,
    verbose: bool,
    open: AtomicUsize,
    max_sessions: usize,
    relay: Option<Arc<Relay>>,
    trace: TraceOptions,
}

impl Shared {
    /// The configuration for a session starting now; a relay's follows its upstream.
    fn config(&self) -> Arc<ServerConfig> {
        match &self.relay {
            Some(r) => r.server_config(),
            None => self.config.clone(),
        }
    }
}

/// Handed to every task; the run-down waits until all are dropped.
type Alive = mpsc::Sender<()>;

/// Serves `--relay` (the caller printed the TLS line).
pub async fn run(mut opts: Options, tls_config: Arc<rustls::ServerConfig>) -> Result<(), String> {
    let users = Arc::new(std::mem::take(&mut opts.users));
    let relay = match opts.relay.clone() {
        Some(r) => Some(Arc::new(Relay::new(r, &opts.config, users.clone())?)),
        None => None,
    };
    if let Some(r) = &relay {
        // Before any client is served: the first one is offered what the upstream keeps.
        r.learn_at_start().await;
    }
    // A relay keeps copies only when asked to with --maildir.
    let keep = !opts.discard && (relay.is_none() || opts.maildir_given);
    let maildir = match !keep {
        true => None,
        false => Some(
            Maildir::open(&opts.maildir)
                .map_err(|e| format!("cannot open maildir {}: {e}", opts.maildir.display()))?,
        ),
    };
    let store = match (&relay, keep) {
        (Some(r), true) => format!("{}, copies into {}", r.describe(), opts.maildir.display()),
        (Some(r), false) => r.describe(),
        (None, false) => "discarding messages".to_owned(),
        (None, true) => format!("storing into {}", opts.maildir.display()),
    };
    let trace = TraceOptions {
        received_auth: opts.received_auth,
        add_missing_headers: opts.add_missing_headers,
    };
    let shared = Arc::new(Shared {
        trace,
        config: Arc::new(opts.config),
        tls: TlsAcceptor::from(tls_config),
        maildir,
        users,
        verbose: opts.verbose,
        open: AtomicUsize::new(0),
        max_sessions: opts.max_sessions,
        relay,
    });

    let (stop, stopped) = watch::channel(false);
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    let listeners = opts.listen.iter().map(|a| (*a, false));
    let listeners = listeners.chain(opts.implicit_tls.iter().map(|a| (*a, true)));
    for (addr, implicit) in listeners.collect::<Vec<_>>() {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().unwrap_or(addr);
        let mode = if implicit { " (implicit TLS)" } else { "" };
        eprintln!("listening on {local}{mode}, {store}");
        let task = accept_loop(
            listener,
            implicit,
            shared.clone(),
            stopped.clone(),
            alive.clone(),
        );
        tokio::spawn(task);
    }
    drop(alive);

    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C ({e}); shutting down");
    }
    let open = shared.open.load(Ordering::Relaxed);
    eprintln!("shutting down: {open} session(s) open");
    let _ = stop.send(true);
    match tokio::time::timeout(SHUTDOWN_GRACE, all_done.recv()).await {
        Ok(_) => eprintln!("all sessions finished"),
        Err(_) => {
            let open = shared.open.load(Ordering::Relaxed);
            eprintln!("{open} session(s) still open after {SHUTDOWN_GRACE:?}; exiting");
        }
    }
    Ok(())
}

async fn accept_loop(
    listener: TcpListener,
    implicit: bool,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    alive: Alive,
) {
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most likely: back off instead of spinning.
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        if shared.open.fetch_add(1, Ordering::Relaxed) >= shared.max_sessions {
            shared.open.fetch_sub(1, Ordering::Relaxed);
            // Never wait on the flooder: one try, and the socket is closed.
            let _ = tcp.try_write(options::TOO_MANY_SESSIONS);
            continue;
        }
        let (shared, stop, alive) = (shared.clone(), stop.clone(), alive.clone());
        tokio::spawn(async move {
            if let Err(e) = session(tcp, peer, implicit, &shared, stop).await {
                eprintln!("{peer}: connection error: {e}");
            }
            shared.open.fetch_sub(1, Ordering::Relaxed);
            drop(alive);
        });
    }
}

/// How a run of the loop ended.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    Closed,
    /// The `220` to STARTTLS is written; upgrade the stream now.
    StartTls,
}

/// One connection: plain with STARTTLS, or implicit TLS.
async fn session(
    tcp: TcpStream,
    peer: SocketAddr,
    implicit: bool,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    let peer = peer.to_string();
    let mut policy = Policy::new(
        &peer,
        shared.maildir.clone(),
        shared.users.clone(),
        shared.verbose,
    )
    .with_trace(shared.trace);
    let mut relay = shared
        .relay
        .clone()
        .map(|r| Box::new(RelaySession::new(r, &peer, shared.maildir.clone())));
    let result = serve_session(tcp, implicit, shared, &mut policy, &mut relay, &mut stop).await;
    if let Some(relay) = relay.as_mut() {
        Box::pin(relay.finish()).await;
    }
    result
}

async fn serve_session(
    tcp: TcpStream,
    implicit: bool,
    shared: &Shared,
    policy: &mut Policy,
    relay: &mut Option<Box<RelaySession>>,
    stop: &mut watch::Receiver<bool>,
) -> io::Result<()> {
    if implicit {
        // RFC 8314 3.3: TLS first; the greeting is the first thing sent inside it.
        return Box::pin(over_tls(tcp, None, shared, policy, relay, stop)).await;
    }
    let mut tcp = tcp;
    let mut server = Server::new(shared.config(), Instant::now()).map_err(io::Error::other)?;
    if serve(&mut tcp, &mut server, policy, relay, stop).await? == Turn::Closed {
        return close(&mut tcp).await;
    }
    // STARTTLS (RFC 3207). Every byte read so far was fed to the machine, which drops
    // what followed the command (CVE-2011-0411); nothing is buffered here, so the
    // handshake reads the socket afresh.
    Box::pin(over_tls(tcp, Some(server), shared, policy, relay, stop)).await
}

/// The TLS part of a session: implicit TLS (`server` is `None`) or after STARTTLS. Its
/// future is boxed by the caller, so the TLS state (several KiB) is only allocated for
/// sessions that use TLS, not reserved in every connection's task.
async fn over_tls(
    tcp: TcpStream,
    server: Option<Server>,
    shared: &Shared,
    policy: &mut Policy,
    relay: &mut Option<Box<RelaySession>>,
    stop: &mut watch::Receiver<bool>,
) -> io::Result<()> {
    let mut tls = handshake(&shared.tls, tcp, stop).await?;
    policy.tls_established(TlsInfo::of(tls.get_ref().1).map(|t| (t.version, t.cipher)));
    let mut server = match server {
        Some(mut server) => {
            server
                .tls_established(Instant::now())
                .map_err(io::Error::other)?;
            server
        }
        None => Server::new_tls(shared.config(), Instant::now()).map_err(io::Error::other)?,
    };
    serve(&mut tls, &mut server, policy, relay, stop).await?;
    close(&mut tls).await
}

async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    stop: &mut watch::Receiver<bool>,
) -> io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
    let shake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
    tokio::select! {
        done = shake => done.map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?,
        _ = stop.wait_for(|stop| *stop) => Err(io::Error::other("shut down during the TLS handshake")),
    }
}

async fn close<S: AsyncWrite + Unpin>(stream: &mut S) -> io::Result<()> {
    // For TLS this sends close_notify; for TCP it shuts down the write half.
    let _ = tokio::time::timeout(WRITE_TIMEOUT, stream.shutdown()).await;
    Ok(())
}

/// The run loop over any byte stream: feed reads to the machine, answer its events,
/// write what it transmits, honour its deadline and the shutdown signal. In relay mode
/// the upstream connection is read and timed in the same loop.
async fn serve<S: Input>(
    stream: &mut S,
    server: &mut Server,
    policy: &mut Policy,
    relay: &mut Option<Box<RelaySession>>,
    stop: &mut watch::Receiver<bool>,
) -> io::Result<Turn> {
    let mut up_buf = vec![0u8; if relay.is_some() { READ_BUFFER } else { 0 }];
    // The timer and the shutdown watch live across iterations: registering a fresh
    // timer and a fresh watch waiter for every command cost more than the command
    // (a lock shared by every session). The timer is only moved earlier; when it fires
    // before the machine's deadline (which activity keeps pushing back),
    // `handle_timeout` does nothing and the timer is set again.
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    let mut armed: Option<Instant> = None;
    let mut stopping = *stop.borrow_and_update();
    if stopping {
        server.shutdown(); // 421 4.3.2; an unacknowledged message stays so
    }
    let stop_changed = stop.changed();
    tokio::pin!(stop_changed);
    loop {
        let starttls = drain(stream, server, policy, relay).await?;
        if server.is_closed() {
            return Ok(Turn::Closed);
        }
        if starttls {
            return Ok(Turn::StartTls);
        }
        // A slow upstream slows the client: its bytes wait in the socket, not here.
        let want_input =
            server.wants_input() && relay.as_ref().is_none_or(|r| r.wants_downstream());
        let up_deadline = relay.as_ref().and_then(|r| r.deadline());
        // A deadline already past (the store took long, say) is handled at once.
        let now = Instant::now();
        if server.poll_timeout().is_some_and(|d| d <= now) {
            server.handle_timeout(now);
            continue;
        }
        if let Some(due) = earliest(server.poll_timeout(), up_deadline) {
            if armed.is_none_or(|a| due < a) {
                timer.as_mut().reset(due.into());
                armed = Some(due);
            }
        }
        let relaying = relay.is_some();
        tokio::select! {
            read = stream.read_with(|bytes| {
                policy.trace_in(bytes);
                server.handle_input(Instant::now(), bytes);
                bytes.len()
            }), if want_input => match read {
                Ok(0) => server.handle_eof(Instant::now()),
                Ok(_) => {}
                Err(e) => {
                    server.handle_eof(Instant::now());
                    while let Some(event) = server.poll_event() {
                        let _ = policy.on_event(server, event);
                    }
                    return Err(e);
                }
            },
            read = read_upstream(relay, &mut up_buf), if relaying => {
                if let Some(r) = relay.as_mut() {
                    r.on_read(read, &up_buf);
                }
            }
            // One timer for both machines (each pending timer costs memory per session).
            () = &mut timer, if armed.is_some() => {
                armed = None;
                let now = Instant::now();
                if up_deadline.is_some_and(|d| d <= now) {
                    if let Some(r) = relay.as_mut() {
                        r.on_timeout();
                    }
                }
                server.handle_timeout(now);
            }
            _ = &mut stop_changed, if !stopping => {
                stopping = true;
                server.shutdown();
            }
        }
    }
}

/// A byte stream the run loop reads from. The point is memory: a session waiting for its
/// client should hold no read buffer, so that thousands of idle connections cost little.
trait Input: AsyncRead + AsyncWrite + Unpin {
    /// Waits for input and hands it to `f` (an empty slice at end of stream); returns what
    /// `f` returns.
    async fn read_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R>;
}

thread_local! {
    /// The read buffer of every plain connection served by this worker thread. It is only
    /// borrowed between a readiness wake-up and the machine's `handle_input`, with no
    /// await in between, so no two sessions can hold it at once.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; READ_BUFFER]);
}

impl Input for TcpStream {
    async fn read_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        loop {
            // Readiness first, then a non-blocking read into the shared buffer.
            self.readable().await?;
            let read = SCRATCH.with_borrow_mut(|buf| self.try_read(buf));
            match read {
                Ok(n) => return Ok(SCRATCH.with_borrow(|buf| f(&buf[..n]))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Input for tokio_rustls::server::TlsStream<TcpStream> {
    async fn read_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        // rustls may hold decrypted bytes the socket no longer signals, so read through
        // it, into a buffer owned for the duration of the wait.
        let mut buf = vec![0u8; READ_BUFFER];
        let n = self.read(&mut buf).await?;
        Ok(f(&buf[..n]))
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn read_upstream(relay: &mut Option<Box<RelaySession>>, buf: &mut [u8]) -> io::Result<usize> {
    match relay.as_mut() {
        Some(r) => Box::pin(r.read(buf)).await,
        None => std::future::pending().await,
    }
}

/// Answers every event, then writes every pending reply. Returns true on
/// `Event::StartTls`, once its `220` is written.
async fn drain<S: AsyncWrite + Unpin>(
    stream: &mut S,
    server: &mut Server,
    policy: &mut Policy,
    relay: &mut Option<Box<RelaySession>>,
) -> io::Result<bool> {
    let mut starttls = false;
    loop {
        let Some(event) = server.poll_event() else {
            // Upstream replies may answer held tickets, which may surface new events.
            match relay.as_mut() {
                Some(r) => {
                    Box::pin(r.pump(server)).await;
                    match server.poll_event() {
                        Some(event) => {
                            handle(event, server, policy, relay, &mut starttls).await?;
                            continue;
                        }
                        None => break,
                    }
                }
                None => break,
            }
        };
        handle(event, server, policy, relay, &mut starttls).await?;
    }
    while let Some(out) = server.poll_transmit() {
        policy.trace_out(&out);
        write_within(WRITE_TIMEOUT, stream.write_all(&out)).await?;
    }
    write_within(WRITE_TIMEOUT, stream.flush()).await?;
    Ok(starttls)
}

/// One downstream event: the relay's, the transport's (STARTTLS) or the policy's.
async fn handle(
    event: Event,
    server: &mut Server,
    policy: &mut Policy,
    relay: &mut Option<Box<RelaySession>>,
    starttls: &mut bool,
) -> io::Result<()> {
    let event = match relay.as_mut() {
        Some(r) => {
            if let Event::MessageStart(start) = &event {
                // RFC 5321 4.4: a relayed message starts with our Received field.
                let by = server.config().hostname.clone();
                r.received(|id| policy.received_field(start, &by, id));
            }
            match Box::pin(r.on_event(server, event)).await {
                Some(event) => event,
                None => return Ok(()),
            }
        }
        None => event,
    };
    if let Event::StartTls = event {
        *starttls = true;
    } else if let Some(store) = policy.on_event(server, event) {
        // fsync and rename block: keep them off the async workers. The reply
        // waits for the file to be in new/.
        // Nothing to sync when discarding: no thread hand-off then.
        let stored = if store.blocks() {
            tokio::task::spawn_blocking(move || store.run())
                .await
                .map_err(io::Error::other)?
        } else {
            store.run()
        };
        policy.stored(server, stored);
    }
    Ok(())
}

async fn write_within(
    limit: Duration,
    write: impl Future<Output = io::Result<()>>,
) -> io::Result<()> {
    tokio::time::timeout(limit, write)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client does not read"))?
}
