//! Handlers made of others: [`Discard`] for load tests, [`Tee`] to give every message to
//! two handlers.

use crate::body::{BODY_CHANNEL, Body, body_channel};
use crate::handler::{Connection, Decision, Handler, Hello, Login, Mail, Message, Rcpt, Session};
use crate::tls::TlsInfo;
use std::sync::Arc;

use smtp_sansio::server::{CloseReason, ServerConfig};

/// Accepts everything and drops every message once read (load tests, sinks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

/// [`Discard`]'s session: every default of [`Session`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardSession;

impl Session for DiscardSession {}

impl Handler for Discard {
    type Session = DiscardSession;

    fn session(&self, _conn: &Connection) -> DiscardSession {
        DiscardSession
    }
}

/// Two handlers in one: every step goes to the first, then (if it accepted) to the
/// second, and the first refusal is the answer. Each message's body goes to both at
/// once (neither holds it whole), and its reply is the first's unless that accepted,
/// then the second's: `Tee::new(Maildir::open(..)?, my_checker)`.
#[derive(Debug, Clone)]
pub struct Tee<A, B> {
    first: A,
    second: B,
}

impl<A, B> Tee<A, B> {
    /// `first`, then `second`.
    pub fn new(first: A, second: B) -> Self {
        Self { first, second }
    }
}

/// A [`Tee`]'s session.
#[derive(Debug)]
pub struct TeeSession<A, B> {
    first: A,
    second: B,
}

impl<A: Handler, B: Handler> Handler for Tee<A, B> {
    type Session = TeeSession<A::Session, B::Session>;

    fn session(&self, conn: &Connection) -> Self::Session {
        TeeSession {
            first: self.first.session(conn),
            second: self.second.session(conn),
        }
    }

    fn config(&self, server: &Arc<ServerConfig>) -> Arc<ServerConfig> {
        self.second.config(&self.first.config(server))
    }
}

impl<A: Session, B: Session> Session for TeeSession<A, B> {
    async fn hello(&mut self, hello: &Hello) -> Decision {
        match self.first.hello(hello).await {
            Decision::Accept => self.second.hello(hello).await,
            no => no,
        }
    }

    async fn auth(&mut self, login: &Login) -> Decision {
        match self.first.auth(login).await {
            d if d.is_accept() => self.second.auth(login).await,
            no => no,
        }
    }

    fn tls(&mut self, tls: &TlsInfo) {
        self.first.tls(tls);
        self.second.tls(tls);
    }

    async fn mail(&mut self, mail: &Mail) -> Decision {
        match self.first.mail(mail).await {
            d if d.is_accept() => self.second.mail(mail).await,
            no => no,
        }
    }

    async fn rcpt(&mut self, rcpt: &Rcpt) -> Decision {
        match self.first.rcpt(rcpt).await {
            d if d.is_accept() => self.second.rcpt(rcpt).await,
            no => no,
        }
    }

    async fn message(&mut self, message: &Message, mut body: Body) -> Decision {
        let (to_first, first_body) = body_channel(BODY_CHANNEL);
        let (to_second, second_body) = body_channel(BODY_CHANNEL);
        let pump = async move {
            let end = loop {
                match body.chunk().await {
                    Ok(Some(chunk)) => {
                        let _ = to_first.send(chunk.clone()).await;
                        let _ = to_second.send(chunk).await;
                    }
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            to_first.finish(end);
            to_second.finish(end);
        };
        let (a, b, ()) = tokio::join!(
            self.first.message(message, first_body),
            self.second.message(message, second_body),
            pump
        );
        if a.is_accept() { b } else { a }
    }

    async fn reset(&mut self) {
        self.first.reset().await;
        self.second.reset().await;
    }

    fn closed(&mut self, reason: &CloseReason) {
        self.first.closed(reason);
        self.second.closed(reason);
    }
}
