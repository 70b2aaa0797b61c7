// Site settings: layered documents merged recursively, then read strictly into the Settings value.
#include "pglift/settings.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "core/auth_methods.hpp"
#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "core/value.hpp"
#include "pglift/errors.hpp"

extern char** environ;

namespace pglift {
namespace fs = std::filesystem;
using core::Value;

namespace {

/// Reads one object of the settings document, remembering which keys were used so that unknown ones
/// are reported with their full path.
class Section {
 public:
  Section(const Value* v, std::string path) : v_(v), path_(std::move(path)) {
    if (v_ && !v_->is_null() && !v_->is_object())
      throw SettingsError("invalid setting '" + path_ + "': expecting an object, got " + v_->type_name());
  }
  ~Section() noexcept(false) {
    if (std::uncaught_exceptions() || !v_ || !v_->is_object()) return;
    for (const auto& [k, _] : v_->as_object())
      if (!used_.count(k)) throw SettingsError("unknown setting '" + key_path(k) + "'");
  }

  const Value* get(const std::string& key) {
    used_.insert(key);
    return v_ ? v_->find(key) : nullptr;
  }
  Section section(const std::string& key) { return Section(get(key), key_path(key)); }

  void string(const std::string& key, std::string& out) {
    if (auto* v = get(key); v && !v->is_null()) out = as_string(key, *v);
  }
  void optional_string(const std::string& key, std::optional<std::string>& out) {
    if (auto* v = get(key)) out = v->is_null() ? std::nullopt : std::optional(as_string(key, *v));
  }
  void optional_bool(const std::string& key, std::optional<bool>& out) {
    auto* v = get(key);
    if (!v) return;
    if (v->is_null()) out.reset();
    else if (v->is_bool()) out = v->as_bool();
    else throw bad(key, *v, "expecting a boolean");
  }
  void integer(const std::string& key, int& out) {
    auto* v = get(key);
    if (!v || v->is_null()) return;
    if (!v->is_int() || v->as_int() < 0 || v->as_int() > 1000000) throw bad(key, *v, "expecting a positive integer");
    out = static_cast<int>(v->as_int());
  }
  void boolean(const std::string& key, bool& out) {
    auto* v = get(key);
    if (!v || v->is_null()) return;
    if (!v->is_bool()) throw bad(key, *v, "expecting a boolean");
    out = v->as_bool();
  }
  void optional_path(const std::string& key, std::optional<fs::path>& out, bool must_exist = true) {
    std::optional<std::string> text;
    optional_string(key, text);
    if (!text) return;
    std::error_code ec;  // a name too long, a loop of links...: not found either, never a filesystem_error
    if (must_exist && !fs::exists(*text, ec))
      throw SettingsError("invalid setting '" + key_path(key) + "' = " + *text + ": file not found");
    out = fs::path(*text);
  }
  void string_list(const std::string& key, std::vector<std::string>& out) {
    auto* v = get(key);
    if (!v || v->is_null()) return;
    if (v->is_string()) {
      out = {v->as_string()};
      return;
    }
    if (!v->is_array()) throw bad(key, *v, "expecting a list of strings");
    out.clear();
    for (const auto& item : v->as_array()) {
      if (!item.is_string()) throw bad(key, *v, "expecting a list of strings");
      out.push_back(item.as_string());
    }
  }
  void choice(const std::string& key, std::string& out, const std::set<std::string>& allowed) {
    string(key, out);
    if (!allowed.count(out)) throw SettingsError("invalid setting '" + key_path(key) + "': '" + out + "' is not one of " +
                                                 core::join({allowed.begin(), allowed.end()}, ", "));
  }

  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  /// Shows the value as core::short_text does (never a sub-document), and never a password's.
  SettingsError bad(const std::string& key, const Value& v, const std::string& why) const {
    std::string path = key_path(key);
    std::string shown = is_secret_field(path) ? std::string(redacted) : v.is_string() ? v.as_string() : core::short_text(v);
    return SettingsError("invalid setting '" + path + "' = " + shown + ": " + why);
  }

