//! A message body on its way from the run loop to the handler: a bounded channel of
//! chunks, so that a slow handler slows the client instead of filling memory.
//!
//! A queue under a mutex, shared by the two ends (one `Arc` and its queue per message,
//! where tokio's channels took an mpsc, a oneshot and a counter). The run loop polls the
//! handler itself, so a chunk it hands over needs no wake-up of its own task (see
//! [`BodySender::try_send_polled`]): waking it would only schedule the task once more,
//! and on a multi-thread runtime wake another worker to find nothing to do.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use bytes::Bytes;

use crate::handler::BodyError;

/// Chunks that may wait between the run loop and the handler. Each is at most 16 KiB
/// (what the run loop feeds the machine at once), so a session holds at most this many
/// times 16 KiB of body.
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
    shared: Arc<Mutex<Channel>>,
}

/// The feeding end of a [`Body`]: the run loop holds one, and so does a handler that
/// passes a body on to others (see [`Tee`](crate::Tee)).
#[derive(Debug)]
pub struct BodySender {
    shared: Arc<Mutex<Channel>>,
}

#[derive(Debug)]
struct Channel {
    chunks: VecDeque<Bytes>,
    capacity: usize,
    /// How the body ended, once the sender said so (taken by the reader).
    end: Option<Result<(), BodyError>>,
    /// The sender finished or went away: nothing more comes after `chunks`.
    sender_done: bool,
    /// The reader was told how the body ended.
    end_told: bool,
    reader_gone: bool,
    /// The reader waits for a chunk.
    reader: Option<Waker>,
    /// The sender waits for room.
    sender: Option<Waker>,
    /// The waiting sender is polled right after the reader, in the same task (see
    /// [`BodySender::ready_polled`]): a reader polled with that task's waker need not
    /// wake it.
    sender_follows: bool,
    read: u64,
}

/// A connected pair: chunks sent into the [`BodySender`] come out of the [`Body`].
pub fn body_channel(capacity: usize) -> (BodySender, Body) {
    let shared = Arc::new(Mutex::new(Channel {
        chunks: VecDeque::new(),
        capacity: capacity.max(1),
        end: None,
        sender_done: false,
        end_told: false,
        reader_gone: false,
        reader: None,
        sender: None,
        sender_follows: false,
        read: 0,
    }));
    (
        BodySender {
            shared: shared.clone(),
        },
        Body { shared },
    )
}

/// The channel's state; a panic elsewhere while it was held leaves nothing half-done
/// (every update is a single step), so a poisoned lock is still usable.
fn lock(shared: &Mutex<Channel>) -> MutexGuard<'_, Channel> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}

