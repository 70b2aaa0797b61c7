// JSON faces of the instance values, validation of the manifest, and its JSON Schema.
#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "core/text.hpp"
#include "core/auth_methods.hpp"
#include "core/patroni_json.hpp"
#include "core/fields.hpp"
#include "core/spec_json.hpp"
#include "core/value.hpp"
#include "pglift/errors.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"

namespace pglift {
using core::Value;
using core::conf_object;
using core::conf_to_value;
using core::expecting;
using core::Fields;
using core::parse;
using core::value_to_conf;

const char* to_string(InstanceState s) noexcept { return s == InstanceState::started ? "started" : "stopped"; }
const char* to_string(StopMode m) noexcept {
  return m == StopMode::smart ? "smart" : m == StopMode::fast ? "fast" : "immediate";
}
const char* to_string(RunStatus s) noexcept { return s == RunStatus::running ? "running" : "not_running"; }

namespace {

PatroniSpec parse_patroni_spec(const Value& v) {
  Fields f(v, "patroni");
  PatroniSpec p;
  p.cluster = f.str("cluster").value_or("");
  p.node = f.str("node");
  if (const Value* api = f.get("restapi")) {
    Fields a(*api, "patroni.restapi");
    p.restapi_connect_address = a.str("connect_address");
    p.restapi_listen = a.str("listen");
    a.reject_unknown({"cafile", "certfile", "keyfile", "verify_client"});
  }
  if (const Value* pg = f.get("postgresql")) {
    Fields g(*pg, "patroni.postgresql");
    p.postgresql_connect_host = g.str("connect_host");
    if (const Value* repl = g.get("replication")) {
      Fields r(*repl, "patroni.postgresql.replication");
      if (const Value* ssl = r.get("ssl")) {
        Fields t(*ssl, "patroni.postgresql.replication.ssl");
        if (auto c = t.str("cert")) p.replication_ssl_cert = *c;
        if (auto k = t.str("key")) p.replication_ssl_key = *k;
        t.reject_unknown();
      }
      r.reject_unknown();
    }
    g.reject_unknown();
  }
  if (auto legacy = f.str("postgresql_connect_host")) p.postgresql_connect_host = legacy;
  p.synchronous_mode = f.boolean("synchronous_mode");
  p.synchronous_mode_strict = f.boolean("synchronous_mode_strict");
  f.reject_unknown({"cluster_members", "is_paused", "state", "orphan_postmaster", "dcs_error", "fenced", "discarded_on_rejoin"});  // get's output
  return p;
}

Value patroni_spec_value(const PatroniSpec& p) {
  auto opt = [](const auto& o) -> Value { return o ? Value(*o) : Value(); };
  auto path = [](const auto& o) -> Value { return o ? Value(o->string()) : Value(); };
  return core::Object{
      {"cluster", p.cluster},
      {"node", opt(p.node)},
      {"restapi", core::Object{{"connect_address", opt(p.restapi_connect_address)}, {"listen", opt(p.restapi_listen)}}},
      {"postgresql",
       core::Object{{"connect_host", opt(p.postgresql_connect_host)},
                    {"replication", core::Object{{"ssl", core::Object{{"cert", path(p.replication_ssl_cert)},
                                                                      {"key", path(p.replication_ssl_key)}}}}}}},
      {"synchronous_mode", opt(p.synchronous_mode)},
      {"synchronous_mode_strict", opt(p.synchronous_mode_strict)},
  };
}

/// HOST:PORT with a non-empty host and a port in range; IPv6 literals in brackets.
void check_address(const std::string& field, const std::string& value) {
  auto colon = value.rfind(':');
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < value.size();
  if (ok) {
    std::string host = value.substr(0, colon), port = value.substr(colon + 1);
    ok = std::all_of(port.begin(), port.end(), ::isdigit) && port.size() <= 5 && std::stoi(port) >= 1 &&
         std::stoi(port) <= 65535 && (host.find(':') == std::string::npos || (host.front() == '[' && host.back() == ']'));
  }
  if (!ok) throw InvalidSpec(field, value, "expecting HOST:PORT (IPv6 addresses in brackets: [::1]:8008)");
}

/// Patroni scope and node names end up in DCS keys, file names, YAML and the REST API's answers:
/// letters, digits, '_', '.', '-', and no leading '-' (an option) or '.' (a hidden file, "..").
void check_patroni_name(const std::string& field, const std::string& value) {
  if (value.empty()) throw InvalidSpec(field, value, "must not be empty");
  if (!std::all_of(value.begin(), value.end(), [](unsigned char c) { return core::is_ascii_alnum(c) || c == '_' || c == '.' || c == '-'; }))
    throw InvalidSpec(field, value, "must contain only letters, digits, '_', '.' and '-'");
  if (value.front() == '-' || value.front() == '.') throw InvalidSpec(field, value, "must not start with '-' or '.'");
  // A node's replication slot is named after it, and slot names stop at 63 bytes (NAMEDATALEN - 1): two
  // longer names would share a slot. Host names stop there too (a DNS label).
  if (value.size() > 63) throw InvalidSpec(field, value.substr(0, 63) + "...", "must be at most 63 characters long");
}

/// A host name or an IP address (IPv6 with or without brackets, with a zone): it goes into Patroni's YAML
/// and conninfo strings.
void check_host(const std::string& field, const std::string& value) {
  if (value.empty()) throw InvalidSpec(field, value, "must not be empty");
  if (value.size() > 253 ||
      !std::all_of(value.begin(), value.end(), [](unsigned char c) {
        return core::is_ascii_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '%' || c == '[' || c == ']';
      }))
    throw InvalidSpec(field, value, "expecting a host name or an IP address");
}

Value member_value(const ClusterMember& m) {
  core::Object o{{"host", m.host}, {"name", m.name}, {"port", m.port}, {"role", m.role}, {"state", m.state}};
  if (m.api_url) o.emplace_back("api_url", *m.api_url);
  if (m.timeline) o.emplace_back("timeline", *m.timeline);
  if (m.lag) o.emplace_back("lag", std::visit([](const auto& x) -> Value { return Value(x); }, *m.lag));
  if (m.patroni_api) o.emplace_back("patroni_api", *m.patroni_api);
  if (m.health) o.emplace_back("health", *m.health);
  if (m.health_reason) o.emplace_back("health_reason", *m.health_reason);
  for (const auto& [k, json] : m.extra) {
    try {
      o.emplace_back(k, core::parse_json(json));
    } catch (const core::ParseError&) {
      o.emplace_back(k, json);
    }
  }
  return o;
}

Value patroni_info_value(const PatroniInfo& p) {
  core::Array members;
  for (const auto& m : p.cluster_members) members.push_back(member_value(m));
  core::Object o{
      {"cluster", p.cluster},
      {"node", p.node},
      {"restapi", core::Object{{"connect_address", p.restapi_connect_address}, {"listen", p.restapi_listen}}},
      {"postgresql", core::Object{{"connect_host", p.postgresql_connect_host ? Value(*p.postgresql_connect_host) : Value()}}},
      {"cluster_members", members},
  };
  if (p.is_paused) o.emplace_back("is_paused", *p.is_paused);
  if (p.state) o.emplace_back("state", *p.state);
  o.emplace_back("orphan_postmaster", p.orphan_postmaster);
  if (p.dcs_error) o.emplace_back("dcs_error", *p.dcs_error);
  if (p.synchronous_mode) o.emplace_back("synchronous_mode", *p.synchronous_mode);
  if (p.synchronous_mode_strict) o.emplace_back("synchronous_mode_strict", *p.synchronous_mode_strict);
  if (p.fenced) o.emplace_back("fenced", core::Object{{"at", p.fenced->at}, {"reason", p.fenced->reason}});
  if (const auto& r = p.discarded_on_rejoin)  // absent when there is no record; commits null when unknown
    o.emplace_back("discarded_on_rejoin", core::Object{{"at", r->at},
                                                       {"outcome", r->outcome},
                                                       {"description", r->description},
                                                       {"commits", r->commits ? Value(*r->commits) : Value()}});
  return o;
}

/// Instance names go into paths, the qualname (where '-' separates the version), systemd unit names,
/// the .psqlrc prompt and Patroni's YAML: letters, digits and underscores only.
void check_instance_name(const std::string& field, const std::string& name) {
  if (name.empty()) throw InvalidSpec(field, name, "must not be empty");
  if (name.find('/') != std::string::npos) throw InvalidSpec(field, name, "instance name must not contain slashes");
  if (name.find('-') != std::string::npos) throw InvalidSpec(field, name, "instance name must not contain dashes");
  if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return core::is_ascii_alnum(c) || c == '_'; }))
    throw InvalidSpec(field, name, "instance name must contain only letters, digits and underscores");
  // It is part of file and directory names (the lock file, the Patroni YAML and its backups, log files with
  // a date...), which stop at 255 bytes: a long name failed half-way ("File name too long"). 63, as an SQL
  // identifier, leaves room for every suffix.
  if (name.size() > 63) throw InvalidSpec(field, name.substr(0, 63) + "...", "instance name must be at most 63 characters long");
}

