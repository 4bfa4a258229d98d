//! Client configuration: what to say in EHLO, the TLS and AUTH policies, limits, timers.

use std::borrow::Cow;
use std::time::Duration;

use super::ClientError;
use crate::types::{Domain, Host, Mechanism, Secret};

/// When to upgrade the connection with STARTTLS (RFC 3207).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StartTlsPolicy {
    /// STARTTLS must succeed; if the server does not offer it or refuses it, the session
    /// ends with an error and nothing else is sent (no mail goes out in clear).
    Required,
    /// Use STARTTLS when offered; go on in clear when it is not offered or refused with
    /// `454` (RFC 3207 4: the client decides whether to continue).
    #[default]
    Opportunistic,
    /// Never send STARTTLS (e.g. the transport is already TLS, "implicit TLS" of
    /// RFC 8314, or a local LMTP socket).
    Never,
}

/// Credentials for SMTP AUTH (RFC 4954).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// User name and password, for `PLAIN` (RFC 4616) and `LOGIN`.
    Password {
        /// Authorization identity to act as (PLAIN only); `None` for the usual case.
        authzid: Option<String>,
        /// Authentication identity (the login name).
        username: String,
        /// The password.
        password: Secret<String>,
    },
    /// An OAuth 2.0 bearer token, for `OAUTHBEARER` (RFC 7628) and `XOAUTH2`.
    Bearer {
        /// The user the token belongs to.
        user: String,
        /// The access token.
        token: Secret<String>,
    },
    /// Any mechanism driven by the application: every `334` challenge becomes a
    /// [`Event::SaslChallenge`](super::Event::SaslChallenge) that the
    /// application answers with [`Client::sasl_respond`](super::Client::sasl_respond).
    Custom {
        /// The initial response (raw, the machine base64-encodes it), if the mechanism
        /// has one (RFC 4422 3.3).
        initial_response: Option<Secret<Vec<u8>>>,
    },
}

/// How to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The credentials.
    pub credentials: Credentials,
    /// Mechanisms the client may use, most preferred first; the first one the server also
    /// offers (and that suits the credentials) is used.
    pub mechanisms: Vec<Mechanism<'static>>,
    /// Send credentials over a connection without TLS. Default `false`: RFC 4954 4 and
    /// RFC 8314 ask clients not to expose passwords in clear.
    pub allow_plaintext_without_tls: bool,
}

impl AuthConfig {
    /// Password credentials; `PLAIN` preferred (one round trip), then `LOGIN`.
    pub fn password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            credentials: Credentials::Password {
                authzid: None,
                username: username.into(),
                password: Secret::new(password.into()),
            },
            mechanisms: vec![Mechanism::PLAIN, Mechanism::LOGIN],
            allow_plaintext_without_tls: false,
        }
    }

    /// A bearer token; `OAUTHBEARER` (the standard, RFC 7628) preferred, then `XOAUTH2`.
    pub fn bearer(user: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            credentials: Credentials::Bearer {
                user: user.into(),
                token: Secret::new(token.into()),
            },
            mechanisms: vec![Mechanism::OAUTHBEARER, Mechanism::XOAUTH2],
            allow_plaintext_without_tls: false,
        }
    }

    /// An application-driven mechanism.
    pub fn custom(
        mechanism: Mechanism<'static>,
        initial_response: Option<Secret<Vec<u8>>>,
    ) -> Self {
        Self {
            credentials: Credentials::Custom { initial_response },
            mechanisms: vec![mechanism],
            allow_plaintext_without_tls: false,
        }
    }
}

