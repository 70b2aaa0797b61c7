// Checking postgresql.conf values against what the server knows of its parameters (pg_settings when it
// runs, `postgres --describe-config` otherwise), before any file is written. Pure logic: no I/O here.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pglift/instance.hpp"

namespace pglift::postgres {

/// One parameter as pg_settings (or --describe-config) describes it.
struct ParameterDescription {
  std::string vartype;                    ///< "bool", "integer", "real", "enum", "string"
  std::string unit{};                     ///< pg_settings.unit: "8kB", "kB", "MB", "ms", "s", "min"...; "" when none
  bool unit_known = true;                 ///< false from --describe-config (it does not tell the unit)
  std::optional<double> min{}, max{};     ///< in `unit`
  std::vector<std::string> enumvals{};    ///< empty from --describe-config (it does not list them)
};
using ParameterCatalog = std::map<std::string, ParameterDescription>;

/// The tab-separated output of `postgres --describe-config` (name, context, group, type, reset, min,
/// max, descriptions). Lines that are not 7+ fields are skipped.
ParameterCatalog parse_describe_config(std::string_view output);

/// One row of `SELECT name, vartype, unit, min_val, max_val, array_to_string(enumvals, ',') FROM
/// pg_settings` (nulls as nullopt).
void add_pg_settings_row(ParameterCatalog& catalog, const std::vector<std::optional<std::string>>& row);

/// Throws InvalidSpec when PostgreSQL would refuse `value` for `name`:
///  - an unknown name (field "parameter"); a dotted name (`myext.setting`) is a custom placeholder that
///    PostgreSQL accepts, unless its prefix is one the catalog knows (then it must be listed);
///  - a wrong type, an enum value not listed, a unit not valid for the parameter, or a value out of
///    [min, max] once converted to the parameter's unit (field: the parameter's name, value shown).
void check_parameter(const ParameterCatalog& catalog, const std::string& name, const ConfValue& value);

}  // namespace pglift::postgres
