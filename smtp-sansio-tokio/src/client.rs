//! The client side: the core's `Client` machine driven
//! over tokio and rustls.
//!
//! [`connect`] opens a session (plain, STARTTLS as the configuration's
//! [`StartTlsPolicy`](smtp_sansio::client::StartTlsPolicy) says, or implicit TLS) and
//! returns once it is set up (greeting, EHLO, STARTTLS, AUTH). [`Connection::send`]
//! sends one whole message and returns its [`Outcome`], recipient by recipient; the
//! connection then takes the next one. The streaming calls
//! ([`Connection::mail`], [`Connection::rcpt`], [`Connection::body_chunk`],
//! [`Connection::body_end`]) mirror a transaction as it happens, for a relay. Every
//! timer of the machine is wired; [`Connection::quit`] ends the session politely, and
//! dropping a connection inside a tokio runtime sends `QUIT` from a task of its own.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use smtp_sansio::InvalidValue;
use smtp_sansio::client::{
    Client, ClientConfig, ClientError, CloseReason, Envelope, Event, MessageId, MessageStatus,
    UsageErrorKind,
};
use smtp_sansio::types::{
    Capabilities, ForwardPath, MailParams, Mailbox, RcptParams, Reply, ReversePath,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Bytes asked of the socket per read.
const READ_BUFFER: usize = 16 * 1024;
/// Body octets the machine may hold for the server before [`Connection::body_chunk`]
/// waits for them to go out (a slow server slows the caller, memory stays bounded).
const BACKLOG_LIMIT: usize = 256 * 1024;

/// How the server's certificate is checked.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Verify {
    /// Against the web PKI roots (the `webpki-roots` crate) and the server's name.
    #[default]
    WebPki,
    /// Not at all: any certificate is taken (tests against self-signed servers only).
    /// The session then never carries `REQUIRETLS` (RFC 8689 4.2.1).
    Insecure,
    /// By this verifier (a private CA, a pinned certificate...).
    Verifier(Arc<dyn ServerCertVerifier>),
}

impl fmt::Debug for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verify::WebPki => "WebPki",
            Verify::Insecure => "Insecure",
            Verify::Verifier(_) => "Verifier",
        })
    }
}

/// One direction of the wire, for [`Options::wire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wire {
    /// Bytes written to the server.
    Sent,
    /// Bytes read from the server.
    Received,
}

/// A hook that sees every byte of the dialogue (in clear, before TLS): a transcript.
pub type WireHook = Box<dyn FnMut(Wire, &[u8]) + Send>;

/// How to open a session: the machine's configuration and what the transport adds.
#[non_exhaustive]
pub struct Options {
    /// The machine's configuration: EHLO name, STARTTLS policy, AUTH, LMTP, timers.
    pub config: ClientConfig,
    /// TLS from the first byte (RFC 8314, port 465); default false.
    pub implicit_tls: bool,
    /// How the server's certificate is checked; default [`Verify::WebPki`].
    pub verify: Verify,
    /// The name checked in the certificate and sent with SNI; default the host part of
    /// the address given to [`connect`].
    pub server_name: Option<String>,
    /// EHLO with [`hostname::default_host`](crate::hostname::default_host) of the
    /// connection's local address (the machine's fully qualified name, else that
    /// address literal, RFC 5321 2.3.5, 4.1.4) instead of `config.hello_host`; default
    /// false.
    pub default_hello: bool,
    /// Bound on the TCP connection and each TLS handshake; default 30 s.
    pub connect_timeout: Duration,
    /// Bound on one write to the server; default 60 s.
    pub write_timeout: Duration,
    /// Bound on waiting for the `221` to QUIT; default 5 s.
    pub quit_timeout: Duration,
    /// Sees every byte sent and received; default none.
    pub wire: Option<WireHook>,
    /// Judges the server's greeting: `true` ends the session at once with
    /// [`Error::Greeting`] (a relay that finds its own token there has met itself, RFC
    /// 5321 6.3); default none.
    pub refuse_greeting: Option<GreetingCheck>,
}

