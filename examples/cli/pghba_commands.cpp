#include "pghba_commands.hpp"

#include <memory>
#include <optional>
#include <string>

#include <pglift/hba.hpp>

#include "interrupts.hpp"
#include "targets.hpp"

namespace cli {
namespace {

/// pglift's options: no --connection-* option makes a `local` record.
struct PghbaArgs {
  std::optional<std::string> type, address, netmask;
  std::string database = "all", user = "all", method;
  bool dry_run = false, diff = false;
};

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

pglift::HbaRecord record_of(const PghbaArgs& a) {
  pglift::HbaRecord r;
  if (a.type || a.address || a.netmask) r.connection = pglift::HbaConnection{a.type.value_or("host"), a.address, a.netmask};
  r.database = comma_list(a.database);
  r.user = comma_list(a.user);
  r.method = a.method;
  return r;
}

int run(Session& session, const Target& target, const PghbaArgs& args, bool add) {
  auto ref = resolve(session, target);
  auto record = record_of(args);
  record.validate();  // usage errors before the instance is looked at
  pglift::HbaOptions options{.dry_run = args.dry_run};
  auto& ctx = session.context();
  auto result = run_interruptible<pglift::HbaResult>(session.interrupts(), [&](pglift::Callback<pglift::HbaResult> done) {
    std::vector<pglift::HbaRecord> records{record};
    return add ? pglift::start_add_hba_records(ctx, ref, std::move(records), options, std::move(done))
               : pglift::start_remove_hba_records(ctx, ref, std::move(records), options, std::move(done));
  });
  if (args.diff) print(result.diff);
  if (!result.changed) session.console().print_error(add ? "entry already present in HBA configuration" : "no change");
  if (args.dry_run) session.console().print_error("DRY RUN: no changes made");
  return 0;
}

void add_command(CLI::App& group, Commands& commands, const std::shared_ptr<Target>& target, const std::string& name,
                 const std::string& help, bool add) {
  auto* command = group.add_subcommand(name, help);
  auto args = std::make_shared<PghbaArgs>();
  command->add_option("--connection-type", args->type, "Connection type.")
      ->check(CLI::IsMember({"host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}));
  command->add_option("--connection-address", args->address, "IP address (with /prefix) or host name of the client.");
  command->add_option("--connection-netmask", args->netmask, "IP mask, with an IP address given without /prefix.");
  command->add_option("--database", args->database, "Database name(s), comma separated (default: all).");
  command->add_option("--user", args->user, "User name(s), comma separated (default: all).");
  command->add_option("--method", args->method, "Authentication method.")->required();
  command->add_flag("--dry-run", args->dry_run, "Simulate change operations.");
  command->add_flag("--diff", args->diff, "Show the changes as a unified diff.");
  commands.add(*command, [target, args, add](Session& s) { return run(s, *target, *args, add); });
}

}  // namespace

void add_pghba_commands(CLI::App& root, Commands& commands) {
  auto* group = root.add_subcommand("pghba", "Manage entries in HBA configuration of a PostgreSQL instance.");
  group->require_subcommand(1);
  auto target = std::make_shared<Target>();
  add_instance_option(*group, *target);
  add_command(*group, commands, target, "add", "Add a record in HBA configuration.", true);
  add_command(*group, commands, target, "remove", "Remove a record from HBA configuration.", false);
}

}  // namespace cli
