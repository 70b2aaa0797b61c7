// The Patroni side of an instance: where its files are, the typed configuration we generate, and its
// rendering to Patroni's YAML. Keys we do not manage are preserved when the file is rewritten.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/value.hpp"
#include "pglift/instance.hpp"
#include "pglift/settings.hpp"
#include "postgres/layout.hpp"

namespace pglift::patroni {

namespace fs = std::filesystem;

/// The files of one Patroni member, named after the instance's qualname.
struct Files {
  fs::path config, passfile, pidfile, logdir;
  static Files of(const PatroniSettings& settings, const postgres::Layout& layout);
  fs::path log() const { return logdir / "patroni.log"; }
  fs::path stderr_log() const { return logdir / "patroni.stderr.log"; }
};

/// Passwords shared by every member of a cluster (Patroni needs them in its YAML; the file is 0600).
struct Credentials {
  std::string superuser, replication, rewind;
  static Credentials generate();
};

/// What the YAML describes, with defaults resolved.
struct Member {
  std::string cluster, node;
  std::string restapi_connect_address, restapi_listen;  ///< HOST:PORT
  std::string connect_host;                             ///< postgresql.connect_address host
  std::string listen_host;                              ///< postgresql.listen host(s)
  int port = 5432;
  std::optional<fs::path> replication_ssl_cert, replication_ssl_key;
};

/// Resolves the defaults of a PatroniSpec: node = host name, addresses = the host's address.
Member resolve_member(const PatroniSpec& spec, int port, const ConfParameters& settings);

struct BootstrapOptions {
  std::string locale, encoding;
  bool data_checksums = false;
};

/// The managed configuration, as a document: scope, name, log, restapi, etcd3, bootstrap, postgresql,
/// watchdog. `parameters` are the instance's postgresql.conf parameters (the single source of truth).
core::Value build(const Settings& settings, const postgres::Layout& layout, const Member& member,
                  const ConfParameters& parameters, const Credentials& credentials, const BootstrapOptions& bootstrap);

/// Writes `managed` over the existing file's content (keys we do not manage survive), atomically, 0600.
void write(const fs::path& path, const core::Value& managed);
/// Replaces postgresql.parameters (the only place parameters of a Patroni member are kept).
void write_parameters(const fs::path& path, const ConfParameters& parameters);

core::Value read(const fs::path& path);  ///< throws NotFound when missing
Member member_of(const core::Value& config);
Credentials credentials_of(const core::Value& config);
ConfParameters parameters_of(const core::Value& config);

/// The host's address for default connect addresses: its first non-loopback IPv4, else its name.
std::string host_address();
std::string host_name();

}  // namespace pglift::patroni
