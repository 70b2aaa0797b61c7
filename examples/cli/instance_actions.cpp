#include "instance_actions.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>

#include <pglift/errors.hpp>

#include "cli_errors.hpp"
#include "concurrently.hpp"
#include "json_text.hpp"
#include "table.hpp"
#include "terminal.hpp"

namespace cli {
namespace {

// --- acting ---------------------------------------------------------------------------------------

/// Runs one operation and waits for it, cancellable by Ctrl-C.
void run_on(Session& session, const pglift::InstanceRef& ref, const Launch& launch) {
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) { return launch(ref, std::move(done), {}); });
}

/// Named instances one after the other, stopping at the first error (as pglift); --all concurrently,
/// reporting every failure.
int control(Session& session, const ControlArgs& args, const Launch& launch) {
  auto refs = resolve(session, args.targets);
  if (!args.targets.all) {
    for (const auto& ref : refs) run_on(session, ref, launch);
    return 0;
  }
  auto failures = run_concurrently(session.interrupts(), refs, launch);
  for (const auto& failure : failures) {
    try {
      std::rethrow_exception(failure.error);
    } catch (const std::exception& e) {
      session.console().print_error("Error: " + failure.instance.str() + ": " + e.what());
    }
  }
  return failures.empty() ? 0 : 1;
}

// --- presenting -------------------------------------------------------------------------------------

std::string text_of(bool value) { return value ? "true" : "false"; }
std::string text_of(const std::optional<bool>& value) { return value ? text_of(*value) : ""; }
std::string text_of(const std::optional<std::string>& value) { return value.value_or(""); }

/// pglift leaves settings, state and the directories out of the table form.
std::string instance_table(const pglift::Instance& instance) {
  return render_key_values({
      {"name", instance.name},
      {"version", instance.version},
      {"port", std::to_string(instance.port)},
      {"data_checksums", text_of(instance.data_checksums)},
      {"locale", text_of(instance.locale)},
      {"encoding", text_of(instance.encoding)},
      {"pending_restart", text_of(instance.pending_restart)},
  });
}

std::string list_table(const std::vector<pglift::InstanceListItem>& items) {
  if (items.empty()) return {};
  std::vector<Row> rows;
  for (const auto& item : items)
    rows.push_back({item.name, item.version, std::to_string(item.port), item.datadir.string(),
                    pglift::to_string(item.status)});
  return render_table({"name", "version", "port", "datadir", "status"}, rows);
}

std::string env_lines(const std::map<std::string, std::string>& env) {
  std::string out;
  for (const auto& [key, value] : env) out += key + '=' + value + '\n';
  return out;
}

/// "not_running" reads "not running" in `instance status`.
std::string status_words(pglift::RunStatus status) {
  std::string words = pglift::to_string(status);
  for (char& c : words)
    if (c == '_') c = ' ';
  return words;
}

// --- prompting --------------------------------------------------------------------------------------

/// One password of `create`: its options, its environment variable, its prompt.
struct PasswordSource {
  const PasswordOptions& options;
  std::string option;                           ///< "--surole-password"
  const std::optional<std::string>& variable_value;
  std::string variable;                         ///< "SUROLE_PASSWORD"
  std::string prompt;                           ///< "Super-user password"
};

