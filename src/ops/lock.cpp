#include "ops/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/files.hpp"
#include "pglift/errors.hpp"

namespace pglift::ops {

void throw_lock_error(int err, const std::string& path) {
  // Only "held by another operation" is Busy; anything else (ENOLCK, EINTR, EBADF...) is a system
  // failure that retrying later would not cure.
  if (err == EWOULDBLOCK) throw Busy();
  throw SystemError("cannot lock " + path + ": " + std::strerror(err));
}

InstanceLock::InstanceLock(const Settings& settings, const std::string& qualname) : InstanceLock(settings, qualname, false) {}

InstanceLock::InstanceLock(const Settings& settings, const std::string& qualname, Shared) : InstanceLock(settings, qualname, true) {}

InstanceLock::InstanceLock(const Settings& settings, const std::string& qualname, bool shared) {
  auto dir = settings.run_prefix / "locks";
  core::make_dirs(dir, 0700);
  auto path = dir / (qualname + ".lock");
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw SystemError("cannot open lock file " + path.string() + ": " + std::strerror(errno));
  // flock belongs to the open file description: two operations of one process exclude each other too.
  if (::flock(fd_, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    throw_lock_error(err, path.string());
  }
}

InstanceLock::~InstanceLock() { ::close(fd_); }

}  // namespace pglift::ops
