//! Issue 11's "done when" on a Patroni leader, from Rust: configure (a reload, a restart-only parameter
//! reported), a role with a password, a database it owns, the privileges listing, both dropped; the
//! password in no event, error or result. The member leads its own one-member cluster; it is dropped
//! at the end with its cluster's keys. Needs a private etcd: run through tests/capi/with_prefix.sh with
//! LIBPGLIFT_TEST_WITH_ETCD=1 (skipped without LIBPGLIFT_TEST_ETCD).
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use pglift::json::quote;
use pglift::{level, Context, DropOptions, Error, ErrorKind, Json, RoleDropOptions, RoleSpec};

const INSTANCE: &str = "15/rslead";
const NODE: &str = "rslead";
const CLUSTER: &str = "rslc";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Everything the binding let us see: events, errors, results. The password must be in none of them.
#[derive(Default)]
struct Seen {
    texts: Vec<String>,
}

impl Seen {
    /// Takes the queued events (log records, progress steps, op ends).
    fn drain(&mut self, ctx: &Context) {
        while let Some(event) = ctx.next_event(Some(Duration::ZERO)) {
            self.texts.push(format!("{:?}", event));
        }
    }
    fn result<T: std::fmt::Debug>(&mut self, value: T) -> T {
        self.texts.push(format!("{:?}", value));
        value
    }
    /// An error we expect: its kind, kept with all its texts.
    fn error<T: std::fmt::Debug>(&mut self, outcome: Result<T, Error>) -> ErrorKind {
        let e = outcome.expect_err("expected an error");
        self.texts.push(format!("{} | {} | {} | {}", e.message, e.field, e.detail, e.status_name()));
        e.kind()
    }
    fn containing(&self, needle: &str) -> Vec<&String> {
        self.texts.iter().filter(|t| t.contains(needle)).collect()
    }
}

/// `instance get` as the library returns it (the binding's `Instance` does not decode `patroni`).
fn get_json(ctx: &Context, instance: &str) -> Result<Json, Error> {
    let op = ctx.get_async(instance, 1)?;
    assert!(op.wait(Some(Duration::from_secs(60))), "instance get of {} did not end within 60 s", instance);
    let text = op.result_json()?.expect("instance get without a result");
    Ok(Json::parse(&text).expect("instance get returned invalid JSON"))
}

fn leader_of(instance: &Json) -> Option<String> {
    match instance.get("patroni")?.get("cluster_members")? {
        Json::Array(members) => members
            .iter()
            .find(|m| m.get("role").and_then(Json::as_str) == Some("leader"))
            .and_then(|m| m.get("name").and_then(Json::as_str))
            .map(str::to_string),
        _ => None,
    }
}

/// The managed parameters (`parameters_text`) with `name` set to `value`, its former line gone.
fn with_parameter(text: &str, name: &str, value: &str) -> String {
    let line = format!("{} = {}", name, value);
    let mut lines: Vec<&str> = text.lines().filter(|l| l.split('=').next().map(str::trim) != Some(name)).collect();
    lines.push(&line);
    lines.join("\n") + "\n"
}

/// One value of `SHOW <name>` on the postgres database.
fn show(ctx: &Context, seen: &mut Seen, name: &str) -> String {
    let rows = seen.result(ctx.run_sql(INSTANCE, &format!("SHOW {}", name), &["postgres"], &[]).unwrap());
    match rows.get("postgres") {
        Some(Json::Array(r)) if r.len() == 1 => {
            r[0].get(name).and_then(Json::as_str).unwrap_or_else(|| panic!("SHOW {}: {:?}", name, rows)).to_string()
        }
        other => panic!("SHOW {}: rows {:?}", name, other),
    }
}

/// A password unknown to the code, written 0600 to `path` and read back from there.
fn password_file(path: &Path) -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let secret = format!("rsLead-{:016x}", hasher.finish());
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).unwrap();
    writeln!(file, "{}", secret).unwrap();
    drop(file);
    assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600, "{}", path.display());
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

