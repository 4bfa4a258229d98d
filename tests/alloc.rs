//! Heap allocations on the hot paths, counted by a global allocator (this file is a
//! test binary of its own, so the allocator affects nothing else).
//!
//! * `parse_command` allocates nothing for any line of the benchmark corpus
//!   (`benches/corpus.rs`), the UTF-8 (SMTPUTF8) lines included: every value borrows
//!   from the line.
//! * The server machine, driven through a later identical transaction on the same
//!   `Server` (warm buffers), allocates nothing per command; the allocations per
//!   transaction are its recipient list and the copy `MessageStart` hands out (see
//!   `SERVER_BOUNDS`).
//!
//! Counting is per thread, so tests running in parallel do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use bytes::BytesMut;
use smtp_sansio::data::{BareLineEndings, DataDecoder, DataStep};
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::{Grammar, parse_command};

#[path = "../benches/corpus.rs"]
mod corpus;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (alloc, alloc_zeroed, realloc) made by `f` on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (ALLOCS.with(Cell::get) - before, out)
}

#[test]
fn counter_sees_allocations() {
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert_eq!((n, v.len()), (1, 10));
}

#[test]
fn parse_command_allocates_nothing_on_the_corpus() {
    let g = Grammar::default();
    for line in corpus::MIXED {
        let line = &line[..line.len() - 2];
        let (n, parsed) = allocations(|| parse_command(line, &g).map(|c| c.verb().len()));
        assert!(
            parsed.is_ok(),
            "{:?} rejected",
            String::from_utf8_lossy(line)
        );
        assert_eq!(
            n,
            0,
            "{:?} allocated {n} times",
            String::from_utf8_lossy(line)
        );
    }
}

/// Upper bounds on allocations per command on the steady path (a later transaction on
/// the same `Server`, every event taken and answered with `accept`, output drained).
/// They are the exact counts today; a change that adds an allocation fails here.
///
/// Events own their data with `'static` lifetimes, yet copy nothing: the addresses in
/// Hello, Mail and Rcpt events are reference-counted slices of the received line, body
/// chunks are slices of the receive buffer, and replies go into a reused output buffer.
const SERVER_BOUNDS: &[(&str, usize)] = &[
    ("EHLO", 0),
    ("MAIL", 0),
    // The transaction's recipient list is allocated at its first push: the previous
    // list left with its MessageEnd event. Once per transaction, not per command.
    ("RCPT", 1),
    ("RCPT", 0),
    // MessageStart carries a copy of the recipient list for the trace fields
    // (Delivered-To, the `for` clause): one list per message.
    ("DATA", 1),
    // The recipient list moves into the MessageEnd event (no copy).
    ("BODY+END", 0),
    ("RSET", 0),
    ("NOOP", 0),
];

fn drain(s: &mut Server) -> usize {
    let mut body = 0;
    while let Some(ev) = s.poll_event() {
        let _ = match ev {
            Event::Hello(r) => s.accept(Instant::now(), r.ticket),
            Event::Mail(r) => s.accept(Instant::now(), r.ticket),
            Event::Rcpt(r) => s.accept(Instant::now(), r.ticket),
            Event::MessageEnd(r) => s.accept(Instant::now(), r.ticket),
            Event::MessageChunk(c) => {
                body += c.len();
                Ok(())
            }
            _ => Ok(()),
        };
    }
    while s.poll_transmit().is_some() {}
    body
}

const TRANSACTION: &[(&str, &[u8])] = &[
    ("EHLO", b"EHLO client.example.org\r\n"),
    (
        "MAIL",
        b"MAIL FROM:<alice@example.org> SIZE=12345 BODY=8BITMIME\r\n",
    ),
    ("RCPT", b"RCPT TO:<bob@example.net>\r\n"),
    ("RCPT", b"RCPT TO:<\"carol smith\"@[192.0.2.1]>\r\n"),
    ("DATA", b"DATA\r\n"),
    (
        "BODY+END",
        b"Subject: hi\r\n\r\n..a dotted line\r\nbody text\r\n.\r\n",
    ),
    ("RSET", b"RSET\r\n"),
    ("NOOP", b"NOOP\r\n"),
];

fn run_transaction(s: &mut Server, now: Instant) -> Vec<(&'static str, usize)> {
    TRANSACTION
        .iter()
        .map(|&(class, bytes)| {
            let (n, _) = allocations(|| {
                s.handle_input(now, bytes);
                drain(s)
            });
            (class, n)
        })
        .collect()
}

