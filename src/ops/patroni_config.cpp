// PatroniConfig: a member's Patroni YAML as a typed value without its secrets (see the header), its
// field checks, and load / save / validate on a member.
#include "pglift/patroni_config.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>

#include "core/coro.hpp"
#include "core/fields.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "core/value.hpp"
#include "net/http.hpp"
#include "ops/context_impl.hpp"
#include "ops/lock.hpp"
#include "ops/lookup.hpp"
#include "ops/parameter_check.hpp"
#include "ops/patroni_config.hpp"
#include "patroni/config.hpp"
#include "patroni/member.hpp"
#include "pglift/errors.hpp"
#include "pglift/hba.hpp"
#include "postgres/hba.hpp"
#include "proc/process.hpp"

namespace pglift {

namespace fs = std::filesystem;
using core::Value;

struct PatroniConfig::Impl {
  Value doc = core::Object{};
  /// A moved-from value (impl_ null) reads as an empty document and is one again once changed.
  static const Value& doc_of(const PatroniConfig& c) {
    static const Value empty = core::Object{};
    return c.impl_ ? c.impl_->doc : empty;
  }
  static Value& doc_of(PatroniConfig& c) {
    if (!c.impl_) c.impl_ = std::make_unique<Impl>();
    return c.impl_->doc;
  }
  static PatroniConfig make(Value doc) {
    auto impl = std::make_unique<Impl>();
    impl->doc = std::move(doc);
    return PatroniConfig(std::move(impl));
  }
};

namespace {

// --- the document: secrets ------------------------------------------------------------------------

/// A key holding a secret. Under a "parameters" object (postgresql.parameters, bootstrap.dcs's), keys
/// are PostgreSQL settings (password_encryption), not secrets.
bool secret_key(const std::string& key, bool in_parameters) { return !in_parameters && is_secret_field(key); }

const Value marker{std::string(redacted)};

void redact(Value& v, bool in_parameters = false) {
  if (v.is_object()) {
    for (auto& [k, child] : v.as_object()) {
      if (secret_key(k, in_parameters)) {
        if (!child.is_null()) child = marker;
      } else {
        redact(child, k == "parameters");
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) redact(item, in_parameters);
  }
}

}  // namespace
void ops::redact_patroni_secrets(Value& document) { redact(document); }
namespace {

/// Puts the secrets of `file` (the member's current document) into `ours` where `ours` has the same
/// objects: a redacted or absent secret becomes the file's. Then drops the secrets left redacted (a
/// secret the file does not have: never written as "**********").
void restore_secrets(Value& ours, const Value& file, bool in_parameters = false) {
  if (ours.is_object() && file.is_object()) {
    for (const auto& [k, fv] : file.as_object()) {
      if (secret_key(k, in_parameters)) {
        ours.set(k, fv);
      } else if (Value* mine = const_cast<Value*>(ours.find(k))) {
        restore_secrets(*mine, fv, k == "parameters");
      }
    }
  } else if (ours.is_array() && file.is_array()) {
    auto& a = ours.as_array();
    const auto& b = file.as_array();
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) restore_secrets(a[i], b[i], in_parameters);
  }
}

void drop_redacted(Value& v, bool in_parameters = false) {
  if (v.is_object()) {
    auto& o = v.as_object();
    std::erase_if(o, [&](const auto& kv) { return secret_key(kv.first, in_parameters) && kv.second == marker; });
    for (auto& [k, child] : o) drop_redacted(child, k == "parameters");
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) drop_redacted(item, in_parameters);
  }
}

void collect_secrets(const Value& v, std::vector<std::string>& out, bool in_parameters = false) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) {
      if (secret_key(k, in_parameters)) {
        if (child.is_string() && !child.as_string().empty()) out.push_back(child.as_string());
      } else {
        collect_secrets(child, out, k == "parameters");
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v.as_array()) collect_secrets(item, out, in_parameters);
  }
}

// --- the document: field checks -------------------------------------------------------------------

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