/// "roles": [{...}, ...] read item by item by `read` (the role or database reader), whose errors are
/// named by the item's path ("roles[1].name").
template <class Read>
auto read_items(Fields& f, const std::string& key, Read read) {
  std::vector<decltype(read(std::declval<const Value&>()))> out;
  const Value* v = f.get(key);
  if (!v) return out;
  if (!v->is_array()) throw InvalidSpec(key, core::short_text(*v), expecting("an array", *v));
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    const Value& item = v->as_array()[i];
    const std::string path = key + "[" + std::to_string(i) + "]";
    if (!item.is_object()) throw InvalidSpec(path, core::short_text(item), expecting("an object", item));
    try {
      out.push_back(read(item));
    } catch (const InvalidSpec& e) {
      throw e.within(path);
    }
  }
  return out;
}

/// Each item validated as its own spec, named by its path; a name given twice is refused (the second
/// creation would fail, and revert the instance, after initdb).
template <class Spec>
void validate_items(const std::string& key, const std::vector<Spec>& items) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string path = key + "[" + std::to_string(i) + "]";
    try {
      items[i].validate();
    } catch (const InvalidSpec& e) {
      throw e.within(path);
    }
    if (!names.insert(items[i].name).second) throw InvalidSpec(path + ".name", items[i].name, "given twice in '" + key + "'");
  }
}