 private:
  std::string as_string(const std::string& key, const Value& v) const {
    if (v.is_string()) return v.as_string();
    if (v.is_int()) return std::to_string(v.as_int());
    throw bad(key, v, "expecting a string");
  }
  const Value* v_;
  std::string path_;
  std::set<std::string> used_;
};

Value load_document(const std::string& text, const std::string& origin) {
  try {
    Value v = (!text.empty() && (text.front() == '{' || text.front() == '[')) ? core::parse_json(text)
                                                                              : core::parse_yaml(text);
    if (v.is_null()) return core::Object{};
    if (!v.is_object()) throw SettingsError("failed to load site settings from " + origin + ", expecting an object");
    return v;
  } catch (const core::ParseError& e) {
    throw SettingsError("failed to load site settings from " + origin + ": " + e.what());
  }
}

/// PGLIFT_POSTGRESQL__AUTH__LOCAL=md5 -> {"postgresql": {"auth": {"local": "md5"}}}. Values are JSON
/// when they parse as JSON, else strings.
Value environment_layer() {
  Value out = core::Object{};
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("PGLIFT_")) continue;
    auto eq = entry.find('=');
    std::string key(entry.substr(7, eq - 7));
    if (key == "CONFIG_DIR") continue;  // selects the configuration directory; not a setting
    std::string text(entry.substr(eq + 1));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    Value value;
    try {
      value = core::parse_json(text);
    } catch (const core::ParseError&) {
      value = text;
    }
    Value* node = &out;
    auto parts = core::split(key, '_');
    // "__" separates levels; a single "_" belongs to the key (run_prefix).
    std::vector<std::string> path;
    std::string current;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].empty() && i + 1 < parts.size()) {
        path.push_back(current);
        current.clear();
        continue;
      }
      if (!current.empty()) current += '_';
      current += parts[i];
    }
    path.push_back(current);
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      const Value* existing = node->find(path[i]);
      node = existing && existing->is_object() ? const_cast<Value*>(existing) : &node->set(path[i], core::Object{});
    }
    node->set(path.back(), std::move(value));
  }
  return out;
}

fs::path resolve_under(const std::string& value, const fs::path& base) {
  fs::path p = value;
  if (value.starts_with("~/")) return core::home_directory() / value.substr(2);
  return p.is_absolute() ? p : base / p;
}

/// resolve_under for a template: the braces of what comes from the base (or the home directory) are
/// doubled, so that a prefix such as /srv/{x} stays text and only the template's own variables remain.
std::string resolve_template_under(const std::string& value, const fs::path& base) {
  auto escaped = [](const fs::path& p) {
    std::string out;
    for (char c : p.string()) {
      if (c == '{' || c == '}') out += c;
      out += c;
    }
    return fs::path(out);
  };
  if (value.starts_with("~/")) return (escaped(core::home_directory()) / value.substr(2)).string();
  return fs::path(value).is_absolute() ? value : (escaped(base) / value).string();
}

void check_template(const std::string& key, const std::string& value, const std::set<std::string>& expected) {
  std::set<std::string> used;
  try {
    used = core::template_variables(value);
  } catch (const std::exception& e) {
    throw SettingsError("invalid setting '" + key + "' = " + value + ": " + e.what());
  }
  if (used != expected)
    throw SettingsError("invalid setting '" + key + "' = " + value +
                        ": value contains unknown or missing template variable(s); expecting: " +
                        core::join({expected.begin(), expected.end()}, ", "));
}

/// Role names go into SQL (quoted), conninfo strings, pgpass lines (where ':' and '\\' are special),
/// Patroni's YAML and initdb's command line: letters, digits, '_', '.', '-' and '@', starting with a letter,
/// a digit or '_'; at most 63 bytes, PostgreSQL's limit (NAMEDATALEN - 1).
void check_role_name(const std::string& key, const std::string& name) {
  auto allowed = [](unsigned char c) { return core::is_ascii_alnum(c) || c == '_' || c == '.' || c == '-' || c == '@'; };
  bool ok = !name.empty() && name.size() <= 63 && std::all_of(name.begin(), name.end(), allowed) &&
            name.front() != '.' && name.front() != '-' && name.front() != '@';
  if (!ok)
    throw SettingsError("invalid setting '" + key + "' = '" + name +
                        "': a role name must contain only letters, digits, '_', '.', '-' and '@', start with a letter, "
                        "a digit or '_', and be at most 63 characters long");
}

