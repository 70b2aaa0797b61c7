#include "core/text.hpp"

#include <stdexcept>

namespace pglift::core {

namespace {
template <class OnVar, class OnText>
void scan(std::string_view t, OnVar on_var, OnText on_text) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      on_text('{');
      ++i;
    } else if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      on_text('}');
      ++i;
    } else if (c == '{') {
      auto end = t.find('}', i);
      if (end == std::string_view::npos) throw std::invalid_argument("unbalanced '{' in template");
      on_var(std::string(t.substr(i + 1, end - i - 1)));
      i = end;
    } else {
      on_text(c);
    }
  }
}
}  // namespace

std::string render(std::string_view tmpl, const std::map<std::string, std::string>& vars) {
  std::string out;
  scan(
      tmpl,
      [&](const std::string& key) {
        auto it = vars.find(key);
        if (it == vars.end()) throw std::out_of_range("unknown template variable '" + key + "'");
        out += it->second;
      },
      [&](char c) { out += c; });
  return out;
}

std::set<std::string> template_variables(std::string_view tmpl) {
  std::set<std::string> vars;
  scan(tmpl, [&](const std::string& key) { vars.insert(key); }, [](char) {});
  return vars;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string quote_conf(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    // PostgreSQL's lexer (guc-file.l) reads these escapes in a quoted value; a raw newline ends the entry.
    switch (c) {
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      case '\'': out += '\''; break;
      case '\\': out += '\\'; break;
      default: break;
    }
    out += c;
  }
  return out + "'";
}

std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0u; };
  const unsigned c = byte(0);
  const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return byte(k) >= lo && byte(k) <= hi; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace pglift::core
