// Finding an existing instance and its port: what every operation on an instance starts with.
#pragma once
#include "pglift/instance.hpp"
#include "pglift/settings.hpp"
#include "postgres/layout.hpp"

namespace pglift::ops {

/// The layout of an existing instance: NotFound, or InvalidSpec("instance") when the name exists in
/// several PostgreSQL versions and none was given.
postgres::Layout lookup(const Settings& settings, const InstanceRef& ref);

/// The port of the instance: the running postmaster's, else the Patroni YAML's (Patroni passes it on
/// the command line, not in postgresql.conf), else postgresql.conf's.
int port_of(const Settings& settings, const postgres::Layout& l);
/// The same, from the running postmaster `pm` the caller read already (nullopt: not running).
int port_of(const Settings& settings, const postgres::Layout& l, const std::optional<postgres::Postmaster>& pm);

}  // namespace pglift::ops
