//! For a server of one's own without tokio: [`Policy`], the application's half of a
//! session (the answers the crate's [`Server`](crate::Server) gives with a [`Maildir`]
//! or discarding, and a [`PasswordVerifier`], given synchronously), and [`Threads`], a
//! thread-per-connection accept loop on `std::net` with a cap on sessions, and
//! [`Stream`], plain or TLS streams alike. The run loop
//! of each connection is the program's: it feeds the core machine, writes what it
//! transmits, upgrades on `Event::StartTls`, and hands every other event to
//! [`Policy::on_event`].

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use smtp_sansio::server::{Event, Server};
use smtp_sansio::types::Reply;

use crate::auth::PasswordVerifier;
use crate::handler::Message;
use crate::log::{Logger, SessionLog, Transcript};
use crate::maildir::{self, Maildir, Writer};
use crate::server::TOO_MANY_SESSIONS;
use crate::tls::{BlockingTls, TlsInfo};

/// One connection's decisions and log: every address is accepted, AUTH is checked by
/// the verifier (refused without one), MAIL FROM against the user's senders (RFC 6409
/// 6.1), and each message is stored (and synced) before its `250` (RFC 5321 6.1).
#[non_exhaustive]
pub struct Policy {
    peer: SocketAddr,
    tls: Option<TlsInfo>,
    log: SessionLog,
    transcript: Option<Transcript>,
    verifier: Option<Arc<dyn PasswordVerifier>>,
    /// `None`: messages are accepted and dropped.
    maildir: Option<Maildir>,
    /// The message being stored.
    writer: Option<Writer>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("peer", &self.peer)
            .field("maildir", &self.maildir)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// A session with `peer` that discards messages; its lines go to `log`.
    pub fn new(peer: SocketAddr, log: Logger) -> Self {
        let tag = peer.to_string();
        Self {
            peer,
            tls: None,
            log: SessionLog::new(&tag, log),
            transcript: None,
            verifier: None,
            maildir: None,
            writer: None,
        }
    }

    /// Stores messages in `maildir` (see [`Maildir::begin`]).
    pub fn maildir(mut self, maildir: Maildir) -> Self {
        self.maildir = Some(maildir);
        self
    }

