//! Streams: a PostgreSQL log as chunks of text ([`Context::follow_logs`], [`Context::read_logs`]) and a
//! Patroni cluster's changes as [`ClusterEvent`]s ([`Context::watch_cluster`]), as iterators over the
//! DATA events of a streaming op.
//!
//! ```no_run
//! let ctx = pglift::Context::new()?;
//! for chunk in ctx.follow_logs("15/main")? {
//!     let chunk = chunk?; // whole lines of the log
//!     if chunk.contains("database system is ready") {
//!         break; // dropping the stream cancels its op
//!     }
//! }
//! # Ok::<(), pglift::Error>(())
//! ```
//!
//! A stream's items and end reach it whichever thread takes them from the context's queue (its own
//! reader, another stream's, a `next_event`, the futures' thread): see [`Context::next_event`]. They are
//! kept as the library's events until the reader takes them, so a stream holds at most its window
//! ([`Context::set_stream_window`]) of items, and one nobody reads stops by itself, nothing lost, while
//! the context's other events flow. Its op's own log records go to `next_event`. A stream is `Send`:
//! iterate it on any thread, while others use the same context.
use std::collections::VecDeque;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::router::Item;
use crate::{cstring, ffi, Context, Error, Event, EventKind, Json, Op, OpState};

type OpOut = *mut *mut ffi::pglift_op;
type Err = *mut *mut ffi::pglift_error;
type Ctx = *mut ffi::pglift_ctx;

extern "C" {
    fn pglift_instance_logs(ctx: Ctx, instance: *const c_char, out_text: *mut *mut c_char, err: Err) -> c_int;
    fn pglift_instance_logs_async(
        ctx: Ctx,
        instance: *const c_char,
        follow: c_int,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;
    fn pglift_cluster_watch_async(ctx: Ctx, instance: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
}

/// The tags of the streams this binding starts: high bit set, never reused in a process.
static NEXT_STREAM_TAG: AtomicU64 = AtomicU64::new(1);
const STREAM_TAG_BIT: u64 = 1 << 63;

fn stream_tag() -> u64 {
    STREAM_TAG_BIT | NEXT_STREAM_TAG.fetch_add(1, Ordering::Relaxed)
}

/// A change of a Patroni cluster, as its keys in etcd show it.
///
/// | kind | member | before / after |
/// |---|---|---|
/// | leader_changed | the new leader (the old one when none leads) | the leaders |
/// | member_added | the member | None / its role |
/// | member_removed | the member | its role / None |
/// | role_changed, state_changed | the member | the role or state before / after |
/// | paused, resumed | "" | None |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterEvent {
    pub kind: String,
    pub member: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// The etcd revision of the change (of the snapshot for the first events).
    pub revision: i64,
}

impl ClusterEvent {
    pub fn from_json(text: &str) -> Result<ClusterEvent, Error> {
        let v = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
        let s = |key: &str| v.get(key).and_then(Json::as_str).map(str::to_string);
        Ok(ClusterEvent {
            kind: s("kind").ok_or_else(|| Error::decode("kind"))?,
            member: s("member").ok_or_else(|| Error::decode("member"))?,
            before: s("before"),
            after: s("after"),
            revision: v.get("revision").and_then(Json::as_i64).ok_or_else(|| Error::decode("revision"))?,
        })
    }
}

fn log_chunk(text: &str) -> Result<String, Error> {
    Ok(text.to_string())
}

/// The items of a streaming op: an iterator of `Result<T, Error>`, ending (None) when the op ends;
/// a failed op yields its error last. Dropping an unfinished stream cancels its op and frees the items it
/// holds; what of it still comes is freed as it comes (nothing of it reaches `next_event`). See the module
/// documentation for how it shares the context's queue.
pub struct Stream<'a, T> {
    ctx: &'a Context,
    op: Op,
    decode: fn(&str) -> Result<T, Error>,
    timeout: Option<Duration>,
    ended: bool,
}

/// Chunks of log text (whole lines).
pub type LogStream<'a> = Stream<'a, String>;
/// The changes of a Patroni cluster.
pub type ClusterWatch<'a> = Stream<'a, ClusterEvent>;

impl<'a, T> Stream<'a, T> {
    /// Wait at most `timeout` for each item: past it, the iterator yields an [`crate::ErrorKind::Timeout`]
    /// error (retriable) and the stream goes on.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The op behind the stream (its tag, its state).
    pub fn op(&self) -> &Op {
        &self.op
    }

    /// Cancels the op: the items already queued still come, then the iterator ends.
    pub fn cancel(&self) {
        self.op.cancel()
    }

    /// How many items (and its end) wait in the stream's buffer: at most its window.
    pub fn buffered(&self) -> usize {
        self.ctx.router.lock().streams.get(&self.op.tag()).map_or(0, |items| items.len())
    }

