//! DATA with a dot line every N lines (N = 1, 2, 5, 30): how the cost of dot lines,
//! which is per line rather than per octet, scales for both receivers. The text72 body
//! with "." put in front of every Nth line, dot-stuffed; best of 15 runs of each driver
//! (the same drivers as `interleave`), in GB/s of wire input.
//!
//! `cargo run --release --bin dots`. Not interleaved: for the shape of the curve, not
//! for ratios of record.

use bytes::BytesMut;
use smtp_sansio::data::dot_stuff;
use smtp_sansio_peers::{
    corpus, proto_data_reads, proto_data_whole, sansio_data_reads, sansio_data_whole,
};
use std::hint::black_box;
use std::time::Instant;
fn main() {
    for every in [1usize, 2, 5, 30] {
        let base = corpus::body("text72", 10 << 20);
        let mut body = Vec::with_capacity(base.len() * 2);
        for (i, line) in base.split_inclusive(|&b| b == b'\n').enumerate() {
            if i % every == 0 {
                body.push(b'.');
            }
            body.extend_from_slice(line);
        }
        let wire = dot_stuff(&body).to_vec();
        let mut rbuf = BytesMut::with_capacity(64 * 1024 + 8);
        let (mut out, mut pbuf) = (Vec::with_capacity(wire.len()), Vec::new());
        let mut best = [f64::MAX; 4];
        for _ in 0..15 {
            let mut whole = BytesMut::from(&wire[..]);
            let t = Instant::now();
            black_box(sansio_data_whole(&mut whole));
            best[0] = best[0].min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            black_box(sansio_data_reads(&wire, 65536, &mut rbuf, true));
            best[1] = best[1].min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            black_box(proto_data_whole(&wire, &mut out));
            best[2] = best[2].min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            black_box(proto_data_reads(&wire, 65536, &mut out, &mut pbuf));
            best[3] = best[3].min(t.elapsed().as_secs_f64());
        }
        let gb = |s: f64| wire.len() as f64 / s / 1e9;
        println!(
            "dot every {every:>2} lines: sansio whole {:.2} reads {:.2} | proto whole {:.2} reads {:.2} GB/s",
            gb(best[0]),
            gb(best[1]),
            gb(best[2]),
            gb(best[3])
        );
    }
}
