//! The DATA fast path: finds the stretch of a body that needs no line-by-line work.
//!
//! One pass over the receive buffer, 256 octets at a time, with a check written so
//! that the compiler turns it into a handful of vector operations per 16 octets on the
//! baseline instruction set (SSE2 on x86-64): three loads, three compares and five
//! logic operations, no branch inside a block. A body is read from memory once, and
//! the check keeps pace with the read, so memory and arithmetic overlap.
//!
//! A variant that first searched each 16 KiB window for dot lines with
//! `memchr::memmem` (AVX2 when the CPU has it) and then ran a lighter check over the
//! window measured slower on the project's AMD machine: the two passes do not
//! overlap (BENCHMARKS.md).

use super::{CR, DOT, LF};

/// Block size of the check.
pub(super) const BLOCK: usize = 256;

/// How many octets from `pos` need no line-by-line work: whole blocks that pass the
/// check, then, if the next block failed only because a line in it starts with "."
/// (a transparency dot or the end of data), the octets up to that line's start.
/// At least one octet of `buf` follows the run (the check looks two ahead).
/// `buf[pos]` is not an LF.
pub(super) fn clean_run(buf: &[u8], pos: usize) -> usize {
    let s = buf.get(pos..).unwrap_or_default();
    let mut n = 0;
    while let Some(w) = s.get(n..n + BLOCK + 2) {
        match check(w) {
            Verdict::Clean => n += BLOCK,
            Verdict::DotLine => return n + first_dot_line(w).unwrap_or(0),
            Verdict::Refused => return n,
        }
    }
    n
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Every CR in the block is followed by LF, every LF after its first byte follows a
    /// CR, no line starts with "." in its octets 2 to 257, and an LF is among its octets
    /// 1 to 256, so no line that ends in a run of clean blocks is `2 * BLOCK` octets
    /// long or more.
    Clean,
    /// As clean, except that a line starts with ".".
    DotLine,
    /// A bare CR or LF, or no LF: the line-by-line path must look.
    Refused,
}

/// Checks one block and the two octets after it. Branch-free, so the compiler
/// vectorises it; not inlined, because inlined into the decoder's loop the compiler
/// rebuilds the overlapping loads from one another with shuffles, which costs more than
/// the call.
#[inline(never)]
fn check(w: &[u8]) -> Verdict {
    let Ok(w) = <&[u8; BLOCK + 2]>::try_from(w) else {
        return Verdict::Refused;
    };
    let (mut pair, mut dot, mut lf) = (0u8, 0u8, 0u8);
    for ((&x, &y), &z) in w[..BLOCK].iter().zip(&w[1..]).zip(&w[2..]) {
        let (c, l) = (x == CR, y == LF);
        // Once pairs are known good, a CR at k is a line end and k + 2 a line start.
        pair |= u8::from(c != l);
        dot |= u8::from(c & (z == DOT));
        lf |= u8::from(l);
    }
    match (pair, lf, dot) {
        (0, 1, 0) => Verdict::Clean,
        (0, 1, _) => Verdict::DotLine,
        _ => Verdict::Refused,
    }
}

/// In a block with good pairs, the offset of the first line start with "." (just past
/// its LF), if it is within the octets the check vouched for (up to 257).
fn first_dot_line(w: &[u8]) -> Option<usize> {
    memchr::memchr_iter(LF, w.get(..=BLOCK)?)
        .find(|&i| i > 0 && w.get(i + 1) == Some(&DOT))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    //! The fast path's internals; everything observable is tested in `tests/data.rs`.
    use super::*;
    use crate::data::{BareLineEndings, DataDecoder, DataStep};
    use bytes::BytesMut;

    fn lines(n: usize) -> Vec<u8> {
        b"abcdefghijklmnopqrstuvwxyz0123456789\r\n".repeat(n)
    }

    /// The block check, one property at a time, at the edges of its window.
    #[test]
    fn block_check_edges() {
        let clean = lines(20); // 760 bytes: two whole blocks and two more octets
        assert_eq!(clean_run(&clean, 0), 2 * BLOCK);
        assert_eq!(check(&clean[..BLOCK + 2]), Verdict::Clean);
        // Two octets after a block must be there: a pair or a dot line may start at the edge.
        assert_eq!(clean_run(&clean[..BLOCK + 1], 0), 0);
        assert_eq!(clean_run(&clean[..BLOCK + 2], 0), BLOCK);
        // A CR as the block's last byte is clean only with its LF just after it.
        let mut edge = vec![b'a'; BLOCK - 2];
        edge.extend_from_slice(b"\r\r\nx");
        assert_eq!(check(&edge), Verdict::Refused, "bare CR at byte 254");
        let mut edge = vec![b'a'; 100];
        edge.extend_from_slice(b"\r\n");
        edge.resize(BLOCK - 1, b'a');
        edge.extend_from_slice(b"\r\nx");
        assert_eq!((edge[BLOCK - 1], edge.len()), (b'\r', BLOCK + 2));
        assert_eq!(check(&edge), Verdict::Clean, "CR at 255, LF at 256");
        edge[BLOCK] = b'x';
        assert_eq!(check(&edge), Verdict::Refused, "CR at 255, then not LF");
        edge[BLOCK] = b'\n';
        edge[BLOCK + 1] = b'.';
        assert_eq!(check(&edge), Verdict::DotLine, "a dot line starts at 257");
        assert_eq!(clean_run(&edge, 0), BLOCK + 1);
        // Each bare line ending alone, in the first block or a later one.
        for at in [100, 400] {
            for bad in [&b"\n"[..], b"\r", b"\n\r", b"\r\r\n", b"\r\n\n"] {
                let mut s = clean.clone();
                s[at..at + bad.len()].copy_from_slice(bad);
                let want = if at == 100 { 0 } else { BLOCK };
                assert_eq!(clean_run(&s, 0), want, "{bad:?} at {at}");
            }
        }
        // A dot line: the run stops at its start, past the LF.
        for at in [38, 38 * 5, 38 * 7, 38 * 13] {
            let mut s = clean.clone();
            s[at] = b'.';
            assert_eq!(clean_run(&s, 0), at, "dot line at {at}");
        }
        // An LF as the very first byte is the caller's to check.
        let mut s = clean.clone();
        s[0] = b'\n';
        assert_eq!(clean_run(&s, 0), 2 * BLOCK);
        // A block with no LF at all (a line of 256 bytes or more) is refused.
        let mut long = vec![b'a'; 300];
        long.extend_from_slice(&lines(20));
        assert_eq!(clean_run(&long, 0), 0);
        assert_eq!(clean_run(&long, 302), 2 * BLOCK);
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
