#include "core/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "pglift/errors.hpp"

namespace pglift::core {

namespace {
[[noreturn]] void fail(const std::string& what, const fs::path& path, int err = errno) {
  throw SystemError(what + " " + path.string() + ": " + std::strerror(err));
}
}  // namespace

std::optional<std::string> read_file_if_exists(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    fail("cannot read", path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      fail("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string read_file(const fs::path& path) {
  auto content = read_file_if_exists(path);
  if (!content) fail("cannot read", path, ENOENT);
  return *content;
}

void write_file_atomic(const fs::path& path, const std::string& content, mode_t mode) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  fs::path tmp = path;
  tmp += ".tmp" + std::to_string(rng() % 1000000000);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) fail("cannot write", tmp);
  // The mode is applied explicitly: the umask must not widen or narrow what we ask for.
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot chmod", tmp, err);
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("cannot write", tmp, err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  // Durable before visible: the content reaches the disk before the rename publishes it, and the
  // rename itself (the directory entry) before we report success.
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot sync", tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename to", path, err);
  }
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("cannot open directory", dir);
  int rc = ::fsync(dfd), err = errno;
  ::close(dfd);
  if (rc != 0) fail("cannot sync directory", dir, err);
}

std::vector<fs::path> make_dirs(const fs::path& path, mode_t mode) {
  std::vector<fs::path> missing;
  for (fs::path p = path; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p, ec)) {
      if (!fs::is_directory(p, ec)) throw SystemError(p.string() + " exists and is not a directory");
      break;
    }
    missing.push_back(p);
  }
  std::vector<fs::path> created;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), mode) != 0) {
      if (errno == EEXIST) continue;  // created concurrently
      fail("cannot create directory", *it);
    }
    ::chmod(it->c_str(), mode);  // mkdir honours the umask; we want exactly `mode`
    created.push_back(*it);
  }
  return created;
}

void remove_tree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) throw SystemError("cannot remove " + path.string() + ": " + ec.message());
}

void remove_empty_dirs(fs::path dir, const fs::path& stop_at) {
  const auto stop = stop_at.lexically_normal();
  for (dir = dir.lexically_normal(); !dir.empty() && dir != stop && dir != dir.root_path(); dir = dir.parent_path()) {
    // rmdir fails on non-empty directories, which is exactly when we stop.
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) break;
  }
}

std::string tail_of(const std::string& text, std::size_t n) {
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  std::size_t lines = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++lines == n) break;
    --pos;
  }
  std::string out = text.substr(pos);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string tail(const fs::path& path, std::size_t n) {
  try {
    auto content = read_file_if_exists(path);
    if (!content) return {};
    if (content->size() > 65536) content = content->substr(content->size() - 65536);
    return tail_of(*content, n);
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace pglift::core