/// The sections whose strings reach other files or argv (pg_hba.conf, postgresql.conf, Patroni's
/// connections): no control character in them (a newline would add a line to pg_hba.conf). Other
/// sections are the site's, kept as they are (the YAML quotes every string: nothing can be injected).
bool managed_section(const std::string& key) {
  for (const char* k : {"scope", "name", "namespace", "restapi", "etcd3", "etcd", "ctl", "bootstrap", "postgresql", "watchdog"})
    if (key == k) return true;
  return false;
}

/// No control character in any key, nor in a string of a managed section; no secret other than
/// redacted, anywhere.
void check_tree(const Value& v, const std::string& path, bool in_parameters = false, bool strings = true) {
  auto child_path = [&](const std::string& k) { return path.empty() ? k : path + "." + k; };
  if (v.is_string()) {
    if (strings && has_control(v.as_string())) throw InvalidSpec(path, v.as_string(), "control characters are not allowed");
  } else if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) {
      const std::string p = child_path(k);
      if (has_control(k)) throw InvalidSpec(p, "", "control characters are not allowed in a key");
      if (secret_key(k, in_parameters)) {
        if (!child.is_null() && child != marker)
          throw InvalidSpec(p, "", "secrets are not changed through the Patroni configuration: leave it out or " +
                                       std::string(redacted) + " to keep the current one");
        continue;
      }
      check_tree(child, p, k == "parameters", strings && (!path.empty() || managed_section(k)));
    }
  } else if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& item : v.as_array()) check_tree(item, path + "[" + std::to_string(i++) + "]", in_parameters, strings);
  }
}

const std::string& string_of(const Value& v, const std::string& field) {
  if (!v.is_string()) throw InvalidSpec(field, core::short_text(v), core::expecting("a string", v));
  return v.as_string();
}

bool host_char(unsigned char c) { return core::is_ascii_alnum(c) || c == '.' || c == '-' || c == '_'; }

/// HOST:PORT, as the library itself reads these addresses (net::Endpoint::parse, IPv6 in brackets); with
/// `listen` (postgresql.listen, PostgreSQL's listen_addresses), the host may be a comma-separated list of
/// names or bare addresses, '*' or empty.
void check_address(const std::string& field, const std::string& a, bool listen = false) {
  const std::string how = listen ? "expecting HOST:PORT (HOST: one or more comma-separated addresses, or *)"
                                 : "expecting HOST:PORT (IPv6 as [::1]:8008)";
  if (!listen) {
    try {
      net::Endpoint::parse(a);
    } catch (const InvalidSpec&) {
      throw InvalidSpec(field, a, how);
    }
    return;
  }
  const auto colon = a.rfind(':');
  if (colon == std::string::npos) throw InvalidSpec(field, a, how);
  const std::string host = a.substr(0, colon), port = a.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoi(port) < 1 ||
      std::stoi(port) > 65535)
    throw InvalidSpec(field, a, how + ": the port is not a number from 1 to 65535");
  auto one_host = [](const std::string& h) {
    if (h == "*" || h.find(':') != std::string::npos)  // listen_addresses takes IPv6 bare
      return h == "*" || std::all_of(h.begin(), h.end(), [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
    return !h.empty() && h.size() <= 253 && std::all_of(h.begin(), h.end(), host_char);
  };
  for (const auto& h : core::split(host, ','))
    if (!one_host(core::trim(h))) throw InvalidSpec(field, a, how);
}

void check_parameter_name(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > 63 ||
      !std::all_of(name.begin(), name.end(), [](unsigned char c) { return core::is_ascii_alnum(c) || c == '_' || c == '.'; }))
    throw InvalidSpec(field, name, "not a valid PostgreSQL parameter name");
  if (name == "listen_addresses" || name == "port")
    throw InvalidSpec(field, name, "Patroni sets it from postgresql.listen: change that instead");
}

void check_parameters_value(const Value& v) {
  if (!v.is_object())
    throw InvalidSpec("postgresql.parameters", core::short_text(v), core::expecting("an object", v));
  for (const auto& [k, value] : v.as_object()) {
    check_parameter_name(k, "postgresql.parameters");
    core::value_to_conf("postgresql.parameters." + k, value);
  }
}

bool looks_like_ip(const std::string& s) {
  return (s.find('.') != std::string::npos || s.find(':') != std::string::npos) &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) || c == '.' || c == ':'; });
}

