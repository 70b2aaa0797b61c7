// One Patroni member on this host: its process (pid file, spawn, stop), its readiness, its
// configuration check, and the DCS client built from the site settings.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "dcs/etcd.hpp"
#include "patroni/config.hpp"
#include "patroni/rest.hpp"
#include "postgres/layout.hpp"
#include "proc/process.hpp"

namespace pglift::patroni {

/// The instance has a Patroni configuration (and Patroni is enabled).
bool is_member(const Settings& settings, const postgres::Layout& layout);

/// The process of the pid file (pglift-supervisor, or a bare Patroni started before it existed), when it
/// runs (checked against /proc: no stale PID).
std::optional<pid_t> running(const Files& files);

/// `patroni --validate-config`: before the first start, with the DCS up. Throws Error(invalid_spec)
/// carrying Patroni's own lines (and a hint for loopback connect addresses), Error(dcs) when the DCS
/// cannot be reached.
awaitable<void> validate(const core::Op& op, const PatroniSettings& settings, const Files& files);

/// Whether spawn() can have Patroni's validator run by the launcher, in the process that becomes Patroni
/// (pglift-patroni-launch.py --validation-report): Patroni is a Python script and the launcher is there.
bool launcher_validates(const PatroniSettings& settings);
/// <logdir>/validation-report: the launcher's outcome of that validation.
std::filesystem::path validation_report_path(const Files& files);
/// The report's verdict: throws as validate() does when it says invalid; warns when the launcher could
/// not validate; nothing when valid or absent. The report is removed.
void check_validation_report(const core::Op& op, const Files& files);

/// Starts Patroni under pglift-supervisor, as a daemon (clean environment, its own session); the pid file
/// and the returned process are the supervisor's, which lives exactly as long as Patroni (and fences
/// the postmaster of `layout` when Patroni dies without a requested stop).
/// `accepted_rejoin` ("TLI:LSN"): the range of WAL this start accepted to lose, which Patroni's own
/// rewind may then discard whatever the site's automatic policy (see pglift-patroni-launch.py).
/// `validate`: the launcher runs Patroni's validator first (launcher_validates()), its verdict in
/// validation_report_path(); Patroni is not run when the configuration is invalid.
proc::Watched spawn(const core::Op& op, const PatroniSettings& settings, const postgres::Layout& layout, const Files& files,
                    const std::optional<std::string>& accepted_rejoin = std::nullopt, bool validate = false);

enum class Readiness { leader, replica, running };

/// Waits for the member to be ready: leader = GET /primary 200; replica = GET /replica 200 and WAL
/// streaming; running = GET /health 200. Fails fast when Patroni exits, or when `also_check` (run
/// before each probe) throws; on deadline or failure, the error carries the last Patroni and
/// PostgreSQL log lines.
awaitable<void> wait_ready(const core::Op& op, const postgres::Layout& layout, const Files& files, const Rest& rest,
                           proc::Watched& patroni, Readiness readiness, std::chrono::milliseconds timeout,
                           std::function<awaitable<void>()> also_check = {});

/// Stops Patroni (SIGTERM to the supervisor, which forwards it; bounded wait for the process, its REST API
/// and the postmaster it stops).
/// False when Patroni was not running. A postmaster that outlived Patroni is the caller's to stop.
awaitable<bool> stop(const core::Op& op, const postgres::Layout& layout, const Files& files, const Rest& rest);

/// The last lines of the Patroni log and of PostgreSQL's, for error messages.
std::string log_tails(const postgres::Layout& layout, const Files& files);

/// A client of the DCS named in the site settings.
dcs::Etcd etcd(const PatroniSettings& settings);
/// "/service/<cluster>/"
inline std::string dcs_prefix(const std::string& cluster) { return "/service/" + cluster + "/"; }
/// The value of `key` among `keys` (what a get_prefix returned).
std::optional<std::string> key_value(const dcs::KeyValues& keys, const std::string& key);
/// A member key's JSON value ("conn_url", "api_url", ...) under the cluster's `prefix`; nullopt when
/// absent or not JSON.
std::optional<core::Value> member_data(const dcs::KeyValues& keys, const std::string& prefix, const std::string& node);
/// Patroni's name for a member's replication slot.
std::string slot_name(const std::string& node);

}  // namespace pglift::patroni
