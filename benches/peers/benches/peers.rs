//! smtp-sansio against other Rust SMTP implementations, in one run, on the same input:
//! the 14-line mixed corpus (`../corpus.rs`), a 10 MiB DATA body, and the DATA
//! receivers on each body shape of `corpus::SHAPES`.
//!
//! `cargo bench --bench peers` here, or `./run.sh`, which also prints the ratios and
//! redraws `chart.svg`.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, black_box, criterion_group, criterion_main};
use smtp_sansio::Grammar;
use smtp_sansio::data::dot_stuff;
use smtp_sansio_peers::{corpus, *};

const MIB10: usize = 10 * 1024 * 1024;
const READ: usize = 64 * 1024;

fn commands(c: &mut Criterion) {
    for (line, ok) in acceptance() {
        assert!(ok[0], "smtp-sansio rejects corpus line {line:?}");
        for (name, accepted) in PARSERS.iter().zip(ok) {
            if !accepted {
                eprintln!("note: {name} rejects {line:?}");
            }
        }
    }
    let g = Grammar::default();
    let stream = corpus::mixed_stream();
    let mut group = c.benchmark_group("peers_mixed_14");
    group.throughput(Throughput::Elements(corpus::MIXED.len() as u64));
    group.bench_function("smtp-sansio", |b| {
        b.iter(|| sansio_stream(black_box(&stream), &g))
    });
    group.bench_function("smtp-proto", |b| {
        b.iter(|| proto_stream(black_box(&stream)))
    });
    group.bench_function("smtp-codec", |b| {
        b.iter(|| codec_stream(black_box(&stream)))
    });
    group.bench_function("floor", |b| b.iter(|| floor_stream(black_box(&stream))));
    group.finish();
}

fn data(c: &mut Criterion) {
    let body = corpus::message(MIB10);
    let wire = dot_stuff(&body).to_vec();
    let mut group = c.benchmark_group("peers_data_10MiB");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.sample_size(20);
    group.bench_function("memcpy", |b| {
        let mut dst = vec![0u8; wire.len()];
        b.iter(|| {
            dst.copy_from_slice(black_box(&wire));
            dst[0]
        })
    });
    group.bench_function("end_marker_scan", |b| {
        b.iter(|| memchr::memmem::find(black_box(&wire), b"\r\n.\r\n"))
    });
    // The body is already in the receive buffer (the read that put it there is not
    // timed); chunks are `Bytes` slices of that buffer.
    group.bench_function("smtp-sansio_whole", |b| {
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |mut buf| {
                let n = sansio_data_whole(&mut buf);
                (n, buf)
            },
            BatchSize::LargeInput,
        )
    });
    // The same through the server machine: the buffer handed over with
    // `handle_input_buf` (no copy), chunks taken as `MessageChunk` events.
    group.bench_function("smtp-sansio_server_whole", |b| {
        b.iter_batched(
            || (server_in_data(Instant::now()), BytesMut::from(&wire[..])),
            |(mut s, buf)| {
                s.handle_input_buf(Instant::now(), buf);
                let n = drive(&mut s);
                (n, s)
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("smtp-sansio_64KiB_reads", |b| {
        let mut buf = BytesMut::with_capacity(READ + 8);
        b.iter(|| sansio_data_reads(black_box(&wire), READ, &mut buf, true))
    });
    group.bench_function("smtp-sansio_server_64KiB_reads", |b| {
        b.iter_batched(
            || server_in_data(Instant::now()),
            |mut s| {
                let now = Instant::now();
                let mut n = 0;
                for part in wire.chunks(READ) {
                    s.handle_input(now, part);
                    n += drive(&mut s);
                }
                (n, s)
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("smtp-proto_whole", |b| {
        let mut out = Vec::with_capacity(wire.len());
        b.iter(|| proto_data_whole(black_box(&wire), &mut out))
    });
    group.bench_function("smtp-proto_64KiB_reads", |b| {
        let mut out = Vec::with_capacity(wire.len());
        let mut rbuf = Vec::with_capacity(READ);
        b.iter(|| proto_data_reads(black_box(&wire), READ, &mut out, &mut rbuf))
    });
    group.finish();
}

/// The DATA receivers on each body shape (`corpus::SHAPES`), 10 MiB each.
fn shapes(c: &mut Criterion) {
    for shape in corpus::SHAPES {
        let wire = dot_stuff(&corpus::body(shape, MIB10)).to_vec();
        let mut group = c.benchmark_group(format!("peers_data_shape_{shape}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.sample_size(20);
        group.bench_function("memcpy", |b| {
            let mut dst = vec![0u8; wire.len()];
            b.iter(|| {
                dst.copy_from_slice(black_box(&wire));
                dst[0]
            })
        });
        group.bench_function("smtp-sansio_whole", |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |mut buf| {
                    let n = sansio_data_whole(&mut buf);
                    (n, buf)
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("smtp-sansio_64KiB_reads", |b| {
            let mut buf = BytesMut::with_capacity(READ + 8);
            b.iter(|| sansio_data_reads(black_box(&wire), READ, &mut buf, true))
        });
        group.bench_function("smtp-proto_whole", |b| {
            let mut out = Vec::with_capacity(wire.len());
            b.iter(|| proto_data_whole(black_box(&wire), &mut out))
        });
        group.bench_function("smtp-proto_64KiB_reads", |b| {
            let mut out = Vec::with_capacity(wire.len());
            let mut rbuf = Vec::with_capacity(READ);
            b.iter(|| proto_data_reads(black_box(&wire), READ, &mut out, &mut rbuf))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = commands, data, shapes
}
criterion_main!(benches);