/// One pg_hba line, as HbaRecord::validate checks records: tokens parsed, then checked.
void check_hba_line(const std::string& field, const std::string& line) {
  auto bad = [&](const std::string& why) { return InvalidSpec(field, line, "not a pg_hba record: " + why); };
  if (line.find_first_of("\"#\\") != std::string::npos) throw bad("quotes, '#' and backslashes are not allowed");
  const auto t = postgres::hba_tokens(line);
  if (t.empty()) throw bad("empty");
  HbaRecord r;
  std::size_t i = 1;
  auto next = [&](const char* what) -> const std::string& {
    if (i >= t.size()) throw bad(std::string("missing ") + what);
    return t[i++];
  };
  auto list = [](const std::string& s) {
    std::vector<std::string> out;
    for (auto& p : core::split(s, ',')) out.push_back(p);
    return out;
  };
  if (t[0] != "local") r.connection = HbaConnection{.type = t[0]};
  r.database = list(next("database"));
  r.user = list(next("user"));
  if (r.connection) {
    r.connection->address = next("address");
    if (r.connection->address->find('/') == std::string::npos && i + 1 < t.size() && looks_like_ip(t[i]))
      r.connection->netmask = t[i++];
  }
  r.method = next("method");
  r.options.assign(t.begin() + static_cast<std::ptrdiff_t>(i), t.end());
  try {
    r.validate();
  } catch (const InvalidSpec& e) {
    throw bad(e.what());
  }
}

void check_pg_hba_value(const Value& v) {
  if (!v.is_array()) throw InvalidSpec("postgresql.pg_hba", core::short_text(v), core::expecting("an array of strings", v));
  std::size_t i = 0;
  for (const auto& item : v.as_array()) {
    const std::string field = "postgresql.pg_hba[" + std::to_string(i++) + "]";
    check_hba_line(field, string_of(item, field));
  }
}

void check_etcd_hosts(const Value& v, const std::string& field) {
  if (v.is_string()) {  // Patroni takes "h1:2379,h2:2379" too
    for (const auto& h : core::split(v.as_string(), ',')) check_address(field, core::trim(h));
    return;
  }
  if (!v.is_array() || v.as_array().empty())
    throw InvalidSpec(field, core::short_text(v), "expecting a non-empty array of HOST:PORT");
  std::size_t i = 0;
  for (const auto& item : v.as_array()) {
    const std::string f = field + "[" + std::to_string(i++) + "]";
    check_address(f, string_of(item, f));
  }
}

void check_watchdog_value(const Value& v) {
  if (!v.is_object()) throw InvalidSpec("watchdog", core::short_text(v), core::expecting("an object", v));
  if (const Value* mode = v.find("mode")) {
    const std::string& m = string_of(*mode, "watchdog.mode");
    if (m != "off" && m != "automatic" && m != "required")
      throw InvalidSpec("watchdog.mode", m, "expecting off, automatic or required");
  }
  if (const Value* device = v.find("device"); device && !device->is_null()) {
    const std::string& d = string_of(*device, "watchdog.device");
    if (d.empty() || d.front() != '/') throw InvalidSpec("watchdog.device", d, "expecting an absolute path");
  }
}

