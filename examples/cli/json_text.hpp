// JSON text helpers for the CLI's `-o json` output: the library returns compact JSON, users read it indented.
#pragma once
#include <map>
#include <string>
#include <string_view>

namespace cli {

/// Re-indents a JSON document with 2 spaces per level, as Python's json.dumps(indent=2) does;
/// whitespace outside strings is dropped, everything else is copied verbatim.
std::string indent_json(std::string_view json);

/// A JSON string literal for `text`, quotes included.
std::string quote_json(std::string_view text);

/// A compact JSON object of string values, keys in map order.
std::string json_object(const std::map<std::string, std::string>& values);

}  // namespace cli
