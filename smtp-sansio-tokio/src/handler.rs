//! What an application writes: a [`Handler`] that makes one [`Session`] per connection,
//! whose methods decide each step of the dialogue.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use smtp_sansio::server::{AbortReason, CloseReason, HelloKind, MessageStart, ServerConfig};
use smtp_sansio::trace::{DateTime, Received};
use smtp_sansio::types::{
    ForwardPath, Host, MailParams, Mechanism, RcptParams, Reply, ReversePath,
};

use crate::body::Body;
use crate::tls::TlsInfo;

/// The answer to one step: accept with the standard reply, or this reply (2xx accepts
/// with its text, 4xx/5xx refuses). 3xx replies are the machine's own business.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// The standard positive reply (`250 2.1.0`, `235 2.7.0`, the EHLO list...).
    Accept,
    /// This reply.
    Reply(Reply),
    /// LMTP only, for a message: one reply per accepted recipient, in order (RFC 2033
    /// 4.2).
    Each(Vec<Reply>),
}

impl Decision {
    /// A reply from its wire form, such as `"550 5.1.1 No such user"`. A string that is
    /// not a valid reply becomes `451 4.3.0` (and the mistake shows in the log).
    pub fn reply(text: &str) -> Self {
        match text.parse() {
            Ok(r) => Decision::Reply(r),
            Err(_) => Decision::Reply(crate::fixed_reply(crate::replies::BAD_DECISION)),
        }
    }

    /// True for [`Decision::Accept`] and 2xx replies.
    pub fn is_accept(&self) -> bool {
        match self {
            Decision::Accept => true,
            Decision::Reply(r) => r.code().is_positive(),
            Decision::Each(replies) => replies.iter().any(|r| r.code().is_positive()),
        }
    }
}

/// Creates the per-connection state of a server (as go-smtp's `Backend`): shared by
/// every connection, so it holds what they share (a Maildir, a user table...).
pub trait Handler: Send + Sync + 'static {
    /// The per-connection state.
    type Session: Session;

    /// A new connection was accepted (before the greeting).
    fn session(&self, conn: &Connection) -> Self::Session;

    /// The configuration a connection accepted now runs under, given the server's: a
    /// handler whose offer changes at run time (a relay following its next hop's EHLO)
    /// returns its own. Called once per connection, before the greeting.
    fn config(&self, server: &Arc<ServerConfig>) -> Arc<ServerConfig> {
        server.clone()
    }
}

/// One connection's decisions (as go-smtp's `Session` or aiosmtpd's handler hooks).
/// Every method has a default that accepts; the run loop calls them in protocol order
/// and never two at once.
pub trait Session: Send + 'static {
    /// EHLO, HELO or LHLO. A 2xx reply is not allowed here (accept lists extensions).
    fn hello(&mut self, hello: &Hello) -> impl Future<Output = Decision> + Send {
        let _ = hello;
        std::future::ready(Decision::Accept)
    }

    /// AUTH PLAIN or LOGIN, after the server's [`PasswordVerifier`](crate::PasswordVerifier)
    /// (if any) has judged the credentials. The default follows that judgement: accept
    /// when [`Login::verified`], else `535 5.7.8`. Accepting without a verifier accepts
    /// any password; override only to decide yourself.
    fn auth(&mut self, login: &Login) -> impl Future<Output = Decision> + Send {
        let decision = match login.verified {
            true => Decision::Accept,
            false => Decision::Reply(crate::fixed_reply(crate::replies::AUTH_FAILED)),
        };
        std::future::ready(decision)
    }

    /// The session now runs over TLS (after STARTTLS, or at once with implicit TLS).
    fn tls(&mut self, tls: &TlsInfo) {
        let _ = tls;
    }

    /// MAIL FROM, already checked for syntax, sequence, parameters, and (with a
    /// verifier) the authenticated user's right to the sender.
    fn mail(&mut self, mail: &Mail) -> impl Future<Output = Decision> + Send {
        let _ = mail;
        std::future::ready(Decision::Accept)
    }

    /// RCPT TO, already checked for syntax, sequence, limits and parameters.
    fn rcpt(&mut self, rcpt: &Rcpt) -> impl Future<Output = Decision> + Send {
        let _ = rcpt;
        std::future::ready(Decision::Accept)
    }

    /// One message: its facts, and its body as a stream of chunks that arrive while
    /// this future runs (the crate never holds the body whole: it stops reading the
    /// client while chunks wait). The decision is the message's final reply, sent only
    /// once the body is complete: return [`Decision::Accept`] only once the message is
    /// safely stored (RFC 5321 6.1). If the client's message is aborted, the body
    /// yields an error, and this future may be dropped: clean up in `Drop`.
    ///
    /// The default reads the body to its end and accepts (a discarding sink).
    fn message(
        &mut self,
        message: &Message,
        mut body: Body,
    ) -> impl Future<Output = Decision> + Send {
        let _ = message;
        async move {
            while let Ok(Some(_)) = body.chunk().await {}
            Decision::Accept
        }
    }

    /// The transaction is over: a message was answered or aborted, or a new MAIL (after
    /// RSET, EHLO or a failed transaction) starts another one. Forget its state.
    fn reset(&mut self) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    /// The connection is over.
    fn closed(&mut self, reason: &CloseReason) {
        let _ = reason;
    }
}

