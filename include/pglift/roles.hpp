// Roles of an instance (pglift's `role` commands): specs, observations, and the operations. Each
// exists blocking (`create_role`) and asynchronous with a callback (`start_create_role`);
// <pglift/async.hpp> adds Asio completion tokens (`async_create_role`).
//
// Every operation works on the running instance, as pglift's do: a stopped plain instance is started for
// the operation and stopped after it (also when it fails; not in a dry run, and never a Patroni member:
// StateError, start it first). Writes are refused on a standby (ReadOnly, naming the leader). Role
// operations hold the instance lock shared: several run at once, none while the instance itself is
// created, dropped, started, stopped or configured (Busy); one that starts the instance holds it
// exclusively. Passwords are encrypted client-side (SCRAM) and never appear in logs, events or errors.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "pglift/context.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"
#include "pglift/role_spec.hpp"

namespace pglift {

/// What `role alter` takes: only the fields given change. Membership changes with grant/revoke.
struct RoleChanges {
  std::optional<std::string> password{};            ///< secret; exclusive with encrypted_password
  std::optional<std::string> encrypted_password{};  ///< secret
  std::optional<bool> inherit{}, login{}, superuser{}, createdb{}, createrole{}, replication{};
  std::optional<int> connection_limit{};     ///< -1: no limit
  std::optional<std::string> valid_until{};  ///< "infinity": no expiry
  /// true: keep the password in the passfile (with `password`, or when it is there already); false:
  /// remove it. Unset: a new password replaces one already in the passfile.
  std::optional<bool> pgpass{};
  std::vector<std::string> grant{};   ///< roles to become a member of
  std::vector<std::string> revoke{};  ///< roles to leave

  void validate() const;
};

/// What get and list return: the spec's fields, has_password instead of any password.
struct Role {
  std::string name;
  bool has_password = false;
  bool inherit = true;
  bool login = false;
  bool superuser = false;
  bool createdb = false;
  bool createrole = false;
  bool replication = false;
  std::optional<int> connection_limit{};     ///< none: no limit
  std::optional<std::string> valid_until{};  ///< ISO 8601, as PostgreSQL's JSON shows it ("infinity" too)
  std::vector<std::string> in_roles{};        ///< sorted
  bool pgpass = false;                        ///< the passfile has an entry for this role and port
};

struct RoleDropOptions {
  bool drop_owned = false;                       ///< DROP OWNED BY, in every database allowing connections
  std::optional<std::string> reassign_owned{};  ///< REASSIGN OWNED BY ... TO this role (exclusive with drop_owned)

  void validate() const;
};

/// JSON faces, as the C ABI takes and returns them (the field names above; unknown fields are refused,
/// naming them; the document is never quoted).
RoleSpec role_spec_from_json(const std::string& json);
RoleChanges role_changes_from_json(const std::string& json);
RoleDropOptions role_drop_options_from_json(const std::string& json);  ///< "" or "null": defaults
/// {"name": "bob", "has_password": true, "inherit": true, ..., "in_roles": ["pg_monitor"], "pgpass": false}
std::string to_json(const Role& role);
std::string to_json(const std::vector<Role>& roles);

// --- blocking -------------------------------------------------------------------------------------
/// AlreadyExists ("role 'x' already exists"); NotFound for an unknown role in in_roles. A failure or a
/// cancellation leaves nothing: no role, no passfile entry.
/// Create, alter and drop are dry-runnable (OpOptions::dry_run, also in the start_* forms): their SQL runs
/// in a transaction that is rolled back, so PostgreSQL checks it all; the passfile is not touched.
void create_role(Context& ctx, const InstanceRef& ref, const RoleSpec& spec, const OpOptions& options = {});
/// In one SQL transaction: ALTER ROLE, GRANT, REVOKE. NotFound for an unknown role.
void alter_role(Context& ctx, const InstanceRef& ref, const std::string& name, const RoleChanges& changes,
                const OpOptions& options = {});
Role get_role(Context& ctx, const InstanceRef& ref, const std::string& name);
/// Every role but the system's (pg_*), by name.
std::vector<Role> list_roles(Context& ctx, const InstanceRef& ref);
/// NotFound when missing; StateError naming the role when objects depend on it (use drop_owned or
/// reassign_owned). Its passfile entry goes too.
void drop_role(Context& ctx, const InstanceRef& ref, const std::string& name, const RoleDropOptions& options = {},
               const OpOptions& op = {});

// --- asynchronous, with a callback ----------------------------------------------------------------
Operation start_create_role(Context& ctx, InstanceRef ref, RoleSpec spec, Callback<> done, OpOptions op = {});
Operation start_alter_role(Context& ctx, InstanceRef ref, std::string name, RoleChanges changes, Callback<> done,
                           OpOptions op = {});
Operation start_get_role(Context& ctx, InstanceRef ref, std::string name, Callback<Role> done, OpOptions op = {});
Operation start_list_roles(Context& ctx, InstanceRef ref, Callback<std::vector<Role>> done, OpOptions op = {});
Operation start_drop_role(Context& ctx, InstanceRef ref, std::string name, RoleDropOptions options, Callback<> done,
                          OpOptions op = {});

}  // namespace pglift