#[test]
fn server_steady_path_allocations_are_bounded() {
    let now = Instant::now();
    let mut s = Server::new(ServerConfig::default(), now).expect("valid configuration");
    drain(&mut s);
    let first = run_transaction(&mut s, now); // warm-up: buffers grow here
    let _ = run_transaction(&mut s, now);
    let second = run_transaction(&mut s, now);
    eprintln!("allocations per command, first transaction: {first:?}");
    eprintln!("allocations per command, second transaction: {second:?}");
    for ((class, n), (bclass, bound)) in second.iter().zip(SERVER_BOUNDS) {
        assert_eq!(class, bclass);
        assert!(n <= bound, "{class}: {n} allocations, bound {bound}");
    }
}

/// Over a long session nothing is allocated per command: 200 transactions allocate
/// their 200 recipient lists and the 200 copies their `MessageStart` events carry, plus a new receive buffer (and its shared header) each
/// time about 2 KiB of commands have filled the last one while events still held slices
/// of it.
#[test]
fn server_long_session_allocates_no_more_than_lists_and_buffer_steps() {
    let now = Instant::now();
    let mut s = Server::new(ServerConfig::default(), now).expect("valid configuration");
    drain(&mut s);
    run_transaction(&mut s, now);
    let mut per_class = [0; TRANSACTION.len()];
    for _ in 0..200 {
        for (t, (_, n)) in per_class.iter_mut().zip(run_transaction(&mut s, now)) {
            *t += n;
        }
    }
    let total: usize = per_class.iter().sum();
    let bytes: usize = 200 * TRANSACTION.iter().map(|(_, b)| b.len()).sum::<usize>();
    let bound = 2 * 200 + 2 * (bytes / 2048 + 1);
    eprintln!("200 transactions, {bytes} octets: {total} allocations {per_class:?}");
    assert!(total <= bound, "{total} allocations, bound {bound}");
}

#[test]
fn data_body_is_zero_copy_through_the_server() {
    // A body fed as one owned buffer comes back as slices of that very buffer.
    let now = Instant::now();
    let mut s = Server::new(ServerConfig::default(), now).expect("valid configuration");
    s.handle_input(
        now,
        b"EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
    );
    drain(&mut s);
    let mut body = Vec::new();
    for i in 0..2000 {
        body.extend_from_slice(format!("line {i} of a body that is long enough\r\n").as_bytes());
    }
    body.extend_from_slice(b".\r\n");
    let buf = BytesMut::from(&body[..]);
    let base = buf.as_ptr() as usize;
    let (n, chunks) = allocations(|| {
        s.handle_input_buf(now, buf);
        let mut chunks = Vec::with_capacity(16);
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::MessageChunk(c) => chunks.push(c),
                Event::MessageEnd(r) => {
                    let _ = s.accept(Instant::now(), r.ticket);
                }
                _ => {}
            }
        }
        chunks
    });
    let total: usize = chunks.iter().map(|c| c.len()).sum();
    assert_eq!(total, body.len() - 3);
    for c in &chunks {
        let off = c.as_ptr() as usize - base;
        assert_eq!(
            &c[..],
            &body[off..off + c.len()],
            "chunk is not a slice of the input"
        );
    }
    // The chunk Vec (1) and the 250 reply (1); nothing proportional to the body.
    assert!(n <= 2, "{n} allocations for a {} byte body", body.len());
}

/// `DataDecoder::push` drops the transparency dots of a read as it copies it, in the
/// buffer it copies into: a message with dot lines allocates no more than one without.
#[test]
fn push_allocates_nothing_for_dot_lines() {
    let run = |dots: bool| {
        let mut wire = Vec::new();
        for i in 0..6000 {
            if dots && i % 5 == 0 {
                wire.extend_from_slice(b"..");
            }
            wire.extend_from_slice(b"a line of prose, long enough to fill some blocks\r\n");
        }
        wire.extend_from_slice(b".\r\n");
        let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
        let mut buf = BytesMut::with_capacity(128 * 1024);
        let (n, total) = allocations(|| {
            let mut total = 0;
            for part in wire.chunks(64 * 1024) {
                dec.push(part, &mut buf);
                while let DataStep::Chunk(c) = dec.next(&mut buf) {
                    total += c.len();
                }
            }
            total
        });
        assert!(dec.is_done());
        assert_eq!(total, wire.len() - 3 - if dots { 1200 } else { 0 });
        n
    };
    let (plain, dotted) = (run(false), run(true));
    assert!(plain <= 1, "{plain} allocations without dot lines");
    assert_eq!(dotted, plain, "allocations with dot lines, in five reads");
}
