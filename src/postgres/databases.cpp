#include "postgres/databases.hpp"

#include <algorithm>
#include <cctype>

#include "core/sql_names.hpp"
#include "core/text.hpp"
#include "pglift/errors.hpp"

namespace pglift::postgres::dbsql {

std::string create_database(const Quote& q, const DatabaseSpec& spec) {
  std::string sql = "CREATE DATABASE " + q.ident(spec.name);
  if (spec.owner) sql += " OWNER " + q.ident(*spec.owner);
  if (spec.locale) sql += " TEMPLATE template0 LOCALE " + q.literal(*spec.locale);
  if (spec.tablespace) sql += " TABLESPACE " + q.ident(*spec.tablespace);
  return sql;
}

std::string drop_database(const Quote& q, const std::string& name, bool force) {
  return "DROP DATABASE " + q.ident(name) + (force ? " WITH (FORCE)" : "");
}

std::string alter_owner(const Quote& q, const std::string& name, const std::optional<std::string>& owner) {
  return "ALTER DATABASE " + q.ident(name) + " OWNER TO " + (owner ? q.ident(*owner) : std::string("CURRENT_USER"));
}

std::string alter_tablespace(const Quote& q, const std::string& name, const std::string& tablespace) {
  return "ALTER DATABASE " + q.ident(name) + " SET TABLESPACE " + q.ident(tablespace);
}

namespace {
std::string parameter(const Quote& q, const std::string& name) {
  std::vector<std::string> parts;
  for (const auto& p : core::split(name, '.')) parts.push_back(q.ident(p));
  return core::join(parts, ".");
}
}  // namespace

std::vector<std::string> settings(const Quote& q, const std::string& name, const DatabaseSettings& settings) {
  const std::string db = "ALTER DATABASE " + q.ident(name);
  if (settings.empty()) return {db + " RESET ALL"};
  std::vector<std::string> out;
  for (const auto& [k, v] : settings) {
    core::check_setting_name("settings", k);
    out.push_back(v ? db + " SET " + parameter(q, k) + " TO " + q.literal(*v) : db + " RESET " + parameter(q, k));
  }
  return out;
}

std::vector<std::string> schema_changes(const Quote& q, const std::vector<SchemaSpec>& wanted, const Contents& current) {
  std::vector<std::string> out;
  for (const auto& s : wanted) {
    auto it = std::find_if(current.schemas.begin(), current.schemas.end(), [&](const Schema& c) { return c.name == s.name; });
    const bool exists = it != current.schemas.end();
    if (s.state == DatabaseObjectState::absent) {
      if (exists) out.push_back("DROP SCHEMA " + q.ident(s.name) + " CASCADE");
    } else if (!exists) {
      out.push_back("CREATE SCHEMA " + q.ident(s.name) + (s.owner ? " AUTHORIZATION " + q.ident(*s.owner) : std::string()));
    } else if (s.owner && *s.owner != it->owner) {
      out.push_back("ALTER SCHEMA " + q.ident(s.name) + " OWNER TO " + q.ident(*s.owner));
    }
  }
  return out;
}

std::vector<std::string> extension_changes(const Quote& q, const std::vector<ExtensionSpec>& wanted,
                                           const Contents& current) {
  std::vector<std::string> out;
  for (const auto& e : wanted) {
    auto it = std::find_if(current.extensions.begin(), current.extensions.end(),
                           [&](const Extension& c) { return c.name == e.name; });
    const bool exists = it != current.extensions.end();
    if (e.state == DatabaseObjectState::absent) {
      if (exists) out.push_back("DROP EXTENSION IF EXISTS " + q.ident(e.name) + " CASCADE");
    } else if (!exists) {
      std::string sql = "CREATE EXTENSION IF NOT EXISTS " + q.ident(e.name);
      if (e.schema) sql += " SCHEMA " + q.ident(*e.schema);
      if (e.version) sql += " VERSION " + q.literal(*e.version);
      out.push_back(sql + " CASCADE");
    } else {
      if (e.schema && *e.schema != it->schema)
        out.push_back("ALTER EXTENSION " + q.ident(e.name) + " SET SCHEMA " + q.ident(*e.schema));
      if (e.version && *e.version != it->version)
        out.push_back("ALTER EXTENSION " + q.ident(e.name) + " UPDATE TO " + q.literal(*e.version));
    }
  }
  return out;
}

namespace {
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool is_password_word(std::string_view w) {
  constexpr std::string_view p = "password";
  return w.size() == p.size() &&
         std::equal(w.begin(), w.end(), p.begin(), [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}
/// The end of the SQL string literal or dollar-quoted string starting at `i`, or npos when none starts there.
std::size_t literal_end(std::string_view s, std::size_t i) {
  bool escapes = false;
  if (i < s.size() && (s[i] == 'E' || s[i] == 'e') && i + 1 < s.size() && s[i + 1] == '\'') {
    escapes = true;
    ++i;
  }
  if (i < s.size() && s[i] == '\'') {
    for (std::size_t j = i + 1; j < s.size(); ++j) {
      if (escapes && s[j] == '\\') {
        ++j;
        continue;
      }
      if (s[j] == '\'') {
        if (j + 1 < s.size() && s[j + 1] == '\'') {
          ++j;
          continue;
        }
        return j + 1;
      }
    }
    return s.size();  // unterminated: mask to the end
  }
  if (i < s.size() && s[i] == '$') {
    auto close = s.find('$', i + 1);
    if (close == std::string_view::npos) return std::string_view::npos;
    std::string_view tag = s.substr(i, close - i + 1);
    if (!std::all_of(tag.begin() + 1, tag.end() - 1, [](char c) { return word_char(c) && c != '$'; }))
      return std::string_view::npos;
    auto end = s.find(tag, close + 1);
    return end == std::string_view::npos ? s.size() : end + tag.size();
  }
  return std::string_view::npos;
}
}  // namespace

std::string redact_sql(std::string_view sql) {
  std::string out;
  std::size_t i = 0, copied = 0;
  while (i < sql.size()) {
    if (!word_char(sql[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < sql.size() && word_char(sql[end])) ++end;
    const bool keyword = is_password_word(sql.substr(i, end - i));
    i = end;
    if (!keyword) continue;
    std::size_t start = end;
    while (start < sql.size() && std::isspace(static_cast<unsigned char>(sql[start]))) ++start;
    std::size_t stop = literal_end(sql, start);
    if (stop == std::string_view::npos) continue;
    out.append(sql.substr(copied, start - copied));
    out += "'";
    out += redacted;
    out += "'";
    copied = i = stop;
  }
  out.append(sql.substr(copied));
  return out;
}

}  // namespace pglift::postgres::dbsql
