//! Relay mode for the tokio server (`--relay HOST:PORT`): every incoming transaction is
//! mirrored to the next hop as it happens, with the crate's client machine and its
//! streaming API (`Client::start_transaction` and friends).
//!
//! * MAIL opens the upstream connection (lazily, once per incoming session; reused for
//!   the session's next transactions, QUIT at the end) and the upstream transaction; the
//!   downstream MAIL ticket waits for the upstream's reply and gets it.
//! * Each RCPT is forwarded and answered with the upstream's verdict (code, enhanced
//!   code, text).
//! * Body chunks stream upstream as they arrive; no message is ever held whole. While the
//!   upstream is slower than the client, the session stops reading the client.
//! * The final reply to the message is the upstream's final reply. With `--maildir`, a
//!   copy is kept, committed only when the upstream accepted the message.
//! * Upstream unreachable, timing out, or failing TLS or AUTH: `451 4.4.1` (or the
//!   upstream's own 4yz) to the client; the session goes on.
//!
//! Capabilities are reconciled at MAIL, never silently dropped: the client machine
//! refuses parameters the upstream does not offer, and this maps each refusal to the
//! reply RFC 6531, RFC 6152, RFC 1870, RFC 3461 and RFC 8689 give:
//!
//! | downstream asks for            | upstream lacks       | reply                  |
//! |--------------------------------|----------------------|------------------------|
//! | `SMTPUTF8` / non-ASCII address | SMTPUTF8             | `553 5.6.7` at MAIL    |
//! | `BODY=8BITMIME`                | 8BITMIME             | `554 5.6.3` at MAIL    |
//! | `BODY=BINARYMIME`              | CHUNKING/BINARYMIME  | `554 5.6.3` at MAIL    |
//! | `SIZE=n` over the upstream's   | a larger SIZE        | `552 5.3.4` at MAIL    |
//! | `RET=` / `ENVID=`              | DSN                  | `555 5.5.4` at MAIL    |
//! | `NOTIFY=` / `ORCPT=`           | DSN                  | `555 5.5.4` at RCPT    |
//! | `REQUIRETLS`                   | REQUIRETLS under TLS | `550 5.7.30` at MAIL   |
//!
//! DSN parameters are refused rather than dropped: dropping NOTIFY would lose a
//! notification the sender asked for, and RFC 3461 4 leaves a relay without DSN
//! downstream no faithful way to honour it. `AUTH=` is not passed on: this relay does
//! not vouch for identities to the next hop (RFC 4954 5).

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use smtp_sansio::client::{
    AuthConfig, Client, ClientConfig, ClientError, ClientEvent, CloseReason, MessageError,
    MessageId, MessageStatus, StartTlsPolicy,
};
use smtp_sansio::server::{Event, Server, Ticket};
use smtp_sansio::types::{Domain, EnhancedStatus, Host, Reply, ReplyCode, Text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::maildir::{Delivery, Maildir};
use crate::options::RelayOptions;

/// Connecting and the TLS handshake with the upstream must finish within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A write to the upstream that does not finish within this counts as a lost upstream.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the `221` to QUIT is awaited at the end of a session.
const QUIT_WAIT: Duration = Duration::from_secs(5);
/// Body octets buffered for the upstream before the client is no longer read.
const BACKLOG_LIMIT: usize = 1024 * 1024;

/// What every relaying session shares.
pub struct Relay {
    opts: RelayOptions,
    connector: TlsConnector,
    hello: Host<'static>,
}

impl Relay {
    /// Builds the TLS client configuration: web PKI roots, or any certificate with
    /// `--relay-insecure` (tests against self-signed upstreams).
    pub fn new(opts: RelayOptions, hostname: &str) -> Result<Self, String> {
        let config = crate::tls_client::client_config(opts.insecure)
            .map_err(|e| format!("relay TLS configuration: {e}"))?;
        let hello = Domain::new(hostname.to_owned())
            .map(|d| Host::Domain(d.into_owned()))
            .map_err(|e| format!("--hostname {hostname} cannot be sent in EHLO: {e}"))?;
        Ok(Self {
            opts,
            connector: TlsConnector::from(Arc::new(config)),
            hello,
        })
    }

    /// The upstream as the start-up log names it.
    pub fn describe(&self) -> String {
        let tls = match self.opts.starttls {
            StartTlsPolicy::Required => "STARTTLS required",
            _ => "STARTTLS opportunistic",
        };
        let auth = match &self.opts.user {
            Some((u, _)) => format!(", AUTH as {u}"),
            None => String::new(),
        };
        let check = if self.opts.insecure {
            ", certificate NOT verified"
        } else {
            ""
        };
        format!("relaying to {} ({tls}{auth}{check})", self.opts.addr)
    }

    fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new(self.hello.clone());
        c.starttls = self.opts.starttls;
        if let Some((user, password)) = &self.opts.user {
            c.auth = Some(AuthConfig::password(user.clone(), password.clone()));
        }
        if let Some(t) = self.opts.timeout {
            let ts = &mut c.timeouts;
            for d in [
                &mut ts.greeting,
                &mut ts.mail,
                &mut ts.rcpt,
                &mut ts.data_init,
                &mut ts.data_block,
                &mut ts.data_term,
                &mut ts.other,
            ] {
                *d = (*d).min(t);
            }
        }
        c
    }

    fn server_name(&self) -> Option<ServerName<'static>> {
        let host = match self.opts.addr.rsplit_once(':') {
            Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
            None => self.opts.addr.as_str(),
        };
        ServerName::try_from(host.to_owned()).ok()
    }
}

