//! Ops as `std::future::Future`s, driven by a minimal executor (no crates): the futures are woken
//! through the context's eventfd, two at once; a failure is the error; the other events stay available
//! to `next_event`. Run through tests/capi/with_prefix.sh (a throw-away prefix).
use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use pglift::{Context, ErrorKind, EventKind, InstanceSpec, OpState, StopMode};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Unparks the executor's thread, counting the wakes.
struct Unpark(Thread, AtomicUsize);
impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it is ready, parking in between (woken only by its waker),
/// failing past `limit`. Returns the output and how many wakes it took.
fn block_on<F: Future>(future: F, limit: Duration) -> (F::Output, usize) {
    let unpark = Arc::new(Unpark(std::thread::current(), AtomicUsize::new(0)));
    let waker = Waker::from(unpark.clone());
    let mut cx = TaskContext::from_waker(&waker);
    let mut future = Box::pin(future);
    let deadline = Instant::now() + limit;
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return (out, unpark.1.load(Ordering::SeqCst));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the future was not ready within {:?} (never woken?)", limit);
        std::thread::park_timeout(left); // unparked by the waker; spurious returns poll again
    }
}

/// Both futures to completion, polled in turn (a join without crates; std's poll_fn needs Rust 1.64).
struct Both<A: Future, B: Future>(A, B, Option<A::Output>, Option<B::Output>);

impl<A: Future + Unpin, B: Future + Unpin> Future for Both<A, B>
where
    A::Output: Unpin,
    B::Output: Unpin,
{
    type Output = (A::Output, B::Output);
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.2.is_none() {
            if let Poll::Ready(v) = Pin::new(&mut this.0).poll(cx) {
                this.2 = Some(v);
            }
        }
        if this.3.is_none() {
            if let Poll::Ready(v) = Pin::new(&mut this.1).poll(cx) {
                this.3 = Some(v);
            }
        }
        if this.2.is_some() && this.3.is_some() {
            Poll::Ready((this.2.take().unwrap(), this.3.take().unwrap()))
        } else {
            Poll::Pending
        }
    }
}

#[test]
fn ops_as_futures() {
    let ctx = Context::new().unwrap();
    let spec = InstanceSpec::new("rsfut").version("15").port(free_port());
    let (created, wakes) = block_on(ctx.future(ctx.create_async(&spec, 1).unwrap()), Duration::from_secs(180));
    let created = created.unwrap().instance().unwrap();
    assert!(wakes >= 1, "a creation is not ready at once: it was woken");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_eq!((created.name.as_str(), created.state.as_str()), ("rsfut", "started"));

        // Two at once: a restart and a failing get; each resolves, the failure as its error.
        let restart = ctx.future(ctx.restart_async("15/rsfut", StopMode::Fast, 2).unwrap());
        let missing = ctx.future(ctx.get_async("15/nosuch", 3).unwrap());
        let ((restarted, missing), _) = block_on(Both(restart, missing, None, None), Duration::from_secs(120));
        assert_eq!(restarted.unwrap().result_json().unwrap(), None);
        assert_eq!(missing.err().map(|e| e.kind()), Some(ErrorKind::NotFound));
        let (status, _) = block_on(ctx.future(ctx.status_async("15/rsfut", 4).unwrap()), Duration::from_secs(60));
        assert!(status.unwrap().status().unwrap().running());

        // The log events of the awaited ops are still there for next_event (set aside or queued).
        let mut logs = Vec::new();
        while let Some(event) = ctx.next_event(Some(Duration::ZERO)) {
            if let EventKind::Log { .. } = event.kind {
                logs.push((event.tag, event.message));
            }
        }
        assert!(logs.contains(&(2, "restarting instance 15/rsfut".to_string())), "{:?}", logs);

        // A dropped future cancels its op (its OpDone comes through next_event: no future is pending).
        let future =
            ctx.future(ctx.create_async(&InstanceSpec::new("rsfut2").version("15").port(free_port()), 5).unwrap());
        drop(future);
        loop {
            let event = ctx.next_event(Some(Duration::from_secs(120))).expect("no OpDone for the dropped future's op");
            if let (5, EventKind::OpDone { state, .. }) = (event.tag, &event.kind) {
                assert_eq!(*state, OpState::Cancelled);
                break;
            }
        }
        assert!(ctx.get("15/rsfut2").is_err(), "the cancelled creation was reverted");
    }));
    ctx.drop_instance("15/rsfut").unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
