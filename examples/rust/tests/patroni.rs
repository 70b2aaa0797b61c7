//! A Patroni pair from Rust, with typed results: the members in `Instance::patroni`, switchover and
//! failover outcomes (`TopologyResult`, blocking and as ops), pause and resume, promote, the log file,
//! an unknown candidate refused (`ErrorKind::InvalidSpec`, field "candidate"), the replica reinitialized,
//! the drops (the cluster's keys left), then the cluster removed from the DCS. Needs a private
//! etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1 (skipped without it).
use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use pglift::json::quote;
use pglift::{
    ClusterEvent, Context, DropOptions, ErrorKind, Json, Lag, OpState, PatroniInfo, PatroniStatus, SwitchoverOptions,
    TopologyResult,
};

const MEMBERS: [(&str, &str); 2] = [("rstopo1", "127.0.1.1"), ("rstopo2", "127.0.1.2")];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn other(name: &str) -> &'static str {
    if name == MEMBERS[0].0 {
        MEMBERS[1].0
    } else {
        MEMBERS[0].0
    }
}

/// Drops what is left of the pair, whatever happened (replica first, the last one with the cluster).
struct Cleanup<'a> {
    ctx: &'a Context,
    left: Vec<&'static str>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        while let Some(name) = self.left.pop() {
            let options = DropOptions { remove_cluster: self.left.is_empty(), ..Default::default() };
            if let Err(e) = self.ctx.drop_instance_with(name, &options) {
                let _ = writeln!(std::io::stderr(), "cleanup: drop {}: {}", name, e);
            }
        }
    }
}

/// Polls `get` until one member leads and the other is a running replica (a former leader rejoins
/// within seconds; while it restarts its `get` may fail): the cluster then.
fn settled(ctx: &Context, from: &str) -> PatroniInfo {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = ctx.get(from);
        if let Ok(instance) = &got {
            let patroni = instance.patroni.clone().expect("a member's get has a Patroni section");
            let running_replicas = patroni
                .members
                .iter()
                .filter(|m| m.role == "replica" && (m.state == "streaming" || m.state == "running"))
                .count();
            if patroni.leader().is_some() && running_replicas == 1 && patroni.members.len() == 2 {
                return patroni;
            }
        }
        assert!(Instant::now() < deadline, "no leader with a running replica after 90 s: {:?}", got);
        std::thread::sleep(Duration::from_millis(200)); // polling a cluster that converges by itself
    }
}

