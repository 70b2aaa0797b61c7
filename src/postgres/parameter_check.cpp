#include "postgres/parameter_check.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "core/text.hpp"
#include "pglift/errors.hpp"
#include "postgres/conf.hpp"

namespace pglift::postgres {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<double> number(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text->c_str(), &end);
  if (end == text->c_str() || *end != '\0') return std::nullopt;
  return v;
}

// Units as guc.c accepts them (case-sensitive), in bytes or milliseconds.
struct Unit {
  const char* name;
  double factor;
};
constexpr Unit memory_units[] = {{"B", 1.0}, {"kB", 1024.0}, {"MB", 1048576.0}, {"GB", 1073741824.0}, {"TB", 1099511627776.0}};
constexpr Unit time_units[] = {{"us", 0.001}, {"ms", 1.0}, {"s", 1000.0}, {"min", 60000.0}, {"h", 3600000.0}, {"d", 86400000.0}};

const Unit* find_unit(const auto& units, std::string_view name) {
  for (const auto& u : units)
    if (name == u.name) return &u;
  return nullptr;
}

/// "8kB" -> (memory, 8192); "ms" -> (time, 1); nullopt for "" or a unit we do not know.
struct ParamUnit {
  bool memory;
  double factor;
};
std::optional<ParamUnit> param_unit(std::string_view unit) {
  std::size_t i = 0;
  while (i < unit.size() && std::isdigit(static_cast<unsigned char>(unit[i]))) ++i;
  double multiple = i ? std::strtod(std::string(unit.substr(0, i)).c_str(), nullptr) : 1.0;
  auto rest = unit.substr(i);
  if (const auto* u = find_unit(memory_units, rest)) return ParamUnit{true, multiple * u->factor};
  if (const auto* u = find_unit(time_units, rest)) return ParamUnit{false, multiple * u->factor};
  return std::nullopt;
}

std::string unit_list(bool memory) {
  std::vector<std::string> names;
  if (memory)
    for (const auto& u : memory_units) names.emplace_back(u.name);
  else
    for (const auto& u : time_units) names.emplace_back(u.name);
  return core::join(names, ", ");
}

/// guc.c's parse_bool: on/off, true/false, yes/no, 1/0, and unambiguous prefixes, whatever the case.
bool is_bool_text(std::string_view text) {
  std::string v = lower(std::string(text));
  if (v.empty()) return false;
  auto prefix_of = [&](std::string_view word, std::size_t min) { return v.size() >= min && word.substr(0, v.size()) == v; };
  return prefix_of("true", 1) || prefix_of("false", 1) || prefix_of("yes", 1) || prefix_of("no", 1) || v == "on" ||
         prefix_of("off", 2) || v == "1" || v == "0";
}

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

/// The text PostgreSQL would be given: strings as such, the rest as postgresql.conf renders them.
std::string value_text(const ConfValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return render_conf_value(value);
}

void check_numeric(const std::string& name, const ParameterDescription& d, const ConfValue& value, const std::string& text) {
  const bool integer = d.vartype == "integer";
  const char* kind = integer ? "an integer" : "a number";
  if (std::holds_alternative<bool>(value)) throw InvalidSpec(name, text, std::string("expecting ") + kind);
  auto unit = param_unit(d.unit);
  std::string reason = std::string("expecting ") + kind;
  if (unit) reason += ", with an optional unit among " + unit_list(unit->memory);
  else if (!d.unit_known) reason += ", with an optional memory or time unit";
  // strtod reads integers in any base guc.c's strtol would (0x1F) and fractions it rounds.
  std::string t = core::trim(text);
  const char* begin = t.c_str();
  char* end = nullptr;
  errno = 0;
  double v = integer && (t.rfind("0x", 0) == 0 || t.rfind("0X", 0) == 0) ? static_cast<double>(std::strtoll(begin, &end, 16))
                                                                         : std::strtod(begin, &end);
  if (end == begin || errno == ERANGE || !std::isfinite(v)) throw InvalidSpec(name, text, reason);
  std::string suffix = core::trim(std::string_view(end));
  bool range_checkable = true;
  if (!suffix.empty()) {
    if (unit) {
      const Unit* given = unit->memory ? find_unit(memory_units, suffix) : find_unit(time_units, suffix);
      if (!given) throw InvalidSpec(name, text, "valid units for this parameter are " + unit_list(unit->memory));
      v = v * given->factor / unit->factor;
    } else if (!d.unit_known) {
      // --describe-config does not tell the unit: accept any valid one, the range cannot be checked.
      if (!find_unit(memory_units, suffix) && !find_unit(time_units, suffix)) throw InvalidSpec(name, text, reason);
      range_checkable = false;
    } else {
      throw InvalidSpec(name, text, std::string("expecting ") + kind + " (this parameter has no unit)");
    }
  }
  if (integer) v = std::rint(v);
  if (!range_checkable) return;
  if ((d.min && v < *d.min) || (d.max && v > *d.max)) {
    std::string range = format_number(d.min.value_or(-INFINITY)) + " .. " + format_number(d.max.value_or(INFINITY));
    if (!d.unit.empty()) range += " (" + d.unit + ")";
    throw InvalidSpec(name, text, "out of range: expecting a value in " + range);
  }
}

}  // namespace

