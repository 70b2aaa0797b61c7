// postgresql.conf values on the command line: `pgconf set name=value` reads them as postgresql.conf
// does, `pgconf show` writes them as in the file, change reports print them as pglift (Python) does.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <pglift/instance.hpp>

namespace cli {

/// A VALUE as postgresql.conf reads it: 'quoted' is a string (quotes removed, '' and \' unescaped);
/// on/off/true/false/yes/no (any case) a boolean; an integer; a decimal number (1.5, .5, 1e3); else
/// the text itself as a string ("8MB", "iso, mdy", "").
pglift::ConfValue parse_conf_value(std::string_view text);

/// As written in postgresql.conf: strings single-quoted (' and \ escaped), booleans on/off.
std::string conf_text(const pglift::ConfValue& value);

/// As pglift prints a change ("work_mem: None -> 8MB"): None when absent, True/False, strings bare,
/// decimals as Python's repr (2.0).
std::string change_text(const std::optional<pglift::ConfValue>& value);

}  // namespace cli
