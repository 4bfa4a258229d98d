//! The DATA fast path: finds the stretch of a body that needs no line-by-line work.
//!
//! One pass over the receive buffer, 256 octets at a time, with a check written so
//! that the compiler turns it into a handful of vector operations per vector of octets:
//! three loads, three compares and five logic operations, no branch inside a block. A
//! body is read from memory once, and the check keeps pace with the read, so memory and
//! arithmetic overlap.
//!
//! The check is compute-bound on the baseline instruction set (SSE2 on x86-64, 16
//! octets per operation), so it is compiled twice and chosen at run time through
//! `pulp`: AVX2 (32 octets per operation) where the CPU has it. Measured on the
//! project's AMD machine, this took 64 KiB reads from 0.76–1.09 to 0.87–1.27 × memcpy
//! (BENCHMARKS.md).
//!
//! A variant that first searched each 16 KiB window for dot lines with
//! `memchr::memmem` and then ran a lighter check over the window measured slower
//! there: the two passes do not overlap.
//!
//! A read handed to [`copy_checked`] is copied block by block, each block right after
//! its check, from the first-level cache; copying 4 KiB groups after their check
//! measured slower (BENCHMARKS.md, "Each block copied after its check"). Past a block
//! the check refuses, the caller decides how the rest is copied: `DataDecoder::push`
//! walks long lines as it copies them (`super::walk`).
//!
//! Dot lines (a line that starts with ".") end a chunk each, so their cost is per line.
//! The check only marks the blocks that hold one; [`copy_checked`] then lists where
//! they are while the read is still in cache, and the decoder walks that list instead
//! of searching each marked block again when it gets there.

use bytes::BytesMut;

use super::dots::{each_lf_dot, lf_dot};
use super::{CR, DOT, LF};

/// Block size of the check.
pub(super) const BLOCK: usize = 256;

/// How many octets from `pos` need no line-by-line work: whole blocks that pass the
/// check, then, if the next block failed only because a line in it starts with "."
/// (a transparency dot or the end of data), the octets up to that line's start.
/// At least one octet of `buf` follows the run (the check looks two ahead).
/// `buf[pos]` is not an LF. With `gaps`, a block with no LF may follow one with an LF,
/// and be the first (see [`check_run`]).
pub(super) fn clean_run(buf: &[u8], pos: usize, gaps: bool) -> usize {
    let s = buf.get(pos..).unwrap_or_default();
    let mut n = 0;
    // The caller bounds the line open at `pos` (`DataDecoder::room_for_blocks`).
    let mut lf_before = gaps;
    loop {
        let rest = s.get(n..).unwrap_or_default();
        let (passed, dots) = check_run(rest, RUN, true, gaps, lf_before);
        if dots != 0 {
            let k = dots.trailing_zeros() as usize;
            let w = rest.get(k * BLOCK..).unwrap_or_default();
            return n + k * BLOCK + first_dot_line(w).unwrap_or(0);
        }
        n += passed * BLOCK;
        if passed < RUN {
            return n;
        }
        lf_before = marks_lf(rest, passed - 1);
    }
}

/// Whether block `k` of `s` has an LF among its octets 1 to 256 (it passed the check).
/// Asked once per run of blocks rather than carried out of the check's loop, which
/// cost the loop more than this costs.
fn marks_lf(s: &[u8], k: usize) -> bool {
    let w = s
        .get(k * BLOCK + 1..k * BLOCK + BLOCK + 1)
        .unwrap_or_default();
    memchr::memchr(LF, w).is_some()
}

/// Most blocks one [`check_run`] call takes (one bit each in its result).
const RUN: usize = 64;

/// Most blocks one [`copy_checked`] vouches for: 64 KiB, a large read.
const MAX_BLOCKS: usize = 256;

/// Most dot lines [`copy_checked`] lists; the rest are searched for when reached, at
/// about 140 instructions each against 10 for a listed one. One per block on average:
/// a 64 KiB read of prose with a dot line every 5 lines holds about 180 (raising this
/// from 32 took that body's 64 KiB reads from 1.36 to 1.50–1.59 × smtp-proto). The
/// list is the decoder's own, allocated at the first read that lists a dot line (once
/// per message that has one), not carried inline: that cost every session 450 octets
/// of its idle size.
pub(super) const MAX_LISTED: usize = 256;

/// Where [`copy_checked`] lists dot lines: allocated at the first one.
pub(super) type DotLines = Option<Box<[u16; MAX_LISTED]>>;
const _: () = assert!(MAX_BLOCKS * BLOCK <= 1 << 16, "LF offsets must fit a u16");

