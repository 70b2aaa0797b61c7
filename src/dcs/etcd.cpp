#include "dcs/etcd.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <charconv>

#include "core/asio.hpp"
#include "core/text.hpp"
#include "net/base64.hpp"
#include "pglift/errors.hpp"

namespace pglift::dcs {
namespace {

using core::Object;
using core::Value;

bool succeeded(const net::Response& response) { return response.status >= 200 && response.status < 300; }

/// The gateway's error replies are {"error": ..., "message": ..., "code": <gRPC code>}.
std::string describe_failure(const net::Response& response) {
  std::string reason;
  try {
    Value reply = core::parse_json(response.body);
    if (const Value* message = reply.find("message"); message && message->is_string()) reason = message->as_string();
  } catch (const core::ParseError&) {
  }
  if (reason.empty()) reason = core::trim(response.body.substr(0, 200));
  return reason + " (HTTP " + std::to_string(response.status) + ")";
}

/// `where` is "etcd at http://host:port", for the error.
Value parse_reply(const std::string& where, const std::string& path, const std::string& body) {
  try {
    return core::parse_json(body);
  } catch (const core::ParseError& e) {
    throw Error(ErrorCode::dcs, where + ": invalid reply to " + path + ": " + e.what());
  }
}

/// proto3's JSON mapping writes int64 as strings and leaves out zeros.
std::int64_t int64_field(const Value& reply, std::string_view name) {
  const Value* field = reply.find(name);
  if (!field || field->is_null()) return 0;
  if (field->is_int()) return field->as_int();
  if (field->is_string()) {
    const std::string& text = field->as_string();
    std::int64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc{} && end == text.data() + text.size()) return number;
  }
  throw Error(ErrorCode::dcs, "etcd: '" + std::string(name) + "' is not an integer in a reply");
}

/// Keys and values are bytes, carried as base64; empty ones are left out.
std::string bytes_field(const Value& object, std::string_view name) {
  const Value* field = object.find(name);
  if (!field || field->is_null()) return {};
  std::optional<std::string> bytes = field->is_string() ? net::base64_decode(field->as_string()) : std::nullopt;
  if (!bytes) throw Error(ErrorCode::dcs, "etcd: '" + std::string(name) + "' is not base64 in a reply");
  return std::move(*bytes);
}

Value prefix_range(std::string_view prefix) {
  return Object{{"key", net::base64_encode(prefix)}, {"range_end", net::base64_encode(prefix_range_end(prefix))}};
}

/// Worth trying the next host: this one could not be reached or did not answer in time.
bool host_unavailable(const Error& e) { return e.code() == ErrorCode::http || e.code() == ErrorCode::timeout; }

// --- stream ---
/// etcd ended the watch itself (a compacted start revision...): watching again cannot help.
struct WatchRefused : Error {
  explicit WatchRefused(const std::string& message) : Error(ErrorCode::dcs, message) {}
};

/// The gateway reports an error inside a stream as {"error": {"grpc_code", "http_code", "message"}}:
/// a failure of this host at this moment (no leader...), worth another try.
struct StreamError : Error {
  explicit StreamError(const std::string& message) : Error(ErrorCode::http, message) {}
};

/// etcd refused the watch's token (expired: --auth-token-ttl): authenticate again, then watch again.
struct TokenRefused : Error {
  explicit TokenRefused(const std::string& message) : Error(ErrorCode::http, message) {}
};

WatchResponse watch_response(const Value& object) {
  if (const Value* error = object.find("error"); error) {
    const Value* message = error->find("message");
    throw StreamError("etcd: the watch failed: " +
                      (message && message->is_string() ? message->as_string() : core::to_json(*error)));
  }
  const Value* result = object.find("result");
  if (!result || !result->is_object()) throw Error(ErrorCode::dcs, "etcd: a watch reply without 'result'");
  WatchResponse response;
  if (const Value* header = result->find("header"); header && header->is_object())
    response.revision = int64_field(*header, "revision");
  if (const Value* created = result->find("created"); created && created->is_bool())
    response.created = created->as_bool();
  if (const Value* canceled = result->find("canceled"); canceled && canceled->is_bool() && canceled->as_bool()) {
    const std::int64_t compacted = int64_field(*result, "compact_revision");
    if (compacted > 0)
      throw WatchRefused("etcd: the watch was refused: its start revision was compacted (the oldest revision "
                         "still available is " + std::to_string(compacted) + ")");
    const Value* reason = result->find("cancel_reason");
    if (reason && reason->is_string() && reason->as_string().find("invalid auth token") != std::string::npos)
      throw TokenRefused("etcd: the watch was refused: " + reason->as_string());
    throw WatchRefused("etcd: the watch was cancelled by etcd" +
                       (reason && reason->is_string() ? ": " + reason->as_string() : std::string()));
  }
  if (const Value* events = result->find("events"); events && events->is_array()) {
    for (const Value& e : events->as_array()) {
      WatchEvent event;
      const Value* type = e.find("type");  // proto3 leaves out the default: PUT
      if (type && type->is_string() && type->as_string() == "DELETE") event.type = WatchEvent::Type::del;
      else if (type && !(type->is_string() && type->as_string() == "PUT"))
        throw Error(ErrorCode::dcs, "etcd: unknown event type in a watch reply");
      const Value* kv = e.find("kv");
      if (!kv || !kv->is_object()) throw Error(ErrorCode::dcs, "etcd: a watch event without 'kv'");
      event.key = bytes_field(*kv, "key");
      event.value = bytes_field(*kv, "value");
      event.mod_revision = int64_field(*kv, "mod_revision");
      response.events.push_back(std::move(event));
    }
  }
  return response;
}
// --- end stream ---

}  // namespace

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Etcd::Etcd(EtcdOptions options) : options_(std::move(options)) {
  if (options_.hosts.empty()) throw InvalidSpec("etcd.hosts", "", "at least one host is required");
  if (options_.protocol != "http" && options_.protocol != "https")
    throw InvalidSpec("etcd.protocol", options_.protocol, "expected 'http' or 'https'");
  if (options_.protocol == "https" && !options_.tls) options_.tls = net::Tls{};
  if (options_.protocol == "http") options_.tls.reset();
}

