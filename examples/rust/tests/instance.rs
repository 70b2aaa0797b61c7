//! Against a real PostgreSQL 15; run through tests/capi/with_prefix.sh (a throw-away prefix): see
//! README.md. One test function: the instances are created one after the other.
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use pglift::{Context, DropOptions, ErrorKind, EventKind, InstanceSpec, OpState, StartOptions, StopMode};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn prefix() -> String {
    std::env::var("LIBPGLIFT_TEST_PREFIX").expect("run through tests/capi/with_prefix.sh")
}

#[test]
fn errors_are_values() {
    let ctx = Context::new().unwrap();
    let e = ctx.get("15/missing").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.status_name(), "not_found");
    let e = ctx.create(&InstanceSpec::new("bad/name")).unwrap_err();
    assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "name"));
    assert_eq!(ctx.get("nul\0byte").unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert!(ctx.list(None).unwrap().is_empty());
    assert_eq!(Context::with_settings_json(r#"{"nope": 1}"#).err().map(|e| e.kind()), Some(ErrorKind::Settings));
    assert!(pglift::version().starts_with("0."));
}

#[test]
fn instance_life() {
    let ctx = Context::new().unwrap();
    let port = free_port();
    let created = ctx.create(&InstanceSpec::new("rs").version("15").port(port)).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_eq!((created.name.as_str(), created.version.as_str(), created.port), ("rs", "15", port));
        assert_eq!(created.state, "started");

        let got = ctx.get("15/rs").unwrap();
        assert_eq!(got.data_directory, Path::new(&prefix()).join("srv/pgsql/15/rs/data"));
        assert!(got.data_directory.is_dir());
        assert_eq!(got.encoding.as_deref(), Some("UTF8"));
        assert!(got.settings.contains_key("shared_buffers"));
        assert_eq!(got.qualname(), "15-rs");
        let items = ctx.list(Some("15")).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].name.as_str(), items[0].status.as_str()), ("rs", "running"));
        let status = ctx.status("rs").unwrap();
        assert!(status.running() && status.pid.is_some());
        assert_eq!(ctx.env("15/rs").unwrap()["PGPORT"], port.to_string());
        assert_eq!(
            ctx.create(&InstanceSpec::new("rs").version("15").port(port)).unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );

        // One op asynchronously, draining its log events meanwhile.
        let op = ctx.restart_async("15/rs", StopMode::Fast, 7).unwrap();
        let mut logs = Vec::new();
        let state = ctx.drain_until_done(&op, Duration::from_secs(120), |event| {
            if let EventKind::Log { .. } = event.kind {
                logs.push((event.tag, event.message));
            }
        });
        assert_eq!(state, Some(OpState::Succeeded));
        assert_eq!(op.state(), OpState::Succeeded);
        assert_eq!(op.result_json().unwrap(), None);
        assert!(logs.contains(&(7, "restarting instance 15/rs".to_string())), "{:?}", logs);

        let status_op = ctx.status_async("15/rs", 8).unwrap();
        assert!(status_op.wait(Some(Duration::from_secs(60))));
        assert!(status_op.status().unwrap().running());
    }));
    ctx.drop_instance("15/rs").unwrap();
    assert!(!created.data_directory.exists());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// The calls with options, and the Patroni-only ones, on a plain instance.
