//! Relay mode for the tokio server (`--relay HOST:PORT`): every incoming transaction is
//! mirrored to the next hop as it happens, with the crate's client machine and its
//! streaming API (`Client::start_transaction` and friends).
//!
//! * MAIL opens the upstream connection (lazily, once per incoming session; reused for
//!   the session's next transactions, QUIT at the end) and, once that session is set up,
//!   the upstream transaction; the downstream MAIL ticket waits for the upstream's reply
//!   and gets it.
//! * Each RCPT is forwarded and answered with the upstream's verdict (code, enhanced
//!   code, text).
//! * Body chunks stream upstream as they arrive; no message is ever held whole. While the
//!   upstream is slower than the client, the session stops reading the client. The first
//!   bytes sent are our `Received:` field (RFC 5321 4.4; built by `Policy::received_field`
//!   from `MessageStart`), and a missing `Message-ID:` or `Date:` is added at the end of
//!   the header (RFC 6409 8.1, 8.3; `common/stamp.rs`). The copy gets the same bytes.
//! * The final reply to the message is the upstream's final reply. With `--maildir`, a
//!   copy is kept, committed only when the upstream accepted the message. An upstream
//!   that stays silent after the end of data gets `--relay-final-timeout` (default 2
//!   minutes, RFC 6409 5.3); then the client gets `451 4.4.2`, never a `250`.
//! * Upstream unreachable, timing out, or failing TLS: `451 4.4.1` (or the upstream's own
//!   4yz). A permanent refusal of the session (5yz greeting, EHLO, STARTTLS or AUTH)
//!   reaches the client as `554` with the upstream's 5.x.x code: trying again would not
//!   help. The session goes on either way.
//! * An upstream whose greeting carries this process's instance token (part of our own
//!   greeting) is this server: MAIL gets `554 5.4.6` at once instead of a recursion.
//!
//! What is advertised follows the upstream (RFC 5321 3.8 asks a relay not to accept what
//! it cannot pass on): its EHLO is read at start and on each upstream connection, and new
//! sessions are offered SIZE no larger than the upstream's, and DSN, 8BITMIME, SMTPUTF8,
//! BINARYMIME (upstream CHUNKING and BINARYMIME), MT-PRIORITY and REQUIRETLS (upstream
//! under TLS with a verified certificate, so never with `--relay-insecure`) only where
//! the upstream has them. Until the upstream has been reached once, those are off.
//! CHUNKING stays ours: a BDAT body goes upstream with DATA when it lacks CHUNKING.
//!
//! A session that started before the upstream changed may still ask for something it
//! lost; the client machine refuses such parameters and each refusal gets the reply
//! RFC 6531, RFC 6152, RFC 1870, RFC 3461 and RFC 8689 give:
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
//! downstream no faithful way to honour it.
//!
//! `AUTH=` goes upstream when it offers AUTH, as RFC 4954 5 says: `AUTH=<>` for a client
//! that did not authenticate; for one that did, the `AUTH=` mailbox it gave when its
//! account may send as that address (an account without an address list may send as
//! any), else its login when that is a mailbox, else its MAIL FROM address when the
//! account may use it, else `AUTH=<>`. An upstream that offers AUTH but answers `555` to
//! the parameter gets the MAIL again without it (and never again from this process).
//!
//! Senders are checked at MAIL against the account's addresses (RFC 6409 6.1), as the
//! non-relaying server does (`Users::sender_refusal`).

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls::pki_types::ServerName;