/// What [`copy_checked`] found: the first `blocks` blocks of the buffer passed the
/// check; `dots` marks those in which a line starts with "."; the list it filled holds
/// the offsets of the LFs before those dots in the first `listed` blocks, in order (the
/// last LF a block can mark is at 256 × 256, so a `u16` holds each).
#[derive(Debug, Clone, Copy)]
pub(super) struct Checked {
    blocks: usize,
    dots: [u64; MAX_BLOCKS / 64],
    n_lines: usize,
    listed: usize,
    /// Lines before this one in the list lie behind the decoder.
    seen: usize,
}

impl Checked {
    /// Nothing checked yet.
    const NONE: Self = Self {
        blocks: 0,
        dots: [0; MAX_BLOCKS / 64],
        n_lines: 0,
        listed: 0,
        seen: 0,
    };

    /// Marks the dot lines `check_run` found (bit `j` of `dots` is block `blocks + j`).
    fn mark_dots(&mut self, dots: u64) {
        let (word, bit) = (self.blocks / 64, self.blocks % 64);
        if let Some(w) = self.dots.get_mut(word) {
            *w |= dots << bit;
        }
        if bit > 0 {
            if let Some(w) = self.dots.get_mut(word + 1) {
                *w |= dots >> (64 - bit);
            }
        }
    }

    /// Octets vouched for, from the start of the buffer.
    pub(super) fn len(&self) -> usize {
        self.blocks * BLOCK
    }

    /// Lists the dot lines of the marked blocks of `buf` (the buffer checked) in
    /// `lines`, while [`MAX_LISTED`] fit. One pass per marked block, while it is still
    /// in cache, rather than a search per dot line later, which would read each block
    /// again up to the dot and once more after it.
    fn list_dot_lines(&mut self, buf: &[u8], store: &mut DotLines) {
        if self.dots.iter().all(|&d| d == 0) {
            self.listed = self.blocks;
            return;
        }
        let lines = store.get_or_insert_with(|| Box::new([0; MAX_LISTED]));
        for (word, &bits) in self.dots.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let k = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // Block `k` marks dot lines at its octets 2 to 257 (LFs at 1 to 256).
                let Some(w) = buf.get(k * BLOCK + 1..k * BLOCK + BLOCK + 2) else {
                    return;
                };
                let before = self.n_lines;
                let fits = each_lf_dot(w, |j| match lines.get_mut(self.n_lines) {
                    Some(slot) => {
                        // The LF is at `k * BLOCK + 1 + j`, `j` below BLOCK, `k`
                        // below MAX_BLOCKS: the sum less one fits.
                        *slot = (k * BLOCK + j) as u16;
                        self.n_lines += 1;
                        true
                    }
                    None => false,
                });
                if !fits {
                    self.n_lines = before;
                    return;
                }
                self.listed = k + 1;
            }
        }
        self.listed = self.blocks;
    }

    /// The offset of the first line start with "." after offset `from` (offsets from the
    /// start of the checked octets), given `lines`, the list [`copy_checked`] filled,
    /// and `s`, the octets from `from` on. The decoder
    /// asks with `from` never going back, so the list is walked once; should it go
    /// back, the walk starts again rather than miss a line (a missed "." CRLF would
    /// read as content). The walk is inlined into the decoder; the search past the list
    /// is not, so the walk needs no registers saved.
    #[inline]
    pub(super) fn next_dot_line(
        &mut self,
        lines: &DotLines,
        s: &[u8],
        from: usize,
    ) -> Option<usize> {
        let lines = lines.as_deref().map_or(&[][..], |l| &l[..]);
        let lines = lines.get(..self.n_lines).unwrap_or_default();
        let behind = |i: usize| lines.get(i).is_some_and(|&l| usize::from(l) + 2 <= from);
        if self.seen > 0 && !behind(self.seen - 1) {
            self.seen = 0;
        }
        while let Some(&l) = lines.get(self.seen) {
            let dot = usize::from(l) + 2;
            if dot > from {
                return Some(dot);
            }
            self.seen += 1;
        }
        self.search_marked(s, from)
    }

    /// [`Checked::next_dot_line`] past the list: the marked blocks searched. Block `k`
    /// marks dot lines at its octets 2 to 257 (LFs at 1 to 256).
    #[inline(never)]
    fn search_marked(&self, s: &[u8], from: usize) -> Option<usize> {
        let mut k = (from.saturating_sub(BLOCK) / BLOCK).max(self.listed);
        while k < self.blocks {
            let mask = self.dots.get(k / 64)? & (u64::MAX << (k % 64));
            if mask == 0 {
                k = (k / 64 + 1) * 64;
                continue;
            }
            k = k / 64 * 64 + mask.trailing_zeros() as usize;
            if k >= self.blocks {
                return None;
            }
            let (lo, hi) = ((k * BLOCK + 1).max(from), k * BLOCK + BLOCK + 1);
            let end = (hi + 1).saturating_sub(from).min(s.len());
            if let Some(w) = s.get(lo.saturating_sub(from)..end) {
                if let Some(j) = lf_dot(w) {
                    return Some(lo + j + 1);
                }
            }
            k += 1;
        }
        None
    }
}

