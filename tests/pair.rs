//! A client machine and a server machine wired together in memory on a virtual clock:
//! random envelopes and bodies must arrive byte-exact, with per-recipient results that
//! match the server's decisions.

use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;
use smtp_sansio::client::{self, Client, ClientConfig, Envelope, MessageError, MessageStatus};
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::types::{Domain, ForwardPath, Host, LocalPart, Mailbox, ReversePath};

/// What the server side saw and decided.
#[derive(Default)]
struct ServerLog {
    messages: Vec<Vec<u8>>,
    current: Vec<u8>,
}

/// What the client side reported.
#[derive(Default)]
struct ClientLog {
    rcpt_ok: Vec<bool>,
    results: Vec<MessageStatus>,
    closed: bool,
}

fn mailbox(local: &str) -> Mailbox<'static> {
    let lp = LocalPart::quote(local).expect("local part");
    Mailbox::new(
        lp,
        Host::Domain(Domain::new("example.org").expect("domain")),
    )
}

/// Refuses recipients whose local part starts with "no".
fn refuse(path: &ForwardPath<'_>) -> bool {
    matches!(path, ForwardPath::Mailbox(m) if m.local_part().as_str().starts_with("no"))
}

fn serve(server: &mut Server, log: &mut ServerLog) {
    while let Some(ev) = server.poll_event() {
        let _ = match ev {
            Event::Hello(r) => server.accept(Instant::now(), r.ticket).map_err(drop),
            Event::Mail(r) => server.accept(Instant::now(), r.ticket).map_err(drop),
            Event::Rcpt(r) => {
                if refuse(&r.to) {
                    server
                        .respond(
                            Instant::now(),
                            r.ticket,
                            "550 5.1.1 No such user".parse().expect("reply"),
                        )
                        .map_err(drop)
                } else {
                    server.accept(Instant::now(), r.ticket).map_err(drop)
                }
            }
            Event::MessageStart(_) => {
                log.current.clear();
                Ok(())
            }
            Event::MessageChunk(c) => {
                log.current.extend_from_slice(&c);
                Ok(())
            }
            Event::MessageEnd(end) => {
                log.messages.push(std::mem::take(&mut log.current));
                server.accept(Instant::now(), end.ticket).map_err(drop)
            }
            _ => Ok(()),
        };
    }
}

fn observe(client: &mut Client, log: &mut ClientLog) {
    while let Some(ev) = client.poll_event() {
        match ev {
            client::Event::RecipientResult { reply, .. } => {
                log.rcpt_ok.push(reply.code().is_positive())
            }
            client::Event::MessageResult { status, .. } => log.results.push(status),
            client::Event::Closed { .. } => log.closed = true,
            _ => {}
        }
    }
}

/// Moves bytes both ways in pieces of `piece` octets until nothing moves.
fn pump(
    client: &mut Client,
    server: &mut Server,
    now: &mut Instant,
    piece: usize,
    logs: (&mut ServerLog, &mut ClientLog),
) {
    let (slog, clog) = logs;
    for _ in 0..100_000 {
        let mut moved = false;
        while let Some(out) = client.poll_transmit() {
            for part in out.chunks(piece) {
                *now += Duration::from_millis(3);
                server.handle_input(*now, part);
                serve(server, slog);
            }
            moved = true;
        }
        serve(server, slog);
        while let Some(out) = server.poll_transmit() {
            for part in out.chunks(piece) {
                *now += Duration::from_millis(3);
                client.handle_input(*now, part);
                observe(client, clog);
            }
            moved = true;
        }
        observe(client, clog);
        if server.is_closed() && !clog.closed {
            client.handle_eof(*now);
            observe(client, clog);
        }
        if !moved {
            return;
        }
    }
    panic!("the pair did not settle");
}

