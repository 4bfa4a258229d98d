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
//! Dot lines (a line that starts with ".") would end a chunk each, at about 490
//! instructions a line over the decoder's steps. The check only marks the blocks that
//! hold one; [`copy_checked`], which copies each block anyway, copies a marked block
//! without its transparency dots (a mask of its dot lines on AVX2, then a copy around
//! each), so the decoder takes the whole read as one run. It stops at the end of data:
//! what follows is the next command's.
//!
//! Copying, the loop asks for the cache lines 8 KiB ahead of the block it checks (a
//! prefetch, [`Prefetch`]): a read the caller hands over from memory then comes in
//! faster than the loop's own loads bring it: 4-16 % less time on 64 KiB reads of
//! 10 MiB bodies, a few percent more on a read already in the cache (BENCHMARKS.md).

use bytes::BytesMut;

use super::dots::dot_line_mask;
use super::{CR, CRLF, DOT, LF};

/// Block size of the check.
pub(super) const BLOCK: usize = 256;

/// How many octets from `pos` need no line-by-line work: whole blocks that pass the
/// check, then, if the next block failed only because a line in it starts with "."
/// (a transparency dot or the end of data), the octets up to that line's start.
/// At least one octet of `buf` follows the run (the check looks two ahead).
/// `buf[pos]` is not an LF. With `gaps`, a block with no LF may follow one with an LF,
/// and be the first (see [`check_run`]).
#[inline(always)]
pub(super) fn clean_run(buf: &[u8], pos: usize, gaps: bool) -> usize {
    run_from::<false>(buf, pos, gaps)
}

/// [`clean_run`] for a body already known to hold a bare CR or LF, when the decoder
/// passes them through (`BareLineEndings::Reject`): there a bare CR or LF is content
/// that ends a line only for its length, and a line start with "." counts only after
/// a real CRLF. Blocks pass with any line endings, as long as a CR or LF in each
/// bounds their lines below `2 * BLOCK` octets ([`check_block_tolerant`]); without
/// this, a body whose lines end in bare LFs went line by line, at six times the cost
/// of one with CRLFs. No `gaps`.
#[inline(never)]
pub(super) fn clean_run_tolerant(buf: &[u8], pos: usize) -> usize {
    run_from::<true>(buf, pos, false)
}

