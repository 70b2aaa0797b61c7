// A libpq session on an instance's Unix socket, as the superuser role. Blocking: call it through
// core::blocking() from coroutines.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pglift/settings.hpp"
#include "postgres/layout.hpp"

struct pg_conn;

namespace pglift::postgres {

class SessionCache;

using Row = std::vector<std::optional<std::string>>;

/// "key='value'" for a libpq connection string: the value quoted, ' and \ escaped.
std::string kv(const std::string& key, const std::string& value);

/// "host=<socket dir> port=<port> user=<surole> dbname=postgres ..." (values quoted for libpq).
std::string conninfo(const Settings& settings, const Layout& layout, int port, const std::string& dbname = "postgres");

/// One statement (no parameters) as the superuser on the instance's socket: spoken directly when local
/// connections need no password (postgres/wire.hpp: no libpq to load), through libpq, which knows the
/// passfile and SCRAM, when they do. Throws StateError as Session does. With `cache` (a Context's) and
/// the postmaster's pid, a password-free connection is kept for the next statement (session_cache.hpp).
std::vector<Row> query_once(const Settings& settings, const Layout& layout, int port, const std::string& sql,
                            SessionCache* cache = nullptr, int postmaster_pid = 0);

class Session {
 public:
  explicit Session(const std::string& conninfo);  ///< throws StateError with libpq's message
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  std::vector<Row> query(const std::string& sql, const std::vector<std::string>& params = {});
  void execute(const std::string& sql, const std::vector<std::string>& params = {});
  /// The simple query protocol: the only one a replication connection accepts (CREATE_REPLICATION_SLOT).
  void execute_simple(const std::string& command);
  /// SQL quoting by libpq itself (PQescapeLiteral, PQescapeIdentifier), which knows the server's
  /// encoding and standard_conforming_strings. Throws StateError on invalid input (bad encoding).
  std::string literal(std::string_view value);
  std::string identifier(std::string_view name);
  /// The password encrypted client-side (SCRAM by default): never send it in clear.
  std::string encrypt_password(const std::string& password, const std::string& role);

  // --- databases: a user's statement (`database run`) ---
  struct Result {
    std::vector<std::string> columns;
    std::vector<Row> rows;
    std::string status;  ///< the command status: "SELECT 2", "CREATE TABLE"
  };
  /// Runs `sql` (possibly several statements) through the simple query protocol, in autocommit; the
  /// last statement's result. Throws StateError with the server's message, its detail and hint, and
  /// the error's position, never the statement's text.
  Result run(const std::string& sql);
  // --- end databases ---

 private:
  pg_conn* conn_;
};

}  // namespace pglift::postgres
