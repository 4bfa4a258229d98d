//! Message content transfer: DATA body decoding for servers, dot-stuffing
//! for clients (RFC 5321 4.1.1.4, 4.5.2) and BDAT chunk counting (RFC 3030).

mod bdat;
mod dots;
mod ends;
mod fast;
mod stuff;
mod walk;

use bytes::{Buf, Bytes, BytesMut};

pub use bdat::BdatDecoder;
pub use stuff::{DotStuffer, dot_stuff};

use fast::BLOCK;

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const DOT: u8 = b'.';
const CRLF: &[u8] = b"\r\n";

/// What to do with a bare CR or bare LF inside DATA (never an end of data
/// either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BareLineEndings {
    /// Pass the bytes through unchanged and flag the message, so the server
    /// can reject it once the real end of data has been seen.
    #[default]
    Reject,
    /// Write each bare CR and bare LF as CRLF in the output.
    Normalize,
}

/// One step of DATA body decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataStep {
    /// Everything usable has been taken; feed more input.
    NeedMore,
    /// A non-empty piece of the message body.
    Chunk(Bytes),
    /// The end-of-data indication was consumed; the body is complete.
    End,
}

/// Server-side decoder for the DATA body: finds the end of data and removes
/// transparency dots (RFC 5321 4.5.2).
///
/// Only `CRLF "." CRLF` made of real CRLFs ends the data (or `"." CRLF` as
/// the first line); every other arrangement of CR, LF and "." is content
/// (RFC 5321 4.1.1.4, 2.3.8).
#[derive(Debug, Clone)]
pub struct DataDecoder {
    bare: BareLineEndings,
    max_line_len: Option<usize>,
    /// The next input byte begins a line (start of data or after a real
    /// CRLF), so it may be a transparency dot or the final ".".
    at_line_start: bool,
    /// Content bytes of the current line seen so far, line ending excluded.
    line_len: u64,
    saw_bare: bool,
    saw_long: bool,
    done: bool,
    /// Block checks that took one block or none, one after the other (at most 4; with
    /// gaps, a line too long for the check still passes its first block): the
    /// next try waits `BLOCK << refused` octets, so that a body of long lines is not
    /// checked again at every line start.
    refused: u8,
    /// What the last [`DataDecoder::push`] learnt about the buffer it left, for the next
    /// call to [`DataDecoder::next`] only.
    vouched: Option<Vouched>,
    /// Octets taken by the block fast path, so that tests can check that it runs.
    #[cfg(test)]
    fast: usize,
}

impl DataDecoder {
    /// Creates a decoder positioned right after the server's 354 reply.
    ///
    /// `max_line_len` counts the CRLF (RFC 5321 4.5.3.1.6: 1000); `None`
    /// means unlimited.
    pub fn new(bare: BareLineEndings, max_line_len: Option<usize>) -> Self {
        Self {
            bare,
            max_line_len,
            at_line_start: true,
            line_len: 0,
            saw_bare: false,
            saw_long: false,
            done: false,
            refused: 0,
            vouched: None,
            #[cfg(test)]
            fast: 0,
        }
    }

    /// True once a bare CR or bare LF has been seen in the body.
    pub fn saw_bare_line_ending(&self) -> bool {
        self.saw_bare
    }

    /// True once a line longer than `max_line_len` has been seen.
    pub fn saw_long_line(&self) -> bool {
        self.saw_long
    }

