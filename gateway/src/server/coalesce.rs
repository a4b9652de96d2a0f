//! One write per response: a connection wrapper that holds what is written until a flush,
//! and lets the runtime's other ready tasks run once before the flush goes out.
//!
//! hyper sends a unary gRPC response in two turns of the connection task: the headers and the
//! message first, then — after the response's task has been woken for send capacity — the
//! trailers with the status. Flushed as they come, that is two TLS records in two `writev`
//! calls, and the client wakes up twice. Here the first flush of a turn yields to the runtime
//! (it wakes itself, which puts it behind every task woken meanwhile, the response's task
//! among them), so the trailers join the buffer and the whole response leaves in one write:
//! one write fewer per call on the server, one wake-up and read fewer on the client. gRPC's
//! own servers delay their flushes the same way (grpc-go #973, grpc-java #4884).
//!
//! Nothing waits on a timer: a flush is delayed by one pass of the scheduler, never by time.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes held before writing through without waiting for a flush (a large `List` response
/// streams out in pieces of about this size).
const HOLD: usize = 64 * 1024;

/// A connection whose writes leave at flushes, one flush per scheduler pass. See the module
/// documentation.
pub(super) struct Coalesced<IO> {
    io: IO,
    buf: Vec<u8>,
    /// How much of `buf` has been written.
    written: usize,
    /// The current flush has yielded already: it writes now.
    yielded: bool,
}

impl<IO> Coalesced<IO> {
    /// Wraps a connection.
    pub(super) fn new(io: IO) -> Self {
        Self {
            io,
            buf: Vec::new(),
            written: 0,
            yielded: false,
        }
    }
}

impl<IO: AsyncWrite + Unpin> Coalesced<IO> {
    /// Writes out everything held.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.buf.clear();
        self.written = 0;
        if self.buf.capacity() > 4 * HOLD {
            self.buf.shrink_to(HOLD);
        }
        Poll::Ready(Ok(()))
    }

    /// Makes room: writes out what is held once it reaches [`HOLD`].
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.buf.len() >= HOLD {
            ready!(self.poll_drain(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Coalesced<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Coalesced<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_room(cx))?;
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_room(cx))?;
        let mut n = 0;
        for b in bufs {
            self.buf.extend_from_slice(b);
            n += b.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.buf.is_empty() {
            return Pin::new(&mut self.io).poll_flush(cx);
        }
        if !self.yielded {
            // Woken from inside its own poll, a task goes to the back of the runtime's queue:
            // every task woken meanwhile (the response's, given send capacity) runs first.
            // Unlike `tokio::task::yield_now`, this does not wait for the I/O driver's next poll
            // (a system call of its own) when nothing else is ready.
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        ready!(self.poll_drain(cx))?;
        self.yielded = false;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl<IO: tonic::transport::server::Connected> tonic::transport::server::Connected
    for Coalesced<IO>
{
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::AsyncWriteExt as _;
    use tokio::sync::mpsc;

    use super::*;

    /// A connection that records each write it is given.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Recorder {
        fn writes(&self) -> Vec<Vec<u8>> {
            self.0.lock().unwrap().clone()
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.lock().unwrap().push(data.to_vec());
            Poll::Ready(Ok(data.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Like h2's connection task: writes every frame queued so far, gives the response's task
    /// send capacity after the first, then flushes; until the queue closes and all is flushed.
    async fn connection(
        mut conn: Coalesced<Recorder>,
        mut frames: mpsc::UnboundedReceiver<&'static [u8]>,
        capacity: tokio::sync::oneshot::Sender<()>,
    ) {
        let (mut open, mut capacity) = (true, Some(capacity));
        std::future::poll_fn(|cx| {
            while open {
                match frames.poll_recv(cx) {
                    Poll::Ready(Some(f)) => {
                        let n = ready!(Pin::new(&mut conn).poll_write(cx, f)).unwrap();
                        assert_eq!(n, f.len());
                        if let Some(c) = capacity.take() {
                            c.send(()).unwrap();
                        }
                    }
                    Poll::Ready(None) => open = false,
                    Poll::Pending => break,
                }
            }
            ready!(Pin::new(&mut conn).poll_flush(cx)).unwrap();
            if open { Poll::Pending } else { Poll::Ready(()) }
        })
        .await;
    }

    #[tokio::test]
    async fn what_a_task_woken_before_the_flush_writes_leaves_with_it() {
        let wire = Recorder::default();
        let (queue, frames) = mpsc::unbounded_channel();
        let (capacity, granted) = tokio::sync::oneshot::channel();
        queue.send(&b"headers+message"[..]).unwrap();
        // The response's task: the trailers follow once it has send capacity.
        tokio::spawn(async move {
            granted.await.unwrap();
            queue.send(&b"+trailers"[..]).unwrap();
        });
        tokio::spawn(connection(Coalesced::new(wire.clone()), frames, capacity))
            .await
            .unwrap();
        assert_eq!(wire.writes(), vec![b"headers+message+trailers".to_vec()]);
    }

    #[tokio::test]
    async fn writes_held_until_a_flush_leave_in_one_write() {
        let wire = Recorder::default();
        let mut conn = Coalesced::new(wire.clone());
        conn.write_all(b"headers").await.unwrap();
        conn.write_all(b"message").await.unwrap();
        assert!(wire.writes().is_empty(), "nothing leaves before the flush");
        conn.flush().await.unwrap();
        assert_eq!(wire.writes(), vec![b"headersmessage".to_vec()]);
        conn.write_all(b"trailers").await.unwrap();
        conn.flush().await.unwrap();
        assert_eq!(wire.writes().len(), 2, "each flush writes what it holds");
    }

    #[tokio::test]
    async fn a_large_response_streams_out_without_waiting_for_the_flush() {
        let wire = Recorder::default();
        let mut conn = Coalesced::new(wire.clone());
        let chunk = vec![7u8; 16 * 1024];
        for _ in 0..10 {
            conn.write_all(&chunk).await.unwrap();
        }
        let before_flush: usize = wire.writes().iter().map(Vec::len).sum();
        assert!(
            before_flush >= 160 * 1024 - HOLD - chunk.len(),
            "only about {HOLD} bytes are held: {before_flush} written of {}",
            160 * 1024
        );
        conn.shutdown().await.unwrap();
        assert_eq!(wire.writes().concat(), vec![7u8; 160 * 1024]);
    }
}
