//! The public face of transactions: whole messages ([`Client::send_message`]) and
//! streamed ones (`start_transaction`, `add_recipient`, `body_chunk`, `body_end`,
//! `abort_transaction`). Both build the same [`Transaction`] through the same calls; a
//! whole message is a streamed one whose recipients, body and end are all given at once.
//!
//! ```text
//!   start_transaction ──► (session ready) MAIL ──► MailResult
//!   add_recipient ───────► RCPT (pipelined, or after the previous reply) ──► RecipientResult
//!   body_chunk / body_end ─► DATA ──354──► DataReady, stuffed body flows, "." ──► MessageResult
//!                         └► BDAT n ... BDAT n LAST (CHUNKING) ───────────────► MessageResult
//!   abort_transaction ───► RSET (before the body, or under BDAT)
//!                         └► connection dropped (inside a DATA body: RFC 5321 has no
//!                            way to cancel DATA short of closing, 4.1.1.4 / 6.1)
//! ```

use std::time::Instant;

use bytes::Bytes;

use super::transaction::{Mode, Transaction, TxnPhase};
use super::{Client, Envelope, MessageId, MessageStatus, State, UsageError, UsageErrorKind};
#[cfg(doc)]
use super::{CloseReason, Event, MessageError};
use crate::types::{ForwardPath, MailParams, RcptParams, ReversePath};

impl Client {
    /// Queues a message. It goes out once the session is ready and the messages queued
    /// before it are done; its outcome comes as [`Event::MessageResult`].
    ///
    /// The body is the whole message (header and content) as given; line endings are
    /// normalised to CRLF and dot-stuffing is applied on the way out. It is taken whole
    /// as `Bytes` (shared, never copied whole) because `SIZE` and `BODY` must be known
    /// before MAIL is sent. A body the wire cannot carry (see
    /// [what the client refuses to send](super#what-the-client-refuses-to-send)) is never
    /// offered: its result is [`MessageStatus::NotSent`].
    // The error hands the owned arguments back, on the cold path: no box to unwrap.
    #[allow(clippy::result_large_err)]
    pub fn send_message(
        &mut self,
        now: Instant,
        envelope: Envelope,
        body: Bytes,
    ) -> Result<MessageId, UsageError<(Envelope, Bytes)>> {
        if let Err(e) = self.check_open() {
            return Err(e.with((envelope, body)));
        }
        if envelope.recipients.is_empty() {
            return Err(UsageError::new(
                UsageErrorKind::NoRecipients,
                (envelope, body),
            ));
        }
        let mut t = Transaction::new(self.new_id(), envelope.from, envelope.params, false);
        for r in envelope.recipients {
            // Before MAIL nothing can refuse a recipient: the checks come with MAIL.
            let _ = t.add_recipient(r.path, r.params);
        }
        let _ = t.push_body(body);
        let _ = t.end_body();
        let id = t.id;
        // A streamed transaction whose MAIL has not gone out lets whole messages by.
        let at = self
            .txns
            .iter()
            .position(|t| t.streamed && !t.started())
            .unwrap_or(self.txns.len());
        self.txns.insert(at, t);
        self.drive(now);
        Ok(id)
    }