/// Appends `input` to `buf`, checking each block on `input` just before it is copied,
/// so each octet comes from memory once and is copied from the first-level cache.
/// Returns the blocks from the start of `buf` that passed the check one after the
/// other (up to [`MAX_BLOCKS`]), those with a dot line included, and what `rest`
/// returned: it appends the octets of `input` not yet in `buf` (a refused block on),
/// and is told how many octets of `buf` the blocks cover. `buf` holds at most `BLOCK`
/// octets on entry. `gaps` as for [`check_run`]; the dot lines are listed in `lines`.
pub(super) fn copy_checked<R>(
    input: &[u8],
    buf: &mut BytesMut,
    gaps: bool,
    lines: &mut DotLines,
    rest: impl FnOnce(&[u8], &mut BytesMut, usize) -> R,
) -> (Checked, R) {
    let held = buf.len();
    let total = held + input.len();
    // Octets of `input` appended so far.
    let mut copied = 0usize;
    let mut out = Checked::NONE;
    let mut n = 0;
    // The decoder bounds the line open where it takes the blocks up.
    let mut lf_before = gaps;
    while n + BLOCK + 2 <= total && out.blocks < MAX_BLOCKS {
        // The window checked from `n` on (`buf` does not hold the two octets after the
        // last block copied, which may be its LF).
        let (max, (passed, dots), s) = match n.checked_sub(held) {
            Some(i) => {
                // Blocks on `input`, each appended as it passes. What `buf` holds of
                // them already (the octets after a block that began there) is skipped.
                let max = (MAX_BLOCKS - out.blocks).min(RUN);
                let skip = copied.saturating_sub(i);
                let s = input.get(i..).unwrap_or_default();
                let r = check_copy_run(s, max, gaps, lf_before, skip, buf);
                copied = copied.max(i + r.0 * BLOCK);
                (max, r, s)
            }
            None => {
                // The window begins in what `buf` held: complete it there first.
                let need = n + BLOCK + 2 - held;
                if copied < need {
                    buf.extend_from_slice(input.get(copied..need).unwrap_or_default());
                    copied = need;
                }
                let s = buf.get(n..).unwrap_or_default();
                (1, check_run(s, 1, false, gaps, lf_before), s)
            }
        };
        if passed == max {
            lf_before = marks_lf(s, passed - 1);
        }
        out.mark_dots(dots);
        out.blocks += passed;
        // Both arms leave `copied` at or past the end of the blocks that passed.
        n += passed * BLOCK;
        debug_assert!(held + copied >= n, "{held} + {copied} < {n}");
        if passed < max {
            // A refused block, or too few octets left for one.
            break;
        }
    }
    let r = rest(input.get(copied..).unwrap_or_default(), buf, out.len());
    out.list_dot_lines(buf, lines);
    (out, r)
}

/// What a run handed to the decoder must satisfy, checked octet by octet (for debug
/// assertions): from `pos`, the `n` octets hold no CR without an LF after it, no LF
/// among them or just after them follows anything but a CR (`buf[pos]` aside), no line
/// starts with "." after `pos` and before `pos + n`, and no line that starts after `pos`
/// and ends in the run is `2 * BLOCK` octets long, or `3 * BLOCK` with `gaps`.
pub(super) fn vouches(buf: &[u8], pos: usize, n: usize, gaps: bool) -> bool {
    let bound = if gaps { 3 * BLOCK } else { 2 * BLOCK };
    let end = (pos + n + 1).min(buf.len());
    let Some(s) = buf.get(pos..end) else {
        return false;
    };
    let mut line_start: Option<usize> = None;
    for (i, &b) in s.iter().enumerate() {
        let bare_cr = b == CR && i < n && s.get(i + 1).is_some_and(|&x| x != LF);
        let bare_lf = b == LF && i > 0 && s[i - 1] != CR;
        if bare_cr || bare_lf {
            return false;
        }
        if b == LF && i < n {
            if line_start.is_some_and(|l| i + 1 - l >= bound) {
                return false;
            }
            line_start = Some(i + 1);
            if i + 1 < n && s.get(i + 1) == Some(&DOT) {
                return false;
            }
        }
    }
    true
}

