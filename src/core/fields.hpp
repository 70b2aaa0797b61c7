// Reading JSON documents field by field, for every public value with a JSON face (instances, roles,
// databases, changes...): errors name the field by its path and the expected type, and never quote the
// document (a sub-document is shown as {...}, a secret not at all: see core::short_text, InvalidSpec).
#pragma once
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/value.hpp"
#include "pglift/errors.hpp"
#include "pglift/instance.hpp"

namespace pglift::core {

inline Value conf_to_value(const ConfValue& v) {
  return std::visit([](const auto& x) -> Value { return Value(x); }, v);
}

inline ConfValue value_to_conf(const std::string& field, const Value& v) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int();
  if (v.is_double()) return v.as_double();
  if (v.is_string()) return v.as_string();
  throw InvalidSpec(field, short_text(v), std::string("expecting a string, number or boolean, got ") + v.type_name());
}

inline Value conf_object(const ConfParameters& params) {
  Object o;
  for (const auto& [k, v] : params) o.emplace_back(k, conf_to_value(v));
  return o;
}

/// "expecting a string, got object": type errors show the expected type, and the value only as
/// short_text does (never a whole sub-document; InvalidSpec hides secret fields).
inline std::string expecting(const char* expected, const Value& v) {
  return std::string("expecting ") + expected + ", got " + v.type_name();
}

/// Reads a JSON object field by field; unknown fields are rejected naming them. Errors name nested fields
/// by their path ("patroni.restapi.listen").
class Fields {
 public:
  /// A document's top level: its fields are named bare ("login"), `what` names the document in messages.
  struct TopLevel {};

  /// An object at `what` ("patroni.restapi"): its fields are named "patroni.restapi.listen". The
  /// instance manifest is the exception ("instance": its fields are named bare, as pglift does).
  Fields(const Value& v, std::string what) : Fields(v, what, what == "instance" ? std::string() : what) {}
  Fields(const Value& v, std::string what, TopLevel) : Fields(v, std::move(what), std::string()) {}
  const Value* get(const std::string& key) {
    used_.insert(key);
    const Value* v = v_.find(key);
    return v && !v->is_null() ? v : nullptr;
  }
  std::optional<std::string> str(const std::string& key) {
    const Value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw InvalidSpec(path(key), short_text(*v), expecting("a string", *v));
    return v->as_string();
  }
  std::optional<std::int64_t> integer(const std::string& key) {
    const Value* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_int()) return v->as_int();
    if (v->is_string()) {  // "5432" is accepted, like pydantic does
      const auto& s = v->as_string();
      if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit) && s.size() < 10) return std::stoll(s);
    }
    throw InvalidSpec(path(key), short_text(*v), expecting("an integer", *v));
  }
  std::optional<bool> boolean(const std::string& key) {
    const Value* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) throw InvalidSpec(path(key), short_text(*v), expecting("a boolean", *v));
    return v->as_bool();
  }
  /// An array of strings ("in_roles": ["a", "b"]); an item of another type is named by its index
  /// ("in_roles[1]"). Absent or null: empty.
  std::vector<std::string> strings(const std::string& key, const char* expected = "an array of strings") {
    const Value* v = get(key);
    if (!v) return {};
    if (!v->is_array()) throw InvalidSpec(path(key), short_text(*v), expecting(expected, *v));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v->as_array().size(); ++i) {
      const Value& item = v->as_array()[i];
      if (!item.is_string()) throw InvalidSpec(path(key) + "[" + std::to_string(i) + "]", short_text(item), expecting("a string", item));
      out.push_back(item.as_string());
    }
    return out;
  }
  void reject_unknown(const std::set<std::string>& ignored = {}) const {
    for (const auto& [k, _] : v_.as_object())
      if (!used_.count(k) && !ignored.count(k)) throw InvalidSpec(path(k), "", "unknown field in " + what_);
  }
  /// The path of a member in errors.
  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

 private:
  Fields(const Value& v, std::string what, std::string prefix) : v_(v), what_(std::move(what)), prefix_(std::move(prefix)) {
    if (!v.is_object()) throw InvalidSpec(prefix_.empty() ? what_ : prefix_, short_text(v), expecting("an object", v));
  }

  const Value& v_;
  std::string what_, prefix_;
  std::set<std::string> used_;
};

/// Parses a document; a syntax error is InvalidSpec::malformed(what): the offset, the field and the reason,
/// never the text.
inline Value parse(const std::string& json, const char* what) {
  try {
    return parse_json(json);
  } catch (const ParseError& e) {
    throw InvalidSpec::malformed(what, e.what(), e.field);  // the offset, the field and the reason, never the text
  }
}

}  // namespace pglift::core
