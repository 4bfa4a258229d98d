//! The search for dot lines (an LF, then "."), for the blocks the DATA check marked.

use super::fast::BLOCK;

/// The offset of the first LF in `w` that "." follows (both in `w`). For the first
/// one only, `memmem` measured faster than [`each_marked_lf_dot`] on the whole-buffer
/// path.
pub(super) fn lf_dot(w: &[u8]) -> Option<usize> {
    dot_line_finder().find(w)
}

/// Calls `f` with the offset of each LF in `w` that "." follows (both in `w`), in
/// order, while it returns true; returns false if `f` did. With `vector`, on AVX2 and
/// windows longer than one vector step: the search [`each_marked_lf_dot`] runs on each
/// block; else `memmem`, as that function's fallback does. For the tests, which hold
/// both builds to a plain search on windows of every length.
#[cfg(test)]
fn each_lf_dot_on(vector: bool, w: &[u8], f: impl FnMut(usize) -> bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    if vector && w.len() > avx2::STEP {
        if let Some(simd) = pulp::x86::V3::try_new() {
            return simd.vectorize(avx2::EachLfDot { w, f, simd });
        }
    }
    let _ = vector;
    dot_line_finder().find_iter(w).all(f)
}

/// Calls `f(k, Some(j))` for each LF that "." follows in the window of each block `k`
/// marked in `marks` (bit `k % 64` of word `k / 64`), at `j` in the window,
/// `buf[k * BLOCK + 1..k * BLOCK + BLOCK + 2]`, in order, and `f(k, None)` once a block
/// is done; stops when `f` returns false, or at a block whose window `buf` does not
/// hold. Returns whether every marked block was done.
///
/// With AVX2 each window is compared 32 octets per step and the positions taken from a
/// bit mask: a fraction of the instructions of a `memmem` call per dot line (set-up,
/// prefilter, and a check of each candidate), which was most of the cost of one. The
/// vector build is picked once for all the blocks of a read: picked per block, that
/// cost about a third of the search on bodies with a dot line every few lines.
#[inline(always)]
pub(super) fn each_marked_lf_dot(
    buf: &[u8],
    marks: &[u64],
    f: impl FnMut(usize, Option<usize>) -> bool,
) -> bool {
    each_marked_lf_dot_on(true, buf, marks, f)
}

/// [`each_marked_lf_dot`], with the vector build allowed or not (the tests run both).
#[inline(always)]
fn each_marked_lf_dot_on(
    vector: bool,
    buf: &[u8],
    marks: &[u64],
    mut f: impl FnMut(usize, Option<usize>) -> bool,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if vector {
        if let Some(simd) = pulp::x86::V3::try_new() {
            return simd.vectorize(avx2::EachMarked {
                buf,
                marks,
                f,
                simd,
            });
        }
    }
    let _ = vector;
    for_each_marked(buf, marks, |k, w| {
        dot_line_finder().find_iter(w).all(|j| f(k, Some(j))) && f(k, None)
    })
}

/// Calls `g` with each block marked in `marks` and its window in `buf`, while it
/// returns true and `buf` holds the window; returns whether every block was taken.
#[inline(always)]
fn for_each_marked(buf: &[u8], marks: &[u64], mut g: impl FnMut(usize, &[u8]) -> bool) -> bool {
    for (word, &bits) in marks.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let k = word * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // Block `k` marks dot lines at its octets 2 to 257 (LFs at 1 to 256).
            let Some(w) = buf.get(k * BLOCK + 1..k * BLOCK + BLOCK + 2) else {
                return false;
            };
            if !g(k, w) {
                return false;
            }
        }
    }
    true
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! [`super::each_marked_lf_dot`] on AVX2. Safe code: `pulp` checked the CPU for every
    //! instruction it names, and the octets reach the vector registers by value.

    use core::arch::x86_64::__m256i;
    use pulp::x86::V3;

    use crate::data::{DOT, LF};

    /// Octets compared per step.
    pub(super) const STEP: usize = 32;

    #[cfg(test)]
    pub(super) struct EachLfDot<'a, F> {
        pub(super) w: &'a [u8],
        pub(super) f: F,
        pub(super) simd: V3,
    }

    #[cfg(test)]
    impl<F: FnMut(usize) -> bool> pulp::NullaryFnOnce for EachLfDot<'_, F> {
        type Output = bool;

        #[inline(always)]
        fn call(self) -> bool {
            let Self { w, f, simd } = self;
            scan(simd, w, f)
        }
    }

    pub(super) struct EachMarked<'a, F> {
        pub(super) buf: &'a [u8],
        pub(super) marks: &'a [u64],
        pub(super) f: F,
        pub(super) simd: V3,
    }

    impl<F: FnMut(usize, Option<usize>) -> bool> pulp::NullaryFnOnce for EachMarked<'_, F> {
        type Output = bool;

        #[inline(always)]
        fn call(self) -> bool {
            let Self {
                buf,
                marks,
                mut f,
                simd,
            } = self;
            super::for_each_marked(buf, marks, |k, w| {
                scan(simd, w, |j| f(k, Some(j))) && f(k, None)
            })
        }
    }

    /// The search of one window of more than [`STEP`] octets.
    #[inline(always)]
    fn scan(simd: V3, w: &[u8], mut f: impl FnMut(usize) -> bool) -> bool {
        let (lf, dot) = (
            simd.avx._mm256_set1_epi8(LF as i8),
            simd.avx._mm256_set1_epi8(DOT as i8),
        );
        // Bit `i`: an LF at `j + i` and "." after it. Needs STEP + 1 octets from `j`.
        let mask_at = |j: usize| -> u32 {
            let (Some(a), Some(b)) = (
                w.get(j..).and_then(|s| s.first_chunk::<STEP>()),
                w.get(j + 1..).and_then(|s| s.first_chunk::<STEP>()),
            ) else {
                return 0;
            };
            let (a, b): (__m256i, __m256i) = (pulp::bytemuck::cast(*a), pulp::bytemuck::cast(*b));
            let both = simd.avx2._mm256_and_si256(
                simd.avx2._mm256_cmpeq_epi8(a, lf),
                simd.avx2._mm256_cmpeq_epi8(b, dot),
            );
            simd.avx2._mm256_movemask_epi8(both) as u32
        };
        let mut each = |j: usize, mut m: u32| {
            while m != 0 {
                if !f(j + m.trailing_zeros() as usize) {
                    return false;
                }
                m &= m - 1;
            }
            true
        };
        // `w` holds at least STEP + 1 octets: a block's window (or see `each_lf_dot_on`).
        let mut j = 0;
        while j + STEP < w.len() {
            if !each(j, mask_at(j)) {
                return false;
            }
            j += STEP;
        }
        // The last STEP + 1 octets, less what the steps above covered.
        let k = w.len().saturating_sub(STEP + 1);
        let m = mask_at(k).checked_shr((j - k) as u32).unwrap_or(0);
        each(j, m)
    }
}

