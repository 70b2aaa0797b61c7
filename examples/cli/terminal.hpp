// Questions asked on the controlling terminal (/dev/tty), never on stdin/stdout, so that they work
// with redirected output and never end up in a pipe.
#pragma once
#include <string>

namespace cli {

class Terminal {
 public:
  /// Throws std::runtime_error when the process has no controlling terminal.
  Terminal();
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  /// Asks "<question> [y/n] (y): " until answered; an empty answer takes the default.
  /// Throws Aborted on end of input or Ctrl-C.
  bool confirm(const std::string& question, bool default_answer);

  /// Asks for a secret twice, without echo, until both entries match. Throws Aborted on end of input or Ctrl-C.
  std::string new_secret(const std::string& prompt);

 private:
  std::string ask(const std::string& prompt, bool hidden);
  std::string read_line(bool hidden);
  void write(const std::string& text);

  int fd_;
};

}  // namespace cli
