//! Where 64 KiB reads stand between compute and memory: `DataDecoder::push` (checked as
//! copied), `extend_from_slice` then the decoder, and the copy alone, each on one read
//! that stays in cache ("hot") and on reads walking the 10 MiB body ("cold"), in GB/s.
//! `cargo run --release --bin hot [SHAPE]`; `READ=16384` for another read size.
use std::time::Instant;

use bytes::BytesMut;
use smtp_sansio::data::{BareLineEndings, DataDecoder, DataStep, dot_stuff};
use smtp_sansio_peers::corpus;

/// The read size: 64 KiB, or `READ` from the environment (in octets).
fn read_size() -> usize {
    std::env::var("READ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64 * 1024)
}
const READS: usize = 160;

/// Feeds `READS` reads: `hot` the same one each time, else successive ones of `wire`.
/// `how`: 0 push, 1 extend then decode, 2 the copy alone.
fn run(wire: &[u8], hot: Option<&[u8]>, how: u8, buf: &mut BytesMut) -> usize {
    let read = read_size();
    let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
    let mut total = 0;
    for r in 0..READS {
        let part = hot.unwrap_or_else(|| &wire[(r * read) % (wire.len() - read)..][..read]);
        match how {
            0 => dec.push(part, buf),
            1 => buf.extend_from_slice(part),
            _ => {
                buf.extend_from_slice(part);
                total += buf.len();
                buf.clear();
                continue;
            }
        }
        while let DataStep::Chunk(c) = dec.next(buf) {
            total += c.len();
        }
    }
    total
}

fn main() {
    let shape = std::env::args().nth(1).unwrap_or_else(|| "text72".into());
    let wire = dot_stuff(&corpus::body(&shape, 10 << 20)).to_vec();
    // The hot read starts and ends at a line start, so it can be fed again and again.
    let read = read_size();
    let end = wire[..read]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(read, |p| p + 1);
    let hot = &wire[..end];
    let mut buf = BytesMut::with_capacity(2 * read);
    println!("CPU: {}", smtp_sansio_peers::cpu_model());
    for round in 0..5 {
        let mut line = format!("{shape} round {round}, GB/s:");
        for (name, how, h) in [
            ("push hot", 0, true),
            ("extend hot", 1, true),
            ("copy hot", 2, true),
            ("push cold", 0, false),
            ("extend cold", 1, false),
            ("copy cold", 2, false),
        ] {
            let t = Instant::now();
            let n = run(&wire, h.then_some(hot), how, &mut buf);
            let secs = t.elapsed().as_secs_f64();
            buf.clear();
            std::hint::black_box(n);
            let octets = READS * if h { hot.len() } else { read };
            line += &format!(" {name} {:.1}", octets as f64 / secs / 1e9);
        }
        println!("{line}");
    }
}