/// A connection as its session is created.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Connection {
    /// The client's address.
    pub peer: SocketAddr,
    /// The listener's address.
    pub local: SocketAddr,
    /// True on an implicit-TLS listener (the session starts with the handshake).
    pub implicit_tls: bool,
}

/// EHLO/HELO/LHLO.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Hello {
    /// Which verb.
    pub kind: HelloKind,
    /// The name the client gave.
    pub host: Host<'static>,
}

/// AUTH PLAIN or LOGIN credentials. `Debug` hides the password.
#[derive(Debug)]
#[non_exhaustive]
pub struct Login {
    /// `PLAIN` or `LOGIN`.
    pub mechanism: Mechanism<'static>,
    /// The user name.
    pub user: String,
    /// The password.
    pub password: smtp_sansio::types::Secret<String>,
    /// True when the server's verifier accepted the password (false without one).
    pub verified: bool,
}

/// MAIL FROM.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Mail {
    /// The reverse path.
    pub from: ReversePath<'static>,
    /// The parameters, validated against the extensions offered.
    pub params: MailParams<'static>,
    /// The authenticated user, if any.
    pub user: Option<String>,
}

/// RCPT TO.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rcpt {
    /// The forward path (`<Postmaster>` must be accepted, RFC 5321 4.5.1).
    pub to: ForwardPath<'static>,
    /// The parameters, validated against the extensions offered.
    pub params: RcptParams<'static>,
}

/// A message's facts: the machine's [`MessageStart`] and what only the transport knows,
/// which together make its trace fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Message {
    /// The session and transaction facts (sender, recipients, hello name, TLS, AUTH).
    pub start: MessageStart,
    /// This server's name (the configuration's hostname), for `by` and Message-IDs.
    pub hostname: String,
    /// The client's address.
    pub peer: SocketAddr,
    /// TLS version and cipher, when the session runs over TLS.
    pub tls: Option<TlsInfo>,
    /// The authenticated user, if any.
    pub user: Option<String>,
}

impl Message {
    /// The facts of a message received from `peer` by `hostname` (for a run loop of
    /// one's own; the crate's builds them itself). Add TLS and the user with the fields.
    pub fn new(start: MessageStart, hostname: &str, peer: SocketAddr) -> Self {
        Self {
            start,
            hostname: hostname.to_owned(),
            peer,
            tls: None,
            user: None,
        }
    }

    /// With the session's TLS facts.
    pub fn with_tls(mut self, tls: Option<TlsInfo>) -> Self {
        self.tls = tls;
        self
    }

    /// With the authenticated user.
    pub fn with_user(mut self, user: Option<String>) -> Self {
        self.user = user;
        self
    }

    /// Our `Received:` field for this message (RFC 5321 4.4): the facts of
    /// [`MessageStart::received`], the client's address, TLS version and cipher, `id`, and
    /// the user when `name_user` (RFC 4954 leaves naming it to the operator). Dated now;
    /// `None` only if no date can be written (a clock past the year 9999 and no epoch).
    pub fn received(&self, id: &str, name_user: bool) -> Option<Received> {
        // The clock can only fail beyond year 9999; the epoch is then the honest fallback.
        let date = DateTime::from_system_time(SystemTime::now(), 0)
            .or_else(|_| DateTime::from_unix(0, 0))
            .ok()?;
        let mut r = self.start.received(&self.hostname, date);
        r = r.id(id).peer(self.peer.ip());
        if let Some(tls) = self.tls.as_ref().filter(|_| self.start.tls) {
            r = r.tls(&tls.version, &tls.cipher);
        }
        if let Some(user) = self.user.as_deref().filter(|_| name_user) {
            r = r.authenticated_as(user);
        }
        Some(r)
    }
}

/// Why a body ended before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyError {
    /// The machine dropped the message (too big, bare line ending, reset, hops...).
    Aborted(AbortReason),
    /// The session ended (connection lost, timeout, shutdown).
    Lost,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Aborted(r) => write!(f, "message aborted: {r:?}"),
            BodyError::Lost => f.write_str("message lost with the connection"),
        }
    }
}

impl std::error::Error for BodyError {}
