//! Final delivery into a Maildir: each message is written to `tmp/`, synced, renamed
//! into `new/` and the directory synced, so a reader never sees half a message and
//! nothing is acknowledged before it (and its name) is on disk (RFC 5321 6.1).
//!
//! [`Folder`], [`Delivery`] and [`Writer`] are synchronous (a blocking server uses them
//! as they are); [`Maildir`] is the ready [`Handler`] over them.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use smtp_sansio::trace;
use smtp_sansio::types::Reply;

use crate::body::Body;
use crate::handler::{Connection, Decision, Handler, Message, Session};
use crate::stamp::Stamp;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A Maildir root with `tmp/`, `new/` and `cur/`.
#[derive(Debug, Clone)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    /// Creates the directories if needed.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(Self { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts a new message file in `tmp/`, named `<secs>.M<micros>P<pid>Q<n>.smtp-sansio`.
    pub fn create(&self) -> io::Result<Delivery> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "{}.M{}P{}Q{}.smtp-sansio",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            n
        );
        let tmp = self.root.join("tmp").join(&name);
        let file = File::create(&tmp)?;
        Ok(Delivery {
            file: Some(file),
            tmp,
            unique: name.split('.').take(2).collect(),
            new: self.root.join("new").join(name),
            size: 0,
        })
    }
}

/// A message being written. Dropping it without [`Delivery::commit`] removes the file.
#[derive(Debug)]
pub struct Delivery {
    file: Option<File>,
    tmp: PathBuf,
    new: PathBuf,
    /// The name's unique part without dots (an RFC 5322 atom), for the trace id.
    unique: String,
    size: u64,
}

impl Delivery {
    /// Appends bytes.
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.size += chunk.len() as u64;
        match self.file.as_mut() {
            Some(f) => f.write_all(chunk),
            None => Err(io::Error::other("delivery already finished")),
        }
    }

    /// Syncs and moves the file into `new/`, then syncs `new/` so that the rename itself
    /// survives a crash; returns the final path. Blocks: only then may the `250` go out.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        if let Some(f) = self.file.take() {
            f.sync_all()?;
        }
        fs::rename(&self.tmp, &self.new)?;
        if let Some(dir) = self.new.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(self.new.clone())
    }

    /// The unique part of the file name (`<seconds>M<micros>P<pid>Q<counter>`), usable as
    /// the `id` of a `Received:` field.
    pub fn unique(&self) -> &str {
        &self.unique
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The fields a final delivery writes above a message (RFC 5321 4.4): `Return-Path:`,
/// one `Delivered-To:` per recipient, then our `Received:` with `id`.
pub fn final_delivery_fields(message: &Message, id: &str, name_user: bool) -> Vec<u8> {
    let Some(received) = message.received(id, name_user) else {
        return Vec::new();
    };
    let mut out = trace::return_path(&message.start.from);
    for to in &message.start.recipients {
        out.extend_from_slice(&trace::delivered_to(to));
    }
    out.extend_from_slice(&received.to_bytes());
    out
}

/// The ready final-delivery handler: every accepted message goes into a Maildir behind
/// `Return-Path:`, `Delivered-To:` and our `Received:` (see [`final_delivery_fields`]),
/// and is acknowledged only once synced and renamed into `new/`. A message that cannot
/// be stored gets `451 4.3.0`.
#[derive(Debug, Clone)]
pub struct Maildir {
    folder: Folder,
    name_user: bool,
    add_missing: bool,
}

impl Maildir {
    /// Opens (creating if needed) the Maildir at `root`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        Ok(Self {
            folder: Folder::open(root)?,
            name_user: false,
            add_missing: false,
        })
    }

    /// Name the authenticated user in `Received:` (off by default).
    pub fn name_user(mut self, yes: bool) -> Self {
        self.name_user = yes;
        self
    }

    /// Add `Message-ID:` and `Date:` at the end of the header when missing, as a
    /// submission server must (RFC 6409 8.1, 8.3). Off by default.
    pub fn add_missing_headers(mut self, yes: bool) -> Self {
        self.add_missing = yes;
        self
    }

    /// The folder written to.
    pub fn folder(&self) -> &Folder {
        &self.folder
    }

    /// Starts writing one message (synchronously; the file is created now): the steps
    /// of [`Maildir::deliver`] for a run loop of one's own, such as a blocking server.
    pub fn begin(&self, message: &Message) -> Writer {
        let state = self.folder.create().map(|d| {
            let fields = final_delivery_fields(message, d.unique(), self.name_user);
            let stamp = Stamp::new(fields, self.add_missing, &message.hostname);
            (d, stamp)
        });
        Writer { state }
    }

    /// Stores one message from its body: the whole of [`Session::message`] for a
    /// Maildir, usable inside another handler (to keep a copy, say).
    pub async fn deliver(&self, message: &Message, mut body: Body) -> Decision {
        let mut writer = self.begin(message);
        loop {
            match body.chunk().await {
                Ok(Some(chunk)) => writer.write(&chunk),
                Ok(None) => break,
                // The client gets no reply for it; the file goes with `writer`.
                Err(_) => return Decision::Accept,
            }
        }
        // fsync and rename block: off the async workers.
        match tokio::task::spawn_blocking(move || writer.commit()).await {
            Ok(Ok(_)) => Decision::Accept,
            _ => Decision::Reply(not_stored()),
        }
    }
}