#[inline(always)]
fn run_from<const TOLERANT: bool>(buf: &[u8], pos: usize, gaps: bool) -> usize {
    let s = buf.get(pos..).unwrap_or_default();
    let mut n = 0;
    // The caller bounds the line open at `pos` (`DataDecoder::room_for_blocks`).
    let mut lf_before = gaps;
    loop {
        let rest = s.get(n..).unwrap_or_default();
        let (passed, dots) = check_run::<TOLERANT>(rest, RUN, true, gaps, lf_before);
        if dots != 0 {
            let k = dots.trailing_zeros() as usize;
            let w = rest.get(k * BLOCK..).unwrap_or_default();
            let at = if TOLERANT {
                first_crlf_dot_line(w)
            } else {
                first_dot_line(w)
            };
            return n + k * BLOCK + at.unwrap_or(0);
        }
        n += passed * BLOCK;
        if passed < RUN {
            return n;
        }
        lf_before = gaps && marks_lf(rest, passed - 1);
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

/// How many blocks ahead of the check [`Prefetch::block`] asks for: 8 KiB. Measured on
/// 64 KiB reads of 10 MiB bodies against 2, 4 and 16 KiB (BENCHMARKS.md).
const PREFETCH: usize = 32;

/// Most blocks one [`check_run`] call takes (one bit each in its result).
const RUN: usize = 64;

/// Most blocks one [`copy_checked`] vouches for: 64 KiB, a large read.
const MAX_BLOCKS: usize = 256;

/// A dot line met by [`copy_checked`] that the block it was found in could not settle.
/// One octet, tested once per block copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(u8)]
enum Pending {
    #[default]
    None,
    /// The last octet copied is a transparency dot: dropped if the next block passes,
    /// else the octets vouched for end before it (so that the decoder, seeing a line
    /// that starts with "." after them, reads it as a dot line, which it is).
    Last,
    /// A line starts with "." at octet 0 of the next block.
    Next0,
    /// A line starts with "." at octet 1 of the next block.
    Next1,
}

/// What the copy of one run of blocks leaves for the next ([`copy_checked`]).
#[derive(Debug, Clone, Copy, Default)]
struct Unstuff {
    pending: Pending,
    /// The end of data was met: so many octets of the first block not passed were
    /// copied, those before its line.
    end: Option<usize>,
}

/// Whether the two octets after a dot at a line start make it the end of data ("."
/// CRLF) rather than a transparency dot.
#[inline]
fn ends_data(after: &[u8]) -> bool {
    after.get(..2) == Some(CRLF)
}

/// Appends block `w` (its first 256 octets) to `dst` without its transparency dots:
/// the dot lines the block marks (`dotted`; with `TOLERANT` only those after a real
/// CRLF), and the one `u` carries from the block before. Stops at the end of data, with
/// the octets before it copied (their count in `u.end`).
#[inline(never)]
fn copy_unstuffed<const TOLERANT: bool>(
    dst: &mut BytesMut,
    w: &[u8; BLOCK + 2],
    dotted: bool,
    u: &mut Unstuff,
) {
    let mut from = 0;
    match core::mem::take(&mut u.pending) {
        Pending::None => {}
        Pending::Last => dst.truncate(dst.len().saturating_sub(1)),
        p @ (Pending::Next0 | Pending::Next1) => {
            let j = usize::from(p == Pending::Next1);
            if ends_data(&w[j + 1..]) {
                dst.extend_from_slice(&w[..j]);
                u.end = Some(j);
                return;
            }
            dst.extend_from_slice(&w[..j]);
            from = j + 1;
        }
    }
    let mask = if dotted {
        dot_line_mask(w)
    } else {
        [0; BLOCK / 64]
    };
    // Dot lines start at octets 2 to 257 (LFs at 1 to 256), in order. The walk over
    // the mask is written out here and in `first_dot_line_if`: an iterator shared by
    // both measured 4-13 % slower on 64 KiB reads of bodies with dot lines.
    'lines: for (k, &word) in mask.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let d = k * 64 + bits.trailing_zeros() as usize + 2;
            bits &= bits - 1;
            if TOLERANT && w[d - 2] != CR {
                continue;
            }
            if d >= BLOCK {
                u.pending = if d == BLOCK {
                    Pending::Next0
                } else {
                    Pending::Next1
                };
                break 'lines;
            }
            // `d` is below BLOCK: its two octets after are in the window.
            if ends_data(&w[d + 1..]) {
                dst.extend_from_slice(&w[from..d]);
                u.end = Some(d);
                return;
            }
            if d == BLOCK - 1 {
                // Kept for now: see `Pending::Last`.
                u.pending = Pending::Last;
                break 'lines;
            }
            dst.extend_from_slice(&w[from..d]);
            from = d + 1;
        }
    }
    dst.extend_from_slice(&w[from.min(BLOCK)..BLOCK]);
}

