//! The conformance scenario (tests/conformance/README.md) through this binding: the scenario's steps
//! run with the binding's typed methods, each result written back as JSON and seen through the step's
//! "expect" (the matchers are those of tests/conformance/compare.py), one line per step. It runs only
//! when tests/conformance/conformance.sh sets LIBPGLIFT_CONFORMANCE_SCENARIO, _VARS and _OUTPUT.
use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::Write;

use pglift::{
    ClusterMember, ConfigurationResult, Context, DropOptions, Error, Instance, InstanceListItem, InstanceStatus, Json,
    Lag, PatroniInfo, StopMode, SwitchoverOptions, TopologyResult,
};

fn object(pairs: Vec<(&str, Json)>) -> Json {
    Json::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}
fn string(s: &str) -> Json {
    Json::String(s.to_string())
}
fn opt_string(s: &Option<String>) -> Json {
    s.as_deref().map_or(Json::Null, string)
}
fn number(n: i64) -> Json {
    Json::Number(n as f64)
}

// --- the typed results, as the library's JSON again ---------------------------------------------------

fn member_json(m: &ClusterMember) -> Json {
    let mut o = vec![
        ("name", string(&m.name)),
        ("host", string(&m.host)),
        ("port", number(m.port as i64)),
        ("role", string(&m.role)),
        ("state", string(&m.state)),
    ];
    if let Some(url) = &m.api_url {
        o.push(("api_url", string(url)));
    }
    if let Some(timeline) = m.timeline {
        o.push(("timeline", number(timeline)));
    }
    match &m.lag {
        Some(Lag::Bytes(n)) => o.push(("lag", number(*n))),
        Some(Lag::Unknown) => o.push(("lag", string("unknown"))),
        None => {}
    }
    for (key, value) in [("patroni_api", &m.patroni_api), ("health", &m.health), ("health_reason", &m.health_reason)] {
        if let Some(v) = value {
            o.push((key, string(v)));
        }
    }
    object(o)
}

fn patroni_json(p: &PatroniInfo) -> Json {
    let mut o = vec![
        ("cluster", string(&p.cluster)),
        ("node", string(&p.node)),
        (
            "restapi",
            object(vec![
                ("connect_address", string(&p.restapi_connect_address)),
                ("listen", string(&p.restapi_listen)),
            ]),
        ),
        ("postgresql", object(vec![("connect_host", opt_string(&p.postgresql_connect_host))])),
        ("cluster_members", Json::Array(p.members.iter().map(member_json).collect())),
        ("orphan_postmaster", Json::Bool(p.orphan_postmaster)),
    ];
    if let Some(paused) = p.is_paused {
        o.push(("is_paused", Json::Bool(paused)));
    }
    if let Some(state) = &p.state {
        o.push(("state", string(state)));
    }
    if let Some(e) = &p.dcs_error {
        o.push(("dcs_error", string(e)));
    }
    object(o)
}

fn instance_json(i: &Instance) -> Json {
    let mut o = vec![
        ("name", string(&i.name)),
        ("version", string(&i.version)),
        ("port", number(i.port as i64)),
        ("state", string(&i.state)),
        ("data_directory", string(&i.data_directory.to_string_lossy())),
        ("wal_directory", string(&i.wal_directory.to_string_lossy())),
        ("settings", Json::Object(i.settings.clone())),
        ("data_checksums", i.data_checksums.map_or(Json::Null, Json::Bool)),
        ("locale", opt_string(&i.locale)),
        ("encoding", opt_string(&i.encoding)),
        ("pending_restart", Json::Bool(i.pending_restart)),
    ];
    if let Some(p) = &i.patroni {
        o.push(("patroni", patroni_json(p)));
    }
    object(o)
}

fn status_json(s: &InstanceStatus) -> Json {
    let mut o = vec![("postgresql", string(&s.postgresql)), ("pid", s.pid.map_or(Json::Null, |p| number(p as i64)))];
    if let Some(p) = &s.patroni {
        let mut patroni = vec![("state", string(&p.state)), ("orphan_postmaster", Json::Bool(p.orphan_postmaster))];
        if let Some(e) = &p.dcs_error {
            patroni.push(("dcs_error", string(e)));
        }
        o.push(("patroni", object(patroni)));
    }
    object(o)
}

fn list_json(items: &[InstanceListItem]) -> Json {
    Json::Array(
        items
            .iter()
            .map(|i| {
                object(vec![
                    ("name", string(&i.name)),
                    ("version", string(&i.version)),
                    ("port", number(i.port as i64)),
                    ("datadir", string(&i.datadir.to_string_lossy())),
                    ("status", string(&i.status)),
                ])
            })
            .collect(),
    )
}