impl Body {
    /// The next chunk; `Ok(None)` at the end of the message; `Err` when the message was
    /// aborted (nothing more comes, and the final reply is not the handler's).
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        poll_fn(|cx| {
            let mut c = lock(&self.shared);
            if let Some(chunk) = c.chunks.pop_front() {
                c.read += chunk.len() as u64;
                let sender = match &c.sender {
                    Some(w) if c.sender_follows && w.will_wake(cx.waker()) => None,
                    _ => c.sender.take(),
                };
                drop(c);
                wake(sender);
                return Poll::Ready(Ok(Some(chunk)));
            }
            if c.sender_done {
                // Every chunk is in: how the body ended, once; then only `None`.
                let how = match c.end.take() {
                    Some(Ok(())) => Ok(None),
                    Some(Err(e)) => Err(e),
                    None if c.end_told => Ok(None),
                    None => Err(BodyError::Lost),
                };
                c.end_told = true;
                return Poll::Ready(how);
            }
            match &mut c.reader {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    /// Octets handed out so far.
    pub fn octets_read(&self) -> u64 {
        lock(&self.shared).read
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        let mut c = lock(&self.shared);
        c.reader_gone = true;
        c.chunks.clear();
        let sender = c.sender.take();
        drop(c);
        wake(sender);
    }
}

impl BodySender {
    /// Sends a chunk, waiting while the body is full. `Err` gives the chunk back when
    /// the reader is gone (the handler decided without reading everything).
    pub async fn send(&self, chunk: Bytes) -> Result<(), Bytes> {
        self.ready().await;
        match self.push(chunk, None) {
            Push::Sent => Ok(()),
            Push::Full(c) | Push::Gone(c) => Err(c),
        }
    }

    /// Sends a chunk if there is room: `None` when sent or the reader is gone (the
    /// chunk is dropped), `Some(chunk)` back when the body is full.
    pub fn try_send(&self, chunk: Bytes) -> Option<Bytes> {
        match self.push(chunk, None) {
            Push::Sent | Push::Gone(_) => None,
            Push::Full(c) => Some(c),
        }
    }

    /// [`try_send`](Self::try_send) from a task that polls the reader itself before it
    /// next waits (`polling` is that task's waker): a reader waiting with that same
    /// waker is not woken, since it will be polled anyway.
    pub(crate) fn try_send_polled(&self, chunk: Bytes, polling: &Waker) -> Option<Bytes> {
        match self.push(chunk, Some(polling)) {
            Push::Sent | Push::Gone(_) => None,
            Push::Full(c) => Some(c),
        }
    }

    fn push(&self, chunk: Bytes, polling: Option<&Waker>) -> Push {
        let mut c = lock(&self.shared);
        if c.reader_gone {
            return Push::Gone(chunk);
        }
        if c.chunks.len() >= c.capacity {
            return Push::Full(chunk);
        }
        c.chunks.push_back(chunk);
        let reader = match (c.reader.as_ref(), polling) {
            (Some(r), Some(p)) if r.will_wake(p) => None,
            _ => c.reader.take(),
        };
        drop(c);
        wake(reader);
        Push::Sent
    }

    /// Waits until a chunk can be sent (or the reader is gone).
    pub async fn ready(&self) {
        self.wait_room(false).await
    }

    /// [`ready`](Self::ready) for a task that polls the reader itself, always just
    /// before this future: the reader taking a chunk in that task need not wake it, as
    /// this future is polled next and sees the room.
    pub(crate) async fn ready_polled(&self) {
        self.wait_room(true).await
    }

    async fn wait_room(&self, follows: bool) {
        poll_fn(|cx| {
            let mut c = lock(&self.shared);
            if c.reader_gone || c.chunks.len() < c.capacity {
                return Poll::Ready(());
            }
            c.sender_follows = follows;
            match &mut c.sender {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    /// True when the reader has gone away.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared).reader_gone
    }

    /// Octets the reader has taken so far.
    pub fn octets_read(&self) -> u64 {
        lock(&self.shared).read
    }

    /// Ends the body: `Ok(())` at its end, or the reason it was aborted.
    pub fn finish(self, how: Result<(), BodyError>) {
        self.close(Some(how), None);
    }

    /// [`finish`](Self::finish) from the task that polls the reader (see
    /// [`try_send_polled`](Self::try_send_polled)).
    pub(crate) fn finish_polled(self, how: Result<(), BodyError>, polling: &Waker) {
        self.close(Some(how), Some(polling));
    }

    fn close(&self, how: Option<Result<(), BodyError>>, polling: Option<&Waker>) {
        let mut c = lock(&self.shared);
        if c.sender_done {
            return;
        }
        c.sender_done = true;
        c.end = how;
        let reader = match (c.reader.as_ref(), polling) {
            (Some(r), Some(p)) if r.will_wake(p) => None,
            _ => c.reader.take(),
        };
        drop(c);
        wake(reader);
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        // Gone without a word: the reader gets `BodyError::Lost` after the chunks.
        self.close(None, None);
    }
}

enum Push {
    Sent,
    Full(Bytes),
    Gone(Bytes),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake};

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count::default());
        (c.clone(), Waker::from(c))
    }

    fn poll_once<F: Future>(f: &mut std::pin::Pin<Box<F>>, w: &Waker) -> Poll<F::Output> {
        f.as_mut().poll(&mut Context::from_waker(w))
    }

    #[test]
    fn chunk_handed_over_by_the_task_that_polls_the_reader_wakes_nobody() {
        let (tx, mut body) = body_channel(4);
        let (count, w) = counter();
        let mut next = Box::pin(body.chunk());
        assert!(poll_once(&mut next, &w).is_pending());
        assert!(tx.try_send_polled(Bytes::from_static(b"a"), &w).is_none());
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            0,
            "woken by its own hand-over"
        );
        assert!(matches!(poll_once(&mut next, &w), Poll::Ready(Ok(Some(c))) if c == "a"));
        drop(next);
        // Another task's hand-over (or a plain try_send) does wake the reader.
        let mut next = Box::pin(body.chunk());
        assert!(poll_once(&mut next, &w).is_pending());
        let (_, other) = counter();
        assert!(
            tx.try_send_polled(Bytes::from_static(b"b"), &other)
                .is_none()
        );
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(&mut next, &w).is_ready());
        drop(next);
        let mut next = Box::pin(body.chunk());
        assert!(poll_once(&mut next, &w).is_pending());
        tx.finish(Ok(()));
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            2,
            "the end wakes the reader"
        );
        assert!(matches!(poll_once(&mut next, &w), Poll::Ready(Ok(None))));
    }

