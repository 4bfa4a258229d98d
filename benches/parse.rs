//! Command and reply parsing.

#[path = "corpus.rs"]
mod corpus;

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use smtp_sansio::{Grammar, decode_command, decode_reply};

fn commands(c: &mut Criterion) {
    let g = Grammar::default();
    let mut group = c.benchmark_group("command");
    for line in corpus::MIXED {
        let name = String::from_utf8_lossy(&line[..line.len().min(12)])
            .trim()
            .to_string();
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_with_input(BenchmarkId::new("class", name), line, |b, line| {
            b.iter(|| decode_command(black_box(line), &g).map(|(r, c)| (r.len(), c.verb().len())))
        });
    }
    group.finish();

    let stream = corpus::mixed_stream();
    let mut group = c.benchmark_group("command_stream");
    group.throughput(Throughput::Elements(corpus::MIXED.len() as u64));
    group.bench_function("mixed_14", |b| {
        b.iter(|| {
            let mut rest: &[u8] = black_box(&stream);
            let mut n = 0;
            while let Ok((r, cmd)) = decode_command(rest, &g) {
                n += cmd.verb().len();
                rest = r;
            }
            n
        })
    });
    // The floor: find each CRLF and compare the verb, no parsing.
    group.bench_function("floor_find_crlf_and_verb", |b| {
        b.iter(|| {
            let mut rest: &[u8] = black_box(&stream);
            let mut n = 0;
            while let Some(p) = memchr::memmem::find(rest, b"\r\n") {
                n += usize::from(
                    rest.get(..4)
                        .is_some_and(|v| v.eq_ignore_ascii_case(b"MAIL")),
                );
                rest = &rest[p + 2..];
            }
            n
        })
    });
    group.finish();
}

fn replies(c: &mut Criterion) {
    let single = b"250 2.1.0 Sender OK\r\n".as_slice();
    let ehlo = b"250-mx.example.net at your service\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n250-AUTH PLAIN LOGIN XOAUTH2\r\n250-DSN\r\n250 STARTTLS\r\n".as_slice();
    let mut group = c.benchmark_group("reply");
    for (name, input) in [("single", single), ("ehlo_multiline", ehlo)] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| decode_reply(black_box(input)).map(|(r, rep)| (r.len(), rep.lines().len())))
        });
    }
    group.bench_function("ehlo_capabilities", |b| {
        b.iter(|| {
            decode_reply(black_box(ehlo)).map(|(_, r)| {
                smtp_sansio::types::Capabilities::from_reply(&r)
                    .iter()
                    .count()
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = commands, replies
}
criterion_main!(benches);
