//! The header scanner behind loop detection (RFC 5321 6.3) and the fields a submission
//! server adds when missing (RFC 6409 8).

use crate::syntax::command::find_lf;

/// Field names the scanner recognises, lower case.
const NAMES: [&[u8]; 3] = [b"received", b"message-id", b"date"];
const RECEIVED: u8 = 1;
const MESSAGE_ID: u8 = 2;
const DATE: u8 = 4;
const ALL: u8 = RECEIVED | MESSAGE_ID | DATE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ScanState {
    /// At the first byte of a line.
    #[default]
    LineStart,
    /// Inside a field name: `pos` bytes matched, `cands` the names still possible.
    Name { pos: u8, cands: u8 },
    /// After a complete name, in obsolete WSP before the colon (RFC 5322 4.5).
    NameWsp { cands: u8 },
    /// Skipping to the end of the line.
    Skip,
    /// The empty line was seen: the header is over.
    Done,
}

/// Streaming scanner of a message's header section: counts `Received:` fields (the hop
/// count of RFC 5321 6.3), notes `Message-ID:` and `Date:`, and finds the empty line that
/// ends the header.
///
/// Fed the message in chunks split anywhere (even inside a field name or a CRLF); the
/// results do not depend on the split. Constant state; work bounded by the header's
/// length, nothing after the empty line is looked at.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct HeaderScan {
    state: ScanState,
    received: usize,
    seen: u8,
}

/// Whether a line that starts with `b` needs the state machine: the first letter of a
/// tracked name (either case), or the CR or LF of the empty line.
fn may_matter(b: u8) -> bool {
    matches!(b | 0x20, b'r' | b'm' | b'd') || b == b'\r' || b == b'\n'
}

impl HeaderScan {
    /// A scanner at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scans the next chunk. Returns `Some(offset)` into `chunk` when the header ends in
    /// it: the offset where the empty line begins, i.e. where new header fields can be
    /// inserted (a message starting with CRLF has an empty header: `Some(0)`). Returns
    /// `None` while the header goes on, and always after it has ended.
    ///
    /// A line that begins with CR is taken as the empty line at once: the scanner does not
    /// wait for the LF, so the offset always falls inside the chunk that holds the line's
    /// first byte (a header line never begins with CR).
    pub fn feed(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                ScanState::Done => return None,
                ScanState::LineStart => match chunk[i] {
                    b'\r' | b'\n' => {
                        self.state = ScanState::Done;
                        return Some(i);
                    }
                    // A continuation line (RFC 5322 2.2.3) is not a field.
                    b' ' | b'\t' => self.state = ScanState::Skip,
                    _ => {
                        self.state = ScanState::Name { pos: 0, cands: ALL };
                        continue;
                    }
                },
                ScanState::Name { pos, cands } => {
                    let b = chunk[i].to_ascii_lowercase();
                    self.state = self.name_byte(pos, cands, b);
                }
                ScanState::NameWsp { cands } => match chunk[i] {
                    b' ' | b'\t' => {}
                    b':' => self.field(cands),
                    b'\n' => self.state = ScanState::LineStart,
                    _ => self.state = ScanState::Skip,
                },
                ScanState::Skip => {
                    // Lines are skipped whole, and the next one stays skipped unless its
                    // first octet may start a tracked name or end the header: a long
                    // header, or a message with none, costs one LF search per line.
                    i += find_lf(&chunk[i..])? + 1;
                    match chunk.get(i) {
                        Some(&b) if !may_matter(b) => {}
                        _ => self.state = ScanState::LineStart,
                    }
                    continue;
                }
            }
            i += 1;
        }
        None
    }

    /// One byte (lower-cased) of a field name.
    fn name_byte(&mut self, pos: u8, cands: u8, b: u8) -> ScanState {
        let p = usize::from(pos);
        let complete = NAMES
            .iter()
            .enumerate()
            .filter(|(k, n)| cands & (1 << k) != 0 && n.len() == p)
            .fold(0, |acc, (k, _)| acc | (1 << k));
        match b {
            b':' if complete != 0 => {
                self.field(complete);
                ScanState::Skip
            }
            b' ' | b'\t' if complete != 0 => ScanState::NameWsp { cands: complete },
            b'\n' => ScanState::LineStart,
            _ => {
                let next = NAMES
                    .iter()
                    .enumerate()
                    .filter(|(k, n)| cands & (1 << k) != 0 && n.get(p) == Some(&b))
                    .fold(0, |acc, (k, _)| acc | (1 << k));
                if next == 0 {
                    ScanState::Skip
                } else {
                    ScanState::Name {
                        pos: pos + 1,
                        cands: next,
                    }
                }
            }
        }
    }

    /// A recognised field name followed by its colon.
    fn field(&mut self, which: u8) {
        if which & RECEIVED != 0 {
            self.received += 1;
        }
        self.seen |= which & (MESSAGE_ID | DATE);
        self.state = ScanState::Skip;
    }

    /// True until the empty line that ends the header has been seen.
    pub fn in_header(&self) -> bool {
        self.state != ScanState::Done
    }

    /// The `Received:` fields seen so far: the hop count of RFC 5321 6.3.
    pub fn received(&self) -> usize {
        self.received
    }

    /// True once a `Message-ID:` field has been seen.
    pub fn has_message_id(&self) -> bool {
        self.seen & MESSAGE_ID != 0
    }

    /// True once a `Date:` field has been seen.
    pub fn has_date(&self) -> bool {
        self.seen & DATE != 0
    }
}
