//! Where the server's log lines go, and the `C:`/`S:` transcript of a dialogue with
//! credentials redacted.

use std::fmt;
use std::sync::Arc;

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
    /// A transcript whose lines start with `peer`.
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
        self.log.log(format_args!("{} {args}", self.peer));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

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
