// A Patroni member's configuration (its YAML) as a typed value: load it, read and change the fields that
// are safe to change, check it with Patroni's own validator, save it. Keys the library does not manage
// are kept as they are, from load to save.
//
// Secrets. Every key naming a password, at any depth (postgresql.authentication.*.password,
// restapi.authentication.password, etcd3.password, ctl.keyfile_password...: is_secret_field() on the
// key; postgresql.parameters excepted, whose values are settings), is held as `redacted` ("**********")
// and never as its value: a PatroniConfig has no secret in it, so none of its textual forms, errors or
// events can show one. save() writes the file's current secrets back; validate() gives Patroni none.
// Secrets are not changed here: patroni_credentials() gives them (a 0600 file, never a terminal).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pglift/context.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"

namespace pglift {

/// One problem PatroniConfig::validate found (save's refusals, then Patroni's `--validate-config`): the
/// field's dotted path ("postgresql.listen", "bootstrap.dcs.ttl", "postgresql.parameters.work_mem"; empty
/// when Patroni's line names none), its message (a secret field's value is never quoted).
struct PatroniConfigIssue {
  std::string field{}, message{};
  friend bool operator==(const PatroniConfigIssue&, const PatroniConfigIssue&) = default;
};
/// {"valid": true|false, "issues": [{"field": "postgresql.listen", "message": "..."}]}
std::string to_json(const std::vector<PatroniConfigIssue>& issues);

class PatroniConfig {
 public:
  struct RestApi {
    std::string listen{}, connect_address{};  ///< HOST:PORT
    std::optional<std::string> username{};    ///< restapi.authentication.username (its password: redacted)
  };
  /// The etcd3 section (Patroni's etcd v3 client; an `etcd:` section is read when there is no etcd3).
  struct Etcd {
    std::vector<std::string> hosts{};  ///< HOST:PORT
    std::string protocol{};            ///< http | https ("" when absent)
    std::optional<std::string> username{}, cacert{}, cert{}, key{};
  };
  struct PostgreSQL {
    std::string listen{}, connect_address{}, data_dir{}, bin_dir{};
    /// postgresql.authentication: role kind (superuser, replication, rewind) -> user name.
    std::map<std::string, std::string> authentication{};
  };
  struct Watchdog {
    std::string mode = "off";                  ///< off | automatic | required
    std::optional<std::string> device{};       ///< absolute path
  };

  PatroniConfig();  ///< an empty document (as is a moved-from one)
  PatroniConfig(const PatroniConfig&);
  PatroniConfig(PatroniConfig&&) noexcept;
  PatroniConfig& operator=(const PatroniConfig&);
  PatroniConfig& operator=(PatroniConfig&&) noexcept;
  ~PatroniConfig();

  /// The member's YAML. StateError when the instance is not a Patroni member; NotFound when it does
  /// not exist.
  static PatroniConfig load(Context& ctx, const InstanceRef& ref);
  /// Writes this document as the member's YAML, under the instance lock, atomically, mode 0600, with the
  /// file's current secrets (the secrets of this value are ignored). Checked first, nothing written on
  /// error: scope and name must be the file's (InvalidSpec naming "scope" / "name": they identify the
  /// member in the DCS), so must postgresql.data_dir, bin_dir and the authentication user names (the
  /// instance is made so: InvalidSpec naming the field), and changed postgresql.parameters must be values PostgreSQL accepts (as
  /// configure_instance checks them, InvalidSpec naming the parameter). The running member does not
  /// re-read it by itself: reload_instance() (Patroni's POST /reload) applies it.
  void save(Context& ctx, const InstanceRef& ref) const;
  /// What save() would refuse (a fixed field changed, a parameter value PostgreSQL would refuse: field
  /// "postgresql.parameters.<name>"), then Patroni's own validation of this document as the member's
  /// configuration, through a private 0600 copy given to `patroni --validate-config` (patroni.execpath;
  /// 60 s at most). Every secret the saved
  /// file would have is in the copy as `redacted` (the validator checks that they are there and are
  /// strings, and uses none): no secret reaches Patroni, its output or the events.
  /// Empty when valid. Patroni checks that the DCS is reachable and that the listen ports are free: on a
  /// running member, "Port N is already in use" for its own current restapi.listen / postgresql.listen is
  /// not reported. StateError when the instance is not a Patroni member.
  std::vector<PatroniConfigIssue> validate(Context& ctx, const InstanceRef& ref) const;

  /// The document as block YAML, secrets as `redacted` (Patroni's file, minus its secrets).
  std::string to_yaml() const;
  /// The same content as a JSON object (key order kept), secrets as `redacted`.
  std::string to_json() const;
  /// A document of to_json()'s shape. Every field listed below is checked as its setter checks it
  /// (InvalidSpec naming its path: "postgresql.pg_hba[2]", "watchdog.mode"), strings may not hold
  /// control characters anywhere (field: the path), and a secret may only be absent or `redacted` (the
  /// current one is kept by save). Other keys are kept as given. scope and name are checked by save().
  static PatroniConfig from_json(std::string_view json);

  std::string scope() const;  ///< read-only (save refuses a change)
  std::string name() const;   ///< read-only (save refuses a change)

  RestApi restapi() const;
  /// HOST:PORT (IPv6 as [::1]:8008); takes effect at Patroni's restart.
  void set_restapi_listen(const std::string& address);
  void set_restapi_connect_address(const std::string& address);

  Etcd etcd() const;
  /// HOST:PORT each, at least one.
  void set_etcd_hosts(const std::vector<std::string>& hosts);

  PostgreSQL postgresql() const;
  /// postgresql.parameters (the managed postgresql.conf parameters of a member).
  ConfParameters parameters() const;
  /// Replaces them all. Names are checked here (letters, digits, '_' and '.'; not listen_addresses or
  /// port, which Patroni owns through postgresql.listen), values by save() against PostgreSQL.
  void set_parameters(const ConfParameters& parameters);
  /// Sets one parameter, or removes it (nullopt).
  void set_parameter(const std::string& name, const std::optional<ConfValue>& value);
  /// postgresql.pg_hba, line by line.
  std::vector<std::string> pg_hba() const;
  /// Each line must be one pg_hba record: a known connection type, database, user, (address), a known
  /// method, options; no comment, no quote, no control character (InvalidSpec "postgresql.pg_hba[i]").
  void set_pg_hba(const std::vector<std::string>& lines);

  /// bootstrap.dcs as JSON text ("{}" when absent): used by Patroni only when it bootstraps the cluster.
  std::string bootstrap_dcs() const;
  /// A JSON object; secrets are refused in it.
  void set_bootstrap_dcs(std::string_view json);
  /// The ctl section (patronictl's TLS settings) as JSON text, secrets redacted ("{}" when absent).
  std::string ctl() const;

  Watchdog watchdog() const;
  /// mode off | automatic | required; device an absolute path without control characters.
  void set_watchdog(const Watchdog& watchdog);

  struct Impl;

 private:
  explicit PatroniConfig(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend struct Impl;
};

// Callback forms (<pglift/async.hpp> has the Asio-token ones: async_load_patroni_config...).
Operation start_load_patroni_config(Context& ctx, InstanceRef ref, Callback<PatroniConfig> done, OpOptions op = {});
Operation start_save_patroni_config(Context& ctx, InstanceRef ref, PatroniConfig config, Callback<> done, OpOptions op = {});
Operation start_validate_patroni_config(Context& ctx, InstanceRef ref, PatroniConfig config,
                                        Callback<std::vector<PatroniConfigIssue>> done, OpOptions op = {});

}  // namespace pglift
