#include "json_text.hpp"

#include <cstdio>

namespace cli {
namespace {

class Indenter {
 public:
  explicit Indenter(std::string_view json) : in_(json) {}

  std::string run() {
    while (pos_ < in_.size()) step(in_[pos_]);
    out_ += '\n';
    return std::move(out_);
  }

 private:
  void step(char c) {
    switch (c) {
      case '"': copy_string(); return;
      case '{': case '[': open(c); return;
      case '}': case ']': close(c); return;
      case ',': out_ += ','; newline(); break;
      case ':': out_ += ": "; break;
      case ' ': case '\t': case '\n': case '\r': break;
      default: out_ += c;
    }
    ++pos_;
  }

  // Empty containers stay on one line ("{}", "[]"), like Python's json module.
  void open(char c) {
    ++pos_;
    skip_blanks();
    char closing = c == '{' ? '}' : ']';
    if (pos_ < in_.size() && in_[pos_] == closing) {
      out_ += c;
      out_ += closing;
      ++pos_;
      return;
    }
    out_ += c;
    ++depth_;
    newline();
  }

  void close(char c) {
    --depth_;
    newline();
    out_ += c;
    ++pos_;
  }

  void copy_string() {
    std::size_t start = pos_++;
    while (pos_ < in_.size() && in_[pos_] != '"') pos_ += in_[pos_] == '\\' ? 2U : 1U;
    ++pos_;
    out_.append(in_.substr(start, pos_ - start));
  }

  void skip_blanks() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\t' || in_[pos_] == '\r')) ++pos_;
  }

  void newline() {
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth_ > 0 ? depth_ : 0) * 2, ' ');
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::string out_;
};

}  // namespace

std::string indent_json(std::string_view json) { return Indenter(json).run(); }

std::string quote_json(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  return out + '"';
}

std::string json_object(const std::map<std::string, std::string>& values) {
  std::string out = "{";
  for (const auto& [key, value] : values) {
    if (out.size() > 1) out += ',';
    out += quote_json(key) + ':' + quote_json(value);
  }
  return out + '}';
}

}  // namespace cli
