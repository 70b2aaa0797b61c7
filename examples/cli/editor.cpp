#include "editor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "cli_errors.hpp"

extern char** environ;

namespace cli {

std::vector<std::string> shell_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::exchange(word, {}));
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == std::string_view::npos) throw std::invalid_argument("unterminated single quote");
      word.append(text.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i >= text.size()) throw std::invalid_argument("unterminated double quote");
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size() && std::strchr("\"\\$`", text[i + 1])) ++i;
        word += text[i];
      }
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

PrivateFile::PrivateFile(const std::string& filename, const std::string& content) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = (std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / "pglift-edit-XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw ExitError("cannot create a temporary directory: " + std::string(std::strerror(errno)));
  dir_ = templ;  // mkdtemp: 0700
  file_ = dir_ / filename;
  int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw ExitError("cannot create " + file_.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw ExitError("cannot write " + file_.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

PrivateFile::~PrivateFile() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PrivateFile::read() const {
  std::ifstream in(file_, std::ios::binary);
  if (!in) throw ExitError("cannot read " + file_.string());
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

int run_editor(const std::filesystem::path& file) {
  std::string command = "vi";
  for (const char* var : {"EDITOR", "VISUAL"})
    if (const char* v = std::getenv(var); v && *v) {
      command = v;
      break;
    }
  std::vector<std::string> argv;
  try {
    argv = shell_words(command);
  } catch (const std::invalid_argument& e) {
    throw ExitError("cannot run the editor '" + command + "': " + e.what());
  }
  if (argv.empty()) argv.push_back("vi");
  argv.push_back(file.string());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  // While the editor runs, Ctrl-C is for the editor (as git does): ignored here, default there.
  struct sigaction ignore {}, old_int{}, old_quit{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  sigaddset(&defaults, SIGTERM);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, cargv[0], nullptr, &attr, cargv.data(), environ);
  posix_spawnattr_destroy(&attr);
  int status = 0;
  if (rc == 0)
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  if (rc != 0) throw ExitError("cannot run the editor '" + command + "': " + std::strerror(rc));
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace cli
