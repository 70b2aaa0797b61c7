//! One router per [`crate::Context`]: whoever takes an event from the C queue (a stream's `next`, the
//! futures' thread, `next_event`, `drain_until_done`) routes it to its owner, under one mutex:
//!
//! - a DATA event or the OpDone of an open stream goes to that stream's buffer; a DATA event is kept as
//!   the C event itself (not freed) until the stream's reader takes it, so that the library's stream
//!   window (`pglift_ctx_set_stream_window`) bounds the buffer and a stream nobody reads stops by itself;
//! - the DATA events and OpDone of a dropped stream, and the OpDone of a resolved future that it did
//!   not see, are freed as they come;
//! - the OpDone of an op awaited as a future is kept for it and its waker woken;
//! - everything else (log and progress events, other ops' OpDone) goes to the stash that
//!   `next_event` returns.
//!
//! One thread at a time waits in `pglift_ctx_next_event` (the pumping thread); the others wait on the
//! condition variable, which the pumping thread notifies after each event, or pump themselves once it
//! is done. So streams, futures and `next_event` may be used at once, from several threads.
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::raw::c_int;
use std::ptr;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::{ffi, Event};

/// A C event owned by the binding: freed on drop. Kept for a stream's DATA until its reader takes it.
pub(crate) struct RawEvent(*mut ffi::pglift_event);

// An event is immutable and may be read and freed from any thread (capi/pglift.h).
unsafe impl Send for RawEvent {}

impl RawEvent {
    pub(crate) fn kind(&self) -> c_int {
        unsafe { ffi::pglift_event_kind_of(self.0) }
    }
    pub(crate) fn tag(&self) -> u64 {
        unsafe { ffi::pglift_event_tag(self.0) }
    }
    pub(crate) fn as_ptr(&self) -> *const ffi::pglift_event {
        self.0
    }
}

impl Drop for RawEvent {
    fn drop(&mut self) {
        unsafe { ffi::pglift_event_free(self.0) }
    }
}

/// What a stream's buffer holds: its items (C events, counted by the window), then its OpDone.
pub(crate) enum Item {
    Data(RawEvent),
    Done(Event),
}

/// Events set aside for `next_event`: at most STASH_CAPACITY; beyond, the oldest log or progress one is
/// dropped (counted), as the library's queue does.
pub(crate) const STASH_CAPACITY: usize = 4096;

#[derive(Default)]
pub(crate) struct Routes {
    /// A thread waits in pglift_ctx_next_event.
    pumping: bool,
    /// A [`crate::Context::wakeup`] not yet returned by a `next_event`.
    pub(crate) wakeup: bool,
    /// Events for `next_event`.
    pub(crate) stash: VecDeque<Event>,
    /// Log and progress events dropped from a full stash.
    pub(crate) dropped: u64,
    /// The buffers of open streams, by tag.
    pub(crate) streams: HashMap<u64, VecDeque<Item>>,
    /// Tags whose DATA and OpDone are freed as they come (until that OpDone).
    pub(crate) discard: HashSet<u64>,
    /// Pending futures, by tag.
    pub(crate) wakers: HashMap<u64, Waker>,
    /// OpDone events of futures, routed to them and not yet taken by their poll.
    pub(crate) done: HashMap<u64, Event>,
    /// The context is going away: the futures' thread stops.
    pub(crate) stop: bool,
}

impl Routes {
    pub(crate) fn stash(&mut self, event: Event) {
        if self.stash.len() >= STASH_CAPACITY {
            let droppable =
                |e: &Event| matches!(e.kind, crate::EventKind::Log { .. } | crate::EventKind::Progress { .. });
            if let Some(i) = self.stash.iter().position(droppable) {
                self.stash.remove(i);
                self.dropped += 1;
            }
        }
        self.stash.push_back(event);
    }