    /// True once the end of data has been consumed.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Appends `input` (a read from the client) to `buf`, checking it on the way.
    ///
    /// The decoder hands out the same body as after `buf.extend_from_slice(input)`, but
    /// the block check runs on `input` while it is copied, so each octet is read from
    /// memory once instead of once by the copy and again by [`DataDecoder::next`]; and
    /// the transparency dots of the blocks that pass are dropped as they are copied, so
    /// that dot lines do not each end a chunk. What `push` leaves in `buf` is therefore
    /// not the wire as it came: hand it to this decoder only. Then call
    /// [`DataDecoder::next`] until it returns [`DataStep::NeedMore`] or
    /// [`DataStep::End`], changing `buf` in between only through the decoder or by
    /// appending to it (a second `push` before draining appends as it is, and moving the
    /// buffer to make room is fine). The octets after the end of data are left as they
    /// came.
    pub fn push(&mut self, input: &[u8], buf: &mut BytesMut) {
        let held = buf.len();
        if let Some(v) = &self.vouched {
            if v.start + v.end() > held {
                // Octets it described were taken off the buffer other than by the
                // decoder (a caller that cleared it): it describes nothing now.
                self.vouched = None;
            }
        }
        if self.vouched.is_some() || self.done || held > BLOCK {
            // A caller that has not drained the buffer: what the last `push` found
            // still holds for the octets it left (which may have had dots dropped, and
            // must be taken as it said), where they are. The rest is appended as it is.
            buf.extend_from_slice(input);
            return;
        }
        buf.reserve(input.len());
        let (max_line, gaps, tolerant) = (self.max_line_len, self.gaps(), self.tolerant());
        let unstuff = self.may_unstuff(input, held);
        let rest = |rest: &[u8], buf: &mut BytesMut, blocks: usize| {
            // Past a refused block, long lines are walked as they are copied: on from
            // where the blocks end, given the length of the line open there, so that the
            // decoder takes both as one run; or, with no block, from the first line start.
            if rest.len() < walk::MIN_WALK || buf.len() != blocks {
                buf.extend_from_slice(rest);
                return None;
            }
            // The line open where the blocks end starts after their last LF; with no
            // block, or no LF in them (a block may hold its LF as its 257th octet), its
            // start is not known. A CR just before `blocks` is answered by the walk.
            // (Once bare line endings pass, a bare CR after that LF starts a line too:
            // the line is then taken as longer than it is, and the walk stops sooner.)
            let open = memchr::memrchr(LF, &buf[..blocks]).map(|l| blocks - l - 1);
            walk::copy_walked(rest, buf, max_line, open)
        };
        let (checked, walked) = if tolerant {
            fast::copy_checked::<true, _>(input, buf, false, unstuff, rest)
        } else {
            fast::copy_checked::<false, _>(input, buf, gaps, unstuff, rest)
        };
        if checked > 0 || walked.is_some() {
            self.vouched = Some(Vouched {
                start: 0,
                checked,
                walked,
                tolerant,
            });
        }
    }

    /// Whether `push` may drop the transparency dots of the blocks it checks in a read
    /// (`input`, after `held` octets): only before the end of data, as what follows it
    /// is the next command's, and only where the decoder will not look for dots again.
    /// So: a drained buffer (a dot held is the decoder's); no line at the read's first
    /// octet that is or may become the end of data; no bare LF first (the check marks
    /// lines from the second octet on). The decoder never reads a line start in those
    /// octets as a dot line (see `scan`), whether it takes them as a run or, after a
    /// long line open at the start, line by line.
    fn may_unstuff(&self, input: &[u8], held: usize) -> bool {
        let first_dot = self.at_line_start
            && input.first() == Some(&DOT)
            && input.get(1..3).is_none_or(|a| a == CRLF);
        held == 0 && !first_dot && input.first() != Some(&LF)
    }