InstanceState parse_state(const std::string& s) {
  if (s == "started") return InstanceState::started;
  if (s == "stopped") return InstanceState::stopped;
  throw InvalidSpec("state", s, "expecting 'started' or 'stopped'");
}

}  // namespace

InstanceSpec InstanceSpec::from_json(const std::string& json) {
  Value doc = parse(json, "instance");
  Fields f(doc, "instance");
  InstanceSpec spec;
  spec.name = f.str("name").value_or("");
  if (const Value* v = f.get("version"); v && v->is_int()) spec.version = std::to_string(v->as_int());
  else spec.version = f.str("version");
  if (auto port = f.integer("port")) {
    if (*port < 1 || *port > 65535) throw InvalidSpec("port", std::to_string(*port), "must be between 1 and 65535");
    spec.port = static_cast<int>(*port);
  }
  if (const Value* settings = f.get("settings")) {
    if (!settings->is_object()) throw InvalidSpec("settings", core::short_text(*settings), expecting("an object", *settings));
    for (const auto& [k, v] : settings->as_object()) spec.settings[k] = value_to_conf("settings." + k, v);
  }
  spec.data_checksums = f.boolean("data_checksums");
  spec.locale = f.str("locale");
  spec.encoding = f.str("encoding");
  if (const Value* auth = f.get("auth")) {
    Fields a(*auth, "auth");
    spec.auth.local = a.str("local");
    spec.auth.host = a.str("host");
    spec.auth.hostssl = a.str("hostssl");
    a.reject_unknown();
  }
  spec.surole_password = f.str("surole_password");
  spec.replrole_password = f.str("replrole_password");
  spec.rewind_password = f.str("rewind_password");
  if (auto state = f.str("state")) spec.state = parse_state(*state);
  if (const Value* patroni = f.get("patroni")) spec.patroni = parse_patroni_spec(*patroni);
  spec.roles = read_items(f, "roles", core::role_spec_of);
  spec.databases = read_items(f, "databases", core::database_spec_of);
  // Read-only fields of `get` output are accepted so that a `get -o json` document can be fed back.
  f.reject_unknown({"pending_restart", "data_directory", "wal_directory", "standby"});
  spec.validate();
  return spec;
}

