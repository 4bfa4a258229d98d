//! A client machine and a server machine wired together in memory.
//!
//! Random envelopes and bodies (1 to 3 messages, each sent by a randomly chosen path:
//! whole with `send_message`, or through the streaming calls in random pieces, with the
//! whole messages after a stream queued while it runs), random transport splits, random
//! pipelining / CHUNKING / LMTP / bare-line-ending settings. Both paths are one engine,
//! so one model of the outcome holds for every message whatever its path.
//! Asserts: no panic; every message gets exactly one `MessageResult` (a stream that
//! stalls, or a message stuck behind one, fails this); every message the client reports
//! `Accepted` was delivered by the server byte for byte as the body sent (line endings
//! normalised to CRLF, and for DATA a final CRLF added); messages whose normalised lines
//! all fit 998 octets are accepted, and the others are `NotSent(LineTooLong)`, except
//! for the messages cut short when a streamed DATA body with a longer line closes the
//! connection (`Aborted`); the session ends closed on both sides after QUIT.
#![no_main]

use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use smtp_sansio::client::{self, 
    Client, ClientConfig, Envelope, MessageError, MessageId, MessageStatus,
    StartTlsPolicy,
};
use smtp_sansio::data::BareLineEndings;
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::types::{Domain, ForwardPath, Host, LocalPart, MailParams, Mailbox, ReversePath};

