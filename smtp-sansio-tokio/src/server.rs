//! Listeners, the session cap and graceful shutdown around the per-connection run loop.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smtp_sansio::server::ServerConfig;
use smtp_sansio::types::Mechanism;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::auth::PasswordVerifier;
use crate::handler::{Connection, Handler};
use crate::log::Logger;
use crate::session;
use crate::tls::TlsIdentity;

/// The answer to a connection over the session cap (RFC 5321 3.1 lets a server refuse a
/// connection with 421), written once without waiting, then the socket is closed.
pub const TOO_MANY_SESSIONS: &[u8] = b"421 4.3.2 Too many connections, try again later\r\n";

/// Default cap on sessions served at once: enough for load tests (thousands of idle
/// connections), few enough that a connection flood cannot exhaust threads or
/// descriptors.
pub const DEFAULT_MAX_SESSIONS: usize = 4096;
/// Default bound on one write to a client (a client that stops reading is dropped).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default bound on a TLS handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// What every session of a server shares.
pub(crate) struct Shared<H> {
    pub handler: H,
    pub config: Arc<ServerConfig>,
    pub tls: Option<TlsAcceptor>,
    pub verifier: Option<Arc<dyn PasswordVerifier>>,
    pub log: Logger,
    pub transcript: bool,
    pub write_timeout: Duration,
    pub handshake_timeout: Duration,
    pub max_sessions: usize,
    pub control: Arc<Control>,
}

/// The shutdown signal and the count of open sessions.
pub(crate) struct Control {
    pub stop: watch::Sender<bool>,
    pub open: watch::Sender<usize>,
}

/// Sets up a [`Server`]: its handler, configuration, listeners, TLS and limits.
///
/// Timeouts of the SMTP dialogue are the configuration's
/// ([`Timeouts`](smtp_sansio::server::Timeouts)); the transport adds a bound on each
/// write ([`write_timeout`](Self::write_timeout)) and on the TLS handshake.
pub struct ServerBuilder<H> {
    config: ServerConfig,
    handler: H,
    plain: Vec<SocketAddr>,
    implicit: Vec<SocketAddr>,
    tls: Option<TlsIdentity>,
    verifier: Option<Arc<dyn PasswordVerifier>>,
    log: Logger,
    transcript: bool,
    write_timeout: Duration,
    handshake_timeout: Duration,
    max_sessions: usize,
    threads: usize,
}

