//! Message content transfer: DATA body decoding for servers, dot-stuffing
//! for clients (RFC 5321 4.1.1.4, 4.5.2) and BDAT chunk counting (RFC 3030).

use bytes::{Buf, BufMut, Bytes, BytesMut};

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const DOT: u8 = b'.';
const CRLF: &[u8] = b"\r\n";

/// What to do with a bare CR or bare LF inside DATA (never an end of data
/// either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BareLineEndings {
    /// Pass the bytes through unchanged and flag the message, so the server
    /// can reject it once the real end of data has been seen.
    #[default]
    Reject,
    /// Write each bare CR and bare LF as CRLF in the output.
    Normalize,
}

/// One step of DATA body decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataStep {
    /// Everything usable has been taken; feed more input.
    NeedMore,
    /// A non-empty piece of the message body.
    Chunk(Bytes),
    /// The end-of-data indication was consumed; the body is complete.
    End,
}

/// Server-side decoder for the DATA body: finds the end of data and removes
/// transparency dots (RFC 5321 4.5.2).
///
/// Only `CRLF "." CRLF` made of real CRLFs ends the data (or `"." CRLF` as
/// the first line); every other arrangement of CR, LF and "." is content
/// (RFC 5321 4.1.1.4, 2.3.8).
#[derive(Debug, Clone)]
pub struct DataDecoder {
    bare: BareLineEndings,
    max_line_len: Option<usize>,
    /// The next input byte begins a line (start of data or after a real
    /// CRLF), so it may be a transparency dot or the final ".".
    at_line_start: bool,
    /// Content bytes of the current line seen so far, line ending excluded.
    line_len: u64,
    saw_bare: bool,
    saw_long: bool,
    done: bool,
    /// Octets taken by the block fast path, so that tests can check that it runs.
    #[cfg(test)]
    fast: usize,
}

impl DataDecoder {
    /// Creates a decoder positioned right after the server's 354 reply.
    ///
    /// `max_line_len` counts the CRLF (RFC 5321 4.5.3.1.6: 1000); `None`
    /// means unlimited.
    pub fn new(bare: BareLineEndings, max_line_len: Option<usize>) -> Self {
        Self {
            bare,
            max_line_len,
            at_line_start: true,
            line_len: 0,
            saw_bare: false,
            saw_long: false,
            done: false,
            #[cfg(test)]
            fast: 0,
        }
    }

    /// True once a bare CR or bare LF has been seen in the body.
    pub fn saw_bare_line_ending(&self) -> bool {
        self.saw_bare
    }

    /// True once a line longer than `max_line_len` has been seen.
    pub fn saw_long_line(&self) -> bool {
        self.saw_long
    }

    /// True once the end of data has been consumed.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Takes the next piece of the message body from `buf`. Call until it
    /// returns [`DataStep::NeedMore`] or [`DataStep::End`].
    ///
    /// Chunks are slices split off `buf`; when `NeedMore` is returned `buf`
    /// holds at most 2 bytes (a CR, or "." / ".\r" at a line start). Bytes
    /// after the end of data are left in `buf`.
    pub fn next(&mut self, buf: &mut BytesMut) -> DataStep {
        if self.done {
            return DataStep::End;
        }
        if self.at_line_start {
            match buf.first() {
                None => return DataStep::NeedMore,
                Some(&DOT) => match (buf.get(1), buf.get(2)) {
                    (Some(&CR), Some(&LF)) => {
                        buf.advance(3);
                        self.done = true;
                        return DataStep::End;
                    }
                    // Could still become "." CRLF.
                    (None, _) | (Some(&CR), None) => return DataStep::NeedMore,
                    // Transparency dot (RFC 5321 4.5.2): drop it, and do
                    // not count it towards the line length (4.5.3.1.6).
                    _ => buf.advance(1),
                },
                Some(_) => {}
            }
            self.at_line_start = false;
        }
        self.scan(buf)
    }

