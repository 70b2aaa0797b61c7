// Declarative changes of an instance, as pglift's `instance alter` and `instance apply` make them:
// alter changes the fields it is given; apply brings the instance to a manifest (creating it, changing
// it or dropping it). Both can run dry (the differences are computed, nothing changes) and return the
// differences they make.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "pglift/operations.hpp"

namespace pglift {

/// What `instance alter` changes; absent fields are left as they are.
struct InstanceChanges {
  std::optional<int> port{};
  std::optional<InstanceState> state{};  ///< started | stopped
  bool restart = false;                  ///< "state": "restarted": restart once the other changes are made
  ParameterChanges settings{};           ///< managed parameters set, or removed when null
  /// pg_checksums --enable / --disable: the instance must be stopped (and not a Patroni member).
  std::optional<bool> data_checksums{};
  /// Restart at once when a change takes effect only at restart (the port, postmaster parameters);
  /// without it they are reported (ApplyResult::needs_restart) and wait for a restart.
  bool restart_on_changes = false;

  /// {"port": 5433, "state": "started" | "stopped" | "restarted", "settings": {"work_mem": "8MB",
  /// "jit": null}, "data_checksums": true, "restart_on_changes": false}. Unknown fields and wrong types
  /// raise InvalidSpec naming the field; the document is never quoted.
  static InstanceChanges from_json(const std::string& json);
};

/// An instance manifest for `apply`: the instance's spec, where "state" may also be "absent" (drop it)
/// or "restarted". On an existing instance, the fields given are compared with what is observed: port,
/// settings (each parameter given is set; parameters not given are left alone; null removes one),
/// data_checksums and state change it; locale, encoding and version cannot change (InvalidSpec naming
/// the field when they differ from what is observed); passwords and auth apply at creation only.
/// The manifest's roles, then its databases, are applied as pglift does: each created when missing,
/// else altered to the manifest, or dropped when its item says "state": "absent". They need the
/// instance running: a stopped plain instance is started for them and stopped again (a dry run skips
/// them, with a warning); a stopped Patroni member is refused (StateError) before any change. A
/// standby skips them (they come from its primary), with a warning.
struct InstanceManifest {
  InstanceSpec spec{};
  bool absent = false;
  bool restart = false;
  bool restart_on_changes = false;
  ParameterChanges removed_settings{};  ///< the settings given as null (to remove), parsed with the rest
  std::vector<std::string> absent_roles{};      ///< "roles" items with "state": "absent" (not in spec.roles)
  std::vector<std::string> absent_databases{};  ///< "databases" items with "state": "absent"

  /// The instance manifest's JSON (InstanceSpec::from_json) plus "state": "absent" | "restarted" and
  /// "restart_on_changes".
  static InstanceManifest from_json(const std::string& json);
  /// The same from a YAML document (JSON is YAML too), as `instance apply -f manifest.yaml` reads it.
  static InstanceManifest from_yaml(const std::string& yaml);
};

struct ApplyOptions {
  bool dry_run = false;  ///< compute the differences, change nothing
};

/// One difference: a field ("port", "state", "data_checksums", "settings.work_mem") before and after,
/// as JSON texts ("5432", "\"8MB\"", "null" when absent).
struct FieldChange {
  std::string field{}, before{}, after{};
  bool operator==(const FieldChange&) const = default;
};

enum class ChangeState : int { unchanged = 0, created = 1, changed = 2, dropped = 3 };
/// "created", "changed", "dropped"; unchanged is JSON null (pglift's change_state).
const char* to_string(ChangeState) noexcept;

/// What apply did to one role or database of the manifest.
struct ObjectChange {
  std::string name{};
  ChangeState change_state = ChangeState::unchanged;
  bool operator==(const ObjectChange&) const = default;
};

struct ApplyResult {
  ChangeState change_state = ChangeState::unchanged;
  std::vector<FieldChange> diff{};
  /// Changed parameters (the port included) that take effect at restart only, and were not restarted for.
  std::vector<std::string> needs_restart{};
  bool restarted = false;
  bool pending_restart = false;  ///< as PostgreSQL reports it at the end (when running)
  bool dry_run = false;
  /// apply: the manifest's roles and databases, in its order, each with what was done to it. A change
  /// to any of them makes an otherwise unchanged instance "changed".
  std::vector<ObjectChange> roles{}, databases{};
  /// {"change_state": "changed" | "created" | "dropped" | null, "diff": [{"field": "port", "before": 5432,
  ///  "after": 5433}], "needs_restart": [], "restarted": false, "pending_restart": false, "dry_run": false,
  ///  "roles": [{"name": "alice", "change_state": "created"}], "databases": [...]}
  std::string to_json() const;
};

/// Changes an existing instance (NotFound otherwise). Under the instance lock; the steps run in this
/// order: data checksums (stopped), port and settings (one configuration change, reloaded when running),
/// state, then the restart asked for or needed (restart_on_changes). A failure leaves the steps done so
/// far done and says which failed.
ApplyResult alter_instance(Context& ctx, const InstanceRef& ref, const InstanceChanges& changes, const ApplyOptions& options = {});
/// Creates, changes or drops the instance of the manifest (see InstanceManifest).
ApplyResult apply_instance(Context& ctx, const InstanceManifest& manifest, const ApplyOptions& options = {});

Operation start_alter_instance(Context& ctx, InstanceRef ref, InstanceChanges changes, ApplyOptions options,
                               Callback<ApplyResult> done, OpOptions op = {});
Operation start_apply_instance(Context& ctx, InstanceManifest manifest, ApplyOptions options, Callback<ApplyResult> done,
                               OpOptions op = {});

}  // namespace pglift