int version_number(const std::string& v) { return std::atoi(v.c_str()); }

std::vector<PostgreSQLVersion> detect_versions(const std::string& bindir_template) {
  std::vector<PostgreSQLVersion> found;
  auto pos = bindir_template.find("{version}");
  fs::path parent = fs::path(bindir_template.substr(0, pos)).parent_path();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    fs::path bindir = core::render(bindir_template, {{"version", name}});
    if (::access((bindir / "pg_ctl").c_str(), X_OK) == 0) found.push_back({name, bindir});
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return version_number(a.version) < version_number(b.version); });
  return found;
}

PatroniSettings read_patroni(Section&& ps, const Settings& s) {
  PatroniSettings p;
  std::string execpath = p.execpath, ctlpath = p.ctlpath;
  ps.string("execpath", execpath);
  ps.string("ctlpath", ctlpath);
  p.execpath = execpath;
  p.ctlpath = ctlpath;
  if (::access(p.execpath.c_str(), X_OK) != 0)
    throw SettingsError("invalid setting 'patroni.execpath' = " + execpath + ": not an executable file");
  std::string configpath = "patroni/{name}.yaml", logpath = "patroni", pid_file = "patroni/{name}.pid",
              passfile = "patroni/{name}.pgpass";
  ps.string("configpath", configpath);
  ps.string("logpath", logpath);
  ps.string("pid_file", pid_file);
  ps.string("passfile", passfile);
  check_template("patroni.configpath", configpath, {"name"});
  check_template("patroni.pid_file", pid_file, {"name"});
  check_template("patroni.passfile", passfile, {"name"});
  p.configpath = resolve_template_under(configpath, s.prefix / "etc");
  p.logpath = resolve_under(logpath, s.prefix / "log");
  p.pid_file = resolve_template_under(pid_file, s.run_prefix);
  p.passfile = resolve_template_under(passfile, s.prefix / "etc");
  {
    Section etcd = ps.section("etcd");
    etcd.string_list("hosts", p.etcd.hosts);
    if (p.etcd.hosts.empty()) throw SettingsError("invalid setting 'patroni.etcd.hosts': at least one HOST:PORT is required");
    etcd.choice("protocol", p.etcd.protocol, {"http", "https"});
    etcd.optional_path("cacert", p.etcd.cacert);
    etcd.optional_path("cert", p.etcd.cert);
    etcd.optional_path("key", p.etcd.key);
    etcd.optional_string("username", p.etcd.username);
    etcd.optional_string("password", p.etcd.password);
    if ((p.etcd.cacert || p.etcd.cert) && p.etcd.protocol != "https")
      throw SettingsError("invalid setting 'patroni.etcd.protocol' = " + p.etcd.protocol +
                          ": 'https' protocol is required with cacert or cert");
    if (p.etcd.username.has_value() != p.etcd.password.has_value())
      throw SettingsError("invalid setting 'patroni.etcd': username and password go together");
  }
  {
    Section api = ps.section("restapi");
    api.optional_path("cafile", p.restapi.cafile);
    api.optional_path("certfile", p.restapi.certfile);
    api.optional_path("keyfile", p.restapi.keyfile);
    api.optional_string("verify_client", p.restapi.verify_client);
    if (p.restapi.verify_client && *p.restapi.verify_client != "optional" && *p.restapi.verify_client != "required")
      throw SettingsError("invalid setting 'patroni.restapi.verify_client' = " + *p.restapi.verify_client +
                          ": expecting 'optional' or 'required'");
    if (p.restapi.verify_client && !p.restapi.certfile)
      throw SettingsError("invalid setting 'patroni.restapi.verify_client': requires 'certfile' to enable TLS");
    Section auth = api.section("authentication");
    auth.optional_string("username", p.restapi.username);
    auth.optional_string("password", p.restapi.password);
    if (p.restapi.username.has_value() != p.restapi.password.has_value())
      throw SettingsError("invalid setting 'patroni.restapi.authentication': username and password go together");
    // Basic authentication sends "username:password": a colon in the name would cut it elsewhere.
    if (p.restapi.username && (p.restapi.username->empty() || p.restapi.username->find(':') != std::string::npos))
      throw SettingsError("invalid setting 'patroni.restapi.authentication.username' = " + *p.restapi.username +
                          ": expecting a non-empty name without ':'");
    if (p.restapi.password && p.restapi.password->empty())
      throw SettingsError("invalid setting 'patroni.restapi.authentication.password': must not be empty");
  }
  {
    Section wd = ps.section("watchdog");
    wd.choice("mode", p.watchdog_mode, {"off", "automatic", "required"});
    wd.optional_path("device", p.watchdog_device);
  }
  ps.boolean("use_pg_rewind", p.use_pg_rewind);
  ps.boolean("synchronous_mode", p.synchronous_mode);
  ps.boolean("synchronous_mode_strict", p.synchronous_mode_strict);
  if (p.synchronous_mode_strict && !p.synchronous_mode)
    throw SettingsError("invalid setting 'patroni.synchronous_mode_strict': requires 'patroni.synchronous_mode'");
  ps.integer("loop_wait", p.loop_wait);
  ps.integer("ttl", p.ttl);
  ps.integer("retry_timeout", p.retry_timeout);
  ps.integer("create_timeout", p.create_timeout);
  ps.choice("rejoin_discarding_commits", p.rejoin_discarding_commits, {"refuse", "rejoin"});
  ps.choice("automatic_rejoin_discarding_commits", p.automatic_rejoin_discarding_commits, {"rejoin", "refuse"});
  if (p.loop_wait < 1 || p.retry_timeout < 1) throw SettingsError("invalid setting 'patroni': loop_wait and retry_timeout must be >= 1");
  if (p.loop_wait + 2 * p.retry_timeout > p.ttl)
    throw SettingsError("invalid setting 'patroni.ttl' = " + std::to_string(p.ttl) +
                        ": loop_wait + 2*retry_timeout must not exceed ttl (" + std::to_string(p.loop_wait) + " + 2*" +
                        std::to_string(p.retry_timeout) + ")");
  if (!s.postgresql.replrole) throw SettingsError("'postgresql.replrole' must be provided to use 'patroni'");
  return p;
}

