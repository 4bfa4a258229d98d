//! The application's half of a session, shared by the example servers: it answers the
//! machine's tickets (every address is accepted, AUTH is checked against `--user`, bodies
//! go to the Maildir behind our trace fields, see [`Policy::trace_prefix`]) and writes
//! the log. It does no I/O on the connection, so a blocking
//! and an async run loop use it alike; only storing a message may block, and the run loop
//! decides where that happens (see [`Store`]).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use smtp_sansio::server::{Event, MessageStart, Server, Ticket};
use smtp_sansio::types::Reply;
use smtp_sansio_tokio::maildir::final_delivery_fields;
use smtp_sansio_tokio::{Logger, Message, PasswordVerifier, TlsInfo, Transcript};

use crate::maildir::{Delivery, Maildir};
use crate::stamp::Stamp;
use crate::users::Users;

/// One connection's application state.
#[derive(Debug)]
pub struct Policy {
    peer: String,
    started: Instant,
    /// `None` with `--discard`.
    maildir: Option<Maildir>,
    users: Arc<Users>,
    delivery: Option<Delivery>,
    user: Option<String>,
    messages: u64,
    transcript: Option<Transcript>,
    trace: TraceOptions,
    facts: Facts,
    /// The rewrite of the message being stored.
    stamp: Option<Stamp>,
}

/// What the operator chose about the fields added to stored messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    /// `--received-auth`: name the authenticated user in `Received:`.
    pub received_auth: bool,
    /// `--add-missing-headers`: add `Message-ID:` and `Date:` when missing even without
    /// `--user` (with `--user` it is on anyway: an MSA, RFC 6409 8.1, 8.3).
    pub add_missing_headers: bool,
}

/// What only the transport knows, for the trace fields; the machine tells the rest in
/// `Event::MessageStart`.
#[derive(Debug)]
struct Facts {
    peer: SocketAddr,
    tls: Option<TlsInfo>,
}

/// A message whose body is complete and whose final reply waits until it is on disk.
/// [`Store::run`] blocks (fsync, rename): call it where blocking is allowed, then hand
/// the result to [`Policy::stored`].
#[derive(Debug)]
#[must_use = "the client waits for the message's final reply"]
pub struct Store {
    ticket: Ticket,
    delivery: Option<Delivery>,
    discard: bool,
    size: u64,
    recipients: usize,
}

/// The outcome of [`Store::run`].
#[derive(Debug)]
pub struct Stored {
    ticket: Ticket,
    result: io::Result<Option<PathBuf>>,
    size: u64,
    recipients: usize,
}

impl Store {
    /// True when [`Store::run`] touches the disk (false when discarding).
    #[allow(dead_code)] // the blocking server always runs it in place
    pub fn blocks(&self) -> bool {
        !self.discard
    }

    /// Syncs the message file and renames it into `new/` (Maildir delivery).
    pub fn run(self) -> Stored {
        let result = match (self.discard, self.delivery) {
            (true, _) => Ok(None),
            (false, Some(d)) => d.commit().map(Some),
            (false, None) => Err(io::Error::other("message file could not be written")),
        };
        Stored {
            ticket: self.ticket,
            result,
            size: self.size,
            recipients: self.recipients,
        }
    }
}

