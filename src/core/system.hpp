// Facts about the host and the calling user.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace pglift::core {

struct User {
  uid_t uid;
  gid_t gid;
  std::string name;
  std::filesystem::path home;
};

const User& current_user();
/// $HOME when set (as pglift's Path.home()), else the passwd entry's: without the NSS lookup of
/// current_user() (nscd's socket, nsswitch.conf, /etc/passwd) when HOME tells.
std::filesystem::path home_directory();
inline const std::string& current_user_name() { return current_user().name; }
std::optional<std::string> env(const char* name);  ///< unset and empty both give nullopt
/// The current UTC time formatted by strftime(3): "%Y-%m-%dT%H:%M:%SZ" (ISO 8601), "%Y%m%dT%H%M%SZ"...
std::string utc_now(const char* format);
std::uint64_t mem_total_bytes();                   ///< from /proc/meminfo; throws SystemError
/// A PostgreSQL memory size, in whole GB when exact, else in MB ("6 GB", "16220 MB").
std::string pg_memory_size(std::uint64_t bytes);
/// True when the process exists and is not a zombie (a daemon is reaped by init, not at once).
bool process_running(pid_t pid);
/// True when nothing listens on (or has bound) TCP `port` on the loopback addresses.
bool tcp_port_free(int port);
/// True when `port` can be bound on `host` (an IP literal; a name is resolved).
bool tcp_port_free_on(const std::string& host, int port);
/// `count` bytes from the kernel's CSPRNG (getrandom(2): no descriptor to leak); throws SystemError.
std::string random_bytes(std::size_t count);

}  // namespace pglift::core
