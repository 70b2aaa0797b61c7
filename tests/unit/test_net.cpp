// src/net (HTTP, HTTPS) against a Python fixture server, and src/dcs against a real etcd.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <thread>

#include "core/asio.hpp"
#include "core/value.hpp"
#include "dcs/etcd.hpp"
#include "run_coroutine.hpp"
#include "net/base64.hpp"
#include "net/http.hpp"
#include "pglift/errors.hpp"

#ifndef PGLIFT_UNIT_SOURCE_DIR
#error "PGLIFT_UNIT_SOURCE_DIR (tests/unit in the source tree) locates http_fixture.py"
#endif

using namespace pglift;
using namespace std::chrono_literals;

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct NetRunner {
  asio::io_context io;
  template <class T>
  T run(awaitable<T> a, std::function<void(asio::cancellation_signal&)> during = {}, std::chrono::milliseconds after = 100ms) {
    return testing::run_coroutine(io, std::move(a), std::move(during), after);
  }
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& text, std::size_t lines = 20) {
  std::size_t pos = text.size();
  while (lines-- > 0 && pos > 0) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos);
}

/// A private directory, removed with its content.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "pglift-net-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

/// A child process we own, with a clean environment (etcd reads every ETCD_* variable): stdout on a pipe
/// (fixtures print their port there), stderr to `log`. Terminated and reaped on destruction, so a failed
/// check never leaves it behind.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    char path_var[] = "PATH=/usr/bin:/bin";
    char* env[] = {path_var, nullptr};
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(err >= 0);
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      ::dup2(out[1], 1);
      ::dup2(err, 2);
      ::execve(args[0], args.data(), env);
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err);
    stdout_ = out[0];
    REQUIRE(pid_ > 0);
  }
  ~Child() {
    if (stdout_ >= 0) ::close(stdout_);
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGTERM);
    for (auto deadline = Clock::now() + 5s; Clock::now() < deadline && !exited();)
      std::this_thread::sleep_for(5ms);
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool exited() {
    if (!reaped_ && ::waitpid(pid_, &wait_status_, WNOHANG) == pid_) reaped_ = true;
    return reaped_;
  }
  bool succeeded() const { return reaped_ && WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0; }
  std::string log_tail() const { return tail(read_file(log_)); }

  /// The first line of stdout; fails the test (with the log) on EOF or after `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = Clock::now() + timeout;
    for (char c; Clock::now() < deadline;) {
      pollfd p{stdout_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max(left.count(), 1L))) <= 0) continue;
      if (::read(stdout_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line += c;
    }
    FAIL("no line from the child process; its stderr:\n" << log_tail());
    return {};
  }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int wait_status_ = 0;
  int stdout_ = -1;
  bool reaped_ = false;
};

/// Ports nobody listens on right now (bound together, so distinct).
std::vector<std::uint16_t> free_ports(int count) {
  std::vector<int> sockets;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < count; ++i) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    sockets.push_back(s);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int s : sockets) ::close(s);
  return ports;
}

/// A socket that listens but never accepts: connections complete in the kernel's backlog, then nothing
/// answers (no TLS handshake, no HTTP reply).
struct SilentListener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  net::Endpoint endpoint{"127.0.0.1", 0};
  SilentListener() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    endpoint.port = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd); }
};

bool ipv6_loopback_configured() {
  int s = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(s);
  return ok;
}

/// tests/unit/http_fixture.py, on an ephemeral port of `host`.
struct HttpServer {
  TempDir dir;
  Child child;
  net::Endpoint endpoint;

  explicit HttpServer(std::vector<std::string> options = {}, std::string host = "127.0.0.1")
      : child(fixture_argv(host, std::move(options)), dir.path / "fixture.log"),
        endpoint{std::move(host), static_cast<std::uint16_t>(std::stoi(child.read_line(10s)))} {}

  static std::vector<std::string> fixture_argv(const std::string& host, std::vector<std::string> options) {
    std::vector<std::string> argv{"/usr/bin/python3", PGLIFT_UNIT_SOURCE_DIR "/http_fixture.py", "--bind", host};
    argv.insert(argv.end(), options.begin(), options.end());
    return argv;
  }
};

/// Runs a program to completion; fails the test with its output when it fails.
void check_call(const std::vector<std::string>& argv, const fs::path& log) {
  Child child(argv, log);
  for (auto deadline = Clock::now() + 30s; !child.exited();) {
    REQUIRE_MESSAGE(Clock::now() < deadline, argv[0] << " did not finish");
    std::this_thread::sleep_for(2ms);
  }
  REQUIRE_MESSAGE(child.succeeded(), argv[0] << " failed:\n" << read_file(log));
}

/// A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1 only (no name), a
/// client certificate, and an unrelated CA.
struct Pki {
  TempDir dir;
  fs::path ca = dir.path / "ca.crt", other_ca = dir.path / "other-ca.crt";
  fs::path server_cert = dir.path / "server.crt", server_key = dir.path / "server.key";
  fs::path client_cert = dir.path / "client.crt", client_key = dir.path / "client.key";

  Pki() {
    make_ca("ca", "pglift test CA");
    make_ca("other-ca", "another CA");
    make_leaf("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    make_leaf("client", "extendedKeyUsage=clientAuth\n");
  }
  void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    check_call(args, dir.path / "openssl.log");
  }
  void make_ca(const std::string& name, const std::string& subject) {
    openssl({"req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             (dir.path / (name + ".key")).string(), "-out", (dir.path / (name + ".crt")).string(), "-days", "2",
             "-subj", "/CN=" + subject});
  }
  void make_leaf(const std::string& name, const std::string& extensions) {
    auto file = [&](const std::string& ext) { return (dir.path / (name + ext)).string(); };
    std::ofstream(file(".ext")) << extensions;
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             file(".key"), "-out", file(".csr"), "-subj", "/CN=" + name});
    openssl({"x509", "-req", "-in", file(".csr"), "-CA", ca.string(), "-CAkey", (dir.path / "ca.key").string(),
             "-set_serial", "2", "-days", "2", "-out", file(".crt"), "-extfile", file(".ext")});
  }
};

