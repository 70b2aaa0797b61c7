#include "postgres/hba.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/text.hpp"
#include "pglift/errors.hpp"

namespace pglift {

namespace {

constexpr std::array connection_types{"host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"};
constexpr std::array methods{"trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi", "ident",
                             "peer", "ldap", "radius", "cert", "pam", "bsd"};

template <std::size_t N>
bool one_of(const std::string& v, const std::array<const char*, N>& set) {
  return std::any_of(set.begin(), set.end(), [&](const char* s) { return v == s; });
}

bool ip_address(const std::string& text) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

/// A database or role name as pg_hba takes it unquoted: keywords, names, +group for roles.
bool plain_name(const std::string& name, bool role) {
  std::string_view v = name;
  if (role && !v.empty() && v.front() == '+') v.remove_prefix(1);
  return !v.empty() && v.size() <= 63 && std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return core::is_ascii_alnum(c) || c == '_' || c == '$' || c == '-' || c == '.';
  });
}

void check_names(const char* field, const std::vector<std::string>& names, bool role) {
  if (names.empty()) throw InvalidSpec(field, "", "expecting at least one name (or all)");
  for (const auto& n : names)
    if (!plain_name(n, role))
      throw InvalidSpec(field, n, std::string("expecting ") + (role ? "a role name (+group for members)" : "a database name") +
                                      ": ASCII letters, digits, '_', '$', '-', '.'; at most 63 characters");
}

}  // namespace

void HbaRecord::validate() const {
  if (connection) {
    const auto& c = *connection;
    if (!one_of(c.type, connection_types))
      throw InvalidSpec("connection.type", c.type, "expecting host, hostssl, hostnossl, hostgssenc or hostnogssenc");
    if (!c.address || c.address->empty()) throw InvalidSpec::missing("connection.address", "a host record needs an address");
    const std::string& a = *c.address;
    auto slash = a.find('/');
    bool ip = false;
    if (slash != std::string::npos) {
      const std::string bits = a.substr(slash + 1);
      const std::string host = a.substr(0, slash);
      const int max = host.find(':') != std::string::npos ? 128 : 32;
      if (!ip_address(host) || bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit) ||
          std::stoi(bits) > max)
        throw InvalidSpec("connection.address", a, "expecting an IP address with a prefix length (10.0.0.0/8, ::1/128)");
    } else if (ip_address(a)) {
      ip = true;
    } else if (a.size() > 253 || !std::all_of(a.begin(), a.end(), [](unsigned char ch) {
                 return core::is_ascii_alnum(ch) || ch == '.' || ch == '-' || ch == '_';
               })) {
      throw InvalidSpec("connection.address", a, "expecting an IP address, a host name, all, samehost or samenet");
    }
    if (c.netmask) {
      if (!ip) throw InvalidSpec("connection.netmask", *c.netmask, "a netmask goes with an IP address given without /prefix");
      if (!ip_address(*c.netmask) || (c.netmask->find(':') != std::string::npos) != (a.find(':') != std::string::npos))
        throw InvalidSpec("connection.netmask", *c.netmask, "expecting an IP mask of the address's family (255.255.255.0)");
    } else if (ip) {
      throw InvalidSpec::missing("connection.netmask", "an IP address without /prefix needs a netmask (or use 10.0.0.1/32)");
    }
  }
  check_names("database", database, false);
  check_names("user", user, true);
  if (!one_of(method, methods))
    throw InvalidSpec("method", method, "expecting one of trust, reject, scram-sha-256, md5, password, gss, sspi, ident, "
                                        "peer, ldap, radius, cert, pam, bsd");
  for (const auto& o : options) {
    auto eq = o.find('=');
    const std::string name = o.substr(0, eq);
    const bool name_ok = eq != std::string::npos && eq > 0 &&
                         std::all_of(name.begin(), name.end(), [](unsigned char ch) { return core::is_ascii_alnum(ch) || ch == '_'; });
    // The value may be a secret (ldapbindpasswd): never shown.
    if (!name_ok) throw InvalidSpec("options", name.empty() ? o : name, "expecting name=value");
    const std::string value = o.substr(eq + 1);
    if (value.empty() || !std::all_of(value.begin(), value.end(), [](unsigned char ch) {
          return ch > 0x20 && ch < 0x7f && ch != '#' && ch != '"' && ch != '\'' && ch != '\\';
        }))
      throw InvalidSpec("options", name + "=" + std::string(redacted),
                        "expecting a value of printable ASCII without blanks, quotes, '\\' or '#'");
  }
}

std::string HbaRecord::line() const {
  std::string type = connection ? connection->type : "local";
  std::string address;
  if (connection) address = *connection->address + (connection->netmask ? " " + *connection->netmask : "");
  std::string method_part = method;
  for (const auto& o : options) method_part += " " + o;
  return fmt::format("{:<7} {:<15} {:<15} {:<23} {}", type, core::join(database, ","), core::join(user, ","), address,
                     method_part);
}

namespace postgres {

std::vector<std::string> hba_tokens(std::string_view line) {
  std::vector<std::string> tokens;
  std::string cur;
  bool quoted = false, in_token = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      cur += c;
      in_token = true;
    } else if (!quoted && c == '#') {
      break;
    } else if (!quoted && (c == ' ' || c == '\t' || c == '\r')) {
      if (in_token) tokens.push_back(std::exchange(cur, {}));
      in_token = false;
    } else {
      cur += c;
      in_token = true;
    }
  }
  if (in_token) tokens.push_back(cur);
  return tokens;
}

HbaEdit add_hba(const std::vector<std::string>& lines, const std::vector<HbaRecord>& records) {
  HbaEdit e{lines, {}, {}};
  for (const auto& r : records) {
    const std::string line = r.line();
    const auto tokens = hba_tokens(line);
    if (std::any_of(e.lines.begin(), e.lines.end(), [&](const std::string& l) { return hba_tokens(l) == tokens; })) continue;
    e.lines.push_back(line);
    e.added.push_back(line);
  }
  return e;
}

HbaEdit remove_hba(const std::vector<std::string>& lines, const std::vector<HbaRecord>& records) {
  HbaEdit e{{}, {}, {}};
  std::vector<std::vector<std::string>> wanted;
  for (const auto& r : records) wanted.push_back(hba_tokens(r.line()));
  std::vector<bool> found(wanted.size(), false);
  for (const auto& l : lines) {
    const auto tokens = hba_tokens(l);
    bool matched = false;
    // Every record equal to the line is found (the same record may be given twice).
    for (std::size_t i = 0; i < wanted.size() && !tokens.empty(); ++i)
      if (wanted[i] == tokens) found[i] = matched = true;
    if (!matched) {
      e.lines.push_back(l);
      continue;
    }
    e.removed.push_back(l);
  }
  for (std::size_t i = 0; i < records.size(); ++i)
    if (!found[i]) throw NotFound("pg_hba record", core::join(wanted[i], " "));
  return e;
}

}  // namespace postgres
}  // namespace pglift