use smtp_sansio::client::{
    self, AuthConfig, Client, ClientConfig, ClientError, CloseReason, MessageError, MessageId,
    MessageStatus, StartTlsPolicy,
};
use smtp_sansio::server::{Event, Server, ServerConfig, Ticket};
use smtp_sansio::types::{
    Capabilities, EnhancedStatus, Host, MailAuth, MailParams, Mailbox, Reply, ReplyCode,
    ReversePath, Text, XText,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::maildir::{Delivery, Maildir};
use crate::options::RelayOptions;
use crate::stamp::Stamp;
use crate::users::Users;

/// Connecting and the TLS handshake with the upstream must finish within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A write to the upstream that does not finish within this counts as a lost upstream.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the `221` to QUIT is awaited at the end of a session.
const QUIT_WAIT: Duration = Duration::from_secs(5);
/// Body octets buffered for the upstream before the client is no longer read.
const BACKLOG_LIMIT: usize = 1024 * 1024;
/// Octets reserved for what the relay adds to a message: our Received field (at most
/// a few hundred octets; the trace module caps each client token) and a Message-ID and
/// Date when missing.
const STAMP_ALLOWANCE: u64 = 2048;
/// The start-up look at the upstream's EHLO gives up after this; the first session
/// learns it then.
const PROBE_TIME: Duration = Duration::from_secs(15);

/// Numbers the ids of our Received fields.
static TRACE_IDS: AtomicU64 = AtomicU64::new(0);

/// What every relaying session shares.
pub struct Relay {
    opts: RelayOptions,
    connector: TlsConnector,
    hello: Host<'static>,
    users: Arc<Users>,
    /// Our configuration as the options made it, greeting token included.
    base: ServerConfig,
    /// What new sessions are offered: `base` narrowed to what the upstream keeps.
    offered: Mutex<Arc<ServerConfig>>,
    /// Random, in our greeting: an upstream greeting with it is this very process.
    token: String,
    /// The upstream refused `AUTH=` on MAIL with 555 once: it is not sent again.
    no_auth_param: AtomicBool,
}

impl Relay {
    /// Builds the TLS client configuration (web PKI roots, or any certificate with
    /// `--relay-insecure`), and the conservative offer used until the upstream's EHLO is
    /// known.
    pub fn new(opts: RelayOptions, base: &ServerConfig, users: Arc<Users>) -> Result<Self, String> {
        let config = crate::tls_client::client_config(opts.insecure)
            .map_err(|e| format!("relay TLS configuration: {e}"))?;
        let hello = crate::options::hostname::to_host(&base.hostname)
            .map_err(|e| format!("--hostname {e}"))?;
        let token = instance_token()?;
        let mut base = base.clone();
        base.greeting = format!("{} ({token})", base.greeting);
        let offered = Mutex::new(Arc::new(narrowed(&base, None)));
        Ok(Self {
            opts,
            connector: TlsConnector::from(Arc::new(config)),
            hello,
            users,
            base,
            offered,
            token,
            no_auth_param: AtomicBool::new(false),
        })
    }

    /// The configuration for a session starting now.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.offered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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

    /// Reads the upstream's EHLO once at start (greeting, EHLO, STARTTLS and AUTH as
    /// configured, QUIT) so that the first client is offered the right set. An
    /// unreachable upstream is logged; the conservative set stays until a session
    /// reaches it.
    pub async fn learn_at_start(&self) {
        let addr = &self.opts.addr;
        let tcp = match tokio::time::timeout(PROBE_TIME, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                eprintln!(
                    "relay: upstream {addr} unreachable at start ({e}); {}",
                    self.offer()
                );
                return;
            }
            Err(_) => {
                eprintln!(
                    "relay: upstream {addr} did not answer at start; {}",
                    self.offer()
                );
                return;
            }
        };
        let mut up = Upstream::new(Client::new(self.client_config(), Instant::now()), tcp);
        let mut buf = vec![0u8; 4096];
        let probe = async {
            loop {
                while let Some(event) = up.client.poll_event() {
                    match event {
                        client::Event::Greeting(r) if self.is_self(&r) => {
                            eprintln!("relay: the upstream {addr} is this server");
                            return;
                        }
                        client::Event::StartTls => self.upgrade(&mut up, "start").await,
                        client::Event::Ready => {
                            if let Some(caps) = up.client.capabilities() {
                                self.learn(caps, up.secure(self), "start");
                            }
                            up.client.quit(Instant::now());
                        }
                        client::Event::Error(e) => eprintln!("relay: upstream at start: {e}"),
                        _ => {}
                    }
                }
                flush(&mut up).await;
                if up.client.is_closed() {
                    return;
                }
                match read_io(&mut up.io, &mut buf).await {
                    Ok(0) | Err(_) => up.client.handle_eof(Instant::now()),
                    Ok(n) => up
                        .client
                        .handle_input(Instant::now(), buf.get(..n).unwrap_or_default()),
                }
            }
        };
        if tokio::time::timeout(PROBE_TIME, probe).await.is_err() {
            eprintln!("relay: upstream {addr} too slow at start; {}", self.offer());
        }
    }

    /// Narrows what new sessions are offered to what these upstream capabilities keep.
    fn learn(&self, caps: &Capabilities, secure: bool, peer: &str) {
        let new = narrowed(&self.base, Some((caps, secure)));
        let mut offered = self.offered.lock().unwrap_or_else(PoisonError::into_inner);
        let same = offered.extensions == new.extensions
            && offered.limits.message_size == new.limits.message_size;
        if !same {
            *offered = Arc::new(new);
            drop(offered);
            eprintln!("{peer}: relay: upstream EHLO read; {}", self.offer());
        }
    }

    /// What is offered now, for the log.
    fn offer(&self) -> String {
        let c = self.server_config();
        let e = &c.extensions;
        let mut on = Vec::new();
        if let Some(size) = c.limits.message_size {
            on.push(format!("SIZE {size}"));
        }
        for (name, yes) in [
            ("8BITMIME", e.eight_bit_mime),
            ("SMTPUTF8", e.smtputf8),
            ("CHUNKING", e.chunking),
            ("BINARYMIME", e.binary_mime),
            ("DSN", e.dsn),
            ("REQUIRETLS", e.requiretls),
            ("MT-PRIORITY", e.mt_priority),
        ] {
            if yes {
                on.push(name.to_owned());
            }
        }
        format!("offering {}", on.join(" "))
    }

    /// True when a greeting carries our own token: the upstream is this process.
    fn is_self(&self, greeting: &Reply) -> bool {
        greeting.text_lines().any(|l| l.contains(&self.token))
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

    /// The TLS handshake after the upstream's `220` to STARTTLS; a failure is a lost
    /// upstream.
    async fn upgrade(&self, up: &mut Upstream, peer: &str) {
        flush(up).await;
        let Io::Plain(tcp) = std::mem::replace(&mut up.io, Io::Gone) else {
            up.client.handle_eof(Instant::now());
            return;
        };
        let Some(name) = self.server_name() else {
            eprintln!("{peer}: relay: no TLS server name in {}", self.opts.addr);
            up.client.handle_eof(Instant::now());
            return;
        };
        let shake = self.connector.connect(name, tcp);
        match tokio::time::timeout(CONNECT_TIMEOUT, shake).await {
            Ok(Ok(tls)) => {
                up.io = Io::Tls(Box::new(tls));
                up.tls = true;
                // RFC 8689 4.2.1: the machine sends REQUIRETLS only over a verified
                // certificate.
                let _ = if self.opts.insecure {
                    up.client.tls_established(Instant::now())
                } else {
                    up.client.tls_established_verified(Instant::now())
                };
            }
            Ok(Err(e)) => {
                eprintln!("{peer}: relay: TLS with the upstream failed: {e}");
                up.client.handle_eof(Instant::now());
            }
            Err(_) => {
                eprintln!("{peer}: relay: TLS handshake timed out");
                up.client.handle_eof(Instant::now());
            }
        }
    }
}

/// `base` as offered in front of an upstream with `caps` (`None`: not known yet); the
/// flag says the upstream session is under TLS with a verified certificate.
fn narrowed(base: &ServerConfig, upstream: Option<(&Capabilities, bool)>) -> ServerConfig {
    let mut c = base.clone();
    let e = &mut c.extensions;
    let Some((caps, secure)) = upstream else {
        e.eight_bit_mime = false;
        e.smtputf8 = false;
        e.binary_mime = false;
        e.dsn = false;
        e.requiretls = false;
        e.mt_priority = false;
        return c;
    };
    e.eight_bit_mime &= caps.eight_bit_mime();
    // RFC 6531 3.1 item 8: SMTPUTF8 only with 8BITMIME.
    e.smtputf8 &= caps.smtputf8() && e.eight_bit_mime;
    // RFC 3030 3: BODY=BINARYMIME travels only by BDAT.
    e.binary_mime &= caps.chunking() && caps.binary_mime();
    e.dsn &= caps.dsn();
    // RFC 8689 4.2.1: only over TLS whose certificate was checked.
    e.requiretls &= caps.requiretls() && secure;
    e.mt_priority &= caps.has("MT-PRIORITY");
    // RFC 1870: SIZE 0 or no SIZE means no announced limit. What we offer leaves room
    // for the fields we add, so that a message we take always fits the next hop.
    if let Some(Some(limit)) = caps.size() {
        let limit = limit.saturating_sub(STAMP_ALLOWANCE);
        let ours = c.limits.message_size;
        c.limits.message_size = Some(ours.map_or(limit, |o| o.min(limit)));
    }
    c
}

/// Sixteen random hex digits for the greeting.
fn instance_token() -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "no random numbers for the relay's instance token".to_owned())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
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
    /// TLS is up.
    tls: bool,
    /// The session is set up (greeting, EHLO, STARTTLS, AUTH): MAIL can be planned.
    ready: bool,
    /// After the end of data: when the client stops waiting (`--relay-final-timeout`).
    final_due: Option<Instant>,
}

