//! `examples/mio_server.rs`, the single-threaded non-blocking embedding, over loopback:
//! several interleaved sessions on one thread, a pipelined flood from a client that
//! reads nothing until the end, and every message on disk before its `250`.

mod peers;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use peers::{example_binary, spawn, temp_dir};

struct Client {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: std::net::SocketAddr) -> Self {
        let w = TcpStream::connect(addr).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let r = BufReader::new(w.try_clone().expect("clone"));
        let mut c = Self { w, r };
        assert!(c.reply().starts_with("220"));
        c
    }

    fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).expect("reply");
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    fn cmd(&mut self, line: &str) -> String {
        self.w
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write");
        self.reply()
    }
}

#[test]
fn mio_example_serves_interleaved_sessions_on_one_thread() {
    let dir = temp_dir("mio");
    let mut cmd = Command::new(example_binary("mio_server"));
    cmd.args(["--listen", "127.0.0.1:0", "--dir"]).arg(&dir);
    let server = spawn(cmd, 1).cleanup(dir.clone());
    let addr = server.addrs[0];

    // Two sessions, their commands interleaved.
    let mut a = Client::connect(addr);
    let mut b = Client::connect(addr);
    for c in [&mut a, &mut b] {
        assert!(c.cmd("EHLO c.example").starts_with("250"));
    }
    assert!(a.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
    assert!(b.cmd("MAIL FROM:<b@example.org>").starts_with("250"));
    assert!(a.cmd("RCPT TO:<x@example.org>").starts_with("250"));
    assert!(b.cmd("RCPT TO:<y@example.org>").starts_with("250"));
    assert!(a.cmd("DATA").starts_with("354"));
    assert!(b.cmd("DATA").starts_with("354"));
    assert!(b.cmd("from b\r\n..dot\r\n.").starts_with("250"));
    assert!(a.cmd("from a\r\n.").starts_with("250"));

    // A client that pipelines many commands and reads nothing until the end: the
    // server throttles it instead of buffering, and every reply comes in order.
    let mut c = Client::connect(addr);
    let n = 20_000;
    let flood = "NOOP\r\n".repeat(n) + "QUIT\r\n";
    let mut w = c.w.try_clone().expect("clone");
    let writer = std::thread::spawn(move || w.write_all(flood.as_bytes()));
    for i in 0..n {
        assert!(c.reply().starts_with("250"), "NOOP {i}");
    }
    assert!(c.reply().starts_with("221"));
    writer.join().expect("writer").expect("flood written");

    for c in [&mut a, &mut b] {
        assert!(c.cmd("QUIT").starts_with("221"));
    }
    let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        vec![b"from a\r\n".to_vec(), b"from b\r\n.dot\r\n".to_vec()]
    );
}