void InstanceSpec::validate() const {
  check_instance_name("name", name);
  if (version && (version->empty() || !std::all_of(version->begin(), version->end(), ::isdigit)))
    throw InvalidSpec("version", *version, "expecting a PostgreSQL major version such as 15");
  if (port && (*port < 1 || *port > 65535)) throw InvalidSpec("port", std::to_string(*port), "must be between 1 and 65535");
  if (auth.local && !core::local_auth_methods.count(*auth.local))
    throw InvalidSpec("auth.local", *auth.local, "not a valid local authentication method");
  if (auth.host && !core::host_auth_methods.count(*auth.host))
    throw InvalidSpec("auth.host", *auth.host, "not a valid host authentication method");
  if (auth.hostssl && !core::host_auth_methods.count(*auth.hostssl) && *auth.hostssl != "cert")
    throw InvalidSpec("auth.hostssl", *auth.hostssl, "not a valid hostssl authentication method");
  if (rewind_password && !patroni)
    throw InvalidSpec("rewind_password", *rewind_password, "only for a Patroni member (the rewind role is Patroni's)");
  if (patroni) {
    check_patroni_name("patroni.cluster", patroni->cluster);
    if (patroni->node) check_patroni_name("patroni.node", *patroni->node);
    if (patroni->restapi_connect_address) check_address("patroni.restapi.connect_address", *patroni->restapi_connect_address);
    if (patroni->restapi_listen) check_address("patroni.restapi.listen", *patroni->restapi_listen);
    if (patroni->postgresql_connect_host) check_host("patroni.postgresql.connect_host", *patroni->postgresql_connect_host);
    if (patroni->replication_ssl_cert.has_value() != patroni->replication_ssl_key.has_value())
      throw InvalidSpec("patroni.postgresql.replication.ssl", "", "cert and key go together");
    if (patroni->synchronous_mode_strict.value_or(false) && patroni->synchronous_mode == std::optional<bool>(false))
      throw InvalidSpec("patroni.synchronous_mode_strict", "true", "requires synchronous_mode");
  }
  if (settings.count("port")) {
    const auto* p = std::get_if<std::int64_t>(&settings.at("port"));
    if (!p) throw InvalidSpec("settings.port", "", "expecting an integer");
    if (port && *port != *p) throw InvalidSpec("port", std::to_string(*port), "'port' field and settings['port'] mismatch");
  }
  validate_items("roles", roles);
  validate_items("databases", databases);
}

std::string InstanceSpec::to_json() const {
  auto opt = [](const auto& o) -> Value { return o ? Value(*o) : Value(); };
  core::Object auth_obj{{"local", opt(auth.local)}, {"host", opt(auth.host)}, {"hostssl", opt(auth.hostssl)}};
  Value doc = core::Object{
      {"name", name},
      {"version", opt(version)},
      {"port", port ? Value(*port) : Value()},
      {"settings", conf_object(settings)},
      {"data_checksums", opt(data_checksums)},
      {"locale", opt(locale)},
      {"encoding", opt(encoding)},
      {"auth", auth_obj},
      {"state", to_string(state)},
  };
  if (patroni) doc.set("patroni", patroni_spec_value(*patroni));
  return core::to_json(doc);
}

std::string Instance::to_json() const {
  auto opt = [](const auto& o) -> Value { return o ? Value(*o) : Value(); };
  Value doc = core::Object{
      {"name", name},
      {"version", version},
      {"port", port},
      {"settings", conf_object(settings)},
      {"data_checksums", opt(data_checksums)},
      {"locale", opt(locale)},
      {"encoding", opt(encoding)},
      {"standby", nullptr},
      {"state", to_string(state)},
      {"pending_restart", pending_restart},
      {"data_directory", data_directory.string()},
      {"wal_directory", wal_directory.string()},
  };
  if (patroni) doc.set("patroni", patroni_info_value(*patroni));
  return core::to_json(doc);
}

