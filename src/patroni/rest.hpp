// Patroni's REST API, as one member serves it: every call has a timeout; unreachable is a value
// (nullopt / 0), not an exception, where callers poll.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/asio.hpp"
#include "core/value.hpp"
#include "net/http.hpp"
#include "patroni/config.hpp"
#include "pglift/patroni.hpp"

namespace pglift::patroni {

using namespace std::chrono_literals;

class Rest {
 public:
  /// This host's member, as its own configuration describes it (member_of): its connect address
  /// (loopback when that is a wildcard), the site's TLS, and the member's basic authentication (the
  /// site's when the YAML has none). The only client that sends credentials.
  Rest(const PatroniSettings& settings, const Member& member);
  /// A member's API at an address read from the DCS (api_url, "http://127.0.1.2:8009/patroni"): whoever
  /// can write the DCS chooses it. Read-only: never any credentials (GETs need none), and call()
  /// refuses unsafe methods; unsafe requests go to our own member's API.
  static Rest from_api_url(const PatroniSettings& settings, const std::string& api_url);

  /// Status code of GET `path`, 0 when the API cannot be reached.
  awaitable<int> probe(const std::string& path, std::chrono::milliseconds timeout = 2s) const;
  /// GET /patroni as JSON; nullopt when unreachable.
  awaitable<std::optional<core::Value>> status(std::chrono::milliseconds timeout = 2s) const;
  /// GET `path` (200) as JSON; nullopt when unreachable, another status or no JSON.
  awaitable<std::optional<core::Value>> get_json(const std::string& path, std::chrono::milliseconds timeout = 2s) const;
  /// GET /cluster members; empty when unreachable.
  awaitable<std::vector<ClusterMember>> cluster(std::chrono::milliseconds timeout = 2s) const;
  /// A request whose failure to reach the API is an error (Error http or Timeout, naming the member and
  /// the URL). On an api_url client, any method but GET or HEAD throws StateError before anything is sent.
  awaitable<net::Response> call(const std::string& method, const std::string& path, const core::Value& body,
                                std::chrono::milliseconds timeout) const;

  std::string url() const { return net::base_url(endpoint_, options_.tls.has_value()); }

 private:
  Rest() = default;
  /// GET `path`; nullopt when the API cannot be reached in time.
  awaitable<std::optional<net::Response>> get(const std::string& path, std::chrono::milliseconds timeout) const;
  net::Endpoint endpoint_;
  net::RequestOptions options_;
  bool own_member_ = false;  ///< an address from our own configuration, not from the DCS
  std::string member_;       ///< "member 'pg1' of cluster 'main'", for call()'s errors (own member only)
};

/// Parses one GET /cluster member (the reference payloads: role leader/replica, lag int or "unknown").
ClusterMember parse_member(const core::Value& v);
/// A GET /cluster body's members (those that are objects); none when it is not JSON.
std::vector<ClusterMember> parse_cluster(std::string_view body);
/// "master" and "primary" (Patroni >= 4) both mean the leader's PostgreSQL role.
inline bool is_leader_role(const std::string& role) { return role == "master" || role == "primary" || role == "leader"; }

}  // namespace pglift::patroni
