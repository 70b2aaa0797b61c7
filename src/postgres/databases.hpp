// The SQL of database operations, built from specs: pure (the quoting functions are given, libpq's
// in production), so that it is unit-testable. Names reach SQL only through `ident`, values only
// through `literal`.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pglift/databases.hpp"

namespace pglift::postgres::dbsql {

struct Quote {
  std::function<std::string(std::string_view)> ident;
  std::function<std::string(std::string_view)> literal;
};

/// CREATE DATABASE "x" [OWNER "o"] [TEMPLATE template0 LOCALE 'l'] [TABLESPACE "t"]
std::string create_database(const Quote& q, const DatabaseSpec& spec);
/// DROP DATABASE "x" [WITH (FORCE)]
std::string drop_database(const Quote& q, const std::string& name, bool force);
/// ALTER DATABASE "x" OWNER TO "o" | CURRENT_USER
std::string alter_owner(const Quote& q, const std::string& name, const std::optional<std::string>& owner);
/// ALTER DATABASE "x" SET TABLESPACE "t"
std::string alter_tablespace(const Quote& q, const std::string& name, const std::string& tablespace);
/// RESET ALL for an empty map, else one SET "p" TO 'v' / RESET "p" per entry. Dotted names are quoted
/// part by part ("ext"."param").
std::vector<std::string> settings(const Quote& q, const std::string& name, const DatabaseSettings& settings);

/// What a database holds, for the diff of its schemas and extensions.
struct Contents {
  std::vector<Schema> schemas{};
  std::vector<Extension> extensions{};
};
/// The statements bringing `current` to what `spec` asks: CREATE SCHEMA [AUTHORIZATION], ALTER SCHEMA
/// OWNER TO, DROP SCHEMA ... CASCADE; CREATE EXTENSION IF NOT EXISTS ... CASCADE, ALTER EXTENSION
/// UPDATE TO / SET SCHEMA, DROP EXTENSION IF EXISTS ... CASCADE. Nothing for what is already so.
std::vector<std::string> schema_changes(const Quote& q, const std::vector<SchemaSpec>& wanted, const Contents& current);
std::vector<std::string> extension_changes(const Quote& q, const std::vector<ExtensionSpec>& wanted,
                                           const Contents& current);

/// `sql` with the literal after each PASSWORD keyword masked (ALTER ROLE x PASSWORD 'secret'), for
/// logs: the statement of `database run` is the user's and may hold one.
std::string redact_sql(std::string_view sql);

}  // namespace pglift::postgres::dbsql
