//! A client machine and a server machine wired together in memory.
//!
//! Random envelopes and bodies (1 to 3 messages), random transport splits, random
//! pipelining / CHUNKING / LMTP / bare-line-ending settings. Asserts: no panic; every
//! message queued gets exactly one `MessageResult`; every message the client reports
//! `Accepted` was delivered by the server byte for byte as the body sent (line endings
//! normalised to CRLF, and for DATA a final CRLF added); messages whose normalised lines
//! all fit the server's 1000-octet limit are accepted; the session ends closed on both
//! sides after QUIT.
#![no_main]

use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use smtp_sansio::client::{Client, ClientConfig, ClientEvent, Envelope, MessageStatus, StartTlsPolicy};
use smtp_sansio::data::BareLineEndings;
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::types::{Domain, ForwardPath, Host, LocalPart, Mailbox, ReversePath};

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
    Ok(Mailbox::new(local, Host::Domain(Domain::new(host).unwrap())))
}

struct Msg {
    envelope: Envelope,
    body: Vec<u8>,
}

fn split<'a>(b: &'a [u8], at: u8) -> [&'a [u8]; 2] {
    let k = usize::from(at) % (b.len() + 1);
    [&b[..k], &b[k..]]
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(flags) = u8::arbitrary(&mut u) else { return };
    let lmtp = flags & 1 != 0;
    let mut msgs = Vec::new();
    for _ in 0..u.int_in_range(1..=3u8).unwrap_or(1) {
        let Ok(from) = mailbox(&mut u) else { return };
        let from = if flags & 2 != 0 { ReversePath::Null } else { ReversePath::Mailbox(from) };
        let mut env = Envelope::new(from);
        for _ in 0..u.int_in_range(1..=3u8).unwrap_or(1) {
            let Ok(to) = mailbox(&mut u) else { return };
            env = env.to(ForwardPath::Mailbox(to));
        }
        let Ok(body) = Vec::<u8>::arbitrary(&mut u) else { return };
        msgs.push(Msg { envelope: env, body });
    }
    let cuts: Vec<u8> = Vec::arbitrary(&mut u).unwrap_or_default();
    let mut cut = cuts.iter().copied().cycle().chain(std::iter::repeat(255));

    let now = Instant::now();
    let mut sc = ServerConfig::default();
    sc.lmtp = lmtp;
    sc.extensions.chunking = flags & 4 != 0;
    sc.extensions.pipelining = flags & 8 != 0;
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

    let mut server = Server::new(sc, now);
    let mut client = Client::new(cc, now);
    let mut ids = Vec::new();
    for m in &msgs {
        match client.send_message(m.envelope.clone(), Bytes::from(m.body.clone()), now) {
            Ok(id) => ids.push(id),
            Err(e) => panic!("send_message refused a valid message: {e:?}"),
        }
    }
    client.quit(now);

    // `PAIR_TRACE=1 cargo fuzz run pair <input>` prints the dialogue.
    let trace = std::env::var_os("PAIR_TRACE").is_some();
    let mut delivered: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    let mut results = Vec::new();
    let mut client_closed = false;
    let mut server_closed = false;
    for _round in 0..10_000 {
        let mut moved = false;
        while let Some(out) = client.poll_transmit() {
            moved = true;
            if trace {
                eprintln!("C: {:?}", String::from_utf8_lossy(&out));
            }
            for p in split(&out, cut.next().unwrap()) {
                server.handle_input(now, p);
            }
        }
        while let Some(ev) = server.poll_event() {
            let _ = match ev {
                Event::Hello(r) => server.accept(r.ticket).map_err(drop),
                Event::Mail(r) => server.accept(r.ticket).map_err(drop),
                Event::Rcpt(r) => server.accept(r.ticket).map_err(drop),
                Event::MessageStart => {
                    current.clear();
                    Ok(())
                }
                Event::MessageChunk(c) => {
                    current.extend_from_slice(&c);
                    Ok(())
                }
                Event::MessageAborted(_) => {
                    current.clear();
                    Ok(())
                }
                Event::MessageEnd(e) => {
                    delivered.push(std::mem::take(&mut current));
                    server.accept(e.ticket).map_err(drop)
                }
                Event::Closed(_) => {
                    server_closed = true;
                    Ok(())
                }
                _ => Ok(()),
            };
            moved = true;
        }
        while let Some(out) = server.poll_transmit() {
            moved = true;
            if trace {
                eprintln!("S: {:?}", String::from_utf8_lossy(&out));
            }
            for p in split(&out, cut.next().unwrap()) {
                client.handle_input(now, p);
            }
        }
        while let Some(ev) = client.poll_event() {
            moved = true;
            match ev {
                ClientEvent::MessageResult { message, status, .. } => results.push((message, status)),
                ClientEvent::Closed { .. } => client_closed = true,
                other => {
                    if trace {
                        eprintln!("client event: {other:?}");
                    }
                }
            }
        }
        if !moved {
            break;
        }
    }
    if !server_closed {
        server.handle_eof(now);
    }

    // One result per message, in order.
    let got: Vec<_> = results.iter().map(|r| r.0).collect();
    assert_eq!(got, ids, "MessageResult per message: {results:?}");
    assert!(client_closed && client.is_closed(), "client did not close");
    let mut d = delivered.into_iter();
    for (m, (_, status)) in msgs.iter().zip(&results) {
        let mut want = normalise(&m.body);
        if !bdat && !want.is_empty() && !want.ends_with(b"\r\n") {
            want.extend_from_slice(b"\r\n");
        }
        // Body lines within 1000 octets (RFC 5321 4.5.3.1.6), and MAIL/RCPT lines within
        // the server's 512 (4.5.3.1.4), with room for the parameters the client adds.
        let path_fits = |p: String| p.len() + 80 <= 512;
        let fits = want.split(|&b| b == b'\n').all(|l| l.len() <= 999)
            && path_fits(m.envelope.from.to_string())
            && m.envelope.recipients.iter().all(|r| path_fits(r.path.to_string()));
        match status {
            MessageStatus::Accepted => {
                let got = d.next().expect("accepted but never delivered");
                assert_eq!(got, want, "delivered body differs (bdat={bdat})");
            }
            other if fits => panic!("a message that fits every limit was not accepted: {other:?}"),
            _ => {}
        }
    }
});
