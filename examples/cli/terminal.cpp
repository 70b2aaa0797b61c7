#include "terminal.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "cli_errors.hpp"

namespace cli {
namespace {

constexpr char ctrl_c = '\x03';

/// Turns echo off for a hidden entry, and signals off so that Ctrl-C arrives as a character we can handle
/// while the terminal is in this state (a killed process would leave echo off); restores on destruction.
class HiddenInput {
 public:
  explicit HiddenInput(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ISIG);
    active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  ~HiddenInput() {
    if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  HiddenInput(const HiddenInput&) = delete;
  HiddenInput& operator=(const HiddenInput&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

Terminal::Terminal() : fd_(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) {
  if (fd_ < 0)
    throw std::runtime_error(std::string("cannot prompt: no terminal (") + std::strerror(errno) +
                             "); use --non-interactive to take the default answers");
}

Terminal::~Terminal() { ::close(fd_); }

bool Terminal::confirm(const std::string& question, bool default_answer) {
  const std::string prompt = question + " [y/n] (" + (default_answer ? "y" : "n") + "): ";
  for (;;) {
    std::string answer = trim(ask(prompt, false));
    if (answer.empty()) return default_answer;
    if (answer == "y" || answer == "Y" || answer == "yes") return true;
    if (answer == "n" || answer == "N" || answer == "no") return false;
    write("Please enter Y or N\n");
  }
}

std::string Terminal::new_secret(const std::string& prompt) {
  for (;;) {
    std::string first = ask(prompt + ": ", true);
    std::string second = ask("Repeat for confirmation: ", true);
    if (first == second) return first;
    write("Error: The two entered values do not match.\n");
  }
}

std::string Terminal::ask(const std::string& prompt, bool hidden) {
  write(prompt);
  if (!hidden) return read_line(false);
  std::string line;
  {
    HiddenInput guard(fd_);
    line = read_line(true);
  }
  write("\n");  // the user's Enter was not echoed
  return line;
}

std::string Terminal::read_line(bool hidden) {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || (hidden && c == ctrl_c)) {
      write("\n");  // leave the prompt line before "Aborted!"
      throw Aborted();
    }
    if (c == '\n') return line;
    line += c;
  }
}

void Terminal::write(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a broken terminal: the read that follows fails and aborts
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace cli
