#include "targets.hpp"

#include <cstdio>

#include <CLI/CLI.hpp>
#include <pglift/errors.hpp>
#include <pglift/operations.hpp>

#include "cli_errors.hpp"

namespace cli {

const char* const instance_help =
    "Instance identifier; the <version>/ prefix may be omitted if there's only one instance matching <name>. "
    "Required if there is more than one instance on system.";

namespace {

bool is_bad_instance_argument(const pglift::Error& e) {
  return e.code() == pglift::ErrorCode::not_found || e.code() == pglift::ErrorCode::invalid_spec;
}

/// The library words the missing INSTANCE as an argument's; a group names it with -i.
std::string for_option(std::string message) {
  const std::string argument = "argument INSTANCE";
  if (auto at = message.find(argument); at != std::string::npos)
    message.replace(at, argument.size(), "option -i/--instance");
  return message;
}

/// As click's BadParameter in pglift.
pglift::InstanceRef resolve(Session& session, const CLI::App& command, const std::optional<std::string>& text,
                            bool is_option) {
  try {
    return pglift::resolve_instance(session.context(), text);
  } catch (const pglift::Error& e) {
    if (!is_bad_instance_argument(e)) throw;
    if (text) {
      const char* what = is_option ? "Invalid value for '-i' / '--instance': " : "Invalid value for 'INSTANCE': ";
      throw UsageError(command, what + std::string(e.what()));
    }
    throw UsageError(command, is_option ? for_option(e.what()) : e.what());
  }
}

std::vector<pglift::InstanceRef> every_instance(Session& session) {
  std::vector<pglift::InstanceRef> refs;
  for (const auto& item : pglift::list_instances(session.context())) refs.push_back({item.name, item.version});
  return refs;
}

}  // namespace

void add_instance_argument(CLI::App& command, Target& target) {
  target.command = &command;
  command.add_option("INSTANCE", target.instance, instance_help);
}

void add_instance_option(CLI::App& group, Target& target) {
  target.command = &group;
  target.is_option = true;
  group.add_option("-i,--instance", target.instance, instance_help)->type_name("<version>/<name>");
}

pglift::InstanceRef resolve(Session& session, const Target& target) {
  return resolve(session, *target.command, target.instance, target.is_option);
}

std::vector<pglift::InstanceRef> resolve(Session& session, const Targets& targets) {
  if (targets.all) return every_instance(session);
  if (targets.instances.empty()) return {resolve(session, *targets.command, std::nullopt, false)};
  std::vector<pglift::InstanceRef> refs;
  for (const auto& name : targets.instances) refs.push_back(resolve(session, *targets.command, name, false));
  return refs;
}

void print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace cli