/// The final reply to a message that could not be stored: `451 4.3.0` (RFC 5321 4.2.3,
/// a transient failure: the client keeps the message and tries again).
pub fn not_stored() -> Reply {
    crate::fixed_reply(crate::replies::NOT_STORED)
}

/// One message on its way into a Maildir, from [`Maildir::begin`]: the trace fields,
/// then each chunk written as it comes, then [`commit`](Self::commit). A file that could
/// not be created or written is remembered, not reported chunk by chunk: the caller
/// reads the body to its end either way and learns the outcome once, from `commit`.
/// Dropped without `commit`, the file is removed from `tmp/`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Writer {
    state: io::Result<(Delivery, Stamp)>,
}

impl Writer {
    /// Appends one chunk of the message (as the machine's `MessageChunk` gives it).
    pub fn write(&mut self, chunk: &[u8]) {
        if let Ok((d, stamp)) = &mut self.state {
            if let Err(e) = stamp.chunk(chunk, &mut |b| d.write(b)) {
                self.state = Err(e);
            }
        }
    }

    /// Ends the message, syncs it and moves it into `new/` (see [`Delivery::commit`]);
    /// returns its final path. Blocks: only then may the `250` go out (RFC 5321 6.1).
    pub fn commit(self) -> io::Result<PathBuf> {
        let (mut d, mut stamp) = self.state?;
        stamp.finish(&mut |b| d.write(b))?;
        d.commit()
    }
}

impl Handler for Maildir {
    type Session = MaildirSession;

    fn session(&self, _conn: &Connection) -> MaildirSession {
        MaildirSession(self.clone())
    }
}

/// A [`Maildir`]'s per-connection session.
#[derive(Debug)]
pub struct MaildirSession(Maildir);

impl Session for MaildirSession {
    async fn message(&mut self, message: &Message, body: Body) -> Decision {
        self.0.deliver(message, body).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use smtp_sansio::server::{Event, MessageStart, Server, ServerConfig};

    use super::*;

    /// The machine's facts of one message from a@b.example to c@d.example.
    fn message() -> Message {
        let now = Instant::now();
        let config = Arc::new(ServerConfig::new("mx.example"));
        let mut s = Server::new(config, now).unwrap();
        s.handle_input(
            now,
            b"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n",
        );
        let start: MessageStart = loop {
            match s.poll_event().expect("a MessageStart") {
                Event::Hello(h) => s.accept(now, h.ticket).unwrap(),
                Event::Mail(m) => s.accept(now, m.ticket).unwrap(),
                Event::Rcpt(r) => s.accept(now, r.ticket).unwrap(),
                Event::MessageStart(m) => break m,
                _ => {}
            }
        };
        Message::new(start, "mx.example", "192.0.2.1:2525".parse().unwrap())
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn maildir_writer_puts_trace_fields_first_and_commits_into_new() {
        let root = temp("writer-commit");
        let maildir = Maildir::open(&root).unwrap();
        let mut w = maildir.begin(&message());
        w.write(b"Subject: hi\r\n\r\n");
        w.write(b"body\r\n");
        let path = w.commit().unwrap();
        assert_eq!(path.parent(), Some(root.join("new").as_path()));
        let text = String::from_utf8(fs::read(&path).unwrap()).unwrap();
        assert!(text.starts_with("Return-Path: <a@b.example>\r\n"), "{text}");
        assert!(text.contains("Delivered-To: c@d.example\r\n"), "{text}");
        assert!(text.contains("Received: from c.example"), "{text}");
        assert!(text.ends_with("\r\nSubject: hi\r\n\r\nbody\r\n"), "{text}");
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn maildir_writer_dropped_without_commit_leaves_nothing() {
        let root = temp("writer-drop");
        let maildir = Maildir::open(&root).unwrap();
        let mut w = maildir.begin(&message());
        w.write(b"Subject: hi\r\n\r\n");
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 1);
        drop(w);
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(root.join("new")).unwrap().count(), 0);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn maildir_writer_that_cannot_create_its_file_fails_at_commit() {
        let root = temp("writer-gone");
        let maildir = Maildir::open(&root).unwrap();
        fs::remove_dir_all(&root).unwrap();
        let mut w = maildir.begin(&message());
        w.write(b"Subject: hi\r\n\r\n");
        assert!(w.commit().is_err());
        assert_eq!(
            not_stored().code(),
            smtp_sansio::types::ReplyCode::LOCAL_ERROR
        );
    }
}
