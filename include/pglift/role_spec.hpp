// The role manifest (what `role create` takes, and an item of an instance manifest's "roles"): a
// plain value, apart from the operations of <pglift/roles.hpp> so that <pglift/instance.hpp> can hold it.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace pglift {

/// What `role create` takes. Names (the role's and in_roles') are 1..63 bytes without control
/// characters; they are always quoted by libpq, never spliced.
struct RoleSpec {
  std::string name;
  std::optional<std::string> password{};            ///< secret; exclusive with encrypted_password
  std::optional<std::string> encrypted_password{};  ///< secret, already encrypted (SCRAM-SHA-256$... or md5...)
  bool inherit = true;
  bool login = false;
  bool superuser = false;
  bool createdb = false;
  bool createrole = false;
  bool replication = false;
  std::optional<int> connection_limit{};  ///< none: no limit (-1)
  std::optional<std::string> valid_until{};  ///< ISO 8601 date and time ("2030-01-01T00:00:00+00:00")
  std::vector<std::string> in_roles{};
  /// Add `*:<port>:*:<name>:<password>` to settings.postgresql.auth.passfile (needs `password` and a
  /// configured passfile: InvalidSpec otherwise).
  bool pgpass = false;

  /// Throws InvalidSpec naming the field (a secret's value is never shown).
  void validate() const;
  /// The JSON Schema of the document role_spec_from_json reads (`role --schema`); the secrets are
  /// writeOnly.
  static std::string json_schema();
};

}  // namespace pglift
