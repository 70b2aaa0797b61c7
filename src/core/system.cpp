#include "core/system.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/files.hpp"
#include "pglift/errors.hpp"

namespace pglift::core {

const User& current_user() {
  static const User user = [] {
    User u{::geteuid(), ::getegid(), {}, {}};
    struct passwd pw{};
    struct passwd* res = nullptr;
    char buf[4096];
    if (::getpwuid_r(u.uid, &pw, buf, sizeof buf, &res) == 0 && res) {
      u.name = pw.pw_name;
      u.home = pw.pw_dir;
    } else {
      u.name = std::to_string(u.uid);
    }
    if (auto home = env("HOME")) u.home = *home;
    return u;
  }();
  return user;
}

std::filesystem::path home_directory() {
  if (auto home = env("HOME")) return *home;
  return current_user().home;
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

std::uint64_t mem_total_bytes() {
  std::istringstream in(read_file("/proc/meminfo"));
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemTotal:") return kb * 1024;
  throw SystemError("could not retrieve memory information from /proc/meminfo");
}

std::string pg_memory_size(std::uint64_t bytes) {
  constexpr std::uint64_t mb = 1024 * 1024, gb = mb * 1024;
  if (bytes >= gb && bytes % gb == 0) return std::to_string(bytes / gb) + " GB";
  return std::to_string(bytes / mb) + " MB";
}

bool process_running(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  auto stat = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;  // no /proc: trust kill()
  auto close = stat->rfind(')');
  return close == std::string::npos || close + 2 >= stat->size() || ((*stat)[close + 2] != 'Z' && (*stat)[close + 2] != 'X');
}

namespace {
bool can_bind(int family, int port) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // family unavailable (no IPv6): nothing can listen there either
  int one = 1;
  // Like PostgreSQL: with SO_REUSEADDR only a bound or listening socket blocks us, not TIME_WAIT.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    a.sin6_addr = in6addr_loopback;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  int err = errno;
  ::close(fd);
  return rc == 0 || (err != EADDRINUSE && err != EACCES);
}
}  // namespace

bool tcp_port_free_on(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return true;  // let the server say
  bool free = true;
  for (addrinfo* a = res; a && free; a = a->ai_next) {
    int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 && errno == EADDRINUSE) free = false;
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return free;
}

bool tcp_port_free(int port) { return can_bind(AF_INET, port) && can_bind(AF_INET6, port); }

std::string random_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  std::size_t filled = 0;
  while (filled < count) {
    // Blocks only until the kernel's pool is first initialized; may return short (signals, >256 bytes).
    ssize_t n = ::getrandom(bytes.data() + filled, count - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError(std::string("getrandom: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::string utc_now(const char* format) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  return std::string(buf, std::strftime(buf, sizeof buf, format, &tm));
}

}  // namespace pglift::core