std::string Etcd::url(const net::Endpoint& host) const { return net::base_url(host, options_.tls.has_value()); }

net::RequestOptions Etcd::request_options() const {
  net::RequestOptions options{.timeout = options_.timeout, .tls = options_.tls};
  if (token_) options.headers.emplace_back("Authorization", *token_);
  return options;
}

awaitable<bool> Etcd::healthy() {
  for (const auto& host : options_.hosts) {
    try {
      auto response = co_await net::request("GET", host, "/health", {}, request_options());
      if (response.status != 200) continue;
      const Value reply = core::parse_json(response.body);
      const Value* health = reply.find("health");
      if (health && health->is_string() && health->as_string() == "true") co_return true;
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception&) {
      // unreachable or not JSON: not healthy; try the next host
    }
  }
  co_return false;
}

awaitable<void> Etcd::authenticate(const net::Endpoint& host) {
  Value credentials = Object{{"name", options_.auth->username}, {"password", options_.auth->password}};
  token_.reset();
  auto response =
      co_await net::request("POST", host, "/v3/auth/authenticate", core::to_json(credentials), request_options());
  if (!succeeded(response))
    throw Error(ErrorCode::dcs, "etcd at " + url(host) + ": authentication of '" + options_.auth->username +
                                    "' failed: " + describe_failure(response));
  const Value reply = parse_reply("etcd at " + url(host), "/v3/auth/authenticate", response.body);
  const Value* token = reply.find("token");
  if (!token || !token->is_string())
    throw Error(ErrorCode::dcs, "etcd at " + url(host) + ": no token in the authentication reply");
  token_ = token->as_string();
}

awaitable<net::Response> Etcd::post(const net::Endpoint& host, const std::string& path, const std::string& body) {
  if (options_.auth && !token_) co_await authenticate(host);
  auto response = co_await net::request("POST", host, path, body, request_options());
  if (response.status == 401 && options_.auth) {  // the token expired (--auth-token-ttl): once more, afresh
    co_await authenticate(host);
    response = co_await net::request("POST", host, path, body, request_options());
  }
  co_return response;
}

awaitable<Value> Etcd::call(std::string path, Value body) {
  const std::string json = core::to_json(body);
  std::vector<std::string> failures;
  for (const auto& host : options_.hosts) {
    net::Response response;
    try {
      response = co_await post(host, path, json);
    } catch (const Error& e) {
      if (!host_unavailable(e)) throw;
      failures.push_back("etcd at " + url(host) + ": " + e.what());
      continue;
    }
    if (response.status >= 500) {
      failures.push_back("etcd at " + url(host) + ": " + describe_failure(response));
      continue;
    }
    if (!succeeded(response)) throw Error(ErrorCode::dcs, "etcd at " + url(host) + ": " + describe_failure(response));
    co_return parse_reply("etcd at " + url(host), path, response.body);
  }
  throw Error(ErrorCode::dcs, core::join(failures, "\n"));
}

