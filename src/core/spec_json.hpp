// The role and database manifests as values: read from a parsed document and described by a JSON
// Schema, for their own JSON faces and for the instance manifest that holds them ("roles",
// "databases").
#pragma once
#include "core/value.hpp"
#include "pglift/database_spec.hpp"
#include "pglift/role_spec.hpp"

namespace pglift::core {

/// Read and validated; errors name the fields bare ("name"): a holder prefixes them
/// (InvalidSpec::within). `doc` must be an object.
RoleSpec role_spec_of(const Value& doc);
DatabaseSpec database_spec_of(const Value& doc);

/// The schemas of what these read, without "$schema" (a holder embeds them).
Value role_schema();
Value database_schema();

}  // namespace pglift::core
