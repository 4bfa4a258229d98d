//! The shared benchmark corpus: 14 realistic command lines covering every command class.
#![allow(dead_code)]

/// Command lines (with CRLF) in the order a submission session would send them.
pub const MIXED: &[&[u8]] = &[
    b"EHLO client.example.org\r\n",
    b"MAIL FROM:<alice@example.org> SIZE=12345 BODY=8BITMIME\r\n",
    b"MAIL FROM:<>\r\n",
    b"RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net\r\n",
    b"RCPT TO:<\"john q. public\"@[192.0.2.1]>\r\n",
    b"DATA\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"QUIT\r\n",
    b"AUTH PLAIN AHVzZXJuYW1lAHBhc3N3b3Jk\r\n",
    b"STARTTLS\r\n",
    b"BDAT 1024 LAST\r\n",
    "MAIL FROM:<j\u{f6}rg@b\u{fc}cher.example> SMTPUTF8\r\n".as_bytes(),
    "RCPT TO:<\u{7528}\u{6237}@\u{4f8b}\u{5b50}.\u{6d4b}\u{8bd5}>\r\n".as_bytes(),
];

/// The corpus as one pipelined stream.
pub fn mixed_stream() -> Vec<u8> {
    MIXED.concat()
}

/// A message of about `size` octets of realistic text; every 50th line starts with a dot.
pub fn message(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 128);
    let mut i = 0usize;
    while out.len() < size {
        if i % 50 == 0 {
            out.extend_from_slice(b".a line that starts with a dot and must be stuffed\r\n");
        } else {
            out.extend_from_slice(
                b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n",
            );
        }
        i += 1;
    }
    out
}
