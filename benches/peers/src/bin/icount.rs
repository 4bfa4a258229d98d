//! Runs one implementation over the command corpus `N` times, or over a DATA body of
//! one shape, for counting instructions under `valgrind --tool=callgrind`
//! (deterministic, unlike wall time on a shared box):
//! `valgrind --tool=callgrind target/release/icount smtp-sansio 1000`, or
//! `valgrind --tool=callgrind --toggle-collect='*_data_*' target/release/icount data text72`
//! (instructions of the two DATA receivers, whole buffer and 64 KiB reads, on a 1 MiB body).
//! `icount smtp-sansio 1000 3` counts one corpus line (here the fourth) instead of the
//! mixed stream, for the per-line figures; `icount smtp-sansio 1000 'VRFY alice'` counts
//! a line given on the command line. With `EXTEND` set in the environment, the
//! 64 KiB reads are appended with `extend_from_slice` instead of `DataDecoder::push`.

use bytes::BytesMut;
use smtp_sansio::Grammar;
use smtp_sansio::data::dot_stuff;
use smtp_sansio_peers::{
    codec_stream, corpus, drive, proto_data_reads, proto_data_whole, proto_stream,
    sansio_data_reads, sansio_data_whole, sansio_stream, server_in_data, wire,
};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "smtp-sansio".into());
    if which == "data" {
        let shape = args.next().unwrap_or_else(|| "text72".into());
        let wire = wire(&shape, 1 << 20);
        let mut buf = BytesMut::from(&wire[..]);
        let mut rbuf = BytesMut::with_capacity(64 * 1024 + 8);
        let (mut out, mut pbuf) = (Vec::with_capacity(wire.len()), Vec::new());
        let n = [
            sansio_data_whole(&mut buf),
            sansio_data_reads(
                &wire,
                64 * 1024,
                &mut rbuf,
                std::env::var_os("EXTEND").is_none(),
            ),
            proto_data_whole(&wire, &mut out),
            proto_data_reads(&wire, 64 * 1024, &mut out, &mut pbuf),
        ];
        println!(
            "data {shape}: {} wire octets, body octets {n:?}",
            wire.len()
        );
        return;
    }
    if which == "server" {
        // The server machine in DATA on one shape: `server_whole` (the body handed over
        // by `handle_input_buf`) and `server_reads` (64 KiB reads by `handle_input`).
        let shape = args.next().unwrap_or_else(|| "text72".into());
        let wire = dot_stuff(&corpus::body(&shape, 1 << 20)).to_vec();
        let n = [server_whole(&wire), server_reads(&wire)];
        println!("server {shape}: body octets {n:?}");
        return;
    }
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    // An optional third argument picks one corpus line (by index), repeated 14 times,
    // so that instructions can be counted line by line.
    // Any other third argument is a command line of its own (CRLF added), repeated as
    // often, to count lines that are not in the corpus.
    let stream = match args.next() {
        Some(a) => match a.parse::<usize>() {
            Ok(i) => corpus::MIXED[i % corpus::MIXED.len()].repeat(corpus::MIXED.len()),
            Err(_) => format!("{a}\r\n").into_bytes().repeat(corpus::MIXED.len()),
        },
        None => corpus::mixed_stream(),
    };
    let g = Grammar::default();
    let mut total = (0, 0);
    for _ in 0..n {
        let (ok, bad) = match which.as_str() {
            "smtp-sansio" => sansio_stream(std::hint::black_box(&stream), &g),
            "smtp-proto" => proto_stream(std::hint::black_box(&stream)),
            "smtp-codec" => codec_stream(std::hint::black_box(&stream)),
            other => {
                eprintln!("unknown implementation {other}");
                std::process::exit(2);
            }
        };
        total = (total.0 + ok, total.1 + bad);
    }
    println!("{which}: {} accepted, {} rejected", total.0, total.1);
}

#[inline(never)]
fn server_whole(wire: &[u8]) -> usize {
    let mut s = server_in_data(Instant::now());
    let buf = BytesMut::from(wire);
    s.handle_input_buf(Instant::now(), buf);
    drive(&mut s)
}

#[inline(never)]
fn server_reads(wire: &[u8]) -> usize {
    let mut s = server_in_data(Instant::now());
    let mut n = 0;
    for part in wire.chunks(64 * 1024) {
        s.handle_input(Instant::now(), part);
        n += drive(&mut s);
    }
    n
}
