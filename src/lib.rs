//! # smtp-sansio
//!
//! An SMTP engine (RFC 5321, with RFC 6409 submission) that performs no I/O of its own:
//! bytes go in, events and bytes come out. Any transport can drive it — blocking
//! `std::net`, tokio, a test harness, a fuzzer. The crate never touches a socket, a
//! clock or a thread; time is passed in as `now`.
//!
//! ## Two layers
//!
//! * **Codec** — validated [`types`] (commands, paths, parameters, replies,
//!   capabilities), the grammar behind [`parse_command`], [`decode_command`],
//!   [`decode_reply`] and [`parse_reply_line`], bounded CRLF framing in [`line`](mod@line),
//!   DATA dot-unstuffing, end-of-data detection, dot-stuffing and BDAT counting in
//!   [`data`], and SASL codecs in [`sasl`]. Usable on its own.
//! * **Flow** — [`server::Server`], a state machine for the server side of the whole
//!   submission dialogue, and [`client::Client`], which drives a submission (EHLO,
//!   STARTTLS, AUTH, MAIL, RCPT, DATA or BDAT, QUIT) from server replies, pipelining
//!   where offered. Both are built on the codec layer and driven the same way.
//!
//! ```text
//!   transport (socket, TLS, test)         application (policy, storage)
//!        |  bytes in      ^ bytes out          ^ events      | decisions
//!        v                |                    |             v
//!   +---------------------------------------------------------------+
//!   |  server::Server  (sequencing, limits, pipelining, STARTTLS,   |
//!   |                   AUTH steps, DATA/BDAT streaming, timeouts)  |
//!   +---------------------------------------------------------------+
//!   |  codec: line framing | grammar (nom) | data | sasl | types    |
//!   +---------------------------------------------------------------+
//! ```
//!
//! ## Parsing a command
//!
//! ```
//! use smtp_sansio::{decode_command, Grammar};
//! use smtp_sansio::types::{Command, ReversePath};
//!
//! let input = b"MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME\r\nRCPT";
//! let (rest, cmd) = decode_command(input, &Grammar::default()).unwrap();
//! assert_eq!(rest, b"RCPT"); // the next command has not arrived in full
//! let Command::Mail { from: ReversePath::Mailbox(m), params } = cmd else { panic!() };
//! assert_eq!(m.to_string(), "alice@example.org");
//! assert_eq!(params.size, Some(1024));
//! ```
//!
//! ## The run loop contract (server)
//!
//! A [`server::Server`] is driven by five calls. The application MUST:
//!
//! 1. after **every** [`handle_input`](server::Server::handle_input),
//!    [`handle_eof`](server::Server::handle_eof), [`handle_timeout`](server::Server::handle_timeout)
//!    and every answer to a ticket, drain [`poll_event`](server::Server::poll_event) until
//!    `None`, then write everything [`poll_transmit`](server::Server::poll_transmit) returns;
//! 2. answer every ticket-bearing event ([`Hello`](server::Event::Hello),
//!    [`Mail`](server::Event::Mail), [`Rcpt`](server::Event::Rcpt),
//!    [`MessageEnd`](server::Event::MessageEnd), [`Auth`](server::Event::Auth),
//!    [`SaslStep`](server::Event::SaslStep), [`Vrfy`](server::Event::Vrfy)) with
//!    [`accept`](server::Server::accept) or [`respond`](server::Server::respond); the
//!    session does not move on until it does. Answer `MessageEnd` only once the message
//!    is safely stored: the machine never sends the final `250` by itself (RFC 5321 6.1);
//! 3. call [`handle_timeout`](server::Server::handle_timeout) when the instant from
//!    [`poll_timeout`](server::Server::poll_timeout) has passed;
//! 4. on [`Event::StartTls`](server::Event::StartTls): write the pending output (the
//!    `220`), drop anything read from the socket but not yet fed to the machine, run the
//!    TLS handshake, then call [`tls_established`](server::Server::tls_established);
//! 5. once [`is_closed`](server::Server::is_closed) is true (after
//!    [`Event::Closed`](server::Event::Closed)), write the remaining output and close;
//! 6. when it delivers or relays a message, prepend a `Received:` field (RFC 5321 4.4,
//!    3.6.3) built from the facts in [`Event::MessageStart`](server::Event::MessageStart)
//!    ([`MessageStart::received`](server::MessageStart::received)), and on final delivery
//!    a `Return-Path:` field ([`trace::return_path`]) above it. The machine passes the
//!    body on exactly as received; nothing else in it may change. Mail loops need no
//!    duty of the application: the machine counts `Received:` fields and refuses a
//!    message over [`Limits::hops`](server::Limits::hops) with `554 5.4.6` (RFC 5321 6.3).
//!
//! It SHOULD stop reading while [`wants_input`](server::Server::wants_input) is false;
//! the machine bounds its buffers either way. A non-blocking transport takes one
//! [`poll_transmit`](server::Server::poll_transmit) buffer at a time and writes it fully
//! before it takes the next (and before it reads again): output left in the machine is
//! what tells `wants_input` to throttle a client that does not read its replies.
//!
//! What the machine answers by itself, with no event: sequence and syntax errors,
//! parameters of extensions not offered (`555`), limits, `454 4.7.0` to STARTTLS while
//! [`ServerConfig::starttls`](server::ServerConfig::starttls) is false, `252` to VRFY and
//! EXPN, NOOP, RSET, HELP, QUIT, timeouts and the error limit. Peer violations among
//! them are reported as [`Event::Violation`](server::Event::Violation), for logs.
//!
//! A message whose [`MessageEnd`](server::Event::MessageEnd) ticket is still held when
//! the connection is lost (EOF, or [`shutdown`](server::Server::shutdown); no deadline
//! runs while a decision is pending) is
//! followed by [`MessageAborted(ConnectionLost)`](server::AbortReason::ConnectionLost);
//! the ticket is void from then on. The client never saw a `250`, so it will send the
//! message again: an application that already stored it may keep it (a duplicate at
//! worst, which RFC 5321 6.1 prefers to a loss) or delete it.
//!
//! A complete blocking server, one connection, messages written to stdout. It answers
//! every decision at once, honours the machine's deadline (one already past too), tells
//! a timeout from a broken connection, and bounds writes as well as reads
//! (`tests/doc_example.rs` runs this very code):
//!
#![doc = concat!("```no_run\n", include_str!("doc/blocking_server.rs"), "```")]
//!
//! `examples/blocking_server.rs` is the same loop with a Maildir store and a thread per
//! connection; `examples/server.rs` is the tokio version with STARTTLS and AUTH.
//!
//! ## Security defaults
//!
//! * SMTP smuggling: only `CRLF . CRLF` ends DATA; a message holding a bare CR or LF is
//!   rejected (`550 5.6.0`) unless [`data::BareLineEndings::Normalize`] is chosen.
//! * STARTTLS injection (CVE-2011-0411): bytes pipelined behind `STARTTLS` are discarded
//!   and reported, never executed; all state is forgotten after the handshake.
//! * AUTH is not offered and is refused (`538 5.7.11`) before TLS unless configured.
//! * Every buffer is bounded: command lines (512), SASL lines (12288), DATA lines
//!   (1000), message size, recipients, pending input, error count — all in
//!   [`server::Limits`]. An overlong line is skipped to its end and answered
//!   `500 5.5.6`; it is never truncated into a different command.
//! * Credentials live in [`types::Secret`], whose `Debug` never prints them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod data;
pub mod error;
mod lexical;
pub mod line;
pub mod sasl;
pub mod server;
mod syntax;
pub mod trace;
pub mod types;

/// The `bytes` crate, whose `Bytes` and `BytesMut` the machines take and hand out.
pub use bytes;
pub use error::{DecodeError, InvalidValue, SyntaxErrorKind};
pub use syntax::{
    Grammar, ReplyLine, decode_command, decode_reply, parse_command, parse_reply_line,
};
