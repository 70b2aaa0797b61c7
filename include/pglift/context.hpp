// The Context: settings, the library's I/O thread and worker pool, the event sink, the child registry.
#pragma once
#include <memory>
#include <optional>

#include "pglift/events.hpp"
#include "pglift/settings.hpp"

namespace pglift {

/// Thread safety: a Context may be used from any number of threads at once; operations on different
/// instances run in parallel, a second mutation of the same instance fails with Busy.
/// Blocking calls must not be made from the sink or from completion callbacks (library threads).
/// Threads: a blocking call made while nothing else runs on the context runs its operation on the
/// calling thread (should another thread use the context meanwhile, the operation moves to the I/O
/// thread); the I/O thread and the pool of 4 start when first needed, with the signal mask of the
/// thread that made the Context. A context that only lists instances starts no thread.
/// Lifetime: destroy a Context before the program's exit handlers run (not as a function-local static):
/// its threads then end before libcrypto's atexit cleanup, which otherwise leaves their per-thread state
/// (from password encryption) unfreed, a leak LeakSanitizer reports at exit.
/// Connections: a get of a running instance whose local connections need no password leaves its
/// connection open for the next get of the context, for 2 seconds without use (one backend per
/// postmaster, application_name "pglift"); a stop through the context and its destruction close it.
class Context {
 public:
  /// Loads settings from the environment (Settings::load()).
  explicit Context(EventSink sink = {});
  explicit Context(Settings settings, EventSink sink = {});
  ~Context();  ///< cancels pending operations and waits for them to end (their reverts run)
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Settings& settings() const noexcept;

  class Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pglift
