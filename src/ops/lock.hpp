// One lock per instance ({run_prefix}/locks/<qualname>.lock): a second concurrent mutation of the same
// instance fails with Busy ("another operation is in progress"), in this process or another.
#pragma once
#include <string>

#include "pglift/settings.hpp"

namespace pglift::ops {

/// The error for a failed flock(2) of `path`: Busy for EWOULDBLOCK, SystemError otherwise.
[[noreturn]] void throw_lock_error(int err, const std::string& path);

class InstanceLock {
 public:
  InstanceLock(const Settings& settings, const std::string& qualname);  ///< throws Busy
  // --- roles
  /// Held shared: SQL operations (roles) run together, never while an exclusive holder (create, drop,
  /// start, stop, configure) works on the instance; Busy otherwise, either way.
  struct Shared {};
  InstanceLock(const Settings& settings, const std::string& qualname, Shared);
  // --- end roles
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

 private:
  InstanceLock(const Settings& settings, const std::string& qualname, bool shared);
  int fd_;
};

}  // namespace pglift::ops