net::RequestOptions with_timeout(std::chrono::milliseconds timeout) {
  net::RequestOptions options;
  options.timeout = timeout;
  return options;
}

net::RequestOptions with_tls(net::Tls tls) {
  net::RequestOptions options;
  options.tls = std::move(tls);
  return options;
}

std::string header(const core::Value& echo, const std::string& name) {
  const core::Value* value = echo.find("headers")->find(name);
  return value ? value->as_string() : "";
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

TEST_SUITE_BEGIN("net");  // run alone with -ts=net

TEST_CASE("net::Endpoint::parse reads host:port, bracketed IPv6 and names; errors name the field 'address'") {
  CHECK(net::Endpoint::parse("127.0.1.1:8008") == net::Endpoint{"127.0.1.1", 8008});
  CHECK(net::Endpoint::parse("[::1]:8008") == net::Endpoint{"::1", 8008});
  CHECK(net::Endpoint::parse("pghost:8008") == net::Endpoint{"pghost", 8008});
  CHECK(net::Endpoint::parse("0.0.0.0:1") == net::Endpoint{"0.0.0.0", 1});
  CHECK(net::Endpoint::parse("*:65535") == net::Endpoint{"*", 65535});
  CHECK(net::Endpoint::parse("[::1]:8008").str() == "[::1]:8008");
  CHECK(net::Endpoint::parse("pghost:8008").str() == "pghost:8008");
  for (const char* bad : {"pghost", "pghost:", ":8008", "::1:8008", "[::1]8008", "[pghost]:8008", "pghost:0",
                          "pghost:65536", "pghost:80x", "pg host:8008", "http://pghost:8008"}) {
    CAPTURE(bad);
    try {
      net::Endpoint::parse(bad);
      FAIL("accepted");
    } catch (const InvalidSpec& e) {
      CHECK(e.field() == "address");
      CHECK(e.value() == bad);
    }
  }
}

TEST_CASE("net::contact_address is the connect address, or a loopback address when that is a wildcard") {
  using net::Endpoint;
  CHECK(net::contact_address({"127.0.1.1", 8008}, Endpoint{"0.0.0.0", 8008}) == Endpoint{"127.0.1.1", 8008});
  CHECK(net::contact_address({"0.0.0.0", 8008}, std::nullopt) == Endpoint{"127.0.0.1", 8008});
  CHECK(net::contact_address({"*", 8008}, std::nullopt) == Endpoint{"127.0.0.1", 8008});
  CHECK(net::contact_address({"::", 8008}, std::nullopt) == Endpoint{"::1", 8008});
  // the listening socket is what answers on this host: its address (when specific) and its port
  CHECK(net::contact_address({"0.0.0.0", 8008}, Endpoint{"127.0.1.2", 8009}) == Endpoint{"127.0.1.2", 8009});
  CHECK(net::contact_address({"0.0.0.0", 8008}, Endpoint{"::", 8010}) == Endpoint{"::1", 8010});
}

TEST_CASE("net base64 round-trips bytes; etcd's prefix range ends after the last key with the prefix") {
  CHECK(net::base64_encode("") == "");
  CHECK(net::base64_encode("f") == "Zg==");
  CHECK(net::base64_encode("fo") == "Zm8=");
  CHECK(net::base64_encode("foo") == "Zm9v");
  CHECK(net::base64_encode("user:secret") == "dXNlcjpzZWNyZXQ=");
  const std::string bytes("\x00\xff\x10/service/\xfe", 13);
  CHECK(net::base64_decode(net::base64_encode(bytes)) == bytes);
  CHECK(net::base64_decode("Zm8=") == "fo");
  CHECK_FALSE(net::base64_decode("Zm8").has_value());
  CHECK_FALSE(net::base64_decode("Z!8=").has_value());
  CHECK(dcs::prefix_range_end("/service/t1/") == "/service/t10");
  CHECK(dcs::prefix_range_end(std::string("a\xff", 2)) == "b");
  CHECK(dcs::prefix_range_end(std::string("\xff\xff", 2)) == std::string(1, '\0'));
  CHECK(dcs::prefix_range_end("") == std::string(1, '\0'));
}

TEST_CASE("http: statuses are returned, not thrown, with body and content type") {
  HttpServer server;
  NetRunner r;
  auto ok = r.run(net::request("GET", server.endpoint, "/status/200"));
  CHECK(ok.status == 200);
  CHECK(ok.body == R"({"status": 200})");
  CHECK(ok.content_type == "application/json");
  CHECK(r.run(net::request("GET", server.endpoint, "/status/404")).status == 404);
  CHECK(r.run(net::request("GET", server.endpoint, "/status/503")).status == 503);
  CHECK(r.run(net::request("HEAD", server.endpoint, "/status/503")).body.empty());
  // Patroni's replies carry no Content-Length: the body ends with the connection
  auto unbounded = r.run(net::request("GET", server.endpoint, "/no-length"));
  CHECK(unbounded.body == "until the end");
  // a host name is resolved
  CHECK(r.run(net::request("GET", {"localhost", server.endpoint.port}, "/status/200")).status == 200);
}

TEST_CASE("http: a POST carries its JSON body, basic auth and extra headers") {
  HttpServer server;
  NetRunner r;
  net::RequestOptions options;
  options.auth = net::BasicAuth{"user", "secret"};
  options.headers = {{"X-Trace", "42"}};
  auto res = r.run(net::request("POST", server.endpoint, "/echo", R"({"leader":"pg1"})", options));
  REQUIRE(res.status == 200);
  auto echo = core::parse_json(res.body);
  CHECK(echo.find("method")->as_string() == "POST");
  CHECK(echo.find("body")->as_string() == R"({"leader":"pg1"})");
  CHECK(header(echo, "Content-Type") == "application/json");
  CHECK(header(echo, "Authorization") == "Basic dXNlcjpzZWNyZXQ=");
  CHECK(header(echo, "X-Trace") == "42");
  CHECK(header(echo, "Connection") == "close");
  CHECK(header(echo, "Host") == server.endpoint.str());
  // no body: no content type, but a length (Patroni's POST /restart takes none)
  echo = core::parse_json(r.run(net::request("POST", server.endpoint, "/echo")).body);
  CHECK(header(echo, "Content-Type").empty());
  CHECK(header(echo, "Content-Length") == "0");
}

TEST_CASE("http: a slow server hits the request's deadline: Timeout, promptly") {
  HttpServer server;
  NetRunner r;
  auto start = Clock::now();
  CHECK_THROWS_WITH_AS(r.run(net::request("GET", server.endpoint, "/sleep/5000", {}, with_timeout(300ms))),
                       ("HTTP GET http://" + server.endpoint.str() + "/sleep/5000 timed out after 0.3s").c_str(),
                       Timeout);
  CHECK(since(start) >= 290ms);
  CHECK(since(start) < 1500ms);
}

TEST_CASE("http: an unreachable server is an http Error naming the URL, never the password") {
  NetRunner r;
  net::Endpoint nobody{"127.0.0.1", free_ports(1).front()};
  net::RequestOptions options;
  options.auth = net::BasicAuth{"user", "pa55word"};
  try {
    r.run(net::request("GET", nobody, "/patroni", {}, options));
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::http);
    CHECK(std::string(e.what()) == "HTTP GET http://" + nobody.str() + "/patroni: Connection refused");
  }
  CHECK_THROWS_AS(r.run(net::request("GET", {"no-such-host.invalid", 80}, "/")), Error);
}

