// The user's editor on a private temporary file, for `pgconf edit` (and later `pghba edit`).
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

/// The words of a command as a POSIX shell splits them ('single', "double" with \" \\ \$ \`, and
/// backslash escapes), without running a shell. Throws std::invalid_argument on an unterminated quote.
std::vector<std::string> shell_words(std::string_view text);

/// A 0700 directory (under $TMPDIR, else /tmp) holding one 0600 file: nobody else reads what is edited.
/// Both are removed on destruction.
class PrivateFile {
 public:
  PrivateFile(const std::string& filename, const std::string& content);
  ~PrivateFile();
  PrivateFile(const PrivateFile&) = delete;
  PrivateFile& operator=(const PrivateFile&) = delete;
  const std::filesystem::path& path() const noexcept { return file_; }
  std::string read() const;

 private:
  std::filesystem::path dir_, file_;
};

/// Runs $EDITOR (then $VISUAL, then vi) on `file`, the variable split by shell_words, and waits for it
/// (SIGINT and SIGQUIT are the editor's meanwhile). Returns its exit status (128 + signal when killed);
/// throws ExitError when it cannot be started.
int run_editor(const std::filesystem::path& file);

}  // namespace cli
