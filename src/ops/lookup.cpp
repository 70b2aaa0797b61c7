#include "ops/lookup.hpp"

#include "patroni/config.hpp"
#include "patroni/member.hpp"
#include "postgres/conf.hpp"
#include "postgres/control.hpp"

namespace pglift::ops {
using postgres::Layout;

Layout lookup(const Settings& settings, const InstanceRef& ref) {
  if (ref.version) {
    settings.version(*ref.version);  // throws InvalidSpec when not installed
    Layout l = Layout::of(settings, ref.name, *ref.version);
    if (!postgres::exists(l)) throw NotFound("instance", ref.str());
    return l;
  }
  std::vector<Layout> found;
  for (const auto& v : settings.postgresql.versions) {
    Layout l = Layout::of(settings, ref.name, v.version);
    if (postgres::exists(l)) found.push_back(std::move(l));
  }
  if (found.empty()) throw NotFound("instance", ref.name);
  if (found.size() > 1)
    throw InvalidSpec("instance", ref.name,
                      "instance '" + ref.name + "' exists in several PostgreSQL versions; please select version explicitly");
  return found.front();
}

int port_of(const Settings& settings, const Layout& l) { return port_of(settings, l, postgres::running_postmaster(l)); }

int port_of(const Settings& settings, const Layout& l, const std::optional<postgres::Postmaster>& pm) {
  if (pm && pm->port > 0) return pm->port;
  if (patroni::is_member(settings, l))
    if (int port = patroni::member_of(patroni::read(patroni::Files::of(*settings.patroni, l).config)).port; port > 0) return port;
  return postgres::configured_port(l);
}

}  // namespace pglift::ops