TEST_CASE("http: cancelling the awaiting coroutine aborts the request at once") {
  HttpServer server;
  NetRunner r;
  auto start = Clock::now();
  CHECK_THROWS_AS(r.run(net::request("GET", server.endpoint, "/sleep/5000", {}, with_timeout(10s)),
                        [](asio::cancellation_signal& s) { s.emit(asio::cancellation_type::terminal); }),
                  Cancelled);
  CHECK(since(start) < 1s);
}

TEST_CASE("http: an IPv6 literal is bracketed in the URL and the Host header") {
  if (!ipv6_loopback_configured()) {
    MESSAGE("skipped: ::1 is not configured on lo");
    return;
  }
  HttpServer server({}, "::1");
  NetRunner r;
  auto res = r.run(net::request("GET", net::Endpoint::parse("[::1]:" + std::to_string(server.endpoint.port)), "/echo"));
  REQUIRE(res.status == 200);
  CHECK(header(core::parse_json(res.body), "Host") == "[::1]:" + std::to_string(server.endpoint.port));
}

TEST_CASE("https: the server is verified against the CA and its address; another CA or name is refused") {
  Pki pki;
  HttpServer server({"--cert", pki.server_cert.string(), "--key", pki.server_key.string()});
  NetRunner r;
  auto res = r.run(net::request("GET", server.endpoint, "/status/200", {}, with_tls({.cafile = pki.ca})));
  CHECK(res.status == 200);
  CHECK(r.run(net::request("GET", server.endpoint, "/no-length", {}, with_tls({.cafile = pki.ca}))).body ==
        "until the end");

  CHECK_THROWS_WITH_AS(
      r.run(net::request("GET", server.endpoint, "/status/200", {}, with_tls({.cafile = pki.other_ca}))),
      doctest::Contains("certificate verify failed: unable to get local issuer certificate"), Error);
  // the certificate names 127.0.0.1 only
  CHECK_THROWS_WITH_AS(
      r.run(net::request("GET", {"localhost", server.endpoint.port}, "/status/200", {}, with_tls({.cafile = pki.ca}))),
      doctest::Contains("certificate verify failed: hostname mismatch"), Error);
  CHECK(r.run(net::request("GET", server.endpoint, "/status/200", {},
                           with_tls({.cafile = pki.other_ca, .verify_peer = false})))
            .status == 200);
  CHECK_THROWS_WITH_AS(
      r.run(net::request("GET", server.endpoint, "/", {}, with_tls({.cafile = "/nonexistent/ca.pem"}))),
      doctest::Contains("cannot load CA file /nonexistent/ca.pem"), Error);
}

TEST_CASE("https: the deadline and cancellation also cover a TLS handshake that never completes") {
  SilentListener silent;
  NetRunner r;
  auto start = Clock::now();
  CHECK_THROWS_WITH_AS(r.run(net::request("GET", silent.endpoint, "/", {}, {.timeout = 200ms, .tls = net::Tls{}})),
                       doctest::Contains("timed out after 0.2s"), Timeout);
  CHECK(since(start) < 1s);
  start = Clock::now();
  CHECK_THROWS_AS(r.run(net::request("GET", silent.endpoint, "/", {}, {.timeout = 10s, .tls = net::Tls{}}),
                        [](asio::cancellation_signal& s) { s.emit(asio::cancellation_type::terminal); }),
                  Cancelled);
  CHECK(since(start) < 1s);
}

TEST_CASE("https: a client certificate is presented when the server requires one") {
  Pki pki;
  HttpServer server({"--cert", pki.server_cert.string(), "--key", pki.server_key.string(), "--client-ca",
                     pki.ca.string()});
  NetRunner r;
  CHECK_THROWS_AS(r.run(net::request("GET", server.endpoint, "/status/200", {}, with_tls({.cafile = pki.ca}))), Error);
  auto res = r.run(net::request("GET", server.endpoint, "/status/200", {},
                                with_tls({.cafile = pki.ca, .certfile = pki.client_cert, .keyfile = pki.client_key})));
  CHECK(res.status == 200);
}

namespace {

/// A real single-member etcd on free 127.0.0.1 ports, with fast elections, stopped at the end.
struct EtcdServer {
  TempDir dir;
  std::vector<std::uint16_t> ports = free_ports(2);
  net::Endpoint endpoint{"127.0.0.1", ports[0]};
  Child child{argv(), dir.path / "etcd.log"};

