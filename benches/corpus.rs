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

/// The message body shapes the DATA comparisons run on, each about `size` octets before
/// dot-stuffing, generated from a fixed seed (the same bytes on every run and machine).
pub const SHAPES: &[&str] = &[
    "text72",
    "base64_76",
    "quoted_printable",
    "html_998",
    "empty_lines",
    "dot_every_30",
    "mixed_998",
];

/// Further shapes, run only when named: checks for the kinds of body a held-out
/// comparison may bring that the default set lacks.
pub const MORE_SHAPES: &[&str] = &[
    "dot_every_5",
    "dot_every_12",
    "short_lines",
    "lines_300",
    "utf8_text",
    "headers",
];

/// One body of `shape` (a name from [`SHAPES`]) of about `size` octets.
pub fn body(shape: &str, size: usize) -> Vec<u8> {
    let mut g = Gen(0x5eed_1234_abcd_0001);
    let mut out = Vec::with_capacity(size + 1024);
    match shape {
        // Prose wrapped at 72 columns (RFC 5322 2.1.1's SHOULD of 78, as mail clients do).
        "text72" => {
            while out.len() < size {
                g.text_line(&mut out, 72);
            }
        }
        // An attachment: base64 in lines of 76 characters (RFC 2045 6.8).
        "base64_76" => {
            const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            while out.len() < size {
                for _ in 0..19 {
                    let v = g.next() as u32;
                    for k in 0..4 {
                        out.push(B64[(v >> (6 * k)) as usize & 63]);
                    }
                }
                out.extend_from_slice(b"\r\n");
            }
        }
        // Accented prose as quoted-printable (RFC 2045 6.7): =XX escapes, soft line
        // breaks ("=" CRLF) at 76 characters, hard breaks between paragraphs.
        "quoted_printable" => {
            let mut col = 0;
            while out.len() < size {
                let word = g.word();
                for &b in word.iter().chain(b" ") {
                    let esc = g.next() % 23 == 0;
                    let piece: &[u8] = if esc {
                        b"=C3=A9"
                    } else {
                        std::slice::from_ref(&b)
                    };
                    if col + piece.len() > 75 {
                        out.extend_from_slice(b"=\r\n");
                        col = 0;
                    }
                    out.extend_from_slice(piece);
                    col += piece.len();
                }
                if g.next() % 40 == 0 {
                    out.extend_from_slice(b"\r\n");
                    col = 0;
                }
            }
        }
        // Generated HTML on lines of a length drawn from a range:
        "html_998" | "mixed_998" | "short_lines" | "lines_300" => {
            let (shortest, lengths) = match shape {
                // long lines, 900 to 998 characters (RFC 5321 4.5.3.1.6's limit);
                "html_998" => (900, 99),
                // any length from 0 to 998, so that blocks with and without a line end
                // alternate at random;
                "mixed_998" => (0, 999),
                // 0 to 24 characters (lists, verse, signatures);
                "short_lines" => (0, 25),
                // 257 to 511: each longer than a block, none long.
                _ => (257, 255),
            };
            while out.len() < size {
                let len = shortest + (g.next() % lengths) as usize;
                g.html_line(&mut out, len);
            }
        }
        // Short paragraphs separated by runs of one to four empty lines.
        "empty_lines" => {
            while out.len() < size {
                for _ in 0..1 + g.next() % 3 {
                    g.text_line(&mut out, 40);
                }
                for _ in 0..1 + g.next() % 4 {
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
        // Prose with a line that starts with "." every 30 lines (stuffed on the wire), or
        // every 5 or 12 lines for the extra shapes.
        "dot_every_30" | "dot_every_5" | "dot_every_12" => {
            let every: usize = shape["dot_every_".len()..].parse().unwrap_or(30);
            let mut i = 0;
            while out.len() < size {
                if i % every == 0 {
                    out.extend_from_slice(b".");
                }
                g.text_line(&mut out, 72);
                i += 1;
            }
        }
        // Prose in two-octet and three-octet UTF-8 (8BITMIME), wrapped near 72 octets.
        "utf8_text" => {
            const W: &[&str] = &[
                "über",
                "straße",
                "ελληνικά",
                "русский",
                "日本語",
                "中文",
                "mail",
                "der",
                "и",
            ];
            while out.len() < size {
                let start = out.len();
                while out.len() - start < 72 {
                    out.extend_from_slice(W[(g.next() % W.len() as u64) as usize].as_bytes());
                    out.push(b' ');
                }
                out.extend_from_slice(b"\r\n");
            }
        }
        // Header blocks: field lines of 20 to 120 characters, one in four folded.
        "headers" => {
            while out.len() < size {
                let len = 20 + (g.next() % 101) as usize;
                if g.next() % 4 == 0 {
                    out.push(b'\t');
                }
                g.html_line(&mut out, len);
            }
        }
        _ => panic!("unknown body shape {shape:?}"),
    }
    out
}

/// A small deterministic generator (xorshift64*), so bodies need no data files.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// One line of generated HTML table cells, cut to `len` characters, and its CRLF.
    fn html_line(&mut self, out: &mut Vec<u8>, len: usize) {
        let start = out.len();
        while out.len() - start < len {
            out.extend_from_slice(b"<td class=\"c\">");
            out.extend_from_slice(self.word());
            out.extend_from_slice(b"</td>");
        }
        out.truncate(start + len);
        out.extend_from_slice(b"\r\n");
    }

    fn word(&mut self) -> &'static [u8] {
        const WORDS: &[&[u8]] = &[
            b"the",
            b"of",
            b"and",
            b"message",
            b"server",
            b"delivery",
            b"a",
            b"to",
            b"in",
            b"is",
            b"that",
            b"for",
            b"it",
            b"with",
            b"as",
            b"was",
            b"on",
            b"mailbox",
            b"transaction",
            b"be",
            b"at",
            b"by",
            b"this",
            b"had",
            b"not",
            b"are",
            b"but",
            b"from",
            b"or",
            b"have",
            b"an",
            b"they",
            b"which",
            b"one",
            b"you",
            b"were",
            b"recipient",
            b"all",
            b"we",
            b"her",
            b"she",
            b"there",
            b"would",
            b"their",
            b"will",
            b"when",
            b"who",
            b"him",
            b"been",
            b"has",
            b"more",
            b"if",
            b"no",
            b"out",
            b"so",
            b"said",
            b"what",
            b"up",
            b"its",
            b"about",
            b"into",
            b"than",
            b"them",
            b"can",
            b"only",
            b"other",
            b"new",
            b"some",
            b"could",
            b"time",
            b"these",
            b"two",
            b"may",
            b"then",
            b"do",
            b"first",
            b"any",
            b"my",
            b"now",
            b"such",
            b"like",
            b"our",
            b"over",
            b"man",
            b"me",
            b"even",
            b"most",
            b"made",
            b"after",
            b"also",
            b"did",
            b"many",
            b"before",
            b"must",
            b"through",
            b"back",
            b"years",
            b"where",
            b"much",
            b"your",
            b"way",
            b"well",
            b"down",
            b"should",
            b"because",
            b"each",
            b"just",
            b"those",
            b"people",
            b"Mr.",
            b"how",
            b"too",
            b"little",
            b"state",
            b"good",
            b"very",
            b"make",
            b"world",
            b"still",
            b"own",
            b"see",
            b"men",
            b"work",
            b"long",
            b"get",
            b"here",
            b"between",
            b"both",
            b"life",
            b"being",
            b"under",
            b"never",
            b"day",
            b"same",
            b"another",
            b"know",
            b"while",
            b"last",
            b"might",
            b"us",
            b"great",
            b"old",
            b"year",
            b"off",
            b"come",
            b"since",
            b"against",
            b"go",
            b"came",
            b"right",
            b"used",
            b"take",
            b"three",
            b"relay",
        ];
        WORDS[(self.next() % WORDS.len() as u64) as usize]
    }

    /// Words up to `width` columns, then CRLF; now and then a sentence ends.
    fn text_line(&mut self, out: &mut Vec<u8>, width: usize) {
        let start = out.len();
        loop {
            let w = self.word();
            let sep = usize::from(out.len() > start);
            if out.len() - start + sep + w.len() + 1 > width {
                break;
            }
            if sep == 1 {
                out.push(b' ');
            }
            out.extend_from_slice(w);
            if self.next() % 9 == 0 {
                out.extend_from_slice(b".");
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}