awaitable<KeyValues> Etcd::get_prefix(std::string prefix) {
  Value reply = co_await call("/v3/kv/range", prefix_range(prefix));
  KeyValues result;
  if (const Value* kvs = reply.find("kvs"); kvs && kvs->is_array())
    for (const Value& kv : kvs->as_array()) result.emplace_back(bytes_field(kv, "key"), bytes_field(kv, "value"));
  co_return result;
}

awaitable<std::int64_t> Etcd::delete_prefix(std::string prefix) {
  Value reply = co_await call("/v3/kv/deleterange", prefix_range(prefix));
  co_return int64_field(reply, "deleted");
}

awaitable<std::int64_t> Etcd::delete_key(std::string key) {
  Value body = Object{{"key", net::base64_encode(key)}};
  Value reply = co_await call("/v3/kv/deleterange", std::move(body));
  co_return int64_field(reply, "deleted");
}

awaitable<void> Etcd::put(std::string key, std::string value) {
  // Built apart from the co_await: GCC 12 rejects an initializer list inside it ("array used as initializer").
  Value pair = Object{{"key", net::base64_encode(key)}, {"value", net::base64_encode(value)}};
  co_await call("/v3/kv/put", std::move(pair));
}

awaitable<bool> Etcd::delete_if(std::vector<Condition> conditions, std::vector<std::string> keys) {
  core::Array compare, success;
  for (const auto& c : conditions) {
    // A missing key has create_revision 0 (proto3 JSON: int64 as a string).
    Value test = c.value ? Value(Object{{"key", net::base64_encode(c.key)},
                                        {"result", "EQUAL"},
                                        {"target", "VALUE"},
                                        {"value", net::base64_encode(*c.value)}})
                         : Value(Object{{"key", net::base64_encode(c.key)},
                                        {"result", "EQUAL"},
                                        {"target", "CREATE"},
                                        {"create_revision", "0"}});
    // Over a range, the comparison must hold for every key in it: none exists.
    if (c.prefix) test.set("range_end", net::base64_encode(prefix_range_end(c.key)));
    compare.push_back(std::move(test));
  }
  for (const auto& key : keys) {
    Value request = Object{{"key", net::base64_encode(key)}};
    success.push_back(Object{{"request_delete_range", std::move(request)}});
  }
  Value body = Object{{"compare", std::move(compare)}, {"success", std::move(success)}};
  Value reply = co_await call("/v3/kv/txn", std::move(body));
  const Value* ok = reply.find("succeeded");
  co_return ok && ok->is_bool() && ok->as_bool();
}

// --- stream ---
std::vector<WatchResponse> WatchParser::feed(std::string_view bytes) {
  std::vector<WatchResponse> responses;
  pending_.append(bytes);
  std::size_t start = 0;
  for (std::size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = core::trim(std::string_view(pending_).substr(start, end - start));
    if (line.empty()) continue;
    Value object;
    try {
      object = core::parse_json(line);
    } catch (const core::ParseError& e) {
      throw Error(ErrorCode::dcs, std::string("etcd: invalid watch reply: ") + e.what());
    }
    responses.push_back(watch_response(object));
  }
  pending_.erase(0, start);
  return responses;
}

awaitable<Snapshot> Etcd::snapshot(std::string prefix) {
  Value reply = co_await call("/v3/kv/range", prefix_range(prefix));
  Snapshot result;
  if (const Value* header = reply.find("header"); header && header->is_object())
    result.revision = int64_field(*header, "revision");
  if (const Value* kvs = reply.find("kvs"); kvs && kvs->is_array())
    for (const Value& kv : kvs->as_array()) result.kvs.emplace_back(bytes_field(kv, "key"), bytes_field(kv, "value"));
  co_return result;
}

