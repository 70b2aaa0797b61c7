//! Roles against a real PostgreSQL 15 instance; run through tests/capi/with_prefix.sh.
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use pglift::{
    Context, ErrorKind, EventKind, InstanceSpec, OpState, Role, RoleChanges, RoleDropOptions, RoleSpec, WriteOptions,
};

const SECRET: &str = "rs-Role-Secret-5";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn roles_life_and_errors() {
    let prefix = std::env::var("LIBPGLIFT_TEST_PREFIX").expect("run through tests/capi/with_prefix.sh");
    let passfile = format!("{}/rs-roles.pgpass", prefix);
    let settings = format!(
        r#"{{"prefix": "{p}", "run_prefix": "{p}/run", "postgresql": {{"auth": {{"passfile": "{f}"}}}}}}"#,
        p = prefix,
        f = passfile
    );
    let ctx = Context::with_settings_json(&settings).unwrap();
    ctx.create(&InstanceSpec::new("rsroles").version("15").port(free_port())).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let bob = RoleSpec {
            password: Some(SECRET.to_string()),
            login: true,
            in_roles: vec!["pg_monitor".to_string()],
            pgpass: true,
            ..RoleSpec::new("bob")
        };
        assert!(!format!("{:?}", bob).contains(SECRET));
        ctx.create_role("rsroles", &bob).unwrap();
        assert_eq!(ctx.create_role("rsroles", &bob).unwrap_err().kind(), ErrorKind::AlreadyExists);
        let got = ctx.get_role("rsroles", "bob").unwrap();
        assert!(got.has_password && got.login && got.inherit && got.pgpass, "{:?}", got);
        assert_eq!(got.in_roles, vec!["pg_monitor".to_string()]);
        assert_eq!(std::fs::metadata(&passfile).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(ctx.list_roles("rsroles").unwrap().iter().any(|r| r.name == "bob"));

        let changes = RoleChanges {
            login: Some(false),
            grant: vec!["pg_read_all_stats".to_string()],
            revoke: vec!["pg_monitor".to_string()],
            ..RoleChanges::default()
        };
        ctx.alter_role("rsroles", "bob", &changes).unwrap();
        let got = ctx.get_role("rsroles", "bob").unwrap();
        assert!(!got.login);
        assert_eq!(got.in_roles, vec!["pg_read_all_stats".to_string()]);

        let op = ctx.get_role_async("rsroles", "bob", 31).unwrap();
        assert!(op.wait(Some(Duration::from_secs(60))));
        assert_eq!(Role::from_json(&op.result_json().unwrap().unwrap()).unwrap(), got);

        // Dry runs, blocking and async: checked (an existing name, a missing role), nothing changed.
        let dry = WriteOptions::DRY_RUN;
        let erin = RoleSpec { password: Some(SECRET.to_string()), login: true, ..RoleSpec::new("rsdry_erin") };
        ctx.create_role_with("rsroles", &erin, &dry).unwrap();
        assert_eq!(ctx.get_role("rsroles", "rsdry_erin").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(ctx.create_role_with("rsroles", &bob, &dry).unwrap_err().kind(), ErrorKind::AlreadyExists);
        let promote = RoleChanges { superuser: Some(true), login: Some(true), ..RoleChanges::default() };
        ctx.alter_role_with("rsroles", "bob", &promote, &dry).unwrap();
        assert_eq!(ctx.get_role("rsroles", "bob").unwrap(), got);
        let e = ctx.alter_role_with("rsroles", "rsdry_erin", &promote, &dry).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let drop_owned = RoleDropOptions { drop_owned: true, ..RoleDropOptions::default() };
        ctx.drop_role_with("rsroles", "bob", &drop_owned, &dry).unwrap();
        assert_eq!(ctx.get_role("rsroles", "bob").unwrap(), got);
        let ops = [
            ctx.create_role_with_async("rsroles", &erin, &dry, 33).unwrap(),
            ctx.alter_role_with_async("rsroles", "bob", &promote, &dry, 34).unwrap(),
            ctx.drop_role_with_async("rsroles", "bob", &drop_owned, &dry, 35).unwrap(),
        ];
        for op in &ops {
            assert!(op.wait(Some(Duration::from_secs(60))));
            assert_eq!(op.state(), OpState::Succeeded, "op {}: {:?}", op.tag(), op.outcome());
        }
        assert_eq!(ctx.get_role("rsroles", "rsdry_erin").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(ctx.get_role("rsroles", "bob").unwrap(), got);

        let both =
            RoleSpec { password: Some(SECRET.into()), encrypted_password: Some(SECRET.into()), ..RoleSpec::new("c") };
        let e = ctx.create_role("rsroles", &both).unwrap_err();
        assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "encrypted_password"));
        assert!(!e.message.contains(SECRET));

        ctx.drop_role("rsroles", "bob", &RoleDropOptions { drop_owned: true, ..RoleDropOptions::default() }).unwrap();
        assert_eq!(ctx.get_role("rsroles", "bob").unwrap_err().kind(), ErrorKind::NotFound);
        let op = ctx.drop_role_async("rsroles", "bob", 32).unwrap();
        assert!(op.wait(Some(Duration::from_secs(60))));
        assert_eq!(op.outcome().unwrap_err().kind(), ErrorKind::NotFound);
        assert!(!std::fs::read_to_string(&passfile).unwrap().contains(":bob:"));
        let mut dry_runs_logged = 0;
        while let Some(event) = ctx.next_event(Some(Duration::from_millis(0))) {
            if let EventKind::Log { .. } = event.kind {
                assert!(!event.message.contains(SECRET));
                dry_runs_logged += event.message.contains("dry run") as usize;
            }
        }
        assert!(dry_runs_logged >= 6, "{} log events of dry runs", dry_runs_logged);
    }));
    ctx.drop_instance("15/rsroles").unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