/// Every field the library knows, as its setter checks it.
void check_document(const Value& doc) {
  if (!doc.is_object()) throw InvalidSpec("patroni configuration", core::short_text(doc), core::expecting("an object", doc));
  check_tree(doc, "");
  for (const char* key : {"scope", "name"})
    if (const Value* v = doc.find(key)) string_of(*v, key);
  if (const Value* r = doc.find("restapi")) {
    if (!r->is_object()) throw InvalidSpec("restapi", core::short_text(*r), core::expecting("an object", *r));
    for (const char* key : {"listen", "connect_address"})
      if (const Value* v = r->find(key)) check_address(std::string("restapi.") + key, string_of(*v, std::string("restapi.") + key));
  }
  for (const char* section : {"etcd3", "etcd"}) {
    const Value* e = doc.find(section);
    if (!e) continue;
    if (!e->is_object()) throw InvalidSpec(section, core::short_text(*e), core::expecting("an object", *e));
    if (const Value* h = e->find("hosts")) check_etcd_hosts(*h, std::string(section) + ".hosts");
    if (const Value* p = e->find("protocol")) {
      const std::string& s = string_of(*p, std::string(section) + ".protocol");
      if (s != "http" && s != "https") throw InvalidSpec(std::string(section) + ".protocol", s, "expecting http or https");
    }
  }
  if (const Value* pg = doc.find("postgresql")) {
    if (!pg->is_object()) throw InvalidSpec("postgresql", core::short_text(*pg), core::expecting("an object", *pg));
    if (const Value* v = pg->find("listen")) check_address("postgresql.listen", string_of(*v, "postgresql.listen"), true);
    if (const Value* v = pg->find("connect_address"))
      check_address("postgresql.connect_address", string_of(*v, "postgresql.connect_address"));
    for (const char* key : {"data_dir", "bin_dir"})
      if (const Value* v = pg->find(key)) string_of(*v, std::string("postgresql.") + key);
    if (const Value* v = pg->find("parameters")) check_parameters_value(*v);
    if (const Value* v = pg->find("pg_hba")) check_pg_hba_value(*v);
  }
  if (const Value* b = doc.find("bootstrap"); b && b->find("dcs")) {
    const Value& dcs = *b->find("dcs");
    if (!dcs.is_object()) throw InvalidSpec("bootstrap.dcs", core::short_text(dcs), core::expecting("an object", dcs));
  }
  if (const Value* w = doc.find("watchdog")) check_watchdog_value(*w);
}

// --- reading --------------------------------------------------------------------------------------

const Value* at(const Value& v, std::initializer_list<const char*> path) {
  const Value* cur = &v;
  for (const char* key : path) {
    cur = cur->find(key);
    if (!cur) return nullptr;
  }
  return cur;
}
std::string str_at(const Value& v, std::initializer_list<const char*> path) {
  const Value* cur = at(v, path);
  if (!cur) return {};
  if (cur->is_string()) return cur->as_string();
  if (cur->is_int()) return std::to_string(cur->as_int());
  return {};
}
std::optional<std::string> opt_at(const Value& v, std::initializer_list<const char*> path) {
  const Value* cur = at(v, path);
  if (!cur || !cur->is_string()) return std::nullopt;
  return cur->as_string();
}

Value& section(Value& doc, std::initializer_list<const char*> path) {
  Value* cur = &doc;
  for (const char* key : path) {
    Value* next = const_cast<Value*>(cur->find(key));
    if (!next || !next->is_object()) next = &cur->set(key, core::Object{});
    cur = next;
  }
  return *cur;
}

}  // namespace

// --- the value -------------------------------------------------------------------------------------

