#include "patroni/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "patroni/address.hpp"
#include "pglift/errors.hpp"

namespace pglift::patroni {
using core::Value;

Files Files::of(const PatroniSettings& s, const postgres::Layout& l) {
  const std::map<std::string, std::string> vars{{"name", l.qualname()}};
  return {core::render(s.configpath, vars), core::render(s.passfile, vars), core::render(s.pid_file, vars),
          s.logpath / l.qualname()};
}

Credentials Credentials::generate() {
  auto random_password = [] {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    for (unsigned char c : core::random_bytes(24)) out += alphabet[c % (sizeof alphabet - 1)];
    return out;
  };
  return {random_password(), random_password(), random_password()};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !*buf) return "localhost";
  return buf;
}

std::string host_address() { return choose_host_address(read_host_tables()); }

namespace {
std::string host_of(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

Value conf_value(const ConfValue& v) {
  return std::visit([](const auto& x) -> Value { return Value(x); }, v);
}

Value str_list(const std::vector<std::string>& items) {
  core::Array a;
  for (const auto& i : items) a.push_back(i);
  return a;
}

/// The REST API's credentials: the site's, else the cluster's, else new ones. Never an open API: anyone
/// reaching it could otherwise restart, switch over or reconfigure the cluster.
RestAuth rest_auth(const PatroniSettings& p, const Credentials& creds) {
  if (p.restapi.username) return {*p.restapi.username, *p.restapi.password};
  if (creds.restapi) return *creds.restapi;
  return {"pglift", Credentials::generate().superuser};  // one fresh password, from the same generator
}
}  // namespace

core::Object watchdog_section(const PatroniSettings& p) {
  if (p.watchdog_mode == "off") return {{"mode", "off"}};
  const fs::path device = p.watchdog_device.value_or("/dev/watchdog");
  std::error_code ec;
  if (fs::exists(device, ec)) return {{"mode", p.watchdog_mode}, {"device", device.string()}};
  if (p.watchdog_mode == "required")
    throw SettingsError("patroni.watchdog.mode is 'required', but the watchdog device " + device.string() +
                        " does not exist (patroni.watchdog.device; load a watchdog driver, e.g. softdog, or set the mode "
                        "to 'automatic' or 'off')");
  // automatic without a device: off, so that the YAML says what is in effect.
  return {{"mode", "off"}};
}

PartitionBounds partition_bounds(const PatroniSettings& p) {
  return {std::max(2000, p.retry_timeout * 1000 / 2), std::max(1, p.retry_timeout)};
}

Member resolve_member(const PatroniSpec& spec, int port, const ConfParameters& settings) {
  Member m;
  m.cluster = spec.cluster;
  m.node = spec.node.value_or(host_name());
  // The host's address only when a default needs it: it may be an error (several candidates).
  const std::string address =
      spec.restapi_connect_address && spec.postgresql_connect_host ? std::string() : host_address();
  m.restapi_connect_address = spec.restapi_connect_address.value_or(address + ":8008");
  m.restapi_listen = spec.restapi_listen.value_or(m.restapi_connect_address);
  m.connect_host = spec.postgresql_connect_host.value_or(address);
  // PostgreSQL listens where asked (listen_addresses), else on the connect host only: never '*' by default.
  if (auto it = settings.find("listen_addresses"); it != settings.end() && std::holds_alternative<std::string>(it->second))
    m.listen_host = std::get<std::string>(it->second);
  else
    m.listen_host = m.connect_host;
  m.port = port;
  m.replication_ssl_cert = spec.replication_ssl_cert;
  m.replication_ssl_key = spec.replication_ssl_key;
  return m;
}

Value build(const Settings& settings, const postgres::Layout& l, const Member& m, const ConfParameters& parameters,
            const Credentials& creds, const BootstrapOptions& bootstrap) {
  const PatroniSettings& p = *settings.patroni;
  const Files files = Files::of(p, l);
  const std::string surole = settings.postgresql.surole.name, replrole = *settings.postgresql.replrole;
  const std::string rewind_role = "rewind";

  core::Object restapi{{"listen", m.restapi_listen}, {"connect_address", m.restapi_connect_address}};
  if (p.restapi.cafile) restapi.emplace_back("cafile", p.restapi.cafile->string());
  if (p.restapi.certfile) restapi.emplace_back("certfile", p.restapi.certfile->string());
  if (p.restapi.keyfile) restapi.emplace_back("keyfile", p.restapi.keyfile->string());
  if (p.restapi.verify_client) restapi.emplace_back("verify_client", *p.restapi.verify_client);
  const RestAuth auth = rest_auth(p, creds);
  restapi.emplace_back("authentication", core::Object{{"username", auth.username}, {"password", auth.password}});

  core::Object etcd{{"hosts", str_list(p.etcd.hosts)}, {"protocol", p.etcd.protocol}};
  if (p.etcd.cacert) etcd.emplace_back("cacert", p.etcd.cacert->string());
  if (p.etcd.cert) etcd.emplace_back("cert", p.etcd.cert->string());
  if (p.etcd.key) etcd.emplace_back("key", p.etcd.key->string());
  if (p.etcd.username) {
    etcd.emplace_back("username", *p.etcd.username);
    etcd.emplace_back("password", *p.etcd.password);
  }

  core::Array initdb{core::Object{{"locale", bootstrap.locale}}, core::Object{{"encoding", bootstrap.encoding}},
                     core::Object{{"waldir", l.waldir.string()}}};
  if (bootstrap.data_checksums) initdb.push_back("data-checksums");

  // Patroni owns listen_addresses and port (from postgresql.listen), and cluster_name (the scope).
  core::Object params;
  for (const auto& [k, v] : parameters)
    if (k != "listen_addresses" && k != "port") params.emplace_back(k, conf_value(v));

  const std::string map = std::string("map=") + "pglift";
  core::Array hba{
      "local all " + surole + " peer " + map,
      "local all all peer " + map,
      "local replication " + replrole + " peer " + map,
      // Connections to 127.0.x.y arrive from 127.0.0.1: the whole loopback network is local.
      "host all all 127.0.0.0/8 scram-sha-256",
      "host all all ::1/128 scram-sha-256",
      "host replication " + replrole + " 127.0.0.0/8 scram-sha-256",
      "host replication " + replrole + " ::1/128 scram-sha-256",
      "host replication " + replrole + " samenet scram-sha-256",
      "host all " + surole + "," + rewind_role + " samenet scram-sha-256",
  };
  const auto& user = core::current_user_name();
  core::Array ident{"pglift " + user + " " + surole, "pglift " + user + " " + replrole, "pglift /^(.*)$ \\1"};

  core::Object replication{{"username", replrole}, {"password", creds.replication}};
  if (m.replication_ssl_cert) {
    replication.emplace_back("sslcert", m.replication_ssl_cert->string());
    replication.emplace_back("sslkey", m.replication_ssl_key->string());
  }

  const core::Object watchdog = watchdog_section(p);
  const PartitionBounds bounds = partition_bounds(p);

  auto listen_host = m.listen_host.find(':') != std::string::npos && m.listen_host.find(',') == std::string::npos
                         ? "[" + m.listen_host + "]"
                         : m.listen_host;
  auto connect_host = m.connect_host.find(':') != std::string::npos ? "[" + m.connect_host + "]" : m.connect_host;

  return core::Object{
      {"scope", m.cluster},
      {"name", m.node},
      {"namespace", "/service/"},
      {"log", core::Object{{"dir", files.logdir.string()}, {"level", "INFO"}}},
      {"restapi", restapi},
      {"etcd3", etcd},
      {"bootstrap",
       core::Object{
           {"dcs",
            core::Object{
                {"ttl", p.ttl},
                {"loop_wait", p.loop_wait},
                {"retry_timeout", p.retry_timeout},
                {"maximum_lag_on_failover", 1048576},
                // Patroni 3.0.2 compares WAL positions across timelines when it elects a new leader:
                // a member stuck on a forked timeline (its rewind failed) looks ahead of the replicas
                // that follow the leader, and promoting it loses what the leader's timeline committed
                // since the fork (seen in the hosts suite). check_timeline excludes it.
                {"check_timeline", true},
                {"primary_stop_timeout", bounds.primary_stop_timeout_s},
                {"synchronous_mode", bootstrap.synchronous_mode},
                {"synchronous_mode_strict", bootstrap.synchronous_mode_strict},
                {"postgresql",
                 core::Object{{"use_pg_rewind", p.use_pg_rewind},
                              {"use_slots", true},
                              {"parameters", core::Object{{"wal_level", "replica"},
                                                          {"hot_standby", "on"},
                                                          {"max_wal_senders", 10},
                                                          {"max_replication_slots", 10},
                                                          {"wal_log_hints", "on"},
                                                          {"wal_keep_size", "128MB"},
                                                          // An isolated leader's shutdown must not wait
                                                          // 60 s on standbys it cannot reach.
                                                          {"wal_sender_timeout", std::to_string(bounds.wal_sender_timeout_ms) + "ms"}}}}},
            }},
           {"initdb", initdb},
           {"pg_hba", hba},  // Patroni 3.0.2's validator requires it, although postgresql.pg_hba wins
       }},
      {"postgresql",
       core::Object{
           {"listen", listen_host + ":" + std::to_string(m.port)},
           {"connect_address", connect_host + ":" + std::to_string(m.port)},
           {"data_dir", l.datadir.string()},
           {"bin_dir", l.bindir.string()},
           {"pgpass", files.passfile.string()},
           {"authentication",
            core::Object{{"superuser", core::Object{{"username", surole}, {"password", creds.superuser}}},
                         {"replication", replication},
                         {"rewind", core::Object{{"username", rewind_role}, {"password", creds.rewind}}}}},
           {"parameters", params},
           {"pg_hba", hba},
           {"pg_ident", ident},
           {"create_replica_methods", core::Array{"basebackup"}},
           // A fast checkpoint: the leader does not make a new replica wait for a spread one.
           {"basebackup", core::Array{core::Object{{"checkpoint", "fast"}}, core::Object{{"waldir", l.waldir.string()}}}},
       }},
      {"watchdog", watchdog},
  };
}

Value read(const fs::path& path) {
  auto text = core::read_file_if_exists(path);
  if (!text) throw NotFound("Patroni configuration", path.string());
  Value v = core::parse_yaml(*text);
  if (!v.is_object()) throw SystemError("invalid Patroni configuration " + path.string() + ": expecting a mapping");
  return v;
}

void write(const fs::path& path, const Value& managed) {
  Value doc = core::Object{};
  if (auto text = core::read_file_if_exists(path)) {
    doc = core::parse_yaml(*text);
    if (!doc.is_object()) doc = core::Object{};
  }
  // Lists and parameters are replaced whole; other mappings merge, so that unmanaged keys survive.
  core::merge(doc, managed);
  if (const Value* pg = managed.find("postgresql"))
    if (const Value* params = pg->find("parameters"))
      const_cast<Value*>(doc.find("postgresql"))->set("parameters", *params);
  core::make_dirs(path.parent_path(), 0750);
  core::write_file_atomic(path, core::to_yaml(doc), 0600);
}

void write_parameters(const fs::path& path, const ConfParameters& parameters) {
  Value doc = read(path);
  core::Object params;
  for (const auto& [k, v] : parameters)
    if (k != "listen_addresses" && k != "port") params.emplace_back(k, conf_value(v));
  Value* pg = const_cast<Value*>(doc.find("postgresql"));
  if (!pg) pg = &doc.set("postgresql", core::Object{});
  if (!pg->is_object() && !pg->is_null())
    throw SystemError("invalid Patroni configuration " + path.string() + ": 'postgresql' is not a mapping");
  pg->set("parameters", params);
  core::write_file_atomic(path, core::to_yaml(doc), 0600);
}

namespace {
std::string str_at(const Value& v, std::initializer_list<const char*> path) {
  const Value* cur = &v;
  for (const char* key : path) {
    cur = cur->find(key);
    if (!cur) return {};
  }
  if (cur->is_string()) return cur->as_string();
  if (cur->is_int()) return std::to_string(cur->as_int());
  return {};
}

std::optional<RestAuth> rest_auth_of(const Value& c) {
  RestAuth auth{str_at(c, {"restapi", "authentication", "username"}), str_at(c, {"restapi", "authentication", "password"})};
  if (auth.username.empty() || auth.password.empty()) return std::nullopt;
  return auth;
}
}  // namespace

Member member_of(const Value& c) {
  Member m;
  m.cluster = str_at(c, {"scope"});
  m.node = str_at(c, {"name"});
  m.restapi_connect_address = str_at(c, {"restapi", "connect_address"});
  m.restapi_listen = str_at(c, {"restapi", "listen"});
  std::string connect = str_at(c, {"postgresql", "connect_address"});
  m.connect_host = host_of(connect);
  std::string listen = str_at(c, {"postgresql", "listen"});
  m.listen_host = host_of(listen);
  auto colon = listen.rfind(':');
  if (colon != std::string::npos) m.port = std::atoi(listen.c_str() + colon + 1);
  m.restapi_auth = rest_auth_of(c);
  return m;
}

Credentials credentials_of(const Value& c) {
  return {str_at(c, {"postgresql", "authentication", "superuser", "password"}),
          str_at(c, {"postgresql", "authentication", "replication", "password"}),
          str_at(c, {"postgresql", "authentication", "rewind", "password"}), rest_auth_of(c)};
}

PatroniCredentials cluster_credentials_of(const Value& c) {
  auto role = [&c](const char* name) {
    return RoleCredentials{str_at(c, {"postgresql", "authentication", name, "username"}),
                           str_at(c, {"postgresql", "authentication", name, "password"})};
  };
  return {role("superuser"), role("replication"), role("rewind")};
}

ConfParameters parameters_of(const Value& c) {
  ConfParameters out;
  const Value* pg = c.find("postgresql");
  const Value* params = pg ? pg->find("parameters") : nullptr;
  if (!params || !params->is_object()) return out;
  for (const auto& [k, v] : params->as_object()) {
    if (v.is_bool()) out[k] = v.as_bool();
    else if (v.is_int()) out[k] = v.as_int();
    else if (v.is_double()) out[k] = v.as_double();
    else if (v.is_string()) out[k] = v.as_string();
  }
  return out;
}

}  // namespace pglift::patroni