impl Upstream {
    fn new(client: Client, tcp: TcpStream) -> Self {
        Self {
            client,
            io: Io::Plain(tcp),
            tls: false,
            ready: false,
            final_due: None,
        }
    }

    /// Under TLS with a verified certificate.
    fn secure(&self, relay: &Relay) -> bool {
        self.tls && !relay.opts.insecure
    }
}

/// A downstream decision waiting for the upstream's answer.
enum Pending {
    Mail(Ticket),
    Rcpt(Ticket),
    End(Ticket),
}

impl Pending {
    fn ticket(self) -> Ticket {
        match self {
            Pending::Mail(t) | Pending::Rcpt(t) | Pending::End(t) => t,
        }
    }
}

/// The transaction being mirrored.
struct Txn {
    id: MessageId,
    /// The upstream ended the transaction early (refused DATA, lost connection): the
    /// reply every later downstream decision of this transaction gets.
    failed: Option<Reply>,
    copy: Option<Delivery>,
    /// The client's MAIL, kept while an `AUTH=` we added may be refused (555).
    without_auth: Option<(ReversePath<'static>, MailParams<'static>)>,
    /// That happened: MAIL goes again without it once this transaction's result comes.
    resend: bool,
    /// Our Received field first, then the body (with a missing Message-ID and Date).
    stamp: Option<Stamp>,
}

