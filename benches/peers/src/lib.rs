//! Drivers shared by the `peers` benchmark and the `ratios` binary: each runs the same
//! pipelined corpus (`../corpus.rs`) or the same DATA body through one implementation.
//!
//! Every driver walks the stream the same way: parse from the current position; on
//! success continue after the line, on a rejection skip to the next LF (the skip is
//! charged to that implementation, which only matters for lines it rejects).

use std::slice::Iter;

use std::time::Instant;

use bytes::BytesMut;
use smtp_sansio::data::{BareLineEndings, DataDecoder, DataStep};
use smtp_sansio::server::{Event, Server, ServerConfig};
use smtp_sansio::{Grammar, decode_command};

#[path = "../../corpus.rs"]
pub mod corpus;

/// The implementations compared on the command corpus.
pub const PARSERS: &[&str] = &["smtp-sansio", "smtp-proto", "smtp-codec"];

fn skip_line(rest: &[u8]) -> &[u8] {
    match memchr::memchr(b'\n', rest) {
        Some(p) => &rest[p + 1..],
        None => &[],
    }
}

/// smtp-sansio: `decode_command` over the stream. Returns (accepted, rejected).
pub fn sansio_stream(stream: &[u8], g: &Grammar) -> (usize, usize) {
    let mut rest = stream;
    let (mut ok, mut bad) = (0, 0);
    while !rest.is_empty() {
        match decode_command(rest, g) {
            Ok((r, cmd)) => {
                ok += usize::from(!cmd.verb().is_empty());
                rest = r;
            }
            Err(_) => {
                bad += 1;
                rest = skip_line(rest);
            }
        }
    }
    (ok, bad)
}

/// smtp-proto 0.2: `Request::parse` over the stream.
pub fn proto_stream(stream: &[u8]) -> (usize, usize) {
    let mut rest = stream;
    let (mut ok, mut bad) = (0, 0);
    while !rest.is_empty() {
        let mut it: Iter<'_, u8> = rest.iter();
        match smtp_proto::Request::parse(&mut it) {
            Ok(req) => {
                ok += usize::from(!req.name().is_empty());
                rest = it.as_slice();
            }
            Err(_) => {
                bad += 1;
                rest = skip_line(rest);
            }
        }
    }
    (ok, bad)
}

/// smtp-codec 0.2 (nom 7, RFC 5321 ABNF, owned output): `parse::command::command`.
pub fn codec_stream(stream: &[u8]) -> (usize, usize) {
    let mut rest = stream;
    let (mut ok, mut bad) = (0, 0);
    while !rest.is_empty() {
        match smtp_codec::parse::command::command(rest) {
            Ok((r, cmd)) => {
                ok += usize::from(std::mem::size_of_val(&cmd) > 0);
                rest = r;
            }
            Err(_) => {
                bad += 1;
                rest = skip_line(rest);
            }
        }
    }
    (ok, bad)
}

/// The floor: find each CRLF and compare the verb, no parsing.
pub fn floor_stream(stream: &[u8]) -> usize {
    let mut rest = stream;
    let mut n = 0;
    // A byte search for LF: `memmem::find` would build a searcher per line, which costs
    // more than the search itself on lines this short.
    while let Some(p) = memchr::memchr(b'\n', rest) {
        let crlf = p > 0 && rest[p - 1] == b'\r';
        n += usize::from(
            crlf && rest
                .get(..4)
                .is_some_and(|v| v.eq_ignore_ascii_case(b"MAIL")),
        );
        rest = &rest[p + 1..];
    }
    n
}

/// Which corpus lines each parser accepts, one line at a time: `(line, [accepted; 3])`.
pub fn acceptance() -> Vec<(String, [bool; 3])> {
    let g = Grammar::default();
    corpus::MIXED
        .iter()
        .map(|line| {
            let shown = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            let (s, _) = sansio_stream(line, &g);
            let (p, _) = proto_stream(line);
            let (c, _) = codec_stream(line);
            (shown, [s == 1, p == 1, c == 1])
        })
        .collect()
}

/// smtp-sansio's DataDecoder over bytes already in a receive buffer (no copy).
#[inline(never)]
pub fn sansio_data_whole(buf: &mut BytesMut) -> usize {
    let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
    let mut total = 0;
    while let DataStep::Chunk(c) = dec.next(buf) {
        total += c.len();
    }
    assert!(dec.is_done() && !dec.saw_long_line());
    total
}

