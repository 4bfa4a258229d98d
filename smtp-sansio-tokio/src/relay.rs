//! The smarthost relay: every incoming transaction is mirrored to the next hop as it
//! happens, with the [`client`]'s streaming steps.
//!
//! * MAIL opens the upstream session (once per incoming session, reused for its next
//!   transactions, QUIT when it ends) and the upstream transaction; the client gets the
//!   upstream's reply. Each RCPT likewise.
//! * The body streams upstream as it arrives, never held whole, behind our `Received:`
//!   field (RFC 5321 4.4), with a missing `Message-ID:` or `Date:` added at the end of
//!   the header (RFC 6409 8.1, 8.3). With [`Relay::keep_copies`] a copy of the same bytes
//!   is kept, committed only once the upstream accepted the message.
//! * The final reply is the upstream's. One that does not come within
//!   [`Relay::final_timeout`] (default 2 minutes after the end of data, RFC 6409 5.3)
//!   gets the client `451 4.4.2`, never a `250`.
//! * An unreachable or lost upstream gives `451 4.4.1` (or its own 4yz); a permanent
//!   refusal of the upstream session (5yz greeting, EHLO, STARTTLS or AUTH) reaches the
//!   client as `554` with the upstream's 5.x.x code. The session goes on either way.
//! * The instance token in our greeting, found in the upstream's, means the next hop is
//!   this server: MAIL gets `554 5.4.6` instead of a recursion (RFC 5321 6.3).
//!
//! What new sessions are offered follows the upstream (RFC 5321 3.8: a relay does not
//! accept what it cannot pass on; see [`Handler::config`]): its EHLO is read at start
//! ([`Relay::learn_at_start`]) and on each upstream session; SIZE no larger than the
//! upstream's minus 2048 octets for what we add, and 8BITMIME, SMTPUTF8, BINARYMIME, DSN,
//! MT-PRIORITY and REQUIRETLS (this one only over TLS with a verified certificate) only
//! where the upstream has them; until the upstream is known, those are off. A session
//! that began before the upstream changed may still ask for what it lost; the client
//! machine refuses it, and the refusal gets its RFC's reply (`553 5.6.7` SMTPUTF8,
//! `554 5.6.3` 8BITMIME/BINARYMIME, `555 5.5.4` DSN, `550 5.7.30` REQUIRETLS, `552
//! 5.3.4` SIZE).
//!
//! `AUTH=` goes upstream when it offers AUTH (RFC 4954 5): `<>` for a client that did not
//! authenticate; else the `AUTH=` mailbox the client gave when its account may send as
//! it, else its login when that is a mailbox, else its MAIL FROM when the account may use
//! it, else `<>`. An upstream that offers AUTH but answers `555` to the parameter gets
//! the MAIL again without it (and never again from this relay).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use smtp_sansio::client::{
    AuthConfig, ClientConfig, ClientError, CloseReason, MessageError, MessageId, MessageStatus,
    StartTlsPolicy,
};
use smtp_sansio::server::ServerConfig;
use smtp_sansio::types::{
    Capabilities, EnhancedStatus, Host, MailAuth, Mailbox, Reply, ReplyCode, ReversePath, Text,
    XText,
};

use crate::auth::PasswordVerifier;
use crate::body::Body;
use crate::client::{self, Options, Step, Verify};
use crate::handler::{Connection, Decision, Handler, Mail, Message, Rcpt, Session};
use crate::log::Logger;
use crate::maildir::Folder;
use crate::stamp::Stamp;

/// Octets reserved for what the relay adds to a message: our `Received:` field and a
/// `Message-ID:` and `Date:` when missing.
pub const STAMP_ALLOWANCE: u64 = 2048;
/// The start-up look at the upstream gives up after this.
const PROBE_TIME: Duration = Duration::from_secs(15);

/// The reply to MAIL when the next hop is this server (RFC 5321 6.3).
const MAIL_LOOP: &str = "554 5.4.6 Mail loop: the next hop is this server";
/// The final reply when the upstream's did not come in time (RFC 6409 5.3).
const NO_FINAL_REPLY: &str = "451 4.4.2 No final reply from the next hop in time, try again later";

static TRACE_IDS: AtomicU64 = AtomicU64::new(0);

/// The relay handler; see the [module](self). Cheap to clone (shared state): the
/// builder methods take effect only before the first clone (before it is served).
#[derive(Clone)]
pub struct Relay(Arc<Inner>);

