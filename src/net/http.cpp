// The only TU that includes Beast (it dominates the build: see ../shared/reference/build-stack.md §3).
#include "net/http.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <charconv>
#include <memory>

#include "net/base64.hpp"
#include "pglift/errors.hpp"

namespace pglift::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
/// Far above any Patroni or etcd reply we read, but bounded.
constexpr std::uint64_t body_limit = 64 * 1024 * 1024;

std::string format_seconds(std::chrono::milliseconds d) {
  std::string s = std::to_string(d.count() / 1000);
  if (auto ms = d.count() % 1000; ms != 0) {
    std::string fraction = std::to_string(1000 + ms).substr(1);  // zero-padded to 3 digits
    fraction.erase(fraction.find_last_not_of('0') + 1);
    s += "." + fraction;
  }
  return s + "s";
}

/// Names a request in its errors ("HTTP GET http://127.0.0.1:8008/patroni", never the credentials) and
/// turns failures into the library's errors.
struct RequestLabel {
  std::string text;
  std::chrono::milliseconds timeout;

  [[noreturn]] void fail(const std::string& reason) const { throw Error(ErrorCode::http, text + ": " + reason); }

  [[noreturn]] void fail(const error_code& ec, const std::string& step = {}) const {
    if (ec == beast::error::timeout) throw Timeout(text + " timed out after " + format_seconds(timeout));
    // We never abort our own operations: an abort is the cancellation of the awaiting coroutine.
    if (ec == asio::error::operation_aborted) throw Cancelled(text + " cancelled");
    fail(step.empty() ? ec.message() : step + ": " + ec.message());
  }
};

/// A name lookup we can stop waiting for. getaddrinfo cannot be interrupted, so it runs on Asio's resolver
/// thread while we wait on a timer; when the deadline or a cancellation wins, the lookup ends unobserved
/// (it owns itself through the completion handler).
struct Lookup {
  explicit Lookup(const asio::any_io_executor& ex) : resolver(ex), wake(ex) {}
  tcp::resolver resolver;
  asio::steady_timer wake;
  bool finished = false;
  error_code ec;
  std::vector<tcp::endpoint> addresses;
};

awaitable<std::vector<tcp::endpoint>> resolve(const Endpoint& endpoint, Clock::time_point deadline,
                                              const RequestLabel& label) {
  error_code not_literal;
  auto address = asio::ip::make_address(endpoint.host, not_literal);
  if (!not_literal) co_return std::vector{tcp::endpoint(address, endpoint.port)};

  auto lookup = std::make_shared<Lookup>(co_await asio::this_coro::executor);
  lookup->wake.expires_at(deadline);
  lookup->resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                 [lookup](error_code ec, const tcp::resolver::results_type& results) {
                                   lookup->ec = ec;
                                   for (const auto& entry : results) lookup->addresses.push_back(entry.endpoint());
                                   lookup->finished = true;
                                   lookup->wake.cancel();
                                 });
  auto [waited] = co_await lookup->wake.async_wait(no_throw);
  if (!lookup->finished) {
    lookup->resolver.cancel();
    label.fail(waited ? waited : error_code(beast::error::timeout));
  }
  if (lookup->ec) label.fail(lookup->ec);
  co_return std::move(lookup->addresses);
}

/// A socket for `endpoint`, opened close-on-exec (asio opens without SOCK_CLOEXEC, leaving a window in
/// which a fork by another thread of the embedding program would inherit it).
error_code open_cloexec(tcp::socket& socket, const tcp::endpoint& endpoint) {
  error_code ec;
  const auto protocol = endpoint.protocol();
  int fd = ::socket(protocol.family(), protocol.type() | SOCK_CLOEXEC, protocol.protocol());
  if (fd < 0) return error_code(errno, boost::system::system_category());
  socket.assign(protocol, fd, ec);
  if (ec) ::close(fd);
  return ec;
}

/// Sets the deadline of the whole exchange: beast's stream applies it to the connect, the TLS handshake,
/// the write and the read. Tries each address in turn, as asio's range connect does, but on sockets we
/// open ourselves: asio's would open them (without close-on-exec) inside the connect.
awaitable<void> connect(beast::tcp_stream& stream, const std::vector<tcp::endpoint>& addresses,
                        Clock::time_point deadline, const RequestLabel& label) {
  stream.expires_at(deadline);
  error_code ec = asio::error::not_found;
  for (const auto& address : addresses) {
    error_code ignored;
    stream.socket().close(ignored);
    ec = open_cloexec(stream.socket(), address);
    if (!ec) std::tie(ec) = co_await stream.async_connect(address, no_throw);
    if (!ec) co_return;
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) break;  // no time left, or cancelled
  }
  label.fail(ec);
}