/// Shapes made here rather than in `corpus`, since their wire is not the dot-stuffed
/// form of a body: `bare_lf` is text72 whose lines end in bare LFs, as a script that
/// writes "\n" sends it, then the real end of data. Both receivers pass it through
/// (smtp-sansio flags it, for its server to refuse).
pub const WIRE_SHAPES: &[&str] = &["bare_lf"];

/// The DATA wire of about `size` octets for a shape of [`corpus::SHAPES`],
/// [`corpus::MORE_SHAPES`] or [`WIRE_SHAPES`].
pub fn wire(shape: &str, size: usize) -> Vec<u8> {
    if shape != "bare_lf" {
        return smtp_sansio::data::dot_stuff(&corpus::body(shape, size)).to_vec();
    }
    let mut wire = Vec::with_capacity(size + 8);
    for line in corpus::body("text72", size).split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.is_empty() {
            wire.extend_from_slice(line);
            wire.push(b'\n');
        }
    }
    wire.extend_from_slice(b"\r\n.\r\n");
    wire
}

/// smtp-sansio's DataDecoder fed `piece`-byte reads: each read is copied into the
/// receive buffer, by `DataDecoder::push` (which checks it while copying, as
/// `Server::handle_input` does) or, with `push` false, by `extend_from_slice`; chunks
/// are dropped as a store would after writing them.
#[inline(never)]
pub fn sansio_data_reads(wire: &[u8], piece: usize, buf: &mut BytesMut, push: bool) -> usize {
    let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
    let mut total = 0;
    buf.clear();
    for part in wire.chunks(piece) {
        match push {
            true => dec.push(part, buf),
            false => buf.extend_from_slice(part),
        }
        while let DataStep::Chunk(c) = dec.next(buf) {
            total += c.len();
        }
    }
    assert!(dec.is_done());
    total
}

/// smtp-proto's `DataReceiver` over the whole wire buffer, into a reused output Vec.
#[inline(never)]
pub fn proto_data_whole(wire: &[u8], out: &mut Vec<u8>) -> usize {
    out.clear();
    let mut rx = smtp_proto::request::receiver::DataReceiver::new();
    let mut it = wire.iter();
    assert!(rx.ingest(&mut it, out));
    out.len()
}

/// smtp-proto's `DataReceiver` fed `piece`-byte reads, each copied into a read buffer
/// first (the same read copy smtp-sansio is charged).
#[inline(never)]
pub fn proto_data_reads(wire: &[u8], piece: usize, out: &mut Vec<u8>, rbuf: &mut Vec<u8>) -> usize {
    out.clear();
    let mut rx = smtp_proto::request::receiver::DataReceiver::new();
    let mut done = false;
    for part in wire.chunks(piece) {
        rbuf.clear();
        rbuf.extend_from_slice(part);
        let mut it = rbuf.iter();
        if rx.ingest(&mut it, out) {
            done = true;
            break;
        }
    }
    assert!(done);
    out.len()
}

/// The CPU's model name (`/proc/cpuinfo` on Linux), printed with every run: a ratio
/// measured on one kind of machine says nothing about another.
pub fn cpu_model() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    #[cfg(target_arch = "x86_64")]
    let simd = if std::is_x86_feature_detected!("avx2") {
        "AVX2 available"
    } else {
        "SSE2 only"
    };
    #[cfg(not(target_arch = "x86_64"))]
    let simd = std::env::consts::ARCH;
    format!("{model} ({simd})")
}

/// A server machine that has accepted EHLO, MAIL, RCPT and DATA, ready for a body.
pub fn server_in_data(now: Instant) -> Server {
    let mut s = Server::new(ServerConfig::default(), now).expect("valid configuration");
    s.handle_input(
        now,
        b"EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n",
    );
    drive(&mut s);
    s
}

/// Answers every ticket, counts body octets, drops output.
pub fn drive(s: &mut Server) -> usize {
    let mut n = 0;
    while let Some(ev) = s.poll_event() {
        let _ = match ev {
            Event::Hello(r) => s.accept(Instant::now(), r.ticket),
            Event::Mail(r) => s.accept(Instant::now(), r.ticket),
            Event::Rcpt(r) => s.accept(Instant::now(), r.ticket),
            Event::MessageEnd(r) => s.accept(Instant::now(), r.ticket),
            Event::MessageChunk(c) => {
                n += c.len();
                Ok(())
            }
            _ => Ok(()),
        };
    }
    while s.poll_transmit().is_some() {}
    n
}
