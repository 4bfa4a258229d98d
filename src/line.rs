//! Bounded CRLF framing for SMTP command and reply lines.
//!
//! RFC 5321 2.3.8: lines end only with CRLF; a bare CR or bare LF is not a
//! line ending and is left inside the line for the parser to reject.

use bytes::{Buf, Bytes, BytesMut};

const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// One result of framing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineFrame {
    /// A complete line, without its CRLF.
    Line(Bytes),
    /// A line longer than the limit has ended; its bytes were discarded as
    /// they arrived.
    TooLong {
        /// Total length of the discarded line, including its CRLF.
        len: u64,
    },
}

/// Splits a receive buffer into CRLF-terminated lines of bounded length.
///
/// The framer never keeps more than `max_len` bytes of an unfinished line in
/// the buffer: an overlong line is discarded as it arrives and reported as
/// [`LineFrame::TooLong`] once its CRLF is seen.
#[derive(Debug, Clone)]
pub struct LineFramer {
    max_len: usize,
    /// Bytes at the front of the buffer already searched for a CRLF, so a
    /// line trickling in is not rescanned from the start on every call.
    scanned: usize,
    /// Inside an overlong line.
    skipping: bool,
    /// Bytes of the overlong line discarded so far.
    skipped: u64,
    /// The last discarded byte was CR, so an LF at the front ends the line.
    skipped_cr: bool,
}

