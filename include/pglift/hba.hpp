// pg_hba records: add and remove client authentication rules of an instance (pglift's `pghba`).
// Plain instances: pg_hba.conf is edited in place (other lines kept, atomic, 0600), then reloaded when
// running. Patroni members: the YAML's postgresql.pg_hba (the single source of truth), then a reload
// through Patroni.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "pglift/context.hpp"
#include "pglift/operations.hpp"

namespace pglift {

struct HbaConnection {
  std::string type = "host";              ///< host | hostssl | hostnossl | hostgssenc | hostnogssenc
  std::optional<std::string> address{};   ///< IP address (optionally /prefix), host name, all, samehost, samenet
  std::optional<std::string> netmask{};   ///< only with an IP address given without /prefix
};

struct HbaRecord {
  std::optional<HbaConnection> connection{};  ///< none: a `local` (Unix socket) record
  std::vector<std::string> database{"all"};
  std::vector<std::string> user{"all"};
  std::string method{};                       ///< required: scram-sha-256, peer, reject...
  std::vector<std::string> options{};         ///< "name=value" authentication options ("map=pglift")

  /// Throws InvalidSpec naming the field ("connection.type", "connection.address", "connection.netmask",
  /// "database", "user", "method", "options"): known types and methods only, names and addresses in a
  /// charset that cannot break the file's syntax (no blanks, quotes, commas inside names, '#').
  void validate() const;
  /// The pg_hba.conf line ("host    all     all     10.0.0.0/8      scram-sha-256"); validate() first.
  std::string line() const;
  /// A JSON object, or an array of them: {"connection": {"type": "host", "address": "10.0.0.0/8",
  /// "netmask": null} | null, "database": "db1,db2" | ["db1", "db2"], "user": ..., "method": "...",
  /// "options": "map=x" | ["map=x"]}. Unknown fields and wrong types throw InvalidSpec naming them.
  static std::vector<HbaRecord> list_from_json(const std::string& json);
  std::string to_json() const;
};

struct HbaOptions {
  bool dry_run = false;  ///< compute the result (and diff), change nothing
};

struct HbaResult {
  std::vector<std::string> added{}, removed{};  ///< the lines, as written
  bool changed = false;                         ///< the file (or the YAML) was (or, dry run, would be) changed
  bool reloaded = false;                        ///< the running instance re-read its pg_hba
  /// Unified diff of pg_hba.conf (Patroni members: of the postgresql.pg_hba lines); "" when unchanged.
  std::string diff{};
};
/// {"added": [...], "removed": [...], "changed": true, "reloaded": true, "diff": "--- ..."}
std::string to_json(const HbaResult& result);

/// Adds records not already there (the same tokens), after the existing lines; the others are left.
HbaResult add_hba_records(Context& ctx, const InstanceRef& ref, const std::vector<HbaRecord>& records,
                          const HbaOptions& options = {});
/// Removes every line equal (token by token) to one of the records; a record found nowhere throws
/// NotFound naming it, and then nothing is changed.
HbaResult remove_hba_records(Context& ctx, const InstanceRef& ref, const std::vector<HbaRecord>& records,
                             const HbaOptions& options = {});

Operation start_add_hba_records(Context& ctx, InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options,
                                Callback<HbaResult> done, OpOptions op = {});
Operation start_remove_hba_records(Context& ctx, InstanceRef ref, std::vector<HbaRecord> records, HbaOptions options,
                                   Callback<HbaResult> done, OpOptions op = {});

}  // namespace pglift
