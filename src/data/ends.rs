//! The search for the next CR or LF, set up once for many lines.

use std::sync::OnceLock;

use super::{CR, LF};

/// Finds the next CR or LF. `memchr::memchr2` picks its routine and sets up its two
/// needles at every call, through three calls; on the lines of a body (a few dozen
/// to a thousand octets) that cost as much as the search. This picks the AVX2 search
/// once, where the CPU has it, and calls it directly.
#[derive(Clone, Copy)]
pub(super) struct LineEnds {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::Two>,
}

impl LineEnds {
    /// The search, set up at the first call of the process: setting it up costs about
    /// a hundred instructions, too many to pay at every `DataDecoder::next`, and it is
    /// too large to carry in every decoder.
    #[inline]
    pub(super) fn get() -> &'static Self {
        static ENDS: OnceLock<LineEnds> = OnceLock::new();
        ENDS.get_or_init(|| Self {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::Two::new(CR, LF),
        })
    }

    /// The offset of the first CR or LF in `s`.
    #[inline]
    pub(super) fn find(&self, s: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(two) = &self.avx2 {
            return two.find(s);
        }
        memchr::memchr2(CR, LF, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first CR or LF, at every offset in haystacks of every short length and some
    /// long ones (the vector search takes 32 octets and more), as a plain search finds it.
    #[test]
    fn finds_the_first_cr_or_lf() {
        let ends = LineEnds::get();
        for len in (0..300).chain([1000, 4096]) {
            for at in (0..len).step_by(1 + len / 64) {
                for (b, other) in [(CR, LF), (LF, CR), (CR, b'.')] {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    if at + 1 < len {
                        s[at + 1] = other;
                    }
                    let want = s.iter().position(|&x| x == CR || x == LF);
                    assert_eq!(ends.find(&s), want, "len {len}, {b} at {at}");
                }
            }
            assert_eq!(ends.find(&vec![b'a'; len]), None);
        }
    }
}