    /// Checks AUTH PLAIN/LOGIN, and MAIL FROM against the user's senders, with `verifier`.
    pub fn credentials(mut self, verifier: impl PasswordVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Logs the dialogue as `C:`/`S:` lines, credentials redacted (see [`Transcript`]);
    /// the run loop passes what it reads to [`Policy::read`] and what it writes to
    /// [`Policy::wrote`].
    pub fn transcript(mut self, on: bool) -> Self {
        let log = self.log.logger().clone();
        self.transcript = on.then(|| Transcript::new(self.log.peer(), log));
        self
    }

    /// The session now runs over TLS (for the `tls` clause of `Received:`, RFC 8314 4.3).
    pub fn tls_established(&mut self, tls: Option<TlsInfo>) {
        self.tls = tls;
    }

    /// Bytes read from the client, for the transcript.
    pub fn read(&mut self, bytes: &[u8]) {
        if let Some(t) = self.transcript.as_mut() {
            t.client(bytes);
        }
    }

    /// Bytes written to the client, for the transcript.
    pub fn wrote(&mut self, bytes: &[u8]) {
        if let Some(t) = self.transcript.as_mut() {
            t.server(bytes);
        }
    }

    /// The session's log (for lines of the run loop's own, such as I/O errors).
    pub fn log(&self) -> &SessionLog {
        &self.log
    }

    /// Answers one event. `Event::StartTls` is the transport's and is ignored here. On
    /// `MessageEnd` it blocks until the message is synced and renamed into `new/`.
    pub fn on_event(&mut self, server: &mut Server, event: Event) {
        let now = Instant::now();
        let verifier = self.verifier.as_deref();
        let answered = match event {
            Event::Hello(h) => server.accept(now, h.ticket),
            Event::Mail(m) => {
                match verifier.and_then(|v| v.sender_refusal(self.log.user(), &m.from)) {
                    Some(no) => server.respond(now, m.ticket, no),
                    None => server.accept(now, m.ticket),
                }
            }
            Event::Rcpt(r) => server.accept(now, r.ticket),
            Event::Vrfy(v) => server.accept(now, v.ticket),
            Event::Auth(a) => {
                let ok = verifier.is_some_and(|v| v.accepts(&a));
                self.log.login(&a.mechanism, &a.authcid, ok);
                match ok {
                    true => server.accept(now, a.ticket),
                    false => server.respond(now, a.ticket, Reply::auth_failed()),
                }
            }
            // Only PLAIN and LOGIN go through the verifier; the machine decodes both itself.
            Event::SaslStep(s) => server.respond(now, s.ticket, Reply::unrecognized_mechanism()),
            Event::MessageStart(start) => {
                let message = Message::new(start, &server.config().hostname, self.peer)
                    .with_tls(self.tls.clone())
                    .with_user(self.log.user().map(str::to_owned));
                self.writer = self.maildir.as_ref().map(|m| m.begin(&message));
                Ok(())
            }
            Event::MessageChunk(chunk) => {
                if let Some(w) = self.writer.as_mut() {
                    w.write(&chunk);
                }
                Ok(())
            }
            Event::MessageEnd(end) => {
                let stored = self.writer.take().map(Writer::commit).transpose();
                let (size, recipients) = (end.size, end.recipients.len());
                match stored {
                    Ok(path) => {
                        let name = path.as_deref().and_then(|p| p.file_name());
                        let name = name.map_or("(discarded)".into(), |n| n.to_string_lossy());
                        let verdict = format!("stored as {name}");
                        self.log.message(size, recipients, true, &verdict);
                        server.accept(now, end.ticket)
                    }
                    Err(e) => {
                        let verdict = format!("NOT stored: {e}");
                        self.log.message(size, recipients, false, &verdict);
                        server.respond(now, end.ticket, maildir::not_stored())
                    }
                }
            }
            Event::MessageAborted(reason) => {
                // Dropping the writer removes its file from tmp/.
                self.writer = None;
                self.log.dropped(&reason);
                Ok(())
            }
            Event::Violation(v) => {
                self.log.violation(&v);
                Ok(())
            }
            Event::Closed(reason) => {
                self.log.closed(&reason, server.is_tls());
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = answered {
            // After `Server::shutdown` a ticket is void: a message on disk but never
            // acknowledged is allowed (RFC 5321 6.1: a duplicate at worst).
            let kind = e.kind;
            self.log.line(format_args!("event not answered: {kind}"));
        }
    }
}

/// A blocking byte stream over TCP, plain or TLS: what a run loop reads and writes, and
/// the socket whose read timeout it sets to the machine's next deadline.
pub trait Stream: Read + Write {
    /// The TCP socket underneath.
    fn socket(&self) -> &TcpStream;
}

impl Stream for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }
}

impl Stream for BlockingTls {
    fn socket(&self) -> &TcpStream {
        self.get_ref()
    }
}

/// A thread per connection for `std::net` listeners, with one cap on the sessions open
/// at once across all of them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Threads {
    open: Arc<AtomicUsize>,
    max_sessions: usize,
    log: Logger,
}

impl Threads {
    /// At most `max_sessions` sessions at once; accept errors go to `log`.
    pub fn new(max_sessions: usize, log: Logger) -> Self {
        Self {
            open: Arc::new(AtomicUsize::new(0)),
            max_sessions,
            log,
        }
    }

