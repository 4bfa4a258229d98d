//! A full pipelined transaction through the server machine.

#[path = "corpus.rs"]
mod corpus;

use std::time::Instant;

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use smtp_sansio::data::dot_stuff;
use smtp_sansio::server::{Event, Server, ServerConfig};

/// EHLO, MAIL, 100 RCPT, DATA with a 10 KiB body, QUIT, as one client would pipeline it.
fn script() -> Vec<u8> {
    let mut s = b"EHLO client.example.org\r\nMAIL FROM:<alice@example.org> SIZE=10240\r\n".to_vec();
    for i in 0..100 {
        s.extend_from_slice(format!("RCPT TO:<user{i}@example.net>\r\n").as_bytes());
    }
    s.extend_from_slice(b"DATA\r\n");
    s.extend_from_slice(&dot_stuff(&corpus::message(10 * 1024)));
    s.extend_from_slice(b"QUIT\r\n");
    s
}

fn run(input: &[u8], piece: usize) -> usize {
    let now = Instant::now();
    let mut server = Server::new(ServerConfig::default(), now).expect("valid configuration");
    let mut out = 0;
    for part in input.chunks(piece) {
        server.handle_input(now, part);
        while let Some(ev) = server.poll_event() {
            let _ = match ev {
                Event::Hello(r) => server.accept(r.ticket),
                Event::Mail(r) => server.accept(r.ticket),
                Event::Rcpt(r) => server.accept(r.ticket),
                Event::MessageEnd(r) => server.accept(r.ticket),
                Event::MessageChunk(c) => {
                    out += c.len();
                    Ok(())
                }
                _ => Ok(()),
            };
        }
        while let Some(t) = server.poll_transmit() {
            out += t.len();
        }
    }
    out
}

fn session(c: &mut Criterion) {
    let input = script();
    let mut group = c.benchmark_group("server_session");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("pipelined_100rcpt_10KiB_whole", |b| {
        b.iter(|| run(black_box(&input), input.len()))
    });
    group.bench_function("pipelined_100rcpt_10KiB_1500B_reads", |b| {
        b.iter(|| run(black_box(&input), 1500))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = session
}
criterion_main!(benches);