/// The searcher for a line start with "." (LF then "."), built once: one search over a
/// block costs less than stepping from LF to LF, and building a searcher per search
/// would cost more than either.
fn dot_line_finder() -> &'static memchr::memmem::Finder<'static> {
    static FINDER: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    FINDER.get_or_init(|| memchr::memmem::Finder::new(b"\n."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DOT, LF};

    /// Both builds of the dot-line search find what a plain search finds, for every
    /// length up to two blocks and every place of the LF, with a decoy "." and LF
    /// around it.
    #[test]
    fn lf_dot_builds_agree_with_a_plain_search() {
        let plain = |w: &[u8]| w.windows(2).position(|p| p == [LF, DOT]);
        let mut found = 0;
        for len in 0..2 * BLOCK + 3 {
            let base: Vec<u8> = (0..len).map(|i| b"ab.\r\ncd"[i % 7]).collect();
            for at in 0..len.max(1) {
                let mut w = base.clone();
                if let Some(b) = w.get_mut(at) {
                    *b = LF;
                }
                if let Some(b) = w.get_mut(at + 1) {
                    *b = DOT;
                }
                let want = plain(&w);
                found += usize::from(want.is_some());
                let all: Vec<usize> = w
                    .windows(2)
                    .enumerate()
                    .filter(|(_, p)| *p == [LF, DOT])
                    .map(|(i, _)| i)
                    .collect();
                for vector in [false, true] {
                    let mut got = Vec::new();
                    assert!(each_lf_dot_on(vector, &w, |j| {
                        got.push(j);
                        true
                    }));
                    assert_eq!(got, all, "{vector} {len} {at}");
                }
                assert_eq!(lf_dot(&w), want, "{len} {at}");
            }
        }
        assert!(found > 100_000, "{found}");
    }

    /// Both builds of the search over marked blocks report, block by block, what a plain
    /// search of each block's window finds, then the block's end; they stop when told,
    /// and at a block whose window the buffer does not hold.
    #[test]
    fn marked_blocks_are_searched_as_their_windows() {
        // Ten blocks and a little more, with dot lines at places that vary per block,
        // some at the window's edges (an LF at octet 1 or 256 of a block).
        let mut buf: Vec<u8> = (0..10 * BLOCK + 40).map(|i| b"ab\r\ncd."[i % 7]).collect();
        for k in 0..10 {
            for at in [k * BLOCK + 1, k * BLOCK + 3 * k + 7, k * BLOCK + BLOCK] {
                buf[at] = LF;
                buf[at + 1] = DOT;
            }
        }
        let plain = |k: usize| -> Vec<(usize, Option<usize>)> {
            let w = &buf[k * BLOCK + 1..k * BLOCK + BLOCK + 2];
            let mut v: Vec<_> = w
                .windows(2)
                .enumerate()
                .filter(|(_, p)| *p == [LF, DOT])
                .map(|(j, _)| (k, Some(j)))
                .collect();
            v.push((k, None));
            v
        };
        for marks in [0u64, 1, 0b10_0110_1001, 0x3ff, 1 << 9, 1 << 10] {
            let want: Vec<_> = (0..64)
                .filter(|k| marks >> k & 1 == 1)
                .take_while(|&k| k * BLOCK + BLOCK + 2 <= buf.len())
                .flat_map(plain)
                .collect();
            let held = (0..64)
                .filter(|k| marks >> k & 1 == 1)
                .all(|k| k * BLOCK + BLOCK + 2 <= buf.len());
            for vector in [false, true] {
                let mut got = Vec::new();
                let done = each_marked_lf_dot_on(vector, &buf, &[marks, 0], |k, j| {
                    got.push((k, j));
                    true
                });
                assert_eq!((done, &got), (held, &want), "{marks:b} {vector}");
                // Told to stop at the fifth report.
                let mut n = 0;
                let done = each_marked_lf_dot_on(vector, &buf, &[marks, 0], |_, _| {
                    n += 1;
                    n < 5
                });
                assert_eq!((done, n), (held && want.len() < 5, want.len().min(5)));
            }
        }
    }
}
