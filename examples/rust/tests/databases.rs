//! Databases against a real PostgreSQL 15; run through tests/capi/with_prefix.sh (a throw-away prefix).
use std::net::TcpListener;

use std::time::Duration;

use pglift::{Context, ErrorKind, InstanceSpec, Json, WriteOptions};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn names(v: &Json) -> Vec<String> {
    match v {
        Json::Array(items) => {
            items.iter().filter_map(|i| i.get("name").and_then(Json::as_str)).map(str::to_string).collect()
        }
        _ => vec![],
    }
}

#[test]
fn database_life() {
    let ctx = Context::new().unwrap();
    ctx.create(&InstanceSpec::new("rsdbs").version("15").port(free_port())).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let inst = "15/rsdbs";
        let db = ctx
            .create_database(inst, r#"{"name": "app", "settings": {"work_mem": "8MB"}, "extensions": ["hstore"]}"#)
            .unwrap();
        assert_eq!(db.get("owner").and_then(Json::as_str), Some("postgres"));
        assert_eq!(names(db.get("extensions").unwrap()), vec!["hstore"]);
        let e = ctx.create_database(inst, r#"{"name": "app"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        let e = ctx.create_database(inst, r#"{"name": "x", "schemas": [{"name": ""}]}"#).unwrap_err();
        assert_eq!((e.kind(), e.field.as_str()), (ErrorKind::InvalidSpec, "schemas[0].name"));
        assert_eq!(names(&ctx.list_databases(inst, &["app"], &[]).unwrap()), vec!["app"]);

        // Dry runs, blocking and async: checked (an existing name), nothing changed.
        let dry = WriteOptions::DRY_RUN;
        let before = ctx.get_database(inst, "app").unwrap();
        let would = ctx.create_database_with(inst, r#"{"name": "rsdry_db", "owner": "postgres"}"#, &dry).unwrap();
        assert_eq!(would.get("name").and_then(Json::as_str), Some("rsdry_db"));
        assert_eq!(ctx.get_database(inst, "rsdry_db").unwrap_err().kind(), ErrorKind::NotFound);
        let e = ctx.create_database_with(inst, r#"{"name": "app"}"#, &dry).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        let reset = r#"{"name": "app", "settings": {}}"#;
        assert_eq!(ctx.alter_database_with(inst, reset, &dry).unwrap(), before); // as it is now
        ctx.drop_database_with(inst, "app", true, &dry).unwrap();
        assert_eq!(ctx.get_database(inst, "app").unwrap(), before);
        let create = ctx.create_database_with_async(inst, r#"{"name": "rsdry_db"}"#, &dry, 51).unwrap();
        let alter = ctx.alter_database_with_async(inst, reset, &dry, 52).unwrap();
        let drop = ctx.drop_database_with_async(inst, "app", true, &dry, 53).unwrap();
        for op in [&create, &alter, &drop] {
            assert!(op.wait(Some(Duration::from_secs(60))));
        }
        assert_eq!(create.database().unwrap().get("name").and_then(Json::as_str), Some("rsdry_db"));
        assert_eq!(alter.database().unwrap(), before);
        drop.outcome().unwrap();
        assert_eq!(ctx.get_database(inst, "rsdry_db").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(ctx.get_database(inst, "app").unwrap(), before);

        let db = ctx.alter_database(inst, r#"{"name": "app", "settings": {}}"#).unwrap();
        assert_eq!(db.get("settings"), Some(&Json::Null));

        ctx.run_sql(inst, "CREATE TABLE t (i int); CREATE ROLE rsreader; GRANT SELECT ON t TO rsreader", &["app"], &[])
            .unwrap();
        let rows = ctx.run_sql(inst, "SELECT 1 AS one, NULL AS none", &["app"], &[]).unwrap();
        let row = match rows.get("app") {
            Some(Json::Array(r)) => r[0].clone(),
            other => panic!("rows: {:?}", other),
        };
        assert_eq!(row.get("one").and_then(Json::as_str), Some("1"));
        assert_eq!(row.get("none"), Some(&Json::Null));
        let privs = ctx.database_privileges(inst, &["app"], &["rsreader"], false).unwrap();
        match &privs {
            Json::Array(p) => {
                assert_eq!(p.len(), 1);
                assert_eq!(p[0].get("object_name").and_then(Json::as_str), Some("t"));
            }
            other => panic!("privileges: {:?}", other),
        }
        ctx.drop_database(inst, "app", true).unwrap();
        assert_eq!(ctx.get_database(inst, "app").unwrap_err().kind(), ErrorKind::NotFound);
    }));
    ctx.drop_instance("15/rsdbs").unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
