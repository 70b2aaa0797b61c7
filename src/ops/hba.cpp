// pg_hba records: the JSON face, and adding/removing them on a plain instance or a Patroni member.
#include <chrono>
#include <functional>

#include "core/coro.hpp"
#include "core/diff.hpp"
#include "core/fields.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "core/value.hpp"
#include "ops/configure.hpp"
#include "ops/context_impl.hpp"
#include "ops/lock.hpp"
#include "ops/lookup.hpp"
#include "ops/patroni_ops.hpp"
#include "patroni/config.hpp"
#include "patroni/member.hpp"
#include "pglift/hba.hpp"
#include "postgres/control.hpp"
#include "postgres/hba.hpp"

namespace pglift {

namespace {

using core::Value;

using core::expecting;

std::string string_field(const Value& v, const std::string& field) {
  if (!v.is_string()) throw InvalidSpec(field, core::short_text(v), expecting("a string", v));
  return v.as_string();
}

/// "a,b" or ["a", "b"].
std::vector<std::string> list_field(const Value& v, const std::string& field, char sep) {
  if (v.is_string()) {
    std::vector<std::string> out;
    for (auto& part : core::split(v.as_string(), sep))
      if (auto t = core::trim(part); !t.empty()) out.push_back(t);
    return out;
  }
  if (!v.is_array()) throw InvalidSpec(field, core::short_text(v), expecting("a string or an array of strings", v));
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) out.push_back(string_field(item, field));
  return out;
}

HbaRecord record_from(const Value& v, const std::string& what) {
  if (!v.is_object()) throw InvalidSpec(what, core::short_text(v), expecting("an object", v));
  HbaRecord r;
  for (const auto& [key, value] : v.as_object()) {
    if (key == "connection") {
      if (value.is_null()) continue;
      if (!value.is_object()) throw InvalidSpec("connection", core::short_text(value), expecting("an object or null", value));
      HbaConnection c;
      for (const auto& [ck, cv] : value.as_object()) {
        if (cv.is_null()) continue;
        if (ck == "type") c.type = string_field(cv, "connection.type");
        else if (ck == "address") c.address = string_field(cv, "connection.address");
        else if (ck == "netmask") c.netmask = string_field(cv, "connection.netmask");
        else throw InvalidSpec("connection." + ck, "", "unknown field in connection");
      }
      r.connection = c;
    } else if (key == "database") {
      r.database = list_field(value, "database", ',');
    } else if (key == "user") {
      r.user = list_field(value, "user", ',');
    } else if (key == "method") {
      r.method = string_field(value, "method");
    } else if (key == "options") {
      if (!value.is_null()) r.options = list_field(value, "options", ' ');
    } else {
      throw InvalidSpec(key, "", "unknown field in " + what);
    }
  }
  if (r.method.empty()) throw InvalidSpec::missing("method", "a pg_hba record needs a method (scram-sha-256, peer...)");
  return r;
}

Value strings(const std::vector<std::string>& v) {
  core::Array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::vector<HbaRecord> HbaRecord::list_from_json(const std::string& json) {
  Value doc = core::parse(json, "hba records");
  std::vector<HbaRecord> out;
  if (doc.is_array()) {
    for (const auto& item : doc.as_array()) out.push_back(record_from(item, "hba record"));
  } else {
    out.push_back(record_from(doc, "hba record"));
  }
  return out;
}

std::string HbaRecord::to_json() const {
  Value conn;
  if (connection) {
    core::Object c{{"type", connection->type}};
    c.emplace_back("address", connection->address ? Value(*connection->address) : Value());
    c.emplace_back("netmask", connection->netmask ? Value(*connection->netmask) : Value());
    conn = c;
  }
  return core::to_json(core::Object{{"connection", conn},
                                    {"database", strings(database)},
                                    {"user", strings(user)},
                                    {"method", method},
                                    {"options", strings(options)}});
}

std::string to_json(const HbaResult& r) {
  return core::to_json(core::Object{{"added", strings(r.added)},
                                    {"removed", strings(r.removed)},
                                    {"changed", r.changed},
                                    {"reloaded", r.reloaded},
                                    {"diff", r.diff}});
}

namespace ops {
namespace {

using postgres::Layout;

std::vector<std::string> file_lines(const std::string& text) {
  auto lines = core::split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}
std::string text_of(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// The plain instance re-reads its files; confirmed by a new pg_conf_load_time().
awaitable<void> reload_plain(const core::Op& op, const Layout& l, int port) {
  op.info("reloading PostgreSQL configuration for " + l.qualname(), "pglift.instances");
  const auto before = co_await reload_state(op, l, port);
  co_await reload_confirmed(op, l, port, before.first);
}

template <class Edit>
awaitable<HbaResult> change_hba(const core::Op& op, const Layout& l, const std::vector<HbaRecord>& records,
                                const HbaOptions& options, Edit edit) {
  HbaResult result;
  if (patroni::is_member(op.settings, l)) {
    const auto files = patroni::Files::of(*op.settings.patroni, l);
    const Value config = patroni::read(files.config);
    std::vector<std::string> lines;
    if (const Value* pg = config.find("postgresql"))
      if (const Value* hba = pg->find("pg_hba"); hba && hba->is_array())
        for (const auto& item : hba->as_array())
          if (item.is_string()) lines.push_back(item.as_string());
    auto e = edit(lines, records);
    result.added = e.added;
    result.removed = e.removed;
    result.changed = !e.added.empty() || !e.removed.empty();
    result.diff = core::unified_diff(text_of(lines), text_of(e.lines), "postgresql.pg_hba (" + files.config.string() + ")",
                                     "postgresql.pg_hba (" + files.config.string() + ")");
    if (!result.changed || options.dry_run) co_return result;
    // The YAML is the single source of truth; Patroni writes pg_hba.conf from it on reload.
    core::Value managed = core::Object{{"postgresql", core::Object{{"pg_hba", strings(e.lines)}}}};
    patroni::write(files.config, managed);
    if (patroni::running(files) && postgres::running_postmaster(l)) {
      co_await patroni_member::reload(op, l);
      result.reloaded = true;
    }
    co_return result;
  }
  const std::filesystem::path path = l.datadir / "pg_hba.conf";
  const std::string before = core::read_file(path);
  auto e = edit(file_lines(before), records);
  result.added = e.added;
  result.removed = e.removed;
  result.changed = !e.added.empty() || !e.removed.empty();
  const std::string after = text_of(e.lines);
  result.diff = core::unified_diff(before, after, path.string(), path.string());
  if (!result.changed || options.dry_run) co_return result;
  core::write_file_atomic(path, after, 0600);
  if (auto pm = postgres::running_postmaster(l)) {
    co_await reload_plain(op, l, pm->port);
    result.reloaded = true;
  }
  co_return result;
}

template <class Edit>
auto hba_body(InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options, Edit edit) {
  return [ref = std::move(ref), records = std::move(records), options, edit](const core::Op& op) -> awaitable<HbaResult> {
    for (const auto& r : records) r.validate();  // before any lookup
    Layout l = ops::lookup(op.settings, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    co_return co_await change_hba(op, l, records, options, edit);
  };
}

auto add_body(InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options) {
  return hba_body(std::move(ref), std::move(records), options, postgres::add_hba);
}
auto remove_body(InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options) {
  return hba_body(std::move(ref), std::move(records), options, postgres::remove_hba);
}

}  // namespace
}  // namespace ops

HbaResult add_hba_records(Context& ctx, const InstanceRef& ref, const std::vector<HbaRecord>& records,
                          const HbaOptions& options) {
  return ctx.impl().run<HbaResult>(ops::add_body(ref, records, options));
}
HbaResult remove_hba_records(Context& ctx, const InstanceRef& ref, const std::vector<HbaRecord>& records,
                             const HbaOptions& options) {
  return ctx.impl().run<HbaResult>(ops::remove_body(ref, records, options));
}
Operation start_add_hba_records(Context& ctx, InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options,
                                Callback<HbaResult> done, OpOptions op) {
  return ctx.impl().launch<HbaResult>(op, ops::add_body(std::move(ref), std::move(records), options), std::move(done));
}
Operation start_remove_hba_records(Context& ctx, InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options,
                                   Callback<HbaResult> done, OpOptions op) {
  return ctx.impl().launch<HbaResult>(op, ops::remove_body(std::move(ref), std::move(records), options), std::move(done));
}

}  // namespace pglift
