//! The search for dot lines (an LF, then "."), for the blocks the DATA check marked.

/// The offset of the first LF in `w` that "." follows (both in `w`). For the first
/// one only, `memmem` measured faster than [`each_lf_dot`] on the whole-buffer path.
pub(super) fn lf_dot(w: &[u8]) -> Option<usize> {
    dot_line_finder().find(w)
}

/// Calls `f` with the offset of each LF in `w` that "." follows (both in `w`), in
/// order, while it returns true; returns false if `f` did.
///
/// With AVX2 this compares 32 octets per step and takes the positions from a bit
/// mask: a fraction of the instructions of a `memmem` call per dot line (set-up,
/// prefilter, and a check of each candidate), which was most of the cost of one.
#[inline(always)]
pub(super) fn each_lf_dot(w: &[u8], f: impl FnMut(usize) -> bool) -> bool {
    each_lf_dot_on(true, w, f)
}

/// [`each_lf_dot`], with the vector build allowed or not (the tests run both). Windows
/// shorter than one vector step go to `memmem`: the lists are built from whole blocks.
#[inline(always)]
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

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! [`super::each_lf_dot`] on AVX2. Safe code: `pulp` checked the CPU for every
    //! instruction it names, and the octets reach the vector registers by value.

    use core::arch::x86_64::__m256i;
    use pulp::x86::V3;

    use crate::data::{DOT, LF};

    /// Octets compared per step.
    pub(super) const STEP: usize = 32;

    pub(super) struct EachLfDot<'a, F> {
        pub(super) w: &'a [u8],
        pub(super) f: F,
        pub(super) simd: V3,
    }

    impl<F: FnMut(usize) -> bool> pulp::NullaryFnOnce for EachLfDot<'_, F> {
        type Output = bool;

        #[inline(always)]
        fn call(self) -> bool {
            let Self { w, mut f, simd } = self;
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
                let (a, b): (__m256i, __m256i) =
                    (pulp::bytemuck::cast(*a), pulp::bytemuck::cast(*b));
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
            // `w` holds at least STEP + 1 octets (see `each_lf_dot_on`).
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
    use crate::data::fast::BLOCK;
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
}