    /// The next item, waiting up to `timeout` (None: no limit): None when the stream ended, an
    /// [`crate::ErrorKind::Timeout`] error when nothing came in time.
    pub fn next_within(&mut self, timeout: Option<Duration>) -> Option<Result<T, Error>> {
        if self.ended {
            return None;
        }
        let tag = self.op.tag();
        let item = self.ctx.router.wait_for(timeout, false, |r| r.streams.get_mut(&tag).and_then(VecDeque::pop_front));
        match item {
            None => {
                let mut e = Error::local(-8, "no item of the stream in time");
                e.retriable = true;
                Some(Err(e))
            }
            Some(Item::Data(raw)) => {
                let text = Event::of(&raw).message;
                drop(raw); // frees its place in the window
                Some((self.decode)(&text))
            }
            Some(Item::Done(Event { kind, message, .. })) => {
                self.ended = true;
                self.ctx.router.lock().streams.remove(&tag);
                match kind {
                    EventKind::OpDone { state: OpState::Failed, status } => {
                        // The op's state is final once its OpDone is queued; its error has every field.
                        self.op.wait(Some(Duration::from_secs(5)));
                        Some(Err(self.op.outcome().err().unwrap_or_else(|| Error::local(status, &message))))
                    }
                    _ => None, // succeeded (read to the end) or cancelled
                }
            }
        }
    }
}

impl<T> Iterator for Stream<'_, T> {
    type Item = Result<T, Error>;
    fn next(&mut self) -> Option<Result<T, Error>> {
        self.next_within(self.timeout)
    }
}

impl<T> Drop for Stream<'_, T> {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        self.op.cancel();
        let tag = self.op.tag();
        let items = {
            let mut routes = self.ctx.router.lock();
            let items = routes.streams.remove(&tag).unwrap_or_default();
            if !items.iter().any(|i| matches!(i, Item::Done(_))) {
                routes.discard.insert(tag); // its OpDone (and any DATA) still to come: freed as they come
            }
            items
        };
        drop(items); // the kept C events freed (the op itself is freed with `self.op`)
    }
}

impl Context {
    /// Registers the stream's buffer before its op starts (so that its first item finds it).
    fn stream<T>(
        &self,
        start: impl FnOnce(u64) -> Result<Op, Error>,
        decode: fn(&str) -> Result<T, Error>,
    ) -> Result<Stream<'_, T>, Error> {
        let tag = stream_tag();
        self.router.lock().streams.insert(tag, VecDeque::new());
        match start(tag) {
            Ok(op) => Ok(Stream { ctx: self, op, decode, timeout: None, ended: false }),
            Err(e) => {
                self.router.lock().streams.remove(&tag);
                Err(e)
            }
        }
    }

    /// The instance's current PostgreSQL log file as text (not followed). Passwords are masked.
    pub fn instance_logs(&self, instance: &str) -> Result<String, Error> {
        let name = cstring(instance)?;
        self.json_call(|out, e| unsafe { pglift_instance_logs(self.ctx, name.as_ptr(), out, e) })
    }

    /// Follows the instance's PostgreSQL log (from the current file's start, across rotations) until the
    /// stream is dropped or cancelled: chunks of whole lines.
    pub fn follow_logs(&self, instance: &str) -> Result<LogStream<'_>, Error> {
        self.stream(|tag| self.instance_logs_async(instance, true, tag), log_chunk)
    }

    /// The current log file's content as chunks; the stream ends after it.
    pub fn read_logs(&self, instance: &str) -> Result<LogStream<'_>, Error> {
        self.stream(|tag| self.instance_logs_async(instance, false, tag), log_chunk)
    }

    /// Watches the Patroni cluster of member `instance` in its DCS until the stream is dropped or
    /// cancelled: first the current state (member_added for each member, leader_changed from None,
    /// paused when paused), then one event per change. Ends with an error: not a Patroni member
    /// ([`crate::ErrorKind::State`]), etcd gone for more than 30 s ([`crate::ErrorKind::Dcs`]).
    pub fn watch_cluster(&self, instance: &str) -> Result<ClusterWatch<'_>, Error> {
        self.stream(|tag| self.cluster_watch_async(instance, tag), ClusterEvent::from_json)
    }

    /// The raw op behind [`Context::follow_logs`] / [`Context::read_logs`]: DATA events (target "log")
    /// tagged `tag`, then its OpDone.
    pub fn instance_logs_async(&self, instance: &str, follow: bool, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_instance_logs_async(self.ctx, name.as_ptr(), follow as c_int, tag, o, e) })
    }

    /// The raw op behind [`Context::watch_cluster`]: DATA events (target "cluster", decode with
    /// [`ClusterEvent::from_json`]) tagged `tag` until cancelled.
    pub fn cluster_watch_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_cluster_watch_async(self.ctx, name.as_ptr(), tag, o, e) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_cluster_events() {
        let e = ClusterEvent::from_json(
            r#"{"kind": "leader_changed", "member": "pg2", "before": "pg1", "after": "pg2", "revision": 42}"#,
        )
        .unwrap();
        assert_eq!(
            e,
            ClusterEvent {
                kind: "leader_changed".into(),
                member: "pg2".into(),
                before: Some("pg1".into()),
                after: Some("pg2".into()),
                revision: 42
            }
        );
        let e = ClusterEvent::from_json(
            r#"{"kind": "paused", "member": "", "before": null, "after": null, "revision": 7}"#,
        )
        .unwrap();
        assert_eq!((e.before, e.after, e.revision), (None, None, 7));
        assert!(ClusterEvent::from_json(r#"{"kind": "paused"}"#).is_err());
    }

    #[test]
    fn stream_tags_are_unique_and_marked() {
        let (a, b) = (stream_tag(), stream_tag());
        assert!(a != b && a & STREAM_TAG_BIT != 0 && b & STREAM_TAG_BIT != 0);
    }
}