    /// An event to its owner; returns the waker to wake (after the lock is released).
    fn route(&mut self, raw: RawEvent) -> Option<Waker> {
        let (kind, tag) = (raw.kind(), raw.tag());
        if kind == ffi::PGLIFT_EVENT_DATA || kind == ffi::PGLIFT_EVENT_OP_DONE {
            if let Some(items) = self.streams.get_mut(&tag) {
                items.push_back(if kind == ffi::PGLIFT_EVENT_DATA {
                    Item::Data(raw)
                } else {
                    Item::Done(Event::of(&raw))
                });
                return None;
            }
            if self.discard.contains(&tag) {
                if kind == ffi::PGLIFT_EVENT_OP_DONE {
                    self.discard.remove(&tag);
                }
                return None; // `raw` freed here
            }
            if kind == ffi::PGLIFT_EVENT_OP_DONE {
                if let Some(waker) = self.wakers.remove(&tag) {
                    self.done.insert(tag, Event::of(&raw));
                    return Some(waker);
                }
            }
        }
        self.stash(Event::of(&raw));
        None
    }
}

pub(crate) struct CtxPtr(pub(crate) *mut ffi::pglift_ctx);
// The context is thread-safe (capi/pglift.h); the pointer outlives every user (see Context's Drop).
unsafe impl Send for CtxPtr {}
unsafe impl Sync for CtxPtr {}

pub(crate) struct Router {
    ctx: CtxPtr,
    routes: Mutex<Routes>,
    pub(crate) cv: Condvar,
}

impl Router {
    pub(crate) fn new(ctx: *mut ffi::pglift_ctx) -> Router {
        Router { ctx: CtxPtr(ctx), routes: Mutex::default(), cv: Condvar::new() }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends the C wait of the pumping thread (if any), which then checks what it waits for. A C wakeup
    /// nobody takes only makes the next pumping round return at once.
    pub(crate) fn interrupt(&self) {
        unsafe { ffi::pglift_ctx_wakeup(self.ctx.0) }
    }

    /// Waits until `ready` (called under the lock) returns Some, pumping the C queue when no other thread
    /// does. None once `timeout` passed (None: no limit; zero: what is there, one poll at most), or, when
    /// `wakeup_ends`, on a [`crate::Context::wakeup`] (consumed).
    pub(crate) fn wait_for<R>(
        &self,
        timeout: Option<Duration>,
        wakeup_ends: bool,
        mut ready: impl FnMut(&mut Routes) -> Option<R>,
    ) -> Option<R> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut polled = false;
        let mut routes = self.lock();
        loop {
            if let Some(r) = ready(&mut routes) {
                return Some(r);
            }
            if wakeup_ends && routes.wakeup {
                routes.wakeup = false;
                return None;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) && (polled || routes.pumping) {
                return None;
            }
            if routes.pumping {
                routes = match left {
                    None => self.cv.wait(routes).unwrap_or_else(|p| p.into_inner()),
                    Some(l) => self.cv.wait_timeout(routes, l).unwrap_or_else(|p| p.into_inner()).0,
                };
                continue;
            }
            routes.pumping = true;
            drop(routes);
            let mut ev = ptr::null_mut();
            // Rounded up: a wait of less than 1 ms left is not a poll.
            let ms = left.map_or(-1, |l| ((l.as_nanos() + 999_999) / 1_000_000).min(c_int::MAX as u128) as c_int);
            let got = unsafe { ffi::pglift_ctx_next_event(self.ctx.0, ms, &mut ev) } == 1;
            routes = self.lock();
            routes.pumping = false;
            polled = true;
            let waker = if got { routes.route(RawEvent(ev)) } else { None };
            self.cv.notify_all();
            if let Some(waker) = waker {
                if routes.wakers.is_empty() {
                    self.interrupt(); // the futures' thread, if it is waiting in the C queue, stops
                }
                drop(routes);
                waker.wake();
                routes = self.lock();
            }
        }
    }
}
