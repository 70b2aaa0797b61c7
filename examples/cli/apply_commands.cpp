#include "apply_commands.hpp"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <pglift/apply.hpp>

#include "cli_errors.hpp"
#include "interrupts.hpp"
#include "json_text.hpp"
#include "targets.hpp"
#include "terminal.hpp"

namespace cli {
namespace {

struct AlterArgs {
  Target target;
  std::optional<int> port;
  std::optional<std::string> state;
  std::optional<bool> data_checksums;
  bool restart_on_changes = false;
  bool dry_run = false, diff = false, json = false;
};

struct ApplyArgs {
  std::string file;
  bool dry_run = false, diff = false, json = false;
};

/// "role alice: created" for each role and database of the manifest that apply created, changed or dropped.
std::string object_lines(const pglift::ApplyResult& r) {
  std::string lines;
  auto add = [&](const char* kind, const std::vector<pglift::ObjectChange>& items) {
    for (const auto& o : items)
      if (o.change_state != pglift::ChangeState::unchanged) lines += std::string(kind) + " " + o.name + ": " + pglift::to_string(o.change_state) + '\n';
  };
  add("role", r.roles);
  add("database", r.databases);
  return lines;
}

/// The result: JSON with -o json; else the differences with --diff ("port: 5432 -> 5433"), and a
/// notice for a dry run.
void report(Session& session, const pglift::ApplyResult& r, bool json, bool diff) {
  if (json) {
    print(indent_json(r.to_json()));
    return;
  }
  if (diff) {
    std::string lines;
    for (const auto& c : r.diff) lines += c.field + ": " + c.before + " -> " + c.after + '\n';
    lines += object_lines(r);
    print(lines);
  }
  if (r.dry_run) session.console().print_error("DRY RUN: no changes made");
}

/// What waits for a restart: asked on the terminal, default no (never in --non-interactive mode).
void offer_restart(Session& session, const pglift::InstanceRef& ref, const pglift::ApplyResult& r) {
  if (r.dry_run || r.needs_restart.empty() || !session.interactive()) return;
  if (!Terminal().confirm("PostgreSQL needs to be restarted; restart now?", false)) return;
  auto& ctx = session.context();
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) {
    return pglift::start_restart_instance(ctx, ref, pglift::StopMode::fast, std::move(done));
  });
}

int alter_instance(Session& session, const AlterArgs& args) {
  auto ref = resolve(session, args.target);
  pglift::InstanceChanges changes;
  changes.port = args.port;
  if (args.state == "started") changes.state = pglift::InstanceState::started;
  else if (args.state == "stopped") changes.state = pglift::InstanceState::stopped;
  else if (args.state == "restarted") changes.restart = true;
  changes.data_checksums = args.data_checksums;
  changes.restart_on_changes = args.restart_on_changes;
  pglift::ApplyOptions options;
  options.dry_run = args.dry_run;
  auto& ctx = session.context();
  auto result = run_interruptible<pglift::ApplyResult>(session.interrupts(), [&](pglift::Callback<pglift::ApplyResult> done) {
    return pglift::start_alter_instance(ctx, ref, changes, options, std::move(done));
  });
  report(session, result, args.json, args.diff);
  offer_restart(session, ref, result);
  return 0;
}

int apply_manifest(Session& session, const ApplyArgs& args) {
  std::string text;
  if (args.file == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else {
    std::ifstream in(args.file);
    if (!in) throw ExitError("cannot read " + args.file, 2);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto manifest = pglift::InstanceManifest::from_yaml(text);
  pglift::ApplyOptions options;
  options.dry_run = args.dry_run;
  auto& ctx = session.context();
  auto result = run_interruptible<pglift::ApplyResult>(session.interrupts(), [&](pglift::Callback<pglift::ApplyResult> done) {
    return pglift::start_apply_instance(ctx, manifest, options, std::move(done));
  });
  report(session, result, args.json, args.diff);
  if (!args.json && !args.diff && !result.dry_run) {
    const char* state = pglift::to_string(result.change_state);
    session.console().print_error("instance " + manifest.spec.name + ": " +
                                  (result.change_state == pglift::ChangeState::unchanged ? "unchanged" : state));
    if (std::string objects = object_lines(result); !objects.empty()) {
      objects.pop_back();
      session.console().print_error(objects);
    }
  }
  if (result.change_state == pglift::ChangeState::changed)
    offer_restart(session, pglift::InstanceRef{manifest.spec.name, manifest.spec.version}, result);
  return 0;
}

void add_output_json(CLI::App& command, bool& json) {
  command.add_option_function<std::string>(
             "-o,--output-format", [&json](const std::string& format) { json = format == "json"; },
             "Specify the output format.")
      ->transform(CLI::IsMember({"json"}, CLI::ignore_case));
}

}  // namespace

void add_alter_and_apply(CLI::App& group, Commands& commands) {
  auto* alter = group.add_subcommand("alter", "Alter PostgreSQL INSTANCE");
  auto a = std::make_shared<AlterArgs>();
  add_instance_argument(*alter, a->target);
  alter->add_option("--port", a->port, "TCP port the PostgreSQL instance will be listening to.")->check(CLI::Range(1, 65535));
  alter->add_option("--state", a->state, "Runtime state.")->check(CLI::IsMember({"started", "stopped", "restarted"}));
  alter->add_flag("--data-checksums,!--no-data-checksums", a->data_checksums,
                  "Enable or disable data checksums (with pg_checksums, on a stopped instance).");
  alter->add_flag("--restart-on-changes", a->restart_on_changes,
                  "Restart at once when a change takes effect only at restart (else asked).");
  alter->add_flag("--dry-run", a->dry_run, "Simulate change operations.");
  alter->add_flag("--diff", a->diff, "Include differences resulting from applied changes in returned result.");
  add_output_json(*alter, a->json);
  commands.add(*alter, [a](Session& s) { return alter_instance(s, *a); });

  auto* apply = group.add_subcommand("apply", "Apply manifest as a PostgreSQL instance");
  auto p = std::make_shared<ApplyArgs>();
  apply->add_option("-f,--file", p->file, "The manifest (YAML or JSON); - for the standard input.")->required();
  apply->add_flag("--dry-run", p->dry_run, "Simulate change operations.");
  apply->add_flag("--diff", p->diff, "Include differences resulting from applied changes in returned result.");
  add_output_json(*apply, p->json);
  commands.add(*apply, [p](Session& s) { return apply_manifest(s, *p); });
}

}  // namespace cli