    #[test]
    fn full_body_refuses_chunks_until_the_reader_takes_one() {
        let (tx, mut body) = body_channel(2);
        assert!(tx.try_send(Bytes::from_static(b"1")).is_none());
        assert!(tx.try_send(Bytes::from_static(b"2")).is_none());
        assert_eq!(
            tx.try_send(Bytes::from_static(b"3")).as_deref(),
            Some(&b"3"[..])
        );
        let (count, w) = counter();
        let mut room = Box::pin(tx.ready());
        assert!(poll_once(&mut room, &w).is_pending());
        let (_, r) = counter();
        let mut next = Box::pin(body.chunk());
        assert!(matches!(poll_once(&mut next, &r), Poll::Ready(Ok(Some(c))) if c == "1"));
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the sender is told of room"
        );
        assert!(poll_once(&mut room, &w).is_ready());
        drop(next);
        assert_eq!(body.octets_read(), 1);
        assert_eq!(tx.octets_read(), 1);
    }

    #[test]
    fn room_made_by_the_reader_in_the_task_that_waits_for_it_wakes_nobody() {
        for (polled, wakes) in [(true, 0), (false, 1)] {
            let (tx, mut body) = body_channel(1);
            let _ = tx.try_send(Bytes::from_static(b"1"));
            let (count, w) = counter();
            let mut room: std::pin::Pin<Box<dyn Future<Output = ()>>> = if polled {
                Box::pin(tx.ready_polled())
            } else {
                Box::pin(tx.ready())
            };
            assert!(
                room.as_mut()
                    .poll(&mut Context::from_waker(&w))
                    .is_pending()
            );
            let mut next = Box::pin(body.chunk());
            assert!(poll_once(&mut next, &w).is_ready());
            assert_eq!(
                count.0.load(Ordering::SeqCst),
                wakes,
                "polled after: {polled}"
            );
            assert!(room.as_mut().poll(&mut Context::from_waker(&w)).is_ready());
            drop(next);
            // A reader in another task always wakes the sender.
            let _ = tx.try_send(Bytes::from_static(b"2"));
            let mut room = Box::pin(tx.ready_polled());
            assert!(poll_once(&mut room, &w).is_pending());
            let (_, other) = counter();
            let mut next = Box::pin(body.chunk());
            assert!(poll_once(&mut next, &other).is_ready());
            assert_eq!(count.0.load(Ordering::SeqCst), wakes + 1);
        }
    }

    #[test]
    fn body_ends_once_with_its_reason_then_only_none() {
        let (tx, mut body) = body_channel(4);
        let _ = tx.try_send(Bytes::from_static(b"x"));
        tx.finish(Err(BodyError::Lost));
        let (_, w) = counter();
        let mut next = Box::pin(body.chunk());
        assert!(matches!(poll_once(&mut next, &w), Poll::Ready(Ok(Some(_)))));
        drop(next);
        let mut next = Box::pin(body.chunk());
        assert!(matches!(
            poll_once(&mut next, &w),
            Poll::Ready(Err(BodyError::Lost))
        ));
        drop(next);
        let mut next = Box::pin(body.chunk());
        assert!(matches!(poll_once(&mut next, &w), Poll::Ready(Ok(None))));
    }

    #[test]
    fn sender_gone_without_finishing_means_the_body_is_lost() {
        let (tx, mut body) = body_channel(4);
        drop(tx);
        let (_, w) = counter();
        let mut next = Box::pin(body.chunk());
        assert!(matches!(
            poll_once(&mut next, &w),
            Poll::Ready(Err(BodyError::Lost))
        ));
    }

    #[test]
    fn reader_gone_gives_the_chunk_back_and_frees_a_waiting_sender() {
        let (tx, body) = body_channel(1);
        let _ = tx.try_send(Bytes::from_static(b"1"));
        let (count, w) = counter();
        let mut room = Box::pin(tx.ready());
        assert!(poll_once(&mut room, &w).is_pending());
        drop(body);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(&mut room, &w).is_ready());
        assert!(tx.is_closed());
        let mut send = Box::pin(tx.send(Bytes::from_static(b"2")));
        assert!(matches!(poll_once(&mut send, &w), Poll::Ready(Err(c)) if c == "2"));
    }
}
