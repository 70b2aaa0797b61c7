// File helpers: atomic writes with explicit modes, directory creation, tails for error reports.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pglift::core {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path);                        // throws SystemError
std::optional<std::string> read_file_if_exists(const fs::path& path);
/// Writes to a temporary file in the same directory, then renames it over `path`.
void write_file_atomic(const fs::path& path, const std::string& content, mode_t mode = 0600);
/// Creates `path` and missing parents; directories this creates get `mode`. Returns the ones created
/// (outermost first) so that a revert can remove exactly them.
std::vector<fs::path> make_dirs(const fs::path& path, mode_t mode = 0700);
/// Removes `path` recursively if it exists (no error when absent).
void remove_tree(const fs::path& path);
/// Removes `dir` and then its parents while they are empty, never going above `stop_at`.
void remove_empty_dirs(fs::path dir, const fs::path& stop_at);
/// The last `n` lines of a file ("" when unreadable), for error messages.
std::string tail(const fs::path& path, std::size_t n = 20);
/// The last `n` lines of a text.
std::string tail_of(const std::string& text, std::size_t n = 20);

}  // namespace pglift::core