Instance Instance::from_json(const std::string& json) {
  Value doc = parse(json, "instance");
  Fields f(doc, "instance");
  Instance i;
  i.name = f.str("name").value_or("");
  i.version = f.str("version").value_or("");
  i.port = static_cast<int>(f.integer("port").value_or(5432));
  if (const Value* settings = f.get("settings")) {
    if (!settings->is_object()) throw InvalidSpec("settings", core::short_text(*settings), expecting("an object", *settings));
    for (const auto& [k, v] : settings->as_object()) i.settings[k] = value_to_conf("settings." + k, v);
  }
  i.data_checksums = f.boolean("data_checksums");
  i.locale = f.str("locale");
  i.encoding = f.str("encoding");
  i.state = parse_state(f.str("state").value_or("stopped"));
  i.pending_restart = f.boolean("pending_restart").value_or(false);
  i.data_directory = f.str("data_directory").value_or("");
  i.wal_directory = f.str("wal_directory").value_or("");
  if (const Value* p = f.get("patroni")) {
    Fields pf(*p, "patroni");
    PatroniInfo info;
    info.cluster = pf.str("cluster").value_or("");
    info.node = pf.str("node").value_or("");
    if (const Value* api = pf.get("restapi")) {
      Fields a(*api, "patroni.restapi");
      info.restapi_connect_address = a.str("connect_address").value_or("");
      info.restapi_listen = a.str("listen").value_or("");
    }
    if (const Value* pg = pf.get("postgresql")) info.postgresql_connect_host = Fields(*pg, "patroni.postgresql").str("connect_host");
    if (const Value* members = pf.get("cluster_members"); members && members->is_array())
      for (const auto& m : members->as_array())
        if (m.is_object()) info.cluster_members.push_back(core::cluster_member(m));
    info.is_paused = pf.boolean("is_paused");
    info.state = pf.str("state");
    info.orphan_postmaster = pf.boolean("orphan_postmaster").value_or(false);
    info.dcs_error = pf.str("dcs_error");
    info.synchronous_mode = pf.boolean("synchronous_mode");
    info.synchronous_mode_strict = pf.boolean("synchronous_mode_strict");
    if (const Value* fenced = pf.get("fenced")) {
      Fields ff(*fenced, "patroni.fenced");
      info.fenced = PatroniFence{ff.str("at").value_or(""), ff.str("reason").value_or("")};
    }
    if (const Value* rejoin = pf.get("discarded_on_rejoin")) {
      Fields rf(*rejoin, "patroni.discarded_on_rejoin");
      info.discarded_on_rejoin = PatroniRejoin{rf.str("at").value_or(""), rf.str("outcome").value_or(""),
                                               rf.str("description").value_or(""), rf.integer("commits")};
    }
    i.patroni = std::move(info);
  }
  f.reject_unknown({"standby"});
  return i;
}

std::string to_json(const std::vector<InstanceListItem>& items) {
  core::Array a;
  for (const auto& item : items)
    a.push_back(core::Object{{"name", item.name},
                             {"version", item.version},
                             {"port", item.port},
                             {"datadir", item.datadir.string()},
                             {"status", to_string(item.status)}});
  return core::to_json(a);
}

InstanceRef InstanceRef::parse(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) {
    check_instance_name("instance", text);  // no lookup of a name that no instance can have
    return {text, std::nullopt};
  }
  std::string version = text.substr(0, slash), name = text.substr(slash + 1);
  if (version.empty() || !std::all_of(version.begin(), version.end(), ::isdigit) || name.empty() ||
      name.find('/') != std::string::npos)
    throw InvalidSpec("instance", text, "expecting NAME or VERSION/NAME");
  check_instance_name("instance", name);
  return {name, version};
}

