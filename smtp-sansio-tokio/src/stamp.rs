//! The streaming rewrite every stored or relayed message goes through: our trace fields
//! first (a `Received:`, and for final delivery `Return-Path:` and `Delivered-To:`), then
//! the message's own bytes unchanged, with `Message-ID:` and `Date:` inserted at the end
//! of its header when a submission server must add them (RFC 6409 8.1, 8.3). Nothing is
//! buffered: each chunk goes out as it comes, split at most once where the header ends.
//! Independent of where the bytes go (a Maildir file, an upstream connection), and
//! synchronous: a blocking server uses it as it is.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use smtp_sansio::trace::{DateTime, HeaderScan};

static MESSAGE_IDS: AtomicU64 = AtomicU64::new(0);

/// One message on its way out: trace fields first, then its bytes, with `Message-ID:`
/// and `Date:` added at the end of its header when asked and missing.
#[derive(Debug)]
pub struct Stamp {
    /// Written before the message's first byte, then `None`.
    prefix: Option<Vec<u8>>,
    scan: HeaderScan,
    /// Add `Message-ID:` / `Date:` when the header lacks them.
    add_missing: bool,
    /// Whether that is done (or not needed any more).
    inserted: bool,
    our_host: String,
    /// The message's last byte so far.
    last: Option<u8>,
}

impl Stamp {
    /// `prefix` is the trace fields (CRLF-terminated); with `add_missing`, a missing
    /// `Message-ID:` (`<unique@our_host>`) and `Date:` (now, UTC) are added.
    pub fn new(prefix: Vec<u8>, add_missing: bool, our_host: &str) -> Self {
        Self {
            prefix: Some(prefix),
            scan: HeaderScan::new(),
            add_missing,
            inserted: !add_missing,
            our_host: id_right(our_host),
            last: None,
        }
    }

    /// Passes one chunk of the message on to `out`.
    pub fn chunk(
        &mut self,
        chunk: &[u8],
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if let Some(p) = self.prefix.take() {
            out(&p)?;
        }
        if chunk.is_empty() {
            return Ok(());
        }
        self.last = chunk.last().copied();
        if self.inserted {
            return out(chunk);
        }
        match self.scan.feed(chunk) {
            Some(at) => {
                out(&chunk[..at])?;
                self.inserted = true;
                out(&self.missing())?;
                out(&chunk[at..])
            }
            None => out(chunk),
        }
    }

    /// Ends the message: an empty message still gets the prefix, and a message whose
    /// header never ended (no empty line) gets the missing fields at its end.
    pub fn finish(&mut self, out: &mut impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        if let Some(p) = self.prefix.take() {
            out(&p)?;
        }
        if !self.inserted {
            self.inserted = true;
            let fields = self.missing();
            if !fields.is_empty() {
                // A field must start on a line of its own.
                if self.last.is_some_and(|b| b != b'\n') {
                    out(b"\r\n")?;
                }
                out(&fields)?;
            }
        }
        Ok(())
    }

    /// Whether the missing fields were added to this message (for logs and tests).
    pub fn added(&self) -> bool {
        self.add_missing && self.inserted
    }

    fn missing(&self) -> Vec<u8> {
        let mut v = Vec::new();
        if !self.add_missing {
            return v;
        }
        let now = SystemTime::now();
        if !self.scan.has_message_id() {
            // RFC 5322 3.6.4: unique left part (time, process, counter) at our host.
            let t = now.duration_since(UNIX_EPOCH).unwrap_or_default();
            let n = MESSAGE_IDS.fetch_add(1, Ordering::Relaxed);
            let id = format!(
                "Message-ID: <{}.{:09}.{}.{n}@{}>\r\n",
                t.as_secs(),
                t.subsec_nanos(),
                std::process::id(),
                self.our_host
            );
            v.extend_from_slice(id.as_bytes());
        }
        if !self.scan.has_date() {
            if let Ok(date) = DateTime::from_system_time(now, 0) {
                v.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
            }
        }
        v
    }
}

/// The right part of a Message-ID from our host name: a dot-atom (RFC 5322 3.6.4) or the
/// address literal as a `no-fold-literal`; anything else becomes `localhost`.
fn id_right(host: &str) -> String {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(atext));
    let literal = host.len() > 2
        && host.starts_with('[')
        && host.ends_with(']')
        && host[1..host.len() - 1]
            .bytes()
            .all(|b| (33..=126).contains(&b) && !b"[]\\".contains(&b));
    if dot_atom || literal {
        host.to_owned()
    } else {
        "localhost".to_owned()
    }
}