    /// Sessions running now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Accepts on `listener` for ever, running `session(stream, peer)` on a thread of
    /// its own for each connection within the cap. One over the cap is answered
    /// [`TOO_MANY_SESSIONS`] (RFC 5321 3.1) without ever waiting on the client, and
    /// closed. Accept errors (out of descriptors, most likely) are logged and retried
    /// after a pause instead of spinning; a connection whose thread cannot be started
    /// is closed, and the loop goes on.
    pub fn accept_loop<F>(&self, listener: TcpListener, session: F)
    where
        F: Fn(TcpStream, SocketAddr) + Clone + Send + 'static,
    {
        for stream in listener.incoming() {
            let stream = match stream {
                Ok(s) => s,
                Err(e) => {
                    self.log.log(format_args!("accept: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            // An accepted socket whose address cannot be read is already gone.
            let Ok(peer) = stream.peer_addr() else {
                continue;
            };
            if self.open.fetch_add(1, Ordering::Relaxed) >= self.max_sessions {
                self.open.fetch_sub(1, Ordering::Relaxed);
                if stream.set_nonblocking(true).is_ok() {
                    let _ = (&stream).write(TOO_MANY_SESSIONS);
                }
                continue;
            }
            let (open, session) = (self.open.clone(), session.clone());
            let spawned = std::thread::Builder::new().spawn(move || {
                session(stream, peer);
                open.fetch_sub(1, Ordering::Relaxed);
            });
            if let Err(e) = spawned {
                // The closure is dropped with the connection in it: the client sees it
                // close, and its place under the cap is given back.
                self.log
                    .log(format_args!("cannot start a session thread: {e}"));
                self.open.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use smtp_sansio::server::ServerConfig;
    use smtp_sansio::types::Mechanism;

    use super::*;
    use crate::Credentials;

    /// Runs `input` through a machine answered by `policy`; returns what was written and
    /// the log lines.
    fn dialogue(policy: Policy, lines: &Mutex<Vec<String>>, input: &[u8]) -> (String, String) {
        let mut policy = policy;
        let now = Instant::now();
        let mut config = ServerConfig::new("mx.example");
        config.auth_mechanisms = vec![Mechanism::PLAIN];
        config.auth_requires_tls = false;
        let mut server = Server::new(Arc::new(config), now).unwrap();
        server.handle_input(now, input);
        let mut out = Vec::new();
        for eof in [false, true] {
            if eof {
                server.handle_eof(now);
            }
            loop {
                while let Some(event) = server.poll_event() {
                    policy.on_event(&mut server, event);
                }
                let Some(bytes) = server.poll_transmit() else {
                    break;
                };
                out.extend_from_slice(&bytes);
            }
        }
        let log = lines.lock().unwrap().join("\n");
        (String::from_utf8(out).unwrap(), log)
    }

    fn collector() -> (Logger, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        (
            Logger::new(move |a| sink.lock().unwrap().push(a.to_string())),
            lines,
        )
    }

    #[test]
    fn connection_over_the_session_cap_gets_421_and_is_closed() {
        use std::io::Read;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let threads = Threads::new(1, Logger::none());
        let counter = threads.clone();
        std::thread::spawn(move || {
            threads.accept_loop(listener, move |_stream, _peer| {
                let _ = held.lock().unwrap().recv();
            })
        });
        let first = TcpStream::connect(addr).unwrap();
        while counter.open() == 0 {
            std::thread::yield_now();
        }
        let mut second = TcpStream::connect(addr).unwrap();
        second
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reply = String::new();
        second.read_to_string(&mut reply).unwrap();
        assert_eq!(reply.as_bytes(), TOO_MANY_SESSIONS);
        assert_eq!(counter.open(), 1);
        release.send(()).unwrap();
        drop(first);
    }

    #[test]
    fn blocking_policy_stores_a_message_before_its_250() {
        let root = std::env::temp_dir().join(format!("policy-{}", std::process::id()));
        let (log, lines) = collector();
        let peer = "192.0.2.9:4000".parse().unwrap();
        let policy = Policy::new(peer, log).maildir(Maildir::open(&root).unwrap());
        let input = b"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n\
                      DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n";
        let (out, log) = dialogue(policy, &lines, input);
        assert!(out.contains("\r\n250 2.0.0"), "{out}");
        let stored: Vec<_> = std::fs::read_dir(root.join("new")).unwrap().collect();
        assert_eq!(stored.len(), 1);
        let text = std::fs::read_to_string(stored[0].as_ref().unwrap().path()).unwrap();
        assert!(text.starts_with("Return-Path: <a@b.example>\r\n"), "{text}");
        assert!(text.ends_with("\r\nSubject: x\r\n\r\nhi\r\n"), "{text}");
        assert!(log.contains("192.0.2.9:4000: message of "), "{log}");
        assert!(log.contains("closed (Quit)"), "{log}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn blocking_policy_refuses_bad_credentials_and_foreign_senders() {
        let mut users = Credentials::new();
        users.add("u:p:u@example.org").unwrap();
        let (log, lines) = collector();
        let policy = Policy::new("192.0.2.9:4000".parse().unwrap(), log).credentials(users);
        // AUTH PLAIN with a wrong password, then the right one; then a foreign sender.
        let input = b"EHLO c.example\r\nAUTH PLAIN AHUAeA==\r\nAUTH PLAIN AHUAcA==\r\n\
                      MAIL FROM:<x@example.org>\r\nMAIL FROM:<u@example.org>\r\nQUIT\r\n";
        let (out, log) = dialogue(policy, &lines, input);
        assert!(out.contains("\r\n535 5.7.8"), "{out}");
        assert!(out.contains("\r\n235 "), "{out}");
        assert!(out.contains("\r\n553 5.7.1"), "{out}");
        assert!(out.contains("\r\n250 2.1.0"), "{out}");
        assert!(log.contains("AUTH PLAIN failed for \"u\""), "{log}");
        assert!(log.contains("authenticated as u (PLAIN)"), "{log}");
    }
}