impl LineFramer {
    /// Creates a framer; `max_len` counts the CRLF (RFC 5321 4.5.3.1.4: 512
    /// for command lines).
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len,
            scanned: 0,
            skipping: false,
            skipped: 0,
            skipped_cr: false,
        }
    }

    /// The current line length limit, CRLF included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Changes the limit, e.g. raised while reading SASL responses and
    /// lowered again afterwards. Applies to the line being framed, too.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len;
    }

    /// True while the framer is discarding an overlong line.
    pub fn is_skipping(&self) -> bool {
        self.skipping
    }

    /// Forgets all partial state, e.g. after STARTTLS when the receive
    /// buffer is cleared too (RFC 3207 4.2).
    pub fn reset(&mut self) {
        self.scanned = 0;
        self.skipping = false;
        self.skipped = 0;
        self.skipped_cr = false;
    }

    /// Takes the next line out of `buf` (the connection's receive buffer).
    ///
    /// Returns `None` when more input is needed. At that point either
    /// `buf.len() < max_len`, or the framer is skipping and `buf` is empty.
    pub fn next_line(&mut self, buf: &mut BytesMut) -> Option<LineFrame> {
        if self.skipping {
            return self.skip(buf, 0);
        }
        if buf.is_empty() {
            return None;
        }
        // Only the first `max_len` bytes can hold the end of an acceptable
        // line; anything beyond is never searched in normal mode.
        let limit = buf.len().min(self.max_len);
        let mut pos = self.scanned.min(limit);
        while let Some(off) = buf.get(pos..limit).and_then(|s| memchr::memchr(LF, s)) {
            let lf = pos + off;
            // Looking backwards means a CR at the end of the previously
            // scanned region is still seen.
            if lf > 0 && buf.get(lf - 1) == Some(&CR) {
                self.scanned = 0;
                let line = buf.split_to(lf - 1).freeze();
                buf.advance(2);
                return Some(LineFrame::Line(line));
            }
            // Bare LF: part of the line (RFC 5321 2.3.8).
            pos = lf + 1;
        }
        if buf.len() >= self.max_len {
            // No CRLF within the limit: the line is too long.
            self.skipping = true;
            self.skipped = 0;
            self.skipped_cr = false;
            let start = limit;
            self.scanned = 0;
            return self.skip(buf, start);
        }
        self.scanned = limit;
        None
    }

    /// Discards bytes of an overlong line until its CRLF; `start` is where
    /// searching may begin (everything before it holds no CRLF).
    fn skip(&mut self, buf: &mut BytesMut, start: usize) -> Option<LineFrame> {
        let mut pos = start;
        while let Some(off) = buf.get(pos..).and_then(|s| memchr::memchr(LF, s)) {
            let lf = pos + off;
            let crlf = if lf == 0 {
                // The CRLF may be split across two reads.
                self.skipped_cr
            } else {
                buf.get(lf - 1) == Some(&CR)
            };
            if crlf {
                let len = self.skipped.saturating_add(lf as u64 + 1);
                buf.advance(lf + 1);
                self.reset();
                return Some(LineFrame::TooLong { len });
            }
            pos = lf + 1;
        }
        if let Some(&last) = buf.last() {
            self.skipped_cr = last == CR;
            self.skipped = self.skipped.saturating_add(buf.len() as u64);
            buf.clear();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(s: &[u8]) -> LineFrame {
        LineFrame::Line(Bytes::copy_from_slice(s))
    }

    fn too_long(len: u64) -> LineFrame {
        LineFrame::TooLong { len }
    }

    /// Feeds `chunks` one after another, draining frames after each, and
    /// checks the buffering bound whenever the framer asks for more input.
    fn run(max_len: usize, chunks: &[&[u8]]) -> (Vec<LineFrame>, BytesMut) {
        let mut framer = LineFramer::new(max_len);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(f) = framer.next_line(&mut buf) {
                out.push(f);
            }
            assert_bound(&framer, &buf);
        }
        (out, buf)
    }

    fn assert_bound(framer: &LineFramer, buf: &BytesMut) {
        if framer.is_skipping() {
            assert!(buf.is_empty());
        } else {
            assert!(buf.len() < framer.max_len().max(1), "held {}", buf.len());
        }
    }

    /// Straightforward model: split at every CRLF; the unfinished tail
    /// produces nothing.
    fn model(max_len: usize, input: &[u8]) -> Vec<LineFrame> {
        let mut out = Vec::new();
        let mut rest = input;
        while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
            if i + 2 <= max_len {
                out.push(line(&rest[..i]));
            } else {
                out.push(too_long(i as u64 + 2));
            }
            rest = &rest[i + 2..];
        }
        out
    }

    #[test]
    fn known_answers() {
        type Case<'a> = (usize, &'a [&'a [u8]], Vec<LineFrame>, &'a [u8]);
        let cases: Vec<Case> = vec![
            (512, &[b"\r\n"], vec![line(b"")], b""),
            (512, &[b"HELO x\r\n"], vec![line(b"HELO x")], b""),
            (512, &[b"HELO x\r", b"\n"], vec![line(b"HELO x")], b""),
            (
                512,
                &[b"HELO", b" x", b"\r", b"\n", b"QUIT"],
                vec![line(b"HELO x")],
                b"QUIT",
            ),
            (512, &[b"a\nb\r\n"], vec![line(b"a\nb")], b""),
            (512, &[b"a\rb\r\n"], vec![line(b"a\rb")], b""),
            (512, &[b"a\r\r\n"], vec![line(b"a\r")], b""),
            (512, &[b"\n\r\n"], vec![line(b"\n")], b""),
            (512, &[b"\n", b"\r", b"\n"], vec![line(b"\n")], b""),
            (512, &[b"a\n", b"\n", b"\r\n"], vec![line(b"a\n\n")], b""),
            (512, &[b"abc"], vec![], b"abc"),
            (
                512,
                &[b"A\r\nB\r\n\r\nC\r\nD"],
                vec![line(b"A"), line(b"B"), line(b""), line(b"C")],
                b"D",
            ),
            // Exactly max_len (CRLF counted) fits.
            (5, &[b"abc\r\n"], vec![line(b"abc")], b""),
            (5, &[b"abc\r", b"\n"], vec![line(b"abc")], b""),
            (
                5,
                &[b"abc\r\nabc\r\n"],
                vec![line(b"abc"), line(b"abc")],
                b"",
            ),
            // max_len + 1 does not.
            (5, &[b"abcd\r\n"], vec![too_long(6)], b""),
            (5, &[b"abcd\r\nok\r\n"], vec![too_long(6), line(b"ok")], b""),
            (
                5,
                &[b"abcd", b"\r", b"\n", b"ok\r\n"],
                vec![too_long(6), line(b"ok")],
                b"",
            ),
            // Overlong line whose CR and LF arrive separately.
            (
                5,
                &[b"abcdefg\r", b"\nok\r\n"],
                vec![too_long(9), line(b"ok")],
                b"",
            ),
            (
                5,
                &[b"abcdefg", b"\r", b"\n", b"ok"],
                vec![too_long(9)],
                b"ok",
            ),
            // Bare CR / LF inside an overlong line do not end it.
            (5, &[b"abcdef\r", b"x\n", b"y\r\n"], vec![too_long(12)], b""),
            (5, &[b"abcdef\n", b"\r", b"x\r\n"], vec![too_long(11)], b""),
            (
                4,
                &[b"a\r\nbb\r\nccc\r\nd\r\n"],
                vec![line(b"a"), line(b"bb"), too_long(5), line(b"d")],
                b"",
            ),
            // A limit too small for any line.
            (1, &[b"\r\n"], vec![too_long(2)], b""),
            (0, &[b"\r\nx\r\n"], vec![too_long(2), too_long(3)], b""),
        ];
        for (max_len, chunks, want, rest) in cases {
            let (got, buf) = run(max_len, chunks);
            assert_eq!(got, want, "max_len {max_len} chunks {chunks:?}");
            assert_eq!(&buf[..], rest, "max_len {max_len} chunks {chunks:?}");
        }
    }

    #[test]
    fn byte_by_byte_matches_whole() {
        let input = b"EHLO a\r\nMAIL FROM:<x>\r\n\r\na\rb\nc\r\r\n0123456789\r\nQ";
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(12, &chunks).0, run(12, &[input]).0);
        assert_eq!(run(12, &[input]).0, model(12, input));
    }

    #[test]
    fn flood_without_crlf_stays_bounded() {
        let mut framer = LineFramer::new(512);
        let mut buf = BytesMut::new();
        let piece = vec![b'A'; 64 * 1024];
        let total: u64 = 50 * 1024 * 1024;
        let mut fed = 0u64;
        while fed < total {
            buf.extend_from_slice(&piece);
            fed += piece.len() as u64;
            assert_eq!(framer.next_line(&mut buf), None);
            assert!(buf.len() <= 512);
            assert!(framer.is_skipping());
        }
        buf.extend_from_slice(b"\r");
        assert_eq!(framer.next_line(&mut buf), None);
        buf.extend_from_slice(b"\nQUIT\r\n");
        assert_eq!(framer.next_line(&mut buf), Some(too_long(total + 2)));
        assert!(!framer.is_skipping());
        assert_eq!(framer.next_line(&mut buf), Some(line(b"QUIT")));
        assert_eq!(framer.next_line(&mut buf), None);
        assert!(buf.is_empty());
    }

    #[test]
    fn trickle_is_not_quadratic() {
        // 99 000 bytes one at a time, then the CRLF: each call scans only the
        // new byte, so this stays fast even in debug builds.
        let mut framer = LineFramer::new(100_000);
        let mut buf = BytesMut::new();
        for _ in 0..99_000 {
            buf.extend_from_slice(b"x");
            assert_eq!(framer.next_line(&mut buf), None);
        }
        buf.extend_from_slice(b"\r");
        assert_eq!(framer.next_line(&mut buf), None);
        buf.extend_from_slice(b"\n");
        match framer.next_line(&mut buf) {
            Some(LineFrame::Line(l)) => assert_eq!(l.len(), 99_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn line_is_a_view_of_the_buffer() {
        let mut framer = LineFramer::new(512);
        let mut buf = BytesMut::from(&b"NOOP\r\nQUIT\r\n"[..]);
        let base = buf.as_ptr();
        match framer.next_line(&mut buf) {
            Some(LineFrame::Line(l)) => assert_eq!(l.as_ptr(), base),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limit_can_change_between_lines() {
        let mut framer = LineFramer::new(8);
        let mut buf = BytesMut::from(&b"AUTH PLAIN\r\n"[..]);
        assert_eq!(framer.next_line(&mut buf), Some(too_long(12)));
        framer.set_max_len(12_288);
        buf.extend_from_slice(&[b'Z'; 5000]);
        assert_eq!(framer.next_line(&mut buf), None);
        buf.extend_from_slice(b"\r\n");
        assert!(matches!(framer.next_line(&mut buf), Some(LineFrame::Line(l)) if l.len() == 5000));
        framer.set_max_len(8);
        buf.extend_from_slice(b"0123");
        assert_eq!(framer.next_line(&mut buf), None);
        framer.set_max_len(4);
        assert_eq!(framer.next_line(&mut buf), None);
        assert!(framer.is_skipping());
        buf.extend_from_slice(b"\r\nok\r\n");
        assert_eq!(framer.next_line(&mut buf), Some(too_long(6)));
        assert_eq!(framer.next_line(&mut buf), Some(line(b"ok")));
    }

    #[test]
    fn reset_forgets_partial_state() {
        let mut framer = LineFramer::new(4);
        let mut buf = BytesMut::from(&b"abcdef\r"[..]);
        assert_eq!(framer.next_line(&mut buf), None);
        assert!(framer.is_skipping());
        framer.reset();
        buf.clear();
        buf.extend_from_slice(b"\na\r\n");
        assert_eq!(framer.next_line(&mut buf), Some(line(b"\na")));
    }

    fn bytes_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                Just(b'\r'),
                Just(b'\n'),
                Just(b'a'),
                Just(b'.'),
                any::<u8>()
            ],
            0..200,
        )
    }

    proptest! {
        #[test]
        fn split_feeding_matches_model(
            input in bytes_strategy(),
            max_len in 0usize..24,
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut prev = 0;
            for p in points {
                chunks.push(&input[prev..p]);
                prev = p;
            }
            chunks.push(&input[prev..]);
            let (whole, _) = run(max_len, &[&input]);
            let (split, _) = run(max_len, &chunks);
            prop_assert_eq!(&whole, &split);
            prop_assert_eq!(&whole, &model(max_len, &input));
        }
    }
}
