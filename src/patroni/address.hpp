// The host's address, for a member's default connect addresses (REST API, PostgreSQL): the address of
// the interface holding the default route, else the one the host name resolves to, else the only
// candidate. Several candidates and nothing to choose between them: an error asking for the options,
// never a guess (getifaddrs' first address is arbitrary on a host with several interfaces).
// The choice is pure logic on the host's tables (unit-tested with injected ones); read_host_tables()
// reads the real ones.
#pragma once
#include <string>
#include <vector>

namespace pglift::patroni {

/// A non-loopback IPv4 address of an interface that is up.
struct LocalAddress {
  std::string interface, address;
};

/// An IPv4 default route (destination 0.0.0.0/0), as /proc/net/route lists it.
struct DefaultRoute {
  std::string interface;
  long metric = 0;
};

struct HostTables {
  std::vector<LocalAddress> addresses;
  std::vector<DefaultRoute> default_routes;
  std::string host_name;
  std::vector<std::string> host_name_addresses;  ///< IPv4 addresses the host name resolves to
};

/// The default routes in the text of /proc/net/route (hex fields, little-endian): up, destination and
/// mask 0.
std::vector<DefaultRoute> default_routes_of(const std::string& proc_net_route);

/// The host's address:
///  1. the address of the interface holding the default route (the lowest metric's);
///  2. else the address the host name resolves to, when it is one of the candidates (a loopback one,
///     such as Debian's 127.0.1.1, is not);
///  3. else the only candidate;
///  4. no candidate at all: the host name (as before: a loopback-only host);
/// Several candidates left at 1 (the default route's interface has several) or 3: InvalidSpec naming
/// patroni.postgresql.connect_host, listing them, asking for --patroni-restapi-connect-address and
/// --patroni-postgresql-connect-host.
std::string choose_host_address(const HostTables& tables);

/// The host's tables: getifaddrs, /proc/net/route, gethostname and getaddrinfo.
HostTables read_host_tables();

}  // namespace pglift::patroni