PatroniConfig::PatroniConfig() : impl_(std::make_unique<Impl>()) {}
PatroniConfig::PatroniConfig(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PatroniConfig::PatroniConfig(const PatroniConfig& o) : impl_(std::make_unique<Impl>(Impl{Impl::doc_of(o)})) {}
PatroniConfig::PatroniConfig(PatroniConfig&& o) noexcept = default;
PatroniConfig& PatroniConfig::operator=(const PatroniConfig& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(Impl{Impl::doc_of(o)});
  return *this;
}
PatroniConfig& PatroniConfig::operator=(PatroniConfig&& o) noexcept = default;
PatroniConfig::~PatroniConfig() = default;

std::string PatroniConfig::to_yaml() const { return core::to_yaml(Impl::doc_of(*this)); }
std::string PatroniConfig::to_json() const { return core::to_json(Impl::doc_of(*this)); }

PatroniConfig PatroniConfig::from_json(std::string_view json) {
  Value doc = core::parse(std::string(json), "patroni configuration");
  check_document(doc);
  return Impl::make(std::move(doc));
}

std::string PatroniConfig::scope() const { return str_at(Impl::doc_of(*this), {"scope"}); }
std::string PatroniConfig::name() const { return str_at(Impl::doc_of(*this), {"name"}); }

PatroniConfig::RestApi PatroniConfig::restapi() const {
  const Value& d = Impl::doc_of(*this);
  return {str_at(d, {"restapi", "listen"}), str_at(d, {"restapi", "connect_address"}),
          opt_at(d, {"restapi", "authentication", "username"})};
}
void PatroniConfig::set_restapi_listen(const std::string& address) {
  check_tree(Value(address), "restapi.listen");
  check_address("restapi.listen", address);
  section(Impl::doc_of(*this), {"restapi"}).set("listen", address);
}
void PatroniConfig::set_restapi_connect_address(const std::string& address) {
  check_tree(Value(address), "restapi.connect_address");
  check_address("restapi.connect_address", address);
  section(Impl::doc_of(*this), {"restapi"}).set("connect_address", address);
}

PatroniConfig::Etcd PatroniConfig::etcd() const {
  const Value& d = Impl::doc_of(*this);
  const char* s = d.find("etcd3") || !d.find("etcd") ? "etcd3" : "etcd";
  Etcd e;
  if (const Value* h = at(d, {s, "hosts"})) {
    if (h->is_array()) {
      for (const auto& item : h->as_array())
        if (item.is_string()) e.hosts.push_back(item.as_string());
    } else if (h->is_string()) {
      for (auto& part : core::split(h->as_string(), ',')) e.hosts.push_back(core::trim(part));
    }
  }
  e.protocol = str_at(d, {s, "protocol"});
  e.username = opt_at(d, {s, "username"});
  e.cacert = opt_at(d, {s, "cacert"});
  e.cert = opt_at(d, {s, "cert"});
  e.key = opt_at(d, {s, "key"});
  return e;
}
void PatroniConfig::set_etcd_hosts(const std::vector<std::string>& hosts) {
  core::Array a;
  for (const auto& h : hosts) a.emplace_back(h);
  Value v = a;
  check_tree(v, "etcd3.hosts");
  check_etcd_hosts(v, "etcd3.hosts");
  section(Impl::doc_of(*this), {"etcd3"}).set("hosts", std::move(v));
}

PatroniConfig::PostgreSQL PatroniConfig::postgresql() const {
  const Value& d = Impl::doc_of(*this);
  PostgreSQL p{str_at(d, {"postgresql", "listen"}), str_at(d, {"postgresql", "connect_address"}),
               str_at(d, {"postgresql", "data_dir"}), str_at(d, {"postgresql", "bin_dir"}), {}};
  if (const Value* auth = at(d, {"postgresql", "authentication"}); auth && auth->is_object())
    for (const auto& [kind, v] : auth->as_object())
      if (const Value* u = v.find("username"); u && u->is_string()) p.authentication[kind] = u->as_string();
  return p;
}

ConfParameters PatroniConfig::parameters() const { return patroni::parameters_of(Impl::doc_of(*this)); }

void PatroniConfig::set_parameters(const ConfParameters& parameters) {
  Value v = core::conf_object(parameters);
  check_tree(v, "postgresql.parameters", true);
  check_parameters_value(v);
  section(Impl::doc_of(*this), {"postgresql"}).set("parameters", std::move(v));
}

void PatroniConfig::set_parameter(const std::string& name, const std::optional<ConfValue>& value) {
  check_tree(Value(name), "postgresql.parameters");
  check_parameter_name(name, "parameter");
  Value& params = section(Impl::doc_of(*this), {"postgresql", "parameters"});
  auto& o = params.as_object();
  if (!value) {
    std::erase_if(o, [&](const auto& kv) { return kv.first == name; });
    return;
  }
  Value v = core::conf_to_value(*value);
  check_tree(v, "postgresql.parameters." + name, true);
  params.set(name, std::move(v));
}

std::vector<std::string> PatroniConfig::pg_hba() const {
  std::vector<std::string> out;
  if (const Value* hba = at(Impl::doc_of(*this), {"postgresql", "pg_hba"}); hba && hba->is_array())
    for (const auto& item : hba->as_array())
      if (item.is_string()) out.push_back(item.as_string());
  return out;
}
void PatroniConfig::set_pg_hba(const std::vector<std::string>& lines) {
  core::Array a;
  for (const auto& l : lines) a.emplace_back(l);
  Value v = a;
  check_tree(v, "postgresql.pg_hba");
  check_pg_hba_value(v);
  section(Impl::doc_of(*this), {"postgresql"}).set("pg_hba", std::move(v));
}

std::string PatroniConfig::bootstrap_dcs() const {
  const Value* dcs = at(Impl::doc_of(*this), {"bootstrap", "dcs"});
  return dcs ? core::to_json(*dcs) : "{}";
}
void PatroniConfig::set_bootstrap_dcs(std::string_view json) {
  Value v = core::parse(std::string(json), "bootstrap.dcs");
  if (!v.is_object()) throw InvalidSpec("bootstrap.dcs", core::short_text(v), core::expecting("an object", v));
  check_tree(v, "bootstrap.dcs");
  section(Impl::doc_of(*this), {"bootstrap"}).set("dcs", std::move(v));
}

std::string PatroniConfig::ctl() const {
  const Value* ctl = Impl::doc_of(*this).find("ctl");
  return ctl ? core::to_json(*ctl) : "{}";
}

PatroniConfig::Watchdog PatroniConfig::watchdog() const {
  Watchdog w;
  const Value* mode = at(Impl::doc_of(*this), {"watchdog", "mode"});
  if (mode && mode->is_string()) w.mode = mode->as_string();
  else if (mode && mode->is_bool()) w.mode = mode->as_bool() ? "automatic" : "off";  // PyYAML's off
  w.device = opt_at(Impl::doc_of(*this), {"watchdog", "device"});
  return w;
}
void PatroniConfig::set_watchdog(const Watchdog& watchdog) {
  core::Object o{{"mode", watchdog.mode}};
  if (watchdog.device) o.emplace_back("device", *watchdog.device);
  Value v = o;
  check_tree(v, "watchdog");
  check_watchdog_value(v);
  Value& w = section(Impl::doc_of(*this), {"watchdog"});
  w.set("mode", watchdog.mode);
  if (watchdog.device) w.set("device", *watchdog.device);
  else std::erase_if(w.as_object(), [](const auto& kv) { return kv.first == "device"; });
}

std::string to_json(const std::vector<PatroniConfigIssue>& issues) {
  core::Array a;
  for (const auto& i : issues) a.emplace_back(core::Object{{"field", i.field}, {"message", i.message}});
  return core::to_json(core::Object{{"valid", issues.empty()}, {"issues", a}});
}

// --- on a member ------------------------------------------------------------------------------------

namespace ops {
namespace {

using postgres::Layout;

patroni::Files member_files(const Settings& settings, const Layout& l) {
  if (!patroni::is_member(settings, l)) throw StateError("instance " + l.display() + " is not managed by Patroni");
  return patroni::Files::of(*settings.patroni, l);
}

/// The document to write for `config`: checked against the file's (scope, name, directories, role names),
/// with its secrets.
Value document_for(const Value& ours, const Value& file) {
  for (const char* key : {"scope", "name"}) {
    if (!ours.find(key))
      throw InvalidSpec::missing(key, std::string("the Patroni configuration has no '") + key +
                                          "': a whole document is saved (as loaded, then changed)");
    const std::string mine = str_at(ours, {key}), theirs = str_at(file, {key});
    if (mine != theirs)
      throw InvalidSpec(key, mine, "cannot be changed (it identifies the member in the DCS; currently '" + theirs + "')");
  }
  // What the instance is made of: its directories and the roles created in it.
  auto string_at = [](const Value& v, const std::string& dotted) {
    const Value* cur = &v;
    for (const auto& key : core::split(dotted, '.'))
      if (!(cur = cur->find(key))) return std::string();
    return cur->is_string() ? cur->as_string() : std::string();
  };
  for (const char* field : {"postgresql.data_dir", "postgresql.bin_dir", "postgresql.authentication.superuser.username",
                            "postgresql.authentication.replication.username", "postgresql.authentication.rewind.username"}) {
    const std::string mine = string_at(ours, field), theirs = string_at(file, field);
    if (mine != theirs)
      throw InvalidSpec(field, mine, "cannot be changed here (the instance's directories and roles are made so; currently '" +
                                         theirs + "')");
  }
  Value doc = ours;
  restore_secrets(doc, file);
  drop_redacted(doc);
  return doc;
}

ParameterChanges parameter_changes(const ConfParameters& before, const ConfParameters& after) {
  ParameterChanges out;
  for (const auto& [k, v] : after)
    if (auto it = before.find(k); it == before.end() || it->second != v) out[k] = v;
  for (const auto& [k, _] : before)
    if (!after.count(k)) out[k] = std::nullopt;
  return out;
}

auto load_body(InstanceRef ref) {
  return [ref = std::move(ref)](const core::Op& op) -> awaitable<PatroniConfig> {
    Layout l = ops::lookup(op.settings, ref);
    co_return patroni_config_of(patroni::read(member_files(op.settings, l).config));
  };
}

auto save_body(InstanceRef ref, PatroniConfig config) {
  return [ref = std::move(ref), config = std::move(config)](const core::Op& op) -> awaitable<void> {
    check_document(PatroniConfig::Impl::doc_of(config));  // before any lookup
    Layout l = ops::lookup(op.settings, ref);
    const auto files = member_files(op.settings, l);
    ops::InstanceLock lock(op.settings, l.qualname());
    const Value file = patroni::read(files.config);
    Value doc = patroni_document_for(config, file);
    const ParameterChanges changes = parameter_changes(patroni::parameters_of(file), patroni::parameters_of(doc));
    co_await check_parameters(op, l, changes);  // g++ 12: no class-type temporary inside a co_await
    op.info("saving the Patroni configuration of " + l.display(), "pglift.patroni");
    core::write_file_atomic(files.config, core::to_yaml(doc), 0600);
  };
}

/// A 0700 directory of ours, removed with what it holds.
struct PrivateDir {
  fs::path path;
  PrivateDir() {
    std::string tmpl = (fs::temp_directory_path() / "pglift-patroni-validate-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw SystemError("cannot create a private directory in " + fs::temp_directory_path().string());
    path = tmpl;
  }
  ~PrivateDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
};

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + redacted.size()))
      text.replace(pos, s.size(), redacted);
  }
  return redact_secrets(text);
}

