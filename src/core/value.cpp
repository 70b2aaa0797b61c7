#include "core/value.hpp"

namespace pglift::core {

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

Value& Value::set(std::string key, Value value) {
  if (is_null()) v_ = Object{};
  auto& obj = as_object();
  for (auto& [k, v] : obj)
    if (k == key) return v = std::move(value);
  obj.emplace_back(std::move(key), std::move(value));
  return obj.back().second;
}

const char* Value::type_name() const {
  static constexpr const char* names[] = {"null", "boolean", "integer", "number", "string", "array", "object"};
  return names[v_.index()];
}

std::string short_text(const Value& value) {
  if (value.is_object()) return "{...}";
  if (value.is_array()) return "[...]";
  return to_json(value);
}

void merge(Value& base, const Value& overlay) {
  if (!base.is_object() || !overlay.is_object()) {
    base = overlay;
    return;
  }
  for (const auto& [key, value] : overlay.as_object()) {
    bool merged = false;
    for (auto& [k, v] : base.as_object())
      if (k == key) {
        merge(v, value);
        merged = true;
        break;
      }
    if (!merged) base.as_object().emplace_back(key, value);
  }
}

}  // namespace pglift::core