ssl::context make_tls_context(const Tls& tls, const RequestLabel& label) {
  ssl::context context(ssl::context::tls_client);
  error_code ec;
  auto check = [&](const std::string& what) {
    if (ec) label.fail(what + ": " + ec.message());
  };
  if (tls.verify_peer) {
    context.set_verify_mode(ssl::verify_peer);
    if (tls.cafile) {
      context.load_verify_file(tls.cafile->string(), ec);
      check("cannot load CA file " + tls.cafile->string());
    } else {
      context.set_default_verify_paths(ec);
      check("cannot load the system's CA certificates");
    }
  } else {
    context.set_verify_mode(ssl::verify_none);
  }
  if (tls.certfile) {
    context.use_certificate_chain_file(tls.certfile->string(), ec);
    check("cannot load certificate " + tls.certfile->string());
    const auto& keyfile = tls.keyfile.value_or(*tls.certfile);
    context.use_private_key_file(keyfile.string(), ssl::context::pem, ec);
    check("cannot load private key " + keyfile.string());
  }
  return context;
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

awaitable<void> handshake(TlsStream& stream, const std::string& host, bool verify_peer, const RequestLabel& label) {
  SSL* tls = stream.native_handle();
  const bool ip_literal = is_ip_literal(host);
  // SNI carries host names only (RFC 6066).
  if (!ip_literal && !SSL_set_tlsext_host_name(tls, host.c_str())) label.fail("cannot set the TLS server name");
  // OpenSSL's own check of the name or IP (subjectAltName) reports "hostname mismatch" / "IP address
  // mismatch", where asio's host_name_verification callback leaves an "unspecified" error.
  X509_VERIFY_PARAM* expected = SSL_get0_param(tls);
  if (verify_peer && !(ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(expected, host.c_str())
                                  : X509_VERIFY_PARAM_set1_host(expected, host.c_str(), host.size())))
    label.fail("cannot set the expected TLS peer name");
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, no_throw);
  if (!ec) co_return;
  // OpenSSL's "certificate verify failed" alone does not say why; the verification result does.
  const long verify_result = SSL_get_verify_result(tls);
  if (ec.category() == asio::error::get_ssl_category() && verify_result != X509_V_OK)
    label.fail("TLS handshake: certificate verify failed: " +
               std::string(X509_verify_cert_error_string(verify_result)));
  label.fail(ec, "TLS handshake");
}

http::request<http::string_body> make_request(const std::string& method, const Endpoint& endpoint,
                                              const std::string& target, std::string body,
                                              const RequestOptions& options) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target.empty() ? "/" : target);
  req.version(11);
  req.set(http::field::host, endpoint.str());
  req.set(http::field::user_agent, "libpglift");
  req.set(http::field::connection, "close");
  if (options.auth)
    req.set(http::field::authorization,
            "Basic " + base64_encode(options.auth->username + ":" + options.auth->password));
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : options.headers) req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

/// Python's http.server over TLS closes without close_notify after a body delimited by the end of the
/// connection (no Content-Length): the body is whole, though OpenSSL reports a truncated stream.
bool whole_despite_truncation(const error_code& ec, const http::response_parser<http::string_body>& parser) {
  return ec == ssl::error::stream_truncated && parser.is_header_done() && parser.need_eof();
}

template <class Stream>
awaitable<Response> exchange(Stream& stream, http::request<http::string_body>& req, const RequestLabel& label) {
  auto [ec, written] = co_await http::async_write(stream, req, no_throw);
  if (ec) label.fail(ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  parser.skip(req.method() == http::verb::head);  // a HEAD reply announces a body it does not carry
  std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, no_throw);
  if (ec && !whole_despite_truncation(ec, parser)) label.fail(ec);
  auto res = parser.release();
  // No TLS shutdown: with "Connection: close" the reply is complete, and waiting for the server's
  // close_notify would only add a round trip (or hang on servers that never send it).
  co_return Response{static_cast<int>(res.result_int()), std::move(res.body()),
                     std::string(res[http::field::content_type])};
}

// --- stream ---
/// Writes the request, reads the header under the request's deadline, then the body without one.
template <class Stream>
awaitable<Response> stream_exchange(Stream& stream, http::request<http::string_body>& req, const RequestLabel& label,
                                    const BodyConsumer& on_data) {
  auto [ec, written] = co_await http::async_write(stream, req, no_throw);
  if (ec) label.fail(ec);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // a watch never ends; each piece is handed on, nothing accumulates
  std::tie(ec, std::ignore) = co_await http::async_read_header(stream, buffer, parser, no_throw);
  if (ec) label.fail(ec);
  beast::get_lowest_layer(stream).expires_never();
  Response response{static_cast<int>(parser.get().result_int()), {},
                    std::string(parser.get()[http::field::content_type])};
  const bool deliver = response.status >= 200 && response.status < 300;
  char piece[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    // read_some: returns with what has arrived (async_read would wait for the end of the body).
    std::tie(ec, std::ignore) = co_await http::async_read_some(stream, buffer, parser, no_throw);
    if (ec == http::error::need_buffer) ec = {};  // the piece is full: hand it on, read on
    if (ec) label.fail(ec, "reading the response body");
    const std::string_view got(piece, sizeof piece - parser.get().body().size);
    if (got.empty()) continue;
    if (!deliver) {
      if (response.body.size() + got.size() > body_limit) label.fail("the error reply is too large");
      response.body += got;
    } else if (!co_await on_data(got)) {
      break;
    }
  }
  co_return response;
}
// --- end stream ---

