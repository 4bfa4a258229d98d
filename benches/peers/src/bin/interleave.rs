//! Ratios against the peers measured in many short alternating rounds, each reported as
//! the median round's ratio. On a shared machine whose speed drifts by tens of percent
//! over seconds, criterion's one-group-after-another timings can put two contenders in
//! different conditions (its parse ratio moved between 0.8 and 1.7 over one day for the
//! same code); alternating every few milliseconds puts them in the same ones.
//! `cargo run --release --bin interleave [ROUNDS] [commands | data] [SHAPE...]`.
//! `BODY_KIB=256` (say) in the environment makes the DATA bodies that size instead of
//! 10 MiB: each timing then repeats the contender over about 10 MiB of wire, so the body
//! stays in the cache between repetitions, as a message of that size would be after the
//! reads that brought it in.

use std::hint::black_box;
use std::time::Instant;

use bytes::BytesMut;
use smtp_sansio::Grammar;
use smtp_sansio_peers::{
    WIRE_SHAPES, corpus, cpu_model, proto_data_reads, proto_data_whole, proto_stream,
    sansio_data_reads, sansio_data_whole, sansio_stream, wire,
};

const READ: usize = 64 * 1024;

/// Runs each contender once per round, in an order that rotates, and returns the
/// per-round times.
fn rounds<const N: usize>(
    n: usize,
    contenders: &mut [&mut dyn FnMut() -> f64; N],
) -> Vec<[f64; N]> {
    let mut out = Vec::with_capacity(n);
    for r in 0..n {
        let mut t = [0.0; N];
        for k in 0..N {
            let i = (r + k) % N;
            t[i] = contenders[i]();
        }
        out.push(t);
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quartiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[v.len() * 3 / 4])
}

fn report<const N: usize>(times: &[[f64; N]], a: usize, b: usize) -> String {
    let ratios: Vec<f64> = times.iter().map(|t| t[a] / t[b]).collect();
    let (lo, hi) = quartiles(ratios.clone());
    format!("median {:.3} (quartiles {lo:.3}..{hi:.3})", median(ratios))
}

fn main() {
    // Arguments, in any order: a number of rounds; `commands` or `data` to run one
    // part; body shape names (see `corpus::SHAPES`) to run DATA on those alone.
    let mut n = 301;
    let (mut commands, mut data) = (true, true);
    let mut shapes: Vec<&str> = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Ok(r) = arg.parse() {
            n = r;
        } else if arg == "commands" {
            data = false;
        } else if arg == "data" {
            commands = false;
        } else if let Some(s) = corpus::SHAPES
            .iter()
            .chain(corpus::MORE_SHAPES)
            .chain(WIRE_SHAPES)
            .find(|s| **s == arg)
        {
            shapes.push(s);
        } else {
            eprintln!(
                "usage: interleave [ROUNDS] [commands | data] [SHAPE...]; shapes: {:?}",
                corpus::SHAPES
            );
            std::process::exit(2);
        }
    }
    if shapes.is_empty() {
        shapes = corpus::SHAPES.to_vec();
    }
    println!("CPU: {}", cpu_model());
    if commands {
        command_rounds(n);
    }
    if !data {
        return;
    }
    let kib: usize = std::env::var("BODY_KIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&k| k > 0)
        .unwrap_or(10 * 1024);
    for shape in shapes {
        let wire = wire(shape, kib * 1024);
        data_rounds(shape, &wire, (n / 6).max(11));
    }
}

/// Commands: 500 passes over the 14-line corpus per round, in ns per command.
fn command_rounds(n: usize) {
    let stream = corpus::mixed_stream();
    let g = Grammar::default();
    let per = 500.0 * corpus::MIXED.len() as f64;
    let ns = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..500 {
            f();
        }
        t.elapsed().as_secs_f64() * 1e9 / per
    };
    let mut sansio = || {
        ns(&mut || {
            black_box(sansio_stream(black_box(&stream), &g));
        })
    };
    let mut proto = || {
        ns(&mut || {
            black_box(proto_stream(black_box(&stream)));
        })
    };
    let mut both: [&mut dyn FnMut() -> f64; 2] = [&mut sansio, &mut proto];
    rounds(20, &mut both);
    let t = rounds(n, &mut both);
    println!(
        "commands: smtp-sansio {:.1} ns, smtp-proto {:.1} ns (medians of {n} rounds)",
        median(t.iter().map(|t| t[0]).collect()),
        median(t.iter().map(|t| t[1]).collect())
    );
    println!("  smtp-sansio / smtp-proto time: {}", report(&t, 0, 1));
}

