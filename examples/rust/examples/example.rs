//! libpglift from Rust: create an instance, read it back, restart it asynchronously while its log
//! records stream in, then drop it.
//!
//!     cargo run --example example -- [NAME] [PORT]
//!
//! Settings come from the environment as for the pglift CLI (SETTINGS, PGLIFT_CONFIG_DIR, ...).
use std::net::TcpListener;
use std::time::Duration;

use pglift::{Context, EventKind, InstanceSpec, OpState, StopMode};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {}", e);
        std::process::exit(1);
    }
}

fn run() -> Result<(), pglift::Error> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "example".to_string());
    let port = match args.next() {
        Some(p) => p.parse().expect("PORT must be a number"),
        None => TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(5432, |a| a.port()),
    };
    println!("libpglift {}", pglift::version());
    let ctx = Context::new()?;
    let instance = ctx.create(&InstanceSpec::new(&name).port(port))?;
    let qualified = format!("{}/{}", instance.version, instance.name);
    println!("created {}: port {}, state {}", qualified, instance.port, instance.state);
    println!("  data directory: {}", instance.data_directory.display());

    let outcome: Result<(), pglift::Error> = (|| {
        let op = ctx.restart_async(&qualified, StopMode::Fast, 1)?;
        let state = ctx.drain_until_done(&op, Duration::from_secs(120), |event| {
            if let EventKind::Log { .. } = event.kind {
                println!("  [op {}] {}", event.tag, event.message); // tag 0: the blocking create
            }
        });
        if state != Some(OpState::Succeeded) {
            op.outcome()?;
        }
        let status = ctx.status(&qualified)?;
        println!("{} restarted, postgresql {} (pid {:?})", qualified, status.postgresql, status.pid);
        Ok(())
    })();
    ctx.drop_instance(&qualified)?;
    println!("dropped {}", qualified);
    outcome
}
