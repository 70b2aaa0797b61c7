//! One context shared by a stream's reader, futures and `next_event` on several threads (the router),
//! and the stream window: an unread stream holds at most its window of items while other ops complete,
//! then yields them all, in order. Against a real PostgreSQL 15; run through tests/capi/with_prefix.sh.
use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use pglift::{Context, ErrorKind, EventKind, InstanceSpec, OpState};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Unpark(Thread);
impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until ready, parking in between (woken only by its waker); fails past
/// `limit`.
fn block_on<F: Future>(future: F, limit: Duration) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    let mut future = Box::pin(future);
    let deadline = Instant::now() + limit;
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the future was not ready within {:?} (never woken?)", limit);
        std::thread::park_timeout(left);
    }
}

/// The statement's text as PostgreSQL logs it (log_statement = all).
fn marker(name: &str, i: usize) -> String {
    format!("SELECT '{}-{:02}'", name, i)
}

/// Each of the `n` markers once in `text`, in order.
fn check_markers(text: &str, name: &str, n: usize) {
    let mut at = 0;
    for i in 0..n {
        let m = marker(name, i);
        assert_eq!(text.matches(&m).count(), 1, "{} is not in the stream exactly once: {}", m, text);
        let pos = text.find(&m).unwrap();
        assert!(pos >= at, "{} came out of order: {}", m, text);
        at = pos;
    }
}

#[test]
fn streams_futures_and_next_event_share_a_context() {
    let ctx = Context::new().unwrap();
    let spec = InstanceSpec::new("rsroute").version("15").port(free_port()).setting("log_statement", "all");
    ctx.create(&spec).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        two_threads(&ctx);
        wakeup_while_a_stream_pumps(&ctx);
        window(&ctx);
    }));
    ctx.drop_instance("15/rsroute").unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// A thread iterates a followed log while this one awaits futures and calls next_event on the same
/// context: each gets what is its own (the stream every marker once, in order; the futures their end;
/// next_event nothing of either). With a binding where each taker keeps what it takes, next_event here
/// would take the stream's items (the stream then misses markers) and futures could hang.
fn two_threads(ctx: &Context) {
    const N: usize = 10;
    let stream = ctx.follow_logs("15/rsroute").unwrap().with_timeout(Duration::from_secs(30));
    let stream_tag = stream.op().tag();
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut stream = stream;
            let mut seen = String::new();
            while !seen.contains(&marker("two", N - 1)) {
                match stream.next() {
                    Some(Ok(chunk)) => seen.push_str(&chunk),
                    other => panic!("following the log: {:?} (seen so far: {})", other.map(|r| r.err()), seen),
                }
            }
            seen // the stream dropped here: cancelled, its rest freed
        });
        let mut events = Vec::new();
        for i in 0..N {
            ctx.run_sql("15/rsroute", &marker("two", i), &["postgres"], &[]).unwrap();
            let tag = 100 + i as u64;
            let op = block_on(ctx.future(ctx.status_async("15/rsroute", tag).unwrap()), Duration::from_secs(60));
            assert!(op.unwrap().status().unwrap().running());
            while let Some(event) = ctx.next_event(Some(Duration::from_millis(20))) {
                events.push(event);
            }
        }
        let seen = reader.join().expect("the stream's reader failed");
        check_markers(&seen, "two", N);
        for event in &events {
            assert_ne!(event.tag, stream_tag, "next_event returned an event of the stream: {:?}", event);
            assert!(
                !(event.tag >= 100 && matches!(event.kind, EventKind::OpDone { .. })),
                "next_event returned the end of an awaited op: {:?}",
                event
            );
        }
    });
    // Nothing of the dropped stream reaches next_event later either.
    while let Some(event) = ctx.next_event(Some(Duration::from_millis(100))) {
        assert_ne!(event.tag, stream_tag, "an event of the dropped stream came: {:?}", event);
    }
}

/// A wakeup ends a `next_event` waiting in another thread while a stream's reader is the thread taking
/// the library's events (the wakeup is the router's, not lost to the reader).
fn wakeup_while_a_stream_pumps(ctx: &Context) {
    let mut stream = ctx.follow_logs("15/rsroute").unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let began = Instant::now();
            // Events of the program (the follow's own log records, if any) are not what it waits for.
            while ctx.next_event(Some(Duration::from_secs(20).saturating_sub(began.elapsed()))).is_some() {}
            began.elapsed()
        });
        // The reader takes the library's events (the log's current content, then waits).
        let first = stream.next_within(Some(Duration::from_secs(10)));
        assert!(matches!(first, Some(Ok(_))), "{:?}", first.map(|r| r.err()));
        let reader = s.spawn(move || {
            let _ = stream.next_within(Some(Duration::from_secs(3)));
        });
        ctx.wakeup();
        let waited = waiter.join().unwrap();
        reader.join().unwrap();
        assert!(waited < Duration::from_secs(10), "the wakeup did not end next_event ({:?})", waited);
    });
}

/// Window 4: a stream nobody reads while 30 statements are logged holds at most 4 items (then stops),
/// a get awaited meanwhile completes, and the stream then yields every marker once, in order. With the
/// default window (256), or a binding that copies and frees the items it routes, it would hold far more
/// than 4 of them.
fn window(ctx: &Context) {
    const N: usize = 30;
    const W: usize = 4;
    let e = ctx.set_stream_window(0).unwrap_err();
    assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "window"), "{}", e);
    ctx.set_stream_window(W).unwrap();
    let mut stream = ctx.follow_logs("15/rsroute").unwrap().with_timeout(Duration::from_secs(30));
    ctx.set_stream_window(256).unwrap(); // streams started from now on; this one keeps 4
    let mut most = 0;
    for i in 0..N {
        let before = stream.buffered();
        ctx.run_sql("15/rsroute", &marker("win", i), &["postgres"], &[]).unwrap();
        // Let this statement's line come (routed by next_event), or the stream stop at its window; the
        // logging collector may lag, hence the deadline.
        let deadline = Instant::now() + Duration::from_secs(5);
        while stream.buffered() < (before + 1).min(W) && Instant::now() < deadline {
            ctx.next_event(Some(Duration::from_millis(20)));
        }
        most = most.max(stream.buffered());
        assert!(stream.buffered() <= W, "the stream holds {} items (window {})", stream.buffered(), W);
    }
    // Other ops complete meanwhile: a get, awaited.
    let got = block_on(ctx.future(ctx.get_async("15/rsroute", 200).unwrap()), Duration::from_secs(60));
    assert_eq!(got.unwrap().instance().unwrap().name, "rsroute");
    // Taking events for a while brings no fifth item: the stream waits, pending.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        ctx.next_event(Some(Duration::from_millis(50)));
        most = most.max(stream.buffered());
    }
    assert_eq!((most, stream.buffered()), (W, W), "an unread stream stops at its window");
    assert_eq!(stream.op().state(), OpState::Pending);
    // Read: every marker once, in order.
    let mut seen = String::new();
    while !seen.contains(&marker("win", N - 1)) {
        match stream.next() {
            Some(Ok(chunk)) => seen.push_str(&chunk),
            other => panic!("reading the stream: {:?} (seen so far: {})", other.map(|r| r.err()), seen),
        }
        assert!(stream.buffered() <= W);
    }
    check_markers(&seen, "win", N);
}