namespace {

/// What parse_patroni_spec reads, and InstanceSpec::validate checks of it.
Value patroni_schema() {
  auto nullable = [](const char* type, const char* desc) {
    return Value(core::Object{{"type", core::Array{type, "null"}}, {"description", desc}});
  };
  auto object = [](const char* desc, core::Object properties) {
    return Value(core::Object{{"type", core::Array{"object", "null"}},
                              {"description", desc},
                              {"additionalProperties", false},
                              {"properties", std::move(properties)}});
  };
  auto address = [](const char* desc) {
    return Value(core::Object{{"type", core::Array{"string", "null"}},
                              {"description", desc},
                              {"pattern", "^(\\[.*\\]|[^:]+):[0-9]{1,5}$"}});
  };
  // check_patroni_name: letters, digits, '_', '.', '-', not starting with '-' or '.'.
  const char* name_pattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]*$";
  auto site_setting = [](const char* key) {
    return Value(core::Object{
        {"deprecated", true},
        {"description", std::string("A site setting (patroni.restapi.") + key + "): accepted here and ignored."}});
  };
  auto read_only = [](const char* desc) { return Value(core::Object{{"readOnly", true}, {"description", desc}}); };
  Value cluster = core::Object{{"type", "string"}, {"description", "Name (scope) of the Patroni cluster."}, {"pattern", name_pattern},
                               {"maxLength", 63}};
  Value node = nullable("string", "Name of the Patroni node (default: the host name).");
  node.set("pattern", name_pattern);
  node.set("maxLength", 63);
  // check_host: a host name or an IP address.
  const char* host_pattern = "^[A-Za-z0-9._:%\\[\\]-]+$";
  Value connect_host = nullable("string", "Host or IP address through which PostgreSQL is externally accessible.");
  connect_host.set("pattern", host_pattern);
  connect_host.set("maxLength", 253);
  Value legacy_host = nullable("string", "Former name of postgresql.connect_host.");
  legacy_host.set("deprecated", true);
  legacy_host.set("pattern", host_pattern);
  legacy_host.set("maxLength", 253);
  Value ssl = object("Client certificate of this member for replication connections: cert and key go together.",
                     core::Object{{"cert", nullable("string", "Client certificate file.")},
                                  {"key", nullable("string", "Private key file of the client certificate.")}});
  ssl.set("dependentRequired", core::Object{{"cert", core::Array{"key"}}, {"key", core::Array{"cert"}}});
  return core::Object{
      {"type", core::Array{"object", "null"}},
      {"description", "Configuration for the Patroni service (this instance is a member of a Patroni cluster)."},
      {"additionalProperties", false},
      {"required", core::Array{"cluster"}},
      {"properties",
       core::Object{
           {"cluster", cluster},
           {"node", node},
           {"restapi", object("REST API of this member.",
                              core::Object{{"connect_address", address("IP address (or hostname) and port, to access the "
                                                                       "Patroni REST API: HOST:PORT ([::1]:8008).")},
                                           {"listen", address("IP address (or hostname) and port that Patroni will "
                                                              "listen to for the REST API: HOST:PORT.")},
                                           {"cafile", site_setting("cafile")},
                                           {"certfile", site_setting("certfile")},
                                           {"keyfile", site_setting("keyfile")},
                                           {"verify_client", site_setting("verify_client")}})},
           {"postgresql", object("PostgreSQL as this member runs it.",
                                 core::Object{{"connect_host", connect_host},
                                              {"replication", object("Replication connections of this member.",
                                                                     core::Object{{"ssl", ssl}})}})},
           {"postgresql_connect_host", legacy_host},
           {"synchronous_mode", nullable("boolean", "Turn on synchronous replication mode (a new cluster only).")},
           {"synchronous_mode_strict", nullable("boolean", "Refuse writes when no synchronous standby is available (needs synchronous_mode).")},
           {"cluster_members", read_only("Members of the cluster (instance get).")},
           {"is_paused", read_only("Whether the cluster is paused (instance get).")},
           {"state", read_only("State of this member (instance get).")},
           {"orphan_postmaster", read_only("The postmaster runs without its Patroni (instance get).")},
           {"dcs_error", read_only("Why the DCS could not be reached (instance get).")},
           {"fenced", read_only("The record of the last fencing of this member (instance get).")},
           {"discarded_on_rejoin", read_only("The commits this member discarded when it rejoined (instance get).")},
       }},
  };
}

}  // namespace