/// The first line of a password file, without its line break. Its content is never quoted in errors.
std::string read_password_file(Session& session, const CLI::App& command, const std::string& option,
                               const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(command, "cannot read " + option + "-file " + path.string() + ": " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw UsageError(command, option + "-file " + path.string() + " holds no password on its first line");
  std::error_code ec;
  auto perms = std::filesystem::status(path, ec).permissions();
  if (!ec && (perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) != std::filesystem::perms::none)
    session.console().log(pglift::LogLevel::warning, "pglift.cli",
                          option + "-file " + path.string() + " can be read by other users (make it mode 0600)");
  return line;
}

/// The password of `source` if any was given, from the command line, the terminal, a file or the environment.
std::optional<std::string> password_from(Session& session, const CLI::App& command, const PasswordSource& source) {
  const auto& given = source.options;
  if (given.value) {
    session.console().log(pglift::LogLevel::warning, "pglift.cli",
                          source.option + "=VALUE puts the password on the command line, where other users can read it "
                              "(ps, /proc); use " + source.option + "-file, the " + source.variable +
                              " environment variable or " + source.option + " without a value (prompt) instead");
    return given.value;
  }
  if (given.ask) {
    if (!session.interactive())
      throw UsageError(command, "option " + source.option + " requires a value in non-interactive mode");
    return Terminal().new_secret(source.prompt);
  }
  if (given.file) return read_password_file(session, command, source.option, *given.file);
  if (source.variable_value) {
    session.console().log(pglift::LogLevel::info, "pglift.cli",
                          source.prompt + " from the " + source.variable + " environment variable");
    return source.variable_value;
  }
  return std::nullopt;
}

/// --patroni-* options into the spec; none of them without --patroni-cluster.
void add_patroni_spec(CreateArgs& args) {
  const auto& given = args.patroni;
  if (!given.cluster) {
    if (given.node || given.restapi_connect_address || given.restapi_listen || given.postgresql_connect_host ||
        given.replication_ssl_cert || given.replication_ssl_key || given.credentials || given.synchronous_mode ||
        given.synchronous_mode_strict)
      throw UsageError(*args.command, "--patroni-cluster is required with --patroni-* options");
    return;
  }
  args.spec.patroni = pglift::PatroniSpec{
      .cluster = *given.cluster,
      .node = given.node,
      .restapi_connect_address = given.restapi_connect_address,
      .restapi_listen = given.restapi_listen,
      .postgresql_connect_host = given.postgresql_connect_host,
      .replication_ssl_cert = given.replication_ssl_cert,
      .replication_ssl_key = given.replication_ssl_key,
      .synchronous_mode = given.synchronous_mode,
      .synchronous_mode_strict = given.synchronous_mode_strict,
  };
}

/// The credentials file of a member joining a cluster: --patroni-credentials, else CLUSTER_CREDENTIALS_FILE.
std::optional<std::filesystem::path> credentials_file(const CreateArgs& args) {
  if (args.patroni.credentials) return args.patroni.credentials;
  const char* variable = std::getenv(PatroniOptions::credentials_variable);
  if (args.spec.patroni && variable && *variable) return std::filesystem::path(variable);
  return std::nullopt;
}

/// Reads a credentials file (its content is never quoted), checks that its user names are this site's
/// (a member logs in to the others with them), and gives the spec every password not given otherwise.
void add_cluster_credentials(Session& session, CreateArgs& args, const std::filesystem::path& path) {
  const std::string what = "credentials file " + path.string();
  std::ifstream in(path);
  if (!in) throw ExitError("cannot read " + what + ": " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  std::error_code ec;
  auto perms = std::filesystem::status(path, ec).permissions();
  if (!ec && (perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) != std::filesystem::perms::none)
    session.console().log(pglift::LogLevel::warning, "pglift.cli", what + " can be read by other users (make it mode 0600)");
  pglift::PatroniCredentials creds;
  try {
    creds = pglift::PatroniCredentials::from_json(text);
  } catch (const pglift::InvalidSpec& e) {
    throw ExitError(what + ": " + e.what());
  }
  const auto& postgresql = session.context().settings().postgresql;
  const std::pair<const pglift::RoleCredentials*, std::string> expected[] = {
      {&creds.superuser, postgresql.surole.name}, {&creds.replication, postgresql.replrole.value_or("")}, {&creds.rewind, "rewind"}};
  for (const auto& [role, name] : expected)
    if (role->username != name)
      throw ExitError(what + " names the role '" + role->username + "' where this site's settings name '" + name +
                      "': every member of a cluster needs the same role names");
  if (!args.spec.surole_password) args.spec.surole_password = creds.superuser.password;
  if (!args.spec.replrole_password) args.spec.replrole_password = creds.replication.password;
  if (!args.spec.rewind_password) args.spec.rewind_password = creds.rewind.password;
}

void confirm_drop(Session& session, const pglift::InstanceRef& ref) {
  if (!session.interactive()) return;  // the default answer is yes
  if (Terminal().confirm("Confirm complete deletion of instance " + ref.str() + "?", true)) return;
  session.console().log(pglift::LogLevel::warning, "pglift.cli", "deletion of instance " + ref.str() + " cancelled");
  throw Aborted();
}

/// A former leader whose rejoin discards commits: asked on the terminal, default no; without a
/// terminal to ask (--non-interactive), the library's refusal stands.
void confirm_data_loss(Session& session, const pglift::InstanceRef& ref, const pglift::WouldLoseData& refusal) {
  if (!session.interactive()) throw refusal;
  session.console().log(pglift::LogLevel::warning, "pglift.cli", refusal.what());
  if (Terminal().confirm("Rejoin " + ref.str() + " anyway, discarding these transactions?", false)) return;
  session.console().log(pglift::LogLevel::warning, "pglift.cli", "start of instance " + ref.str() + " cancelled; it stays stopped");
  throw Aborted();
}

}  // namespace

int create_instance(Session& session, CreateArgs args) {
  add_patroni_spec(args);
  const auto& environment = session.environment_passwords();
  args.spec.surole_password =
      password_from(session, *args.command,
                    {args.surole_password, "--surole-password", environment.surole,
                     EnvironmentPasswords::surole_variable, "Super-user password"});
  args.spec.replrole_password =
      password_from(session, *args.command,
                    {args.replrole_password, "--replrole-password", environment.replrole,
                     EnvironmentPasswords::replrole_variable, "Replication role password"});
  if (auto file = credentials_file(args)) add_cluster_credentials(session, args, *file);
  auto& ctx = session.context();
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) {
    return pglift::start_create_instance(ctx, args.spec, args.options,
                                         [done = std::move(done)](std::exception_ptr e, const pglift::Instance&) mutable {
                                           done(std::move(e));  // the CLI prints nothing on success
                                         });
  });
  return 0;
}

