// postgres/wire: the readiness probe and the password-free query, against a scripted server on a Unix
// socket (each case: what the server answers, byte for byte, and what the client must make of it). The
// real server is the func suite's (every get and start of a running instance goes through wire).
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "pglift/errors.hpp"
#include "postgres/wire.hpp"

using namespace pglift;
using namespace std::chrono_literals;
using namespace std::string_literals;
namespace wire = pglift::postgres::wire;

namespace {
namespace fs = std::filesystem;

std::string int32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string int16(std::uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string msg(char type, const std::string& payload) {
  return std::string(1, type) + int32(static_cast<std::uint32_t>(payload.size() + 4)) + payload;
}
std::string auth(std::uint32_t code) { return msg('R', int32(code)); }
std::string error(const std::string& sqlstate, const std::string& message, const std::string& extra = "") {
  return msg('E', std::string("SFATAL\0VFATAL\0C", 15) + sqlstate + '\0' + "M" + message + '\0' + extra + '\0');
}
const std::string ready = msg('Z', "I");
const std::string started = auth(0) + msg('S', std::string("server_version\0" "15.10\0", 21)) +
                            msg('K', int32(42) + int32(7)) + ready;

/// A server on a socket in a temporary directory: accepts one connection, reads the startup packet (and,
/// once `answer` is sent, whatever comes next), writes `answer`, then waits for the client to close.
struct FakeServer {
  fs::path dir;
  int listener = -1, port = 5999;
  std::string received;
  std::thread thread;

  explicit FakeServer(std::string answer, bool answer_after_query = false, std::string second = "") {
    std::string t = (fs::temp_directory_path() / "pglift-wire-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()));
    dir = t;
    listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string path = (dir / (".s.PGSQL." + std::to_string(port))).string();
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    thread = std::thread([this, answer = std::move(answer), answer_after_query, second = std::move(second)] {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      auto drain = [&](int ms) {  // what the client sends, until it stops for `ms`
        char buf[4096];
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        while (::poll(&p, 1, ms) > 0) {
          ssize_t n = ::read(fd, buf, sizeof buf);
          if (n <= 0) return false;
          received.append(buf, static_cast<std::size_t>(n));
        }
        return true;
      };
      drain(100);
      if (!answer.empty()) (void)!::write(fd, answer.data(), answer.size());
      if (answer_after_query) {
        drain(100);
        (void)!::write(fd, second.data(), second.size());
      }
      drain(2000);  // until the client closes (or gives up)
      ::close(fd);
    });
  }
  /// What the client sent, once it closed the connection.
  const std::string& done() {
    if (thread.joinable()) thread.join();
    return received;
  }
  ~FakeServer() {
    ::shutdown(listener, SHUT_RDWR);
    if (thread.joinable()) thread.join();
    ::close(listener);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  wire::Endpoint endpoint() const { return {.socket_directory = dir, .port = port, .user = "postgres"}; }
};

}  // namespace

TEST_CASE("wire ping: what libpq's PQping would tell, from the server's first answer") {
  SUBCASE("nothing listens: no response") {
    wire::Endpoint e{.socket_directory = fs::temp_directory_path() / "pglift-no-such-dir", .port = 1, .user = "u"};
    CHECK(wire::ping(e, 200ms) == wire::PingResult::no_response);
  }
  SUBCASE("authentication ok: ok, and the startup packet names the user, database and application") {
    FakeServer s(started);
    CHECK(wire::ping(s.endpoint(), 2s) == wire::PingResult::ok);
    const std::string& received = s.done();
    CHECK(received.find("user\0postgres\0database\0postgres\0application_name\0pglift\0\0"s) !=
          std::string::npos);
    CHECK(received.substr(4, 4) == int32(3 << 16));
  }
  SUBCASE("a password request: the server is up") {
    FakeServer s(auth(10) + std::string("SCRAM-SHA-256\0\0", 15));
    CHECK(wire::ping(s.endpoint(), 2s) == wire::PingResult::ok);
  }
  SUBCASE("57P03, starting up: rejecting") {
    FakeServer s(error("57P03", "the database system is starting up"));
    CHECK(wire::ping(s.endpoint(), 2s) == wire::PingResult::rejecting);
  }
  SUBCASE("another refusal (an unknown role): the server runs, ok") {
    FakeServer s(error("28000", "role \"u\" does not exist"));
    CHECK(wire::ping(s.endpoint(), 2s) == wire::PingResult::ok);
  }
  SUBCASE("no answer before the deadline: no response") {
    FakeServer s("");
    CHECK(wire::ping(s.endpoint(), 300ms) == wire::PingResult::no_response);
  }
}

TEST_CASE("wire query: rows as text with NULLs, errors with the server's words, libpq when a password is asked") {
  const std::string row_description = msg('T', int16(2) + std::string("a\0", 2) + std::string(18, '\0') +
                                                     std::string("b\0", 2) + std::string(18, '\0'));
  SUBCASE("two rows, a NULL among them") {
    const std::string rows = row_description + msg('D', int16(2) + int32(1) + "t" + int32(0xffffffff)) +
                             msg('D', int16(2) + int32(0) + int32(3) + "UTF") + msg('C', std::string("SELECT 2\0", 9)) +
                             ready;
    FakeServer s(started, true, rows);
    auto got = wire::query_without_password(s.endpoint(), "SELECT a, b FROM t", 2s);
    REQUIRE(got);
    REQUIRE(got->size() == 2);
    CHECK((*got)[0] == postgres::Row{std::string("t"), std::nullopt});
    CHECK((*got)[1] == postgres::Row{std::string(), std::string("UTF")});
    const std::string& received = s.done();
    CHECK(received.find(msg('Q', std::string("SELECT a, b FROM t\0", 19))) != std::string::npos);
    CHECK(received.ends_with(std::string("X\0\0\0\4", 5)));  // a polite goodbye
  }
  SUBCASE("md5 or SCRAM asked: nullopt, for libpq") {
    for (std::uint32_t code : {3u, 5u, 10u}) {
      FakeServer s(auth(code) + (code == 5 ? std::string("salt") : std::string("SCRAM-SHA-256\0\0", 15)));
      CHECK_FALSE(wire::query_without_password(s.endpoint(), "SELECT 1", 2s));
    }
  }
  SUBCASE("a refused connection: StateError with the server's message and the socket") {
    FakeServer s(error("3D000", "database \"postgres\" does not exist"));
    try {
      (void)wire::query_without_password(s.endpoint(), "SELECT 1", 2s);
      FAIL("no error");
    } catch (const StateError& e) {
      CHECK(std::string(e.what()).find("FATAL:  database \"postgres\" does not exist") != std::string::npos);
      CHECK(std::string(e.what()).find(".s.PGSQL.5999") != std::string::npos);
    }
  }
  SUBCASE("a failed statement: its message, detail and hint, never its text") {
    std::string err = msg('E', "SERROR\0VERROR\0C42P01\0Mrelation \"t\" does not exist\0P15\0Dsome detail\0Hsome hint\0\0"s);
    FakeServer s(started, true, err + ready);
    try {
      (void)wire::query_without_password(s.endpoint(), "SELECT secret FROM t", 2s);
      FAIL("no error");
    } catch (const StateError& e) {
      const std::string what = e.what();
      CHECK(what.find("ERROR:  relation \"t\" does not exist") != std::string::npos);
      CHECK(what.find("DETAIL:  some detail") != std::string::npos);
      CHECK(what.find("HINT:  some hint") != std::string::npos);
      CHECK(what.find("secret") == std::string::npos);
    }
  }
  SUBCASE("a message of an absurd length, or a truncated row: StateError, no allocation of gigabytes") {
    FakeServer s(started, true, std::string("D") + int32(0xfffffff0));
    CHECK_THROWS_AS((void)wire::query_without_password(s.endpoint(), "SELECT 1", 2s), StateError);
    FakeServer t(started, true, msg('D', int16(1) + int32(100) + "abc") + ready);
    CHECK_THROWS_AS((void)wire::query_without_password(t.endpoint(), "SELECT 1", 2s), StateError);
  }
  SUBCASE("a server that never answers: a StateError at the deadline") {
    FakeServer s("");
    auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS((void)wire::query_without_password(s.endpoint(), "SELECT 1", 300ms), StateError);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  }
  SUBCASE("nothing listens: StateError") {
    wire::Endpoint e{.socket_directory = fs::temp_directory_path() / "pglift-no-such-dir", .port = 1, .user = "u"};
    CHECK_THROWS_AS((void)wire::query_without_password(e, "SELECT 1", 200ms), StateError);
  }
  SUBCASE("a socket path too long for sockaddr_un: StateError naming it") {
    wire::Endpoint e{.socket_directory = std::string(120, 'd'), .port = 5432, .user = "u"};
    CHECK_THROWS_WITH_AS((void)wire::query_without_password(e, "SELECT 1", 200ms),
                         doctest::Contains("too long"), StateError);
    CHECK_THROWS_WITH_AS((void)wire::ping(e, 200ms), doctest::Contains("too long"), StateError);
  }
}
