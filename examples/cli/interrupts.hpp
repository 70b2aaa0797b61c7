// Ctrl-C (SIGINT) and SIGTERM cancel the library operations in progress, whose completed steps are then
// reverted, instead of killing the CLI half-way through a change (a create would leave a partial instance).
// With no operation in progress, or on a second signal, the signal kills the process as usual.
#pragma once
#include <functional>
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

}  // namespace cli