fn configuration_json(r: &ConfigurationResult) -> Json {
    let changes = r.changes.iter().map(|(k, (a, b))| (k.clone(), Json::Array(vec![a.clone(), b.clone()]))).collect();
    object(vec![
        ("changes", Json::Object(changes)),
        ("reloaded", Json::Bool(r.reloaded)),
        ("needs_restart", Json::Array(r.needs_restart.iter().map(|s| string(s)).collect())),
        ("pending_restart", Json::Bool(r.pending_restart)),
    ])
}

fn topology_json(r: &TopologyResult) -> Json {
    object(vec![
        ("previous_leader", string(&r.previous_leader)),
        ("new_leader", opt_string(&r.new_leader)),
        ("scheduled", Json::Bool(r.scheduled)),
    ])
}

// --- placeholders and matchers --------------------------------------------------------------------------

/// "${NAME}" at the start of `s`: (NAME, the placeholder's length).
fn placeholder_at(s: &str) -> Option<(&str, usize)> {
    let rest = s.strip_prefix("${")?;
    let end = rest.find('}')?;
    let name = &rest[..end];
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_') {
        return None;
    }
    Some((name, end + 3))
}

fn variable<'a>(vars: &'a Json, name: &str) -> &'a Json {
    vars.get(name).unwrap_or_else(|| panic!("no value for the placeholder ${{{}}}", name))
}

fn substitute(v: &Json, vars: &Json) -> Json {
    match v {
        Json::String(s) => {
            if let Some((name, len)) = placeholder_at(s) {
                if len == s.len() {
                    return variable(vars, name).clone();
                }
            }
            let mut out = String::new();
            let mut i = 0;
            while i < s.len() {
                if let Some((name, len)) = placeholder_at(&s[i..]) {
                    match variable(vars, name) {
                        Json::String(text) => out.push_str(text),
                        other => out.push_str(&other.to_string()),
                    }
                    i += len;
                } else {
                    let c = s[i..].chars().next().unwrap();
                    out.push(c);
                    i += c.len_utf8();
                }
            }
            Json::String(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(|x| substitute(x, vars)).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, x)| (k.clone(), substitute(x, vars))).collect()),
        other => other.clone(),
    }
}

/// `actual` seen through `pattern`: the pattern where it matches, the actual value elsewhere.
fn normalise(actual: &Json, pattern: &Json, vars: &Json) -> Json {
    match pattern {
        Json::String(p) => {
            let ok = match p.as_str() {
                "<any>" => true,
                "<int>" => matches!(actual, Json::Number(n) if n.fract() == 0.0),
                "<string>" => matches!(actual, Json::String(_)),
                "<bool>" => matches!(actual, Json::Bool(_)),
                _ => p.contains("${") && *actual == substitute(pattern, vars),
            };
            if ok {
                pattern.clone()
            } else {
                actual.clone()
            }
        }
        Json::Object(p) if p.len() == 1 && p.contains_key("<one_of>") => match &p["<one_of>"] {
            Json::Array(choices) if choices.contains(actual) => pattern.clone(),
            _ => actual.clone(),
        },
        Json::Object(p) if p.len() == 1 && p.contains_key("<unordered>") => {
            let items = match &p["<unordered>"] {
                Json::Array(items) => items,
                _ => return actual.clone(),
            };
            let list = match actual {
                Json::Array(list) if list.len() == items.len() => list,
                _ => return actual.clone(),
            };
            let mut used = vec![false; list.len()];
            for item in items {
                let found = (0..list.len()).find(|&i| !used[i] && normalise(&list[i], item, vars) == *item);
                match found {
                    Some(i) => used[i] = true,
                    None => return actual.clone(),
                }
            }
            pattern.clone()
        }
        Json::Object(p) => {
            let object = match actual {
                Json::Object(o) => o,
                _ => return actual.clone(),
            };
            let absent = string("<absent>");
            let out: BTreeMap<String, Json> = p
                .iter()
                .map(|(key, sub)| {
                    let value = match object.get(key) {
                        Some(v) if *sub == absent => v.clone(),
                        None if *sub == absent => absent.clone(),
                        Some(v) => normalise(v, sub, vars),
                        None => string("<missing>"),
                    };
                    (key.clone(), value)
                })
                .collect();
            Json::Object(out)
        }
        Json::Array(p) => match actual {
            Json::Array(list) if list.len() == p.len() => {
                Json::Array(list.iter().zip(p).map(|(a, sub)| normalise(a, sub, vars)).collect())
            }
            _ => actual.clone(),
        },
        _ => actual.clone(),
    }
}