#[test]
fn patroni_pair_topology() {
    let etcd = match std::env::var("LIBPGLIFT_TEST_ETCD") {
        Ok(endpoint) => endpoint,
        Err(_) => {
            let _ = writeln!(std::io::stderr(), "SKIP patroni_pair_topology: no etcd (LIBPGLIFT_TEST_WITH_ETCD=1)");
            return;
        }
    };
    let prefix = std::env::var("LIBPGLIFT_TEST_PREFIX").expect("run through tests/capi/with_prefix.sh");
    let cluster = format!("rstopo{}", std::process::id());
    let settings = format!(
        r#"{{"prefix": {p}, "run_prefix": {r}, "patroni": {{"etcd": {{"hosts": [{e}]}},
            "loop_wait": 2, "ttl": 10, "retry_timeout": 3, "create_timeout": 120}}}}"#,
        p = quote(&prefix),
        r = quote(&format!("{}/run", prefix)),
        e = quote(&etcd)
    );
    let ctx = Context::with_settings_json(&settings).unwrap();
    let mut cleanup = Cleanup { ctx: &ctx, left: Vec::new() };
    for (name, host) in MEMBERS {
        let api = format!("{}:{}", host, free_port());
        let spec = format!(
            r#"{{"name": "{n}", "port": {port}, "patroni": {{"cluster": "{c}", "node": "{n}",
                "restapi": {{"connect_address": "{a}", "listen": "{a}"}}, "postgresql": {{"connect_host": "{h}"}}}}}}"#,
            n = name,
            c = cluster,
            port = free_port(),
            a = api,
            h = host
        );
        let created = ctx.create_json(&spec).unwrap();
        cleanup.left.push(name);
        let patroni = created.patroni.expect("a member's creation returns its Patroni section");
        assert_eq!((patroni.cluster.as_str(), patroni.node.as_str()), (cluster.as_str(), name));
        assert_eq!(patroni.restapi_connect_address, api);
    }

    // The members, typed: the leader without lag, the replica with one.
    let cluster_view = settled(&ctx, "rstopo2");
    let leader = cluster_view.leader().unwrap();
    assert_eq!((leader.name.as_str(), leader.host.as_str(), leader.lag.clone()), ("rstopo1", "127.0.1.1", None));
    assert_eq!(leader.timeline, Some(1));
    let replica = cluster_view.members.iter().find(|m| m.name == "rstopo2").unwrap();
    assert_eq!(replica.role, "replica");
    assert!(matches!(replica.lag, Some(Lag::Bytes(_)) | Some(Lag::Unknown)), "replica lag {:?}", replica.lag);
    assert_eq!(cluster_view.is_paused, Some(false));
    let status = ctx.status("rstopo2").unwrap();
    assert!(status.running(), "{:?}", status);
    assert_eq!(
        status.patroni,
        Some(PatroniStatus { state: "running".into(), orphan_postmaster: false, dcs_error: None })
    );

    cluster_and_configuration(&ctx, &cluster);

    // A switchover, blocking, while the cluster is watched: first its state, then the new leader.
    let mut watch = ctx.watch_cluster("rstopo1").unwrap().with_timeout(Duration::from_secs(60));
    let mut initial: Vec<ClusterEvent> = Vec::new();
    let complete = |events: &[ClusterEvent]| {
        events.iter().filter(|e| e.kind == "member_added").count() == 2
            && events.iter().any(|e| e.kind == "leader_changed")
    };
    while !complete(&initial) {
        initial.push(watch.next().expect("the watch ended").unwrap_or_else(|e| panic!("{} after {:?}", e, initial)));
    }
    let mut added: Vec<&str> = initial.iter().filter(|e| e.kind == "member_added").map(|e| e.member.as_str()).collect();
    added.sort_unstable();
    assert_eq!(added, ["rstopo1", "rstopo2"], "the initial state: {:?}", initial);
    let first_leader = initial.iter().find(|e| e.kind == "leader_changed").unwrap();
    assert_eq!(
        (first_leader.before.as_deref(), first_leader.after.as_deref()),
        (None, Some("rstopo1")),
        "{:?}",
        initial
    );
    let options = SwitchoverOptions { candidate: Some("rstopo2".into()), ..Default::default() };
    let done = ctx.switchover("rstopo1", &options).unwrap();
    assert_eq!(
        done,
        TopologyResult { previous_leader: "rstopo1".into(), new_leader: Some("rstopo2".into()), scheduled: false }
    );
    let mut changes = Vec::new();
    loop {
        let event = watch.next().expect("the watch ended").unwrap_or_else(|e| panic!("{} after {:?}", e, changes));
        let to_rstopo2 = event.kind == "leader_changed" && event.after.as_deref() == Some("rstopo2");
        assert!(event.revision >= first_leader.revision, "revisions go forward: {:?}", event);
        changes.push(event);
        if to_rstopo2 {
            break;
        }
    }
    let tag = watch.op().tag();
    drop(watch); // cancelled, its events taken
    while let Some(event) = ctx.next_event(Some(Duration::ZERO)) {
        assert_ne!(event.tag, tag, "an event of the dropped watch was left: {:?}", event);
    }
    assert_eq!(settled(&ctx, "rstopo1").leader().unwrap().name, "rstopo2");

    // Pause as an op, resume blocking; get sees each.
    let op = ctx.pause_async("rstopo1", true, 7).unwrap();
    assert!(op.wait(Some(Duration::from_secs(60))), "pause did not end within 60 s");
    assert_eq!(op.state(), OpState::Succeeded, "pause: {:?}", op.outcome());
    assert_eq!(ctx.get("rstopo2").unwrap().patroni.unwrap().is_paused, Some(true));
    ctx.resume("rstopo2").unwrap();
    assert_eq!(ctx.get("rstopo1").unwrap().patroni.unwrap().is_paused, Some(false));

    // An unknown candidate: refused, naming the field; then a failover as an op.
    let e = ctx.failover("rstopo1", "nosuch").unwrap_err();
    assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "candidate"), "{}", e);
    let leader = settled(&ctx, "rstopo1").leader().unwrap().name.clone();
    let op = ctx.failover_async("rstopo2", other(&leader), 8).unwrap();
    assert!(op.wait(Some(Duration::from_secs(120))), "failover did not end within 120 s");
    let done = op.topology_result().unwrap();
    assert_eq!((done.previous_leader.as_str(), done.new_leader.as_deref()), (leader.as_str(), Some(other(&leader))));

    // Promote the other member back.
    let leader = settled(&ctx, "rstopo2").leader().unwrap().name.clone();
    ctx.promote(other(&leader)).unwrap();
    assert_eq!(settled(&ctx, "rstopo1").leader().unwrap().name, other(&leader));

    // A scheduled switchover: accepted, nothing changes yet (the drops below cancel it).
    let leader = settled(&ctx, "rstopo1").leader().unwrap().name.clone();
    let options = SwitchoverOptions {
        candidate: Some(other(&leader).into()),
        scheduled_at: Some("2099-01-01T00:00:00+00:00".into()),
    };
    let done = ctx.switchover("rstopo2", &options).unwrap();
    assert_eq!(done, TopologyResult { previous_leader: leader.clone(), new_leader: None, scheduled: true });

    let log = ctx.patroni_log_file("rstopo1").unwrap();
    assert!(std::fs::metadata(&log).map(|m| m.len() > 0).unwrap_or(false), "Patroni log {}", log.display());
    let op = ctx.patroni_log_file_async("rstopo1", 30).unwrap();
    assert!(op.wait(Some(Duration::from_secs(60))), "patroni_log_file_async did not end within 60 s");
    assert_eq!(op.path().unwrap(), log);
    let e = ctx.cluster_remove(&cluster).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::State, "removing a cluster whose members live: {}", e);
    // Both members dropped without the cluster's keys, which stay in the DCS; then the cluster removed.
    while let Some(name) = cleanup.left.pop() {
        ctx.drop_instance(name).unwrap();
    }
    drop(cleanup);
    assert_eq!(ctx.list(None).unwrap(), Vec::new(), "instances left after the drops");
    assert_eq!(ctx.cluster_from_dcs(&cluster).unwrap().name, cluster, "the drops left the cluster's keys");
    ctx.cluster_remove(&cluster).unwrap();
    let e = ctx.cluster_from_dcs(&cluster).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "the removed cluster: {}", e);
}

