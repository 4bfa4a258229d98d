//! The DATA fast path: finds the stretch of a body that needs no line-by-line work.
//!
//! Two passes over a window of the receive buffer, each as cheap per octet as it can be:
//! `memchr::memmem` finds the next line that starts with "." (a transparency dot or the
//! end of data), using AVX2 or SSE2 as the CPU offers them at run time; then a block
//! check, compiled for the baseline target, proves that every CR and LF before it forms a
//! CRLF and that lines are short. The window stays in the first-level cache between
//! the two passes, so the body is read from memory once.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::{CR, LF};

/// Block size of the line-ending check.
pub(super) const BLOCK: usize = 256;

/// Octets searched for a dot line start per `memmem` call: small enough to stay in the
/// first-level cache for the block check that follows, large enough that the call's
/// fixed cost is lost in it.
const WINDOW: usize = 16 * 1024;

/// An LF followed by ".": the only place a transparency dot or the end of data can be
/// (RFC 5321 4.5.2). Built once; `memmem` picks its vector code at run time.
static DOT_LINE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\n."));

/// What one decoding step has learnt about where the next dot line start is, so a
/// window is searched once however many times the fast path is entered in it.
/// Positions are indices into the buffer, which does not move within a step.
#[derive(Debug, Default)]
pub(super) struct DotLines {
    /// No "\n." has its LF at an index below this one (from where the search began).
    clear_until: usize,
    /// `clear_until` is the LF of a "\n." pair.
    hit: bool,
    /// Where the last search began.
    from: usize,
}

impl DotLines {
    /// The end of the region that starts at `pos` and holds no line start with "."
    /// after `pos`: just past the LF of the next "\n.", or one short of the searched
    /// window's end. `buf[end]` exists, so the block check has its byte of lookahead.
    /// `pos < buf.len()`.
    pub(super) fn region_end(&mut self, buf: &[u8], pos: usize) -> usize {
        let known =
            pos >= self.from && (pos < self.clear_until || (self.hit && pos == self.clear_until));
        if !known {
            let hay = &buf[pos..buf.len().min(pos + WINDOW)];
            self.from = pos;
            (self.clear_until, self.hit) = match DOT_LINE.find(hay) {
                Some(i) => (pos + i, true),
                None => (pos + hay.len() - 1, false),
            };
        }
        if self.hit {
            self.clear_until + 1
        } else {
            self.clear_until
        }
    }
}

/// How many octets from `pos` need no line-by-line work, and whether that is all of the
/// region the fast path could take (if not, the block after them was refused).
/// `buf[pos]` is not an LF.
pub(super) fn clean_run(buf: &[u8], pos: usize, dots: &mut DotLines) -> (usize, bool) {
    // The first block alone first: in a body of long lines it fails, and the dot
    // search would have been wasted.
    if !buf.get(pos..=pos + BLOCK).is_some_and(block_ok) {
        return (0, false);
    }
    let end = dots.region_end(buf, pos);
    let n = clean_prefix(&buf[pos..=end], BLOCK);
    (n, pos + n == end)
}

/// The length of the longest prefix of `s[..s.len() - 1]` (the last byte is lookahead)
/// that the block check passes, given that `s[..=known]` passed it already. Checks
/// `BLOCK` octets at a time, the last block overlapping the one before it so the
/// prefix can reach the end.
pub(super) fn clean_prefix(s: &[u8], known: usize) -> usize {
    let body = s.len().saturating_sub(1);
    if known >= body {
        return body;
    }
    if body < BLOCK {
        return known;
    }
    let mut n = known;
    while n + BLOCK <= body {
        if !block_ok(&s[n..=n + BLOCK]) {
            return n;
        }
        n += BLOCK;
    }
    if n < body && !block_ok(&s[body - BLOCK..=body]) {
        return n;
    }
    body
}

/// One block and the byte after it: every CR is followed by LF and every LF (after the
/// first byte) follows a CR, and an LF is among the block's last `BLOCK` bytes (the
/// lookahead included), so no line that ends in a run of checked blocks is `2 * BLOCK`
/// bytes long or more. Branch-free over 16-byte lanes so the compiler vectorises it
/// with the baseline instruction set: two loads, two compares and three logic
/// operations per 16 octets.
// Not inlined: inlined into the decoder's loop, the compiler rebuilds one of the two
// overlapping loads from the other with shuffles, which costs more than the call.
#[inline(never)]
fn block_ok(w: &[u8]) -> bool {
    let Ok(w) = <&[u8; BLOCK + 1]>::try_from(w) else {
        return false;
    };
    let mut bad = 0u8;
    let mut lf = 0u8;
    for (&x, &y) in w[..BLOCK].iter().zip(&w[1..]) {
        let l = y == LF;
        bad |= u8::from((x == CR) != l);
        lf |= u8::from(l);
    }
    bad == 0 && lf != 0
}

#[cfg(test)]
mod tests {
    //! The fast path's internals; everything observable is tested in `tests/data.rs`.
    use super::*;
    use crate::data::{BareLineEndings, DataDecoder, DataStep};
    use bytes::BytesMut;

