// The pg_hba authentication methods accepted for local and host connections (hostssl: host + cert).
#pragma once
#include <set>
#include <string>

namespace pglift::core {

inline const std::set<std::string> local_auth_methods = {"trust", "reject", "md5",   "password", "scram-sha-256",
                                                         "sspi",  "ident",  "peer", "pam",      "ldap", "radius"};
inline const std::set<std::string> host_auth_methods = {"trust", "reject", "md5",   "password", "scram-sha-256",
                                                        "gss",   "sspi",   "ident", "pam",      "ldap", "radius"};

}  // namespace pglift::core