/// One block's verdict.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Every CR in the block is followed by LF, every LF after its first byte follows a
    /// CR, no line starts with "." in its octets 2 to 257, and an LF is among its octets
    /// 1 to 256.
    Clean,
    /// As clean, except that a line starts with ".".
    DotLine,
    /// A bare CR or LF, or no LF (see [`good_pairs`]).
    Refused,
}

/// Checks up to `max` (at most [`RUN`]) blocks from the start of `s`, one after the
/// other, each with the two octets after it, and stops at the first refused one, or
/// after the first with a dot line when `stop_at_dot` is set. Returns how many passed
/// and which of those hold a dot line (bit `k` for block `k`). One call and one
/// run-time dispatch for many blocks: per block, they cost as much as the check's loop.
///
/// A block passes with good CR/LF pairs and an LF among its octets 1 to 256, or, with
/// `gaps`, with no LF there when the block before it had one (`lf_before` for the first
/// block: the caller says the line open at the start ends in time). The LFs of two
/// blocks with at most one between them are less than `3 * BLOCK` apart, so no line
/// that starts after the first LF and ends in the run is that long; without `gaps`,
/// `2 * BLOCK`. `gaps` is for lines of 257 to 767 octets, which would otherwise refuse
/// a block now and then, and the first at every line start (HTML, long header fields).
#[inline(never)]
fn check_run(s: &[u8], max: usize, stop_at_dot: bool, gaps: bool, lf_before: bool) -> (usize, u64) {
    check_run_on(pulp::Arch::new(), s, max, stop_at_dot, gaps, lf_before)
}

fn check_run_on(
    arch: pulp::Arch,
    s: &[u8],
    max: usize,
    stop_at_dot: bool,
    gaps: bool,
    lf_before: bool,
) -> (usize, u64) {
    arch.dispatch(CheckRun {
        s,
        max,
        stop_at_dot,
        gaps,
        lf_before,
        copy_to: None,
    })
}

/// [`check_run`] that also appends each block that passes to `dst` (the first one
/// less its first `skip` octets, which `dst` holds already), right after its check.
/// The copy then reads the first-level cache, and its stores overlap the loads of the
/// next block from memory; a copy of the whole group after its check did neither.
#[inline(never)]
fn check_copy_run(
    s: &[u8],
    max: usize,
    gaps: bool,
    lf_before: bool,
    skip: usize,
    dst: &mut BytesMut,
) -> (usize, u64) {
    pulp::Arch::new().dispatch(CheckRun {
        s,
        max,
        stop_at_dot: false,
        gaps,
        lf_before,
        copy_to: Some((dst, skip)),
    })
}

/// [`check_block`] over many blocks, compiled for the instruction set `pulp` picked
/// (AVX2 where the CPU reports it, detected once; the baseline otherwise). Everything
/// it calls is inlined into it, so its loop is compiled with those instructions: a
/// closure in its place is not always inlined, and then runs on the baseline.
struct CheckRun<'a> {
    s: &'a [u8],
    max: usize,
    stop_at_dot: bool,
    gaps: bool,
    lf_before: bool,
    /// Where passed blocks go, and how much of the first one is there already.
    copy_to: Option<(&'a mut BytesMut, usize)>,
}

impl pulp::WithSimd for CheckRun<'_> {
    type Output = (usize, u64);

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(mut self, _: S) -> (usize, u64) {
        let (mut n, mut dots) = (0, 0u64);
        // The last block that passed with no LF; `usize::MAX` stands for the block
        // before the first one (no LF there), `usize::MAX - 1` for one further back.
        let mut gap = usize::MAX - usize::from(self.lf_before);
        while n < self.max.min(RUN) {
            let Some(Ok(w)) = self
                .s
                .get(n * BLOCK..n * BLOCK + BLOCK + 2)
                .map(<&[u8; BLOCK + 2]>::try_from)
            else {
                break;
            };
            match check_block(w) {
                Verdict::Clean => {}
                Verdict::DotLine => {
                    dots |= 1 << n;
                    if self.stop_at_dot {
                        return (n + 1, dots);
                    }
                }
                // A block with no LF passes with gaps, only right after one with an LF.
                // Told apart from a bare line ending only here, off the common path:
                // a fourth verdict made the compiler test every block for it.
                Verdict::Refused if self.gaps && gap.wrapping_add(1) != n && good_pairs(w) => {
                    gap = n
                }
                Verdict::Refused => break,
            }
            if let Some((dst, skip)) = &mut self.copy_to {
                // A block of constant size is copied inline.
                match *skip {
                    0 => dst.extend_from_slice(&w[..BLOCK]),
                    k => {
                        dst.extend_from_slice(w.get(k.min(BLOCK)..BLOCK).unwrap_or_default());
                        *skip = k.saturating_sub(BLOCK);
                    }
                }
            }
            n += 1;
        }
        (n, dots)
    }
}

