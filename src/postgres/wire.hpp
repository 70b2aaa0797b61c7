// The few exchanges of PostgreSQL's frontend/backend protocol (3.0) that pglift needs on its hot paths,
// spoken directly on an instance's Unix socket: a readiness probe and one query when local connections
// need no password. Loading libpq (and the two dozen libraries it pulls in) costs more than a whole
// `instance get` otherwise; libpq stays the path for everything else (passwords, TLS, COPY, escaping).
// Blocking, bounded by a deadline: call it through core::blocking() or core::cancellable() from coroutines.
#pragma once
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "postgres/session.hpp"  // Row

namespace pglift::postgres::wire {

struct Endpoint {
  std::filesystem::path socket_directory;
  int port = 5432;
  std::string user, dbname = "postgres";
};

/// The superuser on an instance's socket, as libpq's conninfo() names it.
inline Endpoint superuser(const Settings& settings, const Layout& layout, int port) {
  return {.socket_directory = layout.socket_directory, .port = port, .user = settings.postgresql.surole.name};
}

/// "<socket_directory>/.s.PGSQL.<port>"; throws StateError when it does not fit in a sockaddr_un.
std::string socket_path(const Endpoint& endpoint);

enum class PingResult {
  ok,           ///< the server answers: it authenticates, or refuses us for a reason other than its state
  rejecting,    ///< it answers that it cannot accept connections now (starting up, shutting down, recovery)
  no_response,  ///< nothing listens on the socket, or nothing answered before the deadline
};

/// What libpq's PQping tells, without libpq: a startup packet and the server's first answer. Throws
/// StateError only when no probe can be made (a socket path too long): waiting would not help.
PingResult ping(const Endpoint& endpoint, std::chrono::milliseconds timeout);

class Connection;

/// A connection as the superuser, authenticated without a password, kept for further statements.
class Session {
 public:
  /// nullopt when the server asks for a password (libpq's job); throws StateError as
  /// query_without_password does.
  static std::optional<Session> open(const Endpoint& endpoint, std::chrono::milliseconds timeout);
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();  ///< says goodbye ('X') and closes

  /// One statement through the simple query protocol: its rows, as text. Throws StateError (the
  /// server's message, or the connection's failure); after a failure of the connection itself, usable()
  /// is false.
  std::vector<Row> query(const std::string& sql, std::chrono::milliseconds timeout);
  /// Open, idle and quiet: nothing came from the server since the last answer (a backend terminated
  /// by a shutdown or pg_terminate_backend sends an error, then closes).
  bool usable() const;

 private:
  explicit Session(std::unique_ptr<Connection> c);
  std::unique_ptr<Connection> c_;
  bool broken_ = false;
};

/// Runs `sql` (one statement, the simple query protocol) and returns its rows, as text. nullopt when the
/// server asks for a password: the caller then goes through libpq (postgres::Session), which knows the
/// passfile and SCRAM. Throws StateError when the server cannot be reached, refuses the connection or
/// fails the statement (the server's message), and on a deadline missed.
std::optional<std::vector<Row>> query_without_password(const Endpoint& endpoint, const std::string& sql,
                                                       std::chrono::milliseconds timeout);

}  // namespace pglift::postgres::wire