    /// What [`DataDecoder::push`] left at `buf[pos]`, when `buf` is the buffer it left:
    /// the octets from there it already checked (with no dot line left for the decoder
    /// to see) and the lines it walked after them, or where lines it walked start
    /// further on.
    /// Out of line, and called only when `push` left something: inlined, its loads were
    /// hoisted into every scan, the whole-buffer path's included.
    #[inline(never)]
    fn vouched(&mut self, buf: &[u8], pos: usize) -> Option<Vouch> {
        let v = self.vouched.as_mut()?;
        if v.start + v.end() > buf.len() {
            // Not the buffer `push` left (octets were taken off its end).
            return None;
        }
        let from = pos.checked_sub(v.start)?;
        if let Some(n) = v.checked.checked_sub(from).filter(|&n| n > 0) {
            // Up to the end of the blocks, and on over the lines walked from there.
            let walked = v.walked.filter(|w| w.start == v.checked);
            return Some(Vouch::Run(n + walked.map_or(0, |w| w.len)));
        }
        // At or past the end of the blocks: the walked lines, here or further on.
        let w = v.walked?;
        Some(match w.start.checked_sub(from)? {
            0 => Vouch::Run(w.len),
            ahead => Vouch::WalkAt(pos + ahead),
        })
    }

    /// The positions in `buf` of the blocks the last [`DataDecoder::push`] checked
    /// (which may have had transparency dots dropped), past their first octet (which
    /// the decoder looks at first: a dot at a line start there is its own). Empty when
    /// there are none.
    #[inline]
    fn changed(&self, buf: &[u8]) -> core::ops::Range<usize> {
        match &self.vouched {
            Some(v) => v.start + 1..(v.start + v.checked).min(buf.len()),
            None => 0..0,
        }
    }

    /// Notes that `n` octets left the front of the buffer (a chunk, or a dot dropped):
    /// what `push` vouched for is where it was, less those.
    fn taken(&mut self, n: usize) {
        let Some(v) = &mut self.vouched else {
            return;
        };
        match v.start.checked_sub(n) {
            Some(start) => v.start = start,
            None => {
                // Into the octets vouched for: the decoder went through them as a
                // run, or goes on from inside one it was given.
                let into = n - v.start;
                v.start = 0;
                v.checked = v.checked.saturating_sub(into);
                v.walked = v.walked.and_then(|w| {
                    let end = (w.start + w.len).checked_sub(into).filter(|&e| e > 0)?;
                    let start = w.start.saturating_sub(into);
                    Some(walk::Walked {
                        start,
                        len: end - start,
                    })
                });
                if v.checked == 0 && v.walked.is_none() {
                    self.vouched = None;
                }
            }
        }
    }

    /// Splits the first `n` octets off `buf` as a chunk.
    fn emit(&mut self, buf: &mut BytesMut, n: usize) -> DataStep {
        self.taken(n);
        emit(buf, n)
    }

    /// What a run [`DataDecoder::vouched`] returned must satisfy, checked octet by
    /// octet (for debug assertions): the blocks' part as the block check vouches, the
    /// walked part as the walk does, its first line measured from the last LF before it.
    fn run_holds(&self, buf: &[u8], pos: usize, n: usize) -> bool {
        let Some(v) = &self.vouched else {
            return false;
        };
        let blocks_end = v.start + v.checked;
        let in_blocks = n.min(blocks_end.saturating_sub(pos));
        // The blocks' transparency dots are gone: a line there may start with ".".
        let blocks_hold = if v.tolerant {
            fast::vouches_tolerant(buf, pos, in_blocks, false)
        } else {
            fast::vouches(buf, pos, in_blocks, self.gaps(), false)
        };
        if !blocks_hold {
            return false;
        }
        let at = pos + in_blocks;
        let open = memchr::memrchr(LF, &buf[..at]).map(|l| at - l - 1);
        in_blocks == n || walk::vouches(buf, at, n - in_blocks, self.max_line_len, open)
    }

