#include "patroni/address.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>

#include "core/files.hpp"
#include "core/text.hpp"
#include "pglift/errors.hpp"

namespace pglift::patroni {
namespace {

constexpr unsigned route_up = 0x1;  // RTF_UP

std::optional<std::uint32_t> hex_field(const std::string& text) {
  try {
    std::size_t used = 0;
    const unsigned long v = std::stoul(text, &used, 16);
    if (used != text.size()) return std::nullopt;
    return static_cast<std::uint32_t>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> addresses_of(const std::vector<LocalAddress>& addresses, const std::string& interface) {
  std::vector<std::string> out;
  for (const auto& a : addresses)
    if (a.interface == interface && std::find(out.begin(), out.end(), a.address) == out.end()) out.push_back(a.address);
  return out;
}

std::string listed(const std::vector<LocalAddress>& addresses) {
  std::vector<std::string> parts;
  for (const auto& a : addresses) parts.push_back(a.interface + " " + a.address);
  return core::join(parts, ", ");
}

[[noreturn]] void ambiguous(const std::string& why, const std::vector<LocalAddress>& candidates) {
  throw InvalidSpec::missing(
      "patroni.postgresql.connect_host",
      "cannot choose this host's address for the Patroni member: " + why + " (" + listed(candidates) +
          "); give --patroni-restapi-connect-address and --patroni-postgresql-connect-host (spec: "
          "patroni.restapi.connect_address, patroni.postgresql.connect_host)");
}

}  // namespace

std::vector<DefaultRoute> default_routes_of(const std::string& text) {
  std::vector<DefaultRoute> out;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // the header: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string iface, destination, gateway, flags, refcnt, use, metric, mask;
    if (!(fields >> iface >> destination >> gateway >> flags >> refcnt >> use >> metric >> mask)) continue;
    const auto d = hex_field(destination), m = hex_field(mask), f = hex_field(flags);
    if (!d || !m || !f || *d != 0 || *m != 0 || !(*f & route_up)) continue;
    long metric_value = 0;
    try {
      metric_value = std::stol(metric);
    } catch (const std::exception&) {
    }
    out.push_back({iface, metric_value});
  }
  return out;
}

std::string choose_host_address(const HostTables& t) {
  if (t.addresses.empty()) return t.host_name;

  if (!t.default_routes.empty()) {
    const auto route = std::min_element(t.default_routes.begin(), t.default_routes.end(),
                                        [](const DefaultRoute& a, const DefaultRoute& b) { return a.metric < b.metric; });
    const auto on_route = addresses_of(t.addresses, route->interface);
    if (on_route.size() == 1) return on_route.front();
    if (on_route.size() > 1) {
      // The host name may still tell which of them.
      for (const auto& resolved : t.host_name_addresses)
        if (std::find(on_route.begin(), on_route.end(), resolved) != on_route.end()) return resolved;
      std::vector<LocalAddress> candidates;
      for (const auto& a : t.addresses)
        if (a.interface == route->interface) candidates.push_back(a);
      ambiguous("the interface of the default route, " + route->interface + ", has several addresses", candidates);
    }
    // A default route through an interface without IPv4 address (a tunnel, IPv6 only): no help.
  }
  for (const auto& resolved : t.host_name_addresses)
    for (const auto& a : t.addresses)
      if (a.address == resolved) return resolved;
  std::vector<std::string> distinct;
  for (const auto& a : t.addresses)
    if (std::find(distinct.begin(), distinct.end(), a.address) == distinct.end()) distinct.push_back(a.address);
  if (distinct.size() == 1) return distinct.front();
  ambiguous("it has several addresses, no default route picks one and its name '" + t.host_name +
                "' resolves to none of them",
            t.addresses);
}

HostTables read_host_tables() {
  HostTables t;
  char name[256] = {};
  t.host_name = ::gethostname(name, sizeof name - 1) == 0 && *name ? name : "localhost";

  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
        continue;
      auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) continue;
      char text[INET_ADDRSTRLEN];
      if (::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text)) t.addresses.push_back({i->ifa_name, text});
    }
    ::freeifaddrs(list);
  }

  if (auto routes = core::read_file_if_exists("/proc/net/route")) t.default_routes = default_routes_of(*routes);

  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(t.host_name.c_str(), nullptr, &hints, &found) == 0) {
    for (addrinfo* a = found; a; a = a->ai_next) {
      char text[INET_ADDRSTRLEN];
      auto* in = reinterpret_cast<sockaddr_in*>(a->ai_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) &&
          std::find(t.host_name_addresses.begin(), t.host_name_addresses.end(), text) == t.host_name_addresses.end())
        t.host_name_addresses.push_back(text);
    }
    ::freeaddrinfo(found);
  }
  return t;
}

}  // namespace pglift::patroni
