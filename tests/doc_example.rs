//! The crate documentation's blocking server (`src/doc/blocking_server.rs`), run as it
//! is over loopback: it stores a message, ends with QUIT, and never blocks for ever on a
//! silent client (the deadline fires) or on a client that vanished.

#[allow(dead_code)] // its `main` is for the docs
#[path = "../src/doc/blocking_server.rs"]
mod example;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use smtp_sansio::server::ServerConfig;

/// Runs `serve` on one accepted connection in a thread; returns the client socket and a
/// receiver for what `serve` returned and stored.
fn start(config: ServerConfig) -> (TcpStream, mpsc::Receiver<(bool, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (sock, _) = listener.accept().expect("accept");
        let mut stored = Vec::new();
        let ok = example::serve(sock, config, &mut stored).is_ok();
        let _ = tx.send((ok, stored));
    });
    let client = TcpStream::connect(addr).expect("connect");
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    (client, rx)
}

fn reply(r: &mut impl BufRead) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).expect("reply");
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return all;
        }
    }
}

#[test]
fn doc_example_stores_a_message_and_quits() {
    let (mut c, done) = start(ServerConfig::default());
    let mut r = BufReader::new(c.try_clone().expect("clone"));
    assert!(reply(&mut r).starts_with("220"));
    for (cmd, want) in [
        ("EHLO client.example\r\n", "250"),
        ("MAIL FROM:<a@example.org>\r\n", "250"),
        ("RCPT TO:<b@example.org>\r\n", "250"),
        ("DATA\r\n", "354"),
        ("Subject: hi\r\n\r\n..dot\r\n.\r\n", "250"),
        ("QUIT\r\n", "221"),
    ] {
        c.write_all(cmd.as_bytes()).expect("write");
        let got = reply(&mut r);
        assert!(got.starts_with(want), "{cmd:?}: {got}");
    }
    let (ok, stored) = done
        .recv_timeout(Duration::from_secs(20))
        .expect("serve returned");
    assert!(ok);
    assert_eq!(stored, b"Subject: hi\r\n\r\n.dot\r\n");
}

/// A client that says nothing gets `421 4.4.2` when the command timeout runs out, and
/// `serve` returns: the loop never waits without a deadline.
#[test]
fn doc_example_times_out_a_silent_client() {
    let mut config = ServerConfig::default();
    config.allow_below_rfc_minimums = true;
    config.timeouts.command = Duration::from_millis(300);
    let (c, done) = start(config);
    let mut r = BufReader::new(c.try_clone().expect("clone"));
    assert!(reply(&mut r).starts_with("220"));
    assert!(reply(&mut r).starts_with("421 4.4.2"));
    let (ok, _) = done
        .recv_timeout(Duration::from_secs(20))
        .expect("serve returned");
    assert!(ok);
}

/// A client that vanishes mid-message: `serve` returns and stores nothing.
#[test]
fn doc_example_returns_when_the_client_vanishes() {
    let (mut c, done) = start(ServerConfig::default());
    let mut r = BufReader::new(c.try_clone().expect("clone"));
    assert!(reply(&mut r).starts_with("220"));
    c.write_all(b"EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nhalf a mess")
        .expect("write");
    drop(r);
    drop(c);
    let (_, stored) = done
        .recv_timeout(Duration::from_secs(20))
        .expect("serve returned");
    assert!(stored.is_empty());
}
