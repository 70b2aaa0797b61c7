// The only TU that parses YAML for settings (yaml-cpp).
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <string>

#include "core/text.hpp"
#include "core/value.hpp"

namespace pglift::core {
namespace {

/// As parse_json: nothing invalid gets into names, paths or the JSON we return. yaml-cpp passes invalid
/// UTF-8 through, and its "\0" escape makes a NUL character.
const std::string& checked(const std::string& s) {
  if (!valid_utf8(s) || s.find('\0') != std::string::npos)
    throw ParseError("invalid YAML: a string with invalid UTF-8 or a NUL character (not shown)");
  return s;
}

Value scalar(const YAML::Node& node) {
  const std::string& s = checked(node.Scalar());
  if (node.Tag() == "!") return s;  // quoted: always a string
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  double d = 0;
  auto [pd, ecd] = std::from_chars(s.data(), s.data() + s.size(), d);
  // Finite only: JSON has no NaN nor infinity (nor has YAML's own spelling, .nan or .inf, a meaning here).
  if (ecd == std::errc() && pd == s.data() + s.size() && std::isfinite(d)) return d;
  return s;
}

/// A nesting deeper than max_json_depth (an alias inside its own anchor nests without end) and more than
/// max_yaml_values values (aliases expanded: a few lines may stand for billions) are refused.
Value convert(const YAML::Node& node, std::size_t depth, std::size_t& values) {
  if (++values > max_yaml_values)
    throw ParseError("invalid YAML: more than " + std::to_string(max_yaml_values) + " values (aliases expanded)");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar(node);
    case YAML::NodeType::Sequence:
    case YAML::NodeType::Map: break;
  }
  if (depth >= max_json_depth)
    throw ParseError("invalid YAML: nesting deeper than " + std::to_string(max_json_depth) +
                     " levels (or an alias inside its own anchor)");
  if (node.Type() == YAML::NodeType::Sequence) {
    Array a;
    for (const auto& item : node) a.push_back(convert(item, depth + 1, values));
    return a;
  }
  Object o;
  for (const auto& kv : node) o.emplace_back(checked(kv.first.as<std::string>()), convert(kv.second, depth + 1, values));
  return o;
}

/// The shortest text that reads back as the same double, and as a double: 127.0, not 127 (an integer).
std::string double_text(double x) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  std::string text(buf, end);
  if (text.find_first_of(".eEni") == std::string::npos) text += ".0";
  return text;
}

void emit(YAML::Emitter& out, const Value& value) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) out << YAML::Null;
        else if constexpr (std::is_same_v<T, bool>) out << (x ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::int64_t>) out << x;
        else if constexpr (std::is_same_v<T, double>) out << double_text(x);
        else if constexpr (std::is_same_v<T, std::string>) out << YAML::DoubleQuoted << x;
        else if constexpr (std::is_same_v<T, Array>) {
          out << YAML::BeginSeq;
          for (const auto& item : x) emit(out, item);
          out << YAML::EndSeq;
        } else {
          out << YAML::BeginMap;
          for (const auto& [k, v] : x) {
            // YAML allows an implicit key of 1024 characters at most (escapes included): a longer one
            // is written as an explicit key ("? key").
            if (k.size() > 128) out << YAML::LongKey;
            out << YAML::Key << k << YAML::Value;
            emit(out, v);
          }
          out << YAML::EndMap;
        }
      },
      value.variant());
}

}  // namespace

std::string to_yaml(const Value& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

Value parse_yaml(std::string_view text) {
  try {
    std::size_t values = 0;
    return convert(YAML::Load(std::string(text)), 0, values);
  } catch (const YAML::Exception& e) {
    throw ParseError(std::string("invalid YAML: ") + e.what());
  }
}

}  // namespace pglift::core