/// A judge of greetings, for [`Options::refuse_greeting`].
pub type GreetingCheck = Box<dyn Fn(&Reply) -> bool + Send + Sync>;

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("config", &self.config)
            .field("implicit_tls", &self.implicit_tls)
            .field("verify", &self.verify)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// The transport's defaults around `config`.
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            implicit_tls: false,
            verify: Verify::WebPki,
            server_name: None,
            default_hello: false,
            connect_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(60),
            quit_timeout: Duration::from_secs(5),
            wire: None,
            refuse_greeting: None,
        }
    }

    /// With implicit TLS.
    pub fn implicit_tls(mut self, yes: bool) -> Self {
        self.implicit_tls = yes;
        self
    }

    /// With this certificate check.
    pub fn verify(mut self, verify: Verify) -> Self {
        self.verify = verify;
        self
    }

    /// With [`Options::default_hello`].
    pub fn default_hello(mut self, yes: bool) -> Self {
        self.default_hello = yes;
        self
    }

    /// With a hook that sees the dialogue.
    pub fn wire(mut self, hook: impl FnMut(Wire, &[u8]) + Send + 'static) -> Self {
        self.wire = Some(Box::new(hook));
        self
    }
}

/// Why a session could not be opened or went away.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, reading or writing failed.
    Io(io::Error),
    /// The TLS handshake failed or timed out.
    Tls(io::Error),
    /// No TLS server name can be made of the address.
    ServerName(String),
    /// The machine failed the session (refused greeting, STARTTLS required but not
    /// offered, AUTH refused, a timer ran out...).
    Session(ClientError),
    /// The session ended without an error of its own (a `421`, say).
    Closed(CloseReason),
    /// A call the machine refused (a transaction already open, an unknown one...).
    Usage(UsageErrorKind),
    /// [`Options::refuse_greeting`] refused this greeting.
    Greeting(Reply),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Tls(e) => write!(f, "TLS handshake: {e}"),
            Error::ServerName(n) => write!(f, "no TLS server name in {n}"),
            Error::Session(e) => write!(f, "{e}"),
            Error::Closed(r) => write!(f, "session closed ({r:?})"),
            Error::Usage(k) => write!(f, "{k}"),
            Error::Greeting(r) => write!(f, "greeting refused: {r}"),
        }
    }
}

impl std::error::Error for Error {}

/// The reply to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecipientReply {
    /// The recipient as given.
    pub recipient: ForwardPath<'static>,
    /// The server's reply; 2yz means accepted.
    pub reply: Reply,
}

/// What became of a message, in one word: whether every recipient has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The message and every recipient were accepted.
    Complete,
    /// The message was accepted for some recipients and refused for others (at RCPT, or
    /// with LMTP after the data): the refused ones must be retried or bounced.
    Partial,
    /// No recipient has it.
    Failed,
}

/// The outcome of one message ([`Connection::send`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// The machine's verdict on the message.
    pub status: MessageStatus,
    /// The reply that decided it, when one did.
    pub reply: Option<Reply>,
    /// The reply to each RCPT, in order.
    pub recipients: Vec<RecipientReply>,
    /// LMTP only: the delivery reply for each accepted recipient (RFC 2033 4.2).
    pub deliveries: Vec<RecipientReply>,
    /// The session failed while the message was on its way (then `status` is
    /// [`MessageStatus::Aborted`] or the message was decided before).
    pub error: Option<ClientError>,
}

