// pglift: the command line of libpglift, shaped like Dalibo's pglift. Exit statuses: 0 success, 1 error,
// 2 usage error (including an unknown INSTANCE), 3 from `instance status` when PostgreSQL is not running.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string_view>
#include <vector>

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <pglift/errors.hpp>
#include <pglift/version.hpp>

#include "cli_errors.hpp"
#include "commands.hpp"
#include "completion.hpp"
#include "database_commands.hpp"  // databases
#include "instance_commands.hpp"
#include "patroni_commands.hpp"
#include "pgconf_commands.hpp"
#include "role_commands.hpp"  // roles
#include "pghba_commands.hpp"  // pgconf (wt-pgconf)

namespace {

constexpr int usage_status = 2;

/// The words of the command line that are neither options nor the values of the global options
/// (-L LEVEL, -l LOGFILE, --completion SHELL): `instance list` in `pglift -L DEBUG instance list --all`.
std::vector<std::string_view> command_words(int argc, char** argv) {
  std::vector<std::string_view> words;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "-L" || arg == "--log-level" || arg == "-l" || arg == "--log-file" || arg == "--completion") {
      ++i;
    } else if (!arg.starts_with("-")) {
      words.push_back(arg);
    }
  }
  return words;
}

/// The command tree: the group the command line names, or all of them (help, completion, a usage
/// error at the top), in the order of `pglift --help`. Building all of them, a thousand options and
/// callbacks, costs more than a whole `instance list`; within `instance`, only the subcommand named.
void add_commands(CLI::App& app, cli::Commands& commands, const std::vector<std::string_view>& words) {
  const std::string_view group = words.empty() ? std::string_view{} : words[0];
  const std::string_view leaf = words.size() > 1 ? words[1] : std::string_view{};
  using Add = void (*)(CLI::App&, cli::Commands&, std::string_view);
  const std::pair<std::string_view, Add> groups[] = {
      {"instance", cli::add_instance_commands},
      {"pgconf", [](CLI::App& a, cli::Commands& c, std::string_view) { cli::add_pgconf_commands(a, c); }},
      {"patroni", [](CLI::App& a, cli::Commands& c, std::string_view) { cli::add_patroni_commands(a, c); }},
      {"database", [](CLI::App& a, cli::Commands& c, std::string_view) { cli::add_database_commands(a, c); }},
      {"role", [](CLI::App& a, cli::Commands& c, std::string_view) { cli::add_role_commands(a, c); }},
      {"pghba", [](CLI::App& a, cli::Commands& c, std::string_view) { cli::add_pghba_commands(a, c); }},
  };
  const bool named = std::any_of(std::begin(groups), std::end(groups), [group](const auto& g) { return g.first == group; });
  for (const auto& [name, add] : groups)
    if (!named) add(app, commands, {});
    else if (name == group) add(app, commands, leaf);
}

std::string version_text() { return std::string("pglift version ") + pglift::version(); }

void add_global_options(CLI::App& app, cli::GlobalOptions& globals) {
  app.set_version_flag("--version", version_text(), "Show program version.");
  app.add_option_function<std::string>(
         "-L,--log-level",
         [&globals](const std::string& level) { globals.console.threshold = cli::parse_threshold(level); },
         "Set log threshold (default to INFO when logging to stderr or WARNING when logging to a file).")
      ->trigger_on_parse()  // checked at once: a bad level is reported with the usage of `pglift`
      ->transform(CLI::IsMember({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}, CLI::ignore_case));
  app.add_option("-l,--log-file", globals.console.log_file, "Write logs to LOGFILE, instead of stderr.")
      ->type_name("LOGFILE");
  app.add_flag("--interactive,!--non-interactive", globals.interactive,
               "Interactively prompt for confirmation when needed (the default), "
               "or automatically pick the default option for all choices.");
  cli::add_completion_option(app);  // needs no settings: root may run it
  app.require_subcommand(1);
}

/// "pglift instance get"
std::string command_path(const CLI::App& command) {
  std::string path = command.get_name();
  for (const CLI::App* parent = command.get_parent(); parent; parent = parent->get_parent())
    path = parent->get_name() + " " + path;
  return path;
}

/// The deepest subcommand on the command line: the one whose usage a usage error shows.
const CLI::App& chosen_command(const CLI::App& root) {
  const CLI::App* command = &root;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  return *command;
}

