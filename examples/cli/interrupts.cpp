#include "interrupts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <future>
#include <memory>
#include <stdexcept>

namespace cli {
namespace {

constexpr unsigned char stop_watching = 0;
int signal_pipe = -1;  ///< write end, for the handler

// Async-signal-safe: only hands the signal number over to the watcher thread.
extern "C" void forward_signal(int signal) {
  int saved = errno;
  auto byte = static_cast<unsigned char>(signal);
  [[maybe_unused]] auto n = ::write(signal_pipe, &byte, 1);
  errno = saved;
}

void set_disposition(int signal, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(signal, &action, nullptr);
}

void (*handler_of(int signal))(int) {
  struct sigaction current {};
  sigaction(signal, nullptr, &current);
  return current.sa_handler;
}

/// A signal the parent chose to ignore (e.g. SIGINT for a background job of a script) stays ignored.
void catch_unless_ignored(int signal) {
  if (handler_of(signal) != SIG_IGN) set_disposition(signal, forward_signal);
}

/// The default action of `signal`, as if it had not been caught.
void die_of(int signal) {
  set_disposition(signal, SIG_DFL);
  ::kill(::getpid(), signal);
}

}  // namespace

Interrupts::Interrupts() {
  if (::pipe2(pipe_, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  signal_pipe = pipe_[1];
  watcher_ = std::thread([this] { run(); });
  catch_unless_ignored(SIGINT);
  catch_unless_ignored(SIGTERM);
}

Interrupts::~Interrupts() {
  for (int signal : {SIGINT, SIGTERM})
    if (handler_of(signal) == forward_signal) set_disposition(signal, SIG_DFL);
  forward_signal(stop_watching);
  watcher_.join();
  signal_pipe = -1;
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

void Interrupts::watch(const pglift::Operation& operation) {
  std::lock_guard lock(lock_);
  operations_.push_back(operation);
}

void Interrupts::forget_all() {
  std::lock_guard lock(lock_);
  operations_.clear();
}

void Interrupts::run() {
  unsigned char byte;
  for (;;) {
    ssize_t n = ::read(pipe_[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == stop_watching) return;
    on_signal(byte);
  }
}

void Interrupts::on_signal(int signal) {
  std::lock_guard lock(lock_);
  if (operations_.empty() || cancelling_) return die_of(signal);
  cancelling_ = true;
  for (const auto& operation : operations_) operation.cancel();
}

void run_interruptible(Interrupts& interrupts, const std::function<pglift::Operation(pglift::Callback<> done)>& launch) {
  auto completion = std::make_shared<std::promise<void>>();  // shared: the library thread may still be in set_value
  auto completed = completion->get_future();
  interrupts.watch(launch([completion](std::exception_ptr error) {
    if (error) {
      completion->set_exception(error);
    } else {
      completion->set_value();
    }
  }));
  completed.wait();
  interrupts.forget_all();
  completed.get();
}

}  // namespace cli
