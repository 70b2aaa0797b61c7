#include "ops/patroni_view.hpp"

#include <functional>

#include "core/coro.hpp"
#include "dcs/etcd.hpp"
#include "postgres/session.hpp"

namespace pglift::ops::patroni_member {
using namespace std::chrono_literals;
using patroni::Rest;

const ClusterMember* ClusterView::leader() const {
  for (const auto& m : members)
    if (m.role == "leader" || m.role == "standby_leader") return &m;
  return nullptr;
}

int ClusterView::index_of(const std::string& name) const {
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i].name == name) return static_cast<int>(i);
  return -1;
}

namespace {

/// Runs tasks[from, to) concurrently.
awaitable<void> all_of(std::vector<std::function<awaitable<void>()>>& tasks, size_t from, size_t to) {
  if (to <= from) co_return;
  if (to - from == 1) {
    co_await tasks[from]();
    co_return;
  }
  const size_t middle = from + (to - from) / 2;
  co_await (all_of(tasks, from, middle) && all_of(tasks, middle, to));
}

const std::string* string_at(const core::Value& v, std::initializer_list<const char*> path) {
  const core::Value* x = &v;
  for (const char* key : path)
    if (!x->is_object() || !(x = x->find(key))) return nullptr;
  return x->is_string() ? &x->as_string() : nullptr;
}

/// What pg_stat_wal_receiver says, through libpq with the cluster's superuser (bounded: connect_timeout).
struct WalReceiverAnswer {
  std::optional<patroni::WalReceiver> row;
  std::optional<std::string> error;
};

WalReceiverAnswer ask_walreceiver(const std::string& conninfo) {
  WalReceiverAnswer a;
  try {
    postgres::Session s(conninfo);
    auto rows = s.query("SELECT status, received_tli::bigint, sender_host, sender_port FROM pg_stat_wal_receiver");
    patroni::WalReceiver w;
    if (!rows.empty()) {
      const auto& r = rows[0];
      w.status = r[0].value_or("");
      if (r[1]) w.received_tli = std::stoll(*r[1]);
      w.sender_host = r[2].value_or("");
      if (r[3]) w.sender_port = std::stoi(*r[3]);
    }
    a.row = w;
  } catch (const std::exception& e) {
    a.error = e.what();  // libpq's message: never the conninfo
  }
  return a;
}

std::string conninfo_of(const ClusterMember& m, const std::string& user, const std::string& password) {
  using postgres::kv;
  return kv("host", m.host) + " " + kv("port", std::to_string(m.port)) + " " + kv("user", user) + " " + kv("password", password) +
         " dbname=postgres connect_timeout=2 application_name=pglift";
}

}  // namespace

ClusterMember member_from_dcs(const std::string& name, const std::string& json, bool leads) {
  ClusterMember m;
  m.name = name;
  m.role = leads ? "leader" : "replica";
  try {
    const core::Value data = core::parse_json(json);
    if (const auto* s = string_at(data, {"state"})) m.state = *s;
    if (const auto* a = string_at(data, {"api_url"})) m.api_url = *a;
    if (const auto* t = data.find("timeline"); t && t->is_int()) m.timeline = t->as_int();
    if (const auto* url = string_at(data, {"conn_url"})) {
      // postgres://HOST:PORT/postgres
      std::string rest = url->substr(url->find("://") == std::string::npos ? 0 : url->find("://") + 3);
      rest = rest.substr(0, rest.find('/'));
      if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        m.host = rest.substr(0, colon);
        try {
          m.port = std::stoi(rest.substr(colon + 1));
        } catch (const std::exception&) {
        }
      }
    }
  } catch (const core::ParseError&) {
  }
  return m;
}

awaitable<std::optional<std::string>> dcs_error(const PatroniSettings& settings, const std::string& cluster) {
  auto etcd = patroni::etcd(settings);
  try {
    co_await etcd.get_prefix(patroni::dcs_prefix(cluster) + "leader");
  } catch (const Error& e) {
    if (e.code() == ErrorCode::cancelled) throw;
    co_return std::string(e.what());
  }
  co_return std::nullopt;
}

