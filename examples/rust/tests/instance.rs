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