int get_instance(Session& session, const GetArgs& args) {
  auto instance = pglift::get_instance(session.context(), resolve(session, args.target));
  print(args.json ? indent_json(instance.to_json()) : instance_table(instance));
  return 0;
}

int list_instances(Session& session, const ListArgs& args) {
  auto items = pglift::list_instances(session.context(), args.version);
  print(args.json ? indent_json(pglift::to_json(items)) : list_table(items));
  return 0;
}

/// One line per component, as pglift ≥ 0.34; exit 3 when any of them is not running, when PostgreSQL
/// runs without its Patroni (an orphan postmaster) or when the DCS cannot be reached.
int instance_status(Session& session, const Target& target) {
  auto status = pglift::instance_status(session.context(), resolve(session, target));
  std::string lines = "PostgreSQL: " + status_words(status.postgresql) + '\n';
  bool all_running = status.postgresql == pglift::RunStatus::running;
  if (status.patroni_api) {
    std::string api = status.patroni == std::optional<std::string>("unreachable")
                          ? "unreachable (Patroni runs, its REST API does not answer)"
                          : status_words(*status.patroni_api);
    lines += "Patroni API: " + api + '\n';
    all_running = all_running && *status.patroni_api == pglift::RunStatus::running;
  }
  if (status.orphan_postmaster) {
    lines += "Orphan postmaster: PostgreSQL runs without its Patroni\n";
    all_running = false;
  }
  if (status.dcs_reachable) {
    lines += "DCS: " + (*status.dcs_reachable ? std::string("ok") : "unreachable (" + status.dcs_error.value_or("") + ")") + '\n';
    all_running = all_running && *status.dcs_reachable;
  }
  print(lines);
  return static_cast<int>(all_running ? pglift::RunStatus::running : pglift::RunStatus::not_running);
}

int start_instances(Session& session, const ControlArgs& args) {
  if (args.foreground) {
    if (args.targets.all || args.targets.instances.size() > 1)
      throw UsageError(*args.targets.command, "--foreground can only be used with one instance");
    auto ref = resolve(session, args.targets).front();
    std::fflush(nullptr);
    pglift::exec_postgres_foreground(session.context(), ref);
  }
  auto& ctx = session.context();
  auto start_with = [&ctx](pglift::StartOptions options) {
    return [&ctx, options](const pglift::InstanceRef& ref, pglift::Callback<> done, pglift::OpOptions op) {
      return pglift::start_start_instance(ctx, ref, options, std::move(done), op);
    };
  };
  if (args.targets.all) return control(session, args, start_with(args.start));  // concurrent: nobody to ask
  for (const auto& ref : resolve(session, args.targets)) try {
      run_on(session, ref, start_with(args.start));
    } catch (const pglift::WouldLoseData& e) {
      confirm_data_loss(session, ref, e);
      run_on(session, ref, start_with(pglift::StartOptions{.accept_data_loss = true}));
    }
  return 0;
}