impl Txn {
    /// Passes body bytes (`None`: the end) through the stamp to the copy, and to the
    /// upstream unless it already gave its verdict: both get the same bytes.
    fn pass(
        &mut self,
        peer: &str,
        mut up: Option<&mut Upstream>,
        chunk: Option<&[u8]>,
        now: Instant,
    ) {
        let Some(mut stamp) = self.stamp.take() else {
            return;
        };
        let mut out = |b: &[u8]| -> io::Result<()> {
            if let Some(d) = self.copy.as_mut() {
                if let Err(e) = d.write(b) {
                    eprintln!("{peer}: relay: copy dropped: {e}");
                    self.copy = None;
                }
            }
            if self.failed.is_none() {
                if let Some(up) = up.as_mut() {
                    let _ = up.client.body_chunk(now, self.id, b);
                }
            }
            Ok(())
        };
        let _ = match chunk {
            Some(c) => stamp.chunk(c, &mut out),
            None => stamp.finish(&mut out),
        };
        self.stamp = Some(stamp);
    }
}

/// One incoming session's relay state.
pub struct RelaySession {
    relay: Arc<Relay>,
    peer: String,
    maildir: Option<Maildir>,
    up: Option<Upstream>,
    txn: Option<Txn>,
    pending: Option<Pending>,
    /// A MAIL waiting for the upstream session to be ready.
    deferred: Option<(ReversePath<'static>, MailParams<'static>)>,
    /// Our Received field for the message about to start (see [`RelaySession::received`]).
    received: Option<Vec<u8>>,
    /// The name of the last AUTH attempt; the session's identity once the machine says
    /// it is authenticated (no AUTH is accepted after a successful one, RFC 4954 4).
    auth_name: Option<String>,
    /// Why the upstream went away, for the reply to the decision it leaves open. The
    /// first reason given wins.
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
            deferred: None,
            received: None,
            auth_name: None,
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