struct Inner {
    addr: String,
    hello: Host<'static>,
    starttls: StartTlsPolicy,
    login: Option<(String, String)>,
    verify: Verify,
    reply_timeout: Option<Duration>,
    final_timeout: Duration,
    senders: Option<Arc<dyn PasswordVerifier>>,
    copies: Option<Folder>,
    name_user: bool,
    log: Logger,
    /// Random, in our greeting: an upstream greeting with it is this very process.
    token: String,
    /// The upstream's capabilities, and whether they came over verified TLS.
    learned: Mutex<Option<(Capabilities, bool)>>,
    /// The upstream refused `AUTH=` on MAIL with 555 once: it is not sent again.
    no_auth_param: AtomicBool,
    /// The server's own configuration, once a session has started (for the log).
    served: Mutex<Option<Arc<ServerConfig>>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Relay {
    /// A relay to `upstream` (`host:port`), saying EHLO as `hello`: STARTTLS required,
    /// certificates checked against the web PKI roots, no AUTH. Fails only when no random
    /// instance token can be made.
    pub fn new(upstream: &str, hello: Host<'static>) -> Result<Self, String> {
        Ok(Self(Arc::new(Inner {
            addr: upstream.to_owned(),
            hello,
            starttls: StartTlsPolicy::Required,
            login: None,
            verify: Verify::WebPki,
            reply_timeout: None,
            final_timeout: Duration::from_secs(120),
            senders: None,
            copies: None,
            name_user: false,
            log: Logger::default(),
            token: instance_token()?,
            learned: Mutex::new(None),
            no_auth_param: AtomicBool::new(false),
            served: Mutex::new(None),
        })))
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            f(inner);
        }
        self
    }

    /// STARTTLS to the upstream: required (default) or opportunistic.
    pub fn starttls(self, policy: StartTlsPolicy) -> Self {
        self.edit(|i| i.starttls = policy)
    }

    /// Authenticate to the upstream (AUTH PLAIN/LOGIN, under TLS).
    pub fn login(self, user: &str, password: &str) -> Self {
        self.edit(|i| i.login = Some((user.to_owned(), password.to_owned())))
    }

    /// How the upstream's certificate is checked ([`Verify::Insecure`] for tests: then
    /// REQUIRETLS is never offered).
    pub fn verify(self, verify: Verify) -> Self {
        self.edit(|i| i.verify = verify)
    }

    /// A cap on every upstream reply wait (default: the RFC 5321 4.5.3.2 timers).
    pub fn reply_timeout(self, cap: Duration) -> Self {
        self.edit(|i| i.reply_timeout = Some(cap))
    }

    /// The longest wait for the upstream's final reply after the end of data before the
    /// client gets `451 4.4.2` (default 2 minutes, RFC 6409 5.3).
    pub fn final_timeout(self, cap: Duration) -> Self {
        self.edit(|i| i.final_timeout = cap)
    }

    /// Who may send as whom, for the `AUTH=` parameter (the server's credentials).
    pub fn senders(self, verifier: impl PasswordVerifier) -> Self {
        self.edit(|i| i.senders = Some(Arc::new(verifier)))
    }

    /// Keep a copy of every message the upstream accepted in this Maildir folder.
    pub fn keep_copies(self, folder: Folder) -> Self {
        self.edit(|i| i.copies = Some(folder))
    }

    /// Name the authenticated user in our `Received:` (off by default).
    pub fn name_user(self, yes: bool) -> Self {
        self.edit(|i| i.name_user = yes)
    }

    /// Where log lines go (default stderr).
    pub fn logger(self, log: Logger) -> Self {
        self.edit(|i| i.log = log)
    }

    /// The upstream as a start-up log names it.
    pub fn describe(&self) -> String {
        let i = &self.0;
        let tls = match i.starttls {
            StartTlsPolicy::Required => "STARTTLS required",
            _ => "STARTTLS opportunistic",
        };
        let auth = match &i.login {
            Some((u, _)) => format!(", AUTH as {u}"),
            None => String::new(),
        };
        let check = match i.verify {
            Verify::Insecure => ", certificate NOT verified",
            _ => "",
        };
        format!("relaying to {} ({tls}{auth}{check})", i.addr)
    }