#[test]
fn options_on_a_plain_instance() {
    let ctx = Context::new().unwrap();
    let created = ctx.create(&InstanceSpec::new("rsopts").version("15").port(free_port())).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ctx.stop("15/rsopts", StopMode::Fast).unwrap();
        ctx.start_with("15/rsopts", &StartOptions { accept_data_loss: true }).unwrap();
        assert!(ctx.status("15/rsopts").unwrap().running());
        let op = ctx.start_with_async("15/rsopts", &StartOptions::default(), 11).unwrap();
        assert!(op.wait(Some(Duration::from_secs(60))));
        op.outcome().unwrap(); // already running: a warning, not an error

        assert_eq!(ctx.patroni_credentials("15/rsopts").unwrap_err().kind(), ErrorKind::State);
        assert_eq!(ctx.promote("15/rsopts").unwrap_err().kind(), ErrorKind::State);
        assert_eq!(ctx.status("15/rsopts").unwrap().patroni, None);
        assert!(ctx.get("15/rsopts").unwrap().patroni.is_none());
        let remove_cluster = DropOptions { remove_cluster: true, ..DropOptions::default() };
        assert_eq!(ctx.drop_instance_with("15/rsopts", &remove_cluster).unwrap_err().kind(), ErrorKind::State);
        assert!(created.data_directory.is_dir());
    }));
    // Nothing to ask a DCS about: the flag changes nothing for a plain instance.
    ctx.drop_instance_with("15/rsopts", &DropOptions { dcs_unreachable_ok: true, ..DropOptions::default() }).unwrap();
    assert!(!created.data_directory.exists());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn dropping_a_pending_op_cancels_it() {
    let ctx = Context::new().unwrap();
    let op = ctx.create_async(&InstanceSpec::new("rscancel").version("15").port(free_port()), 9).unwrap();
    drop(op); // cancels; the OpDone event still comes
    loop {
        let event = ctx.next_event(Some(Duration::from_secs(120))).expect("no OpDone event");
        if let EventKind::OpDone { state, status } = event.kind {
            assert_eq!((event.tag, state, status), (9, OpState::Cancelled, -9));
            break;
        }
    }
    assert!(!Path::new(&prefix()).join("srv/pgsql/15/rscancel/data").exists());
}

/// The managed parameters with `name` set to `value`, its former line gone.
fn with_parameter(text: &str, name: &str, value: &str) -> String {
    let line = format!("{} = {}", name, value);
    let mut lines: Vec<&str> = text.lines().filter(|l| l.split('=').next().map(str::trim) != Some(name)).collect();
    lines.push(&line);
    lines.join("\n") + "\n"
}

fn finished(op: &pglift::Op, what: &str) {
    assert!(op.wait(Some(Duration::from_secs(60))), "{} did not end within 60 s", what);
}