    /// Takes the next piece of the message body from `buf`. Call until it
    /// returns [`DataStep::NeedMore`] or [`DataStep::End`].
    ///
    /// Chunks are slices split off `buf`; when `NeedMore` is returned `buf`
    /// holds at most 2 bytes (a CR, or "." / ".\r" at a line start). Bytes
    /// after the end of data are left in `buf`.
    pub fn next(&mut self, buf: &mut BytesMut) -> DataStep {
        if self.done {
            return DataStep::End;
        }
        if self.at_line_start {
            match buf.first() {
                None => return DataStep::NeedMore,
                Some(&DOT) => match (buf.get(1), buf.get(2)) {
                    (Some(&CR), Some(&LF)) => {
                        buf.advance(3);
                        self.done = true;
                        self.vouched = None;
                        return DataStep::End;
                    }
                    // Could still become "." CRLF.
                    (None, _) | (Some(&CR), None) => return DataStep::NeedMore,
                    // Transparency dot (RFC 5321 4.5.2): drop it, and do
                    // not count it towards the line length (4.5.3.1.6).
                    _ => {
                        buf.advance(1);
                        self.taken(1);
                    }
                },
                Some(_) => {}
            }
            self.at_line_start = false;
        }
        let step = self.scan(buf);
        if step == DataStep::NeedMore {
            // Drained: whatever comes next is new to the decoder.
            self.vouched = None;
        }
        step
    }

