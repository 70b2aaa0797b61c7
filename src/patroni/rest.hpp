// Patroni's REST API, as one member serves it: every call has a timeout; unreachable is a value
// (nullopt / 0), not an exception, where callers poll.
#pragma once
#include <chrono>
#include <optional>
#include <string>
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
  /// The member's API at its connect address (loopback when that is a wildcard), with the site's TLS
  /// and basic authentication.
  Rest(const PatroniSettings& settings, const std::string& connect_address, const std::string& listen);
  /// Another member, from its api_url ("http://127.0.1.2:8009/patroni").
  static Rest from_api_url(const PatroniSettings& settings, const std::string& api_url);

  /// Status code of GET `path`, 0 when the API cannot be reached.
  awaitable<int> probe(const std::string& path, std::chrono::milliseconds timeout = 2s) const;
  /// GET /patroni as JSON; nullopt when unreachable.
  awaitable<std::optional<core::Value>> status(std::chrono::milliseconds timeout = 2s) const;
  /// GET /cluster members; empty when unreachable.
  awaitable<std::vector<ClusterMember>> cluster(std::chrono::milliseconds timeout = 2s) const;
  /// A request whose failure to reach the API is an error (Error http, naming the URL).
  awaitable<net::Response> call(const std::string& method, const std::string& path, const core::Value& body,
                                std::chrono::milliseconds timeout) const;

  std::string url() const { return net::base_url(endpoint_, options_.tls.has_value()); }

 private:
  Rest() = default;
  /// GET `path`; nullopt when the API cannot be reached in time.
  awaitable<std::optional<net::Response>> get(const std::string& path, std::chrono::milliseconds timeout) const;
  net::Endpoint endpoint_;
  net::RequestOptions options_;
};

/// Parses one GET /cluster member (the reference payloads: role leader/replica, lag int or "unknown").
ClusterMember parse_member(const core::Value& v);
/// "master" and "primary" (Patroni >= 4) both mean the leader's PostgreSQL role.
inline bool is_leader_role(const std::string& role) { return role == "master" || role == "primary" || role == "leader"; }

}  // namespace pglift::patroni