/// One block and the two octets after it, as [`check_run`] sees it (for the tests).
#[cfg(test)]
fn check(w: &[u8]) -> Verdict {
    check_on(pulp::Arch::new(), w)
}

#[cfg(test)]
fn check_on(arch: pulp::Arch, w: &[u8]) -> Verdict {
    match check_run_on(arch, w, 1, false, false, false) {
        (0, _) => Verdict::Refused,
        (_, 0) => Verdict::Clean,
        _ => Verdict::DotLine,
    }
}

/// The check itself. Booleans, not 0/1 octets, in the accumulators: the compiler keeps
/// them as compare masks and tests them with one `movemask` each at the end, with no
/// masking per vector.
#[inline(always)]
fn check_block(w: &[u8; BLOCK + 2]) -> Verdict {
    let (mut pair, mut dot, mut lf) = (false, false, false);
    for ((&x, &y), &z) in w[..BLOCK].iter().zip(&w[1..]).zip(&w[2..]) {
        let (c, l) = (x == CR, y == LF);
        // Once pairs are known good, a CR at k is a line end and k + 2 a line start.
        pair |= c != l;
        dot |= c & (z == DOT);
        lf |= l;
    }
    match (pair, lf, dot) {
        (false, true, false) => Verdict::Clean,
        (false, true, true) => Verdict::DotLine,
        _ => Verdict::Refused,
    }
}

/// Whether every CR in the block is followed by LF, and every LF after its first octet
/// follows a CR: of a refused block, whether it was refused only for want of an LF.
#[inline(always)]
fn good_pairs(w: &[u8; BLOCK + 2]) -> bool {
    let mut pair = false;
    for (&x, &y) in w[..BLOCK].iter().zip(&w[1..]) {
        pair |= (x == CR) != (y == LF);
    }
    !pair
}

/// In a block with good pairs, the offset of the first line start with "." (just past
/// its LF), if it is within the octets the check vouched for (up to 257).
fn first_dot_line(w: &[u8]) -> Option<usize> {
    lf_dot(w.get(1..BLOCK + 2)?).map(|j| j + 2)
}

#[cfg(test)]
mod tests {
    //! The fast path's internals; everything observable is tested in `tests/data.rs`.
    use super::*;
    use crate::data::{BareLineEndings, DataDecoder, DataStep, push_reads};
    use bytes::BytesMut;

    fn lines(n: usize) -> Vec<u8> {
        b"abcdefghijklmnopqrstuvwxyz0123456789\r\n".repeat(n)
    }

    /// The block check, one property at a time, at the edges of its window.
    #[test]
    fn block_check_edges() {
        let clean = lines(20); // 760 bytes: two whole blocks and two more octets
        assert_eq!(clean_run(&clean, 0, false), 2 * BLOCK);
        assert_eq!(check(&clean[..BLOCK + 2]), Verdict::Clean);
        // Two octets after a block must be there: a pair or a dot line may start at the edge.
        assert_eq!(clean_run(&clean[..BLOCK + 1], 0, false), 0);
        assert_eq!(clean_run(&clean[..BLOCK + 2], 0, false), BLOCK);
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
        assert_eq!(clean_run(&edge, 0, false), BLOCK + 1);
        // Each bare line ending alone, in the first block or a later one.
        for at in [100, 400] {
            for bad in [&b"\n"[..], b"\r", b"\n\r", b"\r\r\n", b"\r\n\n"] {
                let mut s = clean.clone();
                s[at..at + bad.len()].copy_from_slice(bad);
                let want = if at == 100 { 0 } else { BLOCK };
                assert_eq!(clean_run(&s, 0, false), want, "{bad:?} at {at}");
            }
        }
        // A dot line: the run stops at its start, past the LF.
        for at in [38, 38 * 5, 38 * 7, 38 * 13] {
            let mut s = clean.clone();
            s[at] = b'.';
            assert_eq!(clean_run(&s, 0, false), at, "dot line at {at}");
        }
        // An LF as the very first byte is the caller's to check.
        let mut s = clean.clone();
        s[0] = b'\n';
        assert_eq!(clean_run(&s, 0, false), 2 * BLOCK);
        // A block with no LF at all (a line of 256 bytes or more) is refused.
        let mut long = vec![b'a'; 300];
        long.extend_from_slice(&lines(20));
        assert_eq!(clean_run(&long, 0, false), 0);
        assert_eq!(clean_run(&long, 302, false), 2 * BLOCK);
    }

