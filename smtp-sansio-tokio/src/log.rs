//! Where the server's log lines go, the lines of one session, and the `C:`/`S:`
//! transcript of a dialogue with credentials redacted.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use smtp_sansio::server::{AbortReason, CloseReason, Violation};
use smtp_sansio::types::Mechanism;

/// A log sink: one call per line, prefixed with the client's address by the caller.
/// The default writes each line to stderr in one write.
#[derive(Clone)]
pub struct Logger(Arc<dyn Fn(fmt::Arguments<'_>) + Send + Sync>);

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Logger")
    }
}

impl Default for Logger {
    fn default() -> Self {
        Self::stderr()
    }
}

impl Logger {
    /// Lines to stderr, one write each (stderr is unbuffered, and `eprintln!` would
    /// write once per formatting piece). Each line is formatted in a buffer of the
    /// calling thread and written on a duplicate of the descriptor: no allocation per
    /// line, and no lock that sessions on other threads would wait for during the write
    /// (one `write` of a whole line is not interleaved with another's).
    pub fn stderr() -> Self {
        use std::io::Write;
        use std::os::fd::AsFd;
        let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
            // No descriptor to spare: std's locked stderr.
            return Self(Arc::new(|args| {
                let _ = std::io::stderr()
                    .lock()
                    .write_all(format!("{args}\n").as_bytes());
            }));
        };
        let out = std::fs::File::from(fd);
        Self(Arc::new(move |args| {
            thread_local! {
                static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            LINE.with(|line| {
                let Ok(mut line) = line.try_borrow_mut() else {
                    // A line logged while formatting another: written on its own.
                    let _ = (&out).write_all(format!("{args}\n").as_bytes());
                    return;
                };
                line.clear();
                let _ = writeln!(line, "{args}");
                let _ = (&out).write_all(&line);
                line.truncate(0);
                line.shrink_to(1024);
            });
        }))
    }

    /// No log at all.
    pub fn none() -> Self {
        Self(Arc::new(|_| {}))
    }

