// Where an instance lives, from the settings, and what is on disk for it (no subprocess).
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pglift/instance.hpp"
#include "pglift/settings.hpp"

namespace pglift::postgres {

namespace fs = std::filesystem;

struct Layout {
  std::string name, version;
  fs::path bindir, datadir, waldir, socket_directory, logpath;

  static Layout of(const Settings& settings, const std::string& name, const std::string& version);
  std::string qualname() const { return version + "-" + name; }
  std::string display() const { return version + "/" + name; }
  fs::path conf() const { return datadir / "postgresql.conf"; }
  fs::path base_conf() const { return datadir / "postgresql.base.conf"; }
  fs::path pidfile() const { return datadir / "postmaster.pid"; }
  fs::path startup_log() const { return logpath / (qualname() + ".startup.log"); }
  fs::path psqlrc() const { return datadir / ".psqlrc"; }
  fs::path psql_history() const { return datadir / ".psql_history"; }
  fs::path program(const char* name) const { return bindir / name; }
};

/// Removes the data and WAL directories, then their parents while empty (never above the prefix),
/// and the startup log: what is left of an instance once it is dropped.
void remove_files(const Settings& settings, const Layout& layout);

/// The file PostgreSQL logs to now (current_logfiles), when its logging collector runs.
std::optional<fs::path> current_log_file(const Layout& layout);

/// datadir/PG_VERSION matches and postgresql.conf exists.
bool exists(const Layout& layout);

/// What postmaster.pid says.
struct Postmaster {
  pid_t pid = 0;
  int port = 0;
  std::string status;  ///< "ready", "starting", "stopping", "standby"
  std::string datadir;  ///< as the postmaster was given it
};
/// The file's word alone, whether or not that postmaster still runs (nullopt: no file, or not yet
/// written whole).
std::optional<Postmaster> read_pidfile(const Layout& layout);
/// The postmaster.pid of a running postmaster (pid alive, same datadir); nullopt otherwise.
std::optional<Postmaster> running_postmaster(const Layout& layout);

/// Every instance on the host, for every installed version (or one), from the datadir template.
std::vector<Layout> find_instances(const Settings& settings, const std::optional<std::string>& version = {});

}  // namespace pglift::postgres
