//! BDAT chunk counting (RFC 3030 2).

use bytes::{Bytes, BytesMut};

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