// click's form, which pglift users know.
void print_usage_error(const CLI::App& command, const std::string& message) {
  std::string path = command_path(command);
  std::cerr << CLI::Formatter().make_usage(&command, path) << "Try '" << path << " --help' for help.\n\n"
            << "Error: " << pglift::redact_secrets(message) << std::endl;
}

/// Overwrites the values of --surole-password=VALUE and --replrole-password VALUE in our argv, which
/// /proc/PID/cmdline shows to every user of the host: they stay visible during start-up only (the WARNING
/// that create prints says so). A separate value is one that CLI11 took: the next argument, not an option.
void hide_password_arguments(int argc, char** argv) {
  auto blank = [](char* text) { std::memset(text, 'x', std::strlen(text)); };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    for (std::string_view option : {"--surole-password", "--replrole-password"}) {
      if (arg.size() > option.size() && arg.starts_with(option) && arg[option.size()] == '=') {
        blank(argv[i] + option.size() + 1);
      } else if (arg == option && i + 1 < argc && argv[i + 1][0] != '-') {
        blank(argv[++i]);
        break;
      }
    }
  }
}

int parse_failure(CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version, --schema
  print_usage_error(chosen_command(app), e.what());
  return usage_status;
}

/// Runs the chosen command and turns what it throws into a message and an exit status.
int run(const cli::Action& action, const cli::GlobalOptions& globals) {
  std::unique_ptr<cli::Session> session;  // outlives the handlers below: they print through its console
  auto report = [&session](const std::string& line) {
    if (session) {
      session->console().print_error(line);
    } else {
      std::cerr << line << std::endl;
    }
  };
  try {
    session = std::make_unique<cli::Session>(globals);
    return action(*session);
  } catch (const cli::UsageError& e) {
    print_usage_error(e.command(), e.what());
    return usage_status;
  } catch (const cli::ExitError& e) {
    report(std::string("Error: ") + pglift::redact_secrets(e.what()));
    return e.status();
  } catch (const cli::Aborted& e) {
    report(e.what());
    return 1;
  } catch (const pglift::Cancelled& e) {
    if (session) session->console().log(pglift::LogLevel::warning, "pglift.cli", e.what());
    report("Aborted!");
    return 1;
  } catch (const pglift::Error& e) {  // its message is redacted already
    report(std::string("Error: ") + e.what());
    return 1;  // an unknown INSTANCE is a UsageError already, thrown by resolve()
  } catch (const std::exception& e) {
    report(std::string("Error: ") + pglift::redact_secrets(e.what()));
    return 1;
  }
}

/// Ends the process once the command is done and its session gone (children reaped, files closed):
/// the command tree and the static objects need no destruction, which costs a short command a tenth
/// of its time. Sanitized builds return normally: LeakSanitizer checks at exit.
[[noreturn]] void finish(int status) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(status);
}

}  // namespace

int main(int argc, char** argv) {
  // One operation at a time, on the library's I/O thread: one malloc arena is enough, and a thread's
  // own arena (64 MB reserved, then trimmed) is a tenth of a short command's time.
  mallopt(M_ARENA_MAX, 1);
  // `pglift --version` alone needs none of the command tree (a thousand options and callbacks to build
  // before parsing): the same answer as CLI11's flag below, in a fraction of the time.
  if (argc == 2 && std::string_view(argv[1]) == "--version") {
    std::cout << version_text() << std::endl;
    return 0;
  }
  CLI::App app{"Deploy production-ready instances of PostgreSQL", "pglift"};
  cli::GlobalOptions globals;
  globals.environment_passwords = cli::take_environment_passwords();
  cli::Commands commands;
  add_global_options(app, globals);
  // The hidden entry of the completion scripts, before parsing: its words are a command line being typed.
  if (cli::is_completion_request(argc, argv)) {
    add_commands(app, commands, {});
    return cli::print_completions(app, argc, argv);
  }
  add_commands(app, commands, command_words(argc, argv));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    hide_password_arguments(argc, argv);
    return parse_failure(app, e);
  }
  hide_password_arguments(argc, argv);
  const CLI::App& chosen = chosen_command(app);
  const cli::Action* action = commands.find(chosen);
  if (!action) {  // a group without its subcommand; require_subcommand normally reports it first
    print_usage_error(chosen, "Missing command.");
    return usage_status;
  }
  const int status = run(*action, globals);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return status;
#else
  finish(status);
#endif
}
