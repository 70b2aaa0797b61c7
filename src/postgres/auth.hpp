// pg_hba.conf and pg_ident.conf, written whole at creation (secure defaults: peer + scram, never trust).
#pragma once
#include <string>

#include "pglift/instance.hpp"
#include "pglift/settings.hpp"
#include "postgres/layout.hpp"

namespace pglift::postgres {

struct AuthMethods {
  std::string local, host, hostssl;
  static AuthMethods of(const Settings& settings, const AuthSpec& spec);
};

/// The peer/ident map linking the OS user to the superuser role.
inline constexpr const char* ident_map = "pglift";

std::string render_hba(const Settings& settings, const Layout& layout, const AuthMethods& auth);
std::string render_ident(const Settings& settings, const Layout& layout);

}  // namespace pglift::postgres
