#include <doctest/doctest.h>
#include <signal.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <future>
#include <thread>

#include "run_coroutine.hpp"
#include "core/coro.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "ops/transaction.hpp"
#include "proc/process.hpp"

using namespace pglift;
using namespace std::chrono_literals;

namespace {
/// Runs a coroutine to completion on a private io_context, with an Op whose events are recorded.
struct Harness {
  Settings settings = Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r"})"});
  std::vector<LogRecord> logs;
  std::mutex mutex;
  EventSink sink = [this](const Event& e) {
    std::lock_guard l(mutex);
    if (auto* r = std::get_if<LogRecord>(&e)) logs.push_back(*r);
  };
  core::BlockingPool pool{1};
  core::Op op{settings, sink, pool, 7};
  asio::io_context io;

  template <class T>
  T run(awaitable<T> a, std::function<void(asio::cancellation_signal&)> during = {}) {
    return testing::run_coroutine(io, std::move(a), std::move(during));
  }
  bool logged(const std::string& text) {
    for (const auto& r : logs)
      if (r.message.find(text) != std::string::npos) return true;
    return false;
  }
};
}  // namespace

TEST_CASE("the blocking pool starts its threads on first use, and blocking() runs on them") {
  auto threads = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/task"), std::filesystem::directory_iterator());
  };
  const auto before = threads();
  Settings settings = Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r"})"});
  EventSink sink;
  core::BlockingPool pool{2};
  core::Op op{settings, sink, pool};
  CHECK_FALSE(pool.started());
  CHECK(threads() == before);
  asio::io_context io;
  const auto caller = std::this_thread::get_id();
  auto ran_on = testing::run_coroutine(io, core::blocking(op, [] { return std::this_thread::get_id(); }));
  CHECK(pool.started());
  CHECK(ran_on != caller);
  CHECK(threads() == before + 2);
  pool.join();
}

TEST_CASE("proc::run streams output lines as DEBUG events tagged with the op") {
  Harness h;
  auto r = h.run(proc::run(h.op, {.argv = {"/bin/sh", "-c", "echo one; echo two >&2; printf three"}, .log_target = "t.sh"}));
  CHECK(r.status == 0);
  CHECK(r.output == "one\ntwo\nthree\n");
  CHECK(h.logged("/bin/sh: one"));
  CHECK(h.logged("/bin/sh: three"));
  for (const auto& l : h.logs) CHECK(l.op_tag == 7);
}

TEST_CASE("proc::run reports failures with argv, status and the output tail") {
  Harness h;
  try {
    h.run(proc::run(h.op, {.argv = {"/bin/sh", "-c", "echo boom >&2; exit 3"}}));
    FAIL("expected CommandError");
  } catch (const CommandError& e) {
    CHECK(e.exit_status() == 3);
    CHECK(e.argv().front() == "/bin/sh");
    CHECK(e.output_tail() == "boom");
  }
  auto r = h.run(proc::run(h.op, {.argv = {"/bin/sh", "-c", "exit 4"}, .check = false}));
  CHECK(r.status == 4);
  CHECK_THROWS_WITH_AS(h.run(proc::run(h.op, {.argv = {"/nonexistent/program"}})), doctest::Contains("cannot execute"),
                       CommandError);
}

