// HTTP(S) client for the REST APIs we talk to (Patroni, etcd's JSON gateway). One connection per request:
// these APIs are called a few times per operation, so keep-alive would buy little and cost a pool.
// Beast stays in http.cpp; this header only needs Asio's awaitable.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/asio.hpp"

namespace pglift::net {

/// Where a server listens: a host name or an IP literal, and a port.
struct Endpoint {
  std::string host;  ///< "127.0.1.1", "::1" (no brackets), "pghost"
  std::uint16_t port = 0;

  /// "127.0.1.1:8008", "[::1]:8008", "pghost:8008". Throws InvalidSpec (field "address").
  static Endpoint parse(std::string_view host_port);
  /// The inverse of parse(): IPv6 literals are bracketed.
  std::string str() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct BasicAuth {
  std::string username, password;
};

struct Tls {
  std::optional<std::filesystem::path> cafile = {};    ///< absent: the system's trusted CAs
  std::optional<std::filesystem::path> certfile = {};  ///< client certificate (PEM), with keyfile
  std::optional<std::filesystem::path> keyfile = {};
  bool verify_peer = true;  ///< the chain and the host name (or IP) of the server
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct RequestOptions {
  /// Covers the whole request: resolve, connect, TLS handshake, write and read.
  std::chrono::milliseconds timeout{5000};
  std::optional<BasicAuth> auth = {};
  std::optional<Tls> tls = {};  ///< set: https
  Headers headers = {};         ///< extra request headers (e.g. an etcd token)
};

struct Response {
  int status = 0;
  std::string body;
  std::string content_type;
};

/// Sends one request and returns the response, whatever its status. Throws Timeout past the deadline,
/// Error(http) when the server cannot be reached or the exchange fails, Cancelled when the awaiting
/// coroutine is cancelled. Messages name the method and URL, never the credentials.
awaitable<Response> request(std::string method, Endpoint endpoint, std::string target, std::string body = {},
                            RequestOptions options = {});

// --- stream ---
/// Takes a piece of a streamed response body, as it arrived; returns false to stop reading. A coroutine:
/// it may wait (the reading waits with it, the server is held back by TCP). `piece` is valid until it
/// returns.
using BodyConsumer = std::function<awaitable<bool>(std::string_view piece)>;

/// Like request(), for a response whose body may never end (etcd's watch: a chunked stream of JSON
/// objects). `options.timeout` covers the resolve, connect, TLS handshake, the write and the response
/// header only: the body has no deadline. A 2xx body goes to `on_data` piece by piece (chunk framing
/// removed) until the server ends it, the connection breaks (Error(http)), or `on_data` returns false;
/// the Response then carries the status and an empty body. Any other status is read whole (bounded)
/// into the Response and `on_data` is not called. Cancelling the awaiting coroutine ends it at once
/// (Cancelled).
awaitable<Response> stream(std::string method, Endpoint endpoint, std::string target, std::string body,
                           RequestOptions options, BodyConsumer on_data);
// --- end stream ---

/// "http://host:port" or "https://host:port", for messages.
std::string base_url(const Endpoint& endpoint, bool tls);

/// Whether `host` is an IPv4 or IPv6 literal (no brackets).
bool is_ip_literal(std::string_view host);

/// The address to contact for a server on this host configured with `connect_address` and optionally
/// `listen` (Patroni's restapi): `connect_address`, unless its host is a wildcard (0.0.0.0, ::, *). Then
/// the listening socket itself: `listen` (else `connect_address`) with a wildcard host replaced by the
/// loopback address of its family (127.0.0.1, ::1).
Endpoint contact_address(const Endpoint& connect_address, const std::optional<Endpoint>& listen);

}  // namespace pglift::net