/// Appends `input` to `buf`, checking each block on `input` just before it is copied,
/// so each octet comes from memory once and is copied from the first-level cache, and
/// with `unstuff`, dropping the transparency dots of the blocks that pass. Returns how
/// many octets from the start of `buf` were checked so (up to [`MAX_BLOCKS`] blocks of
/// `input`, less the dots dropped), and what `rest` returned: it appends the octets of
/// `input` not yet in `buf` (a refused block on), and is told how many octets of `buf`
/// are vouched for. Those hold no line that starts with a dot for transparency or the
/// end of data: with `unstuff` the dots are gone, and they end before the end of data;
/// without it, before the first block with a dot line. A line in them may still start
/// with "." (the dot after one dropped), so they are to be taken whole, never looked at
/// line by line. `buf` holds at most `BLOCK` octets on entry; a block that begins in
/// them passes only without a dot line. `gaps` as for [`check_run`]. `TOLERANT` checks
/// as [`clean_run_tolerant`] does, and drops only the dots after a real CRLF.
pub(super) fn copy_checked<const TOLERANT: bool, R>(
    input: &[u8],
    buf: &mut BytesMut,
    gaps: bool,
    unstuff: bool,
    rest: impl FnOnce(&[u8], &mut BytesMut, usize) -> R,
) -> (usize, R) {
    let held = buf.len();
    let total = held + input.len();
    // A dot among the octets held is the decoder's, and may be the end of data.
    let unstuff = unstuff && held == 0;
    // Octets of `input` appended so far.
    let mut copied = 0usize;
    let mut blocks = 0;
    // Octets of `buf` the blocks that passed cover.
    let mut end = 0;
    let mut u = Unstuff::default();
    let mut n = 0;
    // The decoder bounds the line open where it takes the blocks up.
    let mut lf_before = gaps;
    while n + BLOCK + 2 <= total && blocks < MAX_BLOCKS {
        // The window checked from `n` on (`buf` does not hold the two octets after the
        // last block copied, which may be its LF).
        let (max, passed, s) = match n.checked_sub(held) {
            Some(i) => {
                // Blocks on `input`, each appended as it passes. What `buf` holds of
                // them already (the octets after a block that began there) is skipped.
                let max = (MAX_BLOCKS - blocks).min(RUN);
                let skip = copied.saturating_sub(i);
                let s = input.get(i..).unwrap_or_default();
                let copy = CopyTo {
                    dst: &mut *buf,
                    skip,
                    u: &mut u,
                };
                let passed = check_copy_run::<TOLERANT>(s, max, gaps, lf_before, unstuff, copy);
                copied = copied.max(i + passed * BLOCK + u.end.unwrap_or(0));
                if passed > 0 || u.end.is_some() {
                    end = buf.len();
                }
                (max, passed, s)
            }
            None => {
                // The window begins in what `buf` held: complete it there first.
                let need = n + BLOCK + 2 - held;
                if copied < need {
                    buf.extend_from_slice(input.get(copied..need).unwrap_or_default());
                    copied = need;
                }
                let s = buf.get(n..).unwrap_or_default();
                let (passed, dots) = check_run::<TOLERANT>(s, 1, false, gaps, lf_before);
                let passed = if dots == 0 { passed } else { 0 };
                end += passed * BLOCK;
                (1, passed, s)
            }
        };
        if passed == max {
            lf_before = marks_lf(s, passed - 1);
        }
        blocks += passed;
        // Both arms leave `copied` at or past the end of the blocks that passed.
        n += passed * BLOCK;
        debug_assert!(held + copied >= n, "{held} + {copied} < {n}");
        if passed < max || u.end.is_some() {
            // A refused block, too few octets left for one, or the end of data.
            break;
        }
    }
    let vouched = end - usize::from(u.pending == Pending::Last && u.end.is_none());
    let r = rest(input.get(copied..).unwrap_or_default(), buf, vouched);
    (vouched, r)
}

/// What a run handed to the decoder must satisfy, checked octet by octet (for debug
/// assertions): from `pos`, the `n` octets hold no CR without an LF after it, no LF
/// among them or just after them follows anything but a CR (`buf[pos]` aside), no line
/// starts with "." after `pos` and before `pos + n`, and no line that starts after `pos`
/// and ends in the run is `2 * BLOCK` octets long, or `3 * BLOCK` with `gaps`. Without
/// `dots`, lines that start with "." are let be (a run whose transparency dots were
/// dropped holds them as content).
pub(super) fn vouches(buf: &[u8], pos: usize, n: usize, gaps: bool, dots: bool) -> bool {
    let bound = line_bound(gaps);
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
            if dots && i + 1 < n && s.get(i + 1) == Some(&DOT) {
                return false;
            }
        }
    }
    true
}

