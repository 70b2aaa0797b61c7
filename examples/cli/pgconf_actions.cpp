#include "pgconf_actions.hpp"

#include <algorithm>
#include <cctype>

#include <pglift/operations.hpp>

#include "cli_errors.hpp"
#include "conf_values.hpp"
#include "editor.hpp"
#include "interrupts.hpp"
#include "terminal.hpp"

namespace cli {
namespace {

/// PostgreSQL parameter names are case-insensitive; postgresql.conf is read back in lower case.
std::string parameter_name(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// PARAMETER=VALUE..., a malformed pair being a usage error (click's BadParameter in pglift).
pglift::ParameterChanges parse_assignments(const PgconfArgs& args) {
  pglift::ParameterChanges changes;
  for (const auto& pair : args.parameters) {
    auto equal = pair.find('=');
    std::string name = equal == std::string::npos ? std::string() : trim(pair.substr(0, equal));
    if (name.empty()) throw UsageError(*args.command, "Invalid value for 'PARAMETER=VALUE...': " + pair);
    changes[parameter_name(name)] = parse_conf_value(trim(pair.substr(equal + 1)));
  }
  return changes;
}

pglift::ConfigurationResult configure(Session& session, const pglift::InstanceRef& ref,
                                      pglift::ParameterChanges changes, bool dry_run) {
  auto& ctx = session.context();
  return run_interruptible<pglift::ConfigurationResult>(
      session.interrupts(), [&](pglift::Callback<pglift::ConfigurationResult> done) {
        return pglift::start_configure_instance(ctx, ref, std::move(changes), std::move(done), {.dry_run = dry_run});
      });
}

/// As pglift: "work_mem: None -> 8MB" per change, then the requested parameters that did not change.
void report_changes(Session& session, const pglift::ParameterChanges& requested,
                    const pglift::ConfigurationResult& result) {
  for (const auto& [name, change] : result.changes)
    session.console().print_error(name + ": " + change_text(change.first) + " -> " + change_text(change.second));
  std::string unchanged;
  for (const auto& [name, _] : requested) {  // sorted by name, as pglift sorts them
    if (result.changes.count(name)) continue;
    unchanged += (unchanged.empty() ? "'" : ", '") + name + "'";
  }
  if (unchanged.empty()) return;
  session.console().print_error("changes in " + unchanged + " not applied");
  session.console().print_error(
      " hint: either these changes have no effect (values already set) or specified parameters are already "
      "defined in an un-managed file (e.g. 'postgresql.conf')");
}

/// The library warns "instance X needs restart due to parameter changes: ..." and leaves the restart to
/// us: asked on the terminal, default no (so never in --non-interactive mode).
void offer_restart(Session& session, const pglift::InstanceRef& ref, const pglift::ConfigurationResult& result) {
  if (result.needs_restart.empty() || !session.interactive()) return;
  if (!Terminal().confirm("PostgreSQL needs to be restarted; restart now?", false)) return;
  auto& ctx = session.context();
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) {
    return pglift::start_restart_instance(ctx, ref, pglift::StopMode::fast, std::move(done));
  });
}

}  // namespace

int show_parameters(Session& session, const Target& target, const PgconfArgs& args) {
  auto parameters = pglift::instance_parameters(session.context(), resolve(session, target));
  std::string lines;
  auto add = [&lines](const std::string& name, const pglift::ConfValue& value) {
    lines += name + " = " + conf_text(value) + '\n';
  };
  if (args.parameters.empty()) {
    for (const auto& [name, value] : parameters) add(name, value);
  } else {
    for (const auto& given : args.parameters) {  // in the order asked; unknown names show nothing
      auto name = parameter_name(given);
      if (auto it = parameters.find(name); it != parameters.end()) add(name, it->second);
    }
  }
  print(lines);
  return 0;
}

int set_parameters(Session& session, const Target& target, const PgconfArgs& args) {
  auto changes = parse_assignments(args);
  auto ref = resolve(session, target);
  auto result = configure(session, ref, changes, args.dry_run);
  report_changes(session, changes, result);
  if (!args.dry_run) offer_restart(session, ref, result);
  return 0;
}

int remove_parameters(Session& session, const Target& target, const PgconfArgs& args) {
  auto ref = resolve(session, target);
  auto managed = pglift::instance_parameters(session.context(), ref);
  pglift::ParameterChanges changes;
  for (const auto& given : args.parameters) {
    auto name = parameter_name(given);
    if (!managed.count(name)) throw ExitError("'" + given + "' not found in managed configuration");
    changes[name] = std::nullopt;
  }
  auto result = configure(session, ref, changes, args.dry_run);
  report_changes(session, changes, result);
  if (!args.dry_run) offer_restart(session, ref, result);
  return 0;
}

int edit_parameters(Session& session, const Target& target, const PgconfArgs& args) {
  auto ref = resolve(session, target);
  auto current = pglift::instance_parameters(session.context(), ref);
  PrivateFile file("postgresql.conf", pglift::parameters_text(current));
  pglift::ParameterChanges changes;
  if (run_editor(file.path()) == 0) changes = pglift::parameter_changes_from_text(current, file.read());
  if (changes.empty()) {
    session.console().print_error("no change");
    return 0;
  }
  auto result = configure(session, ref, changes, args.dry_run);
  report_changes(session, changes, result);
  if (!args.dry_run) offer_restart(session, ref, result);
  return 0;
}

}  // namespace cli
