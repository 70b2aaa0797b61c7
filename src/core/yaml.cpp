// The only TU that parses YAML for settings (yaml-cpp).
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <string>

#include "core/value.hpp"

namespace pglift::core {
namespace {

Value scalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  double d = 0;
  auto [pd, ecd] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ecd == std::errc() && pd == s.data() + s.size()) return d;
  return s;
}

Value convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar(node);
    case YAML::NodeType::Sequence: {
      Array a;
      for (const auto& item : node) a.push_back(convert(item));
      return a;
    }
    case YAML::NodeType::Map: {
      Object o;
      for (const auto& kv : node) o.emplace_back(kv.first.as<std::string>(), convert(kv.second));
      return o;
    }
  }
  return nullptr;
}

void emit(YAML::Emitter& out, const Value& value) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) out << YAML::Null;
        else if constexpr (std::is_same_v<T, bool>) out << (x ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::int64_t>) out << x;
        else if constexpr (std::is_same_v<T, double>) out << x;
        else if constexpr (std::is_same_v<T, std::string>) out << YAML::DoubleQuoted << x;
        else if constexpr (std::is_same_v<T, Array>) {
          out << YAML::BeginSeq;
          for (const auto& item : x) emit(out, item);
          out << YAML::EndSeq;
        } else {
          out << YAML::BeginMap;
          for (const auto& [k, v] : x) {
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
    return convert(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    throw ParseError(std::string("invalid YAML: ") + e.what());
  }
}

}  // namespace pglift::core
