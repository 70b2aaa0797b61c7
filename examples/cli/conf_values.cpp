#include "conf_values.hpp"

#include <cctype>
#include <charconv>
#include <system_error>

namespace cli {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string unquote(std::string_view quoted) {
  std::string out;
  std::string_view inner = quoted.substr(1, quoted.size() - 2);
  for (std::size_t i = 0; i < inner.size(); ++i) {
    char c = inner[i];
    if ((c == '\'' || c == '\\') && i + 1 < inner.size()) {
      char next = inner[++i];
      out += c == '\\' && next == 'n' ? '\n' : c == '\\' && next == 't' ? '\t' : next;
    } else {
      out += c;
    }
  }
  return out;
}

template <class Number>
std::optional<Number> whole_number(std::string_view text) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// Digits with a point and/or an exponent; not "inf" or "nan", which PostgreSQL reads as words.
bool looks_decimal(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  return !digits.empty() && (std::isdigit(static_cast<unsigned char>(digits.front())) || digits.front() == '.');
}

std::string shortest(double value) {
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return std::string(text, end);
}

}  // namespace

pglift::ConfValue parse_conf_value(std::string_view text) {
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') return unquote(text);
  std::string word = lower(text);
  if (word == "on" || word == "true" || word == "yes") return true;
  if (word == "off" || word == "false" || word == "no") return false;
  std::string_view number = text;
  if (!number.empty() && number.front() == '+') {  // from_chars takes '-' but no '+'
    number.remove_prefix(1);
    if (!number.empty() && number.front() == '-') return std::string(text);
  }
  if (auto integer = whole_number<std::int64_t>(number)) return *integer;
  if (looks_decimal(number))
    if (auto decimal = whole_number<double>(number)) return *decimal;
  return std::string(text);
}

std::string conf_text(const pglift::ConfValue& value) {
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "on" : "off";
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  if (const auto* decimal = std::get_if<double>(&value)) return shortest(*decimal);
  std::string out = "'";
  for (char c : std::get<std::string>(value)) {
    if (c == '\'') out += "''";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out + "'";
}

std::string change_text(const std::optional<pglift::ConfValue>& value) {
  if (!value) return "None";
  if (const auto* flag = std::get_if<bool>(&*value)) return *flag ? "True" : "False";
  if (const auto* integer = std::get_if<std::int64_t>(&*value)) return std::to_string(*integer);
  if (const auto* decimal = std::get_if<double>(&*value)) {
    std::string text = shortest(*decimal);
    if (text.find_first_of(".en") == std::string::npos) text += ".0";  // Python's repr of a whole float
    return text;
  }
  return std::get<std::string>(*value);
}

}  // namespace cli
