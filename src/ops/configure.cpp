#include "ops/configure.hpp"

#include <algorithm>

#include "core/coro.hpp"
#include "core/text.hpp"
#include "postgres/control.hpp"
#include "postgres/session.hpp"

namespace pglift::ops {

std::map<std::string, std::pair<std::optional<ConfValue>, std::optional<ConfValue>>> apply_changes(
    ConfParameters& params, const ParameterChanges& changes) {
  std::map<std::string, std::pair<std::optional<ConfValue>, std::optional<ConfValue>>> diff;
  for (const auto& [name, value] : changes) {
    std::optional<ConfValue> old;
    if (auto it = params.find(name); it != params.end()) old = it->second;
    if (old == value) continue;
    if (value) params[name] = *value;
    else params.erase(name);
    diff[name] = {old, value};
  }
  return diff;
}

awaitable<std::vector<std::string>> restart_only(const core::Op& op, const postgres::Layout& layout, int port,
                                                 const std::vector<std::string>& names) {
  if (names.empty()) co_return std::vector<std::string>{};
  auto query = [&] {
    postgres::Session s(postgres::conninfo(op.settings, layout, port));
    auto rows = s.query("SELECT name FROM pg_settings WHERE context = 'postmaster' AND name = ANY($1::text[]) ORDER BY name",
                        {"{" + core::join(names, ",") + "}"});
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(*r[0]);
    return out;
  };
  co_return co_await core::blocking(op, query);
}

awaitable<std::pair<std::string, bool>> reload_state(const core::Op& op, const postgres::Layout& layout, int port) {
  // Owns its copies (core::cancellable may abandon it); a named closure (g++ 12: no class-type capture
  // in a temporary of a co_await expression).
  auto query = [&settings = op.settings, layout, port] {
    auto rows = postgres::query_once(settings, layout, port,
                                     "SELECT pg_conf_load_time()::text, coalesce((SELECT bool_or(pending_restart) FROM pg_settings), false)");
    return std::pair<std::string, bool>{rows.at(0)[0].value_or(""), rows.at(0)[1] == "t"};
  };
  co_return co_await core::cancellable(op, query);
}

awaitable<bool> reload_confirmed(const core::Op& op, const postgres::Layout& layout, int port, const std::string& before) {
  postgres::reload(op, layout);
  // PostgreSQL handles SIGHUP asynchronously: wait (bounded) until it re-read its files.
  bool pending_restart = false;
  auto reloaded = [&]() -> awaitable<bool> {
    auto now = co_await reload_state(op, layout, port);
    pending_restart = now.second;
    co_return now.first != before;
  };
  auto exited = [&] {
    if (!postgres::running_postmaster(layout))
      throw StateError("PostgreSQL " + layout.display() + " stopped while reloading its configuration");
  };
  const auto deadline = core::Clock::now() + std::chrono::seconds(30);
  const std::string reason = "configuration reload of " + layout.display();
  co_await core::wait_until(deadline, reason, reloaded, exited);
  co_return pending_restart;
}

awaitable<void> simulated(const core::Op& op, const postgres::Layout& layout, ConfigurationResult& result) {
  std::vector<std::string> names;
  for (const auto& [k, _] : result.changes) names.push_back(k);
  if (auto pm = postgres::running_postmaster(layout)) result.needs_restart = co_await restart_only(op, layout, pm->port, names);
  std::vector<std::string> reloadable;
  for (const auto& n : names)
    if (std::find(result.needs_restart.begin(), result.needs_restart.end(), n) == result.needs_restart.end()) reloadable.push_back(n);
  if (!reloadable.empty())
    op.info("instance " + layout.display() + " would need reload due to parameter changes: " + core::join(reloadable, ", ") +
                " (dry run: nothing changed)",
            "pglift.instances");
  if (!result.needs_restart.empty())
    op.warning("instance " + layout.display() + " would need restart due to parameter changes: " +
                   core::join(result.needs_restart, ", ") + " (dry run: nothing changed)",
               "pglift.instances");
}

}  // namespace pglift::ops