  std::vector<std::string> argv() const {
    const std::string client = "http://127.0.0.1:" + std::to_string(ports[0]);
    const std::string peer = "http://127.0.0.1:" + std::to_string(ports[1]);
    return {"/usr/bin/etcd", "--name", "pglift-test", "--data-dir", (dir.path / "data").string(),
            "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer, "--initial-cluster", "pglift-test=" + peer,
            "--initial-cluster-state", "new", "--heartbeat-interval=10", "--election-timeout=100",
            "--log-level", "warn", "--logger", "zap", "--log-outputs", "stderr"};
  }

  /// Polls /health finely; fails fast, with etcd's log, when it exits.
  void wait_ready(NetRunner& r, std::chrono::milliseconds timeout = 10s) {
    dcs::Etcd probe({.hosts = {endpoint}, .timeout = 200ms});
    for (auto deadline = Clock::now() + timeout; !r.run(probe.healthy());) {
      REQUIRE_MESSAGE(!child.exited(), "etcd exited:\n" << child.log_tail());
      REQUIRE_MESSAGE(Clock::now() < deadline, "etcd not healthy after " << timeout.count() << "ms:\n"
                                                                         << child.log_tail());
      std::this_thread::sleep_for(10ms);
    }
  }

  /// A raw call of the JSON gateway, for what the client does not offer (auth setup).
  net::Response gateway(NetRunner& r, const std::string& path, const std::string& body,
                        net::RequestOptions options = {}) {
    return r.run(net::request("POST", endpoint, path, body, std::move(options)));
  }
};

}  // namespace

TEST_CASE("etcd: keys under a prefix are listed and deleted, other prefixes kept; dead hosts are skipped") {
  NetRunner r;
  EtcdServer etcd;
  auto start = Clock::now();
  etcd.wait_ready(r);
  MESSAGE("etcd healthy after " << since(start).count() << "ms");

  dcs::Etcd client({.hosts = {etcd.endpoint}});
  r.run(client.put("/service/t1/config", R"({"ttl":30})"));
  r.run(client.put("/service/t1/initialize", "7712214716951713256"));
  r.run(client.put("/service/t1/members/pg1", ""));
  r.run(client.put("/service/t2/x", "kept"));
  auto t1 = r.run(client.get_prefix("/service/t1/"));
  REQUIRE(t1.size() == 3);
  CHECK(t1[0] == std::pair<std::string, std::string>{"/service/t1/config", R"({"ttl":30})"});
  CHECK(t1[1].first == "/service/t1/initialize");
  CHECK(t1[2] == std::pair<std::string, std::string>{"/service/t1/members/pg1", ""});
  CHECK(r.run(client.get_prefix("/service/none/")).empty());

  net::Endpoint dead{"127.0.0.1", free_ports(1).front()};
  dcs::Etcd failing_over({.hosts = {dead, etcd.endpoint}});
  CHECK(r.run(failing_over.healthy()));
  CHECK(r.run(failing_over.delete_prefix("/service/t1/")) == 3);
  CHECK(r.run(client.get_prefix("/service/t1/")).empty());
  CHECK(r.run(client.delete_prefix("/service/t1/")) == 0);
  auto t2 = r.run(client.get_prefix("/service/"));
  REQUIRE(t2.size() == 1);
  CHECK(t2[0] == std::pair<std::string, std::string>{"/service/t2/x", "kept"});

  dcs::Etcd unreachable({.hosts = {dead}, .timeout = 1s});
  CHECK_FALSE(r.run(unreachable.healthy()));
  try {
    r.run(unreachable.get_prefix("/service/"));
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::dcs);
    CHECK(std::string(e.what()).starts_with("etcd at http://" + dead.str() + ": "));
  }
}

TEST_CASE("etcd: delete_if deletes only when every value still is ours, or a key is absent, in one transaction") {
  NetRunner r;
  EtcdServer etcd;
  etcd.wait_ready(r);
  dcs::Etcd client({.hosts = {etcd.endpoint}});
  r.run(client.put("/service/c/leader", "winner"));
  r.run(client.put("/service/c/initialize", "111"));
  r.run(client.put("/service/c/config", "{}"));

  // Another member's leader key, and an initialize that is not ours: nothing is touched.
  CHECK_FALSE(r.run(client.delete_if({{"/service/c/leader", "loser"}}, {"/service/c/leader"})));
  CHECK_FALSE(r.run(client.delete_if({{"/service/c/initialize", "222"}, {"/service/c/leader", std::nullopt}},
                                     {"/service/c/initialize", "/service/c/config"})));
  // Ours, but the leader key exists: the absence condition fails, so nothing is deleted either.
  CHECK_FALSE(r.run(client.delete_if({{"/service/c/initialize", "111"}, {"/service/c/leader", std::nullopt}},
                                     {"/service/c/initialize", "/service/c/config"})));
  CHECK(r.run(client.get_prefix("/service/c/")).size() == 3);

  CHECK(r.run(client.delete_if({{"/service/c/leader", "winner"}}, {"/service/c/leader"})));
  // "No key under this prefix": one member key is enough to refuse.
  r.run(client.put("/service/c/members/other", "{}"));
  CHECK_FALSE(r.run(client.delete_if({{"/service/c/initialize", "111"}, {"/service/c/members/", std::nullopt, true}},
                                     {"/service/c/initialize"})));
  CHECK(r.run(client.delete_key("/service/c/members/other")) == 1);
  CHECK(r.run(client.delete_if({{"/service/c/initialize", "111"}, {"/service/c/leader", std::nullopt}},
                               {"/service/c/initialize", "/service/c/config"})));
  CHECK(r.run(client.get_prefix("/service/c/")).empty());
}