    /// Emits as much mid-line content as possible, stopping before a line
    /// start that begins with ".", before a trailing CR, or (when
    /// normalising) at a bare line ending.
    fn scan(&mut self, buf: &mut BytesMut) -> DataStep {
        let len = buf.len();
        let mut pos = 0;
        let mut line_start = 0;
        // Where the block fast path may be tried again after a block it refused.
        let mut fast_from = 0;
        loop {
            if pos >= fast_from && buf.get(pos).is_some_and(|&b| b != LF) {
                let line_so_far = self.line_len.saturating_add((pos - line_start) as u64);
                let room = self.max_line_len.is_none_or(|max| {
                    line_so_far.saturating_add(2 * BLOCK as u64 + 2) <= max as u64
                });
                if room {
                    let n = clean_blocks(&buf[pos..]);
                    if n > 0 {
                        // Every line that ended in there was shorter than 2 * BLOCK, the
                        // first one included (`room`); the last LF starts the open line.
                        let region = &buf[pos..pos + n];
                        let last_lf = memchr::memrchr(LF, region).map_or(0, |l| pos + l);
                        self.line_len = 0;
                        line_start = last_lf + 1;
                        pos += n;
                        #[cfg(test)]
                        {
                            self.fast += n;
                        }
                        // Never stop between the CR and LF of a pair.
                        if buf[pos - 1] == CR {
                            pos -= 1;
                        }
                    }
                    // The block at `pos` was refused (or is not all here yet): go line
                    // by line past it before trying again.
                    fast_from = pos + BLOCK;
                }
            }
            // CRLF is found via its CR and skipped as a pair, so an LF hit
            // is never preceded by CR: it is bare. A CR found at the very
            // end is held back, so the pair is never split across calls.
            let Some(i) = buf
                .get(pos..)
                .and_then(|s| memchr::memchr2(CR, LF, s))
                .map(|off| pos + off)
            else {
                self.add_content(len.saturating_sub(line_start));
                return emit(buf, len);
            };
            if buf.get(i) == Some(&CR) {
                match buf.get(i + 1) {
                    None => {
                        self.add_content(i.saturating_sub(line_start));
                        return emit(buf, i);
                    }
                    Some(&LF) => {
                        self.add_content(i.saturating_sub(line_start));
                        self.end_line();
                        let next = i + 2;
                        match buf.get(next) {
                            // Stop so the next call can look at the line
                            // start (possible dot or end of data).
                            None | Some(&DOT) => {
                                self.at_line_start = true;
                                return emit(buf, next);
                            }
                            Some(_) => {
                                pos = next;
                                line_start = next;
                                continue;
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
            // A bare CR or bare LF at `i` (RFC 5321 2.3.8).
            self.saw_bare = true;
            match self.bare {
                BareLineEndings::Reject => {
                    self.add_content(i.saturating_sub(line_start));
                    self.end_line();
                    pos = i + 1;
                    line_start = pos;
                }
                BareLineEndings::Normalize if i > 0 => {
                    // Emit up to it; the next call replaces it.
                    self.add_content(i.saturating_sub(line_start));
                    return emit(buf, i);
                }
                BareLineEndings::Normalize => {
                    // Never a line start: only raw CRLFs can begin a line
                    // that may hold a dot or the end of data.
                    self.end_line();
                    buf.advance(1);
                    return DataStep::Chunk(Bytes::from_static(CRLF));
                }
            }
        }
    }

    fn add_content(&mut self, n: usize) {
        if n > 0 {
            self.line_len = self.line_len.saturating_add(n as u64);
            self.check_len();
        }
    }

    fn end_line(&mut self) {
        self.check_len();
        self.line_len = 0;
    }

    fn check_len(&mut self) {
        let len = self.line_len.saturating_add(2);
        if self.max_line_len.is_some_and(|max| len > max as u64) {
            self.saw_long = true;
        }
    }
}

/// Block size of the DATA fast path.
const BLOCK: usize = 256;

/// The length of the longest prefix of `s` made of whole `BLOCK`-byte blocks that need no
/// attention: every CR is followed by LF and every LF (after the first byte) follows a
/// CR, no line starts with ".", and each block holds an LF (so no line in there is
/// `2 * BLOCK` bytes long or more). Looks one byte past the prefix, so a CRLF pair or a
/// line-start dot is never cut off at its end. Written branch-free over fixed-size
/// arrays so the compiler vectorises it; it runs over nearly all of a normal body.
fn clean_blocks(s: &[u8]) -> usize {
    let mut n = 0;
    while let Some(w) = s.get(n..n + BLOCK + 1) {
        let (Ok(a), Ok(b)) = (
            <&[u8; BLOCK]>::try_from(&w[..BLOCK]),
            <&[u8; BLOCK]>::try_from(&w[1..]),
        ) else {
            break;
        };
        let mut bad = 0u8;
        let mut lf = 0u8;
        for k in 0..BLOCK {
            let (x, y) = (a[k], b[k]);
            bad |= u8::from((x == CR) != (y == LF)) | u8::from((x == LF) & (y == DOT));
            lf |= u8::from(x == LF);
        }
        if bad != 0 || lf == 0 {
            break;
        }
        n += BLOCK;
    }
    n
}

fn emit(buf: &mut BytesMut, n: usize) -> DataStep {
    if n == 0 {
        DataStep::NeedMore
    } else {
        DataStep::Chunk(buf.split_to(n).freeze())
    }
}

/// Streaming dot-stuffer for DATA (RFC 5321 4.5.2): normalises bare CR and
/// bare LF to CRLF, doubles a leading '.'.
#[derive(Debug, Clone)]
pub struct DotStuffer {
    /// The output so far is empty or ends with CRLF.
    at_line_start: bool,
    /// The last input byte was a CR, already written as CRLF; an LF at the
    /// start of the next chunk completes that same CRLF.
    swallow_lf: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl DotStuffer {
    /// Creates a stuffer at the start of a message body.
    pub fn new() -> Self {
        Self {
            at_line_start: true,
            swallow_lf: false,
        }
    }

    /// Appends the stuffed form of `chunk` to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut BytesMut) {
        let mut rest = chunk;
        if self.swallow_lf && !rest.is_empty() {
            self.swallow_lf = false;
            if let Some((&LF, tail)) = rest.split_first() {
                rest = tail;
            }
        }
        out.reserve(rest.len() + 8);
        while let Some(&first) = rest.first() {
            if self.at_line_start && first == DOT {
                out.put_u8(DOT);
            }
            self.at_line_start = false;
            let Some(i) = memchr::memchr2(CR, LF, rest) else {
                out.extend_from_slice(rest);
                return;
            };
            let (text, tail) = rest.split_at(i);
            out.extend_from_slice(text);
            // Every kind of line ending goes out as CRLF (RFC 5321 2.3.8).
            out.extend_from_slice(CRLF);
            self.at_line_start = true;
            rest = match tail {
                [CR, LF, more @ ..] => more,
                [CR] => {
                    self.swallow_lf = true;
                    &[]
                }
                [_, more @ ..] => more,
                [] => &[],
            };
        }
    }

    /// Ends the body: adds CRLF if the body did not end with one (and was
    /// non-empty), then ".\r\n". The stuffer is then ready for a new body.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if !self.at_line_start {
            out.extend_from_slice(CRLF);
        }
        out.extend_from_slice(b".\r\n");
        *self = Self::new();
    }
}

/// Convenience: whole-body stuffing, end-of-data indication included.
pub fn dot_stuff(body: &[u8]) -> BytesMut {
    let mut out = BytesMut::with_capacity(body.len() + body.len() / 64 + 8);
    let mut stuffer = DotStuffer::new();
    stuffer.push(body, &mut out);
    stuffer.finish(&mut out);
    out
}

/// Counts out exactly `n` octets of a BDAT chunk (RFC 3030 2); the bytes
/// are passed through without any dot or line-ending handling.
#[derive(Debug, Clone)]
pub struct BdatDecoder {
    remaining: u64,
}

impl BdatDecoder {
    /// Creates a decoder for a chunk of `size` octets.
    pub fn new(size: u64) -> Self {
        Self { remaining: size }
    }

    /// Takes the next piece of the chunk from `buf`; `None` when `buf` is
    /// empty or the chunk is complete. Bytes past the chunk stay in `buf`.
    pub fn next(&mut self, buf: &mut BytesMut) -> Option<Bytes> {
        if self.remaining == 0 || buf.is_empty() {
            return None;
        }
        // A size beyond usize simply means "all of buf".
        let n = usize::try_from(self.remaining).map_or(buf.len(), |r| r.min(buf.len()));
        self.remaining = self.remaining.saturating_sub(n as u64);
        Some(buf.split_to(n).freeze())
    }

    /// Octets still expected.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// True once all octets have been taken.
    pub fn is_done(&self) -> bool {
        self.remaining == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use BareLineEndings::{Normalize, Reject};

    /// The block check, one property at a time, at the edges of its window.
    #[test]
    fn clean_blocks_edges() {
        let lines = |n: usize| b"abcdefghijklmnopqrstuvwxyz0123456789\r\n".repeat(n);
        let clean = lines(20); // 760 bytes: two whole blocks and the byte after them
        assert_eq!(clean_blocks(&clean), 2 * BLOCK);
        // The byte after a block must be there: a pair or a dot may start at the edge.
        assert_eq!(clean_blocks(&clean[..BLOCK]), 0);
        assert_eq!(clean_blocks(&clean[..BLOCK + 1]), BLOCK);
        assert_eq!(clean_blocks(&clean[..2 * BLOCK]), BLOCK);
        // A CR as the block's last byte is clean only with its LF just after it.
        let mut edge = vec![b'a'; BLOCK - 2];
        edge.extend_from_slice(b"\r\r\n");
        assert_eq!(edge.len(), BLOCK + 1);
        assert_eq!(clean_blocks(&edge), 0, "bare CR at byte 254");
        let mut edge = vec![b'a'; 100];
        edge.extend_from_slice(b"\r\n");
        edge.resize(BLOCK - 1, b'a');
        edge.extend_from_slice(b"\r\n");
        assert_eq!((edge[BLOCK - 1], edge.len()), (b'\r', BLOCK + 1));
        assert_eq!(clean_blocks(&edge), BLOCK, "CR at 255, LF at 256");
        edge[BLOCK] = b'x';
        assert_eq!(clean_blocks(&edge), 0, "CR at 255, then not LF");
        // Each disqualifier alone, in the first block: the second is never looked at.
        for (at, bad) in [
            (100, &b"\n"[..]), // bare LF
            (100, b"\r"),      // bare CR
            (37, b"."),        // a line that starts with a dot
            (0, b"\n"),        // an LF as the first byte: not checked here
        ] {
            let mut s = clean.clone();
            s[at..at + bad.len()].copy_from_slice(bad);
            let want = if at == 0 { 2 * BLOCK } else { 0 };
            assert_eq!(clean_blocks(&s), want, "{bad:?} at {at}");
        }
        // A block with no LF at all (a line of 256 bytes or more) is refused.
        let mut long = vec![b'a'; 300];
        long.extend_from_slice(&lines(10));
        assert_eq!(clean_blocks(&long), 0);
    }

    /// The fast path takes nearly all of a clean body, and resumes after the blocks it
    /// has to refuse (dot-stuffed lines), with and without a line-length limit.
    #[test]
    fn fast_path_takes_most_of_a_body() {
        let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\r\n";
        let plain: Vec<u8> = line.repeat(2000);
        let mut dotted = Vec::new();
        for i in 0..2000 {
            if i % 50 == 0 {
                dotted.extend_from_slice(b"..a line that starts with a dot\r\n");
            }
            dotted.extend_from_slice(line);
        }
        // Lines of 600 octets: refused blocks that do not end the call, so the fast
        // path must find its way back in mid-buffer.
        let mut long = Vec::new();
        for i in 0..2000 {
            if i % 40 == 0 {
                long.extend_from_slice(&[b'x'; 598]);
                long.extend_from_slice(b"\r\n");
            }
            long.extend_from_slice(line);
        }
        for (body, share) in [(&plain, 95), (&dotted, 75), (&long, 50)] {
            for max in [None, Some(1000)] {
                let mut dec = DataDecoder::new(Reject, max);
                let mut buf = BytesMut::from(&body[..]);
                buf.extend_from_slice(b".\r\n");
                let mut out = Vec::new();
                loop {
                    match dec.next(&mut buf) {
                        DataStep::Chunk(c) => out.extend_from_slice(&c),
                        DataStep::End => break,
                        DataStep::NeedMore => panic!("whole body given"),
                    }
                }
                assert_eq!(out.len(), body.len() - dot_count(body));
                assert!(
                    dec.fast * 100 >= body.len() * share,
                    "fast path took {} of {} octets (max {max:?})",
                    dec.fast,
                    body.len()
                );
            }
        }
    }

    fn dot_count(body: &[u8]) -> usize {
        body.windows(3).filter(|w| w == b"\n..").count() + usize::from(body.starts_with(b".."))
    }

    struct Decoded {
        body: Vec<u8>,
        ended: bool,
        rest: Vec<u8>,
        bare: bool,
        long: bool,
    }

    /// Feeds `chunks` in order, draining the decoder after each; checks the
    /// hold-back bound and that no chunk is empty.
    fn decode(policy: BareLineEndings, max: Option<usize>, chunks: &[&[u8]]) -> Decoded {
        let mut dec = DataDecoder::new(policy, max);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut ended = false;
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            if ended {
                continue;
            }
            loop {
                match dec.next(&mut buf) {
                    DataStep::NeedMore => {
                        assert!(buf.len() <= 2, "held back {:?}", &buf[..]);
                        assert!(!dec.is_done());
                        break;
                    }
                    DataStep::Chunk(c) => {
                        assert!(!c.is_empty());
                        assert!(!dec.is_done());
                        body.extend_from_slice(&c);
                    }
                    DataStep::End => {
                        ended = true;
                        assert!(dec.is_done());
                        break;
                    }
                }
            }
        }
        Decoded {
            body,
            ended,
            rest: buf.to_vec(),
            bare: dec.saw_bare_line_ending(),
            long: dec.saw_long_line(),
        }
    }

    /// Byte-at-a-time model of RFC 5321 4.5.2 decoding over the whole input.
    fn model(policy: BareLineEndings, max: Option<usize>, input: &[u8]) -> Decoded {
        let mut d = Decoded {
            body: Vec::new(),
            ended: false,
            rest: Vec::new(),
            bare: false,
            long: false,
        };
        let mut line_len = 0usize;
        let check = |line_len: usize, long: &mut bool| {
            if max.is_some_and(|m| line_len + 2 > m) {
                *long = true;
            }
        };
        let mut i = 0;
        let mut line_start = true;
        loop {
            if line_start {
                let tail = &input[i..];
                if tail.starts_with(b".\r\n") {
                    d.ended = true;
                    d.rest = input[i + 3..].to_vec();
                    return d;
                }
                if b".\r\n".starts_with(tail) && !tail.is_empty() {
                    break;
                }
                if tail.first() == Some(&b'.') {
                    i += 1;
                }
                line_start = false;
            }
            let Some(&b) = input.get(i) else { break };
            let next = input.get(i + 1).copied();
            if b == b'\r' && next.is_none() {
                break;
            }
            if b == b'\r' && next == Some(b'\n') {
                check(line_len, &mut d.long);
                line_len = 0;
                d.body.extend_from_slice(b"\r\n");
                i += 2;
                line_start = true;
            } else if b == b'\r' || b == b'\n' {
                d.bare = true;
                check(line_len, &mut d.long);
                line_len = 0;
                match policy {
                    Reject => d.body.push(b),
                    _ => d.body.extend_from_slice(b"\r\n"),
                }
                i += 1;
            } else {
                d.body.push(b);
                line_len += 1;
                check(line_len, &mut d.long);
                i += 1;
            }
        }
        d.rest = input[i..].to_vec();
        d
    }

    fn normalise(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            match (c, b.get(i + 1)) {
                (b'\r', Some(b'\n')) => {
                    out.extend_from_slice(b"\r\n");
                    i += 2;
                }
                (b'\r' | b'\n', _) => {
                    out.extend_from_slice(b"\r\n");
                    i += 1;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out
    }

    fn split_at_points<'a>(input: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut prev = 0;
        for p in points {
            chunks.push(&input[prev..p]);
            prev = p;
        }
        chunks.push(&input[prev..]);
        chunks
    }

    fn all_splits(policy: BareLineEndings, input: &[u8]) -> Decoded {
        let whole = decode(policy, None, &[input]);
        for k in 0..=input.len() {
            let two = decode(policy, None, &[&input[..k], &input[k..]]);
            assert_eq!(two.body, whole.body, "split at {k}");
            assert_eq!(two.ended, whole.ended);
            assert_eq!(two.rest, whole.rest);
            assert_eq!(two.bare, whole.bare);
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        let single = decode(policy, None, &bytes);
        assert_eq!(single.body, whole.body);
        assert_eq!(single.ended, whole.ended);
        whole
    }

    #[test]
    fn known_answers() {
        // (input, body, ended, rest)
        type Case<'a> = (&'a [u8], &'a [u8], bool, &'a [u8]);
        let cases: &[Case] = &[
            (b".\r\n", b"", true, b""),
            (b".\r\nQUIT\r\n", b"", true, b"QUIT\r\n"),
            (b"a\r\nb\r\n.\r\n", b"a\r\nb\r\n", true, b""),
            (
                b"a\r\n.\r\nMAIL FROM:<>\r\n",
                b"a\r\n",
                true,
                b"MAIL FROM:<>\r\n",
            ),
            (b"..x\r\n.\r\n", b".x\r\n", true, b""),
            (b"..\r\n.\r\n", b".\r\n", true, b""),
            (b"a\r\n..\r\n.\r\n", b"a\r\n.\r\n", true, b""),
            (b"a\r\n...\r\n.\r\n", b"a\r\n..\r\n", true, b""),
            (b"a.b\r\n.\r\n", b"a.b\r\n", true, b""),
            (b"\r\n.\r\n", b"\r\n", true, b""),
            (b"\r\n\r\n.\r\n", b"\r\n\r\n", true, b""),
            (b"a\r\n.", b"a\r\n", false, b"."),
            (b"a\r\n.\r", b"a\r\n", false, b".\r"),
            (b"a\r", b"a", false, b"\r"),
            (b"abc", b"abc", false, b""),
            (b".x", b"x", false, b""),
            (b"a\r\n.\r\n.\r\n", b"a\r\n", true, b".\r\n"),
        ];
        for &(input, body, ended, rest) in cases {
            for policy in [Reject, Normalize] {
                let d = all_splits(policy, input);
                assert_eq!(d.body, body, "{input:?}");
                assert_eq!(d.ended, ended, "{input:?}");
                assert_eq!(d.rest, rest, "{input:?}");
                assert!(!d.bare, "{input:?}");
            }
        }
    }

    #[test]
    fn bare_line_endings_by_policy() {
        // (input, Reject body, Normalize body)
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"a\nb\r\n.\r\n", b"a\nb\r\n", b"a\r\nb\r\n"),
            (b"a\rb\r\n.\r\n", b"a\rb\r\n", b"a\r\nb\r\n"),
            (b"\n\r\n.\r\n", b"\n\r\n", b"\r\n\r\n"),
            (b"a\r\r\n.\r\n", b"a\r\r\n", b"a\r\n\r\n"),
            (
                b"a\n\n\r\r\r\n.\r\n",
                b"a\n\n\r\r\r\n",
                b"a\r\n\r\n\r\n\r\n\r\n",
            ),
        ];
        for &(input, reject, normalize) in cases {
            let d = all_splits(Reject, input);
            assert_eq!(d.body, reject, "{input:?}");
            assert!(d.ended && d.bare);
            let d = all_splits(Normalize, input);
            assert_eq!(d.body, normalize, "{input:?}");
            assert!(d.ended && d.bare);
        }
    }

    /// `before` is sent, then a real end of data and a pipelined command.
    /// Nothing in `before` may end the data; the decoded body is checked.
    fn smuggling(before: &[u8], reject: &[u8], normalize: &[u8], bare: bool) {
        let mut input = before.to_vec();
        input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
        for (policy, want) in [(Reject, reject), (Normalize, normalize)] {
            // No prefix that stops short of the real terminator may end.
            let cut = before.len() + 5;
            for k in 0..cut {
                let d = decode(policy, None, &[&input[..k]]);
                assert!(!d.ended, "{policy:?} ended after {k} bytes");
            }
            let d = all_splits(policy, &input);
            let mut body = want.to_vec();
            body.extend_from_slice(b"\r\n");
            assert!(d.ended);
            assert_eq!(d.body, body, "{policy:?}");
            assert_eq!(d.rest, b"QUIT\r\n");
            assert_eq!(d.bare, bare);
        }
    }

    #[test]
    fn smuggling_lf_dot_lf() {
        smuggling(
            b"x\n.\nMAIL FROM:<a@b>",
            b"x\n.\nMAIL FROM:<a@b>",
            b"x\r\n.\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_lf_dot_crlf() {
        smuggling(
            b"x\n.\r\nMAIL FROM:<a@b>",
            b"x\n.\r\nMAIL FROM:<a@b>",
            b"x\r\n.\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_cr_dot_cr() {
        smuggling(
            b"x\r.\rMAIL FROM:<a@b>",
            b"x\r.\rMAIL FROM:<a@b>",
            b"x\r\n.\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_cr_dot_crlf() {
        smuggling(
            b"x\r.\r\nMAIL FROM:<a@b>",
            b"x\r.\r\nMAIL FROM:<a@b>",
            b"x\r\n.\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_crlf_dot_cr() {
        // A real line start: the dot is a transparency dot and is removed.
        smuggling(
            b"x\r\n.\rMAIL FROM:<a@b>",
            b"x\r\n\rMAIL FROM:<a@b>",
            b"x\r\n\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_crlf_dot_lf() {
        smuggling(
            b"x\r\n.\nMAIL FROM:<a@b>",
            b"x\r\n\nMAIL FROM:<a@b>",
            b"x\r\n\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_crlf_dot_cr_crlf() {
        smuggling(
            b"x\r\n.\r\r\nMAIL FROM:<a@b>",
            b"x\r\n\r\r\nMAIL FROM:<a@b>",
            b"x\r\n\r\n\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_nul_dot() {
        smuggling(
            b"x\r\n\0.\r\nMAIL FROM:<a@b>",
            b"x\r\n\0.\r\nMAIL FROM:<a@b>",
            b"x\r\n\0.\r\nMAIL FROM:<a@b>",
            false,
        );
    }

    #[test]
    fn smuggling_space_dot() {
        smuggling(
            b"x\r\n .\r\nMAIL FROM:<a@b>",
            b"x\r\n .\r\nMAIL FROM:<a@b>",
            b"x\r\n .\r\nMAIL FROM:<a@b>",
            false,
        );
    }

    #[test]
    fn smuggling_dot_lf_first_line() {
        smuggling(
            b".\nMAIL FROM:<a@b>",
            b"\nMAIL FROM:<a@b>",
            b"\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_dot_cr_first_line() {
        smuggling(
            b".\rMAIL FROM:<a@b>",
            b"\rMAIL FROM:<a@b>",
            b"\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn smuggling_lf_cr_dot_cr_lf() {
        // "\n\r" is two bare endings, not a CRLF.
        smuggling(
            b"x\n\r.\n\rMAIL FROM:<a@b>",
            b"x\n\r.\n\rMAIL FROM:<a@b>",
            b"x\r\n\r\n.\r\n\r\nMAIL FROM:<a@b>",
            true,
        );
    }

    #[test]
    fn normalized_ending_is_not_a_line_start() {
        // After "\n" is normalised, ".." must not lose a dot.
        let d = all_splits(Normalize, b"a\n..\r\n.\r\n");
        assert_eq!(d.body, b"a\r\n..\r\n");
        assert!(d.ended);
    }

    #[test]
    fn long_lines_are_flagged_but_passed() {
        let mut input = vec![b'a'; 998];
        input.extend_from_slice(b"\r\n.\r\n");
        let d = decode(Reject, Some(1000), &[&input]);
        assert!(d.ended && !d.long);
        let mut input = vec![b'a'; 999];
        input.extend_from_slice(b"\r\n.\r\n");
        let d = decode(Reject, Some(1000), &[&input]);
        assert!(d.ended && d.long);
        assert_eq!(d.body.len(), 1001);
        // The transparency dot does not count (RFC 5321 4.5.3.1.6).
        let mut input = b".".to_vec();
        input.extend_from_slice(&[b'.'; 998]);
        input.extend_from_slice(b"\r\n.\r\n");
        let d = decode(Reject, Some(1000), &[&input]);
        assert!(d.ended && !d.long);
        // An unterminated line is flagged while still arriving.
        let d = decode(Reject, Some(1000), &[&[b'x'; 1500]]);
        assert!(!d.ended && d.long);
    }

    #[test]
    fn chunks_are_views_of_the_buffer() {
        let mut dec = DataDecoder::new(Reject, None);
        let mut buf = BytesMut::from(&b"hello\r\n..world\r\n.\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let mut seen = Vec::new();
        while let DataStep::Chunk(c) = dec.next(&mut buf) {
            seen.push((c.as_ptr() as usize - base, c.to_vec()));
        }
        assert_eq!(
            seen,
            vec![(0, b"hello\r\n".to_vec()), (8, b".world\r\n".to_vec())]
        );
        assert!(dec.is_done());
        assert_eq!(dec.next(&mut buf), DataStep::End);
    }

    #[test]
    fn big_body_comes_out_in_few_chunks() {
        let mut body = Vec::new();
        while body.len() < 1 << 20 {
            body.extend_from_slice(b"The quick brown fox jumps over the lazy dog 0123456789\r\n");
        }
        body.extend_from_slice(b".\r\n");
        let mut dec = DataDecoder::new(Reject, Some(1000));
        let mut buf = BytesMut::from(&body[..]);
        let mut n = 0;
        let mut total = 0;
        while let DataStep::Chunk(c) = dec.next(&mut buf) {
            n += 1;
            total += c.len();
        }
        assert!(dec.is_done());
        assert_eq!(n, 1);
        assert_eq!(total, body.len() - 3);
    }

    #[test]
    fn stuffer_basics() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b".\r\n"),
            (b"a", b"a\r\n.\r\n"),
            (b"a\r\n", b"a\r\n.\r\n"),
            (b".", b"..\r\n.\r\n"),
            (b".\r\n.", b"..\r\n..\r\n.\r\n"),
            (b"a\n.b", b"a\r\n..b\r\n.\r\n"),
            (b"a\r.b\r", b"a\r\n..b\r\n.\r\n"),
            (b"\r\n", b"\r\n.\r\n"),
            (b"a.b\n\n", b"a.b\r\n\r\n.\r\n"),
        ];
        for &(body, want) in cases {
            assert_eq!(&dot_stuff(body)[..], want, "{body:?}");
            let mut s = DotStuffer::new();
            let mut out = BytesMut::new();
            for b in body.chunks(1) {
                s.push(b, &mut out);
            }
            s.finish(&mut out);
            assert_eq!(&out[..], want, "{body:?}");
        }
    }

    #[test]
    fn stuffer_joins_crlf_across_pushes() {
        let mut s = DotStuffer::new();
        let mut out = BytesMut::new();
        s.push(b"a\r", &mut out);
        s.push(b"", &mut out);
        s.push(b"\n.b", &mut out);
        s.finish(&mut out);
        assert_eq!(&out[..], b"a\r\n..b\r\n.\r\n");
    }

    #[test]
    fn bdat_counts_exactly() {
        let mut d = BdatDecoder::new(5);
        let mut buf = BytesMut::from(&b"abc"[..]);
        assert_eq!(d.next(&mut buf).as_deref(), Some(&b"abc"[..]));
        assert_eq!(d.next(&mut buf), None);
        assert_eq!(d.remaining(), 2);
        buf.extend_from_slice(b"\r\n.\r\nBDAT");
        assert_eq!(d.next(&mut buf).as_deref(), Some(&b"\r\n"[..]));
        assert!(d.is_done());
        assert_eq!(d.next(&mut buf), None);
        assert_eq!(&buf[..], b".\r\nBDAT");

        let mut d = BdatDecoder::new(0);
        assert!(d.is_done());
        assert_eq!(d.next(&mut buf), None);

        let mut d = BdatDecoder::new(u64::MAX);
        assert_eq!(d.next(&mut buf).as_deref(), Some(&b".\r\nBDAT"[..]));
        assert_eq!(d.remaining(), u64::MAX - 7);
        assert!(buf.is_empty());
    }

    fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                3 => Just(b'.'),
                3 => Just(b'\r'),
                3 => Just(b'\n'),
                1 => Just(0u8),
                2 => Just(b'a'),
                1 => any::<u8>(),
            ],
            0..120,
        )
    }

    /// Long bodies made of lines (mostly clean CRLF text, so the block fast path runs),
    /// with dotted lines, bare CR/LF, long lines and end markers mixed in.
    fn long_body_strategy() -> impl Strategy<Value = Vec<u8>> {
        let line = (
            prop_oneof![
                14 => Just(&b""[..]),
                1 => Just(&b"."[..]),
                1 => Just(&b".."[..]),
            ],
            prop_oneof![4 => 0usize..90, 1 => 90usize..700, 1 => 0usize..3],
            prop_oneof![
                30 => Just(&b"\r\n"[..]),
                1 => Just(&b"\n"[..]),
                1 => Just(&b"\r"[..]),
                1 => Just(&b"\r\n.\r\n"[..]),
                1 => Just(&b""[..]),
            ],
        );
        prop::collection::vec(line, 0..40).prop_map(|lines| {
            let mut out = Vec::new();
            for (i, (head, n, end)) in lines.into_iter().enumerate() {
                out.extend_from_slice(head);
                out.extend((0..n).map(|k| b"lorem ipsum.dolor"[(k + i) % 17]));
                out.extend_from_slice(end);
            }
            out
        })
    }

    fn policy_strategy() -> impl Strategy<Value = BareLineEndings> {
        prop_oneof![Just(Reject), Just(Normalize)]
    }

    /// The line left open at the end of a block region is measured from the byte after
    /// the region's last LF: a line of exactly the limit (with its CRLF) that starts
    /// inside the region and ends past it is not too long; one octet more is.
    #[test]
    fn line_open_after_the_block_region_is_measured_exactly() {
        for (content, long) in [(598, false), (599, true)] {
            let mut input = Vec::new();
            for _ in 0..5 {
                input.extend_from_slice(&[b'b'; 98]);
                input.extend_from_slice(b"\r\n");
            }
            input.extend(std::iter::repeat_n(b'c', content));
            input.extend_from_slice(b"\r\n.\r\n");
            let d = decode(Reject, Some(600), &[&input]);
            assert!(d.ended);
            assert_eq!(d.long, long, "content {content}");
        }
    }

    /// The widest line the block path can pass over: LFs 511 bytes apart, at the first
    /// byte of one block and the last of the next (content 509 octets, 511 with CRLF).
    /// With a limit of 510 it must still be seen as too long.
    #[test]
    fn long_line_between_extreme_block_lfs_is_seen() {
        let mut input = Vec::new();
        input.extend_from_slice(&[b'a'; 100]);
        input.extend_from_slice(b"\r\n"); // LF at 101
        input.extend_from_slice(&[b'b'; 153]);
        input.extend_from_slice(b"\r\n"); // LF at 256: first byte of block 1
        input.extend_from_slice(&[b'c'; 509]);
        input.extend_from_slice(b"\r\n"); // LF at 767: last byte of block 2
        assert_eq!(input.len(), 768);
        for _ in 0..4 {
            input.extend_from_slice(&[b'd'; 100]);
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(b".\r\n");
        for (max, long) in [(510, true), (511, false)] {
            let d = decode(Reject, Some(max), &[&input]);
            assert!(d.ended);
            assert_eq!(d.long, long, "limit {max}");
        }
    }

    proptest! {
        #[test]
        fn stuff_then_decode_round_trips(
            body in body_strategy(),
            push_cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            dec_cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            policy in policy_strategy(),
        ) {
            let whole = dot_stuff(&body);
            let mut s = DotStuffer::new();
            let mut split = BytesMut::new();
            for piece in split_at_points(&body, &push_cuts) {
                s.push(piece, &mut split);
            }
            s.finish(&mut split);
            prop_assert_eq!(&whole[..], &split[..]);

            // (1) The only end-of-data indication is the final one.
            if body.is_empty() {
                prop_assert_eq!(&whole[..], b".\r\n");
            } else {
                let pos = memchr::memmem::find(&whole, b"\r\n.\r\n");
                prop_assert_eq!(pos, Some(whole.len() - 5));
                prop_assert!(!whole.starts_with(b".\r\n"));
            }

            // (2) Decoding gives back the normalised body.
            let mut want = normalise(&body);
            if !want.is_empty() && !want.ends_with(b"\r\n") {
                want.extend_from_slice(b"\r\n");
            }
            let d = decode(policy, None, &split_at_points(&whole, &dec_cuts));
            prop_assert!(d.ended);
            prop_assert_eq!(d.body, want);
            prop_assert!(d.rest.is_empty());
            prop_assert!(!d.bare);
        }

        /// Lines around the limit and longer than a fast-path block, so the block scan
        /// (which skips line accounting) must leave the long-line verdict unchanged.
        #[test]
        fn long_line_verdict_survives_the_block_fast_path(
            // Short lines keep every block holding an LF (so the block path runs); the
            // longer ones straddle two blocks, where a missed long line would hide.
            lens in prop::collection::vec(
                prop_oneof![0usize..120, 250usize..520, 0usize..1100],
                1..30,
            ),
            max in 200usize..700,
            dot_every in 0usize..4,
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            policy in policy_strategy(),
        ) {
            let mut input = Vec::new();
            for (i, &n) in lens.iter().enumerate() {
                if dot_every > 0 && i % dot_every == 0 {
                    input.push(b'.');
                }
                input.extend((0..n).map(|k| b'a' + (k % 26) as u8));
                input.extend_from_slice(b"\r\n");
            }
            input.extend_from_slice(b".\r\n");
            let want = model(policy, Some(max), &input);
            let whole = decode(policy, Some(max), &[&input]);
            let split = decode(policy, Some(max), &split_at_points(&input, &cuts));
            for d in [&whole, &split] {
                prop_assert!(d.ended);
                prop_assert_eq!(&d.body, &want.body);
                prop_assert_eq!(d.long, want.long);
            }
        }

        /// Bodies of many short lines, several blocks long, so the block fast path runs:
        /// blocks where every line starts with a dot, or holding a bare CR or LF, must
        /// be refused by it and read exactly as the byte-at-a-time model reads them.
        #[test]
        fn decoder_matches_model_on_multi_block_bodies(
            lines in prop::collection::vec((0u8..8, 0usize..40), 20..120),
            dot_share in 0u8..=4,
            bare_share in 0u8..=2,
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            policy in policy_strategy(),
        ) {
            let mut input = Vec::new();
            for (r, len) in lines {
                if r % 4 < dot_share {
                    input.push(b'.');
                }
                input.extend((0..len).map(|k| b'a' + (k % 26) as u8));
                // Mostly CRLF; now and then a bare LF or CR, or a dot right after one.
                match r {
                    6 if bare_share > 0 => input.push(b'\n'),
                    7 if bare_share > 1 => input.extend_from_slice(b"\r.x"),
                    _ => input.extend_from_slice(b"\r\n"),
                }
            }
            input.extend_from_slice(b"\r\n.\r\n");
            let want = model(policy, None, &input);
            let whole = decode(policy, None, &[&input]);
            let split = decode(policy, None, &split_at_points(&input, &cuts));
            for d in [&whole, &split] {
                prop_assert_eq!(&d.body, &want.body);
                prop_assert_eq!(d.ended, want.ended);
                prop_assert_eq!(&d.rest, &want.rest);
                prop_assert_eq!(d.bare, want.bare);
                prop_assert_eq!(d.long, want.long);
            }
        }

        #[test]
        fn decoder_matches_model_under_any_split(
            input in body_strategy(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
            policy in policy_strategy(),
            max in prop::option::of(0usize..12),
        ) {
            let want = model(policy, max, &input);
            let whole = decode(policy, max, &[&input]);
            let split = decode(policy, max, &split_at_points(&input, &cuts));
            for d in [&whole, &split] {
                prop_assert_eq!(&d.body, &want.body);
                prop_assert_eq!(d.ended, want.ended);
                prop_assert_eq!(&d.rest, &want.rest);
                prop_assert_eq!(d.bare, want.bare);
                prop_assert_eq!(d.long, want.long);
                prop_assert!(d.ended || d.rest.len() <= 2);
            }
        }

        #[test]
        fn decoder_matches_model_on_long_bodies(
            input in long_body_strategy(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            policy in policy_strategy(),
            max in prop::option::of(prop_oneof![Just(1000usize), 500usize..800, 0usize..100]),
        ) {
            let want = model(policy, max, &input);
            let whole = decode(policy, max, &[&input]);
            let split = decode(policy, max, &split_at_points(&input, &cuts));
            for d in [&whole, &split] {
                prop_assert_eq!(&d.body, &want.body);
                prop_assert_eq!(d.ended, want.ended);
                prop_assert_eq!(&d.rest, &want.rest);
                prop_assert_eq!(d.bare, want.bare);
                prop_assert_eq!(d.long, want.long);
            }
        }

        #[test]
        fn bdat_takes_exactly_size(
            data in prop::collection::vec(any::<u8>(), 0..64),
            size in 0u64..80,
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let mut d = BdatDecoder::new(size);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for piece in split_at_points(&data, &cuts) {
                buf.extend_from_slice(piece);
                while let Some(c) = d.next(&mut buf) {
                    prop_assert!(!c.is_empty());
                    got.extend_from_slice(&c);
                }
            }
            let n = data.len().min(size as usize);
            prop_assert_eq!(&got[..], &data[..n]);
            prop_assert_eq!(&buf[..], &data[n..]);
            prop_assert_eq!(d.remaining(), size - n as u64);
        }
    }
}