fn normalise(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    let mut i = 0;
    while i < body.len() {
        match (body[i], body.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            (b'\r' | b'\n', _) => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn mailbox(u: &mut Unstructured<'_>) -> arbitrary::Result<Mailbox<'static>> {
    let local: String = String::arbitrary(u)?;
    let local = LocalPart::quote(&local).unwrap_or_else(|_| LocalPart::quote("x").unwrap());
    let host = *u.choose(&["example.org", "b.example", "\u{e9}.example"])?;
    Ok(Mailbox::new(
        local,
        Host::Domain(Domain::new(host).unwrap()),
    ))
}

struct Msg {
    envelope: Envelope,
    body: Vec<u8>,
}

fn split<'a>(b: &'a [u8], at: u8) -> [&'a [u8]; 2] {
    let k = usize::from(at) % (b.len() + 1);
    [&b[..k], &b[k..]]
}

struct Wire {
    server: Server,
    client: Client,
    now: Instant,
    trace: bool,
    delivered: Vec<Vec<u8>>,
    current: Vec<u8>,
    results: Vec<(MessageId, MessageStatus)>,
    client_closed: bool,
    server_closed: bool,
}

impl Wire {
    /// Moves bytes and events both ways, every ticket accepted, until nothing moves.
    fn pump(&mut self, cut: &mut impl Iterator<Item = u8>) {
        let now = self.now;
        for _round in 0..10_000 {
            let mut moved = false;
            while let Some(out) = self.client.poll_transmit() {
                moved = true;
                if self.trace {
                    eprintln!("C: {:?}", String::from_utf8_lossy(&out));
                }
                for p in split(&out, cut.next().unwrap_or(255)) {
                    self.server.handle_input(now, p);
                }
            }
            while let Some(ev) = self.server.poll_event() {
                let _ = match ev {
                    Event::Hello(r) => self.server.accept(self.now, r.ticket).map_err(drop),
                    Event::Mail(r) => self.server.accept(self.now, r.ticket).map_err(drop),
                    Event::Rcpt(r) => self.server.accept(self.now, r.ticket).map_err(drop),
                    Event::MessageStart(_) => {
                        self.current.clear();
                        Ok(())
                    }
                    Event::MessageChunk(c) => {
                        self.current.extend_from_slice(&c);
                        Ok(())
                    }
                    Event::MessageAborted(_) => {
                        self.current.clear();
                        Ok(())
                    }
                    Event::MessageEnd(e) => {
                        self.delivered.push(std::mem::take(&mut self.current));
                        self.server.accept(self.now, e.ticket).map_err(drop)
                    }
                    Event::Closed(_) => {
                        self.server_closed = true;
                        Ok(())
                    }
                    _ => Ok(()),
                };
                moved = true;
            }
            while let Some(out) = self.server.poll_transmit() {
                moved = true;
                if self.trace {
                    eprintln!("S: {:?}", String::from_utf8_lossy(&out));
                }
                for p in split(&out, cut.next().unwrap_or(255)) {
                    self.client.handle_input(now, p);
                }
            }
            while let Some(ev) = self.client.poll_event() {
                moved = true;
                match ev {
                    client::Event::MessageResult {
                        message, status, ..
                    } => self.results.push((message, status)),
                    client::Event::Closed { .. } => self.client_closed = true,
                    other => {
                        if self.trace {
                            eprintln!("client event: {other:?}");
                        }
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(flags) = u8::arbitrary(&mut u) else {
        return;
    };
    let lmtp = flags & 1 != 0;
    let mut msgs = Vec::new();
    for _ in 0..u.int_in_range(1..=3u8).unwrap_or(1) {
        let Ok(from) = mailbox(&mut u) else { return };
        let from = if flags & 2 != 0 {
            ReversePath::Null
        } else {
            ReversePath::Mailbox(from)
        };
        let mut env = Envelope::new(from);
        for _ in 0..u.int_in_range(1..=3u8).unwrap_or(1) {
            let Ok(to) = mailbox(&mut u) else { return };
            env = env.to(ForwardPath::Mailbox(to));
        }
        let Ok(body) = Vec::<u8>::arbitrary(&mut u) else {
            return;
        };
        msgs.push(Msg {
            envelope: env,
            body,
        });
    }
    // Bit i: message i goes through the streaming calls.
    let paths = u8::arbitrary(&mut u).unwrap_or(0);
    let piece_cuts: Vec<u8> = Vec::arbitrary(&mut u).unwrap_or_default();
    let cuts: Vec<u8> = Vec::arbitrary(&mut u).unwrap_or_default();
    let mut cut = cuts.iter().copied().cycle().chain(std::iter::repeat(255));

    let now = Instant::now();
    let mut sc = ServerConfig::default();
    sc.lmtp = lmtp;
    sc.extensions.chunking = flags & 4 != 0;
    // RFC 2033 5: an LMTP server always offers PIPELINING.
    sc.extensions.pipelining = flags & 8 != 0 || lmtp;
    sc.extensions.smtputf8 = true;
    if flags & 16 != 0 {
        sc.bare_line_endings = BareLineEndings::Normalize;
    }
    let mut cc = ClientConfig::default();
    cc.lmtp = lmtp;
    cc.starttls = StartTlsPolicy::Never;
    cc.use_pipelining = flags & 32 != 0;
    cc.use_chunking = flags & 64 != 0;
    cc.bdat_chunk_size = if flags & 128 != 0 { 7 } else { 64 * 1024 };
    let bdat = sc.extensions.chunking && cc.use_chunking;

    let mut w = Wire {
        server: Server::new(sc, now).expect("valid configuration"),
        client: Client::new(cc, now),
        now,
        // `PAIR_TRACE=1 cargo fuzz run pair <input>` prints the dialogue.
        trace: std::env::var_os("PAIR_TRACE").is_some(),
        delivered: Vec::new(),
        current: Vec::new(),
        results: Vec::new(),
        client_closed: false,
        server_closed: false,
    };
    let streamed: Vec<bool> = (0..msgs.len()).map(|i| paths & (1 << i) != 0).collect();
    let mut ids = Vec::new();
    let queue = |client: &mut Client, ids: &mut Vec<MessageId>, m: &Msg| match client.send_message(now, m.envelope.clone(), Bytes::from(m.body.clone())) {
        Ok(id) => ids.push(id),
        Err(e) => panic!("send_message refused a valid message: {e:?}"),
    };
    let mut next = 0;
    // A streamed DATA body with an overlong line closes the session: the messages not
    // handed over by then never are, so `ids` stays a prefix of `msgs`.
    while next < msgs.len() && !w.client.is_closed() {
        let m = &msgs[next];
        next += 1;
        if !streamed[next - 1] {
            queue(&mut w.client, &mut ids, m);
            continue;
        }
        // What an application must do itself when streaming: SMTPUTF8 up front if a
        // recipient needs it. The client writes CRLF line ends under BDAT, as for a
        // whole message.
        let mut params = MailParams::default();
        params.smtputf8 = m.envelope.recipients.iter().any(|r| !r.path.is_ascii());
        // One stream at a time: the one before has ended, so pumping finishes it.
        w.pump(&mut cut);
        let id = match w
            .client
            .start_transaction(now, m.envelope.from.clone(), params)
        {
            Ok(id) => id,
            Err(e) => panic!("start_transaction after the last stream ended: {e:?}"),
        };
        ids.push(id);
        for r in &m.envelope.recipients {
            // The transaction may have ended already (refused before MAIL, say).
            let _ = w
                .client
                .add_recipient(now, id, r.path.clone(), Default::default());
        }
        w.pump(&mut cut);
        // The whole messages after this one are queued while it runs.
        let later = |w: &mut Wire, ids: &mut Vec<MessageId>, next: &mut usize| {
            while *next < msgs.len() && !streamed[*next] && !w.client.is_closed() {
                queue(&mut w.client, ids, &msgs[*next]);
                *next += 1;
            }
        };
        let body = &m.body;
        let mut at = 0;
        for (n, &c) in piece_cuts.iter().take(8).enumerate() {
            let end = (at + usize::from(c)).min(body.len());
            // The stream may have ended already (every recipient refused, say).
            if w.client.body_chunk(now, id, &body[at..end]).is_err() {
                break;
            }
            at = end;
            if n == 0 {
                later(&mut w, &mut ids, &mut next);
            }
            w.pump(&mut cut);
        }
        let _ = w.client.body_chunk(now, id, &body[at..]);
        let _ = w.client.body_end(now, id);
        later(&mut w, &mut ids, &mut next);
    }
    w.client.quit(now);
    w.pump(&mut cut);
    if !w.server_closed {
        w.server.handle_eof(now);
    }
    let Wire {
        client,
        delivered,
        results,
        client_closed,
        ..
    } = w;

    // One result per message: in queue order, except that whole messages queued while a
    // stream runs finish after it.
    let mut got: Vec<_> = results.iter().map(|r| r.0).collect();
    if !streamed.contains(&true) {
        assert_eq!(got, ids, "MessageResult per message: {results:?}");
    }
    got.sort_unstable();
    let mut want_ids = ids.clone();
    want_ids.sort_unstable();
    assert_eq!(got, want_ids, "one MessageResult per message: {results:?}");
    assert!(client_closed && client.is_closed(), "client did not close");
    // A streamed DATA body with an overlong line closes the connection mid-body; the
    // messages after it end with the session.
    let stream_cut =
        !bdat && (0..msgs.len()).any(|k| streamed[k] && !lines_fit(&normalise(&msgs[k].body)));
    // The server delivers in the order the results come.
    let mut d = delivered.into_iter();
    for (id, status) in &results {
        let Some(k) = ids.iter().position(|i| i == id) else {
            panic!("a result for an unknown message")
        };
        let m = &msgs[k];
        let mut want = normalise(&m.body);
        if !bdat && !want.is_empty() && !want.ends_with(b"\r\n") {
            want.extend_from_slice(b"\r\n");
        }
        // Body lines within 1000 octets (RFC 5321 4.5.3.1.6), and MAIL/RCPT lines within
        // the server's 512 (4.5.3.1.4), with room for the parameters the client adds.
        let path_fits = |p: String| p.len() + 80 <= 512;
        let lines = lines_fit(&want);
        let fits = lines
            && path_fits(m.envelope.from.to_string())
            && m.envelope
                .recipients
                .iter()
                .all(|r| path_fits(r.path.to_string()));
        let path = if streamed[k] { "streamed" } else { "whole" };
        match status {
            MessageStatus::Accepted => {
                let got = d.next().expect("accepted but never delivered");
                assert_eq!(got, want, "delivered body differs (bdat={bdat}, {path})");
                assert!(lines, "a line over 998 octets was accepted ({path})");
            }
            MessageStatus::Aborted if stream_cut => {}
            MessageStatus::NotSent(MessageError::LineTooLong { .. }) if !lines => {}
            other if fits => {
                panic!("a message that fits every limit was not accepted ({path}): {other:?}")
            }
            other if !lines => panic!("an overlong line gave {other:?}, not LineTooLong ({path})"),
            _ => {}
        }
    }
});

/// Every line of a CRLF-normalised body within 998 octets, CRLF excluded (RFC 5321
/// 4.5.3.1.6); the client refuses anything longer.
fn lines_fit(body: &[u8]) -> bool {
    body.split(|&b| b == b'\n')
        .all(|l| l.strip_suffix(b"\r").unwrap_or(l).len() <= 998)
}
