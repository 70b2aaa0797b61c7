#include "core/diff.hpp"

#include <algorithm>
#include <vector>

#include "core/text.hpp"

namespace pglift::core {

namespace {
std::vector<std::string> lines_of(std::string_view text) {
  auto lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the final newline ends a line
  return lines;
}
}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, const std::string& label_before,
                         const std::string& label_after) {
  const auto a = lines_of(before), b = lines_of(after);
  const std::size_t n = a.size(), m = b.size();
  // Longest common subsequence, table from the ends (files of a few hundred lines at most).
  std::vector<std::vector<unsigned>> lcs(n + 1, std::vector<unsigned>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  struct Op {
    char kind;  // ' ', '-', '+'
    std::size_t i, j;  // positions in a and b before this line
  };
  std::vector<Op> ops;
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) ops.push_back({' ', i++, j++});
    else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) ops.push_back({'+', i, j++});
    else ops.push_back({'-', i++, j});
  }
  if (std::all_of(ops.begin(), ops.end(), [](const Op& o) { return o.kind == ' '; })) return {};
  std::string out = "--- " + label_before + "\n+++ " + label_after + "\n";
  constexpr std::size_t context = 3;
  std::size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    std::size_t start = k >= context ? k - context : 0, end = k;
    // Extend the hunk while the next change is within 2 * context lines.
    for (;;) {
      while (end < ops.size() && ops[end].kind != ' ') ++end;
      std::size_t next = end;
      while (next < ops.size() && ops[next].kind == ' ') ++next;
      if (next < ops.size() && next - end <= 2 * context) {
        end = next;
        continue;
      }
      end = std::min(ops.size(), end + context);
      break;
    }
    std::size_t a_count = 0, b_count = 0;
    for (std::size_t x = start; x < end; ++x) {
      if (ops[x].kind != '+') ++a_count;
      if (ops[x].kind != '-') ++b_count;
    }
    auto range = [](std::size_t first, std::size_t count) {
      return std::to_string(count ? first + 1 : first) + (count == 1 ? "" : "," + std::to_string(count));
    };
    out += "@@ -" + range(ops[start].i, a_count) + " +" + range(ops[start].j, b_count) + " @@\n";
    for (std::size_t x = start; x < end; ++x)
      out += std::string(1, ops[x].kind) + (ops[x].kind == '+' ? b[ops[x].j] : a[ops[x].i]) + "\n";
    k = end;
  }
  return out;
}

}  // namespace pglift::core