    /// Reads the upstream's EHLO once (then QUIT), so that the first client is offered
    /// the right set. An unreachable upstream is logged; the conservative set stays until
    /// a session reaches it.
    pub async fn learn_at_start(&self) {
        let i = &self.0;
        match tokio::time::timeout(PROBE_TIME, client::connect(&i.addr, self.options())).await {
            Ok(Ok(conn)) => {
                if let Some(caps) = conn.capabilities() {
                    self.learn(caps, conn.is_verified_tls(), "start");
                }
                conn.quit().await;
            }
            Ok(Err(client::Error::Greeting(_))) => {
                i.log.log(format_args!(
                    "relay: the upstream {} is this server",
                    i.addr
                ));
            }
            Ok(Err(e)) => i.log.log(format_args!(
                "relay: upstream {} unreachable at start ({e}); {}",
                i.addr,
                self.offer()
            )),
            Err(_) => i.log.log(format_args!(
                "relay: upstream {} did not answer at start; {}",
                i.addr,
                self.offer()
            )),
        }
    }

    fn options(&self) -> Options {
        let i = &self.0;
        let mut c = ClientConfig::new(i.hello.clone());
        c.starttls = i.starttls;
        if let Some((user, password)) = &i.login {
            c.auth = Some(AuthConfig::password(user.clone(), password.clone()));
        }
        if let Some(t) = i.reply_timeout {
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
        let token = i.token.clone();
        let mut o = Options::new(c).verify(i.verify.clone());
        o.refuse_greeting = Some(Box::new(move |r: &Reply| {
            r.text_lines().any(|l| l.contains(&token))
        }));
        o
    }

    /// Narrows what new sessions are offered to what these capabilities keep.
    fn learn(&self, caps: &Capabilities, secure: bool, peer: &str) {
        let mut learned = self
            .0
            .learned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let same = learned
            .as_ref()
            .is_some_and(|(c, s)| c == caps && *s == secure);
        if !same {
            *learned = Some((caps.clone(), secure));
            drop(learned);
            let line = self.offer();
            self.0
                .log
                .log(format_args!("{peer}: relay: upstream EHLO read; {line}"));
        }
    }

    /// What is offered now, for the log.
    fn offer(&self) -> String {
        let served = self.0.served.lock().unwrap_or_else(PoisonError::into_inner);
        let base = served.as_deref().cloned().unwrap_or_default();
        drop(served);
        let c = self.narrowed(base);
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

    /// `c` as offered in front of the upstream as known now.
    fn narrowed(&self, mut c: ServerConfig) -> ServerConfig {
        let learned = self
            .0
            .learned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let e = &mut c.extensions;
        let Some((caps, secure)) = learned.as_ref() else {
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
        e.requiretls &= caps.requiretls() && *secure;
        e.mt_priority &= caps.has("MT-PRIORITY");
        // RFC 1870: SIZE 0 or none means no announced limit. Ours leaves room for the
        // fields we add, so that a message we take always fits the next hop.
        if let Some(Some(limit)) = caps.size() {
            let limit = limit.saturating_sub(STAMP_ALLOWANCE);
            let ours = c.limits.message_size;
            c.limits.message_size = Some(ours.map_or(limit, |o| o.min(limit)));
        }
        c
    }
}

impl Handler for Relay {
    type Session = RelaySession;

    fn session(&self, conn: &Connection) -> RelaySession {
        RelaySession {
            relay: self.clone(),
            peer: conn.peer.to_string(),
            up: None,
            txn: None,
            failed: None,
            relayed: 0,
        }
    }

    fn config(&self, server: &Arc<ServerConfig>) -> Arc<ServerConfig> {
        *self.0.served.lock().unwrap_or_else(PoisonError::into_inner) = Some(server.clone());
        let mut c = self.narrowed((**server).clone());
        c.greeting = format!("{} ({})", c.greeting, self.0.token);
        Arc::new(c)
    }
}

/// One incoming session's side of the relay.
pub struct RelaySession {
    relay: Relay,
    peer: String,
    up: Option<client::Connection>,
    txn: Option<MessageId>,
    /// The upstream ended the transaction early: what later steps of it get.
    failed: Option<Reply>,
    relayed: u64,
}

impl std::fmt::Debug for RelaySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelaySession")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl RelaySession {
    fn log(&self, args: std::fmt::Arguments<'_>) {
        self.relay
            .0
            .log
            .log(format_args!("{}: relay: {args}", self.peer));
    }

    /// The upstream session, opened unless one is up; else the reply for the client.
    async fn upstream(&mut self) -> Result<&mut client::Connection, Reply> {
        if self.up.as_ref().is_some_and(|u| u.is_closed()) {
            self.up = None;
        }
        if self.up.is_none() {
            let addr = self.relay.0.addr.clone();
            match client::connect(&addr, self.relay.options()).await {
                Ok(conn) => {
                    if let Some(caps) = conn.capabilities() {
                        self.relay.learn(caps, conn.is_verified_tls(), &self.peer);
                    }
                    self.up = Some(conn);
                }
                Err(e) => {
                    let reply = match &e {
                        client::Error::Greeting(_) => {
                            self.log(format_args!(
                                "the upstream {addr} is this server: mail loop"
                            ));
                            fixed(MAIL_LOOP)
                        }
                        client::Error::Session(err) => failure_of(err),
                        client::Error::Closed(CloseReason::ServiceUnavailable(r)) => temporary(r),
                        _ => unavailable(),
                    };
                    self.log(format_args!("cannot open a session with {addr}: {e}"));
                    return Err(reply);
                }
            }
        }
        self.up.as_mut().ok_or_else(unavailable)
    }

    /// Why the upstream went away, as the client's reply.
    fn lost(&self) -> Reply {
        let Some(up) = self.up.as_ref() else {
            return unavailable();
        };
        match (up.error(), up.close_reason()) {
            (Some(e), _) => failure_of(e),
            (None, Some(CloseReason::ServiceUnavailable(r))) => temporary(r),
            _ => unavailable(),
        }
    }

    /// The client's reply to a transaction the upstream ended.
    fn ended(&mut self, status: &MessageStatus, reply: Option<Reply>) -> Reply {
        self.txn = None;
        match (status, reply) {
            (MessageStatus::NotSent(e), _) => refusal(e),
            (MessageStatus::Aborted, _) => self.lost(),
            (_, Some(r)) => passed_on(r),
            (_, None) => unavailable(),
        }
    }

    /// The `AUTH=` value for the upstream (RFC 4954 5): a mailbox only where this
    /// session's login vouches for it, `<>` otherwise.
    fn auth_param(&self, mail: &Mail, given: Option<MailAuth<'static>>) -> MailAuth<'static> {
        let Some(user) = mail.user.as_deref() else {
            return MailAuth::Unknown;
        };
        let may = |from: &ReversePath<'_>| {
            self.relay
                .0
                .senders
                .as_ref()
                .is_none_or(|v| v.may_send_as(user, from))
        };
        let vouched =
            |addr: &str| Mailbox::parse(addr).is_ok_and(|m| may(&ReversePath::Mailbox(m)));
        let identity = |addr: String| {
            XText::new(addr)
                .map(MailAuth::Identity)
                .unwrap_or(MailAuth::Unknown)
        };
        match given {
            Some(MailAuth::Identity(x)) if vouched(x.as_str()) => MailAuth::Identity(x),
            Some(_) => MailAuth::Unknown,
            None if Mailbox::parse(user).is_ok() => identity(user.to_owned()),
            None => match &mail.from {
                ReversePath::Mailbox(m) if may(&mail.from) => identity(m.to_string()),
                _ => MailAuth::Unknown,
            },
        }
    }

    async fn start(&mut self, mail: &Mail) -> Reply {
        let mut params = mail.params.clone();
        let given = params.auth.take();
        // RFC 1870: the size declared upstream covers what we add.
        params.size = params.size.map(|n| n.saturating_add(STAMP_ALLOWANCE));
        let plain = params.clone();
        let no_param = self.relay.0.no_auth_param.load(Ordering::Relaxed);
        let auth = self.auth_param(mail, given);
        let up = match self.upstream().await {
            Ok(up) => up,
            Err(reply) => return reply,
        };
        let offered = up.capabilities().is_some_and(|c| c.has("AUTH"));
        if offered && !no_param {
            params.auth = Some(auth);
        }
        let mut step = up.mail(mail.from.clone(), params).await;
        if offered && !no_param {
            if let Ok((_, Step::Reply(r))) = &step {
                if r.code().get() == 555 {
                    // RFC 4954 5 makes AUTH= a SHOULD: the MAIL goes again without it.
                    self.log(format_args!(
                        "the upstream refused AUTH= on MAIL ({r}); not sending it again"
                    ));
                    self.relay.0.no_auth_param.store(true, Ordering::Relaxed);
                    if let Some(up) = self.up.as_mut() {
                        step = up.mail(mail.from.clone(), plain).await;
                    }
                }
            }
        }
        match step {
            Ok((id, Step::Reply(r))) => {
                if r.code().is_positive() {
                    self.txn = Some(id);
                }
                passed_on(r)
            }
            Ok((_, Step::Ended { status, reply })) => self.ended(&status, reply),
            Err(e) => {
                self.log(format_args!("cannot start the transaction: {e}"));
                unavailable()
            }
        }
    }

    /// Passes the body through the stamp to the upstream and the copy.
    async fn relay_body(
        &mut self,
        txn: MessageId,
        message: &Message,
        mut body: Body,
    ) -> Result<Option<Reply>, ()> {
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
        let prefix = message
            .received(&id, self.relay.0.name_user)
            .map(|r| r.to_bytes())
            .unwrap_or_default();
        // An MSA adds a missing Message-ID and Date (RFC 6409 8.1, 8.3).
        let mut stamp = Stamp::new(prefix, true, &message.hostname);
        let mut copy = match &self.relay.0.copies {
            Some(f) => match f.create() {
                Ok(d) => Some(d),
                Err(e) => {
                    self.log(format_args!("no copy kept: {e}"));
                    None
                }
            },
            None => None,
        };
        let mut out = Vec::new();
        let mut failed: Option<Reply> = None;
        loop {
            let chunk = match body.chunk().await {
                Ok(c) => c,
                Err(_) => {
                    // The client's message was dropped: so is the upstream's (inside
                    // DATA by closing, the only way, RFC 5321 4.1.1.4).
                    if let Some(up) = self.up.as_mut() {
                        up.abort(txn);
                    }
                    self.txn = None;
                    return Err(());
                }
            };
            out.clear();
            let mut push = |b: &[u8]| -> std::io::Result<()> {
                out.extend_from_slice(b);
                Ok(())
            };
            let _ = match &chunk {
                Some(c) => stamp.chunk(c, &mut push),
                None => stamp.finish(&mut push),
            };
            if let Some(d) = copy.as_mut() {
                if let Err(e) = d.write(&out) {
                    self.log(format_args!("copy dropped: {e}"));
                    copy = None;
                }
            }
            if failed.is_none() && !out.is_empty() {
                let sent = match self.up.as_mut() {
                    Some(up) => up.body_chunk(txn, &out).await,
                    None => Ok(Some(Step::Ended {
                        status: MessageStatus::Aborted,
                        reply: None,
                    })),
                };
                match sent {
                    Ok(None) => {}
                    Ok(Some(Step::Ended { status, reply })) => {
                        failed = Some(self.ended(&status, reply))
                    }
                    Ok(Some(Step::Reply(r))) => failed = Some(passed_on(r)),
                    Err(_) => failed = Some(self.lost()),
                }
            }
            if chunk.is_none() {
                break;
            }
        }
        if failed.is_some() {
            return Ok(failed);
        }
        let cap = self.relay.0.final_timeout;
        let began = Instant::now();
        let end = match self.up.as_mut() {
            Some(up) => up.body_end(txn, Some(cap)).await,
            None => return Ok(Some(unavailable())),
        };
        let reply = match end {
            Ok(Step::Ended {
                status: MessageStatus::Aborted,
                ..
            }) if began.elapsed() >= cap => {
                self.txn = None;
                self.log(format_args!(
                    "no final reply from the upstream within {cap:?}; giving up"
                ));
                fixed(NO_FINAL_REPLY)
            }
            Ok(Step::Ended { status, reply }) => {
                let accepted = status == MessageStatus::Accepted;
                let verdict = self.ended(&status, reply);
                if accepted {
                    self.relayed += 1;
                    if let Some(d) = copy.take() {
                        match tokio::task::spawn_blocking(move || d.commit()).await {
                            Ok(Ok(path)) => {
                                self.log(format_args!("copy kept as {}", path.display()))
                            }
                            Ok(Err(e)) => self.log(format_args!("copy lost: {e}")),
                            Err(e) => self.log(format_args!("copy lost: {e}")),
                        }
                    }
                }
                let first = verdict.lines().first().map(Text::as_str).unwrap_or("");
                self.log(format_args!("message {status:?}: {first}"));
                verdict
            }
            Ok(Step::Reply(r)) => passed_on(r),
            Err(_) => self.lost(),
        };
        Ok(Some(reply))
    }
}

impl Session for RelaySession {
    async fn mail(&mut self, mail: &Mail) -> Decision {
        if let (Some(old), Some(up)) = (self.txn.take(), self.up.as_mut()) {
            up.abort(old);
        }
        self.failed = None;
        Decision::Reply(self.start(mail).await)
    }

    async fn rcpt(&mut self, rcpt: &Rcpt) -> Decision {
        if let Some(failed) = self.failed.clone() {
            return Decision::Reply(failed);
        }
        let (Some(txn), Some(up)) = (self.txn, self.up.as_mut()) else {
            return Decision::Reply(unavailable());
        };
        let dsn = rcpt.params.notify.is_some() || rcpt.params.orcpt.is_some();
        if dsn && !up.capabilities().is_some_and(|c| c.dsn()) {
            return Decision::reply("555 5.5.4 DSN parameters are not supported by the next hop");
        }
        let step = up.rcpt(txn, rcpt.to.clone(), rcpt.params.clone()).await;
        Decision::Reply(match step {
            Ok(Step::Reply(r)) => passed_on(r),
            Ok(Step::Ended { status, reply }) => {
                let r = self.ended(&status, reply);
                self.failed = Some(r.clone());
                r
            }
            Err(_) => unavailable(),
        })
    }

    async fn message(&mut self, message: &Message, mut body: Body) -> Decision {
        let failed = self.failed.clone();
        let txn = self.txn.filter(|_| failed.is_none());
        let Some(txn) = txn else {
            while let Ok(Some(_)) = body.chunk().await {}
            return Decision::Reply(failed.unwrap_or_else(unavailable));
        };
        match self.relay_body(txn, message, body).await {
            Ok(Some(r)) => Decision::Reply(r),
            Ok(None) => Decision::Reply(unavailable()),
            Err(()) => Decision::Accept, // aborted: the client gets no reply for it
        }
    }

    async fn reset(&mut self) {
        if let (Some(txn), Some(up)) = (self.txn.take(), self.up.as_mut()) {
            up.abort(txn);
        }
        self.failed = None;
    }

    fn closed(&mut self, _reason: &smtp_sansio::server::CloseReason) {
        if self.relayed > 0 {
            self.log(format_args!("{} message(s) relayed", self.relayed));
        }
        // Dropping the upstream session says QUIT from a task of its own.
        self.up = None;
    }
}

/// An upstream reply as the client's. `421` means the upstream is closing its own
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

/// `451 4.4.1`: the upstream could not be reached or was lost (RFC 3463).
fn unavailable() -> Reply {
    fixed("451 4.4.1 Next hop unavailable, try again later")
}

/// A session-level upstream failure: a refusal of the session keeps its class (a 5yz
/// greeting, EHLO, STARTTLS or AUTH answer will not change by retrying); anything else
/// (lost connection, timeouts, a failed handshake) is `451 4.4.1`.
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

/// The client's reply to a parameter the upstream cannot take (see the module docs).
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

/// A fixed reply in wire form (each is checked by a test).
fn fixed(s: &str) -> Reply {
    crate::fixed_reply(s)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reply the relay makes up is what it says (not `fixed_reply`'s bare 451).
    #[test]
    fn every_relay_reply_parses_as_written() {
        let mut all = vec![
            (fixed(MAIL_LOOP), MAIL_LOOP),
            (fixed(NO_FINAL_REPLY), NO_FINAL_REPLY),
            (unavailable(), "451 4.4.1"),
        ];
        for (e, start) in [
            (MessageError::SmtpUtf8NotOffered, "553 5.6.7"),
            (MessageError::EightBitMimeNotOffered, "554 5.6.3"),
            (MessageError::BinaryMimeNotOffered, "554 5.6.3"),
            (MessageError::DsnNotOffered, "555 5.5.4"),
            (MessageError::RequireTlsUnavailable, "550 5.7.30"),
        ] {
            all.push((refusal(&e), start));
        }
        for (reply, start) in all {
            assert!(reply.to_string().starts_with(start), "{reply} / {start}");
        }
    }

    /// RFC 5321 3.8: a 421 from the next hop closes its connection, not ours.
    #[test]
    fn upstream_421_becomes_451_with_the_next_hops_text() {
        let r: Reply = "421 4.3.2 shutting down".parse().unwrap();
        let passed = passed_on(r);
        assert_eq!(passed.to_string(), "451 4.3.2 Next hop: 421 shutting down");
    }
}