    fn clean_prefix0(s: &[u8]) -> usize {
        clean_prefix(s, 0)
    }

    fn lines(n: usize) -> Vec<u8> {
        b"abcdefghijklmnopqrstuvwxyz0123456789\r\n".repeat(n)
    }

    /// The block check, one property at a time, at the edges of its window.
    #[test]
    fn block_check_edges() {
        let clean = lines(20); // 760 bytes
        assert_eq!(clean_prefix0(&clean), 759);
        // The byte after a block must be there: a pair may straddle the edge.
        assert_eq!(clean_prefix0(&clean[..BLOCK]), 0);
        assert_eq!(clean_prefix0(&clean[..BLOCK + 1]), BLOCK);
        assert_eq!(
            clean_prefix0(&clean[..BLOCK + 2]),
            BLOCK + 1,
            "overlapping tail"
        );
        // A CR as the block's last byte is clean only with its LF just after it.
        let mut edge = vec![b'a'; BLOCK - 2];
        edge.extend_from_slice(b"\r\r\n");
        assert_eq!(clean_prefix0(&edge), 0, "bare CR at byte 254");
        let mut edge = vec![b'a'; 100];
        edge.extend_from_slice(b"\r\n");
        edge.resize(BLOCK - 1, b'a');
        edge.extend_from_slice(b"\r\n");
        assert_eq!((edge[BLOCK - 1], edge.len()), (b'\r', BLOCK + 1));
        assert_eq!(clean_prefix0(&edge), BLOCK, "CR at 255, LF at 256");
        edge[BLOCK] = b'x';
        assert_eq!(clean_prefix0(&edge), 0, "CR at 255, then not LF");
        // Each disqualifier alone, in the first block or the overlapping last one.
        for at in [100, 700] {
            for bad in [&b"\n"[..], b"\r", b"\n\r", b"\r\r\n", b"\r\n\n"] {
                let mut s = clean.clone();
                s[at..at + bad.len()].copy_from_slice(bad);
                let want = if at == 100 { 0 } else { 2 * BLOCK };
                assert_eq!(clean_prefix0(&s), want, "{bad:?} at {at}");
            }
        }
        // An LF as the very first byte is the caller's to check; a dot is not checked.
        let mut s = clean.clone();
        s[0] = b'\n';
        s[38] = b'.';
        assert_eq!(clean_prefix0(&s), 759);
        // A block with no LF at all (a line of 256 bytes or more) is refused.
        let mut long = vec![b'a'; 300];
        long.extend_from_slice(&lines(10));
        assert_eq!(clean_prefix0(&long), 0);
    }

    /// The dot search remembers its window: a region ends just past the LF of the
    /// next "\n.", or one byte short of what was searched.
    #[test]
    fn dot_lines_bound_the_region() {
        let mut buf = lines(3);
        buf.extend_from_slice(b".dot\r\n");
        buf.extend_from_slice(&lines(2));
        let lf = 3 * 38 - 1;
        let mut d = DotLines::default();
        assert_eq!(d.region_end(&buf, 0), lf + 1);
        assert_eq!(d.region_end(&buf, 50), lf + 1);
        assert_eq!(d.region_end(&buf, lf), lf + 1);
        assert_eq!(d.region_end(&buf, lf + 2), buf.len() - 1);
        assert_eq!(d.region_end(&buf, lf + 3), buf.len() - 1);
        let big = lines(1000);
        let mut d = DotLines::default();
        assert_eq!(d.region_end(&big, 10), 10 + WINDOW - 1);
        assert_eq!(d.region_end(&big, WINDOW + 9), 2 * WINDOW + 8);
    }

    fn decode_all(body: &[u8], max: Option<usize>) -> (Vec<u8>, usize) {
        let mut dec = DataDecoder::new(BareLineEndings::Reject, max);
        let mut buf = BytesMut::from(body);
        buf.extend_from_slice(b".\r\n");
        let mut out = Vec::new();
        loop {
            match dec.next(&mut buf) {
                DataStep::Chunk(c) => out.extend_from_slice(&c),
                DataStep::End => break,
                DataStep::NeedMore => panic!("whole body given"),
            }
        }
        (out, dec.fast)
    }

    /// The fast path takes nearly all of a clean body, and resumes after the blocks it
    /// has to refuse, with and without a line-length limit.
    #[test]
    fn fast_path_takes_most_of_a_body() {
        let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\r\n";
        let plain: Vec<u8> = line.repeat(2000);
        let mut dotted = Vec::new();
        for i in 0..2000 {
            if i % 30 == 0 {
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
        for (body, share) in [(&plain, 99), (&dotted, 95), (&long, 60)] {
            for max in [None, Some(1000)] {
                let (out, fast) = decode_all(body, max);
                let dots = body.windows(3).filter(|w| w == b"\n..").count()
                    + usize::from(body.starts_with(b".."));
                assert_eq!(out.len(), body.len() - dots);
                assert!(
                    fast * 100 >= body.len() * share,
                    "fast path took {fast} of {} octets (max {max:?})",
                    body.len()
                );
            }
        }
    }
}