TEST_CASE("etcd: with authentication a token is obtained and sent; bad credentials never show the password") {
  NetRunner r;
  EtcdServer etcd;
  etcd.wait_ready(r);
  REQUIRE(etcd.gateway(r, "/v3/auth/user/add", R"({"name":"root","password":"r00t-pw"})").status == 200);
  REQUIRE(etcd.gateway(r, "/v3/auth/role/add", R"({"name":"root"})").status == 200);
  REQUIRE(etcd.gateway(r, "/v3/auth/user/grant", R"({"user":"root","role":"root"})").status == 200);
  REQUIRE(etcd.gateway(r, "/v3/auth/enable", "{}").status == 200);

  dcs::Etcd client({.hosts = {etcd.endpoint}, .auth = net::BasicAuth{"root", "r00t-pw"}});
  r.run(client.put("/service/a/b", "c"));
  CHECK(r.run(client.get_prefix("/service/a/")).size() == 1);

  dcs::Etcd anonymous({.hosts = {etcd.endpoint}});
  CHECK_THROWS_WITH_AS(r.run(anonymous.get_prefix("/service/a/")), doctest::Contains("etcd at http://"), Error);

  dcs::Etcd impostor({.hosts = {etcd.endpoint}, .auth = net::BasicAuth{"root", "wrong-pw"}});
  try {
    r.run(impostor.get_prefix("/service/a/"));
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::dcs);
    CHECK(std::string(e.what()).find("authentication of 'root' failed") != std::string::npos);
    CHECK(std::string(e.what()).find("wrong-pw") == std::string::npos);
  }
}

TEST_CASE("http: latency of local requests (run with --no-skip)" * doctest::skip()) {
  NetRunner r;
  EtcdServer etcd;
  etcd.wait_ready(r);
  HttpServer server;
  Pki pki;
  HttpServer tls_server({"--cert", pki.server_cert.string(), "--key", pki.server_key.string()});
  auto measure = [&](const net::Endpoint& endpoint, const std::string& target, net::RequestOptions options = {}) {
    std::vector<double> ms;
    for (int i = 0; i < 200; ++i) {
      auto start = Clock::now();
      r.run(net::request("GET", endpoint, target, {}, options));
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    MESSAGE(target << " on " << endpoint.str() << ": median " << ms[ms.size() / 2] << " ms, p90 "
                   << ms[ms.size() * 9 / 10] << " ms, min " << ms.front() << " ms");
  };
  measure(etcd.endpoint, "/health");
  measure(server.endpoint, "/status/200");
  measure(tls_server.endpoint, "/status/200", with_tls({.cafile = pki.ca}));
}

TEST_SUITE_END();

// --- stream: etcd watch stream parsing, streamed HTTP bodies, watch_prefix against a real etcd -------
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "patroni/cluster_events.hpp"

namespace {

/// What etcd 3.4's gateway wrote for a watch of /service/ from revision 2 (curl, this machine): the
/// created reply, a PUT (type left out: proto3's default), a second PUT, a DELETE.
const std::string recorded_watch =
    R"({"result":{"header":{"cluster_id":"1","member_id":"2","revision":"2","raft_term":"2"},"created":true}})" "\n"
    R"({"result":{"header":{"revision":"2"},"events":[{"kv":{"key":"L3NlcnZpY2UveC9sZWFkZXI=","create_revision":"2","mod_revision":"2","version":"1","value":"cGcx"}}]}})" "\n"
    R"({"result":{"header":{"revision":"3"},"events":[{"kv":{"key":"L3NlcnZpY2UveC9sZWFkZXI=","create_revision":"2","mod_revision":"3","version":"2","value":"cGcy"}}]}})" "\n"
    R"({"result":{"header":{"revision":"4"},"events":[{"type":"DELETE","kv":{"key":"L3NlcnZpY2UveC9sZWFkZXI=","mod_revision":"4"}}]}})" "\n";

std::vector<dcs::WatchResponse> feed_in_pieces(const std::string& stream, std::size_t piece) {
  dcs::WatchParser parser;
  std::vector<dcs::WatchResponse> all;
  for (std::size_t at = 0; at < stream.size(); at += piece)
    for (auto& r : parser.feed(std::string_view(stream).substr(at, piece))) all.push_back(std::move(r));
  return all;
}

/// A one-connection HTTP server on a thread: reads the request, then writes `pieces` one by one, each
/// only once the test calls next() (so each arrives in a read of its own), and keeps the connection
/// open until the test ends it (no end of body unless a piece ends the chunked body).
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::listen(listener_, 1) == 0);
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    endpoint = {"127.0.0.1", ntohs(addr.sin_port)};
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    cond_.notify_all();
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  void next() {
    std::lock_guard lock(mutex_);
    ++allowed_;
    cond_.notify_all();
  }
  std::string request() {
    std::lock_guard lock(mutex_);
    return request_;
  }
  net::Endpoint endpoint;

 private:
  void serve() {
    int conn = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    std::string req;
    char buf[4096];
    for (ssize_t n; req.find("\r\n\r\n") == std::string::npos && (n = ::read(conn, buf, sizeof buf)) > 0;)
      req.append(buf, static_cast<std::size_t>(n));
    {
      std::lock_guard lock(mutex_);
      request_ = req;
    }
    for (std::size_t i = 0;; ++i) {
      std::unique_lock lock(mutex_);
      cond_.wait(lock, [&] { return closing_ || allowed_ > i; });
      if (closing_ || i >= pieces_.size()) break;
      (void)!::write(conn, pieces_[i].data(), pieces_[i].size());
    }
    ::close(conn);
  }
  std::vector<std::string> pieces_;
  int listener_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cond_;
  std::size_t allowed_ = 0;
  bool closing_ = false;
  std::string request_;
};

std::string chunk(const std::string& data) {
  std::ostringstream out;
  out << std::hex << data.size() << "\r\n" << data << "\r\n";
  return out.str();
}

