// Fencing: Patroni runs under pglift-supervisor (src/supervisor/supervisor.c), which stops the member's
// postmaster when Patroni dies without a requested stop and leaves a record of it in the Patroni log
// directory. Here: finding that program, and reading and archiving its record.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "patroni/config.hpp"
#include "pglift/patroni.hpp"

namespace pglift::patroni {

/// The supervisor program: next to the object holding this code (libpglift.so, or the program linking
/// the static library: the build tree keeps a copy next to each), else in the compiled-in
/// libexecdir/pglift. Throws NotFound naming the places looked at.
std::filesystem::path supervisor_program();

/// How the supervisor runs Patroni: through pglift-patroni-launch.py (next to the supervisor) with the
/// Python of `execpath`'s #! line, when it is a Python script: Patroni before 3.0.3 needs a fix in memory
/// (see that file). Else `execpath` itself; `warning` then says why when the fix could not be applied.
std::vector<std::string> patroni_command(const std::filesystem::path& supervisor, const std::filesystem::path& execpath,
                                         std::string& warning);

/// <logdir>/fence.json, written by the supervisor when it fenced a postmaster.
inline std::filesystem::path fence_record_path(const Files& files) { return files.logdir / "fence.json"; }

/// The supervisor's record of a fence not yet acknowledged by a start; nullopt when there is none. An
/// unreadable record still says that something happened (its reason says it could not be read).
std::optional<PatroniFence> fence_record(const Files& files);

/// Moves the record aside (fence-<UTC time>.json, kept for the operator) once the member started again:
/// it is reported until then. Returns the new path.
std::filesystem::path archive_fence_record(const Files& files);

/// "PostgreSQL 15/pg1 was stopped (fenced) by pglift-supervisor at <at>: <reason>".
std::string fence_message(const std::string& display, const PatroniFence& fence);

}  // namespace pglift::patroni