impl Outcome {
    /// Whether every recipient has the message, some, or none.
    pub fn delivery(&self) -> Delivery {
        let accepted = matches!(
            self.status,
            MessageStatus::Accepted | MessageStatus::PartiallyAccepted
        );
        if !accepted {
            return Delivery::Failed;
        }
        let refused_rcpt = self
            .recipients
            .iter()
            .any(|r| !r.reply.code().is_positive());
        let refused_lmtp = self
            .deliveries
            .iter()
            .any(|r| !r.reply.code().is_positive());
        if refused_rcpt || refused_lmtp || self.status == MessageStatus::PartiallyAccepted {
            Delivery::Partial
        } else {
            Delivery::Complete
        }
    }

    /// A message that never got to its verdict, for `error` (if the machine gave one).
    fn aborted(error: Option<ClientError>) -> Self {
        Outcome {
            status: MessageStatus::Aborted,
            reply: None,
            recipients: Vec::new(),
            deliveries: Vec::new(),
            error,
        }
    }

    /// The recipients that were refused (at RCPT or, with LMTP, at delivery).
    pub fn refused(&self) -> impl Iterator<Item = &RecipientReply> {
        self.recipients
            .iter()
            .chain(&self.deliveries)
            .filter(|r| !r.reply.code().is_positive())
    }
}

/// The end of a streamed transaction's step: the server's reply, or the transaction
/// ended (refused, not sent, or lost) with this status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// The server's reply to MAIL or RCPT (2yz: accepted).
    Reply(Reply),
    /// The transaction is over: its status and the deciding reply, if any.
    Ended {
        /// What became of the message.
        status: MessageStatus,
        /// The reply that decided it.
        reply: Option<Reply>,
    },
}

/// One line per RCPT reply (`<rcpt>: 250 ...`), per LMTP delivery reply (`<rcpt>:
/// delivery: 250 ...`), then the message's status and deciding reply (`message:
/// Accepted: 250 ...`), each line ending in `\n`: a command line's report.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.recipients {
            writeln!(f, "{}: {}", r.recipient, r.reply)?;
        }
        for r in &self.deliveries {
            writeln!(f, "{}: delivery: {}", r.recipient, r.reply)?;
        }
        match &self.reply {
            Some(r) => writeln!(f, "message: {:?}: {r}", self.status),
            None => writeln!(f, "message: {:?}", self.status),
        }
    }
}

/// An envelope from text: `from` is a mailbox, or `<>` (or empty) for the null reverse
/// path (bounces, RFC 5321 4.5.5); each of `to` a mailbox.
pub fn envelope(from: &str, to: &[impl AsRef<str>]) -> Result<Envelope, InvalidValue> {
    let from = match from {
        "" | "<>" => ReversePath::Null,
        m => ReversePath::Mailbox(Mailbox::parse(m)?.into_owned()),
    };
    let mut envelope = Envelope::new(from);
    for t in to {
        envelope = envelope.to(ForwardPath::Mailbox(
            Mailbox::parse(t.as_ref())?.into_owned(),
        ));
    }
    Ok(envelope)
}

/// The whole of a one-shot client: [`connect`]s to `addr`, sends one message and says
/// QUIT. A session that ends before the message could be sent (the machine gave up, on
/// a STARTTLS or AUTH it required, say; or the server closed) is an [`Outcome`] with
/// [`MessageStatus::Aborted`] and the machine's error, if any; `Err` is left for
/// failures to connect at all (I/O, TLS, no server name).
pub async fn send(
    addr: &str,
    options: Options,
    envelope: Envelope,
    body: Bytes,
) -> Result<Outcome, Error> {
    let mut conn = match connect(addr, options).await {
        Ok(conn) => conn,
        Err(Error::Session(e)) => return Ok(Outcome::aborted(Some(e))),
        Err(Error::Closed(_)) => return Ok(Outcome::aborted(None)),
        Err(e) => return Err(e),
    };
    let outcome = conn.send(envelope, body).await?;
    conn.quit().await;
    Ok(outcome)
}