    /// Lines to `f` (a `tracing` or `log` macro, a test's collector...).
    pub fn new(f: impl Fn(fmt::Arguments<'_>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Writes one line.
    pub fn log(&self, args: fmt::Arguments<'_>) {
        (self.0)(args)
    }
}

/// The log lines of one session, as the crate's server writes them, for a run loop of
/// one's own (a blocking server, say) to write the same: each starts with the client's
/// address, and the last, at close, sums the session up. It also remembers who logged
/// in, which later steps need (the sender check, trace fields).
#[derive(Debug)]
#[non_exhaustive]
pub struct SessionLog {
    tag: String,
    log: Logger,
    started: Instant,
    messages: u64,
    user: Option<String>,
}

impl SessionLog {
    /// The log of a session with `peer` (its address as text), starting now.
    pub fn new(peer: &str, log: Logger) -> Self {
        Self {
            tag: peer.to_owned(),
            log,
            started: Instant::now(),
            messages: 0,
            user: None,
        }
    }

    /// A line of one's own: `<peer>: <args>`.
    pub fn line(&self, args: fmt::Arguments<'_>) {
        self.log.log(format_args!("{}: {args}", self.tag));
    }

    /// Where the lines go.
    pub fn logger(&self) -> &Logger {
        &self.log
    }

    /// The peer's address as lines start with it (for a [`Transcript`]).
    pub fn peer(&self) -> &str {
        &self.tag
    }

    /// An AUTH attempt and its outcome; a successful one makes `user` the session's.
    pub fn login(&mut self, mechanism: &Mechanism<'_>, user: &str, accepted: bool) {
        if accepted {
            self.line(format_args!("authenticated as {user} ({mechanism})"));
            self.user = Some(user.to_owned());
        } else {
            self.line(format_args!("AUTH {mechanism} failed for {user:?}"));
        }
    }

    /// The authenticated user, once AUTH succeeded.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// A protocol violation the machine answered by itself.
    pub fn violation(&self, v: &Violation) {
        self.line(format_args!("peer violation: {v:?}"));
    }

    /// A message the machine dropped before its end.
    pub fn dropped(&self, reason: &AbortReason) {
        self.line(format_args!("message dropped: {reason:?}"));
    }

    /// A complete message and what became of it (`verdict`: "accepted", "stored as
    /// NAME", "answered 451"...); `accepted` ones are counted for the closing line.
    pub fn message(
        &mut self,
        size: u64,
        recipients: usize,
        accepted: bool,
        verdict: impl fmt::Display,
    ) {
        self.line(format_args!(
            "message of {size} octets for {recipients} recipient(s){} {verdict}",
            FromUser(self.user.as_deref())
        ));
        self.messages += u64::from(accepted);
    }

    /// The session's end: why, how long it lasted, how many messages were accepted,
    /// whether it ran over TLS, and the user.
    pub fn closed(&self, reason: &CloseReason, tls: bool) {
        let user = self.user.as_deref().map(|u| format!(", user {u}"));
        self.line(format_args!(
            "closed ({reason:?}) after {:.1?}, {} message(s){}{}",
            self.started.elapsed(),
            self.messages,
            if tls { ", TLS" } else { "" },
            user.unwrap_or_default(),
        ));
    }
}

/// Lines longer than this are logged cut short.
const SHOWN: usize = 512;

/// The dialogue as `C:`/`S:` lines, with credentials redacted (the argument of AUTH and
/// every client line of a SASL exchange) and message bodies summarised by size.
///
/// It watches the bytes on the wire, not the machine's state: a `334` from the server
/// means the next client line is a SASL response (RFC 4954 4), a `354` that message
/// data follows (RFC 5321 4.1.1.4), and `BDAT n` that n octets of data follow (RFC 3030).
#[derive(Debug)]
pub struct Transcript {
    peer: String,
    log: Logger,
    state: State,
    line: Vec<u8>,
    line_len: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Command,
    Sasl,
    Data { octets: u64 },
    Bdat { left: u64, size: u64 },
}

impl Transcript {
    /// A transcript whose lines start with `peer` (a client's own transcript passes
    /// `""`: every line is then `C: ...` or `S: ...`).
    pub fn new(peer: &str, log: Logger) -> Self {
        Self {
            peer: peer.to_owned(),
            log,
            state: State::Command,
            line: Vec::new(),
            line_len: 0,
        }
    }

    /// Bytes read from the client.
    pub fn client(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if let State::Bdat { left, size } = &mut self.state {
                let n = bytes
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= n as u64;
                bytes = &bytes[n..];
                if *left == 0 {
                    let size = *size;
                    self.say(format_args!("C: <BDAT chunk, {size} octets>"));
                    self.state = State::Command;
                }
                continue;
            }
            let end = bytes.iter().position(|&b| b == b'\n');
            let (part, rest) = bytes.split_at(end.map_or(bytes.len(), |i| i + 1));
            self.line_len += part.len() as u64;
            let room = SHOWN.saturating_sub(self.line.len());
            self.line.extend_from_slice(&part[..part.len().min(room)]);
            bytes = rest;
            if end.is_some() {
                self.client_line();
                self.line.clear();
                self.line_len = 0;
            }
        }
    }

    fn say(&self, args: fmt::Arguments<'_>) {
        match self.peer.is_empty() {
            true => self.log.log(args),
            false => self.log.log(format_args!("{} {args}", self.peer)),
        }
    }

    fn client_line(&mut self) {
        match self.state {
            State::Data { octets } => {
                if self.line == b".\r\n" || self.line == b".\n" {
                    self.say(format_args!(
                        "C: <message data, {octets} octets on the wire>"
                    ));
                    self.say(format_args!("C: ."));
                    self.state = State::Command;
                } else {
                    self.state = State::Data {
                        octets: octets + self.line_len,
                    };
                }
            }
            State::Sasl => self.say(format_args!("C: <SASL response redacted>")),
            State::Command | State::Bdat { .. } => {
                let text = printable(&self.line);
                let mut words = text.split_ascii_whitespace();
                let verb = words.next().unwrap_or("").to_ascii_uppercase();
                if verb == "AUTH" {
                    // `AUTH PLAIN <initial response>`: keep the mechanism only.
                    let mechanism = words.next().unwrap_or("");
                    let more = if words.next().is_some() {
                        " <redacted>"
                    } else {
                        ""
                    };
                    self.say(format_args!("C: {verb} {mechanism}{more}"));
                    return;
                }
                self.say(format_args!("C: {text}"));
                if verb == "BDAT" {
                    match words.next().and_then(|n| n.parse::<u64>().ok()) {
                        Some(size) if size > 0 => self.state = State::Bdat { left: size, size },
                        _ => {}
                    }
                }
            }
        }
    }

    /// Bytes written to the client (whole reply lines, as the machine emits them).
    pub fn server(&mut self, bytes: &[u8]) {
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let text = printable(line);
            self.say(format_args!("S: {text}"));
            // The last line of a reply has a space after the code (RFC 5321 4.2.1).
            if line.get(3) != Some(&b' ') {
                continue;
            }
            match (&line[..3], self.state) {
                (b"334", _) => self.state = State::Sasl,
                (b"354", _) => self.state = State::Data { octets: 0 },
                (_, State::Sasl) => self.state = State::Command,
                _ => {}
            }
        }
    }
}