/// DATA: one body per contender per round (repeated up to about 10 MiB of wire when the
/// body is smaller), in GB/s of wire input.
fn data_rounds(shape: &str, wire: &[u8], m: usize) {
    let reps = ((10 << 20) / wire.len()).max(1);
    let len = (wire.len() * reps) as f64;
    let gbps = |secs: f64| len / secs / 1e9;
    // Seconds for `reps` runs of `f`, each after an untimed `setup`.
    fn timed<S>(reps: usize, mut setup: impl FnMut() -> S, mut f: impl FnMut(S)) -> f64 {
        let mut secs = 0.0;
        for _ in 0..reps {
            let s = setup();
            let t = Instant::now();
            f(s);
            secs += t.elapsed().as_secs_f64();
        }
        secs
    }
    let mut dst = vec![0u8; wire.len()];
    let mut memcpy = || {
        gbps(timed(
            reps,
            || (),
            |()| {
                dst.copy_from_slice(black_box(wire));
                black_box(dst[0]);
            },
        ))
    };
    let mut whole = || {
        // The body is in the receive buffer already; that copy is not timed.
        gbps(timed(
            reps,
            || BytesMut::from(wire),
            |mut buf| {
                black_box(sansio_data_whole(&mut buf));
            },
        ))
    };
    let mut rbuf = BytesMut::with_capacity(READ + 8);
    let mut reads = || {
        gbps(timed(
            reps,
            || (),
            |()| {
                black_box(sansio_data_reads(black_box(wire), READ, &mut rbuf, true));
            },
        ))
    };
    let mut ebuf = BytesMut::with_capacity(READ + 8);
    let mut extend = || {
        gbps(timed(
            reps,
            || (),
            |()| {
                black_box(sansio_data_reads(black_box(wire), READ, &mut ebuf, false));
            },
        ))
    };
    let mut out = Vec::with_capacity(wire.len());
    let mut proto_whole = || {
        gbps(timed(
            reps,
            || (),
            |()| {
                black_box(proto_data_whole(black_box(wire), &mut out));
            },
        ))
    };
    let mut out2 = Vec::with_capacity(wire.len());
    let mut pbuf = Vec::with_capacity(READ);
    let mut proto_reads = || {
        gbps(timed(
            reps,
            || (),
            |()| {
                black_box(proto_data_reads(
                    black_box(wire),
                    READ,
                    &mut out2,
                    &mut pbuf,
                ));
            },
        ))
    };
    // The read copy alone, into a buffer that stays in the cache: what the 64 KiB-read
    // paths cannot go below, and why they trail the whole buffer.
    let mut cbuf = BytesMut::with_capacity(READ);
    let mut copy_alone = || {
        gbps(timed(
            reps,
            || (),
            |()| {
                for part in black_box(wire).chunks(READ) {
                    cbuf.clear();
                    cbuf.extend_from_slice(part);
                    black_box(cbuf.first());
                }
            },
        ))
    };
    let mut all: [&mut dyn FnMut() -> f64; 7] = [
        &mut memcpy,
        &mut whole,
        &mut reads,
        &mut proto_whole,
        &mut proto_reads,
        &mut extend,
        &mut copy_alone,
    ];
    rounds(3, &mut all);
    let t = rounds(m, &mut all);
    let names = [
        "memcpy",
        "decoder whole",
        "decoder 64 KiB reads",
        "smtp-proto whole",
        "smtp-proto 64 KiB reads",
        "decoder 64 KiB, extend",
        "64 KiB read copy alone",
    ];
    let size = match wire.len() >> 10 {
        k if k >= 1024 => format!("{} MiB", k >> 10),
        k => format!("{k} KiB, {reps} runs per timing"),
    };
    println!("DATA {shape}, {size}, GB/s (medians of {m} rounds):");
    for (i, name) in names.iter().enumerate() {
        println!(
            "  {name:24} {:.2}",
            median(t.iter().map(|t| t[i]).collect())
        );
    }
    // Throughputs: a higher ratio is faster.
    println!("  decoder whole / memcpy: {}", report(&t, 1, 0));
    println!("  decoder 64 KiB reads / memcpy: {}", report(&t, 2, 0));
    println!(
        "  decoder 64 KiB reads by extend_from_slice / memcpy: {}",
        report(&t, 5, 0)
    );
    println!(
        "  decoder 64 KiB reads / the read copy alone: {}",
        report(&t, 2, 6)
    );
    println!("  decoder whole / smtp-proto whole: {}", report(&t, 1, 3));
    println!(
        "  decoder 64 KiB reads / smtp-proto 64 KiB reads: {}",
        report(&t, 2, 4)
    );
}