awaitable<ClusterView> view_cluster(const core::Op& op, const ViewSource& source, bool probe_members) {
  ClusterView v;
  const auto& me = source.member;
  const bool process = patroni::running(source.files).has_value();
  const std::string prefix = patroni::dcs_prefix(me.cluster);
  auto etcd = patroni::etcd(source.settings);
  std::optional<dcs::KeyValues> keys;
  std::vector<ClusterMember> from_api;
  auto ask_dcs = [&]() -> awaitable<void> {
    try {
      keys = co_await etcd.get_prefix(prefix);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::cancelled) throw;
      v.dcs_error = e.what();
    }
  };
  auto ask_api = [&]() -> awaitable<void> {
    if (!process) co_return;
    auto [members, status] = co_await (source.rest.cluster(2s) && source.rest.status(2s));
    from_api = std::move(members);
    v.own_status = std::move(status);
  };
  co_await (ask_dcs() && ask_api());
  v.state = !process ? "not_running" : v.own_status ? "running" : "unreachable";

  if (keys)
    for (const auto& [k, value] : *keys)
      if (k == prefix + "config") try {
          v.dynamic_config = core::parse_json(value);
        } catch (const core::ParseError&) {
        }
  if (!from_api.empty()) v.members = std::move(from_api);
  else if (keys) {
    std::optional<std::string> leader;
    for (const auto& [k, value] : *keys)
      if (k == prefix + "leader") leader = value;
    for (const auto& [k, value] : *keys)
      if (k.starts_with(prefix + "members/")) {
        const std::string name = k.substr((prefix + "members/").size());
        v.members.push_back(member_from_dcs(name, value, leader && *leader == name));
      }
  }
  if (v.dcs_error) {
    // Nothing the DCS would confirm: every member as unknown, this one at least.
    if (v.index_of(me.node) < 0) {
      ClusterMember self;
      self.name = me.node;
      self.host = me.connect_host;
      self.port = me.port;
      v.members.push_back(self);
    }
    for (auto& m : v.members) {
      m.state = "unknown";
      m.health = "unknown";
      m.health_reason = "the DCS cannot be reached";
    }
    v.assessments.assign(v.members.size(), patroni::Assessment{patroni::Health::unknown, "the DCS cannot be reached: " + *v.dcs_error});
    co_return v;
  }
  if (!probe_members) co_return v;

  // Every member's own API, the replicas' walreceivers, the leader's history and configuration: at once.
  std::vector<patroni::MemberObservation> seen(v.members.size());
  std::vector<patroni::HistoryEntry> history;
  std::optional<core::Value> dynamic_config;
  const ClusterMember* leader = v.leader();
  const std::string su_user = [&] {
    const auto* u = string_at(source.config, {"postgresql", "authentication", "superuser", "username"});
    return u ? *u : op.settings.postgresql.surole.name;
  }();
  const std::string su_password = patroni::credentials_of(source.config).superuser;
  std::vector<std::function<awaitable<void>()>> tasks;
  for (size_t i = 0; i < v.members.size(); ++i)
    tasks.push_back([&, i]() -> awaitable<void> {
      const ClusterMember& m = v.members[i];
      if (!m.api_url) co_return;
      const Rest api = Rest::from_api_url(source.settings, *m.api_url);
      seen[i].status = co_await api.status(1s);
      seen[i].api_answers = seen[i].status.has_value();
      const bool replica = m.role != "leader" && m.role != "standby_leader";
      if (!seen[i].api_answers || !replica || (m.state != "running" && m.state != "streaming") || m.host.empty() || !m.port) co_return;
      auto ask = [conninfo = conninfo_of(m, su_user, su_password)] { return ask_walreceiver(conninfo); };
      auto answer = co_await core::cancellable(op, ask);
      seen[i].walreceiver = answer.row;
      seen[i].walreceiver_error = answer.error;
    });
  // The leader's history and configuration, from its own API (GET: no credentials needed), else ours.
  const Rest leader_api = leader && leader->api_url && leader->name != me.node ? Rest::from_api_url(source.settings, *leader->api_url)
                                                                               : source.rest;
  tasks.push_back([&]() -> awaitable<void> {
    if (auto doc = co_await leader_api.get_json("/history", 1s)) history = patroni::parse_history(*doc);
  });
  tasks.push_back([&]() -> awaitable<void> { dynamic_config = co_await leader_api.get_json("/config", 1s); });
  co_await all_of(tasks, 0, tasks.size());

  // A member's own word on its timeline: the DCS's lags a HA loop behind (right after a promotion,
  // the new leader's key still names the old timeline).
  for (size_t i = 0; i < v.members.size(); ++i)
    if (const auto* t = seen[i].status ? seen[i].status->find("timeline") : nullptr; t && t->is_int()) v.members[i].timeline = t->as_int();
  const std::int64_t max_lag = patroni::max_lag_of(dynamic_config);
  for (size_t i = 0; i < v.members.size(); ++i) {
    auto& m = v.members[i];
    if (m.api_url) m.patroni_api = seen[i].api_answers ? "running" : "unreachable";
    auto a = patroni::assess(m, leader, seen[i], history, max_lag);
    m.health = patroni::to_string(a.health);
    if (!a.reason.empty()) m.health_reason = a.reason;
    v.assessments.push_back(std::move(a));
  }
  co_return v;
}

}  // namespace pglift::ops::patroni_member
