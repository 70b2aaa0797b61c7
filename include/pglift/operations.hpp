// Instance operations. Each exists blocking (`create_instance`) and asynchronous with a callback
// (`start_create_instance`); <pglift/async.hpp> adds Asio completion tokens (`async_create_instance`).
// The only exceptions are exec_in_instance and exec_postgres_foreground, which replace the calling
// process (nothing is left to complete asynchronously), and read_instance_logs (a stream of chunks).
// tests/unit/check_forms.sh fails the build's tests when an operation lacks one of its forms.
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pglift/context.hpp"
#include "pglift/instance.hpp"

namespace pglift {

namespace detail {
/// A move-only std::function (std::move_only_function is C++23).
template <class Sig>
class UniqueFunction;
template <class R, class... A>
class UniqueFunction<R(A...)> {
  struct Base {
    virtual ~Base() = default;
    virtual R call(A... a) = 0;
  };
  template <class F>
  struct Holder final : Base {
    explicit Holder(F&& f) : fn(std::move(f)) {}
    R call(A... a) override { return fn(std::forward<A>(a)...); }
    F fn;
  };
  std::unique_ptr<Base> impl_{};

 public:
  UniqueFunction() = default;
  template <class F>
  UniqueFunction(F f) : impl_(std::make_unique<Holder<F>>(std::move(f))) {}  // NOLINT: implicit on purpose
  R operator()(A... a) { return impl_->call(std::forward<A>(a)...); }
  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }
};
}  // namespace detail

/// Completion of an asynchronous operation: an exception (pglift::Error subclasses) or the result.
/// Called once, on a library thread.
template <class... R>
using Callback = detail::UniqueFunction<void(std::exception_ptr, R...)>;

struct OpOptions {
  std::uint64_t tag = 0;  ///< carried by every event the operation emits
  /// Simulate: check everything that can be checked without making the change (names, values, existence,
  /// a standby's read-only state, the lock), log what would be done, change nothing. Honoured by the
  /// operations documented "dry-runnable" (role and database create/alter/drop, configure_instance);
  /// every other operation refuses it (InvalidSpec naming "dry_run") rather than run for real.
  bool dry_run = false;
};

/// A handle on an operation started asynchronously. Copyable; cancel() is thread-safe.
class Operation {
 public:
  struct State;
  Operation() = default;
  explicit Operation(std::shared_ptr<State> state) : state_(std::move(state)) {}
  /// Requests cancellation: a mutation reverts its completed steps, then completes with Cancelled.
  void cancel() const noexcept;
  explicit operator bool() const noexcept { return static_cast<bool>(state_); }

 private:
  std::shared_ptr<State> state_{};
};

struct CreateOptions {
  bool drop_on_error = true;  ///< revert completed steps when the creation fails
};

struct DropOptions {
  /// For the last member of a Patroni cluster: also delete the cluster's keys from the DCS (refused
  /// while another member is alive).
  bool remove_cluster = false;
  /// A Patroni member while the DCS cannot be reached: nobody can tell whether other members remain.
  /// Refused (ErrorCode::dcs) unless this is set.
  bool dcs_unreachable_ok = false;
};

struct StartOptions {
  /// Patroni member: rejoin even when pg_rewind would discard committed transactions of this former
  /// leader (a warning names them). Without it, the site's patroni.rejoin_discarding_commits decides
  /// (default: refuse with WouldLoseData, the member left stopped).
  bool accept_data_loss = false;
};

struct SwitchoverOptions {
  std::optional<std::string> candidate{};     ///< default: any healthy replica
  std::optional<std::string> scheduled_at{};  ///< ISO 8601 with a time zone: schedule instead of now
};

/// The outcome of a topology change: the leader observed at the end (empty when only scheduled).
struct TopologyResult {
  std::string previous_leader{}, new_leader{};
  bool scheduled = false;
};

/// A change of postgresql.conf parameters (set, or removed when the value is nullopt).
using ParameterChanges = std::map<std::string, std::optional<ConfValue>>;

struct ConfigurationResult {
  /// name -> (old, new) for each parameter whose managed value changed.
  std::map<std::string, std::pair<std::optional<ConfValue>, std::optional<ConfValue>>> changes{};
  bool reloaded = false;                    ///< the running instance re-read its configuration
  std::vector<std::string> needs_restart{};   ///< changed parameters that take effect at restart only
  bool pending_restart = false;             ///< as PostgreSQL reports it afterwards (when running)
};

/// JSON faces, as the C ABI takes and returns them.
/// {"work_mem": "8MB", "jit": false, "max_connections": 100, "old_setting": null}; null removes.
ParameterChanges parameter_changes_from_json(const std::string& json);
/// {"changes": {"work_mem": [null, "8MB"]}, "reloaded": true, "needs_restart": [], "pending_restart": false}
std::string to_json(const ConfigurationResult& result);
/// {"previous_leader": "pg1", "new_leader": "pg2", "scheduled": false}
std::string to_json(const TopologyResult& result);
/// {"work_mem": "8MB", ...}
std::string to_json(const ConfParameters& parameters);