/// The host part of `addr` (`host:port`, `[v6]:port`), as [`connect`] checks it in the
/// server's certificate and sends it with SNI; `None` when it is neither a DNS name nor
/// an IP address, so no certificate can be checked for it.
pub fn server_name(addr: &str) -> Option<String> {
    let host = host_of(addr);
    ServerName::try_from(host).is_ok().then(|| host.to_owned())
}

fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Opens a session with `addr` (`host:port`) and sets it up. Fails when the server
/// cannot be reached, TLS fails, or the machine gives up (see [`Error`]).
pub async fn connect(addr: &str, mut options: Options) -> Result<Connection, Error> {
    if options.server_name.is_none() {
        options.server_name = Some(host_of(addr).into());
    }
    let tcp = match tokio::time::timeout(options.connect_timeout, TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Err(Error::Io(io::Error::new(e.kind(), format!("{addr}: {e}")))),
        Err(_) => {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{addr}: connection timed out"),
            )));
        }
    };
    Connection::start(tcp, options).await
}

/// The connection, before and after TLS.
enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Gone,
}

/// An open SMTP session; see the [module](self).
pub struct Connection {
    client: Client,
    io: Io,
    connector: Option<TlsConnector>,
    server_name: Option<ServerName<'static>>,
    verified: bool,
    tls: bool,
    connect_timeout: Duration,
    write_timeout: Duration,
    quit_timeout: Duration,
    wire: Option<WireHook>,
    events: VecDeque<Event>,
    error: Option<ClientError>,
    closed: Option<CloseReason>,
    buf: Vec<u8>,
    /// When the streamed transaction's final reply stops being waited for.
    cap: Option<Instant>,
    /// Why the TLS handshake failed, if it did.
    tls_failure: Option<io::Error>,
    /// Drop says QUIT from a task (false for that task's own copy, which a runtime
    /// shutting down may drop in turn).
    quit_on_drop: bool,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("tls", &self.tls)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Runs a session over a TCP connection made by the caller (to pick the EHLO name
    /// from its local address, say); [`connect`] does both.
    pub async fn start(tcp: TcpStream, options: Options) -> Result<Self, Error> {
        let _ = tcp.set_nodelay(true);
        let (connector, verified) = match options.verify {
            Verify::WebPki => (tls_config(None)?, true),
            Verify::Insecure => {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                (
                    tls_config(Some(Arc::new(AcceptAnyCertificate(provider))))?,
                    false,
                )
            }
            Verify::Verifier(v) => (tls_config(Some(v))?, true),
        };
        let name = options.server_name.clone().unwrap_or_else(|| {
            tcp.peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default()
        });
        let server_name = ServerName::try_from(name.clone()).ok();
        let mut config = options.config;
        if let Some(local) = tcp.local_addr().ok().filter(|_| options.default_hello) {
            config.hello_host = crate::hostname::default_host(local.ip());
        }
        let mut conn = Self {
            client: Client::new(config, Instant::now()),
            io: Io::Plain(tcp),
            connector: Some(connector),
            server_name,
            verified,
            tls: false,
            connect_timeout: options.connect_timeout,
            write_timeout: options.write_timeout,
            quit_timeout: options.quit_timeout,
            wire: options.wire,
            events: VecDeque::new(),
            error: None,
            closed: None,
            buf: vec![0; READ_BUFFER],
            cap: None,
            tls_failure: None,
            quit_on_drop: true,
        };
        if options.implicit_tls {
            if conn.server_name.is_none() {
                return Err(Error::ServerName(name));
            }
            conn.handshake().await;
            if !conn.tls {
                return Err(conn.failure());
            }
            // RFC 8314: the machine counts the session as TLS from the start.
            let _ = if conn.verified {
                conn.client.tls_established_verified(Instant::now())
            } else {
                conn.client.tls_established(Instant::now())
            };
        }
        loop {
            match conn.next_event().await {
                Some(Event::Ready) => return Ok(conn),
                Some(Event::Greeting(r))
                    if options.refuse_greeting.as_ref().is_some_and(|f| f(&r)) =>
                {
                    conn.io = Io::Gone;
                    conn.client.handle_eof(Instant::now());
                    return Err(Error::Greeting(r));
                }
                Some(_) => {}
                None => return Err(conn.failure()),
            }
        }
    }

    /// The session's error, or why it closed.
    fn failure(&mut self) -> Error {
        if let Some(e) = self.tls_failure.take() {
            return Error::Tls(e);
        }
        if let Some(e) = self.error.take() {
            return Error::Session(e);
        }
        Error::Closed(self.closed.clone().unwrap_or(CloseReason::Error))
    }

    /// The server's extensions (from the last EHLO).
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.client.capabilities()
    }

