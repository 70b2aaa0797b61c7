#include "postgres/roles.hpp"

#include <algorithm>

#include "core/sql_names.hpp"
#include "core/text.hpp"
#include "pglift/errors.hpp"

namespace pglift::postgres {

void validate_role_name(const std::string& field, const std::string& name) { core::check_sql_name(field, name); }

RoleAttributes attributes_of(const RoleSpec& s, std::optional<std::string> encrypted_password) {
  return RoleAttributes{s.inherit,     s.login, s.superuser, s.createdb, s.createrole, s.replication,
                        s.connection_limit ? s.connection_limit : std::optional<int>(-1),
                        s.valid_until, std::move(encrypted_password)};
}

RoleAttributes attributes_of(const RoleChanges& c, std::optional<std::string> encrypted_password) {
  return RoleAttributes{c.inherit,          c.login,       c.superuser,
                        c.createdb,         c.createrole,  c.replication,
                        c.connection_limit, c.valid_until, std::move(encrypted_password)};
}

std::string role_options(const Quoter& q, const RoleAttributes& a) {
  std::string out;
  auto flag = [&out](const std::optional<bool>& v, const char* word) {
    if (v) out += std::string(*v ? " " : " NO") + word;
  };
  flag(a.inherit, "INHERIT");
  flag(a.login, "LOGIN");
  flag(a.superuser, "SUPERUSER");
  flag(a.createdb, "CREATEDB");
  flag(a.createrole, "CREATEROLE");
  flag(a.replication, "REPLICATION");
  if (a.connection_limit) out += " CONNECTION LIMIT " + std::to_string(*a.connection_limit);
  if (a.valid_until) out += " VALID UNTIL " + q.literal(*a.valid_until);
  if (a.encrypted_password) out += " PASSWORD " + q.literal(*a.encrypted_password);
  return out;
}

namespace {
std::string identifiers(const Quoter& q, const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) quoted.push_back(q.identifier(n));
  return core::join(quoted, ", ");
}
}  // namespace

std::string create_role_sql(const Quoter& q, const std::string& name, const RoleAttributes& a,
                            const std::vector<std::string>& in_roles) {
  std::string sql = "CREATE ROLE " + q.identifier(name) + role_options(q, a);
  if (!in_roles.empty()) sql += " IN ROLE " + identifiers(q, in_roles);
  return sql;
}

std::vector<std::string> alter_role_sql(const Quoter& q, const std::string& name, const RoleAttributes& a,
                                        const std::vector<std::string>& grant, const std::vector<std::string>& revoke,
                                        const std::vector<std::string>& member_of) {
  std::vector<std::string> out;
  const std::string options = role_options(q, a);
  if (!options.empty()) out.push_back("ALTER ROLE " + q.identifier(name) + options);
  auto held = [&](const std::string& r) { return std::find(member_of.begin(), member_of.end(), r) != member_of.end(); };
  std::vector<std::string> to_grant, to_revoke;
  for (const auto& r : grant)
    if (!held(r) && std::find(to_grant.begin(), to_grant.end(), r) == to_grant.end()) to_grant.push_back(r);
  for (const auto& r : revoke)
    if (held(r) && std::find(to_revoke.begin(), to_revoke.end(), r) == to_revoke.end()) to_revoke.push_back(r);
  if (!to_grant.empty()) out.push_back("GRANT " + identifiers(q, to_grant) + " TO " + q.identifier(name));
  if (!to_revoke.empty()) out.push_back("REVOKE " + identifiers(q, to_revoke) + " FROM " + q.identifier(name));
  return out;
}

std::string owned_sql(const Quoter& q, const std::string& name, const RoleDropOptions& o) {
  if (o.reassign_owned) return "REASSIGN OWNED BY " + q.identifier(name) + " TO " + q.identifier(*o.reassign_owned);
  if (o.drop_owned) return "DROP OWNED BY " + q.identifier(name);
  return {};
}

std::string drop_role_sql(const Quoter& q, const std::string& name) { return "DROP ROLE " + q.identifier(name); }

const char* const role_columns =
    "r.rolname, r.rolpassword IS NOT NULL, r.rolinherit, r.rolcanlogin, r.rolsuper, r.rolcreatedb, r.rolcreaterole, "
    "r.rolreplication, NULLIF(r.rolconnlimit, -1), to_json(r.rolvaliduntil) #>> '{}'";

Role role_of(const std::vector<std::optional<std::string>>& row) {
  auto b = [&](std::size_t i) { return row.at(i).value_or("f") == "t"; };
  Role r;
  r.name = row.at(0).value_or("");
  r.has_password = b(1);
  r.inherit = b(2);
  r.login = b(3);
  r.superuser = b(4);
  r.createdb = b(5);
  r.createrole = b(6);
  r.replication = b(7);
  if (row.at(8)) r.connection_limit = std::stoi(*row.at(8));
  r.valid_until = row.at(9);
  return r;
}

// --- passfile ---------------------------------------------------------------------------------------

namespace {

std::string escape_field(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

/// The fields of a passfile line (unescaped); fewer than 5 for a comment or a malformed line.
std::vector<std::string> fields_of(std::string_view line) {
  std::vector<std::string> fields(1);
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) fields.back() += line[++i];
    else if (line[i] == ':' && fields.size() < 5) fields.emplace_back();
    else fields.back() += line[i];
  }
  return fields;
}

bool matches(std::string_view line, const std::string& port, const std::string& role) {
  if (line.empty() || line.front() == '#') return false;
  auto f = fields_of(line);
  return f.size() == 5 && f[0] == "*" && f[1] == port && f[2] == "*" && f[3] == role;
}

}  // namespace

std::string pgpass_with(std::string_view text, int port, const std::string& role, const std::optional<std::string>& password) {
  const std::string p = std::to_string(port);
  std::vector<std::string> comments, entries;
  for (auto& line : core::split(text, '\n')) {
    if (line.empty() || matches(line, p, role)) continue;
    (line.front() == '#' ? comments : entries).push_back(line);
  }
  if (password) entries.push_back("*:" + p + ":*:" + escape_field(role) + ":" + escape_field(*password));
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto& l : comments) out += l + "\n";
  for (const auto& l : entries) out += l + "\n";
  return out;
}

std::optional<std::string> pgpass_password(std::string_view text, int port, const std::string& role) {
  const std::string p = std::to_string(port);
  for (const auto& line : core::split(text, '\n'))
    if (matches(line, p, role)) return fields_of(line).at(4);
  return std::nullopt;
}

}  // namespace pglift::postgres
