//! DATA unstuffing and end-of-data detection, dot-stuffing, BDAT counting.

#[path = "corpus.rs"]
mod corpus;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use smtp_sansio::data::{BareLineEndings, BdatDecoder, DataDecoder, DataStep, dot_stuff};

const MIB10: usize = 10 * 1024 * 1024;

/// Feeds `wire` into a decoder `piece` bytes at a time; returns body octets.
fn decode(wire: &[u8], piece: usize) -> usize {
    let mut dec = DataDecoder::new(BareLineEndings::Reject, Some(1000));
    let mut buf = BytesMut::with_capacity(piece.min(wire.len()) + 8);
    let mut total = 0;
    for part in wire.chunks(piece) {
        buf.extend_from_slice(part);
        loop {
            match dec.next(&mut buf) {
                DataStep::Chunk(c) => total += c.len(),
                DataStep::End | DataStep::NeedMore => break,
                _ => break,
            }
        }
    }
    total
}

fn data(c: &mut Criterion) {
    let body = corpus::message(MIB10);
    let wire = dot_stuff(&body).to_vec();
    let mut group = c.benchmark_group("data_10MiB");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.sample_size(20);
    group.bench_function("memcpy", |b| {
        let mut dst = vec![0u8; wire.len()];
        b.iter(|| {
            dst.copy_from_slice(black_box(&wire));
            dst[0]
        })
    });
    group.bench_function("find_end_marker_only", |b| {
        b.iter(|| memchr::memmem::find(black_box(&wire), b"\r\n.\r\n"))
    });
    group.bench_function("unstuff_whole", |b| {
        b.iter(|| decode(black_box(&wire), wire.len()))
    });
    group.bench_function("unstuff_64KiB_chunks", |b| {
        b.iter(|| decode(black_box(&wire), 64 * 1024))
    });
    group.bench_function("dot_stuff", |b| {
        b.iter(|| dot_stuff(black_box(&body)).len())
    });
    group.finish();

    // Worst case: every line starts with a dot.
    let mut dotted = Vec::with_capacity(MIB10);
    while dotted.len() < MIB10 {
        dotted.extend_from_slice(b"..a dotted line\r\n");
    }
    dotted.extend_from_slice(b".\r\n");
    let mut group = c.benchmark_group("data_worst_case");
    group.throughput(Throughput::Bytes(dotted.len() as u64));
    group.sample_size(20);
    group.bench_function("every_line_dotted_64KiB", |b| {
        b.iter(|| decode(black_box(&dotted), 64 * 1024))
    });
    group.finish();

    // Each body shape of the peer comparison, whole buffer and 64 KiB reads.
    for shape in corpus::SHAPES {
        let wire = dot_stuff(&corpus::body(shape, MIB10)).to_vec();
        let mut group = c.benchmark_group(format!("data_shape_{shape}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.sample_size(20);
        group.bench_function("unstuff_whole", |b| {
            b.iter(|| decode(black_box(&wire), wire.len()))
        });
        group.bench_function("unstuff_64KiB_chunks", |b| {
            b.iter(|| decode(black_box(&wire), 64 * 1024))
        });
        group.finish();
    }

    let mut group = c.benchmark_group("bdat_10MiB");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.sample_size(20);
    group.bench_function("count_64KiB_reads", |b| {
        b.iter(|| {
            let mut dec = BdatDecoder::new(body.len() as u64);
            let mut buf = BytesMut::with_capacity(64 * 1024);
            let mut total = 0;
            for part in body.chunks(64 * 1024) {
                buf.extend_from_slice(part);
                while let Some(c) = dec.next(&mut buf) {
                    total += c.len();
                }
            }
            total
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = data
}
criterion_main!(benches);