    /// Opens a streamed transaction: MAIL FROM goes out as soon as the session is ready
    /// (after the greeting, EHLO, STARTTLS and AUTH as configured, and after the
    /// messages queued with [`Client::send_message`]). Its reply comes as
    /// [`Event::MailResult`]; recipients follow with [`Client::add_recipient`],
    /// the body with [`Client::body_chunk`] and [`Client::body_end`], and the outcome
    /// as [`Event::MessageResult`] carrying the returned id.
    ///
    /// This is the API for a relay, which learns the envelope and body piece by piece
    /// and must answer its own client with the next hop's verdict on each. One streamed
    /// transaction is open at a time.
    ///
    /// A streamed transaction and a whole message are one kind of transaction: the
    /// same rules hold, and a message whose recipients, body and end are all given
    /// before MAIL goes out is sent exactly as [`Client::send_message`] sends it. The
    /// parameters (and the recipients and body given so far) are checked against the
    /// server's extensions when MAIL is sent; a mismatch ends the transaction at once
    /// with [`MessageStatus::NotSent`]: `SMTPUTF8` (or a non-ASCII address) needs
    /// SMTPUTF8; `BODY=8BITMIME` needs 8BITMIME; `BODY=BINARYMIME` needs CHUNKING and
    /// BINARYMIME; `RET`/`ENVID` and a recipient's `NOTIFY`/`ORCPT` need DSN;
    /// `REQUIRETLS` needs the extension and TLS with a verified certificate
    /// ([`Client::tls_established_verified`]); a `SIZE` above the announced limit is
    /// [`MessageError::TooLarge`]. Meaning-free parameters are adjusted instead: `SIZE`
    /// and `BODY=7BIT` are left out when the server lacks the extension that defines
    /// them (RFC 1870, RFC 6152). Other parameters go as given.
    ///
    /// `SIZE` is the octet count as sent when the whole body was given (with
    /// [`Client::body_end`]) before MAIL went out; otherwise it is the caller's
    /// estimate, as the client cannot count a body it has not seen and never makes one
    /// up. RFC 1870 6 asks for the octets as they will go (lines ending in CRLF, no
    /// dot-stuffing), rounded up rather than down; a relay passing its client's `SIZE` on
    /// adds the length of the trace fields it prepends.
    ///
    /// The body is checked as it comes (see [`Client::body_chunk`]): a line over 998
    /// octets, or an 8-bit octet when `BODY=8BITMIME` was not declared and the server
    /// lacks 8BITMIME, cancels the transaction. 8-bit octets given before MAIL goes out
    /// are declared `BODY=8BITMIME` as for a whole message; otherwise declare
    /// `BODY=8BITMIME` (or `BINARYMIME`) up front whenever the body may hold 8-bit
    /// octets: after MAIL it is too late to say so. When the server offers 8BITMIME an
    /// undeclared 8-bit body still goes, as the server has said it can carry it.
    ///
    /// ```
    /// use std::time::Instant;
    /// use smtp_sansio::client::{Client, ClientConfig, Event, MessageStatus, StartTlsPolicy};
    /// use smtp_sansio::types::{ForwardPath, MailParams, Mailbox, RcptParams, ReversePath};
    ///
    /// let mut config = ClientConfig::default();
    /// config.starttls = StartTlsPolicy::Never;
    /// let now = Instant::now();
    /// let mut client = Client::new(config, now);
    /// let from = ReversePath::Mailbox(Mailbox::parse("a@example.org")?.into_owned());
    /// let to = ForwardPath::Mailbox(Mailbox::parse("b@example.net")?.into_owned());
    /// let txn = client.start_transaction(now, from, MailParams::default())?;
    /// client.add_recipient(now, txn, to, RcptParams::default())?;
    ///
    /// let mut wire = Vec::new();
    /// let mut step = |client: &mut Client, input: &[u8], wire: &mut Vec<u8>| {
    ///     client.handle_input(now, input);
    ///     let mut events = Vec::new();
    ///     while let Some(e) = client.poll_event() { events.push(e) }
    ///     while let Some(b) = client.poll_transmit() { wire.extend_from_slice(&b) }
    ///     events
    /// };
    /// step(&mut client, b"220 mx ESMTP\r\n", &mut wire);
    /// step(&mut client, b"250-mx\r\n250 PIPELINING\r\n", &mut wire);
    /// let events = step(&mut client, b"250 2.1.0 OK\r\n250 2.1.5 OK\r\n", &mut wire);
    /// assert!(matches!(events[0], Event::MailResult { .. }));
    /// assert!(matches!(events[1], Event::RecipientResult { .. }));
    /// // The body streams in pieces; DATA goes with the first one.
    /// client.body_chunk(now, txn, b"Subject: hi\r\n\r\n")?;
    /// step(&mut client, b"", &mut wire);
    /// let events = step(&mut client, b"354 go on\r\n", &mut wire);
    /// assert!(matches!(events[0], Event::DataReady { .. }));
    /// client.body_chunk(now, txn, b".hello\r\n")?;
    /// client.body_end(now, txn)?;
    /// let events = step(&mut client, b"250 2.0.0 queued\r\n", &mut wire);
    /// assert!(matches!(
    ///     events[0],
    ///     Event::MessageResult { status: MessageStatus::Accepted, .. }
    /// ));
    /// assert!(wire.ends_with(b"DATA\r\nSubject: hi\r\n\r\n..hello\r\n.\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    // The error hands the owned arguments back, on the cold path: no box to unwrap.
    #[allow(clippy::result_large_err)]
    pub fn start_transaction(
        &mut self,
        now: Instant,
        from: ReversePath<'static>,
        params: MailParams<'static>,
    ) -> Result<MessageId, UsageError<(ReversePath<'static>, MailParams<'static>)>> {
        if let Err(e) = self.check_open() {
            return Err(e.with((from, params)));
        }
        if self.txns.iter().any(|t| t.streamed) {
            return Err(UsageError::new(
                UsageErrorKind::TransactionOpen,
                (from, params),
            ));
        }
        let t = Transaction::new(self.new_id(), from, params, true);
        let id = t.id;
        self.txns.push_back(t);
        self.drive(now);
        Ok(id)
    }

    /// Adds a recipient to the streamed transaction `txn`. RCPT goes out at once when
    /// the server pipelines (RFC 2920), otherwise after the previous reply; the server's
    /// verdict comes as [`Event::RecipientResult`]. Recipients must all be added
    /// before the first [`Client::body_chunk`] or [`Client::body_end`]. A non-ASCII
    /// recipient needs SMTPUTF8 on MAIL (RFC 6531 3.4): it is added there if MAIL has not
    /// gone out yet, and refused with [`UsageErrorKind::NeedsSmtpUtf8`] if it went without;
    /// pass `smtputf8` to [`Client::start_transaction`] when such recipients may come.
    /// A recipient with `NOTIFY` or `ORCPT` added after MAIL went to a server without DSN
    /// ends the transaction as [`MessageStatus::NotSent`] with
    /// [`MessageError::DsnNotOffered`], as a whole message with it is (RFC 3461 4).
    pub fn add_recipient(
        &mut self,
        now: Instant,
        txn: MessageId,
        to: ForwardPath<'static>,
        params: RcptParams<'static>,
    ) -> Result<(), UsageError> {
        if let Err(e) = self.stream_mut(txn)?.add_recipient(to, params)? {
            self.cancel(now, txn, MessageStatus::NotSent(e));
        }
        self.drive(now);
        Ok(())
    }