bool field_token(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return core::is_ascii_alnum(c) || c == '.' || c == '_' || c == '-' || c == '[' || c == ']';
  });
}

}  // namespace

PatroniConfig patroni_config_of(Value file_document) {
  redact(file_document);
  return PatroniConfig::Impl::make(std::move(file_document));
}

Value patroni_document_for(const PatroniConfig& config, const Value& file_document) {
  const Value& ours = PatroniConfig::Impl::doc_of(config);
  check_document(ours);
  return document_for(ours, file_document);
}

/// Patroni's lines, one issue each: "FIELD VALUE didn't pass validation: 'why'", "FIELD  is not
/// defined." (empty value); a traceback gives its last line.
std::vector<PatroniConfigIssue> parse_validation_output(const std::string& output, int status,
                                                        const std::vector<std::string>& secrets) {
  std::vector<PatroniConfigIssue> issues;
  if (status == 0) return issues;
  std::vector<std::string> lines;
  for (auto& line : core::split(output, '\n'))
    if (!core::trim(line).empty()) lines.push_back(line);
  if (std::any_of(lines.begin(), lines.end(), [](const auto& l) { return l.starts_with("Traceback"); })) {
    issues.push_back({"", scrub(core::trim(lines.back()), secrets)});
    return issues;
  }
  for (const auto& line : lines) {
    if (std::isspace(static_cast<unsigned char>(line.front()))) continue;  // a continuation
    const auto sp = line.find(' ');
    const std::string first = line.substr(0, sp);
    if (sp == std::string::npos || !field_token(first)) {
      issues.push_back({"", scrub(line, secrets)});
      continue;
    }
    std::string rest = line.substr(sp + 1);
    if (is_secret_field(first) && !rest.starts_with(' '))  // a value is quoted: not a secret's
      rest = "its value did not pass Patroni's validation (not shown: a secret)";
    issues.push_back({first, scrub(core::trim(rest), secrets)});
  }
  if (issues.empty()) issues.push_back({"", "patroni --validate-config failed (exit status " + std::to_string(status) + ")"});
  return issues;
}

