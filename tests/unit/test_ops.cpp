// Small pure pieces of the ops layer and the public values.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "ops/lock.hpp"
#include "pglift/errors.hpp"
#include "pglift/events.hpp"

using namespace pglift;

TEST_CASE("a lock held elsewhere is Busy; any other flock failure is a SystemError naming the lock file") {
  CHECK_THROWS_AS(ops::throw_lock_error(EWOULDBLOCK, "/run/x/locks/15-main.lock"), Busy);
  for (int err : {ENOLCK, EINTR, EBADF, EINVAL}) {
    CAPTURE(err);
    CHECK_THROWS_WITH_AS(ops::throw_lock_error(err, "/run/x/locks/15-main.lock"),
                         doctest::Contains("cannot lock /run/x/locks/15-main.lock"), SystemError);
  }
}

TEST_CASE("a default-initialised LogRecord has op_tag 0, whatever the memory held before") {
  alignas(LogRecord) unsigned char storage[sizeof(LogRecord)];
  std::memset(storage, 0xab, sizeof storage);
  auto* record = new (storage) LogRecord;  // default-initialisation: only member initialisers apply
  CHECK(record->op_tag == 0);
  CHECK(record->level == LogLevel{});
  record->~LogRecord();
}