/// [`vouches`] for a run checked as [`clean_run_tolerant`] checks (for debug
/// assertions): any CRs and LFs; no line starts with "." after a real CRLF after `pos`
/// and before `pos + n`; and no line that starts after `pos` and ends in the run, at a
/// CR or a bare LF, holds `2 * BLOCK` octets. `dots` as for [`vouches`].
pub(super) fn vouches_tolerant(buf: &[u8], pos: usize, n: usize, dots: bool) -> bool {
    let Some(s) = buf.get(pos..(pos + n + 2).min(buf.len())) else {
        return false;
    };
    let mut line_start: Option<usize> = None;
    for i in 0..n.min(s.len()) {
        let b = s[i];
        let crlf = b == CR && s.get(i + 1) == Some(&LF);
        if b != CR && b != LF || b == LF && i > 0 && s[i - 1] == CR {
            continue;
        }
        if line_start.is_some_and(|l| i - l >= 2 * BLOCK) {
            return false;
        }
        let next = if crlf { i + 2 } else { i + 1 };
        if dots && crlf && next < n && s.get(next) == Some(&DOT) {
            return false;
        }
        line_start = Some(next);
    }
    true
}

/// The length every line the block check passes over stays below: [`check_run`]'s
/// bound, with or without `gaps`.
#[inline]
pub(super) fn line_bound(gaps: bool) -> usize {
    if gaps { 3 * BLOCK } else { 2 * BLOCK }
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
    /// A bare CR or LF.
    Refused,
    /// Good pairs, and no LF among octets 1 to 256: a line goes on through the block
    /// (passed only with gaps, see [`check_run`]).
    NoLf,
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
/// `TOLERANT` checks as [`clean_run_tolerant`] needs: [`check_block_tolerant`], no
/// `gaps`.
#[inline(never)]
fn check_run<const TOLERANT: bool>(
    s: &[u8],
    max: usize,
    stop_at_dot: bool,
    gaps: bool,
    lf_before: bool,
) -> (usize, u64) {
    run_on::<TOLERANT>(pulp::Arch::new(), s, max, stop_at_dot, gaps, lf_before)
}

/// [`check_run`] on the build `arch` names (the tests run each).
#[inline(always)]
fn run_on<const TOLERANT: bool>(
    arch: pulp::Arch,
    s: &[u8],
    max: usize,
    stop_at_dot: bool,
    gaps: bool,
    lf_before: bool,
) -> (usize, u64) {
    arch.dispatch(CheckRun::<TOLERANT, false> {
        s,
        max,
        stop_at_dot,
        gaps,
        lf_before,
        unstuff: false,
        copy_to: None,
    })
}

/// Where [`check_copy_run`] appends the blocks that pass.
struct CopyTo<'a> {
    dst: &'a mut BytesMut,
    /// Octets of the first block `dst` holds already.
    skip: usize,
    u: &'a mut Unstuff,
}

/// [`check_run`] that also appends each block that passes to `copy.dst` (the first one
/// less its first `skip` octets, which `dst` holds already), right after its check.
/// The copy then reads the first-level cache, and its stores overlap the loads of the
/// next block from memory; a copy of the whole group after its check did neither. With
/// `unstuff`, the transparency dots of the blocks are dropped as they are copied
/// ([`copy_unstuffed`]), and the run stops at the end of data; without it, at the
/// first block with a dot line.
#[inline(never)]
fn check_copy_run<const TOLERANT: bool>(
    s: &[u8],
    max: usize,
    gaps: bool,
    lf_before: bool,
    unstuff: bool,
    copy: CopyTo<'_>,
) -> usize {
    // A block `dst` holds the start of was checked there, and has no dot line. That
    // start is taken back and the block copied whole with the others (put back if it
    // does not pass): no test per block for it.
    let CopyTo { dst, skip, u } = copy;
    let unstuff = unstuff && skip == 0;
    let skip = skip.min(BLOCK).min(dst.len());
    dst.truncate(dst.len() - skip);
    let (passed, _) = pulp::Arch::new().dispatch(CheckRun::<TOLERANT, true> {
        s,
        max,
        stop_at_dot: false,
        gaps,
        lf_before,
        unstuff,
        copy_to: Some((&mut *dst, u)),
    });
    if passed == 0 {
        dst.extend_from_slice(s.get(..skip).unwrap_or_default());
    }
    passed
}

