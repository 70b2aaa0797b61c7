// `instance alter` and `instance apply`: declarative changes composed of the instance operations
// (ops/instance_ops.hpp), each computed in full (and checked) before the first change is made.
#include "pglift/apply.hpp"

#include "core/coro.hpp"
#include "core/fields.hpp"
#include "core/text.hpp"
#include "ops/context_impl.hpp"
#include "ops/instance_ops.hpp"
#include "ops/lock.hpp"
#include "ops/lookup.hpp"
#include "ops/sql.hpp"
#include "ops/sql_objects.hpp"
#include "patroni/member.hpp"
#include "postgres/conf.hpp"
#include "postgres/layout.hpp"
#include "proc/process.hpp"

namespace pglift {
using core::Value;
using postgres::Layout;

const char* to_string(ChangeState s) noexcept {
  switch (s) {
    case ChangeState::created: return "created";
    case ChangeState::changed: return "changed";
    case ChangeState::dropped: return "dropped";
    case ChangeState::unchanged: break;
  }
  return "null";
}

namespace {

int checked_port(std::int64_t port) {
  if (port < 1 || port > 65535) throw InvalidSpec("port", std::to_string(port), "must be between 1 and 65535");
  return static_cast<int>(port);
}

/// "settings": {"work_mem": "8MB", "jit": null}: null removes the parameter.
void read_settings(const Value& settings, ParameterChanges& out) {
  if (!settings.is_object()) throw InvalidSpec("settings", core::short_text(settings), core::expecting("an object", settings));
  for (const auto& [k, v] : settings.as_object())
    out[k] = v.is_null() ? std::nullopt : std::optional<ConfValue>(core::value_to_conf("settings." + k, v));
}

std::string json_of(const std::optional<ConfValue>& v) { return core::to_json(v ? core::conf_to_value(*v) : Value()); }
std::string text_json(const std::string& s) { return core::to_json(Value(s)); }

}  // namespace

InstanceChanges InstanceChanges::from_json(const std::string& json) {
  Value doc = core::parse(json, "instance");
  core::Fields f(doc, "instance");
  InstanceChanges c;
  if (auto port = f.integer("port")) c.port = checked_port(*port);
  if (auto state = f.str("state")) {
    if (*state == "started") c.state = InstanceState::started;
    else if (*state == "stopped") c.state = InstanceState::stopped;
    else if (*state == "restarted") c.restart = true;
    else throw InvalidSpec("state", *state, "expecting 'started', 'stopped' or 'restarted'");
  }
  if (const Value* settings = f.get("settings")) read_settings(*settings, c.settings);
  c.data_checksums = f.boolean("data_checksums");
  c.restart_on_changes = f.boolean("restart_on_changes").value_or(false);
  f.reject_unknown();
  return c;
}

namespace {

/// The "roles" or "databases" of a manifest as InstanceSpec reads them: an item's "state" is a
/// manifest's word ("present", or "absent": the item is then its name only, and its index goes to
/// `absent_at`); items keep their places, so that InstanceSpec's errors name them right.
Value without_states(const std::string& key, const Value& items, std::vector<std::size_t>& absent_at) {
  if (!items.is_array()) return items;  // InstanceSpec names it
  core::Array out;
  for (std::size_t i = 0; i < items.as_array().size(); ++i) {
    const Value& item = items.as_array()[i];
    const std::string path = key + "[" + std::to_string(i) + "]";
    const Value* state = item.is_object() ? item.find("state") : nullptr;
    if (!state) {
      out.push_back(item);
      continue;
    }
    if (!state->is_string() || (state->as_string() != "present" && state->as_string() != "absent"))
      throw InvalidSpec(path + ".state", core::short_text(*state), "expecting 'present' or 'absent'");
    core::Object kept;
    if (state->as_string() == "absent") {
      const Value* name = item.find("name");
      if (!name) throw InvalidSpec::missing(path + ".name", "field '" + path + ".name' is required: an absent item names what to drop");
      kept.emplace_back("name", *name);
      absent_at.push_back(i);
    } else {
      for (const auto& [k, v] : item.as_object())
        if (k != "state") kept.emplace_back(k, v);
    }
    out.push_back(Value(std::move(kept)));
  }
  return Value(std::move(out));
}

/// Moves the items at `at` (ascending) out of `items`, their names to `names`.
template <class Spec>
void take_absent(std::vector<Spec>& items, const std::vector<std::size_t>& at, std::vector<std::string>& names) {
  for (std::size_t i : at) names.push_back(items.at(i).name);
  for (auto i = at.rbegin(); i != at.rend(); ++i) items.erase(items.begin() + static_cast<std::ptrdiff_t>(*i));
}

}  // namespace

InstanceManifest InstanceManifest::from_json(const std::string& json) {
  Value doc = core::parse(json, "instance");
  if (!doc.is_object()) throw InvalidSpec("instance", core::short_text(doc), core::expecting("an object", doc));
  InstanceManifest m;
  core::Object rest;  // what InstanceSpec reads: without what only a manifest says
  std::vector<std::size_t> absent_roles, absent_databases;
  for (const auto& [k, v] : doc.as_object()) {
    if (k == "roles" || k == "databases") {
      rest.emplace_back(k, without_states(k, v, k == "roles" ? absent_roles : absent_databases));
      continue;
    }
    if (k == "state" && v.is_string() && (v.as_string() == "absent" || v.as_string() == "restarted")) {
      m.absent = v.as_string() == "absent";
      m.restart = v.as_string() == "restarted";
      continue;
    }
    if (k == "restart_on_changes") {
      if (!v.is_null() && !v.is_bool()) throw InvalidSpec(k, core::short_text(v), core::expecting("a boolean", v));
      m.restart_on_changes = v.is_bool() && v.as_bool();
      continue;
    }
    if (k == "settings" && v.is_object()) {
      core::Object kept;
      for (const auto& [name, value] : v.as_object()) {
        if (value.is_null()) m.removed_settings[name] = std::nullopt;
        else kept.emplace_back(name, value);
      }
      rest.emplace_back(k, Value(std::move(kept)));
      continue;
    }
    rest.emplace_back(k, v);
  }
  m.spec = InstanceSpec::from_json(core::to_json(Value(std::move(rest))));
  take_absent(m.spec.roles, absent_roles, m.absent_roles);
  take_absent(m.spec.databases, absent_databases, m.absent_databases);
  return m;
}

InstanceManifest InstanceManifest::from_yaml(const std::string& yaml) {
  Value doc;
  try {
    doc = core::parse_yaml(yaml);
  } catch (const core::ParseError& e) {
    throw InvalidSpec::malformed("instance", e.what(), e.field);  // never the text
  }
  return from_json(core::to_json(doc));
}

std::string ApplyResult::to_json() const {
  core::Array d;
  for (const auto& c : diff)
    d.push_back(core::Object{{"field", c.field}, {"before", core::parse_json(c.before)}, {"after", core::parse_json(c.after)}});
  core::Array restart;
  for (const auto& n : needs_restart) restart.push_back(n);
  auto state_of = [](ChangeState s) { return s == ChangeState::unchanged ? Value() : Value(std::string(to_string(s))); };
  auto objects = [&](const std::vector<ObjectChange>& items) {
    core::Array a;
    for (const auto& o : items) a.push_back(core::Object{{"name", o.name}, {"change_state", state_of(o.change_state)}});
    return a;
  };
  return core::to_json(core::Object{
      {"change_state", state_of(change_state)},
      {"diff", d},
      {"needs_restart", restart},
      {"restarted", restarted},
      {"pending_restart", pending_restart},
      {"dry_run", dry_run},
      {"roles", objects(roles)},
      {"databases", objects(databases)}});
}

namespace ops {
namespace {

awaitable<void> set_checksums(const core::Op& op, const Layout& l, bool enable) {
  op.info(std::string(enable ? "enabling" : "disabling") + " data checksums of " + l.display(), "pglift.instances");
  proc::Command cmd{.argv = {l.program("pg_checksums").string(), enable ? "--enable" : "--disable", "--pgdata", l.datadir.string()},
                    .env = {{std::string("LC_ALL"), std::string("C")}},
                    .timeout = std::chrono::hours(24),
                    .log_target = "pglift.pg_checksums"};
  co_await proc::run(op, std::move(cmd));
}

/// The changes an instance needs, all checked before any is made; then, unless dry, made.
/// `before`: the instance as observed under the lock.
awaitable<ApplyResult> alter(const core::Op& op, const Layout& l, const Instance& before, const InstanceChanges& c,
                             bool dry_run) {
  ApplyResult r;
  r.dry_run = dry_run;
  const bool member = patroni::is_member(op.settings, l);
  const bool running = before.state == InstanceState::started;

  // The configuration: the settings and the port, one change.
  ParameterChanges conf;
  ConfParameters managed = managed_parameters(op.settings, l);
  for (const auto& [name, value] : c.settings) {
    if (name == "port") throw InvalidSpec("settings.port", value ? postgres::render_conf_value(*value) : "null", "give the port as the 'port' field");
    std::optional<ConfValue> old;
    if (auto it = managed.find(name); it != managed.end()) old = it->second;
    if (old == value) continue;
    conf[name] = value;
    r.diff.push_back({"settings." + name, json_of(old), json_of(value)});
  }
  if (c.port && *c.port != before.port) {
    if (member)
      throw Unsupported("changing the port of Patroni member " + l.display() +
                        " is not supported (its address is in the cluster's DCS): create a member on the new port and drop this one");
    check_free(l, *c.port);
    conf["port"] = ConfValue(static_cast<std::int64_t>(*c.port));
    r.diff.insert(r.diff.begin(), FieldChange{"port", std::to_string(before.port), std::to_string(*c.port)});
  }
  const bool checksums = c.data_checksums && before.data_checksums != c.data_checksums;
  if (checksums) {
    if (member) throw Unsupported("changing data_checksums of Patroni member " + l.display() + " is not supported");
    if (running) throw StateError("cannot alter data_checksums on a running instance");
    r.diff.push_back({"data_checksums", core::to_json(before.data_checksums ? Value(*before.data_checksums) : Value()),
                      core::to_json(Value(*c.data_checksums))});
  }
  const bool state_change = c.state && *c.state != before.state;
  if (state_change) r.diff.push_back({"state", text_json(to_string(before.state)), text_json(to_string(*c.state))});
  if (c.restart) r.diff.push_back({"state", text_json(to_string(before.state)), text_json("restarted")});
  r.change_state = r.diff.empty() ? ChangeState::unchanged : ChangeState::changed;
  if (dry_run || r.diff.empty()) {
    r.pending_restart = before.pending_restart;
    co_return r;
  }

  // What PostgreSQL reports at the end, derived: the reload's answer, else as before; nothing waits once it
  // was stopped, started or restarted (no second observe: on a member it would ask the whole cluster).
  r.pending_restart = before.pending_restart;
  if (checksums) co_await set_checksums(op, l, *c.data_checksums);
  if (!conf.empty()) {
    ConfigurationResult cr = co_await configure(op, l, conf);
    r.needs_restart = cr.needs_restart;
    r.pending_restart = cr.pending_restart;
  }
  bool now_running = running;
  if (state_change && *c.state == InstanceState::stopped) {
    co_await stop(op, l, StopMode::fast);
    now_running = false;
    r.needs_restart.clear();  // a stop is what they waited for
    r.pending_restart = false;
  } else if (state_change && *c.state == InstanceState::started) {
    StartOptions start_options;
    co_await start(op, l, start_options);
    now_running = true;
    r.pending_restart = false;
  }
  const bool restart_now = c.restart || (c.restart_on_changes && !r.needs_restart.empty());
  if (restart_now && now_running && !(state_change && *c.state == InstanceState::started)) {
    co_await restart(op, l, StopMode::fast);
    r.restarted = true;
    r.needs_restart.clear();
    r.pending_restart = false;
  } else if (restart_now && !now_running && c.restart) {
    StartOptions start_options;
    co_await start(op, l, start_options);
    r.restarted = true;
    r.pending_restart = false;
  }
  co_return r;
}

/// The manifest's roles and databases on the instance `l` (its lock held), into `r`: roles, then
/// databases, then the absent databases and roles. A stopped
/// plain instance is started for them, then stopped again, whatever happens (not in a dry run: skipped
/// with a warning); a standby skips them with a warning.
awaitable<void> apply_objects(const core::Op& op, const Layout& l, const InstanceManifest& m, ApplyResult& r) {
  const bool started_here = !postgres::running_postmaster(l);
  if (started_here && op.dry_run) {
    op.warning("instance " + l.display() + " is not running: the roles and databases of the manifest are not checked in a dry run",
               "pglift.instances");
    co_return;
  }
  if (started_here) co_await sql::start_for(op, l, "the roles and databases of the manifest");
  auto body = [&]() -> awaitable<void> {
    const sql::Target t = sql::running(op.settings, l);
    auto in_recovery = [](postgres::Session& s) { return s.query("SELECT pg_is_in_recovery()").at(0).at(0) == "t"; };
    const bool standby = co_await sql::with_session(op, t, in_recovery);
    if (standby) {
      op.warning("instance " + l.display() + " is a read-only standby: the roles and databases of the manifest come from its "
                 "primary, none is applied here",
                 "pglift.instances");
      co_return;
    }
    for (const auto& role : m.spec.roles) {
      const ChangeState done = co_await apply_role(op, t, role);
      r.roles.push_back({role.name, done});
    }
    std::vector<std::string> simulated;  // a dry run's roles, which its databases may name
    for (const auto& o : r.roles)
      if (op.dry_run && o.change_state == ChangeState::created) simulated.push_back(o.name);
    for (const auto& db : m.spec.databases) {
      const ChangeState done = co_await apply_database(op, t, db, simulated);
      r.databases.push_back({db.name, done});
    }
    // Drops last, databases first: a role to drop may own a database to drop.
    for (const auto& name : m.absent_databases) {
      const ChangeState done = co_await apply_absent_database(op, t, name);
      r.databases.push_back({name, done});
    }
    for (const auto& name : m.absent_roles) {
      const ChangeState done = co_await apply_absent_role(op, t, name);
      r.roles.push_back({name, done});
    }
  };
  co_await sql::then_stop_if(op, l, started_here, body);  // stopped again even when a step failed
  auto any = [](const std::vector<ObjectChange>& v) {
    return std::any_of(v.begin(), v.end(), [](const ObjectChange& o) { return o.change_state != ChangeState::unchanged; });
  };
  if (r.change_state == ChangeState::unchanged && (any(r.roles) || any(r.databases))) r.change_state = ChangeState::changed;
}

awaitable<ApplyResult> apply(const core::Op& op, const InstanceManifest& m, bool dry_run) {
  const InstanceSpec& spec = m.spec;
  spec.validate();
  const std::string version = spec.version.value_or(op.settings.default_version());
  op.settings.version(version);
  Layout l = Layout::of(op.settings, spec.name, version);
  if (!postgres::exists(l)) {
    ApplyResult r;
    r.dry_run = dry_run;
    if (m.absent) co_return r;
    r.change_state = ChangeState::created;
    if (dry_run) co_return r;
    InstanceSpec create_spec = spec;
    CreateOptions options;
    co_await create(op, std::move(create_spec), options);
    co_return r;
  }
  InstanceLock lock(op.settings, l.qualname());
  if (!postgres::exists(l)) throw NotFound("instance", l.display(), "dropped while this apply waited");
  if (m.absent) {
    ApplyResult r;
    r.dry_run = dry_run;
    r.change_state = ChangeState::dropped;
    if (!dry_run) {
      DropOptions options;
      co_await drop(op, l, options);
    }
    co_return r;
  }
  // What cannot change after the creation must not differ from what is observed.
  Instance current = co_await observe(op, l, false);
  if (spec.locale && current.locale && *spec.locale != *current.locale)
    throw InvalidSpec("locale", *spec.locale, "the locale of instance " + l.display() + " is " + *current.locale + ": it cannot be changed");
  if (spec.encoding && current.encoding && *spec.encoding != *current.encoding)
    throw InvalidSpec("encoding", *spec.encoding,
                      "the encoding of instance " + l.display() + " is " + *current.encoding + ": it cannot be changed");
  if (spec.patroni && !current.patroni)
    throw Unsupported("instance " + l.display() + " is not a Patroni member: converting it is not supported");
  InstanceChanges c;
  c.port = spec.port;
  for (const auto& [k, v] : spec.settings) c.settings[k] = v;
  for (const auto& [k, v] : m.removed_settings) c.settings[k] = v;
  c.data_checksums = spec.data_checksums;
  c.state = spec.state;
  c.restart = m.restart;
  if (m.restart) c.state.reset();
  c.restart_on_changes = m.restart_on_changes;
  const bool objects = !spec.roles.empty() || !spec.databases.empty() || !m.absent_roles.empty() || !m.absent_databases.empty();
  if (objects) {
    check_manifest_objects(op.settings, spec);
    const bool runs_after = c.state ? *c.state == InstanceState::started : current.state == InstanceState::started || m.restart;
    if (!runs_after && current.patroni)
      throw StateError("the roles and databases of the manifest need Patroni member " + l.display() +
                       " running (a member is not started for them): apply it with state 'started'");
  }
  ApplyResult r = co_await alter(op, l, current, c, dry_run);
  if (objects) {
    core::Op sql_op = op;  // the role and database steps read the dry run from their op
    sql_op.dry_run = dry_run;
    co_await apply_objects(sql_op, l, m, r);
  }
  co_return r;
}

}  // namespace
}  // namespace ops

namespace {

Context::Impl& impl(Context& ctx) { return ctx.impl(); }

auto alter_body(InstanceRef ref, InstanceChanges changes, ApplyOptions options) {
  return [ref = std::move(ref), changes = std::move(changes), options](const core::Op& op) -> awaitable<ApplyResult> {
    Layout l = ops::lookup(op.settings, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    if (!postgres::exists(l)) throw NotFound("instance", ref.str());
    const Instance before = co_await ops::observe(op, l, false);
    co_return co_await ops::alter(op, l, before, changes, options.dry_run);
  };
}
auto apply_body(InstanceManifest manifest, ApplyOptions options) {
  return [manifest = std::move(manifest), options](const core::Op& op) -> awaitable<ApplyResult> {
    co_return co_await ops::apply(op, manifest, options.dry_run);
  };
}

}  // namespace

ApplyResult alter_instance(Context& ctx, const InstanceRef& ref, const InstanceChanges& changes, const ApplyOptions& options) {
  return impl(ctx).run<ApplyResult>(alter_body(ref, changes, options));
}
ApplyResult apply_instance(Context& ctx, const InstanceManifest& manifest, const ApplyOptions& options) {
  return impl(ctx).run<ApplyResult>(apply_body(manifest, options));
}
Operation start_alter_instance(Context& ctx, InstanceRef ref, InstanceChanges changes, ApplyOptions options,
                               Callback<ApplyResult> done, OpOptions op) {
  return impl(ctx).launch<ApplyResult>(op, alter_body(std::move(ref), std::move(changes), options), std::move(done));
}
Operation start_apply_instance(Context& ctx, InstanceManifest manifest, ApplyOptions options, Callback<ApplyResult> done,
                               OpOptions op) {
  return impl(ctx).launch<ApplyResult>(op, apply_body(std::move(manifest), options), std::move(done));
}

}  // namespace pglift
