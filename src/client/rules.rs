//! What the client refuses to send, and how a body is measured and written on the wire.
//! The one transaction engine (`engine.rs`) applies these rules through the functions
//! here, for whole and streamed messages alike.

use bytes::Bytes;

use super::{ClientError, MessageError};
use crate::types::{Body, Capabilities, ForwardPath, Host, MailParams, RcptParams};

/// Longest text line, CRLF excluded (RFC 5321 4.5.3.1.6, RFC 5322 2.1.1).
pub(super) const MAX_LINE: usize = 998;

const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// Facts about a body, gathered piece by piece as it is handed over, measured as it goes
/// on the wire: every CRLF, bare CR and bare LF is one line end written as CRLF
/// (RFC 5321 2.3.8), which is what both the dot-stuffer and the BDAT normaliser write.
#[derive(Debug, Clone, Default)]
pub(super) struct BodyScan {
    /// Octets so far, each line end counted as the two of CRLF.
    octets: u64,
    /// Lines ended so far.
    lines: usize,
    /// Octets of the open line.
    line_len: usize,
    ends: LineEnds,
    eight_bit: bool,
    /// The first line over [`MAX_LINE`], counting from 1.
    long_line: Option<usize>,
}

impl BodyScan {
    /// The scan of a whole body.
    #[cfg(test)]
    fn of(body: &[u8]) -> Self {
        let mut s = Self::default();
        s.push(body);
        s
    }

    /// Takes in the next piece of the body.
    pub(super) fn push(&mut self, piece: &[u8]) {
        let mut rest = piece;
        while let Some((text, end)) = self.ends.next(&mut rest) {
            self.text(text);
            if end {
                self.octets = self.octets.saturating_add(2);
                self.lines = self.lines.saturating_add(1);
                self.line_len = 0;
            }
        }
    }

    fn text(&mut self, text: &[u8]) {
        self.octets = self.octets.saturating_add(text.len() as u64);
        self.line_len = self.line_len.saturating_add(text.len());
        if self.line_len > MAX_LINE && self.long_line.is_none() {
            self.long_line = Some(self.lines.saturating_add(1));
        }
        if !self.eight_bit && !text.is_ascii() {
            self.eight_bit = true;
        }
    }

    /// The message size of RFC 1870 5: octets with CRLF pairs, without dot-stuffing or
    /// the end-of-data dot. Under DATA (`data`) an unterminated last line gets the CRLF
    /// the client adds before the final dot (RFC 5321 4.1.1.4); BDAT adds nothing.
    pub(super) fn octets(&self, data: bool) -> u64 {
        let tail = if data && self.line_len > 0 { 2 } else { 0 };
        self.octets.saturating_add(tail)
    }

    /// Some octet is 0x80 or above.
    pub(super) fn eight_bit(&self) -> bool {
        self.eight_bit
    }
}

/// What a body may hold in one transaction, fixed when MAIL is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ContentRules {
    /// 8-bit octets may go: declared with `BODY=8BITMIME`/`BINARYMIME`, or at least
    /// offered by the server.
    eight_bit: bool,
    /// The 998-octet line limit applies (everything but `BODY=BINARYMIME`, whose content
    /// has no lines, RFC 3030 3).
    lines: bool,
}

impl ContentRules {
    /// The rules for a MAIL with these (final) parameters to this server.
    pub(super) fn new(caps: &Capabilities, params: &MailParams<'_>) -> Self {
        let binary = params.body == Some(Body::BinaryMime);
        Self {
            eight_bit: binary || params.body == Some(Body::EightBitMime) || caps.eight_bit_mime(),
            lines: !binary,
        }
    }

    /// Checks the body seen so far.
    pub(super) fn check(self, scan: &BodyScan) -> Result<(), MessageError> {
        if let Some(line) = scan.long_line.filter(|_| self.lines) {
            // RFC 5321 4.5.3.1.6: the limit holds for every server; a longer line
            // would be refused, or worse, wrapped or cut by some hop.
            return Err(MessageError::LineTooLong { line });
        }
        if scan.eight_bit && !self.eight_bit {
            // RFC 5321 2.4, RFC 6152 3: 8-bit content only to a server that offers
            // 8BITMIME.
            return Err(MessageError::EightBitMimeNotOffered);
        }
        Ok(())
    }
}

