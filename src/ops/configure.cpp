#include "ops/configure.hpp"

#include "core/text.hpp"
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

std::vector<std::string> restart_only(const Settings& settings, const postgres::Layout& layout, int port,
                                      const std::vector<std::string>& names) {
  if (names.empty()) return {};
  postgres::Session s(postgres::conninfo(settings, layout, port));
  auto rows = s.query("SELECT name FROM pg_settings WHERE context = 'postmaster' AND name = ANY($1::text[]) ORDER BY name",
                      {"{" + core::join(names, ",") + "}"});
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(*r[0]);
  return out;
}

std::pair<std::string, bool> reload_state(const Settings& settings, const postgres::Layout& layout, int port) {
  postgres::Session s(postgres::conninfo(settings, layout, port));
  auto rows = s.query("SELECT pg_conf_load_time()::text, coalesce((SELECT bool_or(pending_restart) FROM pg_settings), false)");
  return {rows.at(0)[0].value_or(""), rows.at(0)[1] == "t"};
}

}  // namespace pglift::ops
