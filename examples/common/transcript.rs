//! `--verbose`: the dialogue as `C:`/`S:` lines on stderr, with credentials redacted
//! (the argument of AUTH and every client line of a SASL exchange) and message bodies
//! summarised by size.
//!
//! It watches the bytes on the wire, not the machine's state: a `334` from the server
//! means the next client line is a SASL response (RFC 4954 4), a `354` that message
//! data follows (RFC 5321 4.1.1.4), and `BDAT n` that n octets of data follow (RFC 3030).

use crate::policy::log;

/// Lines longer than this are logged cut short.
const SHOWN: usize = 512;

#[derive(Debug)]
pub struct Transcript {
    peer: String,
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
    pub fn new(peer: &str) -> Self {
        Self {
            peer: peer.to_owned(),
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
                    log(format_args!("{} C: <BDAT chunk, {size} octets>", self.peer));
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

    fn client_line(&mut self) {
        match self.state {
            State::Data { octets } => {
                if self.line == b".\r\n" || self.line == b".\n" {
                    log(format_args!(
                        "{} C: <message data, {octets} octets on the wire>",
                        self.peer
                    ));
                    log(format_args!("{} C: .", self.peer));
                    self.state = State::Command;
                } else {
                    self.state = State::Data {
                        octets: octets + self.line_len,
                    };
                }
            }
            State::Sasl => log(format_args!("{} C: <SASL response redacted>", self.peer)),
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
                    log(format_args!("{} C: {verb} {mechanism}{more}", self.peer));
                    return;
                }
                log(format_args!("{} C: {text}", self.peer));
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
            log(format_args!("{} S: {text}", self.peer));
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
