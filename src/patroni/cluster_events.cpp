#include "patroni/cluster_events.hpp"

#include <algorithm>
#include <cctype>

#include "core/value.hpp"
#include "pglift/errors.hpp"

namespace pglift::patroni {
namespace {

std::optional<std::string> string_field(const core::Value& object, std::string_view name) {
  const core::Value* field = object.find(name);
  if (field && field->is_string()) return field->as_string();
  return std::nullopt;
}

std::optional<core::Value> json_of(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  try {
    return core::parse_json(*text);
  } catch (const core::ParseError&) {
    return std::nullopt;  // Patroni writes JSON; anything else carries nothing we follow
  }
}

bool safe_name(std::string_view s, bool slashes) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [slashes](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || (slashes && c == '/');
  });
}

}  // namespace

std::vector<ClusterEvent> ClusterState::load(const dcs::Snapshot& snapshot) {
  std::vector<ClusterEvent> events;
  for (const auto& [key, value] : snapshot.kvs) {  // key order: config, leader, members/...
    auto made = set(key, value, snapshot.revision);
    events.insert(events.end(), made.begin(), made.end());
  }
  // Members first, then who leads them: the order a reader builds its view in.
  std::stable_partition(events.begin(), events.end(), [](const ClusterEvent& e) { return e.kind == "member_added"; });
  return events;
}

std::vector<ClusterEvent> ClusterState::apply(const dcs::WatchEvent& change) {
  std::optional<std::string> value;
  if (change.type == dcs::WatchEvent::Type::put) value = change.value;
  return set(change.key, value, change.mod_revision);
}

std::vector<ClusterEvent> ClusterState::set(const std::string& key, const std::optional<std::string>& value,
                                            std::int64_t revision) {
  std::vector<ClusterEvent> events;
  if (!key.starts_with(prefix_)) return events;
  const std::string name = key.substr(prefix_.size());
  if (name == "leader") {
    if (value != leader_) {
      const std::string member = value ? *value : leader_.value_or("");
      events.push_back({"leader_changed", member, leader_, value, revision});
      leader_ = value;
    }
  } else if (name == "config") {
    bool paused = false;
    if (auto config = json_of(value)) {
      const core::Value* pause = config->find("pause");
      paused = pause && pause->is_bool() && pause->as_bool();
    }
    if (paused != paused_) events.push_back({paused ? "paused" : "resumed", "", std::nullopt, std::nullopt, revision});
    paused_ = paused;
  } else if (name.starts_with("members/") && name.size() > 8) {
    const std::string member = name.substr(8);
    auto known = members_.find(member);
    if (!value) {
      if (known != members_.end()) {
        events.push_back({"member_removed", member, known->second.role, std::nullopt, revision});
        members_.erase(known);
      }
      return events;
    }
    MemberState now;
    if (auto data = json_of(value)) {
      now.role = string_field(*data, "role");
      now.state = string_field(*data, "state");
    }
    if (known == members_.end()) {
      events.push_back({"member_added", member, std::nullopt, now.role, revision});
      members_.emplace(member, now);
      return events;
    }
    MemberState& before = known->second;
    if (now.role != before.role) events.push_back({"role_changed", member, before.role, now.role, revision});
    if (now.state != before.state) events.push_back({"state_changed", member, before.state, now.state, revision});
    before = now;
  }
  return events;
}

std::string cluster_prefix(const core::Value& config) {
  const std::string scope = string_field(config, "scope").value_or("");
  if (!safe_name(scope, false)) throw InvalidSpec("scope", scope, "expected letters, digits, '_', '-' or '.'");
  std::string ns = string_field(config, "namespace").value_or("/service");
  if (!safe_name(ns, true) || ns.find("..") != std::string::npos)
    throw InvalidSpec("namespace", ns, "expected a path of letters, digits, '_', '-' or '.'");
  if (!ns.starts_with('/')) ns.insert(ns.begin(), '/');
  if (!ns.ends_with('/')) ns += '/';
  return ns + scope + "/";
}

}  // namespace pglift::patroni
