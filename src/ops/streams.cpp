// Streaming operations: StreamGate, and the instance log stream as an operation.
#include <sys/inotify.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <utility>

#include "ops/context_impl.hpp"
#include "ops/lookup.hpp"
#include "ops/stream_gate.hpp"
#include "pglift/streams.hpp"
#include "postgres/databases.hpp"
#include "postgres/layout.hpp"

namespace pglift {
namespace fs = std::filesystem;

struct StreamGate::State {
  std::mutex mutex;
  bool held = false;
  /// Set by a waiting producer: wakes it (on its executor).
  std::function<void()> wake;
};

StreamGate::StreamGate() : state_(std::make_shared<State>()) {}

void StreamGate::hold() const noexcept {
  std::lock_guard lock(state_->mutex);
  state_->held = true;
}

void StreamGate::release() const noexcept {
  std::function<void()> wake;
  {
    std::lock_guard lock(state_->mutex);
    state_->held = false;
    wake = std::move(state_->wake);
    state_->wake = nullptr;
  }
  if (wake) wake();
}

bool StreamGate::held() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->held;
}

namespace ops {

awaitable<void> pass(const StreamGate& gate) {
  auto& state = *gate.state();
  {
    std::lock_guard lock(state.mutex);
    if (!state.held) co_return;
  }
  auto ex = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  struct Unregister {  // whatever ends the wait, release() must not wake a timer nobody waits on
    StreamGate::State& state;
    ~Unregister() {
      std::lock_guard lock(state.mutex);
      state.wake = nullptr;
    }
  } unregister{state};
  for (;;) {
    {
      std::lock_guard lock(state.mutex);
      if (!state.held) co_return;
      // The wake is posted to our executor: it runs after this coroutine has started waiting.
      state.wake = [ex, timer] { asio::post(ex, [timer] { timer->cancel(); }); };
    }
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));  // released (aborted) or cancelled
    auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
    if (cancelled != asio::cancellation_type::none) throw Cancelled();
  }
}

namespace {

/// Log lines as every event of the library: password values masked, as key=value (conninfo) and as a
/// logged statement's PASSWORD '...' literal.
std::string masked(std::string_view lines) { return postgres::dbsql::redact_sql(redact_secrets(lines)); }

/// Up to `limit` bytes of `file` from `offset` (empty at its end or when it is gone).
std::string read_from(const fs::path& file, std::uintmax_t offset, std::size_t limit) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in) return {};
  std::string data(limit, '\0');
  in.read(data.data(), static_cast<std::streamsize>(limit));
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

constexpr std::size_t chunk_limit = 64 * 1024;

awaitable<void> logs_body(const core::Op& op, InstanceRef ref, bool follow, std::function<bool(std::string_view)> chunk,
                          StreamGate gate) {
  postgres::Layout l = ops::lookup(op.settings, ref);
  auto current = postgres::current_log_file(l);
  if (!current) throw NotFound("file 'current_logfiles' for instance", l.display());
  fs::path file = *current;
  std::uintmax_t offset = 0;
  // Following wakes up on the kernel's word (inotify): a write to the log directory, or a new
  // current_logfiles after a rotation.
  std::optional<asio::posix::stream_descriptor> watch;
  if (follow) {
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) throw SystemError(std::string("inotify_init1: ") + std::strerror(errno));
    watch.emplace(co_await asio::this_coro::executor, fd);
    if (::inotify_add_watch(fd, file.parent_path().c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0 ||
        ::inotify_add_watch(fd, l.datadir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
      throw SystemError("cannot watch the log of instance " + l.display() + ": " + std::strerror(errno));
  }
  // Hands out what the file holds past `offset`, in whole lines (a line longer than a chunk goes in
  // pieces), each chunk masked (masked()); `final`: the line
  // not ended yet too. False when `chunk` asked to stop.
  std::string pending;
  auto flush = [&](bool final) -> awaitable<bool> {
    for (;;) {
      std::string data = read_from(file, offset, chunk_limit);
      if (data.empty()) break;
      offset += data.size();
      pending += data;
      std::size_t end = pending.rfind('\n');
      if (end == std::string::npos) {
        if (pending.size() < chunk_limit) continue;
        end = pending.size() - 1;
      }
      std::string lines = pending.substr(0, end + 1);
      pending.erase(0, end + 1);
      co_await pass(gate);
      if (!chunk(masked(lines))) co_return false;
    }
    if (!final || pending.empty()) co_return true;
    std::string rest = std::exchange(pending, {});
    co_await pass(gate);
    co_return chunk(masked(rest));
  };
  char events[4096];
  for (;;) {
    if (!co_await flush(!follow) || !follow) co_return;
    co_await watch->async_read_some(asio::buffer(events), asio::use_awaitable);  // drained: we re-read what changed
    if (auto now = postgres::current_log_file(l); now && *now != file) {
      if (!co_await flush(true)) co_return;  // the end of the old file, then the new one from its start
      file = *now;
      offset = 0;
    }
  }
}

}  // namespace
}  // namespace ops

Operation start_read_instance_logs(Context& ctx, InstanceRef ref, bool follow, std::function<bool(std::string_view)> chunk,
                                   Callback<> done, OpOptions op, StreamGate gate) {
  auto body = [ref = std::move(ref), follow, chunk = std::move(chunk), gate = std::move(gate)](const core::Op& o) {
    return ops::logs_body(o, ref, follow, chunk, gate);
  };
  return ctx.impl().launch<void>(op, std::move(body), std::move(done));
}

}  // namespace pglift
