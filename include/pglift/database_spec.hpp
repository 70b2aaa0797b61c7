// The database manifest (what `database create` and `alter` take, and an item of an instance
// manifest's "databases"): plain values, apart from the operations of <pglift/databases.hpp> so that
// <pglift/instance.hpp> can hold them.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pglift {

/// The `state` of a schema or an extension in a DatabaseSpec.
enum class DatabaseObjectState : int { present = 0, absent = 1 };

struct SchemaSpec {
  std::string name{};
  std::optional<std::string> owner{};  ///< default: the role running the operation
  DatabaseObjectState state = DatabaseObjectState::present;
};

struct ExtensionSpec {
  std::string name{};
  std::optional<std::string> schema{};   ///< default: the extension's own choice
  std::optional<std::string> version{};  ///< default: the extension's default version
  DatabaseObjectState state = DatabaseObjectState::present;
};

/// Session defaults of a database (ALTER DATABASE SET): name -> value, nullopt to RESET that one.
using DatabaseSettings = std::map<std::string, std::optional<std::string>>;

/// What the user asks (pglift's Database manifest). Names: non-empty, at most 63 bytes, no control
/// characters; they reach SQL only quoted by libpq.
struct DatabaseSpec {
  std::string name{};
  /// Create: the owner (default: the superuser). Alter: nullopt means CURRENT_USER, as pglift does.
  std::optional<std::string> owner{};
  /// nullopt: left alone. On alter, an empty map means RESET ALL.
  std::optional<DatabaseSettings> settings{};
  /// Created (present) or dropped with CASCADE (absent); schemas not listed are left alone.
  std::vector<SchemaSpec> schemas{};
  /// Created (CASCADE), updated to `version`, moved to `schema`, or dropped (absent, CASCADE).
  std::vector<ExtensionSpec> extensions{};
  std::optional<std::string> tablespace{};  ///< "default" is refused: give none instead
  std::optional<std::string> locale{};       ///< create only: from template0 with this LOCALE
  bool force_drop = false;                   ///< drop only: DROP DATABASE ... WITH (FORCE)

  /// Throws InvalidSpec naming the field ("schemas[1].name") for a bad value.
  void validate() const;
  /// {"name": "db", "owner": "bob", "settings": {"work_mem": "8MB", "jit": null}, "schemas": ["s",
  /// {"name": "t", "owner": "bob", "state": "absent"}], "extensions": ["hstore", {"name": ...,
  /// "schema": ..., "version": ..., "state": ...}], "tablespace": null, "locale": null,
  /// "force_drop": false}. Setting values may be strings, numbers or booleans. Unknown fields are
  /// refused; errors name the field, never quote the document.
  static DatabaseSpec from_json(const std::string& json);
  /// The JSON Schema of the document from_json reads (`database --schema`).
  static std::string json_schema();
};

}  // namespace pglift
