// Context::Impl: the I/O thread running every operation's coroutine, the pool for blocking calls,
// and the registry of pending operations (cancelled and awaited on destruction).
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/post.hpp>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "postgres/session_cache.hpp"
#include "pglift/context.hpp"
#include "pglift/errors.hpp"
#include "pglift/operations.hpp"

namespace pglift {

struct Operation::State {
  asio::io_context& io;
  asio::cancellation_signal signal;  // used on the I/O thread only
  std::atomic<bool> cancel_requested{false};
  explicit State(asio::io_context& i) : io(i) {}
};

class Context::Impl {
 public:
  Impl(Settings s, EventSink k);
  ~Impl();

  Settings settings;
  EventSink sink;
  asio::io_context io;
  asio::thread_pool pool{4};
  /// After io and pool: destroyed first, once ~Impl has joined their threads.
  postgres::SessionCache sessions{io.get_executor(), std::chrono::seconds(2)};

  core::Op op(std::uint64_t tag, bool dry_run = false) const {
    return core::Op{settings, sink, const_cast<asio::thread_pool&>(pool), tag, dry_run,
                    const_cast<postgres::SessionCache*>(&sessions)};
  }
  bool on_io_thread() const { return std::this_thread::get_id() == io_thread_.get_id(); }

  /// Runs `body(op)` as a coroutine on the I/O thread; `done` gets its outcome.
  template <class T, class Body, class Done>
  Operation launch(OpOptions options, Body body, Done done);

  /// Blocking face: launches and waits (refused on the I/O thread, where it would deadlock).
  template <class T, class Body>
  T run(Body body, OpOptions options = {});

 private:
  void add(const std::shared_ptr<Operation::State>& s);
  void remove(const std::shared_ptr<Operation::State>& s);

  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread io_thread_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::set<std::shared_ptr<Operation::State>> pending_;
};

/// Asio reports cancellation as operation_aborted, or as multiple_exceptions when several awaited
/// branches ended at once: give callers our typed errors.
inline std::exception_ptr typed_error(std::exception_ptr e) {
  for (int depth = 0; depth < 4; ++depth) {
    try {
      std::rethrow_exception(e);
    } catch (const asio::multiple_exceptions& me) {
      e = me.first_exception();
      continue;
    } catch (const boost::system::system_error& se) {
      if (se.code() == asio::error::operation_aborted) return std::make_exception_ptr(Cancelled());
    } catch (...) {
    }
    break;
  }
  return e;
}

namespace ops {
/// Marks an operation's body as honouring core::Op::dry_run; launch refuses a dry run of any other.
template <class Body>
struct DryRunnable : Body {
  static constexpr bool dry_runnable = true;
};
template <class Body>
DryRunnable<Body> dry_runnable(Body body) {
  return DryRunnable<Body>{std::move(body)};
}
}  // namespace ops

template <class T, class Body, class Done>
Operation Context::Impl::launch(OpOptions options, Body body, Done done) {
  auto state = std::make_shared<Operation::State>(io);
  add(state);
  constexpr bool dry_runnable = requires { Body::dry_runnable; };
  auto coro = [this, body = std::move(body), options]() mutable -> awaitable<T> {
    if (options.dry_run && !dry_runnable)
      throw InvalidSpec("dry_run", "true", "this operation cannot be simulated; run it without dry_run");
    core::Op op = this->op(options.tag, options.dry_run);
    co_return co_await body(op);
  };
  asio::co_spawn(io, std::move(coro),
                 asio::bind_cancellation_slot(
                     state->signal.slot(), [this, state, done = std::move(done)](std::exception_ptr e, auto... r) mutable {
                       // Asio reports cancellation as operation_aborted: give callers our typed error.
                       if (e) {
                         e = typed_error(e);
                         if constexpr (std::is_void_v<T>) done(e);
                         else done(e, T{});
                       } else {
                         if constexpr (std::is_void_v<T>) done(nullptr);
                         else done(nullptr, std::move(r)...);
                       }
                       remove(state);
                     }));
  return Operation(state);
}

template <class T, class Body>
T Context::Impl::run(Body body, OpOptions options) {
  if (on_io_thread()) throw Error(ErrorCode::internal, "blocking libpglift call made from a library thread");
  std::promise<T> promise;
  auto future = promise.get_future();
  if constexpr (std::is_void_v<T>) {
    launch<void>(options, std::move(body), [&promise](std::exception_ptr e) {
      if (e) promise.set_exception(e);
      else promise.set_value();
    });
  } else {
    launch<T>(options, std::move(body), [&promise](std::exception_ptr e, T value) {
      if (e) promise.set_exception(e);
      else promise.set_value(std::move(value));
    });
  }
  return future.get();
}

}  // namespace pglift
