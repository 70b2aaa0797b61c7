//! A Patroni pair from Rust, with typed results: the members in `Instance::patroni`, switchover and
//! failover outcomes (`TopologyResult`, blocking and as ops), pause and resume, promote, the log file,
//! an unknown candidate refused (`ErrorKind::InvalidSpec`, field "candidate"), the drops. Needs a private
//! etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1 (skipped without it).
use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use pglift::json::quote;
use pglift::{
    Context, DropOptions, ErrorKind, Lag, OpState, PatroniInfo, PatroniStatus, SwitchoverOptions, TopologyResult,
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

    // A switchover, blocking.
    let options = SwitchoverOptions { candidate: Some("rstopo2".into()), ..Default::default() };
    let done = ctx.switchover("rstopo1", &options).unwrap();
    assert_eq!(
        done,
        TopologyResult { previous_leader: "rstopo1".into(), new_leader: Some("rstopo2".into()), scheduled: false }
    );
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
    drop(cleanup); // the replica, then the last member with the cluster's keys
    assert_eq!(ctx.list(None).unwrap(), Vec::new(), "instances left after the drops");
}
