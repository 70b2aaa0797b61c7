// libpglift public C++ API: include this, or the module headers it gathers.
#pragma once
#include "pglift/apply.hpp"
#include "pglift/context.hpp"
#include "pglift/database_spec.hpp"
#include "pglift/databases.hpp"  // databases
#include "pglift/errors.hpp"
#include "pglift/events.hpp"
#include "pglift/hba.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"
#include "pglift/role_spec.hpp"
#include "pglift/roles.hpp"
#include "pglift/settings.hpp"
#include "pglift/version.hpp"
/* --- config --- */
#include "pglift/patroni_config.hpp"
/* --- end config --- */
// --- cluster ---
#include "pglift/cluster.hpp"
// --- end cluster ---
/* --- stream --- */
#include "pglift/cluster_watch.hpp"
#include "pglift/streams.hpp"
/* --- end stream --- */