    /// Appends body bytes (header and content, as they will be stored) to the streamed
    /// transaction `txn`. The first call ends the recipient list and sends DATA (or the
    /// first BDAT chunk when CHUNKING is used, once every recipient is answered). Bare CR
    /// and LF become CRLF (RFC 5321 2.3.8) and, under DATA, dot-stuffing is applied
    /// across calls (RFC 5321 4.5.2); under `BODY=BINARYMIME` the bytes go as given.
    ///
    /// Bytes that cannot go out yet (before the `354`) are held; see
    /// [`Client::pending_output`] to bound them. Once the transaction has been decided
    /// (refused DATA, a failed chunk) the bytes are dropped.
    ///
    /// Each piece is checked before any of it goes out. A line longer than 998 octets
    /// (CRLF excluded; RFC 5321 4.5.3.1.6) unless `BODY=BINARYMIME`, or an 8-bit octet
    /// the server cannot take (RFC 5321 2.4, RFC 6152), cancels the transaction as
    /// [`Client::abort_transaction`] does: RSET before the body or under BDAT, a closed
    /// connection inside a DATA body ([`CloseReason::Aborted`]), so that the server never
    /// accepts part of the message. The outcome is [`MessageStatus::NotSent`] with
    /// [`MessageError::LineTooLong`] or [`MessageError::EightBitMimeNotOffered`]; the call
    /// itself succeeds. Body given before MAIL went out is checked when MAIL is due, and
    /// MAIL is then not sent.
    pub fn body_chunk(
        &mut self,
        now: Instant,
        txn: MessageId,
        chunk: &[u8],
    ) -> Result<(), UsageError> {
        let t = self.stream_mut(txn)?;
        let flowing = t.mode() == Mode::Data && matches!(t.phase, TxnPhase::Body);
        let piece = if t.decided() {
            Bytes::new()
        } else {
            Bytes::copy_from_slice(chunk)
        };
        if let Err(e) = t.push_body(piece)? {
            self.cancel(now, txn, MessageStatus::NotSent(e));
        } else if flowing && !chunk.is_empty() {
            // The body write takes time the machine cannot see (see handle_timeout).
            self.grace = true;
        }
        self.drive(now);
        Ok(())
    }

    /// Ends the body of the streamed transaction `txn` (the end-of-data `.` or the
    /// `BDAT ... LAST`). The outcome comes as [`Event::MessageResult`].
    pub fn body_end(&mut self, now: Instant, txn: MessageId) -> Result<(), UsageError> {
        self.stream_mut(txn)?.end_body()?;
        // The body write takes time the machine cannot see (see handle_timeout).
        self.grace = true;
        self.drive(now);
        Ok(())
    }

    /// Gives up the streamed transaction `txn`; its [`Event::MessageResult`] says
    /// [`MessageStatus::Aborted`]. Before the body, or under BDAT, RSET resets the
    /// server and the session goes on (RFC 5321 4.1.1.5). Inside a DATA body nothing
    /// can cancel the message but closing the connection, so the session ends with
    /// [`CloseReason::Aborted`]: write what is pending, then close. After
    /// [`Client::body_end`] the message is out of the client's hands and its outcome
    /// still comes.
    pub fn abort_transaction(&mut self, now: Instant, txn: MessageId) -> Result<(), UsageError> {
        self.stream_mut(txn)?;
        self.cancel(now, txn, MessageStatus::Aborted);
        Ok(())
    }

    /// Octets handed to the machine and not yet taken by [`Client::poll_transmit`]:
    /// commands, body bytes held until the server is ready for them (those of queued
    /// whole messages included), and queued body.
    /// A relay SHOULD stop reading its own client while this is above its limit, so a
    /// slow next hop slows the sender instead of filling memory.
    pub fn pending_output(&self) -> usize {
        let held: usize = self.txns.iter().map(|t| t.content.held_len()).sum();
        self.queued_output() + self.staging.len() + held
    }

    /// New messages and transactions are still taken.
    fn check_open(&self) -> Result<(), UsageError> {
        if self.quit_requested || matches!(self.state, State::Quitting | State::Closed) {
            return Err(UsageErrorKind::Closed.into());
        }
        Ok(())
    }

    fn new_id(&mut self) -> MessageId {
        self.next_id += 1;
        MessageId(self.next_id)
    }

    fn stream_mut(&mut self, txn: MessageId) -> Result<&mut Transaction, UsageError> {
        self.txns
            .iter_mut()
            .find(|t| t.streamed && t.id == txn)
            .ok_or(UsageError::from(UsageErrorKind::NoSuchTransaction))
    }
}