    /// When the upstream machine's timer, or the cap on the final reply, runs out.
    pub fn deadline(&self) -> Option<Instant> {
        let up = self.up.as_ref()?;
        match (up.client.poll_timeout(), up.final_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Reads from the upstream; never completes when there is none.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.up.as_mut() {
            Some(up) => read_io(&mut up.io, buf).await,
            None => std::future::pending().await,
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

    /// A deadline passed: the upstream machine's, or the cap on the final reply
    /// (RFC 6409 5.3), which drops the upstream and gives the client `451 4.4.2`.
    pub fn on_timeout(&mut self) {
        let now = Instant::now();
        let Some(up) = self.up.as_mut() else { return };
        if up.final_due.is_some_and(|d| d <= now) {
            up.final_due = None;
            eprintln!(
                "{}: relay: no final reply from the upstream within {:?}; giving up",
                self.peer, self.relay.opts.final_timeout
            );
            self.lost = Some(fixed(
                "451 4.4.2 No final reply from the next hop in time, try again later",
            ));
            up.io = Io::Gone;
            up.client.handle_eof(now);
        } else {
            up.client.handle_timeout(now);
        }
    }

    /// Prepares our `Received:` field for the message that starts now (RFC 5321 4.4):
    /// `build` gets the id for its ID clause. Call before passing `MessageStart` on.
    pub fn received(&mut self, build: impl FnOnce(&str) -> Vec<u8>) {
        let n = TRACE_IDS.fetch_add(1, Ordering::Relaxed);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let id = format!(
            "{}R{}P{}Q{n}",
            t.as_secs(),
            t.subsec_micros(),
            std::process::id()
        );
        self.received = Some(build(&id));
    }

    /// The authenticated user of this session, if any.
    fn user(&self, server: &Server) -> Option<String> {
        self.auth_name.clone().filter(|_| server.is_authenticated())
    }

    /// Handles the relay's share of the downstream events; returns the others.
    pub async fn on_event(&mut self, server: &mut Server, event: Event) -> Option<Event> {
        let now = Instant::now();
        match event {
            Event::Auth(a) => {
                self.auth_name = Some(a.authcid.clone());
                return Some(Event::Auth(a));
            }
            Event::Mail(m) => {
                if let Some(old) = self.txn.take() {
                    // The client reset (RSET) or abandoned the previous transaction.
                    if let Some(up) = self.up.as_mut() {
                        let _ = up.client.abort_transaction(now, old.id);
                    }
                }
                self.deferred = None;
                let user = self.user(server);
                if let Some(no) = self.relay.users.sender_refusal(user.as_deref(), &m.from) {
                    self.answer(server, m.ticket, no);
                    return None;
                }
                if !self.connect().await {
                    let r = self.lost.clone().unwrap_or_else(unavailable);
                    self.answer(server, m.ticket, r);
                    return None;
                }
                if self.up.as_ref().is_some_and(|u| u.ready) {
                    self.begin(server, m.ticket, m.from, m.params, now);
                } else {
                    // MAIL is planned against the upstream's EHLO (AUTH=, loop check):
                    // it starts at `Ready`.
                    self.deferred = Some((m.from, m.params));
                    self.pending = Some(Pending::Mail(m.ticket));
                }
            }
            Event::Rcpt(r) => {
                let (Some(txn), Some(up)) = (self.txn.as_ref(), self.up.as_mut()) else {
                    self.answer(server, r.ticket, unavailable());
                    return None;
                };
                if let Some(failed) = txn.failed.clone() {
                    self.answer(server, r.ticket, failed);
                    return None;
                }
                let dsn = r.params.notify.is_some() || r.params.orcpt.is_some();
                let upstream_dsn = up.client.capabilities().is_some_and(|c| c.dsn());
                if dsn && !upstream_dsn {
                    let no = fixed("555 5.5.4 DSN parameters are not supported by the next hop");
                    self.answer(server, r.ticket, no);
                    return None;
                }
                match up.client.add_recipient(now, txn.id, r.to, r.params) {
                    Ok(()) => self.pending = Some(Pending::Rcpt(r.ticket)),
                    Err(_) => self.answer(server, r.ticket, unavailable()),
                }
            }
            Event::MessageStart(_) => {
                let received = self.received.take().unwrap_or_default();
                let txn = self.txn.as_mut()?;
                if let Some(m) = self.maildir.as_ref() {
                    match m.create() {
                        Ok(d) => txn.copy = Some(d),
                        Err(e) => eprintln!("{}: relay: no copy kept: {e}", self.peer),
                    }
                }
                // An MSA adds a missing Message-ID and Date (RFC 6409 8.1, 8.3).
                txn.stamp = Some(Stamp::new(received, true, &self.relay.base.hostname));
            }
            Event::MessageChunk(chunk) => {
                let txn = self.txn.as_mut()?;
                txn.pass(&self.peer, self.up.as_mut(), Some(&chunk), now);
            }
            Event::MessageEnd(end) => {
                let Some(txn) = self.txn.as_mut() else {
                    self.answer(server, end.ticket, unavailable());
                    return None;
                };
                txn.pass(&self.peer, self.up.as_mut(), None, now);
                if let Some(failed) = txn.failed.clone() {
                    self.txn = None;
                    self.answer(server, end.ticket, failed);
                    return None;
                }
                let cap = self.relay.opts.final_timeout;
                let ended = self.up.as_mut().map(|up| {
                    up.final_due = Some(now + cap);
                    up.client.body_end(now, txn.id)
                });
                match ended {
                    Some(Ok(())) => self.pending = Some(Pending::End(end.ticket)),
                    _ => {
                        self.txn = None;
                        self.answer(server, end.ticket, unavailable());
                    }
                }
            }
            Event::MessageAborted(reason) => {
                // Dropping the copy removes its file; inside DATA the abort drops the
                // upstream connection, the only way to cancel a body (RFC 5321 4.1.1.4).
                if let Some(txn) = self.txn.take() {
                    if let Some(up) = self.up.as_mut() {
                        let _ = up.client.abort_transaction(now, txn.id);
                    }
                }
                eprintln!("{}: message dropped: {reason:?}", self.peer);
            }
            other => return Some(other),
        }
        None
    }

    /// Starts the upstream transaction for a downstream MAIL, with `AUTH=` when the
    /// upstream offers AUTH (RFC 4954 5).
    fn begin(
        &mut self,
        server: &mut Server,
        ticket: Ticket,
        from: ReversePath<'static>,
        mut params: MailParams<'static>,
        now: Instant,
    ) {
        let given = params.auth.take();
        let offered = self
            .up
            .as_ref()
            .and_then(|u| u.client.capabilities())
            .is_some_and(|c| c.has("AUTH"));
        let with_auth = offered && !self.relay.no_auth_param.load(Ordering::Relaxed);
        let mut sent = params.clone();
        // RFC 1870: the size declared upstream covers what goes upstream, our trace
        // fields and any added Message-ID and Date included.
        sent.size = sent.size.map(|n| n.saturating_add(STAMP_ALLOWANCE));
        if with_auth {
            sent.auth = Some(self.auth_param(server, &from, given));
        }
        let Some(up) = self.up.as_mut() else {
            self.answer(server, ticket, unavailable());
            return;
        };
        match up.client.start_transaction(now, from.clone(), sent) {
            Ok(id) => {
                self.txn = Some(Txn {
                    id,
                    failed: None,
                    copy: None,
                    without_auth: with_auth.then_some((from, params)),
                    resend: false,
                    stamp: None,
                });
                self.pending = Some(Pending::Mail(ticket));
            }
            Err(e) => {
                eprintln!("{}: relay: cannot start the transaction: {e}", self.peer);
                self.answer(server, ticket, unavailable());
            }
        }
    }

    /// The `AUTH=` value for the upstream (RFC 4954 5): a mailbox only where this
    /// session's login vouches for it, `<>` otherwise.
    fn auth_param(
        &self,
        server: &Server,
        from: &ReversePath<'static>,
        given: Option<MailAuth<'static>>,
    ) -> MailAuth<'static> {
        let Some(user) = self.user(server) else {
            return MailAuth::Unknown;
        };
        let users = &self.relay.users;
        let vouched = |addr: &str| {
            Mailbox::parse(addr).is_ok_and(|m| users.may_send_as(&user, &ReversePath::Mailbox(m)))
        };
        let identity = |addr: String| {
            XText::new(addr)
                .map(MailAuth::Identity)
                .unwrap_or(MailAuth::Unknown)
        };
        match given {
            Some(MailAuth::Identity(x)) if vouched(x.as_str()) => MailAuth::Identity(x),
            // `<>` from the client, or a submitter this login cannot vouch for.
            Some(_) => MailAuth::Unknown,
            None if Mailbox::parse(&user).is_ok() => identity(user.clone()),
            None => match from {
                ReversePath::Mailbox(m) if users.may_send_as(&user, from) => {
                    identity(m.to_string())
                }
                _ => MailAuth::Unknown,
            },
        }
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
                self.up = Some(Upstream::new(client, tcp));
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
                let why = match e {
                    client::Event::Error(err) => failure_of(err),
                    client::Event::Closed {
                        reason: CloseReason::ServiceUnavailable(r),
                    } => temporary(r),
                    client::Event::Closed { .. } => unavailable(),
                    _ => continue,
                };
                self.lost.get_or_insert(why);
            }
            for e in events {
                self.on_client_event(server, e).await;
            }
        }
    }

