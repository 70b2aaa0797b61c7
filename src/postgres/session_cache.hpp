// The connections a Context keeps open after a get, for the next one: a new backend costs the server
// a fork and a catalog warm-up (most of a get's time) and an embedder polling get every second would
// otherwise churn through them. Only password-free connections (postgres/wire.hpp), at most one idle
// per postmaster, each closed after `idle` without use, when the library stops that postmaster, and
// when the Context goes.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/asio.hpp"
#include "postgres/wire.hpp"

namespace pglift::postgres {

class SessionCache {
 public:
  SessionCache(asio::any_io_executor io, std::chrono::milliseconds idle);
  /// Closes every connection. Destroy it once its executor no longer runs handlers (Context::Impl
  /// joins its I/O thread first): the timer's handler refers to it.
  ~SessionCache();
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  /// The rows of `sql` on a kept connection to the postmaster `pid` listening at `endpoint`, or on a new
  /// one, kept afterwards. nullopt when the server asks for a password (the caller goes through libpq).
  std::optional<std::vector<Row>> query(const wire::Endpoint& endpoint, int pid, const std::string& sql,
                                        std::chrono::milliseconds timeout);
  /// Closes the connections to the postmaster at `socket_directory` (any pid): before a stop, which
  /// in smart mode would wait for them.
  void forget(const std::filesystem::path& socket_directory);
  std::size_t size() const;  ///< connections kept now (tests)

 private:
  struct Kept {
    wire::Session session;
    std::filesystem::path socket_directory;
    std::chrono::steady_clock::time_point expires;
  };
  void arm();  // on the executor

  asio::any_io_executor io_;
  std::chrono::milliseconds idle_;
  mutable std::mutex mutex_;
  std::map<std::string, Kept> kept_;  // by socket path, user, database and postmaster pid
  bool armed_ = false;
  std::unique_ptr<asio::steady_timer> timer_;  // used on the executor only
};

}  // namespace pglift::postgres
