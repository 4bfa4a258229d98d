//! The parse-time ratio of smtp-sansio to smtp-proto on the command corpus, measured in
//! many short alternating rounds and reported as the median round's ratio. On a shared
//! machine whose speed drifts by ±30 % over seconds, criterion's one-after-the-other
//! groups can disagree from run to run; alternating every few milliseconds puts both
//! parsers under the same conditions. `cargo run --release --bin interleave [ROUNDS]`.

use std::hint::black_box;
use std::time::Instant;

use smtp_sansio::Grammar;
use smtp_sansio_peers::{corpus, proto_stream, sansio_stream};

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(301);
    let stream = corpus::mixed_stream();
    let g = Grammar::default();
    let lines = corpus::MIXED.len() as f64;
    let passes = 500;
    let time = |f: &dyn Fn() -> (usize, usize)| {
        let t = Instant::now();
        for _ in 0..passes {
            black_box(f());
        }
        t.elapsed().as_secs_f64() * 1e9 / (passes as f64 * lines)
    };
    let sansio = || sansio_stream(black_box(&stream), &g);
    let proto = || proto_stream(black_box(&stream));
    // Warm up both.
    for _ in 0..20 {
        time(&sansio);
        time(&proto);
    }
    let (mut ratios, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        // Alternate which goes first, so neither always follows the other.
        let (a, b) = if i % 2 == 0 {
            let a = time(&sansio);
            (a, time(&proto))
        } else {
            let b = time(&proto);
            (time(&sansio), b)
        };
        ratios.push(a / b);
        ours.push(a);
        theirs.push(b);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (r, a, b) = (median(&mut ratios), median(&mut ours), median(&mut theirs));
    let q = |v: &Vec<f64>, p: f64| v[((v.len() - 1) as f64 * p) as usize];
    println!(
        "smtp-sansio {a:.1} ns/command, smtp-proto {b:.1} ns/command (medians of {rounds} rounds)"
    );
    println!(
        "ratio smtp-sansio / smtp-proto: median {r:.3}, quartiles {:.3}..{:.3}",
        q(&ratios, 0.25),
        q(&ratios, 0.75)
    );
}