bool parses_as(int family, std::string_view host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(family, std::string(host).c_str(), buffer) == 1;
}

bool is_wildcard(std::string_view host) {
  if (host == "*") return true;
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_unspecified();
}

bool is_host_name(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

}  // namespace

Endpoint Endpoint::parse(std::string_view host_port) {
  const std::string value(host_port);
  auto invalid = [&](const std::string& reason) { return InvalidSpec("address", value, reason); };
  std::string_view host, port;
  if (host_port.starts_with('[')) {
    auto close = host_port.find("]:");
    if (close == std::string_view::npos) throw invalid("expected [IPV6]:PORT");
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
    if (!parses_as(AF_INET6, host)) throw invalid("'" + std::string(host) + "' is not an IPv6 address");
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos) throw invalid("expected HOST:PORT");
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) throw invalid("IPv6 addresses must be bracketed, as in [::1]:8008");
    if (host != "*" && !is_host_name(host)) throw invalid("expected HOST:PORT");
  }
  unsigned number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || number == 0 || number > 65535)
    throw invalid("expected a port number between 1 and 65535");
  return Endpoint{std::string(host), static_cast<std::uint16_t>(number)};
}

std::string Endpoint::str() const {
  const std::string port_suffix = ":" + std::to_string(port);
  return host.find(':') != std::string::npos ? "[" + host + "]" + port_suffix : host + port_suffix;
}

std::string base_url(const Endpoint& endpoint, bool tls) { return (tls ? "https://" : "http://") + endpoint.str(); }

bool is_ip_literal(std::string_view host) { return parses_as(AF_INET, host) || parses_as(AF_INET6, host); }

Endpoint contact_address(const Endpoint& connect_address, const std::optional<Endpoint>& listen) {
  if (!is_wildcard(connect_address.host)) return connect_address;
  // No address to contact is configured: reach the listening socket itself, on this host.
  Endpoint local = listen.value_or(connect_address);
  if (is_wildcard(local.host)) local.host = parses_as(AF_INET6, local.host) ? "::1" : "127.0.0.1";
  return local;
}

namespace {
/// One request on a new connection (TLS when configured): the whole reply (on_data null), or its body
/// handed on piece by piece (stream_exchange).
awaitable<Response> perform(std::string method, Endpoint endpoint, std::string target, std::string body,
                            RequestOptions options, const BodyConsumer* on_data) {
  const RequestLabel label{"HTTP " + method + " " + base_url(endpoint, options.tls.has_value()) + target,
                           options.timeout};
  const auto deadline = Clock::now() + options.timeout;
  auto req = make_request(method, endpoint, target, std::move(body), options);
  try {
    auto addresses = co_await resolve(endpoint, deadline, label);
    auto ex = co_await asio::this_coro::executor;
    if (!options.tls) {
      beast::tcp_stream stream(ex);
      co_await connect(stream, addresses, deadline, label);
      if (on_data) co_return co_await stream_exchange(stream, req, label, *on_data);
      co_return co_await exchange(stream, req, label);
    }
    auto tls_context = make_tls_context(*options.tls, label);
    TlsStream stream(ex, tls_context);
    co_await connect(beast::get_lowest_layer(stream), addresses, deadline, label);
    co_await handshake(stream, endpoint.host, options.tls->verify_peer, label);
    if (on_data) co_return co_await stream_exchange(stream, req, label, *on_data);
    co_return co_await exchange(stream, req, label);
  } catch (const boost::system::system_error& e) {
    // A cancelled coroutine gets operation_aborted thrown at its next co_await.
    label.fail(e.code());
  }
}
}  // namespace

awaitable<Response> request(std::string method, Endpoint endpoint, std::string target, std::string body,
                            RequestOptions options) {
  return perform(std::move(method), std::move(endpoint), std::move(target), std::move(body), std::move(options), nullptr);
}

// --- stream ---
awaitable<Response> stream(std::string method, Endpoint endpoint, std::string target, std::string body,
                           RequestOptions options, BodyConsumer on_data) {
  // A coroutine of its own: on_data lives in its frame while perform runs.
  co_return co_await perform(std::move(method), std::move(endpoint), std::move(target), std::move(body),
                             std::move(options), &on_data);
}
// --- end stream ---

}  // namespace pglift::net
