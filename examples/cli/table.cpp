#include "table.hpp"

#include <algorithm>

namespace cli {
namespace {

std::vector<std::size_t> column_widths(const std::vector<Row>& lines) {
  std::vector<std::size_t> widths;
  for (const Row& line : lines) {
    if (widths.size() < line.size()) widths.resize(line.size(), 0);
    for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  return widths;
}

std::string render_line(const Row& line, const std::vector<std::size_t>& widths) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    out += line[i];
    if (i + 1 < line.size()) out.append(widths[i] - line[i].size() + 2, ' ');
  }
  return out + '\n';
}

}  // namespace

std::string render_table(const Row& header, const std::vector<Row>& rows) {
  std::vector<Row> lines;
  if (!header.empty()) lines.push_back(header);
  lines.insert(lines.end(), rows.begin(), rows.end());
  auto widths = column_widths(lines);
  std::string out;
  for (const Row& line : lines) out += render_line(line, widths);
  return out;
}

std::string render_key_values(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<Row> rows;
  for (const auto& [key, value] : pairs) rows.push_back({key, value});
  return render_table({}, rows);
}

}  // namespace cli