/// A single-member etcd that can be stopped and started again on the same ports and data.
struct RestartableEtcd {
  TempDir dir;
  std::vector<std::uint16_t> ports = free_ports(2);
  net::Endpoint endpoint{"127.0.0.1", ports[0]};
  std::optional<Child> child;
  RestartableEtcd() { start(); }
  void start() {
    const std::string client = "http://127.0.0.1:" + std::to_string(ports[0]);
    const std::string peer = "http://127.0.0.1:" + std::to_string(ports[1]);
    child.emplace(std::vector<std::string>{"/usr/bin/etcd", "--name", "t", "--data-dir", (dir.path / "data").string(),
                                           "--listen-client-urls", client, "--advertise-client-urls", client,
                                           "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                           "--initial-cluster", "t=" + peer, "--heartbeat-interval=10",
                                           "--election-timeout=100", "--log-level", "warn", "--logger", "zap",
                                           "--log-outputs", "stderr"},
                  dir.path / "etcd.log");
  }
  void stop() { child.reset(); }  // SIGTERM, reaped
  void wait_ready(NetRunner& r) {
    dcs::Etcd probe({.hosts = {endpoint}, .timeout = 200ms});
    for (auto deadline = Clock::now() + 10s; !r.run(probe.healthy());) {
      REQUIRE_MESSAGE(!child->exited(), "etcd exited:\n" << child->log_tail());
      REQUIRE_MESSAGE(Clock::now() < deadline, "etcd not healthy:\n" << child->log_tail());
      std::this_thread::sleep_for(10ms);
    }
  }
};

/// Runs a watch on its own thread and io_context, recording what it delivers.
struct BackgroundWatch {
  asio::io_context io;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<dcs::WatchEvent> events;
  std::exception_ptr error;
  bool ended = false;
  asio::cancellation_signal cancel;
  std::thread thread;

  BackgroundWatch(dcs::Etcd& etcd, std::string prefix, std::int64_t from, std::chrono::milliseconds reconnect_within = 30s) {
    dcs::WatchHandler handler = [this](std::vector<dcs::WatchEvent> batch) -> awaitable<bool> {
      std::lock_guard lock(mutex);
      events.insert(events.end(), batch.begin(), batch.end());
      changed.notify_all();
      co_return true;
    };
    asio::co_spawn(io, etcd.watch_prefix(std::move(prefix), from, handler, reconnect_within),
                   asio::bind_cancellation_slot(cancel.slot(), [this](std::exception_ptr e) {
                     std::lock_guard lock(mutex);
                     error = e;
                     ended = true;
                     changed.notify_all();
                   }));
    thread = std::thread([this] { io.run(); });
  }
  ~BackgroundWatch() {
    stop();
    thread.join();
  }
  void stop() {
    asio::post(io, [this] { cancel.emit(asio::cancellation_type::terminal); });
  }
  /// Waits (bounded) until `count` events arrived or the watch ended.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout = 15s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return events.size() >= count || ended; }) && events.size() >= count;
  }
  std::vector<std::string> keys() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.key + (e.type == dcs::WatchEvent::Type::del ? " deleted" : "=" + e.value));
    return out;
  }
};

}  // namespace

TEST_CASE("etcd watch stream: replies are parsed however the transport cuts them, several per piece too") {
  auto whole = feed_in_pieces(recorded_watch, recorded_watch.size());
  REQUIRE(whole.size() == 4);
  CHECK(whole[0].created);
  CHECK(whole[0].events.empty());
  CHECK(whole[0].revision == 2);
  REQUIRE(whole[1].events.size() == 1);
  CHECK(whole[1].events[0] == dcs::WatchEvent{dcs::WatchEvent::Type::put, "/service/x/leader", "pg1", 2});
  CHECK(whole[2].events[0] == dcs::WatchEvent{dcs::WatchEvent::Type::put, "/service/x/leader", "pg2", 3});
  CHECK(whole[3].events[0] == dcs::WatchEvent{dcs::WatchEvent::Type::del, "/service/x/leader", "", 4});
  for (std::size_t piece : {1, 2, 7, 64, 200}) {
    auto cut = feed_in_pieces(recorded_watch, piece);
    REQUIRE(cut.size() == whole.size());
    for (std::size_t i = 0; i < cut.size(); ++i) {
      CHECK(cut[i].revision == whole[i].revision);
      CHECK(cut[i].events == whole[i].events);
    }
  }
  dcs::WatchParser parser;
  CHECK(parser.feed(recorded_watch.substr(0, 30)).empty());  // an incomplete object waits for its end
}

TEST_CASE("etcd watch stream: an error object, a compacted revision and garbage are errors saying so") {
  try {
    dcs::WatchParser().feed(R"({"error":{"grpc_code":14,"message":"etcdserver: no leader"}})" "\n");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("etcdserver: no leader") != std::string::npos);
  }
  try {
    dcs::WatchParser().feed(R"({"result":{"header":{"revision":"9"},"canceled":true,"compact_revision":"7"}})" "\n");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::dcs);
    CHECK(std::string(e.what()).find("compacted (the oldest revision still available is 7)") != std::string::npos);
  }
  CHECK_THROWS_AS(dcs::WatchParser().feed("not json\n"), Error);
}

TEST_CASE("http stream: pieces are handed on as they arrive, before the body ends; on_data false stops") {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string first = R"({"result":{"created":true}})" "\n";
  const std::string second = "{\"a\":1}\n{\"b\":";  // an object cut in two, and two in one chunk
  const std::string third = "2}\n{\"c\":3}\n";
  ScriptedServer server({head + chunk(first), chunk(second), chunk(third)});
  NetRunner r;
  std::string received;
  int pieces = 0;
  server.next();  // the head and the first chunk
  net::BodyConsumer consume = [&](std::string_view piece) -> awaitable<bool> {
    received += piece;
    ++pieces;
    // The server sends the next chunk only now: had the client waited for the end of the body, it
    // would never get here.
    if (received.size() == first.size() || received.size() == first.size() + second.size()) server.next();
    co_return received.size() < first.size() + second.size() + third.size();
  };
  auto response = r.run(net::stream("POST", server.endpoint, "/v3/watch", R"({"create_request":{}})", {}, consume));
  CHECK(response.status == 200);
  CHECK(response.body.empty());
  CHECK(received == first + second + third);
  CHECK(pieces >= 3);
  CHECK(server.request().starts_with("POST /v3/watch HTTP/1.1\r\n"));
}

