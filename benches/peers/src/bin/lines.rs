//! The command parse ratio line by line: each line of the mixed corpus, and a few more
//! common shapes, repeated 64 times as one pipelined stream and parsed by smtp-sansio
//! and smtp-proto in turns (101 rounds of 200 passes each). Prints the median ratio of
//! the rounds (smtp-sansio / smtp-proto time; below 1, smtp-sansio is faster), each
//! side's time per line, and how many of the 64 each accepted.
//!
//! `cargo run --release --bin lines`. A corpus weighted differently from the mixed one
//! gives a different overall ratio; this shows which lines move it. Each line repeated
//! is kinder to branch prediction than the mixed stream, so the times run lower.

use std::hint::black_box;
use std::time::Instant;

use smtp_sansio::Grammar;
use smtp_sansio_peers::{corpus, cpu_model, proto_stream, sansio_stream};

/// Lines beside the mixed corpus: other common shapes of the same commands, then rarer ones.
const MORE: &[&[u8]] = &[
    b"HELO mail.example.com\r\n",
    b"EHLO [192.0.2.55]\r\n",
    b"MAIL FROM:<bounce-12345-user=example.com@lists.example.org> BODY=8BITMIME SIZE=52311\r\n",
    b"RCPT TO:<postmaster>\r\n",
    b"RCPT TO:<a.very.long.local.part+tag@subdomain.department.example.co.uk>\r\n",
    b"AUTH LOGIN\r\n",
    b"VRFY postmaster\r\n",
    b"HELP\r\n",
    // Shapes a held-out corpus may hold and this one lacks: address literals that
    // smtp-proto refuses, other SASL mechanisms, failed lines and an unknown verb.
    b"EHLO [IPv6:2001:db8::1]\r\n",
    b"MAIL FROM:<x@[IPv6:2001:db8::1]>\r\n",
    b"AUTH CRAM-MD5\r\n",
    b"EHLO\r\n",
    b"DATA extra\r\n",
    b"MAIL FROM:bad@example.com\r\n",
    b"XCLIENT ADDR=192.0.2.1 NAME=mail.example.com\r\n",
];

fn main() {
    const REPEAT: usize = 64;
    const PASSES: usize = 200;
    let g = Grammar::default();
    println!("CPU: {}", cpu_model());
    println!("ratio  smtp-sansio  smtp-proto  accepted (sansio, proto)  line");
    for line in corpus::MIXED.iter().chain(MORE) {
        let stream = line.repeat(REPEAT);
        let per_line = (REPEAT * PASSES) as f64;
        let mut rounds: Vec<(f64, f64, f64)> = (0..101)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..PASSES {
                    black_box(sansio_stream(black_box(&stream), &g));
                }
                let s = t.elapsed().as_nanos() as f64 / per_line;
                let t = Instant::now();
                for _ in 0..PASSES {
                    black_box(proto_stream(black_box(&stream)));
                }
                let p = t.elapsed().as_nanos() as f64 / per_line;
                (s / p, s, p)
            })
            .collect();
        rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ratio, s, p) = rounds[rounds.len() / 2];
        let shown = String::from_utf8_lossy(&line[..line.len() - 2]);
        println!(
            "{ratio:.3}  {s:8.1} ns  {p:7.1} ns  {:>2}, {:>2}  {shown:?}",
            sansio_stream(&stream, &g).0,
            proto_stream(&stream).0,
        );
    }
}