impl Policy {
    pub fn new(peer: &str, maildir: Option<Maildir>, users: Arc<Users>, verbose: bool) -> Self {
        Self {
            peer: peer.to_owned(),
            started: Instant::now(),
            maildir,
            users,
            delivery: None,
            user: None,
            messages: 0,
            transcript: verbose.then(|| Transcript::new(peer, Logger::stderr())),
            trace: TraceOptions::default(),
            facts: Facts {
                // An accepted socket whose address cannot be read is already gone: no
                // message will come from it.
                peer: peer.parse().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0))),
                tls: None,
            },
            stamp: None,
        }
    }

    /// Sets the operator's choices about added fields.
    pub fn with_trace(mut self, trace: TraceOptions) -> Self {
        self.trace = trace;
        self
    }

    /// Tells the policy that the session now runs over TLS, with these facts (for the
    /// `tls` clause of `Received:`, RFC 8314 4.3).
    pub fn tls_established(&mut self, tls: Option<TlsInfo>) {
        self.facts.tls = tls;
    }

    /// The fields written before a message delivered into the Maildir: the runtime
    /// crate's final-delivery fields (`Return-Path:`, one `Delivered-To:` per recipient,
    /// then our `Received:` with the file's unique name as id).
    pub fn trace_prefix(&self, start: MessageStart, by: &str, id: &str) -> Vec<u8> {
        let message = Message::new(start, by, self.facts.peer)
            .with_tls(self.facts.tls.clone())
            .with_user(self.user.clone());
        final_delivery_fields(&message, id, self.trace.received_auth)
    }

    /// Whether `Message-ID:` and `Date:` are added when missing: with `--user` (an MSA,
    /// RFC 6409 8.1, 8.3) or `--add-missing-headers`.
    fn add_missing(&self) -> bool {
        self.trace.add_missing_headers || !self.users.is_empty()
    }

    /// Logs bytes read from the client (with `--verbose`).
    pub fn trace_in(&mut self, bytes: &[u8]) {
        if let Some(t) = self.transcript.as_mut() {
            t.client(bytes);
        }
    }

    /// Logs bytes written to the client (with `--verbose`).
    pub fn trace_out(&mut self, bytes: &[u8]) {
        if let Some(t) = self.transcript.as_mut() {
            t.server(bytes);
        }
    }

    /// Answers one event. `Event::StartTls` belongs to the transport and is ignored here.
    /// Returns the message to store when the event was `MessageEnd`.
    pub fn on_event(&mut self, server: &mut Server, event: Event) -> Option<Store> {
        let answered = match event {
            Event::Hello(h) => server.accept(Instant::now(), h.ticket).map_err(|e| e.kind),
            // RFC 6409 6.1: an account bound to addresses sends only as them.
            Event::Mail(m) => match self.users.sender_refusal(self.user.as_deref(), &m.from) {
                Some(no) => server
                    .respond(Instant::now(), m.ticket, no)
                    .map_err(|e| e.kind),
                None => server.accept(Instant::now(), m.ticket).map_err(|e| e.kind),
            },
            Event::Rcpt(r) => server.accept(Instant::now(), r.ticket).map_err(|e| e.kind),
            Event::Vrfy(v) => server.accept(Instant::now(), v.ticket).map_err(|e| e.kind),
            Event::MessageStart(start) => {
                self.delivery = match self.maildir.as_ref().map(Maildir::create) {
                    Some(Ok(d)) => Some(d),
                    Some(Err(e)) => {
                        log(format_args!(
                            "{}: cannot create message file: {e}",
                            self.peer
                        ));
                        None
                    }
                    None => None,
                };
                self.stamp = self.delivery.as_ref().map(|d| {
                    let prefix = self.trace_prefix(start, &server.config().hostname, d.unique());
                    Stamp::new(prefix, self.add_missing(), &server.config().hostname)
                });
                Ok(())
            }
            Event::MessageChunk(chunk) => {
                if let (Some(d), Some(stamp)) = (self.delivery.as_mut(), self.stamp.as_mut()) {
                    if let Err(e) = stamp.chunk(&chunk, &mut |b| d.write(b)) {
                        log(format_args!(
                            "{}: cannot write message file: {e}",
                            self.peer
                        ));
                        self.delivery = None;
                    }
                }
                Ok(())
            }
            Event::MessageEnd(end) => {
                if let (Some(d), Some(stamp)) = (self.delivery.as_mut(), self.stamp.as_mut()) {
                    if let Err(e) = stamp.finish(&mut |b| d.write(b)) {
                        log(format_args!(
                            "{}: cannot write message file: {e}",
                            self.peer
                        ));
                        self.delivery = None;
                    }
                }
                self.stamp = None;
                return Some(Store {
                    ticket: end.ticket,
                    delivery: self.delivery.take(),
                    discard: self.maildir.is_none(),
                    size: end.size,
                    recipients: end.recipients.len(),
                });
            }
            Event::MessageAborted(reason) => {
                // Dropping the delivery removes its file from tmp/.
                self.delivery = None;
                self.stamp = None;
                log(format_args!("{}: message dropped: {reason:?}", self.peer));
                Ok(())
            }
            Event::Auth(a) => {
                // A PLAIN authorization identity other than the user's own would be a
                // request to act for someone else (RFC 4616 2); this server has no such
                // rights to grant.
                let own = a
                    .authzid
                    .as_deref()
                    .is_none_or(|z| z.is_empty() || z == a.authcid);
                if own && self.users.check(&a.authcid, a.password.expose()) {
                    log(format_args!(
                        "{}: authenticated as {} ({})",
                        self.peer, a.authcid, a.mechanism
                    ));
                    self.user = Some(a.authcid);
                    server.accept(Instant::now(), a.ticket).map_err(|e| e.kind)
                } else {
                    log(format_args!(
                        "{}: AUTH {} failed for {:?}",
                        self.peer, a.mechanism, a.authcid
                    ));
                    let no = reply("535 5.7.8 Authentication credentials invalid");
                    server
                        .respond(Instant::now(), a.ticket, no)
                        .map_err(|e| e.kind)
                }
            }
            // Only PLAIN and LOGIN are offered, and the machine decodes those itself.
            Event::SaslStep(s) => {
                let no = reply("504 5.5.4 Unrecognized authentication type");
                server
                    .respond(Instant::now(), s.ticket, no)
                    .map_err(|e| e.kind)
            }
            Event::Violation(v) => {
                log(format_args!("{}: peer violation: {v:?}", self.peer));
                Ok(())
            }
            Event::Closed(reason) => {
                log(format_args!(
                    "{}: closed ({reason:?}) after {:.1?}, {} message(s){}{}",
                    self.peer,
                    self.started.elapsed(),
                    self.messages,
                    if server.is_tls() { ", TLS" } else { "" },
                    self.user
                        .as_deref()
                        .map(|u| format!(", user {u}"))
                        .unwrap_or_default(),
                ));
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(kind) = answered {
            log(format_args!(
                "{}: internal error answering an event: {kind}",
                self.peer
            ));
        }
        None
    }

    /// Gives the final reply to a stored (or failed) message: `250` only now that it is
    /// on disk (RFC 5321 6.1), `451` when it is not.
    pub fn stored(&mut self, server: &mut Server, stored: Stored) {
        let answered = match stored.result {
            Ok(path) => {
                self.messages += 1;
                let name = path
                    .as_ref()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned());
                log(format_args!(
                    "{}: message of {} octets for {} recipient(s){} stored as {}",
                    self.peer,
                    stored.size,
                    stored.recipients,
                    self.user
                        .as_deref()
                        .map(|u| format!(" from {u}"))
                        .unwrap_or_default(),
                    name.as_deref().unwrap_or("(discarded)")
                ));
                server
                    .accept(Instant::now(), stored.ticket)
                    .map_err(|e| e.kind)
            }
            Err(e) => {
                log(format_args!(
                    "{}: message of {} octets NOT stored: {e}",
                    self.peer, stored.size
                ));
                let later = reply("451 4.3.0 Cannot store message, try again later");
                server
                    .respond(Instant::now(), stored.ticket, later)
                    .map_err(|e| e.kind)
            }
        };
        if let Err(kind) = answered {
            // After Server::shutdown the ticket is void: the message is on disk but
            // was never acknowledged, which RFC 5321 6.1 allows (a duplicate at worst).
            log(format_args!("{}: final reply not sent: {kind}", self.peer));
        }
    }
}

/// A fixed reply written in wire form.
fn reply(s: &str) -> Reply {
    s.parse().expect("fixed replies are valid")
}

/// Writes one log line to stderr with a single write: stderr is unbuffered, and
/// `eprintln!` would issue a write per formatting piece (several per line, per message).
pub fn log(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut line = args.to_string();
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