std::string InstanceSpec::json_schema() {
  auto nullable = [](const char* type, const char* desc) {
    return Value(core::Object{{"type", core::Array{type, "null"}}, {"description", desc}});
  };
  core::Array local, host;
  for (const auto& m : core::local_auth_methods) local.push_back(m);
  for (const auto& m : core::host_auth_methods) host.push_back(m);
  core::Array hostssl = host;
  hostssl.push_back("cert");
  Value schema = core::Object{
      {"$schema", "https://json-schema.org/draft/2020-12/schema"},
      {"title", "Instance"},
      {"description", "A PostgreSQL instance"},
      {"type", "object"},
      {"additionalProperties", false},
      {"required", core::Array{"name"}},
      {"properties",
       core::Object{
           {"name", Value(core::Object{{"type", "string"},
                                       {"description", "Instance name: letters, digits and underscores"},
                                       {"pattern", "^[A-Za-z0-9_]+$"}, {"maxLength", 63}})},
           {"version", Value(core::Object{{"type", core::Array{"string", "null"}},
                                          {"description", "PostgreSQL major version"},
                                          {"pattern", "^[0-9]+$"}})},
           {"port", Value(core::Object{{"type", core::Array{"integer", "null"}},
                                       {"description", "TCP port the PostgreSQL instance listens to"},
                                       {"minimum", 1},
                                       {"maximum", 65535},
                                       {"default", 5432}})},
           {"settings", Value(core::Object{{"type", "object"},
                                           {"description", "Settings for the PostgreSQL instance"},
                                           {"additionalProperties",
                                            core::Object{{"type", core::Array{"string", "integer", "number", "boolean"}}}}})},
           {"data_checksums", nullable("boolean", "Enable or disable data checksums")},
           {"locale", nullable("string", "Default locale")},
           {"encoding", nullable("string", "Character encoding of the PostgreSQL instance")},
           {"auth", Value(core::Object{
                        {"type", "object"},
                        {"additionalProperties", false},
                        {"writeOnly", true},
                        {"properties",
                         core::Object{{"local", Value(core::Object{{"enum", local}})},
                                      {"host", Value(core::Object{{"enum", host}})},
                                      {"hostssl", Value(core::Object{{"enum", hostssl}})}}}})},
           {"surole_password", Value(core::Object{{"type", core::Array{"string", "null"}},
                                                  {"writeOnly", true},
                                                  {"description", "Super-user role password"}})},
           {"replrole_password", Value(core::Object{{"type", core::Array{"string", "null"}},
                                                    {"writeOnly", true},
                                                    {"description", "Replication role password"}})},
           {"rewind_password", Value(core::Object{{"type", core::Array{"string", "null"}},
                                                  {"writeOnly", true},
                                                  {"description", "Patroni: password of the rewind role (pg_rewind)"}})},
           {"state", Value(core::Object{{"enum", core::Array{"started", "stopped"}},
                                        {"default", "started"},
                                        {"description", "Runtime state"}})},
           {"patroni", patroni_schema()},
           {"roles", Value(core::Object{{"type", core::Array{"array", "null"}},
                                        {"writeOnly", true},
                                        {"description", "Roles to create once the instance runs (not on a Patroni replica)."},
                                        {"items", core::role_schema()}})},
           {"databases", Value(core::Object{{"type", core::Array{"array", "null"}},
                                            {"writeOnly", true},
                                            {"description", "Databases to create once the instance runs, after the roles (not on a Patroni replica)."},
                                            {"items", core::database_schema()}})},
           {"pending_restart", Value(core::Object{{"type", "boolean"}, {"readOnly", true}})},
           {"data_directory", Value(core::Object{{"type", "string"}, {"readOnly", true}})},
           {"wal_directory", Value(core::Object{{"type", "string"}, {"readOnly", true}})},
           {"standby", Value(core::Object{{"type", "null"}, {"readOnly", true}, {"description", "Standby (instance get: always null)."}})},
       }},
  };
  return core::to_json(schema, true);
}

