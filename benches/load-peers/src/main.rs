//! A null sink built on mailin-embedded, the peer in benches/load.sh: accepts every
//! message and drops it.
//!
//! Usage: mailin-sink ADDR

use mailin_embedded::{Handler, Server, SslConfig};

#[derive(Clone)]
struct Discard;

impl Handler for Discard {}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:2526".into());
    let mut server = Server::new(Discard);
    server
        .with_name("mailin-sink")
        .with_ssl(SslConfig::None)
        .expect("no TLS")
        .with_addr(addr.as_str())
        .expect("listen address")
        .with_num_threads(4);
    eprintln!("listening on {addr}");
    server.serve().expect("serve");
}
