#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
pub mod blocking;
mod body;
pub mod client;
mod compose;
pub mod config;
mod handler;
pub mod hostname;
mod log;
pub mod maildir;
pub mod relay;
mod server;
mod session;
pub mod stamp;
mod tls;

pub use auth::{Credentials, CredentialsError, PasswordVerifier};
pub use body::{BODY_CHANNEL, Body, BodySender, body_channel};
pub use compose::{Discard, DiscardSession, Tee, TeeSession};
pub use handler::{
    BodyError, Connection, Decision, Handler, Hello, Login, Mail, Message, Rcpt, Session,
};
pub use log::{Logger, SessionLog, Transcript};
pub use maildir::Maildir;
pub use relay::{Relay, RelaySession};
pub use server::{
    DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_SESSIONS, DEFAULT_WRITE_TIMEOUT, Server, ServerBuilder,
    ShutdownHandle, TOO_MANY_SESSIONS, threads_beside_clients,
};
pub use tls::{BlockingTls, TlsError, TlsIdentity, TlsInfo, fingerprint};

/// The core crate, whose configuration, events and types this one drives.
pub use smtp_sansio;

use smtp_sansio::types::{Reply, ReplyCode};

/// The crate's own replies, in wire form (checked by a test).
pub(crate) mod replies {
    pub const AUTH_FAILED: &str = "535 5.7.8 Authentication credentials invalid";
    pub const SENDER_NOT_ALLOWED: &str = "553 5.7.1 Sender address not allowed";
    pub const NOT_STORED: &str = "451 4.3.0 Cannot store message, try again later";
    pub const BAD_DECISION: &str = "451 4.3.0 Local error in processing";
    #[cfg(test)]
    pub const ALL: [&str; 4] = [AUTH_FAILED, SENDER_NOT_ALLOWED, NOT_STORED, BAD_DECISION];
}

/// One of [`replies`]; a bare `451` if a constant were ever malformed.
pub(crate) fn fixed_reply(text: &str) -> Reply {
    text.parse()
        .unwrap_or_else(|_| Reply::from_lines(ReplyCode::LOCAL_ERROR, []))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_fixed_reply_parses() {
        for r in super::replies::ALL {
            assert!(r.parse::<smtp_sansio::types::Reply>().is_ok(), "{r}");
        }
    }
}