int stop_instances(Session& session, const ControlArgs& args) {
  auto& ctx = session.context();
  return control(session, args,
                 [&ctx, mode = args.mode](const pglift::InstanceRef& ref, pglift::Callback<> done, pglift::OpOptions op) {
                   return pglift::start_stop_instance(ctx, ref, mode, std::move(done), op);
                 });
}

int restart_instances(Session& session, const ControlArgs& args) {
  auto& ctx = session.context();
  return control(session, args,
                 [&ctx, mode = args.mode](const pglift::InstanceRef& ref, pglift::Callback<> done, pglift::OpOptions op) {
                   return pglift::start_restart_instance(ctx, ref, mode, std::move(done), op);
                 });
}

int reload_instances(Session& session, const ControlArgs& args) {
  auto& ctx = session.context();
  return control(session, args, [&ctx](const pglift::InstanceRef& ref, pglift::Callback<> done, pglift::OpOptions op) {
    return pglift::start_reload_instance(ctx, ref, std::move(done), op);
  });
}

/// The library refuses to drop a Patroni member while the DCS is unreachable (nobody can tell whether it
/// is the last member): ask, default no; --non-interactive refuses unless --dcs-unreachable-ok.
bool confirm_drop_without_dcs(Session& session, const pglift::InstanceRef& ref, const pglift::Error& refusal) {
  if (!session.interactive()) return false;
  session.console().log(pglift::LogLevel::warning, "pglift.cli", refusal.what());
  return Terminal().confirm("The DCS cannot be reached: drop instance " + ref.str() + " anyway?", false);
}

int drop_instances(Session& session, const DropArgs& args) {
  auto& ctx = session.context();
  for (const auto& ref : resolve(session, args.targets)) {
    confirm_drop(session, ref);
    auto drop = [&](pglift::DropOptions options) {
      run_on(session, ref, [&ctx, options](const pglift::InstanceRef& r, pglift::Callback<> done, pglift::OpOptions op) {
        return pglift::start_drop_instance(ctx, r, options, std::move(done), op);
      });
    };
    try {
      drop(args.options);
    } catch (const pglift::Error& e) {
      if (e.code() != pglift::ErrorCode::dcs || args.options.dcs_unreachable_ok || args.options.remove_cluster ||
          !confirm_drop_without_dcs(session, ref, e))
        throw;
      auto confirmed = args.options;
      confirmed.dcs_unreachable_ok = true;
      drop(confirmed);
    }
  }
  return 0;
}

/// Plain instances have no standby support yet: the library refuses them ("... is not a standby").
int promote_instance(Session& session, const Target& target) {
  auto& ctx = session.context();
  run_on(session, resolve(session, target),
         [&ctx](const pglift::InstanceRef& r, pglift::Callback<> done, pglift::OpOptions op) {
           return pglift::start_promote_instance(ctx, r, std::move(done), op);
         });
  return 0;
}

int instance_env(Session& session, const GetArgs& args) {
  auto env = pglift::instance_env(session.context(), resolve(session, args.target));
  print(args.json ? indent_json(json_object(env)) : env_lines(env));
  return 0;
}

int exec_in_instance(Session& session, const ExecArgs& args) {
  auto ref = resolve(session, args.target);
  std::fflush(nullptr);
  try {
    pglift::exec_in_instance(session.context(), ref, args.command);
  } catch (const pglift::Error& e) {
    if (e.code() == pglift::ErrorCode::not_found) throw ExitError(e.what(), 2);  // no such program, as pglift ≥ 0.36
    throw;
  }
}

int instance_logs(Session& session, const LogsArgs& args) {
  auto ref = resolve(session, args.target);
  auto file = pglift::instance_log_file(session.context(), ref);
  session.console().log(pglift::LogLevel::info, "pglift.instances",
                        "reading logs of instance '" + ref.str() + "' from " + file.string());
  pglift::read_instance_logs(session.context(), ref, args.follow, [](std::string_view chunk) {
    std::fwrite(chunk.data(), 1, chunk.size(), stdout);
    return std::fflush(stdout) == 0;  // a closed pipe ends --follow
  });
  return 0;
}

}  // namespace cli
