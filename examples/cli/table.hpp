// Borderless text tables, the CLI's default output for `get` and `list`.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace cli {

using Row = std::vector<std::string>;

/// Columns aligned on their widest cell, two spaces apart; the last column is not padded.
/// The header, when not empty, is the first line.
std::string render_table(const Row& header, const std::vector<Row>& rows);

/// One `key  value` line per pair, values aligned.
std::string render_key_values(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace cli
