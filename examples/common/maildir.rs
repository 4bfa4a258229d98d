//! Maildir delivery shared by the example servers: each message is written to `tmp/`,
//! synced, then renamed into `new/` and the directory synced, so a reader never sees half
//! a message and nothing is acknowledged before it (and its name) is on disk.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A Maildir root with `tmp/`, `new/` and `cur/`.
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

impl Maildir {
    /// Creates the directories if needed.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(Self { root })
    }

    /// The root directory.
    #[allow(dead_code)]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts a new message file in `tmp/`.
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
    /// Appends body bytes.
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.size += chunk.len() as u64;
        match self.file.as_mut() {
            Some(f) => f.write_all(chunk),
            None => Err(io::Error::other("delivery already finished")),
        }
    }

    /// Syncs and moves the file into `new/`, then syncs `new/` so that the rename itself
    /// survives a crash; returns the final path. Only then may the `250` go out (RFC 5321
    /// 6.1).
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
    #[allow(dead_code)]
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