// --- blocking -------------------------------------------------------------------------------------
Instance create_instance(Context& ctx, const InstanceSpec& spec, const CreateOptions& options = {});
Instance get_instance(Context& ctx, const InstanceRef& ref);
std::vector<InstanceListItem> list_instances(Context& ctx, const std::optional<std::string>& version = {});
InstanceStatus instance_status(Context& ctx, const InstanceRef& ref);
void start_instance(Context& ctx, const InstanceRef& ref);
void start_instance(Context& ctx, const InstanceRef& ref, const StartOptions& options);
void stop_instance(Context& ctx, const InstanceRef& ref, StopMode mode = StopMode::fast);
void restart_instance(Context& ctx, const InstanceRef& ref, StopMode mode = StopMode::fast);
void reload_instance(Context& ctx, const InstanceRef& ref);
void drop_instance(Context& ctx, const InstanceRef& ref);
void drop_instance(Context& ctx, const InstanceRef& ref, const DropOptions& options);
/// Patroni member: a switchover to it. Plain instances: unsupported (no standby support yet).
void promote_instance(Context& ctx, const InstanceRef& ref);
/// PG* variables, PSQLRC, PSQL_HISTORY and PATH (bindir first) for the instance.
std::map<std::string, std::string> instance_env(Context& ctx, const InstanceRef& ref);

/// Sets or removes managed postgresql.conf parameters. Plain instances: postgresql.conf is rewritten,
/// then reloaded when running. Patroni members: the YAML's postgresql.parameters (the single source of
/// truth) is rewritten, then POST /reload, confirmed. Parameters needing a restart are reported, not
/// applied by a restart. Dry-runnable (OpOptions::dry_run): the values are checked as for real, the
/// result holds the changes and (running instance) needs_restart; nothing is written or reloaded.
ConfigurationResult configure_instance(Context& ctx, const InstanceRef& ref, const ParameterChanges& changes,
                                       const OpOptions& options = {});
/// The managed parameters (postgresql.conf's, or the Patroni YAML's postgresql.parameters).
ConfParameters instance_parameters(Context& ctx, const InstanceRef& ref);

// --- pgconf (wt-pgconf): the managed parameters as postgresql.conf text, and back -------------------
/// "name = value" lines, sorted by name, values as postgresql.conf writes them (strings quoted).
std::string parameters_text(const ConfParameters& parameters);
/// instance_parameters() as parameters_text(): what `pgconf edit` opens (a Patroni member: its YAML's
/// postgresql.parameters only, never what Patroni injects into postgresql.conf).
std::string instance_parameters_text(Context& ctx, const InstanceRef& ref);
/// The changes turning `current` into the parameters `text` holds (postgresql.conf syntax; blank lines
/// and comments ignored; later entries win): new or changed values are set, names no longer there are
/// removed (nullopt). Empty when the text says the same. A line that is not one `name = value` entry
/// (an include directive, no name) throws InvalidSpec("line N", the line).
ParameterChanges parameter_changes_from_text(const ConfParameters& current, std::string_view text);
// --- end pgconf ---

// --- Patroni members ---------------------------------------------------------------------------------
/// Switchover, returning once the new leader is observed (or the switchover is scheduled).
TopologyResult patroni_switchover(Context& ctx, const InstanceRef& ref, const SwitchoverOptions& options = {});
/// Manual failover to `candidate`, returning once it is the leader.
TopologyResult patroni_failover(Context& ctx, const InstanceRef& ref, const std::string& candidate);
/// Pauses (or resumes) automatic failover for the whole cluster; returns once the member reports it.
void patroni_pause(Context& ctx, const InstanceRef& ref);
void patroni_resume(Context& ctx, const InstanceRef& ref);
/// The credentials a member on another host needs to join this member's cluster (superuser, replication,
/// rewind: user names and passwords), read from this member's Patroni configuration. RETURNS SECRETS:
/// write them only where nobody else can read them (a 0600 file), never to a log or a terminal.
/// StateError when the instance is not a Patroni member.
PatroniCredentials patroni_credentials(Context& ctx, const InstanceRef& ref);
/// {patroni.logpath}/<qualname>/patroni.log; NotFound when the instance is not a Patroni member.
std::filesystem::path patroni_log_file(Context& ctx, const InstanceRef& ref);

/// Resolves INSTANCE as the CLI does: "15/main", "main" (one version only), or none (exactly one
/// instance on the host). Throws NotFound or InvalidSpec("instance", ...).
InstanceRef resolve_instance(Context& ctx, const std::optional<std::string>& text);