Settings build(const Value& doc, std::vector<fs::path> config_dirs) {
  const uid_t uid = ::geteuid();
  Settings s;
  s.config_dirs = std::move(config_dirs);
  Section root(&doc, "");

  std::optional<std::string> prefix, run_prefix;
  root.optional_string("prefix", prefix);
  root.optional_string("run_prefix", run_prefix);
  if (prefix) s.prefix = *prefix;
  else if (uid == 0) s.prefix = "/";
  else if (auto xdg = core::env("XDG_DATA_HOME")) s.prefix = fs::path(*xdg) / "pglift";
  else s.prefix = core::home_directory() / ".local/share/pglift";
  if (run_prefix) s.run_prefix = *run_prefix;
  else if (uid == 0) s.run_prefix = "/run/pglift";
  else if (auto xdg = core::env("XDG_RUNTIME_DIR"); xdg && fs::is_directory(*xdg)) s.run_prefix = fs::path(*xdg) / "pglift";
  else if (fs::path run = "/run/user/" + std::to_string(uid); fs::is_directory(run)) s.run_prefix = run / "pglift";
  else s.run_prefix = fs::temp_directory_path() / ("pglift-" + std::to_string(uid));
  if (!s.prefix.is_absolute()) throw SettingsError("invalid setting 'prefix' = " + s.prefix.string() + ": must be an absolute path");
  if (!s.run_prefix.is_absolute())
    throw SettingsError("invalid setting 'run_prefix' = " + s.run_prefix.string() + ": must be an absolute path");

  auto& pg = s.postgresql;
  Section pgs = root.section("postgresql");
  pgs.string("bindir", pg.bindir);
  check_template("postgresql.bindir", pg.bindir, {"version"});
  if (const Value* versions = pgs.get("versions"); versions && !versions->is_null()) {
    if (!versions->is_array()) throw pgs.bad("versions", *versions, "expecting a list of {version, bindir}");
    for (std::size_t i = 0; i < versions->as_array().size(); ++i) {
      Section item(&versions->as_array()[i], "postgresql.versions[" + std::to_string(i) + "]");
      PostgreSQLVersion v;
      std::string bindir;
      item.string("version", v.version);
      item.string("bindir", bindir);
      if (v.version.empty()) throw SettingsError("setting 'postgresql.versions[" + std::to_string(i) + "].version' is required");
      v.bindir = bindir.empty() ? fs::path(core::render(pg.bindir, {{"version", v.version}})) : fs::path(bindir);
      pg.versions.push_back(v);
    }
  } else {
    pg.versions = detect_versions(pg.bindir);
  }
  if (pg.versions.empty())
    throw SettingsError("no PostgreSQL installation found (postgresql.bindir = " + pg.bindir + ")");
  pgs.optional_string("default_version", pg.default_version);
  if (pg.default_version &&
      std::none_of(pg.versions.begin(), pg.versions.end(), [&](const auto& v) { return v.version == *pg.default_version; }))
    throw SettingsError("invalid setting 'postgresql.default_version' = " + *pg.default_version +
                        ": not an installed version");

  {
    Section initdb = pgs.section("initdb");
    initdb.string("locale", pg.initdb.locale);
    initdb.string("encoding", pg.initdb.encoding);
    initdb.optional_bool("data_checksums", pg.initdb.data_checksums);
  }
  {
    Section auth = pgs.section("auth");
    auth.choice("local", pg.auth.local, core::local_auth_methods);
    auth.choice("host", pg.auth.host, core::host_auth_methods);
    auto hostssl = core::host_auth_methods;
    hostssl.insert("cert");
    auth.choice("hostssl", pg.auth.hostssl, hostssl);
    std::optional<std::string> passfile;
    auth.optional_string("passfile", passfile);
    if (passfile) pg.auth.passfile = resolve_under(*passfile, core::home_directory());
  }
  {
    Section surole = pgs.section("surole");
    surole.string("name", pg.surole.name);
    check_role_name("postgresql.surole.name", pg.surole.name);
  }
  pgs.optional_string("replrole", pg.replrole);
  if (pg.replrole) check_role_name("postgresql.replrole", *pg.replrole);

  std::string datadir = "pgsql/{version}/{name}/data", waldir = "pgsql/{version}/{name}/wal";
  std::string logpath = "postgresql", socket_directory = "postgresql";
  pgs.string("datadir", datadir);
  pgs.string("waldir", waldir);
  pgs.string("logpath", logpath);
  pgs.string("socket_directory", socket_directory);
  check_template("postgresql.datadir", datadir, {"name", "version"});
  check_template("postgresql.waldir", waldir, {"name", "version"});
  pg.datadir = resolve_template_under(datadir, s.prefix / "srv");
  pg.waldir = resolve_template_under(waldir, s.prefix / "srv");
  pg.logpath = resolve_under(logpath, s.prefix / "log");
  pg.socket_directory = resolve_under(socket_directory, s.run_prefix);

  if (const Value* p = root.get("patroni"); p && !p->is_null()) s.patroni = read_patroni(Section(p, "patroni"), s);
  return s;
}

}  // namespace