/// How long to wait for each reply (RFC 5321 4.5.3.2). The client never reads a clock:
/// these are turned into deadlines from the `now` passed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientTimeouts {
    /// The `220` greeting: 5 minutes (4.5.3.2.1).
    pub greeting: Duration,
    /// The reply to MAIL: 5 minutes (4.5.3.2.2).
    pub mail: Duration,
    /// The reply to each RCPT: 5 minutes (4.5.3.2.3).
    pub rcpt: Duration,
    /// The `354` to DATA: 2 minutes (4.5.3.2.4).
    pub data_init: Duration,
    /// Between blocks of the body (and each BDAT chunk's reply): 3 minutes (4.5.3.2.5).
    pub data_block: Duration,
    /// The reply after the end of data: 10 minutes (4.5.3.2.6), as the server may be
    /// busy delivering before it answers.
    pub data_term: Duration,
    /// Anything else (EHLO, STARTTLS, AUTH, RSET, QUIT): 5 minutes, matching the
    /// server's own idle timer of 4.5.3.2.7.
    pub other: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        const MIN: u64 = 60;
        Self {
            greeting: Duration::from_secs(5 * MIN),
            mail: Duration::from_secs(5 * MIN),
            rcpt: Duration::from_secs(5 * MIN),
            data_init: Duration::from_secs(2 * MIN),
            data_block: Duration::from_secs(3 * MIN),
            data_term: Duration::from_secs(10 * MIN),
            other: Duration::from_secs(5 * MIN),
        }
    }
}

/// Everything the client machine needs to know before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// What EHLO/HELO/LHLO sends: the client's FQDN or an address literal
    /// (RFC 5321 4.1.4). Default `localhost`, which applications should replace. A
    /// domain must be in A-labels (RFC 6531 3.7.1): a U-label fails the session with
    /// [`ClientError::HelloNameNotAscii`] instead of going on the wire (check early with
    /// [`ClientConfig::validate`]).
    pub hello_host: Host<'static>,
    /// Speak LMTP (RFC 2033): `LHLO`, no HELO fallback, one reply per recipient after
    /// the message. Default `false`.
    pub lmtp: bool,
    /// STARTTLS policy. Default opportunistic (RFC 3207 leaves the choice to the client;
    /// [`StartTlsPolicy::Required`] is the choice for submission, RFC 8314).
    pub starttls: StartTlsPolicy,
    /// Authentication, if any. Default none (relaying MTA).
    pub auth: Option<AuthConfig>,
    /// Batch MAIL, RCPT... and DATA when PIPELINING is offered (RFC 2920). Default `true`.
    pub use_pipelining: bool,
    /// Send the body with BDAT when CHUNKING is offered (RFC 3030). Default `false`: DATA
    /// is understood everywhere; BDAT is used anyway for a `BODY=BINARYMIME` message.
    pub use_chunking: bool,
    /// Largest BDAT chunk. Default 64 KiB, a size every server buffers easily.
    pub bdat_chunk_size: usize,
    /// Longest reply line accepted, CRLF included. RFC 5321 4.5.3.1.5 says 512, but
    /// servers exceed it (long EHLO lines, verbose rejections): default 4096.
    pub max_reply_line: usize,
    /// Most lines in one reply. Default 256, far above any real EHLO reply, and a bound
    /// on memory whatever the server sends.
    pub max_reply_lines: usize,
    /// Reply timers.
    pub timeouts: ClientTimeouts,
}

impl ClientConfig {
    /// The defaults with the given EHLO host.
    pub fn new(hello_host: Host<'static>) -> Self {
        Self {
            hello_host,
            ..Self::default()
        }
    }

    /// Checks what a session would refuse later: today, a hello name that is not all
    /// A-labels ([`ClientError::HelloNameNotAscii`]). [`Client::new`](super::Client::new)
    /// takes any configuration; calling this first lets an application report the
    /// mistake before it connects.
    pub fn validate(&self) -> Result<(), ClientError> {
        super::rules::check_hello_name(&self.hello_host)
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            hello_host: Host::Domain(Domain::from_parsed(Cow::Borrowed("localhost"))),
            lmtp: false,
            starttls: StartTlsPolicy::default(),
            auth: None,
            use_pipelining: true,
            use_chunking: false,
            bdat_chunk_size: 64 * 1024,
            max_reply_line: 4096,
            max_reply_lines: 256,
            timeouts: ClientTimeouts::default(),
        }
    }
}