/// No asynchronous form: it replaces the calling process (there is no completion to deliver).
/// Replaces the calling process by argv[0] (looked up in the instance bindir, then PATH) with the
/// instance environment added where the caller's environment does not set it. Returns only on error.
[[noreturn]] void exec_in_instance(Context& ctx, const InstanceRef& ref, const std::vector<std::string>& argv);
/// No asynchronous form either, for the same reason.
/// Replaces the calling process by `postgres -D datadir`, or by Patroni for a Patroni member
/// (start --foreground).
[[noreturn]] void exec_postgres_foreground(Context& ctx, const InstanceRef& ref);

/// The current log file of the instance (from current_logfiles).
std::filesystem::path instance_log_file(Context& ctx, const InstanceRef& ref);
/// Writes the current log file to `out` chunk by chunk; with follow, goes on following it across
/// rotations until `out` returns false.
void read_instance_logs(Context& ctx, const InstanceRef& ref, bool follow,
                        const std::function<bool(std::string_view chunk)>& out);

// --- asynchronous, with a callback ----------------------------------------------------------------
Operation start_create_instance(Context& ctx, InstanceSpec spec, CreateOptions options, Callback<Instance> done,
                                OpOptions op = {});
Operation start_get_instance(Context& ctx, InstanceRef ref, Callback<Instance> done, OpOptions op = {});
Operation start_list_instances(Context& ctx, std::optional<std::string> version,
                               Callback<std::vector<InstanceListItem>> done, OpOptions op = {});
Operation start_instance_status(Context& ctx, InstanceRef ref, Callback<InstanceStatus> done, OpOptions op = {});
Operation start_start_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op = {});
Operation start_start_instance(Context& ctx, InstanceRef ref, StartOptions options, Callback<> done, OpOptions op = {});
Operation start_stop_instance(Context& ctx, InstanceRef ref, StopMode mode, Callback<> done, OpOptions op = {});
Operation start_restart_instance(Context& ctx, InstanceRef ref, StopMode mode, Callback<> done, OpOptions op = {});
Operation start_reload_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op = {});
Operation start_drop_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op = {});
Operation start_drop_instance(Context& ctx, InstanceRef ref, DropOptions options, Callback<> done, OpOptions op = {});
Operation start_promote_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op = {});
Operation start_configure_instance(Context& ctx, InstanceRef ref, ParameterChanges changes,
                                   Callback<ConfigurationResult> done, OpOptions op = {});
Operation start_patroni_switchover(Context& ctx, InstanceRef ref, SwitchoverOptions options,
                                   Callback<TopologyResult> done, OpOptions op = {});
Operation start_patroni_failover(Context& ctx, InstanceRef ref, std::string candidate, Callback<TopologyResult> done,
                                 OpOptions op = {});
/// pause == false resumes: the same as start_patroni_resume.
Operation start_patroni_pause(Context& ctx, InstanceRef ref, bool pause, Callback<> done, OpOptions op = {});
Operation start_patroni_resume(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op = {});

// The reads below only look at files (no server, no subprocess). Their blocking forms (above) run on the
// calling thread, and may therefore also be called on a library thread (in a callback), where the other
// blocking forms are refused; their callback forms run on the context's I/O thread like any other
// operation. Results are the same.
Operation start_instance_env(Context& ctx, InstanceRef ref, Callback<std::map<std::string, std::string>> done,
                             OpOptions op = {});
Operation start_instance_parameters(Context& ctx, InstanceRef ref, Callback<ConfParameters> done, OpOptions op = {});
Operation start_instance_parameters_text(Context& ctx, InstanceRef ref, Callback<std::string> done, OpOptions op = {});
Operation start_instance_log_file(Context& ctx, InstanceRef ref, Callback<std::filesystem::path> done, OpOptions op = {});
/// RETURNS SECRETS, as patroni_credentials does.
Operation start_patroni_credentials(Context& ctx, InstanceRef ref, Callback<PatroniCredentials> done, OpOptions op = {});
Operation start_patroni_log_file(Context& ctx, InstanceRef ref, Callback<std::filesystem::path> done, OpOptions op = {});
Operation start_resolve_instance(Context& ctx, std::optional<std::string> text, Callback<InstanceRef> done,
                                 OpOptions op = {});

/// configure_instance of the changes turning the managed parameters into those `text` holds
/// (parameter_changes_from_text), read and written under the instance lock in one operation (`pgconf
/// edit`). No change: an empty result, nothing reloaded. Dry-runnable, as configure_instance.
ConfigurationResult configure_instance_text(Context& ctx, const InstanceRef& ref, std::string_view text,
                                            const OpOptions& options = {});
Operation start_configure_instance_text(Context& ctx, InstanceRef ref, std::string text,
                                        Callback<ConfigurationResult> done, OpOptions op = {});

}  // namespace pglift