Settings Settings::from_documents(const std::vector<std::string>& documents) {
  Value doc = core::Object{};
  for (std::size_t i = 0; i < documents.size(); ++i) core::merge(doc, load_document(documents[i], "document " + std::to_string(i)));
  return build(doc, {});
}

Settings Settings::load() {
  Value doc = core::Object{};
  std::vector<fs::path> config_dirs;
  if (auto dir = core::env("PGLIFT_CONFIG_DIR")) {
    config_dirs = {*dir};  // exclusive
  } else {
    auto xdg = core::env("XDG_CONFIG_HOME");
    config_dirs = {(xdg ? fs::path(*xdg) : core::home_directory() / ".config") / "pglift", "/etc/pglift"};
  }
  // Lowest precedence first: /etc, then the user's directory.
  for (auto it = config_dirs.rbegin(); it != config_dirs.rend(); ++it) {
    fs::path file = *it / "settings.yaml";
    if (auto text = core::read_file_if_exists(file)) core::merge(doc, load_document(*text, file.string()));
  }
  if (auto text = core::env("SETTINGS")) {
    if (text->starts_with("@")) {
      fs::path file = text->substr(1);
      auto content = core::read_file_if_exists(file);
      if (!content) throw SettingsError("failed to load site settings from " + file.string() + ": file not found");
      core::merge(doc, load_document(*content, file.string()));
    } else {
      core::merge(doc, load_document(*text, "SETTINGS environment variable"));
    }
  }
  core::merge(doc, environment_layer());
  return build(doc, std::move(config_dirs));
}