    /// The verdict, octet by octet, as `Verdict` defines it.
    fn reference(w: &[u8; BLOCK + 2]) -> Verdict {
        let mut lf = false;
        let mut dot = false;
        for k in 0..BLOCK {
            if (w[k] == CR) != (w[k + 1] == LF) {
                return Verdict::Refused;
            }
            lf |= w[k + 1] == LF;
            dot |= w[k] == CR && w[k + 2] == DOT;
        }
        match (lf, dot) {
            (false, _) => Verdict::Refused,
            (true, false) => Verdict::Clean,
            (true, true) => Verdict::DotLine,
        }
    }

    /// The blocks from the start of `s` that pass one after the other (up to `max`),
    /// octet by octet: good pairs and an LF among octets 1 to 256, or with `gaps` no LF
    /// there after a block with one.
    fn reference_run(s: &[u8], gaps: bool, max: usize) -> usize {
        let (mut n, mut lf_before) = (0, gaps);
        while let Some(w) = s.get(n * BLOCK..n * BLOCK + BLOCK + 2) {
            let pairs = (0..BLOCK).all(|k| (w[k] == CR) == (w[k + 1] == LF));
            let lf = w[1..=BLOCK].contains(&LF);
            if n == max || !pairs || !(lf || gaps && lf_before) {
                break;
            }
            lf_before = lf;
            n += 1;
        }
        n
    }

    /// Lines of `lens` octets with their CRLF, cycled until `total` octets.
    fn lines_of(lens: &[usize], total: usize) -> Vec<u8> {
        let mut s = Vec::new();
        for (i, &len) in lens.iter().cycle().enumerate() {
            if s.len() >= total {
                break;
            }
            s.extend((0..len - 2).map(|k| b'a' + ((k + i) % 26) as u8));
            s.extend_from_slice(b"\r\n");
        }
        s
    }

    /// With gaps, the check passes a block with no LF after one with an LF, and never
    /// two in a row: lines of up to 511 octets pass wherever they fall, lines of 768 or
    /// more never do, and between the two it depends on where the LFs fall; without
    /// gaps, every block needs its LF. Both builds agree with the model.
    #[test]
    fn gaps_pass_one_block_without_lf() {
        // Each body, and whether the run with gaps and the one without cover it.
        let bodies = [
            (
                lines_of(&[40, 300, 511, 257, 400, 480], 40_000),
                Some(true),
                false,
            ),
            (lines_of(&[90, 767, 30, 700, 512, 600], 40_000), None, false),
            (
                lines_of(&[40, 768, 40, 800, 20], 40_000),
                Some(false),
                false,
            ),
            (lines_of(&[40, 72, 255, 2], 40_000), Some(true), true),
        ];
        for (body, with_gaps, without) in &bodies {
            for (gaps, whole) in [(true, *with_gaps), (false, Some(*without))] {
                let want = reference_run(body, gaps, usize::MAX);
                assert_eq!(clean_run(body, 0, gaps), want * BLOCK, "gaps {gaps}");
                for arch in [pulp::Arch::Scalar, pulp::Arch::new()] {
                    let (n, _) = check_run_on(arch, body, RUN, false, gaps, gaps);
                    assert_eq!(n, want.min(RUN), "gaps {gaps}");
                }
                if let Some(whole) = whole {
                    let covered = want * BLOCK + BLOCK + 2 >= body.len();
                    assert_eq!(covered, whole, "gaps {gaps}: {want} blocks");
                }
            }
            // Every line is checked: after the first LF, none that ends in the run
            // reaches the bound.
            let n = clean_run(body, 0, true);
            let first = body.iter().position(|&b| b == LF).unwrap() + 1;
            if n > first {
                assert!(vouches(body, first, n - first, true));
            }
        }
        // With gaps, the first block of a run may have no LF (the line open there is
        // the caller's to bound), but not the first two.
        let mut s = vec![b'a'; 100]; // the first LF at 399, in block 1
        s.extend_from_slice(&lines_of(&[300], 4000));
        assert!(clean_run(&s, 0, true) + 2 * BLOCK >= s.len());
        assert_eq!(clean_run(&s, 0, false), 0);
        s[..400].fill(b'a'); // the first LF at 699, in block 2
        assert_eq!(clean_run(&s, 0, true), BLOCK);
    }

