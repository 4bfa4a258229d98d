//! Message bodies: DATA (dot-unstuffing, end of data, the smuggling defence) and BDAT
//! chunks, the checks made on the whole message (size, bare line endings, line length,
//! hop count) and the decision at its end.

use bytes::Bytes;

use super::replies::{self, Std, abort_reply};
use super::state::{BdatIn, DataIn, Pending, Phase};
use super::{AbortReason, CloseReason, Event, MessageEnd, MessageStart, Server};
use crate::data::{BareLineEndings, BdatDecoder, DataDecoder, DataStep};
use crate::types::{Body, EnhancedStatus, ReplyCode};

impl Server {
    pub(super) fn step_data(&mut self) -> bool {
        let Phase::Data(d) = &mut self.phase else {
            return false;
        };
        match d.decoder.next(&mut self.rx) {
            DataStep::NeedMore => false,
            DataStep::Chunk(chunk) => {
                self.data_chunk(chunk);
                true
            }
            DataStep::End => {
                // Decided on the whole message, never on the first chunk that showed a
                // problem: chunk boundaries follow the reads, and the reply must not.
                let reason = self.abort_reason();
                self.phase = Phase::Command;
                self.arm_timer();
                match reason {
                    None => self.message_end(),
                    Some(reason) => {
                        self.events.push_back(Event::MessageAborted(reason));
                        // LMTP owes one reply per recipient, refusals included
                        // (RFC 2033 4.2).
                        let n = self.end_of_data_replies();
                        self.txn = None;
                        for _ in 0..n {
                            self.send_std(&abort_reply(reason));
                        }
                    }
                }
                true
            }
        }
    }

    /// True when the header read so far has more `Received:` fields than allowed
    /// (RFC 5321 6.3).
    pub(super) fn too_many_hops(&self) -> bool {
        self.txn
            .as_ref()
            .is_some_and(|t| t.header.received() > self.cfg.limits.hops)
    }

    /// Why the message in DATA fails, from facts about all of it so far, in a fixed
    /// order: a mail loop (RFC 5321 6.3), size (RFC 1870), bare line endings (RFC 5321
    /// 2.3.8), line length (4.5.3.1.6).
    pub(super) fn abort_reason(&self) -> Option<AbortReason> {
        let Phase::Data(d) = &self.phase else {
            return None;
        };
        let size = self.txn.as_ref().map_or(0, |t| t.size);
        let reject_bare = self.cfg.bare_line_endings == BareLineEndings::Reject;
        if self.too_many_hops() {
            Some(AbortReason::TooManyHops)
        } else if self.cfg.limits.message_size.is_some_and(|l| size > l) {
            Some(AbortReason::TooBig)
        } else if reject_bare && d.decoder.saw_bare_line_ending() {
            Some(AbortReason::BareLineEnding)
        } else if d.decoder.saw_long_line() {
            Some(AbortReason::LineTooLong)
        } else {
            None
        }
    }

    /// Delivers a body chunk, or drops it once the message is known to fail. Octets are
    /// counted either way, so the verdict at the end sees the whole message.
    pub(super) fn data_chunk(&mut self, chunk: Bytes) {
        if let Some(t) = self.txn.as_mut() {
            // Before the chunk goes out: the chunk that shows a loop is not delivered.
            t.take_chunk(&chunk);
        }
        let failing = self.abort_reason();
        let Phase::Data(d) = &mut self.phase else {
            return;
        };
        if d.aborted.is_none() {
            d.aborted = failing;
        }
        if d.aborted.is_none() {
            self.events.push_back(Event::MessageChunk(chunk));
        }
    }

    pub(super) fn step_bdat(&mut self) -> bool {
        let Phase::Bdat(b) = &mut self.phase else {
            return false;
        };
        if let Some(chunk) = b.decoder.next(&mut self.rx) {
            if b.discard.is_none() {
                if let Some(t) = self.txn.as_mut() {
                    t.take_chunk(&chunk);
                }
                if self.too_many_hops() {
                    // RFC 5321 6.3: a loop. The rest of the chunk is read and dropped;
                    // the transaction is over.
                    let last = matches!(&self.phase, Phase::Bdat(b) if b.last);
                    let n = if last { self.end_of_data_replies() } else { 1 };
                    self.events
                        .push_back(Event::MessageAborted(AbortReason::TooManyHops));
                    self.txn = None;
                    if let Phase::Bdat(b) = &mut self.phase {
                        b.discard = Some((replies::TOO_MANY_HOPS, n));
                    }
                } else {
                    self.events.push_back(Event::MessageChunk(chunk));
                }
            }
        }
        let Phase::Bdat(b) = &mut self.phase else {
            return false;
        };
        if !b.decoder.is_done() {
            return false;
        }
        let (size, last, discard) = (b.size, b.last, b.discard);
        self.phase = Phase::Command;
        match discard {
            // Refusals of the message, not errors of the client.
            Some((r, n)) if r == replies::TOO_BIG || r == replies::TOO_MANY_HOPS => {
                for _ in 0..n {
                    self.send_std(&r);
                }
            }
            Some((r, n)) => {
                self.error(&r);
                for _ in 1..n {
                    self.send_std(&r);
                }
            }
            None if last => self.message_end(),
            None => {
                // RFC 3030 2: each chunk but the last is answered on its own.
                let text = format!("{size} octets received");
                self.write_line(ReplyCode::OK, Some(EnhancedStatus::known(2, 0, 0)), &text);
            }
        }
        true
    }