/// Checks `BODY=` against the server's extensions and drops the meaning-free `7BIT` where
/// the keyword does not exist.
pub(super) fn declare_body(
    caps: &Capabilities,
    params: &mut MailParams<'_>,
) -> Result<(), MessageError> {
    match params.body {
        // RFC 3030 3: BINARYMIME goes with BDAT only.
        Some(Body::BinaryMime) if !(caps.chunking() && caps.binary_mime()) => {
            Err(MessageError::BinaryMimeNotOffered)
        }
        // RFC 6152 3: 8-bit content only to a server that offers 8BITMIME.
        Some(Body::EightBitMime) if !caps.eight_bit_mime() => {
            Err(MessageError::EightBitMimeNotOffered)
        }
        // BODY= exists only with 8BITMIME (RFC 6152 2); 7BIT is the default anyway.
        Some(Body::SevenBit) if !caps.eight_bit_mime() => {
            params.body = None;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The EHLO/HELO/LHLO name may go on the wire: RFC 6531 3.7.1 keeps U-labels out of it
/// even with SMTPUTF8, so a domain must be all A-labels (ASCII).
pub(super) fn check_hello_name(host: &Host<'_>) -> Result<(), ClientError> {
    if host.is_ascii() {
        Ok(())
    } else {
        Err(ClientError::HelloNameNotAscii)
    }
}

/// `REQUIRETLS` only to a server that offers it, over TLS (`tls`) whose certificate the
/// application verified (`verified`; RFC 8689 4.2.1).
pub(super) fn check_requiretls(
    caps: &Capabilities,
    params: &MailParams<'_>,
    tls: bool,
    verified: bool,
) -> Result<(), MessageError> {
    if !params.requiretls {
        return Ok(());
    }
    if !caps.requiretls() || !tls {
        return Err(MessageError::RequireTlsUnavailable);
    }
    if !verified {
        return Err(MessageError::RequireTlsUnverified);
    }
    Ok(())
}

/// What a recipient asks of the transaction it joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RcptNeeds {
    /// A non-ASCII address: SMTPUTF8 on MAIL (RFC 6531 3.4).
    pub(super) smtputf8: bool,
    /// `NOTIFY` or `ORCPT`: the server must offer DSN (RFC 3461 4).
    pub(super) dsn: bool,
}

impl RcptNeeds {
    pub(super) fn of(path: &ForwardPath<'_>, params: &RcptParams<'_>) -> Self {
        Self {
            smtputf8: !path.is_ascii(),
            dsn: params.notify.is_some() || params.orcpt.is_some(),
        }
    }
}

/// Splits a body into runs of text and line ends as the wire sees them: CRLF, a bare CR
/// and a bare LF are each one line end (RFC 5321 2.3.8), across piece boundaries.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LineEnds {
    /// The last octet was a CR, already taken as a line end; an LF first in the next
    /// piece belongs to it.
    after_cr: bool,
}

impl LineEnds {
    /// The next run of text from `rest`, and whether a line end follows it; `None` when
    /// `rest` is used up.
    pub(super) fn next<'a>(&mut self, rest: &mut &'a [u8]) -> Option<(&'a [u8], bool)> {
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some((&LF, tail)) = rest.split_first() {
                *rest = tail;
            }
        }
        if rest.is_empty() {
            return None;
        }
        let Some(i) = memchr::memchr2(CR, LF, rest) else {
            return Some((std::mem::take(rest), false));
        };
        let (text, tail) = rest.split_at(i);
        *rest = match tail {
            [CR, LF, more @ ..] => more,
            [CR] => {
                self.after_cr = true;
                &[]
            }
            [_, more @ ..] => more,
            [] => &[],
        };
        Some((text, true))
    }

    /// `piece` with every line end written as CRLF, for BDAT, which has no dot-stuffing
    /// pass to do it (RFC 3030 3). A piece that is already clean comes back as it is,
    /// without a copy.
    pub(super) fn normalise(&mut self, piece: Bytes) -> Bytes {
        let mut piece = piece;
        if self.after_cr && piece.first() == Some(&LF) {
            self.after_cr = false;
            piece = piece.slice(1..);
        }
        if !piece.is_empty() && is_crlf_clean(&piece) {
            self.after_cr = false;
            return piece;
        }
        let mut out = Vec::with_capacity(piece.len() + piece.len() / 32 + 2);
        let mut rest = &piece[..];
        while let Some((text, end)) = self.next(&mut rest) {
            out.extend_from_slice(text);
            if end {
                out.extend_from_slice(b"\r\n");
            }
        }
        Bytes::from(out)
    }
}

