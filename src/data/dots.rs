//! The search for dot lines (an LF, then ".") in a block the check marked: the first
//! one, for the whole-buffer path, and all of them, for `push`, which drops their
//! transparency dots as it copies the block.

use super::fast::BLOCK;

/// The dot lines of a block's window (the block and the two octets after it): bit
/// `i % 64` of word `i / 64` for an LF at octet `i + 1` that "." follows, so for a line
/// that starts with "." at octet `i + 2`. With AVX2, 32 octets per compare and no
/// branch on where the lines are: a `memmem` call per dot line cost about twice the
/// instructions (set-up, prefilter, and a check of each candidate).
#[inline]
pub(super) fn dot_line_mask(w: &[u8; BLOCK + 2]) -> [u64; BLOCK / 64] {
    dot_line_mask_on(true, w)
}

/// [`dot_line_mask`], with the vector build allowed or not (the tests run both).
#[inline]
fn dot_line_mask_on(vector: bool, w: &[u8; BLOCK + 2]) -> [u64; BLOCK / 64] {
    #[cfg(target_arch = "x86_64")]
    if vector {
        if let Some(simd) = pulp::x86::V3::try_new() {
            return simd.vectorize(avx2::Mask { w, simd });
        }
    }
    let _ = vector;
    let mut m = [0u64; BLOCK / 64];
    for (i, p) in w[1..].windows(2).enumerate() {
        if p == [super::LF, super::DOT] {
            if let Some(word) = m.get_mut(i / 64) {
                *word |= 1 << (i % 64);
            }
        }
    }
    m
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! [`super::dot_line_mask`] on AVX2. Safe code: `pulp` checked the CPU for every
    //! instruction it names, and the octets reach the vector registers by value.

    use core::arch::x86_64::__m256i;
    use pulp::x86::V3;

    use super::BLOCK;
    use crate::data::{DOT, LF};

    /// Octets compared per step.
    const STEP: usize = 32;

    pub(super) struct Mask<'a> {
        pub(super) w: &'a [u8; BLOCK + 2],
        pub(super) simd: V3,
    }

    impl pulp::NullaryFnOnce for Mask<'_> {
        type Output = [u64; BLOCK / 64];

        #[inline(always)]
        fn call(self) -> [u64; BLOCK / 64] {
            let Self { w, simd } = self;
            let (lf, dot) = (
                simd.avx._mm256_set1_epi8(LF as i8),
                simd.avx._mm256_set1_epi8(DOT as i8),
            );
            let mut m = [0u64; BLOCK / 64];
            for (k, word) in m.iter_mut().enumerate() {
                for half in 0..2 {
                    // LFs at octets 1 + j to STEP + j, the dots one after each.
                    let j = k * 64 + half * STEP;
                    let (Some(a), Some(b)) = (
                        w.get(j + 1..).and_then(|s| s.first_chunk::<STEP>()),
                        w.get(j + 2..).and_then(|s| s.first_chunk::<STEP>()),
                    ) else {
                        continue;
                    };
                    let (a, b): (__m256i, __m256i) =
                        (pulp::bytemuck::cast(*a), pulp::bytemuck::cast(*b));
                    let both = simd.avx2._mm256_and_si256(
                        simd.avx2._mm256_cmpeq_epi8(a, lf),
                        simd.avx2._mm256_cmpeq_epi8(b, dot),
                    );
                    let bits = simd.avx2._mm256_movemask_epi8(both) as u32;
                    *word |= u64::from(bits) << (half * STEP);
                }
            }
            m
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DOT, LF};

    /// Both builds of the block mask mark exactly the LFs at octets 1 to 256 of the
    /// window that "." follows, wherever they are, the window's edges included.
    #[test]
    fn dot_line_mask_builds_agree_with_a_plain_search() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        for case in 0..3000 {
            let mut w = [0u8; BLOCK + 2];
            for b in &mut w {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly LF and "." so that the pairs are dense, some of each alone.
                *b = b"\n.\n.a\r"[(seed % 6) as usize];
            }
            if case % 3 == 0 {
                // The edges: an LF at octet 0 (not marked), 1, 255 and 256.
                for at in [0, 1, BLOCK - 1, BLOCK] {
                    w[at] = LF;
                    w[at + 1] = DOT;
                }
            }
            let mut want = [0u64; BLOCK / 64];
            for i in 0..BLOCK {
                if w[i + 1] == LF && w[i + 2] == DOT {
                    want[i / 64] |= 1 << (i % 64);
                }
            }
            for vector in [false, true] {
                assert_eq!(dot_line_mask_on(vector, &w), want, "case {case} {vector}");
            }
        }
    }
}