    /// True when the session runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True when the session runs over TLS whose certificate was checked.
    pub fn is_verified_tls(&self) -> bool {
        self.tls && self.verified
    }

    /// The error that failed the session, if one did.
    pub fn error(&self) -> Option<&ClientError> {
        self.error.as_ref()
    }

    /// Why the session closed, once it has.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }

    /// True once the session is over.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some() || self.client.is_closed()
    }

    /// The machine, for what this type does not cover (`pending_output`, SASL steps).
    pub fn machine(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The next event of the machine, moving bytes and running timers until there is
    /// one; `None` once the session is over. `StartTls` never comes out: the handshake
    /// is done here.
    pub async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Some(e);
            }
            if self.closed.is_some() {
                return None;
            }
            self.turn().await;
        }
    }

    /// One round: take the machine's events, write its output, upgrade when asked,
    /// else wait for input or the next deadline.
    async fn turn(&mut self) {
        let mut upgrade = false;
        while let Some(e) = self.client.poll_event() {
            match e {
                Event::StartTls => upgrade = true,
                Event::Error(err) => {
                    self.error.get_or_insert(err.clone());
                    self.events.push_back(Event::Error(err));
                }
                Event::Closed { reason } => {
                    self.closed = Some(reason.clone());
                    self.events.push_back(Event::Closed { reason });
                }
                e => self.events.push_back(e),
            }
        }
        self.flush().await;
        if self.closed.is_some() {
            self.shutdown().await;
            return;
        }
        if upgrade {
            // RFC 3207 4.2: the handshake starts right after the 220; nothing read before
            // it is kept (the machine refuses such bytes as an injection).
            self.handshake().await;
            if self.tls {
                let now = Instant::now();
                let _ = if self.verified {
                    self.client.tls_established_verified(now)
                } else {
                    self.client.tls_established(now)
                };
            }
            return;
        }
        if !self.events.is_empty() {
            return;
        }
        let now = Instant::now();
        let deadline = match (self.client.poll_timeout(), self.cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if deadline.is_some_and(|d| d <= now) {
            self.timeout(now);
            return;
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        let read = async {
            match &mut self.io {
                Io::Plain(s) => s.read(&mut self.buf).await,
                Io::Tls(s) => s.read(&mut self.buf).await,
                Io::Gone => Ok(0),
            }
        };
        tokio::select! {
            r = read => match r {
                Ok(0) | Err(_) => {
                    self.io = Io::Gone;
                    self.client.handle_eof(Instant::now());
                }
                Ok(n) => {
                    let bytes = self.buf.get(..n).unwrap_or_default();
                    if let Some(w) = self.wire.as_mut() {
                        w(Wire::Received, bytes);
                    }
                    self.client.handle_input(Instant::now(), bytes);
                }
            },
            () = sleep => self.timeout(Instant::now()),
        }
    }

    fn timeout(&mut self, now: Instant) {
        if self.cap.is_some_and(|c| c <= now) {
            // The caller's cap on a final reply: the server is dropped (a reply after
            // this would be a message delivered without anyone told).
            self.cap = None;
            self.io = Io::Gone;
            self.client.handle_eof(now);
        } else {
            self.client.handle_timeout(now);
        }
    }

    /// Writes what the machine transmits, each buffer fully; a failed or stuck write is
    /// a lost connection.
    async fn flush(&mut self) {
        let limit = self.write_timeout;
        let mut wrote = false;
        while let Some(bytes) = self.client.poll_transmit() {
            if let Some(w) = self.wire.as_mut() {
                w(Wire::Sent, &bytes);
            }
            let written = match &mut self.io {
                Io::Plain(s) => tokio::time::timeout(limit, s.write_all(&bytes)).await,
                Io::Tls(s) => tokio::time::timeout(limit, s.write_all(&bytes)).await,
                Io::Gone => Ok(Err(io::ErrorKind::NotConnected.into())),
            };
            if !matches!(written, Ok(Ok(()))) {
                self.io = Io::Gone;
                self.client.handle_eof(Instant::now());
                while self.client.poll_transmit().is_some() {}
                return;
            }
            wrote = true;
        }
        if wrote {
            let _ = match &mut self.io {
                Io::Plain(s) => tokio::time::timeout(limit, s.flush()).await,
                Io::Tls(s) => tokio::time::timeout(limit, s.flush()).await,
                Io::Gone => Ok(Ok(())),
            };
        }
    }

    async fn shutdown(&mut self) {
        let limit = self.write_timeout;
        let _ = match &mut self.io {
            Io::Plain(s) => tokio::time::timeout(limit, s.shutdown()).await,
            Io::Tls(s) => tokio::time::timeout(limit, s.shutdown()).await,
            Io::Gone => Ok(Ok(())),
        };
        self.io = Io::Gone;
    }

    /// The TLS handshake on the plain connection; a failure is a lost connection.
    async fn handshake(&mut self) {
        let io = std::mem::replace(&mut self.io, Io::Gone);
        let failure = match (io, self.connector.as_ref(), self.server_name.clone()) {
            (Io::Plain(tcp), Some(connector), Some(name)) => {
                let shake = connector.connect(name, tcp);
                match tokio::time::timeout(self.connect_timeout, shake).await {
                    Ok(Ok(tls)) => {
                        self.io = Io::Tls(Box::new(tls));
                        self.tls = true;
                        return;
                    }
                    Ok(Err(e)) => e,
                    Err(_) => io::Error::new(io::ErrorKind::TimedOut, "timed out"),
                }
            }
            (_, _, None) => io::Error::other("no TLS server name"),
            _ => io::Error::other("STARTTLS inside TLS"),
        };
        self.tls_failure = Some(failure);
        self.client.handle_eof(Instant::now());
    }

    /// Sends one whole message (header and content; line ends are normalised and
    /// dot-stuffing applied on the way) and waits for its outcome. The connection takes
    /// the next message afterwards, unless the outcome says the session failed.
    pub async fn send(&mut self, envelope: Envelope, body: Bytes) -> Result<Outcome, Error> {
        let id = self
            .client
            .send_message(Instant::now(), envelope, body)
            .map_err(|e| Error::Usage(e.kind))?;
        let mut outcome = Outcome::aborted(None);
        while let Some(event) = self.next_event().await {
            match event {
                Event::RecipientResult {
                    message,
                    recipient,
                    reply,
                } if message == id => outcome.recipients.push(RecipientReply { recipient, reply }),
                Event::DeliveryResult {
                    message,
                    recipient,
                    reply,
                } if message == id => outcome.deliveries.push(RecipientReply { recipient, reply }),
                Event::MessageResult {
                    message,
                    status,
                    reply,
                } if message == id => {
                    outcome.status = status;
                    outcome.reply = reply;
                    // An error that ended the session comes before its Closed.
                    outcome.error = self.error.clone();
                    return Ok(outcome);
                }
                _ => {}
            }
        }
        outcome.error = self.error.clone();
        Ok(outcome)
    }

    /// Opens a streamed transaction: sends MAIL and waits for its reply. On a 2yz the
    /// transaction is open ([`Connection::rcpt`] next); any other answer ends it.
    pub async fn mail(
        &mut self,
        from: ReversePath<'static>,
        params: MailParams<'static>,
    ) -> Result<(MessageId, Step), Error> {
        let id = self
            .client
            .start_transaction(Instant::now(), from, params)
            .map_err(|e| Error::Usage(e.kind))?;
        let step = self
            .wait(id, |e| match e {
                Event::MailResult { reply, .. } => Some(Step::Reply(reply.clone())),
                _ => None,
            })
            .await?;
        Ok((id, step))
    }

    /// Adds a recipient to the transaction `txn` and waits for the server's verdict.
    pub async fn rcpt(
        &mut self,
        txn: MessageId,
        to: ForwardPath<'static>,
        params: RcptParams<'static>,
    ) -> Result<Step, Error> {
        self.client
            .add_recipient(Instant::now(), txn, to, params)
            .map_err(|e| Error::Usage(e.kind))?;
        self.wait(txn, |e| match e {
            Event::RecipientResult { reply, .. } => Some(Step::Reply(reply.clone())),
            _ => None,
        })
        .await
    }

    /// Appends body bytes to the transaction `txn` (the first call sends DATA). Waits
    /// while the server is behind, so the caller's memory stays bounded. `Some` when the
    /// transaction ended meanwhile (refused DATA, a lost connection): stop sending.
    pub async fn body_chunk(
        &mut self,
        txn: MessageId,
        chunk: &[u8],
    ) -> Result<Option<Step>, Error> {
        self.client
            .body_chunk(Instant::now(), txn, chunk)
            .map_err(|e| Error::Usage(e.kind))?;
        loop {
            if let Some(step) = self.ended(txn) {
                return Ok(Some(step));
            }
            if self.client.pending_output() < BACKLOG_LIMIT || self.closed.is_some() {
                self.turn_quick().await;
                return Ok(self.ended(txn));
            }
            self.turn().await;
        }
    }

    /// Ends the body of `txn` and waits for the final reply, at most `cap` when given
    /// (after which the connection is dropped and the status is
    /// [`MessageStatus::Aborted`]: RFC 6409 5.3 lets a relay give up on a slow next hop).
    pub async fn body_end(&mut self, txn: MessageId, cap: Option<Duration>) -> Result<Step, Error> {
        self.client
            .body_end(Instant::now(), txn)
            .map_err(|e| Error::Usage(e.kind))?;
        self.cap = cap.map(|c| Instant::now() + c);
        let step = self.wait(txn, |_| None).await;
        self.cap = None;
        step
    }

    /// Gives up the transaction `txn` (RSET; inside a DATA body the connection is
    /// closed, the only way to cancel it, RFC 5321 4.1.1.4).
    pub fn abort(&mut self, txn: MessageId) {
        let _ = self.client.abort_transaction(Instant::now(), txn);
    }

    /// Writes what is pending without waiting for the server.
    async fn turn_quick(&mut self) {
        self.flush().await;
    }

    /// A `MessageResult` for `txn` already queued, as a step.
    fn ended(&mut self, txn: MessageId) -> Option<Step> {
        let at = self
            .events
            .iter()
            .position(|e| matches!(e, Event::MessageResult { message, .. } if *message == txn))?;
        match self.events.remove(at) {
            Some(Event::MessageResult { status, reply, .. }) => Some(Step::Ended { status, reply }),
            _ => None,
        }
    }

    /// Waits for the event of `txn` that `pick` takes, or its end.
    async fn wait(
        &mut self,
        txn: MessageId,
        pick: impl Fn(&Event) -> Option<Step>,
    ) -> Result<Step, Error> {
        loop {
            let Some(event) = self.next_event().await else {
                return Ok(Step::Ended {
                    status: MessageStatus::Aborted,
                    reply: None,
                });
            };
            match &event {
                Event::MessageResult {
                    message,
                    status,
                    reply,
                } if *message == txn => {
                    return Ok(Step::Ended {
                        status: status.clone(),
                        reply: reply.clone(),
                    });
                }
                Event::MailResult { message, .. } | Event::RecipientResult { message, .. }
                    if *message == txn =>
                {
                    if let Some(step) = pick(&event) {
                        return Ok(step);
                    }
                }
                _ => {}
            }
        }
    }

    /// Ends the session: QUIT, a wait for the `221` (at most the quit timeout), and the
    /// connection closed.
    pub async fn quit(mut self) {
        self.quit_now().await;
    }

    async fn quit_now(&mut self) {
        self.client.quit(Instant::now());
        let limit = self.quit_timeout;
        let _ =
            tokio::time::timeout(limit, async { while self.next_event().await.is_some() {} }).await;
        self.flush().await;
        self.shutdown().await;
    }
}

impl Drop for Connection {
    /// Inside a tokio runtime, a session still open says QUIT from a task of its own
    /// (a destructor cannot wait); outside one the connection is just closed.
    fn drop(&mut self) {
        if !self.quit_on_drop || matches!(self.io, Io::Gone) || self.client.is_closed() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut rest = Connection {
            client: std::mem::replace(
                &mut self.client,
                Client::new(ClientConfig::default(), Instant::now()),
            ),
            io: std::mem::replace(&mut self.io, Io::Gone),
            connector: None,
            server_name: None,
            verified: self.verified,
            tls: self.tls,
            connect_timeout: self.connect_timeout,
            write_timeout: self.write_timeout,
            quit_timeout: self.quit_timeout,
            wire: self.wire.take(),
            events: VecDeque::new(),
            error: None,
            closed: None,
            buf: std::mem::take(&mut self.buf),
            cap: None,
            tls_failure: None,
            quit_on_drop: false,
        };
        runtime.spawn(async move { rest.quit_now().await });
    }
}

/// The rustls client configuration: the web PKI roots, or `verifier`.
fn tls_config(verifier: Option<Arc<dyn ServerCertVerifier>>) -> Result<TlsConnector, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(io::Error::other(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    if let Some(v) = verifier {
        config.dangerous().set_certificate_verifier(v);
    }
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Accepts any certificate: [`Verify::Insecure`], for tests only.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_report_lists_each_recipient_then_the_message() {
        let to = |s: &str| ForwardPath::Mailbox(Mailbox::parse(s).unwrap().into_owned());
        let reply = |s: &str| s.parse::<Reply>().unwrap();
        let mut o = Outcome::aborted(None);
        assert_eq!(o.to_string(), "message: Aborted\n");
        o.status = MessageStatus::Accepted;
        o.reply = Some(reply("250 2.0.0 OK"));
        o.recipients.push(RecipientReply {
            recipient: to("a@b.example"),
            reply: reply("250 2.1.5 OK"),
        });
        o.deliveries.push(RecipientReply {
            recipient: to("a@b.example"),
            reply: reply("452 4.2.2 Full"),
        });
        assert_eq!(
            o.to_string(),
            "<a@b.example>: 250 2.1.5 OK\n<a@b.example>: delivery: 452 4.2.2 Full\n\
             message: Accepted: 250 2.0.0 OK\n"
        );
        assert_eq!(o.delivery(), Delivery::Partial);
    }

    #[test]
    fn server_name_is_the_host_part_of_the_address() {
        assert_eq!(
            server_name("mx.example.org:587").as_deref(),
            Some("mx.example.org")
        );
        assert_eq!(server_name("[::1]:25").as_deref(), Some("::1"));
        assert_eq!(server_name("192.0.2.1:25").as_deref(), Some("192.0.2.1"));
        assert_eq!(server_name("bad name:25"), None);
        assert_eq!(server_name(":25"), None);
    }
}
