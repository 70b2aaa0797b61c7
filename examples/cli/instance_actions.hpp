// What `pglift instance <command>` does, given its parsed arguments. The command line itself is
// declared in instance_commands.cpp.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <pglift/instance.hpp>
#include <pglift/operations.hpp>

#include "session.hpp"
#include "targets.hpp"

namespace cli {

/// The --patroni-* options of `create`, all optional on the command line.
struct PatroniOptions {
  std::optional<std::string> cluster, node, restapi_connect_address, restapi_listen, postgresql_connect_host;
  std::optional<std::filesystem::path> replication_ssl_cert, replication_ssl_key;
  /// --patroni-credentials FILE (else the CLUSTER_CREDENTIALS_FILE environment variable): the cluster's
  /// credentials, as `patroni credentials --output FILE` wrote them.
  std::optional<std::filesystem::path> credentials;
  std::optional<bool> synchronous_mode, synchronous_mode_strict;
  static constexpr const char* credentials_variable = "CLUSTER_CREDENTIALS_FILE";
};

/// Where a password comes from, in this order: --X-password=VALUE (warned about: other users see the
/// command line), --X-password without a value (asked on the terminal), --X-password-file=PATH (its first
/// line), else the environment variable (see EnvironmentPasswords).
struct PasswordOptions {
  std::optional<std::string> value;          ///< --surole-password=VALUE
  bool ask = false;                          ///< --surole-password without a value
  std::optional<std::filesystem::path> file;  ///< --surole-password-file=PATH
};

struct CreateArgs {
  const CLI::App* command = nullptr;
  pglift::InstanceSpec spec;
  PatroniOptions patroni;  ///< goes into spec.patroni when --patroni-cluster is given
  PasswordOptions surole_password, replrole_password;  ///< go into spec.surole_password, spec.replrole_password
  pglift::CreateOptions options;
};

struct GetArgs {
  Target target;
  bool json = false;
};

struct ListArgs {
  std::optional<std::string> version;
  bool json = false;
};

/// start, stop, restart, reload.
struct ControlArgs {
  Targets targets;
  pglift::StopMode mode = pglift::StopMode::fast;
  bool foreground = false;
  pglift::StartOptions start{};  ///< start: --accept-data-loss
};

struct DropArgs {
  Targets targets;
  pglift::DropOptions options;
};

struct ExecArgs {
  Target target;
  std::vector<std::string> command;
};

struct LogsArgs {
  Target target;
  bool follow = false;
};

int create_instance(Session& session, CreateArgs args);
int get_instance(Session& session, const GetArgs& args);
int list_instances(Session& session, const ListArgs& args);
int instance_status(Session& session, const Target& target);
int start_instances(Session& session, const ControlArgs& args);
int stop_instances(Session& session, const ControlArgs& args);
int restart_instances(Session& session, const ControlArgs& args);
int reload_instances(Session& session, const ControlArgs& args);
int drop_instances(Session& session, const DropArgs& args);
int promote_instance(Session& session, const Target& target);
int instance_env(Session& session, const GetArgs& args);
int exec_in_instance(Session& session, const ExecArgs& args);
int instance_logs(Session& session, const LogsArgs& args);

}  // namespace cli
