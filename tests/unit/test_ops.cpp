// Small pure pieces of the ops layer and the public values.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <cstring>
#include <new>

#include "core/files.hpp"
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

TEST_CASE("an atomic write replaces the file whole, with exactly the mode asked for (tests/unit/fsync.sh traces its syncs)") {
  const auto dir = std::filesystem::temp_directory_path() / ("pglift-atomic-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "secret.yaml";
  core::write_file_atomic(file, "old\n", 0644);
  core::write_file_atomic(file, "new\n", 0600);
  CHECK(core::read_file(file) == "new\n");
  CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);  // no temp left
  std::filesystem::remove_all(dir);
}
