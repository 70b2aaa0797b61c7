#include "patroni_actions.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include <pglift/cluster.hpp>  // cluster

#include "cli_errors.hpp"
#include "json_text.hpp"  // cluster
#include "table.hpp"      // cluster
#include "interrupts.hpp"

namespace cli {
namespace {

constexpr auto follow_interval = std::chrono::milliseconds(200);

/// An open log file, read from where the previous read stopped.
class LogReader {
 public:
  explicit LogReader(const std::filesystem::path& path) : path_(path), fd_(open_log(path)) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) inode_ = st.st_ino;
  }
  ~LogReader() { ::close(fd_); }
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  /// Copies what is left of the file to stdout; false when stdout is closed.
  bool drain() {
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (std::fwrite(buffer, 1, static_cast<std::size_t>(n), stdout) != static_cast<std::size_t>(n)) return false;
    }
    return std::fflush(stdout) == 0;
  }

  /// After a rotation (a new file at the path) finishes the old file and opens the new one; after a
  /// truncation starts again from the beginning.
  bool follow_changes() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return true;  // between the rename and the new file
    if (st.st_ino != inode_) {
      if (!drain()) return false;
      int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return true;  // next time
      ::close(fd_);
      fd_ = fd;
      inode_ = st.st_ino;
    } else if (st.st_size < ::lseek(fd_, 0, SEEK_CUR)) {
      ::lseek(fd_, 0, SEEK_SET);
    }
    return true;
  }

 private:
  static int open_log(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno == ENOENT) throw ExitError("no Patroni logs found at " + path.string());
    throw ExitError("cannot read " + path.string() + ": " + std::strerror(errno));
  }

  std::filesystem::path path_;
  int fd_;
  ino_t inode_ = 0;
};

std::string leadership_change(const std::string& what, const pglift::TopologyResult& result) {
  return what + " to " + result.new_leader + " done (previous leader: " + result.previous_leader + ")\n";
}

pglift::TopologyResult change_topology(
    Session& session, const std::function<pglift::Operation(pglift::Callback<pglift::TopologyResult>)>& launch) {
  return run_interruptible<pglift::TopologyResult>(session.interrupts(), launch);
}

/// Writes `text` to `path`, mode 0600 from its creation on (never readable by others, even for a moment):
/// a new file, or with `force` a replacement renamed over the old one.
void write_secret_file(const std::filesystem::path& path, const std::string& text, bool force) {
  const std::filesystem::path target = force ? std::filesystem::path(path.string() + ".pglift-tmp") : path;
  if (force) ::unlink(target.c_str());
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST && !force) throw ExitError(path.string() + " already exists (--force replaces it)");
    throw ExitError("cannot create " + target.string() + ": " + std::strerror(errno));
  }
  bool ok = ::fchmod(fd, 0600) == 0;  // whatever the umask
  for (std::size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  const int write_errno = errno;
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (ok && force && ::rename(target.c_str(), path.c_str()) != 0) ok = false;
  if (!ok) {
    ::unlink(target.c_str());
    throw ExitError("cannot write " + path.string() + ": " + std::strerror(write_errno ? write_errno : errno));
  }
}

}  // namespace

int patroni_credentials(Session& session, const Target& target, const std::string& output, bool force) {
  auto credentials = pglift::patroni_credentials(session.context(), resolve(session, target));
  write_secret_file(output, credentials.to_json() + "\n", force);
  session.console().log(pglift::LogLevel::info, "pglift.cli",
                        "credentials of the cluster written to " + output +
                            " (mode 0600): give it to `instance create --patroni-credentials` on the joining host");
  return 0;
}

int patroni_logs(Session& session, const Target& target, bool follow) {
  auto file = pglift::patroni_log_file(session.context(), resolve(session, target));
  LogReader log(file);
  if (!log.drain()) return 0;
  if (!follow) return 0;
  for (;;) {  // until Ctrl-C (which kills us: there is nothing to revert) or a closed stdout
    std::this_thread::sleep_for(follow_interval);
    if (!log.follow_changes() || !log.drain()) return 0;
  }
}

int patroni_switchover(Session& session, const Target& target, const pglift::SwitchoverOptions& options) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  auto result = change_topology(session, [&](pglift::Callback<pglift::TopologyResult> done) {
    return pglift::start_patroni_switchover(ctx, ref, options, std::move(done));
  });
  if (result.scheduled) {
    print("switchover scheduled at " + options.scheduled_at.value_or("") + "\n");
  } else {
    print(leadership_change("switchover", result));
  }
  return 0;
}

int patroni_failover(Session& session, const Target& target, const std::string& candidate) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  auto result = change_topology(session, [&](pglift::Callback<pglift::TopologyResult> done) {
    return pglift::start_patroni_failover(ctx, ref, candidate, std::move(done));
  });
  print(leadership_change("failover", result));
  return 0;
}

int patroni_pause(Session& session, const Target& target, bool pause) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) {
    return pglift::start_patroni_pause(ctx, ref, pause, std::move(done));
  });
  return 0;
}

// --- cluster ---
namespace {

std::string topology_table(const pglift::Cluster& c) {
  std::vector<Row> rows;
  for (const auto& m : c.members()) {
    std::string lag;
    if (m.lag) lag = std::visit([](const auto& x) -> std::string {
      if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) return x;
      else return std::to_string(x);
    }, *m.lag);
    rows.push_back({m.name, m.host + (m.port ? ":" + std::to_string(m.port) : std::string()), m.role, m.state,
                    m.timeline ? std::to_string(*m.timeline) : std::string(), lag, m.health.value_or("")});
  }
  std::string out = "cluster " + c.name() + ": leader " + c.leader().value_or("(none)") + (c.paused() ? ", paused" : "") +
                    (c.dcs_error() ? ", DCS unreachable (" + *c.dcs_error() + ")" : std::string()) + "\n";
  return out + render_table({"name", "host", "role", "state", "timeline", "lag", "health"}, rows);
}

}  // namespace

int patroni_topology(Session& session, const Target& target, bool json) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  auto cluster = run_interruptible<pglift::Cluster>(session.interrupts(), [&](pglift::Callback<pglift::Cluster> done) {
    return pglift::start_cluster_of(ctx, ref, std::move(done));
  });
  print(json ? indent_json(cluster.to_json()) : topology_table(cluster));
  return 0;
}

int patroni_restart(Session& session, const Target& target, const std::optional<std::string>& member) {
  auto cluster = pglift::Cluster::through(resolve(session, target));
  auto& ctx = session.context();
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) {
    return member ? cluster.start_restart(ctx, *member, std::move(done)) : cluster.start_restart_all(ctx, std::move(done));
  });
  return 0;
}

int patroni_reinit(Session& session, const Target& target, const std::string& member) {
  auto cluster = pglift::Cluster::through(resolve(session, target));
  auto& ctx = session.context();
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) { return cluster.start_reinit(ctx, member, std::move(done)); });
  return 0;
}
// --- end cluster ---

}  // namespace cli