    /// How many replies end the message: one, or with LMTP one per accepted recipient
    /// (RFC 2033 4.2).
    pub(super) fn end_of_data_replies(&self) -> usize {
        if self.cfg.lmtp {
            self.txn.as_ref().map_or(1, |t| t.rcpts.len().max(1))
        } else {
            1
        }
    }

    /// Reports the start of a body with the facts trace fields are made of.
    pub(super) fn message_start(&mut self) {
        // A transaction exists only after an accepted EHLO, HELO or LHLO.
        let (Some(t), Some(hello), Some(host)) = (&self.txn, self.hello, &self.hello_host) else {
            return;
        };
        let start = MessageStart {
            hello,
            hello_host: host.clone(),
            tls: self.tls,
            authenticated: self.authenticated,
            from: t.from.clone(),
            smtputf8: t.params.smtputf8,
            recipients: t.rcpts.clone(),
        };
        self.events.push_back(Event::MessageStart(start));
    }

    pub(super) fn message_end(&mut self) {
        let replies = self.end_of_data_replies();
        // The list moves into the event: the transaction ends with this message.
        let (size, recipients) = self
            .txn
            .as_mut()
            .map_or((0, Vec::new()), |t| (t.size, std::mem::take(&mut t.rcpts)));
        let ticket = self.ticket(Pending::Message { replies });
        self.events.push_back(Event::MessageEnd(MessageEnd {
            ticket,
            size,
            recipients,
        }));
    }

    pub(super) fn data(&mut self) {
        if self.hello.is_none() {
            return self.error(&replies::NEED_HELLO);
        }
        let Some(t) = self.txn.as_ref() else {
            return self.error(&replies::NEED_MAIL);
        };
        if t.bdat {
            return self.error(&replies::DATA_AFTER_BDAT);
        }
        if t.params.body == Some(Body::BinaryMime) {
            return self.error(&replies::BINARYMIME_NEEDS_BDAT);
        }
        if t.rcpts.is_empty() {
            // RFC 2920 3.1: after pipelined RCPTs that all failed, DATA gets 554.
            return self.error(if t.rcpt_attempts > 0 {
                &replies::NO_VALID_RCPTS
            } else {
                &replies::NEED_RCPT
            });
        }
        self.send_std(&replies::START_DATA);
        let decoder = DataDecoder::new(self.cfg.bare_line_endings, self.cfg.limits.text_line);
        self.phase = Phase::Data(DataIn {
            decoder,
            aborted: None,
        });
        self.arm_timer();
        self.message_start();
    }

    pub(super) fn bdat(&mut self, size: u64, last: bool) {
        // RFC 3030 2: a chunk whose size could be read is consumed even when refused, so
        // its octets are never taken for commands.
        if !self.cfg.extensions.chunking {
            return self.discard_bdat(size, replies::NOT_IMPLEMENTED, 1);
        }
        if self.hello.is_none() {
            return self.discard_bdat(size, replies::NEED_HELLO, 1);
        }
        let limit = self.cfg.limits.message_size;
        let Some(t) = self.txn.as_mut() else {
            return self.discard_bdat(size, replies::NEED_MAIL, 1);
        };
        if t.rcpts.is_empty() {
            let r = if t.rcpt_attempts > 0 {
                replies::NO_VALID_RCPTS
            } else {
                replies::NEED_RCPT
            };
            return self.discard_bdat(size, r, 1);
        }
        let first = !t.bdat;
        t.bdat = true;
        let too_big = limit.is_some_and(|l| t.size.saturating_add(size) > l);
        if first {
            self.message_start();
        }
        if too_big {
            self.events
                .push_back(Event::MessageAborted(AbortReason::TooBig));
            // LMTP: the reply to BDAT LAST is one per recipient (RFC 2033 4.2).
            let n = if last { self.end_of_data_replies() } else { 1 };
            self.txn = None;
            return self.discard_bdat(size, replies::TOO_BIG, n);
        }
        self.phase = Phase::Bdat(BdatIn {
            decoder: BdatDecoder::new(size),
            size,
            last,
            discard: None,
        });
        self.arm_timer();
    }

    pub(super) fn discard_bdat(&mut self, size: u64, reply: Std, replies: usize) {
        // A refused chunk is read to its end to keep the session in step (RFC 3030 2),
        // but one too large to skip in reasonable time (2^64 octets never arrive) gets
        // its reply at once and the session closes: the stream cannot be resynchronised.
        if size > self.cfg.limits.bdat_discard {
            for _ in 0..replies {
                self.send_std(&reply);
            }
            return self.finish(CloseReason::Unrecoverable);
        }
        self.phase = Phase::Bdat(BdatIn {
            decoder: BdatDecoder::new(size),
            size,
            last: false,
            discard: Some((reply, replies)),
        });
    }
}
