// Roles in SQL: the statements for pglift's role manifest, built from values (no connection here, so
// that tests can check them). Every name goes through Quoter::identifier and every value through
// Quoter::literal: libpq's quoting in production (postgres::Session), never concatenated raw.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pglift/roles.hpp"

namespace pglift::postgres {

struct Quoter {
  std::function<std::string(std::string_view)> identifier, literal;
};

/// InvalidSpec(field, name) unless name is 1..63 bytes without control characters (NUL included).
void validate_role_name(const std::string& field, const std::string& name);

/// The attributes of a role, as CREATE/ALTER ROLE take them; unset ones are left out. The password is
/// the encrypted form (client-side), sent as a literal.
struct RoleAttributes {
  std::optional<bool> inherit, login, superuser, createdb, createrole, replication;
  std::optional<int> connection_limit;
  std::optional<std::string> valid_until;
  std::optional<std::string> encrypted_password;
};
RoleAttributes attributes_of(const RoleSpec& spec, std::optional<std::string> encrypted_password);
RoleAttributes attributes_of(const RoleChanges& changes, std::optional<std::string> encrypted_password);

/// " INHERIT NOLOGIN ... CONNECTION LIMIT 3 VALID UNTIL '...' PASSWORD '...'" (leading space; empty
/// when nothing is set).
std::string role_options(const Quoter& q, const RoleAttributes& a);

/// CREATE ROLE "name" <options> [IN ROLE "a", "b"]
std::string create_role_sql(const Quoter& q, const std::string& name, const RoleAttributes& a,
                            const std::vector<std::string>& in_roles);
/// ALTER ROLE (when an attribute changes), then GRANT/REVOKE for the memberships that change: a grant
/// of a role already held, or a revoke of one not held, is left out.
std::vector<std::string> alter_role_sql(const Quoter& q, const std::string& name, const RoleAttributes& a,
                                        const std::vector<std::string>& grant, const std::vector<std::string>& revoke,
                                        const std::vector<std::string>& member_of);
/// Per database: REASSIGN OWNED BY "name" TO "new" or DROP OWNED BY "name"; empty without options.
std::string owned_sql(const Quoter& q, const std::string& name, const RoleDropOptions& options);
std::string drop_role_sql(const Quoter& q, const std::string& name);

/// The columns role_of reads, for `... FROM pg_authid r WHERE ...`.
extern const char* const role_columns;
/// A row of role_columns (without in_roles, filled by the caller).
Role role_of(const std::vector<std::optional<std::string>>& row);

// --- the passfile (~/.pgpass format) ------------------------------------------------------------------

/// The text with the line for (port, role) set to `*:<port>:*:<role>:<password>`, or removed when
/// password is nullopt; other lines are kept, entries sorted (comments first). ':' and '\' are escaped.
std::string pgpass_with(std::string_view text, int port, const std::string& role, const std::optional<std::string>& password);
/// The password of the line for (port, role), if there is one.
std::optional<std::string> pgpass_password(std::string_view text, int port, const std::string& role);

}  // namespace pglift::postgres
