//! pg_hba records against a real PostgreSQL 15; run through tests/capi/with_prefix.sh (a throw-away
//! prefix): see README.md.
use std::net::TcpListener;
use std::time::Duration;

use pglift::{Context, ErrorKind, HbaRecord, InstanceSpec, OpState};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn hba_records_on_a_plain_instance() {
    let ctx = Context::new().unwrap();
    ctx.create(&InstanceSpec::new("rshba").version("15").port(free_port())).unwrap();
    let mut record = HbaRecord::host("10.0.0.0/8", "scram-sha-256");
    record.database = vec!["app".into()];
    let dry = ctx.add_hba_records("15/rshba", &[record.clone()], true).unwrap();
    assert!(dry.changed && !dry.reloaded && dry.diff.contains("+host    app"), "{:?}", dry);
    let added = ctx.add_hba_records("15/rshba", &[record.clone()], false).unwrap();
    assert!(added.reloaded && added.added.len() == 1, "{:?}", added);
    assert!(!ctx.add_hba_records("15/rshba", &[record.clone()], false).unwrap().changed);
    let e = ctx.add_hba_records("15/rshba", &[HbaRecord::local("nope")], false).unwrap_err();
    assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "method"));
    let op = ctx.remove_hba_records_async("15/rshba", &[record.clone()], false, 21).unwrap();
    assert!(op.wait(Some(Duration::from_secs(60))));
    assert_eq!(op.state(), OpState::Succeeded);
    let removed = pglift::HbaResult::from_json(&op.result_json().unwrap().unwrap()).unwrap();
    assert_eq!(removed.removed, added.added);
    assert_eq!(ctx.remove_hba_records("15/rshba", &[record], false).unwrap_err().kind(), ErrorKind::NotFound);
    ctx.drop_instance("15/rshba").unwrap();
}
