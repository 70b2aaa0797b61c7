// Ctrl-C (SIGINT) and SIGTERM cancel the library operations in progress, whose completed steps are then
// reverted, instead of killing the CLI half-way through a change (a create would leave a partial instance).
// With no operation in progress, or on a second signal, the signal kills the process as usual.
#pragma once
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <pglift/operations.hpp>

namespace cli {

class Interrupts {
 public:
  /// Installs the signal handlers (process-wide: one Interrupts at a time).
  Interrupts();
  /// Restores the default dispositions.
  ~Interrupts();
  Interrupts(const Interrupts&) = delete;
  Interrupts& operator=(const Interrupts&) = delete;

  /// Cancels `operation` on interrupt, until forget_all().
  void watch(const pglift::Operation& operation);
  void forget_all();

 private:
  void run();
  void on_signal(int signal);

  int pipe_[2];
  std::mutex lock_;
  std::vector<pglift::Operation> operations_;
  bool cancelling_ = false;
  std::thread watcher_;
};

/// Starts an operation (a pglift::start_* call), waits for it and throws what it failed with.
void run_interruptible(Interrupts& interrupts, const std::function<pglift::Operation(pglift::Callback<> done)>& launch);

/// The same for an operation with a result (e.g. pglift::start_configure_instance), which it returns.
template <class T>
T run_interruptible(Interrupts& interrupts, const std::function<pglift::Operation(pglift::Callback<T> done)>& launch) {
  auto completion = std::make_shared<std::promise<T>>();  // shared: the library thread may still be in set_value
  auto completed = completion->get_future();
  interrupts.watch(launch([completion](std::exception_ptr error, T result) {
    if (error) {
      completion->set_exception(error);
    } else {
      completion->set_value(std::move(result));
    }
  }));
  completed.wait();
  interrupts.forget_all();
  return completed.get();
}

}  // namespace cli
