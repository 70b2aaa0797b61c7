// One GET /cluster member as a value: shared by the instance JSON and the Patroni REST client.
#pragma once
#include "core/value.hpp"
#include "pglift/patroni.hpp"

namespace pglift::core {

/// Tolerates Patroni's variants (role leader/replica/sync_standby, lag int or "unknown"); keys it does
/// not know are kept as JSON text, in order.
ClusterMember cluster_member(const Value& member);

// --- cluster ---
/// A member as `instance get -o json` shows it in cluster_members.
Value cluster_member_value(const ClusterMember& member);
/// InvalidSpec(field) unless `value` is a valid Patroni scope or node name (letters, digits, '_', '.',
/// '-'; not empty, no leading '-' or '.'), as InstanceSpec checks them.
void validate_patroni_name(const std::string& field, const std::string& value);
// --- end cluster ---

}  // namespace pglift::core