namespace {

auto validate_body(InstanceRef ref, PatroniConfig config) {
  return [ref = std::move(ref), config = std::move(config)](const core::Op& op) -> awaitable<std::vector<PatroniConfigIssue>> {
    const Value& ours = PatroniConfig::Impl::doc_of(config);
    check_document(ours);
    Layout l = ops::lookup(op.settings, ref);
    const auto files = member_files(op.settings, l);
    const Value file = patroni::read(files.config);
    // First what save would refuse (one issue each: the first fixed field changed, the first parameter
    // value PostgreSQL would refuse), so that a valid document is one save takes.
    std::vector<PatroniConfigIssue> refused;
    try {
      document_for(ours, file);
    } catch (const InvalidSpec& e) {
      refused.push_back({e.field(), e.what()});
    }
    const ParameterChanges changes = parameter_changes(patroni::parameters_of(file), patroni::parameters_of(ours));
    try {
      co_await check_parameters(op, l, changes);
    } catch (const InvalidSpec& e) {
      refused.push_back({e.field() == "parameter" ? "postgresql.parameters" : "postgresql.parameters." + e.field(), e.what()});
    }
    // Secrets: Patroni's validator checks only that they are there and are strings (it connects with
    // none of them), so the copy has each of them, as `redacted`: no secret reaches the copy, Patroni's
    // output or the DEBUG events carrying that output.
    Value doc = ours;
    restore_secrets(doc, file);
    redact(doc);
    std::vector<std::string> secrets;
    collect_secrets(file, secrets);
    PrivateDir dir;
    const fs::path copy = dir.path / "patroni.yaml";
    core::write_file_atomic(copy, core::to_yaml(doc), 0600);
    proc::Command cmd{.argv = {op.settings.patroni->execpath.string(), "--validate-config", copy.string()},
                      .env = {{"PATH", "/usr/bin:/bin"}},
                      .timeout = std::chrono::seconds(60),  // measured: about 0.3 s; the DCS may be slow to answer
                      .log_target = "pglift.patroni",
                      .check = false};
    auto r = co_await proc::run(op, std::move(cmd));
    auto issues = parse_validation_output(r.output, r.status, secrets);
    // A running member holds its own ports: Patroni's "already in use" for them says nothing of the document.
    if (patroni::running(files)) {
      std::erase_if(issues, [&](const PatroniConfigIssue& i) {
        if (i.message.find("is already in use") == std::string::npos) return false;
        if (i.field == "restapi.listen") return str_at(doc, {"restapi", "listen"}) == str_at(file, {"restapi", "listen"});
        if (i.field == "postgresql.listen")
          return str_at(doc, {"postgresql", "listen"}) == str_at(file, {"postgresql", "listen"});
        return false;
      });
    }
    refused.insert(refused.end(), issues.begin(), issues.end());
    co_return refused;
  };
}

}  // namespace
}  // namespace ops

