//! Alter and apply, and the parameters as text, against a real PostgreSQL 15 instance; run through
//! tests/capi/with_prefix.sh (a throw-away prefix): see README.md.
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::Duration;

use pglift::{
    Context, ErrorKind, FieldChange, InstanceChanges, InstanceSpec, Json, ObjectChange, OpState, WriteOptions,
};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn change(field: &str, before: Json, after: Json) -> FieldChange {
    FieldChange { field: field.to_string(), before, after }
}

fn object(name: &str, change_state: Option<&str>) -> Vec<ObjectChange> {
    vec![ObjectChange { name: name.to_string(), change_state: change_state.map(str::to_string) }]
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

        // The manifest's roles and databases on the existing instance: planned, created, then as they are.
        let with_objects = format!(
            r#"{{"name": "rsapply", "version": "15", "port": {}, "settings": {{"work_mem": "5MB"}},
                "roles": [{{"name": "rsdry_carol", "login": true}}],
                "databases": [{{"name": "rsdry_carol_db", "owner": "rsdry_carol"}}]}}"#,
            port
        );
        let planned = ctx.apply_instance_json(&with_objects, true).unwrap();
        assert_eq!(planned.roles, object("rsdry_carol", Some("created")), "{:?}", planned);
        assert_eq!(planned.databases, object("rsdry_carol_db", Some("created")), "{:?}", planned);
        assert_eq!(ctx.get_role("15/rsapply", "rsdry_carol").unwrap_err().kind(), ErrorKind::NotFound);
        let applied = ctx.apply_instance_json(&with_objects, false).unwrap();
        assert_eq!(applied.change_state.as_deref(), Some("changed"), "{:?}", applied);
        assert_eq!(applied.roles, object("rsdry_carol", Some("created")), "{:?}", applied);
        assert_eq!(applied.databases, object("rsdry_carol_db", Some("created")), "{:?}", applied);
        assert!(ctx.get_role("15/rsapply", "rsdry_carol").unwrap().login);
        let db = ctx.get_database("15/rsapply", "rsdry_carol_db").unwrap();
        assert_eq!(db.get("owner").and_then(Json::as_str), Some("rsdry_carol"));
        let same = ctx.apply_instance_json(&with_objects, false).unwrap();
        assert_eq!(same.change_state, None, "{:?}", same);
        assert_eq!(same.roles, object("rsdry_carol", None), "{:?}", same);
        assert_eq!(same.databases, object("rsdry_carol_db", None), "{:?}", same);

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

        // Parameters as a map: a dry run (blocking, async, as text) reports the change and makes none.
        let current = ctx.parameters_text("15/rsapply").unwrap();
        let mut parameters = BTreeMap::new();
        parameters.insert("maintenance_work_mem".to_string(), Json::from("64MB"));
        let would = (Json::from("32MB"), Json::from("64MB"));
        let dry = ctx.configure("15/rsapply", &parameters, true).unwrap();
        assert_eq!((dry.changes.len(), &dry.changes["maintenance_work_mem"], dry.reloaded), (1, &would, false));
        let op = ctx.configure_async("15/rsapply", &parameters, true, 43).unwrap();
        assert!(op.wait(Some(Duration::from_secs(60))));
        assert_eq!(op.configuration_result().unwrap().changes["maintenance_work_mem"], would);
        let more = edited.replace("maintenance_work_mem = '32MB'", "maintenance_work_mem = '64MB'");
        let dry = ctx.configure_text_with("15/rsapply", &more, &WriteOptions::DRY_RUN).unwrap();
        assert_eq!(dry.changes["maintenance_work_mem"], would);
        assert_eq!(ctx.get("15/rsapply").unwrap().settings.get("maintenance_work_mem"), Some(&Json::from("32MB")));
        assert_eq!(ctx.parameters_text("15/rsapply").unwrap(), current);
        // For real, then Json::Null removes it.
        assert_eq!(ctx.configure("15/rsapply", &parameters, false).unwrap().changes["maintenance_work_mem"], would);
        assert_eq!(ctx.get("15/rsapply").unwrap().settings.get("maintenance_work_mem"), Some(&Json::from("64MB")));
        parameters.insert("maintenance_work_mem".to_string(), Json::Null);
        let removed = ctx.configure("15/rsapply", &parameters, false).unwrap();
        assert_eq!(removed.changes["maintenance_work_mem"], (Json::from("64MB"), Json::Null));
        assert_eq!(ctx.get("15/rsapply").unwrap().settings.get("maintenance_work_mem"), None);
        let e = ctx.configure("15/rsapply", &BTreeMap::from([("work_mem".to_string(), Json::from("lots"))]), true);
        assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidSpec);

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