const PostgreSQLVersion& Settings::version(const std::string& major) const {
  for (const auto& v : postgresql.versions)
    if (v.version == major) return v;
  std::vector<std::string> known;
  for (const auto& v : postgresql.versions) known.push_back(v.version);
  throw InvalidSpec("version", major, "PostgreSQL " + major + " is not installed (installed: " + core::join(known, ", ") + ")");
}

const std::string& Settings::default_version() const {
  return postgresql.default_version ? *postgresql.default_version : postgresql.versions.back().version;
}

std::string Settings::to_json() const {
  const auto& pg = postgresql;
  core::Array versions;
  for (const auto& v : pg.versions) versions.push_back(core::Object{{"version", v.version}, {"bindir", v.bindir.string()}});
  auto opt = [](const auto& o) -> Value { return o ? Value(*o) : Value(); };
  Value doc = core::Object{
      {"prefix", prefix.string()},
      {"run_prefix", run_prefix.string()},
      {"postgresql",
       core::Object{
           {"bindir", pg.bindir},
           {"versions", versions},
           {"default_version", opt(pg.default_version)},
           {"initdb", core::Object{{"locale", pg.initdb.locale},
                                   {"encoding", pg.initdb.encoding},
                                   {"data_checksums", opt(pg.initdb.data_checksums)}}},
           {"auth", core::Object{{"local", pg.auth.local},
                                 {"host", pg.auth.host},
                                 {"hostssl", pg.auth.hostssl},
                                 {"passfile", pg.auth.passfile ? Value(pg.auth.passfile->string()) : Value()}}},
           {"surole", core::Object{{"name", pg.surole.name}}},
           {"replrole", opt(pg.replrole)},
           {"datadir", pg.datadir},
           {"waldir", pg.waldir},
           {"logpath", pg.logpath.string()},
           {"socket_directory", pg.socket_directory.string()},
       }},
  };
  if (patroni) {
    const auto& p = *patroni;
    core::Array hosts;
    for (const auto& h : p.etcd.hosts) hosts.push_back(h);
    auto path = [](const std::optional<fs::path>& o) -> Value { return o ? Value(o->string()) : Value(); };
    doc.set("patroni", core::Object{
                           {"execpath", p.execpath.string()},
                           {"ctlpath", p.ctlpath.string()},
                           {"configpath", p.configpath},
                           {"logpath", p.logpath.string()},
                           {"pid_file", p.pid_file},
                           {"passfile", p.passfile},
                           {"etcd", core::Object{{"hosts", hosts},
                                                 {"protocol", p.etcd.protocol},
                                                 {"cacert", path(p.etcd.cacert)},
                                                 {"cert", path(p.etcd.cert)},
                                                 {"key", path(p.etcd.key)},
                                                 {"username", opt(p.etcd.username)}}},
                           {"restapi", core::Object{{"cafile", path(p.restapi.cafile)},
                                                    {"certfile", path(p.restapi.certfile)},
                                                    {"keyfile", path(p.restapi.keyfile)},
                                                    {"verify_client", opt(p.restapi.verify_client)}}},
                           {"watchdog", core::Object{{"mode", p.watchdog_mode}, {"device", path(p.watchdog_device)}}},
                           {"use_pg_rewind", p.use_pg_rewind},
                           {"synchronous_mode", p.synchronous_mode},
                           {"synchronous_mode_strict", p.synchronous_mode_strict},
                           {"loop_wait", p.loop_wait},
                           {"ttl", p.ttl},
                           {"retry_timeout", p.retry_timeout},
                           {"create_timeout", p.create_timeout},
                           {"rejoin_discarding_commits", p.rejoin_discarding_commits},
                           {"automatic_rejoin_discarding_commits", p.automatic_rejoin_discarding_commits},
                       });
  }
  return core::to_json(doc, true);
}

}  // namespace pglift