/// `postgresql.parameters` of a Patroni configuration document, to edit.
fn parameters_of(config: &mut Json) -> &mut std::collections::BTreeMap<String, Json> {
    match config.get_mut("postgresql").and_then(|p| p.get_mut("parameters")) {
        Some(Json::Object(p)) => p,
        _ => panic!("no postgresql.parameters object in the configuration"),
    }
}

/// The cluster as a value (through a member, from the DCS, as an op), a member's Patroni configuration
/// (no secret from the credentials in it; validate, set, refusals naming the field; as ops), a restart of
/// the replica through Patroni. rstopo1 leads, rstopo2 streams.
fn cluster_and_configuration(ctx: &Context, cluster: &str) {
    let c = ctx.cluster("rstopo2").unwrap();
    assert_eq!(
        (c.name.as_str(), c.leader.as_deref(), c.paused, c.source.as_str()),
        (cluster, Some("rstopo1"), false, "rest")
    );
    assert!(c.local_member.as_deref().map_or(false, |m| m.ends_with("/rstopo2")), "local member {:?}", c.local_member);
    assert_eq!(c.members.len(), 2, "{:?}", c.members);
    assert_eq!(c.member("rstopo2").map(|m| m.role.as_str()), Some("replica"));
    assert_eq!(c.dcs_error, None);
    let from_dcs = ctx.cluster_from_dcs(cluster).unwrap();
    assert_eq!((from_dcs.source.as_str(), from_dcs.leader.as_deref()), ("dcs", Some("rstopo1")));
    let mut names: Vec<&str> = from_dcs.members.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["rstopo1", "rstopo2"]);
    let e = ctx.cluster_from_dcs("../etc").unwrap_err();
    assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "cluster"), "{}", e);
    let op = ctx.cluster_async("rstopo1", 20).unwrap();
    assert!(op.wait(Some(Duration::from_secs(60))), "cluster_async did not end within 60 s");
    assert_eq!(op.cluster().unwrap().leader.as_deref(), Some("rstopo1"));

    // The configuration: no secret of the credentials in it, redacted instead.
    let credentials = ctx.patroni_credentials("rstopo1").unwrap();
    let config = ctx.patroni_config("rstopo1").unwrap();
    let text = config.to_string();
    for secret in [&credentials.superuser.password, &credentials.replication.password, &credentials.rewind.password] {
        assert!(!text.contains(secret.as_str()), "a password of the credentials is in the configuration");
    }
    assert!(text.contains("\"**********\""), "no redacted secret in the configuration");
    assert_eq!(config.get("scope").and_then(Json::as_str), Some(cluster));
    let op = ctx.patroni_config_async("rstopo1", 21).unwrap();
    assert!(op.wait(Some(Duration::from_secs(60))), "patroni_config_async did not end within 60 s");
    assert_eq!(op.patroni_config().unwrap(), config);
    let op = ctx.patroni_credentials_async("rstopo1", 22).unwrap();
    assert!(op.wait(Some(Duration::from_secs(60))), "patroni_credentials_async did not end within 60 s");
    assert_eq!(op.patroni_credentials().unwrap(), credentials);
    drop(op);

    // Validate: a parameter PostgreSQL refuses is an issue naming it; a good value is valid.
    let mut bad = config.clone();
    parameters_of(&mut bad).insert("work_mem".into(), "lots".into());
    let v = ctx.validate_patroni_config("rstopo1", &bad).unwrap();
    assert!(!v.valid, "{:?}", v);
    assert!(v.issues.iter().any(|i| i.field == "postgresql.parameters.work_mem"), "{:?}", v);
    let mut changed = config.clone();
    parameters_of(&mut changed).insert("work_mem".into(), "16MB".into());
    let op = ctx.validate_patroni_config_async("rstopo1", &changed, 23).unwrap();
    assert!(op.wait(Some(Duration::from_secs(90))), "validate_patroni_config_async did not end within 90 s");
    let v = op.config_validation().unwrap();
    assert!(v.valid && v.issues.is_empty(), "{:?}", v);

    // Set: refusals name the field and change nothing; then the parameter, kept with the secrets.
    let mut other_scope = changed.clone();
    if let Json::Object(m) = &mut other_scope {
        m.insert("scope".into(), "another".into());
    }
    let e = ctx.set_patroni_config("rstopo1", &other_scope).unwrap_err();
    assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "scope"), "{}", e);
    assert_eq!(ctx.patroni_config("rstopo1").unwrap(), config, "a refused set changed the configuration");
    ctx.set_patroni_config("rstopo1", &changed).unwrap();
    let now = ctx.patroni_config("rstopo1").unwrap();
    assert_eq!(
        now.get("postgresql").and_then(|p| p.get("parameters")).and_then(|p| p.get("work_mem")),
        Some(&Json::from("16MB"))
    );
    assert!(!now.to_string().contains(credentials.superuser.password.as_str()));
    assert_eq!(ctx.patroni_credentials("rstopo1").unwrap(), credentials, "the secrets were kept");
    let op = ctx.set_patroni_config_async("rstopo1", &config, 24).unwrap(); // back as it was
    assert!(op.wait(Some(Duration::from_secs(60))), "set_patroni_config_async did not end within 60 s");
    op.outcome().unwrap();
    let work_mem =
        |c: &Json| c.get("postgresql").and_then(|p| p.get("parameters")).and_then(|p| p.get("work_mem")).cloned();
    assert_eq!(work_mem(&ctx.patroni_config("rstopo1").unwrap()), work_mem(&config), "set back as it was");

    // Restart of the replica through Patroni: a new postmaster; an unknown member refused.
    let before = ctx.status("rstopo2").unwrap().pid;
    ctx.cluster_restart("rstopo1", Some("rstopo2")).unwrap();
    let after = ctx.status("rstopo2").unwrap();
    assert!(after.running() && after.pid.is_some() && after.pid != before, "{:?} -> {:?}", before, after);
    let e = ctx.cluster_restart("rstopo1", Some("nosuch")).unwrap_err();
    assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "member"), "{}", e);
    let e = ctx.cluster_reinit("rstopo2", "rstopo1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::State, "reinit of the leader: {}", e);

    // Reinit of the replica: cloned anew from the leader (a new postmaster), streaming again.
    let before = ctx.status("rstopo2").unwrap().pid;
    ctx.cluster_reinit("rstopo1", "rstopo2").unwrap();
    let after = ctx.status("rstopo2").unwrap();
    assert!(after.running() && after.pid.is_some() && after.pid != before, "{:?} -> {:?}", before, after);
    let c = ctx.cluster("rstopo1").unwrap();
    let replica = c.member("rstopo2").expect("the reinitialized replica is a member");
    assert_eq!(replica.role, "replica", "{:?}", c.members);
    settled(ctx, "rstopo1");
}
