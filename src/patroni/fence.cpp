#include "patroni/fence.hpp"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>

#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "core/value.hpp"
#include "install_paths.hpp"
#include "pglift/errors.hpp"

namespace pglift::patroni {
namespace fs = std::filesystem;

namespace {
constexpr const char* supervisor_name = "pglift-supervisor";

/// The directory of the object this code is linked into: libpglift.so (its link map names it), or the
/// main program when it links the static library (the main program's link map has an empty name).
std::optional<fs::path> code_directory() {
  Dl_info info{};
  link_map* map = nullptr;
  if (::dladdr1(reinterpret_cast<void*>(&code_directory), &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0 ||
      !map)
    return std::nullopt;
  std::error_code ec;
  fs::path object = map->l_name && *map->l_name ? fs::path(map->l_name) : fs::read_symlink("/proc/self/exe", ec);
  if (ec || object.empty()) return std::nullopt;
  fs::path real = fs::weakly_canonical(object, ec);
  if (ec) return std::nullopt;
  return real.parent_path();
}

std::string utc_stamp() { return core::utc_now("%Y%m%dT%H%M%SZ"); }

/// A record file (fence.json, rejoin.json): nullopt when there is none; `problem` says why when it cannot
/// be read or is not JSON (reported as the record's text rather than hidden).
std::optional<core::Value> read_record(const fs::path& path, const char* what, std::string& problem) {
  std::optional<std::string> text;
  try {
    text = core::read_file_if_exists(path);
    if (!text) return std::nullopt;
    return core::parse_json(*text);
  } catch (const std::exception& e) {
    problem = std::string("the ") + what + " record " + path.string() + (text ? " is not valid JSON: " : " cannot be read: ") + e.what();
    return std::nullopt;
  }
}

std::string string_of(const core::Value& v, const char* key) {
  const core::Value* x = v.find(key);
  return x && x->is_string() ? x->as_string() : std::string();
}

/// Moves a record aside as <stem>-<UTC time>.json (-N when taken), kept for the operator.
fs::path archive_record(const Files& files, const fs::path& from, const std::string& stem) {
  const std::string stamp = utc_stamp();
  fs::path to = files.logdir / (stem + "-" + stamp + ".json");
  for (int n = 1; fs::exists(to); ++n) to = files.logdir / (stem + "-" + stamp + "-" + std::to_string(n) + ".json");
  fs::rename(from, to);
  return to;
}
}  // namespace

fs::path supervisor_program() {
  std::vector<fs::path> candidates;
  if (auto dir = code_directory()) candidates.push_back(*dir / supervisor_name);
  candidates.push_back(fs::path(PGLIFT_LIBEXECDIR) / supervisor_name);
  std::vector<std::string> tried;
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0 && !fs::is_directory(c)) return c;
    tried.push_back(c.string());
  }
  throw NotFound("program", supervisor_name,
                 "Patroni runs under it (it fences PostgreSQL when Patroni dies); looked for " + core::join(tried, ", ") +
                     ": is libpglift completely installed?");
}

std::vector<std::string> patroni_command(const fs::path& supervisor, const fs::path& execpath, std::string& warning,
                                         const std::vector<std::string>& launcher_options) {
  const fs::path launcher = supervisor.parent_path() / "pglift-patroni-launch.py";
  // The #! line: "#!/usr/bin/python3", or "#!/usr/bin/env python3".
  std::string first_line;
  std::ifstream in(execpath);
  std::getline(in, first_line);
  std::vector<std::string> interpreter;
  if (first_line.starts_with("#!"))
    for (const auto& word : core::split(core::trim(first_line.substr(2)), ' '))
      if (!word.empty()) interpreter.push_back(word);
  const bool python = !interpreter.empty() && fs::path(interpreter.back()).filename().string().starts_with("python");
  if (!python) return {execpath.string()};  // not a Python script: nothing to fix in it
  if (::access(launcher.c_str(), R_OK) != 0) {
    warning = "Patroni runs without pglift-patroni-launch.py (not found at " + launcher.string() +
              "): a Patroni before 3.0.3 may overwrite a new leader's key after a partition heals, and what "
              "Patroni's own pg_rewind discards is neither recorded nor governed";
    return {execpath.string()};
  }
  interpreter.push_back(launcher.string());
  for (const auto& option : launcher_options) interpreter.push_back(option);
  interpreter.push_back(execpath.string());
  return interpreter;
}

std::vector<std::string> rejoin_launcher_options(const PatroniSettings& settings, const Files& files,
                                                 const std::optional<std::string>& accepted) {
  std::vector<std::string> options{"--rejoin-policy", settings.automatic_rejoin_discarding_commits, "--rejoin-record",
                                   rejoin_record_path(files).string()};
  if (accepted) {
    options.push_back("--rejoin-accepted");
    options.push_back(*accepted);
  }
  return options;
}

std::optional<PatroniRejoin> rejoin_record(const Files& files) {
  std::string problem;
  auto v = read_record(rejoin_record_path(files), "rejoin", problem);
  if (!problem.empty()) return PatroniRejoin{"", "", problem, std::nullopt};
  if (!v) return std::nullopt;
  const core::Value* commits = v->find("commits");
  return PatroniRejoin{string_of(*v, "at"), string_of(*v, "outcome"), string_of(*v, "description"),
                       commits && commits->is_int() ? std::optional(commits->as_int()) : std::nullopt};
}

fs::path archive_rejoin_record(const Files& files) { return archive_record(files, rejoin_record_path(files), "rejoin"); }

std::string rejoin_message(const std::string& display, const PatroniRejoin& rejoin) {
  return "former leader PostgreSQL " + display + ", rejoining" + (rejoin.at.empty() ? "" : " at " + rejoin.at) + ": " +
         rejoin.description;
}

std::optional<PatroniFence> fence_record(const Files& files) {
  std::string problem;
  auto v = read_record(fence_record_path(files), "fence", problem);
  if (!problem.empty()) return PatroniFence{"", problem};
  if (!v) return std::nullopt;
  return PatroniFence{string_of(*v, "at"), string_of(*v, "reason")};
}

fs::path archive_fence_record(const Files& files) { return archive_record(files, fence_record_path(files), "fence"); }

std::string fence_message(const std::string& display, const PatroniFence& fence) {
  return "PostgreSQL " + display + " was stopped (fenced) by pglift-supervisor" + (fence.at.empty() ? "" : " at " + fence.at) +
         ": " + fence.reason;
}

}  // namespace pglift::patroni