/// The line without its CRLF, control characters escaped so a log cannot be forged.
fn printable(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    for c in String::from_utf8_lossy(line).chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// ` from USER` when the session authenticated, formatted without an allocation (one
/// such line per message).
struct FromUser<'a>(Option<&'a str>);

impl fmt::Display for FromUser<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(u) => write!(f, " from {u}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn session_log_names_the_user_after_login_and_counts_accepted_messages() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let mut s = SessionLog::new(
            "p",
            Logger::new(move |a| sink.lock().unwrap().push(a.to_string())),
        );
        s.login(&Mechanism::PLAIN, "bob", false);
        assert_eq!(s.user(), None);
        s.login(&Mechanism::PLAIN, "alice", true);
        assert_eq!(s.user(), Some("alice"));
        s.message(10, 2, true, "stored as x");
        s.message(10, 1, false, "answered 451");
        s.closed(&CloseReason::Quit, true);
        let all = lines.lock().unwrap().clone();
        assert_eq!(all[0], "p: AUTH PLAIN failed for \"bob\"");
        assert_eq!(all[1], "p: authenticated as alice (PLAIN)");
        assert_eq!(
            all[2],
            "p: message of 10 octets for 2 recipient(s) from alice stored as x"
        );
        assert!(all[4].starts_with("p: closed (Quit) after "), "{all:?}");
        assert!(
            all[4].ends_with(", 1 message(s), TLS, user alice"),
            "{all:?}"
        );
    }

    #[test]
    fn transcript_redacts_auth_and_sasl_responses() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let log = Logger::new(move |a| sink.lock().unwrap().push(a.to_string()));
        let mut t = Transcript::new("p", log);
        t.client(b"AUTH PLAIN AHUAcGFzcw==\r\nAUTH LOGIN\r\n");
        t.server(b"334 VXNlcm5hbWU6\r\n");
        t.client(b"dXNlcg==\r\n");
        t.server(b"334 UGFzc3dvcmQ6\r\n");
        t.client(b"c2VjcmV0\r\n");
        t.server(b"235 2.7.0 ok\r\n");
        t.client(b"MAIL FROM:<a@b>\r\n");
        let all = lines.lock().unwrap().join("\n");
        assert!(
            !all.contains("AHUAcGFzcw") && !all.contains("dXNlcg") && !all.contains("c2VjcmV0")
        );
        assert!(all.contains("p C: AUTH PLAIN <redacted>"), "{all}");
        assert!(all.contains("p C: <SASL response redacted>"), "{all}");
        assert!(all.contains("p C: MAIL FROM:<a@b>"), "{all}");
    }
}