/// A count for [`ServerBuilder::threads`] on a machine whose clients share its cores (a
/// local sink under a test load, a relay beside the programs that submit to it): half
/// the CPUs, at least 1, so the clients keep the other half. On 2 cores shared with
/// smtp-source, one thread served 20 sessions of 1 KiB messages 5–30 % faster than one
/// multi-threaded runtime, whose second worker competed with the client (BENCHMARKS.md,
/// "Thread-per-core"). A machine that serves remote clients only wants all its CPUs.
pub fn threads_beside_clients() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl<H: Handler> ServerBuilder<H> {
    /// A server running `handler` under `config`.
    pub fn new(config: ServerConfig, handler: H) -> Self {
        Self {
            config,
            handler,
            plain: Vec::new(),
            implicit: Vec::new(),
            tls: None,
            verifier: None,
            log: Logger::default(),
            transcript: false,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_sessions: DEFAULT_MAX_SESSIONS,
            threads: 0,
        }
    }

    /// A plain listener (STARTTLS offered when TLS is configured). Port 0 lets the OS
    /// choose: see [`Server::listeners`].
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.plain.push(addr);
        self
    }

    /// An implicit-TLS listener (RFC 8314, port 465 style). Needs [`tls`](Self::tls).
    pub fn listen_tls(mut self, addr: SocketAddr) -> Self {
        self.implicit.push(addr);
        self
    }

    /// A listener of either kind: [`listen_tls`](Self::listen_tls) when `implicit_tls`,
    /// else [`listen`](Self::listen) (the pairs [`Server::listeners`] reports).
    pub fn listener(self, addr: SocketAddr, implicit_tls: bool) -> Self {
        match implicit_tls {
            true => self.listen_tls(addr),
            false => self.listen(addr),
        }
    }

    /// The TLS identity for STARTTLS and implicit TLS: with one, plain listeners offer
    /// STARTTLS (the configuration's `starttls` is switched on); without, they do not.
    pub fn tls(mut self, identity: TlsIdentity) -> Self {
        self.tls = Some(identity);
        self
    }

    /// Checks AUTH PLAIN/LOGIN with `verifier` (offering both mechanisms if the
    /// configuration lists none) and MAIL FROM against the user's senders (RFC 6409 6.1).
    /// Whether MAIL needs AUTH is [`ServerConfig::require_auth`]; AUTH is offered only
    /// under TLS unless [`ServerConfig::auth_requires_tls`] is off.
    pub fn credentials(mut self, verifier: impl PasswordVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Where log lines go (default: stderr).
    pub fn logger(mut self, log: Logger) -> Self {
        self.log = log;
        self
    }

    /// Log every dialogue as `C:`/`S:` lines, credentials redacted.
    pub fn transcript(mut self, on: bool) -> Self {
        self.transcript = on;
        self
    }

    /// Sessions served at once; more are answered [`TOO_MANY_SESSIONS`] and closed
    /// (default 4096).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// Thread-per-core: with `n` ≥ 1, [`Server::run`] serves on `n` threads of its own,
    /// each with a single-threaded tokio runtime accepting from every listener, so a
    /// session stays on the thread that accepted it and no work is stolen or handed
    /// between threads. The session cap, the handler and shutdown are shared by all.
    /// With 0 (the default), sessions are tasks on the runtime that calls `run`.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }

    /// Bound on writing one reply buffer (default 60 s).
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.write_timeout = d;
        self
    }

    /// Bound on a TLS handshake (default 30 s).
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = d;
        self
    }

    /// Binds every listener. Fails on a configuration the machine refuses, an implicit
    /// TLS listener without TLS, or an address that cannot be bound.
    pub async fn bind(mut self) -> io::Result<Server<H>> {
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        if self.tls.is_none() && !self.implicit.is_empty() {
            return Err(invalid(
                "an implicit-TLS listener needs a TLS identity".into(),
            ));
        }
        self.config.starttls = self.tls.is_some();
        if self.verifier.is_some() && self.config.auth_mechanisms.is_empty() {
            self.config.auth_mechanisms = vec![Mechanism::PLAIN, Mechanism::LOGIN];
        }
        self.config
            .validate()
            .map_err(|e| invalid(format!("configuration refused: {e}")))?;
        let mut listeners = Vec::new();
        let all = self.plain.iter().map(|a| (*a, false));
        for (addr, implicit) in all.chain(self.implicit.iter().map(|a| (*a, true))) {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
            listeners.push((l, implicit));
        }
        let (stop, _) = watch::channel(false);
        let (open, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            handler: self.handler,
            config: Arc::new(self.config),
            tls: self.tls.map(|t| TlsAcceptor::from(t.config)),
            verifier: self.verifier,
            log: self.log,
            transcript: self.transcript,
            write_timeout: self.write_timeout,
            handshake_timeout: self.handshake_timeout,
            max_sessions: self.max_sessions,
            control: Arc::new(Control { stop, open }),
        });
        Ok(Server {
            listeners,
            shared,
            threads: self.threads,
        })
    }
}

/// A bound server: [`run`](Self::run) it, and stop it with a [`ShutdownHandle`].
pub struct Server<H> {
    listeners: Vec<(TcpListener, bool)>,
    shared: Arc<Shared<H>>,
    threads: usize,
}

impl<H: Handler> Server<H> {
    /// The bound addresses, each with true for implicit TLS, in the order given.
    pub fn listeners(&self) -> Vec<(SocketAddr, bool)> {
        self.listeners
            .iter()
            .filter_map(|(l, tls)| l.local_addr().ok().map(|a| (a, *tls)))
            .collect()
    }

    /// The configuration sessions run under (after the builder's adjustments).
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// A handle that stops the server and waits for its sessions.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            control: self.shared.control.clone(),
        }
    }

    /// Accepts connections, each served on its own task, until shutdown begins; then
    /// returns (sessions go on ending: [`ShutdownHandle::shutdown`] waits for them).
    ///
    /// With [`ServerBuilder::threads`], the sessions run on the server's own threads and
    /// this returns once shutdown has begun and every session on every thread has
    /// closed; it fails at once if a thread or its runtime cannot be started.
    pub async fn run(self) -> io::Result<()> {
        if self.threads > 0 {
            return self.run_threads().await;
        }
        let mut tasks = Vec::new();
        for (listener, implicit) in self.listeners {
            let shared = self.shared.clone();
            tasks.push(tokio::spawn(accept_loop(listener, implicit, shared)));
        }
        for t in tasks {
            t.await.map_err(io::Error::other)?;
        }
        Ok(())
    }
}