ParameterCatalog parse_describe_config(std::string_view output) {
  ParameterCatalog catalog;
  for (const auto& line : core::split(output, '\n')) {
    auto f = core::split(line, '\t');
    if (f.size() < 7 || f[0].empty()) continue;
    ParameterDescription d;
    d.vartype = lower(f[3]);
    if (d.vartype == "boolean") d.vartype = "bool";
    d.unit_known = false;
    if (d.vartype == "integer" || d.vartype == "real") {
      d.min = number(f[5]);
      d.max = number(f[6]);
    }
    catalog[lower(f[0])] = std::move(d);
  }
  return catalog;
}

void add_pg_settings_row(ParameterCatalog& catalog, const std::vector<std::optional<std::string>>& row) {
  if (row.size() < 6 || !row[0] || !row[1]) return;
  ParameterDescription d;
  d.vartype = *row[1];
  d.unit = row[2].value_or("");
  d.min = number(row[3]);
  d.max = number(row[4]);
  if (row[5] && !row[5]->empty()) d.enumvals = core::split(*row[5], ',');
  catalog[lower(*row[0])] = std::move(d);
}

void check_parameter(const ParameterCatalog& catalog, const std::string& name, const ConfValue& value) {
  // postgresql.conf has one parameter a line: a newline in a value would add lines (`fsync = off`).
  if (const auto* s = std::get_if<std::string>(&value);
      s && std::any_of(s->begin(), s->end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    throw InvalidSpec(name, *s, "must not contain control characters (newlines, tabs...)");
  auto it = catalog.find(lower(name));
  if (it == catalog.end()) {
    auto dot = name.find('.');
    if (dot != std::string::npos && dot > 0 && dot + 1 < name.size()) {
      // A custom placeholder, unless an extension reserved that prefix (its parameters are then known).
      const std::string prefix = lower(name.substr(0, dot + 1));
      auto next = catalog.lower_bound(prefix);
      if (next == catalog.end() || next->first.rfind(prefix, 0) != 0) return;
    }
    throw InvalidSpec("parameter", name, "unrecognized configuration parameter");
  }
  const ParameterDescription& d = it->second;
  const std::string text = value_text(value);
  if (d.vartype == "bool") {
    if (std::holds_alternative<bool>(value)) return;
    if (const auto* i = std::get_if<std::int64_t>(&value); i && (*i == 0 || *i == 1)) return;
    if (std::holds_alternative<std::string>(value) && is_bool_text(text)) return;
    throw InvalidSpec(name, text, "expecting a boolean (on, off, true, false, yes, no, 1, 0)");
  }
  if (d.vartype == "integer" || d.vartype == "real") return check_numeric(name, d, value, text);
  if (d.vartype == "enum") {
    if (d.enumvals.empty()) return;  // --describe-config does not list them
    for (const auto& v : d.enumvals)
      if (lower(v) == lower(text)) return;
    // Enums that take on/off also take the hidden boolean spellings (true, yes, 1...).
    bool boolean_enum = false;
    for (const auto& v : d.enumvals) boolean_enum = boolean_enum || v == "on";
    if (boolean_enum && (std::holds_alternative<bool>(value) || is_bool_text(text))) return;
    throw InvalidSpec(name, text, "expecting one of " + core::join(d.enumvals, ", "));
  }
  // string (or a type we do not know): anything goes.
}

}  // namespace pglift::postgres
