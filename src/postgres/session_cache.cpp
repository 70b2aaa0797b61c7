#include "postgres/session_cache.hpp"

#include <algorithm>

#include "pglift/errors.hpp"

namespace pglift::postgres {

SessionCache::SessionCache(asio::any_io_executor io, std::chrono::milliseconds idle)
    : io_(std::move(io)), idle_(idle), timer_(std::make_unique<asio::steady_timer>(io_)) {}

SessionCache::~SessionCache() {
  std::lock_guard lock(mutex_);
  kept_.clear();
}

std::optional<std::vector<Row>> SessionCache::query(const wire::Endpoint& endpoint, int pid, const std::string& sql,
                                                    std::chrono::milliseconds timeout) {
  const std::string key =
      wire::socket_path(endpoint) + '\n' + endpoint.user + '\n' + endpoint.dbname + '\n' + std::to_string(pid);
  auto give_back = [&](wire::Session session) {
    if (!session.usable()) return;
    std::lock_guard lock(mutex_);
    kept_.insert_or_assign(key, Kept{std::move(session), endpoint.socket_directory,
                                     std::chrono::steady_clock::now() + idle_});
    if (!armed_) {
      armed_ = true;
      asio::post(io_, [this] { arm(); });
    }
  };
  // One statement on `session`, which goes back to the cache when still usable (a statement's own
  // error leaves it so); `lost` tells whether the connection itself failed.
  auto run = [&](wire::Session session, bool& lost) {
    try {
      auto rows = session.query(sql, timeout);
      give_back(std::move(session));
      return rows;
    } catch (const StateError&) {
      lost = !session.usable();
      give_back(std::move(session));
      throw;
    }
  };

  std::optional<wire::Session> kept;
  {
    std::lock_guard lock(mutex_);
    if (auto it = kept_.find(key); it != kept_.end()) {
      kept.emplace(std::move(it->second.session));
      kept_.erase(it);
    }
  }
  if (kept && kept->usable()) {
    bool lost = false;
    try {
      return run(std::move(*kept), lost);
    } catch (const StateError&) {
      if (!lost) throw;  // the server's answer to the statement
      // The connection was lost under us (a restart, pg_terminate_backend): once more on a new one.
    }
  }
  kept.reset();
  auto fresh = wire::Session::open(endpoint, timeout);
  if (!fresh) return std::nullopt;
  bool lost = false;
  return run(std::move(*fresh), lost);
}

void SessionCache::forget(const std::filesystem::path& socket_directory) {
  std::lock_guard lock(mutex_);
  std::erase_if(kept_, [&](const auto& entry) { return entry.second.socket_directory == socket_directory; });
}

std::size_t SessionCache::size() const {
  std::lock_guard lock(mutex_);
  return kept_.size();
}

void SessionCache::arm() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(kept_, [&](const auto& entry) { return entry.second.expires <= now; });
  if (kept_.empty()) {
    armed_ = false;
    return;
  }
  auto earliest = std::min_element(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) {
                    return a.second.expires < b.second.expires;
                  })->second.expires;
  timer_->expires_at(earliest);
  timer_->async_wait([this](boost::system::error_code ec) {
    if (ec != asio::error::operation_aborted) arm();
  });
}

}  // namespace pglift::postgres
