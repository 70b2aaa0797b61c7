// The names a database operation passes to SQL (databases, roles, schemas, extensions, tablespaces,
// configuration parameters): checked before anything is done, then always quoted by libpq.
#pragma once
#include <string>

namespace pglift::core {

/// Non-empty, at most 63 bytes (NAMEDATALEN - 1), no control characters: InvalidSpec naming `field`.
void check_sql_name(const std::string& field, const std::string& value);
/// A configuration parameter name: letters, digits, '_' and '.' (a custom "ext.param").
void check_setting_name(const std::string& field, const std::string& name);

}  // namespace pglift::core
