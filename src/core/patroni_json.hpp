// One GET /cluster member as a value: shared by the instance JSON and the Patroni REST client.
#pragma once
#include "core/value.hpp"
#include "pglift/patroni.hpp"

namespace pglift::core {

/// Tolerates Patroni's variants (role leader/replica/sync_standby, lag int or "unknown"); keys it does
/// not know are kept as JSON text, in order.
ClusterMember cluster_member(const Value& member);

}  // namespace pglift::core
