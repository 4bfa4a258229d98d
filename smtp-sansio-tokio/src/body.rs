//! A message body on its way from the run loop to the handler: a bounded channel of
//! chunks, so that a slow handler slows the client instead of filling memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::handler::BodyError;

/// Chunks that may wait between the run loop and the handler. Each is at most one read
/// of the socket (16 KiB), so a session holds at most this many reads of body.
pub const BODY_CHANNEL: usize = 4;

/// A message body as the handler reads it: chunks in order, dot-unstuffed (DATA) or as
/// sent (BDAT), exactly the bytes to store.
///
/// ```
/// # async fn f(mut body: smtp_sansio_tokio::Body) -> Result<u64, smtp_sansio_tokio::BodyError> {
/// let mut size = 0;
/// while let Some(chunk) = body.chunk().await? {
///     size += chunk.len() as u64;
/// }
/// # Ok(size) }
/// ```
#[derive(Debug)]
pub struct Body {
    rx: mpsc::Receiver<Bytes>,
    end: Option<oneshot::Receiver<Result<(), BodyError>>>,
    read: Arc<AtomicU64>,
}

/// The feeding end of a [`Body`]: the run loop holds one, and so does a handler that
/// passes a body on to others (see [`Tee`](crate::Tee)).
#[derive(Debug)]
pub struct BodySender {
    tx: mpsc::Sender<Bytes>,
    end: Option<oneshot::Sender<Result<(), BodyError>>>,
    read: Arc<AtomicU64>,
}

/// A connected pair: chunks sent into the [`BodySender`] come out of the [`Body`].
pub fn body_channel(capacity: usize) -> (BodySender, Body) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let (end_tx, end_rx) = oneshot::channel();
    let read = Arc::new(AtomicU64::new(0));
    (
        BodySender {
            tx,
            end: Some(end_tx),
            read: read.clone(),
        },
        Body {
            rx,
            end: Some(end_rx),
            read,
        },
    )
}

impl Body {
    /// The next chunk; `Ok(None)` at the end of the message; `Err` when the message was
    /// aborted (nothing more comes, and the final reply is not the handler's).
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        if let Some(chunk) = self.rx.recv().await {
            self.read.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            return Ok(Some(chunk));
        }
        // Every chunk is in; the sender said how it ended before it went away.
        match self.end.take() {
            Some(end) => match end.await {
                Ok(Ok(())) => Ok(None),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(BodyError::Lost),
            },
            None => Ok(None),
        }
    }

    /// Octets handed out so far.
    pub fn octets_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

impl BodySender {
    /// Sends a chunk, waiting while the body is full. `Err` gives the chunk back when
    /// the reader is gone (the handler decided without reading everything).
    pub async fn send(&self, chunk: Bytes) -> Result<(), Bytes> {
        self.tx.send(chunk).await.map_err(|e| e.0)
    }

    /// Sends a chunk if there is room: `Ok(None)` when sent or the reader is gone,
    /// `Ok(Some(chunk))` back when the body is full.
    pub fn try_send(&self, chunk: Bytes) -> Option<Bytes> {
        match self.tx.try_send(chunk) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(c)) => Some(c),
            Err(mpsc::error::TrySendError::Closed(_)) => None,
        }
    }

    /// Waits until a chunk can be sent (or the reader is gone).
    pub async fn ready(&self) {
        if let Ok(permit) = self.tx.reserve().await {
            drop(permit);
        }
    }

    /// True when the reader has gone away.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Octets the reader has taken so far.
    pub fn octets_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Ends the body: `Ok(())` at its end, or the reason it was aborted.
    pub fn finish(mut self, how: Result<(), BodyError>) {
        if let Some(end) = self.end.take() {
            let _ = end.send(how);
        }
    }
}
