// Roles and databases created by an operation that holds the instance's lock already: an instance's
// create makes those of its manifest while it holds the lock exclusively (the role and database
// operations take it shared, and would get Busy).
#pragma once
#include "core/asio.hpp"
#include "core/op.hpp"
#include "ops/sql.hpp"
#include "ops/transaction.hpp"
#include "pglift/apply.hpp"
#include "pglift/databases.hpp"
#include "pglift/instance.hpp"
#include "pglift/roles.hpp"
#include "postgres/layout.hpp"

namespace pglift::ops {

/// As create_role does, on the running instance at `t` (validated first; a failure leaves no role).
/// A passfile entry it writes is put back as it was when `outer` reverts; the role itself goes with
/// the instance.
awaitable<void> create_role(const core::Op& op, const sql::Target& t, const RoleSpec& spec, Transaction& outer);
/// As create_database does, on the running instance at `t` (a failure leaves no database; `spec` validated
/// by the caller).
awaitable<Database> create_database(const core::Op& op, const sql::Target& t, const DatabaseSpec& spec);

/// pglift's apply of one role on the running instance at `t`, whose lock the caller holds: created when
/// missing, else altered to the spec (the manifest is the whole role: attributes, connection limit,
/// in_roles granted, pgpass; valid_until when given), and reported changed when get would show a
/// difference (a new password alone is no difference). Honours op.dry_run.
awaitable<ChangeState> apply_role(const core::Op& op, const sql::Target& t, const RoleSpec& spec);
/// A role the manifest says absent: dropped when there (nothing it owns is dropped with it).
awaitable<ChangeState> apply_absent_role(const core::Op& op, const sql::Target& t, const std::string& name);
/// The same for a database on the running instance at `t`: created, or altered as alter_database does. In
/// a dry run, `simulated_roles` (roles the same run would have created) pass as owners.
awaitable<ChangeState> apply_database(const core::Op& op, const sql::Target& t, const DatabaseSpec& spec,
                                      const std::vector<std::string>& simulated_roles = {});
awaitable<ChangeState> apply_absent_database(const core::Op& op, const sql::Target& t, const std::string& name);

/// What can be checked of the manifest's roles and databases before anything is created, beyond
/// InstanceSpec::validate: a role's pgpass needs the site's passfile (InvalidSpec "roles[0].pgpass").
void check_manifest_objects(const Settings& settings, const InstanceSpec& spec);
/// The manifest's roles, then its databases, on the new instance running at `port`, inside its
/// creation's transaction `tx` (a failure reverts the creation).
awaitable<void> create_manifest_objects(const core::Op& op, Transaction& tx, const postgres::Layout& l, int port,
                                        const InstanceSpec& spec);

}  // namespace pglift::ops