/// Every CR in `b` is followed by an LF and every LF follows a CR.
fn is_crlf_clean(b: &[u8]) -> bool {
    let mut from = 0;
    while let Some(i) = b.get(from..).and_then(|r| memchr::memchr2(CR, LF, r)) {
        let at = from + i;
        match (b.get(at), b.get(at + 1)) {
            (Some(&CR), Some(&LF)) => from = at + 2,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious definition: split into lines the way the stuffer does, count.
    fn model(b: &[u8], data: bool) -> (u64, Option<usize>, bool) {
        let mut lines: Vec<Vec<u8>> = vec![Vec::new()];
        let mut i = 0;
        let mut ended = true;
        while i < b.len() {
            match b[i] {
                b'\r' if b.get(i + 1) == Some(&b'\n') => {
                    lines.push(Vec::new());
                    i += 2;
                    ended = true;
                    continue;
                }
                b'\r' | b'\n' => {
                    lines.push(Vec::new());
                    ended = true;
                }
                c => {
                    lines.last_mut().unwrap().push(c);
                    ended = false;
                }
            }
            i += 1;
        }
        let open = !ended;
        let terminated = lines.len() - 1;
        let mut octets: u64 = lines.iter().map(|l| l.len() as u64).sum::<u64>();
        octets += 2 * terminated as u64;
        if data && open {
            octets += 2;
        }
        let long = lines.iter().position(|l| l.len() > MAX_LINE).map(|p| p + 1);
        (octets, long, b.iter().any(|&c| c >= 0x80))
    }

    #[test]
    fn body_scan_matches_the_model_whole_and_split() {
        let alphabet = [b'a', b'\r', b'\n', 0xC3];
        for len in 0..=6u32 {
            for n in 0..4usize.pow(len) {
                let input: Vec<u8> = (0..len).map(|k| alphabet[n / 4usize.pow(k) % 4]).collect();
                for data in [true, false] {
                    let want = model(&input, data);
                    let whole = BodyScan::of(&input);
                    let got = (whole.octets(data), whole.long_line, whole.eight_bit());
                    assert_eq!(got, want, "{:?}", input.escape_ascii().to_string());
                    for cut in 0..=input.len() {
                        let mut s = BodyScan::default();
                        s.push(&input[..cut]);
                        s.push(&[]);
                        s.push(&input[cut..]);
                        assert_eq!((s.octets(data), s.long_line, s.eight_bit()), want);
                    }
                }
            }
        }
    }

    #[test]
    fn line_of_998_octets_passes_and_999_does_not() {
        let mut body = vec![b'x'; 998];
        body.extend_from_slice(b"\r\nok\r\n");
        assert_eq!(BodyScan::of(&body).long_line, None);
        let mut body = b"first\r\n".to_vec();
        body.extend_from_slice(&[b'x'; 999]);
        assert_eq!(BodyScan::of(&body).long_line, Some(2));
    }

    /// What the DATA stuffer writes, which turns line ends into CRLF the same way (the
    /// alphabet below has no dot, so nothing is stuffed), without its end of data and
    /// the CRLF it adds to an open last line.
    fn normalised_model(b: &[u8]) -> Vec<u8> {
        let mut out = crate::data::dot_stuff(b).to_vec();
        out.truncate(out.len() - 3);
        if b.last().is_some_and(|c| !matches!(c, b'\r' | b'\n')) {
            out.truncate(out.len() - 2);
        }
        out
    }

    #[test]
    fn crlf_normaliser_matches_the_model_whole_and_split() {
        let alphabet = [b'a', b'\r', b'\n'];
        for len in 0..=7u32 {
            for n in 0..3usize.pow(len) {
                let input: Vec<u8> = (0..len).map(|k| alphabet[n / 3usize.pow(k) % 3]).collect();
                let want = normalised_model(&input);
                for cut in 0..=input.len() {
                    let mut ends = LineEnds::default();
                    let mut got = ends
                        .normalise(Bytes::copy_from_slice(&input[..cut]))
                        .to_vec();
                    got.extend_from_slice(&ends.normalise(Bytes::new()));
                    got.extend_from_slice(&ends.normalise(Bytes::copy_from_slice(&input[cut..])));
                    assert_eq!(
                        got,
                        want,
                        "{:?} cut at {cut}",
                        input.escape_ascii().to_string()
                    );
                }
            }
        }
    }

    #[test]
    fn clean_body_is_not_copied() {
        let body = Bytes::from_static(b"one\r\ntwo\r\n\r\nthree");
        let out = LineEnds::default().normalise(body.clone());
        assert_eq!(out.as_ptr(), body.as_ptr());
        assert_eq!(out, body);
    }
}