    async fn on_client_event(&mut self, server: &mut Server, event: client::Event) {
        let now = Instant::now();
        match event {
            client::Event::Greeting(r) if self.relay.is_self(&r) => {
                // RFC 5321 6.3: a loop; ending it at once beats 4,096 nested sessions.
                eprintln!(
                    "{}: relay: the upstream {} is this server: mail loop",
                    self.peer, self.relay.opts.addr
                );
                self.lost = Some(fixed("554 5.4.6 Mail loop: the next hop is this server"));
                if let Some(up) = self.up.as_mut() {
                    up.io = Io::Gone;
                    up.client.handle_eof(now);
                }
            }
            client::Event::StartTls => {
                if let Some(up) = self.up.as_mut() {
                    self.relay.upgrade(up, &self.peer).await;
                }
            }
            client::Event::Ready => {
                let Some(up) = self.up.as_mut() else { return };
                up.ready = true;
                if let Some(caps) = up.client.capabilities() {
                    self.relay.learn(caps, up.secure(&self.relay), &self.peer);
                }
                if let Some((from, params)) = self.deferred.take() {
                    match self.pending.take() {
                        Some(Pending::Mail(t)) => self.begin(server, t, from, params, now),
                        Some(p) => self.answer(server, p.ticket(), unavailable()),
                        None => {}
                    }
                }
            }
            client::Event::MailResult { reply, .. } => {
                let ours = self.txn.as_mut().filter(|t| t.without_auth.is_some());
                if let Some(txn) = ours.filter(|_| reply.code().get() == 555) {
                    // RFC 4954 5 makes AUTH= a SHOULD; an upstream that offers AUTH yet
                    // refuses the parameter gets the MAIL again without it.
                    eprintln!(
                        "{}: relay: the upstream refused AUTH= on MAIL ({reply}); not sending it again",
                        self.peer
                    );
                    self.relay.no_auth_param.store(true, Ordering::Relaxed);
                    txn.resend = true;
                    return;
                }
                if let Some(Pending::Mail(t)) = self.pending.take() {
                    self.answer(server, t, passed_on(reply));
                }
            }
            client::Event::RecipientResult { reply, .. } => {
                if let Some(Pending::Rcpt(t)) = self.pending.take() {
                    self.answer(server, t, passed_on(reply));
                }
            }
            client::Event::MessageResult {
                message,
                status,
                reply,
            } => {
                if self.txn.as_ref().is_none_or(|t| t.id != message) {
                    return; // an aborted transaction's result
                }
                if let Some(up) = self.up.as_mut() {
                    up.final_due = None;
                }
                if self.txn.as_ref().is_some_and(|t| t.resend) {
                    let again = self.txn.take().and_then(|t| t.without_auth);
                    match (self.pending.take(), again) {
                        (Some(Pending::Mail(t)), Some((from, params))) => {
                            self.begin(server, t, from, params, now)
                        }
                        (Some(p), _) => self.answer(server, p.ticket(), unavailable()),
                        (None, _) => {}
                    }
                    return;
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
            client::Event::Error(e) => eprintln!("{}: relay: upstream error: {e}", self.peer),
            client::Event::Closed { reason } => {
                eprintln!("{}: relay: upstream closed ({reason:?})", self.peer)
            }
            _ => {}
        }
    }

    /// The upstream connection is gone: a decision still held gets the reason.
    fn upstream_gone(&mut self, server: &mut Server) {
        let r = self.lost.clone().unwrap_or_else(unavailable);
        self.deferred = None;
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

    /// The session is over: end the upstream politely (QUIT, a short wait for `221`).
    pub async fn finish(&mut self) {
        let Some(mut up) = self.up.take() else { return };
        if let Some(txn) = self.txn.take() {
            let _ = up.client.abort_transaction(Instant::now(), txn.id);
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
                match read_io(&mut up.io, &mut buf).await {
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

    fn answer(&mut self, server: &mut Server, ticket: Ticket, reply: Reply) {
        if let Err(e) = server.respond(Instant::now(), ticket, reply) {
            eprintln!("{}: relay: reply not sent: {}", self.peer, e.kind);
        }
    }
}

/// Reads from the upstream connection; `Ok(0)` once it is gone.
async fn read_io(io: &mut Io, buf: &mut [u8]) -> io::Result<usize> {
    match io {
        Io::Plain(s) => s.read(buf).await,
        Io::Tls(s) => s.read(buf).await,
        Io::Gone => Ok(0),
    }
}

/// Writes everything the client machine has for the upstream; a failed write is a lost
/// upstream. After the end of data, a write may not outlast the cap on the final reply.
async fn flush(up: &mut Upstream) {
    let limit = || match up.final_due {
        Some(due) => due
            .saturating_duration_since(Instant::now())
            .min(WRITE_TIMEOUT),
        None => WRITE_TIMEOUT,
    };
    let limit = limit();
    while let Some(bytes) = up.client.poll_transmit() {
        let written = match &mut up.io {
            Io::Plain(s) => tokio::time::timeout(limit, s.write_all(&bytes)).await,
            Io::Tls(s) => tokio::time::timeout(limit, s.write_all(&bytes)).await,
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
        Io::Plain(s) => tokio::time::timeout(limit, s.flush()).await,
        Io::Tls(s) => tokio::time::timeout(limit, s.flush()).await,
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

/// The upstream's reply `r` wrapped as `code` with its enhanced code when that has the
/// right class (else `class.4.fallback`) and its text after "Next hop:".
fn wrapped(code: ReplyCode, fallback: u16, r: &Reply) -> Option<Reply> {
    let class = code.class();
    let status = r
        .enhanced_status()
        .filter(|s| s.class() == class)
        .or_else(|| EnhancedStatus::new(class, 4, fallback).ok());
    let text: Vec<&str> = r.text_lines().collect();
    let text = Text::new(format!("Next hop: {} {}", r.code().get(), text.join(" "))).ok()?;
    Some(match status {
        Some(s) => Reply::with_status(code, s, [text]),
        None => Reply::new(code, text),
    })
}

/// A `451` carrying the upstream's 4yz enhanced code (or 4.4.1) and its text.
fn temporary(r: &Reply) -> Reply {
    wrapped(ReplyCode::LOCAL_ERROR, 1, r).unwrap_or_else(unavailable)
}

/// A `554` carrying the upstream's 5yz enhanced code (or 5.4.0) and its text.
fn permanent(r: &Reply) -> Reply {
    wrapped(ReplyCode::TRANSACTION_FAILED, 0, r)
        .unwrap_or_else(|| fixed("554 5.4.0 The next hop refused the session"))
}

/// `451 4.4.1`: the upstream could not be reached or lost (RFC 3463: no answer from host).
fn unavailable() -> Reply {
    fixed("451 4.4.1 Next hop unavailable, try again later")
}

/// The reply for a session-level upstream failure: a refusal of the session keeps its
/// class (a 5yz greeting, EHLO, STARTTLS or AUTH answer will not change by retrying);
/// everything else (lost connection, timeouts, a failed handshake) is `451 4.4.1`.
fn failure_of(err: &ClientError) -> Reply {
    match err {
        ClientError::GreetingRefused(r)
        | ClientError::HelloRejected(r)
        | ClientError::StartTlsRejected(r)
        | ClientError::AuthFailed(r) => match r.code() {
            c if c.is_permanent() => permanent(r),
            c if c.is_transient() => temporary(r),
            _ => unavailable(),
        },
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