/// The connection to the upstream, before and after STARTTLS.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Lost or closed; the machine is told and the upstream dropped at the next turn.
    Gone,
}

struct Upstream {
    client: Client,
    io: Io,
}

/// A downstream decision waiting for the upstream's answer.
enum Pending {
    Mail(Ticket),
    Rcpt(Ticket),
    End(Ticket),
}

/// The transaction being mirrored.
struct Txn {
    id: MessageId,
    /// The upstream ended the transaction early (refused DATA, lost connection): the
    /// reply every later downstream decision of this transaction gets.
    failed: Option<Reply>,
    copy: Option<Delivery>,
}

/// One incoming session's relay state.
pub struct RelaySession {
    relay: Arc<Relay>,
    peer: String,
    maildir: Option<Maildir>,
    up: Option<Upstream>,
    txn: Option<Txn>,
    pending: Option<Pending>,
    /// Why the upstream went away, for the reply to the decision it leaves open.
    lost: Option<Reply>,
    relayed: u64,
}

impl RelaySession {
    pub fn new(relay: Arc<Relay>, peer: &str, maildir: Option<Maildir>) -> Self {
        Self {
            relay,
            peer: peer.to_owned(),
            maildir,
            up: None,
            txn: None,
            pending: None,
            lost: None,
            relayed: 0,
        }
    }

    /// False while the upstream has a backlog: stop reading the client.
    pub fn wants_downstream(&self) -> bool {
        self.up
            .as_ref()
            .is_none_or(|u| u.client.pending_output() < BACKLOG_LIMIT)
    }

    /// When the upstream machine's timer runs out.
    pub fn deadline(&self) -> Option<Instant> {
        self.up.as_ref().and_then(|u| u.client.poll_timeout())
    }

