// A client of etcd's v3 JSON gateway (etcd 3.4: /v3/...; keys and values travel as base64), for what
// pglift does with the DCS: health checks and removing a Patroni cluster's keys.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/value.hpp"
#include "net/http.hpp"

namespace pglift::dcs {

struct EtcdOptions {
  std::vector<net::Endpoint> hosts;  ///< tried in order; the next one when a host cannot be reached
  std::string protocol = "http";     ///< "http" or "https"
  std::optional<net::Tls> tls = {};  ///< for https; absent: the system's CAs, peer verified
  std::optional<net::BasicAuth> auth = {};
  std::chrono::milliseconds timeout{5000};  ///< per request and host
  /// A watch connection silent that long (no reply, no event) has its host asked a linearizable read
  /// (it goes through etcd's raft leader); no answer within `timeout`: the host is taken as gone (frozen,
  /// cut off from its peers, the network path dead while TCP still looks open) and the watch moves on to
  /// the next host. A quiet cluster whose host answers keeps its watch.
  std::chrono::milliseconds watch_idle{10000};
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// --- stream ---
/// Keys under a prefix as of one revision of the store (the header revision of the range reply).
struct Snapshot {
  KeyValues kvs;
  std::int64_t revision = 0;
};

/// One change seen by a watch.
struct WatchEvent {
  enum class Type { put, del };
  Type type = Type::put;
  std::string key;
  std::string value;  ///< empty for a deletion
  std::int64_t mod_revision = 0;
  friend bool operator==(const WatchEvent&, const WatchEvent&) = default;
};

/// One object of the gateway's watch stream.
struct WatchResponse {
  std::int64_t revision = 0;  ///< the header's
  bool created = false;       ///< the watch's first reply
  std::vector<WatchEvent> events;
};

/// Splits the watch stream (newline-delimited JSON objects, cut anywhere by the transport) into replies.
/// Throws Error(dcs): a malformed object, an error object ({"error": ...}), a watch etcd cancelled (a
/// compacted start revision names the oldest one still available).
class WatchParser {
 public:
  std::vector<WatchResponse> feed(std::string_view bytes);

 private:
  std::string pending_;
};

/// Receives the events of one watch reply, in revision order; returns false to end the watch.
using WatchHandler = std::function<awaitable<bool>(std::vector<WatchEvent> events)>;
// --- end stream ---

/// Methods are coroutines on `this`: keep the Etcd alive until they complete. Errors: Error(dcs) naming
/// the host ("etcd at http://127.0.0.1:2379: ..."), Cancelled.
class Etcd {
 public:
  /// Throws InvalidSpec on an empty host list or an unknown protocol.
  explicit Etcd(EtcdOptions options);

  /// Whether any host answers GET /health with {"health":"true"}; never throws but Cancelled.
  awaitable<bool> healthy();
  /// Keys and values under `prefix`, in key order.
  awaitable<KeyValues> get_prefix(std::string prefix);
  /// Deletes the keys under `prefix`; returns how many there were.
  awaitable<std::int64_t> delete_prefix(std::string prefix);
  /// Deletes exactly `key`; returns 1 when it existed, else 0.
  awaitable<std::int64_t> delete_key(std::string key);
  awaitable<void> put(std::string key, std::string value);

  /// One condition of a transaction: `key` holds exactly `value`, or (no value) `key` does not exist;
  /// with `prefix`, no key starting with `key` exists.
  struct Condition {
    std::string key;
    std::optional<std::string> value;
    bool prefix = false;
  };
  /// Deletes `keys` in one etcd transaction, only if every condition holds (compare-and-delete: never
  /// remove what another writer owns). Returns whether the conditions held and the keys were deleted.
  awaitable<bool> delete_if(std::vector<Condition> conditions, std::vector<std::string> keys);

  // --- stream ---
  /// get_prefix() with the store revision it was read at: watching from revision + 1 misses nothing.
  awaitable<Snapshot> snapshot(std::string prefix);
  /// Watches the keys under `prefix` from `start_revision` (POST /v3/watch, a stream), handing each
  /// reply's events to `on_events` until it returns false. When the stream breaks (a host dies or
  /// restarts), watches again on the next host (in turn, the same one too) from the revision after the
  /// last one delivered: no event is lost or repeated. Fails with Error(dcs) when no host takes the watch
  /// again within `reconnect_within` (each failure named), or when etcd refuses it (a compacted
  /// revision). No deadline otherwise: only cancellation or `on_events` ends a quiet watch; a silent
  /// connection whose host no longer answers is left for the next host (EtcdOptions::watch_idle).
  awaitable<void> watch_prefix(std::string prefix, std::int64_t start_revision, WatchHandler on_events,
                               std::chrono::milliseconds reconnect_within = std::chrono::seconds(30));
  // --- end stream ---

 private:
  /// POSTs `body` to `path` on the first host that can be reached; returns the reply of a 2xx.
  awaitable<core::Value> call(std::string path, core::Value body);
  /// One attempt on one host, authenticating first when credentials are configured.
  awaitable<net::Response> post(const net::Endpoint& host, const std::string& path, const std::string& body);
  awaitable<void> authenticate(const net::Endpoint& host);
  /// One watch on one host, from next_revision (advanced as events are delivered); true when on_events
  /// ended it, else throws why the stream ended. `established`: etcd confirmed the watch.
  awaitable<bool> watch_on(const net::Endpoint& host, const std::string& prefix, std::int64_t& next_revision,
                           const WatchHandler& on_events, bool& established);  // stream
  net::RequestOptions request_options() const;
  std::string url(const net::Endpoint& host) const;

  EtcdOptions options_;
  std::optional<std::string> token_;  ///< valid on every member: etcd replicates it through raft
};

/// The end of the key range that holds exactly the keys starting with `prefix` (etcd's
/// clientv3.GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented; "\0" (every key)
/// when there is no such byte.
std::string prefix_range_end(std::string_view prefix);

}  // namespace pglift::dcs