#[test]
fn daily_work_on_a_patroni_leader() {
    let etcd = match std::env::var("LIBPGLIFT_TEST_ETCD") {
        Ok(endpoint) => endpoint,
        Err(_) => {
            // libtest has no runtime skip: say so on stderr itself (eprintln! would be captured, unseen).
            let _ = writeln!(
                std::io::stderr(),
                "SKIP daily_work_on_a_patroni_leader: no etcd (run through tests/capi/with_prefix.sh with \
                 LIBPGLIFT_TEST_WITH_ETCD=1)"
            );
            return;
        }
    };
    let prefix = std::env::var("LIBPGLIFT_TEST_PREFIX").expect("run through tests/capi/with_prefix.sh");
    let settings = format!(
        r#"{{"prefix": {p}, "run_prefix": {r}, "patroni": {{"etcd": {{"hosts": [{e}]}},
            "loop_wait": 2, "ttl": 10, "retry_timeout": 3}}}}"#,
        p = quote(&prefix),
        r = quote(&format!("{}/run", prefix)),
        e = quote(&etcd)
    );
    let ctx = Context::with_settings_json(&settings).unwrap();
    ctx.set_log_level(level::DEBUG).unwrap(); // capture as much as the binding can
    let secret_path = Path::new(&prefix).join("rslead-alice.password");
    let secret = password_file(&secret_path);
    let mut seen = Seen::default();

    let spec = format!(
        r#"{{"name": "{n}", "version": "15", "port": {port}, "patroni": {{"cluster": "{c}", "node": "{n}",
            "restapi": {{"connect_address": "127.0.1.1:{rest}"}}, "postgresql": {{"connect_host": "127.0.1.1"}}}}}}"#,
        n = NODE,
        c = CLUSTER,
        port = free_port(),
        rest = free_port()
    );
    let created = ctx.create_json(&spec).unwrap(); // a failed creation is reverted: nothing to clean
    seen.drain(&ctx);
    let mut dropped = false;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_eq!((created.name.as_str(), created.state.as_str()), (NODE, "started"));

        // A Patroni member of its own cluster, leading it (Patroni may need a loop to say so).
        let deadline = Instant::now() + Duration::from_secs(30);
        let got = loop {
            let got = get_json(&ctx, INSTANCE).unwrap();
            if leader_of(&got).is_some() || Instant::now() >= deadline {
                break got;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let patroni = got.get("patroni").unwrap_or_else(|| panic!("get shows no patroni section: {}", got));
        assert_eq!(patroni.get("cluster").and_then(Json::as_str), Some(CLUSTER), "{}", patroni);
        assert_eq!(patroni.get("node").and_then(Json::as_str), Some(NODE), "{}", patroni);
        assert_eq!(leader_of(&got).as_deref(), Some(NODE), "no leader within 30 s: {}", patroni);
        seen.drain(&ctx);

        // configure: work_mem reloads; max_connections is reported as needing a restart.
        let text = ctx.parameters_text(INSTANCE).unwrap();
        let r = seen.result(ctx.configure_text(INSTANCE, &with_parameter(&text, "work_mem", "'8MB'")).unwrap());
        assert_eq!(r.changes.get("work_mem").map(|c| &c.1), Some(&Json::from("8MB")), "{:?}", r);
        assert!(r.reloaded && r.needs_restart.is_empty(), "work_mem: reloaded, no restart needed: {:?}", r);
        assert_eq!(show(&ctx, &mut seen, "work_mem"), "8MB", "SHOW work_mem after the reload");
        let text = ctx.parameters_text(INSTANCE).unwrap();
        assert!(text.contains("work_mem = '8MB'\n"), "the parameters of the member's YAML: {}", text);
        let r = seen.result(ctx.configure_text(INSTANCE, &with_parameter(&text, "max_connections", "120")).unwrap());
        assert_eq!(r.changes.get("max_connections").map(|c| &c.1), Some(&Json::from(120)), "{:?}", r);
        assert_eq!(r.needs_restart, vec!["max_connections".to_string()], "max_connections needs a restart: {:?}", r);
        assert_eq!(show(&ctx, &mut seen, "work_mem"), "8MB", "work_mem kept by the second change");
        seen.drain(&ctx);

        // A role with a login and the password, then a database it owns, on the leader.
        let dropped_before = ctx.dropped_events();
        let alice = RoleSpec { password: Some(secret.clone()), login: true, ..RoleSpec::new("alice") };
        assert!(!format!("{:?}", alice).contains(&secret), "RoleSpec's Debug shows the password");
        ctx.create_role(INSTANCE, &alice).unwrap();
        seen.drain(&ctx);
        let role = seen.result(ctx.get_role(INSTANCE, "alice").unwrap());
        assert!(role.login && role.has_password, "alice: login and a password: {:?}", role);
        let op = ctx.get_role_async(INSTANCE, "alice", 2).unwrap();
        assert!(op.wait(Some(Duration::from_secs(60))), "role get did not end within 60 s");
        seen.result(op.result_json().unwrap()); // the role as JSON, as the library returns it
        seen.result(ctx.list_roles(INSTANCE).unwrap());
        assert_eq!(seen.error(ctx.create_role(INSTANCE, &alice)), ErrorKind::AlreadyExists, "alice twice");
        seen.drain(&ctx);

        let db = seen.result(ctx.create_database(INSTANCE, r#"{"name": "app", "owner": "alice"}"#).unwrap());
        assert_eq!(db.get("owner").and_then(Json::as_str), Some("alice"), "created: {}", db);
        let db = seen.result(ctx.get_database(INSTANCE, "app").unwrap());
        assert_eq!(db.get("owner").and_then(Json::as_str), Some("alice"), "get: {}", db);
        seen.drain(&ctx);

        // The privileges listing: a grant to alice shows.
        seen.result(
            ctx.run_sql(INSTANCE, "CREATE TABLE t (i int); GRANT SELECT ON t TO alice", &["app"], &[]).unwrap(),
        );
        let privileges = seen.result(ctx.database_privileges(INSTANCE, &["app"], &["alice"], false).unwrap());
        match &privileges {
            Json::Array(p) if p.len() == 1 => {
                assert_eq!(p[0].get("object_name").and_then(Json::as_str), Some("t"), "{}", privileges);
                assert_eq!(p[0].get("role").and_then(Json::as_str), Some("alice"), "{}", privileges);
                assert_eq!(p[0].get("privileges"), Some(&Json::Array(vec![Json::from("SELECT")])), "{}", privileges);
            }
            other => panic!("privileges of alice in app: one entry expected, got {}", other),
        }
        seen.result(ctx.database_privileges(INSTANCE, &[], &[], false).unwrap());
        seen.drain(&ctx);

        // Drops: the database, then its owner; both gone.
        ctx.drop_database(INSTANCE, "app", true).unwrap();
        assert_eq!(seen.error(ctx.get_database(INSTANCE, "app")), ErrorKind::NotFound, "app after its drop");
        ctx.drop_role(INSTANCE, "alice", &RoleDropOptions::default()).unwrap();
        assert_eq!(seen.error(ctx.get_role(INSTANCE, "alice")), ErrorKind::NotFound, "alice after her drop");
        seen.drain(&ctx);

        // The password: in no event, error or result (and every event of these steps was captured).
        seen.result(get_json(&ctx, INSTANCE).unwrap());
        seen.drain(&ctx);
        assert_eq!(ctx.dropped_events(), dropped_before, "events were dropped: the capture is incomplete");
        let shown = seen.containing(&secret);
        assert!(shown.is_empty(), "the password shows in {} captured text(s)", shown.len());
        assert!(seen.texts.iter().any(|t| t.contains("alice")), "the capture saw nothing of alice");

        // Dropped with its cluster's keys (the last member): gone.
        let remove_cluster = DropOptions { remove_cluster: true, ..DropOptions::default() };
        ctx.drop_instance_with(INSTANCE, &remove_cluster).unwrap();
        dropped = true;
        seen.drain(&ctx);
        assert_eq!(seen.error(ctx.get(INSTANCE)), ErrorKind::NotFound, "the instance after its drop");
        assert!(!created.data_directory.exists(), "{} is left", created.data_directory.display());
        let removal = format!("removed cluster '{}' from the DCS", CLUSTER);
        assert!(!seen.containing(&removal).is_empty(), "no event says: {}", removal);
        assert!(seen.containing(&secret).is_empty(), "the password shows in the drop's events");
    }));
    if !dropped {
        let remove_cluster = DropOptions { remove_cluster: true, ..DropOptions::default() };
        if let Err(e) = ctx.drop_instance_with(INSTANCE, &remove_cluster) {
            eprintln!("cleanup: dropping {} with its cluster failed ({}), dropping it alone", INSTANCE, e);
            let _ = ctx.drop_instance(INSTANCE);
        }
    }
    let _ = std::fs::remove_file(&secret_path);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
