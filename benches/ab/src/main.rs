//! The DATA decoder of this checkout (`new`) against an earlier commit (`old`, see
//! `run.sh`), in one process: per round and body shape, each decodes the same 10 MiB
//! wire as a whole buffer and as 64 KiB reads (by `DataDecoder::push`), the two taking
//! turns, and the ratio of their times is kept. Prints the median ratio and quartiles
//! per shape, and each build's median throughput. `commands [ROUNDS]` does the same for
//! `decode_command` over the pipelined command corpus. With `BODY_KIB` set, bodies of
//! that size, each decoded as often as makes about 10 MiB per timing (bodies that stay
//! in the cache).
#[path = "../../corpus.rs"]
mod corpus;

use bytes::BytesMut;
use std::time::Instant;

/// Seconds for one build (`$m`) to decode `$wire` from a whole buffer, and the body's
/// length.
macro_rules! whole {
    ($m:ident, $wire:expr) => {{
        let mut buf = BytesMut::from(&$wire[..]);
        let t = Instant::now();
        let mut dec = $m::data::DataDecoder::new($m::data::BareLineEndings::Reject, Some(1000));
        let mut total = 0;
        while let $m::data::DataStep::Chunk(c) = dec.next(&mut buf) {
            total += c.len();
        }
        let s = t.elapsed().as_secs_f64();
        assert!(dec.is_done());
        (s, total)
    }};
}

/// As `whole`, from 64 KiB reads pushed into `$buf`.
macro_rules! reads {
    ($m:ident, $wire:expr, $buf:expr) => {{
        let buf: &mut BytesMut = $buf;
        buf.clear();
        let t = Instant::now();
        let mut dec = $m::data::DataDecoder::new($m::data::BareLineEndings::Reject, Some(1000));
        let mut total = 0;
        for piece in $wire.chunks(64 * 1024) {
            dec.push(piece, buf);
            while let $m::data::DataStep::Chunk(c) = dec.next(buf) {
                total += c.len();
            }
        }
        let s = t.elapsed().as_secs_f64();
        assert!(dec.is_done());
        (s, total)
    }};
}

/// Lower quartile, median and upper quartile.
fn quartiles(mut v: Vec<f64>) -> [f64; 3] {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    [v[n / 4], v[n / 2], v[(3 * n / 4).min(n - 1)]]
}

/// Parses the pipelined `stream` with one build's `decode_command`, as
/// `benches/peers` does; returns the seconds taken for `passes` passes and the
/// commands accepted.
macro_rules! commands {
    ($m:ident, $stream:expr, $passes:expr) => {{
        let g = $m::Grammar::default();
        let t = Instant::now();
        let mut ok = 0;
        for _ in 0..$passes {
            let mut rest: &[u8] = std::hint::black_box(&$stream[..]);
            while !rest.is_empty() {
                match $m::decode_command(rest, &g) {
                    Ok((r, cmd)) => {
                        ok += usize::from(!cmd.verb().is_empty());
                        rest = r;
                    }
                    Err(_) => {
                        rest = match rest.iter().position(|&b| b == b'\n') {
                            Some(p) => &rest[p + 1..],
                            None => &[],
                        };
                    }
                }
            }
        }
        (t.elapsed().as_secs_f64(), ok)
    }};
}

/// `commands` mode: the command corpus, time new / old per round.
fn commands(rounds: usize) {
    let stream = corpus::mixed_stream();
    let passes = 2000;
    let mut ratios = Vec::new();
    for i in 0..rounds {
        let (o, n) = if i % 2 == 0 {
            let o = commands!(old, stream, passes);
            (o, commands!(new, stream, passes))
        } else {
            let n = commands!(new, stream, passes);
            (commands!(old, stream, passes), n)
        };
        assert_eq!(o.1, n.1, "the builds disagree on the corpus");
        ratios.push(n.0 / o.0);
    }
    let [q1, q2, q3] = quartiles(ratios);
    println!("{rounds} rounds; commands, time new / old: {q2:.3} ({q1:.3}..{q3:.3})");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("commands") {
        let rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(301);
        return commands(rounds);
    }
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(101);
    let shapes: Vec<&str> = match args.get(1..) {
        Some(named) if !named.is_empty() => named.iter().map(String::as_str).collect(),
        _ => corpus::SHAPES.to_vec(),
    };
    let mut rbuf = BytesMut::with_capacity(64 * 1024 + 8);
    let size = std::env::var("BODY_KIB")
        .ok()
        .and_then(|k| k.parse::<usize>().ok())
        .map_or(10 << 20, |k| k.max(1) << 10);
    let reps = ((10 << 20) / size).max(1);
    println!(
        "{rounds} rounds, bodies of {} KiB ({reps} per timing); time new / old (below 1: \
         new is faster), median (quartiles)",
        size >> 10
    );
    for shape in shapes {
        let wire = new::data::dot_stuff(&corpus::body(shape, size)).to_vec();
        let gbps = |s: f64| (wire.len() * reps) as f64 / s / 1e9;
        // `reps` timings of one kind, summed.
        macro_rules! times {
            ($e:expr) => {{
                let (mut s, mut n) = (0.0, 0);
                for _ in 0..reps {
                    let (t, len) = $e;
                    (s, n) = (s + t, len);
                }
                (s, n)
            }};
        }
        let (mut w, mut r) = (Vec::new(), Vec::new());
        let mut speeds = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for i in 0..rounds {
            // Each goes first in every other round.
            let (o, n) = if i % 2 == 0 {
                let o = times!(whole!(old, wire));
                (o, times!(whole!(new, wire)))
            } else {
                let n = times!(whole!(new, wire));
                (times!(whole!(old, wire)), n)
            };
            assert_eq!(o.1, n.1, "{shape}: the builds disagree on the body");
            w.push(n.0 / o.0);
            speeds[0].push(gbps(o.0));
            speeds[1].push(gbps(n.0));
            let (o, n) = if i % 2 == 0 {
                let o = times!(reads!(old, wire, &mut rbuf));
                (o, times!(reads!(new, wire, &mut rbuf)))
            } else {
                let n = times!(reads!(new, wire, &mut rbuf));
                (times!(reads!(old, wire, &mut rbuf)), n)
            };
            assert_eq!(o.1, n.1, "{shape}: the builds disagree on the body");
            r.push(n.0 / o.0);
            speeds[2].push(gbps(o.0));
            speeds[3].push(gbps(n.0));
        }
        let [w1, w2, w3] = quartiles(w);
        let [r1, r2, r3] = quartiles(r);
        let [wo, wn, ro, rn] = speeds.map(|v| quartiles(v)[1]);
        println!(
            "{shape:16} whole {w2:.3} ({w1:.3}..{w3:.3})  reads {r2:.3} ({r1:.3}..{r3:.3})  \
             GB/s: whole {wo:.1} -> {wn:.1}, reads {ro:.1} -> {rn:.1}"
        );
    }
}