    /// Reads from the upstream; never completes when there is none.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.up.as_mut().map(|u| &mut u.io) {
            Some(Io::Plain(s)) => s.read(buf).await,
            Some(Io::Tls(s)) => s.read(buf).await,
            _ => std::future::pending().await,
        }
    }

    /// Feeds what [`RelaySession::read`] returned into `buf`.
    pub fn on_read(&mut self, read: io::Result<usize>, buf: &[u8]) {
        let Some(up) = self.up.as_mut() else { return };
        let now = Instant::now();
        match read {
            Ok(0) | Err(_) => {
                up.io = Io::Gone;
                up.client.handle_eof(now);
            }
            Ok(n) => up
                .client
                .handle_input(now, buf.get(..n).unwrap_or_default()),
        }
    }

    /// The upstream machine's deadline passed.
    pub fn on_timeout(&mut self) {
        if let Some(up) = self.up.as_mut() {
            up.client.handle_timeout(Instant::now());
        }
    }

    /// Handles the relay's share of the downstream events; returns the others.
    pub async fn on_event(&mut self, server: &mut Server, event: Event) -> Option<Event> {
        let now = Instant::now();
        match event {
            Event::Mail(m) => {
                if let Some(old) = self.txn.take() {
                    // The client reset (RSET) or abandoned the previous transaction.
                    if let Some(up) = self.up.as_mut() {
                        let _ = up.client.abort_transaction(old.id, now);
                    }
                }
                if !self.connect().await {
                    let r = self.lost.clone().unwrap_or_else(unavailable);
                    return self.answer(server, m.ticket, r);
                }
                let mut params = m.params;
                params.auth = None;
                let Some(up) = self.up.as_mut() else {
                    return self.answer(server, m.ticket, unavailable());
                };
                match up.client.start_transaction(m.from, params, now) {
                    Ok(id) => {
                        self.txn = Some(Txn {
                            id,
                            failed: None,
                            copy: None,
                        });
                        self.pending = Some(Pending::Mail(m.ticket));
                    }
                    Err(e) => {
                        eprintln!("{}: relay: cannot start the transaction: {e}", self.peer);
                        return self.answer(server, m.ticket, unavailable());
                    }
                }
            }
            Event::Rcpt(r) => {
                let (Some(txn), Some(up)) = (self.txn.as_ref(), self.up.as_mut()) else {
                    return self.answer(server, r.ticket, unavailable());
                };
                if let Some(failed) = txn.failed.clone() {
                    return self.answer(server, r.ticket, failed);
                }
                let dsn = r.params.notify.is_some() || r.params.orcpt.is_some();
                let upstream_dsn = up.client.capabilities().is_some_and(|c| c.dsn());
                if dsn && !upstream_dsn {
                    let no = fixed("555 5.5.4 DSN parameters are not supported by the next hop");
                    return self.answer(server, r.ticket, no);
                }
                match up.client.add_recipient(txn.id, r.to, r.params, now) {
                    Ok(()) => self.pending = Some(Pending::Rcpt(r.ticket)),
                    Err(_) => return self.answer(server, r.ticket, unavailable()),
                }
            }
            Event::MessageStart(_) => {
                if let (Some(txn), Some(m)) = (self.txn.as_mut(), self.maildir.as_ref()) {
                    match m.create() {
                        Ok(d) => txn.copy = Some(d),
                        Err(e) => eprintln!("{}: relay: no copy kept: {e}", self.peer),
                    }
                }
            }
            Event::MessageChunk(chunk) => {
                let txn = self.txn.as_mut()?;
                if let Some(d) = txn.copy.as_mut() {
                    if let Err(e) = d.write(&chunk) {
                        eprintln!("{}: relay: copy dropped: {e}", self.peer);
                        txn.copy = None;
                    }
                }
                if txn.failed.is_none() {
                    if let Some(up) = self.up.as_mut() {
                        let _ = up.client.body_chunk(txn.id, &chunk, now);
                    }
                }
            }
            Event::MessageEnd(end) => {
                let Some(txn) = self.txn.as_ref() else {
                    return self.answer(server, end.ticket, unavailable());
                };
                if let Some(failed) = txn.failed.clone() {
                    self.txn = None;
                    return self.answer(server, end.ticket, failed);
                }
                let ended = self.up.as_mut().map(|up| up.client.body_end(txn.id, now));
                match ended {
                    Some(Ok(())) => self.pending = Some(Pending::End(end.ticket)),
                    _ => {
                        self.txn = None;
                        return self.answer(server, end.ticket, unavailable());
                    }
                }
            }
            Event::MessageAborted(reason) => {
                // Dropping the copy removes its file; inside DATA the abort drops the
                // upstream connection, the only way to cancel a body (RFC 5321 4.1.1.4).
                if let Some(txn) = self.txn.take() {
                    if let Some(up) = self.up.as_mut() {
                        let _ = up.client.abort_transaction(txn.id, now);
                    }
                }
                eprintln!("{}: message dropped: {reason:?}", self.peer);
            }
            other => return Some(other),
        }
        None
    }

    /// Opens the upstream connection unless one is up. False when it cannot be opened.
    async fn connect(&mut self) -> bool {
        if self.up.as_ref().is_some_and(|u| !u.client.is_closed()) {
            return true;
        }
        self.up = None;
        self.lost = None;
        let addr = self.relay.opts.addr.clone();
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                let client = Client::new(self.relay.client_config(), Instant::now());
                self.up = Some(Upstream {
                    client,
                    io: Io::Plain(tcp),
                });
                true
            }
            Ok(Err(e)) => {
                eprintln!("{}: relay: cannot connect to {addr}: {e}", self.peer);
                false
            }
            Err(_) => {
                eprintln!("{}: relay: connecting to {addr} timed out", self.peer);
                false
            }
        }
    }

    /// Runs the upstream side until it has nothing more to do right now: writes what
    /// the client machine transmits, handles its events (answering held downstream
    /// tickets), upgrades to TLS when asked.
    pub async fn pump(&mut self, server: &mut Server) {
        loop {
            let Some(up) = self.up.as_mut() else { return };
            flush(up).await;
            let mut events = Vec::new();
            while let Some(e) = up.client.poll_event() {
                events.push(e);
            }
            if events.is_empty() {
                if up.client.is_closed() {
                    self.up = None;
                    self.upstream_gone(server);
                }
                return;
            }
            // Why the upstream went away is known only from the Error and Closed events
            // that follow the aborted transaction's result: read them first.
            for e in &events {
                match e {
                    ClientEvent::Error(err) => self.lost = Some(failure_of(err)),
                    ClientEvent::Closed { reason } => {
                        if let CloseReason::ServiceUnavailable(r) = reason {
                            self.lost = Some(temporary(r));
                        }
                        if self.lost.is_none() {
                            self.lost = Some(unavailable());
                        }
                    }
                    _ => {}
                }
            }
            for e in events {
                self.on_client_event(server, e).await;
            }
        }
    }

    async fn on_client_event(&mut self, server: &mut Server, event: ClientEvent) {
        match event {
            ClientEvent::StartTls => self.starttls().await,
            ClientEvent::MailResult { reply, .. } => {
                if let Some(Pending::Mail(t)) = self.pending.take() {
                    self.answer(server, t, passed_on(reply));
                }
            }
            ClientEvent::RecipientResult { reply, .. } => {
                if let Some(Pending::Rcpt(t)) = self.pending.take() {
                    self.answer(server, t, passed_on(reply));
                }
            }
            ClientEvent::MessageResult {
                message,
                status,
                reply,
            } => {
                if self.txn.as_ref().is_none_or(|t| t.id != message) {
                    return; // an aborted transaction's result
                }
                let verdict = match (&status, reply) {
                    (MessageStatus::NotSent(e), _) => refusal(e),
                    (MessageStatus::Aborted, _) => self.lost.clone().unwrap_or_else(unavailable),
                    (_, Some(r)) => passed_on(r),
                    (_, None) => unavailable(),
                };
                match self.pending.take() {
                    Some(Pending::End(t)) => {
                        let txn = self.txn.take();
                        if status == MessageStatus::Accepted {
                            self.relayed += 1;
                            if let Some(copy) = txn.and_then(|t| t.copy) {
                                let peer = self.peer.clone();
                                let kept = tokio::task::spawn_blocking(move || copy.commit()).await;
                                match kept {
                                    Ok(Ok(path)) => {
                                        eprintln!("{peer}: relay: copy kept as {}", path.display())
                                    }
                                    Ok(Err(e)) => eprintln!("{peer}: relay: copy lost: {e}"),
                                    Err(e) => eprintln!("{peer}: relay: copy lost: {e}"),
                                }
                            }
                        }
                        eprintln!(
                            "{}: relay: message {:?}: {}",
                            self.peer,
                            status,
                            verdict.lines().first().map(Text::as_str).unwrap_or("")
                        );
                        self.answer(server, t, verdict);
                    }
                    Some(Pending::Mail(t)) | Some(Pending::Rcpt(t)) => {
                        self.txn = None;
                        self.answer(server, t, verdict);
                    }
                    None => {
                        // Decided in the middle of the body: the final reply, when its
                        // turn comes, is this one.
                        if let Some(txn) = self.txn.as_mut() {
                            txn.failed = Some(verdict);
                        }
                    }
                }
            }
            ClientEvent::Error(e) => eprintln!("{}: relay: upstream error: {e}", self.peer),
            ClientEvent::Closed { reason } => {
                eprintln!("{}: relay: upstream closed ({reason:?})", self.peer)
            }
            _ => {}
        }
    }

    /// The upstream connection is gone: a decision still held gets the reason.
    fn upstream_gone(&mut self, server: &mut Server) {
        let r = self.lost.clone().unwrap_or_else(unavailable);
        if let Some(txn) = self.txn.as_mut() {
            txn.failed = Some(r.clone());
        }
        match self.pending.take() {
            Some(Pending::End(t)) => {
                self.txn = None;
                self.answer(server, t, r);
            }
            Some(Pending::Mail(t)) | Some(Pending::Rcpt(t)) => {
                self.answer(server, t, r);
            }
            None => {}
        }
    }

    async fn starttls(&mut self) {
        let Some(up) = self.up.as_mut() else { return };
        flush(up).await;
        let Io::Plain(tcp) = std::mem::replace(&mut up.io, Io::Gone) else {
            up.client.handle_eof(Instant::now());
            return;
        };
        let Some(name) = self.relay.server_name() else {
            eprintln!(
                "{}: relay: no TLS server name in {}",
                self.peer, self.relay.opts.addr
            );
            up.client.handle_eof(Instant::now());
            return;
        };
        let shake = self.relay.connector.connect(name, tcp);
        match tokio::time::timeout(CONNECT_TIMEOUT, shake).await {
            Ok(Ok(tls)) => {
                up.io = Io::Tls(Box::new(tls));
                let _ = if self.relay.opts.insecure {
                    up.client.tls_established(Instant::now())
                } else {
                    up.client.tls_established_verified(Instant::now())
                };
            }
            Ok(Err(e)) => {
                eprintln!("{}: relay: TLS with the upstream failed: {e}", self.peer);
                up.client.handle_eof(Instant::now());
            }
            Err(_) => {
                eprintln!("{}: relay: TLS handshake timed out", self.peer);
                up.client.handle_eof(Instant::now());
            }
        }
    }

    /// The session is over: end the upstream politely (QUIT, a short wait for `221`).
    pub async fn finish(&mut self) {
        let Some(mut up) = self.up.take() else { return };
        if let Some(txn) = self.txn.take() {
            let _ = up.client.abort_transaction(txn.id, Instant::now());
        }
        up.client.quit(Instant::now());
        let mut buf = vec![0u8; 4096];
        let _ = tokio::time::timeout(QUIT_WAIT, async {
            loop {
                flush(&mut up).await;
                while up.client.poll_event().is_some() {}
                if up.client.is_closed() {
                    break;
                }
                let n = match &mut up.io {
                    Io::Plain(s) => s.read(&mut buf).await,
                    Io::Tls(s) => s.read(&mut buf).await,
                    Io::Gone => Ok(0),
                };
                match n {
                    Ok(0) | Err(_) => up.client.handle_eof(Instant::now()),
                    Ok(n) => up
                        .client
                        .handle_input(Instant::now(), buf.get(..n).unwrap_or(&[])),
                }
            }
        })
        .await;
        flush(&mut up).await;
        let _ = match &mut up.io {
            Io::Plain(s) => tokio::time::timeout(QUIT_WAIT, s.shutdown()).await,
            Io::Tls(s) => tokio::time::timeout(QUIT_WAIT, s.shutdown()).await,
            Io::Gone => Ok(Ok(())),
        };
        if self.relayed > 0 {
            eprintln!("{}: relay: {} message(s) relayed", self.peer, self.relayed);
        }
    }

    fn answer(&mut self, server: &mut Server, ticket: Ticket, reply: Reply) -> Option<Event> {
        if let Err(e) = server.respond(Instant::now(), ticket, reply) {
            eprintln!("{}: relay: reply not sent: {}", self.peer, e.kind);
        }
        None
    }
}

