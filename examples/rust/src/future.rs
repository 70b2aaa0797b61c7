//! Ops as `std::future::Future`s, for any executor and without crates: [`Context::future`] turns an
//! [`Op`] into an [`OpFuture`] resolving to the op once it succeeded (decode its result as usual), or its
//! error.
//!
//! ```no_run
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output { unimplemented!() }
//! let ctx = pglift::Context::new()?;
//! let op = block_on(ctx.future(ctx.status_async("15/main", 1)?))?;
//! assert!(op.status()?.running());
//! # Ok::<(), pglift::Error>(())
//! ```
//!
//! While a future is pending, one thread of the binding per context takes the events from the C queue
//! when no other thread does (a stream's reader, a `next_event`): through the context's router (see
//! [`crate::Context::next_event`]), which wakes the future whose op ended, and gives the other events to
//! their owners (a stream, `next_event`). Futures, streams and `next_event` may thus be used at once,
//! from any threads.
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::thread::JoinHandle;

use crate::router::{Router, Routes};
use crate::{Context, Error, EventKind, Op, OpState};

/// How long a future whose op ended waits for that op's OpDone to reach the router (it is queued right
/// after the state is final; only a program that took it with `next_event` first makes this wait whole).
const OPDONE_ON_ITS_WAY: std::time::Duration = std::time::Duration::from_secs(1);

/// The futures' thread of a context: started at the first pending future, stopped with the context.
#[derive(Default)]
pub(crate) struct Reactor {
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Reactor {
    /// Stops the thread (if any) and waits for it: before the context is freed.
    pub(crate) fn shutdown(&self, router: &Router) {
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            router.lock().stop = true;
            router.cv.notify_all();
            router.interrupt();
            let _ = thread.join();
        }
    }
}

/// While futures are pending, pumps the C queue (or waits while another thread does).
fn run(router: &Router) {
    loop {
        {
            let mut routes = router.lock();
            while routes.wakers.is_empty() && !routes.stop {
                routes = router.cv.wait(routes).unwrap_or_else(|p| p.into_inner());
            }
            if routes.stop {
                return;
            }
        }
        router.wait_for(None, false, |r| if r.stop || r.wakers.is_empty() { Some(()) } else { None });
    }
}

impl Context {
    /// `op` as a future: resolves to the op once it ended, `Ok` when it succeeded (decode its result with
    /// `op.status()`, `op.cluster()`...), else its error (a cancelled op: [`crate::ErrorKind::Cancelled`]).
    /// A resolved future took its op's OpDone event: `next_event` does not return it. Dropping an
    /// unresolved future drops the op (a pending one is cancelled; its OpDone then comes through
    /// [`Context::next_event`]).
    pub fn future(&self, op: Op) -> OpFuture<'_> {
        OpFuture { ctx: self, op: Some(op) }
    }

    fn reactor_thread(&self) {
        let mut slot = self.reactor.thread.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let router: Arc<Router> = self.router.clone();
            *slot = Some(std::thread::spawn(move || run(&router)));
        }
    }
}

/// An [`Op`] awaited: see [`Context::future`].
pub struct OpFuture<'a> {
    ctx: &'a Context,
    op: Option<Op>,
}

impl Future for OpFuture<'_> {
    type Output = Result<Op, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<Op, Error>> {
        let this = self.get_mut();
        let op = this.op.as_ref().expect("an OpFuture polled after it resolved");
        let tag = op.tag();
        // Its OpDone, routed to it (`done`) or, when it ended before the future waited, to next_event's stash.
        let take_done = move |r: &mut Routes| {
            if r.done.remove(&tag).is_some() {
                return Some(());
            }
            let i = r.stash.iter().position(|e| e.tag == tag && matches!(e.kind, EventKind::OpDone { .. }))?;
            r.stash.remove(i);
            Some(())
        };
        let mut routes = this.ctx.router.lock();
        if take_done(&mut routes).is_none() {
            // Pending under the lock, its OpDone is not routed yet: it will wake this waker.
            routes.wakers.insert(tag, cx.waker().clone());
            if op.state() == OpState::Pending {
                drop(routes);
                this.ctx.reactor_thread();
                this.ctx.router.cv.notify_all();
                return Poll::Pending;
            }
            // Ended, its OpDone about to be queued or routed (the state is final first): take it, so that
            // next_event does not return it. Short: it is on its way (unless next_event already took it).
            drop(routes);
            this.ctx.router.wait_for(Some(OPDONE_ON_ITS_WAY), false, take_done);
            routes = this.ctx.router.lock();
        }
        if routes.wakers.remove(&tag).is_some() && routes.wakers.is_empty() {
            drop(routes);
            this.ctx.router.interrupt(); // the futures' thread stops pumping
        } else {
            drop(routes);
        }
        let op = this.op.take().expect("checked above");
        op.wait(Some(std::time::Duration::from_secs(5))); // final once its OpDone is queued
        Poll::Ready(op.outcome().map(|_| op))
    }
}

impl Drop for OpFuture<'_> {
    fn drop(&mut self) {
        if let Some(op) = &self.op {
            let tag = op.tag();
            let mut routes = self.ctx.router.lock();
            let waited = routes.wakers.remove(&tag).is_some();
            if let Some(done) = routes.done.remove(&tag) {
                routes.stash(done); // routed to the future, never taken: next_event has it
            }
            let idle = waited && routes.wakers.is_empty();
            drop(routes);
            if idle {
                self.ctx.router.interrupt();
            }
        }
    }
}