PatroniConfig PatroniConfig::load(Context& ctx, const InstanceRef& ref) {
  return ctx.impl().run<PatroniConfig>(ops::load_body(ref));
}
void PatroniConfig::save(Context& ctx, const InstanceRef& ref) const {
  ctx.impl().run<void>(ops::save_body(ref, *this));
}
std::vector<PatroniConfigIssue> PatroniConfig::validate(Context& ctx, const InstanceRef& ref) const {
  return ctx.impl().run<std::vector<PatroniConfigIssue>>(ops::validate_body(ref, *this));
}

Operation start_load_patroni_config(Context& ctx, InstanceRef ref, Callback<PatroniConfig> done, OpOptions op) {
  return ctx.impl().launch<PatroniConfig>(op, ops::load_body(std::move(ref)), std::move(done));
}
Operation start_save_patroni_config(Context& ctx, InstanceRef ref, PatroniConfig config, Callback<> done, OpOptions op) {
  return ctx.impl().launch<void>(op, ops::save_body(std::move(ref), std::move(config)), std::move(done));
}
Operation start_validate_patroni_config(Context& ctx, InstanceRef ref, PatroniConfig config,
                                        Callback<std::vector<PatroniConfigIssue>> done, OpOptions op) {
  return ctx.impl().launch<std::vector<PatroniConfigIssue>>(op, ops::validate_body(std::move(ref), std::move(config)),
                                                            std::move(done));
}

}  // namespace pglift
