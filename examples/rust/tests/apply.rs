//! Alter and apply, and the parameters as text, against a real PostgreSQL 15 instance; run through
//! tests/capi/with_prefix.sh (a throw-away prefix): see README.md.
use std::net::TcpListener;
use std::time::Duration;

use pglift::{Context, ErrorKind, FieldChange, InstanceChanges, InstanceSpec, Json, OpState};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn change(field: &str, before: Json, after: Json) -> FieldChange {
    FieldChange { field: field.to_string(), before, after }
}

#[test]
fn apply_and_alter_one_instance() {
    let ctx = Context::new().unwrap();
    let port = free_port();
    let manifest = InstanceSpec::new("rsapply").version("15").port(port).setting("work_mem", "5MB");

    let dry = ctx.apply_instance(&manifest, true).unwrap();
    assert_eq!((dry.change_state.as_deref(), dry.dry_run), (Some("created"), true), "{:?}", dry);
    assert_eq!(ctx.get("15/rsapply").unwrap_err().kind(), ErrorKind::NotFound);
    let created = ctx.apply_instance(&manifest, false).unwrap();
    assert_eq!((created.change_state.as_deref(), created.dry_run), (Some("created"), false), "{:?}", created);
    let mut dropped = false;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let again = ctx.apply_instance(&manifest, false).unwrap();
        assert!(!again.changed() && again.diff.is_empty(), "{:?}", again);

        let new_port = free_port();
        let changes = InstanceChanges::default().port(new_port).setting("work_mem", "6MB");
        let preview = ctx.alter_instance("15/rsapply", &changes, true).unwrap();
        assert_eq!((preview.change_state.as_deref(), preview.dry_run), (Some("changed"), true));
        assert!(preview.diff.contains(&change("port", Json::from(port as i64), Json::from(new_port as i64))));
        assert!(preview.diff.contains(&change("settings.work_mem", Json::from("5MB"), Json::from("6MB"))));
        let got = ctx.get("15/rsapply").unwrap();
        assert_eq!((got.port, got.settings.get("work_mem")), (port, Some(&Json::from("5MB"))));

        // Asynchronously: stop it (then the port changes without a pending restart).
        let op =
            ctx.alter_instance_async("15/rsapply", &InstanceChanges::default().state("stopped"), false, 41).unwrap();
        assert!(op.wait(Some(Duration::from_secs(120))));
        assert_eq!(op.state(), OpState::Succeeded);
        let stopped = op.apply_result().unwrap();
        assert_eq!(stopped.change_state.as_deref(), Some("changed"));
        assert!(stopped.diff.contains(&change("state", Json::from("started"), Json::from("stopped"))), "{:?}", stopped);

        let altered = ctx.alter_instance("15/rsapply", &changes, false).unwrap();
        assert_eq!((altered.change_state.as_deref(), altered.dry_run, altered.diff.len()), (Some("changed"), false, 2));
        let got = ctx.get("15/rsapply").unwrap();
        assert_eq!(
            (got.port, got.settings.get("work_mem"), got.state.as_str()),
            (new_port, Some(&Json::from("6MB")), "stopped")
        );

        // The parameters as postgresql.conf text.
        let text = ctx.parameters_text("15/rsapply").unwrap();
        assert!(text.contains("work_mem = '6MB'\n"), "{}", text);
        let edited = format!("{}maintenance_work_mem = '32MB'\n", text);
        let configured = ctx.configure_text("15/rsapply", &edited).unwrap();
        assert_eq!(configured.changes.len(), 1, "{:?}", configured);
        assert_eq!(configured.changes["maintenance_work_mem"], (Json::Null, Json::from("32MB")));
        assert!(ctx.configure_text("15/rsapply", &edited).unwrap().changes.is_empty());

        // Bad fields: InvalidSpec naming the field, nothing changed.
        let e = ctx.alter_instance_json("15/rsapply", r#"{"prot": 5433}"#, false).unwrap_err();
        assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "prot"));
        let e = ctx.alter_instance("15/rsapply", &InstanceChanges::default().state("paused"), false).unwrap_err();
        assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "state"));
        let e = ctx.configure_text("15/rsapply", "include 'x.conf'\n").unwrap_err();
        assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "line 1"));
        let e = ctx.alter_instance("15/missing", &InstanceChanges::default().state("started"), false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(ctx.get("15/rsapply").unwrap().port, new_port);

        let op =
            ctx.apply_instance_async(&InstanceSpec::new("rsapply").version("15").state("absent"), false, 42).unwrap();
        assert!(op.wait(Some(Duration::from_secs(120))));
        assert_eq!(op.apply_result().unwrap().change_state.as_deref(), Some("dropped"));
        dropped = true;
        assert_eq!(ctx.get("15/rsapply").unwrap_err().kind(), ErrorKind::NotFound);
    }));
    if !dropped {
        let _ = ctx.drop_instance("15/rsapply");
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