// --- the steps ------------------------------------------------------------------------------------------

fn run_step(ctx: &Context, step: &Json) -> Result<Json, Error> {
    let instance = step.get("instance").and_then(Json::as_str).unwrap_or("");
    let op = step.get("op").and_then(Json::as_str).unwrap_or("");
    Ok(match op {
        "create" => instance_json(&ctx.create_json(&step.get("spec").expect("create without spec").to_string())?),
        "get" => instance_json(&ctx.get(instance)?),
        "status" => status_json(&ctx.status(instance)?),
        "list" => list_json(&ctx.list(None)?),
        "configure" => {
            let changes = match step.get("changes") {
                Some(Json::Object(m)) => m.clone(),
                _ => panic!("configure without changes"),
            };
            configuration_json(&ctx.configure(instance, &changes, false)?)
        }
        "start" => ctx.start(instance).map(|_| Json::Null)?,
        "stop" => ctx.stop(instance, StopMode::Fast).map(|_| Json::Null)?,
        "drop" => {
            let remove_cluster = step.get("remove_cluster").and_then(Json::as_bool).unwrap_or(false);
            let options = DropOptions { remove_cluster, ..Default::default() };
            ctx.drop_instance_with(instance, &options).map(|_| Json::Null)?
        }
        "switchover" => {
            let candidate = step.get("candidate").and_then(Json::as_str).map(str::to_string);
            topology_json(&ctx.switchover(instance, &SwitchoverOptions { candidate, ..Default::default() })?)
        }
        "pause" => ctx.pause(instance).map(|_| Json::Null)?,
        "resume" => ctx.resume(instance).map(|_| Json::Null)?,
        "patroni_log_file" => string(&ctx.patroni_log_file(instance)?.to_string_lossy()),
        other => panic!("unknown op {}", other),
    })
}

fn read_json(path: &str) -> Json {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {}", path, e));
    Json::parse(&text).unwrap_or_else(|e| panic!("{}: {}", path, e))
}

#[test]
fn conformance() {
    let scenario_path = match env::var("LIBPGLIFT_CONFORMANCE_SCENARIO") {
        Ok(path) => path,
        Err(_) => {
            eprintln!("skipped: run by tests/conformance/conformance.sh (LIBPGLIFT_CONFORMANCE_SCENARIO...)");
            return;
        }
    };
    let scenario = read_json(&scenario_path);
    let vars = read_json(&env::var("LIBPGLIFT_CONFORMANCE_VARS").expect("LIBPGLIFT_CONFORMANCE_VARS"));
    let mut out = fs::File::create(env::var("LIBPGLIFT_CONFORMANCE_OUTPUT").expect("LIBPGLIFT_CONFORMANCE_OUTPUT"))
        .expect("the output file");
    // First line: the matchers applied to the scenario's cases (compare.py checks them).
    let case_vars = scenario.get("matcher_variables").cloned().unwrap_or(Json::Object(BTreeMap::new()));
    let cases = match scenario.get("matcher_cases") {
        Some(Json::Array(cases)) => cases
            .iter()
            .map(|c| {
                normalise(c.get("actual").unwrap_or(&Json::Null), c.get("pattern").unwrap_or(&Json::Null), &case_vars)
            })
            .collect(),
        _ => Vec::new(),
    };
    writeln!(out, "{}", object(vec![("step", string("matchers")), ("result", Json::Array(cases))]))
        .expect("the output file");

    let settings = substitute(scenario.get("settings").expect("no settings"), &vars);
    let ctx = Context::with_settings_json(&settings.to_string()).expect("a context");
    let steps = match scenario.get("steps") {
        Some(Json::Array(steps)) => steps,
        _ => panic!("the scenario has no steps"),
    };
    for step in steps {
        let id = step.get("id").and_then(Json::as_str).unwrap_or("?");
        let result = match run_step(&ctx, &substitute(step, &vars)) {
            Ok(value) => value,
            Err(e) => {
                eprintln!("step {}: {}: {}", id, e.status_name(), e.message);
                let mut failure = vec![("error", string(&e.status_name()))];
                if !e.field.is_empty() {
                    failure.push(("field", string(&e.field)));
                }
                object(failure)
            }
        };
        let expect = step.get("expect").cloned().unwrap_or_else(|| result.clone());
        let line = object(vec![("step", string(id)), ("result", normalise(&result, &expect, &vars))]);
        writeln!(out, "{}", line).expect("the output file");
    }
}
