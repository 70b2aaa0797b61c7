#include "postgres/layout.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"

namespace pglift::postgres {

Layout Layout::of(const Settings& settings, const std::string& name, const std::string& version) {
  const auto& pg = settings.postgresql;
  std::map<std::string, std::string> vars{{"name", name}, {"version", version}};
  Layout l;
  l.name = name;
  l.version = version;
  l.bindir = settings.version(version).bindir;
  l.datadir = core::render(pg.datadir, vars);
  l.waldir = core::render(pg.waldir, vars);
  l.socket_directory = pg.socket_directory;
  l.logpath = pg.logpath;
  return l;
}

namespace {
/// Where emptied parents stop being removed: the prefix for paths below it, else the path's parent.
fs::path removal_limit(const Settings& settings, const fs::path& p) {
  auto rel = p.lexically_normal().lexically_relative(settings.prefix);
  return (!rel.empty() && !rel.native().starts_with("..")) ? settings.prefix : p.parent_path();
}
}  // namespace

void remove_files(const Settings& settings, const Layout& l) {
  core::remove_tree(l.datadir);
  core::remove_tree(l.waldir);
  core::remove_empty_dirs(l.datadir.parent_path(), removal_limit(settings, l.datadir));
  core::remove_empty_dirs(l.waldir.parent_path(), removal_limit(settings, l.waldir));
  std::error_code ec;
  fs::remove(l.startup_log(), ec);
}

std::optional<fs::path> current_log_file(const Layout& l) {
  auto current = core::read_file_if_exists(l.datadir / "current_logfiles");
  if (!current) return std::nullopt;
  // "stderr log/15-main.log" on the first line (the first log_destination).
  auto parts = core::split(core::split(core::trim(*current), '\n').front(), ' ');
  if (parts.size() < 2) return std::nullopt;
  fs::path file = core::trim(parts[1]);
  return file.is_relative() ? l.datadir / file : file;
}

bool exists(const Layout& layout) {
  auto pg_version = core::read_file_if_exists(layout.datadir / "PG_VERSION");
  if (!pg_version || core::trim(*pg_version) != layout.version) return false;
  std::error_code ec;
  return fs::exists(layout.conf(), ec);
}

std::optional<Postmaster> read_pidfile(const Layout& layout) {
  auto content = core::read_file_if_exists(layout.pidfile());
  if (!content) return std::nullopt;
  auto lines = core::split(*content, '\n');
  if (lines.size() < 4) return std::nullopt;
  Postmaster pm;
  try {
    pm.pid = static_cast<pid_t>(std::stol(lines[0]));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (pm.pid <= 0) return std::nullopt;
  try {
    pm.port = std::stoi(lines[3]);
  } catch (const std::exception&) {
  }
  if (lines.size() > 7) pm.status = core::trim(lines[7]);
  pm.datadir = core::trim(lines[1]);
  return pm;
}

std::optional<Postmaster> running_postmaster(const Layout& layout) {
  auto pm = read_pidfile(layout);
  if (!pm) return std::nullopt;
  // A stale file after a crash: the PID may be gone or reused by something else.
  if (!core::process_running(pm->pid)) return std::nullopt;
  if (auto cmdline = core::read_file_if_exists("/proc/" + std::to_string(pm->pid) + "/cmdline");
      cmdline && cmdline->find("postgres") == std::string::npos)
    return std::nullopt;
  if (pm->datadir != layout.datadir.string() && fs::weakly_canonical(pm->datadir) != fs::weakly_canonical(layout.datadir))
    return std::nullopt;
  return pm;
}

std::vector<Layout> find_instances(const Settings& settings, const std::optional<std::string>& version) {
  std::vector<Layout> found;
  for (const auto& v : settings.postgresql.versions) {
    if (version && v.version != *version) continue;
    // Glob the datadir template with {name}=*: list the directory holding the {name} component.
    std::string tmpl = core::render(settings.postgresql.datadir, {{"version", v.version}, {"name", "\x01"}});
    auto marker = tmpl.find('\x01');
    fs::path parent = fs::path(tmpl.substr(0, marker)).parent_path();
    std::string prefix = tmpl.substr(parent.string().size() + 1, marker - parent.string().size() - 1);
    std::string rest = tmpl.substr(marker + 1);
    auto slash = rest.find('/');
    std::string suffix = rest.substr(0, slash);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(parent, ec)) {
      std::string fname = entry.path().filename().string();
      if (fname.size() < prefix.size() + suffix.size() || !fname.starts_with(prefix) || !fname.ends_with(suffix)) continue;
      std::string name = fname.substr(prefix.size(), fname.size() - prefix.size() - suffix.size());
      if (name.empty()) continue;
      Layout l = Layout::of(settings, name, v.version);
      if (exists(l)) found.push_back(std::move(l));
    }
  }
  std::sort(found.begin(), found.end(), [](const Layout& a, const Layout& b) {
    return std::tie(a.version, a.name) < std::tie(b.version, b.name);
  });
  return found;
}

}  // namespace pglift::postgres
