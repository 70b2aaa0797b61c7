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
//! Wakeups come from the context's eventfd: while a future is pending, one thread of the binding per
//! context polls it, takes the queued events and wakes the future whose op ended. The events of other
//! ops it takes are set aside for [`Context::next_event`] (log and progress ones beyond 4096 dropped, as
//! the library's queue does), so a program awaiting futures takes its log events from `next_event`
//! rather than from `event_fd` and does not iterate a [`crate::Stream`] of the same context meanwhile.
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::{Read, Write};
use std::os::raw::{c_int, c_short, c_ulong};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::thread::JoinHandle;

use crate::{ffi, Context, Error, EventKind, Op, OpState};

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}
const POLLIN: c_short = 1;
const EINTR: i32 = 4;

extern "C" {
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout: c_int) -> c_int;
}

#[derive(Default)]
struct State {
    /// Pending futures by tag.
    wakers: HashMap<u64, Waker>,
    /// Tags whose OpDone the reactor took.
    done: HashSet<u64>,
    stop: bool,
}

pub(crate) struct Reactor {
    state: Mutex<State>,
    cv: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Ends the thread's poll() (when no future is left pending, or to stop): a byte written to `.0`
    /// makes `.1` readable. None: no socket pair could be made (futures then fail at their first poll).
    interrupt: Option<(UnixStream, UnixStream)>,
}

impl Default for Reactor {
    fn default() -> Reactor {
        let interrupt = UnixStream::pair()
            .ok()
            .filter(|(tx, rx)| tx.set_nonblocking(true).is_ok() && rx.set_nonblocking(true).is_ok());
        Reactor { state: Mutex::default(), cv: Condvar::new(), thread: Mutex::new(None), interrupt }
    }
}

struct CtxPtr(*mut ffi::pglift_ctx);
unsafe impl Send for CtxPtr {}

impl Reactor {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends the thread's poll() under way, if any: it then checks what is pending.
    fn interrupt(&self) {
        if let Some((tx, _)) = &self.interrupt {
            let _ = (&*tx).write(&[1]); // a full socket buffer already interrupts
        }
    }

    /// Forgets a future that resolved or was dropped; the thread stops polling when none is left.
    fn forget(&self, tag: u64) {
        let mut state = self.lock();
        state.wakers.remove(&tag);
        state.done.remove(&tag);
        if state.wakers.is_empty() {
            drop(state);
            self.interrupt();
        }
    }

    /// Stops the thread (if any) and waits for it: before the context is freed.
    pub(crate) fn shutdown(&self) {
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            self.lock().stop = true;
            self.cv.notify_all();
            self.interrupt();
            let _ = thread.join();
        }
    }
}

impl Context {
    /// `op` as a future: resolves to the op once it ended, `Ok` when it succeeded (decode its result with
    /// `op.status()`, `op.cluster()`...), else its error (a cancelled op: [`crate::ErrorKind::Cancelled`]).
    /// Dropping the future drops the op (a pending one is cancelled). The op's OpDone event is taken
    /// when the future waited for it; one that ended before the future was first polled may still
    /// come through [`Context::next_event`].
    pub fn future(&self, op: Op) -> OpFuture<'_> {
        OpFuture { ctx: self, op: Some(op) }
    }

    fn reactor_thread(self: &Context) {
        let mut slot = self.reactor.thread.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return;
        }
        let ctx = CtxPtr(self.ctx);
        let reactor: Arc<Reactor> = self.reactor.clone();
        if reactor.interrupt.is_none() {
            return;
        }
        let stash = self.stash_handle();
        *slot = Some(std::thread::spawn(move || run(ctx, &reactor, &stash)));
    }
}

/// Waits on the eventfd while futures are pending; takes the events, wakes the futures whose op ended.
fn run(ctx: CtxPtr, reactor: &Reactor, stash: &crate::Stash) {
    let fd = unsafe { ffi::pglift_ctx_event_fd(ctx.0) };
    let mut rx = match &reactor.interrupt {
        Some((_, rx)) => rx,
        None => return,
    };
    loop {
        {
            let mut state = reactor.lock();
            while state.wakers.is_empty() && !state.stop {
                state = reactor.cv.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.stop {
                return;
            }
        }
        let mut fds =
            [PollFd { fd, events: POLLIN, revents: 0 }, PollFd { fd: rx.as_raw_fd(), events: POLLIN, revents: 0 }];
        let ready = unsafe { poll(fds.as_mut_ptr(), 2, -1) };
        if ready < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(EINTR) {
                continue;
            }
            // Cannot wait on the eventfd: wake every future so that each checks its op itself.
            let wakers: Vec<Waker> = reactor.lock().wakers.drain().map(|(_, w)| w).collect();
            wakers.into_iter().for_each(Waker::wake);
            return;
        }
        if fds[1].revents != 0 {
            let mut bytes = [0u8; 64];
            while matches!(rx.read(&mut bytes), Ok(n) if n > 0) {}
            continue; // what is pending is checked first
        }
        loop {
            let mut ev = std::ptr::null_mut();
            if unsafe { ffi::pglift_ctx_next_event(ctx.0, 0, &mut ev) } != 1 {
                break; // empty, or a wakeup (shutdown's: checked above)
            }
            let event = unsafe { crate::Event::take(ev) };
            let mut state = reactor.lock();
            if state.stop {
                drop(state);
                stash.push(event);
                return;
            }
            if let EventKind::OpDone { .. } = event.kind {
                if let Some(waker) = state.wakers.remove(&event.tag) {
                    state.done.insert(event.tag);
                    drop(state);
                    waker.wake();
                    continue;
                }
            }
            drop(state);
            stash.push(event);
        }
    }
}

/// An [`Op`] awaited: see [`Context::future`].
pub struct OpFuture<'a> {
    ctx: &'a Context,
    op: Option<Op>,
}

impl OpFuture<'_> {
    fn ended(&self, op: &Op) -> bool {
        op.state() != OpState::Pending || self.ctx.reactor.lock().done.contains(&op.tag())
    }
}

impl Future for OpFuture<'_> {
    type Output = Result<Op, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<Op, Error>> {
        let this = self.get_mut();
        let op = this.op.as_ref().expect("an OpFuture polled after it resolved");
        let tag = op.tag();
        if !this.ended(op) {
            if this.ctx.reactor.interrupt.is_none() {
                return Poll::Ready(Err(Error::local(
                    -14,
                    "cannot await an op: no socket pair for the futures' thread",
                )));
            }
            this.ctx.reactor.lock().wakers.insert(tag, cx.waker().clone());
            this.ctx.reactor_thread();
            this.ctx.reactor.cv.notify_all();
            // Ended meanwhile (its OpDone taken before the waker was there): not pending after all.
            if !this.ended(op) && !this.ctx.stash_has_done(tag) {
                return Poll::Pending;
            }
        }
        let op = this.op.take().expect("checked above");
        this.ctx.reactor.forget(tag);
        this.ctx.unstash_done(tag); // its OpDone, if set aside
        op.wait(Some(std::time::Duration::from_secs(5))); // final once its OpDone is queued
        Poll::Ready(op.outcome().map(|_| op))
    }
}

impl Drop for OpFuture<'_> {
    fn drop(&mut self) {
        if let Some(op) = &self.op {
            self.ctx.reactor.forget(op.tag());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pollfd_is_the_c_layout() {
        assert_eq!(std::mem::size_of::<PollFd>(), 8);
    }
}
