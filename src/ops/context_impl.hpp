// Context::Impl: the I/O thread running every operation's coroutine, the pool for blocking calls,
// and the registry of pending operations (cancelled and awaited on destruction).
//
// Who runs `io`, one thread at a time: nobody while nothing is to run; the thread of a blocking call
// made then (it "borrows" the role for its own operation: no thread to start and no two hand-offs,
// most of a short call's time); or io_thread_, started when an operation is launched while nobody
// runs `io`, when another thread launches one while a call borrows (the borrower hands over at its
// next handler: the other operation never runs on the borrower's thread, whose children would die
// with it, PR_SET_PDEATHSIG), and when a borrowed call ends leaving work (other operations, kept
// connections whose idle timer must fire). Once started, io_thread_ runs `io` until the context goes.
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/post.hpp>

#include "core/asio.hpp"
#include "core/blocking_pool.hpp"
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
  core::BlockingPool pool{4};  ///< started on first use, with the context's signal mask
  /// After io and pool: destroyed first, once ~Impl has joined their threads.
  postgres::SessionCache sessions{io.get_executor(), std::chrono::seconds(2)};

  core::Op op(std::uint64_t tag, bool dry_run = false) const {
    return core::Op{settings, sink, const_cast<core::BlockingPool&>(pool), tag, dry_run,
                    const_cast<postgres::SessionCache*>(&sessions)};
  }
  /// The thread running `io` now: io_thread_, or a blocking call's (borrowed).
  bool on_io_thread() const {
    std::lock_guard lock(mutex_);
    const auto me = std::this_thread::get_id();
    return me == io_thread_.get_id() || (runner_ == Runner::borrowed && borrower_ == me);
  }

  /// Runs `body(op)` as a coroutine on the I/O thread; `done` gets its outcome. `own`: the operation
  /// of the blocking call that borrows the I/O role (run() only).
  template <class T, class Body, class Done>
  Operation launch(OpOptions options, Body body, Done done, bool own = false);

  /// Blocking face: launches and waits (refused on the I/O thread, where it would deadlock).
  template <class T, class Body>
  T run(Body body, OpOptions options = {});

 private:
  void add(const std::shared_ptr<Operation::State>& s);
  void remove(const std::shared_ptr<Operation::State>& s);
  /// Makes `spawn` (a co_spawn onto io) happen where it runs on io_thread_ or on the borrower's own
  /// call: at once, or at the borrower's hand-over. `own`: the borrower's operation.
  void submit(std::function<void()> spawn, bool own);
  void start_io_thread(std::unique_lock<std::mutex>& lock);
  /// The blocking call's loop on the borrowed role, until its operation completes or another thread
  /// needs `io`; then hands over or gives the role back.
  void run_borrowed(const std::atomic<bool>& finished);

  enum class Runner { none, borrowed, thread };
  /// The signal mask of the thread that made the context: its threads get it whenever they start.
  const sigset_t mask_ = core::current_signal_mask();
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread io_thread_;  // guarded by mutex_ until started
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::set<std::shared_ptr<Operation::State>> pending_;
  Runner runner_ = Runner::none;                  // guarded by mutex_
  std::thread::id borrower_;                      // guarded by mutex_
  std::vector<std::function<void()>> deferred_;  // guarded by mutex_: spawns awaiting the hand-over
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
Operation Context::Impl::launch(OpOptions options, Body body, Done done, bool own) {
  auto state = std::make_shared<Operation::State>(io);
  add(state);
  constexpr bool dry_runnable = requires { Body::dry_runnable; };
  auto coro = [this, body = std::move(body), options]() mutable -> awaitable<T> {
    if (options.dry_run && !dry_runnable)
      throw InvalidSpec("dry_run", "true", "this operation cannot be simulated; run it without dry_run");
    core::Op op = this->op(options.tag, options.dry_run);
    co_return co_await body(op);
  };
  // A std::function holds the spawn: copyable captures only (shared_ptr'd where they may not be).
  auto spawn = [this, state, coro = std::make_shared<decltype(coro)>(std::move(coro)),
                done = std::make_shared<Done>(std::move(done))]() mutable {
    asio::co_spawn(io, std::move(*coro),
                   asio::bind_cancellation_slot(
                       state->signal.slot(), [this, state, done = std::move(done)](std::exception_ptr e, auto... r) mutable {
                         // Asio reports cancellation as operation_aborted: give callers our typed error.
                         if (e) {
                           e = typed_error(e);
                           if constexpr (std::is_void_v<T>) (*done)(e);
                           else (*done)(e, T{});
                         } else {
                           if constexpr (std::is_void_v<T>) (*done)(nullptr);
                           else (*done)(nullptr, std::move(r)...);
                         }
                         remove(state);
                       }));
  };
  submit(std::move(spawn), own);
  return Operation(state);
}

template <class T, class Body>
T Context::Impl::run(Body body, OpOptions options) {
  if (on_io_thread()) throw Error(ErrorCode::internal, "blocking libpglift call made from a library thread");
  bool borrowed = false;
  {
    std::lock_guard lock(mutex_);
    if (runner_ == Runner::none) {
      runner_ = Runner::borrowed;
      borrower_ = std::this_thread::get_id();
      borrowed = true;
    }
  }
  std::promise<T> promise;
  auto future = promise.get_future();
  std::atomic<bool> finished{false};
  if constexpr (std::is_void_v<T>) {
    launch<void>(options, std::move(body), [&promise, &finished](std::exception_ptr e) {
      finished = true;  // first: once the promise is set, the caller may be gone
      if (e) promise.set_exception(e);
      else promise.set_value();
    }, borrowed);
  } else {
    launch<T>(options, std::move(body), [&promise, &finished](std::exception_ptr e, T value) {
      finished = true;  // first: once the promise is set, the caller may be gone
      if (e) promise.set_exception(e);
      else promise.set_value(std::move(value));
    }, borrowed);
  }
  if (borrowed) run_borrowed(finished);
  return future.get();
}

}  // namespace pglift