/// [`check_block`] over many blocks, compiled for the instruction set `pulp` picked
/// (AVX2 where the CPU reports it, detected once; the baseline otherwise). Everything
/// it calls is inlined into it, so its loop is compiled with those instructions: a
/// closure in its place is not always inlined, and then runs on the baseline.
struct CheckRun<'a, const TOLERANT: bool, const COPY: bool> {
    s: &'a [u8],
    max: usize,
    stop_at_dot: bool,
    gaps: bool,
    lf_before: bool,
    /// Drop the transparency dots of the blocks copied (else a dot line stops the copy).
    unstuff: bool,
    /// Where passed blocks go, and what their dots leave for the next block.
    copy_to: Option<(&'a mut BytesMut, &'a mut Unstuff)>,
}

impl<const TOLERANT: bool, const COPY: bool> pulp::WithSimd for CheckRun<'_, TOLERANT, COPY> {
    type Output = (usize, u64);

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(mut self, _: S) -> (usize, u64) {
        let (mut n, mut dots) = (0, 0u64);
        // Kept here rather than behind `copy_to`, so that it stays in a register while
        // the copies write memory.
        let mut pending = match &self.copy_to {
            Some((_, u)) if COPY => u.pending,
            _ => Pending::None,
        };
        // The last block that passed with no LF; `usize::MAX` stands for the block
        // before the first one (no LF there), `usize::MAX - 1` for one further back.
        let mut gap = usize::MAX - usize::from(self.lf_before);
        // Copying, the octets come from wherever the caller's read lies, often memory:
        // a request for the lines a few KiB ahead keeps more of them on their way than
        // the loop's own loads do (`Prefetch`). In place, the buffer is the decoder's.
        let ahead = if COPY { Prefetch::get() } else { None };
        while n < self.max.min(RUN) {
            if let Some(ahead) = ahead {
                ahead.block(self.s.get((n + PREFETCH) * BLOCK..));
            }
            let Some(Ok(w)) = self
                .s
                .get(n * BLOCK..n * BLOCK + BLOCK + 2)
                .map(<&[u8; BLOCK + 2]>::try_from)
            else {
                break;
            };
            let verdict = if TOLERANT {
                check_block_tolerant(w)
            } else {
                check_block(w)
            };
            let dotted = match verdict {
                Verdict::Clean => false,
                Verdict::DotLine => {
                    if COPY && !self.unstuff {
                        break;
                    }
                    dots |= 1 << n;
                    if self.stop_at_dot {
                        return (n + 1, dots);
                    }
                    true
                }
                // A block with no LF passes with gaps, only right after one with an LF.
                // (Not under the tolerant rule, whose blocks need a line end each.)
                Verdict::NoLf if !TOLERANT && self.gaps && gap.wrapping_add(1) != n => {
                    gap = n;
                    false
                }
                Verdict::Refused | Verdict::NoLf => break,
            };
            if let Some((dst, u)) = self.copy_to.as_mut().filter(|_| COPY) {
                if dotted || pending != Pending::None {
                    u.pending = pending;
                    copy_unstuffed::<TOLERANT>(dst, w, dotted, u);
                    pending = u.pending;
                    if u.end.is_some() {
                        // The end of data: its block does not count as passed.
                        break;
                    }
                } else {
                    // A block of constant size is copied inline.
                    dst.extend_from_slice(&w[..BLOCK]);
                }
            }
            n += 1;
        }
        if let Some((_, u)) = self.copy_to.as_mut().filter(|_| COPY) {
            u.pending = pending;
        }
        (n, dots)
    }
}

/// Requests for cache lines ahead of their use. A prefetch reads nothing the program
/// sees and never faults, whatever the address, which is why `pulp` offers it as a safe
/// call. x86-64 only; elsewhere there is none to make.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(super) struct Prefetch {
    #[cfg(target_arch = "x86_64")]
    v1: pulp::x86::V1,
}