awaitable<bool> Etcd::watch_on(const net::Endpoint& host, const std::string& prefix, std::int64_t& next_revision,
                               const WatchHandler& on_events, bool& established) {
  if (options_.auth && !token_) co_await authenticate(host);
  Value request = prefix_range(prefix);
  request.set("start_revision", std::to_string(next_revision));
  Value create = Object{{"create_request", std::move(request)}};
  WatchParser parser;
  bool stopped = false;
  using Clock = std::chrono::steady_clock;
  auto heard = Clock::now();  // the last byte of the stream, or the last answer of the host to a probe
  bool handling = false;      // on_events runs: the stream is held back by us, not silent
  net::BodyConsumer consume = [&](std::string_view piece) -> awaitable<bool> {
    heard = Clock::now();
    for (WatchResponse& response : parser.feed(piece)) {
      if (response.created) established = true;
      if (response.events.empty()) continue;
      std::int64_t last = 0;
      for (const auto& e : response.events) last = std::max(last, e.mod_revision);
      handling = true;
      const bool more = co_await on_events(std::move(response.events));
      handling = false;
      heard = Clock::now();
      next_revision = last + 1;
      if (!more) {
        stopped = true;
        co_return false;
      }
    }
    co_return true;
  };
  // A silent connection may be a quiet cluster or a host that is gone while TCP still looks open (a
  // frozen etcd, a partition): ask the host through another connection. Never returns: it throws when
  // the host does not answer, and is cancelled when the stream ends.
  auto probe = [&]() -> awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    Value range = prefix_range(prefix);
    range.set("limit", "1");
    range.set("keys_only", true);
    const std::string body = core::to_json(range);
    for (;;) {
      timer.expires_at(heard + options_.watch_idle);
      co_await timer.async_wait(asio::use_awaitable);
      if (handling || Clock::now() - heard < options_.watch_idle) continue;
      net::Response answer;
      try {
        answer = co_await post(host, "/v3/kv/range", body);
      } catch (const Error& e) {
        if (!host_unavailable(e)) throw;
        throw Error(ErrorCode::http, "the watch connection was silent for " + std::to_string(options_.watch_idle.count()) +
                                         "ms and the host does not answer: " + e.what());
      }
      if (answer.status >= 500)
        throw Error(ErrorCode::http, "the watch connection was silent for " + std::to_string(options_.watch_idle.count()) +
                                         "ms and the host fails: " + describe_failure(answer));
      heard = Clock::now();  // it answers: a quiet cluster
    }
  };
  // Asio's || waits for the first branch to *succeed*: both branches return, the first to end decides
  // (the stream's response or failure, or the probe's failure); the other is then cancelled, and its
  // Cancelled is not an outcome.
  net::Response response;
  std::exception_ptr failure;
  bool decided = false;
  auto streaming = [&]() -> awaitable<void> {
    try {
      response = co_await net::stream("POST", host, "/v3/watch", core::to_json(create), request_options(), consume);
    } catch (...) {
      if (!decided) failure = std::current_exception();
    }
    decided = true;
  };
  auto probing = [&]() -> awaitable<void> {
    try {
      co_await probe();
    } catch (...) {
      if (!decided) failure = std::current_exception();
    }
    decided = true;
  };
  try {
    co_await (streaming() || probing());
    if (failure) std::rethrow_exception(failure);
  } catch (const TokenRefused&) {
    token_.reset();  // authenticate again at the next attempt
    throw;
  }
  if (stopped) co_return true;
  if (response.status == 401 && options_.auth) {
    token_.reset();  // expired: authenticate again at the next attempt
    throw Error(ErrorCode::http, "etcd at " + url(host) + ": the watch was refused: " + describe_failure(response));
  }
  if (response.status >= 500) throw Error(ErrorCode::http, "etcd at " + url(host) + ": " + describe_failure(response));
  if (!succeeded(response)) throw WatchRefused("etcd at " + url(host) + ": " + describe_failure(response));
  throw Error(ErrorCode::http, "etcd at " + url(host) + ": the watch stream ended");
}

awaitable<void> Etcd::watch_prefix(std::string prefix, std::int64_t start_revision, WatchHandler on_events,
                                   std::chrono::milliseconds reconnect_within) {
  using Clock = std::chrono::steady_clock;
  std::int64_t next_revision = start_revision;
  std::vector<std::string> failures;
  auto lost_at = Clock::now();
  auto backoff = std::chrono::milliseconds(20);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (std::size_t attempt = 0;; ++attempt) {
    const net::Endpoint& host = options_.hosts[attempt % options_.hosts.size()];
    bool established = false;
    try {
      if (co_await watch_on(host, prefix, next_revision, on_events, established)) co_return;
    } catch (const WatchRefused&) {
      throw;
    } catch (const Error& e) {
      if (!host_unavailable(e)) throw;
      const std::string where = "etcd at " + url(host) + ": ";
      const std::string what = e.what();
      failures.push_back(what.starts_with("etcd") ? what : where + what);
    }
    if (established) {  // it worked, then broke: a fresh deadline for resuming it
      lost_at = Clock::now();
      backoff = std::chrono::milliseconds(20);
      if (failures.size() > 1) failures.erase(failures.begin(), failures.end() - 1);
    }
    if (Clock::now() - lost_at > reconnect_within)
      throw Error(ErrorCode::dcs, "etcd: the watch of '" + prefix + "' could not be resumed from revision " +
                                      std::to_string(next_revision) + " within " +
                                      std::to_string(reconnect_within.count()) + "ms:\n" + core::join(failures, "\n"));
    if ((attempt + 1) % options_.hosts.size() == 0) {  // every host tried: wait for one to come back
      pause.expires_after(backoff);
      co_await pause.async_wait(asio::use_awaitable);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
    }
  }
}
// --- end stream ---

}  // namespace pglift::dcs
