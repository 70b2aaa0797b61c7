#include "postgres/auth.hpp"

#include <fmt/format.h>

#include "core/system.hpp"
#include "core/text.hpp"
#include "postgres/conf.hpp"

namespace pglift::postgres {

AuthMethods AuthMethods::of(const Settings& settings, const AuthSpec& spec) {
  const auto& site = settings.postgresql.auth;
  return {spec.local.value_or(site.local), spec.host.value_or(site.host), spec.hostssl.value_or(site.hostssl)};
}

namespace {
std::string with_map(const std::string& method) {
  return method == "peer" || method == "ident" ? method + " map=" + ident_map : method;
}

std::map<std::string, std::string> template_vars(const Settings& settings, const AuthMethods* auth) {
  std::map<std::string, std::string> vars{
      {"surole", settings.postgresql.surole.name},
      {"replrole", settings.postgresql.replrole.value_or("")},
      {"sysuser", core::current_user().name},
      {"map", ident_map},
  };
  if (auth) {
    vars["auth.local"] = auth->local;
    vars["auth.host"] = auth->host;
    vars["auth.hostssl"] = auth->hostssl;
  }
  return vars;
}
}  // namespace

std::string render_hba(const Settings& settings, const Layout& layout, const AuthMethods& auth) {
  if (auto tmpl = site_template(settings, layout.version, "postgresql/pg_hba.conf"))
    return core::render(*tmpl, template_vars(settings, &auth));
  const auto& surole = settings.postgresql.surole.name;
  std::string out = "# pg_hba.conf of instance " + layout.display() + ", written by libpglift.\n";
  out += "# TYPE  DATABASE        USER            ADDRESS                 METHOD\n";
  auto line = [&out](const char* type, const char* db, const std::string& user, const char* addr, const std::string& method) {
    out += fmt::format("{:<7} {:<15} {:<15} {:<23} {}\n", type, db, user, addr, method);
  };
  line("local", "all", surole, "", with_map(auth.local));
  line("local", "all", "all", "", with_map(auth.local));
  line("host", "all", "all", "127.0.0.1/32", auth.host);
  line("host", "all", "all", "::1/128", auth.host);
  if (const auto& repl = settings.postgresql.replrole) {
    line("local", "replication", *repl, "", with_map(auth.local));
    line("host", "replication", *repl, "127.0.0.1/32", auth.host);
    line("host", "replication", *repl, "::1/128", auth.host);
  }
  return out;
}

std::string render_ident(const Settings& settings, const Layout& layout) {
  if (auto tmpl = site_template(settings, layout.version, "postgresql/pg_ident.conf"))
    return core::render(*tmpl, template_vars(settings, nullptr));
  const auto& user = core::current_user().name;
  std::string out = "# pg_ident.conf of instance " + layout.display() + ", written by libpglift.\n";
  out += "# MAPNAME       SYSTEM-USERNAME         PG-USERNAME\n";
  auto line = [&out](const std::string& sys, const std::string& pg) {
    out += fmt::format("{:<15} {:<23} {}\n", ident_map, sys, pg);
  };
  line(user, settings.postgresql.surole.name);
  if (const auto& repl = settings.postgresql.replrole) line(user, *repl);
  line("/^(.*)$", "\\1");  // everyone else keeps peer's usual meaning: OS user = role
  return out;
}

}  // namespace pglift::postgres