namespace core {
ClusterMember cluster_member(const Value& v) {
  ClusterMember m;
  for (const auto& [k, x] : v.as_object()) {
    if (k == "name" && x.is_string()) m.name = x.as_string();
    else if (k == "host" && x.is_string()) m.host = x.as_string();
    else if (k == "role" && x.is_string()) m.role = x.as_string();
    else if (k == "state" && x.is_string()) m.state = x.as_string();
    else if (k == "port" && x.is_int()) m.port = static_cast<int>(x.as_int());
    else if (k == "api_url" && x.is_string()) m.api_url = x.as_string();
    else if (k == "timeline" && x.is_int()) m.timeline = x.as_int();
    else if (k == "lag" && x.is_int()) m.lag = x.as_int();
    else if (k == "lag" && x.is_string()) m.lag = x.as_string();
    else if (k == "patroni_api" && x.is_string()) m.patroni_api = x.as_string();
    else if (k == "health" && x.is_string()) m.health = x.as_string();
    else if (k == "health_reason" && x.is_string()) m.health_reason = x.as_string();
    else m.extra.emplace_back(k, core::to_json(x));
  }
  return m;
}

// --- cluster ---
Value cluster_member_value(const ClusterMember& member) { return member_value(member); }
void validate_patroni_name(const std::string& field, const std::string& value) { check_patroni_name(field, value); }
// --- end cluster ---

}  // namespace core

ParameterChanges parameter_changes_from_json(const std::string& json) {
  Value doc = parse(json, "changes");
  if (!doc.is_object()) throw InvalidSpec("changes", core::short_text(doc), expecting("an object of parameters", doc));
  ParameterChanges changes;
  for (const auto& [k, v] : doc.as_object())
    changes[k] = v.is_null() ? std::nullopt : std::optional<ConfValue>(value_to_conf(k, v));
  return changes;
}

std::string to_json(const ConfigurationResult& r) {
  core::Object changes;
  auto opt = [](const std::optional<ConfValue>& v) { return v ? conf_to_value(*v) : Value(); };
  for (const auto& [k, c] : r.changes) changes.emplace_back(k, core::Array{opt(c.first), opt(c.second)});
  core::Array restart;
  for (const auto& n : r.needs_restart) restart.push_back(n);
  return core::to_json(core::Object{{"changes", changes},
                                    {"reloaded", r.reloaded},
                                    {"needs_restart", restart},
                                    {"pending_restart", r.pending_restart}});
}

std::string to_json(const TopologyResult& r) {
  return core::to_json(core::Object{{"previous_leader", r.previous_leader},
                                    {"new_leader", r.new_leader.empty() ? Value() : Value(r.new_leader)},
                                    {"scheduled", r.scheduled}});
}

namespace {
RoleCredentials role_credentials(Fields& parent, const std::string& role) {
  const Value* v = parent.get(role);
  const std::string where = "credentials." + role;
  if (!v) throw InvalidSpec(where, "", "missing: the credentials of the " + role + " role");
  if (!v->is_object()) throw InvalidSpec(where, "", expecting("an object", *v));  // never shown: it may be a password
  Fields f(*v, where);
  RoleCredentials out{f.str("username").value_or(""), f.str("password").value_or("")};
  if (out.username.empty()) throw InvalidSpec(where + ".username", "", "missing or empty");
  if (out.password.empty()) throw InvalidSpec(where + ".password", "", "missing or empty");
  f.reject_unknown();
  return out;
}

Value role_value(const RoleCredentials& r) { return core::Object{{"username", r.username}, {"password", r.password}}; }
}  // namespace

PatroniCredentials PatroniCredentials::from_json(const std::string& json) {
  Value doc = parse(json, "credentials");
  Fields f(doc, "credentials");
  PatroniCredentials out;
  out.superuser = role_credentials(f, "superuser");
  out.replication = role_credentials(f, "replication");
  out.rewind = role_credentials(f, "rewind");
  f.reject_unknown();
  return out;
}

std::string PatroniCredentials::to_json() const {
  return core::to_json(core::Object{
      {"superuser", role_value(superuser)}, {"replication", role_value(replication)}, {"rewind", role_value(rewind)}});
}

std::string to_json(const ConfParameters& parameters) { return core::to_json(conf_object(parameters)); }

}  // namespace pglift