TEST_CASE("http stream: cancelling mid-stream ends it at once with Cancelled; an error status is read whole") {
  {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    ScriptedServer server({head + chunk("{\"x\":1}\n")});  // then nothing, the connection kept open
    server.next();
    NetRunner r;
    int pieces = 0;
    net::BodyConsumer consume = [&](std::string_view) -> awaitable<bool> {
      ++pieces;
      co_return true;
    };
    auto start = Clock::now();
    CHECK_THROWS_AS(r.run(net::stream("POST", server.endpoint, "/v3/watch", "{}", with_timeout(200ms), consume),
                          [](asio::cancellation_signal& s) { s.emit(asio::cancellation_type::terminal); }, 500ms),
                    Cancelled);
    CHECK(pieces == 1);
    CHECK(since(start) >= 500ms);  // the 200 ms request timeout does not cover the body
    CHECK(since(start) < 3s);
  }
  {
    const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 17\r\n\r\n{\"message\":\"no\"}\n";
    ScriptedServer server({reply});
    server.next();
    NetRunner r;
    net::BodyConsumer never = [](std::string_view) -> awaitable<bool> {
      FAIL("an error body is not streamed");
      co_return false;
    };
    auto response = r.run(net::stream("POST", server.endpoint, "/v3/watch", "{}", {}, never));
    CHECK(response.status == 400);
    CHECK(response.body == "{\"message\":\"no\"}\n");
  }
}

TEST_CASE("etcd watch_prefix: events from a snapshot's revision + 1, in order; nothing lost or repeated across an etcd restart") {
  NetRunner r;
  RestartableEtcd etcd;
  etcd.wait_ready(r);
  dcs::Etcd client({.hosts = {etcd.endpoint}, .timeout = 1s});
  r.run(client.put("/service/w/a", "1"));
  r.run(client.put("/other/x", "not watched"));
  auto snapshot = r.run(client.snapshot("/service/w/"));
  REQUIRE(snapshot.kvs.size() == 1);
  r.run(client.put("/service/w/b", "2"));  // after the snapshot, before the watch: must be seen
  dcs::Etcd watcher({.hosts = {etcd.endpoint}, .timeout = 1s});
  BackgroundWatch watch(watcher, "/service/w/", snapshot.revision + 1);
  r.run(client.delete_key("/service/w/a"));
  REQUIRE_MESSAGE(watch.wait_for(2), "events: " << watch.keys().size());
  CHECK(watch.keys() == std::vector<std::string>{"/service/w/b=2", "/service/w/a deleted"});

  etcd.stop();
  etcd.start();
  etcd.wait_ready(r);
  // Written at once, while the watch is still reconnecting (its backoff): resumed from its last
  // revision, it gets them; resumed from "now", it would not.
  r.run(client.put("/service/w/c", "3"));
  r.run(client.put("/service/w/d", "4"));
  REQUIRE_MESSAGE(watch.wait_for(4), "events after the restart: " << watch.keys().size());
  CHECK(watch.keys() == std::vector<std::string>{"/service/w/b=2", "/service/w/a deleted", "/service/w/c=3", "/service/w/d=4"});
  watch.stop();
  std::unique_lock lock(watch.mutex);
  REQUIRE(watch.changed.wait_for(lock, 5s, [&] { return watch.ended; }));
  CHECK_THROWS_AS(std::rethrow_exception(watch.error), Cancelled);
}

TEST_CASE("etcd watch_prefix: an etcd gone for longer than reconnect_within fails, naming the prefix and revision") {
  NetRunner r;
  RestartableEtcd etcd;
  etcd.wait_ready(r);
  dcs::Etcd client({.hosts = {etcd.endpoint}, .timeout = 500ms});
  r.run(client.put("/service/g/a", "1"));
  BackgroundWatch watch(client, "/service/g/", 1, 1s);
  REQUIRE(watch.wait_for(1));
  etcd.stop();
  std::unique_lock lock(watch.mutex);
  REQUIRE(watch.changed.wait_for(lock, 10s, [&] { return watch.ended; }));
  try {
    std::rethrow_exception(watch.error);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::dcs);
    CHECK(std::string(e.what()).find("the watch of '/service/g/' could not be resumed from revision ") != std::string::npos);
    CHECK(std::string(e.what()).find("etcd at http://" + etcd.endpoint.str()) != std::string::npos);
  }
}