impl Prefetch {
    /// The instruction, where the CPU has it (every x86-64 does).
    #[inline(always)]
    pub(super) fn get() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            pulp::x86::V1::try_new().map(|v1| Self { v1 })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }

    #[inline(always)]
    fn line(self, p: *const u8) {
        #[cfg(target_arch = "x86_64")]
        self.v1
            .sse
            ._mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
        #[cfg(not(target_arch = "x86_64"))]
        let _ = p;
    }

    /// The lines of the block at the start of `at`, if any. One request per line:
    /// one per block, the rest left to the hardware's own prefetcher, gained nothing.
    #[inline(always)]
    pub(super) fn block(self, at: Option<&[u8]>) {
        if let Some(at) = at {
            for k in 0..BLOCK / 64 {
                self.line(at.as_ptr().wrapping_add(k * 64));
            }
        }
    }

    /// The lines of `s`.
    #[inline(always)]
    pub(super) fn range(self, s: &[u8]) {
        for k in (0..s.len()).step_by(64) {
            self.line(s.as_ptr().wrapping_add(k));
        }
    }
}

/// One block and the two octets after it, as [`check_run`] sees it (for the tests).
#[cfg(test)]
fn check(w: &[u8]) -> Verdict {
    check_on(pulp::Arch::new(), w)
}

#[cfg(test)]
fn check_on(arch: pulp::Arch, w: &[u8]) -> Verdict {
    match run_on::<false>(arch, w, 1, false, false, false) {
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
    let (mut odd, mut lf) = (false, false);
    for ((&x, &y), &z) in w[..BLOCK].iter().zip(&w[1..]).zip(&w[2..]) {
        let (c, l) = (x == CR, y == LF);
        // Once pairs are known good, a CR at k is a line end and k + 2 a line start.
        // A bad pair and a dot line share one accumulator, and the blocks with either
        // are told apart after the loop: with one accumulator each, the compiler split
        // the loop into two passes over the block and kept the CR compares on the
        // stack between them (16-20 % of the time on prose, BENCHMARKS.md).
        odd |= (c != l) | (c & (z == DOT));
        lf |= l;
    }
    match (odd, lf) {
        (false, true) => Verdict::Clean,
        (true, true) => odd_block(w),
        // No LF, so no CR in a good pair either, nor a dot line after one.
        (false, false) => Verdict::NoLf,
        (true, false) => Verdict::Refused,
    }
}

/// A block with a bad pair or a dot line: which. Inlined, so that it runs on the
/// instruction set the check runs on (a call ran it on the baseline: 6 % more
/// instructions on a body with a dot line every 30 lines).
#[inline(always)]
fn odd_block(w: &[u8; BLOCK + 2]) -> Verdict {
    if good_pairs(w) {
        Verdict::DotLine
    } else {
        Verdict::Refused
    }
}

/// [`check_block`] for [`clean_run_tolerant`]: any CR/LF pairs; a CR among octets 0
/// to 255 or an LF among octets 1 to 256 in place of the LF (the compares the loop
/// makes anyway: with a compare of its own for a CR at 1 to 256, the compiler left the
/// loop scalar, at 4,000 instructions a block); a dot line only after a real CRLF.
#[inline(always)]
fn check_block_tolerant(w: &[u8; BLOCK + 2]) -> Verdict {
    let (mut dot, mut end) = (false, false);
    for ((&x, &y), &z) in w[..BLOCK].iter().zip(&w[1..]).zip(&w[2..]) {
        let (c, l) = (x == CR, y == LF);
        end |= l | c;
        dot |= c & l & (z == DOT);
    }
    match (end, dot) {
        (true, false) => Verdict::Clean,
        (true, true) => Verdict::DotLine,
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
    first_dot_line_if(w, |_| true)
}

/// [`first_dot_line`] for [`clean_run_tolerant`]: the line must follow a real CRLF.
fn first_crlf_dot_line(w: &[u8]) -> Option<usize> {
    first_dot_line_if(w, |d| w.get(d - 2) == Some(&CR))
}

/// The first line start with "." in a block's window (octets 2 to 257) that `keep`
/// takes, from the block's mask: one search of the block, where a `memmem` call per
/// candidate cost twice the instructions on bodies with many dot lines.
fn first_dot_line_if(w: &[u8], keep: impl Fn(usize) -> bool) -> Option<usize> {
    let w: &[u8; BLOCK + 2] = w.get(..BLOCK + 2)?.try_into().ok()?;
    for (k, &word) in dot_line_mask(w).iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let d = k * 64 + bits.trailing_zeros() as usize + 2;
            if keep(d) {
                return Some(d);
            }
            bits &= bits - 1;
        }
    }
    None
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