/// Writes everything the client machine has for the upstream; a failed write is a lost
/// upstream.
async fn flush(up: &mut Upstream) {
    while let Some(bytes) = up.client.poll_transmit() {
        let written = match &mut up.io {
            Io::Plain(s) => tokio::time::timeout(WRITE_TIMEOUT, s.write_all(&bytes)).await,
            Io::Tls(s) => tokio::time::timeout(WRITE_TIMEOUT, s.write_all(&bytes)).await,
            Io::Gone => Ok(Err(io::ErrorKind::NotConnected.into())),
        };
        if !matches!(written, Ok(Ok(()))) {
            up.io = Io::Gone;
            up.client.handle_eof(Instant::now());
            // The machine is closed now; drop what it still has to say.
            while up.client.poll_transmit().is_some() {}
            return;
        }
    }
    let _ = match &mut up.io {
        Io::Plain(s) => tokio::time::timeout(WRITE_TIMEOUT, s.flush()).await,
        Io::Tls(s) => tokio::time::timeout(WRITE_TIMEOUT, s.flush()).await,
        Io::Gone => Ok(Ok(())),
    };
}

/// An upstream reply as the downstream reply. `421` means the upstream is closing its
/// connection, not this one: it becomes `451` (RFC 5321 3.8, 4.2.5).
fn passed_on(reply: Reply) -> Reply {
    if reply.code() == ReplyCode::SERVICE_NOT_AVAILABLE {
        return temporary(&reply);
    }
    reply
}

