// Patroni's REST API bodies as the client reads them: GET /cluster (patroni::parse_cluster), GET /patroni
// (the status fields, its WAL position), GET /history, GET /config (maximum_lag_on_failover), a member's
// DCS key, and the candidate check over all of these. Whatever a member (or whoever can write the DCS)
// answers, these read it or skip it: never an exception, never a crash.
#include "core/patroni_json.hpp"
#include "core/value.hpp"
#include "fuzz.hpp"
#include "ops/patroni_view.hpp"
#include "patroni/health.hpp"
#include "patroni/history.hpp"
#include "patroni/rest.hpp"

using namespace pglift;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::text_of(data, size);
  // GET /cluster, as Rest::cluster reads it.
  const auto members = patroni::parse_cluster(text);
  for (const auto& m : members) core::to_json(core::cluster_member_value(m));
  // A member's DCS key (members/<name>), when nobody serves GET /cluster.
  ops::patroni_member::member_from_dcs("pg1", text, true);
  ops::patroni_member::member_from_dcs("pg2", text, false);

  std::optional<core::Value> doc;
  try {
    doc = core::parse_json(text);
  } catch (const core::ParseError&) {
    return 0;
  }
  // GET /patroni: what status and the candidate check read of it.
  if (const auto* role = doc->find("role"); role && role->is_string()) patroni::is_leader_role(role->as_string());
  patroni::wal_position(*doc);
  // GET /history and GET /config.
  const auto history = patroni::parse_history(*doc);
  for (const auto& h : history) patroni::timeline_end(history, h.timeline);
  const std::int64_t max_lag = patroni::max_lag_of(doc);
  // The candidate check: each member of the body against its leader, with the body as its GET /patroni.
  const ClusterMember* leader = nullptr;
  for (const auto& m : members)
    if (patroni::is_leader_role(m.role)) leader = &m;
  patroni::MemberObservation seen{.api_answers = true, .status = doc};
  patroni::MemberObservation unreachable{};
  for (const auto& m : members) {
    patroni::assess(m, leader, seen, history, max_lag);
    patroni::assess(m, nullptr, unreachable, history, max_lag);
  }
  return 0;
}
