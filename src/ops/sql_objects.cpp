#include "ops/sql_objects.hpp"

namespace pglift::ops {

void check_manifest_objects(const Settings& settings, const InstanceSpec& spec) {
  for (std::size_t i = 0; i < spec.roles.size(); ++i)
    if (spec.roles[i].pgpass && !settings.postgresql.auth.passfile)
      throw InvalidSpec("roles[" + std::to_string(i) + "].pgpass", "true",
                        "no passfile is configured (site settings: postgresql.auth.passfile)");
}

awaitable<void> create_manifest_objects(const core::Op& op, Transaction& tx, const postgres::Layout& l, int port,
                                        const InstanceSpec& spec) {
  const sql::Target t{l, port};
  for (const auto& role : spec.roles) co_await create_role(op, t, role, tx);
  for (const auto& db : spec.databases) co_await create_database(op, t, db);  // validated with the spec
}

}  // namespace pglift::ops