TEST_CASE("etcd watch_prefix: a silent connection whose host no longer answers moves to the next host") {
  NetRunner r;
  RestartableEtcd etcd;
  etcd.wait_ready(r);
  dcs::Etcd client({.hosts = {etcd.endpoint}, .timeout = 1s});
  r.run(client.put("/service/s/a", "1"));
  auto snapshot = r.run(client.snapshot("/service/s/"));
  // The first host takes the watch (200, created), then says nothing more and answers nobody else (its
  // one connection is the watch's): a frozen etcd, a dead path with TCP still open.
  const std::string created = R"({"result":{"header":{"revision":"1"},"created":true}})" "\n";
  ScriptedServer silent({"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                         chunk(created)});
  silent.next();
  silent.next();
  dcs::Etcd watcher({.hosts = {silent.endpoint, etcd.endpoint}, .timeout = 300ms, .watch_idle = 300ms});
  const auto started = Clock::now();
  BackgroundWatch watch(watcher, "/service/s/", snapshot.revision + 1);
  r.run(client.put("/service/s/b", "2"));
  REQUIRE_MESSAGE(watch.wait_for(1, 10s), "the watch stayed on the silent host");
  CHECK(watch.keys() == std::vector<std::string>{"/service/s/b=2"});
  CHECK(silent.request().find("POST /v3/watch") == 0);
  // Within the idle time, the probe's deadline and a reconnection: not the 30 s reconnection window.
  CHECK(Clock::now() - started < 5s);
  // A quiet watch on a host that answers stays: nothing more comes, the watch has not ended.
  CHECK_FALSE(watch.wait_for(2, 1s));
  {
    std::lock_guard lock(watch.mutex);
    CHECK_FALSE(watch.ended);
  }
  r.run(client.put("/service/s/c", "3"));
  REQUIRE(watch.wait_for(2, 5s));
  CHECK(watch.keys() == std::vector<std::string>{"/service/s/b=2", "/service/s/c=3"});
}

TEST_CASE("etcd watch_prefix with authentication: the token is sent; without credentials etcd's refusal ends it at once") {
  NetRunner r;
  EtcdServer etcd;
  etcd.wait_ready(r);
  REQUIRE(etcd.gateway(r, "/v3/auth/user/add", R"({"name":"root","password":"r00t-pw"})").status == 200);
  REQUIRE(etcd.gateway(r, "/v3/auth/role/add", R"({"name":"root"})").status == 200);
  REQUIRE(etcd.gateway(r, "/v3/auth/user/grant", R"({"user":"root","role":"root"})").status == 200);
  REQUIRE(etcd.gateway(r, "/v3/auth/enable", "{}").status == 200);
  dcs::Etcd client({.hosts = {etcd.endpoint}, .auth = net::BasicAuth{"root", "r00t-pw"}});
  auto snapshot = r.run(client.snapshot("/service/auth/"));
  dcs::Etcd watcher({.hosts = {etcd.endpoint}, .auth = net::BasicAuth{"root", "r00t-pw"}});
  BackgroundWatch watch(watcher, "/service/auth/", snapshot.revision + 1);
  r.run(client.put("/service/auth/k", "v"));
  REQUIRE(watch.wait_for(1));
  CHECK(watch.keys() == std::vector<std::string>{"/service/auth/k=v"});

  dcs::Etcd anonymous({.hosts = {etcd.endpoint}});
  dcs::WatchHandler never = [](std::vector<dcs::WatchEvent>) -> awaitable<bool> { co_return true; };
  auto start = Clock::now();
  CHECK_THROWS_WITH_AS(r.run(anonymous.watch_prefix("/service/auth/", 1, never)),
                       doctest::Contains("etcdserver: user name is empty"), Error);
  CHECK(since(start) < 5s);  // refused: not retried until reconnect_within
}

TEST_CASE("cluster events: a snapshot describes the cluster; each key change makes the events it means, no more") {
  auto member = [](const std::string& role, const std::string& state) {
    return R"({"conn_url":"postgres://127.0.0.1:5432/postgres","api_url":"http://127.0.0.1:8008/patroni","state":")" +
           state + R"(","role":")" + role + R"(","version":"3.0.2","xlog_location":100})";
  };
  const std::string p = "/service/demo/";
  patroni::ClusterState state(p);
  dcs::Snapshot snapshot{{{p + "config", R"({"ttl":30,"pause":true})"},
                          {p + "initialize", "7712"},
                          {p + "leader", "pg1"},
                          {p + "members/pg1", member("master", "running")},
                          {p + "members/pg2", member("replica", "streaming")}},
                         10};
  auto initial = state.load(snapshot);
  std::vector<ClusterEvent> expected{{"member_added", "pg1", std::nullopt, "master", 10},
                                     {"member_added", "pg2", std::nullopt, "replica", 10},
                                     {"paused", "", std::nullopt, std::nullopt, 10},
                                     {"leader_changed", "pg1", std::nullopt, "pg1", 10}};
  CHECK(initial == expected);
  using T = dcs::WatchEvent::Type;
  // Patroni rewrites its member key every loop: no event unless role or state changes.
  CHECK(state.apply({T::put, p + "members/pg2", member("replica", "streaming"), 11}).empty());
  CHECK(state.apply({T::put, p + "history", "[]", 12}).empty());
  CHECK(state.apply({T::put, "/service/other/leader", "x", 12}).empty());
  CHECK(state.apply({T::del, p + "leader", "", 13}) ==
        std::vector<ClusterEvent>{{"leader_changed", "pg1", "pg1", std::nullopt, 13}});
  CHECK(state.apply({T::put, p + "leader", "pg2", 14}) ==
        std::vector<ClusterEvent>{{"leader_changed", "pg2", std::nullopt, "pg2", 14}});
  CHECK(state.apply({T::put, p + "members/pg2", member("master", "running"), 15}) ==
        std::vector<ClusterEvent>{{"role_changed", "pg2", "replica", "master", 15},
                                  {"state_changed", "pg2", "streaming", "running", 15}});
  CHECK(state.apply({T::put, p + "config", R"({"ttl":30})", 16}) ==
        std::vector<ClusterEvent>{{"resumed", "", std::nullopt, std::nullopt, 16}});
  CHECK(state.apply({T::put, p + "members/pg3", member("replica", "starting"), 17}) ==
        std::vector<ClusterEvent>{{"member_added", "pg3", std::nullopt, "replica", 17}});
  CHECK(state.apply({T::del, p + "members/pg1", "", 18}) ==
        std::vector<ClusterEvent>{{"member_removed", "pg1", "master", std::nullopt, 18}});
  CHECK(to_json(ClusterEvent{"leader_changed", "pg2", "pg1", "pg2", 42}) ==
        R"({"kind":"leader_changed","member":"pg2","before":"pg1","after":"pg2","revision":42})");
  CHECK(to_json(ClusterEvent{"paused", "", std::nullopt, std::nullopt, 3}) ==
        R"({"kind":"paused","member":"","before":null,"after":null,"revision":3})");
}

TEST_CASE("cluster events: the DCS prefix comes from the YAML's namespace and scope, both checked") {
  auto yaml = [](const std::string& json) { return core::parse_json(json); };
  CHECK(patroni::cluster_prefix(yaml(R"({"scope":"demo"})")) == "/service/demo/");
  CHECK(patroni::cluster_prefix(yaml(R"({"scope":"demo","namespace":"/service/"})")) == "/service/demo/");
  CHECK(patroni::cluster_prefix(yaml(R"({"scope":"demo","namespace":"ha"})")) == "/ha/demo/");
  CHECK_THROWS_AS(patroni::cluster_prefix(yaml(R"({"scope":"de mo"})")), InvalidSpec);
  CHECK_THROWS_AS(patroni::cluster_prefix(yaml(R"({"scope":"demo","namespace":"/a/../b"})")), InvalidSpec);
  CHECK_THROWS_AS(patroni::cluster_prefix(yaml(R"({"namespace":"/service"})")), InvalidSpec);
}
// --- end stream ---