    /// The baseline build of the check and the one picked at run time (AVX2 on most
    /// x86-64 machines) agree with the reference on every octet position of CR, LF
    /// and "." edits, so a machine without AVX2 runs the same check.
    #[test]
    fn check_builds_agree_with_the_reference() {
        let clean = lines(8);
        let mut cases = 0;
        for at in 0..BLOCK + 2 {
            for b in [CR, LF, DOT, 0, b'x'] {
                for second in [
                    None,
                    Some((at + 1) % (BLOCK + 2)),
                    Some((at + 37) % (BLOCK + 2)),
                ] {
                    let mut w: [u8; BLOCK + 2] = clean[3..BLOCK + 5].try_into().unwrap();
                    w[at] = b;
                    if let Some(j) = second {
                        w[j] = [LF, DOT, CR][at % 3];
                    }
                    let want = reference(&w);
                    assert_eq!(
                        check_on(pulp::Arch::Scalar, &w),
                        want,
                        "{at} {b} {second:?}"
                    );
                    assert_eq!(check_on(pulp::Arch::new(), &w), want, "{at} {b} {second:?}");
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, (BLOCK + 2) * 15);
        // The window must be exactly one block and two octets.
        assert_eq!(
            check_on(pulp::Arch::new(), &clean[..BLOCK + 1]),
            Verdict::Refused
        );
    }

    /// Dot-line marks land on the right blocks when a group straddles two words of
    /// the bitmap.
    #[test]
    fn dot_marks_straddle_words() {
        let mut c = Checked {
            blocks: 60,
            ..Checked::NONE
        };
        c.mark_dots(0b1001_0001); // blocks 60, 64 and 67
        assert_eq!(c.dots, [1 << 60, 1 | 1 << 3, 0, 0]);
        c.blocks = 65;
        c.mark_dots(1);
        assert_eq!(c.dots, [1 << 60, 0b1011, 0, 0]);
        c.blocks = 250;
        c.mark_dots(u64::MAX);
        assert_eq!(c.dots[3], u64::MAX << 58);
    }

    /// A run of blocks stops at the first refused one, and after the first dot line
    /// when asked to; both builds agree.
    #[test]
    fn check_run_stops_where_it_should() {
        let mut s = lines(60); // 2280 octets: 8 blocks and change
        s[38 * 20] = DOT; // a dot line in block 2 (octet 760)
        s[38 * 40 - 1] = b'x'; // a bare CR in block 5 (octet 1519)
        for arch in [pulp::Arch::Scalar, pulp::Arch::new()] {
            let run = |s: &[u8], max, stop| check_run_on(arch, s, max, stop, false, false);
            assert_eq!(run(&s, 64, false), (5, 1 << 2));
            assert_eq!(run(&s, 64, true), (3, 1 << 2));
            assert_eq!(run(&s, 2, false), (2, 0));
            assert_eq!(run(&s[..BLOCK + 1], 64, false), (0, 0));
        }
    }

    /// The walk of the dot-line list answers the same when asked from an earlier
    /// offset again: a line it skipped would be read as content.
    #[test]
    fn dot_line_list_survives_a_step_back() {
        let mut body = lines(100);
        for line in (1..100).step_by(7) {
            body[38 * line] = DOT;
        }
        let (mut buf, mut lines) = (BytesMut::new(), None);
        let (mut checked, ()) = copy_checked(&body, &mut buf, false, &mut lines, |r, b, _| {
            b.extend_from_slice(r)
        });
        let mut forward = vec![];
        let mut from = 0;
        while let Some(d) = checked.next_dot_line(&lines, &buf[from..], from) {
            forward.push(d);
            from = d;
        }
        assert_eq!(
            forward.len(),
            (1..100)
                .step_by(7)
                .filter(|l| l * 38 < checked.len())
                .count()
        );
        for (i, &d) in forward.iter().enumerate().rev() {
            let from = if i == 0 { 0 } else { forward[i - 1] };
            assert_eq!(
                checked.next_dot_line(&lines, &buf[from..], from),
                Some(d),
                "{i}"
            );
        }
    }

    /// `copy_checked` copies exactly and checks what `clean_run` checks on the result,
    /// going on past dot lines, whatever the buffer held, wherever the input ends and
    /// whatever stops the run.
    #[test]
    fn copy_checked_is_copy_then_clean_run() {
        let clean = lines(200);
        let mut bodies = vec![clean.clone()];
        for bad in [&b"\r\n."[..], b"\n", b"\r", b"\r\r\n"] {
            for at in [0, 1, 37, 255, 256, 257, 258, 3000, 4095, 4096, 4097, 5000] {
                let mut s = clean.clone();
                s[at..at + bad.len()].copy_from_slice(bad);
                bodies.push(s);
            }
        }
        // Dot lines, and more of them than `copy_checked` lists: the rest are found by
        // search.
        for every in [1, 3] {
            let mut s = clean.clone();
            for line in (0..200).step_by(every) {
                s[38 * line] = DOT;
            }
            bodies.push(s);
        }
        let mut s = lines(MAX_LISTED + 100);
        for line in 0..MAX_LISTED + 100 {
            s[38 * line] = DOT;
        }
        bodies.push(s);
        // Lines longer than a block, which pass only with gaps, some of them dotted.
        let mut long = lines_of(&[300, 40, 511, 700, 257, 800], 8000);
        for (i, at) in memchr::memchr_iter(LF, &long.clone()).enumerate() {
            if i % 4 == 1 {
                long[at + 1] = DOT;
            }
        }
        bodies.push(long);
        bodies.push(lines_of(&[40, 300, 511, 257, 400, 480], 8000));
        for (body, gaps) in bodies.iter().flat_map(|b| [(b, false), (b, true)]) {
            for held in [&b""[..], b"\r", b"a", b".", b"ab", b"\n."] {
                for len in [0, 1, 255, 256, 257, 258, 4096, 4354, body.len()] {
                    let (mut buf, mut lines) = (BytesMut::from(held), None);
                    let (mut checked, ()) =
                        copy_checked(&body[..len], &mut buf, gaps, &mut lines, |r, b, _| {
                            b.extend_from_slice(r)
                        });
                    let run = checked.len();
                    let mut want = held.to_vec();
                    want.extend_from_slice(&body[..len]);
                    assert_eq!(&buf[..], &want[..]);
                    // The blocks of the whole buffer, checked in place, past dot lines.
                    let want_run = reference_run(&want, gaps, MAX_BLOCKS) * BLOCK;
                    let case = format!("held {held:?}, len {len}, gaps {gaps}");
                    assert_eq!(run, want_run, "{case}");
                    // Between the dot lines it reports, the run holds what the decoder
                    // relies on, and no dot line is missed.
                    let mut from = usize::from(held.first() == Some(&LF));
                    while from < run {
                        let next = checked.next_dot_line(&lines, &want[from..], from);
                        let to = next.filter(|&d| d < run).unwrap_or(run);
                        assert!(
                            vouches(&want, from, to - from, gaps),
                            "{case}, {from}..{to}"
                        );
                        if let Some(d) = next {
                            assert!(want[d] == DOT && want[d - 1] == LF, "{case}: {d}");
                        }
                        from = to + 1;
                    }
                }
            }
        }
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

    /// Fed by `push` in 64 KiB reads, a body with a dot line every 30 lines goes nearly
    /// all through the fast path (the blocks `push` checked).
    #[test]
    fn pushed_dotted_body_takes_the_fast_path() {
        let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\r\n";
        let mut body = Vec::new();
        for i in 0..20_000 {
            if i % 30 == 0 {
                body.extend_from_slice(b"..a line that starts with a dot\r\n");
            }
            body.extend_from_slice(line);
        }
        body.extend_from_slice(b".\r\n");
        let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
        push_reads(&mut dec, &body, 64 * 1024);
        assert!(dec.is_done());
        assert!(
            dec.fast * 100 >= body.len() * 97,
            "{} of {}",
            dec.fast,
            body.len()
        );
    }

    /// After a stretch of lines of one to two blocks, where the check is refused at
    /// every try and tried ever less often, the fast path takes up a stretch of short
    /// lines again within a few KiB.
    #[test]
    fn fast_path_resumes_after_long_lines() {
        let line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusm.\r\n";
        let mut body = Vec::new();
        for _ in 0..300 {
            body.extend_from_slice(&[b'x'; 398]);
            body.extend_from_slice(b"\r\n");
        }
        let long = body.len();
        body.extend_from_slice(&line.repeat(2000));
        for max in [None, Some(1000)] {
            let (out, fast) = decode_all(&body, max);
            assert_eq!(out, body);
            let short = body.len() - long;
            assert!(
                fast >= short - 8 * 1024,
                "fast path took {fast} of the {short} octets of short lines (max {max:?})"
            );
        }
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
