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
/// Python of `execpath`'s #! line, when it is a Python script: Patroni before 3.0.3 needs a fix in memory,
/// and its own rewinds are hooked (see that file). Else `execpath` itself; `warning` then says why when
/// the launcher could not be used. `launcher_options` go to the launcher (the rejoin policy, the record's
/// path, an accepted range: rejoin_launcher_options).
std::vector<std::string> patroni_command(const std::filesystem::path& supervisor, const std::filesystem::path& execpath,
                                         std::string& warning, const std::vector<std::string>& launcher_options = {});

/// The launcher's options for its rejoin hook: --rejoin-policy (the site's
/// patroni.automatic_rejoin_discarding_commits), --rejoin-record (rejoin_record_path), and
/// --rejoin-accepted TLI:LSN when this start accepted that loss (ops/patroni_rejoin's check_rejoin).
std::vector<std::string> rejoin_launcher_options(const PatroniSettings& settings, const Files& files,
                                                 const std::optional<std::string>& accepted);

/// <logdir>/rejoin.json, written by pglift-rejoin-scan (run by the launcher's hook) when Patroni's own
/// pg_rewind discarded, or was refused because it would discard, committed transactions.
inline std::filesystem::path rejoin_record_path(const Files& files) { return files.logdir / "rejoin.json"; }
/// That record, not yet acknowledged; nullopt when there is none. Unreadable: still reported (the
/// description says so).
std::optional<PatroniRejoin> rejoin_record(const Files& files);
/// Moves it aside (rejoin-<UTC time>.json, kept for the operator). Returns the new path.
std::filesystem::path archive_rejoin_record(const Files& files);
/// "former leader PostgreSQL 15/pg1, rejoining at <at>: <description>".
std::string rejoin_message(const std::string& display, const PatroniRejoin& rejoin);

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