/// Logs as streams (followed: a statement's line seen; read: the current content, then the end), the
/// reads and configuration by text as ops, and the Patroni-only calls refused on a plain instance.
#[test]
fn logs_and_async_reads_on_a_plain_instance() {
    let ctx = Context::new().unwrap();
    let spec = InstanceSpec::new("rslogs").version("15").port(free_port()).setting("log_statement", "all");
    let created = ctx.create(&spec).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Following: the line of a statement run after the stream began comes through it.
        let marker = format!("rs-follow-{}", std::process::id());
        let mut stream = ctx.follow_logs("15/rslogs").unwrap().with_timeout(Duration::from_secs(30));
        let tag = stream.op().tag();
        ctx.run_sql("15/rslogs", &format!("SELECT '{}'", marker), &["postgres"], &[]).unwrap();
        let mut seen = String::new();
        while !seen.contains(&format!("statement: SELECT '{}'", marker)) {
            match stream.next() {
                Some(Ok(chunk)) => seen.push_str(&chunk),
                Some(Err(e)) => panic!("following the log: {} (seen so far: {})", e, seen),
                None => panic!("the followed log ended; seen: {}", seen),
            }
        }
        assert_eq!(stream.op().state(), OpState::Pending, "a followed log goes on");
        drop(stream); // cancels the op and takes what was left of it
        while let Some(event) = ctx.next_event(Some(Duration::ZERO)) {
            assert_ne!(event.tag, tag, "an event of the dropped stream was left: {:?}", event);
        }

        // Cancelled explicitly: the iterator ends (None), without an error.
        let mut stream = ctx.follow_logs("15/rslogs").unwrap().with_timeout(Duration::from_secs(30));
        stream.cancel();
        let rest: Vec<_> = stream.by_ref().collect();
        assert!(rest.iter().all(Result::is_ok), "a cancelled stream ends without an error: {:?}", rest);
        assert_eq!(stream.op().state(), OpState::Cancelled);

        // Not following: the current content, then the end; the blocking read has the line too.
        let all: String =
            ctx.read_logs("15/rslogs").unwrap().with_timeout(Duration::from_secs(30)).map(Result::unwrap).collect();
        assert!(all.contains(&marker), "read_logs lacks the statement: {}", all);
        assert!(ctx.instance_logs("15/rslogs").unwrap().contains(&marker), "instance_logs lacks the statement");

        // The log file, blocking and as an op.
        let path = ctx.log_file("15/rslogs").unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains(&marker), "{}", path.display());
        let op = ctx.log_file_async("15/rslogs", 20).unwrap();
        finished(&op, "log_file_async");
        assert_eq!(op.path().unwrap(), path);

        // The parameters, as a map and as text, blocking and as ops.
        let parameters = ctx.parameters("15/rslogs").unwrap();
        assert_eq!(parameters.get("log_statement"), Some(&pglift::Json::from("all")), "{:?}", parameters);
        let op = ctx.parameters_async("15/rslogs", 21).unwrap();
        finished(&op, "parameters_async");
        assert_eq!(op.parameters().unwrap(), parameters);
        let text = ctx.parameters_text("15/rslogs").unwrap();
        let op = ctx.parameters_text_async("15/rslogs", 22).unwrap();
        finished(&op, "parameters_text_async");
        assert_eq!(op.text().unwrap(), text);

        // Configuration by text as ops: a dry run changes nothing, then for real; a bad line at the call.
        let changed = with_parameter(&text, "work_mem", "'9MB'");
        let op = ctx.configure_text_with_async("15/rslogs", &changed, &pglift::WriteOptions::DRY_RUN, 23).unwrap();
        finished(&op, "configure_text_with_async");
        let r = op.configuration_result().unwrap();
        assert_eq!(r.changes.get("work_mem").map(|c| &c.1), Some(&pglift::Json::from("9MB")), "{:?}", r);
        assert_eq!(ctx.parameters_text("15/rslogs").unwrap(), text, "the dry run changed the parameters");
        let op = ctx.configure_text_async("15/rslogs", &changed, 24).unwrap();
        finished(&op, "configure_text_async");
        let r = op.configuration_result().unwrap();
        assert!(r.reloaded && r.changes.contains_key("work_mem"), "{:?}", r);
        assert!(ctx.parameters_text("15/rslogs").unwrap().contains("work_mem = '9MB'"));
        let e = ctx
            .configure_text_async("15/rslogs", "work_mem = '9MB'\ninclude 'x.conf'\n", 25)
            .err()
            .expect("a bad line");
        assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "line 2"), "{}", e);

        // Patroni-only: refused, as values (the watch ends on its error). Without Patroni in the site
        // settings the cluster calls are Unsupported; a plain instance of a Patroni site is a State error.
        let refused = |kind: ErrorKind| kind == ErrorKind::State || kind == ErrorKind::Unsupported;
        let op = ctx.patroni_credentials_async("15/rslogs", 26).unwrap();
        finished(&op, "patroni_credentials_async");
        assert_eq!(op.patroni_credentials().unwrap_err().kind(), ErrorKind::State);
        let e = ctx.cluster("15/rslogs").unwrap_err();
        assert!(refused(e.kind()), "cluster of a plain instance: {:?}", e);
        let e = ctx.patroni_config("15/rslogs").unwrap_err();
        assert!(refused(e.kind()), "patroni_config of a plain instance: {:?}", e);
        let mut watch = ctx.watch_cluster("15/rslogs").unwrap().with_timeout(Duration::from_secs(30));
        match watch.next() {
            Some(Err(e)) => assert!(refused(e.kind()), "the watch of a plain instance: {:?}", e),
            other => panic!("watching a plain instance: {:?}", other),
        }
        assert!(watch.next().is_none(), "the watch ended after its error");
    }));
    ctx.drop_instance("15/rslogs").unwrap();
    assert!(!created.data_directory.exists());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