TEST_CASE("proc::run kills a command at its deadline") {
  Harness h;
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(h.run(proc::run(h.op, {.argv = {"/bin/sleep", "30"}, .timeout = 200ms})), Timeout);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("proc::run is cancellable: the child is terminated") {
  Harness h;
  CHECK_THROWS_AS(h.run(proc::run(h.op, {.argv = {"/bin/sleep", "30"}}),
                        [](asio::cancellation_signal& s) { s.emit(asio::cancellation_type::terminal); }),
                  Cancelled);
}

TEST_CASE("daemons are detached from us, watched through a pidfd, and their exec failures reported") {
  Harness h;
  std::string log = (std::filesystem::temp_directory_path() / ("pglift-daemon-" + std::to_string(::getpid()) + ".log")).string();
  auto d = proc::spawn_daemon(h.op, {.argv = {"/bin/sh", "-c", "echo started; exec sleep 30"}, .log_file = log});
  CHECK(d.pid > 0);
  CHECK_FALSE(d.exited());
  CHECK(::getsid(d.pid) != ::getsid(0));  // a session of its own, not ours
  CHECK(::getppid() != d.pid);
  CHECK(proc::send_signal(d, SIGTERM));
  CHECK(h.run(proc::wait_exit(d, 5s)));
  CHECK(d.exited());
  CHECK_THROWS_AS(proc::spawn_daemon(h.op, {.argv = {"/nonexistent/daemon"}, .log_file = log}), CommandError);
  std::filesystem::remove(log);
}

TEST_CASE("wait_until fails fast and reports a deadline with details") {
  Harness h;
  CHECK_THROWS_WITH_AS(h.run(core::wait_until(core::Clock::now() + 50ms, "readiness of X", [] { return false; }, {},
                                              [] { return std::string("last log line"); })),
                       doctest::Contains("readiness of X not reached after"), Timeout);
  CHECK_THROWS_WITH_AS(
      h.run(core::wait_until(core::Clock::now() + 10s, "r", [] { return false; }, [] { throw StateError("died"); })),
      "died", StateError);
  int probes = 0;
  h.run(core::wait_until(core::Clock::now() + 10s, "r", [&] { return ++probes == 3; }));
  CHECK(probes == 3);
}

TEST_CASE("a failed transaction reverts its steps, the failed one included, in reverse order, logging each") {
  Harness h;
  std::vector<std::string> done;
  auto body = [&](ops::Transaction& tx) -> awaitable<int> {
    co_await tx.step("one", [&]() -> awaitable<void> { done.push_back("do one"); co_return; }, "undo one",
                     [&]() -> awaitable<void> { done.push_back("undo one"); co_return; });
    co_await tx.step("two", [&]() -> awaitable<void> { done.push_back("do two"); co_return; }, "undo two",
                     [&]() -> awaitable<void> {
                       done.push_back("undo two");
                       throw StateError("undo failure is logged, not fatal");
                     });
    co_await tx.step("three", [&]() -> awaitable<void> { throw StateError("three failed"); }, "undo three",
                     [&]() -> awaitable<void> { done.push_back("undo three"); co_return; });
    co_return 1;
  };
  CHECK_THROWS_WITH(h.run(ops::transactional<int>(h.op, true, body)), "three failed");
  CHECK(done == std::vector<std::string>{"do one", "do two", "undo three", "undo two", "undo one"});
  CHECK(h.logged("reverting 'two'"));
  CHECK(h.logged("undo two"));
  CHECK(h.logged("failed to revert 'two'"));

  done.clear();
  CHECK_THROWS(h.run(ops::transactional<int>(h.op, false, body)));
  CHECK(done == std::vector<std::string>{"do one", "do two"});  // --no-drop-on-error keeps everything
}

TEST_CASE("a daemon's pid file is written before its program runs, before spawn_daemon waits on anything") {
  Harness h;
  const auto dir = std::filesystem::temp_directory_path() / ("pglift-pidfile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto log = dir / "daemon.log", pid_file = dir / "daemon.pid";
  // The daemon checks the pid file itself, first thing: it exists before the daemon even runs its
  // program, and names it.
  auto d = proc::spawn_daemon(
      h.op, {.argv = {"/bin/sh", "-c", "test \"$(cat " + pid_file.string() + ")\" = $$ && echo found-own-pid; exec sleep 30"},
             .log_file = log,
             .pid_file = pid_file});
  CHECK(core::trim(core::read_file(pid_file)) == std::to_string(d.pid));
  CHECK((std::filesystem::status(pid_file).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  h.run(core::wait_until(core::Clock::now() + 10s, "the daemon's check of its pid file",
                         [&] { return core::read_file(log).find("found-own-pid") != std::string::npos; },
                         [&] { if (d.exited()) throw StateError("the daemon exited: " + core::read_file(log)); }));
  CHECK(proc::send_signal(d, SIGTERM));
  CHECK(h.run(proc::wait_exit(d, 5s)));
  // A daemon that cannot be executed leaves no pid file behind.
  CHECK_THROWS_AS(proc::spawn_daemon(h.op, {.argv = {"/nonexistent/daemon"}, .log_file = log, .pid_file = pid_file}), CommandError);
  CHECK_FALSE(std::filesystem::exists(pid_file));
  std::filesystem::remove_all(dir);
}

TEST_CASE("commands start with an empty signal mask and default dispositions, in a process group of their own") {
  Harness h;
  // The caller blocks SIGUSR1 and ignores SIGUSR2: neither may reach the command.
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &block, &old_mask) == 0);
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGUSR2, &ignore, &old_action) == 0);
  auto r = h.run(proc::run(h.op, {.argv = {"/bin/sh", "-c", "grep -E '^(SigBlk|SigIgn):' /proc/self/status; "
                                                             "echo pgid=$(ps -o pgid= -p $$ | tr -d ' ') pid=$$"}}));
  sigaction(SIGUSR2, &old_action, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  CHECK(r.output.find("SigBlk:\t0000000000000000") != std::string::npos);
  // SigIgn of the grep: default dispositions (the shell itself may ignore nothing either).
  CHECK(r.output.find("SigIgn:\t0000000000000000") != std::string::npos);
  auto pgid = r.output.find("pgid="), pid = r.output.find(" pid=");
  REQUIRE(pgid != std::string::npos);
  REQUIRE(pid != std::string::npos);
  CHECK(core::trim(r.output.substr(pgid + 5, pid - pgid - 5)) == core::trim(r.output.substr(pid + 5)));
  CHECK(r.output.find("pgid=" + std::to_string(::getpgrp()) + " ") == std::string::npos);
}