    /// Emits as much mid-line content as possible, stopping before a line
    /// start that begins with ".", before a trailing CR, or (when
    /// normalising) at a bare line ending.
    fn scan(&mut self, buf: &mut BytesMut) -> DataStep {
        let len = buf.len();
        let mut pos = 0;
        let mut line_start = 0;
        // Where the fast path may be tried again after a block it refused.
        let mut fast_from = 0;
        // Taken once per call rather than at each line: fewer instructions on bodies of
        // long lines (7 % on mixed_998), a few more on bodies with many dot lines.
        let ends = ends::LineEnds::get();
        let changed = self.changed(buf);
        loop {
            if pos >= fast_from
                && buf.get(pos).is_some_and(|&b| b != LF)
                && self.room_for_blocks(pos - line_start)
            {
                let vouched = if self.vouched.is_some() {
                    self.vouched(buf, pos)
                } else {
                    None
                };
                let n = match vouched {
                    Some(Vouch::Run(n)) => {
                        debug_assert!(self.run_holds(buf, pos, n), "push vouched for {n} at {pos}");
                        // What follows was refused, or is not `push`'s: a block on.
                        fast_from = pos + n + (BLOCK << self.refused);
                        n
                    }
                    // Lines `push` walked start further on, at a line start: go there
                    // line by line rather than check blocks in place.
                    Some(Vouch::WalkAt(at)) => {
                        fast_from = at;
                        0
                    }
                    None => {
                        let n = if self.tolerant() {
                            fast::clean_run_tolerant(buf, pos)
                        } else {
                            fast::clean_run(buf, pos, self.gaps())
                        };
                        self.refused = if n <= BLOCK {
                            (self.refused + 1).min(4)
                        } else {
                            0
                        };
                        // Go line by line past a refused block before trying again, the
                        // further the more tries in a row were refused.
                        fast_from = pos + n + (BLOCK << self.refused);
                        n
                    }
                };
                if n > 0 {
                    let (next, dot_line) = self.take_clean(buf, pos, n, &mut line_start);
                    if dot_line {
                        self.at_line_start = true;
                        return self.emit(buf, next);
                    }
                    pos = next;
                }
            }
            // CRLF is found via its CR and skipped as a pair, so an LF hit
            // is never preceded by CR: it is bare. A CR found at the very
            // end is held back, so the pair is never split across calls.
            let Some(i) = buf
                .get(pos..)
                .and_then(|s| ends.find(s))
                .map(|off| pos + off)
            else {
                self.add_content(len.saturating_sub(line_start));
                return self.emit(buf, len);
            };
            if buf.get(i) == Some(&CR) {
                match buf.get(i + 1) {
                    None => {
                        self.add_content(i.saturating_sub(line_start));
                        return self.emit(buf, i);
                    }
                    Some(&LF) => {
                        self.add_content(i.saturating_sub(line_start));
                        // A line of a block or more, found line by line, is likely
                        // followed by more: go on line by line for two blocks before
                        // the check is tried again. Each such line costs one search
                        // (about a hundred instructions, and 0.15 an octet), less than
                        // the check's 0.33 an octet, and going back and forth between
                        // the two cost more than either: on lines of 0 to 998 octets
                        // (mixed_998), 23 % fewer instructions than waiting only after
                        // lines the check cannot pass, and 1.1-1.2 against 0.85-0.97 x
                        // memcpy. Unless `push` left a run to take there, which may go
                        // on over lines it walked.
                        if self.line_len.saturating_add(2) >= BLOCK as u64 && self.vouched.is_none()
                        {
                            fast_from = fast_from.max(i + 2 + 2 * BLOCK);
                        }
                        self.end_line();
                        let next = i + 2;
                        if changed.contains(&next) {
                            // In octets `push` dropped transparency dots from, a line
                            // that starts with "." holds it as content.
                            pos = next;
                            line_start = next;
                            continue;
                        }
                        match buf.get(next) {
                            // Stop so the next call can look at the line
                            // start (possible dot or end of data).
                            None | Some(&DOT) => {
                                self.at_line_start = true;
                                return self.emit(buf, next);
                            }
                            Some(_) => {
                                pos = next;
                                line_start = next;
                                continue;
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
            // A bare CR or bare LF at `i` (RFC 5321 2.3.8).
            self.saw_bare = true;
            match self.bare {
                BareLineEndings::Reject => {
                    self.add_content(i.saturating_sub(line_start));
                    self.end_line();
                    pos = i + 1;
                    line_start = pos;
                }
                BareLineEndings::Normalize if i > 0 => {
                    // Emit up to it; the next call replaces it.
                    self.add_content(i.saturating_sub(line_start));
                    return self.emit(buf, i);
                }
                BareLineEndings::Normalize => {
                    // Never a line start: only raw CRLFs can begin a line
                    // that may hold a dot or the end of data.
                    self.end_line();
                    buf.advance(1);
                    self.taken(1);
                    return DataStep::Chunk(Bytes::from_static(CRLF));
                }
            }
        }
    }

    /// Accounts for `n` octets at `pos` that the fast path passed. Returns where to go
    /// on, and whether that is a line start with "." (a transparency dot or the end of
    /// data, for the next call to look at).
    fn take_clean(
        &mut self,
        buf: &[u8],
        pos: usize,
        n: usize,
        line_start: &mut usize,
    ) -> (usize, bool) {
        // Every line that ended in there was shorter than 2 * BLOCK, or 3 * BLOCK with
        // gaps (the first one by `room_for_blocks`), or was measured against the limit
        // by `push`'s walk; the last LF starts the open line.
        #[cfg(test)]
        {
            self.fast += n;
        }
        let end = pos + n;
        if self.tolerant() {
            return self.take_tolerant(buf, pos, end, line_start);
        }
        if buf.get(end) == Some(&DOT) && buf.get(end - 1) == Some(&LF) {
            // The run ends where a line starts: no search for its last LF.
            self.line_len = 0;
            *line_start = end;
            return (end, true);
        }
        if let Some(l) = memchr::memrchr(LF, &buf[pos..pos + n]) {
            self.line_len = 0;
            *line_start = pos + l + 1;
        }
        // Never stop between the CR and LF of a pair.
        if buf.get(end - 1) == Some(&CR) {
            return (end - 1, false);
        }
        (end, false)
    }

    /// [`DataDecoder::take_clean`] once bare line endings pass through (see
    /// [`DataDecoder::tolerant`]): a line starts with "." only after a real CRLF, and the
    /// last CR or LF in the run, whichever ends a line there, starts the open one.
    #[cold]
    fn take_tolerant(
        &mut self,
        buf: &[u8],
        pos: usize,
        end: usize,
        line_start: &mut usize,
    ) -> (usize, bool) {
        let crlf_before = end >= pos + 2 && buf.get(end - 2..end) == Some(CRLF);
        if crlf_before && buf.get(end) == Some(&DOT) {
            self.line_len = 0;
            *line_start = end;
            return (end, true);
        }
        // Never stop between the CR and LF of a pair, nor after a CR that may be one.
        let end = if buf.get(end - 1) == Some(&CR) {
            end - 1
        } else {
            end
        };
        if let Some(l) = memchr::memrchr2(CR, LF, &buf[pos..end]) {
            self.line_len = 0;
            *line_start = pos + l + 1;
        }
        (end, false)
    }

    /// Whether bare CRs and LFs pass through a body that holds one already: then the
    /// block check takes them as content (see `fast::clean_run_tolerant`), since every
    /// one after the first changes nothing but where a line's length is counted from.
    fn tolerant(&self) -> bool {
        self.saw_bare && self.bare == BareLineEndings::Reject
    }

    /// Whether the block check may pass a block with no LF after one with an LF: it
    /// then bounds the lines it passes over below `3 * BLOCK` octets instead of
    /// `2 * BLOCK`, which must not reach the limit.
    fn gaps(&self) -> bool {
        self.max_line_len
            .is_none_or(|max| max >= fast::line_bound(true))
    }

    /// The block check's first block or the one after it holds an LF, so the line open
    /// at its start, `open` octets so far, ends within `2 * BLOCK + 1` octets; the
    /// check may run only where that line cannot reach the limit inside it.
    fn room_for_blocks(&self, open: usize) -> bool {
        let line_so_far = self.line_len.saturating_add(open as u64);
        self.max_line_len
            .is_none_or(|max| line_so_far.saturating_add(2 * BLOCK as u64 + 2) <= max as u64)
    }

    fn add_content(&mut self, n: usize) {
        if n > 0 {
            self.line_len = self.line_len.saturating_add(n as u64);
            self.check_len();
        }
    }

    fn end_line(&mut self) {
        self.check_len();
        self.line_len = 0;
    }

    fn check_len(&mut self) {
        let len = self.line_len.saturating_add(2);
        if self.max_line_len.is_some_and(|max| len > max as u64) {
            self.saw_long = true;
        }
    }
}

/// What [`DataDecoder::push`] checked, from offset `start` of the buffer on. Offsets,
/// kept by the decoder as it takes octets off the front, because the buffer may move
/// (a caller that reserves room before the next read, without draining first): the
/// octets stay where they are from the front.
#[derive(Debug, Clone, Copy)]
struct Vouched {
    start: usize,
    /// Octets from `start` that passed the block check, their transparency dots
    /// dropped: a line in them may start with "." (as content), so they are taken
    /// whole, never line by line.
    checked: usize,
    /// Lines walked past the checked blocks (offsets from `start`).
    walked: Option<walk::Walked>,
    /// The blocks were checked as `fast::clean_run_tolerant` checks.
    tolerant: bool,
}

impl Vouched {
    /// Octets from `start` it describes: the blocks, and the lines walked after them.
    fn end(&self) -> usize {
        self.walked.map_or(self.checked, |w| w.start + w.len)
    }
}

/// What [`DataDecoder::vouched`] found at a position.
#[derive(Debug, Clone, Copy)]
enum Vouch {
    /// So many octets need no line-by-line work.
    Run(usize),
    /// Lines `push` walked start at this later position, at a line start.
    WalkAt(usize),
}

/// Feeds `wire` to `dec` by `push` in reads of `read` octets, draining the decoder after
/// each, and returns the body it handed out.
#[cfg(test)]
fn push_reads(dec: &mut DataDecoder, wire: &[u8], read: usize) -> Vec<u8> {
    let (mut buf, mut out) = (BytesMut::new(), Vec::new());
    for piece in wire.chunks(read) {
        dec.push(piece, &mut buf);
        while let DataStep::Chunk(c) = dec.next(&mut buf) {
            out.extend_from_slice(&c);
        }
    }
    out
}

fn emit(buf: &mut BytesMut, n: usize) -> DataStep {
    if n == 0 {
        DataStep::NeedMore
    } else {
        DataStep::Chunk(buf.split_to(n).freeze())
    }
}
