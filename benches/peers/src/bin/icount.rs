//! Runs one implementation over the command corpus `N` times, for counting instructions
//! under `valgrind --tool=callgrind` (deterministic, unlike wall time on a shared box):
//! `valgrind --tool=callgrind target/release/icount smtp-sansio 1000`.

use smtp_sansio::Grammar;
use smtp_sansio_peers::{codec_stream, corpus, proto_stream, sansio_stream};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "smtp-sansio".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let stream = corpus::mixed_stream();
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