/// What the server must store for `body` sent through DATA (dot-stuffing normalises bare
/// CR/LF and ends the body with CRLF) or BDAT (normalised only).
fn expected(body: &[u8], bdat: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 2);
    let mut i = 0;
    while let Some(&c) = body.get(i) {
        match (c, body.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            (b'\r' | b'\n', _) => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if !bdat && !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The longest line of a CRLF-normalised body, line end excluded.
fn longest_line(body: &[u8]) -> usize {
    body.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).len())
        .max()
        .unwrap_or(0)
}

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => Just(b'a'),
        2 => Just(b'.'),
        2 => Just(b'\r'),
        2 => Just(b'\n'),
        1 => Just(0u8),
        1 => Just(0xC3u8),
        1 => Just(b' '),
    ];
    let bytes = prop::collection::vec(byte.clone(), 0..1500);
    // Now and then a line around the 998-octet limit (RFC 5321 4.5.3.1.6).
    let long = (prop::collection::vec(byte, 0..50), 990usize..1010).prop_map(|(mut b, n)| {
        b.extend(std::iter::repeat_n(b'a', n));
        b.extend_from_slice(b"\r\nend");
        b
    });
    prop_oneof![4 => bytes, 1 => long]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn client_and_server_deliver_the_exact_body(
        bodies in prop::collection::vec(body_strategy(), 1..3),
        rcpts in prop::collection::vec(prop::sample::select(vec!["bob", "carol", "no-one", "dave", "nobody"]), 1..5),
        null_sender in any::<bool>(),
        pipelining in any::<bool>(),
        chunking in any::<bool>(),
        piece in 1usize..700,
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut server = Server::new(ServerConfig::default(), now).expect("valid configuration");
        let mut config = ClientConfig::default();
        config.use_pipelining = pipelining;
        config.use_chunking = chunking;
        let mut client = Client::new(config, now);
        let (mut slog, mut clog) = (ServerLog::default(), ClientLog::default());

        for body in &bodies {
            let from = if null_sender { ReversePath::Null } else { ReversePath::Mailbox(mailbox("alice")) };
            let mut env = Envelope::new(from);
            for r in &rcpts {
                env = env.to(ForwardPath::Mailbox(mailbox(r)));
            }
            client.send_message(now, env, Bytes::from(body.clone())).expect("queued");
        }
        client.quit(now);
        pump(&mut client, &mut server, &mut now, piece, (&mut slog, &mut clog));

        prop_assert!(clog.closed, "the session ended");
        prop_assert!(server.is_closed());
        prop_assert_eq!(clog.results.len(), bodies.len(), "one result per message");
        let any_accepted = rcpts.iter().any(|r| !r.starts_with("no"));
        let expected_rcpts: Vec<bool> = rcpts.iter().map(|r| !r.starts_with("no")).collect();
        let mut stored = slog.messages.iter();
        let mut rcpt_ok = clog.rcpt_ok.chunks(rcpts.len());
        for (i, body) in bodies.iter().enumerate() {
            let want = expected(body, chunking);
            // The client refuses such a body before MAIL, under DATA and BDAT alike.
            let too_long = longest_line(&want) > 998;
            if !too_long {
                prop_assert_eq!(rcpt_ok.next(), Some(&expected_rcpts[..]));
            }
            match &clog.results[i] {
                MessageStatus::Accepted => {
                    prop_assert!(any_accepted && !too_long);
                    let got = stored.next().expect("a stored message for each accepted one");
                    prop_assert_eq!(got, &want, "body {} differs", i);
                }
                MessageStatus::NoValidRecipients => prop_assert!(!any_accepted && !too_long),
                MessageStatus::NotSent(MessageError::LineTooLong { .. }) => {
                    prop_assert!(too_long, "refused only for an overlong line")
                }
                other => prop_assert!(false, "unexpected status {:?}", other),
            }
        }
        prop_assert!(stored.next().is_none(), "nothing stored that was not accepted");
        prop_assert!(rcpt_ok.next().is_none(), "no RCPT for a refused message");
        prop_assert!(now - t0 < Duration::from_secs(3600));
    }
}

/// A body of CRLF lines, tagged with `tag` so stored messages can be told apart.
fn tagged_body(tag: usize, lines: &[String]) -> Vec<u8> {
    let mut b = format!("Message: {tag}\r\n").into_bytes();
    for l in lines {
        b.extend_from_slice(l.as_bytes());
        b.extend_from_slice(b"\r\n");
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whole messages queued before, and while, a streamed transaction runs: every one
    /// reaches a result (none waits for ever behind another) and arrives intact.
    #[test]
    fn streamed_and_whole_messages_all_finish(
        lines in prop::collection::vec("[a-z. ]{0,40}", 0..30),
        before in 0usize..3,
        during in 0usize..3,
        cuts in prop::collection::vec(0usize..2000, 0..6),
        pipelining in any::<bool>(),
        chunking in any::<bool>(),
        piece in 1usize..700,
    ) {
        let mut now = Instant::now();
        let mut server = Server::new(ServerConfig::default(), now).expect("valid configuration");
        let mut config = ClientConfig::default();
        config.use_pipelining = pipelining;
        config.use_chunking = chunking;
        let mut client = Client::new(config, now);
        let (mut slog, mut clog) = (ServerLog::default(), ClientLog::default());
        let alice = || ReversePath::Mailbox(mailbox("alice"));
        let bob = || ForwardPath::Mailbox(mailbox("bob"));
        let mut sent = Vec::new();
        let whole = |client: &mut Client, now: Instant, sent: &mut Vec<Vec<u8>>| {
            let body = tagged_body(sent.len(), &lines);
            let env = Envelope::new(alice()).to(bob());
            client.send_message(now, env, Bytes::from(body.clone())).expect("queued");
            sent.push(body);
        };
        for _ in 0..before {
            whole(&mut client, now, &mut sent);
        }
        let streamed = tagged_body(99, &lines);
        let id = client
            .start_transaction(now, alice(), Default::default())
            .expect("stream");
        client.add_recipient(now, id, bob(), Default::default()).expect("rcpt");
        pump(&mut client, &mut server, &mut now, piece, (&mut slog, &mut clog));
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (streamed.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(streamed.len());
        let mut at = 0;
        for (i, &cut) in cuts.iter().enumerate() {
            client.body_chunk(now, id, &streamed[at..cut]).expect("chunk");
            at = cut;
            if i < during {
                whole(&mut client, now, &mut sent);
            }
            pump(&mut client, &mut server, &mut now, piece, (&mut slog, &mut clog));
        }
        client.body_end(now, id).expect("end");
        client.quit(now);
        pump(&mut client, &mut server, &mut now, piece, (&mut slog, &mut clog));

        prop_assert!(clog.closed, "the session ended");
        prop_assert_eq!(clog.results.len(), sent.len() + 1, "one result per message");
        prop_assert!(clog.results.iter().all(|s| *s == MessageStatus::Accepted), "{:?}", clog.results);
        sent.push(streamed);
        let mut stored = slog.messages.clone();
        stored.sort();
        sent.sort();
        prop_assert_eq!(stored, sent);
    }
}
