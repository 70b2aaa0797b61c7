// A dynamic document (null, bool, int, double, string, array, ordered object) that JSON and YAML parse
// into: it keeps RapidJSON and yaml-cpp inside json.cpp and yaml.cpp.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pglift::core {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;  // insertion-ordered

class Value {
 public:
  using Variant = std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object>;
  Value() : v_(nullptr) {}
  Value(std::nullptr_t) : v_(nullptr) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(std::int64_t{i}) {}
  Value(std::int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(v_); }
  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }
  const Variant& variant() const { return v_; }

  /// Object member lookup; nullptr when absent or when this is not an object.
  const Value* find(std::string_view key) const;
  /// Sets (replacing) an object member; turns a null into an empty object first.
  Value& set(std::string key, Value value);
  /// A name for error messages: "string", "integer", ...
  const char* type_name() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  Variant v_;
};

struct ParseError : std::runtime_error {
  explicit ParseError(const std::string& what, std::string field = {}) : std::runtime_error(what), field(std::move(field)) {}
  /// The path of the field where the text went wrong ("patroni.etcd.hosts[1]"), when known.
  std::string field;
};

/// What parse_json accepts at most: a bound on the stack its (recursive) parser may use, and on memory.
inline constexpr std::size_t max_json_depth = 64;
inline constexpr std::size_t max_json_bytes = 4 << 20;

/// Throws ParseError: "invalid JSON at offset 37 (line 2, column 5): <reason>", never quoting the text.
/// Refused: more than max_json_bytes, nesting deeper than max_json_depth, a NUL byte, invalid UTF-8.
Value parse_json(std::string_view text);
std::string to_json(const Value& value, bool pretty = false);
/// What parse_yaml gives at most: aliases are expanded, and a few lines of them may stand for billions.
inline constexpr std::size_t max_yaml_values = 1 << 20;
/// Throws ParseError. Refused as by parse_json: nesting deeper than max_json_depth (an alias inside its
/// own anchor too), a NUL character, invalid UTF-8; and more than max_yaml_values values.
Value parse_yaml(std::string_view text);
/// Block-style YAML; every string double-quoted so that PyYAML never reads 'on' or '5432' as non-strings.
std::string to_yaml(const Value& value);

/// How an error message shows a value: the JSON text of a scalar, "{...}" or "[...]" for an object or an
/// array (a sub-document may be large, and may hold secrets). Secret fields go further: see InvalidSpec.
std::string short_text(const Value& value);

/// Recursive merge: objects merge member by member, anything else in overlay replaces base.
void merge(Value& base, const Value& overlay);

}  // namespace pglift::core