/// A `451` carrying the upstream's 4yz enhanced code (or 4.4.1) and its text.
fn temporary(r: &Reply) -> Reply {
    let status = r
        .enhanced_status()
        .filter(|s| s.class() == 4)
        .or_else(|| EnhancedStatus::new(4, 4, 1).ok());
    let text: Vec<&str> = r.text_lines().collect();
    let Ok(text) = Text::new(format!("Next hop: {} {}", r.code().get(), text.join(" "))) else {
        return unavailable();
    };
    match status {
        Some(s) => Reply::with_status(ReplyCode::LOCAL_ERROR, s, [text]),
        None => Reply::new(ReplyCode::LOCAL_ERROR, text),
    }
}

/// `451 4.4.1`: the upstream could not be reached or lost (RFC 3463: no answer from host).
fn unavailable() -> Reply {
    fixed("451 4.4.1 Next hop unavailable, try again later")
}

/// The reply for a session-level upstream failure: its own 4yz when it sent one,
/// otherwise `451 4.4.1` (a failed TLS or AUTH is this relay's problem, never a reason
/// to bounce the client's message).
fn failure_of(err: &ClientError) -> Reply {
    match err {
        ClientError::GreetingRefused(r)
        | ClientError::HelloRejected(r)
        | ClientError::StartTlsRejected(r)
        | ClientError::AuthFailed(r)
            if r.code().is_transient() =>
        {
            temporary(r)
        }
        _ => unavailable(),
    }
}

/// The downstream reply to a parameter the upstream cannot take (see the module table).
fn refusal(e: &MessageError) -> Reply {
    match e {
        MessageError::SmtpUtf8NotOffered => {
            fixed("553 5.6.7 The next hop does not support SMTPUTF8 (RFC 6531)")
        }
        MessageError::EightBitMimeNotOffered => {
            fixed("554 5.6.3 The next hop does not accept 8-bit content (RFC 6152)")
        }
        MessageError::BinaryMimeNotOffered => {
            fixed("554 5.6.3 The next hop does not accept BINARYMIME (RFC 3030)")
        }
        MessageError::DsnNotOffered => {
            fixed("555 5.5.4 DSN parameters are not supported by the next hop")
        }
        MessageError::RequireTlsUnavailable => {
            fixed("550 5.7.30 REQUIRETLS is not supported by the next hop")
        }
        MessageError::TooLarge { .. } => {
            fixed("552 5.3.4 Message size exceeds the next hop's limit")
        }
        _ => unavailable(),
    }
}

/// A fixed reply written in wire form.
fn fixed(s: &str) -> Reply {
    s.parse().expect("fixed replies are valid")
}