impl<H: Handler> Server<H> {
    /// Thread-per-core: every thread gets a duplicate of every listening socket (one
    /// queue of pending connections, whichever thread is free takes the next) and runs
    /// the same accept loop on a runtime of its own.
    async fn run_threads(self) -> io::Result<()> {
        let mut originals = Vec::new();
        for (listener, implicit) in self.listeners {
            originals.push((listener.into_std()?, implicit));
        }
        let mut workers = Vec::new();
        for _ in 0..self.threads {
            let mut sockets = Vec::new();
            for (l, implicit) in &originals {
                sockets.push((l.try_clone()?, *implicit));
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            workers.push((runtime, sockets));
        }
        drop(originals);
        // Each thread holds a sender; the channel closes when the last thread has ended,
        // panicked or not.
        let (done, mut ended) = tokio::sync::mpsc::channel::<()>(1);
        for (i, (runtime, sockets)) in workers.into_iter().enumerate() {
            let shared = self.shared.clone();
            let done = done.clone();
            std::thread::Builder::new()
                .name(format!("smtp-{i}"))
                .spawn(move || {
                    runtime.block_on(serve_thread(sockets, shared));
                    drop(done);
                })?;
        }
        drop(done);
        let _ = ended.recv().await;
        Ok(())
    }
}

/// One thread of [`Server::run_threads`]: its accept loops until shutdown, then its
/// sessions until every session of the server has closed (the runtime ends with the
/// thread, and would cancel a session still running on it).
async fn serve_thread<H: Handler>(
    sockets: Vec<(std::net::TcpListener, bool)>,
    shared: Arc<Shared<H>>,
) {
    let mut loops = Vec::new();
    for (socket, implicit) in sockets {
        match TcpListener::from_std(socket) {
            Ok(l) => loops.push(tokio::spawn(accept_loop(l, implicit, shared.clone()))),
            Err(e) => shared.log.log(format_args!("listener on a thread: {e}")),
        }
    }
    for l in loops {
        let _ = l.await;
    }
    let mut open = shared.control.open.subscribe();
    let _ = open.wait_for(|n| *n == 0).await;
}

/// Stops a [`Server`]: no new connections, and every session answers `421 4.3.2` at its
/// next turn and closes. A message whose body is complete is stored and answered first
/// (a message is either stored and acknowledged, or never acknowledged).
#[derive(Clone)]
pub struct ShutdownHandle {
    control: Arc<Control>,
}

impl ShutdownHandle {
    /// Sessions open now.
    pub fn open_sessions(&self) -> usize {
        *self.control.open.borrow()
    }

    /// Begins the shutdown and waits until every session has closed, at most `grace`.
    /// True when all closed in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.control.stop.send_replace(true);
        let mut open = self.control.open.subscribe();
        let all_closed = open.wait_for(|n| *n == 0);
        matches!(tokio::time::timeout(grace, all_closed).await, Ok(Ok(_)))
    }
}

/// Gives a session's slot back however its task ends.
struct Slot(Arc<Control>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.send_modify(|n| *n = n.saturating_sub(1));
    }
}

async fn accept_loop<H: Handler>(listener: TcpListener, implicit: bool, shared: Arc<Shared<H>>) {
    let mut stop = shared.control.stop.subscribe();
    let local = listener.local_addr();
    loop {
        let (tcp, peer) = tokio::select! {
            // Shutdown first: a connection waiting in the backlog is not served then.
            biased;
            () = session::stopped(&mut stop) => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most likely: back off instead of spinning.
                    shared.log.log(format_args!("accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let max = shared.max_sessions;
        let admitted = shared.control.open.send_if_modified(|n| {
            let room = *n < max;
            if room {
                *n += 1;
            }
            room
        });
        if !admitted {
            refuse(tcp);
            continue;
        }
        let slot = Slot(shared.control.clone());
        let shared = shared.clone();
        let local = local.as_ref().map_or(peer, |a| *a);
        tokio::spawn(async move {
            let conn = Connection {
                peer,
                local,
                implicit_tls: implicit,
            };
            session::serve(&shared, tcp, conn).await;
            drop(slot);
        });
    }
}

/// One try, never waiting on the flooder, then the socket is closed.
fn refuse(tcp: TcpStream) {
    let _ = tcp.try_write(TOO_MANY_SESSIONS);
}
